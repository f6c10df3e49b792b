/* SPDX-License-Identifier: Apache-2.0 */
/* Bounded cookie jar (RFC 6265): fixed-size slots in caller memory, the Cookie header for a
 * request, and the saved text form. A slot holds a small header and the cookie's name,
 * value, domain and path back to back. Parsing Set-Cookie and the field checks are in
 * http_cookie_set.c; a saved jar being loaded gets the same checks. */
#include <string.h>

#include "eas/eas_config_defaults.h"
#include "eas/eas_cookie.h"
#include "eas/eas_err.h"
#include "eas/eas_http.h"
#include "http_cookie_internal.h"
#include "http_internal.h"

#if CONFIG_EAS_HTTP_COOKIES

_Static_assert(sizeof(slot_t) == EAS_COOKIE_SLOT_HEADER, "slot header size");
_Static_assert(CONFIG_EAS_COOKIE_SIZE <= 0xFFFF, "lengths are 16 bits");

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
int http_ck_store(eas_cookie_jar_t *jar, const cookie_t *c, int64_t now)
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
    int rc = http_ck_target_of(url, &t);
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
                          ? http_eq_nocase(t.host, t.host_len, dom, s->domain_len)
                          : http_ck_domain_match(t.host, t.host_len, dom, s->domain_len);
        if (!dom_ok || !http_ck_path_match(t.path, t.path_len, path, s->path_len) ||
            ((s->flags & CK_SECURE) != 0 && !t.tls)) {
            continue;
        }
        /* Insertion sort: longer path first, then older first. */
        size_t k = n;
        while (k > 0) {
            const slot_t *o = slot_at(jar, pick[k - 1]);
            bool before =
                s->path_len > o->path_len || (s->path_len == o->path_len && s->seq < o->seq);
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
            rc = write(ctx, (const uint8_t *)((next->flags & CK_HOST_ONLY) ? "\t1\t" : "\t0\t"), 3);
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
    if (fl[0] >= sizeof(c.domain) || !http_ck_domain_chars_ok(f[0], fl[0]) || fl[1] != 1 ||
        (f[1][0] != '0' && f[1][0] != '1') || !http_ck_path_ok(f[2], fl[2]) || fl[3] != 1 ||
        (f[3][0] != '0' && f[3][0] != '1') || !http_ck_name_ok(f[5], fl[5]) ||
        !http_ck_value_ok(f[6], fl[6])) {
        return EAS_ERR_FORMAT;
    }
    int64_t exp = 0;
    if (!http_ck_parse_i64(f[4], fl[4], &exp)) {
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
    if (!http_ck_prefix_rules_ok(&c, (c.flags & CK_HOST_ONLY) == 0)) {
        return EAS_ERR_FORMAT;
    }
    return http_ck_store(jar, &c, now);
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

#endif /* CONFIG_EAS_HTTP_COOKIES */
