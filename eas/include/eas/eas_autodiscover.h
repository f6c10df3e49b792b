/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file eas_autodiscover.h
 * @brief Autodiscover (POX over HTTPS, MS-ASCMD 2.2.1.1 / MS-OXDISCO): e-mail address → EAS URL.
 *
 * Needs CONFIG_EAS_AUTODISCOVER (and expat, the only place the core uses it). Two parts:
 *
 * - ::eas_ad_parser_t: a streaming parser of the Autodiscover response (expat, fed in
 *   chunks as the body arrives) that yields the MobileSync URL, a redirect (address or
 *   URL) or the server's Error. Expat's memory comes from the caller's work area through a
 *   bump allocator; nothing is taken from the heap.
 * - ::eas_autodiscover_t: the non-blocking discovery procedure on top of the HTTP client:
 *   POST the request XML to `https://<domain>/autodiscover/autodiscover.xml`, then to
 *   `https://autodiscover.<domain>/autodiscover/autodiscover.xml`; follow HTTP redirects
 *   (301/302/303/307/308, https only) and Autodiscover redirects (`Redirect` address in the
 *   mobilesync schema, `redirectAddr` / `redirectUrl` actions in the Outlook schema), at
 *   most CONFIG_EAS_MAX_REDIRECTS in total. A failure keeps a report saying which URL
 *   failed in which phase and why.
 *
 * Every request carries the user's credentials, so a redirect is followed without asking
 * only to the same scheme, host and port, or to a host the application put on the
 * allow-list (eas_autodiscover_allow()); an address redirect to another domain likewise
 * needs its candidate hosts listed. Anything else ends the procedure with
 * ::EAS_ERR_HTTP_REDIRECT_APPROVAL before the new host is contacted;
 * eas_autodiscover_redirect_url() names it so the application can ask the user.
 *
 * @code
 * eas_autodiscover_start(&ad, &http, "user@example.com", work, sizeof(work), now);
 * while ((rc = eas_autodiscover_step(&ad, now, &wait)) == EAS_ERR_AGAIN) { wait... }
 * if (rc == EAS_OK) use(eas_autodiscover_url(&ad)); else log(eas_autodiscover_report(&ad));
 * @endcode
 */
#ifndef EAS_AUTODISCOVER_H
#define EAS_AUTODISCOVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "eas/eas_config_defaults.h"
#include "eas/eas_http.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Bytes of work area the parser needs with this build's configuration. */
#define EAS_AD_PARSER_WORK_SIZE                                                                    \
    ((size_t)CONFIG_EAS_AD_XML_HEAP + 3u * ((size_t)CONFIG_EAS_URL_MAX + 1u))

/** Bytes of work area eas_autodiscover_start() needs (parser + two URLs). */
#define EAS_AUTODISCOVER_WORK_SIZE                                                                 \
    (EAS_AD_PARSER_WORK_SIZE + 2u * ((size_t)CONFIG_EAS_URL_MAX + 1u))

/** Longest e-mail address accepted. */
#define EAS_AD_EMAIL_MAX 254

/** What an Autodiscover response said. */
typedef enum eas_ad_kind {
    EAS_AD_NONE = 0,
    EAS_AD_SETTINGS,      /**< value: the MobileSync (EAS) URL */
    EAS_AD_REDIRECT_ADDR, /**< value: the e-mail address to try instead */
    EAS_AD_REDIRECT_URL,  /**< value: the Autodiscover URL to try instead */
    EAS_AD_ERROR          /**< the server's Error element; code in error_code */
} eas_ad_kind_t;

/** Parser result. */
typedef struct eas_ad_result {
    eas_ad_kind_t kind;
    const char *value;   /**< NUL-terminated, in the work area; NULL for NONE / ERROR */
    uint32_t error_code; /**< ErrorCode / Status of an Error element (0 if none) */
} eas_ad_result_t;

/** Streaming response parser. Treat as opaque. */
typedef struct eas_ad_parser {
    void *xml;     /**< expat parser */
    uint8_t *heap; /**< expat's memory */
    size_t heap_cap;
    size_t heap_used;
    size_t heap_last; /**< offset of the newest block (it can grow in place) */
    char *text;       /**< text of the element being read */
    char *value;      /**< result value */
    char *srv_url;    /**< Url / Name of the Server being read */
    size_t str_cap;   /**< capacity of text, value and srv_url */
    size_t text_len;
    uint32_t error_code;
    int err;
    uint16_t depth;
    uint8_t path[12]; /**< element ids of the open elements (deeper ones are not tracked) */
    uint8_t kind;
    uint8_t capture; /**< id of the element whose text is collected (0: none) */
    uint8_t ns;      /**< namespace of Response: 1 mobilesync, 2 base, 3 outlook */
    uint8_t srv_mobilesync;
    uint8_t srv_has_url;
    uint8_t srv_url_prio; /**< 2: from Url, 1: from Name */
    uint8_t acct_action;  /**< Outlook Account/Action: 1 redirectAddr, 2 redirectUrl */
    uint8_t has_error;
    uint8_t seen_root;
    uint8_t bad_schema; /**< well-formedness is still checked before SCHEMA is reported */
} eas_ad_parser_t;

/**
 * @brief Start parsing one response.
 * @param work at least EAS_AD_PARSER_WORK_SIZE bytes (expat's memory and three strings).
 * @return EAS_OK, EAS_ERR_PARAM, EAS_ERR_NOMEM (work too small, or expat could not start).
 */
int eas_ad_parser_begin(eas_ad_parser_t *p, uint8_t *work, size_t work_len);

/** @brief Feed the next chunk of the response body. Errors are sticky:
 *         EAS_ERR_AD_XML (not well-formed), EAS_ERR_AD_SCHEMA, EAS_ERR_LIMIT, EAS_ERR_NOMEM. */
int eas_ad_parser_feed(eas_ad_parser_t *p, const uint8_t *data, size_t len);

/**
 * @brief End of the body: check the document and return what it said.
 * @return EAS_OK (SETTINGS / REDIRECT_ADDR / REDIRECT_URL), EAS_ERR_AD_SERVER_ERROR (ERROR,
 *         code in @p res), EAS_ERR_AD_NO_URL (mobilesync response without a MobileSync
 *         URL), EAS_ERR_AD_SCHEMA, EAS_ERR_AD_XML, EAS_ERR_HTTP_URL (a URL that is not https).
 *         The parser is released in every case.
 */
int eas_ad_parser_finish(eas_ad_parser_t *p, eas_ad_result_t *res);

/** @brief Release the parser without a result (idempotent). */
void eas_ad_parser_abort(eas_ad_parser_t *p);

/**
 * @brief Write the Autodiscover request XML for @p email through @p write.
 * @return EAS_OK, EAS_ERR_AD_ADDRESS (not a plausible address), or the writer's error.
 */
int eas_ad_request_write(const char *email, eas_http_write_fn write, void *wctx);

/** Phases a candidate can fail in (for the report). */
typedef enum eas_ad_phase {
    EAS_AD_PHASE_HTTP = 0, /**< connect / send / receive (see the error) */
    EAS_AD_PHASE_STATUS,   /**< the HTTP status was not 200 */
    EAS_AD_PHASE_RESPONSE, /**< the response body (XML, schema, Error element) */
    EAS_AD_PHASE_REDIRECT  /**< a redirect that must not be followed */
} eas_ad_phase_t;

/** The discovery procedure. Treat as opaque. */
typedef struct eas_autodiscover {
    eas_http_client_t *http;
    eas_http_request_t req;
    eas_ad_parser_t parser;
    uint8_t *parser_work;
    char *url;    /**< the URL being tried (CONFIG_EAS_URL_MAX + 1) */
    char *result; /**< the EAS URL found (CONFIG_EAS_URL_MAX + 1) */
    int err;
    int last_err;
    uint16_t last_status;
    uint8_t candidate; /**< 0: https://<domain>/..., 1: https://autodiscover.<domain>/... */
    uint8_t redirects;
    uint8_t state;
    uint8_t failures;
    uint8_t parser_live;
    uint8_t foreign; /**< the address came from a redirect to another domain */
    eas_http_allow_t allow;
    char email[EAS_AD_EMAIL_MAX + 1];
    char report[384];
} eas_autodiscover_t;

/**
 * @brief Start discovery for @p email using @p http (idle; its auth is used as configured).
 * @param work at least EAS_AUTODISCOVER_WORK_SIZE bytes, valid until the procedure ends.
 * @return EAS_OK, EAS_ERR_PARAM, EAS_ERR_NOMEM, EAS_ERR_AD_ADDRESS.
 */
int eas_autodiscover_start(eas_autodiscover_t *ad, eas_http_client_t *http, const char *email,
                           uint8_t *work, size_t work_len, uint64_t now_ms);

/**
 * @brief Advance. @return EAS_ERR_AGAIN (wait as @p wait says), EAS_OK (the EAS URL is in
 *        eas_autodiscover_url()), or the final error: EAS_ERR_AD_EXHAUSTED (every candidate
 *        failed; see the report), EAS_ERR_HTTP_TOO_MANY_REDIRECTS, EAS_ERR_HTTP_REDIRECT_LOOP,
 *        EAS_ERR_HTTP_REDIRECT_APPROVAL (see eas_autodiscover_redirect_url()).
 */
int eas_autodiscover_step(eas_autodiscover_t *ad, uint64_t now_ms, eas_http_wait_t *wait);

/**
 * @brief Hosts redirects may lead to without asking (see the file comment). Call after
 *        eas_autodiscover_start() and before the first step; @p allow is copied, the host
 *        strings must stay valid until the procedure ends. NULL clears the list.
 */
void eas_autodiscover_allow(eas_autodiscover_t *ad, const eas_http_allow_t *allow);

/** @brief After ::EAS_ERR_HTTP_REDIRECT_APPROVAL: the URL the server redirected to (never
 *         contacted), else NULL. */
const char *eas_autodiscover_redirect_url(const eas_autodiscover_t *ad);

/** @brief The discovered EAS URL, or NULL. */
const char *eas_autodiscover_url(const eas_autodiscover_t *ad);

/** @brief Human-readable account of every failed step ("" if none), e.g.
 *         "https://example.com/autodiscover/autodiscover.xml: http: EAS_ERR_TLS_CERT_UNTRUSTED;
 * ...". */
const char *eas_autodiscover_report(const eas_autodiscover_t *ad);

/** @brief Abandon the procedure (cancels the HTTP request). */
void eas_autodiscover_cancel(eas_autodiscover_t *ad);

#ifdef __cplusplus
}
#endif

#endif /* EAS_AUTODISCOVER_H */
