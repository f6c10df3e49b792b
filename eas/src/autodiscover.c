/* SPDX-License-Identifier: Apache-2.0 */
/* Autodiscover procedure: candidates, redirects and a report of what failed where. */
#include "eas/eas_config_defaults.h"

#if CONFIG_EAS_AUTODISCOVER

#include <stdio.h>
#include <string.h>

#include "eas/eas_autodiscover.h"
#include "eas/eas_err.h"
#include "eas_log.h"

enum { AD_IDLE = 0, AD_NEXT, AD_RUNNING, AD_DONE };

static const char *const k_ad_phase[] = {"http", "status", "response", "redirect"};

static const char *domain_of(const char *email)
{
    const char *at = strrchr(email, '@');
    return at ? at + 1 : "";
}

static bool domain_eq(const char *a, const char *b)
{
    for (; *a != '\0' && *b != '\0'; a++, b++) {
        char ca = (*a >= 'A' && *a <= 'Z') ? (char)(*a - 'A' + 'a') : *a;
        char cb = (*b >= 'A' && *b <= 'Z') ? (char)(*b - 'A' + 'a') : *b;
        if (ca != cb) {
            return false;
        }
    }
    return *a == *b;
}

static int ad_body(void *user, eas_http_write_fn write, void *wctx)
{
    const eas_autodiscover_t *ad = user;
    return eas_ad_request_write(ad->email, write, wctx);
}

static int ad_sink(void *user, const eas_http_response_t *rsp, const uint8_t *data, size_t len)
{
    eas_autodiscover_t *ad = user;
    if (rsp->status != 200 || !ad->parser_live) {
        return EAS_OK; /* only a 200 carries an Autodiscover document */
    }
    /* A parse error is kept in the parser and reported once the body is complete. */
    (void)eas_ad_parser_feed(&ad->parser, data, len);
    return EAS_OK;
}

static void note(eas_autodiscover_t *ad, uint8_t phase, int err, uint16_t status, uint32_t code)
{
    size_t used = strlen(ad->report);
    size_t room = sizeof(ad->report) - used;
    char detail[48] = "";
    if (status != 0) {
        snprintf(detail, sizeof(detail), " (HTTP %u)", (unsigned)status);
    } else if (code != 0) {
        snprintf(detail, sizeof(detail), " (ErrorCode %lu)", (unsigned long)code);
    }
    if (room > 1) {
        snprintf(ad->report + used, room, "%s%s: %s: %s%s", used ? "; " : "", ad->url,
                 k_ad_phase[phase], eas_err_name(err), detail);
    }
    ad->last_err = err;
    ad->last_status = status;
    ad->failures++;
    EAS_LOGW(ad->http->cfg.log, "autodiscover", "%s failed in %s: %s%s", ad->url, k_ad_phase[phase],
             eas_strerror(err), detail);
}

static int count_bytes(void *ctx, const uint8_t *data, size_t len)
{
    (void)data;
    *(uint64_t *)ctx += len;
    return EAS_OK;
}

static int candidate_url(eas_autodiscover_t *ad)
{
    const char *dom = domain_of(ad->email);
    int n = snprintf(ad->url, CONFIG_EAS_URL_MAX + 1u, "https://%s%s/autodiscover/autodiscover.xml",
                     ad->candidate == 0 ? "" : "autodiscover.", dom);
    if (n < 0 || (size_t)n > CONFIG_EAS_URL_MAX) {
        return EAS_ERR_AD_ADDRESS;
    }
    eas_url_t u;
    return eas_url_parse(ad->url, &u) == EAS_OK ? EAS_OK : EAS_ERR_AD_ADDRESS;
}

static int launch(eas_autodiscover_t *ad, uint64_t now_ms)
{
    int rc = eas_ad_parser_begin(&ad->parser, ad->parser_work, EAS_AD_PARSER_WORK_SIZE);
    if (rc != EAS_OK) {
        return rc;
    }
    ad->parser_live = 1;
    memset(&ad->req, 0, sizeof(ad->req));
    ad->req.method = EAS_HTTP_POST;
    ad->req.url = ad->url;
    ad->req.cmd = EAS_CMD_NONE;
    ad->req.content_type = "text/xml";
    ad->req.body = ad_body;
    ad->req.body_user = ad;
    ad->req.sink = ad_sink;
    ad->req.sink_user = ad;
    /* The document is parsed in place, not streamed on: bound it like an error body. */
    ad->req.max_body_bytes = CONFIG_EAS_HTTP_MAX_UNSTREAMED;
    rc = eas_http_client_start(ad->http, &ad->req, now_ms);
    if (rc != EAS_OK) {
        eas_ad_parser_abort(&ad->parser);
        ad->parser_live = 0;
        return rc;
    }
    ad->state = AD_RUNNING;
    return EAS_OK;
}

int eas_autodiscover_start(eas_autodiscover_t *ad, eas_http_client_t *http, const char *email,
                           uint8_t *work, size_t work_len, uint64_t now_ms)
{
    (void)now_ms;
    if (ad == NULL || http == NULL || email == NULL || work == NULL) {
        return EAS_ERR_PARAM;
    }
    memset(ad, 0, sizeof(*ad));
    if (work_len < EAS_AUTODISCOVER_WORK_SIZE) {
        return EAS_ERR_NOMEM;
    }
    /* Validate the address by writing the request into nothing. */
    size_t len = strlen(email);
    if (len > EAS_AD_EMAIL_MAX) {
        return EAS_ERR_AD_ADDRESS;
    }
    memcpy(ad->email, email, len + 1);
    ad->http = http;
    ad->url = (char *)work;
    ad->result = ad->url + CONFIG_EAS_URL_MAX + 1u;
    ad->parser_work = (uint8_t *)(ad->result + CONFIG_EAS_URL_MAX + 1u);
    ad->result[0] = '\0';
    uint64_t n = 0;
    int rc = eas_ad_request_write(ad->email, count_bytes, &n);
    if (rc == EAS_OK) {
        rc = candidate_url(ad);
    }
    if (rc != EAS_OK) {
        return rc;
    }
    ad->state = AD_NEXT;
    ad->err = EAS_ERR_AGAIN;
    return EAS_OK;
}

static void next_candidate(eas_autodiscover_t *ad)
{
    ad->candidate++;
    ad->state = AD_NEXT;
}

static int finish(eas_autodiscover_t *ad, int rc)
{
    ad->err = rc;
    ad->state = AD_DONE;
    if (ad->parser_live) {
        eas_ad_parser_abort(&ad->parser);
        ad->parser_live = 0;
    }
    return rc;
}

/* Follow an HTTP or Autodiscover URL redirect: https only, capped, no loops. */
static int follow_url(eas_autodiscover_t *ad, const char *target, uint64_t now_ms)
{
    char *tmp = ad->result; /* free until success */
    int rc = eas_url_resolve(ad->url, target, tmp, CONFIG_EAS_URL_MAX + 1u);
    if (rc == EAS_OK) {
        rc = eas_http_redirect_check(ad->url, tmp, &ad->redirects);
    }
    if (rc == EAS_OK) {
        eas_url_t u;
        if (eas_url_parse(tmp, &u) != EAS_OK || !u.tls) {
            rc = EAS_ERR_HTTP_URL;
        }
    }
    if (rc == EAS_OK) {
        rc = eas_http_redirect_policy(ad->url, tmp, &ad->allow);
        if (rc == EAS_ERR_HTTP_REDIRECT_APPROVAL) {
            return rc; /* tmp (ad->result) keeps the target for the application */
        }
    }
    if (rc != EAS_OK) {
        tmp[0] = '\0';
        return rc;
    }
    memcpy(ad->url, tmp, strlen(tmp) + 1);
    tmp[0] = '\0';
    return launch(ad, now_ms);
}

static int on_response(eas_autodiscover_t *ad, uint64_t now_ms)
{
    const eas_http_response_t *rsp = eas_http_client_response(ad->http);
    eas_http_verdict_t v;
    eas_ad_result_t res;
    int rc;

    eas_http_classify(rsp, &v);
    if (v.cls == EAS_HTTP_CLASS_HTTP_REDIRECT && v.location != NULL) {
        eas_ad_parser_abort(&ad->parser);
        ad->parser_live = 0;
        rc = follow_url(ad, v.location, now_ms);
        if (rc == EAS_ERR_HTTP_TOO_MANY_REDIRECTS || rc == EAS_ERR_HTTP_REDIRECT_LOOP ||
            rc == EAS_ERR_HTTP_REDIRECT_APPROVAL) {
            note(ad, EAS_AD_PHASE_REDIRECT, rc, rsp->status, 0);
            return finish(ad, rc);
        }
        if (rc != EAS_OK) {
            note(ad, EAS_AD_PHASE_REDIRECT, rc, rsp->status, 0);
            next_candidate(ad);
        }
        return EAS_ERR_AGAIN;
    }
    if (rsp->status != 200) {
        eas_ad_parser_abort(&ad->parser);
        ad->parser_live = 0;
        note(ad, EAS_AD_PHASE_STATUS, v.err != EAS_OK ? v.err : EAS_ERR_HTTP_STATUS, rsp->status,
             0);
        next_candidate(ad);
        return EAS_ERR_AGAIN;
    }
    rc = eas_ad_parser_finish(&ad->parser, &res);
    ad->parser_live = 0;
    if (rc != EAS_OK) {
        note(ad, EAS_AD_PHASE_RESPONSE, rc, 0, res.error_code);
        next_candidate(ad);
        return EAS_ERR_AGAIN;
    }
    switch (res.kind) {
    case EAS_AD_SETTINGS:
        memcpy(ad->result, res.value, strlen(res.value) + 1);
        EAS_LOGI(ad->http->cfg.log, "autodiscover", "EAS URL found at %s", ad->url);
        return finish(ad, EAS_OK);
    case EAS_AD_REDIRECT_ADDR: {
        size_t n = strlen(res.value);
        if (strcmp(res.value, ad->email) == 0) {
            note(ad, EAS_AD_PHASE_REDIRECT, EAS_ERR_HTTP_REDIRECT_LOOP, 0, 0);
            return finish(ad, EAS_ERR_HTTP_REDIRECT_LOOP);
        }
        if (ad->redirects >= CONFIG_EAS_MAX_REDIRECTS) {
            note(ad, EAS_AD_PHASE_REDIRECT, EAS_ERR_HTTP_TOO_MANY_REDIRECTS, 0, 0);
            return finish(ad, EAS_ERR_HTTP_TOO_MANY_REDIRECTS);
        }
        if (n > EAS_AD_EMAIL_MAX || strchr(res.value, '@') == NULL) {
            note(ad, EAS_AD_PHASE_REDIRECT, EAS_ERR_AD_ADDRESS, 0, 0);
            next_candidate(ad);
            return EAS_ERR_AGAIN;
        }
        ad->redirects++;
        if (!domain_eq(domain_of(res.value), domain_of(ad->email))) {
            ad->foreign = 1; /* its candidates are hosts the user never named */
        }
        memcpy(ad->email, res.value, n + 1);
        ad->candidate = 0; /* start over with the new domain */
        ad->state = AD_NEXT;
        EAS_LOGI(ad->http->cfg.log, "autodiscover", "redirected to another address (domain %s)",
                 domain_of(ad->email));
        return EAS_ERR_AGAIN;
    }
    case EAS_AD_REDIRECT_URL:
        /* res.value stays valid until launch() restarts the parser, after the copy. */
        rc = follow_url(ad, res.value, now_ms);
        if (rc == EAS_ERR_HTTP_TOO_MANY_REDIRECTS || rc == EAS_ERR_HTTP_REDIRECT_LOOP ||
            rc == EAS_ERR_HTTP_REDIRECT_APPROVAL) {
            note(ad, EAS_AD_PHASE_REDIRECT, rc, 0, 0);
            return finish(ad, rc);
        }
        if (rc != EAS_OK) {
            note(ad, EAS_AD_PHASE_REDIRECT, rc, 0, 0);
            next_candidate(ad);
        }
        return EAS_ERR_AGAIN;
    default:
        note(ad, EAS_AD_PHASE_RESPONSE, EAS_ERR_AD_NO_URL, 0, 0);
        next_candidate(ad);
        return EAS_ERR_AGAIN;
    }
}

int eas_autodiscover_step(eas_autodiscover_t *ad, uint64_t now_ms, eas_http_wait_t *wait)
{
    int rc = EAS_ERR_AGAIN;
    if (ad == NULL) {
        return EAS_ERR_PARAM;
    }
    if (wait != NULL) {
        memset(wait, 0, sizeof(*wait));
        wait->deadline_ms = now_ms;
    }
    if (ad->state == AD_DONE) {
        return ad->err;
    }
    if (ad->state == AD_IDLE) {
        return EAS_ERR_STATE;
    }
    /* A few transitions per call (a candidate failing at once moves on to the next). */
    for (int round = 0; round < 8 && rc == EAS_ERR_AGAIN; round++) {
        if (ad->state == AD_NEXT) {
            if (ad->candidate >= 2) {
                return finish(ad, EAS_ERR_AD_EXHAUSTED);
            }
            rc = candidate_url(ad);
            if (rc == EAS_OK && ad->foreign &&
                !eas_url_host_listed(ad->url, ad->allow.hosts, ad->allow.n_hosts)) {
                /* A domain only a server named: ask before sending it the credentials. */
                memcpy(ad->result, ad->url, strlen(ad->url) + 1);
                note(ad, EAS_AD_PHASE_REDIRECT, EAS_ERR_HTTP_REDIRECT_APPROVAL, 0, 0);
                return finish(ad, EAS_ERR_HTTP_REDIRECT_APPROVAL);
            }
            if (rc == EAS_OK) {
                rc = launch(ad, now_ms);
            }
            if (rc != EAS_OK) {
                note(ad, EAS_AD_PHASE_HTTP, rc, 0, 0);
                next_candidate(ad);
            }
            rc = EAS_ERR_AGAIN;
            continue;
        }
        eas_http_wait_t w;
        int hrc = eas_http_client_step(ad->http, now_ms, &w);
        if (hrc == EAS_ERR_AGAIN) {
            if (wait != NULL) {
                *wait = w;
            }
            return EAS_ERR_AGAIN;
        }
        if (hrc != EAS_OK) {
            if (ad->parser_live) {
                eas_ad_parser_abort(&ad->parser);
                ad->parser_live = 0;
            }
            note(ad, EAS_AD_PHASE_HTTP, hrc, 0, 0);
            next_candidate(ad);
            continue;
        }
        rc = on_response(ad, now_ms);
    }
    return rc;
}

const char *eas_autodiscover_url(const eas_autodiscover_t *ad)
{
    return (ad->state == AD_DONE && ad->err == EAS_OK) ? ad->result : NULL;
}

void eas_autodiscover_allow(eas_autodiscover_t *ad, const eas_http_allow_t *allow)
{
    if (ad == NULL) {
        return;
    }
    if (allow != NULL) {
        ad->allow = *allow;
    } else {
        memset(&ad->allow, 0, sizeof(ad->allow));
    }
}

const char *eas_autodiscover_redirect_url(const eas_autodiscover_t *ad)
{
    return (ad->state == AD_DONE && ad->err == EAS_ERR_HTTP_REDIRECT_APPROVAL) ? ad->result : NULL;
}

const char *eas_autodiscover_report(const eas_autodiscover_t *ad)
{
    return ad->report;
}

void eas_autodiscover_cancel(eas_autodiscover_t *ad)
{
    if (ad == NULL || ad->state == AD_IDLE) {
        return;
    }
    if (ad->state == AD_RUNNING) {
        eas_http_client_cancel(ad->http);
    }
    finish(ad, EAS_ERR_CANCELLED);
}

#endif /* CONFIG_EAS_AUTODISCOVER */
