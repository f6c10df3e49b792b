/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Sync: one folder per request. Items stream to the application as they are decoded
 * (calendar items also through the collector), the outbox's Add/Change/Delete go up in the
 * same request, and the answer is committed outbox first, then the new sync key.
 */
#include <stdio.h>
#include <string.h>

#include "eas_log.h"
#include "engine_internal.h"

#define MOD "engine"

/* Which folder syncs next (sets p->cur): a folder with changes or queued local changes;
   once per first sync GetItemEstimate first when progress is asked for. */
static const eng_cmd_t *sync_pick(eas_engine_t *e)
{
    eng_priv_t *p = P(e);
    for (size_t i = 0; i < e->mem.folder_cap; i++) {
        if (eng_folder_needs_sync(e, i)) {
            const eas_folder_t *f = &e->mem.folders[i];
            p->cur = (int16_t)i;
#if CONFIG_EAS_ESTIMATE
            if (e->cfg->progress && !(f->flags & EAS_FOLDER_F_SYNCED) &&
                strcmp(f->sync_key, "0") != 0 && p->est_index != (int16_t)i) {
                /* The folder is primed (SyncKey 0 done), no item fetched yet: ask once. */
                p->est_index = (int16_t)i;
                p->est_valid = 0;
                p->est_done = 0;
                return &eng_cmd_estimate;
            }
#else
            (void)f;
#endif
            return &eng_cmd_sync;
        }
    }
    p->cur = -1;
    return NULL;
}

static int on_sync_collection(void *user, const char *cid, const char *key, uint32_t status)
{
    eas_engine_t *e = user;
    eng_priv_t *p = P(e);
    (void)key;
    if (status == EAS_STATUS_SUCCESS && strcmp(cid, e->mem.folders[p->cur].server_id) != 0) {
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
    if (p->u.sync.coll_status != EAS_STATUS_SUCCESS) {
        return EAS_ERR_PROTO;
    }
    ev.u.item.op = op;
    ev.u.item.folder = f->server_id;
    ev.u.item.server_id = sid;
    ev.u.item.cls = f->cls;
    ev.u.item.soft_delete = soft;
    p->item_open = 1;
    p->item_resp = 0;
    p->item_self = 0;
    p->item_uid = 0;
    if (CONFIG_EAS_MEETING_RESPONSE && op == EAS_ITEM_DELETE && !soft) {
        eng_mr_check_delivered(e, true, sid); /* [S 1.15] the answered item is gone */
    }
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
        c->item.log = &e->sys.log;
        eas_cal_item_parser_init(&c->parser, &c->item, c->device_tz);
        p->cal_depth = p->u.sync.appdata_depth;
        p->cal_err = eas_cal_item_parser_event(&c->parser, &open);
        p->cal_active = 1;
    }
#endif
    return eng_emit(e, &ev);
}

int eng_on_item_field(void *user, const eas_wbxml_event_t *wev, uint16_t rel)
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
    if (CONFIG_EAS_MEETING_RESPONSE && rel <= 3) {
        eng_mr_item_field(e, wev, rel); /* what proves a MeetingResponse applied [S 1.15] */
    }
#if CONFIG_EAS_CALENDAR
    if (p->cal_active && p->cal_err == EAS_OK) {
        p->cal_err = eas_cal_item_parser_event(&e->mem.cal->parser, wev);
    }
#endif
    return eng_emit(e, &ev);
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
#if CONFIG_EAS_ESTIMATE
    if (p->est_index == p->cur && op != EAS_ITEM_DELETE) {
        p->est_done++;
    }
#endif
    if (CONFIG_EAS_MEETING_RESPONSE && (p->item_resp || p->item_self) && op != EAS_ITEM_DELETE) {
        eng_mr_check_delivered(e, false, sid);
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
    return eng_emit(e, &ev);
}

/* The ClientId of an outbox Add: the random one stored with it, or for an entry written
   before ClientIds were random, its outbox id. */
static const char *add_client_id(const eas_outbox_entry_t *ent, char *buf, size_t cap)
{
    if (ent->u.add.client_id[0]) {
        return ent->u.add.client_id;
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
            /* Change and Delete: the item's ServerId. */
            match =
                eas_outbox_read(&p->ob, s, e->mem.arena, &ent) == EAS_OK && sid &&
                strcmp(ent.kind == EAS_OUTBOX_CHANGE ? ent.u.change.server_id : ent.u.del.server_id,
                       sid) == 0;
            eas_arena_release(e->mem.arena, mark);
        }
        if (match) {
            /* [S 1.13] per-item Status (docs/integration.md "Outbox"):
             *   1, and 8 on a Delete (already gone): done, removed;
             *   5 / 16 (server error, retry later): reported, kept and sent again with the
             *     next Sync, dropped with a report after CONFIG_EAS_OUTBOX_MAX_ATTEMPTS;
             *   anything else (4 bad request, 6 invalid item, 7 conflict - the server's
             *     version wins and comes down -, 8 on an Add/Change): resending the same
             *     data cannot succeed; reported and dropped. The application hears the
             *     entry's outcome with its outbox id and ServerId (EAS_EV_OUTBOX_RESULT). */
            bool gone = status == EAS_STATUS_SYNC_NOT_FOUND && sl->kind == EAS_OUTBOX_DELETE;
            if (status == EAS_STATUS_SYNC_SERVER_ERROR || status == EAS_STATUS_SYNC_RETRY) {
                eng_report(e, EAS_ERR_SERVER, (uint16_t)status,
                           "outbox item deferred by the server; sent again", NULL);
                sl->in_flight = OB_RETRY;
                break;
            }
            eng_outbox_result(e, s, (uint16_t)status, sid);
            if (status != EAS_STATUS_SUCCESS && !gone) {
                eng_report(e, EAS_ERR_SERVER, (uint16_t)status, "outbox item rejected; dropped",
                           NULL);
            }
            sl->in_flight = OB_DONE;
            break;
        }
    }
    return EAS_OK;
}

static const eas_sync_item_cbs_t k_sync_cbs = {on_item_begin, eng_on_item_field, on_item_end,
                                               on_sync_response, on_sync_collection};

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
                eas_wbxml_enc_elem_text(enc, EAS_AIRSYNC_SERVER_ID,
                                        ent.kind == EAS_OUTBOX_CHANGE ? ent.u.change.server_id
                                                                      : ent.u.del.server_id);
                const char *occ = ent.kind == EAS_OUTBOX_CHANGE ? ent.u.change.instance_id
                                                                : ent.u.del.instance_id;
                if (occ[0]) {
                    /* One occurrence (eas_item_change/delete_occurrence, 16.x). */
                    eas_wbxml_enc_elem_text(enc, EAS_AIRSYNCBASE_INSTANCE_ID, occ);
                }
            }
            if (ent.kind != EAS_OUTBOX_DELETE) {
                size_t pos = 0;
                eas_field_t f;
                bool v16 = e->version >= EAS_VER_16_0;
                unsigned skip = 0; /* depth inside a Calendar:Exceptions left out at 16.x */
                eas_wbxml_enc_start(enc, EAS_AIRSYNC_APPLICATION_DATA);
                const uint8_t *fl =
                    ent.kind == EAS_OUTBOX_ADD ? ent.u.add.fields : ent.u.change.fields;
                size_t fl_len =
                    ent.kind == EAS_OUTBOX_ADD ? ent.u.add.fields_len : ent.u.change.fields_len;
                while (eas_outbox_field_next(fl, fl_len, &pos, &f) == 1) {
                    if (skip > 0 ||
                        (v16 && f.kind == EAS_FIELD_START && f.tag == EAS_CALENDAR_EXCEPTIONS)) {
                        /* A 16.x client MUST NOT send Exceptions (MS-ASCAL): occurrences
                           change through eas_item_change_occurrence(). */
                        skip = f.kind == EAS_FIELD_START ? skip + 1
                               : f.kind == EAS_FIELD_END ? skip - 1
                                                         : skip;
                        continue;
                    }
                    if (v16 && f.kind == EAS_FIELD_TEXT && f.tag == EAS_CALENDAR_LOCATION) {
                        /* 16.x has no Calendar:Location: AirSyncBase:Location/DisplayName. */
                        eas_wbxml_enc_start(enc, EAS_AIRSYNCBASE_LOCATION);
                        eas_wbxml_enc_start(enc, EAS_AIRSYNCBASE_DISPLAY_NAME);
                        eas_wbxml_enc_text(enc, f.data, f.len);
                        eas_wbxml_enc_end(enc);
                        eas_wbxml_enc_end(enc);
                        continue;
                    }
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

/* Sync FilterType of a folder (-1: none), shared by Sync and GetItemEstimate. */
int eng_folder_filter(const eas_engine_t *e, const eas_folder_t *f)
{
    if (f->cls == EAS_CLASS_CALENDAR && e->cfg->calendar_filter) {
        return e->cfg->calendar_filter;
    }
    if (f->cls == EAS_CLASS_EMAIL && e->cfg->email_filter) {
        return e->cfg->email_filter;
    }
    return -1;
}

static int sync_start(eas_engine_t *e)
{
    eng_priv_t *p = P(e);
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
#if CONFIG_EAS_ESTIMATE
    if (p->est_valid && p->est_index == p->cur && p->est_done > 0) {
        eng_progress(e);
    }
#endif
    eas_proto_sync_parser_init(&p->u.sync, &k_sync_cbs, e);
    return EAS_OK;
}

static int sync_build(eas_engine_t *e, eas_wbxml_enc_t *enc, eas_http_write_fn write, void *wctx)
{
    eng_priv_t *p = P(e);
    const eas_folder_t *f = &e->mem.folders[p->cur];
    int filter = eng_folder_filter(e, f);
    /* The decoder refuses strings over CONFIG_EAS_WBXML_MAX_STRING; asking for more
       would make one long body fail the folder on every retry. */
    uint32_t trunc = e->cfg->body_truncation;
    (void)write;
    (void)wctx;
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
                        .commands = CONFIG_EAS_OUTBOX && p->cmds_sent ? sync_commands : NULL,
                        .commands_user = e};
    eas_proto_sync_build(enc, &r);
    return eas_wbxml_enc_finish(enc);
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
    (void)eng_emit(e, &ev);
    (void)eas_state_skey_save(eng_ns(e), (size_t)(f - e->mem.folders), f);
}

static void apply_sync(eas_engine_t *e, const eas_http_response_t *rsp)
{
    (void)rsp;
    eng_priv_t *p = P(e);
    eas_sync_parser_t *sp = &p->u.sync;
    eas_folder_t *f = &e->mem.folders[p->cur];
    uint32_t st = sp->coll_status;

    if (!p->got_body && strcmp(f->sync_key, "0") == 0) {
        /* An empty answer to SyncKey 0 issues no key: resending it at once would loop. */
        eng_fail_backoff(e, EAS_ERR_PROTO, 0, "Sync: empty answer to SyncKey 0", 0);
        return;
    }
    if (!p->got_body) {
        /* Empty 200 answer: no changes, keep the key (SOGo quirk 4). Commands sent got no
           answer: count the attempt. */
        st = EAS_STATUS_SUCCESS;
        sp->more_available = false;
        strcpy(sp->sync_key, f->sync_key);
        sp->has_sync_key = true;
    }
    if (sp->top_status != EAS_STATUS_NONE && sp->top_status != EAS_STATUS_SUCCESS) {
        st = sp->top_status;
    }
    if (eng_reprovision_status(st)) {
        eng_reprovision(e, &eng_cmd_sync, (uint16_t)st);
        return;
    }
    if (eng_common_status(e, st, "Sync")) {
        return; /* 111: back-off; 177: stopped */
    }
    if (st == EAS_STATUS_SYNC_INVALID_KEY || st == EAS_STATUS_SYNC_STATE_EXISTS) {
        if (strcmp(f->sync_key, "0") == 0) {
            /* Key 0 itself was refused: restarting again at once would loop [S 2.9]. */
            eng_fail_backoff(e, EAS_ERR_SERVER, (uint16_t)st, "Sync: SyncKey 0 refused", 0);
            return;
        }
        folder_resync(e, f, (uint16_t)st);
        eng_next(e);
        return;
    }
    if (st == EAS_STATUS_SYNC_HIERARCHY_CHANGED) {
        /* Hierarchy changed: an incremental FolderSync first (its Deletes remove what is
           gone), sync keys kept. Twice in a row without effect goes to the back-off. */
        if (++p->hier_retries > 1) {
            p->hier_retries = 0;
            eng_fail_backoff(e, EAS_ERR_SERVER, EAS_STATUS_SYNC_HIERARCHY_CHANGED,
                             "Sync: hierarchy out of date", 0);
            return;
        }
        p->fs_pending = 1;
        eng_next(e);
        return;
    }
    if (st == EAS_STATUS_SYNC_NOT_FOUND) {
        /* Folder gone on the server: the next FolderSync removes it. */
        f->flags &= (uint8_t)~EAS_FOLDER_F_SELECTED;
        eng_report(e, EAS_ERR_NOT_FOUND, EAS_STATUS_SYNC_NOT_FOUND, "Sync: folder not found",
                   f->server_id);
        p->fs_pending = 1;
        eng_next(e);
        return;
    }
    if (st != EAS_STATUS_SUCCESS || !sp->has_sync_key) {
        eng_fail_backoff(e, EAS_ERR_SERVER, (uint16_t)st, "Sync", 0);
        return;
    }
    /* Outbox first, then the key: if power fails in between, the server replays its
       answer to the old key and no local change is sent twice. */
    for (size_t s = 0; s < p->ob.cap; s++) {
        eas_outbox_slot_t *sl = &p->ob.slots[s];
        if (sl->in_flight == OB_SENT && sl->kind != EAS_OUTBOX_ADD && p->got_body) {
            /* Successful changes and deletes are not answered individually (MS-ASCMD). */
            eng_outbox_result(e, s, EAS_STATUS_SUCCESS, NULL);
            sl->in_flight = OB_DONE;
        }
        if (sl->in_flight == OB_DONE) {
            if (eas_outbox_remove(&p->ob, s) != EAS_OK) {
                eng_fail_backoff(e, EAS_ERR_STORE, 0, "outbox", 0);
                return;
            }
        } else if (sl->in_flight == OB_SENT || sl->in_flight == OB_RETRY) {
            uint16_t a = (uint16_t)(sl->attempts + 1);
            if (a >= CONFIG_EAS_OUTBOX_MAX_ATTEMPTS) {
                eng_outbox_result(e, s, EAS_STATUS_NONE, NULL);
                eng_report(e, EAS_ERR_PROTO, 0,
                           sl->in_flight == OB_RETRY ? "outbox item deferred too often; dropped"
                                                     : "outbox item never answered; dropped",
                           NULL);
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
            eng_report(e, EAS_ERR_SYNC_LOOP, EAS_STATUS_SUCCESS, "Sync", f->server_id);
            eng_fail_backoff(e, EAS_ERR_SYNC_LOOP, EAS_STATUS_SUCCESS, "Sync repeated its key", 0);
            return;
        }
        /* [S 2.2] Asking again at once would be the identical request in a tight loop:
         * the same key comes back only after the back-off (the folder stays dirty). */
        eng_fail_backoff(e, EAS_ERR_SYNC_LOOP, EAS_STATUS_SUCCESS,
                         "Sync repeated its key; retry after back-off", 0);
        return;
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
    int err = eas_state_skey_save(eng_ns(e), (size_t)p->cur, f);
    if (err != EAS_OK) {
        eng_fail_backoff(e, err, 0, "saving the sync key", 0);
        return;
    }
    if (complete) {
        eas_event_t ev = {.type = was_resync ? EAS_EV_RESYNC_END : EAS_EV_FOLDER_SYNCED};
        ev.u.folder.entry = f;
        (void)eng_emit(e, &ev);
        if (was_resync) {
            ev.type = EAS_EV_FOLDER_SYNCED;
            (void)eng_emit(e, &ev);
        }
    }
    p->failures = 0;
    p->prov_attempts = 0;
    p->hier_retries = 0;
    eng_next(e);
}

const eng_cmd_t eng_cmd_sync = {
    .name = "Sync",
    .state = EAS_STATE_SYNCING,
    .flags = ENG_CMD_F_EMPTY_OK, /* an empty 200: no changes (SOGo quirk 4) */
    .decode = eas_proto_sync_event,
    .pick = sync_pick,
    .start = sync_start,
    .build = sync_build,
    .apply = apply_sync,
};
