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
    assert_int_equal(
        eas_outbox_put(&ob, &arena, EAS_OUTBOX_ADD, 0, "cal", NULL, NULL, 0, fields, 2, &id1),
        EAS_OK);
    assert_int_equal(
        eas_outbox_put(&ob, &arena, EAS_OUTBOX_DELETE, 0, "cal", "s1", NULL, 0, NULL, 0, &id2),
        EAS_OK);
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
    assert_int_equal(eas_outbox_field_next(e.fields, e.fields_len, &pos, &f), 1);
    assert_int_equal(f.tag, EAS_CALENDAR_SUBJECT);
    assert_memory_equal(f.data, "Standup", 7);
    assert_int_equal(eas_outbox_field_next(e.fields, e.fields_len, &pos, &f), 1);
    assert_int_equal(f.kind, EAS_FIELD_OPAQUE);
    assert_int_equal(f.len, sizeof(tzblob)); /* [S 1.11] TimeZone stays byte-identical */
    assert_memory_equal(f.data, tzblob, sizeof(tzblob));
    assert_int_equal(eas_outbox_field_next(e.fields, e.fields_len, &pos, &f), 0);
    eas_arena_reset(&arena);

    uint32_t id3 = 0;
    assert_int_equal(
        eas_outbox_put(&ob2, &arena, EAS_OUTBOX_DELETE, 0, "cal", "s2", NULL, 0, NULL, 0, &id3),
        EAS_OK);
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
    assert_int_equal(
        eas_outbox_put(&ob, &arena, EAS_OUTBOX_DELETE, 0, "c", "x", NULL, 0, NULL, 0, &id),
        EAS_ERR_STORE);
    assert_int_equal(eas_outbox_count(&ob), 0);
    assert_int_equal(
        eas_outbox_put(&ob, &arena, EAS_OUTBOX_DELETE, 0, "c", "x", NULL, 0, NULL, 0, &id), EAS_OK);
    assert_int_equal(
        eas_outbox_put(&ob, &arena, EAS_OUTBOX_DELETE, 0, "c", "y", NULL, 0, NULL, 0, &id), EAS_OK);
    assert_int_equal(
        eas_outbox_put(&ob, &arena, EAS_OUTBOX_DELETE, 0, "c", "z", NULL, 0, NULL, 0, &id),
        EAS_ERR_OUTBOX_FULL);
    /* Too large for one record. */
    static char big[CONFIG_EAS_OUTBOX_RECORD_MAX];
    memset(big, 'x', sizeof(big));
    eas_field_t fb = {EAS_CALENDAR_LOCATION, EAS_FIELD_TEXT, big, sizeof(big)};
    assert_int_equal(eas_outbox_remove(&ob, 0), EAS_OK);
    assert_int_equal(
        eas_outbox_put(&ob, &arena, EAS_OUTBOX_ADD, 0, "c", NULL, NULL, 0, &fb, 1, &id),
        EAS_ERR_LIMIT);
}

/* [S 1.15] Responding twice to the same meeting keeps one queued response. */
static void test_meeting_response_idempotent(void **st)
{
    (void)st;
    eas_outbox_slot_t slots[4];
    eas_outbox_t ob;
    uint32_t a = 0, b = 0, c = 0;
    assert_int_equal(eas_outbox_load(&ob, slots, 4, NS("a"), &arena, NULL, NULL, NULL), EAS_OK);
    assert_int_equal(eas_outbox_put(&ob, &arena, EAS_OUTBOX_MEETING_RESPONSE, 0, "inbox", "m1",
                                    NULL, 1, NULL, 0, &a),
                     EAS_OK);
    assert_int_equal(eas_outbox_put(&ob, &arena, EAS_OUTBOX_MEETING_RESPONSE, 0, "inbox", "m1",
                                    NULL, 3, NULL, 0, &b),
                     EAS_OK);
    assert_int_equal(a, b);
    assert_int_equal(eas_outbox_count(&ob), 1);
    /* Another occurrence of the same series is another response. */
    assert_int_equal(eas_outbox_put(&ob, &arena, EAS_OUTBOX_MEETING_RESPONSE, 0, "inbox", "m1",
                                    "2024-05-01T09:00:00.000Z", 1, NULL, 0, &c),
                     EAS_OK);
    assert_int_not_equal(c, a);
    /* After a restart the replacement holds: one entry with the last decision. */
    eas_outbox_slot_t slots2[4];
    eas_outbox_t ob2;
    assert_int_equal(eas_outbox_load(&ob2, slots2, 4, NS("a"), &arena, NULL, NULL, NULL), EAS_OK);
    assert_int_equal(eas_outbox_count(&ob2), 2);
    eas_outbox_entry_t e;
    assert_int_equal(eas_outbox_read(&ob2, (size_t)eas_outbox_find(&ob2, a), &arena, &e), EAS_OK);
    assert_int_equal(e.reply, 3);
    uint32_t d = 0;
    assert_int_equal(eas_outbox_put(&ob2, &arena, EAS_OUTBOX_MEETING_RESPONSE, 0, "inbox", "m1",
                                    NULL, 2, NULL, 0, &d),
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
    assert_int_equal(
        eas_outbox_put(&ob, &arena, EAS_OUTBOX_DELETE, 0, "c", "x", NULL, 0, NULL, 0, &id), EAS_OK);
    assert_int_equal(test_hal_store_put("a.o0", (const uint8_t *)"garbage", 7), EAS_OK);
    size_t bad = 0;
    assert_int_equal(eas_outbox_load(&ob, slots, 4, NS("a"), &arena, &bad, NULL, NULL), EAS_OK);
    assert_int_equal(bad, 1);
    assert_int_equal(eas_outbox_count(&ob), 0);
}

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
    assert_int_equal(eas_state_url_load("acct0",
                                        "https://A.EXAMPLE:443/Microsoft-Server-ActiveSync", url,
                                        sizeof(url), &arena),
                     EAS_OK);
    /* another configured URL: not this record's */
    assert_int_equal(eas_state_url_load("acct0", "https://c.example/Microsoft-Server-ActiveSync",
                                        url, sizeof(url), &arena),
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
        cmocka_unit_test_setup(test_outbox_put_read_remove, setup),
        cmocka_unit_test_setup(test_outbox_full_and_store_fail, setup),
        cmocka_unit_test_setup(test_meeting_response_idempotent, setup),
        cmocka_unit_test_setup(test_outbox_corrupt_entry_dropped, setup),
        cmocka_unit_test_setup(test_filter_rules, setup),
        cmocka_unit_test_setup(test_url_record, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
