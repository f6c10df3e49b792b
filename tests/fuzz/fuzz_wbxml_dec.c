/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Decoder harness: the input is split into chunks whose sizes come from the input's first
 * byte, each chunk in its own exact-size heap block, and the events are checked for
 * internal consistency (balanced START/END, depths, piece flags, opaque totals).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "eas/eas_err.h"
#include "eas/eas_wbxml.h"

typedef struct check {
    int depth;
    uint32_t opaque_seen;
    int in_piece; /* 0 none, 1 text, 2 opaque */
} check_t;

static int on_event(void *user, const eas_wbxml_event_t *ev)
{
    check_t *c = user;
    switch (ev->type) {
    case EAS_WBXML_EV_START:
        if (c->in_piece != 0 || ev->depth != c->depth + 1 || !eas_wbxml_tag_known(ev->tag)) {
            abort();
        }
        c->depth++;
        break;
    case EAS_WBXML_EV_END:
        if (c->in_piece != 0 || ev->depth != c->depth || c->depth == 0) {
            abort();
        }
        c->depth--;
        break;
    case EAS_WBXML_EV_TEXT:
    case EAS_WBXML_EV_OPAQUE: {
        int kind = (ev->type == EAS_WBXML_EV_TEXT) ? 1 : 2;
        if (ev->depth != c->depth || c->depth == 0) {
            abort();
        }
        if ((ev->piece & EAS_WBXML_PIECE_FIRST) != 0) {
            if (c->in_piece != 0) {
                abort();
            }
            c->in_piece = kind;
            c->opaque_seen = 0;
        } else if (c->in_piece != kind) {
            abort();
        }
        if (ev->len > 0) {
            /* Touch every byte: ASan checks the event really points at valid memory. */
            volatile uint8_t sink = 0;
            for (size_t i = 0; i < ev->len; i++) {
                sink ^= ev->data[i];
            }
            (void)sink;
        }
        if (kind == 1 && memchr(ev->data, 0, ev->len) != NULL) {
            abort(); /* text never contains NUL */
        }
        c->opaque_seen += (uint32_t)ev->len;
        if (kind == 2 && c->opaque_seen > ev->total_len) {
            abort();
        }
        if ((ev->piece & EAS_WBXML_PIECE_LAST) != 0) {
            if (kind == 2 && c->opaque_seen != ev->total_len) {
                abort();
            }
            c->in_piece = 0;
        }
        break;
    }
    default:
        abort();
    }
    return EAS_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t strtbl[256];
    eas_wbxml_dec_t *dec = malloc(sizeof(*dec)); /* heap: overflows of the state trip ASan */
    check_t c = {0, 0, 0};
    size_t chunk = 0, off = 0;
    int err = EAS_OK;

    if (size == 0) {
        free(dec);
        return 0;
    }
    chunk = (data[0] & 0x0F) == 0 ? size : (size_t)(data[0] & 0x0F);
    data++;
    size--;
    eas_wbxml_dec_init(dec, on_event, &c);
    eas_wbxml_dec_set_strtbl(dec, strtbl, sizeof(strtbl));
    while (off < size && err == EAS_OK) {
        size_t n = (size - off < chunk) ? size - off : chunk;
        uint8_t *piece = malloc(n);
        memcpy(piece, data + off, n);
        err = eas_wbxml_dec_feed(dec, piece, n);
        free(piece);
        off += n;
    }
    if (err == EAS_OK) {
        err = eas_wbxml_dec_finish(dec);
    }
    if (err == EAS_OK && (c.depth != 0 || c.in_piece != 0)) {
        abort(); /* a complete document closes everything */
    }
    if (err != EAS_OK && (err > 0 || eas_wbxml_dec_offset(dec) > size)) {
        abort();
    }
    free(dec);
    return 0;
}
