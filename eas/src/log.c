/* SPDX-License-Identifier: Apache-2.0 */
#include <stdarg.h>
#include <stdio.h>

#include "eas_log.h"

#if CONFIG_EAS_LOG_LEVEL >= 1
void eas_log_emit(const hal_log_t *log, hal_log_level_t level, const char *module, const char *fmt,
                  ...)
{
    char line[CONFIG_EAS_LOG_LINE_MAX];
    va_list ap;
    int n;
    size_t len = 0u;

    if (!log || !log->write) {
        return;
    }
    va_start(ap, fmt);
    n = vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (n > 0) {
        /* Truncated lines are still written: a cut message beats none. */
        len = ((size_t)n < sizeof(line)) ? (size_t)n : (sizeof(line) - 1u);
        log->write(log->ctx, level, module, line, len);
    }
}
#endif
