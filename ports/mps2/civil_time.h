/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file civil_time.h
 * @brief UTC calendar fields of a time, without libc's gmtime (the port's certificate dates).
 */
#ifndef MPS2_CIVIL_TIME_H
#define MPS2_CIVIL_TIME_H

#include <stdint.h>
#include <time.h>

/**
 * @brief Fill @p out's tm_year/mon/mday/hour/min/sec (as gmtime_r does; the other fields 0)
 *        for @p t seconds since 1970-01-01T00:00:00Z.
 * @return 0, or -1 for a time before 1970 or after 9999-12-31T23:59:59Z (the range of X.509
 *         dates), or a NULL @p out.
 */
int mps2_civil_utc(int64_t t, struct tm *out);

#endif /* MPS2_CIVIL_TIME_H */
