/* SPDX-License-Identifier: Apache-2.0 */
/* Board-internal interface between the mps2-an385 files. */
#ifndef FW_BOARD_AN385_H
#define FW_BOARD_AN385_H

#include <stdint.h>

#ifndef FW_CPU_NAME
#define FW_CPU_NAME "cortex-m3"
#endif

/** Milliseconds since fw_board_init(), from the SysTick interrupt. */
uint64_t fw_an385_ticks_ms(void);

/** Number of _sbrk calls (syscalls.c). */
uint32_t fw_an385_sbrk_calls(void);

#endif /* FW_BOARD_AN385_H */
