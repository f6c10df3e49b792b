/* SPDX-License-Identifier: Apache-2.0 */
/* Autodiscover: the response parser fed at every split, and the procedure (candidates,
 * HTTP and Autodiscover redirects, failures and the report) over a fake connector. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "eas/eas_err.h"
#include "eas/eas_http.h"
#include "test_hal.h"

#if CONFIG_EAS_AUTODISCOVER
#include "eas/eas_autodiscover.h"

static uint8_t g_pwork[EAS_AD_PARSER_WORK_SIZE];

#define NS_BASE "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"
#define NS_MS   "http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006"

static const char *k_settings =
    "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
    "<Autodiscover xmlns=\"" NS_BASE "\">\n"
    "<Response xmlns=\"" NS_MS "\">\n"
    "<Culture>en:us</Culture>\n"
    "<User><DisplayName>Chris "
    "Gray</DisplayName><EMailAddress>chris@example.test</EMailAddress></User>\n"
    "<Action><Settings>\n"
    "<Server><Type>CertEnroll</Type><Url>https://cert.example.test/CertEnroll</Url><Name/>"
    "<ServerData>CertEnrollTemplate</ServerData></Server>\n"
    "<Server><Type>MobileSync</Type>\n<Url> https://mail.example.test/Microsoft-Server-ActiveSync "
    "</Url>\n"
    "<Name>https://name.example.test/Microsoft-Server-ActiveSync</Name></Server>\n"
    "</Settings></Action></Response></Autodiscover>\n";

static int parse_split(const char *doc, size_t split, eas_ad_result_t *res, char *value,
                       size_t vcap)
{
    eas_ad_parser_t p;
    size_t len = strlen(doc);
    int rc = eas_ad_parser_begin(&p, g_pwork, sizeof(g_pwork));
    assert_int_equal(rc, EAS_OK);
    if (split > len) {
        split = len;
    }
    rc = eas_ad_parser_feed(&p, (const uint8_t *)doc, split);
    if (rc == EAS_OK) {
        rc = eas_ad_parser_feed(&p, (const uint8_t *)doc + split, len - split);
    }
    if (rc != EAS_OK) {
        eas_ad_parser_abort(&p);
        memset(res, 0, sizeof(*res));
        value[0] = '\0';
        return rc;
    }
    rc = eas_ad_parser_finish(&p, res);
    value[0] = '\0';
    if (res->value != NULL) {
        snprintf(value, vcap, "%s", res->value);
    }
    return rc;
}

/* Same result at every split point (and byte-at-a-time is covered by split 1 + rest, and
 * by the fuzz harness). */
static int parse_everywhere(const char *doc, eas_ad_result_t *res, char *value, size_t vcap)
{
    char v2[512];
    eas_ad_result_t r2;
    int rc = parse_split(doc, strlen(doc), res, value, vcap);
    for (size_t s = 0; s < strlen(doc); s++) {
        int rc2 = parse_split(doc, s, &r2, v2, sizeof(v2));
        assert_int_equal(rc2, rc);
        assert_int_equal(r2.kind, res->kind);
        assert_int_equal(r2.error_code, res->error_code);
        assert_string_equal(v2, value);
    }
    return rc;
}

static void parser_settings(void **state)
{
    (void)state;
    eas_ad_result_t r;
    char v[512];
    assert_int_equal(parse_everywhere(k_settings, &r, v, sizeof(v)), EAS_OK);
    assert_int_equal(r.kind, EAS_AD_SETTINGS);
    assert_string_equal(v, "https://mail.example.test/Microsoft-Server-ActiveSync");
}

static void parser_redirects_and_errors(void **state)
{
    (void)state;
    eas_ad_result_t r;
    char v[512];
    const char *redir = "<Autodiscover xmlns=\"" NS_BASE "\"><Response xmlns=\"" NS_MS
                        "\"><Action><Redirect>other@example.org</Redirect></Action></Response>"
                        "</Autodiscover>";
    assert_int_equal(parse_everywhere(redir, &r, v, sizeof(v)), EAS_OK);
    assert_int_equal(r.kind, EAS_AD_REDIRECT_ADDR);
    assert_string_equal(v, "other@example.org");

    const char *outlook =
        "<Autodiscover xmlns=\"" NS_BASE "\"><Response xmlns=\"http://schemas.microsoft.com/"
        "exchange/autodiscover/outlook/responseschema/2006a\"><Account><Action>redirectUrl</Action>"
        "<RedirectUrl>https://ad2.example.test/autodiscover/autodiscover.xml</RedirectUrl>"
        "</Account></Response></Autodiscover>";
    assert_int_equal(parse_everywhere(outlook, &r, v, sizeof(v)), EAS_OK);
    assert_int_equal(r.kind, EAS_AD_REDIRECT_URL);
    assert_string_equal(v, "https://ad2.example.test/autodiscover/autodiscover.xml");

    const char *err = "<Autodiscover xmlns=\"" NS_BASE "\"><Response><Error Time=\"1\" Id=\"2\">"
                      "<ErrorCode>600</ErrorCode><Message>Invalid Request</Message><DebugData/>"
                      "</Error></Response></Autodiscover>";
    assert_int_equal(parse_everywhere(err, &r, v, sizeof(v)), EAS_ERR_AD_SERVER_ERROR);
    assert_int_equal(r.kind, EAS_AD_ERROR);
    assert_int_equal(r.error_code, 600);

    const char *err2 = "<Autodiscover xmlns=\"" NS_BASE "\"><Response xmlns=\"" NS_MS
                       "\"><Action><Error><Status>1</Status><Message>x</Message></Error></Action>"
                       "</Response></Autodiscover>";
    assert_int_equal(parse_everywhere(err2, &r, v, sizeof(v)), EAS_ERR_AD_SERVER_ERROR);
    assert_int_equal(r.error_code, 1);
}

static void parser_rejects(void **state)
{
    (void)state;
    eas_ad_result_t r;
    char v[512];
    /* not XML */
    assert_int_equal(parse_everywhere("<html><body>Sign in</body>", &r, v, sizeof(v)),
                     EAS_ERR_AD_XML);
    assert_int_equal(parse_everywhere("", &r, v, sizeof(v)), EAS_ERR_AD_XML);
    assert_int_equal(parse_everywhere("<html>not xml", &r, v, sizeof(v)), EAS_ERR_AD_XML);
    assert_int_equal(parse_everywhere("<Autodiscover xmlns=\"" NS_BASE "\"><a></b></Autodiscover>",
                                      &r, v, sizeof(v)),
                     EAS_ERR_AD_XML);
    /* well-formed, wrong schema */
    assert_int_equal(parse_everywhere("<Autodiscover><Response/></Autodiscover>", &r, v, sizeof(v)),
                     EAS_ERR_AD_SCHEMA);
    assert_int_equal(parse_everywhere("<Autodiscover xmlns=\"" NS_BASE
                                      "\"><Response xmlns=\"urn:x\">"
                                      "</Response></Autodiscover>",
                                      &r, v, sizeof(v)),
                     EAS_ERR_AD_SCHEMA);
    /* right schema, no MobileSync server */
    assert_int_equal(parse_everywhere("<Autodiscover xmlns=\"" NS_BASE "\"><Response xmlns=\"" NS_MS
                                      "\"><Action><Settings><Server><Type>CertEnroll</Type><Url>"
                                      "https://c/</Url></Server></Settings></Action></Response>"
                                      "</Autodiscover>",
                                      &r, v, sizeof(v)),
                     EAS_ERR_AD_NO_URL);
    /* a plain-http EAS URL is refused */
    assert_int_equal(parse_everywhere("<Autodiscover xmlns=\"" NS_BASE "\"><Response xmlns=\"" NS_MS
                                      "\"><Action><Settings><Server><Type>MobileSync</Type><Url>"
                                      "http://m/x</Url></Server></Settings></Action></Response>"
                                      "</Autodiscover>",
                                      &r, v, sizeof(v)),
                     EAS_ERR_HTTP_URL);
    /* DTDs (entity bombs) are refused */
    assert_int_equal(parse_everywhere("<?xml version=\"1.0\"?><!DOCTYPE a [<!ENTITY x \"xx\">]>"
                                      "<a>&x;</a>",
                                      &r, v, sizeof(v)),
                     EAS_ERR_AD_XML);
    /* an over-long URL */
    static char doc[CONFIG_EAS_URL_MAX + 512];
    static char longu[CONFIG_EAS_URL_MAX + 16];
    memset(longu, 'a', sizeof(longu) - 1);
    longu[sizeof(longu) - 1] = '\0';
    snprintf(doc, sizeof(doc),
             "<Autodiscover xmlns=\"" NS_BASE "\"><Response xmlns=\"" NS_MS
             "\"><Action><Settings><Server><Type>MobileSync</Type><Url>https://h/%s</Url></Server>"
             "</Settings></Action></Response></Autodiscover>",
             longu);
    assert_int_equal(parse_split(doc, 100, &r, v, sizeof(v)), EAS_ERR_LIMIT);
}

static void parser_memory_is_bounded(void **state)
{
    (void)state;
    /* Deep nesting and many attributes must fail cleanly inside the work area. */
    static char doc[200000];
    size_t n = 0;
    n += (size_t)snprintf(doc + n, sizeof(doc) - n, "<Autodiscover xmlns=\"" NS_BASE "\">");
    while (n < sizeof(doc) - 100) {
        n += (size_t)snprintf(doc + n, sizeof(doc) - n, "<x a=\"1\" b=\"2\">");
    }
    eas_ad_parser_t p;
    assert_int_equal(eas_ad_parser_begin(&p, g_pwork, sizeof(g_pwork)), EAS_OK);
    int rc = EAS_OK;
    for (size_t i = 0; i < n && rc == EAS_OK; i += 1000) {
        rc = eas_ad_parser_feed(&p, (const uint8_t *)doc + i, n - i < 1000 ? n - i : 1000);
    }
    assert_int_equal(rc, EAS_ERR_NOMEM);
    eas_ad_parser_abort(&p);
    eas_ad_parser_abort(&p);
    assert_int_equal(eas_ad_parser_begin(&p, g_pwork, 100), EAS_ERR_NOMEM);
}

typedef struct sbuf {
    char data[1024];
    size_t len;
} sbuf_t;

static int sbuf_write(void *ctx, const uint8_t *data, size_t len)
{
    sbuf_t *b = ctx;
    if (b->len + len >= sizeof(b->data)) {
        return EAS_ERR_NOMEM;
    }
    memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return EAS_OK;
}

static void request_xml(void **state)
{
    (void)state;
    sbuf_t b = {.len = 0};
    assert_int_equal(eas_ad_request_write("o'neil&co@example.test", sbuf_write, &b), EAS_OK);
    assert_string_equal(b.data,
                        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n"
                        "<Autodiscover xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/"
                        "mobilesync/requestschema/2006\">\r\n<Request>\r\n"
                        "<EMailAddress>o&apos;neil&amp;co@example.test</EMailAddress>\r\n"
                        "<AcceptableResponseSchema>" NS_MS "</AcceptableResponseSchema>\r\n"
                        "</Request>\r\n</Autodiscover>\r\n");
    const char *bad[] = {"", "nobody", "@example.test", "user@", "a b@c", "a<b@c", "a@b\r\nX"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        b.len = 0;
        assert_int_equal(eas_ad_request_write(bad[i], sbuf_write, &b), EAS_ERR_AD_ADDRESS);
    }
}

/* ---- the procedure over a fake connector ---- */

typedef struct route {
    const char *host;
    const char *response; /* NULL: open fails with err */
    int err;
    int hits;
} route_t;

typedef struct conn {
    const char *rsp;
    size_t pos;
    int sent;
    char tx[4096];
    size_t tx_len;
} conn_t;

static route_t g_routes[8];
static size_t g_nroutes;
static conn_t g_conns[16];
static size_t g_nconns;

static int32_t c_send(void *ctx, const uint8_t *buf, size_t len)
{
    conn_t *c = ctx;
    if (c->tx_len + len < sizeof(c->tx)) {
        memcpy(c->tx + c->tx_len, buf, len);
        c->tx_len += len;
    }
    c->sent = 1;
    return (int32_t)len;
}

static int32_t c_recv(void *ctx, uint8_t *buf, size_t len)
{
    conn_t *c = ctx;
    if (!c->sent) {
        return 0;
    }
    size_t avail = strlen(c->rsp) - c->pos;
    if (avail == 0) {
        return EAS_ERR_CLOSED;
    }
    if (len > avail) {
        len = avail;
    }
    if (len > 50) {
        len = 50;
    }
    memcpy(buf, c->rsp + c->pos, len);
    c->pos += len;
    return (int32_t)len;
}

static void c_close(void *ctx)
{
    (void)ctx;
}

static int r_open(void *ctx, const char *host, uint16_t port, hal_net_security_t sec, hal_io_t *io)
{
    (void)ctx;
    (void)port;
    assert_int_equal(sec, HAL_NET_TLS); /* autodiscover never goes plain */
    for (size_t i = 0; i < g_nroutes; i++) {
        if (strcmp(g_routes[i].host, host) == 0) {
            g_routes[i].hits++;
            if (g_routes[i].response == NULL) {
                return g_routes[i].err;
            }
            assert_true(g_nconns < 16);
            conn_t *c = &g_conns[g_nconns++];
            memset(c, 0, sizeof(*c));
            c->rsp = g_routes[i].response;
            io->send = c_send;
            io->recv = c_recv;
            io->close = c_close;
            io->ctx = c;
            return EAS_OK;
        }
    }
    return EAS_ERR_DNS;
}

static uint8_t g_hwork[EAS_HTTP_CLIENT_WORK_SIZE];
static uint8_t g_adwork[EAS_AUTODISCOVER_WORK_SIZE];
static eas_http_client_t g_http;
static eas_autodiscover_t g_ad;
static hal_net_t g_net = {.open = r_open};

static void route(const char *host, const char *rsp, int err)
{
    g_routes[g_nroutes].host = host;
    g_routes[g_nroutes].response = rsp;
    g_routes[g_nroutes].err = err;
    g_routes[g_nroutes].hits = 0;
    g_nroutes++;
}

static const eas_http_allow_t *g_allow; /* the application's allow-list for discover() */

static int discover(const char *email)
{
    eas_http_client_config_t cfg = {
        .net = &g_net,
        .auth = {.kind = EAS_HTTP_AUTH_BASIC, .user = "u", .password = "p"},
        .work = g_hwork,
        .work_len = sizeof(g_hwork),
    };
    assert_int_equal(eas_http_client_init(&g_http, &cfg), EAS_OK);
    uint64_t now = 0;
    int rc = eas_autodiscover_start(&g_ad, &g_http, email, g_adwork, sizeof(g_adwork), now);
    if (rc != EAS_OK) {
        return rc;
    }
    eas_autodiscover_allow(&g_ad, g_allow);
    for (int i = 0; i < 10000; i++) {
        eas_http_wait_t w;
        rc = eas_autodiscover_step(&g_ad, now, &w);
        if (rc != EAS_ERR_AGAIN) {
            return rc;
        }
        now += 10;
    }
    return EAS_ERR_TIMEOUT;
}

static char g_ok_rsp[4096];

static const char *ok_response(const char *body)
{
    snprintf(g_ok_rsp, sizeof(g_ok_rsp),
             "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nConnection: close\r\n"
             "Content-Length: %zu\r\n\r\n%s",
             strlen(body), body);
    return g_ok_rsp;
}

static void reset_routes(void)
{
    g_nroutes = 0;
    g_nconns = 0;
}

static void second_candidate_after_tls_failure(void **state)
{
    (void)state;
    reset_routes();
    route("example.test", NULL, EAS_ERR_TLS_CERT_UNTRUSTED);
    route("autodiscover.example.test", ok_response(k_settings), 0);
    assert_int_equal(discover("chris@example.test"), EAS_OK);
    assert_string_equal(eas_autodiscover_url(&g_ad),
                        "https://mail.example.test/Microsoft-Server-ActiveSync");
    assert_string_equal(eas_autodiscover_report(&g_ad),
                        "https://example.test/autodiscover/autodiscover.xml: http: "
                        "EAS_ERR_TLS_CERT_UNTRUSTED");
    /* the request went out as POX with Basic auth */
    assert_non_null(strstr(g_conns[0].tx, "POST /autodiscover/autodiscover.xml HTTP/1.1\r\n"));
    assert_non_null(strstr(g_conns[0].tx, "Content-Type: text/xml\r\n"));
    assert_non_null(strstr(g_conns[0].tx, "<EMailAddress>chris@example.test</EMailAddress>"));
}

static void redirect_chain(void **state)
{
    (void)state;
    reset_routes();
    static char redirect_addr[4096];
    static char redirect_url[4096];
    snprintf(redirect_addr, sizeof(redirect_addr), "%s",
             ok_response("<Autodiscover xmlns=\"" NS_BASE "\"><Response xmlns=\"" NS_MS
                         "\"><Action><Redirect>chris@other.test</Redirect></Action></Response>"
                         "</Autodiscover>"));
    snprintf(redirect_url, sizeof(redirect_url), "%s",
             ok_response("<Autodiscover xmlns=\"" NS_BASE "\"><Response xmlns=\"http://schemas."
                         "microsoft.com/exchange/autodiscover/outlook/responseschema/2006a\">"
                         "<Account><Action>redirectUrl</Action><RedirectUrl>https://final.test/"
                         "autodiscover/autodiscover.xml</RedirectUrl></Account></Response>"
                         "</Autodiscover>"));
    /* example.test: 302 to ad.example.test; that says "ask other.test"; other.test says
     * "ask final.test"; final.test answers. */
    route(
        "example.test",
        "HTTP/1.1 302 Found\r\nLocation: https://ad.example.test/autodiscover/autodiscover.xml\r\n"
        "Content-Length: 0\r\nConnection: close\r\n\r\n",
        0);
    route("ad.example.test", redirect_addr, 0);
    route("other.test", redirect_url, 0);
    route("final.test", ok_response(k_settings), 0);
    /* Each hop goes to a host the user never named: followed only with the hosts listed. */
    static const char *const hosts[] = {"ad.example.test", "OTHER.test", "final.test"};
    const eas_http_allow_t allow = {hosts, 3};
    g_allow = &allow;
    assert_int_equal(discover("chris@example.test"), EAS_OK);
    g_allow = NULL;
    assert_string_equal(eas_autodiscover_url(&g_ad),
                        "https://mail.example.test/Microsoft-Server-ActiveSync");
    assert_string_equal(eas_autodiscover_report(&g_ad), "");
    assert_null(eas_autodiscover_redirect_url(&g_ad));
}

/* Issue 11: without approval no redirect leads the credentials to another host. Each hop of
 * the chain above is stopped in turn (the earlier hops listed), reported with its URL, and
 * the host it names is never contacted. */
static void redirect_needs_approval(void **state)
{
    (void)state;
    static char redirect_addr[4096];
    static char redirect_url[4096];
    snprintf(redirect_addr, sizeof(redirect_addr), "%s",
             ok_response("<Autodiscover xmlns=\"" NS_BASE "\"><Response xmlns=\"" NS_MS
                         "\"><Action><Redirect>chris@other.test</Redirect></Action></Response>"
                         "</Autodiscover>"));
    snprintf(redirect_url, sizeof(redirect_url), "%s",
             ok_response("<Autodiscover xmlns=\"" NS_BASE "\"><Response xmlns=\"http://schemas."
                         "microsoft.com/exchange/autodiscover/outlook/responseschema/2006a\">"
                         "<Account><Action>redirectUrl</Action><RedirectUrl>https://final.test/"
                         "autodiscover/autodiscover.xml</RedirectUrl></Account></Response>"
                         "</Autodiscover>"));
    static const char *const hosts[] = {"ad.example.test", "other.test", "final.test"};
    static const char *const want[] = {"https://ad.example.test/autodiscover/autodiscover.xml",
                                       "https://other.test/autodiscover/autodiscover.xml",
                                       "https://final.test/autodiscover/autodiscover.xml"};
    for (size_t listed = 0; listed < 3; listed++) {
        reset_routes();
        route("example.test",
              "HTTP/1.1 302 Found\r\nLocation: https://ad.example.test/autodiscover/"
              "autodiscover.xml\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
              0);
        route("ad.example.test", redirect_addr, 0);
        route("other.test", redirect_url, 0);
        route("final.test", ok_response(k_settings), 0);
        const eas_http_allow_t allow = {hosts, listed};
        g_allow = &allow;
        assert_int_equal(discover("chris@example.test"), EAS_ERR_HTTP_REDIRECT_APPROVAL);
        g_allow = NULL;
        assert_null(eas_autodiscover_url(&g_ad));
        assert_string_equal(eas_autodiscover_redirect_url(&g_ad), want[listed]);
        assert_non_null(
            strstr(eas_autodiscover_report(&g_ad), "redirect: EAS_ERR_HTTP_REDIRECT_APPROVAL"));
        for (size_t r = 0; r < 4; r++) {
            /* route r is the host hop r names: contacted only when listed */
            assert_int_equal(g_routes[r].hits, r <= listed ? 1 : 0);
        }
    }

    /* Same scheme, host and port (another path): followed without asking. */
    reset_routes();
    route("example.test",
          "HTTP/1.1 302 Found\r\nLocation: /other/autodiscover.xml\r\n"
          "Content-Length: 0\r\nConnection: close\r\n\r\n",
          0);
    /* followed once; the second 302 names the same URL again: a loop */
    assert_int_equal(discover("x@example.test"), EAS_ERR_HTTP_REDIRECT_LOOP);
    assert_int_equal(g_routes[0].hits, 2);

    /* Another port on the same host is another server. */
    reset_routes();
    route("example.test",
          "HTTP/1.1 302 Found\r\nLocation: https://example.test:8443/autodiscover/"
          "autodiscover.xml\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
          0);
    assert_int_equal(discover("x@example.test"), EAS_ERR_HTTP_REDIRECT_APPROVAL);
    assert_int_equal(g_routes[0].hits, 1);

    /* https -> http is never followed, even to a listed host. */
    reset_routes();
    route("example.test",
          "HTTP/1.1 302 Found\r\nLocation: http://example.test/autodiscover/autodiscover.xml"
          "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
          0);
    route("autodiscover.example.test", NULL, EAS_ERR_DNS);
    static const char *const self[] = {"example.test"};
    const eas_http_allow_t allow_self = {self, 1};
    g_allow = &allow_self;
    assert_int_equal(discover("x@example.test"), EAS_ERR_AD_EXHAUSTED);
    g_allow = NULL;
    assert_int_equal(g_routes[0].hits, 1);
    assert_non_null(strstr(eas_autodiscover_report(&g_ad), "redirect: EAS_ERR_HTTP_URL"));
}

/* Autodiscover documents are parsed in place: an endless one is cut at the bound. */
static void endless_document_is_bounded(void **state)
{
    (void)state;
    reset_routes();
    static char big[CONFIG_EAS_HTTP_MAX_UNSTREAMED + 4096];
    int n = snprintf(big, sizeof(big),
                     "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\n"
                     "Connection: close\r\n\r\n<?xml version=\"1.0\"?>");
    memset(big + n, ' ', sizeof(big) - (size_t)n - 1);
    big[sizeof(big) - 1] = '\0';
    route("example.test", big, 0);
    route("autodiscover.example.test", NULL, EAS_ERR_DNS);
    assert_int_equal(discover("x@example.test"), EAS_ERR_AD_EXHAUSTED);
    assert_non_null(strstr(eas_autodiscover_report(&g_ad), "http: EAS_ERR_HTTP_TOO_LARGE"));
}

static void failures_are_reported_per_step(void **state)
{
    (void)state;
    reset_routes();
    route("example.test",
          "HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", 0);
    route("autodiscover.example.test", ok_response("<html>not xml"), 0);
    assert_int_equal(discover("chris@example.test"), EAS_ERR_AD_EXHAUSTED);
    assert_null(eas_autodiscover_url(&g_ad));
    assert_string_equal(
        eas_autodiscover_report(&g_ad),
        "https://example.test/autodiscover/autodiscover.xml: status: "
        "EAS_ERR_AUTH (HTTP 401); "
        "https://autodiscover.example.test/autodiscover/autodiscover.xml: response: "
        "EAS_ERR_AD_XML");

    /* http:// redirects are never followed; unknown hosts fail with DNS */
    reset_routes();
    route("example.test",
          "HTTP/1.1 301 Moved\r\nLocation: http://plain.test/a\r\nContent-Length: 0\r\n\r\n", 0);
    assert_int_equal(discover("x@example.test"), EAS_ERR_AD_EXHAUSTED);
    assert_non_null(strstr(eas_autodiscover_report(&g_ad), "redirect: EAS_ERR_HTTP_URL"));
    assert_non_null(strstr(eas_autodiscover_report(&g_ad), "http: EAS_ERR_DNS"));

    /* a server Error element */
    reset_routes();
    route("example.test",
          ok_response("<Autodiscover xmlns=\"" NS_BASE "\"><Response><Error><ErrorCode>600"
                      "</ErrorCode></Error></Response></Autodiscover>"),
          0);
    assert_int_equal(discover("x@example.test"), EAS_ERR_AD_EXHAUSTED);
    assert_non_null(strstr(eas_autodiscover_report(&g_ad),
                           "response: EAS_ERR_AD_SERVER_ERROR (ErrorCode 600)"));
}

static void redirect_loops_and_caps(void **state)
{
    (void)state;
    reset_routes();
    /* an address redirect to itself */
    route("example.test",
          ok_response("<Autodiscover xmlns=\"" NS_BASE "\"><Response xmlns=\"" NS_MS
                      "\"><Action><Redirect>x@example.test</Redirect></Action></Response>"
                      "</Autodiscover>"),
          0);
    assert_int_equal(discover("x@example.test"), EAS_ERR_HTTP_REDIRECT_LOOP);

    /* an HTTP redirect to itself */
    reset_routes();
    route("example.test",
          "HTTP/1.1 302 Found\r\nLocation: /autodiscover/autodiscover.xml\r\n"
          "Content-Length: 0\r\n\r\n",
          0);
    assert_int_equal(discover("x@example.test"), EAS_ERR_HTTP_REDIRECT_LOOP);

    /* a ping-pong between two (listed) hosts runs into the cap */
    static const char *const both[] = {"example.test", "b.test"};
    const eas_http_allow_t allow = {both, 2};
    reset_routes();
    route("example.test",
          "HTTP/1.1 302 Found\r\nLocation: https://b.test/autodiscover/autodiscover.xml\r\n"
          "Content-Length: 0\r\nConnection: close\r\n\r\n",
          0);
    route("b.test",
          "HTTP/1.1 302 Found\r\nLocation: https://example.test/autodiscover/autodiscover.xml\r\n"
          "Content-Length: 0\r\nConnection: close\r\n\r\n",
          0);
    g_allow = &allow;
    assert_int_equal(discover("x@example.test"), EAS_ERR_HTTP_TOO_MANY_REDIRECTS);
    g_allow = NULL;

    assert_int_equal(discover("not-an-address"), EAS_ERR_AD_ADDRESS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parser_settings),
        cmocka_unit_test(parser_redirects_and_errors),
        cmocka_unit_test(parser_rejects),
        cmocka_unit_test(parser_memory_is_bounded),
        cmocka_unit_test(request_xml),
        cmocka_unit_test(second_candidate_after_tls_failure),
        cmocka_unit_test(redirect_chain),
        cmocka_unit_test(failures_are_reported_per_step),
        cmocka_unit_test(redirect_loops_and_caps),
        cmocka_unit_test(redirect_needs_approval),
        cmocka_unit_test(endless_document_is_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

#else /* !CONFIG_EAS_AUTODISCOVER */

static void compiled_out(void **state)
{
    (void)state;
    /* Without Autodiscover the HTTP layer still works on its own. */
    eas_url_t u;
    assert_int_equal(eas_url_parse("https://h/x", &u), EAS_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(compiled_out)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
#endif
