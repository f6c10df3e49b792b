/* SPDX-License-Identifier: Apache-2.0 */
/*
 * eas-agenda: the calendar module applied to what eas-sync delivered. Reads eas-sync's JSON
 * lines (one run or several appended), keeps the latest version of every Calendar item by
 * (folder, ServerId) exactly as an application would (add/change = upsert, delete = remove,
 * folder delete = drop its items), rebuilds each item's ApplicationData as decoder events,
 * collects it with eas_cal_item_parser and expands it with eas_cal_expand().
 *
 *   eas-agenda [--from 20261129T000000Z] [--days 7] [--json] [FILE ...]   (default: stdin)
 *
 * Text output: one line per occurrence, in start order. --json: one object per occurrence.
 * This is a host tool: it may use the heap, the core it calls does not.
 */
#define _POSIX_C_SOURCE 200809L /* getline, strdup */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "eas/eas_cal.h"
#include "eas/eas_err.h"
#include "eas/eas_wbxml.h"
#include "eas/eas_wbxml_tags.h"
#include "easd_linux.h"

#define MAX_PATH   8
#define MAX_SEEN   48
#define EX_CAP     256
#define ATT_CAP    64
#define MAX_ERRORS 64

/* ---- JSON (just enough for eas-sync's output: objects, arrays, strings, numbers) ----- */

typedef struct cursor {
    const char *p;
    const char *end;
} cursor_t;

static void skip_ws(cursor_t *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\r' || *c->p == '\n')) {
        c->p++;
    }
}

static int hexval(char ch)
{
    int v = -1;
    if (ch >= '0' && ch <= '9') {
        v = ch - '0';
    } else if (ch >= 'a' && ch <= 'f') {
        v = ch - 'a' + 10;
    } else if (ch >= 'A' && ch <= 'F') {
        v = ch - 'A' + 10;
    }
    return v;
}

static int read_hex4(cursor_t *c, unsigned *out)
{
    unsigned v = 0;
    if (c->end - c->p < 4) {
        return -1;
    }
    for (int i = 0; i < 4; i++) {
        int h = hexval(c->p[i]);
        if (h < 0) {
            return -1;
        }
        v = (v << 4) | (unsigned)h;
    }
    c->p += 4;
    *out = v;
    return 0;
}

static size_t put_utf8(char *o, unsigned cp)
{
    size_t n = 0;
    if (cp < 0x80u) {
        o[n++] = (char)cp;
    } else if (cp < 0x800u) {
        o[n++] = (char)(0xC0u | (cp >> 6));
        o[n++] = (char)(0x80u | (cp & 0x3Fu));
    } else if (cp < 0x10000u) {
        o[n++] = (char)(0xE0u | (cp >> 12));
        o[n++] = (char)(0x80u | ((cp >> 6) & 0x3Fu));
        o[n++] = (char)(0x80u | (cp & 0x3Fu));
    } else {
        o[n++] = (char)(0xF0u | (cp >> 18));
        o[n++] = (char)(0x80u | ((cp >> 12) & 0x3Fu));
        o[n++] = (char)(0x80u | ((cp >> 6) & 0x3Fu));
        o[n++] = (char)(0x80u | (cp & 0x3Fu));
    }
    return n;
}

/* Decodes a JSON string at the cursor into a new heap string. NULL on malformed input. */
static char *read_string(cursor_t *c, size_t *out_len)
{
    char *s = NULL;
    size_t n = 0;
    skip_ws(c);
    if (c->p >= c->end || *c->p != '"') {
        return NULL;
    }
    c->p++;
    /* The decoded text is never longer than the escaped text. */
    const char *q = c->p;
    while (q < c->end && *q != '"') {
        q += (*q == '\\' && q + 1 < c->end) ? 2 : 1;
    }
    s = malloc((size_t)(q - c->p) + 4u);
    if (!s) {
        return NULL;
    }
    while (c->p < c->end && *c->p != '"') {
        char ch = *c->p++;
        if (ch != '\\') {
            s[n++] = ch;
            continue;
        }
        if (c->p >= c->end) {
            goto bad;
        }
        ch = *c->p++;
        unsigned cp = 0;
        switch (ch) {
        case 'n':
            s[n++] = '\n';
            break;
        case 't':
            s[n++] = '\t';
            break;
        case 'r':
            s[n++] = '\r';
            break;
        case 'b':
            s[n++] = '\b';
            break;
        case 'f':
            s[n++] = '\f';
            break;
        case 'u':
            if (read_hex4(c, &cp) != 0) {
                goto bad;
            }
            if (cp >= 0xD800u && cp < 0xDC00u && c->end - c->p >= 6 && c->p[0] == '\\' &&
                c->p[1] == 'u') {
                unsigned lo = 0;
                c->p += 2;
                if (read_hex4(c, &lo) != 0 || lo < 0xDC00u || lo > 0xDFFFu) {
                    goto bad;
                }
                cp = 0x10000u + ((cp - 0xD800u) << 10) + (lo - 0xDC00u);
            }
            n += put_utf8(s + n, cp);
            break;
        default:
            s[n++] = ch;
            break;
        }
    }
    if (c->p >= c->end) {
        goto bad;
    }
    c->p++;
    s[n] = '\0';
    if (out_len) {
        *out_len = n;
    }
    return s;
bad:
    free(s);
    return NULL;
}

/* Skips any JSON value (used for keys we do not need). */
static int skip_value(cursor_t *c)
{
    skip_ws(c);
    if (c->p >= c->end) {
        return -1;
    }
    if (*c->p == '"') {
        char *s = read_string(c, NULL);
        if (!s) {
            return -1;
        }
        free(s);
        return 0;
    }
    if (*c->p == '{' || *c->p == '[') {
        int depth = 0;
        while (c->p < c->end) {
            if (*c->p == '"') {
                char *s = read_string(c, NULL);
                if (!s) {
                    return -1;
                }
                free(s);
                continue;
            }
            if (*c->p == '{' || *c->p == '[') {
                depth++;
            } else if (*c->p == '}' || *c->p == ']') {
                depth--;
            }
            c->p++;
            if (depth == 0) {
                return 0;
            }
        }
        return -1;
    }
    while (c->p < c->end && *c->p != ',' && *c->p != '}' && *c->p != ']') {
        c->p++;
    }
    return 0;
}

/* ---- the application's view: latest version of each calendar item -------------------- */

typedef struct item {
    char *folder;
    char *server_id;
    char *fields; /* the JSON text of the "fields" array */
    size_t fields_len;
    struct item *next;
} item_t;

static item_t *g_items;

static item_t **find_item(const char *folder, const char *sid)
{
    item_t **pp = &g_items;
    while (*pp && !(strcmp((*pp)->folder, folder) == 0 && strcmp((*pp)->server_id, sid) == 0)) {
        pp = &(*pp)->next;
    }
    return pp;
}

static void drop_item(item_t **pp)
{
    item_t *it = *pp;
    *pp = it->next;
    free(it->folder);
    free(it->server_id);
    free(it->fields);
    free(it);
}

/* One JSON line: only item and folder events matter. */
static void take_line(const char *line, size_t len)
{
    cursor_t c = {line, line + len};
    char *event = NULL, *folder = NULL, *sid = NULL, *cls = NULL;
    const char *fields = NULL;
    size_t fields_len = 0;

    skip_ws(&c);
    if (c.p >= c.end || *c.p != '{') {
        return;
    }
    c.p++;
    for (;;) {
        skip_ws(&c);
        if (c.p < c.end && *c.p == '}') {
            break;
        }
        char *key = read_string(&c, NULL);
        if (!key) {
            goto out;
        }
        skip_ws(&c);
        if (c.p >= c.end || *c.p != ':') {
            free(key);
            goto out;
        }
        c.p++;
        skip_ws(&c);
        char **dst = !strcmp(key, "event")       ? &event
                     : !strcmp(key, "folder")    ? &folder
                     : !strcmp(key, "server_id") ? &sid
                     : !strcmp(key, "class")     ? &cls
                                                 : NULL;
        if (dst && c.p < c.end && *c.p == '"') {
            free(*dst);
            *dst = read_string(&c, NULL);
        } else if (!strcmp(key, "fields")) {
            fields = c.p;
            if (skip_value(&c) != 0) {
                free(key);
                goto out;
            }
            fields_len = (size_t)(c.p - fields);
        } else if (skip_value(&c) != 0) {
            free(key);
            goto out;
        }
        free(key);
        skip_ws(&c);
        if (c.p < c.end && *c.p == ',') {
            c.p++;
        }
    }
    if (!event) {
        goto out;
    }
    if (!strcmp(event, "folder_delete") && sid) {
        /* The folder and everything in it are gone. */
        item_t **pp = &g_items;
        while (*pp) {
            if (!strcmp((*pp)->folder, sid)) {
                drop_item(pp);
            } else {
                pp = &(*pp)->next;
            }
        }
    } else if (!strncmp(event, "item_", 5) && folder && sid) {
        item_t **pp = find_item(folder, sid);
        if (!strcmp(event, "item_delete")) {
            if (*pp) {
                drop_item(pp);
            }
        } else if ((!strcmp(event, "item_add") || !strcmp(event, "item_change")) && cls &&
                   !strcmp(cls, "Calendar") && fields) {
            if (!*pp) {
                *pp = calloc(1, sizeof(item_t));
                if (!*pp) {
                    goto out;
                }
                (*pp)->folder = strdup(folder);
                (*pp)->server_id = strdup(sid);
            }
            /* A change carries the whole ApplicationData the server sent: replace. */
            free((*pp)->fields);
            (*pp)->fields = malloc(fields_len + 1);
            if ((*pp)->fields) {
                memcpy((*pp)->fields, fields, fields_len);
                (*pp)->fields[fields_len] = '\0';
                (*pp)->fields_len = fields_len;
            }
        }
    }
out:
    free(event);
    free(folder);
    free(sid);
    free(cls);
}

/* ---- fields -> decoder events ------------------------------------------------------- */

/*
 * eas-sync prints each value as ["Path.To.Leaf", "value"]. The element structure is rebuilt
 * from consecutive paths: a path shares its open prefix with the previous one, and a child
 * name that was already used inside the current container instance starts a new instance
 * of that container (a second Exception, a second Attendee). Names come without their code
 * page, so they are looked up where they can occur inside a calendar item.
 */
typedef struct rebuild {
    eas_cal_item_parser_t *parser;
    uint16_t open[MAX_PATH + 1]; /* open[0] = ApplicationData */
    char names[MAX_PATH + 1][40];
    char seen[MAX_PATH + 1][MAX_SEEN][40];
    int nseen[MAX_PATH + 1];
    int depth; /* open elements including ApplicationData */
    int err;
} rebuild_t;

static void emit(rebuild_t *r, eas_wbxml_ev_type_t type, uint16_t tag, const char *data, size_t len)
{
    eas_wbxml_event_t ev;
    memset(&ev, 0, sizeof(ev));
    ev.type = type;
    ev.tag = tag;
    /* START: the new element's depth; END: the closed one's (already popped); TEXT: the
       innermost open element's. */
    ev.depth = (uint16_t)(r->depth + (type == EAS_WBXML_EV_TEXT ? 0 : 1));
    ev.has_content = true;
    ev.piece = EAS_WBXML_PIECE_FIRST | EAS_WBXML_PIECE_LAST;
    ev.data = (const uint8_t *)data;
    ev.len = len;
    if (r->err == EAS_OK) {
        r->err = eas_cal_item_parser_event(r->parser, &ev);
    }
}

static void open_elem(rebuild_t *r, uint16_t tag, const char *name)
{
    emit(r, EAS_WBXML_EV_START, tag, NULL, 0);
    r->open[r->depth] = tag;
    snprintf(r->names[r->depth], sizeof(r->names[0]), "%s", name);
    r->nseen[r->depth] = 0;
    r->depth++;
}

static void close_elem(rebuild_t *r)
{
    r->depth--;
    emit(r, EAS_WBXML_EV_END, r->open[r->depth], NULL, 0);
}

static void mark_seen(rebuild_t *r, int level, const char *name)
{
    if (r->nseen[level] < MAX_SEEN) {
        snprintf(r->seen[level][r->nseen[level]++], sizeof(r->seen[0][0]), "%s", name);
    }
}

static int was_seen(const rebuild_t *r, int level, const char *name)
{
    for (int i = 0; i < r->nseen[level]; i++) {
        if (!strcmp(r->seen[level][i], name)) {
            return 1;
        }
    }
    return 0;
}

static int lookup_tag(const char *name, uint16_t parent, int is_container, uint16_t *tag)
{
    /* "0x0426": eas-sync without name tables prints the tag itself. */
    if (name[0] == '0' && name[1] == 'x') {
        *tag = (uint16_t)strtoul(name, NULL, 16);
        return EAS_OK;
    }
    uint8_t pages[3] = {EAS_PAGE_CALENDAR, EAS_PAGE_AIRSYNCBASE, EAS_PAGE_AIRSYNC};
    int asb_first = (parent >> 8) == EAS_PAGE_AIRSYNCBASE ||
                    (is_container && (!strcmp(name, "Body") || !strcmp(name, "Location") ||
                                      !strcmp(name, "Attachments")));
    if (asb_first) {
        pages[0] = EAS_PAGE_AIRSYNCBASE;
        pages[1] = EAS_PAGE_CALENDAR;
    }
    for (int i = 0; i < 3; i++) {
        if (eas_wbxml_tag_lookup(pages[i], name, strlen(name), tag) == EAS_OK) {
            return EAS_OK;
        }
    }
    return EAS_ERR_NOT_FOUND;
}

/* Leaf lists: a repeated child is another value, not another container. */
static int is_leaf_list(const char *name)
{
    return !strcmp(name, "Categories") || !strcmp(name, "Children");
}

static void add_value(rebuild_t *r, const char *path, const char *value, size_t vlen)
{
    char comp[MAX_PATH][40];
    int n = 0;
    const char *p = path;
    while (*p && n < MAX_PATH) {
        const char *dot = strchr(p, '.');
        size_t l = dot ? (size_t)(dot - p) : strlen(p);
        snprintf(comp[n], sizeof(comp[0]), "%.*s", (int)(l < 39 ? l : 39), p);
        n++;
        p += l + (dot ? 1 : 0);
        if (!dot) {
            break;
        }
    }
    if (n == 0 || *p) {
        return; /* deeper than we rebuild: not a calendar field we need */
    }
    /* Common prefix with the open elements (open level i+1 holds component i). */
    int k = 0;
    while (k < n - 1 && k + 1 < r->depth && !strcmp(r->names[k + 1], comp[k])) {
        k++;
    }
    while (r->depth > k + 1) {
        close_elem(r);
    }
    /* Component k is new under the open level k: if it was used before in this instance,
       the container (level k, unless it is the root or a leaf list) starts over. */
    if (k > 0 && was_seen(r, k, comp[k]) && !(k == n - 1 && is_leaf_list(r->names[k]))) {
        char name[40];
        uint16_t tag = r->open[k];
        snprintf(name, sizeof(name), "%s", r->names[k]);
        close_elem(r);
        open_elem(r, tag, name);
    }
    for (int i = k; i < n; i++) {
        uint16_t tag = 0;
        if (lookup_tag(comp[i], r->open[r->depth - 1], i < n - 1, &tag) != EAS_OK) {
            return; /* unknown name: skip the value (the parser would skip it anyway) */
        }
        mark_seen(r, r->depth - 1, comp[i]);
        if (i < n - 1) {
            open_elem(r, tag, comp[i]);
        } else {
            open_elem(r, tag, comp[i]);
            emit(r, EAS_WBXML_EV_TEXT, tag, value, vlen);
            close_elem(r);
        }
    }
}

/* Feeds the stored fields array of one item to the parser. */
static int rebuild_item(const item_t *it, eas_cal_item_parser_t *parser)
{
    static rebuild_t r;
    cursor_t c = {it->fields, it->fields + it->fields_len};

    memset(&r, 0, sizeof(r));
    r.parser = parser;
    r.err = EAS_OK;
    open_elem(&r, EAS_AIRSYNC_APPLICATION_DATA, "ApplicationData");
    skip_ws(&c);
    if (c.p >= c.end || *c.p != '[') {
        return EAS_ERR_FORMAT;
    }
    c.p++;
    for (;;) {
        skip_ws(&c);
        if (c.p < c.end && *c.p == ',') {
            c.p++;
            skip_ws(&c);
        }
        if (c.p >= c.end || *c.p == ']') {
            break;
        }
        if (*c.p != '[') {
            return EAS_ERR_FORMAT;
        }
        c.p++;
        size_t vlen = 0;
        char *path = read_string(&c, NULL);
        skip_ws(&c);
        if (c.p < c.end && *c.p == ',') {
            c.p++;
        }
        char *value = read_string(&c, &vlen);
        skip_ws(&c);
        if (!path || !value || c.p >= c.end || *c.p != ']') {
            free(path);
            free(value);
            return EAS_ERR_FORMAT;
        }
        c.p++;
        add_value(&r, path, value, vlen);
        free(path);
        free(value);
    }
    while (r.depth > 0) {
        close_elem(&r);
    }
    return r.err;
}

/* ---- expansion and output ----------------------------------------------------------- */

typedef struct occ_out {
    int64_t start, end;
    int32_t local_offset; /* item zone offset at start, seconds */
    uint8_t flags;
    char folder[72];
    char server_id[72];
    char subject[EAS_CAL_SUBJECT_MAX];
    char location[EAS_CAL_LOCATION_MAX];
} occ_out_t;

static occ_out_t *g_occ;
static size_t g_occ_n, g_occ_cap;

typedef struct expand_ctx {
    const item_t *it;
    const eas_cal_item_t *item;
} expand_ctx_t;

static int on_occurrence(void *user, const eas_cal_occurrence_t *occ)
{
    expand_ctx_t *x = user;
    if (g_occ_n == g_occ_cap) {
        size_t cap = g_occ_cap ? g_occ_cap * 2 : 64;
        occ_out_t *n = realloc(g_occ, cap * sizeof(*n));
        if (!n) {
            return EAS_ERR_NOMEM;
        }
        g_occ = n;
        g_occ_cap = cap;
    }
    occ_out_t *o = &g_occ[g_occ_n++];
    memset(o, 0, sizeof(*o));
    o->start = occ->start;
    o->end = occ->end;
    o->flags = occ->flags;
    o->local_offset = eas_cal_tz_offset(&x->item->tz, occ->start);
    snprintf(o->folder, sizeof(o->folder), "%s", x->it->folder);
    snprintf(o->server_id, sizeof(o->server_id), "%s", x->it->server_id);
    const char *subj = x->item->subject, *loc = x->item->location;
    if (occ->exception >= 0) {
        const eas_cal_exception_t *e = &x->item->exceptions[occ->exception];
        if (e->present & EAS_CAL_F_SUBJECT) {
            subj = e->subject;
        }
        if (e->present & EAS_CAL_F_LOCATION) {
            loc = e->location;
        }
    }
    snprintf(o->subject, sizeof(o->subject), "%s", subj);
    snprintf(o->location, sizeof(o->location), "%s", loc);
    return EAS_OK;
}

static int cmp_occ(const void *a, const void *b)
{
    const occ_out_t *x = a, *y = b;
    if (x->start != y->start) {
        return x->start < y->start ? -1 : 1;
    }
    return strcmp(x->subject, y->subject);
}

static void print_json_string(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\') {
            printf("\\%c", ch);
        } else if (ch < 0x20) {
            printf("\\u%04x", ch);
        } else {
            putchar(ch);
        }
    }
    putchar('"');
}

static const char *k_wday[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};

static void print_zone(int32_t offset_s)
{
    int off = offset_s / 60;
    if (off == 0) {
        printf("UTC      ");
    } else {
        printf("UTC%c%02d:%02d", off < 0 ? '-' : '+', abs(off) / 60, abs(off) % 60);
    }
}

/* Times are shown on the wall clock of the item's own zone, which is what its organizer
   meant (09:00 Berlin stays 09:00 across DST); the zone's offset follows. */
static void print_text(const occ_out_t *o)
{
    eas_cal_civil_t ls, le;
    eas_cal_civil_from_time(o->start + o->local_offset, &ls);
    if (o->flags & EAS_CAL_OCC_ALL_DAY) {
        /* All-day times are local midnights; the end is exclusive. */
        eas_cal_civil_from_time(o->end + o->local_offset - 1, &le);
        printf("  %s %04d-%02u-%02u  all day    ", k_wday[ls.wday], (int)ls.year, ls.month, ls.day);
        if (le.year != ls.year || le.month != ls.month || le.day != ls.day) {
            printf("    until %s %04d-%02u-%02u", k_wday[le.wday], (int)le.year, le.month,
                   le.day);
        } else {
            printf("         ");
        }
    } else {
        eas_cal_civil_from_time(o->end + o->local_offset, &le);
        printf("  %s %04d-%02u-%02u  %02u:%02u-", k_wday[ls.wday], (int)ls.year, ls.month, ls.day,
               ls.hour, ls.minute);
        if (le.year != ls.year || le.month != ls.month || le.day != ls.day) {
            printf("%s %02u:%02u ", k_wday[le.wday], le.hour, le.minute);
        } else {
            printf("%02u:%02u     ", le.hour, le.minute);
        }
        print_zone(o->local_offset);
    }
    printf("  %s", o->subject);
    if (o->location[0]) {
        printf(" @ %s", o->location);
    }
    if (o->flags & EAS_CAL_OCC_EXCEPTION) {
        printf("  [moved/changed occurrence]");
    } else if (o->flags & EAS_CAL_OCC_RECURRING) {
        printf("  [recurring]");
    }
    printf("\n");
}

static void print_json(const occ_out_t *o)
{
    char sb[32], eb[32];
    (void)eas_cal_format_time(o->start, EAS_CAL_FMT_ISO, sb, sizeof(sb));
    (void)eas_cal_format_time(o->end, EAS_CAL_FMT_ISO, eb, sizeof(eb));
    printf("{\"start\":\"%s\",\"end\":\"%s\",\"folder\":", sb, eb);
    print_json_string(o->folder);
    printf(",\"server_id\":");
    print_json_string(o->server_id);
    printf(",\"subject\":");
    print_json_string(o->subject);
    printf(",\"all_day\":%s,\"recurring\":%s,\"exception\":%s,\"utc_offset_min\":%d}\n",
           (o->flags & EAS_CAL_OCC_ALL_DAY) ? "true" : "false",
           (o->flags & EAS_CAL_OCC_RECURRING) ? "true" : "false",
           (o->flags & EAS_CAL_OCC_EXCEPTION) ? "true" : "false", o->local_offset / 60);
}

static int read_input(FILE *f)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, f)) > 0) {
        take_line(line, (size_t)n);
    }
    free(line);
    return ferror(f) ? -1 : 0;
}

static void usage(void)
{
    fprintf(stderr, "usage: eas-agenda [--from YYYYMMDDTHHMMSSZ] [--days N] [--json] [FILE...]\n"
                    "Reads eas-sync's JSON lines (stdin without FILE) and prints the calendar\n"
                    "occurrences starting in [from, from + N days), expanded by the calendar "
                    "module.\n");
}

int main(int argc, char **argv)
{
    int64_t from = (int64_t)time(NULL);
    long days = 7;
    int json = 0, files = 0, status = 0;
    unsigned long items = 0, errors = 0;
    /* The calendar module logs what it inferred from incomplete recurrences (info level). */
    easd_linux_log_config_t lc = {.sink = EASD_LINUX_LOG_STDERR, .min_level = HAL_LOG_WARN};
    easd_linux_log_config(&lc);

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--from") && i + 1 < argc) {
            const char *v = argv[++i];
            if (eas_cal_parse_time(v, strlen(v), &from) != EAS_OK) {
                fprintf(stderr, "eas-agenda: bad --from %s\n", v);
                return 2;
            }
        } else if (!strcmp(argv[i], "--days") && i + 1 < argc) {
            days = strtol(argv[++i], NULL, 10);
            if (days <= 0 || days > 3660) {
                fprintf(stderr, "eas-agenda: --days must be 1..3660\n");
                return 2;
            }
        } else if (!strcmp(argv[i], "--json")) {
            json = 1;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            usage();
            return 2;
        } else {
            FILE *f = strcmp(argv[i], "-") ? fopen(argv[i], "r") : stdin;
            if (!f) {
                fprintf(stderr, "eas-agenda: %s: %s\n", argv[i], strerror(errno));
                return 2;
            }
            (void)read_input(f);
            if (f != stdin) {
                fclose(f);
            }
            files++;
        }
    }
    if (!files) {
        (void)read_input(stdin);
    }

    const int64_t to = from + (int64_t)days * 86400;
    static eas_cal_exception_t ex[EX_CAP];
    static eas_cal_attendee_t at[ATT_CAP];
    for (const item_t *it = g_items; it; it = it->next) {
        eas_cal_item_t item;
        eas_cal_item_parser_t parser;
        eas_cal_item_init(&item, ex, EX_CAP, at, ATT_CAP);
        eas_cal_item_parser_init(&parser, &item, NULL);
        int err = rebuild_item(it, &parser);
        if (err == EAS_OK) {
            err = eas_cal_item_parser_finish(&parser);
        }
        expand_ctx_t x = {it, &item};
        int64_t win_from = from;
        /* Occurrences arrive in bounded batches (EAS_ERR_LIMIT): continue after the last. */
        while (err == EAS_OK || err == EAS_ERR_LIMIT) {
            size_t before = g_occ_n;
            err = eas_cal_expand(&item, win_from, to, on_occurrence, &x);
            if (err != EAS_ERR_LIMIT || g_occ_n == before) {
                break;
            }
            win_from = g_occ[g_occ_n - 1].start + 1;
        }
        items++;
        if (err != EAS_OK) {
            errors++;
            status = 1;
            fprintf(stderr, "eas-agenda: item %s/%s (%s): %s\n", it->folder, it->server_id,
                    item.subject, eas_err_name(err));
        }
    }
    if (g_occ_n) {
        qsort(g_occ, g_occ_n, sizeof(g_occ[0]), cmp_occ);
    }
    if (!json) {
        char fb[32], tb[32];
        (void)eas_cal_format_time(from, EAS_CAL_FMT_ISO, fb, sizeof(fb));
        (void)eas_cal_format_time(to, EAS_CAL_FMT_ISO, tb, sizeof(tb));
        printf("Agenda %s .. %s: %zu occurrence%s from %lu calendar item%s", fb, tb, g_occ_n,
               g_occ_n == 1 ? "" : "s", items, items == 1 ? "" : "s");
        if (errors) {
            printf(" (%lu item%s could not be expanded)", errors, errors == 1 ? "" : "s");
        }
        printf("\n");
    }
    for (size_t i = 0; i < g_occ_n; i++) {
        if (json) {
            print_json(&g_occ[i]);
        } else {
            print_text(&g_occ[i]);
        }
    }
    while (g_items) {
        drop_item(&g_items);
    }
    free(g_occ);
    return status;
}
