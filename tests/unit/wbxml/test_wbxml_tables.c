/* SPDX-License-Identifier: Apache-2.0 */
/* Our code page tables against libwbxml's ActiveSync table: same (page, token) pairs, same
 * names except the documented renames (tools/eas-wbxml/libwbxml_names.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "eas/eas_config_defaults.h"
#include "eas/eas_err.h"
#include "eas/eas_wbxml.h"
#include "../../../tools/eas-wbxml/libwbxml_names.h"
#include "wbxml_ref.h"

/* Tokens MS-ASWBXML defines that libwbxml 0.11.8 lacks (EAS 16.x additions). */
static const uint16_t missing_in_libwbxml[] = {
    0x0810, 0x0811, /* MeetingResponse ProposedStartTime/EndTime (16.1) */
    0x0E3B,         /* Provision AccountOnlyRemoteWipe (16.1) */
};

static bool is_missing(uint16_t tag)
{
    if (EAS_TAG_PAGE(tag) == EAS_PAGE_FIND) {
        return true; /* code page 25 (16.1) */
    }
    for (size_t i = 0; i < sizeof(missing_in_libwbxml) / sizeof(missing_in_libwbxml[0]); i++) {
        if (missing_in_libwbxml[i] == tag) {
            return true;
        }
    }
    return false;
}

#if CONFIG_EAS_WBXML_NAMES
static const char *libwbxml_rename(uint16_t tag, const char *ref_name)
{
    for (size_t i = 0; i < LIBWBXML_NAMES_COUNT; i++) {
        if (libwbxml_names[i].tag == tag && strcmp(libwbxml_names[i].libwbxml, ref_name) == 0) {
            return libwbxml_names[i].libwbxml;
        }
    }
    return NULL;
}

#endif

static bool in_ref(uint16_t tag)
{
    for (const wbxml_ref_tag_t *t = wbxml_ref_tags(); t->name != NULL; t++) {
        if (EAS_TAG(t->page, t->token) == tag) {
            return true;
        }
    }
    return false;
}

/* Every tag libwbxml knows, we know, under the same or a documented name. */
static void test_ref_tags_known(void **state)
{
    (void)state;
    const wbxml_ref_tag_t *t = wbxml_ref_tags();
    size_t n = 0, renamed = 0;
    assert_non_null(t);
    for (; t->name != NULL; t++, n++) {
        uint16_t tag = EAS_TAG(t->page, t->token);
        if (!eas_wbxml_tag_known(tag)) {
            fail_msg("libwbxml tag %s (page %u token 0x%02X) unknown to easd", t->name, t->page,
                     t->token);
        }
#if CONFIG_EAS_WBXML_NAMES
        const char *ours = eas_wbxml_tag_name(tag);
        assert_non_null(ours);
        if (strcmp(ours, t->name) != 0) {
            if (libwbxml_rename(tag, t->name) == NULL) {
                fail_msg("page %u token 0x%02X: easd \"%s\", libwbxml \"%s\" (undocumented)",
                         t->page, t->token, ours, t->name);
            }
            renamed++;
        }
#endif
    }
    print_message("libwbxml ActiveSync tags: %zu, spelled differently: %zu\n", n, renamed);
    assert_true(n > 600);
}

/* Every tag we know exists in libwbxml's table, unless documented as newer than it. */
static void test_our_tags_in_ref(void **state)
{
    (void)state;
    size_t ours = 0, missing = 0;
    for (unsigned page = 0; page < 64; page++) {
        for (unsigned tok = 0; tok < 64; tok++) {
            uint16_t tag = EAS_TAG(page, tok);
            if (((unsigned)tag >> 8) != page || !eas_wbxml_tag_known(tag)) {
                continue;
            }
            assert_true(page < EAS_PAGE_COUNT);
            assert_true(tok >= 5);
            ours++;
            if (!in_ref(tag)) {
                if (!is_missing(tag)) {
                    fail_msg("easd tag page %u token 0x%02X not in libwbxml", page, tok);
                }
                missing++;
            }
        }
    }
    print_message("easd tags: %zu, newer than libwbxml 0.11.8: %zu\n", ours, missing);
    assert_int_equal(missing, 22 + 3);
}

/* Each documented rename really is libwbxml's spelling of that token. */
static void test_renames_match_ref(void **state)
{
    (void)state;
    for (size_t i = 0; i < LIBWBXML_NAMES_COUNT; i++) {
        bool found = false;
        for (const wbxml_ref_tag_t *t = wbxml_ref_tags(); t->name != NULL; t++) {
            if (EAS_TAG(t->page, t->token) == libwbxml_names[i].tag &&
                strcmp(t->name, libwbxml_names[i].libwbxml) == 0) {
                found = true;
            }
        }
        if (!found) {
            fail_msg("rename %s (0x%04X) not in libwbxml", libwbxml_names[i].libwbxml,
                     libwbxml_names[i].tag);
        }
    }
}

static void test_known_edges(void **state)
{
    (void)state;
    assert_true(eas_wbxml_tag_known(EAS_AIRSYNC_SYNC));
    assert_int_equal(EAS_AIRSYNC_SYNC_KEY, 0x000B);
    assert_int_equal(EAS_CALENDAR_TIMEZONE, 0x0405);
    assert_true(eas_wbxml_tag_known(EAS_FIND_PICTURE));
    assert_false(eas_wbxml_tag_known(0x0004)); /* global token range */
    assert_false(eas_wbxml_tag_known(0x002A)); /* past AirSync's last token */
    assert_false(eas_wbxml_tag_known(0x0430)); /* Calendar gap 0x2B..0x32 */
    assert_false(eas_wbxml_tag_known(0x1A05)); /* page 26 */
    assert_false(eas_wbxml_tag_known(0xFF3F));
    assert_false(eas_wbxml_tag_known(0x0045)); /* token with content bit is not a tag */
}

static void test_names(void **state)
{
    (void)state;
#if CONFIG_EAS_WBXML_NAMES
    uint16_t tag = 0;
    uint8_t page = 0;
    assert_string_equal(eas_wbxml_tag_name(EAS_CALENDAR_TIMEZONE), "Timezone");
    assert_string_equal(eas_wbxml_tag_name(EAS_EMAIL_TIMEZONE), "TimeZone");
    assert_string_equal(eas_wbxml_tag_name(EAS_CALENDAR_TYPE), "Type");
    assert_string_equal(eas_wbxml_tag_name(EAS_CALENDAR_DELETED), "Deleted");
    assert_string_equal(eas_wbxml_page_name(EAS_PAGE_FIND), "Find");
    assert_null(eas_wbxml_tag_name(0x0430));
    assert_null(eas_wbxml_page_name(26));
    assert_int_equal(eas_wbxml_page_lookup("Calendar:", 9, &page), EAS_OK);
    assert_int_equal(page, EAS_PAGE_CALENDAR);
    assert_int_equal(eas_wbxml_page_lookup("Calendar", 8, &page), EAS_OK);
    assert_int_equal(eas_wbxml_page_lookup("Calenda", 7, &page), EAS_ERR_NOT_FOUND);
    assert_int_equal(eas_wbxml_tag_lookup(EAS_PAGE_CALENDAR, "Interval", 8, &tag), EAS_OK);
    assert_int_equal(tag, EAS_CALENDAR_INTERVAL);
    assert_int_equal(
        eas_wbxml_tag_lookup(EAS_PAGE_PROVISION, "RequireStorageCardEncryption", 28, &tag), EAS_OK);
    assert_int_equal(tag, EAS_PROVISION_REQUIRE_STORAGE_CARD_ENCRYPTION);
    assert_int_equal(eas_wbxml_tag_lookup(EAS_PAGE_CALENDAR, "Recurrence_Type", 15, &tag),
                     EAS_ERR_NOT_FOUND);
    /* Round trip of every name. */
    for (unsigned p = 0; p < EAS_PAGE_COUNT; p++) {
        for (unsigned t = 5; t < 64; t++) {
            uint16_t want = EAS_TAG(p, t);
            const char *n = eas_wbxml_tag_name(want);
            if (n != NULL) {
                assert_int_equal(eas_wbxml_tag_lookup((uint8_t)p, n, strlen(n), &tag), EAS_OK);
                assert_int_equal(tag, want);
            }
        }
    }
#else
    uint16_t tag = 0;
    assert_null(eas_wbxml_tag_name(EAS_AIRSYNC_SYNC));
    assert_int_equal(eas_wbxml_tag_lookup(0, "Sync", 4, &tag), EAS_ERR_UNSUPPORTED);
#endif
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ref_tags_known),
        cmocka_unit_test(test_our_tags_in_ref),
        cmocka_unit_test(test_renames_match_ref),
        cmocka_unit_test(test_known_edges),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
