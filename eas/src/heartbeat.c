/* SPDX-License-Identifier: Apache-2.0 */
/* The adaptive Ping heartbeat (see eas_heartbeat.h for the rules). */
#include <string.h>

#include "eas/eas_err.h"
#include "eas_heartbeat.h"

/* Persisted form: format byte, then five u32 LE. */
#define HB_FORMAT 1u
/* Largest value a persisted field may hold: a day (anything more is not a heartbeat). */
#define HB_FIELD_MAX 86400u

uint32_t eas_hb_cap(const eas_hb_t *hb)
{
    uint32_t cap = EAS_HB_PROTO_MAX_S;
    if (hb->srv_max_s != 0 && hb->srv_max_s < cap) {
        cap = hb->srv_max_s;
    }
    if (hb->ceiling_s != 0 && hb->ceiling_s < cap) {
        cap = hb->ceiling_s;
    }
    /* A Ping below the server's minimum is refused every time, one above a NAT ceiling may
       still get through: the server's minimum wins over the ceiling. */
    if (hb->srv_min_s > cap) {
        cap = hb->srv_min_s;
    }
    return cap;
}

uint32_t eas_hb_floor(const eas_hb_t *hb)
{
    uint32_t fl = hb->srv_min_s != 0 ? hb->srv_min_s : EAS_HB_PROTO_MIN_S;
    uint32_t cap = eas_hb_cap(hb);
    return fl > cap ? cap : fl;
}

static uint32_t clamp(const eas_hb_t *hb, uint32_t v)
{
    uint32_t fl = eas_hb_floor(hb);
    uint32_t cap = eas_hb_cap(hb);
    return v < fl ? fl : v > cap ? cap : v;
}

void eas_hb_init(eas_hb_t *hb, uint32_t start_s, uint32_t ceiling_s)
{
    memset(hb, 0, sizeof(*hb));
    hb->ceiling_s = ceiling_s;
    hb->interval_s = clamp(hb, start_s);
}

void eas_hb_set_ceiling(eas_hb_t *hb, uint32_t ceiling_s)
{
    hb->ceiling_s = ceiling_s;
    hb->interval_s = clamp(hb, hb->interval_s);
}

uint32_t eas_hb_interval(const eas_hb_t *hb)
{
    return hb->interval_s;
}

/* The next interval to try after a success at the current one. */
static uint32_t next_probe(const eas_hb_t *hb)
{
    uint32_t base = hb->good_s > hb->interval_s ? hb->good_s : hb->interval_s;
    uint32_t next;

    if (hb->bad_s == 0) {
        next = base > UINT32_MAX / 2 ? UINT32_MAX : base * 2u;
    } else if (hb->bad_s > base + EAS_HB_RESOLUTION_S) {
        /* Bisect between what survived and what was dropped, in whole 10 s steps. */
        next = base + (hb->bad_s - base) / 2u;
        next -= next % 10u;
        if (next <= base) {
            next = base;
        }
    } else {
        next = base; /* settled just below the dropped interval */
    }
    return clamp(hb, next);
}

bool eas_hb_settled(const eas_hb_t *hb)
{
    return hb->good_s >= hb->interval_s && next_probe(hb) == hb->interval_s;
}

/* Record that @p s survived; a survival at or above a recorded drop disproves the drop. */
static bool survived(eas_hb_t *hb, uint32_t s)
{
    bool changed = false;
    hb->drops = 0;
    if (s > hb->good_s) {
        hb->good_s = s;
        changed = true;
    }
    if (hb->bad_s != 0 && hb->good_s >= hb->bad_s) {
        hb->bad_s = 0;
        changed = true;
    }
    return changed;
}

bool eas_hb_expired(eas_hb_t *hb, uint32_t interval_s)
{
    bool changed = survived(hb, interval_s);
    uint32_t next = next_probe(hb);
    if (next != hb->interval_s) {
        hb->interval_s = next;
        changed = true;
    }
    return changed;
}

bool eas_hb_alive(eas_hb_t *hb, uint32_t survived_s)
{
    /* Status 2 after only a few seconds proves little; it is still a survival. */
    if (survived_s > hb->interval_s) {
        survived_s = hb->interval_s;
    }
    return survived(hb, survived_s);
}

bool eas_hb_dropped(eas_hb_t *hb, uint32_t interval_s, uint32_t elapsed_s)
{
    /* The idle time that killed the connection: at most the interval (a silent drop is only
       noticed after it, when no answer came). */
    uint32_t at = elapsed_s < interval_s ? elapsed_s : interval_s;

    if (at < EAS_HB_PROTO_MIN_S) {
        return false; /* the server went away, not the idle connection */
    }
    if (at > hb->good_s) {
        hb->drops = 0;
        if (hb->bad_s == 0 || at < hb->bad_s) {
            hb->bad_s = at;
        }
        hb->interval_s = clamp(hb, hb->good_s != 0 ? hb->good_s : at / 2u);
        return true;
    }
    /* Below what survived before: transient, unless it keeps happening. */
    if (++hb->drops < EAS_HB_DROPS_FORGET) {
        return false;
    }
    hb->drops = 0;
    hb->good_s = 0;
    hb->bad_s = at;
    hb->interval_s = clamp(hb, at / 2u);
    return true;
}

bool eas_hb_server_bound(eas_hb_t *hb, uint32_t requested_s, uint32_t server_s)
{
    uint32_t old_min = hb->srv_min_s, old_max = hb->srv_max_s, old_iv = hb->interval_s;

    if (server_s == 0 || server_s == requested_s || server_s > HB_FIELD_MAX) {
        return false;
    }
    if (server_s > requested_s) {
        hb->srv_min_s = server_s;
        if (hb->srv_max_s != 0 && hb->srv_max_s < server_s) {
            hb->srv_max_s = 0; /* contradicted: the newer answer wins */
        }
    } else {
        hb->srv_max_s = server_s;
        if (hb->srv_min_s > server_s) {
            hb->srv_min_s = 0;
        }
    }
    hb->interval_s = clamp(hb, server_s);
    return hb->srv_min_s != old_min || hb->srv_max_s != old_max || hb->interval_s != old_iv;
}

static void put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

size_t eas_hb_encode(const eas_hb_t *hb, uint8_t *buf, size_t cap)
{
    if (cap < EAS_HB_REC_LEN) {
        return 0;
    }
    buf[0] = HB_FORMAT;
    put_u32(buf + 1, hb->interval_s);
    put_u32(buf + 5, hb->good_s);
    put_u32(buf + 9, hb->bad_s);
    put_u32(buf + 13, hb->srv_min_s);
    put_u32(buf + 17, hb->srv_max_s);
    return EAS_HB_REC_LEN;
}

int eas_hb_decode(eas_hb_t *hb, const uint8_t *buf, size_t len)
{
    eas_hb_t t;

    if (len != EAS_HB_REC_LEN || buf[0] != HB_FORMAT) {
        return EAS_ERR_STORE_CORRUPT;
    }
    memset(&t, 0, sizeof(t));
    t.interval_s = get_u32(buf + 1);
    t.good_s = get_u32(buf + 5);
    t.bad_s = get_u32(buf + 9);
    t.srv_min_s = get_u32(buf + 13);
    t.srv_max_s = get_u32(buf + 17);
    t.ceiling_s = hb->ceiling_s;
    if (t.interval_s == 0 || t.interval_s > HB_FIELD_MAX || t.good_s > HB_FIELD_MAX ||
        t.bad_s > HB_FIELD_MAX || t.srv_min_s > HB_FIELD_MAX || t.srv_max_s > HB_FIELD_MAX ||
        (t.bad_s != 0 && t.good_s >= t.bad_s) ||
        (t.srv_min_s != 0 && t.srv_max_s != 0 && t.srv_min_s > t.srv_max_s)) {
        return EAS_ERR_STORE_CORRUPT;
    }
    /* The ceiling may have changed since: the learned values stay, the interval obeys it. */
    t.interval_s = clamp(&t, t.interval_s);
    *hb = t;
    return EAS_OK;
}
