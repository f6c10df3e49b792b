# SPDX-License-Identifier: Apache-2.0
"""HTTP(S) front end: EAS endpoint, control endpoint, request log, transport faults."""
import base64
import email.utils
import json
import re
import socket
import ssl
import struct
import threading
import time
import traceback
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from . import changes as chg
from . import commands as cmds
from .faults import FaultError, Faults
from .store import Store
from .wbxml import WbxmlError, decode, encode, to_xml

EAS_PATH = "/Microsoft-Server-ActiveSync"
AD_PATH = "/autodiscover/autodiscover.xml"
ALL_VERSIONS = ["12.1", "14.0", "14.1", "16.0", "16.1"]
COMMANDS = ["Sync", "SendMail", "SmartForward", "SmartReply", "GetAttachment", "FolderSync",
            "FolderCreate", "FolderDelete", "FolderUpdate", "MoveItems", "GetItemEstimate",
            "MeetingResponse", "Search", "Settings", "Ping", "ItemOperations", "Provision"]

# MS-ASHTTP base64 query: command codes and parameter tags
B64_COMMANDS = {0: "Sync", 1: "SendMail", 2: "SmartForward", 3: "SmartReply",
                4: "GetAttachment", 9: "FolderSync", 10: "FolderCreate", 11: "FolderDelete",
                12: "FolderUpdate", 13: "MoveItems", 14: "GetItemEstimate",
                15: "MeetingResponse", 16: "Search", 17: "Settings", 18: "Ping",
                19: "ItemOperations", 20: "Provision", 21: "ResolveRecipients",
                22: "ValidateCert"}
B64_PARAMS = {0: "AttachmentName", 1: "CollectionId", 3: "ItemId", 4: "LongId", 6: "Occurrence",
              7: "Options", 8: "User"}

DEFAULT_CONFIG = {
    "ping_min": 60, "ping_max": 3540, "ping_scale": 1.0, "ping_max_folders": 300,
    "ping_unknown_folder_status": 7, "provision": "auto", "versions": list(ALL_VERSIONS),
    "auth_options": True, "max_log_body": 65536,
    # "refuse": a MeetingResponse moves the invitation away, so a duplicate gets Status 2
    # (like Exchange); "accept": the invitation stays and every duplicate is applied and
    # recorded, so "exactly one response" must come from the client.
    "meeting_response_duplicates": "refuse",
}

REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden",
           404: "Not Found", 449: "Retry With", 451: "Redirect", 456: "Blocked",
           457: "Blocked", 500: "Internal Server Error", 501: "Not Implemented",
           503: "Service Unavailable", 507: "Insufficient Storage"}


class QueryError(ValueError):
    pass


def parse_b64_query(q):
    """Decode the MS-ASHTTP base64 query into a dict like the plain form's."""
    try:
        raw = base64.b64decode(urllib.parse.unquote(q) + "==="[:(-len(q)) % 4], validate=False)
    except ValueError as exc:
        raise QueryError("bad base64 query") from exc
    if len(raw) < 6:
        raise QueryError("base64 query too short")
    pos = 0
    out = {"_form": "base64"}
    ver = raw[0]
    out["_version"] = "%d.%d" % (ver // 10, ver % 10)
    code = raw[1]
    if code not in B64_COMMANDS:
        raise QueryError("unknown command code %d" % code)
    out["Cmd"] = B64_COMMANDS[code]
    out["Locale"] = str(struct.unpack("<H", raw[2:4])[0])
    pos = 4

    def field():
        nonlocal pos
        if pos >= len(raw):
            raise QueryError("base64 query truncated")
        n = raw[pos]
        pos += 1
        if pos + n > len(raw):
            raise QueryError("base64 query field runs past end")
        v = raw[pos:pos + n]
        pos += n
        return v

    out["DeviceId"] = field().decode("latin-1")
    pk = field()
    if len(pk) == 4:
        out["_policy_key"] = str(struct.unpack("<I", pk)[0])
    elif pk:
        raise QueryError("policy key must be 4 bytes")
    out["DeviceType"] = field().decode("latin-1")
    while pos < len(raw):
        tag = raw[pos]
        pos += 1
        val = field()
        name = B64_PARAMS.get(tag, "Param%d" % tag)
        if name == "Options":
            flags = val[0] if val else 0
            out["SaveInSent"] = "T" if flags & 1 else "F"
            out["AcceptMultiPart"] = "T" if flags & 2 else "F"
        else:
            out[name] = val.decode("utf-8", "replace")
    return out


def parse_query(qs):
    if not qs:
        return {}
    if "=" not in qs:
        return parse_b64_query(qs)
    out = {"_form": "plain"}
    for k, v in urllib.parse.parse_qsl(qs, keep_blank_values=True):
        out[k] = v
    return out


class Ctx:
    pass


class EasServer:
    def __init__(self, store=None, config=None):
        self.store = store or Store()
        self.config = dict(DEFAULT_CONFIG)
        if config:
            self.config.update(config)
        self.faults = Faults()
        self.records = []
        self.rec_lock = threading.Lock()
        self.log_fh = None
        self.seq = 0
        self.stopping = False
        self.rejected_ping_folders = {}
        self.httpd = None
        self.base_url = None
        self.exo = None  # easts.exo.ExchangeOnline with --profile exchange-online

    # ----------------------------------------------------------------------------------
    def load_scenario(self, obj):
        if "settings" in obj:
            self.config.update(obj["settings"])
        ids = []
        for f in obj.get("faults", []):
            ids.append(self.faults.add(f))
        for c in obj.get("changes", []):
            chg.apply(self.store, c)
        for fid, status in obj.get("reject_ping_folders", {}).items():
            self.rejected_ping_folders[str(fid)] = int(status)
        return ids

    def open_log(self, path):
        self.log_fh = open(path, "a", encoding="utf-8")

    def record(self, rec):
        with self.rec_lock:
            self.seq += 1
            rec["seq"] = self.seq
            self.records.append(rec)
            if len(self.records) > 200000:
                del self.records[:100000]
            if self.log_fh:
                self.log_fh.write(json.dumps(rec, sort_keys=True) + "\n")
                self.log_fh.flush()

    def counts(self):
        with self.rec_lock:
            by_cmd, by_status, by_pair = {}, {}, {}
            eas = {}
            for r in self.records:
                if r.get("control"):
                    continue
                c = r.get("command") or r.get("method")
                by_cmd[c] = by_cmd.get(c, 0) + 1
                s = str(r.get("status"))
                by_status[s] = by_status.get(s, 0) + 1
                key = "%s:%s" % (c, s)
                by_pair[key] = by_pair.get(key, 0) + 1
                if r.get("eas_status") is not None:
                    k2 = "%s:%s" % (c, r["eas_status"])
                    eas[k2] = eas.get(k2, 0) + 1
            total = sum(by_cmd.values())
            return {"total": total, "commands": by_cmd, "http_status": by_status,
                    "command_http_status": by_pair, "command_eas_status": eas}

    # ----------------------------------------------------------------------------------
    def serve(self, host="127.0.0.1", port=0, tls_cert=None, tls_key=None):
        server = self

        class Handler(EasHandler):
            eas = server

        self.httpd = ThreadingHTTPServer((host, port), Handler)
        self.httpd.daemon_threads = True
        scheme = "http"
        if tls_cert:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(tls_cert, tls_key)
            self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True,
                                                do_handshake_on_connect=False)
            scheme = "https"
        real_port = self.httpd.server_address[1]
        self.base_url = "%s://%s:%d" % (scheme, host if ":" not in host else "[%s]" % host,
                                        real_port)
        return real_port

    def run_forever(self):
        try:
            self.httpd.serve_forever(poll_interval=0.2)
        finally:
            self.stopping = True

    def shutdown(self):
        self.stopping = True
        with self.store.lock:
            self.store.cond.notify_all()
        if self.httpd:
            self.httpd.shutdown()
            self.httpd.server_close()


class EasHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "eas-testserver/1.0"
    eas = None  # set by EasServer.serve
    timeout = 600

    def setup(self):
        super().setup()
        if isinstance(self.request, ssl.SSLSocket):
            try:
                self.request.do_handshake()
            except (ssl.SSLError, OSError):
                self.close_connection = True
                raise

    def log_message(self, fmt, *args):  # the JSON log replaces stderr access logs
        return

    # ----------------------------------------------------------------------------------
    def _read_body(self):
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            out = bytearray()
            while True:
                line = self.rfile.readline(1024)
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                out.extend(self.rfile.read(size))
                self.rfile.readline(16)
            return bytes(out)
        n = int(self.headers.get("Content-Length") or 0)
        if n < 0 or n > 64 * 1024 * 1024:
            raise ValueError("bad Content-Length")
        return self.rfile.read(n) if n else b""

    def _send_raw(self, status, headers, body, fault=None):
        """Write the response, applying transport faults (reset, truncate)."""
        lines = ["HTTP/1.1 %d %s" % (status, REASONS.get(status, "Status"))]
        hdrs = {"Date": email.utils.formatdate(usegmt=True), "Server": self.server_version}
        hdrs.update(headers)
        if fault is not None and fault.get("type") == "truncate":
            body = body[:int(fault.get("bytes", len(body) // 2))]
        hdrs["Content-Length"] = str(len(body))
        if self.close_connection:
            hdrs["Connection"] = "close"
        for k, v in hdrs.items():
            lines.append("%s: %s" % (k, v))
        raw = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
        if fault is not None and fault.get("type") in ("reset", "drop"):
            n = int(fault.get("after_bytes", 0)) if fault.get("type") == "reset" else 0
            try:
                if n:
                    self.wfile.write(raw[:n])
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                           struct.pack("ii", 1, 0))
            except OSError:
                pass
            self.close_connection = True
            try:
                self.connection.close()
            except OSError:
                pass
            return
        try:
            self.wfile.write(raw)
        except OSError:
            self.close_connection = True

    def _json(self, status, obj):
        body = (json.dumps(obj, indent=1, sort_keys=True) + "\n").encode()
        self._send_raw(status, {"Content-Type": "application/json"}, body)

    # ----------------------------------------------------------------------------------
    def do_GET(self):
        if self.path.startswith("/_control"):
            return self._control("GET")
        self._send_raw(405 if self.path.startswith(EAS_PATH) else 404,
                       {"Content-Type": "text/plain"}, b"use POST\n")

    def do_DELETE(self):
        if self.path.startswith("/_control"):
            return self._control("DELETE")
        self._send_raw(404, {"Content-Type": "text/plain"}, b"")

    def do_OPTIONS(self):
        self._eas("OPTIONS")

    def do_POST(self):
        if self.path.startswith("/_control"):
            return self._control("POST")
        if self.path.partition("?")[0].lower() == AD_PATH:
            return self._autodiscover()
        self._eas("POST")

    def _autodiscover(self):
        """Autodiscover, mobilesync schema (MS-ASCMD 2.2.1.1): after Basic authentication,
        this server's own EAS URL under the host name the client asked for (Host header)."""
        rec = {"time": time.time(), "method": "POST", "path": AD_PATH, "command": "Autodiscover",
               "headers": {k: v for k, v in self.headers.items()
                           if k.lower() != "authorization"}}
        try:
            raw = self._read_body()
        except (ValueError, OSError):
            self.close_connection = True
            raw = None
        name, user = self._auth() if raw is not None else (None, None)
        rec["user"] = name
        m = re.search(rb"<EMailAddress>([^<>]{1,254})</EMailAddress>", raw or b"")
        host = self.headers.get("Host") or ""
        if raw is None or m is None or b"mobilesync/requestschema/2006" not in raw \
                or not re.fullmatch(r"[A-Za-z0-9.:\[\]-]{1,300}", host):
            status, headers, body = 400, {"Content-Type": "text/plain"}, b"bad request\n"
        elif user is None:
            status, headers, body = 401, {"WWW-Authenticate": 'Basic realm="eas"'}, b""
        else:
            rec["email"] = m.group(1).decode("utf-8", "replace")
            scheme = "https" if isinstance(self.request, ssl.SSLSocket) else "http"
            url = "%s://%s%s" % (scheme, host, EAS_PATH)
            rec["url"] = url
            status, headers = 200, {"Content-Type": "text/xml; charset=utf-8"}
            body = (
                '<?xml version="1.0" encoding="utf-8"?>\n'
                '<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/'
                'responseschema/2006"><Response xmlns="http://schemas.microsoft.com/exchange/'
                'autodiscover/mobilesync/responseschema/2006"><Culture>en:us</Culture><User>'
                '<EMailAddress>%s</EMailAddress></User><Action><Settings><Server>'
                '<Type>MobileSync</Type><Url>%s</Url><Name>%s</Name></Server></Settings>'
                '</Action></Response></Autodiscover>\n'
                % (rec["email"].replace("&", "&amp;").replace("<", "&lt;"), url, url)).encode()
        rec["status"] = status
        self.eas.record(rec)
        self._send_raw(status, headers, body)

    # ----------------------------------------------------------------------------------
    def _auth(self, rec=None):
        if self.eas.exo is not None:
            return self.eas.exo.authenticate(self.headers, self.eas.store,
                                             rec if rec is not None else {})
        h = self.headers.get("Authorization") or ""
        if not h.lower().startswith("basic "):
            return None, None
        try:
            dec = base64.b64decode(h[6:].strip()).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            return None, None
        name, _, pw = dec.partition(":")
        return name, self.eas.store.authenticate(name, pw)

    def _eas(self, method):
        srv = self.eas
        t0 = time.time()
        mono = time.monotonic()
        path, _, qs = self.path.partition("?")
        rec = {"time": t0, "mono": mono, "iso": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t0)) +
               ".%03dZ" % int((t0 % 1) * 1000), "method": method, "path": path,
               "headers": {k: v for k, v in self.headers.items()
                           if k.lower() != "authorization"}}
        try:
            raw = self._read_body()
        except (ValueError, OSError):
            self.close_connection = True
            rec.update(status=400, command=None)
            srv.record(rec)
            return self._send_raw(400, {"Content-Type": "text/plain"}, b"bad body\n")
        rec["body_len"] = len(raw)
        reply, fault_for_send, extra_headers = None, None, {}
        try:
            reply, fault_for_send = self._dispatch(method, path, qs, raw, rec)
        except Exception:  # a server bug must not kill the connection thread silently
            rec["error"] = traceback.format_exc()
            reply = cmds.Reply(status=500, body=b"", content_type="text/plain")
        body = reply.body
        if reply.root is not None:
            body = encode(reply.root)
            rec["response_xml"] = to_xml(reply.root)[:srv.config["max_log_body"]]
        headers = {"Content-Type": reply.content_type} if (body or reply.status == 200) else {}
        if method == "OPTIONS":
            headers = {}
        headers.update(self._ms_headers(method))
        headers.update(reply.headers)
        headers.update(extra_headers)
        headers.update(getattr(self, "_exo_headers", {}))
        if fault_for_send is not None and fault_for_send.get("type") == "malformed":
            body, ctype = self._malformed(fault_for_send, body)
            headers["Content-Type"] = ctype
            rec["fault_malformed"] = fault_for_send.get("mode", "garbage")
        rec["status"] = reply.status
        rec["eas_status"] = reply.eas_status
        rec["response_len"] = len(body)
        rec["duration_ms"] = int((time.time() - t0) * 1000)
        srv.record(rec)
        self._send_raw(reply.status, headers, body, fault_for_send)

    def _ms_headers(self, method):
        cfg = self.eas.config
        h = {"MS-Server-ActiveSync": cfg["versions"][-1]}
        if method == "OPTIONS":
            h.update({"Allow": "OPTIONS,POST", "Public": "OPTIONS,POST",
                      "MS-ASProtocolVersions": ",".join(cfg["versions"]),
                      "MS-ASProtocolCommands": ",".join(COMMANDS)})
        h["Cache-Control"] = "private"
        return h

    def _malformed(self, fault, body):
        mode = fault.get("mode", "garbage")
        if mode == "html":
            return (b"<html><body><h1>Internal error</h1><p>Something went wrong.</p>"
                    b"</body></html>\n", "text/html")
        if mode == "wrong_content_type":
            return body, "text/plain"
        if mode == "empty":
            return b"", cmds.WBXML_TYPE
        if mode == "bad_version":
            return b"\x07" + body[1:], cmds.WBXML_TYPE
        if mode == "unknown_page":
            return body[:4] + b"\x00\x55" + body[4:], cmds.WBXML_TYPE
        if mode == "unknown_token":
            return body[:4] + b"\x7f\x01", cmds.WBXML_TYPE
        if mode == "unterminated":
            return body[:4] + b"\x00\x00\x45\x4e\x03abc", cmds.WBXML_TYPE
        if mode == "no_end":
            return body.rstrip(b"\x01"), cmds.WBXML_TYPE
        if mode == "huge_length":
            return body[:4] + b"\x45\xc3\x87\xff\xff\xff\x7f\x01", cmds.WBXML_TYPE
        return (b"\x03\x01\x6a\x00\xde\xad\xbe\xef" + bytes(range(256)) * 2,
                cmds.WBXML_TYPE)

    # ----------------------------------------------------------------------------------
    def _dispatch(self, method, path, qs, raw, rec):
        srv = self.eas
        st = srv.store
        self._exo_headers = {}
        if not path.endswith(EAS_PATH):
            return cmds.Reply(status=404, body=b""), None
        try:
            q = parse_query(qs)
        except QueryError as exc:
            rec["error"] = str(exc)
            return cmds.Reply(status=400, body=b""), None
        rec["query"] = {k: v for k, v in q.items()}
        cmd = "OPTIONS" if method == "OPTIONS" else q.get("Cmd")
        rec["command"] = cmd
        body_el = None
        ctype = (self.headers.get("Content-Type") or "").lower()
        if raw and method == "POST" and "rfc822" not in ctype and raw[:1] in (b"\x01", b"\x02",
                                                                              b"\x03"):
            try:
                body_el = decode(raw)
                rec["body_xml"] = to_xml(body_el)[:srv.config["max_log_body"]]
            except WbxmlError as exc:
                rec["error"] = "request WBXML: %s" % exc
                return cmds.Reply(status=400, body=b""), None
        elif raw:
            rec["body_text"] = raw[:srv.config["max_log_body"]].decode("utf-8", "replace")
        login, user = self._auth(rec)
        rec["user"] = login
        dev_id = q.get("DeviceId")
        rec["device"] = dev_id
        info = {"command": cmd, "user": user.name if user else login, "device": dev_id,
                "collections": _collections(body_el), "client_ops": _client_ops(body_el)}
        fired = srv.faults.select(info)
        if fired:
            rec["faults"] = [f["id"] for f in fired]
            rec["fault_types"] = [f["type"] for f in fired]
        send_fault = None
        post_delay = 0.0  # "after": the command runs at once, its answer is held back
        for f in fired:
            if f.get("delay_ms") or f.get("type") == "delay":
                secs = int(f.get("delay_ms", f.get("ms", 0))) / 1000.0
                if f.get("after"):
                    post_delay += secs
                else:
                    time.sleep(secs)
            if f["type"] == "inject":
                _schedule_inject(srv, f)
            if f["type"] in ("reset", "drop", "truncate", "malformed"):
                send_fault = f
        if user is None and (method == "POST" or srv.config["auth_options"]):
            return cmds.Reply(status=401, body=b"", headers={
                "WWW-Authenticate": 'Bearer' if srv.exo is not None else
                'Basic realm="eas-testserver"'}), send_fault
        if srv.exo is not None:
            allowed, set_cookie = srv.exo.check_cookie(login, dev_id, self.headers, rec)
            if set_cookie:
                self._exo_headers["Set-Cookie"] = set_cookie
            if not allowed:
                return cmds.Reply(status=403, body=b""), send_fault
            self._exo_headers.update(srv.exo.extra_headers(cmd, rec))
        for f in fired:
            if f["type"] == "invalidate_policy":
                for d in _devices(user, f.get("device") or dev_id):
                    d.policy_key = None
            if f["type"] == "wipe":
                for d in _devices(user, f.get("device") or dev_id):
                    d.wipe = "account_pending" if f.get("account_only") else "pending"
        for f in fired:
            if f["type"] == "http":
                return _http_fault(self, f, path, qs), send_fault
        if method == "OPTIONS":
            return cmds.Reply(status=200, body=b""), send_fault
        ver = self.headers.get("MS-ASProtocolVersion") or q.get("_version")
        rec["version"] = ver
        if ver not in srv.config["versions"]:
            rec["error"] = "unsupported protocol version %r" % ver
            return cmds.Reply(status=400, body=b""), send_fault
        if not dev_id:
            rec["error"] = "no DeviceId"
            return cmds.Reply(status=400, body=b""), send_fault
        if cmd not in cmds.HANDLERS:
            return cmds.Reply(status=501, body=b""), send_fault
        ctx = Ctx()
        ctx.cmd = cmd
        ctx.query = q
        ctx.version = float(ver)
        ctx.body = body_el
        ctx.raw_body = raw
        ctx.faults = fired
        with st.lock:
            ctx.user = user
            ctx.device = st.device(user, dev_id, q.get("DeviceType", ""))
            ctx.policy_key = self.headers.get("X-MS-PolicyKey") or q.get("_policy_key")
            rec["policy_key"] = ctx.policy_key
            for f in fired:
                if f["type"] == "status" and cmd not in ("Sync", "Ping"):
                    ns, root = cmds.ROOTS.get(cmd, ("AirSync", "Sync"))
                    return cmds.status_reply(ns, root, int(f["status"])), send_fault
            denied = _provision_check(srv, ctx)
            if denied is not None:
                return denied, send_fault
            if srv.exo is not None and not srv.exo.device_info_ok(cmd, ctx.device, rec):
                ns, root = cmds.ROOTS.get(cmd, ("AirSync", "Sync"))
                return cmds.status_reply(ns, root, 165), send_fault
            reply = cmds.HANDLERS[cmd](srv, ctx)
        time.sleep(post_delay)  # outside the lock: the control API still answers
        return reply, send_fault

    # ----------------------------------------------------------------------------------
    def _control(self, method):
        srv = self.eas
        path, _, qs = self.path.partition("?")
        q = dict(urllib.parse.parse_qsl(qs))
        try:
            raw = self._read_body()
            arg = json.loads(raw.decode("utf-8")) if raw.strip() else {}
        except (ValueError, UnicodeDecodeError) as exc:
            return self._json(400, {"error": "bad JSON: %s" % exc})
        parts = [p for p in path.split("/") if p][1:]
        name = parts[0] if parts else ""
        try:
            result = control(srv, method, name, parts[1:], q, arg)
        except (FaultError, chg.ChangeError, KeyError, ValueError, TypeError) as exc:
            return self._json(400, {"error": str(exc)})
        if result is None:
            return self._json(404, {"error": "unknown control call %s %s" % (method, path)})
        self._json(200, result)


def _collections(body):
    out = []
    if body is None:
        return out

    def walk(el):
        if el.name in ("CollectionId", "SrcFldId", "DstFldId") or (el.ns == "Ping" and
                                                                    el.name == "Id"):
            out.append(el.value())
        for c in el.children:
            walk(c)

    walk(body)
    return out


def _client_ops(body):
    """Names of the device's own Sync commands (Add/Change/Delete under Commands)."""
    out = set()
    if body is None:
        return out

    def walk(el, in_commands):
        if in_commands and el.ns == "AirSync" and el.name in ("Add", "Change", "Delete"):
            out.add(el.name)
        for c in el.children:
            walk(c, in_commands or (el.ns == "AirSync" and el.name == "Commands"))

    walk(body, False)
    return out


def _devices(user, dev_id):
    if user is None:
        return []
    if dev_id and dev_id in user.devices:
        return [user.devices[dev_id]]
    return list(user.devices.values()) if not dev_id else []


def _http_fault(handler, f, path, qs):
    status = int(f["status"])
    headers = {}
    if f.get("retry_after") is not None:
        headers["Retry-After"] = str(f["retry_after"])
    if status == 451:
        loc = f.get("location", "same")
        if loc == "same":
            loc = handler.eas.base_url + path
        elif loc == "other":
            loc = handler.eas.base_url + "/alt" + EAS_PATH
        headers["X-MS-Location"] = loc
    for k, v in (f.get("headers") or {}).items():
        headers[k] = str(v)
    body = (f.get("body") or "").encode("utf-8")
    if status == 401:
        headers.setdefault("WWW-Authenticate", 'Basic realm="eas-testserver"')
    return cmds.Reply(status=status, body=body, content_type="text/plain", headers=headers)


def _provision_check(srv, ctx):
    """None when the device may run the command, else the 449 / status 142-144 reply."""
    mode = srv.config.get("provision", "auto")
    if ctx.cmd in ("Provision",) or mode == "off":
        if ctx.device.wipe in ("pending", "account_pending") and ctx.cmd != "Provision":
            pass
        else:
            return None
    dev = ctx.device
    ok = dev.policy_key is not None and ctx.policy_key == dev.policy_key and dev.wipe not in (
        "pending", "account_pending")
    if ok:
        return None
    use_449 = mode == "449" or (mode == "auto" and ctx.version < 14.0)
    if use_449:
        return cmds.Reply(status=449, body=b"")
    if ctx.cmd in ("SendMail", "SmartReply", "SmartForward") and ctx.body is None:
        return cmds.Reply(status=449, body=b"")
    code = 142 if not ctx.policy_key or ctx.policy_key == "0" else 144
    if dev.wipe in ("pending", "account_pending"):
        code = 140
    ns, root = cmds.ROOTS.get(ctx.cmd, ("AirSync", "Sync"))
    return cmds.status_reply(ns, root, code)


def _schedule_inject(srv, f):
    def run():
        for c in f.get("changes", [{"op": "new_mail"}]):
            try:
                chg.apply(srv.store, c)
            except chg.ChangeError:
                pass

    t = threading.Timer(int(f.get("after_ms", 0)) / 1000.0, run)
    t.daemon = True
    t.start()


def control(srv, method, name, rest, q, arg):
    """The /_control API. Returns a JSON-able result, or None for an unknown call."""
    st = srv.store
    if method == "GET" and name == "health":
        return {"ok": True, "url": srv.base_url + EAS_PATH}
    if method == "GET" and name == "requests":
        since = int(q.get("since", 0))
        with srv.rec_lock:
            recs = [r for r in srv.records if r["seq"] > since]
        if "command" in q:
            recs = [r for r in recs if r.get("command") == q["command"]]
        if q.get("bodies") == "0":
            recs = [{k: v for k, v in r.items() if k not in ("body_xml", "response_xml",
                                                             "body_text")} for r in recs]
        return {"requests": recs}
    if method == "GET" and name == "counts":
        return srv.counts()
    if method == "GET" and name == "exo":
        return srv.exo.stats if srv.exo is not None else {}
    if method in ("POST", "DELETE") and name in ("reset_log", "requests"):
        with srv.rec_lock:
            srv.records = []
        return {"ok": True}
    if name == "faults":
        if method == "GET":
            return {"faults": srv.faults.to_json()}
        if method == "DELETE" or (rest and rest[0] == "clear"):
            if rest and rest[0] not in ("clear",):
                return {"removed": srv.faults.remove(int(rest[0]))}
            srv.faults.clear()
            return {"ok": True}
        if method == "POST":
            specs = arg.get("faults") if isinstance(arg, dict) and "faults" in arg else arg
            specs = specs if isinstance(specs, list) else [specs]
            return {"ids": [srv.faults.add(s) for s in specs]}
    if method == "POST" and name == "scenario":
        if arg.get("replace", True):
            srv.faults.clear()
        return {"ids": srv.load_scenario(arg)}
    if method == "POST" and name == "changes":
        specs = arg.get("changes") if isinstance(arg, dict) and "changes" in arg else arg
        specs = specs if isinstance(specs, list) else [specs]
        user = arg.get("user") if isinstance(arg, dict) else None
        out = []
        for s in specs:
            if user and "user" not in s:
                s = dict(s, user=user)
            out.append(chg.apply(st, s))
        return {"results": out}
    if method == "POST" and name == "wipe":
        with st.lock:
            user = st.users[arg.get("user") or next(iter(st.users))]
            devs = _devices(user, arg.get("device"))
            for d in devs:
                d.wipe = "account_pending" if arg.get("account_only") else "pending"
            return {"devices": [d.id for d in devs]}
    if method == "POST" and name == "policy":
        with st.lock:
            if "set" in arg:
                st.policy.update(arg["set"])
            if arg.get("invalidate", True):
                for u in st.users.values():
                    if arg.get("user") and u.name != arg["user"]:
                        continue
                    for d in _devices(u, arg.get("device")):
                        d.policy_key = None
            return {"policy": st.policy}
    if method == "POST" and name == "settings":
        srv.config.update(arg)
        return {"settings": srv.config}
    if method == "GET" and name == "settings":
        return {"settings": srv.config}
    if method == "POST" and name == "reject_ping_folder":
        srv.rejected_ping_folders[str(arg["folder"])] = int(arg.get("status", 7))
        return {"rejected": srv.rejected_ping_folders}
    if method == "GET" and name == "state":
        with st.lock:
            out = {}
            for u in st.users.values():
                if q.get("user") and u.name != q["user"]:
                    continue
                out[u.name] = {d.id: d.to_json() for d in u.devices.values()
                               if not q.get("device") or d.id == q["device"]}
            return {"devices": out}
    if method == "GET" and name == "mailbox":
        return st.snapshot(q.get("user"))
    if method == "GET" and name == "folders":
        with st.lock:
            user = st.users[q.get("user") or next(iter(st.users))]
            return {"folders": [{"id": f.id, "name": f.name, "type": f.type,
                                 "parent": f.parent, "class": f.cls, "count": len(f.items)}
                                for f in user.folders.values()]}
    if method == "GET" and name == "sent":
        return {"sent": st.sent}
    if method == "GET" and name == "meeting_responses":
        return {"meeting_responses": st.meeting_responses}
    return None
