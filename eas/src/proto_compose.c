/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SendMail / SmartReply / SmartForward (14.0+ WBXML form). The MIME message is the
 * application's: it is read back through its callback at increasing offsets into a small
 * stack buffer and written as one OPAQUE item in pieces, so nothing of it is held in RAM.
 * The HTTP body producer runs this again for each transmit buffer (restartable producer),
 * so the callback must return the same bytes every time.
 */
#include <string.h>

#include "eas_proto.h"

#if CONFIG_EAS_EMAIL

int eas_proto_compose_build(eas_wbxml_enc_t *enc, const eas_compose_req_t *r)
{
    uint16_t root = r->cmd == EAS_MAIL_REPLY     ? EAS_COMPOSEMAIL_SMART_REPLY
                    : r->cmd == EAS_MAIL_FORWARD ? EAS_COMPOSEMAIL_SMART_FORWARD
                                                 : EAS_COMPOSEMAIL_SEND_MAIL;
    uint8_t buf[256];
    int err;

    eas_wbxml_enc_start(enc, root);
    eas_wbxml_enc_elem_text(enc, EAS_COMPOSEMAIL_CLIENT_ID, r->client_id);
    if (r->cmd != EAS_MAIL_SEND) {
        eas_wbxml_enc_start(enc, EAS_COMPOSEMAIL_SOURCE);
        eas_wbxml_enc_elem_text(enc, EAS_COMPOSEMAIL_FOLDER_ID, r->src_folder);
        eas_wbxml_enc_elem_text(enc, EAS_COMPOSEMAIL_ITEM_ID, r->src_item);
        eas_wbxml_enc_end(enc);
    }
    if (r->save_in_sent) {
        eas_wbxml_enc_elem_empty(enc, EAS_COMPOSEMAIL_SAVE_IN_SENT_ITEMS);
    }
    if (r->cmd != EAS_MAIL_SEND && r->replace_mime) {
        eas_wbxml_enc_elem_empty(enc, EAS_COMPOSEMAIL_REPLACE_MIME);
    }
    eas_wbxml_enc_start(enc, EAS_COMPOSEMAIL_MIME);
    err = eas_wbxml_enc_opaque_begin(enc, (uint32_t)r->mime_len);
    for (uint64_t off = 0; err == EAS_OK && off < r->mime_len; off += sizeof(buf)) {
        size_t n = r->mime_len - off > sizeof(buf) ? sizeof(buf) : (size_t)(r->mime_len - off);
        err = r->read(r->read_user, r->mime_id, off, buf, n);
        if (err == EAS_OK) {
            /* Stops at the first "buffer full" (sticky): no more reads in this pass. */
            err = eas_wbxml_enc_opaque_piece(enc, buf, n);
        }
    }
    if (err != EAS_OK) {
        return err;
    }
    eas_wbxml_enc_end(enc);
    return eas_wbxml_enc_end(enc);
}

void eas_proto_compose_parser_init(eas_compose_parser_t *p)
{
    memset(p, 0, sizeof(*p));
}

int eas_proto_compose_event(void *user, const eas_wbxml_event_t *ev)
{
    eas_compose_parser_t *p = user;
    int err = EAS_OK;
    eas_proto_path_event(&p->path, ev);
    if (ev->type == EAS_WBXML_EV_START && ev->depth == 1 &&
        EAS_TAG_PAGE(ev->tag) != EAS_PAGE_COMPOSEMAIL) {
        return EAS_ERR_PROTO;
    }
    if (ev->type == EAS_WBXML_EV_END && ev->depth == 2 && ev->tag == EAS_COMPOSEMAIL_STATUS) {
        err = eas_proto_text_uint(&p->path, &p->status);
    }
    return err;
}

#endif /* CONFIG_EAS_EMAIL */
