#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""HTTP 451 against eas-testserver (fault http 451, location other / same).

1. "other": the engine follows X-MS-Location (/alt/Microsoft-Server-ActiveSync), replays
   the request there, completes the sync, and a second run with the same state goes to the
   new URL directly (persisted).
2. "same": a redirect back to the URL that answered is detected and reported
   (EAS_ERR_HTTP_REDIRECT_LOOP); the retry waits for the back-off (no tight 451 loop) and
   the sync then completes.
"""
import json
import os
import subprocess
import tempfile

from enginelib import EAS_SYNC, check, control, start_server


def run_sync(tmp, port, state, device):
    pw = os.path.join(tmp, "pw")
    with open(pw, "w") as f:
        f.write("testpass\n")
    out = subprocess.run([EAS_SYNC, "--url", f"http://127.0.0.1:{port}/Microsoft-Server-ActiveSync",
                          "--user", "testuser", "--password-file", pw, "--device-id", device,
                          "--state", state, "--classes", "Calendar", "--timeout", "60"],
                         capture_output=True, text=True, timeout=120)
    return out.returncode, [json.loads(l) for l in out.stdout.splitlines() if l.startswith("{")]


def main():
    with tempfile.TemporaryDirectory() as tmp:
        proc, port = start_server(tmp)
        try:
            control(port, "faults", {"command": "FolderSync", "type": "http", "status": 451,
                                     "location": "other", "device": "EASDREDIR1"})
            state = os.path.join(tmp, "s1")
            rc, ev = run_sync(tmp, port, state, "EASDREDIR1")
            check(rc == 0, "451 other: the sync completes")
            reqs = [r for r in control(port, "requests?bodies=0")["requests"]
                    if r.get("device") == "EASDREDIR1"]
            i451 = [i for i, r in enumerate(reqs) if r["status"] == 451]
            check(len(i451) == 1, "one 451 answer")
            after = reqs[i451[0] + 1:]
            check(after and after[0]["command"] == "FolderSync" and
                  after[0]["path"].startswith("/alt/"), "the FolderSync is replayed at the new URL")
            check(all(r["path"].startswith("/alt/") for r in after),
                  "every later request goes to the new URL")
            seq = reqs[-1]["seq"]
            rc, ev = run_sync(tmp, port, state, "EASDREDIR1")
            check(rc == 0, "second run completes")
            later = [r for r in control(port, f"requests?bodies=0&since={seq}")["requests"]
                     if r.get("device") == "EASDREDIR1"]
            check(later and all(r["path"].startswith("/alt/") for r in later),
                  "after a restart the persisted URL is used directly")

            control(port, "faults", {"command": "FolderSync", "type": "http", "status": 451,
                                     "location": "same", "device": "EASDREDIR2"})
            rc, ev = run_sync(tmp, port, os.path.join(tmp, "s2"), "EASDREDIR2")
            check(rc == 0, "451 same: the sync completes after the back-off")
            errors = [e for e in ev if e["event"] == "error"]
            check(any(e["error"] == "EAS_ERR_HTTP_REDIRECT_LOOP" for e in errors),
                  "the redirect loop is reported")
            reqs = [r for r in control(port, "requests?bodies=0")["requests"]
                    if r.get("device") == "EASDREDIR2"]
            i = [k for k, r in enumerate(reqs) if r["status"] == 451][0]
            gap = reqs[i + 1]["mono"] - reqs[i]["mono"]  # the clock the client schedules with
            check(gap >= 0.9, f"the retry waited for the back-off ({gap:.2f} s), no tight loop")
            check(reqs[i + 1]["path"] == reqs[i]["path"], "... at the unchanged URL")
        finally:
            proc.kill()
            proc.wait()
    print("all passed")


if __name__ == "__main__":
    main()
