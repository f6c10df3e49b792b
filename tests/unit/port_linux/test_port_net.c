/* SPDX-License-Identifier: Apache-2.0 */
/* Plain TCP connections of the Linux port against in-process listeners on loopback: the
 * send/recv contract (0 = try again, sticky errors), error mapping, IPv4 and IPv6. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "eas/eas_err.h"
#include "easd_linux.h"

/* Bound on any single wait so a broken port fails the test instead of hanging it. */
#define WAIT_LIMIT_MS 10000

static int listen_on(int family, uint16_t *port, int backlog)
{
    int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_storage ss;
    socklen_t sl;

    assert_true(fd >= 0);
    memset(&ss, 0, sizeof(ss));
    if (family == AF_INET6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        a->sin6_family = AF_INET6;
        a->sin6_addr = in6addr_loopback;
        sl = sizeof(*a);
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        a->sin_family = AF_INET;
        a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        sl = sizeof(*a);
    }
    assert_int_equal(bind(fd, (struct sockaddr *)&ss, sl), 0);
    assert_int_equal(listen(fd, backlog), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&ss, &sl), 0);
    *port = ntohs(family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                     : ((struct sockaddr_in *)&ss)->sin_port);
    return fd;
}

/* Wait as the event loop would: for what easd_linux_io_wait() says. */
static void wait_io(const hal_io_t *io, bool rd, bool wr)
{
    easd_linux_wait_t w;
    struct pollfd p;

    easd_linux_io_wait(io, rd, wr, &w);
    if (w.pending) {
        return;
    }
    assert_true(w.fd >= 0);
    p.fd = w.fd;
    p.events = (short)((w.readable ? POLLIN : 0) | (w.writable ? POLLOUT : 0));
    p.revents = 0;
    assert_true(p.events != 0);
    if (w.deadline_ms != EASD_LINUX_NO_DEADLINE) {
        /* The connection's own limit: wake up then and let send/recv report it. */
        uint64_t now = hal_time_monotonic_ms();
        int t = (w.deadline_ms > now) ? (int)(w.deadline_ms - now) : 0;
        assert_true(t <= WAIT_LIMIT_MS);
        (void)poll(&p, 1, t);
    } else {
        assert_int_equal(poll(&p, 1, WAIT_LIMIT_MS), 1);
    }
}

static int32_t send_all(const hal_io_t *io, const char *s, size_t len)
{
    size_t off = 0;
    while (off < len) {
        int32_t n = io->send(io->ctx, (const uint8_t *)s + off, len - off);
        if (n < 0) {
            return n;
        }
        if (n == 0) {
            wait_io(io, false, true);
        }
        off += (size_t)n;
    }
    return (int32_t)off;
}

/* Receive until @p len bytes arrived or an error; returns the count or the error. */
static int32_t recv_n(const hal_io_t *io, char *buf, size_t len)
{
    size_t off = 0;
    while (off < len) {
        int32_t n = io->recv(io->ctx, (uint8_t *)buf + off, len - off);
        if (n < 0) {
            return n;
        }
        if (n == 0) {
            wait_io(io, true, false);
        }
        off += (size_t)n;
    }
    return (int32_t)off;
}

/* Call recv (waiting as told) until it returns an error; returns that error. */
static int32_t recv_until_error(const hal_io_t *io)
{
    uint8_t b[64];
    for (;;) {
        int32_t n = io->recv(io->ctx, b, sizeof(b));
        if (n < 0) {
            return n;
        }
        if (n == 0) {
            wait_io(io, true, false);
        }
    }
}

static void echo_roundtrip(int family, const char *host)
{
    easd_linux_net_t net;
    hal_net_t hal;
    hal_io_t io = {0};
    uint16_t port = 0;
    int lfd = listen_on(family, &port, 4);
    int sfd;
    char buf[16];
    easd_linux_wait_t w;

    assert_int_equal(easd_linux_net_init(&net, NULL, &hal), EAS_OK);
    easd_linux_net_wait(&net, true, false, &w);
    assert_int_equal(w.fd, -1); /* nothing open yet */
    assert_int_equal(hal.open(hal.ctx, host, port, HAL_NET_PLAIN, &io), EAS_OK);
    assert_true(easd_linux_io_fd(&io) >= 0);
    /* The connector knows the connection the core holds, for the event loop. */
    easd_linux_net_wait(&net, true, false, &w);
    assert_int_equal(w.fd, easd_linux_io_fd(&io));
    assert_int_equal(send_all(&io, "ping", 4), 4);
    sfd = accept(lfd, NULL, NULL);
    assert_true(sfd >= 0);
    assert_int_equal(recv(sfd, buf, 4, MSG_WAITALL), 4);
    assert_memory_equal(buf, "ping", 4);
    assert_int_equal(send(sfd, "pong!", 5, 0), 5);
    assert_int_equal(recv_n(&io, buf, 5), 5);
    assert_memory_equal(buf, "pong!", 5);

    /* Orderly close: EAS_ERR_CLOSED, then the same error for every call, never 0. */
    close(sfd);
    assert_int_equal(recv_until_error(&io), EAS_ERR_CLOSED);
    assert_int_equal(io.recv(io.ctx, (uint8_t *)buf, sizeof(buf)), EAS_ERR_CLOSED);
    assert_int_equal(io.send(io.ctx, (const uint8_t *)"x", 1), EAS_ERR_CLOSED);
    io.close(io.ctx);
    easd_linux_net_wait(&net, true, false, &w);
    assert_int_equal(w.fd, -1); /* forgotten on close */
    close(lfd);
    easd_linux_net_deinit(&net);
}

static void ipv4_literal_echo_and_close(void **state)
{
    (void)state;
    echo_roundtrip(AF_INET, "127.0.0.1");
}

static int open_and_fail(const char *host, uint16_t port, uint32_t timeout_ms);

static void ipv6_literal_echo_and_close(void **state)
{
    (void)state;
    int probe = socket(AF_INET6, SOCK_STREAM, 0);
    struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
    int have_v6 = probe >= 0 && bind(probe, (struct sockaddr *)&a, sizeof(a)) == 0;

    if (probe >= 0) {
        close(probe);
    }
    if (have_v6) {
        echo_roundtrip(AF_INET6, "::1");
    } else {
        /* A kernel without IPv6: the literal must still parse and fail as a connect error. */
        print_message("no IPv6 loopback here: checking the failure path only\n");
        assert_int_equal(open_and_fail("::1", 9, 2000), EAS_ERR_CONNECT);
    }
}

static void host_name_resolved(void **state)
{
    (void)state;
    /* "localhost" may resolve to ::1 first; listen on IPv4 only to exercise the fallback
     * to the next address when one is refused. */
    echo_roundtrip(AF_INET, "localhost");
}

/* Open and drive until the connection reports an error, which is returned. */
static int open_and_fail(const char *host, uint16_t port, uint32_t timeout_ms)
{
    easd_linux_net_config_t cfg = {.ca_file = NULL, .connect_timeout_ms = timeout_ms};
    easd_linux_net_t net;
    hal_net_t hal;
    hal_io_t io = {0};
    int rc;

    assert_int_equal(easd_linux_net_init(&net, &cfg, &hal), EAS_OK);
    rc = hal.open(hal.ctx, host, port, HAL_NET_PLAIN, &io);
    if (rc == EAS_OK) {
        /* Not known at once: it must surface from send, and stay. */
        for (;;) {
            int32_t n = io.send(io.ctx, (const uint8_t *)"x", 1);
            assert_true(n <= 0); /* nobody can accept these bytes */
            if (n < 0) {
                rc = n;
                break;
            }
            wait_io(&io, false, true);
        }
        assert_int_equal(io.send(io.ctx, (const uint8_t *)"x", 1), rc);
        assert_int_equal(io.recv(io.ctx, (uint8_t[1]){0}, 1), rc);
        io.close(io.ctx);
    }
    easd_linux_net_deinit(&net);
    return rc;
}

static void refused_is_connect_error(void **state)
{
    (void)state;
    uint16_t port = 0;
    int lfd = listen_on(AF_INET, &port, 1);

    close(lfd); /* nothing listens on this port any more */
    assert_int_equal(open_and_fail("127.0.0.1", port, 5000), EAS_ERR_CONNECT);
}

static void reset_is_reported(void **state)
{
    (void)state;
    easd_linux_net_t net;
    hal_net_t hal;
    hal_io_t io = {0};
    uint16_t port = 0;
    int lfd = listen_on(AF_INET, &port, 4);
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    int sfd;

    assert_int_equal(easd_linux_net_init(&net, NULL, &hal), EAS_OK);
    assert_int_equal(hal.open(hal.ctx, "127.0.0.1", port, HAL_NET_PLAIN, &io), EAS_OK);
    assert_int_equal(send_all(&io, "hello", 5), 5);
    sfd = accept(lfd, NULL, NULL);
    assert_true(sfd >= 0);
    /* Close with unread data and linger 0: the kernel sends RST. */
    assert_int_equal(setsockopt(sfd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
    close(sfd);
    assert_int_equal(recv_until_error(&io), EAS_ERR_RESET);
    assert_int_equal(io.recv(io.ctx, (uint8_t[1]){0}, 1), EAS_ERR_RESET);
    io.close(io.ctx);
    close(lfd);
    easd_linux_net_deinit(&net);
}

static void connect_timeout(void **state)
{
    (void)state;
    uint16_t port = 0;
    int lfd = listen_on(AF_INET, &port, 0);
    int filler[4];

    /* A listener that never accepts, with a full queue, drops further SYNs: the connect
     * hangs until our own limit. */
    for (int i = 0; i < 4; i++) {
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        filler[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        (void)connect(filler[i], (struct sockaddr *)&a, sizeof(a));
    }
    assert_int_equal(open_and_fail("127.0.0.1", port, 300), EAS_ERR_TIMEOUT);
    for (int i = 0; i < 4; i++) {
        close(filler[i]);
    }
    close(lfd);
}

static void unknown_host_is_dns_error(void **state)
{
    (void)state;
    easd_linux_net_t net;
    hal_net_t hal;
    hal_io_t io = {0};

    assert_int_equal(easd_linux_net_init(&net, NULL, &hal), EAS_OK);
    /* .invalid is reserved (RFC 6761): it never resolves. */
    assert_int_equal(hal.open(hal.ctx, "no-such-host.invalid", 443, HAL_NET_PLAIN, &io),
                     EAS_ERR_DNS);
    assert_null(io.ctx); /* untouched on failure */
    easd_linux_net_deinit(&net);
}

static void bad_parameters(void **state)
{
    (void)state;
    easd_linux_net_t net;
    hal_net_t hal;
    hal_io_t io = {0};
    char longpath[5000];

    assert_int_equal(easd_linux_net_init(&net, NULL, &hal), EAS_OK);
    assert_int_equal(hal.open(hal.ctx, "", 443, HAL_NET_PLAIN, &io), EAS_ERR_PARAM);
    assert_int_equal(hal.open(hal.ctx, "127.0.0.1", 0, HAL_NET_PLAIN, &io), EAS_ERR_PARAM);
    assert_int_equal(hal.open(hal.ctx, NULL, 443, HAL_NET_PLAIN, &io), EAS_ERR_PARAM);
    assert_int_equal(hal.open(hal.ctx, "127.0.0.1", 443, (hal_net_security_t)7, &io),
                     EAS_ERR_PARAM);
    memset(longpath, 'a', sizeof(longpath) - 1);
    longpath[sizeof(longpath) - 1] = '\0';
    assert_int_equal(easd_linux_net_init(&net, &(easd_linux_net_config_t){longpath, 0}, &hal),
                     EAS_ERR_PARAM);
    assert_int_equal(easd_linux_io_fd(NULL), -1);
    assert_int_equal(easd_linux_io_fd(&io), -1); /* not a port connection */
}

/* Issue 11: a CA file the user named that is missing or holds no certificate is a
 * permanent error at start, before any connection, never a transient connect failure. */
static void missing_ca_file_is_ca_error(void **state)
{
    (void)state;
    easd_linux_net_config_t cfg = {.ca_file = "/nonexistent/ca.pem", .connect_timeout_ms = 0};
    easd_linux_net_t net;
    hal_net_t hal = {0};

    assert_int_equal(easd_linux_net_init(&net, &cfg, &hal), EAS_ERR_TLS_CA);
    assert_null(hal.open);
    easd_linux_net_deinit(&net);

    char path[] = "/tmp/easd-ca-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    static const char junk[] = "-----BEGIN CERTIFICATE-----\nnot base64 at all\n"
                               "-----END CERTIFICATE-----\n";
    assert_int_equal(write(fd, junk, sizeof(junk) - 1), (ssize_t)(sizeof(junk) - 1));
    close(fd);
    cfg.ca_file = path;
    assert_int_equal(easd_linux_net_init(&net, &cfg, &hal), EAS_ERR_TLS_CA);
    easd_linux_net_deinit(&net);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ipv4_literal_echo_and_close),
        cmocka_unit_test(ipv6_literal_echo_and_close),
        cmocka_unit_test(host_name_resolved),
        cmocka_unit_test(refused_is_connect_error),
        cmocka_unit_test(reset_is_reported),
        cmocka_unit_test(connect_timeout),
        cmocka_unit_test(unknown_host_is_dns_error),
        cmocka_unit_test(bad_parameters),
        cmocka_unit_test(missing_ca_file_is_ca_error),
    };
    easd_linux_log_config(&(easd_linux_log_config_t){EASD_LINUX_LOG_STDERR, HAL_LOG_WARN, NULL});
    return cmocka_run_group_tests(tests, NULL, NULL);
}
