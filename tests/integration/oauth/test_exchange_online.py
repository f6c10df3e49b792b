#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""eas-sync against an "Exchange Online" as it is in 2026, with a real OAuth server.

Glewlwyd (Debian) is configured from scratch on loopback (glewlwyd.py); tools/eas-testserver
runs --profile exchange-online: only 16.1, Basic refused, bearer tokens checked by Glewlwyd's
introspection endpoint, a routing cookie that must come back, DeviceInformation required.

  device_flow    first sync with --auth oauth-device; the scripted user approves the code
                 through Glewlwyd's own login and consent API; every command at 16.1 with a
                 bearer token; the token file is 0600 and no token is in eas-sync's output
  cookie         the cookie set on the first request came back on every later one (the
                 server counts refusals) and, from the store, in a new process; a request
                 without it is refused (the check is real)
  basic_refused  the same server refuses Basic (eas-sync --auth basic stops at AUTH_FAILED)
  refresh_early  --oauth-margin larger than the token lifetime: refreshed before use, no 401
  expiry_mid     the server revokes the access token of a request mid-session (at Glewlwyd):
                 401, one refresh, the request replayed, the sync complete with every item
  revoked        the refresh token and the access token revoked at Glewlwyd: one 401, one
                 refused refresh, state "authorization_needed" persisted, no loop
  pkce           --auth oauth-pkce: the scripted browser follows the authorization URL and
                 delivers the redirect to eas-sync's loopback listener
  signals        X-MS-Credentials-Expire becomes an event; X-MS-RP makes FolderSync run again
  daemon         easd with auth = oauth-device: logs the code, the scripted user approves,
                 --once completes
  occurrence     eas_item_change_occurrence() at 16.1: Sync Change with AirSyncBase:InstanceId,
                 Calendar:Location sent as AirSyncBase:Location/DisplayName

Arguments: eas-sync, eas-testserver, mailbox. A transcript of the device flow is written to
$EASD_OAUTH_TRANSCRIPT when set.
"""
import json
import os
import shutil
import socket
import ssl
import stat
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import glewlwyd  # noqa: E402

MKCERTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tls", "mkcerts.sh")

EAS_SYNC, SERVER, MAILBOX = sys.argv[1:4]
EASD = sys.argv[4] if len(sys.argv) > 4 else None  # the daemon, when built
events_first = []  # the first sync's events (items to change later)
USER, PASSWORD = "testuser", "testpass"


def check(cond, msg):
    if not cond:
        raise SystemExit("FAIL: " + msg)
    print("ok:", msg, flush=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


class EasServer:
    n = 0

    def __init__(self, tmp, gw, *extra, tls=False):
        EasServer.n += 1
        self.log = os.path.join(tmp, "server%d.log" % EasServer.n)
        port_file = os.path.join(tmp, "port%d" % EasServer.n)
        d = gw.describe()
        self.ca = None
        self.ctx = None
        if tls:
            # certificates from the TLS tests' script (a CA and a leaf for localhost)
            certs = os.path.join(tmp, "certs")
            subprocess.run(["sh", MKCERTS, certs], check=True, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
            self.ca = os.path.join(certs, "ca.pem")
            self.ctx = ssl.create_default_context(cafile=self.ca)
            extra = ("--tls-cert", os.path.join(certs, "good.pem"), "--tls-key",
                     os.path.join(certs, "leaf.key")) + extra
        self.proc = subprocess.Popen(
            ["/usr/bin/python3", SERVER, "--port", "0", "--port-file", port_file,
             "--mailbox", MAILBOX, "--log", self.log, "--profile", "exchange-online",
             "--oauth-introspect", d["introspection_endpoint"],
             "--oauth-token", d["token_endpoint"], "--oauth-revoke", d["revocation_endpoint"],
             "--oauth-rs-client", "%s:%s" % (d["rs_client_id"], d["rs_client_secret"]),
             *extra], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            if os.path.exists(port_file) and open(port_file).read().strip():
                self.port = int(open(port_file).read().strip())
                break
            time.sleep(0.1)
        else:
            self.proc.kill()
            raise SystemExit("test server did not start")
        self.base = ("https://localhost:%d" if tls else "http://127.0.0.1:%d") % self.port
        self.url = self.base + "/Microsoft-Server-ActiveSync"

    def control(self, name):
        with urllib.request.urlopen(self.base + "/_control/" + name, timeout=10,
                                    context=self.ctx) as r:
            return json.loads(r.read())

    def requests(self):
        return [r for r in self.control("requests?bodies=0")["requests"] if not r.get("control")]

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


def eas_sync_args(srv, gw, state, auth="oauth-device", *extra):
    d = gw.describe()
    return [EAS_SYNC, "--url", srv.url, "--user", USER, "--device-id", "exo" + auth[-4:],
            "--state", state, "--classes", "Calendar,Contacts", "--timeout", "60",
            "--auth", auth, "--oauth-client-id", d["client_id"], "--oauth-scope", d["scope"],
            "--oauth-device-endpoint", d["device_authorization_endpoint"],
            "--oauth-token-endpoint", d["token_endpoint"],
            "--oauth-authorize-endpoint", d["authorization_endpoint"], "--oauth-wait", "60",
            "--allow-plaintext-auth",  # the test server runs plain http on loopback
            *extra]


def run(args, on_line=None, timeout=120):
    """Run eas-sync; on_line(event) sees every JSON line as it arrives. Returns
    (exit code, events, stderr text, stdout text)."""
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    err_lines = []
    t = threading.Thread(target=lambda: err_lines.extend(p.stderr), daemon=True)
    t.start()
    events, out = [], []
    deadline = time.monotonic() + timeout
    for line in p.stdout:
        out.append(line)
        try:
            ev = json.loads(line)
        except ValueError:
            continue
        events.append(ev)
        if on_line:
            on_line(ev)
        if time.monotonic() > deadline:
            p.kill()
            break
    p.wait(timeout=30)
    t.join(timeout=5)
    return p.returncode, events, "".join(err_lines), "".join(out)


def summary(events):
    s = [e for e in events if e.get("event") == "summary"]
    return s[-1] if s else {}


def approver(gw, seen):
    def on(ev):
        if ev.get("event") == "oauth_device":
            seen.append(ev)
            loc = gw.approve_device(ev["user_code"])
            seen.append({"approved": loc})
    return on


def token_file(state):
    return os.path.join(state, "oauth-token")


def main():
    tmp = tempfile.mkdtemp(prefix="easd-exo-")
    try:
        scenarios(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def scenarios(tmp):
    redirect_port = free_port()
    gw = glewlwyd.Glewlwyd(os.path.join(tmp, "gw"), user=USER, password="gw-" + PASSWORD,
                           redirect_uris=["http://127.0.0.1:%d/" % redirect_port])
    with gw:
        scenarios_with(tmp, gw, redirect_port)


def scenarios_with(tmp, gw, redirect_port):
    servers = []
    try:
        # ---- device flow, first sync at 16.1 ----
        srv = EasServer(os.path.join(tmp), gw)
        servers.append(srv)
        state = os.path.join(tmp, "state-dev")
        shown = []
        rc, events, err, out = run(eas_sync_args(srv, gw, state), approver(gw, shown))
        global events_first
        events_first = events
        transcript = os.environ.get("EASD_OAUTH_TRANSCRIPT")
        if transcript:
            with open(transcript, "w") as fh:
                fh.write("$ eas-sync " + " ".join(eas_sync_args(srv, gw, state)[1:]) + "\n")
                fh.write("--- stderr ---\n" + err + "--- stdout (first and last lines) ---\n")
                lines = out.splitlines()
                fh.write("\n".join(lines[:4] + ["..."] + lines[-2:]) + "\n")
        s = summary(events)
        if transcript:
            with open(transcript, "a") as fh:
                fh.write("--- scripted user (Glewlwyd API: POST /api/auth/ password, PUT "
                         "/api/auth/grant/%s, GET /api/oidc/device?code=%s&g_continue) ---\n"
                         "redirected to: %s\n" % (gw.describe()["client_id"],
                                                   shown[0]["user_code"] if shown else "-",
                                                   shown[1]["approved"] if len(shown) > 1
                                                   else "-"))
        check(len(shown) == 2 and shown[0]["user_code"] and
              shown[0]["verification_uri"].startswith(gw.issuer),
              "device flow: the URL and user code were shown once (%s)" %
              (shown[0]["user_code"] if shown else "-"))
        check(rc == 0 and s.get("complete") and s.get("oauth") == "ready",
              "first sync complete with a token from the device flow (rc %d, %s)" % (rc, s))
        reqs = srv.requests()
        posts = [r for r in reqs if r["method"] == "POST"]
        check(posts and all(r.get("version") == "16.1" for r in posts if r.get("status") == 200),
              "every command that succeeded ran at 16.1 (%d commands)" % len(posts))
        check(all(r.get("auth") == "bearer" for r in reqs if r.get("status") == 200),
              "every accepted request carried a bearer token the OAuth server called active")
        check(any(r.get("command") == "Sync" and r.get("status") == 200 for r in reqs),
              "items were synced (Sync 200)")
        st = os.stat(token_file(state))
        check(stat.S_IMODE(st.st_mode) == 0o600, "token file is 0600")
        tokens = json.load(open(token_file(state)))
        check(tokens["refresh_token"] not in err + out and tokens["access_token"] not in err + out,
              "neither token appears in eas-sync's output")
        exo = srv.control("exo")
        check(exo["devinfo_missing"] == 0 and exo["basic_refused"] == 0,
              "Settings DeviceInformation arrived before the first FolderSync (no Status 165); "
              "no Basic sent")
        cmds = [r.get("command") or r["method"] for r in reqs if r.get("status") == 200]
        first = cmds.index("FolderSync") if "FolderSync" in cmds else -1
        check(first > 0 and cmds[first - 1] == "Settings" and cmds.count("Settings") == 1 and
              "Provision" in cmds[:first],
              "Settings DeviceInformation once, after Provision, right before the first "
              "FolderSync: %s" % cmds[:first + 1])

        # ---- cookies ----
        check(exo["cookie_issued"] == 1 and exo["cookie_missing"] == 0,
              "the routing cookie was set once and returned on every later request")
        returned = [r for r in reqs if r.get("cookie") == "returned"]
        check(len(returned) == len(reqs) - 1, "cookie returned on %d of %d requests" %
              (len(returned), len(reqs)))
        n0 = len(reqs)
        rc, events, err, out = run(eas_sync_args(srv, gw, state))
        reqs2 = srv.requests()[n0:]
        check(rc == 0 and summary(events).get("complete") and reqs2 and
              all(r.get("cookie") == "returned" for r in reqs2),
              "a new process returned the persisted cookie from its first request on")
        check(not any(r.get("command") == "Settings" for r in reqs2),
              "a new process does not send the device information again (values unchanged)")
        # A firmware update changed the OS string: sent once more, before anything else.
        fw = ("--device-model", "Acme Panel 7", "--device-os", "AcmeOS 2.1")
        n1 = len(srv.requests())
        rc, events, err, out = run(eas_sync_args(srv, gw, state, "oauth-device", *fw))
        reqs3 = [r for r in srv.requests()[n1:] if r["method"] == "POST"]
        dev = srv.control("state?device=exovice")["devices"][USER]["exovice"]
        check(rc == 0 and summary(events).get("complete") and reqs3 and
              reqs3[0].get("command") == "Settings" and
              sum(1 for r in reqs3 if r.get("command") == "Settings") == 1 and
              dev["info"].get("OS") == "AcmeOS 2.1" and dev["info"].get("Model") == "Acme Panel 7",
              "after a firmware update (new OS/model strings) Settings went once more, first: %s"
              % dev["info"])
        n2 = len(srv.requests())
        rc, events, err, out = run(eas_sync_args(srv, gw, state, "oauth-device", *fw))
        check(rc == 0 and not any(r.get("command") == "Settings" for r in srv.requests()[n2:]),
              "and not again on the next start with the same values")
        req = urllib.request.Request(srv.url + "?Cmd=FolderSync&User=%s&DeviceId=exovice&DeviceType=t" %
                                     USER, data=b"", method="POST", headers={
                                         "Authorization": "Bearer " +
                                         json.load(open(token_file(state)))["access_token"],
                                         "MS-ASProtocolVersion": "16.1"})
        try:
            urllib.request.urlopen(req, timeout=10)
            code = 200
        except urllib.error.HTTPError as e:
            code = e.code
        check(code == 403, "a request with a valid token but without the cookie is refused (403)")

        # ---- Basic refused ----
        pw = os.path.join(tmp, "pw")
        with open(pw, "w") as fh:
            fh.write(PASSWORD + "\n")
        os.chmod(pw, 0o600)
        rc, events, err, out = run([EAS_SYNC, "--url", srv.url, "--user", USER, "--password-file",
                                    pw, "--device-id", "basic1", "--state",
                                    os.path.join(tmp, "state-basic"), "--timeout", "30",
                                    "--allow-plaintext-auth"])
        s = summary(events)
        check(rc != 0 and s.get("state") == "auth-failed" and srv.control("exo")["basic_refused"] >= 1,
              "Basic is refused by the exchange-online profile (%s)" % s.get("state"))

        # ---- refresh before expiry ----
        n0 = len(srv.requests())
        rc, events, err, out = run(eas_sync_args(srv, gw, state, "oauth-device",
                                                 "--oauth-margin", "7200"))
        s = summary(events)
        reqs2 = srv.requests()[n0:]
        check(rc == 0 and s.get("complete") and s.get("oauth_refreshes", 0) >= 1 and
              not any(r.get("status") == 401 for r in reqs2),
              "a token about to expire is refreshed before it is used (%d refreshes, no 401)" %
              s.get("oauth_refreshes", 0))
    finally:
        for s in servers:
            s.stop()

    # ---- access token dies mid-session: refresh once, replay, nothing lost ----
    try:
        srv = EasServer(os.path.join(tmp), gw, "--oauth-revoke-after", "4")
        servers = [srv]
        state = os.path.join(tmp, "state-mid")
        rc, events, err, out = run(eas_sync_args(srv, gw, state), approver(gw, []))
        s = summary(events)
        reqs = srv.requests()
        i401 = [i for i, r in enumerate(reqs) if r.get("status") == 401]
        check(len(i401) == 1 and reqs[i401[0]].get("auth") == "bearer-revoked-now",
              "the 4th authenticated request met a token revoked at the OAuth server: one 401")
        replay = reqs[i401[0] + 1] if i401 and i401[0] + 1 < len(reqs) else {}
        check(replay.get("command") == reqs[i401[0]].get("command") and
              replay.get("status") == 200 and replay.get("auth") == "bearer",
              "the same %s was replayed with a refreshed token and accepted" %
              reqs[i401[0]].get("command"))
        adds = s.get("adds", 0)
        check(rc == 0 and s.get("complete") and s.get("oauth_refreshes") == 1,
              "sync complete after exactly one refresh (%d adds)" % adds)
        # Nothing lost: a fresh device without the mid-session revocation gets as many items.
        srv.stop()
        srv = EasServer(os.path.join(tmp), gw)
        servers = [srv]
        rc2, ev2, _, _ = run(eas_sync_args(srv, gw, os.path.join(tmp, "state-ref")),
                             approver(gw, []))
        check(rc2 == 0 and summary(ev2).get("adds") == adds,
              "nothing lost: the same %d items as an undisturbed first sync" % adds)

        # ---- revoked refresh token: authorization needed, no loop ----
        tok = json.load(open(token_file(state)))
        gw.revoke(tok["refresh_token"], "refresh_token")
        gw.revoke(tok["access_token"], "access_token")
        n0 = len(srv.requests())
        srv.stop()
        srv = EasServer(os.path.join(tmp), gw)
        servers = [srv]
        rc, events, err, out = run(eas_sync_args(srv, gw, state))
        s = summary(events)
        reqs = srv.requests()
        n401 = sum(1 for r in reqs if r.get("status") == 401)
        check(rc != 0 and s.get("oauth") == "authorization_needed",
              "a revoked refresh token ends in authorization_needed (%s)" % s.get("error"))
        check(n401 == 1 and len(reqs) <= 2,
              "no loop: %d request(s) to the EAS server, one 401" % len(reqs))
        saved = json.load(open(token_file(state)))
        check(saved["state"] == "authorization_needed" and saved["refresh_token"] == "",
              "the dead refresh token is forgotten and the state persisted")
        check("authorization needed" in err, "eas-sync says so: %s" %
              [ln for ln in err.splitlines() if "authorization needed" in ln][:1])

        # ---- PKCE with a loopback redirect ----
        def browser(ev):
            if ev.get("event") == "oauth_authorize":
                loc = gw.authorize_code(ev["url"])
                with urllib.request.urlopen(loc, timeout=10) as r:
                    r.read()
        state = os.path.join(tmp, "state-pkce")
        rc, events, err, out = run(eas_sync_args(srv, gw, state, "oauth-pkce",
                                                 "--oauth-redirect-port", str(redirect_port)),
                                   browser)
        s = summary(events)
        auth_ev = [e for e in events if e.get("event") == "oauth_authorize"]
        check(auth_ev and "code_challenge_method=S256" in auth_ev[0]["url"] and
              "code_challenge=" in auth_ev[0]["url"], "PKCE: S256 challenge in the authorization URL")
        check(rc == 0 and s.get("complete") and s.get("oauth") == "ready",
              "PKCE + loopback redirect: first sync complete (%s)" % s.get("error"))

        # ---- X-MS-Credentials-Expire and X-MS-RP ----
        srv.stop()
        srv = EasServer(os.path.join(tmp), gw, "--credentials-expire", "5", "--rp-once")
        servers = [srv]
        rc, events, err, out = run(eas_sync_args(srv, gw, state, "oauth-pkce"))
        reqs = srv.requests()
        ce = [e for e in events if e.get("event") == "credentials_expire"]
        check(rc == 0 and ce and ce[0]["days"] == 5,
              "X-MS-Credentials-Expire reported as an event (%d day(s))" % (ce[0]["days"] if ce else -1))
        i_rp = [i for i, r in enumerate(reqs) if r.get("x_ms_rp")]
        check(i_rp and any(r.get("command") == "FolderSync" and r.get("status") == 200
                           for r in reqs[i_rp[0] + 1:]),
              "X-MS-RP: FolderSync ran again after the response that carried it")

        # ---- 16.x: one occurrence changed with InstanceId; Location as AirSyncBase ----
        # (eas-sync names fields only with CONFIG_EAS_WBXML_NAMES; CMake says which build)
        names = os.environ.get("EASD_WBXML_NAMES", "1") == "1"
        if names:
            occurrence_checks(tmp, srv, gw, state)
        else:
            print("(16.x occurrence checks need CONFIG_EAS_WBXML_NAMES: not in this build)")

        # ---- the daemon: auth = oauth-device in its configuration file ----
        if EASD:
            daemon_checks(tmp, srv, gw, servers)
    finally:
        for s in servers:
            s.stop()
    print("all exchange-online checks passed")


def occurrence_checks(tmp, srv, gw, state):
    """eas_item_change_occurrence() / _delete_occurrence() at 16.1: InstanceId, no
    Exceptions, Location as AirSyncBase:Location."""
    rec_item = None
    for e in events_first:
        f = dict((k, v) for k, v in e.get("fields", []) if isinstance(v, str))
        if e.get("event") == "item_add" and e.get("class") == "Calendar" and \
                "Recurrence.Type" in f and "StartTime" in f:
            rec_item = (e["folder"], e["server_id"], f["StartTime"])
            break
    check(rec_item is not None, "a recurring calendar item to change (%s)" % (rec_item,))
    st0 = rec_item[2]
    instance = "%s-%s-%sT%s:%s:%s.000Z" % (st0[0:4], st0[4:6], st0[6:8], st0[9:11],
                                          st0[11:13], st0[13:15])
    lc = os.path.join(tmp, "local-occ.txt")
    with open(lc, "w") as fh:
        fh.write("change-occurrence\t%s\t%s\t%s\tCalendar:Subject=Moved\t"
                 "Calendar:Location=Room 7\n" % (rec_item[0], rec_item[1], instance))
        fh.write("delete-occurrence\t%s\t%s\t%s\n" % (rec_item[0], rec_item[1],
                                                        instance.replace("-01-31", "-03-31")))
    rc, events, err, out = run(eas_sync_args(srv, gw, state, "oauth-pkce", "--local-changes",
                                             lc))
    syncs = [r for r in srv.control("requests")["requests"]
             if r.get("command") == "Sync" and "<Change>" in (r.get("body_xml") or "")]
    body = syncs[0]["body_xml"] if syncs else ""
    check(syncs and "InstanceId>%s<" % instance in body and "Exceptions" not in body,
          "the occurrence change went out as Change + AirSyncBase:InstanceId, no Exceptions")
    check("Location>" in body and "DisplayName>Room 7<" in body and
          "Calendar:Location" not in body.replace("AirSyncBase:Location", ""),
          "Location sent as AirSyncBase:Location/DisplayName at 16.1")
    dels = [r for r in srv.control("requests")["requests"]
            if r.get("command") == "Sync" and "<Delete>" in (r.get("body_xml") or "")]
    dbody = dels[0]["body_xml"] if dels else ""
    check(dels and "InstanceId>%s<" % instance.replace("-01-31", "-03-31") in dbody,
          "the occurrence delete went out as Delete + AirSyncBase:InstanceId")
    ob = [e for e in events if e.get("event") == "outbox_result"]
    check(rc == 0 and len(ob) == 2, "the server answered the change and the delete (%s)" %
          [(o.get("status"), o.get("final")) for o in ob])


def daemon_checks(tmp, srv, gw, servers):
    """easd with auth = oauth-device: logs the code, the scripted user approves, --once
    syncs over TLS at 16.1."""
    # over TLS (the daemon sends no credentials over plain http), 16.1 asked for
    # (the daemon's default is 14.1)
    srv.stop()
    srv = EasServer(os.path.join(tmp), gw, tls=True)
    servers[:] = [srv]
    d = gw.describe()
    conf = os.path.join(tmp, "easd.conf")
    with open(conf, "w") as fh:
        fh.write("server = %s\nuser = %s\nauth = oauth-device\noauth_client_id = %s\n"
                 "oauth_scope = %s\noauth_device_endpoint = %s\n"
                 "oauth_token_endpoint = %s\nstate_dir = %s\nstore_dir = %s\n"
                 "classes = calendar, contacts\nlog_level = info\nca_file = %s\n"
                 "max_version = 16.1\n" %
                 (srv.url, USER, d["client_id"], d["scope"],
                  d["device_authorization_endpoint"], d["token_endpoint"],
                  os.path.join(tmp, "dstate"), os.path.join(tmp, "dstore"), srv.ca))
    p = subprocess.Popen([EASD, "--config", conf, "--once", "--timeout", "60"],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    log, code = [], None
    for line in p.stdout:
        log.append(line)
        m = line.split("enter the code ")
        if code is None and len(m) == 2:
            code = m[1].split()[0]
            gw.approve_device(code)
    p.wait(timeout=60)
    if p.returncode != 0:
        print("".join(log[-15:]))
    check(code is not None, "easd logged the device code to enter (%s)" % code)
    tf = os.path.join(tmp, "dstate", "oauth-token")
    check(p.returncode == 0 and os.path.exists(tf) and
          stat.S_IMODE(os.stat(tf).st_mode) == 0o600,
          "easd (auth = oauth-device) synced once with a bearer token; token file 0600 "
          "(exit %s)" % p.returncode)


if __name__ == "__main__":
    main()
