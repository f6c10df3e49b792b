/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Ping: the idle wait for changes, and the search for the folder a rejected Ping is
 * about [S 2.15]. Ping has no pick(): the scheduler starts it when nothing else is due.
 *
 * The HeartbeatInterval comes from the adaptive heartbeat (heartbeat.c): every outcome of a
 * Ping is reported to it (clean expiry, changes, dropped connection, the server's bound) and
 * what it learns is persisted ("<prefix>.hb") whenever it changes. A Ping whose folder set
 * and interval equal those of the last accepted one goes with an empty body: the server
 * uses the parameters it cached (MS-ASCMD), which saves the body on every idle round trip.
 */
#include <stdio.h>
#include <string.h>

#include "eas_log.h"
#include "engine_internal.h"

#define MOD "engine"

static int on_ping_folder(void *user, const char *id)
{
    eas_engine_t *e = user;
    int i = eng_folder_find(e, id);
    if (i >= 0) {
        e->mem.folders[i].flags |= EAS_FOLDER_F_DIRTY;
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

/* ---- the heartbeat ---- */

void eng_ping_init(eas_engine_t *e)
{
    eng_priv_t *p = P(e);
    const eas_account_cfg_t *cfg = e->cfg;
    eas_hb_init(&p->hb, cfg->ping_interval_s ? cfg->ping_interval_s : CONFIG_EAS_PING_START_S,
                cfg->ping_ceiling_s ? cfg->ping_ceiling_s : CONFIG_EAS_PING_CEILING_S);
    int err = eas_hb_load(&p->hb, &p->ns);
    if (err != EAS_OK && err != EAS_ERR_STORE_NOT_FOUND) {
        /* Untrusted record: learn again from the start rather than trust it. */
        eng_report(e, err, 0, "learned heartbeat; starting over", NULL);
    }
}

static void hb_save(eas_engine_t *e)
{
    int err = eas_hb_save(&P(e)->hb, eng_ns(e));
    if (err != EAS_OK) {
        /* Not fatal: the values stay learned for this run. */
        eng_report(e, err, 0, "saving the learned heartbeat", NULL);
    }
}

/* Transport failures while the Ping waited: the connection died (a NAT or firewall that
   drops idle connections shows up as a reset or as an answer that never comes). */
static bool transport_err(int err)
{
    return err == EAS_ERR_TIMEOUT || err == EAS_ERR_RESET || err == EAS_ERR_CLOSED ||
           err == EAS_ERR_IO;
}

static void ping_backoff(eas_engine_t *e, int err, uint16_t status)
{
    eng_priv_t *p = P(e);
    p->ping_cached = 0; /* whatever went wrong, the next Ping carries its parameters */
    if (status == 0 && transport_err(err) && p->ping_sent_ms != 0) {
        uint64_t elapsed_s = (p->now_ms - p->ping_sent_ms) / 1000u;
        if (eas_hb_dropped(&p->hb, p->ping_iv,
                           elapsed_s > UINT32_MAX ? UINT32_MAX : (uint32_t)elapsed_s)) {
            EAS_LOGI(&e->sys.log, MOD, "Ping: connection dropped after %u s; heartbeat now %u s",
                     (unsigned)elapsed_s, (unsigned)eas_hb_interval(&p->hb));
            hb_save(e);
        }
    }
    p->ping_sent_ms = 0;
}

static int ping_start_req(eas_engine_t *e)
{
    eng_priv_t *p = P(e);
    eas_ping_folder_t list[PING_LIST_MAX];
    p->ping_sig = ping_sig(list, ping_set(e, list, PING_LIST_MAX));
    p->ping_iv = eas_hb_interval(&p->hb);
    /* The server's cached parameters are reused only when nothing changed: the same folder
       set and the same interval as the last Ping it accepted. */
    p->ping_empty = p->ping_cached && !p->ping_no_empty && !p->probing &&
                    p->ping_cache_sig == p->ping_sig && p->ping_cache_iv == p->ping_iv;
    if (p->ping_empty) {
        p->req.body = NULL;
    } else {
        /* Until this one is answered, the server's cache is not known. */
        p->ping_cached = 0;
    }
    p->ping_sent_ms = p->now_ms ? p->now_ms : 1u;
    p->req.cmd = EAS_CMD_PING;
    p->req.first_byte_timeout_ms = (p->ping_iv + 30u) * 1000u;
    /* The whole Ping, answer included: heartbeat plus a margin, not the default total. */
    p->req.total_timeout_ms = (p->ping_iv + 90u) * 1000u;
    eas_proto_ping_parser_init(&p->u.ping, on_ping_folder, e);
    return EAS_OK;
}

static int ping_build(eas_engine_t *e, eas_wbxml_enc_t *enc, eas_http_write_fn write, void *wctx)
{
    eng_priv_t *p = P(e);
    eas_ping_folder_t list[PING_LIST_MAX];
    size_t n = ping_set(e, list, PING_LIST_MAX);
    (void)write;
    (void)wctx;
    eas_proto_ping_build(enc, p->ping_iv, list, n);
    return eas_wbxml_enc_finish(enc);
}

/* ---- Ping: the rejected-folder search [S 2.15] ---- */

static int save_folders(eas_engine_t *e)
{
    return eas_state_folders_save(eng_ns(e), e->hierarchy_key, e->mem.folders, e->mem.folder_cap,
                                  e->mem.arena);
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
    EAS_LOGW(&e->sys.log, MOD, "Ping: folder rejected by the server (status %u); not pinged again",
             (unsigned)status);
    ev.u.folder.entry = f;
    ev.u.folder.status = status;
    (void)eng_emit(e, &ev);
    if (save_folders(e) != EAS_OK) {
        eng_report(e, EAS_ERR_STORE, status, "saving the Ping exclusion", f->server_id);
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
void eng_ping_start(eas_engine_t *e)
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
        p->wake_ms = p->now_ms + (uint64_t)eas_hb_interval(&p->hb) * 1000u;
        eng_set_state(e, EAS_STATE_PINGING);
        return;
    }
    (void)eng_start(e, &eng_cmd_ping);
}

static void apply_ping(eas_engine_t *e, const eas_http_response_t *rsp)
{
    (void)rsp;
    eng_priv_t *p = P(e);
    eas_ping_parser_t *pp = &p->u.ping;
    uint32_t st = p->got_body ? pp->status : EAS_STATUS_PING_EXPIRED;
    uint64_t elapsed_s = (p->now_ms - p->ping_sent_ms) / 1000u;
    bool was_empty = p->ping_empty;

    p->ping_sent_ms = 0;
    p->ping_empty = 0;
    if (st != EAS_STATUS_PING_EXPIRED && st != EAS_STATUS_PING_CHANGES) {
        p->ping_cached = 0;
    }
    if (eng_reprovision_status(st)) {
        eng_reprovision(e, &eng_cmd_ping, (uint16_t)st);
        return;
    }
    if (eng_common_status(e, st, "Ping")) {
        return;
    }
    if ((st == EAS_STATUS_PING_MISSING_PARAMS || st == EAS_STATUS_PING_SYNTAX) && was_empty) {
        /* The server lost (3) or could not use (4) its cached parameters: the next Ping
           carries them, so it is not the request that was refused. A server that does not
           keep them at all would otherwise get every other Ping empty and refuse it: full
           Pings only, for the rest of this run. */
        p->ping_no_empty = 1;
        EAS_LOGI(&e->sys.log, MOD,
                 "Ping: the server did not take an empty Ping (status %u); full from now on",
                 (unsigned)st);
        eng_next(e);
        return;
    }
    switch (st) {
    case EAS_STATUS_PING_EXPIRED:
    case EAS_STATUS_PING_CHANGES: /* changes: the folders were marked DIRTY by on_ping_folder, only
                                     they sync */
        p->ping_rejected = 0;
        p->failures = 0;
        p->ping_cached = 1;
        p->ping_cache_sig = p->ping_sig;
        p->ping_cache_iv = p->ping_iv;
        /* Status 1 is the server saying the whole heartbeat passed: the connection survived
           it. Status 2 proves only the time it waited. */
        if (st == EAS_STATUS_PING_EXPIRED
                ? eas_hb_expired(&p->hb, p->ping_iv)
                : eas_hb_alive(&p->hb, elapsed_s > UINT32_MAX ? UINT32_MAX : (uint32_t)elapsed_s)) {
            hb_save(e);
        }
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
        eng_next(e);
        break;
    case EAS_STATUS_PING_BAD_HEARTBEAT:
        /* Adopt the server's bound (too long: its maximum; too short: its minimum). The
           next request differs, so it is not a resend; the bound is remembered. */
        if (eas_hb_server_bound(&p->hb, p->ping_iv, pp->heartbeat)) {
            EAS_LOGI(&e->sys.log, MOD, "Ping: server bound %u s adopted (asked %u s)",
                     (unsigned)pp->heartbeat, (unsigned)p->ping_iv);
            hb_save(e);
            eng_next(e);
        } else {
            eng_fail_backoff(e, EAS_ERR_PROTO, EAS_STATUS_PING_BAD_HEARTBEAT, "Ping heartbeat", 0);
        }
        break;
    case EAS_STATUS_PING_TOO_MANY:
        if (pp->max_folders > 0 && pp->max_folders != p->ping_max_folders) {
            p->ping_max_folders = pp->max_folders;
            eng_next(e);
        } else {
            eng_fail_backoff(e, EAS_ERR_PROTO, EAS_STATUS_PING_TOO_MANY, "Ping folders", 0);
        }
        break;
    case EAS_STATUS_PING_HIERARCHY:
    case EAS_STATUS_PING_MISSING_PARAMS:
    case EAS_STATUS_PING_SYNTAX:
    case EAS_STATUS_SYNC_STATE_NOT_FOUND:
        /* [S 2.15] A rejected Ping is never resent as it was. 7 first refreshes the
           hierarchy (a deleted folder then leaves the set). If the same set would go out
           again, eng_ping_start() bisects it to find the folder and drops that one. Each
           step shrinks the suspects, so the search ends; a cap guards the rest. */
        p->ping_rejected++;
        if (p->ping_rejected > 2u * PING_LIST_MAX) {
            probe_clear(e);
            p->rej_valid = 0;
            p->ping_rejected = 0;
            eng_fail_backoff(e, EAS_ERR_PROTO, (uint16_t)st, "Ping rejected", 0);
        } else if (p->probing) {
            /* The probe half holds the culprit. */
            for (size_t i = 0; i < e->mem.folder_cap; i++) {
                if (!(e->mem.folders[i].flags & FOLDER_F_PROBE)) {
                    e->mem.folders[i].flags &= (uint8_t)~FOLDER_F_SUSPECT;
                }
            }
            (void)probe_split(e, (uint16_t)st);
            eng_next(e);
        } else {
            p->rej_sig = p->ping_sig;
            p->rej_valid = 1;
            p->rej_status = (uint16_t)st;
            if (st == EAS_STATUS_PING_HIERARCHY) {
                (void)eng_start(e, &eng_cmd_foldersync);
            } else {
                eng_next(e);
            }
        }
        break;
    default:
        eng_fail_backoff(e, EAS_ERR_SERVER, (uint16_t)st, "Ping", 0);
        break;
    }
}

const eng_cmd_t eng_cmd_ping = {
    .name = "Ping",
    .state = EAS_STATE_PINGING,
    .flags = ENG_CMD_F_EMPTY_OK | ENG_CMD_F_IDLE, /* empty 200: heartbeat expired */
    .decode = eas_proto_ping_event,
    .start = ping_start_req,
    .build = ping_build,
    .apply = apply_ping,
    .backoff = ping_backoff,
};
