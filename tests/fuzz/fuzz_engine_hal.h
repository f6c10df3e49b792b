/* SPDX-License-Identifier: Apache-2.0 */
/* RAM store + deterministic RNG for the engine harness (fuzz_engine_hal.c). */
#ifndef FUZZ_ENGINE_HAL_H
#define FUZZ_ENGINE_HAL_H

#include <stddef.h>

#include "hal/hal.h"

/** The services for eas_engine_init(): this RAM store, the RNG, no log. */
const hal_sys_t *fuzz_hal(void);

/** Forget every record; from now on every @p fail_every_nth_put-th put fails (0: none). */
void fuzz_store_reset(unsigned fail_every_nth_put);

/** Count of successful puts and deletes so far (cheap "did anything change" test). */
unsigned fuzz_store_changes(void);

/** Call @p fn for every stored record; stops at the first nonzero return and returns it. */
int fuzz_store_each(int (*fn)(void *user, const char *key, size_t len), void *user);

#endif
