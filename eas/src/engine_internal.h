/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private: the account engine's state and the contract between its scheduler (engine.c) and
 * its commands (cmd_*.c).
 *
 * Each EAS command the engine sends is one eng_cmd_t descriptor, defined in the file of its
 * command family. The scheduler knows commands only through these descriptors: it asks
 * them, in the order of its schedule table (engine.c), whether they are due (pick), starts
 * the one that is (start: request fields, parser), lets it write its body (build) and hands
 * it the completed, parsed answer (apply). A new command is its own file plus one entry in
 * that table (plus its parser in eng_priv_t::u if it has a new one).
 */
#ifndef EAS_ENGINE_INTERNAL_H
#define EAS_ENGINE_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "eas/eas_config_defaults.h"
#include "eas/eas_cookie.h"
#include "eas/eas_engine.h"
#include "eas/eas_http.h"
#include "eas/eas_wbxml.h"
#include "eas_heartbeat.h"
#include "eas_proto.h"
#include "eas_state.h"
#include "eas_status.h"

/* Outbox kinds that travel inside Sync (the others are commands of their own). */
#define SYNC_KIND(k) ((k) >= EAS_OUTBOX_ADD && (k) <= EAS_OUTBOX_DELETE)

/* Engine-private folder flag: not (yet) seen in a FolderSync restarted from key 0. */
#define FOLDER_F_UNSEEN 0x80u
/* [S 2.15] Ping rejected without naming the folder: the folders that may be the cause, and
   the half of them the next Ping carries (bisection). Never persisted. */
#define FOLDER_F_SUSPECT 0x40u
#define FOLDER_F_PROBE   0x20u

/* Most folders in one Ping (the server may ask for fewer with status 6). */
#define PING_LIST_MAX 16u

/* Outbox in-flight states (slot.in_flight). */
#define OB_SENT  1u
#define OB_DONE  2u /* answered: remove before committing the new sync key */
#define OB_RETRY 3u /* answered "try again later" (5, 16): kept, attempt counted */
/* slot.reserved: a maybe-delivered MeetingResponse was checked against a sync of the folders
   that show it applied (cleared by each send). */
#define MR_CHECKED 0x0001u

/* eng_cmd_t::flags */
#define ENG_CMD_F_NO_WBXML  0x01u /* the answer has no WBXML body (OPTIONS) */
#define ENG_CMD_F_EMPTY_OK  0x02u /* an empty 200 is a complete answer (Sync, Ping, SendMail) */
#define ENG_CMD_F_PROVISION 0x04u /* part of provisioning: never replayed after it */
#define ENG_CMD_F_IDLE      0x08u /* the idle wait (Ping): queued work interrupts it */

typedef struct eng_cmd eng_cmd_t;

/** One EAS command as the scheduler sees it. */
struct eng_cmd {
    const char *name;         /**< for logs */
    eas_engine_state_t state; /**< engine state while it runs */
    uint8_t flags;            /**< ENG_CMD_F_* */
    uint8_t arg;              /**< command-specific (Provision: which request) */
    uint32_t max_string;      /**< decoder string/opaque bound; 0 = the Sync-sized default */
    eas_wbxml_cb_t decode;    /**< parser fed the response (NULL: none) */
    /** Due now? Returns the command to start (itself or a related one) or NULL. It may pick
        the outbox slot / folder it will work on. NULL: only started by another command. */
    const eng_cmd_t *(*pick)(eas_engine_t *e);
    /** Request fields (p->req.cmd, ...) and parser init. An error was already reported
        (and the back-off scheduled): the request is not sent. */
    int (*start)(eas_engine_t *e);
    /** The request body; ends with eas_wbxml_enc_finish() unless it writes raw bytes. NULL:
        no body. May run more than once per request (restartable producer). */
    int (*build)(eas_engine_t *e, eas_wbxml_enc_t *enc, eas_http_write_fn write, void *wctx);
    /** The answer arrived complete (HTTP 200, parsed without error): act on it. */
    void (*apply)(eas_engine_t *e, const eas_http_response_t *rsp);
    /** Optional: the answer was malformed; undo what the parser applied on the way. */
    void (*parse_failed)(eas_engine_t *e);
    /** Optional: a failure of this command is going to the back-off. */
    void (*backoff)(eas_engine_t *e, int err, uint16_t status);
};

typedef struct eng_priv {
    eas_http_client_t http;
    eas_cookie_jar_t jar; /* used when jar_on (eas_engine_mem_t::cookie_mem) */
    uint8_t jar_on;
    eas_http_request_t req;
    eas_http_param_t param;
    eas_wbxml_dec_t dec;
    union {
        eas_prov_parser_t prov;
        eas_fs_parser_t fs;
        eas_sync_parser_t sync;
        eas_ping_parser_t ping;
        eas_meeting_parser_t meet;
        eas_fetch_parser_t fetch;
        eas_move_parser_t move;
        eas_estimate_parser_t est;
        eas_compose_parser_t compose;
        eas_settings_parser_t set;
    } u;
    eas_state_ns_t ns; /* the account's records: eas_engine_t::sys.store + cfg->store_prefix */
    eas_outbox_t ob;
    uint8_t encbuf[96];
    char temp_key[EAS_ID_CAP];
    uint64_t wake_ms; /* back-off end / next Ping; 0 = none */
    uint64_t now_ms;
    uint32_t failures; /* consecutive failures: the back-off exponent */
    uint32_t ping_max_folders;
    eas_hb_t hb;             /* the adaptive heartbeat (cmd_ping.c) */
    uint64_t ping_sent_ms;   /* when the Ping in flight was started */
    uint32_t ping_iv;        /* HeartbeatInterval of the Ping in flight */
    uint32_t ping_cache_sig; /* folder set and interval the server has cached ... */
    uint32_t ping_cache_iv;
    uint8_t ping_cached;   /* ... valid: an unchanged Ping may go with an empty body */
    uint8_t ping_empty;    /* the Ping in flight has an empty body */
    uint8_t ping_no_empty; /* the server refused an empty Ping: always full from now on */
    int parse_err;
    unsigned wait_io;
    int stop_err;            /* error of a stopped state */
    const eng_cmd_t *cmd;    /* the command in flight (or last started) */
    const eng_cmd_t *replay; /* command to replay after re-provisioning [S 2.12] */
    uint8_t running;         /* an HTTP request is in progress */
    uint8_t prov_attempts;
    uint8_t ack_status;
    uint8_t fs_reset; /* FolderSync restarted from key 0 (status 9) */
    uint8_t cmds_sent;
    uint8_t got_body;
    uint8_t throttled; /* the answer being handled carried X-MS-ASThrottle (busy back-off) */
    int16_t cur;       /* folder being synced */
    uint16_t items;    /* items applied from the current response */
    uint8_t item_open;
    uint8_t ping_rejected; /* consecutive Ping rejections (3/4/7/132) */
    uint8_t probing;       /* searching the folder a Ping was rejected for */
    uint8_t fs_pending;    /* an incremental FolderSync is due (restart, Sync 8/12) */
    uint8_t item_resp;     /* ResponseType of the calendar item being delivered (0 = none) */
    uint8_t item_self;     /* the account's own AttendeeStatus in it (0 = none) */
    uint8_t att_status;    /* AttendeeStatus of the Attendee being parsed */
    uint16_t att_pos;      /* its Email matched against cfg->email so far (0xFFFF: not ours) */
    uint64_t item_uid;     /* eng_uid_hash state of its UID (0 = none) */
    int16_t mr_slot;       /* outbox slot of the MeetingResponse in flight */
    uint8_t hier_retries;  /* Sync 12 answers in a row: bounded, then back-off */
    uint8_t poll;          /* nothing to ping: wait for wake_ms, then sync everything */
    uint8_t rej_valid;     /* rej_sig holds the folder set of a rejected Ping */
    uint32_t ping_sig;     /* signature of the folder set of the Ping in flight */
    uint32_t rej_sig;
    uint16_t rej_status;
    uint8_t complete_reported;
    uint8_t parked;      /* no_push: up to date, nothing runs until eng_interrupt_ping() */
    uint8_t cal_active;  /* the calendar collector is fed the current item */
    uint16_t cal_depth;  /* depth of the item's ApplicationData */
    int cal_err;         /* first structural error of the collector */
    uint8_t redirects;   /* HTTP 451 followed in a row (capped, loop-checked) */
    uint8_t url_unsaved; /* p->url came from a 451 and is not persisted yet */
    uint8_t url_pending; /* p->url is a 451 target awaiting approval (unused) */
    char url[CONFIG_EAS_URL_MAX + 1]; /* learned server URL ("" = the configured one) */
    int16_t mv_slot;                  /* outbox slot of the MoveItems in flight */
    int16_t send_slot;                /* outbox slot of the mail in flight */
    /* 12.1 SmartReply/SmartForward query parameters (valid while the request runs) */
    eas_http_param_t send_params[2];
    char send_src_folder[EAS_ID_CAP];
    char send_src_item[EAS_ID_CAP];
    int16_t est_index;  /* folder whose first sync is being estimated / counted (-1 none) */
    uint8_t est_valid;  /* est_total holds the server's estimate */
    uint32_t est_total; /* GetItemEstimate answer */
    uint32_t est_done;  /* items delivered since */
    /* eas_fetch(): one at a time, not persisted */
    uint8_t fetch_pending;
    uint8_t fetch_attempts;
    uint32_t fetch_id;
    uint32_t fetch_next_id;
    char fetch_folder[EAS_ID_CAP];
    char fetch_sid[EAS_ID_CAP];
    char fetch_ref[EAS_FETCH_REF_MAX + 1];
    /* Settings DeviceInformation (cmd_settings.c), per run */
    uint8_t di_state;    /* not looked at / due / accepted / given up */
    uint8_t di_attempts; /* failed attempts */
    uint8_t di_forced;   /* a 165 asked for it again */
} eng_priv_t;

_Static_assert(sizeof(eng_priv_t) <= sizeof(((eas_engine_t *)0)->priv),
               "eas_engine_t::priv too small for the engine's private state");

static inline eng_priv_t *P(eas_engine_t *e)
{
    return (eng_priv_t *)(void *)e->priv;
}

static inline const eng_priv_t *PC(const eas_engine_t *e)
{
    return (const eng_priv_t *)(const void *)e->priv;
}

/* Where the account's records live (state.c). */
static inline const eas_state_ns_t *eng_ns(eas_engine_t *e)
{
    return &P(e)->ns;
}

/* Random bytes from the port's source (hal_sys_t::rng). */
static inline int eng_rng(eas_engine_t *e, uint8_t *buf, size_t len)
{
    return e->sys.rng.fill(e->sys.rng.ctx, buf, len);
}

/* ---- the commands (one descriptor each, in their family's file) ---- */

extern const eng_cmd_t eng_cmd_options;       /* cmd_provision.c */
extern const eng_cmd_t eng_cmd_prov_policy;   /* cmd_provision.c */
extern const eng_cmd_t eng_cmd_prov_ack;      /* cmd_provision.c */
extern const eng_cmd_t eng_cmd_prov_wipe_ack; /* cmd_provision.c */
extern const eng_cmd_t eng_cmd_settings;      /* cmd_settings.c */
extern const eng_cmd_t eng_cmd_foldersync;    /* cmd_foldersync.c */
extern const eng_cmd_t eng_cmd_sync;          /* cmd_sync.c */
extern const eng_cmd_t eng_cmd_ping;          /* cmd_ping.c */
extern const eng_cmd_t eng_cmd_meeting;       /* cmd_outbox.c (CONFIG_EAS_MEETING_RESPONSE) */
extern const eng_cmd_t eng_cmd_move;          /* cmd_outbox.c (CONFIG_EAS_MOVE) */
extern const eng_cmd_t eng_cmd_send;          /* cmd_mail.c (CONFIG_EAS_EMAIL) */
extern const eng_cmd_t eng_cmd_fetch;         /* cmd_fetch.c (CONFIG_EAS_FETCH) */
extern const eng_cmd_t eng_cmd_estimate;      /* cmd_fetch.c (CONFIG_EAS_ESTIMATE) */

/* ---- scheduler services (engine.c) ---- */

int eng_emit(eas_engine_t *e, eas_event_t *ev);
void eng_set_state(eas_engine_t *e, eas_engine_state_t s);
void eng_report(eas_engine_t *e, int err, uint16_t status, const char *what, const char *folder);
void eng_stop(eas_engine_t *e, eas_engine_state_t s, int err, uint16_t status, const char *what);
/* The one retry policy: every failure goes through here [S 2.9, 2.2]. */
void eng_fail_backoff(eas_engine_t *e, int err, uint16_t status, const char *what,
                      uint32_t retry_after_s);
/* Starts @p cmd now (a failure to start is reported and backed off). */
int eng_start(eas_engine_t *e, const eng_cmd_t *cmd);
/* Starts whatever is due next (or the idle Ping / poll). */
void eng_next(eas_engine_t *e);
bool eng_reprovision_status(uint32_t s);
/* 139/141: the server says the device cannot comply; ends in EAS_STATE_POLICY_REFUSED. */
bool eng_unmeetable_status(uint32_t s);
/* [S 2.12] Re-provision, then replay @p failed with the new key; capped. */
void eng_reprovision(eas_engine_t *e, const eng_cmd_t *failed, uint16_t status);
int eng_save_acct(eas_engine_t *e);
/* engine_redirect.c: the URL in use, HTTP 451, the stored redirect */
const char *eng_url(const eas_engine_t *e);
void eng_follow_redirect(eas_engine_t *e, const eng_cmd_t *cmd, const char *loc);
void eng_load_stored_url(eas_engine_t *e);
/* UTC seconds from the application's clock (0 without one). */
int64_t eng_utc(const eas_engine_t *e);
uint32_t eng_policy_key_u32(const char *k);
/* A running Ping (or an idle poll wait) is abandoned so queued work starts now. */
void eng_interrupt_ping(eas_engine_t *e);

int eng_folder_find(const eas_engine_t *e, const char *id);
bool eng_folder_needs_sync(const eas_engine_t *e, size_t i);
void eng_folder_select(eas_engine_t *e, eas_folder_t *f);
void eng_outbox_resolve_folders(eas_engine_t *e);

/* ---- shared between command families ---- */

/* cmd_ping.c: the next Ping, or the poll wait when nothing can be pinged. */
void eng_ping_start(eas_engine_t *e);
/* cmd_ping.c: the heartbeat from the configuration and the store (eas_engine_init). */
void eng_ping_init(eas_engine_t *e);
/* engine.c: command-level statuses every command may get (MS-ASCMD common status): 111
   → the back-off (busy start), 177 (too many devices) → stopped, 165 → Settings
   DeviceInformation. True when @p st was handled. Every command's apply() asks it after
   its re-provisioning check, for its top-level Status (and a per-item one where the
   server may put it there): Provision, FolderSync, Sync, GetItemEstimate, Ping,
   ItemOperations, MeetingResponse, MoveItems, SendMail, Settings. */
bool eng_common_status(eas_engine_t *e, uint32_t st, const char *what);
/* cmd_settings.c: the User-Agent sent (configured or the default); status 165 from any
   command (device information once more per run, then stopped); eas_engine_restart(). */
const char *eng_user_agent(const eas_engine_t *e);
void eng_devinfo_required(eas_engine_t *e, const char *what);
void eng_devinfo_restart(eas_engine_t *e);
/* cmd_sync.c */
int eng_on_item_field(void *user, const eas_wbxml_event_t *wev, uint16_t rel);
int eng_folder_filter(const eas_engine_t *e, const eas_folder_t *f);
/* cmd_outbox.c */
void eng_outbox_result(eas_engine_t *e, size_t slot, uint16_t status, const char *sid);
bool eng_outbox_next(eas_engine_t *e, uint8_t kind, int16_t *slot);
int eng_outbox_mark_sent(eas_engine_t *e, int16_t slot, const char *what);
void eng_outbox_answered(eas_engine_t *e, size_t slot, uint16_t status, uint16_t ok,
                         const char *sid, const char *rejected);
void eng_mr_check_delivered(eas_engine_t *e, bool deleted, const char *sid);
void eng_mr_item_field(eas_engine_t *e, const eas_wbxml_event_t *wev, uint16_t rel);
/* cmd_fetch.c */
void eng_progress(eas_engine_t *e);
void eng_fetch_end(eas_engine_t *e, uint16_t status, int err, bool final);

#endif /* EAS_ENGINE_INTERNAL_H */
