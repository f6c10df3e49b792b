/* SPDX-License-Identifier: Apache-2.0 */
/*
 * easctl: ask the easd daemon what it is doing, or tell it something.
 *
 *   easctl [--config FILE] status | folders | sync
 *   easctl [--config FILE] agenda [--from YYYY-MM-DD] [--to YYYY-MM-DD]
 *   easctl [--config FILE] respond ITEM accept|tentative|decline [--occurrence YYYY-MM-DD]
 *
 * status, folders, sync and respond go to the running daemon over its Unix socket; status
 * falls back to the state the daemon left when none runs. agenda needs no daemon: it reads
 * the item records easd keeps and expands them with the core's calendar module
 * (eas_cal_expand, the same rules the daemon's .ics files were written to match), printed
 * in local time. --to is inclusive; the default is today and the next 6 days.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "easd.h"
#include "easd_linux.h"

static easd_config_t g_cfg;

typedef struct occ {
    int64_t start, end;
    bool all_day;
    char subject[EAS_CAL_SUBJECT_MAX];
    char cal[64];
} occ_t;

typedef struct occ_list {
    occ_t *v;
    size_t n, cap;
    const eas_cal_item_t *it;
    const char *cal;
} occ_list_t;

static int on_occ(void *user, const eas_cal_occurrence_t *o)
{
    occ_list_t *l = user;
    if (l->n == l->cap) {
        size_t nc = l->cap ? l->cap * 2 : 256;
        occ_t *nv = realloc(l->v, nc * sizeof(*nv));
        if (!nv) {
            return EAS_ERR_NOMEM;
        }
        l->v = nv;
        l->cap = nc;
    }
    occ_t *x = &l->v[l->n++];
    x->start = o->start;
    x->end = o->end;
    x->all_day = (o->flags & EAS_CAL_OCC_ALL_DAY) != 0;
    const char *s = l->it->subject;
    if (o->exception >= 0 && (l->it->exceptions[o->exception].present & EAS_CAL_F_SUBJECT)) {
        s = l->it->exceptions[o->exception].subject;
    }
    (void)snprintf(x->subject, sizeof(x->subject), "%s", s);
    (void)snprintf(x->cal, sizeof(x->cal), "%s", l->cal);
    return EAS_OK;
}

static int cmp_occ(const void *a, const void *b)
{
    const occ_t *x = a, *y = b;
    if (x->start != y->start) {
        return x->start < y->start ? -1 : 1;
    }
    return strcmp(x->subject, y->subject);
}

static int parse_day(const char *s, int64_t *t)
{
    int y, m, d;
    char extra;
    if (sscanf(s, "%d-%d-%d%c", &y, &m, &d, &extra) != 3 || m < 1 || m > 12 || d < 1 || d > 31) {
        return -1;
    }
    struct tm tm = {.tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d, .tm_isdst = -1};
    *t = (int64_t)mktime(&tm);
    return 0;
}

static int64_t next_day(int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    localtime_r(&tt, &tm);
    tm.tm_mday++;
    tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
    tm.tm_isdst = -1;
    return (int64_t)mktime(&tm);
}

static int agenda(int argc, char **argv)
{
    int64_t from = 0, to = 0;
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
    tm.tm_isdst = -1;
    from = (int64_t)mktime(&tm);
    bool have_to = false;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--from") && i + 1 < argc) {
            if (parse_day(argv[++i], &from) != 0) {
                fprintf(stderr, "easctl: --from wants YYYY-MM-DD\n");
                return 2;
            }
        } else if (!strcmp(argv[i], "--to") && i + 1 < argc) {
            if (parse_day(argv[++i], &to) != 0) {
                fprintf(stderr, "easctl: --to wants YYYY-MM-DD\n");
                return 2;
            }
            to = next_day(to);
            have_to = true;
        } else {
            fprintf(stderr, "easctl: agenda [--from YYYY-MM-DD] [--to YYYY-MM-DD]\n");
            return 2;
        }
    }
    if (!have_to) {
        to = from;
        for (int d = 0; d < 7; d++) {
            to = next_day(to);
        }
    }
    if (to <= from) {
        fprintf(stderr, "easctl: --to is before --from\n");
        return 2;
    }
    char path[EASD_PATH_MAX + 16];
    char *folders = NULL;
    size_t flen = 0;
    (void)snprintf(path, sizeof(path), "%s/folders", g_cfg.state_dir);
    if (easd_read_file(path, &folders, &flen, 16u << 20) != 0) {
        fprintf(stderr, "easctl: nothing synced yet (no %s)\n", path);
        return 1;
    }
    static eas_cal_exception_t ex[CONFIG_EAS_CAL_MAX_EXCEPTIONS];
    static eas_cal_attendee_t at[64];
    occ_list_t l = {0};
    int bad = 0;
    char *save = NULL;
    for (char *line = strtok_r(folders, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *w[4];
        size_t n = 0;
        for (char *p = line; p && n < 4;) {
            w[n++] = p;
            p = strchr(p, '\t');
            if (p) {
                *p++ = '\0';
            }
        }
        if (n != 4 || atoi(w[1]) != EAS_CLASS_CALENDAR) {
            continue;
        }
        char esc[3 * EAS_ID_CAP + 1], dir[EASD_PATH_MAX + 300];
        easd_escape_name(w[0], esc, sizeof(esc));
        (void)snprintf(dir, sizeof(dir), "%s/items/%s", g_cfg.state_dir, esc);
        DIR *d = opendir(dir);
        if (!d) {
            continue;
        }
        struct dirent *de;
        while ((de = readdir(d)) != NULL) {
            size_t nl = strlen(de->d_name);
            if (de->d_name[0] == '.' || nl < 5 || strcmp(de->d_name + nl - 4, ".rec") != 0) {
                continue;
            }
            char rp[EASD_PATH_MAX * 2];
            char *data = NULL;
            size_t len = 0;
            eas_cal_item_t it;
            (void)snprintf(rp, sizeof(rp), "%s/%s", dir, de->d_name);
            eas_cal_item_init(&it, ex, CONFIG_EAS_CAL_MAX_EXCEPTIONS, at, 64);
            if (easd_read_file(rp, &data, &len, EASD_REC_MAX) != 0) {
                continue;
            }
            int err = easd_rec_cal((const uint8_t *)data, len, &it);
            free(data);
            l.it = &it;
            l.cal = w[3];
            int64_t f = from;
            while (err == EAS_OK || err == EAS_ERR_LIMIT) {
                size_t before = l.n;
                err = eas_cal_expand(&it, f, to, on_occ, &l);
                if (err != EAS_ERR_LIMIT || l.n == before) {
                    break;
                }
                f = l.v[l.n - 1].start + 1; /* a page was full: go on after its last start */
            }
            if (err != EAS_OK) {
                fprintf(stderr, "easctl: %s: %s (%s)\n", it.subject, eas_err_name(err), de->d_name);
                bad++;
            }
        }
        closedir(d);
    }
    free(folders);
    qsort(l.v, l.n, sizeof(occ_t), cmp_occ);
    for (size_t i = 0; i < l.n; i++) {
        const occ_t *o = &l.v[i];
        char a[32], b[16];
        time_t s = (time_t)o->start, e = (time_t)o->end;
        struct tm ts, te;
        localtime_r(&s, &ts);
        localtime_r(&e, &te);
        (void)strftime(a, sizeof(a), "%Y-%m-%d %a", &ts);
        if (o->all_day) {
            printf("%s  %-11s  %s  [%s]\n", a, "all day", o->subject, o->cal);
        } else {
            (void)strftime(b, sizeof(b), "%H:%M", &te);
            char hm[8];
            (void)strftime(hm, sizeof(hm), "%H:%M", &ts);
            printf("%s  %s-%s  %s  [%s]\n", a, hm, b, o->subject, o->cal);
        }
    }
    free(l.v);
    return bad ? 1 : 0;
}

static void usage(void)
{
    fprintf(stderr, "usage: easctl [--config FILE] status | folders | sync\n"
                    "       easctl [--config FILE] agenda [--from YYYY-MM-DD] [--to YYYY-MM-DD]\n"
                    "       easctl [--config FILE] respond ITEM accept|tentative|decline "
                    "[--occurrence YYYY-MM-DD]\n");
}

int main(int argc, char **argv)
{
    const char *cfgpath = NULL;
    char defpath[EASD_PATH_MAX];
    int i = 1;
    if (i + 1 < argc && !strcmp(argv[i], "--config")) {
        cfgpath = argv[i + 1];
        i += 2;
    }
    if (i >= argc) {
        usage();
        return 2;
    }
    if (!cfgpath) {
        easd_config_default_path(defpath, sizeof(defpath));
        cfgpath = defpath;
    }
    char err[600];
    if (easd_config_load(cfgpath, &g_cfg, err, sizeof(err)) != 0) {
        fprintf(stderr, "easctl: %s\n", err);
        return 2;
    }
    easd_linux_log_config_t lc = {.sink = EASD_LINUX_LOG_STDERR, .min_level = HAL_LOG_ERROR};
    easd_linux_log_config(&lc);
    const char *cmd = argv[i++];
    if (!strcmp(cmd, "agenda")) {
        return agenda(argc - i, argv + i);
    }
    char sock[EASD_PATH_MAX];
    char line[1024];
    easd_ctl_path(&g_cfg, sock, sizeof(sock));
    if (!strcmp(cmd, "status") || !strcmp(cmd, "folders") || !strcmp(cmd, "sync")) {
        if (i != argc) {
            usage();
            return 2;
        }
        (void)snprintf(line, sizeof(line), "%s", cmd);
    } else if (!strcmp(cmd, "respond")) {
        if (argc - i != 2 && !(argc - i == 4 && !strcmp(argv[i + 2], "--occurrence"))) {
            usage();
            return 2;
        }
        if (strchr(argv[i], ' ') || strchr(argv[i], '\n')) {
            fprintf(stderr, "easctl: ITEM must not contain spaces\n");
            return 2;
        }
        if (argc - i == 4) {
            /* The day in easctl's local time, sent as an instant range. */
            int64_t from = 0;
            if (parse_day(argv[i + 3], &from) != 0) {
                fprintf(stderr, "easctl: --occurrence wants YYYY-MM-DD\n");
                return 2;
            }
            (void)snprintf(line, sizeof(line), "respond %s %s %lld %lld", argv[i], argv[i + 1],
                           (long long)from, (long long)next_day(from));
        } else {
            (void)snprintf(line, sizeof(line), "respond %s %s", argv[i], argv[i + 1]);
        }
    } else {
        usage();
        return 2;
    }
    char *answer = NULL;
    int rc = easd_ctl_request(sock, line, &answer);
    if (rc == -1) {
        if (!strcmp(cmd, "status")) {
            char path[EASD_PATH_MAX + 16];
            char *data = NULL;
            size_t len = 0;
            (void)snprintf(path, sizeof(path), "%s/status", g_cfg.state_dir);
            if (easd_read_file(path, &data, &len, 1u << 20) == 0) {
                fputs(data, stdout);
                free(data);
                return 0;
            }
            printf("daemon: not running\nstate: never started (no %s)\n", path);
            return 0;
        }
        fprintf(stderr, "easctl: easd is not running (no socket %s)\n", sock);
        return 1;
    }
    if (rc != 0 || !answer) {
        fprintf(stderr, "easctl: no answer from easd at %s\n", sock);
        return 1;
    }
    fputs(answer, stdout);
    rc = strncmp(answer, "error:", 6) == 0 ? 1 : 0;
    free(answer);
    return rc;
}
