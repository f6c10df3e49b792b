/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Base64 without tables in RAM beyond the 64-byte alphabet: decoding maps characters by
 * range so the module stays a few hundred bytes on a Cortex-M.
 */
#include <stdbool.h>
#include <string.h>

#include "eas/eas_base64.h"
#include "eas/eas_err.h"

static const char k_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* -1: not in the alphabet, -2: padding, -3: whitespace to skip. */
static int b64_value(char c)
{
    int v = -1;

    if ((c >= 'A') && (c <= 'Z')) {
        v = c - 'A';
    } else if ((c >= 'a') && (c <= 'z')) {
        v = c - 'a' + 26;
    } else if ((c >= '0') && (c <= '9')) {
        v = c - '0' + 52;
    } else if (c == '+') {
        v = 62;
    } else if (c == '/') {
        v = 63;
    } else if (c == '=') {
        v = -2;
    } else if ((c == ' ') || (c == '\t') || (c == '\r') || (c == '\n')) {
        v = -3;
    } else {
        v = -1;
    }
    return v;
}

int eas_base64_encode(const uint8_t *in, size_t len, char *out, size_t cap, size_t *out_len)
{
    int err = EAS_ERR_PARAM;
    size_t need;
    size_t i;
    size_t o = 0u;

    if (out_len != NULL) {
        *out_len = 0u;
    }
    if ((out == NULL) || ((in == NULL) && (len > 0u))) {
        goto out;
    }
    /* Guard the length arithmetic against wrap-around for absurd sizes. */
    if (len > ((SIZE_MAX / 4u) * 3u) - 3u) {
        err = EAS_ERR_NOMEM;
        goto out;
    }
    need = EAS_BASE64_ENCODED_LEN(len) + 1u;
    if (cap < need) {
        err = EAS_ERR_NOMEM;
        if (cap > 0u) {
            out[0] = '\0';
        }
        goto out;
    }
    for (i = 0u; i + 2u < len; i += 3u) {
        uint32_t v = ((uint32_t)in[i] << 16) | ((uint32_t)in[i + 1u] << 8) | in[i + 2u];
        out[o++] = k_alphabet[(v >> 18) & 0x3Fu];
        out[o++] = k_alphabet[(v >> 12) & 0x3Fu];
        out[o++] = k_alphabet[(v >> 6) & 0x3Fu];
        out[o++] = k_alphabet[v & 0x3Fu];
    }
    if (i < len) {
        uint32_t v = (uint32_t)in[i] << 16;
        bool two = (i + 1u < len);
        if (two) {
            v |= (uint32_t)in[i + 1u] << 8;
        }
        out[o++] = k_alphabet[(v >> 18) & 0x3Fu];
        out[o++] = k_alphabet[(v >> 12) & 0x3Fu];
        out[o++] = two ? k_alphabet[(v >> 6) & 0x3Fu] : '=';
        out[o++] = '=';
    }
    out[o] = '\0';
    if (out_len != NULL) {
        *out_len = o;
    }
    err = EAS_OK;
out:
    return err;
}

void eas_base64_dec_init(eas_base64_dec_t *dec)
{
    if (dec != NULL) {
        memset(dec, 0, sizeof(*dec));
    }
}

static int put_byte(uint8_t b, uint8_t *out, size_t cap, size_t *out_len)
{
    int err = EAS_ERR_NOMEM;

    if (*out_len < cap) {
        out[*out_len] = b;
        (*out_len)++;
        err = EAS_OK;
    }
    return err;
}

/* Emits the bytes of a quantum holding @p nchars characters (2..4). */
static int flush_quantum(uint32_t acc, unsigned nchars, uint8_t *out, size_t cap,
                         size_t *out_len)
{
    int err = EAS_OK;
    unsigned shift = 6u * (4u - nchars);
    uint32_t v = acc << shift;
    unsigned nbytes = nchars - 1u;
    unsigned k;

    for (k = 0u; (k < nbytes) && (err == EAS_OK); k++) {
        err = put_byte((uint8_t)(v >> (16u - 8u * k)), out, cap, out_len);
    }
    return err;
}

int eas_base64_dec_feed(eas_base64_dec_t *dec, const char *in, size_t len, uint8_t *out,
                        size_t cap, size_t *out_len)
{
    int err = EAS_ERR_PARAM;
    size_t i;

    if ((dec == NULL) || (out_len == NULL) || ((in == NULL) && (len > 0u)) ||
        ((out == NULL) && (cap > 0u))) {
        goto out;
    }
    err = dec->err;
    for (i = 0u; (i < len) && (err == EAS_OK); i++) {
        int v = b64_value(in[i]);
        if (v == -3) {
            continue;
        }
        if (v == -1) {
            err = EAS_ERR_FORMAT;
        } else if (v == -2) {
            /* '=' may only complete a quantum that has at least two characters. */
            if (dec->done || ((dec->nchars + dec->npad) < 2u)) {
                err = EAS_ERR_FORMAT;
            } else {
                dec->npad++;
                if ((dec->nchars + dec->npad) == 4u) {
                    err = flush_quantum(dec->acc, dec->nchars, out, cap, out_len);
                    dec->done = 1u;
                }
            }
        } else if ((dec->npad > 0u) || dec->done) {
            err = EAS_ERR_FORMAT; /* data after padding */
        } else {
            dec->acc = (dec->acc << 6) | (uint32_t)v;
            dec->nchars++;
            if (dec->nchars == 4u) {
                err = flush_quantum(dec->acc, 4u, out, cap, out_len);
                dec->acc = 0u;
                dec->nchars = 0u;
            }
        }
    }
    dec->err = err;
out:
    return err;
}

int eas_base64_dec_finish(eas_base64_dec_t *dec, uint8_t *out, size_t cap, size_t *out_len)
{
    int err = EAS_ERR_PARAM;

    if ((dec == NULL) || (out_len == NULL)) {
        goto out;
    }
    err = dec->err;
    if (err != EAS_OK) {
        goto out;
    }
    if (dec->done) {
        err = EAS_OK;
    } else if (dec->npad > 0u) {
        err = EAS_ERR_FORMAT; /* "xy=" without the final '=' */
    } else if (dec->nchars == 1u) {
        err = EAS_ERR_FORMAT; /* six bits cannot make a byte */
    } else if (dec->nchars > 1u) {
        err = flush_quantum(dec->acc, dec->nchars, out, cap, out_len);
    } else {
        err = EAS_OK;
    }
    dec->nchars = 0u;
    dec->err = err;
out:
    return err;
}

int eas_base64_decode(const char *in, size_t len, uint8_t *out, size_t cap, size_t *out_len)
{
    eas_base64_dec_t dec;
    size_t n = 0u;
    int err;

    eas_base64_dec_init(&dec);
    err = eas_base64_dec_feed(&dec, in, len, out, cap, &n);
    if (err == EAS_OK) {
        err = eas_base64_dec_finish(&dec, out, cap, &n);
    }
    if (out_len != NULL) {
        *out_len = (err == EAS_OK) ? n : 0u;
    }
    return err;
}
