/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file eas_http.h
 * @brief Small, incremental HTTP/1.1 client for EAS over the HAL transport (MS-ASHTTP).
 *
 * Four layers, each usable on its own:
 *
 * - **URL** (::eas_url_parse): scheme, host (names and bracketed IPv6 literals), port, path.
 * - **Request builder** (::eas_http_request_write): the request head of an EAS command
 *   (plain-text or base64 query), of OPTIONS, or of a plain POST (Autodiscover). The body
 *   comes from a caller *body producer* (::eas_http_body_fn), see "Body producer contract".
 * - **Response framer** (::eas_http_framer_t): fed bytes in chunks of any size; parses the
 *   status line and headers (bounded), extracts what EAS needs into an ::eas_http_response_t,
 *   and hands body bytes straight to a sink callback as they arrive (Content-Length,
 *   chunked, or read-until-close).
 * - **Client** (::eas_http_client_t): owns one ::hal_io_t opened through the application's
 *   ::hal_net_t, keeps it alive between requests to the same endpoint, runs per-phase
 *   deadlines from the caller's `now_ms`, and never blocks.
 *
 * Nothing here allocates; public struct layouts do not depend on Kconfig. The client's
 * buffers live in one caller-supplied work area of ::EAS_HTTP_CLIENT_WORK_SIZE bytes.
 *
 * ## Driving the client (what the engine does)
 * @code
 * eas_http_client_init(&cli, &cfg);                  // once; cfg.work = caller buffer
 * eas_http_client_start(&cli, &req, now_ms);         // req stays valid until done
 * for (;;) {
 *     eas_http_wait_t w;
 *     int rc = eas_http_client_step(&cli, now_ms, &w);
 *     if (rc != EAS_ERR_AGAIN) break;                // EAS_OK: response complete
 *     wait_for(w.read, w.write, w.deadline_ms);      // the port's event loop
 * }
 * const eas_http_response_t *rsp = eas_http_client_response(&cli);
 * eas_http_classify(rsp, &verdict);                  // the engine decides what to do
 * @endcode
 *
 * ## Body producer contract
 * The client first runs the producer once with a *counting* writer to learn Content-Length,
 * then streams the body through its transmit buffer (CONFIG_EAS_TX_CHUNK). Because the
 * transport may say "try again" at any byte, the producer is simply run again for each
 * buffer-full: the writer skips the bytes already sent and returns ::EAS_ERR_AGAIN once the
 * buffer is full, which the producer must pass back (the WBXML encoder does this by itself:
 * its errors are sticky). Therefore a producer must be **deterministic** (same bytes every
 * run, until the request completes) and **side-effect free**. The cost is one extra pass
 * for the length plus one partial pass per transmit buffer: O(n²/CONFIG_EAS_TX_CHUNK)
 * encoder work for an n-byte body - negligible for the few-KB bodies of EAS commands; for
 * multi-MB bodies (SendMail with large attachments) raise CONFIG_EAS_TX_CHUNK (docs/http.md
 * has the numbers).
 */
#ifndef EAS_HTTP_H
#define EAS_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "eas/eas_config_defaults.h"
#include "hal/hal_io.h"
#include "hal/hal_log.h"

#ifdef __cplusplus
extern "C" {
#endif

struct eas_cookie_jar;

/* ------------------------------------------------------------------------------------------ */
/* URL                                                                                         */
/* ------------------------------------------------------------------------------------------ */

/** A parsed absolute http(s) URL; offsets index the string that was parsed. */
typedef struct eas_url {
    uint16_t port;     /**< explicit port, or 443 / 80 by scheme */
    uint8_t tls;       /**< 1 for https */
    uint8_t ipv6;      /**< host is an IPv6 literal (offsets exclude the brackets) */
    uint8_t port_set;  /**< the URL named a port explicitly */
    uint16_t host_off; /**< host name or literal address */
    uint16_t host_len;
    uint16_t path_off; /**< path and query ("/x?y"); path_len 0 means "/" */
    uint16_t path_len;
} eas_url_t;

/**
 * @brief Parse an absolute `http://` or `https://` URL (at most CONFIG_EAS_URL_MAX bytes).
 *
 * Rejected: other schemes, user information (`user:pass@`), empty or malformed hosts,
 * ports outside 1..65535, spaces and control characters anywhere. A fragment is dropped.
 * @return EAS_OK, EAS_ERR_PARAM (NULL), or EAS_ERR_HTTP_URL.
 */
int eas_url_parse(const char *url, eas_url_t *out);

/**
 * @brief Whether two URLs name the same resource: scheme and host compared without case,
 *        default ports made explicit, path and query compared exactly. Unparsable → false.
 */
bool eas_url_same(const char *a, const char *b);

/**
 * @brief Whether two URLs have the same origin: scheme, host (without case) and port
 *        (default ports made explicit). Unparsable → false.
 */
bool eas_url_same_origin(const char *a, const char *b);

/**
 * @brief Whether the host of @p url is one of @p hosts (compared without case; an IPv6
 *        literal is listed without brackets). Unparsable URL or NULL list → false.
 */
bool eas_url_host_listed(const char *url, const char *const *hosts, size_t n_hosts);

/**
 * @brief Resolve a redirect target against the URL it came from: an absolute URL is copied,
 *        an absolute path ("/x") is joined to @p base's scheme and authority.
 * @return EAS_OK, EAS_ERR_HTTP_URL (unparsable or relative-path reference), EAS_ERR_NOMEM.
 */
int eas_url_resolve(const char *base, const char *ref, char *out, size_t out_cap);

/* ------------------------------------------------------------------------------------------ */
/* EAS vocabulary                                                                              */
/* ------------------------------------------------------------------------------------------ */

/** EAS commands; the values are the MS-ASHTTP base64 command codes. */
typedef enum eas_cmd {
    EAS_CMD_SYNC = 0,
    EAS_CMD_SENDMAIL = 1,
    EAS_CMD_SMARTFORWARD = 2,
    EAS_CMD_SMARTREPLY = 3,
    EAS_CMD_GETATTACHMENT = 4,
    EAS_CMD_FOLDERSYNC = 9,
    EAS_CMD_FOLDERCREATE = 10,
    EAS_CMD_FOLDERDELETE = 11,
    EAS_CMD_FOLDERUPDATE = 12,
    EAS_CMD_MOVEITEMS = 13,
    EAS_CMD_GETITEMESTIMATE = 14,
    EAS_CMD_MEETINGRESPONSE = 15,
    EAS_CMD_SEARCH = 16,
    EAS_CMD_SETTINGS = 17,
    EAS_CMD_PING = 18,
    EAS_CMD_ITEMOPERATIONS = 19,
    EAS_CMD_PROVISION = 20,
    EAS_CMD_RESOLVERECIPIENTS = 21,
    EAS_CMD_VALIDATECERT = 22,
    EAS_CMD_FIND = 23,
    /** Not an EAS command: OPTIONS, or a plain request to the URL (Autodiscover). */
    EAS_CMD_NONE = 255
} eas_cmd_t;

/** Command name as used in `Cmd=` and MS-ASProtocolCommands; NULL if unknown. */
const char *eas_cmd_name(eas_cmd_t cmd);

/** Protocol versions; the value is the MS-ASHTTP base64 "Protocol version" byte. */
typedef enum eas_proto_ver {
    EAS_VER_NONE = 0,
    EAS_VER_2_5 = 25,
    EAS_VER_12_0 = 120,
    EAS_VER_12_1 = 121,
    EAS_VER_14_0 = 140,
    EAS_VER_14_1 = 141,
    EAS_VER_16_0 = 160,
    EAS_VER_16_1 = 161
} eas_proto_ver_t;

/** Bits of ::eas_http_response_t::versions (MS-ASProtocolVersions). */
#define EAS_HTTP_VER_BIT_2_5  0x01u
#define EAS_HTTP_VER_BIT_12_0 0x02u
#define EAS_HTTP_VER_BIT_12_1 0x04u
#define EAS_HTTP_VER_BIT_14_0 0x08u
#define EAS_HTTP_VER_BIT_14_1 0x10u
#define EAS_HTTP_VER_BIT_16_0 0x20u
#define EAS_HTTP_VER_BIT_16_1 0x40u

/** "14.1" for EAS_VER_14_1; NULL if unknown. */
const char *eas_proto_ver_string(eas_proto_ver_t ver);
/** The EAS_HTTP_VER_BIT_* of a version (0 if unknown). */
uint8_t eas_proto_ver_bit(eas_proto_ver_t ver);
/** Highest version present in @p bits that is also in @p supported; EAS_VER_NONE if none. */
eas_proto_ver_t eas_proto_ver_pick(uint8_t bits, uint8_t supported);

/* ------------------------------------------------------------------------------------------ */
/* Request                                                                                     */
/* ------------------------------------------------------------------------------------------ */

typedef enum eas_http_method {
    EAS_HTTP_POST = 0,
    EAS_HTTP_OPTIONS = 1,
    EAS_HTTP_GET = 2
} eas_http_method_t;

/** Command parameter tags (MS-ASHTTP base64 tags; plain form uses the names). */
typedef enum eas_http_param_tag {
    EAS_HTTP_PARAM_ATTACHMENT_NAME = 0,
    EAS_HTTP_PARAM_COLLECTION_ID = 1,
    EAS_HTTP_PARAM_ITEM_ID = 3,
    EAS_HTTP_PARAM_LONG_ID = 4,
    EAS_HTTP_PARAM_OCCURRENCE = 6
} eas_http_param_tag_t;

/** One command parameter (at most 255 bytes of value in the base64 form). */
typedef struct eas_http_param {
    eas_http_param_tag_t tag;
    const char *value;
} eas_http_param_t;

/**
 * Writer given to a body producer. Same signature as ::eas_wbxml_flush_t, so a WBXML
 * encoder can flush into it directly. Returns EAS_OK, or EAS_ERR_AGAIN when the producer
 * must stop (the transmit buffer is full) - the producer returns that value unchanged.
 */
typedef int (*eas_http_write_fn)(void *wctx, const uint8_t *data, size_t len);

/**
 * Body producer: write the whole body through @p write (see "Body producer contract").
 * @return EAS_OK when the body is complete, or the writer's / its own negative error.
 */
typedef int (*eas_http_body_fn)(void *user, eas_http_write_fn write, void *wctx);

struct eas_http_response;

/**
 * Body sink: receives body bytes in arrival order, possibly in many small pieces, after the
 * response head is complete (@p rsp is filled). Return EAS_OK or a negative error to abort.
 */
typedef int (*eas_http_sink_fn)(void *user, const struct eas_http_response *rsp,
                                const uint8_t *data, size_t len);

/** One HTTP request. Everything it points to must stay valid until the request ends. */
typedef struct eas_http_request {
    eas_http_method_t method;
    /**
     * Target URL. For an EAS command the ActiveSync endpoint
     * ("https://host/Microsoft-Server-ActiveSync"); the query is appended (with '&' if the
     * URL already has one). For ::EAS_CMD_NONE the URL is used as it is.
     */
    const char *url;
    /** The command (POST only; ignored for OPTIONS / GET). Note that a zeroed request
     *  means EAS_CMD_SYNC: plain POSTs must say EAS_CMD_NONE. */
    eas_cmd_t cmd;
    /** MS-ASProtocolVersion; EAS_VER_NONE omits it (OPTIONS, Autodiscover). */
    eas_proto_ver_t version;
    /** Use the base64-encoded query form (needs CONFIG_EAS_BASE64_QUERY and version >= 12.1). */
    bool base64_query;
    /** SaveInSent=T (SendMail, SmartReply, SmartForward). */
    bool save_in_sent;
    /** Ask for a multipart ItemOperations response (MS-ASAcceptMultiPart: T). */
    bool accept_multipart;
    /** Base64 form only: locale (LCID); 0 means 0x0409. */
    uint16_t locale;
    /** X-MS-PolicyKey; 0 means none (header omitted). */
    uint32_t policy_key;
    const char *user;        /**< User= (may be NULL) */
    const char *device_id;   /**< DeviceId= (required for commands) */
    const char *device_type; /**< DeviceType= (required for commands) */
    const eas_http_param_t *params;
    size_t n_params;
    /** Content-Type of the body; NULL means application/vnd.ms-sync.wbxml. */
    const char *content_type;
    /** Body producer; NULL: no body (POST sends Content-Length: 0). */
    eas_http_body_fn body;
    void *body_user;
    /** Where response body bytes go; NULL discards them. */
    eas_http_sink_fn sink;
    void *sink_user;
    /**
     * Longest wait from the end of sending to the first response byte; 0 means the
     * client's default. Ping sets its heartbeat plus a margin here.
     */
    uint32_t first_byte_timeout_ms;
    /**
     * Longest time for the whole request, from eas_http_client_start() to the last response
     * byte, including a reconnect after a stale keep-alive and a bearer refresh; a server
     * that drips bytes just fast enough for the per-phase deadlines still ends here with
     * ::EAS_ERR_HTTP_DEADLINE. 0 means the client's default, or, when
     * @ref first_byte_timeout_ms is longer than that, the first-byte wait plus
     * ::EAS_HTTP_TOTAL_MARGIN_MS. Ping sets its heartbeat plus a margin here.
     */
    uint32_t total_timeout_ms;
    /**
     * Most response body bytes accepted (::EAS_ERR_HTTP_TOO_LARGE beyond). 0 means: no bound
     * for a 2xx body streamed to @ref sink (the application sees it piece by piece and
     * the total deadline still applies), CONFIG_EAS_HTTP_MAX_UNSTREAMED for every body
     * that is not (non-2xx status, OPTIONS, no sink).
     */
    uint32_t max_body_bytes;
    /**
     * Not idempotent: once the request was sent whole, a connection closed or reset before
     * any response byte is reported (::EAS_ERR_CLOSED / ::EAS_ERR_RESET) instead of the
     * request going once more on a fresh connection - the server may have applied it. The
     * caller decides about a resend (the engine sets it for MeetingResponse, whose outbox
     * checks first whether the server applied it [S 1.15]).
     */
    bool no_replay;
} eas_http_request_t;

/** Margin added to a long first-byte wait when a request sets no total deadline (ms). */
#define EAS_HTTP_TOTAL_MARGIN_MS 60000u

/** How the client authenticates. */
typedef enum eas_http_auth_kind {
    EAS_HTTP_AUTH_NONE = 0,
    EAS_HTTP_AUTH_BASIC = 1,
    EAS_HTTP_AUTH_BEARER = 2
} eas_http_auth_kind_t;

/**
 * Bearer token source (OAuth is the application's business). @p refresh is true when the
 * server refused the previous token (401): the application should fetch a new one.
 * The token must stay valid until the request ends. Return EAS_OK or a negative error.
 */
typedef int (*eas_http_token_fn)(void *user, bool refresh, const char **token, size_t *len);

typedef struct eas_http_auth {
    eas_http_auth_kind_t kind;
    const char *user;     /**< Basic: user name (DOMAIN\\user or UPN) */
    const char *password; /**< Basic: password */
    eas_http_token_fn token;
    void *token_user;
} eas_http_auth_t;

/**
 * @brief Write the request head (request line, headers, empty line) through @p write.
 * @param body_len Content-Length to announce (ignored for OPTIONS / GET).
 * @param token,token_len bearer token (only with EAS_HTTP_AUTH_BEARER).
 * @return EAS_OK, the writer's error, EAS_ERR_PARAM (missing fields, values too long for
 *         the base64 form), EAS_ERR_HTTP_URL, EAS_ERR_UNSUPPORTED (base64 form not built in).
 */
int eas_http_request_write(const eas_http_request_t *req, const eas_http_auth_t *auth,
                           const char *user_agent, const char *token, size_t token_len,
                           uint64_t body_len, eas_http_write_fn write, void *wctx);

/**
 * @brief The MS-ASHTTP base64 query value of @p req (no leading '?') into @p out
 *        (NUL-terminated). @p out_len receives the length without the NUL.
 * @return EAS_OK, EAS_ERR_PARAM, EAS_ERR_NOMEM (out too small), EAS_ERR_UNSUPPORTED.
 */
int eas_http_base64_query(const eas_http_request_t *req, char *out, size_t out_cap,
                          size_t *out_len);

/* ------------------------------------------------------------------------------------------ */
/* Response                                                                                    */
/* ------------------------------------------------------------------------------------------ */

/** Content-Type classes. */
typedef enum eas_http_ctype {
    EAS_HTTP_CTYPE_NONE = 0,      /**< no Content-Type header */
    EAS_HTTP_CTYPE_WBXML = 1,     /**< application/vnd.ms-sync.wbxml (or .ms-sync) */
    EAS_HTTP_CTYPE_MULTIPART = 2, /**< application/vnd.ms-sync.multipart */
    EAS_HTTP_CTYPE_XML = 3,       /**< text/xml, application/xml */
    EAS_HTTP_CTYPE_HTML = 4,      /**< text/html (error pages with status 200 exist) */
    EAS_HTTP_CTYPE_OTHER = 5
} eas_http_ctype_t;

/** Bits of ::eas_http_response_t::auth_schemes (WWW-Authenticate). */
#define EAS_HTTP_SCHEME_BASIC     0x01u
#define EAS_HTTP_SCHEME_BEARER    0x02u
#define EAS_HTTP_SCHEME_NEGOTIATE 0x04u
#define EAS_HTTP_SCHEME_NTLM      0x08u
#define EAS_HTTP_SCHEME_OTHER     0x10u

/** What the framer extracted from a response head. */
typedef struct eas_http_response {
    uint16_t status;        /**< 100..599 */
    uint8_t http_minor;     /**< HTTP/1.x */
    uint8_t content_type;   /**< ::eas_http_ctype_t */
    uint8_t auth_schemes;   /**< EAS_HTTP_SCHEME_* */
    uint8_t versions;       /**< EAS_HTTP_VER_BIT_* from MS-ASProtocolVersions */
    uint8_t server_version; /**< MS-Server-ActiveSync as ::eas_proto_ver_t, 0 if absent */
    bool keep_alive;        /**< the connection may carry the next request */
    bool has_retry_after;
    bool content_encoded; /**< Content-Encoding other than identity: body is not WBXML */
    bool chunked;
    bool has_versions;      /**< an MS-ASProtocolVersions header was present */
    bool has_commands;      /**< an MS-ASProtocolCommands header was present */
    uint32_t commands;      /**< bit (1u << ::eas_cmd_t) per command in MS-ASProtocolCommands */
    uint32_t retry_after_s; /**< Retry-After, seconds from now (dates converted) */
    int64_t content_length; /**< -1 when not given */
    uint64_t body_bytes;    /**< body bytes delivered to the sink so far */
    /** X-MS-Location (preferred) or Location; NUL-terminated, in the work area; NULL if none
     *  or if it did not fit. */
    const char *location;
    /** X-MS-ASThrottle value ("" if none), truncated to fit. */
    char throttle[32];
    /** X-MS-RP was present: the server's protocol versions changed (MS-ASHTTP); its list
        is in rp_versions (EAS_HTTP_VER_BIT_*). The client re-runs FolderSync. */
    bool has_rp;
    uint8_t rp_versions;
    /** X-MS-Credentials-Expire: days until the password expires; -1 if absent. */
    int32_t credentials_expire_days;
} eas_http_response_t;

/** Framer states (internal; exposed for tests). */
typedef enum eas_http_framer_state {
    EAS_HTTP_FR_STATUS = 0,
    EAS_HTTP_FR_HEADER,
    EAS_HTTP_FR_BODY_LENGTH,
    EAS_HTTP_FR_BODY_CLOSE,
    EAS_HTTP_FR_CHUNK_SIZE,
    EAS_HTTP_FR_CHUNK_DATA,
    EAS_HTTP_FR_CHUNK_CRLF,
    EAS_HTTP_FR_TRAILER,
    EAS_HTTP_FR_DONE,
    EAS_HTTP_FR_ERROR
} eas_http_framer_state_t;

/**
 * Header observer: sees every header of the final response (not of 1xx heads, not
 * trailers) after the framer's own checks, e.g. Set-Cookie for a cookie jar. A header
 * line longer than the line buffer that the framer does not need is skipped unseen.
 */
typedef void (*eas_http_header_fn)(void *user, const char *name, size_t name_len, const char *value,
                                   size_t value_len);

/** Incremental response framer. Treat as opaque. */
typedef struct eas_http_framer {
    eas_http_response_t *rsp;
    eas_http_sink_fn sink;
    void *sink_user;
    char *line; /**< current header / chunk-size line */
    size_t line_cap;
    size_t line_len;
    char *loc; /**< storage for the Location value */
    size_t loc_cap;
    eas_http_header_fn observer; /**< see eas_http_framer_observe() */
    void *observer_user;
    int64_t now_utc;     /**< for Retry-After HTTP-dates */
    uint64_t remaining;  /**< body or chunk bytes left */
    uint32_t head_bytes; /**< bytes of head (and trailers) seen */
    uint32_t head_max;
    int err;
    uint8_t state;
    uint8_t skipping; /**< discarding the rest of an over-long, uninteresting line */
    uint8_t flags;
    uint8_t loc_prio; /**< 2: X-MS-Location stored, 1: Location stored */
} eas_http_framer_t;

/**
 * @brief Prepare a framer for one response.
 * @param rsp       filled as the head is parsed (cleared here).
 * @param line,line_cap  line buffer; one header line must fit (CONFIG_EAS_HTTP_MAX_HEADER).
 * @param loc,loc_cap    storage for a redirect URL (CONFIG_EAS_URL_MAX + 1); may be NULL.
 * @param now_utc   current UTC time (s) to turn a Retry-After date into seconds.
 * @param no_body   the request was HEAD: the response has no body whatever it says.
 */
void eas_http_framer_init(eas_http_framer_t *fr, eas_http_response_t *rsp, char *line,
                          size_t line_cap, char *loc, size_t loc_cap, eas_http_sink_fn sink,
                          void *sink_user, int64_t now_utc, bool no_body);

/** @brief Let @p fn see every header of the final response (call after init). */
void eas_http_framer_observe(eas_http_framer_t *fr, eas_http_header_fn fn, void *user);

/**
 * @brief Feed received bytes.
 * @param[out] consumed bytes used; less than @p len only once the response is complete
 *             (the rest belongs to no response: the connection must not be reused).
 * @return EAS_OK (complete or more needed: see eas_http_framer_done()), a negative
 *         EAS_ERR_HTTP_* on malformed input, or the sink's error. Errors are sticky.
 */
int eas_http_framer_feed(eas_http_framer_t *fr, const uint8_t *data, size_t len, size_t *consumed);

/** @brief The peer closed the stream: EAS_OK if that ends a read-until-close body
 *         (or the response was already complete), EAS_ERR_HTTP_TRUNCATED otherwise. */
int eas_http_framer_eof(eas_http_framer_t *fr);

/** @brief Whether the whole response (head and body) has been framed. */
bool eas_http_framer_done(const eas_http_framer_t *fr);

/** @brief Whether the response head is complete (rsp fields are final). */
bool eas_http_framer_head_done(const eas_http_framer_t *fr);

/**
 * @brief Parse an HTTP-date (IMF-fixdate, RFC 850 or asctime form).
 * @return EAS_OK and seconds since 1970 in @p out, or EAS_ERR_FORMAT.
 */
int eas_http_parse_date(const char *s, size_t len, int64_t *out);

/* ------------------------------------------------------------------------------------------ */
/* Status classification: the HTTP layer reports, the engine decides                           */
/* ------------------------------------------------------------------------------------------ */

/** What a status code means for an EAS client (table in http_status.c and docs/http.md). */
typedef enum eas_http_class {
    EAS_HTTP_CLASS_OK = 0,           /**< 2xx: parse the body */
    EAS_HTTP_CLASS_BAD_REQUEST,      /**< 400 and unlisted 4xx: never resend unchanged */
    EAS_HTTP_CLASS_AUTH,             /**< 401: credentials problem; report, no retry storm */
    EAS_HTTP_CLASS_FORBIDDEN,        /**< 403: user not enabled for EAS */
    EAS_HTTP_CLASS_NOT_FOUND,        /**< 404: wrong URL: rediscover */
    EAS_HTTP_CLASS_PROVISION,        /**< 449: re-provision, then replay with the new key */
    EAS_HTTP_CLASS_REDIRECT,         /**< 451: use X-MS-Location (persist it) */
    EAS_HTTP_CLASS_BLOCKED,          /**< 456: account blocked */
    EAS_HTTP_CLASS_PASSWORD_EXPIRED, /**< 457: password expired */
    EAS_HTTP_CLASS_SERVER_ERROR,     /**< 500, other 5xx: back-off */
    EAS_HTTP_CLASS_UNAVAILABLE,      /**< 503 (and 429): Retry-After, else back-off */
    EAS_HTTP_CLASS_QUOTA,            /**< 507: mailbox full */
    EAS_HTTP_CLASS_HTTP_REDIRECT,    /**< 301/302/303/307/308 (Autodiscover follows them) */
    EAS_HTTP_CLASS_UNEXPECTED        /**< anything else (1xx, 3xx without meaning) */
} eas_http_class_t;

/** The classification of one response. */
typedef struct eas_http_verdict {
    eas_http_class_t cls;
    /** The eas_err_t the engine reports if it gives up (EAS_OK for CLASS_OK). */
    int err;
    /** A later identical request may succeed (after back-off / Retry-After). */
    bool transient;
    bool has_retry_after;
    uint32_t retry_after_s;
    /** CLASS_REDIRECT / HTTP_REDIRECT: the target (NULL if the header was missing). */
    const char *location;
    /** The server asked for more than CONFIG_EAS_HTTP_RETRY_AFTER_MAX_S: @ref retry_after_s
     *  holds the cap, @ref retry_after_asked_s what the server sent (report it). */
    bool retry_after_capped;
    uint32_t retry_after_asked_s;
} eas_http_verdict_t;

/** @brief Classify a complete response (see the table in docs/http.md). Never fails. */
void eas_http_classify(const eas_http_response_t *rsp, eas_http_verdict_t *out);

/** @brief Name of a class ("PROVISION"), for logs. */
const char *eas_http_class_name(eas_http_class_t cls);

/**
 * @brief Check a redirect before following it.
 * @param current  the URL that answered with the redirect.
 * @param target   the redirect target (absolute URL).
 * @param[in,out] count redirects followed in a row so far; incremented on success.
 * @return EAS_OK, EAS_ERR_HTTP_REDIRECT_LOOP (same URL), EAS_ERR_HTTP_TOO_MANY_REDIRECTS
 *         (more than CONFIG_EAS_MAX_REDIRECTS), EAS_ERR_HTTP_URL (unparsable, or https → http).
 */
int eas_http_redirect_check(const char *current, const char *target, uint8_t *count);

/** Hosts the application lets the client follow redirects to without asking again. */
typedef struct eas_http_allow {
    const char *const *hosts; /**< host names (or IP literals), compared without case */
    size_t n_hosts;
} eas_http_allow_t;

/**
 * @brief The redirect policy (451 X-MS-Location, Autodiscover): may a request that went to
 *        @p current, with the user's credentials, be repeated at @p target without asking?
 *
 * Yes when scheme, host and port are unchanged, or when the target's host is on @p allow.
 * Any other target is the application's decision: the caller reports it and sends nothing
 * there. A downgrade from https to http is never followed, allow-list or not.
 * @return EAS_OK (follow), EAS_ERR_HTTP_REDIRECT_APPROVAL (report @p target, do not
 *         contact it), EAS_ERR_HTTP_URL (unparsable, or https → http).
 */
int eas_http_redirect_policy(const char *current, const char *target,
                             const eas_http_allow_t *allow);

/* ------------------------------------------------------------------------------------------ */
/* Client                                                                                      */
/* ------------------------------------------------------------------------------------------ */

/** Bytes of work area the client needs with this build's configuration. */
#define EAS_HTTP_CLIENT_WORK_SIZE                                                                  \
    ((size_t)CONFIG_EAS_TX_CHUNK + (size_t)CONFIG_EAS_RX_CHUNK +                                   \
     (size_t)CONFIG_EAS_HTTP_MAX_HEADER + (size_t)CONFIG_EAS_URL_MAX + 1u)

/** Request phases (also tell which one failed or timed out). */
typedef enum eas_http_phase {
    EAS_HTTP_PHASE_IDLE = 0,
    EAS_HTTP_PHASE_CONNECT, /**< DNS, TCP connect and TLS handshake */
    EAS_HTTP_PHASE_SEND,    /**< request head and body */
    EAS_HTTP_PHASE_WAIT,    /**< sent; waiting for the first response byte */
    EAS_HTTP_PHASE_RECV,    /**< head and body */
    EAS_HTTP_PHASE_DONE
} eas_http_phase_t;

/** Name of a phase ("connect"). */
const char *eas_http_phase_name(eas_http_phase_t phase);

/** Client configuration; copied by eas_http_client_init(). */
typedef struct eas_http_client_config {
    const hal_net_t *net; /**< connector (must outlive the client) */
    eas_http_auth_t auth;
    const char *user_agent; /**< NULL: "easd/<version>" */
    uint8_t *work;          /**< at least EAS_HTTP_CLIENT_WORK_SIZE bytes */
    size_t work_len;
    /** Deadlines in ms; 0 takes the CONFIG_EAS_HTTP_*_TIMEOUT_MS default. */
    uint32_t connect_timeout_ms;    /**< open → connection usable (DNS, TCP, TLS) */
    uint32_t send_timeout_ms;       /**< longest time without send progress */
    uint32_t first_byte_timeout_ms; /**< end of send → first byte (per request overridable) */
    uint32_t recv_timeout_ms;       /**< longest time without receive progress after that */
    uint32_t total_timeout_ms;      /**< whole request (per request overridable; see there) */
    int64_t (*utc_now)(void *user); /**< UTC seconds for Retry-After dates (NULL: 0) */
    /** Send credentials (Basic, bearer) over plain http:// too. Off: such a request is
        refused by eas_http_client_start() with EAS_ERR_HTTP_PLAINTEXT_AUTH. */
    bool allow_plaintext_auth;
    void *utc_user;
    /**
     * The account's cookie jar (eas_cookie.h), or NULL for none. When set, every request
     * carries the cookies that apply to its URL and every Set-Cookie of a response goes
     * into the jar (expiry judged by utc_now). The application persists the jar when
     * eas_cookie_jar_take_changed() says so.
     */
    struct eas_cookie_jar *cookies;
    /** Log sink (hal_log.h), or NULL for none; must outlive the client. The engine passes
        its own (hal_sys_t::log). */
    const hal_log_t *log;
} eas_http_client_config_t;

/** What the caller's event loop should wait for before the next step. */
typedef struct eas_http_wait {
    bool read;
    bool write;
    uint64_t deadline_ms; /**< call step again at this time at the latest */
} eas_http_wait_t;

/** The client. Treat as opaque; no field depends on Kconfig. */
typedef struct eas_http_client {
    eas_http_client_config_t cfg;
    const eas_http_request_t *req;
    hal_io_t io;
    eas_http_response_t rsp;
    eas_http_framer_t fr;
    uint8_t *tx;
    uint8_t *rx;
    size_t tx_cap;
    size_t rx_cap;
    size_t tx_len;      /**< bytes in tx */
    size_t tx_off;      /**< bytes of tx already sent */
    uint64_t body_len;  /**< Content-Length of the request body */
    uint64_t total_len; /**< head + body */
    uint64_t queued;    /**< bytes of the request copied into tx so far */
    uint64_t deadline_ms;
    uint64_t started_ms;
    uint64_t total_deadline_ms; /**< the whole request ends here (EAS_ERR_HTTP_DEADLINE) */
    uint64_t body_limit;        /**< most body bytes accepted for the current response */
    const char *token;
    size_t token_len;
    int64_t cookie_utc; /**< the time the request's Cookie header was chosen at */
    int err;
    uint16_t port; /**< endpoint of the open connection */
    uint8_t tls;
    uint8_t phase;
    uint8_t failed_phase;
    uint8_t io_open;
    uint8_t io_used;   /**< the connection carried a previous request */
    uint8_t connected; /**< the connection has moved bytes (connect phase over) */
    uint8_t got_bytes; /**< a response byte arrived for this request */
    uint8_t auth_retried;
    uint8_t stale_retried;
    uint8_t discard_body; /**< a 401 that will be retried: do not pass its body on */
    char host[256];       /**< host of the open connection (NUL-terminated) */
} eas_http_client_t;

/**
 * @brief Initialise the client.
 * @return EAS_OK, EAS_ERR_PARAM (NULL net / work), EAS_ERR_NOMEM (work area too small).
 */
int eas_http_client_init(eas_http_client_t *cli, const eas_http_client_config_t *cfg);

/**
 * @brief Start a request. Reuses the open connection if it goes to the same scheme, host
 *        and port and the previous response allowed it. Runs the body producer once
 *        (counting pass).
 * @return EAS_OK (now call eas_http_client_step()), EAS_ERR_BUSY (a request is running),
 *         EAS_ERR_PARAM, EAS_ERR_HTTP_URL, EAS_ERR_HTTP_PLAINTEXT_AUTH (credentials for an
 *         http:// URL without the opt-in), or the producer's error.
 */
int eas_http_client_start(eas_http_client_t *cli, const eas_http_request_t *req, uint64_t now_ms);

/**
 * @brief Advance the running request as far as possible without blocking.
 * @param[out] wait what to wait for before calling again (may be NULL).
 * @return EAS_ERR_AGAIN (in progress), EAS_OK (response complete: see
 *         eas_http_client_response()), or an error: EAS_ERR_DNS / EAS_ERR_CONNECT /
 *         EAS_ERR_TLS* (connect phase), EAS_ERR_TIMEOUT (see eas_http_client_failed_phase()),
 *         EAS_ERR_CLOSED / EAS_ERR_RESET / EAS_ERR_IO, EAS_ERR_HTTP_TRUNCATED,
 *         EAS_ERR_HTTP_* (malformed response), or the sink's / producer's error.
 *         After an error the connection is closed.
 */
int eas_http_client_step(eas_http_client_t *cli, uint64_t now_ms, eas_http_wait_t *wait);

/** @brief The response of the last request (complete after step returned EAS_OK). */
const eas_http_response_t *eas_http_client_response(const eas_http_client_t *cli);

/** @brief Phase in which the last request failed (EAS_HTTP_PHASE_IDLE if it did not). */
eas_http_phase_t eas_http_client_failed_phase(const eas_http_client_t *cli);

/** @brief Abandon the running request (if any) and close the connection. */
void eas_http_client_cancel(eas_http_client_t *cli);

/** @brief Close the kept-alive connection (e.g. before sleeping). Idempotent. */
void eas_http_client_close(eas_http_client_t *cli);

#ifdef __cplusplus
}
#endif

#endif /* EAS_HTTP_H */
