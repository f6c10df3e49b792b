/* SPDX-License-Identifier: Apache-2.0 */
/* Plain TCP connections: non-blocking sockets, name resolution, connect with fallback over
 * every resolved address. */
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include "eas/eas_err.h"
#include "hal/hal_time.h"
#include "linux_internal.h"

enum lx_tcp_state { LX_TCP_CONNECTING, LX_TCP_OPEN, LX_TCP_FAILED };

struct lx_tcp {
    int fd;
    enum lx_tcp_state state;
    int err;                 /* sticky error once FAILED */
    struct addrinfo *ai_all; /* every resolved address */
    struct addrinfo *ai_next;
    int last_errno; /* of the last failed address, for the final error */
    uint64_t deadline_ms;
    easd_linux_net_t *owner; /* connector tracking this connection, or NULL */
};

static int32_t tcp_send(void *ctx, const uint8_t *buf, size_t len);
static int32_t tcp_recv(void *ctx, uint8_t *buf, size_t len);
static void tcp_close(void *ctx);

static int map_errno(int e)
{
    int err = EAS_ERR_IO;

    switch (e) {
    case ECONNREFUSED:
    case ENETUNREACH:
    case EHOSTUNREACH:
    case EHOSTDOWN:
    case ENETDOWN:
    case EADDRNOTAVAIL:
    case EAFNOSUPPORT:
        err = EAS_ERR_CONNECT;
        break;
    case ETIMEDOUT:
        err = EAS_ERR_TIMEOUT;
        break;
    case ECONNRESET:
    case ECONNABORTED:
        err = EAS_ERR_RESET;
        break;
    case EPIPE:
        err = EAS_ERR_CLOSED;
        break;
    case ENOMEM:
        err = EAS_ERR_NOMEM;
        break;
    default:
        err = EAS_ERR_IO;
        break;
    }
    return err;
}

static void tcp_fail(struct lx_tcp *c, int err)
{
    c->state = LX_TCP_FAILED;
    c->err = err;
}

/* Start connecting to the next untried address. Returns EAS_OK when a connect is open or in
 * progress, else the error of the last address tried. */
static int tcp_try_next(struct lx_tcp *c)
{
    int rc = EAS_ERR_CONNECT;

    while (c->ai_next != NULL) {
        struct addrinfo *ai = c->ai_next;
        int one = 1;
        int fd;

        c->ai_next = ai->ai_next;
        fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            c->last_errno = errno;
            continue;
        }
        /* Requests are written in one go and answers awaited: Nagle would only add delay. */
        (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
            c->fd = fd;
            c->state = LX_TCP_OPEN;
            rc = EAS_OK;
            break;
        }
        if (errno == EINPROGRESS || errno == EINTR) {
            c->fd = fd;
            c->state = LX_TCP_CONNECTING;
            rc = EAS_OK;
            break;
        }
        c->last_errno = errno;
        (void)close(fd);
    }
    if (rc != EAS_OK) {
        rc = (c->last_errno != 0) ? map_errno(c->last_errno) : EAS_ERR_CONNECT;
        if (rc == EAS_ERR_IO) {
            rc = EAS_ERR_CONNECT;
        }
    }
    return rc;
}

/* Advance a connect in progress without blocking. Returns EAS_OK when open, 0-like
 * EAS_ERR_AGAIN while still connecting, or the failure. */
static int tcp_progress(struct lx_tcp *c)
{
    int rc = EAS_ERR_AGAIN;

    while (c->state == LX_TCP_CONNECTING) {
        struct pollfd p = {.fd = c->fd, .events = POLLOUT, .revents = 0};
        int soerr = 0;
        socklen_t sl = sizeof(soerr);
        int n = poll(&p, 1, 0);

        if (n == 0) {
            if (hal_time_monotonic_ms() >= c->deadline_ms) {
                tcp_fail(c, EAS_ERR_TIMEOUT);
            }
            break;
        }
        if (n < 0) {
            if (errno != EINTR) {
                tcp_fail(c, EAS_ERR_IO);
            }
            break;
        }
        if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0) {
            soerr = errno;
        }
        if (soerr == 0) {
            c->state = LX_TCP_OPEN;
            break;
        }
        /* This address failed: fall back to the next one (IPv6 then IPv4, or several A
         * records), as long as time remains. */
        c->last_errno = soerr;
        (void)close(c->fd);
        c->fd = -1;
        if (hal_time_monotonic_ms() >= c->deadline_ms) {
            tcp_fail(c, EAS_ERR_TIMEOUT);
        } else {
            int r = tcp_try_next(c);
            if (r != EAS_OK) {
                tcp_fail(c, r);
            }
        }
    }
    if (c->state == LX_TCP_OPEN) {
        rc = EAS_OK;
    } else if (c->state == LX_TCP_FAILED) {
        rc = c->err;
    }
    return rc;
}

static int32_t tcp_send(void *ctx, const uint8_t *buf, size_t len)
{
    struct lx_tcp *c = ctx;
    int32_t ret = 0;
    int rc = tcp_progress(c);

    if (rc == EAS_ERR_AGAIN) {
        ret = 0;
    } else if (rc != EAS_OK) {
        ret = rc;
    } else if (len == 0u) {
        ret = 0;
    } else {
        ssize_t n;
        if (len > (size_t)INT32_MAX) {
            len = (size_t)INT32_MAX;
        }
        /* MSG_NOSIGNAL: a peer that went away must give EPIPE, not kill the daemon. */
        n = send(c->fd, buf, len, MSG_NOSIGNAL);
        if (n >= 0) {
            ret = (int32_t)n;
        } else if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
            ret = 0;
        } else {
            tcp_fail(c, map_errno(errno));
            ret = c->err;
        }
    }
    return ret;
}

static int32_t tcp_recv(void *ctx, uint8_t *buf, size_t len)
{
    struct lx_tcp *c = ctx;
    int32_t ret = 0;
    int rc = tcp_progress(c);

    if (rc == EAS_ERR_AGAIN) {
        ret = 0;
    } else if (rc != EAS_OK) {
        ret = rc;
    } else if (len == 0u) {
        /* recv(.., 0) would return 0 and look like end of stream. */
        ret = 0;
    } else {
        ssize_t n;
        if (len > (size_t)INT32_MAX) {
            len = (size_t)INT32_MAX;
        }
        n = recv(c->fd, buf, len, 0);
        if (n > 0) {
            ret = (int32_t)n;
        } else if (n == 0) {
            tcp_fail(c, EAS_ERR_CLOSED);
            ret = c->err;
        } else if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
            ret = 0;
        } else {
            tcp_fail(c, map_errno(errno));
            ret = c->err;
        }
    }
    return ret;
}

static void tcp_close(void *ctx)
{
    struct lx_tcp *c = ctx;

    if (c != NULL) {
        if (c->owner != NULL) {
            lx_net_forget(c->owner, c);
        }
        if (c->fd >= 0) {
            (void)close(c->fd);
        }
        if (c->ai_all != NULL) {
            freeaddrinfo(c->ai_all);
        }
        free(c);
    }
}

static int map_gai(int g)
{
    int err = EAS_ERR_DNS;

    if (g == EAI_MEMORY) {
        err = EAS_ERR_NOMEM;
    } else if (g == EAI_SYSTEM) {
        err = EAS_ERR_IO;
    }
    return err;
}

int lx_tcp_open(const char *host, uint16_t port, uint32_t timeout_ms, hal_io_t *io)
{
    int rc = EAS_ERR_PARAM;
    struct lx_tcp *c = NULL;
    struct addrinfo hints;
    char service[8];
    int g;

    if (host == NULL || host[0] == '\0' || port == 0u || io == NULL) {
        goto out;
    }
    c = calloc(1, sizeof(*c));
    if (c == NULL) {
        rc = EAS_ERR_NOMEM;
        goto out;
    }
    c->fd = -1;
    memset(&hints, 0, sizeof(hints));
    /* AF_UNSPEC gives IPv6 and IPv4 in the system's preferred order. No AI_ADDRCONFIG:
     * on a loopback-only machine it would hide "localhost". Literal addresses (IPv6
     * without brackets) are parsed without a lookup. */
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    (void)snprintf(service, sizeof(service), "%u", (unsigned)port);
    g = getaddrinfo(host, service, &hints, &c->ai_all);
    if (g != 0) {
        c->ai_all = NULL;
        rc = map_gai(g);
        goto out;
    }
    c->ai_next = c->ai_all;
    c->deadline_ms = hal_time_monotonic_ms() + timeout_ms;
    rc = tcp_try_next(c);
    if (rc != EAS_OK) {
        goto out;
    }
    io->send = tcp_send;
    io->recv = tcp_recv;
    io->close = tcp_close;
    io->ctx = c;
    c = NULL;
out:
    tcp_close(c);
    return rc;
}

bool lx_tcp_is(const hal_io_t *io)
{
    return (io != NULL) && (io->close == tcp_close) && (io->ctx != NULL);
}

int lx_tcp_fd(const hal_io_t *io)
{
    int fd = -1;

    if (lx_tcp_is(io)) {
        fd = ((const struct lx_tcp *)io->ctx)->fd;
    }
    return fd;
}

bool lx_tcp_connecting(const hal_io_t *io)
{
    bool r = false;

    if (lx_tcp_is(io)) {
        r = ((const struct lx_tcp *)io->ctx)->state == LX_TCP_CONNECTING;
    }
    return r;
}

uint64_t lx_tcp_deadline(const hal_io_t *io)
{
    uint64_t d = EASD_LINUX_NO_DEADLINE;

    if (lx_tcp_is(io)) {
        d = ((const struct lx_tcp *)io->ctx)->deadline_ms;
    }
    return d;
}

void lx_tcp_set_owner(const hal_io_t *io, easd_linux_net_t *owner)
{
    if (lx_tcp_is(io)) {
        ((struct lx_tcp *)io->ctx)->owner = owner;
    }
}
