/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file hal.h
 * @brief The hardware-abstraction contract between the easd core and a port.
 *
 * | service    | header       | binding                                  |
 * |------------|--------------|------------------------------------------|
 * | connection | hal_io.h     | per connection: struct of function ptrs  |
 * | connector  | hal_io.h     | hal_net_t supplied by the application     |
 * | time       | hal_time.h   | link-time functions                      |
 * | store      | hal_store.h  | link-time functions                      |
 * | random     | hal_rng.h    | link-time function                       |
 * | log sink   | hal_log.h    | link-time function                       |
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

#endif /* HAL_H */
