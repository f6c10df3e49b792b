/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What docs/integration.md §8 says may be called from inside on_event(), done from inside
 * on_event() against a real server (tools/eas-testserver), with the results printed for
 * test_reentry.py to check:
 *   - at ITEM_END of Inbox item 1:2: eas_item_change() (Read = 1), eas_outbox_pending(),
 *     eas_engine_state(), eas_engine_folder(), eas_fetch() of item 1:4's whole body (72,000
 *     bytes; Sync delivers 64);
 *   - at ITEM_END of Sent Items item 4:1: eas_item_delete();
 *   - at EAS_EV_FETCH_END: eas_fetch() again, which must be refused (EAS_ERR_BUSY), never lost;
 *   - at the first EAS_EV_FOLDER_SYNCED: eas_sync_now().
 * It stops when the first sync is complete, the outbox is empty and the fetch ended.
 *   reentry_client URL USER PASSWORD_FILE DEVICE_ID STATE_DIR CA_FILE
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "eas/eas.h"
#include "easd_linux.h"

struct app {
    eas_engine_t eng;
    easd_linux_net_t net;
    uint64_t give_up_ms;
    bool complete, fetch_done, sync_now_done;
    size_t fetch_bytes;
};

static void result(const char *what, int rc)
{
    printf("call %s %d\n", what, rc); /* numbers: the minimal preset has no names */
}

static int on_event(void *user, eas_event_t *ev)
{
    struct app *a = user;
    uint32_t id = 0;
    switch (ev->type) {
    case EAS_EV_POLICY_DECIDE:
        ev->u.policy.decision = EAS_POLICY_PARTIAL;
        break;
    case EAS_EV_ITEM_END:
        if (strcmp(ev->u.item.server_id, "1:2") == 0 && ev->u.item.op == EAS_ITEM_ADD) {
            static const eas_field_t read[] = {{EAS_EMAIL_READ, EAS_FIELD_TEXT, "1", 1}};
            result("item_change", eas_item_change(&a->eng, ev->u.item.folder, "1:2",
                                                  EAS_CHANGE_EDIT, 0, read, 1, &id));
            printf("pending %zu\n", eas_outbox_pending(&a->eng, EAS_OUTBOX_CHANGE));
            printf("state %s\n", eas_engine_state_name(eas_engine_state(&a->eng)));
            printf("folder %s\n", eas_engine_folder(&a->eng, "1") ? "found" : "missing");
            result("fetch", eas_fetch(&a->eng, "1", "1:4", NULL, &id));
        } else if (strcmp(ev->u.item.server_id, "4:1") == 0 && ev->u.item.op == EAS_ITEM_ADD) {
            result("item_delete", eas_item_delete(&a->eng, ev->u.item.folder, "4:1", &id));
        }
        break;
    case EAS_EV_ITEM_FIELD:
        if (!a->fetch_done && ev->u.field.tag == EAS_AIRSYNCBASE_DATA) {
            a->fetch_bytes += ev->u.field.len; /* counts Sync bodies too until the fetch */
        }
        break;
    case EAS_EV_FETCH_BEGIN:
        a->fetch_bytes = 0;
        break;
    case EAS_EV_FETCH_END:
        printf("fetch_end status %u final %d bytes %zu\n", (unsigned)ev->u.fetch.status,
               (int)ev->u.fetch.final, a->fetch_bytes);
        result("fetch_again", eas_fetch(&a->eng, "1", "1:3", NULL, &id));
        a->fetch_done = ev->u.fetch.final;
        break;
    case EAS_EV_FOLDER_SYNCED:
        if (!a->sync_now_done) {
            a->sync_now_done = true;
            result("sync_now", eas_sync_now(&a->eng, NULL));
        }
        break;
    case EAS_EV_OUTBOX_RESULT:
        printf("outbox_result kind %d status %u final %d\n", (int)ev->u.outbox.kind,
               (unsigned)ev->u.outbox.status, (int)ev->u.outbox.final);
        break;
    case EAS_EV_ERROR:
        printf("error %d %s\n", ev->u.error.err,
               ev->u.error.what ? ev->u.error.what : "");
        break;
    case EAS_EV_SYNC_COMPLETE:
        a->complete = true;
        break;
    default:
        break;
    }
    fflush(stdout);
    return EAS_OK;
}

static int step(void *ctx, easd_linux_event_t ev, uint64_t now_ms, uint64_t *deadline_ms,
                easd_linux_wait_t *wait)
{
    struct app *a = ctx;
    int rc = eas_step(&a->eng, (eas_step_event_t)ev, now_ms, deadline_ms);
    bool done = a->complete && a->fetch_done && eas_outbox_pending(&a->eng, EAS_OUTBOX_NONE) == 0;
    if (rc < 0 || done || now_ms >= a->give_up_ms) {
        return rc < 0 ? rc : (done ? 1 : EAS_ERR_TIMEOUT);
    }
    *deadline_ms = *deadline_ms < a->give_up_ms ? *deadline_ms : a->give_up_ms;
    unsigned io = eas_engine_wait_io(&a->eng);
    easd_linux_net_wait(&a->net, (io & EAS_IO_READ) != 0u, (io & EAS_IO_WRITE) != 0u, wait);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 7) {
        fprintf(stderr, "usage: reentry_client URL USER PASSWORD_FILE DEVICE_ID STATE_DIR CA\n");
        return 2;
    }
    static char password[256];
    FILE *f = fopen(argv[3], "r");
    if (f == NULL || fgets(password, sizeof(password), f) == NULL) {
        return 2;
    }
    fclose(f);
    password[strcspn(password, "\r\n")] = '\0';
    static struct app a;
    hal_net_t net;
    easd_linux_net_config_t netcfg = {.ca_file = argv[6]};
    easd_linux_log_config(&(easd_linux_log_config_t){.min_level = HAL_LOG_WARN});
    (void)mkdir(argv[5], 0700);
    if (easd_linux_store_init(argv[5]) != EAS_OK ||
        easd_linux_net_init(&a.net, &netcfg, &net) != EAS_OK) {
        return 2;
    }
    static eas_engine_storage_t storage; /* folders, outbox, arena, HTTP buffers */
    eas_engine_mem_t mem = eas_engine_storage_mem(&storage);
    eas_account_cfg_t cfg = {
        .url = argv[1],
        .user = argv[2],
        .device_id = argv[4],
        .device_type = "easd",
        .auth = {.kind = EAS_HTTP_AUTH_BASIC, .user = argv[2], .password = password},
        .classes = EAS_CLASS_EMAIL,
        .body_type = 1,
        .body_truncation = 64,
        .store_prefix = "acct0"};
    int rc = eas_engine_init(&a.eng, &cfg, &mem, &net, easd_linux_hal(), on_event, &a);
    easd_linux_loop_t loop;
    if (rc == EAS_OK && (rc = easd_linux_loop_init(&loop, 0)) == EAS_OK) {
        a.give_up_ms = hal_time_monotonic_ms() + 120000u;
        rc = easd_linux_loop_run(&loop, step, &a);
        easd_linux_loop_deinit(&loop);
        eas_engine_close(&a.eng);
    }
    printf("end %d pending %zu state %s\n", rc,
           eas_outbox_pending(&a.eng, EAS_OUTBOX_NONE),
           eas_engine_state_name(eas_engine_state(&a.eng)));
    easd_linux_net_deinit(&a.net);
    easd_linux_store_deinit();
    return rc == 1 ? 0 : 1;
}
