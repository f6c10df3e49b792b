/* SPDX-License-Identifier: Apache-2.0 */
/* Files of the daemon: atomic writes, item records (an item's fields as EAS delivered them,
 * replayed through the core's calendar parser by easctl) and the per-collection index that
 * tells easd's own files from changes made by other programs.
 *
 * Index file (STATE/index/<folder>): one line per file,
 *   name TAB sid TAB hash(16 hex) TAB state TAB pending
 * Journal (same path + ".j"): "name TAB sid TAB hash" appended and synced *before* easd
 * writes (hash != 0) or removes (hash 0) a file for the server, emptied when the index is
 * saved. After a crash between the file and the index, the journal says the file on disk is
 * easd's own, so the start-up scan does not send it back to the server as a local edit. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "easd.h"

uint64_t easd_hash(const void *data, size_t len)
{
    const uint8_t *p = data;
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < len; i++) {
        h = (h ^ p[i]) * 1099511628211ull;
    }
    return h ? h : 1; /* 0 means "none" in the index */
}

void easd_escape_name(const char *in, char *out, size_t cap)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (; *in && o + 4 < cap; in++) {
        unsigned char c = (unsigned char)*in;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || (c == '.' && o > 0)) {
            out[o++] = (char)c;
        } else {
            out[o++] = '=';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        }
    }
    out[o] = '\0';
}

int easd_mkdirs(const char *path)
{
    char buf[EASD_PATH_MAX];
    if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf)) {
        return -1;
    }
    for (char *p = buf + 1;; p++) {
        if (*p == '/' || *p == '\0') {
            char c = *p;
            *p = '\0';
            if (mkdir(buf, 0700) != 0 && errno != EEXIST) {
                return -1;
            }
            *p = c;
            if (c == '\0') {
                break;
            }
        }
    }
    return 0;
}

static int write_all(int fd, const void *data, size_t len)
{
    const uint8_t *p = data;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int easd_write_atomic(const char *path, const void *data, size_t len)
{
    char tmp[EASD_PATH_MAX + 32];
    char dir[EASD_PATH_MAX];
    const char *slash = strrchr(path, '/');
    if (!slash || (size_t)(slash - path) >= sizeof(dir)) {
        return -1;
    }
    memcpy(dir, path, (size_t)(slash - path));
    dir[slash - path] = '\0';
    /* A dot name: vdir readers skip hidden files, so a half-written temp is never read. */
    (void)snprintf(tmp, sizeof(tmp), "%s/.%s.easd-tmp", dir[0] ? dir : "", slash + 1);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        return -1;
    }
    int rc = write_all(fd, data, len);
    if (rc == 0) {
        rc = fsync(fd);
    }
    if (close(fd) != 0) {
        rc = -1;
    }
    if (rc == 0) {
        rc = rename(tmp, path);
    }
    if (rc != 0) {
        (void)unlink(tmp);
        return -1;
    }
    int dfd = open(dir[0] ? dir : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        (void)fsync(dfd);
        close(dfd);
    }
    return 0;
}

int easd_read_file(const char *path, char **data, size_t *len, size_t max)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size > max) {
        close(fd);
        return -1;
    }
    size_t cap = (size_t)st.st_size + 1;
    char *buf = malloc(cap);
    size_t n = 0;
    if (!buf) {
        close(fd);
        return -1;
    }
    for (;;) {
        if (n + 1 >= cap) {
            if (cap > max) {
                free(buf);
                close(fd);
                return -1;
            }
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                close(fd);
                return -1;
            }
            buf = nb;
            cap *= 2;
        }
        ssize_t r = read(fd, buf + n, cap - 1 - n);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r < 0) {
            free(buf);
            close(fd);
            return -1;
        }
        if (r == 0) {
            break;
        }
        n += (size_t)r;
    }
    close(fd);
    buf[n] = '\0';
    *data = buf;
    *len = n;
    return 0;
}

/* ------------------------------------------------------------------------------------- */
/* Item records                                                                          */
/* ------------------------------------------------------------------------------------- */

#define REC_HDR 10u

void easd_rec_reset(easd_rec_t *r)
{
    r->len = 0;
    r->overflow = false;
}

void easd_rec_free(easd_rec_t *r)
{
    free(r->buf);
    memset(r, 0, sizeof(*r));
}

void easd_rec_add(easd_rec_t *r, uint16_t tag, uint16_t depth, uint8_t kind, uint8_t flags,
                  const void *data, size_t len)
{
    if (r->overflow || len > EASD_REC_MAX || r->len + REC_HDR + len > EASD_REC_MAX) {
        r->overflow = true;
        return;
    }
    if (r->len + REC_HDR + len > r->cap) {
        size_t nc = r->cap ? r->cap : 4096;
        while (nc < r->len + REC_HDR + len) {
            nc *= 2;
        }
        uint8_t *nb = realloc(r->buf, nc);
        if (!nb) {
            r->overflow = true;
            return;
        }
        r->buf = nb;
        r->cap = nc;
    }
    uint8_t *p = r->buf + r->len;
    p[0] = (uint8_t)(tag >> 8);
    p[1] = (uint8_t)tag;
    p[2] = (uint8_t)(depth >> 8);
    p[3] = (uint8_t)depth;
    p[4] = kind;
    p[5] = flags;
    p[6] = (uint8_t)(len >> 24);
    p[7] = (uint8_t)(len >> 16);
    p[8] = (uint8_t)(len >> 8);
    p[9] = (uint8_t)len;
    if (len) {
        memcpy(p + REC_HDR, data, len);
    }
    r->len += REC_HDR + len;
}

bool easd_rec_next(const uint8_t *buf, size_t len, size_t *off, easd_rec_field_t *f)
{
    if (*off + REC_HDR > len) {
        return false;
    }
    const uint8_t *p = buf + *off;
    uint32_t l = ((uint32_t)p[6] << 24) | ((uint32_t)p[7] << 16) | ((uint32_t)p[8] << 8) | p[9];
    if (l > len - *off - REC_HDR) {
        return false; /* truncated record: stop, never read past it */
    }
    f->tag = (uint16_t)((p[0] << 8) | p[1]);
    f->depth = (uint16_t)((p[2] << 8) | p[3]);
    f->kind = p[4];
    f->flags = p[5];
    f->len = l;
    f->data = p + REC_HDR;
    *off += REC_HDR + l;
    return true;
}

bool easd_rec_text(const uint8_t *buf, size_t len, uint16_t tag, uint16_t depth, char *out,
                   size_t cap)
{
    size_t off = 0, o = 0;
    easd_rec_field_t f;
    bool found = false, in = false;
    out[0] = '\0';
    while (easd_rec_next(buf, len, &off, &f)) {
        if (f.kind == EAS_FIELD_START) {
            in = (f.tag == tag && f.depth == depth && !found);
            continue;
        }
        if (f.kind == EAS_FIELD_END) {
            if (in) {
                return true;
            }
            continue;
        }
        if (f.tag == tag && f.depth == depth && (in || !found)) {
            found = true;
            in = true;
            size_t n = f.len < cap - 1 - o ? f.len : cap - 1 - o;
            memcpy(out + o, f.data, n);
            o += n;
            out[o] = '\0';
            if (f.flags & EAS_FIELD_FINAL) {
                return true;
            }
        }
    }
    return found;
}

int easd_rec_cal(const uint8_t *buf, size_t len, eas_cal_item_t *item)
{
    eas_cal_item_parser_t p;
    size_t off = 0;
    easd_rec_field_t f;
    const uint16_t base = 5;
    int err;
    eas_cal_item_parser_init(&p, item, NULL);
    eas_wbxml_event_t open = {.type = EAS_WBXML_EV_START,
                              .tag = EAS_AIRSYNC_APPLICATION_DATA,
                              .depth = base,
                              .has_content = true};
    err = eas_cal_item_parser_event(&p, &open);
    while (err == EAS_OK && easd_rec_next(buf, len, &off, &f)) {
        eas_wbxml_event_t ev = {0};
        ev.tag = f.tag;
        ev.depth = (uint16_t)(base + f.depth);
        ev.data = f.data;
        ev.len = f.len;
        switch (f.kind) {
        case EAS_FIELD_START:
            ev.type = EAS_WBXML_EV_START;
            ev.has_content = true;
            break;
        case EAS_FIELD_END:
            ev.type = EAS_WBXML_EV_END;
            break;
        case EAS_FIELD_TEXT:
            ev.type = EAS_WBXML_EV_TEXT;
            ev.piece = (f.flags & EAS_FIELD_FINAL) ? EAS_WBXML_PIECE_LAST : 0;
            break;
        default:
            ev.type = EAS_WBXML_EV_OPAQUE;
            ev.piece = (f.flags & EAS_FIELD_FINAL) ? EAS_WBXML_PIECE_LAST : 0;
            ev.total_len = f.len;
            break;
        }
        err = eas_cal_item_parser_event(&p, &ev);
    }
    if (err == EAS_OK) {
        eas_wbxml_event_t close = {
            .type = EAS_WBXML_EV_END, .tag = EAS_AIRSYNC_APPLICATION_DATA, .depth = base};
        err = eas_cal_item_parser_event(&p, &close);
    }
    if (err == EAS_OK) {
        err = eas_cal_item_parser_finish(&p);
    }
    if (err == EAS_OK) {
        err = eas_cal_item_check(item);
    }
    return err;
}

/* ------------------------------------------------------------------------------------- */
/* Index                                                                                 */
/* ------------------------------------------------------------------------------------- */

easd_ix_entry_t *easd_ix_by_name(easd_coll_t *c, const char *name)
{
    for (size_t i = 0; i < c->n; i++) {
        if (c->e[i].used && strcmp(c->e[i].name, name) == 0) {
            return &c->e[i];
        }
    }
    return NULL;
}

easd_ix_entry_t *easd_ix_by_sid(easd_coll_t *c, const char *sid)
{
    for (size_t i = 0; i < c->n; i++) {
        if (c->e[i].used && c->e[i].sid[0] && strcmp(c->e[i].sid, sid) == 0) {
            return &c->e[i];
        }
    }
    return NULL;
}

easd_ix_entry_t *easd_ix_add(easd_coll_t *c, const char *name)
{
    easd_ix_entry_t *e = easd_ix_by_name(c, name);
    if (e) {
        return e;
    }
    for (size_t i = 0; i < c->n; i++) {
        if (!c->e[i].used) {
            e = &c->e[i];
            break;
        }
    }
    if (!e) {
        if (c->n == c->cap) {
            size_t nc = c->cap ? c->cap * 2 : 64;
            easd_ix_entry_t *ne = realloc(c->e, nc * sizeof(*ne));
            if (!ne) {
                return NULL;
            }
            c->e = ne;
            c->cap = nc;
        }
        e = &c->e[c->n++];
    }
    memset(e, 0, sizeof(*e));
    (void)snprintf(e->name, sizeof(e->name), "%s", name);
    e->used = 1;
    c->dirty = true;
    return e;
}

void easd_ix_remove(easd_coll_t *c, easd_ix_entry_t *e)
{
    memset(e, 0, sizeof(*e));
    c->dirty = true;
}

/* Split a line at TABs (in place). */
static size_t split_tabs(char *s, char **w, size_t cap)
{
    size_t n = 0;
    s[strcspn(s, "\r\n")] = '\0';
    while (s && n < cap) {
        w[n++] = s;
        s = strchr(s, '\t');
        if (s) {
            *s++ = '\0';
        }
    }
    return n;
}

int easd_ix_load(easd_coll_t *c)
{
    char *data = NULL;
    size_t len = 0;
    char jpath[EASD_PATH_MAX + 4];
    c->n = 0;
    if (easd_read_file(c->ixpath, &data, &len, 256u << 20) == 0) {
        char *save = NULL;
        for (char *l = strtok_r(data, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
            char *w[5];
            if (split_tabs(l, w, 5) != 5 || strlen(w[0]) >= 256 || strlen(w[1]) >= EAS_ID_CAP) {
                continue; /* a damaged line: the file is then treated as a new local one */
            }
            easd_ix_entry_t *e = easd_ix_add(c, w[0]);
            if (!e) {
                free(data);
                return -1;
            }
            (void)snprintf(e->sid, sizeof(e->sid), "%s", w[1]);
            e->hash = strtoull(w[2], NULL, 16);
            e->state = (uint8_t)strtoul(w[3], NULL, 10);
            e->pending = (uint32_t)strtoul(w[4], NULL, 10);
        }
        free(data);
    }
    (void)snprintf(jpath, sizeof(jpath), "%s.j", c->ixpath);
    if (easd_read_file(jpath, &data, &len, 256u << 20) == 0) {
        char *save = NULL;
        for (char *l = strtok_r(data, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
            char *w[3];
            if (split_tabs(l, w, 3) != 3 || strlen(w[0]) >= 256 || strlen(w[1]) >= EAS_ID_CAP) {
                continue;
            }
            uint64_t h = strtoull(w[2], NULL, 16);
            easd_ix_entry_t *e = easd_ix_by_name(c, w[0]);
            if (h == 0) {
                if (e) {
                    easd_ix_remove(c, e); /* removed for the server before the crash */
                }
                continue;
            }
            if (!e) {
                e = easd_ix_add(c, w[0]);
                if (!e) {
                    break;
                }
                (void)snprintf(e->sid, sizeof(e->sid), "%s", w[1]);
            }
            e->hash_alt = h;
        }
        free(data);
    }
    c->dirty = false;
    return 0;
}

int easd_ix_save(easd_coll_t *c)
{
    size_t cap = 4096, o = 0;
    char *buf = malloc(cap);
    char jpath[EASD_PATH_MAX + 4];
    if (!buf) {
        return -1;
    }
    for (size_t i = 0; i < c->n; i++) {
        const easd_ix_entry_t *e = &c->e[i];
        if (!e->used) {
            continue;
        }
        if (o + 400 > cap) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                return -1;
            }
            buf = nb;
            cap *= 2;
        }
        o += (size_t)snprintf(buf + o, cap - o, "%s\t%s\t%016" PRIx64 "\t%u\t%u\n", e->name, e->sid,
                              e->hash, e->state, (unsigned)e->pending);
    }
    int rc = easd_write_atomic(c->ixpath, buf, o);
    free(buf);
    if (rc == 0) {
        (void)snprintf(jpath, sizeof(jpath), "%s.j", c->ixpath);
        (void)unlink(jpath);
        c->dirty = false;
    }
    return rc;
}

int easd_ix_journal(easd_coll_t *c, const char *name, const char *sid, uint64_t hash)
{
    char jpath[EASD_PATH_MAX + 4];
    char line[400];
    (void)snprintf(jpath, sizeof(jpath), "%s.j", c->ixpath);
    int n = snprintf(line, sizeof(line), "%s\t%s\t%016" PRIx64 "\n", name, sid, hash);
    int fd = open(jpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) {
        return -1;
    }
    int rc = write_all(fd, line, (size_t)n);
    if (rc == 0) {
        rc = fdatasync(fd);
    }
    close(fd);
    c->dirty = true;
    return rc;
}
