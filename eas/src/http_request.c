/* SPDX-License-Identifier: Apache-2.0 */
/* Request head builder (MS-ASHTTP 2.2.1.1): request line with the plain-text or base64
 * query, and the headers an EAS server expects. Everything is written through the caller's
 * writer in small pieces, so the head never has to fit one buffer (long bearer tokens). */
#include <string.h>

#include "eas/eas_base64.h"
#include "eas/eas_config_defaults.h"
#include "eas/eas_cookie.h"
#include "eas/eas_err.h"
#include "eas/eas_http.h"
#include "http_internal.h"

static const char *const k_cmd_names[24] = {
    "Sync",
    "SendMail",
    "SmartForward",
    "SmartReply",
    "GetAttachment",
    NULL,
    NULL,
    NULL,
    NULL,
    "FolderSync",
    "FolderCreate",
    "FolderDelete",
    "FolderUpdate",
    "MoveItems",
    "GetItemEstimate",
    "MeetingResponse",
    "Search",
    "Settings",
    "Ping",
    "ItemOperations",
    "Provision",
    "ResolveRecipients",
    "ValidateCert",
    "Find",
};

const char *eas_cmd_name(eas_cmd_t cmd)
{
    if ((unsigned)cmd < sizeof(k_cmd_names) / sizeof(k_cmd_names[0])) {
        return k_cmd_names[cmd];
    }
    return NULL;
}

static const struct {
    eas_proto_ver_t ver;
    uint8_t bit;
    const char *text;
} k_versions[] = {
    {EAS_VER_2_5, EAS_HTTP_VER_BIT_2_5, "2.5"},    {EAS_VER_12_0, EAS_HTTP_VER_BIT_12_0, "12.0"},
    {EAS_VER_12_1, EAS_HTTP_VER_BIT_12_1, "12.1"}, {EAS_VER_14_0, EAS_HTTP_VER_BIT_14_0, "14.0"},
    {EAS_VER_14_1, EAS_HTTP_VER_BIT_14_1, "14.1"}, {EAS_VER_16_0, EAS_HTTP_VER_BIT_16_0, "16.0"},
    {EAS_VER_16_1, EAS_HTTP_VER_BIT_16_1, "16.1"},
};
#define N_VERSIONS (sizeof(k_versions) / sizeof(k_versions[0]))

const char *eas_proto_ver_string(eas_proto_ver_t ver)
{
    for (size_t i = 0; i < N_VERSIONS; i++) {
        if (k_versions[i].ver == ver) {
            return k_versions[i].text;
        }
    }
    return NULL;
}

uint8_t eas_proto_ver_bit(eas_proto_ver_t ver)
{
    for (size_t i = 0; i < N_VERSIONS; i++) {
        if (k_versions[i].ver == ver) {
            return k_versions[i].bit;
        }
    }
    return 0;
}

eas_proto_ver_t eas_proto_ver_pick(uint8_t bits, uint8_t supported)
{
    for (size_t i = N_VERSIONS; i > 0; i--) {
        if ((bits & supported & k_versions[i - 1].bit) != 0) {
            return k_versions[i - 1].ver;
        }
    }
    return EAS_VER_NONE;
}

int http_ver_from_text(const char *s, size_t len, eas_proto_ver_t *out)
{
    for (size_t i = 0; i < N_VERSIONS; i++) {
        if (strlen(k_versions[i].text) == len && memcmp(k_versions[i].text, s, len) == 0) {
            *out = k_versions[i].ver;
            return EAS_OK;
        }
    }
    return EAS_ERR_NOT_FOUND;
}

/* ---- output helpers: the first error sticks, later writes are no-ops ---- */

typedef struct out {
    eas_http_write_fn fn;
    void *ctx;
    int err;
} out_t;

static void put(out_t *o, const char *s, size_t n)
{
    if (o->err == EAS_OK && n > 0) {
        o->err = o->fn(o->ctx, (const uint8_t *)s, n);
    }
}

static void put_str(out_t *o, const char *s)
{
    put(o, s, strlen(s));
}

static void put_u64(out_t *o, uint64_t v)
{
    char buf[21];
    size_t i = sizeof(buf);
    do {
        buf[--i] = (char)('0' + (v % 10u));
        v /= 10u;
    } while (v != 0);
    put(o, buf + i, sizeof(buf) - i);
}

static bool unreserved(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

/* Percent-encode a query value (RFC 3986: everything but unreserved is escaped). */
static void put_pct(out_t *o, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t run = 0;
    for (size_t i = 0;; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c != '\0' && unreserved(c)) {
            run++;
            continue;
        }
        put(o, s + i - run, run);
        run = 0;
        if (c == '\0') {
            break;
        }
        char esc[3] = {'%', hex[c >> 4], hex[c & 15u]};
        put(o, esc, 3);
    }
}

/* Base64 as a stream: bytes go in, encoded text goes out in 64-character pieces. */
typedef struct b64s {
    out_t *o;
    uint8_t acc[48];
    size_t n;
} b64s_t;

static void b64_flush(b64s_t *b)
{
    char enc[72];
    size_t enc_len = 0;
    if (b->n == 0) {
        return;
    }
    int rc = eas_base64_encode(b->acc, b->n, enc, sizeof(enc), &enc_len);
    if (rc != EAS_OK) {
        if (b->o->err == EAS_OK) {
            b->o->err = rc;
        }
    } else {
        put(b->o, enc, enc_len);
    }
    b->n = 0;
}

static void b64_put(b64s_t *b, const void *data, size_t len)
{
    const uint8_t *p = data;
    while (len > 0) {
        size_t take = sizeof(b->acc) - b->n;
        if (take > len) {
            take = len;
        }
        memcpy(b->acc + b->n, p, take);
        b->n += take;
        p += take;
        len -= take;
        if (b->n == sizeof(b->acc)) {
            b64_flush(b);
        }
    }
}

/* A header value from the application must not smuggle a line break into the head. */
static bool header_safe(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c < 0x20 && c != '\t') || c == 0x7F) {
            return false;
        }
    }
    return true;
}

static const char *param_name(eas_http_param_tag_t tag)
{
    switch (tag) {
    case EAS_HTTP_PARAM_ATTACHMENT_NAME:
        return "AttachmentName";
    case EAS_HTTP_PARAM_COLLECTION_ID:
        return "CollectionId";
    case EAS_HTTP_PARAM_ITEM_ID:
        return "ItemId";
    case EAS_HTTP_PARAM_LONG_ID:
        return "LongId";
    case EAS_HTTP_PARAM_OCCURRENCE:
        return "Occurrence";
    default:
        return NULL;
    }
}

/* OPTIONS and GET never carry a command query, whatever cmd says. */
static bool is_command(const eas_http_request_t *req)
{
    return req->method == EAS_HTTP_POST && req->cmd != EAS_CMD_NONE;
}

static int check_request(const eas_http_request_t *req, eas_url_t *url)
{
    if (req == NULL || req->url == NULL) {
        return EAS_ERR_PARAM;
    }
    int rc = eas_url_parse(req->url, url);
    if (rc != EAS_OK) {
        return rc;
    }
    if (req->method != EAS_HTTP_POST && req->method != EAS_HTTP_OPTIONS &&
        req->method != EAS_HTTP_GET) {
        return EAS_ERR_PARAM;
    }
    if (is_command(req)) {
        if (eas_cmd_name(req->cmd) == NULL || req->device_id == NULL || req->device_type == NULL ||
            req->device_id[0] == '\0' || req->device_type[0] == '\0') {
            return EAS_ERR_PARAM;
        }
        if (req->n_params > 0 && req->params == NULL) {
            return EAS_ERR_PARAM;
        }
        for (size_t i = 0; i < req->n_params; i++) {
            if (param_name(req->params[i].tag) == NULL || req->params[i].value == NULL) {
                return EAS_ERR_PARAM;
            }
        }
        if (req->base64_query) {
#if !CONFIG_EAS_BASE64_QUERY
            return EAS_ERR_UNSUPPORTED;
#else
            /* MS-ASHTTP: the base64 form exists from 12.1 on. */
            if (req->version < EAS_VER_12_1 || eas_proto_ver_string(req->version) == NULL) {
                return EAS_ERR_PARAM;
            }
#endif
        }
    }
    if (req->version != EAS_VER_NONE && eas_proto_ver_string(req->version) == NULL) {
        return EAS_ERR_PARAM;
    }
    if (req->content_type != NULL && !header_safe(req->content_type, strlen(req->content_type))) {
        return EAS_ERR_PARAM;
    }
    return EAS_OK;
}

#if CONFIG_EAS_BASE64_QUERY
static int put_counted(b64s_t *b, const char *s, size_t max)
{
    size_t n = s ? strlen(s) : 0;
    if (n > max) {
        return EAS_ERR_PARAM;
    }
    uint8_t len8 = (uint8_t)n;
    b64_put(b, &len8, 1);
    b64_put(b, s, n);
    return EAS_OK;
}

/* MS-ASHTTP 2.2.1.1.1.1: version, command, locale (LE16), device id, policy key (LE32),
 * device type, then tag/length/value command parameters. */
static int put_base64_query(out_t *o, const eas_http_request_t *req)
{
    b64s_t b = {.o = o, .n = 0};
    uint8_t head[4];
    uint16_t locale = req->locale ? req->locale : 0x0409u;
    int rc = EAS_OK;

    head[0] = (uint8_t)req->version;
    head[1] = (uint8_t)req->cmd;
    head[2] = (uint8_t)(locale & 0xFFu);
    head[3] = (uint8_t)(locale >> 8);
    b64_put(&b, head, sizeof(head));
    rc = put_counted(&b, req->device_id, 255);
    if (rc != EAS_OK) {
        return rc;
    }
    if (req->policy_key != 0) {
        uint8_t pk[5] = {
            4, (uint8_t)(req->policy_key & 0xFFu), (uint8_t)((req->policy_key >> 8) & 0xFFu),
            (uint8_t)((req->policy_key >> 16) & 0xFFu), (uint8_t)(req->policy_key >> 24)};
        b64_put(&b, pk, sizeof(pk));
    } else {
        uint8_t zero = 0;
        b64_put(&b, &zero, 1);
    }
    rc = put_counted(&b, req->device_type, 255);
    if (rc != EAS_OK) {
        return rc;
    }
    for (size_t i = 0; i < req->n_params; i++) {
        uint8_t tag = (uint8_t)req->params[i].tag;
        b64_put(&b, &tag, 1);
        rc = put_counted(&b, req->params[i].value, 255);
        if (rc != EAS_OK) {
            return rc;
        }
    }
    if (req->save_in_sent || req->accept_multipart) {
        uint8_t opt[3] = {
            7, 1,
            (uint8_t)((req->save_in_sent ? 0x01u : 0u) | (req->accept_multipart ? 0x02u : 0u))};
        b64_put(&b, opt, sizeof(opt));
    }
    if (req->user != NULL && req->user[0] != '\0') {
        uint8_t tag = 8;
        b64_put(&b, &tag, 1);
        rc = put_counted(&b, req->user, 255);
        if (rc != EAS_OK) {
            return rc;
        }
    }
    b64_flush(&b);
    return EAS_OK;
}

typedef struct buf_writer {
    char *buf;
    size_t cap;
    size_t len;
} buf_writer_t;

static int buf_write(void *ctx, const uint8_t *data, size_t len)
{
    buf_writer_t *w = ctx;
    if (w->cap - w->len < len + 1) {
        return EAS_ERR_NOMEM;
    }
    memcpy(w->buf + w->len, data, len);
    w->len += len;
    w->buf[w->len] = '\0';
    return EAS_OK;
}
#endif /* CONFIG_EAS_BASE64_QUERY */

int eas_http_base64_query(const eas_http_request_t *req, char *out, size_t out_cap, size_t *out_len)
{
#if CONFIG_EAS_BASE64_QUERY
    eas_url_t url;
    buf_writer_t w = {.buf = out, .cap = out_cap, .len = 0};
    out_t o = {.fn = buf_write, .ctx = &w, .err = EAS_OK};
    if (out == NULL || out_cap == 0) {
        return EAS_ERR_PARAM;
    }
    out[0] = '\0';
    int rc = check_request(req, &url);
    if (rc == EAS_OK && !is_command(req)) {
        rc = EAS_ERR_PARAM;
    }
    if (rc == EAS_OK) {
        rc = put_base64_query(&o, req);
    }
    if (rc == EAS_OK) {
        rc = o.err;
    }
    if (out_len != NULL) {
        *out_len = rc == EAS_OK ? w.len : 0;
    }
    if (rc != EAS_OK) {
        out[0] = '\0';
    }
    return rc;
#else
    (void)req;
    (void)out;
    (void)out_cap;
    (void)out_len;
    return EAS_ERR_UNSUPPORTED;
#endif
}

static void put_plain_query(out_t *o, const eas_http_request_t *req)
{
    put_str(o, "Cmd=");
    put_str(o, eas_cmd_name(req->cmd));
    if (req->user != NULL && req->user[0] != '\0') {
        put_str(o, "&User=");
        put_pct(o, req->user);
    }
    put_str(o, "&DeviceId=");
    put_pct(o, req->device_id);
    put_str(o, "&DeviceType=");
    put_pct(o, req->device_type);
    for (size_t i = 0; i < req->n_params; i++) {
        put_str(o, "&");
        put_str(o, param_name(req->params[i].tag));
        put_str(o, "=");
        put_pct(o, req->params[i].value);
    }
    if (req->save_in_sent) {
        put_str(o, "&SaveInSent=T");
    }
}

static void put_basic_credentials(out_t *o, const eas_http_auth_t *auth)
{
    b64s_t b = {.o = o, .n = 0};
    put_str(o, "Authorization: Basic ");
    b64_put(&b, auth->user, strlen(auth->user));
    b64_put(&b, ":", 1);
    b64_put(&b, auth->password, strlen(auth->password));
    b64_flush(&b);
    put_str(o, "\r\n");
}

int eas_http_request_write(const eas_http_request_t *req, const eas_http_auth_t *auth,
                           const char *user_agent, const char *token, size_t token_len,
                           uint64_t body_len, eas_http_write_fn write, void *wctx)
{
    return http_request_head(req, auth, user_agent, token, token_len, body_len, NULL, 0, write,
                             wctx);
}

/* The Cookie header: its name only when at least one cookie applies. */
typedef struct cookie_out {
    out_t *o;
    bool started;
} cookie_out_t;

static int cookie_put(void *ctx, const uint8_t *data, size_t len)
{
    cookie_out_t *c = ctx;
    if (!c->started) {
        put_str(c->o, "Cookie: ");
        c->started = true;
    }
    put(c->o, (const char *)data, len);
    return c->o->err;
}

int http_request_head(const eas_http_request_t *req, const eas_http_auth_t *auth,
                      const char *user_agent, const char *token, size_t token_len,
                      uint64_t body_len, const struct eas_cookie_jar *jar, int64_t now,
                      eas_http_write_fn write, void *wctx)
{
    eas_url_t url;
    out_t o = {.fn = write, .ctx = wctx, .err = EAS_OK};
    int rc;

    if (write == NULL) {
        return EAS_ERR_PARAM;
    }
    rc = check_request(req, &url);
    if (rc != EAS_OK) {
        return rc;
    }
    if (user_agent == NULL) {
        user_agent = EAS_HTTP_USER_AGENT_DEFAULT;
    }
    if (!header_safe(user_agent, strlen(user_agent))) {
        return EAS_ERR_PARAM;
    }
    if (auth != NULL && auth->kind == EAS_HTTP_AUTH_BASIC &&
        (auth->user == NULL || auth->password == NULL)) {
        return EAS_ERR_PARAM;
    }
    if (auth != NULL && auth->kind == EAS_HTTP_AUTH_BEARER &&
        (token == NULL || token_len == 0 || !header_safe(token, token_len))) {
        return EAS_ERR_PARAM;
    }

    /* Request line. */
    put_str(&o, req->method == EAS_HTTP_POST      ? "POST "
                : req->method == EAS_HTTP_OPTIONS ? "OPTIONS "
                                                  : "GET ");
    if (url.path_len == 0) {
        put_str(&o, "/");
    }
    put(&o, req->url + url.path_off, url.path_len);
    bool b64 = false;
    if (is_command(req)) {
        bool has_query = memchr(req->url + url.path_off, '?', url.path_len) != NULL;
        put_str(&o, has_query ? "&" : "?");
#if CONFIG_EAS_BASE64_QUERY
        if (req->base64_query) {
            b64 = true;
            rc = put_base64_query(&o, req);
            if (rc != EAS_OK) {
                return rc;
            }
        }
#endif
        if (!b64) {
            put_plain_query(&o, req);
        }
    }
    put_str(&o, " HTTP/1.1\r\nHost: ");
    if (url.ipv6) {
        put_str(&o, "[");
    }
    put(&o, req->url + url.host_off, url.host_len);
    if (url.ipv6) {
        put_str(&o, "]");
    }
    if (url.port_set && url.port != (url.tls ? 443 : 80)) {
        put_str(&o, ":");
        put_u64(&o, url.port);
    }
    put_str(&o, "\r\n");

    if (auth != NULL && auth->kind == EAS_HTTP_AUTH_BASIC) {
        put_basic_credentials(&o, auth);
    } else if (auth != NULL && auth->kind == EAS_HTTP_AUTH_BEARER) {
        put_str(&o, "Authorization: Bearer ");
        put(&o, token, token_len);
        put_str(&o, "\r\n");
    }
    /* The base64 query carries version and policy key itself (MS-ASHTTP 2.2.1.1.2.6/.8). */
    if (req->version != EAS_VER_NONE && !b64) {
        put_str(&o, "MS-ASProtocolVersion: ");
        put_str(&o, eas_proto_ver_string(req->version));
        put_str(&o, "\r\n");
    }
    if (is_command(req) && req->policy_key != 0 && !b64) {
        put_str(&o, "X-MS-PolicyKey: ");
        put_u64(&o, req->policy_key);
        put_str(&o, "\r\n");
    }
    if (req->accept_multipart && !b64) {
        put_str(&o, "MS-ASAcceptMultiPart: T\r\n");
    }
    if (jar != NULL && o.err == EAS_OK) {
        cookie_out_t co = {.o = &o, .started = false};
        rc = eas_cookie_header(jar, req->url, now, cookie_put, &co, NULL);
        if (rc != EAS_OK && o.err == EAS_OK) {
            return rc;
        }
        if (co.started) {
            put_str(&o, "\r\n");
        }
    }
    put_str(&o, "User-Agent: ");
    put_str(&o, user_agent);
    put_str(&o, "\r\n");
    if (req->method == EAS_HTTP_POST) {
        /* Always a length, never chunked and never Expect: sogod and Horde accept neither. */
        if (req->body != NULL) {
            put_str(&o, "Content-Type: ");
            put_str(&o, req->content_type ? req->content_type : "application/vnd.ms-sync.wbxml");
            put_str(&o, "\r\n");
        }
        put_str(&o, "Content-Length: ");
        put_u64(&o, req->body != NULL ? body_len : 0);
        put_str(&o, "\r\n");
    }
    put_str(&o, "\r\n");
    return o.err;
}
