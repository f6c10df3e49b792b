/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The heartbeat's store record "<prefix>.hb": round trip, missing, corrupt (every bit flip
 * of the stored bytes, truncation, a record of another type, an oversized record), store
 * failure, removal by the account wipe.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "eas/eas_err.h"
#include "eas_heartbeat.h"
#include "eas_state.h"
#include "hal/hal_store.h"
#include "test_hal.h"

/* The records of account @p prefix in the test RAM store. */
#define NS(prefix) (&(const eas_state_ns_t){&test_hal()->store, test_hal_log(), (prefix)})

static int setup(void **st)
{
    (void)st;
    test_hal_reset();
    return 0;
}

static void learned(eas_hb_t *hb)
{
    eas_hb_init(hb, 480, 0);
    (void)eas_hb_expired(hb, 480);           /* → 960 */
    (void)eas_hb_dropped(hb, 960, 990);      /* bad 960, back to 480 */
    (void)eas_hb_server_bound(hb, 480, 300); /* the server's maximum: 300 */
}

static void test_roundtrip(void **st)
{
    (void)st;
    eas_hb_t hb, back;
    learned(&hb);
    assert_int_equal(eas_hb_save(&hb, NS("acct0")), EAS_OK);
    eas_hb_init(&back, 480, 0);
    assert_int_equal(eas_hb_load(&back, NS("acct0")), EAS_OK);
    assert_memory_equal(&back, &hb, sizeof(hb));
    /* another account's prefix sees nothing */
    assert_int_equal(eas_hb_load(&back, NS("acct1")), EAS_ERR_STORE_NOT_FOUND);
    /* invalid prefix */
    assert_int_equal(eas_hb_save(&hb, NS("bad prefix")), EAS_ERR_STORE_KEY);
}

static void test_corrupt(void **st)
{
    (void)st;
    eas_hb_t hb, back;
    uint8_t raw[64], bad[64];
    size_t len = 0;
    learned(&hb);
    assert_int_equal(eas_hb_save(&hb, NS("acct0")), EAS_OK);
    assert_int_equal(test_hal_store_get("acct0.hb", raw, sizeof(raw), &len), EAS_OK);
    assert_int_equal(len, EAS_REC_HDR + EAS_HB_REC_LEN);
    /* every single bit flip is caught (header or CRC), the state stays untouched */
    for (size_t i = 0; i < len; i++) {
        for (int b = 0; b < 8; b++) {
            memcpy(bad, raw, len);
            bad[i] ^= (uint8_t)(1u << b);
            assert_int_equal(test_hal_store_put("acct0.hb", bad, len), EAS_OK);
            eas_hb_init(&back, 777, 0);
            assert_int_equal(eas_hb_load(&back, NS("acct0")), EAS_ERR_STORE_CORRUPT);
            assert_int_equal(eas_hb_interval(&back), 777);
        }
    }
    /* truncated */
    assert_int_equal(test_hal_store_put("acct0.hb", raw, len - 1), EAS_OK);
    assert_int_equal(eas_hb_load(&back, NS("acct0")), EAS_ERR_STORE_CORRUPT);
    /* oversized (a valid frame around a longer payload) */
    uint8_t big[EAS_REC_HDR + 40];
    memset(big, 0, sizeof(big));
    assert_int_equal(eas_state_put(NS("acct0"), "acct0.hb", EAS_REC_HEARTBEAT, big, 40), EAS_OK);
    assert_int_equal(eas_hb_load(&back, NS("acct0")), EAS_ERR_STORE_CORRUPT);
    /* a well-framed record of another type */
    memcpy(big + EAS_REC_HDR, raw + EAS_REC_HDR, EAS_HB_REC_LEN);
    assert_int_equal(eas_state_put(NS("acct0"), "acct0.hb", EAS_REC_URL, big, EAS_HB_REC_LEN), EAS_OK);
    assert_int_equal(eas_hb_load(&back, NS("acct0")), EAS_ERR_STORE_CORRUPT);
    /* well framed, inconsistent values (good >= bad) */
    eas_hb_t inc = hb;
    inc.good_s = 1000;
    inc.bad_s = 900;
    assert_int_equal(eas_hb_encode(&inc, big + EAS_REC_HDR, EAS_HB_REC_LEN), EAS_HB_REC_LEN);
    assert_int_equal(eas_state_put(NS("acct0"), "acct0.hb", EAS_REC_HEARTBEAT, big, EAS_HB_REC_LEN), EAS_OK);
    assert_int_equal(eas_hb_load(&back, NS("acct0")), EAS_ERR_STORE_CORRUPT);
    assert_int_equal(eas_hb_interval(&back), 777);
}

static void test_store_failure_and_wipe(void **st)
{
    (void)st;
    eas_hb_t hb, back;
    learned(&hb);
    test_hal_store_fail_after(1);
    assert_int_equal(eas_hb_save(&hb, NS("acct0")), EAS_ERR_STORE);
    assert_int_equal(eas_hb_load(&back, NS("acct0")), EAS_ERR_STORE_NOT_FOUND);
    assert_int_equal(eas_hb_save(&hb, NS("acct0")), EAS_OK);
    assert_int_equal(eas_state_wipe(NS("acct0"), 4, 4), EAS_OK);
    assert_int_equal(eas_hb_load(&back, NS("acct0")), EAS_ERR_STORE_NOT_FOUND);
    assert_int_equal(eas_hb_save(&hb, NS("acct0")), EAS_OK);
    assert_int_equal(eas_hb_del(NS("acct0")), EAS_OK);
    assert_int_equal(eas_hb_load(&back, NS("acct0")), EAS_ERR_STORE_NOT_FOUND);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_roundtrip, setup),
        cmocka_unit_test_setup(test_corrupt, setup),
        cmocka_unit_test_setup(test_store_failure_and_wipe, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
