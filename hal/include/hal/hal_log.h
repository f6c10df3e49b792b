/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file hal_log.h
 * @brief The log sink. The core formats a line and hands it over; the port writes it
 * (stderr, syslog, a UART, a ring buffer).
 */
#ifndef HAL_LOG_H
#define HAL_LOG_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Log levels; numerically equal to CONFIG_EAS_LOG_LEVEL thresholds. */
typedef enum hal_log_level {
    HAL_LOG_ERROR = 1,
    HAL_LOG_WARN = 2,
    HAL_LOG_INFO = 3,
    HAL_LOG_DEBUG = 4
} hal_log_level_t;

/** The log sink, handed to the core at init (see ::hal_sys_t). */
typedef struct hal_log {
    /**
     * @brief Write one log line. NULL: the core logs nothing.
     *
     * @param level  severity.
     * @param module short module name ("wbxml", "http", "engine"), static storage.
     * @param msg    the message, @p len bytes, not NUL-terminated, without a trailing
     *               newline. Never contains credentials, tokens or message bodies (the
     *               core's rule).
     * Must not block for long (it may be called on every state change); must not call back
     * into the core; never fails (a sink that cannot write drops the line).
     */
    void (*write)(void *ctx, hal_log_level_t level, const char *module, const char *msg,
                  size_t len);
    /** The port's context; opaque to the core. */
    void *ctx;
} hal_log_t;

#ifdef __cplusplus
}
#endif

#endif /* HAL_LOG_H */
