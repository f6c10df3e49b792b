/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file eas_cal.h
 * @brief Calendar items (MS-ASCAL), time zones (MS-ASDTYPE) and recurrence expansion with
 *        Outlook/Exchange semantics.
 *
 * A pure library: no I/O, no allocation, no clock. Times are `int64_t` seconds since
 * 1970-01-01T00:00:00Z (UTC); "local" times are the same count read on the wall clock of a
 * zone (local seconds since the local epoch), so civil arithmetic is plain integer math.
 *
 * ## Collecting an item
 * The caller owns the item and the arrays for its exceptions and attendees. Decoder events
 * of one `ApplicationData` subtree are fed to the item parser:
 * @code
 * eas_cal_exception_t ex[16]; eas_cal_attendee_t at[8];
 * eas_cal_item_t item; eas_cal_item_parser_t p;
 * eas_cal_item_init(&item, ex, 16, at, 8);
 * eas_cal_item_parser_init(&p, &item, device_tz_or_NULL);
 * // for every decoder event inside (and including) ApplicationData:
 * err = eas_cal_item_parser_event(&p, ev);       // or use eas_cal_item_parser_cb
 * err = eas_cal_item_parser_finish(&p);
 * @endcode
 * Malformed values do not stop the parse (a Sync response holds many items): they are
 * recorded in `invalid` masks and reported by eas_cal_expand() / eas_cal_item_check().
 *
 * ## Expanding
 * eas_cal_expand() calls back once per occurrence whose start lies in [from, to), in
 * ascending start order, following Outlook: day 29/30/31 falls on the last day of shorter
 * months, WeekOfMonth 5 is the last, DayOfWeek 127 with WeekOfMonth 5 is the last day of the
 * month, the pattern runs on the local wall clock of the item's zone (09:00 stays 09:00
 * across DST), Occurrences wins over Until and counts from the series start, Until is a
 * local *date* (every occurrence on that day is included), deleted exceptions are removed
 * and modified ones replaced by their own times. See docs/calendar.md for every rule.
 */
#ifndef EAS_CAL_H
#define EAS_CAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "eas/eas_wbxml.h"
#include "hal/hal_log.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------------------- */
/* Civil time                                                                            */
/* ------------------------------------------------------------------------------------- */

/** Earliest and latest instants accepted anywhere (1601-01-01 .. 9999-12-31T23:59:59Z). */
#define EAS_CAL_TIME_MIN (-11644473600LL)
#define EAS_CAL_TIME_MAX (253402300799LL)

/** A broken-down civil time (proleptic Gregorian). */
typedef struct eas_cal_civil {
    int32_t year;   /**< 1601 .. 9999 */
    uint8_t month;  /**< 1 .. 12 */
    uint8_t day;    /**< 1 .. 31 */
    uint8_t hour;   /**< 0 .. 23 */
    uint8_t minute; /**< 0 .. 59 */
    uint8_t second; /**< 0 .. 59 */
    uint8_t wday;   /**< 0 = Sunday .. 6 = Saturday (output only) */
} eas_cal_civil_t;

/** @brief Days since 1970-01-01 of a civil date (any year; month 1..12, day 1..31). */
int64_t eas_cal_days_from_civil(int64_t year, unsigned month, unsigned day);

/** @brief Civil date and time of @p t (seconds since the epoch, any value in range). */
void eas_cal_civil_from_time(int64_t t, eas_cal_civil_t *out);

/**
 * @brief Seconds since the epoch of a civil time.
 * @return EAS_OK or EAS_ERR_CAL_TIME when a field is out of range (Feb 30, hour 24, ...).
 */
int eas_cal_time_from_civil(const eas_cal_civil_t *c, int64_t *t);

/** @brief Days in @p month of @p year. */
unsigned eas_cal_days_in_month(int64_t year, unsigned month);

/**
 * @brief Parse an EAS date/time: compact `20261129T090000Z` (MS-ASDTYPE 2.7.2) or
 *        `2026-11-29T09:00:00.000Z` (2.7.1; the fraction is optional and ignored).
 *        Surrounding ASCII whitespace is ignored; the `Z` is required.
 * @return EAS_OK, EAS_ERR_PARAM or EAS_ERR_CAL_TIME.
 */
int eas_cal_parse_time(const char *s, size_t len, int64_t *t);

/** Formats of eas_cal_format_time(). */
typedef enum eas_cal_time_fmt {
    EAS_CAL_FMT_ISO = 0, /**< 2026-11-29T09:00:00Z (20 chars) */
    EAS_CAL_FMT_COMPACT, /**< 20261129T090000Z (16 chars) */
    EAS_CAL_FMT_EAS      /**< 2026-11-29T09:00:00.000Z (24 chars) */
} eas_cal_time_fmt_t;

/**
 * @brief Write @p t as NUL-terminated text.
 * @return EAS_OK, EAS_ERR_CAL_TIME (out of range) or EAS_ERR_NOMEM (@p cap too small).
 */
int eas_cal_format_time(int64_t t, eas_cal_time_fmt_t fmt, char *buf, size_t cap);

/* ------------------------------------------------------------------------------------- */
/* Time zones                                                                            */
/* ------------------------------------------------------------------------------------- */

/** Size of the TimeZone blob (MS-ASDTYPE 2.7.6) and of its base64 text. */
#define EAS_CAL_TZ_BLOB_LEN   172u
#define EAS_CAL_TZ_BASE64_LEN 232u

/** A transition rule: a SYSTEMTIME as the blob carries it. */
typedef struct eas_cal_tz_rule {
    uint16_t year;        /**< 0: recurring "n-th weekday" rule; else absolute date */
    uint16_t month;       /**< 1..12; 0 = no transition (no DST) */
    uint16_t day_of_week; /**< 0 = Sunday .. 6 (recurring rules) */
    uint16_t day;         /**< recurring: 1..5, 5 = last; absolute: day of month */
    uint16_t hour;
    uint16_t minute;
    uint16_t second;
    uint16_t millisecond;
} eas_cal_tz_rule_t;

/** A decoded time zone. UTC = local + bias (minutes), as in the blob. */
typedef struct eas_cal_tz {
    int32_t bias;                    /**< minutes, e.g. -60 for Europe/Berlin, 300 for New York */
    int32_t standard_bias;           /**< added to bias during standard time (usually 0) */
    int32_t daylight_bias;           /**< added to bias during daylight time (usually -60) */
    eas_cal_tz_rule_t standard_date; /**< when daylight time ends (local daylight time) */
    eas_cal_tz_rule_t daylight_date; /**< when daylight time starts (local standard time) */
    bool has_dst;                    /**< both rules present */
    bool unspecified;                /**< the blob was all zero (UTC unless replaced) */
} eas_cal_tz_t;

/** @brief A UTC zone. */
void eas_cal_tz_utc(eas_cal_tz_t *tz);

/**
 * @brief Decode the 172-byte blob. An all-zero blob yields UTC with `unspecified` set.
 * @return EAS_OK, EAS_ERR_PARAM, or EAS_ERR_CAL_TIMEZONE (wrong length, a bias beyond
 *         ±16 h, a rule with an impossible month/day/weekday/time, only one of two rules).
 */
int eas_cal_tz_parse(const uint8_t *blob, size_t len, eas_cal_tz_t *tz);

/**
 * @brief Decode the base64 text of a TimeZone element; optionally keep the raw bytes
 *        (@p raw, EAS_CAL_TZ_BLOB_LEN bytes, may be NULL) to send back byte-identical.
 * @return as eas_cal_tz_parse(); malformed base64 is EAS_ERR_CAL_TIMEZONE.
 */
int eas_cal_tz_parse_base64(const char *text, size_t len, eas_cal_tz_t *tz, uint8_t *raw);

/**
 * @brief Encode a zone as a blob (names left empty). Useful for devices that create items.
 * @return EAS_OK or EAS_ERR_PARAM.
 */
int eas_cal_tz_encode(const eas_cal_tz_t *tz, uint8_t blob[EAS_CAL_TZ_BLOB_LEN]);

/** @brief Offset of local time from UTC at instant @p utc, in seconds (east positive). */
int32_t eas_cal_tz_offset(const eas_cal_tz_t *tz, int64_t utc);

/** @brief Local wall-clock time of @p utc. */
int64_t eas_cal_tz_to_local(const eas_cal_tz_t *tz, int64_t utc);

/**
 * @brief UTC of a local wall-clock time. A time skipped by a spring-forward transition is
 *        read with the offset before the transition (02:30 becomes 03:30 daylight time); a
 *        time that occurs twice at fall-back is the first of the two — as RFC 5545 and
 *        Windows do.
 */
int64_t eas_cal_tz_to_utc(const eas_cal_tz_t *tz, int64_t local);

/* ------------------------------------------------------------------------------------- */
/* Item model                                                                            */
/* ------------------------------------------------------------------------------------- */

/** Fixed text capacities (bytes including the NUL). Longer text is cut on a UTF-8
 *  boundary and its `truncated` bit set. */
#define EAS_CAL_SUBJECT_MAX     256u
#define EAS_CAL_LOCATION_MAX    256u
#define EAS_CAL_UID_MAX         320u
#define EAS_CAL_NAME_MAX        128u
#define EAS_CAL_EMAIL_MAX       256u
#define EAS_CAL_EX_SUBJECT_MAX  128u
#define EAS_CAL_EX_LOCATION_MAX 128u

/** Recurrence Type values (MS-ASCAL 2.2.2.45). 4 does not exist. */
typedef enum eas_cal_recur_type {
    EAS_CAL_RECUR_DAILY = 0,
    EAS_CAL_RECUR_WEEKLY = 1,
    EAS_CAL_RECUR_MONTHLY = 2,     /**< on day DayOfMonth */
    EAS_CAL_RECUR_MONTHLY_NTH = 3, /**< on the WeekOfMonth-th DayOfWeek */
    EAS_CAL_RECUR_YEARLY = 5,      /**< on DayOfMonth of MonthOfYear */
    EAS_CAL_RECUR_YEARLY_NTH = 6   /**< on the WeekOfMonth-th DayOfWeek of MonthOfYear */
} eas_cal_recur_type_t;

/** DayOfWeek bits. */
#define EAS_CAL_DOW_SUNDAY    0x01u
#define EAS_CAL_DOW_MONDAY    0x02u
#define EAS_CAL_DOW_TUESDAY   0x04u
#define EAS_CAL_DOW_WEDNESDAY 0x08u
#define EAS_CAL_DOW_THURSDAY  0x10u
#define EAS_CAL_DOW_FRIDAY    0x20u
#define EAS_CAL_DOW_SATURDAY  0x40u
#define EAS_CAL_DOW_WEEKDAYS  62u  /**< Monday .. Friday */
#define EAS_CAL_DOW_WEEKEND   65u  /**< Saturday and Sunday */
#define EAS_CAL_DOW_ANY_DAY   127u /**< any day ("last day" with WeekOfMonth 5) */

/** Recurrence field bits (`present`, `invalid`, and the rule's `inferred`/`ignored`). */
#define EAS_CAL_RF_TYPE              0x0001u
#define EAS_CAL_RF_INTERVAL          0x0002u
#define EAS_CAL_RF_OCCURRENCES       0x0004u
#define EAS_CAL_RF_UNTIL             0x0008u
#define EAS_CAL_RF_DAY_OF_WEEK       0x0010u
#define EAS_CAL_RF_DAY_OF_MONTH      0x0020u
#define EAS_CAL_RF_WEEK_OF_MONTH     0x0040u
#define EAS_CAL_RF_MONTH_OF_YEAR     0x0080u
#define EAS_CAL_RF_FIRST_DAY_OF_WEEK 0x0100u
#define EAS_CAL_RF_CALENDAR_TYPE     0x0200u
#define EAS_CAL_RF_IS_LEAP_MONTH     0x0400u

/** The Recurrence element as received (values valid where `present` is set). */
typedef struct eas_cal_recurrence {
    int64_t until;        /**< UTC */
    uint32_t interval;    /**< as received; 0 is invalid */
    uint32_t occurrences; /**< as received */
    uint16_t present;     /**< EAS_CAL_RF_* received */
    uint16_t invalid;     /**< EAS_CAL_RF_* received but not a valid number/date */
    uint8_t type;
    uint8_t day_of_week; /**< mask; Type 0: the days that count (127 when absent) */
    uint8_t day_of_month;
    uint8_t week_of_month;
    uint8_t month_of_year;
    uint8_t first_day_of_week;
    uint8_t calendar_type;
    uint8_t is_leap_month;
} eas_cal_recurrence_t;

/** Item / exception field bits (`present`, `invalid`). */
#define EAS_CAL_F_START              0x00000001u
#define EAS_CAL_F_END                0x00000002u
#define EAS_CAL_F_ALL_DAY            0x00000004u
#define EAS_CAL_F_TIMEZONE           0x00000008u
#define EAS_CAL_F_RECURRENCE         0x00000010u
#define EAS_CAL_F_REMINDER           0x00000020u
#define EAS_CAL_F_BUSY_STATUS        0x00000040u
#define EAS_CAL_F_MEETING_STATUS     0x00000080u
#define EAS_CAL_F_RESPONSE_TYPE      0x00000100u
#define EAS_CAL_F_SENSITIVITY        0x00000200u
#define EAS_CAL_F_DTSTAMP            0x00000400u
#define EAS_CAL_F_SUBJECT            0x00000800u
#define EAS_CAL_F_LOCATION           0x00001000u
#define EAS_CAL_F_UID                0x00002000u
#define EAS_CAL_F_ORGANIZER_NAME     0x00004000u
#define EAS_CAL_F_ORGANIZER_EMAIL    0x00008000u
#define EAS_CAL_F_RESPONSE_REQUESTED 0x00010000u
#define EAS_CAL_F_REPLY_TIME         0x00020000u
#define EAS_CAL_F_DISALLOW_NEW_TIME  0x00040000u
#define EAS_CAL_F_EXCEPTIONS         0x00080000u
#define EAS_CAL_F_ATTENDEES          0x00100000u
#define EAS_CAL_F_DELETED            0x00200000u /**< exceptions only */
#define EAS_CAL_F_EXCEPTION_START    0x00400000u /**< exceptions only */

/** Where the item's zone came from. */
typedef enum eas_cal_tz_source {
    EAS_CAL_TZ_NONE = 0, /**< no TimeZone element and no device zone: UTC */
    EAS_CAL_TZ_BLOB,     /**< the item's blob */
    EAS_CAL_TZ_DEVICE,   /**< blob absent or all zero: the device zone given to the parser */
    EAS_CAL_TZ_ZERO_UTC  /**< blob all zero and no device zone: UTC */
} eas_cal_tz_source_t;

/** One Exception (a deleted or modified occurrence). */
typedef struct eas_cal_exception {
    int64_t exception_start; /**< original start of the replaced occurrence (UTC) */
    int64_t start;           /**< new start (if EAS_CAL_F_START) */
    int64_t end;             /**< new end (if EAS_CAL_F_END) */
    uint32_t present;        /**< EAS_CAL_F_* */
    uint32_t invalid;        /**< EAS_CAL_F_* with malformed values */
    uint32_t floating;       /**< EAS_CAL_F_* times sent without a zone (16.x), see the item */
    uint32_t reminder;       /**< minutes */
    uint8_t deleted;
    uint8_t all_day;
    uint8_t busy_status;
    uint8_t meeting_status;
    uint8_t response_type;
    uint8_t sensitivity;
    uint8_t truncated; /**< EAS_CAL_F_SUBJECT / EAS_CAL_F_LOCATION bits (low byte) */
    char subject[EAS_CAL_EX_SUBJECT_MAX];
    char location[EAS_CAL_EX_LOCATION_MAX];
} eas_cal_exception_t;

/** One attendee of the master item. */
typedef struct eas_cal_attendee {
    char email[EAS_CAL_EMAIL_MAX];
    char name[EAS_CAL_NAME_MAX];
    uint8_t status;    /**< AttendeeStatus (0 unknown, 2 tentative, 3 accept, 4 decline, 5 none) */
    uint8_t type;      /**< AttendeeType (1 required, 2 optional, 3 resource) */
    uint8_t truncated; /**< 1: email, 2: name */
    uint8_t invalid;   /**< 1: status, 2: type */
} eas_cal_attendee_t;

/** A calendar item. Exceptions and attendees live in caller-supplied arrays. */
typedef struct eas_cal_item {
    int64_t start;      /**< UTC */
    int64_t end;        /**< UTC */
    int64_t dtstamp;    /**< UTC */
    int64_t reply_time; /**< AppointmentReplyTime, UTC */
    uint32_t present;   /**< EAS_CAL_F_* received */
    uint32_t invalid;   /**< EAS_CAL_F_* received with a malformed value */
    uint32_t truncated; /**< EAS_CAL_F_* text fields cut to their capacity */
    /** EAS_CAL_F_* times that arrived without a zone ("2026-06-01T00:00:00.000", as EAS
        16.x sends an all-day event's StartTime/EndTime): read as wall-clock time in the
        item's zone (the TimeZone element, else the device zone) and converted to UTC by
        eas_cal_item_parser_finish(), so a 16.x all-day event starts at local midnight. */
    uint32_t floating;
    uint32_t reminder;  /**< minutes before start */
    uint8_t all_day;
    uint8_t busy_status;    /**< 0 free, 1 tentative, 2 busy, 3 OOF, 4 elsewhere */
    uint8_t sensitivity;    /**< 0 normal .. 3 confidential */
    uint8_t meeting_status; /**< MS-ASCAL MeetingStatus */
    uint8_t response_type;  /**< MS-ASCAL ResponseType */
    uint8_t response_requested;
    uint8_t disallow_new_time;
    uint8_t tz_source;                    /**< eas_cal_tz_source_t */
    eas_cal_tz_t tz;                      /**< the zone recurrence runs in */
    uint8_t tz_blob[EAS_CAL_TZ_BLOB_LEN]; /**< the blob as received (send back as is) */
    eas_cal_recurrence_t recurrence;      /**< if EAS_CAL_F_RECURRENCE */
    char subject[EAS_CAL_SUBJECT_MAX];
    char location[EAS_CAL_LOCATION_MAX];
    char uid[EAS_CAL_UID_MAX];
    char organizer_name[EAS_CAL_NAME_MAX];
    char organizer_email[EAS_CAL_EMAIL_MAX];
    eas_cal_exception_t *exceptions; /**< caller array */
    eas_cal_attendee_t *attendees;   /**< caller array */
    uint16_t exception_cap;
    uint16_t exception_count; /**< stored */
    uint16_t exceptions_lost; /**< received beyond the capacity (expansion refuses) */
    uint16_t attendee_cap;
    uint16_t attendee_count;
    uint16_t attendees_lost;
    /** Log sink for what the calendar code rejects, infers or ignores (hal_log.h), or NULL
        for none. eas_cal_item_init() clears it; the engine sets its own. */
    const hal_log_t *log;
} eas_cal_item_t;

/**
 * @brief Empty an item and attach its arrays (either may be NULL with capacity 0).
 */
void eas_cal_item_init(eas_cal_item_t *item, eas_cal_exception_t *exceptions,
                       uint16_t exception_cap, eas_cal_attendee_t *attendees,
                       uint16_t attendee_cap);

/**
 * @brief Validate what eas_cal_expand() needs: StartTime present and valid, EndTime not
 *        before it, a valid zone, a recurrence that can be resolved, exception times valid,
 *        no exceptions lost.
 * @return EAS_OK, EAS_ERR_CAL_TIME, EAS_ERR_CAL_TIMEZONE, EAS_ERR_CAL_RECURRENCE,
 *         EAS_ERR_CAL_CALENDAR_TYPE or EAS_ERR_LIMIT (exceptions lost).
 */
int eas_cal_item_check(const eas_cal_item_t *item);

/* ------------------------------------------------------------------------------------- */
/* Item parser (collector of decoder events)                                             */
/* ------------------------------------------------------------------------------------- */

/** Size of the parser's value buffer (fits the 232-character TimeZone text). */
#define EAS_CAL_PARSER_BUF 256u

/** Parser state. Treat as opaque. */
typedef struct eas_cal_item_parser {
    eas_cal_item_t *item;
    const eas_cal_tz_t *device_tz;
    uint16_t base_depth; /**< depth of the container element; 0 before it */
    uint16_t skip_depth; /**< skipping an unknown subtree opened at this depth; 0 = not */
    uint16_t leaf;       /**< element whose value is being collected; 0 = none */
    uint16_t leaf_depth;
    uint8_t ctx;      /**< which container the current element is in */
    uint8_t sub;      /**< nested container (Exception/Attendee/Location) */
    uint8_t done;     /**< container closed */
    uint8_t overflow; /**< value longer than its destination */
    uint8_t opaque;   /**< value arrived as OPAQUE */
    uint8_t pad_;
    uint16_t len;   /**< bytes in buf or in the destination string */
    int16_t cur_ex; /**< exception being filled; -1 = dropped */
    int16_t cur_at; /**< attendee being filled; -1 = dropped */
    uint8_t buf[EAS_CAL_PARSER_BUF];
} eas_cal_item_parser_t;

/**
 * @brief Start collecting into @p item (already initialised with eas_cal_item_init()).
 * @param device_tz zone used when the item has no TimeZone or an all-zero one; NULL: UTC.
 *        Must stay valid until eas_cal_item_parser_finish().
 */
void eas_cal_item_parser_init(eas_cal_item_parser_t *p, eas_cal_item_t *item,
                              const eas_cal_tz_t *device_tz);

/**
 * @brief Feed one decoder event. The first START is the container (normally
 *        AirSync:ApplicationData); its END completes the item. Unknown elements are skipped.
 * @return EAS_OK; EAS_ERR_PARAM; EAS_ERR_STATE for events after the container closed or
 *         unbalanced END events. Malformed *values* are not errors here (see `invalid`).
 */
int eas_cal_item_parser_event(eas_cal_item_parser_t *p, const eas_wbxml_event_t *ev);

/** @brief eas_cal_item_parser_event() with the decoder callback's signature. */
int eas_cal_item_parser_cb(void *user, const eas_wbxml_event_t *ev);

/**
 * @brief Finish: resolves the zone (blob, device zone or UTC).
 * @return EAS_OK, or EAS_ERR_STATE when the container was never closed.
 */
int eas_cal_item_parser_finish(eas_cal_item_parser_t *p);

/* ------------------------------------------------------------------------------------- */
/* Recurrence                                                                            */
/* ------------------------------------------------------------------------------------- */

/** A recurrence resolved for expansion: defaults applied, missing fields inferred. */
typedef struct eas_cal_rule {
    /** Last local day (days since epoch) whose occurrence start is at or before Until
     *  (all-day items: also Until's UTC date), or INT64_MAX. */
    int64_t until_day;
    uint32_t interval;    /**< >= 1 */
    uint32_t occurrences; /**< 0 = unbounded by count */
    uint16_t inferred;    /**< EAS_CAL_RF_* filled in from the series start */
    uint16_t ignored;     /**< EAS_CAL_RF_* present but not used by this Type */
    uint8_t type;
    uint8_t day_of_week; /**< mask; Type 0: the days that count (127 when absent) */
    uint8_t day_of_month;
    uint8_t week_of_month;
    uint8_t month_of_year;
    uint8_t first_day_of_week;
} eas_cal_rule_t;

/**
 * @brief Resolve the item's Recurrence into a rule. Type 2/5 without DayOfMonth take the
 *        start's local day (and month); Type 1 without DayOfWeek the start's weekday; Type
 *        3/6 without WeekOfMonth/DayOfWeek the start's position; Type 0 with DayOfWeek
 *        keeps only those days (62 = weekdays); fields the Type does not use are ignored.
 *        Until is an instant compared with each occurrence's start (inclusive). Each
 *        inference and each ignored field is logged.
 * @return EAS_OK, EAS_ERR_PARAM (no recurrence), EAS_ERR_CAL_RECURRENCE (Type missing or
 *         unknown, Interval 0, a value out of range), EAS_ERR_CAL_CALENDAR_TYPE (a
 *         non-Gregorian CalendarType: Hijri, Hebrew, lunar calendars, unknown values).
 */
int eas_cal_rule_resolve(const eas_cal_item_t *item, eas_cal_rule_t *rule);

/** Occurrence flags. */
#define EAS_CAL_OCC_EXCEPTION 0x01u /**< replaced by a modified Exception */
#define EAS_CAL_OCC_ALL_DAY   0x02u
#define EAS_CAL_OCC_RECURRING 0x04u /**< part of a series */

/** One occurrence, as delivered to the callback. */
typedef struct eas_cal_occurrence {
    int64_t start;          /**< UTC */
    int64_t end;            /**< UTC */
    int64_t original_start; /**< the pattern's start for this instance (UTC) */
    uint32_t index;         /**< 0-based position in the series */
    int16_t exception;      /**< index into item->exceptions, or -1 */
    uint8_t flags;          /**< EAS_CAL_OCC_* */
} eas_cal_occurrence_t;

/** Callback return value that ends the expansion early without an error. */
#define EAS_CAL_STOP 1

/**
 * Occurrence callback: return EAS_OK to continue, EAS_CAL_STOP to stop (eas_cal_expand()
 * then returns EAS_OK) or a negative error (returned unchanged).
 */
typedef int (*eas_cal_occurrence_cb_t)(void *user, const eas_cal_occurrence_t *occ);

/**
 * @brief Deliver every occurrence of @p item whose start lies in [@p from, @p to), in
 *        ascending start order. A non-recurring item yields at most one occurrence.
 *
 * Work is bounded: the pattern skips ahead arithmetically to the window, at most
 * CONFIG_EAS_CAL_MAX_ITERATIONS candidate days are examined and at most
 * CONFIG_EAS_CAL_MAX_OCCURRENCES occurrences delivered per call. No heap, no globals.
 *
 * @return EAS_OK; EAS_ERR_PARAM; the errors of eas_cal_item_check();
 *         EAS_ERR_LIMIT after delivering CONFIG_EAS_CAL_MAX_OCCURRENCES (call again from
 *         the last start + 1 for more) or when the item has more exceptions than
 *         CONFIG_EAS_CAL_MAX_EXCEPTIONS; EAS_ERR_CAL_ITERATIONS when the step cap was hit;
 *         or the callback's error.
 */
int eas_cal_expand(const eas_cal_item_t *item, int64_t from, int64_t to, eas_cal_occurrence_cb_t cb,
                   void *user);

#ifdef __cplusplus
}
#endif

#endif /* EAS_CAL_H */
