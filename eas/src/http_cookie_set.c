/* SPDX-License-Identifier: Apache-2.0 */
/* Set-Cookie parsing (RFC 6265 5.2, with the Secure and prefix rules of its successor
 * draft): the attribute grammar, the cookie-date algorithm, the checks every field gets
 * before the jar (http_cookie.c) stores anything, and URL matching. Every byte comes from a
 * server or a file: a refused cookie leaves the jar as it was. */
#include <string.h>

#include "eas/eas_config_defaults.h"
#include "eas/eas_cookie.h"
#include "eas/eas_err.h"
#include "eas/eas_http.h"
#include "http_cookie_internal.h"
#include "http_internal.h"

#if CONFIG_EAS_HTTP_COOKIES

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static void trim(const char **s, size_t *len)
{
    while (*len > 0 && ((*s)[0] == ' ' || (*s)[0] == '\t')) {
        (*s)++;
        (*len)--;
    }
    while (*len > 0 && ((*s)[*len - 1] == ' ' || (*s)[*len - 1] == '\t')) {
        (*len)--;
    }
}

/* Printable ASCII without ';' (which would end the pair in the Cookie header) and without
 * tabs (the separator of the saved form). Bytes above 0x7E are refused: no server we
 * target needs them, and they would need an encoding decision. */
bool http_ck_value_ok(const char *v, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)v[i];
        if (c < 0x20 || c > 0x7E || c == ';') {
            return false;
        }
    }
    return true;
}

bool http_ck_name_ok(const char *n, size_t len)
{
    if (len == 0) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        if (!http_is_tchar(n[i])) {
            return false;
        }
    }
    return true;
}

bool http_ck_path_ok(const char *p, size_t len)
{
    return len > 0 && p[0] == '/' && http_ck_value_ok(p, len) && memchr(p, ' ', len) == NULL;
}

bool http_ck_domain_chars_ok(const char *d, size_t len)
{
    if (len == 0 || d[0] == '.' || d[len - 1] == '.') {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        char c = lc(d[i]);
        if (!((c >= 'a' && c <= 'z') || is_digit(c) || c == '-' || c == '.' || c == ':')) {
            return false;
        }
        if (c == '.' && i + 1 < len && d[i + 1] == '.') {
            return false;
        }
    }
    return true;
}

static bool is_ip_literal(const char *h, size_t len)
{
    if (memchr(h, ':', len) != NULL) {
        return true; /* IPv6 (the URL parser strips the brackets) */
    }
    for (size_t i = 0; i < len; i++) {
        if (!is_digit(h[i]) && h[i] != '.') {
            return false;
        }
    }
    return len > 0;
}

/* RFC 6265 5.1.3: host equals domain, or ends with "." + domain and is not an IP address. */
bool http_ck_domain_match(const char *host, size_t hlen, const char *dom, size_t dlen)
{
    if (http_eq_nocase(host, hlen, dom, dlen)) {
        return true;
    }
    if (hlen <= dlen + 1 || is_ip_literal(host, hlen)) {
        return false;
    }
    return host[hlen - dlen - 1] == '.' && http_eq_nocase(host + hlen - dlen, dlen, dom, dlen);
}

/* RFC 6265 5.1.4. */
bool http_ck_path_match(const char *req, size_t rlen, const char *cp, size_t clen)
{
    if (clen > rlen || memcmp(req, cp, clen) != 0) {
        return false;
    }
    return clen == rlen || cp[clen - 1] == '/' || req[clen] == '/';
}

/* The request URL's host and path (without query); path "/" when empty. */
int http_ck_target_of(const char *url, target_t *t)
{
    eas_url_t u;
    int rc = eas_url_parse(url, &u);
    if (rc != EAS_OK) {
        return rc;
    }
    t->host = url + u.host_off;
    t->host_len = u.host_len;
    t->tls = u.tls != 0;
    t->path = url + u.path_off;
    t->path_len = u.path_len;
    const char *q = memchr(t->path, '?', t->path_len);
    if (q != NULL) {
        t->path_len = (size_t)(q - t->path);
    }
    if (t->path_len == 0 || t->path[0] != '/') {
        t->path = "/";
        t->path_len = 1;
    }
    return EAS_OK;
}

/* ---- dates (RFC 6265 5.1.1) ---- */

static bool date_delim(unsigned char c)
{
    return c == 0x09 || (c >= 0x20 && c <= 0x2F) || (c >= 0x3B && c <= 0x40) ||
           (c >= 0x5B && c <= 0x60) || (c >= 0x7B && c <= 0x7E);
}

/* 1..max digits at s, followed by the end or a non-digit. */
static size_t lead_digits(const char *s, size_t len, size_t min, size_t max, int *out)
{
    size_t n = 0;
    int v = 0;
    while (n < len && is_digit(s[n])) {
        if (n == max) {
            return 0;
        }
        v = v * 10 + (s[n] - '0');
        n++;
    }
    if (n < min) {
        return 0;
    }
    *out = v;
    return n;
}

static bool date_time(const char *s, size_t len, int *h, int *mi, int *se)
{
    size_t a = lead_digits(s, len, 1, 2, h);
    if (a == 0 || a >= len || s[a] != ':') {
        return false;
    }
    size_t b = lead_digits(s + a + 1, len - a - 1, 1, 2, mi);
    if (b == 0 || a + 1 + b >= len || s[a + 1 + b] != ':') {
        return false;
    }
    return lead_digits(s + a + b + 2, len - a - b - 2, 1, 2, se) != 0;
}

int eas_cookie_parse_date(const char *s, size_t len, int64_t *out)
{
    static const char months[] = "janfebmaraprmayjunjulaugsepoctnovdec";
    bool have_time = false;
    bool have_day = false;
    bool have_month = false;
    bool have_year = false;
    int h = 0;
    int mi = 0;
    int se = 0;
    int day = 0;
    int mon = 0;
    int year = 0;
    size_t i = 0;

    if (s == NULL || out == NULL) {
        return EAS_ERR_PARAM;
    }
    while (i < len) {
        while (i < len && date_delim((unsigned char)s[i])) {
            i++;
        }
        size_t start = i;
        while (i < len && !date_delim((unsigned char)s[i])) {
            i++;
        }
        const char *tok = s + start;
        size_t tlen = i - start;
        if (tlen == 0) {
            continue;
        }
        if (!have_time && date_time(tok, tlen, &h, &mi, &se)) {
            have_time = true;
        } else if (!have_day && lead_digits(tok, tlen, 1, 2, &day) != 0) {
            have_day = true;
        } else if (!have_month && tlen >= 3) {
            for (int m = 0; m < 12; m++) {
                if (lc(tok[0]) == months[3 * m] && lc(tok[1]) == months[3 * m + 1] &&
                    lc(tok[2]) == months[3 * m + 2]) {
                    mon = m + 1;
                    have_month = true;
                    break;
                }
            }
            if (!have_month && !have_year && lead_digits(tok, tlen, 2, 4, &year) != 0) {
                have_year = true;
            }
        } else if (!have_year && lead_digits(tok, tlen, 2, 4, &year) != 0) {
            have_year = true;
        }
    }
    if (!have_time || !have_day || !have_month || !have_year) {
        return EAS_ERR_FORMAT;
    }
    if (year >= 70 && year <= 99) {
        year += 1900;
    } else if (year >= 0 && year <= 69) {
        year += 2000;
    }
    static const uint8_t mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    if (year < 1601 || day < 1 || day > mdays[mon - 1] || (mon == 2 && day == 29 && !leap) ||
        h > 23 || mi > 59 || se > 59) {
        return EAS_ERR_FORMAT;
    }
    *out =
        http_days_from_civil(year, (unsigned)mon, (unsigned)day) * 86400 + h * 3600 + mi * 60 + se;
    return EAS_OK;
}

bool http_ck_prefix_rules_ok(const cookie_t *c, bool had_domain)
{
    if (c->name_len >= 9 && memcmp(c->name, "__Secure-", 9) == 0) {
        return (c->flags & CK_SECURE) != 0;
    }
    if (c->name_len >= 7 && memcmp(c->name, "__Host-", 7) == 0) {
        return (c->flags & CK_SECURE) != 0 && !had_domain && c->path_len == 1 && c->path[0] == '/';
    }
    return true;
}

bool http_ck_parse_i64(const char *s, size_t len, int64_t *out)
{
    bool neg = false;
    int64_t v = 0;
    if (len > 0 && s[0] == '-') {
        neg = true;
        s++;
        len--;
    }
    if (len == 0) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        if (!is_digit(s[i])) {
            return false;
        }
        if (v < CK_MAX_AGE_S * 10) {
            v = v * 10 + (s[i] - '0'); /* larger values saturate below */
        }
    }
    *out = neg ? -v : v;
    return true;
}

int eas_cookie_set(eas_cookie_jar_t *jar, const char *request_url, const char *value, size_t len,
                   int64_t now)
{
    target_t t;
    cookie_t c;
    bool had_domain = false;
    bool have_max_age = false;
    int64_t max_age = 0;
    int64_t expires = 0;
    bool have_expires = false;

    if (jar == NULL || jar->mem == NULL || request_url == NULL || (value == NULL && len > 0)) {
        return EAS_ERR_PARAM;
    }
    int rc = http_ck_target_of(request_url, &t);
    if (rc != EAS_OK) {
        return rc;
    }
    memset(&c, 0, sizeof(c));

    const char *semi = memchr(value, ';', len);
    size_t pair_len = semi != NULL ? (size_t)(semi - value) : len;
    const char *eq = memchr(value, '=', pair_len);
    if (eq == NULL) {
        return EAS_ERR_FORMAT;
    }
    c.name = value;
    c.name_len = (size_t)(eq - value);
    trim(&c.name, &c.name_len);
    c.value = eq + 1;
    c.value_len = (size_t)(value + pair_len - c.value);
    trim(&c.value, &c.value_len);
    if (!http_ck_name_ok(c.name, c.name_len) || !http_ck_value_ok(c.value, c.value_len)) {
        return EAS_ERR_FORMAT;
    }

    /* Attributes. */
    const char *p = semi;
    size_t rest = semi != NULL ? len - pair_len : 0;
    while (rest > 0) {
        p++;
        rest--;
        const char *next = memchr(p, ';', rest);
        size_t alen = next != NULL ? (size_t)(next - p) : rest;
        const char *an = p;
        size_t anl = alen;
        const char *av = "";
        size_t avl = 0;
        const char *aeq = memchr(p, '=', alen);
        if (aeq != NULL) {
            anl = (size_t)(aeq - p);
            av = aeq + 1;
            avl = alen - anl - 1;
        }
        trim(&an, &anl);
        trim(&av, &avl);
        if (!http_ck_value_ok(av, avl)) {
            return EAS_ERR_FORMAT;
        }
        if (http_eq_nocase(an, anl, "expires", 7)) {
            int64_t when = 0;
            if (eas_cookie_parse_date(av, avl, &when) == EAS_OK) {
                expires = when;
                have_expires = true;
            } /* an unparsable Expires is ignored (5.2.1) */
        } else if (http_eq_nocase(an, anl, "max-age", 7)) {
            if (http_ck_parse_i64(av, avl, &max_age)) {
                have_max_age = true;
            }
        } else if (http_eq_nocase(an, anl, "domain", 6)) {
            if (avl > 0 && av[0] == '.') {
                av++;
                avl--;
            }
            if (avl == 0) {
                had_domain = false; /* empty: ignored (5.2.3) */
                c.domain_len = 0;
            } else {
                if (avl >= sizeof(c.domain) || !http_ck_domain_chars_ok(av, avl)) {
                    return EAS_ERR_FORMAT;
                }
                for (size_t i = 0; i < avl; i++) {
                    c.domain[i] = lc(av[i]);
                }
                c.domain_len = avl;
                had_domain = true;
            }
        } else if (http_eq_nocase(an, anl, "path", 4)) {
            if (avl > 0 && av[0] == '/') {
                if (!http_ck_path_ok(av, avl)) {
                    return EAS_ERR_FORMAT;
                }
                c.path = av;
                c.path_len = avl;
            } else {
                c.path = NULL; /* not absolute: the default path (5.2.4) */
                c.path_len = 0;
            }
        } else if (http_eq_nocase(an, anl, "secure", 6)) {
            c.flags |= CK_SECURE;
        }
        /* HttpOnly, SameSite and unknown attributes mean nothing to this client. */
        p += alen;
        rest -= alen;
    }

    /* Lifetime: Max-Age wins over Expires (5.3 step 3). */
    if (have_max_age) {
        c.flags |= CK_PERSISTENT;
        if (max_age > CK_MAX_AGE_S) {
            max_age = CK_MAX_AGE_S;
        }
        c.expires = max_age <= 0 ? INT64_MIN : now + max_age;
    } else if (have_expires) {
        c.flags |= CK_PERSISTENT;
        c.expires = expires > now + CK_MAX_AGE_S ? now + CK_MAX_AGE_S : expires;
    }

    /* Domain (5.3 steps 5-6; no public suffix list: a dotless domain must be the host). */
    if (had_domain) {
        if (!http_ck_domain_match(t.host, t.host_len, c.domain, c.domain_len)) {
            return EAS_ERR_FORMAT;
        }
        if (memchr(c.domain, '.', c.domain_len) == NULL &&
            !http_eq_nocase(t.host, t.host_len, c.domain, c.domain_len)) {
            return EAS_ERR_FORMAT;
        }
        if (is_ip_literal(t.host, t.host_len) &&
            !http_eq_nocase(t.host, t.host_len, c.domain, c.domain_len)) {
            return EAS_ERR_FORMAT;
        }
    } else {
        if (t.host_len >= sizeof(c.domain)) {
            return EAS_ERR_FORMAT;
        }
        for (size_t i = 0; i < t.host_len; i++) {
            c.domain[i] = lc(t.host[i]);
        }
        c.domain_len = t.host_len;
        c.flags |= CK_HOST_ONLY;
    }

    /* Default path (5.1.4): the request path up to, not including, its last '/'. */
    if (c.path == NULL) {
        const char *last = NULL;
        for (size_t i = 0; i < t.path_len; i++) {
            if (t.path[i] == '/') {
                last = t.path + i;
            }
        }
        c.path = t.path;
        c.path_len = (last == NULL || last == t.path) ? 1 : (size_t)(last - t.path);
        if (!http_ck_path_ok(c.path, c.path_len)) {
            c.path = "/";
            c.path_len = 1;
        }
    }

    /* A Secure cookie only from a secure origin; prefix rules. */
    if ((c.flags & CK_SECURE) != 0 && !t.tls) {
        return EAS_ERR_FORMAT;
    }
    if (!http_ck_prefix_rules_ok(&c, had_domain)) {
        return EAS_ERR_FORMAT;
    }
    return http_ck_store(jar, &c, now);
}

#else /* !CONFIG_EAS_HTTP_COOKIES */

/* Without the jar (see http_cookie.c): a Set-Cookie is refused, dates are not parsed. */
int eas_cookie_set(eas_cookie_jar_t *jar, const char *request_url, const char *value, size_t len,
                   int64_t now)
{
    (void)jar;
    (void)request_url;
    (void)value;
    (void)len;
    (void)now;
    return EAS_ERR_UNSUPPORTED;
}

int eas_cookie_parse_date(const char *s, size_t len, int64_t *out)
{
    (void)s;
    (void)len;
    (void)out;
    return EAS_ERR_UNSUPPORTED;
}

#endif /* CONFIG_EAS_HTTP_COOKIES */
