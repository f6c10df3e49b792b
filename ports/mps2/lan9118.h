/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file lan9118.h
 * @brief Polled driver for the SMSC LAN9118 Ethernet controller of the MPS2 boards (QEMU
 *        models it on mps2-an385/an386 at 0x40200000). No interrupts, no DMA: the super-loop
 *        calls lan9118_recv() until it returns 0.
 */
#ifndef MPS2_LAN9118_H
#define MPS2_LAN9118_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Base address of the controller on the MPS2 FPGA images (AN385, AN386). */
#define LAN9118_MPS2_BASE 0x40200000u

/** Largest frame the driver moves (Ethernet header + 1500 + 4 CRC, rounded up). */
#define LAN9118_FRAME_MAX 1536u

/**
 * @brief Check the chip, reset it, enable transmitter and receiver and read the MAC address.
 * @return 0, or -1 when no LAN9118 answers at @p base (BYTE_TEST pattern wrong).
 */
int lan9118_init(uintptr_t base, uint8_t mac[6]);

/**
 * @brief Queue one frame (without CRC) for transmission.
 * @return 0, or -1 when the frame is too large or the TX FIFO has no room now.
 */
int lan9118_send(uintptr_t base, const uint8_t *frame, size_t len);

/**
 * @brief Take the next received frame (CRC removed) into @p buf.
 * @return its length, 0 when none is waiting, or -1 when a frame was dropped (receive error
 *         or larger than @p cap).
 */
int lan9118_recv(uintptr_t base, uint8_t *buf, size_t cap);

#ifdef __cplusplus
}
#endif

#endif /* MPS2_LAN9118_H */
