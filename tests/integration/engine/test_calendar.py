#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Calendar items through the engine's calendar collector, against eas-testserver.

eas-sync prints each Calendar item as the core parsed it ("calendar": recurrence, exceptions
attached to their master) and, with --expand-from, its occurrences (eas_cal_expand). This test
plays the application: it keeps one row per (folder, ServerId), upserting in delivery order.

[S 1.12] first sync: one row per ServerId, no exception delivered as an item of its own,
         exceptions attached to their master (deleted ones gone, moved ones moved).
[S 1.9]  double_change (two Changes of one item in one response, the second with the OLDER
         DtStamp) and stale_change (v2 a response later with a DtStamp a week older): the
         application ends with the server's final state; nothing is decided by DtStamp.
[S 1.1]  cancel_occurrence: exactly that occurrence disappears, the series stays, no delete.
"""
import json
import os
import subprocess
import sys
import tempfile

from enginelib import EAS_SYNC, check, control, start_server
DEVICE = "EASDCAL1"


def run_sync(tmp, port):
    pw = os.path.join(tmp, "pw")
    with open(pw, "w") as f:
        f.write("testpass\n")
    out = subprocess.run([EAS_SYNC, "--url", f"http://127.0.0.1:{port}/Microsoft-Server-ActiveSync",
                          "--user", "testuser", "--password-file", pw, "--device-id", DEVICE,
                          "--state", os.path.join(tmp, "state"), "--classes", "Calendar",
                          "--timeout", "60", "--expand-from", "20250101T000000Z",
                          "--expand-days", "366"],
                         capture_output=True, text=True, timeout=120)
    events = [json.loads(l) for l in out.stdout.splitlines() if l.startswith("{")]
    if out.returncode != 0:
        sys.stderr.write(out.stdout[-4000:] + out.stderr[-2000:])
    return out.returncode, events


def apply(table, events):
    """What an application does: upsert by (folder, ServerId) in delivery order."""
    for e in events:
        key = (e.get("folder"), e.get("server_id"))
        if e["event"] in ("item_add", "item_change"):
            table[key] = e["calendar"]
        elif e["event"] == "item_delete":
            table.pop(key, None)


def main():
    with tempfile.TemporaryDirectory() as tmp:
        proc, port = start_server(tmp)
        try:
            table = {}
            rc, ev = run_sync(tmp, port)
            check(rc == 0, "first calendar sync completes")
            items = [e for e in ev if e["event"].startswith("item_")]
            check(all("calendar" in e for e in items), "every calendar item arrives parsed")
            check(not any(e["calendar"].get("error") for e in items), "no item fails to parse")
            apply(table, ev)
            keys = [(e["folder"], e["server_id"]) for e in items]
            # Folders the engine tracks (the minimal preset's table holds 8 of the 12).
            tracked = {e["server_id"] for e in ev if e["event"] == "folder_add"}
            check("6" in tracked, "the Calendar folder is tracked")
            server_count = sum(f["count"] for f in control(port, "folders")["folders"]
                               if f["type"] in (8, 13) and f["id"] in tracked)
            # [S 1.12] one item per ServerId; exceptions are not items of their own.
            check(len(keys) == len(set(keys)) == server_count,
                  f"[S 1.12] {server_count} calendar items, one per ServerId")
            weekly = table[("6", "6:2")]
            check(len(weekly["exceptions"]) == 2, "[S 1.12] both exceptions attached to the master")
            occ = weekly["occurrences"]
            check("20250113T080000Z" not in occ, "[S 1.12] the deleted occurrence is absent")
            check(occ.count("20250115T100000Z*") == 1 and "20250115T080000Z" not in occ,
                  "[S 1.12] the moved occurrence appears once, at its new time")
            check(len(occ) == len(set(occ)), "[S 1.12] no duplicated occurrence")

            # [S 1.9] two changes in one response, the second with the older DtStamp.
            control(port, "faults", {"command": "Sync", "type": "double_change",
                                     "collection": "6", "server_id": "6:9"})
            rc, ev = run_sync(tmp, port)
            check(rc == 0, "incremental sync with double_change completes")
            changes = [e for e in ev if e["event"] == "item_change" and e["server_id"] == "6:9"]
            subjects = [c["calendar"]["subject"] for c in changes]
            check(subjects == ["UTC call [change 1]", "UTC call [change 2]"],
                  f"[S 1.9] both changes delivered in response order: {subjects}")
            check(changes[1]["calendar"]["dtstamp"] < changes[0]["calendar"]["dtstamp"],
                  "[S 1.9] the second change really carries the older DtStamp")
            apply(table, ev)
            check(table[("6", "6:9")]["subject"] == "UTC call [change 2]",
                  "[S 1.9] the later change wins despite its older DtStamp")

            # [S 1.9] across responses: v1 now, v2 next response with a DtStamp a week older.
            control(port, "faults", {"command": "Sync", "type": "stale_change",
                                     "collection": "6", "server_id": "6:5"})
            rc, ev = run_sync(tmp, port)
            check(rc == 0, "stale_change first half")
            apply(table, ev)
            v1 = table[("6", "6:5")]
            rc, ev = run_sync(tmp, port)
            check(rc == 0, "stale_change second half")
            apply(table, ev)
            v2 = table[("6", "6:5")]
            check(v1["subject"].endswith("[stale-test v1]") and
                  v2["subject"].endswith("[stale-test v2]"),
                  "[S 1.9] the later response's change is applied")
            check(v2["dtstamp"] < v1["dtstamp"], "[S 1.9] ... although its DtStamp is older")
            server_item = [i for f in control(port, "mailbox")["users"][0]["folders"]
                           if f["id"] == "6" for i in f["items"] if i["id"] == "6:5"][0]
            check(server_item["data"]["Subject"] == v2["subject"],
                  "[S 1.9] device and server agree on the final state")

            # [S 1.1] cancel one occurrence of the daily series.
            daily_before = list(table[("6", "6:3")]["occurrences"])
            check("20250207T070000Z" in daily_before, "the occurrence to cancel exists")
            control(port, "changes", {"op": "cancel_occurrence", "server_id": "6:3",
                                      "occurrence": "20250207T070000Z"})
            rc, ev = run_sync(tmp, port)
            check(rc == 0, "sync after cancel_occurrence completes")
            check(not any(e["event"] == "item_delete" for e in ev),
                  "[S 1.1] the series is not deleted")
            apply(table, ev)
            daily_after = table[("6", "6:3")]["occurrences"]
            check(daily_after == [o for o in daily_before if o != "20250207T070000Z"],
                  "[S 1.1] exactly that occurrence is gone, all others stay")
            check(any(x["exception_start"] == "20250207T070000Z" and x["deleted"] == 1
                      for x in table[("6", "6:3")]["exceptions"]),
                  "[S 1.1] as a Deleted exception of the master")
        finally:
            proc.kill()
            proc.wait()
    print("all passed")


if __name__ == "__main__":
    main()
