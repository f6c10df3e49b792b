/* SPDX-License-Identifier: Apache-2.0 */
/* Autodiscover and the HTTP client over real TLS (Linux port, mbedtls) against a local
 * Python HTTPS responder (ad_server.py) with certificates made for this run. A mapping
 * connector sends every host name to 127.0.0.1 (like a hosts file) while TLS still verifies
 * the certificate; the responder routes by the Host header.
 *
 * Usage: test_autodiscover_https <ad_server.py> <scratch dir> */
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "eas/eas_autodiscover.h"
#include "eas/eas_err.h"
#include "eas/eas_http.h"
#include "easd_linux.h"

static const char *g_script;
static const char *g_dir;
static pid_t g_pid;
static int g_to_server = -1;
static uint16_t g_port_good;
static uint16_t g_port_bad;
static char g_ca[512];

static easd_linux_net_t g_lnet;
static hal_net_t g_real;
static hal_net_t g_map;

/* Hosts file for the test: which name goes where. */
static int map_open(void *ctx, const char *host, uint16_t port, hal_net_security_t sec,
                    hal_io_t *io)
{
    (void)ctx;
    (void)port;
    size_t n = strlen(host);
    const char *target = "localhost";
    uint16_t p = g_port_good;
    if (strcmp(host, "tlsfail.test") == 0) {
        p = g_port_bad; /* self-signed leaf: not trusted */
    } else if (strcmp(host, "wrongname.test") == 0) {
        target = "127.0.0.1"; /* the leaf names only "localhost" */
    } else if (strcmp(host, "refused.test") == 0) {
        p = 1;
    } else if (n < 5 || strcmp(host + n - 5, ".test") != 0) {
        return EAS_ERR_DNS;
    }
    return g_real.open(g_real.ctx, target, p, sec, io);
}

static int server_up(void **state)
{
    (void)state;
    int in[2];
    int out[2];
    if (pipe(in) != 0 || pipe(out) != 0) {
        return -1;
    }
    g_pid = fork();
    if (g_pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        close(in[1]);
        close(out[0]);
        execl("/usr/bin/python3", "python3", g_script, g_dir, (char *)NULL);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    g_to_server = in[1];
    FILE *f = fdopen(out[0], "r");
    char line[1024];
    unsigned a = 0;
    unsigned b = 0;
    if (f == NULL || fgets(line, sizeof(line), f) == NULL ||
        sscanf(line, "PORTS %u %u %511s", &a, &b, g_ca) != 3) {
        return -1;
    }
    g_port_good = (uint16_t)a;
    g_port_bad = (uint16_t)b;
    easd_linux_net_config_t cfg = {.ca_file = g_ca, .connect_timeout_ms = 10000};
    if (easd_linux_net_init(&g_lnet, &cfg, &g_real) != EAS_OK) {
        return -1;
    }
    g_map.open = map_open;
    g_map.ctx = NULL;
    return 0;
}

static int server_down(void **state)
{
    (void)state;
    easd_linux_net_deinit(&g_lnet);
    if (g_to_server >= 0) {
        close(g_to_server); /* the responder exits when stdin closes */
    }
    if (g_pid > 0) {
        kill(g_pid, SIGTERM);
        waitpid(g_pid, NULL, 0);
    }
    return 0;
}

static uint8_t g_hwork[EAS_HTTP_CLIENT_WORK_SIZE];
static uint8_t g_adwork[EAS_AUTODISCOVER_WORK_SIZE];
static eas_http_client_t g_http;
static eas_autodiscover_t g_ad;

static void client_init(const char *user, const char *pass)
{
    eas_http_client_config_t cfg = {
        .net = &g_map,
        .auth = {.kind = EAS_HTTP_AUTH_BASIC, .user = user, .password = pass},
        .work = g_hwork,
        .work_len = sizeof(g_hwork),
        .connect_timeout_ms = 10000,
        .first_byte_timeout_ms = 10000,
    };
    assert_int_equal(eas_http_client_init(&g_http, &cfg), EAS_OK);
}

/* One wait of the event loop: poll the connection the port handed out last. */
static void wait_io(const eas_http_wait_t *w)
{
    easd_linux_wait_t lw;
    easd_linux_net_wait(&g_lnet, w->read, w->write, &lw);
    if (lw.pending || lw.fd < 0) {
        return;
    }
    uint64_t now = hal_time_monotonic_ms();
    int timeout = w->deadline_ms > now ? (int)(w->deadline_ms - now) : 0;
    if (timeout > 200) {
        timeout = 200;
    }
    struct pollfd p = {.fd = lw.fd,
                       .events = (short)((lw.readable ? POLLIN : 0) | (lw.writable ? POLLOUT : 0)),
                       .revents = 0};
    (void)poll(&p, 1, timeout);
}

static const eas_http_allow_t *g_allow; /* the application's allow-list */

static int discover(const char *email)
{
    client_init("tester", "secret");
    int rc = eas_autodiscover_start(&g_ad, &g_http, email, g_adwork, sizeof(g_adwork),
                                    hal_time_monotonic_ms());
    if (rc != EAS_OK) {
        return rc;
    }
    eas_autodiscover_allow(&g_ad, g_allow);
    for (int i = 0; i < 100000; i++) {
        eas_http_wait_t w;
        rc = eas_autodiscover_step(&g_ad, hal_time_monotonic_ms(), &w);
        if (rc != EAS_ERR_AGAIN) {
            break;
        }
        wait_io(&w);
    }
    eas_http_client_close(&g_http);
    print_message("%s -> %s; report: %s\n", email, eas_err_name(rc),
                  eas_autodiscover_report(&g_ad));
    return rc;
}

static void redirect_chain_over_tls(void **state)
{
    (void)state;
    /* Without approval the first hop to another host is reported, not contacted. */
    assert_int_equal(discover("someone@chain.test"), EAS_ERR_HTTP_REDIRECT_APPROVAL);
    assert_string_equal(eas_autodiscover_redirect_url(&g_ad),
                        "https://hop.chain.test/autodiscover/autodiscover.xml");
    /* With the hosts the user approved, the whole chain. */
    static const char *const hosts[] = {"hop.chain.test", "corp.test", "final.corp.test"};
    const eas_http_allow_t allow = {hosts, 3};
    g_allow = &allow;
    assert_int_equal(discover("someone@chain.test"), EAS_OK);
    g_allow = NULL;
    assert_string_equal(eas_autodiscover_url(&g_ad),
                        "https://mail.corp.test/Microsoft-Server-ActiveSync");
}

static void untrusted_first_candidate(void **state)
{
    (void)state;
    assert_int_equal(discover("someone@tlsfail.test"), EAS_OK);
    assert_string_equal(eas_autodiscover_url(&g_ad),
                        "https://eas.tlsfail.test/Microsoft-Server-ActiveSync");
    assert_string_equal(eas_autodiscover_report(&g_ad),
                        "https://tlsfail.test/autodiscover/autodiscover.xml: http: "
                        "EAS_ERR_TLS_CERT_UNTRUSTED");
}

static void bad_xml_and_wrong_schema(void **state)
{
    (void)state;
    assert_int_equal(discover("someone@badxml.test"), EAS_ERR_AD_EXHAUSTED);
    assert_string_equal(eas_autodiscover_report(&g_ad),
                        "https://badxml.test/autodiscover/autodiscover.xml: response: "
                        "EAS_ERR_AD_XML; https://autodiscover.badxml.test/autodiscover/"
                        "autodiscover.xml: response: EAS_ERR_AD_SCHEMA");
    assert_int_equal(discover("someone@html.test"), EAS_ERR_AD_EXHAUSTED);
    assert_string_equal(eas_autodiscover_report(&g_ad),
                        "https://html.test/autodiscover/autodiscover.xml: response: "
                        "EAS_ERR_AD_SCHEMA; https://autodiscover.html.test/autodiscover/"
                        "autodiscover.xml: status: EAS_ERR_SERVER (HTTP 500)");
}

static void loops_and_dns(void **state)
{
    (void)state;
    assert_int_equal(discover("someone@loop.test"), EAS_ERR_HTTP_REDIRECT_LOOP);
    assert_int_equal(discover("someone@nowhere.invalid"), EAS_ERR_AD_EXHAUSTED);
    assert_string_equal(eas_autodiscover_report(&g_ad),
                        "https://nowhere.invalid/autodiscover/autodiscover.xml: http: EAS_ERR_DNS; "
                        "https://autodiscover.nowhere.invalid/autodiscover/autodiscover.xml: http: "
                        "EAS_ERR_DNS");
}

static int plain_request(const char *url, const char *user)
{
    client_init(user, "secret");
    eas_http_request_t req = {
        .method = EAS_HTTP_OPTIONS,
        .url = url,
    };
    int rc = eas_http_client_start(&g_http, &req, hal_time_monotonic_ms());
    for (int i = 0; i < 100000 && rc == EAS_OK; i++) {
        eas_http_wait_t w;
        rc = eas_http_client_step(&g_http, hal_time_monotonic_ms(), &w);
        if (rc != EAS_ERR_AGAIN) {
            break;
        }
        wait_io(&w);
        rc = EAS_OK;
    }
    eas_http_client_close(&g_http);
    return rc;
}

static void tls_failures_are_distinct(void **state)
{
    (void)state;
    assert_int_equal(plain_request("https://tlsfail.test/x", "tester"), EAS_ERR_TLS_CERT_UNTRUSTED);
    assert_int_equal(eas_http_client_failed_phase(&g_http), EAS_HTTP_PHASE_CONNECT);
    assert_int_equal(plain_request("https://wrongname.test/x", "tester"),
                     EAS_ERR_TLS_CERT_HOSTNAME);
    assert_int_equal(plain_request("https://refused.test/x", "tester"), EAS_ERR_CONNECT);
    assert_int_equal(plain_request("https://nothere.example/x", "tester"), EAS_ERR_DNS);
    /* A working TLS connection: the responder has no OPTIONS handler and says 501. */
    assert_int_equal(plain_request("https://chain.test/x", "tester"), EAS_OK);
    assert_int_equal(eas_http_client_response(&g_http)->status, 501);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s <ad_server.py> <scratch dir>\n", argv[0]);
        return 2;
    }
    g_script = argv[1];
    g_dir = argv[2];
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(redirect_chain_over_tls),   cmocka_unit_test(untrusted_first_candidate),
        cmocka_unit_test(bad_xml_and_wrong_schema),  cmocka_unit_test(loops_and_dns),
        cmocka_unit_test(tls_failures_are_distinct),
    };
    return cmocka_run_group_tests(tests, server_up, server_down);
}
