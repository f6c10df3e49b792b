#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""eas-sync against real EAS servers (SOGo 5.8, Horde_ActiveSync 2.41) started by
tools/run-realserver-tests. Fixtures are created the way other clients would:
mail by IMAP APPEND, calendar/contacts/tasks by EAS Sync Add from a separate "fixture"
device (its own Python WBXML codec from tools/eas-testserver, not easd's). Then a fresh
eas-sync device does its first sync and every fixture must arrive in the right folder class;
calendar items are expanded by eas-agenda (the calendar module).

    test_realserver.py --sync B/tools/eas-sync --agenda B/tools/eas-agenda \\
                       --env /tmp/eas-sogo/eas-sogo.env --server sogo [--https]
    test_realserver.py ... --env /tmp/eas-horde/eas-horde.env --server horde --version 16.0

Each server quirk (docs/testing.md, Q numbers) the engine meets is named in a check below (Q: ...).
"""
import argparse
import base64
import email.utils
import imaplib
import json
import os
import shlex
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tools", "eas-testserver"))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration", "session"))

from easts import wbxml  # noqa: E402
from sessionlib import Failure, View, check, field  # noqa: E402

OPT = None
ZERO_TZ = base64.b64encode(bytes(172)).decode()


def load_env(path):
    env = {}
    with open(path) as fh:
        for line in fh:
            line = line.strip()
            if "=" in line and not line.startswith(("#", "export")):
                k, v = line.split("=", 1)
                env[k] = shlex.split(v)[0] if v else ""
    return env


# ---- a minimal EAS client for fixtures (independent of easd) ----------------------------

class Fixture:
    def __init__(self, url, user, password, device, version="14.1"):
        self.url, self.user, self.device, self.version = url, user, device, version
        self.auth = "Basic " + base64.b64encode(("%s:%s" % (user, password)).encode()).decode()
        self.policy_key = "0"
        self.next_client_id = 0

    def client_id(self):
        # Unique per device across collections: Horde drops a repeated ClientId as a
        # "duplicate addition" (Status 6) even in another folder.
        self.next_client_id += 1
        return "%s-%d" % (self.device, self.next_client_id)

    def eas(self, cmd, xml):
        body = wbxml.encode(wbxml.from_xml(xml)) if xml else b""
        q = "?Cmd=%s&User=%s&DeviceId=%s&DeviceType=easdfixture" % (cmd, self.user, self.device)
        req = urllib.request.Request(self.url + q, data=body, method="POST", headers={
            "Authorization": self.auth, "MS-ASProtocolVersion": self.version,
            "Content-Type": "application/vnd.ms-sync.wbxml", "User-Agent": "easd-fixture/1",
            "X-MS-PolicyKey": self.policy_key})
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                data, status = r.read(), r.status
        except urllib.error.HTTPError as e:
            return e.code, None
        el = wbxml.decode(data) if data[:1] == b"\x03" else None
        return status, el

    def provision(self):
        x = ('<Provision xmlns="Provision:"><Policies><Policy><PolicyType>'
             'MS-EAS-Provisioning-WBXML</PolicyType></Policy></Policies></Provision>')
        st, el = self.eas("Provision", x)
        pol = el.path("Policies", "Policy") if el is not None else None
        key = pol.findtext("PolicyKey") if pol is not None else None
        if not key:
            return  # SOGo: stub provisioning, no key (quirk: "Provision stub")
        self.policy_key = key
        x = ('<Provision xmlns="Provision:"><Policies><Policy><PolicyType>'
             'MS-EAS-Provisioning-WBXML</PolicyType><PolicyKey>%s</PolicyKey><Status>1</Status>'
             '</Policy></Policies></Provision>' % key)
        st, el = self.eas("Provision", x)
        self.policy_key = el.path("Policies", "Policy").findtext("PolicyKey") or key

    def folders(self):
        st, el = self.eas("FolderSync", '<FolderSync xmlns="FolderHierarchy:"><SyncKey>0'
                          '</SyncKey></FolderSync>')
        check(st == 200 and el is not None, "fixture FolderSync failed: HTTP %s", st)
        out = {}
        for add in el.path("Changes").findall("Add"):
            out.setdefault(int(add.findtext("Type")), add.findtext("ServerId"))
        return out

    def sync(self, cid, key, commands=""):
        x = ('<Sync xmlns="AirSync:" xmlns:calendar="Calendar:" xmlns:contacts="Contacts:" '
             'xmlns:tasks="Tasks:" xmlns:airsyncbase="AirSyncBase:"><Collections><Collection>'
             '<SyncKey>%s</SyncKey><CollectionId>%s</CollectionId>%s%s</Collection>'
             '</Collections></Sync>' % (key, cid, "" if commands or key == "0" else
                                        "<GetChanges/>", commands))
        st, el = self.eas("Sync", x)
        coll = el.path("Collections", "Collection") if el is not None else None
        return st, coll

    def add(self, cid, app_data_xml):
        st, coll = self.sync(cid, "0")
        check(st == 200 and coll is not None, "fixture Sync 0 failed (HTTP %s)", st)
        key = coll.findtext("SyncKey")
        # SOGo quirk 2: one Sync without commands before the first Add.
        st, coll = self.sync(cid, key)
        if coll is not None and coll.findtext("SyncKey"):
            key = coll.findtext("SyncKey")
        cmds = "<Commands>%s</Commands>" % "".join(
            "<Add><ClientId>%s</ClientId><ApplicationData>%s</ApplicationData></Add>" % (
                self.client_id(), a) for a in app_data_xml)
        st, coll = self.sync(cid, key, cmds)
        check(st == 200 and coll is not None, "fixture Add failed (HTTP %s)", st)
        resp = coll.find("Responses")
        stats = [a.findtext("Status") for a in resp.findall("Add")] if resp is not None else []
        check(stats and all(s == "1" for s in stats), "fixture Add statuses %s", stats)


def fixture_items(tag):
    cal = [
        # Weekly on Monday, 10 occurrences (UTC zone; Horde quirk 3: no DtStamp in an Add;
        # quirk 2: Calendar:Location, not AirSyncBase:Location, below 16.0).
        ("<calendar:Timezone>%s</calendar:Timezone><calendar:AllDayEvent>0</calendar:AllDayEvent>"
         "<calendar:StartTime>20260105T090000Z</calendar:StartTime>"
         "<calendar:EndTime>20260105T093000Z</calendar:EndTime>"
         "<calendar:Subject>%s weekly</calendar:Subject><calendar:UID>%s-weekly</calendar:UID>"
         "<calendar:BusyStatus>2</calendar:BusyStatus><calendar:Sensitivity>0</calendar:Sensitivity>"
         "<calendar:MeetingStatus>0</calendar:MeetingStatus>"
         "<calendar:Recurrence><calendar:Type>1</calendar:Type><calendar:Interval>1</calendar:Interval>"
         "<calendar:DayOfWeek>2</calendar:DayOfWeek><calendar:Occurrences>10</calendar:Occurrences>"
         "</calendar:Recurrence>") % (ZERO_TZ, tag, tag),
        # Monthly on the 15th, 6 occurrences.
        ("<calendar:Timezone>%s</calendar:Timezone><calendar:AllDayEvent>0</calendar:AllDayEvent>"
         "<calendar:StartTime>20260115T100000Z</calendar:StartTime>"
         "<calendar:EndTime>20260115T110000Z</calendar:EndTime>"
         "<calendar:Subject>%s monthly</calendar:Subject><calendar:UID>%s-monthly</calendar:UID>"
         "<calendar:BusyStatus>2</calendar:BusyStatus><calendar:Sensitivity>0</calendar:Sensitivity>"
         "<calendar:MeetingStatus>0</calendar:MeetingStatus>"
         "<calendar:Recurrence><calendar:Type>2</calendar:Type><calendar:Interval>1</calendar:Interval>"
         "<calendar:DayOfMonth>15</calendar:DayOfMonth><calendar:Occurrences>6</calendar:Occurrences>"
         "</calendar:Recurrence>") % (ZERO_TZ, tag, tag),
    ]
    contact = ["<contacts:FirstName>Fixture</contacts:FirstName><contacts:LastName>%s"
               "</contacts:LastName><contacts:FileAs>%s, Fixture</contacts:FileAs>"
               "<contacts:Email1Address>fixture-%s@example.test</contacts:Email1Address>"
               % (tag, tag, tag)]
    task = ["<tasks:Subject>%s task</tasks:Subject><tasks:Importance>1</tasks:Importance>"
            "<tasks:Complete>0</tasks:Complete><tasks:Sensitivity>0</tasks:Sensitivity>"
            "<tasks:ReminderSet>0</tasks:ReminderSet>" % tag]
    return cal, contact, task


def imap_append(env, tag, n=3):
    m = imaplib.IMAP4(env.get("EAS_IMAP_HOST", "127.0.0.1"), int(env["EAS_IMAP_PORT"]))
    m.login(env["EAS_USER"], env["EAS_PASS"])
    subjects = []
    for i in range(n):
        subj = "%s mail %d" % (tag, i)
        msg = ("From: Fixture <fixture@example.test>\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\n"
               "Message-ID: <%s-%d@example.test>\r\nMIME-Version: 1.0\r\n"
               "Content-Type: text/plain; charset=utf-8\r\n\r\nBody of %s.\r\n" % (
                   env.get("EAS_EMAIL", "testuser@example.test"), subj,
                   email.utils.formatdate(), tag, i, subj))
        typ, _ = m.append("INBOX", None, imaplib.Time2Internaldate(time.time()), msg.encode())
        check(typ == "OK", "IMAP APPEND failed")
        subjects.append(subj)
    m.logout()
    return subjects


# ---- eas-sync -----------------------------------------------------------------------------

def run_sync(tmp, url, env, device, state, extra=(), timeout_s=60):
    pw = os.path.join(tmp, "pw")
    with open(os.open(pw, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as fh:
        fh.write(env["EAS_PASS"] + "\n")
    os.chmod(pw, 0o600)  # eas-sync refuses a password file others can read
    # The local servers also answer plain http (the default run): that needs the opt-in.
    plain = ["--allow-plaintext-auth"] if url.startswith("http://") else []
    cmd = [OPT.sync, "--url", url, "--user", env["EAS_USER"], "--password-file", pw,
           "--device-id", device, "--state", state, "--timeout", str(timeout_s)] + plain + \
        list(extra)
    t0 = time.monotonic()
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       timeout=timeout_s + 60)
    out = os.path.join(tmp, "%s-%d.jsonl" % (device, int(t0 * 1000)))
    with open(out, "w") as fh:
        fh.write(p.stdout)
    events = [json.loads(line) for line in p.stdout.splitlines() if line.strip()]
    summ = next((e for e in events if e.get("event") == "summary"), {})
    check(p.returncode == 0 and summ.get("complete"),
          "eas-sync did not complete against %s: exit %d, %s\n%s", url, p.returncode, summ,
          p.stderr[-2000:])
    return events, out, time.monotonic() - t0


def items_by_class(view):
    by = {}
    for (fid, sid), e in view.items.items():
        by.setdefault(e.get("class"), []).append(e)
    return by


def check_first_sync(view, tag, mails):
    by = items_by_class(view)
    classes = {f.get("class") for f in view.folders.values() if f.get("selected")}
    for c in ("Calendar", "Contacts", "Tasks", "Email"):
        check(c in classes, "no selected %s folder in %s", c, sorted(classes))
    cal = {field(e, "Subject") for e in by.get("Calendar", [])}
    check({tag + " weekly", tag + " monthly"} <= cal, "calendar fixtures missing: %s", cal)
    # LastName, not FileAs: Horde rebuilds FileAs as "First Last".
    con = {field(e, "LastName") for e in by.get("Contacts", [])}
    check(tag in con, "contact fixture missing: %s", con)
    tsk = {field(e, "Subject") for e in by.get("Tasks", [])}
    check(tag + " task" in tsk, "task fixture missing: %s", tsk)
    inbox = [f for f in view.folders.values() if f.get("type") == 2]
    check(len(inbox) == 1, "no single Inbox: %s", inbox)
    got = {field(e, "Subject") for (fid, _), e in view.items.items()
           if fid == inbox[0]["server_id"]}
    check(set(mails) <= got, "mails missing from the Inbox: %s", sorted(set(mails) - got))
    return {c: len(v) for c, v in by.items()}


def check_agenda(out, tag):
    p = subprocess.run([OPT.agenda, "--json", "--from", "20260101T000000Z", "--days", "365",
                        out], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    occ = [json.loads(line) for line in p.stdout.splitlines()]
    weekly = [o["start"] for o in occ if o["subject"] == tag + " weekly"]
    monthly = [o["start"] for o in occ if o["subject"] == tag + " monthly"]
    check(len(weekly) == 10 and all(
        time.strptime(s, "%Y-%m-%dT%H:%M:%SZ").tm_wday == 0 for s in weekly),
        "weekly fixture expanded to %s (%s)", weekly, p.stderr)
    # SOGo sends monthly BYMONTHDAY rules as Type 2 without DayOfMonth (README, "conversion
    # faults"): the calendar module must take the day from the start.
    check(len(monthly) == 6 and all(s[8:10] == "15" for s in monthly),
          "Q: monthly without DayOfMonth -> %s (%s)", monthly, p.stderr)
    check(p.returncode == 0, "eas-agenda could not expand an item: %s", p.stderr)
    return len(occ)


def main():
    global OPT
    ap = argparse.ArgumentParser()
    ap.add_argument("--sync", required=True)
    ap.add_argument("--agenda", required=True)
    ap.add_argument("--env", required=True)
    ap.add_argument("--server", choices=("sogo", "horde"), required=True)
    ap.add_argument("--version", default=None, help="eas-sync --max-version")
    ap.add_argument("--https", action="store_true", help="eas-sync over HTTPS with the CA")
    OPT = ap.parse_args()
    env = load_env(OPT.env)
    tmp = tempfile.mkdtemp(prefix="easd-real-%s-" % OPT.server)
    stamp = "%x" % int(time.time() * 1000)
    tag = "easd-%s-%s" % (OPT.server, stamp)
    t0 = time.monotonic()
    try:
        # Fixtures from other clients.
        fx = Fixture(env["EAS_URL"], env["EAS_USER"], env["EAS_PASS"], "fx" + stamp)
        fx.provision()
        types = fx.folders()
        cal, con, tsk = fixture_items(tag)
        fx.add(types[8], cal)
        fx.add(types[9], con)
        fx.add(types[7], tsk)
        mails = imap_append(env, tag)

        url = env["EAS_URL_HTTPS"] if OPT.https else env["EAS_URL"]
        extra = ["--ca-file", env["EAS_CA_CERT"]] if OPT.https else []
        if OPT.version:
            extra += ["--max-version", OPT.version]
        device = ("easd%s%s" % (OPT.server, stamp))[:32]
        state = os.path.join(tmp, "state")
        events, out, secs = run_sync(tmp, url, env, device, state, extra)
        view = View().apply(events)
        counts = check_first_sync(view, tag, mails)
        n_occ = check_agenda(out, tag)
        checks = ["first sync of Calendar/Contacts/Tasks/Email: %s in %.1f s" % (counts, secs),
                  "agenda: %d occurrences, fixtures expanded (weekly x10, monthly on the 15th "
                  "x6)" % n_occ]
        if OPT.https:
            checks.append("HTTPS with the generated CA (%s)" % url)

        if OPT.server == "sogo":
            # Q: Provision stub (policy Status 2, no PolicyKey, never 449): the session went
            # on without a key.
            check(any(e.get("event") == "state" and e.get("state") == "syncing"
                      for e in events), "no sync after SOGo's stub provisioning")
            checks.append("Q: stub Provision without PolicyKey accepted")
            # Q4: an empty Sync body means "no changes": a second run is quiet and complete.
            ev2, _, _ = run_sync(tmp, url, env, device, state, extra)
            items2 = [e for e in ev2 if e.get("event", "").startswith("item_")]
            check(not items2, "Q4: unchanged mailbox delivered %d item events", len(items2))
            checks.append("Q4: empty Sync responses keep the key (incremental run quiet)")
            # Q5: SOGo's highest version is 14.1 and its Sync responses still carry <Class>.
            checks.append("Q5: <Class> in 14.1 Sync responses ignored")
            # Q6: UTC items carry garbage in StandardDate; the agenda above decoded them.
            checks.append("Q6: UTC TimeZone blobs with garbage StandardDate decoded")
        else:
            rows = dict(sqlite3.connect(os.path.join(env["EAS_HORDE_STATE"], "horde",
                                                     "horde.sqlite")).execute(
                "select device_id, device_policykey from horde_activesync_device_users"))
            key1 = rows.get(device.upper())
            check(key1, "Horde holds no policy key for %s: %s", device, rows)
            checks.append("force provisioning: two-phase Provision, final key %s" % key1)
            # Q5: the RI folder is listed but never synced.
            ri = view.folders.get("RI")
            check(ri is not None and not ri.get("selected"), "Q5: RI folder %s", ri)
            checks.append("Q5: RI (recipient cache) listed, not synced")
            # [S 2.12] Horde forgets the device's key (as after a policy change): the next
            # request gets 449, the engine re-provisions and replays; DeviceId unchanged.
            db = sqlite3.connect(os.path.join(env["EAS_HORDE_STATE"], "horde",
                                              "horde.sqlite"))
            db.execute("update horde_activesync_device_users set device_policykey = 0 "
                       "where device_id = ?", (device.upper(),))
            db.commit()
            db.close()
            more = imap_append(env, tag + "-after", 1)
            ev2, _, _ = run_sync(tmp, url, env, device, state, extra)
            states = [e.get("state") for e in ev2 if e.get("event") == "state"]
            check("provisioning" in states, "[S 2.12] no re-provisioning after the key was "
                  "dropped: %s", states)
            View.apply(view, ev2)
            got = {field(e, "Subject") for e in view.items.values()}
            check(set(more) <= got, "[S 2.12] the mail after re-provisioning is missing")
            rows = dict(sqlite3.connect(os.path.join(env["EAS_HORDE_STATE"], "horde",
                                                     "horde.sqlite")).execute(
                "select device_id, device_policykey from horde_activesync_device_users"))
            check(rows.get(device.upper()) not in (None, 0, key1),
                  "[S 2.12] Horde holds key %s after re-provisioning", rows.get(device.upper()))
            # Horde's own log of the device: the request refused for the dropped key (HTTP 449
            # or Status 142/144), both Provision phases, then the same command again.
            import re
            logf = os.path.join(env["EAS_HORDE_STATE"], "log", "activesync",
                                device.upper() + ".txt")
            with open(logf, encoding="utf-8", errors="replace") as fh:
                blocks = re.split(r"\n(?=\[\d+\]\[[^]]+\] INFO: ----------(?=\w+ request))",
                                  fh.read())
            cmds = [(m.group(1), b) for b in blocks
                    for m in [re.search(r"----------(\w+) request received", b)] if m]
            prov = [i for i, (c, _) in enumerate(cmds) if c == "PROVISION"]
            check(len(prov) >= 4, "[S 2.12] Horde saw %d Provision requests", len(prov))
            i = prov[-2]
            refused, replay = cmds[i - 1], cmds[i + 2] if i + 2 < len(cmds) else ("", "")
            status = re.search(r"<Status>\s*\n[^\n]*O:\s+(\d+)", refused[1])
            code = status.group(1) if status else ("449" if "449" in refused[1] else "?")
            check(prov[-1] == i + 1 and code in ("142", "144", "449") and
                  refused[0] == replay[0],
                  "[S 2.12] Horde log: %s (%s) -> Provision x2 -> %s", refused[0], code,
                  replay[0])
            checks.append("[S 2.12] %s refused (%s) -> re-provision -> the %s replayed, same "
                          "DeviceId, new key" % (refused[0], code, replay[0]))
            # Q1: folder ids are per device: a second device syncs with its own ids.
            ev3, _, _ = run_sync(tmp, url, env, device + "b", state + "b", extra)
            v3 = View().apply(ev3)
            check_first_sync(v3, tag, mails)
            checks.append("Q1: a second DeviceId gets its own folder ids and a full sync")
            # Q4: the PHP server directly (no nginx): no Expect: 100-continue is ever sent.
            if env.get("EAS_URL_DIRECT") and not OPT.https:
                run_sync(tmp, env["EAS_URL_DIRECT"], env, device + "d", state + "d", extra)
                checks.append("Q4: PHP server directly (no Expect: 100-continue)")
        print("ok %s%s (%.1f s)" % (OPT.server, " " + OPT.version if OPT.version else "",
                                   time.monotonic() - t0))
        for c in checks:
            print("   " + c)
        return 0
    except Failure as e:
        print("FAIL %s: %s  [files in %s]" % (OPT.server, e, tmp))
        return 1


if __name__ == "__main__":
    sys.exit(main())
