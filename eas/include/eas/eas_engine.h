/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file eas_engine.h
 * @brief The EAS account engine: a non-blocking state machine that takes one account from
 *        nothing to a synced mailbox and keeps local changes flowing up without loss.
 *
 * ## Shape
 * The application owns an ::eas_engine_t, a folder table (::eas_folder_t array), an outbox
 * slot table (::eas_outbox_slot_t array), receive/transmit buffers and one ::eas_arena_t.
 * Nothing is allocated. One function advances everything:
 *
 * @code
 * eas_engine_t eng;
 * static eas_engine_storage_t storage;                 // folders, outbox, arena, HTTP buffers
 * eas_engine_mem_t mem = eas_engine_storage_mem(&storage);
 * static eas_engine_cal_t cal;                          // optional: parsed Calendar items
 * static eas_cal_exception_t ex[64];
 * cal.exceptions = ex; cal.exception_cap = 64;
 * mem.cal = &cal;
 * // net: the connector (hal_net_t); sys: store, random source, log sink (hal_sys_t),
 * // e.g. the Linux port's easd_linux_hal().
 * err = eas_engine_init(&eng, &cfg, &mem, &net, sys, on_event, app); // loads persisted state
 * for (;;) {
 *     uint64_t deadline;
 *     err = eas_step(&eng, EAS_STEP_TICK, now_ms(), &deadline);
 *     if (err < 0) break;                              // a stopped state (see eas_engine_state)
 *     wait_for(eas_engine_wait_io(&eng), deadline);    // readiness or deadline, then loop
 * }
 * @endcode
 *
 * eas_step() returns EAS_OK while the engine works or waits, and a negative error only in a
 * stopped state (it never returns EAS_ERR_AGAIN).
 *
 * ## Flow
 * OPTIONS (highest common version) → Provision (two phases; the application decides what
 * the device enforces) → FolderSync → Sync of each selected folder (SyncKey 0, then
 * incremental, WindowSize / MoreAvailable) → Ping with an adaptive heartbeat (it grows while
 * heartbeats expire cleanly, backs off below an interval at which the connection was dropped,
 * adopts the server's bounds and is remembered across restarts; docs/push.md). Server-side
 * status codes drive the recoveries listed in docs/integration.md; every failure goes
 * through one back-off policy.
 *
 * ## Delivery and crash safety
 * Items are delivered to the application *while* a response is parsed (memory does not grow
 * with the number of items). The folder's new SyncKey is committed to the store only after
 * the whole response has been applied. If power fails in between, the next run sends the
 * old key and the server resends the same batch: the application must therefore treat
 * ::EAS_EV_ITEM_BEGIN with op ADD or CHANGE as an **idempotent upsert keyed by
 * (folder, ServerId)** and DELETE of an unknown ServerId as a no-op. Then a crash never
 * duplicates or loses an item.
 *
 * Public struct layouts here never depend on Kconfig: sizes are the protocol's own limits
 * (ServerId, CollectionId, SyncKey and PolicyKey are at most 64 characters, MS-ASCMD) or
 * come from the application as (pointer, capacity) pairs.
 */
#ifndef EAS_ENGINE_H
#define EAS_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "eas/eas_arena.h"
#include "eas/eas_cal.h"
#include "eas/eas_err.h"
#include "eas/eas_http.h"
#include "eas/eas_config_defaults.h"
#include "hal/hal.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Bytes for an id or key: the protocol's 64 characters plus NUL. */
#define EAS_ID_CAP 65

/** Content classes (bit mask) for eas_account_cfg_t::classes and eas_folder_t::cls. */
#define EAS_CLASS_EMAIL    0x01u
#define EAS_CLASS_CALENDAR 0x02u
#define EAS_CLASS_CONTACTS 0x04u
#define EAS_CLASS_TASKS    0x08u
#define EAS_CLASS_NOTES    0x10u

/**
 * @brief The AirSync/Ping Class name of one EAS_CLASS_* bit ("Email", "Calendar", ...).
 * @return a static string, or NULL when @p cls is not exactly one known class.
 */
const char *eas_class_name(uint8_t cls);

/**
 * Reads @p len bytes of the MIME message @p mime_id at @p offset into @p buf (exactly
 * @p len; the engine never asks beyond the length given to eas_mail_send()). It is called
 * again from offset 0 for every transmit buffer of the request and after restarts, so it must
 * return the same bytes every time until the mail's ::EAS_EV_OUTBOX_RESULT.
 * @return EAS_OK or a negative error (the send is retried later).
 */
typedef int (*eas_mime_read_fn)(void *user, uint32_t mime_id, uint64_t offset, uint8_t *buf,
                                size_t len);

/**
 * What the device tells the server about itself (Settings DeviceInformation, MS-ASCMD; also
 * inside the first Provision at 14.1+). Sent once per account after provisioning, and again
 * only when one of these values (or the User-Agent) changes, e.g. after a firmware update.
 * Servers list and block devices by these values: keep them stable (docs/exchange-online.md).
 * NULL members are left out; a NULL model is sent as "easd". No IMEI or phone number: a
 * device without a modem has none, and they identify the owner.
 */
typedef struct eas_device_info {
    const char *model;         /**< e.g. "Acme Panel 7" */
    const char *friendly_name; /**< e.g. "Kitchen panel" */
    const char *os;            /**< e.g. "Linux 6.1" */
    const char *os_language;   /**< e.g. "en-US" */
} eas_device_info_t;

/** Account configuration. Strings must stay valid while the engine is used. */
typedef struct eas_account_cfg {
    /** EAS endpoint, e.g. "https://mail.example.com/Microsoft-Server-ActiveSync". A
        persisted redirect (HTTP 451) takes precedence once learned, but only as long as
        this URL stays the same (a changed URL drops it) and never with a weaker scheme;
        adopting one is reported as ::EAS_EV_SERVER_MOVED. */
    const char *url;
    const char *user;        /**< User= query value (the login name) */
    const char *email;       /**< the user's own address (reply-all drops it) */
    const char *device_id;   /**< never changes for the life of the device */
    const char *device_type; /**< e.g. "easd" */
    const char *user_agent;  /**< NULL: "easd/<version>" (changes with every easd release) */
    eas_device_info_t device_info; /**< Settings DeviceInformation (see there) */
    /** Credentials: Basic (user/password, the password buffer is the application's and
        may be replaced between steps) or a bearer-token callback. Never logged, never
        persisted by the engine. */
    eas_http_auth_t auth;
    eas_proto_ver_t max_version; /**< highest version to use (12.1..16.1); NONE = highest */
    uint8_t classes;             /**< EAS_CLASS_* to sync */
    uint8_t body_type;           /**< AirSyncBase BodyPreference Type: 1 text, 2 HTML, 4 MIME */
    uint16_t window_size;        /**< Sync WindowSize, 1..512 (0 = 100) */
    uint32_t body_truncation;    /**< BodyPreference TruncationSize; 0 or larger than
                                      CONFIG_EAS_WBXML_MAX_STRING - 16: that limit */
    uint8_t calendar_filter;     /**< Sync FilterType for calendar (0 = all, 4 = 2 weeks…) */
    uint8_t email_filter;        /**< Sync FilterType for email (0 = all, 3 = 3 days…) */
    /** First Ping heartbeat before anything is learned (0 = CONFIG_EAS_PING_START_S, 480 s).
        The adaptive heartbeat moves from there and persists what it learns. */
    uint32_t ping_interval_s;
    /** Longest heartbeat: the idle timeout of a NAT/firewall the device is known to sit
        behind (0 = CONFIG_EAS_PING_CEILING_S, 3540 s = the protocol's maximum). */
    uint32_t ping_ceiling_s;
    /** First retry delay (ms) after the server said it is busy without saying for how long
        (HTTP 503/429 without Retry-After, Status 111, X-MS-ASThrottle): 0 =
        CONFIG_EAS_BACKOFF_BUSY_MS (60 s); kept within CONFIG_EAS_BACKOFF_MIN_MS ..
        CONFIG_EAS_BACKOFF_MAX_MS. The back-off doubles from there (docs/push.md). */
    uint32_t backoff_busy_ms;
    /** Namespace of the store records ("acct0"): 1..16 chars of [A-Za-z0-9_-]. */
    const char *store_prefix;
    /** Ask GetItemEstimate before the first item Sync of a folder and report
        ::EAS_EV_PROGRESS (one extra request per folder and first sync). Needs
        CONFIG_EAS_ESTIMATE: without it eas_engine_init() returns EAS_ERR_UNSUPPORTED. */
    bool progress;
    /** MIME source of eas_mail_send() (CONFIG_EAS_EMAIL); NULL: sending is refused. */
    eas_mime_read_fn mime_read;
    void *mime_user;
    /** UTC seconds (cookie expiry, Retry-After dates); NULL: 0 (no cookie then outlives
        its Max-Age correctly - give a clock when eas_engine_mem_t::cookie_mem is set). */
    int64_t (*utc_now)(void *user);
    void *utc_user;
    /** Hosts an HTTP 451 (X-MS-Location) may move the account to without asking. A
        redirect to the same scheme, host and port is always followed; any other one is
        reported as ::EAS_EV_REDIRECT and the engine stops in EAS_STATE_REDIRECT_PENDING
        without contacting it (eas_engine_approve_redirect()). https → http never. */
    eas_http_allow_t redirect_allow;
    /** Send credentials over plain http:// as well. Off by default: an http URL with
        Basic or bearer credentials is refused (EAS_ERR_HTTP_PLAINTEXT_AUTH). For tests and
        closed networks only. */
    bool allow_plaintext_auth;
    /** No push: after a complete sync the engine starts no Ping and sends nothing more. It
        reports ::EAS_STATE_IDLE, and eas_step() returns EAS_OK with no deadline (or the
        back-off that is due) and no I/O wanted, until eas_sync_now() or a queued local
        change (eas_item_*, eas_meeting_respond*, eas_item_move, eas_mail_send, eas_fetch)
        starts the next round. For an application that syncs once and exits, or a
        battery-powered device that wakes every few minutes, syncs and sleeps: no request
        stays open and no radio time goes to a Ping nobody waits for. New mail then arrives
        only when the application asks (docs/push.md). false = push (Ping), as before. */
    bool no_push;
} eas_account_cfg_t;

/** Flags of an ::eas_folder_t. */
#define EAS_FOLDER_F_SELECTED 0x01u /**< synced (class selected in the configuration) */
#define EAS_FOLDER_F_SYNCED   0x02u /**< a complete initial sync has been committed */
#define EAS_FOLDER_F_DIRTY    0x04u /**< server reported changes (Ping 2) / sync requested */
#define EAS_FOLDER_F_NO_PING  0x08u /**< rejected by the server in Ping; never pinged again */
#define EAS_FOLDER_F_RESYNC   0x10u /**< recovering with SyncKey 0 (status 3/12/135) */

/** One folder of the hierarchy. The application provides the array; the engine fills it. */
typedef struct eas_folder {
    char server_id[EAS_ID_CAP];
    char parent_id[EAS_ID_CAP];
    char sync_key[EAS_ID_CAP]; /**< "0" until the first Sync */
    uint8_t type;              /**< FolderHierarchy Type (1..19) */
    uint8_t cls;               /**< EAS_CLASS_* derived from the type, 0 if not syncable */
    uint8_t flags;             /**< EAS_FOLDER_F_* */
    uint8_t last_status;       /**< last collection Status from the server */
    uint16_t repeat_count;     /**< consecutive MoreAvailable responses with the same key */
    uint16_t used;             /**< nonzero when the entry is in use */
} eas_folder_t;

/** Kinds of outbox entries. */
typedef enum eas_outbox_kind {
    EAS_OUTBOX_NONE = 0,
    EAS_OUTBOX_ADD = 1,
    EAS_OUTBOX_CHANGE = 2,
    EAS_OUTBOX_DELETE = 3,
    EAS_OUTBOX_MEETING_RESPONSE = 4,
    EAS_OUTBOX_MOVE = 5, /**< MoveItems; result status 3 = moved (server_id = new ServerId) */
    EAS_OUTBOX_SEND = 6  /**< SendMail / SmartReply / SmartForward; result status 1 = sent */
} eas_outbox_kind_t;

/** In-memory index of one outbox slot; the record itself lives in the store. */
typedef struct eas_outbox_slot {
    uint32_t seq;      /**< queue order; 0 = slot free */
    uint8_t kind;      /**< ::eas_outbox_kind_t */
    uint8_t in_flight; /**< part of the request being exchanged */
    uint16_t attempts; /**< sends that got no per-item answer */
    uint16_t folder;   /**< index into the folder table */
    uint16_t reserved;
} eas_outbox_slot_t;

/**
 * Calendar collector memory (optional, see eas_engine_mem_t::cal). With it, every Calendar
 * item add/change is also parsed by the calendar module while its fields stream past, and
 * ::EAS_EV_ITEM_END carries the parsed item (recurrence, exceptions attached to their
 * master, attendees, time zone) in u.item.cal. The raw ::EAS_EV_ITEM_FIELD events still
 * arrive. Exceptions beyond @ref exception_cap are counted in the item's exceptions_lost
 * (and eas_cal_expand() then refuses the item rather than showing cancelled occurrences).
 */
typedef struct eas_engine_cal {
    eas_cal_item_t item;          /**< filled per item; valid during ITEM_END */
    eas_cal_item_parser_t parser; /**< engine-private while an item is parsed */
    eas_cal_exception_t *exceptions;
    uint16_t exception_cap;
    eas_cal_attendee_t *attendees;
    uint16_t attendee_cap;
    /** Zone for items with no or an all-zero TimeZone blob; NULL: UTC. */
    const eas_cal_tz_t *device_tz;
} eas_engine_cal_t;

/** Memory the application lends to the engine for its lifetime. */
typedef struct eas_engine_mem {
    eas_folder_t *folders;
    size_t folder_cap; /**< at most CONFIG_EAS_MAX_FOLDERS are used */
    eas_outbox_slot_t *outbox;
    size_t outbox_cap;  /**< at most CONFIG_EAS_OUTBOX_SLOTS are used */
    eas_arena_t *arena; /**< reset per command; CONFIG_EAS_ARENA_SIZE is the recommended size */
    uint8_t *http_work; /**< HTTP client buffers: at least EAS_HTTP_CLIENT_WORK_SIZE bytes */
    size_t http_work_len;
    /** Calendar collector (NULL: Calendar items arrive as raw fields only). Needs
        CONFIG_EAS_CALENDAR; ignored without it. */
    eas_engine_cal_t *cal;
    /** Cookie jar memory (eas_cookie.h): EAS_COOKIE_JAR_SIZE bytes, 8-byte aligned. With it
        the engine keeps the cookies the server sets, returns them with every request and
        persists them in the store ("<prefix>.cookies") whenever they change - MS-ASHTTP
        asks this of 16.x and OAuth clients (Exchange Online). NULL: no cookies. Needs
        eas_account_cfg_t::utc_now for expiry. */
    void *cookie_mem;
    size_t cookie_mem_len;
    /** EAS_CONFIG_FINGERPRINT as the caller's build sees it: eas_engine_init() returns
        EAS_ERR_CONFIG when it differs from the library's (struct and buffer sizes would
        not agree). */
    uint32_t config;
} eas_engine_mem_t;

/**
 * The engine's required memory at the recommended sizes of this build's configuration, as
 * one object the application declares (statically, or wherever it likes; nothing is
 * allocated). eas_engine_storage_mem() hands it out as an ::eas_engine_mem_t. The optional
 * parts (calendar collector, cookie jar) are set on the returned value when wanted.
 */
typedef struct eas_engine_storage {
    eas_folder_t folders[CONFIG_EAS_MAX_FOLDERS];
    eas_outbox_slot_t outbox[CONFIG_EAS_OUTBOX_SLOTS];
    eas_arena_t arena;
    uint8_t arena_mem[CONFIG_EAS_ARENA_SIZE];
    uint8_t http_work[EAS_HTTP_CLIENT_WORK_SIZE];
} eas_engine_storage_t;

/**
 * @brief Prepare @p st (its arena) and describe it as engine memory. Inline, so the
 *        fingerprint is the one the caller was compiled with.
 */
static inline eas_engine_mem_t eas_engine_storage_mem(eas_engine_storage_t *st)
{
    eas_arena_init(&st->arena, st->arena_mem, sizeof(st->arena_mem));
    eas_engine_mem_t mem = {.folders = st->folders,
                            .folder_cap = CONFIG_EAS_MAX_FOLDERS,
                            .outbox = st->outbox,
                            .outbox_cap = CONFIG_EAS_OUTBOX_SLOTS,
                            .arena = &st->arena,
                            .http_work = st->http_work,
                            .http_work_len = sizeof(st->http_work),
                            .config = EAS_CONFIG_FINGERPRINT};
    return mem;
}

/** Engine states (reported with ::EAS_EV_STATE). */
typedef enum eas_engine_state {
    /** initialised, nothing started; or, with eas_account_cfg_t::no_push, up to date with
        nothing open until eas_sync_now() or a queued change */
    EAS_STATE_IDLE = 0,
    EAS_STATE_OPTIONS,      /**< negotiating the protocol version */
    EAS_STATE_PROVISIONING, /**< Provision phase 1 or 2 */
    EAS_STATE_FOLDERSYNC,
    EAS_STATE_SYNCING,
    EAS_STATE_PINGING,
    EAS_STATE_BACKOFF, /**< waiting before a retry (deadline returned by eas_step) */
    /* Stopped states: eas_step returns the error until eas_engine_restart(). */
    EAS_STATE_AUTH_FAILED,    /**< HTTP 401: credentials must be fixed by the user */
    EAS_STATE_POLICY_REFUSED, /**< the device cannot meet the server's policy [S 2.1] */
    EAS_STATE_BLOCKED,        /**< 403 / device blocked / quarantined / not enabled */
    EAS_STATE_WIPED,          /**< remote wipe acknowledged */
    EAS_STATE_FAILED,         /**< unrecoverable (no common version, plaintext refused, ...) */
    /** HTTP 451 to a server the application has not allowed (::EAS_EV_REDIRECT named it;
        nothing was sent there): eas_engine_approve_redirect() moves on to it,
        eas_engine_restart() stays with the current URL. eas_step() returns
        EAS_ERR_HTTP_REDIRECT_APPROVAL meanwhile. */
    EAS_STATE_REDIRECT_PENDING
} eas_engine_state_t;

/** Event types delivered to the application. */
typedef enum eas_event_type {
    /** u.state: exactly one per state change, so the state rebuilt from these events is
        always eas_engine_state(). Usually from eas_step(); also from eas_engine_init()
        (a corrupt account record: FAILED), eas_engine_restart() (IDLE) and the calls that
        abandon a running Ping for queued work (eas_item_*, eas_mail_send, eas_meeting_respond,
        eas_fetch, eas_sync_now: SYNCING), inside those calls. */
    EAS_EV_STATE = 1,
    EAS_EV_ERROR,          /**< u.error: something failed (also per-item failures) */
    EAS_EV_FOLDER,         /**< u.folder: hierarchy add/change/delete */
    EAS_EV_ITEM_BEGIN,     /**< u.item: an item add/change/delete starts (delete: complete) */
    EAS_EV_ITEM_FIELD,     /**< u.field: one piece of the item's ApplicationData */
    EAS_EV_ITEM_END,       /**< u.item: the item is complete: apply it now */
    EAS_EV_RESYNC_BEGIN,   /**< u.folder: folder restarts from SyncKey 0 [S 2.13] */
    EAS_EV_RESYNC_END,     /**< u.folder: items not upserted since BEGIN are gone */
    EAS_EV_FOLDER_SYNCED,  /**< u.folder: folder is up to date (no MoreAvailable) */
    EAS_EV_OUTBOX_RESULT,  /**< u.outbox: the server answered a local change */
    EAS_EV_POLICY_SETTING, /**< u.policy: one setting of the EASProvisionDoc */
    EAS_EV_POLICY_DECIDE,  /**< u.policy: the application sets u.policy.decision */
    EAS_EV_WIPE,           /**< remote wipe: wipe now; the engine acknowledges after return */
    EAS_EV_PING_REJECTED,  /**< u.folder: removed from the Ping set [S 2.15] */
    EAS_EV_SYNC_COMPLETE,  /**< every selected folder is synced, or was given up on with an
                                EAS_EV_ERROR (EAS_ERR_SYNC_LOOP); Ping starts next */
    /** u.fetch: the answer to eas_fetch() starts. ITEM_FIELD events follow: the item's
        Properties (Body with the whole body, in TEXT pieces with MORE/FINAL) or, for an
        attachment, its bytes as OPAQUE pieces of tag EAS_ITEMOPERATIONS_DATA (depth 1,
        decoded from base64). A BEGIN after an unfinished fetch (END with final false)
        restarts it: drop what arrived since the previous BEGIN. */
    EAS_EV_FETCH_BEGIN,
    EAS_EV_FETCH_END, /**< u.fetch: status 1 = complete; final = no retry follows */
    /** u.progress: a folder's first sync: the server's estimate, then items so far before
        each further Sync request (eas_account_cfg_t::progress). */
    EAS_EV_PROGRESS,
    /** u.throttle: the server throttles this device (an X-MS-ASThrottle header). The
        request's outcome follows as usual (a 503 goes to the back-off, honouring
        Retry-After). */
    EAS_EV_THROTTLED,
    /** u.credentials: the server says the credentials expire soon (X-MS-Credentials-Expire,
        MS-ASHTTP): tell the user to change the password before access stops (HTTP 457). */
    EAS_EV_CREDENTIALS_EXPIRE,
    /** u.redirect: an HTTP 451 names a server that needs the application's approval
        (url); nothing is sent there. The engine stops in EAS_STATE_REDIRECT_PENDING. */
    EAS_EV_REDIRECT,
    /** u.redirect: at start, a stored redirect was adopted: requests go to url instead
        of the configured from. */
    EAS_EV_SERVER_MOVED
} eas_event_type_t;

/** Item operations. */
typedef enum eas_item_op { EAS_ITEM_ADD = 1, EAS_ITEM_CHANGE, EAS_ITEM_DELETE } eas_item_op_t;

/** Field piece kinds (u.field.kind). */
typedef enum eas_field_kind {
    EAS_FIELD_START = 1, /**< container or element opens (e.g. Attendees, Body) */
    EAS_FIELD_END,       /**< it closes */
    EAS_FIELD_TEXT,      /**< a piece of UTF-8 text of the innermost element */
    EAS_FIELD_OPAQUE     /**< a piece of binary data (e.g. TimeZone when opaque, MIME) */
} eas_field_kind_t;

/** Piece flags for TEXT / OPAQUE fields: large values arrive in several pieces. */
#define EAS_FIELD_MORE  0x01u /**< more pieces of this value follow */
#define EAS_FIELD_FINAL 0x02u /**< last piece of this value */

/** Policy decisions the application returns for ::EAS_EV_POLICY_DECIDE. */
typedef enum eas_policy_decision {
    EAS_POLICY_ENFORCE_ALL = 1, /**< the device enforces every setting (ack Status 1) */
    EAS_POLICY_PARTIAL = 2,     /**< some settings cannot be enforced (ack Status 2) */
    EAS_POLICY_REFUSE = 3       /**< do not acknowledge: stop in EAS_STATE_POLICY_REFUSED */
} eas_policy_decision_t;

/** One event. Pointers are valid only during the callback. */
typedef struct eas_event {
    eas_event_type_t type;
    union {
        struct {
            eas_engine_state_t state;
            eas_engine_state_t previous;
        } state;
        struct {
            int err;            /**< eas_err_t */
            uint16_t status;    /**< EAS Status or HTTP status involved, 0 if none */
            const char *what;   /**< short static description ("Sync", "outbox add") */
            const char *folder; /**< folder ServerId or NULL */
            /** the store record concerned (e.g. a corrupt outbox record's key, whose queued
                change is lost), else NULL */
            const char *record;
        } error;
        struct {
            const char *url;  /**< the new server URL */
            const char *from; /**< the URL it replaces */
        } redirect;
        struct {
            eas_item_op_t op;          /**< ADD / CHANGE / DELETE for EAS_EV_FOLDER */
            const eas_folder_t *entry; /**< the table entry (DELETE: before removal) */
            const char *display_name;  /**< FolderSync DisplayName (ADD/CHANGE), else NULL */
            uint16_t status;           /**< PING_REJECTED / RESYNC: the status that caused it */
        } folder;
        struct {
            eas_item_op_t op;
            const char *folder;    /**< CollectionId */
            const char *server_id; /**< ServerId (for an echoed local add: the new id) */
            uint8_t cls;           /**< EAS_CLASS_* of the folder */
            bool soft_delete;      /**< DELETE came as SoftDelete (out of the filter window) */
            /** ITEM_END of a Calendar ADD/CHANGE with eas_engine_mem_t::cal: the parsed
                item; NULL otherwise. Apply it as an upsert keyed by (folder, server_id):
                the changes of one item come in response order and the last one wins —
                never compare DtStamp [S 1.9]. */
            const eas_cal_item_t *cal;
            /** With cal: EAS_OK, or why the item cannot be expanded (eas_cal_item_check()
                or a structural parse error); the item is still delivered. */
            int cal_err;
        } item;
        struct {
            uint16_t tag;   /**< WBXML tag (eas_wbxml_tags.h), e.g. EAS_CALENDAR_SUBJECT */
            uint16_t depth; /**< 1 = direct child of ApplicationData */
            eas_field_kind_t kind;
            uint8_t flags; /**< TEXT/OPAQUE: EAS_FIELD_MORE or EAS_FIELD_FINAL */
            const uint8_t *data;
            size_t len;
        } field;
        struct {
            eas_outbox_kind_t kind;
            uint32_t id;           /**< the id returned when the change was queued */
            uint16_t status;       /**< server Status for the item (1 = success) */
            const char *server_id; /**< ADD: the server's ServerId for the new item */
            bool final;            /**< entry removed from the outbox (success or given up) */
        } outbox;
        struct {
            const char *folder; /**< CollectionId */
            uint32_t estimate;  /**< items the server expects to send (GetItemEstimate) */
            uint32_t done;      /**< items delivered so far in this first sync */
        } progress;
        struct {
            uint32_t id;                /**< the id eas_fetch() returned */
            const char *folder;         /**< item fetch: CollectionId, else NULL */
            const char *server_id;      /**< item fetch: ServerId, else NULL */
            const char *file_reference; /**< attachment fetch: FileReference, else NULL */
            /** END: Fetch Status (1 = complete; 6 item not found, 15 attachment not found...)
                or the command's Status; 0 when the request failed (see err). */
            uint16_t status;
            int err;        /**< END: EAS_OK or why the request failed */
            bool final;     /**< END: nothing more comes for this id */
            uint64_t bytes; /**< END: attachment bytes delivered */
        } fetch;
        struct {
            uint32_t days; /**< days until the credentials expire */
        } credentials;
        struct {
            const char *reason;     /**< X-MS-ASThrottle value, e.g. "CommandFrequency" */
            uint16_t status;        /**< the HTTP status it came with */
            uint32_t retry_after_s; /**< Retry-After seconds, 0 if none */
        } throttle;
        struct {
            uint16_t tag;      /**< setting tag (EAS_PROVISION_*), SETTING only */
            const char *value; /**< its text value ("" for containers/empty), SETTING only */
            /** DECIDE: set by the application; defaults to EAS_POLICY_REFUSE. */
            eas_policy_decision_t decision;
        } policy;
    } u;
} eas_event_t;

/**
 * Event callback. Return EAS_OK. A negative return while items are delivered aborts the
 * current response: nothing of it is committed and the request is retried after back-off.
 */
typedef int (*eas_event_cb_t)(void *user, eas_event_t *ev);

/** Why eas_step() is called. */
typedef enum eas_step_event {
    EAS_STEP_TICK = 0, /**< time passed (a deadline was reached) or nothing in particular */
    EAS_STEP_READABLE, /**< the connection can be read */
    EAS_STEP_WRITABLE, /**< the connection can be written */
    EAS_STEP_COMMAND   /**< the application queued something (eas_item_*, eas_sync_now) */
} eas_step_event_t;

/** What the port should wait for (eas_engine_wait_io()). */
#define EAS_IO_READ  0x01u
#define EAS_IO_WRITE 0x02u

/** Opaque engine internals; fixed layout, see eas_engine_t. */
struct eas_engine_priv;

/**
 * The engine context. The application owns it; treat every member as private.
 * Its layout does not depend on the configuration.
 */
typedef struct eas_engine {
    const eas_account_cfg_t *cfg;
    eas_engine_mem_t mem;
    hal_net_t net;
    hal_sys_t sys;
    eas_event_cb_t cb;
    void *cb_user;
    eas_engine_state_t state;
    eas_proto_ver_t version;
    char policy_key[EAS_ID_CAP];
    char hierarchy_key[EAS_ID_CAP];
    /** Private working state (request in progress, parser, back-off). */
    uint64_t priv[512];
} eas_engine_t;

/**
 * @brief Initialise the engine and load the account's persisted state from the store.
 *
 * A missing state is a new account. A corrupt record is reported (EAS_ERR_STORE_CORRUPT)
 * and recovered: a folder resyncs from key 0, a corrupt account record (version, policy
 * key) is rebuilt by negotiating and provisioning again, a corrupt stored redirect is
 * deleted (the configured URL applies); a corrupt outbox record's change cannot be sent and
 * is reported with its record key (u.error.record) — never a crash.
 *
 * @param net  the connector; copied.
 * @param sys  the port's store, random source and log sink; copied (the contexts they point
 *             to must outlive the engine). store and rng are required; log.write may be NULL.
 *             Each engine may have its own (e.g. one store per account).
 * @return EAS_OK; EAS_ERR_CONFIG when mem->config is not the library's
 *         EAS_CONFIG_FINGERPRINT (the caller was compiled with another configuration;
 *         nothing was written to @p eng); EAS_ERR_HTTP_PLAINTEXT_AUTH (an http:// URL with
 *         credentials and no eas_account_cfg_t::allow_plaintext_auth); EAS_ERR_UNSUPPORTED
 *         (eas_account_cfg_t::progress without CONFIG_EAS_ESTIMATE); EAS_ERR_PARAM; or a
 *         store error.
 */
int eas_engine_init(eas_engine_t *eng, const eas_account_cfg_t *cfg, const eas_engine_mem_t *mem,
                    const hal_net_t *net, const hal_sys_t *sys, eas_event_cb_t cb, void *cb_user);

/**
 * @brief Advance the engine. Never blocks.
 * @param[in]  ev       why it is called. Informational: the engine does the same work for
 *                      every value (it checks its connection and deadlines itself), so
 *                      EAS_STEP_TICK is always correct.
 * @param[in]  now_ms   monotonic milliseconds (the application's clock, e.g. the port's
 *                      hal_time_monotonic_ms()); never read by the core itself.
 * @param[out] next_deadline_ms when to call again at the latest (UINT64_MAX: no deadline).
 * @return EAS_OK (progress made or waiting), or the error of a stopped state
 *         (EAS_ERR_AUTH, EAS_ERR_POLICY, EAS_ERR_FORBIDDEN, EAS_ERR_WIPED, ...).
 */
int eas_step(eas_engine_t *eng, eas_step_event_t ev, uint64_t now_ms, uint64_t *next_deadline_ms);

/** @brief I/O the port should wait for before calling eas_step() (EAS_IO_* mask, 0 = none). */
unsigned eas_engine_wait_io(const eas_engine_t *eng);

/** @brief Current state. */
eas_engine_state_t eas_engine_state(const eas_engine_t *eng);

/** @brief Leave a stopped state (e.g. after the user fixed the password) and start over. */
int eas_engine_restart(eas_engine_t *eng);

/**
 * @brief Approve the redirect ::EAS_EV_REDIRECT reported (EAS_STATE_REDIRECT_PENDING):
 *        requests go to its URL from now on (persisted once it has answered).
 * @return EAS_OK, EAS_ERR_STATE (no redirect pending), EAS_ERR_PARAM.
 */
int eas_engine_approve_redirect(eas_engine_t *eng);

/** @brief The URL of the pending redirect, or NULL. */
const char *eas_engine_pending_redirect(const eas_engine_t *eng);

/**
 * @brief The HeartbeatInterval, in seconds, the next Ping asks the server for (while a Ping
 *        waits: the one it asked for).
 *
 * The engine adapts it while it runs (docs/push.md): it starts at
 * eas_account_cfg_t::ping_interval_s (or CONFIG_EAS_PING_START_S), grows after each
 * heartbeat that expired cleanly, falls back below an interval at which the network dropped
 * the connection and follows the server's bounds (Ping Status 5); the learned value is
 * persisted and restored by eas_engine_init(). Informational (e.g. for a status display);
 * it changes only inside eas_step().
 * @return seconds (never 0 for an initialised engine), or 0 when @p eng is NULL.
 */
uint32_t eas_engine_heartbeat_s(const eas_engine_t *eng);

/** @brief Close the connection (if any). The persisted state stays. */
void eas_engine_close(eas_engine_t *eng);

/** @brief Request a sync of every selected folder (or of @p folder_id only, if not NULL). */
int eas_sync_now(eas_engine_t *eng, const char *folder_id);

/** @brief Find a folder by ServerId. @return the entry or NULL. */
const eas_folder_t *eas_engine_folder(const eas_engine_t *eng, const char *server_id);

/** One field of a local item for eas_item_add() / eas_item_change(). */
typedef struct eas_field {
    uint16_t tag;          /**< WBXML tag of the element */
    eas_field_kind_t kind; /**< START/END for containers, TEXT or OPAQUE for values */
    const void *data;      /**< value bytes (TEXT: UTF-8, no NUL needed) */
    size_t len;
} eas_field_t;

/** Why a local change is made; decides what may be sent (a reminder change is local only). */
typedef enum eas_change_reason {
    EAS_CHANGE_EDIT = 0,         /**< the user edited the item */
    EAS_CHANGE_REMINDER_FIRED,   /**< local only: never sent [S 1.14] */
    EAS_CHANGE_REMINDER_DISMISS, /**< local only: never sent [S 1.16] */
    EAS_CHANGE_REMINDER_SNOOZE   /**< local only: never sent [S 1.17] */
} eas_change_reason_t;

/** Flags for eas_item_change(). */
/** The user is an attendee, not the organizer: only attendee-owned properties go out
    (Reminder, BusyStatus, Categories) [S 1.2]. The engine also decides this itself from the
    change's fields: a Calendar:OrganizerEmail that is not the account's email, or a
    MeetingStatus of a received meeting (3, 5, 7, 11, 13, 15). Pass the item's fields as
    received; the flag is needed only when they carry neither. */
#define EAS_CHANGE_F_ATTENDEE 0x01u
/** The body the user edited was received complete and in the type the device edits. Without
    this flag any Body element is removed from the change [S 1.11]. */
#define EAS_CHANGE_F_BODY_COMPLETE 0x02u

/**
 * @brief Queue a new local item; persisted before returning. Its ClientId is random and
 *        kept with the entry, so a resent Add (after a lost answer, across restarts) is
 *        recognised by the server and a later Add is never taken for an earlier one.
 * @param[out] id outbox id, reported back in ::EAS_EV_OUTBOX_RESULT.
 * @return EAS_OK, EAS_ERR_OUTBOX_FULL, EAS_ERR_LIMIT (record too large), EAS_ERR_STORE...;
 *         EAS_ERR_UNSUPPORTED when built without CONFIG_EAS_OUTBOX (a read-only build: this
 *         and every other queueing call - changes, deletes, moves, meeting responses, mail -
 *         are refused; reminder changes, which are local, still succeed).
 */
int eas_item_add(eas_engine_t *eng, const char *folder_id, const eas_field_t *fields, size_t n,
                 uint32_t *id);

/**
 * @brief Queue a change of a server item; persisted before returning. Reminder
 *        reasons return EAS_OK with *id = 0 and queue nothing.
 */
int eas_item_change(eas_engine_t *eng, const char *folder_id, const char *server_id,
                    eas_change_reason_t reason, unsigned flags, const eas_field_t *fields, size_t n,
                    uint32_t *id);

/**
 * @brief Queue a change of one occurrence of a recurring calendar item (EAS 16.0+): sent as
 *        a Sync Change with the item's ServerId and AirSyncBase:InstanceId (the occurrence's
 *        original start, as the server sent it, e.g. "2026-06-02T09:00:00.000Z"), never as
 *        Exceptions of the master, which a 16.x client must not send. Same field rules as
 *        eas_item_change().
 * @return as eas_item_change(); EAS_ERR_UNSUPPORTED when the account negotiated a version
 *         below 16.0 (the engine never rewrites the change into one of the whole series).
 */
int eas_item_change_occurrence(eas_engine_t *eng, const char *folder_id, const char *server_id,
                               const char *instance_id, eas_change_reason_t reason,
                               unsigned flags, const eas_field_t *fields, size_t n, uint32_t *id);

/** @brief Queue a delete of a server item; persisted before returning. */
int eas_item_delete(eas_engine_t *eng, const char *folder_id, const char *server_id, uint32_t *id);

/**
 * @brief Queue the deletion of one occurrence of a recurring calendar item (EAS 16.0+): a
 *        Sync Delete with the ServerId and AirSyncBase:InstanceId (the occurrence's original
 *        start as the server sent it). The series stays.
 * @return as eas_item_delete(); EAS_ERR_PARAM without an instance; EAS_ERR_UNSUPPORTED when
 *         the account negotiated a version below 16.0 (never the whole series instead).
 */
int eas_item_delete_occurrence(eas_engine_t *eng, const char *folder_id, const char *server_id,
                               const char *instance_id, uint32_t *id);

/** Meeting response values (MeetingResponse UserResponse). */
typedef enum eas_meeting_reply {
    EAS_MEETING_ACCEPT = 1,
    EAS_MEETING_TENTATIVE = 2,
    EAS_MEETING_DECLINE = 3
} eas_meeting_reply_t;

/**
 * @brief Queue a meeting response. Idempotent [S 1.15]: a second call for the same
 *        (folder, item, instance) replaces the queued one instead of adding another, so
 *        exactly one MeetingResponse is sent per decision, across retries and restarts.
 * @param instance_id occurrence start (14.1+ InstanceId, "2024-05-01T09:00:00.000Z") or NULL.
 * @return as eas_item_delete(); EAS_ERR_UNSUPPORTED when built without
 *         CONFIG_EAS_MEETING_RESPONSE (nothing queued).
 */
int eas_meeting_respond(eas_engine_t *eng, const char *folder_id, const char *server_id,
                        const char *instance_id, eas_meeting_reply_t reply, uint32_t *id);

/**
 * @brief eas_meeting_respond() naming the meeting too, so that a response to an invitation
 *        (Inbox) is sent exactly once even to a server that would accept a duplicate
 *        [S 1.15]: when the answer to a send is lost (or the device restarts after it), the
 *        engine syncs the Inbox and the calendars before sending again, and the response
 *        counts as applied when the invitation was deleted or the calendar item of this
 *        meeting shows the reply as its ResponseType.
 * @param meeting_uid the invitation's Email:MeetingRequest/GlobalObjId as received (base64),
 *        or the meeting's Calendar:UID; NULL or "" = unknown (then only the deleted
 *        invitation proves delivery). At most 2048 characters. A GlobalObjId of one
 *        occurrence gives no proof through the series' calendar item.
 * @return as eas_meeting_respond().
 */
int eas_meeting_respond_uid(eas_engine_t *eng, const char *folder_id, const char *server_id,
                            const char *instance_id, eas_meeting_reply_t reply,
                            const char *meeting_uid, uint32_t *id);

/**
 * @brief Remove the user's own address from a comma-separated recipient list in place
 *        (reply-all) [S 2.14]. Compares the addr-spec case-insensitively, keeps the rest.
 * @return the number of recipients removed.
 */
size_t eas_recipients_drop_self(char *list, const char *self);

/**
 * @brief Queue a move of a server item to another folder (MoveItems); persisted before
 *        returning. The result comes as ::EAS_EV_OUTBOX_RESULT of kind EAS_OUTBOX_MOVE whose
 *        status is the MoveItems Status: 3 = moved (server_id = the item's new ServerId),
 *        1 no such item in the source, 2 bad destination, 4 same folder, 5/7 server failure.
 *        Like a MeetingResponse, a move that may have reached the server before a crash is
 *        not applied twice: when the resend finds the item gone from the source (1), it
 *        counts as moved (3, server_id NULL).
 * @return as eas_item_delete(); EAS_ERR_UNSUPPORTED when built without CONFIG_EAS_MOVE.
 */
int eas_item_move(eas_engine_t *eng, const char *folder_id, const char *server_id,
                  const char *dst_folder_id, uint32_t *id);

/** Mail commands of eas_mail_send(). */
typedef enum eas_mail_cmd {
    EAS_MAIL_SEND = 1,   /**< SendMail: a new message */
    EAS_MAIL_REPLY = 2,  /**< SmartReply to src_folder/src_item */
    EAS_MAIL_FORWARD = 3 /**< SmartForward of src_folder/src_item */
} eas_mail_cmd_t;

/** A message to send. */
typedef struct eas_mail {
    eas_mail_cmd_t cmd;
    uint32_t mime_id;       /**< the application's handle, passed to cfg->mime_read */
    uint64_t mime_len;      /**< exact length of the RFC 5322 message (CR LF lines) */
    bool save_in_sent;      /**< SaveInSentItems: the server files a copy in Sent Items */
    bool replace_mime;      /**< REPLY/FORWARD: the MIME is complete; the server adds nothing */
    const char *src_folder; /**< REPLY/FORWARD: folder of the original */
    const char *src_item;   /**< REPLY/FORWARD: its ServerId */
} eas_mail_t;

/**
 * @brief Queue a message (CONFIG_EAS_EMAIL); persisted before returning. The MIME is not
 *        copied: the engine reads it through cfg->mime_read when it sends (see
 *        ::eas_mime_read_fn), so keep it until ::EAS_EV_OUTBOX_RESULT (kind EAS_OUTBOX_SEND,
 *        status 1 = sent). On 14.0+ sent exactly once: each message carries a random
 *        ClientId kept in the outbox record, and a resend the server recognises (118) counts
 *        as sent; 12.1 (message as the body, no ClientId) is at least once.
 *        For reply-all, build the recipient list with eas_recipients_drop_self() [S 2.14].
 * @return EAS_OK, EAS_ERR_UNSUPPORTED (email or CONFIG_EAS_OUTBOX not built in, or no
 *         mime_read),
 *         EAS_ERR_LIMIT (larger than CONFIG_EAS_MAIL_MAX_BYTES), EAS_ERR_PARAM,
 *         EAS_ERR_OUTBOX_FULL, EAS_ERR_STORE...
 */
int eas_mail_send(eas_engine_t *eng, const eas_mail_t *mail, uint32_t *id);

/** Longest FileReference eas_fetch() accepts (characters). */
#define EAS_FETCH_REF_MAX 255

/**
 * @brief Fetch an item's whole body or an attachment on demand (ItemOperations Fetch).
 *
 * Either @p folder_id + @p server_id (the item; Body in eas_account_cfg_t::body_type, never
 * truncated) or @p file_reference (an attachment, from the item's AirSyncBase FileReference).
 * The request goes out at the next eas_step() (before pending folder syncs; a waiting Ping is
 * abandoned). The answer streams as ::EAS_EV_FETCH_BEGIN, ITEM_FIELD pieces and
 * ::EAS_EV_FETCH_END; nothing is buffered, so a value may be as large as
 * CONFIG_EAS_FETCH_MAX_BYTES. Transport failures are retried with the back-off (each retry
 * starts again with FETCH_BEGIN) up to CONFIG_EAS_OUTBOX_MAX_ATTEMPTS times. A fetch is not
 * persisted: after a restart, ask again.
 * @param[out] id reported in the fetch events.
 * @return EAS_OK, EAS_ERR_BUSY (one fetch at a time), EAS_ERR_PARAM, EAS_ERR_LIMIT (ids too
 *         long), EAS_ERR_UNSUPPORTED (built without CONFIG_EAS_FETCH).
 */
int eas_fetch(eas_engine_t *eng, const char *folder_id, const char *server_id,
              const char *file_reference, uint32_t *id);

/**
 * @brief Number of queued local changes of @p kind (EAS_OUTBOX_NONE: all kinds) that the
 *        server has not answered yet. An application waits for 0 before it may power down
 *        without a pending change (e.g. "run until the meeting response is sent").
 */
size_t eas_outbox_pending(const eas_engine_t *eng, eas_outbox_kind_t kind);

/** @brief Text of a state ("syncing"). */
const char *eas_engine_state_name(eas_engine_state_t s);

#ifdef __cplusplus
}
#endif

#endif /* EAS_ENGINE_H */
