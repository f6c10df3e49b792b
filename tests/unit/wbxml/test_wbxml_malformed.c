/* SPDX-License-Identifier: Apache-2.0 */
/* Malformed input: each case gives its defined error at the right offset, errors are
 * sticky, and (under ASan, with exact-size heap input) nothing is read past the input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "eas/eas_config_defaults.h"
#include "eas/eas_err.h"
#include "eas/eas_wbxml.h"

#define HDR 0x03, 0x01, 0x6A, 0x00

typedef struct mcase {
    const char *what;
    uint8_t doc[48];
    size_t len;
    int err;       /* from feed (or finish when feed succeeds) */
    size_t offset; /* offset of the offending byte */
} mcase_t;

static const mcase_t cases[] = {
    {"version 0", {0x00, 0x01, 0x6A, 0x00, 0x45, 0x01}, 6, EAS_ERR_WBXML_VERSION, 0},
    {"version 1.4", {0x04, 0x01, 0x6A, 0x00, 0x45, 0x01}, 6, EAS_ERR_WBXML_VERSION, 0},
    {"public id 2", {0x03, 0x02, 0x6A, 0x00, 0x45, 0x01}, 6, EAS_ERR_WBXML_PUBLIC_ID, 1},
    {"public id in string table", {0x03, 0x00, 0x00, 0x6A, 0x00}, 5, EAS_ERR_WBXML_PUBLIC_ID, 1},
    {"charset latin1", {0x03, 0x01, 0x04, 0x00, 0x45, 0x01}, 6, EAS_ERR_WBXML_CHARSET, 2},
    {"mb_u_int 6 bytes",
     {0x03, 0x01, 0x6A, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00},
     9,
     EAS_ERR_WBXML_MB_UINT,
     8},
    {"mb_u_int > 32 bits",
     {0x03, 0x01, 0x6A, 0x90, 0x80, 0x80, 0x80, 0x00},
     8,
     EAS_ERR_WBXML_MB_UINT,
     7},
    {"bad page 26", {HDR, 0x00, 0x1A, 0x45, 0x01}, 8, EAS_ERR_WBXML_PAGE, 5},
    {"bad page 255", {HDR, 0x45, 0x00, 0xFF, 0x01}, 8, EAS_ERR_WBXML_PAGE, 6},
    {"bad token AirSync 0x2A", {HDR, 0x6A, 0x01}, 6, EAS_ERR_WBXML_TOKEN, 4},
    {"bad token Calendar gap", {HDR, 0x00, 0x04, 0x6B, 0x01}, 8, EAS_ERR_WBXML_TOKEN, 6},
    {"bad child token", {HDR, 0x45, 0x4F, 0x3F, 0x01, 0x01}, 9, EAS_ERR_WBXML_TOKEN, 6},
    {"attributes", {HDR, 0xC5, 0x01, 0x01}, 7, EAS_ERR_WBXML_UNSUPPORTED, 4},
    {"LITERAL", {HDR, 0x45, 0x04, 0x00, 0x01}, 8, EAS_ERR_WBXML_UNSUPPORTED, 5},
    {"LITERAL_C", {HDR, 0x44, 0x00}, 6, EAS_ERR_WBXML_UNSUPPORTED, 4},
    {"EXT_I_0", {HDR, 0x45, 0x40, 0x61, 0x00, 0x01}, 9, EAS_ERR_WBXML_UNSUPPORTED, 5},
    {"PI", {HDR, 0x45, 0x43, 0x01}, 7, EAS_ERR_WBXML_UNSUPPORTED, 5},
    {"EXT_T_0", {HDR, 0x45, 0x80, 0x00, 0x01}, 8, EAS_ERR_WBXML_UNSUPPORTED, 5},
    {"EXT_0", {HDR, 0x45, 0xC0, 0x01}, 7, EAS_ERR_WBXML_UNSUPPORTED, 5},
    {"END at depth 0", {HDR, 0x01}, 5, EAS_ERR_WBXML_STRUCTURE, 4},
    {"text before root", {HDR, 0x03, 0x61, 0x00, 0x45, 0x01}, 9, EAS_ERR_WBXML_STRUCTURE, 4},
    {"opaque before root", {HDR, 0xC3, 0x00}, 6, EAS_ERR_WBXML_STRUCTURE, 4},
    {"second root", {HDR, 0x45, 0x01, 0x45, 0x01}, 8, EAS_ERR_WBXML_TRAILING, 6},
    {"trailing byte after empty root", {HDR, 0x05, 0x00}, 6, EAS_ERR_WBXML_TRAILING, 5},
    {"entity 0", {HDR, 0x45, 0x02, 0x00, 0x01}, 8, EAS_ERR_WBXML_ENTITY, 6},
    {"entity surrogate", {HDR, 0x45, 0x02, 0x83, 0xB0, 0x00, 0x01}, 10, EAS_ERR_WBXML_ENTITY, 8},
    {"entity > U+10FFFF", {HDR, 0x45, 0x02, 0xC4, 0x80, 0x00, 0x01}, 10, EAS_ERR_WBXML_ENTITY, 8},
    {"STR_T without table", {HDR, 0x45, 0x83, 0x00, 0x01}, 8, EAS_ERR_WBXML_STRTBL, 6},
    {"STR_T past table",
     {0x03, 0x01, 0x6A, 0x02, 0x61, 0x00, 0x45, 0x83, 0x02, 0x01},
     10,
     EAS_ERR_WBXML_STRTBL,
     8},
    {"STR_T unterminated",
     {0x03, 0x01, 0x6A, 0x02, 0x61, 0x62, 0x45, 0x83, 0x00, 0x01},
     10,
     EAS_ERR_WBXML_STRTBL,
     8},
    {"opaque longer than limit",
     {HDR, 0x45, 0xC3, 0x88, 0x80, 0x80, 0x80, 0x00},
     11,
     EAS_ERR_WBXML_TOO_LONG,
     10},
    {"unterminated STR_I", {HDR, 0x45, 0x03, 0x61, 0x62}, 8, EAS_ERR_WBXML_TRUNCATED, 8},
    {"opaque shorter than its length",
     {HDR, 0x45, 0xC3, 0x05, 0x61},
     8,
     EAS_ERR_WBXML_TRUNCATED,
     8},
    {"header only", {HDR}, 4, EAS_ERR_WBXML_TRUNCATED, 4},
    {"empty", {0}, 0, EAS_ERR_WBXML_TRUNCATED, 0},
};

static int decode_exact(const uint8_t *src, size_t len, eas_wbxml_dec_t *dec)
{
    uint8_t *doc = malloc(len ? len : 1); /* exact size for ASan */
    static uint8_t strtbl[64];
    memcpy(doc, src, len);
    eas_wbxml_dec_init(dec, NULL, NULL);
    eas_wbxml_dec_set_strtbl(dec, strtbl, sizeof(strtbl));
    int err = eas_wbxml_dec_feed(dec, doc, len);
    if (err == EAS_OK) {
        err = eas_wbxml_dec_finish(dec);
    }
    free(doc);
    return err;
}

static void test_cases(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const mcase_t *c = &cases[i];
        eas_wbxml_dec_t dec;
        int err = decode_exact(c->doc, c->len, &dec);
        if (err != c->err || eas_wbxml_dec_offset(&dec) != c->offset) {
            fail_msg("%s: got %s at %llu, want %s at %zu", c->what, eas_err_name(err),
                     (unsigned long long)eas_wbxml_dec_offset(&dec), eas_err_name(c->err),
                     c->offset);
        }
        /* Sticky: the same error again, whatever is fed next. */
        assert_int_equal(eas_wbxml_dec_feed(&dec, (const uint8_t *)"\x01", 1), err);
        assert_int_equal(eas_wbxml_dec_finish(&dec), err);
        /* One byte at a time: same error, same offset. */
        eas_wbxml_dec_t d1;
        static uint8_t strtbl[64];
        eas_wbxml_dec_init(&d1, NULL, NULL);
        eas_wbxml_dec_set_strtbl(&d1, strtbl, sizeof(strtbl));
        int e1 = EAS_OK;
        for (size_t k = 0; k < c->len && e1 == EAS_OK; k++) {
            uint8_t *b = malloc(1);
            *b = c->doc[k];
            e1 = eas_wbxml_dec_feed(&d1, b, 1);
            free(b);
        }
        if (e1 == EAS_OK) {
            e1 = eas_wbxml_dec_finish(&d1);
        }
        assert_int_equal(e1, c->err);
        assert_int_equal(eas_wbxml_dec_offset(&d1), c->offset);
    }
}

static void test_depth_bomb(void **state)
{
    (void)state;
    size_t n = 4 + 10000;
    uint8_t *doc = malloc(n);
    memcpy(doc, (const uint8_t[]){HDR}, 4);
    memset(doc + 4, 0x4F, n - 4); /* <Collection> nested forever */
    eas_wbxml_dec_t dec;
    eas_wbxml_dec_init(&dec, NULL, NULL);
    assert_int_equal(eas_wbxml_dec_feed(&dec, doc, n), EAS_ERR_WBXML_DEPTH);
    assert_int_equal(eas_wbxml_dec_offset(&dec), 4 + CONFIG_EAS_WBXML_MAX_DEPTH);
    /* A tighter run-time limit. */
    eas_wbxml_dec_init(&dec, NULL, NULL);
    eas_wbxml_dec_set_limits(&dec, 3, 0, 0);
    assert_int_equal(eas_wbxml_dec_feed(&dec, doc, n), EAS_ERR_WBXML_DEPTH);
    assert_int_equal(eas_wbxml_dec_offset(&dec), 4 + 3);
    free(doc);
}

static void test_string_limit(void **state)
{
    (void)state;
    size_t slen = CONFIG_EAS_WBXML_MAX_STRING;
    size_t n = 4 + 2 + slen + 1 + 1;
    uint8_t *doc = malloc(n);
    memcpy(doc, (const uint8_t[]){HDR, 0x45, 0x03}, 6);
    memset(doc + 6, 'a', slen);
    doc[6 + slen] = 0;
    doc[7 + slen] = 0x01;
    /* Exactly the limit: accepted, in any chunking. */
    eas_wbxml_dec_t dec;
    eas_wbxml_dec_init(&dec, NULL, NULL);
    for (size_t off = 0; off < n; off += 7) {
        assert_int_equal(eas_wbxml_dec_feed(&dec, doc + off, (n - off < 7) ? n - off : 7), 0);
    }
    assert_int_equal(eas_wbxml_dec_finish(&dec), EAS_OK);
    /* One more than a tighter limit: TOO_LONG at the first excess byte. */
    eas_wbxml_dec_init(&dec, NULL, NULL);
    eas_wbxml_dec_set_limits(&dec, 0, 10, 0);
    for (size_t off = 0; off < n; off += 3) {
        int err = eas_wbxml_dec_feed(&dec, doc + off, (n - off < 3) ? n - off : 3);
        if (err != EAS_OK) {
            assert_int_equal(err, EAS_ERR_WBXML_TOO_LONG);
            break;
        }
    }
    assert_int_equal(eas_wbxml_dec_finish(&dec), EAS_ERR_WBXML_TOO_LONG);
    assert_int_equal(eas_wbxml_dec_offset(&dec), 6 + 10);
    free(doc);
}

static int stop_at_second_start(void *user, const eas_wbxml_event_t *ev)
{
    int *starts = user;
    if (ev->type == EAS_WBXML_EV_START && ++*starts == 2) {
        return EAS_ERR_CANCELLED;
    }
    return 1; /* positive: continue */
}

static void test_callback_error(void **state)
{
    (void)state;
    static const uint8_t doc[] = {HDR, 0x45, 0x5C, 0x01, 0x01};
    int starts = 0;
    eas_wbxml_dec_t dec;
    eas_wbxml_dec_init(&dec, stop_at_second_start, &starts);
    assert_int_equal(eas_wbxml_dec_feed(&dec, doc, sizeof(doc)), EAS_ERR_CANCELLED);
    assert_int_equal(eas_wbxml_dec_offset(&dec), 5);
    assert_int_equal(eas_wbxml_dec_finish(&dec), EAS_ERR_CANCELLED);
    assert_int_equal(starts, 2);
}

static int collect_text(void *user, const eas_wbxml_event_t *ev)
{
    uint8_t *out = user;
    if (ev->type == EAS_WBXML_EV_TEXT) {
        assert_true(out[0] + ev->len < 32);
        memcpy(out + 1 + out[0], ev->data, ev->len);
        out[0] = (uint8_t)(out[0] + ev->len);
    }
    return EAS_OK;
}

/* ENTITY code points become UTF-8 of 1 to 4 bytes. */
static void test_entity_utf8(void **state)
{
    (void)state;
    static const uint8_t doc[] = {HDR,  0x45, 0x02, 0x41, 0x02, 0x81, 0x69, 0x02, 0xC1, 0x2C,
                                  0x02, 0x87, 0xE7, 0x09, 0x02, 0xC3, 0xFF, 0x7F, 0x01};
    static const uint8_t want[] = {'A',  0xC3, 0xA9, 0xE2, 0x82, 0xAC, 0xF0,
                                   0x9F, 0x8E, 0x89, 0xF4, 0x8F, 0xBF, 0xBF};
    uint8_t out[32] = {0};
    eas_wbxml_dec_t dec;
    eas_wbxml_dec_init(&dec, collect_text, out);
    assert_int_equal(eas_wbxml_dec_feed(&dec, doc, sizeof(doc)), EAS_OK);
    assert_int_equal(eas_wbxml_dec_finish(&dec), EAS_OK);
    assert_int_equal(out[0], sizeof(want));
    assert_memory_equal(out + 1, want, sizeof(want));
}

static void test_params(void **state)
{
    (void)state;
    eas_wbxml_dec_t dec;
    eas_wbxml_dec_init(&dec, NULL, NULL);
    assert_int_equal(eas_wbxml_dec_feed(NULL, (const uint8_t *)"", 0), EAS_ERR_PARAM);
    assert_int_equal(eas_wbxml_dec_feed(&dec, NULL, 1), EAS_ERR_PARAM);
    assert_int_equal(eas_wbxml_dec_feed(&dec, NULL, 0), EAS_OK);
    assert_int_equal(eas_wbxml_dec_finish(NULL), EAS_ERR_PARAM);
    assert_true(sizeof(eas_wbxml_dec_t) <= 1024);
}

/* A string table's length is checked when it is known: a 4 GiB table is refused at once
 * (before this check the decoder skipped it byte by byte), a table that fits neither
 * CONFIG_EAS_WBXML_MAX_STRTBL nor the caller's buffer too, while one that fits is read. */
static void test_strtbl_limit(void **state)
{
    (void)state;
    static const uint8_t huge[] = {0x03, 0x01, 0x6A, 0x8F, 0xFF, 0xFF, 0xFF, 0x7F, 0x00, 0x00};
    eas_wbxml_dec_t dec;
    eas_wbxml_dec_init(&dec, NULL, NULL);
    assert_int_equal(eas_wbxml_dec_feed(&dec, huge, sizeof(huge)), EAS_ERR_WBXML_STRTBL);
    assert_int_equal(eas_wbxml_dec_offset(&dec), 7); /* the length's last byte */

    /* No buffer given: the configured limit alone. */
    uint8_t doc[CONFIG_EAS_WBXML_MAX_STRTBL + 16];
    size_t n = 0;
    doc[n++] = 0x03;
    doc[n++] = 0x01;
    doc[n++] = 0x6A;
    uint32_t tl = CONFIG_EAS_WBXML_MAX_STRTBL + 1u;
    if (tl >= 128u) {
        doc[n++] = (uint8_t)(0x80u | (tl >> 7));
    }
    doc[n++] = (uint8_t)(tl & 0x7Fu);
    eas_wbxml_dec_init(&dec, NULL, NULL);
    assert_int_equal(eas_wbxml_dec_feed(&dec, doc, n), EAS_ERR_WBXML_STRTBL);

    /* With a caller buffer: up to its size, the table is read; one byte more is refused. */
    static uint8_t tbl[16];
    static const uint8_t fits[] = {0x03, 0x01, 0x6A, 0x10, 'a',  'b',  'c',  0,
                                   0,    0,    0,    0,    0,    0,    0,    0,
                                   0,    0,    0,    0,    0x45, 0x83, 0x00, 0x01};
    eas_wbxml_dec_init(&dec, NULL, NULL);
    eas_wbxml_dec_set_strtbl(&dec, tbl, sizeof(tbl));
    assert_int_equal(eas_wbxml_dec_feed(&dec, fits, sizeof(fits)), EAS_OK);
    assert_int_equal(eas_wbxml_dec_finish(&dec), EAS_OK);
    static const uint8_t too_big[] = {0x03, 0x01, 0x6A, 0x11, 'a'};
    eas_wbxml_dec_init(&dec, NULL, NULL);
    eas_wbxml_dec_set_strtbl(&dec, tbl, sizeof(tbl));
    assert_int_equal(eas_wbxml_dec_feed(&dec, too_big, sizeof(too_big)), EAS_ERR_WBXML_STRTBL);
    assert_int_equal(eas_wbxml_dec_offset(&dec), 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),        cmocka_unit_test(test_depth_bomb),
        cmocka_unit_test(test_string_limit), cmocka_unit_test(test_callback_error),
        cmocka_unit_test(test_params),       cmocka_unit_test(test_entity_utf8),
        cmocka_unit_test(test_strtbl_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
