/* SPDX-License-Identifier: Apache-2.0 */
/*
 * easd example: how a new mail's fields reach the application. Syncs the Email folders of
 * one account once (Linux port) and prints one header line per mail, collected from the
 * EAS_EV_ITEM_FIELD events between EAS_EV_ITEM_BEGIN and EAS_EV_ITEM_END:
 *   mail_headers URL USER PASSWORD_FILE DEVICE_ID STATE_DIR   (or EASD_* as in quickstart.c)
 * The engine never buffers an item: each field streams past once, possibly in several
 * pieces, and the application keeps what it wants (here: bounded header strings and the
 * first PREVIEW_MAX bytes of the body). docs/integration.md, "How a new mail arrives".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "eas/eas.h"
#include "easd_linux.h"

#define PREVIEW_MAX 80

/* One mail as the application stores it. Strings are cut at their buffer, never overrun. */
struct mail {
    char folder[EAS_ID_CAP], server_id[EAS_ID_CAP];
    char from[256], to[256], subject[256], date_received[32], read[4], truncated[4];
    char preview[PREVIEW_MAX + 1];
};

struct app {
    eas_engine_t eng;
    easd_linux_net_t net;
    uint64_t give_up_ms;
    bool done, collecting;
    eas_item_op_t op;
    struct mail m;
    unsigned mails;
};

/* Append one piece of a value; a value may arrive in several pieces (EAS_FIELD_MORE). */
static void append(char *dst, size_t cap, const uint8_t *data, size_t len)
{
    size_t have = strlen(dst);
    size_t n = len < cap - 1 - have ? len : cap - 1 - have;
    memcpy(dst + have, data, n);
    dst[have + n] = '\0';
    if (n < len) { /* cut: do not leave half a UTF-8 sequence at the end */
        while (have + n > 0 && ((uint8_t)dst[have + n - 1] & 0xC0u) == 0x80u) {
            n--;
        }
        if (have + n > 0 && ((uint8_t)dst[have + n - 1] & 0x80u) != 0u) {
            n--; /* the lead byte of the cut sequence */
        }
        dst[have + n] = '\0';
    }
}

/* Where a TEXT piece of the item goes: the tag names the innermost element, depth 1 is a
   direct child of ApplicationData (Email:From ...), Body's Data and Truncated are depth 2. */
static void collect(struct mail *m, const eas_event_t *ev)
{
    char *dst = NULL;
    size_t cap = 0;
    if (ev->u.field.kind != EAS_FIELD_TEXT) {
        return;
    }
#define TO(field) (dst = m->field, cap = sizeof(m->field))
    switch (ev->u.field.tag) {
    case EAS_EMAIL_FROM: TO(from); break;
    case EAS_EMAIL_TO: TO(to); break;
    case EAS_EMAIL_SUBJECT: TO(subject); break;
    case EAS_EMAIL_DATE_RECEIVED: TO(date_received); break;
    case EAS_EMAIL_READ: TO(read); break;
    case EAS_AIRSYNCBASE_DATA: TO(preview); break;
    case EAS_AIRSYNCBASE_TRUNCATED: TO(truncated); break;
    default: break;
    }
#undef TO
    bool in_body = ev->u.field.tag == EAS_AIRSYNCBASE_DATA ||
                   ev->u.field.tag == EAS_AIRSYNCBASE_TRUNCATED;
    if (dst != NULL && ev->u.field.depth == (in_body ? 2u : 1u)) {
        append(dst, cap, ev->u.field.data, ev->u.field.len);
    }
}

static void print_mail(const struct app *a)
{
    const struct mail *m = &a->m;
    if (a->op == EAS_ITEM_CHANGE) { /* a change carries only what changed (e.g. Read) */
        printf("change %s/%s read=%s\n", m->folder, m->server_id, m->read[0] ? m->read : "-");
        return;
    }
    char preview[PREVIEW_MAX + 1];
    size_t i = 0;
    for (; m->preview[i] != '\0'; i++) { /* one line: control characters become spaces */
        preview[i] = ((uint8_t)m->preview[i] < 0x20u) ? ' ' : m->preview[i];
    }
    preview[i] = '\0';
    printf("mail %s/%s\n  From: %s\n  To: %s\n  Subject: %s\n  DateReceived: %s\n"
           "  Read: %s\n  Preview: %s%s\n",
           m->folder, m->server_id, m->from, m->to, m->subject, m->date_received,
           m->read[0] == '1' ? "yes" : "no", preview, m->truncated[0] == '1' ? " [...]" : "");
}

static int on_event(void *user, eas_event_t *ev)
{
    struct app *a = user;
    switch (ev->type) {
    case EAS_EV_POLICY_DECIDE: /* enforces nothing, so never ENFORCE_ALL (see quickstart.c) */
        ev->u.policy.decision = EAS_POLICY_PARTIAL;
        break;
    case EAS_EV_ITEM_BEGIN:
        a->collecting = ev->u.item.cls == EAS_CLASS_EMAIL && ev->u.item.op != EAS_ITEM_DELETE;
        if (ev->u.item.op == EAS_ITEM_DELETE) { /* complete already: no fields, no END data */
            printf("delete %s/%s\n", ev->u.item.folder, ev->u.item.server_id);
        }
        if (a->collecting) {
            memset(&a->m, 0, sizeof(a->m));
            a->op = ev->u.item.op;
            snprintf(a->m.folder, sizeof(a->m.folder), "%s", ev->u.item.folder);
            snprintf(a->m.server_id, sizeof(a->m.server_id), "%s", ev->u.item.server_id);
        }
        break;
    case EAS_EV_ITEM_FIELD:
        if (a->collecting) {
            collect(&a->m, ev);
        }
        break;
    case EAS_EV_ITEM_END: /* the item is complete: store it now (an upsert by ServerId) */
        if (a->collecting) {
            a->mails++;
            print_mail(a);
            a->collecting = false;
        }
        break;
    case EAS_EV_ERROR:
        fprintf(stderr, "error: %s (%s)\n", eas_strerror(ev->u.error.err),
                ev->u.error.what ? ev->u.error.what : "");
        break;
    case EAS_EV_SYNC_COMPLETE:
        a->done = true;
        break;
    default:
        break;
    }
    return EAS_OK;
}

static int step(void *ctx, easd_linux_event_t ev, uint64_t now_ms, uint64_t *deadline_ms,
                easd_linux_wait_t *wait)
{
    struct app *a = ctx;
    int rc = eas_step(&a->eng, (eas_step_event_t)ev, now_ms, deadline_ms);
    if (rc < 0 || a->done || now_ms >= a->give_up_ms) {
        return rc < 0 ? rc : (a->done ? 1 : EAS_ERR_TIMEOUT);
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
            fprintf(stderr, "usage: mail_headers URL USER PASSWORD_FILE DEVICE_ID STATE_DIR\n");
            return 2;
        }
    }
    static char password[256];
    FILE *f = fopen(arg[2], "r");
    if (f == NULL || fgets(password, sizeof(password), f) == NULL) {
        fprintf(stderr, "cannot read the password file %s\n", arg[2]);
        return 2;
    }
    fclose(f);
    password[strcspn(password, "\r\n")] = '\0';

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
    static eas_folder_t folders[CONFIG_EAS_MAX_FOLDERS];
    static eas_outbox_slot_t outbox[CONFIG_EAS_OUTBOX_SLOTS];
    static uint8_t arena_mem[CONFIG_EAS_ARENA_SIZE], http_work[EAS_HTTP_CLIENT_WORK_SIZE];
    static eas_arena_t arena;
    eas_arena_init(&arena, arena_mem, sizeof(arena_mem));
    eas_engine_mem_t mem = {folders, CONFIG_EAS_MAX_FOLDERS, outbox, CONFIG_EAS_OUTBOX_SLOTS,
                            &arena, http_work, sizeof(http_work), NULL};
    /* Plain-text bodies cut by the server at 256 bytes: enough for a preview; the whole
       body, when the user opens the mail, comes from eas_fetch(). */
    eas_account_cfg_t cfg = {
        .url = arg[0], .user = arg[1], .device_id = arg[3], .device_type = "easd",
        .auth = {.kind = EAS_HTTP_AUTH_BASIC, .user = arg[1], .password = password},
        .classes = EAS_CLASS_EMAIL, .body_type = 1, .body_truncation = 256,
        .store_prefix = "mail0"};

    int rc = eas_engine_init(&a.eng, &cfg, &mem, &net, on_event, &a);
    if (rc == EAS_OK) {
        easd_linux_loop_t loop;
        rc = easd_linux_loop_init(&loop, EASD_LINUX_LOOP_SIGNALS);
        a.give_up_ms = hal_time_monotonic_ms() + 120000u;
        rc = rc == EAS_OK ? easd_linux_loop_run(&loop, step, &a) : rc;
        easd_linux_loop_deinit(&loop);
        eas_engine_close(&a.eng);
    }
    printf("%s: %u mails, state %s\n", a.done ? "synced" : "stopped", a.mails,
           eas_engine_state_name(eas_engine_state(&a.eng)));
    easd_linux_net_deinit(&a.net);
    easd_linux_store_deinit();
    return a.done ? 0 : 1;
}
