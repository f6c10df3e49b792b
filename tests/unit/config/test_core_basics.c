/* SPDX-License-Identifier: Apache-2.0 */
/* Arena, error text and logging: the pieces every module stands on. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "eas/eas_arena.h"
#include "eas/eas_config_defaults.h"
#include "eas/eas_err.h"
#include "eas_log.h"
#include "test_hal.h"

static void arena_bumps_aligns_and_exhausts(void **state)
{
    (void)state;
    uint8_t mem[100];
    eas_arena_t a;
    eas_arena_init(&a, mem + 1, 64); /* deliberately misaligned base */
    uint32_t *p = eas_arena_alloc(&a, 8, 4);
    assert_non_null(p);
    assert_int_equal((uintptr_t)p % 4, 0);
    size_t mark = eas_arena_mark(&a);
    assert_non_null(eas_arena_alloc(&a, 40, 8));
    assert_null(eas_arena_alloc(&a, 40, 1)); /* would overflow 64 */
    size_t peak = a.peak;
    eas_arena_release(&a, mark);
    assert_int_equal(a.used, mark);
    assert_non_null(eas_arena_alloc(&a, 40, 1));
    eas_arena_reset(&a);
    assert_int_equal(a.used, 0);
    assert_true(a.peak >= peak);
    assert_null(eas_arena_alloc(&a, SIZE_MAX, 1)); /* no wrap-around */
}

static void strerror_knows_every_code(void **state)
{
    (void)state;
#if !CONFIG_EAS_ERR_MESSAGES || !CONFIG_EAS_ERR_NAMES
    /* Codes only: one text / name for failure, one for success. */
    assert_string_equal(eas_strerror(EAS_OK), "success");
#if !CONFIG_EAS_ERR_MESSAGES
    assert_string_equal(eas_strerror(EAS_ERR_TLS_CERT_HOSTNAME), "error");
#endif
#if !CONFIG_EAS_ERR_NAMES
    assert_string_equal(eas_err_name(EAS_ERR_TLS_CERT_HOSTNAME), "EAS_ERR");
#else
    assert_string_equal(eas_err_name(EAS_ERR_TLS_CERT_HOSTNAME), "EAS_ERR_TLS_CERT_HOSTNAME");
#endif
    return;
#endif
    assert_string_equal(eas_strerror(EAS_OK), "success");
    assert_string_equal(eas_err_name(EAS_ERR_TLS_CERT_HOSTNAME), "EAS_ERR_TLS_CERT_HOSTNAME");
    assert_string_equal(eas_strerror(-9999), "unknown error");
    assert_string_equal(eas_err_name(1), "EAS_ERR_UNKNOWN");
#define CHECK_(name, value, text)                                                                  \
    assert_true((value) <= 0);                                                                     \
    assert_string_equal(eas_strerror(value), text);                                                \
    assert_string_equal(eas_err_name(value), #name);
    EAS_ERR_LIST(CHECK_)
#undef CHECK_
}

static void log_truncates_and_filters(void **state)
{
    (void)state;
    char big[600];
    test_hal_reset();
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    EAS_LOGE(test_hal_log(), "test", "long %s", big);
    assert_int_equal(test_hal_log_count(HAL_LOG_ERROR), CONFIG_EAS_LOG_LEVEL >= 1 ? 1 : 0);
#if CONFIG_EAS_LOG_LEVEL >= 1
    /* module + ": " + at most LINE_MAX-1 bytes + "\n" */
    assert_true(strlen(test_hal_log_text()) <= strlen("test: ") + CONFIG_EAS_LOG_LINE_MAX);
#endif
    int evaluated = 0;
    EAS_LOGD(test_hal_log(), "test", "%d", ++evaluated);
    assert_int_equal(evaluated, CONFIG_EAS_LOG_LEVEL >= 4 ? 1 : 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(arena_bumps_aligns_and_exhausts),
        cmocka_unit_test(strerror_knows_every_code),
        cmocka_unit_test(log_truncates_and_filters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
