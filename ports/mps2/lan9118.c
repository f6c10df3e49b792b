/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Polled LAN9118 driver, written from the SMSC LAN9118 data sheet's register description
 * (the subset QEMU's model implements): the data FIFOs are 32-bit little-endian words, a
 * frame to send is two command words plus its bytes, a received frame is one status word
 * (length incl. CRC, error bit) plus its bytes and CRC.
 */
#include "lan9118.h"

#include <string.h>

#define REG(b, off) (*(volatile uint32_t *)((b) + (off)))

#define RX_DATA_FIFO    0x00u
#define TX_DATA_FIFO    0x20u
#define RX_STATUS_FIFO  0x40u
#define TX_STATUS_FIFO  0x48u
#define ID_REV          0x50u
#define INT_EN          0x5cu
#define BYTE_TEST       0x64u
#define RX_CFG          0x6cu
#define TX_CFG          0x70u
#define HW_CFG          0x74u
#define RX_DP_CTRL      0x78u
#define RX_FIFO_INF     0x7cu
#define TX_FIFO_INF     0x80u
#define MAC_CSR_CMD     0xa4u
#define MAC_CSR_DATA    0xa8u

#define BYTE_TEST_VALUE 0x87654321u
#define HW_CFG_SRST     0x00000001u
#define TX_CFG_TX_ON    0x00000002u
#define TX_CFG_TXSAO    0x00000004u /* status FIFO may overrun: nobody reads it */
#define RX_DP_FFWD      0x80000000u
#define CSR_BUSY        0x80000000u
#define CSR_READ        0x40000000u

#define MAC_CR    1u
#define MAC_ADDRH 2u
#define MAC_ADDRL 3u
#define MAC_CR_FDPX 0x00100000u
#define MAC_CR_TXEN 0x00000008u
#define MAC_CR_RXEN 0x00000004u

#define TXCMD_A_FIRST 0x00002000u
#define TXCMD_A_LAST  0x00001000u
#define RXSTS_ERROR   0x00008000u

static int csr_wait(uintptr_t b)
{
    for (unsigned i = 0; i < 100000u; i++) {
        if ((REG(b, MAC_CSR_CMD) & CSR_BUSY) == 0) {
            return 0;
        }
    }
    return -1;
}

static uint32_t mac_read(uintptr_t b, uint32_t reg)
{
    (void)csr_wait(b);
    REG(b, MAC_CSR_CMD) = CSR_BUSY | CSR_READ | reg;
    (void)csr_wait(b);
    return REG(b, MAC_CSR_DATA);
}

static void mac_write(uintptr_t b, uint32_t reg, uint32_t val)
{
    (void)csr_wait(b);
    REG(b, MAC_CSR_DATA) = val;
    REG(b, MAC_CSR_CMD) = CSR_BUSY | reg;
    (void)csr_wait(b);
}

int lan9118_init(uintptr_t b, uint8_t mac[6])
{
    if (REG(b, BYTE_TEST) != BYTE_TEST_VALUE) {
        return -1;
    }
    REG(b, HW_CFG) = HW_CFG_SRST;
    for (unsigned i = 0; i < 100000u && (REG(b, HW_CFG) & HW_CFG_SRST) != 0; i++) {
    }
    REG(b, INT_EN) = 0; /* polled */
    REG(b, RX_CFG) = 0; /* no offset, no end padding */
    REG(b, TX_CFG) = TX_CFG_TX_ON | TX_CFG_TXSAO;
    mac_write(b, MAC_CR, MAC_CR_FDPX | MAC_CR_TXEN | MAC_CR_RXEN);

    uint32_t lo = mac_read(b, MAC_ADDRL), hi = mac_read(b, MAC_ADDRH);
    mac[0] = (uint8_t)lo;
    mac[1] = (uint8_t)(lo >> 8);
    mac[2] = (uint8_t)(lo >> 16);
    mac[3] = (uint8_t)(lo >> 24);
    mac[4] = (uint8_t)hi;
    mac[5] = (uint8_t)(hi >> 8);
    return 0;
}

int lan9118_send(uintptr_t b, const uint8_t *frame, size_t len)
{
    if (len == 0 || len > LAN9118_FRAME_MAX - 4u) {
        return -1;
    }
    /* TDFREE: free bytes in the TX data FIFO; the two command words need room too. */
    if ((REG(b, TX_FIFO_INF) & 0xffffu) < len + 8u) {
        return -1;
    }
    REG(b, TX_DATA_FIFO) = TXCMD_A_FIRST | TXCMD_A_LAST | (uint32_t)len;
    REG(b, TX_DATA_FIFO) = ((uint32_t)len << 16) | (uint32_t)len; /* tag = length */
    for (size_t i = 0; i < len; i += 4) {
        uint32_t w = 0;
        size_t n = len - i < 4 ? len - i : 4;
        for (size_t k = 0; k < n; k++) {
            w |= (uint32_t)frame[i + k] << (8u * k);
        }
        REG(b, TX_DATA_FIFO) = w;
    }
    return 0;
}

int lan9118_recv(uintptr_t b, uint8_t *buf, size_t cap)
{
    if (((REG(b, RX_FIFO_INF) >> 16) & 0xffu) == 0) {
        return 0; /* RXSUSED: no status waiting */
    }
    uint32_t st = REG(b, RX_STATUS_FIFO);
    size_t len = (st >> 16) & 0x3fffu; /* includes the 4 CRC bytes */
    size_t words = (len + 3u) / 4u;
    if ((st & RXSTS_ERROR) != 0 || len < 4u || len - 4u > cap) {
        /* Drop it: read the words out (fast-forward would need >= 4 words to be exact). */
        for (size_t i = 0; i < words; i++) {
            (void)REG(b, RX_DATA_FIFO);
        }
        return -1;
    }
    size_t keep = len - 4u;
    for (size_t i = 0; i < words; i++) {
        uint32_t w = REG(b, RX_DATA_FIFO);
        for (size_t k = 0; k < 4; k++) {
            size_t at = i * 4u + k;
            if (at < keep) {
                buf[at] = (uint8_t)(w >> (8u * k));
            }
        }
    }
    return (int)keep;
}
