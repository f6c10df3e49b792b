/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Ping: the idle wait for changes, and the search for the folder a rejected Ping is
 * about [S 2.15]. Ping has no pick(): the scheduler starts it when nothing else is due.
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

static int ping_start_req(eas_engine_t *e)
{
    eng_priv_t *p = P(e);
    eas_ping_folder_t list[PING_LIST_MAX];
    p->ping_sig = ping_sig(list, ping_set(e, list, PING_LIST_MAX));
    p->req.cmd = EAS_CMD_PING;
    p->req.first_byte_timeout_ms = (p->ping_interval + 30u) * 1000u;
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
    eas_proto_ping_build(enc, p->ping_interval, list, n);
    return eas_wbxml_enc_finish(enc);
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
        p->wake_ms = p->now_ms + (uint64_t)p->ping_interval * 1000u;
        eng_set_state(e, EAS_STATE_PINGING);
        return;
    }
    /* A fixed heartbeat (p->ping_interval, or the bound the server asked for). */
    (void)eng_start(e, &eng_cmd_ping);
}

static void apply_ping(eas_engine_t *e, const eas_http_response_t *rsp)
{
    (void)rsp;
    eng_priv_t *p = P(e);
    eas_ping_parser_t *pp = &p->u.ping;
    uint32_t st = p->got_body ? pp->status : 1;

    if (eng_reprovision_status(st)) {
        eng_reprovision(e, &eng_cmd_ping, (uint16_t)st);
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
        eng_next(e);
        break;
    case 5:
        /* Adopt the server's bound: the next request differs, so it is not a resend. */
        if (pp->heartbeat > 0 && pp->heartbeat != p->ping_interval) {
            p->ping_interval = pp->heartbeat;
            eng_next(e);
        } else {
            eng_fail_backoff(e, EAS_ERR_PROTO, 5, "Ping heartbeat", 0);
        }
        break;
    case 6:
        if (pp->max_folders > 0 && pp->max_folders != p->ping_max_folders) {
            p->ping_max_folders = pp->max_folders;
            eng_next(e);
        } else {
            eng_fail_backoff(e, EAS_ERR_PROTO, 6, "Ping folders", 0);
        }
        break;
    case 7:
    case 3:
    case 4:
    case 132:
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
            if (st == 7) {
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
};
