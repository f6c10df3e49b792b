#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""eas-sync --fetch / --fetch-ref against eas-testserver: ItemOperations Fetch on demand.

The oracle is the server's own mailbox (/_control/mailbox), never eas-sync's output:
1. the whole body of "1:4" (72,000 characters; Sync delivers it truncated) byte for byte;
2. the PNG attachment of "1:3" by FileReference, decoded from base64, byte for byte;
3. a 300,000-byte random attachment added through /_control/changes, streamed (far beyond the
   WBXML string limit of the minimal preset and any buffer), compared by SHA-256;
4. the same with the first ItemOperations answer reset in the middle (fault `reset`): the
   attempt is voided (fetch_end final=false), the retry starts over, the file is exact;
5. an unknown FileReference: fetch_end status 15, final, sent once, exit status 1.
"""
import base64
import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile

from enginelib import EAS_SYNC, check, control, start_server
DEVICE = "EASDFETCH1"


def run(tmp, port, *extra):
    pw = os.path.join(tmp, "pw")
    with open(pw, "w") as f:
        f.write("testpass\n")
    out = subprocess.run([EAS_SYNC, "--url", f"http://127.0.0.1:{port}/Microsoft-Server-ActiveSync",
                          "--user", "testuser", "--password-file", pw, "--device-id", DEVICE,
                          "--state", os.path.join(tmp, "state"), "--classes", "Email",
                          "--timeout", "90", "--quiet"] + list(extra),
                         capture_output=True, text=True, timeout=150)
    events = [json.loads(l) for l in out.stdout.splitlines() if l.startswith("{")]
    return out.returncode, events, out


def server_item(port, sid):
    mb = control(port, "mailbox")
    for f in mb["users"][0]["folders"]:
        for it in f["items"]:
            if it["id"] == sid:
                return it["data"]
    return None


def main():
    tmp = tempfile.mkdtemp(prefix="easd-fetch-")
    srv, port = start_server(tmp)
    out = os.path.join(tmp, "out.bin")
    try:
        # 1. whole body
        rc, ev, raw = run(tmp, port, "--fetch", "1:1:4", "--fetch-out", out)
        if rc != 0:
            sys.stderr.write(raw.stdout[-3000:] + raw.stderr[-2000:])
        want = server_item(port, "1:4")["_text"].encode()
        got = open(out, "rb").read()
        check(rc == 0, "item fetch: eas-sync exits 0")
        check(len(want) > 60000 and got.replace(b"\r\n", b"\n") == want,
              "item fetch: the whole %d-byte body, as the server has it" % len(want))
        ends = [e for e in ev if e["event"] == "fetch_end"]
        check(len(ends) == 1 and ends[0]["status"] == 1 and ends[0]["final"],
              "item fetch: one fetch_end, status 1")
        req = control(port, "requests?command=ItemOperations")["requests"]
        check(len(req) == 1 and "TruncationSize" not in json.dumps(req[0]),
              "item fetch: one ItemOperations request, without TruncationSize")

        # 2. the PNG attachment
        att = server_item(port, "1:3")["_attachments"][1]
        rc, ev, _ = run(tmp, port, "--fetch-ref", "1|1:3|1", "--fetch-out", out)
        check(rc == 0 and open(out, "rb").read() == base64.b64decode(att["data"]),
              "attachment fetch: pixel.png byte for byte")

        # 3. a large attachment, streamed
        blob = random.Random(7).randbytes(300000)
        res = control(port, "changes", {"op": "new_mail", "subject": "big attachment",
                                        "text": "see attachment",
                                        "attachments": [{"name": "big.bin",
                                                         "content_type": "application/octet-stream",
                                                         "data": base64.b64encode(blob).decode()}]})
        sid = res["results"][0]["server_id"]
        ref = "1|%s|0" % sid
        rc, ev, _ = run(tmp, port, "--fetch-ref", ref, "--fetch-out", out)
        got = open(out, "rb").read()
        check(rc == 0 and hashlib.sha256(got).digest() == hashlib.sha256(blob).digest(),
              "large attachment: 300,000 bytes streamed, SHA-256 equal")

        # 4. reset in the middle of the answer
        control(port, "faults", {"command": "ItemOperations", "type": "reset",
                                 "after_bytes": 100000})
        rc, ev, _ = run(tmp, port, "--fetch-ref", ref, "--fetch-out", out)
        got = open(out, "rb").read()
        ends = [e for e in ev if e["event"] == "fetch_end"]
        check(rc == 0 and len(ends) == 2 and not ends[0]["final"] and ends[1]["status"] == 1,
              "reset mid-answer: the attempt is voided, the retry completes")
        check(hashlib.sha256(got).digest() == hashlib.sha256(blob).digest(),
              "reset mid-answer: the file is exact (the retry started over)")

        # 5. unknown reference
        before = len(control(port, "requests?command=ItemOperations")["requests"])
        rc, ev, _ = run(tmp, port, "--fetch-ref", "1|1:3|9", "--fetch-out", out)
        ends = [e for e in ev if e["event"] == "fetch_end"]
        after = len(control(port, "requests?command=ItemOperations")["requests"])
        check(rc == 1 and len(ends) == 1 and ends[0]["status"] == 15 and ends[0]["final"]
              and after == before + 1, "unknown FileReference: status 15, final, sent once")
    finally:
        srv.kill()
        srv.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    print("all fetch checks passed")


if __name__ == "__main__":
    main()
