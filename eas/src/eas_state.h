/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private: persistent records of the engine (account, folder list, per-folder sync keys,
 * outbox entries). Every record is framed as
 *
 *   'E' 'A' type version | payload length (u32 LE) | CRC-32 of payload (u32 LE) | payload
 *
 * so a record that is truncated, of another format version or bit-flipped is detected and
 * turned into EAS_ERR_STORE_CORRUPT instead of being trusted.
 *
 * Keys: "<prefix>.acct", "<prefix>.fold", "<prefix>.k<index>" (sync key of folder table
 * entry <index>, which also names the folder's ServerId so a reused index is recognised)
 * "<prefix>.o<slot>" (outbox) and "<prefix>.hb" (the learned heartbeat, heartbeat_store.c).
 */
#ifndef EAS_STATE_H
#define EAS_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "eas/eas_engine.h"
#include "hal/hal.h"

#define EAS_REC_HDR       12u
#define EAS_REC_ACCT      1u
#define EAS_REC_FOLD      2u
#define EAS_REC_SKEY      3u
#define EAS_REC_OUTBOX    4u
#define EAS_REC_URL       5u
#define EAS_REC_HEARTBEAT 6u /* learned Ping heartbeat, heartbeat_store.c */
#define EAS_REC_COOKIES   7u /* the account's cookie jar */
#define EAS_REC_DEVINFO   8u /* hash of the device information the server accepted */
#define EAS_REC_VERSION   1u
/* Outbox records: 1 = one string per meaning-less slot (instance_id held the InstanceId, the
   ClientId, the move destination or the mail parameters as text), 2 = typed payload per kind,
   3 = as 2 with the meeting's identity in a MeetingResponse entry. eas_outbox_load() migrates
   1 and 2 to 3 (strictly parsed; a record that does not parse is dropped and counted, never
   guessed at); any other version is dropped and counted. */
#define EAS_REC_OUTBOX_VERSION 3u

/** Where an account's records live: the port's store (hal_sys_t::store), the namespace of its
    keys, and the log sink for corrupt records. The pointers must outlive every user. */
typedef struct eas_state_ns {
    const hal_store_t *store;
    const hal_log_t *log; /**< may be NULL */
    const char *prefix;   /**< 1..16 chars of [A-Za-z0-9_-] */
} eas_state_ns_t;

/** Longest store key the engine builds ("<prefix 16>.o<5 digits>"). */
#define EAS_STATE_KEY_CAP 32

/** Persisted account values. */
typedef struct eas_state_acct {
    uint16_t version;
    char policy_key[EAS_ID_CAP];
} eas_state_acct_t;

/** CRC-32 (IEEE, reflected), for record checksums. */
uint32_t eas_crc32(uint32_t crc, const uint8_t *data, size_t len);

/** Build "<prefix>.<suffix>"; EAS_ERR_STORE_KEY if the prefix is invalid or too long. */
int eas_state_key(char *out, size_t cap, const char *prefix, const char *suffix);

/** Frame @p payload of @p len into @p out (EAS_REC_HDR + len bytes) and store it. */
int eas_state_put(const eas_state_ns_t *ns, const char *key, uint8_t type, uint8_t *buf,
                  size_t payload_len);

/**
 * Load and verify a record: on success *payload points into @p buf and *len is the payload
 * length. EAS_ERR_STORE_NOT_FOUND, EAS_ERR_STORE_CORRUPT, EAS_ERR_NOMEM, EAS_ERR_STORE.
 */
/** As eas_state_get(), for any format version (returned in *version, never 0). */
int eas_state_get_any(const eas_state_ns_t *ns, const char *key, uint8_t type, uint8_t *buf,
                      size_t cap, const uint8_t **payload, size_t *len, uint8_t *version);

int eas_state_get(const eas_state_ns_t *ns, const char *key, uint8_t type, uint8_t *buf, size_t cap,
                  const uint8_t **payload, size_t *len);

/* ---- account ---- */
int eas_state_acct_save(const eas_state_ns_t *ns, const eas_state_acct_t *a, eas_arena_t *arena);
int eas_state_acct_load(const eas_state_ns_t *ns, eas_state_acct_t *a, eas_arena_t *arena);

/* ---- server URL learned from HTTP 451 ("<prefix>.url"; absent: the configured URL) ---- */
/** Persist @p url, learned while @p configured was the account's URL (both at most
 *  CONFIG_EAS_URL_MAX chars; the record holds both, NUL-separated); "" removes the record. */
int eas_state_url_save(const eas_state_ns_t *ns, const char *configured, const char *url,
                       eas_arena_t *arena);
/** Load it into @p url if it was learned for @p configured (eas_url_same()).
 *  @return EAS_OK, EAS_ERR_STORE_NOT_FOUND (none learned), EAS_ERR_NOT_FOUND (learned for
 *  another configured URL), EAS_ERR_STORE_CORRUPT (unparsable, e.g. an older format). */
int eas_state_url_load(const eas_state_ns_t *ns, const char *configured, char *url, size_t cap,
                       eas_arena_t *arena);

/* ---- cookie jar ("<prefix>.cookies", the text of eas_cookie_jar_save()) ---- */
struct eas_cookie_jar;
/** Persist the cookies not expired at @p now (an empty jar removes the record). */
int eas_state_cookies_save(const eas_state_ns_t *ns, const struct eas_cookie_jar *jar, int64_t now,
                           eas_arena_t *arena);
/** Load them (checked like Set-Cookie; on any error the jar stays empty). */
int eas_state_cookies_load(const eas_state_ns_t *ns, struct eas_cookie_jar *jar, int64_t now,
                           eas_arena_t *arena);

/* ---- folder list (with the hierarchy SyncKey) ---- */
int eas_state_folders_save(const eas_state_ns_t *ns, const char *hierarchy_key,
                           const eas_folder_t *folders, size_t cap, eas_arena_t *arena);
/** Loads entries into @p folders (sync keys set to "0"; load them with _skey_load). */
int eas_state_folders_load(const eas_state_ns_t *ns, char *hierarchy_key, eas_folder_t *folders,
                           size_t cap, eas_arena_t *arena);

/* ---- per-folder sync key ---- */
int eas_state_skey_save(const eas_state_ns_t *ns, size_t index, const eas_folder_t *f);
/** Sets f->sync_key (and the SYNCED/RESYNC flags); "0" when absent or of another folder. */
int eas_state_skey_load(const eas_state_ns_t *ns, size_t index, eas_folder_t *f);
int eas_state_skey_del(const eas_state_ns_t *ns, size_t index);

/** Remove every record of the account (remote wipe, account removal). */
int eas_state_wipe(const eas_state_ns_t *ns, size_t folder_cap, size_t outbox_cap);

/* ---- outbox ---- */

/* Per-kind payloads of an outbox entry: one meaning per field. Strings point into the
   buffer the entry was decoded into (or the caller's, for eas_outbox_put). */
typedef struct eas_ob_add {
    const char *client_id; /**< random ClientId; "" only in an old entry (its seq) */
    const uint8_t *fields; /**< serialised eas_field_t list */
    size_t fields_len;
} eas_ob_add_t;

typedef struct eas_ob_change {
    const char *server_id;
    const char *instance_id; /**< one occurrence (16.x, eas_item_change_occurrence); "" = all */
    const uint8_t *fields;   /**< serialised eas_field_t list */
    size_t fields_len;
} eas_ob_change_t;

typedef struct eas_ob_delete {
    const char *server_id;
    const char *instance_id; /**< one occurrence (16.x, eas_item_delete_occurrence); "" = all */
} eas_ob_delete_t;

typedef struct eas_ob_meeting {
    const char *server_id;   /**< the invitation (or the calendar item) */
    const char *instance_id; /**< occurrence ("" = the series) */
    uint8_t reply;           /**< eas_meeting_reply_t */
    /** The meeting's identity (a 64-bit FNV-1a of its UID, cmd_outbox.c), 0 = unknown: lets the
        engine find the calendar item that proves an Inbox response applied [S 1.15]. */
    uint64_t uid_hash;
} eas_ob_meeting_t;

typedef struct eas_ob_move {
    const char *server_id;     /**< the item, in the entry's folder */
    const char *dst_folder_id; /**< where it goes */
} eas_ob_move_t;

#define EAS_OB_MAIL_SAVE_IN_SENT 0x01u
#define EAS_OB_MAIL_REPLACE_MIME 0x02u

typedef struct eas_ob_mail {
    uint8_t cmd;           /**< eas_mail_cmd_t */
    uint8_t flags;         /**< EAS_OB_MAIL_* */
    uint32_t mime_id;      /**< the application's message handle */
    uint64_t mime_len;     /**< 1..CONFIG_EAS_MAIL_MAX_BYTES */
    const char *client_id; /**< 16 lowercase hex digits */
    const char *src_item;  /**< SmartReply/Forward: the original ("" for SendMail); its folder
                                is the entry's folder_id ("0" for SendMail) */
} eas_ob_mail_t;

/** One outbox entry. */
typedef struct eas_outbox_entry {
    uint8_t kind; /**< eas_outbox_kind_t: which member of u is valid */
    uint16_t attempts;
    uint32_t seq;
    const char *folder_id; /**< the folder the entry is about (mail: the original's, or "0") */
    union {
        eas_ob_add_t add;
        eas_ob_change_t change;
        eas_ob_delete_t del;
        eas_ob_meeting_t meeting;
        eas_ob_move_t move;
        eas_ob_mail_t mail;
    } u;
} eas_outbox_entry_t;

/** Outbox in the caller's slot table plus the store. */
typedef struct eas_outbox {
    eas_outbox_slot_t *slots;
    size_t cap;
    const eas_state_ns_t *ns; /* must outlive the outbox */
    uint32_t next_seq;
} eas_outbox_t;

/** Told about each corrupt entry dropped by eas_outbox_load(): its slot and record key. */
typedef void (*eas_outbox_lost_fn)(void *user, size_t slot, const char *key);

/** Load every persisted entry into the slot table (corrupt entries are dropped, counted and,
 *  with @p lost, named one by one). */
int eas_outbox_load(eas_outbox_t *ob, eas_outbox_slot_t *slots, size_t cap,
                    const eas_state_ns_t *ns, eas_arena_t *arena, size_t *corrupt,
                    eas_outbox_lost_fn lost, void *lost_user);

/**
 * Persist a new entry (@p e: kind, folder_id and the kind's payload; seq and attempts are
 * set here); returns its id (= seq) in *id. For MEETING_RESPONSE an entry for the same
 * folder/server_id/instance is replaced in place (idempotent [S 1.15]). For ADD/CHANGE the
 * @p fields are serialised as given (filtering happens before, in eas_outbox_filter()); the
 * payload's fields/fields_len are ignored. An entry that would not read back as valid is
 * EAS_ERR_PARAM.
 */
int eas_outbox_put(eas_outbox_t *ob, eas_arena_t *arena, const eas_outbox_entry_t *e,
                   uint16_t folder_index, const eas_field_t *fields, size_t n, uint32_t *id);

/** Read slot @p slot's record into arena memory and decode it. */
int eas_outbox_read(const eas_outbox_t *ob, size_t slot, eas_arena_t *arena, eas_outbox_entry_t *e);

/** Remove the entry of slot @p slot (store first, then the index). */
int eas_outbox_remove(eas_outbox_t *ob, size_t slot);

/** Persist a new attempt count for slot @p slot (give-up must survive restarts). */
int eas_outbox_set_attempts(eas_outbox_t *ob, size_t slot, eas_arena_t *arena, uint16_t attempts);

/** Find the slot holding entry @p id; -1 if none. */
int eas_outbox_find(const eas_outbox_t *ob, uint32_t id);

/** Number of queued entries. */
size_t eas_outbox_count(const eas_outbox_t *ob);

/**
 * Iterate a serialised field list: sets *f to the next field and advances *pos.
 * @return 1 with a field, 0 at the end, EAS_ERR_FORMAT on a damaged list.
 */
int eas_outbox_field_next(const uint8_t *buf, size_t len, size_t *pos, eas_field_t *f);

/**
 * Apply the sending rules to a local change before it is queued:
 * - EAS_CHANGE_F_ATTENDEE: keep only attendee-owned calendar properties [S 1.2];
 * - without EAS_CHANGE_F_BODY_COMPLETE: drop Body containers [S 1.11].
 * @p out must hold @p n entries; *out_n receives the kept count. Containers are kept or
 * dropped as a whole; an unbalanced list is EAS_ERR_PARAM.
 */
int eas_outbox_filter(const eas_field_t *in, size_t n, unsigned flags, eas_field_t *out,
                      size_t *out_n);

#endif /* EAS_STATE_H */
