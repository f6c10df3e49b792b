/* SPDX-License-Identifier: Apache-2.0 */
/* Golden vectors: our decoder and libwbxml give the same tree; every split point gives the
 * same tree; re-encoding with our encoder gives a document libwbxml decodes to the same
 * tree (and, for libwbxml-produced vectors, the very same bytes). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "eas/eas_config_defaults.h"
#include "eas/eas_err.h"
#include "eas/eas_wbxml.h"
#include "wbxml_ref.h"

static wbxml_vector_t *g_vec;
static size_t g_n;

static int setup(void **state)
{
    (void)state;
    g_n = wbxml_vectors_load("tests/vectors", &g_vec);
    return g_n >= 10 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    wbxml_vectors_free(g_vec, g_n);
    return 0;
}

static void test_same_tree_as_libwbxml(void **state)
{
    (void)state;
    size_t compared = 0;
    for (size_t i = 0; i < g_n; i++) {
        wbxml_canon_t a, b;
        int ea = wbxml_ours_canon(g_vec[i].data, g_vec[i].len, 0, &a);
        if (ea != EAS_OK) {
            fail_msg("%s: our decoder: %s", g_vec[i].name, eas_err_name(ea));
        }
        if (g_vec[i].has_ref) {
            int eb = wbxml_ref_canon(g_vec[i].data, g_vec[i].len, &b);
            if (eb != 0) {
                fail_msg("%s: libwbxml error %d", g_vec[i].name, eb);
            }
            if (strcmp(a.s, b.s) != 0) {
                fail_msg("%s: trees differ\n--ours\n%s--libwbxml\n%s", g_vec[i].name, a.s, b.s);
            }
            wbxml_canon_free(&b);
            compared++;
        }
        assert_true(a.len > 0);
        wbxml_canon_free(&a);
    }
    print_message("vectors: %zu, compared with libwbxml: %zu\n", g_n, compared);
    assert_true(compared >= 10);
}

/* Every split into two chunks, and one byte at a time, gives the one-shot tree. */
static void test_every_split_point(void **state)
{
    (void)state;
    size_t runs = 0;
    for (size_t i = 0; i < g_n; i++) {
        const wbxml_vector_t *v = &g_vec[i];
        wbxml_canon_t whole, part;
        assert_int_equal(wbxml_ours_canon(v->data, v->len, 0, &whole), EAS_OK);
        for (size_t k = 1; k < v->len; k++) {
            /* Chunks of k bytes, each in its own exact-size heap block (see
             * wbxml_ours_canon), so a read past any chunk end trips ASan. */
            int err = wbxml_ours_canon(v->data, v->len, k, &part);
            if (err != EAS_OK || strcmp(part.s, whole.s) != 0) {
                fail_msg("%s: chunk size %zu differs (%s)", v->name, k, eas_err_name(err));
            }
            wbxml_canon_free(&part);
            err = wbxml_ours_canon_split(v->data, v->len, k, &part);
            if (err != EAS_OK || strcmp(part.s, whole.s) != 0) {
                fail_msg("%s: split at %zu differs (%s)", v->name, k, eas_err_name(err));
            }
            wbxml_canon_free(&part);
            runs += 2;
        }
        wbxml_canon_free(&whole);
    }
    print_message("chunked decodes: %zu\n", runs);
}

/* Re-encode the decoded events with our encoder. */
typedef struct reenc {
    eas_wbxml_enc_t enc;
    uint8_t buf[64]; /* small on purpose: many flushes */
    uint8_t *out;
    size_t out_len;
} reenc_t;

static int reenc_flush(void *user, const uint8_t *d, size_t n)
{
    reenc_t *r = user;
    r->out = realloc(r->out, r->out_len + n);
    memcpy(r->out + r->out_len, d, n);
    r->out_len += n;
    return EAS_OK;
}

static int reenc_cb(void *user, const eas_wbxml_event_t *ev)
{
    reenc_t *r = user;
    switch (ev->type) {
    case EAS_WBXML_EV_START:
        return eas_wbxml_enc_start(&r->enc, ev->tag);
    case EAS_WBXML_EV_END:
        return eas_wbxml_enc_end(&r->enc);
    case EAS_WBXML_EV_TEXT:
        return eas_wbxml_enc_text(&r->enc, (const char *)ev->data, ev->len);
    case EAS_WBXML_EV_OPAQUE:
        if (ev->piece & EAS_WBXML_PIECE_FIRST) {
            (void)eas_wbxml_enc_opaque_begin(&r->enc, ev->total_len);
        }
        return eas_wbxml_enc_opaque_piece(&r->enc, ev->data, ev->len);
    default:
        return EAS_ERR_INTERNAL;
    }
}

static void test_reencode(void **state)
{
    (void)state;
    size_t identical = 0;
    for (size_t i = 0; i < g_n; i++) {
        const wbxml_vector_t *v = &g_vec[i];
        reenc_t r;
        eas_wbxml_dec_t dec;
        static uint8_t strtbl[4096];
        memset(&r, 0, sizeof(r));
        eas_wbxml_enc_init(&r.enc, r.buf, sizeof(r.buf), reenc_flush, &r);
        eas_wbxml_dec_init(&dec, reenc_cb, &r);
        eas_wbxml_dec_set_strtbl(&dec, strtbl, sizeof(strtbl));
        assert_int_equal(eas_wbxml_dec_feed(&dec, v->data, v->len), EAS_OK);
        assert_int_equal(eas_wbxml_dec_finish(&dec), EAS_OK);
        assert_int_equal(eas_wbxml_enc_finish(&r.enc), EAS_OK);
        assert_int_equal(eas_wbxml_enc_total(&r.enc), r.out_len);

        wbxml_canon_t a, b;
        assert_int_equal(wbxml_ours_canon(v->data, v->len, 0, &a), EAS_OK);
        assert_int_equal(wbxml_ours_canon(r.out, r.out_len, 0, &b), EAS_OK);
        assert_string_equal(a.s, b.s);
        wbxml_canon_free(&b);
        if (v->has_ref) {
            assert_int_equal(wbxml_ref_canon(r.out, r.out_len, &b), 0);
            assert_string_equal(a.s, b.s);
            wbxml_canon_free(&b);
        }
        if (r.out_len == v->len && memcmp(r.out, v->data, v->len) == 0) {
            identical++;
        } else if (strncmp(v->name, "hand-", 5) != 0) {
            /* Only hand-made vectors use constructs our encoder never writes. */
            fail_msg("%s: re-encoding is not byte-identical", v->name);
        }
        wbxml_canon_free(&a);
        free(r.out);
    }
    print_message("byte-identical re-encodings: %zu of %zu\n", identical, g_n);
}

/* Every proper prefix is an incomplete document: feed succeeds, finish says TRUNCATED. */
static void test_truncated_at_every_offset(void **state)
{
    (void)state;
    for (size_t i = 0; i < g_n; i++) {
        const wbxml_vector_t *v = &g_vec[i];
        for (size_t k = 0; k < v->len; k++) {
            uint8_t *prefix = malloc(k ? k : 1);
            memcpy(prefix, v->data, k);
            eas_wbxml_dec_t dec;
            static uint8_t strtbl[4096];
            eas_wbxml_dec_init(&dec, NULL, NULL);
            eas_wbxml_dec_set_strtbl(&dec, strtbl, sizeof(strtbl));
            int err = eas_wbxml_dec_feed(&dec, prefix, k);
            if (err != EAS_OK) {
                fail_msg("%s: prefix %zu: feed %s", v->name, k, eas_err_name(err));
            }
            assert_int_equal(eas_wbxml_dec_finish(&dec), EAS_ERR_WBXML_TRUNCATED);
            assert_int_equal(eas_wbxml_dec_offset(&dec), k);
            /* sticky */
            assert_int_equal(eas_wbxml_dec_feed(&dec, v->data, 1), EAS_ERR_WBXML_TRUNCATED);
            free(prefix);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_tree_as_libwbxml),
        cmocka_unit_test(test_every_split_point),
        cmocka_unit_test(test_reencode),
        cmocka_unit_test(test_truncated_at_every_offset),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
