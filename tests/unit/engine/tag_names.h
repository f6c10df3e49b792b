/* SPDX-License-Identifier: Apache-2.0 */
/* Tag names for the engine tests' flattened documents; independent of
 * CONFIG_EAS_WBXML_NAMES so the tests run in the minimal preset too. */
#ifndef TEST_TAG_NAMES_H
#define TEST_TAG_NAMES_H

#include <stdio.h>

#include "eas/eas_wbxml.h"

static inline const char *test_tag_name(uint16_t tag)
{
    static char hex[8];
    switch (tag) {
#define T(c, n)                                                                                    \
    case c:                                                                                        \
        return n;
        T(EAS_PROVISION_PROVISION, "Provision")
        T(EAS_PROVISION_POLICIES, "Policies")
        T(EAS_PROVISION_POLICY, "Policy")
        T(EAS_PROVISION_POLICY_TYPE, "PolicyType")
        T(EAS_PROVISION_POLICY_KEY, "PolicyKey")
        T(EAS_PROVISION_STATUS, "Status")
        T(EAS_PROVISION_REMOTE_WIPE, "RemoteWipe")
        T(EAS_SETTINGS_DEVICE_INFORMATION, "DeviceInformation")
        T(EAS_SETTINGS_SET, "Set")
        T(EAS_SETTINGS_MODEL, "Model")
        T(EAS_SETTINGS_USER_AGENT, "UserAgent")
        T(EAS_SETTINGS_SETTINGS, "Settings")
        T(EAS_SETTINGS_FRIENDLY_NAME, "FriendlyName")
        T(EAS_SETTINGS_OS, "OS")
        T(EAS_SETTINGS_OS_LANGUAGE, "OSLanguage")
        T(EAS_FOLDERHIERARCHY_FOLDER_SYNC, "FolderSync")
        T(EAS_FOLDERHIERARCHY_SYNC_KEY, "SyncKey")
        T(EAS_AIRSYNC_SYNC, "Sync")
        T(EAS_AIRSYNC_COLLECTIONS, "Collections")
        T(EAS_AIRSYNC_COLLECTION, "Collection")
        T(EAS_AIRSYNC_SYNC_KEY, "SyncKey")
        T(EAS_AIRSYNC_COLLECTION_ID, "CollectionId")
        T(EAS_AIRSYNC_WINDOW_SIZE, "WindowSize")
        T(EAS_AIRSYNC_OPTIONS, "Options")
        T(EAS_AIRSYNC_GET_CHANGES, "GetChanges")
        T(EAS_AIRSYNC_CLASS, "Class")
        T(EAS_AIRSYNC_FILTER_TYPE, "FilterType")
        T(EAS_AIRSYNC_COMMANDS, "Commands")
        T(EAS_AIRSYNC_ADD, "Add")
        T(EAS_AIRSYNC_CHANGE, "Change")
        T(EAS_AIRSYNC_DELETE, "Delete")
        T(EAS_AIRSYNC_SERVER_ID, "ServerId")
        T(EAS_AIRSYNC_CLIENT_ID, "ClientId")
        T(EAS_AIRSYNC_APPLICATION_DATA, "ApplicationData")
        T(EAS_AIRSYNCBASE_BODY_PREFERENCE, "BodyPreference")
        T(EAS_AIRSYNCBASE_TYPE, "Type")
        T(EAS_AIRSYNCBASE_TRUNCATION_SIZE, "TruncationSize")
        T(EAS_AIRSYNCBASE_BODY, "Body")
        T(EAS_AIRSYNCBASE_DATA, "Data")
        T(EAS_CALENDAR_SUBJECT, "Subject")
        T(EAS_PING_PING, "Ping")
        T(EAS_PING_HEARTBEAT_INTERVAL, "HeartbeatInterval")
        T(EAS_PING_FOLDERS, "Folders")
        T(EAS_PING_FOLDER, "Folder")
        T(EAS_PING_ID, "Id")
        T(EAS_PING_CLASS, "Class")
        T(EAS_COMPOSEMAIL_SEND_MAIL, "SendMail")
        T(EAS_COMPOSEMAIL_SMART_REPLY, "SmartReply")
        T(EAS_COMPOSEMAIL_SMART_FORWARD, "SmartForward")
        T(EAS_COMPOSEMAIL_CLIENT_ID, "ClientId")
        T(EAS_COMPOSEMAIL_SOURCE, "Source")
        T(EAS_COMPOSEMAIL_FOLDER_ID, "FolderId")
        T(EAS_COMPOSEMAIL_ITEM_ID, "ItemId")
        T(EAS_COMPOSEMAIL_SAVE_IN_SENT_ITEMS, "SaveInSentItems")
        T(EAS_COMPOSEMAIL_REPLACE_MIME, "ReplaceMime")
        T(EAS_COMPOSEMAIL_MIME, "Mime")
        T(EAS_MOVE_MOVE_ITEMS, "MoveItems")
        T(EAS_MOVE_MOVE, "Move")
        T(EAS_MOVE_SRC_MSG_ID, "SrcMsgId")
        T(EAS_MOVE_SRC_FLD_ID, "SrcFldId")
        T(EAS_MOVE_DST_FLD_ID, "DstFldId")
        T(EAS_GETITEMESTIMATE_GET_ITEM_ESTIMATE, "GetItemEstimate")
        T(EAS_GETITEMESTIMATE_COLLECTIONS, "GIECollections")
        T(EAS_GETITEMESTIMATE_COLLECTION, "GIECollection")
        T(EAS_GETITEMESTIMATE_COLLECTION_ID, "GIECollectionId")
        T(EAS_ITEMOPERATIONS_ITEM_OPERATIONS, "ItemOperations")
        T(EAS_ITEMOPERATIONS_FETCH, "Fetch")
        T(EAS_ITEMOPERATIONS_STORE, "Store")
        T(EAS_ITEMOPERATIONS_OPTIONS, "IOOptions")
        T(EAS_AIRSYNCBASE_FILE_REFERENCE, "FileReference")
        T(EAS_MEETINGRESPONSE_MEETING_RESPONSE, "MeetingResponse")
        T(EAS_MEETINGRESPONSE_REQUEST, "Request")
        T(EAS_MEETINGRESPONSE_USER_RESPONSE, "UserResponse")
        T(EAS_MEETINGRESPONSE_COLLECTION_ID, "CollectionId")
        T(EAS_MEETINGRESPONSE_REQUEST_ID, "RequestId")
        T(EAS_MEETINGRESPONSE_INSTANCE_ID, "InstanceId")
#undef T
    default:
        snprintf(hex, sizeof(hex), "%04X", tag);
        return hex;
    }
}

#endif
