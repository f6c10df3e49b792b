/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file fw_board.h
 * @brief What a board gives the board-independent firmware code (self-test, later the
 *        sync application): console, exit status, stack measurement, heap watchdog.
 *
 * The easd HAL services are the board's too: store, random source and log sink reach the
 * core through fw_board_hal() (a ::hal_sys_t, no link-time binding); the clocks of
 * hal_time.h are link-time functions the firmware itself calls.
 */
#ifndef FW_BOARD_H
#define FW_BOARD_H

#include <stddef.h>
#include <stdint.h>

#include "hal/hal.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @brief The board's store, random source and log sink for eas_engine_init(). */
const hal_sys_t *fw_board_hal(void);
/** The functions behind fw_board_hal() (hal_store.h / hal_rng.h / hal_log.h contracts). */
int fw_store_put(const char *key, const uint8_t *data, size_t len);
int fw_store_get(const char *key, uint8_t *buf, size_t cap, size_t *len);
int fw_store_del(const char *key);
int fw_rng_fill(uint8_t *buf, size_t len);
void fw_log_write(hal_log_level_t level, const char *module, const char *msg, size_t len);

/** @brief Bring up clocks, the console UART and the millisecond tick. Call first. */
void fw_board_init(void);

/** @brief Board name for the banner ("mps2-an385"). */
const char *fw_board_name(void);

/** @brief CPU name the image was compiled for ("cortex-m3"). */
const char *fw_board_cpu(void);

/** @brief Write @p len bytes to the console (blocking, polled; CR added before LF). */
void fw_console_write(const char *s, size_t len);

/** @brief Write a NUL-terminated string to the console. */
void fw_console_puts(const char *s);

/**
 * @brief Fill the unused part of the stack (below the caller's frame) with a pattern so
 *        that fw_stack_peak() can later tell how deep the stack went.
 */
void fw_stack_paint(void);

/** @brief Deepest stack use, in bytes from the top, since the last fw_stack_paint(). */
size_t fw_stack_peak(void);

/** @brief Stack in use at the caller, in bytes from the top. */
size_t fw_stack_now(void);

/** @brief Size of the stack region reserved by the linker script. */
size_t fw_stack_size(void);

/** @brief Statically allocated RAM (.data + .bss) in bytes, from linker symbols. */
size_t fw_static_ram(void);

/**
 * @brief How many times anything asked newlib for heap (_sbrk). The image has no heap:
 *        every request fails, and the count lets the self-test prove none happened.
 */
uint32_t fw_heap_requests(void);

/** @brief Lines written through the board's log sink so far. */
uint32_t fw_log_lines(void);

/** @brief Set the wall clock (seconds since 1970 UTC); hal_time_utc() fails until then. */
void fw_set_utc(int64_t unix_seconds);

/**
 * @brief The image's command line, when whoever runs it supplies one (QEMU: -append, via
 *        semihosting). @return 0 and a NUL-terminated @p buf, or -1 (buf then empty).
 */
int fw_board_cmdline(char *buf, size_t cap);

/** @brief Stop and report @p status to whoever runs the board (QEMU: its exit status). */
_Noreturn void fw_exit(int status);

#ifdef __cplusplus
}
#endif

#endif /* FW_BOARD_H */
