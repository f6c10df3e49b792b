/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE
/* The daemon's pieces without a server: the configuration parser, item records, the
 * index and its journal, EAS -> iCalendar -> EAS fields, and vCard both ways. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "easd.h"

static char g_dir[256];

static int setup(void **state)
{
    (void)state;
    snprintf(g_dir, sizeof(g_dir), "/tmp/easd-unit-XXXXXX");
    return mkdtemp(g_dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", g_dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void write_text(const char *name, const char *text)
{
    char p[512];
    snprintf(p, sizeof(p), "%s/%s", g_dir, name);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int load(const char *text, easd_config_t *cfg, char *err, size_t cap)
{
    char p[512];
    write_text("t.conf", text);
    snprintf(p, sizeof(p), "%s/t.conf", g_dir);
    return easd_config_load(p, cfg, err, cap);
}

/* ------------------------------------------------------------------------------------- */

static void config_good_and_defaults(void **state)
{
    (void)state;
    static easd_config_t cfg;
    char err[600] = "";
    int rc = load("# comment\n\n  server = https://h/Microsoft-Server-ActiveSync  \n"
                  "address = a@b.example\npassword_file = pw\nstate_dir = st\n"
                  "store_dir = /abs/store\nclasses = Calendar ,contacts\nbody_type = mime\n"
                  "heartbeat_max = 60\nlog_level = debug\nlog = journal\n"
                  "device_model = Acme Panel 7\ndevice_name = Kitchen panel\n",
                  &cfg, err, sizeof(err));
    assert_int_equal(rc, 0);
    assert_string_equal(cfg.server, "https://h/Microsoft-Server-ActiveSync");
    assert_string_equal(cfg.user, "a@b.example"); /* defaults to the address */
    char want[600];
    snprintf(want, sizeof(want), "%s/pw", g_dir);
    assert_string_equal(cfg.password_file, want); /* relative to the file */
    snprintf(want, sizeof(want), "%s/st", g_dir);
    assert_string_equal(cfg.state_dir, want);
    assert_string_equal(cfg.store_dir, "/abs/store");
    assert_int_equal(cfg.classes, EAS_CLASS_CALENDAR | EAS_CLASS_CONTACTS);
    assert_int_equal(cfg.body_type, 4);
    assert_int_equal(cfg.heartbeat_s, 60);
    assert_int_equal(cfg.log_level, HAL_LOG_DEBUG);
    assert_int_equal(cfg.log_target, EASD_LOG_SYSLOG);
    assert_string_equal(cfg.device_model, "Acme Panel 7");
    assert_string_equal(cfg.device_name, "Kitchen panel");

    /* No server (Autodiscover from the address) and a redirect allow-list. */
    rc = load("address = a@b.example\npassword_file = pw\n"
              "redirect_allow = mail.b.example, autodiscover.b.example,[::1]\n",
              &cfg, err, sizeof(err));
    assert_int_equal(rc, 0);
    assert_string_equal(cfg.server, "");
    char buf[512];
    const char *h[EASD_REDIRECT_HOSTS];
    assert_int_equal(easd_hosts_split(cfg.redirect_allow, buf, sizeof(buf), h, 8), 3);
    assert_string_equal(h[0], "mail.b.example");
    assert_string_equal(h[1], "autodiscover.b.example");
    assert_string_equal(h[2], "[::1]");
    assert_int_equal(easd_hosts_split("", buf, sizeof(buf), h, 8), 0);
}

static void config_errors_name_the_line(void **state)
{
    (void)state;
    static easd_config_t cfg;
    char err[600];
    static const struct {
        const char *text;
        const char *want;
    } cases[] = {
        {"server = https://h/x\nuser = u\npasword_file = p\n",
         "t.conf:3: unknown key \"pasword_file\""},
        {"server = https://h/x\nuser = u\npassword_file = p\nheartbeat_max = 59\n",
         "t.conf:4: heartbeat_max"},
        {"server = https://h/x\nuser = u\npassword_file = p\nheartbeat_max = 9x\n",
         "t.conf:4: heartbeat_max"},
        {"server = ftp://h/x\n", "t.conf:1: server"},
        {"server = http://h/x\n", "t.conf:1: server: not an https:// URL"},
        {"server = https://h/x\nuser = u\npassword_file = p\nclasses = calendar, mail\n",
         "t.conf:4: classes"},
        {"server = https://h/x\nthis line has no equals sign\n", "t.conf:2: expected"},
        {"server = https://h/x\nuser = u\n", "exactly one of"},
        {"server = https://h/x\nuser = u\npassword_file = p\npassword_command = echo x\n",
         "exactly one of"},
        {"user = u\npassword_file = p\n", "\"server\" or \"address\""},
        {"server = https://h/x\nuser = u\npassword_file = p\ndevice_id = has-dash\n",
         "t.conf:4: device_id"},
        {"server = https://h/x\nuser = u\npassword_file = p\nbody_type = rtf\n",
         "t.conf:4: body_type"},
        {"server = https://h/x\nuser = u\npassword_file = p\nredirect_allow = a/b\n",
         "t.conf:4: redirect_allow"},
        {"server = https://h/x\nuser = u\npassword_file = p\nredirect_allow = ,\n",
         "t.conf:4: redirect_allow"},
        {"user = u\npassword_file = p\nredirect_allow = a,b,c,d,e,f,g,h,i\n",
         "t.conf:3: redirect_allow"},
        {"server = https://h/x\nuser = u\npassword_file = p\ndevice_model = \n",
         "t.conf:4: device_model"},
        {"server = https://h/x\nuser = u\npassword_file = p\ndevice_name = a\tb\n",
         "t.conf:4: device_name"},
        {"server = https://h/x\nuser = u\npassword_file = p\ndevice_name = "
         "0123456789012345678901234567890123456789012345678901234567890123\n",
         "t.conf:4: device_name"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        err[0] = '\0';
        assert_int_equal(load(cases[i].text, &cfg, err, sizeof(err)), -1);
        if (!strstr(err, cases[i].want)) {
            fail_msg("case %zu: \"%s\" does not contain \"%s\"", i, err, cases[i].want);
        }
    }
}

static void config_password_sources(void **state)
{
    (void)state;
    static easd_config_t cfg;
    char err[600], pw[128];
    write_text("pw", "s3cret\nsecond line\n");
    assert_int_equal(
        load("server = https://h/x\nuser = u\npassword_file = pw\n", &cfg, err, sizeof(err)), 0);
    assert_int_equal(easd_config_password(&cfg, pw, sizeof(pw), err, sizeof(err)), 0);
    assert_string_equal(pw, "s3cret");
    assert_int_equal(load("server = https://h/x\nuser = u\npassword_command = printf 'from "
                          "cmd\\nx'\n",
                          &cfg, err, sizeof(err)),
                     0);
    assert_int_equal(easd_config_password(&cfg, pw, sizeof(pw), err, sizeof(err)), 0);
    assert_string_equal(pw, "from cmd");
    assert_int_equal(load("server = https://h/x\nuser = u\npassword_command = echo leaked; "
                          "exit 3\n",
                          &cfg, err, sizeof(err)),
                     0);
    assert_int_equal(easd_config_password(&cfg, pw, sizeof(pw), err, sizeof(err)), -1);
    assert_non_null(strstr(err, "exit status 3"));
    assert_null(strstr(err, "leaked")); /* the output is never in the message */
    /* The device id is generated once and then kept. */
    assert_int_equal(load("server = https://h/x\nuser = u\npassword_file = pw\nstate_dir = st\n",
                          &cfg, err, sizeof(err)),
                     0);
    char id1[EAS_ID_CAP], id2[EAS_ID_CAP];
    assert_int_equal(easd_config_device_id(&cfg, id1, sizeof(id1)), 0);
    assert_int_equal(easd_config_device_id(&cfg, id2, sizeof(id2)), 0);
    assert_string_equal(id1, id2);
    assert_int_equal(strlen(id1), 24);
    struct stat st;
    char p[600];
    snprintf(p, sizeof(p), "%s/st/device-id", g_dir);
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
}

/* ------------------------------------------------------------------------------------- */

static void rec_bounds(void **state)
{
    (void)state;
    easd_rec_t r = {0};
    easd_rec_add(&r, EAS_CALENDAR_SUBJECT, 1, EAS_FIELD_TEXT, EAS_FIELD_MORE, "Hel", 3);
    easd_rec_add(&r, EAS_CALENDAR_SUBJECT, 1, EAS_FIELD_TEXT, EAS_FIELD_FINAL, "lo", 2);
    char out[16];
    assert_true(easd_rec_text(r.buf, r.len, EAS_CALENDAR_SUBJECT, 1, out, sizeof(out)));
    assert_string_equal(out, "Hello");
    assert_true(easd_rec_text(r.buf, r.len, EAS_CALENDAR_SUBJECT, 1, out, 4));
    assert_string_equal(out, "Hel"); /* cut to the buffer */
    /* A record cut anywhere never reads past its end. */
    for (size_t cut = 0; cut < r.len; cut++) {
        size_t off = 0;
        easd_rec_field_t f;
        while (easd_rec_next(r.buf, cut, &off, &f)) {
            assert_true(off <= cut);
        }
    }
    easd_rec_free(&r);
}

static void ix_journal_adopts_and_removes(void **state)
{
    (void)state;
    easd_coll_t c;
    memset(&c, 0, sizeof(c));
    snprintf(c.ixpath, sizeof(c.ixpath), "%s/ix", g_dir);
    easd_ix_entry_t *e = easd_ix_add(&c, "a.ics");
    snprintf(e->sid, sizeof(e->sid), "6:1");
    e->hash = 111;
    e = easd_ix_add(&c, "b.ics");
    snprintf(e->sid, sizeof(e->sid), "6:2");
    e->hash = 222;
    assert_int_equal(easd_ix_save(&c), 0);
    /* easd was about to rewrite a.ics, create c.ics and remove b.ics, then died. */
    assert_int_equal(easd_ix_journal(&c, "a.ics", "6:1", 333), 0);
    assert_int_equal(easd_ix_journal(&c, "c.ics", "6:3", 444), 0);
    assert_int_equal(easd_ix_journal(&c, "b.ics", "6:2", 0), 0);
    free(c.e);
    memset(&c, 0, sizeof(c));
    snprintf(c.ixpath, sizeof(c.ixpath), "%s/ix", g_dir);
    assert_int_equal(easd_ix_load(&c), 0);
    e = easd_ix_by_name(&c, "a.ics");
    assert_non_null(e);
    assert_int_equal(e->hash, 111);
    assert_int_equal(e->hash_alt, 333); /* either content is easd's own */
    assert_null(easd_ix_by_name(&c, "b.ics"));
    e = easd_ix_by_sid(&c, "6:3");
    assert_non_null(e);
    assert_string_equal(e->name, "c.ics");
    assert_int_equal(e->hash_alt, 444);
    /* Saving empties the journal. */
    assert_int_equal(easd_ix_save(&c), 0);
    char jp[600];
    snprintf(jp, sizeof(jp), "%s/ix.j", g_dir);
    assert_int_not_equal(access(jp, F_OK), 0);
    free(c.e);
}

static void escape_names(void **state)
{
    (void)state;
    char out[64];
    easd_escape_name("6:10", out, sizeof(out));
    assert_string_equal(out, "6=3A10");
    easd_escape_name("../x", out, sizeof(out));
    assert_string_equal(out, "=2E.=2Fx"); /* never a path, never hidden */
    easd_escape_name("vevent%2Fpersonal", out, sizeof(out));
    assert_string_equal(out, "vevent=252Fpersonal");
}

/* ------------------------------------------------------------------------------------- */

/* A calendar record as the engine delivers it: Berlin blob, monthly on the 31st, COUNT 12,
   one deleted occurrence (Mar 31) and one moved one (Apr 30 -> 11:00). */
static const char *k_berlin =
    "xP///1cALgAgAEUAdQByAG8AcABlACAAUwB0AGEAbgBkAGEAcgBkACAAVABpAG0AZQAAAAAAAAAAAAAAAAAAAAAA"
    "AAAAAAoAAAAFAAMAAAAAAAAAAAAAAFcALgAgAEUAdQByAG8AcABlACAARABhAHkAbABpAGcAaAB0ACAAVABpAG0A"
    "ZQAAAAAAAAAAAAAAAAAAAAAAAAAAAAMAAAAFAAIAAAAAAAAAxP///w==";

/* A leaf as the engine delivers it: START, the text, END. */
static void rec_text(easd_rec_t *r, uint16_t tag, uint16_t depth, const char *v)
{
    easd_rec_add(r, tag, depth, EAS_FIELD_START, 0, NULL, 0);
    easd_rec_add(r, tag, depth, EAS_FIELD_TEXT, EAS_FIELD_FINAL, v, strlen(v));
    easd_rec_add(r, tag, depth, EAS_FIELD_END, 0, NULL, 0);
}

static void build_monthly31(easd_rec_t *r)
{
    rec_text(r, EAS_CALENDAR_TIMEZONE, 1, k_berlin);
    rec_text(r, EAS_CALENDAR_ALL_DAY_EVENT, 1, "0");
    rec_text(r, EAS_CALENDAR_START_TIME, 1, "20250131T080000Z");
    rec_text(r, EAS_CALENDAR_END_TIME, 1, "20250131T090000Z");
    rec_text(r, EAS_CALENDAR_SUBJECT, 1, "Rent, due; \"now\"");
    rec_text(r, EAS_CALENDAR_UID, 1, "rent-1");
    easd_rec_add(r, EAS_CALENDAR_RECURRENCE, 1, EAS_FIELD_START, 0, NULL, 0);
    rec_text(r, EAS_CALENDAR_TYPE, 2, "2");
    rec_text(r, EAS_CALENDAR_INTERVAL, 2, "1");
    rec_text(r, EAS_CALENDAR_DAY_OF_MONTH, 2, "31");
    rec_text(r, EAS_CALENDAR_OCCURRENCES, 2, "12");
    easd_rec_add(r, EAS_CALENDAR_RECURRENCE, 1, EAS_FIELD_END, 0, NULL, 0);
    easd_rec_add(r, EAS_CALENDAR_EXCEPTIONS, 1, EAS_FIELD_START, 0, NULL, 0);
    easd_rec_add(r, EAS_CALENDAR_EXCEPTION, 2, EAS_FIELD_START, 0, NULL, 0);
    rec_text(r, EAS_CALENDAR_EXCEPTION_START_TIME, 3, "20250331T070000Z");
    rec_text(r, EAS_CALENDAR_DELETED, 3, "1");
    easd_rec_add(r, EAS_CALENDAR_EXCEPTION, 2, EAS_FIELD_END, 0, NULL, 0);
    easd_rec_add(r, EAS_CALENDAR_EXCEPTION, 2, EAS_FIELD_START, 0, NULL, 0);
    rec_text(r, EAS_CALENDAR_EXCEPTION_START_TIME, 3, "20250430T070000Z");
    rec_text(r, EAS_CALENDAR_START_TIME, 3, "20250430T090000Z");
    rec_text(r, EAS_CALENDAR_END_TIME, 3, "20250430T100000Z");
    easd_rec_add(r, EAS_CALENDAR_EXCEPTION, 2, EAS_FIELD_END, 0, NULL, 0);
    easd_rec_add(r, EAS_CALENDAR_EXCEPTIONS, 1, EAS_FIELD_END, 0, NULL, 0);
}

static const char *field_text(const easd_fields_t *fl, uint16_t tag, int nth)
{
    static char buf[512];
    for (size_t i = 0; i < fl->n; i++) {
        if (fl->f[i].tag == tag && fl->f[i].kind == EAS_FIELD_TEXT && nth-- == 0) {
            snprintf(buf, sizeof(buf), "%.*s", (int)fl->f[i].len, (const char *)fl->f[i].data);
            return buf;
        }
    }
    return NULL;
}

static void ical_round_trip(void **state)
{
    (void)state;
    static eas_cal_exception_t ex[8];
    static easd_fields_t fl;
    eas_cal_item_t it;
    easd_rec_t r = {0};
    build_monthly31(&r);
    eas_cal_item_init(&it, ex, 8, NULL, 0);
    assert_int_equal(easd_rec_cal(r.buf, r.len, &it), EAS_OK);
    char *ics = easd_ical_from_item(&it, r.buf, r.len, "fallback");
    assert_non_null(ics);
    assert_non_null(strstr(ics, "RRULE:FREQ=MONTHLY;COUNT=12;BYMONTHDAY=-1"));
    assert_non_null(strstr(ics, "DTSTART;TZID=W. Europe Standard Time:20250131T090000"));
    assert_non_null(strstr(ics, "EXDATE;TZID=W. Europe Standard Time:20250331T090000"));
    assert_non_null(strstr(ics, "RECURRENCE-ID;TZID=W. Europe Standard Time:20250430T090000"));
    assert_non_null(strstr(ics, "DTSTART;TZID=W. Europe Standard Time:20250430T110000"));
    assert_non_null(strstr(ics, "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3"));
    assert_non_null(strstr(ics, "SUMMARY:Rent\\, due\\; \"now\""));
    char err[200] = "";
    assert_int_equal(easd_ical_to_fields(ics, &fl, err, sizeof(err)), 0);
    assert_string_equal(field_text(&fl, EAS_CALENDAR_SUBJECT, 0), "Rent, due; \"now\"");
    assert_string_equal(field_text(&fl, EAS_CALENDAR_START_TIME, 0), "20250131T080000Z");
    assert_string_equal(field_text(&fl, EAS_CALENDAR_TYPE, 0), "2");
    assert_string_equal(field_text(&fl, EAS_CALENDAR_DAY_OF_MONTH, 0), "31");
    assert_string_equal(field_text(&fl, EAS_CALENDAR_OCCURRENCES, 0), "12");
    assert_string_equal(field_text(&fl, EAS_CALENDAR_EXCEPTION_START_TIME, 0), "20250331T070000Z");
    assert_string_equal(field_text(&fl, EAS_CALENDAR_EXCEPTION_START_TIME, 1), "20250430T070000Z");
    assert_string_equal(field_text(&fl, EAS_CALENDAR_START_TIME, 1), "20250430T090000Z");
    /* The zone comes back as the same rules: Berlin's blob decodes to bias -60 with DST. */
    eas_cal_tz_t tz;
    const char *b64 = field_text(&fl, EAS_CALENDAR_TIMEZONE, 0);
    assert_int_equal(eas_cal_tz_parse_base64(b64, strlen(b64), &tz, NULL), EAS_OK);
    assert_int_equal(tz.bias, -60);
    assert_true(tz.has_dst);
    assert_int_equal(tz.daylight_date.month, 3);
    assert_int_equal(tz.daylight_date.day, 5);
    assert_int_equal(tz.standard_date.month, 10);
    free(ics);
    easd_rec_free(&r);
}

static void ical_rrules_back_to_eas(void **state)
{
    (void)state;
    static easd_fields_t fl;
    static const struct {
        const char *rrule;
        const char *type, *dom, *dow, *wom, *moy;
    } cases[] = {
        {"FREQ=MONTHLY;BYMONTHDAY=28,29,30;BYSETPOS=-1", "2", "30", NULL, NULL, NULL},
        {"FREQ=MONTHLY;BYDAY=-1FR", "3", NULL, "32", "5", NULL},
        {"FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=1", "3", NULL, "62", "1", NULL},
        {"FREQ=YEARLY;BYMONTH=11;BYDAY=4TH", "6", NULL, "16", "4", "11"},
        {"FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29", "5", "29", NULL, NULL, "2"},
        {"FREQ=WEEKLY;INTERVAL=2;BYDAY=SA;WKST=MO", "1", NULL, "64", NULL, NULL},
        {"FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR", "1", NULL, "62", NULL, NULL},
    };
    char ics[1024], err[200];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(ics, sizeof(ics),
                 "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:x\r\n"
                 "DTSTART:20250103T100000Z\r\nDTEND:20250103T110000Z\r\nSUMMARY:s\r\n"
                 "RRULE:%s\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
                 cases[i].rrule);
        assert_int_equal(easd_ical_to_fields(ics, &fl, err, sizeof(err)), 0);
        const char *want[] = {cases[i].type, cases[i].dom, cases[i].dow, cases[i].wom,
                              cases[i].moy};
        const uint16_t tags[] = {EAS_CALENDAR_TYPE, EAS_CALENDAR_DAY_OF_MONTH,
                                 EAS_CALENDAR_DAY_OF_WEEK, EAS_CALENDAR_WEEK_OF_MONTH,
                                 EAS_CALENDAR_MONTH_OF_YEAR};
        for (int k = 0; k < 5; k++) {
            const char *got = field_text(&fl, tags[k], 0);
            if (want[k] && (!got || strcmp(got, want[k]) != 0)) {
                fail_msg("%s: field %d is %s, want %s", cases[i].rrule, k, got ? got : "-",
                         want[k]);
            }
        }
    }
    /* What EAS cannot say is refused, with a reason. */
    static const char *const bad[] = {"FREQ=MONTHLY;BYMONTHDAY=1,15", "FREQ=HOURLY",
                                      "FREQ=YEARLY;BYMONTH=1,7"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(ics, sizeof(ics),
                 "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART:20250103T100000Z\r\nRRULE:%s\r\n"
                 "END:VEVENT\r\nEND:VCALENDAR\r\n",
                 bad[i]);
        err[0] = '\0';
        assert_int_equal(easd_ical_to_fields(ics, &fl, err, sizeof(err)), -1);
        assert_true(err[0] != '\0');
    }
    assert_int_equal(easd_ical_to_fields("not a calendar", &fl, err, sizeof(err)), -1);
}

static void vcard_both_ways(void **state)
{
    (void)state;
    static easd_fields_t fl;
    easd_rec_t r = {0};
    rec_text(&r, EAS_CONTACTS_FIRST_NAME, 1, "Dörte");
    rec_text(&r, EAS_CONTACTS_LAST_NAME, 1, "Müller; née Schmidt");
    rec_text(&r, EAS_CONTACTS_EMAIL1_ADDRESS, 1, "doerte@example.test");
    rec_text(&r, EAS_CONTACTS_COMPANY_NAME, 1, "A, B & C");
    rec_text(&r, EAS_CONTACTS_MOBILE_PHONE_NUMBER, 1, "+49 170 1");
    easd_rec_add(&r, EAS_AIRSYNCBASE_BODY, 1, EAS_FIELD_START, 0, NULL, 0);
    rec_text(&r, EAS_AIRSYNCBASE_TYPE, 2, "1");
    rec_text(&r, EAS_AIRSYNCBASE_DATA, 2,
             "line one\nline two with a long text: äöüäöüäöüäöüäöüäöüäöüäöüäöüäöüäöüäöüäöüäöüäöü");
    easd_rec_add(&r, EAS_AIRSYNCBASE_BODY, 1, EAS_FIELD_END, 0, NULL, 0);
    char *v = easd_vcard_from_rec(r.buf, r.len, "uid-1");
    assert_non_null(v);
    assert_non_null(strstr(v, "N:Müller\\; née Schmidt;Dörte;;;\r\n"));
    assert_non_null(strstr(v, "ORG:A\\, B & C;\r\n"));
    assert_non_null(strstr(v, "NOTE:line one\\nline two"));
    /* Folded at 75 octets, never inside a UTF-8 sequence. */
    for (const char *l = v; *l;) {
        const char *e = strstr(l, "\r\n");
        assert_non_null(e);
        assert_true(e - l <= 75);
        if (e[2] == ' ') {
            assert_true(((unsigned char)e[3] & 0xC0) != 0x80);
        }
        l = e + 2;
    }
    char err[200];
    assert_int_equal(easd_vcard_to_fields(v, &fl, err, sizeof(err)), 0);
    assert_string_equal(field_text(&fl, EAS_CONTACTS_LAST_NAME, 0), "Müller; née Schmidt");
    assert_string_equal(field_text(&fl, EAS_CONTACTS_FIRST_NAME, 0), "Dörte");
    assert_string_equal(field_text(&fl, EAS_CONTACTS_COMPANY_NAME, 0), "A, B & C");
    assert_string_equal(field_text(&fl, EAS_CONTACTS_MOBILE_PHONE_NUMBER, 0), "+49 170 1");
    assert_non_null(strstr(field_text(&fl, EAS_AIRSYNCBASE_DATA, 0), "line one\nline two"));
    assert_int_equal(easd_vcard_to_fields("BEGIN:VCARD\r\nEND:VCARD\r\n", &fl, err, sizeof(err)),
                     -1);
    free(v);
    easd_rec_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(config_good_and_defaults, setup, teardown),
        cmocka_unit_test_setup_teardown(config_errors_name_the_line, setup, teardown),
        cmocka_unit_test_setup_teardown(config_password_sources, setup, teardown),
        cmocka_unit_test(rec_bounds),
        cmocka_unit_test_setup_teardown(ix_journal_adopts_and_removes, setup, teardown),
        cmocka_unit_test(escape_names),
        cmocka_unit_test(ical_round_trip),
        cmocka_unit_test(ical_rrules_back_to_eas),
        cmocka_unit_test(vcard_both_ways),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
