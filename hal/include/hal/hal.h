/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file hal.h
 * @brief The hardware-abstraction contract between the easd core and a port.
 *
 * The core calls the port only through function pointers it is given; it references no
 * port function by name, so link order does not matter, two accounts (or a test) can use
 * different stores, and a mock is just another struct.
 *
 * | service    | header       | binding                                              |
 * |------------|--------------|------------------------------------------------------|
 * | connection | hal_io.h     | per connection: ::hal_io_t, opened by the connector  |
 * | connector  | hal_io.h     | ::hal_net_t, given to eas_engine_init()               |
 * | store      | hal_store.h  | ::hal_store_t in ::hal_sys_t, given to eas_engine_init() |
 * | random     | hal_rng.h    | ::hal_rng_t in ::hal_sys_t                            |
 * | log sink   | hal_log.h    | ::hal_log_t in ::hal_sys_t (and the HTTP client config) |
 * | time       | hal_time.h   | not called by the core: a port-side facility (the    |
 * |            |              | application passes the time to eas_step())           |
 *
 * Every fallible function returns EAS_OK (0) or a negative eas_err_t (eas/eas_err.h).
 */
#ifndef HAL_H
#define HAL_H

#include "hal/hal_io.h"
#include "hal/hal_log.h"
#include "hal/hal_rng.h"
#include "hal/hal_store.h"
#include "hal/hal_time.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * The services of a port the engine needs besides the network: its store, its random
 * source and its log sink. eas_engine_init() copies the struct; the contexts it points to
 * must outlive the engine. A port offers a ready-made one (the Linux port:
 * easd_linux_hal()).
 */
typedef struct hal_sys {
    hal_store_t store; /**< required */
    hal_rng_t rng;     /**< required */
    hal_log_t log;     /**< optional: log.write NULL logs nothing */
} hal_sys_t;

#ifdef __cplusplus
}
#endif

#endif /* HAL_H */
