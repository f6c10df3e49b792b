/* SPDX-License-Identifier: Apache-2.0 */
/*
 * easd quick start: sync one account once on the Linux port, print what arrived, stop.
 *   quickstart URL USER PASSWORD_FILE DEVICE_ID STATE_DIR     (or EASD_URL, EASD_USER, ...)
 * EASD_CA_FILE: trusted CAs (PEM) instead of the system bundle. docs/integration.md §1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "eas/eas.h"
#include "easd_linux.h"

struct app {
    eas_engine_t eng;
    easd_linux_net_t net;
    uint64_t give_up_ms;
    unsigned items;
    bool done;
};

static int on_event(void *user, eas_event_t *ev)
{
    struct app *a = user;
    switch (ev->type) {
    case EAS_EV_POLICY_DECIDE:
        /* Unanswered, the engine refuses the server's policy and stops in POLICY_REFUSED.
           This program enforces none of the EAS_EV_POLICY_SETTINGs, so: PARTIAL. */
        ev->u.policy.decision = EAS_POLICY_PARTIAL;
        break;
    case EAS_EV_FOLDER:
        printf("folder %s \"%s\"\n", ev->u.folder.entry->server_id,
               ev->u.folder.display_name ? ev->u.folder.display_name : "");
        break;
    case EAS_EV_ITEM_BEGIN: /* apply as an upsert (or delete) keyed by (folder, ServerId) */
        a->items++;
        printf("%s %s item %s/%s\n", ev->u.item.op == EAS_ITEM_DELETE ? "delete" : "add",
               eas_class_name(ev->u.item.cls), ev->u.item.folder, ev->u.item.server_id);
        break;
    case EAS_EV_ITEM_FIELD: /* the item's data streams past in pieces; print subjects */
        if (ev->u.field.kind == EAS_FIELD_TEXT && ev->u.field.depth == 1 &&
            (ev->u.field.tag == EAS_EMAIL_SUBJECT || ev->u.field.tag == EAS_CALENDAR_SUBJECT)) {
            printf("  subject: %.*s\n", (int)ev->u.field.len, (const char *)ev->u.field.data);
        }
        break;
    case EAS_EV_ERROR:
        fprintf(stderr, "error: %s (%s)\n", eas_strerror(ev->u.error.err),
                ev->u.error.what ? ev->u.error.what : "");
        break;
    case EAS_EV_SYNC_COMPLETE: /* every selected folder is up to date */
        a->done = true;
        break;
    default:
        break;
    }
    return EAS_OK;
}

/* The loop calls this on every wake-up: advance the engine, say what to wait for. */
static int step(void *ctx, easd_linux_event_t ev, uint64_t now_ms, uint64_t *deadline_ms,
                easd_linux_wait_t *wait)
{
    struct app *a = ctx;
    int rc = eas_step(&a->eng, (eas_step_event_t)ev, now_ms, deadline_ms);
    if (rc < 0 || a->done || now_ms >= a->give_up_ms) { /* non-zero ends the loop */
        return rc < 0 ? rc : (a->done ? 1 : EAS_ERR_TIMEOUT);
    }
    *deadline_ms = *deadline_ms < a->give_up_ms ? *deadline_ms : a->give_up_ms;
    unsigned io = eas_engine_wait_io(&a->eng);
    easd_linux_net_wait(&a->net, (io & EAS_IO_READ) != 0u, (io & EAS_IO_WRITE) != 0u, wait);
    return 0;
}

int main(int argc, char **argv)
{
    const char *names[5] = {"EASD_URL", "EASD_USER", "EASD_PASSWORD_FILE", "EASD_DEVICE_ID",
                            "EASD_STATE_DIR"};
    const char *arg[5];
    for (int i = 0; i < 5; i++) {
        if ((arg[i] = argc == 6 ? argv[i + 1] : getenv(names[i])) == NULL) {
            fprintf(stderr, "usage: quickstart URL USER PASSWORD_FILE DEVICE_ID STATE_DIR\n");
            return 2;
        }
    }
    /* A password file must be the user's own, mode 0600; no core dump may show it. */
    static char password[256];
    const char *why = NULL;
    if (easd_linux_harden_process() != EAS_OK ||
        easd_linux_read_secret(arg[2], password, sizeof(password), &why) != EAS_OK) {
        fprintf(stderr, "%s: %s\n", arg[2], why ? why : "cannot read");
        return 2;
    }

    /* The Linux port: warnings to stderr, records in STATE_DIR, TCP/TLS connections. */
    static struct app a;
    hal_net_t net;
    easd_linux_net_config_t netcfg = {.ca_file = getenv("EASD_CA_FILE")};
    easd_linux_log_config(&(easd_linux_log_config_t){.min_level = HAL_LOG_WARN});
    (void)mkdir(arg[4], 0700);
    if (easd_linux_store_init(arg[4]) != EAS_OK ||
        easd_linux_net_init(&a.net, &netcfg, &net) != EAS_OK) {
        return 2;
    }
    /* Every byte the engine uses is lent to it here; nothing is allocated. */
    static eas_engine_storage_t storage; /* folders, outbox, arena, HTTP buffers */
    eas_engine_mem_t mem = eas_engine_storage_mem(&storage);
    eas_account_cfg_t cfg = {
        .url = arg[0],
        .user = arg[1],
        .device_id = arg[3], /* never changes for this device */
        .device_type = "easd",
        .auth = {.kind = EAS_HTTP_AUTH_BASIC, .user = arg[1], .password = password},
        .classes = EAS_CLASS_EMAIL | EAS_CLASS_CALENDAR,
        .no_push = true,          /* sync, then rest: no Ping (this program stops anyway) */
        .store_prefix = "acct0"}; /* names this account's records */

    int rc = eas_engine_init(&a.eng, &cfg, &mem, &net, easd_linux_hal(), on_event, &a); /* loads saved state */
    easd_linux_loop_t loop;
    if (rc == EAS_OK && (rc = easd_linux_loop_init(&loop, EASD_LINUX_LOOP_SIGNALS)) == EAS_OK) {
        a.give_up_ms = hal_time_monotonic_ms() + 120000u; /* every wait has a deadline */
        rc = easd_linux_loop_run(&loop, step, &a);
        easd_linux_loop_deinit(&loop);
        eas_engine_close(&a.eng);
    }
    printf("%s: %u items, state %s (%s)\n", a.done ? "synced" : "stopped", a.items,
           eas_engine_state_name(eas_engine_state(&a.eng)), rc < 0 ? eas_strerror(rc) : "ok");
    easd_linux_net_deinit(&a.net);
    easd_linux_store_deinit();
    return a.done ? 0 : 1;
}
