/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Element names that libwbxml 0.11 (wbxml2xml / xml2wbxml) spells differently from
 * MS-ASWBXML, by code page and token. easd's names follow MS-ASWBXML; this table lets
 * `eas-wbxml encode` accept XML written by libwbxml's tools, and documents the differences
 * (tests/unit/wbxml checks it against libwbxml's own table).
 */
#ifndef EAS_WBXML_LIBWBXML_NAMES_H
#define EAS_WBXML_LIBWBXML_NAMES_H

#include <stdint.h>

typedef struct libwbxml_name {
    uint16_t tag;         /**< (page << 8) | token */
    const char *libwbxml; /**< libwbxml's element name */
} libwbxml_name_t;

static const libwbxml_name_t libwbxml_names[] = {
    {0x0107, "AssistantTelephoneNumber"},           /* Contacts: AssistantPhoneNumber */
    {0x0209, "AttOId"},                             /* Email: AttOid */
    {0x021D, "DTStamp"},                            /* Email: DtStamp */
    {0x0229, "Recurrence_Type"},                    /* Email: Type */
    {0x022A, "Recurrence_Until"},                   /* Email: Until */
    {0x022B, "Recurrence_Occurrences"},             /* Email: Occurrences */
    {0x022C, "Recurrence_Interval"},                /* Email: Interval */
    {0x022D, "Recurrence_DayOfWeek"},               /* Email: DayOfWeek */
    {0x022E, "Recurrence_DayOfMonth"},              /* Email: DayOfMonth */
    {0x022F, "Recurrence_WeekOfMonth"},             /* Email: WeekOfMonth */
    {0x0230, "Recurrence_MonthOfYear"},             /* Email: MonthOfYear */
    {0x023B, "FlagStatus"},                         /* Email: Status (of Flag) */
    {0x0308, "LifeTime"},                           /* AirNotify: Lifetime */
    {0x0405, "TimeZone"},                           /* Calendar: Timezone */
    {0x0409, "Attendee_Email"},                     /* Calendar: Email */
    {0x040A, "Attendee_Name"},                      /* Calendar: Name */
    {0x0411, "DTStamp"},                            /* Calendar: DtStamp */
    {0x0415, "Exception_Deleted"},                  /* Calendar: Deleted */
    {0x0416, "Exception_StartTime"},                /* Calendar: ExceptionStartTime */
    {0x0419, "Organizer_Email"},                    /* Calendar: OrganizerEmail */
    {0x041A, "Organizer_Name"},                     /* Calendar: OrganizerName */
    {0x041C, "Recurrence_Type"},                    /* Calendar: Type */
    {0x041D, "Recurrence_Until"},                   /* Calendar: Until */
    {0x041E, "Recurrence_Occurrences"},             /* Calendar: Occurrences */
    {0x041F, "Recurrence_Interval"},                /* Calendar: Interval */
    {0x0420, "Recurrence_DayOfWeek"},               /* Calendar: DayOfWeek */
    {0x0421, "Recurrence_DayOfMonth"},              /* Calendar: DayOfMonth */
    {0x0422, "Recurrence_WeekOfMonth"},             /* Calendar: WeekOfMonth */
    {0x0423, "Recurrence_MonthOfYear"},             /* Calendar: MonthOfYear */
    {0x0429, "Attendee_Status"},                    /* Calendar: AttendeeStatus */
    {0x042A, "Attendee_Type"},                      /* Calendar: AttendeeType */
    {0x090D, "UTCDueDate"},                         /* Tasks: UtcDueDate */
    {0x0910, "Recurrence_Type"},                    /* Tasks: Type */
    {0x0911, "Recurrence_Start"},                   /* Tasks: Start */
    {0x0912, "Recurrence_Until"},                   /* Tasks: Until */
    {0x0913, "Recurrence_Occurrences"},             /* Tasks: Occurrences */
    {0x0914, "Recurrence_Interval"},                /* Tasks: Interval */
    {0x0915, "Recurrence_DayOfMonth"},              /* Tasks: DayOfMonth */
    {0x0916, "Recurrence_DayOfWeek"},               /* Tasks: DayOfWeek */
    {0x0917, "Recurrence_WeekOfMonth"},             /* Tasks: WeekOfMonth */
    {0x0918, "Recurrence_MonthOfYear"},             /* Tasks: MonthOfYear */
    {0x0919, "Recurrence_Regenerate"},              /* Tasks: Regenerate */
    {0x091A, "Recurrence_DeadOccur"},               /* Tasks: DeadOccur */
    {0x091F, "UTCStartDate"},                       /* Tasks: UtcStartDate */
    {0x0E10, "RequireStorageCardEncryption"},       /* Provision: second name of 0x10 */
    {0x122B, "ihsManagementInformation"},           /* Settings: RightsManagementInformation */
    {0x1510, "MIME"},                               /* ComposeMail: Mime */
    {0x1812, "RMOwner"},                            /* RightsManagement: Owner */
    {0x1818, "RemoveRightsManagementDistribution"}, /* RightsManagement: ...Protection */
};

#define LIBWBXML_NAMES_COUNT (sizeof(libwbxml_names) / sizeof(libwbxml_names[0]))

#endif
