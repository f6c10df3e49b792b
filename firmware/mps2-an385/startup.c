/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Vector table and reset handler for the Cortex-M3 of the AN385 FPGA image, in C so the
 * image needs no assembler file. The linker script places .isr_vector at the start of the
 * code memory (0x00000000), where the core fetches its initial SP and reset vector.
 */
#include <stdint.h>
#include <string.h>

#include "an385.h"
#include "fw_board.h"

/* Linker-script symbols (an385.ld). */
extern uint32_t __stack_top;
extern uint32_t __data_load;
extern uint32_t __data_start;
extern uint32_t __data_end;
extern uint32_t __bss_start;
extern uint32_t __bss_end;

int main(void);
void Reset_Handler(void);
void Default_Handler(void);
void HardFault_Handler(void);
void SysTick_Handler(void);
void NMI_Handler(void) __attribute__((weak, alias("Default_Handler")));
void MemManage_Handler(void) __attribute__((weak, alias("HardFault_Handler")));
void BusFault_Handler(void) __attribute__((weak, alias("HardFault_Handler")));
void UsageFault_Handler(void) __attribute__((weak, alias("HardFault_Handler")));
void SVC_Handler(void) __attribute__((weak, alias("Default_Handler")));
void DebugMon_Handler(void) __attribute__((weak, alias("Default_Handler")));
void PendSV_Handler(void) __attribute__((weak, alias("Default_Handler")));

typedef void (*fw_vector_t)(void);

/* 16 system exceptions + the AN385's 32 external interrupts. */
#define FW_VECTORS (16 + 32)

__attribute__((section(".isr_vector"), used)) const fw_vector_t fw_vector_table[FW_VECTORS] = {
    [0] = (fw_vector_t)(uintptr_t)&__stack_top,
    [1] = Reset_Handler,
    [2] = NMI_Handler,
    [3] = HardFault_Handler,
    [4] = MemManage_Handler,
    [5] = BusFault_Handler,
    [6] = UsageFault_Handler,
    [11] = SVC_Handler,
    [12] = DebugMon_Handler,
    [14] = PendSV_Handler,
    [15] = SysTick_Handler,
    [16 ... FW_VECTORS - 1] = Default_Handler,
};

void Reset_Handler(void)
{
    size_t data_len = (size_t)((uintptr_t)&__data_end - (uintptr_t)&__data_start);
    size_t bss_len = (size_t)((uintptr_t)&__bss_end - (uintptr_t)&__bss_start);

    /* .data's initial values live in code memory (flash on a real board). */
    memcpy(&__data_start, &__data_load, data_len);
    memset(&__bss_start, 0, bss_len);
    /* Catch division by zero and unaligned access instead of silently carrying on. */
    AN385_SCB_CCR |= AN385_SCB_CCR_DIV_0_TRP;
    /* Separate fault handlers, so a bus or usage fault says which it was. */
    AN385_SCB_SHCSR |= AN385_SCB_SHCSR_FAULTS_ENA;
    fw_stack_paint();
    fw_exit(main());
}

void Default_Handler(void)
{
    fw_console_puts("\nFATAL: unexpected interrupt\n");
    fw_exit(3);
}

void HardFault_Handler(void)
{
    static const char hex[] = "0123456789abcdef";
    char line[] = "\nFATAL: fault, CFSR=0x........ HFSR=0x........\n";
    uint32_t cfsr = AN385_SCB_CFSR;
    uint32_t hfsr = AN385_SCB_HFSR;

    for (unsigned i = 0; i < 8u; i++) {
        line[22u + i] = hex[(cfsr >> (28u - 4u * i)) & 0xFu];
        line[38u + i] = hex[(hfsr >> (28u - 4u * i)) & 0xFu];
    }
    fw_console_puts(line);
    fw_exit(2);
}
