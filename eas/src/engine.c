/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The account engine: OPTIONS → Provision → FolderSync → Sync → Ping, driven by eas_step().
 *
 * One request at a time. Each operation (op) builds its body with a proto_* module, streams
 * the response into that module's parser and, once the response is complete and parsed,
 * applies it and commits the state it carries. Every failure goes through fail_backoff(),
 * the only place that schedules a retry, so no failure path can resend in a tight loop.
 */
#include <stdio.h>
#include <string.h>

#include "eas/eas_config_defaults.h"
#include "eas/eas_engine.h"
#include "eas/eas_http.h"
#include "eas/eas_wbxml.h"
#include "eas_log.h"
#include "eas_proto.h"
#include "eas_state.h"
#include "hal/hal_rng.h"

#define MOD "engine"

enum op {
    OP_NONE = 0,
    OP_OPTIONS,
    OP_PROV_POLICY,
    OP_PROV_ACK,
    OP_PROV_WIPE_ACK,
    OP_FOLDERSYNC,
    OP_SYNC,
    OP_PING,
    OP_MEETING,
    OP_FETCH,
    OP_MOVE,
    OP_ESTIMATE,
    OP_SEND
};

/* Outbox kinds that travel inside Sync (the others are commands of their own). */
#define SYNC_KIND(k) ((k) >= EAS_OUTBOX_ADD && (k) <= EAS_OUTBOX_DELETE)

/* Engine-private folder flag: not (yet) seen in a FolderSync restarted from key 0. */
#define FOLDER_F_UNSEEN 0x80u
/* [S 2.15] Ping rejected without naming the folder: the folders that may be the cause, and
   the half of them the next Ping carries (bisection). Never persisted. */
#define FOLDER_F_SUSPECT 0x40u
#define FOLDER_F_PROBE   0x20u

/* Most folders in one Ping (the server may ask for fewer with status 6). */
#define PING_LIST_MAX 16u

/* Outbox in-flight states (slot.in_flight). */
#define OB_SENT 1u
#define OB_DONE 2u /* answered: remove before committing the new sync key */
/* slot.reserved: a maybe-delivered MeetingResponse was checked against a calendar sync. */
#define MR_CHECKED 0x0001u

#define SUPPORTED_VERSIONS                                                                         \
    (EAS_HTTP_VER_BIT_12_1 | EAS_HTTP_VER_BIT_14_0 | EAS_HTTP_VER_BIT_14_1 |                       \
     EAS_HTTP_VER_BIT_16_0 | EAS_HTTP_VER_BIT_16_1)

typedef struct eng_priv {
    eas_http_client_t http;
    eas_http_request_t req;
    eas_http_param_t param;
    eas_wbxml_dec_t dec;
    union {
        eas_prov_parser_t prov;
        eas_fs_parser_t fs;
        eas_sync_parser_t sync;
        eas_ping_parser_t ping;
        eas_meeting_parser_t meet;
        eas_fetch_parser_t fetch;
        eas_move_parser_t move;
        eas_estimate_parser_t est;
        eas_compose_parser_t compose;
    } u;
    eas_outbox_t ob;
    uint8_t encbuf[96];
    char temp_key[EAS_ID_CAP];
    uint64_t wake_ms; /* back-off end / next Ping; 0 = none */
    uint64_t now_ms;
    uint32_t failures;      /* consecutive failures: the back-off exponent */
    uint32_t ping_interval; /* seconds */
    uint32_t ping_max_folders;
    int parse_err;
    unsigned wait_io;
    int stop_err; /* error of a stopped state */
    uint8_t op;
    uint8_t running;   /* an HTTP request is in progress */
    uint8_t replay_op; /* op to replay after re-provisioning [S 2.12] */
    uint8_t prov_attempts;
    uint8_t ack_status;
    uint8_t fs_reset; /* FolderSync restarted from key 0 (status 9) */
    uint8_t cmds_sent;
    uint8_t got_body;
    int16_t cur;    /* folder being synced */
    uint16_t items; /* items applied from the current response */
    uint8_t item_open;
    uint8_t ping_rejected; /* consecutive Ping rejections (3/4/7/132) */
    uint8_t probing;       /* searching the folder a Ping was rejected for */
    uint8_t fs_pending;    /* an incremental FolderSync is due (restart, Sync 8/12) */
    uint8_t item_resp;     /* ResponseType of the calendar item being delivered (0 = none) */
    int16_t mr_slot;       /* outbox slot of the MeetingResponse in flight */
    uint8_t hier_retries;  /* Sync 12 answers in a row: bounded, then back-off */
    uint8_t poll;          /* nothing to ping: wait for wake_ms, then sync everything */
    uint8_t rej_valid;     /* rej_sig holds the folder set of a rejected Ping */
    uint32_t ping_sig;     /* signature of the folder set of the Ping in flight */
    uint32_t rej_sig;
    uint16_t rej_status;
    uint8_t complete_reported;
    uint8_t cal_active;               /* the calendar collector is fed the current item */
    uint16_t cal_depth;               /* depth of the item's ApplicationData */
    int cal_err;                      /* first structural error of the collector */
    uint8_t redirects;                /* HTTP 451 followed in a row (capped, loop-checked) */
    uint8_t url_unsaved;              /* p->url came from a 451 and is not persisted yet */
    char url[CONFIG_EAS_URL_MAX + 1]; /* learned server URL ("" = the configured one) */
    int16_t mv_slot;                  /* outbox slot of the MoveItems in flight */
    int16_t send_slot;                /* outbox slot of the mail in flight */
    /* 12.1 SmartReply/SmartForward query parameters (valid while the request runs) */
    eas_http_param_t send_params[2];
    char send_src_folder[EAS_ID_CAP];
    char send_src_item[EAS_ID_CAP];
    int16_t est_index;  /* folder whose first sync is being estimated / counted (-1 none) */
    uint8_t est_valid;  /* est_total holds the server's estimate */
    uint32_t est_total; /* GetItemEstimate answer */
    uint32_t est_done;  /* items delivered since */
    /* eas_fetch(): one at a time, not persisted */
    uint8_t fetch_pending;
    uint8_t fetch_attempts;
    uint32_t fetch_id;
    uint32_t fetch_next_id;
    char fetch_folder[EAS_ID_CAP];
    char fetch_sid[EAS_ID_CAP];
    char fetch_ref[EAS_FETCH_REF_MAX + 1];
} eng_priv_t;

_Static_assert(sizeof(eng_priv_t) <= sizeof(((eas_engine_t *)0)->priv),
               "eas_engine_t::priv too small for the engine's private state");

static eng_priv_t *P(eas_engine_t *e)
{
    return (eng_priv_t *)(void *)e->priv;
}

static const char *const k_state_names[] = {
    "idle",    "options",     "provisioning",   "foldersync", "syncing", "pinging",
    "backoff", "auth-failed", "policy-refused", "blocked",    "wiped",   "failed"};

const char *eas_engine_state_name(eas_engine_state_t s)
{
    return (unsigned)s < sizeof(k_state_names) / sizeof(k_state_names[0]) ? k_state_names[s] : "?";
}

/* ---- events ---- */

static int emit(eas_engine_t *e, eas_event_t *ev)
{
    return e->cb ? e->cb(e->cb_user, ev) : EAS_OK;
}

static void set_state(eas_engine_t *e, eas_engine_state_t s)
{
    if (e->state != s) {
        eas_event_t ev = {.type = EAS_EV_STATE};
        ev.u.state.state = s;
        ev.u.state.previous = e->state;
        e->state = s;
        EAS_LOGI(MOD, "state %s", eas_engine_state_name(s));
        (void)emit(e, &ev);
    }
}

static void report(eas_engine_t *e, int err, uint16_t status, const char *what, const char *folder)
{
    eas_event_t ev = {.type = EAS_EV_ERROR};
    ev.u.error.err = err;
    ev.u.error.status = status;
    ev.u.error.what = what;
    ev.u.error.folder = folder;
    EAS_LOGW(MOD, "%s: %s (status %u)", what, eas_strerror(err), (unsigned)status);
    (void)emit(e, &ev);
}

static void stop(eas_engine_t *e, eas_engine_state_t s, int err, uint16_t status, const char *what)
{
    eng_priv_t *p = P(e);
    report(e, err, status, what, NULL);
    p->stop_err = err;
    p->wake_ms = 0;
    set_state(e, s);
}

/* ---- back-off: the one retry policy [S 2.9, 2.2] ---- */

static void fetch_end(eas_engine_t *e, uint16_t status, int err, bool final);

static void fail_backoff(eas_engine_t *e, int err, uint16_t status, const char *what,
                         uint32_t retry_after_s)
{
    eng_priv_t *p = P(e);
    if (p->op == OP_FETCH && p->fetch_pending) {
        /* Whatever streamed of this attempt is void; the retry starts with a new BEGIN. */
        bool give_up = ++p->fetch_attempts >= CONFIG_EAS_OUTBOX_MAX_ATTEMPTS;
        fetch_end(e, status, err, give_up);
    }
    uint64_t delay = CONFIG_EAS_BACKOFF_MIN_MS;
    uint32_t r = 0;

    for (uint32_t i = 0; i < p->failures && delay < CONFIG_EAS_BACKOFF_MAX_MS; i++) {
        delay *= 2;
    }
    if (delay > CONFIG_EAS_BACKOFF_MAX_MS) {
        delay = CONFIG_EAS_BACKOFF_MAX_MS;
    }
    /* Jitter in [delay/2, delay): devices that failed together do not retry together. */
    if (hal_rng_fill((uint8_t *)&r, sizeof(r)) != EAS_OK) {
        r = 0;
    }
    delay = delay / 2 + (delay / 2 > 0 ? r % (delay / 2) : 0);
    if ((uint64_t)retry_after_s * 1000u > delay) {
        delay = (uint64_t)retry_after_s * 1000u;
    }
    p->failures++;
    p->wake_ms = p->now_ms + delay;
    report(e, err, status, what, p->cur >= 0 ? e->mem.folders[p->cur].server_id : NULL);
    set_state(e, EAS_STATE_BACKOFF);
}

/* ---- folder helpers ---- */

static int folder_find(const eas_engine_t *e, const char *id)
{
    for (size_t i = 0; i < e->mem.folder_cap; i++) {
        if (e->mem.folders[i].used && strcmp(e->mem.folders[i].server_id, id) == 0) {
            return (int)i;
        }
    }
    return -1;
}

static bool folder_needs_sync(const eas_engine_t *e, size_t i)
{
    const eas_folder_t *f = &e->mem.folders[i];
    const eng_priv_t *p = (const eng_priv_t *)(const void *)e->priv;
    if (!f->used || !(f->flags & EAS_FOLDER_F_SELECTED)) {
        return false;
    }
    if (!(f->flags & EAS_FOLDER_F_SYNCED) || (f->flags & EAS_FOLDER_F_DIRTY)) {
        return true;
    }
    for (size_t s = 0; s < p->ob.cap; s++) {
        if (p->ob.slots[s].seq && p->ob.slots[s].folder == i && SYNC_KIND(p->ob.slots[s].kind)) {
            return true;
        }
    }
    return false;
}

static void folder_select(eas_engine_t *e, eas_folder_t *f)
{
    f->cls = eas_proto_folder_class(f->type);
    if (f->cls & e->cfg->classes) {
        f->flags |= EAS_FOLDER_F_SELECTED;
    } else {
        f->flags &= (uint8_t)~EAS_FOLDER_F_SELECTED;
    }
}

static void outbox_resolve_folders(eas_engine_t *e)
{
    eng_priv_t *p = P(e);
    for (size_t s = 0; s < p->ob.cap; s++) {
        if (!p->ob.slots[s].seq) {
            continue;
        }
        size_t mark = eas_arena_mark(e->mem.arena);
        eas_outbox_entry_t ent;
        if (eas_outbox_read(&p->ob, s, e->mem.arena, &ent) == EAS_OK) {
            int fi = folder_find(e, ent.folder_id);
            p->ob.slots[s].folder = fi >= 0 ? (uint16_t)fi : 0xFFFFu;
        }
        eas_arena_release(e->mem.arena, mark);
    }
}

/* ---- request plumbing ---- */

static int body_fn(void *user, eas_http_write_fn write, void *wctx);
static int sink_fn(void *user, const eas_http_response_t *rsp, const uint8_t *d, size_t n);
static int start_op(eas_engine_t *e, uint8_t op);

static const char *eng_url(const eas_engine_t *e)
{
    const eng_priv_t *p = (const eng_priv_t *)(const void *)e->priv;
    return p->url[0] ? p->url : e->cfg->url;
}

static uint32_t policy_key_u32(const char *k)
{
    uint32_t v = 0;
    for (const char *c = k; *c; c++) {
        if (*c < '0' || *c > '9') {
            return 0;
        }
        v = v * 10u + (uint32_t)(*c - '0');
    }
    return v;
}

/* ---- parser callbacks ---- */

static int on_setting(void *user, uint16_t tag, const char *value)
{
    eas_engine_t *e = user;
    eas_event_t ev = {.type = EAS_EV_POLICY_SETTING};
    ev.u.policy.tag = tag;
    ev.u.policy.value = value;
    return emit(e, &ev);
}

static int on_fs_change(void *user, const eas_proto_folder_t *c)
{
    eas_engine_t *e = user;
    eng_priv_t *p = P(e);
    eas_event_t ev = {.type = EAS_EV_FOLDER};
    int i = folder_find(e, c->server_id);
    int err = EAS_OK;

    ev.u.folder.op = c->op;
    ev.u.folder.display_name = c->display_name;
    if (c->op == EAS_ITEM_DELETE) {
        if (i >= 0) {
            ev.u.folder.entry = &e->mem.folders[i];
            err = emit(e, &ev);
            e->mem.folders[i].used = 0;
        }
        return err;
    }
    if (i < 0 && c->op == EAS_ITEM_ADD) {
        for (size_t k = 0; k < e->mem.folder_cap && k < CONFIG_EAS_MAX_FOLDERS && i < 0; k++) {
            if (!e->mem.folders[k].used) {
                i = (int)k;
                memset(&e->mem.folders[k], 0, sizeof(e->mem.folders[k]));
                strcpy(e->mem.folders[k].sync_key, "0");
            }
        }
        if (i < 0) {
            /* The hierarchy goes on; this folder is reported and left out. */
            report(e, EAS_ERR_LIMIT, 0, "folder table full", c->server_id);
            return EAS_OK;
        }
    } else if (i < 0) {
        return EAS_OK; /* update of a folder we never had: ignore */
    }
    eas_folder_t *f = &e->mem.folders[i];
    bool existed = f->used != 0;
    strcpy(f->server_id, c->server_id);
    strcpy(f->parent_id, c->parent_id[0] ? c->parent_id : "0");
    if (c->type) {
        f->type = c->type;
    }
    f->used = 1;
    f->flags &= (uint8_t)~FOLDER_F_UNSEEN;
    folder_select(e, f);
    (void)p;
    /* Re-adding a known folder after FolderSync key 0 is an update: keep its sync key. */
    ev.u.folder.op = existed ? EAS_ITEM_CHANGE : c->op;
    ev.u.folder.entry = f;
    return emit(e, &ev);
}

static int on_sync_collection(void *user, const char *cid, const char *key, uint32_t status)
{
    eas_engine_t *e = user;
    eng_priv_t *p = P(e);
    (void)key;
    if (status == 1 && strcmp(cid, e->mem.folders[p->cur].server_id) != 0) {
        return EAS_ERR_PROTO; /* items of a folder we did not ask for */
    }
    return EAS_OK;
}

static int on_item_begin(void *user, eas_item_op_t op, const char *sid, bool soft)
{
    eas_engine_t *e = user;
    eng_priv_t *p = P(e);
    eas_folder_t *f = &e->mem.folders[p->cur];
    eas_event_t ev = {.type = EAS_EV_ITEM_BEGIN};
    if (p->u.sync.coll_status != 1) {
        return EAS_ERR_PROTO;
    }
    ev.u.item.op = op;
    ev.u.item.folder = f->server_id;
    ev.u.item.server_id = sid;
    ev.u.item.cls = f->cls;
    ev.u.item.soft_delete = soft;
    p->item_open = 1;
    p->item_resp = 0;
    p->cal_active = 0;
    p->cal_err = EAS_OK;
#if CONFIG_EAS_CALENDAR
    eas_engine_cal_t *c = e->mem.cal;
    if (c && f->cls == EAS_CLASS_CALENDAR && op != EAS_ITEM_DELETE && p->u.sync.appdata_depth) {
        /* The collector sees the item's ApplicationData subtree as the decoder produced it,
           so exceptions land inside their master and nothing is matched by DtStamp. */
        eas_wbxml_event_t open = {.type = EAS_WBXML_EV_START,
                                  .tag = EAS_AIRSYNC_APPLICATION_DATA,
                                  .depth = p->u.sync.appdata_depth,
                                  .has_content = true};
        eas_cal_item_init(&c->item, c->exceptions, c->exceptions ? c->exception_cap : 0,
                          c->attendees, c->attendees ? c->attendee_cap : 0);
        eas_cal_item_parser_init(&c->parser, &c->item, c->device_tz);
        p->cal_depth = p->u.sync.appdata_depth;
        p->cal_err = eas_cal_item_parser_event(&c->parser, &open);
        p->cal_active = 1;
    }
#endif
    return emit(e, &ev);
}

static int on_item_field(void *user, const eas_wbxml_event_t *wev, uint16_t rel)
{
    eas_engine_t *e = user;
    eas_event_t ev = {.type = EAS_EV_ITEM_FIELD};
    ev.u.field.tag = wev->tag;
    ev.u.field.depth = rel;
    ev.u.field.data = wev->data;
    ev.u.field.len = wev->len;
    switch (wev->type) {
    case EAS_WBXML_EV_START:
        ev.u.field.kind = EAS_FIELD_START;
        break;
    case EAS_WBXML_EV_END:
        ev.u.field.kind = EAS_FIELD_END;
        break;
    case EAS_WBXML_EV_TEXT:
        ev.u.field.kind = EAS_FIELD_TEXT;
        break;
    default:
        ev.u.field.kind = EAS_FIELD_OPAQUE;
        break;
    }
    if (wev->type == EAS_WBXML_EV_TEXT || wev->type == EAS_WBXML_EV_OPAQUE) {
        ev.u.field.flags = (wev->piece & EAS_WBXML_PIECE_LAST) ? EAS_FIELD_FINAL : EAS_FIELD_MORE;
    }
    eng_priv_t *p = P(e);
    if (wev->type == EAS_WBXML_EV_TEXT && rel == 1 && wev->tag == EAS_CALENDAR_RESPONSE_TYPE &&
        wev->len == 1 && wev->data[0] >= '0' && wev->data[0] <= '9') {
        p->item_resp = (uint8_t)(wev->data[0] - '0');
    }
#if CONFIG_EAS_CALENDAR
    if (p->cal_active && p->cal_err == EAS_OK) {
        p->cal_err = eas_cal_item_parser_event(&e->mem.cal->parser, wev);
    }
#endif
    return emit(e, &ev);
}

static void outbox_result(eas_engine_t *e, size_t slot, uint16_t status, const char *sid);

/* MeetingResponse ResponseType a calendar item shows once the server applied our reply. */
static uint8_t reply_response_type(uint8_t reply)
{
    return reply == EAS_MEETING_ACCEPT      ? 3u
           : reply == EAS_MEETING_TENTATIVE ? 2u
           : reply == EAS_MEETING_DECLINE   ? 4u
                                            : 0u;
}

/* [S 1.15] A MeetingResponse that may have reached the server before we lost its answer
   (sent at least once) is proven delivered when the server's calendar item now carries our
   answer: it is then done and never sent again. */
static void mr_check_delivered(eas_engine_t *e, const char *sid)
{
    eng_priv_t *p = P(e);
    for (size_t s = 0; s < p->ob.cap; s++) {
        eas_outbox_slot_t *sl = &p->ob.slots[s];
        if (!sl->seq || sl->kind != EAS_OUTBOX_MEETING_RESPONSE || sl->attempts == 0 ||
            sl->folder != (uint16_t)p->cur || sl->in_flight == OB_DONE) {
            continue;
        }
        size_t mark = eas_arena_mark(e->mem.arena);
        eas_outbox_entry_t ent;
        if (eas_outbox_read(&p->ob, s, e->mem.arena, &ent) == EAS_OK &&
            strcmp(ent.server_id, sid) == 0 && ent.instance_id[0] == '\0' &&
            reply_response_type(ent.reply) == p->item_resp) {
            EAS_LOGI(MOD, "meeting response already applied by the server; not resent");
            outbox_result(e, s, 1, sid);
            sl->in_flight = OB_DONE; /* removed before the new sync key is committed */
        }
        eas_arena_release(e->mem.arena, mark);
    }
}

static int on_item_end(void *user, eas_item_op_t op, const char *sid)
{
    eas_engine_t *e = user;
    eng_priv_t *p = P(e);
    eas_event_t ev = {.type = EAS_EV_ITEM_END};
    ev.u.item.op = op;
    ev.u.item.folder = e->mem.folders[p->cur].server_id;
    ev.u.item.server_id = sid;
    ev.u.item.cls = e->mem.folders[p->cur].cls;
    p->item_open = 0;
    p->items++;
    if (p->est_index == p->cur && op != EAS_ITEM_DELETE) {
        p->est_done++;
    }
    if (p->item_resp && op != EAS_ITEM_DELETE) {
        mr_check_delivered(e, sid);
    }
#if CONFIG_EAS_CALENDAR
    if (p->cal_active) {
        eas_engine_cal_t *c = e->mem.cal;
        eas_wbxml_event_t close = {
            .type = EAS_WBXML_EV_END, .tag = EAS_AIRSYNC_APPLICATION_DATA, .depth = p->cal_depth};
        int err = p->cal_err;
        if (err == EAS_OK) {
            err = eas_cal_item_parser_event(&c->parser, &close);
        }
        if (err == EAS_OK) {
            err = eas_cal_item_parser_finish(&c->parser);
        }
        if (err == EAS_OK) {
            err = eas_cal_item_check(&c->item);
        }
        p->cal_active = 0;
        ev.u.item.cal = &c->item;
        ev.u.item.cal_err = err;
    }
#endif
    return emit(e, &ev);
}

static void outbox_result(eas_engine_t *e, size_t slot, uint16_t status, const char *sid)
{
    eng_priv_t *p = P(e);
    eas_event_t ev = {.type = EAS_EV_OUTBOX_RESULT};
    ev.u.outbox.kind = (eas_outbox_kind_t)p->ob.slots[slot].kind;
    ev.u.outbox.id = p->ob.slots[slot].seq;
    ev.u.outbox.status = status;
    ev.u.outbox.server_id = sid;
    ev.u.outbox.final = true;
    (void)emit(e, &ev);
}

/* The ClientId of an outbox Add: the random one stored with it, or for an entry written
   before ClientIds were random, its outbox id. */
static const char *add_client_id(const eas_outbox_entry_t *ent, char *buf, size_t cap)
{
    if (ent->instance_id && ent->instance_id[0]) {
        return ent->instance_id;
    }
    snprintf(buf, cap, "%u", (unsigned)ent->seq);
    return buf;
}

static int on_sync_response(void *user, uint16_t kind, const char *cid, const char *sid,
                            uint32_t status)
{
    eas_engine_t *e = user;
    eng_priv_t *p = P(e);
    for (size_t s = 0; s < p->ob.cap; s++) {
        eas_outbox_slot_t *sl = &p->ob.slots[s];
        if (sl->in_flight != OB_SENT) {
            continue;
        }
        bool match = false;
        if (kind == EAS_AIRSYNC_ADD && sl->kind == EAS_OUTBOX_ADD) {
            size_t mark = eas_arena_mark(e->mem.arena);
            eas_outbox_entry_t ent;
            char buf[EAS_ID_CAP];
            match = cid && eas_outbox_read(&p->ob, s, e->mem.arena, &ent) == EAS_OK &&
                    strcmp(add_client_id(&ent, buf, sizeof(buf)), cid) == 0;
            eas_arena_release(e->mem.arena, mark);
        } else if ((kind == EAS_AIRSYNC_CHANGE && sl->kind == EAS_OUTBOX_CHANGE) ||
                   (kind == EAS_AIRSYNC_DELETE && sl->kind == EAS_OUTBOX_DELETE)) {
            size_t mark = eas_arena_mark(e->mem.arena);
            eas_outbox_entry_t ent;
            match = eas_outbox_read(&p->ob, s, e->mem.arena, &ent) == EAS_OK &&
                    strcmp(ent.server_id, sid) == 0;
            eas_arena_release(e->mem.arena, mark);
        }
        if (match) {
            /* Success or a per-item failure: either way it is final, never retried
               forever; the application hears the status [S 1.13]. */
            outbox_result(e, s, (uint16_t)status, sid);
            if (status != 1) {
                report(e, EAS_ERR_SERVER, (uint16_t)status, "outbox item rejected", NULL);
            }
            sl->in_flight = OB_DONE;
            break;
        }
    }
    return EAS_OK;
}

static const eas_sync_item_cbs_t k_sync_cbs = {on_item_begin, on_item_field, on_item_end,
                                               on_sync_response, on_sync_collection};

static int on_ping_folder(void *user, const char *id)
{
    eas_engine_t *e = user;
    int i = folder_find(e, id);
    if (i >= 0) {
        e->mem.folders[i].flags |= EAS_FOLDER_F_DIRTY;
    }
    return EAS_OK;
}

/* ---- request bodies ---- */

static int sync_commands(void *user, eas_wbxml_enc_t *enc)
{
    eas_engine_t *e = user;
    eng_priv_t *p = P(e);
    uint32_t last = 0;
    /* In queue order (seq), so local changes reach the server in the order they were made. */
    for (;;) {
        long best = -1;
        for (size_t s = 0; s < p->ob.cap; s++) {
            const eas_outbox_slot_t *sl = &p->ob.slots[s];
            if (sl->in_flight == OB_SENT && sl->seq > last &&
                (best < 0 || sl->seq < p->ob.slots[best].seq)) {
                best = (long)s;
            }
        }
        if (best < 0) {
            break;
        }
        last = p->ob.slots[best].seq;
        size_t mark = eas_arena_mark(e->mem.arena);
        eas_outbox_entry_t ent;
        int err = eas_outbox_read(&p->ob, (size_t)best, e->mem.arena, &ent);
        if (err == EAS_OK) {
            if (ent.kind == EAS_OUTBOX_ADD) {
                char cid[EAS_ID_CAP];
                eas_wbxml_enc_start(enc, EAS_AIRSYNC_ADD);
                eas_wbxml_enc_elem_text(enc, EAS_AIRSYNC_CLIENT_ID,
                                        add_client_id(&ent, cid, sizeof(cid)));
            } else {
                eas_wbxml_enc_start(enc, ent.kind == EAS_OUTBOX_CHANGE ? EAS_AIRSYNC_CHANGE
                                                                       : EAS_AIRSYNC_DELETE);
                eas_wbxml_enc_elem_text(enc, EAS_AIRSYNC_SERVER_ID, ent.server_id);
            }
            if (ent.kind != EAS_OUTBOX_DELETE) {
                size_t pos = 0;
                eas_field_t f;
                eas_wbxml_enc_start(enc, EAS_AIRSYNC_APPLICATION_DATA);
                while (eas_outbox_field_next(ent.fields, ent.fields_len, &pos, &f) == 1) {
                    if (f.kind == EAS_FIELD_START) {
                        eas_wbxml_enc_start(enc, f.tag);
                    } else if (f.kind == EAS_FIELD_END) {
                        eas_wbxml_enc_end(enc);
                    } else {
                        eas_wbxml_enc_start(enc, f.tag);
                        if (f.kind == EAS_FIELD_TEXT) {
                            eas_wbxml_enc_text(enc, f.data, f.len);
                        } else {
                            /* Byte-identical (e.g. the TimeZone blob) [S 1.11]. */
                            eas_wbxml_enc_opaque(enc, f.data, f.len);
                        }
                        eas_wbxml_enc_end(enc);
                    }
                }
                eas_wbxml_enc_end(enc);
            }
            eas_wbxml_enc_end(enc);
        }
        eas_arena_release(e->mem.arena, mark);
        if (enc->err != EAS_OK) {
            return enc->err;
        }
        if (err != EAS_OK) {
            return err;
        }
    }
    return EAS_OK;
}

/* ---- the Ping folder set ---- */

static bool folder_pingable(const eas_folder_t *f)
{
    return f->used && (f->flags & EAS_FOLDER_F_SELECTED) && f->cls &&
           !(f->flags & EAS_FOLDER_F_NO_PING);
}

/* The folders of the next Ping: every pingable one, or only the probe half of the suspects
   while the folder a rejected Ping was about is searched. */
static size_t ping_set(const eas_engine_t *e, eas_ping_folder_t *list, size_t cap)
{
    const eng_priv_t *p = (const eng_priv_t *)(const void *)e->priv;
    size_t n = 0;
    uint32_t maxf = p->ping_max_folders ? p->ping_max_folders : PING_LIST_MAX;
    for (size_t i = 0; i < e->mem.folder_cap && n < cap && n < maxf; i++) {
        const eas_folder_t *f = &e->mem.folders[i];
        if (folder_pingable(f) && (!p->probing || (f->flags & FOLDER_F_PROBE))) {
            list[n].id = f->server_id;
            list[n].cls = f->cls;
            n++;
        }
    }
    return n;
}

/* Identity of a Ping's folder set: a rejected set is never sent again as it was. */
static uint32_t ping_sig(const eas_ping_folder_t *list, size_t n)
{
    uint32_t c = 0;
    for (size_t i = 0; i < n; i++) {
        c = eas_crc32(c, (const uint8_t *)list[i].id, strlen(list[i].id) + 1);
        c = eas_crc32(c, &list[i].cls, 1);
    }
    return c;
}

#if CONFIG_EAS_EMAIL
/* A mail entry keeps its parameters in the record's strings: folder_id/server_id = the
   original (or "0"/""), reply = command, instance_id = "<flags> <mime_id> <mime_len> <ClientId>"
   (flags: 1 SaveInSentItems, 2 ReplaceMime). The record is untrusted input: parse strictly. */
/* Next space-separated decimal field of *s (at most 20 digits); false when malformed. */
static bool parse_u64(const char **s, uint64_t *v)
{
    const char *c = *s;
    uint64_t x = 0;
    int digits = 0;
    while (*c >= '0' && *c <= '9' && digits < 20) {
        x = x * 10u + (uint64_t)(*c - '0');
        c++;
        digits++;
    }
    if (digits == 0 || *c != ' ') {
        return false;
    }
    *s = c + 1;
    *v = x;
    return true;
}

static int mail_params(const eas_outbox_entry_t *ent, eas_compose_req_t *r)
{
    const char *c = ent->instance_id;
    uint64_t flags = 0, mime_id = 0, len = 0;
    memset(r, 0, sizeof(*r));
    if (!parse_u64(&c, &flags) || !parse_u64(&c, &mime_id) || !parse_u64(&c, &len) ||
        strlen(c) != 16 || strspn(c, "0123456789abcdef") != 16 || flags > 3u ||
        mime_id > UINT32_MAX || len == 0 || len > CONFIG_EAS_MAIL_MAX_BYTES ||
        ent->reply < EAS_MAIL_SEND || ent->reply > EAS_MAIL_FORWARD ||
        (ent->reply != EAS_MAIL_SEND && !ent->server_id[0])) {
        return EAS_ERR_STORE_CORRUPT;
    }
    r->cmd = (eas_mail_cmd_t)ent->reply;
    /* Points into the entry's record (the caller's arena): r lives no longer than ent, and no
       static buffer is shared between engines (one per account, possibly on one thread). */
    r->client_id = c;
    r->src_folder = ent->folder_id;
    r->src_item = ent->server_id;
    r->save_in_sent = (flags & 1u) != 0;
    r->replace_mime = (flags & 2u) != 0;
    r->mime_id = (uint32_t)mime_id;
    r->mime_len = len;
    return EAS_OK;
}
#endif

#if CONFIG_EAS_EMAIL
/* 12.1 SendMail body: the MIME bytes as they are, read in pieces; stops at "buffer full". */
static int mime_raw(const eas_compose_req_t *r, eas_http_write_fn write, void *wctx)
{
    uint8_t buf[256];
    int err = EAS_OK;
    for (uint64_t off = 0; err == EAS_OK && off < r->mime_len; off += sizeof(buf)) {
        size_t n = r->mime_len - off > sizeof(buf) ? sizeof(buf) : (size_t)(r->mime_len - off);
        err = r->read(r->read_user, r->mime_id, off, buf, n);
        if (err == EAS_OK) {
            err = write(wctx, buf, n);
        }
    }
    return err;
}
#endif

/* Sync FilterType of a folder (-1: none), shared by Sync and GetItemEstimate. */
static int folder_filter(const eas_engine_t *e, const eas_folder_t *f)
{
    if (f->cls == EAS_CLASS_CALENDAR && e->cfg->calendar_filter) {
        return e->cfg->calendar_filter;
    }
    if (f->cls == EAS_CLASS_EMAIL && e->cfg->email_filter) {
        return e->cfg->email_filter;
    }
    return -1;
}

static int body_fn(void *user, eas_http_write_fn write, void *wctx)
{
    eas_engine_t *e = user;
    eng_priv_t *p = P(e);
    eas_wbxml_enc_t enc;

    eas_wbxml_enc_init(&enc, p->encbuf, sizeof(p->encbuf), write, wctx);
    switch (p->op) {
    case OP_PROV_POLICY:
    case OP_PROV_ACK:
    case OP_PROV_WIPE_ACK: {
        eas_prov_req_t r = {.kind = p->op == OP_PROV_POLICY ? EAS_PROV_REQ_POLICY
                                    : p->op == OP_PROV_ACK  ? EAS_PROV_REQ_ACK
                                                            : EAS_PROV_REQ_WIPE_ACK,
                            .version = e->version,
                            .policy_key = p->temp_key,
                            .ack_status = p->ack_status,
                            .user_agent = e->cfg->user_agent};
        eas_proto_provision_build(&enc, &r);
        break;
    }
    case OP_FOLDERSYNC:
        eas_proto_foldersync_build(&enc, e->hierarchy_key);
        break;
    case OP_SYNC: {
        const eas_folder_t *f = &e->mem.folders[p->cur];
        int filter = folder_filter(e, f);
        /* The decoder refuses strings over CONFIG_EAS_WBXML_MAX_STRING; asking for more
           would make one long body fail the folder on every retry. */
        uint32_t trunc = e->cfg->body_truncation;
        if (trunc == 0 || trunc > CONFIG_EAS_WBXML_MAX_STRING - 16u) {
            trunc = CONFIG_EAS_WBXML_MAX_STRING - 16u;
        }
        eas_sync_req_t r = {.collection_id = f->server_id,
                            .sync_key = f->sync_key,
                            .cls = f->cls,
                            .version = e->version,
                            .window_size = e->cfg->window_size ? e->cfg->window_size : 100,
                            .get_changes = true,
                            .filter_type = filter,
                            .body_type = e->cfg->body_type ? e->cfg->body_type : 1,
                            .body_truncation = trunc,
                            .commands = p->cmds_sent ? sync_commands : NULL,
                            .commands_user = e};
        eas_proto_sync_build(&enc, &r);
        break;
    }
    case OP_PING: {
        eas_ping_folder_t list[PING_LIST_MAX];
        size_t n = ping_set(e, list, PING_LIST_MAX);
        eas_proto_ping_build(&enc, p->ping_interval, list, n);
        break;
    }
    case OP_FETCH: {
        eas_fetch_req_t r = {p->fetch_folder, p->fetch_sid, p->fetch_ref, e->cfg->body_type};
        eas_proto_fetch_build(&enc, &r);
        break;
    }
    case OP_ESTIMATE: {
        const eas_folder_t *f = &e->mem.folders[p->cur];
        eas_estimate_req_t r = {f->server_id, f->sync_key, f->cls, e->version, folder_filter(e, f)};
        eas_proto_estimate_build(&enc, &r);
        break;
    }
#if CONFIG_EAS_EMAIL
    case OP_SEND: {
        size_t mark = eas_arena_mark(e->mem.arena);
        eas_outbox_entry_t ent;
        eas_compose_req_t r;
        int err = eas_outbox_read(&p->ob, (size_t)p->send_slot, e->mem.arena, &ent);
        if (err == EAS_OK) {
            err = mail_params(&ent, &r);
        }
        if (err == EAS_OK) {
            r.read = e->cfg->mime_read;
            r.read_user = e->cfg->mime_user;
            if (!r.read) {
                err = EAS_ERR_UNSUPPORTED;
            } else if (e->version < EAS_VER_14_0) {
                /* 12.1: the body is the message itself (parameters in the query). */
                eas_arena_release(e->mem.arena, mark);
                return mime_raw(&r, write, wctx);
            } else {
                err = eas_proto_compose_build(&enc, &r);
            }
        }
        eas_arena_release(e->mem.arena, mark);
        if (err != EAS_OK) {
            return err;
        }
        break;
    }
#endif
    case OP_MOVE: {
        size_t mark = eas_arena_mark(e->mem.arena);
        eas_outbox_entry_t ent;
        /* The destination folder travels in the entry's instance_id string. */
        int err = eas_outbox_read(&p->ob, (size_t)p->mv_slot, e->mem.arena, &ent);
        if (err == EAS_OK) {
            eas_proto_move_build(&enc, ent.server_id, ent.folder_id, ent.instance_id);
        }
        eas_arena_release(e->mem.arena, mark);
        if (err != EAS_OK) {
            return err;
        }
        break;
    }
    case OP_MEETING: {
        size_t mark = eas_arena_mark(e->mem.arena);
        eas_outbox_entry_t ent;
        int err = eas_outbox_read(&p->ob, (size_t)p->mr_slot, e->mem.arena, &ent);
        if (err == EAS_OK) {
            eas_meeting_req_t r = {ent.folder_id, ent.server_id, ent.instance_id, ent.reply};
            eas_proto_meeting_build(&enc, &r);
        }
        eas_arena_release(e->mem.arena, mark);
        if (err != EAS_OK) {
            return err;
        }
        break;
    }
    default:
        break;
    }
    return eas_wbxml_enc_finish(&enc);
}

static int sink_fn(void *user, const eas_http_response_t *rsp, const uint8_t *d, size_t n)
{
    eas_engine_t *e = user;
    eng_priv_t *p = P(e);
    int err = EAS_OK;
    if (rsp->status != 200 || p->op == OP_OPTIONS) {
        return EAS_OK; /* error bodies are not parsed */
    }
    /* Some servers answer 200 with an HTML error page (Horde quirk 2): not WBXML. */
    if (rsp->content_type != EAS_HTTP_CTYPE_WBXML || rsp->content_encoded) {
        p->parse_err = EAS_ERR_PROTO;
        return EAS_ERR_PROTO;
    }
    p->got_body = 1;
    err = eas_wbxml_dec_feed(&p->dec, d, n);
    if (err != EAS_OK && p->parse_err == EAS_OK) {
        p->parse_err = err;
    }
    return err;
}

/* ---- progress of a first sync (GetItemEstimate) ---- */

static void progress(eas_engine_t *e)
{
    eng_priv_t *p = P(e);
    eas_event_t ev = {.type = EAS_EV_PROGRESS};
    ev.u.progress.folder = e->mem.folders[p->est_index].server_id;
    ev.u.progress.estimate = p->est_total;
    ev.u.progress.done = p->est_done;
    (void)emit(e, &ev);
}

/* ---- ItemOperations Fetch ---- */

static void fetch_event(eas_engine_t *e, eas_event_type_t type, uint16_t status, int err,
                        bool final)
{
    eng_priv_t *p = P(e);
    eas_event_t ev = {.type = type};
    ev.u.fetch.id = p->fetch_id;
    ev.u.fetch.folder = p->fetch_ref[0] ? NULL : p->fetch_folder;
    ev.u.fetch.server_id = p->fetch_ref[0] ? NULL : p->fetch_sid;
    ev.u.fetch.file_reference = p->fetch_ref[0] ? p->fetch_ref : NULL;
    ev.u.fetch.status = status;
    ev.u.fetch.err = err;
    ev.u.fetch.final = final;
    ev.u.fetch.bytes = p->op == OP_FETCH ? p->u.fetch.bytes : 0;
    (void)emit(e, &ev);
}

static void fetch_end(eas_engine_t *e, uint16_t status, int err, bool final)
{
    eng_priv_t *p = P(e);
    fetch_event(e, EAS_EV_FETCH_END, status, err, final);
    if (final) {
        p->fetch_pending = 0;
    }
}

static int on_fetch_begin(void *user, uint32_t status)
{
    fetch_event(user, EAS_EV_FETCH_BEGIN, (uint16_t)status, EAS_OK, false);
    return EAS_OK;
}

static int on_fetch_data(void *user, const uint8_t *d, size_t n, bool last)
{
    eas_event_t ev = {.type = EAS_EV_ITEM_FIELD};
    ev.u.field.tag = EAS_ITEMOPERATIONS_DATA;
    ev.u.field.depth = 1;
    ev.u.field.kind = EAS_FIELD_OPAQUE;
    ev.u.field.flags = last ? EAS_FIELD_FINAL : EAS_FIELD_MORE;
    ev.u.field.data = d;
    ev.u.field.len = n;
    if (n == 0 && !last) {
        return EAS_OK;
    }
    return emit(user, &ev);
}

static const eas_fetch_cbs_t k_fetch_cbs = {on_fetch_begin, on_item_field, on_fetch_data};

static int start_op(eas_engine_t *e, uint8_t op)
{
    eng_priv_t *p = P(e);
    eas_wbxml_cb_t cb = NULL;
    void *parser = &p->u;
    int err;

    eas_arena_reset(e->mem.arena);
    p->op = op;
    p->parse_err = EAS_OK;
    p->got_body = 0;
    p->items = 0;
    p->item_open = 0;
    p->cal_active = 0;
    memset(&p->req, 0, sizeof(p->req));
    p->req.method = EAS_HTTP_POST;
    p->req.url = eng_url(e);
    p->req.version = e->version;
    p->req.user = e->cfg->user;
    p->req.device_id = e->cfg->device_id;
    p->req.device_type = e->cfg->device_type ? e->cfg->device_type : "easd";
    p->req.body = body_fn;
    p->req.body_user = e;
    p->req.sink = sink_fn;
    p->req.sink_user = e;
    p->req.policy_key = policy_key_u32(e->policy_key);

    switch (op) {
    case OP_OPTIONS:
        p->req.method = EAS_HTTP_OPTIONS;
        p->req.cmd = EAS_CMD_NONE;
        p->req.version = EAS_VER_NONE;
        p->req.body = NULL;
        set_state(e, EAS_STATE_OPTIONS);
        break;
    case OP_PROV_POLICY:
    case OP_PROV_ACK:
    case OP_PROV_WIPE_ACK:
        p->req.cmd = EAS_CMD_PROVISION;
        /* The initial request carries no key; the ack carries the temporary one. */
        p->req.policy_key = op == OP_PROV_ACK ? policy_key_u32(p->temp_key) : 0;
        eas_proto_provision_parser_init(&p->u.prov, on_setting, e);
        cb = eas_proto_provision_event;
        set_state(e, EAS_STATE_PROVISIONING);
        break;
    case OP_FOLDERSYNC:
        p->req.cmd = EAS_CMD_FOLDERSYNC;
        eas_proto_foldersync_parser_init(&p->u.fs, on_fs_change, e);
        cb = eas_proto_foldersync_event;
        set_state(e, EAS_STATE_FOLDERSYNC);
        break;
    case OP_SYNC: {
        eas_folder_t *f = &e->mem.folders[p->cur];
        p->req.cmd = EAS_CMD_SYNC;
        /* Commands only once the folder has a key from a completed GetChanges sync
           (SOGo quirk 2) and at most a window's worth per request. */
        p->cmds_sent = 0;
        size_t budget = e->cfg->window_size ? e->cfg->window_size : 100;
        for (size_t s = 0; s < p->ob.cap; s++) {
            eas_outbox_slot_t *sl = &p->ob.slots[s];
            sl->in_flight = 0;
            if (sl->seq && sl->folder == (uint16_t)p->cur && SYNC_KIND(sl->kind) &&
                (f->flags & EAS_FOLDER_F_SYNCED) && strcmp(f->sync_key, "0") != 0 && budget > 0) {
                sl->in_flight = OB_SENT;
                p->cmds_sent = 1;
                budget--;
            }
        }
        if (p->est_valid && p->est_index == p->cur && p->est_done > 0) {
            progress(e);
        }
        eas_proto_sync_parser_init(&p->u.sync, &k_sync_cbs, e);
        cb = eas_proto_sync_event;
        set_state(e, EAS_STATE_SYNCING);
        break;
    }
    case OP_PING: {
        eas_ping_folder_t list[PING_LIST_MAX];
        p->ping_sig = ping_sig(list, ping_set(e, list, PING_LIST_MAX));
        p->req.cmd = EAS_CMD_PING;
        p->req.first_byte_timeout_ms = (p->ping_interval + 30u) * 1000u;
        eas_proto_ping_parser_init(&p->u.ping, on_ping_folder, e);
        cb = eas_proto_ping_event;
        set_state(e, EAS_STATE_PINGING);
        break;
    }
    case OP_MEETING: {
        eas_outbox_slot_t *sl = &p->ob.slots[p->mr_slot];
        p->req.cmd = EAS_CMD_MEETINGRESPONSE;
        /* The "sent" marker is persisted before a byte leaves: after a crash the engine
           knows this response may already be on the server [S 1.15]. */
        err = eas_outbox_set_attempts(&p->ob, (size_t)p->mr_slot, e->mem.arena,
                                      (uint16_t)(sl->attempts + 1));
        if (err != EAS_OK) {
            fail_backoff(e, err, 0, "saving the meeting response marker", 0);
            return err;
        }
        eas_proto_meeting_parser_init(&p->u.meet);
        cb = eas_proto_meeting_event;
        set_state(e, EAS_STATE_SYNCING);
        break;
    }
#if CONFIG_EAS_EMAIL
    case OP_SEND: {
        eas_outbox_slot_t *sl = &p->ob.slots[p->send_slot];
        size_t mark = eas_arena_mark(e->mem.arena);
        eas_outbox_entry_t ent;
        p->req.cmd = EAS_CMD_SENDMAIL;
        eas_compose_req_t mr;
        if (eas_outbox_read(&p->ob, (size_t)p->send_slot, e->mem.arena, &ent) == EAS_OK &&
            mail_params(&ent, &mr) == EAS_OK) {
            p->req.cmd = mr.cmd == EAS_MAIL_REPLY     ? EAS_CMD_SMARTREPLY
                         : mr.cmd == EAS_MAIL_FORWARD ? EAS_CMD_SMARTFORWARD
                                                      : EAS_CMD_SENDMAIL;
            if (e->version < EAS_VER_14_0) {
                /* 12.1 has no ClientId: the message is the body, options go in the query. */
                p->req.content_type = "message/rfc822";
                p->req.save_in_sent = mr.save_in_sent;
                if (mr.cmd != EAS_MAIL_SEND) {
                    snprintf(p->send_src_folder, sizeof(p->send_src_folder), "%s", mr.src_folder);
                    snprintf(p->send_src_item, sizeof(p->send_src_item), "%s", mr.src_item);
                    p->send_params[0].tag = EAS_HTTP_PARAM_ITEM_ID;
                    p->send_params[0].value = p->send_src_item;
                    p->send_params[1].tag = EAS_HTTP_PARAM_COLLECTION_ID;
                    p->send_params[1].value = p->send_src_folder;
                    p->req.params = p->send_params;
                    p->req.n_params = 2;
                }
            }
        }
        eas_arena_release(e->mem.arena, mark);
        /* Counted before it leaves: the give-up bound survives restarts; the ClientId (not
           this count) is what keeps a resend from becoming a second message. */
        err = eas_outbox_set_attempts(&p->ob, (size_t)p->send_slot, e->mem.arena,
                                      (uint16_t)(sl->attempts + 1));
        if (err != EAS_OK) {
            fail_backoff(e, err, 0, "saving the send attempt", 0);
            return err;
        }
        eas_proto_compose_parser_init(&p->u.compose);
        cb = eas_proto_compose_event;
        set_state(e, EAS_STATE_SYNCING);
        break;
    }
#endif
    case OP_ESTIMATE:
        p->req.cmd = EAS_CMD_GETITEMESTIMATE;
        eas_proto_estimate_parser_init(&p->u.est);
        cb = eas_proto_estimate_event;
        set_state(e, EAS_STATE_SYNCING);
        break;
    case OP_MOVE: {
        eas_outbox_slot_t *sl = &p->ob.slots[p->mv_slot];
        p->req.cmd = EAS_CMD_MOVEITEMS;
        /* As for MeetingResponse: "may be on the server" is persisted before a byte leaves. */
        err = eas_outbox_set_attempts(&p->ob, (size_t)p->mv_slot, e->mem.arena,
                                      (uint16_t)(sl->attempts + 1));
        if (err != EAS_OK) {
            fail_backoff(e, err, 0, "saving the move marker", 0);
            return err;
        }
        eas_proto_move_parser_init(&p->u.move);
        cb = eas_proto_move_event;
        set_state(e, EAS_STATE_SYNCING);
        break;
    }
    case OP_FETCH:
        p->req.cmd = EAS_CMD_ITEMOPERATIONS;
        eas_proto_fetch_parser_init(&p->u.fetch, &k_fetch_cbs, e);
        cb = eas_proto_fetch_event;
        set_state(e, EAS_STATE_SYNCING);
        break;
    default:
        return EAS_ERR_INTERNAL;
    }
    if (cb) {
        eas_wbxml_dec_init(&p->dec, cb, parser);
    }
    if (op == OP_FETCH) {
        /* A fetched body or attachment is one long string that streams through; the
           Sync-sized limit would refuse it. Bounded by its own symbol instead. */
        p->dec.max_string = CONFIG_EAS_FETCH_MAX_BYTES;
        p->dec.max_opaque = CONFIG_EAS_FETCH_MAX_BYTES;
    }
    err = eas_http_client_start(&p->http, &p->req, p->now_ms);
    p->running = err == EAS_OK;
    if (err != EAS_OK) {
        fail_backoff(e, err, 0, "request", 0);
    }
    return err;
}

/* ---- choosing the next operation ---- */

static void start_ping(eas_engine_t *e);

/* The oldest queued MeetingResponse that can go out now (sets p->mr_slot). Runs after the
   folder syncs, so a response whose delivery is uncertain was first checked against the
   synced calendar item (mr_check_delivered). */
static bool next_meeting_response(eas_engine_t *e)
{
    eng_priv_t *p = P(e);
    long best = -1;
    for (size_t s = 0; s < p->ob.cap; s++) {
        const eas_outbox_slot_t *sl = &p->ob.slots[s];
        if (sl->seq && sl->kind == EAS_OUTBOX_MEETING_RESPONSE && sl->folder != 0xFFFFu &&
            (best < 0 || sl->seq < p->ob.slots[best].seq)) {
            best = (long)s;
        }
    }
    while (best >= 0) {
        eas_outbox_slot_t *sl = &p->ob.slots[best];
        bool drop = sl->attempts >= CONFIG_EAS_OUTBOX_MAX_ATTEMPTS;
        eas_folder_t *f = &e->mem.folders[sl->folder];
        if (!drop && sl->attempts > 0 && !(sl->reserved & MR_CHECKED) &&
            f->cls == EAS_CLASS_CALENDAR && (f->flags & EAS_FOLDER_F_SELECTED) &&
            (f->flags & EAS_FOLDER_F_SYNCED)) {
            /* Sent before without an answer: sync the calendar first, so a response the
               server already applied shows up there (mr_check_delivered) instead of being
               sent twice. */
            sl->reserved |= MR_CHECKED;
            f->flags |= EAS_FOLDER_F_DIRTY;
            return false;
        }
        if (!drop && e->version < EAS_VER_14_1) {
            /* An occurrence cannot be named before 14.1: never answer the whole series
               instead. */
            size_t mark = eas_arena_mark(e->mem.arena);
            eas_outbox_entry_t ent;
            drop = eas_outbox_read(&p->ob, (size_t)best, e->mem.arena, &ent) == EAS_OK &&
                   ent.instance_id[0] != '\0';
            eas_arena_release(e->mem.arena, mark);
        }
        if (!drop) {
            p->mr_slot = (int16_t)best;
            return true;
        }
        outbox_result(e, (size_t)best, 0, NULL);
        report(e, sl->attempts ? EAS_ERR_PROTO : EAS_ERR_VERSION, 0,
               "meeting response not sent; dropped", NULL);
        (void)eas_outbox_remove(&p->ob, (size_t)best);
        return next_meeting_response(e);
    }
    return false;
}

/* The oldest queued entry of @p kind that can go out (its slot in *slot); drops one that
   failed too often without an answer. A move needs its folder known; a mail does not. */
static bool next_command(eas_engine_t *e, uint8_t kind, int16_t *slot)
{
    eng_priv_t *p = P(e);
    for (;;) {
        long best = -1;
        for (size_t s = 0; s < p->ob.cap; s++) {
            const eas_outbox_slot_t *sl = &p->ob.slots[s];
            if (sl->seq && sl->kind == kind && (sl->folder != 0xFFFFu || kind == EAS_OUTBOX_SEND) &&
                (best < 0 || sl->seq < p->ob.slots[best].seq)) {
                best = (long)s;
            }
        }
        if (best < 0) {
            return false;
        }
        if (p->ob.slots[best].attempts < CONFIG_EAS_OUTBOX_MAX_ATTEMPTS) {
            *slot = (int16_t)best;
            return true;
        }
        outbox_result(e, (size_t)best, 0, NULL);
        report(e, EAS_ERR_PROTO, 0, "not answered; dropped", NULL);
        if (eas_outbox_remove(&p->ob, (size_t)best) != EAS_OK) {
            return false;
        }
    }
}

static void next_op(eas_engine_t *e)
{
    eng_priv_t *p = P(e);

    if (p->replay_op) {
        uint8_t op = p->replay_op;
        p->replay_op = OP_NONE;
        (void)start_op(e, op);
        return;
    }
    if (e->version == EAS_VER_NONE) {
        (void)start_op(e, OP_OPTIONS);
        return;
    }
    if (strcmp(e->hierarchy_key, "0") == 0 || p->fs_pending) {
        /* With the stored key: only hierarchy changes come back (Add/Update/Delete). */
        (void)start_op(e, OP_FOLDERSYNC);
        return;
    }
    if (p->fetch_pending) {
        /* The user is waiting for it: before background syncs. */
        p->cur = -1;
        (void)start_op(e, OP_FETCH);
        return;
    }
    for (size_t i = 0; i < e->mem.folder_cap; i++) {
        if (folder_needs_sync(e, i)) {
            const eas_folder_t *f = &e->mem.folders[i];
            p->cur = (int16_t)i;
            if (e->cfg->progress && !(f->flags & EAS_FOLDER_F_SYNCED) &&
                strcmp(f->sync_key, "0") != 0 && p->est_index != (int16_t)i) {
                /* The folder is primed (SyncKey 0 done), no item fetched yet: ask once. */
                p->est_index = (int16_t)i;
                p->est_valid = 0;
                p->est_done = 0;
                (void)start_op(e, OP_ESTIMATE);
                return;
            }
            (void)start_op(e, OP_SYNC);
            return;
        }
    }
    p->cur = -1;
    if (next_meeting_response(e)) {
        (void)start_op(e, OP_MEETING);
        return;
    }
    if (next_command(e, EAS_OUTBOX_MOVE, &p->mv_slot)) {
        (void)start_op(e, OP_MOVE);
        return;
    }
#if CONFIG_EAS_EMAIL
    if (next_command(e, EAS_OUTBOX_SEND, &p->send_slot)) {
        (void)start_op(e, OP_SEND);
        return;
    }
#endif
    for (size_t i = 0; i < e->mem.folder_cap; i++) {
        if (folder_needs_sync(e, i)) { /* a delivery check asked for this sync */
            p->cur = (int16_t)i;
            (void)start_op(e, OP_SYNC);
            return;
        }
    }
    if (!p->complete_reported || e->state == EAS_STATE_SYNCING ||
        e->state == EAS_STATE_FOLDERSYNC) {
        eas_event_t ev = {.type = EAS_EV_SYNC_COMPLETE};
        p->complete_reported = 1;
        (void)emit(e, &ev);
    }
    start_ping(e);
}

/* ---- Ping: the rejected-folder search [S 2.15] ---- */

static int save_folders(eas_engine_t *e)
{
    return eas_state_folders_save(e->cfg->store_prefix, e->hierarchy_key, e->mem.folders,
                                  e->mem.folder_cap, e->mem.arena);
}

static void probe_clear(eas_engine_t *e)
{
    eng_priv_t *p = P(e);
    for (size_t i = 0; i < e->mem.folder_cap; i++) {
        e->mem.folders[i].flags &= (uint8_t) ~(FOLDER_F_SUSPECT | FOLDER_F_PROBE);
    }
    p->probing = 0;
}

/* The folder the server rejects: out of the Ping set for good (persisted), reported. */
static void ping_reject_folder(eas_engine_t *e, eas_folder_t *f, uint16_t status)
{
    eng_priv_t *p = P(e);
    eas_event_t ev = {.type = EAS_EV_PING_REJECTED};
    probe_clear(e);
    p->rej_valid = 0;
    f->flags |= EAS_FOLDER_F_NO_PING;
    EAS_LOGW(MOD, "Ping: folder rejected by the server (status %u); not pinged again",
             (unsigned)status);
    ev.u.folder.entry = f;
    ev.u.folder.status = status;
    (void)emit(e, &ev);
    if (save_folders(e) != EAS_OK) {
        report(e, EAS_ERR_STORE, status, "saving the Ping exclusion", f->server_id);
    }
}

/* Next bisection step: the suspects are narrowed; one left is the culprit, otherwise the
   next Ping carries half of them. Returns false when no suspect is left. */
static bool probe_split(eas_engine_t *e, uint16_t status)
{
    eng_priv_t *p = P(e);
    size_t n = 0, half, k = 0;
    eas_folder_t *last = NULL;
    for (size_t i = 0; i < e->mem.folder_cap; i++) {
        eas_folder_t *f = &e->mem.folders[i];
        f->flags &= (uint8_t)~FOLDER_F_PROBE;
        if ((f->flags & FOLDER_F_SUSPECT) && folder_pingable(f)) {
            n++;
            last = f;
        } else {
            f->flags &= (uint8_t)~FOLDER_F_SUSPECT;
        }
    }
    if (n == 0) {
        probe_clear(e);
        return false;
    }
    if (n == 1) {
        ping_reject_folder(e, last, status);
        return true;
    }
    half = n / 2;
    for (size_t i = 0; i < e->mem.folder_cap && k < half; i++) {
        eas_folder_t *f = &e->mem.folders[i];
        if (f->flags & FOLDER_F_SUSPECT) {
            f->flags |= FOLDER_F_PROBE;
            k++;
        }
    }
    p->probing = 1;
    return true;
}

/* Start the next Ping — unless its folder set is one the server rejected: then search the
   folder it is about instead of resending it. With nothing to ping, poll at the interval. */
static void start_ping(eas_engine_t *e)
{
    eng_priv_t *p = P(e);
    eas_ping_folder_t list[PING_LIST_MAX];
    size_t n = ping_set(e, list, PING_LIST_MAX);

    if (n > 0 && !p->probing && p->rej_valid && ping_sig(list, n) == p->rej_sig) {
        for (size_t i = 0; i < e->mem.folder_cap; i++) {
            if (folder_pingable(&e->mem.folders[i])) {
                e->mem.folders[i].flags |= FOLDER_F_SUSPECT;
            }
        }
        (void)probe_split(e, p->rej_status);
        n = ping_set(e, list, PING_LIST_MAX);
    }
    if (n == 0) {
        p->poll = 1;
        p->wake_ms = p->now_ms + (uint64_t)p->ping_interval * 1000u;
        set_state(e, EAS_STATE_PINGING);
        return;
    }
    /* The adaptive heartbeat replaces p->ping_interval here later (ROADMAP 2). */
    (void)start_op(e, OP_PING);
}

/* ---- applying responses ---- */

static bool reprovision_status(uint32_t s)
{
    return s == EAS_STATUS_NOT_PROVISIONED || s == EAS_STATUS_POLICY_REFRESH ||
           s == EAS_STATUS_INVALID_POLICY_KEY || s == EAS_STATUS_REMOTE_WIPE ||
           s == EAS_STATUS_LEGACY_DEVICE;
}

/* [S 2.12] Re-provision, then replay the failed request with the new key; capped. */
static void reprovision(eas_engine_t *e, uint8_t failed_op, uint16_t status)
{
    eng_priv_t *p = P(e);
    if (p->prov_attempts >= CONFIG_EAS_PROVISION_RETRIES) {
        p->prov_attempts = 0;
        p->replay_op = OP_NONE;
        fail_backoff(e, EAS_ERR_PROVISION_LOOP, status, "re-provisioning", 0);
        return;
    }
    p->prov_attempts++;
    if (failed_op < OP_PROV_POLICY || failed_op > OP_PROV_WIPE_ACK) {
        p->replay_op = failed_op;
    }
    e->policy_key[0] = '\0';
    if (p->prov_attempts > 1) {
        /* A second round trip in a row is already a loop symptom: slow it down. */
        uint8_t keep = p->replay_op;
        fail_backoff(e, EAS_ERR_POLICY, status, "re-provisioning again", 0);
        p->replay_op = keep;
        p->wake_ms = p->wake_ms ? p->wake_ms : p->now_ms;
        p->op = OP_PROV_POLICY; /* what to run when the back-off ends */
        return;
    }
    (void)start_op(e, OP_PROV_POLICY);
}

static int save_acct(eas_engine_t *e)
{
    eas_state_acct_t a;
    memset(&a, 0, sizeof(a));
    a.version = (uint16_t)e->version;
    strcpy(a.policy_key, e->policy_key);
    return eas_state_acct_save(e->cfg->store_prefix, &a, e->mem.arena);
}

static void apply_provision(eas_engine_t *e)
{
    eng_priv_t *p = P(e);
    eas_prov_parser_t *pp = &p->u.prov;

    if (p->op == OP_PROV_WIPE_ACK) {
        (void)eas_state_wipe(e->cfg->store_prefix, e->mem.folder_cap, p->ob.cap);
        stop(e, EAS_STATE_WIPED, EAS_ERR_WIPED, 0, "remote wipe");
        return;
    }
    if (pp->remote_wipe || pp->account_wipe) {
        eas_event_t ev = {.type = EAS_EV_WIPE};
        (void)emit(e, &ev);
        (void)start_op(e, OP_PROV_WIPE_ACK);
        return;
    }
    if (pp->status != 1) {
        fail_backoff(e, EAS_ERR_SERVER, (uint16_t)pp->status, "Provision", 0);
        return;
    }
    if (p->op == OP_PROV_POLICY) {
        if (pp->policy_status == 2 || !pp->has_policy_key) {
            /* No policy for this device (SOGo, Horde "none"): nothing to enforce or ack. */
            e->policy_key[0] = '\0';
        } else if (pp->policy_status != 1) {
            fail_backoff(e, EAS_ERR_SERVER, (uint16_t)pp->policy_status, "Provision policy", 0);
            return;
        } else {
            eas_event_t ev = {.type = EAS_EV_POLICY_DECIDE};
            ev.u.policy.decision = EAS_POLICY_REFUSE;
            (void)emit(e, &ev);
            if (ev.u.policy.decision != EAS_POLICY_ENFORCE_ALL &&
                ev.u.policy.decision != EAS_POLICY_PARTIAL) {
                /* [S 2.1] never claim to enforce what the device cannot: a clear stop. */
                stop(e, EAS_STATE_POLICY_REFUSED, EAS_ERR_POLICY, 0,
                     "device cannot meet the server's policy");
                return;
            }
            strcpy(p->temp_key, pp->policy_key);
            p->ack_status = ev.u.policy.decision == EAS_POLICY_ENFORCE_ALL ? 1 : 2;
            (void)start_op(e, OP_PROV_ACK);
            return;
        }
    } else {
        if ((pp->policy_status != 1 || !pp->has_policy_key) && p->ack_status == 2) {
            /* [S 2.1] the server does not accept a partially enforced policy: the device
               cannot meet it. Re-provisioning would only repeat the refusal forever. */
            stop(e, EAS_STATE_POLICY_REFUSED, EAS_ERR_POLICY, (uint16_t)pp->policy_status,
                 "server refused a partially enforced policy");
            return;
        }
        if (pp->policy_status != 1 || !pp->has_policy_key) {
            fail_backoff(e, EAS_ERR_POLICY, (uint16_t)pp->policy_status, "Provision ack", 0);
            return;
        }
        strcpy(e->policy_key, pp->policy_key);
    }
    int err = save_acct(e);
    if (err != EAS_OK) {
        fail_backoff(e, err, 0, "saving the policy key", 0);
        return;
    }
    next_op(e);
}

static void apply_foldersync(eas_engine_t *e)
{
    eng_priv_t *p = P(e);
    eas_fs_parser_t *fp = &p->u.fs;

    if (fp->status == 9) {
        /* Invalid hierarchy key: start over from 0 and re-match folders by ServerId. */
        strcpy(e->hierarchy_key, "0");
        for (size_t i = 0; i < e->mem.folder_cap; i++) {
            if (e->mem.folders[i].used) {
                e->mem.folders[i].flags |= FOLDER_F_UNSEEN;
            }
        }
        p->fs_reset = 1;
        (void)start_op(e, OP_FOLDERSYNC);
        return;
    }
    if (fp->status != 1 || !fp->has_sync_key) {
        fail_backoff(e, EAS_ERR_SERVER, (uint16_t)fp->status, "FolderSync", 0);
        return;
    }
    if (p->fs_reset) {
        for (size_t i = 0; i < e->mem.folder_cap; i++) {
            eas_folder_t *f = &e->mem.folders[i];
            if (f->used && (f->flags & FOLDER_F_UNSEEN)) {
                eas_event_t ev = {.type = EAS_EV_FOLDER};
                ev.u.folder.op = EAS_ITEM_DELETE;
                ev.u.folder.entry = f;
                (void)emit(e, &ev);
                f->used = 0;
            }
            f->flags &= (uint8_t)~FOLDER_F_UNSEEN;
        }
        p->fs_reset = 0;
    }
    int err = eas_state_folders_save(e->cfg->store_prefix, fp->sync_key, e->mem.folders,
                                     e->mem.folder_cap, e->mem.arena);
    if (err != EAS_OK) {
        fail_backoff(e, err, 0, "saving the folder list", 0);
        return;
    }
    strcpy(e->hierarchy_key, fp->sync_key);
    p->fs_pending = 0;
    outbox_resolve_folders(e);
    p->failures = 0;
    next_op(e);
}

/* [S 2.13] Recovery of one folder: key 0, outbox kept, items upserted by ServerId. */
static void folder_resync(eas_engine_t *e, eas_folder_t *f, uint16_t status)
{
    eas_event_t ev = {.type = EAS_EV_RESYNC_BEGIN};
    strcpy(f->sync_key, "0");
    f->flags = (uint8_t)((f->flags | EAS_FOLDER_F_RESYNC) & ~EAS_FOLDER_F_SYNCED);
    f->repeat_count = 0;
    ev.u.folder.entry = f;
    ev.u.folder.status = status;
    (void)emit(e, &ev);
    (void)eas_state_skey_save(e->cfg->store_prefix, (size_t)(f - e->mem.folders), f);
}

static void apply_sync(eas_engine_t *e)
{
    eng_priv_t *p = P(e);
    eas_sync_parser_t *sp = &p->u.sync;
    eas_folder_t *f = &e->mem.folders[p->cur];
    uint32_t st = sp->coll_status;

    if (!p->got_body && strcmp(f->sync_key, "0") == 0) {
        /* An empty answer to SyncKey 0 issues no key: resending it at once would loop. */
        fail_backoff(e, EAS_ERR_PROTO, 0, "Sync: empty answer to SyncKey 0", 0);
        return;
    }
    if (!p->got_body) {
        /* Empty 200 answer: no changes, keep the key (SOGo quirk 4). Commands sent got no
           answer: count the attempt. */
        st = 1;
        sp->more_available = false;
        strcpy(sp->sync_key, f->sync_key);
        sp->has_sync_key = true;
    }
    if (sp->top_status != 0 && sp->top_status != 1) {
        st = sp->top_status;
    }
    if (reprovision_status(st)) {
        reprovision(e, OP_SYNC, (uint16_t)st);
        return;
    }
    if (st == 3 || st == 135) {
        if (strcmp(f->sync_key, "0") == 0) {
            /* Key 0 itself was refused: restarting again at once would loop [S 2.9]. */
            fail_backoff(e, EAS_ERR_SERVER, (uint16_t)st, "Sync: SyncKey 0 refused", 0);
            return;
        }
        folder_resync(e, f, (uint16_t)st);
        next_op(e);
        return;
    }
    if (st == 12) {
        /* Hierarchy changed: an incremental FolderSync first (its Deletes remove what is
           gone), sync keys kept. Twice in a row without effect goes to the back-off. */
        if (++p->hier_retries > 1) {
            p->hier_retries = 0;
            fail_backoff(e, EAS_ERR_SERVER, 12, "Sync: hierarchy out of date", 0);
            return;
        }
        p->fs_pending = 1;
        next_op(e);
        return;
    }
    if (st == 8) {
        /* Folder gone on the server: the next FolderSync removes it. */
        f->flags &= (uint8_t)~EAS_FOLDER_F_SELECTED;
        report(e, EAS_ERR_NOT_FOUND, 8, "Sync: folder not found", f->server_id);
        p->fs_pending = 1;
        next_op(e);
        return;
    }
    if (st != 1 || !sp->has_sync_key) {
        fail_backoff(e, EAS_ERR_SERVER, (uint16_t)st, "Sync", 0);
        return;
    }
    /* Outbox first, then the key: if power fails in between, the server replays its
       answer to the old key and no local change is sent twice. */
    for (size_t s = 0; s < p->ob.cap; s++) {
        eas_outbox_slot_t *sl = &p->ob.slots[s];
        if (sl->in_flight == OB_SENT && sl->kind != EAS_OUTBOX_ADD && p->got_body) {
            /* Successful changes and deletes are not answered individually (MS-ASCMD). */
            outbox_result(e, s, 1, NULL);
            sl->in_flight = OB_DONE;
        }
        if (sl->in_flight == OB_DONE) {
            if (eas_outbox_remove(&p->ob, s) != EAS_OK) {
                fail_backoff(e, EAS_ERR_STORE, 0, "outbox", 0);
                return;
            }
        } else if (sl->in_flight == OB_SENT) {
            uint16_t a = (uint16_t)(sl->attempts + 1);
            if (a >= CONFIG_EAS_OUTBOX_MAX_ATTEMPTS) {
                outbox_result(e, s, 0, NULL);
                report(e, EAS_ERR_PROTO, 0, "outbox item never answered; dropped", NULL);
                (void)eas_outbox_remove(&p->ob, s);
            } else {
                (void)eas_outbox_set_attempts(&p->ob, s, e->mem.arena, a);
            }
        }
        sl->in_flight = 0;
    }
    bool same = strcmp(sp->sync_key, f->sync_key) == 0;
    if (sp->more_available && same) {
        /* The server repeats itself: do not loop on it. */
        f->repeat_count++;
        if (f->repeat_count >= CONFIG_EAS_SYNC_REPEAT_MAX) {
            f->repeat_count = 0;
            f->flags &= (uint8_t)~EAS_FOLDER_F_DIRTY;
            f->flags |= EAS_FOLDER_F_SYNCED;
            report(e, EAS_ERR_SYNC_LOOP, 1, "Sync", f->server_id);
            fail_backoff(e, EAS_ERR_SYNC_LOOP, 1, "Sync repeated its key", 0);
            return;
        }
    } else {
        f->repeat_count = 0;
    }
    bool was_resync = (f->flags & EAS_FOLDER_F_RESYNC) != 0;
    /* The answer to SyncKey 0 only issues a key; the items come with the next request. */
    bool complete = !sp->more_available && strcmp(f->sync_key, "0") != 0;
    strcpy(f->sync_key, sp->sync_key);
    if (complete) {
        f->flags |= EAS_FOLDER_F_SYNCED;
        f->flags &= (uint8_t) ~(EAS_FOLDER_F_DIRTY | EAS_FOLDER_F_RESYNC);
    }
    int err = eas_state_skey_save(e->cfg->store_prefix, (size_t)p->cur, f);
    if (err != EAS_OK) {
        fail_backoff(e, err, 0, "saving the sync key", 0);
        return;
    }
    if (complete) {
        eas_event_t ev = {.type = was_resync ? EAS_EV_RESYNC_END : EAS_EV_FOLDER_SYNCED};
        ev.u.folder.entry = f;
        (void)emit(e, &ev);
        if (was_resync) {
            ev.type = EAS_EV_FOLDER_SYNCED;
            (void)emit(e, &ev);
        }
    }
    p->failures = 0;
    p->prov_attempts = 0;
    p->hier_retries = 0;
    next_op(e);
}

static void apply_ping(eas_engine_t *e)
{
    eng_priv_t *p = P(e);
    eas_ping_parser_t *pp = &p->u.ping;
    uint32_t st = p->got_body ? pp->status : 1;

    if (reprovision_status(st)) {
        reprovision(e, OP_PING, (uint16_t)st);
        return;
    }
    switch (st) {
    case 1: /* heartbeat expired without changes */
    case 2: /* changes: the folders were marked DIRTY by on_ping_folder, only they sync */
        p->ping_rejected = 0;
        p->failures = 0;
        if (p->probing) {
            /* The probe half was accepted: the culprit is among the other suspects. */
            for (size_t i = 0; i < e->mem.folder_cap; i++) {
                if (e->mem.folders[i].flags & FOLDER_F_PROBE) {
                    e->mem.folders[i].flags &= (uint8_t)~FOLDER_F_SUSPECT;
                }
            }
            if (!probe_split(e, p->rej_status)) {
                /* Every folder was accepted on its own: the rejection did not reproduce. */
                p->rej_valid = 0;
            }
        }
        next_op(e);
        break;
    case 5:
        /* Adopt the server's bound: the next request differs, so it is not a resend. */
        if (pp->heartbeat > 0 && pp->heartbeat != p->ping_interval) {
            p->ping_interval = pp->heartbeat;
            next_op(e);
        } else {
            fail_backoff(e, EAS_ERR_PROTO, 5, "Ping heartbeat", 0);
        }
        break;
    case 6:
        if (pp->max_folders > 0 && pp->max_folders != p->ping_max_folders) {
            p->ping_max_folders = pp->max_folders;
            next_op(e);
        } else {
            fail_backoff(e, EAS_ERR_PROTO, 6, "Ping folders", 0);
        }
        break;
    case 7:
    case 3:
    case 4:
    case 132:
        /* [S 2.15] A rejected Ping is never resent as it was. 7 first refreshes the
           hierarchy (a deleted folder then leaves the set). If the same set would go out
           again, start_ping() bisects it to find the folder and drops that one. Each
           step shrinks the suspects, so the search ends; a cap guards the rest. */
        p->ping_rejected++;
        if (p->ping_rejected > 2u * PING_LIST_MAX) {
            probe_clear(e);
            p->rej_valid = 0;
            p->ping_rejected = 0;
            fail_backoff(e, EAS_ERR_PROTO, (uint16_t)st, "Ping rejected", 0);
        } else if (p->probing) {
            /* The probe half holds the culprit. */
            for (size_t i = 0; i < e->mem.folder_cap; i++) {
                if (!(e->mem.folders[i].flags & FOLDER_F_PROBE)) {
                    e->mem.folders[i].flags &= (uint8_t)~FOLDER_F_SUSPECT;
                }
            }
            (void)probe_split(e, (uint16_t)st);
            next_op(e);
        } else {
            p->rej_sig = p->ping_sig;
            p->rej_valid = 1;
            p->rej_status = (uint16_t)st;
            if (st == 7) {
                (void)start_op(e, OP_FOLDERSYNC);
            } else {
                next_op(e);
            }
        }
        break;
    default:
        fail_backoff(e, EAS_ERR_SERVER, (uint16_t)st, "Ping", 0);
        break;
    }
}

static void apply_meeting(eas_engine_t *e)
{
    eng_priv_t *p = P(e);
    eas_meeting_parser_t *mp = &p->u.meet;
    size_t slot = (size_t)p->mr_slot;
    eas_outbox_slot_t *sl = &p->ob.slots[slot];
    uint32_t st = mp->status;

    if (reprovision_status(mp->top_status)) {
        reprovision(e, OP_MEETING, (uint16_t)mp->top_status);
        return;
    }
    if ((mp->top_status != 0 && mp->top_status != 1) || mp->results == 0 || !sl->seq) {
        fail_backoff(e, EAS_ERR_SERVER, (uint16_t)mp->top_status, "MeetingResponse", 0);
        return;
    }
    if (st == 2 && sl->attempts > 1) {
        /* An earlier send may have been applied (the invitation is gone): the response is
           on the server already — never a second one [S 1.15]. */
        EAS_LOGI(MOD, "meeting response: invitation already answered");
        st = 1;
    }
    outbox_result(e, slot, (uint16_t)st, mp->calendar_id[0] ? mp->calendar_id : NULL);
    if (st != 1) {
        report(e, EAS_ERR_SERVER, (uint16_t)st, "meeting response rejected", NULL);
    }
    if (eas_outbox_remove(&p->ob, slot) != EAS_OK) {
        fail_backoff(e, EAS_ERR_STORE, 0, "outbox", 0);
        return;
    }
    p->failures = 0;
    p->prov_attempts = 0;
    next_op(e);
}

#if CONFIG_EAS_EMAIL
static void apply_send(eas_engine_t *e)
{
    eng_priv_t *p = P(e);
    size_t slot = (size_t)p->send_slot;
    uint32_t st = p->u.compose.status;

    if (reprovision_status(st)) {
        reprovision(e, OP_SEND, (uint16_t)st);
        return;
    }
    if (st == EAS_STATUS_SERVER_ERROR_RETRY || st == 110 || !p->ob.slots[slot].seq) {
        /* 110 "server error" / 111 "retry": transient (MS-ASCMD common status). */
        fail_backoff(e, EAS_ERR_SERVER, (uint16_t)st, "SendMail", 0);
        return;
    }
    if (st == 0 || st == 118) {
        /* Empty 200 = sent; 118 = this ClientId was sent before (our answer got lost). */
        st = 1;
    }
    outbox_result(e, slot, (uint16_t)st, NULL);
    if (st != 1) {
        report(e, EAS_ERR_SERVER, (uint16_t)st, "mail rejected", NULL);
    }
    if (eas_outbox_remove(&p->ob, slot) != EAS_OK) {
        fail_backoff(e, EAS_ERR_STORE, 0, "outbox", 0);
        return;
    }
    p->failures = 0;
    p->prov_attempts = 0;
    next_op(e);
}
#endif

static void apply_estimate(eas_engine_t *e)
{
    eng_priv_t *p = P(e);
    eas_estimate_parser_t *ep = &p->u.est;
    if (reprovision_status(ep->top_status) || reprovision_status(ep->status)) {
        reprovision(e, OP_ESTIMATE, (uint16_t)(ep->top_status ? ep->top_status : ep->status));
        return;
    }
    /* Progress is a nicety: any other answer just means no estimate; the sync goes on. */
    if (ep->status == 1 && ep->has_estimate) {
        p->est_valid = 1;
        p->est_total = ep->estimate;
        p->est_done = 0;
        progress(e);
    } else {
        EAS_LOGI(MOD, "no item estimate (status %u)", (unsigned)ep->status);
    }
    next_op(e);
}

static void apply_move(eas_engine_t *e)
{
    eng_priv_t *p = P(e);
    eas_move_parser_t *mp = &p->u.move;
    size_t slot = (size_t)p->mv_slot;
    eas_outbox_slot_t *sl = &p->ob.slots[slot];
    uint32_t st = mp->status;
    const char *dst = mp->dst_msg_id[0] ? mp->dst_msg_id : NULL;

    if (reprovision_status(mp->top_status)) {
        reprovision(e, OP_MOVE, (uint16_t)mp->top_status);
        return;
    }
    if (mp->responses == 0 || !sl->seq || st == 5 || st == 7) {
        /* 5/7: the server failed or the source/destination clash transiently: retry later. */
        fail_backoff(e, EAS_ERR_SERVER, (uint16_t)(st ? st : mp->top_status), "MoveItems", 0);
        return;
    }
    if (st == 1 && sl->attempts > 1) {
        /* An earlier send may have moved it already: the item is gone from the source. */
        EAS_LOGI(MOD, "move: item already gone from the source; counted as moved");
        st = 3;
        dst = NULL;
    }
    outbox_result(e, slot, (uint16_t)st, dst);
    if (st != 3) {
        report(e, EAS_ERR_SERVER, (uint16_t)st, "move rejected", NULL);
    }
    /* Both folders changed on the server: pick the changes up. */
    size_t mark = eas_arena_mark(e->mem.arena);
    eas_outbox_entry_t ent;
    if (st == 3 && eas_outbox_read(&p->ob, slot, e->mem.arena, &ent) == EAS_OK) {
        int d = folder_find(e, ent.instance_id);
        if (d >= 0) {
            e->mem.folders[d].flags |= EAS_FOLDER_F_DIRTY;
        }
        if (sl->folder < e->mem.folder_cap) {
            e->mem.folders[sl->folder].flags |= EAS_FOLDER_F_DIRTY;
        }
    }
    eas_arena_release(e->mem.arena, mark);
    if (eas_outbox_remove(&p->ob, slot) != EAS_OK) {
        fail_backoff(e, EAS_ERR_STORE, 0, "outbox", 0);
        return;
    }
    p->failures = 0;
    p->prov_attempts = 0;
    next_op(e);
}

static void apply_fetch(eas_engine_t *e)
{
    eng_priv_t *p = P(e);
    eas_fetch_parser_t *fp = &p->u.fetch;
    if (reprovision_status(fp->top_status)) {
        reprovision(e, OP_FETCH, (uint16_t)fp->top_status);
        return;
    }
    if (fp->top_status == EAS_STATUS_SERVER_ERROR_RETRY || fp->top_status == 0) {
        fail_backoff(e, EAS_ERR_SERVER, (uint16_t)fp->top_status, "ItemOperations", 0);
        return;
    }
    /* Answered: success or a per-fetch failure (6 not found, 15 bad reference...) is final;
       resending the same fetch would get the same answer. */
    uint16_t st = (uint16_t)(fp->top_status != 1 ? fp->top_status : fp->status);
    if (st == 1 && !fp->props_seen) {
        st = 0;
    }
    fetch_end(e, st, st == 1 ? EAS_OK : EAS_ERR_SERVER, true);
    if (st != 1) {
        report(e, EAS_ERR_SERVER, st, "fetch failed", NULL);
    }
    p->failures = 0;
    p->prov_attempts = 0;
    next_op(e);
}

static void apply_options(eas_engine_t *e, const eas_http_response_t *rsp)
{
    uint8_t supported = SUPPORTED_VERSIONS;
    eas_proto_ver_t max = e->cfg->max_version;
    if (max != EAS_VER_NONE) {
        uint8_t bits = 0;
        for (eas_proto_ver_t v = EAS_VER_12_1; v <= max; v = (eas_proto_ver_t)(v + 1)) {
            bits |= eas_proto_ver_bit(v);
        }
        supported &= bits;
    }
    eas_proto_ver_t v = eas_proto_ver_pick(rsp->versions, supported);
    if (v == EAS_VER_NONE) {
        stop(e, EAS_STATE_FAILED, EAS_ERR_VERSION, 0, "OPTIONS");
        return;
    }
    e->version = v;
    EAS_LOGI(MOD, "protocol %s", eas_proto_ver_string(v));
    if (save_acct(e) != EAS_OK) {
        fail_backoff(e, EAS_ERR_STORE, 0, "saving the account", 0);
        return;
    }
    (void)start_op(e, OP_PROV_POLICY);
}

/* HTTP 451: the mailbox lives elsewhere now. Follow X-MS-Location at once (the request is
   replayed there), but only a bounded number of times in a row and never back to the URL
   that redirected; persist the new URL once it has answered a request. */
static void follow_redirect(eas_engine_t *e, uint8_t op, const char *loc)
{
    eng_priv_t *p = P(e);
    char target[CONFIG_EAS_URL_MAX + 1];
    size_t n = loc ? strcspn(loc, "?#") : 0; /* the query is rebuilt per request */
    int err = EAS_OK;

    if (n == 0 || n > CONFIG_EAS_URL_MAX) {
        err = EAS_ERR_HTTP_URL;
    } else {
        memcpy(target, loc, n);
        target[n] = '\0';
        err = eas_http_redirect_check(eng_url(e), target, &p->redirects);
    }
    if (err != EAS_OK) {
        /* The next attempt after the back-off starts a fresh count. */
        p->redirects = 0;
        fail_backoff(e, err, 451, "redirect", 0);
        return;
    }
    EAS_LOGI(MOD, "server moved (451): following X-MS-Location");
    strcpy(p->url, target);
    p->url_unsaved = 1;
    (void)start_op(e, op);
}

static void on_complete(eas_engine_t *e)
{
    eng_priv_t *p = P(e);
    const eas_http_response_t *rsp = eas_http_client_response(&p->http);
    eas_http_verdict_t v;
    uint8_t op = p->op;

    eas_http_classify(rsp, &v);
    switch (v.cls) {
    case EAS_HTTP_CLASS_OK:
        p->redirects = 0;
        if (p->url_unsaved) {
            /* The new URL works: from now on it is the account's URL, also after a restart. */
            int serr = eas_state_url_save(e->cfg->store_prefix, p->url, e->mem.arena);
            if (serr != EAS_OK) {
                report(e, serr, 451, "saving the redirected URL", NULL);
            } else {
                p->url_unsaved = 0;
            }
        }
        break;
    case EAS_HTTP_CLASS_REDIRECT:
        follow_redirect(e, op, v.location);
        return;
    case EAS_HTTP_CLASS_PROVISION:
        reprovision(e, op, 449);
        return;
    case EAS_HTTP_CLASS_AUTH:
        /* One report, then stop: retrying a wrong password locks accounts [S 2.9]. */
        stop(e, EAS_STATE_AUTH_FAILED, EAS_ERR_AUTH, rsp->status, "credentials rejected");
        return;
    case EAS_HTTP_CLASS_FORBIDDEN:
    case EAS_HTTP_CLASS_BLOCKED:
    case EAS_HTTP_CLASS_PASSWORD_EXPIRED:
        stop(e, EAS_STATE_BLOCKED, v.err ? v.err : EAS_ERR_FORBIDDEN, rsp->status, "access denied");
        return;
    default:
        fail_backoff(e, v.err ? v.err : EAS_ERR_HTTP_STATUS, rsp->status,
                     eas_http_class_name(v.cls), v.has_retry_after ? v.retry_after_s : 0);
        return;
    }
    if (op == OP_OPTIONS) {
        apply_options(e, rsp);
        return;
    }
    if (p->parse_err == EAS_OK && p->got_body) {
        p->parse_err = eas_wbxml_dec_finish(&p->dec);
    }
    if (p->parse_err == EAS_OK && !p->got_body && op != OP_SYNC && op != OP_PING &&
        op != OP_SEND) { /* SendMail answers success with an empty 200 */
        p->parse_err = EAS_ERR_PROTO;
    }
    if (p->parse_err != EAS_OK) {
        if (op == OP_FOLDERSYNC) {
            /* Drop half-applied hierarchy changes: reload what was committed. */
            char hk[EAS_ID_CAP];
            (void)eas_state_folders_load(e->cfg->store_prefix, hk, e->mem.folders,
                                         e->mem.folder_cap, e->mem.arena);
            for (size_t i = 0; i < e->mem.folder_cap; i++) {
                if (e->mem.folders[i].used) {
                    folder_select(e, &e->mem.folders[i]);
                    (void)eas_state_skey_load(e->cfg->store_prefix, i, &e->mem.folders[i]);
                }
            }
        }
        for (size_t s = 0; s < p->ob.cap; s++) {
            p->ob.slots[s].in_flight = 0; /* nothing of this response is trusted */
        }
        fail_backoff(e, p->parse_err, 0, "malformed response", 0);
        return;
    }
    switch (op) {
    case OP_PROV_POLICY:
    case OP_PROV_ACK:
    case OP_PROV_WIPE_ACK:
        apply_provision(e);
        break;
    case OP_FOLDERSYNC:
        if (reprovision_status(p->u.fs.status)) {
            reprovision(e, OP_FOLDERSYNC, (uint16_t)p->u.fs.status);
        } else {
            apply_foldersync(e);
        }
        break;
    case OP_SYNC:
        apply_sync(e);
        break;
    case OP_PING:
        apply_ping(e);
        break;
    case OP_MEETING:
        apply_meeting(e);
        break;
    case OP_FETCH:
        apply_fetch(e);
        break;
    case OP_MOVE:
        apply_move(e);
        break;
    case OP_ESTIMATE:
        apply_estimate(e);
        break;
#if CONFIG_EAS_EMAIL
    case OP_SEND:
        apply_send(e);
        break;
#endif
    default:
        break;
    }
}

/* ---- public API ---- */

int eas_engine_init(eas_engine_t *eng, const eas_account_cfg_t *cfg, const eas_engine_mem_t *mem,
                    const hal_net_t *net, eas_event_cb_t cb, void *cb_user)
{
    int err = EAS_ERR_PARAM;
    eng_priv_t *p;
    eas_state_acct_t acct;
    char key[EAS_STATE_KEY_CAP];

    if (!eng || !cfg || !mem || !net || !mem->folders || !mem->outbox || !mem->arena ||
        !mem->http_work || !cfg->url || !cfg->device_id || !cfg->store_prefix ||
        strlen(cfg->device_id) == 0 ||
        eas_state_key(key, sizeof(key), cfg->store_prefix, "acct") != EAS_OK) {
        goto out;
    }
    memset(eng, 0, sizeof(*eng));
    p = P(eng);
    eng->cfg = cfg;
    eng->mem = *mem;
    if (eng->mem.folder_cap > CONFIG_EAS_MAX_FOLDERS) {
        eng->mem.folder_cap = CONFIG_EAS_MAX_FOLDERS;
    }
    if (eng->mem.outbox_cap > CONFIG_EAS_OUTBOX_SLOTS) {
        eng->mem.outbox_cap = CONFIG_EAS_OUTBOX_SLOTS;
    }
    eng->net = *net;
    eng->cb = cb;
    eng->cb_user = cb_user;
    p->cur = -1;
    p->est_index = -1;
    p->ping_interval = cfg->ping_interval_s ? cfg->ping_interval_s : 480;

    eas_http_client_config_t hc;
    memset(&hc, 0, sizeof(hc));
    hc.net = &eng->net;
    hc.auth = cfg->auth;
    hc.user_agent = cfg->user_agent;
    hc.work = mem->http_work;
    hc.work_len = mem->http_work_len;
    err = eas_http_client_init(&p->http, &hc);
    if (err != EAS_OK) {
        goto out;
    }
    eas_arena_reset(eng->mem.arena);
    strcpy(eng->hierarchy_key, "0");
    err = eas_state_acct_load(cfg->store_prefix, &acct, eng->mem.arena);
    if (err == EAS_OK) {
        eng->version = (eas_proto_ver_t)acct.version;
        strcpy(eng->policy_key, acct.policy_key);
    } else if (err == EAS_ERR_STORE_NOT_FOUND) {
        err = EAS_OK; /* a new account */
    } else {
        eng->state = EAS_STATE_FAILED;
        p->stop_err = err;
        goto out;
    }
    int uerr = eas_state_url_load(cfg->store_prefix, p->url, sizeof(p->url), eng->mem.arena);
    if (uerr != EAS_OK && uerr != EAS_ERR_STORE_NOT_FOUND) {
        report(eng, uerr, 0, "redirected URL; using the configured one", NULL);
        p->url[0] = '\0';
    }
    int ferr = eas_state_folders_load(cfg->store_prefix, eng->hierarchy_key, eng->mem.folders,
                                      eng->mem.folder_cap, eng->mem.arena);
    if (ferr != EAS_OK && ferr != EAS_ERR_STORE_NOT_FOUND) {
        /* Lose the hierarchy, not the account: FolderSync from 0 rebuilds it. */
        report(eng, ferr, 0, "folder list", NULL);
    }
    for (size_t i = 0; i < eng->mem.folder_cap; i++) {
        eas_folder_t *f = &eng->mem.folders[i];
        if (f->used) {
            folder_select(eng, f);
            if (eas_state_skey_load(cfg->store_prefix, i, f) == EAS_ERR_STORE_CORRUPT) {
                report(eng, EAS_ERR_STORE_CORRUPT, 0, "sync key; folder resyncs", f->server_id);
            }
            /* What changed while we were not running: one incremental FolderSync, then
               one incremental Sync per folder. */
            f->flags |= EAS_FOLDER_F_DIRTY;
            p->fs_pending = 1;
        }
    }
    size_t bad = 0;
    err = eas_outbox_load(&p->ob, eng->mem.outbox, eng->mem.outbox_cap, cfg->store_prefix,
                          eng->mem.arena, &bad);
    if (bad > 0) {
        report(eng, EAS_ERR_STORE_CORRUPT, 0, "outbox entries dropped", NULL);
    }
    if (err == EAS_OK) {
        outbox_resolve_folders(eng);
        for (size_t s = 0; s < p->ob.cap; s++) {
            eng->mem.outbox[s].reserved = 0;
        }
    }
out:
    if (eng && mem && mem->arena) {
        eas_arena_reset(mem->arena);
    }
    return err;
}

int eas_step(eas_engine_t *eng, eas_step_event_t ev, uint64_t now_ms, uint64_t *next_deadline_ms)
{
    eng_priv_t *p;
    int err = EAS_OK;
    uint64_t deadline = UINT64_MAX;

    if (!eng) {
        return EAS_ERR_PARAM;
    }
    p = P(eng);
    p->now_ms = now_ms;
    (void)ev;
    /* A few rounds per call: a response completing can start the next request at once. */
    int round = 0;
    for (; round < 8; round++) {
        if (eng->state >= EAS_STATE_AUTH_FAILED) {
            err = p->stop_err ? p->stop_err : EAS_ERR_STATE;
            break;
        }
        if (p->running) {
            eas_http_wait_t w = {false, false, UINT64_MAX};
            int rc = eas_http_client_step(&p->http, now_ms, &w);
            if (rc == EAS_ERR_AGAIN) {
                p->wait_io = (w.read ? EAS_IO_READ : 0u) | (w.write ? EAS_IO_WRITE : 0u);
                deadline = w.deadline_ms;
                break;
            }
            p->running = 0;
            p->wait_io = 0;
            if (rc == EAS_OK) {
                on_complete(eng);
            } else {
                for (size_t s = 0; s < p->ob.cap; s++) {
                    p->ob.slots[s].in_flight = 0;
                }
                fail_backoff(eng, rc, 0,
                             eas_http_phase_name(eas_http_client_failed_phase(&p->http)), 0);
            }
            continue;
        }
        if (p->poll) {
            /* No folder can be pinged: look at every folder once per interval. */
            if (now_ms < p->wake_ms) {
                deadline = p->wake_ms;
                break;
            }
            p->poll = 0;
            p->wake_ms = 0;
            for (size_t i = 0; i < eng->mem.folder_cap; i++) {
                if (eng->mem.folders[i].used) {
                    eng->mem.folders[i].flags |= EAS_FOLDER_F_DIRTY;
                }
            }
            next_op(eng);
            continue;
        }
        if (eng->state == EAS_STATE_BACKOFF) {
            if (now_ms < p->wake_ms) {
                deadline = p->wake_ms;
                break;
            }
            p->wake_ms = 0;
            if (p->op == OP_PROV_POLICY && p->replay_op) {
                (void)start_op(eng, OP_PROV_POLICY);
            } else {
                next_op(eng);
            }
            continue;
        }
        next_op(eng);
    }
    if (p->running == 0 && eng->state == EAS_STATE_BACKOFF && p->wake_ms) {
        deadline = p->wake_ms;
    }
    if (round == 8 && err == EAS_OK) {
        /* The rounds ran out with work pending (a request just started has not said what it
           waits for): ask to be called again at once rather than "no I/O, no deadline". */
        deadline = now_ms;
    }
    if (next_deadline_ms) {
        *next_deadline_ms = deadline;
    }
    return err;
}

unsigned eas_engine_wait_io(const eas_engine_t *eng)
{
    return ((const eng_priv_t *)(const void *)eng->priv)->running
               ? ((const eng_priv_t *)(const void *)eng->priv)->wait_io
               : 0u;
}

eas_engine_state_t eas_engine_state(const eas_engine_t *eng)
{
    return eng->state;
}

int eas_engine_restart(eas_engine_t *eng)
{
    eng_priv_t *p = P(eng);
    if (eng->state == EAS_STATE_WIPED) {
        return EAS_ERR_STATE;
    }
    p->stop_err = EAS_OK;
    p->failures = 0;
    p->prov_attempts = 0;
    eng->state = EAS_STATE_IDLE;
    return EAS_OK;
}

void eas_engine_close(eas_engine_t *eng)
{
    eng_priv_t *p = P(eng);
    eas_http_client_cancel(&p->http);
    eas_http_client_close(&p->http);
    p->running = 0;
}

/* A running Ping (or an idle poll wait) is abandoned so queued work starts now rather than
   after the heartbeat. */
static void interrupt_ping(eas_engine_t *eng)
{
    eng_priv_t *p = P(eng);
    if (p->poll) {
        p->poll = 0;
        p->wake_ms = 0;
    }
    if (p->running && p->op == OP_PING) {
        eas_http_client_cancel(&p->http);
        p->running = 0;
        eng->state = EAS_STATE_SYNCING;
    }
}

int eas_fetch(eas_engine_t *eng, const char *folder_id, const char *server_id,
              const char *file_reference, uint32_t *id)
{
    eng_priv_t *p = P(eng);
    bool by_ref = file_reference && file_reference[0];
    if (!by_ref && (!folder_id || !folder_id[0] || !server_id || !server_id[0])) {
        return EAS_ERR_PARAM;
    }
    if (p->fetch_pending) {
        return EAS_ERR_BUSY;
    }
    if (by_ref ? strlen(file_reference) > EAS_FETCH_REF_MAX
               : strlen(folder_id) > CONFIG_EAS_SERVER_ID_MAX ||
                     strlen(server_id) > CONFIG_EAS_SERVER_ID_MAX) {
        return EAS_ERR_LIMIT;
    }
    memset(p->fetch_folder, 0, sizeof(p->fetch_folder));
    memset(p->fetch_sid, 0, sizeof(p->fetch_sid));
    memset(p->fetch_ref, 0, sizeof(p->fetch_ref));
    if (by_ref) {
        memcpy(p->fetch_ref, file_reference, strlen(file_reference));
    } else {
        memcpy(p->fetch_folder, folder_id, strlen(folder_id));
        memcpy(p->fetch_sid, server_id, strlen(server_id));
    }
    p->fetch_id = ++p->fetch_next_id;
    p->fetch_attempts = 0;
    p->fetch_pending = 1;
    if (id) {
        *id = p->fetch_id;
    }
    interrupt_ping(eng);
    return EAS_OK;
}

size_t eas_outbox_pending(const eas_engine_t *eng, eas_outbox_kind_t kind)
{
    const eng_priv_t *p = (const eng_priv_t *)(const void *)eng->priv;
    size_t n = 0;
    for (size_t s = 0; s < p->ob.cap; s++) {
        if (p->ob.slots[s].seq && (kind == EAS_OUTBOX_NONE || p->ob.slots[s].kind == kind)) {
            n++;
        }
    }
    return n;
}

int eas_sync_now(eas_engine_t *eng, const char *folder_id)
{
    eng_priv_t *p = P(eng);
    for (size_t i = 0; i < eng->mem.folder_cap; i++) {
        eas_folder_t *f = &eng->mem.folders[i];
        if (f->used && (!folder_id || strcmp(folder_id, f->server_id) == 0)) {
            f->flags |= EAS_FOLDER_F_DIRTY;
        }
    }
    if (p->poll) {
        p->poll = 0;
        p->wake_ms = 0;
    }
    interrupt_ping(eng);
    return EAS_OK;
}

const eas_folder_t *eas_engine_folder(const eas_engine_t *eng, const char *server_id)
{
    int i = folder_find(eng, server_id);
    return i >= 0 ? &eng->mem.folders[i] : NULL;
}

static int queue(eas_engine_t *eng, eas_outbox_kind_t kind, const char *folder_id,
                 const char *server_id, const char *instance, uint8_t reply,
                 const eas_field_t *fields, size_t n, uint32_t *id)
{
    eng_priv_t *p = P(eng);
    int fi = folder_id ? folder_find(eng, folder_id) : -1;
    uint32_t tmp = 0;
    if (fi < 0) {
        return EAS_ERR_NOT_FOUND;
    }
    int err = eas_outbox_put(&p->ob, eng->mem.arena, kind, (uint16_t)fi, folder_id, server_id,
                             instance, reply, fields, n, id ? id : &tmp);
    if (err == EAS_OK) {
        interrupt_ping(eng);
    }
    return err;
}

int eas_item_add(eas_engine_t *eng, const char *folder_id, const eas_field_t *fields, size_t n,
                 uint32_t *id)
{
    /* The ClientId is random and kept in the entry (instance_id), not the outbox id: ids
       restart at 1 when a restart finds the outbox empty, and the server remembers the
       ClientIds of a collection across SyncKeys to recognise a resent Add - a reused "1"
       made it answer a new item with the ServerId of an old one, and the new item was
       never created (session test power_loss_outbox). */
    uint8_t rnd[8];
    char cid[2 * sizeof(rnd) + 1];
    int err = hal_rng_fill(rnd, sizeof(rnd));
    if (err == EAS_OK) {
        for (size_t i = 0; i < sizeof(rnd); i++) {
            snprintf(cid + 2 * i, 3, "%02x", rnd[i]);
        }
        err = queue(eng, EAS_OUTBOX_ADD, folder_id, NULL, cid, 0, fields, n, id);
    }
    return err;
}

int eas_item_change(eas_engine_t *eng, const char *folder_id, const char *server_id,
                    eas_change_reason_t reason, unsigned flags, const eas_field_t *fields, size_t n,
                    uint32_t *id)
{
    int err = EAS_OK;
    if (id) {
        *id = 0;
    }
    if (reason != EAS_CHANGE_EDIT) {
        return EAS_OK; /* reminders are local: never an update [S 1.14, 1.16, 1.17] */
    }
    if (!server_id || (n > 0 && !fields)) {
        return EAS_ERR_PARAM;
    }
    size_t mark = eas_arena_mark(eng->mem.arena);
    eas_field_t *kept = n ? eas_arena_alloc(eng->mem.arena, n * sizeof(*kept), 8) : NULL;
    size_t k = 0;
    if (n && !kept) {
        err = EAS_ERR_NOMEM;
    }
    if (err == EAS_OK && n) {
        err = eas_outbox_filter(fields, n, flags, kept, &k);
    }
    if (err == EAS_OK) {
        err = queue(eng, EAS_OUTBOX_CHANGE, folder_id, server_id, NULL, 0, kept, k, id);
    }
    eas_arena_release(eng->mem.arena, mark);
    return err;
}

int eas_item_delete(eas_engine_t *eng, const char *folder_id, const char *server_id, uint32_t *id)
{
    if (!server_id) {
        return EAS_ERR_PARAM;
    }
    return queue(eng, EAS_OUTBOX_DELETE, folder_id, server_id, NULL, 0, NULL, 0, id);
}

int eas_mail_send(eas_engine_t *eng, const eas_mail_t *mail, uint32_t *id)
{
#if CONFIG_EAS_EMAIL
    eng_priv_t *p = P(eng);
    uint8_t rnd[8];
    char params[EAS_ID_CAP];
    uint32_t tmp = 0;
    bool smart = mail && mail->cmd != EAS_MAIL_SEND;
    if (!mail || mail->cmd < EAS_MAIL_SEND || mail->cmd > EAS_MAIL_FORWARD || mail->mime_len == 0 ||
        (smart &&
         (!mail->src_folder || !mail->src_folder[0] || !mail->src_item || !mail->src_item[0]))) {
        return EAS_ERR_PARAM;
    }
    if (!eng->cfg->mime_read) {
        return EAS_ERR_UNSUPPORTED;
    }
    if (mail->mime_len > CONFIG_EAS_MAIL_MAX_BYTES) {
        return EAS_ERR_LIMIT;
    }
    /* A random ClientId: outbox sequence numbers restart once the outbox is empty, and a
       reused ClientId would make the server drop a new message as "already sent" (118). */
    int err = hal_rng_fill(rnd, sizeof(rnd));
    if (err != EAS_OK) {
        return err;
    }
    snprintf(params, sizeof(params), "%u %u %llu %02x%02x%02x%02x%02x%02x%02x%02x",
             (mail->save_in_sent ? 1u : 0u) | (mail->replace_mime ? 2u : 0u),
             (unsigned)mail->mime_id, (unsigned long long)mail->mime_len, rnd[0], rnd[1], rnd[2],
             rnd[3], rnd[4], rnd[5], rnd[6], rnd[7]);
    const char *folder = smart ? mail->src_folder : "0"; /* "0": the mailbox root */
    int fi = folder_find(eng, folder);
    err = eas_outbox_put(&p->ob, eng->mem.arena, EAS_OUTBOX_SEND, fi >= 0 ? (uint16_t)fi : 0xFFFFu,
                         folder, smart ? mail->src_item : "", params, (uint8_t)mail->cmd, NULL, 0,
                         id ? id : &tmp);
    if (err == EAS_OK) {
        interrupt_ping(eng);
    }
    return err;
#else
    (void)eng;
    (void)mail;
    (void)id;
    return EAS_ERR_UNSUPPORTED;
#endif
}

int eas_item_move(eas_engine_t *eng, const char *folder_id, const char *server_id,
                  const char *dst_folder_id, uint32_t *id)
{
    if (!server_id || !server_id[0] || !dst_folder_id || !dst_folder_id[0] ||
        strlen(dst_folder_id) > CONFIG_EAS_SERVER_ID_MAX) {
        return EAS_ERR_PARAM;
    }
    return queue(eng, EAS_OUTBOX_MOVE, folder_id, server_id, dst_folder_id, 0, NULL, 0, id);
}

int eas_meeting_respond(eas_engine_t *eng, const char *folder_id, const char *server_id,
                        const char *instance_id, eas_meeting_reply_t reply, uint32_t *id)
{
    if (!server_id || reply < EAS_MEETING_ACCEPT || reply > EAS_MEETING_DECLINE) {
        return EAS_ERR_PARAM;
    }
    return queue(eng, EAS_OUTBOX_MEETING_RESPONSE, folder_id, server_id, instance_id,
                 (uint8_t)reply, NULL, 0, id);
}

/* ---- reply-all helper [S 2.14] ---- */

static int ieq(const char *a, size_t an, const char *b, size_t bn)
{
    if (an != bn) {
        return 0;
    }
    for (size_t i = 0; i < an; i++) {
        char x = a[i], y = b[i];
        x = (x >= 'A' && x <= 'Z') ? (char)(x + 32) : x;
        y = (y >= 'A' && y <= 'Z') ? (char)(y + 32) : y;
        if (x != y) {
            return 0;
        }
    }
    return 1;
}

size_t eas_recipients_drop_self(char *list, const char *self)
{
    size_t removed = 0;
    size_t out = 0;
    size_t i = 0;
    size_t len = strlen(list);
    size_t slen = self ? strlen(self) : 0;

    while (i <= len) {
        size_t start = i;
        int quoted = 0;
        while (i < len && (quoted || list[i] != ',')) {
            quoted ^= list[i] == '"';
            i++;
        }
        /* addr-spec: inside <...> when present, else the whole trimmed entry. */
        const char *a = list + start;
        size_t n = i - start;
        const char *lt = memchr(a, '<', n);
        const char *as = a;
        size_t an = n;
        if (lt) {
            const char *gt = memchr(lt, '>', (size_t)(a + n - lt));
            as = lt + 1;
            an = gt ? (size_t)(gt - as) : 0;
        }
        while (an > 0 && (*as == ' ' || *as == '\t')) {
            as++;
            an--;
        }
        while (an > 0 && (as[an - 1] == ' ' || as[an - 1] == '\t')) {
            an--;
        }
        if (slen > 0 && ieq(as, an, self, slen)) {
            removed++;
        } else if (n > 0) {
            /* Output never overtakes input: a kept entry moves left by at most the
               separator it had, so an in-place memmove is safe. */
            size_t s0 = 0;
            while (out == 0 && s0 < n && a[s0] == ' ') {
                s0++;
            }
            if (out > 0) {
                list[out++] = ',';
            }
            memmove(list + out, a + s0, n - s0);
            out += n - s0;
        }
        i++;
    }
    list[out] = '\0';
    return removed;
}
