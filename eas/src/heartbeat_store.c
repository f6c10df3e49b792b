/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The heartbeat's persisted record "<prefix>.hb" (framed like every engine record, see
 * eas_state.h): learned values survive restarts. Written only when they change, so a
 * settled heartbeat costs no store writes.
 */
#include "eas/eas_err.h"
#include "eas_heartbeat.h"
#include "eas_state.h"

int eas_hb_save(const eas_hb_t *hb, const eas_state_ns_t *ns)
{
    char key[EAS_STATE_KEY_CAP];
    uint8_t buf[EAS_REC_HDR + EAS_HB_REC_LEN];
    int err = eas_state_key(key, sizeof(key), ns->prefix, "hb");

    if (err != EAS_OK) {
        return err;
    }
    size_t n = eas_hb_encode(hb, buf + EAS_REC_HDR, sizeof(buf) - EAS_REC_HDR);
    return eas_state_put(ns, key, EAS_REC_HEARTBEAT, buf, n);
}

int eas_hb_load(eas_hb_t *hb, const eas_state_ns_t *ns)
{
    char key[EAS_STATE_KEY_CAP];
    /* room for one byte more than a valid record, so an oversized one is seen as corrupt */
    uint8_t buf[EAS_REC_HDR + EAS_HB_REC_LEN + 1];
    const uint8_t *pl = NULL;
    size_t len = 0;
    int err = eas_state_key(key, sizeof(key), ns->prefix, "hb");

    if (err == EAS_OK) {
        err = eas_state_get(ns, key, EAS_REC_HEARTBEAT, buf, sizeof(buf), &pl, &len);
    }
    if (err == EAS_ERR_NOMEM) {
        err = EAS_ERR_STORE_CORRUPT;
    }
    if (err == EAS_OK) {
        err = eas_hb_decode(hb, pl, len);
    }
    return err;
}

int eas_hb_del(const eas_state_ns_t *ns)
{
    char key[EAS_STATE_KEY_CAP];
    int err = eas_state_key(key, sizeof(key), ns->prefix, "hb");
    return err == EAS_OK ? ns->store->del(ns->store->ctx, key) : err;
}
