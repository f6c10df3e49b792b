/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file hal_time.h
 * @brief Clocks. The core takes time as an argument (eas_step's now_ms) and never reads a
 * clock itself; these are for ports, tools and the application that drive it.
 */
#ifndef HAL_TIME_H
#define HAL_TIME_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief Monotonic milliseconds since an arbitrary origin (boot).
 *
 * Never goes backwards, never jumps with wall-clock changes, does not wrap in the
 * device's lifetime (64 bits). Callable from any context; never blocks; never fails.
 */
uint64_t hal_time_monotonic_ms(void);

/**
 * @brief UTC wall clock as seconds since 1970-01-01T00:00:00Z.
 *
 * @param[out] unix_seconds the current time.
 * @return EAS_OK, or EAS_ERR_STATE when the clock has not been set (a device without an
 *         RTC before its first network time): callers must not use the value then.
 */
int hal_time_utc(int64_t *unix_seconds);

#ifdef __cplusplus
}
#endif

#endif /* HAL_TIME_H */
