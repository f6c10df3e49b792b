#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""The device authorization grant's error answers (RFC 8628 3.5), seen by eas-sync.

Between eas-sync and the authorization server sits a recorder (this file) that notes when
each request arrived and what it got. Where Glewlwyd itself can give the answer, the
recorder only forwards to it; otherwise it answers from a script:

  slow_down      Glewlwyd: its polling interval is 3 s but the recorder advertises 1 s (a
                 server whose advertised and enforced intervals differ); Glewlwyd answers
                 the second poll slow_down. eas-sync must then wait 1 + 5 = 6 s and keep that
                 interval; the user approves, the token arrives.
  expired_token  Glewlwyd: its device codes live 12 s but the recorder advertises 600 s (a
                 server that expires codes early, or a skewed clock), so eas-sync's own
                 deadline is not what ends it; Glewlwyd answers expired_token: eas-sync stops
                 at once with a clear error, no further poll.
  access_denied  scripted: Glewlwyd 2.7's device page has no "deny" (the user can only
                 approve or walk away), so a token endpoint in this test answers
                 authorization_pending, then access_denied: eas-sync stops at once, state
                 authorization_needed, nothing stored.

Poll times are checked against lower bounds only (the protocol's "at least"); the measured
gaps are printed.

Arguments: eas-sync.
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import glewlwyd  # noqa: E402

EAS_SYNC = sys.argv[1]
GW_INTERVAL = 3     # what Glewlwyd enforces
GW_EXPIRATION = 12  # how long Glewlwyd's device codes live


def check(cond, msg):
    if not cond:
        raise SystemExit("FAIL: " + msg)
    print("ok:", msg, flush=True)


def closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Recorder:
    """The device authorization and token endpoints eas-sync talks to.

    upstream: (device_url, token_url) of a real server to forward to, with `advertise`
    overriding fields of its device authorization answer; or None and `script`, a list of
    token endpoint answers (status, json) given in turn. `after_poll(n, error)` runs after
    the n-th poll (1-based) was answered."""

    def __init__(self, upstream=None, advertise=None, script=None, after_poll=None):
        self.upstream = upstream
        self.advertise = advertise or {}
        self.script = list(script or [])
        self.after_poll = after_poll
        self.device_at = None
        self.polls = []  # (monotonic time, HTTP status, error or "token")
        rec = self

        class H(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.path.endswith("/device"):
                    st, obj = rec.device(body)
                    rec.device_at = time.monotonic()
                else:
                    t = time.monotonic()
                    st, obj = rec.token(body)
                    rec.polls.append((t, st, obj.get("error") or
                                      ("token" if "access_token" in obj else "?")))
                data = json.dumps(obj).encode()
                self.send_response(st)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                if not self.path.endswith("/device") and rec.after_poll:
                    rec.after_poll(len(rec.polls), rec.polls[-1][2])

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = "http://127.0.0.1:%d" % self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def _forward(self, url, body):
        req = urllib.request.Request(url, data=body, method="POST", headers={
            "Content-Type": "application/x-www-form-urlencoded"})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, json.loads(r.read() or b"{}")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"{}")

    def device(self, body):
        if self.upstream is None:
            return 200, {"device_code": "dc-scripted-0001", "user_code": "ABCD-EFGH",
                         "verification_uri": self.url + "/verify", "expires_in": 600,
                         "interval": 1}
        st, obj = self._forward(self.upstream[0], body)
        if st == 200:
            self.user_code = obj.get("user_code")
            obj.update(self.advertise)
        return st, obj

    def token(self, body):
        if self.upstream is None:
            return self.script.pop(0) if self.script else (500, {"error": "script_ended"})
        return self._forward(self.upstream[1], body)

    def gaps(self):
        times = [self.device_at] + [p[0] for p in self.polls]
        return [round(b - a, 2) for a, b in zip(times, times[1:])]

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def eas_sync(rec, state, client_id, scope, wait=60):
    """eas-sync with the device flow against the recorder. The EAS URL is a closed port:
    only the authorization is looked at. Returns (exit code, stdout, stderr)."""
    args = [EAS_SYNC, "--url", "http://127.0.0.1:%d/Microsoft-Server-ActiveSync" % closed_port(),
            "--user", "alice", "--device-id", "deverr01", "--state", state,
            "--classes", "Calendar", "--timeout", "2", "--auth", "oauth-device",
            "--oauth-client-id", client_id, "--oauth-scope", scope,
            "--oauth-device-endpoint", rec.url + "/device",
            "--oauth-token-endpoint", rec.url + "/token",
            "--oauth-wait", str(wait), "--allow-plaintext-auth"]
    p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       timeout=120)
    return p.returncode, p.stdout, p.stderr


def summary(out):
    for line in reversed(out.splitlines()):
        try:
            ev = json.loads(line)
        except ValueError:
            continue
        if ev.get("event") == "summary":
            return ev
    return {}


def token_file(state):
    return os.path.join(state, "oauth-token")


def slow_down(tmp, gw):
    d = gw.describe()
    approved = []

    def after(n, err):
        if err == "slow_down" and not approved:
            approved.append(gw.approve_device(rec.user_code))

    rec = Recorder(upstream=(d["device_authorization_endpoint"], d["token_endpoint"]),
                   advertise={"interval": 1}, after_poll=after)
    try:
        state = os.path.join(tmp, "state-slow")
        rc, out, err = eas_sync(rec, state, d["client_id"], d["scope"])
    finally:
        rec.close()
    errors = [p[2] for p in rec.polls]
    gaps = rec.gaps()
    print("slow_down: polls %s, gaps %s s" % (errors, gaps), flush=True)
    check(errors[:2] == ["authorization_pending", "slow_down"],
          "Glewlwyd answered the second poll (1 s after the first) slow_down: %s" % errors)
    check(errors[-1] == "token" and "slow_down" not in errors[2:],
          "after slowing down eas-sync got the token without another slow_down: %s" % errors)
    check(gaps[0] >= 1.0 and gaps[1] >= 1.0,
          "polled no faster than the advertised 1 s before slow_down (%s)" % gaps[:2])
    check(all(g >= 6.0 for g in gaps[2:]),
          "after slow_down every poll waited at least 1 + 5 = 6 s (%s)" % gaps[2:])
    check(summary(out).get("oauth") == "ready" and os.path.exists(token_file(state)),
          "the token was stored (summary %s)" % summary(out))


def expired(tmp, gw):
    d = gw.describe()
    rec = Recorder(upstream=(d["device_authorization_endpoint"], d["token_endpoint"]),
                   advertise={"expires_in": 600})
    t0 = time.monotonic()
    try:
        state = os.path.join(tmp, "state-expired")
        rc, out, err = eas_sync(rec, state, d["client_id"], d["scope"], wait=600)
    finally:
        rec.close()
    took = time.monotonic() - t0
    errors = [p[2] for p in rec.polls]
    print("expired_token: polls %s, gaps %s s, eas-sync ran %.1f s" % (errors, rec.gaps(), took),
          flush=True)
    check(errors and errors[-1] == "expired_token" and
          all(e == "authorization_pending" for e in errors[:-1]),
          "Glewlwyd's device code expired (%d s) while eas-sync polled: %s" %
          (GW_EXPIRATION, errors))
    check(len(errors) <= GW_EXPIRATION // GW_INTERVAL + 2,
          "no poll after expired_token (%d polls in all)" % len(errors))
    check(rc != 0 and "authorization failed" in err and "expired_token" in err,
          "eas-sync said why it stopped: %s" % err.strip().splitlines()[-1:])
    check(summary(out).get("error") == "EAS_ERR_TIMEOUT" and not os.path.exists(token_file(state)),
          "summary error EAS_ERR_TIMEOUT, no token stored (%s)" % summary(out))
    check(took < 600, "ended by the server's answer, not by the 600 s eas-sync was told")


def denied(tmp):
    rec = Recorder(script=[(400, {"error": "authorization_pending"}),
                           (400, {"error": "access_denied",
                                  "error_description": "the user declined"})])
    try:
        state = os.path.join(tmp, "state-denied")
        rc, out, err = eas_sync(rec, state, "easd-device", "EAS.AccessAsUser.All offline_access")
        time.sleep(1.5)  # a client that kept polling would be seen now
    finally:
        rec.close()
    errors = [p[2] for p in rec.polls]
    print("access_denied: polls %s, gaps %s s" % (errors, rec.gaps()), flush=True)
    check(errors == ["authorization_pending", "access_denied"],
          "scripted token endpoint: pending, then access_denied; no poll after it (%s)" % errors)
    check(rec.gaps()[0] >= 1.0 and rec.gaps()[1] >= 1.0, "polled at the 1 s interval")
    s = summary(out)
    check(rc != 0 and s.get("oauth") == "authorization_needed" and
          s.get("error") == "EAS_ERR_AUTH" and "access_denied" in err,
          "eas-sync stopped: authorization needed, EAS_ERR_AUTH, the reason on stderr (%s)" % s)
    check(not os.path.exists(token_file(state)) or
          "access_token" not in open(token_file(state)).read(),
          "no token stored")


def main():
    tmp = tempfile.mkdtemp(prefix="easd-deverr-")
    try:
        denied(tmp)
        gw = glewlwyd.Glewlwyd(os.path.join(tmp, "gw"), device_interval=GW_INTERVAL,
                               device_expiration=GW_EXPIRATION)
        with gw:
            slow_down(tmp, gw)
            expired(tmp, gw)
        print("PASS", flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
