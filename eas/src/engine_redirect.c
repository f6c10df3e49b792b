/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Where the engine sends its requests: the configured URL, or a redirect (HTTP 451,
 * X-MS-Location) the server gave. A redirect is followed at once only within the redirect
 * policy (same scheme, host and port, or a host the application allowed); any other target
 * waits for eas_engine_approve_redirect(). A followed redirect is stored together with the
 * configured URL it came from, so a changed configuration drops it (docs/security.md).
 */
#include <string.h>

#include "eas_log.h"
#include "engine_internal.h"

#define MOD "engine"

const char *eng_url(const eas_engine_t *e)
{
    const eng_priv_t *p = PC(e);
    return p->url[0] ? p->url : e->cfg->url;
}

/* HTTP 451: the mailbox lives elsewhere now. Follow X-MS-Location at once (the request is
   replayed there) when it stays on the same scheme, host and port or goes to a host the
   application allowed, but only a bounded number of times in a row and never back to the
   URL that redirected; persist the new URL once it has answered a request. Any other target
   would receive the user's credentials and the request body: report it and stop until the
   application approves. */
void eng_follow_redirect(eas_engine_t *e, const eng_cmd_t *cmd, const char *loc)
{
    eng_priv_t *p = P(e);
    char target[CONFIG_EAS_URL_MAX + 1];
    size_t n = loc ? strcspn(loc, "?#") : 0; /* the query is rebuilt per request */
    int err = EAS_OK;

    if (n == 0 || n > CONFIG_EAS_URL_MAX) {
        err = EAS_ERR_HTTP_URL;
    } else {
        memcpy(target, loc, n);
        target[n] = '\0';
        err = eas_http_redirect_check(eng_url(e), target, &p->redirects);
    }
    if (err == EAS_OK) {
        err = eas_http_redirect_policy(eng_url(e), target, &e->cfg->redirect_allow);
    }
    if (err == EAS_ERR_HTTP_REDIRECT_APPROVAL) {
        eas_event_t ev = {.type = EAS_EV_REDIRECT};
        ev.u.redirect.url = target;
        ev.u.redirect.from = eng_url(e);
        EAS_LOGW(&e->sys.log, MOD, "server moved (451) to another server: waiting for approval");
        (void)eng_emit(e, &ev);
        p->redirects = 0;
        for (size_t s = 0; s < p->ob.cap; s++) {
            p->ob.slots[s].in_flight = 0; /* the request will be sent again */
        }
        /* p->url holds the pending target; the stored URL is reloaded if it is refused. */
        strcpy(p->url, target);
        p->url_pending = 1;
        p->url_unsaved = 0;
        eng_stop(e, EAS_STATE_REDIRECT_PENDING, err, 451, "redirect needs approval");
        return;
    }
    if (err != EAS_OK) {
        /* The next attempt after the back-off starts a fresh count. */
        p->redirects = 0;
        eng_fail_backoff(e, err, EAS_HTTP_STATUS_MOVED, "redirect", 0);
        return;
    }
    EAS_LOGI(&e->sys.log, MOD, "server moved (451): following X-MS-Location");
    strcpy(p->url, target);
    p->url_unsaved = 1;
    (void)eng_start(e, cmd);
}

/* The stored redirect, if it belongs to the configured URL and is not weaker than it. Any
   other record is deleted with a warning and the configured URL applies. */
void eng_load_stored_url(eas_engine_t *e)
{
    eng_priv_t *p = P(e);
    const eas_state_ns_t *ns = eng_ns(e);
    const char *why = NULL;
    int uerr = eas_state_url_load(ns, e->cfg->url, p->url, sizeof(p->url), e->mem.arena);
    if (uerr == EAS_OK) {
        eas_url_t cu;
        eas_url_t su;
        if (eas_url_parse(e->cfg->url, &cu) == EAS_OK && eas_url_parse(p->url, &su) == EAS_OK &&
            cu.tls && !su.tls) {
            uerr = EAS_ERR_HTTP_URL;
            why = "stored redirect weaker than the configured URL; deleted";
        }
    } else if (uerr == EAS_ERR_NOT_FOUND) {
        why = "configured URL changed; stored redirect deleted";
    } else if (uerr != EAS_ERR_STORE_NOT_FOUND) {
        why = "stored redirect unreadable; deleted, using the configured URL";
    }
    if (why != NULL) {
        p->url[0] = '\0';
        (void)eas_state_url_save(ns, e->cfg->url, "", e->mem.arena);
        eng_report(e, uerr, 0, why, NULL);
    } else if (uerr == EAS_OK) {
        eas_event_t ev = {.type = EAS_EV_SERVER_MOVED};
        ev.u.redirect.url = p->url;
        ev.u.redirect.from = e->cfg->url;
        EAS_LOGI(&e->sys.log, MOD, "using the server URL a 451 redirect gave earlier");
        (void)eng_emit(e, &ev);
    } else {
        p->url[0] = '\0';
    }
}

int eas_engine_approve_redirect(eas_engine_t *eng)
{
    if (eng == NULL) {
        return EAS_ERR_PARAM;
    }
    eng_priv_t *p = P(eng);
    if (eng->state != EAS_STATE_REDIRECT_PENDING || !p->url_pending) {
        return EAS_ERR_STATE;
    }
    p->url_pending = 0;
    p->url_unsaved = 1; /* persisted once the new server has answered */
    p->stop_err = EAS_OK;
    p->failures = 0;
    EAS_LOGI(&eng->sys.log, MOD, "redirect approved");
    eng_set_state(eng, EAS_STATE_IDLE);
    return EAS_OK;
}

const char *eas_engine_pending_redirect(const eas_engine_t *eng)
{
    return (eng != NULL && PC(eng)->url_pending) ? PC(eng)->url : NULL;
}
