/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Settings DeviceInformation: the device describes itself (model, name, OS, language,
 * User-Agent) once per account, after provisioning and before the first FolderSync
 * (MS-ASCMD 3.1.5.2); some servers refuse everything else until it arrives (common status
 * 165). What was accepted is remembered as a hash of the values in "<prefix>.devinfo", so it
 * is sent again only when a value changes (a firmware update with a new OS string).
 *
 * No loops: a refusal, or a few failed attempts, end it for this run (sync goes on without
 * it, reported); a 165 from another command sends it once more per run, and a second 165
 * stops the account (EAS_STATE_BLOCKED) - the server then refuses everything anyway.
 */
#include <string.h>

#include "eas_log.h"
#include "engine_internal.h"
#include "http_internal.h"

#define MOD "engine"

/* eng_priv_t::di_state */
#define DI_UNKNOWN  0u /* the record was not looked at yet (this run) */
#define DI_DUE      1u /* to send: never accepted, or the values changed */
#define DI_DONE     2u /* accepted for the current values (now or in an earlier run) */
#define DI_GIVEN_UP 3u /* refused or failing: not again in this run */

/* Failed attempts (network, 5xx, Settings status 4) before giving up for this run. */
#define DI_ATTEMPTS 3u

#define DI_REC_LEN 8u

/* The User-Agent the HTTP layer sends: DeviceInformation must name the same one. */
const char *eng_user_agent(const eas_engine_t *e)
{
    return e->cfg->user_agent != NULL ? e->cfg->user_agent : EAS_HTTP_USER_AGENT_DEFAULT;
}

static uint64_t fnv(uint64_t h, const char *s)
{
    /* A presence byte first: a missing value and an empty one are different values. */
    h = (h ^ (s != NULL ? 1u : 0u)) * 0x100000001b3ull;
    for (; s != NULL && *s; s++) {
        h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
    }
    return (h ^ 0xffu) * 0x100000001b3ull; /* separator: ("ab","c") != ("a","bc") */
}

/* FNV-1a 64 of everything the request carries: when it changes, the server must hear it. */
static uint64_t devinfo_hash(const eas_engine_t *e)
{
    const eas_device_info_t *di = &e->cfg->device_info;
    uint64_t h = 0xcbf29ce484222325ull;
    h = fnv(h, di->model);
    h = fnv(h, di->friendly_name);
    h = fnv(h, di->os);
    h = fnv(h, di->os_language);
    return fnv(h, eng_user_agent(e));
}

static bool stored_matches(eas_engine_t *e)
{
    const eas_state_ns_t *ns = eng_ns(e);
    char key[EAS_STATE_KEY_CAP];
    uint8_t buf[EAS_REC_HDR + DI_REC_LEN + 1]; /* one more: an oversized record is corrupt */
    const uint8_t *pl = NULL;
    size_t len = 0;
    uint64_t h = 0;

    if (eas_state_key(key, sizeof(key), ns->prefix, "devinfo") != EAS_OK ||
        eas_state_get(ns, key, EAS_REC_DEVINFO, buf, sizeof(buf), &pl, &len) != EAS_OK ||
        len != DI_REC_LEN) {
        return false; /* absent, corrupt or unreadable: sending it again is harmless */
    }
    for (size_t i = 0; i < DI_REC_LEN; i++) {
        h |= (uint64_t)pl[i] << (8u * i);
    }
    return h == devinfo_hash(e);
}

static int save_sent(eas_engine_t *e)
{
    const eas_state_ns_t *ns = eng_ns(e);
    char key[EAS_STATE_KEY_CAP];
    uint8_t buf[EAS_REC_HDR + DI_REC_LEN];
    uint64_t h = devinfo_hash(e);
    int err = eas_state_key(key, sizeof(key), ns->prefix, "devinfo");

    if (err != EAS_OK) {
        return err;
    }
    for (size_t i = 0; i < DI_REC_LEN; i++) {
        buf[EAS_REC_HDR + i] = (uint8_t)(h >> (8u * i));
    }
    return eas_state_put(ns, key, EAS_REC_DEVINFO, buf, DI_REC_LEN);
}

static void give_up(eas_engine_t *e, const char *why)
{
    (void)why; /* without logging */
    P(e)->di_state = DI_GIVEN_UP;
    EAS_LOGW(&e->sys.log, MOD, "Settings DeviceInformation: %s; syncing without it this run", why);
}

static const eng_cmd_t *settings_pick(eas_engine_t *e)
{
    eng_priv_t *p = P(e);
    if (e->version == EAS_VER_NONE) {
        return NULL; /* OPTIONS (and Provision after it) first */
    }
    if (p->di_state == DI_UNKNOWN) {
        p->di_state = stored_matches(e) ? DI_DONE : DI_DUE;
    }
    return p->di_state == DI_DUE ? &eng_cmd_settings : NULL;
}

static int settings_start(eas_engine_t *e)
{
    eng_priv_t *p = P(e);
    p->req.cmd = EAS_CMD_SETTINGS;
    eas_proto_settings_parser_init(&p->u.set);
    return EAS_OK;
}

static int settings_build(eas_engine_t *e, eas_wbxml_enc_t *enc, eas_http_write_fn write,
                          void *wctx)
{
    (void)write;
    (void)wctx;
    eas_proto_settings_build(enc, &e->cfg->device_info, eng_user_agent(e));
    return eas_wbxml_enc_finish(enc);
}

static void apply_settings(eas_engine_t *e, const eas_http_response_t *rsp)
{
    eng_priv_t *p = P(e);
    const eas_settings_parser_t *sp = &p->u.set;
    uint32_t st = sp->status;

    (void)rsp;
    if (st == EAS_STATUS_SUCCESS && sp->di_status != EAS_STATUS_NONE) {
        st = sp->di_status; /* the overall request was fine: what about our part? */
    }
    if (eng_reprovision_status(st)) {
        eng_reprovision(e, &eng_cmd_settings, (uint16_t)st);
        return;
    }
    if (eng_common_status(e, st, "Settings")) {
        return; /* 111: back-off (counted below); 177: stopped */
    }
    if (st == EAS_STATUS_SUCCESS) {
        p->di_state = DI_DONE;
        EAS_LOGI(&e->sys.log, MOD, "device information accepted");
        int err = save_sent(e);
        if (err != EAS_OK) {
            /* Sync goes on; the next run sends it once more. */
            eng_report(e, err, 0, "saving that the device information was sent", NULL);
        }
        eng_next(e);
        return;
    }
    if (st == EAS_STATUS_SETTINGS_UNAVAILABLE) {
        eng_fail_backoff(e, EAS_ERR_SERVER, (uint16_t)st, "Settings", 0);
        return;
    }
    /* 2 protocol error, 3 access denied, 5/6 invalid arguments, 7 denied by policy, none:
       sending the same values again gets the same answer. */
    eng_report(e, EAS_ERR_SERVER, (uint16_t)st, "Settings DeviceInformation refused", NULL);
    give_up(e, "refused");
    eng_next(e);
}

static void settings_backoff(eas_engine_t *e, int err, uint16_t status)
{
    eng_priv_t *p = P(e);
    (void)err;
    /* A server without the command (400, 404, 405, 501) will not grow one: give up at once.
       Anything else (network, 5xx, status 4/111) a few times, then sync without it. */
    bool definitive = status == 501u || (status >= 400u && status < 500u && status != 408u &&
                                         status != 429u && status != 449u && status != 451u);
    if (definitive || ++p->di_attempts >= DI_ATTEMPTS) {
        give_up(e, definitive ? "the server does not take it" : "failed repeatedly");
    }
}

void eng_devinfo_required(eas_engine_t *e, const char *what)
{
    eng_priv_t *p = P(e);
    (void)what; /* without logging */
    if (p->cmd != &eng_cmd_settings && !p->di_forced) {
        /* The server wants (again) what it may have lost: once per run. */
        p->di_forced = 1;
        p->di_attempts = 0;
        p->di_state = DI_DUE;
        EAS_LOGW(&e->sys.log, MOD, "%s: the server requires device information (165)", what);
        eng_next(e);
        return;
    }
    eng_stop(e, EAS_STATE_BLOCKED, EAS_ERR_FORBIDDEN, EAS_STATUS_DEVICE_INFO_REQUIRED,
             "server requires device information and did not accept it");
}

void eng_devinfo_restart(eas_engine_t *e)
{
    eng_priv_t *p = P(e);
    p->di_state = DI_UNKNOWN;
    p->di_attempts = 0;
    p->di_forced = 0;
}

const eng_cmd_t eng_cmd_settings = {
    .name = "Settings",
    .state = EAS_STATE_PROVISIONING,
    .decode = eas_proto_settings_event,
    .pick = settings_pick,
    .start = settings_start,
    .build = settings_build,
    .apply = apply_settings,
    .backoff = settings_backoff,
};
