/* SPDX-License-Identifier: Apache-2.0 */
/* In-memory HAL for unit tests: RAM store with fault injection, log capture, fake clocks. */
#ifndef TEST_HAL_H
#define TEST_HAL_H

#include <stddef.h>
#include <stdint.h>

#include "hal/hal.h"

/** The services for eas_engine_init(): the RAM store, a deterministic random source and the
    log capture below. Static storage. */
const hal_sys_t *test_hal(void);
/** Its log sink alone (for modules that take a hal_log_t, e.g. the HTTP client). */
const hal_log_t *test_hal_log(void);

/** The RAM store, random source and log sink behind test_hal(), for direct use in tests. */
int test_hal_store_put(const char *key, const uint8_t *data, size_t len);
int test_hal_store_get(const char *key, uint8_t *buf, size_t cap, size_t *len);
int test_hal_store_del(const char *key);
int test_hal_rng_fill(uint8_t *buf, size_t len);
void test_hal_log_write(hal_log_level_t level, const char *module, const char *msg, size_t len);

/** Forget every stored record and captured log line; reset clocks and fault counters. */
void test_hal_reset(void);

/** Make the n-th following store put fail with EAS_ERR_STORE (1 = the next one). */
void test_hal_store_fail_after(int n);
/** Number of records in the RAM store. */
size_t test_hal_store_count(void);

/** Set the value returned by hal_time_monotonic_ms() / hal_time_utc(). */
void test_hal_set_time(uint64_t mono_ms, int64_t utc_s);

/** Captured log: all lines joined with '\n'; the number of lines at >= level. */
const char *test_hal_log_text(void);
size_t test_hal_log_count(hal_log_level_t max_level);

#endif
