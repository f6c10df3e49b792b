/* SPDX-License-Identifier: Apache-2.0 */
/*
 * push-sim: the real engine (eas_step) against a scripted in-process EAS server on a
 * simulated clock. Nothing waits: time jumps to the engine's next deadline or to the moment
 * the server's answer is due. Prints one key=value line per figure (docs/push.md).
 *
 *   push-sim            print the figures
 *   push-sim --check    also check the behaviour the protocol requires (exit 1 on a miss)
 *   push-sim --trace    log every request (time, command, interval, answer) to stderr
 *
 * The server: OPTIONS (14.1), Provision without policy, Settings (DeviceInformation
 * accepted), FolderSync (one calendar folder),
 * Sync without changes, Ping held for its HeartbeatInterval (Status 1) or refused with
 * Status 5 outside [min, max]; an empty Ping body reuses the cached parameters (Status 3
 * when there are none). Faults are scripted per scenario: a NAT that silently drops a
 * connection idle for N seconds, an outage of HTTP 503 (with or without Retry-After), a
 * network outage (the connection reset, no connection possible), EAS Status 111 or 177 on
 * every command.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eas/eas.h"
#include "eas/eas_wbxml.h"
#include "hal/hal.h"

#define H_MS 3600000ull

/* ------------------------------ HAL: RAM store, simulated clock ------------------------ */

#define REC_MAX  64
#define REC_DATA 16384

static struct {
    char key[HAL_STORE_KEY_MAX + 1];
    uint8_t data[REC_DATA];
    size_t len;
    bool used;
} recs[REC_MAX];
static uint64_t now_ms;
static uint32_t rng_state = 0x2545f491u;
static bool trace;

static int sim_store_put(void *ctx, const char *key, const uint8_t *data, size_t len)
{
    (void)ctx;
    int free_i = -1;
    if (len > REC_DATA) {
        return EAS_ERR_STORE_FULL;
    }
    for (int i = 0; i < REC_MAX; i++) {
        if (recs[i].used && strcmp(recs[i].key, key) == 0) {
            free_i = i;
            break;
        }
        if (!recs[i].used && free_i < 0) {
            free_i = i;
        }
    }
    if (free_i < 0) {
        return EAS_ERR_STORE_FULL;
    }
    snprintf(recs[free_i].key, sizeof(recs[free_i].key), "%s", key);
    memcpy(recs[free_i].data, data, len);
    recs[free_i].len = len;
    recs[free_i].used = true;
    return EAS_OK;
}

static int sim_store_get(void *ctx, const char *key, uint8_t *buf, size_t cap, size_t *len)
{
    (void)ctx;
    for (int i = 0; i < REC_MAX; i++) {
        if (recs[i].used && strcmp(recs[i].key, key) == 0) {
            *len = recs[i].len;
            if (recs[i].len > cap) {
                return EAS_ERR_NOMEM;
            }
            memcpy(buf, recs[i].data, recs[i].len);
            return EAS_OK;
        }
    }
    return EAS_ERR_STORE_NOT_FOUND;
}

static int sim_store_del(void *ctx, const char *key)
{
    (void)ctx;
    for (int i = 0; i < REC_MAX; i++) {
        if (recs[i].used && strcmp(recs[i].key, key) == 0) {
            recs[i].used = false;
        }
    }
    return EAS_OK;
}

uint64_t hal_time_monotonic_ms(void)
{
    return now_ms;
}

int hal_time_utc(int64_t *unix_seconds)
{
    *unix_seconds = 1796256000 + (int64_t)(now_ms / 1000u);
    return EAS_OK;
}

static int sim_rng_fill(void *ctx, uint8_t *buf, size_t len)
{
    (void)ctx;
    /* Deterministic: the figures must be reproducible run to run. */
    for (size_t i = 0; i < len; i++) {
        rng_state = rng_state * 1103515245u + 12345u;
        buf[i] = (uint8_t)(rng_state >> 16);
    }
    return EAS_OK;
}

static void sim_log_write(void *ctx, hal_log_level_t level, const char *module, const char *msg,
                          size_t len)
{
    (void)ctx;
    if (trace && level <= HAL_LOG_INFO) {
        fprintf(stderr, "%10.1f   log %s: %.*s\n", (double)now_ms / 1000.0, module, (int)len, msg);
    }
}

static const hal_sys_t k_sim_hal = {
    .store = {sim_store_put, sim_store_get, sim_store_del, NULL},
    .rng = {sim_rng_fill, NULL},
    .log = {sim_log_write, NULL},
};

/* ------------------------------ the scripted server ------------------------------ */

typedef struct scenario {
    uint32_t srv_min_s, srv_max_s;   /* Ping HeartbeatInterval range (Status 5 outside) */
    uint32_t nat_s;                  /* connections idle this long die silently (0 = never) */
    uint64_t outage_from, outage_to; /* [from, to): every request gets 503 */
    uint32_t outage_retry_after;     /* Retry-After seconds (0 = header absent) */
    uint16_t eas_status;             /* nonzero: every command answers this Status */
    uint64_t eas_status_from;
    const char *throttle; /* X-MS-ASThrottle value sent with 503 / 111 (NULL = none) */
    bool no_cache;        /* the server keeps no Ping parameters: an empty Ping gets 3 */
} scenario_t;

/* One request as the server saw it. */
typedef struct sreq {
    uint64_t t_ms;
    char cmd[16];
    uint32_t interval; /* Ping: HeartbeatInterval asked (0 = empty body) */
    int answer;        /* HTTP status, or -1 = dropped by the NAT */
    uint16_t eas;      /* EAS Status answered (Ping/Sync/...) */
    size_t tx, rx;     /* request / response bytes */
    unsigned records;  /* TLS records estimated for the exchange */
} sreq_t;

#define SREQ_MAX 20000
static sreq_t sreqs[SREQ_MAX];
static size_t nsreq;
static scenario_t sc;

/* Cached Ping parameters (an empty Ping reuses them). */
static uint32_t ping_cached_interval;
static bool ping_cached;

/* The one connection. */
static struct {
    bool open;
    uint8_t rx[32768];
    size_t rx_len;
    unsigned sends; /* send() calls for the request in progress (one TLS record each) */
    uint8_t tx[4096];
    size_t tx_len, tx_pos;
    uint64_t ready_ms; /* answer due */
    bool dead;         /* dropped by the NAT: nothing ever arrives */
    bool reset;        /* the network went away: the next read fails */
    bool close_after;
} conn;
static unsigned opens;

/* A network outage: no connection can be opened before this time (0 = none); the attempts
   that failed are counted. */
static uint64_t net_down_to;
static unsigned connect_fails;
static uint64_t connect_fail_ms[2]; /* the first two failed attempts */

static uint8_t body[2048];
static size_t body_len;
static uint8_t encbuf[64];

static int flush_body(void *u, const uint8_t *d, size_t n)
{
    (void)u;
    if (body_len + n > sizeof(body)) {
        return EAS_ERR_NOMEM;
    }
    memcpy(body + body_len, d, n);
    body_len += n;
    return EAS_OK;
}

/* What the server reads from a request body. */
static struct {
    uint32_t heartbeat;
    bool has_heartbeat;
    unsigned folders;
    char collection[65];
    char fs_key[65];
} parsed;

static int parse_cb(void *u, const eas_wbxml_event_t *ev)
{
    (void)u;
    if (ev->type == EAS_WBXML_EV_START) {
        parsed.folders += ev->tag == EAS_PING_FOLDER;
    } else if (ev->type == EAS_WBXML_EV_TEXT) {
        char t[65];
        size_t n = ev->len < sizeof(t) - 1 ? ev->len : sizeof(t) - 1;
        memcpy(t, ev->data, n);
        t[n] = '\0';
        if (ev->tag == EAS_PING_HEARTBEAT_INTERVAL) {
            parsed.heartbeat = (uint32_t)strtoul(t, NULL, 10);
            parsed.has_heartbeat = true;
        } else if (ev->tag == EAS_FOLDERHIERARCHY_SYNC_KEY) {
            snprintf(parsed.fs_key, sizeof(parsed.fs_key), "%s", t);
        } else if (ev->tag == EAS_AIRSYNC_COLLECTION_ID) {
            snprintf(parsed.collection, sizeof(parsed.collection), "%s", t);
        }
    }
    return EAS_OK;
}

static eas_wbxml_enc_t E;
static void rb(void)
{
    body_len = 0;
    eas_wbxml_enc_init(&E, encbuf, sizeof(encbuf), flush_body, NULL);
}

static void answer_wbxml_status(uint16_t root, uint16_t status_tag, uint16_t st)
{
    rb();
    eas_wbxml_enc_start(&E, root);
    eas_wbxml_enc_elem_uint(&E, status_tag, st);
    eas_wbxml_enc_end(&E);
    (void)eas_wbxml_enc_finish(&E);
}

/* Build the answer to the complete request in conn.rx. */
static void serve(size_t head_len, size_t blen)
{
    sreq_t *r = &sreqs[nsreq < SREQ_MAX ? nsreq : SREQ_MAX - 1];
    char *head = (char *)conn.rx;
    int http = 200;
    char extra[256] = "";
    uint64_t delay_ms = 40; /* round trip and server time of an ordinary command */

    memset(r, 0, sizeof(*r));
    r->t_ms = now_ms;
    r->tx = head_len + blen;
    r->records = conn.sends;
    if (strncmp(head, "OPTIONS", 7) == 0) {
        strcpy(r->cmd, "OPTIONS");
    } else {
        const char *c = strstr(head, "Cmd=");
        size_t n = c ? strcspn(c + 4, "& ") : 0;
        if (c && n < sizeof(r->cmd)) {
            memcpy(r->cmd, c + 4, n);
        }
    }
    memset(&parsed, 0, sizeof(parsed));
    if (blen > 0) {
        eas_wbxml_dec_t dec;
        eas_wbxml_dec_init(&dec, parse_cb, NULL);
        if (eas_wbxml_dec_feed(&dec, conn.rx + head_len, blen) != EAS_OK ||
            eas_wbxml_dec_finish(&dec) != EAS_OK) {
            http = 400;
        }
    }
    body_len = 0;
    bool is_ping = strcmp(r->cmd, "Ping") == 0;
    if (is_ping) {
        r->interval = parsed.has_heartbeat ? parsed.heartbeat : 0;
    }

    if (now_ms >= sc.outage_from && now_ms < sc.outage_to) {
        http = 503;
        if (sc.outage_retry_after) {
            snprintf(extra, sizeof(extra), "Retry-After: %u\r\n", (unsigned)sc.outage_retry_after);
        }
        if (sc.throttle) {
            size_t l = strlen(extra);
            snprintf(extra + l, sizeof(extra) - l, "X-MS-ASThrottle: %s\r\n", sc.throttle);
        }
    } else if (http != 200) {
        /* malformed body: 400 */
    } else if (strcmp(r->cmd, "OPTIONS") == 0) {
        strcpy(extra, "MS-ASProtocolVersions: 2.5,12.0,12.1,14.0,14.1\r\n"
                      "MS-ASProtocolCommands: Sync,FolderSync,Ping,Provision,Settings\r\n");
    } else if (sc.eas_status && now_ms >= sc.eas_status_from && strcmp(r->cmd, "Provision") != 0) {
        /* a command-level status on every command (111 retry later, 177 too many devices) */
        r->eas = sc.eas_status;
        if (sc.throttle) {
            snprintf(extra, sizeof(extra), "X-MS-ASThrottle: %s\r\n", sc.throttle);
        }
        if (strcmp(r->cmd, "FolderSync") == 0) {
            answer_wbxml_status(EAS_FOLDERHIERARCHY_FOLDER_SYNC, EAS_FOLDERHIERARCHY_STATUS,
                                sc.eas_status);
        } else if (is_ping) {
            answer_wbxml_status(EAS_PING_PING, EAS_PING_STATUS, sc.eas_status);
        } else if (strcmp(r->cmd, "Settings") == 0) {
            answer_wbxml_status(EAS_SETTINGS_SETTINGS, EAS_SETTINGS_STATUS, sc.eas_status);
        } else {
            answer_wbxml_status(EAS_AIRSYNC_SYNC, EAS_AIRSYNC_STATUS, sc.eas_status);
        }
    } else if (strcmp(r->cmd, "Provision") == 0) {
        rb();
        eas_wbxml_enc_start(&E, EAS_PROVISION_PROVISION);
        eas_wbxml_enc_elem_uint(&E, EAS_PROVISION_STATUS, 1);
        eas_wbxml_enc_start(&E, EAS_PROVISION_POLICIES);
        eas_wbxml_enc_start(&E, EAS_PROVISION_POLICY);
        eas_wbxml_enc_elem_text(&E, EAS_PROVISION_POLICY_TYPE, "MS-EAS-Provisioning-WBXML");
        eas_wbxml_enc_elem_uint(&E, EAS_PROVISION_STATUS, 2); /* no policy for this device */
        eas_wbxml_enc_end(&E);
        eas_wbxml_enc_end(&E);
        eas_wbxml_enc_end(&E);
        (void)eas_wbxml_enc_finish(&E);
    } else if (strcmp(r->cmd, "Settings") == 0) {
        /* DeviceInformation accepted */
        rb();
        eas_wbxml_enc_start(&E, EAS_SETTINGS_SETTINGS);
        eas_wbxml_enc_elem_uint(&E, EAS_SETTINGS_STATUS, 1);
        eas_wbxml_enc_start(&E, EAS_SETTINGS_DEVICE_INFORMATION);
        eas_wbxml_enc_elem_uint(&E, EAS_SETTINGS_STATUS, 1);
        eas_wbxml_enc_end(&E);
        eas_wbxml_enc_end(&E);
        (void)eas_wbxml_enc_finish(&E);
    } else if (strcmp(r->cmd, "FolderSync") == 0) {
        rb();
        eas_wbxml_enc_start(&E, EAS_FOLDERHIERARCHY_FOLDER_SYNC);
        eas_wbxml_enc_elem_uint(&E, EAS_FOLDERHIERARCHY_STATUS, 1);
        eas_wbxml_enc_elem_text(&E, EAS_FOLDERHIERARCHY_SYNC_KEY, "H1");
        eas_wbxml_enc_start(&E, EAS_FOLDERHIERARCHY_CHANGES);
        if (strcmp(parsed.fs_key, "0") == 0) {
            eas_wbxml_enc_start(&E, EAS_FOLDERHIERARCHY_ADD);
            eas_wbxml_enc_elem_text(&E, EAS_FOLDERHIERARCHY_SERVER_ID, "cal");
            eas_wbxml_enc_elem_text(&E, EAS_FOLDERHIERARCHY_PARENT_ID, "0");
            eas_wbxml_enc_elem_text(&E, EAS_FOLDERHIERARCHY_DISPLAY_NAME, "Calendar");
            eas_wbxml_enc_elem_uint(&E, EAS_FOLDERHIERARCHY_TYPE, 8);
            eas_wbxml_enc_end(&E);
        }
        eas_wbxml_enc_end(&E);
        eas_wbxml_enc_end(&E);
        (void)eas_wbxml_enc_finish(&E);
    } else if (strcmp(r->cmd, "Sync") == 0) {
        rb();
        eas_wbxml_enc_start(&E, EAS_AIRSYNC_SYNC);
        eas_wbxml_enc_start(&E, EAS_AIRSYNC_COLLECTIONS);
        eas_wbxml_enc_start(&E, EAS_AIRSYNC_COLLECTION);
        eas_wbxml_enc_elem_text(&E, EAS_AIRSYNC_SYNC_KEY, "S1");
        eas_wbxml_enc_elem_text(&E, EAS_AIRSYNC_COLLECTION_ID,
                                parsed.collection[0] ? parsed.collection : "cal");
        eas_wbxml_enc_elem_uint(&E, EAS_AIRSYNC_STATUS, 1);
        eas_wbxml_enc_end(&E);
        eas_wbxml_enc_end(&E);
        eas_wbxml_enc_end(&E);
        (void)eas_wbxml_enc_finish(&E);
    } else if (is_ping) {
        uint32_t iv = parsed.has_heartbeat ? parsed.heartbeat : ping_cached_interval;
        if (!parsed.has_heartbeat && (!ping_cached || sc.no_cache)) {
            r->eas = 3; /* nothing cached: parameters missing */
        } else if (sc.srv_min_s && iv < sc.srv_min_s) {
            r->eas = 5;
        } else if (sc.srv_max_s && iv > sc.srv_max_s) {
            r->eas = 5;
        } else {
            r->eas = 1;
            if (parsed.has_heartbeat) {
                ping_cached_interval = iv;
                ping_cached = true;
            }
            delay_ms = (uint64_t)iv * 1000u;
            if (sc.nat_s && iv >= sc.nat_s) {
                conn.dead = true; /* the server's answer never reaches the device */
                r->answer = -1;
            }
        }
        rb();
        eas_wbxml_enc_start(&E, EAS_PING_PING);
        eas_wbxml_enc_elem_uint(&E, EAS_PING_STATUS, r->eas);
        if (r->eas == 5) {
            eas_wbxml_enc_elem_uint(&E, EAS_PING_HEARTBEAT_INTERVAL,
                                    iv < sc.srv_min_s ? sc.srv_min_s : sc.srv_max_s);
        }
        eas_wbxml_enc_end(&E);
        (void)eas_wbxml_enc_finish(&E);
    }
    if (r->answer == 0) {
        r->answer = http;
    }
    /* Headers of a typical Exchange answer (server, date, caching, version). */
    int n = snprintf((char *)conn.tx, sizeof(conn.tx),
                     "HTTP/1.1 %d %s\r\nCache-Control: private\r\n%s"
                     "Server: Microsoft-IIS/10.0\r\nMS-Server-ActiveSync: 15.1\r\n%s"
                     "Date: Thu, 03 Dec 2026 00:00:00 GMT\r\nContent-Length: %u\r\n\r\n",
                     http,
                     http == 200   ? "OK"
                     : http == 503 ? "Service Unavailable"
                                   : "Error",
                     body_len ? "Content-Type: application/vnd.ms-sync.wbxml\r\n" : "", extra,
                     (unsigned)body_len);
    memcpy(conn.tx + n, body, body_len);
    conn.tx_len = (size_t)n + body_len;
    conn.tx_pos = 0;
    conn.ready_ms = now_ms + delay_ms;
    r->rx = r->answer == -1 ? 0 : conn.tx_len;
    r->records += r->answer == -1 ? 0u : 1u; /* the server writes head and body at once */
    conn.rx_len = 0;
    conn.sends = 0;
    if (trace) {
        fprintf(stderr, "%10.1f   req %-10s interval=%u answer=%d eas=%u tx=%zu rx=%zu\n",
                (double)now_ms / 1000.0, r->cmd, (unsigned)r->interval, r->answer, (unsigned)r->eas,
                r->tx, r->rx);
    }
    if (nsreq < SREQ_MAX) {
        nsreq++;
    }
}

static int32_t c_send(void *ctx, const uint8_t *buf, size_t len)
{
    (void)ctx;
    if (conn.rx_len + len > sizeof(conn.rx)) {
        return EAS_ERR_RESET;
    }
    memcpy(conn.rx + conn.rx_len, buf, len);
    conn.rx_len += len;
    conn.sends++;
    /* complete request? */
    conn.rx[conn.rx_len < sizeof(conn.rx) ? conn.rx_len : sizeof(conn.rx) - 1] = '\0';
    char *end = strstr((char *)conn.rx, "\r\n\r\n");
    if (end) {
        size_t head_len = (size_t)(end - (char *)conn.rx) + 4;
        const char *cl = strstr((char *)conn.rx, "Content-Length: ");
        size_t blen = cl && cl < end ? (size_t)strtoul(cl + 16, NULL, 10) : 0;
        if (conn.rx_len >= head_len + blen) {
            serve(head_len, blen);
        }
    }
    return (int32_t)len;
}

static int32_t c_recv(void *ctx, uint8_t *buf, size_t len)
{
    (void)ctx;
    if (conn.reset) {
        return EAS_ERR_RESET;
    }
    if (conn.dead || conn.tx_pos == conn.tx_len || now_ms < conn.ready_ms) {
        return 0; /* nothing (yet) */
    }
    size_t n = conn.tx_len - conn.tx_pos;
    n = n > len ? len : n;
    memcpy(buf, conn.tx + conn.tx_pos, n);
    conn.tx_pos += n;
    return (int32_t)n;
}

static void c_close(void *ctx)
{
    (void)ctx;
    memset(&conn, 0, sizeof(conn));
}

static int c_open(void *ctx, const char *host, uint16_t port, hal_net_security_t sec, hal_io_t *io)
{
    (void)ctx;
    (void)host;
    (void)port;
    (void)sec;
    memset(&conn, 0, sizeof(conn));
    if (now_ms < net_down_to) {
        if (connect_fails < 2) {
            connect_fail_ms[connect_fails] = now_ms;
        }
        connect_fails++;
        return EAS_ERR_CONNECT; /* like a refused or unreachable connect() */
    }
    conn.open = true;
    opens++;
    io->send = c_send;
    io->recv = c_recv;
    io->close = c_close;
    io->ctx = NULL;
    return EAS_OK;
}

/* ------------------------------ the device ------------------------------ */

static eas_engine_t eng;
static eas_folder_t folders[8];
static eas_outbox_slot_t outbox[4];
static uint8_t arena_mem[CONFIG_EAS_ARENA_SIZE];
static uint8_t work[EAS_HTTP_CLIENT_WORK_SIZE];
static eas_arena_t arena;
static hal_net_t net = {c_open, NULL};
static eas_account_cfg_t cfg;
static unsigned throttle_events;
static char throttle_last[40];

static int on_event(void *user, eas_event_t *ev)
{
    (void)user;
    if (ev->type == EAS_EV_THROTTLED) {
        throttle_events++;
        snprintf(throttle_last, sizeof(throttle_last), "%s", ev->u.throttle.reason);
    }
    return EAS_OK;
}

static void device_start(uint32_t ceiling_s)
{
    memset(&cfg, 0, sizeof(cfg));
    cfg.url = "https://mail.example.test/Microsoft-Server-ActiveSync";
    cfg.user = "someone";
    cfg.email = "someone@example.test";
    cfg.device_id = "EASDSIM0001";
    cfg.device_type = "easd";
    cfg.auth.kind = EAS_HTTP_AUTH_BASIC;
    cfg.auth.user = "someone";
    cfg.auth.password = "secret-password";
    cfg.classes = EAS_CLASS_CALENDAR;
    cfg.store_prefix = "sim";
    cfg.ping_ceiling_s = ceiling_s;
    eas_arena_init(&arena, arena_mem, sizeof(arena_mem));
    eas_engine_mem_t mem;
    memset(&mem, 0, sizeof(mem)); /* fields added later stay off */
    mem.folders = folders;
    mem.folder_cap = 8;
    mem.outbox = outbox;
    mem.outbox_cap = 4;
    mem.arena = &arena;
    mem.http_work = work;
    mem.http_work_len = sizeof(work);
    mem.config = EAS_CONFIG_FINGERPRINT;
    memset(&conn, 0, sizeof(conn));
    if (eas_engine_init(&eng, &cfg, &mem, &net, &k_sim_hal, on_event, NULL) != EAS_OK) {
        fprintf(stderr, "push-sim: engine init failed\n");
        exit(2);
    }
}

static void device_stop(void)
{
    eas_engine_close(&eng);
}

/* Run the device until the simulated clock reaches @p until_ms (or the engine stops). */
static int run_until(uint64_t until_ms)
{
    eas_step_event_t ev = EAS_STEP_TICK;
    int rc = EAS_OK;
    for (unsigned long guard = 0; now_ms < until_ms; guard++) {
        uint64_t dl = UINT64_MAX;
        if (guard > 50000000ul) {
            fprintf(stderr, "push-sim: no progress at %" PRIu64 " ms\n", now_ms);
            exit(2);
        }
        rc = eas_step(&eng, ev, now_ms, &dl);
        if (rc < 0 && rc != EAS_ERR_AGAIN) {
            return rc; /* a stopped state */
        }
        unsigned io = eas_engine_wait_io(&eng);
        if (io & EAS_IO_WRITE) {
            ev = EAS_STEP_WRITABLE;
            continue;
        }
        if ((io & EAS_IO_READ) && conn.reset) {
            ev = EAS_STEP_READABLE;
            continue;
        }
        uint64_t next = dl;
        ev = EAS_STEP_TICK;
        if ((io & EAS_IO_READ) && conn.open && !conn.dead && conn.tx_pos < conn.tx_len) {
            if (conn.ready_ms <= now_ms) {
                ev = EAS_STEP_READABLE;
                continue;
            }
            if (conn.ready_ms <= next) {
                next = conn.ready_ms;
                ev = EAS_STEP_READABLE;
            }
        }
        if (next == UINT64_MAX) {
            fprintf(stderr, "push-sim: the engine waits with no deadline\n");
            exit(2);
        }
        now_ms = next > now_ms ? next : now_ms;
        if (now_ms > until_ms) {
            now_ms = until_ms;
        }
    }
    return rc;
}

/* ------------------------------ figures ------------------------------ */

/* TLS overhead per record (TLS 1.2 AES-GCM: 5 header + 8 explicit nonce + 16 tag). */
#define TLS_RECORD_OVERHEAD 29u

typedef struct window {
    size_t requests, pings, drops;
    uint64_t bytes, tx, rx, records;
    uint32_t min_iv, max_iv;
} window_t;

static window_t window(uint64_t from, uint64_t to)
{
    window_t w = {0, 0, 0, 0, 0, 0, 0, UINT32_MAX, 0};
    for (size_t i = 0; i < nsreq; i++) {
        const sreq_t *r = &sreqs[i];
        if (r->t_ms < from || r->t_ms >= to) {
            continue;
        }
        w.requests++;
        w.bytes += r->tx + r->rx + (uint64_t)r->records * TLS_RECORD_OVERHEAD;
        w.tx += r->tx;
        w.rx += r->rx;
        w.records += r->records;
        if (strcmp(r->cmd, "Ping") == 0) {
            w.pings++;
            w.drops += r->answer == -1;
            uint32_t iv = r->interval ? r->interval : ping_cached_interval;
            w.min_iv = iv < w.min_iv ? iv : w.min_iv;
            w.max_iv = iv > w.max_iv ? iv : w.max_iv;
        }
    }
    return w;
}

/* Interval of the last Ping sent (the empty-body Ping repeats the cached one). */
static uint32_t last_interval(void)
{
    uint32_t iv = 0;
    for (size_t i = 0; i < nsreq; i++) {
        if (strcmp(sreqs[i].cmd, "Ping") == 0 && sreqs[i].answer == 200) {
            iv = sreqs[i].interval ? sreqs[i].interval : iv;
        }
    }
    return iv;
}

static void reset_world(void)
{
    memset(recs, 0, sizeof(recs));
    memset(&sc, 0, sizeof(sc));
    nsreq = 0;
    opens = 0;
    now_ms = 0;
    ping_cached = false;
    ping_cached_interval = 0;
    throttle_events = 0;
    rng_state = 0x2545f491u;
    net_down_to = 0;
    connect_fails = 0;
    memset(connect_fail_ms, 0, sizeof(connect_fail_ms));
}

static int failures;
static bool checking;

static void check(bool ok, const char *what)
{
    if (!ok) {
        failures++;
        fprintf(stderr, "push-sim: CHECK FAILED: %s\n", what);
    } else if (checking) {
        fprintf(stderr, "push-sim: ok: %s\n", what);
    }
}

/* Index of the first Ping asking for @p iv (or -1), and its ordinal among the Pings. */
static long first_ping_with(uint32_t iv, size_t *ordinal)
{
    size_t k = 0;
    for (size_t i = 0; i < nsreq; i++) {
        if (strcmp(sreqs[i].cmd, "Ping") == 0) {
            k++;
            if (sreqs[i].interval == iv) {
                *ordinal = k;
                return (long)i;
            }
        }
    }
    return -1;
}

/* Server maximum 3540 s, no NAT: convergence, idle requests and bytes per hour. */
static void scenario_idle(void)
{
    reset_world();
    sc.srv_max_s = 3540;
    device_start(0);
    (void)run_until(26 * H_MS);
    size_t ord = 0;
    long at = first_ping_with(3540, &ord);
    printf("pings_to_converge=%ld\n", at < 0 ? -1L : (long)ord);
    uint64_t from = at < 0 ? 2 * H_MS : sreqs[at].t_ms;
    window_t w = window(from, from + 24 * H_MS);
    double rph = (double)w.requests / 24.0;
    double bph = (double)w.bytes / 24.0;
    printf("idle_requests_per_hour=%.3f\n", rph);
    printf("idle_bytes_per_hour=%.0f\n", bph);
    if (w.requests) {
        double n = (double)w.requests;
        printf("idle_bytes_per_round_trip=%.0f\n", (double)w.bytes / n);
        printf("idle_request_bytes=%.0f\n", (double)w.tx / n);
        printf("idle_response_bytes=%.0f\n", (double)w.rx / n);
        printf("idle_tls_records_per_round_trip=%.1f\n", (double)w.records / n);
    }
    printf("connections_opened_26h=%u\n", opens);
    /* Android's Exchange client: 28 min cap (2.14 Pings an hour) at ~600 bytes per round trip
       (Microsoft's figure), for comparison. */
    printf("android_idle_bytes_per_hour=%.0f\n", 60.0 / 28.0 * 600.0);
    check(at >= 0 && ord <= 5, "converges to the server maximum 3540 s within 5 Pings");
    check(w.max_iv <= 3540, "never asks for more than the server maximum");
    check(rph <= 1.1, "at most 1.1 idle requests per hour after convergence");
    device_stop();
}

/* A NAT that silently drops connections idle for 600 s. */
static void scenario_nat(void)
{
    reset_world();
    sc.srv_max_s = 3540;
    sc.nat_s = 600;
    device_start(0);
    (void)run_until(6 * H_MS);
    /* settled: the last drop is behind; from here 24 more hours */
    uint64_t settle = 0;
    for (size_t i = 0; i < nsreq; i++) {
        if (sreqs[i].answer == -1) {
            settle = sreqs[i].t_ms;
        }
    }
    window_t early = window(0, 6 * H_MS);
    uint64_t from = 6 * H_MS;
    (void)run_until(from + 24 * H_MS);
    window_t w = window(from, from + 24 * H_MS);
    uint32_t iv = last_interval();
    printf("nat_settled_interval_s=%u\n", (unsigned)iv);
    printf("nat_drops_before_settling=%zu\n", early.drops);
    printf("nat_settled_after_s=%.0f\n", (double)settle / 1000.0);
    printf("nat_idle_requests_per_hour=%.3f\n", (double)w.requests / 24.0);
    check(iv > 0 && iv < 600, "NAT 600 s: settles below 600 s");
    check(w.drops == 0 && w.max_iv < 600 && w.pings > 0,
          "NAT 600 s: stays below 600 s with no drop over 24 simulated hours");
    check(iv >= 500, "NAT 600 s: settles close to the limit (>= 500 s)");

    /* Restart: the learned interval is used at once, no new probing past the drop. */
    device_stop();
    size_t before = nsreq;
    uint64_t t0 = now_ms;
    device_start(0);
    (void)run_until(t0 + 24 * H_MS);
    uint32_t first = 0;
    for (size_t i = before; i < nsreq && first == 0; i++) {
        if (strcmp(sreqs[i].cmd, "Ping") == 0) {
            first = sreqs[i].interval;
        }
    }
    window_t rw = window(t0, t0 + 24 * H_MS);
    printf("restart_first_interval_s=%u\n", (unsigned)first);
    check(first == iv, "restart resumes the learned interval");
    check(rw.drops == 0, "after the restart no drop (no probing past the learned value)");
    device_stop();
}

/* A 10-minute outage of HTTP 503 while idle. */
static void scenario_outage(uint32_t retry_after, const char *key)
{
    reset_world();
    sc.srv_max_s = 3540;
    device_start(0);
    (void)run_until(10 * H_MS);
    /* the outage starts with the next request */
    size_t before = nsreq;
    (void)run_until(20 * H_MS);
    uint64_t start = 0;
    if (nsreq > before) {
        start = sreqs[before].t_ms;
    }
    /* replay with the outage scripted from that moment */
    reset_world();
    sc.srv_max_s = 3540;
    sc.outage_from = start;
    sc.outage_to = start + 600000u;
    sc.outage_retry_after = retry_after;
    sc.throttle = "ServerBusy";
    device_start(0);
    (void)run_until(start + 2 * H_MS);
    size_t n = 0;
    uint64_t ok_at = 0;
    for (size_t i = 0; i < nsreq; i++) {
        if (sreqs[i].t_ms >= start) {
            n++;
            if (sreqs[i].answer != 503) {
                ok_at = sreqs[i].t_ms;
                break;
            }
        }
    }
    printf("%s=%zu\n", key, n);
    if (retry_after) {
        printf("outage_recovered_after_s=%.0f\n", (double)(ok_at - start) / 1000.0);
        check(n >= 2, "503 outage: retried");
        check(ok_at >= start + 600000u, "503 outage: Retry-After honoured");
        printf("outage_throttle_events=%u\n", throttle_events);
        check(throttle_events == n - 1 && strcmp(throttle_last, "ServerBusy") == 0,
              "503 outage: X-MS-ASThrottle reported with every 503");
    } else {
        /* The server is busy and does not say how long: the back-off starts at the busy
           start, so the first retry comes no earlier than half of it. */
        uint64_t first_retry = 0;
        for (size_t i = 0; i + 1 < nsreq; i++) {
            if (sreqs[i].t_ms >= start) {
                first_retry = sreqs[i + 1].t_ms - sreqs[i].t_ms;
                break;
            }
        }
        printf("outage_no_retry_after_recovered_after_s=%.0f\n", (double)(ok_at - start) / 1000.0);
        printf("outage_no_retry_after_first_retry_s=%.1f\n", (double)first_retry / 1000.0);
        check(ok_at >= start + 600000u && n <= 6,
              "503 outage without Retry-After: at most 6 requests (the busy back-off)");
        check(first_retry >= CONFIG_EAS_BACKOFF_BUSY_MS / 2,
              "503 outage without Retry-After: the back-off starts at the busy start");
    }
    device_stop();
}

/* A 10-minute network outage while idle: the Ping's connection is reset and no connection
   can be opened. Transport failures keep the short back-off start (a radio gap costs
   seconds); the same doubling and cap bound the attempts. */
static void scenario_unreachable(void)
{
    reset_world();
    sc.srv_max_s = 3540;
    device_start(0);
    uint64_t start = 10 * H_MS + 1800000u; /* in the middle of a converged Ping */
    (void)run_until(start);
    size_t before = nsreq;
    conn.reset = true;
    net_down_to = start + 600000u;
    (void)run_until(start + 2 * H_MS);
    uint64_t ok_at = nsreq > before ? sreqs[before].t_ms : 0;
    printf("unreachable_connect_attempts=%u\n", connect_fails + 1u);
    /* The first attempt follows the reset at once (the request is tried on a new
       connection); the back-off decides when the second one goes. */
    uint64_t first_backoff = connect_fail_ms[1] - connect_fail_ms[0];
    printf("unreachable_first_backoff_s=%.1f\n", (double)first_backoff / 1000.0);
    printf("unreachable_recovered_after_s=%.0f\n", (double)(ok_at - start) / 1000.0);
    check(connect_fails >= 2 && first_backoff < CONFIG_EAS_BACKOFF_MIN_MS * 2u,
          "network outage: transport failures keep the short back-off start");
    check(ok_at >= net_down_to && connect_fails < 20,
          "network outage: attempts bounded by the back-off, recovered after it");
    device_stop();
}

/* Status 5 both ways: a server with minimum 600 (asked 480) and one with maximum 1800. */
static void scenario_status5(void)
{
    reset_world();
    sc.srv_min_s = 600;
    sc.srv_max_s = 3540;
    device_start(0);
    (void)run_until(12 * H_MS);
    size_t refused = 0;
    uint32_t lo = UINT32_MAX;
    for (size_t i = 0; i < nsreq; i++) {
        if (sreqs[i].eas == 5) {
            refused++;
        } else if (refused && strcmp(sreqs[i].cmd, "Ping") == 0 && sreqs[i].interval != 0 &&
                   sreqs[i].interval < lo) {
            lo = sreqs[i].interval;
        }
    }
    printf("status5_min_refusals=%zu\n", refused);
    printf("status5_min_lowest_interval_after_s=%u\n", lo == UINT32_MAX ? 0u : (unsigned)lo);
    check(refused == 1 && lo >= 600 && lo != UINT32_MAX,
          "Status 5 (too short): one refusal, then never below the server's minimum");

    reset_world();
    sc.srv_max_s = 1800;
    device_start(0);
    (void)run_until(24 * H_MS);
    refused = 0;
    uint32_t hi = 0;
    size_t after_refusal_above = 0;
    for (size_t i = 0; i < nsreq; i++) {
        if (sreqs[i].eas == 5) {
            refused++;
        } else if (refused && strcmp(sreqs[i].cmd, "Ping") == 0 && sreqs[i].interval > 1800) {
            after_refusal_above++;
        }
        hi = strcmp(sreqs[i].cmd, "Ping") == 0 && sreqs[i].interval > hi ? sreqs[i].interval : hi;
    }
    printf("status5_max_refusals=%zu\n", refused);
    printf("status5_max_settled_interval_s=%u\n", (unsigned)last_interval());
    check(refused == 1 && after_refusal_above == 0 && last_interval() == 1800,
          "Status 5 (too long): one refusal, then the server's maximum");
    device_stop();
}

/* EAS Status 177 (too many devices): a stopped state, no retry loop; 111: back-off. */
static void scenario_status(uint16_t st)
{
    reset_world();
    sc.srv_max_s = 3540;
    sc.eas_status = st;
    sc.eas_status_from = 2 * H_MS;
    device_start(0);
    int rc = run_until(26 * H_MS);
    window_t w = window(2 * H_MS, 26 * H_MS);
    if (st == 177) {
        printf("status177_requests_24h=%zu\n", w.requests);
        printf("status177_state=%s\n", eas_engine_state_name(eas_engine_state(&eng)));
        check(rc < 0 && w.requests <= 2, "Status 177: stopped and reported, no retry loop");
    } else {
        /* the gaps grow to the back-off's cap (with jitter: at least half of it) */
        size_t k = 0, short_gaps = 0;
        uint64_t prev = 0;
        for (size_t i = 0; i < nsreq; i++) {
            if (sreqs[i].t_ms < 2 * H_MS) {
                continue;
            }
            if (++k > 12 && sreqs[i].t_ms - prev < CONFIG_EAS_BACKOFF_MAX_MS / 2) {
                short_gaps++;
            }
            prev = sreqs[i].t_ms;
        }
        printf("status%u_requests_24h=%zu\n", (unsigned)st, w.requests);
        check(w.requests > 24 && short_gaps == 0,
              "Status 111: retried with the back-off (gaps grow to its cap), not in a loop");
    }
    device_stop();
}

/* A server that keeps no Ping parameters: one refused empty Ping, then full ones only. */
static void scenario_no_cache(void)
{
    reset_world();
    sc.srv_max_s = 3540;
    sc.no_cache = true;
    device_start(0);
    (void)run_until(26 * H_MS);
    size_t refused = 0, empty = 0;
    for (size_t i = 0; i < nsreq; i++) {
        if (strcmp(sreqs[i].cmd, "Ping") == 0) {
            refused += sreqs[i].eas == 3;
            empty += sreqs[i].interval == 0;
        }
    }
    window_t w = window(2 * H_MS, 26 * H_MS);
    printf("no_cache_refused_empty_pings=%zu\n", refused);
    printf("no_cache_idle_requests_per_hour=%.3f\n", (double)w.requests / 24.0);
    check(refused == 1 && empty == 1,
          "a server without cached Ping parameters: one empty Ping refused, then full ones");
    device_stop();
}

/* 177 already on the first command after Provision: stopped there, not after a retry loop. */
static void scenario_177_first_sync(void)
{
    reset_world();
    sc.eas_status = 177;
    device_start(0);
    int rc = run_until(24 * H_MS);
    printf("status177_first_sync_requests_24h=%zu\n", nsreq);
    check(rc < 0 && eas_engine_state(&eng) == EAS_STATE_BLOCKED && nsreq <= 3,
          "Status 177 on the first command after Provision: stopped at once (OPTIONS, "
          "Provision, Settings)");
    device_stop();
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--check") == 0) {
            checking = true;
        } else if (strcmp(argv[i], "--trace") == 0) {
            trace = true;
        } else {
            fprintf(stderr, "usage: push-sim [--check] [--trace]\n");
            return 2;
        }
    }
    printf("tls_record_overhead_bytes=%u\n", TLS_RECORD_OVERHEAD);
    scenario_idle();
    scenario_nat();
    scenario_outage(120, "outage_requests");
    scenario_outage(0, "outage_requests_no_retry_after");
    scenario_unreachable();
    scenario_status5();
    scenario_status(111);
    scenario_status(177);
    scenario_177_first_sync();
    scenario_no_cache();
    fflush(stdout);
    if (checking && failures) {
        fprintf(stderr, "push-sim: %d check(s) failed\n", failures);
        return 1;
    }
    return 0;
}
