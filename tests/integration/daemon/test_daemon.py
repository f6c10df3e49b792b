# SPDX-License-Identifier: Apache-2.0
"""easd end to end against tools/eas-testserver over HTTPS (arguments: easd, easctl, the
server, the demo mailbox):

1. configuration errors name the file and line; a wrong password ends --once with exit 1
   (auth-failed, password not logged); the first sync (--once) fills a fresh
   vdir/Maildir store (files 0600), easctl agenda expands it, status works without a daemon;
2. in the Ping loop: a server change arrives through Ping and appears in the store; a new
   .ics written into the store appears on the server; a changed .ics changes the server item;
   a deleted .vcf is deleted on the server; easctl status/folders/sync/respond over the socket;
3. SIGHUP with a broken file keeps the running configuration, with a good one reloads;
   SIGTERM ends cleanly (socket gone, status "not running");
4. a conflict: the same event changed locally (daemon stopped) and on the server - the server
   wins, the local version is kept as a .conflict file;
5. a local series with a deleted and a moved occurrence, and later one more EXDATE, reaches
   the server whole: at 14.1 as Exceptions, at 16.1 as per-occurrence Delete/Change
   (InstanceId); the rest of the test runs at the default, the highest version (16.1);
7. mail: a Maildir S flag set / cleared locally becomes Email:Read on the server, a removed
   message a Delete, a message moved to another Maildir folder a MoveItems;
6. kill -9 during the first sync of a large mailbox, then restart: the store converges with
   one file per server item and nothing is uploaded (no duplicates on either side).
"""
import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from daemonlib import (Daemon, Server, check, easctl, run_once, store_files,  # noqa: E402
                       wait_for, write_config)

EASD, EASCTL, SERVER, MAILBOX = sys.argv[1:5]

NEW_ICS = """BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//someone else//EN\r
BEGIN:VEVENT\r
UID:written-by-another-program-1\r
DTSTAMP:20250101T000000Z\r
DTSTART:20250328T140000Z\r
DTEND:20250328T150000Z\r
SUMMARY:Written into the store\r
RRULE:FREQ=MONTHLY;BYDAY=-1FR;COUNT=4\r
EXDATE:20250425T140000Z\r
END:VEVENT\r
END:VCALENDAR\r
"""


def config_errors(tmp, server):
    bad = os.path.join(tmp, "bad.conf")
    with open(bad, "w") as fh:
        fh.write("server = %s\nuser = testuser\npassword_file = password\nheartbeet = 60\n"
                 % server.url)
    p = subprocess.run([EASD, "--config", bad, "--once"], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=30)
    check(p.returncode == 2 and "bad.conf:4: unknown key \"heartbeet\"" in p.stdout,
          "an unknown key stops easd with file and line (%r)" % p.stdout.strip())
    with open(bad, "w") as fh:
        fh.write("server = %s\nuser = testuser\npassword_file = password\n"
                 "heartbeat_max = 5\n" % server.url)
    p = subprocess.run([EASD, "--config", bad, "--once"], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=30)
    check(p.returncode == 2 and "bad.conf:4: heartbeat_max" in p.stdout,
          "a bad value stops easd with file and line (%r)" % p.stdout.strip())


def wrong_password(tmp, server):
    wrong = os.path.join(tmp, "wrong")
    os.mkdir(wrong)
    cfg = write_config(wrong, server)
    with open(os.path.join(wrong, "password"), "w") as fh:
        fh.write("not-the-password\n")
    rc, out = run_once(EASD, cfg, wrong, 60)
    check(rc == 1 and "account stopped: auth-failed" in out,
          "--once with a wrong password: exit 1, account stopped (auth-failed)")
    check("not-the-password" not in out, "the wrong password is not logged either")
    rc, out, _ = easctl(EASCTL, cfg, "status")
    check("state: auth-failed" in out, "easctl status shows auth-failed")


OCC_OVERRIDE = """BEGIN:VEVENT\r
UID:written-by-another-program-1\r
DTSTAMP:20250101T000000Z\r
RECURRENCE-ID:20250530T140000Z\r
DTSTART:20250530T160000Z\r
DTEND:20250530T170000Z\r
SUMMARY:Written into the store (moved)\r
END:VEVENT\r
END:VCALENDAR\r
"""


def occurrences_at(tmp, server, version):
    """A local series with a deleted (EXDATE) and a moved (RECURRENCE-ID) occurrence reaches
    the server with both, at 14.1 as Exceptions of the series, at 16.x (where a client must
    not send Exceptions) as a Delete and a Change with AirSyncBase:InstanceId; a second EXDATE
    added later likewise."""
    d = os.path.join(tmp, "v" + version)
    os.mkdir(d)
    dev = "easdocc" + version.replace(".", "")
    cfg = write_config(d, server, max_version=version, classes="calendar", device_id=dev)
    rc, out = run_once(EASD, cfg, d)
    check(rc == 0 and "engine: protocol %s" % version in out, "first sync at %s" % version)
    uid = "occ-" + version
    ics = NEW_ICS.replace("written-by-another-program-1", uid).replace(
        "END:VCALENDAR\r\n", OCC_OVERRIDE.replace("written-by-another-program-1", uid))
    path = os.path.join(d, "store", "calendars", "Calendar", "occ.ics")
    with open(path, "w") as fh:
        fh.write(ics)
    rc, out = run_once(EASD, cfg, d)
    check(rc == 0, "%s: --once sends the new series (exit %d)" % (version, rc))

    def server_exceptions():
        items = [v for v in server.items("6").values() if v.get("UID") == uid]
        check(len(items) == 1, "%s: the series is on the server once" % version)
        return {e.get("ExceptionStartTime"): e for e in items[0].get("Exceptions") or []}

    def sent():
        with open(os.path.join(server.tmp, "server.log")) as fh:
            recs = [json.loads(line) for line in fh if line.strip()]
        return "\n".join(r.get("body_xml", "") for r in recs
                         if r.get("device") == dev and r.get("command") == "Sync")

    ex = server_exceptions()
    moved = ex.get("20250530T140000Z", {})
    check(ex.get("20250425T140000Z", {}).get("Deleted") == "1" and
          moved.get("StartTime") == "20250530T160000Z" and not moved.get("Deleted"),
          "%s: the server has the deleted and the moved occurrence (%s)" % (version, ex))
    xml = sent()
    if version.startswith("16"):
        check("Exceptions>" not in xml and "2025-04-25T14:00:00.000Z" in xml and
              "2025-05-30T14:00:00.000Z" in xml and "Written into the store (moved)" in xml,
              "16.x: no Exceptions sent; a Delete and a Change with InstanceId instead")
    else:
        check("Exceptions>" in xml and "InstanceId" not in xml,
              "14.1: the occurrences went as Exceptions of the series, no InstanceId")
    with open(path, "w") as fh:
        fh.write(ics.replace("EXDATE:20250425T140000Z", "EXDATE:20250425T140000Z\r\n"
                             "EXDATE:20250627T140000Z"))
    rc, out = run_once(EASD, cfg, d)
    ex = server_exceptions()
    check(rc == 0 and ex.get("20250627T140000Z", {}).get("Deleted") == "1" and
          ex.get("20250425T140000Z", {}).get("Deleted") == "1" and len(ex) == 3,
          "%s: a second EXDATE added later deletes that occurrence on the server too" % version)
    if version.startswith("16"):
        check("2025-06-27T14:00:00.000Z" in sent() and
              "local delete of occurrence 2025-06-27T14:00:00.000Z" in out and
              "occurrence 2025-04-25" not in out and "occurrence 2025-05-30" not in out,
              "16.x: only the new occurrence is sent (%s)" % [l for l in out.splitlines()
                                                            if "occurrence" in l])


def first_sync(tmp, server, cfg):
    rc, out = run_once(EASD, cfg, tmp)
    check(rc == 0, "easd --once completes the first sync (exit %d)" % rc)
    check("engine: protocol 16.1" in out,
          "without max_version easd uses the highest version the server offers (16.1)")
    check("testpass" not in out, "the password never appears in the log")
    infos = [dev for dev in server.control("state")["devices"]["testuser"].values()
             if dev["info_settings"]]
    want = {"Model": "Acme Panel 7", "FriendlyName": socket.gethostname(),
            "OS": "Linux " + os.uname().release}
    check(len(infos) == 1 and all(infos[0]["info"].get(k) == v for k, v in want.items()),
          "Settings DeviceInformation names the device_model, the host name and the kernel "
          "(%s)" % [d["info"] for d in infos])
    ics = store_files(tmp, "calendars", "Calendar", ".ics")
    vcf = store_files(tmp, "contacts", "Contacts", ".vcf")
    check(len(ics) == 10, "10 events in calendars/Calendar (%d)" % len(ics))
    check(len(store_files(tmp, "calendars", "Team_Calendar", ".ics")) == 1,
          "1 event in calendars/Team_Calendar")
    check(len(vcf) == 3, "3 contacts in contacts/Contacts (%d)" % len(vcf))
    inbox = os.listdir(os.path.join(tmp, "store", "mail", "Inbox", "cur"))
    check(len(inbox) == 7, "7 messages in the Inbox Maildir (%d)" % len(inbox))
    for d, _, files in os.walk(os.path.join(tmp, "store")):
        for f in files:
            mode = stat.S_IMODE(os.stat(os.path.join(d, f)).st_mode)
            if mode != 0o600:
                raise SystemExit("FAIL: %s has mode %o" % (os.path.join(d, f), mode))
    check(True, "every file in the store is 0600")
    with open(os.path.join(tmp, "store", "calendars", "Calendar", "eas-6=3A1.ics")) as fh:
        rent = fh.read()
    check("BYMONTHDAY=-1" in rent and "COUNT=12" in rent,
          "the 31st-of-month series is written as BYMONTHDAY=-1;COUNT=12")
    env = dict(os.environ, TZ="Europe/Berlin")
    rc, out, err = easctl(EASCTL, cfg, "agenda", "--from", "2025-01-01", "--to", "2025-12-31",
                          env=env)
    check(rc == 0, "easctl agenda runs without a daemon (%s)" % err.strip())
    rent_days = [l.split()[0] for l in out.splitlines() if "Monthly report on the 31st" in l]
    check(rent_days[:4] == ["2025-01-31", "2025-02-28", "2025-03-31", "2025-04-30"],
          "agenda: the 31st falls on the last day of shorter months (%s)" % rent_days[:4])
    check("2025-01-15 Wed  11:00-11:30  Weekly standup (moved, longer)" in out,
          "agenda: the moved occurrence at its new time, local (Berlin) clock")
    check("2025-01-13 Mon  09:00" not in out, "agenda: the deleted occurrence is gone")
    rc, out, _ = easctl(EASCTL, cfg, "status")
    check(rc == 0 and "daemon: not running" in out and "state: idle" in out,
          "easctl status without a daemon shows the saved state (idle: --once sends no Ping)")


def ping_loop(tmp, server, cfg):
    d = Daemon(EASD, cfg, tmp)
    wait_for("control socket", lambda: os.path.exists(d.sock))
    d.wait_log("sync complete", "easd: sync complete")
    rc, out, _ = easctl(EASCTL, cfg, "status")
    check(rc == 0 and "daemon: running" in out and "outbox: 0" in out,
          "easctl status over the socket: running, outbox 0")
    rc, out, _ = easctl(EASCTL, cfg, "folders")
    check(rc == 0 and "6\tCalendar\tsynced\tCalendar" in out, "easctl folders lists Calendar")
    # A server change arrives through Ping.
    wait_for("easd waits in Ping", lambda: server.control("state")["devices"]["testuser"]
             and any(dev.get("ping", {}).get("folders")
                     for dev in server.control("state")["devices"]["testuser"].values()))
    # easctl status shows the heartbeat the engine asks for now (its start value here, 480 s),
    # the very interval the server holds the Ping for, next to the configured ceiling.
    pings = [dev["ping"] for dev in server.control("state")["devices"]["testuser"].values()
             if (dev.get("ping") or {}).get("interval")]
    rc, out, _ = easctl(EASCTL, cfg, "status")
    check(pings and "heartbeat: %d s (adaptive, ceiling 900 s)" % pings[-1]["interval"] in out
          and pings[-1]["interval"] != 900,
          "easctl status shows the current heartbeat, %s s, the Ping's HeartbeatInterval (%r)"
          % (pings and pings[-1]["interval"], [l for l in out.splitlines() if "heartbeat" in l]))
    server.control("changes", [{"op": "add_item", "folder": "6", "data": {
        "Subject": "Pushed by the server", "StartTime": "20250401T090000Z",
        "EndTime": "20250401T100000Z", "UID": "pushed-1", "DtStamp": "20250101T000000Z",
        "BusyStatus": 2, "AllDayEvent": 0, "Sensitivity": 0, "MeetingStatus": 0}}])
    t0 = time.monotonic()

    def pushed():
        for f in store_files(tmp, "calendars", "Calendar", ".ics"):
            with open(os.path.join(tmp, "store", "calendars", "Calendar", f)) as fh:
                if "Pushed by the server" in fh.read():
                    return f
        return None
    wait_for("the server's new event in the store", pushed, 20)
    check(True, "a server change reached the store through Ping in %.1f s"
          % (time.monotonic() - t0))
    # A new .ics written by another program goes to the server.
    cal = os.path.join(tmp, "store", "calendars", "Calendar")
    tmpf = os.path.join(cal, ".new.tmp")
    with open(tmpf, "w") as fh:
        fh.write(NEW_ICS)
    os.rename(tmpf, os.path.join(cal, "mine.ics"))

    def on_server(subject):
        return [sid for sid, it in server.items("6").items() if it.get("Subject") == subject]
    sids = wait_for("the local .ics on the server", lambda: on_server("Written into the store"))
    item = server.items("6")[sids[0]]
    rec = item.get("Recurrence", {})
    check(str(rec.get("Type")) == "3" and str(rec.get("WeekOfMonth")) == "5" and
          str(rec.get("DayOfWeek")) == "32" and str(rec.get("Occurrences")) == "4",
          "RRULE BYDAY=-1FR;COUNT=4 became Type 3, WeekOfMonth 5, Friday, 4 occurrences (%s)"
          % rec)
    exc = item.get("Exceptions") or []
    check(len(exc) == 1 and str(exc[0].get("Deleted")) == "1" and
          exc[0].get("ExceptionStartTime", "").startswith("20250425T140000"),
          "EXDATE became a deleted Exception (%s)" % exc)
    d.wait_log("the add answered", "mine.ics is server item")
    rc, out, _ = easctl(EASCTL, cfg, "agenda", "--from", "2025-03-01", "--to", "2025-06-30",
                        env=dict(os.environ, TZ="Europe/Berlin"))
    days = [l.split()[0] for l in out.splitlines() if "Written into the store" in l]
    check(days == ["2025-03-28", "2025-05-30", "2025-06-27"],
          "easctl agenda expands the locally written event: last Fridays, EXDATE gone (%s)"
          % days)
    # Changing it locally changes the server item.
    with open(os.path.join(cal, "mine.ics")) as fh:
        text = fh.read()
    with open(tmpf, "w") as fh:
        fh.write(text.replace("SUMMARY:Written into the store", "SUMMARY:Edited in the store"))
    os.rename(tmpf, os.path.join(cal, "mine.ics"))
    wait_for("the local edit on the server", lambda: on_server("Edited in the store"))
    check(sids == on_server("Edited in the store"), "the edit changed the same server item")
    # A .vcf deleted locally is deleted on the server.
    before = server.items("7")
    os.unlink(os.path.join(tmp, "store", "contacts", "Contacts", "eas-7=3A2.vcf"))
    wait_for("the contact deleted on the server", lambda: "7:2" not in server.items("7"))
    check(len(server.items("7")) == len(before) - 1, "exactly that contact is gone")
    # A meeting response through the socket.
    rc, out, _ = easctl(EASCTL, cfg, "respond", "eas-6=3A6.ics", "accept")
    check(rc == 0 and out.startswith("queued: accept"), "easctl respond queues (%s)" % out.strip())
    wait_for("the meeting response on the server",
             lambda: server.control("meeting_responses")["meeting_responses"])
    mr = server.control("meeting_responses")["meeting_responses"]
    check(len(mr) == 1 and str(mr[0]["user_response"]) == "1", "one accept reached the server")
    rc, out, _ = easctl(EASCTL, cfg, "respond", "6:2", "tentative", "--occurrence", "2025-01-08")
    check(rc == 0 and "2025-01-08T08:00:00.000Z" in out,
          "easctl respond --occurrence finds that day's occurrence (%s)" % out.strip())
    wait_for("the occurrence's response on the server",
             lambda: len(server.control("meeting_responses")["meeting_responses"]) == 2)
    mr = server.control("meeting_responses")["meeting_responses"][1]
    check(mr["instance_id"] == "2025-01-08T08:00:00.000Z" and str(mr["user_response"]) == "2",
          "the server got a tentative for that InstanceId")
    rc, out, _ = easctl(EASCTL, cfg, "respond", "6:2", "accept", "--occurrence", "2025-01-09")
    check(rc == 1 and "no occurrence of 6:2 on that day" in out, "no occurrence that day: refused (%s)"
          % out.strip())
    rc, out, _ = easctl(EASCTL, cfg, "sync")
    check(rc == 0 and "sync requested" in out, "easctl sync")
    # SIGHUP: a broken file is refused, a good one is loaded.
    good = open(cfg).read()
    mail_two_way(tmp, server, d)
    with open(cfg, "a") as fh:
        fh.write("colour = blue\n")
    d.proc.send_signal(signal.SIGHUP)
    d.wait_log("the broken reload refused", "keeping the running configuration")
    with open(cfg, "w") as fh:
        fh.write(good.replace("log_level = info", "log_level = debug"))
    d.proc.send_signal(signal.SIGHUP)
    d.wait_log("the reload", "configuration reloaded")
    rc, out, _ = easctl(EASCTL, cfg, "status")
    check(rc == 0 and "daemon: running" in out, "still running after the reload")
    rc = d.stop()
    check(rc == 0, "SIGTERM: exit 0")
    check(not os.path.exists(d.sock), "SIGTERM: the socket is removed")
    rc, out, _ = easctl(EASCTL, cfg, "status")
    check("daemon: not running" in out, "status after SIGTERM says not running")
    check("testpass" not in d.text(), "the password never appears in the log")


def mail_two_way(tmp, server, d):
    """Maildir -> server while easd runs: the S flag set by a mail reader (a rename in cur/)
    becomes Email:Read 1 on the server, cleared again Read 0; F likewise Email:Flag (and a
    server's flag becomes F); a message file removed becomes a
    Sync Delete (the server moves it to Deleted Items); a file moved into another Maildir
    folder a MoveItems. easd's own files are not sent back."""
    cur = os.path.join(tmp, "store", "mail", "Inbox", "cur")

    def local(sid):
        base = sid.replace(":", "=3A") + ".easd"
        return [f for f in os.listdir(cur) if f.split(":2,")[0] == base]

    def read_on_server(sid):
        return str(server.items("1")[sid].get("Read"))

    unread = sorted(sid for sid, v in server.items("1").items() if str(v.get("Read")) == "0")
    check(len(unread) >= 2, "the Inbox has unread messages (%s)" % unread)
    sid = unread[0]
    f = local(sid)
    check(len(f) == 1 and f[0].endswith(":2,"), "unread %s is in cur/ without S (%s)" % (sid, f))
    def flag_on_server(sid):
        fl = server.items("1")[sid].get("Flag")
        # Email:Status of page 2 (0x3B); the test server's codec calls it FlagStatus
        return fl.get("FlagStatus") if isinstance(fl, dict) else None

    esc = sid.replace(":", "=3A")
    os.rename(os.path.join(cur, f[0]), os.path.join(cur, f[0] + "FRS"))  # flagged, replied, seen
    wait_for("the server marks %s read and flagged" % sid,
             lambda: read_on_server(sid) == "1" and flag_on_server(sid) == "2")
    d.wait_log("the read flag logged", "local read, flag Inbox/%s.easd" % esc)
    f = local(sid)
    check(f == [esc + ".easd:2,FRS"], "the file keeps the reader's flags (%s)" % f)
    os.rename(os.path.join(cur, f[0]), os.path.join(cur, esc + ".easd:2,FR"))  # S cleared
    wait_for("the server marks %s unread again" % sid, lambda: read_on_server(sid) == "0")
    check(flag_on_server(sid) == "2", "still flagged on the server")
    os.rename(os.path.join(cur, esc + ".easd:2,FR"), os.path.join(cur, esc + ".easd:2,R"))
    wait_for("the server clears the flag of %s" % sid, lambda: flag_on_server(sid) != "2")
    check(read_on_server(sid) == "0", "the unflag left Read alone")
    # Server -> store: the server flags another message, the file gets F.
    other = sorted(k for k in server.items("1") if k != sid)[0]
    server.control("changes", [{"op": "change_item", "server_id": other,
                                "set": {"Flag": {"FlagStatus": "2", "FlagType": "Follow up"}}}])
    wait_for("the server's flag reaches the Maildir as F",
             lambda: any(x.split(":2,")[1].startswith("F") for x in local(other)))
    victim = unread[1]
    subject = server.items("1")[victim].get("Subject")
    os.unlink(os.path.join(cur, local(victim)[0]))
    wait_for("%s deleted from the server's Inbox" % victim,
             lambda: victim not in server.items("1"))
    check(any(v.get("Subject") == subject for v in server.items("3").values()),
          "a message deleted locally is in the server's Deleted Items (%r)" % subject)
    d.wait_log("the delete logged", "local delete Inbox/%s.easd" % victim.replace(":", "=3A"))
    # A move between two Maildir folders (what a mail reader does: a rename) is a MoveItems;
    # the file takes the new ServerId, and a flag set there reaches the moved item.
    mover = unread[2]
    subject = server.items("1")[mover].get("Subject")
    proj = os.path.join(tmp, "store", "mail", "Projects", "cur")
    f = local(mover)[0]
    os.rename(os.path.join(cur, f), os.path.join(proj, f))
    wait_for("%s moved to Projects on the server" % mover,
             lambda: mover not in server.items("1") and
             [k for k, v in server.items("10").items() if v.get("Subject") == subject])
    new_sid = [k for k, v in server.items("10").items() if v.get("Subject") == subject][0]
    new_base = new_sid.replace(":", "=3A") + ".easd"
    wait_for("the moved file renamed to the new ServerId",
             lambda: [x for x in os.listdir(proj) if x.split(":2,")[0] == new_base])
    check(not any(v.get("Subject") == subject for v in server.items("3").values()),
          "a moved message is not deleted (%r not in Deleted Items)" % subject)
    f = [x for x in os.listdir(proj) if x.split(":2,")[0] == new_base][0]
    os.rename(os.path.join(proj, f), os.path.join(proj, f + "S"))
    wait_for("the moved message marked read on the server",
             lambda: str(server.items("10")[new_sid].get("Read")) == "1")
    check(d.text().count("local read, flag Inbox/") == 1 and
          d.text().count("local unread Inbox/") == 1 and
          d.text().count("local unflag Inbox/") == 1 and
          d.text().count(" Inbox/%s.easd" % other.replace(":", "=3A")) == 0 and
          d.text().count("local read Projects/") == 1 and
          d.text().count("local move Inbox/") == 1,
          "each change sent once, easd's own files never sent back")


def conflict(tmp, server, cfg):
    path = os.path.join(tmp, "store", "calendars", "Calendar", "eas-6=3A9.ics")
    with open(path) as fh:
        text = fh.read()
    with open(path, "w") as fh:
        fh.write(text.replace("SUMMARY:UTC call", "SUMMARY:UTC call (my local edit)"))
    server.control("changes", [{"op": "change_item", "server_id": "6:9",
                                "set": {"Subject": "UTC call (server edit)"}}])
    rc, out = run_once(EASD, cfg, tmp)
    check(rc == 0, "--once after a two-sided change")
    with open(path) as fh:
        now = fh.read()
    confl = [f for f in os.listdir(os.path.dirname(path)) if f.startswith("eas-6=3A9.ics.conflict-")]
    check("server edit" in now and len(confl) == 1, "conflict: the server's version wins")
    with open(os.path.join(os.path.dirname(path), confl[0])) as fh:
        check("my local edit" in fh.read(), "conflict: the local version is kept as %s"
              % confl[0])
    check("conflict: Calendar/eas-6=3A9.ics" in out, "the conflict is logged")
    check(server.items("6")["6:9"]["Subject"] == "UTC call (server edit)",
          "the server keeps its version")


def kill_during_first_sync(tmp_root):
    tmp = os.path.join(tmp_root, "kill")
    os.mkdir(tmp)
    server = Server(tmp, SERVER, None, "--generate", "400")
    try:
        cfg = write_config(tmp, server, window_size="20")
        counts = {f["id"]: f["count"] for f in server.control("folders")["folders"]}
        d = Daemon(EASD, cfg, tmp)
        wait_for("some events written", lambda: len(store_files(tmp, "calendars", "Calendar",
                                                                ".ics")) >= 30, 60, 0.005)
        d.stop(signal.SIGKILL)
        n_killed = len(store_files(tmp, "calendars", "Calendar", ".ics"))
        check(0 < n_killed < counts["6"], "killed (SIGKILL) after %d of %d events"
              % (n_killed, counts["6"]))
        rc, out = run_once(EASD, cfg, tmp, 180)
        check(rc == 0, "restart after SIGKILL completes (exit %d)" % rc)
        ics = store_files(tmp, "calendars", "Calendar", ".ics")
        vcf = store_files(tmp, "contacts", "Contacts", ".vcf")
        check(len(ics) == counts["6"] and len(vcf) == counts["7"],
              "one file per server item: %d events, %d contacts" % (len(ics), len(vcf)))
        uids = []
        for f in ics:
            with open(os.path.join(tmp, "store", "calendars", "Calendar", f)) as fh:
                uids += [l for l in fh.read().splitlines() if l.startswith("UID:")][:1]
        check(len(set(uids)) == len(uids), "no duplicate UIDs in the store")
        after = {f["id"]: f["count"] for f in server.control("folders")["folders"]}
        check(after == counts, "nothing was uploaded: the server's counts are unchanged")
        check("local add" not in out, "no file was taken for a local addition")
    finally:
        Daemon.stop_all()
        server.stop()


def main():
    tmp = tempfile.mkdtemp(prefix="easd-daemon-test-")
    ok = False
    try:
        server = Server(tmp, SERVER, MAILBOX)
        try:
            cfg = write_config(tmp, server, device_model="Acme Panel 7")
            config_errors(tmp, server)
            wrong_password(tmp, server)
            first_sync(tmp, server, cfg)
            ping_loop(tmp, server, cfg)
            conflict(tmp, server, cfg)
            occurrences_at(tmp, server, "14.1")
            occurrences_at(tmp, server, "16.1")
        finally:
            Daemon.stop_all()
            server.stop()
        kill_during_first_sync(tmp)
        ok = True
    finally:
        if ok or not os.environ.get("EASD_KEEP"):
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print("kept", tmp)
    print("PASS")


if __name__ == "__main__":
    main()
