/* SPDX-License-Identifier: Apache-2.0 */
/* URL parsing for the HTTP client: only what an EAS client needs (absolute http/https). */
#include <string.h>

#include "eas/eas_config_defaults.h"
#include "eas/eas_err.h"
#include "eas/eas_http.h"
#include "http_internal.h"

static char lower_ascii(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static bool prefix_nocase(const char *s, size_t len, const char *prefix)
{
    size_t n = strlen(prefix);
    if (len < n) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (lower_ascii(s[i]) != prefix[i]) {
            return false;
        }
    }
    return true;
}

/* RFC 3986 reg-name characters we accept in a host (letters, digits, '-', '.', '_'). A
 * percent-encoded or internationalised name must arrive already in A-label form. */
static bool host_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_';
}

static bool ipv6_char(char c)
{
    return (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || (c >= '0' && c <= '9') || c == ':' ||
           c == '.';
}

int eas_url_parse(const char *url, eas_url_t *out)
{
    int rc = EAS_ERR_HTTP_URL;
    eas_url_t u;
    size_t len;
    size_t i;

    if (url == NULL || out == NULL) {
        return EAS_ERR_PARAM;
    }
    memset(&u, 0, sizeof(u));
    len = strlen(url);
    if (len == 0 || len > CONFIG_EAS_URL_MAX) {
        goto out;
    }
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)url[i];
        /* Spaces and controls would let a server-supplied URL inject request lines. */
        if (c <= 0x20 || c == 0x7F) {
            goto out;
        }
    }
    if (prefix_nocase(url, len, "https://")) {
        u.tls = 1;
        u.port = 443;
        i = 8;
    } else if (prefix_nocase(url, len, "http://")) {
        u.tls = 0;
        u.port = 80;
        i = 7;
    } else {
        goto out;
    }
    /* Authority ends at the first '/', '?' or '#'. */
    size_t auth_start = i;
    size_t auth_end = i;
    while (auth_end < len && url[auth_end] != '/' && url[auth_end] != '?' && url[auth_end] != '#') {
        auth_end++;
    }
    if (memchr(url + auth_start, '@', auth_end - auth_start) != NULL) {
        goto out; /* credentials never travel in URLs */
    }
    size_t h = auth_start;
    size_t host_end;
    if (h < auth_end && url[h] == '[') {
        size_t close = h + 1;
        while (close < auth_end && url[close] != ']') {
            if (!ipv6_char(url[close])) {
                goto out;
            }
            close++;
        }
        if (close >= auth_end || close == h + 1 ||
            memchr(url + h + 1, ':', close - h - 1) == NULL) {
            goto out;
        }
        u.ipv6 = 1;
        u.host_off = (uint16_t)(h + 1);
        u.host_len = (uint16_t)(close - h - 1);
        host_end = close + 1;
    } else {
        host_end = h;
        while (host_end < auth_end && url[host_end] != ':') {
            if (!host_char(url[host_end])) {
                goto out;
            }
            host_end++;
        }
        if (host_end == h || url[h] == '.' || url[h] == '-') {
            goto out;
        }
        u.host_off = (uint16_t)h;
        u.host_len = (uint16_t)(host_end - h);
    }
    if (u.host_len > 253) {
        goto out;
    }
    if (host_end < auth_end) {
        if (url[host_end] != ':') {
            goto out;
        }
        uint32_t port = 0;
        size_t p = host_end + 1;
        if (p == auth_end) {
            goto out;
        }
        for (; p < auth_end; p++) {
            if (url[p] < '0' || url[p] > '9') {
                goto out;
            }
            port = port * 10u + (uint32_t)(url[p] - '0');
            if (port > 65535u) {
                goto out;
            }
        }
        if (port == 0) {
            goto out;
        }
        u.port = (uint16_t)port;
        u.port_set = 1;
    }
    size_t path_end = auth_end;
    while (path_end < len && url[path_end] != '#') {
        path_end++;
    }
    u.path_off = (uint16_t)auth_end;
    u.path_len = (uint16_t)(path_end - auth_end);
    if (u.path_len > 0 && url[auth_end] != '/') {
        /* "https://host?x" - a query without a path: give it no path at all. */
        if (url[auth_end] != '?') {
            goto out;
        }
    }
    *out = u;
    rc = EAS_OK;
out:
    return rc;
}

static bool origin_eq(const char *a, const eas_url_t *ua, const char *b, const eas_url_t *ub)
{
    return ua->tls == ub->tls && ua->port == ub->port &&
           http_eq_nocase(a + ua->host_off, ua->host_len, b + ub->host_off, ub->host_len);
}

bool eas_url_same_origin(const char *a, const char *b)
{
    eas_url_t ua;
    eas_url_t ub;
    return eas_url_parse(a, &ua) == EAS_OK && eas_url_parse(b, &ub) == EAS_OK &&
           origin_eq(a, &ua, b, &ub);
}

bool eas_url_host_listed(const char *url, const char *const *hosts, size_t n_hosts)
{
    eas_url_t u;
    if (hosts == NULL || eas_url_parse(url, &u) != EAS_OK) {
        return false;
    }
    for (size_t i = 0; i < n_hosts; i++) {
        if (hosts[i] != NULL &&
            http_eq_nocase(url + u.host_off, u.host_len, hosts[i], strlen(hosts[i]))) {
            return true;
        }
    }
    return false;
}

bool eas_url_same(const char *a, const char *b)
{
    eas_url_t ua;
    eas_url_t ub;
    if (eas_url_parse(a, &ua) != EAS_OK || eas_url_parse(b, &ub) != EAS_OK) {
        return false;
    }
    if (!origin_eq(a, &ua, b, &ub)) {
        return false;
    }
    /* An empty path is "/". */
    const char *pa = ua.path_len ? a + ua.path_off : "/";
    const char *pb = ub.path_len ? b + ub.path_off : "/";
    size_t la = ua.path_len ? ua.path_len : 1;
    size_t lb = ub.path_len ? ub.path_len : 1;
    return la == lb && memcmp(pa, pb, la) == 0;
}

int eas_url_resolve(const char *base, const char *ref, char *out, size_t out_cap)
{
    int rc = EAS_ERR_HTTP_URL;
    eas_url_t u;
    if (base == NULL || ref == NULL || out == NULL || out_cap == 0) {
        return EAS_ERR_PARAM;
    }
    out[0] = '\0';
    size_t rlen = strlen(ref);
    if (rlen > 0 && ref[0] == '/' && !(rlen > 1 && ref[1] == '/')) {
        if (eas_url_parse(base, &u) != EAS_OK) {
            goto out;
        }
        size_t auth_len = u.path_off; /* scheme + authority */
        if (auth_len + rlen + 1 > out_cap) {
            rc = EAS_ERR_NOMEM;
            goto out;
        }
        memcpy(out, base, auth_len);
        memcpy(out + auth_len, ref, rlen + 1);
    } else {
        if (rlen + 1 > out_cap) {
            rc = EAS_ERR_NOMEM;
            goto out;
        }
        memcpy(out, ref, rlen + 1);
    }
    rc = eas_url_parse(out, &u);
out:
    if (rc != EAS_OK) {
        out[0] = '\0';
    }
    return rc;
}
