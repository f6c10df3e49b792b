/* SPDX-License-Identifier: Apache-2.0 */
/* MeetingResponse: one Request per command and its Result. */
#include <string.h>

#include "eas_proto.h"

int eas_proto_meeting_build(eas_wbxml_enc_t *enc, const eas_meeting_req_t *r)
{
    eas_wbxml_enc_start(enc, EAS_MEETINGRESPONSE_MEETING_RESPONSE);
    eas_wbxml_enc_start(enc, EAS_MEETINGRESPONSE_REQUEST);
    eas_wbxml_enc_elem_uint(enc, EAS_MEETINGRESPONSE_USER_RESPONSE, r->reply);
    eas_wbxml_enc_elem_text(enc, EAS_MEETINGRESPONSE_COLLECTION_ID, r->collection_id);
    eas_wbxml_enc_elem_text(enc, EAS_MEETINGRESPONSE_REQUEST_ID, r->request_id);
    if (r->instance_id && r->instance_id[0]) {
        /* One occurrence of a series (14.1+): without it the whole series is answered. */
        eas_wbxml_enc_elem_text(enc, EAS_MEETINGRESPONSE_INSTANCE_ID, r->instance_id);
    }
    eas_wbxml_enc_end(enc);
    return eas_wbxml_enc_end(enc);
}

void eas_proto_meeting_parser_init(eas_meeting_parser_t *p)
{
    memset(p, 0, sizeof(*p));
}

int eas_proto_meeting_event(void *user, const eas_wbxml_event_t *ev)
{
    eas_meeting_parser_t *p = user;
    int err = EAS_OK;
    eas_proto_path_event(&p->path, ev);
    if (ev->type == EAS_WBXML_EV_START && ev->depth == 1 &&
        ev->tag != EAS_MEETINGRESPONSE_MEETING_RESPONSE) {
        return EAS_ERR_PROTO;
    }
    if (ev->type != EAS_WBXML_EV_END) {
        return EAS_OK;
    }
    if (ev->depth == 2 && ev->tag == EAS_MEETINGRESPONSE_STATUS) {
        err = eas_proto_text_uint(&p->path, &p->top_status);
    } else if (ev->depth == 3 && eas_proto_path_at(&p->path, 2) == EAS_MEETINGRESPONSE_RESULT) {
        if (ev->tag == EAS_MEETINGRESPONSE_STATUS) {
            err = eas_proto_text_uint(&p->path, &p->status);
        } else if (ev->tag == EAS_MEETINGRESPONSE_REQUEST_ID) {
            err = eas_proto_text_id(&p->path, p->request_id, CONFIG_EAS_SERVER_ID_MAX);
        } else if (ev->tag == EAS_MEETINGRESPONSE_CALENDAR_ID) {
            err = eas_proto_text_id(&p->path, p->calendar_id, CONFIG_EAS_SERVER_ID_MAX);
        }
    } else if (ev->depth == 2 && ev->tag == EAS_MEETINGRESPONSE_RESULT) {
        p->results++;
    }
    return err;
}
