/* SPDX-License-Identifier: Apache-2.0 */
/*
 * eas-sync: run the engine against a server until the first full sync is done, printing one
 * JSON object per line for every folder and item event and a final summary line.
 *
 *   eas-sync --url URL --user USER --password-file FILE --device-id ID --state DIR
 *            [--ca-file FILE] [--classes Calendar,Contacts,Email,Tasks,Notes]
 *            [--max-version 14.1] [--timeout SECONDS]
 *            [--expand-from 20250101T000000Z --expand-days N] [--push SECONDS]
 *
 * --respond SERVER_ID:accept|tentative|decline[:INSTANCE] queues one MeetingResponse through
 * eas_meeting_respond() and runs until the server answered it. The folder is the one the item
 * was delivered in during this run, else --respond-folder, else the Inbox (where MS-ASCMD puts
 * meeting requests). --respond-uid VALUE names the meeting (the invitation's
 * MeetingRequest/GlobalObjId as the application stored it, or the Calendar UID) through
 * eas_meeting_respond_uid() [S 1.15]. Like an application, eas-sync remembers in the state dir that the
 * decision was queued ("respond.<n>" written after the call returned), so a run restarted after
 * a crash never queues it a second time; the engine's persistent outbox owns it from then on.
 *
 * --fetch FOLDER:SERVER_ID (an item's whole body) or --fetch-ref FILE_REFERENCE (an
 * attachment) asks eas_fetch() for it on demand and writes what streams in (the Body Data
 * text, or the attachment's decoded bytes) to --fetch-out FILE; it prints fetch_begin /
 * fetch_end and exits 0 only when the sync and the fetch completed.
 *
 * --move SRC_FOLDER:SERVER_ID:DST_FOLDER queues eas_item_move() once the source folder is
 * known (once per state dir, marker "move.<hash>", like --respond) and runs until the server
 * answered. --progress asks GetItemEstimate before each folder's first item sync and prints
 * progress events.
 *
 * --send-mime FILE sends an RFC 5322 message (CONFIG_EAS_EMAIL): as SendMail, or with
 * --reply FOLDER:SERVER_ID / --forward FOLDER:SERVER_ID as SmartReply / SmartForward of that
 * item; --save-in-sent files a copy in Sent Items; --reply-all removes the user's own address
 * (--email) from the To and Cc headers first [S 2.14]. The prepared message is kept in the
 * state dir ("outgoing.<hash>.eml") and read back through cfg.mime_read; like --respond it is
 * queued once per state dir and eas-sync runs until the server answered it.
 *
 * --local-changes FILE queues local adds, changes and deletes through eas_item_add(),
 * eas_item_change() and eas_item_delete(), one per line of FILE, fields separated by TABs:
 *   add     FOLDER_ID  Page:Tag=value ...          e.g. Calendar:Subject=Lunch
 *   change  FOLDER_ID  SERVER_ID  Page:Tag=value ...
 *   delete  FOLDER_ID  SERVER_ID
 *   change-occurrence  FOLDER_ID  SERVER_ID  INSTANCE_ID  Page:Tag=value ...   (16.x)
 *   delete-occurrence  FOLDER_ID  SERVER_ID  INSTANCE_ID                     (16.x)
 * (values are text, without TABs or line ends; '#' lines and blank lines are skipped; field
 * names need CONFIG_EAS_WBXML_NAMES). A full outbox makes it wait for answers. Adds
 * are queued as soon as their folder is known; changes and deletes once the first sync of
 * this run completed (the item must be on the device before the user edits it). Each line is
 * queued once per state dir (marker "local.<hash>"), and eas-sync runs until the outbox has
 * no add, change or delete left.
 *
 * --auth oauth-device | oauth-pkce authenticates with an OAuth 2.0 bearer token instead of
 * Basic (no --password-file then): the first run obtains it with the device authorization
 * grant (prints {"event":"oauth_device",...} with the URL and code to show the user) or the
 * authorization code grant with PKCE and a loopback redirect (prints {"event":
 * "oauth_authorize","url":...} to open in a browser); later runs refresh it. Options:
 * --oauth-client-id ID (required), --oauth-tenant T, --oauth-authority URL, --oauth-scope S,
 * --oauth-device-endpoint / --oauth-token-endpoint / --oauth-authorize-endpoint URL (another
 * authorization server), --oauth-token-file FILE (default STATE/oauth-token, 0600),
 * --oauth-ca-file FILE (default --ca-file), --oauth-redirect-port N, --oauth-redirect-host
 * 127.0.0.1|localhost (the host in the redirect URI), --oauth-margin S (refresh
 * this long before expiry), --oauth-wait S (how long the user has). A refresh token the
 * server refuses ends the run with "oauth":"authorization_needed" in the summary.
 *
 * --user-agent UA, --device-model M, --device-name N, --device-os OS, --device-language L:
 * what the device tells the server about itself (Settings DeviceInformation, sent once per
 * state dir and again when one of them changes; docs/exchange-online.md).
 *
 * --push N stays in the Ping loop for N seconds after the first sync (changes are printed as
 * they arrive); the exit status still says whether the first sync completed. Without it the
 * account runs with eas_account_cfg_t::no_push: no Ping is sent after the sync.
 *
 * --backoff-busy-ms N: eas_account_cfg_t::backoff_busy_ms, where the back-off starts after the
 * server said it is busy (503 without Retry-After, Status 111, X-MS-ASThrottle); tests use
 * a short one to time it in real seconds.
 *
 * Calendar items also carry "calendar": the item as the core's calendar collector parsed it
 * (recurrence, exceptions attached to their master, attendees) and, with --expand-from, its
 * occurrences in [from, from + N days) as expanded by eas_cal_expand().
 *
 * --allow-redirect HOST (repeatable) lets an HTTP 451 move the account to HOST without asking;
 * a redirect to any other server is printed as a "redirect" event, nothing is sent there, and
 * eas-sync ends with "redirect needs approval" and a non-zero exit. --allow-plaintext-auth
 * allows the password over an http:// URL (refused otherwise). The password file must be
 * owned by the user and not readable by group or others; the state dir is made 0700 and
 * every file eas-sync writes is 0600; core dumps are off.
 *
 * Exit status 0 only when the sync completed and no queued change was lost (a corrupt
 * outbox record is reported as an error event with its "record"). Running it again with the
 * same --state syncs incrementally.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "eas/eas.h"
#include "eas/eas_base64.h"
#include "eas/eas_cookie.h"
#include "eas/eas_wbxml.h"
#include "easd_linux.h"
#include "easd_oauth.h"

typedef struct app {
    eas_engine_t eng;
    easd_linux_net_t lnet;
    hal_net_t net;
    int done;
    int failed;
    uint64_t give_up_ms;
    uint64_t push_ms;  /* --push: stay in the Ping loop this long after the first sync */
    uint64_t push_end; /* 0 until the first sync completed */
    unsigned long folders, adds, changes, deletes, errors;
    unsigned long parked;      /* folders whose sync the engine gave up on (EAS_ERR_SYNC_LOOP) */
    unsigned long lost;        /* queued changes lost to a corrupt record */
    uint16_t policy_restricts; /* first policy setting this tool cannot enforce, 0 if none */
    /* JSON of the item being assembled (grows as needed: a line is never cut) */
    char *item;
    size_t item_cap;
    size_t item_len;
    int item_fields;
    uint16_t path[16];
    int depth;
    int in_value;
    eas_item_op_t op;
    /* --respond */
    const char *rsp_sid;
    const char *rsp_uid; /* --respond-uid */
    char rsp_sid_buf[EAS_ID_CAP];
    char rsp_instance[EAS_ID_CAP];
    char rsp_folder[EAS_ID_CAP]; /* where the item was seen (or --respond-folder) */
    char rsp_marker[1024];
    eas_meeting_reply_t rsp_reply;
    int rsp_queued;
    unsigned long outbox_results;
    /* --move */
    char mv_src[EAS_ID_CAP], mv_sid[EAS_ID_CAP], mv_dst[EAS_ID_CAP];
    char mv_marker[1024];
    int mv_want, mv_queued;
    /* --send-mime */
    char snd_draft[1024], snd_marker[1024];
    int snd_want, snd_queued;
    eas_mail_t snd;
    char snd_src[EAS_ID_CAP];
    /* --local-changes */
    const char *lc_file;
    char lc_marker[1024];
    int lc_want, lc_queued;
    unsigned long lc_next, lc_total;
    /* --fetch / --fetch-ref */
    const char *fetch_folder, *fetch_sid, *fetch_ref, *fetch_out;
    FILE *fetch_f;
    int fetching;    /* between FETCH_BEGIN and FETCH_END */
    int fetch_state; /* 0 none, 1 asked, 2 complete, 3 failed */
    unsigned long long fetch_bytes;
} app_t;

static app_t g_app;

/* Every file this tool writes (drafts, markers, fetched bodies) may hold mail: 0600, also
   when it already existed with a wider mode, and never through a symbolic link. */
static FILE *fopen_private(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        return NULL;
    }
    FILE *f = fchmod(fd, 0600) == 0 ? fdopen(fd, "wb") : NULL;
    if (!f) {
        close(fd);
    }
    return f;
}
#if CONFIG_EAS_CALENDAR
static eas_engine_cal_t g_cal;
static eas_cal_exception_t g_cal_ex[256];
static eas_cal_attendee_t g_cal_att[64];
#endif
static int g_quiet; /* --quiet: count items, print only the summary (benchmarks) */
static int64_t g_expand_from;
static int64_t g_expand_to;
static eas_folder_t g_folders[CONFIG_EAS_MAX_FOLDERS];
static eas_outbox_slot_t g_outbox[CONFIG_EAS_OUTBOX_SLOTS];
static uint8_t g_arena_mem[CONFIG_EAS_ARENA_SIZE];
static uint8_t g_work[EAS_HTTP_CLIENT_WORK_SIZE];
static eas_arena_t g_arena;
static char g_password[512];
static _Alignas(8) uint8_t g_cookie_mem[EAS_COOKIE_JAR_SIZE];
static easd_oauth_t g_oauth;
static int g_use_oauth;

static void json_str(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') {
            putchar('\\');
        }
        if ((unsigned char)*s >= 0x20) {
            putchar(*s);
        }
    }
    putchar('"');
}

static int64_t utc_clock(void *user)
{
    (void)user;
    int64_t t = 0;
    return hal_time_utc(&t) == EAS_OK ? t : 0;
}

static void show_device_code(void *user, const easd_oauth_device_code_t *dc)
{
    (void)user;
    fprintf(stderr, "eas-sync: to sign in, open %s and enter the code %s (valid %u s)\n",
            dc->verification_uri, dc->user_code, (unsigned)dc->expires_in);
    printf("{\"event\":\"oauth_device\",\"verification_uri\":");
    json_str(dc->verification_uri);
    printf(",\"user_code\":");
    json_str(dc->user_code);
    printf(",\"expires_in\":%u,\"interval\":%u}\n", (unsigned)dc->expires_in,
           (unsigned)dc->interval);
    fflush(stdout);
}

static void show_authorize_url(void *user, const char *url)
{
    (void)user;
    fprintf(stderr, "eas-sync: to sign in, open this URL in a browser on this machine:\n%s\n", url);
    printf("{\"event\":\"oauth_authorize\",\"url\":");
    json_str(url);
    printf("}\n");
    fflush(stdout);
}

static void wipe_secrets(void)
{
    easd_linux_wipe(g_password, sizeof(g_password));
    easd_linux_wipe(g_work, sizeof(g_work));
}

static void put(app_t *a, const char *s, size_t n)
{
    if (n + 1 > a->item_cap - a->item_len) {
        size_t cap = a->item_cap ? a->item_cap : 65536;
        while (n + 1 > cap - a->item_len) {
            cap *= 2;
        }
        char *p = realloc(a->item, cap);
        if (!p) {
            /* Cutting the line would print invalid JSON: stop instead. */
            fprintf(stderr, "eas-sync: out of memory for an item of %zu bytes\n", a->item_len + n);
            exit(1);
        }
        a->item = p;
        a->item_cap = cap;
    }
    memcpy(a->item + a->item_len, s, n);
    a->item_len += n;
    a->item[a->item_len] = '\0';
}

static void put_json_str(app_t *a, const char *s, size_t n)
{
    char buf[8];
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            buf[0] = '\\';
            buf[1] = (char)c;
            put(a, buf, 2);
        } else if (c < 0x20) {
            snprintf(buf, sizeof(buf), "\\u%04x", c);
            put(a, buf, 6);
        } else {
            put(a, (const char *)&s[i], 1);
        }
    }
}

static void print_json_str(const char *s);

#if CONFIG_EAS_CALENDAR
static void print_time(const char *key, int64_t t)
{
    char b[32];
    if (eas_cal_format_time(t, EAS_CAL_FMT_COMPACT, b, sizeof(b)) != EAS_OK) {
        snprintf(b, sizeof(b), "invalid");
    }
    printf(",\"%s\":\"%s\"", key, b);
}

typedef struct occ_print {
    int n;
    int64_t last;
} occ_print_t;

static int print_occ(void *user, const eas_cal_occurrence_t *o)
{
    occ_print_t *op = user;
    char b[32];
    (void)eas_cal_format_time(o->start, EAS_CAL_FMT_COMPACT, b, sizeof(b));
    printf("%s\"%s%s\"", op->n++ ? "," : "", b, o->exception >= 0 ? "*" : "");
    op->last = o->start;
    return op->n >= 5000 ? EAS_CAL_STOP : EAS_OK;
}

/* The parsed item: what an application stores; occurrences when asked for. */
static void print_cal(const eas_cal_item_t *it, int err)
{
    static const char *const tzsrc[] = {"none", "blob", "device", "zero-utc"};
    printf(",\"calendar\":{\"subject\":");
    print_json_str(it->subject);
    if (it->present & EAS_CAL_F_START) {
        print_time("start", it->start);
    }
    if (it->present & EAS_CAL_F_END) {
        print_time("end", it->end);
    }
    printf(",\"all_day\":%u,\"tz\":\"%s\",\"bias\":%d", it->all_day, tzsrc[it->tz_source & 3u],
           (int)it->tz.bias);
    if (it->present & EAS_CAL_F_UID) {
        printf(",\"uid\":");
        print_json_str(it->uid);
    }
    if (it->present & EAS_CAL_F_DTSTAMP) {
        print_time("dtstamp", it->dtstamp);
    }
    if (it->present & EAS_CAL_F_RECURRENCE) {
        const eas_cal_recurrence_t *r = &it->recurrence;
        printf(",\"recurrence\":{\"type\":%u", r->type);
        if (r->present & EAS_CAL_RF_INTERVAL) {
            printf(",\"interval\":%u", (unsigned)r->interval);
        }
        if (r->present & EAS_CAL_RF_OCCURRENCES) {
            printf(",\"occurrences\":%u", (unsigned)r->occurrences);
        }
        if (r->present & EAS_CAL_RF_UNTIL) {
            print_time("until", r->until);
        }
        if (r->present & EAS_CAL_RF_DAY_OF_WEEK) {
            printf(",\"day_of_week\":%u", r->day_of_week);
        }
        if (r->present & EAS_CAL_RF_DAY_OF_MONTH) {
            printf(",\"day_of_month\":%u", r->day_of_month);
        }
        if (r->present & EAS_CAL_RF_WEEK_OF_MONTH) {
            printf(",\"week_of_month\":%u", r->week_of_month);
        }
        if (r->present & EAS_CAL_RF_MONTH_OF_YEAR) {
            printf(",\"month_of_year\":%u", r->month_of_year);
        }
        if (r->present & EAS_CAL_RF_FIRST_DAY_OF_WEEK) {
            printf(",\"first_day_of_week\":%u", r->first_day_of_week);
        }
        printf("}");
    }
    printf(",\"exceptions\":[");
    for (uint16_t i = 0; i < it->exception_count; i++) {
        const eas_cal_exception_t *x = &it->exceptions[i];
        printf("%s{", i ? "," : "");
        char b[32];
        (void)eas_cal_format_time(x->exception_start, EAS_CAL_FMT_COMPACT, b, sizeof(b));
        printf("\"exception_start\":\"%s\",\"deleted\":%u", b, x->deleted);
        if (x->present & EAS_CAL_F_START) {
            print_time("start", x->start);
        }
        if (x->present & EAS_CAL_F_END) {
            print_time("end", x->end);
        }
        if (x->present & EAS_CAL_F_SUBJECT) {
            printf(",\"subject\":");
            print_json_str(x->subject);
        }
        printf("}");
    }
    printf("],\"exceptions_lost\":%u,\"attendees\":%u", it->exceptions_lost, it->attendee_count);
    if (err != EAS_OK) {
        printf(",\"error\":\"%s\"", eas_err_name(err));
    } else if (g_expand_to > g_expand_from) {
        occ_print_t op = {0, 0};
        int64_t from = g_expand_from;
        int rc;
        printf(",\"occurrences\":[");
        /* EAS_ERR_LIMIT: a page is full; go on after its last start. */
        for (;;) {
            int before = op.n;
            rc = eas_cal_expand(it, from, g_expand_to, print_occ, &op);
            if (rc != EAS_ERR_LIMIT || op.n == before || op.n >= 5000) {
                break;
            }
            from = op.last + 1;
        }
        printf("]");
        if (rc != EAS_OK) {
            printf(",\"expand_error\":\"%s\"", eas_err_name(rc));
        }
    }
    printf("}");
}
#endif

static void print_json_str(const char *s)
{
    putchar('"');
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            printf("\\%c", c);
        } else if (c < 0x20) {
            printf("\\u%04x", c);
        } else {
            putchar(c);
        }
    }
    putchar('"');
}

static const char *tag_name(uint16_t tag, char *buf, size_t cap)
{
    const char *n = eas_wbxml_tag_name(tag);
    if (!n) {
        snprintf(buf, cap, "0x%04X", tag);
        n = buf;
    }
    return n;
}

static const char *class_name(uint8_t cls)
{
    const char *n = eas_class_name(cls);
    return n ? n : "";
}

static const char *op_name(eas_item_op_t op)
{
    return op == EAS_ITEM_ADD ? "add" : op == EAS_ITEM_CHANGE ? "change" : "delete";
}

/* Fields become ["Path.To.Leaf", "value"] pairs: unambiguous for repeated elements. */
static void field(app_t *a, const eas_event_t *ev)
{
    char nb[16];
    switch (ev->u.field.kind) {
    case EAS_FIELD_START:
        if (a->depth < 16) {
            a->path[a->depth] = ev->u.field.tag;
        }
        a->depth++;
        a->in_value = 0;
        break;
    case EAS_FIELD_END:
        if (a->in_value) {
            put(a, "\"]", 2);
            a->in_value = 0;
        }
        a->depth = a->depth > 0 ? a->depth - 1 : 0;
        break;
    case EAS_FIELD_TEXT:
    case EAS_FIELD_OPAQUE:
        if (!a->in_value) {
            if (a->item_fields++ > 0) {
                put(a, ",", 1);
            }
            put(a, "[\"", 2);
            for (int i = 0; i < a->depth && i < 16; i++) {
                const char *n = tag_name(a->path[i], nb, sizeof(nb));
                if (i) {
                    put(a, ".", 1);
                }
                put(a, n, strlen(n));
            }
            put(a, "\",\"", 3);
            a->in_value = 1;
        }
        if (ev->u.field.kind == EAS_FIELD_TEXT) {
            put_json_str(a, (const char *)ev->u.field.data, ev->u.field.len);
        } else {
            /* Binary (TimeZone blob): base64, piece by piece in 3-byte groups is not
               needed here: opaque pieces of one value are rare; encode each piece. */
            char b64[1024];
            size_t off = 0;
            while (off < ev->u.field.len) {
                size_t n = ev->u.field.len - off > 255 ? 255 : ev->u.field.len - off;
                size_t ol = 0;
                if (eas_base64_encode(ev->u.field.data + off, n, b64, sizeof(b64), &ol) == EAS_OK) {
                    put(a, b64, ol);
                }
                off += n;
            }
        }
        break;
    }
}

/*
 * This tool enforces nothing (no lock screen, no encryption, no restrictions), so it can
 * claim full enforcement only of a policy that asks for nothing: every setting is at its
 * permissive value. Anything else is acknowledged as partially enforced (Status 2).
 * Password details only matter when DevicePasswordEnabled is 1, which already restricts.
 */
static bool policy_setting_restricts(uint16_t tag, const char *v)
{
    bool set = (v[0] != '\0');
    bool restricts;

    switch (tag) {
    case EAS_PROVISION_DEVICE_PASSWORD_ENABLED:
    case EAS_PROVISION_ALPHANUMERIC_DEVICE_PASSWORD_REQUIRED:
    case EAS_PROVISION_DEVICE_ENCRYPTION_ENABLED: /* = RequireStorageCardEncryption */
    case EAS_PROVISION_REQUIRE_DEVICE_ENCRYPTION:
    case EAS_PROVISION_REQUIRE_MANUAL_SYNC_WHEN_ROAMING:
    case EAS_PROVISION_REQUIRE_SIGNED_SMIME_MESSAGES:
    case EAS_PROVISION_REQUIRE_ENCRYPTED_SMIME_MESSAGES:
        restricts = set && strcmp(v, "0") != 0;
        break;
    case EAS_PROVISION_ATTACHMENTS_ENABLED:
    case EAS_PROVISION_ALLOW_STORAGE_CARD:
    case EAS_PROVISION_ALLOW_CAMERA:
    case EAS_PROVISION_ALLOW_WIFI:
    case EAS_PROVISION_ALLOW_TEXT_MESSAGING:
    case EAS_PROVISION_ALLOW_POP_IMAP_EMAIL:
    case EAS_PROVISION_ALLOW_IRDA:
    case EAS_PROVISION_ALLOW_DESKTOP_SYNC:
    case EAS_PROVISION_ALLOW_HTML_EMAIL:
    case EAS_PROVISION_ALLOW_SMIME_SOFT_CERTS:
    case EAS_PROVISION_ALLOW_BROWSER:
    case EAS_PROVISION_ALLOW_CONSUMER_EMAIL:
    case EAS_PROVISION_ALLOW_REMOTE_DESKTOP:
    case EAS_PROVISION_ALLOW_INTERNET_SHARING:
    case EAS_PROVISION_ALLOW_UNSIGNED_APPLICATIONS:
    case EAS_PROVISION_ALLOW_UNSIGNED_INSTALLATION_PACKAGES:
        restricts = set && strcmp(v, "0") == 0;
        break;
    case EAS_PROVISION_ALLOW_BLUETOOTH: /* 2 = allow all */
        restricts = set && strcmp(v, "2") != 0;
        break;
    case EAS_PROVISION_MAX_EMAIL_BODY_TRUNCATION_SIZE: /* -1 = no limit */
    case EAS_PROVISION_MAX_EMAIL_HTML_BODY_TRUNCATION_SIZE:
        restricts = set && strcmp(v, "-1") != 0;
        break;
    case EAS_PROVISION_MAX_ATTACHMENT_SIZE: /* empty = no limit; 0 = all ages below */
    case EAS_PROVISION_MAX_CALENDAR_AGE_FILTER:
    case EAS_PROVISION_MAX_EMAIL_AGE_FILTER:
        restricts = set && strcmp(v, "0") != 0;
        break;
    case EAS_PROVISION_ALLOW_SIMPLE_DEVICE_PASSWORD:
    case EAS_PROVISION_MIN_DEVICE_PASSWORD_LENGTH:
    case EAS_PROVISION_MIN_DEVICE_PASSWORD_COMPLEX_CHARACTERS:
    case EAS_PROVISION_DEVICE_PASSWORD_EXPIRATION:
    case EAS_PROVISION_DEVICE_PASSWORD_HISTORY:
    case EAS_PROVISION_MAX_DEVICE_PASSWORD_FAILED_ATTEMPTS:
    case EAS_PROVISION_MAX_INACTIVITY_TIME_DEVICE_LOCK:
    case EAS_PROVISION_PASSWORD_RECOVERY_ENABLED:
    case EAS_PROVISION_ALLOW_SMIME_ENCRYPTION_ALGORITHM_NEGOTIATION:
    case EAS_PROVISION_REQUIRE_SIGNED_SMIME_ALGORITHM:
    case EAS_PROVISION_REQUIRE_ENCRYPTION_SMIME_ALGORITHM:
        restricts = false;
        break;
    default:
        /* Containers come with an empty value; an unknown setting with a value is assumed
           to ask for something. */
        restricts = set;
        break;
    }
    return restricts;
}

static int on_event(void *user, eas_event_t *ev)
{
    app_t *a = user;
    switch (ev->type) {
    case EAS_EV_FOLDER: {
        const eas_folder_t *f = ev->u.folder.entry;
        a->folders++;
        printf("{\"event\":\"folder_%s\",\"server_id\":", op_name(ev->u.folder.op));
        print_json_str(f->server_id);
        printf(",\"parent_id\":");
        print_json_str(f->parent_id);
        printf(",\"type\":%u,\"class\":\"%s\",\"selected\":%s", f->type, class_name(f->cls),
               (f->flags & EAS_FOLDER_F_SELECTED) ? "true" : "false");
        if (ev->u.folder.display_name) {
            printf(",\"name\":");
            print_json_str(ev->u.folder.display_name);
        }
        printf("}\n");
        break;
    }
    case EAS_EV_ITEM_BEGIN:
        a->item_len = 0;
        put(a, "", 0);
        a->item_fields = 0;
        a->depth = 0;
        a->in_value = 0;
        a->op = ev->u.item.op;
        break;
    case EAS_EV_ITEM_FIELD:
        if (a->fetching) {
            /* Body Data text (item) or decoded attachment bytes: straight to the file. */
            if ((ev->u.field.kind == EAS_FIELD_TEXT && ev->u.field.tag == EAS_AIRSYNCBASE_DATA) ||
                (ev->u.field.kind == EAS_FIELD_OPAQUE &&
                 ev->u.field.tag == EAS_ITEMOPERATIONS_DATA)) {
                if (a->fetch_f && ev->u.field.len &&
                    fwrite(ev->u.field.data, 1, ev->u.field.len, a->fetch_f) != ev->u.field.len) {
                    return EAS_ERR_IO;
                }
                a->fetch_bytes += ev->u.field.len;
            }
            break;
        }
        if (!g_quiet) {
            field(a, ev);
        }
        break;
    case EAS_EV_PROGRESS:
        printf("{\"event\":\"progress\",\"folder\":");
        print_json_str(ev->u.progress.folder);
        printf(",\"estimate\":%u,\"done\":%u}\n", (unsigned)ev->u.progress.estimate,
               (unsigned)ev->u.progress.done);
        break;
    case EAS_EV_FETCH_BEGIN:
        /* (Re)start: a retry after a failed attempt delivers everything again. */
        a->fetching = 1;
        a->fetch_bytes = 0;
        if (a->fetch_f) {
            fclose(a->fetch_f);
        }
        a->fetch_f = a->fetch_out ? fopen_private(a->fetch_out) : NULL;
        printf("{\"event\":\"fetch_begin\",\"id\":%u}\n", (unsigned)ev->u.fetch.id);
        break;
    case EAS_EV_FETCH_END:
        a->fetching = 0;
        if (a->fetch_f) {
            fclose(a->fetch_f);
            a->fetch_f = NULL;
        }
        printf("{\"event\":\"fetch_end\",\"id\":%u,\"status\":%u,\"final\":%s,"
               "\"error\":\"%s\",\"bytes\":%llu}\n",
               (unsigned)ev->u.fetch.id, ev->u.fetch.status, ev->u.fetch.final ? "true" : "false",
               ev->u.fetch.err ? eas_err_name(ev->u.fetch.err) : "", a->fetch_bytes);
        if (ev->u.fetch.final) {
            a->fetch_state = ev->u.fetch.status == 1 ? 2 : 3;
        }
        break;
    case EAS_EV_ITEM_END:
        if (a->rsp_sid && !a->rsp_folder[0] && ev->u.item.op != EAS_ITEM_DELETE &&
            strcmp(ev->u.item.server_id, a->rsp_sid) == 0) {
            snprintf(a->rsp_folder, sizeof(a->rsp_folder), "%s", ev->u.item.folder);
        }
        if (ev->u.item.op == EAS_ITEM_ADD) {
            a->adds++;
        } else if (ev->u.item.op == EAS_ITEM_CHANGE) {
            a->changes++;
        } else {
            a->deletes++;
        }
        if (g_quiet) {
            break;
        }
        printf("{\"event\":\"item_%s\",\"folder\":", op_name(ev->u.item.op));
        print_json_str(ev->u.item.folder);
        printf(",\"server_id\":");
        print_json_str(ev->u.item.server_id);
        printf(",\"class\":\"%s\",\"fields\":[%s]", class_name(ev->u.item.cls), a->item);
#if CONFIG_EAS_CALENDAR
        if (ev->u.item.cal) {
            print_cal(ev->u.item.cal, ev->u.item.cal_err);
        }
#endif
        printf("}\n");
        break;
    case EAS_EV_ERROR:
        a->errors++;
        if (ev->u.error.err == EAS_ERR_SYNC_LOOP) {
            /* The engine stops syncing a folder whose server repeats its key; the first
               sync is then not complete, whatever SYNC_COMPLETE says for the others. */
            a->parked++;
        }
        printf("{\"event\":\"error\",\"error\":\"%s\",\"status\":%u,\"what\":",
               eas_err_name(ev->u.error.err), ev->u.error.status);
        print_json_str(ev->u.error.what ? ev->u.error.what : "");
        if (ev->u.error.record) {
            /* A corrupt record's change is gone: the run must not look successful. */
            a->lost++;
            printf(",\"record\":");
            print_json_str(ev->u.error.record);
        }
        printf("}\n");
        break;
    case EAS_EV_REDIRECT:
    case EAS_EV_SERVER_MOVED:
        printf("{\"event\":\"%s\",\"url\":",
               ev->type == EAS_EV_REDIRECT ? "redirect" : "server_moved");
        print_json_str(ev->u.redirect.url);
        printf(",\"from\":");
        print_json_str(ev->u.redirect.from);
        printf("}\n");
        break;
    case EAS_EV_OUTBOX_RESULT: {
        static const char *const kinds[] = {"none", "add", "change", "delete", "meeting_response",
                                            "move"};
        a->outbox_results++;
        printf("{\"event\":\"outbox_result\",\"kind\":\"%s\",\"id\":%u,\"status\":%u,"
               "\"final\":%s,\"server_id\":",
               kinds[(unsigned)ev->u.outbox.kind <= 5u ? (unsigned)ev->u.outbox.kind : 0u],
               (unsigned)ev->u.outbox.id, ev->u.outbox.status,
               ev->u.outbox.final ? "true" : "false");
        print_json_str(ev->u.outbox.server_id ? ev->u.outbox.server_id : "");
        printf("}\n");
        break;
    }
    case EAS_EV_POLICY_SETTING:
        if (a->policy_restricts == 0 && ev->u.policy.value != NULL &&
            policy_setting_restricts(ev->u.policy.tag, ev->u.policy.value)) {
            a->policy_restricts = ev->u.policy.tag;
        }
        break;
    case EAS_EV_POLICY_DECIDE: {
        const char *name = eas_wbxml_tag_name(a->policy_restricts);
        ev->u.policy.decision = a->policy_restricts ? EAS_POLICY_PARTIAL : EAS_POLICY_ENFORCE_ALL;
        printf("{\"event\":\"policy\",\"decision\":\"%s\",\"not_enforced\":",
               a->policy_restricts ? "partial" : "enforce_all");
        print_json_str(a->policy_restricts ? (name ? name : "unknown setting") : "");
        printf("}\n");
        a->policy_restricts = 0; /* the next Provision brings its own settings */
        break;
    }
    case EAS_EV_STATE:
        printf("{\"event\":\"state\",\"state\":\"%s\"}\n",
               eas_engine_state_name(ev->u.state.state));
        break;
    case EAS_EV_SYNC_COMPLETE:
        a->done = 1;
        printf("{\"event\":\"sync_complete\"}\n");
        break;
    case EAS_EV_RESYNC_BEGIN:
    case EAS_EV_RESYNC_END:
        /* [S 2.13] between these, the folder's items come again as upserts; what did not
           come again is gone. */
        printf("{\"event\":\"resync_%s\",\"folder\":",
               ev->type == EAS_EV_RESYNC_BEGIN ? "begin" : "end");
        print_json_str(ev->u.folder.entry->server_id);
        printf(",\"status\":%u}\n", ev->u.folder.status);
        break;
    case EAS_EV_THROTTLED:
        printf("{\"event\":\"throttled\",\"reason\":");
        print_json_str(ev->u.throttle.reason);
        printf(",\"status\":%u,\"retry_after\":%u}\n", ev->u.throttle.status,
               (unsigned)ev->u.throttle.retry_after_s);
        break;
    case EAS_EV_CREDENTIALS_EXPIRE:
        printf("{\"event\":\"credentials_expire\",\"days\":%u}\n",
               (unsigned)ev->u.credentials.days);
        break;
    case EAS_EV_PING_REJECTED:
        printf("{\"event\":\"ping_rejected\",\"folder\":");
        print_json_str(ev->u.folder.entry->server_id);
        printf(",\"status\":%u}\n", ev->u.folder.status);
        break;
    default:
        break;
    }
    fflush(stdout);
    return EAS_OK;
}

/* The Inbox (FolderHierarchy type 2) from the engine's folder table. */
static const char *inbox_id(const app_t *a)
{
    for (size_t i = 0; i < CONFIG_EAS_MAX_FOLDERS; i++) {
        if (g_folders[i].used && g_folders[i].type == 2) {
            return g_folders[i].server_id;
        }
    }
    (void)a;
    return NULL;
}

/* Queue the --respond decision once the folder is known; exactly once per state dir. */
static int respond_queue(app_t *a)
{
    const char *folder = a->rsp_folder[0] ? a->rsp_folder : NULL;
    if (!folder && a->done) {
        folder = inbox_id(a);
    }
    if (!folder) {
        return 0; /* not yet: the item or the folder list has not arrived */
    }
    uint32_t id = 0;
    int err = eas_meeting_respond_uid(&a->eng, folder, a->rsp_sid,
                                      a->rsp_instance[0] ? a->rsp_instance : NULL, a->rsp_reply,
                                      a->rsp_uid, &id);
    if (err != EAS_OK) {
        fprintf(stderr, "eas-sync: --respond: %s\n", eas_strerror(err));
        a->failed = err;
        return -1;
    }
    /* The engine persisted it; now remember that we asked (a crash before this line makes the
       next run ask again, which replaces the same outbox entry instead of adding one). */
    FILE *f = fopen_private(a->rsp_marker);
    if (!f || fprintf(f, "%u %s\n", (unsigned)id, folder) < 0 || fflush(f) != 0 ||
        fsync(fileno(f)) != 0) {
        fprintf(stderr, "eas-sync: cannot write %s\n", a->rsp_marker);
    }
    if (f) {
        fclose(f);
    }
    printf("{\"event\":\"respond_queued\",\"id\":%u,\"folder\":", (unsigned)id);
    print_json_str(folder);
    printf("}\n");
    fflush(stdout);
    a->rsp_queued = 1;
    return 1;
}

/* cfg.mime_read: the draft file, read at any offset (the same bytes every time). */
static int mime_read(void *user, uint32_t mime_id, uint64_t offset, uint8_t *buf, size_t len)
{
    app_t *a = user;
    (void)mime_id;
    FILE *f = fopen(a->snd_draft, "rb");
    int err = EAS_ERR_IO;
    if (f && fseek(f, (long)offset, SEEK_SET) == 0 && fread(buf, 1, len, f) == len) {
        err = EAS_OK;
    }
    if (f) {
        fclose(f);
    }
    return err;
}

/* The draft: FILE as given, with LF line ends made CR LF, and for reply-all the user's own
   address dropped from To and Cc (single-line headers). */
static int prepare_draft(app_t *a, const char *file, const char *self, int reply_all)
{
    static char in[1 << 20];
    static char line[8192];
    FILE *f = fopen(file, "rb");
    size_t n = f ? fread(in, 1, sizeof(in) - 1, f) : 0;
    if (f) {
        fclose(f);
    }
    if (n == 0 || n >= sizeof(in) - 1) {
        return -1;
    }
    in[n] = '\0';
    FILE *o = fopen_private(a->snd_draft);
    if (!o) {
        return -1;
    }
    int in_head = 1;
    size_t i = 0;
    while (i < n) {
        size_t l = strcspn(in + i, "\n");
        size_t ll = l > 0 && in[i + l - 1] == '\r' ? l - 1 : l;
        if (ll >= sizeof(line)) {
            ll = sizeof(line) - 1;
        }
        memcpy(line, in + i, ll);
        line[ll] = '\0';
        if (ll == 0) {
            in_head = 0;
        }
        i += l + (i + l < n ? 1 : 0);
        if (in_head && reply_all && self &&
            (!strncasecmp(line, "To:", 3) || !strncasecmp(line, "Cc:", 3))) {
            /* A folded To:/Cc: goes on in lines that start with white space (RFC 5322
               2.2.3): unfold it first, or an address on a continuation line would stay. */
            while (i < n && (in[i] == ' ' || in[i] == '\t')) {
                size_t cl = strcspn(in + i, "\n");
                size_t cll = cl > 0 && in[i + cl - 1] == '\r' ? cl - 1 : cl;
                size_t have = strlen(line);
                if (have + cll < sizeof(line)) {
                    memcpy(line + have, in + i, cll);
                    line[have + cll] = '\0';
                }
                i += cl + (i + cl < n ? 1 : 0);
            }
            (void)eas_recipients_drop_self(line + 3, self);
        }
        fprintf(o, "%s\r\n", line);
    }
    long len = ftell(o);
    if (fflush(o) != 0 || fsync(fileno(o)) != 0 || len <= 0) {
        fclose(o);
        return -1;
    }
    fclose(o);
    a->snd.mime_len = (uint64_t)len;
    return 0;
}

static int send_queue(app_t *a)
{
    uint32_t id = 0;
    int err = eas_mail_send(&a->eng, &a->snd, &id);
    if (err != EAS_OK) {
        fprintf(stderr, "eas-sync: --send-mime: %s\n", eas_strerror(err));
        a->failed = err;
        return -1;
    }
    FILE *f = fopen_private(a->snd_marker);
    if (!f || fprintf(f, "%u\n", (unsigned)id) < 0 || fflush(f) != 0 || fsync(fileno(f)) != 0) {
        fprintf(stderr, "eas-sync: cannot write %s\n", a->snd_marker);
    }
    if (f) {
        fclose(f);
    }
    printf("{\"event\":\"send_queued\",\"id\":%u,\"bytes\":%llu}\n", (unsigned)id,
           (unsigned long long)a->snd.mime_len);
    fflush(stdout);
    a->snd_queued = 1;
    return 1;
}

/* Queue the --move once the source folder is known; exactly once per state dir. */
static int move_queue(app_t *a)
{
    if (!eas_engine_folder(&a->eng, a->mv_src)) {
        return 0;
    }
    uint32_t id = 0;
    int err = eas_item_move(&a->eng, a->mv_src, a->mv_sid, a->mv_dst, &id);
    if (err != EAS_OK) {
        fprintf(stderr, "eas-sync: --move: %s\n", eas_strerror(err));
        a->failed = err;
        return -1;
    }
    FILE *f = fopen_private(a->mv_marker);
    if (!f || fprintf(f, "%u\n", (unsigned)id) < 0 || fflush(f) != 0 || fsync(fileno(f)) != 0) {
        fprintf(stderr, "eas-sync: cannot write %s\n", a->mv_marker);
    }
    if (f) {
        fclose(f);
    }
    printf("{\"event\":\"move_queued\",\"id\":%u}\n", (unsigned)id);
    fflush(stdout);
    a->mv_queued = 1;
    return 1;
}

/* The highest outbox id in use (0 when the outbox is empty). */
static uint32_t outbox_max_seq(void)
{
    uint32_t m = 0;
    for (size_t i = 0; i < CONFIG_EAS_OUTBOX_SLOTS; i++) {
        if (g_outbox[i].seq > m) {
            m = g_outbox[i].seq;
        }
    }
    return m;
}

/* The --local-changes marker: "NEXT BASE". NEXT lines are queued; BASE != 0 says line NEXT
   is being queued and BASE - 1 was the highest outbox id before that call. Written to a
   temporary file, synced and renamed, so a kill leaves the old or the new text. */
static int lc_marker_write(app_t *a, unsigned long next, uint32_t base)
{
    char tmp[1100];
    int ok = 0;
    snprintf(tmp, sizeof(tmp), "%s.tmp", a->lc_marker);
    FILE *f = fopen_private(tmp);
    if (f && fprintf(f, "%lu %u\n", next, (unsigned)base) > 0 && fflush(f) == 0 &&
        fsync(fileno(f)) == 0) {
        ok = 1;
    }
    if (f) {
        fclose(f);
    }
    if (!ok || rename(tmp, a->lc_marker) != 0) {
        fprintf(stderr, "eas-sync: cannot write %s\n", a->lc_marker);
        return -1;
    }
    return 0;
}

/* After eas_engine_init() loaded the outbox and before anything else is queued: where the
   previous runs stopped. A kill between "about to queue line N" and "line N queued" leaves
   BASE in the marker; the outbox is the source of truth for whether the call went through.
   Nothing is sent between the call and the marker update (no eas_step() in between), and
   the engine gives a new entry an id above every id in use, so line N is in the outbox iff
   an entry with an id >= BASE is there. Queueing it again would duplicate the add (a new
   ClientId) - hence this check rather than an unconditional retry; and writing "queued"
   before the call would lose the line if the kill fell between the two. */
static void lc_resume(app_t *a)
{
    unsigned long next = 0;
    unsigned base = 0;
    FILE *f = fopen(a->lc_marker, "r");
    if (f) {
        if (fscanf(f, "%lu %u", &next, &base) != 2) {
            next = 0;
            base = 0;
        }
        fclose(f);
    }
    if (base != 0 && outbox_max_seq() >= base) {
        next++;
    }
    a->lc_next = next;
    if (base != 0) {
        (void)lc_marker_write(a, next, 0);
    }
}

/* One line of --local-changes split at TABs into words (modified in place). */
static size_t lc_split(char *line, char **w, size_t cap)
{
    size_t n = 0;
    line[strcspn(line, "\r\n")] = '\0';
    for (char *p = line; p && n < cap;) {
        w[n++] = p;
        p = strchr(p, '\t');
        if (p) {
            *p++ = '\0';
        }
    }
    return n;
}

/* "Page:Tag=value" words into fields. */
static int lc_fields(char **w, size_t n, eas_field_t *out, size_t cap)
{
    if (n > cap) {
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        const char *colon = strchr(w[i], ':'), *eq = strchr(w[i], '=');
        uint8_t page = 0;
        uint16_t tag = 0;
        if (!colon || !eq || eq < colon ||
            eas_wbxml_page_lookup(w[i], (size_t)(colon - w[i]), &page) != EAS_OK ||
            eas_wbxml_tag_lookup(page, colon + 1, (size_t)(eq - colon - 1), &tag) != EAS_OK) {
            /* (field names need CONFIG_EAS_WBXML_NAMES) */
            fprintf(stderr, "eas-sync: --local-changes: unknown field %s\n", w[i]);
            return -1;
        }
        out[i].tag = tag;
        out[i].kind = EAS_FIELD_TEXT;
        out[i].data = eq + 1;
        out[i].len = strlen(eq + 1);
    }
    return (int)n;
}

/* Queue the --local-changes lines not queued yet, in file order, as far as their folders
   (and, for changes and deletes, the completed first sync) allow. -1 on a bad line or an
   engine error, else how many were queued now. */
static int local_queue(app_t *a)
{
    static char line[4096];
    char *w[20];
    eas_field_t fields[16];
    int queued = 0, rc = 0;
    unsigned long ln = 0;
    FILE *f = fopen(a->lc_file, "r");
    if (!f) {
        fprintf(stderr, "eas-sync: cannot read %s\n", a->lc_file);
        return -1;
    }
    while (rc == 0 && fgets(line, sizeof(line), f)) {
        if (line[0] == '#' || line[0] == '\n' || line[0] == '\r') {
            continue;
        }
        if (ln++ < a->lc_next) {
            continue;
        }
        size_t n = lc_split(line, w, sizeof(w) / sizeof(w[0]));
        int is_add = !strcmp(w[0], "add"), is_change = !strcmp(w[0], "change");
        int is_delete = !strcmp(w[0], "delete");
        int is_occ = !strcmp(w[0], "change-occurrence");
        int is_docc = !strcmp(w[0], "delete-occurrence");
        size_t first = is_add ? 2 : (is_occ || is_docc) ? 4 : 3;
        if ((!is_add && !is_change && !is_delete && !is_occ && !is_docc) || n < first ||
            (is_delete && n != 3) || (is_docc && n != 4)) {
            fprintf(stderr, "eas-sync: --local-changes: bad line %lu\n", ln);
            a->failed = EAS_ERR_PARAM;
            rc = -1;
            break;
        }
        if (!eas_engine_folder(&a->eng, w[1]) || (!is_add && !a->done)) {
            break; /* not yet: later lines wait too, the order is the user's */
        }
        int nf = lc_fields(w + first, n - first, fields, sizeof(fields) / sizeof(fields[0]));
        if (nf < 0) {
            a->failed = EAS_ERR_PARAM;
            rc = -1;
            break;
        }
        uint32_t id = 0;
        int err = lc_marker_write(a, a->lc_next, outbox_max_seq() + 1);
        if (err == 0) {
            err = is_add      ? eas_item_add(&a->eng, w[1], fields, (size_t)nf, &id)
                  : is_change ? eas_item_change(&a->eng, w[1], w[2], EAS_CHANGE_EDIT, 0, fields,
                                                (size_t)nf, &id)
                  : is_occ    ? eas_item_change_occurrence(&a->eng, w[1], w[2], w[3],
                                                           EAS_CHANGE_EDIT, 0, fields, (size_t)nf,
                                                           &id)
                  : is_docc   ? eas_item_delete_occurrence(&a->eng, w[1], w[2], w[3], &id)
                              : eas_item_delete(&a->eng, w[1], w[2], &id);
            if (err == EAS_ERR_OUTBOX_FULL) {
                /* Not queued: try again once the server answered some (a small outbox). */
                (void)lc_marker_write(a, a->lc_next, 0);
                break;
            }
            if (err != EAS_OK) {
                fprintf(stderr, "eas-sync: --local-changes line %lu: %s\n", ln, eas_strerror(err));
                a->failed = err;
            }
        }
        if (err != 0 || lc_marker_write(a, a->lc_next + 1, 0) != 0) {
            rc = -1;
            break;
        }
        a->lc_next++;
        queued++;
        printf("{\"event\":\"local_queued\",\"kind\":\"%s\",\"id\":%u,\"line\":%lu}\n", w[0],
               (unsigned)id, ln);
    }
    if (rc == 0 && feof(f)) {
        a->lc_total = ln;
        a->lc_queued = 1;
    }
    fclose(f);
    fflush(stdout);
    return rc < 0 ? -1 : queued;
}

static size_t local_pending(const app_t *a)
{
    return eas_outbox_pending(&a->eng, EAS_OUTBOX_ADD) +
           eas_outbox_pending(&a->eng, EAS_OUTBOX_CHANGE) +
           eas_outbox_pending(&a->eng, EAS_OUTBOX_DELETE);
}

static int step(void *ctx, easd_linux_event_t ev, uint64_t now_ms, uint64_t *next_deadline_ms,
                easd_linux_wait_t *wait)
{
    app_t *a = ctx;
    uint64_t dl = UINT64_MAX;
    static const eas_step_event_t map[] = {EAS_STEP_TICK, EAS_STEP_READABLE, EAS_STEP_WRITABLE,
                                           EAS_STEP_COMMAND};
    int rc = eas_step(&a->eng, map[ev], now_ms, &dl);
    if (a->rsp_sid && !a->rsp_queued && rc == EAS_OK) {
        int q = respond_queue(a);
        if (q < 0) {
            return 2;
        }
        if (q > 0) {
            rc = eas_step(&a->eng, EAS_STEP_COMMAND, now_ms, &dl);
        }
    }
    /* With --respond, "done" also needs the response answered by the server. */
    int done = a->done &&
               (!a->rsp_sid ||
                (a->rsp_queued && eas_outbox_pending(&a->eng, EAS_OUTBOX_MEETING_RESPONSE) == 0));
    if (a->mv_want && !a->mv_queued && rc == EAS_OK) {
        int q = move_queue(a);
        if (q < 0) {
            return 2;
        }
        if (q > 0) {
            rc = eas_step(&a->eng, EAS_STEP_COMMAND, now_ms, &dl);
        }
    }
    if (a->lc_want && !a->lc_queued && rc == EAS_OK) {
        int q = local_queue(a);
        if (q < 0) {
            return 2;
        }
        if (q > 0) {
            rc = eas_step(&a->eng, EAS_STEP_COMMAND, now_ms, &dl);
        }
    }
    /* ... with --local-changes, every line queued and answered. */
    done = done && (!a->lc_want || (a->lc_queued && local_pending(a) == 0));
    done = done &&
           (!a->snd_want || (a->snd_queued && eas_outbox_pending(&a->eng, EAS_OUTBOX_SEND) == 0));
    /* ... and with --fetch, the fetch ended; with --move, the server answered it. */
    done = done && (a->fetch_state == 0 || a->fetch_state >= 2);
    done = done &&
           (!a->mv_want || (a->mv_queued && eas_outbox_pending(&a->eng, EAS_OUTBOX_MOVE) == 0));
    if (done && a->push_ms && a->push_end == 0) {
        a->push_end = now_ms + a->push_ms;
    }
    if (done && (a->push_ms == 0 || now_ms >= a->push_end)) {
        return 1;
    }
    if (rc < 0 && rc != EAS_ERR_AGAIN) {
        a->failed = rc;
        return 2;
    }
    if (g_use_oauth && easd_oauth_state(&g_oauth) == EASD_OAUTH_AUTH_NEEDED) {
        /* The refresh token was refused: nothing will work until the user authorizes
           again. Stop here instead of letting the engine retry. */
        a->failed = EAS_ERR_AUTH;
        return 2;
    }
    if (now_ms >= a->give_up_ms) {
        a->failed = EAS_ERR_TIMEOUT;
        return 3;
    }
    unsigned io = eas_engine_wait_io(&a->eng);
    easd_linux_net_wait(&a->lnet, (io & EAS_IO_READ) != 0, (io & EAS_IO_WRITE) != 0, wait);
    *next_deadline_ms = dl < a->give_up_ms ? dl : a->give_up_ms;
    if (a->push_end && a->push_end < *next_deadline_ms) {
        *next_deadline_ms = a->push_end;
    }
    return 0;
}

static uint8_t parse_classes(const char *s)
{
    uint8_t m = 0;
    m |= strstr(s, "Calendar") ? EAS_CLASS_CALENDAR : 0;
    m |= strstr(s, "Contacts") ? EAS_CLASS_CONTACTS : 0;
    m |= strstr(s, "Email") ? EAS_CLASS_EMAIL : 0;
    m |= strstr(s, "Tasks") ? EAS_CLASS_TASKS : 0;
    m |= strstr(s, "Notes") ? EAS_CLASS_NOTES : 0;
    return m;
}

static eas_proto_ver_t parse_version(const char *s)
{
    const eas_proto_ver_t all[] = {EAS_VER_12_1, EAS_VER_14_0, EAS_VER_14_1, EAS_VER_16_0,
                                   EAS_VER_16_1};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        if (strcmp(eas_proto_ver_string(all[i]), s) == 0) {
            return all[i];
        }
    }
    return EAS_VER_NONE;
}

/* "SERVER_ID:reply[:INSTANCE]": ServerIds ("1:7") and InstanceIds (times) contain colons, so
   the reply word is what splits them. */
static int parse_respond(app_t *a, const char *spec, const char *folder, const char *state)
{
    static const struct {
        const char *word;
        eas_meeting_reply_t reply;
    } words[] = {{":accept", EAS_MEETING_ACCEPT},
                 {":tentative", EAS_MEETING_TENTATIVE},
                 {":decline", EAS_MEETING_DECLINE}};
    for (size_t w = 0; w < 3; w++) {
        size_t wl = strlen(words[w].word);
        for (const char *p = strstr(spec, words[w].word); p; p = strstr(p + 1, words[w].word)) {
            if (p[wl] != '\0' && p[wl] != ':') {
                continue;
            }
            size_t sl = (size_t)(p - spec);
            const char *inst = p[wl] == ':' ? p + wl + 1 : "";
            if (sl == 0 || sl >= sizeof(a->rsp_sid_buf) ||
                strlen(inst) >= sizeof(a->rsp_instance) ||
                (folder && strlen(folder) >= sizeof(a->rsp_folder))) {
                return -1;
            }
            memcpy(a->rsp_sid_buf, spec, sl);
            a->rsp_sid_buf[sl] = '\0';
            a->rsp_sid = a->rsp_sid_buf;
            snprintf(a->rsp_instance, sizeof(a->rsp_instance), "%s", inst);
            snprintf(a->rsp_folder, sizeof(a->rsp_folder), "%s", folder ? folder : "");
            a->rsp_reply = words[w].reply;
            /* One marker per decision spec (FNV-1a of the text). */
            uint32_t h = 2166136261u;
            for (const char *c = spec; *c; c++) {
                h = (h ^ (uint8_t)*c) * 16777619u;
            }
            snprintf(a->rsp_marker, sizeof(a->rsp_marker), "%s/respond.%08x", state, (unsigned)h);
            return 0;
        }
    }
    return -1;
}

static void usage(void)
{
    fprintf(stderr, "usage: eas-sync --url URL --user USER --password-file FILE --device-id ID "
                    "--state DIR [--ca-file FILE] [--classes Calendar,Contacts,Email,Tasks] "
                    "[--max-version 14.1] [--timeout SECONDS] "
                    "[--expand-from 20250101T000000Z --expand-days N] [--push SECONDS] "
                    "[--backoff-busy-ms N] "
                    "[--respond SERVER_ID:accept|tentative|decline[:INSTANCE] "
                    "[--respond-folder ID] [--respond-uid UID]] [--fetch FOLDER:SERVER_ID | --fetch-ref REF] "
                    "[--fetch-out FILE] [--move SRC:SERVER_ID:DST] [--progress] "
                    "[--send-mime FILE [--reply|--forward FOLDER:SERVER_ID] [--save-in-sent] "
                    "[--reply-all --email ADDR]] [--local-changes FILE] [--quiet] "
                    "[--auth basic|oauth-device|oauth-pkce --oauth-client-id ID "
                    "[--oauth-tenant T] [--oauth-authority URL] [--oauth-scope S] "
                    "[--oauth-device-endpoint URL] [--oauth-token-endpoint URL] "
                    "[--oauth-authorize-endpoint URL] [--oauth-token-file FILE] "
                    "[--oauth-ca-file FILE] [--oauth-redirect-port N] "
                    "[--oauth-redirect-host 127.0.0.1|localhost] [--oauth-margin S] "
                    "[--oauth-wait S]] "
                    "[--allow-redirect HOST]... [--allow-plaintext-auth] "
                    "[--user-agent UA] [--device-model M] [--device-name N] [--device-os OS] "
                    "[--device-language L]\n");
}

int main(int argc, char **argv)
{
    const char *url = NULL, *user = NULL, *pwfile = NULL, *devid = NULL, *state = NULL;
    const char *ca = NULL, *classes = "Calendar,Contacts,Email,Tasks", *maxv = NULL;
    /* Settings DeviceInformation (sent once, again when one of these changes) */
    const char *user_agent = NULL;
    eas_device_info_t devinfo = {NULL, NULL, NULL, NULL};
    unsigned long timeout_s = 300;
    unsigned long backoff_busy_ms = 0;
    const char *expand_from = NULL;
    unsigned long expand_days = 0;
    const char *respond = NULL, *respond_folder = NULL;
    uint32_t move_hash = 0;
    int progress = 0, reply_all = 0, allow_plaintext = 0;
    static const char *allow[16];
    size_t n_allow = 0;
    const char *send_file = NULL, *email = NULL;
    const char *auth = "basic", *oauth_file = NULL;
    unsigned long oauth_wait = 900;
    static easd_oauth_config_t oc;
    app_t *a = &g_app;

    /* Before any secret is read: no core dumps, no ptrace by other processes, private files. */
    if (easd_linux_harden_process() != EAS_OK) {
        fprintf(stderr, "eas-sync: cannot disable core dumps for this process\n");
        return 2;
    }

    for (int i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(argv[i], "--quiet")) {
            g_quiet = 1;
            continue;
        }
        if (!strcmp(argv[i], "--progress")) {
            progress = 1;
            continue;
        }
        if (!strcmp(argv[i], "--save-in-sent")) {
            a->snd.save_in_sent = true;
            continue;
        }
        if (!strcmp(argv[i], "--reply-all")) {
            reply_all = 1;
            continue;
        }
        if (!strcmp(argv[i], "--allow-plaintext-auth")) {
            allow_plaintext = 1;
            continue;
        }
        if (!v) {
            usage();
            return 2;
        }
        if (!strcmp(argv[i], "--url")) {
            url = v;
        } else if (!strcmp(argv[i], "--user")) {
            user = v;
        } else if (!strcmp(argv[i], "--password-file")) {
            pwfile = v;
        } else if (!strcmp(argv[i], "--device-id")) {
            devid = v;
        } else if (!strcmp(argv[i], "--state")) {
            state = v;
        } else if (!strcmp(argv[i], "--ca-file")) {
            ca = v;
        } else if (!strcmp(argv[i], "--allow-redirect")) {
            if (n_allow >= sizeof(allow) / sizeof(allow[0])) {
                fprintf(stderr, "eas-sync: at most 16 --allow-redirect hosts\n");
                return 2;
            }
            allow[n_allow++] = v;
        } else if (!strcmp(argv[i], "--classes")) {
            classes = v;
        } else if (!strcmp(argv[i], "--user-agent")) {
            user_agent = v;
        } else if (!strcmp(argv[i], "--device-model")) {
            devinfo.model = v;
        } else if (!strcmp(argv[i], "--device-name")) {
            devinfo.friendly_name = v;
        } else if (!strcmp(argv[i], "--device-os")) {
            devinfo.os = v;
        } else if (!strcmp(argv[i], "--device-language")) {
            devinfo.os_language = v;
        } else if (!strcmp(argv[i], "--max-version")) {
            maxv = v;
        } else if (!strcmp(argv[i], "--timeout")) {
            timeout_s = strtoul(v, NULL, 10);
        } else if (!strcmp(argv[i], "--push")) {
            a->push_ms = strtoul(v, NULL, 10) * 1000u;
        } else if (!strcmp(argv[i], "--backoff-busy-ms")) {
            backoff_busy_ms = strtoul(v, NULL, 10);
        } else if (!strcmp(argv[i], "--expand-from")) {
            expand_from = v;
        } else if (!strcmp(argv[i], "--expand-days")) {
            expand_days = strtoul(v, NULL, 10);
        } else if (!strcmp(argv[i], "--respond")) {
            respond = v;
        } else if (!strcmp(argv[i], "--respond-folder")) {
            respond_folder = v;
        } else if (!strcmp(argv[i], "--respond-uid")) {
            a->rsp_uid = v;
        } else if (!strcmp(argv[i], "--fetch")) {
            const char *c = strchr(v, ':');
            if (!c || c == v || !c[1]) {
                usage();
                return 2;
            }
            static char fbuf[EAS_ID_CAP];
            snprintf(fbuf, sizeof(fbuf), "%.*s", (int)(c - v), v);
            a->fetch_folder = fbuf;
            a->fetch_sid = c + 1;
        } else if (!strcmp(argv[i], "--move")) {
            const char *c1 = strchr(v, ':'), *c2 = strrchr(v, ':');
            if (!c1 || c1 == c2 || c1 == v || c2 == c1 + 1 || !c2[1] ||
                (size_t)(c1 - v) >= EAS_ID_CAP || (size_t)(c2 - c1 - 1) >= EAS_ID_CAP ||
                strlen(c2 + 1) >= EAS_ID_CAP) {
                usage();
                return 2;
            }
            snprintf(a->mv_src, sizeof(a->mv_src), "%.*s", (int)(c1 - v), v);
            snprintf(a->mv_sid, sizeof(a->mv_sid), "%.*s", (int)(c2 - c1 - 1), c1 + 1);
            snprintf(a->mv_dst, sizeof(a->mv_dst), "%s", c2 + 1);
            a->mv_want = 1;
            uint32_t h = 2166136261u;
            for (const char *c = v; *c; c++) {
                h = (h ^ (uint8_t)*c) * 16777619u;
            }
            move_hash = h;
        } else if (!strcmp(argv[i], "--local-changes")) {
            a->lc_file = v;
            a->lc_want = 1;
        } else if (!strcmp(argv[i], "--send-mime")) {
            send_file = v;
        } else if (!strcmp(argv[i], "--reply") || !strcmp(argv[i], "--forward")) {
            const char *c = strchr(v, ':');
            if (!c || c == v || !c[1] || (size_t)(c - v) >= EAS_ID_CAP) {
                usage();
                return 2;
            }
            snprintf(a->snd_src, sizeof(a->snd_src), "%.*s", (int)(c - v), v);
            a->snd.cmd = !strcmp(argv[i], "--reply") ? EAS_MAIL_REPLY : EAS_MAIL_FORWARD;
            a->snd.src_folder = a->snd_src;
            a->snd.src_item = c + 1;
        } else if (!strcmp(argv[i], "--email")) {
            email = v;
        } else if (!strcmp(argv[i], "--fetch-ref")) {
            a->fetch_ref = v;
        } else if (!strcmp(argv[i], "--fetch-out")) {
            a->fetch_out = v;
        } else if (!strcmp(argv[i], "--auth")) {
            auth = v;
        } else if (!strcmp(argv[i], "--oauth-client-id")) {
            oc.client_id = v;
        } else if (!strcmp(argv[i], "--oauth-tenant")) {
            oc.tenant = v;
        } else if (!strcmp(argv[i], "--oauth-authority")) {
            oc.authority = v;
        } else if (!strcmp(argv[i], "--oauth-scope")) {
            oc.scope = v;
        } else if (!strcmp(argv[i], "--oauth-device-endpoint")) {
            oc.device_endpoint = v;
        } else if (!strcmp(argv[i], "--oauth-token-endpoint")) {
            oc.token_endpoint = v;
        } else if (!strcmp(argv[i], "--oauth-authorize-endpoint")) {
            oc.authorize_endpoint = v;
        } else if (!strcmp(argv[i], "--oauth-token-file")) {
            oauth_file = v;
        } else if (!strcmp(argv[i], "--oauth-ca-file")) {
            oc.ca_file = v;
        } else if (!strcmp(argv[i], "--oauth-redirect-port")) {
            oc.redirect_port = (uint16_t)strtoul(v, NULL, 10);
        } else if (!strcmp(argv[i], "--oauth-redirect-host")) {
            oc.redirect_host = v;
        } else if (!strcmp(argv[i], "--oauth-margin")) {
            oc.refresh_margin_s = (uint32_t)strtoul(v, NULL, 10);
        } else if (!strcmp(argv[i], "--oauth-wait")) {
            oauth_wait = strtoul(v, NULL, 10);
        } else {
            usage();
            return 2;
        }
        i++;
    }
    g_use_oauth = !strcmp(auth, "oauth-device") || !strcmp(auth, "oauth-pkce");
    if (!g_use_oauth && strcmp(auth, "basic") != 0) {
        usage();
        return 2;
    }
    if (!url || !user || (!pwfile && !g_use_oauth) || !devid || !state ||
        (g_use_oauth && !oc.client_id)) {
        usage();
        return 2;
    }
    if (expand_from) {
#if CONFIG_EAS_CALENDAR
        if (eas_cal_parse_time(expand_from, strlen(expand_from), &g_expand_from) != EAS_OK ||
            expand_days == 0 || expand_days > 36600) {
            fprintf(stderr, "eas-sync: bad --expand-from/--expand-days\n");
            return 2;
        }
        g_expand_to = g_expand_from + (int64_t)expand_days * 86400;
#else
        fprintf(stderr, "eas-sync: built without CONFIG_EAS_CALENDAR\n");
        return 2;
#endif
    }
    if (respond && parse_respond(a, respond, respond_folder, state) != 0) {
        fprintf(stderr,
                "eas-sync: bad --respond (SERVER_ID:accept|tentative|decline[:INSTANCE])\n");
        return 2;
    }
    if (!g_use_oauth) {
        const char *why = "";
        int perr = easd_linux_read_secret(pwfile, g_password, sizeof(g_password), &why);
        if (perr != EAS_OK) {
            fprintf(stderr, "eas-sync: password file %s %s\n", pwfile, why);
            return 2;
        }
    }
    atexit(wipe_secrets); /* every way out, not only the normal end */
    int derr = easd_linux_private_dir(state);
    if (derr != EAS_OK) {
        fprintf(stderr, "eas-sync: state dir %s: %s\n", state,
                derr == EAS_ERR_FORBIDDEN ? "owned by another user" : "cannot be created");
        return 2;
    }

    easd_linux_log_config_t lc = {.sink = EASD_LINUX_LOG_STDERR, .min_level = HAL_LOG_WARN};
    easd_linux_log_config(&lc);
    if (easd_linux_store_init(state) != EAS_OK) {
        fprintf(stderr, "eas-sync: cannot use state dir %s\n", state);
        return 2;
    }
    if (g_use_oauth) {
        static char token_path[4096];
        if (!oauth_file) {
            snprintf(token_path, sizeof(token_path), "%s/oauth-token", state);
            oauth_file = token_path;
        }
        oc.token_file = oauth_file;
        if (!oc.ca_file) {
            oc.ca_file = ca;
        }
        oc.on_device_code = show_device_code;
        oc.on_authorize_url = show_authorize_url;
        int orc = easd_oauth_init(&g_oauth, &oc);
        if (orc != EAS_OK) {
            fprintf(stderr, "eas-sync: OAuth setup failed: %s\n", eas_strerror(orc));
            return 2;
        }
        if (easd_oauth_state(&g_oauth) != EASD_OAUTH_READY) {
            /* No usable refresh token: the user authorizes now. */
            orc = !strcmp(auth, "oauth-device")
                      ? easd_oauth_device_flow(&g_oauth, (uint32_t)oauth_wait)
                      : easd_oauth_pkce_flow(&g_oauth, (uint32_t)oauth_wait);
            if (orc != EAS_OK) {
                fprintf(stderr, "eas-sync: authorization failed: %s%s%s\n", eas_strerror(orc),
                        g_oauth.last_error[0] ? ": " : "", g_oauth.last_error);
                printf("{\"event\":\"summary\",\"complete\":false,\"oauth\":\"%s\","
                       "\"error\":\"%s\"}\n",
                       easd_oauth_state(&g_oauth) == EASD_OAUTH_AUTH_NEEDED ? "authorization_needed"
                                                                            : "none",
                       eas_err_name(orc));
                easd_oauth_deinit(&g_oauth);
                return 1;
            }
        }
    }
    easd_linux_net_config_t nc = {.ca_file = ca};
    int nerr = easd_linux_net_init(&a->lnet, &nc, &a->net);
    if (nerr == EAS_ERR_TLS_CA) {
        /* Permanent: retrying would only hide it until the timeout. */
        fprintf(stderr, "eas-sync: --ca-file %s: no usable CA certificate (missing or not PEM)\n",
                ca);
        return 2;
    }
    if (nerr != EAS_OK) {
        fprintf(stderr, "eas-sync: network init failed\n");
        return 2;
    }
    static eas_account_cfg_t cfg;
    cfg.url = url;
    cfg.user = user;
    cfg.device_id = devid;
    cfg.device_type = "easd";
    cfg.user_agent = user_agent;
    cfg.device_info = devinfo;
    if (g_use_oauth) {
        cfg.auth.kind = EAS_HTTP_AUTH_BEARER;
        cfg.auth.token = easd_oauth_token;
        cfg.auth.token_user = &g_oauth;
    } else {
        cfg.auth.kind = EAS_HTTP_AUTH_BASIC;
        cfg.auth.user = user;
        cfg.auth.password = g_password;
    }
    cfg.max_version = maxv ? parse_version(maxv) : EAS_VER_NONE;
    cfg.classes = parse_classes(classes);
    cfg.body_type = 1;
    cfg.body_truncation = 32768; /* whole bodies on demand (ItemOperations) later */
    cfg.window_size = 100;
    cfg.backoff_busy_ms = backoff_busy_ms > UINT32_MAX ? UINT32_MAX : (uint32_t)backoff_busy_ms;
    cfg.store_prefix = "acct0";
    cfg.progress = progress != 0;
    cfg.email = email;
    cfg.mime_read = mime_read;
    cfg.mime_user = a;
    cfg.utc_now = utc_clock;
    cfg.redirect_allow.hosts = allow;
    cfg.redirect_allow.n_hosts = n_allow;
    cfg.allow_plaintext_auth = allow_plaintext != 0;
    /* Without --push the run ends after the sync: no Ping nobody would wait for. */
    cfg.no_push = a->push_ms == 0;
    if (send_file) {
        /* One draft and marker per (file, command) */
        uint32_t h = 2166136261u;
        for (const char *c = send_file; *c; c++) {
            h = (h ^ (uint8_t)*c) * 16777619u;
        }
        h = (h ^ (uint8_t)a->snd.cmd) * 16777619u;
        snprintf(a->snd_draft, sizeof(a->snd_draft), "%s/outgoing.%08x.eml", state, (unsigned)h);
        snprintf(a->snd_marker, sizeof(a->snd_marker), "%s/send.%08x", state, (unsigned)h);
        if (a->snd.cmd == 0) {
            a->snd.cmd = EAS_MAIL_SEND;
        }
        a->snd.mime_id = 1;
        a->snd_want = 1;
        if (access(a->snd_marker, F_OK) == 0) {
            a->snd_queued = 1; /* queued by an earlier run: the draft stays as it was */
            FILE *df = fopen(a->snd_draft, "rb");
            if (df && fseek(df, 0, SEEK_END) == 0) {
                a->snd.mime_len = (uint64_t)ftell(df);
            }
            if (df) {
                fclose(df);
            }
        } else if (prepare_draft(a, send_file, email, reply_all) != 0) {
            fprintf(stderr, "eas-sync: cannot prepare %s\n", send_file);
            return 2;
        }
    }
    if (a->lc_want) {
        uint32_t h = 2166136261u;
        for (const char *c = a->lc_file; *c; c++) {
            h = (h ^ (uint8_t)*c) * 16777619u;
        }
        snprintf(a->lc_marker, sizeof(a->lc_marker), "%s/local.%08x", state, (unsigned)h);
    }
    if (a->mv_want) {
        snprintf(a->mv_marker, sizeof(a->mv_marker), "%s/move.%08x", state, (unsigned)move_hash);
    }
    eas_arena_init(&g_arena, g_arena_mem, sizeof(g_arena_mem));
    eas_engine_mem_t mem = {g_folders,      CONFIG_EAS_MAX_FOLDERS,
                            g_outbox,       CONFIG_EAS_OUTBOX_SLOTS,
                            &g_arena,       g_work,
                            sizeof(g_work), NULL,
                            g_cookie_mem,   sizeof(g_cookie_mem),
                            EAS_CONFIG_FINGERPRINT};
#if CONFIG_EAS_CALENDAR
    g_cal.exceptions = g_cal_ex;
    g_cal.exception_cap = (uint16_t)(sizeof(g_cal_ex) / sizeof(g_cal_ex[0]));
    g_cal.attendees = g_cal_att;
    g_cal.attendee_cap = (uint16_t)(sizeof(g_cal_att) / sizeof(g_cal_att[0]));
    mem.cal = &g_cal;
#endif
    int err = eas_engine_init(&a->eng, &cfg, &mem, &a->net, easd_linux_hal(), on_event, a);
    if (err == EAS_ERR_HTTP_PLAINTEXT_AUTH) {
        fprintf(stderr, "eas-sync: refusing to send the password over plain http (use https, "
                        "or --allow-plaintext-auth on a network you trust)\n");
        return 2;
    }
    if (err != EAS_OK) {
        fprintf(stderr, "eas-sync: %s\n", eas_strerror(err));
        return 1;
    }
    if (a->fetch_sid || a->fetch_ref) {
        /* Asked at once: the engine sends it after the account is set up, before the
           folder syncs. */
        uint32_t fid = 0;
        err = eas_fetch(&a->eng, a->fetch_folder, a->fetch_sid, a->fetch_ref, &fid);
        if (err != EAS_OK) {
            fprintf(stderr, "eas-sync: --fetch: %s\n", eas_strerror(err));
            return 2;
        }
        a->fetch_state = 1;
    }
    if (a->lc_want) {
        lc_resume(a); /* before anything else can be queued */
    }
    if (a->snd_want && !a->snd_queued && send_queue(a) < 0) {
        return 1;
    }
    if (a->mv_want && access(a->mv_marker, F_OK) == 0) {
        a->mv_queued = 1; /* an earlier run queued it */
    }
    if (a->rsp_sid && access(a->rsp_marker, F_OK) == 0) {
        a->rsp_queued = 1; /* an earlier run queued it: the outbox has it (or it is done) */
    }
    easd_linux_loop_t loop;
    easd_linux_loop_init(&loop, EASD_LINUX_LOOP_SIGNALS);
    a->give_up_ms = hal_time_monotonic_ms() + (uint64_t)timeout_s * 1000u + a->push_ms;
    (void)easd_linux_loop_run(&loop, step, a);
    easd_linux_loop_deinit(&loop);
    const char *pending = eas_engine_pending_redirect(&a->eng);
    if (pending) {
        fprintf(stderr,
                "eas-sync: the server redirects to %s: redirect needs approval "
                "(run again with --allow-redirect HOST to follow it)\n",
                pending);
    }
    eas_engine_close(&a->eng);
    easd_linux_net_deinit(&a->lnet);
    easd_linux_store_deinit();
    char oauth_summary[128] = "";
    if (g_use_oauth) {
        easd_oauth_state_t os = easd_oauth_state(&g_oauth);
        snprintf(oauth_summary, sizeof(oauth_summary), "\"oauth\":\"%s\",\"oauth_refreshes\":%lu,",
                 os == EASD_OAUTH_READY         ? "ready"
                 : os == EASD_OAUTH_AUTH_NEEDED ? "authorization_needed"
                                                : "none",
                 g_oauth.refreshes);
        easd_oauth_deinit(&g_oauth);
    }
    /* The password and the request buffers (Basic credentials are encoded there) go now. */
    easd_linux_wipe(g_password, sizeof(g_password));
    easd_linux_wipe(g_work, sizeof(g_work));
    printf("{\"event\":\"summary\",%s\"complete\":%s,\"folders\":%lu,\"adds\":%lu,\"changes\":%lu,"
           "\"deletes\":%lu,\"errors\":%lu,\"parked\":%lu,\"outbox_results\":%lu,"
           "\"local_queued\":%lu,\"local_pending\":%zu,\"arena_peak\":%zu,\"lost\":%lu,"
           "\"state\":\"%s\",\"error\":\"%s\"}\n",
           oauth_summary, (a->done && !a->parked) ? "true" : "false", a->folders, a->adds,
           a->changes, a->deletes, a->errors, a->parked, a->outbox_results, a->lc_next,
           local_pending(a), g_arena.peak, a->lost,
           eas_engine_state_name(eas_engine_state(&a->eng)),
           a->failed ? eas_err_name(a->failed) : "");
    int ok =
        a->done && !a->parked && !a->lost && (a->fetch_state == 0 || a->fetch_state == 2) &&
        (!a->lc_want || (a->lc_queued && local_pending(a) == 0)) &&
        (!a->snd_want || (a->snd_queued && eas_outbox_pending(&a->eng, EAS_OUTBOX_SEND) == 0)) &&
        (!a->mv_want || (a->mv_queued && eas_outbox_pending(&a->eng, EAS_OUTBOX_MOVE) == 0)) &&
        (!a->rsp_sid ||
         (a->rsp_queued && eas_outbox_pending(&a->eng, EAS_OUTBOX_MEETING_RESPONSE) == 0));
    return ok ? 0 : 1;
}
