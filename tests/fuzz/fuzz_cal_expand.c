/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Recurrence expansion from a structured item: the input bytes are the fields of an
 * eas_cal_item_t directly (no WBXML, no text parsing), so every byte steers the expansion:
 * Type, Interval, Occurrences, Until, DayOfWeek/Month, WeekOfMonth, MonthOfYear,
 * FirstDayOfWeek, CalendarType, the zone's rules and biases, exceptions and the window.
 * Missing bytes read as 0. Layout (offsets):
 *    0      flags: 1 start over the whole 1601..9999 range (else 2000 + u32 seconds),
 *           2 EndTime present, 4 all-day, 8 recurrence present, 16 end before start,
 *           32 zone from bytes 40.. (else: 64 ? Berlin : UTC), 128 item marked invalid
 *    1..5   start (u40 big endian)
 *    6..7   duration, minutes
 *    8..9   recurrence `present` mask (EAS_CAL_RF_*)
 *   10      Type             11..14 Interval (u32)   15..18 Occurrences (u32)
 *   19..22  Until = start + signed seconds * 60
 *   23 DayOfWeek  24 DayOfMonth  25 WeekOfMonth  26 MonthOfYear  27 FirstDayOfWeek
 *   28 CalendarType  29 IsLeapMonth  30 exception count (mod 65)
 *   31..34  window start relative to the item's start, signed minutes
 *   35..36  window length, hours   37..38 split point, 1/65536ths of the window
 *   39      recurrence `invalid` mask (low byte)
 *   40..63  zone: bias i16, standard bias i16, daylight bias i16, then two rules of
 *           year/month/dow/day/hour/minute/second/ms as u8 each (standard, daylight) + pad
 *   64..    exceptions, 12 bytes each: flags (1 deleted, 2 StartTime, 4 EndTime,
 *           8 all-day present, 16 all-day, 32 ExceptionStartTime absent), day offset from
 *           the series start (i16), seconds offset (i16), start offset minutes (i24),
 *           duration minutes (u16), spare
 * The zone is validated by eas_cal_tz_parse() (as the collector does) and must survive
 * eas_cal_tz_encode() + parse unchanged.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "eas/eas_cal.h"
#include "eas/eas_err.h"
#include "fuzz_cal_check.h"

typedef struct rd {
    const uint8_t *d;
    size_t n;
} rd_t;

static uint64_t be(const rd_t *r, size_t off, unsigned len)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < len; i++) {
        v = (v << 8) | (off + i < r->n ? r->d[off + i] : 0u);
    }
    return v;
}

static int64_t sbe(const rd_t *r, size_t off, unsigned len)
{
    uint64_t v = be(r, off, len);
    unsigned shift = 64u - 8u * len;
    return (int64_t)(v << shift) >> shift;
}

static void put16(uint8_t *p, int v)
{
    p[0] = (uint8_t)((unsigned)v & 0xFFu);
    p[1] = (uint8_t)(((unsigned)v >> 8) & 0xFFu);
}

static void put32(uint8_t *p, int32_t v)
{
    put16(p, (int)(v & 0xFFFF));
    put16(p + 2, (int)(((uint32_t)v >> 16) & 0xFFFF));
}

/* Build a blob from the structured zone bytes; parse it; check the encode round trip. */
static int make_zone(const rd_t *r, eas_cal_tz_t *tz)
{
    uint8_t blob[EAS_CAL_TZ_BLOB_LEN];
    uint8_t again[EAS_CAL_TZ_BLOB_LEN];
    eas_cal_tz_t tz2;
    int err;

    memset(blob, 0, sizeof(blob));
    put32(blob, (int32_t)sbe(r, 40, 2));
    put32(blob + 84, (int32_t)sbe(r, 42, 2));
    put32(blob + 168, (int32_t)sbe(r, 44, 2));
    for (unsigned i = 0; i < 8; i++) {
        put16(blob + 68 + 2 * i, (int)be(r, 46 + i, 1));
        put16(blob + 152 + 2 * i, (int)be(r, 54 + i, 1));
    }
    err = eas_cal_tz_parse(blob, sizeof(blob), tz);
    if (err != EAS_OK) {
        return err;
    }
    if (eas_cal_tz_encode(tz, again) != EAS_OK ||
        eas_cal_tz_parse(again, sizeof(again), &tz2) != EAS_OK || tz2.bias != tz->bias ||
        tz2.standard_bias != tz->standard_bias || tz2.daylight_bias != tz->daylight_bias ||
        tz2.has_dst != tz->has_dst ||
        (tz->has_dst &&
         (memcmp(&tz2.standard_date, &tz->standard_date, sizeof(tz2.standard_date)) ||
          memcmp(&tz2.daylight_date, &tz->daylight_date, sizeof(tz2.daylight_date))))) {
        abort(); /* an accepted zone must encode to a blob that decodes to the same zone */
    }
    /* Local time round trip: to_utc(to_local(u)) lands on u or on the other instant with
       the same wall clock (fall-back), never elsewhere. */
    {
        int64_t u = 946684800 + (int64_t)be(r, 62, 2) * 3600 * 24;
        int64_t l = eas_cal_tz_to_local(tz, u);
        int64_t back = eas_cal_tz_to_utc(tz, l);
        if (eas_cal_tz_to_local(tz, back) != l) {
            abort();
        }
    }
    return EAS_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static eas_cal_item_t item;
    static eas_cal_exception_t ex[64];
    static const uint8_t berlin[EAS_CAL_TZ_BLOB_LEN] = {
        [0] = 0xC4, [1] = 0xFF, [2] = 0xFF, [3] = 0xFF,   [70] = 10,    [74] = 5,     [76] = 3,
        [154] = 3,  [158] = 5,  [160] = 2,  [168] = 0xC4, [169] = 0xFF, [170] = 0xFF, [171] = 0xFF};
    rd_t r = {data, size};
    unsigned flags = (unsigned)be(&r, 0, 1);
    eas_cal_recurrence_t *rc = &item.recurrence;
    int64_t a;
    int64_t len;
    unsigned nex;

    eas_cal_item_init(&item, ex, 64, NULL, 0);
    if (flags & 1u) {
        item.start = EAS_CAL_TIME_MIN +
                     (int64_t)(be(&r, 1, 5) % (uint64_t)(EAS_CAL_TIME_MAX - EAS_CAL_TIME_MIN + 1));
    } else {
        item.start = 946684800 + (int64_t)be(&r, 2, 4);
    }
    item.present = EAS_CAL_F_START;
    if (flags & 2u) {
        int64_t d = (int64_t)be(&r, 6, 2) * 60;
        item.end = (flags & 16u) ? item.start - d : item.start + d;
        item.end = item.end > EAS_CAL_TIME_MAX ? EAS_CAL_TIME_MAX : item.end;
        item.present |= EAS_CAL_F_END;
    } else {
        item.end = item.start;
    }
    if (flags & 4u) {
        item.all_day = 1;
        item.present |= EAS_CAL_F_ALL_DAY;
    }
    if (flags & 128u) {
        item.invalid =
            (uint32_t)be(&r, 39, 1) & (EAS_CAL_F_START | EAS_CAL_F_END | EAS_CAL_F_TIMEZONE);
    }
    eas_cal_tz_utc(&item.tz);
    if (flags & 32u) {
        if (make_zone(&r, &item.tz) != EAS_OK) {
            return 0; /* the collector would mark the item's zone invalid */
        }
        item.present |= EAS_CAL_F_TIMEZONE;
    } else if (flags & 64u) {
        if (eas_cal_tz_parse(berlin, sizeof(berlin), &item.tz) != EAS_OK) {
            abort();
        }
    }
    if (flags & 8u) {
        item.present |= EAS_CAL_F_RECURRENCE;
        rc->present = (uint16_t)be(&r, 8, 2);
        rc->type = (uint8_t)be(&r, 10, 1);
        rc->interval = (uint32_t)be(&r, 11, 4);
        rc->occurrences = (uint32_t)be(&r, 15, 4);
        rc->until = item.start + sbe(&r, 19, 4) * 60;
        rc->until = rc->until > EAS_CAL_TIME_MAX
                        ? EAS_CAL_TIME_MAX
                        : (rc->until < EAS_CAL_TIME_MIN ? EAS_CAL_TIME_MIN : rc->until);
        rc->day_of_week = (uint8_t)be(&r, 23, 1);
        rc->day_of_month = (uint8_t)be(&r, 24, 1);
        rc->week_of_month = (uint8_t)be(&r, 25, 1);
        rc->month_of_year = (uint8_t)be(&r, 26, 1);
        rc->first_day_of_week = (uint8_t)be(&r, 27, 1);
        rc->calendar_type = (uint8_t)be(&r, 28, 1);
        rc->is_leap_month = (uint8_t)be(&r, 29, 1);
        if (flags & 128u) {
            rc->invalid = (uint16_t)(be(&r, 39, 1) & rc->present);
        }
    }
    nex = (unsigned)be(&r, 30, 1) % 65u;
    for (unsigned i = 0; i < nex; i++) {
        size_t o = 64u + 12u * i;
        eas_cal_exception_t *e = &ex[i];
        unsigned ef = (unsigned)be(&r, o, 1);
        int64_t orig;
        memset(e, 0, sizeof(*e));
        orig = item.start + sbe(&r, o + 1, 2) * 86400 + sbe(&r, o + 3, 2);
        e->exception_start = orig < EAS_CAL_TIME_MIN
                                 ? EAS_CAL_TIME_MIN
                                 : (orig > EAS_CAL_TIME_MAX ? EAS_CAL_TIME_MAX : orig);
        if ((ef & 32u) == 0) {
            e->present |= EAS_CAL_F_EXCEPTION_START;
        }
        e->deleted = (ef & 1u) ? 1u : 0u;
        if (e->deleted) {
            e->present |= EAS_CAL_F_DELETED;
        }
        e->start = e->exception_start + sbe(&r, o + 5, 3) * 60;
        e->start = e->start > EAS_CAL_TIME_MAX
                       ? EAS_CAL_TIME_MAX
                       : (e->start < EAS_CAL_TIME_MIN ? EAS_CAL_TIME_MIN : e->start);
        e->end = e->start + (int64_t)be(&r, o + 8, 2) * 60;
        e->end = e->end > EAS_CAL_TIME_MAX ? EAS_CAL_TIME_MAX : e->end;
        if (ef & 2u) {
            e->present |= EAS_CAL_F_START;
        }
        if (ef & 4u) {
            e->present |= EAS_CAL_F_END;
        }
        if (ef & 8u) {
            e->present |= EAS_CAL_F_ALL_DAY;
            e->all_day = (ef & 16u) ? 1u : 0u;
        }
    }
    item.exception_count = (uint16_t)nex;
    if (nex > 0) {
        item.present |= EAS_CAL_F_EXCEPTIONS;
    }
    fuzz_cal_check_item(&item);
    a = item.start + sbe(&r, 31, 4) * 60;
    len = (int64_t)be(&r, 35, 2) * 3600;
    (void)fuzz_cal_check_expand(&item, a, a + ((len * (int64_t)be(&r, 37, 2)) >> 16), a + len);
    return 0;
}
