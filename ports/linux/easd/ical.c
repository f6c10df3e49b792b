/* SPDX-License-Identifier: Apache-2.0 */
/* EAS calendar items <-> iCalendar (RFC 5545) through libical.
 *
 * Outward, the VEVENT must produce the same dates an EAS client computes. The places where a
 * literal translation would not:
 * - DayOfMonth 29/30/31 (Type 2 and 5): Outlook falls back to the last day of shorter
 *   months; RFC 5545 skips those months. 31 becomes BYMONTHDAY=-1, 29 and 30 become
 *   BYMONTHDAY=28,..,N;BYSETPOS=-1 (the largest of those days the month has).
 * - WeekOfMonth 5 is "last": BYDAY=-1XX, or BYSETPOS=-1 over a set of days.
 * - Until is a local *date* (every occurrence that day counts): UNTIL is the end of that
 *   local day, in UTC.
 * - An EAS start that does not fit the pattern is not an occurrence; in RFC 5545 DTSTART
 *   always is one. DTSTART is therefore the first occurrence the core's expansion yields.
 * - Weekly patterns with Interval > 1 count weeks from FirstDayOfWeek: WKST.
 * Times are written on the item zone's wall clock with a VTIMEZONE built from the TimeZone
 * blob (yearly n-th weekday rules), so DST is carried exactly. */
#include <libical/ical.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "eas/eas_base64.h"
#include "easd.h"

static const char *const k_days[7] = {"SU", "MO", "TU", "WE", "TH", "FR", "SA"};

/* --------------------------------------------------------------------------------------- */
/* EAS -> iCalendar                                                                        */
/* --------------------------------------------------------------------------------------- */

/* A civil time (local seconds read as UTC) as an icaltimetype with no zone. */
static struct icaltimetype local_time(int64_t local, bool date)
{
    eas_cal_civil_t c;
    eas_cal_civil_from_time(local, &c);
    struct icaltimetype t = icaltime_null_time();
    t.year = c.year;
    t.month = c.month;
    t.day = c.day;
    if (date) {
        t.is_date = 1;
    } else {
        t.hour = c.hour;
        t.minute = c.minute;
        t.second = c.second;
    }
    return t;
}

static struct icaltimetype utc_time(int64_t utc)
{
    struct icaltimetype t = local_time(utc, false);
    t.zone = icaltimezone_get_utc_timezone();
    return t;
}

typedef struct ctx {
    const eas_cal_item_t *it;
    bool utc;      /* the zone is UTC: times with Z, no VTIMEZONE */
    char tzid[80]; /* else the VTIMEZONE's TZID */
} ctx_t;

/* A DTSTART/DTEND/EXDATE/RECURRENCE-ID value for instant @p t. */
static icalproperty *time_prop(const ctx_t *c, icalproperty_kind kind, int64_t t, bool all_day)
{
    struct icaltimetype v;
    if (all_day) {
        v = local_time(eas_cal_tz_to_local(&c->it->tz, t), true);
    } else if (c->utc) {
        v = utc_time(t);
    } else {
        v = local_time(eas_cal_tz_to_local(&c->it->tz, t), false);
    }
    icalproperty *p = icalproperty_new(kind);
    switch (kind) {
    case ICAL_DTSTART_PROPERTY:
        icalproperty_set_dtstart(p, v);
        break;
    case ICAL_DTEND_PROPERTY:
        icalproperty_set_dtend(p, v);
        break;
    case ICAL_EXDATE_PROPERTY:
        icalproperty_set_exdate(p, v);
        break;
    default:
        icalproperty_set_recurrenceid(p, v);
        break;
    }
    if (!all_day && !c->utc) {
        icalproperty_add_parameter(p, icalparameter_new_tzid(c->tzid));
    }
    if (all_day) {
        icalproperty_add_parameter(p, icalparameter_new_value(ICAL_VALUE_DATE));
    }
    return p;
}

/* The transition day of a yearly rule in 1970 (for DTSTART of the VTIMEZONE parts). */
static void rule_1970(const eas_cal_tz_rule_t *r, struct icaltimetype *t)
{
    unsigned dim = eas_cal_days_in_month(1970, r->month);
    int64_t first = eas_cal_days_from_civil(1970, r->month, 1);
    unsigned wd1 = (unsigned)((first % 7 + 7 + 4) % 7); /* 1970-01-01 was a Thursday */
    unsigned day = 1 + (r->day_of_week + 7 - wd1) % 7 + 7u * (r->day - 1u);
    while (day > dim) {
        day -= 7;
    }
    *t = icaltime_null_time();
    t->year = 1970;
    t->month = r->month;
    t->day = (int)day;
    t->hour = r->hour;
    t->minute = r->minute;
    t->second = r->second;
}

static icalcomponent *tz_part(icalcomponent_kind kind, const eas_cal_tz_rule_t *r, int from_s,
                              int to_s)
{
    icalcomponent *c = icalcomponent_new(kind);
    struct icaltimetype t;
    if (r->year != 0) {
        /* An absolute date: one transition, that year only. */
        t = icaltime_null_time();
        t.year = r->year;
        t.month = r->month;
        t.day = r->day;
        t.hour = r->hour;
        t.minute = r->minute;
        t.second = r->second;
    } else {
        char rr[80];
        rule_1970(r, &t);
        (void)snprintf(rr, sizeof(rr), "FREQ=YEARLY;BYMONTH=%u;BYDAY=%d%s", r->month,
                       r->day >= 5 ? -1 : (int)r->day, k_days[r->day_of_week % 7]);
        icalcomponent_add_property(c, icalproperty_new_rrule(icalrecurrencetype_from_string(rr)));
    }
    icalcomponent_add_property(c, icalproperty_new_dtstart(t));
    icalcomponent_add_property(c, icalproperty_new_tzoffsetfrom(from_s));
    icalcomponent_add_property(c, icalproperty_new_tzoffsetto(to_s));
    return c;
}

/* The blob's StandardName (UTF-16LE at offset 4, 32 units) when it is plain ASCII. */
static void tz_name(const eas_cal_item_t *it, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < 32 && o + 1 < cap; i++) {
        uint16_t u = (uint16_t)(it->tz_blob[4 + 2 * i] | (it->tz_blob[5 + 2 * i] << 8));
        if (u == 0) {
            break;
        }
        if (u < 0x20 || u > 0x7e || u == '"' || u == ';' || u == ':' || u == ',') {
            o = 0;
            break;
        }
        out[o++] = (char)u;
    }
    out[o] = '\0';
}

static icalcomponent *vtimezone(ctx_t *c)
{
    const eas_cal_tz_t *tz = &c->it->tz;
    int std = -(tz->bias + tz->standard_bias) * 60;
    int dst = -(tz->bias + tz->daylight_bias) * 60;
    char name[70];
    tz_name(c->it, name, sizeof(name));
    if (name[0]) {
        (void)snprintf(c->tzid, sizeof(c->tzid), "%s", name);
    } else {
        (void)snprintf(c->tzid, sizeof(c->tzid), "easd UTC%+03d%02d%s", std / 3600,
                       (abs(std) / 60) % 60, tz->has_dst ? " DST" : "");
    }
    icalcomponent *v = icalcomponent_new(ICAL_VTIMEZONE_COMPONENT);
    icalcomponent_add_property(v, icalproperty_new_tzid(c->tzid));
    if (tz->has_dst) {
        icalcomponent_add_component(
            v, tz_part(ICAL_XSTANDARD_COMPONENT, &tz->standard_date, dst, std));
        icalcomponent_add_component(
            v, tz_part(ICAL_XDAYLIGHT_COMPONENT, &tz->daylight_date, std, dst));
    } else {
        icalcomponent *s = icalcomponent_new(ICAL_XSTANDARD_COMPONENT);
        struct icaltimetype t = icaltime_null_time();
        t.year = 1970;
        t.month = 1;
        t.day = 1;
        icalcomponent_add_property(s, icalproperty_new_dtstart(t));
        icalcomponent_add_property(s, icalproperty_new_tzoffsetfrom(std));
        icalcomponent_add_property(s, icalproperty_new_tzoffsetto(std));
        icalcomponent_add_component(v, s);
    }
    return v;
}

static void days_list(uint8_t mask, char *out, size_t cap, const char *prefix)
{
    size_t o = 0;
    out[0] = '\0';
    for (unsigned d = 0; d < 7; d++) {
        if (mask & (1u << d)) {
            o += (size_t)snprintf(out + o, cap - o, "%s%s%s", o ? "," : "", prefix, k_days[d]);
        }
    }
}

/* The RRULE text for the resolved rule (see the file comment). */
static int rrule_text(const ctx_t *c, const eas_cal_rule_t *r, char *out, size_t cap)
{
    const eas_cal_item_t *it = c->it;
    char days[64];
    size_t o = 0;
    int pos = r->week_of_month >= 5 ? -1 : (int)r->week_of_month;
    bool yearly = r->type == EAS_CAL_RECUR_YEARLY || r->type == EAS_CAL_RECUR_YEARLY_NTH;
    switch (r->type) {
    case EAS_CAL_RECUR_DAILY:
        o += (size_t)snprintf(out + o, cap - o, "FREQ=DAILY");
        break;
    case EAS_CAL_RECUR_WEEKLY:
        days_list(r->day_of_week, days, sizeof(days), "");
        o += (size_t)snprintf(out + o, cap - o, "FREQ=WEEKLY;BYDAY=%s;WKST=%s", days,
                              k_days[r->first_day_of_week % 7]);
        break;
    case EAS_CAL_RECUR_MONTHLY:
    case EAS_CAL_RECUR_YEARLY:
        o += (size_t)snprintf(out + o, cap - o, "FREQ=%s", yearly ? "YEARLY" : "MONTHLY");
        if (yearly) {
            o += (size_t)snprintf(out + o, cap - o, ";BYMONTH=%u", r->month_of_year);
        }
        if (r->day_of_month >= 31) {
            o += (size_t)snprintf(out + o, cap - o, ";BYMONTHDAY=-1");
        } else if (r->day_of_month >= 29) {
            o += (size_t)snprintf(out + o, cap - o, ";BYMONTHDAY=28");
            for (unsigned d = 29; d <= r->day_of_month; d++) {
                o += (size_t)snprintf(out + o, cap - o, ",%u", d);
            }
            o += (size_t)snprintf(out + o, cap - o, ";BYSETPOS=-1");
        } else {
            o += (size_t)snprintf(out + o, cap - o, ";BYMONTHDAY=%u", r->day_of_month);
        }
        break;
    case EAS_CAL_RECUR_MONTHLY_NTH:
    case EAS_CAL_RECUR_YEARLY_NTH:
        o += (size_t)snprintf(out + o, cap - o, "FREQ=%s", yearly ? "YEARLY" : "MONTHLY");
        if (yearly) {
            o += (size_t)snprintf(out + o, cap - o, ";BYMONTH=%u", r->month_of_year);
        }
        if (r->day_of_week == EAS_CAL_DOW_ANY_DAY && pos == -1) {
            o += (size_t)snprintf(out + o, cap - o, ";BYMONTHDAY=-1");
        } else if ((r->day_of_week & (r->day_of_week - 1u)) == 0) {
            days_list(r->day_of_week, days, sizeof(days), "");
            o += (size_t)snprintf(out + o, cap - o, ";BYDAY=%d%s", pos, days);
        } else {
            days_list(r->day_of_week, days, sizeof(days), "");
            o += (size_t)snprintf(out + o, cap - o, ";BYDAY=%s;BYSETPOS=%d", days, pos);
        }
        break;
    default:
        return -1;
    }
    if (r->interval > 1) {
        o += (size_t)snprintf(out + o, cap - o, ";INTERVAL=%u", (unsigned)r->interval);
    }
    if (r->occurrences > 0) {
        o += (size_t)snprintf(out + o, cap - o, ";COUNT=%u", (unsigned)r->occurrences);
    } else if (r->until_day != INT64_MAX) {
        eas_cal_civil_t cv;
        if (it->all_day) {
            eas_cal_civil_from_time(r->until_day * 86400, &cv);
            o += (size_t)snprintf(out + o, cap - o, ";UNTIL=%04d%02u%02u", (int)cv.year, cv.month,
                                  cv.day);
        } else {
            int64_t u = eas_cal_tz_to_utc(&it->tz, r->until_day * 86400 + 86399);
            eas_cal_civil_from_time(u, &cv);
            o += (size_t)snprintf(out + o, cap - o, ";UNTIL=%04d%02u%02uT%02u%02u%02uZ",
                                  (int)cv.year, cv.month, cv.day, cv.hour, cv.minute, cv.second);
        }
    }
    return o < cap ? 0 : -1;
}

static int first_occ(void *user, const eas_cal_occurrence_t *o)
{
    *(int64_t *)user = o->original_start;
    return EAS_CAL_STOP;
}

static void add_text(icalcomponent *ev, icalproperty *p)
{
    icalcomponent_add_property(ev, p);
}

static const char *partstat(uint8_t status)
{
    return status == 3   ? "ACCEPTED"
           : status == 2 ? "TENTATIVE"
           : status == 4 ? "DECLINED"
                         : "NEEDS-ACTION";
}

char *easd_ical_from_item(const eas_cal_item_t *it, const uint8_t *rec, size_t rec_len,
                          const char *fallback_uid)
{
    ctx_t c = {.it = it};
    char buf[1024];
    char *body = NULL;
    icalcomponent *cal = icalcomponent_new_vcalendar();
    icalcomponent_add_property(cal, icalproperty_new_version("2.0"));
    icalcomponent_add_property(cal, icalproperty_new_prodid("-//easd//EAS calendar//EN"));
    c.utc = !it->tz.has_dst && it->tz.bias == 0 && it->tz.standard_bias == 0;
    if (!c.utc) {
        icalcomponent_add_component(cal, vtimezone(&c));
    }

    bool all_day = it->all_day != 0;
    int64_t start = it->start, dur = it->end - it->start;
    eas_cal_rule_t rule;
    bool recurring = (it->present & EAS_CAL_F_RECURRENCE) && eas_cal_rule_resolve(it, &rule) == 0;
    if (recurring) {
        /* DTSTART is an occurrence in RFC 5545: start at the first one EAS yields. */
        int64_t first = INT64_MIN;
        (void)eas_cal_expand(it, it->start, EAS_CAL_TIME_MAX, first_occ, &first);
        if (first != INT64_MIN) {
            start = first;
        }
    }

    icalcomponent *ev = icalcomponent_new_vevent();
    const char *uid = (it->present & EAS_CAL_F_UID) && it->uid[0] ? it->uid : fallback_uid;
    add_text(ev, icalproperty_new_uid(uid));
    add_text(ev, icalproperty_new_dtstamp(utc_time(
                     (it->present & EAS_CAL_F_DTSTAMP) ? it->dtstamp : (int64_t)time(NULL))));
    add_text(ev, time_prop(&c, ICAL_DTSTART_PROPERTY, start, all_day));
    add_text(ev, time_prop(&c, ICAL_DTEND_PROPERTY, start + dur, all_day));
    add_text(ev, icalproperty_new_summary(it->subject));
    if (it->location[0]) {
        add_text(ev, icalproperty_new_location(it->location));
    }
    if (rec) {
        char type[8];
        if (easd_rec_text(rec, rec_len, EAS_AIRSYNCBASE_TYPE, 2, type, sizeof(type)) &&
            !strcmp(type, "1")) {
            body = malloc(65536);
            if (body && easd_rec_text(rec, rec_len, EAS_AIRSYNCBASE_DATA, 2, body, 65536) &&
                body[0]) {
                add_text(ev, icalproperty_new_description(body));
            }
        }
    }
    if ((it->present & EAS_CAL_F_BUSY_STATUS) && it->busy_status == 0) {
        add_text(ev, icalproperty_new_transp(ICAL_TRANSP_TRANSPARENT));
    }
    if (it->sensitivity == 2 || it->sensitivity == 3) {
        add_text(ev, icalproperty_new_class(it->sensitivity == 2 ? ICAL_CLASS_PRIVATE
                                                                 : ICAL_CLASS_CONFIDENTIAL));
    }
    /* MeetingStatus with the "cancelled" bit (5, 7, 13, 15). */
    if ((it->present & EAS_CAL_F_MEETING_STATUS) && (it->meeting_status & 4u)) {
        add_text(ev, icalproperty_new_status(ICAL_STATUS_CANCELLED));
    }
    if (it->organizer_email[0]) {
        (void)snprintf(buf, sizeof(buf), "mailto:%s", it->organizer_email);
        icalproperty *p = icalproperty_new_organizer(buf);
        if (it->organizer_name[0]) {
            icalproperty_add_parameter(p, icalparameter_new_cn(it->organizer_name));
        }
        add_text(ev, p);
    }
    for (uint16_t i = 0; i < it->attendee_count; i++) {
        const eas_cal_attendee_t *a = &it->attendees[i];
        (void)snprintf(buf, sizeof(buf), "mailto:%s", a->email);
        icalproperty *p = icalproperty_new_attendee(buf);
        if (a->name[0]) {
            icalproperty_add_parameter(p, icalparameter_new_cn(a->name));
        }
        icalproperty_add_parameter(
            p, icalparameter_new_from_string(a->type == 2   ? "ROLE=OPT-PARTICIPANT"
                                             : a->type == 3 ? "ROLE=NON-PARTICIPANT"
                                                            : "ROLE=REQ-PARTICIPANT"));
        (void)snprintf(buf, sizeof(buf), "PARTSTAT=%s", partstat(a->status));
        icalproperty_add_parameter(p, icalparameter_new_from_string(buf));
        add_text(ev, p);
    }
    if (recurring && rrule_text(&c, &rule, buf, sizeof(buf)) == 0) {
        add_text(ev, icalproperty_new_rrule(icalrecurrencetype_from_string(buf)));
        for (uint16_t i = 0; i < it->exception_count; i++) {
            if (it->exceptions[i].deleted) {
                add_text(ev, time_prop(&c, ICAL_EXDATE_PROPERTY, it->exceptions[i].exception_start,
                                       all_day));
            }
        }
    }
    if ((it->present & EAS_CAL_F_REMINDER) && !all_day) {
        icalcomponent *al = icalcomponent_new_valarm();
        struct icaltriggertype tr = icaltriggertype_from_int(-(int)it->reminder * 60);
        icalcomponent_add_property(al, icalproperty_new_action(ICAL_ACTION_DISPLAY));
        icalcomponent_add_property(al, icalproperty_new_trigger(tr));
        icalcomponent_add_property(al, icalproperty_new_description(it->subject));
        icalcomponent_add_component(ev, al);
    }
    icalcomponent_add_component(cal, ev);

    /* Modified occurrences: their own VEVENT with RECURRENCE-ID. */
    for (uint16_t i = 0; recurring && i < it->exception_count; i++) {
        const eas_cal_exception_t *x = &it->exceptions[i];
        if (x->deleted) {
            continue;
        }
        bool xad = (x->present & EAS_CAL_F_ALL_DAY) ? x->all_day != 0 : all_day;
        int64_t xs = (x->present & EAS_CAL_F_START) ? x->start : x->exception_start;
        int64_t xe = (x->present & EAS_CAL_F_END) ? x->end : xs + dur;
        icalcomponent *o = icalcomponent_new_vevent();
        add_text(o, icalproperty_new_uid(uid));
        add_text(o, icalproperty_new_dtstamp(utc_time(
                        (it->present & EAS_CAL_F_DTSTAMP) ? it->dtstamp : (int64_t)time(NULL))));
        add_text(o, time_prop(&c, ICAL_RECURRENCEID_PROPERTY, x->exception_start, all_day));
        add_text(o, time_prop(&c, ICAL_DTSTART_PROPERTY, xs, xad));
        add_text(o, time_prop(&c, ICAL_DTEND_PROPERTY, xe, xad));
        add_text(o, icalproperty_new_summary((x->present & EAS_CAL_F_SUBJECT) ? x->subject
                                                                              : it->subject));
        const char *loc = (x->present & EAS_CAL_F_LOCATION) ? x->location : it->location;
        if (loc[0]) {
            add_text(o, icalproperty_new_location(loc));
        }
        icalcomponent_add_component(cal, o);
    }
    char *s = icalcomponent_as_ical_string_r(cal);
    icalcomponent_free(cal);
    free(body);
    return s;
}

/* --------------------------------------------------------------------------------------- */
/* iCalendar -> EAS fields                                                                 */
/* --------------------------------------------------------------------------------------- */

void easd_fields_reset(easd_fields_t *fl)
{
    fl->n = 0;
    fl->used = 0;
    fl->overflow = false;
}

static void fields_put(easd_fields_t *fl, uint16_t tag, eas_field_kind_t kind, const char *s)
{
    size_t len = s ? strlen(s) : 0;
    if (fl->n >= sizeof(fl->f) / sizeof(fl->f[0]) || fl->used + len + 1 > sizeof(fl->text)) {
        fl->overflow = true;
        return;
    }
    eas_field_t *f = &fl->f[fl->n++];
    f->tag = tag;
    f->kind = kind;
    f->data = fl->text + fl->used;
    f->len = len;
    if (len) {
        memcpy(fl->text + fl->used, s, len);
    }
    fl->text[fl->used + len] = '\0';
    fl->used += len + 1;
}

void easd_fields_text(easd_fields_t *fl, uint16_t tag, const char *s)
{
    fields_put(fl, tag, EAS_FIELD_TEXT, s);
}

void easd_fields_open(easd_fields_t *fl, uint16_t tag)
{
    fields_put(fl, tag, EAS_FIELD_START, NULL);
}

void easd_fields_close(easd_fields_t *fl, uint16_t tag)
{
    fields_put(fl, tag, EAS_FIELD_END, NULL);
}

static void fields_time(easd_fields_t *fl, uint16_t tag, int64_t t)
{
    char b[32];
    if (eas_cal_format_time(t, EAS_CAL_FMT_COMPACT, b, sizeof(b)) == EAS_OK) {
        easd_fields_text(fl, tag, b);
    }
}

static void fields_uint(easd_fields_t *fl, uint16_t tag, unsigned v)
{
    char b[16];
    (void)snprintf(b, sizeof(b), "%u", v);
    easd_fields_text(fl, tag, b);
}

/* The zone of a DTSTART-like property: its TZID's VTIMEZONE in the file, else a libical
   builtin (Olson name), else NULL (UTC / floating read as UTC). */
static icaltimezone *prop_zone(icalcomponent *cal, icalproperty *p, struct icaltimetype t)
{
    if (t.zone) {
        return (icaltimezone *)t.zone;
    }
    icalparameter *tp = icalproperty_get_first_parameter(p, ICAL_TZID_PARAMETER);
    if (!tp) {
        return NULL;
    }
    const char *tzid = icalparameter_get_tzid(tp);
    icaltimezone *z = icalcomponent_get_timezone(cal, tzid);
    if (!z) {
        z = icaltimezone_get_builtin_timezone(tzid);
    }
    return z;
}

static int64_t to_utc(struct icaltimetype t, icaltimezone *z)
{
    return (int64_t)icaltime_as_timet_with_zone(t, z ? z : icaltimezone_get_utc_timezone());
}

static int offset_at(icaltimezone *z, int64_t utc)
{
    if (!z) {
        return 0;
    }
    struct icaltimetype t =
        icaltime_from_timet_with_zone((time_t)utc, 0, icaltimezone_get_utc_timezone());
    int dl = 0;
    return icaltimezone_get_utc_offset_of_utc_time(z, &t, &dl);
}

/* An EAS zone equivalent to @p z in the year of @p around: the two transitions found by
   sampling the offset, written as "n-th weekday of the month" rules. */
static void zone_to_eas(icaltimezone *z, int64_t around, eas_cal_tz_t *tz)
{
    eas_cal_tz_utc(tz);
    eas_cal_civil_t cv;
    eas_cal_civil_from_time(around, &cv);
    int64_t y0 = eas_cal_days_from_civil(cv.year, 1, 1) * 86400;
    int prev = offset_at(z, y0);
    int std = prev, dstoff = prev;
    eas_cal_tz_rule_t rules[2];
    int kinds[2];
    int nt = 0;
    for (int d = 1; d <= 366 && nt < 2; d++) {
        int64_t t = y0 + (int64_t)d * 86400;
        int off = offset_at(z, t);
        if (off == prev) {
            continue;
        }
        int64_t lo = t - 86400, hi = t; /* offset(lo) = prev, offset(hi) = off */
        while (hi - lo > 1) {
            int64_t mid = lo + (hi - lo) / 2;
            if (offset_at(z, mid) == prev) {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        eas_cal_civil_t lc;
        eas_cal_civil_from_time(hi + prev, &lc); /* wall clock before the change */
        unsigned dim = eas_cal_days_in_month(lc.year, lc.month);
        eas_cal_tz_rule_t *r = &rules[nt];
        memset(r, 0, sizeof(*r));
        r->month = lc.month;
        r->day_of_week = lc.wday;
        r->day = lc.day + 7u > dim ? 5u : (uint16_t)((lc.day - 1u) / 7u + 1u);
        r->hour = lc.hour;
        r->minute = lc.minute;
        kinds[nt] = off > prev; /* 1: daylight starts */
        if (off > prev) {
            std = prev;
            dstoff = off;
        } else {
            std = off;
            dstoff = prev;
        }
        nt++;
        prev = off;
    }
    tz->bias = -std / 60;
    if (nt == 2 && kinds[0] != kinds[1]) {
        tz->has_dst = true;
        tz->daylight_bias = -(dstoff - std) / 60;
        tz->standard_bias = 0;
        tz->daylight_date = kinds[0] ? rules[0] : rules[1];
        tz->standard_date = kinds[0] ? rules[1] : rules[0];
    }
    tz->unspecified = false;
}

static uint8_t dow_bit(short day)
{
    int w = (int)icalrecurrencetype_day_day_of_week(day); /* 1 = Sunday */
    return (w >= 1 && w <= 7) ? (uint8_t)(1u << (w - 1)) : 0;
}

/* RRULE -> Recurrence fields; -1 when EAS cannot express it. */
static int rrule_to_fields(struct icalrecurrencetype *r, struct icaltimetype dts, bool all_day,
                           icaltimezone *z, easd_fields_t *fl, char *err, size_t errcap)
{
    unsigned type;
    uint8_t dow = 0;
    int week = 0, mday = 0;
    int nday = 0, nmday = 0, nsetpos = 0;
    while (nday < ICAL_BY_DAY_SIZE && r->by_day[nday] != ICAL_RECURRENCE_ARRAY_MAX) {
        nday++;
    }
    while (nmday < ICAL_BY_MONTHDAY_SIZE && r->by_month_day[nmday] != ICAL_RECURRENCE_ARRAY_MAX) {
        nmday++;
    }
    while (nsetpos < ICAL_BY_SETPOS_SIZE && r->by_set_pos[nsetpos] != ICAL_RECURRENCE_ARRAY_MAX) {
        nsetpos++;
    }
    for (int i = 0; i < nday; i++) {
        dow |= dow_bit(r->by_day[i]);
        int p = icalrecurrencetype_day_position(r->by_day[i]);
        if (p) {
            week = p;
        }
    }
    if (nsetpos == 1) {
        week = r->by_set_pos[0];
    } else if (nsetpos > 1) {
        (void)snprintf(err, errcap, "RRULE with several BYSETPOS values");
        return -1;
    }
    if (nmday == 1 && r->by_month_day[0] == -1) {
        mday = 31;
    } else if (nmday == 1 && r->by_month_day[0] > 0) {
        mday = r->by_month_day[0];
    } else if (nmday > 1 && week == -1) {
        /* 28,29,30;BYSETPOS=-1 is "day 30, or the last day of shorter months". */
        for (int i = 0; i < nmday; i++) {
            if (r->by_month_day[i] < 28 || r->by_month_day[i] > 31) {
                (void)snprintf(err, errcap, "RRULE BYMONTHDAY list not expressible in EAS");
                return -1;
            }
            mday = r->by_month_day[i] > mday ? r->by_month_day[i] : mday;
        }
        week = 0;
    } else if (nmday > 1) {
        (void)snprintf(err, errcap, "RRULE with several BYMONTHDAY values");
        return -1;
    }
    int month = r->by_month[0] != ICAL_RECURRENCE_ARRAY_MAX ? r->by_month[0] : dts.month;
    if (r->by_month[0] != ICAL_RECURRENCE_ARRAY_MAX &&
        r->by_month[1] != ICAL_RECURRENCE_ARRAY_MAX) {
        (void)snprintf(err, errcap, "RRULE with several BYMONTH values");
        return -1;
    }
    int start_wday = icaltime_day_of_week(dts) - 1; /* 0 = Sunday */
    switch (r->freq) {
    case ICAL_DAILY_RECURRENCE:
        type = dow ? 1u : 0u;
        break;
    case ICAL_WEEKLY_RECURRENCE:
        type = 1;
        dow = dow ? dow : (uint8_t)(1u << start_wday);
        break;
    case ICAL_MONTHLY_RECURRENCE:
    case ICAL_YEARLY_RECURRENCE: {
        bool yearly = r->freq == ICAL_YEARLY_RECURRENCE;
        if (dow && week) {
            type = yearly ? 6u : 3u;
        } else if (mday == 31 && week == 0 && nday == 0 && nmday == 1 && r->by_month_day[0] == -1) {
            type = yearly ? 5u : 2u;
        } else if (dow || week) {
            (void)snprintf(err, errcap, "RRULE BYDAY without a position");
            return -1;
        } else {
            type = yearly ? 5u : 2u;
            mday = mday ? mday : dts.day;
        }
        break;
    }
    default:
        (void)snprintf(err, errcap, "RRULE frequency not expressible in EAS");
        return -1;
    }
    easd_fields_open(fl, EAS_CALENDAR_RECURRENCE);
    fields_uint(fl, EAS_CALENDAR_TYPE, type);
    if (r->count > 0) {
        fields_uint(fl, EAS_CALENDAR_OCCURRENCES, (unsigned)r->count);
    } else if (!icaltime_is_null_time(r->until)) {
        int64_t u;
        if (r->until.is_date) {
            struct icaltimetype e = r->until;
            e.is_date = 0;
            e.hour = 23;
            e.minute = 59;
            e.second = 59;
            u = all_day ? to_utc(e, NULL) : to_utc(e, z);
        } else {
            u = to_utc(r->until, NULL);
        }
        fields_time(fl, EAS_CALENDAR_UNTIL, u);
    }
    fields_uint(fl, EAS_CALENDAR_INTERVAL, r->interval > 0 ? (unsigned)r->interval : 1u);
    if (type == 1 || type == 3 || type == 6) {
        fields_uint(fl, EAS_CALENDAR_DAY_OF_WEEK, dow);
    }
    if (type == 2 || type == 5) {
        fields_uint(fl, EAS_CALENDAR_DAY_OF_MONTH, (unsigned)mday);
    }
    if (type == 3 || type == 6) {
        fields_uint(fl, EAS_CALENDAR_WEEK_OF_MONTH, week < 0 ? 5u : (unsigned)week);
    }
    if (type == 5 || type == 6) {
        fields_uint(fl, EAS_CALENDAR_MONTH_OF_YEAR, (unsigned)month);
    }
    if (type == 1 && r->week_start >= ICAL_SUNDAY_WEEKDAY &&
        r->week_start <= ICAL_SATURDAY_WEEKDAY) {
        fields_uint(fl, EAS_CALENDAR_FIRST_DAY_OF_WEEK, (unsigned)(r->week_start - 1));
    }
    easd_fields_close(fl, EAS_CALENDAR_RECURRENCE);
    return 0;
}

int easd_ical_to_fields(const char *ics, easd_fields_t *fl, char *err, size_t errcap)
{
    easd_fields_reset(fl);
    icalcomponent *cal = icalparser_parse_string(ics);
    if (!cal) {
        (void)snprintf(err, errcap, "not iCalendar");
        return -1;
    }
    icalcomponent *master = NULL;
    icalcomponent *root = cal;
    if (icalcomponent_isa(cal) == ICAL_VEVENT_COMPONENT) {
        master = cal;
    } else {
        for (icalcomponent *c = icalcomponent_get_first_component(cal, ICAL_VEVENT_COMPONENT); c;
             c = icalcomponent_get_next_component(cal, ICAL_VEVENT_COMPONENT)) {
            if (!icalcomponent_get_first_property(c, ICAL_RECURRENCEID_PROPERTY)) {
                master = c;
                break;
            }
        }
    }
    icalproperty *ps =
        master ? icalcomponent_get_first_property(master, ICAL_DTSTART_PROPERTY) : NULL;
    if (!ps) {
        (void)snprintf(err, errcap, "no VEVENT with DTSTART");
        icalcomponent_free(cal);
        return -1;
    }
    struct icaltimetype dts = icalproperty_get_dtstart(ps);
    bool all_day = dts.is_date != 0;
    icaltimezone *z = all_day ? NULL : prop_zone(root, ps, dts);
    int64_t start = to_utc(dts, z);
    int64_t end;
    icalproperty *pe = icalcomponent_get_first_property(master, ICAL_DTEND_PROPERTY);
    if (pe) {
        struct icaltimetype dte = icalproperty_get_dtend(pe);
        end = to_utc(dte, dte.is_date ? NULL : prop_zone(root, pe, dte));
    } else {
        struct icaldurationtype d = icalcomponent_get_duration(master);
        end = icaldurationtype_is_null_duration(d) ? start + (all_day ? 86400 : 0)
                                                   : start + icaldurationtype_as_int(d);
    }
    if (end < start) {
        end = start;
    }
    eas_cal_tz_t tz;
    eas_cal_tz_utc(&tz);
    if (z) {
        zone_to_eas(z, start, &tz);
    }
    uint8_t blob[EAS_CAL_TZ_BLOB_LEN];
    char b64[EAS_CAL_TZ_BASE64_LEN + 4];
    size_t bl = 0;
    if (eas_cal_tz_encode(&tz, blob) != EAS_OK ||
        eas_base64_encode(blob, sizeof(blob), b64, sizeof(b64), &bl) != EAS_OK) {
        (void)snprintf(err, errcap, "time zone not expressible in EAS");
        icalcomponent_free(cal);
        return -1;
    }
    b64[bl] = '\0';

    /* Elements in the order of the MS-ASCAL schema. */
    easd_fields_text(fl, EAS_CALENDAR_TIMEZONE, b64);
    easd_fields_text(fl, EAS_CALENDAR_ALL_DAY_EVENT, all_day ? "1" : "0");
    const char *desc = icalcomponent_get_description(master);
    if (desc && desc[0]) {
        easd_fields_open(fl, EAS_AIRSYNCBASE_BODY);
        easd_fields_text(fl, EAS_AIRSYNCBASE_TYPE, "1");
        easd_fields_text(fl, EAS_AIRSYNCBASE_DATA, desc);
        easd_fields_close(fl, EAS_AIRSYNCBASE_BODY);
    }
    icalproperty *tp = icalcomponent_get_first_property(master, ICAL_TRANSP_PROPERTY);
    bool free_time = tp && icalproperty_get_transp(tp) == ICAL_TRANSP_TRANSPARENT;
    easd_fields_text(fl, EAS_CALENDAR_BUSY_STATUS, free_time ? "0" : "2");
    fields_time(fl, EAS_CALENDAR_DT_STAMP, (int64_t)time(NULL));
    fields_time(fl, EAS_CALENDAR_END_TIME, end);
    const char *loc = icalcomponent_get_location(master);
    if (loc && loc[0]) {
        easd_fields_text(fl, EAS_CALENDAR_LOCATION, loc);
    }
    icalcomponent *al = icalcomponent_get_first_component(master, ICAL_VALARM_COMPONENT);
    icalproperty *trig = al ? icalcomponent_get_first_property(al, ICAL_TRIGGER_PROPERTY) : NULL;
    if (trig) {
        struct icaltriggertype tr = icalproperty_get_trigger(trig);
        int secs = icaldurationtype_as_int(tr.duration);
        if (icaltime_is_null_time(tr.time) && secs <= 0) {
            fields_uint(fl, EAS_CALENDAR_REMINDER, (unsigned)(-secs / 60));
        }
    }
    icalproperty *cp = icalcomponent_get_first_property(master, ICAL_CLASS_PROPERTY);
    icalproperty_class cls = cp ? icalproperty_get_class(cp) : ICAL_CLASS_PUBLIC;
    easd_fields_text(fl, EAS_CALENDAR_SENSITIVITY,
                     cls == ICAL_CLASS_PRIVATE        ? "2"
                     : cls == ICAL_CLASS_CONFIDENTIAL ? "3"
                                                      : "0");
    const char *sum = icalcomponent_get_summary(master);
    easd_fields_text(fl, EAS_CALENDAR_SUBJECT, sum ? sum : "");
    fields_time(fl, EAS_CALENDAR_START_TIME, start);
    const char *uid = icalcomponent_get_uid(master);
    if (uid && uid[0]) {
        easd_fields_text(fl, EAS_CALENDAR_UID, uid);
    }
    easd_fields_text(fl, EAS_CALENDAR_MEETING_STATUS, "0");

    icalproperty *rp = icalcomponent_get_first_property(master, ICAL_RRULE_PROPERTY);
    int rc = 0;
    if (rp) {
        struct icalrecurrencetype r = icalproperty_get_rrule(rp);
        rc = rrule_to_fields(&r, dts, all_day, z, fl, err, errcap);
        bool open = false;
        /* EXDATE: deleted occurrences. */
        for (icalproperty *xp = icalcomponent_get_first_property(master, ICAL_EXDATE_PROPERTY);
             rc == 0 && xp; xp = icalcomponent_get_next_property(master, ICAL_EXDATE_PROPERTY)) {
            struct icaltimetype xt = icalproperty_get_exdate(xp);
            int64_t xs;
            if (xt.is_date && !all_day) {
                /* A date EXDATE on a timed series: that day's occurrence. */
                xt.is_date = 0;
                xt.hour = dts.hour;
                xt.minute = dts.minute;
                xt.second = dts.second;
                xs = to_utc(xt, z);
            } else {
                xs = to_utc(xt, xt.is_date ? NULL : prop_zone(root, xp, xt));
            }
            if (!open) {
                easd_fields_open(fl, EAS_CALENDAR_EXCEPTIONS);
                open = true;
            }
            easd_fields_open(fl, EAS_CALENDAR_EXCEPTION);
            easd_fields_text(fl, EAS_CALENDAR_DELETED, "1");
            fields_time(fl, EAS_CALENDAR_EXCEPTION_START_TIME, xs);
            easd_fields_close(fl, EAS_CALENDAR_EXCEPTION);
        }
        /* RECURRENCE-ID overrides: modified occurrences. */
        for (icalcomponent *c = icalcomponent_get_first_component(root, ICAL_VEVENT_COMPONENT);
             rc == 0 && c; c = icalcomponent_get_next_component(root, ICAL_VEVENT_COMPONENT)) {
            icalproperty *ri = icalcomponent_get_first_property(c, ICAL_RECURRENCEID_PROPERTY);
            icalproperty *cs = icalcomponent_get_first_property(c, ICAL_DTSTART_PROPERTY);
            if (!ri || !cs) {
                continue;
            }
            struct icaltimetype rt = icalproperty_get_recurrenceid(ri);
            struct icaltimetype st = icalproperty_get_dtstart(cs);
            int64_t os = to_utc(rt, rt.is_date ? NULL : prop_zone(root, ri, rt));
            int64_t ns = to_utc(st, st.is_date ? NULL : prop_zone(root, cs, st));
            int64_t ne = ns + (end - start);
            icalproperty *ce = icalcomponent_get_first_property(c, ICAL_DTEND_PROPERTY);
            if (ce) {
                struct icaltimetype et = icalproperty_get_dtend(ce);
                ne = to_utc(et, et.is_date ? NULL : prop_zone(root, ce, et));
            }
            if (!open) {
                easd_fields_open(fl, EAS_CALENDAR_EXCEPTIONS);
                open = true;
            }
            easd_fields_open(fl, EAS_CALENDAR_EXCEPTION);
            fields_time(fl, EAS_CALENDAR_EXCEPTION_START_TIME, os);
            fields_time(fl, EAS_CALENDAR_START_TIME, ns);
            fields_time(fl, EAS_CALENDAR_END_TIME, ne);
            const char *xs = icalcomponent_get_summary(c);
            if (xs) {
                easd_fields_text(fl, EAS_CALENDAR_SUBJECT, xs);
            }
            const char *xl = icalcomponent_get_location(c);
            if (xl) {
                easd_fields_text(fl, EAS_CALENDAR_LOCATION, xl);
            }
            easd_fields_close(fl, EAS_CALENDAR_EXCEPTION);
        }
        if (open) {
            easd_fields_close(fl, EAS_CALENDAR_EXCEPTIONS);
        }
    }
    icalcomponent_free(cal);
    if (rc == 0 && fl->overflow) {
        (void)snprintf(err, errcap, "item too large");
        rc = -1;
    }
    return rc;
}
