/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private logging macros of the core. A call below CONFIG_EAS_LOG_LEVEL compiles to
 * nothing (arguments are not evaluated). Never pass credentials, tokens or bodies.
 *
 *   EAS_LOGE("http", "bad chunk size at %u", (unsigned)off);
 */
#ifndef EAS_LOG_H
#define EAS_LOG_H

#include "eas/eas_config_defaults.h"
#include "hal/hal_log.h"

#if defined(__GNUC__)
#define EAS_PRINTF_(f, a) __attribute__((format(printf, f, a)))
#else
#define EAS_PRINTF_(f, a)
#endif

/* Formats into a CONFIG_EAS_LOG_LINE_MAX stack buffer (truncating) and calls hal_log_write. */
void eas_log_emit(hal_log_level_t level, const char *module, const char *fmt, ...)
    EAS_PRINTF_(3, 4);

#if CONFIG_EAS_LOG_LEVEL >= 1
#define EAS_LOGE(mod, ...) eas_log_emit(HAL_LOG_ERROR, (mod), __VA_ARGS__)
#else
#define EAS_LOGE(mod, ...) ((void)0)
#endif
#if CONFIG_EAS_LOG_LEVEL >= 2
#define EAS_LOGW(mod, ...) eas_log_emit(HAL_LOG_WARN, (mod), __VA_ARGS__)
#else
#define EAS_LOGW(mod, ...) ((void)0)
#endif
#if CONFIG_EAS_LOG_LEVEL >= 3
#define EAS_LOGI(mod, ...) eas_log_emit(HAL_LOG_INFO, (mod), __VA_ARGS__)
#else
#define EAS_LOGI(mod, ...) ((void)0)
#endif
#if CONFIG_EAS_LOG_LEVEL >= 4
#define EAS_LOGD(mod, ...) eas_log_emit(HAL_LOG_DEBUG, (mod), __VA_ARGS__)
#else
#define EAS_LOGD(mod, ...) ((void)0)
#endif

#endif /* EAS_LOG_H */
