#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""eas-sync --respond against eas-testserver: exactly one MeetingResponse [S 1.15].

The demo mailbox has the invitation "1:7" in the Inbox. Each case starts a fresh server and
state dir and checks /_control/meeting_responses (the responses the server applied) holds
exactly one entry for it, with the chosen answer:

1. plain: eas-sync --respond 1:7:accept exits 0 after the server answered;
2. reset: the first MeetingResponse is applied by the server, then the connection is reset
   before the answer arrives (fault `reset`); before a resend the engine syncs the Inbox, sees
   the invitation deleted (the server moved it away once answered) and sends nothing more:
   one request, one response;
3. kill: same reset, and eas-sync is SIGKILLed after the server applied it (while it backs
   off) and restarted with the same command line;
4. random kills: eas-sync is SIGKILLed at random moments of a fresh account's run (sync and
   response) several times, then run to the end.
"""
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from enginelib import EAS_SYNC, check, control, start_server
DEVICE = "EASDMR01"


def argv(tmp, port, spec):
    pw = os.path.join(tmp, "pw")
    with open(pw, "w") as f:
        f.write("testpass\n")
    return [EAS_SYNC, "--url", f"http://127.0.0.1:{port}/Microsoft-Server-ActiveSync",
            "--user", "testuser", "--password-file", pw, "--device-id", DEVICE,
            "--state", os.path.join(tmp, "state"), "--classes", "Email,Calendar",
            "--timeout", "90", "--quiet", "--respond", spec]


def run(tmp, port, spec):
    out = subprocess.run(argv(tmp, port, spec), capture_output=True, text=True, timeout=150)
    events = [json.loads(l) for l in out.stdout.splitlines() if l.startswith("{")]
    if out.returncode != 0:
        sys.stderr.write(out.stdout[-4000:] + out.stderr[-2000:])
    return out.returncode, events


def responses(port):
    return [r for r in control(port, "meeting_responses")["meeting_responses"]
            if r["request_id"] == "1:7"]


def mr_requests(port):
    return control(port, "counts")["commands"].get("MeetingResponse", 0)


def fresh(tmp):
    shutil.rmtree(os.path.join(tmp, "state"), ignore_errors=True)
    return start_server(tmp)


def case_plain(tmp):
    srv, port = fresh(tmp)
    try:
        rc, ev = run(tmp, port, "1:7:tentative")
        check(rc == 0, "plain: eas-sync --respond exits 0")
        r = responses(port)
        check(len(r) == 1 and r[0]["user_response"] == 2 and r[0]["collection_id"] == "1",
              "plain: exactly one Tentative response for 1:7 in the Inbox")
        res = [e for e in ev if e["event"] == "outbox_result"]
        check(len(res) == 1 and res[0]["kind"] == "meeting_response" and res[0]["status"] == 1,
              "plain: the application hears status 1")
        rc, _ = run(tmp, port, "1:7:tentative")
        check(rc == 0 and len(responses(port)) == 1 and mr_requests(port) == 1,
              "plain: a second run with the same decision sends nothing")
    finally:
        srv.kill()
        srv.wait()


def case_reset(tmp):
    srv, port = fresh(tmp)
    try:
        control(port, "faults", {"command": "MeetingResponse", "type": "reset",
                                 "after_bytes": 40})
        rc, ev = run(tmp, port, "1:7:accept")
        check(rc == 0, "reset: eas-sync completes after the reset")
        check(mr_requests(port) == 1,
              "reset: no resend after the synced Inbox showed the invitation answered (%d "
              "requests)" % mr_requests(port))
        check(any(e.get("event") == "outbox_result" and e.get("status") == 1 for e in ev),
              "reset: the application hears status 1")
        r = responses(port)
        check(len(r) == 1 and r[0]["user_response"] == 1,
              "reset: exactly one response applied by the server")
    finally:
        srv.kill()
        srv.wait()


def case_kill_after_apply(tmp):
    srv, port = fresh(tmp)
    try:
        control(port, "faults", {"command": "MeetingResponse", "type": "reset",
                                 "after_bytes": 40})
        p = subprocess.Popen(argv(tmp, port, "1:7:decline"), stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        t0 = time.time()
        while not responses(port) and time.time() - t0 < 60 and p.poll() is None:
            time.sleep(0.02)
        check(len(responses(port)) == 1, "kill: the server applied the first response")
        p.send_signal(signal.SIGKILL)
        p.wait()
        rc, _ = run(tmp, port, "1:7:decline")
        check(rc == 0, "kill: the restarted eas-sync completes")
        r = responses(port)
        check(len(r) == 1 and r[0]["user_response"] == 3,
              "kill: still exactly one response after SIGKILL and restart")
    finally:
        srv.kill()
        srv.wait()


def case_random_kills(tmp, rounds):
    rnd = random.Random(int(os.environ.get("EASD_TEST_SEED", "15")))
    for i in range(rounds):
        srv, port = fresh(tmp)
        try:
            if i % 2:
                control(port, "faults", {"command": "MeetingResponse", "type": "reset",
                                         "after_bytes": rnd.randint(0, 200)})
            kills = 0
            for _ in range(3):
                p = subprocess.Popen(argv(tmp, port, "1:7:accept"), stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
                time.sleep(rnd.uniform(0.005, 0.3))
                if p.poll() is None:
                    p.send_signal(signal.SIGKILL)
                    kills += 1
                p.wait()
            rc, _ = run(tmp, port, "1:7:accept")
            r = responses(port)
            check(rc == 0 and len(r) == 1,
                  "random kills round %d (%d kills): exactly one response" % (i, kills))
        finally:
            srv.kill()
            srv.wait()


def main():
    tmp = tempfile.mkdtemp(prefix="easd-respond-")
    try:
        case_plain(tmp)
        case_reset(tmp)
        case_kill_after_apply(tmp)
        case_random_kills(tmp, 6)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("all respond checks passed")


if __name__ == "__main__":
    main()
