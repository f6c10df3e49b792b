/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Calendar item collector: turns the decoder's events for one ApplicationData subtree into
 * an eas_cal_item_t. It keeps no per-element state beyond the value being collected, so a
 * Sync response of any size is parsed with this one small struct per item.
 *
 * A malformed value marks its field invalid instead of failing the parse: one broken item
 * must not stop a Sync batch, and eas_cal_item_check() turns the marks into errors for
 * whoever wants to expand the item.
 */
#include "eas/eas_config_defaults.h"

#if CONFIG_EAS_CALENDAR

#include <stddef.h>
#include <string.h>

#include "eas/eas_cal.h"
#include "eas/eas_err.h"
#include "eas/eas_wbxml_tags.h"
#include "eas_log.h"

#define LOG_MOD "cal"

/* Where the element being read lives. */
enum scope {
    S_ITEM = 0, /* child of ApplicationData */
    S_RECUR,    /* child of Recurrence */
    S_EX,       /* child of Exception */
    S_ATT,      /* child of Attendee */
    S_ITEM_LOC, /* child of AirSyncBase:Location (16.0) of the item */
    S_EX_LOC,   /* ... of an exception */
    S_NONE
};

/* Container the parser is in (ctx) and nested container (sub). */
enum { CTX_TOP = 0, CTX_RECUR, CTX_EXCEPTIONS, CTX_ATTENDEES };
enum { SUB_NONE = 0, SUB_EXCEPTION, SUB_ATTENDEE, SUB_LOCATION, SUB_EX_LOCATION };

enum kind { K_U8 = 0, K_U32, K_TIME, K_TZ, K_STR };

/* 8 bytes per field (49 of them): the flag is kept as its bit number. */
typedef struct field {
    uint16_t tag;
    uint16_t off;
    uint16_t cap;
    uint16_t scope : 3;
    uint16_t kind : 3;
    uint16_t bit : 5; /* the EAS_CAL_F_* / EAS_CAL_RF_* flag is 1u << bit */
} field_t;
_Static_assert(sizeof(field_t) == 8, "field_t packs into 8 bytes");
_Static_assert(S_NONE < 8 && K_STR < 8, "scope and kind fit 3 bits");

/* Bit number of a one-bit flag, at compile time. */
#define BIX(b)                                                                                     \
    ((((b) & 0xAAAAAAAAu) ? 1u : 0u) | (((b) & 0xCCCCCCCCu) ? 2u : 0u) |                          \
     (((b) & 0xF0F0F0F0u) ? 4u : 0u) | (((b) & 0xFF00FF00u) ? 8u : 0u) |                          \
     (((b) & 0xFFFF0000u) ? 16u : 0u))
/* One table row: tag, scope, kind, flag, offset, capacity. */
#define FLD(tag, scope, kind, flag, off, cap) {(tag), (off), (cap), (scope), (kind), BIX(flag)}

#define IT(m) ((uint16_t)offsetof(eas_cal_item_t, m))
#define RC(m) ((uint16_t)offsetof(eas_cal_recurrence_t, m))
#define EX(m) ((uint16_t)offsetof(eas_cal_exception_t, m))
#define AT(m) ((uint16_t)offsetof(eas_cal_attendee_t, m))

static const field_t k_fields[] = {
    /* item */
    FLD(EAS_CALENDAR_START_TIME, S_ITEM, K_TIME, EAS_CAL_F_START, IT(start), 0),
    FLD(EAS_CALENDAR_END_TIME, S_ITEM, K_TIME, EAS_CAL_F_END, IT(end), 0),
    FLD(EAS_CALENDAR_DT_STAMP, S_ITEM, K_TIME, EAS_CAL_F_DTSTAMP, IT(dtstamp), 0),
    FLD(EAS_CALENDAR_APPOINTMENT_REPLY_TIME, S_ITEM, K_TIME, EAS_CAL_F_REPLY_TIME, IT(reply_time), 0),
    FLD(EAS_CALENDAR_TIMEZONE, S_ITEM, K_TZ, EAS_CAL_F_TIMEZONE, 0, 0),
    FLD(EAS_CALENDAR_ALL_DAY_EVENT, S_ITEM, K_U8, EAS_CAL_F_ALL_DAY, IT(all_day), 0),
    FLD(EAS_CALENDAR_BUSY_STATUS, S_ITEM, K_U8, EAS_CAL_F_BUSY_STATUS, IT(busy_status), 0),
    FLD(EAS_CALENDAR_SENSITIVITY, S_ITEM, K_U8, EAS_CAL_F_SENSITIVITY, IT(sensitivity), 0),
    FLD(EAS_CALENDAR_MEETING_STATUS, S_ITEM, K_U8, EAS_CAL_F_MEETING_STATUS, IT(meeting_status), 0),
    FLD(EAS_CALENDAR_RESPONSE_TYPE, S_ITEM, K_U8, EAS_CAL_F_RESPONSE_TYPE, IT(response_type), 0),
    FLD(EAS_CALENDAR_RESPONSE_REQUESTED, S_ITEM, K_U8, EAS_CAL_F_RESPONSE_REQUESTED,
     IT(response_requested), 0),
    FLD(EAS_CALENDAR_DISALLOW_NEW_TIME_PROPOSAL, S_ITEM, K_U8, EAS_CAL_F_DISALLOW_NEW_TIME,
     IT(disallow_new_time), 0),
    FLD(EAS_CALENDAR_REMINDER, S_ITEM, K_U32, EAS_CAL_F_REMINDER, IT(reminder), 0),
    FLD(EAS_CALENDAR_SUBJECT, S_ITEM, K_STR, EAS_CAL_F_SUBJECT, IT(subject), EAS_CAL_SUBJECT_MAX),
    FLD(EAS_CALENDAR_LOCATION, S_ITEM, K_STR, EAS_CAL_F_LOCATION, IT(location), EAS_CAL_LOCATION_MAX),
    FLD(EAS_AIRSYNCBASE_DISPLAY_NAME, S_ITEM_LOC, K_STR, EAS_CAL_F_LOCATION, IT(location),
     EAS_CAL_LOCATION_MAX),
    FLD(EAS_CALENDAR_UID, S_ITEM, K_STR, EAS_CAL_F_UID, IT(uid), EAS_CAL_UID_MAX),
    FLD(EAS_CALENDAR_ORGANIZER_NAME, S_ITEM, K_STR, EAS_CAL_F_ORGANIZER_NAME, IT(organizer_name),
     EAS_CAL_NAME_MAX),
    FLD(EAS_CALENDAR_ORGANIZER_EMAIL, S_ITEM, K_STR, EAS_CAL_F_ORGANIZER_EMAIL, IT(organizer_email),
     EAS_CAL_EMAIL_MAX),
    /* recurrence */
    FLD(EAS_CALENDAR_TYPE, S_RECUR, K_U8, EAS_CAL_RF_TYPE, RC(type), 0),
    FLD(EAS_CALENDAR_INTERVAL, S_RECUR, K_U32, EAS_CAL_RF_INTERVAL, RC(interval), 0),
    FLD(EAS_CALENDAR_OCCURRENCES, S_RECUR, K_U32, EAS_CAL_RF_OCCURRENCES, RC(occurrences), 0),
    FLD(EAS_CALENDAR_UNTIL, S_RECUR, K_TIME, EAS_CAL_RF_UNTIL, RC(until), 0),
    FLD(EAS_CALENDAR_DAY_OF_WEEK, S_RECUR, K_U8, EAS_CAL_RF_DAY_OF_WEEK, RC(day_of_week), 0),
    FLD(EAS_CALENDAR_DAY_OF_MONTH, S_RECUR, K_U8, EAS_CAL_RF_DAY_OF_MONTH, RC(day_of_month), 0),
    FLD(EAS_CALENDAR_WEEK_OF_MONTH, S_RECUR, K_U8, EAS_CAL_RF_WEEK_OF_MONTH, RC(week_of_month), 0),
    FLD(EAS_CALENDAR_MONTH_OF_YEAR, S_RECUR, K_U8, EAS_CAL_RF_MONTH_OF_YEAR, RC(month_of_year), 0),
    FLD(EAS_CALENDAR_FIRST_DAY_OF_WEEK, S_RECUR, K_U8, EAS_CAL_RF_FIRST_DAY_OF_WEEK,
     RC(first_day_of_week), 0),
    FLD(EAS_CALENDAR_CALENDAR_TYPE, S_RECUR, K_U8, EAS_CAL_RF_CALENDAR_TYPE, RC(calendar_type), 0),
    FLD(EAS_CALENDAR_IS_LEAP_MONTH, S_RECUR, K_U8, EAS_CAL_RF_IS_LEAP_MONTH, RC(is_leap_month), 0),
    /* exception */
    FLD(EAS_CALENDAR_DELETED, S_EX, K_U8, EAS_CAL_F_DELETED, EX(deleted), 0),
    FLD(EAS_CALENDAR_EXCEPTION_START_TIME, S_EX, K_TIME, EAS_CAL_F_EXCEPTION_START,
     EX(exception_start), 0),
    FLD(EAS_AIRSYNCBASE_INSTANCE_ID, S_EX, K_TIME, EAS_CAL_F_EXCEPTION_START, EX(exception_start), 0),
    FLD(EAS_CALENDAR_START_TIME, S_EX, K_TIME, EAS_CAL_F_START, EX(start), 0),
    FLD(EAS_CALENDAR_END_TIME, S_EX, K_TIME, EAS_CAL_F_END, EX(end), 0),
    FLD(EAS_CALENDAR_DT_STAMP, S_EX, K_TIME, EAS_CAL_F_DTSTAMP, 0xFFFFu, 0),
    FLD(EAS_CALENDAR_ALL_DAY_EVENT, S_EX, K_U8, EAS_CAL_F_ALL_DAY, EX(all_day), 0),
    FLD(EAS_CALENDAR_BUSY_STATUS, S_EX, K_U8, EAS_CAL_F_BUSY_STATUS, EX(busy_status), 0),
    FLD(EAS_CALENDAR_MEETING_STATUS, S_EX, K_U8, EAS_CAL_F_MEETING_STATUS, EX(meeting_status), 0),
    FLD(EAS_CALENDAR_RESPONSE_TYPE, S_EX, K_U8, EAS_CAL_F_RESPONSE_TYPE, EX(response_type), 0),
    FLD(EAS_CALENDAR_SENSITIVITY, S_EX, K_U8, EAS_CAL_F_SENSITIVITY, EX(sensitivity), 0),
    FLD(EAS_CALENDAR_REMINDER, S_EX, K_U32, EAS_CAL_F_REMINDER, EX(reminder), 0),
    FLD(EAS_CALENDAR_SUBJECT, S_EX, K_STR, EAS_CAL_F_SUBJECT, EX(subject), EAS_CAL_EX_SUBJECT_MAX),
    FLD(EAS_CALENDAR_LOCATION, S_EX, K_STR, EAS_CAL_F_LOCATION, EX(location), EAS_CAL_EX_LOCATION_MAX),
    FLD(EAS_AIRSYNCBASE_DISPLAY_NAME, S_EX_LOC, K_STR, EAS_CAL_F_LOCATION, EX(location),
     EAS_CAL_EX_LOCATION_MAX),
    /* attendee (bits: 1 = email / status, 2 = name / type) */
    FLD(EAS_CALENDAR_ATTENDEE_EMAIL, S_ATT, K_STR, 1u, AT(email), EAS_CAL_EMAIL_MAX),
    FLD(EAS_CALENDAR_ATTENDEE_NAME, S_ATT, K_STR, 2u, AT(name), EAS_CAL_NAME_MAX),
    FLD(EAS_CALENDAR_ATTENDEE_STATUS, S_ATT, K_U8, 1u, AT(status), 0),
    FLD(EAS_CALENDAR_ATTENDEE_TYPE, S_ATT, K_U8, 2u, AT(type), 0),
};

#define FIELD_COUNT (sizeof(k_fields) / sizeof(k_fields[0]))

void eas_cal_item_init(eas_cal_item_t *item, eas_cal_exception_t *exceptions,
                       uint16_t exception_cap, eas_cal_attendee_t *attendees, uint16_t attendee_cap)
{
    if (item == NULL) {
        return;
    }
    memset(item, 0, sizeof(*item));
    item->exceptions = exceptions;
    item->exception_cap = (exceptions != NULL) ? exception_cap : 0u;
    item->attendees = attendees;
    item->attendee_cap = (attendees != NULL) ? attendee_cap : 0u;
    eas_cal_tz_utc(&item->tz);
}

void eas_cal_item_parser_init(eas_cal_item_parser_t *p, eas_cal_item_t *item,
                              const eas_cal_tz_t *device_tz)
{
    if (p == NULL) {
        return;
    }
    memset(p, 0, sizeof(*p));
    p->item = item;
    p->device_tz = device_tz;
    p->cur_ex = -1;
    p->cur_at = -1;
}

/* Scope of a child element at relative depth @p rd, given the containers open. */
static uint8_t child_scope(const eas_cal_item_parser_t *p, unsigned rd)
{
    uint8_t s = S_NONE;

    if (rd == 1u) {
        s = S_ITEM;
    } else if ((rd == 2u) && (p->ctx == CTX_RECUR)) {
        s = S_RECUR;
    } else if ((rd == 2u) && (p->ctx == CTX_TOP) && (p->sub == SUB_LOCATION)) {
        s = S_ITEM_LOC;
    } else if ((rd == 3u) && (p->sub == SUB_EXCEPTION)) {
        s = S_EX;
    } else if ((rd == 3u) && (p->sub == SUB_ATTENDEE)) {
        s = S_ATT;
    } else if ((rd == 4u) && (p->sub == SUB_EX_LOCATION)) {
        s = S_EX_LOC;
    }
    return s;
}

static const field_t *find_field(uint8_t scope, uint16_t tag)
{
    size_t i;

    for (i = 0u; i < FIELD_COUNT; i++) {
        if ((k_fields[i].scope == scope) && (k_fields[i].tag == tag)) {
            return &k_fields[i];
        }
    }
    return NULL;
}

/* The struct a field of @p scope is written into; NULL for a dropped exception/attendee. */
static uint8_t *scope_base(eas_cal_item_parser_t *p, uint8_t scope)
{
    eas_cal_item_t *it = p->item;
    uint8_t *b = NULL;

    switch (scope) {
    case S_ITEM:
    case S_ITEM_LOC:
        b = (uint8_t *)it;
        break;
    case S_RECUR:
        b = (uint8_t *)&it->recurrence;
        break;
    case S_EX:
    case S_EX_LOC:
        b = (p->cur_ex >= 0) ? (uint8_t *)&it->exceptions[p->cur_ex] : NULL;
        break;
    case S_ATT:
        b = (p->cur_at >= 0) ? (uint8_t *)&it->attendees[p->cur_at] : NULL;
        break;
    default:
        b = NULL;
        break;
    }
    return b;
}

enum mark { M_PRESENT = 0, M_INVALID, M_TRUNCATED };

/* A time with a zone ("...Z"), or - as EAS 16.x sends all-day times - without one: then
 * parsed as if UTC and flagged, to be moved to the item's zone at finish. */
static int parse_time_any(const uint8_t *buf, size_t len, int64_t *t, bool *floating)
{
    char tmp[40];
    int rc = eas_cal_parse_time((const char *)buf, len, t);
    *floating = false;
    while (rc != EAS_OK && len > 0u && (buf[len - 1u] == ' ' || buf[len - 1u] == '\t')) {
        len--;
    }
    if (rc != EAS_OK && len > 0u && len + 1u < sizeof(tmp) && buf[len - 1u] != 'Z') {
        memcpy(tmp, buf, len);
        tmp[len] = 'Z';
        rc = eas_cal_parse_time(tmp, len + 1u, t);
        *floating = rc == EAS_OK;
    }
    return rc;
}

static void mark_floating(eas_cal_item_parser_t *p, uint8_t scope, unsigned bix)
{
    uint32_t bit = (uint32_t)1u << bix;

    if (scope == S_ITEM) {
        p->item->floating |= bit;
    } else if (scope == S_EX && p->cur_ex >= 0) {
        p->item->exceptions[p->cur_ex].floating |= bit;
    }
}

/* @p bix: the field's flag as its bit number (field_t::bit). */
static void mark(eas_cal_item_parser_t *p, uint8_t scope, unsigned bix, enum mark m)
{
    uint32_t bit = (uint32_t)1u << bix;
    eas_cal_item_t *it = p->item;

    if ((scope == S_ITEM) || (scope == S_ITEM_LOC)) {
        uint32_t *t[3] = {&it->present, &it->invalid, &it->truncated};
        *t[m] |= bit;
        if (m == M_INVALID) {
            it->present |= bit;
        }
    } else if (scope == S_RECUR) {
        if (m == M_TRUNCATED) {
            m = M_INVALID;
        }
        if (m == M_INVALID) {
            it->recurrence.invalid |= (uint16_t)bit;
        }
        it->recurrence.present |= (uint16_t)bit;
    } else if (((scope == S_EX) || (scope == S_EX_LOC)) && (p->cur_ex >= 0)) {
        eas_cal_exception_t *ex = &it->exceptions[p->cur_ex];
        if (m == M_TRUNCATED) {
            ex->truncated |= (uint8_t)((bit == EAS_CAL_F_SUBJECT) ? 1u : 2u);
        } else {
            if (m == M_INVALID) {
                ex->invalid |= bit;
            }
            ex->present |= bit;
        }
    } else if ((scope == S_ATT) && (p->cur_at >= 0)) {
        eas_cal_attendee_t *at = &it->attendees[p->cur_at];
        if (m == M_TRUNCATED) {
            at->truncated |= (uint8_t)bit;
        } else if (m == M_INVALID) {
            at->invalid |= (uint8_t)bit;
        }
    } else {
        /* dropped exception or attendee: nothing to mark */
    }
}

static bool is_space(uint8_t c)
{
    return (c == ' ') || (c == '\t') || (c == '\r') || (c == '\n');
}

/* 1: number, 0: empty, -1: not a decimal number that fits 32 bits. */
static int parse_u32(const uint8_t *s, size_t n, uint32_t *v)
{
    uint64_t acc = 0u;
    size_t i = 0u;
    int rc = -1;

    while ((n > 0u) && is_space(s[n - 1u])) {
        n--;
    }
    while ((i < n) && is_space(s[i])) {
        i++;
    }
    if (i == n) {
        rc = 0;
        goto out;
    }
    for (; i < n; i++) {
        if ((s[i] < '0') || (s[i] > '9')) {
            goto out;
        }
        acc = (acc * 10u) + (uint64_t)(s[i] - '0');
        if (acc > UINT32_MAX) {
            goto out;
        }
    }
    *v = (uint32_t)acc;
    rc = 1;
out:
    return rc;
}

/* Length of @p s cut to whole UTF-8 characters. */
static size_t utf8_trim(const char *s, size_t len)
{
    size_t i = len;
    size_t need;
    uint8_t lead;

    while ((i > 0u) && (((uint8_t)s[i - 1u] & 0xC0u) == 0x80u) && ((len - i) < 3u)) {
        i--;
    }
    if (i == 0u) {
        return len;
    }
    lead = (uint8_t)s[i - 1u];
    need = (lead >= 0xF0u) ? 4u : (lead >= 0xE0u) ? 3u : (lead >= 0xC0u) ? 2u : 1u;
    return ((i - 1u) + need > len) ? (i - 1u) : len;
}

static void leaf_begin(eas_cal_item_parser_t *p, const eas_wbxml_event_t *ev)
{
    p->leaf = ev->tag;
    p->leaf_depth = ev->depth;
    p->len = 0u;
    p->overflow = 0u;
    p->opaque = 0u;
}

static const field_t *leaf_field(const eas_cal_item_parser_t *p)
{
    unsigned rd = (unsigned)(p->leaf_depth - p->base_depth);
    return find_field(child_scope(p, rd), p->leaf);
}

static void leaf_data(eas_cal_item_parser_t *p, const eas_wbxml_event_t *ev)
{
    const field_t *f = leaf_field(p);
    uint8_t *base;
    size_t room;
    size_t n;

    if (f == NULL) {
        return;
    }
    if (ev->type == EAS_WBXML_EV_OPAQUE) {
        p->opaque = 1u;
    }
    if (f->kind == K_STR) {
        base = scope_base(p, f->scope);
        if (base == NULL) {
            return;
        }
        room = (f->cap - 1u) - p->len;
        n = (ev->len < room) ? ev->len : room;
        memcpy(base + f->off + p->len, ev->data, n);
        p->len = (uint16_t)(p->len + n);
        if (n < ev->len) {
            p->overflow = 1u;
        }
    } else {
        room = sizeof(p->buf) - p->len;
        n = (ev->len < room) ? ev->len : room;
        memcpy(p->buf + p->len, ev->data, n);
        p->len = (uint16_t)(p->len + n);
        if (n < ev->len) {
            p->overflow = 1u;
        }
    }
}

static void leaf_timezone(eas_cal_item_parser_t *p)
{
    eas_cal_item_t *it = p->item;
    eas_cal_tz_t tz;
    uint8_t raw[EAS_CAL_TZ_BLOB_LEN];
    int err;
    size_t i;
    bool blank = true;

    for (i = 0u; (i < p->len) && blank && !p->opaque; i++) {
        blank = is_space(p->buf[i]);
    }
    if (blank && !p->opaque) {
        /* <TimeZone/>: no zone given, same as the all-zero blob. */
        memset(raw, 0, sizeof(raw));
        err = eas_cal_tz_parse(raw, sizeof(raw), &tz);
    } else if (p->overflow) {
        err = EAS_ERR_CAL_TIMEZONE;
    } else if (p->opaque) {
        err = eas_cal_tz_parse(p->buf, p->len, &tz);
        if (err == EAS_OK) {
            memcpy(raw, p->buf, sizeof(raw));
        }
    } else {
        err = eas_cal_tz_parse_base64((const char *)p->buf, p->len, &tz, raw);
    }
    it->present |= EAS_CAL_F_TIMEZONE;
    if (err == EAS_OK) {
        it->invalid &= ~EAS_CAL_F_TIMEZONE;
        it->tz = tz;
        memcpy(it->tz_blob, raw, sizeof(raw));
    } else {
        EAS_LOGW(it->log, LOG_MOD, "TimeZone blob rejected (%d)", err);
        it->invalid |= EAS_CAL_F_TIMEZONE;
    }
}

static void leaf_end(eas_cal_item_parser_t *p)
{
    const field_t *f = leaf_field(p);
    uint8_t *base;
    uint32_t v = 0u;
    int64_t t = 0;
    int rc;

    if (f == NULL) {
        return;
    }
    base = scope_base(p, f->scope);
    if (base == NULL) {
        return;
    }
    switch (f->kind) {
    case K_STR: {
        char *s = (char *)(base + f->off);
        size_t n = p->len;
        if (p->overflow) {
            n = utf8_trim(s, n);
            mark(p, f->scope, f->bit, M_TRUNCATED);
        }
        s[n] = '\0';
        mark(p, f->scope, f->bit, M_PRESENT);
        break;
    }
    case K_U8:
    case K_U32:
        rc = p->overflow ? -1 : parse_u32(p->buf, p->len, &v);
        if ((rc == 1) && (f->kind == K_U8) && (v > 255u)) {
            rc = -1;
        }
        if (rc == 1) {
            if (f->kind == K_U8) {
                base[f->off] = (uint8_t)v;
            } else {
                memcpy(base + f->off, &v, sizeof(v));
            }
            mark(p, f->scope, f->bit, M_PRESENT);
        } else if (rc < 0) {
            mark(p, f->scope, f->bit, M_INVALID);
        } else {
            /* empty element: as if absent */
        }
        break;
    case K_TIME: {
        bool floating = false;
        rc = p->overflow ? EAS_ERR_CAL_TIME : parse_time_any(p->buf, p->len, &t, &floating);
        if (rc == EAS_OK && floating && f->scope == S_RECUR) {
            rc = EAS_ERR_CAL_TIME; /* Until is an instant in every version */
        }
        if (rc == EAS_OK) {
            if (f->off != 0xFFFFu) {
                memcpy(base + f->off, &t, sizeof(t));
            }
            mark(p, f->scope, f->bit, M_PRESENT);
            if (floating) {
                mark_floating(p, f->scope, f->bit);
            }
        } else {
            mark(p, f->scope, f->bit, M_INVALID);
        }
        break;
    }
    case K_TZ:
        leaf_timezone(p);
        break;
    default:
        break;
    }
}

static void start_child(eas_cal_item_parser_t *p, const eas_wbxml_event_t *ev, unsigned rd)
{
    eas_cal_item_t *it = p->item;
    uint16_t tag = ev->tag;
    bool known = true;

    if ((rd == 1u) && (tag == EAS_CALENDAR_RECURRENCE)) {
        p->ctx = CTX_RECUR;
        it->present |= EAS_CAL_F_RECURRENCE;
    } else if ((rd == 1u) && (tag == EAS_CALENDAR_EXCEPTIONS)) {
        p->ctx = CTX_EXCEPTIONS;
        it->present |= EAS_CAL_F_EXCEPTIONS;
    } else if ((rd == 1u) && (tag == EAS_CALENDAR_ATTENDEES)) {
        p->ctx = CTX_ATTENDEES;
        it->present |= EAS_CAL_F_ATTENDEES;
    } else if ((rd == 1u) && (tag == EAS_AIRSYNCBASE_LOCATION)) {
        p->sub = SUB_LOCATION;
    } else if ((rd == 2u) && (p->ctx == CTX_EXCEPTIONS) && (tag == EAS_CALENDAR_EXCEPTION)) {
        p->sub = SUB_EXCEPTION;
        p->cur_ex = -1;
        if (it->exception_count < it->exception_cap) {
            p->cur_ex = (int16_t)it->exception_count;
            it->exception_count++;
            memset(&it->exceptions[p->cur_ex], 0, sizeof(it->exceptions[0]));
        } else {
            it->exceptions_lost++;
        }
    } else if ((rd == 2u) && (p->ctx == CTX_ATTENDEES) && (tag == EAS_CALENDAR_ATTENDEE)) {
        p->sub = SUB_ATTENDEE;
        p->cur_at = -1;
        if (it->attendee_count < it->attendee_cap) {
            p->cur_at = (int16_t)it->attendee_count;
            it->attendee_count++;
            memset(&it->attendees[p->cur_at], 0, sizeof(it->attendees[0]));
        } else {
            it->attendees_lost++;
        }
    } else if ((rd == 3u) && (p->sub == SUB_EXCEPTION) && (tag == EAS_AIRSYNCBASE_LOCATION)) {
        p->sub = SUB_EX_LOCATION;
    } else if (find_field(child_scope(p, rd), tag) != NULL) {
        leaf_begin(p, ev);
    } else {
        known = false;
    }
    if (!known) {
        /* Body, Categories, attendees of exceptions, newer elements: not modelled. */
        p->skip_depth = ev->depth;
    }
}

static void end_child(eas_cal_item_parser_t *p, unsigned rd)
{
    if (rd == 1u) {
        p->ctx = CTX_TOP;
        p->sub = SUB_NONE;
    } else if ((rd == 2u) && ((p->sub == SUB_EXCEPTION) || (p->sub == SUB_ATTENDEE))) {
        p->sub = SUB_NONE;
        p->cur_ex = -1;
        p->cur_at = -1;
    } else if ((rd == 3u) && (p->sub == SUB_EX_LOCATION)) {
        p->sub = SUB_EXCEPTION;
    } else {
        /* end of an element that opened no container */
    }
}

int eas_cal_item_parser_event(eas_cal_item_parser_t *p, const eas_wbxml_event_t *ev)
{
    int err = EAS_ERR_PARAM;
    unsigned rd;

    if ((p == NULL) || (ev == NULL) || (p->item == NULL) ||
        ((ev->len > 0u) && (ev->data == NULL))) {
        goto out;
    }
    err = EAS_ERR_STATE;
    if (p->done) {
        goto out;
    }
    err = EAS_OK;
    if (p->base_depth == 0u) {
        if (ev->type != EAS_WBXML_EV_START) {
            goto out; /* nothing before the container matters */
        }
        p->base_depth = (ev->depth > 0u) ? ev->depth : 1u;
        goto out;
    }
    if (ev->depth < p->base_depth) {
        err = EAS_ERR_STATE;
        goto out;
    }
    rd = (unsigned)(ev->depth - p->base_depth);
    if (p->skip_depth != 0u) {
        if ((ev->type == EAS_WBXML_EV_END) && (ev->depth == p->skip_depth)) {
            p->skip_depth = 0u;
        }
        goto out;
    }
    switch (ev->type) {
    case EAS_WBXML_EV_START:
        if (p->leaf != 0u) {
            p->skip_depth = ev->depth; /* a value element with children: ignore them */
        } else {
            start_child(p, ev, rd);
        }
        break;
    case EAS_WBXML_EV_END:
        if ((p->leaf != 0u) && (ev->depth == p->leaf_depth)) {
            leaf_end(p);
            p->leaf = 0u;
        } else if (rd == 0u) {
            p->done = 1u;
        } else {
            end_child(p, rd);
        }
        break;
    case EAS_WBXML_EV_TEXT:
    case EAS_WBXML_EV_OPAQUE:
        if (p->leaf != 0u) {
            leaf_data(p, ev);
        }
        break;
    default:
        err = EAS_ERR_PARAM;
        break;
    }
out:
    return err;
}

int eas_cal_item_parser_cb(void *user, const eas_wbxml_event_t *ev)
{
    return eas_cal_item_parser_event((eas_cal_item_parser_t *)user, ev);
}

int eas_cal_item_parser_finish(eas_cal_item_parser_t *p)
{
    int err = EAS_ERR_PARAM;
    eas_cal_item_t *it;

    if ((p == NULL) || (p->item == NULL)) {
        goto out;
    }
    it = p->item;
    err = EAS_ERR_STATE;
    if (!p->done) {
        goto out;
    }
    if (((it->present & EAS_CAL_F_TIMEZONE) != 0u) && ((it->invalid & EAS_CAL_F_TIMEZONE) == 0u) &&
        !it->tz.unspecified) {
        it->tz_source = EAS_CAL_TZ_BLOB;
    } else if ((it->invalid & EAS_CAL_F_TIMEZONE) != 0u) {
        /* Never fall back silently: expansion reports EAS_ERR_CAL_TIMEZONE. */
        eas_cal_tz_utc(&it->tz);
        it->tz_source = EAS_CAL_TZ_NONE;
    } else if (p->device_tz != NULL) {
        it->tz = *p->device_tz;
        it->tz.unspecified = false;
        it->tz_source = EAS_CAL_TZ_DEVICE;
    } else {
        eas_cal_tz_utc(&it->tz);
        it->tz.unspecified = ((it->present & EAS_CAL_F_TIMEZONE) != 0u);
        it->tz_source =
            ((it->present & EAS_CAL_F_TIMEZONE) != 0u) ? EAS_CAL_TZ_ZERO_UTC : EAS_CAL_TZ_NONE;
    }
    /* Zone-less (16.x) times are wall-clock times in the item's zone, now that it is known. */
    if ((it->floating & EAS_CAL_F_START) != 0u) {
        it->start = eas_cal_tz_to_utc(&it->tz, it->start);
    }
    if ((it->floating & EAS_CAL_F_END) != 0u) {
        it->end = eas_cal_tz_to_utc(&it->tz, it->end);
    }
    for (size_t i = 0; i < it->exception_count && i < it->exception_cap; i++) {
        eas_cal_exception_t *ex = &it->exceptions[i];
        if ((ex->floating & EAS_CAL_F_START) != 0u) {
            ex->start = eas_cal_tz_to_utc(&it->tz, ex->start);
        }
        if ((ex->floating & EAS_CAL_F_END) != 0u) {
            ex->end = eas_cal_tz_to_utc(&it->tz, ex->end);
        }
        if ((ex->floating & EAS_CAL_F_EXCEPTION_START) != 0u) {
            ex->exception_start = eas_cal_tz_to_utc(&it->tz, ex->exception_start);
        }
    }
    err = EAS_OK;
out:
    return err;
}

#endif /* CONFIG_EAS_CALENDAR */
