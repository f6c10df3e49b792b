/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file easd.h
 * @brief Internal interfaces of the easd daemon and easctl (Linux only): configuration,
 *        the vdir/Maildir store with its index, iCalendar/vCard conversion, the item
 *        records easctl expands, and the control socket.
 */
#ifndef EASD_DAEMON_H
#define EASD_DAEMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "eas/eas.h"
#include "hal/hal.h"

#define EASD_PATH_MAX 1024
#define EASD_REDIRECT_HOSTS 8

/* ------------------------------------------------------------------------------------- */
/* Configuration (config.c)                                                              */
/* ------------------------------------------------------------------------------------- */

/** Log destinations. */
enum { EASD_LOG_STDERR = 0, EASD_LOG_SYSLOG = 1 };

/** The parsed configuration file. Paths are absolute (relative ones are resolved against
    the directory of the configuration file). */
typedef struct easd_config {
    char path[EASD_PATH_MAX]; /**< the file it was read from */
    char address[256];        /**< the user's e-mail address */
    char server[1024];        /**< EAS URL; empty: Autodiscover from the address */
    /** Hosts a redirect (HTTP 451, Autodiscover) may lead to with the credentials without
        asking: "host, host" (at most EASD_REDIRECT_HOSTS), empty none. */
    char redirect_allow[512];
    char user[256];           /**< login name (default: the address) */
    char password_file[EASD_PATH_MAX];
    char password_command[1024];
    char device_id[EAS_ID_CAP]; /**< empty: generated once and kept in the state dir */
    /** Settings DeviceInformation: Model (default "easd") and FriendlyName (default the
        host name). Servers list the device under them; the OS string is "Linux <release>". */
    char device_model[64];
    char device_name[64];
    char ca_file[EASD_PATH_MAX];
    char state_dir[EASD_PATH_MAX];
    char store_dir[EASD_PATH_MAX];
    uint8_t classes;          /**< EAS_CLASS_* */
    uint8_t body_type;        /**< 1 text, 2 HTML, 4 MIME */
    uint32_t body_truncation; /**< bytes, 0 = the engine's limit */
    uint32_t heartbeat_s;     /**< Ping interval ceiling */
    uint16_t window_size;
    uint8_t max_version; /**< eas_proto_ver_t, 0 = highest */
    hal_log_level_t log_level;
    int log_target; /**< EASD_LOG_* */
    /** auth = oauth-device: a bearer token from OAuth 2.0 (docs/exchange-online.md) instead
        of a password; the oauth_* keys below (empty: Microsoft's defaults). */
    uint8_t auth_oauth;
    char oauth_client_id[128];
    char oauth_tenant[128];
    char oauth_authority[256];
    char oauth_scope[512];
    char oauth_device_endpoint[1024];
    char oauth_token_endpoint[1024];
    char oauth_token_file[EASD_PATH_MAX]; /**< empty: STATE/oauth-token */
} easd_config_t;

/**
 * @brief Read and check a configuration file. Unknown keys, bad values and missing
 *        required keys are errors: @p err gets "FILE:LINE: what".
 * @return 0 or -1.
 */
int easd_config_load(const char *path, easd_config_t *cfg, char *err, size_t errcap);

/**
 * @brief Split a redirect_allow list ("host, host") into @p hosts (pointing into @p buf).
 * @return the number of hosts, or -1 (more than @p max, a character no host name has, or
 *         the list longer than @p cap).
 */
int easd_hosts_split(const char *list, char *buf, size_t cap, const char **hosts, size_t max);

/** @brief The default configuration path ($XDG_CONFIG_HOME/easd/easd.conf). */
void easd_config_default_path(char *out, size_t cap);

/**
 * @brief The password: first line of password_file, or of password_command's output
 *        (run by /bin/sh, 10 s deadline). @return 0 or -1 (@p err says why, never the secret).
 */
int easd_config_password(const easd_config_t *cfg, char *out, size_t cap, char *err, size_t errcap);

/** @brief The device id: configured, or read from / generated into STATE/device-id. */
int easd_config_device_id(const easd_config_t *cfg, char *out, size_t cap);

/* ------------------------------------------------------------------------------------- */
/* Files (util in store.c)                                                               */
/* ------------------------------------------------------------------------------------- */

/** @brief Write a file atomically (temp + fsync + rename + dir fsync), mode 0600. */
int easd_write_atomic(const char *path, const void *data, size_t len);

/** @brief Read a whole file (malloc'd, NUL-terminated). @return 0 or -1. */
int easd_read_file(const char *path, char **data, size_t *len, size_t max);

/** @brief mkdir -p with mode 0700. */
int easd_mkdirs(const char *path);

/** @brief FNV-1a 64 of a buffer. */
uint64_t easd_hash(const void *data, size_t len);

/** @brief A file name for an id: [A-Za-z0-9.-] kept, everything else as =XX. */
void easd_escape_name(const char *in, char *out, size_t cap);

/* ------------------------------------------------------------------------------------- */
/* Item records: the item as EAS delivered it (store.c)                                  */
/* ------------------------------------------------------------------------------------- */

/** One field piece of an item (mirrors eas_event_t u.field). */
typedef struct easd_rec_field {
    uint16_t tag;
    uint16_t depth;
    uint8_t kind;  /**< eas_field_kind_t */
    uint8_t flags; /**< EAS_FIELD_MORE / EAS_FIELD_FINAL */
    uint32_t len;
    const uint8_t *data;
} easd_rec_field_t;

/** A growing buffer of field pieces (encoded: tag, depth, kind, flags, len, bytes). */
typedef struct easd_rec {
    uint8_t *buf;
    size_t len, cap;
    bool overflow; /**< more than EASD_REC_MAX bytes: the record is incomplete */
} easd_rec_t;

#define EASD_REC_MAX (4u << 20)

void easd_rec_reset(easd_rec_t *r);
void easd_rec_free(easd_rec_t *r);
void easd_rec_add(easd_rec_t *r, uint16_t tag, uint16_t depth, uint8_t kind, uint8_t flags,
                  const void *data, size_t len);
/** @brief Iterate: *off starts at 0. @return true while a field was read into @p f. */
bool easd_rec_next(const uint8_t *buf, size_t len, size_t *off, easd_rec_field_t *f);
/** @brief The concatenated text of the first depth-@p depth field @p tag (NUL-terminated,
    cut to @p cap). @return true when present. */
bool easd_rec_text(const uint8_t *buf, size_t len, uint16_t tag, uint16_t depth, char *out,
                   size_t cap);

/**
 * @brief Parse a calendar record with the core's item parser (what easctl expands).
 * @return EAS_OK or the parser's/eas_cal_item_check()'s error.
 */
int easd_rec_cal(const uint8_t *buf, size_t len, eas_cal_item_t *item);

/* ------------------------------------------------------------------------------------- */
/* Store index (store.c)                                                                 */
/* ------------------------------------------------------------------------------------- */

/** Entry states. */
enum {
    EASD_IX_SYNCED = 0, /**< file mirrors the server item sid */
    EASD_IX_ADDING = 1, /**< local file being queued as an add (outbox id >= pending) */
    EASD_IX_ADDED = 2,  /**< queued as add, outbox id pending, sid unknown yet */
    EASD_IX_FAILED = 3  /**< the server refused it; retried when the file changes */
};

typedef struct easd_ix_entry {
    char name[256];       /**< file name in the collection */
    char sid[EAS_ID_CAP]; /**< ServerId, empty while added */
    uint64_t hash;        /**< hash of the file as last written or sent */
    uint64_t hash_alt;    /**< a second hash also "ours" (a write in progress), 0 none */
    uint32_t pending;     /**< outbox id of an add/change/delete in flight, 0 none */
    uint8_t state;        /**< EASD_IX_* */
    uint8_t used;
    uint8_t seen; /**< scratch: met during a scan or a resync */
} easd_ix_entry_t;

/** One synced folder: its collection directory and index. */
typedef struct easd_coll {
    char sid[EAS_ID_CAP];
    char name[256];          /**< display name */
    char dir[EASD_PATH_MAX]; /**< store directory of the collection */
    char ixpath[EASD_PATH_MAX];
    uint8_t cls;
    int wd;     /**< inotify watch (mail: of cur/), -1 none */
    int wd_new; /**< mail: inotify watch of new/, -1 none */
    bool dirty; /**< index to be written */
    bool mail_touched; /**< mail: something changed in cur/ or new/ since the last look */
    easd_ix_entry_t *e;
    size_t n, cap;
} easd_coll_t;

int easd_ix_load(easd_coll_t *c);
int easd_ix_save(easd_coll_t *c);
easd_ix_entry_t *easd_ix_by_name(easd_coll_t *c, const char *name);
easd_ix_entry_t *easd_ix_by_sid(easd_coll_t *c, const char *sid);
easd_ix_entry_t *easd_ix_add(easd_coll_t *c, const char *name);
void easd_ix_remove(easd_coll_t *c, easd_ix_entry_t *e);
/** @brief Append "name sid hash" to the journal (synced) before writing (hash) or removing
    (hash 0) a file for the server. */
int easd_ix_journal(easd_coll_t *c, const char *name, const char *sid, uint64_t hash);

/* ------------------------------------------------------------------------------------- */
/* iCalendar / vCard / Maildir (ical.c, vcard.c, maildir.c)                              */
/* ------------------------------------------------------------------------------------- */

/**
 * @brief An EAS calendar item as a VCALENDAR (VTIMEZONE, the master VEVENT with RRULE and
 *        EXDATE, one VEVENT per modified occurrence with RECURRENCE-ID). @p rec gives the
 *        fields the parsed item does not carry (Body text). @p fallback_uid is used when
 *        the item has no UID. @return a malloc'd string or NULL.
 */
char *easd_ical_from_item(const eas_cal_item_t *item, const uint8_t *rec, size_t rec_len,
                          const char *fallback_uid);

/** Fields built from a local file for eas_item_add()/eas_item_change(). */
typedef struct easd_fields {
    eas_field_t f[256];
    size_t n;
    char text[65536]; /**< storage of the values */
    size_t used;
    bool overflow;
} easd_fields_t;

void easd_fields_reset(easd_fields_t *fl);
void easd_fields_text(easd_fields_t *fl, uint16_t tag, const char *s);
void easd_fields_open(easd_fields_t *fl, uint16_t tag);
void easd_fields_close(easd_fields_t *fl, uint16_t tag);

/** @brief A .ics (first VEVENT + its overrides) as Calendar fields. @return 0 or -1. */
int easd_ical_to_fields(const char *ics, easd_fields_t *fl, char *err, size_t errcap);

/** @brief A contact record as a vCard 3.0. @return malloc'd text or NULL. */
char *easd_vcard_from_rec(const uint8_t *rec, size_t len, const char *fallback_uid);
/** @brief A .vcf as Contacts fields. @return 0 or -1. */
int easd_vcard_to_fields(const char *vcf, easd_fields_t *fl, char *err, size_t errcap);

/** @brief An e-mail record as an RFC 5322 message (MIME body as is when Type 4). */
char *easd_mail_from_rec(const uint8_t *rec, size_t len, size_t *out_len, bool *read);

/** @brief Is the message flagged for follow-up (Email:Flag with Status 2, MS-ASEMAIL)? */
bool easd_mail_flagged(const uint8_t *rec, size_t len);

/* ------------------------------------------------------------------------------------- */
/* Control socket (ctl.c)                                                                */
/* ------------------------------------------------------------------------------------- */

/** @brief STATE/run/easd.sock. */
void easd_ctl_path(const easd_config_t *cfg, char *out, size_t cap);
/** @brief Listen (dir 0700, socket 0600, stale socket replaced). @return fd or -1. */
int easd_ctl_listen(const char *path);
/** @brief Send one request line, read the whole answer into @p out (deadline 30 s).
    @return 0, -1 when no daemon listens, -2 on another error. */
int easd_ctl_request(const char *path, const char *line, char **out);

#endif /* EASD_DAEMON_H */
