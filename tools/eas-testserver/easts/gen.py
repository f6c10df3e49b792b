# SPDX-License-Identifier: Apache-2.0
"""Prepared mailboxes: the demo mailbox, a minimal one, and a generator for large ones.

`python3 -m easts.gen demo > mailboxes/demo.json` regenerates the committed demo file;
`eas-testserver --generate N` (or `python3 -m easts.gen large N`) builds about N items of
every class (e-mail, calendar, contacts, tasks; N/10 notes), deterministically.
"""
import base64
import datetime
import json
import random
import struct
import sys

STD_FOLDERS = [
    ("1", "Inbox", 2, "0"), ("2", "Drafts", 3, "0"), ("3", "Deleted Items", 4, "0"),
    ("4", "Sent Items", 5, "0"), ("5", "Outbox", 6, "0"), ("6", "Calendar", 8, "0"),
    ("7", "Contacts", 9, "0"), ("8", "Tasks", 7, "0"), ("9", "Notes", 10, "0"),
]


def tz_blob(bias, std_name="", dst_name="", std=None, dst=None, dst_bias=-60):
    """172-byte EAS TimeZone blob (MS-ASDTYPE) as base64.
    std/dst: (month, day_of_week, week 1-5, hour) of the transition, None = no DST."""
    def systime(t):
        if t is None:
            return b"\x00" * 16
        month, dow, week, hour = t
        return struct.pack("<8H", 0, month, dow, week, hour, 0, 0, 0)

    def name(s):
        return s.encode("utf-16-le")[:64].ljust(64, b"\x00")

    blob = struct.pack("<i", bias) + name(std_name) + systime(std) + struct.pack("<i", 0) + \
        name(dst_name) + systime(dst) + struct.pack("<i", dst_bias if dst else 0)
    assert len(blob) == 172
    return base64.b64encode(blob).decode()


def goid(uid):
    """Email:GlobalObjId of a meeting with iCalendar UID @uid, as Horde and SOGo-style servers
    build it (MS-OXOCAL GlobalObjectId, "vCal-Uid" form), base64."""
    data = b"vCal-Uid" + struct.pack("<I", 1) + uid.encode() + b"\x00"
    raw = bytes.fromhex("040000008200E00074C5B7101A82E008") + b"\x00" * 20 + \
        struct.pack("<I", len(data)) + data
    return base64.b64encode(raw).decode()


TZ_UTC = tz_blob(0, "UTC", "UTC")
TZ_BERLIN = tz_blob(-60, "W. Europe Standard Time", "W. Europe Daylight Time",
                    (10, 0, 5, 3), (3, 0, 5, 2))
TZ_NEW_YORK = tz_blob(300, "Eastern Standard Time", "Eastern Daylight Time",
                      (11, 0, 1, 2), (3, 0, 2, 2))


def _folders(user_folders):
    return [{"id": i, "name": n, "type": t, "parent": p, "items": []}
            for (i, n, t, p) in user_folders]


def _mail(subject, sender, to, date, text=None, html=None, read=0, **extra):
    d = {"Subject": subject, "From": sender, "To": to, "DateReceived": date,
         "DisplayTo": to.split("<")[0].strip().strip('"'), "ThreadTopic": subject,
         "Importance": extra.pop("importance", 1), "Read": read, "MessageClass": "IPM.Note",
         "InternetCPID": "65001"}
    if text is not None:
        d["_text"] = text
    if html is not None:
        d["_html"] = html
    d.update(extra)
    return d


def demo():
    """The demo mailbox: every folder type, tricky calendar items, mail with MIME parts."""
    me = "Test User <testuser@example.test>"
    folders = _folders(STD_FOLDERS + [("10", "Projects", 12, "0"),
                                      ("11", "Archive 2025", 12, "10"),
                                      ("12", "Team Calendar", 13, "0")])
    by_id = {f["id"]: f for f in folders}

    def put(fid, data, sid=None, cls=None):
        it = {"data": data}
        if sid:
            it["id"] = sid
        if cls:
            it["class"] = cls
        by_id[fid]["items"].append(it)

    long_text = "".join("Line %04d of a long message body used for truncation tests.\n" % i
                        for i in range(1, 1201))
    put("1", _mail("Welcome to the demo mailbox", "Admin <admin@example.test>", me,
                   "2025-01-06T08:00:00.000Z", text="Hello!\n\nThis mailbox is served by "
                   "eas-testserver.\n", read=1), "1:1")
    put("1", _mail("Quarterly report (HTML)", "Alice Example <alice@example.test>", me,
                   "2025-01-07T09:30:00.000Z", text="Revenue is up.\n",
                   html="<html><body><h1>Q4</h1><p>Revenue is <b>up</b>.</p></body></html>"),
        "1:2")
    put("1", _mail("Photos and notes attached", "Bob Example <bob@example.test>", me,
                   "2025-01-08T10:15:00.000Z", text="See the attachments.\n",
                   _attachments=[
                       {"name": "notes.txt", "content_type": "text/plain",
                        "text": "Meeting notes\n- item one\n- item two\n"},
                       {"name": "pixel.png", "content_type": "image/png",
                        "data": "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk"
                                "YPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="}]), "1:3")
    put("1", _mail("A very long message", "Carol Example <carol@example.test>", me,
                   "2025-01-09T11:00:00.000Z", text=long_text), "1:4")
    put("1", _mail("Grüße aus Köln — 日本語のテスト", "Dörte Müller <doerte@example.test>", me,
                   "2025-01-10T12:00:00.000Z",
                   text="Schöne Grüße! Ünïcödé in the body: €, ß, 日本語.\n"), "1:5")
    put("1", {"Subject": "Raw MIME (quoted-printable)", "From": "mime@example.test",
              "To": "testuser@example.test", "DateReceived": "2025-01-11T07:45:00.000Z",
              "Read": 0, "MessageClass": "IPM.Note",
              "_mime": "From: mime@example.test\r\nTo: testuser@example.test\r\n"
                       "Subject: Raw MIME (quoted-printable)\r\n"
                       "Date: Sat, 11 Jan 2025 07:45:00 +0000\r\nMIME-Version: 1.0\r\n"
                       "Content-Type: text/plain; charset=utf-8\r\n"
                       "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
                       "This line is soft-=\r\nwrapped, and this is an equals sign: =3D\r\n"},
        "1:6")
    put("1", _mail("Invitation: Architecture review", "Erin Organizer <erin@example.test>", me,
                   "2025-01-12T08:00:00.000Z", text="Please join the architecture review.\n",
                   MessageClass="IPM.Schedule.Meeting.Request",
                   _calendar_uid="demo-arch-review-uid",
                   MeetingRequest={"AllDayEvent": 0, "StartTime": "20250220T130000Z",
                                   "EndTime": "20250220T143000Z",
                                   "DtStamp": "20250112T080000Z", "InstanceType": 0,
                                   "Location": "Room 4.01",
                                   "Organizer": "Erin Organizer <erin@example.test>",
                                   "ResponseRequested": 1, "Sensitivity": 0, "BusyStatus": 1,
                                   "TimeZone": TZ_BERLIN,
                                   "GlobalObjId": goid("demo-arch-review-uid")}), "1:7")
    put("2", _mail("Draft: ideas", me, "friend@example.test", "2025-01-05T18:00:00.000Z",
                   text="Unfinished thought...\n", read=1), "2:1")
    put("3", _mail("Old newsletter", "news@example.test", me, "2024-12-01T06:00:00.000Z",
                   text="Yesterday's news.\n", read=1), "3:1")
    put("4", _mail("Re: Quarterly report (HTML)", me, "Alice Example <alice@example.test>",
                   "2025-01-07T10:00:00.000Z", text="Thanks, Alice.\n", read=1), "4:1")
    put("10", _mail("Project kickoff", "Frank <frank@example.test>", me,
                    "2025-01-13T09:00:00.000Z", text="Kickoff is on Monday.\n"), "10:1")
    put("11", _mail("Archived thread", "Grace <grace@example.test>", me,
                    "2025-01-02T09:00:00.000Z", text="For the records.\n", read=1), "11:1")

    def ev(subject, start, end, **extra):
        d = {"Timezone": extra.pop("tz", TZ_BERLIN), "AllDayEvent": extra.pop("allday", 0),
             "BusyStatus": 2, "DtStamp": "20250101T080000Z", "StartTime": start,
             "EndTime": end, "Subject": subject, "Sensitivity": 0, "MeetingStatus": 0,
             "UID": extra.pop("uid", "demo-" + subject.lower().replace(" ", "-"))}
        d.update(extra)
        return d

    put("6", ev("Monthly report on the 31st", "20250131T080000Z", "20250131T090000Z",
                Recurrence={"Type": 2, "Interval": 1, "DayOfMonth": 31, "Occurrences": 12},
                _text="Falls on the last day of shorter months (Outlook semantics)."), "6:1")
    put("6", ev("Weekly standup", "20250106T080000Z", "20250106T081500Z",
                Recurrence={"Type": 1, "Interval": 1, "DayOfWeek": 2 | 8,
                            "Until": "20250630T080000Z"},
                Exceptions=[
                    {"ExceptionStartTime": "20250113T080000Z", "Deleted": 1},
                    {"ExceptionStartTime": "20250115T080000Z", "Deleted": 0,
                     "StartTime": "20250115T100000Z", "EndTime": "20250115T103000Z",
                     "Subject": "Weekly standup (moved, longer)", "Location": "Room 2"}],
                Location="Room 1", Reminder=10), "6:2")
    put("6", ev("Daily check-in with a cancelled day", "20250203T070000Z", "20250203T071000Z",
                Recurrence={"Type": 0, "Interval": 1, "Occurrences": 10},
                Exceptions=[{"ExceptionStartTime": "20250205T070000Z", "Deleted": 1}]),
        "6:3")
    put("6", ev("Company offsite (3 days, all day)", "20250413T220000Z", "20250416T220000Z",
                allday=1, BusyStatus=3), "6:4")
    put("6", ev("Conference trip (46 hours, not all day)", "20250505T120000Z",
                "20250507T100000Z", BusyStatus=3, Location="Lisbon"), "6:5")
    put("6", ev("Architecture review", "20250220T130000Z", "20250220T143000Z",
                uid="demo-arch-review-uid", MeetingStatus=3, ResponseRequested=1,
                ResponseType=5, OrganizerName="Erin Organizer",
                OrganizerEmail="erin@example.test", Location="Room 4.01",
                Attendees=[{"Email": "erin@example.test", "Name": "Erin Organizer",
                            "AttendeeStatus": 3, "AttendeeType": 1},
                           {"Email": "testuser@example.test", "Name": "Test User",
                            "AttendeeStatus": 5, "AttendeeType": 1},
                           {"Email": "bob@example.test", "Name": "Bob Example",
                            "AttendeeStatus": 0, "AttendeeType": 2}]), "6:6")
    put("6", ev("Leap day birthday", "20240228T230000Z", "20240229T230000Z", allday=1,
                BusyStatus=0, Recurrence={"Type": 5, "Interval": 1, "DayOfMonth": 29,
                                          "MonthOfYear": 2}), "6:7")
    put("6", ev("Last Friday review", "20250131T150000Z", "20250131T160000Z",
                Recurrence={"Type": 3, "Interval": 1, "DayOfWeek": 32, "WeekOfMonth": 5,
                            "Occurrences": 6}), "6:8")
    put("6", ev("UTC call", "20250121T170000Z", "20250121T173000Z", tz=TZ_UTC), "6:9")
    put("6", ev("Fortnightly Saturday run", "20250104T090000Z", "20250104T100000Z",
                tz=TZ_NEW_YORK, Recurrence={"Type": 1, "Interval": 2, "DayOfWeek": 64,
                                            "FirstDayOfWeek": 1, "Occurrences": 8}), "6:10")
    put("12", ev("Team lunch", "20250124T110000Z", "20250124T120000Z", Location="Canteen"),
        "12:1")

    put("7", {"FileAs": "Example, Alice", "FirstName": "Alice", "LastName": "Example",
              "Email1Address": "alice@example.test", "CompanyName": "Example Corp",
              "JobTitle": "CFO", "BusinessPhoneNumber": "+49 30 1234567",
              "MobilePhoneNumber": "+49 170 1234567", "Birthday": "1980-05-17T00:00:00.000Z",
              "BusinessAddressStreet": "Hauptstr. 1", "BusinessAddressCity": "Berlin",
              "BusinessAddressPostalCode": "10115", "BusinessAddressCountry": "Germany",
              "Categories": ["Work", "Finance"], "_text": "Met at the 2024 summit."}, "7:1")
    put("7", {"FileAs": "Example, Bob", "FirstName": "Bob", "LastName": "Example",
              "Email1Address": "bob@example.test", "Email2Address": "bob.private@example.test",
              "HomePhoneNumber": "+1 212 555 0100", "Children": ["Carl", "Dana"],
              "Spouse": "Eve", "NickName": "Bobby"}, "7:2")
    put("7", {"FileAs": "Müller, Dörte", "FirstName": "Dörte", "LastName": "Müller",
              "Email1Address": "doerte@example.test", "HomeAddressCity": "Köln",
              "Anniversary": "2010-06-12T00:00:00.000Z"}, "7:3")
    put("8", {"Subject": "File expense report", "Importance": 2, "Complete": 0,
              "StartDate": "2025-01-20T00:00:00.000Z", "UtcStartDate": "2025-01-19T23:00:00.000Z",
              "DueDate": "2025-01-31T00:00:00.000Z", "UtcDueDate": "2025-01-30T23:00:00.000Z",
              "ReminderSet": 1, "ReminderTime": "2025-01-30T08:00:00.000Z", "Sensitivity": 0,
              "_text": "Receipts are in the drawer."}, "8:1")
    put("8", {"Subject": "Water the plants (every week)", "Importance": 1, "Complete": 0,
              "StartDate": "2025-01-06T00:00:00.000Z", "UtcStartDate": "2025-01-05T23:00:00.000Z",
              "DueDate": "2025-01-06T00:00:00.000Z", "UtcDueDate": "2025-01-05T23:00:00.000Z",
              "Recurrence": {"Type": 1, "Start": "2025-01-06T00:00:00.000Z", "Interval": 1,
                             "DayOfWeek": 2, "Regenerate": 0, "DeadOccur": 0},
              "ReminderSet": 0}, "8:2")
    put("8", {"Subject": "Renew passport", "Importance": 1, "Complete": 1,
              "DateCompleted": "2025-01-03T10:00:00.000Z", "ReminderSet": 0}, "8:3")
    put("9", {"Subject": "Shopping list", "MessageClass": "IPM.StickyNote",
              "LastModifiedDate": "2025-01-04T10:00:00.000Z", "Categories": ["Home"],
              "_text": "milk\neggs\nbread\n"}, "9:1")
    put("9", {"Subject": "Wi-Fi password", "MessageClass": "IPM.StickyNote",
              "LastModifiedDate": "2025-01-05T10:00:00.000Z", "_text": "ask the admin"}, "9:2")

    user2 = _folders(STD_FOLDERS)
    return {
        "comment": "eas-testserver demo mailbox (generated by easts/gen.py demo)",
        "users": [
            {"name": "testuser", "password": "testpass", "email": "testuser@example.test",
             "display_name": "Test User", "folders": folders},
            {"name": "testuser2", "password": "testpass2", "email": "testuser2@example.test",
             "display_name": "Second User", "folders": user2},
        ],
    }


def minimal():
    return {"users": [{"name": "testuser", "password": "testpass",
                       "email": "testuser@example.test", "display_name": "Test User",
                       "folders": _folders(STD_FOLDERS)}]}


WORDS = ("alpha beta gamma delta report meeting budget review plan launch design test "
         "invoice travel lunch sync update draft notes project server client").split()


def generate(n, user="testuser", password="testpass", seed=1):
    """About n items of each class (mail spread over Inbox and 4 subfolders), n/10 notes."""
    rnd = random.Random(seed)
    extra = [("20", "Bulk 1", 12, "1"), ("21", "Bulk 2", 12, "1"), ("22", "Bulk 3", 12, "20"),
             ("23", "Bulk 4", 12, "0")]
    folders = _folders(STD_FOLDERS + extra)
    by_id = {f["id"]: f for f in folders}
    base = datetime.datetime(2025, 1, 1, 8, 0)
    mail_folders = ["1", "1", "1", "20", "21", "22", "23"]

    def words(k):
        return " ".join(rnd.choice(WORDS) for _ in range(k))

    for i in range(n):
        d = base + datetime.timedelta(minutes=37 * i)
        fid = mail_folders[i % len(mail_folders)]
        body = (words(12) + "\n") * rnd.randint(1, 40)
        m = _mail("%s #%d" % (words(4).capitalize(), i), "sender%d@example.test" % (i % 50),
                  "%s@example.test" % user, d.strftime("%Y-%m-%dT%H:%M:%S.000Z"), text=body,
                  read=rnd.randint(0, 1))
        if i % 5 == 0:
            m["_html"] = "<html><body><p>%s</p></body></html>" % body.replace("\n", "<br>")
        by_id[fid]["items"].append({"data": m})
    for i in range(n):
        s = base + datetime.timedelta(hours=5 * i)
        e = s + datetime.timedelta(minutes=rnd.choice([15, 30, 60, 90]))
        ev = {"Timezone": TZ_BERLIN, "AllDayEvent": 0, "BusyStatus": 2,
              "DtStamp": "20250101T080000Z", "StartTime": s.strftime("%Y%m%dT%H%M%SZ"),
              "EndTime": e.strftime("%Y%m%dT%H%M%SZ"), "Subject": "%s %d" % (words(3), i),
              "Sensitivity": 0, "MeetingStatus": 0, "UID": "gen-%d" % i}
        if i % 10 == 0:
            ev["Recurrence"] = {"Type": 1, "Interval": 1, "DayOfWeek": 1 << (i % 7),
                                "Occurrences": 20}
            if i % 20 == 0:
                ev["Exceptions"] = [{"ExceptionStartTime": (s + datetime.timedelta(days=7))
                                     .strftime("%Y%m%dT%H%M%SZ"), "Deleted": 1}]
        by_id["6"]["items"].append({"data": ev})
    for i in range(n):
        first, last = rnd.choice(WORDS).capitalize(), "Person%d" % i
        by_id["7"]["items"].append({"data": {
            "FileAs": "%s, %s" % (last, first), "FirstName": first, "LastName": last,
            "Email1Address": "%s.%s@example.test" % (first.lower(), last.lower()),
            "MobilePhoneNumber": "+49 170 %07d" % i, "CompanyName": words(2).title()}})
    for i in range(n):
        due = base + datetime.timedelta(days=i % 365)
        by_id["8"]["items"].append({"data": {
            "Subject": "Task %d: %s" % (i, words(3)), "Importance": i % 3,
            "Complete": 1 if i % 4 == 0 else 0,
            "DueDate": due.strftime("%Y-%m-%dT00:00:00.000Z"),
            "UtcDueDate": due.strftime("%Y-%m-%dT00:00:00.000Z"), "ReminderSet": 0}})
    for i in range(max(1, n // 10)):
        by_id["9"]["items"].append({"data": {
            "Subject": "Note %d" % i, "MessageClass": "IPM.StickyNote",
            "LastModifiedDate": "2025-01-04T10:00:00.000Z", "_text": words(20)}})
    return {"comment": "generated by easts/gen.py (%d per class)" % n,
            "users": [{"name": user, "password": password, "email": "%s@example.test" % user,
                       "display_name": "Generated User", "folders": folders}]}


def main(argv):
    if len(argv) >= 1 and argv[0] == "demo":
        json.dump(demo(), sys.stdout, indent=1, ensure_ascii=False)
        sys.stdout.write("\n")
        return 0
    if len(argv) >= 2 and argv[0] == "large":
        json.dump(generate(int(argv[1])), sys.stdout)
        return 0
    sys.stderr.write("usage: python3 -m easts.gen demo | large N\n")
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
