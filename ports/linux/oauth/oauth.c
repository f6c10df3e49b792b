/* SPDX-License-Identifier: Apache-2.0 */
/* OAuth 2.0 for a device: RFC 8628 device authorization grant, RFC 7636 PKCE with an
 * RFC 8252 loopback redirect, refresh_token grant; tokens kept in a 0600 file.
 *
 * Every byte from the authorization server, the browser and the token file is untrusted:
 * sizes are bounded, JSON is parsed by jansson, tokens must be header-safe, and a refused
 * refresh token ends in EASD_OAUTH_AUTH_NEEDED rather than another attempt. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <mbedtls/sha256.h>
#include <mbedtls/version.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "eas/eas_err.h"
#include "eas/eas_http.h"
#include "easd_oauth.h"
#include "easd_linux.h"
#include "hal/hal_time.h"

#define OAUTH_BODY_MAX   65536u /* largest JSON answer accepted */
#define OAUTH_FILE_MAX   65536
#define OAUTH_FORM_MAX   8
#define OAUTH_REQ_MAX    8192u /* largest browser request on the loopback listener */
#define OAUTH_SLOW_DOWN  5u    /* RFC 8628 3.5: add 5 s to the interval on slow_down */
#define OAUTH_DEF_MARGIN 300u

/* ---- small helpers ---- */

static int64_t utc_now(void)
{
    int64_t t = 0;
    if (hal_time_utc(&t) != EAS_OK) {
        t = (int64_t)time(NULL);
    }
    return t;
}

static int64_t utc_cb(void *user)
{
    (void)user;
    return utc_now();
}

static void wipe(void *p, size_t n)
{
    volatile uint8_t *v = p;
    while (n-- > 0) {
        *v++ = 0;
    }
}

/* Header-safe token text: visible ASCII, no spaces (RFC 6750 b64token is stricter still). */
static bool token_ok(const char *s, size_t len)
{
    if (len == 0 || len >= EASD_OAUTH_TOKEN_MAX) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= 0x20 || c >= 0x7F) {
            return false;
        }
    }
    return true;
}

static bool is_loopback_host(const char *h, size_t len)
{
    return (len == 9 && memcmp(h, "127.0.0.1", 9) == 0) || (len == 3 && memcmp(h, "::1", 3) == 0) ||
           (len == 9 && memcmp(h, "localhost", 9) == 0);
}

/* https, or http to a loopback host (the tests' authorization server). */
static bool endpoint_ok(const char *url)
{
    eas_url_t u;
    if (eas_url_parse(url, &u) != EAS_OK) {
        return false;
    }
    return u.tls || is_loopback_host(url + u.host_off, u.host_len);
}

static void base64url(const uint8_t *in, size_t len, char *out, size_t cap)
{
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len && o + 1 < cap; i++) {
        acc = (acc << 8) | in[i];
        bits += 8;
        while (bits >= 6 && o + 1 < cap) {
            bits -= 6;
            out[o++] = tbl[(acc >> bits) & 0x3Fu];
        }
    }
    if (bits > 0 && o + 1 < cap) {
        out[o++] = tbl[(acc << (6 - bits)) & 0x3Fu];
    }
    out[o] = '\0';
}

int easd_oauth_pkce_challenge(const char *verifier, char out[44])
{
    uint8_t digest[32];
    if (verifier == NULL || out == NULL) {
        return EAS_ERR_PARAM;
    }
#if MBEDTLS_VERSION_MAJOR >= 3
    int rc = mbedtls_sha256((const unsigned char *)verifier, strlen(verifier), digest, 0);
#else
    int rc = mbedtls_sha256_ret((const unsigned char *)verifier, strlen(verifier), digest, 0);
#endif
    if (rc != 0) {
        return EAS_ERR_INTERNAL;
    }
    base64url(digest, sizeof(digest), out, 44);
    return EAS_OK;
}

/* ---- HTTP through the core's client ---- */

typedef struct form {
    const char *k[OAUTH_FORM_MAX];
    const char *v[OAUTH_FORM_MAX];
    size_t n;
} form_t;

static void form_add(form_t *f, const char *k, const char *v)
{
    if (f->n < OAUTH_FORM_MAX && v != NULL) {
        f->k[f->n] = k;
        f->v[f->n] = v;
        f->n++;
    }
}

static bool unreserved(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '.' || c == '_' || c == '~';
}

/* Percent-encode @p s into @p out (3x + 1 bytes). */
static size_t pct(const char *s, char *out, size_t cap)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (; *s != '\0' && o + 4 <= cap; s++) {
        if (unreserved(*s)) {
            out[o++] = *s;
        } else {
            out[o++] = '%';
            out[o++] = hex[(unsigned char)*s >> 4];
            out[o++] = hex[(unsigned char)*s & 0x0Fu];
        }
    }
    out[o] = '\0';
    return o;
}

/* application/x-www-form-urlencoded body; deterministic as the client's contract needs. */
static int form_body(void *user, eas_http_write_fn write, void *wctx)
{
    const form_t *f = user;
    char chunk[64];
    for (size_t i = 0; i < f->n; i++) {
        int rc;
        if (i > 0 && (rc = write(wctx, (const uint8_t *)"&", 1)) != EAS_OK) {
            return rc;
        }
        if ((rc = write(wctx, (const uint8_t *)f->k[i], strlen(f->k[i]))) != EAS_OK ||
            (rc = write(wctx, (const uint8_t *)"=", 1)) != EAS_OK) {
            return rc;
        }
        /* Encode in pieces of at most 20 input bytes (60 output). */
        const char *v = f->v[i];
        size_t len = strlen(v);
        for (size_t off = 0; off < len; off += 20) {
            char piece[21];
            size_t n = len - off < 20 ? len - off : 20;
            memcpy(piece, v + off, n);
            piece[n] = '\0';
            size_t m = pct(piece, chunk, sizeof(chunk));
            if ((rc = write(wctx, (const uint8_t *)chunk, m)) != EAS_OK) {
                return rc;
            }
        }
    }
    return EAS_OK;
}

typedef struct body {
    char *buf;
    size_t len;
    size_t cap;
} body_t;

static int collect(void *user, const eas_http_response_t *rsp, const uint8_t *d, size_t n)
{
    (void)rsp;
    body_t *b = user;
    if (n > b->cap - 1 - b->len) {
        return EAS_ERR_LIMIT;
    }
    memcpy(b->buf + b->len, d, n);
    b->len += n;
    b->buf[b->len] = '\0';
    return EAS_OK;
}

/* POST a form and wait (poll) for the whole answer. */
static int http_post(easd_oauth_t *o, const char *url, const form_t *f, body_t *b, int *status)
{
    eas_http_request_t r;
    memset(&r, 0, sizeof(r));
    r.method = EAS_HTTP_POST;
    r.url = url;
    r.cmd = EAS_CMD_NONE;
    r.content_type = "application/x-www-form-urlencoded";
    r.body = form_body;
    r.body_user = (void *)f;
    r.sink = collect;
    r.sink_user = b;
    b->len = 0;
    b->buf[0] = '\0';
    *status = 0;

    uint64_t now = hal_time_monotonic_ms();
    uint64_t deadline = now + o->cfg.http_timeout_ms;
    int rc = eas_http_client_start(&o->cli, &r, now);
    while (rc == EAS_OK) {
        eas_http_wait_t w;
        now = hal_time_monotonic_ms();
        if (now >= deadline) {
            eas_http_client_cancel(&o->cli);
            return EAS_ERR_TIMEOUT;
        }
        int s = eas_http_client_step(&o->cli, now, &w);
        if (s == EAS_OK) {
            *status = eas_http_client_response(&o->cli)->status;
            eas_http_client_close(&o->cli); /* token requests are rare: no idle connection */
            return EAS_OK;
        }
        if (s != EAS_ERR_AGAIN) {
            return s;
        }
        easd_linux_wait_t lw;
        easd_linux_net_wait(&o->lnet, w.read, w.write, &lw);
        uint64_t until = w.deadline_ms < deadline ? w.deadline_ms : deadline;
        if (lw.deadline_ms < until) {
            until = lw.deadline_ms;
        }
        int timeout = until > now ? (int)((until - now) > 1000u ? 1000u : (until - now)) : 0;
        if (lw.pending) {
            continue;
        }
        struct pollfd p = {.fd = lw.fd,
                           .events = (short)((lw.readable ? POLLIN : 0) |
                                             (lw.writable ? POLLOUT : 0))};
        if (lw.fd >= 0 && p.events != 0) {
            (void)poll(&p, 1, timeout);
        } else if (timeout > 0) {
            (void)poll(NULL, 0, timeout);
        }
    }
    return rc;
}

/* ---- token file ---- */

static int save_file(easd_oauth_t *o)
{
    char tmp[4200];
    json_t *j = json_pack("{s:i, s:s, s:s, s:I, s:s}", "version", 1, "state",
                          o->state == EASD_OAUTH_AUTH_NEEDED ? "authorization_needed"
                          : o->state == EASD_OAUTH_READY     ? "ready"
                                                             : "none",
                          "refresh_token", o->refresh, "expires_at", (json_int_t)o->access_expires,
                          "access_token", o->access);
    if (j == NULL) {
        return EAS_ERR_NOMEM;
    }
    char *text = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    if (text == NULL) {
        return EAS_ERR_NOMEM;
    }
    size_t len = strlen(text);
    int rc = EAS_ERR_STORE;
    if (snprintf(tmp, sizeof(tmp), "%s.tmp", o->cfg.token_file) >= (int)sizeof(tmp)) {
        goto out;
    }
    (void)unlink(tmp);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        goto out;
    }
    size_t off = 0;
    while (off < len) {
        ssize_t n = write(fd, text + off, len - off);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        off += (size_t)n;
    }
    bool ok = off == len && fchmod(fd, 0600) == 0 && fsync(fd) == 0;
    ok = close(fd) == 0 && ok;
    if (ok && rename(tmp, o->cfg.token_file) == 0) {
        rc = EAS_OK;
    } else {
        (void)unlink(tmp);
    }
out:
    wipe(text, len);
    free(text);
    if (rc != EAS_OK) {
        easd_linux_logf(HAL_LOG_ERROR, "oauth", "cannot write the token file %s", o->cfg.token_file);
    }
    return rc;
}

static int load_file(easd_oauth_t *o)
{
    int fd = open(o->cfg.token_file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        return errno == ENOENT ? EAS_OK : EAS_ERR_STORE;
    }
    struct stat st;
    char *buf = NULL;
    int rc = EAS_ERR_STORE_CORRUPT;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
        (st.st_mode & 077) != 0 || st.st_size > OAUTH_FILE_MAX) {
        easd_linux_logf(HAL_LOG_ERROR, "oauth", "token file %s refused: not a private (0600) file of this user",
                 o->cfg.token_file);
        goto out;
    }
    buf = malloc((size_t)st.st_size + 1);
    if (buf == NULL) {
        rc = EAS_ERR_NOMEM;
        goto out;
    }
    ssize_t n = read(fd, buf, (size_t)st.st_size);
    if (n != st.st_size) {
        goto out;
    }
    json_error_t err;
    json_t *j = json_loadb(buf, (size_t)n, 0, &err);
    if (j == NULL) {
        goto out;
    }
    const char *state = json_string_value(json_object_get(j, "state"));
    const char *rt = json_string_value(json_object_get(j, "refresh_token"));
    const char *at = json_string_value(json_object_get(j, "access_token"));
    json_t *exp = json_object_get(j, "expires_at");
    if (json_integer_value(json_object_get(j, "version")) == 1 && state != NULL && rt != NULL &&
        at != NULL && json_is_integer(exp) && (rt[0] == '\0' || token_ok(rt, strlen(rt))) &&
        (at[0] == '\0' || token_ok(at, strlen(at)))) {
        snprintf(o->refresh, sizeof(o->refresh), "%s", rt);
        snprintf(o->access, sizeof(o->access), "%s", at);
        o->access_len = strlen(o->access);
        o->access_expires = (int64_t)json_integer_value(exp);
        o->state = strcmp(state, "authorization_needed") == 0 ? EASD_OAUTH_AUTH_NEEDED
                   : o->refresh[0] != '\0'                     ? EASD_OAUTH_READY
                                                               : EASD_OAUTH_NO_TOKEN;
        rc = EAS_OK;
    } else {
        easd_linux_logf(HAL_LOG_ERROR, "oauth", "token file %s is not ours: left alone", o->cfg.token_file);
    }
    json_decref(j);
out:
    if (buf != NULL) {
        wipe(buf, (size_t)st.st_size);
        free(buf);
    }
    close(fd);
    return rc;
}

/* ---- life cycle ---- */

static int endpoint(char *out, size_t cap, const char *override, const easd_oauth_config_t *c,
                    const char *leaf)
{
    int n = override != NULL ? snprintf(out, cap, "%s", override)
                             : snprintf(out, cap, "%s/%s/oauth2/v2.0/%s", c->authority, c->tenant,
                                        leaf);
    if (n < 0 || (size_t)n >= cap || !endpoint_ok(out)) {
        easd_linux_logf(HAL_LOG_ERROR, "oauth", "endpoint %s: not an https URL (http only to loopback)", out);
        return EAS_ERR_PARAM;
    }
    return EAS_OK;
}

int easd_oauth_init(easd_oauth_t *o, const easd_oauth_config_t *cfg)
{
    if (o == NULL || cfg == NULL || cfg->client_id == NULL || cfg->client_id[0] == '\0' ||
        cfg->token_file == NULL) {
        return EAS_ERR_PARAM;
    }
    memset(o, 0, sizeof(*o));
    o->cfg = *cfg;
    if (o->cfg.authority == NULL) {
        o->cfg.authority = EASD_OAUTH_DEFAULT_AUTHORITY;
    }
    if (o->cfg.tenant == NULL) {
        o->cfg.tenant = EASD_OAUTH_DEFAULT_TENANT;
    }
    if (o->cfg.scope == NULL) {
        o->cfg.scope = EASD_OAUTH_DEFAULT_SCOPE;
    }
    if (o->cfg.refresh_margin_s == 0) {
        o->cfg.refresh_margin_s = OAUTH_DEF_MARGIN;
    }
    if (o->cfg.http_timeout_ms == 0) {
        o->cfg.http_timeout_ms = 30000;
    }
    int rc = endpoint(o->device_url, sizeof(o->device_url), cfg->device_endpoint, &o->cfg,
                      "devicecode");
    if (rc == EAS_OK) {
        rc = endpoint(o->token_url, sizeof(o->token_url), cfg->token_endpoint, &o->cfg, "token");
    }
    if (rc == EAS_OK) {
        rc = endpoint(o->authorize_url, sizeof(o->authorize_url), cfg->authorize_endpoint,
                      &o->cfg, "authorize");
    }
    if (rc != EAS_OK) {
        return rc;
    }
    easd_linux_net_config_t nc = {.ca_file = cfg->ca_file, .connect_timeout_ms = 0};
    rc = easd_linux_net_init(&o->lnet, &nc, &o->net);
    if (rc != EAS_OK) {
        return rc;
    }
    o->work = malloc(EAS_HTTP_CLIENT_WORK_SIZE);
    if (o->work == NULL) {
        easd_linux_net_deinit(&o->lnet);
        return EAS_ERR_NOMEM;
    }
    eas_http_client_config_t hc;
    memset(&hc, 0, sizeof(hc));
    hc.net = &o->net;
    hc.auth.kind = EAS_HTTP_AUTH_NONE; /* a public client: the client id is in the form */
    hc.work = o->work;
    hc.work_len = EAS_HTTP_CLIENT_WORK_SIZE;
    hc.connect_timeout_ms = o->cfg.http_timeout_ms;
    hc.first_byte_timeout_ms = o->cfg.http_timeout_ms;
    hc.utc_now = utc_cb;
    rc = eas_http_client_init(&o->cli, &hc);
    if (rc == EAS_OK) {
        rc = load_file(o);
    }
    if (rc != EAS_OK) {
        easd_oauth_deinit(o);
    }
    return rc;
}

void easd_oauth_deinit(easd_oauth_t *o)
{
    if (o == NULL) {
        return;
    }
    if (o->work != NULL) {
        eas_http_client_cancel(&o->cli);
        eas_http_client_close(&o->cli);
        wipe(o->work, EAS_HTTP_CLIENT_WORK_SIZE); /* request heads held the refresh token */
        free(o->work);
        o->work = NULL;
        easd_linux_net_deinit(&o->lnet);
    }
    wipe(o->access, sizeof(o->access));
    wipe(o->refresh, sizeof(o->refresh));
    o->access_len = 0;
}

easd_oauth_state_t easd_oauth_state(const easd_oauth_t *o)
{
    return o->state;
}

/* ---- token responses ---- */

static void note_error(easd_oauth_t *o, json_t *j)
{
    const char *e = j != NULL ? json_string_value(json_object_get(j, "error")) : NULL;
    size_t k = 0;
    for (; e != NULL && e[k] != '\0' && k + 1 < sizeof(o->last_error); k++) {
        char c = e[k];
        o->last_error[k] = (c >= 0x21 && c <= 0x7E) ? c : '?';
    }
    o->last_error[k] = '\0';
}

static json_t *parse(const body_t *b)
{
    json_error_t err;
    json_t *j = json_loadb(b->buf, b->len, 0, &err);
    if (j != NULL && !json_is_object(j)) {
        json_decref(j);
        j = NULL;
    }
    return j;
}

static int take_tokens(easd_oauth_t *o, json_t *j)
{
    const char *at = json_string_value(json_object_get(j, "access_token"));
    const char *type = json_string_value(json_object_get(j, "token_type"));
    const char *rt = json_string_value(json_object_get(j, "refresh_token"));
    json_t *ei = json_object_get(j, "expires_in");
    int64_t expires_in = 3600; /* RFC 6749 5.1: RECOMMENDED only; an hour is common */
    if (json_is_integer(ei)) {
        expires_in = (int64_t)json_integer_value(ei);
    } else if (json_is_string(ei)) {
        expires_in = strtoll(json_string_value(ei), NULL, 10); /* Entra v1 sends a string */
    }
    if (at == NULL || !token_ok(at, strlen(at)) || (type != NULL && strcasecmp(type, "bearer") != 0) ||
        (rt != NULL && !token_ok(rt, strlen(rt))) || expires_in <= 0 ||
        expires_in > 10LL * 365 * 86400) {
        easd_linux_logf(HAL_LOG_WARN, "oauth", "token answer refused: malformed");
        return EAS_ERR_FORMAT;
    }
    if (rt == NULL && o->refresh[0] == '\0') {
        easd_linux_logf(HAL_LOG_WARN, "oauth", "no refresh token granted (is offline_access in the scope?)");
    }
    snprintf(o->access, sizeof(o->access), "%s", at);
    o->access_len = strlen(o->access);
    o->access_expires = utc_now() + expires_in;
    if (rt != NULL) {
        snprintf(o->refresh, sizeof(o->refresh), "%s", rt); /* rotated */
    }
    o->state = EASD_OAUTH_READY;
    o->last_error[0] = '\0';
    easd_linux_logf(HAL_LOG_INFO, "oauth", "access token obtained, valid for %lld s", (long long)expires_in);
    return save_file(o);
}

static void forget(easd_oauth_t *o, const char *why)
{
    wipe(o->access, sizeof(o->access));
    wipe(o->refresh, sizeof(o->refresh));
    o->access_len = 0;
    o->access_expires = 0;
    o->state = EASD_OAUTH_AUTH_NEEDED;
    easd_linux_logf(HAL_LOG_ERROR, "oauth", "authorization needed: %s (%s)", why,
             o->last_error[0] ? o->last_error : "no error code");
    (void)save_file(o);
}

/* ---- refresh ---- */

int easd_oauth_refresh(easd_oauth_t *o)
{
    if (o == NULL) {
        return EAS_ERR_PARAM;
    }
    if (o->state != EASD_OAUTH_READY || o->refresh[0] == '\0') {
        return EAS_ERR_AUTH;
    }
    char *buf = malloc(OAUTH_BODY_MAX);
    if (buf == NULL) {
        return EAS_ERR_NOMEM;
    }
    body_t b = {.buf = buf, .len = 0, .cap = OAUTH_BODY_MAX};
    form_t f = {.n = 0};
    form_add(&f, "grant_type", "refresh_token");
    form_add(&f, "refresh_token", o->refresh);
    form_add(&f, "client_id", o->cfg.client_id);
    form_add(&f, "scope", o->cfg.scope);
    int status = 0;
    int rc = http_post(o, o->token_url, &f, &b, &status);
    if (rc == EAS_OK) {
        json_t *j = parse(&b);
        if (status == 200 && j != NULL) {
            rc = take_tokens(o, j);
            if (rc == EAS_OK) {
                o->refreshes++;
            }
        } else if (status >= 400 && status < 500) {
            /* invalid_grant (revoked, expired, password changed), invalid_client, ...: the
             * token will not work again. Forget it and say so; never retry it. */
            note_error(o, j);
            forget(o, "the authorization server refused the refresh token");
            rc = EAS_ERR_AUTH;
        } else {
            easd_linux_logf(HAL_LOG_WARN, "oauth", "token endpoint answered %d: will retry later", status);
            rc = status >= 500 ? EAS_ERR_HTTP_STATUS : EAS_ERR_FORMAT;
        }
        json_decref(j);
    } else {
        easd_linux_logf(HAL_LOG_WARN, "oauth", "token refresh failed: %s", eas_strerror(rc));
    }
    wipe(buf, OAUTH_BODY_MAX);
    free(buf);
    return rc;
}

int easd_oauth_token(void *user, bool refresh, const char **token, size_t *len)
{
    easd_oauth_t *o = user;
    if (o == NULL || token == NULL || len == NULL) {
        return EAS_ERR_PARAM;
    }
    if (o->state != EASD_OAUTH_READY) {
        return EAS_ERR_AUTH;
    }
    int64_t now = utc_now();
    bool stale = o->access_len == 0 || now + (int64_t)o->cfg.refresh_margin_s >= o->access_expires;
    if (refresh || stale) {
        if (refresh) {
            easd_linux_logf(HAL_LOG_INFO, "oauth", "server refused the access token: refreshing once");
        }
        int rc = easd_oauth_refresh(o);
        if (rc != EAS_OK) {
            /* A transient failure while the old token is still valid: use it. */
            if (rc == EAS_ERR_AUTH || refresh || o->access_len == 0 || now >= o->access_expires) {
                return rc;
            }
        }
    }
    *token = o->access;
    *len = o->access_len;
    return EAS_OK;
}

/* ---- device authorization grant (RFC 8628) ---- */

static void sleep_s(uint32_t s)
{
    struct timespec ts = {.tv_sec = (time_t)s, .tv_nsec = 0};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static uint32_t json_u32(json_t *j, const char *k, uint32_t def)
{
    json_t *v = json_object_get(j, k);
    json_int_t n = json_is_integer(v)  ? json_integer_value(v)
                   : json_is_string(v) ? strtoll(json_string_value(v), NULL, 10)
                                       : (json_int_t)def;
    return n <= 0 ? def : n > 86400 ? 86400u : (uint32_t)n;
}

static bool printable(const char *s, size_t max)
{
    if (s == NULL || s[0] == '\0' || strlen(s) > max) {
        return false;
    }
    for (; *s; s++) {
        if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7F) {
            return false;
        }
    }
    return true;
}

int easd_oauth_device_flow(easd_oauth_t *o, uint32_t max_wait_s)
{
    if (o == NULL || o->cfg.on_device_code == NULL) {
        return EAS_ERR_PARAM;
    }
    char *buf = malloc(OAUTH_BODY_MAX);
    char *device_code = NULL;
    if (buf == NULL) {
        return EAS_ERR_NOMEM;
    }
    body_t b = {.buf = buf, .len = 0, .cap = OAUTH_BODY_MAX};
    form_t f = {.n = 0};
    form_add(&f, "client_id", o->cfg.client_id);
    form_add(&f, "scope", o->cfg.scope);
    int status = 0;
    int rc = http_post(o, o->device_url, &f, &b, &status);
    json_t *j = rc == EAS_OK ? parse(&b) : NULL;
    if (rc == EAS_OK && (status != 200 || j == NULL)) {
        note_error(o, j);
        easd_linux_logf(HAL_LOG_ERROR, "oauth", "device authorization refused: HTTP %d %s", status, o->last_error);
        rc = status >= 400 && status < 500 ? EAS_ERR_AUTH : EAS_ERR_FORMAT;
    }
    uint32_t interval = 5;
    uint64_t give_up = 0;
    if (rc == EAS_OK) {
        const char *dc = json_string_value(json_object_get(j, "device_code"));
        const char *uc = json_string_value(json_object_get(j, "user_code"));
        const char *vu = json_string_value(json_object_get(j, "verification_uri"));
        const char *vc = json_string_value(json_object_get(j, "verification_uri_complete"));
        if (vu == NULL) {
            vu = json_string_value(json_object_get(j, "verification_url")); /* older Entra */
        }
        if (!printable(dc, 2048) || !printable(uc, 64) || !printable(vu, 1024) ||
            (vc != NULL && !printable(vc, 1024))) {
            rc = EAS_ERR_FORMAT;
        } else {
            device_code = strdup(dc);
            interval = json_u32(j, "interval", 5);
            uint32_t expires = json_u32(j, "expires_in", 900);
            easd_oauth_device_code_t show = {.user_code = uc,
                                             .verification_uri = vu,
                                             .verification_uri_complete = vc,
                                             .expires_in = expires,
                                             .interval = interval};
            o->cfg.on_device_code(o->cfg.user, &show);
            uint32_t wait = expires < max_wait_s ? expires : max_wait_s;
            give_up = hal_time_monotonic_ms() + (uint64_t)wait * 1000u;
            rc = device_code != NULL ? EAS_OK : EAS_ERR_NOMEM;
        }
    }
    json_decref(j);
    j = NULL;
    /* Poll (RFC 8628 3.4/3.5). */
    while (rc == EAS_OK) {
        if (hal_time_monotonic_ms() + (uint64_t)interval * 1000u > give_up) {
            easd_linux_logf(HAL_LOG_ERROR, "oauth", "device code expired before the user approved it");
            rc = EAS_ERR_TIMEOUT;
            break;
        }
        sleep_s(interval);
        form_t p = {.n = 0};
        form_add(&p, "grant_type", "urn:ietf:params:oauth:grant-type:device_code");
        form_add(&p, "device_code", device_code);
        form_add(&p, "client_id", o->cfg.client_id);
        int prc = http_post(o, o->token_url, &p, &b, &status);
        if (prc != EAS_OK) {
            easd_linux_logf(HAL_LOG_WARN, "oauth", "polling the token endpoint failed (%s): trying again",
                     eas_strerror(prc));
            continue; /* a network hiccup does not end the flow; the deadline does */
        }
        j = parse(&b);
        if (status == 200 && j != NULL) {
            rc = take_tokens(o, j);
        } else {
            note_error(o, j);
            if (strcmp(o->last_error, "authorization_pending") == 0) {
                /* keep polling */
            } else if (strcmp(o->last_error, "slow_down") == 0) {
                interval += OAUTH_SLOW_DOWN;
                easd_linux_logf(HAL_LOG_INFO, "oauth", "slow_down: polling every %u s now", (unsigned)interval);
            } else if (strcmp(o->last_error, "access_denied") == 0 ||
                       strcmp(o->last_error, "authorization_declined") == 0) {
                o->state = EASD_OAUTH_AUTH_NEEDED;
                easd_linux_logf(HAL_LOG_ERROR, "oauth", "the user declined the authorization");
                rc = EAS_ERR_AUTH;
            } else if (strcmp(o->last_error, "expired_token") == 0 ||
                       strcmp(o->last_error, "code_expired") == 0) {
                /* The session is over (RFC 8628 3.5): a new one needs the user again, so it
                   is not started here. */
                easd_linux_logf(HAL_LOG_ERROR, "oauth",
                                "the server says the device code expired (%s); start the sign-in again",
                                o->last_error);
                rc = EAS_ERR_TIMEOUT;
            } else if (status >= 500) {
                easd_linux_logf(HAL_LOG_WARN, "oauth", "token endpoint answered %d: trying again", status);
            } else {
                easd_linux_logf(HAL_LOG_ERROR, "oauth", "device flow refused: HTTP %d %s", status, o->last_error);
                rc = EAS_ERR_AUTH;
            }
        }
        json_decref(j);
        j = NULL;
        if (rc != EAS_OK || o->state == EASD_OAUTH_READY) {
            break;
        }
    }
    if (device_code != NULL) {
        wipe(device_code, strlen(device_code));
        free(device_code);
    }
    wipe(buf, OAUTH_BODY_MAX);
    free(buf);
    return rc;
}

/* ---- authorization code + PKCE, loopback redirect (RFC 7636, RFC 8252) ---- */

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* The value of query parameter @p key in @p q (up to ' ' or end), percent-decoded. */
static bool query_param(const char *q, size_t qlen, const char *key, char *out, size_t cap)
{
    size_t klen = strlen(key);
    size_t i = 0;
    while (i < qlen) {
        size_t end = i;
        while (end < qlen && q[end] != '&') {
            end++;
        }
        if (end - i > klen && memcmp(q + i, key, klen) == 0 && q[i + klen] == '=') {
            size_t o = 0;
            for (size_t k = i + klen + 1; k < end; k++) {
                char c = q[k];
                if (c == '%' && k + 2 < end + 1 && hexval(q[k + 1]) >= 0 &&
                    hexval(q[k + 2]) >= 0) {
                    c = (char)(hexval(q[k + 1]) * 16 + hexval(q[k + 2]));
                    k += 2;
                } else if (c == '+') {
                    c = ' ';
                }
                if (o + 1 >= cap || (unsigned char)c < 0x20 || (unsigned char)c >= 0x7F) {
                    return false;
                }
                out[o++] = c;
            }
            out[o] = '\0';
            return o > 0;
        }
        i = end + 1;
    }
    return false;
}

static void reply(int fd, const char *status, const char *text)
{
    char msg[512];
    int n = snprintf(msg, sizeof(msg),
                     "HTTP/1.1 %s\r\nContent-Type: text/plain; charset=utf-8\r\n"
                     "Content-Length: %zu\r\nConnection: close\r\nCache-Control: no-store\r\n\r\n%s",
                     status, strlen(text), text);
    if (n > 0) {
        (void)send(fd, msg, (size_t)n, MSG_NOSIGNAL);
    }
}

/* Wait for the browser's redirect; fills code. EAS_ERR_AGAIN: not the redirect (keep
 * waiting). */
static int serve_redirect(int cfd, const char *state, char *code, size_t code_cap,
                          uint64_t give_up)
{
    char req[OAUTH_REQ_MAX];
    size_t len = 0;
    while (len + 1 < sizeof(req)) {
        uint64_t now = hal_time_monotonic_ms();
        uint64_t until = now + 5000u < give_up ? now + 5000u : give_up;
        if (now >= until) {
            return EAS_ERR_AGAIN;
        }
        struct pollfd p = {.fd = cfd, .events = POLLIN};
        if (poll(&p, 1, (int)(until - now)) <= 0) {
            return EAS_ERR_AGAIN;
        }
        ssize_t n = recv(cfd, req + len, sizeof(req) - 1 - len, 0);
        if (n <= 0) {
            return EAS_ERR_AGAIN;
        }
        len += (size_t)n;
        req[len] = '\0';
        if (strstr(req, "\r\n\r\n") != NULL || strstr(req, "\n\n") != NULL) {
            break;
        }
    }
    if (strncmp(req, "GET /", 5) != 0) {
        reply(cfd, "405 Method Not Allowed", "easd: not expected here\n");
        return EAS_ERR_AGAIN;
    }
    const char *path = req + 4;
    const char *sp = strchr(path, ' ');
    const char *q = memchr(path, '?', sp != NULL ? (size_t)(sp - path) : strlen(path));
    if (sp == NULL || q == NULL) {
        reply(cfd, "404 Not Found", "easd: waiting for the authorization redirect\n");
        return EAS_ERR_AGAIN;
    }
    q++;
    size_t qlen = (size_t)(sp - q);
    char got_state[128];
    char err[64];
    if (!query_param(q, qlen, "state", got_state, sizeof(got_state)) ||
        strcmp(got_state, state) != 0) {
        /* Not our request (or forged): ignore it, keep waiting for the real one. */
        reply(cfd, "400 Bad Request", "easd: state does not match\n");
        return EAS_ERR_AGAIN;
    }
    if (query_param(q, qlen, "error", err, sizeof(err))) {
        reply(cfd, "200 OK", "easd: authorization refused. You can close this window.\n");
        easd_linux_logf(HAL_LOG_ERROR, "oauth", "authorization refused in the browser: %s", err);
        return EAS_ERR_AUTH;
    }
    if (!query_param(q, qlen, "code", code, code_cap)) {
        reply(cfd, "400 Bad Request", "easd: no authorization code\n");
        return EAS_ERR_FORMAT;
    }
    reply(cfd, "200 OK", "easd: authorization received. You can close this window.\n");
    return EAS_OK;
}

int easd_oauth_pkce_flow(easd_oauth_t *o, uint32_t max_wait_s)
{
    if (o == NULL || o->cfg.on_authorize_url == NULL) {
        return EAS_ERR_PARAM;
    }
    uint8_t rnd[48];
    char verifier[72];
    char challenge[44];
    char state[40];
    if (easd_linux_rng_fill(rnd, sizeof(rnd)) != EAS_OK) {
        return EAS_ERR_IO;
    }
    base64url(rnd, 32, verifier, sizeof(verifier)); /* 43 chars: RFC 7636 4.1 minimum */
    base64url(rnd + 32, 16, state, sizeof(state));
    int rc = easd_oauth_pkce_challenge(verifier, challenge);
    if (rc != EAS_OK) {
        return rc;
    }
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (lfd < 0) {
        return EAS_ERR_IO;
    }
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons(o->cfg.redirect_port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK); /* RFC 8252 8.3: loopback only */
    socklen_t sl = sizeof(sa);
    if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(lfd, 4) != 0 ||
        getsockname(lfd, (struct sockaddr *)&sa, &sl) != 0) {
        close(lfd);
        easd_linux_logf(HAL_LOG_ERROR, "oauth", "cannot listen on 127.0.0.1:%u", (unsigned)o->cfg.redirect_port);
        return EAS_ERR_IO;
    }
    char redirect[64];
    const char *rhost = o->cfg.redirect_host != NULL && strcmp(o->cfg.redirect_host, "localhost") == 0
                            ? "localhost"
                            : "127.0.0.1";
    snprintf(redirect, sizeof(redirect), "http://%s:%u/", rhost, (unsigned)ntohs(sa.sin_port));

    /* The authorization URL. */
    size_t cap = 4096;
    char *url = malloc(cap);
    char *enc = malloc(3 * 1024 + 1);
    if (url == NULL || enc == NULL) {
        free(url);
        free(enc);
        close(lfd);
        return EAS_ERR_NOMEM;
    }
    size_t n = (size_t)snprintf(url, cap, "%s%sresponse_type=code", o->authorize_url,
                                strchr(o->authorize_url, '?') ? "&" : "?");
    const char *keys[] = {"client_id", "redirect_uri", "scope", "state", "code_challenge"};
    const char *vals[] = {o->cfg.client_id, redirect, o->cfg.scope, state, challenge};
    for (size_t i = 0; i < 5 && n < cap; i++) {
        pct(vals[i], enc, 3 * 1024 + 1);
        n += (size_t)snprintf(url + n, cap - n, "&%s=%s", keys[i], enc);
    }
    if (n < cap) {
        n += (size_t)snprintf(url + n, cap - n, "&code_challenge_method=S256");
    }
    free(enc);
    if (n >= cap) {
        free(url);
        close(lfd);
        return EAS_ERR_PARAM;
    }
    o->cfg.on_authorize_url(o->cfg.user, url);
    free(url);

    /* Wait for the browser. */
    char code[2048];
    uint64_t give_up = hal_time_monotonic_ms() + (uint64_t)max_wait_s * 1000u;
    rc = EAS_ERR_TIMEOUT;
    for (;;) {
        uint64_t now = hal_time_monotonic_ms();
        if (now >= give_up) {
            easd_linux_logf(HAL_LOG_ERROR, "oauth", "no authorization from the browser in time");
            break;
        }
        struct pollfd p = {.fd = lfd, .events = POLLIN};
        uint64_t left = give_up - now;
        if (poll(&p, 1, left > 1000u ? 1000 : (int)left) <= 0) {
            continue;
        }
        int cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        if (cfd < 0) {
            continue;
        }
        int s = serve_redirect(cfd, state, code, sizeof(code), give_up);
        close(cfd);
        if (s != EAS_ERR_AGAIN) {
            rc = s;
            break;
        }
    }
    close(lfd);
    if (rc == EAS_ERR_AUTH) {
        o->state = EASD_OAUTH_AUTH_NEEDED;
    }
    if (rc != EAS_OK) {
        return rc;
    }

    /* Code + verifier -> tokens. */
    char *buf = malloc(OAUTH_BODY_MAX);
    if (buf == NULL) {
        return EAS_ERR_NOMEM;
    }
    body_t b = {.buf = buf, .len = 0, .cap = OAUTH_BODY_MAX};
    form_t f = {.n = 0};
    form_add(&f, "grant_type", "authorization_code");
    form_add(&f, "code", code);
    form_add(&f, "redirect_uri", redirect);
    form_add(&f, "client_id", o->cfg.client_id);
    form_add(&f, "code_verifier", verifier);
    int status = 0;
    rc = http_post(o, o->token_url, &f, &b, &status);
    if (rc == EAS_OK) {
        json_t *j = parse(&b);
        if (status == 200 && j != NULL) {
            rc = take_tokens(o, j);
        } else {
            note_error(o, j);
            easd_linux_logf(HAL_LOG_ERROR, "oauth", "code exchange refused: HTTP %d %s", status, o->last_error);
            rc = EAS_ERR_AUTH;
        }
        json_decref(j);
    }
    wipe(code, sizeof(code));
    wipe(verifier, sizeof(verifier));
    wipe(buf, OAUTH_BODY_MAX);
    free(buf);
    return rc;
}
