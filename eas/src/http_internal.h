/* SPDX-License-Identifier: Apache-2.0 */
/* Private helpers shared by the http_*.c files. */
#ifndef EAS_HTTP_INTERNAL_H
#define EAS_HTTP_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "eas/eas_http.h"

#ifndef EASD_VERSION_STRING
#define EASD_VERSION_STRING "0.1"
#endif
/* The User-Agent when the application gives none (it changes with every easd release). */
#define EAS_HTTP_USER_AGENT_DEFAULT "easd/" EASD_VERSION_STRING

/* ASCII case-insensitive equality of two counted strings (header names and values, cookie
 * attributes, host names): HTTP's rules, never the C locale's. */
bool http_eq_nocase(const char *a, size_t alen, const char *b, size_t blen);

/* Days from 1970-01-01 to the proleptic Gregorian date (HTTP-date and cookie-date; the
 * calendar module, which has its own, may be compiled out). */
int64_t http_days_from_civil(int64_t y, unsigned m, unsigned d);

/* An RFC 9110 token character (header and cookie names). */
bool http_is_tchar(char c);

/* "14.1" -> EAS_VER_14_1; EAS_ERR_NOT_FOUND for versions this build does not know. */
int http_ver_from_text(const char *s, size_t len, eas_proto_ver_t *out);

/* eas_http_request_write() plus a Cookie header from @p jar (NULL: none) chosen at @p now:
 * the client's entry point (the head is regenerated per transmit window, so the same jar
 * and time must give the same bytes). */
int http_request_head(const eas_http_request_t *req, const eas_http_auth_t *auth,
                      const char *user_agent, const char *token, size_t token_len,
                      uint64_t body_len, const struct eas_cookie_jar *jar, int64_t now,
                      eas_http_write_fn write, void *wctx);

#endif /* EAS_HTTP_INTERNAL_H */
