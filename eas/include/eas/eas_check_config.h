/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file eas_check_config.h
 * @brief Rejects inconsistent configurations at compile time.
 *
 * Included by eas_config_defaults.h after every value is known. Each check says what is
 * wrong and how to fix it; Kconfig ranges catch single out-of-range values, this file
 * catches combinations (and values set without Kconfig).
 */
#ifndef EAS_CHECK_CONFIG_H
#define EAS_CHECK_CONFIG_H

#if !CONFIG_EAS_CALENDAR && !CONFIG_EAS_CONTACTS && !CONFIG_EAS_EMAIL && !CONFIG_EAS_TASKS &&     \
    !CONFIG_EAS_NOTES
#error "easd config: enable at least one content class (CONFIG_EAS_CALENDAR, ...)"
#endif

#if CONFIG_EAS_WBXML_MAX_DEPTH < 8 || CONFIG_EAS_WBXML_MAX_DEPTH > 64
#error "easd config: CONFIG_EAS_WBXML_MAX_DEPTH must be 8..64 (EAS documents nest ~10 deep; the decoder stack holds 64)"
#endif

/* The request line carries the URL path and query; it is built in the transmit buffer. */
#if CONFIG_EAS_TX_CHUNK < CONFIG_EAS_URL_MAX + 128
#error "easd config: CONFIG_EAS_TX_CHUNK must be at least CONFIG_EAS_URL_MAX + 128 (request line)"
#endif

/* A redirect (X-MS-Location) header line holding a full URL must fit the header buffer. */
#if CONFIG_EAS_HTTP_MAX_HEADER < CONFIG_EAS_URL_MAX + 32
#error "easd config: CONFIG_EAS_HTTP_MAX_HEADER must be at least CONFIG_EAS_URL_MAX + 32"
#endif

/* The total head bound includes at least one full header line. */
#if CONFIG_EAS_HTTP_MAX_HEADER_TOTAL < CONFIG_EAS_HTTP_MAX_HEADER
#error "easd config: CONFIG_EAS_HTTP_MAX_HEADER_TOTAL must be >= CONFIG_EAS_HTTP_MAX_HEADER"
#endif

#if CONFIG_EAS_ARENA_SIZE < 1024
#error "easd config: CONFIG_EAS_ARENA_SIZE below 1024 cannot hold one command's state"
#endif

#if CONFIG_EAS_CAL_MAX_ITERATIONS < CONFIG_EAS_CAL_MAX_OCCURRENCES
#error "easd config: CONFIG_EAS_CAL_MAX_ITERATIONS must be >= CONFIG_EAS_CAL_MAX_OCCURRENCES"
#endif

/* Engine: keys and ids live in EAS_ID_CAP (65) byte fields of the public structs. */
#if CONFIG_EAS_SYNC_KEY_MAX > 64 || CONFIG_EAS_SERVER_ID_MAX > 64
#error "easd config: CONFIG_EAS_SYNC_KEY_MAX and CONFIG_EAS_SERVER_ID_MAX are at most 64 (MS-ASCMD limit)"
#endif
#if CONFIG_EAS_BACKOFF_MAX_MS < CONFIG_EAS_BACKOFF_MIN_MS
#error "easd config: CONFIG_EAS_BACKOFF_MAX_MS must be >= CONFIG_EAS_BACKOFF_MIN_MS"
#endif
#if CONFIG_EAS_BACKOFF_BUSY_MS < CONFIG_EAS_BACKOFF_MIN_MS || \
    CONFIG_EAS_BACKOFF_BUSY_MS > CONFIG_EAS_BACKOFF_MAX_MS
#error "easd config: CONFIG_EAS_BACKOFF_BUSY_MS must be between CONFIG_EAS_BACKOFF_MIN_MS and CONFIG_EAS_BACKOFF_MAX_MS"
#endif

#if CONFIG_EAS_LOG_LEVEL < 0 || CONFIG_EAS_LOG_LEVEL > 4
#error "easd config: CONFIG_EAS_LOG_LEVEL must be 0 (none) .. 4 (debug)"
#endif

#endif /* EAS_CHECK_CONFIG_H */
