/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private: the EAS Status values the engine acts on, by name (MS-ASCMD / MS-ASPROV). The
 * codes shared by every command that force re-provisioning are in eas_proto.h
 * (EAS_STATUS_NOT_PROVISIONED ...). A Status the engine does not name here is passed on
 * as a number (in EAS_EV_ERROR / EAS_EV_OUTBOX_RESULT), never interpreted.
 */
#ifndef EAS_STATUS_H
#define EAS_STATUS_H

#include "eas_proto.h"

/* ---- every command ---- */
#define EAS_STATUS_NONE                    0u   /* no Status element (or an empty answer) */
#define EAS_STATUS_SUCCESS                 1u   /* Success (every command but MoveItems) */
#define EAS_STATUS_SERVER_ERROR            110u /* ServerError: transient */
#define EAS_STATUS_MESSAGE_PREVIOUSLY_SENT 118u /* SendMail: this ClientId was sent before */
#define EAS_STATUS_SYNC_STATE_NOT_FOUND    132u /* Ping: the server lost the folder's state */
#define EAS_STATUS_SYNC_STATE_EXISTS       135u /* Sync: the server's state for the key is off */

/* ---- Provision (MS-ASPROV) ---- */
#define EAS_STATUS_PROV_NO_POLICY 2u /* Policy Status: no policy for this client */
/* The acknowledgement the device sends (Policy Status in the request). */
#define EAS_PROV_ACK_ENFORCED 1u /* every setting is enforced */
#define EAS_PROV_ACK_PARTIAL  2u /* only some settings are enforced */

/* ---- Settings ---- */
#define EAS_STATUS_SETTINGS_UNAVAILABLE 4u /* server unavailable: try again later */

/* ---- FolderSync ---- */
#define EAS_STATUS_FS_INVALID_KEY 9u /* SyncKey mismatch or invalid: start over from 0 */

/* ---- Sync ---- */
#define EAS_STATUS_SYNC_INVALID_KEY       3u  /* invalid SyncKey: resync the folder from 0 */
#define EAS_STATUS_SYNC_SERVER_ERROR      5u  /* per item: try again later */
#define EAS_STATUS_SYNC_NOT_FOUND         8u  /* the folder is gone on the server */
#define EAS_STATUS_SYNC_HIERARCHY_CHANGED 12u /* FolderSync first */
#define EAS_STATUS_SYNC_RETRY             16u /* per item: retry later */

/* ---- Ping ---- */
#define EAS_STATUS_PING_EXPIRED        1u /* heartbeat expired without changes */
#define EAS_STATUS_PING_CHANGES        2u /* the listed folders changed */
#define EAS_STATUS_PING_MISSING_PARAMS 3u /* rejected: parameters missing */
#define EAS_STATUS_PING_SYNTAX         4u /* rejected: syntax error */
#define EAS_STATUS_PING_BAD_HEARTBEAT  5u /* HeartbeatInterval out of the server's range */
#define EAS_STATUS_PING_TOO_MANY       6u /* too many folders (MaxFolders says how many) */
#define EAS_STATUS_PING_HIERARCHY      7u /* FolderSync required */

/* ---- MeetingResponse ---- */
#define EAS_STATUS_MR_INVALID_REQUEST 2u /* the invitation is not there (any more) */

/* ---- MoveItems (its success is 3, not 1) ---- */
#define EAS_STATUS_MOVE_INVALID_SOURCE 1u /* the item is not (any more) in the source */
#define EAS_STATUS_MOVE_SUCCESS        3u
#define EAS_STATUS_MOVE_FAILED         5u /* transient server failure */
#define EAS_STATUS_MOVE_LOCKED         7u /* source or destination locked: transient */

/* ---- Calendar ResponseType of an item (what a MeetingResponse leaves on it) ---- */
#define EAS_RESPONSE_TYPE_NONE      0u
#define EAS_RESPONSE_TYPE_TENTATIVE 2u
#define EAS_RESPONSE_TYPE_ACCEPTED  3u
#define EAS_RESPONSE_TYPE_DECLINED  4u

/* ---- HTTP statuses the engine reports with (not EAS Status values) ---- */
#define EAS_HTTP_STATUS_NEEDS_PROVISION 449u
#define EAS_HTTP_STATUS_MOVED           451u

#endif /* EAS_STATUS_H */
