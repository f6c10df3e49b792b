/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private: one module per EAS command. Each builds its request body through the WBXML
 * encoder (deterministic, so the HTTP body producer can run it again) and parses the
 * response as a stream of decoder events into typed results, calling back for every
 * element that can occur an unbounded number of times (folders, items) so memory does not
 * grow with the response.
 *
 * Parsers only report what the server said; deciding what to do about it (retry, recover,
 * commit) is the engine's job.
 */
#ifndef EAS_PROTO_H
#define EAS_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "eas/eas_base64.h"
#include "eas/eas_engine.h"
#include "eas/eas_wbxml.h"

/** Deepest element path a parser tracks; deeper elements are passed through untracked. */
#define EAS_PROTO_PATH_MAX 12

/** Element path and small-text collection shared by the parsers. */
typedef struct eas_proto_path {
    uint16_t tag[EAS_PROTO_PATH_MAX + 1]; /**< tag[d] = open element at depth d (1 = root) */
    uint16_t depth;
    char text[EAS_ID_CAP]; /**< text of the innermost leaf, NUL-terminated */
    uint16_t text_len;
    bool text_overflow;
} eas_proto_path_t;

/** Track START/END and collect small TEXT into p->text. Returns EAS_OK. */
void eas_proto_path_event(eas_proto_path_t *p, const eas_wbxml_event_t *ev);
/** Tag at depth @p d (0 if not tracked). */
uint16_t eas_proto_path_at(const eas_proto_path_t *p, uint16_t d);
/** Parse p->text as a decimal status (0..65535). EAS_ERR_PROTO when not a number. */
int eas_proto_text_uint(const eas_proto_path_t *p, uint32_t *out);
/** Copy p->text into a key/id field; EAS_ERR_PROTO when empty or over @p max chars. */
int eas_proto_text_id(const eas_proto_path_t *p, char *out, size_t max);

/** EAS Status codes shared by every command (MS-ASCMD 2.2.2). */
#define EAS_STATUS_SERVER_ERROR_RETRY 111
#define EAS_STATUS_DEVICE_BLOCKED     129
#define EAS_STATUS_NOT_PROVISIONABLE  139 /* DeviceNotFullyProvisionable */
#define EAS_STATUS_REMOTE_WIPE        140
#define EAS_STATUS_LEGACY_DEVICE      141
#define EAS_STATUS_NOT_PROVISIONED    142
#define EAS_STATUS_POLICY_REFRESH     143
#define EAS_STATUS_INVALID_POLICY_KEY 144
#define EAS_STATUS_MAXIMUM_DEVICES    177 /* MaximumDevicesReached */

/* ---------------------------------------------------------------------------------------- */
/* Provision                                                                                 */
/* ---------------------------------------------------------------------------------------- */

#define EAS_POLICY_TYPE_WBXML "MS-EAS-Provisioning-WBXML"

typedef enum eas_prov_req_kind {
    EAS_PROV_REQ_POLICY = 1, /**< phase 1: ask for the policy */
    EAS_PROV_REQ_ACK,        /**< phase 2: acknowledge with the temporary key */
    EAS_PROV_REQ_WIPE_ACK    /**< acknowledge a remote wipe */
} eas_prov_req_kind_t;

typedef struct eas_prov_req {
    eas_prov_req_kind_t kind;
    eas_proto_ver_t version; /**< DeviceInformation is sent from 14.1 on */
    const char *policy_key;  /**< ACK: the temporary key */
    uint8_t ack_status;      /**< ACK: 1 all enforced, 2 partially */
    const eas_device_info_t *device_info; /**< DeviceInformation (NULL: Model "easd") */
    const char *user_agent;
} eas_prov_req_t;

int eas_proto_provision_build(eas_wbxml_enc_t *enc, const eas_prov_req_t *req);

/** Called for each EASProvisionDoc setting (value truncated to EAS_ID_CAP - 1). */
typedef int (*eas_prov_setting_cb)(void *user, uint16_t tag, const char *value);

typedef struct eas_prov_parser {
    eas_proto_path_t path;
    eas_prov_setting_cb on_setting;
    void *user;
    uint32_t status;        /**< Provision Status (0 = absent) */
    uint32_t policy_status; /**< Policy Status (0 = absent) */
    char policy_key[EAS_ID_CAP];
    bool has_policy_key;
    bool remote_wipe;
    bool account_wipe;
    bool wbxml_policy; /**< PolicyType was MS-EAS-Provisioning-WBXML */
} eas_prov_parser_t;

void eas_proto_provision_parser_init(eas_prov_parser_t *p, eas_prov_setting_cb cb, void *user);
int eas_proto_provision_event(void *user, const eas_wbxml_event_t *ev);

/* ---------------------------------------------------------------------------------------- */
/* Settings (DeviceInformation only)                                                         */
/* ---------------------------------------------------------------------------------------- */

/** Common status "DeviceInformationRequired": the server wants DeviceInformation first. */
#define EAS_STATUS_DEVICE_INFO_REQUIRED 165

/** Writes <DeviceInformation><Set>...</Set></DeviceInformation> (Model, FriendlyName, OS,
    OSLanguage, UserAgent in schema order; NULL members left out, Model defaults to
    "easd"). Shared by Settings and the initial Provision. */
void eas_proto_devinfo_set(eas_wbxml_enc_t *enc, const eas_device_info_t *di,
                           const char *user_agent);
/** The whole Settings request setting DeviceInformation. */
int eas_proto_settings_build(eas_wbxml_enc_t *enc, const eas_device_info_t *di,
                             const char *user_agent);

typedef struct eas_settings_parser {
    eas_proto_path_t path;
    uint32_t status;    /**< Settings Status (0 = absent) */
    uint32_t di_status; /**< DeviceInformation Status (0 = absent) */
} eas_settings_parser_t;

void eas_proto_settings_parser_init(eas_settings_parser_t *p);
int eas_proto_settings_event(void *user, const eas_wbxml_event_t *ev);

/* ---------------------------------------------------------------------------------------- */
/* FolderSync                                                                                */
/* ---------------------------------------------------------------------------------------- */

int eas_proto_foldersync_build(eas_wbxml_enc_t *enc, const char *sync_key);

typedef struct eas_proto_folder {
    eas_item_op_t op; /**< ADD / CHANGE (Update) / DELETE */
    char server_id[EAS_ID_CAP];
    char parent_id[EAS_ID_CAP];
    char display_name[EAS_ID_CAP]; /**< truncated at a character boundary */
    uint8_t type;
} eas_proto_folder_t;

typedef int (*eas_fs_change_cb)(void *user, const eas_proto_folder_t *f);

typedef struct eas_fs_parser {
    eas_proto_path_t path;
    eas_fs_change_cb on_change;
    void *user;
    uint32_t status;
    char sync_key[EAS_ID_CAP];
    bool has_sync_key;
    eas_proto_folder_t cur;
    uint16_t name_len;
    bool name_truncated;
    uint32_t changes;
} eas_fs_parser_t;

void eas_proto_foldersync_parser_init(eas_fs_parser_t *p, eas_fs_change_cb cb, void *user);
int eas_proto_foldersync_event(void *user, const eas_wbxml_event_t *ev);

/** EAS_CLASS_* of a FolderHierarchy Type (0 when it holds nothing the engine syncs). */
uint8_t eas_proto_folder_class(uint8_t type);
/* The Class name of an EAS_CLASS_* is public: eas_class_name() in eas_engine.h. */

/* ---------------------------------------------------------------------------------------- */
/* Sync                                                                                      */
/* ---------------------------------------------------------------------------------------- */

/** Supplies outbox commands while the Sync request is encoded (called on every run). */
typedef int (*eas_sync_cmds_fn)(void *user, eas_wbxml_enc_t *enc);

typedef struct eas_sync_req {
    const char *collection_id;
    const char *sync_key;
    uint8_t cls; /**< EAS_CLASS_* (Class is sent for 12.1) */
    eas_proto_ver_t version;
    uint16_t window_size;
    bool get_changes;
    int filter_type; /**< -1: none */
    uint8_t body_type;
    uint32_t body_truncation;
    eas_sync_cmds_fn commands; /**< NULL: no Commands element */
    void *commands_user;
} eas_sync_req_t;

int eas_proto_sync_build(eas_wbxml_enc_t *enc, const eas_sync_req_t *req);

/** Item callbacks of the Sync parser (ITEM_BEGIN / ITEM_FIELD / ITEM_END semantics). */
typedef struct eas_sync_item_cbs {
    int (*begin)(void *user, eas_item_op_t op, const char *server_id, bool soft);
    int (*field)(void *user, const eas_wbxml_event_t *ev, uint16_t rel_depth);
    int (*end)(void *user, eas_item_op_t op, const char *server_id);
    /** Responses/Add|Change|Delete|Fetch: per-item answer to our commands. */
    int (*response)(void *user, uint16_t kind_tag, const char *client_id, const char *server_id,
                    uint32_t status);
    /** Collection header (SyncKey, CollectionId, Status) is complete: before any item. */
    int (*collection)(void *user, const char *collection_id, const char *sync_key, uint32_t status);
} eas_sync_item_cbs_t;

typedef struct eas_sync_parser {
    eas_proto_path_t path;
    const eas_sync_item_cbs_t *cbs;
    void *user;
    uint32_t top_status;  /**< Sync/Status (whole request failed) */
    uint32_t coll_status; /**< Collection/Status */
    char sync_key[EAS_ID_CAP];
    char collection_id[EAS_ID_CAP];
    bool has_sync_key;
    bool more_available;
    bool header_done;       /**< collection callback called */
    uint16_t appdata_depth; /**< depth of an open ApplicationData, 0 if none */
    bool item_begun;
    uint16_t op_tag; /**< Add/Change/Delete/SoftDelete or Responses child in progress */
    bool in_responses;
    char item_sid[EAS_ID_CAP];
    char item_cid[EAS_ID_CAP];
    uint32_t item_status;
    uint32_t items; /**< commands seen */
    uint32_t collections;
} eas_sync_parser_t;

void eas_proto_sync_parser_init(eas_sync_parser_t *p, const eas_sync_item_cbs_t *cbs, void *user);
int eas_proto_sync_event(void *user, const eas_wbxml_event_t *ev);

/* ---------------------------------------------------------------------------------------- */
/* Ping                                                                                      */
/* ---------------------------------------------------------------------------------------- */

typedef struct eas_ping_folder {
    const char *id;
    uint8_t cls;
} eas_ping_folder_t;

int eas_proto_ping_build(eas_wbxml_enc_t *enc, uint32_t heartbeat_s,
                         const eas_ping_folder_t *folders, size_t n);

typedef int (*eas_ping_folder_cb)(void *user, const char *id);

typedef struct eas_ping_parser {
    eas_proto_path_t path;
    eas_ping_folder_cb on_folder;
    void *user;
    uint32_t status;
    uint32_t heartbeat;   /**< status 5: the server's bound */
    uint32_t max_folders; /**< status 6 */
    uint32_t folders;
} eas_ping_parser_t;

void eas_proto_ping_parser_init(eas_ping_parser_t *p, eas_ping_folder_cb cb, void *user);
int eas_proto_ping_event(void *user, const eas_wbxml_event_t *ev);

/* ---------------------------------------------------------------------------------------- */
/* MeetingResponse                                                                           */
/* ---------------------------------------------------------------------------------------- */

typedef struct eas_meeting_req {
    const char *collection_id; /**< folder of the invitation (or calendar item, 16.0+) */
    const char *request_id;    /**< its ServerId */
    const char *instance_id;   /**< occurrence start (14.1+) or NULL/"" for the series */
    uint8_t reply;             /**< 1 accept, 2 tentative, 3 decline */
} eas_meeting_req_t;

int eas_proto_meeting_build(eas_wbxml_enc_t *enc, const eas_meeting_req_t *r);

typedef struct eas_meeting_parser {
    eas_proto_path_t path;
    uint32_t top_status; /**< MeetingResponse/Status (whole command; 0 = absent) */
    uint32_t status;     /**< Result/Status */
    uint32_t results;
    char request_id[EAS_ID_CAP];
    char calendar_id[EAS_ID_CAP];
} eas_meeting_parser_t;

void eas_proto_meeting_parser_init(eas_meeting_parser_t *p);
int eas_proto_meeting_event(void *user, const eas_wbxml_event_t *ev);

/* ---------------------------------------------------------------------------------------- */
/* ItemOperations Fetch                                                                      */
/* ---------------------------------------------------------------------------------------- */

typedef struct eas_fetch_req {
    const char *collection_id;  /**< item fetch: its folder */
    const char *server_id;      /**< item fetch: its ServerId */
    const char *file_reference; /**< attachment fetch (takes precedence when not empty) */
    uint8_t body_type;          /**< BodyPreference Type for an item (0 = 1, text) */
} eas_fetch_req_t;

int eas_proto_fetch_build(eas_wbxml_enc_t *enc, const eas_fetch_req_t *r);

typedef struct eas_fetch_cbs {
    /** Properties opens (the fetch Status seen so far is passed). */
    int (*begin)(void *user, uint32_t status);
    /** Any element inside Properties except Data (rel_depth 1 = child of Properties). */
    int (*field)(void *user, const eas_wbxml_event_t *ev, uint16_t rel_depth);
    /** Decoded attachment bytes; @p last once at the end of Data. */
    int (*data)(void *user, const uint8_t *d, size_t n, bool last);
} eas_fetch_cbs_t;

typedef struct eas_fetch_parser {
    eas_proto_path_t path;
    const eas_fetch_cbs_t *cbs;
    void *user;
    uint32_t top_status; /**< ItemOperations/Status */
    uint32_t status;     /**< Fetch/Status */
    uint32_t fetches;
    uint64_t bytes; /**< Data bytes delivered */
    uint32_t data_pieces;
    bool props_open;
    bool props_seen;
    bool in_data;
    bool data_opaque;
    eas_base64_dec_t b64;
} eas_fetch_parser_t;

void eas_proto_fetch_parser_init(eas_fetch_parser_t *p, const eas_fetch_cbs_t *cbs, void *user);
int eas_proto_fetch_event(void *user, const eas_wbxml_event_t *ev);

/* ---------------------------------------------------------------------------------------- */
/* MoveItems / GetItemEstimate                                                               */
/* ---------------------------------------------------------------------------------------- */

int eas_proto_move_build(eas_wbxml_enc_t *enc, const char *src_msg, const char *src_fld,
                         const char *dst_fld);

typedef struct eas_move_parser {
    eas_proto_path_t path;
    uint32_t top_status; /**< a Status directly under MoveItems (command refused) */
    uint32_t status;     /**< Response/Status: 3 = moved */
    uint32_t responses;
    char dst_msg_id[EAS_ID_CAP];
} eas_move_parser_t;

void eas_proto_move_parser_init(eas_move_parser_t *p);
int eas_proto_move_event(void *user, const eas_wbxml_event_t *ev);

typedef struct eas_estimate_req {
    const char *collection_id;
    const char *sync_key;
    uint8_t cls;
    eas_proto_ver_t version;
    int filter_type; /**< -1: none */
} eas_estimate_req_t;

int eas_proto_estimate_build(eas_wbxml_enc_t *enc, const eas_estimate_req_t *r);

typedef struct eas_estimate_parser {
    eas_proto_path_t path;
    uint32_t top_status;
    uint32_t status; /**< Response/Status (1 ok, 2 unknown folder, 3 not primed, 4 bad key) */
    uint32_t estimate;
    bool has_estimate;
} eas_estimate_parser_t;

void eas_proto_estimate_parser_init(eas_estimate_parser_t *p);
int eas_proto_estimate_event(void *user, const eas_wbxml_event_t *ev);

/* ---------------------------------------------------------------------------------------- */
/* SendMail / SmartReply / SmartForward (CONFIG_EAS_EMAIL)                                   */
/* ---------------------------------------------------------------------------------------- */

typedef struct eas_compose_req {
    eas_mail_cmd_t cmd;
    const char *client_id;
    const char *src_folder; /**< REPLY/FORWARD */
    const char *src_item;
    bool save_in_sent;
    bool replace_mime;
    uint32_t mime_id;
    uint64_t mime_len;
    eas_mime_read_fn read;
    void *read_user;
} eas_compose_req_t;

int eas_proto_compose_build(eas_wbxml_enc_t *enc, const eas_compose_req_t *r);

typedef struct eas_compose_parser {
    eas_proto_path_t path;
    uint32_t status; /**< 0: no body (success) */
} eas_compose_parser_t;

void eas_proto_compose_parser_init(eas_compose_parser_t *p);
int eas_proto_compose_event(void *user, const eas_wbxml_event_t *ev);

#endif /* EAS_PROTO_H */
