/* SPDX-License-Identifier: Apache-2.0 */
/*
 * easd: the Exchange ActiveSync daemon for Linux.
 *
 *   easd --config FILE [--once [--timeout SECONDS]] [--foreground] [-v...]
 *
 * Syncs one account into a local store other programs read: calendars and contacts as vdir
 * collections (one .ics per event, one .vcf per contact), mail as Maildir. Then it stays in
 * the Ping loop (or, with --once, sends no Ping and exits 0 once everything is synced and
 * every local change the start-up scan found has been answered by the server). Files created, changed or
 * deleted in the calendar and contact collections by other programs go to the server
 * through the engine's outbox; a server change to a file that was also edited locally wins,
 * and the local version is kept beside it as NAME.conflict-TIME. In the Maildir folders, a
 * message marked seen or unseen by a mail reader (its S flag) changes Email:Read on the
 * server, a message removed is deleted there and one moved to another folder is moved.
 *
 * SIGTERM/SIGINT: close and exit (state persisted). SIGHUP: read the configuration again
 * (password, log level, heartbeat, classes...); a bad file is logged and the old one kept.
 * easctl talks to it over STATE/run/easd.sock.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "eas/eas_cookie.h"
#if CONFIG_EAS_AUTODISCOVER
#include "eas/eas_autodiscover.h"
#endif
#include "easd.h"
#include "easd_linux.h"
#include "easd_oauth.h"

#define MAX_COLLS   64
#define MAX_CLIENTS 8

typedef struct daemon {
    easd_config_t cfg;
    eas_account_cfg_t acct;
    char server_url[1024]; /* configured, or found by Autodiscover */
    char allow_buf[512];   /* redirect_allow split into allow_hosts */
    const char *allow_hosts[EASD_REDIRECT_HOSTS];
    char password[512];
    char device_id[EAS_ID_CAP];
    char device_os[96];   /* "Linux <release>" for Settings DeviceInformation */
    char device_name[64]; /* device_name, or the host name */
    eas_engine_t eng;
    easd_linux_net_t lnet;
    hal_net_t net;
    bool engine_up;
    int stopped_err; /* error of a stopped state, 0 running */

    easd_coll_t colls[MAX_COLLS];
    size_t ncolls;
    bool folders_dirty;

    /* the item being received */
    easd_rec_t rec;

    /* status */
    eas_engine_state_t state;
    time_t last_sync;
    char last_error[256];
    bool status_dirty;
    bool synced_once; /* SYNC_COMPLETE seen in this run */
    unsigned long adds, changes, deletes, local_sent, conflicts;

    /* policy */
    uint16_t policy_restricts;

    /* progress on a terminal */
    bool tty;
    bool progress_line;

    /* local changes */
    bool scan_pending; /* compare every collection with its index */
    bool cmd_pending;
    /* files inotify reported since the last look (a full scan when it overflows) */
    struct {
        int wd;
        char name[256];
    } touched[256];
    size_t ntouched;

    int ino_fd;
    int ctl_fd;
    int sig_fd;
    char ctl_path[EASD_PATH_MAX];
    bool once;
    bool stop;
} daemon_t;

static daemon_t g;
static eas_folder_t g_folders[CONFIG_EAS_MAX_FOLDERS];
static eas_outbox_slot_t g_outbox[CONFIG_EAS_OUTBOX_SLOTS];
static uint8_t g_arena_mem[CONFIG_EAS_ARENA_SIZE];
static uint8_t g_work[EAS_HTTP_CLIENT_WORK_SIZE];
/* The account's cookies (MS-ASHTTP: 16.x / OAuth servers route by them); persisted by the
   engine in the store. */
static _Alignas(8) uint8_t g_cookie_mem[EAS_COOKIE_JAR_SIZE];

static int64_t utc_clock(void *user)
{
    (void)user;
    int64_t t = 0;
    return hal_time_utc(&t) == EAS_OK ? t : 0;
}
static eas_arena_t g_arena;
static easd_fields_t g_fields;
#if CONFIG_EAS_CALENDAR
static eas_engine_cal_t g_cal;
static eas_cal_exception_t g_cal_ex[CONFIG_EAS_CAL_MAX_EXCEPTIONS];
static eas_cal_attendee_t g_cal_att[64];
#endif

__attribute__((format(printf, 2, 3))) static void logf_(hal_log_level_t lvl, const char *fmt, ...)
{
    char buf[600];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n < 0) {
        return;
    }
    if ((size_t)n >= sizeof(buf)) {
        n = (int)sizeof(buf) - 1;
    }
    if (g.progress_line) {
        (void)!write(STDERR_FILENO, "\n", 1);
        g.progress_line = false;
    }
    easd_linux_log_write(lvl, "easd", buf, (size_t)n);
}

#define LOGE(...) logf_(HAL_LOG_ERROR, __VA_ARGS__)
#define LOGW(...) logf_(HAL_LOG_WARN, __VA_ARGS__)
#define LOGI(...) logf_(HAL_LOG_INFO, __VA_ARGS__)
#define LOGD(...) logf_(HAL_LOG_DEBUG, __VA_ARGS__)

/* ------------------------------------------------------------------------------------- */
/* Collections                                                                           */
/* ------------------------------------------------------------------------------------- */

static const char *class_dir(uint8_t cls)
{
    return cls == EAS_CLASS_CALENDAR   ? "calendars"
           : cls == EAS_CLASS_CONTACTS ? "contacts"
           : cls == EAS_CLASS_EMAIL    ? "mail"
                                       : NULL;
}

static const char *class_ext(uint8_t cls)
{
    return cls == EAS_CLASS_CALENDAR ? ".ics" : cls == EAS_CLASS_CONTACTS ? ".vcf" : "";
}

static easd_coll_t *coll_find(const char *sid)
{
    for (size_t i = 0; i < g.ncolls; i++) {
        if (strcmp(g.colls[i].sid, sid) == 0) {
            return &g.colls[i];
        }
    }
    return NULL;
}

static void rec_dir(const easd_coll_t *c, char *out, size_t cap)
{
    char esc[3 * EAS_ID_CAP + 1];
    easd_escape_name(c->sid, esc, sizeof(esc));
    (void)snprintf(out, cap, "%s/items/%s", g.cfg.state_dir, esc);
}

static void rec_path(const easd_coll_t *c, const char *name, char *out, size_t cap)
{
    char d[EASD_PATH_MAX];
    rec_dir(c, d, sizeof(d));
    (void)snprintf(out, cap, "%s/%s.rec", d, name);
}

static void watch(easd_coll_t *c)
{
    if (g.ino_fd >= 0 && c->wd < 0 && c->cls == EAS_CLASS_EMAIL) {
        /* Maildir readers rename a message to change its flags and unlink it to delete it;
           both happen in cur/ (new/ only for mail delivered by something else). */
        char d[EASD_PATH_MAX + 8];
        const uint32_t ev = IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_CLOSE_WRITE;
        (void)snprintf(d, sizeof(d), "%s/cur", c->dir);
        c->wd = inotify_add_watch(g.ino_fd, d, ev);
        (void)snprintf(d, sizeof(d), "%s/new", c->dir);
        c->wd_new = inotify_add_watch(g.ino_fd, d, ev);
        if (c->wd < 0) {
            LOGW("cannot watch %s/cur: %s (changes there are seen at the next start)", c->dir,
                 strerror(errno));
        }
        return;
    }
    if (g.ino_fd >= 0 && c->wd < 0 && c->cls != EAS_CLASS_EMAIL) {
        c->wd = inotify_add_watch(g.ino_fd, c->dir,
                                  IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE);
        if (c->wd < 0) {
            LOGW("cannot watch %s: %s (changes there are seen at the next start)", c->dir,
                 strerror(errno));
        }
    }
}

/* The folders file: sid TAB class TAB dir TAB name. */
static int folders_save(void)
{
    char path[EASD_PATH_MAX + 16];
    size_t cap = 1024 + g.ncolls * 1600, o = 0;
    char *buf = malloc(cap);
    if (!buf) {
        return -1;
    }
    for (size_t i = 0; i < g.ncolls; i++) {
        const easd_coll_t *c = &g.colls[i];
        o +=
            (size_t)snprintf(buf + o, cap - o, "%s\t%u\t%s\t%s\n", c->sid, c->cls, c->dir, c->name);
    }
    (void)snprintf(path, sizeof(path), "%s/folders", g.cfg.state_dir);
    int rc = easd_write_atomic(path, buf, o);
    free(buf);
    g.folders_dirty = rc != 0;
    return rc;
}

/* Ids and names go into TAB/line separated state files: a server's control characters in
   them must not split a line. */
static bool id_ok(const char *s)
{
    for (; *s; s++) {
        if ((unsigned char)*s < 0x20 || *s == 0x7f) {
            return false;
        }
    }
    return true;
}

static void name_clean(char *s)
{
    for (; *s; s++) {
        if ((unsigned char)*s < 0x20 || *s == 0x7f) {
            *s = ' ';
        }
    }
}

static easd_coll_t *coll_new(const char *sid, uint8_t cls, const char *dir, const char *name)
{
    if (g.ncolls >= MAX_COLLS) {
        LOGW("more than %d synced folders; folder %s left out of the store", MAX_COLLS, sid);
        return NULL;
    }
    easd_coll_t *c = &g.colls[g.ncolls++];
    memset(c, 0, sizeof(*c));
    (void)snprintf(c->sid, sizeof(c->sid), "%s", sid);
    (void)snprintf(c->name, sizeof(c->name), "%s", name);
    name_clean(c->name);
    (void)snprintf(c->dir, sizeof(c->dir), "%s", dir);
    char esc[3 * EAS_ID_CAP + 1];
    easd_escape_name(sid, esc, sizeof(esc));
    (void)snprintf(c->ixpath, sizeof(c->ixpath), "%s/index/%s", g.cfg.state_dir, esc);
    c->cls = cls;
    c->wd = -1;
    c->wd_new = -1;
    return c;
}

static void folders_load(void)
{
    char path[EASD_PATH_MAX + 16];
    char *data = NULL;
    size_t len = 0;
    (void)snprintf(path, sizeof(path), "%s/folders", g.cfg.state_dir);
    if (easd_read_file(path, &data, &len, 16u << 20) != 0) {
        return;
    }
    char *save = NULL;
    for (char *l = strtok_r(data, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        char *w[4];
        size_t n = 0;
        for (char *p = l; p && n < 4;) {
            w[n++] = p;
            p = strchr(p, '\t');
            if (p) {
                *p++ = '\0';
            }
        }
        if (n != 4 || strlen(w[0]) >= EAS_ID_CAP || w[2][0] != '/') {
            continue;
        }
        easd_coll_t *c = coll_new(w[0], (uint8_t)atoi(w[1]), w[2], w[3]);
        if (c) {
            (void)easd_ix_load(c);
        }
    }
    free(data);
}

/* A directory name from a display name: readable, unique among the collections. */
static void dir_for(uint8_t cls, const char *name, const char *sid, char *out, size_t cap)
{
    char slug[128];
    size_t o = 0;
    for (const char *p = name; *p && o + 1 < sizeof(slug); p++) {
        unsigned char ch = (unsigned char)*p;
        slug[o++] = (ch >= 0x80 || (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
                     (ch >= '0' && ch <= '9') || ch == '-' || ch == '_')
                        ? (char)ch
                        : '_';
    }
    slug[o] = '\0';
    if (o == 0 || slug[0] == '.') {
        (void)snprintf(slug, sizeof(slug), "folder");
    }
    (void)snprintf(out, cap, "%s/%s/%s", g.cfg.store_dir, class_dir(cls), slug);
    for (size_t i = 0; i < g.ncolls; i++) {
        if (strcmp(g.colls[i].dir, out) == 0) {
            char esc[3 * EAS_ID_CAP + 1];
            easd_escape_name(sid, esc, sizeof(esc));
            (void)snprintf(out, cap, "%s/%s/%s-%s", g.cfg.store_dir, class_dir(cls), slug, esc);
            break;
        }
    }
}

static easd_coll_t *coll_ensure(const eas_folder_t *f, const char *display)
{
    easd_coll_t *c = coll_find(f->server_id);
    const char *cd = class_dir(f->cls);
    if (!cd || !(f->flags & EAS_FOLDER_F_SELECTED)) {
        return NULL;
    }
    if (!id_ok(f->server_id)) {
        LOGW("a folder ServerId with control characters is left out of the store");
        return NULL;
    }
    if (!c) {
        char dir[EASD_PATH_MAX];
        dir_for(f->cls, display ? display : f->server_id, f->server_id, dir, sizeof(dir));
        c = coll_new(f->server_id, f->cls, dir, display ? display : f->server_id);
        if (!c) {
            return NULL;
        }
        g.folders_dirty = true;
    } else if (display && strcmp(display, c->name) != 0 && id_ok(display)) {
        (void)snprintf(c->name, sizeof(c->name), "%s", display); /* the dir stays */
        name_clean(c->name);
        g.folders_dirty = true;
    }
    if (easd_mkdirs(c->dir) != 0) {
        LOGE("cannot create %s: %s", c->dir, strerror(errno));
        return c;
    }
    if (f->cls == EAS_CLASS_EMAIL) {
        char sub[EASD_PATH_MAX + 8];
        static const char *const subs[] = {"cur", "new", "tmp"};
        for (int i = 0; i < 3; i++) {
            (void)snprintf(sub, sizeof(sub), "%s/%s", c->dir, subs[i]);
            (void)mkdir(sub, 0700);
        }
        (void)snprintf(sub, sizeof(sub), "%s/index", g.cfg.state_dir);
        (void)easd_mkdirs(sub);
        watch(c);
    } else {
        char meta[EASD_PATH_MAX + 16];
        (void)snprintf(meta, sizeof(meta), "%s/displayname", c->dir);
        (void)easd_write_atomic(meta, c->name, strlen(c->name));
        char idir[EASD_PATH_MAX];
        (void)snprintf(idir, sizeof(idir), "%s/index", g.cfg.state_dir);
        (void)easd_mkdirs(idir);
        if (f->cls == EAS_CLASS_CALENDAR) {
            rec_dir(c, idir, sizeof(idir));
            (void)easd_mkdirs(idir);
        }
        watch(c);
    }
    return c;
}

/* ------------------------------------------------------------------------------------- */
/* Server changes into the store                                                         */
/* ------------------------------------------------------------------------------------- */

static bool file_hash(const char *path, uint64_t *h)
{
    char *data = NULL;
    size_t len = 0;
    if (easd_read_file(path, &data, &len, 64u << 20) != 0) {
        return false;
    }
    *h = easd_hash(data, len);
    free(data);
    return true;
}

/* The file was edited locally since easd wrote it: keep that version beside the server's. */
static void keep_conflict(easd_coll_t *c, const easd_ix_entry_t *e, const char *path)
{
    uint64_t h;
    if (!e || !file_hash(path, &h) || h == e->hash || h == e->hash_alt) {
        return;
    }
    char cpath[EASD_PATH_MAX + 64];
    (void)snprintf(cpath, sizeof(cpath), "%s.conflict-%lld", path, (long long)time(NULL));
    if (rename(path, cpath) == 0) {
        g.conflicts++;
        LOGW("conflict: %s/%s was changed here and on the server; the server's version wins, "
             "the local one is kept as %s",
             c->name, e->name, strrchr(cpath, '/') + 1);
    }
}

static void store_upsert(easd_coll_t *c, const char *sid, const char *content, size_t len)
{
    easd_ix_entry_t *e = easd_ix_by_sid(c, sid);
    char name[300], path[EASD_PATH_MAX + 300];
    if (e) {
        (void)snprintf(name, sizeof(name), "%s", e->name);
    } else {
        char esc[3 * EAS_ID_CAP + 1];
        easd_escape_name(sid, esc, sizeof(esc));
        (void)snprintf(name, sizeof(name), "eas-%s%s", esc, class_ext(c->cls));
    }
    (void)snprintf(path, sizeof(path), "%s/%s", c->dir, name);
    keep_conflict(c, e, path);
    uint64_t h = easd_hash(content, len);
    if (easd_ix_journal(c, name, sid, h) != 0 || easd_write_atomic(path, content, len) != 0) {
        LOGE("cannot write %s: %s", path, strerror(errno));
        return;
    }
    if (!e) {
        e = easd_ix_add(c, name);
        if (!e) {
            return;
        }
    }
    (void)snprintf(e->sid, sizeof(e->sid), "%s", sid);
    e->hash = h;
    e->hash_alt = 0;
    e->state = EASD_IX_SYNCED;
    e->seen = 1;
    c->dirty = true;
}

static void store_remove(easd_coll_t *c, easd_ix_entry_t *e, bool keep_local_edit)
{
    char path[EASD_PATH_MAX + 300];
    (void)snprintf(path, sizeof(path), "%s/%s", c->dir, e->name);
    if (keep_local_edit) {
        keep_conflict(c, e, path);
    }
    (void)easd_ix_journal(c, e->name, e->sid, 0);
    if (unlink(path) != 0 && errno != ENOENT) {
        LOGE("cannot remove %s: %s", path, strerror(errno));
    }
    if (c->cls == EAS_CLASS_CALENDAR) {
        rec_path(c, e->name, path, sizeof(path));
        (void)unlink(path);
    }
    easd_ix_remove(c, e);
}

/* Maildir: one file per message, "<sid>.easd:2,<flags>" in cur/ (new/ never: easd is the
   delivery agent and the client already knows about the message). */
/* A mail collection's index: name = the message's base name "<sid>.easd", hash = the flags
   easd last wrote or sent: 1 + MAIL_S (seen, Email:Read) + MAIL_F (flagged, Email:Flag). */
#define MAIL_S                    1u
#define MAIL_F                    2u
#define MAIL_STATE(read, flagged) (1u + ((read) ? MAIL_S : 0u) + ((flagged) ? MAIL_F : 0u))

static void mail_name(const char *sid, char *out, size_t cap)
{
    char esc[3 * EAS_ID_CAP + 1];
    easd_escape_name(sid, esc, sizeof(esc));
    (void)snprintf(out, cap, "%s.easd", esc);
}

static void mail_remove(easd_coll_t *c, const char *base)
{
    static const char *const subs[] = {"cur", "new"};
    for (int s = 0; s < 2; s++) {
        char d[EASD_PATH_MAX + 8];
        (void)snprintf(d, sizeof(d), "%s/%s", c->dir, subs[s]);
        DIR *dir = opendir(d);
        if (!dir) {
            continue;
        }
        size_t bl = strlen(base);
        struct dirent *de;
        while ((de = readdir(dir)) != NULL) {
            if (strncmp(de->d_name, base, bl) == 0 && (de->d_name[bl] == ':' || !de->d_name[bl])) {
                char p[EASD_PATH_MAX + 300];
                (void)snprintf(p, sizeof(p), "%s/%s", d, de->d_name);
                (void)unlink(p);
            }
        }
        closedir(dir);
    }
}

static void mail_upsert(easd_coll_t *c, const char *sid)
{
    size_t len = 0;
    bool read = false;
    char *msg = easd_mail_from_rec(g.rec.buf, g.rec.len, &len, &read);
    char base[300], path[EASD_PATH_MAX + 320];
    if (!msg) {
        LOGE("message %s in %s could not be built", sid, c->name);
        return;
    }
    bool flagged = easd_mail_flagged(g.rec.buf, g.rec.len);
    mail_name(sid, base, sizeof(base));
    /* The index first: the scan that our own rename triggers then finds nothing to send. */
    easd_ix_entry_t *e = easd_ix_by_name(c, base);
    if (!e) {
        e = easd_ix_add(c, base);
    }
    if (e) {
        (void)snprintf(e->sid, sizeof(e->sid), "%s", sid);
        e->hash = MAIL_STATE(read, flagged);
        e->state = EASD_IX_SYNCED;
        c->dirty = true;
    }
    mail_remove(c, base);
    /* Maildir flags in ASCII order. */
    (void)snprintf(path, sizeof(path), "%s/cur/%s:2,%s%s", c->dir, base, flagged ? "F" : "",
                   read ? "S" : "");
    if (easd_write_atomic(path, msg, len) != 0) {
        LOGE("cannot write %s: %s", path, strerror(errno));
    }
    free(msg);
}

static void apply_item(const eas_event_t *ev)
{
    easd_coll_t *c = coll_find(ev->u.item.folder);
    const char *sid = ev->u.item.server_id;
    if (!c) {
        return;
    }
    if (!sid || !sid[0] || !id_ok(sid)) {
        LOGW("an item in %s with an empty ServerId or one with control characters is ignored",
             c->name);
        return;
    }
    if (ev->u.item.op == EAS_ITEM_DELETE) {
        g.deletes++;
        if (c->cls == EAS_CLASS_EMAIL) {
            char base[300];
            mail_name(sid, base, sizeof(base));
            easd_ix_entry_t *e = easd_ix_by_name(c, base);
            if (e) {
                easd_ix_remove(c, e);
                c->dirty = true;
            }
            mail_remove(c, base);
            return;
        }
        easd_ix_entry_t *e = easd_ix_by_sid(c, sid);
        if (e) {
            store_remove(c, e, true);
        }
        return;
    }
    if (ev->u.item.op == EAS_ITEM_ADD) {
        g.adds++;
    } else {
        g.changes++;
    }
    if (g.rec.overflow) {
        LOGW("item %s in %s is larger than %u bytes; stored without what did not fit", sid, c->name,
             EASD_REC_MAX);
    }
    char uid[200];
    char esc[3 * EAS_ID_CAP + 1];
    easd_escape_name(sid, esc, sizeof(esc));
    char *text = NULL;
    switch (c->cls) {
    case EAS_CLASS_EMAIL:
        mail_upsert(c, sid);
        return;
    case EAS_CLASS_CALENDAR:
#if CONFIG_EAS_CALENDAR
        if (!ev->u.item.cal) {
            return;
        }
        if (ev->u.item.cal_err != EAS_OK) {
            LOGW("calendar item %s in %s: %s; stored as far as it can be read", sid, c->name,
                 eas_err_name(ev->u.item.cal_err));
        }
        (void)snprintf(uid, sizeof(uid), "easd-%s-%s", c->sid, esc);
        text = easd_ical_from_item(ev->u.item.cal, g.rec.buf, g.rec.len, uid);
#endif
        break;
    case EAS_CLASS_CONTACTS:
        (void)snprintf(uid, sizeof(uid), "easd-%s-%s", c->sid, esc);
        text = easd_vcard_from_rec(g.rec.buf, g.rec.len, uid);
        break;
    default:
        return;
    }
    if (!text) {
        LOGE("item %s in %s could not be converted", sid, c->name);
        return;
    }
    store_upsert(c, sid, text, strlen(text));
    free(text);
    if (c->cls == EAS_CLASS_CALENDAR) {
        easd_ix_entry_t *e = easd_ix_by_sid(c, sid);
        char rp[EASD_PATH_MAX + 300];
        if (e) {
            rec_path(c, e->name, rp, sizeof(rp));
            if (easd_write_atomic(rp, g.rec.buf ? (const void *)g.rec.buf : "", g.rec.len) != 0) {
                LOGW("cannot write the item record %s", rp);
            }
        }
    }
}

/* ------------------------------------------------------------------------------------- */
/* Local changes to the server                                                           */
/* ------------------------------------------------------------------------------------- */

static uint32_t outbox_max_seq(void)
{
    uint32_t m = 0;
    for (size_t i = 0; i < CONFIG_EAS_OUTBOX_SLOTS; i++) {
        m = g_outbox[i].seq > m ? g_outbox[i].seq : m;
    }
    return m;
}

static bool outbox_has(uint32_t id)
{
    for (size_t i = 0; i < CONFIG_EAS_OUTBOX_SLOTS; i++) {
        if (g_outbox[i].seq == id) {
            return true;
        }
    }
    return false;
}

/* The record of a locally made calendar item (for easctl agenda): the fields as sent. */
/* The record of an item as easd sends it (what the engine would deliver for it). */
static void rec_build(const easd_fields_t *fl, easd_rec_t *out)
{
    easd_rec_t r = {0};
    uint16_t depth = 1;
    for (size_t i = 0; i < fl->n; i++) {
        const eas_field_t *f = &fl->f[i];
        if (f->kind == EAS_FIELD_END) {
            depth--;
        }
        if (f->kind == EAS_FIELD_TEXT) {
            /* A leaf as the engine delivers one: START, its text, END. */
            easd_rec_add(&r, f->tag, depth, EAS_FIELD_START, 0, NULL, 0);
            easd_rec_add(&r, f->tag, depth, EAS_FIELD_TEXT, EAS_FIELD_FINAL, f->data, f->len);
            easd_rec_add(&r, f->tag, depth, EAS_FIELD_END, 0, NULL, 0);
        } else {
            easd_rec_add(&r, f->tag, depth, (uint8_t)f->kind, 0, NULL, 0);
        }
        if (f->kind == EAS_FIELD_START) {
            depth++;
        }
    }
    *out = r;
}

static void rec_from_fields(easd_coll_t *c, const char *name, const easd_fields_t *fl)
{
    easd_rec_t r;
    rec_build(fl, &r);
    char rp[EASD_PATH_MAX + 300];
    rec_path(c, name, rp, sizeof(rp));
    (void)easd_write_atomic(rp, r.buf ? (const void *)r.buf : "", r.len);
    easd_rec_free(&r);
}

#if CONFIG_EAS_CALENDAR
/* At 16.x a client must not send a series' Exceptions (MS-ASCAL): the engine leaves them out
 * of an Add or Change, and each deleted or moved occurrence of a local file goes to the server
 * as its own request, eas_item_delete_occurrence() / eas_item_change_occurrence() with the
 * occurrence's original start as InstanceId. Which ones: those of the file (@p cur, its
 * record) that the server does not have yet (@p old, the item record as the server last had
 * it; NULL for a new item). */
static eas_cal_exception_t g_occ_ex[2][CONFIG_EAS_CAL_MAX_EXCEPTIONS];
static eas_cal_attendee_t g_occ_att[2][64];
static eas_cal_item_t g_occ_item[2];
static easd_fields_t g_occ_fields;

static const eas_cal_exception_t *occ_find(const eas_cal_item_t *it, int64_t start)
{
    for (uint16_t i = 0; i < it->exception_count; i++) {
        if (it->exceptions[i].exception_start == start) {
            return &it->exceptions[i];
        }
    }
    return NULL;
}

/* What an occurrence looks like, a field the exception leaves out taken from the series. */
static void occ_effective(const eas_cal_item_t *it, const eas_cal_exception_t *x, int64_t *st,
                          int64_t *en, const char **subj, const char **loc)
{
    *st = (x->present & EAS_CAL_F_START) ? x->start : x->exception_start;
    *en = (x->present & EAS_CAL_F_END) ? x->end : *st + (it->end - it->start);
    *subj = (x->present & EAS_CAL_F_SUBJECT) ? x->subject : it->subject;
    *loc = (x->present & EAS_CAL_F_LOCATION) ? x->location : it->location;
}

static bool occ_same(const eas_cal_item_t *ia, const eas_cal_exception_t *a,
                     const eas_cal_item_t *ib, const eas_cal_exception_t *b)
{
    if (a->deleted || b->deleted) {
        return a->deleted == b->deleted;
    }
    int64_t sa, ea, sb, eb;
    const char *ja, *la, *jb, *lb;
    occ_effective(ia, a, &sa, &ea, &ja, &la);
    occ_effective(ib, b, &sb, &eb, &jb, &lb);
    return sa == sb && ea == eb && strcmp(ja, jb) == 0 && strcmp(la, lb) == 0;
}

static void occ_time(easd_fields_t *fl, uint16_t tag, int64_t t)
{
    char b[32];
    if (eas_cal_format_time(t, EAS_CAL_FMT_COMPACT, b, sizeof(b)) == EAS_OK) {
        easd_fields_text(fl, tag, b);
    }
}

static void occurrences_send(easd_coll_t *c, const char *name, const char *sid, const uint8_t *old,
                             size_t old_len, const uint8_t *cur, size_t cur_len)
{
    eas_cal_item_t *a = &g_occ_item[0], *b = &g_occ_item[1];
    eas_cal_item_init(b, g_occ_ex[1], CONFIG_EAS_CAL_MAX_EXCEPTIONS, g_occ_att[1], 64);
    if (easd_rec_cal(cur, cur_len, b) != EAS_OK || b->exception_count == 0) {
        return;
    }
    eas_cal_item_init(a, g_occ_ex[0], CONFIG_EAS_CAL_MAX_EXCEPTIONS, g_occ_att[0], 64);
    if (!old || easd_rec_cal(old, old_len, a) != EAS_OK) {
        a->exception_count = 0;
    }
    for (uint16_t i = 0; i < b->exception_count; i++) {
        const eas_cal_exception_t *x = &b->exceptions[i];
        const eas_cal_exception_t *was = occ_find(a, x->exception_start);
        if (was && occ_same(a, was, b, x)) {
            continue; /* the server has it like this already */
        }
        char inst[32];
        uint32_t id = 0;
        int err = eas_cal_format_time(x->exception_start, EAS_CAL_FMT_EAS, inst, sizeof(inst));
        if (err == EAS_OK && x->deleted) {
            err = eas_item_delete_occurrence(&g.eng, c->sid, sid, inst, &id);
        } else if (err == EAS_OK) {
            int64_t st, en;
            const char *subj, *loc;
            occ_effective(b, x, &st, &en, &subj, &loc);
            easd_fields_t *fl = &g_occ_fields;
            easd_fields_reset(fl);
            occ_time(fl, EAS_CALENDAR_START_TIME, st);
            occ_time(fl, EAS_CALENDAR_END_TIME, en);
            if (subj[0]) {
                easd_fields_text(fl, EAS_CALENDAR_SUBJECT, subj);
            }
            if (loc[0]) {
                easd_fields_text(fl, EAS_CALENDAR_LOCATION, loc);
            }
            err = eas_item_change_occurrence(&g.eng, c->sid, sid, inst, EAS_CHANGE_EDIT, 0, fl->f,
                                             fl->n, &id);
        }
        if (err != EAS_OK) {
            LOGE("%s/%s: the occurrence %s was not queued: %s", c->name, name, inst,
                 eas_err_name(err));
            continue;
        }
        LOGI("local %s of occurrence %s of %s/%s -> server item %s (outbox %u)",
             x->deleted ? "delete" : "change", inst, c->name, name, sid, (unsigned)id);
        g.local_sent++;
    }
    for (uint16_t i = 0; i < a->exception_count; i++) {
        if (!occ_find(b, a->exceptions[i].exception_start)) {
            char inst[32] = "?";
            (void)eas_cal_format_time(a->exceptions[i].exception_start, EAS_CAL_FMT_EAS, inst,
                                      sizeof(inst));
            LOGW("%s/%s: the occurrence %s is back to the series here; at 16.x that cannot be "
                 "sent (the server keeps its exception)",
                 c->name, name, inst);
        }
    }
}
#endif

static int fields_from_file(easd_coll_t *c, const char *path, easd_fields_t *fl)
{
    char *data = NULL;
    size_t len = 0;
    char err[200] = "";
    if (easd_read_file(path, &data, &len, 8u << 20) != 0) {
        return -1;
    }
    int rc = c->cls == EAS_CLASS_CALENDAR ? easd_ical_to_fields(data, fl, err, sizeof(err))
                                          : easd_vcard_to_fields(data, fl, err, sizeof(err));
    free(data);
    if (rc != 0) {
        LOGW("%s: not sent to the server: %s", path, err);
    }
    return rc;
}

/* One name of a collection: compare the file with the index and queue what changed.
   Returns 1 when something was queued, 0 when nothing was, -1 when the outbox is full. */
static int local_file(easd_coll_t *c, const char *name)
{
    char path[EASD_PATH_MAX + 300];
    size_t nl = strlen(name), el = strlen(class_ext(c->cls));
    if (name[0] == '.' || nl <= el || nl >= 256 || strcmp(name + nl - el, class_ext(c->cls)) != 0 ||
        !id_ok(name)) {
        return 0; /* not an item file (or a name the index cannot hold) */
    }
    if (!eas_engine_folder(&g.eng, c->sid)) {
        return 0;
    }
    (void)snprintf(path, sizeof(path), "%s/%s", c->dir, name);
    easd_ix_entry_t *e = easd_ix_by_name(c, name);
    uint64_t h = 0;
    bool exists = file_hash(path, &h);
    uint32_t id = 0;
    int err;
    if (!exists) {
        if (!e) {
            return 0;
        }
        if (e->sid[0] == '\0' || e->hash == 0) {
            /* never reached the server (or only known from the journal): forget it */
            easd_ix_remove(c, e);
            return 0;
        }
        err = eas_item_delete(&g.eng, c->sid, e->sid, &id);
        if (err == EAS_ERR_OUTBOX_FULL) {
            return -1;
        }
        if (err != EAS_OK) {
            LOGE("delete of %s/%s not queued: %s", c->name, name, eas_err_name(err));
            return 0;
        }
        LOGI("local delete %s/%s -> server item %s (outbox %u)", c->name, name, e->sid,
             (unsigned)id);
        char rp[EASD_PATH_MAX + 300];
        if (c->cls == EAS_CLASS_CALENDAR) {
            rec_path(c, name, rp, sizeof(rp));
            (void)unlink(rp);
        }
        easd_ix_remove(c, e);
        g.local_sent++;
        return 1;
    }
    if (e && (h == e->hash || h == e->hash_alt)) {
        if (h != e->hash) {
            e->hash = h; /* written by easd just before a crash */
            c->dirty = true;
        }
        e->hash_alt = 0;
        return 0;
    }
    if (e && (e->state == EASD_IX_ADDING || e->state == EASD_IX_ADDED)) {
        return 0; /* the add is in flight; the file is looked at again when it is answered */
    }
    if (fields_from_file(c, path, &g_fields) != 0) {
        if (!e) {
            e = easd_ix_add(c, name);
            if (e) {
                e->state = EASD_IX_FAILED;
            }
        }
        if (e) {
            e->hash = h; /* not again until the file changes */
            c->dirty = true;
        }
        return 0;
    }
    if (e && e->sid[0] && e->state == EASD_IX_SYNCED) {
        err = eas_item_change(&g.eng, c->sid, e->sid, EAS_CHANGE_EDIT, 0, g_fields.f, g_fields.n,
                              &id);
        if (err == EAS_ERR_OUTBOX_FULL) {
            return -1;
        }
        if (err != EAS_OK) {
            LOGE("change of %s/%s not queued: %s", c->name, name, eas_err_name(err));
            return 0;
        }
        LOGI("local change %s/%s -> server item %s (outbox %u)", c->name, name, e->sid,
             (unsigned)id);
        e->hash = h;
        e->pending = id;
        c->dirty = true;
#if CONFIG_EAS_CALENDAR
        if (c->cls == EAS_CLASS_CALENDAR && g.eng.version >= EAS_VER_16_0) {
            char rp[EASD_PATH_MAX + 300];
            char *old = NULL;
            size_t old_len = 0;
            easd_rec_t cur;
            rec_path(c, name, rp, sizeof(rp));
            if (easd_read_file(rp, &old, &old_len, EASD_REC_MAX) != 0) {
                old = NULL;
            }
            rec_build(&g_fields, &cur);
            occurrences_send(c, name, e->sid, (const uint8_t *)old, old_len, cur.buf, cur.len);
            easd_rec_free(&cur);
            free(old);
        }
#endif
    } else {
        /* A new item. Crash safety: the index says "being added, outbox id >= B" before the
           call; after a crash the outbox decides whether the call went through. */
        if (!e) {
            e = easd_ix_add(c, name);
            if (!e) {
                return 0;
            }
        }
        e->state = EASD_IX_ADDING;
        e->pending = outbox_max_seq() + 1;
        e->hash = h;
        e->sid[0] = '\0';
        if (easd_ix_save(c) != 0) {
            LOGE("cannot save the index of %s", c->name);
            return 0;
        }
        err = eas_item_add(&g.eng, c->sid, g_fields.f, g_fields.n, &id);
        if (err == EAS_ERR_OUTBOX_FULL) {
            easd_ix_remove(c, e);
            return -1;
        }
        if (err != EAS_OK) {
            LOGE("add of %s/%s not queued: %s", c->name, name, eas_err_name(err));
            e->state = EASD_IX_FAILED;
            e->pending = 0;
            c->dirty = true;
            return 0;
        }
        LOGI("local add %s/%s (outbox %u)", c->name, name, (unsigned)id);
        e->state = EASD_IX_ADDED;
        e->pending = id;
        c->dirty = true;
        (void)easd_ix_save(c);
    }
    if (c->cls == EAS_CLASS_CALENDAR) {
        rec_from_fields(c, name, &g_fields);
    }
    g.local_sent++;
    return 1;
}

/* Compare a whole collection with its index. */
static int scan_coll(easd_coll_t *c)
{
    DIR *d = opendir(c->dir);
    int queued = 0;
    if (!d) {
        return 0;
    }
    for (size_t i = 0; i < c->n; i++) {
        c->e[i].seen = 0;
    }
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        easd_ix_entry_t *e = easd_ix_by_name(c, de->d_name);
        if (e) {
            e->seen = 1;
        }
        int r = local_file(c, de->d_name);
        if (r < 0) {
            closedir(d);
            return -1;
        }
        queued += r;
    }
    closedir(d);
    for (size_t i = 0; i < c->n; i++) {
        if (c->e[i].used && !c->e[i].seen) {
            char name[256];
            (void)snprintf(name, sizeof(name), "%s", c->e[i].name);
            int r = local_file(c, name);
            if (r < 0) {
                return -1;
            }
            queued += r;
        }
    }
    return queued;
}

/* After a restart: entries caught between "being added" and "queued". */
static void resume_adds(void)
{
    for (size_t k = 0; k < g.ncolls; k++) {
        easd_coll_t *c = &g.colls[k];
        for (size_t i = 0; i < c->n; i++) {
            easd_ix_entry_t *e = &c->e[i];
            if (!e->used) {
                continue;
            }
            if (e->state == EASD_IX_ADDING) {
                uint32_t best = 0;
                for (size_t s = 0; s < CONFIG_EAS_OUTBOX_SLOTS; s++) {
                    uint32_t q = g_outbox[s].seq;
                    if (q >= e->pending && (best == 0 || q < best)) {
                        best = q;
                    }
                }
                if (best) {
                    e->state = EASD_IX_ADDED;
                    e->pending = best;
                } else {
                    easd_ix_remove(c, e); /* never queued: the scan adds it */
                }
                c->dirty = true;
            } else if (e->state == EASD_IX_ADDED && !outbox_has(e->pending)) {
                LOGW("%s/%s: the server's answer to its add was lost in a crash; it is not "
                     "sent again (it would be duplicated)",
                     c->name, e->name);
                e->state = EASD_IX_SYNCED;
                e->pending = 0;
                c->dirty = true;
            }
        }
    }
}

/* Remember a file inotify (or an answered add) pointed at; it is compared with the index at
   the next look. Too many at once: compare everything. */
static void touch(int wd, const char *name)
{
    for (size_t i = 0; i < g.ntouched; i++) {
        if (g.touched[i].wd == wd && strcmp(g.touched[i].name, name) == 0) {
            return;
        }
    }
    if (g.ntouched == sizeof(g.touched) / sizeof(g.touched[0]) || strlen(name) >= 256 || wd < 0) {
        g.scan_pending = true;
        return;
    }
    g.touched[g.ntouched].wd = wd;
    (void)snprintf(g.touched[g.ntouched].name, sizeof(g.touched[0].name), "%s", name);
    g.ntouched++;
}

/* The files inotify reported: only those are read and compared. */
static int mail_scan(easd_coll_t *c);

static void check_touched(void)
{
    int queued = 0;
    for (size_t i = 0; i < g.ntouched; i++) {
        for (size_t k = 0; k < g.ncolls; k++) {
            if (g.colls[k].cls == EAS_CLASS_EMAIL) {
                if (g.colls[k].wd == g.touched[i].wd || g.colls[k].wd_new == g.touched[i].wd) {
                    g.colls[k].mail_touched = true; /* one look at the folder below */
                    break;
                }
                continue;
            }
            if (g.colls[k].wd == g.touched[i].wd) {
                int r = local_file(&g.colls[k], g.touched[i].name);
                if (r < 0) {
                    g.scan_pending = true; /* outbox full: everything again after answers */
                }
                queued += r > 0 ? r : 0;
                break;
            }
        }
    }
    g.ntouched = 0;
    for (size_t k = 0; k < g.ncolls; k++) {
        if (g.colls[k].mail_touched) {
            int r = mail_scan(&g.colls[k]);
            if (r < 0) {
                g.scan_pending = true;
            }
            queued += r > 0 ? r : 0;
        }
    }
    if (queued) {
        g.cmd_pending = true;
    }
}

static void mail_rename(const easd_coll_t *c, const char *from, const char *to);

static void outbox_result(const eas_event_t *ev)
{
    if (!ev->u.outbox.final) {
        return;
    }
    uint32_t id = ev->u.outbox.id;
    for (size_t k = 0; k < g.ncolls; k++) {
        easd_coll_t *c = &g.colls[k];
        for (size_t i = 0; i < c->n; i++) {
            easd_ix_entry_t *e = &c->e[i];
            if (!e->used || e->pending != id) {
                continue;
            }
            e->pending = 0;
            c->dirty = true;
            if (ev->u.outbox.kind == EAS_OUTBOX_MOVE) {
                const char *nsid = ev->u.outbox.server_id;
                if (ev->u.outbox.status == 3 && nsid && id_ok(nsid)) {
                    char nbase[300];
                    mail_name(nsid, nbase, sizeof(nbase));
                    mail_rename(c, e->name, nbase);
                    LOGI("%s/%s is server item %s (moved)", c->name, nbase, nsid);
                    (void)snprintf(e->name, sizeof(e->name), "%s", nbase);
                    (void)snprintf(e->sid, sizeof(e->sid), "%s", nsid);
                    e->state = EASD_IX_SYNCED;
                    touch(c->wd, nbase); /* flags changed while the move was in flight? */
                } else {
                    /* Not moved, or moved with its new id unknown (a resend after a crash):
                       the file stays local; the server's next Sync brings the item. */
                    e->state = EASD_IX_FAILED;
                    LOGW("move of %s/%s: status %u%s; the local copy is not synced", c->name,
                         e->name, ev->u.outbox.status, nsid ? "" : ", no new ServerId");
                }
                return;
            }
            if (ev->u.outbox.kind == EAS_OUTBOX_ADD) {
                if (ev->u.outbox.status == 1 && ev->u.outbox.server_id) {
                    (void)snprintf(e->sid, sizeof(e->sid), "%s", ev->u.outbox.server_id);
                    e->state = EASD_IX_SYNCED;
                    LOGI("%s/%s is server item %s", c->name, e->name, e->sid);
#if CONFIG_EAS_CALENDAR
                    if (c->cls == EAS_CLASS_CALENDAR && g.eng.version >= EAS_VER_16_0) {
                        /* The series went without its Exceptions: now its occurrences. */
                        char rp[EASD_PATH_MAX + 300];
                        char *cur = NULL;
                        size_t cur_len = 0;
                        rec_path(c, e->name, rp, sizeof(rp));
                        if (easd_read_file(rp, &cur, &cur_len, EASD_REC_MAX) == 0) {
                            occurrences_send(c, e->name, e->sid, NULL, 0, (const uint8_t *)cur,
                                             cur_len);
                            free(cur);
                        }
                    }
#endif
                    touch(c->wd, e->name); /* changed while the add was in flight? */
                } else {
                    e->state = EASD_IX_FAILED;
                    LOGE("the server refused %s/%s (status %u)", c->name, e->name,
                         ev->u.outbox.status);
                }
            } else if (ev->u.outbox.status != 1) {
                LOGE("the server refused the change of %s/%s (status %u)", c->name, e->name,
                     ev->u.outbox.status);
            }
            return;
        }
    }
    if (ev->u.outbox.status != 1) {
        LOGW("outbox %u answered with status %u", (unsigned)id, ev->u.outbox.status);
    }
}

/* "<base>:2,<flags>" -> base (a message easd wrote: "<escaped sid>.easd") and its S and F
   flags as MAIL_STATE. */
static bool mail_file(const char *fname, char *base, size_t cap, uint64_t *st)
{
    const char *colon = strstr(fname, ":2,");
    size_t bl = colon ? (size_t)(colon - fname) : strlen(fname);
    if (fname[0] == '.' || bl < 6 || bl >= cap || strncmp(fname + bl - 5, ".easd", 5) != 0) {
        return false;
    }
    memcpy(base, fname, bl);
    base[bl] = '\0';
    *st = MAIL_STATE(colon && strchr(colon + 3, 'S') != NULL,
                     colon && strchr(colon + 3, 'F') != NULL);
    return true;
}

/* The ServerId back from a base name (easd_escape_name reversed). */
static bool mail_sid(const char *base, char *sid, size_t cap)
{
    size_t o = 0, n = strlen(base) - 5; /* without ".easd" */
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        char ch = base[i];
        if (ch == '=') {
            if (i + 2 >= n + 1 || sscanf(base + i + 1, "%2x", &v) != 1) {
                return false;
            }
            ch = (char)v;
            i += 2;
        }
        if (o + 1 >= cap) {
            return false;
        }
        sid[o++] = ch;
    }
    sid[o] = '\0';
    return o > 0 && id_ok(sid);
}

/* Calls @p fn for every message file easd wrote in @p c's cur/ and new/ (directory, file
 * name, base name, flag state) until @p fn returns non-zero; returns that value, or 0. */
typedef int (*mail_fn)(const char *dir, const char *fname, const char *base, uint64_t st,
                       void *ctx);

static int mail_each(const easd_coll_t *c, mail_fn fn, void *ctx)
{
    static const char *const subs[] = {"cur", "new"};
    int rc = 0;
    for (int s = 0; s < 2 && rc == 0; s++) {
        char d[EASD_PATH_MAX + 8];
        (void)snprintf(d, sizeof(d), "%s/%s", c->dir, subs[s]);
        DIR *dir = opendir(d);
        if (!dir) {
            continue;
        }
        struct dirent *de;
        while (rc == 0 && (de = readdir(dir)) != NULL) {
            char base[300];
            uint64_t st = 0;
            if (mail_file(de->d_name, base, sizeof(base), &st)) {
                rc = fn(d, de->d_name, base, st, ctx);
            }
        }
        closedir(dir);
    }
    return rc;
}

struct mail_match {
    const char *base; /* the message looked for */
    const char *to;   /* mail_rename: its new base name */
    uint64_t st;      /* mail_has: its flag state */
};

static int has_one(const char *dir, const char *fname, const char *base, uint64_t st, void *ctx)
{
    (void)dir;
    (void)fname;
    struct mail_match *m = ctx;
    if (strcmp(base, m->base) != 0) {
        return 0;
    }
    m->st = st;
    return 1;
}

/* Is there a message file "<base>:2,..." in @p c's cur/ or new/? Its flag state in *st. */
static bool mail_has(const easd_coll_t *c, const char *base, uint64_t *st)
{
    struct mail_match m = {.base = base};
    bool found = mail_each(c, has_one, &m) != 0;
    *st = m.st;
    return found;
}

static int rename_one(const char *dir, const char *fname, const char *base, uint64_t st, void *ctx)
{
    (void)st;
    const struct mail_match *m = ctx;
    if (strcmp(base, m->base) == 0) {
        char op[EASD_PATH_MAX + 320], np[EASD_PATH_MAX + 640];
        const char *flags = strstr(fname, ":2,");
        (void)snprintf(op, sizeof(op), "%s/%s", dir, fname);
        (void)snprintf(np, sizeof(np), "%s/%s%s", dir, m->to, flags ? flags : ":2,");
        if (rename(op, np) != 0) {
            LOGW("cannot rename %s: %s", op, strerror(errno));
        }
    }
    return 0;
}

/* A moved message got a new ServerId in its new folder: its file takes the new name (the
   reader's flags kept). */
static void mail_rename(const easd_coll_t *c, const char *from, const char *to)
{
    struct mail_match m = {.base = from, .to = to};
    (void)mail_each(c, rename_one, &m);
}

/* A mail collection other than @p c whose index has @p base. */
static easd_coll_t *mail_owner(const easd_coll_t *c, const char *base)
{
    for (size_t k = 0; k < g.ncolls; k++) {
        easd_coll_t *o = &g.colls[k];
        if (o != c && o->cls == EAS_CLASS_EMAIL && easd_ix_by_name(o, base)) {
            return o;
        }
    }
    return NULL;
}

struct scan_ctx {
    easd_coll_t *c;
    int queued;
};

/* mail_scan's look at one message file: adopt it, or send what its flags changed. */
static int scan_one(const char *dir, const char *fname, const char *base, uint64_t st, void *ctx)
{
    (void)dir;
    (void)fname;
    struct scan_ctx *x = ctx;
    easd_coll_t *c = x->c;
    char sid[EAS_ID_CAP];
    easd_ix_entry_t *e = easd_ix_by_name(c, base);
    if (!e) {
        if (mail_owner(c, base)) {
            return 0; /* moved here from another folder: that folder's scan sends it */
        }
        if (mail_sid(base, sid, sizeof(sid)) && (e = easd_ix_add(c, base)) != NULL) {
            (void)snprintf(e->sid, sizeof(e->sid), "%s", sid);
            e->hash = st;
            e->state = EASD_IX_SYNCED;
            e->seen = 1;
            c->dirty = true;
        }
        return 0;
    }
    e->seen = 1;
    if (e->hash == st || e->sid[0] == '\0') {
        return 0;
    }
    /* Only what changed: Email:Read, and Email:Flag (Status 2 to flag, an empty Flag
       clears it, MS-ASEMAIL). */
    bool read = ((st - 1u) & MAIL_S) != 0, flagged = ((st - 1u) & MAIL_F) != 0;
    bool read_chg = ((st - 1u) & MAIL_S) != ((e->hash - 1u) & MAIL_S);
    bool flag_chg = ((st - 1u) & MAIL_F) != ((e->hash - 1u) & MAIL_F);
    eas_field_t f[6];
    size_t nf = 0;
    if (read_chg) {
        f[nf++] = (eas_field_t){EAS_EMAIL_READ, EAS_FIELD_TEXT, read ? "1" : "0", 1};
    }
    if (flag_chg) {
        f[nf++] = (eas_field_t){EAS_EMAIL_FLAG, EAS_FIELD_START, NULL, 0};
        if (flagged) {
            f[nf++] = (eas_field_t){EAS_EMAIL_FLAG_STATUS, EAS_FIELD_TEXT, "2", 1};
            f[nf++] = (eas_field_t){EAS_EMAIL_FLAG_TYPE, EAS_FIELD_TEXT, "Follow up", 9};
        }
        f[nf++] = (eas_field_t){EAS_EMAIL_FLAG, EAS_FIELD_END, NULL, 0};
    }
    uint32_t id = 0;
    int err = eas_item_change(&g.eng, c->sid, e->sid, EAS_CHANGE_EDIT, 0, f, nf, &id);
    if (err == EAS_ERR_OUTBOX_FULL) {
        return -1;
    }
    if (err != EAS_OK) {
        LOGE("flag change of %s/%s not queued: %s", c->name, base, eas_err_name(err));
        return 0;
    }
    LOGI("local %s%s%s %s/%s -> server item %s (outbox %u)",
         read_chg ? (read ? "read" : "unread") : "", read_chg && flag_chg ? ", " : "",
         flag_chg ? (flagged ? "flag" : "unflag") : "", c->name, base, e->sid, (unsigned)id);
    e->hash = st;
    c->dirty = true;
    g.local_sent++;
    x->queued++;
    return 0;
}

/* A Maildir compared with its index: an S flag set or cleared by a mail reader becomes a
 * Sync Change of Email:Read, a message removed from cur/ and new/ a Sync Delete (the server
 * moves it to Deleted Items, as it does for any client's delete). A message easd wrote that
 * the index does not know (a store from before the index, a crash between the file and the
 * index) is adopted as it is. Messages of other programs are left alone. */
static int mail_scan(easd_coll_t *c)
{
    struct scan_ctx x = {.c = c};
    c->mail_touched = false;
    for (size_t i = 0; i < c->n; i++) {
        c->e[i].seen = 0;
    }
    if (mail_each(c, scan_one, &x) < 0) {
        return -1;
    }
    int queued = x.queued;
    for (size_t i = 0; i < c->n; i++) {
        easd_ix_entry_t *e = &c->e[i];
        if (!e->used || e->seen || e->sid[0] == '\0') {
            continue;
        }
        uint32_t id = 0;
        int err;
        /* Gone from here but in another of our Maildirs: a move (MoveItems). */
        easd_coll_t *to = NULL;
        uint64_t rd = 0;
        for (size_t k = 0; k < g.ncolls && !to; k++) {
            easd_coll_t *o = &g.colls[k];
            if (o != c && o->cls == EAS_CLASS_EMAIL && !easd_ix_by_name(o, e->name) &&
                mail_has(o, e->name, &rd)) {
                to = o;
            }
        }
        if (to) {
            easd_ix_entry_t *ne = easd_ix_add(to, e->name);
            err = ne ? eas_item_move(&g.eng, c->sid, e->sid, to->sid, &id) : EAS_ERR_NOMEM;
            if (err == EAS_OK) {
                LOGI("local move %s/%s -> %s: server item %s (outbox %u)", c->name, e->name,
                     to->name, e->sid, (unsigned)id);
                /* No ServerId until the server answers: nothing is sent for it meanwhile. */
                ne->sid[0] = '\0';
                ne->state = EASD_IX_ADDED;
                ne->pending = id;
                ne->hash = rd;
                to->dirty = true;
                easd_ix_remove(c, e);
                c->dirty = true;
                g.local_sent++;
                queued++;
                continue;
            }
            if (ne) {
                easd_ix_remove(to, ne);
            }
            if (err == EAS_ERR_OUTBOX_FULL) {
                return -1;
            }
            LOGW("move of %s/%s to %s not queued (%s): sent as a delete; the copy in %s stays "
                 "local",
                 c->name, e->name, to->name, eas_err_name(err), to->name);
            if ((ne = easd_ix_add(to, e->name)) != NULL) {
                ne->state = EASD_IX_FAILED; /* never adopted under the old folder's id */
                ne->sid[0] = '\0';
                to->dirty = true;
            }
        }
        err = eas_item_delete(&g.eng, c->sid, e->sid, &id);
        if (err == EAS_ERR_OUTBOX_FULL) {
            return -1;
        }
        if (err != EAS_OK) {
            LOGE("delete of %s/%s not queued: %s", c->name, e->name, eas_err_name(err));
            continue;
        }
        LOGI("local delete %s/%s -> server item %s (outbox %u)", c->name, e->name, e->sid,
             (unsigned)id);
        easd_ix_remove(c, e);
        c->dirty = true;
        g.local_sent++;
        queued++;
    }
    return queued;
}

static void scan_all(void)
{
    int queued = 0;
    g.scan_pending = false;
    for (size_t k = 0; k < g.ncolls; k++) {
        easd_coll_t *c = &g.colls[k];
        int r = c->cls == EAS_CLASS_EMAIL ? mail_scan(c) : scan_coll(c);
        if (r < 0) {
            g.scan_pending = true; /* outbox full: again after answers */
            break;
        }
        queued += r;
    }
    if (queued) {
        g.cmd_pending = true;
    }
}

/* ------------------------------------------------------------------------------------- */
/* Engine events                                                                         */
/* ------------------------------------------------------------------------------------- */

/* easd enforces nothing on the device (no lock screen, no encryption): it claims full
   enforcement only of a policy that asks for nothing, else acknowledges it as partial. */
static bool policy_restricts(uint16_t tag, const char *v)
{
    bool set = v[0] != '\0';
    switch (tag) {
    case EAS_PROVISION_DEVICE_PASSWORD_ENABLED:
    case EAS_PROVISION_ALPHANUMERIC_DEVICE_PASSWORD_REQUIRED:
    case EAS_PROVISION_DEVICE_ENCRYPTION_ENABLED:
    case EAS_PROVISION_REQUIRE_DEVICE_ENCRYPTION:
    case EAS_PROVISION_REQUIRE_MANUAL_SYNC_WHEN_ROAMING:
    case EAS_PROVISION_REQUIRE_SIGNED_SMIME_MESSAGES:
    case EAS_PROVISION_REQUIRE_ENCRYPTED_SMIME_MESSAGES:
    case EAS_PROVISION_MAX_ATTACHMENT_SIZE:
    case EAS_PROVISION_MAX_CALENDAR_AGE_FILTER:
    case EAS_PROVISION_MAX_EMAIL_AGE_FILTER:
        return set && strcmp(v, "0") != 0;
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
        return set && strcmp(v, "0") == 0;
    case EAS_PROVISION_ALLOW_BLUETOOTH:
        return set && strcmp(v, "2") != 0;
    case EAS_PROVISION_MAX_EMAIL_BODY_TRUNCATION_SIZE:
    case EAS_PROVISION_MAX_EMAIL_HTML_BODY_TRUNCATION_SIZE:
        return set && strcmp(v, "-1") != 0;
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
        return false;
    default:
        return set;
    }
}

static void progress(const char *folder, uint32_t done, uint32_t estimate, bool final)
{
    if (!g.tty) {
        return;
    }
    easd_coll_t *c = coll_find(folder);
    char line[200];
    int n = snprintf(line, sizeof(line), "\r  first sync: %-24.24s %5u / %u items%s",
                     c ? c->name : folder, (unsigned)done, (unsigned)estimate,
                     final ? " - done\n" : "   ");
    if (n > 0) {
        (void)!write(STDERR_FILENO, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
    }
    g.progress_line = !final;
}

static uint32_t g_prog_est, g_prog_done;
static char g_prog_folder[EAS_ID_CAP];

static int on_event(void *user, eas_event_t *ev)
{
    (void)user;
    switch (ev->type) {
    case EAS_EV_STATE:
        g.state = ev->u.state.state;
        g.status_dirty = true;
        LOGD("state %s", eas_engine_state_name(g.state));
        break;
    case EAS_EV_ERROR:
        (void)snprintf(g.last_error, sizeof(g.last_error), "%s%s%s (status %u)%s%s",
                       ev->u.error.what ? ev->u.error.what : "", ev->u.error.what ? ": " : "",
                       eas_err_name(ev->u.error.err), ev->u.error.status,
                       ev->u.error.folder ? " folder " : "",
                       ev->u.error.folder ? ev->u.error.folder : "");
        g.status_dirty = true;
        LOGW("%s", g.last_error);
        break;
    case EAS_EV_FOLDER: {
        const eas_folder_t *f = ev->u.folder.entry;
        if (ev->u.folder.op == EAS_ITEM_DELETE) {
            easd_coll_t *c = coll_find(f->server_id);
            if (c) {
                LOGI("folder %s deleted on the server; its collection %s is removed", c->name,
                     c->dir);
                for (size_t i = 0; i < c->n; i++) {
                    if (c->e[i].used) {
                        store_remove(c, &c->e[i], true);
                    }
                }
                (void)easd_ix_save(c);
                char meta[EASD_PATH_MAX + 16];
                (void)snprintf(meta, sizeof(meta), "%s/displayname", c->dir);
                (void)unlink(meta);
                (void)rmdir(c->dir);
                if (c->wd >= 0) {
                    (void)inotify_rm_watch(g.ino_fd, c->wd);
                }
                free(c->e);
                *c = g.colls[--g.ncolls];
                g.folders_dirty = true;
            }
        } else {
            (void)coll_ensure(f, ev->u.folder.display_name);
        }
        break;
    }
    case EAS_EV_ITEM_BEGIN:
        easd_rec_reset(&g.rec);
        break;
    case EAS_EV_ITEM_FIELD:
        easd_rec_add(&g.rec, ev->u.field.tag, ev->u.field.depth, (uint8_t)ev->u.field.kind,
                     ev->u.field.flags, ev->u.field.data, ev->u.field.len);
        break;
    case EAS_EV_ITEM_END:
        apply_item(ev);
        if (g_prog_est && strcmp(ev->u.item.folder, g_prog_folder) == 0) {
            g_prog_done++;
            progress(g_prog_folder, g_prog_done, g_prog_est, false);
        }
        break;
    case EAS_EV_RESYNC_BEGIN: {
        easd_coll_t *c = coll_find(ev->u.folder.entry->server_id);
        LOGW("folder %s restarts from SyncKey 0 (status %u)", ev->u.folder.entry->server_id,
             ev->u.folder.status);
        for (size_t i = 0; c && i < c->n; i++) {
            c->e[i].seen = 0;
        }
        break;
    }
    case EAS_EV_RESYNC_END: {
        easd_coll_t *c = coll_find(ev->u.folder.entry->server_id);
        for (size_t i = 0; c && i < c->n; i++) {
            easd_ix_entry_t *e = &c->e[i];
            if (e->used && !e->seen && e->sid[0] && e->state == EASD_IX_SYNCED) {
                store_remove(c, e, true);
            }
        }
        break;
    }
    case EAS_EV_FOLDER_SYNCED:
        if (g_prog_est && strcmp(ev->u.folder.entry->server_id, g_prog_folder) == 0) {
            progress(g_prog_folder, g_prog_done, g_prog_est, true);
            g_prog_est = 0;
        }
        break;
    case EAS_EV_PROGRESS:
        if (g_prog_est && strcmp(ev->u.progress.folder, g_prog_folder) != 0) {
            progress(g_prog_folder, g_prog_done, g_prog_est, true);
        }
        (void)snprintf(g_prog_folder, sizeof(g_prog_folder), "%s", ev->u.progress.folder);
        g_prog_est = ev->u.progress.estimate ? ev->u.progress.estimate : 1;
        g_prog_done = ev->u.progress.done;
        progress(g_prog_folder, g_prog_done, g_prog_est, false);
        break;
    case EAS_EV_OUTBOX_RESULT:
        outbox_result(ev);
        break;
    case EAS_EV_POLICY_SETTING:
        if (!g.policy_restricts && ev->u.policy.value &&
            policy_restricts(ev->u.policy.tag, ev->u.policy.value)) {
            g.policy_restricts = ev->u.policy.tag;
        }
        break;
    case EAS_EV_POLICY_DECIDE:
        ev->u.policy.decision = g.policy_restricts ? EAS_POLICY_PARTIAL : EAS_POLICY_ENFORCE_ALL;
        LOGI("server policy acknowledged as %s",
             g.policy_restricts ? "partially enforced" : "fully enforced");
        g.policy_restricts = 0;
        break;
    case EAS_EV_WIPE:
        LOGW("remote wipe: removing the local store of this account");
        for (size_t k = 0; k < g.ncolls; k++) {
            easd_coll_t *c = &g.colls[k];
            for (size_t i = 0; i < c->n; i++) {
                if (c->e[i].used) {
                    store_remove(c, &c->e[i], false);
                }
            }
            (void)easd_ix_save(c);
        }
        break;
    case EAS_EV_PING_REJECTED:
        LOGW("folder %s left out of Ping (status %u)", ev->u.folder.entry->server_id,
             ev->u.folder.status);
        break;
    case EAS_EV_SYNC_COMPLETE:
        if (!g.synced_once) {
            LOGI("sync complete: %lu added, %lu changed, %lu deleted", g.adds, g.changes,
                 g.deletes);
        }
        g.synced_once = true;
        g.last_sync = time(NULL);
        g.status_dirty = true;
        break;
    default:
        break;
    }
    return EAS_OK;
}

/* ------------------------------------------------------------------------------------- */
/* Status and the control socket                                                         */
/* ------------------------------------------------------------------------------------- */

static size_t status_text(char *buf, size_t cap, bool running)
{
    char ts[64] = "never";
    if (g.last_sync) {
        struct tm tm;
        localtime_r(&g.last_sync, &tm);
        (void)strftime(ts, sizeof(ts), "%Y-%m-%d %H:%M:%S %z", &tm);
    }
    /* The interval the engine's adaptive heartbeat asks for now (learned and persisted by
       the engine), not only the configured ceiling. */
    char hb[16] = "-";
    if (g.engine_up) {
        (void)snprintf(hb, sizeof(hb), "%" PRIu32, eas_engine_heartbeat_s(&g.eng));
    }
    return (size_t)snprintf(
        buf, cap,
        "daemon: %s\naccount: %s\nserver: %s\nstate: %s\nlast_sync: %s\n"
        "heartbeat: %s s (adaptive, ceiling %u s)\n"
        "last_error: %s\noutbox: %zu\nfolders: %zu\nconflicts: %lu\n",
        running ? "running" : "not running", g.cfg.user, g.acct.url ? g.acct.url : "",
        g.stopped_err ? eas_engine_state_name(g.state) : eas_engine_state_name(g.state), ts, hb,
        (unsigned)g.acct.ping_ceiling_s, g.last_error[0] ? g.last_error : "none",
        g.engine_up ? eas_outbox_pending(&g.eng, EAS_OUTBOX_NONE) : 0, g.ncolls, g.conflicts);
}

/* STATE/status: what easctl shows when no daemon runs. */
static void status_save(bool running)
{
    char buf[2048];
    char path[EASD_PATH_MAX + 16];
    size_t n = status_text(buf, sizeof(buf), running);
    (void)snprintf(path, sizeof(path), "%s/status", g.cfg.state_dir);
    (void)easd_write_atomic(path, buf, n < sizeof(buf) ? n : sizeof(buf) - 1);
    g.status_dirty = false;
}

static size_t folders_text(char *buf, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < CONFIG_EAS_MAX_FOLDERS && o + 400 < cap; i++) {
        const eas_folder_t *f = &g_folders[i];
        if (!f->used) {
            continue;
        }
        const easd_coll_t *c = coll_find(f->server_id);
        const char *cn = eas_class_name(f->cls);
        o += (size_t)snprintf(buf + o, cap - o, "%s\t%s\t%s\t%s\t%s\n", f->server_id, cn ? cn : "-",
                              (f->flags & EAS_FOLDER_F_SYNCED)     ? "synced"
                              : (f->flags & EAS_FOLDER_F_SELECTED) ? "syncing"
                                                                   : "not-synced",
                              c ? c->name : "-", c ? c->dir : "-");
    }
    return o;
}

typedef struct find_occ {
    int64_t day_from, day_to;
    int64_t found;
} find_occ_t;

static int occ_on_day(void *user, const eas_cal_occurrence_t *o)
{
    find_occ_t *f = user;
    if (o->start >= f->day_from && o->start < f->day_to) {
        f->found = o->original_start;
        return EAS_CAL_STOP;
    }
    return EAS_OK;
}

/* "respond ITEM accept|tentative|decline [FROM TO]": ITEM is a store file (path or name) or
   a ServerId; FROM..TO (Unix seconds) is the day easctl means in its own local time. */
static void ctl_respond(char *args, char *out, size_t cap)
{
    char *item = strtok(args, " "), *word = strtok(NULL, " ");
    char *from_s = strtok(NULL, " "), *to_s = strtok(NULL, " ");
    eas_meeting_reply_t reply = 0;
    if (word) {
        reply = !strcmp(word, "accept")      ? EAS_MEETING_ACCEPT
                : !strcmp(word, "tentative") ? EAS_MEETING_TENTATIVE
                : !strcmp(word, "decline")   ? EAS_MEETING_DECLINE
                                             : 0;
    }
    if (!item || !reply || (from_s && !to_s)) {
        (void)snprintf(out, cap, "error: respond ITEM accept|tentative|decline [FROM TO]\n");
        return;
    }
    const char *base = strrchr(item, '/') ? strrchr(item, '/') + 1 : item;
    easd_coll_t *c = NULL;
    easd_ix_entry_t *e = NULL;
    for (size_t k = 0; k < g.ncolls && !e; k++) {
        if (g.colls[k].cls != EAS_CLASS_CALENDAR) {
            continue;
        }
        c = &g.colls[k];
        e = easd_ix_by_name(c, base);
        if (!e) {
            e = easd_ix_by_sid(c, item);
        }
    }
    if (!e || !e->sid[0]) {
        (void)snprintf(out, cap, "error: no synced calendar item %s\n", item);
        return;
    }
    char instance[40] = "";
    if (from_s) {
#if CONFIG_EAS_CALENDAR
        char rp[EASD_PATH_MAX + 300];
        char *data = NULL;
        size_t len = 0;
        static eas_cal_exception_t ex[CONFIG_EAS_CAL_MAX_EXCEPTIONS];
        static eas_cal_attendee_t at[64];
        eas_cal_item_t it;
        find_occ_t fo = {.day_from = strtoll(from_s, NULL, 10),
                         .day_to = strtoll(to_s, NULL, 10),
                         .found = INT64_MIN};
        if (fo.day_to <= fo.day_from || fo.day_to - fo.day_from > 2 * 86400) {
            (void)snprintf(out, cap, "error: bad occurrence day\n");
            return;
        }
        rec_path(c, e->name, rp, sizeof(rp));
        eas_cal_item_init(&it, ex, CONFIG_EAS_CAL_MAX_EXCEPTIONS, at, 64);
        if (easd_read_file(rp, &data, &len, EASD_REC_MAX) != 0 ||
            easd_rec_cal((const uint8_t *)data, len, &it) != EAS_OK) {
            free(data);
            (void)snprintf(out, cap, "error: the item cannot be expanded\n");
            return;
        }
        free(data);
        /* From two days earlier: an occurrence moved onto that day keeps its pattern start. */
        (void)eas_cal_expand(&it, fo.day_from - 2 * 86400, fo.day_to, occ_on_day, &fo);
        if (fo.found == INT64_MIN) {
            (void)snprintf(out, cap, "error: no occurrence of %s on that day\n", item);
            return;
        }
        (void)eas_cal_format_time(fo.found, EAS_CAL_FMT_EAS, instance, sizeof(instance));
#else
        (void)snprintf(out, cap, "error: built without calendar support\n");
        return;
#endif
    }
    uint32_t id = 0;
    int err =
        eas_meeting_respond(&g.eng, c->sid, e->sid, instance[0] ? instance : NULL, reply, &id);
    if (err != EAS_OK) {
        (void)snprintf(out, cap, "error: %s\n", eas_err_name(err));
        return;
    }
    g.cmd_pending = true;
    LOGI("meeting response %s for %s%s%s queued (outbox %u)", word, e->sid,
         instance[0] ? " occurrence " : "", instance, (unsigned)id);
    (void)snprintf(out, cap, "queued: %s %s%s%s (outbox %u)\n", word, e->name,
                   instance[0] ? " occurrence " : "", instance, (unsigned)id);
}

static void ctl_handle(int fd)
{
    char line[1024];
    size_t n = 0;
    struct pollfd p = {.fd = fd, .events = POLLIN};
    /* The client writes its line at once; a silent one is dropped after a second. */
    while (n + 1 < sizeof(line) && poll(&p, 1, 1000) > 0) {
        ssize_t r = read(fd, line + n, sizeof(line) - 1 - n);
        if (r <= 0) {
            break;
        }
        n += (size_t)r;
        if (memchr(line, '\n', n)) {
            break;
        }
    }
    line[n] = '\0';
    line[strcspn(line, "\r\n")] = '\0';
    static char out[1 << 16];
    size_t o = 0;
    if (!strcmp(line, "status")) {
        o = status_text(out, sizeof(out), true);
    } else if (!strcmp(line, "folders")) {
        o = folders_text(out, sizeof(out));
    } else if (!strcmp(line, "sync")) {
        if (g.stopped_err && g.engine_up) {
            /* e.g. after the password was fixed: read it again, then leave the stop */
            char err[300];
            if (easd_config_password(&g.cfg, g.password, sizeof(g.password), err, sizeof(err)) !=
                0) {
                LOGE("%s", err);
            }
            (void)eas_engine_restart(&g.eng);
            g.stopped_err = 0;
        }
        (void)eas_sync_now(&g.eng, NULL);
        g.cmd_pending = true;
        g.scan_pending = true;
        o = (size_t)snprintf(out, sizeof(out), "sync requested\n");
    } else if (!strncmp(line, "respond ", 8)) {
        ctl_respond(line + 8, out, sizeof(out));
        o = strlen(out);
    } else {
        o = (size_t)snprintf(out, sizeof(out), "error: unknown request\n");
    }
    if (o > sizeof(out)) {
        o = sizeof(out);
    }
    for (size_t w = 0; w < o;) {
        struct pollfd q = {.fd = fd, .events = POLLOUT};
        if (poll(&q, 1, 1000) <= 0) {
            break;
        }
        ssize_t r = write(fd, out + w, o - w);
        if (r <= 0) {
            break;
        }
        w += (size_t)r;
    }
}

/* ------------------------------------------------------------------------------------- */
/* Setup                                                                                 */
/* ------------------------------------------------------------------------------------- */

static void apply_log(const easd_config_t *cfg, int verbose)
{
    easd_linux_log_config_t lc = {
        .sink = cfg->log_target == EASD_LOG_SYSLOG ? EASD_LINUX_LOG_SYSLOG : EASD_LINUX_LOG_STDERR,
        .min_level = cfg->log_level,
        .ident = "easd"};
    int lvl = (int)cfg->log_level + verbose;
    lc.min_level = (hal_log_level_t)(lvl > HAL_LOG_DEBUG ? HAL_LOG_DEBUG : lvl);
    easd_linux_log_config(&lc);
}

/* auth = oauth-device: the token source, set up once (a reload keeps it). The first start
 * without a token runs the device flow and logs the code to enter; later starts refresh. */
static easd_oauth_t g_oauth;
static int g_oauth_on;

static void oauth_show(void *user, const easd_oauth_device_code_t *dc)
{
    (void)user;
    LOGW("sign-in needed: open %s and enter the code %s (valid %u s)", dc->verification_uri,
         dc->user_code, (unsigned)dc->expires_in);
}

static int oauth_setup(void)
{
    static char token_path[EASD_PATH_MAX + 16];
    if (g_oauth_on) {
        return 0;
    }
    const char *tf = g.cfg.oauth_token_file;
    if (tf[0] == '\0') {
        (void)mkdir(g.cfg.state_dir, 0700);
        (void)snprintf(token_path, sizeof(token_path), "%s/oauth-token", g.cfg.state_dir);
        tf = token_path;
    }
    easd_oauth_config_t oc;
    memset(&oc, 0, sizeof(oc));
    oc.client_id = g.cfg.oauth_client_id;
    oc.tenant = g.cfg.oauth_tenant[0] ? g.cfg.oauth_tenant : NULL;
    oc.authority = g.cfg.oauth_authority[0] ? g.cfg.oauth_authority : NULL;
    oc.scope = g.cfg.oauth_scope[0] ? g.cfg.oauth_scope : NULL;
    oc.device_endpoint = g.cfg.oauth_device_endpoint[0] ? g.cfg.oauth_device_endpoint : NULL;
    oc.token_endpoint = g.cfg.oauth_token_endpoint[0] ? g.cfg.oauth_token_endpoint : NULL;
    oc.token_file = tf;
    oc.ca_file = g.cfg.ca_file[0] ? g.cfg.ca_file : NULL;
    oc.on_device_code = oauth_show;
    int rc = easd_oauth_init(&g_oauth, &oc);
    if (rc != EAS_OK) {
        LOGE("OAuth setup failed: %s", eas_strerror(rc));
        return -1;
    }
    g_oauth_on = 1;
    if (easd_oauth_state(&g_oauth) != EASD_OAUTH_READY) {
        rc = easd_oauth_device_flow(&g_oauth, 900);
        if (rc != EAS_OK) {
            LOGE("authorization failed: %s %s", eas_strerror(rc), g_oauth.last_error);
            return -1;
        }
    }
    return 0;
}

#if CONFIG_EAS_AUTODISCOVER
/* One wait of Autodiscover's own small loop (it runs before the engine starts). A signal
   ends it early (the main loop then reads the signal). */
static bool ad_wait(easd_linux_net_t *lnet, const eas_http_wait_t *w)
{
    easd_linux_wait_t lw;
    easd_linux_net_wait(lnet, w->read, w->write, &lw);
    if (lw.pending) {
        return true;
    }
    uint64_t now = hal_time_monotonic_ms();
    int timeout = w->deadline_ms > now ? (int)(w->deadline_ms - now) : 0;
    if (w->deadline_ms == UINT64_MAX || timeout > 1000) {
        timeout = 1000; /* the procedure's deadlines are checked on every step */
    }
    struct pollfd p[2];
    nfds_t n = 0;
    if (g.sig_fd >= 0) {
        p[n++] = (struct pollfd){.fd = g.sig_fd, .events = POLLIN};
    }
    if (lw.fd >= 0) {
        p[n++] = (struct pollfd){
            .fd = lw.fd,
            .events = (short)((lw.readable ? POLLIN : 0) | (lw.writable ? POLLOUT : 0))};
    }
    if (poll(p, n, timeout) > 0 && g.sig_fd >= 0 && (p[0].revents & POLLIN)) {
        return false;
    }
    return true;
}

/* "server" absent: the EAS URL from the address by Autodiscover (MS-ASCMD 2.2.1.1). The
 * credentials go only to https://DOMAIN/ and https://autodiscover.DOMAIN/ of the address and
 * to redirect targets the engine's redirect rule allows (same scheme, host and port, or a
 * host on redirect_allow); any other redirect stops before the new host is contacted. The URL
 * found is kept in STATE/server-url: when a later discovery fails (server unreachable), the
 * last one found for the same address is used, with a warning. */
static int autodiscover(void)
{
    static uint8_t hwork[EAS_HTTP_CLIENT_WORK_SIZE];
    static uint8_t adwork[EAS_AUTODISCOVER_WORK_SIZE];
    static eas_http_client_t http;
    static eas_autodiscover_t ad;
    char cache[EASD_PATH_MAX + 16];
    (void)snprintf(cache, sizeof(cache), "%s/server-url", g.cfg.state_dir);

    easd_linux_net_t lnet;
    hal_net_t net;
    easd_linux_net_config_t nc = {.ca_file = g.cfg.ca_file[0] ? g.cfg.ca_file : NULL};
    if (easd_linux_net_init(&lnet, &nc, &net) != EAS_OK) {
        LOGE("network setup failed (CA path too long?)");
        return -1;
    }
    eas_http_client_config_t hc = {.net = &net,
                                   .auth = g.acct.auth,
                                   .work = hwork,
                                   .work_len = sizeof(hwork),
                                   .utc_now = utc_clock};
    int rc = eas_http_client_init(&http, &hc);
    if (rc == EAS_OK) {
        rc = eas_autodiscover_start(&ad, &http, g.cfg.address, adwork, sizeof(adwork),
                                    hal_time_monotonic_ms());
    }
    bool interrupted = false;
    if (rc == EAS_OK) {
        eas_autodiscover_allow(&ad, &g.acct.redirect_allow);
        LOGI("Autodiscover for %s", g.cfg.address);
        do {
            eas_http_wait_t w;
            rc = eas_autodiscover_step(&ad, hal_time_monotonic_ms(), &w);
            if (rc == EAS_ERR_AGAIN && !ad_wait(&lnet, &w)) {
                eas_autodiscover_cancel(&ad);
                interrupted = true;
            }
        } while (rc == EAS_ERR_AGAIN && !interrupted);
    }
    const char *url = rc == EAS_OK ? eas_autodiscover_url(&ad) : NULL;
    if (url && strlen(url) < sizeof(g.server_url) && strncmp(url, "https://", 8) == 0) {
        (void)snprintf(g.server_url, sizeof(g.server_url), "%s", url);
        char rec[1400];
        int n = snprintf(rec, sizeof(rec), "%s %s\n", g.cfg.address, g.server_url);
        if (easd_write_atomic(cache, rec, (size_t)n) != 0) {
            LOGW("cannot keep the discovered URL in %s", cache);
        }
        LOGI("Autodiscover: %s -> %s", g.cfg.address, g.server_url);
    } else if (interrupted) {
        LOGE("Autodiscover interrupted by a signal");
    } else if (rc == EAS_ERR_HTTP_REDIRECT_APPROVAL) {
        const char *to = eas_autodiscover_redirect_url(&ad);
        LOGE("Autodiscover: redirected to %s, a host not on redirect_allow: nothing was sent "
             "there (add its host to redirect_allow, or set server)",
             to ? to : "?");
    } else {
        const char *rep = eas_autodiscover_report(&ad);
        LOGE("Autodiscover for %s failed: %s%s%s", g.cfg.address, eas_err_name(rc),
             rep && rep[0] ? ": " : "", rep ? rep : "");
    }
    eas_http_client_close(&http);
    easd_linux_net_deinit(&lnet);
    if (g.server_url[0] != '\0') {
        return 0;
    }
    if (interrupted || rc == EAS_ERR_HTTP_REDIRECT_APPROVAL) {
        return -1;
    }
    /* The last URL found for this address, if any. */
    char *data = NULL;
    size_t len = 0;
    if (easd_read_file(cache, &data, &len, 2048) == 0) {
        size_t al = strlen(g.cfg.address);
        char *nl = strchr(data, '\n');
        if (nl && len > al + 9 && strncmp(data, g.cfg.address, al) == 0 && data[al] == ' ' &&
            strncmp(data + al + 1, "https://", 8) == 0 &&
            (size_t)(nl - (data + al + 1)) < sizeof(g.server_url)) {
            *nl = '\0';
            (void)snprintf(g.server_url, sizeof(g.server_url), "%s", data + al + 1);
            LOGW("Autodiscover failed; using %s, found for %s earlier (%s)", g.server_url,
                 g.cfg.address, cache);
        }
        free(data);
    }
    return g.server_url[0] != '\0' ? 0 : -1;
}
#endif

/* The account configuration from the file; strings point into g.cfg / g.password. */
static int account_setup(void)
{
    char err[300];
    memset(&g.acct, 0, sizeof(g.acct));
    int nh = easd_hosts_split(g.cfg.redirect_allow, g.allow_buf, sizeof(g.allow_buf), g.allow_hosts,
                              EASD_REDIRECT_HOSTS);
    g.acct.redirect_allow.hosts = g.allow_hosts;
    g.acct.redirect_allow.n_hosts = nh > 0 ? (size_t)nh : 0u;
    if (g.cfg.auth_oauth) {
        if (oauth_setup() != 0) {
            return -1;
        }
    } else if (easd_config_password(&g.cfg, g.password, sizeof(g.password), err, sizeof(err)) !=
               0) {
        LOGE("%s", err);
        return -1;
    }
    g.acct.user = g.cfg.user;
    g.acct.email = g.cfg.address[0] ? g.cfg.address : NULL;
    g.acct.device_id = g.device_id;
    g.acct.device_type = "easd";
    /* What the server lists the device as (Settings DeviceInformation). Model and the
       User-Agent's product token stay the same across upgrades; the OS string may change. */
    struct utsname un;
    (void)snprintf(g.device_os, sizeof(g.device_os), "Linux %s", uname(&un) == 0 ? un.release : "");
    if (g.cfg.device_name[0] != '\0') {
        (void)snprintf(g.device_name, sizeof(g.device_name), "%s", g.cfg.device_name);
    } else if (gethostname(g.device_name, sizeof(g.device_name) - 1u) != 0) {
        g.device_name[0] = '\0';
    }
    g.device_name[sizeof(g.device_name) - 1u] = '\0';
    g.acct.device_info.model = g.cfg.device_model[0] != '\0' ? g.cfg.device_model : "easd";
    g.acct.device_info.friendly_name = g.device_name[0] != '\0' ? g.device_name : NULL;
    g.acct.device_info.os = g.device_os;
    if (g.cfg.auth_oauth) {
        g.acct.auth.kind = EAS_HTTP_AUTH_BEARER;
        g.acct.auth.token = easd_oauth_token;
        g.acct.auth.token_user = &g_oauth;
    } else {
        g.acct.auth.kind = EAS_HTTP_AUTH_BASIC;
        g.acct.auth.user = g.cfg.user;
        g.acct.auth.password = g.password;
    }
    g.server_url[0] = '\0';
    if (g.cfg.server[0] != '\0') {
        (void)snprintf(g.server_url, sizeof(g.server_url), "%s", g.cfg.server);
    } else {
#if CONFIG_EAS_AUTODISCOVER
        if (autodiscover() != 0) {
            return -1;
        }
#else
        LOGE("no \"server\" configured and this build has no Autodiscover "
             "(CONFIG_EAS_AUTODISCOVER): set server = https://HOST/Microsoft-Server-ActiveSync");
        return -1;
#endif
    }
    g.acct.url = g.server_url;
    /* The highest version both sides speak unless configured. At 16.x the deleted and moved
       occurrences of a local series go as per-occurrence requests (occurrences_send). */
    g.acct.max_version = (eas_proto_ver_t)g.cfg.max_version;
    g.acct.classes = g.cfg.classes;
    g.acct.body_type = g.cfg.body_type;
    g.acct.body_truncation = g.cfg.body_truncation;
    g.acct.window_size = g.cfg.window_size;
    /* The engine adapts the heartbeat between its start value and this ceiling. */
    g.acct.ping_ceiling_s = g.cfg.heartbeat_s;
    g.acct.ping_interval_s = g.cfg.heartbeat_s < 480u ? g.cfg.heartbeat_s : 0u;
    g.acct.store_prefix = "acct0";
    g.acct.progress = g.tty;
    /* --once exits after the sync: no Ping nobody would wait for. */
    g.acct.no_push = g.once;
    return 0;
}

static int engine_start(void)
{
    easd_linux_net_config_t nc = {.ca_file = g.cfg.ca_file[0] ? g.cfg.ca_file : NULL};
    if (easd_linux_net_init(&g.lnet, &nc, &g.net) != EAS_OK) {
        LOGE("network setup failed (CA path too long?)");
        return -1;
    }
    eas_arena_init(&g_arena, g_arena_mem, sizeof(g_arena_mem));
    eas_engine_mem_t mem = {g_folders,
                            CONFIG_EAS_MAX_FOLDERS,
                            g_outbox,
                            CONFIG_EAS_OUTBOX_SLOTS,
                            &g_arena,
                            g_work,
                            sizeof(g_work),
                            NULL,
                            g_cookie_mem,
                            sizeof(g_cookie_mem),
                            EAS_CONFIG_FINGERPRINT};
    g.acct.utc_now = utc_clock;
#if CONFIG_EAS_CALENDAR
    g_cal.exceptions = g_cal_ex;
    g_cal.exception_cap = (uint16_t)(sizeof(g_cal_ex) / sizeof(g_cal_ex[0]));
    g_cal.attendees = g_cal_att;
    g_cal.attendee_cap = (uint16_t)(sizeof(g_cal_att) / sizeof(g_cal_att[0]));
    mem.cal = &g_cal;
#endif
    int err = eas_engine_init(&g.eng, &g.acct, &mem, &g.net, easd_linux_hal(), on_event, &g);
    if (err != EAS_OK) {
        LOGE("the account cannot start (state in %s): %s", g.cfg.state_dir, eas_err_name(err));
        easd_linux_net_deinit(&g.lnet);
        return -1;
    }
    g.engine_up = true;
    g.stopped_err = 0;
    resume_adds();
    g.scan_pending = true;
    return 0;
}

static void engine_stop(void)
{
    if (g.engine_up) {
        eas_engine_close(&g.eng);
        easd_linux_net_deinit(&g.lnet);
        g.engine_up = false;
    }
}

static void save_all(void)
{
    for (size_t k = 0; k < g.ncolls; k++) {
        if (g.colls[k].dirty && easd_ix_save(&g.colls[k]) != 0) {
            LOGE("cannot save the index %s", g.colls[k].ixpath);
        }
    }
    if (g.folders_dirty) {
        (void)folders_save();
    }
}

static int g_verbose;

/* SIGHUP: a new configuration; the account restarts from its persisted state. */
static void reload(void)
{
    static easd_config_t nc;
    char err[600];
    if (easd_config_load(g.cfg.path, &nc, err, sizeof(err)) != 0) {
        LOGE("reload: %s; keeping the running configuration", err);
        return;
    }
    if (strcmp(nc.state_dir, g.cfg.state_dir) != 0 || strcmp(nc.store_dir, g.cfg.store_dir) != 0) {
        LOGE("reload: state_dir and store_dir change only with a restart; keeping the running "
             "configuration");
        return;
    }
    save_all();
    engine_stop();
    g.cfg = nc;
    apply_log(&g.cfg, g_verbose);
    if (account_setup() != 0 || engine_start() != 0) {
        LOGE("reload: the account cannot start with the new configuration");
        return;
    }
    g.cmd_pending = true;
    LOGI("configuration reloaded from %s", g.cfg.path);
}

static void usage(void)
{
    fprintf(stderr, "usage: easd --config FILE [--once [--timeout SECONDS]] [--foreground] "
                    "[-v...]\n");
}

int main(int argc, char **argv)
{
    const char *cfgpath = NULL;
    char defpath[EASD_PATH_MAX];
    unsigned timeout_s = 600;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--config") && i + 1 < argc) {
            cfgpath = argv[++i];
        } else if (!strcmp(argv[i], "--once")) {
            g.once = true;
        } else if (!strcmp(argv[i], "--timeout") && i + 1 < argc) {
            char *end = NULL;
            const char *v = argv[++i];
            unsigned long t = strtoul(v, &end, 10);
            if (v[0] < '0' || v[0] > '9' || *end != '\0' || t == 0 || t > 86400) {
                fprintf(stderr, "easd: --timeout wants seconds, 1 to 86400 (got \"%s\")\n", v);
                return 2;
            }
            timeout_s = (unsigned)t;
        } else if (!strcmp(argv[i], "--foreground")) {
            /* easd never forks; systemd (Type=simple) and terminals both want that. */
        } else if (argv[i][0] == '-' && argv[i][1] == 'v') {
            for (const char *p = argv[i] + 1; *p == 'v'; p++) {
                g_verbose++;
            }
        } else {
            usage();
            return 2;
        }
    }
    if (!cfgpath) {
        easd_config_default_path(defpath, sizeof(defpath));
        cfgpath = defpath;
    }
    char err[600];
    if (easd_config_load(cfgpath, &g.cfg, err, sizeof(err)) != 0) {
        fprintf(stderr, "easd: %s\n", err);
        return 2;
    }
    umask(0077);
    g.tty = isatty(STDERR_FILENO) && g.cfg.log_target == EASD_LOG_STDERR;
    apply_log(&g.cfg, g_verbose);
    g.ino_fd = g.ctl_fd = g.sig_fd = -1;
    if (easd_mkdirs(g.cfg.state_dir) != 0 || easd_mkdirs(g.cfg.store_dir) != 0) {
        LOGE("cannot create %s or %s: %s", g.cfg.state_dir, g.cfg.store_dir, strerror(errno));
        return 1;
    }
    char engdir[EASD_PATH_MAX + 16];
    (void)snprintf(engdir, sizeof(engdir), "%s/engine", g.cfg.state_dir);
    if (easd_linux_store_init(engdir) != EAS_OK) {
        LOGE("cannot use the state dir %s", engdir);
        return 1;
    }
    if (easd_config_device_id(&g.cfg, g.device_id, sizeof(g.device_id)) != 0) {
        LOGE("cannot read or create the device id in %s", g.cfg.state_dir);
        return 1;
    }
    sigset_t ss;
    sigemptyset(&ss);
    sigaddset(&ss, SIGTERM);
    sigaddset(&ss, SIGINT);
    sigaddset(&ss, SIGHUP);
    sigprocmask(SIG_BLOCK, &ss, NULL);
    signal(SIGPIPE, SIG_IGN);
    g.sig_fd = signalfd(-1, &ss, SFD_CLOEXEC | SFD_NONBLOCK);
    g.ino_fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
    easd_ctl_path(&g.cfg, g.ctl_path, sizeof(g.ctl_path));
    g.ctl_fd = easd_ctl_listen(g.ctl_path);
    if (g.ctl_fd < 0) {
        LOGW("no control socket at %s: %s (easctl reads the state files)", g.ctl_path,
             strerror(errno));
    }
    folders_load();
    for (size_t k = 0; k < g.ncolls; k++) {
        watch(&g.colls[k]);
    }
    if (account_setup() != 0 || engine_start() != 0) {
        status_save(false);
        return 1;
    }
    LOGI("easd started: %s as %s, device %s, store %s%s", g.server_url, g.cfg.user, g.device_id,
         g.cfg.store_dir, g.once ? " (once)" : "");

    uint64_t once_deadline = hal_time_monotonic_ms() + (uint64_t)timeout_s * 1000u;
    eas_step_event_t ev = EAS_STEP_TICK;
    uint64_t dl = 0;
    int exit_code = 0;
    uint64_t last_status = 0;
    while (!g.stop) {
        uint64_t now = hal_time_monotonic_ms();
        if (g.engine_up && !g.stopped_err) {
            int rc = eas_step(&g.eng, ev, now, &dl);
            if (rc < 0 && rc != EAS_ERR_AGAIN) {
                g.stopped_err = rc;
                g.state = eas_engine_state(&g.eng);
                (void)snprintf(g.last_error, sizeof(g.last_error), "%s: %s",
                               eas_engine_state_name(g.state), eas_err_name(rc));
                LOGE("account stopped: %s%s", g.last_error,
                     g.once ? "" : " (fix it, then SIGHUP or easctl sync)");
                g.status_dirty = true;
                if (g.once) {
                    exit_code = 1;
                    break;
                }
            }
        } else {
            dl = UINT64_MAX;
        }
        ev = EAS_STEP_TICK;
        if (g.engine_up && !g.stopped_err && g.synced_once) {
            if (g.scan_pending) {
                g.ntouched = 0; /* the full compare covers them */
                scan_all();
            } else if (g.ntouched) {
                check_touched();
            }
        }
        save_all();
        if (g.status_dirty && now - last_status > 1000) {
            status_save(true);
            last_status = now;
        }
        if (g.cmd_pending) {
            g.cmd_pending = false;
            ev = EAS_STEP_COMMAND;
            continue;
        }
        if (g.once && g.synced_once && !g.scan_pending && !g.ntouched &&
            eas_outbox_pending(&g.eng, EAS_OUTBOX_NONE) == 0) {
            LOGI("--once: everything synced");
            break;
        }
        if (g.once && now >= once_deadline) {
            LOGE("--once: not complete within %u s", timeout_s);
            exit_code = 1;
            break;
        }

        easd_linux_wait_t w = {.fd = -1, .deadline_ms = EASD_LINUX_NO_DEADLINE};
        if (g.engine_up && !g.stopped_err) {
            unsigned io = eas_engine_wait_io(&g.eng);
            easd_linux_net_wait(&g.lnet, (io & EAS_IO_READ) != 0, (io & EAS_IO_WRITE) != 0, &w);
        }
        struct pollfd pf[4 + MAX_CLIENTS];
        nfds_t np = 0;
        int i_sig = -1, i_ino = -1, i_ctl = -1, i_net = -1;
        if (g.sig_fd >= 0) {
            i_sig = (int)np;
            pf[np++] = (struct pollfd){.fd = g.sig_fd, .events = POLLIN};
        }
        if (g.ino_fd >= 0) {
            i_ino = (int)np;
            pf[np++] = (struct pollfd){.fd = g.ino_fd, .events = POLLIN};
        }
        if (g.ctl_fd >= 0) {
            i_ctl = (int)np;
            pf[np++] = (struct pollfd){.fd = g.ctl_fd, .events = POLLIN};
        }
        if (w.fd >= 0 && (w.readable || w.writable)) {
            i_net = (int)np;
            pf[np++] = (struct pollfd){
                .fd = w.fd,
                .events = (short)((w.readable ? POLLIN : 0) | (w.writable ? POLLOUT : 0))};
        }
        uint64_t until = dl;
        if (w.deadline_ms < until) {
            until = w.deadline_ms;
        }
        if (g.once && once_deadline < until) {
            until = once_deadline;
        }
        if (g.status_dirty && now + 1000 < until) {
            until = now + 1000;
        }
        int timeout = -1;
        if (w.pending) {
            timeout = 0;
        } else if (until != UINT64_MAX) {
            timeout = until <= now ? 0 : (until - now > INT_MAX ? INT_MAX : (int)(until - now));
        }
        int pr = poll(pf, np, timeout);
        if (pr < 0 && errno != EINTR) {
            LOGE("poll: %s", strerror(errno));
            exit_code = 1;
            break;
        }
        now = hal_time_monotonic_ms();
        if (w.pending) {
            ev = EAS_STEP_READABLE;
        } else if (i_net >= 0 && pr > 0 && pf[i_net].revents) {
            ev = (pf[i_net].revents & (POLLIN | POLLHUP | POLLERR)) && w.readable
                     ? EAS_STEP_READABLE
                     : EAS_STEP_WRITABLE;
        } else if (w.fd >= 0 && w.deadline_ms != EASD_LINUX_NO_DEADLINE && now >= w.deadline_ms) {
            ev = w.readable ? EAS_STEP_READABLE : EAS_STEP_WRITABLE;
        }
        if (pr <= 0) {
            continue;
        }
        if (i_sig >= 0 && (pf[i_sig].revents & POLLIN)) {
            struct signalfd_siginfo si;
            while (read(g.sig_fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
                if (si.ssi_signo == SIGHUP) {
                    LOGI("SIGHUP: reloading %s", g.cfg.path);
                    reload();
                } else {
                    LOGI("signal %u: stopping", si.ssi_signo);
                    g.stop = true;
                }
            }
        }
        if (i_ino >= 0 && (pf[i_ino].revents & POLLIN)) {
            char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
            ssize_t r;
            while ((r = read(g.ino_fd, buf, sizeof(buf))) > 0) {
                for (char *p = buf; p < buf + r;) {
                    const struct inotify_event *ie = (const struct inotify_event *)p;
                    if (ie->len && ie->name[0] != '.') {
                        touch(ie->wd, ie->name);
                    }
                    p += sizeof(*ie) + ie->len;
                }
            }
        }
        if (i_ctl >= 0 && (pf[i_ctl].revents & POLLIN)) {
            int cfd;
            while ((cfd = accept4(g.ctl_fd, NULL, NULL, SOCK_CLOEXEC)) >= 0) {
                ctl_handle(cfd);
                close(cfd);
            }
        }
    }
    save_all();
    engine_stop();
    status_save(false);
    if (g.ctl_fd >= 0) {
        close(g.ctl_fd);
        (void)unlink(g.ctl_path);
    }
    easd_linux_store_deinit();
    memset(g.password, 0, sizeof(g.password));
    if (g_oauth_on) {
        easd_oauth_deinit(&g_oauth); /* wipes the tokens from memory */
        g_oauth_on = 0;
    }
    return exit_code;
}
