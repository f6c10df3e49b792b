/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file eas_config_defaults.h
 * @brief Build configuration of the core, with defaults for builds that do not use Kconfig.
 *
 * Integration without Kconfig: define the CONFIG_EAS_* macros you want to change (compiler
 * flags, or a header named by EAS_CONFIG_FILE) and leave the rest to the defaults below.
 * A translation unit must name its configuration: EAS_CONFIG_FILE, EAS_CONFIG_AUTOCONF, or
 * EAS_CONFIG_USE_DEFAULTS (explicitly: the defaults below, plus any CONFIG_EAS_* flags);
 * otherwise it is an #error. EAS_CONFIG_FINGERPRINT (below) lets eas_engine_init() reject a
 * caller whose configuration differs from the library's (EAS_ERR_CONFIG).
 * EAS_CONFIG_AUTOCONF (no value) includes the eas_autoconf.h that was generated and
 * installed with the library (what find_package(easd) and easd.pc define).
 * Booleans are 0 or 1, never "defined or not": always test them with `#if`.
 * The defaults here equal the Kconfig defaults (tests/unit/config checks this).
 */
#ifndef EAS_CONFIG_DEFAULTS_H
#define EAS_CONFIG_DEFAULTS_H

#include <stdint.h>

#if defined(EAS_CONFIG_FILE)
#include EAS_CONFIG_FILE
#elif defined(EAS_CONFIG_AUTOCONF)
/* The installed package (CMake and pkg-config) names its configuration this way: the
   eas_autoconf.h installed next to this header. A define without a string value survives
   every shell and make quoting, which -DEAS_CONFIG_FILE="..." does not. */
#include "eas_autoconf.h"
#elif !defined(EAS_CONFIG_USE_DEFAULTS)
/* Without a named configuration the defaults below would apply silently, and they differ from
   what the library may have been built with (e.g. 64 folders instead of 256): struct and
   buffer sizes would disagree between the caller and the library. */
#error "easd config: name the configuration the library was built with (-DEAS_CONFIG_FILE=\"eas_autoconf.h\" or -DEAS_CONFIG_AUTOCONF, as the CMake package and easd.pc do), or define EAS_CONFIG_USE_DEFAULTS to use the documented defaults"
#endif

/* ---- content classes ---- */
#ifndef CONFIG_EAS_CALENDAR
#define CONFIG_EAS_CALENDAR 1
#endif
#ifndef CONFIG_EAS_CONTACTS
#define CONFIG_EAS_CONTACTS 1
#endif
#ifndef CONFIG_EAS_EMAIL
#define CONFIG_EAS_EMAIL 1
#endif
#ifndef CONFIG_EAS_TASKS
#define CONFIG_EAS_TASKS 1
#endif
#ifndef CONFIG_EAS_NOTES
#define CONFIG_EAS_NOTES 1
#endif

/* ---- protocol features ---- */
#ifndef CONFIG_EAS_AUTODISCOVER
#define CONFIG_EAS_AUTODISCOVER 1
#endif
#ifndef CONFIG_EAS_BASE64_QUERY
#define CONFIG_EAS_BASE64_QUERY 1
#endif

/* ---- WBXML ---- */
#ifndef CONFIG_EAS_WBXML_NAMES
#define CONFIG_EAS_WBXML_NAMES 1
#endif
#ifndef CONFIG_EAS_WBXML_MAX_DEPTH
#define CONFIG_EAS_WBXML_MAX_DEPTH 24
#endif
#ifndef CONFIG_EAS_WBXML_MAX_STRING
#define CONFIG_EAS_WBXML_MAX_STRING 4096
#endif
#ifndef CONFIG_EAS_WBXML_MAX_OPAQUE
#define CONFIG_EAS_WBXML_MAX_OPAQUE 16777216
#endif
#ifndef CONFIG_EAS_WBXML_MAX_STRTBL
#define CONFIG_EAS_WBXML_MAX_STRTBL 0
#endif

/* ---- HTTP ---- */
#ifndef CONFIG_EAS_HTTP_MAX_HEADER
#define CONFIG_EAS_HTTP_MAX_HEADER 1024
#endif
#ifndef CONFIG_EAS_HTTP_MAX_HEADER_TOTAL
#define CONFIG_EAS_HTTP_MAX_HEADER_TOTAL 16384
#endif
#ifndef CONFIG_EAS_HTTP_CONNECT_TIMEOUT_MS
#define CONFIG_EAS_HTTP_CONNECT_TIMEOUT_MS 30000
#endif
#ifndef CONFIG_EAS_HTTP_SEND_TIMEOUT_MS
#define CONFIG_EAS_HTTP_SEND_TIMEOUT_MS 60000
#endif
#ifndef CONFIG_EAS_HTTP_FIRST_BYTE_TIMEOUT_MS
#define CONFIG_EAS_HTTP_FIRST_BYTE_TIMEOUT_MS 120000
#endif
#ifndef CONFIG_EAS_HTTP_RECV_TIMEOUT_MS
#define CONFIG_EAS_HTTP_RECV_TIMEOUT_MS 60000
#endif
#ifndef CONFIG_EAS_HTTP_TOTAL_TIMEOUT_MS
#define CONFIG_EAS_HTTP_TOTAL_TIMEOUT_MS 600000
#endif
#ifndef CONFIG_EAS_HTTP_MAX_UNSTREAMED
#define CONFIG_EAS_HTTP_MAX_UNSTREAMED 65536
#endif
#ifndef CONFIG_EAS_HTTP_RETRY_AFTER_MAX_S
#define CONFIG_EAS_HTTP_RETRY_AFTER_MAX_S 3600
#endif
#ifndef CONFIG_EAS_AD_XML_HEAP
#define CONFIG_EAS_AD_XML_HEAP 16384
#endif
#ifndef CONFIG_EAS_RX_CHUNK
#define CONFIG_EAS_RX_CHUNK 1024
#endif
#ifndef CONFIG_EAS_TX_CHUNK
#define CONFIG_EAS_TX_CHUNK 1024
#endif
#ifndef CONFIG_EAS_MAX_REDIRECTS
#define CONFIG_EAS_MAX_REDIRECTS 5
#endif
#ifndef CONFIG_EAS_HTTP_COOKIES
#define CONFIG_EAS_HTTP_COOKIES 1
#endif
#ifndef CONFIG_EAS_COOKIE_MAX
#define CONFIG_EAS_COOKIE_MAX 8
#endif
#ifndef CONFIG_EAS_COOKIE_SIZE
#define CONFIG_EAS_COOKIE_SIZE 512
#endif
#ifndef CONFIG_EAS_URL_MAX
#define CONFIG_EAS_URL_MAX 256
#endif

/* ---- calendar ---- */
#ifndef CONFIG_EAS_CAL_MAX_EXCEPTIONS
#define CONFIG_EAS_CAL_MAX_EXCEPTIONS 64
#endif
#ifndef CONFIG_EAS_CAL_MAX_OCCURRENCES
#define CONFIG_EAS_CAL_MAX_OCCURRENCES 1000
#endif
#ifndef CONFIG_EAS_CAL_MAX_ITERATIONS
#define CONFIG_EAS_CAL_MAX_ITERATIONS 100000
#endif

/* ---- engine ---- */
#ifndef CONFIG_EAS_ARENA_SIZE
#define CONFIG_EAS_ARENA_SIZE 8192
#endif
#ifndef CONFIG_EAS_MAX_FOLDERS
#define CONFIG_EAS_MAX_FOLDERS 64
#endif
#ifndef CONFIG_EAS_OUTBOX_SLOTS
#define CONFIG_EAS_OUTBOX_SLOTS 32
#endif
#ifndef CONFIG_EAS_SYNC_KEY_MAX
#define CONFIG_EAS_SYNC_KEY_MAX 64
#endif
#ifndef CONFIG_EAS_SERVER_ID_MAX
#define CONFIG_EAS_SERVER_ID_MAX 64
#endif
#ifndef CONFIG_EAS_OUTBOX_RECORD_MAX
#define CONFIG_EAS_OUTBOX_RECORD_MAX 2048
#endif
#ifndef CONFIG_EAS_PROVISION_RETRIES
#define CONFIG_EAS_PROVISION_RETRIES 3
#endif
#ifndef CONFIG_EAS_BACKOFF_MIN_MS
#define CONFIG_EAS_BACKOFF_MIN_MS 2000
#endif
#ifndef CONFIG_EAS_BACKOFF_MAX_MS
#define CONFIG_EAS_BACKOFF_MAX_MS 900000
#endif
#ifndef CONFIG_EAS_PING_START_S
#define CONFIG_EAS_PING_START_S 480
#endif
#ifndef CONFIG_EAS_PING_CEILING_S
#define CONFIG_EAS_PING_CEILING_S 3540
#endif
#ifndef CONFIG_EAS_SYNC_REPEAT_MAX
#define CONFIG_EAS_SYNC_REPEAT_MAX 2
#endif
#ifndef CONFIG_EAS_FETCH_MAX_BYTES
#define CONFIG_EAS_FETCH_MAX_BYTES 33554432
#endif
#ifndef CONFIG_EAS_MAIL_MAX_BYTES
#define CONFIG_EAS_MAIL_MAX_BYTES 1048576
#endif
#ifndef CONFIG_EAS_OUTBOX_MAX_ATTEMPTS
#define CONFIG_EAS_OUTBOX_MAX_ATTEMPTS 5
#endif

/* ---- diagnostics ---- */
#ifndef CONFIG_EAS_LOG_LEVEL
#define CONFIG_EAS_LOG_LEVEL 3
#endif
#ifndef CONFIG_EAS_LOG_LINE_MAX
#define CONFIG_EAS_LOG_LINE_MAX 160
#endif
#ifndef CONFIG_EAS_ERR_MESSAGES
#define CONFIG_EAS_ERR_MESSAGES 1
#endif
#ifndef CONFIG_EAS_ERR_NAMES
#define CONFIG_EAS_ERR_NAMES 1
#endif

#include "eas/eas_check_config.h"

/* ---- configuration fingerprint ---- */
/* FNV-1a over every value that changes a size, a layout or a feature shared between the
   library and its caller (timeouts, back-off and log settings only change the library's own
   behaviour and are left out). The caller passes its value in eas_engine_mem_t::config;
   eas_engine_init() compares it with the library's own. */
#define EAS_FP_(h, v) ((uint32_t)(((uint32_t)(h) ^ (uint32_t)(v)) * 16777619u))
#define EAS_CONFIG_FINGERPRINT_0 2166136261u
#define EAS_CONFIG_FINGERPRINT_1 EAS_FP_(EAS_CONFIG_FINGERPRINT_0, CONFIG_EAS_CALENDAR)
#define EAS_CONFIG_FINGERPRINT_2 EAS_FP_(EAS_CONFIG_FINGERPRINT_1, CONFIG_EAS_CONTACTS)
#define EAS_CONFIG_FINGERPRINT_3 EAS_FP_(EAS_CONFIG_FINGERPRINT_2, CONFIG_EAS_EMAIL)
#define EAS_CONFIG_FINGERPRINT_4 EAS_FP_(EAS_CONFIG_FINGERPRINT_3, CONFIG_EAS_TASKS)
#define EAS_CONFIG_FINGERPRINT_5 EAS_FP_(EAS_CONFIG_FINGERPRINT_4, CONFIG_EAS_NOTES)
#define EAS_CONFIG_FINGERPRINT_6 EAS_FP_(EAS_CONFIG_FINGERPRINT_5, CONFIG_EAS_AUTODISCOVER)
#define EAS_CONFIG_FINGERPRINT_7 EAS_FP_(EAS_CONFIG_FINGERPRINT_6, CONFIG_EAS_BASE64_QUERY)
#define EAS_CONFIG_FINGERPRINT_8 EAS_FP_(EAS_CONFIG_FINGERPRINT_7, CONFIG_EAS_WBXML_NAMES)
#define EAS_CONFIG_FINGERPRINT_9 EAS_FP_(EAS_CONFIG_FINGERPRINT_8, CONFIG_EAS_WBXML_MAX_DEPTH)
#define EAS_CONFIG_FINGERPRINT_10 EAS_FP_(EAS_CONFIG_FINGERPRINT_9, CONFIG_EAS_WBXML_MAX_STRING)
#define EAS_CONFIG_FINGERPRINT_11 EAS_FP_(EAS_CONFIG_FINGERPRINT_10, CONFIG_EAS_WBXML_MAX_OPAQUE)
#define EAS_CONFIG_FINGERPRINT_12 EAS_FP_(EAS_CONFIG_FINGERPRINT_11, CONFIG_EAS_WBXML_MAX_STRTBL)
#define EAS_CONFIG_FINGERPRINT_13 EAS_FP_(EAS_CONFIG_FINGERPRINT_12, CONFIG_EAS_HTTP_MAX_HEADER)
#define EAS_CONFIG_FINGERPRINT_14 EAS_FP_(EAS_CONFIG_FINGERPRINT_13, CONFIG_EAS_HTTP_MAX_HEADER_TOTAL)
#define EAS_CONFIG_FINGERPRINT_15 EAS_FP_(EAS_CONFIG_FINGERPRINT_14, CONFIG_EAS_AD_XML_HEAP)
#define EAS_CONFIG_FINGERPRINT_16 EAS_FP_(EAS_CONFIG_FINGERPRINT_15, CONFIG_EAS_RX_CHUNK)
#define EAS_CONFIG_FINGERPRINT_17 EAS_FP_(EAS_CONFIG_FINGERPRINT_16, CONFIG_EAS_TX_CHUNK)
#define EAS_CONFIG_FINGERPRINT_18 EAS_FP_(EAS_CONFIG_FINGERPRINT_17, CONFIG_EAS_MAX_REDIRECTS)
#define EAS_CONFIG_FINGERPRINT_19 EAS_FP_(EAS_CONFIG_FINGERPRINT_18, CONFIG_EAS_COOKIE_MAX)
#define EAS_CONFIG_FINGERPRINT_20 EAS_FP_(EAS_CONFIG_FINGERPRINT_19, CONFIG_EAS_COOKIE_SIZE)
#define EAS_CONFIG_FINGERPRINT_21 EAS_FP_(EAS_CONFIG_FINGERPRINT_20, CONFIG_EAS_URL_MAX)
#define EAS_CONFIG_FINGERPRINT_22 EAS_FP_(EAS_CONFIG_FINGERPRINT_21, CONFIG_EAS_CAL_MAX_EXCEPTIONS)
#define EAS_CONFIG_FINGERPRINT_23 EAS_FP_(EAS_CONFIG_FINGERPRINT_22, CONFIG_EAS_CAL_MAX_OCCURRENCES)
#define EAS_CONFIG_FINGERPRINT_24 EAS_FP_(EAS_CONFIG_FINGERPRINT_23, CONFIG_EAS_CAL_MAX_ITERATIONS)
#define EAS_CONFIG_FINGERPRINT_25 EAS_FP_(EAS_CONFIG_FINGERPRINT_24, CONFIG_EAS_ARENA_SIZE)
#define EAS_CONFIG_FINGERPRINT_26 EAS_FP_(EAS_CONFIG_FINGERPRINT_25, CONFIG_EAS_MAX_FOLDERS)
#define EAS_CONFIG_FINGERPRINT_27 EAS_FP_(EAS_CONFIG_FINGERPRINT_26, CONFIG_EAS_OUTBOX_SLOTS)
#define EAS_CONFIG_FINGERPRINT_28 EAS_FP_(EAS_CONFIG_FINGERPRINT_27, CONFIG_EAS_SYNC_KEY_MAX)
#define EAS_CONFIG_FINGERPRINT_29 EAS_FP_(EAS_CONFIG_FINGERPRINT_28, CONFIG_EAS_SERVER_ID_MAX)
#define EAS_CONFIG_FINGERPRINT_30 EAS_FP_(EAS_CONFIG_FINGERPRINT_29, CONFIG_EAS_OUTBOX_RECORD_MAX)
#define EAS_CONFIG_FINGERPRINT_31 EAS_FP_(EAS_CONFIG_FINGERPRINT_30, CONFIG_EAS_FETCH_MAX_BYTES)
#define EAS_CONFIG_FINGERPRINT_32 EAS_FP_(EAS_CONFIG_FINGERPRINT_31, CONFIG_EAS_MAIL_MAX_BYTES)
/** Fingerprint of the configuration this translation unit was compiled with. */
#define EAS_CONFIG_FINGERPRINT EAS_CONFIG_FINGERPRINT_32

#endif /* EAS_CONFIG_DEFAULTS_H */
