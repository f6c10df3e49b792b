# SPDX-License-Identifier: Apache-2.0
"""A real reader of the store: Debian's khal, pointed at the vdir easd wrote, must list over
a whole year exactly the occurrences easctl agenda expands with the core's calendar module
(arguments: easd, easctl, the server, the demo mailbox).

The mailbox is the demo one (weekly with a deleted and a moved occurrence and Until, daily
with Occurrences and a cancelled day, the 31st of every month, Feb 29 yearly, last Friday,
fortnightly with FirstDayOfWeek Monday, all-day and multi-day events) plus one item of every
other recurrence shape: the 30th and the 29th of every second month, the first weekday and
the last day of the month, Thanksgiving (4th Thursday of November) and the last Monday of
May, weekdays with an Occurrences count, every third day with a mid-day Until, and Jan 31
yearly. Both run in Europe/Berlin, so DST transitions are inside the year."""
import json
import re
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from daemonlib import Server, check, easctl, run_once, write_config  # noqa: E402

EASD, EASCTL, SERVER, MAILBOX = sys.argv[1:5]
YEAR = "2025"


def extra_items(tz):
    base = {"Timezone": tz, "BusyStatus": 2, "Sensitivity": 0, "MeetingStatus": 0,
            "AllDayEvent": 0, "DtStamp": "20250101T000000Z"}

    def item(n, subject, start, end, rec):
        return {"op": "add_item", "folder": "6",
                "data": dict(base, Subject=subject, UID="khal-%d" % n, StartTime=start,
                             EndTime=end, Recurrence=rec)}
    # Times are UTC; in January Berlin is UTC+1.
    return [
        item(1, "Day 30 monthly", "20250130T070000Z", "20250130T073000Z",
             {"Type": 2, "Interval": 1, "DayOfMonth": 30}),
        item(2, "Day 29 every 2nd month", "20250129T110000Z", "20250129T113000Z",
             {"Type": 2, "Interval": 2, "DayOfMonth": 29}),
        item(3, "First weekday of the month", "20250101T080000Z", "20250101T083000Z",
             {"Type": 3, "Interval": 1, "DayOfWeek": 62, "WeekOfMonth": 1}),
        item(4, "Last day of the month", "20250131T150000Z", "20250131T160000Z",
             {"Type": 3, "Interval": 1, "DayOfWeek": 127, "WeekOfMonth": 5}),
        item(5, "Thanksgiving", "20241128T170000Z", "20241128T200000Z",
             {"Type": 6, "Interval": 1, "DayOfWeek": 16, "WeekOfMonth": 4, "MonthOfYear": 11}),
        item(6, "Last Monday of May", "20240527T090000Z", "20240527T100000Z",
             {"Type": 6, "Interval": 1, "DayOfWeek": 2, "WeekOfMonth": 5, "MonthOfYear": 5}),
        item(7, "Weekdays, 50 times", "20250303T060000Z", "20250303T061500Z",
             {"Type": 1, "Interval": 1, "DayOfWeek": 62, "Occurrences": 50}),
        item(8, "Every third day until mid-June", "20250102T163000Z", "20250102T170000Z",
             {"Type": 0, "Interval": 3, "Until": "20250615T120000Z"}),
        item(9, "Jan 31 yearly", "20240131T100000Z", "20240131T110000Z",
             {"Type": 5, "Interval": 1, "DayOfMonth": 31, "MonthOfYear": 1}),
        item(10, "Every 3rd week Tue+Thu, week starts Monday", "20250107T130000Z",
             "20250107T140000Z",
             {"Type": 1, "Interval": 3, "DayOfWeek": 20, "FirstDayOfWeek": 1}),
    ]


def khal_occurrences(tmp, env):
    conf = os.path.join(tmp, "khal.conf")
    with open(conf, "w") as fh:
        fh.write("""[calendars]
[[easd]]
path = %s/store/calendars/*
type = discover
[locale]
local_timezone = Europe/Berlin
default_timezone = Europe/Berlin
timeformat = %%H:%%M
dateformat = %%Y-%%m-%%d
longdateformat = %%Y-%%m-%%d
datetimeformat = %%Y-%%m-%%d %%H:%%M
longdatetimeformat = %%Y-%%m-%%d %%H:%%M
[sqlite]
path = %s/khal.db
""" % (tmp, tmp))
    p = subprocess.run(["khal", "-c", conf, "list", "--day-format", "", "--format",
                        "{start-date}|{start-time}|{title}", YEAR + "-01-01", YEAR + "-12-31"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                       timeout=120)
    check(p.returncode == 0, "khal list runs (%s)" % p.stderr.strip()[-300:])
    occ = set()
    for line in p.stdout.splitlines():
        if line.count("|") == 2:
            d, t, title = line.split("|")
            # A multi-day event is listed on every day it covers, with its own start date;
            # days before the window show a start outside the year.
            if d.startswith(YEAR):
                occ.add((d, t or "all-day", title))
    return occ


def agenda_occurrences(cfg, env):
    rc, out, err = easctl(EASCTL, cfg, "agenda", "--from", YEAR + "-01-01", "--to",
                          YEAR + "-12-31", env=env)
    check(rc == 0, "easctl agenda runs (%s)" % err.strip())
    occ = set()
    for line in out.splitlines():
        # "2025-01-06 Mon  09:00-09:15  Weekly standup  [Calendar]"
        m = re.match(r"(\d{4}-\d\d-\d\d) \w+  (all day    |(\d\d:\d\d)-\d\d:\d\d)  (.*)  \[",
                     line)
        check(m is not None, "agenda line parsed: %r" % line) if m is None else None
        occ.add((m.group(1), m.group(3) or "all-day", m.group(4)))
    return occ


def main():
    if not shutil.which("khal"):
        raise SystemExit("FAIL: khal is not installed (tools/install-deps installs it)")
    tmp = tempfile.mkdtemp(prefix="easd-khal-test-")
    try:
        server = Server(tmp, SERVER, MAILBOX)
        try:
            with open(MAILBOX) as fh:
                tz = json.load(fh)["users"][0]["folders"][5]["items"][0]["data"]["Timezone"]
            server.control("changes", extra_items(tz))
            cfg = write_config(tmp, server, classes="calendar")
            rc, out = run_once(EASD, cfg, tmp)
            check(rc == 0, "easd --once synced the calendar (exit %d)" % rc)
        finally:
            server.stop()
        env = dict(os.environ, TZ="Europe/Berlin", HOME=tmp, XDG_CONFIG_HOME=tmp,
                   XDG_DATA_HOME=tmp)
        ours = agenda_occurrences(cfg, env)
        theirs = khal_occurrences(tmp, env)
        check(len(ours) > 250, "easctl agenda: %d occurrences in %s" % (len(ours), YEAR))
        only_ours = sorted(ours - theirs)
        only_khal = sorted(theirs - ours)
        for o in only_ours[:20]:
            print("  only easctl:", o)
        for o in only_khal[:20]:
            print("  only khal:  ", o)
        check(not only_ours and not only_khal,
              "khal lists the same %d occurrences as easctl agenda" % len(theirs))
        titles = {t for _, _, t in ours}
        check(len(titles) == 22, "every series is in the comparison (%d titles)" % len(titles))
        for title, day in (("Day 30 monthly", "2025-02-28"),
                           ("Day 29 every 2nd month", "2025-03-29"),
                           ("Last day of the month", "2025-02-28"),
                           ("Thanksgiving", "2025-11-27"),
                           ("Last Monday of May", "2025-05-26"),
                           ("Monthly report on the 31st", "2025-04-30")):
            check(any(d == day and t == title for d, _, t in theirs),
                  "khal shows %s on %s" % (title, day))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("PASS")


if __name__ == "__main__":
    main()
