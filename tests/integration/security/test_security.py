#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Issue 11 end to end: eas-sync (engine + Linux port, real TLS) against tools/eas-testserver
over HTTPS on 127.0.0.1 and a capture server on 127.0.0.2 (capture.py) that records every
connection and request. Loopback only.

Each numbered check fails if its finding comes back:
 1. plaintext credentials: an http:// URL is refused before any connection; with
    --allow-plaintext-auth the capture sees Authorization (the positive control), and its
    Retry-After of ~127 years is capped and reported;
 2. a 451 to another host: reported as a "redirect" event, nothing reaches the capture, exit
    non-zero with "redirect needs approval"; with --allow-redirect for that host it is
    followed (the capture then sees the request);
 3. a 451 from https to http is never followed, allow-list or not;
 4. a stored redirect is dropped when --url changes: the old server hears nothing more;
 5. a missing or unusable --ca-file and a password file others can read are immediate,
    permanent errors: no request leaves;
 6. the state dir is tightened to 0700 and every file eas-sync writes is 0600, whatever the
    caller's umask; the running process has a core size limit of 0;
 7. an item whose JSON is over 64 KiB is printed whole (every line parses);
 8. a corrupt account record is rebuilt by provisioning again; a corrupt outbox record is
    reported with its record key and the run exits non-zero.
"""
import json
import os
import shutil
import ssl
import stat
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import capture  # noqa: E402

EAS_SYNC, SERVER, MAILBOX = sys.argv[1:4]
EAS = "/Microsoft-Server-ActiveSync"


def check(cond, msg):
    if not cond:
        raise SystemExit("FAIL: " + msg)
    print("ok:", msg)


class TestServer:
    """eas-testserver over HTTPS (certificate for localhost made per run)."""

    def __init__(self, tmp, name):
        self.dir = os.path.join(tmp, name)
        os.makedirs(self.dir)
        self.cert, key = capture.make_cert(self.dir, "localhost")
        port_file = os.path.join(self.dir, "port")
        self.proc = subprocess.Popen(
            [sys.executable, SERVER, "--mailbox", MAILBOX, "--port", "0", "--port-file",
             port_file, "--tls-cert", self.cert, "--tls-key", key,
             "--log", os.path.join(self.dir, "server.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(200):
            if os.path.exists(port_file) and open(port_file).read().strip():
                break
            time.sleep(0.05)
        self.port = int(open(port_file).read().strip())
        self.base = "https://localhost:%d" % self.port
        self.url = self.base + EAS
        self.tls = ssl.create_default_context(cafile=self.cert)

    def control(self, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + "/_control/" + path, data=data,
                                     method="POST" if data is not None else "GET",
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10, context=self.tls) as r:
            return json.loads(r.read())

    def requests(self, device):
        return [r for r in self.control("requests?bodies=0")["requests"]
                if r.get("device") == device]

    def stop(self):
        self.proc.kill()
        self.proc.wait()


class Run:
    def __init__(self, p):
        self.rc, self.stderr = p.returncode, p.stderr
        self.lines = p.stdout.splitlines()
        self.events = []
        self.bad_lines = 0
        for line in self.lines:
            try:
                self.events.append(json.loads(line))
            except ValueError:
                self.bad_lines += 1

    def of(self, kind):
        return [e for e in self.events if e.get("event") == kind]

    def summary(self):
        s = self.of("summary")
        return s[-1] if s else {}


def password_file(tmp, mode=0o600):
    pw = os.path.join(tmp, "pw-%o" % mode)
    with open(pw, "w") as f:
        f.write("testpass\n")
    os.chmod(pw, mode)
    return pw


def sync(tmp, url, device, state, *extra, ca=None, timeout=60, pw=None):
    cmd = [EAS_SYNC, "--url", url, "--user", "testuser", "--password-file",
           pw or password_file(tmp), "--device-id", device, "--state", state,
           "--classes", "Calendar", "--timeout", str(timeout)]
    if ca:
        cmd += ["--ca-file", ca]
    p = subprocess.run(cmd + list(extra), capture_output=True, text=True, timeout=timeout + 60)
    return Run(p)


def main():
    os.umask(0o022)  # like a user's shell: eas-sync must make its files private itself
    with tempfile.TemporaryDirectory() as tmp:
        ccert, ckey = capture.make_cert(tmp, capture.HOST)
        cap = capture.Capture(ccert, ckey, log=os.path.join(tmp, "capture.jsonl"))
        srv = TestServer(tmp, "srv1")
        srv2 = None
        try:
            cap_plain = "http://%s:%d%s" % (capture.HOST, cap.plain.port, EAS)
            cap_tls = "https://%s:%d%s" % (capture.HOST, cap.tls.port, EAS)

            # ---- 1. plaintext credentials ----
            r = sync(tmp, cap_plain, "SEC1", os.path.join(tmp, "s1"), timeout=10)
            check(r.rc == 2 and "plain http" in r.stderr,
                  "http:// with a password is refused at start (exit 2, says why)")
            check(cap.snapshot() == [], "... and nothing reached the capture server")
            r = sync(tmp, cap_plain, "SEC1", os.path.join(tmp, "s1"), "--allow-plaintext-auth",
                     timeout=8)
            reqs = [e for e in cap.snapshot() if e["kind"] == "request"]
            check(reqs and reqs[0]["authorization"],
                  "positive control: with --allow-plaintext-auth the capture sees Authorization")
            check(any(e["error"] == "EAS_ERR_LIMIT" and "Retry-After" in e["what"]
                      for e in r.of("error")),
                  "a Retry-After of ~127 years is capped and reported")
            check(len(reqs) >= 1 and r.rc != 0, "... and the run does not pretend to succeed")
            cap.reset()

            # ---- 2. 451 to another host ----
            srv.control("faults", {"command": "FolderSync", "type": "http", "status": 451,
                                   "location": cap_tls, "device": "SEC2"})
            r = sync(tmp, srv.url, "SEC2", os.path.join(tmp, "s2"), ca=srv.cert)
            check(r.rc != 0, "a 451 to another host without approval: non-zero exit")
            check("redirect needs approval" in r.stderr and cap_tls in r.stderr,
                  "... stderr says: redirect needs approval, and names the URL")
            check([e["url"] for e in r.of("redirect")] == [cap_tls],
                  "... one redirect event carrying the new URL")
            check(r.summary().get("state") == "redirect-pending" and
                  r.summary().get("error") == "EAS_ERR_HTTP_REDIRECT_APPROVAL",
                  "... the run ends in redirect-pending")
            check(cap.snapshot() == [],
                  "... the capture server saw no connection: no credentials, no body")
            before = len(srv.requests("SEC2"))
            srv.control("faults", {"command": "FolderSync", "type": "http", "status": 451,
                                   "location": cap_tls, "device": "SEC2"})
            both = os.path.join(tmp, "both.pem")  # trusts the server and the capture
            with open(both, "w") as f:
                f.write(open(srv.cert).read() + open(ccert).read())
            r = sync(tmp, srv.url, "SEC2", os.path.join(tmp, "s2"), "--allow-redirect",
                     capture.HOST, ca=both, timeout=8)
            reqs = [e for e in cap.snapshot() if e["kind"] == "request"]
            check(reqs and reqs[0]["authorization"] and reqs[0]["path"].startswith(EAS),
                  "approved with --allow-redirect: the request goes there (positive control)")
            cap.reset()
            check(len(srv.requests("SEC2")) > before, "... after the 451 from the configured server")

            # ---- 3. https -> http never ----
            srv.control("faults", {"command": "FolderSync", "type": "http", "status": 451,
                                   "location": cap_plain, "device": "SEC3"})
            r = sync(tmp, srv.url, "SEC3", os.path.join(tmp, "s3"), "--allow-redirect",
                     capture.HOST, "--allow-plaintext-auth", ca=srv.cert, timeout=6)
            check(any(e["error"] == "EAS_ERR_HTTP_URL" for e in r.of("error")),
                  "a 451 from https to http is refused (EAS_ERR_HTTP_URL)")
            check(cap.snapshot() == [], "... even with the host allowed: nothing reached it")

            # ---- 4. stored redirect and a changed --url ----
            srv.control("faults", {"command": "FolderSync", "type": "http", "status": 451,
                                   "location": srv.base + "/alt" + EAS, "device": "SEC4"})
            st4 = os.path.join(tmp, "s4")
            r = sync(tmp, srv.url, "SEC4", st4, ca=srv.cert)
            reqs = srv.requests("SEC4")
            check(r.rc == 0 and any(q["path"].startswith("/alt/") for q in reqs),
                  "a 451 on the same origin is followed and the sync completes")
            r = sync(tmp, srv.url, "SEC4", st4, ca=srv.cert)
            check(r.rc == 0 and r.of("server_moved"),
                  "the next run adopts the stored redirect and says so (server_moved)")
            srv2 = TestServer(tmp, "srv2")
            seq = len(srv.requests("SEC4"))
            r = sync(tmp, srv2.url, "SEC4", st4, ca=srv2.cert)
            check(r.rc == 0 and srv2.requests("SEC4"), "with another --url the sync goes there")
            check(len(srv.requests("SEC4")) == seq,
                  "... and the old server (and its redirect) hears nothing more")
            check(any("configured URL changed" in e["what"] for e in r.of("error")),
                  "... the dropped redirect is reported")
            check(not r.of("server_moved"), "... and not adopted")

            # ---- 5. bad CA file, readable password file ----
            for ca, what in ((os.path.join(tmp, "missing.pem"), "missing"),
                             (password_file(tmp), "not a certificate")):
                r = sync(tmp, srv.url, "SEC5", os.path.join(tmp, "s5"), ca=ca)
                check(r.rc == 2 and "--ca-file" in r.stderr,
                      "a %s --ca-file is a permanent error at start (exit 2)" % what)
            check(srv.requests("SEC5") == [], "... nothing was sent")
            r = sync(tmp, srv.url, "SEC5", os.path.join(tmp, "s5"), ca=srv.cert,
                     pw=password_file(tmp, 0o644))
            check(r.rc == 2 and "chmod 600" in r.stderr,
                  "a password file others can read is refused, with the fix")
            check(srv.requests("SEC5") == [], "... nothing was sent")

            # ---- 6. file modes, core dumps ----
            st6 = os.path.join(tmp, "s6")
            os.mkdir(st6)
            os.chmod(st6, 0o755)
            mime = os.path.join(tmp, "msg.eml")
            with open(mime, "w") as f:
                f.write("From: testuser@example.test\nTo: x@example.test\nSubject: hi\n\nhello\n")
            r = sync(tmp, srv.url, "SEC6", st6, "--classes", "Email", "--send-mime", mime,
                     ca=srv.cert)
            check(r.rc == 0, "a sync that sends a message completes")
            check(stat.S_IMODE(os.stat(st6).st_mode) == 0o700, "the state dir was tightened to 0700")
            modes = {n: stat.S_IMODE(os.stat(os.path.join(st6, n)).st_mode)
                     for n in os.listdir(st6)}
            check(any(n.startswith("outgoing.") for n in modes) and
                  any(n.startswith("send.") for n in modes),
                  "the draft and its marker are there (%d files)" % len(modes))
            check(all(m & 0o077 == 0 for m in modes.values()),
                  "every file eas-sync wrote is private: %s" %
                  sorted(set("%o" % m for m in modes.values())))
            cap.hold = True
            p = subprocess.Popen([EAS_SYNC, "--url", cap_tls, "--user", "u", "--password-file",
                                  password_file(tmp), "--device-id", "SEC6B", "--state",
                                  os.path.join(tmp, "s6b"), "--ca-file", ccert, "--timeout",
                                  "20"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for _ in range(200):
                if any(e["kind"] == "request" for e in cap.snapshot()):
                    break
                time.sleep(0.05)
            limits = open("/proc/%d/limits" % p.pid).read()
            p.kill()
            p.wait()
            cap.hold = False
            cap.reset()
            core = [line.split() for line in limits.splitlines()
                    if line.startswith("Max core file size")]
            check(core and core[0][4:6] == ["0", "0"],
                  "the running eas-sync has a core file size limit of 0 (soft and hard)")

            # ---- 7. long JSON lines ----
            srv.control("changes", {"changes": [{"op": "new_mail", "subject": "long",
                                                 "text": "\x01\"" * 12000 + "END"}]})
            r = sync(tmp, srv.url, "SEC7", os.path.join(tmp, "s7"), "--classes", "Email",
                     ca=srv.cert)
            longest = max(len(line) for line in r.lines)
            check(r.rc == 0 and r.bad_lines == 0,
                  "every output line is valid JSON (%d lines)" % len(r.lines))
            check(longest > 65536, "... including an item line of %d bytes" % longest)

            # ---- 8. corrupt records ----
            st8 = os.path.join(tmp, "s8")
            r = sync(tmp, srv.url, "SEC8", st8, ca=srv.cert)
            check(r.rc == 0, "first sync for the corrupt-record checks")
            with open(os.path.join(st8, "r.acct0.acct"), "r+b") as f:
                data = bytearray(f.read())
                data[-1] ^= 0x55
                f.seek(0)
                f.write(data)
            seq = len(srv.requests("SEC8"))
            r = sync(tmp, srv.url, "SEC8", st8, ca=srv.cert)
            cmds = [q["command"] for q in srv.requests("SEC8")[seq:]]
            check(r.rc == 0 and "Provision" in cmds,
                  "a corrupt account record is rebuilt by provisioning again (%s)" % cmds[:3])
            check(any(e["error"] == "EAS_ERR_STORE_CORRUPT" for e in r.of("error")),
                  "... with a warning event")
            r = sync(tmp, srv.url, "SEC8", st8, ca=srv.cert)
            check(r.rc == 0 and not r.of("error"), "... and the next run is clean")
            with open(os.path.join(st8, "r.acct0.o2"), "wb") as f:
                f.write(b"\x00garbage that is no outbox record")
            os.chmod(os.path.join(st8, "r.acct0.o2"), 0o600)
            r = sync(tmp, srv.url, "SEC8", st8, ca=srv.cert)
            lost = [e for e in r.of("error") if e.get("record")]
            check(lost and lost[0]["record"] == "acct0.o2" and "lost" in lost[0]["what"],
                  "a corrupt outbox record is reported, naming the record")
            check(r.rc != 0 and r.summary().get("lost") == 1,
                  "... and the run exits non-zero (lost: 1)")
        finally:
            srv.stop()
            if srv2:
                srv2.stop()
    print("all passed")


if __name__ == "__main__":
    main()
