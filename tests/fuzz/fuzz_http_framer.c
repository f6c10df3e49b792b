/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer: the HTTP response framer. Byte 0 picks the piece size (1..64) and whether the
 * request was HEAD; the rest is the response, fed in pieces, then end of stream. Checks the
 * framer's promises: bytes are consumed in full until completion, the sink sees exactly
 * body_bytes, a Content-Length body is delivered in full, errors are sticky. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "eas/eas_err.h"
#include "eas/eas_http.h"

typedef struct count {
    uint64_t bytes;
} count_t;

static int sink(void *user, const eas_http_response_t *rsp, const uint8_t *data, size_t len)
{
    count_t *c = user;
    if (rsp->status < 200 || rsp->status > 599 || (len > 0 && data == NULL)) {
        abort();
    }
    c->bytes += len;
    return EAS_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char line[CONFIG_EAS_HTTP_MAX_HEADER];
    static char loc[CONFIG_EAS_URL_MAX + 1];
    eas_http_framer_t fr;
    eas_http_response_t rsp;
    count_t c = {0};
    if (size < 1) {
        return 0;
    }
    size_t piece = (size_t)(data[0] & 63u) + 1u;
    bool head = (data[0] & 64u) != 0;
    data++;
    size--;
    eas_http_framer_init(&fr, &rsp, line, sizeof(line), loc, sizeof(loc), sink, &c, 784111777,
                         head);
    size_t pos = 0;
    int rc = EAS_OK;
    while (pos < size && rc == EAS_OK && !eas_http_framer_done(&fr)) {
        size_t n = size - pos < piece ? size - pos : piece;
        size_t used = 0;
        rc = eas_http_framer_feed(&fr, data + pos, n, &used);
        if (used > n || (rc == EAS_OK && !eas_http_framer_done(&fr) && used != n)) {
            abort();
        }
        pos += used;
    }
    if (rc != EAS_OK) {
        /* sticky */
        size_t used = 0;
        if (eas_http_framer_feed(&fr, (const uint8_t *)"x", 1, &used) != rc || used != 0) {
            abort();
        }
        return 0;
    }
    rc = eas_http_framer_eof(&fr);
    if (c.bytes != rsp.body_bytes) {
        abort();
    }
    if (rc == EAS_OK) {
        if (!eas_http_framer_done(&fr)) {
            abort();
        }
        if (!rsp.chunked && rsp.content_length >= 0 && !head && rsp.status != 204 &&
            rsp.status != 304 && (uint64_t)rsp.content_length != rsp.body_bytes) {
            abort();
        }
        if (rsp.location != NULL && strlen(rsp.location) > CONFIG_EAS_URL_MAX) {
            abort();
        }
        eas_http_verdict_t v;
        eas_http_classify(&rsp, &v);
        if (eas_http_class_name(v.cls) == NULL) {
            abort();
        }
    } else if (rc != EAS_ERR_HTTP_TRUNCATED) {
        abort();
    }
    return 0;
}
