/* SPDX-License-Identifier: Apache-2.0 */
/* Private helpers shared by the calendar module's files (cal_time.c, cal_expand.c, ...). */
#ifndef EAS_CAL_INTERNAL_H
#define EAS_CAL_INTERNAL_H

#include <stdint.h>

#include "eas/eas_cal.h"

#define CAL_SECS_PER_DAY 86400

/* Floor division and modulo: civil math must round towards minus infinity. */
static inline int64_t cal_fdiv(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if (((a % b) != 0) && ((a < 0) != (b < 0))) {
        q--;
    }
    return q;
}

static inline int64_t cal_fmod(int64_t a, int64_t b)
{
    return a - (cal_fdiv(a, b) * b);
}

/* 0 = Sunday. 1970-01-01 was a Thursday. */
static inline unsigned cal_weekday(int64_t days)
{
    return (unsigned)cal_fmod(days + 4, 7);
}

/* Day of month / month / year of a day number without the time part. */
void cal_ymd_from_days(int64_t days, int64_t *year, unsigned *month, unsigned *day);

/*
 * A one-year cache of a zone's transitions: expansion converts hundreds of local times in
 * the same year, and recomputing two "n-th weekday" dates for each costs more than the
 * rest of the step.
 */
typedef struct cal_tz_cache {
    const eas_cal_tz_t *tz;
    int64_t year;
    int64_t dst_start; /* UTC instant daylight time begins, or INT64_MIN for none */
    int64_t dst_end;   /* UTC instant daylight time ends */
    int valid;
} cal_tz_cache_t;

void cal_tz_cache_init(cal_tz_cache_t *c, const eas_cal_tz_t *tz);
int32_t cal_tz_offset_c(cal_tz_cache_t *c, int64_t utc);
int64_t cal_tz_to_utc_c(cal_tz_cache_t *c, int64_t local);

#endif /* EAS_CAL_INTERNAL_H */
