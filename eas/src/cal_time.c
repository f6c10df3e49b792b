/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Civil time and the MS-ASDTYPE TimeZone blob. Everything is integer arithmetic on seconds
 * since the epoch: no libc time functions (they depend on the host's zone database and
 * are missing or huge on bare-metal targets).
 */
#include "eas/eas_config_defaults.h"

#if CONFIG_EAS_CALENDAR

#include <string.h>

#include "eas/eas_base64.h"
#include "eas/eas_cal.h"
#include "eas/eas_err.h"

#include "cal_internal.h"

/* ---- civil dates ---------------------------------------------------------------------- */

int64_t eas_cal_days_from_civil(int64_t year, unsigned month, unsigned day)
{
    /* Count from 0000-03-01 so the leap day is the last day of the "year". */
    int64_t y = year - ((month <= 2u) ? 1 : 0);
    int64_t era = cal_fdiv(y, 400);
    int64_t yoe = y - (era * 400);
    int64_t mp = (int64_t)((month + 9u) % 12u);
    int64_t doy = ((153 * mp) + 2) / 5 + (int64_t)day - 1;
    int64_t doe = (yoe * 365) + (yoe / 4) - (yoe / 100) + doy;

    return (era * 146097) + doe - 719468;
}

void cal_ymd_from_days(int64_t days, int64_t *year, unsigned *month, unsigned *day)
{
    int64_t z = days + 719468;
    int64_t era = cal_fdiv(z, 146097);
    int64_t doe = z - (era * 146097);
    int64_t yoe = (doe - (doe / 1460) + (doe / 36524) - (doe / 146096)) / 365;
    int64_t doy = doe - ((365 * yoe) + (yoe / 4) - (yoe / 100));
    int64_t mp = ((5 * doy) + 2) / 153;
    unsigned m = (unsigned)((mp < 10) ? (mp + 3) : (mp - 9));

    *day = (unsigned)(doy - (((153 * mp) + 2) / 5) + 1);
    *month = m;
    *year = yoe + (era * 400) + ((m <= 2u) ? 1 : 0);
}

static bool is_leap(int64_t y)
{
    return ((cal_fmod(y, 4) == 0) && (cal_fmod(y, 100) != 0)) || (cal_fmod(y, 400) == 0);
}

unsigned eas_cal_days_in_month(int64_t year, unsigned month)
{
    static const uint8_t k_dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    unsigned n = 0u;

    if ((month >= 1u) && (month <= 12u)) {
        n = k_dim[month - 1u];
        if ((month == 2u) && is_leap(year)) {
            n = 29u;
        }
    }
    return n;
}

void eas_cal_civil_from_time(int64_t t, eas_cal_civil_t *out)
{
    int64_t days = cal_fdiv(t, CAL_SECS_PER_DAY);
    int64_t secs = t - (days * CAL_SECS_PER_DAY);
    int64_t y = 0;
    unsigned m = 0u;
    unsigned d = 0u;

    if (out == NULL) {
        return;
    }
    cal_ymd_from_days(days, &y, &m, &d);
    out->year = (int32_t)y;
    out->month = (uint8_t)m;
    out->day = (uint8_t)d;
    out->hour = (uint8_t)(secs / 3600);
    out->minute = (uint8_t)((secs / 60) % 60);
    out->second = (uint8_t)(secs % 60);
    out->wday = (uint8_t)cal_weekday(days);
}

int eas_cal_time_from_civil(const eas_cal_civil_t *c, int64_t *t)
{
    int err = EAS_ERR_PARAM;

    if ((c == NULL) || (t == NULL)) {
        goto out;
    }
    err = EAS_ERR_CAL_TIME;
    if ((c->year < 1601) || (c->year > 9999) || (c->month < 1u) || (c->month > 12u) ||
        (c->day < 1u) || (c->day > eas_cal_days_in_month(c->year, c->month)) || (c->hour > 23u) ||
        (c->minute > 59u) || (c->second > 59u)) {
        goto out;
    }
    *t = (eas_cal_days_from_civil(c->year, c->month, c->day) * CAL_SECS_PER_DAY) +
         ((int64_t)c->hour * 3600) + ((int64_t)c->minute * 60) + c->second;
    err = EAS_OK;
out:
    return err;
}

/* ---- text form ------------------------------------------------------------------------ */

/* Reads @p n decimal digits; -1 when any is not a digit. */
static int32_t read_digits(const char *s, size_t n)
{
    int32_t v = 0;
    size_t i;

    for (i = 0u; i < n; i++) {
        if ((s[i] < '0') || (s[i] > '9')) {
            return -1;
        }
        v = (v * 10) + (s[i] - '0');
    }
    return v;
}

static bool is_space(char c)
{
    return (c == ' ') || (c == '\t') || (c == '\r') || (c == '\n');
}

int eas_cal_parse_time(const char *s, size_t len, int64_t *t)
{
    int err = EAS_ERR_PARAM;
    eas_cal_civil_t c;
    int32_t f[6] = {-1, -1, -1, -1, -1, -1};
    size_t i;

    if ((s == NULL) || (t == NULL)) {
        goto out;
    }
    err = EAS_ERR_CAL_TIME;
    while ((len > 0u) && is_space(s[0])) {
        s++;
        len--;
    }
    while ((len > 0u) && is_space(s[len - 1u])) {
        len--;
    }
    if ((len < 16u) || (s[len - 1u] != 'Z')) {
        goto out;
    }
    if ((len == 16u) && (s[8] == 'T')) {
        /* Compact: YYYYMMDDTHHMMSSZ */
        f[0] = read_digits(s, 4u);
        f[1] = read_digits(s + 4, 2u);
        f[2] = read_digits(s + 6, 2u);
        f[3] = read_digits(s + 9, 2u);
        f[4] = read_digits(s + 11, 2u);
        f[5] = read_digits(s + 13, 2u);
    } else if ((len >= 20u) && (s[4] == '-') && (s[7] == '-') && (s[10] == 'T') && (s[13] == ':') &&
               (s[16] == ':')) {
        /* Extended: YYYY-MM-DDTHH:MM:SS[.fff]Z; the fraction is dropped (whole seconds). */
        if (len > 20u) {
            if ((s[19] != '.') || (len == 21u) || (len > 30u)) {
                goto out;
            }
            if (read_digits(s + 20, len - 21u) < 0) {
                goto out;
            }
        }
        f[0] = read_digits(s, 4u);
        f[1] = read_digits(s + 5, 2u);
        f[2] = read_digits(s + 8, 2u);
        f[3] = read_digits(s + 11, 2u);
        f[4] = read_digits(s + 14, 2u);
        f[5] = read_digits(s + 17, 2u);
    } else {
        goto out;
    }
    for (i = 0u; i < 6u; i++) {
        if (f[i] < 0) {
            goto out;
        }
    }
    memset(&c, 0, sizeof(c));
    c.year = f[0];
    c.month = (uint8_t)((f[1] > 255) ? 255 : f[1]);
    c.day = (uint8_t)f[2];
    c.hour = (uint8_t)f[3];
    c.minute = (uint8_t)f[4];
    c.second = (uint8_t)f[5];
    err = eas_cal_time_from_civil(&c, t);
out:
    return err;
}

static char *put_num(char *p, unsigned v, unsigned width)
{
    unsigned i;

    for (i = width; i > 0u; i--) {
        p[i - 1u] = (char)('0' + (v % 10u));
        v /= 10u;
    }
    return p + width;
}

int eas_cal_format_time(int64_t t, eas_cal_time_fmt_t fmt, char *buf, size_t cap)
{
    int err = EAS_ERR_PARAM;
    eas_cal_civil_t c;
    char tmp[32];
    char *p = tmp;
    bool ext = (fmt != EAS_CAL_FMT_COMPACT);
    size_t n;

    if ((buf == NULL) || (fmt > EAS_CAL_FMT_EAS)) {
        goto out;
    }
    err = EAS_ERR_CAL_TIME;
    if ((t < EAS_CAL_TIME_MIN) || (t > EAS_CAL_TIME_MAX)) {
        goto out;
    }
    eas_cal_civil_from_time(t, &c);
    p = put_num(p, (unsigned)c.year, 4u);
    if (ext) {
        *p++ = '-';
    }
    p = put_num(p, c.month, 2u);
    if (ext) {
        *p++ = '-';
    }
    p = put_num(p, c.day, 2u);
    *p++ = 'T';
    p = put_num(p, c.hour, 2u);
    if (ext) {
        *p++ = ':';
    }
    p = put_num(p, c.minute, 2u);
    if (ext) {
        *p++ = ':';
    }
    p = put_num(p, c.second, 2u);
    if (fmt == EAS_CAL_FMT_EAS) {
        memcpy(p, ".000", 4u);
        p += 4;
    }
    *p++ = 'Z';
    n = (size_t)(p - tmp);
    err = EAS_ERR_NOMEM;
    if (cap > n) {
        memcpy(buf, tmp, n);
        buf[n] = '\0';
        err = EAS_OK;
    } else if (cap > 0u) {
        buf[0] = '\0';
    }
out:
    return err;
}

/* ---- time zones ----------------------------------------------------------------------- */

/* Offsets in seconds east of UTC: the blob stores minutes west (UTC = local + bias). */
static int32_t std_offset(const eas_cal_tz_t *tz)
{
    return -(tz->bias + tz->standard_bias) * 60;
}

static int32_t dst_offset(const eas_cal_tz_t *tz)
{
    return -(tz->bias + tz->daylight_bias) * 60;
}

/*
 * Local wall-clock instant of a transition rule in @p year; false when the rule does not
 * apply that year (an absolute rule for another year).
 */
static bool rule_local(const eas_cal_tz_rule_t *r, int64_t year, int64_t *local)
{
    int64_t day;
    int64_t secs;

    if (r->year != 0u) {
        if ((int64_t)r->year != year) {
            return false;
        }
        day = eas_cal_days_from_civil(year, r->month, r->day);
    } else {
        int64_t first = eas_cal_days_from_civil(year, r->month, 1u);
        if (r->day >= 5u) {
            int64_t last = first + eas_cal_days_in_month(year, r->month) - 1;
            day = last - (int64_t)((cal_weekday(last) + 7u - r->day_of_week) % 7u);
        } else {
            day = first + (int64_t)((r->day_of_week + 7u - cal_weekday(first)) % 7u) +
                  (7 * ((int64_t)r->day - 1));
        }
    }
    /* 23:59:59.999 is how Windows writes "24:00": round milliseconds up. */
    secs = ((int64_t)r->hour * 3600) + ((int64_t)r->minute * 60) + r->second +
           ((r->millisecond > 0u) ? 1 : 0);
    *local = (day * CAL_SECS_PER_DAY) + secs;
    return true;
}

void cal_tz_cache_init(cal_tz_cache_t *c, const eas_cal_tz_t *tz)
{
    memset(c, 0, sizeof(*c));
    c->tz = tz;
}

static void cache_year(cal_tz_cache_t *c, int64_t year)
{
    int64_t s = 0;
    int64_t e = 0;

    c->year = year;
    c->valid = 1;
    c->dst_start = INT64_MIN;
    c->dst_end = INT64_MIN;
    if (c->tz->has_dst && rule_local(&c->tz->daylight_date, year, &s) &&
        rule_local(&c->tz->standard_date, year, &e)) {
        /* Daylight time starts on the standard clock and ends on the daylight clock. */
        c->dst_start = s - std_offset(c->tz);
        c->dst_end = e - dst_offset(c->tz);
        if (c->dst_start == c->dst_end) {
            c->dst_start = INT64_MIN;
        }
    }
}

int32_t cal_tz_offset_c(cal_tz_cache_t *c, int64_t utc)
{
    const eas_cal_tz_t *tz = c->tz;
    int32_t off = std_offset(tz);
    bool dst = false;

    if (tz->has_dst) {
        int64_t y = 0;
        unsigned m = 0u;
        unsigned d = 0u;
        cal_ymd_from_days(cal_fdiv(utc + off, CAL_SECS_PER_DAY), &y, &m, &d);
        if (!c->valid || (c->year != y)) {
            cache_year(c, y);
        }
        if (c->dst_start != INT64_MIN) {
            if (c->dst_start < c->dst_end) {
                dst = (utc >= c->dst_start) && (utc < c->dst_end);
            } else {
                /* Southern hemisphere: daylight time spans the new year. */
                dst = (utc < c->dst_end) || (utc >= c->dst_start);
            }
        }
    }
    if (dst) {
        off = dst_offset(tz);
    }
    return off;
}

int64_t cal_tz_to_utc_c(cal_tz_cache_t *c, int64_t local)
{
    int32_t so = std_offset(c->tz);
    int32_t dof = dst_offset(c->tz);
    int64_t us = local - so;
    int64_t ud = local - dof;
    bool vs;
    bool vd;
    int64_t r;

    if (!c->tz->has_dst || (so == dof)) {
        return us;
    }
    vs = (cal_tz_offset_c(c, us) == so);
    vd = (cal_tz_offset_c(c, ud) == dof);
    if (vs && vd) {
        r = (us < ud) ? us : ud; /* repeated hour: the first one */
    } else if (vs) {
        r = us;
    } else if (vd) {
        r = ud;
    } else {
        r = (us > ud) ? us : ud; /* skipped hour: offset before the jump */
    }
    return r;
}

void eas_cal_tz_utc(eas_cal_tz_t *tz)
{
    if (tz != NULL) {
        memset(tz, 0, sizeof(*tz));
    }
}

int32_t eas_cal_tz_offset(const eas_cal_tz_t *tz, int64_t utc)
{
    cal_tz_cache_t c;

    if (tz == NULL) {
        return 0;
    }
    cal_tz_cache_init(&c, tz);
    return cal_tz_offset_c(&c, utc);
}

int64_t eas_cal_tz_to_local(const eas_cal_tz_t *tz, int64_t utc)
{
    return utc + eas_cal_tz_offset(tz, utc);
}

int64_t eas_cal_tz_to_utc(const eas_cal_tz_t *tz, int64_t local)
{
    cal_tz_cache_t c;

    if (tz == NULL) {
        return local;
    }
    cal_tz_cache_init(&c, tz);
    return cal_tz_to_utc_c(&c, local);
}

static int32_t rd_i32(const uint8_t *p)
{
    uint32_t v =
        (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
    /* Two's complement without implementation-defined conversion. */
    return (v <= 0x7FFFFFFFu) ? (int32_t)v : -(int32_t)(~v) - 1;
}

static void wr_i32(uint8_t *p, int32_t s)
{
    uint32_t v = (uint32_t)s;
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static void rd_rule(const uint8_t *p, eas_cal_tz_rule_t *r)
{
    uint16_t f[8];
    unsigned i;

    for (i = 0u; i < 8u; i++) {
        f[i] = (uint16_t)(p[2u * i] | (p[(2u * i) + 1u] << 8));
    }
    r->year = f[0];
    r->month = f[1];
    r->day_of_week = f[2];
    r->day = f[3];
    r->hour = f[4];
    r->minute = f[5];
    r->second = f[6];
    r->millisecond = f[7];
}

static void wr_rule(uint8_t *p, const eas_cal_tz_rule_t *r)
{
    const uint16_t f[8] = {r->year, r->month,  r->day_of_week, r->day,
                           r->hour, r->minute, r->second,      r->millisecond};
    unsigned i;

    for (i = 0u; i < 8u; i++) {
        p[2u * i] = (uint8_t)f[i];
        p[(2u * i) + 1u] = (uint8_t)(f[i] >> 8);
    }
}

static bool rule_ok(const eas_cal_tz_rule_t *r)
{
    /* wMonth 0 means "no transition" and the other fields carry no meaning. SOGo 5.8 sends
       UTC blobs whose StandardDate is uninitialised memory apart from wMonth 0, so the rest
       of such a rule must be ignored, not validated. */
    bool ok = (r->month == 0u) || ((r->hour <= 23u) && (r->minute <= 59u) &&
                                   (r->second <= 59u) && (r->millisecond <= 999u) &&
                                   (r->month <= 12u));

    if (ok && (r->month != 0u)) {
        if (r->year == 0u) {
            ok = (r->day_of_week <= 6u) && (r->day >= 1u) && (r->day <= 5u);
        } else {
            ok = (r->year >= 1601u) && (r->year <= 9999u) && (r->day >= 1u) &&
                 (r->day <= eas_cal_days_in_month(r->year, r->month));
        }
    }
    return ok;
}

#define TZ_MAX_MINUTES (16 * 60)

int eas_cal_tz_parse(const uint8_t *blob, size_t len, eas_cal_tz_t *tz)
{
    int err = EAS_ERR_PARAM;
    eas_cal_tz_t z;
    size_t i;
    bool zero = true;

    if ((blob == NULL) || (tz == NULL)) {
        goto out;
    }
    err = EAS_ERR_CAL_TIMEZONE;
    if (len != EAS_CAL_TZ_BLOB_LEN) {
        goto out;
    }
    for (i = 0u; (i < len) && zero; i++) {
        zero = (blob[i] == 0u);
    }
    memset(&z, 0, sizeof(z));
    if (zero) {
        z.unspecified = true;
        *tz = z;
        err = EAS_OK;
        goto out;
    }
    z.bias = rd_i32(blob);
    rd_rule(blob + 68, &z.standard_date);
    z.standard_bias = rd_i32(blob + 84);
    rd_rule(blob + 152, &z.daylight_date);
    z.daylight_bias = rd_i32(blob + 168);
    if ((z.bias < -TZ_MAX_MINUTES) || (z.bias > TZ_MAX_MINUTES) ||
        (z.standard_bias < -TZ_MAX_MINUTES) || (z.standard_bias > TZ_MAX_MINUTES) ||
        (z.daylight_bias < -TZ_MAX_MINUTES) || (z.daylight_bias > TZ_MAX_MINUTES) ||
        (z.bias + z.standard_bias < -TZ_MAX_MINUTES) ||
        (z.bias + z.standard_bias > TZ_MAX_MINUTES) ||
        (z.bias + z.daylight_bias < -TZ_MAX_MINUTES) ||
        (z.bias + z.daylight_bias > TZ_MAX_MINUTES) || !rule_ok(&z.standard_date) ||
        !rule_ok(&z.daylight_date)) {
        goto out;
    }
    /* One transition without the other would leave the clock shifted for good. */
    if ((z.standard_date.month == 0u) != (z.daylight_date.month == 0u)) {
        goto out;
    }
    z.has_dst = (z.standard_date.month != 0u);
    *tz = z;
    err = EAS_OK;
out:
    return err;
}

int eas_cal_tz_parse_base64(const char *text, size_t len, eas_cal_tz_t *tz, uint8_t *raw)
{
    int err = EAS_ERR_PARAM;
    uint8_t blob[EAS_CAL_TZ_BLOB_LEN + 3u];
    size_t n = 0u;

    if ((text == NULL) || (tz == NULL)) {
        goto out;
    }
    err = eas_base64_decode(text, len, blob, sizeof(blob), &n);
    if (err != EAS_OK) {
        err = EAS_ERR_CAL_TIMEZONE;
        goto out;
    }
    err = eas_cal_tz_parse(blob, n, tz);
    if ((err == EAS_OK) && (raw != NULL)) {
        memcpy(raw, blob, EAS_CAL_TZ_BLOB_LEN);
    }
out:
    return err;
}

int eas_cal_tz_encode(const eas_cal_tz_t *tz, uint8_t blob[EAS_CAL_TZ_BLOB_LEN])
{
    int err = EAS_ERR_PARAM;

    if ((tz == NULL) || (blob == NULL)) {
        goto out;
    }
    memset(blob, 0, EAS_CAL_TZ_BLOB_LEN);
    if (!tz->unspecified) {
        wr_i32(blob, tz->bias);
        wr_rule(blob + 68, &tz->standard_date);
        wr_i32(blob + 84, tz->standard_bias);
        wr_rule(blob + 152, &tz->daylight_date);
        wr_i32(blob + 168, tz->daylight_bias);
    }
    err = EAS_OK;
out:
    return err;
}

#endif /* CONFIG_EAS_CALENDAR */
