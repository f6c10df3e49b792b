/* SPDX-License-Identifier: Apache-2.0 */
/*
 * HAL for the engine harness: a small RAM store (atomic by construction, with optional
 * injected write failures), a deterministic RNG reset per input, and a walk over the stored
 * records so the harness can check that everything persisted stays decodable.
 */
#include <stdio.h>
#include <string.h>

#include "eas/eas_err.h"
#include "fuzz_engine_hal.h"
#include "hal/hal.h"

#define REC_MAX      64
#define REC_DATA_MAX 16384

typedef struct rec {
    char key[HAL_STORE_KEY_MAX + 1];
    size_t len;
    int used;
    uint8_t data[REC_DATA_MAX];
} rec_t;

static rec_t recs[REC_MAX];
static unsigned fail_every; /* every n-th put fails; 0 = never */
static unsigned put_count;
static uint32_t rng_state;
static unsigned changes;

void fuzz_store_reset(unsigned fail_every_nth_put)
{
    for (int i = 0; i < REC_MAX; i++) {
        recs[i].used = 0;
    }
    fail_every = fail_every_nth_put;
    put_count = 0;
    rng_state = 0x2545F491u;
    changes = 0;
}

unsigned fuzz_store_changes(void)
{
    return changes;
}

int fuzz_store_each(int (*fn)(void *user, const char *key, size_t len), void *user)
{
    for (int i = 0; i < REC_MAX; i++) {
        if (recs[i].used) {
            int rc = fn(user, recs[i].key, recs[i].len);
            if (rc != 0) {
                return rc;
            }
        }
    }
    return 0;
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

static rec_t *find(const char *key)
{
    for (int i = 0; i < REC_MAX; i++) {
        if (recs[i].used && strcmp(recs[i].key, key) == 0) {
            return &recs[i];
        }
    }
    return NULL;
}

static int f_store_put(void *ctx, const char *key, const uint8_t *data, size_t len)
{
    (void)ctx;
    rec_t *r;
    if (!key_ok(key)) {
        return EAS_ERR_STORE_KEY;
    }
    put_count++;
    if (fail_every != 0 && put_count % fail_every == 0) {
        return EAS_ERR_STORE; /* injected I/O error: the old record stays */
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
#ifdef FUZZ_ENGINE_PLANT_STORE
    /* Planted bug: a torn write keeps only part of long records (see README). */
    if (len > 64) {
        len -= 3;
    }
#endif
    if (len) {
        memcpy(r->data, data, len);
    }
    r->len = len;
    changes++;
    return EAS_OK;
}

static int f_store_get(void *ctx, const char *key, uint8_t *buf, size_t cap, size_t *len)
{
    (void)ctx;
    rec_t *r;
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

static int f_store_del(void *ctx, const char *key)
{
    (void)ctx;
    rec_t *r;
    if (!key_ok(key)) {
        return EAS_ERR_STORE_KEY;
    }
    r = find(key);
    if (r != NULL) {
        r->used = 0;
        changes++;
    }
    return EAS_OK;
}

static int f_rng_fill(void *ctx, uint8_t *buf, size_t len)
{
    (void)ctx;
    for (size_t i = 0; i < len; i++) {
        rng_state = rng_state * 1103515245u + 12345u;
        buf[i] = (uint8_t)(rng_state >> 16);
    }
    return EAS_OK;
}

/* Logging is dropped (it would only slow fuzzing). */
static const hal_sys_t k_fuzz_hal = {
    .store = {f_store_put, f_store_get, f_store_del, NULL},
    .rng = {f_rng_fill, NULL},
    .log = {NULL, NULL},
};

const hal_sys_t *fuzz_hal(void)
{
    return &k_fuzz_hal;
}
