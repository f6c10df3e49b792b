/* SPDX-License-Identifier: Apache-2.0 */
/* Private: what the cookie jar (http_cookie.c) and the Set-Cookie parser (http_cookie_set.c)
 * share: the slot layout in the caller's memory, a cookie being built, and the checks both
 * the parser and the loader of a saved jar apply (RFC 6265). */
#ifndef EAS_HTTP_COOKIE_INTERNAL_H
#define EAS_HTTP_COOKIE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "eas/eas_config_defaults.h"
#include "eas/eas_cookie.h"

#if CONFIG_EAS_HTTP_COOKIES

#define CK_USED       0x01u
#define CK_SECURE     0x02u
#define CK_HOST_ONLY  0x04u
#define CK_PERSISTENT 0x08u

/* Longest lifetime accepted, as browsers cap it (400 days): a server cannot pin a cookie
 * for ever, and the arithmetic on expiry times cannot overflow. */
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

/* The request URL's host and path (without query); path "/" when empty. */
typedef struct target {
    const char *host;
    size_t host_len;
    const char *path;
    size_t path_len;
    bool tls;
} target_t;

static inline slot_t *slot_at(const eas_cookie_jar_t *jar, size_t i)
{
    return (slot_t *)(void *)(jar->mem + i * EAS_COOKIE_SLOT_SIZE);
}

static inline const char *slot_text(const slot_t *s)
{
    return (const char *)(s + 1);
}

static inline bool expired(const slot_t *s, int64_t now)
{
    return (s->flags & CK_PERSISTENT) != 0 && s->expires <= now;
}

static inline char lc(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* http_cookie_set.c: field checks (also for a saved jar being loaded) */
bool http_ck_value_ok(const char *v, size_t len);
bool http_ck_name_ok(const char *n, size_t len);
bool http_ck_path_ok(const char *p, size_t len);
bool http_ck_domain_chars_ok(const char *d, size_t len);
bool http_ck_parse_i64(const char *s, size_t len, int64_t *out);
bool http_ck_prefix_rules_ok(const cookie_t *c, bool had_domain);
/* http_cookie_set.c: matching a request URL (RFC 6265 5.1.3, 5.1.4) */
int http_ck_target_of(const char *url, target_t *t);
bool http_ck_domain_match(const char *host, size_t hlen, const char *dom, size_t dlen);
bool http_ck_path_match(const char *req, size_t rlen, const char *cp, size_t clen);
/* http_cookie.c: store, replace or (if expired) remove a fully validated cookie */
int http_ck_store(eas_cookie_jar_t *jar, const cookie_t *c, int64_t now);

#endif /* CONFIG_EAS_HTTP_COOKIES */

#endif /* EAS_HTTP_COOKIE_INTERNAL_H */
