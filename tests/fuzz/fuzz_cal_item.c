/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Calendar item collector + recurrence expansion from WBXML, as a Sync response delivers
 * items. Input:
 *   [0]     flags: bit 0 the item's container is the root element (else every
 *           AirSync:ApplicationData subtree is an item, as in a Sync response); bit 1 a
 *           device zone (Berlin rules) for items without a blob; bits 2-3 exception array
 *           capacity (0, 1, 4, 64); bits 4-7 decoder chunk size (0 = whole document)
 *   [1..4]  window start relative to the item's start, signed minutes (big endian)
 *   [5..6]  window length in hours
 *   [7..8]  split point, 1/65536ths of the window
 *   [9..]   the WBXML document
 * Every collected item is checked (fuzz_cal_check_item) and expanded over the window in one
 * call and split in two (fuzz_cal_check_expand).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "eas/eas_cal.h"
#include "eas/eas_err.h"
#include "eas/eas_wbxml.h"
#include "fuzz_cal_check.h"

#define HDR 9u

typedef struct ctx {
    eas_cal_item_t item;
    eas_cal_item_parser_t parser;
    eas_cal_exception_t ex[64];
    eas_cal_attendee_t at[4];
    eas_cal_tz_t device_tz;
    const eas_cal_tz_t *dtz;
    uint16_t ex_cap;
    uint16_t item_depth; /* depth of the container being collected; 0 = none */
    uint8_t root_mode;
    int64_t win_off_s;
    int64_t win_len_s;
    uint16_t split;
    unsigned items;
} ctx_t;

static void item_done(ctx_t *c)
{
    int err = eas_cal_item_parser_finish(&c->parser);
    int64_t a;
    int64_t b;

    if (err != EAS_OK) {
        abort(); /* the container was closed: finish must succeed */
    }
    fuzz_cal_check_item(&c->item);
    a = c->item.start;
    a = a < EAS_CAL_TIME_MIN ? EAS_CAL_TIME_MIN : (a > EAS_CAL_TIME_MAX ? EAS_CAL_TIME_MAX : a);
    a += c->win_off_s;
    b = a + c->win_len_s;
    (void)fuzz_cal_check_expand(&c->item, a,
                                a + (int64_t)(((__int128)c->win_len_s * c->split) >> 16), b);
    c->items++;
}

static int on_event(void *user, const eas_wbxml_event_t *ev)
{
    ctx_t *c = user;
    int err;

    if (c->item_depth == 0) {
        bool open = ev->type == EAS_WBXML_EV_START &&
                    (c->root_mode ? ev->depth == 1 : ev->tag == EAS_AIRSYNC_APPLICATION_DATA);
        if (!open || c->items >= 8) {
            return EAS_OK;
        }
        eas_cal_item_init(&c->item, c->ex_cap ? c->ex : NULL, c->ex_cap, c->at, 4);
        eas_cal_item_parser_init(&c->parser, &c->item, c->dtz);
        c->item_depth = ev->depth;
    }
    err = eas_cal_item_parser_event(&c->parser, ev);
    if (err != EAS_OK) {
        abort(); /* a well-formed event stream never makes the collector fail */
    }
    if (ev->type == EAS_WBXML_EV_END && ev->depth == c->item_depth) {
        c->item_depth = 0;
        item_done(c);
    }
    return EAS_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static ctx_t c;
    static const uint16_t caps[4] = {0, 1, 4, 64};
    static const uint8_t berlin[EAS_CAL_TZ_BLOB_LEN] = {
        [0] = 0xC4,   [1] = 0xFF,   [2] = 0xFF,   [3] = 0xFF, /* bias -60 */
        [68] = 0,     [70] = 10,    [72] = 0,     [74] = 5,
        [76] = 3, /* std: Oct last Sun 03:00 */
        [152] = 0,    [154] = 3,    [156] = 0,    [158] = 5,
        [160] = 2,                                               /* dst: Mar last Sun 02:00 */
        [168] = 0xC4, [169] = 0xFF, [170] = 0xFF, [171] = 0xFF}; /* daylight bias -60 */
    eas_wbxml_dec_t dec;
    size_t chunk;
    size_t off = 0;
    int err = EAS_OK;

    if (size < HDR) {
        return 0;
    }
    memset(&c, 0, sizeof(c));
    c.root_mode = data[0] & 1u;
    if (data[0] & 2u) {
        if (eas_cal_tz_parse(berlin, sizeof(berlin), &c.device_tz) != EAS_OK) {
            abort();
        }
        c.dtz = &c.device_tz;
    }
    c.ex_cap = caps[(data[0] >> 2) & 3u];
    chunk = data[0] >> 4;
    c.win_off_s = (int64_t)(int32_t)(((uint32_t)data[1] << 24) | ((uint32_t)data[2] << 16) |
                                     ((uint32_t)data[3] << 8) | data[4]) *
                  60;
    c.win_len_s = (int64_t)(((uint32_t)data[5] << 8) | data[6]) * 3600;
    c.split = (uint16_t)((data[7] << 8) | data[8]);
    data += HDR;
    size -= HDR;
    if (chunk == 0) {
        chunk = size;
    }
    eas_wbxml_dec_init(&dec, on_event, &c);
    while (off < size && err == EAS_OK) {
        size_t n = size - off < chunk ? size - off : chunk;
        err = eas_wbxml_dec_feed(&dec, data + off, n);
        off += n;
    }
    if (err == EAS_OK) {
        (void)eas_wbxml_dec_finish(&dec);
    }
    return 0;
}
