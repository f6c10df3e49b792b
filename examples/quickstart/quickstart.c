/* SPDX-License-Identifier: Apache-2.0 */
/*
 * easd quick start: sync one account once on the Linux port, print what arrived, stop.
 *   quickstart URL USER PASSWORD_FILE DEVICE_ID STATE_DIR
 * or the same from EASD_URL, EASD_USER, EASD_PASSWORD_FILE, EASD_DEVICE_ID, EASD_STATE_DIR;
 * EASD_CA_FILE names trusted CAs (PEM) instead of the system bundle. docs/integration.md
 * walks through this file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
    static const char *const ops[] = {"?", "add", "change", "delete"};
    switch (ev->type) {
    case EAS_EV_POLICY_DECIDE:
        /* The server wants a security policy. Unanswered, the engine refuses it and stops in
           EAS_STATE_POLICY_REFUSED. This program enforces none of the settings it saw as
           EAS_EV_POLICY_SETTING, so it must not claim ENFORCE_ALL: it says PARTIAL. */
        ev->u.policy.decision = EAS_POLICY_PARTIAL;
        break;
    case EAS_EV_FOLDER:
        printf("folder %s \"%s\"\n", ev->u.folder.entry->server_id,
               ev->u.folder.display_name ? ev->u.folder.display_name : "");
        break;
    case EAS_EV_ITEM_BEGIN: /* an upsert (or delete) keyed by (folder, ServerId) */
        a->items++;
        printf("%s %s item %s/%s\n", ops[ev->u.item.op], eas_class_name(ev->u.item.cls),
               ev->u.item.folder, ev->u.item.server_id);
        break;
    case EAS_EV_ITEM_FIELD: /* one piece of the item's data; print subjects only */
        if (ev->u.field.kind == EAS_FIELD_TEXT && ev->u.field.depth == 1 &&
            (ev->u.field.tag == EAS_EMAIL_SUBJECT || ev->u.field.tag == EAS_CALENDAR_SUBJECT)) {
            printf("  subject: %.*s\n", (int)ev->u.field.len, (const char *)ev->u.field.data);
        }
        break;
    case EAS_EV_ERROR:
        fprintf(stderr, "error: %s (%s, status %u)\n", eas_strerror(ev->u.error.err),
                ev->u.error.what ? ev->u.error.what : "", (unsigned)ev->u.error.status);
        break;
    case EAS_EV_SYNC_COMPLETE: /* every selected folder is up to date: stop here */
        a->done = true;
        break;
    default:
        break;
    }
    return EAS_OK;
}

/* easd_linux_loop_run() calls this on each wake-up: advance the engine, say what to wait for. */
static int step(void *ctx, easd_linux_event_t ev, uint64_t now_ms, uint64_t *deadline_ms,
                easd_linux_wait_t *wait)
{
    struct app *a = ctx;
    int rc = eas_step(&a->eng, (eas_step_event_t)ev, now_ms, deadline_ms);
    if (rc < 0 || a->done || now_ms >= a->give_up_ms) {
        return rc < 0 ? rc : (a->done ? 1 : EAS_ERR_TIMEOUT); /* non-zero ends the loop */
    }
    if (*deadline_ms > a->give_up_ms) {
        *deadline_ms = a->give_up_ms;
    }
    unsigned io = eas_engine_wait_io(&a->eng);
    easd_linux_net_wait(&a->net, (io & EAS_IO_READ) != 0u, (io & EAS_IO_WRITE) != 0u, wait);
    return 0;
}

int main(int argc, char **argv)
{
    static const char *const env[5] = {"EASD_URL", "EASD_USER", "EASD_PASSWORD_FILE",
                                       "EASD_DEVICE_ID", "EASD_STATE_DIR"};
    const char *arg[5];
    for (int i = 0; i < 5; i++) {
        arg[i] = argc == 6 ? argv[i + 1] : getenv(env[i]);
        if (arg[i] == NULL) {
            fprintf(stderr, "usage: quickstart URL USER PASSWORD_FILE DEVICE_ID STATE_DIR\n");
            return 2;
        }
    }
    static char password[256]; /* read for every request; never logged or stored */
    FILE *f = fopen(arg[2], "r");
    if (f == NULL || fgets(password, sizeof(password), f) == NULL) {
        fprintf(stderr, "cannot read the password file %s\n", arg[2]);
        return 2;
    }
    fclose(f);
    password[strcspn(password, "\r\n")] = '\0';

    /* The Linux port: warnings to stderr, records in STATE_DIR, TCP/TLS connections. */
    easd_linux_log_config_t log = {.sink = EASD_LINUX_LOG_STDERR, .min_level = HAL_LOG_WARN};
    easd_linux_log_config(&log);
    (void)mkdir(arg[4], 0700);
    static struct app a;
    hal_net_t net;
    easd_linux_net_config_t netcfg = {.ca_file = getenv("EASD_CA_FILE")};
    if (easd_linux_store_init(arg[4]) != EAS_OK ||
        easd_linux_net_init(&a.net, &netcfg, &net) != EAS_OK) {
        fprintf(stderr, "cannot set up the state directory or the network\n");
        return 2;
    }

    /* Every byte the engine uses is lent to it here; nothing is allocated. */
    static eas_folder_t folders[CONFIG_EAS_MAX_FOLDERS];
    static eas_outbox_slot_t outbox[CONFIG_EAS_OUTBOX_SLOTS];
    static uint8_t arena_mem[CONFIG_EAS_ARENA_SIZE], http_work[EAS_HTTP_CLIENT_WORK_SIZE];
    static eas_arena_t arena;
    eas_arena_init(&arena, arena_mem, sizeof(arena_mem));
    eas_engine_mem_t mem = {folders, CONFIG_EAS_MAX_FOLDERS, outbox, CONFIG_EAS_OUTBOX_SLOTS,
                            &arena, http_work, sizeof(http_work), NULL};
    eas_account_cfg_t cfg = {
        .url = arg[0], .user = arg[1], .device_id = arg[3], .device_type = "easd",
        .auth = {.kind = EAS_HTTP_AUTH_BASIC, .user = arg[1], .password = password},
        .classes = EAS_CLASS_EMAIL | EAS_CLASS_CALENDAR, .store_prefix = "acct0"};

    int rc = eas_engine_init(&a.eng, &cfg, &mem, &net, on_event, &a); /* loads saved state */
    if (rc == EAS_OK) {
        easd_linux_loop_t loop;
        rc = easd_linux_loop_init(&loop, EASD_LINUX_LOOP_SIGNALS);
        a.give_up_ms = hal_time_monotonic_ms() + 120000u; /* every wait has a deadline */
        rc = rc == EAS_OK ? easd_linux_loop_run(&loop, step, &a) : rc;
        easd_linux_loop_deinit(&loop);
        eas_engine_close(&a.eng);
    }
    printf("%s: %u items, state %s%s%s\n", a.done ? "synced" : "stopped", a.items,
           eas_engine_state_name(eas_engine_state(&a.eng)), rc < 0 ? ", " : "",
           rc < 0 ? eas_strerror(rc) : "");
    easd_linux_net_deinit(&a.net);
    easd_linux_store_deinit();
    return a.done ? 0 : 1;
}
