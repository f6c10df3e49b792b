/* SPDX-License-Identifier: Apache-2.0 */
/*
 * easd example: how a new mail's fields reach the application. Syncs the Email folders of
 *  one account once (Linux port) and prints the header of every mail, collected from the
 * EAS_EV_ITEM_FIELD events between EAS_EV_ITEM_BEGIN and EAS_EV_ITEM_END:
 *   mail_headers URL USER PASSWORD_FILE DEVICE_ID STATE_DIR   (or EASD_* as in quickstart.c)
 * The engine never buffers an item: each field streams past once, possibly in several
 * pieces, and the application keeps what it wants (here: bounded header strings and the
 * first 255 bytes of the body). docs/integration.md §6 walks through it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "eas/eas.h"
#include "easd_linux.h"

/* One header value as the application keeps it: at most 255 bytes, cut on a UTF-8 boundary. */
struct text {
    char s[256];
    bool cut; /* the value was longer: the rest of its pieces is dropped */
};

/* One mail as the application stores it. */
struct mail {
    char folder[EAS_ID_CAP], server_id[EAS_ID_CAP];
    struct text from, to, subject, date_received, read, preview, truncated;
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

/* Append one piece of a value: a value may arrive in several pieces (EAS_FIELD_MORE), and a
   piece may end inside a UTF-8 sequence that the next piece completes. */
static void append(struct text *t, const uint8_t *data, size_t len)
{
    size_t have = strlen(t->s);
    size_t room = sizeof(t->s) - 1 - have;
    if (t->cut) {
        return;
    }
    if (len > room) { /* keep whole UTF-8 sequences only: data[len] is the first byte dropped */
        t->cut = true;
        for (len = room; len > 0 && (data[len] & 0xC0u) == 0x80u; len--) {
        }
        if (len == 0 && (data[0] & 0xC0u) == 0x80u) { /* the sequence began in a past piece */
            while (have > 0 && ((uint8_t)t->s[have - 1] & 0xC0u) == 0x80u) {
                have--;
            }
            have -= (have > 0 && ((uint8_t)t->s[have - 1] & 0x80u) != 0u) ? 1u : 0u;
        }
    }
    memcpy(t->s + have, data, len);
    t->s[have + len] = '\0';
}

/* Where a TEXT piece goes: the tag names the innermost element; depth 1 is a direct child of
   ApplicationData (Email:From ...), the Body's Data and Truncated are at depth 2. */
static struct text *slot(struct mail *m, uint16_t tag, uint16_t depth)
{
    switch (depth == 1 ? tag : 0u) {
    case EAS_EMAIL_FROM:
        return &m->from;
    case EAS_EMAIL_TO:
        return &m->to;
    case EAS_EMAIL_SUBJECT:
        return &m->subject;
    case EAS_EMAIL_DATE_RECEIVED:
        return &m->date_received;
    case EAS_EMAIL_READ:
        return &m->read;
    default:
        break;
    }
    switch (depth == 2 ? tag : 0u) { /* inside AirSyncBase:Body */
    case EAS_AIRSYNCBASE_DATA:
        return &m->preview;
    case EAS_AIRSYNCBASE_TRUNCATED:
        return &m->truncated;
    default:
        return NULL;
    }
}

static void print_mail(const struct app *a)
{
    const struct mail *m = &a->m;
    if (a->op == EAS_ITEM_CHANGE) { /* a change carries only what changed (e.g. Read) */
        printf("change %s/%s read=%s\n", m->folder, m->server_id, m->read.s[0] ? m->read.s : "-");
        return;
    }
    char preview[sizeof(m->preview.s)];
    for (size_t i = 0; i < sizeof(preview); i++) { /* one line: control characters as spaces */
        preview[i] =
            ((uint8_t)m->preview.s[i] < 0x20u && m->preview.s[i] != '\0') ? ' ' : m->preview.s[i];
    }
    printf("mail %s/%s\n  From: %s\n  To: %s\n  Subject: %s\n  DateReceived: %s\n"
           "  Read: %s\n  Preview: %s%s\n",
           m->folder, m->server_id, m->from.s, m->to.s, m->subject.s, m->date_received.s,
           m->read.s[0] == '1' ? "yes" : "no", preview,
           (m->truncated.s[0] == '1' || m->preview.cut) ? " [...]" : "");
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
            struct text *t = slot(&a->m, ev->u.field.tag, ev->u.field.depth);
            if (t != NULL && ev->u.field.kind == EAS_FIELD_TEXT) {
                append(t, ev->u.field.data, ev->u.field.len);
            }
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
    const char *env[5] = {"EASD_URL", "EASD_USER", "EASD_PASSWORD_FILE", "EASD_DEVICE_ID",
                          "EASD_STATE_DIR"};
    const char *arg[5];
    for (int i = 0; i < 5; i++) {
        arg[i] = argc == 6 ? argv[i + 1] : getenv(env[i]);
        if (arg[i] == NULL) {
            fprintf(stderr, "usage: mail_headers URL USER PASSWORD_FILE DEVICE_ID STATE_DIR\n");
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

    easd_linux_log_config(&(easd_linux_log_config_t){.min_level = HAL_LOG_WARN});
    (void)mkdir(arg[4], 0700);
    static struct app a;
    hal_net_t net;
    easd_linux_net_config_t netcfg = {.ca_file = getenv("EASD_CA_FILE")};
    if (easd_linux_store_init(arg[4]) != EAS_OK ||
        easd_linux_net_init(&a.net, &netcfg, &net) != EAS_OK) {
        fprintf(stderr, "cannot set up the state directory or the network\n");
        return 2;
    }
    static eas_engine_storage_t storage; /* folders, outbox, arena, HTTP buffers */
    eas_engine_mem_t mem = eas_engine_storage_mem(&storage);
    /* Plain-text bodies cut by the server at 256 bytes: enough for a preview; the whole
       body, when the user opens the mail, comes from eas_fetch(). */
    eas_account_cfg_t cfg = {
        .url = arg[0],
        .user = arg[1],
        .device_id = arg[3],
        .device_type = "easd",
        .auth = {.kind = EAS_HTTP_AUTH_BASIC, .user = arg[1], .password = password},
        .classes = EAS_CLASS_EMAIL,
        .body_type = 1,
        .body_truncation = 256,
        .store_prefix = "mail0"};

    int rc = eas_engine_init(&a.eng, &cfg, &mem, &net, easd_linux_hal(), on_event, &a);
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
