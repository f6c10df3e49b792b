/* SPDX-License-Identifier: Apache-2.0 */
/* Incremental HTTP/1.1 response framer (RFC 9112 message framing, client side).
 *
 * Bytes arrive in chunks of any size. Head lines are collected in a bounded line buffer;
 * body bytes are never copied: they go to the sink straight from the caller's chunk.
 * Every malformed construct ends in a sticky EAS_ERR_HTTP_* error, never an assert. */
#include <string.h>

#include "eas/eas_config_defaults.h"
#include "eas/eas_err.h"
#include "eas/eas_http.h"
#include "http_internal.h"

#define FL_INTERIM    0x01u /* parsing the head of a 1xx response */
#define FL_CLOSE      0x02u /* Connection: close */
#define FL_KEEPALIVE  0x04u /* Connection: keep-alive */
#define FL_TE         0x08u /* Transfer-Encoding present */
#define FL_TE_CHUNKED 0x10u /* ... and its final coding is chunked */
#define FL_NO_BODY    0x20u /* response to HEAD */
#define FL_HAS_LENGTH 0x40u

static char lc(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

bool http_eq_nocase(const char *a, size_t alen, const char *b, size_t blen)
{
    if (alen != blen) {
        return false;
    }
    for (size_t i = 0; i < alen; i++) {
        if (lc(a[i]) != lc(b[i])) {
            return false;
        }
    }
    return true;
}

static bool eq_nocase(const char *a, size_t alen, const char *b)
{
    return http_eq_nocase(a, alen, b, strlen(b));
}

bool http_is_tchar(char c)
{
    /* RFC 9110 token characters. */
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
        return true;
    }
    return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool is_ows(char c)
{
    return c == ' ' || c == '\t';
}

static void trim(const char **s, size_t *len)
{
    while (*len > 0 && is_ows((*s)[0])) {
        (*s)++;
        (*len)--;
    }
    while (*len > 0 && is_ows((*s)[*len - 1])) {
        (*len)--;
    }
}

/* Iterate over comma-separated list elements (quoted strings kept whole). */
static bool next_elem(const char **s, size_t *len, const char **elem, size_t *elen)
{
    const char *p = *s;
    size_t n = *len;
    while (n > 0 && (is_ows(*p) || *p == ',')) {
        p++;
        n--;
    }
    if (n == 0) {
        *s = p;
        *len = 0;
        return false;
    }
    size_t i = 0;
    bool quoted = false;
    while (i < n) {
        if (p[i] == '"') {
            quoted = !quoted;
        } else if (p[i] == '\\' && quoted && i + 1 < n) {
            i++;
        } else if (p[i] == ',' && !quoted) {
            break;
        }
        i++;
    }
    *elem = p;
    *elen = i;
    trim(elem, elen);
    *s = p + i;
    *len = n - i;
    return true;
}

/* ---- HTTP-date ---- */

int64_t http_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2 ? 1 : 0;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153u * (m > 2 ? m - 3 : m + 9) + 2u) / 5u + d - 1u;
    const unsigned doe = yoe * 365u + yoe / 4u - yoe / 100u + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static int month_from(const char *s)
{
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    for (int i = 0; i < 12; i++) {
        if (memcmp(s, months + 3 * i, 3) == 0) {
            return i + 1;
        }
    }
    return 0;
}

static bool digits(const char *s, size_t n, int *out)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return false;
        }
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

static bool parse_hms(const char *s, int *h, int *mi, int *se)
{
    return digits(s, 2, h) && s[2] == ':' && digits(s + 3, 2, mi) && s[5] == ':' &&
           digits(s + 6, 2, se) && *h < 24 && *mi < 60 && *se <= 60;
}

int eas_http_parse_date(const char *s, size_t len, int64_t *out)
{
    int d = 0;
    int mo = 0;
    int y = 0;
    int h = 0;
    int mi = 0;
    int se = 0;
    const char *comma;

    if (s == NULL || out == NULL) {
        return EAS_ERR_PARAM;
    }
    comma = memchr(s, ',', len);
    if (comma != NULL) {
        size_t rest = len - (size_t)(comma - s) - 1;
        const char *p = comma + 1;
        if (rest == 25 && p[0] == ' ' && p[3] == ' ' && p[7] == ' ' && p[12] == ' ' &&
            memcmp(p + 21, " GMT", 4) == 0) {
            /* IMF-fixdate: ", 06 Nov 1994 08:49:37 GMT" */
            if (!digits(p + 1, 2, &d) || (mo = month_from(p + 4)) == 0 || !digits(p + 8, 4, &y) ||
                !parse_hms(p + 13, &h, &mi, &se)) {
                return EAS_ERR_FORMAT;
            }
        } else if (rest == 23 && p[0] == ' ' && p[3] == '-' && p[7] == '-' && p[10] == ' ' &&
                   memcmp(p + 19, " GMT", 4) == 0) {
            /* RFC 850: ", 06-Nov-94 08:49:37 GMT"; two-digit years below 70 are 20xx. */
            if (!digits(p + 1, 2, &d) || (mo = month_from(p + 4)) == 0 || !digits(p + 8, 2, &y) ||
                !parse_hms(p + 11, &h, &mi, &se)) {
                return EAS_ERR_FORMAT;
            }
            y += y < 70 ? 2000 : 1900;
        } else {
            return EAS_ERR_FORMAT;
        }
    } else if (len == 24 && s[3] == ' ' && s[7] == ' ' && s[10] == ' ' && s[19] == ' ') {
        /* asctime: "Sun Nov  6 08:49:37 1994" */
        if ((mo = month_from(s + 4)) == 0 || !parse_hms(s + 11, &h, &mi, &se) ||
            !digits(s + 20, 4, &y)) {
            return EAS_ERR_FORMAT;
        }
        if (s[8] == ' ') {
            if (!digits(s + 9, 1, &d)) {
                return EAS_ERR_FORMAT;
            }
        } else if (!digits(s + 8, 2, &d)) {
            return EAS_ERR_FORMAT;
        }
    } else {
        return EAS_ERR_FORMAT;
    }
    static const uint8_t mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (d < 1 || d > mdays[mo - 1] || (mo == 2 && d == 29 && !leap) || y < 1970) {
        return EAS_ERR_FORMAT;
    }
    *out = http_days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + se;
    return EAS_OK;
}

/* ---- header extraction ---- */

static bool parse_u64(const char *s, size_t len, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;
    if (len == 0 || len > 19) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return false;
        }
        v = v * 10u + (uint64_t)(s[i] - '0');
    }
    if (v > max) {
        return false;
    }
    *out = v;
    return true;
}

static void set_location(eas_http_framer_t *fr, const char *v, size_t len, uint8_t prio)
{
    if (prio < fr->loc_prio || fr->loc == NULL) {
        return;
    }
    fr->loc_prio = prio;
    if (len + 1 > fr->loc_cap || len == 0) {
        /* Too long to use: better no location than a truncated one. */
        fr->rsp->location = NULL;
        return;
    }
    memcpy(fr->loc, v, len);
    fr->loc[len] = '\0';
    fr->rsp->location = fr->loc;
}

static uint8_t ctype_of(const char *v, size_t len)
{
    const char *semi = memchr(v, ';', len);
    if (semi != NULL) {
        len = (size_t)(semi - v);
    }
    trim(&v, &len);
    if (eq_nocase(v, len, "application/vnd.ms-sync.wbxml") ||
        eq_nocase(v, len, "application/vnd.ms-sync")) {
        return EAS_HTTP_CTYPE_WBXML;
    }
    if (eq_nocase(v, len, "application/vnd.ms-sync.multipart")) {
        return EAS_HTTP_CTYPE_MULTIPART;
    }
    if (eq_nocase(v, len, "text/xml") || eq_nocase(v, len, "application/xml")) {
        return EAS_HTTP_CTYPE_XML;
    }
    if (eq_nocase(v, len, "text/html")) {
        return EAS_HTTP_CTYPE_HTML;
    }
    return EAS_HTTP_CTYPE_OTHER;
}

static uint8_t scheme_bit(const char *s, size_t len)
{
    if (eq_nocase(s, len, "basic")) {
        return EAS_HTTP_SCHEME_BASIC;
    }
    if (eq_nocase(s, len, "bearer")) {
        return EAS_HTTP_SCHEME_BEARER;
    }
    if (eq_nocase(s, len, "negotiate")) {
        return EAS_HTTP_SCHEME_NEGOTIATE;
    }
    if (eq_nocase(s, len, "ntlm")) {
        return EAS_HTTP_SCHEME_NTLM;
    }
    return EAS_HTTP_SCHEME_OTHER;
}

static int on_header(eas_http_framer_t *fr, const char *name, size_t nlen, const char *v,
                     size_t vlen)
{
    eas_http_response_t *rsp = fr->rsp;
    const char *e;
    size_t elen;

    if (eq_nocase(name, nlen, "content-length")) {
        uint64_t cl = 0;
        if (!parse_u64(v, vlen, (uint64_t)INT64_MAX, &cl)) {
            return EAS_ERR_HTTP_LENGTH;
        }
        if ((fr->flags & FL_HAS_LENGTH) != 0 && (uint64_t)rsp->content_length != cl) {
            return EAS_ERR_HTTP_LENGTH;
        }
        fr->flags |= FL_HAS_LENGTH;
        rsp->content_length = (int64_t)cl;
    } else if (eq_nocase(name, nlen, "transfer-encoding")) {
        fr->flags |= FL_TE;
        while (next_elem(&v, &vlen, &e, &elen)) {
            if ((fr->flags & FL_TE_CHUNKED) != 0) {
                /* RFC 9112 6.1: chunked must be the final coding, applied once. */
                return EAS_ERR_HTTP_HEADER;
            }
            if (eq_nocase(e, elen, "chunked")) {
                fr->flags |= FL_TE_CHUNKED;
            } else if (!eq_nocase(e, elen, "identity")) {
                rsp->content_encoded = true;
            }
        }
    } else if (eq_nocase(name, nlen, "connection")) {
        while (next_elem(&v, &vlen, &e, &elen)) {
            if (eq_nocase(e, elen, "close")) {
                fr->flags |= FL_CLOSE;
            } else if (eq_nocase(e, elen, "keep-alive")) {
                fr->flags |= FL_KEEPALIVE;
            }
        }
    } else if (eq_nocase(name, nlen, "content-type")) {
        rsp->content_type = ctype_of(v, vlen);
    } else if (eq_nocase(name, nlen, "content-encoding")) {
        while (next_elem(&v, &vlen, &e, &elen)) {
            if (!eq_nocase(e, elen, "identity")) {
                rsp->content_encoded = true;
            }
        }
    } else if (eq_nocase(name, nlen, "retry-after")) {
        uint64_t secs = 0;
        int64_t when = 0;
        if (parse_u64(v, vlen, UINT32_MAX, &secs)) {
            rsp->retry_after_s = (uint32_t)secs;
            rsp->has_retry_after = true;
        } else if (eas_http_parse_date(v, vlen, &when) == EAS_OK) {
            int64_t delta = when - fr->now_utc;
            rsp->retry_after_s = delta <= 0           ? 0u
                                 : delta > UINT32_MAX ? UINT32_MAX
                                                      : (uint32_t)delta;
            rsp->has_retry_after = true;
        }
        /* An unparsable Retry-After is ignored: the engine's own back-off applies. */
    } else if (eq_nocase(name, nlen, "x-ms-location")) {
        set_location(fr, v, vlen, 2);
    } else if (eq_nocase(name, nlen, "location")) {
        set_location(fr, v, vlen, 1);
    } else if (eq_nocase(name, nlen, "ms-asprotocolversions")) {
        rsp->has_versions = true;
        while (next_elem(&v, &vlen, &e, &elen)) {
            eas_proto_ver_t ver;
            if (http_ver_from_text(e, elen, &ver) == EAS_OK) {
                rsp->versions |= eas_proto_ver_bit(ver);
            }
        }
    } else if (eq_nocase(name, nlen, "ms-asprotocolcommands")) {
        rsp->has_commands = true;
        while (next_elem(&v, &vlen, &e, &elen)) {
            for (unsigned c = 0; c < 32; c++) {
                const char *cn = eas_cmd_name((eas_cmd_t)c);
                if (cn != NULL && eq_nocase(e, elen, cn)) {
                    rsp->commands |= 1u << c;
                    break;
                }
            }
        }
    } else if (eq_nocase(name, nlen, "ms-server-activesync")) {
        eas_proto_ver_t ver;
        if (http_ver_from_text(v, vlen, &ver) == EAS_OK) {
            rsp->server_version = (uint8_t)ver;
        }
    } else if (eq_nocase(name, nlen, "x-ms-rp")) {
        rsp->has_rp = true;
        while (next_elem(&v, &vlen, &e, &elen)) {
            eas_proto_ver_t ver;
            if (http_ver_from_text(e, elen, &ver) == EAS_OK) {
                rsp->rp_versions |= eas_proto_ver_bit(ver);
            }
        }
    } else if (eq_nocase(name, nlen, "x-ms-credentials-expire")) {
        uint64_t days = 0;
        if (parse_u64(v, vlen, INT32_MAX, &days)) {
            rsp->credentials_expire_days = (int32_t)days;
        } /* unparsable: as if absent */
    } else if (eq_nocase(name, nlen, "x-ms-asthrottle")) {
        size_t n = vlen < sizeof(rsp->throttle) - 1 ? vlen : sizeof(rsp->throttle) - 1;
        memcpy(rsp->throttle, v, n);
        rsp->throttle[n] = '\0';
    } else if (eq_nocase(name, nlen, "www-authenticate")) {
        while (next_elem(&v, &vlen, &e, &elen)) {
            size_t t = 0;
            while (t < elen && http_is_tchar(e[t])) {
                t++;
            }
            /* "realm=..." continues the previous challenge; a bare token starts one. */
            size_t u = t;
            while (u < elen && is_ows(e[u])) {
                u++;
            }
            if (t > 0 && (u == elen || e[u] != '=' || (u + 1 < elen && e[u + 1] == '='))) {
                rsp->auth_schemes |= scheme_bit(e, t);
            }
        }
    }
    return EAS_OK;
}

/* Headers that matter to us: an over-long one is an error, others may be skipped. */
static bool must_keep(const char *name, size_t nlen)
{
    static const char *const names[] = {
        "content-length",
        "transfer-encoding",
        "connection",
        "content-type",
        "content-encoding",
        "retry-after",
        "x-ms-location",
        "location",
        "ms-asprotocolversions",
        "ms-asprotocolcommands",
        "ms-server-activesync",
        "x-ms-asthrottle",
        "x-ms-rp",
        "x-ms-credentials-expire",
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (eq_nocase(name, nlen, names[i])) {
            return true;
        }
    }
    return false;
}

static int split_header(const char *line, size_t len, const char **name, size_t *nlen,
                        const char **v, size_t *vlen)
{
    size_t i = 0;
    if (len == 0 || is_ows(line[0])) {
        return EAS_ERR_HTTP_HEADER; /* obsolete line folding is rejected (RFC 9112 5.2) */
    }
    while (i < len && http_is_tchar(line[i])) {
        i++;
    }
    if (i == 0 || i >= len || line[i] != ':') {
        return EAS_ERR_HTTP_HEADER;
    }
    *name = line;
    *nlen = i;
    *v = line + i + 1;
    *vlen = len - i - 1;
    for (size_t k = 0; k < *vlen; k++) {
        unsigned char c = (unsigned char)(*v)[k];
        if ((c < 0x20 && c != '\t') || c == 0x7F) {
            return EAS_ERR_HTTP_HEADER;
        }
    }
    trim(v, vlen);
    return EAS_OK;
}

static int on_status_line(eas_http_framer_t *fr, const char *line, size_t len)
{
    int code = 0;
    if (len < 12 || memcmp(line, "HTTP/1.", 7) != 0 || line[7] < '0' || line[7] > '9' ||
        line[8] != ' ' || !digits(line + 9, 3, &code) || code < 100 || code > 599 ||
        (len > 12 && line[12] != ' ')) {
        return EAS_ERR_HTTP_STATUS_LINE;
    }
    for (size_t i = 12; i < len; i++) {
        unsigned char c = (unsigned char)line[i];
        if ((c < 0x20 && c != '\t') || c == 0x7F) {
            return EAS_ERR_HTTP_STATUS_LINE;
        }
    }
    if (code == 101) {
        return EAS_ERR_HTTP_STATUS_LINE; /* we never ask to switch protocols */
    }
    fr->rsp->status = (uint16_t)code;
    fr->rsp->http_minor = (uint8_t)(line[7] - '0');
    if (code < 200) {
        fr->flags |= FL_INTERIM;
    }
    return EAS_OK;
}

static int on_head_end(eas_http_framer_t *fr)
{
    eas_http_response_t *rsp = fr->rsp;
    if ((fr->flags & FL_INTERIM) != 0) {
        /* 1xx: its head is dropped, the real response follows. */
        uint8_t keep = fr->flags & FL_NO_BODY;
        memset(rsp, 0, sizeof(*rsp));
        rsp->content_length = -1;
        rsp->credentials_expire_days = -1;
        fr->flags = keep;
        fr->loc_prio = 0;
        fr->state = EAS_HTTP_FR_STATUS;
        return EAS_OK;
    }
    bool keep_alive = rsp->http_minor >= 1
                          ? (fr->flags & FL_CLOSE) == 0
                          : (fr->flags & FL_KEEPALIVE) != 0 && (fr->flags & FL_CLOSE) == 0;
    rsp->chunked = false;
    if ((fr->flags & FL_NO_BODY) != 0 || rsp->status == 204 || rsp->status == 304) {
        fr->state = EAS_HTTP_FR_DONE;
    } else if ((fr->flags & FL_TE) != 0) {
        /* Transfer-Encoding overrides Content-Length (RFC 9112 6.3); a length next to it
         * is a smuggling sign, so such a connection is not reused. */
        if ((fr->flags & FL_HAS_LENGTH) != 0) {
            keep_alive = false;
            rsp->content_length = -1;
        }
        if ((fr->flags & FL_TE_CHUNKED) != 0) {
            rsp->chunked = true;
            fr->state = EAS_HTTP_FR_CHUNK_SIZE;
        } else {
            fr->state = EAS_HTTP_FR_BODY_CLOSE;
            keep_alive = false;
        }
    } else if ((fr->flags & FL_HAS_LENGTH) != 0) {
        fr->remaining = (uint64_t)rsp->content_length;
        fr->state = fr->remaining == 0 ? EAS_HTTP_FR_DONE : EAS_HTTP_FR_BODY_LENGTH;
    } else {
        fr->state = EAS_HTTP_FR_BODY_CLOSE;
        keep_alive = false;
    }
    rsp->keep_alive = keep_alive;
    return EAS_OK;
}

static int on_chunk_size(eas_http_framer_t *fr, const char *line, size_t len)
{
    uint64_t size = 0;
    size_t i = 0;
    while (i < len && is_ows(line[i])) {
        i++; /* tolerated: some servers pad the size */
    }
    size_t start = i;
    for (; i < len; i++) {
        char c = line[i];
        unsigned v;
        if (c >= '0' && c <= '9') {
            v = (unsigned)(c - '0');
        } else if (c >= 'a' && c <= 'f') {
            v = (unsigned)(c - 'a' + 10);
        } else if (c >= 'A' && c <= 'F') {
            v = (unsigned)(c - 'A' + 10);
        } else {
            break;
        }
        if (i - start >= 15) {
            return EAS_ERR_HTTP_CHUNK; /* > 2^60: not a real chunk */
        }
        size = size * 16u + v;
    }
    if (i == start) {
        return EAS_ERR_HTTP_CHUNK;
    }
    while (i < len && is_ows(line[i])) {
        i++;
    }
    if (i < len && line[i] != ';') {
        return EAS_ERR_HTTP_CHUNK;
    }
    /* Chunk extensions (";name=value") carry nothing for us and are ignored. */
    if (size == 0) {
        fr->state = EAS_HTTP_FR_TRAILER;
    } else {
        fr->remaining = size;
        fr->state = EAS_HTTP_FR_CHUNK_DATA;
    }
    return EAS_OK;
}

static int on_line(eas_http_framer_t *fr, const char *line, size_t len)
{
    const char *name;
    const char *v;
    size_t nlen;
    size_t vlen;
    int rc = EAS_OK;

    switch (fr->state) {
    case EAS_HTTP_FR_STATUS:
        rc = on_status_line(fr, line, len);
        if (rc == EAS_OK) {
            fr->state = EAS_HTTP_FR_HEADER;
        }
        break;
    case EAS_HTTP_FR_HEADER:
        if (len == 0) {
            rc = on_head_end(fr);
        } else {
            rc = split_header(line, len, &name, &nlen, &v, &vlen);
            if (rc == EAS_OK && (fr->flags & FL_INTERIM) == 0) {
                rc = on_header(fr, name, nlen, v, vlen);
                if (rc == EAS_OK && fr->observer != NULL) {
                    fr->observer(fr->observer_user, name, nlen, v, vlen);
                }
            }
        }
        break;
    case EAS_HTTP_FR_CHUNK_SIZE:
        rc = on_chunk_size(fr, line, len);
        break;
    case EAS_HTTP_FR_CHUNK_CRLF:
        rc = len == 0 ? EAS_OK : EAS_ERR_HTTP_CHUNK;
        fr->state = EAS_HTTP_FR_CHUNK_SIZE;
        break;
    case EAS_HTTP_FR_TRAILER:
        if (len == 0) {
            fr->state = EAS_HTTP_FR_DONE;
        } else {
            rc = split_header(line, len, &name, &nlen, &v, &vlen); /* checked, ignored */
        }
        break;
    default:
        rc = EAS_ERR_INTERNAL;
        break;
    }
    return rc;
}

static bool line_state(uint8_t st)
{
    return st == EAS_HTTP_FR_STATUS || st == EAS_HTTP_FR_HEADER || st == EAS_HTTP_FR_CHUNK_SIZE ||
           st == EAS_HTTP_FR_CHUNK_CRLF || st == EAS_HTTP_FR_TRAILER;
}

/* Collect one line; returns bytes used from data. Sets *complete when the LF was seen. */
static int feed_line(eas_http_framer_t *fr, const uint8_t *data, size_t len, size_t *used)
{
    const uint8_t *lf = memchr(data, '\n', len);
    size_t take = lf ? (size_t)(lf - data) + 1 : len;
    size_t text = lf ? take - 1 : take;
    bool counts = fr->state == EAS_HTTP_FR_STATUS || fr->state == EAS_HTTP_FR_HEADER ||
                  fr->state == EAS_HTTP_FR_TRAILER;

    *used = take;
    if (counts) {
        if (take > fr->head_max - fr->head_bytes) {
            return EAS_ERR_HTTP_HEADER_TOO_LONG;
        }
        fr->head_bytes += (uint32_t)take;
    }
    if (!fr->skipping) {
        if (text > fr->line_cap - fr->line_len) {
            /* Fill the buffer first so the header name is surely in it. */
            memcpy(fr->line + fr->line_len, data, fr->line_cap - fr->line_len);
            fr->line_len = fr->line_cap;
            const char *colon = memchr(fr->line, ':', fr->line_len);
            bool skippable =
                (fr->state == EAS_HTTP_FR_HEADER || fr->state == EAS_HTTP_FR_TRAILER) &&
                colon != NULL &&
                ((fr->flags & FL_INTERIM) != 0 || fr->state == EAS_HTTP_FR_TRAILER ||
                 !must_keep(fr->line, (size_t)(colon - fr->line)));
            if (!skippable) {
                return fr->state == EAS_HTTP_FR_CHUNK_SIZE || fr->state == EAS_HTTP_FR_CHUNK_CRLF
                           ? EAS_ERR_HTTP_CHUNK
                           : EAS_ERR_HTTP_HEADER_TOO_LONG;
            }
            /* A huge header we do not need (cookies, policies): check the name, drop the rest. */
            size_t nlen = (size_t)(colon - fr->line);
            for (size_t i = 0; i < nlen; i++) {
                if (!http_is_tchar(fr->line[i])) {
                    return EAS_ERR_HTTP_HEADER;
                }
            }
            fr->skipping = 1;
        } else {
            memcpy(fr->line + fr->line_len, data, text);
            fr->line_len += text;
        }
    }
    if (lf == NULL) {
        return EAS_OK;
    }
    size_t n = fr->line_len;
    bool was_skipping = fr->skipping;
    fr->line_len = 0;
    fr->skipping = 0;
    if (was_skipping) {
        return EAS_OK;
    }
    if (n > 0 && fr->line[n - 1] == '\r') {
        n--;
    }
    if (memchr(fr->line, '\r', n) != NULL || memchr(fr->line, '\0', n) != NULL) {
        return fr->state == EAS_HTTP_FR_STATUS ? EAS_ERR_HTTP_STATUS_LINE
               : line_state(fr->state) && fr->state != EAS_HTTP_FR_HEADER &&
                       fr->state != EAS_HTTP_FR_TRAILER
                   ? EAS_ERR_HTTP_CHUNK
                   : EAS_ERR_HTTP_HEADER;
    }
    return on_line(fr, fr->line, n);
}

static int deliver(eas_http_framer_t *fr, const uint8_t *data, size_t len)
{
    fr->rsp->body_bytes += len;
    if (fr->sink == NULL || len == 0) {
        return EAS_OK;
    }
    return fr->sink(fr->sink_user, fr->rsp, data, len);
}

void eas_http_framer_init(eas_http_framer_t *fr, eas_http_response_t *rsp, char *line,
                          size_t line_cap, char *loc, size_t loc_cap, eas_http_sink_fn sink,
                          void *sink_user, int64_t now_utc, bool no_body)
{
    memset(fr, 0, sizeof(*fr));
    memset(rsp, 0, sizeof(*rsp));
    rsp->content_length = -1;
    rsp->credentials_expire_days = -1;
    fr->rsp = rsp;
    fr->line = line;
    fr->line_cap = line_cap;
    fr->loc = loc;
    fr->loc_cap = loc_cap;
    fr->sink = sink;
    fr->sink_user = sink_user;
    fr->now_utc = now_utc;
    fr->head_max = CONFIG_EAS_HTTP_MAX_HEADER_TOTAL;
    fr->state = EAS_HTTP_FR_STATUS;
    fr->flags = no_body ? FL_NO_BODY : 0;
    if (line == NULL || line_cap == 0) {
        fr->err = EAS_ERR_PARAM;
        fr->state = EAS_HTTP_FR_ERROR;
    }
}

void eas_http_framer_observe(eas_http_framer_t *fr, eas_http_header_fn fn, void *user)
{
    if (fr != NULL) {
        fr->observer = fn;
        fr->observer_user = user;
    }
}

int eas_http_framer_feed(eas_http_framer_t *fr, const uint8_t *data, size_t len, size_t *consumed)
{
    size_t i = 0;
    int rc = EAS_OK;

    if (consumed != NULL) {
        *consumed = 0;
    }
    if (fr == NULL || (data == NULL && len > 0)) {
        return EAS_ERR_PARAM;
    }
    if (fr->err != EAS_OK) {
        return fr->err;
    }
    while (i < len && fr->state != EAS_HTTP_FR_DONE) {
        size_t used = 0;
        if (line_state(fr->state)) {
            rc = feed_line(fr, data + i, len - i, &used);
        } else if (fr->state == EAS_HTTP_FR_BODY_CLOSE) {
            used = len - i;
            rc = deliver(fr, data + i, used);
        } else if (fr->state == EAS_HTTP_FR_BODY_LENGTH || fr->state == EAS_HTTP_FR_CHUNK_DATA) {
            used = len - i;
            if (used > fr->remaining) {
                used = (size_t)fr->remaining;
            }
            fr->remaining -= used;
            if (fr->remaining == 0) {
                fr->state = fr->state == EAS_HTTP_FR_BODY_LENGTH ? EAS_HTTP_FR_DONE
                                                                 : EAS_HTTP_FR_CHUNK_CRLF;
            }
            rc = deliver(fr, data + i, used);
        } else {
            rc = EAS_ERR_INTERNAL;
        }
        i += used;
        if (rc != EAS_OK) {
            fr->err = rc;
            fr->state = EAS_HTTP_FR_ERROR;
            break;
        }
    }
    if (consumed != NULL) {
        *consumed = i;
    }
    return rc;
}

int eas_http_framer_eof(eas_http_framer_t *fr)
{
    if (fr->err != EAS_OK) {
        return fr->err;
    }
    if (fr->state == EAS_HTTP_FR_BODY_CLOSE) {
        fr->state = EAS_HTTP_FR_DONE;
    }
    if (fr->state != EAS_HTTP_FR_DONE) {
        fr->err = EAS_ERR_HTTP_TRUNCATED;
        fr->state = EAS_HTTP_FR_ERROR;
        return fr->err;
    }
    return EAS_OK;
}

bool eas_http_framer_done(const eas_http_framer_t *fr)
{
    return fr->state == EAS_HTTP_FR_DONE;
}

bool eas_http_framer_head_done(const eas_http_framer_t *fr)
{
    return fr->state != EAS_HTTP_FR_STATUS && fr->state != EAS_HTTP_FR_HEADER &&
           fr->state != EAS_HTTP_FR_ERROR;
}
