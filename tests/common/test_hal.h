/* SPDX-License-Identifier: Apache-2.0 */
/* In-memory HAL for unit tests: RAM store with fault injection, log capture, fake clocks. */
#ifndef TEST_HAL_H
#define TEST_HAL_H

#include <stddef.h>
#include <stdint.h>

#include "hal/hal.h"

/** Forget every stored record and captured log line; reset clocks and fault counters. */
void test_hal_reset(void);

/** Make the n-th following hal_store_put() fail with EAS_ERR_STORE (1 = the next one). */
void test_hal_store_fail_after(int n);
/** Number of records in the RAM store. */
size_t test_hal_store_count(void);

/** Set the value returned by hal_time_monotonic_ms() / hal_time_utc(). */
void test_hal_set_time(uint64_t mono_ms, int64_t utc_s);

/** Captured log: all lines joined with '\n'; the number of lines at >= level. */
const char *test_hal_log_text(void);
size_t test_hal_log_count(hal_log_level_t max_level);

#endif
