/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file eas_err.h
 * @brief The one error type of easd and its text.
 *
 * Every function of the core and of the HAL that can fail returns an ::eas_err_t.
 * Zero is success; every error is negative. ::EAS_ERR_AGAIN is not a failure: it means
 * "no progress is possible now, call again later" (the non-blocking contract).
 *
 * EAS protocol Status values (Sync status 3, Ping status 7, ...) are *not* errors here:
 * they are data carried in events to the engine and the application.
 *
 * Codes are grouped in blocks of 20 per module so that a log line's number alone says
 * which layer failed. New codes are added inside their module's block only; a code's
 * value never changes once released (it may be persisted in logs and support tickets).
 */
#ifndef EAS_ERR_H
#define EAS_ERR_H

#ifdef __cplusplus
extern "C" {
#endif

/**
 * X-macro list: each entry is X(name, value, text).
 * Used to build both the enum and eas_strerror(), so the two cannot drift apart.
 */
#define EAS_ERR_LIST(X)                                                                            \
    X(EAS_OK, 0, "success")                                                                        \
    X(EAS_ERR_AGAIN, -1, "try again: no progress possible now")                                    \
    X(EAS_ERR_PARAM, -2, "invalid parameter")                                                      \
    X(EAS_ERR_NOMEM, -3, "buffer or arena too small")                                              \
    X(EAS_ERR_STATE, -4, "operation not valid in the current state")                               \
    X(EAS_ERR_UNSUPPORTED, -5, "not supported by this build or protocol version")                  \
    X(EAS_ERR_INTERNAL, -6, "internal error")                                                      \
    X(EAS_ERR_LIMIT, -7, "a configured size or count limit was exceeded")                          \
    X(EAS_ERR_FORMAT, -8, "malformed input")                                                       \
    X(EAS_ERR_NOT_FOUND, -9, "not found")                                                          \
    X(EAS_ERR_BUSY, -10, "busy: a previous operation is still in progress")                        \
    X(EAS_ERR_CANCELLED, -11, "cancelled")                                                         \
    X(EAS_ERR_CONFIG, -12, "caller built with a different configuration than the library")        \
    /* transport: -20 .. -39 */                                                                    \
    X(EAS_ERR_IO, -20, "transport I/O error")                                                      \
    X(EAS_ERR_CLOSED, -21, "connection closed by peer")                                            \
    X(EAS_ERR_TIMEOUT, -22, "timed out")                                                           \
    X(EAS_ERR_DNS, -23, "host name could not be resolved")                                         \
    X(EAS_ERR_CONNECT, -24, "connection refused or unreachable")                                   \
    X(EAS_ERR_RESET, -25, "connection reset by peer")                                              \
    /* TLS: -40 .. -59 */                                                                          \
    X(EAS_ERR_TLS, -40, "TLS error")                                                               \
    X(EAS_ERR_TLS_HANDSHAKE, -41, "TLS handshake failed")                                          \
    X(EAS_ERR_TLS_CERT_UNTRUSTED, -42, "TLS: certificate not signed by a trusted CA")              \
    X(EAS_ERR_TLS_CERT_HOSTNAME, -43, "TLS: certificate does not match the host name")             \
    X(EAS_ERR_TLS_CERT_EXPIRED, -44, "TLS: certificate expired")                                   \
    X(EAS_ERR_TLS_CERT_FUTURE, -45, "TLS: certificate not yet valid")                              \
    X(EAS_ERR_TLS_CA, -46, "TLS: trusted CA certificates could not be loaded")                     \
    X(EAS_ERR_TLS_CERT_OTHER, -47, "TLS: certificate rejected")                                    \
    /* persistent store: -60 .. -79 */                                                             \
    X(EAS_ERR_STORE, -60, "store: I/O error")                                                      \
    X(EAS_ERR_STORE_NOT_FOUND, -61, "store: no such record")                                       \
    X(EAS_ERR_STORE_CORRUPT, -62, "store: record corrupt")                                         \
    X(EAS_ERR_STORE_FULL, -63, "store: no space")                                                  \
    X(EAS_ERR_STORE_KEY, -64, "store: invalid record key")                                         \
    /* WBXML: -80 .. -109 */                                                                       \
    X(EAS_ERR_WBXML_VERSION, -80, "WBXML: unsupported version")                                    \
    X(EAS_ERR_WBXML_PUBLIC_ID, -81, "WBXML: unsupported public identifier")                        \
    X(EAS_ERR_WBXML_CHARSET, -82, "WBXML: unsupported charset")                                    \
    X(EAS_ERR_WBXML_TRUNCATED, -83, "WBXML: document truncated")                                   \
    X(EAS_ERR_WBXML_MB_UINT, -84, "WBXML: multi-byte integer overflow")                            \
    X(EAS_ERR_WBXML_PAGE, -85, "WBXML: unknown code page")                                         \
    X(EAS_ERR_WBXML_TOKEN, -86, "WBXML: unknown tag token")                                        \
    X(EAS_ERR_WBXML_DEPTH, -87, "WBXML: nesting too deep")                                         \
    X(EAS_ERR_WBXML_TOO_LONG, -88, "WBXML: string or opaque data too long")                        \
    X(EAS_ERR_WBXML_STRTBL, -89, "WBXML: bad string table reference")                              \
    X(EAS_ERR_WBXML_UNSUPPORTED, -90, "WBXML: construct not used by EAS")                          \
    X(EAS_ERR_WBXML_STRUCTURE, -91, "WBXML: malformed document structure")                         \
    X(EAS_ERR_WBXML_TRAILING, -92, "WBXML: data after the end of the document")                    \
    X(EAS_ERR_WBXML_ENTITY, -93, "WBXML: invalid character entity")                                \
    /* HTTP: -110 .. -139 */                                                                       \
    X(EAS_ERR_HTTP_STATUS_LINE, -110, "HTTP: malformed status line")                               \
    X(EAS_ERR_HTTP_HEADER, -111, "HTTP: malformed header")                                         \
    X(EAS_ERR_HTTP_HEADER_TOO_LONG, -112, "HTTP: headers exceed the configured size")              \
    X(EAS_ERR_HTTP_CHUNK, -113, "HTTP: malformed chunked encoding")                                \
    X(EAS_ERR_HTTP_LENGTH, -114, "HTTP: invalid or conflicting Content-Length")                    \
    X(EAS_ERR_HTTP_URL, -115, "HTTP: invalid URL")                                                 \
    X(EAS_ERR_HTTP_REDIRECT_LOOP, -116, "HTTP: redirect back to the same URL")                     \
    X(EAS_ERR_HTTP_TOO_MANY_REDIRECTS, -117, "HTTP: too many redirects")                           \
    X(EAS_ERR_HTTP_TRUNCATED, -118, "HTTP: connection closed before the response was complete")    \
    X(EAS_ERR_HTTP_STATUS, -119, "HTTP: unexpected status code")                                   \
    X(EAS_ERR_HTTP_BASE64, -120, "HTTP: invalid base64")                                           \
    X(EAS_ERR_HTTP_DEADLINE, -121, "HTTP: request exceeded its total deadline")                    \
    X(EAS_ERR_HTTP_TOO_LARGE, -122, "HTTP: response body exceeds the configured size")             \
    X(EAS_ERR_HTTP_REDIRECT_APPROVAL, -123, "HTTP: redirect to another server needs approval")     \
    X(EAS_ERR_HTTP_PLAINTEXT_AUTH, -124, "HTTP: credentials over plain http refused (no opt-in)")  \
    /* Autodiscover: -140 .. -159 */                                                               \
    X(EAS_ERR_AD_XML, -140, "Autodiscover: response is not well-formed XML")                       \
    X(EAS_ERR_AD_SCHEMA, -141, "Autodiscover: response does not follow the schema")                \
    X(EAS_ERR_AD_NO_URL, -142, "Autodiscover: response names no EAS URL")                          \
    X(EAS_ERR_AD_SERVER_ERROR, -143, "Autodiscover: server returned an Error element")             \
    X(EAS_ERR_AD_ADDRESS, -144, "Autodiscover: invalid e-mail address")                            \
    X(EAS_ERR_AD_EXHAUSTED, -145, "Autodiscover: every candidate URL failed")                      \
    /* calendar: -160 .. -179 */                                                                   \
    X(EAS_ERR_CAL_TIMEZONE, -160, "calendar: invalid TimeZone blob")                               \
    X(EAS_ERR_CAL_RECURRENCE, -161, "calendar: invalid recurrence")                                \
    X(EAS_ERR_CAL_CALENDAR_TYPE, -162, "calendar: unsupported CalendarType")                       \
    X(EAS_ERR_CAL_TIME, -163, "calendar: invalid date/time")                                       \
    X(EAS_ERR_CAL_ITERATIONS, -164, "calendar: iteration limit reached")                           \
    /* engine / protocol: -200 .. -239 */                                                          \
    X(EAS_ERR_PROTO, -200, "EAS: response violates the protocol")                                  \
    X(EAS_ERR_AUTH, -201, "EAS: authentication failed (HTTP 401)")                                 \
    X(EAS_ERR_FORBIDDEN, -202, "EAS: access denied (HTTP 403)")                                    \
    X(EAS_ERR_POLICY, -203, "EAS: device cannot meet the server's policy")                         \
    X(EAS_ERR_VERSION, -204, "EAS: no common protocol version")                                    \
    X(EAS_ERR_SERVER, -205, "EAS: server error")                                                   \
    X(EAS_ERR_THROTTLED, -206, "EAS: throttled by the server")                                     \
    X(EAS_ERR_WIPED, -207, "EAS: remote wipe requested")                                           \
    X(EAS_ERR_DEVICE_BLOCKED, -208, "EAS: device blocked or quarantined")                          \
    X(EAS_ERR_SYNC_LOOP, -209, "EAS: server repeated the same sync key")                           \
    X(EAS_ERR_OUTBOX_FULL, -210, "EAS: outbox full")                                               \
    X(EAS_ERR_MAILBOX_QUOTA, -211, "EAS: mailbox quota exceeded (HTTP 507)")                       \
    X(EAS_ERR_PROVISION_LOOP, -212, "EAS: re-provisioning limit reached")

/** Error codes; see EAS_ERR_LIST for their text. */
typedef enum eas_err {
#define EAS_ERR_ENUM_ITEM_(name, value, text) name = (value),
    EAS_ERR_LIST(EAS_ERR_ENUM_ITEM_)
#undef EAS_ERR_ENUM_ITEM_
} eas_err_t;

/**
 * @brief Text for an error code.
 *
 * Without CONFIG_EAS_ERR_MESSAGES (small targets) the texts are not compiled in: the result is
 * "success" for EAS_OK and "error" for everything else; print the numeric code alongside.
 * Likewise eas_err_name() gives "EAS_OK" / "EAS_ERR" without CONFIG_EAS_ERR_NAMES.
 * @param[in] err any value, including ones this build does not know.
 * @return a static, NUL-terminated string; never NULL.
 */
const char *eas_strerror(int err);

/**
 * @brief The enum name of an error code ("EAS_ERR_TIMEOUT"), for logs and tools.
 * @return a static string; "EAS_ERR_UNKNOWN" for unknown values.
 */
const char *eas_err_name(int err);

#ifdef __cplusplus
}
#endif

#endif /* EAS_ERR_H */
