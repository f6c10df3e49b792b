/* SPDX-License-Identifier: Apache-2.0 */
/* The cookie jar: Set-Cookie parsing and refusals, the Cookie header, bounds against a
 * hostile server, persistence of untrusted text, and the HTTP client's use of the jar
 * (cookies sent back, a 401 retry carrying the cookie set by the 401). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "eas/eas_cookie.h"
#include "eas/eas_err.h"
#include "eas/eas_http.h"

#define NOW  1796256000 /* 2026-12-03 00:00:00 UTC */
#define URL  "https://mail.example.com/Microsoft-Server-ActiveSync"
#define HURL "http://mail.example.com/Microsoft-Server-ActiveSync"

static _Alignas(8) uint8_t g_mem[EAS_COOKIE_JAR_SIZE];
static eas_cookie_jar_t g_jar;

typedef struct sbuf {
    char s[8192];
    size_t len;
} sbuf_t;

static int sbuf_write(void *ctx, const uint8_t *d, size_t n)
{
    sbuf_t *b = ctx;
    if (b->len + n >= sizeof(b->s)) {
        return EAS_ERR_NOMEM;
    }
    memcpy(b->s + b->len, d, n);
    b->len += n;
    b->s[b->len] = '\0';
    return EAS_OK;
}

static int set(const char *url, const char *v, int64_t now)
{
    return eas_cookie_set(&g_jar, url, v, strlen(v), now);
}

/* The Cookie header value for url at now, as a string. */
static const char *hdr(const char *url, int64_t now)
{
    static sbuf_t b;
    b.len = 0;
    b.s[0] = '\0';
    assert_int_equal(eas_cookie_header(&g_jar, url, now, sbuf_write, &b, NULL), EAS_OK);
    return b.s;
}

static int setup(void **state)
{
    (void)state;
    assert_int_equal(eas_cookie_jar_init(&g_jar, g_mem, sizeof(g_mem)), EAS_OK);
    return 0;
}

static void set_and_send_back(void **state)
{
    (void)state;
    assert_int_equal(eas_cookie_jar_slots(&g_jar), CONFIG_EAS_COOKIE_MAX);
    assert_int_equal(set(URL, "X-BackEndCookie=S-1-5-21=u56Lnp2ejJqB; path=/Microsoft-Server-"
                              "ActiveSync; secure; HttpOnly", NOW),
                     EAS_OK);
    assert_int_equal(set(URL, " sid = abc ", NOW), EAS_OK);
    assert_true(eas_cookie_jar_take_changed(&g_jar));
    assert_false(eas_cookie_jar_take_changed(&g_jar));
    /* Longer path first. */
    assert_string_equal(hdr(URL, NOW), "X-BackEndCookie=S-1-5-21=u56Lnp2ejJqB; sid=abc");
    assert_string_equal(hdr(URL "?Cmd=Sync&User=u", NOW),
                        "X-BackEndCookie=S-1-5-21=u56Lnp2ejJqB; sid=abc");
    /* Path match is by segment, not by prefix. */
    assert_string_equal(hdr("https://mail.example.com/Microsoft-Server-ActiveSyncX", NOW),
                        "sid=abc");
    /* Secure is not sent over http; host-only not to another host. */
    assert_string_equal(hdr(HURL, NOW), "sid=abc");
    assert_string_equal(hdr("https://other.example.com/Microsoft-Server-ActiveSync", NOW), "");
    /* Replacing keeps one cookie; the value changes. */
    assert_int_equal(set(URL, "sid=def", NOW), EAS_OK);
    assert_int_equal(eas_cookie_jar_count(&g_jar, NOW), 2);
    assert_string_equal(hdr("https://mail.example.com/", NOW), "sid=def");
}

static void domain_rules(void **state)
{
    (void)state;
    assert_int_equal(set(URL, "d=1; Domain=.Example.COM", NOW), EAS_OK);
    assert_string_equal(hdr("https://outlook.example.com/x", NOW), "d=1");
    assert_string_equal(hdr("https://example.com/x", NOW), "d=1");
    assert_string_equal(hdr("https://badexample.com/x", NOW), "");
    /* Refused: a foreign domain, a dotless suffix, a domain for an IP host. */
    assert_int_equal(set(URL, "e=1; Domain=evil.test", NOW), EAS_ERR_FORMAT);
    assert_int_equal(set(URL, "e=1; Domain=com", NOW), EAS_ERR_FORMAT);
    assert_int_equal(set(URL, "e=1; Domain=ample.com", NOW), EAS_ERR_FORMAT);
    assert_int_equal(set("https://127.0.0.1:8443/x", "e=1; Domain=0.0.1", NOW), EAS_ERR_FORMAT);
    assert_int_equal(set("https://127.0.0.1:8443/x", "ip=1", NOW), EAS_OK);
    assert_string_equal(hdr("https://127.0.0.1:9999/y", NOW), "ip=1");
    assert_int_equal(eas_cookie_jar_count(&g_jar, NOW), 2);
}

static void secure_and_prefixes(void **state)
{
    (void)state;
    assert_int_equal(set(HURL, "s=1; Secure", NOW), EAS_ERR_FORMAT);
    assert_int_equal(set(URL, "__Secure-a=1", NOW), EAS_ERR_FORMAT);
    assert_int_equal(set(URL, "__Secure-a=1; Secure", NOW), EAS_OK);
    assert_int_equal(set(URL, "__Host-b=1; Secure; Path=/x", NOW), EAS_ERR_FORMAT);
    assert_int_equal(set(URL, "__Host-b=1; Secure; Path=/; Domain=example.com", NOW),
                     EAS_ERR_FORMAT);
    assert_int_equal(set(URL, "__Host-b=1; Secure; Path=/", NOW), EAS_OK);
    assert_int_equal(eas_cookie_jar_count(&g_jar, NOW), 2);
}

static void malformed_is_refused_and_changes_nothing(void **state)
{
    (void)state;
    assert_int_equal(set(URL, "keep=1", NOW), EAS_OK);
    (void)eas_cookie_jar_take_changed(&g_jar);
    const char *bad[] = {"", "novalue", "=v", "a b=1", "a=\x01", "a=\xc3\xa9", "a=1; Path=/\x7f",
                         "a=1; Domain=exa mple.com", "a=1; Domain=example..com"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(set(URL, bad[i], NOW), EAS_ERR_FORMAT);
    }
    assert_int_equal(eas_cookie_set(&g_jar, "not a url", "a=1", 3, NOW), EAS_ERR_HTTP_URL);
    assert_false(eas_cookie_jar_take_changed(&g_jar));
    assert_string_equal(hdr(URL, NOW), "keep=1");
    /* A relative Path means the default path: the request's directory. */
    assert_int_equal(set("https://mail.example.com/a/b/c", "rel=1; Path=x", NOW), EAS_OK);
    assert_string_equal(hdr("https://mail.example.com/a/b/z", NOW), "rel=1; keep=1");
    assert_string_equal(hdr("https://mail.example.com/a/z", NOW), "keep=1");
}

static void expiry(void **state)
{
    (void)state;
    assert_int_equal(set(URL, "m=1; Max-Age=60", NOW), EAS_OK);
    assert_int_equal(set(URL, "e=1; Expires=Thu, 03-Dec-2026 00:10:00 GMT", NOW), EAS_OK);
    /* Max-Age wins over Expires whatever the order. */
    assert_int_equal(set(URL, "w=1; Expires=Wed, 01 Jan 2031 00:00:00 GMT; Max-Age=30", NOW),
                     EAS_OK);
    assert_string_equal(hdr(URL, NOW + 29), "m=1; e=1; w=1");
    assert_string_equal(hdr(URL, NOW + 30), "m=1; e=1");
    assert_string_equal(hdr(URL, NOW + 60), "e=1");
    assert_string_equal(hdr(URL, NOW + 600), "");
    assert_int_equal(eas_cookie_jar_count(&g_jar, NOW), 3);
    /* Deleting: Max-Age=0 and a past date. */
    assert_int_equal(set(URL, "m=; Max-Age=0", NOW), EAS_OK);
    assert_int_equal(set(URL, "e=x; Expires=Thu, 01 Jan 1970 00:00:00 GMT", NOW), EAS_OK);
    assert_string_equal(hdr(URL, NOW), "w=1");
    /* An unparsable Expires is ignored: a session cookie. */
    assert_int_equal(set(URL, "s=1; Expires=soon", NOW), EAS_OK);
    assert_string_equal(hdr(URL, NOW + 86400 * 1000LL), "s=1");
    /* A far future is capped at 400 days. */
    assert_int_equal(set(URL, "f=1; Max-Age=999999999999", NOW), EAS_OK);
    assert_string_equal(hdr(URL, NOW + 400LL * 86400 - 1), "s=1; f=1");
    assert_string_equal(hdr(URL, NOW + 400LL * 86400), "s=1");
}

static void cookie_dates(void **state)
{
    (void)state;
    int64_t t = 0;
    assert_int_equal(eas_cookie_parse_date("Thu, 03 Dec 2026 00:00:00 GMT", 29, &t), EAS_OK);
    assert_int_equal(t, NOW);
    const char *s = "Thursday, 03-Dec-26 00:00:00 GMT";
    assert_int_equal(eas_cookie_parse_date(s, strlen(s), &t), EAS_OK);
    assert_int_equal(t, NOW);
    s = "Dec 3 2026 0:0:0";
    assert_int_equal(eas_cookie_parse_date(s, strlen(s), &t), EAS_OK);
    assert_int_equal(t, NOW);
    const char *bad[] = {"", "Thu, 31 Feb 2026 00:00:00 GMT", "03 Dec 2026", "Dec 2026 10:00:00",
                         "Thu, 03 Dec 1500 00:00:00 GMT", "Thu, 03 Dec 2026 24:00:00 GMT"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(eas_cookie_parse_date(bad[i], strlen(bad[i]), &t), EAS_ERR_FORMAT);
    }
}

/* A server that sets a thousand cookies, and huge ones, cannot make the jar grow. */
static void hostile_server_is_bounded(void **state)
{
    (void)state;
    char v[CONFIG_EAS_COOKIE_SIZE + 64];
    assert_int_equal(set(URL, "first=1", NOW), EAS_OK);
    for (int i = 0; i < 1000; i++) {
        snprintf(v, sizeof(v), "flood%d=%d", i, i);
        assert_int_equal(set(URL, v, NOW), EAS_OK);
    }
    assert_int_equal(eas_cookie_jar_count(&g_jar, NOW), CONFIG_EAS_COOKIE_MAX);
    /* The newest survive; the first one was evicted. */
    const char *h = hdr(URL, NOW);
    assert_null(strstr(h, "first=1"));
    assert_non_null(strstr(h, "flood999=999"));
    /* An oversized cookie is refused without touching the jar. */
    memset(v, 'A', sizeof(v));
    memcpy(v, "big=", 4);
    v[sizeof(v) - 1] = '\0';
    (void)eas_cookie_jar_take_changed(&g_jar);
    assert_int_equal(set(URL, v, NOW), EAS_ERR_LIMIT);
    assert_false(eas_cookie_jar_take_changed(&g_jar));
    /* Expired cookies are evicted before live ones. */
    eas_cookie_jar_clear(&g_jar);
    assert_int_equal(set(URL, "short=1; Max-Age=5", NOW), EAS_OK);
    for (int i = 0; i < CONFIG_EAS_COOKIE_MAX - 1; i++) {
        snprintf(v, sizeof(v), "live%d=1", i);
        assert_int_equal(set(URL, v, NOW), EAS_OK);
    }
    assert_int_equal(set(URL, "late=1", NOW + 10), EAS_OK);
    assert_non_null(strstr(hdr(URL, NOW + 10), "live0=1"));
    assert_int_equal(eas_cookie_jar_count(&g_jar, NOW + 10), CONFIG_EAS_COOKIE_MAX);
}

static void save_and_load(void **state)
{
    (void)state;
    sbuf_t b = {.len = 0};
    assert_int_equal(set(URL, "a=1; Path=/Microsoft-Server-ActiveSync; Secure", NOW), EAS_OK);
    assert_int_equal(set(URL, "b=2; Domain=example.com; Max-Age=100", NOW), EAS_OK);
    assert_int_equal(set(URL, "gone=1; Max-Age=10", NOW), EAS_OK);
    assert_int_equal(eas_cookie_jar_save(&g_jar, NOW + 20, sbuf_write, &b), EAS_OK);
    assert_string_equal(b.s, "easd-cookies 1\n"
                             "mail.example.com\t1\t/Microsoft-Server-ActiveSync\t1\t0\ta\t1\n"
                             "example.com\t0\t/\t0\t1796256100\tb\t2\n");
    eas_cookie_jar_clear(&g_jar);
    assert_int_equal(eas_cookie_jar_load(&g_jar, b.s, b.len, NOW + 20), EAS_OK);
    assert_string_equal(hdr(URL, NOW + 20), "a=1; b=2");
    assert_string_equal(hdr("https://x.example.com/", NOW + 20), "b=2");
    assert_string_equal(hdr(URL, NOW + 100), "a=1");
    /* Loaded after b expired: skipped. */
    assert_int_equal(eas_cookie_jar_load(&g_jar, b.s, b.len, NOW + 200), EAS_OK);
    assert_int_equal(eas_cookie_jar_count(&g_jar, NOW + 200), 1);
}

static void load_rejects_bad_files_whole(void **state)
{
    (void)state;
    const char *bad[] = {
        "",
        "easd-cookies 2\n",
        "easd-cookies 1\nmail.example.com\t1\t/\t0\t0\ta\t1", /* no final newline */
        "easd-cookies 1\nmail.example.com\t1\t/\t0\t0\ta\n",   /* six fields */
        "easd-cookies 1\nmail.example.com\t2\t/\t0\t0\ta\t1\n",
        "easd-cookies 1\nmail.example.com\t1\tx\t0\t0\ta\t1\n",
        "easd-cookies 1\nmail.example.com\t1\t/\t0\tsoon\ta\t1\n",
        "easd-cookies 1\nmail.example.com\t1\t/\t0\t0\ta b\t1\n",
        "easd-cookies 1\nmail.example.com\t1\t/\t0\t0\ta\t1;x=2\n",
        "easd-cookies 1\nmail.example.com\t1\t/\t0\t0\t__Host-a\t1\n",
        "easd-cookies 1\nmail..example.com\t1\t/\t0\t0\ta\t1\n",
        "easd-cookies 1\nmail.example.com\t1\t/\t0\t0\ta\t1\t\n",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(set(URL, "pre=1", NOW), EAS_OK);
        int rc = eas_cookie_jar_load(&g_jar, bad[i], strlen(bad[i]), NOW);
        assert_true(rc == EAS_ERR_FORMAT);
        assert_int_equal(eas_cookie_jar_count(&g_jar, NOW), 0); /* never half loaded */
    }
    /* More lines than slots: refused as a whole. */
    sbuf_t b = {.len = 0};
    sbuf_write(&b, (const uint8_t *)"easd-cookies 1\n", 15);
    for (int i = 0; i <= CONFIG_EAS_COOKIE_MAX; i++) {
        char line[80];
        int n = snprintf(line, sizeof(line), "mail.example.com\t1\t/\t0\t0\tc%d\t1\n", i);
        sbuf_write(&b, (const uint8_t *)line, (size_t)n);
    }
    assert_int_equal(eas_cookie_jar_load(&g_jar, b.s, b.len, NOW), EAS_ERR_LIMIT);
    assert_int_equal(eas_cookie_jar_count(&g_jar, NOW), 0);
}

static void init_checks(void **state)
{
    (void)state;
    eas_cookie_jar_t j;
    assert_int_equal(eas_cookie_jar_init(&j, g_mem + 1, 100), EAS_ERR_PARAM);
    assert_int_equal(eas_cookie_jar_init(&j, g_mem, EAS_COOKIE_SLOT_SIZE - 1), EAS_ERR_NOMEM);
    assert_int_equal(eas_cookie_jar_init(&j, g_mem, EAS_COOKIE_SLOT_SIZE * 2), EAS_OK);
    assert_int_equal(eas_cookie_jar_slots(&j), CONFIG_EAS_COOKIE_MAX < 2 ? 1 : 2);
}

/* ---- through the HTTP client ---- */

typedef struct conn {
    const char *rsp[4];
    size_t n_rsp;
    size_t next; /* response being sent */
    size_t pos;
    char tx[16384];
    size_t tx_len;
    size_t requests;
} conn_t;

static conn_t g_conn;

static int32_t c_send(void *ctx, const uint8_t *buf, size_t len)
{
    conn_t *c = ctx;
    assert_true(c->tx_len + len < sizeof(c->tx));
    memcpy(c->tx + c->tx_len, buf, len);
    c->tx_len += len;
    c->tx[c->tx_len] = '\0';
    /* A request is complete at its blank line (these requests have no body). */
    size_t n = 0;
    for (const char *p = c->tx; (p = strstr(p, "\r\n\r\n")) != NULL; p += 4) {
        n++;
    }
    c->requests = n;
    return (int32_t)len;
}

static int32_t c_recv(void *ctx, uint8_t *buf, size_t len)
{
    conn_t *c = ctx;
    if (c->next >= c->n_rsp || c->requests <= c->next) {
        return 0;
    }
    const char *s = c->rsp[c->next] + c->pos;
    size_t n = strlen(s) < len ? strlen(s) : len;
    memcpy(buf, s, n);
    c->pos += n;
    if (c->rsp[c->next][c->pos] == '\0') {
        c->next++;
        c->pos = 0;
    }
    return (int32_t)n;
}

static void c_close(void *ctx)
{
    (void)ctx;
}

static int c_open(void *ctx, const char *host, uint16_t port, hal_net_security_t sec,
                  hal_io_t *io)
{
    (void)host;
    (void)port;
    (void)sec;
    io->send = c_send;
    io->recv = c_recv;
    io->close = c_close;
    io->ctx = ctx;
    return EAS_OK;
}

static int64_t fixed_utc(void *user)
{
    return *(int64_t *)user;
}

static int token_fn(void *user, bool refresh, const char **token, size_t *len)
{
    int *calls = user;
    (*calls)++;
    *token = refresh ? "tok-2" : "tok-1";
    *len = 5;
    return EAS_OK;
}

static uint8_t g_work[EAS_HTTP_CLIENT_WORK_SIZE];

static int run(eas_http_client_t *cli, const char *url)
{
    eas_http_request_t r = {
        .method = EAS_HTTP_POST, .url = url, .cmd = EAS_CMD_FOLDERSYNC,
        .version = EAS_VER_16_1, .device_id = "dev", .device_type = "easd",
    };
    uint64_t now = 1000;
    int rc = eas_http_client_start(cli, &r, now);
    assert_int_equal(rc, EAS_OK);
    for (int i = 0; i < 200 && rc == EAS_OK; i++) {
        rc = eas_http_client_step(cli, now, NULL);
        rc = rc == EAS_ERR_AGAIN ? EAS_OK : rc == EAS_OK ? 1 : rc;
        now += 10;
    }
    return rc == 1 ? EAS_OK : rc;
}

static void client_returns_cookies(void **state)
{
    (void)state;
    int64_t utc = NOW;
    int calls = 0;
    hal_net_t net = {.open = c_open, .ctx = &g_conn};
    memset(&g_conn, 0, sizeof(g_conn));
    /* 1: sets a cookie. 2: a 401 that sets another one (Exchange does that on the way to
     * the mailbox server); the retry must carry both. 3: expects both again. An over-long
     * Set-Cookie line is skipped unseen, not an error. */
    static char big[CONFIG_EAS_HTTP_MAX_HEADER + 200];
    static char rsp2[sizeof(big) + 256];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    snprintf(rsp2, sizeof(rsp2),
             "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer\r\nSet-Cookie: huge=%s\r\n"
             "Set-Cookie: route=b7; Path=/; Secure\r\nContent-Length: 0\r\n\r\n",
             big);
    g_conn.rsp[0] = "HTTP/1.1 200 OK\r\nSet-Cookie: sid=s1; Path=/Microsoft-Server-ActiveSync;"
                    " Secure; HttpOnly\r\nContent-Length: 0\r\n\r\n";
    g_conn.rsp[1] = rsp2;
    g_conn.rsp[2] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
    g_conn.n_rsp = 3;

    eas_http_client_t cli;
    eas_http_client_config_t cfg = {
        .net = &net,
        .auth = {.kind = EAS_HTTP_AUTH_BEARER, .token = token_fn, .token_user = &calls},
        .user_agent = "test", .work = g_work, .work_len = sizeof(g_work),
        .utc_now = fixed_utc, .utc_user = &utc, .cookies = &g_jar,
        .allow_plaintext_auth = true, /* the last request goes over plain http on purpose */
    };
    assert_int_equal(eas_http_client_init(&cli, &cfg), EAS_OK);
    assert_int_equal(run(&cli, URL), EAS_OK);
    assert_null(strstr(g_conn.tx, "Cookie:"));
    size_t first = g_conn.tx_len;
    assert_int_equal(run(&cli, URL), EAS_OK);
    assert_int_equal(eas_http_client_response(&cli)->status, 200);
    assert_int_equal(calls, 3); /* start, start, refresh after the 401 */
    const char *second = g_conn.tx + first;
    const char *retry = strstr(second, "Bearer tok-2");
    assert_non_null(retry);
    /* The first attempt had only sid; the retry has both, longer path first. */
    const char *c1 = strstr(second, "Cookie: ");
    assert_true(c1 != NULL && c1 < retry);
    assert_memory_equal(c1, "Cookie: sid=s1\r\n", 16);
    assert_non_null(strstr(retry, "Cookie: sid=s1; route=b7\r\n"));
    assert_int_equal(eas_cookie_jar_count(&g_jar, NOW), 2);
    /* Over plain http neither Secure cookie goes out. */
    g_conn.rsp[3] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
    g_conn.n_rsp = 4;
    first = g_conn.tx_len;
    assert_int_equal(run(&cli, HURL), EAS_OK);
    assert_null(strstr(g_conn.tx + first, "Cookie:"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(set_and_send_back, setup),
        cmocka_unit_test_setup(domain_rules, setup),
        cmocka_unit_test_setup(secure_and_prefixes, setup),
        cmocka_unit_test_setup(malformed_is_refused_and_changes_nothing, setup),
        cmocka_unit_test_setup(expiry, setup),
        cmocka_unit_test_setup(cookie_dates, setup),
        cmocka_unit_test_setup(hostile_server_is_bounded, setup),
        cmocka_unit_test_setup(save_and_load, setup),
        cmocka_unit_test_setup(load_rejects_bad_files_whole, setup),
        cmocka_unit_test_setup(init_checks, setup),
        cmocka_unit_test_setup(client_returns_cookies, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
