/* SPDX-License-Identifier: Apache-2.0 */
/* The HTTP client over a fake transport: scripted byte streams with short reads, "try
 * again", resets at every offset, connector failures, deadlines, keep-alive, bearer refresh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "eas/eas_err.h"
#include "eas/eas_http.h"
#include "eas/eas_wbxml.h"
#include "test_hal.h"

#define MAX_SEGS 4

/* ---- fake connection ---- */

typedef struct fake_conn {
    const char *seg[MAX_SEGS]; /* response k becomes readable once k+1 requests were sent */
    size_t nseg;
    size_t seg_i;
    size_t seg_pos;
    size_t rx_total; /* bytes handed out so far */
    size_t rx_max;   /* at most this many bytes per recv (0: unlimited) */
    size_t tx_max;   /* at most this many bytes per send (0: unlimited) */
    int again_every; /* every n-th call returns 0 (0: never) */
    int calls;
    int end_err;       /* recv after the script: EAS_ERR_CLOSED, or 0 to hang */
    size_t rx_fail_at; /* fail when rx_total reaches this (SIZE_MAX: never) */
    size_t tx_fail_at;
    int fail_err;
    int handshake_err; /* send fails with this at once (TLS verification) */
    int connect_zero;  /* send returns 0 forever (connect never completes) */
    int failed;        /* sticky error */
    char tx[65536];
    size_t tx_len;
    int closed;
} fake_conn_t;

static size_t requests_sent(const fake_conn_t *c)
{
    size_t n = 0;
    const char *p = c->tx;
    const char *end = c->tx + c->tx_len;
    while (p < end) {
        const char *hit = memchr(p, ' ', (size_t)(end - p));
        if (hit == NULL) {
            break;
        }
        if ((size_t)(end - hit) >= 11 && memcmp(hit, " HTTP/1.1\r\n", 11) == 0) {
            n++;
        }
        p = hit + 1;
    }
    return n;
}

static bool again_now(fake_conn_t *c)
{
    c->calls++;
    return c->again_every > 0 && c->calls % c->again_every == 0;
}

static int32_t fake_send(void *ctx, const uint8_t *buf, size_t len)
{
    fake_conn_t *c = ctx;
    assert_false(c->closed);
    if (c->failed) {
        return c->failed;
    }
    if (c->handshake_err) {
        c->failed = c->handshake_err;
        return c->failed;
    }
    if (c->connect_zero || again_now(c)) {
        return 0;
    }
    if (c->tx_max && len > c->tx_max) {
        len = c->tx_max;
    }
    if (c->tx_len + len > c->tx_fail_at) {
        c->failed = c->fail_err;
        return c->failed;
    }
    assert_true(c->tx_len + len <= sizeof(c->tx));
    memcpy(c->tx + c->tx_len, buf, len);
    c->tx_len += len;
    return (int32_t)len;
}

static int32_t fake_recv(void *ctx, uint8_t *buf, size_t len)
{
    fake_conn_t *c = ctx;
    assert_false(c->closed);
    if (c->failed) {
        return c->failed;
    }
    if (again_now(c)) {
        return 0;
    }
    if (c->rx_total >= c->rx_fail_at) {
        c->failed = c->fail_err;
        return c->failed;
    }
    if (c->seg_i < c->nseg && c->seg[c->seg_i][c->seg_pos] == '\0') {
        c->seg_i++;
        c->seg_pos = 0;
    }
    if (c->seg_i >= c->nseg) {
        if (c->end_err) {
            c->failed = c->end_err;
        }
        return c->end_err;
    }
    if (requests_sent(c) < c->seg_i + 1) {
        return 0; /* the server answers only after the request */
    }
    const char *s = c->seg[c->seg_i] + c->seg_pos;
    size_t avail = strlen(s);
    if (c->rx_max && len > c->rx_max) {
        len = c->rx_max;
    }
    if (len > avail) {
        len = avail;
    }
    if (c->rx_total + len > c->rx_fail_at) {
        len = c->rx_fail_at - c->rx_total;
    }
    memcpy(buf, s, len);
    c->seg_pos += len;
    c->rx_total += len;
    return (int32_t)len;
}

static void fake_close(void *ctx)
{
    fake_conn_t *c = ctx;
    assert_false(c->closed);
    c->closed = 1;
}

typedef struct fake_net {
    fake_conn_t *conns[4];
    size_t nconns;
    size_t opened;
    int open_err;
    char last_host[256];
    uint16_t last_port;
    hal_net_security_t last_sec;
} fake_net_t;

static int fake_open(void *ctx, const char *host, uint16_t port, hal_net_security_t sec,
                     hal_io_t *io)
{
    fake_net_t *n = ctx;
    snprintf(n->last_host, sizeof(n->last_host), "%s", host);
    n->last_port = port;
    n->last_sec = sec;
    if (n->open_err) {
        return n->open_err;
    }
    assert_true(n->opened < n->nconns);
    fake_conn_t *c = n->conns[n->opened++];
    io->send = fake_send;
    io->recv = fake_recv;
    io->close = fake_close;
    io->ctx = c;
    return EAS_OK;
}

static void conn_init(fake_conn_t *c)
{
    memset(c, 0, sizeof(*c));
    c->rx_fail_at = SIZE_MAX;
    c->tx_fail_at = SIZE_MAX;
    c->end_err = EAS_ERR_CLOSED;
}

/* ---- body producers ---- */

typedef struct pattern {
    size_t len;
    int runs;
    int change_on_run; /* produce one byte less from this run on (0: never) */
} pattern_t;

static uint8_t pat_byte(size_t i)
{
    return (uint8_t)(i * 7u + 3u);
}

static int pattern_body(void *user, eas_http_write_fn write, void *wctx)
{
    pattern_t *p = user;
    uint8_t piece[13];
    size_t len = p->len;
    p->runs++;
    if (p->change_on_run && p->runs >= p->change_on_run) {
        len--;
    }
    size_t i = 0;
    size_t k = 1;
    while (i < len) {
        size_t n = k;
        if (n > len - i) {
            n = len - i;
        }
        for (size_t j = 0; j < n; j++) {
            piece[j] = pat_byte(i + j);
        }
        int rc = write(wctx, piece, n);
        if (rc != EAS_OK) {
            return rc;
        }
        i += n;
        k = k % 13 + 1;
    }
    return EAS_OK;
}

/* FolderSync with SyncKey 0, through the WBXML encoder's flush. */
static int foldersync_body(void *user, eas_http_write_fn write, void *wctx)
{
    (void)user;
    uint8_t buf[16];
    eas_wbxml_enc_t enc;
    eas_wbxml_enc_init(&enc, buf, sizeof(buf), write, wctx);
    eas_wbxml_enc_start(&enc, EAS_TAG(7, 0x16));
    eas_wbxml_enc_elem_text(&enc, EAS_TAG(7, 0x12), "0");
    eas_wbxml_enc_end(&enc);
    return eas_wbxml_enc_finish(&enc);
}

/* ---- sink ---- */

typedef struct body_rx {
    uint8_t data[8192];
    size_t len;
} body_rx_t;

static int collect(void *user, const eas_http_response_t *rsp, const uint8_t *d, size_t n)
{
    body_rx_t *b = user;
    assert_true(rsp->status >= 200);
    assert_true(b->len + n <= sizeof(b->data));
    memcpy(b->data + b->len, d, n);
    b->len += n;
    return EAS_OK;
}

/* ---- fixture ---- */

static uint8_t g_work[EAS_HTTP_CLIENT_WORK_SIZE];
static eas_http_client_t g_cli;
static fake_net_t g_net;
static hal_net_t g_hal_net;
static fake_conn_t g_c[4];
static body_rx_t g_body;

static void setup_client(eas_http_auth_t auth)
{
    memset(&g_net, 0, sizeof(g_net));
    for (int i = 0; i < 4; i++) {
        conn_init(&g_c[i]);
        g_net.conns[i] = &g_c[i];
    }
    g_net.nconns = 4;
    g_hal_net.open = fake_open;
    g_hal_net.ctx = &g_net;
    memset(&g_body, 0, sizeof(g_body));
    eas_http_client_config_t cfg = {
        .net = &g_hal_net,
        .auth = auth,
        .user_agent = "test",
        .work = g_work,
        .work_len = sizeof(g_work),
        .connect_timeout_ms = 5000,
        .send_timeout_ms = 5000,
        .first_byte_timeout_ms = 10000,
        .recv_timeout_ms = 5000,
    };
    assert_int_equal(eas_http_client_init(&g_cli, &cfg), EAS_OK);
}

static int drive(uint64_t *now, uint64_t tick, int max_steps)
{
    int rc = EAS_ERR_AGAIN;
    for (int i = 0; i < max_steps && rc == EAS_ERR_AGAIN; i++) {
        eas_http_wait_t w;
        rc = eas_http_client_step(&g_cli, *now, &w);
        if (rc == EAS_ERR_AGAIN) {
            assert_true(w.read || w.write || w.deadline_ms <= *now);
            assert_true(w.deadline_ms >= *now);
            *now += tick;
        }
    }
    return rc;
}

static const char *k_ok5 = "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.ms-sync.wbxml\r\n"
                           "Content-Length: 5\r\n\r\nhello";

static eas_http_request_t sync_req(pattern_t *p)
{
    eas_http_request_t r = {
        .method = EAS_HTTP_POST,
        .url = "https://mail.example/Microsoft-Server-ActiveSync",
        .cmd = EAS_CMD_SYNC,
        .version = EAS_VER_14_1,
        .user = "u",
        .device_id = "dev",
        .device_type = "easd",
        .body = p ? pattern_body : NULL,
        .body_user = p,
        .sink = collect,
        .sink_user = &g_body,
    };
    return r;
}

static void simple_post_and_keep_alive(void **state)
{
    (void)state;
    eas_http_auth_t auth = {.kind = EAS_HTTP_AUTH_BASIC, .user = "u", .password = "p"};
    setup_client(auth);
    g_c[0].seg[0] = k_ok5;
    g_c[0].seg[1] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n";
    g_c[0].nseg = 2;
    eas_http_request_t r = {
        .method = EAS_HTTP_POST,
        .url = "https://mail.example/Microsoft-Server-ActiveSync",
        .cmd = EAS_CMD_FOLDERSYNC,
        .version = EAS_VER_14_1,
        .user = "u",
        .device_id = "dev",
        .device_type = "easd",
        .body = foldersync_body,
        .sink = collect,
        .sink_user = &g_body,
    };
    uint64_t now = 1000;
    assert_int_equal(eas_http_client_start(&g_cli, &r, now), EAS_OK);
    assert_int_equal(eas_http_client_start(&g_cli, &r, now), EAS_ERR_BUSY);
    assert_int_equal(drive(&now, 1, 100), EAS_OK);
    assert_string_equal(g_net.last_host, "mail.example");
    assert_int_equal(g_net.last_port, 443);
    assert_int_equal(g_net.last_sec, HAL_NET_TLS);
    const char *head = "POST /Microsoft-Server-ActiveSync?Cmd=FolderSync&User=u&DeviceId=dev"
                       "&DeviceType=easd HTTP/1.1\r\nHost: mail.example\r\n"
                       "Authorization: Basic dTpw\r\nMS-ASProtocolVersion: 14.1\r\n"
                       "User-Agent: test\r\nContent-Type: application/vnd.ms-sync.wbxml\r\n"
                       "Content-Length: 13\r\n\r\n";
    size_t hl = strlen(head);
    assert_int_equal(g_c[0].tx_len, hl + 13);
    assert_memory_equal(g_c[0].tx, head, hl);
    /* 03 01 6A 00 header, SWITCH_PAGE 7, FolderSync, SyncKey "0" */
    assert_memory_equal(g_c[0].tx + hl,
                        "\x03\x01\x6a\x00\x00\x07\x56\x52\x03"
                        "0\x00\x01\x01",
                        13);
    const eas_http_response_t *rsp = eas_http_client_response(&g_cli);
    assert_int_equal(rsp->status, 200);
    assert_true(rsp->keep_alive);
    assert_int_equal(g_body.len, 5);
    assert_memory_equal(g_body.data, "hello", 5);

    /* The second request reuses the connection. */
    g_body.len = 0;
    assert_int_equal(eas_http_client_start(&g_cli, &r, now), EAS_OK);
    assert_int_equal(drive(&now, 1, 100), EAS_OK);
    assert_int_equal(g_net.opened, 1);
    assert_int_equal(g_body.len, 3);
    assert_memory_equal(g_body.data, "abc", 3);
    assert_false(g_c[0].closed);
    eas_http_client_close(&g_cli);
    assert_true(g_c[0].closed);
    eas_http_client_close(&g_cli); /* idempotent */
}

/* Every combination of short sends, short reads and "try again" gives the same bytes. */
static void short_io_and_try_again(void **state)
{
    (void)state;
    static char expect_tx[65536];
    size_t expect_len = 0;
    for (size_t txm = 1; txm <= 9; txm += 2) {
        for (size_t rxm = 1; rxm <= 7; rxm += 3) {
            for (int ag = 0; ag <= 4; ag += (ag == 0 ? 2 : 1)) {
                setup_client((eas_http_auth_t){0});
                pattern_t p = {.len = 3 * CONFIG_EAS_TX_CHUNK + 17};
                g_c[0].seg[0] = k_ok5;
                g_c[0].nseg = 1;
                g_c[0].tx_max = txm * 97;
                g_c[0].rx_max = rxm;
                g_c[0].again_every = ag;
                eas_http_request_t r = sync_req(&p);
                uint64_t now = 0;
                assert_int_equal(eas_http_client_start(&g_cli, &r, now), EAS_OK);
                int rc = drive(&now, 1, 100000);
                if (rc != EAS_OK) {
                    print_message("txm %zu rxm %zu ag %d: %s in %s\n", txm, rxm, ag,
                                  eas_err_name(rc),
                                  eas_http_phase_name(eas_http_client_failed_phase(&g_cli)));
                }
                assert_int_equal(rc, EAS_OK);
                assert_int_equal(g_body.len, 5);
                if (expect_len == 0) {
                    expect_len = g_c[0].tx_len;
                    memcpy(expect_tx, g_c[0].tx, expect_len);
                    /* The body follows the head byte for byte. */
                    const char *end = strstr(expect_tx, "\r\n\r\n");
                    assert_non_null(end);
                    size_t hl = (size_t)(end - expect_tx) + 4;
                    assert_int_equal(expect_len - hl, p.len);
                    for (size_t i = 0; i < p.len; i++) {
                        assert_int_equal((uint8_t)expect_tx[hl + i], pat_byte(i));
                    }
                } else {
                    assert_int_equal(g_c[0].tx_len, expect_len);
                    assert_memory_equal(g_c[0].tx, expect_tx, expect_len);
                }
            }
        }
    }
}

/* A reset (or an orderly close) at every offset of the response ends cleanly. */
static void reset_at_every_offset(void **state)
{
    (void)state;
    const char *msgs[] = {k_ok5, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                                 "3\r\nabc\r\n0\r\n\r\n"};
    for (size_t m = 0; m < 2; m++) {
        size_t len = strlen(msgs[m]);
        for (size_t cut = 0; cut < len; cut++) {
            for (int kind = 0; kind < 2; kind++) {
                setup_client((eas_http_auth_t){0});
                g_c[0].seg[0] = msgs[m];
                g_c[0].nseg = 1;
                g_c[0].rx_max = 3;
                g_c[0].rx_fail_at = cut;
                g_c[0].fail_err = kind == 0 ? EAS_ERR_RESET : EAS_ERR_CLOSED;
                eas_http_request_t r = sync_req(NULL);
                uint64_t now = 0;
                assert_int_equal(eas_http_client_start(&g_cli, &r, now), EAS_OK);
                int rc = drive(&now, 1, 1000);
                if (kind == 0) {
                    assert_int_equal(rc, EAS_ERR_RESET);
                } else {
                    assert_int_equal(rc, cut == 0 ? EAS_ERR_CLOSED : EAS_ERR_HTTP_TRUNCATED);
                }
                assert_true(g_c[0].closed);
                assert_int_equal(eas_http_client_failed_phase(&g_cli),
                                 cut == 0 ? EAS_HTTP_PHASE_WAIT : EAS_HTTP_PHASE_RECV);
                /* step keeps reporting the same error */
                assert_int_equal(eas_http_client_step(&g_cli, now, NULL), rc);
            }
        }
    }
}

static void reset_while_sending_at_every_offset(void **state)
{
    (void)state;
    size_t total = 0;
    for (size_t cut = 0;; cut += 7) {
        setup_client((eas_http_auth_t){0});
        pattern_t p = {.len = 300};
        g_c[0].seg[0] = k_ok5;
        g_c[0].nseg = 1;
        g_c[0].tx_max = 5;
        g_c[0].tx_fail_at = cut;
        g_c[0].fail_err = EAS_ERR_RESET;
        eas_http_request_t r = sync_req(&p);
        uint64_t now = 0;
        assert_int_equal(eas_http_client_start(&g_cli, &r, now), EAS_OK);
        int rc = drive(&now, 1, 10000);
        if (rc == EAS_OK) {
            total = g_c[0].tx_len;
            assert_true(cut >= total);
            break;
        }
        assert_int_equal(rc, EAS_ERR_RESET);
        assert_int_equal(eas_http_client_failed_phase(&g_cli),
                         cut < 5 ? EAS_HTTP_PHASE_CONNECT : EAS_HTTP_PHASE_SEND);
        assert_true(g_c[0].closed);
    }
    assert_true(total > 300);
}

static void connection_close_means_new_connection(void **state)
{
    (void)state;
    setup_client((eas_http_auth_t){0});
    g_c[0].seg[0] = "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\nx";
    g_c[0].nseg = 1;
    g_c[1].seg[0] = k_ok5;
    g_c[1].nseg = 1;
    eas_http_request_t r = sync_req(NULL);
    uint64_t now = 0;
    assert_int_equal(eas_http_client_start(&g_cli, &r, now), EAS_OK);
    assert_int_equal(drive(&now, 1, 100), EAS_OK);
    assert_false(eas_http_client_response(&g_cli)->keep_alive);
    assert_true(g_c[0].closed);
    assert_int_equal(eas_http_client_start(&g_cli, &r, now), EAS_OK);
    assert_int_equal(drive(&now, 1, 100), EAS_OK);
    assert_int_equal(g_net.opened, 2);

    /* A different host also gets its own connection. */
    g_c[2].seg[0] = k_ok5;
    g_c[2].nseg = 1;
    r.url = "http://other.example:8080/Microsoft-Server-ActiveSync";
    assert_int_equal(eas_http_client_start(&g_cli, &r, now), EAS_OK);
    assert_int_equal(drive(&now, 1, 100), EAS_OK);
    assert_int_equal(g_net.opened, 3);
    assert_true(g_c[1].closed);
    assert_string_equal(g_net.last_host, "other.example");
    assert_int_equal(g_net.last_port, 8080);
    assert_int_equal(g_net.last_sec, HAL_NET_PLAIN);
}

static void stale_keep_alive_is_retried_once(void **state)
{
    (void)state;
    setup_client((eas_http_auth_t){0});
    g_c[0].seg[0] = k_ok5;
    g_c[0].nseg = 1;
    g_c[0].end_err = EAS_ERR_CLOSED; /* the server closed the idle connection */
    g_c[1].seg[0] = k_ok5;
    g_c[1].nseg = 1;
    eas_http_request_t r = sync_req(NULL);
    uint64_t now = 0;
    assert_int_equal(eas_http_client_start(&g_cli, &r, now), EAS_OK);
    assert_int_equal(drive(&now, 1, 100), EAS_OK);
    g_body.len = 0;
    assert_int_equal(eas_http_client_start(&g_cli, &r, now), EAS_OK);
    assert_int_equal(drive(&now, 1, 100), EAS_OK);
    assert_int_equal(g_net.opened, 2);
    assert_true(g_c[0].closed);
    assert_int_equal(g_body.len, 5);
    /* A fresh connection that fails is not retried. */
    g_c[1].end_err = EAS_ERR_RESET;
    g_c[2].seg[0] = "";
    g_c[2].nseg = 1;
    g_c[2].end_err = EAS_ERR_RESET;
    assert_int_equal(eas_http_client_start(&g_cli, &r, now), EAS_OK);
    assert_int_equal(drive(&now, 1, 100), EAS_ERR_RESET);
    assert_int_equal(g_net.opened, 3);
}

static void connector_errors_are_distinct(void **state)
{
    (void)state;
    const int errs[] = {EAS_ERR_DNS, EAS_ERR_CONNECT, EAS_ERR_TLS_CA};
    for (size_t i = 0; i < 3; i++) {
        setup_client((eas_http_auth_t){0});
        g_net.open_err = errs[i];
        eas_http_request_t r = sync_req(NULL);
        uint64_t now = 0;
        assert_int_equal(eas_http_client_start(&g_cli, &r, now), EAS_OK);
        assert_int_equal(drive(&now, 1, 10), errs[i]);
        assert_int_equal(eas_http_client_failed_phase(&g_cli), EAS_HTTP_PHASE_CONNECT);
    }
    /* Certificate problems surface from the handshake inside send. */
    const int tls[] = {EAS_ERR_TLS_CERT_UNTRUSTED, EAS_ERR_TLS_CERT_HOSTNAME,
                       EAS_ERR_TLS_CERT_EXPIRED, EAS_ERR_TLS_HANDSHAKE};
    for (size_t i = 0; i < 4; i++) {
        setup_client((eas_http_auth_t){0});
        g_c[0].handshake_err = tls[i];
        eas_http_request_t r = sync_req(NULL);
        uint64_t now = 0;
        assert_int_equal(eas_http_client_start(&g_cli, &r, now), EAS_OK);
        assert_int_equal(drive(&now, 1, 10), tls[i]);
        assert_int_equal(eas_http_client_failed_phase(&g_cli), EAS_HTTP_PHASE_CONNECT);
        assert_true(g_c[0].closed);
    }
}

static void deadlines_per_phase(void **state)
{
    (void)state;
    /* connect: the handshake never finishes */
    setup_client((eas_http_auth_t){0});
    g_c[0].connect_zero = 1;
    eas_http_request_t r = sync_req(NULL);
    uint64_t now = 0;
    assert_int_equal(eas_http_client_start(&g_cli, &r, now), EAS_OK);
    assert_int_equal(drive(&now, 1000, 100), EAS_ERR_TIMEOUT);
    assert_int_equal(eas_http_client_failed_phase(&g_cli), EAS_HTTP_PHASE_CONNECT);
    assert_true(now >= 5000 && now <= 6000);

    /* first byte: the default, then a Ping-sized per-request value */
    setup_client((eas_http_auth_t){0});
    g_c[0].nseg = 0;
    g_c[0].end_err = 0; /* silence */
    now = 0;
    assert_int_equal(eas_http_client_start(&g_cli, &r, now), EAS_OK);
    assert_int_equal(drive(&now, 1000, 100), EAS_ERR_TIMEOUT);
    assert_int_equal(eas_http_client_failed_phase(&g_cli), EAS_HTTP_PHASE_WAIT);
    assert_true(now >= 10000 && now <= 11000);

    setup_client((eas_http_auth_t){0});
    g_c[0].nseg = 0;
    g_c[0].end_err = 0;
    r.first_byte_timeout_ms = 3600u * 1000u + 30000u;
    now = 0;
    assert_int_equal(eas_http_client_start(&g_cli, &r, now), EAS_OK);
    eas_http_wait_t w;
    assert_int_equal(eas_http_client_step(&g_cli, now, &w), EAS_ERR_AGAIN);
    assert_true(w.read);
    assert_int_equal(w.deadline_ms, 3630000u);
    now = 3629999;
    assert_int_equal(eas_http_client_step(&g_cli, now, &w), EAS_ERR_AGAIN);
    now = 3630000;
    assert_int_equal(eas_http_client_step(&g_cli, now, &w), EAS_ERR_TIMEOUT);
    assert_int_equal(eas_http_client_failed_phase(&g_cli), EAS_HTTP_PHASE_WAIT);

    /* body: the server stalls in the middle */
    setup_client((eas_http_auth_t){0});
    g_c[0].seg[0] = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial";
    g_c[0].nseg = 1;
    g_c[0].end_err = 0;
    r.first_byte_timeout_ms = 0;
    now = 0;
    assert_int_equal(eas_http_client_start(&g_cli, &r, now), EAS_OK);
    assert_int_equal(drive(&now, 1000, 100), EAS_ERR_TIMEOUT);
    assert_int_equal(eas_http_client_failed_phase(&g_cli), EAS_HTTP_PHASE_RECV);
    assert_int_equal(g_body.len, 7);
}

static int g_token_calls;
static int g_token_refreshes;

static int token_cb(void *user, bool refresh, const char **tok, size_t *len)
{
    (void)user;
    g_token_calls++;
    if (refresh) {
        g_token_refreshes++;
    }
    *tok = refresh ? "fresh-token" : "old-token";
    *len = strlen(*tok);
    return EAS_OK;
}

static void bearer_refreshed_once_on_401(void **state)
{
    (void)state;
    eas_http_auth_t auth = {.kind = EAS_HTTP_AUTH_BEARER, .token = token_cb};
    setup_client(auth);
    g_token_calls = 0;
    g_token_refreshes = 0;
    g_c[0].seg[0] = "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer\r\n"
                    "Content-Length: 6\r\n\r\ndenied";
    g_c[0].seg[1] = k_ok5;
    g_c[0].nseg = 2;
    pattern_t p = {.len = 40};
    eas_http_request_t r = sync_req(&p);
    uint64_t now = 0;
    assert_int_equal(eas_http_client_start(&g_cli, &r, now), EAS_OK);
    assert_int_equal(drive(&now, 1, 100), EAS_OK);
    assert_int_equal(eas_http_client_response(&g_cli)->status, 200);
    assert_int_equal(g_token_refreshes, 1);
    assert_int_equal(g_body.len, 5); /* the 401 body never reached the sink */
    assert_non_null(strstr(g_c[0].tx, "Authorization: Bearer old-token\r\n"));
    assert_non_null(strstr(g_c[0].tx + 100, "Authorization: Bearer fresh-token\r\n"));

    /* Refused again: the 401 is reported, no storm. */
    setup_client(auth);
    g_token_refreshes = 0;
    g_c[0].seg[0] = "HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n";
    g_c[0].seg[1] = "HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n";
    g_c[0].nseg = 2;
    now = 0;
    assert_int_equal(eas_http_client_start(&g_cli, &r, now), EAS_OK);
    assert_int_equal(drive(&now, 1, 100), EAS_OK);
    assert_int_equal(eas_http_client_response(&g_cli)->status, 401);
    assert_int_equal(g_token_refreshes, 1);
    assert_int_equal(g_net.opened, 1);
}

static void producer_must_be_deterministic(void **state)
{
    (void)state;
    setup_client((eas_http_auth_t){0});
    g_c[0].seg[0] = k_ok5;
    g_c[0].nseg = 1;
    pattern_t p = {.len = 2 * CONFIG_EAS_TX_CHUNK, .change_on_run = 2};
    eas_http_request_t r = sync_req(&p);
    uint64_t now = 0;
    assert_int_equal(eas_http_client_start(&g_cli, &r, now), EAS_OK);
    assert_int_equal(drive(&now, 1, 1000), EAS_ERR_INTERNAL);
    assert_int_equal(eas_http_client_failed_phase(&g_cli), EAS_HTTP_PHASE_SEND);
}

static void api_misuse(void **state)
{
    (void)state;
    eas_http_client_config_t cfg = {.net = &g_hal_net, .work = g_work, .work_len = 10};
    assert_int_equal(eas_http_client_init(&g_cli, &cfg), EAS_ERR_NOMEM);
    cfg.net = NULL;
    assert_int_equal(eas_http_client_init(&g_cli, &cfg), EAS_ERR_PARAM);
    setup_client((eas_http_auth_t){0});
    assert_int_equal(eas_http_client_step(&g_cli, 0, NULL), EAS_ERR_STATE);
    eas_http_request_t r = sync_req(NULL);
    r.url = "https://bad host/";
    assert_int_equal(eas_http_client_start(&g_cli, &r, 0), EAS_ERR_HTTP_URL);
    r = sync_req(NULL);
    r.device_id = NULL;
    assert_int_equal(eas_http_client_start(&g_cli, &r, 0), EAS_ERR_PARAM);
    /* cancel in the middle closes the connection */
    r = sync_req(NULL);
    g_c[0].nseg = 0;
    g_c[0].end_err = 0;
    assert_int_equal(eas_http_client_start(&g_cli, &r, 0), EAS_OK);
    assert_int_equal(eas_http_client_step(&g_cli, 0, NULL), EAS_ERR_AGAIN);
    eas_http_client_cancel(&g_cli);
    assert_true(g_c[0].closed);
    assert_int_equal(eas_http_client_step(&g_cli, 0, NULL), EAS_ERR_STATE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(simple_post_and_keep_alive),
        cmocka_unit_test(short_io_and_try_again),
        cmocka_unit_test(reset_at_every_offset),
        cmocka_unit_test(reset_while_sending_at_every_offset),
        cmocka_unit_test(connection_close_means_new_connection),
        cmocka_unit_test(stale_keep_alive_is_retried_once),
        cmocka_unit_test(connector_errors_are_distinct),
        cmocka_unit_test(deadlines_per_phase),
        cmocka_unit_test(bearer_refreshed_once_on_401),
        cmocka_unit_test(producer_must_be_deterministic),
        cmocka_unit_test(api_misuse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
