/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Recurrence expansion with Outlook/Exchange semantics.
 *
 * The pattern runs on local *days* of the item's zone: an occurrence is a local day number
 * plus the series' local time of day, converted to UTC per occurrence, so a 09:00 meeting
 * stays at 09:00 on both sides of a DST change. Every EAS pattern yields at most one
 * occurrence per local day, which is what makes exceptions matchable by day.
 *
 * Patterns are walked period by period (day, week, month, year). Each period after the
 * first yields a fixed number of occurrences, so the walk can jump straight to the window
 * and still know each occurrence's position for Occurrences (counted from the series
 * start): the cost is proportional to the window, not to the age of the series.
 */
#include "eas/eas_config_defaults.h"

#if CONFIG_EAS_CALENDAR

#include <string.h>

#include "eas/eas_cal.h"
#include "eas/eas_err.h"
#include "eas_log.h"

#include "cal_internal.h"

#define LOG_MOD  "cal"
#define DAY_NONE INT32_MIN

/* Day numbers of the first and last day the module accepts (1601-01-01, 9999-12-31). */
#define DAY_MIN (EAS_CAL_TIME_MIN / CAL_SECS_PER_DAY)
#define DAY_MAX (EAS_CAL_TIME_MAX / CAL_SECS_PER_DAY)

/* ---- rule resolution ------------------------------------------------------------------ */

/*
 * CalendarType values whose months and days are the Gregorian ones (only the era or the
 * language differs), so Gregorian arithmetic gives the dates Outlook shows: 0 default,
 * 1 Gregorian, 2 US English, 3 Japanese era, 4 Taiwan, 5 Korean Tangun era, 7 Thai,
 * 9-12 Gregorian Middle East French / Arabic / transliterated English / French.
 * Hijri (6), Hebrew (8), the lunar calendars (14, 15, 20), Umm al-Qura (23) and anything
 * unknown are refused rather than guessed.
 */
static bool calendar_type_gregorian(uint8_t ct)
{
    return (ct <= 5u) || (ct == 7u) || ((ct >= 9u) && (ct <= 12u));
}

static unsigned popcount7(uint8_t m)
{
    unsigned n = 0u;
    unsigned i;

    for (i = 0u; i < 7u; i++) {
        n += (m >> i) & 1u;
    }
    return n;
}

/* The n-th day (5 = last) of year/month whose weekday is in @p mask. */
static int64_t nth_day(int64_t year, unsigned month, uint8_t mask, unsigned week)
{
    int64_t first = eas_cal_days_from_civil(year, month, 1u);
    int64_t last = first + eas_cal_days_in_month(year, month) - 1;
    int64_t d;
    unsigned seen = 0u;

    if (week >= 5u) {
        for (d = last; d >= first; d--) {
            if ((mask >> cal_weekday(d)) & 1u) {
                return d;
            }
        }
    } else {
        for (d = first; d <= last; d++) {
            if ((mask >> cal_weekday(d)) & 1u) {
                seen++;
                if (seen == week) {
                    return d;
                }
            }
        }
    }
    /* Unreachable for a non-empty mask: any weekday occurs at least four times a month. */
    return last;
}

/* Type 0 with a DayOfWeek that leaves out some days ("every weekday" = 62). */
static bool daily_masked(const eas_cal_rule_t *r)
{
    return (r->type == EAS_CAL_RECUR_DAILY) && (r->day_of_week != 0x7Fu);
}

typedef struct pattern {
    eas_cal_rule_t r;
    int64_t start_day; /* local day of the series start */
    int64_t tod;       /* local seconds after midnight */
    int64_t start_y;
    unsigned start_m;
    int64_t anchor;      /* daily: start_day; weekly: first day of the start's week */
    uint32_t per_period; /* occurrences in every full period */
} pattern_t;

static void pattern_init(pattern_t *p, const eas_cal_rule_t *r, int64_t start_local)
{
    unsigned d = 0u;

    p->r = *r;
    p->start_day = cal_fdiv(start_local, CAL_SECS_PER_DAY);
    p->tod = start_local - (p->start_day * CAL_SECS_PER_DAY);
    cal_ymd_from_days(p->start_day, &p->start_y, &p->start_m, &d);
    p->anchor = p->start_day;
    p->per_period = 1u;
    if (daily_masked(r)) {
        /* Periods of 7 * Interval days: each holds the same 7 candidate weekdays. */
        unsigned j;
        p->per_period = 0u;
        for (j = 0u; j < 7u; j++) {
            p->per_period +=
                (r->day_of_week >> cal_weekday(p->anchor + ((int64_t)j * r->interval))) & 1u;
        }
    } else if (r->type == EAS_CAL_RECUR_WEEKLY) {
        p->anchor =
            p->start_day - (int64_t)((cal_weekday(p->start_day) + 7u - r->first_day_of_week) % 7u);
        p->per_period = popcount7(r->day_of_week);
    }
}

/* The occurrence day of month/year-based period @p k, or DAY_NONE past the year 9999. */
static int64_t period_day(const pattern_t *p, int64_t k)
{
    const eas_cal_rule_t *r = &p->r;
    int64_t y;
    unsigned m;

    if ((r->type == EAS_CAL_RECUR_MONTHLY) || (r->type == EAS_CAL_RECUR_MONTHLY_NTH)) {
        int64_t total = (int64_t)(p->start_m - 1u) + (k * (int64_t)r->interval);
        y = p->start_y + (total / 12);
        m = (unsigned)(total % 12) + 1u;
    } else {
        y = p->start_y + (k * (int64_t)r->interval);
        m = r->month_of_year;
    }
    if (y > 9999) {
        return DAY_NONE;
    }
    if ((r->type == EAS_CAL_RECUR_MONTHLY_NTH) || (r->type == EAS_CAL_RECUR_YEARLY_NTH)) {
        return nth_day(y, m, r->day_of_week, r->week_of_month);
    }
    /* Outlook: day 29/30/31 falls on the last day of a shorter month. */
    {
        unsigned dim = eas_cal_days_in_month(y, m);
        unsigned dom = (r->day_of_month > dim) ? dim : r->day_of_month;
        return eas_cal_days_from_civil(y, m, dom);
    }
}

/* Occurrences in period 0, which may start before the series start. */
static uint32_t first_period_count(const pattern_t *p)
{
    uint32_t n = 1u;

    if (daily_masked(&p->r)) {
        n = p->per_period; /* period 0 starts on the series start */
    } else if (p->r.type == EAS_CAL_RECUR_WEEKLY) {
        int64_t d;
        n = 0u;
        for (d = p->start_day; d < p->anchor + 7; d++) {
            n += (p->r.day_of_week >> cal_weekday(d)) & 1u;
        }
    } else if (p->r.type != EAS_CAL_RECUR_DAILY) {
        int64_t d = period_day(p, 0);
        n = ((d != DAY_NONE) && (d >= p->start_day)) ? 1u : 0u;
    }
    return n;
}

/* Periods between the series start and @p day (floor), for skipping ahead. */
static int64_t period_of_day(const pattern_t *p, int64_t day)
{
    const eas_cal_rule_t *r = &p->r;
    int64_t k;

    if (daily_masked(r)) {
        k = cal_fdiv(day - p->anchor, 7 * (int64_t)r->interval);
    } else if (r->type == EAS_CAL_RECUR_DAILY) {
        k = cal_fdiv(day - p->anchor, (int64_t)r->interval);
    } else if (r->type == EAS_CAL_RECUR_WEEKLY) {
        k = cal_fdiv(day - p->anchor, 7 * (int64_t)r->interval);
    } else {
        int64_t y = 0;
        unsigned m = 0u;
        unsigned d = 0u;
        cal_ymd_from_days(day, &y, &m, &d);
        if ((r->type == EAS_CAL_RECUR_MONTHLY) || (r->type == EAS_CAL_RECUR_MONTHLY_NTH)) {
            int64_t months = ((y - p->start_y) * 12) + (int64_t)m - (int64_t)p->start_m;
            k = cal_fdiv(months, (int64_t)r->interval);
        } else {
            k = cal_fdiv(y - p->start_y, (int64_t)r->interval);
        }
    }
    return k;
}

int eas_cal_rule_resolve(const eas_cal_item_t *item, eas_cal_rule_t *rule)
{
    int err = EAS_ERR_PARAM;
    const eas_cal_recurrence_t *rc;
    eas_cal_rule_t r;
    uint16_t used = EAS_CAL_RF_TYPE | EAS_CAL_RF_INTERVAL | EAS_CAL_RF_OCCURRENCES |
                    EAS_CAL_RF_UNTIL | EAS_CAL_RF_CALENDAR_TYPE;
    uint16_t need = 0u;
    eas_cal_civil_t sc;
    int64_t start_local;

    if ((item == NULL) || (rule == NULL) || ((item->present & EAS_CAL_F_RECURRENCE) == 0u) ||
        ((item->present & EAS_CAL_F_START) == 0u) || ((item->invalid & EAS_CAL_F_START) != 0u)) {
        goto out;
    }
    rc = &item->recurrence;
    memset(&r, 0, sizeof(r));
    err = EAS_ERR_CAL_CALENDAR_TYPE;
    if (((rc->present & EAS_CAL_RF_CALENDAR_TYPE) != 0u) &&
        (((rc->invalid & EAS_CAL_RF_CALENDAR_TYPE) != 0u) ||
         !calendar_type_gregorian(rc->calendar_type))) {
        EAS_LOGW(item->log, LOG_MOD, "recurrence: CalendarType %u not supported",
                 (unsigned)rc->calendar_type);
        goto out;
    }
    err = EAS_ERR_CAL_RECURRENCE;
    if (((rc->present & EAS_CAL_RF_TYPE) == 0u) || (rc->invalid != 0u)) {
        goto out;
    }
    r.type = rc->type;
    switch (r.type) {
    case EAS_CAL_RECUR_DAILY:
        /* MS-ASCAL allows DayOfWeek with Type 0: 62 = every weekday (SOGo 5.8 sends it for
         * FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR). Absent = every day. */
        used |= EAS_CAL_RF_DAY_OF_WEEK;
        break;
    case EAS_CAL_RECUR_WEEKLY:
        need = EAS_CAL_RF_DAY_OF_WEEK;
        used |= EAS_CAL_RF_FIRST_DAY_OF_WEEK;
        break;
    case EAS_CAL_RECUR_MONTHLY:
        need = EAS_CAL_RF_DAY_OF_MONTH;
        break;
    case EAS_CAL_RECUR_MONTHLY_NTH:
        need = EAS_CAL_RF_DAY_OF_WEEK | EAS_CAL_RF_WEEK_OF_MONTH;
        break;
    case EAS_CAL_RECUR_YEARLY:
        need = EAS_CAL_RF_DAY_OF_MONTH | EAS_CAL_RF_MONTH_OF_YEAR;
        break;
    case EAS_CAL_RECUR_YEARLY_NTH:
        need = EAS_CAL_RF_DAY_OF_WEEK | EAS_CAL_RF_WEEK_OF_MONTH | EAS_CAL_RF_MONTH_OF_YEAR;
        break;
    default:
        EAS_LOGW(item->log, LOG_MOD, "recurrence: Type %u unknown", (unsigned)r.type);
        goto out;
    }
    used |= need;
    r.ignored = (uint16_t)(rc->present & (uint16_t)~used);
    /* IsLeapMonth only means something in lunar calendars, which are refused above. */
    r.ignored |= (uint16_t)(rc->present & EAS_CAL_RF_IS_LEAP_MONTH);

    start_local = eas_cal_tz_to_local(&item->tz, item->start);
    eas_cal_civil_from_time(start_local, &sc);

    /* Values of the fields the Type uses, received or inferred from the local start. */
    r.day_of_week = (uint8_t)(1u << sc.wday);
    r.day_of_month = sc.day;
    r.month_of_year = sc.month;
    r.week_of_month = (uint8_t)(((sc.day - 1u) / 7u) + 1u);
    if ((need & EAS_CAL_RF_DAY_OF_WEEK) != 0u) {
        if ((rc->present & EAS_CAL_RF_DAY_OF_WEEK) != 0u) {
            r.day_of_week = rc->day_of_week;
        } else {
            r.inferred |= EAS_CAL_RF_DAY_OF_WEEK;
        }
        if ((r.day_of_week == 0u) || (r.day_of_week > 127u)) {
            goto out;
        }
    }
    if (r.type == EAS_CAL_RECUR_DAILY) {
        r.day_of_week = 0x7Fu;
        if ((rc->present & EAS_CAL_RF_DAY_OF_WEEK) != 0u) {
            r.day_of_week = rc->day_of_week;
        }
        if ((r.day_of_week == 0u) || (r.day_of_week > 127u)) {
            goto out;
        }
    }
    if ((need & EAS_CAL_RF_DAY_OF_MONTH) != 0u) {
        if ((rc->present & EAS_CAL_RF_DAY_OF_MONTH) != 0u) {
            r.day_of_month = rc->day_of_month;
        } else {
            r.inferred |= EAS_CAL_RF_DAY_OF_MONTH;
        }
        if ((r.day_of_month == 0u) || (r.day_of_month > 31u)) {
            goto out;
        }
    }
    if ((need & EAS_CAL_RF_WEEK_OF_MONTH) != 0u) {
        if ((rc->present & EAS_CAL_RF_WEEK_OF_MONTH) != 0u) {
            r.week_of_month = rc->week_of_month;
        } else {
            r.inferred |= EAS_CAL_RF_WEEK_OF_MONTH;
        }
        if ((r.week_of_month == 0u) || (r.week_of_month > 5u)) {
            goto out;
        }
    }
    if ((need & EAS_CAL_RF_MONTH_OF_YEAR) != 0u) {
        if ((rc->present & EAS_CAL_RF_MONTH_OF_YEAR) != 0u) {
            r.month_of_year = rc->month_of_year;
        } else {
            r.inferred |= EAS_CAL_RF_MONTH_OF_YEAR;
        }
        if ((r.month_of_year == 0u) || (r.month_of_year > 12u)) {
            goto out;
        }
    }
    if ((used & rc->present & EAS_CAL_RF_FIRST_DAY_OF_WEEK) != 0u) {
        if (rc->first_day_of_week > 6u) {
            goto out;
        }
        r.first_day_of_week = rc->first_day_of_week;
    }
    r.interval = 1u;
    if ((rc->present & EAS_CAL_RF_INTERVAL) != 0u) {
        if (rc->interval == 0u) {
            EAS_LOGW(item->log, LOG_MOD, "recurrence: Interval 0");
            goto out;
        }
        r.interval = rc->interval;
    }
    r.until_day = INT64_MAX;
    if ((rc->present & EAS_CAL_RF_OCCURRENCES) != 0u) {
        if (rc->occurrences == 0u) {
            goto out;
        }
        r.occurrences = rc->occurrences;
        /* Occurrences wins over Until (Outlook keeps one end condition). */
        r.ignored |= (uint16_t)(rc->present & EAS_CAL_RF_UNTIL);
    } else if ((rc->present & EAS_CAL_RF_UNTIL) != 0u) {
        /*
         * Until is an instant: an occurrence belongs to the series when its start is at or
         * before it. RFC 5545 servers (SOGo, Horde) pass UNTIL through unchanged, often as
         * T000000Z; Exchange sends the start of the last occurrence. Both are met by the
         * last local day whose occurrence start is <= Until. All-day items are also kept up
         * to Until's UTC date: servers write a DATE UNTIL as midnight UTC.
         */
        int64_t start_day = cal_fdiv(start_local, CAL_SECS_PER_DAY);
        int64_t tod = start_local - (start_day * CAL_SECS_PER_DAY);
        r.until_day = cal_fdiv(eas_cal_tz_to_local(&item->tz, rc->until), CAL_SECS_PER_DAY);
        if (eas_cal_tz_to_utc(&item->tz, (r.until_day * CAL_SECS_PER_DAY) + tod) > rc->until) {
            r.until_day--;
        }
        if ((item->all_day != 0u) && (cal_fdiv(rc->until, CAL_SECS_PER_DAY) > r.until_day)) {
            r.until_day = cal_fdiv(rc->until, CAL_SECS_PER_DAY);
        }
        if (r.until_day < start_day) {
            EAS_LOGW(item->log, LOG_MOD, "recurrence: Until before the start");
            goto out;
        }
    }
    if (daily_masked(&r)) {
        /* Every Interval-th day never lands on a day of the mask (e.g. Interval 7): empty. */
        pattern_t p;
        pattern_init(&p, &r, start_local);
        if (p.per_period == 0u) {
            EAS_LOGW(item->log, LOG_MOD, "recurrence: DayOfWeek %u never met every %lu days",
                     (unsigned)r.day_of_week, (unsigned long)r.interval);
            goto out;
        }
    }
    if (r.occurrences != 0u) {
        /* A count that cannot fit before 9999-12-31 is absurd input, not a long series. */
        pattern_t p;
        int64_t kmax;
        uint64_t cap;
        pattern_init(&p, &r, start_local);
        kmax = period_of_day(&p, DAY_MAX);
        cap = (uint64_t)first_period_count(&p) + ((uint64_t)kmax * p.per_period);
        if ((uint64_t)r.occurrences > cap) {
            EAS_LOGW(item->log, LOG_MOD, "recurrence: Occurrences %lu cannot fit before year 9999",
                     (unsigned long)r.occurrences);
            goto out;
        }
    }
    /* Servers that omit fields (SOGo 5.8) get the series start's values: say which. */
    if ((r.inferred & EAS_CAL_RF_DAY_OF_WEEK) != 0u) {
        EAS_LOGI(item->log, LOG_MOD, "recurrence Type %u: no DayOfWeek, inferred %u from the start",
                 (unsigned)r.type, (unsigned)r.day_of_week);
    }
    if ((r.inferred & EAS_CAL_RF_DAY_OF_MONTH) != 0u) {
        EAS_LOGI(item->log, LOG_MOD,
                 "recurrence Type %u: no DayOfMonth, inferred %u from the start", (unsigned)r.type,
                 (unsigned)r.day_of_month);
    }
    if ((r.inferred & EAS_CAL_RF_WEEK_OF_MONTH) != 0u) {
        EAS_LOGI(item->log, LOG_MOD,
                 "recurrence Type %u: no WeekOfMonth, inferred %u from the start", (unsigned)r.type,
                 (unsigned)r.week_of_month);
    }
    if ((r.inferred & EAS_CAL_RF_MONTH_OF_YEAR) != 0u) {
        EAS_LOGI(item->log, LOG_MOD,
                 "recurrence Type %u: no MonthOfYear, inferred %u from the start", (unsigned)r.type,
                 (unsigned)r.month_of_year);
    }
    if (r.ignored != 0u) {
        EAS_LOGI(item->log, LOG_MOD,
                 "recurrence Type %u: ignored fields it does not use (mask 0x%x)", (unsigned)r.type,
                 (unsigned)r.ignored);
    }
    *rule = r;
    err = EAS_OK;
out:
    return err;
}

/* ---- occurrence generator ------------------------------------------------------------- */

typedef struct gen {
    const pattern_t *p;
    int64_t period;  /* current period */
    unsigned slot;   /* weekly: next day of the week to look at */
    uint64_t count;  /* occurrences produced so far = index of the next one */
    uint32_t *iters; /* shared per-call step budget */
    bool done;
} gen_t;

static void gen_init(gen_t *g, const pattern_t *p, uint32_t *iters)
{
    memset(g, 0, sizeof(*g));
    g->p = p;
    g->iters = iters;
}

/* Jump to the period before the one holding @p day, keeping the count exact. */
static void gen_seek(gen_t *g, int64_t day)
{
    int64_t k = period_of_day(g->p, day) - 1;

    if (k >= 2) {
        g->period = k;
        g->slot = 0u;
        g->count = (uint64_t)first_period_count(g->p) + ((uint64_t)(k - 1) * g->p->per_period);
    }
}

/* 1: *day is the next occurrence (index g->count - 1); 0: series over; <0: error. */
static int gen_next(gen_t *g, int64_t *day)
{
    const pattern_t *p = g->p;
    const eas_cal_rule_t *r = &p->r;
    int64_t d;

    while (!g->done) {
        if (*g->iters >= (uint32_t)CONFIG_EAS_CAL_MAX_ITERATIONS) {
            return EAS_ERR_CAL_ITERATIONS;
        }
        (*g->iters)++;
        if ((r->occurrences != 0u) && (g->count >= r->occurrences)) {
            g->done = true;
            break;
        }
        if (daily_masked(r)) {
            d = p->anchor + (((g->period * 7) + (int64_t)g->slot) * (int64_t)r->interval);
            g->slot++;
            if (g->slot == 7u) {
                g->slot = 0u;
                g->period++;
            }
            if (((r->day_of_week >> cal_weekday(d)) & 1u) == 0u) {
                if (d > DAY_MAX) {
                    g->done = true;
                }
                continue;
            }
        } else if (r->type == EAS_CAL_RECUR_DAILY) {
            d = p->anchor + (g->period * (int64_t)r->interval);
            g->period++;
        } else if (r->type == EAS_CAL_RECUR_WEEKLY) {
            d = p->anchor + (g->period * 7 * (int64_t)r->interval) + g->slot;
            g->slot++;
            if (g->slot == 7u) {
                g->slot = 0u;
                g->period++;
            }
            if (((r->day_of_week >> cal_weekday(d)) & 1u) == 0u) {
                if (d > DAY_MAX) {
                    g->done = true;
                }
                continue;
            }
        } else {
            d = period_day(p, g->period);
            g->period++;
            if (d == DAY_NONE) {
                g->done = true;
                break;
            }
        }
        if (d < p->start_day) {
            continue;
        }
        if ((d > r->until_day) || (d > DAY_MAX)) {
            g->done = true;
            break;
        }
        g->count++;
        *day = d;
        return 1;
    }
    return 0;
}

/* ---- expansion ------------------------------------------------------------------------ */

typedef struct xp {
    const eas_cal_item_t *item;
    pattern_t pat;
    cal_tz_cache_t tzc;
    eas_cal_occurrence_cb_t cb;
    void *user;
    int64_t from;
    int64_t to;
    int64_t span_utc;   /* master end - start */
    int64_t span_local; /* master span on the wall clock (all-day events keep days) */
    uint32_t iters;
    uint32_t delivered;
    uint16_t nex;
    /* Per exception: matched local day (DAY_NONE: ignored), series index, emitted. */
    int32_t ex_day[CONFIG_EAS_CAL_MAX_EXCEPTIONS];
    uint32_t ex_index[CONFIG_EAS_CAL_MAX_EXCEPTIONS];
    uint8_t ex_done[CONFIG_EAS_CAL_MAX_EXCEPTIONS];
} xp_t;

static int64_t occ_start(xp_t *x, int64_t day)
{
    return cal_tz_to_utc_c(&x->tzc, (day * CAL_SECS_PER_DAY) + x->pat.tod);
}

static int64_t occ_end(xp_t *x, int64_t start, bool all_day)
{
    int64_t e = start + x->span_utc;

    if (all_day) {
        e = cal_tz_to_utc_c(&x->tzc, start + cal_tz_offset_c(&x->tzc, start) + x->span_local);
    }
    return e;
}

static int deliver(xp_t *x, const eas_cal_occurrence_t *o)
{
    int err = EAS_ERR_LIMIT;

    if (x->delivered < (uint32_t)CONFIG_EAS_CAL_MAX_OCCURRENCES) {
        x->delivered++;
        err = x->cb(x->user, o);
    }
    return err;
}

static void modified_times(xp_t *x, unsigned i, int64_t *s, int64_t *e, bool *all_day)
{
    const eas_cal_exception_t *ex = &x->item->exceptions[i];
    int64_t orig = occ_start(x, x->ex_day[i]);

    *all_day =
        ((ex->present & EAS_CAL_F_ALL_DAY) != 0u) ? (ex->all_day != 0u) : (x->item->all_day != 0u);
    *s = ((ex->present & EAS_CAL_F_START) != 0u) ? ex->start : orig;
    *e = ((ex->present & EAS_CAL_F_END) != 0u) ? ex->end : occ_end(x, *s, *all_day);
}

/* Emit the modified occurrences that start before @p bound, earliest first. */
static int flush_modified(xp_t *x, int64_t bound)
{
    int err = EAS_OK;

    while (err == EAS_OK) {
        int best = -1;
        int64_t bs = 0;
        int64_t be = 0;
        bool ball = false;
        unsigned i;
        for (i = 0u; i < x->nex; i++) {
            int64_t s;
            int64_t e;
            bool ad;
            if ((x->ex_day[i] == DAY_NONE) || x->ex_done[i] ||
                (x->item->exceptions[i].deleted != 0u)) {
                continue;
            }
            modified_times(x, i, &s, &e, &ad);
            if ((s < x->from) || (s >= x->to)) {
                x->ex_done[i] = 1u;
                continue;
            }
            if ((s < bound) && ((best < 0) || (s < bs))) {
                best = (int)i;
                bs = s;
                be = e;
                ball = ad;
            }
        }
        if (best < 0) {
            break;
        }
        x->ex_done[best] = 1u;
        {
            eas_cal_occurrence_t o;
            o.start = bs;
            o.end = be;
            o.original_start = occ_start(x, x->ex_day[best]);
            o.index = x->ex_index[best];
            o.exception = (int16_t)best;
            o.flags = (uint8_t)(EAS_CAL_OCC_EXCEPTION | EAS_CAL_OCC_RECURRING |
                                (ball ? EAS_CAL_OCC_ALL_DAY : 0u));
            err = deliver(x, &o);
        }
    }
    return err;
}

/* Is there an occurrence on local day @p day? Sets its series index. */
static int occurs_on(xp_t *x, int64_t day, uint32_t *index)
{
    gen_t g;
    int64_t d = 0;
    int rc;

    gen_init(&g, &x->pat, &x->iters);
    gen_seek(&g, day);
    while ((rc = gen_next(&g, &d)) == 1) {
        if (d >= day) {
            break;
        }
    }
    if (rc == 1) {
        rc = (d == day) ? 1 : 0;
        *index = (uint32_t)(g.count - 1u);
    }
    return rc;
}

/*
 * Tie each exception to the occurrence it replaces: the one on the local day of
 * ExceptionStartTime (exact instant or not: servers disagree on all-day times); for
 * all-day items the UTC date is tried too. An exception that replaces nothing, or a second
 * exception for the same occurrence, is ignored so no instance is duplicated.
 */
static int match_exceptions(xp_t *x)
{
    int err = EAS_OK;
    unsigned i;
    unsigned j;

    for (i = 0u; (i < x->nex) && (err == EAS_OK); i++) {
        const eas_cal_exception_t *ex = &x->item->exceptions[i];
        int64_t cand[2];
        unsigned nc = 1u;
        unsigned c;
        x->ex_day[i] = DAY_NONE;
        x->ex_done[i] = 0u;
        cand[0] = cal_fdiv(ex->exception_start + cal_tz_offset_c(&x->tzc, ex->exception_start),
                           CAL_SECS_PER_DAY);
        cand[1] = cal_fdiv(ex->exception_start, CAL_SECS_PER_DAY);
        if ((x->item->all_day != 0u) && (cand[1] != cand[0])) {
            nc = 2u;
        }
        for (c = 0u; c < nc; c++) {
            uint32_t idx = 0u;
            int rc = occurs_on(x, cand[c], &idx);
            if (rc < 0) {
                err = rc;
                break;
            }
            if (rc == 1) {
                x->ex_day[i] = (int32_t)cand[c];
                x->ex_index[i] = idx;
                break;
            }
        }
        if ((err == EAS_OK) && (x->ex_day[i] == DAY_NONE)) {
            EAS_LOGW(x->item->log, LOG_MOD, "exception %u replaces no occurrence: ignored", i);
        }
        for (j = 0u; (j < i) && (x->ex_day[i] != DAY_NONE); j++) {
            if (x->ex_day[j] == x->ex_day[i]) {
                EAS_LOGW(x->item->log, LOG_MOD, "exception %u repeats exception %u: ignored", i, j);
                x->ex_day[i] = DAY_NONE;
            }
        }
    }
    return err;
}

static bool in_range(int64_t t)
{
    return (t >= EAS_CAL_TIME_MIN) && (t <= EAS_CAL_TIME_MAX);
}

static int item_check(const eas_cal_item_t *item, eas_cal_rule_t *rule)
{
    int err = EAS_ERR_PARAM;
    unsigned i;

    if (item == NULL) {
        goto out;
    }
    err = EAS_ERR_CAL_TIME;
    if (((item->present & EAS_CAL_F_START) == 0u) || !in_range(item->start) ||
        !in_range(item->end) || ((item->invalid & (EAS_CAL_F_START | EAS_CAL_F_END)) != 0u) ||
        (((item->present & EAS_CAL_F_END) != 0u) && (item->end < item->start))) {
        goto out;
    }
    err = EAS_ERR_CAL_TIMEZONE;
    if ((item->invalid & EAS_CAL_F_TIMEZONE) != 0u) {
        goto out;
    }
    err = EAS_OK;
    if ((item->present & EAS_CAL_F_RECURRENCE) != 0u) {
        err = eas_cal_rule_resolve(item, rule);
        if (err != EAS_OK) {
            goto out;
        }
        err = EAS_ERR_LIMIT;
        if ((item->exceptions_lost != 0u) ||
            (item->exception_count > (uint16_t)CONFIG_EAS_CAL_MAX_EXCEPTIONS) ||
            ((item->exception_count > 0u) && (item->exceptions == NULL))) {
            goto out;
        }
        err = EAS_ERR_CAL_TIME;
        for (i = 0u; i < item->exception_count; i++) {
            const eas_cal_exception_t *ex = &item->exceptions[i];
            if (((ex->present & EAS_CAL_F_EXCEPTION_START) == 0u) || (ex->invalid != 0u) ||
                !in_range(ex->exception_start) || !in_range(ex->start) || !in_range(ex->end) ||
                (((ex->present & (EAS_CAL_F_START | EAS_CAL_F_END)) ==
                  (EAS_CAL_F_START | EAS_CAL_F_END)) &&
                 (ex->end < ex->start))) {
                goto out;
            }
        }
        err = EAS_OK;
    }
out:
    return err;
}

int eas_cal_item_check(const eas_cal_item_t *item)
{
    eas_cal_rule_t r;

    return item_check(item, &r);
}

int eas_cal_expand(const eas_cal_item_t *item, int64_t from, int64_t to, eas_cal_occurrence_cb_t cb,
                   void *user)
{
    int err = EAS_ERR_PARAM;
    xp_t x;
    eas_cal_rule_t rule;
    int64_t start_local;
    int64_t end;
    bool all_day;

    if ((item == NULL) || (cb == NULL) || (from > to)) {
        goto out;
    }
    /* Keep every later sum of an instant and an offset far from overflow. */
    from = (from < EAS_CAL_TIME_MIN) ? EAS_CAL_TIME_MIN : from;
    to = (to > EAS_CAL_TIME_MAX + 1) ? (EAS_CAL_TIME_MAX + 1) : to;
    from = (from > to) ? to : from;
    memset(&rule, 0, sizeof(rule));
    err = item_check(item, &rule);
    if (err != EAS_OK) {
        goto out;
    }
    memset(&x, 0, sizeof(x));
    x.item = item;
    x.cb = cb;
    x.user = user;
    x.from = from;
    x.to = to;
    cal_tz_cache_init(&x.tzc, &item->tz);
    all_day = (item->all_day != 0u);
    end = item->start;
    if ((item->present & EAS_CAL_F_END) != 0u) {
        end = item->end;
    } else if (all_day) {
        end =
            cal_tz_to_utc_c(&x.tzc, eas_cal_tz_to_local(&item->tz, item->start) + CAL_SECS_PER_DAY);
    }
    x.span_utc = end - item->start;
    start_local = eas_cal_tz_to_local(&item->tz, item->start);
    x.span_local = eas_cal_tz_to_local(&item->tz, end) - start_local;

    if ((item->present & EAS_CAL_F_RECURRENCE) == 0u) {
        if ((item->start >= from) && (item->start < to)) {
            eas_cal_occurrence_t o;
            o.start = item->start;
            o.end = end;
            o.original_start = item->start;
            o.index = 0u;
            o.exception = -1;
            o.flags = all_day ? EAS_CAL_OCC_ALL_DAY : 0u;
            err = deliver(&x, &o);
        }
        goto done;
    }

    pattern_init(&x.pat, &rule, start_local);
    x.nex = item->exception_count;
    err = match_exceptions(&x);
    if (err != EAS_OK) {
        goto out;
    }
    {
        gen_t g;
        int64_t day = 0;
        int rc = 0;
        gen_init(&g, &x.pat, &x.iters);
        /* One day of slack: the window is in UTC, the pattern in local days. */
        gen_seek(&g, cal_fdiv(from + cal_tz_offset_c(&x.tzc, from), CAL_SECS_PER_DAY) - 1);
        while ((err == EAS_OK) && ((rc = gen_next(&g, &day)) == 1)) {
            int64_t s = occ_start(&x, day);
            bool replaced = false;
            unsigned i;
            if (s >= to) {
                break;
            }
            if (s < from) {
                continue;
            }
            for (i = 0u; (i < x.nex) && !replaced; i++) {
                replaced = (x.ex_day[i] == (int32_t)day);
            }
            if (replaced) {
                continue;
            }
            err = flush_modified(&x, s);
            if (err == EAS_OK) {
                eas_cal_occurrence_t o;
                o.start = s;
                o.end = occ_end(&x, s, all_day);
                o.original_start = s;
                o.index = (uint32_t)(g.count - 1u);
                o.exception = -1;
                o.flags = (uint8_t)(EAS_CAL_OCC_RECURRING | (all_day ? EAS_CAL_OCC_ALL_DAY : 0u));
                err = deliver(&x, &o);
            }
        }
        if ((err == EAS_OK) && (rc < 0)) {
            err = rc;
        }
        if (err == EAS_OK) {
            err = flush_modified(&x, to);
        }
    }
done:
    if (err > 0) {
        err = EAS_OK; /* EAS_CAL_STOP (or any positive value): the caller had enough */
    }
out:
    return err;
}

#endif /* CONFIG_EAS_CALENDAR */
