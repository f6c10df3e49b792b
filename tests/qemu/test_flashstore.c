/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Power-loss test of the firmware's flash store (ports/mps2/flashstore.c), on the host.
 *
 * The store runs on a simulated NOR flash (erase to 0xFF; programming may only turn erased
 * bytes into data: programming a byte twice is reported as a bug). A script of puts,
 * overwrites and deletes runs once; after EVERY byte the flash programs or erases, the test
 * takes the flash image as it is at that instant — what a power cut there would leave —
 * mounts a fresh store on a copy and checks that the key being written reads as its
 * complete old or complete new value and every other key as before. At every 5th cut it
 * also keeps using the recovered store (one more put, a remount) to show the repair leaves
 * a working store. The geometry is small so that the script goes through many sector
 * switches and compactions.
 *
 *   test_flashstore [--ops N]      exit 0 when every cut point passed
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eas/eas_err.h"
#include "flashstore.h"

#define SECT_SIZE  512u
#define SECT_COUNT 4u
#define NKEYS      6
#define VAL_MAX    120

typedef struct sim {
    uint8_t mem[SECT_SIZE * SECT_COUNT];
    bool hook;       /* call the cut check after every byte */
    unsigned long bytes;
    bool misuse;     /* a byte was programmed twice */
} sim_t;

typedef struct val {
    bool present;
    size_t len;
    uint8_t data[VAL_MAX];
} val_t;

static sim_t g_live;
static val_t g_before[NKEYS], g_after[NKEYS];
static int g_op_key = -1;
static unsigned long g_cuts, g_fail, g_resumed;
static const char *g_keys[NKEYS] = {"acct0.account", "acct0.folders", "acct0.f.6",
                                    "acct0.f.7",     "acct0.ob.1",   "x"};

static void cut_check(void);

static int sim_read(void *ctx, uint32_t off, void *buf, size_t len)
{
    sim_t *s = ctx;
    if (off + len > sizeof(s->mem)) {
        return -1;
    }
    memcpy(buf, s->mem + off, len);
    return 0;
}

static int sim_prog(void *ctx, uint32_t off, const void *buf, size_t len)
{
    sim_t *s = ctx;
    if (off + len > sizeof(s->mem) || (off & 3u) != 0 || (len & 3u) != 0) {
        s->misuse = true;
        return -1;
    }
    for (size_t i = 0; i < len; i++) {
        if (s->mem[off + i] != 0xFFu) {
            s->misuse = true; /* NOR: no second program without an erase */
        }
        s->mem[off + i] &= ((const uint8_t *)buf)[i];
        s->bytes++;
        if (s->hook) {
            cut_check();
        }
    }
    return 0;
}

static int sim_erase(void *ctx, uint32_t sector)
{
    sim_t *s = ctx;
    if (sector >= SECT_COUNT) {
        return -1;
    }
    for (uint32_t i = 0; i < SECT_SIZE; i++) {
        s->mem[sector * SECT_SIZE + i] = 0xFFu;
        s->bytes++;
        if (s->hook) {
            cut_check();
        }
    }
    return 0;
}

static fs_flash_t flash_of(sim_t *s)
{
    fs_flash_t f = {sim_read, sim_prog, sim_erase, s, SECT_SIZE, SECT_COUNT};
    return f;
}

static bool value_is(fs_t *fs, int k, const val_t *v)
{
    uint8_t buf[VAL_MAX];
    size_t len = 0;
    int rc = fs_get(fs, g_keys[k], buf, sizeof(buf), &len);
    if (!v->present) {
        return rc == EAS_ERR_STORE_NOT_FOUND;
    }
    return rc == EAS_OK && len == v->len && memcmp(buf, v->data, len) == 0;
}

/* The state a power cut right now would leave: mount a copy and compare with the model. */
static void cut_check(void)
{
    static sim_t copy;
    static sim_t again;
    fs_t fs;
    g_cuts++;
    memcpy(copy.mem, g_live.mem, sizeof(copy.mem));
    copy.hook = false;
    copy.misuse = false;
    fs_flash_t f = flash_of(&copy);
    int rc = fs_mount(&fs, &f);
    bool ok = rc == EAS_OK;
    int which = -1;
    if (!ok) {
        fprintf(stderr, "cut %lu (byte %lu): mount failed: %d\n", g_cuts, g_live.bytes, rc);
    }
    for (int k = 0; ok && k < NKEYS; k++) {
        if (k == g_op_key) {
            bool old = value_is(&fs, k, &g_before[k]), new = value_is(&fs, k, &g_after[k]);
            ok = old || new;
            which = new ? 1 : 0;
        } else {
            ok = value_is(&fs, k, &g_before[k]);
        }
        if (!ok) {
            fprintf(stderr, "cut %lu (byte %lu): key %s is neither old nor new (mount %d)\n",
                    g_cuts, g_live.bytes, g_keys[k], rc);
        }
    }
    if (ok && g_cuts % 5u == 0) {
        /* Keep going on the recovered flash: a put and a remount must work. */
        static const uint8_t probe[] = "after the cut";
        ok = fs_put(&fs, "probe", probe, sizeof(probe)) == EAS_OK;
        memcpy(again.mem, copy.mem, sizeof(again.mem));
        again.hook = false;
        fs_flash_t f2 = flash_of(&again);
        fs_t fs2;
        uint8_t buf[32];
        size_t len = 0;
        ok = ok && fs_mount(&fs2, &f2) == EAS_OK &&
             fs_get(&fs2, "probe", buf, sizeof(buf), &len) == EAS_OK && len == sizeof(probe) &&
             memcmp(buf, probe, len) == 0;
        for (int k = 0; ok && k < NKEYS; k++) {
            const val_t *want = (k == g_op_key && which == 1) ? &g_after[k] : &g_before[k];
            ok = value_is(&fs2, k, want);
        }
        if (!ok) {
            fprintf(stderr, "cut %lu: the recovered store does not keep working\n", g_cuts);
        }
        g_resumed++;
    }
    if (copy.misuse) {
        fprintf(stderr, "cut %lu: recovery programmed a byte twice\n", g_cuts);
        ok = false;
    }
    if (!ok) {
        g_fail++;
    }
}

static uint32_t g_rng = 12345u;
static uint32_t rnd(void)
{
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 17;
    g_rng ^= g_rng << 5;
    return g_rng;
}

int main(int argc, char **argv)
{
    int ops = 300;
    if (argc == 3 && strcmp(argv[1], "--ops") == 0) {
        ops = atoi(argv[2]);
    }
    memset(g_live.mem, 0xFF, sizeof(g_live.mem));
    fs_t fs;
    fs_flash_t f = flash_of(&g_live);
    if (fs_mount(&fs, &f) != EAS_OK) {
        fprintf(stderr, "mount of an erased flash failed\n");
        return 1;
    }
    g_live.hook = true;
    int puts = 0, dels = 0;
    for (int i = 0; i < ops; i++) {
        int k = (int)(rnd() % NKEYS);
        memcpy(g_after, g_before, sizeof(g_after));
        val_t *v = &g_after[k];
        bool del = rnd() % 6u == 0;
        if (del) {
            v->present = false;
            v->len = 0;
        } else {
            v->present = true;
            v->len = rnd() % (VAL_MAX + 1u);
            for (size_t b = 0; b < v->len; b++) {
                v->data[b] = (uint8_t)rnd();
            }
        }
        g_op_key = k;
        int rc = del ? fs_del(&fs, g_keys[k]) : fs_put(&fs, g_keys[k], v->data, v->len);
        if (rc != EAS_OK) {
            fprintf(stderr, "op %d on %s failed: %d\n", i, g_keys[k], rc);
            return 1;
        }
        del ? dels++ : puts++;
        memcpy(g_before, g_after, sizeof(g_before));
        g_op_key = -1;
        for (int j = 0; j < NKEYS; j++) {
            if (!value_is(&fs, j, &g_before[j])) {
                fprintf(stderr, "op %d: key %s wrong right after the write\n", i, g_keys[j]);
                return 1;
            }
        }
    }
    if (g_live.misuse) {
        fprintf(stderr, "the store programmed a byte twice without erasing\n");
        g_fail++;
    }
    printf("flashstore: %d puts, %d deletes, %lu bytes programmed or erased; %lu power cuts "
           "checked (%lu resumed), %lu failed\n",
           puts, dels, g_live.bytes, g_cuts, g_resumed, g_fail);
    return g_fail == 0 ? 0 : 1;
}
