#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""A real OAuth 2.0 authorization server for the tests: Glewlwyd (Debian package `glewlwyd`)
configured from scratch on loopback, plus a "scripted user" who approves device codes.

Used as a module (tests import it) or as a command:

    glewlwyd.py start DIR      # configure and start; prints a JSON description, runs until killed
    glewlwyd.py selftest DIR   # start, run one device flow by hand (urllib), stop

What start() builds in DIR (nothing outside it, nothing persistent):
  - gw.db       SQLite database from Glewlwyd's own schema (/usr/share/dbconfig-common/...)
  - gw.conf     a minimal Glewlwyd configuration: 127.0.0.1, a free port, no TLS
  - through the admin API (the package's built-in admin/password account, loopback only):
      an OIDC plugin instance "oidc" with the device authorization grant, the authorization
      code grant with PKCE, refresh tokens, introspection and revocation;
      the scope EAS.AccessAsUser.All and offline_access;
      a public client "easd-device" (device_authorization, code, refresh_token; loopback
      redirect http://127.0.0.1/callback, any port as RFC 8252 7.3 asks);
      a confidential client "eas-rs" that the test EAS server uses for introspection;
      a user "alice" / "alice-pass-1" allowed those scopes.
The scripted user logs in through /api/auth/ (password), grants the scopes to the client
(/api/auth/grant/<client>) and opens /api/oidc/device?code=<user_code>&g_continue, exactly
what Glewlwyd's own login page does in a browser.
"""
import base64
import http.cookiejar
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

SCHEMA = "/usr/share/dbconfig-common/data/glewlwyd/install/sqlite3"
PLUGIN = "oidc"
SCOPE_EAS = "EAS.AccessAsUser.All"
SCOPE_OFFLINE = "offline_access"
SCOPE_INTROSPECT = "eas.introspect"  # lets the test EAS server introspect and revoke
CLIENT_ID = "easd-device"
RS_CLIENT_ID = "eas-rs"
RS_CLIENT_SECRET = "eas-rs-secret-7f3a"
USER = "alice"
USER_PASSWORD = "alice-pass-1"
ADMIN = ("admin", "password")  # the package schema's built-in account (loopback only)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Session:
    """An HTTP session with its own cookie jar (Glewlwyd authenticates its API by cookie)."""

    def __init__(self, base):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar),
                                                  NoRedirect())

    def call(self, method, path, body=None, form=None, auth=None, bearer=None):
        headers = {}
        if bearer is not None:
            headers["Authorization"] = "Bearer " + bearer
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        elif form is not None:
            data = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if auth is not None:
            headers["Authorization"] = "Basic " + base64.b64encode(
                f"{auth[0]}:{auth[1]}".encode()).decode()
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)
        try:
            with self.opener.open(req, timeout=10) as r:
                return r.status, dict(r.headers), r.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read()

    def ok(self, method, path, body=None, form=None, auth=None, bearer=None):
        status, _, data = self.call(method, path, body, form, auth, bearer)
        if status != 200:
            raise RuntimeError(f"glewlwyd: {method} {path} -> {status} {data[:300]!r}")
        return json.loads(data) if data.strip() else None


class NoRedirect(urllib.request.HTTPRedirectHandler):
    """Redirects are answers here (Glewlwyd says "device complete" with a 302)."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


class Glewlwyd:
    def __init__(self, workdir, access_token_s=3600, user=USER, password=USER_PASSWORD,
                 redirect_uris=("http://127.0.0.1/callback",), device_interval=1,
                 device_expiration=600):
        self.user = user
        self.password = password
        self.redirect_uris = list(redirect_uris)
        self.dir = os.path.abspath(workdir)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.api = self.base + "/api"
        self.issuer = f"{self.api}/{PLUGIN}"
        self.access_token_s = access_token_s
        self.device_interval = device_interval      # Glewlwyd answers slow_down below it
        self.device_expiration = device_expiration  # then expired_token
        self.proc = None

    # ---- life cycle ----

    def start(self):
        os.makedirs(self.dir, exist_ok=True)
        db = os.path.join(self.dir, "gw.db")
        if os.path.exists(db):
            os.unlink(db)
        with open(SCHEMA, "rb") as schema:
            subprocess.run(["sqlite3", db], stdin=schema, check=True)
        conf = os.path.join(self.dir, "gw.conf")
        with open(conf, "w") as f:
            f.write(f"""port={self.port}
bind_address="127.0.0.1"
external_url="{self.base}"
login_url="login.html"
api_prefix="api"
allow_origin="*"
log_mode="file"
log_file="{self.dir}/gw.log"
log_level="INFO"
cookie_secure=0
session_expiration=3600
session_key="GLEWLWYD2_SESSION_ID"
admin_session_authentication="cookie"
profile_session_authentication="cookie"
allow_multiple_user_per_session=true
login_api_enabled=true
admin_scope="g_admin"
profile_scope="g_profile"
user_module_path="/usr/lib/glewlwyd/user"
client_module_path="/usr/lib/glewlwyd/client"
user_auth_scheme_module_path="/usr/lib/glewlwyd/scheme"
plugin_module_path="/usr/lib/glewlwyd/plugin"
hash_algorithm="SHA512"
database = {{ type = "sqlite3"; path = "{db}"; }};
""")
        self.proc = subprocess.Popen(["glewlwyd", "-c", conf], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError("glewlwyd did not start (see gw.log in " + self.dir + ")")
                time.sleep(0.1)
        self._configure()
        return self

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.proc = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def describe(self):
        return {
            "issuer": self.issuer,
            "device_authorization_endpoint": self.issuer + "/device_authorization",
            "authorization_endpoint": self.issuer + "/auth",
            "token_endpoint": self.issuer + "/token",
            "introspection_endpoint": self.issuer + "/introspect",
            "revocation_endpoint": self.issuer + "/revoke",
            "client_id": CLIENT_ID,
            "scope": f"{SCOPE_EAS} {SCOPE_OFFLINE}",
            "rs_client_id": RS_CLIENT_ID,
            "rs_client_secret": RS_CLIENT_SECRET,
            "user": self.user,
            "password": self.password,
        }

    # ---- configuration through the admin API ----

    def _configure(self):
        admin = Session(self.api)
        admin.ok("POST", "/auth/", {"username": ADMIN[0], "password": ADMIN[1]})
        for name in (SCOPE_EAS, SCOPE_OFFLINE, SCOPE_INTROSPECT):
            admin.ok("POST", "/scope/", {"name": name, "display_name": name, "description": name,
                                         "password_required": False, "scheme": {}})
        admin.ok("POST", "/mod/plugin/", {
            "module": "oidc", "name": PLUGIN, "display_name": "OAuth 2.0 for easd tests",
            "enabled": True,
            "parameters": {
                "iss": self.issuer, "jwt-type": "sha", "jwt-key-size": "256",
                "key": "easd-test-signing-key-0123456789abcdef",
                "access-token-duration": self.access_token_s,
                "refresh-token-duration": 86400, "code-duration": 600,
                "refresh-token-rolling": False, "refresh-token-one-use": "never",
                "allow-non-oidc": True,
                "auth-type-code-enabled": True, "auth-type-token-enabled": False,
                "auth-type-id-token-enabled": False, "auth-type-none-enabled": False,
                "auth-type-password-enabled": False, "auth-type-client-enabled": True,
                "auth-type-refresh-enabled": True, "auth-type-device-enabled": True,
                "device-authorization-expiration": self.device_expiration,
                "device-authorization-interval": self.device_interval,
                "pkce-allowed": True, "pkce-method-plain-allowed": False,
                "introspection-revocation-allowed": True,
                "introspection-revocation-auth-scope": [SCOPE_INTROSPECT],
                "introspection-revocation-allow-target-client": False,
            }})
        admin.ok("POST", "/client/", {
            "client_id": CLIENT_ID, "name": "easd (public, device and loopback)",
            "confidential": False, "enabled": True,
            "redirect_uri": self.redirect_uris,
            "authorization_type": ["code", "device_authorization", "refresh_token"],
            "scope": [SCOPE_EAS, SCOPE_OFFLINE]})
        admin.ok("POST", "/client/", {
            "client_id": RS_CLIENT_ID, "name": "test EAS server (introspection)",
            "confidential": True, "password": RS_CLIENT_SECRET, "enabled": True,
            "token_endpoint_auth_method": ["client_secret_basic"],
            "redirect_uri": [], "authorization_type": ["client_credentials"],
            "scope": [SCOPE_INTROSPECT]})
        admin.ok("POST", "/user/", {
            "username": self.user, "name": self.user, "email": self.user + "@example.test",
            "enabled": True, "password": self.password, "scope": [SCOPE_EAS, SCOPE_OFFLINE, "g_profile"]})

    # ---- the scripted user ----

    def user_session(self):
        user = Session(self.api)
        user.ok("POST", "/auth/", {"username": self.user, "password": self.password})
        return user

    def approve_device(self, user_code, deny=False):
        """What a person does in the browser: log in, consent, enter the code. Returns the
        final redirect target (Glewlwyd's "deviceComplete" page on success)."""
        user = self.user_session()
        scope = "" if deny else f"{SCOPE_EAS} {SCOPE_OFFLINE}"
        user.ok("PUT", "/auth/grant/" + CLIENT_ID, {"scope": scope})
        status, headers, _ = user.call(
            "GET", f"/{PLUGIN}/device?code={urllib.parse.quote(user_code)}&g_continue")
        loc = headers.get("Location", "")
        if status != 302 or ("deviceComplete" not in loc and not deny):
            raise RuntimeError(f"glewlwyd: device approval -> {status} {loc}")
        return loc

    def authorize_code(self, auth_url):
        """The browser half of RFC 8252: a logged-in user who has consented opens the
        authorization URL; Glewlwyd answers with a redirect to the loopback URI, which this
        returns (the caller delivers it to the client's listener)."""
        user = self.user_session()
        user.ok("PUT", "/auth/grant/" + CLIENT_ID, {"scope": f"{SCOPE_EAS} {SCOPE_OFFLINE}"})
        rel = auth_url[len(self.api):] if auth_url.startswith(self.api) else None
        if rel is None:
            raise RuntimeError("authorization URL is not this server's: " + auth_url)
        status, headers, body = user.call("GET", rel)
        loc = headers.get("Location", "")
        if status == 302 and "/login.html?" in loc:
            # Glewlwyd's login page: the user is signed in and has consented, and clicks
            # "continue" - the page then opens callback_url with g_continue, as done here.
            q = urllib.parse.parse_qs(urllib.parse.urlsplit(loc).query)
            cb = q["callback_url"][0]
            if not cb.startswith(self.api):
                raise RuntimeError("glewlwyd: unexpected callback " + cb)
            status, headers, body = user.call("GET", cb[len(self.api):] + "&g_continue")
            loc = headers.get("Location", "")
        if status != 302 or "code=" not in loc:
            raise RuntimeError(f"glewlwyd: authorization -> {status} {loc} {body[:200]!r}")
        return loc

    # ---- resource-server side (what the test EAS server does) ----

    def rs_token(self):
        """The resource server's own access token (client credentials, scope eas.introspect):
        Glewlwyd accepts it as the credential for /introspect and /revoke."""
        rs = Session(self.api)
        tok = rs.ok("POST", f"/{PLUGIN}/token", form={
            "grant_type": "client_credentials", "scope": SCOPE_INTROSPECT},
            auth=(RS_CLIENT_ID, RS_CLIENT_SECRET))
        return tok["access_token"]

    def introspect(self, token):
        rs = Session(self.api)
        return rs.ok("POST", f"/{PLUGIN}/introspect", form={"token": token},
                     bearer=self.rs_token())

    def revoke(self, token, hint):
        rs = Session(self.api)
        return rs.ok("POST", f"/{PLUGIN}/revoke", form={"token": token, "token_type_hint": hint},
                     bearer=self.rs_token())


def selftest(workdir):
    with Glewlwyd(workdir) as gw:
        c = Session(gw.api)
        d = c.ok("POST", f"/{PLUGIN}/device_authorization",
                 form={"client_id": CLIENT_ID, "scope": f"{SCOPE_EAS} {SCOPE_OFFLINE}"})
        print("device authorization:", json.dumps(d))
        st, _, body = c.call("POST", f"/{PLUGIN}/token", form={
            "grant_type": "urn:ietf:params:oauth:grant-type:device_code",
            "client_id": CLIENT_ID, "device_code": d["device_code"]})
        print("poll before approval:", st, body.decode())
        print("approval:", gw.approve_device(d["user_code"]))
        time.sleep(d.get("interval", 1) + 0.2)
        tok = c.ok("POST", f"/{PLUGIN}/token", form={
            "grant_type": "urn:ietf:params:oauth:grant-type:device_code",
            "client_id": CLIENT_ID, "device_code": d["device_code"]})
        print("token:", sorted(tok.keys()), tok.get("expires_in"))
        print("introspect access:", gw.introspect(tok["access_token"]))
        print("revoke refresh:", gw.revoke(tok["refresh_token"], "refresh_token"))
        st, _, body = c.call("POST", f"/{PLUGIN}/token", form={
            "grant_type": "refresh_token", "client_id": CLIENT_ID,
            "refresh_token": tok["refresh_token"]})
        print("refresh after revocation:", st, body.decode())


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("start", "selftest"):
        raise SystemExit(__doc__)
    if sys.argv[1] == "selftest":
        selftest(sys.argv[2])
        return
    gw = Glewlwyd(sys.argv[2]).start()
    print(json.dumps(gw.describe()), flush=True)
    try:
        gw.proc.wait()
    except KeyboardInterrupt:
        pass
    finally:
        gw.stop()


if __name__ == "__main__":
    main()
