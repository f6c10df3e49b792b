/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Cross-check of the case table against an independent implementation: libical expands the
 * equivalent RFC 5545 RRULE of every case that has one, in the real Europe/Berlin and
 * America/New_York zones of the system's tz database, and must produce the same occurrences
 * as easd and as the table's hand-derived list. Deleted and moved originals become EXDATEs;
 * moved instances are added from the exception (libical has no EAS exceptions).
 *
 * Cases whose literal translation ("naive_rrule") means something else under RFC 5545 are
 * checked to really differ, documenting where Outlook and RFC 5545 part ways.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <libical/ical.h>

#include "cal_cases.h"
#include "eas/eas_config_defaults.h"
#include "eas/eas_err.h"

typedef struct span {
    int64_t s;
    int64_t e;
} span_t;

typedef struct spans {
    size_t n;
    span_t v[512];
    int64_t from;
    int64_t to;
} spans_t;

static eas_cal_exception_t g_ex[CONFIG_EAS_CAL_MAX_EXCEPTIONS];
static eas_cal_item_t g_item;
static cal_occ_list_t g_occ;
static spans_t g_lib;
static unsigned g_checked;
static unsigned g_differs;

static icaltimezone *zone_of(int tz)
{
    icaltimezone *z = icaltimezone_get_utc_timezone();
    if (tz == CAL_TZ_BERLIN) {
        z = icaltimezone_get_builtin_timezone("Europe/Berlin");
    } else if (tz == CAL_TZ_NEW_YORK) {
        z = icaltimezone_get_builtin_timezone("America/New_York");
    }
    assert_non_null(z);
    return z;
}

static int by_start(const void *a, const void *b)
{
    const span_t *x = a;
    const span_t *y = b;
    return (x->s > y->s) - (x->s < y->s);
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

/*
 * libical's own iterator walks the RRULE on DTSTART's local time in zone z, and libical
 * converts each local instance to UTC; EXDATEs are compared in UTC.
 */
static void lib_expand(const cal_case_t *c, const char *rrule, spans_t *out)
{
    icaltimezone *z = zone_of(c->tz);
    struct icalrecurrencetype r = icalrecurrencetype_from_string(rrule);
    until_on_local_clock(&r, z);
    int64_t start = cal_t(c->start);
    int64_t span = cal_t(c->end) - start;
    int64_t exdate[16];
    size_t nex = 0;
    assert_int_not_equal(r.freq, ICAL_NO_RECURRENCE);
    memset(out, 0, sizeof *out);
    out->from = cal_t(c->from);
    out->to = cal_t(c->to);
    /* every exception's original occurrence leaves the series */
    for (const char *q = c->exceptions; q != NULL && *q != '\0';) {
        char orig[17] = {0};
        memcpy(orig, q + 1, 16);
        assert_true(nex < 16);
        exdate[nex++] = cal_t(orig);
        if (q[0] == 'M') {
            char s[17] = {0};
            char e[17] = {0};
            memcpy(s, q + 18, 16);
            memcpy(e, q + 35, 16);
            if (cal_t(s) >= out->from && cal_t(s) < out->to) {
                out->v[out->n].s = cal_t(s);
                out->v[out->n].e = cal_t(e);
                out->n++;
            }
            q += 51;
        } else {
            q += 17;
        }
        while (*q == ' ') {
            q++;
        }
    }
    struct icaltimetype ds = icaltime_from_timet_with_zone((time_t)start, 0, z);
    icalrecur_iterator *it = icalrecur_iterator_new(r, ds);
    assert_non_null(it);
    for (int guard = 0; guard < 100000; guard++) {
        struct icaltimetype t = icalrecur_iterator_next(it);
        if (icaltime_is_null_time(t)) {
            break;
        }
        int64_t s = (int64_t)icaltime_as_timet_with_zone(t, z);
        if (s >= out->to) {
            break;
        }
        bool excluded = false;
        for (size_t i = 0; i < nex; i++) {
            excluded = excluded || (exdate[i] == s);
        }
        if (!excluded && s >= out->from && out->n < 512) {
            out->v[out->n].s = s;
            out->v[out->n].e = s + span;
            out->n++;
        }
    }
    icalrecur_iterator_free(it);
    qsort(out->v, out->n, sizeof out->v[0], by_start);
}

static bool same_as_easd(const spans_t *l)
{
    if (l->n != g_occ.n) {
        return false;
    }
    for (size_t i = 0; i < l->n; i++) {
        if (l->v[i].s != g_occ.occ[i].start || l->v[i].e != g_occ.occ[i].end) {
            return false;
        }
    }
    return true;
}

static void dump(const char *who, const cal_case_t *c, const spans_t *l)
{
    fprintf(stderr, "%s %s:", who, c->name);
    for (size_t i = 0; i < l->n; i++) {
        fprintf(stderr, " %lld/%lld", (long long)l->v[i].s, (long long)l->v[i].e);
    }
    fprintf(stderr, "\n");
}

static void libical_agrees_with_easd(void **state)
{
    (void)state;
    for (size_t k = 0; k < cal_case_count; k++) {
        const cal_case_t *c = &cal_cases[k];
        if (c->rrule == NULL) {
            continue;
        }
        assert_int_equal(cal_case_build(c, &g_item, g_ex, CONFIG_EAS_CAL_MAX_EXCEPTIONS), EAS_OK);
        memset(&g_occ, 0, sizeof g_occ);
        assert_int_equal(eas_cal_expand(&g_item, cal_t(c->from), cal_t(c->to), cal_collect, &g_occ),
                         EAS_OK);
        lib_expand(c, c->rrule, &g_lib);
        if (!same_as_easd(&g_lib)) {
            spans_t e = {0};
            for (size_t i = 0; i < g_occ.n; i++) {
                e.v[e.n++] = (span_t){g_occ.occ[i].start, g_occ.occ[i].end};
            }
            dump("libical", c, &g_lib);
            dump("easd   ", c, &e);
            fail_msg("%s: libical and easd disagree", c->name);
        }
        /* and libical agrees with the hand-derived starts of the table */
        size_t i = 0;
        for (const char *q = c->expect; *q != '\0'; i++) {
            char st[17] = {0};
            memcpy(st, q, 16);
            assert_true(i < g_lib.n);
            assert_int_equal(g_lib.v[i].s, cal_t(st));
            q += strcspn(q, " ");
            q += strspn(q, " ");
        }
        assert_int_equal(i, g_lib.n);
        g_checked++;
    }
    fprintf(stderr, "libical cross-check: %u of %zu cases\n", g_checked, cal_case_count);
    assert_true(g_checked >= cal_case_count - 4);
}

static void literal_rrules_differ_where_outlook_differs(void **state)
{
    (void)state;
    for (size_t k = 0; k < cal_case_count; k++) {
        const cal_case_t *c = &cal_cases[k];
        if (c->naive_rrule == NULL) {
            continue;
        }
        assert_int_equal(cal_case_build(c, &g_item, g_ex, CONFIG_EAS_CAL_MAX_EXCEPTIONS), EAS_OK);
        memset(&g_occ, 0, sizeof g_occ);
        assert_int_equal(eas_cal_expand(&g_item, cal_t(c->from), cal_t(c->to), cal_collect, &g_occ),
                         EAS_OK);
        lib_expand(c, c->naive_rrule, &g_lib);
        if (same_as_easd(&g_lib)) {
            fail_msg("%s: %s was expected to differ from Outlook", c->name, c->naive_rrule);
        }
        g_differs++;
    }
    fprintf(stderr, "documented RFC 5545 differences: %u\n", g_differs);
    assert_true(g_differs >= 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(libical_agrees_with_easd),
        cmocka_unit_test(literal_rrules_differ_where_outlook_differs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
