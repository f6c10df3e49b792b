/* SPDX-License-Identifier: Apache-2.0 */
/* Sync: one collection per request; items stream to the engine as they are decoded. */
#include <string.h>

#include "eas_proto.h"

int eas_proto_sync_build(eas_wbxml_enc_t *enc, const eas_sync_req_t *req)
{
    bool initial = strcmp(req->sync_key, "0") == 0;

    eas_wbxml_enc_start(enc, EAS_AIRSYNC_SYNC);
    eas_wbxml_enc_start(enc, EAS_AIRSYNC_COLLECTIONS);
    eas_wbxml_enc_start(enc, EAS_AIRSYNC_COLLECTION);
    if (req->version <= EAS_VER_12_1 && eas_class_name(req->cls)) {
        eas_wbxml_enc_elem_text(enc, EAS_AIRSYNC_CLASS, eas_class_name(req->cls));
    }
    eas_wbxml_enc_elem_text(enc, EAS_AIRSYNC_SYNC_KEY, req->sync_key);
    eas_wbxml_enc_elem_text(enc, EAS_AIRSYNC_COLLECTION_ID, req->collection_id);
    /* GetChanges with SyncKey 0 is a protocol error on several servers. */
    if (req->get_changes && !initial) {
        eas_wbxml_enc_elem_empty(enc, EAS_AIRSYNC_GET_CHANGES);
    }
    if (req->window_size > 0) {
        eas_wbxml_enc_elem_uint(enc, EAS_AIRSYNC_WINDOW_SIZE, req->window_size);
    }
    eas_wbxml_enc_start(enc, EAS_AIRSYNC_OPTIONS);
    if (req->filter_type >= 0) {
        eas_wbxml_enc_elem_uint(enc, EAS_AIRSYNC_FILTER_TYPE, (uint32_t)req->filter_type);
    }
    if (req->body_type > 0) {
        eas_wbxml_enc_start(enc, EAS_AIRSYNCBASE_BODY_PREFERENCE);
        eas_wbxml_enc_elem_uint(enc, EAS_AIRSYNCBASE_TYPE, req->body_type);
        if (req->body_truncation > 0) {
            eas_wbxml_enc_elem_uint(enc, EAS_AIRSYNCBASE_TRUNCATION_SIZE, req->body_truncation);
        }
        eas_wbxml_enc_end(enc);
    }
    eas_wbxml_enc_end(enc);
    /* A client command needs a key the server issued: never with SyncKey 0. */
    if (req->commands && !initial) {
        eas_wbxml_enc_start(enc, EAS_AIRSYNC_COMMANDS);
        int err = req->commands(req->commands_user, enc);
        if (err < 0 && enc->err == EAS_OK) {
            enc->err = err;
        }
        eas_wbxml_enc_end(enc);
    }
    eas_wbxml_enc_end(enc);
    eas_wbxml_enc_end(enc);
    return eas_wbxml_enc_end(enc);
}

void eas_proto_sync_parser_init(eas_sync_parser_t *p, const eas_sync_item_cbs_t *cbs,
                                void *user)
{
    memset(p, 0, sizeof(*p));
    p->cbs = cbs;
    p->user = user;
}

static int header(eas_sync_parser_t *p)
{
    int err = EAS_OK;
    if (!p->header_done) {
        p->header_done = true;
        if (p->cbs->collection) {
            err = p->cbs->collection(p->user, p->collection_id, p->sync_key, p->coll_status);
        }
    }
    return err;
}

static eas_item_op_t op_of(uint16_t tag)
{
    return tag == EAS_AIRSYNC_ADD      ? EAS_ITEM_ADD
           : tag == EAS_AIRSYNC_CHANGE ? EAS_ITEM_CHANGE
                                       : EAS_ITEM_DELETE;
}

static int on_start(eas_sync_parser_t *p, const eas_wbxml_event_t *ev)
{
    int err = EAS_OK;
    uint16_t d = ev->depth;
    uint16_t parent = eas_proto_path_at(&p->path, (uint16_t)(d - 1));

    if (p->appdata_depth) {
        return p->cbs->field ? p->cbs->field(p->user, ev, (uint16_t)(d - p->appdata_depth))
                             : EAS_OK;
    }
    if (d == 1 && ev->tag != EAS_AIRSYNC_SYNC) {
        err = EAS_ERR_PROTO;
    } else if (d == 3 && ev->tag == EAS_AIRSYNC_COLLECTION) {
        /* The engine sends one collection per request; a second one is not ours. */
        if (++p->collections > 1) {
            err = EAS_ERR_PROTO;
        }
    } else if (d == 4 && (ev->tag == EAS_AIRSYNC_COMMANDS || ev->tag == EAS_AIRSYNC_RESPONSES)) {
        err = header(p);
        p->in_responses = ev->tag == EAS_AIRSYNC_RESPONSES;
    } else if (d == 5 && (parent == EAS_AIRSYNC_COMMANDS || parent == EAS_AIRSYNC_RESPONSES)) {
        p->op_tag = ev->tag;
        p->item_begun = false;
        p->item_sid[0] = '\0';
        p->item_cid[0] = '\0';
        p->item_status = 0;
    } else if (d == 6 && ev->tag == EAS_AIRSYNC_APPLICATION_DATA && p->op_tag != 0 &&
               !p->in_responses) {
        if (p->item_sid[0] == '\0') {
            err = EAS_ERR_PROTO; /* ServerId comes first (MS-ASCMD schema) */
        } else {
            p->item_begun = true;
            p->appdata_depth = d;
            err = p->cbs->begin ? p->cbs->begin(p->user, op_of(p->op_tag), p->item_sid, false)
                                : EAS_OK;
        }
    }
    return err;
}

static int on_end(eas_sync_parser_t *p, const eas_wbxml_event_t *ev)
{
    int err = EAS_OK;
    uint16_t d = ev->depth;

    if (p->appdata_depth) {
        if (d == p->appdata_depth) {
            p->appdata_depth = 0;
            return EAS_OK;
        }
        return p->cbs->field ? p->cbs->field(p->user, ev, (uint16_t)(d - p->appdata_depth))
                             : EAS_OK;
    }
    if (d == 2 && ev->tag == EAS_AIRSYNC_STATUS) {
        err = eas_proto_text_uint(&p->path, &p->top_status);
    } else if (d == 4) {
        if (ev->tag == EAS_AIRSYNC_SYNC_KEY) {
            err = eas_proto_text_id(&p->path, p->sync_key, CONFIG_EAS_SYNC_KEY_MAX);
            p->has_sync_key = err == EAS_OK;
        } else if (ev->tag == EAS_AIRSYNC_COLLECTION_ID) {
            err = eas_proto_text_id(&p->path, p->collection_id, CONFIG_EAS_SERVER_ID_MAX);
        } else if (ev->tag == EAS_AIRSYNC_STATUS) {
            err = eas_proto_text_uint(&p->path, &p->coll_status);
        } else if (ev->tag == EAS_AIRSYNC_MORE_AVAILABLE) {
            p->more_available = true;
        }
    } else if (d == 3 && ev->tag == EAS_AIRSYNC_COLLECTION) {
        err = header(p);
    } else if (d == 6 && p->op_tag != 0) {
        if (ev->tag == EAS_AIRSYNC_SERVER_ID) {
            err = eas_proto_text_id(&p->path, p->item_sid, CONFIG_EAS_SERVER_ID_MAX);
        } else if (ev->tag == EAS_AIRSYNC_CLIENT_ID) {
            err = eas_proto_text_id(&p->path, p->item_cid, EAS_ID_CAP - 1);
        } else if (ev->tag == EAS_AIRSYNC_STATUS) {
            err = eas_proto_text_uint(&p->path, &p->item_status);
        }
    } else if (d == 5 && p->op_tag != 0) {
        if (p->in_responses) {
            if (p->cbs->response) {
                err = p->cbs->response(p->user, p->op_tag, p->item_cid, p->item_sid,
                                       p->item_status);
            }
        } else if (p->op_tag == EAS_AIRSYNC_ADD || p->op_tag == EAS_AIRSYNC_CHANGE ||
                   p->op_tag == EAS_AIRSYNC_DELETE || p->op_tag == EAS_AIRSYNC_SOFT_DELETE) {
            if (p->item_sid[0] == '\0') {
                err = EAS_ERR_PROTO;
            } else {
                bool soft = p->op_tag == EAS_AIRSYNC_SOFT_DELETE;
                eas_item_op_t op = op_of(p->op_tag);
                if (!p->item_begun && p->cbs->begin) {
                    err = p->cbs->begin(p->user, op, p->item_sid, soft);
                }
                if (err == EAS_OK && p->cbs->end) {
                    err = p->cbs->end(p->user, op, p->item_sid);
                }
                p->items++;
            }
        }
        p->op_tag = 0;
    }
    return err;
}

int eas_proto_sync_event(void *user, const eas_wbxml_event_t *ev)
{
    eas_sync_parser_t *p = user;
    int err = EAS_OK;

    if (p->appdata_depth && (ev->type == EAS_WBXML_EV_TEXT || ev->type == EAS_WBXML_EV_OPAQUE)) {
        /* Field values (bodies, MIME) pass straight through, whatever their size. */
        return p->cbs->field ? p->cbs->field(p->user, ev,
                                             (uint16_t)(ev->depth - p->appdata_depth))
                             : EAS_OK;
    }
    if (ev->type == EAS_WBXML_EV_START) {
        err = on_start(p, ev);
        if (!p->appdata_depth || ev->depth == p->appdata_depth) {
            eas_proto_path_event(&p->path, ev);
        }
    } else if (ev->type == EAS_WBXML_EV_END) {
        err = on_end(p, ev);
        if (!p->appdata_depth) {
            eas_proto_path_event(&p->path, ev);
        }
    } else {
        eas_proto_path_event(&p->path, ev);
    }
    return err;
}
