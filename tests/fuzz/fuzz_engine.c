/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Whole-session harness: eas_step() against a scripted fake server whose answers come from
 * the fuzz input, with simulated time jumping to every deadline and the store in RAM.
 *
 * Input: two config bytes, then records separated by FUZZ_SEP ("@@EASD@@"). Each record
 * answers one request, in order, whatever the request is.
 *   cfg[0]: bit 0 all classes (else Calendar only), bit 1 calendar collector, bit 2
 *           WindowSize 1 (else 100), bits 3-5 highest version (0 none, 1 12.1, 2 14.0,
 *           3 14.1, 4 16.0, 5+ 16.1), bit 6 policy PARTIAL (else ENFORCE_ALL), bit 7 REFUSE
 *   cfg[1]: low nibble: every n-th store write fails (0 = never); bit 4: the transport
 *           returns "try again" every third call; bits 5-7: unused
 *   record[0]: bits 0-2 kind:
 *              0 raw bytes rec[1..] then end of stream
 *              1 200 + WBXML body rec[1..] (Content-Length framed)
 *              2 status rec[1..2] (u16 BE, mod 1000) + header lines rec[3..], no body
 *              3 OPTIONS answer: MS-ASProtocolVersions: rec[1..]
 *              4 no answer at all (the client's timeout must fire)
 *              5 the next connect fails (error from rec[1]); on an open connection: reset
 *              6 200 + WBXML body rec[2..], reset after rec[1] * 4 bytes
 *              7 200, WBXML content type, empty body
 *            bit 3 keep-alive (else "Connection: close"); bits 4-5 receive chunk size
 *            (any, 1, 7, 64 bytes); bit 6: the application queues a local change (add,
 *            change, delete, meeting response, sync-now in turn) before this answer;
 *            bit 7: the device reboots instead of receiving this answer (the engine is
 *            closed and initialised again from the store).
 *
 * Invariants (abort on violation; ASan/UBSan catch the rest):
 *  - spin: eas_step() without I/O progress, without time passing and without a new
 *    deadline is bounded (FUZZ_SPIN_MAX calls in a row);
 *  - liveness ("stall"): an engine that is not stopped always waits for I/O that can come
 *    or returns a deadline; otherwise a port's event loop would sleep forever;
 *  - back-off: after the engine enters BACKOFF at time t, no connection is opened and no
 *    request byte is sent before t + CONFIG_EAS_BACKOFF_MIN_MS / 2;
 *  - tight loop: the same request (byte-identical) is not sent more than FUZZ_LOOP_MAX
 *    times within CONFIG_EAS_BACKOFF_MIN_MS / 2 ("loop");
 *  - store: every record stays framed and checksummed (eas_state_get), and a second engine
 *    initialised from the store at the end reports no corrupt record;
 *  - events: ITEM_FIELD/ITEM_END only inside an item, every pointer readable; calendar
 *    items pass the calendar harness checks.
 * FUZZ_ENGINE_ALLOW="stall,loop" tolerates the named known findings (tests/fuzz/README.md)
 * so fuzzing can go on past them; FUZZ_ENGINE_TRACE=1 prints the session.
 */
#define _GNU_SOURCE /* memmem */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eas/eas.h"
#include "eas/eas_config_defaults.h"
#include "eas/eas_engine.h"
#include "eas_state.h"
#include "fuzz_cal_check.h"
#include "fuzz_engine_hal.h"

#define FUZZ_SEP       "@@EASD@@"
#define FUZZ_SEP_LEN   8u
#define FUZZ_MAX_STEPS 20000
#define FUZZ_SPIN_MAX  64
#define FUZZ_LOOP_MAX  8
#define FUZZ_TAIL_REQS 3 /* requests tolerated after the script ran out */
#define GATE_MS        (CONFIG_EAS_BACKOFF_MIN_MS / 2u)

static void fail(const char *why)
{
    fprintf(stderr, "fuzz_engine: invariant broken: %s\n", why);
    abort();
}

/* ------------------------------ script ------------------------------ */

typedef struct script {
    const uint8_t *d;
    size_t n;
    size_t pos;
    bool done;
} script_t;

/* Next record (excluding the separator); false when none is left. */
static bool script_next(script_t *s, const uint8_t **rec, size_t *len)
{
    const uint8_t *sep;
    if (s->done || s->pos > s->n) {
        return false;
    }
    sep = memmem(s->d + s->pos, s->n - s->pos, FUZZ_SEP, FUZZ_SEP_LEN);
    *rec = s->d + s->pos;
    if (sep) {
        *len = (size_t)(sep - (s->d + s->pos));
        s->pos += *len + FUZZ_SEP_LEN;
    } else {
        *len = s->n - s->pos;
        s->done = true;
    }
    return true;
}

/* ------------------------------ fake server ------------------------------ */

enum { C_CLOSED = 0, C_OPEN };

typedef struct srv {
    script_t sc;
    int conn;
    unsigned opens;
    /* request being received */
    uint8_t rx[32768];
    size_t rx_len;
    bool rx_overflow;
    /* answer being served */
    uint8_t tx[70000];
    size_t tx_len;
    size_t tx_pos;
    bool answering;  /* a request is complete; tx holds its answer */
    bool hang;       /* never answer */
    bool eof_after;  /* end of stream after tx */
    size_t reset_at; /* reset once tx_pos reaches this (SIZE_MAX: never) */
    int conn_err;    /* sticky error of the connection (0: none) */
    unsigned chunk;
    bool try_again;
    unsigned tick;
    int next_open_err;
    unsigned tail_reqs;
    /* progress and invariants */
    uint64_t moved;
    uint64_t now;
    uint64_t gate; /* no request before this */
    uint64_t hist_hash[32];
    uint64_t hist_time[32];
    unsigned hist_n;
    bool allow_loops; /* FUZZ_ENGINE_ALLOW contains "loop" */
    bool allow_stall; /* FUZZ_ENGINE_ALLOW contains "stall" */
    bool trace;       /* FUZZ_ENGINE_TRACE=1: print the session to stderr */
    /* actions for the harness loop (never called from inside a transport callback) */
    bool want_reboot;
    bool want_change;
} srv_t;

static srv_t S;

static uint64_t fnv(const uint8_t *d, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) {
        h = (h ^ d[i]) * 1099511628211ull;
    }
    return h;
}

static void check_gate(const char *what)
{
    if (S.now < S.gate) {
        fprintf(stderr, "fuzz_engine: %s at %llu ms, back-off entered at %llu ms\n", what,
                (unsigned long long)S.now, (unsigned long long)(S.gate - GATE_MS));
        fail("request inside the back-off interval");
    }
}

static size_t tx_add(const void *d, size_t n)
{
    if (n > sizeof(S.tx) - S.tx_len) {
        n = sizeof(S.tx) - S.tx_len;
    }
    memcpy(S.tx + S.tx_len, d, n);
    S.tx_len += n;
    return n;
}

static void tx_head(const char *status_line, const char *extra, size_t body_len, bool keep)
{
    char head[512];
    int n = snprintf(head, sizeof(head), "HTTP/1.1 %s\r\n%sContent-Length: %u\r\n%s\r\n",
                     status_line, extra, (unsigned)body_len, keep ? "" : "Connection: close\r\n");
    if (n > 0) {
        tx_add(head, (size_t)n < sizeof(head) ? (size_t)n : sizeof(head) - 1);
    }
}

static void answer_wbxml(const uint8_t *body, size_t n, bool keep)
{
    tx_head("200 OK", "Content-Type: application/vnd.ms-sync.wbxml\r\n", n, keep);
    tx_add(body, n);
}

/* A complete request arrived: record it and prepare the scripted answer. */
static void request_complete(void)
{
    static const unsigned chunks[4] = {4096, 1, 7, 64};
    const uint8_t *rec = NULL;
    size_t len = 0;
    uint64_t h = fnv(S.rx, S.rx_len);
    unsigned same = 0;

    for (unsigned i = 0; i < S.hist_n && i < 32; i++) {
        if (S.hist_hash[i] == h && S.now < S.hist_time[i] + GATE_MS) {
            same++;
        }
    }
    if (same >= FUZZ_LOOP_MAX && !S.allow_loops) {
        fprintf(stderr, "fuzz_engine: request sent %u times within %u ms:\n%.*s\n", same + 1,
                (unsigned)GATE_MS, (int)(S.rx_len < 400 ? S.rx_len : 400), (const char *)S.rx);
        fail("identical request repeated in a tight loop");
    }
    if (S.trace) {
        fprintf(stderr, "[%8llu ms] request: %.*s\n", (unsigned long long)S.now,
                (int)strcspn((const char *)S.rx, "\r"), (const char *)S.rx);
    }
    S.hist_hash[S.hist_n % 32] = h;
    S.hist_time[S.hist_n % 32] = S.now;
    S.hist_n++;

    S.rx_len = 0;
    S.tx_len = 0;
    S.tx_pos = 0;
    S.answering = true;
    S.hang = false;
    S.eof_after = true;
    S.reset_at = SIZE_MAX;
    S.chunk = 4096;
    if (!script_next(&S.sc, &rec, &len)) {
        S.tail_reqs++;
        return; /* script exhausted: end of stream */
    }
    if (len == 0) {
        return;
    }
    unsigned kind = rec[0] & 7u;
    if (S.trace) {
        fprintf(stderr, "[%8llu ms]   answer: record kind %u flags 0x%02x, %zu bytes\n",
                (unsigned long long)S.now, kind, rec[0] & 0xF8u, len - 1);
    }
    bool keep = (rec[0] & 8u) != 0;
    S.chunk = chunks[(rec[0] >> 4) & 3u];
    S.want_change = (rec[0] & 0x40u) != 0;
    if (rec[0] & 0x80u) {
        S.want_reboot = true;
        S.hang = true;
        return;
    }
    rec++;
    len--;
    S.eof_after = !keep;
    switch (kind) {
    case 0:
        tx_add(rec, len);
        S.eof_after = true;
        break;
    case 1:
        answer_wbxml(rec, len, keep);
        break;
    case 2: {
        char line[16];
        char extra[256];
        unsigned st = len >= 2 ? (((unsigned)rec[0] << 8) | rec[1]) % 1000u : 503u;
        size_t xn = len > 2 ? len - 2 : 0;
        xn = xn < sizeof(extra) - 1 ? xn : sizeof(extra) - 1;
        memcpy(extra, rec + 2, xn);
        extra[xn] = '\0'; /* header text stops at a NUL byte */
        snprintf(line, sizeof(line), "%u X", st);
        tx_head(line, extra, 0, keep);
        break;
    }
    case 3: {
        char extra[320];
        size_t vn = len < 200 ? len : 200;
        snprintf(extra, sizeof(extra),
                 "MS-ASProtocolCommands: Sync,FolderSync,Ping,Provision\r\n"
                 "MS-ASProtocolVersions: %.*s\r\n",
                 (int)vn, (const char *)rec);
        tx_head("200 OK", extra, 0, keep);
        break;
    }
    case 4:
        S.hang = true;
        break;
    case 5:
        S.next_open_err = len ? -(int)(20 + rec[0] % 12) : EAS_ERR_CONNECT;
        S.conn_err = EAS_ERR_RESET;
        break;
    case 6:
        S.reset_at = len ? (size_t)rec[0] * 4u : 0;
        answer_wbxml(len > 1 ? rec + 1 : rec, len > 1 ? len - 1 : 0, keep);
        break;
    default:
        tx_head("200 OK", "Content-Type: application/vnd.ms-sync.wbxml\r\n", 0, keep);
        break;
    }
}

static int32_t f_send(void *ctx, const uint8_t *buf, size_t len)
{
    (void)ctx;
    if (S.conn_err) {
        return S.conn_err;
    }
    if (S.try_again && ++S.tick % 3 == 0) {
        return 0;
    }
    if (S.answering) {
        /* A new request while the old answer is still pending: pipelining is not ours. */
        if (S.tx_pos < S.tx_len || S.hang) {
            return EAS_ERR_RESET;
        }
        S.answering = false;
    }
    if (S.rx_len == 0) {
        check_gate("request sent");
    }
    size_t n = len > 512 ? 512 : len;
    if (n > sizeof(S.rx) - S.rx_len) {
        S.rx_overflow = true;
        n = sizeof(S.rx) - S.rx_len;
        if (n == 0) {
            return EAS_ERR_RESET;
        }
    }
    memcpy(S.rx + S.rx_len, buf, n);
    S.rx_len += n;
    S.moved += n;
    /* Complete when the head is in and Content-Length bytes followed it. */
    uint8_t *end = memmem(S.rx, S.rx_len, "\r\n\r\n", 4);
    if (end) {
        size_t head = (size_t)(end - S.rx) + 4;
        size_t body = 0;
        uint8_t *cl = memmem(S.rx, head, "Content-Length: ", 16);
        if (cl) {
            body = (size_t)strtoul((const char *)cl + 16, NULL, 10);
        }
        if (S.rx_len >= head + body) {
            request_complete();
        }
    }
    return (int32_t)n;
}

static bool readable(void)
{
    if (S.conn != C_OPEN) {
        return false;
    }
    if (S.conn_err) {
        return true;
    }
    if (!S.answering || S.hang) {
        return false;
    }
    /* Bytes, a reset or the end of stream; a kept-alive connection with its answer
       delivered has nothing until the next request. */
    return S.tx_pos < S.tx_len || S.eof_after || S.reset_at != SIZE_MAX;
}

static int32_t f_recv(void *ctx, uint8_t *buf, size_t len)
{
    (void)ctx;
    if (S.conn_err) {
        return S.conn_err;
    }
    if (!readable()) {
        return 0;
    }
    if (S.try_again && ++S.tick % 3 == 0) {
        return 0;
    }
    if (S.tx_pos >= S.reset_at) {
        S.conn_err = EAS_ERR_RESET;
        return S.conn_err;
    }
    if (S.tx_pos == S.tx_len) {
        if (S.eof_after) {
            S.conn_err = EAS_ERR_CLOSED;
            return S.conn_err;
        }
        return 0; /* keep-alive: wait for the next request */
    }
    size_t n = S.tx_len - S.tx_pos;
    n = n > len ? len : n;
    n = n > S.chunk ? S.chunk : n;
    if (S.reset_at != SIZE_MAX && S.tx_pos + n > S.reset_at) {
        n = S.reset_at - S.tx_pos;
    }
    memcpy(buf, S.tx + S.tx_pos, n);
    S.tx_pos += n;
    S.moved += n;
    return (int32_t)n;
}

static void f_close(void *ctx)
{
    (void)ctx;
    if (S.conn != C_OPEN) {
        fail("close of a connection that is not open");
    }
    S.conn = C_CLOSED;
    S.moved++;
}

static int f_open(void *ctx, const char *host, uint16_t port, hal_net_security_t sec, hal_io_t *io)
{
    (void)ctx;
    (void)port;
    (void)sec;
    if (host == NULL || strlen(host) == 0) {
        fail("open without a host");
    }
    if (S.conn == C_OPEN) {
        fail("a second connection opened while one is open");
    }
    check_gate("connection opened");
    S.moved++;
    S.opens++;
    if (S.next_open_err) {
        int e = S.next_open_err;
        S.next_open_err = 0;
        return e;
    }
    if (S.sc.done && S.sc.pos >= S.sc.n && S.tail_reqs > 0) {
        S.tail_reqs++;
        return EAS_ERR_CONNECT;
    }
    S.conn = C_OPEN;
    S.conn_err = 0;
    S.rx_len = 0;
    S.answering = false;
    S.tx_len = S.tx_pos = 0;
    S.hang = false;
    io->send = f_send;
    io->recv = f_recv;
    io->close = f_close;
    io->ctx = &S;
    return EAS_OK;
}

/* ------------------------------ application ------------------------------ */

static eas_engine_t eng;
static eas_engine_cal_t cal_mem;
static eas_cal_exception_t cal_ex[16];
static eas_cal_attendee_t cal_att[4];
static eas_folder_t folders[8];
static eas_outbox_slot_t outbox[4];
static uint8_t arena_mem[CONFIG_EAS_ARENA_SIZE];
static uint8_t work[EAS_HTTP_CLIENT_WORK_SIZE];
static eas_arena_t arena;
static const hal_net_t net = {f_open, NULL};
static eas_account_cfg_t cfg;
static eas_engine_mem_t mem;

typedef struct app {
    int decision;
    bool item_open;
    unsigned cal_items;
    unsigned corrupt_reports;
    bool use_cal;
} app_t;

static app_t A;

static void touch(const void *p, size_t n)
{
    volatile uint8_t sink = 0;
    for (size_t i = 0; i < n; i++) {
        sink ^= ((const uint8_t *)p)[i];
    }
    (void)sink;
}

static void touch_str(const char *s)
{
    if (s) {
        touch(s, strlen(s) + 1);
    }
}

static int on_event(void *user, eas_event_t *ev)
{
    app_t *a = user;
    switch (ev->type) {
    case EAS_EV_STATE:
        if (S.trace) {
            fprintf(stderr, "[%8llu ms]   state %s\n", (unsigned long long)S.now,
                    eas_engine_state_name(ev->u.state.state));
        }
        if (ev->u.state.state == EAS_STATE_BACKOFF) {
            S.gate = S.now + GATE_MS;
        }
        a->item_open = false;
        break;
    case EAS_EV_ERROR:
        if (S.trace) {
            fprintf(stderr, "[%8llu ms]   error %s (status %u): %s\n", (unsigned long long)S.now,
                    eas_err_name(ev->u.error.err), (unsigned)ev->u.error.status,
                    ev->u.error.what ? ev->u.error.what : "");
        }
        touch_str(ev->u.error.what);
        touch_str(ev->u.error.folder);
        if (ev->u.error.err == EAS_ERR_STORE_CORRUPT) {
            a->corrupt_reports++;
        }
        a->item_open = false; /* a failed response may end inside an item */
        break;
    case EAS_EV_FOLDER:
    case EAS_EV_RESYNC_BEGIN:
    case EAS_EV_RESYNC_END:
    case EAS_EV_FOLDER_SYNCED:
    case EAS_EV_PING_REJECTED:
        if (ev->u.folder.entry) {
            touch_str(ev->u.folder.entry->server_id);
        }
        touch_str(ev->u.folder.display_name);
        break;
    case EAS_EV_ITEM_BEGIN:
        touch_str(ev->u.item.folder);
        touch_str(ev->u.item.server_id);
        a->item_open = true; /* a DELETE may or may not be followed by ITEM_END */
        break;
    case EAS_EV_ITEM_FIELD:
        if (!a->item_open) {
            fail("ITEM_FIELD outside an item");
        }
        if (ev->u.field.len) {
            touch(ev->u.field.data, ev->u.field.len);
        }
        break;
    case EAS_EV_ITEM_END:
        if (!a->item_open) {
            fail("ITEM_END without ITEM_BEGIN");
        }
        a->item_open = false;
        touch_str(ev->u.item.server_id);
#if CONFIG_EAS_CALENDAR
        if (ev->u.item.cal) {
            if (!a->use_cal) {
                fail("calendar item without a collector");
            }
            fuzz_cal_check_item(ev->u.item.cal);
            if (a->cal_items++ < 4) {
                int64_t s = ev->u.item.cal->start;
                s = s < EAS_CAL_TIME_MIN ? EAS_CAL_TIME_MIN : s;
                (void)fuzz_cal_check_expand(ev->u.item.cal, s - 86400, s + 7 * 86400,
                                            s + 30 * 86400);
            }
        }
#endif
        break;
    case EAS_EV_OUTBOX_RESULT:
        touch_str(ev->u.outbox.server_id);
        break;
    case EAS_EV_POLICY_SETTING:
        touch_str(ev->u.policy.value);
        break;
    case EAS_EV_POLICY_DECIDE:
        ev->u.policy.decision = (eas_policy_decision_t)a->decision;
        break;
    default:
        break;
    }
    return EAS_OK;
}

static int engine_init(eas_engine_t *e)
{
    eas_arena_init(&arena, arena_mem, sizeof(arena_mem));
    return eas_engine_init(e, &cfg, &mem, &net, fuzz_hal(), on_event, &A);
}

/* Every record must be framed, of its key's type, and checksummed. */
static int check_record(void *user, const char *key, size_t len)
{
    static uint8_t buf[16384];
    const char *suffix = strchr(key, '.');
    const uint8_t *payload = NULL;
    size_t plen = 0;
    uint8_t type = 0;
    (void)user;
    (void)len;
    if (suffix == NULL || strncmp(key, "f0.", 3) != 0) {
        fail("record outside the account's namespace");
    }
    suffix++;
    if (strcmp(suffix, "acct") == 0) {
        type = EAS_REC_ACCT;
    } else if (strcmp(suffix, "fold") == 0) {
        type = EAS_REC_FOLD;
    } else if (suffix[0] == 'k') {
        type = EAS_REC_SKEY;
    } else if (suffix[0] == 'o') {
        type = EAS_REC_OUTBOX;
    } else {
        fail("record with an unknown key");
    }
    const eas_state_ns_t ns = {&fuzz_hal()->store, NULL, "f0"};
    if (eas_state_get(&ns, key, type, buf, sizeof(buf), &payload, &plen) != EAS_OK) {
        fprintf(stderr, "fuzz_engine: record %s (%zu bytes) does not decode\n", key, len);
        fail("persisted record not decodable");
    }
    return 0;
}

static void app_change(unsigned n)
{
    static const eas_field_t f[] = {{EAS_CALENDAR_SUBJECT, EAS_FIELD_TEXT, "Lunch", 5},
                                    {EAS_CALENDAR_REMINDER, EAS_FIELD_TEXT, "15", 2}};
    const char *fid = NULL;
    uint32_t id = 0;
    for (size_t i = 0; i < 8; i++) {
        if (folders[i].used && (folders[i].flags & EAS_FOLDER_F_SELECTED)) {
            fid = folders[i].server_id;
            break;
        }
    }
    switch (n % 5) {
    case 0:
        (void)eas_item_add(&eng, fid, f, 2, &id);
        break;
    case 1:
        (void)eas_item_change(&eng, fid, "srv1", EAS_CHANGE_EDIT, 0, f, 2, &id);
        break;
    case 2:
        (void)eas_item_delete(&eng, fid, "srv2", &id);
        break;
    case 3:
        (void)eas_meeting_respond(&eng, fid, "srv3", NULL, EAS_MEETING_ACCEPT, &id);
        break;
    default:
        (void)eas_sync_now(&eng, NULL);
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const eas_proto_ver_t vers[8] = {EAS_VER_NONE, EAS_VER_12_1, EAS_VER_14_0, EAS_VER_14_1,
                                            EAS_VER_16_0, EAS_VER_16_1, EAS_VER_16_1, EAS_VER_16_1};
    static char password[] = "secret";
    unsigned spin = 0;
    unsigned changes_seen;
    unsigned nchange = 0;
    uint64_t last_dl = 0;

    if (size < 2) {
        return 0;
    }
    memset(&S, 0, sizeof(S));
    memset(&A, 0, sizeof(A));
    S.sc.d = data + 2;
    S.sc.n = size - 2;
    S.now = 1000;
    S.try_again = (data[1] & 0x10u) != 0;
    {
        const char *allow = getenv("FUZZ_ENGINE_ALLOW");
        S.allow_loops = allow != NULL && strstr(allow, "loop") != NULL;
        S.allow_stall = allow != NULL && strstr(allow, "stall") != NULL;
    }
    S.trace = getenv("FUZZ_ENGINE_TRACE") != NULL;
    fuzz_store_reset(data[1] & 0x0Fu);

    memset(&cfg, 0, sizeof(cfg));
    cfg.url = "https://mail.example.test/Microsoft-Server-ActiveSync";
    cfg.user = "user";
    cfg.email = "user@example.test";
    cfg.device_id = "FUZZ0001";
    cfg.device_type = "easd";
    cfg.auth.kind = EAS_HTTP_AUTH_BASIC;
    cfg.auth.user = "user";
    cfg.auth.password = password;
    cfg.classes = (data[0] & 1u) ? 0x1Fu : EAS_CLASS_CALENDAR;
    cfg.window_size = (data[0] & 4u) ? 1 : 100;
    cfg.max_version = vers[(data[0] >> 3) & 7u];
    cfg.ping_interval_s = 300;
    cfg.store_prefix = "f0";
    A.decision = (data[0] & 0x80u)   ? EAS_POLICY_REFUSE
                 : (data[0] & 0x40u) ? EAS_POLICY_PARTIAL
                                     : EAS_POLICY_ENFORCE_ALL;
    A.use_cal = (data[0] & 2u) != 0;
    memset(&cal_mem, 0, sizeof(cal_mem));
    cal_mem.exceptions = cal_ex;
    cal_mem.exception_cap = 16;
    cal_mem.attendees = cal_att;
    cal_mem.attendee_cap = 4;
    memset(folders, 0, sizeof(folders));
    memset(outbox, 0, sizeof(outbox));
    mem = (eas_engine_mem_t){folders, 8,    outbox,       4,
                             &arena,  work, sizeof(work), A.use_cal ? &cal_mem : NULL, NULL, 0,
                             EAS_CONFIG_FINGERPRINT};
    if (engine_init(&eng) != EAS_OK) {
        fail("init of a new account");
    }
    changes_seen = fuzz_store_changes();

    for (int step = 0; step < FUZZ_MAX_STEPS; step++) {
        uint64_t dl = UINT64_MAX;
        unsigned io = eas_engine_wait_io(&eng);
        eas_step_event_t why = EAS_STEP_TICK;
        uint64_t moved = S.moved;
        uint64_t before = S.now;
        int rc;

        if ((io & EAS_IO_READ) && readable()) {
            why = EAS_STEP_READABLE;
        } else if (io & EAS_IO_WRITE) {
            why = EAS_STEP_WRITABLE;
        }
        rc = eas_step(&eng, why, S.now, &dl);
        if (fuzz_store_changes() != changes_seen) {
            changes_seen = fuzz_store_changes();
            (void)fuzz_store_each(check_record, NULL);
        }
        if (rc < 0 && eas_engine_state(&eng) < EAS_STATE_AUTH_FAILED) {
            fail("eas_step failed while not in a stopped state");
        }
        if (rc < 0) {
            break; /* stopped: needs the user; nothing more will happen */
        }
        if (S.want_reboot) {
            /* Power loss: the answer never arrives; the next boot loads the store. */
            S.want_reboot = false;
            eas_engine_close(&eng);
            if (S.conn == C_OPEN) {
                fail("eas_engine_close left the connection open");
            }
            S.gate = 0;
            S.hist_n = 0; /* a reboot may resend what it had in flight */
            if (engine_init(&eng) != EAS_OK && eas_engine_state(&eng) != EAS_STATE_FAILED) {
                fail("init from the store failed without a reason");
            }
            S.answering = false;
            continue;
        }
        if (S.want_change) {
            S.want_change = false;
            app_change(nchange++);
            dl = S.now; /* EAS_STEP_COMMAND: step again now */
        }
        if (S.tail_reqs > FUZZ_TAIL_REQS || S.now > 30ull * 24 * 3600 * 1000) {
            break;
        }
        io = eas_engine_wait_io(&eng);
        bool io_possible = ((io & EAS_IO_READ) && readable()) || (io & EAS_IO_WRITE);
        if (!io_possible) {
            if (dl == UINT64_MAX && S.allow_stall) {
                dl = S.now; /* known finding: step again, as a defensive caller would */
            }
            if (dl == UINT64_MAX) {
                fprintf(stderr, "fuzz_engine: state %s, wait_io %u\n",
                        eas_engine_state_name(eas_engine_state(&eng)), io);
                fail("engine waits forever: no possible I/O and no deadline");
            }
            if (dl > S.now) {
                S.now = dl;
            }
        }
        if (S.moved == moved && S.now == before && dl == last_dl) {
            if (++spin > FUZZ_SPIN_MAX) {
                fprintf(stderr, "fuzz_engine: state %s, wait_io %u, deadline %llu, now %llu\n",
                        eas_engine_state_name(eas_engine_state(&eng)), io, (unsigned long long)dl,
                        (unsigned long long)S.now);
                fail("eas_step spins: no I/O, no time passing, same deadline");
            }
        } else {
            spin = 0;
        }
        last_dl = dl;
    }
    eas_engine_close(&eng);
    (void)fuzz_store_each(check_record, NULL);

    /* Whatever happened, the store must load without a corrupt record. */
    {
        static eas_engine_t eng2;
        unsigned before = A.corrupt_reports;
        int err = engine_init(&eng2);
        if (err != EAS_OK || A.corrupt_reports != before) {
            fprintf(stderr, "fuzz_engine: init from the final store: %d, %u corrupt reports\n", err,
                    A.corrupt_reports - before);
            fail("the persisted state does not load cleanly");
        }
        eas_engine_close(&eng2);
    }
    return 0;
}
