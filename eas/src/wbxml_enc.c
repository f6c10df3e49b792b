/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Streaming WBXML encoder. A start tag is held back until the next call shows whether the
 * element has content, because WBXML puts the content flag in the tag byte itself; that is
 * the only state besides the output buffer. Errors are sticky so that request builders can
 * chain calls and check once.
 */
#include <string.h>

#include "eas/eas_config_defaults.h"
#include "eas/eas_err.h"
#include "eas/eas_wbxml.h"

#define TOK_SWITCH_PAGE 0x00u
#define TOK_END         0x01u
#define TOK_STR_I       0x03u
#define TOK_OPAQUE      0xC3u
#define TAG_CONTENT     0x40u
#define ENC_MIN_BUF     16u
#define HEADER_LEN      4u

static void put(eas_wbxml_enc_t *enc, const uint8_t *p, size_t n)
{
    while (enc->err == EAS_OK && n > 0u) {
        if (enc->len == enc->cap) {
            if (enc->flush == NULL) {
                enc->err = EAS_ERR_NOMEM;
            } else {
                int rc = enc->flush(enc->user, enc->buf, enc->len);
                enc->err = (rc < 0) ? rc : EAS_OK;
                enc->len = 0;
            }
        } else if (enc->len == 0u && n >= enc->cap && enc->flush != NULL) {
            /* Large payloads (MIME bodies) go straight to the sink instead of being copied
             * through the buffer piece by piece. */
            int rc = enc->flush(enc->user, p, n);
            enc->err = (rc < 0) ? rc : EAS_OK;
            enc->total += n;
            n = 0;
        } else {
            size_t k = enc->cap - enc->len;
            if (k > n) {
                k = n;
            }
            memcpy(enc->buf + enc->len, p, k);
            enc->len += k;
            enc->total += k;
            p += k;
            n -= k;
        }
    }
}

static void put_byte(eas_wbxml_enc_t *enc, uint8_t b)
{
    put(enc, &b, 1u);
}

static void put_mb(eas_wbxml_enc_t *enc, uint32_t v)
{
    uint8_t tmp[5];
    size_t n = sizeof(tmp);

    tmp[--n] = (uint8_t)(v & 0x7Fu);
    v >>= 7;
    while (v != 0u) {
        tmp[--n] = (uint8_t)(0x80u | (v & 0x7Fu));
        v >>= 7;
    }
    put(enc, &tmp[n], sizeof(tmp) - n);
}

/* Writes the held-back start tag, now that we know whether it has content. */
static void write_pending(eas_wbxml_enc_t *enc, bool content)
{
    if (enc->pending_start != 0u) {
        uint8_t page = EAS_TAG_PAGE(enc->pending_tag);
        if (page != enc->page) {
            put_byte(enc, TOK_SWITCH_PAGE);
            put_byte(enc, page);
            enc->page = page;
        }
        put_byte(enc, (uint8_t)(EAS_TAG_TOKEN(enc->pending_tag) | (content ? TAG_CONTENT : 0u)));
        enc->pending_start = 0;
    }
}

static void set_err(eas_wbxml_enc_t *enc, int err)
{
    if (enc->err == EAS_OK) {
        enc->err = err;
    }
}

void eas_wbxml_enc_init(eas_wbxml_enc_t *enc, uint8_t *buf, size_t cap, eas_wbxml_flush_t flush,
                        void *user)
{
    static const uint8_t header[HEADER_LEN] = {0x03, 0x01, 0x6A, 0x00};

    if (enc != NULL) {
        memset(enc, 0, sizeof(*enc));
        enc->buf = buf;
        enc->cap = cap;
        enc->flush = flush;
        enc->user = user;
        if (buf == NULL || cap < ENC_MIN_BUF) {
            enc->err = EAS_ERR_PARAM;
        } else {
            put(enc, header, sizeof(header));
        }
    }
}

int eas_wbxml_enc_start(eas_wbxml_enc_t *enc, uint16_t tag)
{
    if (enc == NULL) {
        return EAS_ERR_PARAM;
    }
    if (!eas_wbxml_tag_known(tag)) {
        set_err(enc, EAS_ERR_PARAM);
    } else if (enc->opaque_left != 0u || (enc->depth == 0u && enc->total > HEADER_LEN) ||
               enc->depth == UINT16_MAX) {
        /* Inside an unfinished OPAQUE item, or a second root element. */
        set_err(enc, (enc->depth == UINT16_MAX) ? EAS_ERR_LIMIT : EAS_ERR_STATE);
    } else {
        write_pending(enc, true);
        enc->pending_start = 1;
        enc->pending_tag = tag;
        enc->depth++;
    }
    return enc->err;
}

int eas_wbxml_enc_end(eas_wbxml_enc_t *enc)
{
    if (enc == NULL) {
        return EAS_ERR_PARAM;
    }
    if (enc->depth == 0u || enc->opaque_left != 0u) {
        set_err(enc, EAS_ERR_STATE);
    } else {
        if (enc->pending_start != 0u) {
            write_pending(enc, false);
        } else {
            put_byte(enc, TOK_END);
        }
        enc->depth--;
    }
    return enc->err;
}

int eas_wbxml_enc_text(eas_wbxml_enc_t *enc, const char *text, size_t len)
{
    if (enc == NULL) {
        return EAS_ERR_PARAM;
    }
    if (text == NULL && len > 0u) {
        set_err(enc, EAS_ERR_PARAM);
    } else if (enc->depth == 0u || enc->opaque_left != 0u) {
        set_err(enc, EAS_ERR_STATE);
    } else if (len > 0u && memchr(text, 0, len) != NULL) {
        set_err(enc, EAS_ERR_PARAM); /* STR_I cannot carry NUL */
    } else if (len > 0u) {
        /* Empty text writes nothing: <a></a> and <a/> mean the same in EAS. */
        write_pending(enc, true);
        put_byte(enc, TOK_STR_I);
        put(enc, (const uint8_t *)text, len);
        put_byte(enc, 0x00u);
    }
    return enc->err;
}

int eas_wbxml_enc_opaque_begin(eas_wbxml_enc_t *enc, uint32_t total_len)
{
    if (enc == NULL) {
        return EAS_ERR_PARAM;
    }
    if (enc->depth == 0u || enc->opaque_left != 0u) {
        set_err(enc, EAS_ERR_STATE);
    } else {
        write_pending(enc, true);
        put_byte(enc, TOK_OPAQUE);
        put_mb(enc, total_len);
        enc->opaque_left = total_len;
    }
    return enc->err;
}

int eas_wbxml_enc_opaque_piece(eas_wbxml_enc_t *enc, const uint8_t *data, size_t len)
{
    if (enc == NULL) {
        return EAS_ERR_PARAM;
    }
    if ((data == NULL && len > 0u) || len > enc->opaque_left) {
        set_err(enc, EAS_ERR_PARAM);
    } else {
        put(enc, data, len);
        if (enc->err == EAS_OK) {
            enc->opaque_left -= (uint32_t)len;
        }
    }
    return enc->err;
}

int eas_wbxml_enc_opaque(eas_wbxml_enc_t *enc, const uint8_t *data, size_t len)
{
    int err = EAS_ERR_PARAM;

    if (enc != NULL) {
        if (len > UINT32_MAX) {
            set_err(enc, EAS_ERR_LIMIT);
        }
        if (enc->err == EAS_OK) {
            (void)eas_wbxml_enc_opaque_begin(enc, (uint32_t)len);
            (void)eas_wbxml_enc_opaque_piece(enc, data, len);
        }
        err = enc->err;
    }
    return err;
}

int eas_wbxml_enc_elem_text(eas_wbxml_enc_t *enc, uint16_t tag, const char *text)
{
    int err = EAS_ERR_PARAM;

    if (enc != NULL) {
        (void)eas_wbxml_enc_start(enc, tag);
        (void)eas_wbxml_enc_text(enc, text, (text != NULL) ? strlen(text) : 0u);
        err = eas_wbxml_enc_end(enc);
    }
    return err;
}

int eas_wbxml_enc_elem_empty(eas_wbxml_enc_t *enc, uint16_t tag)
{
    int err = EAS_ERR_PARAM;

    if (enc != NULL) {
        (void)eas_wbxml_enc_start(enc, tag);
        err = eas_wbxml_enc_end(enc);
    }
    return err;
}

int eas_wbxml_enc_elem_uint(eas_wbxml_enc_t *enc, uint16_t tag, uint32_t value)
{
    char digits[10];
    size_t n = sizeof(digits);
    int err = EAS_ERR_PARAM;

    if (enc != NULL) {
        do {
            digits[--n] = (char)('0' + (value % 10u));
            value /= 10u;
        } while (value != 0u);
        (void)eas_wbxml_enc_start(enc, tag);
        (void)eas_wbxml_enc_text(enc, &digits[n], sizeof(digits) - n);
        err = eas_wbxml_enc_end(enc);
    }
    return err;
}

int eas_wbxml_enc_finish(eas_wbxml_enc_t *enc)
{
    if (enc == NULL) {
        return EAS_ERR_PARAM;
    }
    if (enc->depth != 0u || enc->opaque_left != 0u || enc->total <= HEADER_LEN) {
        set_err(enc, EAS_ERR_STATE); /* open elements, or no root element at all */
    } else if (enc->err == EAS_OK && enc->flush != NULL && enc->len > 0u) {
        int rc = enc->flush(enc->user, enc->buf, enc->len);
        enc->err = (rc < 0) ? rc : EAS_OK;
        enc->len = 0;
    }
    return enc->err;
}

uint64_t eas_wbxml_enc_total(const eas_wbxml_enc_t *enc)
{
    return (enc != NULL) ? enc->total : 0u;
}

