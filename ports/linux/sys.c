/* SPDX-License-Identifier: Apache-2.0 */
/* Clocks and randomness for Linux. */
#include <errno.h>
#include <sys/random.h>
#include <time.h>

#include "eas/eas_err.h"
#include "hal/hal_rng.h"
#include "hal/hal_time.h"

/* 2020-01-01T00:00:00Z. A device without an RTC boots near 1970; any earlier time is a
 * clock that has not been set, and certificate and Ping logic must not trust it. */
#define LX_UTC_PLAUSIBLE_MIN 1577836800LL

uint64_t hal_time_monotonic_ms(void)
{
    struct timespec ts = {0, 0};

    /* CLOCK_MONOTONIC cannot fail with a valid pointer on Linux. */
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int hal_time_utc(int64_t *unix_seconds)
{
    int rc = EAS_ERR_PARAM;
    struct timespec ts = {0, 0};

    if (unix_seconds == NULL) {
        goto done;
    }
    rc = EAS_ERR_STATE;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0 || (int64_t)ts.tv_sec < LX_UTC_PLAUSIBLE_MIN) {
        goto done;
    }
    *unix_seconds = (int64_t)ts.tv_sec;
    rc = EAS_OK;
done:
    return rc;
}

int hal_rng_fill(uint8_t *buf, size_t len)
{
    int rc = EAS_OK;
    size_t off = 0u;

    if (buf == NULL && len > 0u) {
        rc = EAS_ERR_PARAM;
    }
    while (rc == EAS_OK && off < len) {
        /* Flags 0: block until the kernel pool is initialised, then never again. */
        ssize_t n = getrandom(buf + off, len - off, 0);
        if (n > 0) {
            off += (size_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else {
            rc = (n < 0 && errno == ENOSYS) ? EAS_ERR_UNSUPPORTED : EAS_ERR_IO;
        }
    }
    return rc;
}
