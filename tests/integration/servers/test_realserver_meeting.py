#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""[S 1.15] A MeetingResponse to an Inbox invitation against a real server (SOGo 5.8, Horde
2.41), with its answer lost after the server applied it: exactly one request.

An invitation (text/calendar METHOD:REQUEST from another organizer) is put into the Inbox by
IMAP APPEND; eas-sync syncs it and the test takes its Email:MeetingRequest/GlobalObjId from
the item as the application received it. eas-sync then accepts it with --respond-uid; a relay
between eas-sync and the server forwards the MeetingResponse, reads the server's answer and
resets the connection instead of passing it on (the server applied it, the device never
heard). The engine must not send it again: on SOGo the calendar item with the meeting's UID
now shows ResponseType 3 (SOGo keeps the invitation and accepts a second response), on Horde
the invitation is deleted as well. Checked: one MeetingResponse through the relay, result
status 1, and a fresh device sees the calendar item with that UID and ResponseType 3.

On SOGo a second invitation is answered the same way without --respond-uid: the engine
cannot prove the first send and sends again, and SOGo applies the duplicate - the case the
identity exists for (the control that shows the relay test can fail).

    test_realserver_meeting.py --sync B/tools/eas-sync --env /tmp/eas-sogo/eas-sogo.env \\
                               --server sogo
"""
import argparse
import base64
import email.utils
import imaplib
import os
import socket
import struct
import sys
import tempfile
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_realserver as rs  # noqa: E402
from sessionlib import Failure, View, check, field  # noqa: E402

MR_CODE = 15  # MeetingResponse in the base64 query form (MS-ASHTTP)


def _read_head(sock, buf):
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            return None, buf
        buf += chunk
    head, _, rest = buf.partition(b"\r\n\r\n")
    return head + b"\r\n\r\n", rest


def _read_message(sock, buf):
    """One HTTP/1.1 message (Content-Length or chunked body): (bytes, rest) or (None, ...)."""
    head, rest = _read_head(sock, buf)
    if head is None:
        return None, rest
    lines = head.decode("latin-1").split("\r\n")
    hdr = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:])}
    if hdr.get("transfer-encoding", "").lower() == "chunked":
        body = b""
        while True:
            while b"\r\n" not in rest:
                rest += sock.recv(65536)
            size_line, _, rest = rest.partition(b"\r\n")
            size = int(size_line.split(b";")[0], 16)
            while len(rest) < size + 2:
                rest += sock.recv(65536)
            body += size_line + b"\r\n" + rest[:size + 2]
            rest = rest[size + 2:]
            if size == 0:
                return head + body, rest
    n = int(hdr.get("content-length", "0"))
    while len(rest) < n:
        chunk = sock.recv(65536)
        if not chunk:
            return None, rest
        rest += chunk
    return head + rest[:n], rest[n:]


def _is_mr(request_line):
    target = request_line.split(" ")[1] if " " in request_line else ""
    query = urllib.parse.urlsplit(target).query
    if "Cmd=MeetingResponse" in query:
        return True
    if query and "=" not in query:
        try:
            raw = base64.b64decode(urllib.parse.unquote(query) + "===")
            return len(raw) > 1 and raw[1] == MR_CODE
        except ValueError:
            return False
    return False


class Relay:
    """HTTP relay to the server; counts MeetingResponse requests and, while `lose` is set,
    loses the server's answer to one of them (connection reset after the server answered)."""

    def __init__(self, host, port):
        self.host, self.port = host, port
        self.lsock = socket.socket()
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(16)
        self.url_port = self.lsock.getsockname()[1]
        self.mr = 0
        self.lost = 0
        self.lose = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                c, _ = self.lsock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _serve(self, c):
        s = socket.create_connection((self.host, self.port), timeout=120)
        cbuf = sbuf = b""
        try:
            while True:
                req, cbuf = _read_message(c, cbuf)
                if req is None:
                    return
                mr = _is_mr(req.split(b"\r\n", 1)[0].decode("latin-1"))
                self.mr += 1 if mr else 0
                s.sendall(req)
                rsp, sbuf = _read_message(s, sbuf)
                if rsp is None:
                    return
                if mr and self.lose:
                    self.lose = False
                    self.lost += 1
                    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    return
                c.sendall(rsp)
        except OSError:
            return
        finally:
            c.close()
            s.close()

    def close(self):
        self.lsock.close()


def append_invitation(env, tag):
    uid = "%s-uid@example.test" % tag
    ics = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//easd test//EN\r\nMETHOD:REQUEST\r\n"
           "BEGIN:VEVENT\r\nUID:%s\r\nDTSTAMP:20260101T080000Z\r\n"
           "DTSTART:20261210T130000Z\r\nDTEND:20261210T140000Z\r\nSUMMARY:%s meeting\r\n"
           "ORGANIZER;CN=Erin:mailto:erin@example.test\r\n"
           "ATTENDEE;CN=Test User;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:%s\r\n"
           "SEQUENCE:0\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n") % (uid, tag, env["EAS_EMAIL"])
    msg = ("From: Erin <erin@example.test>\r\nTo: %s\r\nSubject: Invitation: %s meeting\r\n"
           "Date: %s\r\nMessage-ID: <%s@example.test>\r\nMIME-Version: 1.0\r\n"
           "Content-Type: multipart/alternative; boundary=\"b1\"\r\n\r\n--b1\r\n"
           "Content-Type: text/plain; charset=utf-8\r\n\r\nPlease come.\r\n--b1\r\n"
           "Content-Type: text/calendar; charset=utf-8; method=REQUEST\r\n\r\n%s--b1--\r\n") % (
               env["EAS_EMAIL"], tag, email.utils.formatdate(), tag, ics)
    m = imaplib.IMAP4(env.get("EAS_IMAP_HOST", "127.0.0.1"), int(env["EAS_IMAP_PORT"]))
    m.login(env["EAS_USER"], env["EAS_PASS"])
    typ, _ = m.append("INBOX", None, imaplib.Time2Internaldate(time.time()), msg.encode())
    m.logout()
    check(typ == "OK", "IMAP APPEND of the invitation failed")
    return uid


def respond_case(tmp, env, relay, url, tag, named, extra):
    """Append an invitation, sync it, accept it with its answer lost; returns (MeetingResponse
    requests through the relay for this answer, the outbox result, the invitation's UID)."""
    uid = append_invitation(env, tag)
    state = os.path.join(tmp, "state-" + tag)
    dev = "mr" + tag.replace("-", "")[-10:]
    ev, _, _ = rs.run_sync(tmp, url, env, dev, state, extra=extra)
    view = View().apply(ev)
    inv = [(k, e) for k, e in view.items.items() if e.get("class") == "Email" and
           (field(e, "Subject") or "").endswith(tag + " meeting")]
    check(len(inv) == 1, "the invitation %s did not arrive in the Inbox", tag)
    (fid, sid), item = inv[0]
    goid = field(item, "GlobalObjId")
    check(goid, "the invitation has no MeetingRequest/GlobalObjId: %s", item.get("fields"))
    respond = ["--respond", "%s:accept" % sid, "--respond-folder", fid]
    if named:
        respond += ["--respond-uid", goid]
    before = relay.mr
    relay.lose = True
    ev, _, _ = rs.run_sync(tmp, url, env, dev, state, extra=extra + respond, timeout_s=120)
    check(relay.lost == 1 and not relay.lose, "the relay did not lose the answer")
    relay.lost = 0
    res = [e for e in ev if e.get("event") == "outbox_result"]
    return relay.mr - before, res, uid, dev, state


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sync", required=True)
    ap.add_argument("--env", required=True)
    ap.add_argument("--server", required=True, choices=("sogo", "horde"))
    ap.add_argument("--version", default=None)
    opt = ap.parse_args()
    rs.OPT = opt
    env = rs.load_env(opt.env)
    target = urllib.parse.urlsplit(env["EAS_URL"])
    check(target.scheme == "http", "the relay speaks plain http: %s", env["EAS_URL"])
    relay = Relay(target.hostname, target.port or 80)
    url = "http://127.0.0.1:%d%s" % (relay.url_port, target.path)
    extra = ["--classes", "Email,Calendar"]
    if opt.version:
        extra += ["--max-version", opt.version]
    tmp = tempfile.mkdtemp(prefix="easd-realserver-meeting-")
    ok = False
    try:
        tag = "mr%s-%d" % (opt.server, int(time.time()))
        n, res, uid, dev, state = respond_case(tmp, env, relay, url, tag, True, extra)
        check(n == 1, "%s: %d MeetingResponse requests after the lost answer (want 1)",
              opt.server, n)
        check(len(res) == 1 and res[0].get("status") == 1,
              "%s: the application did not hear status 1: %s", opt.server, res)
        # What the server shows, through a fresh device.
        ev, _, _ = rs.run_sync(tmp, url, env, dev + "v", state + "v", extra=extra)
        cal = [e for e in View().apply(ev).items.values()
               if e.get("class") == "Calendar" and field(e, "UID") == uid]
        check(len(cal) == 1 and field(cal[0], "ResponseType") == "3",
              "%s: no calendar item %s with ResponseType 3: %s", opt.server, uid,
              [(field(e, "UID"), field(e, "ResponseType")) for e in cal])
        print("  %s: lost answer, 1 MeetingResponse request; calendar item %s ResponseType 3"
              % (opt.server, uid))
        if opt.server == "sogo":
            n2, res2, _, _, _ = respond_case(tmp, env, relay, url, tag + "-unnamed", False,
                                             extra)
            check(n2 == 2 and res2 and res2[-1].get("status") == 1,
                  "sogo without the meeting's identity: %d requests (expected the resend "
                  "SOGo applies twice), %s", n2, res2)
            print("  sogo control: without --respond-uid the lost answer gives 2 requests, "
                  "both applied")
        ok = True
    except Failure as exc:
        print("FAIL %s" % exc)
    finally:
        relay.close()
        if ok:
            import shutil
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print("  files in %s" % tmp)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
