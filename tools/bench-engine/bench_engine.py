#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Engine measurements (prints numbers, asserts nothing about speed).

  bench_engine.py EAS_SYNC EAS_TESTSERVER [--large 2500] [--small 2] [--callgrind]

* requests and bytes (both directions, HTTP bodies) of a first sync of a generated mailbox
  (--generate 2500: about 10,000 items over Calendar, Contacts, Email, Tasks);
* peak arena use for a tiny (--generate 2) and the large mailbox (the engine streams: they
  should match within 1 KB);
* with --callgrind (needs a build without sanitizers): instructions per item, from the
  difference of two callgrind runs (large - small) / (items large - items small), so start-up
  and the per-folder fixed cost cancel out. eas-sync runs --quiet (no JSON per item).
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import urllib.request


def start_server(tmp, generate):
    port_file = os.path.join(tmp, "port")
    proc = subprocess.Popen(["/usr/bin/python3", ARGS.server, "--port", "0", "--port-file",
                             port_file, "--generate", str(generate)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(600):
        if os.path.exists(port_file) and open(port_file).read().strip():
            return proc, int(open(port_file).read().strip())
        time.sleep(0.1)
    proc.kill()
    raise SystemExit("test server did not start")


def control(port, path):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/_control/{path}", timeout=60) as r:
        return json.loads(r.read())


def run_sync(tmp, port, wrapper=()):
    pw = os.path.join(tmp, "pw")
    with open(os.open(pw, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
        f.write("testpass\n")
    state = os.path.join(tmp, "state")
    shutil.rmtree(state, ignore_errors=True)
    cmd = list(wrapper) + [ARGS.sync, "--url",
                           f"http://127.0.0.1:{port}/Microsoft-Server-ActiveSync",
                           "--user", "testuser", "--password-file", pw, "--device-id", "BENCH1",
                           "--state", state, "--timeout", "3000", "--quiet",
                           "--allow-plaintext-auth"]  # loopback test server, plain http
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=7200)
    summary = [json.loads(l) for l in out.stdout.splitlines() if '"summary"' in l]
    if out.returncode != 0 or not summary:
        raise SystemExit("eas-sync failed: " + out.stdout[-2000:] + out.stderr[-2000:])
    return summary[-1], out.stderr


def measure(generate, callgrind):
    with tempfile.TemporaryDirectory() as tmp:
        proc, port = start_server(tmp, generate)
        try:
            s, _ = run_sync(tmp, port)
            reqs = control(port, "requests?bodies=0")["requests"]
            res = {"items": s["adds"], "folders": s["folders"], "arena_peak": s["arena_peak"],
                   "requests": len(reqs),
                   "bytes_up": sum(r.get("body_len") or 0 for r in reqs),
                   "bytes_down": sum(r.get("response_len") or 0 for r in reqs),
                   "syncs": sum(1 for r in reqs if r.get("command") == "Sync")}
            if callgrind:
                out = os.path.join(tmp, "cg.out")
                _, err = run_sync(tmp, port, ["valgrind", "--tool=callgrind",
                                              "--callgrind-out-file=" + out])
                m = re.search(r"Collected : (\d+)", err)
                res["instructions"] = int(m.group(1)) if m else None
            return res
        finally:
            proc.kill()
            proc.wait()


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("sync")
    ap.add_argument("server")
    ap.add_argument("--large", type=int, default=2500)
    ap.add_argument("--small", type=int, default=2)
    ap.add_argument("--callgrind", action="store_true")
    ARGS = ap.parse_args()
    small = measure(ARGS.small, ARGS.callgrind)
    large = measure(ARGS.large, ARGS.callgrind)
    for name, r in (("small", small), ("large", large)):
        print(f"{name}: {r['items']} items in {r['folders']} folders: {r['requests']} requests "
              f"({r['syncs']} Sync), {r['bytes_up']} bytes up, {r['bytes_down']} bytes down, "
              f"arena peak {r['arena_peak']} B"
              + (f", {r['instructions']} instructions" if r.get("instructions") else ""))
    print(f"arena peak difference large - small: {large['arena_peak'] - small['arena_peak']} B")
    if large.get("instructions") and small.get("instructions"):
        per = (large["instructions"] - small["instructions"]) / (large["items"] - small["items"])
        print(f"instructions per item (callgrind, eas-sync --quiet): {per:.0f}")
        print(f"bytes down per item: {large['bytes_down'] / large['items']:.0f}")
    print(json.dumps({"small": small, "large": large}))


if __name__ == "__main__":
    main()
