#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Engine calls made from inside on_event() (docs/integration.md §8), against
tools/eas-testserver over HTTPS: reentry_client queues a change and a delete, asks for a
fetch and a sync from inside the callback; the server must end up with the change and the
delete applied, the fetch must deliver the whole body, a second fetch asked from FETCH_END
must be refused with EAS_ERR_BUSY (never silently lost), and the outbox must end empty.
"""
import json
import os
import re
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request

failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def main():
    client, src = sys.argv[1], sys.argv[2]
    with open(os.path.join(src, "eas", "include", "eas", "eas_err.h")) as f:
        busy = int(re.search(r"X\(EAS_ERR_BUSY,\s*(-?\d+)", f.read()).group(1))
    mailbox = os.path.join(src, "tools", "eas-testserver", "mailboxes", "demo.json")
    with open(mailbox) as f:
        body_len = len(next(it for fo in json.load(f)["users"][0]["folders"]
                            for it in fo.get("items", []) if it["id"] == "1:4")["data"]["_text"])
    tmp = tempfile.mkdtemp(prefix="easd-reentry-")
    server = None
    try:
        cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                        key, "-out", cert, "-days", "2", "-subj", "/CN=localhost",
                        "-addext", "subjectAltName=DNS:localhost"], check=True,
                       capture_output=True)
        port_file = os.path.join(tmp, "port")
        server = subprocess.Popen(
            [sys.executable, os.path.join(src, "tools", "eas-testserver", "eas-testserver"),
             "--mailbox", mailbox, "--port", "0", "--port-file", port_file,
             "--tls-cert", cert, "--tls-key", key],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while not os.path.exists(port_file) and time.monotonic() < deadline:
            time.sleep(0.05)
        with open(port_file) as f:
            base = "https://localhost:%d" % int(f.read().strip())
        pw = os.path.join(tmp, "password")
        with open(os.open(pw, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
            f.write("testpass\n")
        r = subprocess.run([client, base + "/Microsoft-Server-ActiveSync", "testuser", pw,
                            "REENTRY0001", os.path.join(tmp, "state"), cert],
                           capture_output=True, text=True, timeout=150)
        out = r.stdout
        print(out, r.stderr[-3000:], sep="\n")
        check(r.returncode == 0 and re.search(r"^end 1 pending 0 ", out, re.M) is not None,
              "first sync complete, outbox empty, fetch ended")
        for call in ("item_change", "fetch", "item_delete", "sync_now"):
            check(re.search(r"^call %s 0$" % call, out, re.M) is not None,
                  "%s from on_event returns EAS_OK" % call)
        check(re.search(r"^call fetch_again %d$" % busy, out, re.M) is not None,
              "eas_fetch from FETCH_END is refused with EAS_ERR_BUSY")
        check(re.search(r"^pending 1$", out, re.M) is not None,
              "the change is queued (persisted) when eas_item_change returns")
        check(re.search(r"^folder found$", out, re.M) is not None, "eas_engine_folder works")
        m = re.search(r"^fetch_end status 1 final 1 bytes (\d+)$", out, re.M)
        check(m is not None and int(m.group(1)) >= body_len,
              "the fetch asked from on_event delivers the whole body (%s of >= %d bytes)"
              % (m.group(1) if m else "-", body_len))
        check(re.search(r"^outbox_result kind 2 status 1 final 1$", out, re.M) is not None,
              "the change was answered Status 1")
        check(re.search(r"^outbox_result kind 3 status 1 final 1$", out, re.M) is not None,
              "the delete was answered Status 1")
        # (the minimal preset's table of 8 folders reports the demo mailbox's others as full)
        errors = [e for e in re.findall(r"^error .*$", out, re.M) if "folder table full" not in e]
        check(not errors, "no other error events: %s" % errors[:3])
        tls = ssl.create_default_context(cafile=cert)
        with urllib.request.urlopen(base + "/_control/mailbox?user=testuser", context=tls,
                                    timeout=10) as resp:
            box = json.load(resp)
        items = {it["id"]: (fo["id"], it) for fo in box["users"][0]["folders"]
                 for it in fo.get("items", [])}
        check(items.get("1:2", (None, {}))[1].get("data", {}).get("Read") in (1, "1"),
              "the server has item 1:2 read")
        check("4:1" not in items or items["4:1"][0] != "4", "the server deleted item 4:1")
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
        shutil.rmtree(tmp, ignore_errors=True)
    print("%d failure(s)" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
