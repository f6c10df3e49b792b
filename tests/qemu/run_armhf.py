#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""eas-sync cross-built for armhf (tools/cross-armhf/cross-armhf), run under qemu-arm user
mode against the test server over TLS.

Passes when the armhf eas-sync exits 0, the server's request log shows OPTIONS, Provision,
FolderSync, Sync from its device in that order, every request succeeded, and - with
--host-build - the calendar it delivered, expanded by the host's eas-agenda, equals what the
host's own eas-sync delivered (same occurrences, same ServerIds).

    run_armhf.py --source DIR --build DIR [--host-build DIR]
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run_sync as rs  # noqa: E402  (shared: certificates, server, host reference)

DEVICE = "easdarmhf01"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--source", required=True)
    ap.add_argument("--build", required=True)
    ap.add_argument("--host-build", default="")
    a = ap.parse_args()
    for tool in ("qemu-arm", "arm-linux-gnueabihf-gcc", "openssl"):
        if not shutil.which(tool):
            rs.fail("%s not installed (tools/install-deps)" % tool)
    os.makedirs(a.build, exist_ok=True)
    out = subprocess.run([os.path.join(a.source, "tools", "cross-armhf", "cross-armhf"),
                          "--build", os.path.join(a.build, "armhf")],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    sys.stdout.write(out.stdout)
    if out.returncode != 0:
        rs.fail("cross build failed")
    binary = out.stdout.strip().splitlines()[-1]
    certs = os.path.join(a.build, "certs")
    rs.make_certs(certs)
    ca = os.path.join(certs, "ca.pem")
    tmp = tempfile.mkdtemp(prefix="easd-armhf-")
    srv = rs.Server(a.source, tmp, os.path.join(certs, "ca-server.pem"),
                    os.path.join(certs, "ca-server.key"), ca,
                    ["--mailbox", os.path.join(a.source, "tools", "eas-testserver",
                                               "mailboxes", "demo.json")])
    ok = False
    try:
        ref = rs.host_occurrences(a.host_build, srv, ca, tmp) if a.host_build else set()
        srv.control("reset_log", {})
        pw = os.path.join(tmp, "pw-armhf")
        with open(os.open(pw, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as fh:
            fh.write("testpass\n")
        events = os.path.join(a.build, "armhf-eas-sync.jsonl")
        cmd = ["qemu-arm", "-L", "/usr/arm-linux-gnueabihf", binary, "--url",
               "https://localhost:%d/Microsoft-Server-ActiveSync" % srv.port, "--user",
               "testuser", "--password-file", pw, "--device-id", DEVICE, "--state",
               os.path.join(tmp, "armhf-state"), "--ca-file", ca, "--classes", "Calendar",
               "--timeout", "120"]
        rs.log("running: " + " ".join(cmd))
        with open(events, "w") as fh:
            rc = subprocess.call(cmd, stdout=fh, stderr=subprocess.STDOUT, timeout=300)
        lines = open(events).read().splitlines()
        if rc != 0:
            sys.stdout.write("\n".join(lines[-20:]) + "\n")
            rs.fail("armhf eas-sync exited %d" % rc)
        items = sum(1 for l in lines if '"item_add"' in l)
        rs.log("armhf eas-sync: exit 0, %d items added" % items)
        order = []
        recs = srv.requests(DEVICE)
        for r in recs:
            if r.get("command") not in order:
                order.append(r.get("command"))
        want = ["OPTIONS", "Provision", "Settings", "FolderSync", "Sync"]
        if [c for c in order if c in want] != want:
            rs.fail("request order from the armhf client: %s" % order)
        if [r for r in recs if (r.get("status") or 200) >= 400]:
            rs.fail("a request of the armhf client failed on the server")
        rs.log("server request log from %s: %s" % (DEVICE, order))
        if a.host_build:
            agenda = subprocess.run(
                [os.path.join(a.host_build, "tools", "eas-agenda"), "--json", "--from",
                 rs.WINDOW_FROM, "--days", str(rs.WINDOW_DAYS), events],
                stdout=subprocess.PIPE, text=True)
            occ = {(o["start"], o["end"], o["server_id"])
                   for o in map(json.loads, agenda.stdout.splitlines())}
            if not ref or occ != ref:
                rs.fail("armhf occurrences (%d) differ from the host's (%d)" %
                        (len(occ), len(ref)))
            rs.log("the armhf client's calendar expands to the host's %d occurrences" % len(ref))
        ok = True
        rs.log("OK")
        return 0
    finally:
        srv.stop()
        if ok:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            rs.log("kept: %s" % tmp)


if __name__ == "__main__":
    sys.exit(main())
