/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The on-target self-test: exercises the real core (built for this CPU, with this
 * preset's configuration) plus the board's HAL, and prints one line per check:
 *
 *   PASS arena (stack 184 B)
 *   FAIL wbxml.encode: fw_selftest.c:210: memcmp(out, want, sizeof(want)) == 0
 *   SKIP cal.expand (module not in this build)
 *   SELFTEST: 9 passed, 1 failed, 1 skipped; peak stack 1234 B of 16384 B
 *
 * Modules of the core land one by one. A check whose module is not linked into the image
 * is SKIPped, never silently passed: the image links libeas.a whole (firmware/CMakeLists.txt)
 * and refers to module entry points weakly, so "present" means "its code is in the image".
 * A module that is present and misbehaves fails the check and the image's exit status.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "eas/eas_arena.h"
#include "eas/eas_config_defaults.h"
#include "eas/eas_err.h"
#include "eas_log.h"
#include "fw_board.h"
#include "fw_selftest.h"
#include "hal/hal.h"

#if __has_include("eas/eas_wbxml.h")
#include "eas/eas_wbxml.h"
#define FW_HAVE_WBXML_H 1
#else
#define FW_HAVE_WBXML_H 0
#endif

#if __has_include("fw_vectors.h")
#include "fw_vectors.h"
#define FW_HAVE_VECTORS (FW_VECTOR_COUNT > 0)
#else
#define FW_HAVE_VECTORS 0
#endif

/* Weak references: NULL at run time when the module's object is not in libeas.a. */
#define FW_WEAK(sym) extern __typeof__(sym) sym __attribute__((weak))

typedef struct fw_st {
    unsigned passed;
    unsigned failed;
    unsigned skipped;
    size_t stack_peak;
    /* First failing assertion of the running check. */
    bool ok;
    char why[112];
} fw_st_t;

/* Records the first failure of a check and carries on (later assertions may crash on a
 * NULL result, so the checks themselves stop early with `if (!st->ok) return;` where
 * that matters). */
#define FW_CHECK(st, cond)                                                                         \
    do {                                                                                           \
        if (!(cond) && (st)->ok) {                                                                 \
            (st)->ok = false;                                                                      \
            (void)snprintf((st)->why, sizeof((st)->why), "line %d: %.80s", __LINE__, #cond);       \
        }                                                                                          \
    } while (0)

static void fw_print(const char *fmt_line)
{
    fw_console_puts(fmt_line);
}

typedef void (*fw_check_fn_t)(fw_st_t *st);

/* Runs one check with a freshly painted stack, so its line shows how deep it went. */
static void fw_run(fw_st_t *st, const char *name, fw_check_fn_t fn)
{
    char line[192];
    size_t peak;

    st->ok = true;
    st->why[0] = '\0';
    fw_stack_paint();
    fn(st);
    peak = fw_stack_peak();
    st->stack_peak = (peak > st->stack_peak) ? peak : st->stack_peak;
    if (st->ok) {
        st->passed++;
        (void)snprintf(line, sizeof(line), "PASS %s (stack %u B)\n", name, (unsigned)peak);
    } else {
        st->failed++;
        (void)snprintf(line, sizeof(line), "FAIL %s: %s\n", name, st->why);
    }
    fw_print(line);
}

static void fw_skip(fw_st_t *st, const char *name, const char *why)
{
    char line[160];

    st->skipped++;
    (void)snprintf(line, sizeof(line), "SKIP %s (%s)\n", name, why);
    fw_print(line);
}

/* ------------------------------------------------------------ errors ---- */

static void check_strerror(fw_st_t *st)
{
    FW_CHECK(st, strcmp(eas_strerror(EAS_OK), "success") == 0);
    FW_CHECK(st, strcmp(eas_strerror(EAS_ERR_NOMEM), "buffer or arena too small") == 0);
    FW_CHECK(st, strcmp(eas_err_name(EAS_ERR_TIMEOUT), "EAS_ERR_TIMEOUT") == 0);
    /* Values the build does not know still get text: logs must never print NULL. */
    FW_CHECK(st, eas_strerror(-9999) != NULL && eas_strerror(-9999)[0] != '\0');
    FW_CHECK(st, strcmp(eas_err_name(12345), "EAS_ERR_UNKNOWN") == 0);
}

/* ------------------------------------------------------------- arena ---- */

static void check_arena(fw_st_t *st)
{
    static uint8_t mem[256] __attribute__((aligned(16)));
    eas_arena_t arena;
    uint8_t *a;
    uint8_t *b;
    size_t mark;

    memset(mem, 0xA5, sizeof(mem));
    eas_arena_init(&arena, mem, sizeof(mem));
    a = eas_arena_alloc(&arena, 10u, 1u);
    b = eas_arena_alloc(&arena, 32u, 8u);
    FW_CHECK(st, a != NULL && b != NULL);
    if (!st->ok) {
        return;
    }
    FW_CHECK(st, ((uintptr_t)b & 7u) == 0u);
    FW_CHECK(st, b >= a + 10);
    /* Memory handed out is zeroed even though the buffer held 0xA5. */
    FW_CHECK(st, a[0] == 0u && a[9] == 0u && b[0] == 0u && b[31] == 0u);
    mark = eas_arena_mark(&arena);
    FW_CHECK(st, eas_arena_alloc(&arena, 100u, 4u) != NULL);
    FW_CHECK(st, eas_arena_alloc(&arena, 1024u, 4u) == NULL);
    eas_arena_release(&arena, mark);
    FW_CHECK(st, eas_arena_mark(&arena) == mark);
    FW_CHECK(st, arena.peak >= mark + 100u);
    eas_arena_reset(&arena);
    FW_CHECK(st, eas_arena_mark(&arena) == 0u);
    FW_CHECK(st, eas_arena_alloc(&arena, sizeof(mem), 1u) != NULL);
    FW_CHECK(st, eas_arena_alloc(&arena, 1u, 1u) == NULL);
}

/* --------------------------------------------------------------- log ---- */

static void check_log(fw_st_t *st)
{
    uint32_t before = fw_log_lines();

    /* Error level is compiled in by every preset (minimal keeps errors only). */
    EAS_LOGE("selftest", "log sink check %d (not an error)", 42);
#if CONFIG_EAS_LOG_LEVEL >= 1
    FW_CHECK(st, fw_log_lines() == before + 1u);
#else
    FW_CHECK(st, fw_log_lines() == before);
#endif
}

/* ------------------------------------------------------------ HAL ---- */

static void check_hal_store(fw_st_t *st)
{
    static const uint8_t v1[] = {1, 2, 3};
    static const uint8_t v2[] = {9, 8, 7, 6, 5};
    uint8_t buf[8];
    size_t len = 0;

    FW_CHECK(st, hal_store_put("selftest.a", v1, sizeof(v1)) == EAS_OK);
    FW_CHECK(st, hal_store_get("selftest.a", buf, sizeof(buf), &len) == EAS_OK);
    FW_CHECK(st, len == sizeof(v1) && memcmp(buf, v1, sizeof(v1)) == 0);
    FW_CHECK(st, hal_store_put("selftest.a", v2, sizeof(v2)) == EAS_OK);
    FW_CHECK(st, hal_store_get("selftest.a", buf, sizeof(buf), &len) == EAS_OK);
    FW_CHECK(st, len == sizeof(v2) && memcmp(buf, v2, sizeof(v2)) == 0);
    FW_CHECK(st, hal_store_get("selftest.a", buf, 2u, &len) == EAS_ERR_NOMEM && len == 5u);
    FW_CHECK(st, hal_store_get("selftest.none", buf, sizeof(buf), &len) == EAS_ERR_STORE_NOT_FOUND);
    FW_CHECK(st, hal_store_put("bad key", v1, sizeof(v1)) == EAS_ERR_STORE_KEY);
    FW_CHECK(st, hal_store_put("", v1, sizeof(v1)) == EAS_ERR_STORE_KEY);
    FW_CHECK(st, hal_store_put("selftest.empty", NULL, 0u) == EAS_OK);
    FW_CHECK(st, hal_store_get("selftest.empty", buf, sizeof(buf), &len) == EAS_OK && len == 0u);
    FW_CHECK(st, hal_store_del("selftest.a") == EAS_OK);
    FW_CHECK(st, hal_store_del("selftest.empty") == EAS_OK);
    FW_CHECK(st, hal_store_del("selftest.a") == EAS_OK);
    FW_CHECK(st, hal_store_get("selftest.a", buf, sizeof(buf), &len) == EAS_ERR_STORE_NOT_FOUND);
}

static void check_hal_time(fw_st_t *st)
{
    uint64_t t0 = hal_time_monotonic_ms();
    uint64_t t1 = t0;
    int64_t utc = 0;

    /* The SysTick must be running: spin until the clock moves (bounded, so a dead timer
     * fails the check instead of hanging the test). No duration is asserted. */
    for (uint32_t i = 0; i < 200000000u && t1 < t0 + 2u; i++) {
        t1 = hal_time_monotonic_ms();
    }
    FW_CHECK(st, t1 >= t0 + 2u);
    FW_CHECK(st, hal_time_monotonic_ms() >= t1);
    FW_CHECK(st, hal_time_utc(&utc) == EAS_ERR_STATE);
    fw_set_utc(1700000000);
    FW_CHECK(st, hal_time_utc(&utc) == EAS_OK && utc >= 1700000000 && utc < 1700000010);
}

static void check_hal_rng(fw_st_t *st)
{
    uint8_t a[16];
    uint8_t b[16];
    static const uint8_t zero[16];

    FW_CHECK(st, hal_rng_fill(a, sizeof(a)) == EAS_OK);
    FW_CHECK(st, hal_rng_fill(b, sizeof(b)) == EAS_OK);
    FW_CHECK(st, memcmp(a, zero, sizeof(a)) != 0 && memcmp(a, b, sizeof(a)) != 0);
}

/* ------------------------------------------------------------- WBXML ---- */

#if FW_HAVE_WBXML_H
FW_WEAK(eas_wbxml_enc_init);
FW_WEAK(eas_wbxml_dec_init);

/* <FolderSync xmlns="FolderHierarchy"><SyncKey>0</SyncKey></FolderSync>, encoded by hand
 * from MS-ASWBXML: header 03 01 6A 00, SWITCH_PAGE 7, FolderSync (0x16|content),
 * SyncKey (0x12|content), STR_I "0", END, END. */
static const uint8_t fw_foldersync[] = {0x03, 0x01, 0x6A, 0x00, 0x00, 0x07, 0x56,
                                        0x52, 0x03, 0x30, 0x00, 0x01, 0x01};
#define FW_TAG_FOLDERSYNC ((uint16_t)0x0716)
#define FW_TAG_SYNCKEY    ((uint16_t)0x0712)

typedef struct fw_sink {
    uint8_t out[64];
    size_t len;
    unsigned flushes;
} fw_sink_t;

static int fw_sink_flush(void *user, const uint8_t *data, size_t len)
{
    fw_sink_t *sink = user;
    int err = EAS_ERR_NOMEM;

    if (len <= sizeof(sink->out) - sink->len) {
        memcpy(sink->out + sink->len, data, len);
        sink->len += len;
        sink->flushes++;
        err = EAS_OK;
    }
    return err;
}

static void check_wbxml_encode(fw_st_t *st)
{
    eas_wbxml_enc_t enc;
    uint8_t buf[16]; /* the smallest buffer the encoder accepts: forces flushes */
    fw_sink_t sink = {{0}, 0, 0};

    eas_wbxml_enc_init(&enc, buf, sizeof(buf), fw_sink_flush, &sink);
    FW_CHECK(st, eas_wbxml_enc_start(&enc, FW_TAG_FOLDERSYNC) == EAS_OK);
    FW_CHECK(st, eas_wbxml_enc_elem_text(&enc, FW_TAG_SYNCKEY, "0") == EAS_OK);
    FW_CHECK(st, eas_wbxml_enc_end(&enc) == EAS_OK);
    FW_CHECK(st, eas_wbxml_enc_finish(&enc) == EAS_OK);
    FW_CHECK(st, sink.len == sizeof(fw_foldersync));
    FW_CHECK(st, memcmp(sink.out, fw_foldersync, sizeof(fw_foldersync)) == 0);
    FW_CHECK(st, eas_wbxml_enc_total(&enc) == sizeof(fw_foldersync));
}

/* Collects a compact trace of events: enough to compare against an expectation. */
typedef struct fw_trace {
    unsigned starts;
    unsigned ends;
    unsigned text_pieces;
    unsigned opaque_pieces;
    uint16_t max_depth;
    uint32_t hash; /* FNV-1a over types, tags and data */
    char text[16];
    size_t text_len;
} fw_trace_t;

static void fw_hash(uint32_t *h, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        *h = (*h ^ p[i]) * 16777619u;
    }
}

static int fw_trace_cb(void *user, const eas_wbxml_event_t *ev)
{
    fw_trace_t *t = user;
    uint8_t head[3] = {(uint8_t)ev->type, (uint8_t)(ev->tag >> 8), (uint8_t)ev->tag};

    fw_hash(&t->hash, head, sizeof(head));
    t->max_depth = (ev->depth > t->max_depth) ? ev->depth : t->max_depth;
    switch (ev->type) {
    case EAS_WBXML_EV_START:
        t->starts++;
        break;
    case EAS_WBXML_EV_END:
        t->ends++;
        break;
    case EAS_WBXML_EV_TEXT:
        t->text_pieces++;
        fw_hash(&t->hash, ev->data, ev->len);
        for (size_t i = 0; i < ev->len && t->text_len < sizeof(t->text) - 1u; i++) {
            t->text[t->text_len++] = (char)ev->data[i];
        }
        break;
    case EAS_WBXML_EV_OPAQUE:
        t->opaque_pieces++;
        fw_hash(&t->hash, ev->data, ev->len);
        break;
    default:
        break;
    }
    return EAS_OK;
}

/* Feeds @p doc in @p chunk-byte pieces (1 = byte by byte, the decoder's hardest case). */
static int fw_decode(const uint8_t *doc, size_t len, size_t chunk, fw_trace_t *t)
{
    eas_wbxml_dec_t dec;
    int err = EAS_OK;

    memset(t, 0, sizeof(*t));
    t->hash = 2166136261u;
    eas_wbxml_dec_init(&dec, fw_trace_cb, t);
    for (size_t off = 0; err == EAS_OK && off < len; off += chunk) {
        size_t n = (len - off < chunk) ? (len - off) : chunk;
        err = eas_wbxml_dec_feed(&dec, doc + off, n);
    }
    if (err == EAS_OK) {
        err = eas_wbxml_dec_finish(&dec);
    }
    return err;
}

static void check_wbxml_decode(fw_st_t *st)
{
    fw_trace_t whole;
    fw_trace_t bytewise;
    uint8_t bad[sizeof(fw_foldersync)];

    FW_CHECK(st, fw_decode(fw_foldersync, sizeof(fw_foldersync), 1u, &bytewise) == EAS_OK);
    FW_CHECK(st, bytewise.starts == 2u && bytewise.ends == 2u && bytewise.max_depth == 2u);
    FW_CHECK(st, bytewise.text_len == 1u && bytewise.text[0] == '0');
    FW_CHECK(st, fw_decode(fw_foldersync, sizeof(fw_foldersync), sizeof(fw_foldersync), &whole) ==
                     EAS_OK);
    /* Chunking must not change the event stream's content. */
    FW_CHECK(st, whole.starts == bytewise.starts && whole.ends == bytewise.ends &&
                     whole.text_len == bytewise.text_len &&
                     memcmp(whole.text, bytewise.text, whole.text_len) == 0);
    /* Untrusted input: a truncated document and a corrupt header are errors, not crashes. */
    FW_CHECK(st, fw_decode(fw_foldersync, sizeof(fw_foldersync) - 1u, 3u, &whole) ==
                     EAS_ERR_WBXML_TRUNCATED);
    memcpy(bad, fw_foldersync, sizeof(bad));
    bad[0] = 0x7F;
    FW_CHECK(st, fw_decode(bad, sizeof(bad), 4u, &whole) < 0);
    memcpy(bad, fw_foldersync, sizeof(bad));
    bad[5] = 0xF0; /* code page 240 does not exist */
    FW_CHECK(st, fw_decode(bad, sizeof(bad), 4u, &whole) < 0);
}

#if FW_HAVE_VECTORS
static void check_wbxml_vectors(fw_st_t *st)
{
    char line[160];

    for (size_t i = 0; i < FW_VECTOR_COUNT; i++) {
        const fw_vector_t *v = &fw_vectors[i];
        fw_trace_t whole;
        fw_trace_t pieces;
        int e1 = fw_decode(v->data, v->len, v->len == 0u ? 1u : v->len, &whole);
        int e2 = fw_decode(v->data, v->len, 7u, &pieces);
        bool ok = v->expect_ok ? (e1 == EAS_OK) : (e1 < 0);

        /* Same verdict and, for valid documents, the same events however it was chunked. */
        ok = ok && (e1 == e2) &&
             (e1 != EAS_OK || (whole.starts == pieces.starts && whole.ends == pieces.ends &&
                               whole.starts == whole.ends));
        if (!ok) {
            (void)snprintf(line, sizeof(line), "  vector %s: %s (%d, chunked %d)\n", v->name,
                           v->expect_ok ? "expected to decode" : "expected an error", e1, e2);
            fw_print(line);
        }
        FW_CHECK(st, ok);
    }
}
#endif
#endif /* FW_HAVE_WBXML_H */

/* -------------------------------------------------------------- heap ---- */

static void check_no_heap(fw_st_t *st)
{
    /* Runs last: proves that nothing above (core, libc formatting) asked for heap. */
    FW_CHECK(st, fw_heap_requests() == 0u);
}

static void check_forced_failure(fw_st_t *st)
{
    FW_CHECK(st, !"failure requested with --force-fail");
}

unsigned fw_selftest_run(unsigned flags)
{
    fw_st_t st;
    char line[160];

    memset(&st, 0, sizeof(st));
    fw_run(&st, "err.strerror", check_strerror);
    fw_run(&st, "arena", check_arena);
    fw_run(&st, "log", check_log);
    fw_run(&st, "hal.store", check_hal_store);
    fw_run(&st, "hal.time", check_hal_time);
    fw_run(&st, "hal.rng", check_hal_rng);

#if FW_HAVE_WBXML_H
    if (eas_wbxml_enc_init != NULL) {
        fw_run(&st, "wbxml.encode", check_wbxml_encode);
    } else {
        fw_skip(&st, "wbxml.encode", "encoder not in this build");
    }
    if (eas_wbxml_dec_init != NULL) {
        fw_run(&st, "wbxml.decode", check_wbxml_decode);
#if FW_HAVE_VECTORS
        fw_run(&st, "wbxml.vectors", check_wbxml_vectors);
#else
        fw_skip(&st, "wbxml.vectors", "no vectors in tests/vectors");
#endif
    } else {
        fw_skip(&st, "wbxml.decode", "decoder not in this build");
    }
#else
    fw_skip(&st, "wbxml", "no eas_wbxml.h");
#endif

    if ((flags & FW_SELFTEST_FORCE_FAIL) != 0u) {
        fw_run(&st, "forced-failure", check_forced_failure);
    }
    fw_run(&st, "no-heap", check_no_heap);

    (void)snprintf(
        line, sizeof(line), "SELFTEST: %u passed, %u failed, %u skipped; peak stack %u B of %u B\n",
        st.passed, st.failed, st.skipped, (unsigned)st.stack_peak, (unsigned)fw_stack_size());
    fw_print(line);
    return st.failed;
}
