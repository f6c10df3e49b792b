# SPDX-License-Identifier: Apache-2.0
"""easd against a real server, SOGo from Debian (started by tools/run-realserver-tests), over
HTTPS; SOGo's own CalDAV interface is the independent view of what the server stored.

1. easd syncs the account (Ping loop); SOGo's seed event lands in the store;
2. an event written into the store (weekly Tue+Thu, COUNT, an EXDATE; and one on the last
   Friday of the month) appears over CalDAV with an RRULE and EXDATE that give the same
   occurrences (both expanded with python3-dateutil over their whole span);
3. an event PUT over CalDAV reaches the store through Ping, with the same occurrences.

    test_sogo.py --easd B/tools/easd --easctl B/tools/easctl --env /tmp/eas-sogo/eas-sogo.env
"""
import argparse
import base64
import datetime as dt
import os
import re
import shutil
import sys
import tempfile
import urllib.request

from dateutil import rrule, tz as dtz

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from daemonlib import Daemon, check, wait_for  # noqa: E402

LOCAL_ICS = """BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//easd test//EN\r
BEGIN:VEVENT\r
UID:easd-sogo-local-%(n)s\r
DTSTAMP:20250101T000000Z\r
DTSTART:%(start)s\r
DTEND:%(end)s\r
SUMMARY:%(summary)s\r
RRULE:%(rrule)s\r
%(exdate)sEND:VEVENT\r
END:VCALENDAR\r
"""

DAV_ICS = """BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//easd test over CalDAV//EN\r
BEGIN:VEVENT\r
UID:easd-sogo-dav-1\r
DTSTAMP:20250101T000000Z\r
DTSTART:20250106T150000Z\r
DTEND:20250106T160000Z\r
SUMMARY:Put over CalDAV\r
RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=8\r
EXDATE:20250120T150000Z\r
END:VEVENT\r
END:VCALENDAR\r
"""


def read_env(path):
    env = {}
    with open(path) as fh:
        for line in fh:
            m = re.match(r"(\w+)='?([^']*)'?\s*$", line.strip())
            if m:
                env[m.group(1)] = m.group(2)
    return env


def unfold(text):
    """Unfolded lines with TEXT escapes of commas and semicolons removed (for comparing
    SUMMARY values; the other properties used here never carry escapes)."""
    text = re.sub(r"\r?\n[ \t]", "", text).replace("\r\n", "\n")
    return text.replace("\\,", ",").replace("\\;", ";")


def parse_dt(value, params):
    """An iCalendar DATE-TIME as an aware datetime (UTC, TZID by name, or floating as UTC)."""
    m = re.match(r"(\d{8})(T(\d{6}))?(Z?)$", value)
    d = dt.datetime.strptime(m.group(1) + (m.group(3) or "000000"), "%Y%m%d%H%M%S")
    zone = dtz.UTC
    tzid = re.search(r"TZID=([^;:]+)", params)
    if tzid and not m.group(4):
        zone = dtz.gettz(tzid.group(1).strip('"')) or dtz.UTC
    return d.replace(tzinfo=zone)


def occurrences(ics, summary):
    """Start instants (UTC) of the master VEVENT with this SUMMARY: RRULE minus EXDATE."""
    text = unfold(ics)
    for block in re.findall(r"BEGIN:VEVENT\n(.*?)END:VEVENT", text, re.S):
        props = {}
        exdates = []
        for line in block.split("\n"):
            if ":" not in line:
                continue
            head, value = line.split(":", 1)
            name, _, params = head.partition(";")
            if name == "EXDATE":
                exdates += [parse_dt(v, params) for v in value.split(",")]
            else:
                props.setdefault(name, (params, value))
        if props.get("SUMMARY", ("", ""))[1] != summary or "RECURRENCE-ID" in props:
            continue
        start = parse_dt(props["DTSTART"][1], props["DTSTART"][0])
        rule = props.get("RRULE", ("", ""))[1]
        if not rule:
            return {start.astimezone(dtz.UTC)}
        # dateutil wants UNTIL in the same awareness as DTSTART: UTC instants already are.
        occ = set(rrule.rrulestr(rule, dtstart=start))
        return {o.astimezone(dtz.UTC) for o in occ} - {x.astimezone(dtz.UTC) for x in exdates}
    return None


class Dav:
    def __init__(self, env):
        self.base = env["EAS_DAV_URL"].rstrip("/") + "/%s/Calendar/personal/" % env["EAS_USER"]
        tok = base64.b64encode(("%s:%s" % (env["EAS_USER"], env["EAS_PASS"])).encode()).decode()
        self.auth = {"Authorization": "Basic " + tok}

    def request(self, method, url, body=None, headers=None):
        h = dict(self.auth, **(headers or {}))
        req = urllib.request.Request(url, data=body, method=method, headers=h)
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read().decode("utf-8", "replace")

    def events(self):
        """{href: ics} of the personal calendar."""
        body = (b'<?xml version="1.0"?><d:propfind xmlns:d="DAV:"><d:prop><d:getetag/>'
                b'</d:prop></d:propfind>')
        _, xml = self.request("PROPFIND", self.base, body,
                              {"Depth": "1", "Content-Type": "application/xml"})
        out = {}
        # Resources are named by what created them (SOGo's EAS adds use the ServerId, no
        # ".ics"): every href below the collection.
        for href in re.findall(r"<[^>]*href>([^<]+)</", xml):
            url = urllib.request.urljoin(self.base, href)
            if url.rstrip("/") == self.base.rstrip("/") or url.endswith("/"):
                continue
            out[href] = self.request("GET", url)[1]
        return out

    def find(self, summary):
        for ics in self.events().values():
            if "SUMMARY:" + summary in unfold(ics):
                return ics
        return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--easd", required=True)
    ap.add_argument("--easctl", required=True)
    ap.add_argument("--env", required=True)
    a = ap.parse_args()
    if not os.path.exists(a.env):
        raise SystemExit("FAIL: %s missing: start SOGo (tools/run-realserver-tests)" % a.env)
    env = read_env(a.env)
    dav = Dav(env)
    tmp = tempfile.mkdtemp(prefix="easd-sogo-test-")
    ok = False
    try:
        with open(os.open(os.path.join(tmp, "password"), os.O_WRONLY | os.O_CREAT, 0o600),
                  "w") as fh:
            fh.write(env["EAS_PASS"] + "\n")
        cfg = os.path.join(tmp, "easd.conf")
        with open(cfg, "w") as fh:
            fh.write("server = %s\nuser = %s\naddress = %s\npassword_file = password\n"
                     "ca_file = %s\nstate_dir = state\nstore_dir = store\n"
                     "classes = calendar, contacts\nheartbeat_max = %s\nlog_level = info\n"
                     % (env["EAS_URL_HTTPS"], env["EAS_USER"], env["EAS_EMAIL"],
                        env["EAS_CA_CERT"], env.get("EAS_MAX_PING", "60")))
        d = Daemon(a.easd, cfg, tmp)
        d.wait_log("first sync", "easd: sync complete", 120)
        cal_root = os.path.join(tmp, "store", "calendars")
        cals = os.listdir(cal_root)
        check(len(cals) >= 1, "calendar collection(s) in the store: %s" % cals)
        cal = os.path.join(cal_root, "Personal_Calendar")
        check(os.path.isdir(cal), "the Personal Calendar collection")

        def store_find(summary):
            for f in os.listdir(cal):
                if f.endswith(".ics"):
                    with open(os.path.join(cal, f)) as fh:
                        text = fh.read()
                    if "SUMMARY:" + summary in unfold(text):
                        return text
            return None
        check(store_find("Seed event") is not None, "SOGo's seed event is in the store")

        # 2. Store -> SOGo.
        cases = [
            dict(n=1, summary="Tue and Thu, 10 times, one skipped", start="20250107T080000Z",
                 end="20250107T090000Z", rrule="FREQ=WEEKLY;BYDAY=TU,TH;COUNT=10",
                 exdate="EXDATE:20250116T080000Z\r\n"),
            dict(n=2, summary="Last Friday of the month", start="20250131T140000Z",
                 end="20250131T150000Z", rrule="FREQ=MONTHLY;BYDAY=-1FR;COUNT=6",
                 exdate="EXDATE:20250328T140000Z\r\n"),
        ]
        for c in cases:
            text = LOCAL_ICS % c
            tmpf = os.path.join(cal, ".new")
            with open(tmpf, "w") as fh:
                fh.write(text)
            os.rename(tmpf, os.path.join(cal, "local-%d.ics" % c["n"]))
            want = occurrences(text, c["summary"])
            ics = wait_for("%s over CalDAV" % c["summary"], lambda: dav.find(c["summary"]), 60, 1)
            got = occurrences(ics, c["summary"])
            rr = re.search(r"RRULE:([^\n]*)", unfold(ics))
            ex = re.findall(r"EXDATE[^\n]*", unfold(ics))
            check(got == want, "CalDAV shows %s with RRULE %s and %s: the same %d occurrences"
                  % (c["summary"], rr.group(1) if rr else None, ex, len(want)))

        # 3. SOGo (CalDAV PUT) -> store through Ping.
        url = dav.base + "easd-sogo-dav-1.ics"
        status, _ = dav.request("PUT", url, DAV_ICS.encode(),
                                {"Content-Type": "text/calendar; charset=utf-8"})
        check(status in (200, 201, 204), "CalDAV PUT (HTTP %d)" % status)
        text = wait_for("the CalDAV event in the store through Ping",
                        lambda: store_find("Put over CalDAV"), 120, 0.5)
        want = occurrences(DAV_ICS, "Put over CalDAV")
        got = occurrences(text, "Put over CalDAV")
        check(got == want, "the store has it with the same %d occurrences (%s)"
              % (len(want), re.findall(r"(?:RRULE|EXDATE)[^\n]*", unfold(text))))
        rc = d.stop()
        check(rc == 0, "easd stops on SIGTERM")
        ok = True
    finally:
        Daemon.stop_all()
        if ok:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print("kept", tmp)
    print("PASS")


if __name__ == "__main__":
    main()
