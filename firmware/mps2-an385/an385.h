/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Register map of the parts of the AN385 image (Cortex-M3 on MPS2) this board code uses.
 * Addresses checked against QEMU's mps2-an385 machine (`info mtree`): code SSRAM1 at
 * 0x00000000 (4 MB), SSRAM2/3 at 0x20000000 (4 MB), CMSDK APB UART0 at 0x40004000.
 */
#ifndef AN385_H
#define AN385_H

#include <stdint.h>

#define AN385_REG(addr) (*(volatile uint32_t *)(uintptr_t)(addr))

/* CPU and peripheral clock of the FPGA image (QEMU models 25 MHz too). */
#define AN385_SYSCLK_HZ 25000000u

/* CMSDK APB UART0. */
#define AN385_UART0_BASE        0x40004000u
#define AN385_UART_DATA(b)      AN385_REG((b) + 0x00u)
#define AN385_UART_STATE(b)     AN385_REG((b) + 0x04u)
#define AN385_UART_CTRL(b)      AN385_REG((b) + 0x08u)
#define AN385_UART_BAUDDIV(b)   AN385_REG((b) + 0x10u)
#define AN385_UART_STATE_TXFULL 0x1u
#define AN385_UART_CTRL_TXEN    0x1u

/* SysTick (ARMv7-M system control space). */
#define AN385_SYST_CSR           AN385_REG(0xE000E010u)
#define AN385_SYST_RVR           AN385_REG(0xE000E014u)
#define AN385_SYST_CVR           AN385_REG(0xE000E018u)
#define AN385_SYST_CSR_ENABLE    0x1u
#define AN385_SYST_CSR_TICKINT   0x2u
#define AN385_SYST_CSR_CLKSOURCE 0x4u

/* System control block. */
#define AN385_SCB_AIRCR            AN385_REG(0xE000ED0Cu)
#define AN385_SCB_AIRCR_RESET      0x05FA0004u /* VECTKEY | SYSRESETREQ */
#define AN385_SCB_CCR              AN385_REG(0xE000ED14u)
#define AN385_SCB_CCR_DIV_0_TRP    0x10u
#define AN385_SCB_SHCSR            AN385_REG(0xE000ED24u)
#define AN385_SCB_SHCSR_FAULTS_ENA 0x70000u /* MEMFAULTENA | BUSFAULTENA | USGFAULTENA */
#define AN385_SCB_CFSR             AN385_REG(0xE000ED28u)
#define AN385_SCB_HFSR             AN385_REG(0xE000ED2Cu)

#endif /* AN385_H */
