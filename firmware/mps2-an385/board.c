/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mps2-an385 board support: console on CMSDK UART0, a 1 ms SysTick, stack painting and
 * the exit path (Arm semihosting, which QEMU turns into its own exit status).
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "an385.h"
#include "fw_board.h"
#include "fw_board_an385.h"

#ifndef FW_CONSOLE_BAUD
#define FW_CONSOLE_BAUD 115200u
#endif

/* Word written over the free stack; any other value below the top means "was used". */
#define FW_STACK_PATTERN 0xC0FFEE55u

/* Linker-script symbols (an385.ld). */
extern uint32_t __stack_limit;
extern uint32_t __stack_top;
extern uint32_t __data_start;
extern uint32_t __bss_end;

/* Written by the SysTick interrupt, read by thread code with interrupts masked (64-bit
 * accesses are two instructions on a Cortex-M3). */
static volatile uint64_t fw_ticks_ms;

void SysTick_Handler(void);

void SysTick_Handler(void)
{
    fw_ticks_ms = fw_ticks_ms + 1u;
}

static uint32_t irq_save(void)
{
    uint32_t primask;

    __asm__ volatile("mrs %0, primask\n\tcpsid i" : "=r"(primask)::"memory");
    return primask;
}

static void irq_restore(uint32_t primask)
{
    __asm__ volatile("msr primask, %0" ::"r"(primask) : "memory");
}

static uintptr_t current_sp(void)
{
    uintptr_t sp;

    __asm__ volatile("mov %0, sp" : "=r"(sp));
    return sp;
}

void fw_board_init(void)
{
    AN385_UART_BAUDDIV(AN385_UART0_BASE) = AN385_SYSCLK_HZ / FW_CONSOLE_BAUD;
    AN385_UART_CTRL(AN385_UART0_BASE) = AN385_UART_CTRL_TXEN;

    AN385_SYST_RVR = (AN385_SYSCLK_HZ / 1000u) - 1u;
    AN385_SYST_CVR = 0u;
    AN385_SYST_CSR = AN385_SYST_CSR_CLKSOURCE | AN385_SYST_CSR_TICKINT | AN385_SYST_CSR_ENABLE;
}

const char *fw_board_name(void)
{
    return "mps2-an385";
}

const char *fw_board_cpu(void)
{
    return FW_CPU_NAME;
}

uint64_t fw_an385_ticks_ms(void)
{
    uint32_t key = irq_save();
    uint64_t now = fw_ticks_ms;

    irq_restore(key);
    return now;
}

static void uart_putc(char c)
{
    while ((AN385_UART_STATE(AN385_UART0_BASE) & AN385_UART_STATE_TXFULL) != 0u) {
    }
    AN385_UART_DATA(AN385_UART0_BASE) = (uint32_t)(uint8_t)c;
}

void fw_console_write(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '\n') {
            uart_putc('\r');
        }
        uart_putc(s[i]);
    }
}

void fw_console_puts(const char *s)
{
    fw_console_write(s, strlen(s));
}

void fw_stack_paint(void)
{
    /* Leave a margin below our own frame: this function's locals live there. */
    uint32_t *end = (uint32_t *)((current_sp() - 64u) & ~(uintptr_t)3u);

    for (uint32_t *p = &__stack_limit; p < end; p++) {
        *p = FW_STACK_PATTERN;
    }
}

size_t fw_stack_peak(void)
{
    const uint32_t *p = &__stack_limit;

    while (p < &__stack_top && *p == FW_STACK_PATTERN) {
        p++;
    }
    return (size_t)((uintptr_t)&__stack_top - (uintptr_t)p);
}

size_t fw_stack_now(void)
{
    return (size_t)((uintptr_t)&__stack_top - current_sp());
}

size_t fw_stack_size(void)
{
    return (size_t)((uintptr_t)&__stack_top - (uintptr_t)&__stack_limit);
}

size_t fw_static_ram(void)
{
    return (size_t)((uintptr_t)&__bss_end - (uintptr_t)&__data_start);
}

/* Arm semihosting: operation in r0, argument in r1, BKPT 0xAB traps to the debugger (QEMU
 * with -semihosting-config enable=on). */
static uint32_t semihost(uint32_t op, const void *arg)
{
    register uint32_t r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;

    __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

#define SEMIHOST_SYS_GET_CMDLINE   0x15u
#define SEMIHOST_SYS_EXIT          0x18u
#define SEMIHOST_SYS_EXIT_EXTENDED 0x20u
#define SEMIHOST_APP_EXIT          0x20026u /* ADP_Stopped_ApplicationExit */
#define SEMIHOST_RUNTIME_ERROR     0x20023u /* ADP_Stopped_RunTimeErrorUnknown */

int fw_board_cmdline(char *buf, size_t cap)
{
    uint32_t block[2] = {(uint32_t)(uintptr_t)buf, (uint32_t)cap};
    int err = -1;

    if (buf != NULL && cap > 0u) {
        buf[0] = '\0';
        /* On return block[1] holds the length written, without the NUL. */
        if (semihost(SEMIHOST_SYS_GET_CMDLINE, block) == 0u && block[1] < cap) {
            buf[block[1]] = '\0';
            err = 0;
        }
    }
    return err;
}

_Noreturn void fw_exit(int status)
{
    const uint32_t block[2] = {SEMIHOST_APP_EXIT, (uint32_t)status};
    char line[] = "EXIT: ....\n";
    uint32_t v = ((uint32_t)status > 255u) ? 255u : (uint32_t)status;
    size_t pos = 6u;

    /* Hand-rolled: this runs from fault handlers, where snprintf is not wanted. */
    if (v >= 100u) {
        line[pos++] = (char)('0' + v / 100u);
    }
    if (v >= 10u) {
        line[pos++] = (char)('0' + (v / 10u) % 10u);
    }
    line[pos++] = (char)('0' + v % 10u);
    line[pos++] = '\n';
    line[pos] = '\0';
    fw_console_puts(line);
    (void)irq_save();
    /* The extended call carries the status; plain SYS_EXIT only says success/failure. */
    (void)semihost(SEMIHOST_SYS_EXIT_EXTENDED, block);
    (void)semihost(
        SEMIHOST_SYS_EXIT,
        (const void *)(uintptr_t)(status == 0 ? SEMIHOST_APP_EXIT : SEMIHOST_RUNTIME_ERROR));
    /* No debugger answered: reset the board (QEMU with -no-reboot stops here). */
    AN385_SCB_AIRCR = AN385_SCB_AIRCR_RESET;
    for (;;) {
        __asm__ volatile("wfi");
    }
}
