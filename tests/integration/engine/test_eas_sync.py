#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""eas-sync against the fault-injecting test server (loopback).

1. First sync of the demo mailbox: exit 0, every folder reported, every item exactly once.
   Without --push no Ping follows the sync (the engine's no_push): the run ends idle.
2. Second run with the same state dir: incremental (no FolderSync from 0, no items again).
3. --provision 449 at 16.0 and at 14.1: HTTP 449 → Provision (policy + ack) → the failed
   request replayed with the final key [S 2.12]; the sync completes.
"""
import json
import os
import subprocess
import tempfile

from enginelib import EAS_SYNC, check, start_server


def run_sync(tmp, port, state, device):
    pw = os.path.join(tmp, "pw")
    with open(pw, "w") as f:
        f.write("testpass\n")
    out = subprocess.run([EAS_SYNC, "--url", f"http://127.0.0.1:{port}/Microsoft-Server-ActiveSync",
                          "--user", "testuser", "--password-file", pw, "--device-id", device,
                          "--state", state, "--timeout", "60"],
                         capture_output=True, text=True, timeout=120)
    events = [json.loads(l) for l in out.stdout.splitlines() if l.startswith("{")]
    return out.returncode, events


def main():
    with tempfile.TemporaryDirectory() as tmp:
        proc, port = start_server(tmp)
        try:
            state = os.path.join(tmp, "state")
            rc, ev = run_sync(tmp, port, state, "EASDINTEG1")
            check(rc == 0, "first sync exits 0")
            summary = ev[-1]
            check(summary.get("event") == "summary" and summary["complete"], "summary says complete")
            # Without --push the run ends with the last Sync: the engine (no_push) never
            # entered the Ping and rests idle.
            states = [e["state"] for e in ev if e["event"] == "state"]
            check(summary.get("state") == "idle" and "pinging" not in states,
                  f"no Ping after the sync (state {summary.get('state')}, {states[-3:]})")
            adds = [e for e in ev if e["event"] == "item_add"]
            ids = [(e["folder"], e["server_id"]) for e in adds]
            check(len(ids) > 0 and len(ids) == len(set(ids)), f"{len(ids)} items, each exactly once")
            check(any(e["event"] == "folder_add" for e in ev), "folders reported")
            rc, ev2 = run_sync(tmp, port, state, "EASDINTEG1")
            check(rc == 0, "second run exits 0")
            check(not any(e["event"] == "folder_add" for e in ev2), "no FolderSync from 0 again")
            check(not any(e["event"] == "item_add" for e in ev2), "no item delivered twice")
            check(ev2[-1].get("state") == "idle" and
                  not any(e["event"] == "state" and e["state"] == "pinging" for e in ev2),
                  "second run: no Ping either")
        finally:
            proc.kill()
            proc.wait()
        for ver in ("16.0", "14.1"):
            sub = os.path.join(tmp, "p" + ver)
            os.makedirs(sub)
            proc, port = start_server(sub, "--provision", "449", "--versions", ver)
            try:
                rc, ev = run_sync(sub, port, os.path.join(sub, "state"), "EASDINTEG2")
                check(rc == 0, f"enforced provisioning at {ver}: sync completes")
                states = [e["state"] for e in ev if e["event"] == "state"]
                check("provisioning" in states, f"{ver}: provisioned")
            finally:
                proc.kill()
                proc.wait()
    print("all passed")


if __name__ == "__main__":
    main()
