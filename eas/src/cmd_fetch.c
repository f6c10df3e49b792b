/* SPDX-License-Identifier: Apache-2.0 */
/*
 * On-demand and progress commands: ItemOperations Fetch (eas_fetch(): a body or an
 * attachment the user asked for, streamed as it arrives) and GetItemEstimate (how many
 * items a folder's first sync will bring, for EAS_EV_PROGRESS).
 */
#include <stdio.h>
#include <string.h>

#include "eas_log.h"
#include "engine_internal.h"

#define MOD "engine"

/* ---- progress of a first sync (GetItemEstimate, CONFIG_EAS_ESTIMATE) ---- */
#if CONFIG_EAS_ESTIMATE

void eng_progress(eas_engine_t *e)
{
    eng_priv_t *p = P(e);
    eas_event_t ev = {.type = EAS_EV_PROGRESS};
    ev.u.progress.folder = e->mem.folders[p->est_index].server_id;
    ev.u.progress.estimate = p->est_total;
    ev.u.progress.done = p->est_done;
    (void)eng_emit(e, &ev);
}

static int estimate_start(eas_engine_t *e)
{
    eng_priv_t *p = P(e);
    p->req.cmd = EAS_CMD_GETITEMESTIMATE;
    eas_proto_estimate_parser_init(&p->u.est);
    return EAS_OK;
}

static int estimate_build(eas_engine_t *e, eas_wbxml_enc_t *enc, eas_http_write_fn write,
                          void *wctx)
{
    eng_priv_t *p = P(e);
    const eas_folder_t *f = &e->mem.folders[p->cur];
    eas_estimate_req_t r = {f->server_id, f->sync_key, f->cls, e->version, eng_folder_filter(e, f)};
    (void)write;
    (void)wctx;
    eas_proto_estimate_build(enc, &r);
    return eas_wbxml_enc_finish(enc);
}

static void apply_estimate(eas_engine_t *e, const eas_http_response_t *rsp)
{
    (void)rsp;
    eng_priv_t *p = P(e);
    eas_estimate_parser_t *ep = &p->u.est;
    if (eng_reprovision_status(ep->top_status) || eng_reprovision_status(ep->status)) {
        eng_reprovision(e, &eng_cmd_estimate,
                        (uint16_t)(ep->top_status ? ep->top_status : ep->status));
        return;
    }
    if (eng_common_status(e, ep->top_status, "GetItemEstimate") ||
        eng_common_status(e, ep->status, "GetItemEstimate")) {
        return; /* 111: back-off; 177: stopped */
    }
    /* Progress is a nicety: any other answer just means no estimate; the sync goes on. */
    if (ep->status == EAS_STATUS_SUCCESS && ep->has_estimate) {
        p->est_valid = 1;
        p->est_total = ep->estimate;
        p->est_done = 0;
        eng_progress(e);
    } else {
        EAS_LOGI(&e->sys.log, MOD, "no item estimate (status %u)", (unsigned)ep->status);
    }
    eng_next(e);
}

/* Picked by Sync (cmd_sync.c) before a folder's first item sync. */
const eng_cmd_t eng_cmd_estimate = {
    .name = "GetItemEstimate",
    .state = EAS_STATE_SYNCING,
    .decode = eas_proto_estimate_event,
    .start = estimate_start,
    .build = estimate_build,
    .apply = apply_estimate,
};
#endif /* CONFIG_EAS_ESTIMATE */

/* ---- ItemOperations Fetch (CONFIG_EAS_FETCH) ---- */
#if CONFIG_EAS_FETCH

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
    ev.u.fetch.bytes = p->cmd == &eng_cmd_fetch ? p->u.fetch.bytes : 0;
    (void)eng_emit(e, &ev);
}

void eng_fetch_end(eas_engine_t *e, uint16_t status, int err, bool final)
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
    return eng_emit(user, &ev);
}

static const eas_fetch_cbs_t k_fetch_cbs = {on_fetch_begin, eng_on_item_field, on_fetch_data};

static const eng_cmd_t *fetch_pick(eas_engine_t *e)
{
    eng_priv_t *p = P(e);
    if (!p->fetch_pending) {
        return NULL;
    }
    /* The user is waiting for it: before background syncs. */
    p->cur = -1;
    return &eng_cmd_fetch;
}

static int fetch_start(eas_engine_t *e)
{
    eng_priv_t *p = P(e);
    p->req.cmd = EAS_CMD_ITEMOPERATIONS;
    eas_proto_fetch_parser_init(&p->u.fetch, &k_fetch_cbs, e);
    return EAS_OK;
}

static int fetch_build(eas_engine_t *e, eas_wbxml_enc_t *enc, eas_http_write_fn write, void *wctx)
{
    eng_priv_t *p = P(e);
    eas_fetch_req_t r = {p->fetch_folder, p->fetch_sid, p->fetch_ref, e->cfg->body_type};
    (void)write;
    (void)wctx;
    eas_proto_fetch_build(enc, &r);
    return eas_wbxml_enc_finish(enc);
}

/* A failed attempt: whatever streamed of it is void; the retry starts with a new BEGIN. */
static void fetch_backoff(eas_engine_t *e, int err, uint16_t status)
{
    eng_priv_t *p = P(e);
    if (p->fetch_pending) {
        bool give_up = ++p->fetch_attempts >= CONFIG_EAS_OUTBOX_MAX_ATTEMPTS;
        eng_fetch_end(e, status, err, give_up);
    }
}

static void apply_fetch(eas_engine_t *e, const eas_http_response_t *rsp)
{
    (void)rsp;
    eng_priv_t *p = P(e);
    eas_fetch_parser_t *fp = &p->u.fetch;
    if (eng_reprovision_status(fp->top_status)) {
        eng_reprovision(e, &eng_cmd_fetch, (uint16_t)fp->top_status);
        return;
    }
    if (eng_common_status(e, fp->top_status, "ItemOperations")) {
        return; /* 111: back-off (an attempt of the fetch); 177: stopped */
    }
    if (fp->top_status == EAS_STATUS_NONE) {
        eng_fail_backoff(e, EAS_ERR_SERVER, (uint16_t)fp->top_status, "ItemOperations", 0);
        return;
    }
    /* Answered: success or a per-fetch failure (6 not found, 15 bad reference...) is final;
       resending the same fetch would get the same answer. */
    uint16_t st = (uint16_t)(fp->top_status != EAS_STATUS_SUCCESS ? fp->top_status : fp->status);
    if (st == EAS_STATUS_SUCCESS && !fp->props_seen) {
        st = EAS_STATUS_NONE;
    }
    eng_fetch_end(e, st, st == EAS_STATUS_SUCCESS ? EAS_OK : EAS_ERR_SERVER, true);
    if (st != EAS_STATUS_SUCCESS) {
        eng_report(e, EAS_ERR_SERVER, st, "fetch failed", NULL);
    }
    p->failures = 0;
    p->prov_attempts = 0;
    eng_next(e);
}

const eng_cmd_t eng_cmd_fetch = {
    .name = "ItemOperations",
    .state = EAS_STATE_SYNCING,
    /* A fetched body or attachment is one long string that streams through; the
       Sync-sized limit would refuse it. Bounded by its own symbol instead. */
    .max_string = CONFIG_EAS_FETCH_MAX_BYTES,
    .decode = eas_proto_fetch_event,
    .pick = fetch_pick,
    .start = fetch_start,
    .build = fetch_build,
    .apply = apply_fetch,
    .backoff = fetch_backoff,
};

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
    eng_interrupt_ping(eng);
    return EAS_OK;
}

#else /* !CONFIG_EAS_FETCH */

int eas_fetch(eas_engine_t *eng, const char *folder_id, const char *server_id,
              const char *file_reference, uint32_t *id)
{
    (void)eng;
    (void)folder_id;
    (void)server_id;
    (void)file_reference;
    (void)id;
    return EAS_ERR_UNSUPPORTED;
}

#endif /* CONFIG_EAS_FETCH */
