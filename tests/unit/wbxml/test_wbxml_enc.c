/* SPDX-License-Identifier: Apache-2.0 */
/* Encoder: exact bytes, flushing through tiny buffers, sticky errors, state errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "eas/eas_config_defaults.h"
#include "eas/eas_err.h"
#include "eas/eas_wbxml.h"
#include "wbxml_ref.h"

typedef struct sink {
    uint8_t out[4096];
    size_t len;
    int flushes;
    int fail_at; /* flush number that fails (0 = never) */
} sink_t;

static int sink_flush(void *user, const uint8_t *d, size_t n)
{
    sink_t *s = user;
    s->flushes++;
    if (s->fail_at != 0 && s->flushes == s->fail_at) {
        return EAS_ERR_IO;
    }
    assert_true(s->len + n <= sizeof(s->out));
    memcpy(s->out + s->len, d, n);
    s->len += n;
    return EAS_OK;
}

/* FolderSync request as every EAS client sends it. */
static void build_foldersync(eas_wbxml_enc_t *e)
{
    (void)eas_wbxml_enc_start(e, EAS_FOLDERHIERARCHY_FOLDER_SYNC);
    (void)eas_wbxml_enc_elem_text(e, EAS_FOLDERHIERARCHY_SYNC_KEY, "0");
    (void)eas_wbxml_enc_end(e);
}

static void test_exact_bytes(void **state)
{
    (void)state;
    static const uint8_t want[] = {0x03, 0x01, 0x6A, 0x00, 0x00, 0x07, 0x56,
                                   0x52, 0x03, 0x30, 0x00, 0x01, 0x01};
    uint8_t buf[64];
    eas_wbxml_enc_t e;
    eas_wbxml_enc_init(&e, buf, sizeof(buf), NULL, NULL);
    build_foldersync(&e);
    assert_int_equal(eas_wbxml_enc_finish(&e), EAS_OK);
    assert_int_equal(e.len, sizeof(want));
    assert_memory_equal(buf, want, sizeof(want));
    assert_int_equal(eas_wbxml_enc_total(&e), sizeof(want));
}

static void test_tiny_buffer_many_flushes(void **state)
{
    (void)state;
    uint8_t buf[16];
    sink_t s;
    memset(&s, 0, sizeof(s));
    eas_wbxml_enc_t e;
    eas_wbxml_enc_init(&e, buf, sizeof(buf), sink_flush, &s);
    (void)eas_wbxml_enc_start(&e, EAS_PING_PING);
    (void)eas_wbxml_enc_elem_uint(&e, EAS_PING_HEARTBEAT_INTERVAL, 4294967295u);
    (void)eas_wbxml_enc_start(&e, EAS_PING_FOLDERS);
    for (int i = 0; i < 20; i++) {
        (void)eas_wbxml_enc_start(&e, EAS_PING_FOLDER);
        (void)eas_wbxml_enc_elem_uint(&e, EAS_PING_ID, (uint32_t)i);
        (void)eas_wbxml_enc_elem_text(&e, EAS_PING_CLASS, "Calendar");
        (void)eas_wbxml_enc_end(&e);
    }
    (void)eas_wbxml_enc_end(&e);
    (void)eas_wbxml_enc_end(&e);
    static uint8_t big[1000];
    memset(big, 0xAB, sizeof(big));
    assert_int_equal(eas_wbxml_enc_finish(&e), EAS_OK);
    assert_true(s.flushes > 10);
    assert_int_equal(s.len, eas_wbxml_enc_total(&e));
    wbxml_canon_t a, b;
    assert_int_equal(wbxml_ours_canon(s.out, s.len, 0, &a), EAS_OK);
    assert_int_equal(wbxml_ref_canon(s.out, s.len, &b), 0);
    assert_string_equal(a.s, b.s);
    assert_non_null(strstr(a.s, "T 34323934393637323935\n")); /* "4294967295" */
    wbxml_canon_free(&a);
    wbxml_canon_free(&b);
}

static void test_large_opaque_streams(void **state)
{
    (void)state;
    uint8_t buf[16];
    sink_t s;
    static uint8_t big[3000];
    memset(&s, 0, sizeof(s));
    for (size_t i = 0; i < sizeof(big); i++) {
        big[i] = (uint8_t)i;
    }
    eas_wbxml_enc_t e;
    eas_wbxml_enc_init(&e, buf, sizeof(buf), sink_flush, &s);
    (void)eas_wbxml_enc_start(&e, EAS_COMPOSEMAIL_SEND_MAIL);
    (void)eas_wbxml_enc_elem_text(&e, EAS_COMPOSEMAIL_CLIENT_ID, "c1");
    (void)eas_wbxml_enc_start(&e, EAS_COMPOSEMAIL_MIME);
    (void)eas_wbxml_enc_opaque_begin(&e, sizeof(big));
    (void)eas_wbxml_enc_opaque_piece(&e, big, 1000);
    (void)eas_wbxml_enc_opaque_piece(&e, big + 1000, 2000);
    (void)eas_wbxml_enc_end(&e);
    (void)eas_wbxml_enc_end(&e);
    assert_int_equal(eas_wbxml_enc_finish(&e), EAS_OK);
    assert_int_equal(s.len, eas_wbxml_enc_total(&e));
    wbxml_canon_t a, b;
    assert_int_equal(wbxml_ours_canon(s.out, s.len, 5, &a), EAS_OK);
    assert_int_equal(wbxml_ref_canon(s.out, s.len, &b), 0);
    assert_string_equal(a.s, b.s);
    wbxml_canon_free(&a);
    wbxml_canon_free(&b);
}

static void test_counting_pass(void **state)
{
    (void)state;
    /* A flush that discards gives Content-Length before the real pass. */
    uint8_t buf[16], full[64];
    sink_t s;
    memset(&s, 0, sizeof(s));
    eas_wbxml_enc_t e, f;
    eas_wbxml_enc_init(&e, buf, sizeof(buf), sink_flush, &s);
    build_foldersync(&e);
    assert_int_equal(eas_wbxml_enc_finish(&e), EAS_OK);
    eas_wbxml_enc_init(&f, full, sizeof(full), NULL, NULL);
    build_foldersync(&f);
    assert_int_equal(eas_wbxml_enc_finish(&f), EAS_OK);
    assert_int_equal(eas_wbxml_enc_total(&e), f.len);
}

static void test_sticky_errors(void **state)
{
    (void)state;
    uint8_t buf[16];
    eas_wbxml_enc_t e;

    /* No flush callback and the document does not fit. */
    eas_wbxml_enc_init(&e, buf, sizeof(buf), NULL, NULL);
    (void)eas_wbxml_enc_start(&e, EAS_AIRSYNC_SYNC);
    (void)eas_wbxml_enc_elem_text(&e, EAS_AIRSYNC_SYNC_KEY, "0123456789abcdef");
    assert_int_equal(eas_wbxml_enc_end(&e), EAS_ERR_NOMEM);
    assert_int_equal(eas_wbxml_enc_finish(&e), EAS_ERR_NOMEM);

    /* A failing flush is returned unchanged and stays. */
    sink_t s;
    memset(&s, 0, sizeof(s));
    s.fail_at = 1;
    eas_wbxml_enc_init(&e, buf, sizeof(buf), sink_flush, &s);
    (void)eas_wbxml_enc_start(&e, EAS_AIRSYNC_SYNC);
    (void)eas_wbxml_enc_elem_text(&e, EAS_AIRSYNC_SYNC_KEY, "0123456789abcdef");
    assert_int_equal(eas_wbxml_enc_end(&e), EAS_ERR_IO);
    assert_int_equal(eas_wbxml_enc_start(&e, EAS_AIRSYNC_SYNC), EAS_ERR_IO);
    assert_int_equal(eas_wbxml_enc_finish(&e), EAS_ERR_IO);

    /* Unknown tag. */
    eas_wbxml_enc_init(&e, buf, sizeof(buf), NULL, NULL);
    assert_int_equal(eas_wbxml_enc_start(&e, 0x1A05), EAS_ERR_PARAM);
    assert_int_equal(eas_wbxml_enc_finish(&e), EAS_ERR_PARAM);

    /* Buffer too small. */
    eas_wbxml_enc_init(&e, buf, 8, NULL, NULL);
    assert_int_equal(eas_wbxml_enc_finish(&e), EAS_ERR_PARAM);

    /* Text containing NUL. */
    eas_wbxml_enc_init(&e, buf, sizeof(buf), NULL, NULL);
    (void)eas_wbxml_enc_start(&e, EAS_AIRSYNC_SYNC);
    assert_int_equal(eas_wbxml_enc_text(&e, "a\0b", 3), EAS_ERR_PARAM);
}

static void test_state_errors(void **state)
{
    (void)state;
    uint8_t buf[64];
    eas_wbxml_enc_t e;

    eas_wbxml_enc_init(&e, buf, sizeof(buf), NULL, NULL);
    assert_int_equal(eas_wbxml_enc_end(&e), EAS_ERR_STATE); /* nothing open */

    eas_wbxml_enc_init(&e, buf, sizeof(buf), NULL, NULL);
    assert_int_equal(eas_wbxml_enc_text(&e, "x", 1), EAS_ERR_STATE); /* text at root */

    eas_wbxml_enc_init(&e, buf, sizeof(buf), NULL, NULL);
    assert_int_equal(eas_wbxml_enc_finish(&e), EAS_ERR_STATE); /* no root */

    eas_wbxml_enc_init(&e, buf, sizeof(buf), NULL, NULL);
    (void)eas_wbxml_enc_start(&e, EAS_AIRSYNC_SYNC);
    assert_int_equal(eas_wbxml_enc_finish(&e), EAS_ERR_STATE); /* still open */

    eas_wbxml_enc_init(&e, buf, sizeof(buf), NULL, NULL);
    (void)eas_wbxml_enc_elem_empty(&e, EAS_AIRSYNC_SYNC);
    assert_int_equal(eas_wbxml_enc_start(&e, EAS_AIRSYNC_SYNC), EAS_ERR_STATE); /* 2nd root */

    eas_wbxml_enc_init(&e, buf, sizeof(buf), NULL, NULL);
    (void)eas_wbxml_enc_start(&e, EAS_AIRSYNC_SYNC);
    (void)eas_wbxml_enc_opaque_begin(&e, 4);
    (void)eas_wbxml_enc_opaque_piece(&e, (const uint8_t *)"ab", 2);
    assert_int_equal(eas_wbxml_enc_end(&e), EAS_ERR_STATE); /* opaque unfinished */

    eas_wbxml_enc_init(&e, buf, sizeof(buf), NULL, NULL);
    (void)eas_wbxml_enc_start(&e, EAS_AIRSYNC_SYNC);
    (void)eas_wbxml_enc_opaque_begin(&e, 1);
    assert_int_equal(eas_wbxml_enc_opaque_piece(&e, (const uint8_t *)"ab", 2), EAS_ERR_PARAM);

    eas_wbxml_enc_init(&e, buf, sizeof(buf), NULL, NULL);
    (void)eas_wbxml_enc_start(&e, EAS_AIRSYNC_SYNC);
    assert_int_equal(eas_wbxml_enc_text(&e, "", 0), EAS_OK); /* empty text writes nothing */
    assert_int_equal(eas_wbxml_enc_end(&e), EAS_OK);
    assert_int_equal(eas_wbxml_enc_finish(&e), EAS_OK);
    assert_int_equal(e.len, 5);
    assert_int_equal(buf[4], 0x05); /* <Sync/> without content flag */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_bytes),
        cmocka_unit_test(test_tiny_buffer_many_flushes),
        cmocka_unit_test(test_large_opaque_streams),
        cmocka_unit_test(test_counting_pass),
        cmocka_unit_test(test_sticky_errors),
        cmocka_unit_test(test_state_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
