/* SPDX-License-Identifier: Apache-2.0 */
/* HTTP status → EAS meaning. The HTTP layer only reports; the engine decides (back-off,
 * re-provisioning, asking the user). Keep this table and the one in docs/http.md equal. */
#include <string.h>

#include "eas/eas_config_defaults.h"
#include "eas/eas_err.h"
#include "eas/eas_http.h"

/*
 * | status          | class            | err                        | transient |
 * |-----------------|------------------|----------------------------|-----------|
 * | 200-299         | OK               | EAS_OK                     | -         |
 * | 301 302 303 307 308 | HTTP_REDIRECT | EAS_ERR_HTTP_STATUS       | no        |
 * | 400, other 4xx  | BAD_REQUEST      | EAS_ERR_HTTP_STATUS        | no        |
 * | 401             | AUTH             | EAS_ERR_AUTH               | no        |
 * | 403             | FORBIDDEN        | EAS_ERR_FORBIDDEN          | no        |
 * | 404             | NOT_FOUND        | EAS_ERR_HTTP_STATUS        | no        |
 * | 429             | UNAVAILABLE      | EAS_ERR_THROTTLED          | yes       |
 * | 449             | PROVISION        | EAS_ERR_POLICY             | yes       |
 * | 451             | REDIRECT         | EAS_ERR_HTTP_STATUS        | yes       |
 * | 456             | BLOCKED          | EAS_ERR_DEVICE_BLOCKED     | no        |
 * | 457             | PASSWORD_EXPIRED | EAS_ERR_AUTH               | no        |
 * | 500, other 5xx  | SERVER_ERROR     | EAS_ERR_SERVER             | yes       |
 * | 503             | UNAVAILABLE      | EAS_ERR_THROTTLED          | yes       |
 * | 507             | QUOTA            | EAS_ERR_MAILBOX_QUOTA      | no        |
 * | 1xx, other 3xx  | UNEXPECTED       | EAS_ERR_HTTP_STATUS        | no        |
 */
typedef struct status_row {
    uint16_t status;
    uint8_t cls;
    uint8_t transient;
    int16_t err;
} status_row_t;

static const status_row_t k_rows[] = {
    {301, EAS_HTTP_CLASS_HTTP_REDIRECT, 0, EAS_ERR_HTTP_STATUS},
    {302, EAS_HTTP_CLASS_HTTP_REDIRECT, 0, EAS_ERR_HTTP_STATUS},
    {303, EAS_HTTP_CLASS_HTTP_REDIRECT, 0, EAS_ERR_HTTP_STATUS},
    {307, EAS_HTTP_CLASS_HTTP_REDIRECT, 0, EAS_ERR_HTTP_STATUS},
    {308, EAS_HTTP_CLASS_HTTP_REDIRECT, 0, EAS_ERR_HTTP_STATUS},
    {400, EAS_HTTP_CLASS_BAD_REQUEST, 0, EAS_ERR_HTTP_STATUS},
    {401, EAS_HTTP_CLASS_AUTH, 0, EAS_ERR_AUTH},
    {403, EAS_HTTP_CLASS_FORBIDDEN, 0, EAS_ERR_FORBIDDEN},
    {404, EAS_HTTP_CLASS_NOT_FOUND, 0, EAS_ERR_HTTP_STATUS},
    {429, EAS_HTTP_CLASS_UNAVAILABLE, 1, EAS_ERR_THROTTLED},
    {449, EAS_HTTP_CLASS_PROVISION, 1, EAS_ERR_POLICY},
    {451, EAS_HTTP_CLASS_REDIRECT, 1, EAS_ERR_HTTP_STATUS},
    {456, EAS_HTTP_CLASS_BLOCKED, 0, EAS_ERR_DEVICE_BLOCKED},
    {457, EAS_HTTP_CLASS_PASSWORD_EXPIRED, 0, EAS_ERR_AUTH},
    {500, EAS_HTTP_CLASS_SERVER_ERROR, 1, EAS_ERR_SERVER},
    {503, EAS_HTTP_CLASS_UNAVAILABLE, 1, EAS_ERR_THROTTLED},
    {507, EAS_HTTP_CLASS_QUOTA, 0, EAS_ERR_MAILBOX_QUOTA},
};

static const char *const k_class_names[] = {
    "OK",          "BAD_REQUEST", "AUTH",          "FORBIDDEN",        "NOT_FOUND",
    "PROVISION",   "REDIRECT",    "BLOCKED",       "PASSWORD_EXPIRED", "SERVER_ERROR",
    "UNAVAILABLE", "QUOTA",       "HTTP_REDIRECT", "UNEXPECTED",
};

const char *eas_http_class_name(eas_http_class_t cls)
{
    if ((unsigned)cls < sizeof(k_class_names) / sizeof(k_class_names[0])) {
        return k_class_names[cls];
    }
    return "UNKNOWN";
}

void eas_http_classify(const eas_http_response_t *rsp, eas_http_verdict_t *out)
{
    eas_http_verdict_t v;
    memset(&v, 0, sizeof(v));
    v.cls = EAS_HTTP_CLASS_UNEXPECTED;
    v.err = EAS_ERR_HTTP_STATUS;
    if (rsp == NULL) {
        goto out;
    }
    uint16_t st = rsp->status;
    bool found = false;
    for (size_t i = 0; i < sizeof(k_rows) / sizeof(k_rows[0]); i++) {
        if (k_rows[i].status == st) {
            v.cls = (eas_http_class_t)k_rows[i].cls;
            v.err = k_rows[i].err;
            v.transient = k_rows[i].transient != 0;
            found = true;
            break;
        }
    }
    if (!found) {
        if (st >= 200 && st <= 299) {
            v.cls = EAS_HTTP_CLASS_OK;
            v.err = EAS_OK;
        } else if (st >= 400 && st <= 499) {
            v.cls = EAS_HTTP_CLASS_BAD_REQUEST;
        } else if (st >= 500 && st <= 599) {
            v.cls = EAS_HTTP_CLASS_SERVER_ERROR;
            v.err = EAS_ERR_SERVER;
            v.transient = true;
        }
    }
    v.has_retry_after = rsp->has_retry_after;
    v.retry_after_s = rsp->retry_after_s;
    if (v.has_retry_after && v.retry_after_s > CONFIG_EAS_HTTP_RETRY_AFTER_MAX_S) {
        /* A server must not be able to silence the device for days with one header. */
        v.retry_after_capped = true;
        v.retry_after_asked_s = v.retry_after_s;
        v.retry_after_s = CONFIG_EAS_HTTP_RETRY_AFTER_MAX_S;
    }
    if (v.cls == EAS_HTTP_CLASS_REDIRECT || v.cls == EAS_HTTP_CLASS_HTTP_REDIRECT) {
        v.location = rsp->location;
        if (v.location == NULL) {
            /* A redirect without a target cannot be followed: report it as an error. */
            v.transient = false;
        }
    }
out:
    *out = v;
}

int eas_http_redirect_check(const char *current, const char *target, uint8_t *count)
{
    eas_url_t cu;
    eas_url_t tu;
    if (current == NULL || target == NULL || count == NULL) {
        return EAS_ERR_PARAM;
    }
    if (eas_url_parse(current, &cu) != EAS_OK || eas_url_parse(target, &tu) != EAS_OK) {
        return EAS_ERR_HTTP_URL;
    }
    if (cu.tls && !tu.tls) {
        return EAS_ERR_HTTP_URL; /* never downgrade to plain HTTP */
    }
    if (eas_url_same(current, target)) {
        return EAS_ERR_HTTP_REDIRECT_LOOP;
    }
    if (*count >= CONFIG_EAS_MAX_REDIRECTS) {
        return EAS_ERR_HTTP_TOO_MANY_REDIRECTS;
    }
    (*count)++;
    return EAS_OK;
}

int eas_http_redirect_policy(const char *current, const char *target, const eas_http_allow_t *allow)
{
    eas_url_t cu;
    eas_url_t tu;
    if (current == NULL || target == NULL) {
        return EAS_ERR_PARAM;
    }
    if (eas_url_parse(current, &cu) != EAS_OK || eas_url_parse(target, &tu) != EAS_OK) {
        return EAS_ERR_HTTP_URL;
    }
    if (cu.tls && !tu.tls) {
        return EAS_ERR_HTTP_URL; /* credentials never move to plain HTTP */
    }
    if (eas_url_same_origin(current, target)) {
        return EAS_OK;
    }
    if (allow != NULL && eas_url_host_listed(target, allow->hosts, allow->n_hosts)) {
        return EAS_OK;
    }
    return EAS_ERR_HTTP_REDIRECT_APPROVAL;
}
