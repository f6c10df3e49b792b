/* SPDX-License-Identifier: Apache-2.0 */
/* Settings (MS-ASCMD): only the DeviceInformation Set the engine sends; the device
 * description itself is shared with the initial Provision request. */
#include <string.h>

#include "eas_proto.h"

static void text_if(eas_wbxml_enc_t *enc, uint16_t tag, const char *v)
{
    if (v != NULL) {
        eas_wbxml_enc_elem_text(enc, tag, v);
    }
}

void eas_proto_devinfo_set(eas_wbxml_enc_t *enc, const eas_device_info_t *di,
                           const char *user_agent)
{
    eas_wbxml_enc_start(enc, EAS_SETTINGS_DEVICE_INFORMATION);
    eas_wbxml_enc_start(enc, EAS_SETTINGS_SET);
    /* The schema is a sequence: Model, IMEI, FriendlyName, OS, OSLanguage, PhoneNumber,
       MobileOperator, UserAgent. Servers that validate refuse another order. */
    eas_wbxml_enc_elem_text(enc, EAS_SETTINGS_MODEL,
                            di != NULL && di->model != NULL ? di->model : "easd");
    if (di != NULL) {
        text_if(enc, EAS_SETTINGS_FRIENDLY_NAME, di->friendly_name);
        text_if(enc, EAS_SETTINGS_OS, di->os);
        text_if(enc, EAS_SETTINGS_OS_LANGUAGE, di->os_language);
    }
    text_if(enc, EAS_SETTINGS_USER_AGENT, user_agent);
    eas_wbxml_enc_end(enc);
    eas_wbxml_enc_end(enc);
}

int eas_proto_settings_build(eas_wbxml_enc_t *enc, const eas_device_info_t *di,
                             const char *user_agent)
{
    eas_wbxml_enc_start(enc, EAS_SETTINGS_SETTINGS);
    eas_proto_devinfo_set(enc, di, user_agent);
    return eas_wbxml_enc_end(enc);
}

void eas_proto_settings_parser_init(eas_settings_parser_t *p)
{
    memset(p, 0, sizeof(*p));
}

int eas_proto_settings_event(void *user, const eas_wbxml_event_t *ev)
{
    eas_settings_parser_t *p = user;
    eas_proto_path_event(&p->path, ev);
    if (ev->type == EAS_WBXML_EV_START && ev->depth == 1 && ev->tag != EAS_SETTINGS_SETTINGS) {
        return EAS_ERR_PROTO;
    }
    if (ev->type != EAS_WBXML_EV_END || ev->tag != EAS_SETTINGS_STATUS) {
        return EAS_OK;
    }
    uint16_t d = ev->depth;
    if (d == 2) {
        return eas_proto_text_uint(&p->path, &p->status);
    }
    if (d == 3 && eas_proto_path_at(&p->path, 2) == EAS_SETTINGS_DEVICE_INFORMATION) {
        return eas_proto_text_uint(&p->path, &p->di_status);
    }
    return EAS_OK; /* the status of a part we did not ask for */
}
