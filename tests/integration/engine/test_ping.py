#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Ping against eas-testserver (eas-sync --push, --ping-scale 0.01).

[S 2.15] The server rejects every Ping naming folder 7 (Contacts) with status 7, without saying
which folder it is about. The engine refreshes the hierarchy, then narrows the set (Calendar,
Contacts, Tasks) down to folder 7, reports it (ping_rejected) and keeps pinging the others; no
rejected Ping is ever sent again with the same content. A change during a Ping: status 2 → only that folder syncs.
"""
import json
import os
import subprocess
import tempfile
import threading
import time

from enginelib import EAS_SYNC, check, control, start_server


def main():
    with tempfile.TemporaryDirectory() as tmp:
        proc, port = start_server(tmp, "--ping-scale", "0.01")
        try:
            control(port, "reject_ping_folder", {"folder": "7", "status": 7})
            pw = os.path.join(tmp, "pw")
            with open(pw, "w") as f:
                f.write("testpass\n")
            # A new mail... no: a calendar change while the device waits in Ping.
            def later():
                time.sleep(8)
                control(port, "changes", {"op": "change_item", "server_id": "6:9",
                                          "set": {"Subject": "changed during Ping"}})
            t = threading.Thread(target=later)
            t.start()
            out = subprocess.run([EAS_SYNC, "--url",
                                  f"http://127.0.0.1:{port}/Microsoft-Server-ActiveSync",
                                  "--user", "testuser", "--password-file", pw, "--device-id",
                                  "EASDPING1", "--state", os.path.join(tmp, "state"),
                                  "--classes", "Calendar,Contacts,Tasks", "--timeout", "60", "--push", "14"],
                                 capture_output=True, text=True, timeout=120)
            t.join()
            ev = [json.loads(l) for l in out.stdout.splitlines() if l.startswith("{")]
            check(out.returncode == 0, "eas-sync --push completes")
            rej = [e for e in ev if e["event"] == "ping_rejected"]
            check([(e["folder"], e["status"]) for e in rej] == [("7", 7)],
                  f"[S 2.15] folder 7 reported once as rejected (status 7): {rej}")
            reqs = control(port, "requests?command=Ping")["requests"]
            rejected = [r["body_xml"] for r in reqs if r.get("eas_status") not in (1, 2)]
            for i, r in enumerate(reqs):
                if r.get("eas_status") not in (1, 2):
                    later_same = [q for q in reqs[i + 1:] if q["body_xml"] == r["body_xml"]]
                    check(not later_same, f"[S 2.15] rejected Ping #{r['seq']} never resent")
            check(len(rejected) <= 3, f"[S 2.15] found with {len(rejected)} rejected Pings")
            accepted = [r for r in reqs if r.get("eas_status") in (1, 2)]
            first_rej = min(r["seq"] for r in reqs if r.get("eas_status") not in (1, 2))
            last = accepted[-1]["body_xml"] if accepted else ""
            check(accepted and "<Id>7</Id>" not in last and "<Id>6</Id>" in last and
                  "<Id>8</Id>" in last,
                  "later Pings carry folders 6 and 8, not folder 7")
            check(len([r for r in reqs if r["seq"] > first_rej and
                       "<Id>7</Id>" in r["body_xml"]]) <= 2,
                  "[S 2.15] folder 7 is in at most 2 probe Pings after the first rejection")
            changed = [e for e in ev if e["event"] == "item_change" and e["server_id"] == "6:9"]
            check(len(changed) == 1, "the change during the Ping arrives (Ping 2 → Sync)")
            syncs = control(port, "requests?command=Sync")["requests"]
            after2 = [s for s in syncs if s["seq"] > [r for r in reqs
                                                      if r.get("eas_status") == 2][0]["seq"]]
            check(after2 and all("<CollectionId>6</CollectionId>" in s["body_xml"]
                                 for s in after2),
                  "after Ping 2 only the changed folder is synced")
        finally:
            proc.kill()
            proc.wait()
    print("all passed")


if __name__ == "__main__":
    main()
