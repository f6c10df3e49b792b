/* SPDX-License-Identifier: Apache-2.0 */
/* Non-blocking HTTP client over one hal_io_t: connect, stream the request through the
 * transmit buffer, frame the response, keep the connection for the next request. */
#include <string.h>

#include "eas/eas_config_defaults.h"
#include "eas/eas_cookie.h"
#include "eas/eas_err.h"
#include "eas/eas_http.h"
#include "eas_log.h"
#include "http_internal.h"

/* Work done per step before yielding, so one fast peer cannot starve the caller's loop. */
#define HTTP_STEP_ROUNDS 32

static const char *const k_phase_names[] = {"idle", "connect", "send", "wait", "receive", "done"};

const char *eas_http_phase_name(eas_http_phase_t phase)
{
    if ((unsigned)phase < sizeof(k_phase_names) / sizeof(k_phase_names[0])) {
        return k_phase_names[phase];
    }
    return "?";
}

static uint32_t or_default(uint32_t v, uint32_t def)
{
    return v != 0 ? v : def;
}

int eas_http_client_init(eas_http_client_t *cli, const eas_http_client_config_t *cfg)
{
    if (cli == NULL || cfg == NULL || cfg->net == NULL || cfg->net->open == NULL ||
        cfg->work == NULL) {
        return EAS_ERR_PARAM;
    }
    if (cfg->work_len < EAS_HTTP_CLIENT_WORK_SIZE) {
        return EAS_ERR_NOMEM;
    }
    memset(cli, 0, sizeof(*cli));
    cli->cfg = *cfg;
    cli->cfg.connect_timeout_ms =
        or_default(cfg->connect_timeout_ms, CONFIG_EAS_HTTP_CONNECT_TIMEOUT_MS);
    cli->cfg.send_timeout_ms = or_default(cfg->send_timeout_ms, CONFIG_EAS_HTTP_SEND_TIMEOUT_MS);
    cli->cfg.first_byte_timeout_ms =
        or_default(cfg->first_byte_timeout_ms, CONFIG_EAS_HTTP_FIRST_BYTE_TIMEOUT_MS);
    cli->cfg.recv_timeout_ms = or_default(cfg->recv_timeout_ms, CONFIG_EAS_HTTP_RECV_TIMEOUT_MS);
    cli->cfg.total_timeout_ms = or_default(cfg->total_timeout_ms, CONFIG_EAS_HTTP_TOTAL_TIMEOUT_MS);
    cli->tx = cfg->work;
    cli->tx_cap = CONFIG_EAS_TX_CHUNK;
    cli->rx = cli->tx + cli->tx_cap;
    cli->rx_cap = CONFIG_EAS_RX_CHUNK;
    cli->phase = EAS_HTTP_PHASE_IDLE;
    return EAS_OK;
}

static char *line_buf(eas_http_client_t *cli)
{
    return (char *)(cli->rx + cli->rx_cap);
}

static char *loc_buf(eas_http_client_t *cli)
{
    return line_buf(cli) + CONFIG_EAS_HTTP_MAX_HEADER;
}

static void io_close(eas_http_client_t *cli)
{
    if (cli->io_open) {
        cli->io.close(cli->io.ctx);
        memset(&cli->io, 0, sizeof(cli->io));
        cli->io_open = 0;
        cli->io_used = 0;
        cli->connected = 0;
    }
}

static bool running(const eas_http_client_t *cli)
{
    return cli->phase != EAS_HTTP_PHASE_IDLE && cli->phase != EAS_HTTP_PHASE_DONE;
}

/* ---- request stream: head + body, regenerated for every transmit window ---- */

static int count_write(void *ctx, const uint8_t *data, size_t len)
{
    (void)data;
    *(uint64_t *)ctx += len;
    return EAS_OK;
}

typedef struct window {
    uint8_t *buf;
    size_t cap;
    size_t len;
    uint64_t skip;  /* stream bytes already queued earlier */
    uint64_t pos;   /* stream position of the next byte written */
    uint64_t limit; /* the stream's announced length */
} window_t;

static int window_write(void *ctx, const uint8_t *data, size_t len)
{
    window_t *w = ctx;
    if (len > w->limit - w->pos) {
        return EAS_ERR_INTERNAL; /* the producer wrote more than it announced */
    }
    if (w->pos + len <= w->skip) {
        w->pos += len;
        return EAS_OK;
    }
    if (w->pos < w->skip) {
        size_t off = (size_t)(w->skip - w->pos);
        data += off;
        len -= off;
        w->pos = w->skip;
    }
    size_t room = w->cap - w->len;
    size_t take = len < room ? len : room;
    memcpy(w->buf + w->len, data, take);
    w->len += take;
    w->pos += take;
    return (w->len == w->cap) ? EAS_ERR_AGAIN : EAS_OK;
}

static int write_head(eas_http_client_t *cli, eas_http_write_fn fn, void *ctx)
{
    return http_request_head(cli->req, &cli->cfg.auth, cli->cfg.user_agent, cli->token,
                             cli->token_len, cli->body_len, cli->cfg.cookies, cli->cookie_utc, fn,
                             ctx);
}

static int64_t utc_now(const eas_http_client_t *cli)
{
    return cli->cfg.utc_now ? cli->cfg.utc_now(cli->cfg.utc_user) : 0;
}

static int measure(eas_http_client_t *cli)
{
    uint64_t head = 0;
    /* The Cookie header is chosen once per attempt: every regeneration of the head must
     * give the same bytes even if a cookie expires while the request is being sent. */
    cli->cookie_utc = utc_now(cli);
    int rc = write_head(cli, count_write, &head);
    if (rc == EAS_OK) {
        cli->total_len = head + cli->body_len;
    }
    return rc;
}

static int fill_tx(eas_http_client_t *cli)
{
    window_t w = {.buf = cli->tx,
                  .cap = cli->tx_cap,
                  .len = 0,
                  .skip = cli->queued,
                  .pos = 0,
                  .limit = cli->total_len};
    uint64_t head_len = cli->total_len - cli->body_len;
    int rc = EAS_OK;

    if (cli->queued < head_len) {
        rc = write_head(cli, window_write, &w);
        if (rc != EAS_OK && rc != EAS_ERR_AGAIN) {
            return rc;
        }
        if (rc == EAS_OK && w.pos != head_len) {
            return EAS_ERR_INTERNAL;
        }
    } else {
        w.pos = head_len;
    }
    if (w.len < w.cap && cli->req->body != NULL && w.pos < w.limit) {
        rc = cli->req->body(cli->req->body_user, window_write, &w);
        if (rc != EAS_OK && rc != EAS_ERR_AGAIN) {
            return rc;
        }
        if (rc == EAS_OK && w.pos != w.limit) {
            return EAS_ERR_INTERNAL; /* fewer bytes than the counting pass: not deterministic */
        }
        if (rc == EAS_ERR_AGAIN && w.len < w.cap) {
            return EAS_ERR_INTERNAL; /* stopped without a full buffer */
        }
    }
    if (w.len == 0) {
        return EAS_ERR_INTERNAL;
    }
    cli->tx_len = w.len;
    cli->tx_off = 0;
    cli->queued += w.len;
    return EAS_OK;
}

/* ---- response body: pass on, unless it belongs to a 401 that will be retried ---- */

static bool will_retry_auth(const eas_http_client_t *cli)
{
    return cli->rsp.status == 401 && cli->cfg.auth.kind == EAS_HTTP_AUTH_BEARER &&
           cli->cfg.auth.token != NULL && !cli->auth_retried;
}

/* A body nobody streams on (error pages, OPTIONS, discarded, Autodiscover) is bounded: a
   hostile server could otherwise keep us reading forever. A streamed 2xx body is the
   application's to judge; the total deadline still bounds it in time. */
static uint64_t body_limit(const eas_http_client_t *cli, const eas_http_response_t *rsp)
{
    if (cli->req->max_body_bytes != 0) {
        return cli->req->max_body_bytes;
    }
    bool streamed = rsp->status >= 200 && rsp->status <= 299 &&
                    cli->req->method != EAS_HTTP_OPTIONS && cli->req->sink != NULL;
    return streamed ? UINT64_MAX : (uint64_t)CONFIG_EAS_HTTP_MAX_UNSTREAMED;
}

static int client_sink(void *user, const eas_http_response_t *rsp, const uint8_t *data, size_t len)
{
    eas_http_client_t *cli = user;
    uint64_t limit = body_limit(cli, rsp);
    /* Refuse an announced length at once rather than after reading up to the bound. */
    if (rsp->body_bytes > limit ||
        (rsp->content_length > 0 && (uint64_t)rsp->content_length > limit)) {
        return EAS_ERR_HTTP_TOO_LARGE;
    }
    if (will_retry_auth(cli) || cli->req->sink == NULL) {
        return EAS_OK;
    }
    return cli->req->sink(cli->req->sink_user, rsp, data, len);
}

/* ---- request life cycle ---- */

/* Set-Cookie of any response, a 401 that is retried included, goes into the jar. */
static void on_response_header(void *user, const char *name, size_t nlen, const char *v,
                               size_t vlen)
{
    eas_http_client_t *cli = user;
    static const char k_set_cookie[] = "set-cookie";
    if (nlen != sizeof(k_set_cookie) - 1) {
        return;
    }
    for (size_t i = 0; i < nlen; i++) {
        char c = name[i];
        if ((char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c) != k_set_cookie[i]) {
            return;
        }
    }
    int rc = eas_cookie_set(cli->cfg.cookies, cli->req->url, v, vlen, utc_now(cli));
    if (rc != EAS_OK) {
        EAS_LOGW(cli->cfg.log, "http", "cookie from %s refused: %s", cli->host, eas_strerror(rc));
    }
}

static void begin_attempt(eas_http_client_t *cli, uint64_t now_ms)
{
    int64_t utc = utc_now(cli);
    eas_http_framer_init(&cli->fr, &cli->rsp, line_buf(cli), CONFIG_EAS_HTTP_MAX_HEADER,
                         loc_buf(cli), CONFIG_EAS_URL_MAX + 1u, client_sink, cli, utc, false);
    if (cli->cfg.cookies != NULL) {
        eas_http_framer_observe(&cli->fr, on_response_header, cli);
    }
    cli->tx_len = 0;
    cli->tx_off = 0;
    cli->queued = 0;
    cli->got_bytes = 0;
    cli->started_ms = now_ms;
    if (cli->io_open) {
        cli->phase = EAS_HTTP_PHASE_SEND;
        cli->deadline_ms = now_ms + cli->cfg.send_timeout_ms;
    } else {
        cli->phase = EAS_HTTP_PHASE_CONNECT;
        cli->deadline_ms = now_ms + cli->cfg.connect_timeout_ms;
    }
}

static int fetch_token(eas_http_client_t *cli, bool refresh)
{
    cli->token = NULL;
    cli->token_len = 0;
    if (cli->cfg.auth.kind != EAS_HTTP_AUTH_BEARER) {
        return EAS_OK;
    }
    if (cli->cfg.auth.token == NULL) {
        return EAS_ERR_PARAM;
    }
    int rc = cli->cfg.auth.token(cli->cfg.auth.token_user, refresh, &cli->token, &cli->token_len);
    if (rc == EAS_OK && (cli->token == NULL || cli->token_len == 0)) {
        rc = EAS_ERR_AUTH;
    }
    return rc;
}

int eas_http_client_start(eas_http_client_t *cli, const eas_http_request_t *req, uint64_t now_ms)
{
    eas_url_t url;
    int rc;

    if (cli == NULL || req == NULL || req->url == NULL) {
        return EAS_ERR_PARAM;
    }
    if (running(cli)) {
        return EAS_ERR_BUSY;
    }
    rc = eas_url_parse(req->url, &url);
    if (rc != EAS_OK) {
        return rc;
    }
    if (!url.tls && cli->cfg.auth.kind != EAS_HTTP_AUTH_NONE && !cli->cfg.allow_plaintext_auth) {
        /* Anyone on the path would read the password: only with the application's opt-in. */
        return EAS_ERR_HTTP_PLAINTEXT_AUTH;
    }
    cli->req = req;
    cli->err = EAS_OK;
    cli->failed_phase = EAS_HTTP_PHASE_IDLE;
    cli->auth_retried = 0;
    cli->stale_retried = 0;
    cli->body_len = 0;
    /* The total deadline counts from here and survives the internal retries. */
    uint64_t total = req->total_timeout_ms;
    if (total == 0) {
        total = cli->cfg.total_timeout_ms;
        uint64_t fb = (uint64_t)req->first_byte_timeout_ms + EAS_HTTP_TOTAL_MARGIN_MS;
        if (req->first_byte_timeout_ms != 0 && fb > total) {
            total = fb;
        }
    }
    cli->total_deadline_ms = now_ms + total;
    memset(&cli->rsp, 0, sizeof(cli->rsp));
    cli->rsp.content_length = -1;
    if (req->body != NULL) {
        rc = req->body(req->body_user, count_write, &cli->body_len);
        if (rc != EAS_OK) {
            goto fail;
        }
    }
    rc = fetch_token(cli, false);
    if (rc != EAS_OK) {
        goto fail;
    }
    rc = measure(cli);
    if (rc != EAS_OK) {
        goto fail;
    }
    /* Reuse the connection only for the same endpoint. */
    bool same = cli->io_open && cli->tls == url.tls && cli->port == url.port &&
                strlen(cli->host) == url.host_len &&
                memcmp(cli->host, req->url + url.host_off, url.host_len) == 0;
    if (!same) {
        io_close(cli);
        memcpy(cli->host, req->url + url.host_off, url.host_len);
        cli->host[url.host_len] = '\0';
        cli->port = url.port;
        cli->tls = url.tls;
    }
    EAS_LOGD(cli->cfg.log, "http", "%s %s%s (%u body bytes)",
             req->method == EAS_HTTP_OPTIONS ? "OPTIONS" : "POST",
             req->cmd != EAS_CMD_NONE ? eas_cmd_name(req->cmd) : "to ", cli->host,
             (unsigned)cli->body_len);
    begin_attempt(cli, now_ms);
    return EAS_OK;
fail:
    cli->req = NULL;
    return rc;
}

static int fail(eas_http_client_t *cli, int rc, uint8_t phase)
{
    io_close(cli);
    cli->err = rc;
    cli->failed_phase = phase;
    cli->phase = EAS_HTTP_PHASE_DONE;
    EAS_LOGW(cli->cfg.log, "http", "request to %s failed in %s: %s", cli->host,
             eas_http_phase_name((eas_http_phase_t)phase), eas_strerror(rc));
    return rc;
}

/* A kept-alive connection the server dropped while idle fails before any response byte;
 * the request then goes once more on a fresh connection (what browsers do as well). */
static bool retry_stale(eas_http_client_t *cli, uint64_t now_ms)
{
    if (!cli->io_used || cli->got_bytes || cli->stale_retried) {
        return false;
    }
    EAS_LOGI(cli->cfg.log, "http", "kept-alive connection to %s was closed; reconnecting",
             cli->host);
    io_close(cli);
    cli->stale_retried = 1;
    begin_attempt(cli, now_ms);
    return true;
}

static int on_complete(eas_http_client_t *cli, uint64_t now_ms)
{
    if (will_retry_auth(cli)) {
        cli->auth_retried = 1;
        int rc = fetch_token(cli, true);
        if (rc == EAS_OK) {
            rc = measure(cli);
        }
        if (rc != EAS_OK) {
            return fail(cli, rc, EAS_HTTP_PHASE_RECV);
        }
        if (!cli->rsp.keep_alive) {
            io_close(cli);
        } else {
            cli->io_used = 1;
        }
        EAS_LOGI(cli->cfg.log, "http",
                 "401 with a bearer token: retrying once with a refreshed token");
        begin_attempt(cli, now_ms);
        return EAS_ERR_AGAIN;
    }
    if (cli->rsp.keep_alive) {
        cli->io_used = 1;
    } else {
        io_close(cli);
    }
    cli->phase = EAS_HTTP_PHASE_DONE;
    return EAS_OK;
}

static int do_send(eas_http_client_t *cli, uint64_t now_ms, bool *blocked)
{
    int rc;
    if (cli->tx_off == cli->tx_len) {
        rc = fill_tx(cli);
        if (rc != EAS_OK) {
            return fail(cli, rc, EAS_HTTP_PHASE_SEND);
        }
    }
    int32_t n = cli->io.send(cli->io.ctx, cli->tx + cli->tx_off, cli->tx_len - cli->tx_off);
    if (n == 0) {
        *blocked = true;
        return EAS_ERR_AGAIN;
    }
    if (n < 0) {
        if (cli->connected && retry_stale(cli, now_ms)) {
            return EAS_ERR_AGAIN;
        }
        return fail(cli, n, cli->connected ? EAS_HTTP_PHASE_SEND : EAS_HTTP_PHASE_CONNECT);
    }
    if ((size_t)n > cli->tx_len - cli->tx_off) {
        return fail(cli, EAS_ERR_IO, EAS_HTTP_PHASE_SEND); /* a port that over-reports */
    }
    cli->connected = 1;
    cli->tx_off += (size_t)n;
    cli->deadline_ms = now_ms + cli->cfg.send_timeout_ms;
    if (cli->tx_off == cli->tx_len && cli->queued == cli->total_len) {
        uint32_t fb = or_default(cli->req->first_byte_timeout_ms, cli->cfg.first_byte_timeout_ms);
        cli->phase = EAS_HTTP_PHASE_WAIT;
        cli->deadline_ms = now_ms + fb;
        /* Read the answer in a later step: that step's now_ms is taken after the answer
           arrived, so whatever the caller times from it (Retry-After, back-off) starts no
           earlier than the server's response. Reading it now would time it from before. */
        *blocked = true;
    }
    return EAS_ERR_AGAIN;
}

static int do_recv(eas_http_client_t *cli, uint64_t now_ms, bool *blocked)
{
    int32_t n = cli->io.recv(cli->io.ctx, cli->rx, cli->rx_cap);
    if (n == 0) {
        *blocked = true;
        return EAS_ERR_AGAIN;
    }
    if (n < 0) {
        if (!cli->got_bytes && (n == EAS_ERR_CLOSED || n == EAS_ERR_RESET) &&
            !cli->req->no_replay && retry_stale(cli, now_ms)) {
            return EAS_ERR_AGAIN;
        }
        if (n == EAS_ERR_CLOSED) {
            int rc = eas_http_framer_eof(&cli->fr);
            if (rc == EAS_OK) {
                cli->rsp.keep_alive = false;
                return on_complete(cli, now_ms);
            }
            return fail(cli, cli->got_bytes ? rc : EAS_ERR_CLOSED, cli->phase);
        }
        return fail(cli, n, cli->phase);
    }
    if ((size_t)n > cli->rx_cap) {
        return fail(cli, EAS_ERR_IO, cli->phase);
    }
    size_t used = 0;
    cli->got_bytes = 1;
    cli->phase = EAS_HTTP_PHASE_RECV;
    cli->deadline_ms = now_ms + cli->cfg.recv_timeout_ms;
    int rc = eas_http_framer_feed(&cli->fr, cli->rx, (size_t)n, &used);
    if (rc != EAS_OK) {
        return fail(cli, rc, EAS_HTTP_PHASE_RECV);
    }
    if (eas_http_framer_done(&cli->fr)) {
        if (used < (size_t)n) {
            cli->rsp.keep_alive = false; /* bytes beyond the response: do not trust the stream */
        }
        return on_complete(cli, now_ms);
    }
    return EAS_ERR_AGAIN;
}

int eas_http_client_step(eas_http_client_t *cli, uint64_t now_ms, eas_http_wait_t *wait)
{
    int rc = EAS_ERR_AGAIN;
    bool blocked = false;

    if (cli == NULL) {
        return EAS_ERR_PARAM;
    }
    if (cli->phase == EAS_HTTP_PHASE_DONE) {
        rc = cli->err;
        goto out;
    }
    if (cli->phase == EAS_HTTP_PHASE_IDLE || cli->req == NULL) {
        rc = EAS_ERR_STATE;
        goto out;
    }
    for (int round = 0; round < HTTP_STEP_ROUNDS && rc == EAS_ERR_AGAIN && !blocked; round++) {
        if (now_ms >= cli->total_deadline_ms) {
            rc = fail(cli, EAS_ERR_HTTP_DEADLINE, cli->phase);
            break;
        }
        if (now_ms >= cli->deadline_ms) {
            uint8_t ph = cli->phase;
            if (ph == EAS_HTTP_PHASE_SEND && !cli->connected) {
                ph = EAS_HTTP_PHASE_CONNECT;
            }
            rc = fail(cli, EAS_ERR_TIMEOUT, ph);
            break;
        }
        switch (cli->phase) {
        case EAS_HTTP_PHASE_CONNECT: {
            hal_io_t io;
            memset(&io, 0, sizeof(io));
            int orc = cli->cfg.net->open(cli->cfg.net->ctx, cli->host, cli->port,
                                         cli->tls ? HAL_NET_TLS : HAL_NET_PLAIN, &io);
            if (orc != EAS_OK) {
                rc = fail(cli, orc < 0 ? orc : EAS_ERR_CONNECT, EAS_HTTP_PHASE_CONNECT);
                break;
            }
            if (io.send == NULL || io.recv == NULL || io.close == NULL) {
                rc = fail(cli, EAS_ERR_INTERNAL, EAS_HTTP_PHASE_CONNECT);
                break;
            }
            cli->io = io;
            cli->io_open = 1;
            cli->io_used = 0;
            cli->connected = 0;
            cli->phase = EAS_HTTP_PHASE_SEND;
            /* The connect deadline keeps running until the first byte leaves. */
            break;
        }
        case EAS_HTTP_PHASE_SEND:
            rc = do_send(cli, now_ms, &blocked);
            break;
        case EAS_HTTP_PHASE_WAIT:
        case EAS_HTTP_PHASE_RECV:
            rc = do_recv(cli, now_ms, &blocked);
            break;
        default:
            rc = fail(cli, EAS_ERR_INTERNAL, cli->phase);
            break;
        }
    }
out:
    if (wait != NULL) {
        wait->read = false;
        wait->write = false;
        wait->deadline_ms = now_ms;
        if (rc == EAS_ERR_AGAIN) {
            bool sending =
                cli->phase == EAS_HTTP_PHASE_SEND || cli->phase == EAS_HTTP_PHASE_CONNECT;
            /* During a TLS handshake the port may need either direction. */
            wait->write = sending;
            wait->read = !sending || !cli->connected;
            uint64_t dl = cli->deadline_ms < cli->total_deadline_ms ? cli->deadline_ms
                                                                    : cli->total_deadline_ms;
            wait->deadline_ms = blocked ? dl : now_ms;
        }
    }
    return rc;
}

const eas_http_response_t *eas_http_client_response(const eas_http_client_t *cli)
{
    return &cli->rsp;
}

eas_http_phase_t eas_http_client_failed_phase(const eas_http_client_t *cli)
{
    return (eas_http_phase_t)cli->failed_phase;
}

void eas_http_client_cancel(eas_http_client_t *cli)
{
    if (cli == NULL) {
        return;
    }
    if (running(cli)) {
        io_close(cli);
        cli->err = EAS_ERR_CANCELLED;
        cli->failed_phase = cli->phase;
    }
    cli->phase = EAS_HTTP_PHASE_IDLE;
    cli->req = NULL;
}

void eas_http_client_close(eas_http_client_t *cli)
{
    if (cli == NULL || running(cli)) {
        return;
    }
    io_close(cli);
}
