/* SPDX-License-Identifier: Apache-2.0 */
/* The connector the core calls (hal_net_t) and the readiness helpers for the event loop. */
#include <string.h>

#include "eas/eas_err.h"
#include "hal/hal_time.h"
#include "linux_internal.h"

static int net_open(void *ctx, const char *host, uint16_t port, hal_net_security_t sec,
                    hal_io_t *io)
{
    easd_linux_net_t *net = ctx;
    int rc = EAS_ERR_PARAM;
    hal_io_t plain = {0};
    hal_io_t out = {0};
    uint64_t deadline;

    if (net == NULL || host == NULL || io == NULL || (sec != HAL_NET_PLAIN && sec != HAL_NET_TLS)) {
        goto done;
    }
    deadline = hal_time_monotonic_ms() + net->connect_timeout_ms;
    rc = lx_tcp_open(host, port, net->connect_timeout_ms, &plain);
    if (rc != EAS_OK) {
        goto done;
    }
    if (sec == HAL_NET_PLAIN) {
        out = plain;
    } else {
        /* lx_tls_open owns the plain connection from here on, also when it fails. */
        rc = lx_tls_open(net, host, &plain, deadline, &out);
        if (rc != EAS_OK) {
            goto done;
        }
    }
    lx_tcp_set_owner(&out, net);
    lx_tls_set_owner(&out, net);
    net->current = out;
    *io = out;
done:
    return rc;
}

int easd_linux_net_init(easd_linux_net_t *net, const easd_linux_net_config_t *cfg, hal_net_t *hal)
{
    int rc = EAS_ERR_PARAM;
    size_t n = 0u;

    if (net == NULL || hal == NULL) {
        goto done;
    }
    memset(net, 0, sizeof(*net));
    net->connect_timeout_ms = EASD_LINUX_CONNECT_TIMEOUT_MS_DEFAULT;
    if (cfg != NULL) {
        if (cfg->ca_file != NULL) {
            n = strlen(cfg->ca_file);
            if (n >= sizeof(net->ca_file)) {
                goto done;
            }
            memcpy(net->ca_file, cfg->ca_file, n + 1u);
        }
        if (cfg->connect_timeout_ms != 0u) {
            net->connect_timeout_ms = cfg->connect_timeout_ms;
        }
    }
    if (net->ca_file[0] != '\0') {
        /* A CA file the user named and that cannot be used will not start working by
           retrying: say so now, once, instead of failing every connection until a timeout. */
        rc = lx_tls_preload(net);
        if (rc != EAS_OK) {
            rc = EAS_ERR_TLS_CA;
            goto done;
        }
    }
    hal->open = net_open;
    hal->ctx = net;
    rc = EAS_OK;
done:
    return rc;
}

void easd_linux_net_deinit(easd_linux_net_t *net)
{
    if (net != NULL) {
        lx_tls_shared_free(net);
    }
}

int easd_linux_io_fd(const hal_io_t *io)
{
    int fd = -1;

    if (lx_tcp_is(io)) {
        fd = lx_tcp_fd(io);
    } else if (lx_tls_is(io)) {
        fd = easd_linux_io_fd(lx_tls_inner(io));
    }
    return fd;
}

void easd_linux_io_wait(const hal_io_t *io, bool want_read, bool want_write, easd_linux_wait_t *out)
{
    if (out == NULL) {
        return;
    }
    out->fd = -1;
    out->readable = false;
    out->writable = false;
    out->pending = false;
    out->deadline_ms = EASD_LINUX_NO_DEADLINE;
    if (lx_tcp_is(io)) {
        out->fd = lx_tcp_fd(io);
        if (lx_tcp_connecting(io)) {
            /* Connect completion (success or failure) is reported as writability only. */
            out->writable = want_read || want_write;
            out->deadline_ms = lx_tcp_deadline(io);
        } else {
            out->readable = want_read;
            out->writable = want_write;
        }
    } else if (lx_tls_is(io)) {
        lx_tls_wait(io, want_read, want_write, out);
    } else {
        /* Not ours: nothing the loop can poll. */
    }
}

void lx_net_forget(easd_linux_net_t *owner, const void *conn)
{
    if (owner->current.ctx == conn) {
        memset(&owner->current, 0, sizeof(owner->current));
    }
}

void easd_linux_net_wait(const easd_linux_net_t *net, bool want_read, bool want_write,
                         easd_linux_wait_t *out)
{
    easd_linux_io_wait((net != NULL && net->current.ctx != NULL) ? &net->current : NULL, want_read,
                       want_write, out);
}
