/* SPDX-License-Identifier: Apache-2.0 */
/* Shared helpers of the command modules: element path tracking and small text values. */
#include <string.h>

#include "eas_proto.h"

void eas_proto_path_event(eas_proto_path_t *p, const eas_wbxml_event_t *ev)
{
    switch (ev->type) {
    case EAS_WBXML_EV_START:
        p->depth = ev->depth;
        if (ev->depth <= EAS_PROTO_PATH_MAX) {
            p->tag[ev->depth] = ev->tag;
        }
        p->text_len = 0;
        p->text[0] = '\0';
        p->text_overflow = false;
        break;
    case EAS_WBXML_EV_END:
        p->depth = ev->depth > 0 ? (uint16_t)(ev->depth - 1) : 0;
        break;
    case EAS_WBXML_EV_TEXT:
    case EAS_WBXML_EV_OPAQUE:
        /* Only short values (status, keys, ids) are kept; longer ones are flagged. */
        if (ev->len > (size_t)(sizeof(p->text) - 1 - p->text_len)) {
            p->text_overflow = true;
        } else {
            memcpy(p->text + p->text_len, ev->data, ev->len);
            p->text_len = (uint16_t)(p->text_len + ev->len);
            p->text[p->text_len] = '\0';
        }
        break;
    default:
        break;
    }
}

uint16_t eas_proto_path_at(const eas_proto_path_t *p, uint16_t d)
{
    return (d >= 1 && d <= EAS_PROTO_PATH_MAX && d <= p->depth) ? p->tag[d] : 0;
}

int eas_proto_text_uint(const eas_proto_path_t *p, uint32_t *out)
{
    uint32_t v = 0;
    int err = EAS_ERR_PROTO;
    if (!p->text_overflow && p->text_len > 0 && p->text_len <= 9) {
        err = EAS_OK;
        for (uint16_t i = 0; i < p->text_len; i++) {
            char c = p->text[i];
            if (c < '0' || c > '9') {
                err = EAS_ERR_PROTO;
                break;
            }
            v = v * 10u + (uint32_t)(c - '0');
        }
    }
    *out = err == EAS_OK ? v : 0;
    return err;
}

int eas_proto_text_id(const eas_proto_path_t *p, char *out, size_t max)
{
    int err = EAS_ERR_PROTO;
    if (!p->text_overflow && p->text_len > 0 && p->text_len <= max &&
        memchr(p->text, '\0', p->text_len) == NULL) {
        memcpy(out, p->text, p->text_len);
        out[p->text_len] = '\0';
        err = EAS_OK;
    }
    return err;
}

uint8_t eas_proto_folder_class(uint8_t type)
{
    /* MS-ASCMD FolderHierarchy Type values. */
    switch (type) {
    case 2: case 3: case 4: case 5: case 6: case 12:
        return EAS_CLASS_EMAIL;
    case 7: case 15:
        return EAS_CLASS_TASKS;
    case 8: case 13:
        return EAS_CLASS_CALENDAR;
    case 9: case 14:
        return EAS_CLASS_CONTACTS;
    case 10: case 17:
        return EAS_CLASS_NOTES;
    default:
        return 0; /* generic (1), journal (11, 16), RI cache (19), unknown */
    }
}

const char *eas_class_name(uint8_t cls)
{
    switch (cls) {
    case EAS_CLASS_EMAIL:
        return "Email";
    case EAS_CLASS_CALENDAR:
        return "Calendar";
    case EAS_CLASS_CONTACTS:
        return "Contacts";
    case EAS_CLASS_TASKS:
        return "Tasks";
    case EAS_CLASS_NOTES:
        return "Notes";
    default:
        return NULL;
    }
}
