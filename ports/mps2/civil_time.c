/* SPDX-License-Identifier: Apache-2.0 */
/*
 * UTC calendar fields from seconds since 1970, for the TLS certificate dates (net_lwip.c's
 * mbedtls_platform_gmtime_r). Days to year/month/day in the proleptic Gregorian calendar,
 * counted in eras of 400 years from 0000-03-01 so that the leap day ends each year; no
 * tables, no time zones, no libc. Checked against the host's gmtime_r by test_civil_time.
 */
#include <string.h>

#include "civil_time.h"

int mps2_civil_utc(int64_t t, struct tm *out)
{
    /* Up to 9999-12-31T23:59:59Z (X.509's last time): the day count then fits 32 bits, and
       only the one division of t needs 64-bit arithmetic. */
    if (t < 0 || t > 253402300799LL || out == NULL) {
        return -1;
    }
    int32_t days = (int32_t)(t / 86400);
    int32_t rem = (int32_t)(t - (int64_t)days * 86400);
    int32_t z = days + 719468; /* days from 0000-03-01 to 1970-01-01 */
    int32_t era = z / 146097;  /* 400 years */
    int32_t doe = z - era * 146097;
    int32_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int32_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100); /* from March 1st */
    int32_t mp = (5 * doy + 2) / 153;                      /* month from March, 0..11 */
    int32_t mday = doy - (153 * mp + 2) / 5 + 1;
    int32_t mon = mp < 10 ? mp + 3 : mp - 9;
    int32_t year = yoe + era * 400 + (mon <= 2 ? 1 : 0);
    memset(out, 0, sizeof(*out));
    out->tm_year = year - 1900;
    out->tm_mon = mon - 1;
    out->tm_mday = mday;
    out->tm_hour = rem / 3600;
    out->tm_min = rem / 60 % 60;
    out->tm_sec = rem % 60;
    return 0;
}
