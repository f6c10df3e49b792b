/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Calendar: civil time, TimeZone blobs, the item collector and recurrence expansion.
 * The case table (cal_cases.c) documents how each expectation was derived;
 * test_cal_libical checks the same cases against libical.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cal_cases.h"
#include "eas/eas_base64.h"
#include "eas/eas_cal.h"
#include "eas/eas_config_defaults.h"
#include "eas/eas_err.h"
#include "test_hal.h"

static eas_cal_exception_t g_ex[CONFIG_EAS_CAL_MAX_EXCEPTIONS];
static eas_cal_item_t g_item;
static cal_occ_list_t g_occ;

/* ---------------------------------------------------------------- civil time */

static void civil_round_trips_and_known_days(void **state)
{
    (void)state;
    assert_int_equal(eas_cal_days_from_civil(1970, 1, 1), 0);
    assert_int_equal(eas_cal_days_from_civil(2000, 3, 1), 11017);
    assert_int_equal(eas_cal_days_from_civil(1969, 12, 31), -1);
    assert_int_equal(eas_cal_days_from_civil(1601, 1, 1), -134774);
    for (int64_t d = -134774; d < 2932897; d += 997) {
        eas_cal_civil_t c;
        int64_t t = 0;
        eas_cal_civil_from_time(d * 86400 + 3723, &c);
        assert_int_equal(eas_cal_days_from_civil(c.year, c.month, c.day), d);
        assert_int_equal(c.hour, 1);
        assert_int_equal(c.minute, 2);
        assert_int_equal(c.second, 3);
        assert_int_equal(c.wday, (unsigned)(((d % 7) + 7 + 4) % 7));
        assert_int_equal(eas_cal_time_from_civil(&c, &t), EAS_OK);
        assert_int_equal(t, d * 86400 + 3723);
    }
    assert_int_equal(eas_cal_days_in_month(2024, 2), 29);
    assert_int_equal(eas_cal_days_in_month(2100, 2), 28);
    assert_int_equal(eas_cal_days_in_month(2000, 2), 29);
    assert_int_equal(eas_cal_days_in_month(2026, 4), 30);
    assert_int_equal(eas_cal_days_in_month(2026, 13), 0);
}

static void civil_rejects_impossible_dates(void **state)
{
    (void)state;
    eas_cal_civil_t c = {2025, 2, 29, 0, 0, 0, 0};
    int64_t t = 0;
    assert_int_equal(eas_cal_time_from_civil(&c, &t), EAS_ERR_CAL_TIME);
    c.year = 2024;
    assert_int_equal(eas_cal_time_from_civil(&c, &t), EAS_OK);
    c.hour = 24;
    assert_int_equal(eas_cal_time_from_civil(&c, &t), EAS_ERR_CAL_TIME);
    c.hour = 0;
    c.year = 1600;
    assert_int_equal(eas_cal_time_from_civil(&c, &t), EAS_ERR_CAL_TIME);
    assert_int_equal(eas_cal_time_from_civil(NULL, &t), EAS_ERR_PARAM);
}

static void time_text_both_eas_forms(void **state)
{
    (void)state;
    int64_t t = 0;
    char buf[32];
    assert_int_equal(eas_cal_parse_time("20261129T090000Z", 16, &t), EAS_OK);
    assert_int_equal(t, 1795942800);
    assert_int_equal(eas_cal_parse_time("2026-11-29T09:00:00.000Z", 24, &t), EAS_OK);
    assert_int_equal(t, 1795942800);
    assert_int_equal(eas_cal_parse_time(" 2026-11-29T09:00:00Z\n", 22, &t), EAS_OK);
    assert_int_equal(t, 1795942800);
    static const char *bad[] = {
        "20261129T090000",      "20261329T090000Z",         "20260230T090000Z",
        "2026112XT090000Z",     "2026-11-29 09:00:00Z",     "2026-11-29T09:00:00.Z",
        "2026-11-29T09:00:60Z", "2026-11-29T09:00:00.12aZ", "",
        "16001231T235959Z",     "20261129T240000Z",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(eas_cal_parse_time(bad[i], strlen(bad[i]), &t), EAS_ERR_CAL_TIME);
    }
    assert_int_equal(eas_cal_format_time(1795942800, EAS_CAL_FMT_ISO, buf, sizeof buf), EAS_OK);
    assert_string_equal(buf, "2026-11-29T09:00:00Z");
    assert_int_equal(eas_cal_format_time(1795942800, EAS_CAL_FMT_COMPACT, buf, sizeof buf), EAS_OK);
    assert_string_equal(buf, "20261129T090000Z");
    assert_int_equal(eas_cal_format_time(1795942800, EAS_CAL_FMT_EAS, buf, sizeof buf), EAS_OK);
    assert_string_equal(buf, "2026-11-29T09:00:00.000Z");
    assert_int_equal(eas_cal_format_time(-1, EAS_CAL_FMT_ISO, buf, sizeof buf), EAS_OK);
    assert_string_equal(buf, "1969-12-31T23:59:59Z");
    assert_int_equal(eas_cal_format_time(1795942800, EAS_CAL_FMT_ISO, buf, 20), EAS_ERR_NOMEM);
    assert_int_equal(eas_cal_format_time(EAS_CAL_TIME_MAX + 1, EAS_CAL_FMT_ISO, buf, sizeof buf),
                     EAS_ERR_CAL_TIME);
}

/* ---------------------------------------------------------------- time zones */

static void tz_berlin_blob_and_transitions(void **state)
{
    (void)state;
    uint8_t blob[EAS_CAL_TZ_BLOB_LEN];
    eas_cal_tz_t tz;
    cal_case_blob(CAL_TZ_BERLIN, blob);
    assert_int_equal(eas_cal_tz_parse(blob, sizeof blob, &tz), EAS_OK);
    assert_int_equal(tz.bias, -60);
    assert_int_equal(tz.daylight_bias, -60);
    assert_true(tz.has_dst);
    assert_false(tz.unspecified);
    assert_int_equal(tz.daylight_date.month, 3);
    assert_int_equal(tz.standard_date.day, 5);
    /* 2026-03-29 01:00Z: 02:00 CET becomes 03:00 CEST. */
    assert_int_equal(eas_cal_tz_offset(&tz, cal_t("20260329T005959Z")), 3600);
    assert_int_equal(eas_cal_tz_offset(&tz, cal_t("20260329T010000Z")), 7200);
    /* 2026-10-25 01:00Z: 03:00 CEST becomes 02:00 CET. */
    assert_int_equal(eas_cal_tz_offset(&tz, cal_t("20261025T005959Z")), 7200);
    assert_int_equal(eas_cal_tz_offset(&tz, cal_t("20261025T010000Z")), 3600);
    /* 2027: last Sundays are Mar 28 and Oct 31. */
    assert_int_equal(eas_cal_tz_offset(&tz, cal_t("20270328T010000Z")), 7200);
    assert_int_equal(eas_cal_tz_offset(&tz, cal_t("20271031T005959Z")), 7200);
    assert_int_equal(eas_cal_tz_offset(&tz, cal_t("20271031T010000Z")), 3600);
    /* local -> UTC: ordinary, skipped (02:30 on Mar 29) and repeated (02:30 on Oct 25). */
    assert_int_equal(eas_cal_tz_to_utc(&tz, cal_t("20260115T120000Z")), cal_t("20260115T110000Z"));
    assert_int_equal(eas_cal_tz_to_utc(&tz, cal_t("20260715T120000Z")), cal_t("20260715T100000Z"));
    assert_int_equal(eas_cal_tz_to_utc(&tz, cal_t("20260329T023000Z")), cal_t("20260329T013000Z"));
    assert_int_equal(eas_cal_tz_to_utc(&tz, cal_t("20261025T023000Z")), cal_t("20261025T003000Z"));
    assert_int_equal(eas_cal_tz_to_local(&tz, cal_t("20261025T013000Z")),
                     cal_t("20261025T023000Z"));
}

static void tz_new_york_blob(void **state)
{
    (void)state;
    uint8_t blob[EAS_CAL_TZ_BLOB_LEN];
    eas_cal_tz_t tz;
    cal_case_blob(CAL_TZ_NEW_YORK, blob);
    assert_int_equal(eas_cal_tz_parse(blob, sizeof blob, &tz), EAS_OK);
    assert_int_equal(eas_cal_tz_offset(&tz, cal_t("20260308T065959Z")), -5 * 3600);
    assert_int_equal(eas_cal_tz_offset(&tz, cal_t("20260308T070000Z")), -4 * 3600);
    assert_int_equal(eas_cal_tz_offset(&tz, cal_t("20261101T055959Z")), -4 * 3600);
    assert_int_equal(eas_cal_tz_offset(&tz, cal_t("20261101T060000Z")), -5 * 3600);
    assert_int_equal(eas_cal_tz_to_utc(&tz, cal_t("20260308T023000Z")), cal_t("20260308T073000Z"));
    assert_int_equal(eas_cal_tz_to_utc(&tz, cal_t("20261101T013000Z")), cal_t("20261101T053000Z"));
}

static void tz_southern_hemisphere_and_absolute_rules(void **state)
{
    (void)state;
    /* Sydney-like: UTC+10, daylight +11 from the 1st Sunday of October 02:00 to the 1st
     * Sunday of April 03:00. */
    eas_cal_tz_t tz;
    uint8_t blob[EAS_CAL_TZ_BLOB_LEN];
    eas_cal_tz_t back;
    memset(&tz, 0, sizeof tz);
    tz.bias = -600;
    tz.daylight_bias = -60;
    tz.standard_date = (eas_cal_tz_rule_t){0, 4, 0, 1, 3, 0, 0, 0};
    tz.daylight_date = (eas_cal_tz_rule_t){0, 10, 0, 1, 2, 0, 0, 0};
    tz.has_dst = true;
    assert_int_equal(eas_cal_tz_encode(&tz, blob), EAS_OK);
    assert_int_equal(eas_cal_tz_parse(blob, sizeof blob, &back), EAS_OK);
    assert_int_equal(eas_cal_tz_offset(&back, cal_t("20260115T000000Z")), 11 * 3600);
    assert_int_equal(eas_cal_tz_offset(&back, cal_t("20260715T000000Z")), 10 * 3600);
    assert_int_equal(eas_cal_tz_offset(&back, cal_t("20261231T230000Z")), 11 * 3600);
    /* An absolute rule applies to its year only. */
    tz.daylight_date = (eas_cal_tz_rule_t){2026, 3, 0, 15, 2, 0, 0, 0};
    tz.standard_date = (eas_cal_tz_rule_t){2026, 9, 0, 15, 3, 0, 0, 0};
    tz.bias = 0;
    assert_int_equal(eas_cal_tz_encode(&tz, blob), EAS_OK);
    assert_int_equal(eas_cal_tz_parse(blob, sizeof blob, &back), EAS_OK);
    assert_int_equal(eas_cal_tz_offset(&back, cal_t("20260615T000000Z")), 3600);
    assert_int_equal(eas_cal_tz_offset(&back, cal_t("20270615T000000Z")), 0);
}

static void tz_zero_blob_and_bad_blobs(void **state)
{
    (void)state;
    uint8_t blob[EAS_CAL_TZ_BLOB_LEN];
    uint8_t raw[EAS_CAL_TZ_BLOB_LEN];
    char b64[EAS_CAL_TZ_BASE64_LEN + 1];
    eas_cal_tz_t tz;
    memset(blob, 0, sizeof blob);
    assert_int_equal(eas_cal_tz_parse(blob, sizeof blob, &tz), EAS_OK);
    assert_true(tz.unspecified);
    assert_int_equal(eas_cal_tz_offset(&tz, 1795942800), 0);

    cal_case_blob(CAL_TZ_BERLIN, blob);
    assert_int_equal(eas_cal_tz_parse(blob, 171, &tz), EAS_ERR_CAL_TIMEZONE);
    assert_int_equal(eas_cal_tz_parse(NULL, 172, &tz), EAS_ERR_PARAM);
    /* bias beyond 16 h */
    blob[0] = 0xD0;
    blob[1] = 0x07; /* 2000 minutes */
    assert_int_equal(eas_cal_tz_parse(blob, sizeof blob, &tz), EAS_ERR_CAL_TIMEZONE);
    static const struct {
        size_t off;
        uint8_t v;
    } breaks[] = {
        {68 + 2, 13},   /* standard month 13 */
        {68 + 6, 6},    /* n-th 6 */
        {68 + 4, 7},    /* weekday 7 */
        {152 + 8, 24},  /* hour 24 */
        {152 + 2, 0},   /* daylight rule missing, standard present */
        {152 + 10, 60}, /* minute 60 */
    };
    for (size_t i = 0; i < sizeof breaks / sizeof breaks[0]; i++) {
        cal_case_blob(CAL_TZ_BERLIN, blob);
        blob[breaks[i].off] = breaks[i].v;
        assert_int_equal(eas_cal_tz_parse(blob, sizeof blob, &tz), EAS_ERR_CAL_TIMEZONE);
    }
    /* SOGo 5.8 quirk: a UTC blob whose StandardDate is garbage except wMonth 0. It is UTC
       (no transitions), not an invalid blob and not "unspecified" (the device zone). */
    memset(blob, 0, sizeof blob);
    for (size_t i = 68; i < 84; i++) {
        blob[i] = (uint8_t)(0xA5u ^ i);
    }
    blob[68 + 2] = 0;
    blob[68 + 3] = 0; /* wMonth = 0 */
    assert_int_equal(eas_cal_tz_parse(blob, sizeof blob, &tz), EAS_OK);
    assert_false(tz.unspecified);
    assert_false(tz.has_dst);
    assert_int_equal(eas_cal_tz_offset(&tz, 1795942800), 0);
    /* base64 text: good, truncated, junk */
    cal_case_blob(CAL_TZ_NEW_YORK, blob);
    assert_int_equal(eas_base64_encode(blob, sizeof blob, b64, sizeof b64, NULL), EAS_OK);
    assert_int_equal(strlen(b64), EAS_CAL_TZ_BASE64_LEN);
    assert_int_equal(eas_cal_tz_parse_base64(b64, strlen(b64), &tz, raw), EAS_OK);
    assert_memory_equal(raw, blob, sizeof blob);
    assert_int_equal(eas_cal_tz_parse_base64(b64, 228, &tz, raw), EAS_ERR_CAL_TIMEZONE);
    b64[10] = '*';
    assert_int_equal(eas_cal_tz_parse_base64(b64, strlen(b64), &tz, raw), EAS_ERR_CAL_TIMEZONE);
}

/* ---------------------------------------------------------------- case table */

static void check_case(const cal_case_t *c, const cal_occ_list_t *l)
{
    const char *q = c->expect;
    size_t i = 0;
    int64_t span = cal_t(c->end) - cal_t(c->start);
    while (*q != '\0') {
        char tok[64];
        size_t n = strcspn(q, " ");
        assert_true(n < sizeof tok);
        memcpy(tok, q, n);
        tok[n] = '\0';
        q += n;
        while (*q == ' ') {
            q++;
        }
        bool exc = (tok[n - 1] == '*');
        char st[17] = {0};
        memcpy(st, tok, 16);
        int64_t es = cal_t(st);
        int64_t ee = es + span;
        if (n >= 33 && tok[16] == '/') {
            char en[17] = {0};
            memcpy(en, tok + 17, 16);
            ee = cal_t(en);
        }
        if (i >= l->n) {
            fail_msg("%s: only %zu occurrences, expected more (next %s)", c->name, l->n, tok);
        }
        char got[24];
        eas_cal_format_time(l->occ[i].start, EAS_CAL_FMT_COMPACT, got, sizeof got);
        if (l->occ[i].start != es) {
            fail_msg("%s: occurrence %zu starts %s, expected %s", c->name, i, got, st);
        }
        assert_int_equal(l->occ[i].end, ee);
        assert_int_equal((l->occ[i].flags & EAS_CAL_OCC_EXCEPTION) != 0, exc);
        if (!exc) {
            assert_int_equal((l->occ[i].flags & EAS_CAL_OCC_ALL_DAY) != 0, c->all_day);
            assert_int_equal(l->occ[i].original_start, l->occ[i].start);
        }
        assert_int_equal((l->occ[i].flags & EAS_CAL_OCC_RECURRING) != 0, c->recur != NULL);
        i++;
    }
    if (l->n != i) {
        char got[24];
        eas_cal_format_time(l->occ[i].start, EAS_CAL_FMT_COMPACT, got, sizeof got);
        fail_msg("%s: %zu occurrences, expected %zu (extra %s)", c->name, l->n, i, got);
    }
}

static void case_table(void **state)
{
    (void)state;
    for (size_t k = 0; k < cal_case_count; k++) {
        const cal_case_t *c = &cal_cases[k];
        assert_int_equal(cal_case_build(c, &g_item, g_ex, CONFIG_EAS_CAL_MAX_EXCEPTIONS), EAS_OK);
        memset(&g_occ, 0, sizeof g_occ);
        int err = eas_cal_expand(&g_item, cal_t(c->from), cal_t(c->to), cal_collect, &g_occ);
        if (err != EAS_OK) {
            fail_msg("%s: expand returned %s", c->name, eas_err_name(err));
        }
        check_case(c, &g_occ);
        for (size_t i = 1; i < g_occ.n; i++) {
            assert_true(g_occ.occ[i - 1].start <= g_occ.occ[i].start);
        }
    }
}

/* The same window expanded in two halves gives the same occurrences: skipping ahead to a
 * later window keeps positions and counts exact. */
static void case_table_split_windows_agree(void **state)
{
    (void)state;
    static cal_occ_list_t a;
    static cal_occ_list_t b;
    for (size_t k = 0; k < cal_case_count; k++) {
        const cal_case_t *c = &cal_cases[k];
        int64_t from = cal_t(c->from);
        int64_t to = cal_t(c->to);
        assert_int_equal(cal_case_build(c, &g_item, g_ex, CONFIG_EAS_CAL_MAX_EXCEPTIONS), EAS_OK);
        memset(&a, 0, sizeof a);
        memset(&b, 0, sizeof b);
        assert_int_equal(eas_cal_expand(&g_item, from, to, cal_collect, &a), EAS_OK);
        for (int64_t cut = from; cut <= to; cut += (to - from) / 7 + 1) {
            b.n = 0;
            assert_int_equal(eas_cal_expand(&g_item, from, cut, cal_collect, &b), EAS_OK);
            assert_int_equal(eas_cal_expand(&g_item, cut, to, cal_collect, &b), EAS_OK);
            assert_int_equal(a.n, b.n);
            for (size_t i = 0; i < a.n; i++) {
                assert_int_equal(a.occ[i].start, b.occ[i].start);
                assert_int_equal(a.occ[i].end, b.occ[i].end);
                assert_int_equal(a.occ[i].index, b.occ[i].index);
            }
        }
    }
}

static const cal_case_t *find_case(const char *name)
{
    for (size_t k = 0; k < cal_case_count; k++) {
        if (strcmp(cal_cases[k].name, name) == 0) {
            return &cal_cases[k];
        }
    }
    fail_msg("no case %s", name);
    return NULL;
}

static void occurrence_index_counts_from_series_start(void **state)
{
    (void)state;
    const cal_case_t *c = find_case("occurrences_counted_from_series_start");
    assert_int_equal(cal_case_build(c, &g_item, g_ex, 8), EAS_OK);
    memset(&g_occ, 0, sizeof g_occ);
    assert_int_equal(eas_cal_expand(&g_item, cal_t(c->from), cal_t(c->to), cal_collect, &g_occ),
                     EAS_OK);
    assert_int_equal(g_occ.n, 4);
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(g_occ.occ[i].index, 6 + i);
    }
    /* a window far after the series: nothing, and cheap */
    g_occ.n = 0;
    assert_int_equal(eas_cal_expand(&g_item, cal_t("90000101T000000Z"), cal_t("90010101T000000Z"),
                                    cal_collect, &g_occ),
                     EAS_OK);
    assert_int_equal(g_occ.n, 0);
}

static void exceptions_keep_their_identity(void **state)
{
    (void)state;
    const cal_case_t *c = find_case("exceptions_deleted_and_moved");
    assert_int_equal(cal_case_build(c, &g_item, g_ex, 8), EAS_OK);
    assert_int_equal(g_item.exception_count, 4);
    memset(&g_occ, 0, sizeof g_occ);
    assert_int_equal(eas_cal_expand(&g_item, cal_t(c->from), cal_t(c->to), cal_collect, &g_occ),
                     EAS_OK);
    /* the Jan 22 occurrence moved to Jan 23: second in the series (index 2), exception 1 */
    assert_int_equal(g_occ.occ[1].exception, 1);
    assert_int_equal(g_occ.occ[1].index, 2);
    assert_int_equal(g_occ.occ[1].original_start, cal_t("20260122T090000Z"));
    assert_string_equal(g_item.exceptions[1].subject, "moved");
    /* the Feb 26 occurrence (8th, index 7) shows up on Feb 13 */
    assert_int_equal(g_occ.occ[4].index, 7);
    assert_int_equal(g_occ.occ[4].exception, 3);
    /* a window holding only the moved-out instance */
    g_occ.n = 0;
    assert_int_equal(eas_cal_expand(&g_item, cal_t("20260305T000000Z"), cal_t("20260306T000000Z"),
                                    cal_collect, &g_occ),
                     EAS_OK);
    assert_int_equal(g_occ.n, 1);
    assert_int_equal(g_occ.occ[0].start, cal_t("20260305T090000Z"));
    assert_int_equal(g_occ.occ[0].index, 3);
}

static void inference_is_recorded(void **state)
{
    (void)state;
    eas_cal_rule_t r;
    assert_int_equal(
        cal_case_build(find_case("sogo_monthly_without_day_of_month"), &g_item, g_ex, 4), EAS_OK);
    test_hal_reset();
    g_item.log = test_hal_log();
    assert_int_equal(eas_cal_rule_resolve(&g_item, &r), EAS_OK);
    assert_int_equal(r.inferred, EAS_CAL_RF_DAY_OF_MONTH);
    assert_int_equal(r.ignored, EAS_CAL_RF_DAY_OF_WEEK | EAS_CAL_RF_WEEK_OF_MONTH);
    assert_int_equal(r.day_of_month, 15);
#if CONFIG_EAS_LOG_LEVEL >= 3
    assert_non_null(strstr(test_hal_log_text(), "inferred"));
    assert_non_null(strstr(test_hal_log_text(), "ignored"));
#endif
    assert_int_equal(cal_case_build(find_case("weekly_without_day_of_week"), &g_item, g_ex, 4),
                     EAS_OK);
    assert_int_equal(eas_cal_rule_resolve(&g_item, &r), EAS_OK);
    assert_int_equal(r.inferred, EAS_CAL_RF_DAY_OF_WEEK);
    assert_int_equal(r.day_of_week, EAS_CAL_DOW_WEDNESDAY);
    assert_int_equal(cal_case_build(find_case("yearly_without_day_and_month"), &g_item, g_ex, 4),
                     EAS_OK);
    assert_int_equal(eas_cal_rule_resolve(&g_item, &r), EAS_OK);
    assert_int_equal(r.inferred, EAS_CAL_RF_DAY_OF_MONTH | EAS_CAL_RF_MONTH_OF_YEAR);
    assert_int_equal(r.month_of_year, 7);
    assert_int_equal(r.day_of_month, 4);
    assert_int_equal(cal_case_build(find_case("occurrences_wins_over_until"), &g_item, g_ex, 4),
                     EAS_OK);
    assert_int_equal(eas_cal_rule_resolve(&g_item, &r), EAS_OK);
    assert_int_equal(r.ignored, EAS_CAL_RF_UNTIL);
    assert_int_equal(r.inferred, 0);
}

/* ---------------------------------------------------------------- bad input */

/* A daily 09:00Z item with the given Recurrence string, built through the parser. */
static int build_with(const char *recur, const char *start, const char *end)
{
    cal_case_t c = {0};
    c.name = "bad";
    c.tz = CAL_TZ_UTC;
    c.start = start;
    c.end = end;
    c.recur = recur;
    c.from = "20260101T000000Z";
    c.to = "20270101T000000Z";
    c.expect = "";
    return cal_case_build(&c, &g_item, g_ex, 4);
}

static int expand_year(void)
{
    memset(&g_occ, 0, sizeof g_occ);
    return eas_cal_expand(&g_item, cal_t("20260101T000000Z"), cal_t("20270101T000000Z"),
                          cal_collect, &g_occ);
}

static void absurd_recurrences_are_errors(void **state)
{
    (void)state;
    static const struct {
        const char *recur;
        int err;
    } k[] = {
        {"Type=0 Interval=0", EAS_ERR_CAL_RECURRENCE},
        {"Type=0 Until=20251231T000000Z", EAS_ERR_CAL_RECURRENCE},
        {"Type=0 Occurrences=1000000000", EAS_ERR_CAL_RECURRENCE},
        {"Type=0 Occurrences=0", EAS_ERR_CAL_RECURRENCE},
        {"Type=4", EAS_ERR_CAL_RECURRENCE},
        {"Type=7", EAS_ERR_CAL_RECURRENCE},
        {"Interval=1", EAS_ERR_CAL_RECURRENCE},
        {"Type=2 DayOfMonth=32", EAS_ERR_CAL_RECURRENCE},
        {"Type=2 DayOfMonth=0", EAS_ERR_CAL_RECURRENCE},
        {"Type=3 DayOfWeek=2 WeekOfMonth=6", EAS_ERR_CAL_RECURRENCE},
        {"Type=3 DayOfWeek=128 WeekOfMonth=1", EAS_ERR_CAL_RECURRENCE},
        {"Type=5 DayOfMonth=1 MonthOfYear=13", EAS_ERR_CAL_RECURRENCE},
        {"Type=1 DayOfWeek=2 FirstDayOfWeek=7", EAS_ERR_CAL_RECURRENCE},
        {"Type=0 Interval=abc", EAS_ERR_CAL_RECURRENCE},
        {"Type=0 Interval=99999999999", EAS_ERR_CAL_RECURRENCE},
        {"Type=0 Until=yesterday", EAS_ERR_CAL_RECURRENCE},
        {"Type=0 Until=20260105T085959Z", EAS_ERR_CAL_RECURRENCE}, /* before the start */
        {"Type=0 DayOfWeek=0", EAS_ERR_CAL_RECURRENCE},
        {"Type=0 DayOfWeek=128", EAS_ERR_CAL_RECURRENCE},
        {"Type=0 Interval=7 DayOfWeek=4", EAS_ERR_CAL_RECURRENCE}, /* Mondays only: never Tue */
        {"Type=0 Interval=14 DayOfWeek=64 Occurrences=2", EAS_ERR_CAL_RECURRENCE},
        {"Type=300", EAS_ERR_CAL_RECURRENCE},
        {"Type=5 CalendarType=6", EAS_ERR_CAL_CALENDAR_TYPE},
        {"Type=5 CalendarType=8", EAS_ERR_CAL_CALENDAR_TYPE},
        {"Type=5 CalendarType=15 IsLeapMonth=1", EAS_ERR_CAL_CALENDAR_TYPE},
        {"Type=5 CalendarType=99", EAS_ERR_CAL_CALENDAR_TYPE},
    };
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) {
        assert_int_equal(build_with(k[i].recur, "20260105T090000Z", "20260105T100000Z"), EAS_OK);
        int err = expand_year();
        if (err != k[i].err) {
            fail_msg("%s: got %s", k[i].recur, eas_err_name(err));
        }
        assert_int_equal(g_occ.n, 0);
    }
    /* Gregorian-based calendar types are fine, stray fields too. */
    assert_int_equal(
        build_with("Type=5 CalendarType=1 IsLeapMonth=0", "20260105T090000Z", "20260105T100000Z"),
        EAS_OK);
    assert_int_equal(expand_year(), EAS_OK);
    assert_int_equal(g_occ.n, 1);
}

static void absurd_times_are_errors(void **state)
{
    (void)state;
    assert_int_equal(build_with("Type=0", "garbage", "20260105T100000Z"), EAS_OK);
    assert_int_equal(expand_year(), EAS_ERR_CAL_TIME);
    assert_int_equal(build_with("Type=0", "20260105T100000Z", "20260105T090000Z"), EAS_OK);
    assert_int_equal(expand_year(), EAS_ERR_CAL_TIME);
    assert_int_equal(build_with(NULL, "20260105T100000Z", "2026-01-05T11:00:00.000Z"), EAS_OK);
    assert_int_equal(expand_year(), EAS_OK);
    assert_int_equal(g_occ.n, 1);
    assert_int_equal(g_occ.occ[0].end - g_occ.occ[0].start, 3600);
    assert_int_equal(eas_cal_expand(&g_item, 10, 5, cal_collect, &g_occ), EAS_ERR_PARAM);
    assert_int_equal(eas_cal_expand(&g_item, 0, 5, NULL, &g_occ), EAS_ERR_PARAM);
    assert_int_equal(eas_cal_expand(NULL, 0, 5, cal_collect, &g_occ), EAS_ERR_PARAM);
}

static void huge_windows_are_bounded(void **state)
{
    (void)state;
    /* Daily since 1601 over the whole range: stops after the configured maximum. */
    assert_int_equal(build_with("Type=0", "16010101T090000Z", "16010101T100000Z"), EAS_OK);
    memset(&g_occ, 0, sizeof g_occ);
    int err = eas_cal_expand(&g_item, INT64_MIN, INT64_MAX, cal_collect, &g_occ);
    if (CONFIG_EAS_CAL_MAX_OCCURRENCES <= 512) {
        assert_int_equal(err, EAS_ERR_LIMIT);
        assert_int_equal(g_occ.n, CONFIG_EAS_CAL_MAX_OCCURRENCES);
    } else {
        assert_int_equal(err, EAS_ERR_NOMEM); /* the collector's own bound came first */
        assert_int_equal(g_occ.n, 512);
    }
    /* A window in 9000 reaches its occurrences without walking 7,400 years. */
    g_occ.n = 0;
    assert_int_equal(eas_cal_expand(&g_item, cal_t("90000301T000000Z"), cal_t("90000304T000000Z"),
                                    cal_collect, &g_occ),
                     EAS_OK);
    assert_int_equal(g_occ.n, 3);
    assert_int_equal(g_occ.occ[0].start, cal_t("90000301T090000Z"));
    assert_int_equal(g_occ.occ[0].index, (uint32_t)(eas_cal_days_from_civil(9000, 3, 1) -
                                                    eas_cal_days_from_civil(1601, 1, 1)));
    /* Interval 2^32-1: one occurrence, no overflow. */
    assert_int_equal(
        build_with("Type=2 Interval=4294967295", "20260105T090000Z", "20260105T100000Z"), EAS_OK);
    memset(&g_occ, 0, sizeof g_occ);
    assert_int_equal(eas_cal_expand(&g_item, INT64_MIN, INT64_MAX, cal_collect, &g_occ), EAS_OK);
    assert_int_equal(g_occ.n, 1);
    assert_int_equal(build_with("Type=1 DayOfWeek=2 Interval=4294967295", "20260105T090000Z",
                                "20260105T100000Z"),
                     EAS_OK);
    memset(&g_occ, 0, sizeof g_occ);
    assert_int_equal(eas_cal_expand(&g_item, INT64_MIN, INT64_MAX, cal_collect, &g_occ), EAS_OK);
    assert_int_equal(g_occ.n, 1);
}

static void lost_exceptions_refuse_expansion(void **state)
{
    (void)state;
    const cal_case_t *c = find_case("exceptions_deleted_and_moved");
    assert_int_equal(cal_case_build(c, &g_item, g_ex, 2), EAS_OK);
    assert_int_equal(g_item.exception_count, 2);
    assert_int_equal(g_item.exceptions_lost, 2);
    assert_int_equal(eas_cal_expand(&g_item, cal_t(c->from), cal_t(c->to), cal_collect, &g_occ),
                     EAS_ERR_LIMIT);
    /* an exception without ExceptionStartTime cannot be placed */
    assert_int_equal(cal_case_build(c, &g_item, g_ex, 8), EAS_OK);
    g_item.exceptions[0].present &= ~EAS_CAL_F_EXCEPTION_START;
    assert_int_equal(eas_cal_expand(&g_item, cal_t(c->from), cal_t(c->to), cal_collect, &g_occ),
                     EAS_ERR_CAL_TIME);
}

static void exception_matching_nothing_is_ignored(void **state)
{
    (void)state;
    const cal_case_t *c = find_case("occurrences_counted_from_series_start");
    assert_int_equal(cal_case_build(c, &g_item, g_ex, 8), EAS_OK);
    /* a deleted "occurrence" on a Wednesday and a second exception for the same Tuesday */
    g_item.exception_count = 3;
    memset(g_ex, 0, 3 * sizeof g_ex[0]);
    g_ex[0].present = EAS_CAL_F_EXCEPTION_START | EAS_CAL_F_DELETED;
    g_ex[0].deleted = 1;
    g_ex[0].exception_start = cal_t("20260218T090000Z");
    g_ex[1].present = EAS_CAL_F_EXCEPTION_START | EAS_CAL_F_START | EAS_CAL_F_END;
    g_ex[1].exception_start = cal_t("20260224T090000Z");
    g_ex[1].start = cal_t("20260225T090000Z");
    g_ex[1].end = cal_t("20260225T093000Z");
    g_ex[2] = g_ex[1];
    g_ex[2].start = cal_t("20260226T090000Z");
    g_ex[2].end = cal_t("20260226T093000Z");
    memset(&g_occ, 0, sizeof g_occ);
    assert_int_equal(eas_cal_expand(&g_item, cal_t(c->from), cal_t(c->to), cal_collect, &g_occ),
                     EAS_OK);
    assert_int_equal(g_occ.n, 4); /* 17, 25 (moved), Mar 3, Mar 10: no duplicate */
    assert_int_equal(g_occ.occ[1].start, cal_t("20260225T090000Z"));
    assert_int_equal(g_occ.occ[1].end, cal_t("20260225T093000Z"));
}

static int stop_after_two(void *user, const eas_cal_occurrence_t *occ)
{
    cal_occ_list_t *l = user;
    cal_collect(user, occ);
    return (l->n == 2) ? EAS_CAL_STOP : EAS_OK;
}

static int fail_at_once(void *user, const eas_cal_occurrence_t *occ)
{
    (void)user;
    (void)occ;
    return EAS_ERR_CANCELLED;
}

static void callback_controls_the_walk(void **state)
{
    (void)state;
    assert_int_equal(build_with("Type=0", "20260105T090000Z", "20260105T100000Z"), EAS_OK);
    memset(&g_occ, 0, sizeof g_occ);
    assert_int_equal(eas_cal_expand(&g_item, INT64_MIN, INT64_MAX, stop_after_two, &g_occ), EAS_OK);
    assert_int_equal(g_occ.n, 2);
    assert_int_equal(eas_cal_expand(&g_item, INT64_MIN, INT64_MAX, fail_at_once, NULL),
                     EAS_ERR_CANCELLED);
}

/* ---------------------------------------------------------------- collector */

typedef struct feeder {
    eas_cal_item_parser_t p;
    uint16_t depth;
    int err;
} feeder_t;

static void f_ev(feeder_t *f, eas_wbxml_ev_type_t type, uint16_t tag, const void *data, size_t len)
{
    eas_wbxml_event_t ev = {0};
    ev.type = type;
    ev.tag = tag;
    if (type == EAS_WBXML_EV_START) {
        ev.depth = ++f->depth;
        ev.has_content = true;
    } else if (type == EAS_WBXML_EV_END) {
        ev.depth = f->depth--;
    } else {
        ev.depth = f->depth;
    }
    ev.data = data;
    ev.len = len;
    ev.piece = EAS_WBXML_PIECE_FIRST | EAS_WBXML_PIECE_LAST;
    int err = eas_cal_item_parser_event(&f->p, &ev);
    if (f->err == EAS_OK) {
        f->err = err;
    }
}

static void f_elem(feeder_t *f, uint16_t tag, const char *text)
{
    f_ev(f, EAS_WBXML_EV_START, tag, NULL, 0);
    f_ev(f, EAS_WBXML_EV_TEXT, tag, text, strlen(text));
    f_ev(f, EAS_WBXML_EV_END, tag, NULL, 0);
}

static void collector_fills_every_field(void **state)
{
    (void)state;
    static eas_cal_attendee_t at[2];
    static feeder_t f;
    uint8_t blob[EAS_CAL_TZ_BLOB_LEN];
    char longsub[400];
    memset(&f, 0, sizeof f);
    eas_cal_item_init(&g_item, g_ex, 1, at, 2);
    eas_cal_item_parser_init(&f.p, &g_item, NULL);
    f.depth = 2;
    f_ev(&f, EAS_WBXML_EV_START, EAS_AIRSYNC_APPLICATION_DATA, NULL, 0);
    /* TimeZone as OPAQUE bytes rather than base64 text */
    cal_case_blob(CAL_TZ_BERLIN, blob);
    f_ev(&f, EAS_WBXML_EV_START, EAS_CALENDAR_TIMEZONE, NULL, 0);
    f_ev(&f, EAS_WBXML_EV_OPAQUE, EAS_CALENDAR_TIMEZONE, blob, 100);
    f_ev(&f, EAS_WBXML_EV_OPAQUE, EAS_CALENDAR_TIMEZONE, blob + 100, 72);
    f_ev(&f, EAS_WBXML_EV_END, EAS_CALENDAR_TIMEZONE, NULL, 0);
    f_elem(&f, EAS_CALENDAR_START_TIME, "20260105T090000Z");
    f_elem(&f, EAS_CALENDAR_END_TIME, "20260105T100000Z");
    f_elem(&f, EAS_CALENDAR_DT_STAMP, "20251220T101010Z");
    f_elem(&f, EAS_CALENDAR_REMINDER, " 15 ");
    f_elem(&f, EAS_CALENDAR_MEETING_STATUS, "3");
    f_elem(&f, EAS_CALENDAR_RESPONSE_TYPE, "2");
    f_elem(&f, EAS_CALENDAR_SENSITIVITY, "999"); /* not a byte: invalid */
    f_elem(&f, EAS_CALENDAR_UID, "040000008200E00074C5B7101A82E008");
    f_elem(&f, EAS_CALENDAR_ORGANIZER_NAME, "Olga Organizer");
    f_elem(&f, EAS_CALENDAR_ORGANIZER_EMAIL, "olga@example.com");
    /* a subject longer than the field, cut inside a 3-byte character */
    memset(longsub, 'a', sizeof longsub);
    memcpy(longsub + 253, "\xE2\x82\xAC", 3); /* euro sign at bytes 253..255 */
    longsub[sizeof longsub - 1] = '\0';
    f_elem(&f, EAS_CALENDAR_SUBJECT, longsub);
    /* a body with nested elements is skipped */
    f_ev(&f, EAS_WBXML_EV_START, EAS_AIRSYNCBASE_BODY, NULL, 0);
    f_elem(&f, EAS_AIRSYNCBASE_TYPE, "1");
    f_elem(&f, EAS_AIRSYNCBASE_DATA, "secret body");
    f_ev(&f, EAS_WBXML_EV_END, EAS_AIRSYNCBASE_BODY, NULL, 0);
    /* 16.0 location */
    f_ev(&f, EAS_WBXML_EV_START, EAS_AIRSYNCBASE_LOCATION, NULL, 0);
    f_elem(&f, EAS_AIRSYNCBASE_DISPLAY_NAME, "Room 1");
    f_ev(&f, EAS_WBXML_EV_END, EAS_AIRSYNCBASE_LOCATION, NULL, 0);
    f_ev(&f, EAS_WBXML_EV_START, EAS_CALENDAR_ATTENDEES, NULL, 0);
    for (int i = 0; i < 3; i++) {
        f_ev(&f, EAS_WBXML_EV_START, EAS_CALENDAR_ATTENDEE, NULL, 0);
        f_elem(&f, EAS_CALENDAR_ATTENDEE_EMAIL, i == 0 ? "a@example.com" : "b@example.com");
        f_elem(&f, EAS_CALENDAR_ATTENDEE_NAME, "A");
        f_elem(&f, EAS_CALENDAR_ATTENDEE_STATUS, "3");
        f_elem(&f, EAS_CALENDAR_ATTENDEE_TYPE, "x");
        f_ev(&f, EAS_WBXML_EV_END, EAS_CALENDAR_ATTENDEE, NULL, 0);
    }
    f_ev(&f, EAS_WBXML_EV_END, EAS_CALENDAR_ATTENDEES, NULL, 0);
    f_ev(&f, EAS_WBXML_EV_START, EAS_CALENDAR_RECURRENCE, NULL, 0);
    f_elem(&f, EAS_CALENDAR_TYPE, "0");
    f_ev(&f, EAS_WBXML_EV_END, EAS_CALENDAR_RECURRENCE, NULL, 0);
    f_ev(&f, EAS_WBXML_EV_START, EAS_CALENDAR_EXCEPTIONS, NULL, 0);
    f_ev(&f, EAS_WBXML_EV_START, EAS_CALENDAR_EXCEPTION, NULL, 0);
    f_elem(&f, EAS_AIRSYNCBASE_INSTANCE_ID, "2026-01-06T09:00:00.000Z");
    f_ev(&f, EAS_WBXML_EV_START, EAS_AIRSYNCBASE_LOCATION, NULL, 0);
    f_elem(&f, EAS_AIRSYNCBASE_DISPLAY_NAME, "Room 2");
    f_ev(&f, EAS_WBXML_EV_END, EAS_AIRSYNCBASE_LOCATION, NULL, 0);
    f_elem(&f, EAS_CALENDAR_BUSY_STATUS, "1");
    f_ev(&f, EAS_WBXML_EV_END, EAS_CALENDAR_EXCEPTION, NULL, 0);
    f_ev(&f, EAS_WBXML_EV_END, EAS_CALENDAR_EXCEPTIONS, NULL, 0);
    f_ev(&f, EAS_WBXML_EV_END, EAS_AIRSYNC_APPLICATION_DATA, NULL, 0);
    assert_int_equal(f.err, EAS_OK);
    assert_int_equal(eas_cal_item_parser_finish(&f.p), EAS_OK);

    assert_int_equal(g_item.tz_source, EAS_CAL_TZ_BLOB);
    assert_memory_equal(g_item.tz_blob, blob, sizeof blob);
    assert_int_equal(g_item.tz.bias, -60);
    assert_int_equal(g_item.start, cal_t("20260105T090000Z"));
    assert_int_equal(g_item.dtstamp, cal_t("20251220T101010Z"));
    assert_int_equal(g_item.reminder, 15);
    assert_int_equal(g_item.meeting_status, 3);
    assert_int_equal(g_item.response_type, 2);
    assert_true(g_item.invalid & EAS_CAL_F_SENSITIVITY);
    assert_string_equal(g_item.uid, "040000008200E00074C5B7101A82E008");
    assert_string_equal(g_item.organizer_name, "Olga Organizer");
    assert_string_equal(g_item.organizer_email, "olga@example.com");
    assert_string_equal(g_item.location, "Room 1");
    assert_true(g_item.truncated & EAS_CAL_F_SUBJECT);
    assert_int_equal(strlen(g_item.subject), 253); /* the euro sign did not fit whole */
    assert_int_equal(g_item.attendee_count, 2);
    assert_int_equal(g_item.attendees_lost, 1);
    assert_string_equal(g_item.attendees[0].email, "a@example.com");
    assert_int_equal(g_item.attendees[0].status, 3);
    assert_int_equal(g_item.attendees[0].invalid, 2);
    assert_int_equal(g_item.exception_count, 1);
    assert_int_equal(g_item.exceptions[0].exception_start, cal_t("20260106T090000Z"));
    assert_string_equal(g_item.exceptions[0].location, "Room 2");
    assert_int_equal(g_item.exceptions[0].busy_status, 1);
    /* a second event after the container closed */
    f_ev(&f, EAS_WBXML_EV_START, EAS_CALENDAR_SUBJECT, NULL, 0);
    assert_int_equal(f.err, EAS_ERR_STATE);
}

static void collector_zone_fallbacks(void **state)
{
    (void)state;
    static feeder_t f;
    eas_cal_tz_t berlin;
    uint8_t blob[EAS_CAL_TZ_BLOB_LEN];
    cal_case_blob(CAL_TZ_BERLIN, blob);
    assert_int_equal(eas_cal_tz_parse(blob, sizeof blob, &berlin), EAS_OK);

    /* all-zero blob + device zone: the device zone, and 09:00 local stays 09:00 local */
    static const char zero_b64[] =
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==";
    assert_int_equal(strlen(zero_b64), EAS_CAL_TZ_BASE64_LEN);
    for (int with_device = 0; with_device < 2; with_device++) {
        memset(&f, 0, sizeof f);
        eas_cal_item_init(&g_item, NULL, 0, NULL, 0);
        eas_cal_item_parser_init(&f.p, &g_item, with_device ? &berlin : NULL);
        f_ev(&f, EAS_WBXML_EV_START, EAS_AIRSYNC_APPLICATION_DATA, NULL, 0);
        f_elem(&f, EAS_CALENDAR_TIMEZONE, zero_b64);
        f_elem(&f, EAS_CALENDAR_START_TIME, "20260326T080000Z");
        f_elem(&f, EAS_CALENDAR_END_TIME, "20260326T090000Z");
        f_ev(&f, EAS_WBXML_EV_START, EAS_CALENDAR_RECURRENCE, NULL, 0);
        f_elem(&f, EAS_CALENDAR_TYPE, "0");
        f_elem(&f, EAS_CALENDAR_OCCURRENCES, "5");
        f_ev(&f, EAS_WBXML_EV_END, EAS_CALENDAR_RECURRENCE, NULL, 0);
        f_ev(&f, EAS_WBXML_EV_END, EAS_AIRSYNC_APPLICATION_DATA, NULL, 0);
        assert_int_equal(f.err, EAS_OK);
        assert_int_equal(eas_cal_item_parser_finish(&f.p), EAS_OK);
        assert_int_equal(g_item.tz_source, with_device ? EAS_CAL_TZ_DEVICE : EAS_CAL_TZ_ZERO_UTC);
        memset(&g_occ, 0, sizeof g_occ);
        assert_int_equal(eas_cal_expand(&g_item, INT64_MIN, INT64_MAX, cal_collect, &g_occ),
                         EAS_OK);
        assert_int_equal(g_occ.n, 5);
        /* Mar 29 is the DST day in Berlin */
        assert_int_equal(g_occ.occ[3].start,
                         cal_t(with_device ? "20260329T070000Z" : "20260329T080000Z"));
    }
    /* an invalid blob is an error, never a silent UTC */
    memset(&f, 0, sizeof f);
    eas_cal_item_init(&g_item, NULL, 0, NULL, 0);
    eas_cal_item_parser_init(&f.p, &g_item, &berlin);
    f_ev(&f, EAS_WBXML_EV_START, EAS_AIRSYNC_APPLICATION_DATA, NULL, 0);
    f_elem(&f, EAS_CALENDAR_TIMEZONE, "xAAA");
    f_elem(&f, EAS_CALENDAR_START_TIME, "20260326T080000Z");
    f_ev(&f, EAS_WBXML_EV_END, EAS_AIRSYNC_APPLICATION_DATA, NULL, 0);
    assert_int_equal(eas_cal_item_parser_finish(&f.p), EAS_OK);
    assert_int_equal(eas_cal_expand(&g_item, INT64_MIN, INT64_MAX, cal_collect, &g_occ),
                     EAS_ERR_CAL_TIMEZONE);
    /* finish before the container closed */
    memset(&f, 0, sizeof f);
    eas_cal_item_parser_init(&f.p, &g_item, NULL);
    f_ev(&f, EAS_WBXML_EV_START, EAS_AIRSYNC_APPLICATION_DATA, NULL, 0);
    assert_int_equal(eas_cal_item_parser_finish(&f.p), EAS_ERR_STATE);
    assert_int_equal(eas_cal_item_parser_event(NULL, NULL), EAS_ERR_PARAM);
}

/* EAS 16.x sends an all-day event's times without a zone: wall-clock midnight in the item's
 * zone (its TimeZone blob, else the device zone), not UTC midnight. 14.x ("...Z") unchanged;
 * a zone-less Until is refused (an instant in every version). */
static void collector_16x_all_day_times_are_local(void **state)
{
    (void)state;
    static feeder_t f;
    static eas_cal_exception_t ex[2];
    eas_cal_tz_t berlin;
    uint8_t blob[EAS_CAL_TZ_BLOB_LEN];
    char b64[EAS_CAL_TZ_BASE64_LEN + 1];
    size_t n = 0;
    cal_case_blob(CAL_TZ_BERLIN, blob);
    assert_int_equal(eas_cal_tz_parse(blob, sizeof blob, &berlin), EAS_OK);
    assert_int_equal(eas_base64_encode(blob, sizeof blob, b64, sizeof b64, &n), EAS_OK);

    for (int with_blob = 0; with_blob < 2; with_blob++) {
        memset(&f, 0, sizeof f);
        eas_cal_item_init(&g_item, ex, 2, NULL, 0);
        eas_cal_item_parser_init(&f.p, &g_item, with_blob ? NULL : &berlin);
        f_ev(&f, EAS_WBXML_EV_START, EAS_AIRSYNC_APPLICATION_DATA, NULL, 0);
        if (with_blob) {
            f_elem(&f, EAS_CALENDAR_TIMEZONE, b64);
        }
        f_elem(&f, EAS_CALENDAR_ALL_DAY_EVENT, "1");
        f_elem(&f, EAS_CALENDAR_START_TIME, "2026-06-01T00:00:00.000");
        f_elem(&f, EAS_CALENDAR_END_TIME, "2026-06-02T00:00:00.000");
        f_ev(&f, EAS_WBXML_EV_START, EAS_CALENDAR_RECURRENCE, NULL, 0);
        f_elem(&f, EAS_CALENDAR_TYPE, "0");
        f_elem(&f, EAS_CALENDAR_OCCURRENCES, "3");
        f_ev(&f, EAS_WBXML_EV_END, EAS_CALENDAR_RECURRENCE, NULL, 0);
        f_ev(&f, EAS_WBXML_EV_START, EAS_CALENDAR_EXCEPTIONS, NULL, 0);
        f_ev(&f, EAS_WBXML_EV_START, EAS_CALENDAR_EXCEPTION, NULL, 0);
        f_elem(&f, EAS_AIRSYNCBASE_INSTANCE_ID, "2026-06-02T00:00:00.000");
        f_elem(&f, EAS_CALENDAR_DELETED, "1");
        f_ev(&f, EAS_WBXML_EV_END, EAS_CALENDAR_EXCEPTION, NULL, 0);
        f_ev(&f, EAS_WBXML_EV_END, EAS_CALENDAR_EXCEPTIONS, NULL, 0);
        f_ev(&f, EAS_WBXML_EV_END, EAS_AIRSYNC_APPLICATION_DATA, NULL, 0);
        assert_int_equal(f.err, EAS_OK);
        assert_int_equal(eas_cal_item_parser_finish(&f.p), EAS_OK);
        assert_int_equal(g_item.floating, EAS_CAL_F_START | EAS_CAL_F_END);
        assert_int_equal(g_item.invalid, 0);
        /* Berlin is UTC+2 in June: local midnight is 22:00 UTC the day before. */
        assert_int_equal(g_item.start, cal_t("20260531T220000Z"));
        assert_int_equal(g_item.end, cal_t("20260601T220000Z"));
        assert_int_equal(ex[0].exception_start, cal_t("20260601T220000Z"));
        memset(&g_occ, 0, sizeof g_occ);
        assert_int_equal(eas_cal_expand(&g_item, INT64_MIN, INT64_MAX, cal_collect, &g_occ),
                         EAS_OK);
        assert_int_equal(g_occ.n, 2); /* June 2 deleted by its InstanceId */
        assert_int_equal(g_occ.occ[1].start, cal_t("20260602T220000Z"));
    }
    /* 14.x form: UTC as before, nothing floating. */
    memset(&f, 0, sizeof f);
    eas_cal_item_init(&g_item, NULL, 0, NULL, 0);
    eas_cal_item_parser_init(&f.p, &g_item, &berlin);
    f_ev(&f, EAS_WBXML_EV_START, EAS_AIRSYNC_APPLICATION_DATA, NULL, 0);
    f_elem(&f, EAS_CALENDAR_START_TIME, "2026-05-31T22:00:00.000Z");
    f_ev(&f, EAS_WBXML_EV_START, EAS_CALENDAR_RECURRENCE, NULL, 0);
    f_elem(&f, EAS_CALENDAR_UNTIL, "2026-07-01T00:00:00.000");
    f_ev(&f, EAS_WBXML_EV_END, EAS_CALENDAR_RECURRENCE, NULL, 0);
    f_ev(&f, EAS_WBXML_EV_END, EAS_AIRSYNC_APPLICATION_DATA, NULL, 0);
    assert_int_equal(eas_cal_item_parser_finish(&f.p), EAS_OK);
    assert_int_equal(g_item.floating, 0);
    assert_int_equal(g_item.start, cal_t("20260531T220000Z"));
    assert_true((g_item.recurrence.invalid & EAS_CAL_RF_UNTIL) != 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(civil_round_trips_and_known_days),
        cmocka_unit_test(civil_rejects_impossible_dates),
        cmocka_unit_test(time_text_both_eas_forms),
        cmocka_unit_test(tz_berlin_blob_and_transitions),
        cmocka_unit_test(tz_new_york_blob),
        cmocka_unit_test(tz_southern_hemisphere_and_absolute_rules),
        cmocka_unit_test(tz_zero_blob_and_bad_blobs),
        cmocka_unit_test(case_table),
        cmocka_unit_test(case_table_split_windows_agree),
        cmocka_unit_test(occurrence_index_counts_from_series_start),
        cmocka_unit_test(exceptions_keep_their_identity),
        cmocka_unit_test(inference_is_recorded),
        cmocka_unit_test(absurd_recurrences_are_errors),
        cmocka_unit_test(absurd_times_are_errors),
        cmocka_unit_test(huge_windows_are_bounded),
        cmocka_unit_test(lost_exceptions_refuse_expansion),
        cmocka_unit_test(exception_matching_nothing_is_ignored),
        cmocka_unit_test(callback_controls_the_walk),
        cmocka_unit_test(collector_fills_every_field),
        cmocka_unit_test(collector_zone_fallbacks),
        cmocka_unit_test(collector_16x_all_day_times_are_local),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
