/* SPDX-License-Identifier: Apache-2.0 */
/* HAL singletons for fuzz harnesses: logging is dropped (it would only slow fuzzing). */
#include <stddef.h>

#include "hal/hal_log.h"

void hal_log_write(hal_log_level_t level, const char *module, const char *msg, size_t len)
{
    (void)level;
    (void)module;
    (void)msg;
    (void)len;
}
