/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The adaptive heartbeat on its own: growth, bounds, drops and hysteresis, server bounds in
 * both directions, the NAT/firewall ceiling and the persisted record (round trip and
 * untrusted input). Networks are modelled as "a connection idle for >= N seconds dies".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "eas/eas_err.h"
#include "eas_heartbeat.h"

/* One Ping on a network that drops connections idle for >= nat_s (0 = never) and a server
   whose range is [srv_min, srv_max] (0 = unbounded). Returns the Ping's outcome:
   1 expired, 5 refused, -1 dropped. */
static int ping_once(eas_hb_t *hb, uint32_t nat_s, uint32_t srv_min, uint32_t srv_max)
{
    uint32_t iv = eas_hb_interval(hb);
    if (srv_min != 0 && iv < srv_min) {
        (void)eas_hb_server_bound(hb, iv, srv_min);
        return 5;
    }
    if (srv_max != 0 && iv > srv_max) {
        (void)eas_hb_server_bound(hb, iv, srv_max);
        return 5;
    }
    if (nat_s != 0 && iv >= nat_s) {
        /* silent drop: noticed when the answer does not come (interval + 30 s) */
        (void)eas_hb_dropped(hb, iv, iv + 30u);
        return -1;
    }
    (void)eas_hb_expired(hb, iv);
    return 1;
}

static void test_start_and_clamp(void **st)
{
    (void)st;
    eas_hb_t hb;
    eas_hb_init(&hb, 480, 0);
    assert_int_equal(eas_hb_interval(&hb), 480);
    assert_int_equal(eas_hb_floor(&hb), EAS_HB_PROTO_MIN_S);
    assert_int_equal(eas_hb_cap(&hb), EAS_HB_PROTO_MAX_S);
    eas_hb_init(&hb, 10, 0);
    assert_int_equal(eas_hb_interval(&hb), EAS_HB_PROTO_MIN_S);
    eas_hb_init(&hb, 100000, 0);
    assert_int_equal(eas_hb_interval(&hb), EAS_HB_PROTO_MAX_S);
    eas_hb_init(&hb, 480, 300);
    assert_int_equal(eas_hb_interval(&hb), 300);
    assert_int_equal(eas_hb_cap(&hb), 300);
}

/* Clean expiries double the interval up to the protocol's 3540 s in four Pings. */
static void test_converges_to_max(void **st)
{
    (void)st;
    eas_hb_t hb;
    const uint32_t want[] = {480, 960, 1920, 3540, 3540, 3540};
    eas_hb_init(&hb, 480, 0);
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        assert_int_equal(eas_hb_interval(&hb), want[i]);
        assert_int_equal(ping_once(&hb, 0, 0, 0), 1);
    }
    assert_true(eas_hb_settled(&hb));
    /* At the cap nothing changes any more: no store write per Ping. */
    assert_false(eas_hb_expired(&hb, 3540));
}

/* A NAT dropping connections idle for 600 s: the interval settles below 600 within a few
   drops and never reaches 600 again over a simulated day. */
static void test_nat_settles_below(void **st)
{
    (void)st;
    eas_hb_t hb;
    uint32_t t = 0;
    int drops = 0, drops_after_settle = 0;
    bool settled = false;
    eas_hb_init(&hb, 480, 0);
    while (t < 24u * 3600u) {
        uint32_t iv = eas_hb_interval(&hb);
        int r = ping_once(&hb, 600, 0, 0);
        t += r == -1 ? iv + 30u : iv;
        if (r == -1) {
            drops++;
            drops_after_settle += settled ? 1 : 0;
        }
        settled = settled || eas_hb_settled(&hb);
    }
    assert_true(settled);
    assert_int_equal(drops_after_settle, 0);
    assert_true(drops <= 4);
    assert_true(eas_hb_interval(&hb) < 600);
    assert_true(eas_hb_interval(&hb) >= 600 - 2 * EAS_HB_RESOLUTION_S);
}

/* Every NAT timeout from 90 s to 3540 s: settles strictly below it, close to it, with few
   drops, and never drops once settled (no oscillation past the learned value). */
static void test_nat_sweep(void **st)
{
    (void)st;
    for (uint32_t nat = 90; nat <= 3540; nat += 37) {
        eas_hb_t hb;
        int drops = 0, late = 0;
        eas_hb_init(&hb, 480, 0);
        for (int i = 0; i < 300; i++) {
            bool was_settled = eas_hb_settled(&hb);
            if (ping_once(&hb, nat, 0, 0) == -1) {
                drops++;
                late += was_settled ? 1 : 0;
            }
        }
        uint32_t iv = eas_hb_interval(&hb);
        assert_true(iv < nat);
        /* close to the limit: within the bisection's resolution plus its 10 s rounding */
        assert_true(nat - iv <= 2 * EAS_HB_RESOLUTION_S + 10 || iv == EAS_HB_PROTO_MIN_S);
        assert_int_equal(late, 0);
        assert_true(drops <= 8);
    }
}

/* Status 5 in both directions: asked too long → the server's maximum; too short → its
   minimum (Zimbra: 300 s). Growth never leaves the range again. */
static void test_status5_max(void **st)
{
    (void)st;
    eas_hb_t hb;
    int refusals = 0;
    eas_hb_init(&hb, 480, 0);
    for (int i = 0; i < 20; i++) {
        refusals += ping_once(&hb, 0, 0, 1800) == 5;
    }
    assert_int_equal(refusals, 1);
    assert_int_equal(hb.srv_max_s, 1800);
    assert_int_equal(eas_hb_interval(&hb), 1800);
    assert_int_equal(eas_hb_cap(&hb), 1800);
}

static void test_status5_min(void **st)
{
    (void)st;
    eas_hb_t hb;
    eas_hb_init(&hb, 120, 0);
    assert_true(eas_hb_server_bound(&hb, 120, 300));
    assert_int_equal(hb.srv_min_s, 300);
    assert_int_equal(eas_hb_interval(&hb), 300);
    assert_int_equal(eas_hb_floor(&hb), 300);
    /* drops never take it below the server's minimum */
    for (int i = 0; i < 10; i++) {
        (void)eas_hb_dropped(&hb, eas_hb_interval(&hb), eas_hb_interval(&hb) + 30);
        assert_true(eas_hb_interval(&hb) >= 300);
    }
}

static void test_status5_nothing_new(void **st)
{
    (void)st;
    eas_hb_t hb;
    eas_hb_init(&hb, 480, 0);
    assert_false(eas_hb_server_bound(&hb, 480, 480)); /* same value: no new information */
    assert_false(eas_hb_server_bound(&hb, 480, 0));
    assert_false(eas_hb_server_bound(&hb, 480, 1000000));
    assert_int_equal(eas_hb_interval(&hb), 480);
    /* contradicting answers: the newer one wins, the range stays consistent */
    assert_true(eas_hb_server_bound(&hb, 480, 900)); /* min 900 */
    assert_true(eas_hb_server_bound(&hb, 900, 600)); /* max 600: min 900 forgotten */
    assert_int_equal(hb.srv_max_s, 600);
    assert_int_equal(hb.srv_min_s, 0);
    assert_int_equal(eas_hb_interval(&hb), 600);
}

/* The configured ceiling is never exceeded; the server's minimum wins over it. */
static void test_ceiling(void **st)
{
    (void)st;
    eas_hb_t hb;
    eas_hb_init(&hb, 480, 1200);
    for (int i = 0; i < 10; i++) {
        assert_true(eas_hb_interval(&hb) <= 1200);
        (void)ping_once(&hb, 0, 0, 0);
    }
    assert_int_equal(eas_hb_interval(&hb), 1200);
    eas_hb_set_ceiling(&hb, 700);
    assert_int_equal(eas_hb_interval(&hb), 700);
    (void)eas_hb_server_bound(&hb, 700, 900); /* server minimum above the ceiling */
    assert_int_equal(eas_hb_interval(&hb), 900);
}

/* A drop below the proven interval is transient; repeated ones forget the learned value. */
static void test_transient_and_forget(void **st)
{
    (void)st;
    eas_hb_t hb;
    eas_hb_init(&hb, 480, 0);
    for (int i = 0; i < 5; i++) {
        (void)ping_once(&hb, 0, 0, 0);
    }
    assert_int_equal(eas_hb_interval(&hb), 3540);
    assert_int_equal(hb.good_s, 3540);
    /* early drops (server restart) say nothing */
    assert_false(eas_hb_dropped(&hb, 3540, 5));
    assert_int_equal(eas_hb_interval(&hb), 3540);
    /* one or two drops at the proven value: transient */
    assert_false(eas_hb_dropped(&hb, 3540, 3570));
    assert_false(eas_hb_dropped(&hb, 3540, 3570));
    assert_int_equal(eas_hb_interval(&hb), 3540);
    /* a clean expiry in between resets the count */
    assert_false(eas_hb_expired(&hb, 3540));
    assert_false(eas_hb_dropped(&hb, 3540, 3570));
    assert_false(eas_hb_dropped(&hb, 3540, 3570));
    assert_true(eas_hb_dropped(&hb, 3540, 3570));
    assert_int_equal(hb.good_s, 0);
    assert_int_equal(hb.bad_s, 3540);
    assert_int_equal(eas_hb_interval(&hb), 1770);
}

/* A reset seen before the interval ended: the idle time at the reset is what failed. */
static void test_drop_with_reset(void **st)
{
    (void)st;
    eas_hb_t hb;
    eas_hb_init(&hb, 480, 0);
    (void)ping_once(&hb, 0, 0, 0); /* 480 survived → 960 */
    assert_true(eas_hb_dropped(&hb, 960, 700));
    assert_int_equal(hb.bad_s, 700);
    assert_int_equal(eas_hb_interval(&hb), 480);
    /* the very first Ping dropped: half of it */
    eas_hb_init(&hb, 480, 0);
    assert_true(eas_hb_dropped(&hb, 480, 510));
    assert_int_equal(eas_hb_interval(&hb), 240);
}

/* Status 2 after a long idle proves survival (raises good_s) without growing the interval;
   surviving at or past a recorded drop disproves the drop. */
static void test_alive(void **st)
{
    (void)st;
    eas_hb_t hb;
    eas_hb_init(&hb, 480, 0);
    (void)ping_once(&hb, 0, 0, 0);        /* → 960 */
    (void)eas_hb_dropped(&hb, 960, 990);  /* bad 960, back to 480 */
    assert_false(eas_hb_alive(&hb, 400)); /* not more than 480: good stays 480 */
    assert_int_equal(hb.good_s, 480);
    assert_int_equal(eas_hb_interval(&hb), 480);
    hb.interval_s = 960;
    assert_true(eas_hb_alive(&hb, 960)); /* survived the "bad" value: it was transient */
    assert_int_equal(hb.bad_s, 0);
    assert_int_equal(hb.good_s, 960);
}

/* Random event sequences: the interval always stays in [floor, cap], good < bad holds and
   the record round-trips. */
static void test_random_invariants(void **st)
{
    (void)st;
    uint32_t s = 12345;
    for (int run = 0; run < 200; run++) {
        eas_hb_t hb;
        s = s * 1103515245u + 12345u;
        eas_hb_init(&hb, 60 + (s >> 8) % 4000, (s >> 4) % 3 ? 0 : 120 + (s >> 12) % 3000);
        for (int i = 0; i < 200; i++) {
            uint32_t iv = eas_hb_interval(&hb);
            s = s * 1103515245u + 12345u;
            switch ((s >> 16) % 5) {
            case 0:
                (void)eas_hb_expired(&hb, iv);
                break;
            case 1:
                (void)eas_hb_alive(&hb, (s >> 3) % (iv + 1));
                break;
            case 2:
                (void)eas_hb_dropped(&hb, iv, (s >> 5) % (iv + 60));
                break;
            case 3:
                (void)eas_hb_server_bound(&hb, iv, 30 + (s >> 7) % 4000);
                break;
            default:
                eas_hb_set_ceiling(&hb, (s >> 9) % 2 ? 0 : 100 + (s >> 11) % 3000);
                break;
            }
            iv = eas_hb_interval(&hb);
            assert_true(iv >= eas_hb_floor(&hb));
            assert_true(iv <= eas_hb_cap(&hb));
            assert_true(iv > 0 && iv <= 86400);
            assert_true(hb.bad_s == 0 || hb.good_s < hb.bad_s);
            assert_true(hb.srv_min_s == 0 || hb.srv_max_s == 0 || hb.srv_min_s <= hb.srv_max_s);
            uint8_t rec[EAS_HB_REC_LEN];
            eas_hb_t back;
            eas_hb_init(&back, 480, hb.ceiling_s);
            assert_int_equal(eas_hb_encode(&hb, rec, sizeof(rec)), EAS_HB_REC_LEN);
            assert_int_equal(eas_hb_decode(&back, rec, sizeof(rec)), EAS_OK);
            assert_int_equal(back.interval_s, hb.interval_s);
            assert_int_equal(back.good_s, hb.good_s);
            assert_int_equal(back.bad_s, hb.bad_s);
            assert_int_equal(back.srv_min_s, hb.srv_min_s);
            assert_int_equal(back.srv_max_s, hb.srv_max_s);
        }
    }
}

/* Restart: the learned interval resumes exactly; a changed ceiling applies to it. */
static void test_record_resume(void **st)
{
    (void)st;
    eas_hb_t hb, back;
    uint8_t rec[EAS_HB_REC_LEN];
    eas_hb_init(&hb, 480, 0);
    for (int i = 0; i < 20; i++) {
        (void)ping_once(&hb, 600, 0, 0);
    }
    assert_int_equal(eas_hb_encode(&hb, rec, sizeof(rec) - 1), 0);
    assert_int_equal(eas_hb_encode(&hb, rec, sizeof(rec)), EAS_HB_REC_LEN);
    eas_hb_init(&back, 480, 0);
    assert_int_equal(eas_hb_decode(&back, rec, sizeof(rec)), EAS_OK);
    assert_int_equal(eas_hb_interval(&back), eas_hb_interval(&hb));
    assert_true(eas_hb_settled(&back));
    /* the resumed state does not probe past the drop again */
    for (int i = 0; i < 50; i++) {
        assert_int_equal(ping_once(&back, 600, 0, 0), 1);
    }
    eas_hb_init(&back, 480, 300);
    assert_int_equal(eas_hb_decode(&back, rec, sizeof(rec)), EAS_OK);
    assert_int_equal(eas_hb_interval(&back), 300);
}

/* Untrusted records: wrong length, format, values out of range or inconsistent → corrupt,
   and the state is left as it was. */
static void test_record_corrupt(void **st)
{
    (void)st;
    eas_hb_t hb, back;
    uint8_t rec[EAS_HB_REC_LEN], bad[EAS_HB_REC_LEN];
    eas_hb_init(&hb, 480, 0);
    (void)ping_once(&hb, 0, 0, 0);
    (void)eas_hb_dropped(&hb, 960, 990);
    (void)eas_hb_encode(&hb, rec, sizeof(rec));
    eas_hb_init(&back, 777, 0);

    assert_int_equal(eas_hb_decode(&back, rec, sizeof(rec) - 1), EAS_ERR_STORE_CORRUPT);
    memcpy(bad, rec, sizeof(rec));
    bad[0] = 9; /* unknown format */
    assert_int_equal(eas_hb_decode(&back, bad, sizeof(bad)), EAS_ERR_STORE_CORRUPT);
    memcpy(bad, rec, sizeof(rec));
    memset(bad + 1, 0, 4); /* interval 0 */
    assert_int_equal(eas_hb_decode(&back, bad, sizeof(bad)), EAS_ERR_STORE_CORRUPT);
    memcpy(bad, rec, sizeof(rec));
    bad[4] = 0x7f; /* interval huge */
    assert_int_equal(eas_hb_decode(&back, bad, sizeof(bad)), EAS_ERR_STORE_CORRUPT);
    memcpy(bad, rec, sizeof(rec));
    memcpy(bad + 5, bad + 9, 4); /* good == bad */
    assert_int_equal(eas_hb_decode(&back, bad, sizeof(bad)), EAS_ERR_STORE_CORRUPT);
    memcpy(bad, rec, sizeof(rec));
    bad[13] = 0x10; /* srv_min 16 ... */
    bad[14] = 0x0e; /* ... 3600 > srv_max 1000 */
    bad[17] = 0xe8;
    bad[18] = 0x03;
    assert_int_equal(eas_hb_decode(&back, bad, sizeof(bad)), EAS_ERR_STORE_CORRUPT);
    assert_int_equal(eas_hb_interval(&back), 777);
    assert_int_equal(back.good_s, 0);
    /* every single-byte flip of the fields is either rejected or yields a consistent state */
    for (size_t i = 0; i < sizeof(rec); i++) {
        for (int b = 0; b < 8; b++) {
            memcpy(bad, rec, sizeof(rec));
            bad[i] ^= (uint8_t)(1u << b);
            eas_hb_init(&back, 480, 0);
            if (eas_hb_decode(&back, bad, sizeof(bad)) == EAS_OK) {
                assert_true(back.interval_s >= eas_hb_floor(&back));
                assert_true(back.interval_s <= eas_hb_cap(&back));
                assert_true(back.bad_s == 0 || back.good_s < back.bad_s);
            }
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_start_and_clamp),
        cmocka_unit_test(test_converges_to_max),
        cmocka_unit_test(test_nat_settles_below),
        cmocka_unit_test(test_nat_sweep),
        cmocka_unit_test(test_status5_max),
        cmocka_unit_test(test_status5_min),
        cmocka_unit_test(test_status5_nothing_new),
        cmocka_unit_test(test_ceiling),
        cmocka_unit_test(test_transient_and_forget),
        cmocka_unit_test(test_drop_with_reset),
        cmocka_unit_test(test_alive),
        cmocka_unit_test(test_random_invariants),
        cmocka_unit_test(test_record_resume),
        cmocka_unit_test(test_record_corrupt),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
