/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file mps2_port.h
 * @brief The easd bare-metal port for the MPS2 boards (QEMU mps2-an385 / an386): lwIP
 *        (NO_SYS, raw TCP) on a polled LAN9118, mbedtls TLS 1.2 client on a static heap,
 *        exposed to the core as a ::hal_net_t connector (hal/include/hal/hal_io.h).
 *
 * The application's super-loop:
 * @code
 * mps2_net_init(&netcfg);  mps2_tls_init(ca_der, ca_len);
 * hal_net_t net = mps2_net_connector();
 * for (;;) {
 *     mps2_net_poll();                               // frames in, lwIP timers
 *     eas_step(&eng, mps2_net_step_event(&eng), now, &deadline);
 *     if (!mps2_net_pending()) wait for the next tick (wfi)
 * }
 * @endcode
 * Everything here is single-threaded: call it from the super-loop only (no interrupts).
 */
#ifndef MPS2_PORT_H
#define MPS2_PORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hal/hal.h"
#include "hal/hal_io.h"

#ifdef __cplusplus
extern "C" {
#endif

/** One static host name → IPv4 mapping (the port has no DNS resolver). */
typedef struct mps2_host {
    const char *name; /**< host name as in the account URL */
    uint8_t ip[4];
} mps2_host_t;

/** Network configuration (static IPv4). */
typedef struct mps2_net_cfg {
    uint8_t ip[4], netmask[4], gateway[4];
    const mps2_host_t *hosts; /**< names the connector resolves; dotted quads always work */
    size_t host_count;
    /** The board's services (hal/hal.h): its random source (lwIP, TLS seeding) and log sink.
        Must outlive the port. */
    const hal_sys_t *sys;
} mps2_net_cfg_t;

/** Bring up the LAN9118 and lwIP. @return EAS_OK or EAS_ERR_IO (no controller). */
int mps2_net_init(const mps2_net_cfg_t *cfg);

/** Feed received frames to lwIP and run its timers. Call on every loop iteration. */
void mps2_net_poll(void);

/** True when a connection has unread data or a state change the core has not seen. */
bool mps2_net_pending(void);

/** Clear the "pending" flag after the core has been stepped. */
void mps2_net_clear_pending(void);

/** The connector for eas_engine_init(). */
hal_net_t mps2_net_connector(void);

/**
 * @brief Set up mbedtls: the static heap, CTR-DRBG seeded from the board's random source
 *        (mps2_net_cfg_t::sys), the trusted CAs (@p ca_der: one or more DER certificates back
 *        to back) and the client configuration (verify required, TLS 1.2, dates checked
 *        against the clock of mps2_tls_time_floor()).
 * @return EAS_OK, EAS_ERR_TLS_CA (CA does not parse), or EAS_ERR_TLS.
 */
int mps2_tls_init(const uint8_t *ca_der, size_t ca_len);

/**
 * @brief The clock the certificate checks use. Without a trusted UTC clock the port only
 *        knows a lower bound of the time: the image's build day (UTC midnight, seconds since
 *        1970; SOURCE_DATE_EPOCH or -DEASD_FW_TIME_FLOOR= override it) plus the uptime. A
 *        certificate whose validity ended before that is refused (EAS_ERR_TLS_CERT_EXPIRED);
 *        "not yet valid" is only refused (EAS_ERR_TLS_CERT_FUTURE) once the board's
 *        hal_time_utc() is set (RTC, SNTP, fw_set_utc) to a time not before the floor.
 */
int64_t mps2_tls_time_floor(void);
/** True when hal_time_utc() is set and not before mps2_tls_time_floor() (see above). */
bool mps2_tls_clock_trusted(void);

/** Peak bytes of the mbedtls heap in use so far, and its size. */
size_t mps2_tls_heap_peak(void);
size_t mps2_tls_heap_size(void);

/** Connections opened / TLS handshakes completed (for the boot report). */
uint32_t mps2_net_connections(void);
uint32_t mps2_tls_handshakes(void);

#ifdef __cplusplus
}
#endif

#endif /* MPS2_PORT_H */
