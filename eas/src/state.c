/* SPDX-License-Identifier: Apache-2.0 */
/* Persistent engine records: framing, checksums, account / folder / sync-key records. */
#include <stdio.h>
#include <string.h>

#include "eas/eas_config_defaults.h"
#include "eas/eas_cookie.h"
#include "eas/eas_http.h"
#include "eas/eas_wbxml.h"
#include "eas_log.h"
#include "eas_state.h"
#include "state_codec.h"

#define MOD "state"

uint32_t eas_crc32(uint32_t crc, const uint8_t *data, size_t len)
{
    /* Bitwise: records are small and written once per response; no 1 KB table in flash. */
    crc = ~crc;
    for (size_t i = 0; i < len; i++) {
        crc ^= data[i];
        for (int b = 0; b < 8; b++) {
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
        }
    }
    return ~crc;
}

int eas_state_key(char *out, size_t cap, const char *prefix, const char *suffix)
{
    int err = EAS_ERR_STORE_KEY;
    size_t plen = prefix ? strlen(prefix) : 0;

    if (plen == 0 || plen > 16 || !suffix) {
        goto out;
    }
    for (size_t i = 0; i < plen; i++) {
        char c = prefix[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-')) {
            goto out;
        }
    }
    int n = snprintf(out, cap, "%s.%s", prefix, suffix);
    if (n < 0 || (size_t)n >= cap || (size_t)n > HAL_STORE_KEY_MAX) {
        goto out;
    }
    err = EAS_OK;
out:
    return err;
}

/* Format version of a record type: outbox records are at 3 (typed payloads), the others
   at 1. */
static uint8_t rec_version(uint8_t type)
{
    return type == EAS_REC_OUTBOX ? EAS_REC_OUTBOX_VERSION : EAS_REC_VERSION;
}

int eas_state_put(const eas_state_ns_t *ns, const char *key, uint8_t type, uint8_t *buf,
                  size_t payload_len)
{
    buf[0] = 'E';
    buf[1] = 'A';
    buf[2] = type;
    buf[3] = rec_version(type);
    put_u32(buf + 4, (uint32_t)payload_len);
    put_u32(buf + 8, eas_crc32(0, buf + EAS_REC_HDR, payload_len));
    return ns->store->put(ns->store->ctx, key, buf, EAS_REC_HDR + payload_len);
}

int eas_state_get_any(const eas_state_ns_t *ns, const char *key, uint8_t type, uint8_t *buf,
                      size_t cap, const uint8_t **payload, size_t *len, uint8_t *version)
{
    size_t got = 0;
    int err = ns->store->get(ns->store->ctx, key, buf, cap, &got);

    if (err != EAS_OK) {
        goto out;
    }
    err = EAS_ERR_STORE_CORRUPT;
    if (got < EAS_REC_HDR || buf[0] != 'E' || buf[1] != 'A' || buf[2] != type || buf[3] == 0) {
        goto out;
    }
    uint32_t plen = get_u32(buf + 4);
    if ((size_t)plen != got - EAS_REC_HDR) {
        goto out;
    }
    if (eas_crc32(0, buf + EAS_REC_HDR, plen) != get_u32(buf + 8)) {
        goto out;
    }
    *payload = buf + EAS_REC_HDR;
    *len = plen;
    *version = buf[3];
    err = EAS_OK;
out:
    if (err == EAS_ERR_STORE_CORRUPT) {
        EAS_LOGE(ns->log, MOD, "record %s corrupt", key);
    }
    return err;
}

int eas_state_get(const eas_state_ns_t *ns, const char *key, uint8_t type, uint8_t *buf, size_t cap,
                  const uint8_t **payload, size_t *len)
{
    uint8_t version = 0;
    int err = eas_state_get_any(ns, key, type, buf, cap, payload, len, &version);
    if (err == EAS_OK && version != rec_version(type)) {
        /* Another format than this build writes: never read it as this one. */
        EAS_LOGE(ns->log, MOD, "record %s has format %u, not %u", key, (unsigned)version,
                 (unsigned)rec_version(type));
        err = EAS_ERR_STORE_CORRUPT;
    }
    return err;
}

/* ---- account ---- */

int eas_state_acct_save(const eas_state_ns_t *ns, const eas_state_acct_t *a, eas_arena_t *arena)
{
    char key[EAS_STATE_KEY_CAP];
    size_t mark = eas_arena_mark(arena);
    size_t cap = EAS_REC_HDR + 8 + EAS_ID_CAP;
    uint8_t *buf = eas_arena_alloc(arena, cap, 4);
    int err = eas_state_key(key, sizeof(key), ns->prefix, "acct");

    if (err == EAS_OK && !buf) {
        err = EAS_ERR_NOMEM;
    }
    if (err == EAS_OK) {
        wr_t w = {buf + EAS_REC_HDR, cap - EAS_REC_HDR, 0, EAS_OK};
        wr_u16(&w, a->version);
        wr_str(&w, a->policy_key);
        err = w.err;
        if (err == EAS_OK) {
            err = eas_state_put(ns, key, EAS_REC_ACCT, buf, w.len);
        }
    }
    eas_arena_release(arena, mark);
    return err;
}

int eas_state_acct_load(const eas_state_ns_t *ns, eas_state_acct_t *a, eas_arena_t *arena)
{
    char key[EAS_STATE_KEY_CAP];
    size_t mark = eas_arena_mark(arena);
    size_t cap = EAS_REC_HDR + 8 + EAS_ID_CAP;
    uint8_t *buf = eas_arena_alloc(arena, cap, 4);
    const uint8_t *pl = NULL;
    size_t plen = 0;
    int err = eas_state_key(key, sizeof(key), ns->prefix, "acct");

    memset(a, 0, sizeof(*a));
    if (err == EAS_OK && !buf) {
        err = EAS_ERR_NOMEM;
    }
    if (err == EAS_OK) {
        err = eas_state_get(ns, key, EAS_REC_ACCT, buf, cap, &pl, &plen);
        if (err == EAS_ERR_NOMEM) {
            err = EAS_ERR_STORE_CORRUPT; /* longer than any valid account record */
        }
    }
    if (err == EAS_OK) {
        rd_t r = {pl, plen, 0, EAS_OK};
        a->version = rd_u16(&r);
        rd_str(&r, a->policy_key, sizeof(a->policy_key));
        err = r.err;
    }
    if (err != EAS_OK) {
        memset(a, 0, sizeof(*a));
    }
    eas_arena_release(arena, mark);
    return err;
}

/* ---- server URL learned from an HTTP 451 redirect ---- */

/* The record keeps the configured URL the redirect was learned under: when the user changes
   the account's URL, a redirect the old server gave must not override it. */
#define URL_REC_CAP (EAS_REC_HDR + 4 + 2 * (CONFIG_EAS_URL_MAX + 1))

int eas_state_url_save(const eas_state_ns_t *ns, const char *configured, const char *url,
                       eas_arena_t *arena)
{
    char key[EAS_STATE_KEY_CAP];
    size_t mark = eas_arena_mark(arena);
    size_t cap = URL_REC_CAP;
    uint8_t *buf = eas_arena_alloc(arena, cap, 4);
    int err = eas_state_key(key, sizeof(key), ns->prefix, "url");

    if (err == EAS_OK &&
        (!url || strlen(url) > CONFIG_EAS_URL_MAX || !configured ||
         (url[0] != '\0' && configured[0] == '\0') || strlen(configured) > CONFIG_EAS_URL_MAX)) {
        err = EAS_ERR_PARAM;
    }
    if (err == EAS_OK && !buf) {
        err = EAS_ERR_NOMEM;
    }
    if (err == EAS_OK && url[0] == '\0') {
        err = ns->store->del(ns->store->ctx, key); /* back to the configured URL */
        err = err == EAS_ERR_STORE_NOT_FOUND ? EAS_OK : err;
    } else if (err == EAS_OK) {
        size_t c = strlen(configured);
        size_t n = strlen(url);
        memcpy(buf + EAS_REC_HDR, configured, c);
        buf[EAS_REC_HDR + c] = '\0';
        memcpy(buf + EAS_REC_HDR + c + 1, url, n);
        err = eas_state_put(ns, key, EAS_REC_URL, buf, c + 1 + n);
    }
    eas_arena_release(arena, mark);
    return err;
}

/* ---- cookie jar ---- */

static int count_fn(void *ctx, const uint8_t *d, size_t n)
{
    (void)d;
    *(size_t *)ctx += n;
    return EAS_OK;
}

typedef struct fill {
    uint8_t *p;
    size_t len;
    size_t cap;
} fill_t;

static int fill_fn(void *ctx, const uint8_t *d, size_t n)
{
    fill_t *f = ctx;
    if (n > f->cap - f->len) {
        return EAS_ERR_NOMEM;
    }
    memcpy(f->p + f->len, d, n);
    f->len += n;
    return EAS_OK;
}

int eas_state_cookies_save(const eas_state_ns_t *ns, const struct eas_cookie_jar *jar, int64_t now,
                           eas_arena_t *arena)
{
    char key[EAS_STATE_KEY_CAP];
    size_t mark = eas_arena_mark(arena);
    size_t need = 0;
    int err = eas_state_key(key, sizeof(key), ns->prefix, "cookies");

    if (err == EAS_OK && eas_cookie_jar_count(jar, now) == 0) {
        err = ns->store->del(ns->store->ctx, key);
        err = err == EAS_ERR_STORE_NOT_FOUND ? EAS_OK : err;
        goto out;
    }
    if (err == EAS_OK) {
        err = eas_cookie_jar_save(jar, now, count_fn, &need); /* sized by the content */
    }
    uint8_t *buf = err == EAS_OK ? eas_arena_alloc(arena, EAS_REC_HDR + need, 4) : NULL;
    if (err == EAS_OK && !buf) {
        err = EAS_ERR_NOMEM;
    }
    if (err == EAS_OK) {
        fill_t f = {.p = buf + EAS_REC_HDR, .len = 0, .cap = need};
        err = eas_cookie_jar_save(jar, now, fill_fn, &f);
        if (err == EAS_OK) {
            err = eas_state_put(ns, key, EAS_REC_COOKIES, buf, f.len);
        }
    }
out:
    eas_arena_release(arena, mark);
    return err;
}

int eas_state_cookies_load(const eas_state_ns_t *ns, struct eas_cookie_jar *jar, int64_t now,
                           eas_arena_t *arena)
{
    char key[EAS_STATE_KEY_CAP];
    size_t mark = eas_arena_mark(arena);
    uint8_t probe[1];
    size_t bcap = 0;
    const uint8_t *pl = NULL;
    size_t plen = 0;
    uint8_t *buf = NULL;
    /* Never more than a full jar can produce: slots x (slot text + field overhead). */
    size_t max = EAS_REC_HDR + 16 + eas_cookie_jar_slots(jar) * (CONFIG_EAS_COOKIE_SIZE + 64);
    int err = eas_state_key(key, sizeof(key), ns->prefix, "cookies");

    eas_cookie_jar_clear(jar);
    if (err == EAS_OK) {
        err = ns->store->get(ns->store->ctx, key, probe, 0, &bcap);
        if (err == EAS_ERR_NOMEM || err == EAS_OK) {
            err = bcap > max ? EAS_ERR_STORE_CORRUPT : EAS_OK;
        }
    }
    if (err == EAS_OK) {
        buf = eas_arena_alloc(arena, bcap > 0 ? bcap : 1, 4);
        err = buf ? eas_state_get(ns, key, EAS_REC_COOKIES, buf, bcap, &pl, &plen) : EAS_ERR_NOMEM;
    }
    if (err == EAS_OK) {
        err = eas_cookie_jar_load(jar, (const char *)pl, plen, now);
        if (err != EAS_OK) {
            err = EAS_ERR_STORE_CORRUPT;
        }
    }
    (void)eas_cookie_jar_take_changed(jar); /* what was loaded is what is stored */
    eas_arena_release(arena, mark);
    return err;
}

int eas_state_url_load(const eas_state_ns_t *ns, const char *configured, char *url, size_t cap,
                       eas_arena_t *arena)
{
    char key[EAS_STATE_KEY_CAP];
    size_t mark = eas_arena_mark(arena);
    size_t bcap = URL_REC_CAP;
    uint8_t *buf = eas_arena_alloc(arena, bcap, 4);
    const uint8_t *pl = NULL;
    size_t plen = 0;
    int err = eas_state_key(key, sizeof(key), ns->prefix, "url");

    if (cap > 0) {
        url[0] = '\0';
    }
    if (err == EAS_OK && !buf) {
        err = EAS_ERR_NOMEM;
    }
    if (err == EAS_OK) {
        err = eas_state_get(ns, key, EAS_REC_URL, buf, bcap, &pl, &plen);
        if (err == EAS_ERR_NOMEM) {
            err = EAS_ERR_STORE_CORRUPT;
        }
    }
    /* "configured\0url": exactly one NUL, neither part empty, both parse as URLs. */
    const uint8_t *sep = err == EAS_OK ? memchr(pl, '\0', plen) : NULL;
    size_t clen = sep ? (size_t)(sep - pl) : 0;
    size_t ulen = sep ? plen - clen - 1 : 0;
    if (err == EAS_OK && (sep == NULL || clen == 0 || ulen == 0 || ulen >= cap ||
                          clen > CONFIG_EAS_URL_MAX || memchr(sep + 1, '\0', ulen) != NULL)) {
        err = EAS_ERR_STORE_CORRUPT;
    }
    if (err == EAS_OK) {
        memcpy(url, sep + 1, ulen);
        url[ulen] = '\0';
        eas_url_t u;
        if (eas_url_parse((const char *)pl, &u) != EAS_OK || eas_url_parse(url, &u) != EAS_OK) {
            err = EAS_ERR_STORE_CORRUPT;
        } else if (configured == NULL || !eas_url_same((const char *)pl, configured)) {
            err = EAS_ERR_NOT_FOUND; /* learned under another configured URL */
        }
        if (err != EAS_OK) {
            url[0] = '\0';
        }
    }
    eas_arena_release(arena, mark);
    return err;
}

/* ---- folder list ---- */

#define FOLD_PERSIST_FLAGS (EAS_FOLDER_F_NO_PING)

static size_t folders_cap_bytes(size_t cap)
{
    return EAS_REC_HDR + 1 + EAS_ID_CAP + 2 + cap * (2 + 2 * EAS_ID_CAP + 2);
}

int eas_state_folders_save(const eas_state_ns_t *ns, const char *hierarchy_key,
                           const eas_folder_t *folders, size_t cap, eas_arena_t *arena)
{
    char key[EAS_STATE_KEY_CAP];
    size_t mark = eas_arena_mark(arena);
    uint16_t count = 0;
    int err = eas_state_key(key, sizeof(key), ns->prefix, "fold");
    uint8_t *buf = NULL;
    size_t bcap = 0;

    for (size_t i = 0; i < cap; i++) {
        count += folders[i].used ? 1 : 0;
    }
    /* Only used entries are written; size the buffer for them, compactly. */
    bcap = EAS_REC_HDR + 1 + EAS_ID_CAP + 2;
    for (size_t i = 0; i < cap; i++) {
        if (folders[i].used) {
            bcap += 2 + 2 + strlen(folders[i].server_id) + strlen(folders[i].parent_id) + 2;
        }
    }
    buf = eas_arena_alloc(arena, bcap, 4);
    if (err == EAS_OK && !buf) {
        err = EAS_ERR_NOMEM;
    }
    if (err == EAS_OK) {
        wr_t w = {buf + EAS_REC_HDR, bcap - EAS_REC_HDR, 0, EAS_OK};
        wr_str(&w, hierarchy_key);
        wr_u16(&w, count);
        for (size_t i = 0; i < cap; i++) {
            if (!folders[i].used) {
                continue;
            }
            /* The index is stored so sync-key records ("k<index>") stay attached. */
            wr_u16(&w, (uint16_t)i);
            wr_str(&w, folders[i].server_id);
            wr_str(&w, folders[i].parent_id);
            wr_u8(&w, folders[i].type);
            wr_u8(&w, (uint8_t)(folders[i].flags & FOLD_PERSIST_FLAGS));
        }
        err = w.err;
        if (err == EAS_OK) {
            err = eas_state_put(ns, key, EAS_REC_FOLD, buf, w.len);
        }
    }
    eas_arena_release(arena, mark);
    return err;
}

int eas_state_folders_load(const eas_state_ns_t *ns, char *hierarchy_key, eas_folder_t *folders,
                           size_t cap, eas_arena_t *arena)
{
    char key[EAS_STATE_KEY_CAP];
    size_t mark = eas_arena_mark(arena);
    size_t bcap = 0;
    uint8_t probe[1];
    uint8_t *buf = NULL;
    const uint8_t *pl = NULL;
    size_t plen = 0;
    int err = eas_state_key(key, sizeof(key), ns->prefix, "fold");

    memset(folders, 0, cap * sizeof(*folders));
    strcpy(hierarchy_key, "0");
    /* Size the buffer by the record, not by the table: a 256-entry worst case would not
       fit a small arena although real hierarchies are a few hundred bytes. */
    if (err == EAS_OK) {
        err = ns->store->get(ns->store->ctx, key, probe, 0, &bcap);
        if (err == EAS_ERR_NOMEM || err == EAS_OK) {
            err = bcap > folders_cap_bytes(cap) ? EAS_ERR_STORE_CORRUPT : EAS_OK;
        }
    }
    if (err == EAS_OK) {
        buf = eas_arena_alloc(arena, bcap > 0 ? bcap : 1, 4);
        if (!buf) {
            err = EAS_ERR_NOMEM;
        }
    }
    if (err == EAS_OK) {
        err = eas_state_get(ns, key, EAS_REC_FOLD, buf, bcap, &pl, &plen);
        if (err == EAS_ERR_NOMEM) {
            err = EAS_ERR_STORE_CORRUPT; /* more folders than this build can hold */
        }
    }
    if (err == EAS_OK) {
        rd_t r = {pl, plen, 0, EAS_OK};
        rd_str(&r, hierarchy_key, EAS_ID_CAP);
        uint16_t count = rd_u16(&r);
        for (uint16_t n = 0; n < count && r.err == EAS_OK; n++) {
            uint16_t idx = rd_u16(&r);
            if (idx >= cap || folders[idx].used) {
                r.err = EAS_ERR_STORE_CORRUPT;
                break;
            }
            eas_folder_t *f = &folders[idx];
            rd_str(&r, f->server_id, sizeof(f->server_id));
            rd_str(&r, f->parent_id, sizeof(f->parent_id));
            f->type = rd_u8(&r);
            f->flags = (uint8_t)(rd_u8(&r) & FOLD_PERSIST_FLAGS);
            strcpy(f->sync_key, "0");
            f->used = 1;
            if (f->server_id[0] == '\0') {
                r.err = EAS_ERR_STORE_CORRUPT;
            }
        }
        if (r.err == EAS_OK && r.pos != plen) {
            r.err = EAS_ERR_STORE_CORRUPT;
        }
        err = r.err;
    }
    if (err != EAS_OK) {
        memset(folders, 0, cap * sizeof(*folders));
        strcpy(hierarchy_key, "0");
    }
    eas_arena_release(arena, mark);
    return err;
}

/* ---- per-folder sync keys ---- */

#define SKEY_PERSIST_FLAGS (EAS_FOLDER_F_SYNCED | EAS_FOLDER_F_RESYNC)

static int skey_key(char *key, size_t cap, const char *prefix, size_t index)
{
    char suffix[16];
    snprintf(suffix, sizeof(suffix), "k%u", (unsigned)index);
    return eas_state_key(key, cap, prefix, suffix);
}

int eas_state_skey_save(const eas_state_ns_t *ns, size_t index, const eas_folder_t *f)
{
    char key[EAS_STATE_KEY_CAP];
    uint8_t buf[EAS_REC_HDR + 2 * EAS_ID_CAP + 4];
    int err = skey_key(key, sizeof(key), ns->prefix, index);

    if (err == EAS_OK) {
        wr_t w = {buf + EAS_REC_HDR, sizeof(buf) - EAS_REC_HDR, 0, EAS_OK};
        wr_str(&w, f->server_id);
        wr_str(&w, f->sync_key);
        wr_u8(&w, (uint8_t)(f->flags & SKEY_PERSIST_FLAGS));
        err = w.err;
        if (err == EAS_OK) {
            err = eas_state_put(ns, key, EAS_REC_SKEY, buf, w.len);
        }
    }
    return err;
}

int eas_state_skey_load(const eas_state_ns_t *ns, size_t index, eas_folder_t *f)
{
    char key[EAS_STATE_KEY_CAP];
    uint8_t buf[EAS_REC_HDR + 2 * EAS_ID_CAP + 4];
    char sid[EAS_ID_CAP];
    char skey[EAS_ID_CAP];
    const uint8_t *pl = NULL;
    size_t plen = 0;
    uint8_t flags = 0;
    int err = skey_key(key, sizeof(key), ns->prefix, index);

    if (err == EAS_OK) {
        err = eas_state_get(ns, key, EAS_REC_SKEY, buf, sizeof(buf), &pl, &plen);
        if (err == EAS_ERR_NOMEM) {
            err = EAS_ERR_STORE_CORRUPT;
        }
    }
    if (err == EAS_OK) {
        rd_t r = {pl, plen, 0, EAS_OK};
        rd_str(&r, sid, sizeof(sid));
        rd_str(&r, skey, sizeof(skey));
        flags = rd_u8(&r);
        err = r.err;
        if (err == EAS_OK && (skey[0] == '\0' || r.pos != plen)) {
            err = EAS_ERR_STORE_CORRUPT;
        }
    }
    /* A key of a folder that used to have this index belongs to nobody now. */
    if (err == EAS_OK && strcmp(sid, f->server_id) != 0) {
        err = EAS_ERR_STORE_NOT_FOUND;
    }
    f->flags = (uint8_t)(f->flags & ~SKEY_PERSIST_FLAGS);
    if (err == EAS_OK) {
        strcpy(f->sync_key, skey);
        f->flags |= (uint8_t)(flags & SKEY_PERSIST_FLAGS);
    } else {
        strcpy(f->sync_key, "0");
    }
    return err;
}

int eas_state_skey_del(const eas_state_ns_t *ns, size_t index)
{
    char key[EAS_STATE_KEY_CAP];
    int err = skey_key(key, sizeof(key), ns->prefix, index);
    if (err == EAS_OK) {
        err = ns->store->del(ns->store->ctx, key);
    }
    return err;
}

int eas_state_wipe(const eas_state_ns_t *ns, size_t folder_cap, size_t outbox_cap)
{
    char key[EAS_STATE_KEY_CAP];
    char suffix[16];
    int err = EAS_OK;
    int e;

    /* Folder list first: without it nothing else is reachable even if we stop midway. */
    if (eas_state_key(key, sizeof(key), ns->prefix, "fold") == EAS_OK) {
        e = ns->store->del(ns->store->ctx, key);
        err = err ? err : e;
    }
    for (size_t i = 0; i < folder_cap; i++) {
        e = eas_state_skey_del(ns, i);
        err = err ? err : e;
    }
    for (size_t i = 0; i < outbox_cap; i++) {
        snprintf(suffix, sizeof(suffix), "o%u", (unsigned)i);
        if (eas_state_key(key, sizeof(key), ns->prefix, suffix) == EAS_OK) {
            e = ns->store->del(ns->store->ctx, key);
            err = err ? err : e;
        }
    }
    if (eas_state_key(key, sizeof(key), ns->prefix, "hb") == EAS_OK) {
        e = ns->store->del(ns->store->ctx, key);
        err = err ? err : (e == EAS_ERR_STORE_NOT_FOUND ? EAS_OK : e);
    }
    /* Records that may never have been written: absent is fine. */
    static const char *const k_optional[] = {"url", "cookies", "devinfo"};
    for (size_t i = 0; i < sizeof(k_optional) / sizeof(k_optional[0]); i++) {
        if (eas_state_key(key, sizeof(key), ns->prefix, k_optional[i]) == EAS_OK) {
            e = ns->store->del(ns->store->ctx, key);
            err = err ? err : (e == EAS_ERR_STORE_NOT_FOUND ? EAS_OK : e);
        }
    }
    if (eas_state_key(key, sizeof(key), ns->prefix, "acct") == EAS_OK) {
        e = ns->store->del(ns->store->ctx, key);
        err = err ? err : e;
    }
    return err;
}

/* ---- sending rules ---- */

static int attendee_allowed(uint16_t tag)
{
    switch (tag) {
    case EAS_CALENDAR_REMINDER:
    case EAS_CALENDAR_BUSY_STATUS:
    case EAS_CALENDAR_CATEGORIES:
    case EAS_CALENDAR_CATEGORY:
    case EAS_CALENDAR_EXCEPTIONS:
    case EAS_CALENDAR_EXCEPTION:
    case EAS_CALENDAR_EXCEPTION_START_TIME:
        return 1;
    default:
        return 0;
    }
}

static int is_body(uint16_t tag)
{
    return tag == EAS_AIRSYNCBASE_BODY || tag == EAS_CALENDAR_BODY ||
           tag == EAS_CALENDAR_BODY_TRUNCATED || tag == EAS_CALENDAR_COMPRESSED_RTF;
}

int eas_outbox_filter(const eas_field_t *in, size_t n, unsigned flags, eas_field_t *out,
                      size_t *out_n)
{
    int err = EAS_OK;
    size_t k = 0;
    size_t depth = 0;
    size_t skip_depth = 0; /* > 0: inside a dropped container opened at this depth */

    for (size_t i = 0; i < n && err == EAS_OK; i++) {
        const eas_field_t *f = &in[i];
        int keep = 1;
        if (f->kind == EAS_FIELD_START) {
            depth++;
        } else if (f->kind == EAS_FIELD_END && depth == 0) {
            err = EAS_ERR_PARAM;
            break;
        }
        if (skip_depth) {
            keep = 0;
        } else if (f->kind != EAS_FIELD_END) {
            int drop = 0;
            if ((flags & EAS_CHANGE_F_ATTENDEE) && EAS_TAG_PAGE(f->tag) == EAS_PAGE_CALENDAR &&
                !attendee_allowed(f->tag)) {
                drop = 1;
            }
            if ((flags & EAS_CHANGE_F_ATTENDEE) && EAS_TAG_PAGE(f->tag) != EAS_PAGE_CALENDAR) {
                drop = 1; /* Body, attachments, ... belong to the organizer's copy */
            }
            if (!(flags & EAS_CHANGE_F_BODY_COMPLETE) && is_body(f->tag)) {
                drop = 1;
            }
            if (drop) {
                keep = 0;
                if (f->kind == EAS_FIELD_START) {
                    skip_depth = depth;
                }
            }
        }
        if (f->kind == EAS_FIELD_END) {
            if (skip_depth == depth) {
                keep = 0;
                skip_depth = 0;
            }
            depth--;
        }
        if (keep) {
            out[k++] = *f;
        }
    }
    if (err == EAS_OK && depth != 0) {
        err = EAS_ERR_PARAM;
    }
    *out_n = err == EAS_OK ? k : 0;
    return err;
}
