/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cal_cases.h"
#include "eas/eas_base64.h"
#include "eas/eas_err.h"
#include "eas/eas_wbxml.h"

/*
 * Conventions: Europe/Berlin is UTC+1, daylight UTC+2 from the last Sunday of March 02:00
 * to the last Sunday of October 03:00 (2026: Mar 29, Oct 25). America/New_York is UTC-5,
 * daylight UTC-4 from the second Sunday of March 02:00 to the first Sunday of November
 * 02:00 (2026: Mar 8, Nov 1). UTC conversions of the hand-derived local times below were
 * checked with Python's zoneinfo (tzdata), an implementation independent of easd.
 */
const cal_case_t cal_cases[] = {
    {"daily_interval3_count", "every 3rd day from Mon Jan 5, 5 occurrences", CAL_TZ_UTC,
     "20260105T090000Z", "20260105T100000Z", 0, "Type=0 Interval=3 Occurrences=5", NULL,
     "20260101T000000Z", "20260201T000000Z",
     "20260105T090000Z 20260108T090000Z 20260111T090000Z 20260114T090000Z 20260117T090000Z",
     "FREQ=DAILY;INTERVAL=3;COUNT=5", NULL},
    {"weekly_mon_wed_fri_until", "Mon/Wed/Fri from Jan 5 until Sun Jan 18 23:59:59", CAL_TZ_UTC,
     "20260105T090000Z", "20260105T093000Z", 0,
     "Type=1 Interval=1 DayOfWeek=42 Until=20260118T235959Z", NULL, "20260101T000000Z",
     "20260301T000000Z",
     "20260105T090000Z 20260107T090000Z 20260109T090000Z 20260112T090000Z 20260114T090000Z "
     "20260116T090000Z",
     "FREQ=WEEKLY;BYDAY=MO,WE,FR;UNTIL=20260118T235959Z", NULL},
    {"weekdays_every_week", "DayOfWeek 62 (Mon-Fri), 7 occurrences from Mon Jan 5", CAL_TZ_UTC,
     "20260105T080000Z", "20260105T081500Z", 0, "Type=1 DayOfWeek=62 Occurrences=7", NULL,
     "20260101T000000Z", "20260201T000000Z",
     "20260105T080000Z 20260106T080000Z 20260107T080000Z 20260108T080000Z 20260109T080000Z "
     "20260112T080000Z 20260113T080000Z",
     "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;COUNT=7", NULL},
    {"weekend_days", "DayOfWeek 65 (Sat+Sun) 10:00 New York from Sat Jan 3; EST is UTC-5",
     CAL_TZ_NEW_YORK, "20260103T150000Z", "20260103T160000Z", 0,
     "Type=1 DayOfWeek=65 Occurrences=4", NULL, "20260101T000000Z", "20260201T000000Z",
     "20260103T150000Z 20260104T150000Z 20260110T150000Z 20260111T150000Z",
     "FREQ=WEEKLY;BYDAY=SA,SU;COUNT=4", NULL},
    {"weekly_interval2_fdow_monday",
     "Sun+Mon every 2nd week, weeks start Monday: week Jan 5-11 gives Mon 5 and Sun 11, "
     "week Jan 19-25 gives 19 and 25, then Feb 2",
     CAL_TZ_UTC, "20260105T090000Z", "20260105T100000Z", 0,
     "Type=1 Interval=2 DayOfWeek=3 FirstDayOfWeek=1 Occurrences=5", NULL, "20260101T000000Z",
     "20260301T000000Z",
     "20260105T090000Z 20260111T090000Z 20260119T090000Z 20260125T090000Z 20260202T090000Z",
     "FREQ=WEEKLY;INTERVAL=2;BYDAY=SU,MO;WKST=MO;COUNT=5", NULL},
    {"weekly_interval2_fdow_sunday",
     "the same pattern with weeks starting Sunday: week Jan 4-10 gives Mon 5 (Sun 4 is "
     "before the start), week Jan 18-24 gives 18 and 19, week Feb 1-7 gives 1 and 2",
     CAL_TZ_UTC, "20260105T090000Z", "20260105T100000Z", 0,
     "Type=1 Interval=2 DayOfWeek=3 FirstDayOfWeek=0 Occurrences=5", NULL, "20260101T000000Z",
     "20260301T000000Z",
     "20260105T090000Z 20260118T090000Z 20260119T090000Z 20260201T090000Z 20260202T090000Z",
     "FREQ=WEEKLY;INTERVAL=2;BYDAY=SU,MO;WKST=SU;COUNT=5", NULL},
    {"monthly_31st_whole_year",
     "[S 1.10] day 31 at 10:00 Berlin: months without a 31st use their last day (Feb 28, "
     "Apr 30, Jun 30, Sep 30, Nov 30); 08:00Z from Mar 31 to Sep 30 (daylight time)",
     CAL_TZ_BERLIN, "20260131T090000Z", "20260131T100000Z", 0, "Type=2 DayOfMonth=31", NULL,
     "20260101T000000Z", "20270101T000000Z",
     "20260131T090000Z 20260228T090000Z 20260331T080000Z 20260430T080000Z 20260531T080000Z "
     "20260630T080000Z 20260731T080000Z 20260831T080000Z 20260930T080000Z 20261031T090000Z "
     "20261130T090000Z 20261231T090000Z",
     "FREQ=MONTHLY;BYMONTHDAY=28,29,30,31;BYSETPOS=-1", "FREQ=MONTHLY;BYMONTHDAY=31"},
    {"monthly_30th_february",
     "day 30 every month from Jan 30: Feb has no 30th, Outlook uses Feb 28", CAL_TZ_UTC,
     "20260130T120000Z", "20260130T130000Z", 0, "Type=2 DayOfMonth=30 Occurrences=3", NULL,
     "20260101T000000Z", "20270101T000000Z", "20260130T120000Z 20260228T120000Z 20260330T120000Z",
     "FREQ=MONTHLY;BYMONTHDAY=28,29,30;BYSETPOS=-1;COUNT=3", "FREQ=MONTHLY;BYMONTHDAY=30;COUNT=3"},
    {"yearly_feb29", "[S 1.10] Feb 29 every year: Feb 28 in common years, Feb 29 in 2028",
     CAL_TZ_UTC, "20240229T120000Z", "20240229T130000Z", 0, "Type=5 DayOfMonth=29 MonthOfYear=2",
     NULL, "20240101T000000Z", "20290101T000000Z",
     "20240229T120000Z 20250228T120000Z 20260228T120000Z 20270228T120000Z 20280229T120000Z",
     "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=28,29;BYSETPOS=-1", "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29"},
    {"last_weekday_of_month",
     "DayOfWeek 62 WeekOfMonth 5 at 17:00 New York: Jan 30 Fri, Feb 27 Fri, Mar 31 Tue, "
     "Apr 30 Thu, May 29 Fri (30/31 are a weekend), Jun 30 Tue; UTC-4 from Mar 8",
     CAL_TZ_NEW_YORK, "20260130T220000Z", "20260130T230000Z", 0,
     "Type=3 DayOfWeek=62 WeekOfMonth=5", NULL, "20260101T000000Z", "20260701T000000Z",
     "20260130T220000Z 20260227T220000Z 20260331T210000Z 20260430T210000Z 20260529T210000Z "
     "20260630T210000Z",
     "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1", NULL},
    {"last_day_of_month", "DayOfWeek 127 WeekOfMonth 5 = last day of the month, 6 occurrences",
     CAL_TZ_UTC, "20260131T080000Z", "20260131T090000Z", 0,
     "Type=3 DayOfWeek=127 WeekOfMonth=5 Occurrences=6", NULL, "20260101T000000Z",
     "20270101T000000Z",
     "20260131T080000Z 20260228T080000Z 20260331T080000Z 20260430T080000Z 20260531T080000Z "
     "20260630T080000Z",
     "FREQ=MONTHLY;BYMONTHDAY=-1;COUNT=6", NULL},
    {"second_tuesday_every_2_months", "2nd Tuesday, Interval 2: Jan 13, Mar 10, May 12, Jul 14",
     CAL_TZ_UTC, "20260113T150000Z", "20260113T160000Z", 0,
     "Type=3 Interval=2 DayOfWeek=4 WeekOfMonth=2 Occurrences=4", NULL, "20260101T000000Z",
     "20270101T000000Z", "20260113T150000Z 20260310T150000Z 20260512T150000Z 20260714T150000Z",
     "FREQ=MONTHLY;INTERVAL=2;BYDAY=2TU;COUNT=4", NULL},
    {"fourth_thursday_of_november",
     "Type 6: 4th Thursday of November 12:00 New York (EST): 2026-11-26, 2027-11-25, "
     "2028-11-23",
     CAL_TZ_NEW_YORK, "20261126T170000Z", "20261126T180000Z", 0,
     "Type=6 DayOfWeek=16 WeekOfMonth=4 MonthOfYear=11 Occurrences=3", NULL, "20260101T000000Z",
     "20300101T000000Z", "20261126T170000Z 20271125T170000Z 20281123T170000Z",
     "FREQ=YEARLY;BYMONTH=11;BYDAY=4TH;COUNT=3", NULL},
    {"daily_berlin_spring_dst", "09:00 Berlin daily: 08:00Z until Mar 28, 07:00Z from Mar 29",
     CAL_TZ_BERLIN, "20260326T080000Z", "20260326T090000Z", 0, "Type=0", NULL, "20260326T000000Z",
     "20260401T000000Z",
     "20260326T080000Z 20260327T080000Z 20260328T080000Z 20260329T070000Z 20260330T070000Z "
     "20260331T070000Z",
     "FREQ=DAILY", NULL},
    {"daily_berlin_fall_dst", "09:00 Berlin daily: 07:00Z until Oct 24, 08:00Z from Oct 25",
     CAL_TZ_BERLIN, "20261022T070000Z", "20261022T080000Z", 0, "Type=0", NULL, "20261022T000000Z",
     "20261028T000000Z",
     "20261022T070000Z 20261023T070000Z 20261024T070000Z 20261025T080000Z 20261026T080000Z "
     "20261027T080000Z",
     "FREQ=DAILY", NULL},
    {"daily_new_york_spring_dst", "09:00 New York daily: 14:00Z until Mar 7, 13:00Z from Mar 8",
     CAL_TZ_NEW_YORK, "20260306T140000Z", "20260306T150000Z", 0, "Type=0", NULL, "20260306T000000Z",
     "20260310T000000Z", "20260306T140000Z 20260307T140000Z 20260308T130000Z 20260309T130000Z",
     "FREQ=DAILY", NULL},
    {"daily_new_york_fall_dst", "09:00 New York daily: 13:00Z until Oct 31, 14:00Z from Nov 1",
     CAL_TZ_NEW_YORK, "20261030T130000Z", "20261030T140000Z", 0, "Type=0", NULL, "20261030T000000Z",
     "20261103T000000Z", "20261030T130000Z 20261031T130000Z 20261101T140000Z 20261102T140000Z",
     "FREQ=DAILY", NULL},
    {"daily_0230_in_the_skipped_hour",
     "02:30 Berlin daily: on Mar 29 02:30 does not exist and is read with the offset before "
     "the jump (= 03:30 CEST = 01:30Z), as RFC 5545 3.3.5 and Python's zoneinfo do; Mar 30 "
     "is 00:30Z. Not cross-checked: libical 3.0 reads the skipped 02:30 with the daylight "
     "offset (00:30Z, i.e. 01:30 CET)",
     CAL_TZ_BERLIN, "20260328T013000Z", "20260328T020000Z", 0, "Type=0 Occurrences=3", NULL,
     "20260301T000000Z", "20260401T000000Z", "20260328T013000Z 20260329T013000Z 20260330T003000Z",
     NULL, NULL},
    {"until_mid_day",
     "14:00 Berlin daily from Feb 2, Until Feb 5 12:00 local (11:00Z): Until is an instant, "
     "Feb 5 14:00 starts after it and is not an occurrence (as in RFC 5545)",
     CAL_TZ_BERLIN, "20260202T130000Z", "20260202T140000Z", 0, "Type=0 Until=20260205T110000Z",
     NULL, "20260201T000000Z", "20260301T000000Z",
     "20260202T130000Z 20260203T130000Z 20260204T130000Z", "FREQ=DAILY;UNTIL=20260205T110000Z",
     NULL},
    {"until_rfc5545_midnight_utc",
     "RFC 5545 server style (SOGo, Horde pass the RRULE's UNTIL through): 09:00 Berlin daily "
     "from Feb 2, UNTIL=20260205T000000Z (Feb 5 01:00 local). Feb 5 09:00 (08:00Z) starts "
     "after Until: the organizer's calendar ends on Feb 4; reading Until as a local date "
     "would add Feb 5",
     CAL_TZ_BERLIN, "20260202T080000Z", "20260202T090000Z", 0, "Type=0 Until=20260205T000000Z",
     NULL, "20260201T000000Z", "20260301T000000Z",
     "20260202T080000Z 20260203T080000Z 20260204T080000Z", "FREQ=DAILY;UNTIL=20260205T000000Z",
     NULL},
    {"until_exchange_last_start",
     "Exchange style: Until is the start of the last occurrence (Mondays 09:00 New York, EST, "
     "Until = Mon Feb 23 14:00Z): that occurrence is included",
     CAL_TZ_NEW_YORK, "20260202T140000Z", "20260202T150000Z", 0,
     "Type=1 DayOfWeek=2 Until=20260223T140000Z", NULL, "20260101T000000Z", "20260401T000000Z",
     "20260202T140000Z 20260209T140000Z 20260216T140000Z 20260223T140000Z",
     "FREQ=WEEKLY;BYDAY=MO;UNTIL=20260223T140000Z", NULL},
    {"daily_weekdays_sogo",
     "Type 0 with DayOfWeek 62 (SOGo 5.8 for FREQ=DAILY;BYDAY=MO..FR) from Fri Jan 2: "
     "weekdays only, no Saturday/Sunday",
     CAL_TZ_BERLIN, "20260102T080000Z", "20260102T090000Z", 0, "Type=0 DayOfWeek=62 Occurrences=6",
     NULL, "20260101T000000Z", "20260201T000000Z",
     "20260102T080000Z 20260105T080000Z 20260106T080000Z 20260107T080000Z 20260108T080000Z "
     "20260109T080000Z",
     "FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR;COUNT=6", NULL},
    {"daily_interval2_weekdays",
     "Type 0 Interval 2 DayOfWeek 62 from Mon Jan 5: every 2nd day (5, 7, 9, 11, 13, 15, "
     "17, 19), Sun 11 and Sat 17 dropped; the count counts kept days",
     CAL_TZ_UTC, "20260105T090000Z", "20260105T100000Z", 0,
     "Type=0 Interval=2 DayOfWeek=62 Occurrences=6", NULL, "20260101T000000Z", "20260201T000000Z",
     "20260105T090000Z 20260107T090000Z 20260109T090000Z 20260113T090000Z 20260115T090000Z "
     "20260119T090000Z",
     "FREQ=DAILY;INTERVAL=2;BYDAY=MO,TU,WE,TH,FR;COUNT=6", NULL},
    {"occurrences_counted_from_series_start",
     "Tuesdays, 10 occurrences from Jan 6 (Jan 6 .. Mar 10); the window from Feb 15 sees "
     "the 7th to 10th",
     CAL_TZ_UTC, "20260106T090000Z", "20260106T100000Z", 0, "Type=1 DayOfWeek=4 Occurrences=10",
     NULL, "20260215T000000Z", "20260601T000000Z",
     "20260217T090000Z 20260224T090000Z 20260303T090000Z 20260310T090000Z",
     "FREQ=WEEKLY;BYDAY=TU;COUNT=10", NULL},
    {"occurrences_wins_over_until", "Occurrences 3 and Until Dec 31: the count ends the series",
     CAL_TZ_UTC, "20260105T090000Z", "20260105T100000Z", 0,
     "Type=0 Occurrences=3 Until=20261231T000000Z", NULL, "20260101T000000Z", "20270101T000000Z",
     "20260105T090000Z 20260106T090000Z 20260107T090000Z", "FREQ=DAILY;COUNT=3", NULL},
    {"exceptions_deleted_and_moved",
     "[S 1.1] Thursdays 10:00 Berlin, 8 occurrences Jan 8 .. Feb 26. Jan 15 deleted; Jan 22 "
     "moved to Fri Jan 23 11:00; Jan 29 moved out of the window (Mar 5); Feb 26 (outside "
     "the window) moved into it (Feb 13 11:00)",
     CAL_TZ_BERLIN, "20260108T090000Z", "20260108T100000Z", 0, "Type=1 DayOfWeek=16 Occurrences=8",
     "D20260115T090000Z M20260122T090000Z=20260123T100000Z/20260123T110000Z "
     "M20260129T090000Z=20260305T090000Z/20260305T100000Z "
     "M20260226T090000Z=20260213T100000Z/20260213T110000Z",
     "20260101T000000Z", "20260220T000000Z",
     "20260108T090000Z 20260123T100000Z/20260123T110000Z* 20260205T090000Z 20260212T090000Z "
     "20260213T100000Z/20260213T110000Z* 20260219T090000Z",
     "FREQ=WEEKLY;BYDAY=TH;COUNT=8", NULL},
    {"all_day_daily_across_dst",
     "[S 1.4] all-day events in Berlin: local midnight to midnight; the day of the change "
     "(Mar 29) lasts 23 h",
     CAL_TZ_BERLIN, "20260327T230000Z", "20260328T230000Z", 1, "Type=0 Occurrences=3", NULL,
     "20260301T000000Z", "20260401T000000Z",
     "20260327T230000Z/20260328T230000Z 20260328T230000Z/20260329T220000Z "
     "20260329T220000Z/20260330T220000Z",
     NULL, NULL},
    {"all_day_multi_day_weekly",
     "[S 1.4] a 3-day all-day event every week keeps its flag and its 3-day span", CAL_TZ_UTC,
     "20260102T000000Z", "20260105T000000Z", 1, "Type=1 DayOfWeek=32 Occurrences=2", NULL,
     "20260101T000000Z", "20260201T000000Z",
     "20260102T000000Z/20260105T000000Z 20260109T000000Z/20260112T000000Z", NULL, NULL},
    {"longer_than_24h_not_all_day",
     "[S 1.6] a 26 h meeting every Friday stays a timed 26 h meeting", CAL_TZ_UTC,
     "20260102T200000Z", "20260103T220000Z", 0, "Type=1 DayOfWeek=32 Occurrences=3", NULL,
     "20260101T000000Z", "20260201T000000Z",
     "20260102T200000Z/20260103T220000Z 20260109T200000Z/20260110T220000Z "
     "20260116T200000Z/20260117T220000Z",
     "FREQ=WEEKLY;BYDAY=FR;COUNT=3", NULL},
    {"sogo_monthly_without_day_of_month",
     "SOGo 5.8: Type 2 with no DayOfMonth but a stray DayOfWeek/WeekOfMonth: the day is the "
     "start's (15th), the stray fields are ignored",
     CAL_TZ_UTC, "20260115T090000Z", "20260115T100000Z", 0,
     "Type=2 DayOfWeek=4 WeekOfMonth=3 Occurrences=3", NULL, "20260101T000000Z", "20270101T000000Z",
     "20260115T090000Z 20260215T090000Z 20260315T090000Z", "FREQ=MONTHLY;COUNT=3", NULL},
    {"weekly_without_day_of_week", "Type 1 without DayOfWeek: the start's weekday (Wednesday)",
     CAL_TZ_UTC, "20260107T090000Z", "20260107T100000Z", 0, "Type=1 Occurrences=3", NULL,
     "20260101T000000Z", "20270101T000000Z", "20260107T090000Z 20260114T090000Z 20260121T090000Z",
     "FREQ=WEEKLY;COUNT=3", NULL},
    {"yearly_without_day_and_month",
     "Type 5 without DayOfMonth/MonthOfYear: the start's day and month (Jul 4)", CAL_TZ_UTC,
     "20260704T160000Z", "20260704T170000Z", 0, "Type=5 Occurrences=3", NULL, "20260101T000000Z",
     "20300101T000000Z", "20260704T160000Z 20270704T160000Z 20280704T160000Z",
     "FREQ=YEARLY;COUNT=3", NULL},
    {"zero_blob_is_utc",
     "an all-zero TimeZone blob means UTC (no device zone): 09:00Z stays 09:00Z", CAL_TZ_ZERO_BLOB,
     "20260326T090000Z", "20260326T100000Z", 0, "Type=0 Occurrences=5", NULL, "20260301T000000Z",
     "20260401T000000Z",
     "20260326T090000Z 20260327T090000Z 20260328T090000Z 20260329T090000Z 20260330T090000Z",
     "FREQ=DAILY;COUNT=5", NULL},
    {"single_event", "not recurring: one occurrence", CAL_TZ_BERLIN, "20260310T100000Z",
     "20260310T113000Z", 0, NULL, NULL, "20260301T000000Z", "20260401T000000Z", "20260310T100000Z",
     NULL, NULL},
};

const size_t cal_case_count = sizeof(cal_cases) / sizeof(cal_cases[0]);

static void put16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)(v & 0xFFu);
    p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, int32_t s)
{
    uint32_t v = (uint32_t)s;
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

/* SYSTEMTIME: year, month, day of week, day (n-th), hour, minute, second, ms. */
static void put_rule(uint8_t *p, unsigned month, unsigned nth, unsigned hour)
{
    put16(p + 0, 0);
    put16(p + 2, month);
    put16(p + 4, 0); /* Sunday */
    put16(p + 6, nth);
    put16(p + 8, hour);
}

static void put_name(uint8_t *p, const char *ascii)
{
    for (size_t i = 0; ascii[i] != '\0' && i < 31; i++) {
        put16(p + 2 * i, (unsigned char)ascii[i]);
    }
}

void cal_case_blob(int tz, uint8_t blob[EAS_CAL_TZ_BLOB_LEN])
{
    memset(blob, 0, EAS_CAL_TZ_BLOB_LEN);
    /* Offsets per MS-ASDTYPE 2.7.6: Bias 0, StandardName 4, StandardDate 68, StandardBias
     * 84, DaylightName 88, DaylightDate 152, DaylightBias 168. */
    if (tz == CAL_TZ_BERLIN) {
        put32(blob, -60);
        put_name(blob + 4, "W. Europe Standard Time");
        put_rule(blob + 68, 10, 5, 3);
        put_name(blob + 88, "W. Europe Daylight Time");
        put_rule(blob + 152, 3, 5, 2);
        put32(blob + 168, -60);
    } else if (tz == CAL_TZ_NEW_YORK) {
        put32(blob, 300);
        put_name(blob + 4, "Eastern Standard Time");
        put_rule(blob + 68, 11, 1, 2);
        put_name(blob + 88, "Eastern Daylight Time");
        put_rule(blob + 152, 3, 2, 2);
        put32(blob + 168, -60);
    } else if (tz == CAL_TZ_UTC) {
        put_name(blob + 4, "UTC");
        put_name(blob + 88, "UTC");
    } else {
        /* all zero */
    }
}

int64_t cal_t(const char *compact)
{
    int64_t t = 0;
    assert_int_equal(eas_cal_parse_time(compact, strlen(compact), &t), EAS_OK);
    return t;
}

/* ---- synthetic decoder events ---- */

typedef struct sink {
    eas_cal_item_parser_t *p;
    int err;
    uint16_t depth;
    unsigned piece;
} sink_t;

static void emit(sink_t *s, const eas_wbxml_event_t *ev)
{
    int err = eas_cal_item_parser_event(s->p, ev);
    if (s->err == EAS_OK) {
        s->err = err;
    }
}

static void ev_start(sink_t *s, uint16_t tag)
{
    eas_wbxml_event_t ev = {0};
    ev.type = EAS_WBXML_EV_START;
    ev.tag = tag;
    ev.depth = ++s->depth;
    ev.has_content = true;
    emit(s, &ev);
}

static void ev_end(sink_t *s, uint16_t tag)
{
    eas_wbxml_event_t ev = {0};
    ev.type = EAS_WBXML_EV_END;
    ev.tag = tag;
    ev.depth = s->depth--;
    emit(s, &ev);
}

/* Text in pieces of 1, 2, 3, 1, ... bytes, as a decoder crossing chunk borders delivers. */
static void ev_text(sink_t *s, uint16_t tag, const char *text, size_t len)
{
    size_t off = 0;
    do {
        eas_wbxml_event_t ev = {0};
        size_t n = 1u + (s->piece++ % 3u);
        n = (n > len - off) ? len - off : n;
        ev.type = EAS_WBXML_EV_TEXT;
        ev.tag = tag;
        ev.depth = s->depth;
        ev.data = (const uint8_t *)text + off;
        ev.len = n;
        ev.piece = (uint8_t)((off == 0 ? EAS_WBXML_PIECE_FIRST : 0) |
                             (off + n == len ? EAS_WBXML_PIECE_LAST : 0));
        emit(s, &ev);
        off += n;
    } while (off < len);
}

static void ev_elem(sink_t *s, uint16_t tag, const char *text, size_t len)
{
    ev_start(s, tag);
    ev_text(s, tag, text, len);
    ev_end(s, tag);
}

static void ev_elem_s(sink_t *s, uint16_t tag, const char *text)
{
    ev_elem(s, tag, text, strlen(text));
}

static uint16_t recur_tag(const char *name, size_t len)
{
    static const struct {
        const char *n;
        uint16_t tag;
    } k[] = {
        {"Type", EAS_CALENDAR_TYPE},
        {"Interval", EAS_CALENDAR_INTERVAL},
        {"Occurrences", EAS_CALENDAR_OCCURRENCES},
        {"Until", EAS_CALENDAR_UNTIL},
        {"DayOfWeek", EAS_CALENDAR_DAY_OF_WEEK},
        {"DayOfMonth", EAS_CALENDAR_DAY_OF_MONTH},
        {"WeekOfMonth", EAS_CALENDAR_WEEK_OF_MONTH},
        {"MonthOfYear", EAS_CALENDAR_MONTH_OF_YEAR},
        {"FirstDayOfWeek", EAS_CALENDAR_FIRST_DAY_OF_WEEK},
        {"CalendarType", EAS_CALENDAR_CALENDAR_TYPE},
        {"IsLeapMonth", EAS_CALENDAR_IS_LEAP_MONTH},
    };
    for (size_t i = 0; i < sizeof(k) / sizeof(k[0]); i++) {
        if (strlen(k[i].n) == len && memcmp(k[i].n, name, len) == 0) {
            return k[i].tag;
        }
    }
    fail_msg("unknown recurrence field %.*s", (int)len, name);
    return 0;
}

int cal_case_build(const cal_case_t *c, eas_cal_item_t *item, eas_cal_exception_t *ex,
                   uint16_t ex_cap)
{
    eas_cal_item_parser_t p;
    sink_t s = {0};
    uint8_t blob[EAS_CAL_TZ_BLOB_LEN];
    char b64[EAS_CAL_TZ_BASE64_LEN + 1];
    int err;

    eas_cal_item_init(item, ex, ex_cap, NULL, 0);
    eas_cal_item_parser_init(&p, item, NULL);
    s.p = &p;
    s.depth = 5; /* Sync/Collections/Collection/Commands/Add */
    ev_start(&s, EAS_AIRSYNC_APPLICATION_DATA);
    cal_case_blob(c->tz, blob);
    assert_int_equal(eas_base64_encode(blob, sizeof blob, b64, sizeof b64, NULL), EAS_OK);
    ev_elem_s(&s, EAS_CALENDAR_TIMEZONE, b64);
    ev_elem_s(&s, EAS_CALENDAR_ALL_DAY_EVENT, c->all_day ? "1" : "0");
    ev_elem_s(&s, EAS_CALENDAR_START_TIME, c->start);
    ev_elem_s(&s, EAS_CALENDAR_SUBJECT, c->name);
    ev_elem_s(&s, EAS_CALENDAR_END_TIME, c->end);
    ev_elem_s(&s, EAS_CALENDAR_BUSY_STATUS, "2");
    if (c->recur != NULL) {
        const char *q = c->recur;
        ev_start(&s, EAS_CALENDAR_RECURRENCE);
        while (*q != '\0') {
            const char *eq = strchr(q, '=');
            const char *sp;
            assert_non_null(eq);
            sp = strchr(eq, ' ');
            if (sp == NULL) {
                sp = eq + strlen(eq);
            }
            ev_elem(&s, recur_tag(q, (size_t)(eq - q)), eq + 1, (size_t)(sp - eq - 1));
            q = (*sp == ' ') ? sp + 1 : sp;
        }
        ev_end(&s, EAS_CALENDAR_RECURRENCE);
    }
    if (c->exceptions != NULL) {
        const char *q = c->exceptions;
        ev_start(&s, EAS_CALENDAR_EXCEPTIONS);
        while (*q != '\0') {
            ev_start(&s, EAS_CALENDAR_EXCEPTION);
            if (q[0] == 'D') {
                ev_elem_s(&s, EAS_CALENDAR_DELETED, "1");
                ev_elem(&s, EAS_CALENDAR_EXCEPTION_START_TIME, q + 1, 16);
                q += 17;
            } else {
                assert_int_equal(q[0], 'M');
                ev_elem(&s, EAS_CALENDAR_EXCEPTION_START_TIME, q + 1, 16);
                assert_int_equal(q[17], '=');
                ev_elem(&s, EAS_CALENDAR_START_TIME, q + 18, 16);
                assert_int_equal(q[34], '/');
                ev_elem(&s, EAS_CALENDAR_END_TIME, q + 35, 16);
                ev_elem_s(&s, EAS_CALENDAR_SUBJECT, "moved");
                q += 51;
            }
            ev_end(&s, EAS_CALENDAR_EXCEPTION);
            while (*q == ' ') {
                q++;
            }
        }
        ev_end(&s, EAS_CALENDAR_EXCEPTIONS);
    }
    ev_end(&s, EAS_AIRSYNC_APPLICATION_DATA);
    err = eas_cal_item_parser_finish(&p);
    return (s.err != EAS_OK) ? s.err : err;
}

int cal_collect(void *user, const eas_cal_occurrence_t *occ)
{
    cal_occ_list_t *l = user;
    if (l->n >= sizeof(l->occ) / sizeof(l->occ[0])) {
        return EAS_ERR_NOMEM;
    }
    l->occ[l->n++] = *occ;
    return EAS_OK;
}
