# SPDX-License-Identifier: Apache-2.0
"""What every engine integration script shares: its arguments (eas-sync, the test server,
the mailbox), starting tools/eas-testserver on a free port, its control API, and checks that
print what they verified."""
import atexit
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

EAS_SYNC, SERVER, MAILBOX = sys.argv[1:4]

# These scripts test the engine against the test server over plain http on loopback, with
# Basic credentials. eas-sync refuses that without an explicit opt-in (issue 11), so every
# script runs it through this one wrapper that adds --allow-plaintext-auth; the transport
# itself (HTTPS, certificates, what may never leave in clear) is tested in
# tests/integration/security and tests/integration/tls.
# eas-sync accepts only a password file nobody else can read: the files these scripts
# write are private.
os.umask(0o077)
_WRAP_DIR = tempfile.mkdtemp(prefix="easd-enginelib-")
atexit.register(shutil.rmtree, _WRAP_DIR, True)
_REAL_EAS_SYNC = EAS_SYNC
EAS_SYNC = os.path.join(_WRAP_DIR, "eas-sync")
with open(EAS_SYNC, "w") as _f:
    _f.write('#!/bin/sh\nexec "%s" --allow-plaintext-auth "$@"\n' % _REAL_EAS_SYNC)
os.chmod(EAS_SYNC, 0o700)


def start_server(tmp, *extra):
    """Start the test server with the mailbox, logging requests to tmp/server.log; returns
    (process, port). Extra arguments go to the server (e.g. "--ping-scale", "0.01")."""
    port_file = os.path.join(tmp, "port")
    if os.path.exists(port_file):
        os.unlink(port_file)
    proc = subprocess.Popen(["/usr/bin/python3", SERVER, "--port", "0", "--port-file", port_file,
                             "--mailbox", MAILBOX, "--log", os.path.join(tmp, "server.log"),
                             *extra],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        if os.path.exists(port_file) and open(port_file).read().strip():
            return proc, int(open(port_file).read().strip())
        time.sleep(0.1)
    proc.kill()
    raise SystemExit("test server did not start")


def control(port, path, body=None, method=None):
    """Call /_control/<path>: GET without a body, POST with one, or the given method."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"http://127.0.0.1:{port}/_control/{path}", data=data,
                                 method=method or ("POST" if data is not None else "GET"),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


def check(cond, msg):
    if not cond:
        raise SystemExit("FAIL: " + msg)
    print("ok:", msg)
