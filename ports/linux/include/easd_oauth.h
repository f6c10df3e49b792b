/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file easd_oauth.h
 * @brief OAuth 2.0 for a device (Linux port): obtain, refresh and store the bearer token
 *        the core's HTTP client asks for (::eas_http_token_fn).
 *
 * Two ways to get the first token:
 * - the **device authorization grant** (RFC 8628): the device shows a URL and a short code,
 *   the user approves on any other device with a browser, the device polls the token
 *   endpoint at the interval the server gives (slower after `slow_down`) until the answer is
 *   a token, `access_denied` or `expired_token`;
 * - the **authorization code grant with PKCE** (RFC 7636) and a loopback redirect
 *   (RFC 8252 7.3) for a machine with a browser: the device listens on 127.0.0.1, the browser
 *   comes back to it with the code, the code and the PKCE verifier buy the token.
 *
 * Afterwards easd_oauth_token() hands the access token to the HTTP client, refreshing it
 * (refresh_token grant) when it is within `refresh_margin_s` of expiring and once when the
 * EAS server answered 401. If the authorization server refuses the refresh token
 * (revoked, expired: a 4xx answer), the module forgets it, persists that, and stays in
 * ::EASD_OAUTH_AUTH_NEEDED: every later call fails at once with EAS_ERR_AUTH and no
 * request is sent - the user must authorize again. No loop.
 *
 * The refresh and access tokens are kept in `token_file` (written atomically, mode 0600)
 * like the account password; tokens are never logged. All HTTP goes through the core's own
 * client over the port's TLS (mbedtls, the configured CA file); `http://` endpoints are
 * accepted for loopback hosts only (tests). JSON is parsed with jansson.
 *
 * The calls block (with a deadline each): the flows are interactive, and a refresh inside
 * the token callback takes one round trip to the authorization server.
 *
 * Microsoft Entra ID defaults (docs/exchange-online.md): authority
 * `https://login.microsoftonline.com`, tenant `organizations`, scope
 * `https://outlook.office.com/EAS.AccessAsUser.All offline_access`, endpoints
 * `<authority>/<tenant>/oauth2/v2.0/{devicecode,token,authorize}`.
 */
#ifndef EASD_OAUTH_H
#define EASD_OAUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "eas/eas_http.h"
#include "easd_linux.h"

#ifdef __cplusplus
extern "C" {
#endif

#define EASD_OAUTH_DEFAULT_AUTHORITY "https://login.microsoftonline.com"
#define EASD_OAUTH_DEFAULT_TENANT    "organizations"
#define EASD_OAUTH_DEFAULT_SCOPE     "https://outlook.office.com/EAS.AccessAsUser.All offline_access"

/** Longest token kept (Entra access tokens are 1.5-3 KB). */
#define EASD_OAUTH_TOKEN_MAX 8192

/** Where the module stands. */
typedef enum easd_oauth_state {
    EASD_OAUTH_NO_TOKEN = 0, /**< nothing stored yet: run a flow */
    EASD_OAUTH_READY = 1,    /**< a refresh token (and perhaps an access token) is held */
    EASD_OAUTH_AUTH_NEEDED = 2 /**< the server refused the refresh token or the user said no:
                                    the user must authorize again */
} easd_oauth_state_t;

/** What the user must be shown in the device flow. Valid during the callback only. */
typedef struct easd_oauth_device_code {
    const char *user_code;
    const char *verification_uri;
    const char *verification_uri_complete; /**< may be NULL */
    uint32_t expires_in;                   /**< seconds the code is valid */
    uint32_t interval;                     /**< polling interval the server asked for */
} easd_oauth_device_code_t;

/** Configuration; the strings must outlive the module. NULL / 0 take the defaults. */
typedef struct easd_oauth_config {
    const char *authority; /**< default ::EASD_OAUTH_DEFAULT_AUTHORITY */
    const char *tenant;    /**< default ::EASD_OAUTH_DEFAULT_TENANT */
    const char *client_id; /**< required: the application (client) id */
    const char *scope;     /**< default ::EASD_OAUTH_DEFAULT_SCOPE */
    /** Endpoint overrides (another authorization server); default from authority/tenant. */
    const char *device_endpoint;
    const char *token_endpoint;
    const char *authorize_endpoint;
    const char *token_file; /**< required: where the tokens are kept (0600) */
    const char *ca_file;    /**< trusted CAs for the authorization server; NULL = system */
    uint32_t refresh_margin_s; /**< refresh this long before expiry; default 300 */
    uint32_t http_timeout_ms;  /**< per request to the authorization server; default 30000 */
    uint16_t redirect_port;    /**< PKCE loopback port; 0 = any free port */
    /** Host name in the redirect URI: "127.0.0.1" (default, RFC 8252 8.3) or "localhost"
        (what Entra's portal registers as "http://localhost"). The listener is on
        127.0.0.1 either way. */
    const char *redirect_host;
    /** Device flow: show the code (required for easd_oauth_device_flow()). */
    void (*on_device_code)(void *user, const easd_oauth_device_code_t *dc);
    /** PKCE flow: open (or show) this URL in a browser (required for the PKCE flow). */
    void (*on_authorize_url)(void *user, const char *url);
    void *user;
} easd_oauth_config_t;

/** The module. Treat as opaque. */
typedef struct easd_oauth {
    easd_oauth_config_t cfg;
    char device_url[1024];
    char token_url[1024];
    char authorize_url[1024];
    char access[EASD_OAUTH_TOKEN_MAX];
    size_t access_len;
    int64_t access_expires; /**< UTC seconds */
    char refresh[EASD_OAUTH_TOKEN_MAX];
    easd_oauth_state_t state;
    char last_error[64]; /**< the server's last OAuth "error" value ("" if none) */
    unsigned long refreshes; /**< successful refresh_token grants (diagnostics) */
    easd_linux_net_t lnet;
    hal_net_t net;
    eas_http_client_t cli;
    uint8_t *work;
} easd_oauth_t;

/**
 * @brief Set up and load `token_file` if it exists (a file that is not ours or not 0600 is
 *        refused, not used).
 * @return EAS_OK, EAS_ERR_PARAM (no client id / token file, bad endpoint URL), EAS_ERR_NOMEM,
 *         EAS_ERR_STORE_CORRUPT (unreadable token file: it is left alone).
 */
int easd_oauth_init(easd_oauth_t *o, const easd_oauth_config_t *cfg);

/** @brief Release everything and wipe the tokens from memory. */
void easd_oauth_deinit(easd_oauth_t *o);

/** @brief The module's state. */
easd_oauth_state_t easd_oauth_state(const easd_oauth_t *o);

/**
 * @brief Run the device authorization grant; blocks until the user decided, the code
 *        expired or @p max_wait_s passed.
 * @return EAS_OK (tokens stored), EAS_ERR_AUTH (access_denied: state AUTH_NEEDED),
 *         EAS_ERR_TIMEOUT (expired_token or max_wait_s), EAS_ERR_FORMAT (malformed answer),
 *         network errors.
 */
int easd_oauth_device_flow(easd_oauth_t *o, uint32_t max_wait_s);

/**
 * @brief Run the authorization code grant with PKCE and a loopback redirect; blocks until
 *        the browser came back or @p max_wait_s passed.
 * @return EAS_OK, EAS_ERR_AUTH (refused), EAS_ERR_TIMEOUT, EAS_ERR_FORMAT, network errors.
 */
int easd_oauth_pkce_flow(easd_oauth_t *o, uint32_t max_wait_s);

/**
 * @brief Refresh the access token now.
 * @return EAS_OK; EAS_ERR_AUTH (refused: state AUTH_NEEDED); a network error (the
 *         refresh token is kept, try later).
 */
int easd_oauth_refresh(easd_oauth_t *o);

/**
 * @brief ::eas_http_token_fn for eas_http_auth_t::token (user = the easd_oauth_t).
 *        Refreshes when the token is about to expire or @p refresh is set (a 401).
 */
int easd_oauth_token(void *user, bool refresh, const char **token, size_t *len);

/**
 * @brief Base64url (no padding) SHA-256 of @p verifier: the PKCE S256 code challenge
 *        (RFC 7636 4.2). @p out must hold 44 bytes.
 */
int easd_oauth_pkce_challenge(const char *verifier, char out[44]);

#ifdef __cplusplus
}
#endif

#endif /* EASD_OAUTH_H */
