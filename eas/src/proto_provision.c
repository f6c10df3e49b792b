/* SPDX-License-Identifier: Apache-2.0 */
/* Provision (MS-ASPROV): policy request, acknowledgement, remote wipe acknowledgement. */
#include <string.h>

#include "eas_proto.h"

int eas_proto_provision_build(eas_wbxml_enc_t *enc, const eas_prov_req_t *req)
{
    eas_wbxml_enc_start(enc, EAS_PROVISION_PROVISION);
    if (req->kind == EAS_PROV_REQ_WIPE_ACK) {
        eas_wbxml_enc_start(enc, EAS_PROVISION_REMOTE_WIPE);
        eas_wbxml_enc_elem_uint(enc, EAS_PROVISION_STATUS, 1);
        eas_wbxml_enc_end(enc);
    } else {
        /* 14.1+ servers expect the device description with the initial request. */
        if (req->kind == EAS_PROV_REQ_POLICY && req->version >= EAS_VER_14_1) {
            eas_proto_devinfo_set(enc, req->device_info, req->user_agent);
        }
        eas_wbxml_enc_start(enc, EAS_PROVISION_POLICIES);
        eas_wbxml_enc_start(enc, EAS_PROVISION_POLICY);
        eas_wbxml_enc_elem_text(enc, EAS_PROVISION_POLICY_TYPE, EAS_POLICY_TYPE_WBXML);
        if (req->kind == EAS_PROV_REQ_ACK) {
            eas_wbxml_enc_elem_text(enc, EAS_PROVISION_POLICY_KEY,
                                    req->policy_key ? req->policy_key : "0");
            eas_wbxml_enc_elem_uint(enc, EAS_PROVISION_STATUS, req->ack_status);
        }
        eas_wbxml_enc_end(enc);
        eas_wbxml_enc_end(enc);
    }
    return eas_wbxml_enc_end(enc);
}

void eas_proto_provision_parser_init(eas_prov_parser_t *p, eas_prov_setting_cb cb, void *user)
{
    memset(p, 0, sizeof(*p));
    p->on_setting = cb;
    p->user = user;
}

int eas_proto_provision_event(void *user, const eas_wbxml_event_t *ev)
{
    eas_prov_parser_t *p = user;
    int err = EAS_OK;
    eas_proto_path_event(&p->path, ev);
    if (ev->type == EAS_WBXML_EV_START && ev->depth == 1 && ev->tag != EAS_PROVISION_PROVISION) {
        return EAS_ERR_PROTO;
    }
    if (ev->type == EAS_WBXML_EV_START && ev->depth == 2) {
        if (ev->tag == EAS_PROVISION_REMOTE_WIPE) {
            p->remote_wipe = true;
        } else if (ev->tag == EAS_PROVISION_ACCOUNT_ONLY_REMOTE_WIPE) {
            p->account_wipe = true;
        }
    }
    if (ev->type != EAS_WBXML_EV_END) {
        return EAS_OK;
    }
    /* ev->depth is the depth of the element that just closed; path still holds its tags. */
    uint16_t d = ev->depth;
    uint16_t parent = d >= 2 && d - 1 <= EAS_PROTO_PATH_MAX ? p->path.tag[d - 1] : 0;
    if (d == 2 && ev->tag == EAS_PROVISION_STATUS) {
        err = eas_proto_text_uint(&p->path, &p->status);
    } else if (d == 4 && parent == EAS_PROVISION_POLICY) {
        if (ev->tag == EAS_PROVISION_STATUS) {
            err = eas_proto_text_uint(&p->path, &p->policy_status);
        } else if (ev->tag == EAS_PROVISION_POLICY_KEY) {
            err = eas_proto_text_id(&p->path, p->policy_key, CONFIG_EAS_SYNC_KEY_MAX);
            p->has_policy_key = err == EAS_OK;
        } else if (ev->tag == EAS_PROVISION_POLICY_TYPE) {
            p->wbxml_policy = strcmp(p->path.text, EAS_POLICY_TYPE_WBXML) == 0;
        }
    } else if (d == 6 && parent == EAS_PROVISION_EAS_PROVISION_DOC && p->on_setting) {
        /* Long lists (approved applications) are containers; their text is not kept. */
        err = p->on_setting(p->user, ev->tag, p->path.text_overflow ? "" : p->path.text);
    }
    return err;
}
