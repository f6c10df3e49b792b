#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""The adaptive heartbeat and throttling against eas-testserver (eas-sync --push; the server
runs Pings at 1/1000 of their HeartbeatInterval, so 3540 s take 3.5 s).

- convergence: 480 → 960 → 1920 → 3540 (the server's maximum) within a few Pings, never more
- restart: a second run with the same state dir starts at the learned interval
- Status 5 both ways: a server with minimum 600 (asked 480) and one with maximum 900
- an unchanged Ping goes out with an empty body (the server's cached parameters)
- throttling: 503 with Retry-After and X-MS-ASThrottle is reported and waited out; Status 111
  goes through the back-off; Status 177 (too many devices) stops, reported, no retry loop
"""
import json
import os
import re
import subprocess
import tempfile
import time

from enginelib import EAS_SYNC, check, control, start_server

SCALE = "0.001"


def run_sync(port, tmp, state, push_s, device="EASDPUSH1", timeout=60, extra=()):
    pw = os.path.join(tmp, "pw")
    with open(pw, "w") as f:
        f.write("testpass\n")
    out = subprocess.run([EAS_SYNC, "--url",
                          f"http://127.0.0.1:{port}/Microsoft-Server-ActiveSync",
                          "--user", "testuser", "--password-file", pw, "--device-id", device,
                          "--state", os.path.join(tmp, state), "--classes", "Calendar",
                          "--timeout", str(timeout), "--push", str(push_s)] + list(extra),
                         capture_output=True, text=True, timeout=180)
    ev = [json.loads(l) for l in out.stdout.splitlines() if l.startswith("{")]
    return out, ev


def pings(port, since=0.0):
    """(seq, asked interval or None for an empty body, eas status, record) of every Ping that
    arrived after the wall-clock time @since (records are logged when answered, so a Ping
    still waiting when a run ended shows up later)."""
    out = []
    reqs = control(port, "requests?command=Ping")["requests"]
    for r in sorted(reqs, key=lambda r: r["time"]):
        if r["time"] <= since:
            continue
        m = re.search(r"<HeartbeatInterval>(\d+)</HeartbeatInterval>", r.get("body_xml") or "")
        out.append((r["seq"], int(m.group(1)) if m else None, r.get("eas_status"), r))
    return out


def asked(ps):
    """The interval each Ping asked for; an empty body repeats the previous one."""
    res, last = [], None
    for _seq, iv, _st, _r in ps:
        last = iv if iv is not None else last
        res.append(last)
    return res


def convergence_and_restart():
    with tempfile.TemporaryDirectory() as tmp:
        proc, port = start_server(tmp, "--ping-scale", SCALE)
        try:
            out, ev = run_sync(port, tmp, "state", 14)
            check(out.returncode == 0, "eas-sync --push completes")
            ps = pings(port)
            ivs = asked(ps)
            print("asked intervals:", ivs)
            check(ivs[:4] == [480, 960, 1920, 3540],
                  f"grows 480 → 960 → 1920 → 3540 after clean expiries: {ivs[:4]}")
            check(max(ivs) <= 3540, "never asks for more than the server's maximum")
            check(all(st == 1 for _s, _i, st, _r in ps[:4]), "every Ping expired cleanly")
            full = [p for p in ps if p[1] is not None]
            empty = [p for p in ps if p[1] is None]
            check(empty and all(p[2] == 1 for p in empty),
                  "an unchanged Ping reuses the cached parameters (empty body, accepted)")
            check(all(e[1] is not None for e in ps[:4]),
                  "a Ping whose interval changed carries its parameters")
            check(len(full) >= 4, "full Pings while the interval grows")

            # restart with the same state: the learned interval at once
            before = time.time()
            # long enough for its first Ping (3540 s at 1/1000) to be answered and logged
            out, ev = run_sync(port, tmp, "state", 5)
            check(out.returncode == 0, "second run completes")
            ps2 = pings(port, before)
            print("after restart:", [(p[1], p[2], p[3].get("body_len")) for p in ps2])
            check(ps2 and ps2[0][1] == 3540,
                  f"restart resumes the learned interval: first Ping asks {ps2[0][1] if ps2 else None}")
        finally:
            proc.kill()
            proc.wait()


def status5_min():
    with tempfile.TemporaryDirectory() as tmp:
        proc, port = start_server(tmp, "--ping-scale", SCALE)
        try:
            control(port, "settings", {"ping_min": 600})
            out, ev = run_sync(port, tmp, "state", 3)
            check(out.returncode == 0, "eas-sync completes against a 600 s minimum")
            ps = pings(port)
            ivs = asked(ps)
            print("asked intervals (min 600):", ivs)
            check(ps[0][1] == 480 and ps[0][2] == 5, "480 refused with Status 5")
            check(ps[1][1] == 600 and ps[1][2] == 1, "then the server's minimum 600, accepted")
            check(len([p for p in ps if p[2] == 5]) == 1, "exactly one Status 5")
            before = time.time()
            out, ev = run_sync(port, tmp, "state", 4)
            ps2 = pings(port, before)
            check(ps2 and ps2[0][1] >= 600 and ps2[0][2] == 1,
                  "after a restart the minimum is remembered (no Status 5 again)")
        finally:
            proc.kill()
            proc.wait()


def status5_max():
    with tempfile.TemporaryDirectory() as tmp:
        proc, port = start_server(tmp, "--ping-scale", SCALE)
        try:
            control(port, "settings", {"ping_max": 900})
            out, ev = run_sync(port, tmp, "state", 4)
            check(out.returncode == 0, "eas-sync completes against a 900 s maximum")
            ps = pings(port)
            ivs = asked(ps)
            print("asked intervals (max 900):", ivs)
            check(ivs[:3] == [480, 960, 900], f"480, 960 (refused), then 900: {ivs[:3]}")
            check(ps[1][2] == 5 and len([p for p in ps if p[2] == 5]) == 1,
                  "exactly one Status 5")
            check(all(iv <= 900 for iv in ivs[2:]), "never above the server's maximum again")
        finally:
            proc.kill()
            proc.wait()


def throttled_503():
    with tempfile.TemporaryDirectory() as tmp:
        proc, port = start_server(tmp, "--ping-scale", SCALE)
        try:
            control(port, "faults", {"type": "http", "status": 503, "command": "Ping",
                                     "times": 2, "retry_after": 1,
                                     "headers": {"X-MS-ASThrottle": "CommandFrequency"}})
            # two back-offs (at most 2 s and 4 s, or Retry-After if longer), then a Ping
            out, ev = run_sync(port, tmp, "state", 8)
            check(out.returncode == 0, "eas-sync completes through a 503 with Retry-After")
            thr = [e for e in ev if e["event"] == "throttled"]
            check(len(thr) == 2 and all(e["reason"] == "CommandFrequency" and
                                        e["status"] == 503 and e["retry_after"] == 1
                                        for e in thr),
                  f"X-MS-ASThrottle reported with the status and Retry-After: {thr}")
            ps = pings(port)
            print("Pings:", [(p[3]["status"], p[2]) for p in ps])
            check([p[3]["status"] for p in ps[:3]] == [503, 503, 200],
                  "the Ping is retried until the server takes it")
            gaps = [ps[i + 1][3]["mono"] - ps[i][3]["mono"] for i in range(2)]
            check(all(g >= 1.0 for g in gaps), f"Retry-After: 1 honoured ({gaps})")
        finally:
            proc.kill()
            proc.wait()


# The busy start eas-sync is given (--backoff-busy-ms): the default (60 s) would take minutes
# of real time; push-sim and the flow tests time the default on a simulated clock.
BUSY_MS = 3000


def status_111():
    with tempfile.TemporaryDirectory() as tmp:
        proc, port = start_server(tmp, "--ping-scale", SCALE)
        try:
            control(port, "faults", {"type": "status", "status": 111, "command": "Ping",
                                     "times": 2})
            # two busy back-offs ([1.5, 3) s, then [3, 6) s), then a Ping
            out, ev = run_sync(port, tmp, "state", 12,
                               extra=["--backoff-busy-ms", str(BUSY_MS)])
            check(out.returncode == 0, "eas-sync completes through Status 111")
            errs = [e for e in ev if e["event"] == "error" and e["status"] == 111]
            check(len(errs) == 2, f"each 111 reported once: {errs}")
            check(any(e["event"] == "state" and e["state"] == "backoff" for e in ev),
                  "111 goes through the back-off")
            ps = pings(port)
            check([p[2] for p in ps[:3]] == [111, 111, 1], "then the Ping is accepted")
            # 111 is a busy server: the back-off starts at the busy start, not at 2 s
            gaps = [ps[i + 1][3]["mono"] - ps[i][3]["mono"] for i in range(2)]
            check(gaps[0] >= BUSY_MS / 2000.0 and gaps[1] >= BUSY_MS / 1000.0,
                  f"busy back-off after 111: >= {BUSY_MS / 2000.0} s, then >= "
                  f"{BUSY_MS / 1000.0} s ({gaps})")
        finally:
            proc.kill()
            proc.wait()


def status_177():
    with tempfile.TemporaryDirectory() as tmp:
        proc, port = start_server(tmp, "--ping-scale", SCALE)
        try:
            control(port, "faults", {"type": "status", "status": 177, "command": "Ping",
                                     "times": 0})
            out, ev = run_sync(port, tmp, "state", 5, timeout=20)
            states = [e["state"] for e in ev if e["event"] == "state"]
            check(states and states[-1] == "blocked",
                  f"Status 177 stops in the blocked state: {states[-3:]}")
            errs = [e for e in ev if e["event"] == "error" and e["status"] == 177]
            check(len(errs) == 1, "reported once")
            ps = pings(port)
            check(len(ps) == 1, f"no retry loop: {len(ps)} Ping(s)")
        finally:
            proc.kill()
            proc.wait()


def main():
    convergence_and_restart()
    status5_min()
    status5_max()
    throttled_503()
    status_111()
    status_177()
    print("all passed")


if __name__ == "__main__":
    main()
