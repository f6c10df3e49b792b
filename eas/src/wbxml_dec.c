/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Streaming WBXML decoder (WBXML 1.1-1.3 as EAS uses it, MS-ASWBXML code pages).
 *
 * One state machine consumes the input byte by byte for structure and in bulk for string
 * and opaque payloads, which are handed to the callback straight from the caller's chunk.
 * Nothing is buffered except an mb_u_int in progress and the open-element stack, so any
 * split of the input produces the same events (only text/opaque piece boundaries move).
 */
#include <string.h>

#include "eas/eas_config_defaults.h"
#include "eas/eas_err.h"
#include "eas/eas_wbxml.h"

/* WBXML global tokens (WAP-192 5.8.4). */
#define TOK_SWITCH_PAGE 0x00u
#define TOK_END         0x01u
#define TOK_ENTITY      0x02u
#define TOK_STR_I       0x03u
#define TOK_STR_T       0x83u
#define TOK_OPAQUE      0xC3u
#define TAG_CONTENT     0x40u
#define TAG_ATTRS       0x80u

/* EAS sends version 1.3, public id 1 ("unknown"), charset 106 (UTF-8). */
#define PUBID_UNKNOWN 1u
#define CHARSET_UTF8  106u
#define MB_MAX_BYTES  5u

enum dec_state {
    ST_VERSION = 0,
    ST_PUBID,
    ST_CHARSET,
    ST_STRTBL_LEN,
    ST_STRTBL,
    ST_BODY,
    ST_SWITCH,
    ST_STR_I,
    ST_ENTITY,
    ST_STR_T,
    ST_OPAQUE_LEN,
    ST_OPAQUE,
    ST_DONE
};

/* Fuzzing self-test only (tests/fuzz/README.md): plants a known bug so the harnesses can
 * show they find it. Never defined in a product build. */
#if defined(EAS_FUZZ_PLANT_BUG)
#define PLANTED_(n) (EAS_FUZZ_PLANT_BUG == (n))
#else
#define PLANTED_(n) 0
#endif

#define F_STRTBL_STORED 0x01u
#define F_FIRST_PIECE   0x02u

void eas_wbxml_dec_init(eas_wbxml_dec_t *dec, eas_wbxml_cb_t cb, void *user)
{
    if (dec != NULL) {
        memset(dec, 0, sizeof(*dec));
        dec->cb = cb;
        dec->user = user;
        dec->max_depth = CONFIG_EAS_WBXML_MAX_DEPTH;
        dec->max_string = CONFIG_EAS_WBXML_MAX_STRING;
        dec->max_opaque = CONFIG_EAS_WBXML_MAX_OPAQUE;
        dec->state = ST_VERSION;
    }
}

void eas_wbxml_dec_set_limits(eas_wbxml_dec_t *dec, uint16_t max_depth, uint32_t max_string,
                              uint32_t max_opaque)
{
    if (dec != NULL) {
        if (max_depth != 0u && max_depth < dec->max_depth) {
            dec->max_depth = max_depth;
        }
        if (max_string != 0u && max_string < dec->max_string) {
            dec->max_string = max_string;
        }
        if (max_opaque != 0u && max_opaque < dec->max_opaque) {
            dec->max_opaque = max_opaque;
        }
    }
}

void eas_wbxml_dec_lift_length_limits(eas_wbxml_dec_t *dec)
{
    if (dec != NULL) {
        dec->max_string = UINT32_MAX;
        dec->max_opaque = UINT32_MAX;
    }
}

void eas_wbxml_dec_set_strtbl(eas_wbxml_dec_t *dec, uint8_t *buf, uint32_t cap)
{
    if (dec != NULL) {
        dec->strtbl = buf;
        dec->strtbl_cap = (buf != NULL) ? cap : 0u;
    }
}

uint64_t eas_wbxml_dec_offset(const eas_wbxml_dec_t *dec)
{
    return (dec != NULL) ? dec->offset : 0u;
}

static int emit(eas_wbxml_dec_t *dec, eas_wbxml_ev_type_t type, uint16_t tag, uint16_t depth,
                bool has_content, uint8_t piece, const uint8_t *data, size_t len, uint32_t total)
{
    int rc = EAS_OK;

    if (dec->cb != NULL) {
        eas_wbxml_event_t ev;
        ev.type = type;
        ev.tag = tag;
        ev.depth = depth;
        ev.has_content = has_content;
        ev.piece = piece;
        ev.data = data;
        ev.len = len;
        ev.total_len = total;
        rc = dec->cb(dec->user, &ev);
        if (rc > 0) {
            rc = EAS_OK; /* only negative values stop decoding */
        }
    }
    return rc;
}

/* One byte of an mb_u_int32: 1 when complete, 0 when more bytes follow, or an error.
 * Five bytes carry 35 bits; anything that would not fit 32 bits is rejected, and so are
 * endless 0x80 continuation bytes (value zero, but unbounded input). */
static int mb_step(eas_wbxml_dec_t *dec, uint8_t b)
{
    int rc = 0;

    if (dec->accum_bytes >= MB_MAX_BYTES || dec->accum > (UINT32_MAX >> 7)) {
        rc = EAS_ERR_WBXML_MB_UINT;
    } else {
        dec->accum = (dec->accum << 7) | (uint32_t)(b & 0x7Fu);
        dec->accum_bytes++;
        if (PLANTED_(2) && dec->accum_bytes == 3u) {
            dec->accum &= 0x3FFFu; /* planted: drops the high bits of 3-byte integers */
        }
        rc = ((b & 0x80u) != 0u) ? 0 : 1;
    }
    return rc;
}

static void mb_begin(eas_wbxml_dec_t *dec, uint8_t next_state)
{
    dec->accum = 0;
    dec->accum_bytes = 0;
    dec->state = next_state;
}

static int text_event(eas_wbxml_dec_t *dec, uint8_t piece, const uint8_t *data, size_t len)
{
    return emit(dec, EAS_WBXML_EV_TEXT, dec->stack[dec->depth - 1u], dec->depth, false, piece, data,
                len, 0u);
}

/* A body token (state ST_BODY). */
static int body_token(eas_wbxml_dec_t *dec, uint8_t b)
{
    int err = EAS_OK;

    if (b == TOK_SWITCH_PAGE) {
        dec->state = ST_SWITCH;
    } else if (b == TOK_END) {
        if (dec->depth == 0u) {
            err = EAS_ERR_WBXML_STRUCTURE;
        } else {
            err = emit(dec, EAS_WBXML_EV_END, dec->stack[dec->depth - 1u], dec->depth, false, 0u,
                       NULL, 0u, 0u);
            dec->depth--;
            if (dec->depth == 0u) {
                dec->state = ST_DONE;
            }
        }
    } else if (b == TOK_STR_I || b == TOK_ENTITY || b == TOK_STR_T || b == TOK_OPAQUE) {
        /* Character data is only valid inside the root element. */
        if (dec->depth == 0u) {
            err = EAS_ERR_WBXML_STRUCTURE;
        } else if (b == TOK_STR_I) {
            dec->str_len = 0;
            dec->flags |= F_FIRST_PIECE;
            dec->state = ST_STR_I;
        } else if (b == TOK_ENTITY) {
            mb_begin(dec, ST_ENTITY);
        } else if (b == TOK_STR_T) {
            mb_begin(dec, ST_STR_T);
        } else {
            mb_begin(dec, ST_OPAQUE_LEN);
        }
    } else if ((b & 0x3Fu) <= 0x04u) {
        /* LITERAL*, EXT*, PI: the remaining global tokens; EAS uses none of them. */
        err = EAS_ERR_WBXML_UNSUPPORTED;
    } else if ((b & TAG_ATTRS) != 0u) {
        err = EAS_ERR_WBXML_UNSUPPORTED; /* EAS elements carry no attributes */
    } else {
        uint16_t tag = (uint16_t)(((uint16_t)dec->page << 8) | (b & 0x3Fu));
        bool content = (b & TAG_CONTENT) != 0u;
        if (!eas_wbxml_tag_known(tag)) {
            err = EAS_ERR_WBXML_TOKEN;
        } else if (dec->depth >= dec->max_depth && !PLANTED_(1)) {
            err = EAS_ERR_WBXML_DEPTH;
        } else {
            uint16_t depth = (uint16_t)(dec->depth + 1u);
            err = emit(dec, EAS_WBXML_EV_START, tag, depth, content, 0u, NULL, 0u, 0u);
            if (err == EAS_OK && content) {
                dec->stack[dec->depth] = tag;
                dec->depth = depth;
            } else if (err == EAS_OK) {
                /* Consumers always see START/END pairs. */
                err = emit(dec, EAS_WBXML_EV_END, tag, depth, false, 0u, NULL, 0u, 0u);
                if (dec->depth == 0u) {
                    dec->state = ST_DONE;
                }
            }
        }
    }
    return err;
}

/* Completed ENTITY: a Unicode code point, delivered as UTF-8 text. */
static int entity_done(eas_wbxml_dec_t *dec)
{
    uint32_t cp = dec->accum;
    uint8_t u[4];
    size_t n = 0;
    int err = EAS_OK;

    if (cp == 0u || cp > 0x10FFFFu || (cp >= 0xD800u && cp <= 0xDFFFu)) {
        err = EAS_ERR_WBXML_ENTITY;
    } else {
        if (cp < 0x80u) {
            u[n++] = (uint8_t)cp;
        } else if (cp < 0x800u) {
            u[n++] = (uint8_t)(0xC0u | (cp >> 6));
            u[n++] = (uint8_t)(0x80u | (cp & 0x3Fu));
        } else if (cp < 0x10000u) {
            u[n++] = (uint8_t)(0xE0u | (cp >> 12));
            u[n++] = (uint8_t)(0x80u | ((cp >> 6) & 0x3Fu));
            u[n++] = (uint8_t)(0x80u | (cp & 0x3Fu));
        } else {
            u[n++] = (uint8_t)(0xF0u | (cp >> 18));
            u[n++] = (uint8_t)(0x80u | ((cp >> 12) & 0x3Fu));
            u[n++] = (uint8_t)(0x80u | ((cp >> 6) & 0x3Fu));
            u[n++] = (uint8_t)(0x80u | (cp & 0x3Fu));
        }
        err = text_event(dec, EAS_WBXML_PIECE_FIRST | EAS_WBXML_PIECE_LAST, u, n);
    }
    return err;
}

/* Completed STR_T: the NUL-terminated string at an offset of the stored string table. */
static int str_t_done(eas_wbxml_dec_t *dec)
{
    uint32_t idx = dec->accum;
    int err = EAS_ERR_WBXML_STRTBL;

    if ((dec->flags & F_STRTBL_STORED) != 0u && idx < dec->strtbl_len) {
        const uint8_t *s = dec->strtbl + idx;
        const uint8_t *nul = memchr(s, 0, dec->strtbl_len - idx);
        if (nul == NULL) {
            err = EAS_ERR_WBXML_STRTBL;
        } else if ((size_t)(nul - s) > dec->max_string) {
            err = EAS_ERR_WBXML_TOO_LONG;
        } else {
            err =
                text_event(dec, EAS_WBXML_PIECE_FIRST | EAS_WBXML_PIECE_LAST, s, (size_t)(nul - s));
        }
    }
    return err;
}

/* Completed string table length: store the table if the caller gave room, else skip it.
   A table longer than CONFIG_EAS_WBXML_MAX_STRTBL (or the caller's larger buffer) is
   refused here, at its length, instead of reading up to 4 GiB of it. */
static int strtbl_len_done(eas_wbxml_dec_t *dec)
{
    uint32_t max = dec->strtbl_cap > CONFIG_EAS_WBXML_MAX_STRTBL ? dec->strtbl_cap
                                                                 : CONFIG_EAS_WBXML_MAX_STRTBL;
    if (dec->accum > max) {
        return EAS_ERR_WBXML_STRTBL;
    }
    dec->total = dec->accum;
    dec->remaining = dec->accum;
    dec->strtbl_len = 0;
    if (dec->total > 0u && dec->strtbl != NULL && dec->total <= dec->strtbl_cap) {
        dec->flags |= F_STRTBL_STORED;
        dec->strtbl_len = dec->total;
    }
    dec->state = (dec->total == 0u) ? ST_BODY : ST_STRTBL;
    return EAS_OK;
}

int eas_wbxml_dec_feed(eas_wbxml_dec_t *dec, const uint8_t *data, size_t len)
{
    size_t i = 0;
    int err = EAS_ERR_PARAM;

    if (dec == NULL || (data == NULL && len > 0u)) {
        return EAS_ERR_PARAM;
    }
    err = dec->err;
    while (err == EAS_OK && i < len) {
        uint8_t b = data[i];
        int rc = 0;

        switch (dec->state) {
        case ST_VERSION:
            /* 1.1 .. 1.3 share the header layout; 1.0 lacks the charset field. */
            if (b < 0x01u || b > 0x03u) {
                err = EAS_ERR_WBXML_VERSION;
            } else {
                mb_begin(dec, ST_PUBID);
                i++;
            }
            break;
        case ST_PUBID:
        case ST_CHARSET:
        case ST_STRTBL_LEN:
        case ST_ENTITY:
        case ST_STR_T:
        case ST_OPAQUE_LEN:
            rc = mb_step(dec, b);
            if (rc < 0) {
                err = rc;
                break;
            }
            if (rc == 0) {
                i++;
                break;
            }
            if (dec->state == ST_PUBID) {
                if (dec->accum != PUBID_UNKNOWN) {
                    err = EAS_ERR_WBXML_PUBLIC_ID;
                } else {
                    mb_begin(dec, ST_CHARSET);
                }
            } else if (dec->state == ST_CHARSET) {
                if (dec->accum != CHARSET_UTF8) {
                    err = EAS_ERR_WBXML_CHARSET;
                } else {
                    mb_begin(dec, ST_STRTBL_LEN);
                }
            } else if (dec->state == ST_STRTBL_LEN) {
                err = strtbl_len_done(dec);
            } else if (dec->state == ST_ENTITY) {
                err = entity_done(dec);
                dec->state = ST_BODY;
            } else if (dec->state == ST_STR_T) {
                err = str_t_done(dec);
                dec->state = ST_BODY;
            } else {
                dec->total = dec->accum;
                dec->remaining = dec->accum;
                if (dec->total > dec->max_opaque) {
                    err = EAS_ERR_WBXML_TOO_LONG;
                } else if (dec->total == 0u) {
                    err =
                        emit(dec, EAS_WBXML_EV_OPAQUE, dec->stack[dec->depth - 1u], dec->depth,
                             false, EAS_WBXML_PIECE_FIRST | EAS_WBXML_PIECE_LAST, data + i, 0u, 0u);
                    dec->state = ST_BODY;
                } else {
                    dec->flags |= F_FIRST_PIECE;
                    dec->state = ST_OPAQUE;
                }
            }
            if (err == EAS_OK) {
                i++;
            }
            break;
        case ST_STRTBL: {
            size_t n = len - i;
            if (n > dec->remaining) {
                n = dec->remaining;
            }
            if ((dec->flags & F_STRTBL_STORED) != 0u) {
                memcpy(dec->strtbl + (dec->total - dec->remaining), data + i, n);
            }
            dec->remaining -= (uint32_t)n;
            i += n;
            if (dec->remaining == 0u) {
                dec->state = ST_BODY;
            }
            break;
        }
        case ST_BODY:
            err = body_token(dec, b);
            if (err == EAS_OK) {
                i++;
            }
            break;
        case ST_SWITCH:
            if (b >= EAS_PAGE_COUNT) {
                err = EAS_ERR_WBXML_PAGE;
            } else {
                dec->page = b;
                dec->state = ST_BODY;
                i++;
            }
            break;
        case ST_STR_I: {
            const uint8_t *p = data + i;
            const uint8_t *nul = memchr(p, 0, len - i);
            size_t n = (nul != NULL) ? (size_t)(nul - p) : (len - i);
            uint8_t piece = 0;
            if (n > dec->max_string - dec->str_len) {
                i += dec->max_string - dec->str_len; /* offset of the first excess byte */
                err = EAS_ERR_WBXML_TOO_LONG;
                break;
            }
            if ((dec->flags & F_FIRST_PIECE) != 0u) {
                piece |= EAS_WBXML_PIECE_FIRST;
            }
            if (nul != NULL) {
                piece |= EAS_WBXML_PIECE_LAST;
            }
            /* A chunk that begins with the terminator of a string begun earlier still
             * delivers the (empty) LAST piece, so consumers need not track ends. */
            err = text_event(dec, piece, p, n);
            if (err == EAS_OK) {
                dec->flags &= (uint8_t)~F_FIRST_PIECE;
                dec->str_len += (uint32_t)n;
                i += n;
                if (nul != NULL) {
                    i++;
                    dec->state = ST_BODY;
                }
            }
            break;
        }
        case ST_OPAQUE: {
            size_t n = len - i;
            uint8_t piece = 0;
            if (n >= dec->remaining) {
                n = dec->remaining;
                piece |= EAS_WBXML_PIECE_LAST;
            }
            if ((dec->flags & F_FIRST_PIECE) != 0u) {
                piece |= EAS_WBXML_PIECE_FIRST;
            }
            err = emit(dec, EAS_WBXML_EV_OPAQUE, dec->stack[dec->depth - 1u], dec->depth, false,
                       piece, data + i, n, dec->total);
            if (err == EAS_OK) {
                dec->flags &= (uint8_t)~F_FIRST_PIECE;
                dec->remaining -= (uint32_t)n;
                i += n;
                if (dec->remaining == 0u) {
                    dec->state = ST_BODY;
                }
            }
            break;
        }
        case ST_DONE:
        default:
            err = EAS_ERR_WBXML_TRAILING;
            break;
        }
    }
    dec->offset += i;
    dec->err = err;
    return err;
}

int eas_wbxml_dec_finish(eas_wbxml_dec_t *dec)
{
    int err = EAS_ERR_PARAM;

    if (dec != NULL) {
        err = dec->err;
        if (err == EAS_OK && dec->state != ST_DONE) {
            err = EAS_ERR_WBXML_TRUNCATED;
            dec->err = err;
        }
    }
    return err;
}
