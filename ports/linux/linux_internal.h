/* SPDX-License-Identifier: Apache-2.0 */
/* Private to the Linux port: how its connection layers see each other. */
#ifndef EASD_LINUX_INTERNAL_H
#define EASD_LINUX_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "easd_linux.h"

/* What a connection that returned 0 is waiting for underneath. */
enum lx_want { LX_WANT_NONE = 0, LX_WANT_READ = 1, LX_WANT_WRITE = 2 };

/* Plain TCP: open a connection; it completes inside the first send/recv calls. */
int lx_tcp_open(const char *host, uint16_t port, uint32_t timeout_ms, hal_io_t *io);
/* True when @p io is a plain TCP connection of this port. */
bool lx_tcp_is(const hal_io_t *io);
/* Its socket, or -1. */
int lx_tcp_fd(const hal_io_t *io);
/* True while the TCP connect has not completed (the socket must be polled for writing). */
bool lx_tcp_connecting(const hal_io_t *io);
/* When a connect in progress gives up (absolute monotonic ms). */
uint64_t lx_tcp_deadline(const hal_io_t *io);

/* TLS layered over any ::hal_io_t; takes ownership of @p inner (closes it on failure too). */
int lx_tls_open(easd_linux_net_t *net, const char *host, const hal_io_t *inner,
                uint64_t deadline_ms, hal_io_t *io);
bool lx_tls_is(const hal_io_t *io);
/* The transport under a TLS connection. */
const hal_io_t *lx_tls_inner(const hal_io_t *io);
void lx_tls_wait(const hal_io_t *io, bool want_read, bool want_write, easd_linux_wait_t *out);
/* Tell a connection which connector tracks it (easd_linux_net_t::current). */
void lx_tcp_set_owner(const hal_io_t *io, easd_linux_net_t *owner);
void lx_tls_set_owner(const hal_io_t *io, easd_linux_net_t *owner);
/* Called by a connection's close(): forget it if it is the tracked one. */
void lx_net_forget(easd_linux_net_t *owner, const void *conn);
/* Free the connector's shared TLS state. */
void lx_tls_shared_free(easd_linux_net_t *net);
/* Load the trust store now (EAS_ERR_TLS_CA if it cannot be used). */
int lx_tls_preload(easd_linux_net_t *net);

#endif /* EASD_LINUX_INTERNAL_H */
