# SPDX-License-Identifier: Apache-2.0
"""Session harness: tools/eas-testserver + the eas-sync driver (engine + Linux port), with
assertions on eas-sync's JSON lines and on the server's request log (/_control/requests) and
counters (/_control/counts). Python stdlib only."""
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
TSDIR = os.path.join(ROOT, "tools", "eas-testserver")
SERVER = os.path.join(TSDIR, "eas-testserver")
DEMO = os.path.join(TSDIR, "mailboxes", "demo.json")

# Folder types eas-sync selects by default (Calendar, Contacts, Email, Tasks; not Notes).
SELECTED_TYPES = {1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 13, 14, 15}
TYPE_CLASS = {2: "Email", 3: "Email", 4: "Email", 5: "Email", 6: "Email", 12: "Email",
              1: "Email", 8: "Calendar", 13: "Calendar", 9: "Contacts", 14: "Contacts",
              7: "Tasks", 15: "Tasks", 10: "Notes", 17: "Notes"}


class Failure(AssertionError):
    pass


def check(cond, msg, *args):
    if not cond:
        raise Failure(msg % args if args else msg)


class Server:
    """An eas-testserver child process on a free port."""

    def __init__(self, tmp, *args, mailbox=DEMO, scenario=None, generate=None):
        self.tmp = tmp
        self.logfile = os.path.join(tmp, "server-requests.jsonl")
        cmd = [sys.executable, SERVER, "--port", "0", "--log", self.logfile]
        if mailbox:
            cmd += ["--mailbox", mailbox]
        if generate:
            cmd += ["--generate", str(generate)]
        if scenario is not None:
            path = os.path.join(tmp, "scenario.json")
            with open(path, "w", encoding="utf-8") as fh:
                json.dump(scenario, fh)
            cmd += ["--scenario", path]
        cmd += list(args)
        self.err = open(os.path.join(tmp, "server.stderr"), "w")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self.err, text=True)
        self.port = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            if line.startswith("PORT="):
                self.port = int(line.strip()[5:])
                break
        if self.port is None:
            self.proc.kill()
            raise RuntimeError("eas-testserver did not start (see %s)" % self.err.name)
        self.base = "http://127.0.0.1:%d" % self.port
        self.url = self.base + "/Microsoft-Server-ActiveSync"

    def close(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        self.err.close()

    def control(self, method, path, obj=None):
        data = json.dumps(obj).encode() if obj is not None else None
        req = urllib.request.Request(self.base + "/_control/" + path, data=data, method=method)
        with urllib.request.urlopen(req, timeout=60) as r:
            return json.loads(r.read().decode())

    def requests(self, command=None, bodies=True, since=None):
        q = ["bodies=%d" % (1 if bodies else 0)]
        if command:
            q.append("command=" + command)
        if since is not None:
            q.append("since=%d" % since)
        return self.control("GET", "requests?" + "&".join(q))["requests"]

    def counts(self):
        return self.control("GET", "counts")

    def reset_log(self):
        self.control("POST", "reset_log", {})

    def faults(self, rules):
        return self.control("POST", "faults", rules)

    def changes(self, changes, user=None):
        body = {"changes": changes}
        if user:
            body["user"] = user
        return self.control("POST", "changes", body)["results"]

    def mailbox(self, user="testuser"):
        return self.control("GET", "mailbox?user=" + user)

    def state(self, device):
        return self.control("GET", "state?device=" + device)

    def server_items(self, user="testuser", selected_only=True):
        """{(folder id, server id): item} of the server's mailbox (the oracle)."""
        out = {}
        snap = self.mailbox(user)
        for u in snap["users"]:
            if u["name"] != user:
                continue
            for f in u["folders"]:
                if selected_only and int(f["type"]) not in SELECTED_TYPES:
                    continue
                for it in f.get("items", []):
                    out[(f["id"], it["id"])] = it
        return out

    def server_folders(self, user="testuser"):
        return {f["id"]: f for f in self.control("GET", "folders?user=" + user)["folders"]}


class Run:
    """One eas-sync process run."""

    def __init__(self, rc, lines, events, stderr, secs):
        self.rc, self.lines, self.events, self.stderr, self.secs = rc, lines, events, stderr, secs

    def summary(self):
        for e in self.events:
            if e.get("event") == "summary":
                return e
        return {}

    def of(self, kind):
        return [e for e in self.events if e.get("event") == kind]

    def errors(self):
        return self.of("error")


class Client:
    """eas-sync with one state directory and device id."""

    def __init__(self, tmp, sync_bin, url, user="testuser", password="testpass",
                 device="integ1", extra=()):
        self.sync_bin, self.url, self.user, self.device = sync_bin, url, user, device
        self.state = os.path.join(tmp, "state-" + device)
        self.pw = os.path.join(tmp, "pw-" + device)
        self.tmp = tmp
        self.extra = list(extra)
        self.nrun = 0
        # eas-sync refuses a password file group or others can read.
        with open(os.open(self.pw, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as fh:
            fh.write(password + "\n")
        os.chmod(self.pw, 0o600)

    def cmd(self, timeout_s=120, extra=()):
        # The session scenarios run against the test server over plain http on loopback:
        # the opt-in eas-sync needs for Basic credentials over http is given here, once
        # (HTTPS and what never leaves in clear: tests/integration/security).
        plain = ["--allow-plaintext-auth"] if self.url.startswith("http://") else []
        return [self.sync_bin, "--url", self.url, "--user", self.user, "--password-file",
                self.pw, "--device-id", self.device, "--state", self.state, "--timeout",
                str(timeout_s)] + plain + self.extra + list(extra)

    def _parse(self, text):
        events = []
        for line in text.splitlines():
            if not line.strip():
                continue
            try:
                events.append(json.loads(line))
            except ValueError:
                raise Failure("eas-sync printed a line that is not JSON: %r" % line[:200])
        return events

    def run(self, timeout_s=120, extra=()):
        self.nrun += 1
        t0 = time.monotonic()
        p = subprocess.run(self.cmd(timeout_s, extra), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=timeout_s + 60)
        secs = time.monotonic() - t0
        out = p.stdout.decode("utf-8", "replace")
        err = p.stderr.decode("utf-8", "replace")
        with open(os.path.join(self.tmp, "run%d-%s.jsonl" % (self.nrun, self.device)), "w") as fh:
            fh.write(out)
        with open(os.path.join(self.tmp, "run%d-%s.stderr" % (self.nrun, self.device)),
                  "w") as fh:
            fh.write(err)
        return Run(p.returncode, out.splitlines(), self._parse(out), err, secs)

    def run_killed(self, rng, after_lines=None, after_s=None, extra=()):
        """Start eas-sync and SIGKILL it after @after_lines output lines or @after_s seconds,
        whichever comes first. Returns (killed, Run) with the events printed before death
        (a partial last line is dropped: the application never saw it complete)."""
        self.nrun += 1
        proc = subprocess.Popen(self.cmd(extra=extra), stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL)
        t0 = time.monotonic()
        buf = b""
        n = 0
        killed = False
        import selectors
        sel = selectors.DefaultSelector()
        sel.register(proc.stdout, selectors.EVENT_READ)
        fd = proc.stdout.fileno()
        while True:
            left = None if after_s is None else after_s - (time.monotonic() - t0)
            if left is not None and left <= 0:
                proc.send_signal(signal.SIGKILL)
                killed = True
                break
            ready = sel.select(left if left is not None else 1.0)
            if not ready:
                continue
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            buf += chunk
            n = buf.count(b"\n")
            if after_lines is not None and n >= after_lines:
                proc.send_signal(signal.SIGKILL)
                killed = True
                break
        rc = proc.wait()
        # What reached the pipe before the kill is what the application saw.
        try:
            while True:
                chunk = os.read(fd, 65536)
                if not chunk:
                    break
                buf += chunk
        except OSError:
            pass
        sel.close()
        proc.stdout.close()
        text = buf.decode("utf-8", "replace")
        if not text.endswith("\n"):
            text = text[:text.rfind("\n") + 1]
        return killed and rc == -signal.SIGKILL, Run(rc, text.splitlines(), self._parse(text), "",
                                                     time.monotonic() - t0)


class View:
    """The application's view built from eas-sync events, as the engine's contract asks:
    add/change = upsert keyed by (folder, ServerId), delete of an unknown id = no-op, and a
    folder recovery (resync_begin .. resync_end, [S 2.13]) drops the items of that folder
    that were not upserted again in between."""

    def __init__(self):
        self.folders = {}
        self.items = {}
        self.adds = {}
        self.stale = {}

    def apply(self, events):
        for e in events:
            ev = e.get("event", "")
            if ev in ("folder_add", "folder_change"):
                self.folders[e["server_id"]] = e
            elif ev == "folder_delete":
                self.folders.pop(e["server_id"], None)
                for k in [k for k in self.items if k[0] == e["server_id"]]:
                    del self.items[k]
            elif ev in ("item_add", "item_change"):
                key = (e["folder"], e["server_id"])
                self.items[key] = e
                self.stale.get(e["folder"], set()).discard(key)
                if ev == "item_add":
                    self.adds[key] = self.adds.get(key, 0) + 1
            elif ev == "item_delete":
                self.items.pop((e["folder"], e["server_id"]), None)
            elif ev == "resync_begin":
                fid = e.get("folder") or e.get("server_id")
                self.stale[fid] = {k for k in self.items if k[0] == fid}
            elif ev == "resync_end":
                fid = e.get("folder") or e.get("server_id")
                for k in self.stale.pop(fid, set()):
                    self.items.pop(k, None)
        return self


def field(event, name):
    """Value of the field at path @name ("Subject", "Body.Data"); without an exact match,
    the first field whose path ends with ".name"."""
    fields = event.get("fields", [])
    for k, v in fields:
        if k == name:
            return v
    for k, v in fields:
        if k.endswith("." + name):
            return v
    return None


def sync_requests(reqs):
    return [r for r in reqs if r.get("command") == "Sync"]


def sync_keys(req):
    """[(CollectionId, SyncKey)] of one Sync request (from the decoded body XML)."""
    import xml.etree.ElementTree as ET
    out = []
    xml = req.get("body_xml") or ""
    if not xml:
        return out
    try:
        root = ET.fromstring(xml)
    except ET.ParseError:
        return out
    for coll in root.iter():
        if coll.tag.split("}")[-1] != "Collection":
            continue
        key = cid = None
        for ch in coll:
            t = ch.tag.split("}")[-1]
            if t == "SyncKey":
                key = ch.text
            elif t == "CollectionId":
                cid = ch.text
        out.append((cid, key))
    return out


def new_tmp(name):
    return tempfile.mkdtemp(prefix="easd-session-%s-" % name)


def cleanup(tmp, ok):
    if ok and not os.environ.get("EASD_KEEP_TMP"):
        shutil.rmtree(tmp, ignore_errors=True)


def rng_from_env():
    seed = int(os.environ.get("EASD_SEED", random.SystemRandom().randrange(1 << 30)))
    return seed, random.Random(seed)
