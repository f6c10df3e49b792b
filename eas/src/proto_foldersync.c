/* SPDX-License-Identifier: Apache-2.0 */
/* FolderSync: hierarchy changes, each reported as it completes. */
#include <string.h>

#include "eas_proto.h"

int eas_proto_foldersync_build(eas_wbxml_enc_t *enc, const char *sync_key)
{
    eas_wbxml_enc_start(enc, EAS_FOLDERHIERARCHY_FOLDER_SYNC);
    eas_wbxml_enc_elem_text(enc, EAS_FOLDERHIERARCHY_SYNC_KEY, sync_key);
    return eas_wbxml_enc_end(enc);
}

void eas_proto_foldersync_parser_init(eas_fs_parser_t *p, eas_fs_change_cb cb, void *user)
{
    memset(p, 0, sizeof(*p));
    p->on_change = cb;
    p->user = user;
}

/* A truncated display name must not end in half a UTF-8 sequence. */
static void trim_utf8(char *s, size_t len)
{
    size_t cut = len;
    while (cut > 0 && ((unsigned char)s[cut - 1] & 0xC0u) == 0x80u) {
        cut--;
    }
    /* cut - 1 is a lead byte (or ASCII): keep it only if its sequence is complete. */
    if (cut > 0 && ((unsigned char)s[cut - 1] & 0x80u)) {
        unsigned char lead = (unsigned char)s[cut - 1];
        size_t need = (lead & 0xE0u) == 0xC0u ? 2 : (lead & 0xF0u) == 0xE0u ? 3 : 4;
        if (len - (cut - 1) < need) {
            len = cut - 1;
        }
    }
    s[len] = '\0';
}

int eas_proto_foldersync_event(void *user, const eas_wbxml_event_t *ev)
{
    eas_fs_parser_t *p = user;
    int err = EAS_OK;

    if (ev->type == EAS_WBXML_EV_TEXT && ev->tag == EAS_FOLDERHIERARCHY_DISPLAY_NAME) {
        /* Names can be long; keep a prefix rather than rejecting the folder. */
        size_t room = sizeof(p->cur.display_name) - 1 - p->name_len;
        size_t n = ev->len < room ? ev->len : room;
        memcpy(p->cur.display_name + p->name_len, ev->data, n);
        p->name_len = (uint16_t)(p->name_len + n);
        p->cur.display_name[p->name_len] = '\0';
        p->name_truncated = p->name_truncated || n < ev->len;
        return EAS_OK;
    }
    eas_proto_path_event(&p->path, ev);
    if (ev->type == EAS_WBXML_EV_START) {
        if (ev->depth == 1 && ev->tag != EAS_FOLDERHIERARCHY_FOLDER_SYNC) {
            return EAS_ERR_PROTO;
        }
        if (ev->depth == 3 && (ev->tag == EAS_FOLDERHIERARCHY_ADD ||
                               ev->tag == EAS_FOLDERHIERARCHY_UPDATE ||
                               ev->tag == EAS_FOLDERHIERARCHY_DELETE)) {
            memset(&p->cur, 0, sizeof(p->cur));
            p->name_len = 0;
            p->name_truncated = false;
            p->cur.op = ev->tag == EAS_FOLDERHIERARCHY_ADD      ? EAS_ITEM_ADD
                        : ev->tag == EAS_FOLDERHIERARCHY_UPDATE ? EAS_ITEM_CHANGE
                                                                : EAS_ITEM_DELETE;
        }
        return EAS_OK;
    }
    if (ev->type != EAS_WBXML_EV_END) {
        return EAS_OK;
    }
    uint16_t d = ev->depth;
    if (d == 2 && ev->tag == EAS_FOLDERHIERARCHY_STATUS) {
        err = eas_proto_text_uint(&p->path, &p->status);
    } else if (d == 2 && ev->tag == EAS_FOLDERHIERARCHY_SYNC_KEY) {
        err = eas_proto_text_id(&p->path, p->sync_key, CONFIG_EAS_SYNC_KEY_MAX);
        p->has_sync_key = err == EAS_OK;
    } else if (d == 4 && p->cur.op != 0) {
        uint32_t v = 0;
        if (ev->tag == EAS_FOLDERHIERARCHY_SERVER_ID) {
            err = eas_proto_text_id(&p->path, p->cur.server_id, CONFIG_EAS_SERVER_ID_MAX);
        } else if (ev->tag == EAS_FOLDERHIERARCHY_PARENT_ID) {
            err = eas_proto_text_id(&p->path, p->cur.parent_id, CONFIG_EAS_SERVER_ID_MAX);
        } else if (ev->tag == EAS_FOLDERHIERARCHY_DISPLAY_NAME && p->name_truncated) {
            trim_utf8(p->cur.display_name, p->name_len);
        } else if (ev->tag == EAS_FOLDERHIERARCHY_TYPE) {
            err = eas_proto_text_uint(&p->path, &v);
            if (err == EAS_OK && (v == 0 || v > 255)) {
                err = EAS_ERR_PROTO;
            }
            p->cur.type = (uint8_t)v;
        }
    } else if (d == 3 && p->cur.op != 0) {
        if (p->cur.server_id[0] == '\0' || (p->cur.op == EAS_ITEM_ADD && p->cur.type == 0)) {
            err = EAS_ERR_PROTO;
        } else {
            p->changes++;
            err = p->on_change ? p->on_change(p->user, &p->cur) : EAS_OK;
        }
        p->cur.op = 0;
    }
    return err;
}
