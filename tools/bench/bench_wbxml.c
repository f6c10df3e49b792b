/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench-wbxml: decode throughput and memory of easd's streaming decoder against libwbxml
 * on one large generated Sync response, in the same run. Prints numbers; asserts nothing.
 *
 *   bench-wbxml [MEGABYTES] [REPEATS]     (defaults: 12 MB, 5 repeats, best run counted)
 *
 * Heap use is counted by wrapping malloc/calloc/realloc/free (glibc's __libc_* entry
 * points); not available in sanitizer builds.
 */
#define _GNU_SOURCE
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "eas/eas_err.h"
#include "eas/eas_wbxml.h"
#include "wbxml_ref.h"

/* ---- heap accounting ---- */
#if defined(__SANITIZE_ADDRESS__)
#define BENCH_COUNT_HEAP 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define BENCH_COUNT_HEAP 0
#endif
#endif
#ifndef BENCH_COUNT_HEAP
#define BENCH_COUNT_HEAP 1
#endif

static size_t g_heap_now, g_heap_peak;

#if BENCH_COUNT_HEAP
extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t m);
extern void *__libc_realloc(void *p, size_t n);
extern void __libc_free(void *p);

static void heap_add(void *p)
{
    if (p != NULL) {
        g_heap_now += malloc_usable_size(p);
        if (g_heap_now > g_heap_peak) {
            g_heap_peak = g_heap_now;
        }
    }
}

void *malloc(size_t n)
{
    void *p = __libc_malloc(n);
    heap_add(p);
    return p;
}

void *calloc(size_t n, size_t m)
{
    void *p = __libc_calloc(n, m);
    heap_add(p);
    return p;
}

void *realloc(void *old, size_t n)
{
    size_t before = old ? malloc_usable_size(old) : 0;
    void *p = __libc_realloc(old, n);
    if (p != NULL || n == 0) {
        g_heap_now -= before;
        heap_add(p);
    }
    return p;
}

void free(void *p)
{
    if (p != NULL) {
        g_heap_now -= malloc_usable_size(p);
    }
    __libc_free(p);
}
#endif

static void heap_reset_peak(void)
{
    g_heap_peak = g_heap_now;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- document ---- */
typedef struct outbuf {
    uint8_t *p;
    size_t len, cap;
} outbuf_t;

static int out_flush(void *user, const uint8_t *d, size_t n)
{
    outbuf_t *o = user;
    if (o->len + n > o->cap) {
        o->cap = (o->len + n) * 2;
        o->p = realloc(o->p, o->cap);
        if (o->p == NULL) {
            return EAS_ERR_NOMEM;
        }
    }
    memcpy(o->p + o->len, d, n);
    o->len += n;
    return EAS_OK;
}

/* A Sync response with calendar items (recurrence, exceptions, attendees, body) until
 * the document reaches @p target bytes. */
static size_t make_sync(outbuf_t *o, size_t target)
{
    static const char body[] =
        "Agenda: review of the quarter, hiring, the release plan and any other business. "
        "Please bring your notes; the dial-in details are below. ";
    uint8_t buf[1024];
    eas_wbxml_enc_t e;
    char id[32];
    size_t items = 0;

    eas_wbxml_enc_init(&e, buf, sizeof(buf), out_flush, o);
    eas_wbxml_enc_start(&e, EAS_AIRSYNC_SYNC);
    eas_wbxml_enc_start(&e, EAS_AIRSYNC_COLLECTIONS);
    eas_wbxml_enc_start(&e, EAS_AIRSYNC_COLLECTION);
    eas_wbxml_enc_elem_text(&e, EAS_AIRSYNC_SYNC_KEY, "1714031025");
    eas_wbxml_enc_elem_text(&e, EAS_AIRSYNC_COLLECTION_ID, "1");
    eas_wbxml_enc_elem_uint(&e, EAS_AIRSYNC_STATUS, 1);
    eas_wbxml_enc_start(&e, EAS_AIRSYNC_COMMANDS);
    while (eas_wbxml_enc_total(&e) < target) {
        snprintf(id, sizeof(id), "1:%zu", ++items);
        eas_wbxml_enc_start(&e, EAS_AIRSYNC_ADD);
        eas_wbxml_enc_elem_text(&e, EAS_AIRSYNC_SERVER_ID, id);
        eas_wbxml_enc_start(&e, EAS_AIRSYNC_APPLICATION_DATA);
        eas_wbxml_enc_elem_text(&e, EAS_CALENDAR_TIMEZONE,
                                "xP///wAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
                                "AAAKAAAABQADAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
                                "AAAAAAMAAAAFAAIAAAAAAAAAxP///w==");
        eas_wbxml_enc_elem_text(&e, EAS_CALENDAR_DT_STAMP, "20240425T081500Z");
        eas_wbxml_enc_elem_text(&e, EAS_CALENDAR_START_TIME, "20240506T070000Z");
        eas_wbxml_enc_elem_text(&e, EAS_CALENDAR_END_TIME, "20240506T073000Z");
        eas_wbxml_enc_elem_text(&e, EAS_CALENDAR_SUBJECT, "Weekly stand-up");
        eas_wbxml_enc_elem_text(&e, EAS_CALENDAR_UID, id);
        eas_wbxml_enc_elem_text(&e, EAS_CALENDAR_ORGANIZER_EMAIL, "ada@example.org");
        eas_wbxml_enc_start(&e, EAS_CALENDAR_ATTENDEES);
        for (int a = 0; a < 3; a++) {
            eas_wbxml_enc_start(&e, EAS_CALENDAR_ATTENDEE);
            eas_wbxml_enc_elem_text(&e, EAS_CALENDAR_ATTENDEE_EMAIL, "bob@example.org");
            eas_wbxml_enc_elem_text(&e, EAS_CALENDAR_ATTENDEE_NAME, "Bob");
            eas_wbxml_enc_elem_uint(&e, EAS_CALENDAR_ATTENDEE_STATUS, 3);
            eas_wbxml_enc_end(&e);
        }
        eas_wbxml_enc_end(&e);
        eas_wbxml_enc_start(&e, EAS_AIRSYNCBASE_BODY);
        eas_wbxml_enc_elem_uint(&e, EAS_AIRSYNCBASE_TYPE, 1);
        eas_wbxml_enc_elem_text(&e, EAS_AIRSYNCBASE_DATA, body);
        eas_wbxml_enc_end(&e);
        eas_wbxml_enc_start(&e, EAS_CALENDAR_RECURRENCE);
        eas_wbxml_enc_elem_uint(&e, EAS_CALENDAR_TYPE, 1);
        eas_wbxml_enc_elem_uint(&e, EAS_CALENDAR_INTERVAL, 1);
        eas_wbxml_enc_elem_uint(&e, EAS_CALENDAR_DAY_OF_WEEK, 62);
        eas_wbxml_enc_end(&e);
        eas_wbxml_enc_start(&e, EAS_CALENDAR_EXCEPTIONS);
        eas_wbxml_enc_start(&e, EAS_CALENDAR_EXCEPTION);
        eas_wbxml_enc_elem_uint(&e, EAS_CALENDAR_DELETED, 1);
        eas_wbxml_enc_elem_text(&e, EAS_CALENDAR_EXCEPTION_START_TIME, "20240508T070000Z");
        eas_wbxml_enc_end(&e);
        eas_wbxml_enc_end(&e);
        eas_wbxml_enc_end(&e); /* ApplicationData */
        eas_wbxml_enc_end(&e); /* Add */
    }
    eas_wbxml_enc_end(&e);
    eas_wbxml_enc_elem_empty(&e, EAS_AIRSYNC_MORE_AVAILABLE);
    eas_wbxml_enc_end(&e);
    eas_wbxml_enc_end(&e);
    eas_wbxml_enc_end(&e);
    if (eas_wbxml_enc_finish(&e) != EAS_OK) {
        fprintf(stderr, "bench-wbxml: encoder: %s\n", eas_strerror(e.err));
        exit(1);
    }
    return items;
}

static int count_cb(void *user, const eas_wbxml_event_t *ev)
{
    (void)ev;
    (*(size_t *)user)++;
    return EAS_OK;
}

int main(int argc, char **argv)
{
    size_t mb = (argc > 1) ? strtoul(argv[1], NULL, 0) : 12;
    int reps = (argc > 2) ? atoi(argv[2]) : 5;
    outbuf_t doc = {NULL, 0, 0};
    size_t items = make_sync(&doc, mb * 1000000u);
    double best_ours = 1e9, best_ref = 1e9, best_tree = 1e9;
    size_t ev_ours = 0, ev_ref = 0, peak_ours = 0, peak_ref = 0, peak_tree = 0;
    const size_t chunk = 4096;

    for (int r = 0; r < reps; r++) {
        eas_wbxml_dec_t dec;
        heap_reset_peak();
        size_t base = g_heap_now;
        double t0 = now_s();
        ev_ours = 0;
        eas_wbxml_dec_init(&dec, count_cb, &ev_ours);
        int err = EAS_OK;
        for (size_t off = 0; off < doc.len && err == EAS_OK; off += chunk) {
            err = eas_wbxml_dec_feed(&dec, doc.p + off,
                                     (doc.len - off < chunk) ? doc.len - off : chunk);
        }
        if (err == EAS_OK) {
            err = eas_wbxml_dec_finish(&dec);
        }
        double t = now_s() - t0;
        peak_ours = g_heap_peak - base;
        if (err != EAS_OK) {
            fprintf(stderr, "bench-wbxml: our decoder: %s\n", eas_strerror(err));
            return 1;
        }
        best_ours = (t < best_ours) ? t : best_ours;

        heap_reset_peak();
        base = g_heap_now;
        t0 = now_s();
        int rerr = wbxml_ref_count(doc.p, doc.len, &ev_ref);
        t = now_s() - t0;
        peak_ref = g_heap_peak - base;
        if (rerr != 0) {
            fprintf(stderr, "bench-wbxml: libwbxml parser error %d\n", rerr);
            return 1;
        }
        best_ref = (t < best_ref) ? t : best_ref;

        heap_reset_peak();
        base = g_heap_now;
        t0 = now_s();
        rerr = wbxml_ref_tree(doc.p, doc.len);
        t = now_s() - t0;
        peak_tree = g_heap_peak - base;
        if (rerr != 0) {
            fprintf(stderr, "bench-wbxml: libwbxml tree error %d\n", rerr);
            return 1;
        }
        best_tree = (t < best_tree) ? t : best_tree;
    }
    double mbytes = (double)doc.len / 1e6;
    printf("document: Sync response, %zu calendar items, %.2f MB, fed in %zu-byte chunks\n", items,
           mbytes, chunk);
    printf("easd decoder:        %8.1f MB/s  (%zu events, best of %d)\n", mbytes / best_ours,
           ev_ours, reps);
    printf("libwbxml parser:     %8.1f MB/s  (%zu callbacks, whole document in one call)\n",
           mbytes / best_ref, ev_ref);
    printf("libwbxml tree:       %8.1f MB/s\n", mbytes / best_tree);
    printf("ratio easd/libwbxml: %8.1fx (parser), %.1fx (tree)\n", best_ref / best_ours,
           best_tree / best_ours);
    printf("easd decoder state:  %zu bytes (sizeof(eas_wbxml_dec_t)), independent of size\n",
           sizeof(eas_wbxml_dec_t));
#if BENCH_COUNT_HEAP
    printf("peak heap while decoding: easd %zu bytes, libwbxml parser %zu bytes, "
           "libwbxml tree %zu bytes\n",
           peak_ours, peak_ref, peak_tree);
#else
    (void)peak_ours;
    (void)peak_ref;
    (void)peak_tree;
    printf("peak heap: not counted in sanitizer builds\n");
#endif
    free(doc.p);
    return 0;
}
