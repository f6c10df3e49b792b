/* SPDX-License-Identifier: Apache-2.0 */
/*
 * FolderSync: the folder hierarchy, incremental from the stored key; restarted from key 0
 * (status 9) with folders re-matched by ServerId.
 */
#include <stdio.h>
#include <string.h>

#include "eas_log.h"
#include "engine_internal.h"

static const eng_cmd_t *fs_pick(eas_engine_t *e)
{
    eng_priv_t *p = P(e);
    /* With the stored key: only hierarchy changes come back (Add/Update/Delete). */
    return strcmp(e->hierarchy_key, "0") == 0 || p->fs_pending ? &eng_cmd_foldersync : NULL;
}

static int on_fs_change(void *user, const eas_proto_folder_t *c)
{
    eas_engine_t *e = user;
    eas_event_t ev = {.type = EAS_EV_FOLDER};
    int i = eng_folder_find(e, c->server_id);
    int err = EAS_OK;

    ev.u.folder.op = c->op;
    ev.u.folder.display_name = c->display_name;
    if (c->op == EAS_ITEM_DELETE) {
        if (i >= 0) {
            ev.u.folder.entry = &e->mem.folders[i];
            err = eng_emit(e, &ev);
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
            eng_report(e, EAS_ERR_LIMIT, 0, "folder table full", c->server_id);
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
    eng_folder_select(e, f);
    /* Re-adding a known folder after FolderSync key 0 is an update: keep its sync key. */
    ev.u.folder.op = existed ? EAS_ITEM_CHANGE : c->op;
    ev.u.folder.entry = f;
    return eng_emit(e, &ev);
}

static int fs_start(eas_engine_t *e)
{
    eng_priv_t *p = P(e);
    p->req.cmd = EAS_CMD_FOLDERSYNC;
    eas_proto_foldersync_parser_init(&p->u.fs, on_fs_change, e);
    return EAS_OK;
}

static int fs_build(eas_engine_t *e, eas_wbxml_enc_t *enc, eas_http_write_fn write, void *wctx)
{
    (void)write;
    (void)wctx;
    eas_proto_foldersync_build(enc, e->hierarchy_key);
    return eas_wbxml_enc_finish(enc);
}

/* A malformed answer: drop half-applied hierarchy changes, reload what was committed. */
static void fs_parse_failed(eas_engine_t *e)
{
    char hk[EAS_ID_CAP];
    (void)eas_state_folders_load(eng_ns(e), hk, e->mem.folders, e->mem.folder_cap, e->mem.arena);
    for (size_t i = 0; i < e->mem.folder_cap; i++) {
        if (e->mem.folders[i].used) {
            eng_folder_select(e, &e->mem.folders[i]);
            (void)eas_state_skey_load(eng_ns(e), i, &e->mem.folders[i]);
        }
    }
}

static void apply_foldersync(eas_engine_t *e)
{
    eng_priv_t *p = P(e);
    eas_fs_parser_t *fp = &p->u.fs;

    if (fp->status == EAS_STATUS_FS_INVALID_KEY) {
        /* Invalid hierarchy key: start over from 0 and re-match folders by ServerId. */
        strcpy(e->hierarchy_key, "0");
        for (size_t i = 0; i < e->mem.folder_cap; i++) {
            if (e->mem.folders[i].used) {
                e->mem.folders[i].flags |= FOLDER_F_UNSEEN;
            }
        }
        p->fs_reset = 1;
        (void)eng_start(e, &eng_cmd_foldersync);
        return;
    }
    if (eng_common_status(e, fp->status, "FolderSync")) {
        return; /* 111: back-off; 177: stopped */
    }
    if (fp->status != EAS_STATUS_SUCCESS || !fp->has_sync_key) {
        eng_fail_backoff(e, EAS_ERR_SERVER, (uint16_t)fp->status, "FolderSync", 0);
        return;
    }
    if (p->fs_reset) {
        for (size_t i = 0; i < e->mem.folder_cap; i++) {
            eas_folder_t *f = &e->mem.folders[i];
            if (f->used && (f->flags & FOLDER_F_UNSEEN)) {
                eas_event_t ev = {.type = EAS_EV_FOLDER};
                ev.u.folder.op = EAS_ITEM_DELETE;
                ev.u.folder.entry = f;
                (void)eng_emit(e, &ev);
                f->used = 0;
            }
            f->flags &= (uint8_t)~FOLDER_F_UNSEEN;
        }
        p->fs_reset = 0;
    }
    int err = eas_state_folders_save(eng_ns(e), fp->sync_key, e->mem.folders, e->mem.folder_cap,
                                     e->mem.arena);
    if (err != EAS_OK) {
        eng_fail_backoff(e, err, 0, "saving the folder list", 0);
        return;
    }
    strcpy(e->hierarchy_key, fp->sync_key);
    p->fs_pending = 0;
    if (CONFIG_EAS_OUTBOX) {
        eng_outbox_resolve_folders(e);
    }
    p->failures = 0;
    eng_next(e);
}

static void fs_apply(eas_engine_t *e, const eas_http_response_t *rsp)
{
    eng_priv_t *p = P(e);
    (void)rsp;
    if (eng_reprovision_status(p->u.fs.status)) {
        eng_reprovision(e, &eng_cmd_foldersync, (uint16_t)p->u.fs.status);
    } else {
        apply_foldersync(e);
    }
}

const eng_cmd_t eng_cmd_foldersync = {
    .name = "FolderSync",
    .state = EAS_STATE_FOLDERSYNC,
    .decode = eas_proto_foldersync_event,
    .pick = fs_pick,
    .start = fs_start,
    .build = fs_build,
    .apply = fs_apply,
    .parse_failed = fs_parse_failed,
};
