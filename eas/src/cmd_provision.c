/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Account setup commands: OPTIONS (which protocol versions the server speaks) and
 * Provision (the policy handshake: policy request, acknowledgement, remote-wipe
 * acknowledgement) [S 2.1, 2.12].
 */
#include <stdio.h>
#include <string.h>

#include "eas_log.h"
#include "engine_internal.h"

#define MOD "engine"

#define SUPPORTED_VERSIONS                                                                         \
    (EAS_HTTP_VER_BIT_12_1 | EAS_HTTP_VER_BIT_14_0 | EAS_HTTP_VER_BIT_14_1 |                       \
     EAS_HTTP_VER_BIT_16_0 | EAS_HTTP_VER_BIT_16_1)

/* ---- OPTIONS ---- */

static const eng_cmd_t *options_pick(eas_engine_t *e)
{
    return e->version == EAS_VER_NONE ? &eng_cmd_options : NULL;
}

static int options_start(eas_engine_t *e)
{
    eng_priv_t *p = P(e);
    p->req.method = EAS_HTTP_OPTIONS;
    p->req.cmd = EAS_CMD_NONE;
    p->req.version = EAS_VER_NONE;
    return EAS_OK;
}

static void apply_options(eas_engine_t *e, const eas_http_response_t *rsp)
{
    uint8_t supported = SUPPORTED_VERSIONS;
    eas_proto_ver_t max = e->cfg->max_version;
    if (max != EAS_VER_NONE) {
        uint8_t bits = 0;
        for (eas_proto_ver_t v = EAS_VER_12_1; v <= max; v = (eas_proto_ver_t)(v + 1)) {
            bits |= eas_proto_ver_bit(v);
        }
        supported &= bits;
    }
    eas_proto_ver_t v = eas_proto_ver_pick(rsp->versions, supported);
    if (v == EAS_VER_NONE) {
        eng_stop(e, EAS_STATE_FAILED, EAS_ERR_VERSION, 0, "OPTIONS");
        return;
    }
    e->version = v;
    EAS_LOGI(&e->sys.log, MOD, "protocol %s", eas_proto_ver_string(v));
    if (eng_save_acct(e) != EAS_OK) {
        eng_fail_backoff(e, EAS_ERR_STORE, 0, "saving the account", 0);
        return;
    }
    (void)eng_start(e, &eng_cmd_prov_policy);
}

const eng_cmd_t eng_cmd_options = {
    .name = "OPTIONS",
    .state = EAS_STATE_OPTIONS,
    .flags = ENG_CMD_F_NO_WBXML,
    .pick = options_pick,
    .start = options_start,
    .apply = apply_options,
};

/* ---- Provision ---- */

static int on_setting(void *user, uint16_t tag, const char *value)
{
    eas_engine_t *e = user;
    eas_event_t ev = {.type = EAS_EV_POLICY_SETTING};
    ev.u.policy.tag = tag;
    ev.u.policy.value = value;
    return eng_emit(e, &ev);
}

static int prov_start(eas_engine_t *e)
{
    eng_priv_t *p = P(e);
    p->req.cmd = EAS_CMD_PROVISION;
    /* The initial request carries no key; the ack carries the temporary one. */
    p->req.policy_key = p->cmd->arg == EAS_PROV_REQ_ACK ? eng_policy_key_u32(p->temp_key) : 0;
    eas_proto_provision_parser_init(&p->u.prov, on_setting, e);
    return EAS_OK;
}

static int prov_build(eas_engine_t *e, eas_wbxml_enc_t *enc, eas_http_write_fn write, void *wctx)
{
    eng_priv_t *p = P(e);
    eas_prov_req_t r = {.kind = (eas_prov_req_kind_t)p->cmd->arg,
                        .version = e->version,
                        .policy_key = p->temp_key,
                        .ack_status = p->ack_status,
                        .device_info = &e->cfg->device_info,
                        .user_agent = eng_user_agent(e)};
    (void)write;
    (void)wctx;
    eas_proto_provision_build(enc, &r);
    return eas_wbxml_enc_finish(enc);
}

static void apply_provision(eas_engine_t *e, const eas_http_response_t *rsp)
{
    (void)rsp;
    eng_priv_t *p = P(e);
    eas_prov_parser_t *pp = &p->u.prov;

    if (p->cmd == &eng_cmd_prov_wipe_ack) {
        /* mem.outbox_cap, not the loaded outbox's: a read-only build (CONFIG_EAS_OUTBOX off)
           must still wipe what an earlier build queued. */
        (void)eas_state_wipe(eng_ns(e), e->mem.folder_cap, e->mem.outbox_cap);
        eng_stop(e, EAS_STATE_WIPED, EAS_ERR_WIPED, 0, "remote wipe");
        return;
    }
    if (pp->remote_wipe || pp->account_wipe) {
        eas_event_t ev = {.type = EAS_EV_WIPE};
        (void)eng_emit(e, &ev);
        (void)eng_start(e, &eng_cmd_prov_wipe_ack);
        return;
    }
    if (eng_unmeetable_status(pp->status) || eng_unmeetable_status(pp->policy_status)) {
        eng_stop(e, EAS_STATE_POLICY_REFUSED, EAS_ERR_POLICY,
                 (uint16_t)(eng_unmeetable_status(pp->status) ? pp->status : pp->policy_status),
                 "server: the device cannot comply with the policy");
        return;
    }
    if (eng_common_status(e, pp->status, "Provision")) {
        return; /* 111: back-off; 177 (often answered to Provision): stopped */
    }
    if (pp->status != EAS_STATUS_SUCCESS) {
        eng_fail_backoff(e, EAS_ERR_SERVER, (uint16_t)pp->status, "Provision", 0);
        return;
    }
    if (p->cmd == &eng_cmd_prov_policy) {
        if (pp->policy_status == EAS_STATUS_PROV_NO_POLICY || !pp->has_policy_key) {
            /* No policy for this device (SOGo, Horde "none"): nothing to enforce or ack. */
            e->policy_key[0] = '\0';
        } else if (pp->policy_status != EAS_STATUS_SUCCESS) {
            eng_fail_backoff(e, EAS_ERR_SERVER, (uint16_t)pp->policy_status, "Provision policy", 0);
            return;
        } else {
            eas_event_t ev = {.type = EAS_EV_POLICY_DECIDE};
            ev.u.policy.decision = EAS_POLICY_REFUSE;
            (void)eng_emit(e, &ev);
            if (ev.u.policy.decision != EAS_POLICY_ENFORCE_ALL &&
                ev.u.policy.decision != EAS_POLICY_PARTIAL) {
                /* [S 2.1] never claim to enforce what the device cannot: a clear stop. */
                eng_stop(e, EAS_STATE_POLICY_REFUSED, EAS_ERR_POLICY, 0,
                         "device cannot meet the server's policy");
                return;
            }
            strcpy(p->temp_key, pp->policy_key);
            p->ack_status = ev.u.policy.decision == EAS_POLICY_ENFORCE_ALL ? EAS_PROV_ACK_ENFORCED
                                                                           : EAS_PROV_ACK_PARTIAL;
            (void)eng_start(e, &eng_cmd_prov_ack);
            return;
        }
    } else {
        if ((pp->policy_status != EAS_STATUS_SUCCESS || !pp->has_policy_key) &&
            p->ack_status == EAS_PROV_ACK_PARTIAL) {
            /* [S 2.1] the server does not accept a partially enforced policy: the device
               cannot meet it. Re-provisioning would only repeat the refusal forever. */
            eng_stop(e, EAS_STATE_POLICY_REFUSED, EAS_ERR_POLICY, (uint16_t)pp->policy_status,
                     "server refused a partially enforced policy");
            return;
        }
        if (pp->policy_status != EAS_STATUS_SUCCESS || !pp->has_policy_key) {
            eng_fail_backoff(e, EAS_ERR_POLICY, (uint16_t)pp->policy_status, "Provision ack", 0);
            return;
        }
        strcpy(e->policy_key, pp->policy_key);
    }
    int err = eng_save_acct(e);
    if (err != EAS_OK) {
        eng_fail_backoff(e, err, 0, "saving the policy key", 0);
        return;
    }
    eng_next(e);
}

const eng_cmd_t eng_cmd_prov_policy = {
    .name = "Provision",
    .state = EAS_STATE_PROVISIONING,
    .flags = ENG_CMD_F_PROVISION,
    .arg = EAS_PROV_REQ_POLICY,
    .decode = eas_proto_provision_event,
    .start = prov_start,
    .build = prov_build,
    .apply = apply_provision,
};

const eng_cmd_t eng_cmd_prov_ack = {
    .name = "Provision ack",
    .state = EAS_STATE_PROVISIONING,
    .flags = ENG_CMD_F_PROVISION,
    .arg = EAS_PROV_REQ_ACK,
    .decode = eas_proto_provision_event,
    .start = prov_start,
    .build = prov_build,
    .apply = apply_provision,
};

const eng_cmd_t eng_cmd_prov_wipe_ack = {
    .name = "Provision wipe ack",
    .state = EAS_STATE_PROVISIONING,
    .flags = ENG_CMD_F_PROVISION,
    .arg = EAS_PROV_REQ_WIPE_ACK,
    .decode = eas_proto_provision_event,
    .start = prov_start,
    .build = prov_build,
    .apply = apply_provision,
};
