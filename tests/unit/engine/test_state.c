/* SPDX-License-Identifier: Apache-2.0 */
/* Persistent engine records and the outbox: round trips, corruption, store failures,
 * meeting-response idempotence [S 1.15], sending rules [S 1.2] [S 1.11]. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "eas/eas.h"
#include "eas/eas_wbxml.h"
#include "eas_state.h"
#include "hal/hal_store.h"
#include "test_hal.h"

/* The records of account @p prefix in the test RAM store. */
#define NS(prefix) (&(const eas_state_ns_t){&test_hal()->store, test_hal_log(), (prefix)})

/* Outbox entries to queue, one meaning per field. */
#define CID "0123456789abcdef"
#define OB_ADD(folder)                                                                             \
    (&(const eas_outbox_entry_t){.kind = EAS_OUTBOX_ADD, .folder_id = (folder), .u.add = {CID}})
#define OB_DEL(folder, sid)                                                                        \
    (&(const eas_outbox_entry_t){                                                                  \
        .kind = EAS_OUTBOX_DELETE, .folder_id = (folder), .u.del = {(sid), ""}})
#define OB_MR(folder, sid, inst, reply)                                                            \
    (&(const eas_outbox_entry_t){.kind = EAS_OUTBOX_MEETING_RESPONSE,                              \
                                 .folder_id = (folder),                                            \
                                 .u.meeting = {(sid), (inst), (reply)}})

static uint8_t arena_mem[16384];
static eas_arena_t arena;

static int setup(void **st)
{
    (void)st;
    test_hal_reset();
    eas_arena_init(&arena, arena_mem, sizeof(arena_mem));
    return 0;
}

static void test_acct_roundtrip(void **st)
{
    (void)st;
    eas_state_acct_t a = {.version = 141};
    strcpy(a.policy_key, "3942919513");
    assert_int_equal(eas_state_acct_save(NS("acct0"), &a, &arena), EAS_OK);
    eas_state_acct_t b;
    assert_int_equal(eas_state_acct_load(NS("acct0"), &b, &arena), EAS_OK);
    assert_int_equal(b.version, 141);
    assert_string_equal(b.policy_key, "3942919513");
    assert_int_equal(eas_state_acct_load(NS("other"), &b, &arena), EAS_ERR_STORE_NOT_FOUND);
    assert_int_equal(arena.used, 0); /* everything taken was given back */
}

static void test_bad_prefix(void **st)
{
    (void)st;
    eas_state_acct_t a = {.version = 141};
    assert_int_equal(eas_state_acct_save(NS("a/b"), &a, &arena), EAS_ERR_STORE_KEY);
    assert_int_equal(eas_state_acct_save(NS(""), &a, &arena), EAS_ERR_STORE_KEY);
    assert_int_equal(eas_state_acct_save(NS("abcdefghijklmnopq"), &a, &arena), EAS_ERR_STORE_KEY);
}

/* Flip every byte of a stored record in turn: each damage is detected, never trusted. */
static void test_acct_corruption_detected(void **st)
{
    (void)st;
    eas_state_acct_t a = {.version = 160};
    strcpy(a.policy_key, "1234");
    assert_int_equal(eas_state_acct_save(NS("acct0"), &a, &arena), EAS_OK);
    uint8_t rec[256];
    size_t len = 0;
    assert_int_equal(test_hal_store_get("acct0.acct", rec, sizeof(rec), &len), EAS_OK);
    for (size_t i = 0; i < len; i++) {
        uint8_t bad[256];
        memcpy(bad, rec, len);
        bad[i] ^= 0x5A;
        assert_int_equal(test_hal_store_put("acct0.acct", bad, len), EAS_OK);
        eas_state_acct_t b;
        assert_int_equal(eas_state_acct_load(NS("acct0"), &b, &arena), EAS_ERR_STORE_CORRUPT);
        assert_string_equal(b.policy_key, "");
    }
    /* Truncated at every length. */
    for (size_t n = 0; n < len; n++) {
        assert_int_equal(test_hal_store_put("acct0.acct", rec, n), EAS_OK);
        eas_state_acct_t b;
        assert_int_equal(eas_state_acct_load(NS("acct0"), &b, &arena), EAS_ERR_STORE_CORRUPT);
    }
}

static void add_folder(eas_folder_t *f, const char *id, const char *parent, uint8_t type)
{
    memset(f, 0, sizeof(*f));
    strcpy(f->server_id, id);
    strcpy(f->parent_id, parent);
    strcpy(f->sync_key, "0");
    f->type = type;
    f->used = 1;
}

static void test_folders_and_skeys(void **st)
{
    (void)st;
    eas_folder_t f[8];
    memset(f, 0, sizeof(f));
    add_folder(&f[0], "vevent%2Fpersonal", "0", 8);
    add_folder(&f[2], "mail%2FINBOX", "0", 2);
    f[2].flags = EAS_FOLDER_F_NO_PING | EAS_FOLDER_F_SELECTED;
    assert_int_equal(eas_state_folders_save(NS("a"), "vm_3902_30bc0797_0", f, 8, &arena), EAS_OK);
    strcpy(f[0].sync_key, "1795937797");
    f[0].flags |= EAS_FOLDER_F_SYNCED;
    assert_int_equal(eas_state_skey_save(NS("a"), 0, &f[0]), EAS_OK);

    eas_folder_t g[8];
    char hk[EAS_ID_CAP];
    assert_int_equal(eas_state_folders_load(NS("a"), hk, g, 8, &arena), EAS_OK);
    assert_string_equal(hk, "vm_3902_30bc0797_0");
    assert_true(g[0].used && g[2].used && !g[1].used);
    assert_string_equal(g[2].server_id, "mail%2FINBOX");
    assert_int_equal(g[2].flags, EAS_FOLDER_F_NO_PING); /* runtime flags are not persisted */
    assert_int_equal(eas_state_skey_load(NS("a"), 0, &g[0]), EAS_OK);
    assert_string_equal(g[0].sync_key, "1795937797");
    assert_true(g[0].flags & EAS_FOLDER_F_SYNCED);
    assert_int_equal(eas_state_skey_load(NS("a"), 2, &g[2]), EAS_ERR_STORE_NOT_FOUND);
    assert_string_equal(g[2].sync_key, "0");

    /* Index 0 reused by another folder: the old key must not be inherited. */
    add_folder(&g[0], "vtodo%2Fpersonal", "0", 7);
    assert_int_equal(eas_state_skey_load(NS("a"), 0, &g[0]), EAS_ERR_STORE_NOT_FOUND);
    assert_string_equal(g[0].sync_key, "0");

    /* More folders stored than this build holds: corrupt, not an overflow. */
    assert_int_equal(eas_state_folders_load(NS("a"), hk, g, 1, &arena), EAS_ERR_STORE_CORRUPT);
    assert_false(g[0].used);
}

/* A failing store leaves the previous record intact. */
static void test_store_failure_keeps_old(void **st)
{
    (void)st;
    eas_folder_t f;
    add_folder(&f, "c1", "0", 8);
    strcpy(f.sync_key, "k1");
    assert_int_equal(eas_state_skey_save(NS("a"), 0, &f), EAS_OK);
    strcpy(f.sync_key, "k2");
    test_hal_store_fail_after(1);
    assert_int_equal(eas_state_skey_save(NS("a"), 0, &f), EAS_ERR_STORE);
    eas_folder_t g;
    add_folder(&g, "c1", "0", 8);
    assert_int_equal(eas_state_skey_load(NS("a"), 0, &g), EAS_OK);
    assert_string_equal(g.sync_key, "k1");
}

static const uint8_t tzblob[4] = {0xC4, 0xFF, 0x00, 0x00};

#if CONFIG_EAS_OUTBOX
static void test_outbox_put_read_remove(void **st)
{
    (void)st;
    eas_outbox_slot_t slots[4];
    eas_outbox_t ob;
    assert_int_equal(eas_outbox_load(&ob, slots, 4, NS("a"), &arena, NULL, NULL, NULL), EAS_OK);
    assert_int_equal(eas_outbox_count(&ob), 0);
    eas_field_t fields[] = {
        {EAS_CALENDAR_SUBJECT, EAS_FIELD_TEXT, "Standup", 7},
        {EAS_CALENDAR_TIMEZONE, EAS_FIELD_OPAQUE, tzblob, sizeof(tzblob)},
    };
    uint32_t id1 = 0, id2 = 0;
    assert_int_equal(eas_outbox_put(&ob, &arena, OB_ADD("cal"), 0, fields, 2, &id1), EAS_OK);
    assert_int_equal(eas_outbox_put(&ob, &arena, OB_DEL("cal", "s1"), 0, NULL, 0, &id2), EAS_OK);
    assert_true(id2 > id1);
    assert_int_equal(arena.used, 0);

    /* A restart sees the same queue in the same order. */
    eas_outbox_slot_t slots2[4];
    eas_outbox_t ob2;
    assert_int_equal(eas_outbox_load(&ob2, slots2, 4, NS("a"), &arena, NULL, NULL, NULL), EAS_OK);
    assert_int_equal(eas_outbox_count(&ob2), 2);
    int s = eas_outbox_find(&ob2, id1);
    assert_true(s >= 0);
    eas_outbox_entry_t e;
    assert_int_equal(eas_outbox_read(&ob2, (size_t)s, &arena, &e), EAS_OK);
    assert_int_equal(e.kind, EAS_OUTBOX_ADD);
    assert_string_equal(e.folder_id, "cal");
    size_t pos = 0;
    eas_field_t f;
    assert_int_equal(eas_outbox_field_next(e.u.add.fields, e.u.add.fields_len, &pos, &f), 1);
    assert_int_equal(f.tag, EAS_CALENDAR_SUBJECT);
    assert_memory_equal(f.data, "Standup", 7);
    assert_int_equal(eas_outbox_field_next(e.u.add.fields, e.u.add.fields_len, &pos, &f), 1);
    assert_int_equal(f.kind, EAS_FIELD_OPAQUE);
    assert_int_equal(f.len, sizeof(tzblob)); /* [S 1.11] TimeZone stays byte-identical */
    assert_memory_equal(f.data, tzblob, sizeof(tzblob));
    assert_int_equal(eas_outbox_field_next(e.u.add.fields, e.u.add.fields_len, &pos, &f), 0);
    eas_arena_reset(&arena);

    uint32_t id3 = 0;
    assert_int_equal(eas_outbox_put(&ob2, &arena, OB_DEL("cal", "s2"), 0, NULL, 0, &id3), EAS_OK);
    assert_true(id3 > id2); /* ids keep growing across restarts */
    assert_int_equal(eas_outbox_remove(&ob2, (size_t)s), EAS_OK);
    assert_int_equal(eas_outbox_count(&ob2), 2);
    assert_int_equal(eas_outbox_find(&ob2, id1), -1);
}

static void test_outbox_full_and_store_fail(void **st)
{
    (void)st;
    eas_outbox_slot_t slots[2];
    eas_outbox_t ob;
    uint32_t id;
    assert_int_equal(eas_outbox_load(&ob, slots, 2, NS("a"), &arena, NULL, NULL, NULL), EAS_OK);
    /* The store refuses: nothing is queued, the caller learns it. */
    test_hal_store_fail_after(1);
    assert_int_equal(eas_outbox_put(&ob, &arena, OB_DEL("c", "x"), 0, NULL, 0, &id), EAS_ERR_STORE);
    assert_int_equal(eas_outbox_count(&ob), 0);
    assert_int_equal(eas_outbox_put(&ob, &arena, OB_DEL("c", "x"), 0, NULL, 0, &id), EAS_OK);
    assert_int_equal(eas_outbox_put(&ob, &arena, OB_DEL("c", "y"), 0, NULL, 0, &id), EAS_OK);
    assert_int_equal(eas_outbox_put(&ob, &arena, OB_DEL("c", "z"), 0, NULL, 0, &id),
                     EAS_ERR_OUTBOX_FULL);
    /* Too large for one record. */
    static char big[CONFIG_EAS_OUTBOX_RECORD_MAX];
    memset(big, 'x', sizeof(big));
    eas_field_t fb = {EAS_CALENDAR_LOCATION, EAS_FIELD_TEXT, big, sizeof(big)};
    assert_int_equal(eas_outbox_remove(&ob, 0), EAS_OK);
    assert_int_equal(eas_outbox_put(&ob, &arena, OB_ADD("c"), 0, &fb, 1, &id), EAS_ERR_LIMIT);
}

/* [S 1.15] Responding twice to the same meeting keeps one queued response. */
static void test_meeting_response_idempotent(void **st)
{
    (void)st;
    eas_outbox_slot_t slots[4];
    eas_outbox_t ob;
    uint32_t a = 0, b = 0, c = 0;
    assert_int_equal(eas_outbox_load(&ob, slots, 4, NS("a"), &arena, NULL, NULL, NULL), EAS_OK);
    assert_int_equal(eas_outbox_put(&ob, &arena, OB_MR("inbox", "m1", "", 1), 0, NULL, 0, &a),
                     EAS_OK);
    assert_int_equal(eas_outbox_put(&ob, &arena, OB_MR("inbox", "m1", "", 3), 0, NULL, 0, &b),
                     EAS_OK);
    assert_int_equal(a, b);
    assert_int_equal(eas_outbox_count(&ob), 1);
    /* Another occurrence of the same series is another response. */
    assert_int_equal(eas_outbox_put(&ob, &arena,
                                    OB_MR("inbox", "m1", "2024-05-01T09:00:00.000Z", 1), 0, NULL, 0,
                                    &c),
                     EAS_OK);
    assert_int_not_equal(c, a);
    /* After a restart the replacement holds: one entry with the last decision. */
    eas_outbox_slot_t slots2[4];
    eas_outbox_t ob2;
    assert_int_equal(eas_outbox_load(&ob2, slots2, 4, NS("a"), &arena, NULL, NULL, NULL), EAS_OK);
    assert_int_equal(eas_outbox_count(&ob2), 2);
    eas_outbox_entry_t e;
    assert_int_equal(eas_outbox_read(&ob2, (size_t)eas_outbox_find(&ob2, a), &arena, &e), EAS_OK);
    assert_int_equal(e.u.meeting.reply, 3);
    uint32_t d = 0;
    assert_int_equal(eas_outbox_put(&ob2, &arena, OB_MR("inbox", "m1", "", 2), 0, NULL, 0, &d),
                     EAS_OK);
    assert_int_equal(d, a);
    assert_int_equal(eas_outbox_count(&ob2), 2);
}

static void test_outbox_corrupt_entry_dropped(void **st)
{
    (void)st;
    eas_outbox_slot_t slots[4];
    eas_outbox_t ob;
    uint32_t id;
    assert_int_equal(eas_outbox_load(&ob, slots, 4, NS("a"), &arena, NULL, NULL, NULL), EAS_OK);
    assert_int_equal(eas_outbox_put(&ob, &arena, OB_DEL("c", "x"), 0, NULL, 0, &id), EAS_OK);
    assert_int_equal(test_hal_store_put("a.o0", (const uint8_t *)"garbage", 7), EAS_OK);
    size_t bad = 0;
    assert_int_equal(eas_outbox_load(&ob, slots, 4, NS("a"), &arena, &bad, NULL, NULL), EAS_OK);
    assert_int_equal(bad, 1);
    assert_int_equal(eas_outbox_count(&ob), 0);
}

/* ---- outbox format 1 (every meaning in three strings) -> format 3 (typed) ---- */

/* A format-1 record as an older build wrote it: kind, reply, attempts, seq, folder_id,
   server_id, instance_id, then the field list; framed with format version @p version. */
static size_t v1_payload(uint8_t *p, uint8_t kind, uint8_t reply, uint16_t attempts, uint32_t seq,
                         const char *folder, const char *sid, const char *inst,
                         const uint8_t *fields, size_t fields_len)
{
    size_t n = 0;
    p[n++] = kind;
    p[n++] = reply;
    p[n++] = (uint8_t)attempts;
    p[n++] = (uint8_t)(attempts >> 8);
    for (int i = 0; i < 4; i++) {
        p[n++] = (uint8_t)(seq >> (8 * i));
    }
    const char *s[3] = {folder, sid, inst};
    for (int i = 0; i < 3; i++) {
        p[n++] = (uint8_t)strlen(s[i]);
        memcpy(p + n, s[i], strlen(s[i]));
        n += strlen(s[i]);
    }
    if (fields_len > 0) {
        memcpy(p + n, fields, fields_len);
    }
    return n + fields_len;
}

static void put_framed(const char *key, uint8_t version, const uint8_t *pl, size_t len)
{
    uint8_t rec[512];
    uint32_t crc = eas_crc32(0, pl, len);
    rec[0] = 'E';
    rec[1] = 'A';
    rec[2] = EAS_REC_OUTBOX;
    rec[3] = version;
    for (int i = 0; i < 4; i++) {
        rec[4 + i] = (uint8_t)(len >> (8 * i));
        rec[8 + i] = (uint8_t)(crc >> (8 * i));
    }
    memcpy(rec + EAS_REC_HDR, pl, len);
    assert_int_equal(test_hal_store_put(key, rec, EAS_REC_HDR + len), EAS_OK);
}

static void put_v1(const char *key, uint8_t kind, uint8_t reply, uint16_t attempts, uint32_t seq,
                   const char *folder, const char *sid, const char *inst, const uint8_t *fields,
                   size_t fields_len)
{
    uint8_t pl[400];
    size_t n = v1_payload(pl, kind, reply, attempts, seq, folder, sid, inst, fields, fields_len);
    put_framed(key, 1, pl, n);
}

static uint8_t stored_version(const char *key)
{
    uint8_t rec[512];
    size_t len = 0;
    assert_int_equal(test_hal_store_get(key, rec, sizeof(rec), &len), EAS_OK);
    return rec[3];
}

/* Every kind of a format-1 outbox is migrated at load: each meaning lands in its own field
   (ClientId, occurrence, destination, mail parameters), attempts and order are kept, and the
   records are rewritten as format 3. */
static void test_outbox_v1_migrated(void **st)
{
    (void)st;
    static const uint8_t fl[] = {0x26, 0x04, EAS_FIELD_TEXT, 3, 0, 'S', 'u', 'b'};
    put_v1("a.o0", EAS_OUTBOX_ADD, 0, 1, 5, "cal", "", CID, fl, sizeof(fl));
    put_v1("a.o1", EAS_OUTBOX_MEETING_RESPONSE, EAS_MEETING_DECLINE, 2, 6, "inbox", "m1",
           "2024-05-01T09:00:00.000Z", NULL, 0);
    put_v1("a.o2", EAS_OUTBOX_MOVE, 0, 0, 7, "inbox", "i9", "archive", NULL, 0);
    put_v1("a.o3", EAS_OUTBOX_SEND, EAS_MAIL_REPLY, 3, 8, "inbox", "orig1",
           "3 42 1234 fedcba9876543210", NULL, 0);
    put_v1("a.o4", EAS_OUTBOX_DELETE, 0, 0, 9, "cal", "s4", "", NULL, 0);
    put_v1("a.o5", EAS_OUTBOX_ADD, 0, 0, 10, "cal", "", "", NULL, 0); /* before random ids */
    put_v1("a.o6", EAS_OUTBOX_CHANGE, 0, 0, 11, "cal", "s6", "20240501T090000Z", fl, sizeof(fl));

    eas_outbox_slot_t slots[8];
    eas_outbox_t ob;
    size_t bad = 99;
    assert_int_equal(eas_outbox_load(&ob, slots, 8, NS("a"), &arena, &bad, NULL, NULL), EAS_OK);
    assert_int_equal(bad, 0);
    assert_int_equal(eas_outbox_count(&ob), 7);
    for (int i = 0; i < 7; i++) {
        char key[8] = "a.o0";
        key[3] = (char)('0' + i);
        assert_int_equal(stored_version(key), EAS_REC_OUTBOX_VERSION);
    }
    eas_outbox_entry_t e;
    assert_int_equal(eas_outbox_read(&ob, 0, &arena, &e), EAS_OK);
    assert_int_equal(e.kind, EAS_OUTBOX_ADD);
    assert_int_equal(e.seq, 5);
    assert_int_equal(e.attempts, 1);
    assert_string_equal(e.u.add.client_id, CID);
    assert_int_equal(e.u.add.fields_len, sizeof(fl));
    assert_memory_equal(e.u.add.fields, fl, sizeof(fl));
    assert_int_equal(eas_outbox_read(&ob, 1, &arena, &e), EAS_OK);
    assert_string_equal(e.u.meeting.server_id, "m1");
    assert_string_equal(e.u.meeting.instance_id, "2024-05-01T09:00:00.000Z");
    assert_int_equal(e.u.meeting.reply, EAS_MEETING_DECLINE);
    assert_int_equal(e.attempts, 2);
    assert_int_equal(eas_outbox_read(&ob, 2, &arena, &e), EAS_OK);
    assert_string_equal(e.u.move.server_id, "i9");
    assert_string_equal(e.u.move.dst_folder_id, "archive");
    assert_int_equal(eas_outbox_read(&ob, 3, &arena, &e), EAS_OK);
    assert_int_equal(e.u.mail.cmd, EAS_MAIL_REPLY);
    assert_int_equal(e.u.mail.flags, EAS_OB_MAIL_SAVE_IN_SENT | EAS_OB_MAIL_REPLACE_MIME);
    assert_int_equal(e.u.mail.mime_id, 42);
    assert_int_equal(e.u.mail.mime_len, 1234);
    assert_string_equal(e.u.mail.client_id, "fedcba9876543210");
    assert_string_equal(e.u.mail.src_item, "orig1");
    assert_string_equal(e.folder_id, "inbox");
    assert_int_equal(e.attempts, 3);
    assert_int_equal(eas_outbox_read(&ob, 4, &arena, &e), EAS_OK);
    assert_string_equal(e.u.del.server_id, "s4");
    assert_int_equal(eas_outbox_read(&ob, 5, &arena, &e), EAS_OK);
    assert_string_equal(e.u.add.client_id, "");
    eas_arena_reset(&arena); /* each read takes a record buffer from the arena */
    assert_int_equal(eas_outbox_read(&ob, 6, &arena, &e), EAS_OK);
    assert_string_equal(e.u.change.server_id, "s6");
    assert_string_equal(e.u.change.instance_id, "20240501T090000Z"); /* one occurrence */
    assert_int_equal(e.u.change.fields_len, sizeof(fl));
    /* The next id continues after the migrated ones. */
    uint32_t id = 0;
    assert_int_equal(eas_outbox_put(&ob, &arena, OB_DEL("cal", "s5"), 0, NULL, 0, &id), EAS_OK);
    assert_int_equal(id, 12);
}

/* A format-2 payload (typed, without the meeting's identity): kind, 0, attempts, seq,
   folder_id, then the kind's strings and, for a MeetingResponse, the reply; @p extra more
   bytes at the end. */
static size_t v2_payload(uint8_t *p, uint8_t kind, uint16_t attempts, uint32_t seq,
                         const char *folder, const char *s1, const char *s2, int reply,
                         size_t extra)
{
    size_t n = 0;
    p[n++] = kind;
    p[n++] = 0;
    p[n++] = (uint8_t)attempts;
    p[n++] = (uint8_t)(attempts >> 8);
    for (int i = 0; i < 4; i++) {
        p[n++] = (uint8_t)(seq >> (8 * i));
    }
    const char *s[3] = {folder, s1, s2};
    for (int i = 0; i < 3; i++) {
        p[n++] = (uint8_t)strlen(s[i]);
        memcpy(p + n, s[i], strlen(s[i]));
        n += strlen(s[i]);
    }
    if (reply >= 0) {
        p[n++] = (uint8_t)reply;
    }
    memset(p + n, 0x5A, extra);
    return n + extra;
}

/* Format 2 -> 3: a MeetingResponse written before the meeting's identity was kept is read
   with identity 0 ("unknown": only a deleted invitation proves it applied), keeps its
   attempts (it may be on the server) and order; every record is rewritten as format 3, and
   a format-3 MeetingResponse keeps its identity. A format-2 MeetingResponse with bytes after
   the reply is dropped, not read as an identity. */
static void test_outbox_v2_migrated(void **st)
{
    (void)st;
    uint8_t pl[128];
    size_t n = v2_payload(pl, EAS_OUTBOX_MEETING_RESPONSE, 1, 4, "inbox", "m1", "",
                          EAS_MEETING_ACCEPT, 0);
    put_framed("a.o0", 2, pl, n);
    n = v2_payload(pl, EAS_OUTBOX_MOVE, 0, 5, "inbox", "i9", "archive", -1, 0);
    put_framed("a.o1", 2, pl, n);
    n = v2_payload(pl, EAS_OUTBOX_MEETING_RESPONSE, 0, 6, "inbox", "m2", "", EAS_MEETING_DECLINE,
                   8);
    put_framed("a.o2", 2, pl, n);

    eas_outbox_slot_t slots[8];
    eas_outbox_t ob;
    eas_outbox_entry_t e;
    size_t bad = 99;
    assert_int_equal(eas_outbox_load(&ob, slots, 8, NS("a"), &arena, &bad, NULL, NULL), EAS_OK);
    assert_int_equal(bad, 1);
    assert_int_equal(eas_outbox_count(&ob), 2);
    assert_int_equal(stored_version("a.o0"), EAS_REC_OUTBOX_VERSION);
    assert_int_equal(stored_version("a.o1"), EAS_REC_OUTBOX_VERSION);
    assert_int_equal(eas_outbox_read(&ob, 0, &arena, &e), EAS_OK);
    assert_int_equal(e.kind, EAS_OUTBOX_MEETING_RESPONSE);
    assert_int_equal(e.seq, 4);
    assert_int_equal(e.attempts, 1);
    assert_string_equal(e.u.meeting.server_id, "m1");
    assert_int_equal(e.u.meeting.reply, EAS_MEETING_ACCEPT);
    assert_true(e.u.meeting.uid_hash == 0);
    assert_int_equal(eas_outbox_read(&ob, 1, &arena, &e), EAS_OK);
    assert_string_equal(e.u.move.dst_folder_id, "archive");
    eas_arena_reset(&arena);

    /* Format 3 keeps the identity; the same decision queued again without one keeps it. */
    eas_outbox_entry_t mr = {.kind = EAS_OUTBOX_MEETING_RESPONSE, .folder_id = "inbox"};
    mr.u.meeting = (eas_ob_meeting_t){"m3", "", EAS_MEETING_TENTATIVE, UINT64_C(0x8877665544332211)};
    uint32_t id = 0;
    assert_int_equal(eas_outbox_put(&ob, &arena, &mr, 0, NULL, 0, &id), EAS_OK);
    assert_int_equal(id, 6);
    int slot = eas_outbox_find(&ob, id);
    assert_true(slot >= 0);
    mr.u.meeting.uid_hash = 0;
    assert_int_equal(eas_outbox_put(&ob, &arena, &mr, 0, NULL, 0, &id), EAS_OK);
    assert_int_equal(id, 6);
    assert_int_equal(eas_outbox_load(&ob, slots, 8, NS("a"), &arena, &bad, NULL, NULL), EAS_OK);
    assert_int_equal(bad, 0);
    assert_int_equal(eas_outbox_read(&ob, (size_t)slot, &arena, &e), EAS_OK);
    assert_string_equal(e.u.meeting.server_id, "m3");
    assert_true(e.u.meeting.uid_hash == UINT64_C(0x8877665544332211));
}

/* An old record is never misread: read as format 3 without the migration it is refused; a
   format-1 record that does not parse strictly (mail parameters, unknown kind, trailing
   fields on a Delete) and a record of an unknown format are dropped and counted, the store
   record removed, the good entries beside them untouched. */
static void test_outbox_old_or_bad_rejected(void **st)
{
    (void)st;
    eas_outbox_slot_t slots[8];
    eas_outbox_t ob;
    eas_outbox_entry_t e;
    static const uint8_t fl[] = {0x26, 0x04, EAS_FIELD_TEXT, 1, 0, 'x'};

    put_v1("a.o0", EAS_OUTBOX_MOVE, 0, 0, 3, "inbox", "i1", "archive", NULL, 0);
    ob.slots = slots;
    ob.cap = 8;
    ob.ns = NS("a");
    assert_int_equal(eas_outbox_read(&ob, 0, &arena, &e), EAS_ERR_STORE_CORRUPT);
    eas_arena_reset(&arena);

    put_v1("a.o1", EAS_OUTBOX_SEND, EAS_MAIL_SEND, 0, 4, "0", "", "1 2 x fedcba9876543210", NULL,
           0); /* not a number */
    put_v1("a.o2", EAS_OUTBOX_SEND, EAS_MAIL_SEND, 0, 5, "0", "", "1 2 10 XYZ", NULL, 0);
    put_v1("a.o3", EAS_OUTBOX_SEND, EAS_MAIL_FORWARD, 0, 6, "inbox", "", /* no original */
           "0 2 10 fedcba9876543210", NULL, 0);
    put_v1("a.o4", 9, 0, 0, 7, "cal", "s", "", NULL, 0);                        /* unknown kind */
    put_v1("a.o5", EAS_OUTBOX_DELETE, 0, 0, 8, "cal", "s", "", fl, sizeof(fl)); /* fields */
    put_v1("a.o6", EAS_OUTBOX_MOVE, 0, 0, 9, "inbox", "i2", "", NULL, 0);       /* no destination */
    uint8_t pl[64];
    size_t n = v1_payload(pl, EAS_OUTBOX_DELETE, 0, 0, 10, "cal", "s", "", NULL, 0);
    put_framed("a.o7", EAS_REC_OUTBOX_VERSION + 1, pl, n); /* a format this build does not know */
    size_t records = test_hal_store_count();

    size_t bad = 0;
    assert_int_equal(eas_outbox_load(&ob, slots, 8, NS("a"), &arena, &bad, NULL, NULL), EAS_OK);
    assert_int_equal(bad, 7);
    assert_int_equal(eas_outbox_count(&ob), 1);
    assert_int_equal(test_hal_store_count(), records - 7);
    assert_int_equal(eas_outbox_read(&ob, 0, &arena, &e), EAS_OK);
    assert_string_equal(e.u.move.dst_folder_id, "archive");
}

/* What would not read back as a valid entry is never written. */
static void test_outbox_put_checks(void **st)
{
    (void)st;
    eas_outbox_slot_t slots[4];
    eas_outbox_t ob;
    uint32_t id = 0;
    assert_int_equal(eas_outbox_load(&ob, slots, 4, NS("a"), &arena, NULL, NULL, NULL), EAS_OK);
    eas_outbox_entry_t e = {.kind = EAS_OUTBOX_MOVE, .folder_id = "inbox"};
    e.u.move.server_id = "i1";
    e.u.move.dst_folder_id = "";
    assert_int_equal(eas_outbox_put(&ob, &arena, &e, 0, NULL, 0, &id), EAS_ERR_PARAM);
    e = (eas_outbox_entry_t){.kind = EAS_OUTBOX_SEND, .folder_id = "0"};
    e.u.mail = (eas_ob_mail_t){EAS_MAIL_SEND, 0, 1, 10, "not-hex-at-all!!", ""};
    assert_int_equal(eas_outbox_put(&ob, &arena, &e, 0, NULL, 0, &id), EAS_ERR_PARAM);
    e.u.mail.client_id = CID;
    e.u.mail.mime_len = (uint64_t)CONFIG_EAS_MAIL_MAX_BYTES + 1u;
    assert_int_equal(eas_outbox_put(&ob, &arena, &e, 0, NULL, 0, &id), EAS_ERR_PARAM);
    e.u.mail.mime_len = 10;
    e.u.mail.cmd = EAS_MAIL_REPLY; /* a reply needs its original */
    assert_int_equal(eas_outbox_put(&ob, &arena, &e, 0, NULL, 0, &id), EAS_ERR_PARAM);
    assert_int_equal(eas_outbox_put(&ob, &arena, OB_MR("inbox", "m", "", 7), 0, NULL, 0, &id),
                     EAS_ERR_PARAM);
    assert_int_equal(test_hal_store_count(), 0);
    e.u.mail.cmd = EAS_MAIL_SEND;
    assert_int_equal(eas_outbox_put(&ob, &arena, &e, 0, NULL, 0, &id), EAS_OK);
    assert_int_equal(test_hal_store_count(), 1);
}

#else /* !CONFIG_EAS_OUTBOX */

/* A read-only build: the outbox loads empty (records of an earlier build are left alone)
 * and refuses entries. */
static void test_outbox_compiled_out(void **st)
{
    (void)st;
    assert_int_equal(test_hal_store_put("a.o1", (const uint8_t *)"rec", 3), EAS_OK);
    eas_outbox_slot_t slots[4];
    memset(slots, 0xA5, sizeof(slots));
    eas_outbox_t ob;
    size_t bad = 9;
    assert_int_equal(eas_outbox_load(&ob, slots, 4, NS("a"), &arena, &bad, NULL, NULL), EAS_OK);
    assert_int_equal(bad, 0);
    assert_int_equal(ob.cap, 0);
    assert_int_equal(eas_outbox_count(&ob), 0);
    assert_int_equal(eas_outbox_find(&ob, 1), -1);
    eas_outbox_entry_t e = {.kind = EAS_OUTBOX_DELETE, .folder_id = "c1"};
    e.u.del.server_id = "s1";
    e.u.del.instance_id = "";
    uint32_t id = 0;
    assert_int_equal(eas_outbox_put(&ob, &arena, &e, 0, NULL, 0, &id), EAS_ERR_UNSUPPORTED);
    assert_int_equal(test_hal_store_count(), 1);
}

#endif /* CONFIG_EAS_OUTBOX */

/* [S 1.2] An attendee's change carries only attendee-owned properties;
 * [S 1.11] a body not received complete is never sent back. */
static void test_filter_rules(void **st)
{
    (void)st;
    eas_field_t in[] = {
        {EAS_CALENDAR_SUBJECT, EAS_FIELD_TEXT, "x", 1},
        {EAS_CALENDAR_ORGANIZER_EMAIL, EAS_FIELD_TEXT, "boss@example.test", 17},
        {EAS_CALENDAR_ATTENDEES, EAS_FIELD_START, NULL, 0},
        {EAS_CALENDAR_ATTENDEE, EAS_FIELD_START, NULL, 0},
        {EAS_CALENDAR_ATTENDEE_EMAIL, EAS_FIELD_TEXT, "me@example.test", 15},
        {EAS_CALENDAR_ATTENDEE, EAS_FIELD_END, NULL, 0},
        {EAS_CALENDAR_ATTENDEES, EAS_FIELD_END, NULL, 0},
        {EAS_CALENDAR_MEETING_STATUS, EAS_FIELD_TEXT, "3", 1},
        {EAS_CALENDAR_REMINDER, EAS_FIELD_TEXT, "15", 2},
        {EAS_CALENDAR_BUSY_STATUS, EAS_FIELD_TEXT, "1", 1},
        {EAS_AIRSYNCBASE_BODY, EAS_FIELD_START, NULL, 0},
        {EAS_AIRSYNCBASE_TYPE, EAS_FIELD_TEXT, "1", 1},
        {EAS_AIRSYNCBASE_DATA, EAS_FIELD_TEXT, "trunc", 5},
        {EAS_AIRSYNCBASE_BODY, EAS_FIELD_END, NULL, 0},
        {EAS_CALENDAR_TIMEZONE, EAS_FIELD_OPAQUE, tzblob, 4},
    };
    size_t n = sizeof(in) / sizeof(in[0]);
    eas_field_t out[32];
    size_t k = 0;

    assert_int_equal(eas_outbox_filter(in, n, EAS_CHANGE_F_ATTENDEE, out, &k), EAS_OK);
    assert_int_equal(k, 2);
    assert_int_equal(out[0].tag, EAS_CALENDAR_REMINDER);
    assert_int_equal(out[1].tag, EAS_CALENDAR_BUSY_STATUS);

    /* Organizer, body not complete: everything but the Body container. */
    assert_int_equal(eas_outbox_filter(in, n, 0, out, &k), EAS_OK);
    assert_int_equal(k, n - 4);
    for (size_t i = 0; i < k; i++) {
        assert_int_not_equal(EAS_TAG_PAGE(out[i].tag), EAS_PAGE_AIRSYNCBASE);
    }
    assert_int_equal(out[k - 1].tag, EAS_CALENDAR_TIMEZONE);
    assert_ptr_equal(out[k - 1].data, tzblob);

    /* Organizer with a complete body: unchanged. */
    assert_int_equal(eas_outbox_filter(in, n, EAS_CHANGE_F_BODY_COMPLETE, out, &k), EAS_OK);
    assert_int_equal(k, n);

    /* Unbalanced containers are refused. */
    assert_int_equal(eas_outbox_filter(in, 3, 0, out, &k), EAS_ERR_PARAM);
    assert_int_equal(eas_outbox_filter(in + 5, 1, 0, out, &k), EAS_ERR_PARAM);
}

/* The URL learned from HTTP 451: round trip, "" removes it, damage is detected, and it
 * belongs to the configured URL it was learned under (issue 11: a changed --url drops it). */
static void test_url_record(void **st)
{
    (void)st;
    const char *conf = "https://a.example/Microsoft-Server-ActiveSync";
    char url[CONFIG_EAS_URL_MAX + 1];
    assert_int_equal(eas_state_url_load(NS("acct0"), conf, url, sizeof(url), &arena),
                     EAS_ERR_STORE_NOT_FOUND);
    assert_int_equal(eas_state_url_save(NS("acct0"), conf,
                                        "https://b.example/Microsoft-Server-ActiveSync", &arena),
                     EAS_OK);
    assert_int_equal(eas_state_url_load(NS("acct0"), conf, url, sizeof(url), &arena), EAS_OK);
    assert_string_equal(url, "https://b.example/Microsoft-Server-ActiveSync");
    /* the same configured URL spelt differently still matches */
    assert_int_equal(eas_state_url_load(NS("acct0"),
                                        "https://A.EXAMPLE:443/Microsoft-Server-ActiveSync", url,
                                        sizeof(url), &arena),
                     EAS_OK);
    /* another configured URL: not this record's */
    assert_int_equal(eas_state_url_load(NS("acct0"),
                                        "https://c.example/Microsoft-Server-ActiveSync", url,
                                        sizeof(url), &arena),
                     EAS_ERR_NOT_FOUND);
    assert_string_equal(url, "");
    static uint8_t rec[2 * CONFIG_EAS_URL_MAX + 64];
    size_t len = sizeof(rec);
    assert_int_equal(test_hal_store_get("acct0.url", rec, sizeof(rec), &len), EAS_OK);
    for (size_t i = 0; i < len; i++) {
        static uint8_t bad[sizeof(rec)];
        memcpy(bad, rec, len);
        bad[i] ^= 0x20;
        assert_int_equal(test_hal_store_put("acct0.url", bad, len), EAS_OK);
        assert_int_equal(eas_state_url_load(NS("acct0"), conf, url, sizeof(url), &arena),
                         EAS_ERR_STORE_CORRUPT);
        assert_string_equal(url, "");
    }
    /* Well framed but unparsable payloads: the old one-URL format, empty parts, no URL. */
#define PL(x)                                                                                      \
    {                                                                                              \
        x, sizeof(x) - 1                                                                           \
    }
    static const struct {
        const char *p;
        size_t n;
    } payloads[] = {PL("https://b.example/x"), PL("\0https://b.example/x"),
                    PL("https://a.example/x\0"), PL("https://a.example/x\0nourl"),
                    PL("https://a.example/x\0https://b/x\0https://c/x")};
#undef PL
    for (size_t i = 0; i < 5; i++) {
        static uint8_t buf[EAS_REC_HDR + 64];
        memcpy(buf + EAS_REC_HDR, payloads[i].p, payloads[i].n);
        assert_int_equal(eas_state_put(NS("acct0"), "acct0.url", EAS_REC_URL, buf, payloads[i].n),
                         EAS_OK);
        assert_int_equal(
            eas_state_url_load(NS("acct0"), "https://a.example/x", url, sizeof(url), &arena),
            EAS_ERR_STORE_CORRUPT);
    }
    assert_int_equal(test_hal_store_put("acct0.url", rec, len), EAS_OK);
    assert_int_equal(eas_state_url_save(NS("acct0"), conf, "", &arena), EAS_OK);
    assert_int_equal(eas_state_url_load(NS("acct0"), conf, url, sizeof(url), &arena),
                     EAS_ERR_STORE_NOT_FOUND);
    assert_int_equal(arena.used, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_acct_roundtrip, setup),
        cmocka_unit_test_setup(test_bad_prefix, setup),
        cmocka_unit_test_setup(test_acct_corruption_detected, setup),
        cmocka_unit_test_setup(test_folders_and_skeys, setup),
        cmocka_unit_test_setup(test_store_failure_keeps_old, setup),
#if CONFIG_EAS_OUTBOX
        cmocka_unit_test_setup(test_outbox_put_read_remove, setup),
        cmocka_unit_test_setup(test_outbox_full_and_store_fail, setup),
        cmocka_unit_test_setup(test_meeting_response_idempotent, setup),
        cmocka_unit_test_setup(test_outbox_corrupt_entry_dropped, setup),
        cmocka_unit_test_setup(test_outbox_v1_migrated, setup),
        cmocka_unit_test_setup(test_outbox_v2_migrated, setup),
        cmocka_unit_test_setup(test_outbox_old_or_bad_rejected, setup),
        cmocka_unit_test_setup(test_outbox_put_checks, setup),
#else
        cmocka_unit_test_setup(test_outbox_compiled_out, setup),
#endif
        cmocka_unit_test_setup(test_filter_rules, setup),
        cmocka_unit_test_setup(test_url_record, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
