/* SPDX-License-Identifier: Apache-2.0 */
/* MoveItems (one Move per request) and GetItemEstimate (one Collection per request). */
#include <string.h>

#include "eas_proto.h"

int eas_proto_move_build(eas_wbxml_enc_t *enc, const char *src_msg, const char *src_fld,
                         const char *dst_fld)
{
    eas_wbxml_enc_start(enc, EAS_MOVE_MOVE_ITEMS);
    eas_wbxml_enc_start(enc, EAS_MOVE_MOVE);
    eas_wbxml_enc_elem_text(enc, EAS_MOVE_SRC_MSG_ID, src_msg);
    eas_wbxml_enc_elem_text(enc, EAS_MOVE_SRC_FLD_ID, src_fld);
    eas_wbxml_enc_elem_text(enc, EAS_MOVE_DST_FLD_ID, dst_fld);
    eas_wbxml_enc_end(enc);
    return eas_wbxml_enc_end(enc);
}

void eas_proto_move_parser_init(eas_move_parser_t *p)
{
    memset(p, 0, sizeof(*p));
}

int eas_proto_move_event(void *user, const eas_wbxml_event_t *ev)
{
    eas_move_parser_t *p = user;
    int err = EAS_OK;
    eas_proto_path_event(&p->path, ev);
    if (ev->type == EAS_WBXML_EV_START && ev->depth == 1 && ev->tag != EAS_MOVE_MOVE_ITEMS) {
        return EAS_ERR_PROTO;
    }
    if (ev->type != EAS_WBXML_EV_END) {
        return EAS_OK;
    }
    if (ev->depth == 2 && ev->tag == EAS_MOVE_STATUS) {
        err = eas_proto_text_uint(&p->path, &p->top_status); /* whole command refused */
    } else if (ev->depth == 2 && ev->tag == EAS_MOVE_RESPONSE) {
        p->responses++;
    } else if (ev->depth == 3 && eas_proto_path_at(&p->path, 2) == EAS_MOVE_RESPONSE &&
               p->responses == 0) {
        if (ev->tag == EAS_MOVE_STATUS) {
            err = eas_proto_text_uint(&p->path, &p->status);
        } else if (ev->tag == EAS_MOVE_DST_MSG_ID) {
            err = eas_proto_text_id(&p->path, p->dst_msg_id, CONFIG_EAS_SERVER_ID_MAX);
        }
    }
    return err;
}

#if CONFIG_EAS_ESTIMATE
int eas_proto_estimate_build(eas_wbxml_enc_t *enc, const eas_estimate_req_t *r)
{
    const char *cls = eas_class_name(r->cls);
    eas_wbxml_enc_start(enc, EAS_GETITEMESTIMATE_GET_ITEM_ESTIMATE);
    eas_wbxml_enc_start(enc, EAS_GETITEMESTIMATE_COLLECTIONS);
    eas_wbxml_enc_start(enc, EAS_GETITEMESTIMATE_COLLECTION);
    if (r->version < EAS_VER_14_0) {
        /* 12.1: Class, CollectionId, FilterType, SyncKey (MS-ASCMD 2.2.3.27). */
        if (cls) {
            eas_wbxml_enc_elem_text(enc, EAS_GETITEMESTIMATE_CLASS, cls);
        }
        eas_wbxml_enc_elem_text(enc, EAS_GETITEMESTIMATE_COLLECTION_ID, r->collection_id);
        if (r->filter_type >= 0) {
            eas_wbxml_enc_elem_uint(enc, EAS_AIRSYNC_FILTER_TYPE, (uint32_t)r->filter_type);
        }
        eas_wbxml_enc_elem_text(enc, EAS_AIRSYNC_SYNC_KEY, r->sync_key);
    } else {
        eas_wbxml_enc_elem_text(enc, EAS_AIRSYNC_SYNC_KEY, r->sync_key);
        eas_wbxml_enc_elem_text(enc, EAS_GETITEMESTIMATE_COLLECTION_ID, r->collection_id);
        if (r->filter_type >= 0) {
            eas_wbxml_enc_start(enc, EAS_AIRSYNC_OPTIONS);
            eas_wbxml_enc_elem_uint(enc, EAS_AIRSYNC_FILTER_TYPE, (uint32_t)r->filter_type);
            eas_wbxml_enc_end(enc);
        }
    }
    eas_wbxml_enc_end(enc);
    eas_wbxml_enc_end(enc);
    return eas_wbxml_enc_end(enc);
}

void eas_proto_estimate_parser_init(eas_estimate_parser_t *p)
{
    memset(p, 0, sizeof(*p));
}

int eas_proto_estimate_event(void *user, const eas_wbxml_event_t *ev)
{
    eas_estimate_parser_t *p = user;
    int err = EAS_OK;
    eas_proto_path_event(&p->path, ev);
    if (ev->type == EAS_WBXML_EV_START && ev->depth == 1 &&
        ev->tag != EAS_GETITEMESTIMATE_GET_ITEM_ESTIMATE) {
        return EAS_ERR_PROTO;
    }
    if (ev->type != EAS_WBXML_EV_END) {
        return EAS_OK;
    }
    if (ev->depth == 2 && ev->tag == EAS_GETITEMESTIMATE_STATUS) {
        err = eas_proto_text_uint(&p->path, &p->top_status);
    } else if (ev->depth == 3 && ev->tag == EAS_GETITEMESTIMATE_STATUS &&
               eas_proto_path_at(&p->path, 2) == EAS_GETITEMESTIMATE_RESPONSE) {
        err = eas_proto_text_uint(&p->path, &p->status);
    } else if (ev->depth == 4 && ev->tag == EAS_GETITEMESTIMATE_ESTIMATE &&
               eas_proto_path_at(&p->path, 3) == EAS_GETITEMESTIMATE_COLLECTION) {
        err = eas_proto_text_uint(&p->path, &p->estimate);
        p->has_estimate = err == EAS_OK;
    }
    return err;
}
#endif /* CONFIG_EAS_ESTIMATE */
