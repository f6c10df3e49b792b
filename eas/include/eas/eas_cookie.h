/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file eas_cookie.h
 * @brief A bounded HTTP cookie jar (RFC 6265) for one account, in caller-owned memory.
 *
 * MS-ASHTTP asks a client that speaks 16.x or authenticates with OAuth to keep the cookies
 * the server sets and to send them back (Exchange Online routes a device to its mailbox
 * server that way). The jar here:
 *
 * - parses `Set-Cookie` values (name=value, Expires, Max-Age, Domain, Path, Secure; the
 *   `__Secure-` / `__Host-` name prefixes are enforced);
 * - keeps at most ::eas_cookie_jar_slots() cookies of at most CONFIG_EAS_COOKIE_SIZE bytes
 *   each (name, value, domain and path together) in the memory given to
 *   eas_cookie_jar_init(). A server cannot make it grow: a cookie that is too large is
 *   dropped, and when every slot is taken the expired cookies go first, then the one set
 *   longest ago;
 * - writes the `Cookie` value for a request URL (domain, path, Secure and expiry checked
 *   against the time the caller passes);
 * - serialises to and from a small line-based text (eas_cookie_jar_save() /
 *   eas_cookie_jar_load()) so the application can persist it with the account. Session
 *   cookies (no Expires / Max-Age) are saved too: for a device the "session" is the
 *   account's life, not one process.
 *
 * Nothing allocates; time is always an argument (UTC seconds). The struct does not depend
 * on Kconfig; the memory size does (::EAS_COOKIE_JAR_SIZE).
 */
#ifndef EAS_COOKIE_H
#define EAS_COOKIE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "eas/eas_config_defaults.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Bytes of bookkeeping per slot in front of the cookie text. */
#define EAS_COOKIE_SLOT_HEADER 24u

/** Bytes of one slot with this build's configuration (8-byte aligned). */
#define EAS_COOKIE_SLOT_SIZE                                                                       \
    ((((size_t)EAS_COOKIE_SLOT_HEADER + (size_t)CONFIG_EAS_COOKIE_SIZE) + 7u) & ~(size_t)7u)

/** Memory for a jar of CONFIG_EAS_COOKIE_MAX cookies. */
#define EAS_COOKIE_JAR_SIZE ((size_t)CONFIG_EAS_COOKIE_MAX * EAS_COOKIE_SLOT_SIZE)

/** Write callback (same shape as ::eas_http_write_fn). Return EAS_OK or a negative error. */
typedef int (*eas_cookie_write_fn)(void *ctx, const uint8_t *data, size_t len);

/** The jar. Treat as opaque. */
typedef struct eas_cookie_jar {
    uint8_t *mem;       /**< slots (caller's memory, 8-byte aligned) */
    uint16_t slots;     /**< how many fit in mem (at most CONFIG_EAS_COOKIE_MAX) */
    uint8_t changed;    /**< set by every change; see eas_cookie_jar_take_changed() */
    uint8_t reserved;
    uint32_t seq;       /**< order of setting, for eviction and ordering */
} eas_cookie_jar_t;

/**
 * @brief Prepare an empty jar in @p mem (8-byte aligned, any size; the number of slots is
 *        min(mem_len / EAS_COOKIE_SLOT_SIZE, CONFIG_EAS_COOKIE_MAX)).
 * @return EAS_OK, EAS_ERR_PARAM (NULL or misaligned), EAS_ERR_NOMEM (not one slot).
 */
int eas_cookie_jar_init(eas_cookie_jar_t *jar, void *mem, size_t mem_len);

/** @brief Number of slots of the jar. */
size_t eas_cookie_jar_slots(const eas_cookie_jar_t *jar);

/** @brief Drop every cookie. */
void eas_cookie_jar_clear(eas_cookie_jar_t *jar);

/** @brief Cookies stored and not expired at @p now. */
size_t eas_cookie_jar_count(const eas_cookie_jar_t *jar, int64_t now);

/**
 * @brief Whether the jar changed since the last call (and reset the flag): the application
 *        persists the jar when this says so.
 */
bool eas_cookie_jar_take_changed(eas_cookie_jar_t *jar);

/**
 * @brief Apply one `Set-Cookie` header value received in answer to @p request_url.
 * @param value,len the header value (after "Set-Cookie:"), not NUL-terminated.
 * @param now       UTC seconds (for Max-Age and to recognise an expired cookie).
 * @return EAS_OK (stored, replaced or - if already expired - removed), EAS_ERR_FORMAT
 *         (malformed, or refused: foreign domain, Secure over http, prefix rules),
 *         EAS_ERR_LIMIT (larger than CONFIG_EAS_COOKIE_SIZE), EAS_ERR_HTTP_URL, EAS_ERR_PARAM.
 *         On any error the jar is unchanged.
 */
int eas_cookie_set(eas_cookie_jar_t *jar, const char *request_url, const char *value, size_t len,
                   int64_t now);

/**
 * @brief Write the value of the `Cookie` header for a request to @p url ("a=1; b=2"; nothing
 *        if no cookie applies). Longer paths first, then older cookies first (RFC 6265 5.4).
 * @param[out] count cookies written (may be NULL).
 * @return EAS_OK, EAS_ERR_HTTP_URL, or the writer's error.
 */
int eas_cookie_header(const eas_cookie_jar_t *jar, const char *url, int64_t now,
                      eas_cookie_write_fn write, void *ctx, size_t *count);

/**
 * @brief Serialise the cookies not expired at @p now: a first line "easd-cookies 1", then
 *        one line per cookie: domain, host-only (0/1), path, secure (0/1), expiry (UTC
 *        seconds, 0 for a session cookie), name, value - separated by tabs.
 * @return EAS_OK or the writer's error.
 */
int eas_cookie_jar_save(const eas_cookie_jar_t *jar, int64_t now, eas_cookie_write_fn write,
                        void *ctx);

/**
 * @brief Replace the jar's content with a saved text (untrusted: every line is checked as
 *        strictly as a Set-Cookie; cookies expired at @p now are skipped).
 * @return EAS_OK; EAS_ERR_FORMAT / EAS_ERR_LIMIT (the jar is then left empty, never half
 *         loaded); EAS_ERR_PARAM.
 */
int eas_cookie_jar_load(eas_cookie_jar_t *jar, const char *text, size_t len, int64_t now);

/**
 * @brief Parse a cookie date (RFC 6265 5.1.1: the lenient algorithm browsers use, which
 *        accepts "Wed, 09-Jun-2021 10:18:14 GMT" as well as IMF-fixdate).
 * @return EAS_OK and UTC seconds in @p out, or EAS_ERR_FORMAT.
 */
int eas_cookie_parse_date(const char *s, size_t len, int64_t *out);

#ifdef __cplusplus
}
#endif

#endif /* EAS_COOKIE_H */
