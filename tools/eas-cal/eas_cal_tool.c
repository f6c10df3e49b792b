/* SPDX-License-Identifier: Apache-2.0 */
/*
 * eas-cal: expand one EAS calendar item.
 *
 *   eas-cal expand --from 2026-01-01T00:00:00Z --to 2027-01-01T00:00:00Z [--item N] [-v] [FILE]
 *
 * FILE (default stdin) is XML as `eas-wbxml decode` prints it: an ApplicationData element,
 * or a Sync/Add (any document) holding one; --item picks the N-th ApplicationData (1-based).
 * Element names are MS-ASWBXML's (libwbxml's Recurrence_Type etc. are accepted too);
 * namespaces are "Calendar:", "AirSyncBase:", ... as default or prefixed namespaces.
 * The XML is turned into the same decoder events the WBXML decoder produces and fed to
 * the core's item parser, so the tool exercises the production code path.
 *
 * Output: one line "START END" (UTC, YYYY-MM-DDTHH:MM:SSZ) per occurrence whose start lies
 * in [from, to), sorted by start. Exit status 0 on success, 1 on bad input, 2 on usage.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <expat.h>

#include "eas/eas_base64.h"
#include "eas/eas_cal.h"
#include "eas/eas_err.h"
#include "eas/eas_wbxml.h"
#include "hal/hal_log.h"

static bool g_verbose = false;

/* The tool links the core without a port: log lines go to stderr (warnings and worse
 * unless -v). Recurrence inference is logged at info level. */
static void tool_log(void *ctx, hal_log_level_t level, const char *module, const char *msg,
                     size_t len)
{
    (void)ctx;
    if (g_verbose || level <= HAL_LOG_WARN) {
        fprintf(stderr, "eas-cal: %s: %.*s\n", module, (int)len, msg);
    }
}

static const hal_log_t k_tool_log = {tool_log, NULL};

typedef struct name {
    uint8_t page;
    const char *name;
    uint16_t tag;
} name_t;

/* The elements the item parser reads, plus their containers; aliases from libwbxml. */
static const name_t k_names[] = {
    {EAS_PAGE_AIRSYNC, "ApplicationData", EAS_AIRSYNC_APPLICATION_DATA},
    {EAS_PAGE_CALENDAR, "Timezone", EAS_CALENDAR_TIMEZONE},
    {EAS_PAGE_CALENDAR, "TimeZone", EAS_CALENDAR_TIMEZONE},
    {EAS_PAGE_CALENDAR, "AllDayEvent", EAS_CALENDAR_ALL_DAY_EVENT},
    {EAS_PAGE_CALENDAR, "Attendees", EAS_CALENDAR_ATTENDEES},
    {EAS_PAGE_CALENDAR, "Attendee", EAS_CALENDAR_ATTENDEE},
    {EAS_PAGE_CALENDAR, "Email", EAS_CALENDAR_ATTENDEE_EMAIL},
    {EAS_PAGE_CALENDAR, "Attendee_Email", EAS_CALENDAR_ATTENDEE_EMAIL},
    {EAS_PAGE_CALENDAR, "Name", EAS_CALENDAR_ATTENDEE_NAME},
    {EAS_PAGE_CALENDAR, "Attendee_Name", EAS_CALENDAR_ATTENDEE_NAME},
    {EAS_PAGE_CALENDAR, "AttendeeStatus", EAS_CALENDAR_ATTENDEE_STATUS},
    {EAS_PAGE_CALENDAR, "AttendeeType", EAS_CALENDAR_ATTENDEE_TYPE},
    {EAS_PAGE_CALENDAR, "Body", EAS_CALENDAR_BODY},
    {EAS_PAGE_CALENDAR, "BusyStatus", EAS_CALENDAR_BUSY_STATUS},
    {EAS_PAGE_CALENDAR, "Categories", EAS_CALENDAR_CATEGORIES},
    {EAS_PAGE_CALENDAR, "DtStamp", EAS_CALENDAR_DT_STAMP},
    {EAS_PAGE_CALENDAR, "DTStamp", EAS_CALENDAR_DT_STAMP},
    {EAS_PAGE_CALENDAR, "EndTime", EAS_CALENDAR_END_TIME},
    {EAS_PAGE_CALENDAR, "Exception", EAS_CALENDAR_EXCEPTION},
    {EAS_PAGE_CALENDAR, "Exceptions", EAS_CALENDAR_EXCEPTIONS},
    {EAS_PAGE_CALENDAR, "Deleted", EAS_CALENDAR_DELETED},
    {EAS_PAGE_CALENDAR, "Exception_Deleted", EAS_CALENDAR_DELETED},
    {EAS_PAGE_CALENDAR, "ExceptionStartTime", EAS_CALENDAR_EXCEPTION_START_TIME},
    {EAS_PAGE_CALENDAR, "Exception_StartTime", EAS_CALENDAR_EXCEPTION_START_TIME},
    {EAS_PAGE_CALENDAR, "Location", EAS_CALENDAR_LOCATION},
    {EAS_PAGE_CALENDAR, "MeetingStatus", EAS_CALENDAR_MEETING_STATUS},
    {EAS_PAGE_CALENDAR, "OrganizerEmail", EAS_CALENDAR_ORGANIZER_EMAIL},
    {EAS_PAGE_CALENDAR, "Organizer_Email", EAS_CALENDAR_ORGANIZER_EMAIL},
    {EAS_PAGE_CALENDAR, "OrganizerName", EAS_CALENDAR_ORGANIZER_NAME},
    {EAS_PAGE_CALENDAR, "Organizer_Name", EAS_CALENDAR_ORGANIZER_NAME},
    {EAS_PAGE_CALENDAR, "Recurrence", EAS_CALENDAR_RECURRENCE},
    {EAS_PAGE_CALENDAR, "Type", EAS_CALENDAR_TYPE},
    {EAS_PAGE_CALENDAR, "Recurrence_Type", EAS_CALENDAR_TYPE},
    {EAS_PAGE_CALENDAR, "Until", EAS_CALENDAR_UNTIL},
    {EAS_PAGE_CALENDAR, "Recurrence_Until", EAS_CALENDAR_UNTIL},
    {EAS_PAGE_CALENDAR, "Occurrences", EAS_CALENDAR_OCCURRENCES},
    {EAS_PAGE_CALENDAR, "Recurrence_Occurrences", EAS_CALENDAR_OCCURRENCES},
    {EAS_PAGE_CALENDAR, "Interval", EAS_CALENDAR_INTERVAL},
    {EAS_PAGE_CALENDAR, "Recurrence_Interval", EAS_CALENDAR_INTERVAL},
    {EAS_PAGE_CALENDAR, "DayOfWeek", EAS_CALENDAR_DAY_OF_WEEK},
    {EAS_PAGE_CALENDAR, "Recurrence_DayOfWeek", EAS_CALENDAR_DAY_OF_WEEK},
    {EAS_PAGE_CALENDAR, "DayOfMonth", EAS_CALENDAR_DAY_OF_MONTH},
    {EAS_PAGE_CALENDAR, "Recurrence_DayOfMonth", EAS_CALENDAR_DAY_OF_MONTH},
    {EAS_PAGE_CALENDAR, "WeekOfMonth", EAS_CALENDAR_WEEK_OF_MONTH},
    {EAS_PAGE_CALENDAR, "Recurrence_WeekOfMonth", EAS_CALENDAR_WEEK_OF_MONTH},
    {EAS_PAGE_CALENDAR, "MonthOfYear", EAS_CALENDAR_MONTH_OF_YEAR},
    {EAS_PAGE_CALENDAR, "Recurrence_MonthOfYear", EAS_CALENDAR_MONTH_OF_YEAR},
    {EAS_PAGE_CALENDAR, "Reminder", EAS_CALENDAR_REMINDER},
    {EAS_PAGE_CALENDAR, "Sensitivity", EAS_CALENDAR_SENSITIVITY},
    {EAS_PAGE_CALENDAR, "Subject", EAS_CALENDAR_SUBJECT},
    {EAS_PAGE_CALENDAR, "StartTime", EAS_CALENDAR_START_TIME},
    {EAS_PAGE_CALENDAR, "UID", EAS_CALENDAR_UID},
    {EAS_PAGE_CALENDAR, "DisallowNewTimeProposal", EAS_CALENDAR_DISALLOW_NEW_TIME_PROPOSAL},
    {EAS_PAGE_CALENDAR, "ResponseRequested", EAS_CALENDAR_RESPONSE_REQUESTED},
    {EAS_PAGE_CALENDAR, "AppointmentReplyTime", EAS_CALENDAR_APPOINTMENT_REPLY_TIME},
    {EAS_PAGE_CALENDAR, "ResponseType", EAS_CALENDAR_RESPONSE_TYPE},
    {EAS_PAGE_CALENDAR, "CalendarType", EAS_CALENDAR_CALENDAR_TYPE},
    {EAS_PAGE_CALENDAR, "Recurrence_CalendarType", EAS_CALENDAR_CALENDAR_TYPE},
    {EAS_PAGE_CALENDAR, "IsLeapMonth", EAS_CALENDAR_IS_LEAP_MONTH},
    {EAS_PAGE_CALENDAR, "Recurrence_IsLeapMonth", EAS_CALENDAR_IS_LEAP_MONTH},
    {EAS_PAGE_CALENDAR, "FirstDayOfWeek", EAS_CALENDAR_FIRST_DAY_OF_WEEK},
    {EAS_PAGE_CALENDAR, "Recurrence_FirstDayOfWeek", EAS_CALENDAR_FIRST_DAY_OF_WEEK},
    {EAS_PAGE_AIRSYNCBASE, "Body", EAS_AIRSYNCBASE_BODY},
    {EAS_PAGE_AIRSYNCBASE, "Location", EAS_AIRSYNCBASE_LOCATION},
    {EAS_PAGE_AIRSYNCBASE, "DisplayName", EAS_AIRSYNCBASE_DISPLAY_NAME},
    {EAS_PAGE_AIRSYNCBASE, "InstanceId", EAS_AIRSYNCBASE_INSTANCE_ID},
};

/* Namespace URI ("Calendar:", "calendar", "AirSyncBase:") to code page; 0xFF unknown. */
static uint8_t page_of(const char *ns, size_t len)
{
    static const struct {
        const char *ns;
        uint8_t page;
    } k[] = {{"AirSync", EAS_PAGE_AIRSYNC},
             {"Calendar", EAS_PAGE_CALENDAR},
             {"AirSyncBase", EAS_PAGE_AIRSYNCBASE}};
    uint8_t page = 0xFFu;
    if (len > 0 && ns[len - 1] == ':') {
        len--;
    }
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) {
        if (strlen(k[i].ns) == len && strncasecmp(k[i].ns, ns, len) == 0) {
            page = k[i].page;
        }
    }
    return page;
}

/* Tag of an expat name ("URI|local" or "local"); unknown elements get token 0x3F of their
 * page, which the item parser skips with their subtree. */
static uint16_t tag_of(const char *qname)
{
    const char *bar = strchr(qname, '|');
    const char *local = (bar != NULL) ? bar + 1 : qname;
    uint8_t page = (bar != NULL) ? page_of(qname, (size_t)(bar - qname)) : 0xFEu;

    for (size_t i = 0; i < sizeof k_names / sizeof k_names[0]; i++) {
        /* without a namespace, Calendar names win, then AirSync, then AirSyncBase */
        if ((page == k_names[i].page || page == 0xFEu) && strcasecmp(k_names[i].name, local) == 0) {
            return k_names[i].tag;
        }
    }
    return EAS_TAG((page < EAS_PAGE_COUNT) ? page : 0x3Fu, 0x3Fu);
}

typedef struct tool {
    XML_Parser xp;
    eas_cal_item_parser_t parser;
    int want;          /* which ApplicationData (1-based) */
    int seen;          /* ApplicationData elements opened so far */
    uint16_t depth;    /* XML depth */
    uint16_t in_depth; /* depth of the ApplicationData being fed; 0 = not feeding */
    bool finished;
    bool opaque; /* element text is base64 of OPAQUE data (eas-wbxml's opaque="base64") */
    uint16_t cur_tag;
    char b64[8192];
    size_t b64_len;
    int err;
} tool_t;

static void feed(tool_t *t, eas_wbxml_ev_type_t type, uint16_t tag, const uint8_t *data, size_t len)
{
    eas_wbxml_event_t ev;
    int err;
    memset(&ev, 0, sizeof ev);
    ev.type = type;
    ev.tag = tag;
    ev.depth = t->depth;
    ev.has_content = true;
    ev.data = data;
    ev.len = len;
    ev.piece = EAS_WBXML_PIECE_FIRST | EAS_WBXML_PIECE_LAST;
    ev.total_len = (type == EAS_WBXML_EV_OPAQUE) ? (uint32_t)len : 0u;
    err = eas_cal_item_parser_event(&t->parser, &ev);
    if (err != EAS_OK && t->err == EAS_OK) {
        t->err = err;
        XML_StopParser(t->xp, XML_FALSE);
    }
}

static void XMLCALL on_start(void *user, const XML_Char *name, const XML_Char **attrs)
{
    tool_t *t = user;
    uint16_t tag = tag_of(name);
    t->depth++;
    if (t->in_depth == 0 && !t->finished && tag == EAS_AIRSYNC_APPLICATION_DATA) {
        t->seen++;
        if (t->seen == t->want) {
            t->in_depth = t->depth;
        }
    }
    if (t->in_depth != 0) {
        t->opaque = false;
        for (size_t i = 0; attrs[i] != NULL; i += 2) {
            if (strcmp(attrs[i], "opaque") == 0 && strcmp(attrs[i + 1], "base64") == 0) {
                t->opaque = true;
            }
        }
        t->cur_tag = tag;
        t->b64_len = 0;
        feed(t, EAS_WBXML_EV_START, tag, NULL, 0);
    }
}

static void XMLCALL on_end(void *user, const XML_Char *name)
{
    tool_t *t = user;
    uint16_t tag = tag_of(name);
    if (t->in_depth != 0) {
        if (t->opaque) {
            uint8_t bin[6144];
            size_t n = 0;
            if (eas_base64_decode(t->b64, t->b64_len, bin, sizeof bin, &n) != EAS_OK) {
                fprintf(stderr, "eas-cal: bad base64 in opaque element\n");
                t->err = EAS_ERR_FORMAT;
                XML_StopParser(t->xp, XML_FALSE);
                return;
            }
            feed(t, EAS_WBXML_EV_OPAQUE, tag, bin, n);
            t->opaque = false;
        }
        feed(t, EAS_WBXML_EV_END, tag, NULL, 0);
        if (t->depth == t->in_depth) {
            t->in_depth = 0;
            t->finished = true;
        }
    }
    t->depth--;
}

static void XMLCALL on_text(void *user, const XML_Char *s, int len)
{
    tool_t *t = user;
    if (t->in_depth == 0 || len <= 0) {
        return;
    }
    if (t->opaque) {
        if (t->b64_len + (size_t)len > sizeof t->b64) {
            t->err = EAS_ERR_LIMIT;
            XML_StopParser(t->xp, XML_FALSE);
            return;
        }
        memcpy(t->b64 + t->b64_len, s, (size_t)len);
        t->b64_len += (size_t)len;
    } else {
        feed(t, EAS_WBXML_EV_TEXT, t->cur_tag, (const uint8_t *)s, (size_t)len);
    }
}

static int print_occ(void *user, const eas_cal_occurrence_t *occ)
{
    char s[32];
    char e[32];
    (void)user;
    if (eas_cal_format_time(occ->start, EAS_CAL_FMT_ISO, s, sizeof s) != EAS_OK ||
        eas_cal_format_time(occ->end, EAS_CAL_FMT_ISO, e, sizeof e) != EAS_OK) {
        return EAS_ERR_CAL_TIME;
    }
    if (g_verbose) {
        printf("%s %s%s%s #%u\n", s, e, (occ->flags & EAS_CAL_OCC_ALL_DAY) ? " all-day" : "",
               (occ->flags & EAS_CAL_OCC_EXCEPTION) ? " exception" : "", (unsigned)occ->index);
    } else {
        printf("%s %s\n", s, e);
    }
    return EAS_OK;
}

static int usage(void)
{
    fprintf(stderr, "usage: eas-cal expand --from YYYY-MM-DDTHH:MM:SSZ --to YYYY-MM-DDTHH:MM:SSZ "
                    "[--item N] [-v] [FILE]\n");
    return 2;
}

static tool_t g_tool;
static eas_cal_exception_t g_ex[1024];
static eas_cal_attendee_t g_at[64];
static eas_cal_item_t g_item;

int main(int argc, char **argv)
{
    const char *from_s = NULL;
    const char *to_s = NULL;
    const char *path = NULL;
    int64_t from = 0;
    int64_t to = 0;
    FILE *f = stdin;
    tool_t *t = &g_tool;
    int rc = 1;

    if (argc < 2 || strcmp(argv[1], "expand") != 0) {
        return usage();
    }
    t->want = 1;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--from") == 0 && i + 1 < argc) {
            from_s = argv[++i];
        } else if (strcmp(argv[i], "--to") == 0 && i + 1 < argc) {
            to_s = argv[++i];
        } else if (strcmp(argv[i], "--item") == 0 && i + 1 < argc) {
            t->want = atoi(argv[++i]);
        } else if (strcmp(argv[i], "-v") == 0) {
            g_verbose = true;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            return usage();
        } else if (path == NULL) {
            path = argv[i];
        } else {
            return usage();
        }
    }
    if (from_s == NULL || to_s == NULL || t->want < 1) {
        return usage();
    }
    if (eas_cal_parse_time(from_s, strlen(from_s), &from) != EAS_OK ||
        eas_cal_parse_time(to_s, strlen(to_s), &to) != EAS_OK || from > to) {
        fprintf(stderr, "eas-cal: --from/--to must be YYYY-MM-DDTHH:MM:SSZ with from <= to\n");
        return 2;
    }
    if (path != NULL && strcmp(path, "-") != 0) {
        f = fopen(path, "rb");
        if (f == NULL) {
            fprintf(stderr, "eas-cal: cannot open %s\n", path);
            return 1;
        }
    }
    eas_cal_item_init(&g_item, g_ex, (uint16_t)(sizeof g_ex / sizeof g_ex[0]), g_at,
                      (uint16_t)(sizeof g_at / sizeof g_at[0]));
    g_item.log = &k_tool_log;
    eas_cal_item_parser_init(&t->parser, &g_item, NULL);
    t->xp = XML_ParserCreateNS(NULL, '|');
    if (t->xp == NULL) {
        fprintf(stderr, "eas-cal: out of memory\n");
        goto done;
    }
    XML_SetUserData(t->xp, t);
    XML_SetElementHandler(t->xp, on_start, on_end);
    XML_SetCharacterDataHandler(t->xp, on_text);
    for (;;) {
        char buf[4096];
        size_t n = fread(buf, 1, sizeof buf, f);
        int last = (n < sizeof buf);
        if (XML_Parse(t->xp, buf, (int)n, last) == XML_STATUS_ERROR) {
            if (t->err != EAS_OK) {
                fprintf(stderr, "eas-cal: item: %s\n", eas_strerror(t->err));
            } else {
                fprintf(stderr, "eas-cal: XML error at line %lu: %s\n",
                        (unsigned long)XML_GetCurrentLineNumber(t->xp),
                        XML_ErrorString(XML_GetErrorCode(t->xp)));
            }
            goto done;
        }
        if (last) {
            break;
        }
    }
    if (!t->finished) {
        fprintf(stderr, "eas-cal: no ApplicationData element number %d in the input\n", t->want);
        goto done;
    }
    int err = eas_cal_item_parser_finish(&t->parser);
    if (err == EAS_OK) {
        err = eas_cal_expand(&g_item, from, to, print_occ, NULL);
    }
    if (err != EAS_OK) {
        fprintf(stderr, "eas-cal: %s (%s)\n", eas_strerror(err), eas_err_name(err));
        goto done;
    }
    rc = 0;
done:
    if (t->xp != NULL) {
        XML_ParserFree(t->xp);
    }
    if (f != stdin) {
        fclose(f);
    }
    return rc;
}
