/* SPDX-License-Identifier: Apache-2.0 */
/* The Linux port's TLS layer against `openssl s_server` on 127.0.0.1, with certificates
 * generated for this run by mkcerts.sh: a valid chain is accepted and data flows; a wrong
 * host name, a self-signed leaf, an expired and a not-yet-valid leaf are each rejected with
 * their own error; SNI is sent; TLS below 1.2 is refused.
 *
 * Usage: test_tls_openssl <mkcerts.sh> <scratch dir> */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "eas/eas_err.h"
#include "easd_linux.h"

#define WAIT_LIMIT_MS 15000

static const char *g_script;
static const char *g_dir;

struct server {
    pid_t pid;
    int out_fd;
    uint16_t port;
};

static void path_of(char *out, size_t cap, const char *name)
{
    (void)snprintf(out, cap, "%s/%s", g_dir, name);
}

/* Start s_server on an ephemeral port (no clashes with parallel tests) and read the port
 * it reports. @p extra is a NULL-terminated list of further options. */
static void server_start(struct server *s, const char *cert, const char *const *extra)
{
    char cert_path[512];
    char key_path[512];
    const char *argv[32];
    int n = 0;
    int out[2];
    char line[256];
    size_t len = 0;

    path_of(cert_path, sizeof(cert_path), cert);
    path_of(key_path, sizeof(key_path), "leaf.key");
    argv[n++] = "openssl";
    argv[n++] = "s_server";
    argv[n++] = "-accept";
    argv[n++] = "127.0.0.1:0";
    argv[n++] = "-cert";
    argv[n++] = cert_path;
    argv[n++] = "-key";
    argv[n++] = key_path;
    argv[n++] = "-rev"; /* echoes each line reversed */
    for (size_t i = 0; extra != NULL && extra[i] != NULL; i++) {
        argv[n++] = extra[i];
    }
    argv[n] = NULL;
    assert_int_equal(pipe(out), 0);
    s->pid = fork();
    assert_true(s->pid >= 0);
    if (s->pid == 0) {
        int devnull = open("/dev/null", O_RDWR);
        dup2(devnull, 0);
        dup2(out[1], 1);
        dup2(out[1], 2);
        close(out[0]);
        execvp("openssl", (char *const *)argv);
        _exit(127);
    }
    close(out[1]);
    s->out_fd = out[0];
    s->port = 0;
    /* Read output until "ACCEPT 127.0.0.1:<port>". */
    while (s->port == 0) {
        struct pollfd p = {.fd = s->out_fd, .events = POLLIN, .revents = 0};
        char c;
        assert_int_equal(poll(&p, 1, WAIT_LIMIT_MS), 1);
        if (read(s->out_fd, &c, 1) != 1) {
            fail_msg("s_server exited before listening");
        }
        if (c != '\n') {
            if (len < sizeof(line) - 1) {
                line[len++] = c;
            }
            continue;
        }
        line[len] = '\0';
        len = 0;
        if (strncmp(line, "ACCEPT 127.0.0.1:", 17) == 0) {
            s->port = (uint16_t)atoi(line + 17);
        }
    }
}

static void server_stop(struct server *s)
{
    int status;
    kill(s->pid, SIGTERM);
    waitpid(s->pid, &status, 0);
    close(s->out_fd);
}

static void wait_io(const hal_io_t *io, bool rd, bool wr)
{
    easd_linux_wait_t w;
    struct pollfd p;
    int timeout = WAIT_LIMIT_MS;

    easd_linux_io_wait(io, rd, wr, &w);
    if (w.pending) {
        return;
    }
    assert_true(w.fd >= 0);
    p.fd = w.fd;
    p.events = (short)((w.readable ? POLLIN : 0) | (w.writable ? POLLOUT : 0));
    p.revents = 0;
    if (w.deadline_ms != EASD_LINUX_NO_DEADLINE) {
        uint64_t now = hal_time_monotonic_ms();
        timeout = (w.deadline_ms > now) ? (int)(w.deadline_ms - now) : 0;
        assert_true(timeout <= WAIT_LIMIT_MS);
        (void)poll(&p, 1, timeout);
    } else {
        assert_int_equal(poll(&p, 1, timeout), 1);
    }
}

/* Connect with TLS, send @p msg, read one line back with reads of at most @p chunk bytes.
 * Returns EAS_OK or the first error the connection reported. */
static int exchange(const char *ca, const char *host, uint16_t port, uint32_t timeout_ms,
                    const char *msg, char *reply, size_t cap, size_t chunk)
{
    char ca_path[512];
    easd_linux_net_config_t cfg = {.ca_file = ca_path, .connect_timeout_ms = timeout_ms};
    easd_linux_net_t net;
    hal_net_t hal;
    hal_io_t io = {0};
    size_t off = 0;
    size_t len = strlen(msg);
    int rc;
    int saw_pending = 0;

    path_of(ca_path, sizeof(ca_path), ca);
    assert_int_equal(easd_linux_net_init(&net, &cfg, &hal), EAS_OK);
    rc = hal.open(hal.ctx, host, port, HAL_NET_TLS, &io);
    if (rc != EAS_OK) {
        goto out;
    }
    {
        /* The loop finds the TLS connection's socket through the connector. */
        easd_linux_wait_t w;
        easd_linux_net_wait(&net, false, true, &w);
        assert_int_equal(w.fd, easd_linux_io_fd(&io));
        assert_true(w.fd >= 0);
    }
    while (off < len) {
        int32_t n = io.send(io.ctx, (const uint8_t *)msg + off, len - off);
        if (n < 0) {
            rc = n;
            goto close;
        }
        if (n == 0) {
            wait_io(&io, false, true);
        }
        off += (size_t)n;
    }
    off = 0;
    while (off == 0 || reply[off - 1] != '\n') {
        size_t want = (cap - 1 - off < chunk) ? cap - 1 - off : chunk;
        int32_t n;
        assert_true(want > 0);
        n = io.recv(io.ctx, (uint8_t *)reply + off, want);
        if (n < 0) {
            rc = n;
            goto close;
        }
        if (n == 0) {
            wait_io(&io, true, false);
        } else {
            easd_linux_wait_t w;
            easd_linux_io_wait(&io, true, false, &w);
            saw_pending |= w.pending;
        }
        off += (size_t)n;
    }
    reply[off] = '\0';
    /* Reading byte by byte leaves the rest of the record decrypted above the socket:
     * the loop must be told so (poll would not see it). */
    if (chunk == 1 && off > 1) {
        assert_true(saw_pending);
    }
    /* "CLOSE" makes s_server end the session: an orderly end of stream. */
    off = 0;
    while (off < 6) {
        int32_t n = io.send(io.ctx, (const uint8_t *)"CLOSE\n" + off, 6 - off);
        assert_true(n >= 0);
        if (n == 0) {
            wait_io(&io, false, true);
        }
        off += (size_t)n;
    }
    for (;;) {
        uint8_t b[256];
        int32_t n = io.recv(io.ctx, b, sizeof(b));
        if (n < 0) {
            assert_int_equal(n, EAS_ERR_CLOSED);
            assert_int_equal(io.recv(io.ctx, b, sizeof(b)), EAS_ERR_CLOSED); /* sticky */
            break;
        }
        if (n == 0) {
            wait_io(&io, true, false);
        }
    }
close:
    io.close(io.ctx);
out:
    easd_linux_net_deinit(&net);
    return rc;
}

static int against(const char *cert, const char *const *extra, const char *ca, const char *host)
{
    struct server s;
    char reply[128];
    int rc;

    server_start(&s, cert, extra);
    rc = exchange(ca, host, s.port, 0, "hello easd\n", reply, sizeof(reply), 64);
    if (rc == EAS_OK) {
        assert_string_equal(reply, "dsae olleh\n");
    }
    server_stop(&s);
    return rc;
}

static void valid_certificate_accepted_and_data_flows(void **state)
{
    (void)state;
    struct server s;
    char reply[256];
    char msg[200];

    assert_int_equal(against("good.pem", NULL, "ca.pem", "localhost"), EAS_OK);

    /* A longer line read one byte at a time. */
    for (size_t i = 0; i < sizeof(msg) - 2; i++) {
        msg[i] = (char)('a' + i % 26);
    }
    msg[sizeof(msg) - 2] = '\n';
    msg[sizeof(msg) - 1] = '\0';
    server_start(&s, "good.pem", NULL);
    assert_int_equal(exchange("ca.pem", "localhost", s.port, 0, msg, reply, sizeof(reply), 1),
                     EAS_OK);
    assert_int_equal(strlen(reply), strlen(msg));
    for (size_t i = 0; i < sizeof(msg) - 2; i++) {
        assert_int_equal(reply[i], msg[sizeof(msg) - 3 - i]);
    }
    server_stop(&s);
}

static void wrong_host_name_rejected(void **state)
{
    (void)state;
    assert_int_equal(against("wronghost.pem", NULL, "ca.pem", "localhost"),
                     EAS_ERR_TLS_CERT_HOSTNAME);
}

static void self_signed_rejected(void **state)
{
    (void)state;
    assert_int_equal(against("selfsigned.pem", NULL, "ca.pem", "localhost"),
                     EAS_ERR_TLS_CERT_UNTRUSTED);
}

static void other_ca_rejected(void **state)
{
    (void)state;
    /* A valid chain, but to a CA the client does not trust. */
    assert_int_equal(against("good.pem", NULL, "selfsigned.pem", "localhost"),
                     EAS_ERR_TLS_CERT_UNTRUSTED);
}

static void expired_rejected(void **state)
{
    (void)state;
    assert_int_equal(against("expired.pem", NULL, "ca.pem", "localhost"), EAS_ERR_TLS_CERT_EXPIRED);
}

static void not_yet_valid_rejected(void **state)
{
    (void)state;
    assert_int_equal(against("future.pem", NULL, "ca.pem", "localhost"), EAS_ERR_TLS_CERT_FUTURE);
}

static void sni_selects_the_right_certificate(void **state)
{
    (void)state;
    char good[512];
    char key[512];
    const char *extra[7];

    /* Default certificate: wrong name. Only a client that sends SNI "localhost" gets the
     * good one. */
    path_of(good, sizeof(good), "good.pem");
    path_of(key, sizeof(key), "leaf.key");
    extra[0] = "-servername";
    extra[1] = "localhost";
    extra[2] = "-cert2";
    extra[3] = good;
    extra[4] = "-key2";
    extra[5] = key;
    extra[6] = NULL;
    assert_int_equal(against("wronghost.pem", extra, "ca.pem", "localhost"), EAS_OK);
}

static void tls_below_1_2_refused(void **state)
{
    (void)state;
    static const char *const extra[] = {"-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0", NULL};

    /* The server's alert (or its TLS 1.1 ServerHello) arrives before it hangs up. */
    assert_int_equal(against("good.pem", extra, "ca.pem", "localhost"), EAS_ERR_TLS_HANDSHAKE);
}

static void silent_server_times_out(void **state)
{
    (void)state;
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    socklen_t sl = sizeof(a);
    char reply[16];

    /* The kernel completes the TCP handshake (listen backlog); nobody speaks TLS. */
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(lfd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(lfd, 4), 0);
    assert_int_equal(getsockname(lfd, (struct sockaddr *)&a, &sl), 0);
    assert_int_equal(
        exchange("ca.pem", "localhost", ntohs(a.sin_port), 300, "x\n", reply, sizeof(reply), 16),
        EAS_ERR_TIMEOUT);
    close(lfd);
}

/* A miniature engine: open, send a line, read the answer, all driven by the event loop
 * through easd_linux_net_wait(), as the real engine will be. */
struct mini {
    easd_linux_net_t net;
    hal_net_t hal;
    hal_io_t io;
    uint16_t port;
    int phase;
    size_t off;
    char reply[64];
    int io_events;
};

#define MINI_DONE  100
#define MINI_GUARD (-999)

static int mini_step(void *ctx, easd_linux_event_t ev, uint64_t now_ms, uint64_t *deadline,
                     easd_linux_wait_t *wait)
{
    struct mini *m = ctx;
    static const char msg[] = "loop driven\n";
    int rc = 0;

    if (ev == EASD_LINUX_EV_TICK && m->phase > 0) {
        return MINI_GUARD; /* only the guard deadline ticks: I/O never came */
    }
    if (ev == EASD_LINUX_EV_READABLE || ev == EASD_LINUX_EV_WRITABLE) {
        m->io_events++;
    }
    if (m->phase == 0) {
        rc = m->hal.open(m->hal.ctx, "localhost", m->port, HAL_NET_TLS, &m->io);
        if (rc != EAS_OK) {
            return rc;
        }
        m->phase = 1;
    }
    while (m->phase == 1) {
        int32_t n = m->io.send(m->io.ctx, (const uint8_t *)msg + m->off, strlen(msg) - m->off);
        if (n <= 0) {
            rc = n;
            break;
        }
        m->off += (size_t)n;
        if (m->off == strlen(msg)) {
            m->phase = 2;
            m->off = 0;
        }
    }
    while (rc == 0 && m->phase == 2) {
        int32_t n =
            m->io.recv(m->io.ctx, (uint8_t *)m->reply + m->off, sizeof(m->reply) - 1 - m->off);
        if (n <= 0) {
            rc = n;
            break;
        }
        m->off += (size_t)n;
        if (m->reply[m->off - 1] == '\n') {
            m->reply[m->off] = '\0';
            return MINI_DONE;
        }
    }
    if (rc < 0) {
        return rc;
    }
    *deadline = now_ms + WAIT_LIMIT_MS;
    easd_linux_net_wait(&m->net, m->phase == 2, m->phase == 1, wait);
    return 0;
}

static void event_loop_drives_a_tls_exchange(void **state)
{
    (void)state;
    struct server s;
    struct mini m;
    easd_linux_loop_t loop;
    char ca[512];

    memset(&m, 0, sizeof(m));
    path_of(ca, sizeof(ca), "ca.pem");
    assert_int_equal(easd_linux_net_init(&m.net, &(easd_linux_net_config_t){ca, 0}, &m.hal),
                     EAS_OK);
    server_start(&s, "good.pem", NULL);
    m.port = s.port;
    assert_int_equal(easd_linux_loop_init(&loop, 0), EAS_OK);
    assert_int_equal(easd_linux_loop_run(&loop, mini_step, &m), MINI_DONE);
    assert_string_equal(m.reply, "nevird pool\n");
    /* How many socket waits it took depends on timing (a slow client may find each
     * flight already there), so only print it. */
    print_message("socket wake-ups: %d\n", m.io_events);
    m.io.close(m.io.ctx);
    easd_linux_loop_deinit(&loop);
    easd_linux_net_deinit(&m.net);
    server_stop(&s);
}

static int make_certs(void **state)
{
    char cmd[1024];
    (void)state;
    (void)snprintf(cmd, sizeof(cmd), "sh '%s' '%s' >/dev/null", g_script, g_dir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(valid_certificate_accepted_and_data_flows),
        cmocka_unit_test(wrong_host_name_rejected),
        cmocka_unit_test(self_signed_rejected),
        cmocka_unit_test(other_ca_rejected),
        cmocka_unit_test(expired_rejected),
        cmocka_unit_test(not_yet_valid_rejected),
        cmocka_unit_test(sni_selects_the_right_certificate),
        cmocka_unit_test(tls_below_1_2_refused),
        cmocka_unit_test(silent_server_times_out),
        cmocka_unit_test(event_loop_drives_a_tls_exchange),
    };
    if (argc != 3) {
        fprintf(stderr, "usage: %s <mkcerts.sh> <scratch dir>\n", argv[0]);
        return 2;
    }
    g_script = argv[1];
    g_dir = argv[2];
    signal(SIGPIPE, SIG_IGN);
    easd_linux_log_config(&(easd_linux_log_config_t){EASD_LINUX_LOG_STDERR, HAL_LOG_WARN, NULL});
    return cmocka_run_group_tests(tests, make_certs, NULL);
}
