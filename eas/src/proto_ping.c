/* SPDX-License-Identifier: Apache-2.0 */
/* Ping: the long-poll request and its answer (changed folders, bounds). */
#include <string.h>

#include "eas_proto.h"

int eas_proto_ping_build(eas_wbxml_enc_t *enc, uint32_t heartbeat_s,
                         const eas_ping_folder_t *folders, size_t n)
{
    eas_wbxml_enc_start(enc, EAS_PING_PING);
    eas_wbxml_enc_elem_uint(enc, EAS_PING_HEARTBEAT_INTERVAL, heartbeat_s);
    eas_wbxml_enc_start(enc, EAS_PING_FOLDERS);
    for (size_t i = 0; i < n; i++) {
        const char *cls = eas_class_name(folders[i].cls);
        eas_wbxml_enc_start(enc, EAS_PING_FOLDER);
        eas_wbxml_enc_elem_text(enc, EAS_PING_ID, folders[i].id);
        eas_wbxml_enc_elem_text(enc, EAS_PING_CLASS, cls ? cls : "Email");
        eas_wbxml_enc_end(enc);
    }
    eas_wbxml_enc_end(enc);
    return eas_wbxml_enc_end(enc);
}

void eas_proto_ping_parser_init(eas_ping_parser_t *p, eas_ping_folder_cb cb, void *user)
{
    memset(p, 0, sizeof(*p));
    p->on_folder = cb;
    p->user = user;
}

int eas_proto_ping_event(void *user, const eas_wbxml_event_t *ev)
{
    eas_ping_parser_t *p = user;
    int err = EAS_OK;
    eas_proto_path_event(&p->path, ev);
    if (ev->type == EAS_WBXML_EV_START && ev->depth == 1 && ev->tag != EAS_PING_PING) {
        return EAS_ERR_PROTO;
    }
    if (ev->type != EAS_WBXML_EV_END) {
        return EAS_OK;
    }
    if (ev->depth == 2 && ev->tag == EAS_PING_STATUS) {
        err = eas_proto_text_uint(&p->path, &p->status);
    } else if (ev->depth == 2 && ev->tag == EAS_PING_HEARTBEAT_INTERVAL) {
        err = eas_proto_text_uint(&p->path, &p->heartbeat);
    } else if (ev->depth == 2 && ev->tag == EAS_PING_MAX_FOLDERS) {
        err = eas_proto_text_uint(&p->path, &p->max_folders);
    } else if (ev->depth == 3 && ev->tag == EAS_PING_FOLDER) {
        char id[EAS_ID_CAP];
        err = eas_proto_text_id(&p->path, id, CONFIG_EAS_SERVER_ID_MAX);
        if (err == EAS_OK) {
            p->folders++;
            err = p->on_folder ? p->on_folder(p->user, id) : EAS_OK;
        }
    }
    return err;
}
