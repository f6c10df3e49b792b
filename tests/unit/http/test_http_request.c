/* SPDX-License-Identifier: Apache-2.0 */
/* URL parsing, request heads compared byte for byte, base64 query vectors, the status
 * table and redirect checks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "eas/eas_base64.h"
#include "eas/eas_err.h"
#include "eas/eas_http.h"
#include "test_hal.h"

/* ---- URL ---- */

static void url_parses_what_eas_needs(void **state)
{
    (void)state;
    eas_url_t u;
    const char *s = "https://Mail.Example.com/Microsoft-Server-ActiveSync";
    assert_int_equal(eas_url_parse(s, &u), EAS_OK);
    assert_int_equal(u.tls, 1);
    assert_int_equal(u.port, 443);
    assert_int_equal(u.port_set, 0);
    assert_int_equal(u.host_len, 16);
    assert_memory_equal(s + u.host_off, "Mail.Example.com", 16);
    assert_memory_equal(s + u.path_off, "/Microsoft-Server-ActiveSync", u.path_len);

    s = "http://127.0.0.1:8080/x?a=b#frag";
    assert_int_equal(eas_url_parse(s, &u), EAS_OK);
    assert_int_equal(u.tls, 0);
    assert_int_equal(u.port, 8080);
    assert_int_equal(u.path_len, 6); /* fragment dropped */
    assert_memory_equal(s + u.path_off, "/x?a=b", 6);

    s = "HTTPS://[::1]:8443";
    assert_int_equal(eas_url_parse(s, &u), EAS_OK);
    assert_int_equal(u.ipv6, 1);
    assert_int_equal(u.port, 8443);
    assert_int_equal(u.host_len, 3);
    assert_memory_equal(s + u.host_off, "::1", 3);
    assert_int_equal(u.path_len, 0);

    s = "https://[fe80::1:2:3]/p";
    assert_int_equal(eas_url_parse(s, &u), EAS_OK);
    assert_memory_equal(s + u.host_off, "fe80::1:2:3", u.host_len);
}

static void url_rejects_bad_input(void **state)
{
    (void)state;
    eas_url_t u;
    const char *bad[] = {
        "",
        "ftp://host/",
        "https//host/",
        "https://",
        "https:///path",
        "https://user:pass@host/",
        "https://host:0/",
        "https://host:65536/",
        "https://host:/",
        "https://host:12a/",
        "https://ho st/",
        "https://host/pa th",
        "https://host/\r\nX: y",
        "https://[::1/",
        "https://[]/",
        "https://[zz::1]/",
        "https://[1.2.3.4]/",
        "https://.host/",
        "https://host!/",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(eas_url_parse(bad[i], &u), EAS_ERR_HTTP_URL);
    }
    assert_int_equal(eas_url_parse(NULL, &u), EAS_ERR_PARAM);
    static char longurl[CONFIG_EAS_URL_MAX + 16];
    memcpy(longurl, "https://h/", 10);
    memset(longurl + 10, 'a', sizeof(longurl) - 11);
    longurl[sizeof(longurl) - 1] = '\0';
    assert_int_equal(eas_url_parse(longurl, &u), EAS_ERR_HTTP_URL);
}

static void url_same_and_resolve(void **state)
{
    (void)state;
    assert_true(eas_url_same("https://A.example/x", "https://a.EXAMPLE:443/x"));
    assert_true(eas_url_same("http://h", "http://h:80/"));
    assert_false(eas_url_same("https://h/x", "http://h/x"));
    assert_false(eas_url_same("https://h/x", "https://h/X"));
    assert_false(eas_url_same("https://h:444/x", "https://h/x"));
    assert_false(eas_url_same("junk", "junk"));

    char out[128];
    assert_int_equal(eas_url_resolve("https://h:8443/a/b?q", "/c/d", out, sizeof(out)), EAS_OK);
    assert_string_equal(out, "https://h:8443/c/d");
    assert_int_equal(eas_url_resolve("https://h/a", "https://o/z", out, sizeof(out)), EAS_OK);
    assert_string_equal(out, "https://o/z");
    assert_int_equal(eas_url_resolve("https://h/a", "relative", out, sizeof(out)),
                     EAS_ERR_HTTP_URL);
    assert_int_equal(eas_url_resolve("https://h/a", "//o/z", out, sizeof(out)), EAS_ERR_HTTP_URL);
    assert_int_equal(eas_url_resolve("https://h/a", "/0123456789", out, 12), EAS_ERR_NOMEM);
}

/* ---- request heads ---- */

typedef struct sbuf {
    char data[4096];
    size_t len;
    size_t max_piece;
} sbuf_t;

static int sbuf_write(void *ctx, const uint8_t *data, size_t len)
{
    sbuf_t *b = ctx;
    if (b->len + len >= sizeof(b->data)) {
        return EAS_ERR_NOMEM;
    }
    memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    if (len > b->max_piece) {
        b->max_piece = len;
    }
    return EAS_OK;
}

static int dummy_body(void *user, eas_http_write_fn write, void *wctx)
{
    (void)user;
    return write(wctx, (const uint8_t *)"\x03\x01\x6a\x00", 4);
}

static void foldersync_head_matches(void **state)
{
    (void)state;
    static sbuf_t b;
    b.len = 0;
    eas_http_auth_t auth = {.kind = EAS_HTTP_AUTH_BASIC, .user = "fakename", .password = "secret"};
    eas_http_request_t req = {
        .method = EAS_HTTP_POST,
        .url = "https://Contoso.com/Microsoft-Server-ActiveSync",
        .cmd = EAS_CMD_FOLDERSYNC,
        .version = EAS_VER_14_0,
        .user = "fakename",
        .device_id = "v140Device",
        .device_type = "SmartPhone",
        .policy_key = 1234567890u,
        .body = dummy_body,
    };
    assert_int_equal(eas_http_request_write(&req, &auth, "ASOM", NULL, 0, 13, sbuf_write, &b),
                     EAS_OK);
    assert_string_equal(b.data, "POST /Microsoft-Server-ActiveSync?Cmd=FolderSync&User=fakename"
                                "&DeviceId=v140Device&DeviceType=SmartPhone HTTP/1.1\r\n"
                                "Host: Contoso.com\r\n"
                                "Authorization: Basic ZmFrZW5hbWU6c2VjcmV0\r\n"
                                "MS-ASProtocolVersion: 14.0\r\n"
                                "X-MS-PolicyKey: 1234567890\r\n"
                                "User-Agent: ASOM\r\n"
                                "Content-Type: application/vnd.ms-sync.wbxml\r\n"
                                "Content-Length: 13\r\n"
                                "\r\n");
}

static void values_are_percent_encoded(void **state)
{
    (void)state;
    static sbuf_t b;
    b.len = 0;
    eas_http_auth_t auth = {
        .kind = EAS_HTTP_AUTH_BASIC, .user = "DOMAIN\\j\xc3\xa9", .password = "p@ss:w0rd"};
    eas_http_param_t params[] = {
        {EAS_HTTP_PARAM_ITEM_ID, "5:12"},
        {EAS_HTTP_PARAM_COLLECTION_ID, "vevent%2Fpersonal"},
    };
    eas_http_request_t req = {
        .method = EAS_HTTP_POST,
        .url = "http://[::1]:8080/Microsoft-Server-ActiveSync?x=1",
        .cmd = EAS_CMD_SMARTREPLY,
        .version = EAS_VER_12_1,
        .user = "DOMAIN\\j\xc3\xa9 d&o=e",
        .device_id = "dev+id/1",
        .device_type = "Phone~_.-",
        .params = params,
        .n_params = 2,
        .save_in_sent = true,
    };
    assert_int_equal(eas_http_request_write(&req, &auth, NULL, NULL, 0, 0, sbuf_write, &b), EAS_OK);
    assert_string_equal(
        b.data,
        "POST /Microsoft-Server-ActiveSync?x=1&Cmd=SmartReply&User=DOMAIN%5Cj%C3%A9%20d%26o%3De"
        "&DeviceId=dev%2Bid%2F1&DeviceType=Phone~_.-&ItemId=5%3A12"
        "&CollectionId=vevent%252Fpersonal&SaveInSent=T HTTP/1.1\r\n"
        "Host: [::1]:8080\r\n"
        "Authorization: Basic RE9NQUlOXGrDqTpwQHNzOncwcmQ=\r\n"
        "MS-ASProtocolVersion: 12.1\r\n"
        "User-Agent: easd/0.1\r\n"
        "Content-Length: 0\r\n"
        "\r\n");
}

static void options_and_plain_post_heads(void **state)
{
    (void)state;
    static sbuf_t b;
    b.len = 0;
    eas_http_request_t req = {
        .method = EAS_HTTP_OPTIONS,
        .url = "https://h:443/Microsoft-Server-ActiveSync",
        .cmd = EAS_CMD_NONE,
    };
    const char *tok = "eyJ0eXAi.abc.def";
    eas_http_auth_t auth = {.kind = EAS_HTTP_AUTH_BEARER};
    assert_int_equal(
        eas_http_request_write(&req, &auth, "ua", tok, strlen(tok), 99, sbuf_write, &b), EAS_OK);
    assert_string_equal(b.data, "OPTIONS /Microsoft-Server-ActiveSync HTTP/1.1\r\n"
                                "Host: h\r\n"
                                "Authorization: Bearer eyJ0eXAi.abc.def\r\n"
                                "User-Agent: ua\r\n"
                                "\r\n");
    b.len = 0;
    eas_http_request_t ad = {
        .method = EAS_HTTP_POST,
        .url = "https://example.test/autodiscover/autodiscover.xml",
        .cmd = EAS_CMD_NONE,
        .content_type = "text/xml",
        .body = dummy_body,
    };
    assert_int_equal(eas_http_request_write(&ad, NULL, "ua", NULL, 0, 321, sbuf_write, &b), EAS_OK);
    assert_string_equal(b.data, "POST /autodiscover/autodiscover.xml HTTP/1.1\r\n"
                                "Host: example.test\r\n"
                                "User-Agent: ua\r\n"
                                "Content-Type: text/xml\r\n"
                                "Content-Length: 321\r\n"
                                "\r\n");
}

static void head_injection_refused(void **state)
{
    (void)state;
    static sbuf_t b;
    eas_http_request_t req = {
        .method = EAS_HTTP_POST,
        .url = "https://h/Microsoft-Server-ActiveSync",
        .cmd = EAS_CMD_SYNC,
        .version = EAS_VER_14_1,
        .device_id = "d",
        .device_type = "t",
    };
    eas_http_auth_t bearer = {.kind = EAS_HTTP_AUTH_BEARER};
    assert_int_equal(eas_http_request_write(&req, NULL, "ua\r\nX: y", NULL, 0, 0, sbuf_write, &b),
                     EAS_ERR_PARAM);
    assert_int_equal(eas_http_request_write(&req, &bearer, "ua", "t\nX", 3, 0, sbuf_write, &b),
                     EAS_ERR_PARAM);
    req.content_type = "text/xml\r\nX: y";
    assert_int_equal(eas_http_request_write(&req, NULL, "ua", NULL, 0, 0, sbuf_write, &b),
                     EAS_ERR_PARAM);
    req.content_type = NULL;
    req.device_id = NULL;
    assert_int_equal(eas_http_request_write(&req, NULL, "ua", NULL, 0, 0, sbuf_write, &b),
                     EAS_ERR_PARAM);
    req.device_id = "d";
    req.cmd = (eas_cmd_t)5; /* no such command code */
    assert_int_equal(eas_http_request_write(&req, NULL, "ua", NULL, 0, 0, sbuf_write, &b),
                     EAS_ERR_PARAM);
    req.cmd = EAS_CMD_SYNC;
    req.url = "https://h/a b";
    assert_int_equal(eas_http_request_write(&req, NULL, "ua", NULL, 0, 0, sbuf_write, &b),
                     EAS_ERR_HTTP_URL);
}

static int fail_third(void *ctx, const uint8_t *d, size_t n)
{
    (void)d;
    (void)n;
    int *calls = ctx;
    return ++*calls >= 3 ? EAS_ERR_AGAIN : EAS_OK;
}

static void writer_stop_is_returned(void **state)
{
    (void)state;
    eas_http_request_t req = {.method = EAS_HTTP_OPTIONS, .url = "https://h/x"};
    int calls = 0;
    assert_int_equal(eas_http_request_write(&req, NULL, "ua", NULL, 0, 0, fail_third, &calls),
                     EAS_ERR_AGAIN);
    assert_int_equal(calls, 3); /* nothing written after the stop */
}

/* ---- base64 query (MS-ASHTTP 2.2.1.1.1.1) ---- */

static void base64_query_vectors(void **state)
{
    (void)state;
#if CONFIG_EAS_BASE64_QUERY
    char out[256];
    size_t n = 0;
    /* Vector 1 is the example printed in MS-ASHTTP itself. */
    eas_http_request_t r1 = {
        .method = EAS_HTTP_POST,
        .url = "https://h/Microsoft-Server-ActiveSync",
        .cmd = EAS_CMD_SYNC,
        .version = EAS_VER_14_0,
        .base64_query = true,
        .device_id = "v140Device",
        .device_type = "SmartPhone",
    };
    assert_int_equal(eas_http_base64_query(&r1, out, sizeof(out), &n), EAS_OK);
    assert_string_equal(out, "jAAJBAp2MTQwRGV2aWNlAApTbWFydFBob25l");
    assert_int_equal(n, strlen(out));

    /* Vectors 2-3 come from tests/unit/http/gen_b64_query_vectors.py. */
    eas_http_request_t r2 = {
        .method = EAS_HTTP_POST,
        .url = "https://h/Microsoft-Server-ActiveSync",
        .cmd = EAS_CMD_PING,
        .version = EAS_VER_14_1,
        .base64_query = true,
        .device_id = "EASD0123456789AB",
        .device_type = "easd",
        .policy_key = 3942919513u,
        .user = "testuser",
    };
    assert_int_equal(eas_http_base64_query(&r2, out, sizeof(out), &n), EAS_OK);
    assert_string_equal(out, "jRIJBBBFQVNEMDEyMzQ1Njc4OUFCBFktBOsEZWFzZAgIdGVzdHVzZXI=");

    eas_http_param_t params[] = {
        {EAS_HTTP_PARAM_ITEM_ID, "5:12"},
        {EAS_HTTP_PARAM_COLLECTION_ID, "vevent%2Fpersonal"},
    };
    eas_http_request_t r3 = {
        .method = EAS_HTTP_POST,
        .url = "https://h/Microsoft-Server-ActiveSync",
        .cmd = EAS_CMD_SMARTREPLY,
        .version = EAS_VER_16_1,
        .base64_query = true,
        .locale = 0x0407,
        .device_id = "dev",
        .device_type = "Phone",
        .policy_key = 1,
        .user = "DOMAIN\\j",
        .params = params,
        .n_params = 2,
        .save_in_sent = true,
    };
    assert_int_equal(eas_http_base64_query(&r3, out, sizeof(out), &n), EAS_OK);
    assert_string_equal(
        out, "oQMHBANkZXYEAQAAAAVQaG9uZQMENToxMgERdmV2ZW50JTJGcGVyc29uYWwHAQEICERPTUFJTlxq");

    /* In a request head the query replaces the plain form, and so do the version and
     * policy key headers. */
    static sbuf_t b;
    b.len = 0;
    assert_int_equal(eas_http_request_write(&r2, NULL, "ua", NULL, 0, 0, sbuf_write, &b), EAS_OK);
    assert_string_equal(b.data,
                        "POST /Microsoft-Server-ActiveSync?"
                        "jRIJBBBFQVNEMDEyMzQ1Njc4OUFCBFktBOsEZWFzZAgIdGVzdHVzZXI= HTTP/1.1\r\n"
                        "Host: h\r\n"
                        "User-Agent: ua\r\n"
                        "Content-Length: 0\r\n"
                        "\r\n");

    /* Decoding our own output gives the documented byte layout. */
    uint8_t raw[128];
    size_t rn = 0;
    assert_int_equal(eas_http_base64_query(&r2, out, sizeof(out), &n), EAS_OK);
    assert_int_equal(eas_base64_decode(out, n, raw, sizeof(raw), &rn), EAS_OK);
    assert_int_equal(rn, 41);
    assert_int_equal(raw[0], 141);                    /* protocol version 14.1 */
    assert_int_equal(raw[1], 18);                     /* Ping */
    assert_int_equal(raw[2] | (raw[3] << 8), 0x0409); /* locale, little-endian */
    assert_int_equal(raw[4], 16);
    assert_memory_equal(raw + 5, "EASD0123456789AB", 16);
    assert_int_equal(raw[21], 4);
    uint32_t pk = (uint32_t)raw[22] | ((uint32_t)raw[23] << 8) | ((uint32_t)raw[24] << 16) |
                  ((uint32_t)raw[25] << 24);
    assert_int_equal(pk, 3942919513u);
    assert_int_equal(raw[26], 4);
    assert_memory_equal(raw + 27, "easd", 4);
    assert_int_equal(raw[31], 8); /* User tag */
    assert_int_equal(raw[32], 8);
    assert_memory_equal(raw + 33, "testuser", 8);
#else
    char out[64];
    eas_http_request_t r = {
        .method = EAS_HTTP_POST,
        .url = "https://h/Microsoft-Server-ActiveSync",
        .cmd = EAS_CMD_SYNC,
        .version = EAS_VER_14_1,
        .base64_query = true,
        .device_id = "d",
        .device_type = "t",
    };
    static sbuf_t b;
    assert_int_equal(eas_http_base64_query(&r, out, sizeof(out), NULL), EAS_ERR_UNSUPPORTED);
    assert_int_equal(eas_http_request_write(&r, NULL, "ua", NULL, 0, 0, sbuf_write, &b),
                     EAS_ERR_UNSUPPORTED);
#endif
}

static void base64_query_limits(void **state)
{
    (void)state;
#if CONFIG_EAS_BASE64_QUERY
    char out[1024];
    static char big[300];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    eas_http_request_t r = {
        .method = EAS_HTTP_POST,
        .url = "https://h/Microsoft-Server-ActiveSync",
        .cmd = EAS_CMD_SYNC,
        .version = EAS_VER_14_1,
        .base64_query = true,
        .device_id = big,
        .device_type = "t",
    };
    assert_int_equal(eas_http_base64_query(&r, out, sizeof(out), NULL), EAS_ERR_PARAM);
    r.device_id = "d";
    r.version = EAS_VER_12_0; /* the base64 form starts at 12.1 */
    assert_int_equal(eas_http_base64_query(&r, out, sizeof(out), NULL), EAS_ERR_PARAM);
    r.version = EAS_VER_12_1;
    assert_int_equal(eas_http_base64_query(&r, out, 8, NULL), EAS_ERR_NOMEM);
    assert_int_equal(eas_http_base64_query(&r, out, sizeof(out), NULL), EAS_OK);
#else
    char out[16];
    eas_http_request_t r = {.method = EAS_HTTP_POST, .url = "https://h/x", .cmd = EAS_CMD_SYNC};
    assert_int_equal(eas_http_base64_query(&r, out, sizeof(out), NULL), EAS_ERR_UNSUPPORTED);
#endif
}

/* ---- status table ---- */

static void status_table(void **state)
{
    (void)state;
    static const struct {
        uint16_t status;
        eas_http_class_t cls;
        int err;
        bool transient;
    } rows[] = {
        {200, EAS_HTTP_CLASS_OK, EAS_OK, false},
        {204, EAS_HTTP_CLASS_OK, EAS_OK, false},
        {302, EAS_HTTP_CLASS_HTTP_REDIRECT, EAS_ERR_HTTP_STATUS, false},
        {400, EAS_HTTP_CLASS_BAD_REQUEST, EAS_ERR_HTTP_STATUS, false},
        {401, EAS_HTTP_CLASS_AUTH, EAS_ERR_AUTH, false},
        {403, EAS_HTTP_CLASS_FORBIDDEN, EAS_ERR_FORBIDDEN, false},
        {404, EAS_HTTP_CLASS_NOT_FOUND, EAS_ERR_HTTP_STATUS, false},
        {409, EAS_HTTP_CLASS_BAD_REQUEST, EAS_ERR_HTTP_STATUS, false},
        {429, EAS_HTTP_CLASS_UNAVAILABLE, EAS_ERR_THROTTLED, true},
        {449, EAS_HTTP_CLASS_PROVISION, EAS_ERR_POLICY, true},
        {451, EAS_HTTP_CLASS_REDIRECT, EAS_ERR_HTTP_STATUS, true},
        {456, EAS_HTTP_CLASS_BLOCKED, EAS_ERR_DEVICE_BLOCKED, false},
        {457, EAS_HTTP_CLASS_PASSWORD_EXPIRED, EAS_ERR_AUTH, false},
        {500, EAS_HTTP_CLASS_SERVER_ERROR, EAS_ERR_SERVER, true},
        {502, EAS_HTTP_CLASS_SERVER_ERROR, EAS_ERR_SERVER, true},
        {503, EAS_HTTP_CLASS_UNAVAILABLE, EAS_ERR_THROTTLED, true},
        {507, EAS_HTTP_CLASS_QUOTA, EAS_ERR_MAILBOX_QUOTA, false},
        {100, EAS_HTTP_CLASS_UNEXPECTED, EAS_ERR_HTTP_STATUS, false},
        {300, EAS_HTTP_CLASS_UNEXPECTED, EAS_ERR_HTTP_STATUS, false},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        eas_http_response_t rsp;
        eas_http_verdict_t v;
        memset(&rsp, 0, sizeof(rsp));
        rsp.status = rows[i].status;
        rsp.location = "https://x/";
        rsp.has_retry_after = true;
        rsp.retry_after_s = 7;
        eas_http_classify(&rsp, &v);
        assert_int_equal(v.cls, rows[i].cls);
        assert_int_equal(v.err, rows[i].err);
        assert_int_equal(v.transient, rows[i].transient);
        assert_int_equal(v.retry_after_s, 7);
        assert_non_null(eas_http_class_name(v.cls));
    }
    /* 451 without X-MS-Location cannot be followed. */
    eas_http_response_t rsp;
    eas_http_verdict_t v;
    memset(&rsp, 0, sizeof(rsp));
    rsp.status = 451;
    eas_http_classify(&rsp, &v);
    assert_null(v.location);
    assert_false(v.transient);
}

static void redirect_checks(void **state)
{
    (void)state;
    uint8_t count = 0;
    const char *cur = "https://a.example/Microsoft-Server-ActiveSync";
    assert_int_equal(
        eas_http_redirect_check(cur, "https://A.EXAMPLE:443/Microsoft-Server-ActiveSync", &count),
        EAS_ERR_HTTP_REDIRECT_LOOP);
    assert_int_equal(
        eas_http_redirect_check(cur, "http://b.example/Microsoft-Server-ActiveSync", &count),
        EAS_ERR_HTTP_URL);
    assert_int_equal(eas_http_redirect_check(cur, "not a url", &count), EAS_ERR_HTTP_URL);
    assert_int_equal(count, 0);
    for (int i = 0; i < CONFIG_EAS_MAX_REDIRECTS; i++) {
        assert_int_equal(eas_http_redirect_check(cur, "https://b.example/x", &count), EAS_OK);
    }
    assert_int_equal(count, CONFIG_EAS_MAX_REDIRECTS);
    assert_int_equal(eas_http_redirect_check(cur, "https://b.example/x", &count),
                     EAS_ERR_HTTP_TOO_MANY_REDIRECTS);
}

/* Issue 11: the one redirect policy of the engine and Autodiscover. */
static void redirect_policy(void **state)
{
    (void)state;
    const char *cur = "https://mail.example/Microsoft-Server-ActiveSync";
    /* same origin (case, default port spelt out, other path): follow */
    assert_int_equal(eas_http_redirect_policy(cur, "https://MAIL.example:443/eas", NULL), EAS_OK);
    /* another host, another port, another scheme: the application decides */
    assert_int_equal(eas_http_redirect_policy(cur, "https://evil.example/eas", NULL),
                     EAS_ERR_HTTP_REDIRECT_APPROVAL);
    assert_int_equal(eas_http_redirect_policy(cur, "https://mail.example:8443/eas", NULL),
                     EAS_ERR_HTTP_REDIRECT_APPROVAL);
    assert_int_equal(
        eas_http_redirect_policy("http://mail.example/eas", "https://mail.example/eas", NULL),
        EAS_ERR_HTTP_REDIRECT_APPROVAL);
    static const char *const hosts[] = {"other.example", "EVIL.example", "::1"};
    const eas_http_allow_t allow = {hosts, 3};
    const eas_http_allow_t none = {hosts, 0};
    assert_int_equal(eas_http_redirect_policy(cur, "https://evil.example/eas", &allow), EAS_OK);
    assert_int_equal(eas_http_redirect_policy(cur, "https://evil.example/eas", &none),
                     EAS_ERR_HTTP_REDIRECT_APPROVAL);
    assert_int_equal(eas_http_redirect_policy(cur, "https://evil.example.net/eas", &allow),
                     EAS_ERR_HTTP_REDIRECT_APPROVAL);
    assert_int_equal(eas_http_redirect_policy(cur, "https://[::1]:8443/eas", &allow), EAS_OK);
    /* never down to plain http, same host or listed */
    assert_int_equal(eas_http_redirect_policy(cur, "http://mail.example/eas", &allow),
                     EAS_ERR_HTTP_URL);
    assert_int_equal(eas_http_redirect_policy(cur, "http://evil.example/eas", &allow),
                     EAS_ERR_HTTP_URL);
    assert_int_equal(eas_http_redirect_policy(cur, "javascript:x", &allow), EAS_ERR_HTTP_URL);
    assert_int_equal(eas_http_redirect_policy(NULL, cur, &allow), EAS_ERR_PARAM);
    assert_true(eas_url_same_origin("https://a.example/x", "https://A.example:443/y"));
    assert_false(eas_url_same_origin("https://a.example/x", "http://a.example:443/x"));
    assert_false(eas_url_host_listed("https://a.example/x", NULL, 0));
}

static void versions_and_commands(void **state)
{
    (void)state;
    assert_string_equal(eas_cmd_name(EAS_CMD_PING), "Ping");
    assert_string_equal(eas_cmd_name(EAS_CMD_FIND), "Find");
    assert_null(eas_cmd_name((eas_cmd_t)5));
    assert_null(eas_cmd_name(EAS_CMD_NONE));
    assert_string_equal(eas_proto_ver_string(EAS_VER_16_1), "16.1");
    assert_null(eas_proto_ver_string((eas_proto_ver_t)99));
    uint8_t mine = EAS_HTTP_VER_BIT_12_1 | EAS_HTTP_VER_BIT_14_0 | EAS_HTTP_VER_BIT_14_1 |
                   EAS_HTTP_VER_BIT_16_0 | EAS_HTTP_VER_BIT_16_1;
    assert_int_equal(eas_proto_ver_pick(EAS_HTTP_VER_BIT_2_5 | EAS_HTTP_VER_BIT_14_1, mine),
                     EAS_VER_14_1);
    assert_int_equal(eas_proto_ver_pick(EAS_HTTP_VER_BIT_2_5, mine), EAS_VER_NONE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(url_parses_what_eas_needs),
        cmocka_unit_test(url_rejects_bad_input),
        cmocka_unit_test(url_same_and_resolve),
        cmocka_unit_test(foldersync_head_matches),
        cmocka_unit_test(values_are_percent_encoded),
        cmocka_unit_test(options_and_plain_post_heads),
        cmocka_unit_test(head_injection_refused),
        cmocka_unit_test(writer_stop_is_returned),
        cmocka_unit_test(base64_query_vectors),
        cmocka_unit_test(base64_query_limits),
        cmocka_unit_test(status_table),
        cmocka_unit_test(redirect_checks),
        cmocka_unit_test(redirect_policy),
        cmocka_unit_test(versions_and_commands),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
