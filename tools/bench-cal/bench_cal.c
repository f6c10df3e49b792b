/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench-cal: expand 1,000 mixed recurring events over one year with easd and with libical
 * in the same run; print occurrences per second, the ratio and heap use.
 *
 *   bench-cal [ROUNDS]     (default 20)
 *
 * The events (daily, weekly with several days, monthly by day, monthly n-th weekday, yearly,
 * yearly n-th; Interval 1-3; UTC, Europe/Berlin and America/New_York) are generated from a
 * fixed seed. Both engines do the same work per occurrence: walk the pattern in local time
 * and convert to UTC. libical gets the equivalent RRULE and its builtin zones (system tzdata).
 * Heap use is measured by interposing malloc in this binary.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libical/ical.h>

#include "eas/eas_cal.h"
#include "eas/eas_err.h"

/* ---- heap accounting (glibc: forward to the __libc_* entry points) ----
 * Not under AddressSanitizer, which owns malloc itself; the numbers then read "n/a". */
#if defined(__SANITIZE_ADDRESS__)
#define BENCH_HEAP 0
#else
#define BENCH_HEAP 1
#endif

static int g_count_heap;
static size_t g_allocs;
static size_t g_cur;
static size_t g_peak;

#if BENCH_HEAP
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);
size_t malloc_usable_size(void *);

static void track(void *p, int sign)
{
    if (g_count_heap && p != NULL) {
        size_t n = malloc_usable_size(p);
        if (sign > 0) {
            g_allocs++;
            g_cur += n;
            if (g_cur > g_peak) {
                g_peak = g_cur;
            }
        } else if (g_cur >= n) {
            g_cur -= n;
        }
    }
}

void *malloc(size_t n)
{
    void *p = __libc_malloc(n);
    track(p, 1);
    return p;
}

void *calloc(size_t a, size_t b)
{
    void *p = __libc_calloc(a, b);
    track(p, 1);
    return p;
}

void *realloc(void *old, size_t n)
{
    track(old, -1);
    void *p = __libc_realloc(old, n);
    track(p, 1);
    return p;
}

void free(void *p)
{
    track(p, -1);
    __libc_free(p);
}
#endif

static void heap_reset(void)
{
    g_allocs = 0;
    g_cur = 0;
    g_peak = 0;
}

/* ---- workload ---- */
#define NEV 1000

typedef struct ev {
    eas_cal_item_t item;
    char rrule[128];
    int zone; /* 0 UTC, 1 Berlin, 2 New York */
} ev_t;

static ev_t g_ev[NEV];
static const int64_t k_from = 1767225600; /* 2026-01-01T00:00:00Z */
static const int64_t k_to = 1798761600;   /* 2027-01-01T00:00:00Z */

static uint32_t g_seed = 12345u;
static uint32_t rnd(uint32_t n)
{
    g_seed = g_seed * 1103515245u + 12345u;
    return (g_seed >> 8) % n;
}

static void tz_of(int zone, eas_cal_tz_t *tz)
{
    eas_cal_tz_utc(tz);
    if (zone == 1) {
        tz->bias = -60;
        tz->daylight_bias = -60;
        tz->standard_date = (eas_cal_tz_rule_t){0, 10, 0, 5, 3, 0, 0, 0};
        tz->daylight_date = (eas_cal_tz_rule_t){0, 3, 0, 5, 2, 0, 0, 0};
        tz->has_dst = true;
    } else if (zone == 2) {
        tz->bias = 300;
        tz->daylight_bias = -60;
        tz->standard_date = (eas_cal_tz_rule_t){0, 11, 0, 1, 2, 0, 0, 0};
        tz->daylight_date = (eas_cal_tz_rule_t){0, 3, 0, 2, 2, 0, 0, 0};
        tz->has_dst = true;
    }
}

static const char *k_byday[7] = {"SU", "MO", "TU", "WE", "TH", "FR", "SA"};

static void make_events(void)
{
    for (int i = 0; i < NEV; i++) {
        ev_t *e = &g_ev[i];
        eas_cal_item_t *it = &e->item;
        eas_cal_recurrence_t *r = &it->recurrence;
        eas_cal_civil_t c;
        int kind = (int)rnd(6);
        unsigned interval = 1u + rnd(kind == 0 ? 3 : 2);
        int64_t local;
        eas_cal_item_init(it, NULL, 0, NULL, 0);
        e->zone = (int)rnd(3);
        tz_of(e->zone, &it->tz);
        /* a local start during 2025, 07:00 .. 18:30 on the half hour */
        local = 1735689600 + (int64_t)rnd(365) * 86400 + 25200 + (int64_t)rnd(24) * 1800;
        it->start = eas_cal_tz_to_utc(&it->tz, local);
        it->end = it->start + 1800 + (int64_t)rnd(4) * 1800;
        it->present = EAS_CAL_F_START | EAS_CAL_F_END | EAS_CAL_F_RECURRENCE;
        eas_cal_civil_from_time(local, &c);
        r->present = EAS_CAL_RF_TYPE | EAS_CAL_RF_INTERVAL;
        r->interval = interval;
        switch (kind) {
        case 0:
            r->type = EAS_CAL_RECUR_DAILY;
            snprintf(e->rrule, sizeof e->rrule, "FREQ=DAILY;INTERVAL=%u", interval);
            if (rnd(2) == 0u) {
                /* Type 0 with DayOfWeek (SOGo's FREQ=DAILY;BYDAY=...): the start's weekday
                 * plus random others, so RFC 5545's DTSTART is an occurrence in both */
                uint8_t mask = (uint8_t)((1u << c.wday) | rnd(128));
                char days[40] = "";
                r->day_of_week = mask;
                r->present |= EAS_CAL_RF_DAY_OF_WEEK;
                for (int d = 0; d < 7; d++) {
                    if (mask & (1u << d)) {
                        strcat(days, days[0] ? "," : "");
                        strcat(days, k_byday[d]);
                    }
                }
                snprintf(e->rrule, sizeof e->rrule, "FREQ=DAILY;INTERVAL=%u;BYDAY=%s", interval,
                         days);
            }
            break;
        case 1: {
            /* the start's weekday plus one or two more; weeks start on Sunday (FirstDayOfWeek
             * absent = 0), which RFC 5545 spells WKST=SU */
            uint8_t mask = (uint8_t)((1u << c.wday) | (1u << rnd(7)) | (1u << rnd(7)));
            char days[40] = "";
            r->type = EAS_CAL_RECUR_WEEKLY;
            r->day_of_week = mask;
            r->present |= EAS_CAL_RF_DAY_OF_WEEK;
            for (int d = 0; d < 7; d++) {
                if (mask & (1u << d)) {
                    strcat(days, days[0] ? "," : "");
                    strcat(days, k_byday[d]);
                }
            }
            snprintf(e->rrule, sizeof e->rrule, "FREQ=WEEKLY;INTERVAL=%u;BYDAY=%s;WKST=SU",
                     interval, days);
            break;
        }
        case 2:
            /* the start's day, capped at 28 so RFC 5545 and Outlook agree */
            if (c.day > 28) {
                local -= (int64_t)(c.day - 28) * 86400;
                it->start = eas_cal_tz_to_utc(&it->tz, local);
                it->end = it->start + 3600;
                c.day = 28;
            }
            r->type = EAS_CAL_RECUR_MONTHLY;
            r->day_of_month = c.day;
            r->present |= EAS_CAL_RF_DAY_OF_MONTH;
            snprintf(e->rrule, sizeof e->rrule, "FREQ=MONTHLY;INTERVAL=%u;BYMONTHDAY=%u", interval,
                     c.day);
            break;
        case 3: {
            unsigned wom = (c.day - 1u) / 7u + 1u;
            if (wom > 4) {
                wom = 5;
            }
            r->type = EAS_CAL_RECUR_MONTHLY_NTH;
            r->day_of_week = (uint8_t)(1u << c.wday);
            r->week_of_month = (uint8_t)wom;
            r->present |= EAS_CAL_RF_DAY_OF_WEEK | EAS_CAL_RF_WEEK_OF_MONTH;
            snprintf(e->rrule, sizeof e->rrule, "FREQ=MONTHLY;INTERVAL=%u;BYDAY=%d%s", interval,
                     wom == 5 ? -1 : (int)wom, k_byday[c.wday]);
            break;
        }
        case 4:
            if (c.day > 28) {
                local -= (int64_t)(c.day - 28) * 86400;
                it->start = eas_cal_tz_to_utc(&it->tz, local);
                it->end = it->start + 3600;
                c.day = 28;
            }
            r->type = EAS_CAL_RECUR_YEARLY;
            r->day_of_month = c.day;
            r->month_of_year = c.month;
            r->interval = 1;
            r->present |= EAS_CAL_RF_DAY_OF_MONTH | EAS_CAL_RF_MONTH_OF_YEAR;
            snprintf(e->rrule, sizeof e->rrule, "FREQ=YEARLY;BYMONTH=%u;BYMONTHDAY=%u", c.month,
                     c.day);
            break;
        default: {
            unsigned wom = (c.day - 1u) / 7u + 1u;
            if (wom > 4) {
                wom = 5;
            }
            r->type = EAS_CAL_RECUR_YEARLY_NTH;
            r->day_of_week = (uint8_t)(1u << c.wday);
            r->week_of_month = (uint8_t)wom;
            r->month_of_year = c.month;
            r->interval = 1;
            r->present |=
                EAS_CAL_RF_DAY_OF_WEEK | EAS_CAL_RF_WEEK_OF_MONTH | EAS_CAL_RF_MONTH_OF_YEAR;
            snprintf(e->rrule, sizeof e->rrule, "FREQ=YEARLY;BYMONTH=%u;BYDAY=%d%s", c.month,
                     wom == 5 ? -1 : (int)wom, k_byday[c.wday]);
            break;
        }
        }
        if (rnd(4) == 0u) {
            /* Until at a random instant (any time of day, in UTC as RFC 5545 servers pass
             * it): compared with each occurrence start, inclusive, by both */
            char u[20];
            size_t len = strlen(e->rrule);
            r->until = it->start + (int64_t)rnd(400) * 86400 + (int64_t)rnd(48) * 1800;
            r->present |= EAS_CAL_RF_UNTIL;
            eas_cal_format_time(r->until, EAS_CAL_FMT_COMPACT, u, sizeof u);
            snprintf(e->rrule + len, sizeof e->rrule - len, ";UNTIL=%s", u);
        }
    }
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

typedef struct acc {
    uint64_t n;
    int64_t sum;
    int64_t last; /* start of the last occurrence delivered */
} acc_t;

static int on_occ(void *user, const eas_cal_occurrence_t *occ)
{
    acc_t *a = user;
    a->n++;
    a->sum += occ->start;
    a->last = occ->start;
    return EAS_OK;
}

static acc_t run_easd(int rounds)
{
    acc_t a = {0, 0, 0};
    for (int k = 0; k < rounds; k++) {
        for (int i = 0; i < NEV; i++) {
            int64_t from = k_from;
            int err;
            /* A small CONFIG_EAS_CAL_MAX_OCCURRENCES ends a call early: resume after the
             * last start, as an application paging through a long window does. */
            while ((err = eas_cal_expand(&g_ev[i].item, from, k_to, on_occ, &a)) == EAS_ERR_LIMIT) {
                from = a.last + 1;
            }
            if (err != EAS_OK) {
                fprintf(stderr, "easd: event %d: %s\n", i, eas_err_name(err));
                exit(1);
            }
        }
    }
    return a;
}

/*
 * libical 3.0's iterator walks DTSTART's wall clock and compares a UTC UNTIL with it digit
 * by digit (09:00Z against 08:00 New York local). Put UNTIL on the same wall clock so the
 * oracle compares instants, as RFC 5545 says.
 */
static void until_on_local_clock(struct icalrecurrencetype *r, icaltimezone *z)
{
    if (!icaltime_is_null_time(r->until) && icaltime_is_utc(r->until)) {
        r->until = icaltime_convert_to_zone(r->until, z);
        r->until.zone = NULL;
    }
}

static acc_t run_libical(int rounds, icaltimezone **zones)
{
    acc_t a = {0, 0, 0};
    for (int k = 0; k < rounds; k++) {
        for (int i = 0; i < NEV; i++) {
            ev_t *e = &g_ev[i];
            icaltimezone *z = zones[e->zone];
            struct icalrecurrencetype r = icalrecurrencetype_from_string(e->rrule);
            until_on_local_clock(&r, z);
            struct icaltimetype ds = icaltime_from_timet_with_zone((time_t)e->item.start, 0, z);
            icalrecur_iterator *it = icalrecur_iterator_new(r, ds);
            for (;;) {
                struct icaltimetype t = icalrecur_iterator_next(it);
                if (icaltime_is_null_time(t)) {
                    break;
                }
                int64_t s = (int64_t)icaltime_as_timet_with_zone(t, z);
                if (s >= k_to) {
                    break;
                }
                if (s >= k_from) {
                    a.n++;
                    a.sum += s;
                }
            }
            icalrecur_iterator_free(it);
        }
    }
    return a;
}

static acc_t run_libical_one(icaltimezone **zones)
{
    acc_t a = {0, 0, 0};
    ev_t *e = &g_ev[0];
    icaltimezone *z = zones[e->zone];
    struct icalrecurrencetype r = icalrecurrencetype_from_string(e->rrule);
    until_on_local_clock(&r, z);
    struct icaltimetype ds = icaltime_from_timet_with_zone((time_t)e->item.start, 0, z);
    icalrecur_iterator *it = icalrecur_iterator_new(r, ds);
    for (;;) {
        struct icaltimetype t = icalrecur_iterator_next(it);
        if (icaltime_is_null_time(t)) {
            break;
        }
        int64_t s = (int64_t)icaltime_as_timet_with_zone(t, z);
        if (s >= k_to) {
            break;
        }
        if (s >= k_from) {
            a.n++;
            a.sum += s;
        }
    }
    icalrecur_iterator_free(it);
    return a;
}

int main(int argc, char **argv)
{
    int rounds = (argc > 1) ? atoi(argv[1]) : 20;
    icaltimezone *zones[3];
    double t0;
    double te;
    double tl;
    acc_t ae;
    acc_t al;
    size_t e_allocs;
    size_t e_peak;
    size_t l_allocs;
    size_t l_peak;

    if (rounds < 1) {
        rounds = 1;
    }
    zones[0] = icaltimezone_get_utc_timezone();
    zones[1] = icaltimezone_get_builtin_timezone("Europe/Berlin");
    zones[2] = icaltimezone_get_builtin_timezone("America/New_York");
    if (zones[1] == NULL || zones[2] == NULL) {
        fprintf(stderr, "libical: builtin zones missing (tzdata)\n");
        return 1;
    }
    make_events();
    /* warm up both (libical loads its zone data lazily) and check they agree */
    ae = run_easd(1);
    al = run_libical(1, zones);
    if (getenv("BENCH_CAL_DIFF") != NULL) {
        for (int i = 0; i < NEV; i++) {
            acc_t x = {0, 0, 0};
            acc_t y = {0, 0, 0};
            ev_t one = g_ev[i];
            ev_t keep = g_ev[0];
            int64_t from = k_from;
            while (eas_cal_expand(&one.item, from, k_to, on_occ, &x) == EAS_ERR_LIMIT) {
                from = x.last + 1;
            }
            g_ev[0] = one;
            y = run_libical_one(zones);
            g_ev[0] = keep;
            if (x.n != y.n || x.sum != y.sum) {
                printf("differs: event %d zone %d %s start %lld: easd %llu libical %llu\n", i,
                       one.zone, one.rrule, (long long)one.item.start, (unsigned long long)x.n,
                       (unsigned long long)y.n);
            }
        }
    }
    printf("events: %d mixed recurring, window 2026-01-01..2027-01-01, %d rounds\n", NEV, rounds);
    printf("occurrences per round: easd %llu, libical %llu (%s)\n", (unsigned long long)ae.n,
           (unsigned long long)al.n,
           (ae.n == al.n && ae.sum == al.sum) ? "identical" : "DIFFERENT");

    heap_reset();
    g_count_heap = 1;
    t0 = now_s();
    ae = run_easd(rounds);
    te = now_s() - t0;
    g_count_heap = 0;
    e_allocs = g_allocs;
    e_peak = g_peak;

    heap_reset();
    g_count_heap = 1;
    t0 = now_s();
    al = run_libical(rounds, zones);
    tl = now_s() - t0;
    g_count_heap = 0;
    l_allocs = g_allocs;
    l_peak = g_peak;

    printf("easd:    %.3f s  %.0f occurrences/s\n", te, (double)ae.n / te);
    printf("libical: %.3f s  %.0f occurrences/s\n", tl, (double)al.n / tl);
    if (BENCH_HEAP) {
        printf("heap during expansion: easd %zu allocations / peak %zu bytes; libical %zu "
               "allocations / peak %zu bytes\n",
               e_allocs, e_peak, l_allocs, l_peak);
    } else {
        printf("heap: n/a (sanitizer build)\n");
    }
    printf("ratio easd/libical: %.1fx\n", ((double)ae.n / te) / ((double)al.n / tl));
    printf("sizeof(eas_cal_item_t) = %zu bytes (caller-owned)\n", sizeof(eas_cal_item_t));
    return (ae.n == al.n && ae.sum == al.sum) ? 0 : 1;
}
