/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The easd HAL singletons for the mps2-an385 board under QEMU.
 *
 *   fw_log_write           -> UART0 console
 *   hal_time_monotonic_ms  -> SysTick millisecond counter
 *   hal_time_utc           -> set by the application (fw_set_utc); no RTC on this board
 *   fw_rng_fill            -> NON-CRYPTOGRAPHIC placeholder, QEMU ONLY (see below)
 *   fw_store_*             -> RAM-backed record store, the QEMU stand-in for flash
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "eas/eas_err.h"
#include "fw_board.h"
#include "fw_board_an385.h"
#include "hal/hal.h"

/* ---------------------------------------------------------------- log ---- */

static uint32_t fw_log_count;

uint32_t fw_log_lines(void)
{
    return fw_log_count;
}

void fw_log_write(hal_log_level_t level, const char *module, const char *msg, size_t len)
{
    static const char tags[] = "?EWID";
    char prefix[4] = {'[', '?', ']', ' '};

    if ((unsigned)level < sizeof(tags) - 1u) {
        prefix[1] = tags[level];
    }
    fw_console_write(prefix, sizeof(prefix));
    if (module != NULL) {
        fw_console_puts(module);
        fw_console_write(": ", 2u);
    }
    if (msg != NULL) {
        fw_console_write(msg, len);
    }
    fw_console_write("\n", 1u);
    fw_log_count++;
}

/* --------------------------------------------------------------- time ---- */

static bool fw_utc_valid;
static int64_t fw_utc_at_zero; /* UTC seconds at monotonic 0 */

uint64_t hal_time_monotonic_ms(void)
{
    return fw_an385_ticks_ms();
}

void fw_set_utc(int64_t unix_seconds)
{
    fw_utc_at_zero = unix_seconds - (int64_t)(fw_an385_ticks_ms() / 1000u);
    fw_utc_valid = true;
}

int hal_time_utc(int64_t *unix_seconds)
{
    int err = EAS_ERR_STATE;

    if (unix_seconds == NULL) {
        err = EAS_ERR_PARAM;
    } else if (fw_utc_valid) {
        *unix_seconds = fw_utc_at_zero + (int64_t)(fw_an385_ticks_ms() / 1000u);
        err = EAS_OK;
    }
    return err;
}

/* ------------------------------------------------------------- random ---- */

/*
 * !!! NOT A SOURCE OF SECURE RANDOMNESS. QEMU ONLY. !!!
 *
 * QEMU's mps2-an385 has no TRNG, so this is xorshift64* seeded from the tick counter: fine
 * for back-off jitter in an emulator test, useless for TLS. A real board MUST replace this
 * function with its TRNG (or a DRBG seeded from it) before anything talks TLS; the build
 * refuses to compile it unless FW_ALLOW_INSECURE_RNG says the target is an emulator.
 */
#ifndef FW_ALLOW_INSECURE_RNG
#error "fw_rng_fill here is a non-cryptographic placeholder; supply a TRNG-backed one"
#endif

static uint64_t fw_rng_state;

int fw_rng_fill(uint8_t *buf, size_t len)
{
    int err = EAS_ERR_PARAM;

    if (buf != NULL || len == 0u) {
        if (fw_rng_state == 0u) {
            fw_rng_state = 0x9E3779B97F4A7C15u ^ (fw_an385_ticks_ms() << 17);
        }
        for (size_t i = 0; i < len; i++) {
            fw_rng_state ^= fw_rng_state >> 12;
            fw_rng_state ^= fw_rng_state << 25;
            fw_rng_state ^= fw_rng_state >> 27;
            buf[i] = (uint8_t)((fw_rng_state * 0x2545F4914F6CDD1Du) >> 56);
        }
        err = EAS_OK;
    }
    return err;
}

/* -------------------------------------------------------------- store ---- */

/* The sync image brings its own store (ports/mps2/flashstore.c on a flash-like region). */
#ifndef FW_HAL_NO_STORE

/*
 * The QEMU stand-in for flash: a RAM table shaped like a log-structured flash store so
 * the atomic contract is honoured the way a flash port would honour it. A put writes the
 * new record into a free slot and only then commits it by giving it the next sequence
 * number; the old slot is freed afterwards. If "power failed" between the two steps both
 * slots would be valid and get() takes the higher sequence number: a reader sees the
 * complete old or the complete new record, never a mix. One slot is always kept free for
 * that, so FW_STORE_SLOTS - 1 distinct keys fit. Contents do not survive a reset.
 */
#ifndef FW_STORE_SLOTS
#define FW_STORE_SLOTS 16
#endif
#ifndef FW_STORE_RECORD_MAX
#define FW_STORE_RECORD_MAX 1024
#endif

typedef struct fw_store_slot {
    uint32_t seq; /* 0 = free; otherwise the commit order */
    uint32_t len;
    char key[HAL_STORE_KEY_MAX + 1];
    uint8_t data[FW_STORE_RECORD_MAX];
} fw_store_slot_t;

static fw_store_slot_t fw_store[FW_STORE_SLOTS];
static uint32_t fw_store_seq;

static bool store_key_ok(const char *key)
{
    size_t n = 0;
    bool ok = (key != NULL);

    while (ok && key[n] != '\0') {
        char c = key[n];
        ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
             c == '.' || c == '_' || c == '-';
        n++;
        if (n > HAL_STORE_KEY_MAX) {
            ok = false;
        }
    }
    return ok && n > 0u;
}

static fw_store_slot_t *store_find(const char *key)
{
    fw_store_slot_t *best = NULL;

    for (size_t i = 0; i < FW_STORE_SLOTS; i++) {
        fw_store_slot_t *s = &fw_store[i];
        if (s->seq != 0u && strcmp(s->key, key) == 0 && (best == NULL || s->seq > best->seq)) {
            best = s;
        }
    }
    return best;
}

int fw_store_put(const char *key, const uint8_t *data, size_t len)
{
    int err = EAS_ERR_STORE_FULL;
    fw_store_slot_t *old = NULL;
    fw_store_slot_t *slot = NULL;
    size_t free_slots = 0;

    if (!store_key_ok(key)) {
        err = EAS_ERR_STORE_KEY;
    } else if (data == NULL && len != 0u) {
        err = EAS_ERR_PARAM;
    } else if (len <= FW_STORE_RECORD_MAX) {
        old = store_find(key);
        for (size_t i = 0; i < FW_STORE_SLOTS; i++) {
            if (fw_store[i].seq == 0u) {
                free_slots++;
                slot = (slot == NULL) ? &fw_store[i] : slot;
            }
        }
        /* A new key may not take the last free slot: overwrites need it to stay atomic. */
        if (slot != NULL && (old != NULL || free_slots > 1u)) {
            memcpy(slot->key, key, strlen(key) + 1u);
            if (len != 0u) {
                memcpy(slot->data, data, len);
            }
            slot->len = (uint32_t)len;
            /* The commit point: one word write makes the new record the valid one. */
            slot->seq = ++fw_store_seq;
            if (old != NULL) {
                old->seq = 0u;
            }
            err = EAS_OK;
        }
    }
    return err;
}

int fw_store_get(const char *key, uint8_t *buf, size_t cap, size_t *len)
{
    int err = EAS_ERR_STORE_NOT_FOUND;
    const fw_store_slot_t *slot = NULL;

    if (!store_key_ok(key)) {
        err = EAS_ERR_STORE_KEY;
    } else if (len == NULL) {
        err = EAS_ERR_PARAM;
    } else {
        slot = store_find(key);
    }
    if (slot != NULL) {
        *len = slot->len;
        if (slot->len > cap || (buf == NULL && slot->len != 0u)) {
            err = EAS_ERR_NOMEM;
        } else {
            if (slot->len != 0u) {
                memcpy(buf, slot->data, slot->len);
            }
            err = EAS_OK;
        }
    }
    return err;
}

int fw_store_del(const char *key)
{
    int err = EAS_ERR_STORE_KEY;

    if (store_key_ok(key)) {
        for (size_t i = 0; i < FW_STORE_SLOTS; i++) {
            if (fw_store[i].seq != 0u && strcmp(fw_store[i].key, key) == 0) {
                fw_store[i].seq = 0u;
            }
        }
        err = EAS_OK;
    }
    return err;
}

#endif /* FW_HAL_NO_STORE */

/* ------------------------------------------------- the hal_sys_t of this board ---- */

#ifndef FW_HAL_NO_STORE
static int sys_put(void *ctx, const char *key, const uint8_t *data, size_t len)
{
    (void)ctx;
    return fw_store_put(key, data, len);
}

static int sys_get(void *ctx, const char *key, uint8_t *buf, size_t cap, size_t *len)
{
    (void)ctx;
    return fw_store_get(key, buf, cap, len);
}

static int sys_del(void *ctx, const char *key)
{
    (void)ctx;
    return fw_store_del(key);
}

#endif /* FW_HAL_NO_STORE */

static int sys_rng(void *ctx, uint8_t *buf, size_t len)
{
    (void)ctx;
    return fw_rng_fill(buf, len);
}

static void sys_log(void *ctx, hal_log_level_t level, const char *module, const char *msg,
                    size_t len)
{
    (void)ctx;
    fw_log_write(level, module, msg, len);
}

static const hal_sys_t k_board_hal = {
#ifndef FW_HAL_NO_STORE
    .store = {sys_put, sys_get, sys_del, NULL},
#endif /* else the image brings its own store (sync_main.c) */
    .rng = {sys_rng, NULL},
    .log = {sys_log, NULL},
};

const hal_sys_t *fw_board_hal(void)
{
    return &k_board_hal;
}
