/* SPDX-License-Identifier: Apache-2.0 */
/* Base64: RFC 4648 vectors, whitespace, every malformed shape, buffer limits, streaming. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "eas/eas_base64.h"
#include "eas/eas_err.h"

static const struct {
    const char *plain;
    const char *enc;
} k_rfc4648[] = {
    {"", ""},
    {"f", "Zg=="},
    {"fo", "Zm8="},
    {"foo", "Zm9v"},
    {"foob", "Zm9vYg=="},
    {"fooba", "Zm9vYmE="},
    {"foobar", "Zm9vYmFy"},
};

static void rfc4648_vectors_both_ways(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(k_rfc4648) / sizeof(k_rfc4648[0]); i++) {
        char enc[32];
        uint8_t dec[32];
        size_t n = 99;
        size_t plen = strlen(k_rfc4648[i].plain);
        assert_int_equal(
            eas_base64_encode((const uint8_t *)k_rfc4648[i].plain, plen, enc, sizeof enc, &n),
            EAS_OK);
        assert_string_equal(enc, k_rfc4648[i].enc);
        assert_int_equal(n, strlen(k_rfc4648[i].enc));
        assert_int_equal(EAS_BASE64_ENCODED_LEN(plen), n);
        assert_int_equal(eas_base64_decode(enc, n, dec, sizeof dec, &n), EAS_OK);
        assert_int_equal(n, plen);
        assert_memory_equal(dec, k_rfc4648[i].plain, plen);
    }
}

static void all_byte_values_round_trip(void **state)
{
    (void)state;
    uint8_t in[256];
    char enc[EAS_BASE64_ENCODED_LEN(256) + 1];
    uint8_t out[256];
    for (int i = 0; i < 256; i++) {
        in[i] = (uint8_t)(255 - i);
    }
    for (size_t len = 0; len <= 256; len += 37) {
        size_t n = 0;
        assert_int_equal(eas_base64_encode(in, len, enc, sizeof enc, &n), EAS_OK);
        assert_int_equal(eas_base64_decode(enc, n, out, sizeof out, &n), EAS_OK);
        assert_int_equal(n, len);
        assert_memory_equal(in, out, len);
    }
}

static void whitespace_is_skipped(void **state)
{
    (void)state;
    uint8_t out[16];
    size_t n = 0;
    const char *s = " Zm9v\r\n YmFy \t";
    assert_int_equal(eas_base64_decode(s, strlen(s), out, sizeof out, &n), EAS_OK);
    assert_int_equal(n, 6);
    assert_memory_equal(out, "foobar", 6);
}

static void malformed_input_is_rejected(void **state)
{
    (void)state;
    static const char *bad[] = {
        "Zm9v!", "Z", "Zm9vY", "=Zm9", "Zg=", "Z===", "Zg==Zg==", "Zg==x", "Zm9=v", "Zm\x80v",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint8_t out[16];
        size_t n = 7;
        assert_int_equal(eas_base64_decode(bad[i], strlen(bad[i]), out, sizeof out, &n),
                         EAS_ERR_FORMAT);
        assert_int_equal(n, 0);
    }
}

static void unpadded_tail_is_accepted(void **state)
{
    (void)state;
    uint8_t out[8];
    size_t n = 0;
    assert_int_equal(eas_base64_decode("Zm8", 3, out, sizeof out, &n), EAS_OK);
    assert_int_equal(n, 2);
    assert_memory_equal(out, "fo", 2);
}

static void small_buffers_report_nomem(void **state)
{
    (void)state;
    char enc[8];
    uint8_t out[5];
    size_t n = 0;
    /* "foobar" needs 8 characters plus the NUL. */
    assert_int_equal(eas_base64_encode((const uint8_t *)"foobar", 6, enc, sizeof enc, &n),
                     EAS_ERR_NOMEM);
    assert_int_equal(eas_base64_decode("Zm9vYmFy", 8, out, sizeof out, &n), EAS_ERR_NOMEM);
    assert_int_equal(eas_base64_encode(NULL, 3, enc, sizeof enc, &n), EAS_ERR_PARAM);
    assert_int_equal(eas_base64_decode(NULL, 3, out, sizeof out, &n), EAS_ERR_PARAM);
}

static void streaming_one_char_at_a_time(void **state)
{
    (void)state;
    const char *s = "Zm9vYmE=";
    uint8_t out[8];
    size_t n = 0;
    eas_base64_dec_t dec;
    eas_base64_dec_init(&dec);
    for (size_t i = 0; i < strlen(s); i++) {
        assert_int_equal(eas_base64_dec_feed(&dec, s + i, 1, out, sizeof out, &n), EAS_OK);
    }
    assert_int_equal(eas_base64_dec_finish(&dec, out, sizeof out, &n), EAS_OK);
    assert_int_equal(n, 5);
    assert_memory_equal(out, "fooba", 5);
    /* errors are sticky */
    eas_base64_dec_init(&dec);
    n = 0;
    assert_int_equal(eas_base64_dec_feed(&dec, "Z*", 2, out, sizeof out, &n), EAS_ERR_FORMAT);
    assert_int_equal(eas_base64_dec_feed(&dec, "Zm9v", 4, out, sizeof out, &n), EAS_ERR_FORMAT);
    assert_int_equal(eas_base64_dec_finish(&dec, out, sizeof out, &n), EAS_ERR_FORMAT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rfc4648_vectors_both_ways),
        cmocka_unit_test(all_byte_values_round_trip),
        cmocka_unit_test(whitespace_is_skipped),
        cmocka_unit_test(malformed_input_is_rejected),
        cmocka_unit_test(unpadded_tail_is_accepted),
        cmocka_unit_test(small_buffers_report_nomem),
        cmocka_unit_test(streaming_one_char_at_a_time),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
