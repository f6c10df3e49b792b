/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file hal_io.h
 * @brief Per-connection byte transport and the connector that opens connections.
 *
 * The core never touches sockets. It sees a connection only as an ::hal_io_t: a struct of
 * function pointers plus the port's context (coreMQTT's transport contract). TLS is not a
 * separate concept for the core: a port opens a TLS connection by layering its TLS session
 * over a plain connection and hands the core an ::hal_io_t for the TLS layer.
 *
 * ## Contract of send and recv (both directions, every port)
 * - Never block. Return the number of bytes moved (> 0), or 0 when nothing can be moved
 *   *now* (socket would block, TCP connect or TLS handshake still in progress), or a
 *   negative ::eas_err_t (EAS_ERR_CLOSED, EAS_ERR_RESET, EAS_ERR_TLS_CERT_..., ...).
 * - A partial count is normal; the caller keeps the rest and calls again.
 * - After send returned 0 the caller retries with the same leading bytes (it may offer more,
 *   never different ones): a TLS layer may already have encrypted them into a queued record.
 * - After a connection is closed by the peer or failed, every further call returns the same
 *   negative error: 0 is never returned after a disconnect (so the core cannot spin on it).
 * - recv returning EAS_ERR_CLOSED means an orderly end of stream (TCP FIN, TLS close_notify).
 * - Lengths are at most INT32_MAX; larger requests are truncated by the callee.
 * - close() releases everything the connection holds; it may be called in any state, once.
 *   After close() the ::hal_io_t must not be used.
 *
 * ## Readiness
 * The core reports what it waits for (readable / writable / a deadline) from eas_step();
 * the port's event loop, which owns the OS handles, waits for that and calls eas_step()
 * again. A return of 0 therefore always means "wait for readiness, then retry".
 */
#ifndef HAL_IO_H
#define HAL_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** One open connection. Filled by ::hal_net_t::open; owned by the core until close(). */
typedef struct hal_io {
    /** Send up to @p len bytes. See the contract above. */
    int32_t (*send)(void *ctx, const uint8_t *buf, size_t len);
    /** Receive up to @p len bytes into @p buf. See the contract above. */
    int32_t (*recv)(void *ctx, uint8_t *buf, size_t len);
    /** Close and release the connection. Never fails. */
    void (*close)(void *ctx);
    /** The port's connection state; opaque to the core. */
    void *ctx;
} hal_io_t;

/** How a connection must be secured. */
typedef enum hal_net_security {
    /** Plain TCP. Only used when the application configured an http:// URL explicitly. */
    HAL_NET_PLAIN = 0,
    /** TLS 1.2+, chain verified against the port's trust store and host name checked. */
    HAL_NET_TLS = 1
} hal_net_security_t;

/**
 * The connector: opens connections for the core. Supplied by the application (usually the
 * port's default), because it owns OS resources and the trust store.
 */
typedef struct hal_net {
    /**
     * Start opening a connection to @p host : @p port.
     *
     * Must not block on the network: the TCP connect and TLS handshake continue inside the
     * first send/recv calls, which return 0 until the connection is usable. (A port may
     * resolve the name synchronously; the Linux port calls getaddrinfo(), bounded by the
     * system resolver's timeout and attempts, and skips the lookup for literal addresses.)
     * With ::HAL_NET_TLS the certificate chain and host name (@p host, also sent as SNI)
     * are verified; a failure surfaces as a distinct negative error from send/recv (or
     * from open when it is known at once). There is never a fallback to plain TCP.
     *
     * @param[in]  ctx   ::hal_net_t::ctx.
     * @param[in]  host  NUL-terminated host name or literal address (IPv6 without brackets).
     * @param[in]  port  TCP port.
     * @param[in]  sec   plain or TLS.
     * @param[out] io    filled on success; untouched on failure.
     * @return EAS_OK, or a negative ::eas_err_t (EAS_ERR_DNS, EAS_ERR_CONNECT, EAS_ERR_NOMEM,
     *         EAS_ERR_TLS_CA, ...).
     */
    int (*open)(void *ctx, const char *host, uint16_t port, hal_net_security_t sec, hal_io_t *io);
    /** The port's connector state. */
    void *ctx;
} hal_net_t;

#ifdef __cplusplus
}
#endif

#endif /* HAL_IO_H */
