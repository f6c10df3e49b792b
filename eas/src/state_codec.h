/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private: the little-endian writer/reader of record payloads (state.c, state_outbox.c).
 * Strings are u8-length-prefixed; a reader error is EAS_ERR_STORE_CORRUPT (the record is
 * untrusted input), a writer error EAS_ERR_NOMEM (the caller maps it to a limit).
 */
#ifndef EAS_STATE_CODEC_H
#define EAS_STATE_CODEC_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "eas/eas_err.h"

static inline void put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static inline uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

/* ---- tiny writer/reader for payloads: u8-length-prefixed strings, LE integers ---- */

typedef struct wr {
    uint8_t *p;
    size_t cap;
    size_t len;
    int err;
} wr_t;

static inline void wr_bytes(wr_t *w, const void *d, size_t n)
{
    if (w->err == EAS_OK && n > w->cap - w->len) {
        w->err = EAS_ERR_NOMEM;
    }
    if (w->err == EAS_OK && n > 0) { /* an empty field may have no data pointer */
        memcpy(w->p + w->len, d, n);
        w->len += n;
    }
}

static inline void wr_u8(wr_t *w, uint8_t v)
{
    wr_bytes(w, &v, 1);
}

static inline void wr_u16(wr_t *w, uint16_t v)
{
    uint8_t b[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    wr_bytes(w, b, 2);
}

static inline void wr_u32(wr_t *w, uint32_t v)
{
    uint8_t b[4];
    put_u32(b, v);
    wr_bytes(w, b, 4);
}

static inline void wr_u64(wr_t *w, uint64_t v)
{
    wr_u32(w, (uint32_t)v);
    wr_u32(w, (uint32_t)(v >> 32));
}

static inline void wr_str(wr_t *w, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n > 255) {
        w->err = EAS_ERR_LIMIT;
        return;
    }
    wr_u8(w, (uint8_t)n);
    wr_bytes(w, s, n);
}

typedef struct rd {
    const uint8_t *p;
    size_t len;
    size_t pos;
    int err;
} rd_t;

static inline const uint8_t *rd_bytes(rd_t *r, size_t n)
{
    const uint8_t *q = NULL;
    if (r->err == EAS_OK && n > r->len - r->pos) {
        r->err = EAS_ERR_STORE_CORRUPT;
    }
    if (r->err == EAS_OK) {
        q = r->p + r->pos;
        r->pos += n;
    }
    return q;
}

static inline uint8_t rd_u8(rd_t *r)
{
    const uint8_t *q = rd_bytes(r, 1);
    return q ? q[0] : 0;
}

static inline uint16_t rd_u16(rd_t *r)
{
    const uint8_t *q = rd_bytes(r, 2);
    return q ? (uint16_t)(q[0] | (q[1] << 8)) : 0;
}

static inline uint32_t rd_u32(rd_t *r)
{
    const uint8_t *q = rd_bytes(r, 4);
    return q ? get_u32(q) : 0;
}

static inline uint64_t rd_u64(rd_t *r)
{
    uint64_t lo = rd_u32(r);
    return lo | ((uint64_t)rd_u32(r) << 32);
}

/* Copy a string into a fixed field; longer than the field is corruption, not truncation. */
static inline void rd_str(rd_t *r, char *out, size_t cap)
{
    uint8_t n = rd_u8(r);
    const uint8_t *q = rd_bytes(r, n);
    if (q && (size_t)n >= cap) {
        r->err = EAS_ERR_STORE_CORRUPT;
        q = NULL;
    }
    if (q) {
        memcpy(out, q, n);
        out[n] = '\0';
    } else if (cap > 0) {
        out[0] = '\0';
    }
}

#endif /* EAS_STATE_CODEC_H */
