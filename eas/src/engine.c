/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The account engine's scheduler: OPTIONS → Provision → FolderSync → Sync → Ping, driven by
 * eas_step().
 *
 * One request at a time. The commands are descriptors (engine_internal.h) in one file per
 * command family (cmd_*.c); this file only chooses the next one (k_schedule), runs its HTTP
 * request, feeds the response to its parser and, once the response is complete and parsed,
 * hands it to the command to apply and commit. Every failure goes through
 * eng_fail_backoff(), the only place that schedules a retry, so no failure path can resend
 * in a tight loop.
 */
#include <stdio.h>
#include <string.h>

#include "eas_log.h"
#include "engine_internal.h"

#define MOD "engine"

/* What runs next, in priority order: the first command whose pick() says it is due. When
   none is, the account is up to date and the idle Ping (cmd_ping.c) runs. */
static const eng_cmd_t *const k_schedule[] = {
    &eng_cmd_options,    /* no protocol version yet */
    &eng_cmd_settings,   /* device information not given yet (for these values) */
    &eng_cmd_foldersync, /* no hierarchy, or a hierarchy change is due */
#if CONFIG_EAS_FETCH
    &eng_cmd_fetch, /* the user waits for it: before background syncs */
#endif
    &eng_cmd_sync,              /* folders with changes (or GetItemEstimate first) */
#if CONFIG_EAS_MEETING_RESPONSE /* else never referenced: dropped by the linker */
    &eng_cmd_meeting,           /* queued commands of their own */
#endif
#if CONFIG_EAS_MOVE /* else never referenced: the linker drops MoveItems' code */
    &eng_cmd_move,
#endif
#if CONFIG_EAS_EMAIL
    &eng_cmd_send,
#endif
};

static const char *const k_state_names[] = {
    "idle",    "options", "provisioning",    "foldersync",     "syncing",
    "pinging", "backoff", "auth-failed",     "policy-refused", "blocked",
    "wiped",   "failed",  "redirect-pending"};

const char *eas_engine_state_name(eas_engine_state_t s)
{
    return (unsigned)s < sizeof(k_state_names) / sizeof(k_state_names[0]) ? k_state_names[s] : "?";
}

/* ---- events ---- */

int eng_emit(eas_engine_t *e, eas_event_t *ev)
{
    return e->cb ? e->cb(e->cb_user, ev) : EAS_OK;
}

void eng_set_state(eas_engine_t *e, eas_engine_state_t s)
{
    if (e->state != s) {
        eas_event_t ev = {.type = EAS_EV_STATE};
        ev.u.state.state = s;
        ev.u.state.previous = e->state;
        e->state = s;
        EAS_LOGI(&e->sys.log, MOD, "state %s", eas_engine_state_name(s));
        (void)eng_emit(e, &ev);
    }
}

void eng_report(eas_engine_t *e, int err, uint16_t status, const char *what, const char *folder)
{
    eas_event_t ev = {.type = EAS_EV_ERROR};
    ev.u.error.err = err;
    ev.u.error.status = status;
    ev.u.error.what = what;
    ev.u.error.folder = folder;
    EAS_LOGW(&e->sys.log, MOD, "%s: %s (status %u)", what, eas_strerror(err), (unsigned)status);
    (void)eng_emit(e, &ev);
}

void eng_stop(eas_engine_t *e, eas_engine_state_t s, int err, uint16_t status, const char *what)
{
    eng_priv_t *p = P(e);
    eng_report(e, err, status, what, NULL);
    p->stop_err = err;
    p->wake_ms = 0;
    eng_set_state(e, s);
}

/* ---- back-off: the one retry policy [S 2.9, 2.2] ----
 *
 * delay = start x 2^(consecutive failures), capped at CONFIG_EAS_BACKOFF_MAX_MS, jittered
 * into [delay/2, delay), and never shorter than a Retry-After the server sent. Only the
 * start depends on what failed:
 * - the server said it is busy and did not say for how long (no Retry-After): HTTP
 *   503/429 and Status 111 (EAS_ERR_THROTTLED), or any failure of an answer that carried
 *   X-MS-ASThrottle, whatever its HTTP or EAS status: the busy start,
 *   CONFIG_EAS_BACKOFF_BUSY_MS (60 s). Asking an overloaded server again after
 *   seconds only adds to its load; 60 s keeps a 10-minute outage at 6 requests at most,
 *   whatever the jitter (the n-th retry comes no earlier than 30 s x (2^n - 1)).
 * - everything else (no connection, reset, timeout, malformed answer, other statuses) and
 *   a busy answer with Retry-After (the server named its own floor): CONFIG_EAS_BACKOFF_MIN_MS
 *   (2 s), so a radio gap or a dropped connection costs seconds, not a minute.
 * The exponent counts consecutive failures of any kind; a success resets it. */

static uint64_t backoff_start_ms(const eas_engine_t *e, int err, uint32_t retry_after_s)
{
    if ((err != EAS_ERR_THROTTLED && !PC(e)->throttled) || retry_after_s != 0) {
        return CONFIG_EAS_BACKOFF_MIN_MS;
    }
    uint64_t busy = e->cfg->backoff_busy_ms ? e->cfg->backoff_busy_ms : CONFIG_EAS_BACKOFF_BUSY_MS;
    if (busy < CONFIG_EAS_BACKOFF_MIN_MS) {
        busy = CONFIG_EAS_BACKOFF_MIN_MS;
    }
    return busy > CONFIG_EAS_BACKOFF_MAX_MS ? CONFIG_EAS_BACKOFF_MAX_MS : busy;
}

void eng_fail_backoff(eas_engine_t *e, int err, uint16_t status, const char *what,
                      uint32_t retry_after_s)
{
    eng_priv_t *p = P(e);
    if (p->cmd && p->cmd->backoff) {
        p->cmd->backoff(e, err, status);
    }
    uint64_t delay = backoff_start_ms(e, err, retry_after_s);
    uint32_t r = 0;

    for (uint32_t i = 0; i < p->failures && delay < CONFIG_EAS_BACKOFF_MAX_MS; i++) {
        delay *= 2;
    }
    if (delay > CONFIG_EAS_BACKOFF_MAX_MS) {
        delay = CONFIG_EAS_BACKOFF_MAX_MS;
    }
    /* Jitter in [delay/2, delay): devices that failed together do not retry together. */
    if (eng_rng(e, (uint8_t *)&r, sizeof(r)) != EAS_OK) {
        r = 0;
    }
    delay = delay / 2 + (delay / 2 > 0 ? r % (delay / 2) : 0);
    if ((uint64_t)retry_after_s * 1000u > delay) {
        delay = (uint64_t)retry_after_s * 1000u;
    }
    p->failures++;
    p->wake_ms = p->now_ms + delay;
    eng_report(e, err, status, what, p->cur >= 0 ? e->mem.folders[p->cur].server_id : NULL);
    eng_set_state(e, EAS_STATE_BACKOFF);
}

bool eng_common_status(eas_engine_t *e, uint32_t st, const char *what)
{
    if (st == EAS_STATUS_SERVER_ERROR_RETRY) {
        /* 111: the server asks to come back later; the same back-off (and busy start) as a
           503 without Retry-After. */
        eng_fail_backoff(e, EAS_ERR_THROTTLED, (uint16_t)st, what, 0);
        return true;
    }
    if (st == EAS_STATUS_MAXIMUM_DEVICES) {
        /* 177: the user has too many devices on this mailbox. Retrying cannot help until a
           device is removed on the server: stop, reported, until eas_engine_restart(). */
        eng_stop(e, EAS_STATE_BLOCKED, EAS_ERR_FORBIDDEN, (uint16_t)st,
                 "maximum number of devices reached");
        return true;
    }
    if (st == EAS_STATUS_DEVICE_INFO_REQUIRED) {
        eng_devinfo_required(e, what); /* 165: Settings DeviceInformation first */
        return true;
    }
    return false;
}

/* ---- folder helpers ---- */

int eng_folder_find(const eas_engine_t *e, const char *id)
{
    for (size_t i = 0; i < e->mem.folder_cap; i++) {
        if (e->mem.folders[i].used && strcmp(e->mem.folders[i].server_id, id) == 0) {
            return (int)i;
        }
    }
    return -1;
}

bool eng_folder_needs_sync(const eas_engine_t *e, size_t i)
{
    const eas_folder_t *f = &e->mem.folders[i];
    const eng_priv_t *p = PC(e);
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

void eng_folder_select(eas_engine_t *e, eas_folder_t *f)
{
    f->cls = eas_proto_folder_class(f->type);
    if (f->cls & e->cfg->classes) {
        f->flags |= EAS_FOLDER_F_SELECTED;
    } else {
        f->flags &= (uint8_t)~EAS_FOLDER_F_SELECTED;
    }
}

void eng_outbox_resolve_folders(eas_engine_t *e)
{
    eng_priv_t *p = P(e);
    for (size_t s = 0; s < p->ob.cap; s++) {
        if (!p->ob.slots[s].seq) {
            continue;
        }
        size_t mark = eas_arena_mark(e->mem.arena);
        eas_outbox_entry_t ent;
        if (eas_outbox_read(&p->ob, s, e->mem.arena, &ent) == EAS_OK) {
            int fi = eng_folder_find(e, ent.folder_id);
            p->ob.slots[s].folder = fi >= 0 ? (uint16_t)fi : 0xFFFFu;
        }
        eas_arena_release(e->mem.arena, mark);
    }
}

/* ---- request plumbing ---- */

uint32_t eng_policy_key_u32(const char *k)
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

static int body_fn(void *user, eas_http_write_fn write, void *wctx)
{
    eas_engine_t *e = user;
    eng_priv_t *p = P(e);
    eas_wbxml_enc_t enc;

    eas_wbxml_enc_init(&enc, p->encbuf, sizeof(p->encbuf), write, wctx);
    if (p->cmd && p->cmd->build) {
        return p->cmd->build(e, &enc, write, wctx);
    }
    return eas_wbxml_enc_finish(&enc);
}

static int sink_fn(void *user, const eas_http_response_t *rsp, const uint8_t *d, size_t n)
{
    eas_engine_t *e = user;
    eng_priv_t *p = P(e);
    int err = EAS_OK;
    if (rsp->status != 200 || (p->cmd->flags & ENG_CMD_F_NO_WBXML)) {
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

int eng_start(eas_engine_t *e, const eng_cmd_t *cmd)
{
    eng_priv_t *p = P(e);
    int err;

    eas_arena_reset(e->mem.arena);
    p->cmd = cmd;
    p->parse_err = EAS_OK;
    p->got_body = 0;
    p->throttled = 0;
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
    p->req.body = cmd->build ? body_fn : NULL;
    p->req.body_user = e;
    p->req.sink = sink_fn;
    p->req.sink_user = e;
    p->req.policy_key = eng_policy_key_u32(e->policy_key);

    err = cmd->start(e);
    if (err != EAS_OK) {
        return err; /* reported and backed off by the command */
    }
    eng_set_state(e, cmd->state);
    if (cmd->decode) {
        eas_wbxml_dec_init(&p->dec, cmd->decode, &p->u);
        if (cmd->max_string) {
            /* e.g. a fetched body streams through as one long string: bounded by its own
               symbol instead of the Sync-sized limit. */
            p->dec.max_string = cmd->max_string;
            p->dec.max_opaque = cmd->max_string;
        }
    }
    err = eas_http_client_start(&p->http, &p->req, p->now_ms);
    p->running = err == EAS_OK;
    if (err == EAS_ERR_HTTP_PLAINTEXT_AUTH) {
        /* Retrying cannot help: the application must opt in or use https. */
        eng_stop(e, EAS_STATE_FAILED, err, 0, "credentials over plain http refused");
    } else if (err != EAS_OK) {
        eng_fail_backoff(e, err, 0, "request", 0);
    }
    return err;
}

/* ---- choosing the next operation ---- */

static const eng_cmd_t *schedule_pick(eas_engine_t *e)
{
    for (size_t i = 0; i < sizeof(k_schedule) / sizeof(k_schedule[0]); i++) {
        const eng_cmd_t *c = k_schedule[i]->pick(e);
        if (c) {
            return c;
        }
    }
    return NULL;
}

void eng_next(eas_engine_t *e)
{
    eng_priv_t *p = P(e);
    const eng_cmd_t *c;

    if (p->replay) {
        c = p->replay;
        p->replay = NULL;
        (void)eng_start(e, c);
        return;
    }
    c = schedule_pick(e);
    if (!c) {
        /* A pick may have asked for a folder sync first (the delivery check of a
           MeetingResponse): one more round finds it. */
        c = schedule_pick(e);
    }
    if (c) {
        (void)eng_start(e, c);
        return;
    }
    if (!p->complete_reported || e->state == EAS_STATE_SYNCING ||
        e->state == EAS_STATE_FOLDERSYNC) {
        eas_event_t ev = {.type = EAS_EV_SYNC_COMPLETE};
        p->complete_reported = 1;
        (void)eng_emit(e, &ev);
    }
    if (e->cfg->no_push) {
        /* The application asked for no push: nothing stays open until it asks again
           (eas_sync_now, a queued change: eng_interrupt_ping). */
        p->parked = 1;
        eng_set_state(e, EAS_STATE_IDLE);
        return;
    }
    eng_ping_start(e);
}

/* ---- re-provisioning [S 2.12] ---- */

bool eng_reprovision_status(uint32_t s)
{
    return s == EAS_STATUS_NOT_PROVISIONED || s == EAS_STATUS_POLICY_REFRESH ||
           s == EAS_STATUS_INVALID_POLICY_KEY || s == EAS_STATUS_REMOTE_WIPE ||
           eng_unmeetable_status(s);
}

bool eng_unmeetable_status(uint32_t s)
{
    return s == EAS_STATUS_NOT_PROVISIONABLE || s == EAS_STATUS_LEGACY_DEVICE;
}

void eng_reprovision(eas_engine_t *e, const eng_cmd_t *failed, uint16_t status)
{
    eng_priv_t *p = P(e);
    if (eng_unmeetable_status(status)) {
        /* [S 2.1] 139 (device not fully provisionable) / 141 (legacy device on a strict
         * policy): the server says this device cannot comply. A new key would be refused
         * the same way; stop where the application can see it. */
        p->replay = NULL;
        p->prov_attempts = 0;
        eng_stop(e, EAS_STATE_POLICY_REFUSED, EAS_ERR_POLICY, status,
                 "server: the device cannot comply with the policy");
        return;
    }
    if (p->prov_attempts >= CONFIG_EAS_PROVISION_RETRIES) {
        p->prov_attempts = 0;
        p->replay = NULL;
        eng_fail_backoff(e, EAS_ERR_PROVISION_LOOP, status, "re-provisioning", 0);
        return;
    }
    p->prov_attempts++;
    if (!(failed->flags & ENG_CMD_F_PROVISION)) {
        p->replay = failed;
    }
    e->policy_key[0] = '\0';
    if (p->prov_attempts > 1) {
        /* A second round trip in a row is already a loop symptom: slow it down. */
        const eng_cmd_t *keep = p->replay;
        eng_fail_backoff(e, EAS_ERR_POLICY, status, "re-provisioning again", 0);
        p->replay = keep;
        p->wake_ms = p->wake_ms ? p->wake_ms : p->now_ms;
        p->cmd = &eng_cmd_prov_policy; /* what to run when the back-off ends */
        return;
    }
    (void)eng_start(e, &eng_cmd_prov_policy);
}

int eng_save_acct(eas_engine_t *e)
{
    eas_state_acct_t a;
    memset(&a, 0, sizeof(a));
    a.version = (uint16_t)e->version;
    strcpy(a.policy_key, e->policy_key);
    return eas_state_acct_save(eng_ns(e), &a, e->mem.arena);
}

int64_t eng_utc(const eas_engine_t *e)
{
    return e->cfg->utc_now != NULL ? e->cfg->utc_now(e->cfg->utc_user) : 0;
}

/* Whatever the answer, cookies it set are persisted at once: the next request, or the next
 * run after a power cut, must return them (the server may refuse a device that does not). */
static void save_cookies(eas_engine_t *e)
{
    eng_priv_t *p = P(e);
    /* Constant false without the jar: the store code for cookies is not linked in. */
    if (CONFIG_EAS_HTTP_COOKIES && p->jar_on && eas_cookie_jar_take_changed(&p->jar)) {
        int serr = eas_state_cookies_save(eng_ns(e), &p->jar, eng_utc(e), e->mem.arena);
        if (serr != EAS_OK) {
            eng_report(e, serr, 0, "saving cookies", NULL);
        }
    }
}

static void on_complete(eas_engine_t *e)
{
    eng_priv_t *p = P(e);
    const eas_http_response_t *rsp = eas_http_client_response(&p->http);
    eas_http_verdict_t v;
    const eng_cmd_t *cmd = p->cmd;

    save_cookies(e);
    eas_http_classify(rsp, &v);
    /* A failure of this answer, at the HTTP or the EAS level, is a busy server's. */
    p->throttled = rsp->throttle[0] != 0;
    if (rsp->throttle[0]) {
        /* Reported whatever the status: administrators see throttled devices, so should
           the user. */
        eas_event_t tev = {.type = EAS_EV_THROTTLED};
        tev.u.throttle.reason = rsp->throttle;
        tev.u.throttle.status = rsp->status;
        tev.u.throttle.retry_after_s = v.has_retry_after ? v.retry_after_s : 0;
        EAS_LOGW(&e->sys.log, MOD, "throttled by the server (%s, HTTP %u)", rsp->throttle,
                 (unsigned)rsp->status);
        (void)eng_emit(e, &tev);
    }
    if (rsp->credentials_expire_days >= 0) {
        /* The password (or the credentials behind the token) expires soon: the user should
           change it before the server starts answering 457. */
        eas_event_t cev = {.type = EAS_EV_CREDENTIALS_EXPIRE};
        cev.u.credentials.days = (uint32_t)rsp->credentials_expire_days;
        EAS_LOGW(&e->sys.log, MOD, "credentials expire in %ld day(s)",
                 (long)rsp->credentials_expire_days);
        (void)eng_emit(e, &cev);
    }
    if (rsp->has_rp) {
        /* The server's protocol versions changed (X-MS-RP): the hierarchy is fetched again;
           if our version is no longer offered, OPTIONS negotiates a new one first. */
        EAS_LOGI(&e->sys.log, MOD, "server protocol versions changed (X-MS-RP): FolderSync again");
        p->fs_pending = 1;
        if (rsp->rp_versions != 0 && (rsp->rp_versions & eas_proto_ver_bit(e->version)) == 0) {
            e->version = EAS_VER_NONE;
        }
    }
    switch (v.cls) {
    case EAS_HTTP_CLASS_OK:
        p->redirects = 0;
        if (p->url_unsaved) {
            /* The new URL works: from now on it is the account's URL, also after a restart. */
            int serr = eas_state_url_save(eng_ns(e), e->cfg->url, p->url, e->mem.arena);
            if (serr != EAS_OK) {
                eng_report(e, serr, EAS_HTTP_STATUS_MOVED, "saving the redirected URL", NULL);
            } else {
                p->url_unsaved = 0;
            }
        }
        break;
    case EAS_HTTP_CLASS_REDIRECT:
        eng_follow_redirect(e, cmd, v.location);
        return;
    case EAS_HTTP_CLASS_PROVISION:
        eng_reprovision(e, cmd, EAS_HTTP_STATUS_NEEDS_PROVISION);
        return;
    case EAS_HTTP_CLASS_AUTH:
        /* One report, then stop: retrying a wrong password locks accounts [S 2.9]. */
        eng_stop(e, EAS_STATE_AUTH_FAILED, EAS_ERR_AUTH, rsp->status, "credentials rejected");
        return;
    case EAS_HTTP_CLASS_FORBIDDEN:
    case EAS_HTTP_CLASS_BLOCKED:
    case EAS_HTTP_CLASS_PASSWORD_EXPIRED:
        eng_stop(e, EAS_STATE_BLOCKED, v.err ? v.err : EAS_ERR_FORBIDDEN, rsp->status,
                 "access denied");
        return;
    default:
        if (v.retry_after_capped) {
            /* Honoured only up to the configured cap; the application learns what was asked. */
            EAS_LOGW(&e->sys.log, MOD, "Retry-After %lu s capped at %u s",
                     (unsigned long)v.retry_after_asked_s,
                     (unsigned)CONFIG_EAS_HTTP_RETRY_AFTER_MAX_S);
            eng_report(e, EAS_ERR_LIMIT, rsp->status, "Retry-After capped", NULL);
        }
        eng_fail_backoff(e, v.err ? v.err : EAS_ERR_HTTP_STATUS, rsp->status,
                         eas_http_class_name(v.cls), v.has_retry_after ? v.retry_after_s : 0);
        return;
    }
    if (cmd->flags & ENG_CMD_F_NO_WBXML) {
        cmd->apply(e, rsp);
        return;
    }
    if (p->parse_err == EAS_OK && p->got_body) {
        p->parse_err = eas_wbxml_dec_finish(&p->dec);
    }
    if (p->parse_err == EAS_OK && !p->got_body && !(cmd->flags & ENG_CMD_F_EMPTY_OK)) {
        p->parse_err = EAS_ERR_PROTO;
    }
    if (p->parse_err != EAS_OK) {
        if (cmd->parse_failed) {
            cmd->parse_failed(e);
        }
        for (size_t s = 0; s < p->ob.cap; s++) {
            p->ob.slots[s].in_flight = 0; /* nothing of this response is trusted */
        }
        eng_fail_backoff(e, p->parse_err, 0, "malformed response", 0);
        return;
    }
    cmd->apply(e, rsp);
}

/* ---- public API ---- */

/* A corrupt outbox record: the change it held cannot be sent. Say which one was lost. */
static void outbox_lost(void *user, size_t slot, const char *key)
{
    eas_engine_t *e = user;
    eas_event_t ev = {.type = EAS_EV_ERROR};
    (void)slot;
    ev.u.error.err = EAS_ERR_STORE_CORRUPT;
    ev.u.error.what = "queued local change lost: outbox record corrupt";
    ev.u.error.record = key;
    EAS_LOGE(&e->sys.log, MOD, "%s (%s)", ev.u.error.what, key);
    (void)eng_emit(e, &ev);
}

int eas_engine_init(eas_engine_t *eng, const eas_account_cfg_t *cfg, const eas_engine_mem_t *mem,
                    const hal_net_t *net, const hal_sys_t *sys, eas_event_cb_t cb, void *cb_user)
{
    int err = EAS_ERR_PARAM;
    eng_priv_t *p;
    eas_state_acct_t acct;
    char key[EAS_STATE_KEY_CAP];

    if (mem && mem->config != EAS_CONFIG_FINGERPRINT) {
        /* The caller's structs and buffers were sized by another configuration: touching
           even eng could write past it. */
        return EAS_ERR_CONFIG;
    }
    if (!eng || !cfg || !mem || !net || !sys || !sys->store.put || !sys->store.get ||
        !sys->store.del || !sys->rng.fill || !mem->folders || !mem->outbox || !mem->arena ||
        !mem->http_work || !cfg->url || !cfg->device_id || !cfg->store_prefix ||
        strlen(cfg->device_id) == 0 ||
        eas_state_key(key, sizeof(key), cfg->store_prefix, "acct") != EAS_OK) {
        goto out;
    }
    if (!CONFIG_EAS_ESTIMATE && cfg->progress) {
        return EAS_ERR_UNSUPPORTED; /* GetItemEstimate is not built in */
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
    eng->sys = *sys;
    p->ns.store = &eng->sys.store;
    p->ns.log = &eng->sys.log;
    p->ns.prefix = cfg->store_prefix;
    eng->cb = cb;
    eng->cb_user = cb_user;
    p->cur = -1;
    p->est_index = -1;

    eas_http_client_config_t hc;
    memset(&hc, 0, sizeof(hc));
    hc.net = &eng->net;
    hc.auth = cfg->auth;
    hc.user_agent = cfg->user_agent;
    hc.work = mem->http_work;
    hc.work_len = mem->http_work_len;
    hc.utc_now = cfg->utc_now;
    hc.utc_user = cfg->utc_user;
    if (mem->cookie_mem != NULL) {
        err = eas_cookie_jar_init(&p->jar, mem->cookie_mem, mem->cookie_mem_len);
        if (err != EAS_OK) {
            goto out;
        }
        p->jar_on = 1;
        hc.cookies = &p->jar;
    }
    hc.allow_plaintext_auth = cfg->allow_plaintext_auth;
    eas_url_t cu;
    if (eas_url_parse(cfg->url, &cu) == EAS_OK && !cu.tls && cfg->auth.kind != EAS_HTTP_AUTH_NONE &&
        !cfg->allow_plaintext_auth) {
        /* Say so at once rather than at the first request. */
        err = EAS_ERR_HTTP_PLAINTEXT_AUTH;
        goto out;
    }
    hc.log = &eng->sys.log;
    err = eas_http_client_init(&p->http, &hc);
    if (err != EAS_OK) {
        goto out;
    }
    eas_arena_reset(eng->mem.arena);
    if (CONFIG_EAS_HTTP_COOKIES && p->jar_on) {
        int cerr = eas_state_cookies_load(&p->ns, &p->jar, eng_utc(eng), eng->mem.arena);
        if (cerr != EAS_OK && cerr != EAS_ERR_STORE_NOT_FOUND) {
            eng_report(eng, cerr, 0, "cookies; starting without them", NULL);
        }
    }
    strcpy(eng->hierarchy_key, "0");
    err = eas_state_acct_load(&p->ns, &acct, eng->mem.arena);
    if (err == EAS_OK) {
        eng->version = (eas_proto_ver_t)acct.version;
        strcpy(eng->policy_key, acct.policy_key);
    } else if (err == EAS_ERR_STORE_NOT_FOUND) {
        err = EAS_OK; /* a new account */
    } else if (err == EAS_ERR_STORE_CORRUPT) {
        /* It holds only what the server gives again (version, policy key): negotiate and
           provision from scratch instead of failing every run. */
        eng->version = EAS_VER_NONE;
        eng->policy_key[0] = '\0';
        eng_report(eng, err, 0, "account record corrupt; provisioning again", NULL);
        err = EAS_OK;
    } else {
        p->stop_err = err;
        eng_set_state(eng, EAS_STATE_FAILED);
        goto out;
    }
    eng_load_stored_url(eng);
    int ferr = eas_state_folders_load(&p->ns, eng->hierarchy_key, eng->mem.folders,
                                      eng->mem.folder_cap, eng->mem.arena);
    if (ferr != EAS_OK && ferr != EAS_ERR_STORE_NOT_FOUND) {
        /* Lose the hierarchy, not the account: FolderSync from 0 rebuilds it. */
        eng_report(eng, ferr, 0, "folder list", NULL);
    }
    for (size_t i = 0; i < eng->mem.folder_cap; i++) {
        eas_folder_t *f = &eng->mem.folders[i];
        if (f->used) {
            eng_folder_select(eng, f);
            if (eas_state_skey_load(&p->ns, i, f) == EAS_ERR_STORE_CORRUPT) {
                eng_report(eng, EAS_ERR_STORE_CORRUPT, 0, "sync key; folder resyncs", f->server_id);
            }
            /* What changed while we were not running: one incremental FolderSync, then
               one incremental Sync per folder. */
            f->flags |= EAS_FOLDER_F_DIRTY;
            p->fs_pending = 1;
        }
    }
    eng_ping_init(eng);
    size_t bad = 0;
    err = eas_outbox_load(&p->ob, eng->mem.outbox, eng->mem.outbox_cap, &p->ns, eng->mem.arena,
                          &bad, CONFIG_EAS_OUTBOX ? outbox_lost : NULL, eng);
    if (err == EAS_OK && CONFIG_EAS_OUTBOX) { /* else always empty (outbox_none.c) */
        eng_outbox_resolve_folders(eng);
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
                eng_fail_backoff(eng, rc, 0,
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
            eng_next(eng);
            continue;
        }
        if (eng->state == EAS_STATE_BACKOFF) {
            if (now_ms < p->wake_ms) {
                deadline = p->wake_ms;
                break;
            }
            p->wake_ms = 0;
            if (p->cmd == &eng_cmd_prov_policy && p->replay) {
                /* A re-provisioning slowed down by the back-off (eng_reprovision). */
                (void)eng_start(eng, &eng_cmd_prov_policy);
            } else {
                eng_next(eng);
            }
            continue;
        }
        if (p->parked) {
            break; /* no_push and up to date: no request, no timer */
        }
        eng_next(eng);
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

uint32_t eas_engine_heartbeat_s(const eas_engine_t *eng)
{
    return eng != NULL ? eas_hb_interval(&PC(eng)->hb) : 0u;
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
    p->parked = 0;
    eng_devinfo_restart(eng);
    if (p->url_pending) {
        /* The redirect was not approved: back to the URL used before it. */
        p->url_pending = 0;
        eas_arena_reset(eng->mem.arena);
        eng_load_stored_url(eng);
        eas_arena_reset(eng->mem.arena);
    }
    eng_set_state(eng, EAS_STATE_IDLE);
    return EAS_OK;
}

void eas_engine_close(eas_engine_t *eng)
{
    eng_priv_t *p = P(eng);
    eas_http_client_cancel(&p->http);
    eas_http_client_close(&p->http);
    p->running = 0;
}

/* A running Ping (or an idle poll wait, or the no_push rest) is abandoned so queued work
   starts now rather than after the heartbeat. */
void eng_interrupt_ping(eas_engine_t *eng)
{
    eng_priv_t *p = P(eng);
    if (p->poll) {
        p->poll = 0;
        p->wake_ms = 0;
    }
    /* no_push: the next eas_step() starts the round (its first command sets the state). */
    p->parked = 0;
    if (p->running && (p->cmd->flags & ENG_CMD_F_IDLE)) {
        eas_http_client_cancel(&p->http);
        p->running = 0;
        /* Reported like every state change: the application sees the Ping end. */
        eng_set_state(eng, EAS_STATE_SYNCING);
    }
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
    eng_interrupt_ping(eng);
    return EAS_OK;
}

const eas_folder_t *eas_engine_folder(const eas_engine_t *eng, const char *server_id)
{
    int i = eng_folder_find(eng, server_id);
    return i >= 0 ? &eng->mem.folders[i] : NULL;
}
