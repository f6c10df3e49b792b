/* SPDX-License-Identifier: Apache-2.0 */
/* Response framer: every framing case fed whole, split at every byte offset, and one byte
 * at a time must give the same result; malformed and oversize input fails cleanly. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "eas/eas_err.h"
#include "eas/eas_http.h"
#include "test_hal.h"

#define BODY_MAX 4096

typedef struct result {
    int rc; /* first error, or EAS_OK */
    bool done;
    eas_http_response_t rsp;
    char location[CONFIG_EAS_URL_MAX + 1];
    uint8_t body[BODY_MAX];
    size_t body_len;
    size_t consumed; /* total bytes consumed */
    int sink_calls;
} result_t;

typedef struct sink_ctx {
    result_t *res;
    size_t fail_at; /* fail when the body reaches this many bytes (0: never) */
} sink_ctx_t;

static int sink(void *user, const eas_http_response_t *rsp, const uint8_t *data, size_t len)
{
    sink_ctx_t *s = user;
    assert_non_null(rsp);
    assert_true(rsp->status >= 200);
    s->res->sink_calls++;
    if (s->res->body_len + len > BODY_MAX) {
        return EAS_ERR_LIMIT;
    }
    memcpy(s->res->body + s->res->body_len, data, len);
    s->res->body_len += len;
    if (s->fail_at != 0 && s->res->body_len >= s->fail_at) {
        return EAS_ERR_CANCELLED;
    }
    return EAS_OK;
}

static char g_line[CONFIG_EAS_HTTP_MAX_HEADER];
static char g_loc[CONFIG_EAS_URL_MAX + 1];

/* Feed @p msg in pieces whose boundaries are listed in @p cuts (ascending), then EOF if
 * @p eof. Pieces of one byte each when cuts == NULL and step1. */
static void run(const char *msg, size_t len, const size_t *cuts, size_t ncuts, bool step1, bool eof,
                bool head, int64_t now, size_t fail_at, result_t *res)
{
    eas_http_framer_t fr;
    sink_ctx_t sc = {.res = res, .fail_at = fail_at};
    memset(res, 0, sizeof(*res));
    eas_http_framer_init(&fr, &res->rsp, g_line, sizeof(g_line), g_loc, sizeof(g_loc), sink, &sc,
                         now, head);
    size_t pos = 0;
    size_t ci = 0;
    int rc = EAS_OK;
    while (pos < len && rc == EAS_OK && !eas_http_framer_done(&fr)) {
        size_t end = len;
        if (step1) {
            end = pos + 1;
        } else if (ci < ncuts) {
            end = cuts[ci++];
            if (end < pos) {
                end = pos;
            }
        }
        size_t used = 0;
        rc = eas_http_framer_feed(&fr, (const uint8_t *)msg + pos, end - pos, &used);
        assert_true(used <= end - pos);
        if (rc == EAS_OK && !eas_http_framer_done(&fr)) {
            assert_int_equal(used, end - pos);
        }
        pos += used;
    }
    if (rc == EAS_OK && eof) {
        rc = eas_http_framer_eof(&fr);
    }
    res->rc = rc;
    res->done = eas_http_framer_done(&fr);
    res->consumed = pos;
    if (res->rsp.location != NULL) {
        snprintf(res->location, sizeof(res->location), "%s", res->rsp.location);
    }
}

static void same_result(const result_t *a, const result_t *b)
{
    assert_int_equal(a->rc, b->rc);
    assert_int_equal(a->done, b->done);
    if (a->rc != EAS_OK) {
        return;
    }
    assert_int_equal(a->rsp.status, b->rsp.status);
    assert_int_equal(a->rsp.keep_alive, b->rsp.keep_alive);
    assert_int_equal(a->rsp.content_type, b->rsp.content_type);
    assert_int_equal(a->rsp.versions, b->rsp.versions);
    assert_int_equal(a->rsp.commands, b->rsp.commands);
    assert_int_equal(a->rsp.retry_after_s, b->rsp.retry_after_s);
    assert_int_equal(a->rsp.auth_schemes, b->rsp.auth_schemes);
    assert_string_equal(a->location, b->location);
    assert_string_equal(a->rsp.throttle, b->rsp.throttle);
    assert_int_equal(a->body_len, b->body_len);
    assert_memory_equal(a->body, b->body, a->body_len);
    assert_int_equal(a->consumed, b->consumed);
}

/* The reference result (one piece), compared with every two-piece split, a three-piece
 * split around every offset pair near the head end, and byte-at-a-time feeding. */
static void check_all_splits(const char *msg, bool eof, bool head, result_t *ref)
{
    static result_t r;
    size_t len = strlen(msg);
    run(msg, len, NULL, 0, false, eof, head, 1000, 0, ref);
    for (size_t s = 0; s <= len; s++) {
        size_t cuts[1] = {s};
        run(msg, len, cuts, 1, false, eof, head, 1000, 0, &r);
        same_result(ref, &r);
    }
    for (size_t s = 1; s + 1 < len; s += 3) {
        size_t cuts[2] = {s, s + 2};
        run(msg, len, cuts, 2, false, eof, head, 1000, 0, &r);
        same_result(ref, &r);
    }
    run(msg, len, NULL, 0, true, eof, head, 1000, 0, &r);
    same_result(ref, &r);
}

static result_t g_ref;

static void content_length_body(void **state)
{
    (void)state;
    check_all_splits("HTTP/1.1 200 OK\r\nContent-Type: application/vnd.ms-sync.wbxml\r\n"
                     "Content-Length: 5\r\n\r\nhello",
                     false, false, &g_ref);
    assert_int_equal(g_ref.rc, EAS_OK);
    assert_true(g_ref.done);
    assert_int_equal(g_ref.rsp.status, 200);
    assert_int_equal(g_ref.rsp.content_type, EAS_HTTP_CTYPE_WBXML);
    assert_int_equal(g_ref.rsp.content_length, 5);
    assert_true(g_ref.rsp.keep_alive);
    assert_int_equal(g_ref.body_len, 5);
    assert_memory_equal(g_ref.body, "hello", 5);
    assert_int_equal(g_ref.rsp.body_bytes, 5);
}

static void chunked_with_extensions_and_trailers(void **state)
{
    (void)state;
    check_all_splits("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                     "5;name=value;x=\"q;\"\r\nhello\r\n"
                     "6\r\n world\r\n"
                     "A \r\n0123456789\r\n"
                     "0;last\r\nX-Trailer: one\r\nX-Other: two\r\n\r\n",
                     false, false, &g_ref);
    assert_int_equal(g_ref.rc, EAS_OK);
    assert_true(g_ref.done);
    assert_true(g_ref.rsp.chunked);
    assert_true(g_ref.rsp.keep_alive);
    assert_int_equal(g_ref.body_len, 21);
    assert_memory_equal(g_ref.body, "hello world0123456789", 21);
}

static void chunked_zero_only_and_bare_lf(void **state)
{
    (void)state;
    check_all_splits("HTTP/1.1 200 OK\nTransfer-Encoding: Chunked\n\n0\n\n", false, false, &g_ref);
    assert_int_equal(g_ref.rc, EAS_OK);
    assert_true(g_ref.done);
    assert_int_equal(g_ref.body_len, 0);
    assert_int_equal(g_ref.sink_calls, 0);
}

static void chunk_size_hex_cases(void **state)
{
    (void)state;
    char msg[512];
    char body[300];
    memset(body, 'b', sizeof(body));
    snprintf(msg, sizeof(msg),
             "HTTP/1.1 200 OK\r\nTransfer-Encoding: "
             "chunked\r\n\r\n0000000000012c\r\n%.300s\r\n0\r\n\r\n",
             body);
    check_all_splits(msg, false, false, &g_ref);
    assert_int_equal(g_ref.rc, EAS_OK);
    assert_int_equal(g_ref.body_len, 300);
}

static void read_until_close(void **state)
{
    (void)state;
    check_all_splits("HTTP/1.0 200 OK\r\nContent-Type: text/xml\r\n\r\n<a>body</a>", true, false,
                     &g_ref);
    assert_int_equal(g_ref.rc, EAS_OK);
    assert_true(g_ref.done);
    assert_false(g_ref.rsp.keep_alive);
    assert_int_equal(g_ref.rsp.content_type, EAS_HTTP_CTYPE_XML);
    assert_int_equal(g_ref.body_len, 11);
    /* HTTP/1.1 without a length is also read until close. */
    check_all_splits("HTTP/1.1 200 OK\r\n\r\nxyz", true, false, &g_ref);
    assert_int_equal(g_ref.rc, EAS_OK);
    assert_false(g_ref.rsp.keep_alive);
    assert_int_equal(g_ref.body_len, 3);
}

static void no_body_statuses(void **state)
{
    (void)state;
    /* 204 and 304 have no body whatever the headers say; a HEAD response neither. */
    check_all_splits("HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n", false, false, &g_ref);
    assert_int_equal(g_ref.rc, EAS_OK);
    assert_true(g_ref.done);
    assert_int_equal(g_ref.body_len, 0);
    check_all_splits("HTTP/1.1 304 Not Modified\r\n\r\n", false, false, &g_ref);
    assert_true(g_ref.done);
    check_all_splits("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n", false, true, &g_ref);
    assert_int_equal(g_ref.rc, EAS_OK);
    assert_true(g_ref.done);
    check_all_splits("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", false, false, &g_ref);
    assert_true(g_ref.done);
    assert_true(g_ref.rsp.keep_alive);
}

static void interim_responses_are_skipped(void **state)
{
    (void)state;
    check_all_splits("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\nX: y\r\n\r\n"
                     "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
                     false, false, &g_ref);
    assert_int_equal(g_ref.rc, EAS_OK);
    assert_int_equal(g_ref.rsp.status, 200);
    assert_int_equal(g_ref.body_len, 2);
}

static void options_headers_extracted(void **state)
{
    (void)state;
    check_all_splits(
        "HTTP/1.1 200 OK\r\nCache-Control: private\r\nAllow: OPTIONS,POST\r\n"
        "MS-Server-ActiveSync: 14.1\r\n"
        "MS-ASProtocolVersions: 2.5,12.0,12.1,14.0,14.1\r\n"
        "MS-ASProtocolCommands: Sync,SendMail,SmartForward,SmartReply,GetAttachment,"
        "GetHierarchy,CreateCollection,DeleteCollection,MoveCollection,FolderSync,FolderCreate,"
        "FolderDelete,FolderUpdate,MoveItems,GetItemEstimate,MeetingResponse,Search,Settings,"
        "Ping,ItemOperations,ResolveRecipients,ValidateCert\r\n"
        "Public: OPTIONS, POST\r\nContent-Length: 0\r\n\r\n",
        false, false, &g_ref);
    assert_int_equal(g_ref.rc, EAS_OK);
    assert_int_equal(g_ref.rsp.server_version, EAS_VER_14_1);
    assert_true(g_ref.rsp.has_versions);
    assert_int_equal(g_ref.rsp.versions, EAS_HTTP_VER_BIT_2_5 | EAS_HTTP_VER_BIT_12_0 |
                                             EAS_HTTP_VER_BIT_12_1 | EAS_HTTP_VER_BIT_14_0 |
                                             EAS_HTTP_VER_BIT_14_1);
    assert_int_equal(eas_proto_ver_pick(g_ref.rsp.versions, 0xFF), EAS_VER_14_1);
    assert_true(g_ref.rsp.commands & (1u << EAS_CMD_SYNC));
    assert_true(g_ref.rsp.commands & (1u << EAS_CMD_PING));
    assert_true(g_ref.rsp.commands & (1u << EAS_CMD_VALIDATECERT));
    assert_false(g_ref.rsp.commands & (1u << EAS_CMD_PROVISION)); /* SOGo does not list it */
}

static void eas_status_headers(void **state)
{
    (void)state;
    check_all_splits("HTTP/1.1 451 Redirect\r\nX-MS-Location: https://other.example/"
                     "Microsoft-Server-ActiveSync\r\nLocation: https://ignored/\r\n"
                     "Content-Length: 0\r\n\r\n",
                     false, false, &g_ref);
    assert_int_equal(g_ref.rsp.status, 451);
    assert_string_equal(g_ref.location, "https://other.example/Microsoft-Server-ActiveSync");

    check_all_splits("HTTP/1.1 503 Service Unavailable\r\nRetry-After: 120\r\n"
                     "X-MS-ASThrottle: CommandFrequency\r\nConnection: close\r\n"
                     "Content-Length: 3\r\n\r\nbye",
                     false, false, &g_ref);
    assert_true(g_ref.rsp.has_retry_after);
    assert_int_equal(g_ref.rsp.retry_after_s, 120);
    assert_string_equal(g_ref.rsp.throttle, "CommandFrequency");
    assert_false(g_ref.rsp.keep_alive);

    check_all_splits("HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"SOGo, x\"\r\n"
                     "WWW-Authenticate: Bearer authorization_uri=\"https://a/\", Negotiate\r\n"
                     "Content-Type: text/html; charset=utf-8\r\nContent-Length: 0\r\n\r\n",
                     false, false, &g_ref);
    assert_int_equal(g_ref.rsp.auth_schemes,
                     EAS_HTTP_SCHEME_BASIC | EAS_HTTP_SCHEME_BEARER | EAS_HTTP_SCHEME_NEGOTIATE);
    assert_int_equal(g_ref.rsp.content_type, EAS_HTTP_CTYPE_HTML);
}

static void retry_after_dates(void **state)
{
    (void)state;
    result_t *r = &g_ref;
    const char *msg = "HTTP/1.1 503 x\r\nRetry-After: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
                      "Content-Length: 0\r\n\r\n";
    /* 784111777 is 1994-11-06T08:49:37Z. */
    run(msg, strlen(msg), NULL, 0, false, false, false, 784111777 - 90, 0, r);
    assert_int_equal(r->rc, EAS_OK);
    assert_true(r->rsp.has_retry_after);
    assert_int_equal(r->rsp.retry_after_s, 90);
    run(msg, strlen(msg), NULL, 0, false, false, false, 784111777 + 5, 0, r);
    assert_int_equal(r->rsp.retry_after_s, 0); /* in the past: now */

    int64_t t = 0;
    assert_int_equal(eas_http_parse_date("Sunday, 06-Nov-94 08:49:37 GMT", 30, &t), EAS_OK);
    assert_int_equal(t, 784111777);
    assert_int_equal(eas_http_parse_date("Sun Nov  6 08:49:37 1994", 24, &t), EAS_OK);
    assert_int_equal(t, 784111777);
    assert_int_equal(eas_http_parse_date("Thu, 01 Jan 1970 00:00:00 GMT", 29, &t), EAS_OK);
    assert_int_equal(t, 0);
    assert_int_equal(eas_http_parse_date("Tue, 29 Feb 2028 23:59:59 GMT", 29, &t), EAS_OK);
    assert_int_equal(t, 1835481599);
    assert_int_equal(eas_http_parse_date("Mon, 29 Feb 2027 00:00:00 GMT", 29, &t), EAS_ERR_FORMAT);
    assert_int_equal(eas_http_parse_date("Sun, 06 Foo 1994 08:49:37 GMT", 29, &t), EAS_ERR_FORMAT);
    assert_int_equal(eas_http_parse_date("Sun, 06 Nov 1994 25:49:37 GMT", 29, &t), EAS_ERR_FORMAT);
    assert_int_equal(eas_http_parse_date("tomorrow", 8, &t), EAS_ERR_FORMAT);

    /* A garbage Retry-After is ignored, not fatal. */
    const char *bad = "HTTP/1.1 503 x\r\nRetry-After: soon\r\nContent-Length: 0\r\n\r\n";
    run(bad, strlen(bad), NULL, 0, false, false, false, 0, 0, r);
    assert_int_equal(r->rc, EAS_OK);
    assert_false(r->rsp.has_retry_after);
}

static void expect_error_everywhere(const char *msg, bool eof, int err)
{
    static result_t r;
    size_t len = strlen(msg);
    run(msg, len, NULL, 0, false, eof, false, 0, 0, &r);
    assert_int_equal(r.rc, err);
    for (size_t s = 0; s <= len; s++) {
        size_t cuts[1] = {s};
        run(msg, len, cuts, 1, false, eof, false, 0, 0, &r);
        assert_int_equal(r.rc, err);
    }
    run(msg, len, NULL, 0, true, eof, false, 0, 0, &r);
    assert_int_equal(r.rc, err);
}

static void malformed_status_lines(void **state)
{
    (void)state;
    expect_error_everywhere("HTTP/2 200 OK\r\n\r\n", false, EAS_ERR_HTTP_STATUS_LINE);
    expect_error_everywhere("HTTP/1.1 20 OK\r\n\r\n", false, EAS_ERR_HTTP_STATUS_LINE);
    expect_error_everywhere("HTTP/1.1 200OK\r\n\r\n", false, EAS_ERR_HTTP_STATUS_LINE);
    expect_error_everywhere("ICY 200 OK\r\n\r\n", false, EAS_ERR_HTTP_STATUS_LINE);
    expect_error_everywhere("HTTP/1.1 099 x\r\n\r\n", false, EAS_ERR_HTTP_STATUS_LINE);
    expect_error_everywhere("HTTP/1.1 600 x\r\n\r\n", false, EAS_ERR_HTTP_STATUS_LINE);
    expect_error_everywhere("HTTP/1.1 101 Switching\r\n\r\n", false, EAS_ERR_HTTP_STATUS_LINE);
    expect_error_everywhere("HTTP/1.1 200 O\rK\r\n\r\n", false, EAS_ERR_HTTP_STATUS_LINE);
    expect_error_everywhere("\r\n", false, EAS_ERR_HTTP_STATUS_LINE);
}

static void malformed_headers(void **state)
{
    (void)state;
    expect_error_everywhere("HTTP/1.1 200 OK\r\nNoColon\r\n\r\n", false, EAS_ERR_HTTP_HEADER);
    expect_error_everywhere("HTTP/1.1 200 OK\r\nContent-Length : 1\r\n\r\nx", false,
                            EAS_ERR_HTTP_HEADER);
    expect_error_everywhere("HTTP/1.1 200 OK\r\nX: a\r\n folded\r\n\r\n", false,
                            EAS_ERR_HTTP_HEADER);
    expect_error_everywhere("HTTP/1.1 200 OK\r\n: empty\r\n\r\n", false, EAS_ERR_HTTP_HEADER);
    expect_error_everywhere("HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n", false, EAS_ERR_HTTP_HEADER);
    expect_error_everywhere("HTTP/1.1 200 OK\r\nX: a\x01\r\n\r\n", false, EAS_ERR_HTTP_HEADER);
    expect_error_everywhere("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", false,
                            EAS_ERR_HTTP_HEADER);
    expect_error_everywhere("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", false,
                            EAS_ERR_HTTP_HEADER);
}

static void bad_lengths(void **state)
{
    (void)state;
    expect_error_everywhere("HTTP/1.1 200 OK\r\nContent-Length: 5a\r\n\r\n", false,
                            EAS_ERR_HTTP_LENGTH);
    expect_error_everywhere("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", false,
                            EAS_ERR_HTTP_LENGTH);
    expect_error_everywhere("HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n", false,
                            EAS_ERR_HTTP_LENGTH);
    expect_error_everywhere("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n",
                            false, EAS_ERR_HTTP_LENGTH);
    expect_error_everywhere("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
                            false, EAS_ERR_HTTP_LENGTH);
    /* Identical duplicates are allowed. */
    check_all_splits("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nab", false,
                     false, &g_ref);
    assert_int_equal(g_ref.rc, EAS_OK);
    /* Chunked wins over a length, and such a connection is not reused. */
    check_all_splits("HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n"
                     "2\r\nab\r\n0\r\n\r\n",
                     false, false, &g_ref);
    assert_int_equal(g_ref.rc, EAS_OK);
    assert_int_equal(g_ref.body_len, 2);
    assert_false(g_ref.rsp.keep_alive);
}

static void bad_chunks(void **state)
{
    (void)state;
    const char *h = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    char msg[256];
    const char *cases[] = {
        "zz\r\n\r\n",               /* not hex */
        "\r\n",                     /* empty size */
        "5\r\nhelloX\r\n0\r\n\r\n", /* data not followed by CRLF */
        "1000000000000000\r\n",     /* 2^60: absurd */
        "5 x\r\nhello\r\n",         /* junk after size */
        "5\r\nhel\rlo\r\n",         /* fine data, then a bad size line "lo" */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(msg, sizeof(msg), "%s%s", h, cases[i]);
        expect_error_everywhere(msg, false, EAS_ERR_HTTP_CHUNK);
    }
    /* Trailers must be header-shaped. */
    snprintf(msg, sizeof(msg), "%s0\r\nnot a header\r\n\r\n", h);
    expect_error_everywhere(msg, false, EAS_ERR_HTTP_HEADER);
}

static void truncation_at_every_offset(void **state)
{
    (void)state;
    const char *msgs[] = {
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    };
    for (size_t m = 0; m < 2; m++) {
        size_t len = strlen(msgs[m]);
        for (size_t cut = 0; cut < len; cut++) {
            static result_t r;
            run(msgs[m], cut, NULL, 0, false, true, false, 0, 0, &r);
            assert_int_equal(r.rc, EAS_ERR_HTTP_TRUNCATED);
            assert_false(r.done);
        }
    }
}

static void oversize_heads(void **state)
{
    (void)state;
    static char msg[CONFIG_EAS_HTTP_MAX_HEADER_TOTAL + 4096];
    static char val[CONFIG_EAS_HTTP_MAX_HEADER + 64];
    memset(val, 'v', sizeof(val) - 1);
    val[sizeof(val) - 1] = '\0';

    /* A needed header longer than the line buffer: rejected. */
    snprintf(msg, sizeof(msg), "HTTP/1.1 451 R\r\nX-MS-Location: https://h/%s\r\n\r\n", val);
    expect_error_everywhere(msg, false, EAS_ERR_HTTP_HEADER_TOO_LONG);
    /* A long status line: rejected. */
    snprintf(msg, sizeof(msg), "HTTP/1.1 200 %s\r\n\r\n", val);
    expect_error_everywhere(msg, false, EAS_ERR_HTTP_HEADER_TOO_LONG);
    /* An unneeded long header (a cookie) is skipped; the response still frames. */
    snprintf(msg, sizeof(msg), "HTTP/1.1 200 OK\r\nSet-Cookie: %s\r\nContent-Length: 2\r\n\r\nok",
             val);
    check_all_splits(msg, false, false, &g_ref);
    assert_int_equal(g_ref.rc, EAS_OK);
    assert_int_equal(g_ref.body_len, 2);
    /* Too many headers in total: rejected even though each line fits. */
    size_t n = (size_t)snprintf(msg, sizeof(msg), "HTTP/1.1 200 OK\r\n");
    while (n < CONFIG_EAS_HTTP_MAX_HEADER_TOTAL + 100) {
        n += (size_t)snprintf(msg + n, sizeof(msg) - n, "X-Filler: %.60s\r\n", val);
    }
    snprintf(msg + n, sizeof(msg) - n, "\r\n");
    static result_t r;
    run(msg, strlen(msg), NULL, 0, false, false, false, 0, 0, &r);
    assert_int_equal(r.rc, EAS_ERR_HTTP_HEADER_TOO_LONG);
    /* An over-long X-MS-Location that fits the line but not the URL store: no location. */
    if (CONFIG_EAS_HTTP_MAX_HEADER > CONFIG_EAS_URL_MAX + 64) {
        snprintf(msg, sizeof(msg), "HTTP/1.1 451 R\r\nX-MS-Location: https://h/%.*s\r\n\r\n",
                 (int)CONFIG_EAS_URL_MAX, val);
        run(msg, strlen(msg), NULL, 0, false, false, false, 0, 0, &r);
        assert_int_equal(r.rc, EAS_OK);
        assert_null(r.rsp.location);
    }
}

static void sink_error_stops_framing(void **state)
{
    (void)state;
    static result_t r;
    const char *msg = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789";
    run(msg, strlen(msg), NULL, 0, true, false, false, 0, 4, &r);
    assert_int_equal(r.rc, EAS_ERR_CANCELLED);
    assert_int_equal(r.body_len, 4);
}

static void bytes_after_the_response_are_left(void **state)
{
    (void)state;
    eas_http_framer_t fr;
    eas_http_response_t rsp;
    const char *msg = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA";
    size_t used = 0;
    eas_http_framer_init(&fr, &rsp, g_line, sizeof(g_line), NULL, 0, NULL, NULL, 0, false);
    assert_int_equal(eas_http_framer_feed(&fr, (const uint8_t *)msg, strlen(msg), &used), EAS_OK);
    assert_true(eas_http_framer_done(&fr));
    assert_int_equal(used, strlen(msg) - 5);
    assert_int_equal(eas_http_framer_eof(&fr), EAS_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(content_length_body),
        cmocka_unit_test(chunked_with_extensions_and_trailers),
        cmocka_unit_test(chunked_zero_only_and_bare_lf),
        cmocka_unit_test(chunk_size_hex_cases),
        cmocka_unit_test(read_until_close),
        cmocka_unit_test(no_body_statuses),
        cmocka_unit_test(interim_responses_are_skipped),
        cmocka_unit_test(options_headers_extracted),
        cmocka_unit_test(eas_status_headers),
        cmocka_unit_test(retry_after_dates),
        cmocka_unit_test(malformed_status_lines),
        cmocka_unit_test(malformed_headers),
        cmocka_unit_test(bad_lengths),
        cmocka_unit_test(bad_chunks),
        cmocka_unit_test(truncation_at_every_offset),
        cmocka_unit_test(oversize_heads),
        cmocka_unit_test(sink_error_stops_framing),
        cmocka_unit_test(bytes_after_the_response_are_left),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
