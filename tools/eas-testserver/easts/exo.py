# SPDX-License-Identifier: Apache-2.0
"""--profile exchange-online: what Exchange Online demands of a device in 2026.

- only protocol 16.1 is offered (MS-ASProtocolVersions: 16.1);
- Basic authentication is refused; a bearer token is accepted only if the OAuth server says
  so (RFC 7662 introspection: active, with the EAS scope) - no local JWT shortcut, so a
  revoked or expired token is refused at once;
- the server sets a routing cookie and refuses (HTTP 403) a request of a device that does
  not return it once that device has one (MS-ASHTTP: 16.x and OAuth clients keep and return cookies);
- commands other than Provision and Settings are refused with Status 165
  (DeviceInformationRequired, MS-ASCMD common status) until the device sent its
  DeviceInformation with the Settings command; the copy inside Provision does not count.

Test hooks: credentials_expire=DAYS sends X-MS-Credentials-Expire with every accepted
request; rp_once sends X-MS-RP (versions changed) with the first Sync response;
revoke_after=N makes the server revoke, at the OAuth server, the access token of
the N-th authenticated request (then answer it 401): an access token that dies mid-session.
"""
import base64
import json
import secrets
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

COOKIE_NAME = "X-BackEndCookie"


class ExchangeOnline:
    def __init__(self, introspect_url, token_url, revoke_url, rs_client, rs_secret,
                 rs_scope="eas.introspect", required_scope="EAS.AccessAsUser.All",
                 revoke_after=0, secure_cookie=False, credentials_expire=None,
                 rp_once=False):
        self.introspect_url = introspect_url
        self.token_url = token_url
        self.revoke_url = revoke_url
        self.rs_client = rs_client
        self.rs_secret = rs_secret
        self.rs_scope = rs_scope
        self.required_scope = required_scope
        self.revoke_after = revoke_after
        self.secure_cookie = secure_cookie
        self.credentials_expire = credentials_expire  # days, sent on every accepted request
        self.rp_pending = rp_once  # X-MS-RP on the first Sync response
        self.lock = threading.Lock()
        self.rs_token = None
        self.rs_token_exp = 0
        self.cookies = {}  # (login, DeviceId) -> the cookie value that device must return
        self.values = {}   # login -> cookie values issued
        self.authenticated = 0
        self.stats = {"basic_refused": 0, "bearer_ok": 0, "bearer_refused": 0,
                      "cookie_missing": 0, "cookie_issued": 0, "devinfo_missing": 0,
                      "revoked_by_hook": 0}

    # ---- OAuth server calls ----

    def _post(self, url, form, auth):
        data = urllib.parse.urlencode(form).encode()
        req = urllib.request.Request(url, data=data, method="POST", headers={
            "Content-Type": "application/x-www-form-urlencoded", "Authorization": auth})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                body = r.read()
                return r.status, json.loads(body) if body.strip() else {}
        except urllib.error.HTTPError as e:
            return e.code, {}

    def _rs_bearer(self):
        with self.lock:
            if self.rs_token is None or time.time() > self.rs_token_exp - 30:
                basic = base64.b64encode(("%s:%s" % (self.rs_client, self.rs_secret)).encode())
                st, tok = self._post(self.token_url, {"grant_type": "client_credentials",
                                                      "scope": self.rs_scope},
                                     "Basic " + basic.decode())
                if st != 200 or "access_token" not in tok:
                    raise RuntimeError("exchange-online profile: no introspection token (%d)" % st)
                self.rs_token = tok["access_token"]
                self.rs_token_exp = time.time() + int(tok.get("expires_in", 300))
            return "Bearer " + self.rs_token

    def introspect(self, token):
        st, res = self._post(self.introspect_url, {"token": token}, self._rs_bearer())
        return res if st == 200 else {"active": False}

    def revoke(self, token, hint="access_token"):
        self._post(self.revoke_url, {"token": token, "token_type_hint": hint}, self._rs_bearer())

    # ---- per request ----

    def authenticate(self, headers, store, rec):
        """(login, user) like the Basic path, or (None, None)."""
        h = headers.get("Authorization") or ""
        if h.lower().startswith("basic "):
            self.stats["basic_refused"] += 1
            rec["auth"] = "basic-refused"
            return None, None
        if not h.lower().startswith("bearer "):
            rec["auth"] = "none"
            return None, None
        token = h[7:].strip()
        res = self.introspect(token)
        scopes = (res.get("scope") or "").split()
        login = res.get("username") or res.get("sub")
        if not res.get("active") or self.required_scope not in scopes or not login:
            self.stats["bearer_refused"] += 1
            rec["auth"] = "bearer-refused"
            return None, None
        user = store.users.get(login)
        if user is None:
            rec["auth"] = "bearer-unknown-user"
            return login, None
        with self.lock:
            self.authenticated += 1
            n = self.authenticated
        if self.revoke_after and n == self.revoke_after:
            self.revoke(token)
            self.stats["revoked_by_hook"] += 1
            rec["auth"] = "bearer-revoked-now"
            return None, None
        self.stats["bearer_ok"] += 1
        rec["auth"] = "bearer"
        return login, user

    def check_cookie(self, login, device, headers, rec):
        """(allowed, set_cookie_header_or_None). A device's first request without our cookie
        is accepted and gets one; from then on that device must return it. OPTIONS (no
        DeviceId) is never refused; the cookie it got binds to the device that returns it."""
        sent = {}
        for part in (headers.get("Cookie") or "").split(";"):
            k, _, v = part.strip().partition("=")
            if k:
                sent[k] = v
        value = sent.get(COOKIE_NAME)
        with self.lock:
            known = self.values.setdefault(login, set())
            key = (login, device) if device else None
            bound = self.cookies.get(key) if key else None
            if bound is not None:
                if value != bound:
                    self.stats["cookie_missing"] += 1
                    rec["cookie"] = "missing" if value is None else "wrong"
                    rec["error"] = "routing cookie not returned"
                    return False, None
                rec["cookie"] = "returned"
                return True, None
            if value is not None and value in known:
                if key:
                    self.cookies[key] = value
                rec["cookie"] = "returned"
                return True, None
            issued = secrets.token_urlsafe(24)
            known.add(issued)
            if key:
                self.cookies[key] = issued
            self.stats["cookie_issued"] += 1
            rec["cookie"] = "issued"
            return True, self._set_cookie(issued)

    def _set_cookie(self, value):
        c = "%s=%s; Path=/Microsoft-Server-ActiveSync; HttpOnly; Max-Age=86400" % (COOKIE_NAME,
                                                                                 value)
        return c + ("; Secure" if self.secure_cookie else "")

    def extra_headers(self, cmd, rec):
        h = {}
        if self.credentials_expire is not None:
            h["X-MS-Credentials-Expire"] = str(self.credentials_expire)
        with self.lock:
            if self.rp_pending and cmd == "Sync":
                self.rp_pending = False
                h["X-MS-RP"] = "16.1"
                rec["x_ms_rp"] = True
        return h

    def device_info_ok(self, cmd, device, rec):
        if cmd in ("Provision", "Settings", "OPTIONS") or device.info_settings:
            return True
        self.stats["devinfo_missing"] += 1
        rec["error"] = "DeviceInformation required"
        return False
