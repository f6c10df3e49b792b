/* SPDX-License-Identifier: Apache-2.0 */
/* What a hostile server can no longer do to the HTTP client (issue: bounded requests):
 * hold a request open by dripping one byte just before each per-phase deadline, make it read
 * an endless body nobody streams on, or silence the device with a huge Retry-After. The
 * clock is simulated: each test drives the client with its own now_ms, the fake transport
 * hands out bytes according to that clock, and no test waits on the wall clock. */
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

/* ---- a scripted server driven by the simulated clock ---- */

typedef struct drip_conn {
    const char *head; /* response head, handed out whole after the request */
    size_t head_pos;
    uint8_t fill;        /* after the head: endless body of this byte (0: no body) */
    uint64_t drip_every; /* >0: one byte per this many ms (head and body) */
    uint64_t next_drip;
    uint64_t rx_total;
    int got_request;
    int closed;
} drip_conn_t;

static uint64_t g_now; /* the simulated clock, shared with the fake transport */

static int32_t drip_send(void *ctx, const uint8_t *buf, size_t len)
{
    drip_conn_t *c = ctx;
    (void)buf;
    assert_false(c->closed);
    c->got_request = 1; /* the whole request fits one send in these tests */
    return (int32_t)len;
}

static int32_t drip_recv(void *ctx, uint8_t *buf, size_t len)
{
    drip_conn_t *c = ctx;
    assert_false(c->closed);
    if (!c->got_request || len == 0) {
        return 0;
    }
    if (c->drip_every != 0) {
        if (g_now < c->next_drip) {
            return 0;
        }
        c->next_drip = g_now + c->drip_every;
        len = 1;
    }
    size_t n = 0;
    size_t hl = strlen(c->head);
    while (n < len && c->head_pos < hl) {
        buf[n++] = (uint8_t)c->head[c->head_pos++];
    }
    if (n < len && c->head_pos == hl) {
        if (c->fill == 0) {
            return n > 0 ? (int32_t)n : 0; /* nothing more: silence */
        }
        memset(buf + n, c->fill, len - n);
        n = len;
    }
    c->rx_total += n;
    return (int32_t)n;
}

static void drip_close(void *ctx)
{
    drip_conn_t *c = ctx;
    c->closed = 1;
}

static drip_conn_t g_conn;

static int drip_open(void *ctx, const char *host, uint16_t port, hal_net_security_t sec,
                     hal_io_t *io)
{
    (void)ctx;
    (void)host;
    (void)port;
    (void)sec;
    io->send = drip_send;
    io->recv = drip_recv;
    io->close = drip_close;
    io->ctx = &g_conn;
    return EAS_OK;
}

/* ---- fixture ---- */

static uint8_t g_work[EAS_HTTP_CLIENT_WORK_SIZE];
static eas_http_client_t g_cli;
static hal_net_t g_net = {.open = drip_open};
static uint64_t g_sunk;

static int count_sink(void *user, const eas_http_response_t *rsp, const uint8_t *d, size_t n)
{
    (void)user;
    (void)rsp;
    (void)d;
    g_sunk += n;
    return EAS_OK;
}

static void setup(uint32_t total_ms)
{
    memset(&g_conn, 0, sizeof(g_conn));
    g_sunk = 0;
    g_now = 0;
    eas_http_client_config_t cfg = {
        .net = &g_net,
        .work = g_work,
        .work_len = sizeof(g_work),
        .connect_timeout_ms = 30000,
        .send_timeout_ms = 60000,
        .first_byte_timeout_ms = 120000,
        .recv_timeout_ms = 60000,
        .total_timeout_ms = total_ms,
    };
    assert_int_equal(eas_http_client_init(&g_cli, &cfg), EAS_OK);
}

static eas_http_request_t req(eas_cmd_t cmd, eas_http_method_t method, bool sink)
{
    eas_http_request_t r = {
        .method = method,
        .url = "https://mail.example/Microsoft-Server-ActiveSync",
        .cmd = cmd,
        .version = EAS_VER_14_1,
        .user = "u",
        .device_id = "dev",
        .device_type = "easd",
        .sink = sink ? count_sink : NULL,
    };
    return r;
}

/* Drive like an event loop: sleep until the deadline the client asked for (or one tick when it
 * wants to be called again at once), at most max_steps times. */
static int run(uint64_t tick_ms, long max_steps)
{
    int rc = EAS_ERR_AGAIN;
    for (long i = 0; i < max_steps && rc == EAS_ERR_AGAIN; i++) {
        eas_http_wait_t w;
        rc = eas_http_client_step(&g_cli, g_now, &w);
        if (rc == EAS_ERR_AGAIN) {
            assert_true(w.deadline_ms >= g_now);
            uint64_t next = g_now + tick_ms;
            g_now = w.deadline_ms > g_now && w.deadline_ms < next ? w.deadline_ms : next;
        }
    }
    return rc;
}

/* ---- slow drip ---- */

static void slow_drip_ends_at_the_total_deadline(void **state)
{
    (void)state;
    /* One byte every 50 s: every per-phase deadline (60 s without progress) is met, so
       before the total deadline this request never ended. */
    setup(600000);
    g_conn.head = "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.ms-sync.wbxml\r\n"
                  "Content-Length: 100000\r\n\r\n";
    g_conn.fill = 'x';
    g_conn.drip_every = 50000;
    eas_http_request_t r = req(EAS_CMD_FOLDERSYNC, EAS_HTTP_POST, true);
    assert_int_equal(eas_http_client_start(&g_cli, &r, g_now), EAS_OK);
    assert_int_equal(run(10000, 100000), EAS_ERR_HTTP_DEADLINE);
    assert_true(g_now >= 600000 && g_now < 600000 + 10000);
    assert_true(g_conn.closed);
    assert_int_equal(eas_http_client_failed_phase(&g_cli), EAS_HTTP_PHASE_RECV);
    /* A few bytes got through; the drip did not get to finish. */
    assert_true(g_conn.rx_total > 5 && g_conn.rx_total < 20);
}

static void request_total_overrides_default(void **state)
{
    (void)state;
    setup(600000);
    g_conn.head = "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n";
    g_conn.fill = 'x';
    g_conn.drip_every = 50000;
    eas_http_request_t r = req(EAS_CMD_SYNC, EAS_HTTP_POST, true);
    r.total_timeout_ms = 120000;
    assert_int_equal(eas_http_client_start(&g_cli, &r, g_now), EAS_OK);
    assert_int_equal(run(10000, 100000), EAS_ERR_HTTP_DEADLINE);
    assert_true(g_now >= 120000 && g_now < 130000);
}

static void ping_gets_heartbeat_plus_margin(void **state)
{
    (void)state;
    /* A Ping waits up to its heartbeat for the first byte; without a total of its own it
       gets that wait plus the margin, not the (shorter) default total. */
    setup(600000);
    g_conn.head = ""; /* silent */
    eas_http_request_t r = req(EAS_CMD_PING, EAS_HTTP_POST, true);
    r.first_byte_timeout_ms = 3540000u + 30000u;
    assert_int_equal(eas_http_client_start(&g_cli, &r, g_now), EAS_OK);
    eas_http_wait_t w;
    assert_int_equal(eas_http_client_step(&g_cli, g_now, &w), EAS_ERR_AGAIN);
    assert_int_equal(w.deadline_ms, 3570000u); /* the first-byte deadline comes first */
    assert_int_equal(run(60000, 100000), EAS_ERR_TIMEOUT);
    assert_int_equal(eas_http_client_failed_phase(&g_cli), EAS_HTTP_PHASE_WAIT);

    /* The Ping answers at the last moment, then drips: ends at heartbeat + margin. */
    setup(600000);
    g_conn.head = "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n";
    g_conn.fill = 'x';
    g_conn.drip_every = 50000;
    g_conn.next_drip = 3560000u;
    r.total_timeout_ms = 0;
    assert_int_equal(eas_http_client_start(&g_cli, &r, g_now), EAS_OK);
    assert_int_equal(run(10000, 100000), EAS_ERR_HTTP_DEADLINE);
    assert_true(g_now >= 3570000u + EAS_HTTP_TOTAL_MARGIN_MS &&
                g_now < 3570000u + EAS_HTTP_TOTAL_MARGIN_MS + 10000u);

    /* An engine-set total (heartbeat + its own margin) wins over the computed one. */
    setup(600000);
    g_conn.head = "";
    r.total_timeout_ms = 3540000u + 45000u;
    assert_int_equal(eas_http_client_start(&g_cli, &r, g_now), EAS_OK);
    assert_int_equal(eas_http_client_step(&g_cli, g_now, &w), EAS_ERR_AGAIN);
    assert_int_equal(w.deadline_ms, 3570000u);
}

static void fast_answer_is_not_affected(void **state)
{
    (void)state;
    setup(600000);
    g_conn.head = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
    eas_http_request_t r = req(EAS_CMD_SYNC, EAS_HTTP_POST, true);
    assert_int_equal(eas_http_client_start(&g_cli, &r, g_now), EAS_OK);
    assert_int_equal(run(1, 100), EAS_OK);
    assert_int_equal(eas_http_client_response(&g_cli)->status, 200);
}

/* ---- endless bodies ---- */

static void endless_error_body_is_cut(void **state)
{
    (void)state;
    /* A 500 whose body never ends (read until close): it is not parsed, so it is read only up
       to CONFIG_EAS_HTTP_MAX_UNSTREAMED and the request ends with its own error. */
    setup(600000);
    g_conn.head = "HTTP/1.1 500 Oops\r\nConnection: close\r\n\r\n";
    g_conn.fill = 'z';
    eas_http_request_t r = req(EAS_CMD_SYNC, EAS_HTTP_POST, true);
    assert_int_equal(eas_http_client_start(&g_cli, &r, g_now), EAS_OK);
    assert_int_equal(run(1, 1000000), EAS_ERR_HTTP_TOO_LARGE);
    assert_true(g_conn.closed);
    assert_true(g_sunk <= CONFIG_EAS_HTTP_MAX_UNSTREAMED);
    assert_true(g_conn.rx_total <= CONFIG_EAS_HTTP_MAX_UNSTREAMED + 2u * CONFIG_EAS_RX_CHUNK);
    assert_int_equal(eas_http_client_failed_phase(&g_cli), EAS_HTTP_PHASE_RECV);
}

static void announced_oversize_refused_at_once(void **state)
{
    (void)state;
    setup(600000);
    g_conn.head = "HTTP/1.1 401 No\r\nContent-Length: 8000000000\r\n\r\n";
    g_conn.fill = 'z';
    eas_http_request_t r = req(EAS_CMD_SYNC, EAS_HTTP_POST, true);
    assert_int_equal(eas_http_client_start(&g_cli, &r, g_now), EAS_OK);
    assert_int_equal(run(1, 1000000), EAS_ERR_HTTP_TOO_LARGE);
    /* Stopped with the first body piece, not after reading up to the bound. */
    assert_true(g_conn.rx_total <= 2u * CONFIG_EAS_RX_CHUNK);
}

static void options_and_sinkless_bodies_are_bounded(void **state)
{
    (void)state;
    setup(600000);
    g_conn.head = "HTTP/1.1 200 OK\r\nMS-ASProtocolVersions: 14.1\r\n\r\n";
    g_conn.fill = 'o';
    eas_http_request_t r = req(EAS_CMD_NONE, EAS_HTTP_OPTIONS, true);
    assert_int_equal(eas_http_client_start(&g_cli, &r, g_now), EAS_OK);
    assert_int_equal(run(1, 1000000), EAS_ERR_HTTP_TOO_LARGE);
    assert_true(g_sunk <= CONFIG_EAS_HTTP_MAX_UNSTREAMED);

    setup(600000);
    g_conn.head = "HTTP/1.1 200 OK\r\n\r\n";
    g_conn.fill = 'o';
    r = req(EAS_CMD_SYNC, EAS_HTTP_POST, false);
    assert_int_equal(eas_http_client_start(&g_cli, &r, g_now), EAS_OK);
    assert_int_equal(run(1, 1000000), EAS_ERR_HTTP_TOO_LARGE);
}

static void request_bound_and_streamed_bodies(void **state)
{
    (void)state;
    /* A request's own bound (Autodiscover sets one) applies even to a 2xx it streams. */
    setup(600000);
    g_conn.head = "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\n\r\n";
    g_conn.fill = ' ';
    eas_http_request_t r = req(EAS_CMD_NONE, EAS_HTTP_POST, true);
    r.max_body_bytes = 4096;
    assert_int_equal(eas_http_client_start(&g_cli, &r, g_now), EAS_OK);
    assert_int_equal(run(1, 1000000), EAS_ERR_HTTP_TOO_LARGE);
    assert_true(g_sunk <= 4096);

    /* A 2xx streamed to the application has no size bound (an attachment may be large):
       it passes the unstreamed bound and is cut only by the total deadline. */
    setup(600000);
    g_conn.head = "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.ms-sync.wbxml\r\n\r\n";
    g_conn.fill = 'a';
    r = req(EAS_CMD_ITEMOPERATIONS, EAS_HTTP_POST, true);
    assert_int_equal(eas_http_client_start(&g_cli, &r, g_now), EAS_OK);
    int rc = EAS_ERR_AGAIN;
    while (rc == EAS_ERR_AGAIN && g_sunk <= 4u * CONFIG_EAS_HTTP_MAX_UNSTREAMED) {
        rc = eas_http_client_step(&g_cli, g_now, NULL);
    }
    assert_int_equal(rc, EAS_ERR_AGAIN);
    g_now = 600000;
    assert_int_equal(eas_http_client_step(&g_cli, g_now, NULL), EAS_ERR_HTTP_DEADLINE);
}

/* ---- Retry-After ---- */

static void huge_retry_after_is_capped_and_reported(void **state)
{
    (void)state;
    eas_http_response_t rsp;
    memset(&rsp, 0, sizeof(rsp));
    rsp.status = 503;
    rsp.has_retry_after = true;
    rsp.retry_after_s = UINT32_MAX; /* ~136 years */
    eas_http_verdict_t v;
    eas_http_classify(&rsp, &v);
    assert_int_equal(v.cls, EAS_HTTP_CLASS_UNAVAILABLE);
    assert_true(v.has_retry_after);
    assert_int_equal(v.retry_after_s, CONFIG_EAS_HTTP_RETRY_AFTER_MAX_S);
    assert_true(v.retry_after_capped);
    assert_int_equal(v.retry_after_asked_s, UINT32_MAX);
    assert_true(CONFIG_EAS_HTTP_RETRY_AFTER_MAX_S <= 3600); /* the documented default */

    /* At the cap and below: honoured as sent, nothing reported. */
    rsp.retry_after_s = CONFIG_EAS_HTTP_RETRY_AFTER_MAX_S;
    eas_http_classify(&rsp, &v);
    assert_int_equal(v.retry_after_s, CONFIG_EAS_HTTP_RETRY_AFTER_MAX_S);
    assert_false(v.retry_after_capped);
    rsp.retry_after_s = 30;
    eas_http_classify(&rsp, &v);
    assert_int_equal(v.retry_after_s, 30);
    assert_false(v.retry_after_capped);

    /* Through the framer, as a number and as a far HTTP-date. */
    static const char *const heads[] = {
        "HTTP/1.1 503 Busy\r\nRetry-After: 4294967295\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 429 Slow\r\nRetry-After: Fri, 31 Dec 2100 23:59:59 GMT\r\n"
        "Content-Length: 0\r\n\r\n",
    };
    for (size_t i = 0; i < 2; i++) {
        setup(600000);
        g_conn.head = heads[i];
        eas_http_request_t r = req(EAS_CMD_SYNC, EAS_HTTP_POST, true);
        assert_int_equal(eas_http_client_start(&g_cli, &r, g_now), EAS_OK);
        assert_int_equal(run(1, 100), EAS_OK);
        eas_http_classify(eas_http_client_response(&g_cli), &v);
        assert_true(v.transient);
        assert_true(v.retry_after_capped);
        assert_int_equal(v.retry_after_s, CONFIG_EAS_HTTP_RETRY_AFTER_MAX_S);
        assert_true(v.retry_after_asked_s > CONFIG_EAS_HTTP_RETRY_AFTER_MAX_S);
    }
}

/* ---- credentials over plain http ---- */

static void plaintext_credentials_need_opt_in(void **state)
{
    (void)state;
    eas_http_auth_t basic = {.kind = EAS_HTTP_AUTH_BASIC, .user = "u", .password = "p"};
    eas_http_client_config_t cfg = {
        .net = &g_net, .auth = basic, .work = g_work, .work_len = sizeof(g_work)};
    memset(&g_conn, 0, sizeof(g_conn));
    g_conn.head = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
    assert_int_equal(eas_http_client_init(&g_cli, &cfg), EAS_OK);
    eas_http_request_t r = req(EAS_CMD_SYNC, EAS_HTTP_POST, true);
    r.url = "http://mail.example/Microsoft-Server-ActiveSync";
    /* Refused before anything is opened or sent. */
    assert_int_equal(eas_http_client_start(&g_cli, &r, 0), EAS_ERR_HTTP_PLAINTEXT_AUTH);
    assert_false(g_conn.got_request);
    /* https, or no credentials: fine. */
    r.url = "https://mail.example/Microsoft-Server-ActiveSync";
    assert_int_equal(eas_http_client_start(&g_cli, &r, 0), EAS_OK);
    eas_http_client_cancel(&g_cli);
    cfg.auth.kind = EAS_HTTP_AUTH_NONE;
    assert_int_equal(eas_http_client_init(&g_cli, &cfg), EAS_OK);
    r.url = "http://mail.example/Microsoft-Server-ActiveSync";
    assert_int_equal(eas_http_client_start(&g_cli, &r, 0), EAS_OK);
    eas_http_client_cancel(&g_cli);
    /* With the application's explicit opt-in. */
    cfg.auth = basic;
    cfg.allow_plaintext_auth = true;
    assert_int_equal(eas_http_client_init(&g_cli, &cfg), EAS_OK);
    assert_int_equal(eas_http_client_start(&g_cli, &r, 0), EAS_OK);
    g_now = 0;
    assert_int_equal(run(1, 100), EAS_OK);
    assert_true(g_conn.got_request);
}

static void new_errors_have_text(void **state)
{
    (void)state;
    static const int errs[] = {EAS_ERR_HTTP_DEADLINE, EAS_ERR_HTTP_TOO_LARGE,
                               EAS_ERR_HTTP_REDIRECT_APPROVAL, EAS_ERR_HTTP_PLAINTEXT_AUTH};
    for (size_t i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
        assert_string_not_equal(eas_err_name(errs[i]), "EAS_ERR_UNKNOWN");
        assert_non_null(eas_strerror(errs[i])); /* texts are compiled out in small builds */
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(slow_drip_ends_at_the_total_deadline),
        cmocka_unit_test(request_total_overrides_default),
        cmocka_unit_test(ping_gets_heartbeat_plus_margin),
        cmocka_unit_test(fast_answer_is_not_affected),
        cmocka_unit_test(endless_error_body_is_cut),
        cmocka_unit_test(announced_oversize_refused_at_once),
        cmocka_unit_test(options_and_sinkless_bodies_are_bounded),
        cmocka_unit_test(request_bound_and_streamed_bodies),
        cmocka_unit_test(huge_retry_after_is_capped_and_reported),
        cmocka_unit_test(plaintext_credentials_need_opt_in),
        cmocka_unit_test(new_errors_have_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
