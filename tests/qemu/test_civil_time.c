/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The firmware's UTC calendar conversion (ports/mps2/civil_time.c, what the TLS certificate
 * dates are compared with) against the host C library's gmtime_r: every day from 1970 to
 * 2200 at a moving time of day, the leap-year edges of 2000/2100/2400, and the refusals.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <time.h>

#include "civil_time.h"

static int failures;

static void check(int64_t t)
{
    struct tm want, got;
    if (t > 253402300799LL) { /* after 9999-12-31T23:59:59Z: refused */
        if (mps2_civil_utc(t, &got) != -1) {
            printf("t=%lld after 9999 accepted\n", (long long)t);
            failures++;
        }
        return;
    }
    time_t tt = (time_t)t;
    if (gmtime_r(&tt, &want) == NULL) {
        printf("host gmtime_r failed for %lld\n", (long long)t);
        failures++;
        return;
    }
    if (mps2_civil_utc(t, &got) != 0 || got.tm_year != want.tm_year || got.tm_mon != want.tm_mon ||
        got.tm_mday != want.tm_mday || got.tm_hour != want.tm_hour || got.tm_min != want.tm_min ||
        got.tm_sec != want.tm_sec) {
        if (failures++ < 10) {
            printf(
                "t=%lld: want %04d-%02d-%02d %02d:%02d:%02d, got %04d-%02d-%02d %02d:%02d:%02d\n",
                (long long)t, want.tm_year + 1900, want.tm_mon + 1, want.tm_mday, want.tm_hour,
                want.tm_min, want.tm_sec, got.tm_year + 1900, got.tm_mon + 1, got.tm_mday,
                got.tm_hour, got.tm_min, got.tm_sec);
        }
    }
}

int main(void)
{
    if (sizeof(time_t) < 8) {
        printf("SKIP is not allowed: this test needs a 64-bit time_t on the host\n");
        return 1;
    }
    long n = 0;
    /* Every day to 2200, the second of the day moving by 7 s a day (covers all hours). */
    for (int64_t d = 0; d < 230LL * 366; d++, n++) {
        check(d * 86400 + (d * 7) % 86400);
    }
    /* Around the edges: 23:59:59 / 00:00:00 of Feb 28/29, Mar 1, Dec 31 in special years. */
    static const int64_t edges[] = {
        951782400,   /* 2000-02-29 (leap: divisible by 400) */
        4107542400,  /* 2100-03-01 (2100 is not a leap year) */
        13574563200, /* 2400-02-29 */
        253402300799 /* 9999-12-31T23:59:59 */
    };
    for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++) {
        for (int64_t dt = -2 * 86400; dt <= 2 * 86400; dt += 3600, n++) {
            check(edges[i] + dt - 1);
            check(edges[i] + dt);
        }
    }
    struct tm tm;
    if (mps2_civil_utc(-1, &tm) != -1 || mps2_civil_utc(0, NULL) != -1 ||
        mps2_civil_utc(253402300800LL, &tm) != -1) {
        printf("a time before 1970 or after 9999, or a NULL result was accepted\n");
        failures++;
    }
    printf("%ld times checked, %d wrong\n", n, failures);
    return failures == 0 ? 0 : 1;
}
