/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private logging macros of the core. A call below CONFIG_EAS_LOG_LEVEL compiles to
 * nothing (arguments are not evaluated). Never pass credentials, tokens or bodies.
 * The sink is the caller's context's ::hal_log_t (engine, HTTP client); NULL or a NULL
 * write drops the line. The core has no global sink.
 *
 *   EAS_LOGE(cli->log, "http", "bad chunk size at %u", (unsigned)off);
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

/* Formats into a CONFIG_EAS_LOG_LINE_MAX stack buffer (truncating) and calls log->write. */
void eas_log_emit(const hal_log_t *log, hal_log_level_t level, const char *module, const char *fmt,
                  ...) EAS_PRINTF_(4, 5);

#if CONFIG_EAS_LOG_LEVEL >= 1
#define EAS_LOGE(log, mod, ...) eas_log_emit((log), HAL_LOG_ERROR, (mod), __VA_ARGS__)
#else
#define EAS_LOGE(log, mod, ...) ((void)(log))
#endif
#if CONFIG_EAS_LOG_LEVEL >= 2
#define EAS_LOGW(log, mod, ...) eas_log_emit((log), HAL_LOG_WARN, (mod), __VA_ARGS__)
#else
#define EAS_LOGW(log, mod, ...) ((void)(log))
#endif
#if CONFIG_EAS_LOG_LEVEL >= 3
#define EAS_LOGI(log, mod, ...) eas_log_emit((log), HAL_LOG_INFO, (mod), __VA_ARGS__)
#else
#define EAS_LOGI(log, mod, ...) ((void)(log))
#endif
#if CONFIG_EAS_LOG_LEVEL >= 4
#define EAS_LOGD(log, mod, ...) eas_log_emit((log), HAL_LOG_DEBUG, (mod), __VA_ARGS__)
#else
#define EAS_LOGD(log, mod, ...) ((void)(log))
#endif

#endif /* EAS_LOG_H */
