/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <string.h>

#include "eas/eas_err.h"
#include "test_hal.h"

#define REC_MAX 256
#define REC_DATA_MAX 65536

struct rec {
    char key[HAL_STORE_KEY_MAX + 1];
    size_t len;
    uint8_t data[REC_DATA_MAX];
    int used;
};

static struct rec recs[REC_MAX];
static int fail_after;
static uint64_t mono;
static int64_t utc;
static char logbuf[1 << 16];
static size_t loglen;
static size_t logcount[5];
static uint32_t rng_state = 0x12345678u;

void test_hal_reset(void)
{
    memset(recs, 0, sizeof(recs));
    fail_after = 0;
    mono = 0;
    utc = 0;
    loglen = 0;
    logbuf[0] = '\0';
    memset(logcount, 0, sizeof(logcount));
}

void test_hal_store_fail_after(int n)
{
    fail_after = n;
}

size_t test_hal_store_count(void)
{
    size_t n = 0;
    for (int i = 0; i < REC_MAX; i++) {
        n += recs[i].used ? 1u : 0u;
    }
    return n;
}

void test_hal_set_time(uint64_t mono_ms, int64_t utc_s)
{
    mono = mono_ms;
    utc = utc_s;
}

const char *test_hal_log_text(void)
{
    return logbuf;
}

size_t test_hal_log_count(hal_log_level_t max_level)
{
    size_t n = 0;
    for (int l = 1; l <= (int)max_level && l < 5; l++) {
        n += logcount[l];
    }
    return n;
}

static int key_ok(const char *key)
{
    size_t n = key ? strlen(key) : 0;
    if (n == 0 || n > HAL_STORE_KEY_MAX) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        char c = key[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-')) {
            return 0;
        }
    }
    return 1;
}

static struct rec *find(const char *key)
{
    for (int i = 0; i < REC_MAX; i++) {
        if (recs[i].used && strcmp(recs[i].key, key) == 0) {
            return &recs[i];
        }
    }
    return NULL;
}

int test_hal_store_put(const char *key, const uint8_t *data, size_t len)
{
    struct rec *r;
    if (!key_ok(key)) {
        return EAS_ERR_STORE_KEY;
    }
    if (fail_after > 0 && --fail_after == 0) {
        return EAS_ERR_STORE;
    }
    if (len > REC_DATA_MAX) {
        return EAS_ERR_STORE_FULL;
    }
    r = find(key);
    for (int i = 0; r == NULL && i < REC_MAX; i++) {
        if (!recs[i].used) {
            r = &recs[i];
        }
    }
    if (r == NULL) {
        return EAS_ERR_STORE_FULL;
    }
    r->used = 1;
    snprintf(r->key, sizeof(r->key), "%s", key);
    if (len) {
        memcpy(r->data, data, len);
    }
    r->len = len;
    return EAS_OK;
}

int test_hal_store_get(const char *key, uint8_t *buf, size_t cap, size_t *len)
{
    struct rec *r;
    if (!key_ok(key)) {
        return EAS_ERR_STORE_KEY;
    }
    r = find(key);
    if (r == NULL) {
        return EAS_ERR_STORE_NOT_FOUND;
    }
    *len = r->len;
    if (r->len > cap) {
        return EAS_ERR_NOMEM;
    }
    if (r->len) {
        memcpy(buf, r->data, r->len);
    }
    return EAS_OK;
}

int test_hal_store_del(const char *key)
{
    struct rec *r;
    if (!key_ok(key)) {
        return EAS_ERR_STORE_KEY;
    }
    r = find(key);
    if (r != NULL) {
        r->used = 0;
    }
    return EAS_OK;
}

uint64_t hal_time_monotonic_ms(void)
{
    return mono;
}

int hal_time_utc(int64_t *unix_seconds)
{
    *unix_seconds = utc;
    return EAS_OK;
}

int test_hal_rng_fill(uint8_t *buf, size_t len)
{
    /* Deterministic on purpose: tests must be reproducible. */
    for (size_t i = 0; i < len; i++) {
        rng_state = rng_state * 1103515245u + 12345u;
        buf[i] = (uint8_t)(rng_state >> 16);
    }
    return EAS_OK;
}

void test_hal_log_write(hal_log_level_t level, const char *module, const char *msg, size_t len)
{
    int n;
    if ((int)level >= 1 && (int)level <= 4) {
        logcount[level]++;
    }
    n = snprintf(logbuf + loglen, sizeof(logbuf) - loglen, "%s: %.*s\n", module, (int)len, msg);
    if (n > 0 && (size_t)n < sizeof(logbuf) - loglen) {
        loglen += (size_t)n;
    }
}

/* ---- the hal_sys_t handed to the engine: the functions above, no link-time binding ---- */

static int sys_put(void *ctx, const char *key, const uint8_t *data, size_t len)
{
    (void)ctx;
    return test_hal_store_put(key, data, len);
}

static int sys_get(void *ctx, const char *key, uint8_t *buf, size_t cap, size_t *len)
{
    (void)ctx;
    return test_hal_store_get(key, buf, cap, len);
}

static int sys_del(void *ctx, const char *key)
{
    (void)ctx;
    return test_hal_store_del(key);
}

static int sys_rng(void *ctx, uint8_t *buf, size_t len)
{
    (void)ctx;
    return test_hal_rng_fill(buf, len);
}

static void sys_log(void *ctx, hal_log_level_t level, const char *module, const char *msg,
                    size_t len)
{
    (void)ctx;
    test_hal_log_write(level, module, msg, len);
}

static const hal_sys_t k_test_hal = {
    .store = {sys_put, sys_get, sys_del, NULL},
    .rng = {sys_rng, NULL},
    .log = {sys_log, NULL},
};

const hal_sys_t *test_hal(void)
{
    return &k_test_hal;
}

const hal_log_t *test_hal_log(void)
{
    return &k_test_hal.log;
}
