/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer: the Autodiscover response parser (expat over the bump allocator). Byte 0 picks
 * the piece size; the rest is the body. A result must be NUL-terminated, bounded, and a
 * SETTINGS / REDIRECT_URL value must be an https URL. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "eas/eas_autodiscover.h"
#include "eas/eas_err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
#if CONFIG_EAS_AUTODISCOVER
    static uint8_t work[EAS_AD_PARSER_WORK_SIZE];
    eas_ad_parser_t p;
    eas_ad_result_t res;
    if (size < 1) {
        return 0;
    }
    size_t piece = (size_t)data[0] * 4u + 1u;
    data++;
    size--;
    if (eas_ad_parser_begin(&p, work, sizeof(work)) != EAS_OK) {
        abort();
    }
    int rc = EAS_OK;
    for (size_t pos = 0; pos < size && rc == EAS_OK; pos += piece) {
        size_t n = size - pos < piece ? size - pos : piece;
        rc = eas_ad_parser_feed(&p, data + pos, n);
    }
    if (rc != EAS_OK) {
        eas_ad_parser_abort(&p);
        return 0;
    }
    rc = eas_ad_parser_finish(&p, &res);
    if (rc == EAS_OK) {
        if (res.value == NULL || strlen(res.value) > CONFIG_EAS_URL_MAX) {
            abort();
        }
        if (res.kind == EAS_AD_SETTINGS || res.kind == EAS_AD_REDIRECT_URL) {
            eas_url_t u;
            if (eas_url_parse(res.value, &u) != EAS_OK || !u.tls) {
                abort();
            }
        }
    }
#else
    (void)data;
    (void)size;
#endif
    return 0;
}
