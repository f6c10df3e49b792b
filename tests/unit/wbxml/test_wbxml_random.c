/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Seeded random documents: the generator writes a random tree with our encoder and keeps
 * the expected canonical form; libwbxml and our decoder (in random chunks) must both
 * decode the document to exactly that. EASD_WBXML_SEED / EASD_WBXML_DOCS override the seed
 * and the count (defaults are fixed, so runs are reproducible).
 */
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

static uint64_t g_rng;

static uint32_t rnd(void)
{
    /* xorshift64*: small, seedable, good enough for test data */
    g_rng ^= g_rng >> 12;
    g_rng ^= g_rng << 25;
    g_rng ^= g_rng >> 27;
    return (uint32_t)((g_rng * 0x2545F4914F6CDD1DULL) >> 32);
}

static uint16_t g_tags[1024];
static size_t g_ntags;

/* Tags both codecs know (libwbxml 0.11.8 lacks page 25 and a few 16.1 tokens). */
static void collect_tags(void)
{
    const wbxml_ref_tag_t *t = wbxml_ref_tags();
    g_ntags = 0;
    for (; t->name != NULL && g_ntags < 1024; t++) {
        uint16_t tag = EAS_TAG(t->page, t->token);
        bool dup = false;
        for (size_t i = 0; i < g_ntags; i++) {
            dup = dup || g_tags[i] == tag;
        }
        if (!dup && eas_wbxml_tag_known(tag)) {
            g_tags[g_ntags++] = tag;
        }
    }
}

typedef struct gen {
    eas_wbxml_enc_t enc;
    uint8_t buf[32];
    uint8_t *out;
    size_t out_len, out_cap;
    char *want; /* expected canonical form */
    size_t want_len, want_cap;
    size_t elements;
} gen_t;

static int gen_flush(void *user, const uint8_t *d, size_t n)
{
    gen_t *g = user;
    if (g->out_len + n > g->out_cap) {
        g->out_cap = (g->out_len + n) * 2;
        g->out = realloc(g->out, g->out_cap);
    }
    memcpy(g->out + g->out_len, d, n);
    g->out_len += n;
    return EAS_OK;
}

static void want(gen_t *g, const char *s, size_t n)
{
    if (g->want_len + n + 1 > g->want_cap) {
        g->want_cap = (g->want_len + n + 1) * 2;
        g->want = realloc(g->want, g->want_cap);
    }
    memcpy(g->want + g->want_len, s, n);
    g->want_len += n;
    g->want[g->want_len] = '\0';
}

static void want_hex(gen_t *g, const uint8_t *d, size_t n)
{
    char b[3];
    want(g, "T ", 2);
    for (size_t i = 0; i < n; i++) {
        snprintf(b, sizeof(b), "%02x", d[i]);
        want(g, b, 2);
    }
    want(g, "\n", 1);
}

/* Random valid UTF-8 without NUL: ASCII mostly, some 2-, 3- and 4-byte sequences. */
static size_t rnd_text(uint8_t *t, size_t max)
{
    size_t n = 0, target = 1 + rnd() % max;
    while (n + 4 <= target) {
        uint32_t k = rnd() % 16;
        if (k < 12) {
            t[n++] = (uint8_t)(0x20 + rnd() % 95);
        } else if (k < 14) {
            uint32_t cp = 0x80 + rnd() % 0x780;
            t[n++] = (uint8_t)(0xC0 | (cp >> 6));
            t[n++] = (uint8_t)(0x80 | (cp & 0x3F));
        } else if (k < 15) {
            uint32_t cp = 0x800 + rnd() % 0xC800; /* below the surrogates */
            t[n++] = (uint8_t)(0xE0 | (cp >> 12));
            t[n++] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
            t[n++] = (uint8_t)(0x80 | (cp & 0x3F));
        } else {
            uint32_t cp = 0x10000 + rnd() % 0x100000;
            t[n++] = (uint8_t)(0xF0 | (cp >> 18));
            t[n++] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
            t[n++] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
            t[n++] = (uint8_t)(0x80 | (cp & 0x3F));
        }
    }
    if (n == 0) {
        t[n++] = 'x';
    }
    return n;
}

static void gen_elem(gen_t *g, unsigned depth, unsigned max_depth)
{
    uint16_t tag = g_tags[rnd() % g_ntags];
    char line[16];
    static uint8_t data[CONFIG_EAS_WBXML_MAX_STRING < 600 ? CONFIG_EAS_WBXML_MAX_STRING : 600];

    snprintf(line, sizeof(line), "S %04x\n", tag);
    want(g, line, strlen(line));
    g->elements++;
    assert_int_equal(eas_wbxml_enc_start(&g->enc, tag), EAS_OK);
    uint32_t kind = rnd() % 10;
    if (depth >= max_depth || g->elements > 400) {
        kind = kind % 4; /* leaves only */
    }
    if (kind == 0) {
        /* empty element */
    } else if (kind == 1 || kind == 2) {
        size_t n = rnd_text(data, sizeof(data));
        assert_int_equal(eas_wbxml_enc_text(&g->enc, (const char *)data, n), EAS_OK);
        want_hex(g, data, n);
    } else if (kind == 3) {
        size_t n = rnd() % sizeof(data);
        for (size_t i = 0; i < n; i++) {
            data[i] = (uint8_t)rnd();
        }
        if (rnd() % 2) {
            assert_int_equal(eas_wbxml_enc_opaque(&g->enc, data, n), EAS_OK);
        } else {
            size_t half = n / 2;
            assert_int_equal(eas_wbxml_enc_opaque_begin(&g->enc, (uint32_t)n), EAS_OK);
            assert_int_equal(eas_wbxml_enc_opaque_piece(&g->enc, data, half), EAS_OK);
            assert_int_equal(eas_wbxml_enc_opaque_piece(&g->enc, data + half, n - half), EAS_OK);
        }
        if (n > 0) {
            want_hex(g, data, n);
        }
    } else {
        unsigned kids = 1 + rnd() % 5;
        for (unsigned i = 0; i < kids; i++) {
            gen_elem(g, depth + 1, max_depth);
        }
    }
    assert_int_equal(eas_wbxml_enc_end(&g->enc), EAS_OK);
    want(g, "E\n", 2);
}

static void test_random_round_trips(void **state)
{
    (void)state;
    const char *s = getenv("EASD_WBXML_SEED");
    const char *d = getenv("EASD_WBXML_DOCS");
    uint64_t seed = s ? strtoull(s, NULL, 0) : 0x5EED2024ULL;
    unsigned docs = d ? (unsigned)strtoul(d, NULL, 0) : 3000;
    size_t bytes = 0;

    collect_tags();
    assert_true(g_ntags > 600);
    g_rng = seed ? seed : 1;
    for (unsigned i = 0; i < docs; i++) {
        gen_t g;
        wbxml_canon_t ours, ref;
        memset(&g, 0, sizeof(g));
        eas_wbxml_enc_init(&g.enc, g.buf, sizeof(g.buf), gen_flush, &g);
        want(&g, "", 0);
        gen_elem(&g, 1, 2 + rnd() % (CONFIG_EAS_WBXML_MAX_DEPTH - 2));
        assert_int_equal(eas_wbxml_enc_finish(&g.enc), EAS_OK);
        assert_int_equal(eas_wbxml_enc_total(&g.enc), g.out_len);
        bytes += g.out_len;

        size_t chunk = (rnd() % 4 == 0) ? 1 + rnd() % 7 : 0;
        int e1 = wbxml_ours_canon(g.out, g.out_len, chunk, &ours);
        int e2 = wbxml_ref_canon(g.out, g.out_len, &ref);
        if (e1 != EAS_OK || e2 != 0 || strcmp(ours.s, g.want) != 0 || strcmp(ref.s, g.want) != 0) {
            fail_msg("seed 0x%llx doc %u: ours %s, libwbxml %d, ours==want %d, ref==want %d",
                     (unsigned long long)seed, i, eas_err_name(e1), e2, strcmp(ours.s, g.want) == 0,
                     strcmp(ref.s, g.want) == 0);
        }
        wbxml_canon_free(&ours);
        wbxml_canon_free(&ref);
        free(g.out);
        free(g.want);
    }
    print_message("random documents: %u (seed 0x%llx, %zu bytes), all equal in both decoders\n",
                  docs, (unsigned long long)seed, bytes);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_round_trips),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
