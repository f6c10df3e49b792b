#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""eas-sync --send-mime against eas-testserver: SendMail / SmartReply, exactly once [S 2.14].

The oracle is /_control/sent (every message the server accepted) and the mailbox:
1. SendMail with SaveInSentItems: one record, our MIME byte for byte, a random ClientId, a copy
   in Sent Items;
2. a 200 KB message (streamed from the draft file through the restartable producer) arrives
   intact;
3. SmartReply reply-all [S 2.14]: the user's own address (any case, bare or with a display
   name) is gone from To and Cc, the other recipients stay, Source names the original;
4. protocol 12.1: the message is the request body (message/rfc822), SaveInSent in the query;
5. the first SendMail is accepted and its answer reset: the resend carries the same ClientId,
   the server recognises it (118) and there is still exactly one message;
6. the same with eas-sync SIGKILLed after the server accepted it and restarted.
"""
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from enginelib import EAS_SYNC, check, control, start_server
DEVICE = "EASDSEND1"
ME = "testuser@example.test"


def argv(tmp, port, *extra):
    pw = os.path.join(tmp, "pw")
    with open(pw, "w") as f:
        f.write("testpass\n")
    return [EAS_SYNC, "--url", f"http://127.0.0.1:{port}/Microsoft-Server-ActiveSync",
            "--user", "testuser", "--password-file", pw, "--device-id", DEVICE,
            "--state", os.path.join(tmp, "state"), "--classes", "Email", "--email", ME,
            "--timeout", "90", "--quiet"] + list(extra)


def run(tmp, port, *extra):
    out = subprocess.run(argv(tmp, port, *extra), capture_output=True, text=True, timeout=150)
    if out.returncode != 0:
        sys.stderr.write(out.stdout[-3000:] + out.stderr[-2000:])
    return out.returncode


def write_mime(tmp, name, headers, body):
    path = os.path.join(tmp, name)
    with open(path, "wb") as f:
        f.write(("\r\n".join(headers) + "\r\n\r\n" + body).encode())
    return path, open(path, "rb").read()


def sent(port):
    return control(port, "sent")["sent"]


def sent_items(port):
    return [f["count"] for f in control(port, "folders")["folders"] if f["id"] == "4"][0]


def fresh(tmp):
    shutil.rmtree(os.path.join(tmp, "state"), ignore_errors=True)
    return start_server(tmp)


def main():
    tmp = tempfile.mkdtemp(prefix="easd-send-")
    plain_h = ["From: Test User <%s>" % ME, "To: Alice <alice@example.test>",
               "Subject: easd send test", "MIME-Version: 1.0",
               "Content-Type: text/plain; charset=utf-8"]
    try:
        srv, port = fresh(tmp)
        try:
            path, mime = write_mime(tmp, "plain.eml", plain_h, "Hello from easd.\r\n")
            before = sent_items(port)
            rc = run(tmp, port, "--send-mime", path, "--save-in-sent")
            s = sent(port)
            check(rc == 0 and len(s) == 1 and s[0]["command"] == "SendMail",
                  "SendMail: exactly one message")
            check(s[0]["mime"].encode() == mime and s[0]["save_in_sent"]
                  and re.fullmatch(r"[0-9a-f]{16}", s[0]["client_id"] or ""),
                  "SendMail: our MIME byte for byte, SaveInSentItems, random ClientId")
            check(sent_items(port) == before + 1, "SendMail: a copy in Sent Items")
            check(run(tmp, port, "--send-mime", path, "--save-in-sent") == 0 and len(sent(port)) == 1,
                  "SendMail: a second run with the same draft sends nothing")

            big = "".join("line %06d of a long message streamed from the draft\r\n" % i
                          for i in range(3800))
            path, mime = write_mime(tmp, "big.eml", plain_h[:2] + ["Subject: big"] + plain_h[3:],
                                    big)
            rc = run(tmp, port, "--send-mime", path)
            s = [r for r in sent(port) if r["subject"] == "big"]
            check(rc == 0 and len(mime) > 200000 and len(s) == 1 and s[0]["mime"].encode() == mime,
                  "SendMail: a %d-byte message arrives intact" % len(mime))
        finally:
            srv.kill()
            srv.wait()

        srv, port = fresh(tmp)
        try:
            path, mime = write_mime(tmp, "v121.eml", plain_h[:2] + ["Subject: via 12.1"] +
                                    plain_h[3:], "Sent with protocol 12.1.\r\n")
            rc = run(tmp, port, "--send-mime", path, "--save-in-sent", "--max-version", "12.1")
            s = sent(port)
            check(rc == 0 and len(s) == 1 and s[0]["mime"].encode() == mime
                  and s[0]["save_in_sent"] and s[0]["client_id"] is None,
                  "12.1: SendMail with the message as the body, SaveInSent=T in the query")
        finally:
            srv.kill()
            srv.wait()

        srv, port = fresh(tmp)
        try:
            hdr = ["From: Test User <%s>" % ME,
                   "To: Alice <alice@example.test>, %s" % ME,
                   "Cc: Bob <bob@example.test>, \"Test User\" <TESTUSER@Example.Test>",
                   "Subject: Re: Quarterly report (HTML)", "MIME-Version: 1.0",
                   "Content-Type: text/plain; charset=utf-8"]
            path, _ = write_mime(tmp, "reply.eml", hdr, "Thanks, all.\r\n")
            rc = run(tmp, port, "--send-mime", path, "--reply", "1:1:2", "--reply-all")
            s = sent(port)
            check(rc == 0 and len(s) == 1 and s[0]["command"] == "SmartReply"
                  and s[0]["source"].get("ItemId") == "1:2", "SmartReply: one, of 1:2")
            rcpt = (s[0]["to"] + "," + s[0]["cc"]).lower()
            check(ME not in rcpt and "alice@example.test" in rcpt and "bob@example.test" in rcpt,
                  "reply-all [S 2.14]: own address dropped, others kept (%s | %s)"
                  % (s[0]["to"], s[0]["cc"]))
        finally:
            srv.kill()
            srv.wait()

        srv, port = fresh(tmp)
        try:
            path, _ = write_mime(tmp, "plain.eml", plain_h, "Hello once.\r\n")
            control(port, "faults", {"command": "SendMail", "type": "reset", "after_bytes": 10})
            rc = run(tmp, port, "--send-mime", path)
            reqs = control(port, "counts")["commands"].get("SendMail", 0)
            check(rc == 0 and reqs == 2 and len(sent(port)) == 1,
                  "reset after accept: resent once with the same ClientId, one message")
        finally:
            srv.kill()
            srv.wait()

        srv, port = fresh(tmp)
        try:
            control(port, "faults", {"command": "SendMail", "type": "reset", "after_bytes": 10})
            p = subprocess.Popen(argv(tmp, port, "--send-mime", path), stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
            t0 = time.time()
            while not sent(port) and time.time() - t0 < 60 and p.poll() is None:
                time.sleep(0.02)
            p.send_signal(signal.SIGKILL)
            p.wait()
            check(len(sent(port)) == 1, "kill: the server accepted it before the kill")
            rc = run(tmp, port, "--send-mime", path)
            check(rc == 0 and len(sent(port)) == 1,
                  "kill: after SIGKILL and restart, still exactly one message")
        finally:
            srv.kill()
            srv.wait()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("all send checks passed")


if __name__ == "__main__":
    main()
