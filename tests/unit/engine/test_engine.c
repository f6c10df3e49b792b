/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The engine over a fake connector: a scripted server answers each request (decoded back
 * to a flat "<Tag>text</>" string) with WBXML built by the encoder, delivered in small pieces
 * with "try again" in between. Time is simulated.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "eas/eas.h"
#include "eas/eas_base64.h"
#include "eas/eas_wbxml.h"
#include "eas_state.h"
#include "tag_names.h"
#include "fp_defaults.h"
#include "test_hal.h"

/* ------------------------------ fake server ------------------------------ */

typedef struct srv_req {
    char host[64];
    char path[128];
    char cmd[32];
    char policy_key[32];
    char body[4096]; /* flattened WBXML */
    char query[256];
    char user_agent[64];
    bool raw_mime;
} srv_req_t;

/* The test's handler: fills status, headers and body for a request. */
typedef void (*handler_fn)(const srv_req_t *rq, int n);

static handler_fn handler;
static srv_req_t reqs[1024];
static int nreq;
static uint8_t rx_raw[16384]; /* request bytes as sent */
static size_t rx_len;
static uint8_t tx[16384]; /* response bytes to serve */
static size_t tx_len, tx_pos;
static long cut_at = -1;       /* >= 0: the response stops after this many bytes ... */
static int cut_err;            /* ... with this error (EAS_ERR_RESET) or a clean close */
static size_t full_len;        /* length the uncut response had */
static char r_cid[64] = "cal"; /* CollectionId of the Sync being answered */
static int tick;               /* alternates "try again" */
static int opens;
static char cur_host[64];

/* Response under construction. */
static int r_status;
static char r_headers[512];
static uint8_t r_body[8192];
static size_t r_body_len;
static uint8_t encbuf[64];

static int flush_body(void *u, const uint8_t *d, size_t n)
{
    (void)u;
    memcpy(r_body + r_body_len, d, n);
    r_body_len += n;
    return EAS_OK;
}

static char flatbuf[4096];
static uint8_t srv_opaque[16384]; /* OPAQUE bytes of the last request (SendMail MIME) */
static size_t srv_opaque_len;
static int flat_cb(void *u, const eas_wbxml_event_t *ev)
{
    (void)u;
    if (ev->type == EAS_WBXML_EV_OPAQUE && srv_opaque_len + ev->len <= sizeof(srv_opaque)) {
        memcpy(srv_opaque + srv_opaque_len, ev->data, ev->len);
        srv_opaque_len += ev->len;
    }
    size_t l = strlen(flatbuf);
    const char *name = test_tag_name(ev->tag);
    if (ev->type == EAS_WBXML_EV_START) {
        snprintf(flatbuf + l, sizeof(flatbuf) - l, "<%s>", name ? name : "?");
    } else if (ev->type == EAS_WBXML_EV_END) {
        snprintf(flatbuf + l, sizeof(flatbuf) - l, "</>");
    } else if (ev->type == EAS_WBXML_EV_TEXT) {
        snprintf(flatbuf + l, sizeof(flatbuf) - l, "%.*s", (int)ev->len, (const char *)ev->data);
    } else {
        snprintf(flatbuf + l, sizeof(flatbuf) - l, "[%u]", (unsigned)ev->len);
    }
    return EAS_OK;
}

static void header_value(const char *head, const char *name, char *out, size_t cap)
{
    const char *h = strstr(head, name);
    out[0] = '\0';
    if (h) {
        h += strlen(name);
        size_t n = strcspn(h, "\r\n");
        if (n >= cap) {
            n = cap - 1;
        }
        memcpy(out, h, n);
        out[n] = '\0';
    }
}

/* Settings DeviceInformation answers of the default handler (reset per test). */
static int settings_status = 1;
static int settings_di_status = 1;
static bool settings_by_handler; /* the scenario's handler answers Settings itself */
static void resp_settings(int status, int di_status);

/* When a whole request has arrived, decode it and let the handler answer. */
static void srv_maybe_answer(void)
{
    rx_raw[rx_len] = '\0';
    char *end = strstr((char *)rx_raw, "\r\n\r\n");
    if (!end) {
        return;
    }
    size_t head_len = (size_t)(end - (char *)rx_raw) + 4;
    char cl[16];
    header_value((char *)rx_raw, "Content-Length: ", cl, sizeof(cl));
    size_t blen = (size_t)atoi(cl);
    if (rx_len < head_len + blen) {
        return;
    }
    srv_req_t *rq = &reqs[nreq < 1023 ? nreq : 1023];
    memset(rq, 0, sizeof(*rq));
    snprintf(rq->host, sizeof(rq->host), "%s", cur_host);
    {
        const char *sp = strchr((char *)rx_raw, ' ');
        size_t pl = sp ? strcspn(sp + 1, "? ") : 0;
        if (sp && pl < sizeof(rq->path)) {
            memcpy(rq->path, sp + 1, pl);
            rq->path[pl] = '\0';
        }
    }
    if (strncmp((char *)rx_raw, "OPTIONS", 7) == 0) {
        strcpy(rq->cmd, "OPTIONS");
    } else {
        header_value((char *)rx_raw, "Cmd=", rq->cmd, sizeof(rq->cmd));
        rq->cmd[strcspn(rq->cmd, "& ")] = '\0';
    }
    header_value((char *)rx_raw, "X-MS-PolicyKey: ", rq->policy_key, sizeof(rq->policy_key));
    header_value((char *)rx_raw, "User-Agent: ", rq->user_agent, sizeof(rq->user_agent));
    flatbuf[0] = '\0';
    srv_opaque_len = 0;
    char ctype[64];
    header_value((char *)rx_raw, "Content-Type: ", ctype, sizeof(ctype));
    rq->raw_mime = strcmp(ctype, "message/rfc822") == 0;
    header_value((char *)rx_raw, "POST ", rq->query, sizeof(rq->query));
    if (rq->raw_mime) {
        /* 12.1 SendMail: the body is the message itself */
        memcpy(srv_opaque, rx_raw + head_len, blen < sizeof(srv_opaque) ? blen : 0);
        srv_opaque_len = blen < sizeof(srv_opaque) ? blen : 0;
    } else if (blen) {
        eas_wbxml_dec_t dec;
        eas_wbxml_dec_init(&dec, flat_cb, NULL);
        assert_int_equal(eas_wbxml_dec_feed(&dec, rx_raw + head_len, blen), EAS_OK);
        assert_int_equal(eas_wbxml_dec_finish(&dec), EAS_OK);
    }
    snprintf(rq->body, sizeof(rq->body), "%s", flatbuf);
    {
        const char *c = strstr(rq->body, "<CollectionId>");
        strcpy(r_cid, "cal");
        if (c) {
            c += strlen("<CollectionId>");
            size_t cl_ = strcspn(c, "<");
            if (cl_ < sizeof(r_cid)) {
                memcpy(r_cid, c, cl_);
                r_cid[cl_] = '\0';
            }
        }
    }
    nreq++;
    rx_len = 0;
    r_status = 200;
    r_headers[0] = '\0';
    r_body_len = 0;
    if (!strcmp(rq->cmd, "Settings") && !settings_by_handler) {
        /* Every scenario's server takes the device information unless it says otherwise. */
        resp_settings(settings_status, settings_di_status);
    } else {
        handler(rq, nreq);
    }
    int n = snprintf(
        (char *)tx, sizeof(tx),
        "HTTP/1.1 %d X\r\n%s%sContent-Length: %u\r\nConnection: close\r\n\r\n", r_status, r_headers,
        r_body_len ? "Content-Type: application/vnd.ms-sync.wbxml\r\n" : "", (unsigned)r_body_len);
    memcpy(tx + n, r_body, r_body_len);
    tx_len = (size_t)n + r_body_len;
    full_len = tx_len;
    if (cut_at >= 0 && (size_t)cut_at < tx_len) {
        tx_len = (size_t)cut_at;
    }
    tx_pos = 0;
}

static int32_t f_send(void *ctx, const uint8_t *buf, size_t len)
{
    (void)ctx;
    if (++tick % 3 == 0) {
        return 0; /* try again */
    }
    size_t n = len > 37 ? 37 : len; /* short writes */
    memcpy(rx_raw + rx_len, buf, n);
    rx_len += n;
    srv_maybe_answer();
    return (int32_t)n;
}

static int32_t f_recv(void *ctx, uint8_t *buf, size_t len)
{
    (void)ctx;
    if (++tick % 3 == 0) {
        return 0;
    }
    if (tx_pos == tx_len) {
        if (cut_at >= 0 && cut_err) {
            return cut_err;
        }
        return tx_len ? EAS_ERR_CLOSED : 0;
    }
    size_t n = tx_len - tx_pos;
    n = n > len ? len : n;
    n = n > 11 ? 11 : n; /* short reads */
    memcpy(buf, tx + tx_pos, n);
    tx_pos += n;
    return (int32_t)n;
}

static void f_close(void *ctx)
{
    (void)ctx;
    rx_len = 0;
    tx_len = tx_pos = 0;
}

static int f_open(void *ctx, const char *host, uint16_t port, hal_net_security_t sec, hal_io_t *io)
{
    (void)ctx;
    (void)port;
    (void)sec;
    snprintf(cur_host, sizeof(cur_host), "%s", host);
    opens++;
    rx_len = 0;
    tx_len = tx_pos = 0;
    io->send = f_send;
    io->recv = f_recv;
    io->close = f_close;
    io->ctx = NULL;
    return EAS_OK;
}

/* ------------------------------ response builders ------------------------------ */

static eas_wbxml_enc_t E;
static void rb(void)
{
    r_body_len = 0;
    eas_wbxml_enc_init(&E, encbuf, sizeof(encbuf), flush_body, NULL);
}
static void rdone(void)
{
    assert_int_equal(eas_wbxml_enc_finish(&E), EAS_OK);
}

static void resp_options(void)
{
    strcpy(r_headers, "MS-ASProtocolVersions: 2.5,12.1,14.0,14.1\r\n");
}

static void resp_provision(int policy_status, const char *key)
{
    rb();
    eas_wbxml_enc_start(&E, EAS_PROVISION_PROVISION);
    eas_wbxml_enc_elem_uint(&E, EAS_PROVISION_STATUS, 1);
    eas_wbxml_enc_start(&E, EAS_PROVISION_POLICIES);
    eas_wbxml_enc_start(&E, EAS_PROVISION_POLICY);
    eas_wbxml_enc_elem_text(&E, EAS_PROVISION_POLICY_TYPE, "MS-EAS-Provisioning-WBXML");
    eas_wbxml_enc_elem_uint(&E, EAS_PROVISION_STATUS, (uint32_t)policy_status);
    if (key) {
        eas_wbxml_enc_elem_text(&E, EAS_PROVISION_POLICY_KEY, key);
        eas_wbxml_enc_start(&E, EAS_PROVISION_DATA);
        eas_wbxml_enc_start(&E, EAS_PROVISION_EAS_PROVISION_DOC);
        eas_wbxml_enc_elem_uint(&E, EAS_PROVISION_DEVICE_PASSWORD_ENABLED, 1);
        eas_wbxml_enc_end(&E);
        eas_wbxml_enc_end(&E);
    }
    eas_wbxml_enc_end(&E);
    eas_wbxml_enc_end(&E);
    eas_wbxml_enc_end(&E);
    rdone();
}

static void resp_foldersync(void)
{
    rb();
    eas_wbxml_enc_start(&E, EAS_FOLDERHIERARCHY_FOLDER_SYNC);
    eas_wbxml_enc_elem_uint(&E, EAS_FOLDERHIERARCHY_STATUS, 1);
    eas_wbxml_enc_elem_text(&E, EAS_FOLDERHIERARCHY_SYNC_KEY, "H1");
    eas_wbxml_enc_start(&E, EAS_FOLDERHIERARCHY_CHANGES);
    const char *ids[] = {"cal", "RI", "inbox"};
    const int types[] = {8, 19, 2};
    for (int i = 0; i < 3; i++) {
        eas_wbxml_enc_start(&E, EAS_FOLDERHIERARCHY_ADD);
        eas_wbxml_enc_elem_text(&E, EAS_FOLDERHIERARCHY_SERVER_ID, ids[i]);
        eas_wbxml_enc_elem_text(&E, EAS_FOLDERHIERARCHY_PARENT_ID, "0");
        eas_wbxml_enc_elem_text(&E, EAS_FOLDERHIERARCHY_DISPLAY_NAME, ids[i]);
        eas_wbxml_enc_elem_uint(&E, EAS_FOLDERHIERARCHY_TYPE, (uint32_t)types[i]);
        eas_wbxml_enc_end(&E);
    }
    eas_wbxml_enc_end(&E);
    eas_wbxml_enc_end(&E);
    rdone();
}

/* Sync answer: status, key, optional MoreAvailable, items "id1,id2" as Adds, optional
 * Responses/Add for ClientId cid. */
static void resp_sync(int status, const char *key, int more, const char *items, const char *cid,
                      const char *new_sid)
{
    rb();
    eas_wbxml_enc_start(&E, EAS_AIRSYNC_SYNC);
    eas_wbxml_enc_start(&E, EAS_AIRSYNC_COLLECTIONS);
    eas_wbxml_enc_start(&E, EAS_AIRSYNC_COLLECTION);
    eas_wbxml_enc_elem_text(&E, EAS_AIRSYNC_SYNC_KEY, key);
    eas_wbxml_enc_elem_text(&E, EAS_AIRSYNC_COLLECTION_ID, r_cid);
    eas_wbxml_enc_elem_uint(&E, EAS_AIRSYNC_STATUS, (uint32_t)status);
    if (more) {
        eas_wbxml_enc_elem_empty(&E, EAS_AIRSYNC_MORE_AVAILABLE);
    }
    if (items && *items) {
        char buf[256];
        snprintf(buf, sizeof(buf), "%s", items);
        eas_wbxml_enc_start(&E, EAS_AIRSYNC_COMMANDS);
        for (char *t = strtok(buf, ","); t; t = strtok(NULL, ",")) {
            eas_wbxml_enc_start(&E, EAS_AIRSYNC_ADD);
            eas_wbxml_enc_elem_text(&E, EAS_AIRSYNC_SERVER_ID, t);
            eas_wbxml_enc_start(&E, EAS_AIRSYNC_APPLICATION_DATA);
            eas_wbxml_enc_elem_text(&E, EAS_CALENDAR_SUBJECT, t);
            eas_wbxml_enc_end(&E);
            eas_wbxml_enc_end(&E);
        }
        eas_wbxml_enc_end(&E);
    }
    if (cid) {
        eas_wbxml_enc_start(&E, EAS_AIRSYNC_RESPONSES);
        eas_wbxml_enc_start(&E, EAS_AIRSYNC_ADD);
        eas_wbxml_enc_elem_text(&E, EAS_AIRSYNC_CLIENT_ID, cid);
        eas_wbxml_enc_elem_text(&E, EAS_AIRSYNC_SERVER_ID, new_sid);
        eas_wbxml_enc_elem_uint(&E, EAS_AIRSYNC_STATUS, 1);
        eas_wbxml_enc_end(&E);
        eas_wbxml_enc_end(&E);
    }
    eas_wbxml_enc_end(&E);
    eas_wbxml_enc_end(&E);
    eas_wbxml_enc_end(&E);
    rdone();
}

/* Settings answer; di_status 0: no DeviceInformation part. */
static void resp_settings(int status, int di_status)
{
    rb();
    eas_wbxml_enc_start(&E, EAS_SETTINGS_SETTINGS);
    eas_wbxml_enc_elem_uint(&E, EAS_SETTINGS_STATUS, (uint32_t)status);
    if (di_status) {
        eas_wbxml_enc_start(&E, EAS_SETTINGS_DEVICE_INFORMATION);
        eas_wbxml_enc_elem_uint(&E, EAS_SETTINGS_STATUS, (uint32_t)di_status);
        eas_wbxml_enc_end(&E);
    }
    eas_wbxml_enc_end(&E);
    rdone();
}

static void resp_ping(int status)
{
    rb();
    eas_wbxml_enc_start(&E, EAS_PING_PING);
    eas_wbxml_enc_elem_uint(&E, EAS_PING_STATUS, (uint32_t)status);
    eas_wbxml_enc_end(&E);
    rdone();
}

/* ------------------------------ application side ------------------------------ */

static char evlog[8192];
static int items_added;
static int decide = EAS_POLICY_ENFORCE_ALL;
static int sync_complete;
static uint32_t outbox_ok_id;
static char outbox_new_sid[64];

/* What the application got from eas_fetch(): text of the Body Data, attachment bytes. */
static char fetch_text[8192];
static size_t fetch_text_len;
static uint8_t fetch_bin[8192];
static size_t fetch_bin_len;
static int fetch_final_pieces; /* pieces flagged FINAL */
static uint64_t fetch_end_bytes;
static int fetching;

static void logev(const char *fmt, ...)
{
    va_list ap;
    size_t l = strlen(evlog);
    va_start(ap, fmt);
    vsnprintf(evlog + l, sizeof(evlog) - l, fmt, ap);
    va_end(ap);
}

/* The engine state rebuilt from EAS_EV_STATE events alone (reset at every init), and the
   events that did not chain (previous != the rebuilt state, or no change). Checked against
   eas_engine_state() after every step and every API call of every test (state_check()). */
static eas_engine_state_t ev_state;
static int ev_state_bad;
static int ev_state_events;
static unsigned ev_state_seen; /* bit per state an event entered */

static int on_event(void *user, eas_event_t *ev)
{
    (void)user;
    switch (ev->type) {
    case EAS_EV_STATE:
        if (ev->u.state.previous != ev_state || ev->u.state.state == ev_state) {
            ev_state_bad++;
        }
        ev_state = ev->u.state.state;
        ev_state_events++;
        ev_state_seen |= 1u << ev_state;
        break;
    case EAS_EV_ITEM_BEGIN:
        if (ev->u.item.op == EAS_ITEM_ADD) {
            items_added++;
        }
        logev("I%d:%s;", (int)ev->u.item.op, ev->u.item.server_id);
        break;
    case EAS_EV_POLICY_DECIDE:
        ev->u.policy.decision = (eas_policy_decision_t)decide;
        logev("DECIDE;");
        break;
    case EAS_EV_RESYNC_BEGIN:
        logev("RB:%s;", ev->u.folder.entry->server_id);
        break;
    case EAS_EV_RESYNC_END:
        logev("RE:%s;", ev->u.folder.entry->server_id);
        break;
    case EAS_EV_SYNC_COMPLETE:
        sync_complete++;
        break;
    case EAS_EV_OUTBOX_RESULT:
        if (ev->u.outbox.status == 1) {
            outbox_ok_id = ev->u.outbox.id;
            snprintf(outbox_new_sid, sizeof(outbox_new_sid), "%s",
                     ev->u.outbox.server_id ? ev->u.outbox.server_id : "");
        }
        logev("OB%u:%u;", (unsigned)ev->u.outbox.id, (unsigned)ev->u.outbox.status);
        break;
    case EAS_EV_ERROR:
        logev("ERR%d;", ev->u.error.err);
        if (ev->u.error.record) {
            logev("REC:%s;", ev->u.error.record);
        }
        break;
    case EAS_EV_REDIRECT:
        logev("REDIR:%s;", ev->u.redirect.url);
        break;
    case EAS_EV_SERVER_MOVED:
        logev("MOVED:%s;", ev->u.redirect.url);
        break;
    case EAS_EV_PROGRESS:
        logev("P%s:%u/%u;", ev->u.progress.folder, (unsigned)ev->u.progress.done,
              (unsigned)ev->u.progress.estimate);
        break;
    case EAS_EV_FETCH_BEGIN:
        /* a (re)start: drop whatever an earlier attempt delivered */
        fetch_text_len = fetch_bin_len = 0;
        fetch_final_pieces = 0;
        fetching = 1;
        logev("FB%u%s;", (unsigned)ev->u.fetch.id, ev->u.fetch.file_reference ? "r" : "i");
        break;
    case EAS_EV_FETCH_END:
        fetching = 0;
        fetch_end_bytes = ev->u.fetch.bytes;
        logev("FE%u:%u:%d;", (unsigned)ev->u.fetch.id, (unsigned)ev->u.fetch.status,
              ev->u.fetch.final ? 1 : 0);
        break;
    case EAS_EV_ITEM_FIELD:
        if (!fetching) {
            break;
        }
        if (ev->u.field.kind == EAS_FIELD_TEXT && ev->u.field.tag == EAS_AIRSYNCBASE_DATA &&
            fetch_text_len + ev->u.field.len <= sizeof(fetch_text)) {
            memcpy(fetch_text + fetch_text_len, ev->u.field.data, ev->u.field.len);
            fetch_text_len += ev->u.field.len;
        } else if (ev->u.field.kind == EAS_FIELD_OPAQUE &&
                   ev->u.field.tag == EAS_ITEMOPERATIONS_DATA && ev->u.field.depth == 1 &&
                   fetch_bin_len + ev->u.field.len <= sizeof(fetch_bin)) {
            if (ev->u.field.len) {
                memcpy(fetch_bin + fetch_bin_len, ev->u.field.data, ev->u.field.len);
            }
            fetch_bin_len += ev->u.field.len;
        }
        if ((ev->u.field.kind == EAS_FIELD_TEXT || ev->u.field.kind == EAS_FIELD_OPAQUE) &&
            (ev->u.field.flags & EAS_FIELD_FINAL) &&
            (ev->u.field.tag == EAS_AIRSYNCBASE_DATA ||
             ev->u.field.tag == EAS_ITEMOPERATIONS_DATA)) {
            fetch_final_pieces++;
        }
        break;
    default:
        break;
    }
    return EAS_OK;
}

static eas_engine_t eng;
static eas_engine_cal_t cal_mem;
static eas_cal_exception_t cal_ex[8];
static eas_cal_attendee_t cal_att[4];
static eas_folder_t folders[8];
static eas_outbox_slot_t outbox[4];
static uint8_t arena_mem[CONFIG_EAS_ARENA_SIZE];
static uint8_t work[EAS_HTTP_CLIENT_WORK_SIZE];
static eas_arena_t arena;
static hal_net_t net = {f_open, NULL};
static eas_account_cfg_t cfg;
static uint64_t now;
static bool cfg_progress;               /* engine_start(): cfg.progress */
static int cfg_init_err = EAS_OK;       /* engine_start(): what eas_engine_init() must return */
static const char *cfg_url;             /* engine_start(): cfg.url (NULL: mail.example.test) */
static eas_http_allow_t cfg_allow;      /* engine_start(): cfg.redirect_allow */
static eas_proto_ver_t cfg_max_version; /* engine_start(): cfg.max_version */
static eas_device_info_t cfg_devinfo;   /* engine_start(): cfg.device_info */
static const char *cfg_user_agent;      /* engine_start(): cfg.user_agent */
static bool cfg_no_push;                /* engine_start(): cfg.no_push */

/* The application's stored message (mime_id 7), read back at any offset. */
static uint8_t app_mime[10000];
static int mime_reads_at_zero; /* producer passes */
static int mime_read(void *user, uint32_t mime_id, uint64_t offset, uint8_t *buf, size_t len)
{
    (void)user;
    if (mime_id != 7 || offset + len > sizeof(app_mime)) {
        return EAS_ERR_PARAM;
    }
    mime_reads_at_zero += offset == 0;
    memcpy(buf, app_mime + offset, len);
    return EAS_OK;
}

/* The state the events told equals the engine's own, and every event chained. */
static void state_check(void)
{
    assert_int_equal(ev_state_bad, 0);
    assert_int_equal(ev_state, eas_engine_state(&eng));
}

static void engine_start(void)
{
    memset(&cfg, 0, sizeof(cfg));
    cfg.url = cfg_url ? cfg_url : "https://mail.example.test/Microsoft-Server-ActiveSync";
    cfg.redirect_allow = cfg_allow;
    cfg.user = "testuser";
    cfg.email = "testuser@example.test";
    cfg.device_id = "EASD0001";
    cfg.device_type = "easd";
    cfg.auth.kind = EAS_HTTP_AUTH_BASIC;
    cfg.auth.user = "testuser";
    cfg.auth.password = "testpass";
    cfg.classes = EAS_CLASS_CALENDAR;
    cfg.window_size = 2;
    cfg.ping_interval_s = 300;
    cfg.store_prefix = "acct0";
    cfg.progress = cfg_progress;
    cfg.max_version = cfg_max_version;
    cfg.device_info = cfg_devinfo;
    cfg.user_agent = cfg_user_agent;
    cfg.no_push = cfg_no_push;
    cfg.mime_read = mime_read;
    cfg.mime_user = NULL;
    eas_arena_init(&arena, arena_mem, sizeof(arena_mem));
    memset(&cal_mem, 0, sizeof(cal_mem));
    cal_mem.exceptions = cal_ex;
    cal_mem.exception_cap = 8;
    cal_mem.attendees = cal_att;
    cal_mem.attendee_cap = 4;
    eas_engine_mem_t mem = {folders,
                            8,
                            outbox,
                            4,
                            &arena,
                            work,
                            sizeof(work),
                            &cal_mem,
                            NULL,
                            0,
                            EAS_CONFIG_FINGERPRINT};
    ev_state = EAS_STATE_IDLE;
    ev_state_bad = 0;
    assert_int_equal(eas_engine_init(&eng, &cfg, &mem, &net, test_hal(), on_event, NULL),
                     cfg_init_err);
    if (cfg_init_err == EAS_OK) {
        state_check();
    }
}

/* Run until the handler has seen `until` requests in total or the engine stops; time jumps
 * to each deadline so back-offs pass instantly. */
static int run(int until)
{
    int rc = EAS_OK;
    for (int i = 0; i < 200000 && nreq < until; i++) {
        uint64_t dl = UINT64_MAX;
        rc = eas_step(&eng, EAS_STEP_TICK, now, &dl);
        state_check();
        if (rc < 0) {
            break;
        }
        if (eas_engine_wait_io(&eng) == 0 && dl != UINT64_MAX && dl > now) {
            now = dl;
        }
    }
    return rc;
}

static int setup(void **st)
{
    (void)st;
    test_hal_reset();
    memset(reqs, 0, sizeof(reqs));
    nreq = 0;
    opens = 0;
    settings_status = 1;
    settings_di_status = 1;
    settings_by_handler = false;
    memset(&cfg_devinfo, 0, sizeof(cfg_devinfo));
    cfg_user_agent = NULL;
    cfg_no_push = false;
    evlog[0] = '\0';
    items_added = 0;
    sync_complete = 0;
    decide = EAS_POLICY_ENFORCE_ALL;
    outbox_ok_id = 0;
    outbox_new_sid[0] = '\0';
    cut_at = -1;
    cut_err = 0;
    now = 1000;
    cfg_url = NULL;
    memset(&cfg_allow, 0, sizeof(cfg_allow));
    return 0;
}

/* ------------------------------ scenarios ------------------------------ */

/* First sync: OPTIONS → Provision (no policy) → FolderSync → Sync 0 → paged Sync → Ping. */
static void h_first(const srv_req_t *rq, int n)
{
    (void)n;
    if (!strcmp(rq->cmd, "OPTIONS")) {
        resp_options();
    } else if (!strcmp(rq->cmd, "Provision")) {
        resp_provision(2, NULL);
    } else if (!strcmp(rq->cmd, "FolderSync")) {
        resp_foldersync();
    } else if (!strcmp(rq->cmd, "Sync")) {
        if (strstr(rq->body, "<SyncKey>0</>")) {
            resp_sync(1, "S1", 0, NULL, NULL, NULL);
        } else if (strstr(rq->body, "<SyncKey>S1</>")) {
            resp_sync(1, "S2", 1, "e1,e2", NULL, NULL);
        } else if (strstr(rq->body, "<SyncKey>S2</>")) {
            resp_sync(1, "S3", 0, "e3", NULL, NULL);
        } else {
            resp_sync(1, "S3", 0, NULL, NULL, NULL);
        }
    } else if (!strcmp(rq->cmd, "Ping")) {
        resp_ping(1);
    }
}

static void test_first_sync_then_restart(void **st)
{
    (void)st;
    handler = h_first;
    engine_start();
    assert_int_equal(run(8), EAS_OK);
    assert_string_equal(reqs[0].cmd, "OPTIONS");
    assert_string_equal(reqs[1].cmd, "Provision");
    /* The device describes itself after provisioning, before the first FolderSync. */
    assert_string_equal(reqs[2].cmd, "Settings");
    assert_string_equal(reqs[2].body, "<Settings><DeviceInformation><Set><Model>easd</>"
                                      "<UserAgent>easd/0.1</></></></>");
    assert_string_equal(reqs[3].cmd, "FolderSync");
    assert_non_null(strstr(reqs[3].body, "<SyncKey>0</>"));
    assert_string_equal(reqs[4].cmd, "Sync");
    assert_non_null(strstr(reqs[4].body, "<SyncKey>0</><CollectionId>cal</>"));
    assert_null(strstr(reqs[4].body, "GetChanges")); /* never with key 0 */
    assert_non_null(strstr(reqs[5].body, "<SyncKey>S1</><CollectionId>cal</><GetChanges>"));
    assert_non_null(strstr(reqs[5].body, "<WindowSize>2</>"));
    assert_non_null(strstr(reqs[6].body, "<SyncKey>S2</>"));
    assert_string_equal(reqs[7].cmd, "Ping");
    /* RI (type 19) and the unselected mail folder are neither synced nor pinged [S 2.15]. */
    assert_null(strstr(reqs[7].body, "RI"));
    assert_non_null(strstr(reqs[7].body, "<Folder><Id>cal</><Class>Calendar</></>"));
    assert_int_equal(items_added, 3);
    assert_int_equal(sync_complete, 1);
    assert_int_equal(eas_engine_state(&eng), EAS_STATE_PINGING);
    const eas_folder_t *f = eas_engine_folder(&eng, "cal");
    assert_non_null(f);
    assert_string_equal(f->sync_key, "S3");
    assert_null(strstr(evlog, "ERR"));

    /* Restart from the store: no OPTIONS/Provision/Settings, no key 0 [S 2.13]; one
       incremental FolderSync (hierarchy changes while down), one incremental Sync, then Ping. */
    int before = nreq;
    sync_complete = 0;
    engine_start();
    assert_int_equal(run(before + 3), EAS_OK);
    assert_string_equal(reqs[before].cmd, "FolderSync");
    assert_non_null(strstr(reqs[before].body, "<SyncKey>H1</>"));
    assert_string_equal(reqs[before + 1].cmd, "Sync");
    assert_non_null(
        strstr(reqs[before + 1].body, "<SyncKey>S3</><CollectionId>cal</><GetChanges>"));
    assert_string_equal(reqs[before + 2].cmd, "Ping");
    assert_int_equal(sync_complete, 1);
    f = eas_engine_folder(&eng, "cal");
    assert_string_equal(f->sync_key, "S3");
}

/* [S 2.12] Provision with a policy, then HTTP 449 on Sync: re-provision and replay. */
static int prov_round;
static void h_449(const srv_req_t *rq, int n)
{
    (void)n;
    if (!strcmp(rq->cmd, "OPTIONS")) {
        resp_options();
    } else if (!strcmp(rq->cmd, "Provision")) {
        if (strstr(rq->body, "<PolicyKey>")) {
            prov_round++;
            resp_provision(1, prov_round == 1 ? "1111" : "2222"); /* final key */
        } else {
            resp_provision(1, "999"); /* temporary key */
        }
    } else if (!strcmp(rq->cmd, "FolderSync")) {
        resp_foldersync();
    } else if (!strcmp(rq->cmd, "Sync")) {
        if (strstr(rq->body, "<SyncKey>S1</>") && !strcmp(rq->policy_key, "1111")) {
            /* The server now wants a new policy, on an incremental Sync: its replay (key S1)
               can be told from a restart of the folder (key 0). */
            r_status = 449;
        } else if (strstr(rq->body, "<SyncKey>0</>")) {
            resp_sync(1, "S1", 0, NULL, NULL, NULL);
        } else {
            resp_sync(1, "S2", 0, "e1", NULL, NULL);
        }
    } else {
        resp_ping(1);
    }
}

static void test_449_reprovision_and_replay(void **st)
{
    (void)st;
    prov_round = 0;
    handler = h_449;
    engine_start();
    assert_int_equal(run(11), EAS_OK);
    /* OPTIONS, Prov, Prov-ack, Settings, FolderSync, Sync(0), Sync(S1: 449), Prov, Prov-ack,
       Sync(S1 replayed), Ping: re-provisioning does not send the device information again */
    const char *order[] = {"OPTIONS", "Provision", "Provision", "Settings",
                           "FolderSync", "Sync", "Sync", "Provision",
                           "Provision", "Sync", "Ping"};
    for (int i = 0; i < 11; i++) {
        assert_string_equal(reqs[i].cmd, order[i]);
    }
    assert_non_null(strstr(reqs[2].body, "<PolicyKey>999</><Status>1</>"));
    assert_string_equal(reqs[2].policy_key, "999");
    assert_string_equal(reqs[3].policy_key, "1111"); /* Settings after the policy key */
    assert_string_equal(reqs[4].policy_key, "1111");
    assert_string_equal(reqs[6].policy_key, "1111");
    assert_non_null(strstr(reqs[6].body, "<SyncKey>S1</>")); /* refused: incremental */
    assert_string_equal(reqs[7].policy_key, ""); /* the initial request carries no key */
    assert_string_equal(reqs[9].policy_key, "2222");
    /* the same incremental request replayed, not the folder restarted from key 0 */
    assert_string_equal(reqs[9].body, reqs[6].body);
    assert_string_equal(eng.policy_key, "2222");
    assert_int_equal(items_added, 1);
}

/* [S 2.1] A policy the device cannot meet: a clear stopped state, no acknowledgement. */
static void test_policy_refused(void **st)
{
    (void)st;
    prov_round = 0;
    handler = h_449;
    decide = EAS_POLICY_REFUSE;
    engine_start();
    assert_int_equal(run(3), EAS_ERR_POLICY);
    assert_int_equal(nreq, 2);
    assert_int_equal(eas_engine_state(&eng), EAS_STATE_POLICY_REFUSED);
    now += 3600 * 1000;
    assert_int_equal(run(3), EAS_ERR_POLICY);
    assert_int_equal(nreq, 2); /* nothing more is sent */
}

/* [S 2.1] The server refuses the acknowledgement of a partially enforced policy (Horde with
 * enforced provisioning answers policy Status 2 and no final key): the device cannot meet
 * the policy, so a clear stopped state - not re-provisioning at every back-off forever. */
static void h_partial_refused(const srv_req_t *rq, int n)
{
    (void)n;
    if (!strcmp(rq->cmd, "OPTIONS")) {
        resp_options();
    } else if (!strcmp(rq->cmd, "Provision")) {
        if (strstr(rq->body, "<PolicyKey>")) {
            resp_provision(2, NULL); /* acknowledgement not accepted */
        } else {
            resp_provision(1, "999");
        }
    } else {
        r_status = 449;
    }
}

static void test_policy_partial_ack_refused(void **st)
{
    (void)st;
    handler = h_partial_refused;
    decide = EAS_POLICY_PARTIAL;
    engine_start();
    assert_int_equal(run(5), EAS_ERR_POLICY);
    assert_int_equal(nreq, 3); /* OPTIONS, Provision, acknowledgement */
    assert_non_null(strstr(reqs[2].body, "<PolicyKey>999</><Status>2</>"));
    assert_int_equal(eas_engine_state(&eng), EAS_STATE_POLICY_REFUSED);
    now += 3600 * 1000;
    assert_int_equal(run(5), EAS_ERR_POLICY);
    assert_int_equal(nreq, 3); /* nothing more is sent */
}

/* 401: reported once, no retry storm. */
static void h_401(const srv_req_t *rq, int n)
{
    (void)rq;
    (void)n;
    r_status = 401;
    strcpy(r_headers, "WWW-Authenticate: Basic realm=\"x\"\r\n");
}

static void test_401_no_retry_storm(void **st)
{
    (void)st;
    handler = h_401;
    engine_start();
    int rc = run(50);
    assert_int_equal(rc, EAS_ERR_AUTH);
    assert_int_equal(eas_engine_state(&eng), EAS_STATE_AUTH_FAILED);
    int sent = nreq;
    assert_true(sent <= 2); /* the HTTP client may retry once with fresh credentials */
    now += 24u * 3600u * 1000u;
    assert_int_equal(run(50), EAS_ERR_AUTH);
    assert_int_equal(nreq, sent);
}

#if CONFIG_EAS_OUTBOX
/* [S 2.13] Sync status 3: that folder alone restarts from key 0, the outbox is kept and
 * reaches the server afterwards; items come back as upserts, not delete+add. */
static int status3_sent;
static void h_status3(const srv_req_t *rq, int n)
{
    (void)n;
    if (!strcmp(rq->cmd, "OPTIONS")) {
        resp_options();
    } else if (!strcmp(rq->cmd, "Provision")) {
        resp_provision(2, NULL);
    } else if (!strcmp(rq->cmd, "FolderSync")) {
        resp_foldersync();
    } else if (!strcmp(rq->cmd, "Sync")) {
        if (strstr(rq->body, "<SyncKey>0</>")) {
            resp_sync(1, "S1", 0, NULL, NULL, NULL);
        } else if (strstr(rq->body, "<SyncKey>S1</>") && !status3_sent) {
            resp_sync(1, "S2", 0, "e1", NULL, NULL);
        } else if (strstr(rq->body, "<Commands>") && !status3_sent) {
            status3_sent = 1;
            resp_sync(3, "0", 0, NULL, NULL, NULL);
        } else if (strstr(rq->body, "<SyncKey>S1</>")) {
            resp_sync(1, "S5", 0, "e1", NULL, NULL);
        } else if (strstr(rq->body, "<Commands>")) {
            char cid[65] = "";
            const char *c = strstr(rq->body, "<ClientId>");
            if (c) {
                c += strlen("<ClientId>");
                snprintf(cid, sizeof(cid), "%.*s", (int)strcspn(c, "<"), c);
            }
            resp_sync(1, "S6", 0, NULL, cid, "new1");
        } else {
            resp_sync(1, "S6", 0, NULL, NULL, NULL);
        }
    } else {
        resp_ping(1);
    }
}

static void test_status3_recovery_keeps_outbox(void **st)
{
    (void)st;
    status3_sent = 0;
    handler = h_status3;
    engine_start();
    assert_int_equal(run(7), EAS_OK); /* ... first sync done, Ping */
    assert_string_equal(reqs[6].cmd, "Ping");
    eas_field_t fields[] = {{EAS_CALENDAR_SUBJECT, EAS_FIELD_TEXT, "Lunch", 5}};
    uint32_t id = 0;
    assert_int_equal(eas_item_add(&eng, "cal", fields, 1, &id), EAS_OK);
    assert_int_equal(id, 1);
    assert_int_equal(eas_sync_now(&eng, "cal"), EAS_OK);
    evlog[0] = '\0';
    assert_int_equal(run(12), EAS_OK);
    assert_string_equal(reqs[11].cmd, "Ping");
    /* 7: Sync with the Add → status 3; 8: Sync key 0 (no commands); 9: Sync S1 (e1 again,
       as an upsert); 10: Sync with the Add again → answered with the new ServerId. */
    const char *c7 = strstr(reqs[7].body, "<Commands><Add><ClientId>");
    assert_non_null(c7);
    c7 += strlen("<Commands><Add><ClientId>");
    char cid[32];
    assert_int_equal(strcspn(c7, "<"), 16); /* random, not the outbox id */
    snprintf(cid, sizeof(cid), "<ClientId>%.16s</>", c7);
    assert_non_null(strstr(c7 + 16, "</><ApplicationData><Subject>Lunch</></></></>"));
    assert_non_null(strstr(reqs[8].body, "<SyncKey>0</>"));
    assert_null(strstr(reqs[8].body, "<Commands>"));
    assert_non_null(strstr(reqs[10].body, cid)); /* the resend: the same ClientId */
    assert_non_null(strstr(evlog, "RB:cal;"));
    assert_non_null(strstr(evlog, "RE:cal;"));
    assert_null(strstr(evlog, "I3:")); /* no delete of the user's items */
    assert_int_equal(outbox_ok_id, 1);
    assert_string_equal(outbox_new_sid, "new1");
    /* Removed from the outbox only after Status 1: nothing left, also after a restart. */
    engine_start();
    for (int i = 0; i < 4; i++) {
        assert_int_equal(outbox[i].seq, 0);
    }
    /* The next add after that restart gets outbox id 1 again, but never the old ClientId:
       the server remembers ClientIds across SyncKeys and would answer the new item with
       the old one's ServerId instead of creating it (session test power_loss_outbox). */
    assert_int_equal(eas_item_add(&eng, "cal", fields, 1, &id), EAS_OK);
    assert_int_equal(id, 1);
    assert_int_equal(eas_sync_now(&eng, "cal"), EAS_OK);
    int first = nreq;
    assert_int_equal(run(first + 8), EAS_OK);
    const char *again = NULL;
    for (int r = first; r < nreq && !again; r++) {
        again = strstr(reqs[r].body, "<Add><ClientId>");
    }
    assert_non_null(again);
    assert_null(strstr(again, cid));
    assert_int_equal(strcspn(again + strlen("<Add><ClientId>"), "<"), 16);
}

#else /* !CONFIG_EAS_OUTBOX */

/* A read-only build: every local change is refused (reminders stay local and succeed), the
 * outbox stays empty, no Sync carries a command. */
static void test_outbox_compiled_out(void **st)
{
    (void)st;
    handler = h_first;
    engine_start();
    assert_int_equal(run(8), EAS_OK);
    eas_field_t fields[] = {{EAS_CALENDAR_SUBJECT, EAS_FIELD_TEXT, "Lunch", 5}};
    uint32_t id = 77;
    assert_int_equal(eas_item_add(&eng, "cal", fields, 1, &id), EAS_ERR_UNSUPPORTED);
    assert_int_equal(eas_item_change(&eng, "cal", "e1", EAS_CHANGE_EDIT, 0, fields, 1, &id),
                     EAS_ERR_UNSUPPORTED);
    assert_int_equal(eas_item_delete(&eng, "cal", "e1", &id), EAS_ERR_UNSUPPORTED);
    assert_int_equal(eas_item_change(&eng, "cal", "e1", EAS_CHANGE_REMINDER_DISMISS, 0, fields, 1,
                                     &id),
                     EAS_OK);
    assert_int_equal(eas_outbox_pending(&eng, EAS_OUTBOX_NONE), 0);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(outbox[i].seq, 0);
    }
    assert_int_equal(eas_sync_now(&eng, "cal"), EAS_OK);
    int first = nreq;
    assert_int_equal(run(first + 4), EAS_OK);
    for (int r = 0; r < nreq; r++) {
        assert_null(strstr(reqs[r].body, "<Commands>"));
    }
    /* Nothing of the outbox was persisted. */
    uint8_t rec[64];
    size_t len = 0;
    assert_int_equal(test_hal_store_get("acct0.o1", rec, sizeof(rec), &len),
                     EAS_ERR_STORE_NOT_FOUND);
}

#endif /* CONFIG_EAS_OUTBOX */

/* A server that repeats the same key with MoreAvailable is not followed forever. */
static void h_repeat(const srv_req_t *rq, int n)
{
    (void)n;
    if (!strcmp(rq->cmd, "OPTIONS")) {
        resp_options();
    } else if (!strcmp(rq->cmd, "Provision")) {
        resp_provision(2, NULL);
    } else if (!strcmp(rq->cmd, "FolderSync")) {
        resp_foldersync();
    } else if (!strcmp(rq->cmd, "Sync")) {
        if (strstr(rq->body, "<SyncKey>0</>")) {
            resp_sync(1, "S1", 0, NULL, NULL, NULL);
        } else {
            resp_sync(1, "S1", 1, NULL, NULL, NULL); /* same key, "more" */
        }
    } else {
        resp_ping(1);
    }
}

static void test_repeated_sync_key(void **st)
{
    (void)st;
    handler = h_repeat;
    engine_start();
    assert_int_equal(run(12), EAS_OK);
    int syncs_with_s1 = 0;
    for (int i = 0; i < 12; i++) {
        syncs_with_s1 += strstr(reqs[i].body, "<SyncKey>S1</>") != NULL;
    }
    /* Bounded by CONFIG_EAS_SYNC_REPEAT_MAX, then back-off and on to Ping. */
    assert_true(syncs_with_s1 <= CONFIG_EAS_SYNC_REPEAT_MAX + 1);
    assert_non_null(strstr(evlog, "ERR-209;"));
    int pings = 0;
    for (int i = 0; i < 12; i++) {
        pings += strcmp(reqs[i].cmd, "Ping") == 0;
    }
    assert_true(pings > 0);
}

/* [S 2.9] Server errors are retried only after a growing, jittered delay. */
static uint64_t req_times[64];
static void h_503(const srv_req_t *rq, int n)
{
    (void)rq;
    req_times[n - 1] = now;
    r_status = 503;
}

/* The n-th delay (n = 0, 1, ...) of a back-off that starts at @p start_ms: start x 2^n capped
   at CONFIG_EAS_BACKOFF_MAX_MS, jittered into [d/2, d). */
static void assert_backoff_gap(uint64_t gap, uint64_t start_ms, unsigned n)
{
    uint64_t d = start_ms;
    for (unsigned i = 0; i < n && d < CONFIG_EAS_BACKOFF_MAX_MS; i++) {
        d *= 2;
    }
    d = d > CONFIG_EAS_BACKOFF_MAX_MS ? CONFIG_EAS_BACKOFF_MAX_MS : d;
    if (gap < d / 2 || gap >= d) {
        fail_msg("back-off %u: %llu ms, expected [%llu, %llu)", n, (unsigned long long)gap,
                 (unsigned long long)(d / 2), (unsigned long long)d);
    }
}

/* 503 without Retry-After: the server is busy and did not say how long, so the back-off
   starts at the busy start and doubles from there, with jitter, up to the cap. */
static void test_backoff_on_503(void **st)
{
    (void)st;
    handler = h_503;
    engine_start();
    assert_int_equal(run(12), EAS_OK);
    for (unsigned i = 1; i < 12; i++) {
        assert_backoff_gap(req_times[i] - req_times[i - 1], CONFIG_EAS_BACKOFF_BUSY_MS, i - 1);
    }
}

/* One policy, two starts: what failed decides only where the back-off starts. Two failures
 * of the first Sync, then success; the gaps after the failures are timed. */
enum {
    FAIL_503,          /* busy: 503 without Retry-After */
    FAIL_503_RA,       /* 503 with Retry-After: 5 (the server's own floor) */
    FAIL_500_THROTTLE, /* 500 with X-MS-ASThrottle: busy whatever the status */
    FAIL_111,          /* Sync Status 111 */
    FAIL_5_THROTTLE,   /* HTTP 200, Sync Status 5 (server error) with X-MS-ASThrottle */
    FAIL_500,          /* a plain server error: the short start */
    FAIL_RESET,        /* the connection is reset: the short start */
};
static int fail_kind;
static int fail_left;
static uint64_t sync_times[8];
static int n_syncs;

static void h_fail_sync(const srv_req_t *rq, int n)
{
    if (strcmp(rq->cmd, "Sync") != 0) {
        h_first(rq, n);
        return;
    }
    if (n_syncs < 8) {
        sync_times[n_syncs] = now;
    }
    n_syncs++;
    cut_at = -1;
    cut_err = 0;
    if (fail_left == 0) {
        h_first(rq, n);
        return;
    }
    fail_left--;
    switch (fail_kind) {
    case FAIL_503:
        r_status = 503;
        break;
    case FAIL_503_RA:
        r_status = 503;
        strcpy(r_headers, "Retry-After: 5\r\n");
        break;
    case FAIL_500_THROTTLE:
        r_status = 500;
        strcpy(r_headers, "X-MS-ASThrottle: CommandFrequency\r\n");
        break;
    case FAIL_111:
        rb();
        eas_wbxml_enc_start(&E, EAS_AIRSYNC_SYNC);
        eas_wbxml_enc_elem_uint(&E, EAS_AIRSYNC_STATUS, 111);
        eas_wbxml_enc_end(&E);
        rdone();
        break;
    case FAIL_5_THROTTLE:
        strcpy(r_headers, "X-MS-ASThrottle: CommandFrequency\r\n");
        rb();
        eas_wbxml_enc_start(&E, EAS_AIRSYNC_SYNC);
        eas_wbxml_enc_elem_uint(&E, EAS_AIRSYNC_STATUS, 5);
        eas_wbxml_enc_end(&E);
        rdone();
        break;
    case FAIL_500:
        r_status = 500;
        break;
    default:
        cut_at = 0;
        cut_err = EAS_ERR_RESET;
        break;
    }
}

static void backoff_case(int kind, uint32_t busy_cfg_ms, uint64_t start_ms)
{
    fail_kind = kind;
    fail_left = 2;
    n_syncs = 0;
    handler = h_fail_sync;
    engine_start();
    cfg.backoff_busy_ms = busy_cfg_ms; /* read at each failure */
    for (int i = 0; i < 400 && n_syncs < 4; i++) {
        assert_int_equal(run(nreq + 1), EAS_OK);
    }
    assert_true(n_syncs >= 3);
    if (start_ms == 0) {
        /* Retry-After 5 s: exactly that (the short start's delays are below it). */
        assert_int_equal(sync_times[1] - sync_times[0], 5000);
        assert_int_equal(sync_times[2] - sync_times[1], 5000);
    } else {
        assert_backoff_gap(sync_times[1] - sync_times[0], start_ms, 0);
        assert_backoff_gap(sync_times[2] - sync_times[1], start_ms, 1);
    }
    cut_at = -1;
    cut_err = 0;
}

static void test_backoff_starts(void **st)
{
    (void)st;
    backoff_case(FAIL_503, 0, CONFIG_EAS_BACKOFF_BUSY_MS);
    backoff_case(FAIL_500_THROTTLE, 0, CONFIG_EAS_BACKOFF_BUSY_MS);
    backoff_case(FAIL_111, 0, CONFIG_EAS_BACKOFF_BUSY_MS);
    backoff_case(FAIL_5_THROTTLE, 0, CONFIG_EAS_BACKOFF_BUSY_MS);
    backoff_case(FAIL_500, 0, CONFIG_EAS_BACKOFF_MIN_MS);
    backoff_case(FAIL_RESET, 0, CONFIG_EAS_BACKOFF_MIN_MS);
    backoff_case(FAIL_503_RA, 0, 0);
    /* The account's own busy start; out-of-range values are kept within MIN .. MAX. */
    backoff_case(FAIL_503, 7000, 7000);
    backoff_case(FAIL_111, 1, CONFIG_EAS_BACKOFF_MIN_MS);
}

/* [S 1.14, 1.16, 1.17] Reminder changes never reach the outbox. [S 2.14] reply-all. */
static void test_local_only_changes_and_reply_all(void **st)
{
    (void)st;
    handler = h_first;
    engine_start();
    assert_int_equal(run(8), EAS_OK);
    eas_field_t f[] = {{EAS_CALENDAR_REMINDER, EAS_FIELD_TEXT, "0", 1}};
    uint32_t id = 77;
    assert_int_equal(eas_item_change(&eng, "cal", "e1", EAS_CHANGE_REMINDER_DISMISS, 0, f, 1, &id),
                     EAS_OK);
    assert_int_equal(id, 0);
    assert_int_equal(eas_item_change(&eng, "cal", "e1", EAS_CHANGE_REMINDER_FIRED, 0, f, 1, &id),
                     EAS_OK);
    assert_int_equal(eas_item_change(&eng, "cal", "e1", EAS_CHANGE_REMINDER_SNOOZE, 0, f, 1, &id),
                     EAS_OK);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(outbox[i].seq, 0);
    }
    char to[] = "Boss <boss@example.test>, TestUser@Example.test,\"Doe, J\" <j@x.test>";
    assert_int_equal(eas_recipients_drop_self(to, "testuser@example.test"), 1);
    assert_string_equal(to, "Boss <boss@example.test>,\"Doe, J\" <j@x.test>");
    char to2[] = "testuser@example.test,a@b.c";
    assert_int_equal(eas_recipients_drop_self(to2, "testuser@example.test"), 1);
    assert_string_equal(to2, "a@b.c");
}

/* ------------------------------ calendar items through the collector ------------------------ */

/* One calendar command: op (EAS_AIRSYNC_ADD / CHANGE / DELETE), ServerId, subject, DtStamp and
 * a list of exceptions "YYYYMMDDTHHMMSSZ:deleted[:newstart]" separated by ';'. The master is
 * a daily series of 6 occurrences at 09:00Z from 2025-03-03. */
static void enc_cal(uint16_t op, const char *sid, const char *subject, const char *dtstamp,
                    const char *exceptions)
{
    eas_wbxml_enc_start(&E, op);
    eas_wbxml_enc_elem_text(&E, EAS_AIRSYNC_SERVER_ID, sid);
    if (op != EAS_AIRSYNC_DELETE) {
        eas_wbxml_enc_start(&E, EAS_AIRSYNC_APPLICATION_DATA);
        eas_wbxml_enc_elem_text(&E, EAS_CALENDAR_DT_STAMP, dtstamp);
        eas_wbxml_enc_elem_text(&E, EAS_CALENDAR_START_TIME, "20250303T090000Z");
        eas_wbxml_enc_elem_text(&E, EAS_CALENDAR_SUBJECT, subject);
        eas_wbxml_enc_elem_text(&E, EAS_CALENDAR_END_TIME, "20250303T093000Z");
        eas_wbxml_enc_start(&E, EAS_CALENDAR_RECURRENCE);
        eas_wbxml_enc_elem_uint(&E, EAS_CALENDAR_TYPE, 0);
        eas_wbxml_enc_elem_uint(&E, EAS_CALENDAR_INTERVAL, 1);
        eas_wbxml_enc_elem_uint(&E, EAS_CALENDAR_OCCURRENCES, 6);
        eas_wbxml_enc_end(&E);
        if (exceptions && *exceptions) {
            char buf[256];
            snprintf(buf, sizeof(buf), "%s", exceptions);
            eas_wbxml_enc_start(&E, EAS_CALENDAR_EXCEPTIONS);
            for (char *t = strtok(buf, ";"); t; t = strtok(NULL, ";")) {
                char when[17];
                memcpy(when, t, 16);
                when[16] = '\0';
                eas_wbxml_enc_start(&E, EAS_CALENDAR_EXCEPTION);
                eas_wbxml_enc_elem_text(&E, EAS_CALENDAR_EXCEPTION_START_TIME, when);
                eas_wbxml_enc_elem_uint(&E, EAS_CALENDAR_DELETED, (uint32_t)(t[17] - '0'));
                if (t[18] == ':') {
                    eas_wbxml_enc_elem_text(&E, EAS_CALENDAR_START_TIME, t + 19);
                    eas_wbxml_enc_elem_text(&E, EAS_CALENDAR_SUBJECT, "moved");
                }
                eas_wbxml_enc_end(&E);
            }
            eas_wbxml_enc_end(&E);
        }
        eas_wbxml_enc_end(&E);
    }
    eas_wbxml_enc_end(&E);
}

static void resp_sync_cal_begin(const char *key)
{
    rb();
    eas_wbxml_enc_start(&E, EAS_AIRSYNC_SYNC);
    eas_wbxml_enc_start(&E, EAS_AIRSYNC_COLLECTIONS);
    eas_wbxml_enc_start(&E, EAS_AIRSYNC_COLLECTION);
    eas_wbxml_enc_elem_text(&E, EAS_AIRSYNC_SYNC_KEY, key);
    eas_wbxml_enc_elem_text(&E, EAS_AIRSYNC_COLLECTION_ID, "cal");
    eas_wbxml_enc_elem_uint(&E, EAS_AIRSYNC_STATUS, 1);
    eas_wbxml_enc_start(&E, EAS_AIRSYNC_COMMANDS);
}

static void resp_sync_cal_end(void)
{
    eas_wbxml_enc_end(&E);
    eas_wbxml_enc_end(&E);
    eas_wbxml_enc_end(&E);
    eas_wbxml_enc_end(&E);
    rdone();
}

/* The application's calendar: one row per ServerId, upserted in delivery order. */
typedef struct cal_row {
    char sid[16];
    char subject[EAS_CAL_SUBJECT_MAX];
    int exceptions;
    int deleted_exceptions;
    char occ[256]; /* "DDHH," per occurrence in March 2025, '*' for a modified one */
    int used;
} cal_row_t;

static cal_row_t cal_rows[8];
static char cal_order[512]; /* subjects in the order they were applied */
static int cal_item_errors;
static int cal_deletes;

static int occ_cb(void *user, const eas_cal_occurrence_t *o)
{
    cal_row_t *r = user;
    eas_cal_civil_t c;
    eas_cal_civil_from_time(o->start, &c);
    size_t l = strlen(r->occ);
    snprintf(r->occ + l, sizeof(r->occ) - l, "%02u%02u%s,", c.day, c.hour,
             o->exception >= 0 ? "*" : "");
    return EAS_OK;
}

static int on_cal_event(void *user, eas_event_t *ev)
{
    if (ev->type == EAS_EV_ITEM_END && ev->u.item.cls == EAS_CLASS_CALENDAR) {
        if (ev->u.item.op == EAS_ITEM_DELETE) {
            assert_null(ev->u.item.cal);
            cal_deletes++;
            for (int i = 0; i < 8; i++) {
                if (cal_rows[i].used && !strcmp(cal_rows[i].sid, ev->u.item.server_id)) {
                    cal_rows[i].used = 0;
                }
            }
            return on_event(user, ev);
        }
        const eas_cal_item_t *it = ev->u.item.cal;
        assert_non_null(it);
        if (ev->u.item.cal_err != EAS_OK) {
            cal_item_errors++;
        }
        cal_row_t *r = NULL;
        for (int i = 0; i < 8 && !r; i++) {
            if (cal_rows[i].used && !strcmp(cal_rows[i].sid, ev->u.item.server_id)) {
                r = &cal_rows[i]; /* upsert: the newest delivery replaces the row */
            }
        }
        for (int i = 0; i < 8 && !r; i++) {
            if (!cal_rows[i].used) {
                r = &cal_rows[i];
            }
        }
        assert_non_null(r);
        memset(r, 0, sizeof(*r));
        r->used = 1;
        snprintf(r->sid, sizeof(r->sid), "%s", ev->u.item.server_id);
        snprintf(r->subject, sizeof(r->subject), "%s", it->subject);
        r->exceptions = it->exception_count;
        for (uint16_t i = 0; i < it->exception_count; i++) {
            r->deleted_exceptions += it->exceptions[i].deleted;
        }
        int64_t from = 0, to = 0;
        assert_int_equal(eas_cal_parse_time("20250301T000000Z", 16, &from), EAS_OK);
        assert_int_equal(eas_cal_parse_time("20250401T000000Z", 16, &to), EAS_OK);
        assert_int_equal(eas_cal_expand(it, from, to, occ_cb, r), EAS_OK);
        size_t l = strlen(cal_order);
        snprintf(cal_order + l, sizeof(cal_order) - l, "%s|", it->subject);
    }
    return on_event(user, ev);
}

static int cal_step;
static void h_cal(const srv_req_t *rq, int n)
{
    (void)n;
    if (!strcmp(rq->cmd, "OPTIONS")) {
        resp_options();
    } else if (!strcmp(rq->cmd, "Provision")) {
        resp_provision(2, NULL);
    } else if (!strcmp(rq->cmd, "FolderSync")) {
        resp_foldersync();
    } else if (!strcmp(rq->cmd, "Sync")) {
        if (strstr(rq->body, "<SyncKey>0</>")) {
            resp_sync(1, "C1", 0, NULL, NULL, NULL);
        } else if (strstr(rq->body, "<SyncKey>C1</>")) {
            /* [S 1.12] a master with a deleted and a modified occurrence, plus a single. */
            resp_sync_cal_begin("C2");
            enc_cal(EAS_AIRSYNC_ADD, "m1", "Daily", "20250101T000000Z",
                    "20250304T090000Z:1;20250305T090000Z:0:20250305T150000Z");
            enc_cal(EAS_AIRSYNC_ADD, "s1", "Single", "20250101T000000Z", NULL);
            resp_sync_cal_end();
        } else if (strstr(rq->body, "<SyncKey>C2</>")) {
            /* [S 1.9] the same item changed twice in one response; the later change carries
               the OLDER DtStamp and must still win. */
            resp_sync_cal_begin("C3");
            enc_cal(EAS_AIRSYNC_CHANGE, "m1", "Daily [change 1]", "20250301T000000Z",
                    "20250304T090000Z:1;20250305T090000Z:0:20250305T150000Z");
            enc_cal(EAS_AIRSYNC_CHANGE, "m1", "Daily [change 2]", "20240101T000000Z",
                    "20250304T090000Z:1;20250305T090000Z:0:20250305T150000Z");
            resp_sync_cal_end();
        } else if (strstr(rq->body, "<SyncKey>C3</>") && cal_step == 1) {
            /* [S 1.9] across responses: an even older DtStamp, still applied. */
            resp_sync_cal_begin("C4");
            enc_cal(EAS_AIRSYNC_CHANGE, "m1", "Daily [stale v2]", "20200101T000000Z",
                    "20250304T090000Z:1;20250305T090000Z:0:20250305T150000Z");
            resp_sync_cal_end();
        } else if (strstr(rq->body, "<SyncKey>C4</>") && cal_step == 2) {
            /* [S 1.1] the organizer cancels the 7 March occurrence. */
            resp_sync_cal_begin("C5");
            enc_cal(EAS_AIRSYNC_CHANGE, "m1", "Daily [stale v2]", "20250302T000000Z",
                    "20250304T090000Z:1;20250305T090000Z:0:20250305T150000Z;"
                    "20250307T090000Z:1");
            resp_sync_cal_end();
        } else {
            resp_sync(1,
                      strstr(rq->body, "<SyncKey>C5</>")   ? "C5"
                      : strstr(rq->body, "<SyncKey>C4</>") ? "C4"
                                                           : "C3",
                      0, NULL, NULL, NULL);
        }
    } else {
        resp_ping(1);
    }
}

static void test_calendar_items_parsed_in_order(void **st)
{
    (void)st;
    memset(cal_rows, 0, sizeof(cal_rows));
    cal_order[0] = '\0';
    cal_item_errors = 0;
    cal_deletes = 0;
    cal_step = 0;
    handler = h_cal;
    engine_start();
    eng.cb = on_cal_event;
    /* OPTIONS, Provision, Settings, FolderSync, Sync 0, C1, Ping */
    assert_int_equal(run(7), EAS_OK);
    assert_string_equal(reqs[6].cmd, "Ping");
    assert_int_equal(cal_item_errors, 0);

    /* [S 1.12] one row per ServerId, exceptions attached to their master: the deleted 4th
       is gone, the modified 5th is at 15:00 and marked, nothing duplicated. */
    int rows = 0;
    cal_row_t *m1 = NULL;
    for (int i = 0; i < 8; i++) {
        if (cal_rows[i].used) {
            rows++;
            if (!strcmp(cal_rows[i].sid, "m1")) {
                m1 = &cal_rows[i];
            }
        }
    }
    assert_int_equal(rows, 2);
    assert_non_null(m1);
    assert_int_equal(m1->exceptions, 2);
    assert_int_equal(m1->deleted_exceptions, 1);
    assert_string_equal(m1->occ, "0309,0515*,0609,0709,0809,");

    /* [S 1.9] both changes applied, in response order; the older DtStamp of the second
       did not make the engine skip or reorder it. */
    eas_sync_now(&eng, "cal");
    assert_int_equal(run(nreq + 2), EAS_OK);
    assert_non_null(strstr(reqs[7].body, "<SyncKey>C2</>"));
    assert_non_null(strstr(cal_order, "Daily [change 1]|Daily [change 2]|"));
    assert_string_equal(m1->subject, "Daily [change 2]");
    /* Counted again: two changes of one ServerId must not have made a second row. */
    rows = 0;
    for (int i = 0; i < 8; i++) {
        rows += cal_rows[i].used ? 1 : 0;
    }
    assert_int_equal(rows, 2);

    cal_step = 1;
    eas_sync_now(&eng, "cal");
    assert_int_equal(run(nreq + 2), EAS_OK);
    assert_string_equal(m1->subject, "Daily [stale v2]");

    /* [S 1.1] a cancelled occurrence removes exactly that occurrence; the series stays. */
    cal_step = 2;
    eas_sync_now(&eng, "cal");
    assert_int_equal(run(nreq + 2), EAS_OK);
    assert_int_equal(cal_deletes, 0);
    assert_int_equal(m1->used, 1);
    assert_int_equal(m1->exceptions, 3);
    assert_string_equal(m1->occ, "0309,0515*,0609,0809,");
    assert_int_equal(cal_item_errors, 0);
}

/* ------------------------------ HTTP 451 ------------------------------ */

static const char *redirect_to; /* X-MS-Location the first host answers with */
static void h_451(const srv_req_t *rq, int n)
{
    (void)n;
    if (strcmp(rq->host, "mail2.example.test") != 0 && redirect_to) {
        r_status = 451;
        snprintf(r_headers, sizeof(r_headers), "X-MS-Location: %s\r\n", redirect_to);
        return;
    }
    h_first(rq, n);
}

/* 451: follow X-MS-Location, replay the request there, persist the URL once it worked. */
static const char *const k_mail2[] = {"mail2.example.test"};

static void test_451_follow_and_persist(void **st)
{
    (void)st;
    cfg_allow = (eas_http_allow_t){k_mail2, 1}; /* the application allows that host */
    handler = h_451;
    redirect_to = "https://mail2.example.test/Microsoft-Server-ActiveSync?Cmd=OPTIONS";
    engine_start();
    assert_int_equal(run(9), EAS_OK);
    assert_string_equal(reqs[0].host, "mail.example.test");
    assert_string_equal(reqs[0].cmd, "OPTIONS");
    assert_string_equal(reqs[1].host, "mail2.example.test"); /* replayed at once */
    assert_string_equal(reqs[1].cmd, "OPTIONS");
    assert_string_equal(reqs[1].path, "/Microsoft-Server-ActiveSync");
    for (int i = 2; i < 9; i++) {
        assert_string_equal(reqs[i].host, "mail2.example.test");
    }
    assert_string_equal(reqs[3].cmd, "Settings"); /* at the new host too */
    assert_string_equal(reqs[8].cmd, "Ping");
    assert_null(strstr(evlog, "ERR"));
    /* After a restart the learned URL is used directly: the old host is not asked again. */
    int before = nreq;
    engine_start();
    assert_int_equal(run(before + 2), EAS_OK);
    assert_string_equal(reqs[before].host, "mail2.example.test");
    assert_string_equal(reqs[before].cmd, "FolderSync");
    assert_string_equal(reqs[before + 1].host, "mail2.example.test");
}

static void h_451_timed(const srv_req_t *rq, int n)
{
    req_times[n - 1] = now;
    h_451(rq, n);
}

/* A redirect back to the same URL is detected: reported, then the one back-off — never a
 * tight loop of 451s. */
static void test_451_same_url_is_a_loop(void **st)
{
    (void)st;
    handler = h_451;
    redirect_to = "https://mail.example.test/Microsoft-Server-ActiveSync";
    engine_start();
    memset(req_times, 0, sizeof(req_times));
    handler = h_451_timed;
    assert_int_equal(run(4), EAS_OK);
    assert_non_null(strstr(evlog, "ERR-116;")); /* EAS_ERR_HTTP_REDIRECT_LOOP */
    for (int i = 0; i < 4; i++) {
        assert_string_equal(reqs[i].host, "mail.example.test");
        assert_string_equal(reqs[i].cmd, "OPTIONS");
    }
    for (int i = 1; i < 4; i++) {
        assert_true(req_times[i] - req_times[i - 1] >= CONFIG_EAS_BACKOFF_MIN_MS / 2);
    }
}

/* A chain of redirects is capped at CONFIG_EAS_MAX_REDIRECTS. */
static int chain_n;
static void h_chain(const srv_req_t *rq, int n)
{
    (void)rq;
    (void)n;
    r_status = 451;
    chain_n++;
    snprintf(r_headers, sizeof(r_headers),
             "X-MS-Location: https://m%d.example.test/Microsoft-Server-ActiveSync\r\n", chain_n);
}

static void test_451_chain_capped(void **st)
{
    (void)st;
    static const char *const hosts[] = {"m1.example.test", "m2.example.test", "m3.example.test",
                                        "m4.example.test", "m5.example.test", "m6.example.test",
                                        "m7.example.test", "m8.example.test", "m9.example.test"};
    cfg_allow = (eas_http_allow_t){hosts, 9};
    chain_n = 0;
    handler = h_chain;
    engine_start();
    uint64_t t0 = now;
    assert_int_equal(run(CONFIG_EAS_MAX_REDIRECTS + 1), EAS_OK);
    assert_int_equal(now, t0); /* the capped chain itself took no back-off */
    assert_null(strstr(evlog, "ERR-117;"));
    assert_int_equal(run(CONFIG_EAS_MAX_REDIRECTS + 2), EAS_OK);
    assert_non_null(strstr(evlog, "ERR-117;")); /* EAS_ERR_HTTP_TOO_MANY_REDIRECTS */
    assert_true(now > t0);                      /* ... and then the back-off */
}

/* Issue 11: a 451 to a host the application did not allow is reported, never contacted:
 * neither the credentials nor the request body go there. The engine waits in
 * REDIRECT_PENDING; approving moves on, restarting stays. */
static void test_451_other_host_needs_approval(void **st)
{
    (void)st;
    handler = h_451;
    redirect_to = "https://mail2.example.test/Microsoft-Server-ActiveSync";
    engine_start();
    assert_int_equal(run(8), EAS_ERR_HTTP_REDIRECT_APPROVAL);
    assert_int_equal(nreq, 1);
    assert_string_equal(reqs[0].host, "mail.example.test");
    assert_int_equal(eas_engine_state(&eng), EAS_STATE_REDIRECT_PENDING);
    assert_string_equal(eas_engine_state_name(EAS_STATE_REDIRECT_PENDING), "redirect-pending");
    assert_non_null(strstr(evlog, "REDIR:https://mail2.example.test/Microsoft-Server-ActiveSync;"));
    assert_string_equal(eas_engine_pending_redirect(&eng),
                        "https://mail2.example.test/Microsoft-Server-ActiveSync");
    /* Stepping again sends nothing anywhere. */
    assert_int_equal(run(8), EAS_ERR_HTTP_REDIRECT_APPROVAL);
    assert_int_equal(nreq, 1);
    assert_int_equal(eas_engine_approve_redirect(NULL), EAS_ERR_PARAM);

    /* Restart without approval: the configured server again (which redirects again). */
    assert_int_equal(eas_engine_restart(&eng), EAS_OK);
    assert_null(eas_engine_pending_redirect(&eng));
    assert_int_equal(run(8), EAS_ERR_HTTP_REDIRECT_APPROVAL);
    assert_int_equal(nreq, 2);
    assert_string_equal(reqs[1].host, "mail.example.test");

    /* Approved: the request is sent there and the account lives there from now on. */
    assert_int_equal(eas_engine_approve_redirect(&eng), EAS_OK);
    assert_int_equal(eas_engine_approve_redirect(&eng), EAS_ERR_STATE);
    assert_int_equal(run(9), EAS_OK);
    assert_string_equal(reqs[2].host, "mail2.example.test");
    assert_string_equal(reqs[2].cmd, "OPTIONS");
    for (int i = 3; i < 9; i++) {
        assert_string_equal(reqs[i].host, "mail2.example.test");
    }
    int before = nreq;
    evlog[0] = '\0';
    engine_start();
    assert_non_null(strstr(evlog, "MOVED:https://mail2.example.test/"));
    assert_int_equal(run(before + 1), EAS_OK);
    assert_string_equal(reqs[before].host, "mail2.example.test");
}

/* Another port on the same host, or a downgrade to http even to a listed host: never
 * followed without asking / never at all. */
static void test_451_port_and_scheme(void **st)
{
    (void)st;
    handler = h_451;
    redirect_to = "https://mail.example.test:8443/Microsoft-Server-ActiveSync";
    engine_start();
    assert_int_equal(run(8), EAS_ERR_HTTP_REDIRECT_APPROVAL);
    assert_int_equal(nreq, 1);

    setup(NULL);
    cfg_allow = (eas_http_allow_t){k_mail2, 1};
    handler = h_451;
    redirect_to = "http://mail2.example.test/Microsoft-Server-ActiveSync";
    engine_start();
    assert_int_equal(run(3), EAS_OK);
    for (int i = 0; i < nreq; i++) {
        assert_string_equal(reqs[i].host, "mail.example.test");
    }
    assert_non_null(strstr(evlog, "ERR-115;")); /* EAS_ERR_HTTP_URL, then the back-off */
    assert_null(strstr(evlog, "REDIR:"));
}

/* A stored redirect belongs to the configured URL it was learned under: a changed URL drops
 * it (with a warning), as does a weaker scheme or a damaged record. */
static void test_stored_redirect_rules(void **st)
{
    (void)st;
    cfg_allow = (eas_http_allow_t){k_mail2, 1};
    handler = h_451;
    redirect_to = "https://mail2.example.test/Microsoft-Server-ActiveSync";
    engine_start();
    assert_int_equal(run(8), EAS_OK); /* followed and persisted */
    uint8_t rec[4096];
    size_t len = 0;
    assert_int_equal(test_hal_store_get("acct0.url", rec, sizeof(rec), &len), EAS_OK);

    /* The user points the account elsewhere: the old redirect is not used, and deleted. */
    redirect_to = NULL;
    handler = h_first;
    cfg_url = "https://mail3.example.test/Microsoft-Server-ActiveSync";
    evlog[0] = '\0';
    engine_start();
    assert_null(strstr(evlog, "MOVED:"));
    assert_non_null(strstr(evlog, "ERR-9;")); /* EAS_ERR_NOT_FOUND: learned under another URL */
    int before = nreq;
    assert_int_equal(run(before + 1), EAS_OK);
    assert_string_equal(reqs[before].host, "mail3.example.test");
    assert_int_equal(test_hal_store_get("acct0.url", rec, sizeof(rec), &len),
                     EAS_ERR_STORE_NOT_FOUND);
    /* ... and going back to the first URL does not resurrect it. */
    cfg_url = NULL;
    engine_start();
    before = nreq;
    assert_int_equal(run(before + 1), EAS_OK);
    assert_string_equal(reqs[before].host, "mail.example.test");

    /* A stored http:// target for an https:// account is never used. */
    assert_int_equal(eas_state_url_save(&(const eas_state_ns_t){&test_hal()->store, NULL, "acct0"},
                                        "https://mail.example.test/Microsoft-Server-ActiveSync",
                                        "http://mail2.example.test/Microsoft-Server-ActiveSync",
                                        &arena),
                     EAS_OK);
    evlog[0] = '\0';
    engine_start();
    assert_null(strstr(evlog, "MOVED:"));
    assert_non_null(strstr(evlog, "ERR-115;"));
    before = nreq;
    assert_int_equal(run(before + 1), EAS_OK);
    assert_string_equal(reqs[before].host, "mail.example.test");
    assert_int_equal(test_hal_store_get("acct0.url", rec, sizeof(rec), &len),
                     EAS_ERR_STORE_NOT_FOUND);

    /* An unparsable record (here: the one-URL format of older versions) is deleted too. */
    static uint8_t buf[64 + EAS_REC_HDR];
    memcpy(buf + EAS_REC_HDR, "https://mail2.example.test/x", 28);
    assert_int_equal(eas_state_put(&(const eas_state_ns_t){&test_hal()->store, NULL, "acct0"},
                                   "acct0.url", EAS_REC_URL, buf, 28),
                     EAS_OK);
    evlog[0] = '\0';
    engine_start();
    assert_non_null(strstr(evlog, "ERR-62;")); /* EAS_ERR_STORE_CORRUPT */
    assert_int_equal(test_hal_store_get("acct0.url", rec, sizeof(rec), &len),
                     EAS_ERR_STORE_NOT_FOUND);
    before = nreq;
    assert_int_equal(run(before + 1), EAS_OK);
    assert_string_equal(reqs[before].host, "mail.example.test");
}

/* A Retry-After of days is capped (CONFIG_EAS_HTTP_RETRY_AFTER_MAX_S) and the cap reported:
 * the next attempt comes after the cap, not after what the server asked. */
static void h_retry_after_huge(const srv_req_t *rq, int n)
{
    req_times[n - 1] = now;
    if (n == 1) {
        r_status = 503;
        snprintf(r_headers, sizeof(r_headers), "Retry-After: 4000000000\r\n");
        return;
    }
    h_first(rq, n);
}

static void test_retry_after_capped(void **st)
{
    (void)st;
    memset(req_times, 0, sizeof(req_times));
    handler = h_retry_after_huge;
    engine_start();
    assert_int_equal(run(2), EAS_OK);
    assert_non_null(strstr(evlog, "ERR-7;")); /* EAS_ERR_LIMIT: "Retry-After capped" */
    uint64_t gap = req_times[1] - req_times[0];
    assert_true(gap >= (uint64_t)CONFIG_EAS_HTTP_RETRY_AFTER_MAX_S * 1000u);
    assert_true(gap <= (uint64_t)CONFIG_EAS_HTTP_RETRY_AFTER_MAX_S * 1000u + 1000u);
}

/* Basic credentials over plain http need the application's explicit opt-in. */
static void test_plaintext_credentials_refused(void **st)
{
    (void)st;
    handler = h_first;
    memset(&cfg, 0, sizeof(cfg));
    cfg.url = "http://mail.example.test/Microsoft-Server-ActiveSync";
    cfg.user = "testuser";
    cfg.device_id = "EASD0001";
    cfg.auth.kind = EAS_HTTP_AUTH_BASIC;
    cfg.auth.user = "testuser";
    cfg.auth.password = "testpass";
    cfg.classes = EAS_CLASS_CALENDAR;
    cfg.store_prefix = "acct0";
    eas_arena_init(&arena, arena_mem, sizeof(arena_mem));
    eas_engine_mem_t mem = {.folders = folders,
                            .folder_cap = 8,
                            .outbox = outbox,
                            .outbox_cap = 4,
                            .arena = &arena,
                            .http_work = work,
                            .http_work_len = sizeof(work),
                            .config = EAS_CONFIG_FINGERPRINT};
    assert_int_equal(eas_engine_init(&eng, &cfg, &mem, &net, test_hal(), on_event, NULL),
                     EAS_ERR_HTTP_PLAINTEXT_AUTH);
    cfg.allow_plaintext_auth = true;
    ev_state = EAS_STATE_IDLE;
    ev_state_bad = 0;
    assert_int_equal(eas_engine_init(&eng, &cfg, &mem, &net, test_hal(), on_event, NULL), EAS_OK);
    assert_int_equal(run(1), EAS_OK);
    assert_int_equal(nreq, 1);
    assert_string_equal(reqs[0].host, "mail.example.test");
}

/* A corrupt account record is rebuilt (OPTIONS + Provision again) with a warning, instead of
 * failing every run; a corrupt outbox record is reported by its key, the change it held
 * being lost. */
static void test_corrupt_records_recovered(void **st)
{
    (void)st;
    handler = h_first;
    engine_start();
    assert_int_equal(run(8), EAS_OK);
    uint8_t rec[512];
    size_t len = 0;
    assert_int_equal(test_hal_store_get("acct0.acct", rec, sizeof(rec), &len), EAS_OK);
    rec[len - 1] ^= 0x55;
    assert_int_equal(test_hal_store_put("acct0.acct", rec, len), EAS_OK);
#if CONFIG_EAS_OUTBOX
    assert_int_equal(test_hal_store_put("acct0.o1", (const uint8_t *)"garbage", 7), EAS_OK);
#endif
    evlog[0] = '\0';
    engine_start();
    assert_non_null(strstr(evlog, "ERR-62;"));
#if CONFIG_EAS_OUTBOX
    assert_non_null(strstr(evlog, "REC:acct0.o1;"));
#endif
    int before = nreq;
    assert_int_equal(run(before + 3), EAS_OK);
    assert_string_equal(reqs[before].cmd, "OPTIONS");
    assert_string_equal(reqs[before + 1].cmd, "Provision");
    assert_int_equal(test_hal_store_get("acct0.o1", rec, sizeof(rec), &len),
                     EAS_ERR_STORE_NOT_FOUND);
    /* The rebuilt record is good again: the next start neither warns nor re-provisions. */
    assert_int_equal(run(before + 7), EAS_OK);
    evlog[0] = '\0';
    engine_start();
    assert_null(strstr(evlog, "ERR"));
}

/* ------------------------------ Ping [S 2.15] ------------------------------ */

static int ping_bad_status = 3; /* how the server rejects a Ping naming c4 */
static char rejected_pings[16][512];
static int n_rejected_pings;
static int ping_mode; /* 0 normal, 1: answer 2 for c2, 2: answer 5, 3: answer 6 */
static int fs_count;

static void resp_foldersync5(void)
{
    rb();
    eas_wbxml_enc_start(&E, EAS_FOLDERHIERARCHY_FOLDER_SYNC);
    eas_wbxml_enc_elem_uint(&E, EAS_FOLDERHIERARCHY_STATUS, 1);
    eas_wbxml_enc_elem_text(&E, EAS_FOLDERHIERARCHY_SYNC_KEY, fs_count > 1 ? "H2" : "H1");
    eas_wbxml_enc_start(&E, EAS_FOLDERHIERARCHY_CHANGES);
    for (int i = 1; i <= 5 && fs_count == 1; i++) {
        char id[8];
        snprintf(id, sizeof(id), "c%d", i);
        eas_wbxml_enc_start(&E, EAS_FOLDERHIERARCHY_ADD);
        eas_wbxml_enc_elem_text(&E, EAS_FOLDERHIERARCHY_SERVER_ID, id);
        eas_wbxml_enc_elem_text(&E, EAS_FOLDERHIERARCHY_PARENT_ID, "0");
        eas_wbxml_enc_elem_text(&E, EAS_FOLDERHIERARCHY_DISPLAY_NAME, id);
        eas_wbxml_enc_elem_uint(&E, EAS_FOLDERHIERARCHY_TYPE, i == 1 ? 8 : 13);
        eas_wbxml_enc_end(&E);
    }
    eas_wbxml_enc_end(&E);
    eas_wbxml_enc_end(&E);
    rdone();
}

static void resp_ping_ex(int status, int heartbeat, int maxf, const char *folder)
{
    rb();
    eas_wbxml_enc_start(&E, EAS_PING_PING);
    eas_wbxml_enc_elem_uint(&E, EAS_PING_STATUS, (uint32_t)status);
    if (folder) {
        eas_wbxml_enc_start(&E, EAS_PING_FOLDERS);
        eas_wbxml_enc_elem_text(&E, EAS_PING_FOLDER, folder);
        eas_wbxml_enc_end(&E);
    }
    if (heartbeat) {
        eas_wbxml_enc_elem_uint(&E, EAS_PING_HEARTBEAT_INTERVAL, (uint32_t)heartbeat);
    }
    if (maxf) {
        eas_wbxml_enc_elem_uint(&E, EAS_PING_MAX_FOLDERS, (uint32_t)maxf);
    }
    eas_wbxml_enc_end(&E);
    rdone();
}

static void h_ping(const srv_req_t *rq, int n)
{
    (void)n;
    if (!strcmp(rq->cmd, "OPTIONS")) {
        resp_options();
    } else if (!strcmp(rq->cmd, "Provision")) {
        resp_provision(2, NULL);
    } else if (!strcmp(rq->cmd, "FolderSync")) {
        fs_count++;
        resp_foldersync5();
    } else if (!strcmp(rq->cmd, "Sync")) {
        resp_sync(1, "K1", 0, NULL, NULL, NULL);
    } else if (!strcmp(rq->cmd, "Ping")) {
        /* A rejected Ping is never sent again as it was [S 2.15]. */
        for (int i = 0; i < n_rejected_pings; i++) {
            assert_string_not_equal(rq->body, rejected_pings[i]);
        }
        if (strstr(rq->body, "<Id>c4</>")) {
            snprintf(rejected_pings[n_rejected_pings++ % 16], 512, "%.500s", rq->body);
            resp_ping(ping_bad_status);
        } else if (ping_mode == 1) {
            ping_mode = 0;
            resp_ping_ex(2, 0, 0, "c2");
        } else if (ping_mode == 2) {
            ping_mode = 0;
            resp_ping_ex(5, 900, 0, NULL);
        } else if (ping_mode == 3) {
            ping_mode = 0;
            resp_ping_ex(6, 0, 2, NULL);
        } else {
            resp_ping(1);
        }
    }
}

static int ping_rejected_events;
static char ping_rejected_id[EAS_ID_CAP];
static uint16_t ping_rejected_status;
static int on_ping_event(void *user, eas_event_t *ev)
{
    if (ev->type == EAS_EV_PING_REJECTED) {
        ping_rejected_events++;
        snprintf(ping_rejected_id, sizeof(ping_rejected_id), "%s", ev->u.folder.entry->server_id);
        ping_rejected_status = ev->u.folder.status;
    }
    return on_event(user, ev);
}

/* The last Ping that carried its parameters (an unchanged Ping goes with an empty body and
   the server's cached ones). */
static int last_ping(void)
{
    for (int i = nreq - 1; i >= 0; i--) {
        if (!strcmp(reqs[i].cmd, "Ping") && reqs[i].body[0]) {
            return i;
        }
    }
    return -1;
}

/* The last Ping, with or without a body. */
static int last_ping_any(void)
{
    for (int i = nreq - 1; i >= 0; i--) {
        if (!strcmp(reqs[i].cmd, "Ping")) {
            return i;
        }
    }
    return -1;
}

static void ping_reject_case(int status)
{
    ping_bad_status = status;
    n_rejected_pings = 0;
    ping_mode = 0;
    fs_count = 0;
    ping_rejected_events = 0;
    ping_rejected_id[0] = '\0';
    handler = h_ping;
    engine_start();
    eng.cb = on_ping_event;
    /* 3 + 2 Syncs per folder (10) + the search + accepted Pings. */
    assert_int_equal(run(40), EAS_OK);
    if (getenv("ENGINE_TEST_TRACE")) {
        for (int i = 0; i < nreq; i++) {
            fprintf(stderr, "%2d %s %.160s\n", i, reqs[i].cmd, reqs[i].body);
        }
    }
    assert_int_equal(ping_rejected_events, 1);
    assert_string_equal(ping_rejected_id, "c4");
    assert_int_equal(ping_rejected_status, status);
    assert_true(eas_engine_folder(&eng, "c4")->flags & EAS_FOLDER_F_NO_PING);
    int lp = last_ping();
    assert_non_null(strstr(reqs[lp].body, "<Id>c1</><Class>Calendar</></><Folder><Id>c2</>"));
    assert_non_null(strstr(reqs[lp].body, "<Id>c3</>"));
    assert_non_null(strstr(reqs[lp].body, "<Id>c5</>"));
    assert_null(strstr(reqs[lp].body, "<Id>c4</>"));
    /* The bisection took few requests: 5 folders, at most 3 rejected Pings. */
    assert_true(n_rejected_pings <= 3);
    if (status == 7) {
        assert_true(fs_count >= 2); /* 7 refreshed the hierarchy first */
    }
    /* The exclusion survives a restart. */
    int before = nreq;
    engine_start();
    eng.cb = on_ping_event;
    assert_int_equal(run(before + 7), EAS_OK);
    lp = last_ping();
    assert_true(lp >= before);
    assert_null(strstr(reqs[lp].body, "<Id>c4</>"));
    assert_non_null(strstr(reqs[lp].body, "<Id>c5</>"));
    assert_int_equal(ping_rejected_events, 1);
}

static void test_ping_reject_status3(void **st)
{
    (void)st;
    ping_reject_case(3);
}

static void test_ping_reject_status7(void **st)
{
    (void)st;
    ping_reject_case(7);
}

static void test_ping_reject_status132(void **st)
{
    (void)st;
    ping_reject_case(132);
}

/* Ping 2 syncs only the listed folders; 5 adopts the server's heartbeat; 6 reduces the
 * folder set to MaxFolders. */
static void test_ping_statuses(void **st)
{
    (void)st;
    ping_bad_status = 3;
    n_rejected_pings = 0;
    fs_count = 0;
    ping_mode = 0;
    handler = h_ping;
    engine_start();
    eng.cb = on_ping_event;
    cfg.classes = EAS_CLASS_CALENDAR;
    assert_int_equal(run(40), EAS_OK); /* settles with c4 excluded */
    ping_mode = 1;
    int base = nreq;
    assert_int_equal(run(base + 3), EAS_OK);
    /* base-1: Ping answered 2 for c2 → exactly one Sync of c2 → Ping (unchanged: its body
       is empty, the server's cached parameters) */
    int lp = last_ping_any();
    assert_string_equal(reqs[lp].body, "");
    assert_true(lp >= base);
    int syncs = 0;
    for (int i = base; i < lp; i++) {
        if (!strcmp(reqs[i].cmd, "Sync")) {
            syncs++;
            assert_non_null(strstr(reqs[i].body, "<CollectionId>c2</>"));
        }
    }
    assert_int_equal(syncs, 1);

    ping_mode = 2;
    base = nreq;
    assert_int_equal(run(base + 3), EAS_OK);
    lp = last_ping();
    assert_non_null(strstr(reqs[lp].body, "<HeartbeatInterval>900</>"));

    ping_mode = 3;
    base = nreq;
    assert_int_equal(run(base + 3), EAS_OK);
    lp = last_ping();
    assert_non_null(strstr(reqs[lp].body, "<Id>c1</>"));
    assert_non_null(strstr(reqs[lp].body, "<Id>c2</>"));
    assert_null(strstr(reqs[lp].body, "<Id>c3</>"));
}

/* eas_engine_heartbeat_s(): what the server is asked for. Read in the handler, while the
 * Ping is in flight, it must equal the HeartbeatInterval that Ping carries (an empty Ping:
 * the one the server cached); it grows after each clean expiry up to 3540 s, takes the
 * server's bound from Status 5 and comes back from the store after a restart. */
static uint32_t hb_seen[32];  /* getter at each Ping */
static uint32_t hb_asked[32]; /* HeartbeatInterval of each Ping (empty: the previous) */
static int hb_pings;
static int hb_bound; /* > 0: answer the next Ping with Status 5 and this value */

static void h_hb(const srv_req_t *rq, int n)
{
    if (strcmp(rq->cmd, "Ping") != 0) {
        h_first(rq, n);
        return;
    }
    assert_true(hb_pings < 32);
    const char *hi = strstr(rq->body, "<HeartbeatInterval>");
    hb_seen[hb_pings] = eas_engine_heartbeat_s(&eng);
    hb_asked[hb_pings] = hi ? (uint32_t)strtoul(hi + strlen("<HeartbeatInterval>"), NULL, 10)
                            : (hb_pings > 0 ? hb_asked[hb_pings - 1] : 0);
    hb_pings++;
    if (hb_bound > 0) {
        resp_ping_ex(5, hb_bound, 0, NULL);
        hb_bound = 0;
    } else {
        resp_ping(1);
    }
}

static int run_pings(int pings)
{
    int rc = EAS_OK;
    while (hb_pings < pings && rc == EAS_OK && nreq < 200) {
        rc = run(nreq + 1);
    }
    return rc;
}

static void test_heartbeat_getter(void **st)
{
    (void)st;
    static const uint32_t grow[] = {300, 600, 1200, 2400, 3540, 3540};
    hb_pings = 0;
    hb_bound = 0;
    handler = h_hb;
    assert_int_equal(eas_engine_heartbeat_s(NULL), 0);
    engine_start();
    assert_int_equal(eas_engine_heartbeat_s(&eng), 300); /* cfg.ping_interval_s */
    assert_int_equal(run_pings(6), EAS_OK);
    for (int i = 0; i < 6; i++) {
        assert_int_equal(hb_asked[i], grow[i]);
        assert_int_equal(hb_seen[i], grow[i]);
    }
    /* Status 5 naming a maximum of 900 s: the next Ping and the getter say 900. */
    hb_bound = 900;
    assert_int_equal(run_pings(8), EAS_OK);
    assert_int_equal(hb_asked[7], 900);
    assert_int_equal(hb_seen[7], 900);
    /* A restart resumes the learned value before any request. */
    int pings = hb_pings;
    engine_start();
    assert_int_equal(eas_engine_heartbeat_s(&eng), 900);
    assert_int_equal(run_pings(pings + 1), EAS_OK);
    assert_int_equal(hb_asked[pings], 900);
    assert_int_equal(hb_seen[pings], 900);
}

/* ------------------------------ MeetingResponse [S 1.15] ------------------------------ */

static int mr_applied;    /* responses the server applied */
static int mr_requests;   /* MeetingResponse requests received */
static int mr_cal_change; /* 1: the next cal Sync shows e1 with ResponseType 3 */
/* Non-NULL: the server accepts duplicates (the invitation stays) and the next cal Sync after
   each response shows the meeting's calendar item ci9 with this UID and ResponseType 3. */
static const char *mr_dup_uid;
/* Non-NULL: that item shows no ResponseType, only Attendees (erin accepted, then this
   address with AttendeeStatus 3) - how EAS 12.x, which has no ResponseType, shows it. */
static const char *mr_dup_att;

static void resp_mr(int status)
{
    rb();
    eas_wbxml_enc_start(&E, EAS_MEETINGRESPONSE_MEETING_RESPONSE);
    eas_wbxml_enc_start(&E, EAS_MEETINGRESPONSE_RESULT);
    eas_wbxml_enc_elem_text(&E, EAS_MEETINGRESPONSE_REQUEST_ID, "e1");
    eas_wbxml_enc_elem_uint(&E, EAS_MEETINGRESPONSE_STATUS, (uint32_t)status);
    if (status == 1) {
        eas_wbxml_enc_elem_text(&E, EAS_MEETINGRESPONSE_CALENDAR_ID, "calitem1");
    }
    eas_wbxml_enc_end(&E);
    eas_wbxml_enc_end(&E);
    rdone();
}

static void h_mr(const srv_req_t *rq, int n)
{
    if (!strcmp(rq->cmd, "MeetingResponse")) {
        mr_requests++;
        /* Like Exchange: an invitation is gone once answered; a second answer gets 2. */
        int gone = mr_applied > 0 && strstr(rq->body, "<CollectionId>inbox</>") != NULL &&
                   !mr_dup_uid;
        if (!gone) {
            mr_applied++;
            mr_cal_change = strstr(rq->body, "<CollectionId>cal</>") != NULL || mr_dup_uid;
        }
        resp_mr(gone ? 2 : 1);
    } else if (!strcmp(rq->cmd, "Sync") && mr_cal_change && !strstr(rq->body, "<SyncKey>0</>")) {
        mr_cal_change = 0;
        rb();
        eas_wbxml_enc_start(&E, EAS_AIRSYNC_SYNC);
        eas_wbxml_enc_start(&E, EAS_AIRSYNC_COLLECTIONS);
        eas_wbxml_enc_start(&E, EAS_AIRSYNC_COLLECTION);
        eas_wbxml_enc_elem_text(&E, EAS_AIRSYNC_SYNC_KEY, "S4");
        eas_wbxml_enc_elem_text(&E, EAS_AIRSYNC_COLLECTION_ID, "cal");
        eas_wbxml_enc_elem_uint(&E, EAS_AIRSYNC_STATUS, 1);
        eas_wbxml_enc_start(&E, EAS_AIRSYNC_COMMANDS);
        eas_wbxml_enc_start(&E, EAS_AIRSYNC_CHANGE);
        eas_wbxml_enc_elem_text(&E, EAS_AIRSYNC_SERVER_ID, mr_dup_uid ? "ci9" : "e1");
        eas_wbxml_enc_start(&E, EAS_AIRSYNC_APPLICATION_DATA);
        eas_wbxml_enc_elem_text(&E, EAS_CALENDAR_SUBJECT, "e1");
        if (mr_dup_uid) {
            eas_wbxml_enc_elem_text(&E, EAS_CALENDAR_UID, mr_dup_uid);
        }
        if (mr_dup_att) {
            const char *who[2] = {"erin@example.test", mr_dup_att};
            eas_wbxml_enc_start(&E, EAS_CALENDAR_ATTENDEES);
            for (int i = 0; i < 2; i++) {
                eas_wbxml_enc_start(&E, EAS_CALENDAR_ATTENDEE);
                eas_wbxml_enc_elem_text(&E, EAS_CALENDAR_ATTENDEE_EMAIL, who[i]);
                eas_wbxml_enc_elem_uint(&E, EAS_CALENDAR_ATTENDEE_STATUS, 3);
                eas_wbxml_enc_end(&E);
            }
            eas_wbxml_enc_end(&E);
        } else {
            eas_wbxml_enc_elem_uint(&E, EAS_CALENDAR_RESPONSE_TYPE, 3);
        }
        eas_wbxml_enc_end(&E);
        eas_wbxml_enc_end(&E);
        eas_wbxml_enc_end(&E);
        eas_wbxml_enc_end(&E);
        eas_wbxml_enc_end(&E);
        eas_wbxml_enc_end(&E);
        rdone();
    } else {
        h_first(rq, n);
    }
}

static int find_req(const char *cmd, int from)
{
    for (int i = from; i < nreq; i++) {
        if (!strcmp(reqs[i].cmd, cmd)) {
            return i;
        }
    }
    return -1;
}

static void mr_reset(void)
{
    mr_applied = mr_requests = mr_cal_change = 0;
    mr_dup_uid = NULL;
    mr_dup_att = NULL;
    handler = h_mr;
}

#if CONFIG_EAS_MEETING_RESPONSE
/* One response per decision: a second call replaces the queued one; InstanceId on 14.1. */
static void test_meeting_response_sent_once(void **st)
{
    (void)st;
    mr_reset();
    engine_start();
    assert_int_equal(run(7), EAS_OK);
    uint32_t id1 = 0, id2 = 0;
    assert_int_equal(eas_meeting_respond(&eng, "inbox", "e1", "2025-03-05T09:00:00.000Z",
                                         EAS_MEETING_TENTATIVE, &id1),
                     EAS_OK);
    assert_int_equal(eas_meeting_respond(&eng, "inbox", "e1", "2025-03-05T09:00:00.000Z",
                                         EAS_MEETING_ACCEPT, &id2),
                     EAS_OK);
    eas_sync_now(&eng, NULL);
    evlog[0] = '\0';
    int base = nreq;
    assert_int_equal(run(base + 4), EAS_OK);
    int m = find_req("MeetingResponse", base);
    if (m < 0 || getenv("ENGINE_TEST_TRACE")) {
        for (int i = 0; i < nreq; i++) {
            fprintf(stderr, "%2d %s %.120s\n", i, reqs[i].cmd, reqs[i].body);
        }
        fprintf(stderr, "events: %s\n", evlog);
    }
    assert_true(m >= 0);
    assert_non_null(strstr(reqs[m].body,
                           "<UserResponse>1</><CollectionId>inbox</>"
                           "<RequestId>e1</><InstanceId>2025-03-05T09:00:00.000Z</>"));
    assert_int_equal(mr_requests, 1);
    char want[32];
    snprintf(want, sizeof(want), "OB%u:1;", (unsigned)id2);
    assert_non_null(strstr(evlog, want));
    /* Nothing left: a restart sends nothing more. */
    engine_start();
    assert_int_equal(run(nreq + 4), EAS_OK);
    assert_int_equal(mr_requests, 1);
    assert_int_equal(mr_applied, 1);
}

/* The crash window: the server applied the response, the device died before the answer.
 * Invitation: the resend is answered 2 ("already answered") and counts as done. */
static void test_meeting_response_crash_invitation(void **st)
{
    (void)st;
    mr_reset();
    engine_start();
    assert_int_equal(run(7), EAS_OK);
    uint32_t id = 0;
    assert_int_equal(eas_meeting_respond(&eng, "inbox", "e1", NULL, EAS_MEETING_ACCEPT, &id),
                     EAS_OK);
    eas_sync_now(&eng, NULL);
    for (int i = 0; i < 50 && mr_requests == 0; i++) {
        assert_int_equal(run(nreq + 1), EAS_OK);
    }
    assert_int_equal(mr_requests, 1); /* ... and "power fails" before the answer is read */
    evlog[0] = '\0';
    engine_start();
    assert_int_equal(run(nreq + 5), EAS_OK);
    assert_int_equal(mr_applied, 1); /* exactly one response on the server */
    char want[32];
    snprintf(want, sizeof(want), "OB%u:1;", (unsigned)id);
    assert_non_null(strstr(evlog, want));
    assert_null(strstr(evlog, "ERR"));
    int before = mr_requests;
    engine_start();
    assert_int_equal(run(nreq + 4), EAS_OK);
    assert_int_equal(mr_requests, before); /* done for good */
}

/* Calendar item: after the crash the engine syncs the calendar first; the item carries our
 * answer, so the response is done without being sent again. */
static void test_meeting_response_crash_calendar(void **st)
{
    (void)st;
    mr_reset();
    engine_start();
    assert_int_equal(run(7), EAS_OK);
    uint32_t id = 0;
    assert_int_equal(eas_meeting_respond(&eng, "cal", "e1", NULL, EAS_MEETING_ACCEPT, &id), EAS_OK);
    eas_sync_now(&eng, NULL);
    for (int i = 0; i < 50 && mr_requests == 0; i++) {
        assert_int_equal(run(nreq + 1), EAS_OK);
    }
    assert_int_equal(mr_requests, 1);
    evlog[0] = '\0';
    engine_start();
    assert_int_equal(run(nreq + 6), EAS_OK);
    assert_int_equal(mr_requests, 1); /* never sent twice */
    assert_int_equal(mr_applied, 1);
    char want[32];
    snprintf(want, sizeof(want), "OB%u:1;", (unsigned)id);
    assert_non_null(strstr(evlog, want));
    for (int i = 0; i < 4; i++) {
        assert_int_equal(outbox[i].seq, 0);
    }
}

/* The application queued the response, the engine sent it, power failed before the answer
 * and the application (not knowing) queues the same decision again after the restart: the
 * entry is replaced, keeps its "maybe sent" count, and the server sees exactly one
 * response [S 1.15]. Queueing while the engine waits in Ping starts the request at once. */
static void test_meeting_response_requeue_after_crash(void **st)
{
    (void)st;
    mr_reset();
    engine_start();
    for (int i = 0; i < 20 && find_req("Ping", 0) < 0; i++) {
        assert_int_equal(run(nreq + 1), EAS_OK);
    }
    assert_int_equal(eas_engine_state(&eng), EAS_STATE_PINGING);
    uint32_t id = 0, id2 = 0;
    assert_int_equal(eas_meeting_respond(&eng, "inbox", "e1", NULL, EAS_MEETING_ACCEPT, &id),
                     EAS_OK);
    assert_int_equal(eas_outbox_pending(&eng, EAS_OUTBOX_MEETING_RESPONSE), 1);
    assert_int_equal(eas_outbox_pending(&eng, EAS_OUTBOX_ADD), 0);
    /* no eas_sync_now(): queueing alone abandons the Ping */
    for (int i = 0; i < 50 && mr_requests == 0; i++) {
        assert_int_equal(run(nreq + 1), EAS_OK);
    }
    assert_int_equal(mr_requests, 1);
    engine_start(); /* power loss before the answer was read */
    assert_int_equal(eas_outbox_pending(&eng, EAS_OUTBOX_MEETING_RESPONSE), 1);
    assert_int_equal(eas_meeting_respond(&eng, "inbox", "e1", NULL, EAS_MEETING_ACCEPT, &id2),
                     EAS_OK);
    assert_int_equal(id2, id);
    assert_int_equal(outbox[eas_outbox_pending(&eng, EAS_OUTBOX_NONE) - 1].attempts, 1);
    evlog[0] = '\0';
    assert_int_equal(run(nreq + 5), EAS_OK);
    assert_int_equal(mr_applied, 1);
    assert_int_equal(eas_outbox_pending(&eng, EAS_OUTBOX_MEETING_RESPONSE), 0);
    char want[32];
    snprintf(want, sizeof(want), "OB%u:1;", (unsigned)id);
    assert_non_null(strstr(evlog, want));
    assert_null(strstr(evlog, "ERR"));
}

/* A GlobalObjectId (MS-OXOCAL) in base64: the class id, @p inst_date (4 bytes, 0 = the
   series), then either the vCal-Uid form carrying @p uid or @p outlook bytes. */
static void goid_b64(char *out, size_t cap, uint32_t inst_date, const char *uid,
                     const uint8_t *outlook, size_t outlook_len)
{
    static const uint8_t cls[16] = {0x04, 0x00, 0x00, 0x00, 0x82, 0x00, 0xE0, 0x00,
                                    0x74, 0xC5, 0xB7, 0x10, 0x1A, 0x82, 0xE0, 0x08};
    uint8_t g[160] = {0};
    size_t n = 0, len = 0;
    memcpy(g, cls, 16);
    g[16] = (uint8_t)(inst_date >> 24);
    g[17] = (uint8_t)(inst_date >> 16);
    g[18] = (uint8_t)(inst_date >> 8);
    g[19] = (uint8_t)inst_date;
    n = 36; /* creation time and reserved: zero */
    size_t dl = uid ? 12 + strlen(uid) + 1 : outlook_len;
    g[n++] = (uint8_t)dl;
    n += 3;
    if (uid) {
        memcpy(g + n, "vCal-Uid\x01\x00\x00\x00", 12);
        memcpy(g + n + 12, uid, strlen(uid) + 1);
    } else {
        memcpy(g + n, outlook, outlook_len);
    }
    n += dl;
    assert_int_equal(eas_base64_encode(g, n, out, cap, &len), EAS_OK);
    out[len] = '\0';
}

/* Inbox path against a server that accepts duplicates [S 1.15]: the response is applied, the
   device dies before the answer; after the restart the engine syncs the calendars before a
   resend and finds the meeting's calendar item (by @p cal_uid, what the server shows) with
   our answer: done, @p want_requests MeetingResponse requests in all. */
static void mr_dup_case_att(const char *meeting_uid, const char *cal_uid, const char *att,
                            int want_requests)
{
    mr_reset();
    mr_dup_uid = cal_uid;
    mr_dup_att = att;
    engine_start();
    assert_int_equal(run(6), EAS_OK);
    uint32_t id = 0;
    assert_int_equal(eas_meeting_respond_uid(&eng, "inbox", "e1", NULL, EAS_MEETING_ACCEPT,
                                             meeting_uid, &id),
                     EAS_OK);
    eas_sync_now(&eng, NULL);
    for (int i = 0; i < 50 && mr_requests == 0; i++) {
        assert_int_equal(run(nreq + 1), EAS_OK);
    }
    assert_int_equal(mr_requests, 1); /* ... and power fails before the answer is read */
    evlog[0] = '\0';
    engine_start();
    assert_int_equal(run(nreq + 8), EAS_OK);
    assert_int_equal(mr_requests, want_requests);
    assert_int_equal(mr_applied, want_requests); /* the server applied every one */
    char want[32];
    snprintf(want, sizeof(want), "OB%u:1;", (unsigned)id);
    assert_non_null(strstr(evlog, want));
    assert_int_equal(eas_outbox_pending(&eng, EAS_OUTBOX_MEETING_RESPONSE), 0);
    engine_start();
    assert_int_equal(run(nreq + 4), EAS_OK);
    assert_int_equal(mr_requests, want_requests); /* done for good */
}

static void mr_dup_case(const char *meeting_uid, const char *cal_uid, int want_requests)
{
    mr_dup_case_att(meeting_uid, cal_uid, NULL, want_requests);
}

/* A meeting identity longer than the 2048 characters the engine accepts. */
static const char *big_uid(void)
{
    static char u[2050];
    memset(u, 'u', sizeof(u) - 1);
    u[sizeof(u) - 1] = '\0';
    return u;
}

/* The identity as the application has it, as each server kind shows it in the calendar. */
static void test_meeting_response_dup_server_inbox(void **st)
{
    (void)st;
    char b64[256];
    /* Horde/SOGo style: vCal-Uid GlobalObjId, the calendar item has the iCalendar UID. */
    goid_b64(b64, sizeof(b64), 0, "a1b2c3-meeting@example.test", NULL, 0);
    mr_dup_case(b64, "a1b2c3-meeting@example.test", 1);
    /* Exchange style: Outlook GlobalObjId, the calendar item's UID is the id in hex. */
    static const uint8_t ol[16] = {0x10, 0xD0, 0x5E, 0x2B, 0x99, 0x01, 0xDB, 0x01,
                                   0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
    goid_b64(b64, sizeof(b64), 0, NULL, ol, sizeof(ol));
    mr_dup_case(b64,
                "040000008200E00074C5B7101A82E008000000000000000000000000000000000000000010000000"
                "10D05E2B9901DB010000000000000000",
                1);
    /* The same in lower case hex, and the UID given directly. */
    mr_dup_case(b64,
                "040000008200e00074c5b7101a82e008000000000000000000000000000000000000000010000000"
                "10d05e2b9901db010000000000000000",
                1);
    mr_dup_case("plain-uid-42", "plain-uid-42", 1);
    /* Another meeting's item with our answer proves nothing: sent again (the server
       applied both: nothing else could tell). */
    mr_dup_case("plain-uid-42", "another-meeting", 2);
    /* A GlobalObjId of one occurrence: the series' item cannot prove it (sent again). */
    goid_b64(b64, sizeof(b64), 0x07E90305u, "a1b2c3-meeting@example.test", NULL, 0);
    mr_dup_case(b64, "a1b2c3-meeting@example.test", 2);
    /* No identity: as before, only a deleted invitation would prove it. */
    mr_dup_case(NULL, "a1b2c3-meeting@example.test", 2);
    /* No ResponseType (12.x): the account's own AttendeeStatus proves it, in any case; an
       acceptance by someone else does not. */
    mr_dup_case_att("plain-uid-42", "plain-uid-42", "TestUser@Example.TEST", 1);
    mr_dup_case_att("plain-uid-42", "plain-uid-42", "testuser@example.tes", 2);
    mr_dup_case_att("plain-uid-42", "plain-uid-42", "testuser@example.tset", 2);
    mr_dup_case_att("plain-uid-42", "plain-uid-42", "testuser@example.test.org", 2);
    assert_int_equal(eas_meeting_respond_uid(&eng, "inbox", "e1", NULL, EAS_MEETING_ACCEPT,
                                             big_uid(), NULL),
                     EAS_ERR_PARAM);
}

#else /* !CONFIG_EAS_MEETING_RESPONSE */

/* Compiled out: both calls refused, nothing queued, no MeetingResponse sent. */
static void test_meeting_response_compiled_out(void **st)
{
    (void)st;
    mr_reset();
    engine_start();
    assert_int_equal(run(6), EAS_OK);
    uint32_t id = 0;
    assert_int_equal(eas_meeting_respond(&eng, "cal", "e1", NULL, EAS_MEETING_ACCEPT, &id),
                     EAS_ERR_UNSUPPORTED);
    assert_int_equal(eas_meeting_respond_uid(&eng, "inbox", "e1", NULL, EAS_MEETING_ACCEPT,
                                             "uid-1", &id),
                     EAS_ERR_UNSUPPORTED);
    assert_int_equal(eas_outbox_pending(&eng, EAS_OUTBOX_NONE), 0);
    assert_int_equal(run(nreq + 3), EAS_OK);
    assert_int_equal(mr_requests, 0);
    assert_true(find_req("MeetingResponse", 0) < 0);
}

#endif /* CONFIG_EAS_MEETING_RESPONSE */

/* ------------------------------ ItemOperations Fetch ------------------------------ */
#if CONFIG_EAS_FETCH

static char big_text[5001];
static uint8_t big_bin[2999];
static int fetch_requests;
static int fetch_fail_first; /* 1: cut the first answer (reset) */
static int fetch_status = 1;

static void resp_fetch(const srv_req_t *rq)
{
    rb();
    eas_wbxml_enc_start(&E, EAS_ITEMOPERATIONS_ITEM_OPERATIONS);
    eas_wbxml_enc_elem_uint(&E, EAS_ITEMOPERATIONS_STATUS, 1);
    eas_wbxml_enc_start(&E, EAS_ITEMOPERATIONS_RESPONSE);
    eas_wbxml_enc_start(&E, EAS_ITEMOPERATIONS_FETCH);
    eas_wbxml_enc_elem_uint(&E, EAS_ITEMOPERATIONS_STATUS, (uint32_t)fetch_status);
    if (strstr(rq->body, "<FileReference>")) {
        eas_wbxml_enc_elem_text(&E, EAS_AIRSYNCBASE_FILE_REFERENCE, "att|1");
        if (fetch_status == 1) {
            static char b64[4100];
            size_t bl = 0;
            assert_int_equal(eas_base64_encode(big_bin, sizeof(big_bin), b64, sizeof(b64), &bl),
                             EAS_OK);
            eas_wbxml_enc_start(&E, EAS_ITEMOPERATIONS_PROPERTIES);
            eas_wbxml_enc_elem_text(&E, EAS_AIRSYNCBASE_CONTENT_TYPE, "image/png");
            eas_wbxml_enc_elem_text(&E, EAS_ITEMOPERATIONS_DATA, b64);
            eas_wbxml_enc_end(&E);
        }
    } else {
        eas_wbxml_enc_elem_text(&E, EAS_AIRSYNC_COLLECTION_ID, "inbox");
        eas_wbxml_enc_elem_text(&E, EAS_AIRSYNC_SERVER_ID, "m1");
        if (fetch_status == 1) {
            eas_wbxml_enc_start(&E, EAS_ITEMOPERATIONS_PROPERTIES);
            eas_wbxml_enc_start(&E, EAS_AIRSYNCBASE_BODY);
            eas_wbxml_enc_elem_uint(&E, EAS_AIRSYNCBASE_TYPE, 1);
            eas_wbxml_enc_elem_text(&E, EAS_AIRSYNCBASE_DATA, big_text);
            eas_wbxml_enc_end(&E);
            eas_wbxml_enc_end(&E);
        }
    }
    eas_wbxml_enc_end(&E);
    eas_wbxml_enc_end(&E);
    eas_wbxml_enc_end(&E);
    rdone();
}

static void h_fetch(const srv_req_t *rq, int n)
{
    if (!strcmp(rq->cmd, "ItemOperations")) {
        fetch_requests++;
        resp_fetch(rq);
        /* the first answer stops in the middle of the data, with a reset */
        cut_at = fetch_fail_first && fetch_requests == 1 ? 1500 : -1;
        cut_err = EAS_ERR_RESET;
        return;
    }
    cut_at = -1;
    h_first(rq, n);
}

static void fetch_setup(void)
{
    for (size_t i = 0; i < sizeof(big_text) - 1; i++) {
        big_text[i] = (char)('a' + (i * 7) % 26);
    }
    big_text[sizeof(big_text) - 1] = '\0';
    for (size_t i = 0; i < sizeof(big_bin); i++) {
        big_bin[i] = (uint8_t)(i * 31 + (i >> 8));
    }
    fetch_requests = 0;
    fetch_fail_first = 0;
    fetch_status = 1;
    fetch_text_len = fetch_bin_len = 0;
    handler = h_fetch;
    engine_start();
    assert_int_equal(run(7), EAS_OK);
}

/* An item's whole body streams in pieces (longer than one WBXML string the Sync limit
 * allows in the minimal preset); the request names the item and asks for no truncation. */
static void test_fetch_item_body(void **st)
{
    (void)st;
    fetch_setup();
    uint32_t id = 0, id2 = 0;
    assert_int_equal(eas_fetch(&eng, "inbox", "m1", NULL, &id), EAS_OK);
    assert_int_equal(eas_fetch(&eng, "inbox", "m2", NULL, &id2), EAS_ERR_BUSY);
    evlog[0] = '\0';
    for (int i = 0; i < 50 && fetch_requests == 0; i++) {
        assert_int_equal(run(nreq + 1), EAS_OK);
    }
    assert_int_equal(run(nreq + 1), EAS_OK);
    int r = find_req("ItemOperations", 0);
    assert_true(r >= 0);
    assert_non_null(strstr(reqs[r].body, "<Fetch><Store>Mailbox</><CollectionId>inbox</>"
                                         "<ServerId>m1</>"));
    assert_null(strstr(reqs[r].body, "TruncationSize"));
    char want[32];
    snprintf(want, sizeof(want), "FB%ui;FE%u:1:1;", (unsigned)id, (unsigned)id);
    assert_non_null(strstr(evlog, want));
    assert_int_equal(fetch_text_len, strlen(big_text));
    assert_memory_equal(fetch_text, big_text, fetch_text_len);
    assert_int_equal(fetch_final_pieces, 1);
    /* the next one is accepted once this one ended */
    assert_int_equal(eas_fetch(&eng, "inbox", "m2", NULL, &id2), EAS_OK);
    assert_true(id2 != id);
}

/* An attachment by FileReference: base64 Data decoded piece by piece; a reset in the
 * middle voids the attempt (END not final), the retry starts again with BEGIN. */
static void test_fetch_attachment_retry(void **st)
{
    (void)st;
    fetch_setup();
    fetch_fail_first = 1;
    uint32_t id = 0;
    assert_int_equal(eas_fetch(&eng, NULL, NULL, "att|1", &id), EAS_OK);
    evlog[0] = '\0';
    for (int i = 0; i < 100 && fetch_requests < 2; i++) {
        assert_int_equal(run(nreq + 1), EAS_OK);
    }
    assert_int_equal(run(nreq + 1), EAS_OK);
    assert_int_equal(fetch_requests, 2);
    int r = find_req("ItemOperations", 0);
    assert_non_null(strstr(reqs[r].body, "<FileReference>att|1</>"));
    char want[64];
    snprintf(want, sizeof(want), "FB%ur;FE%u:0:0;", (unsigned)id, (unsigned)id);
    assert_non_null(strstr(evlog, want));
    snprintf(want, sizeof(want), "FB%ur;FE%u:1:1;", (unsigned)id, (unsigned)id);
    assert_non_null(strstr(evlog, want));
    assert_int_equal(fetch_bin_len, sizeof(big_bin));
    assert_memory_equal(fetch_bin, big_bin, sizeof(big_bin));
    assert_int_equal(fetch_end_bytes, sizeof(big_bin));
    assert_int_equal(fetch_final_pieces, 1);
}

/* A per-fetch failure (15: no such attachment) is final: reported once, never resent. */
static void test_fetch_not_found_final(void **st)
{
    (void)st;
    fetch_setup();
    fetch_status = 15;
    uint32_t id = 0;
    assert_int_equal(eas_fetch(&eng, NULL, NULL, "att|9", &id), EAS_OK);
    evlog[0] = '\0';
    for (int i = 0; i < 50 && fetch_requests == 0; i++) {
        assert_int_equal(run(nreq + 1), EAS_OK);
    }
    assert_int_equal(run(nreq + 3), EAS_OK);
    assert_int_equal(fetch_requests, 1);
    char want[32];
    snprintf(want, sizeof(want), "FE%u:15:1;", (unsigned)id);
    assert_non_null(strstr(evlog, want));
    assert_null(strstr(evlog, "FB"));
    assert_int_equal(eas_fetch(&eng, NULL, NULL, NULL, &id), EAS_ERR_PARAM);
}

#else /* !CONFIG_EAS_FETCH */

/* Compiled out: a clear refusal, and the engine never sends ItemOperations. */
static void test_fetch_compiled_out(void **st)
{
    (void)st;
    engine_start();
    assert_int_equal(run(9), EAS_OK);
    uint32_t id = 77;
    assert_int_equal(eas_fetch(&eng, "cal", "e1", NULL, &id), EAS_ERR_UNSUPPORTED);
    assert_int_equal(eas_fetch(&eng, NULL, NULL, "att|1", &id), EAS_ERR_UNSUPPORTED);
    assert_int_equal(id, 77);
    assert_int_equal(run(nreq + 3), EAS_OK);
    assert_true(find_req("ItemOperations", 0) < 0);
}

#endif /* CONFIG_EAS_FETCH */

/* ------------------------------ MoveItems / GetItemEstimate ------------------------------ */

static int move_requests, move_applied, move_cut_first;
static int move_top_status, move_top_times; /* answer MoveItems with this top-level Status */
static uint64_t move_times[8];

static void h_move(const srv_req_t *rq, int n)
{
    cut_at = -1;
    if (!strcmp(rq->cmd, "MoveItems")) {
        if (move_requests < 8) {
            move_times[move_requests] = now;
        }
        move_requests++;
        if (move_top_times > 0) {
            /* The whole command refused with a common status (MS-ASCMD 2.2.2). */
            move_top_times--;
            rb();
            eas_wbxml_enc_start(&E, EAS_MOVE_MOVE_ITEMS);
            eas_wbxml_enc_elem_uint(&E, EAS_MOVE_STATUS, (uint32_t)move_top_status);
            eas_wbxml_enc_end(&E);
            rdone();
            return;
        }
        int gone = move_applied > 0; /* the item left the source with the first move */
        move_applied = 1;
        rb();
        eas_wbxml_enc_start(&E, EAS_MOVE_MOVE_ITEMS);
        eas_wbxml_enc_start(&E, EAS_MOVE_RESPONSE);
        eas_wbxml_enc_elem_text(&E, EAS_MOVE_SRC_MSG_ID, "e1");
        eas_wbxml_enc_elem_uint(&E, EAS_MOVE_STATUS, gone ? 1u : 3u);
        if (!gone) {
            eas_wbxml_enc_elem_text(&E, EAS_MOVE_DST_MSG_ID, "inbox:9");
        }
        eas_wbxml_enc_end(&E);
        eas_wbxml_enc_end(&E);
        rdone();
        if (move_cut_first && move_requests == 1) {
            cut_at = 60; /* applied, but the answer is lost */
            cut_err = EAS_ERR_RESET;
        }
        return;
    }
    if (!strcmp(rq->cmd, "GetItemEstimate")) {
        rb();
        eas_wbxml_enc_start(&E, EAS_GETITEMESTIMATE_GET_ITEM_ESTIMATE);
        eas_wbxml_enc_start(&E, EAS_GETITEMESTIMATE_RESPONSE);
        eas_wbxml_enc_elem_uint(&E, EAS_GETITEMESTIMATE_STATUS, 1);
        eas_wbxml_enc_start(&E, EAS_GETITEMESTIMATE_COLLECTION);
        eas_wbxml_enc_elem_text(&E, EAS_GETITEMESTIMATE_COLLECTION_ID, "cal");
        eas_wbxml_enc_elem_uint(&E, EAS_GETITEMESTIMATE_ESTIMATE, 3);
        eas_wbxml_enc_end(&E);
        eas_wbxml_enc_end(&E);
        eas_wbxml_enc_end(&E);
        rdone();
        return;
    }
    h_first(rq, n);
}

static void move_setup(int cut_first)
{
    move_requests = move_applied = 0;
    move_top_times = 0;
    move_cut_first = cut_first;
    handler = h_move;
    engine_start();
    assert_int_equal(run(7), EAS_OK);
}

/* Common statuses (111, 177) answered to a command other than Sync, Ping and FolderSync go
 * through the same handling as there (eng_common_status). */
static int common_errs;
static int common_err;
static uint16_t common_status;
static uint64_t common_err_ms;   /* when the last one was reported */
static uint64_t backoff_left_ms; /* when the engine left the back-off after it */
static int on_common_event(void *user, eas_event_t *ev)
{
    if (ev->type == EAS_EV_ERROR && ev->u.error.status != 0) {
        common_errs++;
        common_err = ev->u.error.err;
        common_status = ev->u.error.status;
        common_err_ms = now;
        backoff_left_ms = 0;
    }
    if (ev->type == EAS_EV_STATE && ev->u.state.previous == EAS_STATE_BACKOFF &&
        backoff_left_ms == 0) {
        backoff_left_ms = now;
    }
    return on_event(user, ev);
}

#if CONFIG_EAS_MOVE
/* A move is one MoveItems request; status 3 carries the new ServerId; the entry is gone. */
static void test_move_item(void **st)
{
    (void)st;
    move_setup(0);
    uint32_t id = 0;
    assert_int_equal(eas_item_move(&eng, "cal", "e1", "inbox", &id), EAS_OK);
    assert_int_equal(eas_item_move(&eng, "cal", "e1", NULL, NULL), EAS_ERR_PARAM);
    assert_int_equal(eas_outbox_pending(&eng, EAS_OUTBOX_MOVE), 1);
    evlog[0] = '\0';
    for (int i = 0; i < 50 && move_requests == 0; i++) {
        assert_int_equal(run(nreq + 1), EAS_OK);
    }
    assert_int_equal(run(nreq + 2), EAS_OK);
    int m = find_req("MoveItems", 0);
    assert_true(m >= 0);
    assert_non_null(strstr(reqs[m].body, "<MoveItems><Move><SrcMsgId>e1</><SrcFldId>cal</>"
                                         "<DstFldId>inbox</></></>"));
    char want[32];
    snprintf(want, sizeof(want), "OB%u:3;", (unsigned)id);
    assert_non_null(strstr(evlog, want));
    assert_int_equal(outbox_new_sid[0], '\0'); /* outbox_ok_id tracks status 1 only */
    assert_int_equal(eas_outbox_pending(&eng, EAS_OUTBOX_MOVE), 0);
    assert_null(strstr(evlog, "ERR"));
    /* a Sync request is not carrying the move */
    for (int i = 0; i < nreq; i++) {
        if (!strcmp(reqs[i].cmd, "Sync")) {
            assert_null(strstr(reqs[i].body, "e1</><SrcFldId>"));
        }
    }
}

/* The server moved it but the answer was lost: the resend finds the item gone from the
 * source (1) and that counts as moved; exactly one move on the server. */
static void test_move_lost_answer(void **st)
{
    (void)st;
    move_setup(1);
    uint32_t id = 0;
    assert_int_equal(eas_item_move(&eng, "cal", "e1", "inbox", &id), EAS_OK);
    evlog[0] = '\0';
    for (int i = 0; i < 100 && move_requests < 2; i++) {
        assert_int_equal(run(nreq + 1), EAS_OK);
    }
    assert_int_equal(run(nreq + 2), EAS_OK);
    assert_int_equal(move_requests, 2);
    char want[32];
    snprintf(want, sizeof(want), "OB%u:3;", (unsigned)id);
    assert_non_null(strstr(evlog, want));
    assert_int_equal(eas_outbox_pending(&eng, EAS_OUTBOX_NONE), 0);
}

/* MoveItems answered 111 twice: each reported as throttled, the busy back-off between the
 * attempts (not the 2 s start of a transport failure), the move kept queued and then made. */
static void test_move_status111(void **st)
{
    (void)st;
    move_setup(0);
    eng.cb = on_common_event;
    common_errs = 0;
    move_top_status = 111;
    move_top_times = 2;
    uint32_t id = 0;
    assert_int_equal(eas_item_move(&eng, "cal", "e1", "inbox", &id), EAS_OK);
    for (int i = 0; i < 100 && move_requests < 3; i++) {
        assert_int_equal(run(nreq + 1), EAS_OK);
    }
    assert_int_equal(run(nreq + 2), EAS_OK);
    assert_int_equal(move_requests, 3);
    assert_int_equal(common_errs, 2);
    assert_int_equal(common_err, EAS_ERR_THROTTLED);
    assert_int_equal(common_status, 111);
    assert_backoff_gap(move_times[1] - move_times[0], CONFIG_EAS_BACKOFF_BUSY_MS, 0);
    assert_backoff_gap(move_times[2] - move_times[1], CONFIG_EAS_BACKOFF_BUSY_MS, 1);
    char want[32];
    snprintf(want, sizeof(want), "OB%u:3;", (unsigned)id);
    assert_non_null(strstr(evlog, want));
    assert_int_equal(eas_outbox_pending(&eng, EAS_OUTBOX_MOVE), 0);
}

/* MoveItems answered 177 (the user has too many devices): stopped in BLOCKED with one
 * report, no retry however long the application keeps stepping; the move stays queued and
 * goes out after eas_engine_restart() once the server takes the device. */
static void test_move_status177(void **st)
{
    (void)st;
    move_setup(0);
    eng.cb = on_common_event;
    common_errs = 0;
    move_top_status = 177;
    move_top_times = 100;
    uint32_t id = 0;
    assert_int_equal(eas_item_move(&eng, "cal", "e1", "inbox", &id), EAS_OK);
    int rc = EAS_OK;
    for (int i = 0; i < 100 && rc == EAS_OK; i++) {
        rc = run(nreq + 1);
    }
    assert_int_equal(rc, EAS_ERR_FORBIDDEN);
    assert_int_equal(eas_engine_state(&eng), EAS_STATE_BLOCKED);
    int before = nreq;
    now += 24ull * 3600u * 1000u;
    assert_int_equal(run(nreq + 1), EAS_ERR_FORBIDDEN);
    assert_int_equal(nreq, before);
    assert_int_equal(move_requests, 1);
    assert_int_equal(common_errs, 1);
    assert_int_equal(common_err, EAS_ERR_FORBIDDEN);
    assert_int_equal(common_status, 177);
    assert_int_equal(eas_outbox_pending(&eng, EAS_OUTBOX_MOVE), 1);
    move_top_times = 0;
    assert_int_equal(eas_engine_restart(&eng), EAS_OK);
    for (int i = 0; i < 100 && move_requests < 2; i++) {
        assert_int_equal(run(nreq + 1), EAS_OK);
    }
    assert_int_equal(run(nreq + 2), EAS_OK);
    char want[32];
    snprintf(want, sizeof(want), "OB%u:3;", (unsigned)id);
    assert_non_null(strstr(evlog, want));
    assert_int_equal(eas_outbox_pending(&eng, EAS_OUTBOX_MOVE), 0);
}

#else /* !CONFIG_EAS_MOVE */

/* Compiled out: refused, nothing queued, no MoveItems. */
static void test_move_compiled_out(void **st)
{
    (void)st;
    move_setup(0);
    uint32_t id = 0;
    assert_int_equal(eas_item_move(&eng, "cal", "e1", "inbox", &id), EAS_ERR_UNSUPPORTED);
    assert_int_equal(eas_outbox_pending(&eng, EAS_OUTBOX_NONE), 0);
    assert_int_equal(run(nreq + 3), EAS_OK);
    assert_true(find_req("MoveItems", 0) < 0);
    assert_int_equal(move_requests, 0);
}

#endif /* CONFIG_EAS_MOVE */

/* Provision answered 177 (Exchange says it there first): stopped before any FolderSync. */
static void h_prov177(const srv_req_t *rq, int n)
{
    if (!strcmp(rq->cmd, "Provision")) {
        rb();
        eas_wbxml_enc_start(&E, EAS_PROVISION_PROVISION);
        eas_wbxml_enc_elem_uint(&E, EAS_PROVISION_STATUS, 177);
        eas_wbxml_enc_end(&E);
        rdone();
        return;
    }
    h_first(rq, n);
}

static void test_provision_status177(void **st)
{
    (void)st;
    handler = h_prov177;
    engine_start();
    eng.cb = on_common_event;
    common_errs = 0;
    assert_int_equal(run(10), EAS_ERR_FORBIDDEN);
    assert_int_equal(eas_engine_state(&eng), EAS_STATE_BLOCKED);
    assert_int_equal(nreq, 2); /* OPTIONS, Provision */
    assert_int_equal(common_errs, 1);
    assert_int_equal(common_status, 177);
}

/* Provision answered 111 once: reported as throttled, then the busy back-off before the
 * next request (as after any failed Provision, the engine goes on: a server that needs a
 * policy answers 449/142 and the engine provisions again). */
static int prov_busy_left;
static void h_prov111(const srv_req_t *rq, int n)
{
    if (!strcmp(rq->cmd, "Provision") && prov_busy_left > 0) {
        prov_busy_left--;
        rb();
        eas_wbxml_enc_start(&E, EAS_PROVISION_PROVISION);
        eas_wbxml_enc_elem_uint(&E, EAS_PROVISION_STATUS, 111);
        eas_wbxml_enc_end(&E);
        rdone();
        return;
    }
    h_first(rq, n);
}

static void test_provision_status111(void **st)
{
    (void)st;
    handler = h_prov111;
    prov_busy_left = 1;
    engine_start();
    eng.cb = on_common_event;
    common_errs = 0;
    assert_int_equal(run(4), EAS_OK);
    assert_string_equal(reqs[1].cmd, "Provision");
    assert_int_equal(common_errs, 1);
    assert_int_equal(common_err, EAS_ERR_THROTTLED);
    assert_int_equal(common_status, 111);
    assert_true(backoff_left_ms != 0);
    assert_backoff_gap(backoff_left_ms - common_err_ms, CONFIG_EAS_BACKOFF_BUSY_MS, 0);
}

#if CONFIG_EAS_ESTIMATE
/* With cfg.progress: GetItemEstimate once the folder is primed, before its first item Sync;
 * EAS_EV_PROGRESS with the estimate, then with the items so far. Without it: no request. */
static void test_estimate_progress(void **st)
{
    (void)st;
    move_requests = move_applied = move_cut_first = 0;
    handler = h_move;
    cfg_progress = true;
    engine_start();
    cfg_progress = false;
    assert_int_equal(run(10), EAS_OK);
    int g = find_req("GetItemEstimate", 0);
    int k0 = find_req("Sync", 0);
    assert_true(g > k0 && k0 >= 0);
    assert_non_null(strstr(reqs[g].body, "<SyncKey>S1</><GIECollectionId>cal</>"));
    assert_non_null(strstr(evlog, "Pcal:0/3;I1:e1;I1:e2;Pcal:2/3;I1:e3;"));
    int before = nreq;
    assert_int_equal(run(nreq + 3), EAS_OK);
    for (int i = before; i < nreq; i++) {
        assert_string_not_equal(reqs[i].cmd, "GetItemEstimate"); /* asked once */
    }
}

#else /* !CONFIG_EAS_ESTIMATE */

/* Compiled out: asking for progress is refused at init, nothing is written to the engine. */
static void test_estimate_compiled_out(void **st)
{
    (void)st;
    memset(&eng, 0xA5, sizeof(eng));
    cfg_progress = true;
    cfg_init_err = EAS_ERR_UNSUPPORTED;
    engine_start();
    cfg_progress = false;
    cfg_init_err = EAS_OK;
    const uint8_t *b = (const uint8_t *)&eng;
    for (size_t i = 0; i < sizeof(eng); i++) {
        assert_int_equal(b[i], 0xA5);
    }
    /* Without progress the same account starts and syncs without GetItemEstimate. */
    handler = h_move;
    engine_start();
    assert_int_equal(run(9), EAS_OK);
    assert_true(find_req("GetItemEstimate", 0) < 0);
}

#endif /* CONFIG_EAS_ESTIMATE */

static void test_estimate_off(void **st)
{
    (void)st;
    handler = h_move;
    engine_start();
    assert_int_equal(run(10), EAS_OK);
    assert_true(find_req("GetItemEstimate", 0) < 0);
    assert_null(strstr(evlog, "Pcal"));
}

/* ------------------------------ SendMail / SmartReply ------------------------------ */
#if CONFIG_EAS_EMAIL

static int mail_requests, mail_delivered, mail_cut_first;
static char mail_seen_cids[4][32];

static void h_mail(const srv_req_t *rq, int n)
{
    cut_at = -1;
    if (!strcmp(rq->cmd, "SendMail") || !strcmp(rq->cmd, "SmartReply") ||
        !strcmp(rq->cmd, "SmartForward")) {
        const char *c = strstr(rq->body, "<ClientId>");
        char cid[32] = "";
        if (c) {
            c += strlen("<ClientId>");
            size_t l = strcspn(c, "<");
            snprintf(cid, sizeof(cid), "%.*s", (int)(l < 31 ? l : 31), c);
        }
        int dup = 0;
        for (int i = 0; i < mail_requests && i < 4 && cid[0]; i++) {
            dup |= strcmp(mail_seen_cids[i], cid) == 0;
        }
        snprintf(mail_seen_cids[mail_requests < 4 ? mail_requests : 3], 32, "%s", cid);
        mail_requests++;
        if (dup) {
            /* like Exchange: this ClientId was sent already */
            rb();
            eas_wbxml_enc_start(&E, EAS_COMPOSEMAIL_SEND_MAIL);
            eas_wbxml_enc_elem_uint(&E, EAS_COMPOSEMAIL_STATUS, 118);
            eas_wbxml_enc_end(&E);
            rdone();
        } else {
            assert_int_equal(srv_opaque_len, sizeof(app_mime));
            assert_memory_equal(srv_opaque, app_mime, sizeof(app_mime));
            mail_delivered++;
            r_body_len = 0; /* success: empty 200 */
            if (mail_cut_first && mail_requests == 1) {
                strcpy(r_headers, "X-Pad: 0123456789\r\n");
                cut_at = 20; /* delivered, but the answer is lost */
                cut_err = EAS_ERR_RESET;
            }
        }
        return;
    }
    h_first(rq, n);
}

static void mail_setup(int cut_first)
{
    for (size_t i = 0; i < sizeof(app_mime); i++) {
        app_mime[i] = (uint8_t)("MIME-Version: 1.0\r\nabcdefghij"[i % 29]);
    }
    mail_requests = mail_delivered = 0;
    mail_cut_first = cut_first;
    mime_reads_at_zero = 0;
    memset(mail_seen_cids, 0, sizeof(mail_seen_cids));
    handler = h_mail;
    engine_start();
    assert_int_equal(run(7), EAS_OK);
}

/* A 10,000-byte message streams from the application's callback as one OPAQUE Mime, read
 * again from offset 0 for each transmit buffer; ClientId is 16 random hex digits. */
static void test_send_mail(void **st)
{
    (void)st;
    mail_setup(0);
    eas_mail_t m = {
        .cmd = EAS_MAIL_SEND, .mime_id = 7, .mime_len = sizeof(app_mime), .save_in_sent = true};
    uint32_t id = 0;
    assert_int_equal(eas_mail_send(&eng, &m, &id), EAS_OK);
    eas_mail_t bad = m;
    bad.mime_len = (uint64_t)CONFIG_EAS_MAIL_MAX_BYTES + 1u;
    assert_int_equal(eas_mail_send(&eng, &bad, NULL), EAS_ERR_LIMIT);
    bad = m;
    bad.cmd = EAS_MAIL_REPLY;
    assert_int_equal(eas_mail_send(&eng, &bad, NULL), EAS_ERR_PARAM); /* no source */
    evlog[0] = '\0';
    for (int i = 0; i < 50 && mail_requests == 0; i++) {
        assert_int_equal(run(nreq + 1), EAS_OK);
    }
    assert_int_equal(run(nreq + 1), EAS_OK);
    int r = find_req("SendMail", 0);
    assert_true(r >= 0);
    const char *c = strstr(reqs[r].body, "<SendMail><ClientId>");
    assert_non_null(c);
    c += strlen("<SendMail><ClientId>");
    assert_int_equal(strspn(c, "0123456789abcdef"), 16);
    assert_non_null(strstr(c, "</><SaveInSentItems></><Mime>"));
    assert_int_equal(mail_delivered, 1);
    assert_true(mime_reads_at_zero >= 2); /* counting pass + at least one send pass */
    char want[32];
    snprintf(want, sizeof(want), "OB%u:1;", (unsigned)id);
    assert_non_null(strstr(evlog, want));
    assert_int_equal(eas_outbox_pending(&eng, EAS_OUTBOX_SEND), 0);
}

/* Delivered, answer lost, power fails: after the restart the same ClientId goes out again,
 * the server answers 118 and the message counts as sent: exactly one delivery. */
static void test_send_mail_lost_answer_restart(void **st)
{
    (void)st;
    mail_setup(1);
    eas_mail_t m = {.cmd = EAS_MAIL_REPLY,
                    .mime_id = 7,
                    .mime_len = sizeof(app_mime),
                    .replace_mime = true,
                    .src_folder = "inbox",
                    .src_item = "m1"};
    uint32_t id = 0;
    assert_int_equal(eas_mail_send(&eng, &m, &id), EAS_OK);
    for (int i = 0; i < 50 && mail_requests == 0; i++) {
        assert_int_equal(run(nreq + 1), EAS_OK);
    }
    assert_int_equal(mail_delivered, 1);
    engine_start(); /* power loss: the outbox entry (with its ClientId) survives */
    evlog[0] = '\0';
    for (int i = 0; i < 100 && mail_requests < 2; i++) {
        assert_int_equal(run(nreq + 1), EAS_OK);
    }
    assert_int_equal(run(nreq + 1), EAS_OK);
    assert_int_equal(mail_requests, 2);
    assert_string_equal(mail_seen_cids[0], mail_seen_cids[1]);
    assert_int_equal(mail_delivered, 1);
    int r = find_req("SmartReply", 0);
    assert_true(r >= 0);
    assert_non_null(strstr(reqs[r].body, "<Source><FolderId>inbox</><ItemId>m1</></>"
                                         "<ReplaceMime></><Mime>"));
    char want[32];
    snprintf(want, sizeof(want), "OB%u:1;", (unsigned)id);
    assert_non_null(strstr(evlog, want));
    assert_null(strstr(evlog, "ERR"));
}

/* 12.1 has no WBXML SendMail: the body is the message (message/rfc822), SaveInSent and the
 * original go in the query. */
static void test_send_mail_12_1(void **st)
{
    (void)st;
    cfg_max_version = EAS_VER_12_1;
    mail_setup(0);
    cfg_max_version = EAS_VER_NONE;
    eas_mail_t m = {.cmd = EAS_MAIL_FORWARD,
                    .mime_id = 7,
                    .mime_len = sizeof(app_mime),
                    .save_in_sent = true,
                    .src_folder = "inbox",
                    .src_item = "m1"};
    uint32_t id = 0;
    assert_int_equal(eas_mail_send(&eng, &m, &id), EAS_OK);
    evlog[0] = '\0';
    for (int i = 0; i < 50 && mail_requests == 0; i++) {
        assert_int_equal(run(nreq + 1), EAS_OK);
    }
    assert_int_equal(run(nreq + 1), EAS_OK);
    int r = find_req("SmartForward", 0);
    assert_true(r >= 0);
    assert_true(reqs[r].raw_mime);
    assert_non_null(strstr(reqs[r].query, "SaveInSent=T"));
    assert_non_null(strstr(reqs[r].query, "ItemId=m1"));
    assert_non_null(strstr(reqs[r].query, "CollectionId=inbox"));
    assert_int_equal(mail_delivered, 1);
    char want[32];
    snprintf(want, sizeof(want), "OB%u:1;", (unsigned)id);
    assert_non_null(strstr(evlog, want));
}

#endif /* CONFIG_EAS_EMAIL */

/* ------------------------------ robustness ------------------------------ */

/* A Sync response cut (clean close or reset) at every offset: nothing of it is committed,
 * the same request is retried after the back-off, and the complete response then commits. */
static void h_cut(const srv_req_t *rq, int n)
{
    if (!strcmp(rq->cmd, "Sync") && strstr(rq->body, "<SyncKey>S3</>")) {
        resp_sync(1, "S4", 0, "n1,n2,n3", NULL, NULL);
        return;
    }
    h_first(rq, n);
}

static void test_sync_response_cut_everywhere(void **st)
{
    (void)st;
    handler = h_cut;
    cut_at = -1;
    engine_start();
    assert_int_equal(run(8), EAS_OK); /* first sync done: key S3, Ping */
    assert_string_equal(eas_engine_folder(&eng, "cal")->sync_key, "S3");
    /* Size of the answer to cut. */
    eas_sync_now(&eng, "cal");
    cut_at = 1;
    cut_err = 0;
    int base = nreq;
    assert_int_equal(run(base + 1), EAS_OK);
    size_t total = full_len;
    assert_true(total > 100);
    int tried = 0;
    for (size_t k = 1; k < total; k++) {
        cut_at = (long)k;
        cut_err = (k % 2) ? EAS_ERR_RESET : 0;
        uint64_t t0 = now;
        base = nreq;
        assert_int_equal(run(base + 1), EAS_OK); /* the retry (after the back-off) */
        assert_string_equal(reqs[base].cmd, "Sync");
        assert_non_null(strstr(reqs[base].body, "<SyncKey>S3</>"));
        assert_true(now - t0 >= CONFIG_EAS_BACKOFF_MIN_MS / 2); /* never a tight loop */
        /* Nothing of the cut response was committed: memory and store keep S3. */
        assert_string_equal(eas_engine_folder(&eng, "cal")->sync_key, "S3");
        tried++;
    }
    assert_true(tried > 100);
    /* Restart from the store after all that: still S3. */
    cut_at = -1;
    engine_start();
    assert_string_equal(eas_engine_folder(&eng, "cal")->sync_key, "S3");
    base = nreq;
    assert_int_equal(run(base + 3), EAS_OK); /* FolderSync, Sync S3 → S4, Ping */
    assert_string_equal(eas_engine_folder(&eng, "cal")->sync_key, "S4");
}

/* The store fails while the new sync key is committed: the key in memory stays the old
 * one, the failure goes through the back-off, and the retry commits. */
static void test_store_failure_at_commit(void **st)
{
    (void)st;
    handler = h_cut;
    cut_at = -1;
    engine_start();
    assert_int_equal(run(8), EAS_OK);
    eas_sync_now(&eng, "cal");
    evlog[0] = '\0';
    /* The next store write (the sync key of the S3 → S4 answer) fails. */
    test_hal_store_fail_after(1);
    int base = nreq;
    assert_int_equal(run(base + 1), EAS_OK);
    for (int i = 0; i < 2000 && eas_engine_state(&eng) != EAS_STATE_BACKOFF; i++) {
        uint64_t dl = UINT64_MAX;
        (void)eas_step(&eng, EAS_STEP_TICK, now, &dl);
        state_check();
    }
    assert_int_equal(eas_engine_state(&eng), EAS_STATE_BACKOFF);
    assert_non_null(strstr(evlog, "ERR"));
    test_hal_store_fail_after(0);
    engine_start(); /* what a power cut right now would leave */
    assert_string_equal(eas_engine_folder(&eng, "cal")->sync_key, "S3");
    base = nreq;
    assert_int_equal(run(base + 3), EAS_OK);
    assert_string_equal(eas_engine_folder(&eng, "cal")->sync_key, "S4");
}

/* Every state change is exactly one EAS_EV_STATE: the state rebuilt from the events alone
   equals eas_engine_state() after every step and every call (state_check, also in every
   other test through run()), here over a back-off, a Ping abandoned for queued work, a stop,
   a restart and a second stop. */
static void test_state_rebuilt_from_events(void **st)
{
    (void)st;
    ev_state_seen = 0;
    handler = h_503;
    engine_start();
    assert_int_equal(run(3), EAS_OK);
    handler = h_first;
    for (int i = 0; i < 40 && find_req("Ping", 0) < 0; i++) {
        assert_int_equal(run(nreq + 1), EAS_OK);
    }
    assert_int_equal(eas_engine_state(&eng), EAS_STATE_PINGING);
    state_check();
    /* Queued work abandons the running Ping: one event, at once. */
    int events = ev_state_events;
    assert_int_equal(eas_sync_now(&eng, "cal"), EAS_OK);
    assert_int_equal(eas_engine_state(&eng), EAS_STATE_SYNCING);
    state_check();
    assert_int_equal(ev_state_events, events + 1);
    assert_int_equal(run(nreq + 2), EAS_OK);
    /* A stop, then a restart: one event each. */
    handler = h_401;
    assert_int_equal(run(nreq + 5), EAS_ERR_AUTH);
    assert_int_equal(eas_engine_state(&eng), EAS_STATE_AUTH_FAILED);
    state_check();
    events = ev_state_events;
    assert_int_equal(eas_engine_restart(&eng), EAS_OK);
    assert_int_equal(eas_engine_state(&eng), EAS_STATE_IDLE);
    state_check();
    assert_int_equal(ev_state_events, events + 1);
    handler = h_first;
    assert_int_equal(run(nreq + 3), EAS_OK);
    handler = h_401;
    assert_int_equal(run(nreq + 5), EAS_ERR_AUTH);
    state_check();
    unsigned want = (1u << EAS_STATE_OPTIONS) | (1u << EAS_STATE_BACKOFF) |
                    (1u << EAS_STATE_PINGING) | (1u << EAS_STATE_SYNCING) |
                    (1u << EAS_STATE_AUTH_FAILED) | (1u << EAS_STATE_IDLE);
    assert_int_equal(ev_state_seen & want, want);
}

/* no_push at rest: up to date, EAS_STATE_IDLE, nothing wanted, no deadline — and it stays
   so: thousands of eas_step() calls over days of clock send nothing and open nothing. */
static void no_push_assert_rest(void)
{
    int before = nreq;
    int opened = opens;
    int events = ev_state_events;
    for (int i = 0; i < 5000; i++) {
        uint64_t dl = 0;
        assert_int_equal(eas_step(&eng, EAS_STEP_TICK, now, &dl), EAS_OK);
        state_check();
        assert_int_equal(dl, UINT64_MAX);
        assert_int_equal(eas_engine_wait_io(&eng), 0);
        now += 60000u; /* a minute a call: 3.5 days in all */
    }
    assert_int_equal(nreq, before);
    assert_int_equal(opens, opened);
    assert_int_equal(ev_state_events, events);
    assert_int_equal(eas_engine_state(&eng), EAS_STATE_IDLE);
    assert_int_equal(find_req("Ping", 0), -1);
}

/* eas_account_cfg_t::no_push: the first sync ends at SYNC_COMPLETE with no Ping after it;
   eas_sync_now() starts one more round (the Sync of the selected folders, as after a Ping's
   changes), which again ends at rest. The state goes IDLE -> SYNCING -> IDLE, one event
   each. Without the option the same server gets a Ping at once (test_first_sync_then_restart
   and test_no_push_off_pings). */
static void test_no_push_sync_once_then_rest(void **st)
{
    (void)st;
    cfg_no_push = true;
    handler = h_first;
    engine_start();
    assert_int_equal(run(1000), EAS_OK); /* far more than the round needs */
    assert_int_equal(nreq, 7);           /* OPTIONS Provision Settings FolderSync Sync x3 */
    assert_string_equal(reqs[6].cmd, "Sync");
    assert_int_equal(sync_complete, 1);
    assert_int_equal(items_added, 3);
    assert_null(strstr(evlog, "ERR"));
    no_push_assert_rest();

    /* The application asks again: one Sync of the calendar (the only selected folder; the
       unselected mail folder is not synced), SYNC_COMPLETE, rest. */
    int events = ev_state_events;
    assert_int_equal(eas_sync_now(&eng, NULL), EAS_OK);
    state_check();
    assert_int_equal(ev_state_events, events); /* nothing ran yet: nothing to report */
    assert_int_equal(run(1000), EAS_OK);
    assert_int_equal(nreq, 8);
    assert_string_equal(reqs[7].cmd, "Sync");
    assert_non_null(strstr(reqs[7].body, "<SyncKey>S3</><CollectionId>cal</><GetChanges>"));
    assert_null(strstr(reqs[7].body, "inbox"));
    assert_int_equal(sync_complete, 2);
    assert_int_equal(ev_state_events, events + 2); /* SYNCING, then IDLE */
    no_push_assert_rest();

    /* A restart from the store (the device woke up): the incremental FolderSync and Sync,
       then rest again; no Ping at any point. */
    engine_start();
    ev_state_events = 0;
    assert_int_equal(run(1000), EAS_OK);
    assert_int_equal(nreq, 10);
    assert_string_equal(reqs[8].cmd, "FolderSync");
    assert_string_equal(reqs[9].cmd, "Sync");
    assert_int_equal(sync_complete, 3);
    no_push_assert_rest();
}

/* The same server without the option: the Ping follows SYNC_COMPLETE, as it always did. */
static void test_no_push_off_pings(void **st)
{
    (void)st;
    handler = h_first;
    engine_start();
    assert_int_equal(run(8), EAS_OK);
    assert_int_equal(sync_complete, 1);
    assert_string_equal(reqs[7].cmd, "Ping");
    assert_int_equal(eas_engine_state(&eng), EAS_STATE_PINGING);
}

#if CONFIG_EAS_OUTBOX
/* A local change queued at rest goes out at the next eas_step() (no eas_sync_now()
   needed), its result is reported, and the engine rests again without a Ping. */
static void test_no_push_local_change_sent(void **st)
{
    (void)st;
    status3_sent = 1; /* h_status3 without its status 3: the Add is answered with "new1" */
    cfg_no_push = true;
    handler = h_status3;
    engine_start();
    assert_int_equal(run(1000), EAS_OK);
    int rest = nreq;
    no_push_assert_rest();
    eas_field_t fields[] = {{EAS_CALENDAR_SUBJECT, EAS_FIELD_TEXT, "Lunch", 5}};
    uint32_t id = 0;
    assert_int_equal(eas_item_add(&eng, "cal", fields, 1, &id), EAS_OK);
    state_check();
    assert_int_equal(run(1000), EAS_OK);
    assert_int_equal(nreq, rest + 1);
    assert_string_equal(reqs[rest].cmd, "Sync");
    assert_non_null(strstr(reqs[rest].body, "<Commands><Add><ClientId>"));
    assert_int_equal(outbox_ok_id, id);
    assert_string_equal(outbox_new_sid, "new1");
    no_push_assert_rest();
}
#endif

#if CONFIG_EAS_FETCH
/* eas_fetch() at rest: the ItemOperations goes out, then rest again. */
static void test_no_push_fetch_sent(void **st)
{
    (void)st;
    cfg_no_push = true;
    fetch_setup();
    assert_int_equal(run(1000), EAS_OK);
    int rest = nreq;
    no_push_assert_rest();
    uint32_t id = 0;
    assert_int_equal(eas_fetch(&eng, "inbox", "m1", NULL, &id), EAS_OK);
    evlog[0] = '\0';
    assert_int_equal(run(1000), EAS_OK);
    assert_int_equal(nreq, rest + 1);
    assert_string_equal(reqs[rest].cmd, "ItemOperations");
    char want[32];
    snprintf(want, sizeof(want), "FB%ui;FE%u:1:1;", (unsigned)id, (unsigned)id);
    assert_non_null(strstr(evlog, want));
    no_push_assert_rest();
}
#endif

/* A failure in a no_push round backs off as ever (the deadline is the retry, not "never"),
   and the retry completes the round and rests. */
static void test_no_push_backoff_then_rest(void **st)
{
    (void)st;
    cfg_no_push = true;
    handler = h_first;
    engine_start();
    assert_int_equal(run(1000), EAS_OK);
    int rest = nreq;
    handler = h_503;
    assert_int_equal(eas_sync_now(&eng, "cal"), EAS_OK);
    uint64_t dl = 0;
    for (int i = 0; i < 50 && eas_engine_state(&eng) != EAS_STATE_BACKOFF; i++) {
        assert_int_equal(eas_step(&eng, EAS_STEP_TICK, now, &dl), EAS_OK);
        state_check();
    }
    assert_int_equal(eas_engine_state(&eng), EAS_STATE_BACKOFF);
    assert_int_equal(nreq, rest + 1);
    assert_int_equal(eas_step(&eng, EAS_STEP_TICK, now, &dl), EAS_OK);
    assert_true(dl > now && dl != UINT64_MAX);
    handler = h_first;
    assert_int_equal(run(1000), EAS_OK);
    assert_int_equal(nreq, rest + 2);
    assert_string_equal(reqs[rest + 1].cmd, "Sync");
    no_push_assert_rest();
}

/* A caller compiled with another configuration (its structs and buffers sized differently)
   is refused before anything is written: EAS_ERR_CONFIG, the engine and the store untouched. */
static void test_config_fingerprint(void **st)
{
    (void)st;
    static eas_engine_t other;
    static eas_engine_t before;
    engine_start(); /* a valid configuration: cfg, arena and the store are set up */
    eas_engine_mem_t mem = {folders,
                            8,
                            outbox,
                            4,
                            &arena,
                            work,
                            sizeof(work),
                            NULL,
                            NULL,
                            0,
                            EAS_CONFIG_FINGERPRINT ^ 1u};
    size_t records = test_hal_store_count();
    memset(&other, 0xA5, sizeof(other));
    memcpy(&before, &other, sizeof(other));
    assert_int_equal(eas_engine_init(&other, &cfg, &mem, &net, test_hal(), on_event, NULL),
                     EAS_ERR_CONFIG);
    assert_memory_equal(&other, &before, sizeof(other));
    assert_int_equal(test_hal_store_count(), records);
    mem.config = 0; /* a caller that never set it */
    assert_int_equal(eas_engine_init(&other, &cfg, &mem, &net, test_hal(), on_event, NULL),
                     EAS_ERR_CONFIG);
    /* A unit built on the documented defaults: accepted only when the library's
       configuration is the defaults (the "defaults" preset), refused otherwise. */
    mem.config = fp_defaults();
    int rc = eas_engine_init(&other, &cfg, &mem, &net, test_hal(), on_event, NULL);
    if (fp_defaults_max_folders() != CONFIG_EAS_MAX_FOLDERS) {
        assert_int_not_equal(fp_defaults(), EAS_CONFIG_FINGERPRINT);
    }
    assert_int_equal(rc, fp_defaults() == EAS_CONFIG_FINGERPRINT ? EAS_OK : EAS_ERR_CONFIG);
    if (rc == EAS_OK) {
        eas_engine_close(&other);
    }
}

/* Fuzz findings: a SyncKey 0 request refused (Status 3) or answered with an empty 200 is
 * retried only after the back-off, never at once [S 2.9]. */
static int loop_mode;
static void h_key0_loop(const srv_req_t *rq, int n)
{
    if (!strcmp(rq->cmd, "Sync")) {
        req_times[n - 1 < 63 ? n - 1 : 63] = now;
        if (loop_mode == 0) {
            resp_sync(3, "0", 0, NULL, NULL, NULL);
        } /* else: empty 200 */
        return;
    }
    h_first(rq, n);
}

static void key0_loop_case(int mode)
{
    loop_mode = mode;
    memset(req_times, 0, sizeof(req_times));
    handler = h_key0_loop;
    engine_start();
    assert_int_equal(run(10), EAS_OK);
    int syncs = 0;
    uint64_t prev = 0;
    for (int i = 0; i < 10; i++) {
        if (!strcmp(reqs[i].cmd, "Sync")) {
            assert_non_null(strstr(reqs[i].body, "<SyncKey>0</>"));
            if (syncs++ > 0) {
                assert_true(req_times[i] - prev >= CONFIG_EAS_BACKOFF_MIN_MS / 2);
            }
            prev = req_times[i];
        }
    }
    assert_true(syncs >= 3);
}

static void test_key0_status3_backs_off(void **st)
{
    (void)st;
    key0_loop_case(0);
}

static void test_key0_empty_answer_backs_off(void **st)
{
    (void)st;
    key0_loop_case(1);
}

/* ------------------------------ Settings DeviceInformation ------------------------------ */

static int count_req(const char *cmd, int from)
{
    int c = 0;
    for (int i = from; i < nreq; i++) {
        c += !strcmp(reqs[i].cmd, cmd);
    }
    return c;
}

/* Sent once per account, after provisioning and before the first FolderSync; again only
   when a value changes (a firmware update with a new OS string), then once more. */
static void test_devinfo_once_and_on_change(void **st)
{
    (void)st;
    handler = h_first;
    cfg_devinfo = (eas_device_info_t){"Acme Panel 7", "Kitchen", "AcmeOS 1.0", "de-DE"};
    engine_start();
    assert_int_equal(run(8), EAS_OK);
    assert_string_equal(reqs[2].cmd, "Settings");
    /* every value, in the schema's order, with the User-Agent the HTTP layer sends */
    assert_string_equal(reqs[2].body, "<Settings><DeviceInformation><Set><Model>Acme Panel 7</>"
                                      "<FriendlyName>Kitchen</><OS>AcmeOS 1.0</>"
                                      "<OSLanguage>de-DE</><UserAgent>easd/0.1</></></></>");
    assert_string_equal(reqs[2].user_agent, "easd/0.1");
    assert_int_equal(count_req("Settings", 0), 1);
    /* The same description in the first Provision (14.1). */
    assert_non_null(strstr(reqs[1].body, "<DeviceInformation><Set><Model>Acme Panel 7</>"
                                         "<FriendlyName>Kitchen</><OS>AcmeOS 1.0</>"));

    /* Restarts with the same values: never again. */
    for (int k = 0; k < 2; k++) {
        int before = nreq;
        engine_start();
        assert_int_equal(run(before + 3), EAS_OK);
        assert_int_equal(count_req("Settings", before), 0);
        assert_string_equal(reqs[before].cmd, "FolderSync");
    }

    /* The firmware update changed the OS string: sent again, first thing, once. */
    cfg_devinfo.os = "AcmeOS 1.1";
    int before = nreq;
    engine_start();
    assert_int_equal(run(before + 4), EAS_OK);
    assert_string_equal(reqs[before].cmd, "Settings");
    assert_non_null(strstr(reqs[before].body, "<OS>AcmeOS 1.1</>"));
    assert_string_equal(reqs[before + 1].cmd, "FolderSync");
    before = nreq;
    engine_start();
    assert_int_equal(run(before + 3), EAS_OK);
    assert_int_equal(count_req("Settings", before), 0);

    /* A new User-Agent (another easd release) counts as a change too. */
    cfg_user_agent = "AcmePanel/2.0";
    before = nreq;
    engine_start();
    assert_int_equal(run(before + 4), EAS_OK);
    assert_string_equal(reqs[before].cmd, "Settings");
    assert_non_null(strstr(reqs[before].body, "<UserAgent>AcmePanel/2.0</>"));
    assert_string_equal(reqs[before].user_agent, "AcmePanel/2.0"); /* the header says the same */
    assert_null(strstr(evlog, "ERR"));
}

/* Refused (access denied, invalid arguments, denied by policy): reported, sync goes on at
   once; not persisted, so the next run asks once more - never a loop within one run. */
static void test_devinfo_refused_sync_goes_on(void **st)
{
    (void)st;
    handler = h_first;
    settings_di_status = 7; /* denied by policy */
    engine_start();
    assert_int_equal(run(8), EAS_OK);
    assert_string_equal(reqs[2].cmd, "Settings");
    assert_string_equal(reqs[3].cmd, "FolderSync");
    assert_string_equal(reqs[7].cmd, "Ping");
    assert_int_equal(count_req("Settings", 0), 1);
    assert_non_null(strstr(evlog, "ERR"));
    assert_int_equal(eas_engine_state(&eng), EAS_STATE_PINGING);
    int before = nreq;
    engine_start();
    assert_int_equal(run(before + 4), EAS_OK);
    assert_string_equal(reqs[before].cmd, "Settings");
    assert_int_equal(count_req("Settings", before), 1);
}

/* Server unavailable (Settings status 4) or no Settings command at all (HTTP 501): a few
   attempts with the back-off, or none more, then the sync goes on. */
static void h_settings_501(const srv_req_t *rq, int n)
{
    if (!strcmp(rq->cmd, "Settings")) {
        r_status = 501;
        return;
    }
    h_first(rq, n);
}

static void test_devinfo_failures_bounded(void **st)
{
    (void)st;
    handler = h_first;
    settings_status = 4;
    engine_start();
    assert_int_equal(run(10), EAS_OK);
    assert_int_equal(count_req("Settings", 0), 3);
    int fs = find_req("FolderSync", 0);
    assert_int_equal(fs, 5); /* OPTIONS, Provision, Settings x3 */
    assert_string_equal(reqs[9].cmd, "Ping");

    test_hal_reset();
    nreq = 0;
    handler = h_settings_501;
    settings_by_handler = true;
    engine_start();
    assert_int_equal(run(8), EAS_OK);
    assert_int_equal(count_req("Settings", 0), 1);
    assert_string_equal(reqs[3].cmd, "FolderSync");
    assert_string_equal(reqs[7].cmd, "Ping");
}

/* A server that refuses everything with 165 (DeviceInformationRequired) until it has the
   device information: sent again when asked (the server lost it), the refused command runs
   again afterwards. One that keeps refusing stops the account, bounded, no loop. */
static bool srv_has_devinfo;
static int srv_settings_status;
static void h_devinfo_required(const srv_req_t *rq, int n)
{
    if (!strcmp(rq->cmd, "Settings")) {
        srv_has_devinfo = srv_settings_status == 1;
        resp_settings(1, srv_settings_status);
        return;
    }
    if (!srv_has_devinfo && !strcmp(rq->cmd, "FolderSync")) {
        rb();
        eas_wbxml_enc_start(&E, EAS_FOLDERHIERARCHY_FOLDER_SYNC);
        eas_wbxml_enc_elem_uint(&E, EAS_FOLDERHIERARCHY_STATUS, 165);
        eas_wbxml_enc_end(&E);
        rdone();
        return;
    }
    if (!srv_has_devinfo && !strcmp(rq->cmd, "Sync")) {
        rb();
        eas_wbxml_enc_start(&E, EAS_AIRSYNC_SYNC);
        eas_wbxml_enc_elem_uint(&E, EAS_AIRSYNC_STATUS, 165);
        eas_wbxml_enc_end(&E);
        rdone();
        return;
    }
    if (!srv_has_devinfo && !strcmp(rq->cmd, "Ping")) {
        resp_ping(165);
        return;
    }
    h_first(rq, n);
}

static void test_devinfo_required_165(void **st)
{
    (void)st;
    handler = h_devinfo_required;
    settings_by_handler = true;
    srv_settings_status = 1;
    srv_has_devinfo = false;
    engine_start();
    assert_int_equal(run(8), EAS_OK);
    assert_string_equal(reqs[2].cmd, "Settings");
    assert_string_equal(reqs[3].cmd, "FolderSync");
    assert_string_equal(reqs[7].cmd, "Ping");
    assert_null(strstr(evlog, "ERR"));

    /* The server forgot the device (partnership removed): 165 on the next Sync. */
    srv_has_devinfo = false;
    int before = nreq;
    engine_start();
    assert_int_equal(run(before + 5), EAS_OK);
    assert_string_equal(reqs[before].cmd, "FolderSync"); /* 165 */
    assert_string_equal(reqs[before + 1].cmd, "Settings");
    assert_string_equal(reqs[before + 2].cmd, "FolderSync"); /* the refused one again */
    assert_string_equal(reqs[before + 3].cmd, "Sync");
    assert_string_equal(reqs[before + 4].cmd, "Ping");
    assert_int_equal(eas_engine_state(&eng), EAS_STATE_PINGING);

    /* Refuses the device information and everything else: stopped after a bounded number
       of requests, the status says why; time passing sends nothing more. */
    test_hal_reset();
    nreq = 0;
    evlog[0] = '\0';
    srv_has_devinfo = false;
    srv_settings_status = 3; /* access denied */
    engine_start();
    assert_int_equal(run(50), EAS_ERR_FORBIDDEN);
    assert_int_equal(eas_engine_state(&eng), EAS_STATE_BLOCKED);
    /* OPTIONS, Provision, Settings (refused), FolderSync (165), Settings (asked once more,
       refused), FolderSync (165): stop. */
    assert_int_equal(nreq, 6);
    assert_int_equal(count_req("Settings", 0), 2);
    int sent = nreq;
    now += 24u * 3600u * 1000u;
    assert_int_equal(run(50), EAS_ERR_FORBIDDEN);
    assert_int_equal(nreq, sent);
    /* The application restarts it: one more round, still bounded. */
    assert_int_equal(eas_engine_restart(&eng), EAS_OK);
    assert_int_equal(run(50), EAS_ERR_FORBIDDEN);
    assert_int_equal(nreq, sent + 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_first_sync_then_restart, setup),
        cmocka_unit_test_setup(test_config_fingerprint, setup),
        cmocka_unit_test_setup(test_state_rebuilt_from_events, setup),
        cmocka_unit_test_setup(test_no_push_sync_once_then_rest, setup),
        cmocka_unit_test_setup(test_no_push_off_pings, setup),
#if CONFIG_EAS_OUTBOX
        cmocka_unit_test_setup(test_no_push_local_change_sent, setup),
#endif
#if CONFIG_EAS_FETCH
        cmocka_unit_test_setup(test_no_push_fetch_sent, setup),
#endif
        cmocka_unit_test_setup(test_no_push_backoff_then_rest, setup),
        cmocka_unit_test_setup(test_449_reprovision_and_replay, setup),
        cmocka_unit_test_setup(test_policy_refused, setup),
        cmocka_unit_test_setup(test_policy_partial_ack_refused, setup),
        cmocka_unit_test_setup(test_401_no_retry_storm, setup),
#if CONFIG_EAS_OUTBOX
        cmocka_unit_test_setup(test_status3_recovery_keeps_outbox, setup),
#else
        cmocka_unit_test_setup(test_outbox_compiled_out, setup),
#endif
        cmocka_unit_test_setup(test_repeated_sync_key, setup),
        cmocka_unit_test_setup(test_backoff_on_503, setup),
        cmocka_unit_test_setup(test_backoff_starts, setup),
        cmocka_unit_test_setup(test_local_only_changes_and_reply_all, setup),
        cmocka_unit_test_setup(test_calendar_items_parsed_in_order, setup),
        cmocka_unit_test_setup(test_451_follow_and_persist, setup),
        cmocka_unit_test_setup(test_451_same_url_is_a_loop, setup),
        cmocka_unit_test_setup(test_451_chain_capped, setup),
        cmocka_unit_test_setup(test_451_other_host_needs_approval, setup),
        cmocka_unit_test_setup(test_451_port_and_scheme, setup),
        cmocka_unit_test_setup(test_stored_redirect_rules, setup),
        cmocka_unit_test_setup(test_plaintext_credentials_refused, setup),
        cmocka_unit_test_setup(test_retry_after_capped, setup),
        cmocka_unit_test_setup(test_corrupt_records_recovered, setup),
        cmocka_unit_test_setup(test_ping_reject_status3, setup),
        cmocka_unit_test_setup(test_ping_reject_status7, setup),
        cmocka_unit_test_setup(test_ping_reject_status132, setup),
        cmocka_unit_test_setup(test_ping_statuses, setup),
        cmocka_unit_test_setup(test_heartbeat_getter, setup),
#if CONFIG_EAS_MEETING_RESPONSE
        cmocka_unit_test_setup(test_meeting_response_sent_once, setup),
        cmocka_unit_test_setup(test_meeting_response_crash_invitation, setup),
        cmocka_unit_test_setup(test_meeting_response_crash_calendar, setup),
        cmocka_unit_test_setup(test_meeting_response_requeue_after_crash, setup),
        cmocka_unit_test_setup(test_meeting_response_dup_server_inbox, setup),
#else
        cmocka_unit_test_setup(test_meeting_response_compiled_out, setup),
#endif
#if CONFIG_EAS_FETCH
        cmocka_unit_test_setup(test_fetch_item_body, setup),
        cmocka_unit_test_setup(test_fetch_attachment_retry, setup),
        cmocka_unit_test_setup(test_fetch_not_found_final, setup),
#else
        cmocka_unit_test_setup(test_fetch_compiled_out, setup),
#endif
#if CONFIG_EAS_MOVE
        cmocka_unit_test_setup(test_move_item, setup),
        cmocka_unit_test_setup(test_move_lost_answer, setup),
        cmocka_unit_test_setup(test_move_status111, setup),
        cmocka_unit_test_setup(test_move_status177, setup),
#else
        cmocka_unit_test_setup(test_move_compiled_out, setup),
#endif
        cmocka_unit_test_setup(test_provision_status177, setup),
        cmocka_unit_test_setup(test_provision_status111, setup),
#if CONFIG_EAS_ESTIMATE
        cmocka_unit_test_setup(test_estimate_progress, setup),
#else
        cmocka_unit_test_setup(test_estimate_compiled_out, setup),
#endif
        cmocka_unit_test_setup(test_estimate_off, setup),
#if CONFIG_EAS_EMAIL
        cmocka_unit_test_setup(test_send_mail, setup),
        cmocka_unit_test_setup(test_send_mail_lost_answer_restart, setup),
        cmocka_unit_test_setup(test_send_mail_12_1, setup),
#endif
        cmocka_unit_test_setup(test_sync_response_cut_everywhere, setup),
        cmocka_unit_test_setup(test_store_failure_at_commit, setup),
        cmocka_unit_test_setup(test_key0_status3_backs_off, setup),
        cmocka_unit_test_setup(test_key0_empty_answer_backs_off, setup),
        cmocka_unit_test_setup(test_devinfo_once_and_on_change, setup),
        cmocka_unit_test_setup(test_devinfo_refused_sync_goes_on, setup),
        cmocka_unit_test_setup(test_devinfo_failures_bounded, setup),
        cmocka_unit_test_setup(test_devinfo_required_165, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
