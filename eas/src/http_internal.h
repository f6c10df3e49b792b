/* SPDX-License-Identifier: Apache-2.0 */
/* Private helpers shared by the http_*.c files. */
#ifndef EAS_HTTP_INTERNAL_H
#define EAS_HTTP_INTERNAL_H

#include <stddef.h>

#include "eas/eas_http.h"

/* "14.1" -> EAS_VER_14_1; EAS_ERR_NOT_FOUND for versions this build does not know. */
int http_ver_from_text(const char *s, size_t len, eas_proto_ver_t *out);

#endif /* EAS_HTTP_INTERNAL_H */
