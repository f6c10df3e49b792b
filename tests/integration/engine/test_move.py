#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""eas-sync --move and --progress against eas-testserver (MoveItems, GetItemEstimate).

The oracle is the server's mailbox (/_control/mailbox):
1. --move 1:1:2:3 moves "Quarterly report (HTML)" from the Inbox to Deleted Items: exactly one
   copy, in the destination; eas-sync reports status 3 with the new ServerId;
2. the first MoveItems is applied and its answer reset (fault `reset`): the retry finds the
   item gone (Status 1) and counts it as moved; still exactly one copy;
3. the same, with eas-sync SIGKILLed after the server applied it and restarted;
4. --progress: one progress event per selected folder before its first items, whose estimate
   equals the number of items the server holds there (and the items eas-sync then received).
   Built without CONFIG_EAS_ESTIMATE (environment EASD_NO_ESTIMATE=1, set by CMake): eas-sync
   --progress fails at start without a request to the server; the move checks run without it.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from enginelib import EAS_SYNC, check, control, start_server
DEVICE = "EASDMOVE1"
NO_ESTIMATE = os.environ.get("EASD_NO_ESTIMATE") == "1"
SUBJECT = "Quarterly report (HTML)"


def argv(tmp, port, *extra):
    pw = os.path.join(tmp, "pw")
    with open(pw, "w") as f:
        f.write("testpass\n")
    return [EAS_SYNC, "--url", f"http://127.0.0.1:{port}/Microsoft-Server-ActiveSync",
            "--user", "testuser", "--password-file", pw, "--device-id", DEVICE,
            "--state", os.path.join(tmp, "state"), "--classes", "Email",
            "--timeout", "90"] + [x for x in extra if x != "--verbose"] + \
        ([] if "--verbose" in extra else ["--quiet"])


def run(tmp, port, *extra):
    out = subprocess.run(argv(tmp, port, *extra), capture_output=True, text=True, timeout=150)
    if out.returncode != 0:
        sys.stderr.write(out.stdout[-3000:] + out.stderr[-2000:])
    return out.returncode, [json.loads(l) for l in out.stdout.splitlines() if l.startswith("{")]


def where(port):
    """Folders holding the moved message (by subject), one entry per copy."""
    mb = control(port, "mailbox")
    return [f["id"] for f in mb["users"][0]["folders"] for it in f["items"]
            if it["data"].get("Subject") == SUBJECT]


def fresh(tmp):
    shutil.rmtree(os.path.join(tmp, "state"), ignore_errors=True)
    return start_server(tmp)


def moves(port):
    return control(port, "counts")["commands"].get("MoveItems", 0)


def main():
    tmp = tempfile.mkdtemp(prefix="easd-move-")
    try:
        srv, port = fresh(tmp)
        try:
            check(where(port) == ["1"], "setup: the message is in the Inbox")
            if NO_ESTIMATE:
                rc, ev = run(tmp, port, "--move", "1:1:2:3", "--progress")
                check(rc == 1 and not control(port, "counts")["commands"],
                      "no GetItemEstimate built in: --progress refused before any request")
            rc, ev = run(tmp, port, "--move", "1:1:2:3", *(() if NO_ESTIMATE else ("--progress",)),
                         "--verbose")
            res = [e for e in ev if e["event"] == "outbox_result"]
            check(rc == 0 and len(res) == 1 and res[0]["kind"] == "move"
                  and res[0]["status"] == 3 and res[0]["server_id"],
                  "move: status 3 with the new ServerId")
            check(where(port) == ["3"] and moves(port) == 1,
                  "move: exactly one copy, in Deleted Items, one MoveItems request")
            # progress: estimate = what the server holds = what arrived
            prog = {e["folder"]: e for e in ev if e["event"] == "progress" and e["done"] == 0}
            folders = {f["id"]: f["count"] for f in control(port, "folders")["folders"]
                       if f["class"] == "Email"}
            adds = {}
            for e in ev:
                if e["event"] == "outbox_result":
                    break  # what the move changed comes after
                if e["event"] == "item_add":
                    adds[e["folder"]] = adds.get(e["folder"], 0) + 1
            after = ev[[e["event"] for e in ev].index("outbox_result"):]
            check(any(e["event"] == "item_delete" and e["server_id"] == "1:2" for e in after)
                  and any(e["event"] == "item_add" and e["server_id"] == res[0]["server_id"]
                          for e in after),
                  "move: the next syncs remove it from the Inbox and add it to the destination")
            # the folders the engine tracks (the minimal preset's table holds 8 of the 12)
            tracked = {e["server_id"] for e in ev if e["event"] == "folder_add" and e["selected"]}
            check(tracked and tracked <= set(folders)
                  and set(prog) == (set() if NO_ESTIMATE else tracked),
                  "progress: one estimate per selected folder (%d)" % len(tracked))
            check(all(prog[f]["estimate"] == folders[f] for f in prog if f not in ("1", "3")),
                  "progress: each estimate is what the server holds (folders the move did not touch)")
            # the move happened after the first sync, so compare against what was received
            check(all(prog[f]["estimate"] == adds.get(f, 0) for f in prog),
                  "progress: every estimate equals the items then received (%s)"
                  % {f: prog[f]["estimate"] for f in sorted(prog)})
            rc, _ = run(tmp, port, "--move", "1:1:2:3")
            check(rc == 0 and moves(port) == 1, "move: a second run sends nothing")
        finally:
            srv.kill()
            srv.wait()

        srv, port = fresh(tmp)
        try:
            control(port, "faults", {"command": "MoveItems", "type": "reset", "after_bytes": 30})
            rc, ev = run(tmp, port, "--move", "1:1:2:3")
            check(rc == 0 and moves(port) == 2 and where(port) == ["3"],
                  "reset after apply: retried once, still exactly one copy")
        finally:
            srv.kill()
            srv.wait()

        srv, port = fresh(tmp)
        try:
            control(port, "faults", {"command": "MoveItems", "type": "reset", "after_bytes": 30})
            p = subprocess.Popen(argv(tmp, port, "--move", "1:1:2:3"), stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
            t0 = time.time()
            while where(port) != ["3"] and time.time() - t0 < 60 and p.poll() is None:
                time.sleep(0.02)
            p.send_signal(signal.SIGKILL)
            p.wait()
            check(where(port) == ["3"], "kill: the server applied the move before the kill")
            rc, _ = run(tmp, port, "--move", "1:1:2:3")
            check(rc == 0 and where(port) == ["3"],
                  "kill: after SIGKILL and restart, still exactly one copy")
        finally:
            srv.kill()
            srv.wait()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("all move/progress checks passed")


if __name__ == "__main__":
    main()
