/* SPDX-License-Identifier: Apache-2.0 */
/* Bounded cookie jar (RFC 6265, with the Secure and prefix rules of its successor draft).
 *
 * Fixed-size slots in caller memory: a slot holds a small header and the cookie's name,
 * value, domain and path back to back. Every byte comes from a server or a file, so every
 * field is checked before anything is stored, and a refused cookie leaves the jar as it was. */
#include <string.h>

#include "eas/eas_config_defaults.h"
#include "eas/eas_cookie.h"
#include "eas/eas_err.h"
#include "eas/eas_http.h"

#if CONFIG_EAS_HTTP_COOKIES

#define CK_USED       0x01u
#define CK_SECURE     0x02u
#define CK_HOST_ONLY  0x04u
#define CK_PERSISTENT 0x08u

/* Longest lifetime accepted, as browsers cap it (400 days): a server cannot pin a cookie
 * for ever, and the arithmetic below cannot overflow. */
#define CK_MAX_AGE_S (400LL * 86400LL)

typedef struct slot {
    int64_t expires; /* UTC seconds; meaningful with CK_PERSISTENT */
    uint32_t seq;    /* creation order */
    uint16_t name_len;
    uint16_t value_len;
    uint16_t domain_len;
    uint16_t path_len;
    uint8_t flags;
    uint8_t pad[3];
} slot_t;

_Static_assert(sizeof(slot_t) == EAS_COOKIE_SLOT_HEADER, "slot header size");
_Static_assert(CONFIG_EAS_COOKIE_SIZE <= 0xFFFF, "lengths are 16 bits");

/* A cookie being built: views into the input, not yet stored. */
typedef struct cookie {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
    char domain[256];
    size_t domain_len;
    const char *path;
    size_t path_len;
    int64_t expires;
    uint8_t flags;
} cookie_t;

static slot_t *slot_at(const eas_cookie_jar_t *jar, size_t i)
{
    return (slot_t *)(void *)(jar->mem + i * EAS_COOKIE_SLOT_SIZE);
}

static const char *slot_text(const slot_t *s)
{
    return (const char *)(s + 1);
}

static bool expired(const slot_t *s, int64_t now)
{
    return (s->flags & CK_PERSISTENT) != 0 && s->expires <= now;
}

static char lc(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static bool eq_nocase(const char *a, size_t alen, const char *b, size_t blen)
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

static bool is_tchar(char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
        return true;
    }
    return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

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
static bool value_ok(const char *v, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)v[i];
        if (c < 0x20 || c > 0x7E || c == ';') {
            return false;
        }
    }
    return true;
}

static bool name_ok(const char *n, size_t len)
{
    if (len == 0) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        if (!is_tchar(n[i])) {
            return false;
        }
    }
    return true;
}

static bool path_ok(const char *p, size_t len)
{
    return len > 0 && p[0] == '/' && value_ok(p, len) && memchr(p, ' ', len) == NULL;
}

static bool domain_chars_ok(const char *d, size_t len)
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
static bool domain_match(const char *host, size_t hlen, const char *dom, size_t dlen)
{
    if (eq_nocase(host, hlen, dom, dlen)) {
        return true;
    }
    if (hlen <= dlen + 1 || is_ip_literal(host, hlen)) {
        return false;
    }
    return host[hlen - dlen - 1] == '.' && eq_nocase(host + hlen - dlen, dlen, dom, dlen);
}

/* RFC 6265 5.1.4. */
static bool path_match(const char *req, size_t rlen, const char *cp, size_t clen)
{
    if (clen > rlen || memcmp(req, cp, clen) != 0) {
        return false;
    }
    return clen == rlen || cp[clen - 1] == '/' || req[clen] == '/';
}

/* The request URL's host and path (without query); path "/" when empty. */
typedef struct target {
    const char *host;
    size_t host_len;
    const char *path;
    size_t path_len;
    bool tls;
} target_t;

static int target_of(const char *url, target_t *t)
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

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2 ? 1 : 0;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153u * (m > 2 ? m - 3 : m + 9) + 2u) / 5u + d - 1u;
    const unsigned doe = yoe * 365u + yoe / 4u - yoe / 100u + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

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
    *out = days_from_civil(year, (unsigned)mon, (unsigned)day) * 86400 + h * 3600 + mi * 60 + se;
    return EAS_OK;
}

/* ---- jar ---- */

int eas_cookie_jar_init(eas_cookie_jar_t *jar, void *mem, size_t mem_len)
{
    if (jar == NULL || mem == NULL || ((uintptr_t)mem & 7u) != 0) {
        return EAS_ERR_PARAM;
    }
    size_t n = mem_len / EAS_COOKIE_SLOT_SIZE;
    if (n == 0) {
        return EAS_ERR_NOMEM;
    }
    if (n > CONFIG_EAS_COOKIE_MAX) {
        n = CONFIG_EAS_COOKIE_MAX;
    }
    memset(jar, 0, sizeof(*jar));
    jar->mem = mem;
    jar->slots = (uint16_t)n;
    memset(mem, 0, n * EAS_COOKIE_SLOT_SIZE);
    return EAS_OK;
}

size_t eas_cookie_jar_slots(const eas_cookie_jar_t *jar)
{
    return jar != NULL ? jar->slots : 0;
}

void eas_cookie_jar_clear(eas_cookie_jar_t *jar)
{
    if (jar == NULL || jar->mem == NULL) {
        return;
    }
    memset(jar->mem, 0, (size_t)jar->slots * EAS_COOKIE_SLOT_SIZE);
    jar->changed = 1;
}

size_t eas_cookie_jar_count(const eas_cookie_jar_t *jar, int64_t now)
{
    size_t n = 0;
    for (size_t i = 0; jar != NULL && i < jar->slots; i++) {
        const slot_t *s = slot_at(jar, i);
        if ((s->flags & CK_USED) != 0 && !expired(s, now)) {
            n++;
        }
    }
    return n;
}

bool eas_cookie_jar_take_changed(eas_cookie_jar_t *jar)
{
    bool c = jar != NULL && jar->changed != 0;
    if (jar != NULL) {
        jar->changed = 0;
    }
    return c;
}

static bool same_key(const slot_t *s, const cookie_t *c)
{
    const char *t = slot_text(s);
    return s->name_len == c->name_len && memcmp(t, c->name, c->name_len) == 0 &&
           s->domain_len == c->domain_len &&
           memcmp(t + s->name_len + s->value_len, c->domain, c->domain_len) == 0 &&
           s->path_len == c->path_len &&
           memcmp(t + s->name_len + s->value_len + s->domain_len, c->path, c->path_len) == 0;
}

/* Store, replace or (if expired) remove. The cookie has been fully validated. */
static int store(eas_cookie_jar_t *jar, const cookie_t *c, int64_t now)
{
    size_t total = c->name_len + c->value_len + c->domain_len + c->path_len;
    if (total > CONFIG_EAS_COOKIE_SIZE) {
        return EAS_ERR_LIMIT;
    }
    slot_t *target = NULL;
    slot_t *free_slot = NULL;
    slot_t *stale = NULL;
    slot_t *oldest = NULL;
    for (size_t i = 0; i < jar->slots; i++) {
        slot_t *s = slot_at(jar, i);
        if ((s->flags & CK_USED) == 0) {
            if (free_slot == NULL) {
                free_slot = s;
            }
            continue;
        }
        if (same_key(s, c)) {
            target = s;
        } else if (expired(s, now)) {
            stale = stale == NULL ? s : stale;
        } else if (oldest == NULL || s->seq < oldest->seq) {
            oldest = s;
        }
    }
    bool dead = (c->flags & CK_PERSISTENT) != 0 && c->expires <= now;
    uint32_t seq;
    if (target != NULL) {
        seq = target->seq; /* a replaced cookie keeps its creation time (5.3 step 11) */
        memset(target, 0, EAS_COOKIE_SLOT_SIZE);
        jar->changed = 1;
        if (dead) {
            return EAS_OK;
        }
    } else {
        if (dead) {
            return EAS_OK; /* deleting a cookie we do not have */
        }
        target = free_slot != NULL ? free_slot : stale != NULL ? stale : oldest;
        if (target == NULL) {
            return EAS_ERR_LIMIT; /* cannot happen with at least one slot */
        }
        seq = ++jar->seq;
        memset(target, 0, EAS_COOKIE_SLOT_SIZE);
    }
    target->expires = (c->flags & CK_PERSISTENT) != 0 ? c->expires : 0;
    target->seq = seq;
    target->flags = (uint8_t)(c->flags | CK_USED);
    target->name_len = (uint16_t)c->name_len;
    target->value_len = (uint16_t)c->value_len;
    target->domain_len = (uint16_t)c->domain_len;
    target->path_len = (uint16_t)c->path_len;
    char *t = (char *)(target + 1);
    memcpy(t, c->name, c->name_len);
    t += c->name_len;
    memcpy(t, c->value, c->value_len);
    t += c->value_len;
    memcpy(t, c->domain, c->domain_len);
    t += c->domain_len;
    memcpy(t, c->path, c->path_len);
    jar->changed = 1;
    return EAS_OK;
}

static bool prefix_rules_ok(const cookie_t *c, bool had_domain)
{
    if (c->name_len >= 9 && memcmp(c->name, "__Secure-", 9) == 0) {
        return (c->flags & CK_SECURE) != 0;
    }
    if (c->name_len >= 7 && memcmp(c->name, "__Host-", 7) == 0) {
        return (c->flags & CK_SECURE) != 0 && !had_domain && c->path_len == 1 &&
               c->path[0] == '/';
    }
    return true;
}

static bool parse_i64(const char *s, size_t len, int64_t *out)
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
    int rc = target_of(request_url, &t);
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
    if (!name_ok(c.name, c.name_len) || !value_ok(c.value, c.value_len)) {
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
        if (!value_ok(av, avl)) {
            return EAS_ERR_FORMAT;
        }
        if (eq_nocase(an, anl, "expires", 7)) {
            int64_t when = 0;
            if (eas_cookie_parse_date(av, avl, &when) == EAS_OK) {
                expires = when;
                have_expires = true;
            } /* an unparsable Expires is ignored (5.2.1) */
        } else if (eq_nocase(an, anl, "max-age", 7)) {
            if (parse_i64(av, avl, &max_age)) {
                have_max_age = true;
            }
        } else if (eq_nocase(an, anl, "domain", 6)) {
            if (avl > 0 && av[0] == '.') {
                av++;
                avl--;
            }
            if (avl == 0) {
                had_domain = false; /* empty: ignored (5.2.3) */
                c.domain_len = 0;
            } else {
                if (avl >= sizeof(c.domain) || !domain_chars_ok(av, avl)) {
                    return EAS_ERR_FORMAT;
                }
                for (size_t i = 0; i < avl; i++) {
                    c.domain[i] = lc(av[i]);
                }
                c.domain_len = avl;
                had_domain = true;
            }
        } else if (eq_nocase(an, anl, "path", 4)) {
            if (avl > 0 && av[0] == '/') {
                if (!path_ok(av, avl)) {
                    return EAS_ERR_FORMAT;
                }
                c.path = av;
                c.path_len = avl;
            } else {
                c.path = NULL; /* not absolute: the default path (5.2.4) */
                c.path_len = 0;
            }
        } else if (eq_nocase(an, anl, "secure", 6)) {
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
        if (!domain_match(t.host, t.host_len, c.domain, c.domain_len)) {
            return EAS_ERR_FORMAT;
        }
        if (memchr(c.domain, '.', c.domain_len) == NULL &&
            !eq_nocase(t.host, t.host_len, c.domain, c.domain_len)) {
            return EAS_ERR_FORMAT;
        }
        if (is_ip_literal(t.host, t.host_len) &&
            !eq_nocase(t.host, t.host_len, c.domain, c.domain_len)) {
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
        if (!path_ok(c.path, c.path_len)) {
            c.path = "/";
            c.path_len = 1;
        }
    }

    /* A Secure cookie only from a secure origin; prefix rules. */
    if ((c.flags & CK_SECURE) != 0 && !t.tls) {
        return EAS_ERR_FORMAT;
    }
    if (!prefix_rules_ok(&c, had_domain)) {
        return EAS_ERR_FORMAT;
    }
    return store(jar, &c, now);
}

int eas_cookie_header(const eas_cookie_jar_t *jar, const char *url, int64_t now,
                      eas_cookie_write_fn write, void *ctx, size_t *count)
{
    target_t t;
    uint16_t pick[CONFIG_EAS_COOKIE_MAX];
    size_t n = 0;

    if (count != NULL) {
        *count = 0;
    }
    if (jar == NULL || jar->mem == NULL || url == NULL || write == NULL) {
        return EAS_ERR_PARAM;
    }
    int rc = target_of(url, &t);
    if (rc != EAS_OK) {
        return rc;
    }
    for (size_t i = 0; i < jar->slots; i++) {
        const slot_t *s = slot_at(jar, i);
        if ((s->flags & CK_USED) == 0 || expired(s, now)) {
            continue;
        }
        const char *txt = slot_text(s);
        const char *dom = txt + s->name_len + s->value_len;
        const char *path = dom + s->domain_len;
        bool dom_ok = (s->flags & CK_HOST_ONLY) != 0
                          ? eq_nocase(t.host, t.host_len, dom, s->domain_len)
                          : domain_match(t.host, t.host_len, dom, s->domain_len);
        if (!dom_ok || !path_match(t.path, t.path_len, path, s->path_len) ||
            ((s->flags & CK_SECURE) != 0 && !t.tls)) {
            continue;
        }
        /* Insertion sort: longer path first, then older first. */
        size_t k = n;
        while (k > 0) {
            const slot_t *o = slot_at(jar, pick[k - 1]);
            bool before = s->path_len > o->path_len ||
                          (s->path_len == o->path_len && s->seq < o->seq);
            if (!before) {
                break;
            }
            pick[k] = pick[k - 1];
            k--;
        }
        pick[k] = (uint16_t)i;
        n++;
    }
    for (size_t k = 0; k < n; k++) {
        const slot_t *s = slot_at(jar, pick[k]);
        const char *txt = slot_text(s);
        if (k > 0) {
            rc = write(ctx, (const uint8_t *)"; ", 2);
        }
        if (rc == EAS_OK) {
            rc = write(ctx, (const uint8_t *)txt, s->name_len);
        }
        if (rc == EAS_OK) {
            rc = write(ctx, (const uint8_t *)"=", 1);
        }
        if (rc == EAS_OK) {
            rc = write(ctx, (const uint8_t *)txt + s->name_len, s->value_len);
        }
        if (rc != EAS_OK) {
            return rc;
        }
    }
    if (count != NULL) {
        *count = n;
    }
    return EAS_OK;
}

/* ---- persistence ---- */

static const char k_magic[] = "easd-cookies 1\n";

static int put_i64(eas_cookie_write_fn write, void *ctx, int64_t v)
{
    char buf[24];
    size_t n = sizeof(buf);
    bool neg = v < 0;
    uint64_t u = neg ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        buf[--n] = (char)('0' + (u % 10u));
        u /= 10u;
    } while (u != 0);
    if (neg) {
        buf[--n] = '-';
    }
    return write(ctx, (const uint8_t *)buf + n, sizeof(buf) - n);
}

int eas_cookie_jar_save(const eas_cookie_jar_t *jar, int64_t now, eas_cookie_write_fn write,
                        void *ctx)
{
    if (jar == NULL || jar->mem == NULL || write == NULL) {
        return EAS_ERR_PARAM;
    }
    int rc = write(ctx, (const uint8_t *)k_magic, sizeof(k_magic) - 1);
    /* In creation order, so a reload keeps the relative order of the Cookie header. */
    uint32_t last = 0;
    for (size_t done = 0; rc == EAS_OK && done < jar->slots; done++) {
        const slot_t *next = NULL;
        for (size_t i = 0; i < jar->slots; i++) {
            const slot_t *s = slot_at(jar, i);
            if ((s->flags & CK_USED) != 0 && s->seq > last &&
                (next == NULL || s->seq < next->seq)) {
                next = s;
            }
        }
        if (next == NULL) {
            break;
        }
        last = next->seq;
        if (expired(next, now)) {
            continue;
        }
        const char *txt = slot_text(next);
        const char *dom = txt + next->name_len + next->value_len;
        const char *path = dom + next->domain_len;
        rc = write(ctx, (const uint8_t *)dom, next->domain_len);
        if (rc == EAS_OK) {
            rc = write(ctx, (const uint8_t *)((next->flags & CK_HOST_ONLY) ? "\t1\t" : "\t0\t"),
                       3);
        }
        if (rc == EAS_OK) {
            rc = write(ctx, (const uint8_t *)path, next->path_len);
        }
        if (rc == EAS_OK) {
            rc = write(ctx, (const uint8_t *)((next->flags & CK_SECURE) ? "\t1\t" : "\t0\t"), 3);
        }
        if (rc == EAS_OK) {
            rc = put_i64(write, ctx, (next->flags & CK_PERSISTENT) ? next->expires : 0);
        }
        if (rc == EAS_OK) {
            rc = write(ctx, (const uint8_t *)"\t", 1);
        }
        if (rc == EAS_OK) {
            rc = write(ctx, (const uint8_t *)txt, next->name_len);
        }
        if (rc == EAS_OK) {
            rc = write(ctx, (const uint8_t *)"\t", 1);
        }
        if (rc == EAS_OK) {
            rc = write(ctx, (const uint8_t *)txt + next->name_len, next->value_len);
        }
        if (rc == EAS_OK) {
            rc = write(ctx, (const uint8_t *)"\n", 1);
        }
    }
    return rc;
}

/* One saved line: domain, host-only, path, secure, expiry, name, value. */
static int load_line(eas_cookie_jar_t *jar, const char *line, size_t len, int64_t now)
{
    const char *f[7];
    size_t fl[7];
    size_t k = 0;
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || line[i] == '\t') {
            if (k == 7) {
                return EAS_ERR_FORMAT;
            }
            f[k] = line + start;
            fl[k] = i - start;
            k++;
            start = i + 1;
        }
    }
    if (k != 7) {
        return EAS_ERR_FORMAT;
    }
    cookie_t c;
    memset(&c, 0, sizeof(c));
    if (fl[0] >= sizeof(c.domain) || !domain_chars_ok(f[0], fl[0]) || fl[1] != 1 ||
        (f[1][0] != '0' && f[1][0] != '1') || !path_ok(f[2], fl[2]) || fl[3] != 1 ||
        (f[3][0] != '0' && f[3][0] != '1') || !name_ok(f[5], fl[5]) || !value_ok(f[6], fl[6])) {
        return EAS_ERR_FORMAT;
    }
    int64_t exp = 0;
    if (!parse_i64(f[4], fl[4], &exp)) {
        return EAS_ERR_FORMAT;
    }
    for (size_t i = 0; i < fl[0]; i++) {
        c.domain[i] = lc(f[0][i]);
    }
    c.domain_len = fl[0];
    c.path = f[2];
    c.path_len = fl[2];
    c.name = f[5];
    c.name_len = fl[5];
    c.value = f[6];
    c.value_len = fl[6];
    c.flags = (uint8_t)((f[1][0] == '1' ? CK_HOST_ONLY : 0) | (f[3][0] == '1' ? CK_SECURE : 0));
    if (exp != 0) {
        if (exp <= now) {
            return EAS_OK; /* expired while saved */
        }
        c.flags |= CK_PERSISTENT;
        c.expires = exp > now + CK_MAX_AGE_S ? now + CK_MAX_AGE_S : exp;
    }
    if (!prefix_rules_ok(&c, (c.flags & CK_HOST_ONLY) == 0)) {
        return EAS_ERR_FORMAT;
    }
    return store(jar, &c, now);
}

int eas_cookie_jar_load(eas_cookie_jar_t *jar, const char *text, size_t len, int64_t now)
{
    if (jar == NULL || jar->mem == NULL || (text == NULL && len > 0)) {
        return EAS_ERR_PARAM;
    }
    eas_cookie_jar_clear(jar);
    jar->seq = 0;
    size_t mlen = sizeof(k_magic) - 1;
    if (len < mlen || memcmp(text, k_magic, mlen) != 0) {
        return EAS_ERR_FORMAT;
    }
    size_t pos = mlen;
    size_t lines = 0;
    while (pos < len) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        if (nl == NULL) {
            eas_cookie_jar_clear(jar);
            return EAS_ERR_FORMAT; /* a truncated file is not half used */
        }
        size_t llen = (size_t)(nl - (text + pos));
        if (++lines > jar->slots) {
            eas_cookie_jar_clear(jar);
            return EAS_ERR_LIMIT; /* more than we could ever have written */
        }
        int rc = load_line(jar, text + pos, llen, now);
        if (rc != EAS_OK) {
            eas_cookie_jar_clear(jar);
            return rc;
        }
        pos += llen + 1;
    }
    return EAS_OK;
}

#else /* !CONFIG_EAS_HTTP_COOKIES */

/* Built without the cookie jar (small targets talking to servers that need no cookies):
 * a jar is inert - it keeps nothing, a Set-Cookie is refused with EAS_ERR_UNSUPPORTED (the
 * HTTP client logs and ignores it), no Cookie header is ever written. */
int eas_cookie_jar_init(eas_cookie_jar_t *jar, void *mem, size_t mem_len)
{
    (void)mem_len;
    if (jar == NULL) {
        return EAS_ERR_PARAM;
    }
    memset(jar, 0, sizeof(*jar));
    jar->mem = mem;
    return EAS_OK;
}

size_t eas_cookie_jar_slots(const eas_cookie_jar_t *jar)
{
    (void)jar;
    return 0;
}

void eas_cookie_jar_clear(eas_cookie_jar_t *jar)
{
    (void)jar;
}

size_t eas_cookie_jar_count(const eas_cookie_jar_t *jar, int64_t now)
{
    (void)jar;
    (void)now;
    return 0;
}

bool eas_cookie_jar_take_changed(eas_cookie_jar_t *jar)
{
    (void)jar;
    return false;
}

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

int eas_cookie_header(const eas_cookie_jar_t *jar, const char *url, int64_t now,
                      eas_cookie_write_fn write, void *ctx, size_t *count)
{
    (void)jar;
    (void)url;
    (void)now;
    (void)write;
    (void)ctx;
    if (count != NULL) {
        *count = 0;
    }
    return EAS_OK;
}

int eas_cookie_jar_save(const eas_cookie_jar_t *jar, int64_t now, eas_cookie_write_fn write,
                        void *ctx)
{
    (void)jar;
    (void)now;
    (void)write;
    (void)ctx;
    return EAS_OK;
}

int eas_cookie_jar_load(eas_cookie_jar_t *jar, const char *text, size_t len, int64_t now)
{
    (void)jar;
    (void)text;
    (void)len;
    (void)now;
    return EAS_OK;
}

int eas_cookie_parse_date(const char *s, size_t len, int64_t *out)
{
    (void)s;
    (void)len;
    (void)out;
    return EAS_ERR_UNSUPPORTED;
}

#endif /* CONFIG_EAS_HTTP_COOKIES */
