/* SPDX-License-Identifier: Apache-2.0 */
/* Autodiscover XML: the POX request, and a streaming response parser on expat whose memory
 * comes from the caller's work area. */
#include "eas/eas_config_defaults.h"

#if CONFIG_EAS_AUTODISCOVER

#include <string.h>

#include <expat.h>

#include "eas/eas_autodiscover.h"
#include "eas/eas_err.h"

#define NS_BASE "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"
#define NS_MOBILESYNC                                                                              \
    "http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006"
#define NS_OUTLOOK "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"
#define NS_REQUEST                                                                                 \
    "http://schemas.microsoft.com/exchange/autodiscover/mobilesync/requestschema/2006"

/* ---- request ---- */

static bool email_char(unsigned char c)
{
    return c > 0x20 && c != 0x7F && c != '<' && c != '>' && c != '"' && c != '\\' && c != ',';
}

int eas_ad_request_write(const char *email, eas_http_write_fn write, void *wctx)
{
    static const char head[] = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n"
                               "<Autodiscover xmlns=\"" NS_REQUEST "\">\r\n"
                               "<Request>\r\n<EMailAddress>";
    static const char tail[] = "</EMailAddress>\r\n<AcceptableResponseSchema>" NS_MOBILESYNC
                               "</AcceptableResponseSchema>\r\n</Request>\r\n</Autodiscover>\r\n";
    if (email == NULL || write == NULL) {
        return EAS_ERR_PARAM;
    }
    size_t len = strlen(email);
    const char *at = strrchr(email, '@');
    if (len == 0 || len > EAS_AD_EMAIL_MAX || at == NULL || at == email || at[1] == '\0') {
        return EAS_ERR_AD_ADDRESS;
    }
    for (size_t i = 0; i < len; i++) {
        if (!email_char((unsigned char)email[i])) {
            return EAS_ERR_AD_ADDRESS;
        }
    }
    int rc = write(wctx, (const uint8_t *)head, sizeof(head) - 1);
    /* '&' and '\'' are legal in local parts: escape them, pass everything else as is. */
    size_t run = 0;
    for (size_t i = 0; i <= len && rc == EAS_OK; i++) {
        char c = email[i];
        if (c != '\0' && c != '&' && c != '\'') {
            run++;
            continue;
        }
        if (run > 0) {
            rc = write(wctx, (const uint8_t *)email + i - run, run);
        }
        run = 0;
        if (rc == EAS_OK && c == '&') {
            rc = write(wctx, (const uint8_t *)"&amp;", 5);
        } else if (rc == EAS_OK && c == '\'') {
            rc = write(wctx, (const uint8_t *)"&apos;", 6);
        }
    }
    if (rc == EAS_OK) {
        rc = write(wctx, (const uint8_t *)tail, sizeof(tail) - 1);
    }
    return rc;
}

/* ---- expat memory: a bump allocator over the work area ----
 * Expat's allocator hooks take no context pointer, so the parser being driven is kept in a
 * variable for the duration of each call into expat. It is thread-local: two engines in two
 * threads may run Autodiscover at the same time (docs/integration.md §8). It is the core's
 * only variable outside caller memory, set only while expat runs and NULL otherwise. */

static _Thread_local eas_ad_parser_t *g_cur;

#define BLK_ALIGN 16u
#define BLK_HDR   16u /* size_t size, padded to keep the payload aligned */

static size_t blk_round(size_t n)
{
    return (n + (BLK_ALIGN - 1u)) & ~(size_t)(BLK_ALIGN - 1u);
}

static void *ad_malloc(size_t size)
{
    eas_ad_parser_t *p = g_cur;
    if (p == NULL || size > p->heap_cap) {
        return NULL;
    }
    size_t need = BLK_HDR + blk_round(size);
    if (need > p->heap_cap - p->heap_used) {
        return NULL;
    }
    uint8_t *blk = p->heap + p->heap_used;
    memcpy(blk, &size, sizeof(size));
    p->heap_last = p->heap_used;
    p->heap_used += need;
    return blk + BLK_HDR;
}

static void ad_free(void *ptr)
{
    eas_ad_parser_t *p = g_cur;
    if (p == NULL || ptr == NULL) {
        return;
    }
    uint8_t *blk = (uint8_t *)ptr - BLK_HDR;
    /* Only the newest block can be given back; the rest is reclaimed when the parser ends. */
    if (blk == p->heap + p->heap_last && p->heap_last + BLK_HDR <= p->heap_used) {
        p->heap_used = p->heap_last;
    }
}

static void *ad_realloc(void *ptr, size_t size)
{
    eas_ad_parser_t *p = g_cur;
    if (ptr == NULL) {
        return ad_malloc(size);
    }
    if (p == NULL) {
        return NULL;
    }
    uint8_t *blk = (uint8_t *)ptr - BLK_HDR;
    size_t old = 0;
    memcpy(&old, blk, sizeof(old));
    if (blk == p->heap + p->heap_last) {
        size_t need = BLK_HDR + blk_round(size);
        if (need > p->heap_cap - p->heap_last) {
            return NULL;
        }
        memcpy(blk, &size, sizeof(size));
        p->heap_used = p->heap_last + need;
        return ptr;
    }
    void *n = ad_malloc(size);
    if (n != NULL) {
        memcpy(n, ptr, old < size ? old : size);
    }
    return n;
}

static const XML_Memory_Handling_Suite k_mem = {ad_malloc, ad_realloc, ad_free};

/* ---- element vocabulary ---- */

enum {
    E_OTHER = 0,
    E_AUTODISCOVER,
    E_RESPONSE,
    E_ACTION,
    E_SETTINGS,
    E_SERVER,
    E_TYPE,
    E_URL,
    E_NAME,
    E_REDIRECT,
    E_ERROR,
    E_STATUS,
    E_ERRORCODE,
    E_ACCOUNT,
    E_REDIRECTADDR,
    E_REDIRECTURL
};

static uint8_t elem_id(const char *local)
{
    static const char *const names[] = {
        NULL,        "Autodiscover", "Response",     "Action",      "Settings", "Server",
        "Type",      "Url",          "Name",         "Redirect",    "Error",    "Status",
        "ErrorCode", "Account",      "RedirectAddr", "RedirectUrl",
    };
    for (uint8_t i = 1; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcmp(local, names[i]) == 0) {
            return i;
        }
    }
    return E_OTHER;
}

static void fail(eas_ad_parser_t *p, int err)
{
    if (p->err == EAS_OK) {
        p->err = err;
    }
    XML_StopParser((XML_Parser)p->xml, XML_FALSE);
}

static uint8_t parent(const eas_ad_parser_t *p, unsigned up)
{
    /* path[depth-1] is the current element; up = 1 is its parent. */
    if (p->depth < up + 1 || p->depth - up - 1 >= sizeof(p->path)) {
        return 0xFF;
    }
    return p->path[p->depth - up - 1];
}

static void XMLCALL on_start(void *user, const XML_Char *name, const XML_Char **atts)
{
    eas_ad_parser_t *p = user;
    (void)atts;
    const char *sep = strchr(name, ' ');
    const char *local = sep ? sep + 1 : name;
    size_t ns_len = sep ? (size_t)(sep - name) : 0;
    uint8_t id = elem_id(local);

    if (p->err != EAS_OK) {
        return;
    }
    p->depth++;
    if (p->bad_schema) {
        return;
    }
    if (p->depth <= sizeof(p->path)) {
        p->path[p->depth - 1] = id;
    }
    p->capture = 0;
    if (p->depth == 1) {
        if (id != E_AUTODISCOVER || ns_len != strlen(NS_BASE) ||
            memcmp(name, NS_BASE, ns_len) != 0) {
            p->bad_schema = 1; /* an HTML page is reported as such only if well-formed */
            return;
        }
        p->seen_root = 1;
        return;
    }
    if (p->depth == 2) {
        if (id != E_RESPONSE) {
            return; /* unknown siblings are ignored */
        }
        if (ns_len == strlen(NS_MOBILESYNC) && memcmp(name, NS_MOBILESYNC, ns_len) == 0) {
            p->ns = 1;
        } else if (ns_len == strlen(NS_BASE) && memcmp(name, NS_BASE, ns_len) == 0) {
            p->ns = 2;
        } else if (ns_len == strlen(NS_OUTLOOK) && memcmp(name, NS_OUTLOOK, ns_len) == 0) {
            p->ns = 3;
        } else {
            p->bad_schema = 1;
        }
        return;
    }
    if (parent(p, 1) == 0xFF) {
        return;
    }
    /* Which texts we collect, by path below Response. */
    uint8_t up1 = parent(p, 1);
    if (id == E_SERVER && up1 == E_SETTINGS) {
        p->srv_mobilesync = 0;
        p->srv_has_url = 0;
        p->srv_url_prio = 0;
    } else if ((id == E_TYPE || id == E_URL || id == E_NAME) && up1 == E_SERVER) {
        p->capture = id;
    } else if (id == E_REDIRECT && up1 == E_ACTION) {
        p->capture = id;
    } else if ((id == E_STATUS || id == E_ERRORCODE) && up1 == E_ERROR) {
        p->capture = id;
    } else if (id == E_ACTION && up1 == E_ACCOUNT) {
        p->capture = id;
    } else if ((id == E_REDIRECTADDR || id == E_REDIRECTURL) && up1 == E_ACCOUNT) {
        p->capture = id;
    }
    if (id == E_ERROR && (up1 == E_RESPONSE || up1 == E_ACTION || up1 == E_ACCOUNT)) {
        p->has_error = 1;
    }
    p->text_len = 0;
}

static void XMLCALL on_text(void *user, const XML_Char *s, int len)
{
    eas_ad_parser_t *p = user;
    if (p->err != EAS_OK || p->capture == 0 || len <= 0) {
        return;
    }
    if ((size_t)len > p->str_cap - 1 - p->text_len) {
        fail(p, EAS_ERR_LIMIT);
        return;
    }
    memcpy(p->text + p->text_len, s, (size_t)len);
    p->text_len += (size_t)len;
}

static void trimmed(const eas_ad_parser_t *p, const char **s, size_t *n)
{
    const char *t = p->text;
    size_t len = p->text_len;
    while (len > 0 && (t[0] == ' ' || t[0] == '\t' || t[0] == '\r' || t[0] == '\n')) {
        t++;
        len--;
    }
    while (len > 0 &&
           (t[len - 1] == ' ' || t[len - 1] == '\t' || t[len - 1] == '\r' || t[len - 1] == '\n')) {
        len--;
    }
    *s = t;
    *n = len;
}

static void set_value(eas_ad_parser_t *p, uint8_t kind, const char *s, size_t n)
{
    if (p->kind == EAS_AD_SETTINGS || n == 0) {
        return; /* the first MobileSync URL wins */
    }
    memmove(p->value, s, n);
    p->value[n] = '\0';
    p->kind = kind;
}

static void XMLCALL on_end(void *user, const XML_Char *name)
{
    eas_ad_parser_t *p = user;
    (void)name;
    if (p->err != EAS_OK || p->depth == 0) {
        return;
    }
    if (p->bad_schema) {
        p->depth--;
        return;
    }
    uint8_t id = p->depth <= sizeof(p->path) ? p->path[p->depth - 1] : E_OTHER;
    const char *s;
    size_t n;
    trimmed(p, &s, &n);
    if (p->capture != 0 && p->capture == id) {
        switch (id) {
        case E_TYPE:
            p->srv_mobilesync = n == 10 && memcmp(s, "MobileSync", 10) == 0;
            break;
        case E_URL:
        case E_NAME: {
            uint8_t prio = id == E_URL ? 2 : 1;
            if (n > 0 && prio > p->srv_url_prio) {
                memcpy(p->srv_url, s, n);
                p->srv_url[n] = '\0';
                p->srv_has_url = 1;
                p->srv_url_prio = prio;
            }
            break;
        }
        case E_REDIRECT:
            if (p->ns == 1) {
                set_value(p, EAS_AD_REDIRECT_ADDR, s, n);
            }
            break;
        case E_STATUS:
        case E_ERRORCODE: {
            uint32_t v = 0;
            for (size_t i = 0; i < n && i < 9 && s[i] >= '0' && s[i] <= '9'; i++) {
                v = v * 10u + (uint32_t)(s[i] - '0');
            }
            if (p->error_code == 0) {
                p->error_code = v;
            }
            break;
        }
        case E_ACTION:
            p->acct_action = (n == 12 && memcmp(s, "redirectAddr", 12) == 0)  ? 1
                             : (n == 11 && memcmp(s, "redirectUrl", 11) == 0) ? 2
                                                                              : 0;
            break;
        case E_REDIRECTADDR:
            if (p->acct_action == 1 || p->acct_action == 0) {
                set_value(p, EAS_AD_REDIRECT_ADDR, s, n);
            }
            break;
        case E_REDIRECTURL:
            if (p->acct_action == 2 || p->acct_action == 0) {
                set_value(p, EAS_AD_REDIRECT_URL, s, n);
            }
            break;
        default:
            break;
        }
    }
    if (id == E_SERVER && p->srv_mobilesync && p->srv_has_url && p->ns == 1 &&
        p->kind != EAS_AD_SETTINGS) {
        size_t len = strlen(p->srv_url);
        memcpy(p->value, p->srv_url, len + 1);
        p->kind = EAS_AD_SETTINGS;
    }
    p->capture = 0;
    p->text_len = 0;
    p->depth--;
}

static void XMLCALL on_doctype(void *user, const XML_Char *name, const XML_Char *sysid,
                               const XML_Char *pubid, int internal)
{
    (void)name;
    (void)sysid;
    (void)pubid;
    (void)internal;
    /* Autodiscover documents have no DTD; refusing one closes the entity-expansion door. */
    fail(user, EAS_ERR_AD_XML);
}

int eas_ad_parser_begin(eas_ad_parser_t *p, uint8_t *work, size_t work_len)
{
    if (p == NULL || work == NULL) {
        return EAS_ERR_PARAM;
    }
    memset(p, 0, sizeof(*p));
    if (work_len < EAS_AD_PARSER_WORK_SIZE) {
        return EAS_ERR_NOMEM;
    }
    p->str_cap = CONFIG_EAS_URL_MAX + 1u;
    p->text = (char *)work;
    p->value = p->text + p->str_cap;
    p->srv_url = p->value + p->str_cap;
    p->heap = (uint8_t *)(p->srv_url + p->str_cap);
    /* Align expat's heap. */
    size_t mis = (size_t)((uintptr_t)p->heap % BLK_ALIGN);
    if (mis != 0) {
        p->heap += BLK_ALIGN - mis;
    }
    p->heap_cap = (size_t)(work + work_len - p->heap);
    p->value[0] = '\0';
    g_cur = p;
    XML_Parser x = XML_ParserCreate_MM("UTF-8", &k_mem, " ");
    if (x != NULL) {
        /* A fixed salt keeps expat from gathering entropy (an OS call) and runs reproducible. */
        XML_SetHashSalt(x, 0x5eed5eedUL);
        XML_SetUserData(x, p);
        XML_SetElementHandler(x, on_start, on_end);
        XML_SetCharacterDataHandler(x, on_text);
        XML_SetStartDoctypeDeclHandler(x, on_doctype);
        XML_SetParamEntityParsing(x, XML_PARAM_ENTITY_PARSING_NEVER);
    }
    g_cur = NULL;
    if (x == NULL) {
        return EAS_ERR_NOMEM;
    }
    p->xml = x;
    return EAS_OK;
}

static int xml_error(eas_ad_parser_t *p)
{
    if (p->err != EAS_OK) {
        return p->err;
    }
    enum XML_Error e = XML_GetErrorCode((XML_Parser)p->xml);
    return e == XML_ERROR_NO_MEMORY ? EAS_ERR_NOMEM : EAS_ERR_AD_XML;
}

int eas_ad_parser_feed(eas_ad_parser_t *p, const uint8_t *data, size_t len)
{
    if (p == NULL || p->xml == NULL) {
        return EAS_ERR_STATE;
    }
    if (p->err != EAS_OK) {
        return p->err;
    }
    while (len > 0) {
        int n = len > 65536 ? 65536 : (int)len;
        g_cur = p;
        enum XML_Status st = XML_Parse((XML_Parser)p->xml, (const char *)data, n, XML_FALSE);
        g_cur = NULL;
        if (st != XML_STATUS_OK) {
            p->err = xml_error(p);
            return p->err;
        }
        data += n;
        len -= (size_t)n;
    }
    return EAS_OK;
}

void eas_ad_parser_abort(eas_ad_parser_t *p)
{
    if (p != NULL && p->xml != NULL) {
        g_cur = p;
        XML_ParserFree((XML_Parser)p->xml);
        g_cur = NULL;
        p->xml = NULL;
    }
}

int eas_ad_parser_finish(eas_ad_parser_t *p, eas_ad_result_t *res)
{
    int rc = EAS_OK;
    eas_ad_result_t r = {EAS_AD_NONE, NULL, 0};

    if (p == NULL || p->xml == NULL) {
        return EAS_ERR_STATE;
    }
    rc = p->err;
    if (rc == EAS_OK) {
        g_cur = p;
        enum XML_Status st = XML_Parse((XML_Parser)p->xml, "", 0, XML_TRUE);
        g_cur = NULL;
        if (st != XML_STATUS_OK) {
            rc = xml_error(p);
        }
    }
    if (rc == EAS_OK) {
        r.error_code = p->error_code;
        if (p->kind == EAS_AD_SETTINGS || p->kind == EAS_AD_REDIRECT_URL) {
            eas_url_t u;
            if (eas_url_parse(p->value, &u) != EAS_OK || !u.tls) {
                rc = EAS_ERR_HTTP_URL; /* no plain-HTTP EAS, and no downgrade */
            }
        }
        if (rc != EAS_OK) {
            /* keep rc */
        } else if (p->bad_schema) {
            rc = EAS_ERR_AD_SCHEMA;
        } else if (p->kind != EAS_AD_NONE) {
            r.kind = (eas_ad_kind_t)p->kind;
            r.value = p->value;
        } else if (p->has_error) {
            r.kind = EAS_AD_ERROR;
            rc = EAS_ERR_AD_SERVER_ERROR;
        } else if (p->ns == 1) {
            rc = EAS_ERR_AD_NO_URL;
        } else {
            rc = EAS_ERR_AD_SCHEMA; /* no mobilesync Response at all */
        }
    }
    eas_ad_parser_abort(p);
    if (res != NULL) {
        *res = r;
    }
    return rc;
}

#endif /* CONFIG_EAS_AUTODISCOVER */
