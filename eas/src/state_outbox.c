/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Outbox records: one per queued local change or command, in slot "<prefix>.o<slot>".
 *
 * Payload, format 3 (EAS_REC_OUTBOX_VERSION): kind u8 | 0 u8 | attempts u16 | seq u32 |
 * folder_id str | the kind's own fields:
 *   ADD               client_id str | field list
 *   CHANGE            server_id str | instance_id str | field list
 *   DELETE            server_id str | instance_id str
 *   MEETING_RESPONSE  server_id str | instance_id str | reply u8 | uid_hash u32 lo | u32 hi
 *   MOVE              server_id str | dst_folder_id str
 *   SEND              cmd u8 | flags u8 | mime_id u32 | mime_len u32 lo | u32 hi |
 *                     client_id str | src_item str
 * A record is untrusted input: every field is checked (entry_check) before it is used, and
 * the same check guards what is written. Older records are migrated by eas_outbox_load():
 * format 2 is format 3 without the meeting's uid_hash (read as 0, "unknown"); format 1 (every
 * meaning in three strings) is parsed strictly. Both are rewritten as format 3, or dropped and
 * counted when they do not parse. attempts stays at payload offset 2 in every format.
 */
#include <stdio.h>
#include <string.h>

#include "eas/eas_config_defaults.h"
#include "eas_state.h"
#include "state_codec.h"

#if CONFIG_EAS_OUTBOX /* else outbox_none.c */

/* Strings of a decoded entry: folder_id plus at most two more, right after the record in the
   same arena block. */
#define OUTBOX_STR_SLOTS 3u
#define OUTBOX_STRS      (OUTBOX_STR_SLOTS * EAS_ID_CAP)

static int outbox_key(char *key, size_t cap, const char *prefix, size_t slot)
{
    char suffix[16];
    snprintf(suffix, sizeof(suffix), "o%u", (unsigned)slot);
    return eas_state_key(key, cap, prefix, suffix);
}

int eas_outbox_field_next(const uint8_t *buf, size_t len, size_t *pos, eas_field_t *f)
{
    int rc = EAS_ERR_FORMAT;
    size_t p = *pos;

    if (p == len) {
        rc = 0;
    } else if (len - p >= 5) {
        uint16_t tag = (uint16_t)(buf[p] | (buf[p + 1] << 8));
        uint8_t kind = buf[p + 2];
        size_t n = (size_t)(buf[p + 3] | (buf[p + 4] << 8));
        if (kind >= EAS_FIELD_START && kind <= EAS_FIELD_OPAQUE && n <= len - p - 5) {
            f->tag = tag;
            f->kind = (eas_field_kind_t)kind;
            f->data = buf + p + 5;
            f->len = n;
            *pos = p + 5 + n;
            rc = 1;
        }
    }
    return rc;
}

/* ---- what a valid entry is (for reading and for writing) ---- */

static bool id_ok(const char *s, bool may_be_empty)
{
    size_t n = s ? strlen(s) : 0;
    return s && (may_be_empty || n > 0) && n <= CONFIG_EAS_SERVER_ID_MAX;
}

static bool hex16(const char *s)
{
    return s && strlen(s) == 16 && strspn(s, "0123456789abcdef") == 16;
}

static bool fields_ok(const uint8_t *buf, size_t len)
{
    size_t pos = 0;
    eas_field_t f;
    int rc;
    while ((rc = eas_outbox_field_next(buf, len, &pos, &f)) == 1) {
    }
    return rc == 0;
}

static bool entry_check(const eas_outbox_entry_t *e)
{
    bool ok = e->seq != 0 && id_ok(e->folder_id, false);
    switch (e->kind) {
    case EAS_OUTBOX_ADD:
        /* ClientIds are random hex; "" only in entries written before that (their seq). */
        ok = ok && e->u.add.client_id &&
             (e->u.add.client_id[0] == '\0' || hex16(e->u.add.client_id)) &&
             fields_ok(e->u.add.fields, e->u.add.fields_len);
        break;
    case EAS_OUTBOX_CHANGE:
        ok = ok && id_ok(e->u.change.server_id, false) && id_ok(e->u.change.instance_id, true) &&
             fields_ok(e->u.change.fields, e->u.change.fields_len);
        break;
    case EAS_OUTBOX_DELETE:
        ok = ok && id_ok(e->u.del.server_id, false) && id_ok(e->u.del.instance_id, true);
        break;
    case EAS_OUTBOX_MEETING_RESPONSE:
        ok = ok && id_ok(e->u.meeting.server_id, false) && id_ok(e->u.meeting.instance_id, true) &&
             e->u.meeting.reply >= EAS_MEETING_ACCEPT && e->u.meeting.reply <= EAS_MEETING_DECLINE;
        break;
    case EAS_OUTBOX_MOVE:
        ok = ok && id_ok(e->u.move.server_id, false) && id_ok(e->u.move.dst_folder_id, false);
        break;
    case EAS_OUTBOX_SEND:
        ok = ok && e->u.mail.cmd >= EAS_MAIL_SEND && e->u.mail.cmd <= EAS_MAIL_FORWARD &&
             (e->u.mail.flags & ~(EAS_OB_MAIL_SAVE_IN_SENT | EAS_OB_MAIL_REPLACE_MIME)) == 0 &&
             e->u.mail.mime_len > 0 && e->u.mail.mime_len <= CONFIG_EAS_MAIL_MAX_BYTES &&
             hex16(e->u.mail.client_id) && id_ok(e->u.mail.src_item, true) &&
             (e->u.mail.cmd == EAS_MAIL_SEND) == (e->u.mail.src_item[0] == '\0');
        break;
    default:
        ok = false;
        break;
    }
    return ok;
}

/* ---- formats 2 and 3 ---- */

static void encode(wr_t *w, const eas_outbox_entry_t *e, const eas_field_t *fields, size_t n)
{
    const uint8_t *raw = NULL;
    size_t raw_len = 0;

    wr_u8(w, e->kind);
    wr_u8(w, 0);
    wr_u16(w, e->attempts);
    wr_u32(w, e->seq);
    wr_str(w, e->folder_id);
    switch (e->kind) {
    case EAS_OUTBOX_ADD:
        wr_str(w, e->u.add.client_id);
        raw = e->u.add.fields;
        raw_len = e->u.add.fields_len;
        break;
    case EAS_OUTBOX_CHANGE:
        wr_str(w, e->u.change.server_id);
        wr_str(w, e->u.change.instance_id);
        raw = e->u.change.fields;
        raw_len = e->u.change.fields_len;
        break;
    case EAS_OUTBOX_DELETE:
        wr_str(w, e->u.del.server_id);
        wr_str(w, e->u.del.instance_id);
        break;
    case EAS_OUTBOX_MEETING_RESPONSE:
        wr_str(w, e->u.meeting.server_id);
        wr_str(w, e->u.meeting.instance_id);
        wr_u8(w, e->u.meeting.reply);
        wr_u64(w, e->u.meeting.uid_hash);
        break;
    case EAS_OUTBOX_MOVE:
        wr_str(w, e->u.move.server_id);
        wr_str(w, e->u.move.dst_folder_id);
        break;
    case EAS_OUTBOX_SEND:
        wr_u8(w, e->u.mail.cmd);
        wr_u8(w, e->u.mail.flags);
        wr_u32(w, e->u.mail.mime_id);
        wr_u64(w, e->u.mail.mime_len);
        wr_str(w, e->u.mail.client_id);
        wr_str(w, e->u.mail.src_item);
        break;
    default:
        w->err = EAS_ERR_PARAM;
        break;
    }
    if (e->kind != EAS_OUTBOX_ADD && e->kind != EAS_OUTBOX_CHANGE) {
        return;
    }
    if (fields) {
        for (size_t i = 0; i < n; i++) {
            if (fields[i].len > 0xFFFFu) {
                w->err = EAS_ERR_LIMIT;
            }
            wr_u16(w, fields[i].tag);
            wr_u8(w, (uint8_t)fields[i].kind);
            wr_u16(w, (uint16_t)fields[i].len);
            wr_bytes(w, fields[i].data, fields[i].len);
        }
    } else if (raw_len > 0) {
        wr_bytes(w, raw, raw_len);
    }
}

/* Format 3, or (@p version 2) the same without a MeetingResponse's uid_hash. */
static int decode(const uint8_t *pl, size_t plen, uint8_t version, eas_outbox_entry_t *e,
                  char *strs)
{
    rd_t r = {pl, plen, 0, EAS_OK};
    char *s1 = strs + EAS_ID_CAP;
    char *s2 = strs + 2 * EAS_ID_CAP;

    memset(e, 0, sizeof(*e));
    e->kind = rd_u8(&r);
    if (rd_u8(&r) != 0) {
        r.err = EAS_ERR_STORE_CORRUPT;
    }
    e->attempts = rd_u16(&r);
    e->seq = rd_u32(&r);
    rd_str(&r, strs, EAS_ID_CAP);
    e->folder_id = strs;
    switch (e->kind) {
    case EAS_OUTBOX_ADD:
    case EAS_OUTBOX_CHANGE:
        rd_str(&r, s1, EAS_ID_CAP);
        /* The rest is the field list (checked by entry_check). */
        if (e->kind == EAS_OUTBOX_ADD) {
            e->u.add.client_id = s1;
            e->u.add.fields = pl + r.pos;
            e->u.add.fields_len = r.err == EAS_OK ? plen - r.pos : 0;
        } else {
            rd_str(&r, s2, EAS_ID_CAP);
            e->u.change.server_id = s1;
            e->u.change.instance_id = s2;
            e->u.change.fields = pl + r.pos;
            e->u.change.fields_len = r.err == EAS_OK ? plen - r.pos : 0;
        }
        r.pos = plen;
        break;
    case EAS_OUTBOX_DELETE:
        rd_str(&r, s1, EAS_ID_CAP);
        rd_str(&r, s2, EAS_ID_CAP);
        e->u.del.server_id = s1;
        e->u.del.instance_id = s2;
        break;
    case EAS_OUTBOX_MEETING_RESPONSE:
        rd_str(&r, s1, EAS_ID_CAP);
        rd_str(&r, s2, EAS_ID_CAP);
        e->u.meeting.server_id = s1;
        e->u.meeting.instance_id = s2;
        e->u.meeting.reply = rd_u8(&r);
        if (version >= 3u) {
            e->u.meeting.uid_hash = rd_u64(&r);
        }
        break;
    case EAS_OUTBOX_MOVE:
        rd_str(&r, s1, EAS_ID_CAP);
        rd_str(&r, s2, EAS_ID_CAP);
        e->u.move.server_id = s1;
        e->u.move.dst_folder_id = s2;
        break;
    case EAS_OUTBOX_SEND: {
        e->u.mail.cmd = rd_u8(&r);
        e->u.mail.flags = rd_u8(&r);
        e->u.mail.mime_id = rd_u32(&r);
        e->u.mail.mime_len = rd_u64(&r);
        rd_str(&r, s1, EAS_ID_CAP);
        rd_str(&r, s2, EAS_ID_CAP);
        e->u.mail.client_id = s1;
        e->u.mail.src_item = s2;
        break;
    }
    default:
        r.err = EAS_ERR_STORE_CORRUPT;
        break;
    }
    if (r.err == EAS_OK && (r.pos != plen || !entry_check(e))) {
        r.err = EAS_ERR_STORE_CORRUPT;
    }
    return r.err;
}

/* ---- format 1: migration only ---- */

/* Next space-separated decimal field of *s (at most 20 digits); false when malformed. */
static bool parse_u64(const char **s, uint64_t *v)
{
    const char *c = *s;
    uint64_t x = 0;
    int digits = 0;
    while (*c >= '0' && *c <= '9' && digits < 20) {
        x = x * 10u + (uint64_t)(*c - '0');
        c++;
        digits++;
    }
    if (digits == 0 || *c != ' ') {
        return false;
    }
    *s = c + 1;
    *v = x;
    return true;
}

/* Format 1: kind u8 | reply u8 | attempts u16 | seq u32 | folder_id | server_id | instance_id
   | field list. instance_id meant: the occurrence (MEETING_RESPONSE, CHANGE, DELETE), the ClientId
   (ADD), the destination (MOVE), "<flags> <mime_id> <mime_len> <ClientId>" (SEND, reply = command,
   server_id = the original). */
static int decode_v1(const uint8_t *pl, size_t plen, eas_outbox_entry_t *e, char *strs)
{
    rd_t r = {pl, plen, 0, EAS_OK};
    char *sid = strs + EAS_ID_CAP;
    char *inst = strs + 2 * EAS_ID_CAP;
    uint8_t reply;

    memset(e, 0, sizeof(*e));
    e->kind = rd_u8(&r);
    reply = rd_u8(&r);
    e->attempts = rd_u16(&r);
    e->seq = rd_u32(&r);
    rd_str(&r, strs, EAS_ID_CAP);
    rd_str(&r, sid, EAS_ID_CAP);
    rd_str(&r, inst, EAS_ID_CAP);
    e->folder_id = strs;
    if (r.err != EAS_OK) {
        return EAS_ERR_STORE_CORRUPT;
    }
    const uint8_t *fields = pl + r.pos;
    size_t fields_len = plen - r.pos;
    if (fields_len != 0 && e->kind != EAS_OUTBOX_ADD && e->kind != EAS_OUTBOX_CHANGE) {
        return EAS_ERR_STORE_CORRUPT; /* only Add and Change carry fields */
    }
    switch (e->kind) {
    case EAS_OUTBOX_ADD:
        e->u.add = (eas_ob_add_t){inst, fields, fields_len};
        break;
    case EAS_OUTBOX_CHANGE:
        e->u.change = (eas_ob_change_t){sid, inst, fields, fields_len}; /* inst: occurrence */
        break;
    case EAS_OUTBOX_DELETE:
        e->u.del = (eas_ob_delete_t){sid, inst}; /* inst: occurrence */
        break;
    case EAS_OUTBOX_MEETING_RESPONSE:
        e->u.meeting = (eas_ob_meeting_t){sid, inst, reply, 0};
        break;
    case EAS_OUTBOX_MOVE:
        e->u.move = (eas_ob_move_t){sid, inst};
        break;
    case EAS_OUTBOX_SEND: {
        const char *c = inst;
        uint64_t flags = 0, mime_id = 0, len = 0;
        if (!parse_u64(&c, &flags) || !parse_u64(&c, &mime_id) || !parse_u64(&c, &len) ||
            flags > 0xFFu || mime_id > UINT32_MAX) {
            return EAS_ERR_STORE_CORRUPT;
        }
        e->u.mail.cmd = reply;
        e->u.mail.flags = (uint8_t)flags;
        e->u.mail.mime_id = (uint32_t)mime_id;
        e->u.mail.mime_len = len;
        e->u.mail.client_id = c;
        e->u.mail.src_item = sid;
        break;
    }
    default:
        return EAS_ERR_STORE_CORRUPT;
    }
    return entry_check(e) ? EAS_OK : EAS_ERR_STORE_CORRUPT;
}

/* ---- records ---- */

static int outbox_write(const eas_outbox_t *ob, size_t slot, eas_arena_t *arena,
                        const eas_outbox_entry_t *e, const eas_field_t *fields, size_t n)
{
    char key[EAS_STATE_KEY_CAP];
    size_t mark = eas_arena_mark(arena);
    size_t cap = CONFIG_EAS_OUTBOX_RECORD_MAX;
    uint8_t *buf = eas_arena_alloc(arena, cap, 4);
    int err = outbox_key(key, sizeof(key), ob->ns->prefix, slot);

    if (err == EAS_OK && !buf) {
        err = EAS_ERR_NOMEM;
    }
    if (err == EAS_OK) {
        wr_t w = {buf + EAS_REC_HDR, cap - EAS_REC_HDR, 0, EAS_OK};
        encode(&w, e, fields, n);
        /* A full writer means the entry is larger than a record may be. */
        err = w.err == EAS_ERR_NOMEM ? EAS_ERR_LIMIT : w.err;
        if (err == EAS_OK) {
            err = eas_state_put(ob->ns, key, EAS_REC_OUTBOX, buf, w.len);
        }
    }
    eas_arena_release(arena, mark);
    return err;
}

/* Read slot @p slot: format 3 only, or (@p migrate) formats 1 and 2 as well; *version says
   which. */
static int outbox_get(const eas_outbox_t *ob, size_t slot, eas_arena_t *arena,
                      eas_outbox_entry_t *e, bool migrate, uint8_t *version)
{
    char key[EAS_STATE_KEY_CAP];
    size_t cap = CONFIG_EAS_OUTBOX_RECORD_MAX;
    uint8_t *buf = eas_arena_alloc(arena, cap + OUTBOX_STRS, 4);
    const uint8_t *pl = NULL;
    size_t plen = 0;
    int err = outbox_key(key, sizeof(key), ob->ns->prefix, slot);

    *version = 0;
    if (err == EAS_OK && !buf) {
        err = EAS_ERR_NOMEM;
    }
    if (err == EAS_OK) {
        err = migrate
                  ? eas_state_get_any(ob->ns, key, EAS_REC_OUTBOX, buf, cap, &pl, &plen, version)
                  : eas_state_get(ob->ns, key, EAS_REC_OUTBOX, buf, cap, &pl, &plen);
        if (err == EAS_ERR_NOMEM) {
            err = EAS_ERR_STORE_CORRUPT;
        }
    }
    if (err == EAS_OK && !migrate) {
        *version = EAS_REC_OUTBOX_VERSION;
    }
    if (err == EAS_OK) {
        char *strs = (char *)buf + cap;
        err = *version == EAS_REC_OUTBOX_VERSION || *version == 2u
                  ? decode(pl, plen, *version, e, strs)
              : *version == 1u ? decode_v1(pl, plen, e, strs)
                               : EAS_ERR_STORE_CORRUPT;
    }
    return err;
}

int eas_outbox_read(const eas_outbox_t *ob, size_t slot, eas_arena_t *arena, eas_outbox_entry_t *e)
{
    uint8_t version;
    return outbox_get(ob, slot, arena, e, false, &version);
}

int eas_outbox_load(eas_outbox_t *ob, eas_outbox_slot_t *slots, size_t cap,
                    const eas_state_ns_t *ns, eas_arena_t *arena, size_t *corrupt,
                    eas_outbox_lost_fn lost, void *lost_user)
{
    int err = EAS_OK;
    size_t bad = 0;

    ob->slots = slots;
    ob->cap = cap;
    ob->ns = ns;
    ob->next_seq = 1;
    memset(slots, 0, cap * sizeof(*slots));
    for (size_t i = 0; i < cap && err == EAS_OK; i++) {
        size_t mark = eas_arena_mark(arena);
        eas_outbox_entry_t e;
        uint8_t version = 0;
        int rc = outbox_get(ob, i, arena, &e, true, &version);
        if (rc == EAS_OK && version != EAS_REC_OUTBOX_VERSION) {
            /* Format 1 or 2, parsed: rewritten as format 3 (atomically, in place) before use.
               A store failure here fails the load; the old record is still there. */
            rc = outbox_write(ob, i, arena, &e, NULL, 0);
            if (rc != EAS_OK) {
                err = rc;
            }
        }
        if (rc == EAS_OK) {
            slots[i].seq = e.seq;
            slots[i].kind = e.kind;
            slots[i].attempts = e.attempts;
            slots[i].folder = 0xFFFFu; /* resolved by the engine against the folder table */
            if (e.seq >= ob->next_seq) {
                ob->next_seq = e.seq + 1;
            }
        } else if (rc == EAS_ERR_STORE_CORRUPT) {
            /* A damaged entry (or one of an unknown format) cannot be sent correctly: drop it
               and tell the caller. */
            char key[EAS_STATE_KEY_CAP];
            bad++;
            if (outbox_key(key, sizeof(key), ns->prefix, i) == EAS_OK) {
                (void)ns->store->del(ns->store->ctx, key);
                if (lost) {
                    lost(lost_user, i, key);
                }
            }
        } else if (rc != EAS_ERR_STORE_NOT_FOUND && err == EAS_OK) {
            err = rc;
        }
        eas_arena_release(arena, mark);
    }
    if (corrupt) {
        *corrupt = bad;
    }
    return err;
}

int eas_outbox_find(const eas_outbox_t *ob, uint32_t id)
{
    for (size_t i = 0; i < ob->cap; i++) {
        if (ob->slots[i].seq == id && id != 0) {
            return (int)i;
        }
    }
    return -1;
}

size_t eas_outbox_count(const eas_outbox_t *ob)
{
    size_t n = 0;
    for (size_t i = 0; i < ob->cap; i++) {
        n += ob->slots[i].seq ? 1 : 0;
    }
    return n;
}

int eas_outbox_put(eas_outbox_t *ob, eas_arena_t *arena, const eas_outbox_entry_t *in,
                   uint16_t folder_index, const eas_field_t *fields, size_t n, uint32_t *id)
{
    int err = EAS_OK;
    long slot = -1;
    eas_outbox_entry_t e = *in;

    e.seq = 0;
    e.attempts = 0;
    if (e.kind == EAS_OUTBOX_ADD) {
        e.u.add.fields = NULL;
        e.u.add.fields_len = 0;
    } else if (e.kind == EAS_OUTBOX_CHANGE) {
        e.u.change.fields = NULL;
        e.u.change.fields_len = 0;
        if (e.u.change.instance_id == NULL) {
            e.u.change.instance_id = "";
        }
    } else if (e.kind == EAS_OUTBOX_DELETE && e.u.del.instance_id == NULL) {
        e.u.del.instance_id = "";
    }
    if (e.kind == EAS_OUTBOX_MEETING_RESPONSE && e.u.meeting.instance_id == NULL) {
        e.u.meeting.instance_id = "";
    }
    if (e.kind == EAS_OUTBOX_MEETING_RESPONSE && id_ok(e.folder_id, false) &&
        id_ok(e.u.meeting.server_id, false)) {
        /* Idempotence: one queued response per (folder, item, occurrence). */
        for (size_t i = 0; i < ob->cap && slot < 0; i++) {
            if (ob->slots[i].seq == 0 || ob->slots[i].kind != EAS_OUTBOX_MEETING_RESPONSE) {
                continue;
            }
            size_t mark = eas_arena_mark(arena);
            eas_outbox_entry_t old;
            if (eas_outbox_read(ob, i, arena, &old) == EAS_OK &&
                strcmp(old.folder_id, e.folder_id) == 0 &&
                strcmp(old.u.meeting.server_id, e.u.meeting.server_id) == 0 &&
                strcmp(old.u.meeting.instance_id, e.u.meeting.instance_id) == 0) {
                slot = (long)i;
                e.seq = old.seq; /* keeps its id and queue position */
                /* The same decision again must not forget that it may already be on the
                   server (sent without an answer): keep the attempt count [S 1.15]. */
                e.attempts = old.u.meeting.reply == e.u.meeting.reply ? old.attempts : 0;
                /* Nor forget the meeting's identity when the second call does not name it. */
                if (e.u.meeting.uid_hash == 0) {
                    e.u.meeting.uid_hash = old.u.meeting.uid_hash;
                }
            }
            eas_arena_release(arena, mark);
        }
    }
    for (size_t i = 0; i < ob->cap && slot < 0; i++) {
        if (ob->slots[i].seq == 0) {
            slot = (long)i;
        }
    }
    if (e.seq == 0) {
        e.seq = ob->next_seq;
    }
    if (!entry_check(&e)) {
        /* What would not read back as a valid entry is never written. */
        err = EAS_ERR_PARAM;
        goto out;
    }
    if (slot < 0) {
        err = EAS_ERR_OUTBOX_FULL;
        goto out;
    }
    err = outbox_write(ob, (size_t)slot, arena, &e, fields, n);
    if (err == EAS_OK) {
        eas_outbox_slot_t *s = &ob->slots[slot];
        if (s->seq != e.seq) {
            ob->next_seq++;
        }
        s->seq = e.seq;
        s->kind = e.kind;
        s->in_flight = 0;
        s->attempts = e.attempts;
        s->folder = folder_index;
        *id = e.seq;
    }
out:
    return err;
}

int eas_outbox_remove(eas_outbox_t *ob, size_t slot)
{
    char key[EAS_STATE_KEY_CAP];
    int err = EAS_ERR_PARAM;

    if (slot < ob->cap) {
        err = outbox_key(key, sizeof(key), ob->ns->prefix, slot);
    }
    if (err == EAS_OK) {
        err = ob->ns->store->del(ob->ns->store->ctx, key);
    }
    if (err == EAS_OK) {
        memset(&ob->slots[slot], 0, sizeof(ob->slots[slot]));
    }
    return err;
}

/* Rewrite an entry with a new attempt count so give-up survives restarts. */
int eas_outbox_set_attempts(eas_outbox_t *ob, size_t slot, eas_arena_t *arena, uint16_t attempts)
{
    char key[EAS_STATE_KEY_CAP];
    size_t mark = eas_arena_mark(arena);
    size_t cap = CONFIG_EAS_OUTBOX_RECORD_MAX;
    uint8_t *buf = eas_arena_alloc(arena, cap, 4);
    const uint8_t *pl = NULL;
    size_t plen = 0;
    int err = outbox_key(key, sizeof(key), ob->ns->prefix, slot);

    /* Patched in place (the count sits at payload offset 2, little endian) so one record
       buffer is enough: small arenas can still persist the count before a send. Only a
       format 3 record is patched (eas_state_get refuses any other). */
    if (err == EAS_OK && !buf) {
        err = EAS_ERR_NOMEM;
    }
    if (err == EAS_OK) {
        err = eas_state_get(ob->ns, key, EAS_REC_OUTBOX, buf, cap, &pl, &plen);
        if (err == EAS_ERR_NOMEM) {
            err = EAS_ERR_STORE_CORRUPT;
        }
    }
    if (err == EAS_OK && (plen < 4 || pl != buf + EAS_REC_HDR)) {
        err = EAS_ERR_STORE_CORRUPT;
    }
    if (err == EAS_OK) {
        buf[EAS_REC_HDR + 2] = (uint8_t)attempts;
        buf[EAS_REC_HDR + 3] = (uint8_t)(attempts >> 8);
        err = eas_state_put(ob->ns, key, EAS_REC_OUTBOX, buf, plen);
    }
    if (err == EAS_OK) {
        ob->slots[slot].attempts = attempts;
    }
    eas_arena_release(arena, mark);
    return err;
}

#endif /* CONFIG_EAS_OUTBOX */
