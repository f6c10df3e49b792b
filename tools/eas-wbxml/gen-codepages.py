#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Generate eas/include/eas/eas_wbxml_tags.h and eas/src/wbxml_codepages_gen.h from the
EAS code page tables below (MS-ASWBXML, protocol versions 2.5 .. 16.1).

Element names are the ones MS-ASWBXML gives. Run from the repository root:
    /usr/bin/python3 tools/eas-wbxml/gen-codepages.py
The outputs are committed; tests/unit/wbxml checks them against libwbxml's tables.
"""
import re
import sys
from pathlib import Path

# (page, namespace, constant prefix, [(token, name, optional constant suffix), ...])
PAGES = [
    (0, "AirSync", "AIRSYNC", """
05 Sync
06 Responses
07 Add
08 Change
09 Delete
0A Fetch
0B SyncKey
0C ClientId
0D ServerId
0E Status
0F Collection
10 Class
11 Version
12 CollectionId
13 GetChanges
14 MoreAvailable
15 WindowSize
16 Commands
17 Options
18 FilterType
19 Truncation
1A RTFTruncation RTF_TRUNCATION
1B Conflict
1C Collections
1D ApplicationData
1E DeletesAsMoves
1F NotifyGUID NOTIFY_GUID
20 Supported
21 SoftDelete
22 MIMESupport MIME_SUPPORT
23 MIMETruncation MIME_TRUNCATION
24 Wait
25 Limit
26 Partial
27 ConversationMode
28 MaxItems
29 HeartbeatInterval
"""),
    (1, "Contacts", "CONTACTS", """
05 Anniversary
06 AssistantName
07 AssistantPhoneNumber
08 Birthday
09 Body
0A BodySize
0B BodyTruncated
0C Business2PhoneNumber BUSINESS2_PHONE_NUMBER
0D BusinessCity
0E BusinessCountry
0F BusinessPostalCode
10 BusinessState
11 BusinessStreet
12 BusinessFaxNumber
13 BusinessPhoneNumber
14 CarPhoneNumber
15 Categories
16 Category
17 Children
18 Child
19 CompanyName
1A Department
1B Email1Address EMAIL1_ADDRESS
1C Email2Address EMAIL2_ADDRESS
1D Email3Address EMAIL3_ADDRESS
1E FileAs
1F FirstName
20 Home2PhoneNumber HOME2_PHONE_NUMBER
21 HomeCity
22 HomeCountry
23 HomePostalCode
24 HomeState
25 HomeStreet
26 HomeFaxNumber
27 HomePhoneNumber
28 JobTitle
29 LastName
2A MiddleName
2B MobilePhoneNumber
2C OfficeLocation
2D OtherCity
2E OtherCountry
2F OtherPostalCode
30 OtherState
31 OtherStreet
32 PagerNumber
33 RadioPhoneNumber
34 Spouse
35 Suffix
36 Title
37 WebPage
38 YomiCompanyName
39 YomiFirstName
3A YomiLastName
3B CompressedRTF COMPRESSED_RTF
3C Picture
3D Alias
3E WeightedRank
"""),
    (2, "Email", "EMAIL", """
05 Attachment
06 Attachments
07 AttName
08 AttSize
09 AttOid
0A AttMethod
0B AttRemoved
0C Body
0D BodySize
0E BodyTruncated
0F DateReceived
10 DisplayName
11 DisplayTo
12 Importance
13 MessageClass
14 Subject
15 Read
16 To
17 Cc
18 From
19 Reply-To REPLY_TO
1A AllDayEvent
1B Categories
1C Category
1D DtStamp
1E EndTime
1F InstanceType
20 BusyStatus
21 Location
22 MeetingRequest
23 Organizer
24 RecurrenceId
25 Reminder
26 ResponseRequested
27 Recurrences
28 Recurrence
29 Type
2A Until
2B Occurrences
2C Interval
2D DayOfWeek
2E DayOfMonth
2F WeekOfMonth
30 MonthOfYear
31 StartTime
32 Sensitivity
33 TimeZone TIMEZONE
34 GlobalObjId
35 ThreadTopic
36 MIMEData MIME_DATA
37 MIMETruncated MIME_TRUNCATED
38 MIMESize MIME_SIZE
39 InternetCPID INTERNET_CPID
3A Flag
3B Status FLAG_STATUS
3C ContentClass
3D FlagType
3E CompleteTime
3F DisallowNewTimeProposal
"""),
    (3, "AirNotify", "AIRNOTIFY", """
05 Notify
06 Notification
07 Version
08 Lifetime
09 DeviceInfo
0A Enable
0B Folder
0C ServerId
0D DeviceAddress
0E ValidCarrierProfiles
0F CarrierProfile
10 Status
11 Responses
12 Devices
13 Device
14 Id
15 Expiry
16 NotifyGUID NOTIFY_GUID
17 DeviceFriendlyName
"""),
    (4, "Calendar", "CALENDAR", """
05 Timezone
06 AllDayEvent
07 Attendees
08 Attendee
09 Email ATTENDEE_EMAIL
0A Name ATTENDEE_NAME
0B Body
0C BodyTruncated
0D BusyStatus
0E Categories
0F Category
10 Compressed_RTF COMPRESSED_RTF
11 DtStamp
12 EndTime
13 Exception
14 Exceptions
15 Deleted
16 ExceptionStartTime
17 Location
18 MeetingStatus
19 OrganizerEmail
1A OrganizerName
1B Recurrence
1C Type
1D Until
1E Occurrences
1F Interval
20 DayOfWeek
21 DayOfMonth
22 WeekOfMonth
23 MonthOfYear
24 Reminder
25 Sensitivity
26 Subject
27 StartTime
28 UID
29 AttendeeStatus
2A AttendeeType
33 DisallowNewTimeProposal
34 ResponseRequested
35 AppointmentReplyTime
36 ResponseType
37 CalendarType
38 IsLeapMonth
39 FirstDayOfWeek
3A OnlineMeetingConfLink
3B OnlineMeetingExternalLink
3C ClientUid
"""),
    (5, "Move", "MOVE", """
05 MoveItems
06 Move
07 SrcMsgId
08 SrcFldId
09 DstFldId
0A Response
0B Status
0C DstMsgId
"""),
    (6, "GetItemEstimate", "GETITEMESTIMATE", """
05 GetItemEstimate
06 Version
07 Collections
08 Collection
09 Class
0A CollectionId
0B DateTime
0C Estimate
0D Response
0E Status
"""),
    (7, "FolderHierarchy", "FOLDERHIERARCHY", """
05 Folders
06 Folder
07 DisplayName
08 ServerId
09 ParentId
0A Type
0B Response
0C Status
0D ContentClass
0E Changes
0F Add
10 Delete
11 Update
12 SyncKey
13 FolderCreate
14 FolderDelete
15 FolderUpdate
16 FolderSync
17 Count
18 Version
"""),
    (8, "MeetingResponse", "MEETINGRESPONSE", """
05 CalendarId
06 CollectionId
07 MeetingResponse
08 RequestId
09 Request
0A Result
0B Status
0C UserResponse
0D Version
0E InstanceId
10 ProposedStartTime
11 ProposedEndTime
12 SendResponse
"""),
    (9, "Tasks", "TASKS", """
05 Body
06 BodySize
07 BodyTruncated
08 Categories
09 Category
0A Complete
0B DateCompleted
0C DueDate
0D UtcDueDate
0E Importance
0F Recurrence
10 Type
11 Start
12 Until
13 Occurrences
14 Interval
15 DayOfMonth
16 DayOfWeek
17 WeekOfMonth
18 MonthOfYear
19 Regenerate
1A DeadOccur
1B ReminderSet
1C ReminderTime
1D Sensitivity
1E StartDate
1F UtcStartDate
20 Subject
21 CompressedRTF COMPRESSED_RTF
22 OrdinalDate
23 SubOrdinalDate
24 CalendarType
25 IsLeapMonth
26 FirstDayOfWeek
"""),
    (10, "ResolveRecipients", "RESOLVERECIPIENTS", """
05 ResolveRecipients
06 Response
07 Status
08 Type
09 Recipient
0A DisplayName
0B EmailAddress
0C Certificates
0D Certificate
0E MiniCertificate
0F Options
10 To
11 CertificateRetrieval
12 RecipientCount
13 MaxCertificates
14 MaxAmbiguousRecipients
15 CertificateCount
16 Availability
17 StartTime
18 EndTime
19 MergedFreeBusy
1A Picture
1B MaxSize
1C Data
1D MaxPictures
"""),
    (11, "ValidateCert", "VALIDATECERT", """
05 ValidateCert
06 Certificates
07 Certificate
08 CertificateChain
09 CheckCRL CHECK_CRL
0A Status
"""),
    (12, "Contacts2", "CONTACTS2", """
05 CustomerId
06 GovernmentId
07 IMAddress IM_ADDRESS
08 IMAddress2 IM_ADDRESS2
09 IMAddress3 IM_ADDRESS3
0A ManagerName
0B CompanyMainPhone
0C AccountName
0D NickName
0E MMS
"""),
    (13, "Ping", "PING", """
05 Ping
06 AutdState
07 Status
08 HeartbeatInterval
09 Folders
0A Folder
0B Id
0C Class
0D MaxFolders
"""),
    (14, "Provision", "PROVISION", """
05 Provision
06 Policies
07 Policy
08 PolicyType
09 PolicyKey
0A Data
0B Status
0C RemoteWipe
0D EASProvisionDoc EAS_PROVISION_DOC
0E DevicePasswordEnabled
0F AlphanumericDevicePasswordRequired
10 DeviceEncryptionEnabled
11 PasswordRecoveryEnabled
12 DocumentBrowseEnabled
13 AttachmentsEnabled
14 MinDevicePasswordLength
15 MaxInactivityTimeDeviceLock
16 MaxDevicePasswordFailedAttempts
17 MaxAttachmentSize
18 AllowSimpleDevicePassword
19 DevicePasswordExpiration
1A DevicePasswordHistory
1B AllowStorageCard
1C AllowCamera
1D RequireDeviceEncryption
1E AllowUnsignedApplications
1F AllowUnsignedInstallationPackages
20 MinDevicePasswordComplexCharacters
21 AllowWiFi ALLOW_WIFI
22 AllowTextMessaging
23 AllowPOPIMAPEmail ALLOW_POP_IMAP_EMAIL
24 AllowBluetooth
25 AllowIrDA ALLOW_IRDA
26 RequireManualSyncWhenRoaming
27 AllowDesktopSync
28 MaxCalendarAgeFilter
29 AllowHTMLEmail ALLOW_HTML_EMAIL
2A MaxEmailAgeFilter
2B MaxEmailBodyTruncationSize
2C MaxEmailHTMLBodyTruncationSize MAX_EMAIL_HTML_BODY_TRUNCATION_SIZE
2D RequireSignedSMIMEMessages REQUIRE_SIGNED_SMIME_MESSAGES
2E RequireEncryptedSMIMEMessages REQUIRE_ENCRYPTED_SMIME_MESSAGES
2F RequireSignedSMIMEAlgorithm REQUIRE_SIGNED_SMIME_ALGORITHM
30 RequireEncryptionSMIMEAlgorithm REQUIRE_ENCRYPTION_SMIME_ALGORITHM
31 AllowSMIMEEncryptionAlgorithmNegotiation ALLOW_SMIME_ENCRYPTION_ALGORITHM_NEGOTIATION
32 AllowSMIMESoftCerts ALLOW_SMIME_SOFT_CERTS
33 AllowBrowser
34 AllowConsumerEmail
35 AllowRemoteDesktop
36 AllowInternetSharing
37 UnapprovedInROMApplicationList UNAPPROVED_IN_ROM_APPLICATION_LIST
38 ApplicationName
39 ApprovedApplicationList
3A Hash
3B AccountOnlyRemoteWipe
"""),
    (15, "Search", "SEARCH", """
05 Search
07 Store
08 Name
09 Query
0A Options
0B Range
0C Status
0D Response
0E Result
0F Properties
10 Total
11 EqualTo
12 Value
13 And
14 Or
15 FreeText
17 DeepTraversal
18 LongId
19 RebuildResults
1A LessThan
1B GreaterThan
1C Schema
1D Supported
1E UserName
1F Password
20 ConversationId
21 Picture
22 MaxSize
23 MaxPictures
"""),
    (16, "GAL", "GAL", """
05 DisplayName
06 Phone
07 Office
08 Title
09 Company
0A Alias
0B FirstName
0C LastName
0D HomePhone
0E MobilePhone
0F EmailAddress
10 Picture
11 Status
12 Data
"""),
    (17, "AirSyncBase", "AIRSYNCBASE", """
05 BodyPreference
06 Type
07 TruncationSize
08 AllOrNone
0A Body
0B Data
0C EstimatedDataSize
0D Truncated
0E Attachments
0F Attachment
10 DisplayName
11 FileReference
12 Method
13 ContentId
14 ContentLocation
15 IsInline
16 NativeBodyType
17 ContentType
18 Preview
19 BodyPartPreference
1A BodyPart
1B Status
1C Add
1D Delete
1E ClientId
1F Content
20 Location
21 Annotation
22 Street
23 City
24 State
25 Country
26 PostalCode
27 Latitude
28 Longitude
29 Accuracy
2A Altitude
2B AltitudeAccuracy
2C LocationUri
2D InstanceId
"""),
    (18, "Settings", "SETTINGS", """
05 Settings
06 Status
07 Get
08 Set
09 Oof
0A OofState
0B StartTime
0C EndTime
0D OofMessage
0E AppliesToInternal
0F AppliesToExternalKnown
10 AppliesToExternalUnknown
11 Enabled
12 ReplyMessage
13 BodyType
14 DevicePassword
15 Password
16 DeviceInformation
17 Model
18 IMEI
19 FriendlyName
1A OS
1B OSLanguage OS_LANGUAGE
1C PhoneNumber
1D UserInformation
1E EmailAddresses
1F SmtpAddress
20 UserAgent
21 EnableOutboundSMS ENABLE_OUTBOUND_SMS
22 MobileOperator
23 PrimarySmtpAddress
24 Accounts
25 Account
26 AccountId
27 AccountName
28 UserDisplayName
29 SendDisabled
2B RightsManagementInformation
"""),
    (19, "DocumentLibrary", "DOCUMENTLIBRARY", """
05 LinkId
06 DisplayName
07 IsFolder
08 CreationDate
09 LastModifiedDate
0A IsHidden
0B ContentLength
0C ContentType
"""),
    (20, "ItemOperations", "ITEMOPERATIONS", """
05 ItemOperations
06 Fetch
07 Store
08 Options
09 Range
0A Total
0B Properties
0C Data
0D Status
0E Response
0F Version
10 Schema
11 Part
12 EmptyFolderContents
13 DeleteSubFolders
14 UserName
15 Password
16 Move
17 DstFldId
18 ConversationId
19 MoveAlways
"""),
    (21, "ComposeMail", "COMPOSEMAIL", """
05 SendMail
06 SmartForward
07 SmartReply
08 SaveInSentItems
09 ReplaceMime
0B Source
0C FolderId
0D ItemId
0E LongId
0F InstanceId
10 Mime
11 ClientId
12 Status
13 AccountId
15 Forwardees
16 Forwardee
17 ForwardeeName
18 ForwardeeEmail
"""),
    (22, "Email2", "EMAIL2", """
05 UmCallerID UM_CALLER_ID
06 UmUserNotes
07 UmAttDuration
08 UmAttOrder
09 ConversationId
0A ConversationIndex
0B LastVerbExecuted
0C LastVerbExecutionTime
0D ReceivedAsBcc
0E Sender
0F CalendarType
10 IsLeapMonth
11 AccountId
12 FirstDayOfWeek
13 MeetingMessageType
15 IsDraft
16 Bcc
17 Send
"""),
    (23, "Notes", "NOTES", """
05 Subject
06 MessageClass
07 LastModifiedDate
08 Categories
09 Category
"""),
    (24, "RightsManagement", "RIGHTSMANAGEMENT", """
05 RightsManagementSupport
06 RightsManagementTemplates
07 RightsManagementTemplate
08 RightsManagementLicense
09 EditAllowed
0A ReplyAllowed
0B ReplyAllAllowed
0C ForwardAllowed
0D ModifyRecipientsAllowed
0E ExtractAllowed
0F PrintAllowed
10 ExportAllowed
11 ProgrammaticAccessAllowed
12 Owner
13 ContentExpiryDate
14 TemplateID TEMPLATE_ID
15 TemplateName
16 TemplateDescription
17 ContentOwner
18 RemoveRightsManagementProtection
"""),
    (25, "Find", "FIND", """
05 Find
06 SearchId
07 ExecuteSearch
08 MailBoxSearchCriterion MAILBOX_SEARCH_CRITERION
09 Query
0A Status
0B FreeText
0C Options
0D Range
0E DeepTraversal
11 Response
12 Result
13 Properties
14 Preview
15 HasAttachments
16 Total
17 DisplayCc
18 DisplayBcc
19 GalSearchCriterion
20 MaxPictures
21 MaxSize
22 Picture
"""),
]

# Extra constant names for tokens MS-ASWBXML gives two names (same value).
ALIASES = [
    (14, 0x10, "RequireStorageCardEncryption", "REQUIRE_STORAGE_CARD_ENCRYPTION"),
]


def snake(name):
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    s = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", s)
    return s.replace("-", "_").upper()


def parse():
    pages = []
    for page, ns, prefix, body in PAGES:
        toks = []
        for line in body.strip().splitlines():
            parts = line.split()
            tok = int(parts[0], 16)
            name = parts[1]
            const = parts[2] if len(parts) > 2 else snake(name)
            assert 5 <= tok <= 0x3F, (page, tok)
            toks.append((tok, name, const))
        assert len({t for t, _, _ in toks}) == len(toks), page
        assert len({c for _, _, c in toks}) == len(toks), page
        pages.append((page, ns, prefix, toks))
    return pages


HEADER_TOP = """/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file eas_wbxml_tags.h
 * @brief Tag constants of every EAS code page (MS-ASWBXML), generated by
 *        tools/eas-wbxml/gen-codepages.py — edit the script, not this file.
 *
 * A tag value is `(code page << 8) | token`, e.g. ::EAS_AIRSYNC_SYNC == 0x0005.
 * Names follow MS-ASWBXML's element names in upper snake case, prefixed by the code page
 * (`EAS_CALENDAR_TYPE` is Recurrence/Type in the Calendar page; libwbxml calls that element
 * "Recurrence_Type"). A few constants add context where the bare element name is ambiguous:
 * EAS_CALENDAR_ATTENDEE_EMAIL / _ATTENDEE_NAME (MS-ASWBXML "Email" / "Name") and
 * EAS_EMAIL_FLAG_STATUS (MS-ASWBXML "Status" of page 2).
 */
#ifndef EAS_WBXML_TAGS_H
#define EAS_WBXML_TAGS_H

"""


def gen_header(pages):
    out = [HEADER_TOP]
    out.append("/* ---- code pages ---- */\n")
    for page, ns, prefix, _ in pages:
        out.append("#define EAS_PAGE_%s %d /**< %s: */\n" % (prefix, page, ns))
    out.append("/** Number of code pages (0 .. EAS_PAGE_COUNT - 1). */\n")
    out.append("#define EAS_PAGE_COUNT %d\n" % len(pages))
    for page, ns, prefix, toks in pages:
        out.append("\n/* ---- code page %d: %s ---- */\n" % (page, ns))
        for tok, name, const in toks:
            out.append("#define EAS_%s_%s 0x%04X /**< %s:%s */\n"
                       % (prefix, const, (page << 8) | tok, ns, name))
            for ap, at, aname, aconst in ALIASES:
                if ap == page and at == tok:
                    out.append("#define EAS_%s_%s 0x%04X /**< %s:%s (same token) */\n"
                               % (prefix, aconst, (page << 8) | tok, ns, aname))
    out.append("\n#endif /* EAS_WBXML_TAGS_H */\n")
    return "".join(out)


def c_str(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def gen_tables(pages):
    """Private header included by wbxml_codepages.c: known-token bitmaps (always) and a
    compact name pool (only with CONFIG_EAS_WBXML_NAMES)."""
    out = ["/* SPDX-License-Identifier: Apache-2.0 */\n",
           "/* Generated by tools/eas-wbxml/gen-codepages.py — edit the script, not this file.\n",
           " * Included only by wbxml_codepages.c. */\n\n"]
    out.append("/* Bit t set: token t is defined in the page. */\n")
    out.append("static const uint64_t eas_wbxml_known_[%d] = {\n" % len(pages))
    for page, ns, prefix, toks in pages:
        bits = 0
        for tok, _, _ in toks:
            bits |= 1 << tok
        out.append("    UINT64_C(0x%016X), /* %s */\n" % (bits, ns))
    out.append("};\n\n#if CONFIG_EAS_WBXML_NAMES\n")
    # Name pool: page names first, then each page's tags; offsets index it.
    pool = []
    offs = {}
    pos = 0

    def add(s):
        nonlocal pos
        if s in offs:
            return offs[s]
        offs[s] = pos
        pool.append(s)
        pos += len(s) + 1
        return offs[s]

    page_off = [add(ns) for _, ns, _, _ in pages]
    tag_off = []
    for page, ns, prefix, toks in pages:
        row = [0xFFFF] * 64
        for tok, name, _ in toks:
            row[tok] = add(name)
        tag_off.append(row)
    assert pos < 0xFFFF
    out.append("/* Every name, NUL-separated. */\n")
    out.append("static const char eas_wbxml_pool_[] =\n")
    for s in pool:
        out.append("    %s \"\\0\"\n" % c_str(s))
    out.append("    ;\n\n")
    out.append("static const uint16_t eas_wbxml_page_name_[%d] = {" % len(pages))
    out.append(", ".join(str(o) for o in page_off))
    out.append("};\n\n")
    out.append("/* Name offset of token 5 + i of each page; 0xFFFF: undefined token. */\n")
    out.append("static const uint16_t eas_wbxml_tag_name_[%d][59] = {\n" % len(pages))
    for row, (_, ns, _, _) in zip(tag_off, pages):
        vals = ", ".join(str(v) if v != 0xFFFF else "N_" for v in row[5:64])
        out.append("    /* %s */ {%s},\n" % (ns, vals))
    out.append("};\n\n")
    out.append("/* Second names some tokens have (reverse lookups only). */\n")
    out.append("static const struct {\n    uint16_t tag;\n    const char *name;\n} eas_wbxml_alias_[] = {\n")
    for ap, at, aname, _ in ALIASES:
        out.append("    {0x%04X, %s},\n" % ((ap << 8) | at, c_str(aname)))
    out.append("};\n#endif /* CONFIG_EAS_WBXML_NAMES */\n")
    return "".join(out)


def main():
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(".")
    pages = parse()
    (root / "eas/include/eas/eas_wbxml_tags.h").write_text(gen_header(pages))
    (root / "eas/src/wbxml_codepages_gen.h").write_text(gen_tables(pages))


if __name__ == "__main__":
    main()
