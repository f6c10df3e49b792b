# SPDX-License-Identifier: Apache-2.0
"""easd without "server": Autodiscover finds the EAS URL from the address (arguments: easd,
easctl, the server, the demo mailbox).

The address is testuser@localhost, so Autodiscover's first candidate is
https://localhost/autodiscover/autodiscover.xml: the bundled test server listens on
127.0.0.1:443 over TLS (certificates made for this run; the leaf names localhost) and answers
with its own EAS URL. Nothing is faked on the client side: easd resolves the name, checks
the chain and the host name, and sends the credentials only there.

1. a wrong password: Autodiscover fails (HTTP 401 named in the log), easd exits 1 without
   syncing and without logging the password, nothing is cached;
2. the right one: Autodiscover -> https://localhost/Microsoft-Server-ActiveSync, the first
   sync goes there (the server saw Autodiscover and then the EAS commands as testuser), the
   URL is kept in STATE/server-url and easctl status shows it;
3. the server gone: the URL found earlier is used, with a warning.

Binding port 443 needs root (CI runs as root). Without root, or with port 443 taken, the test
fails and says so: it never skips.
"""
import json
import os
import shutil
import socket
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from daemonlib import Server, check, easctl, run_once, store_files  # noqa: E402

EASD, EASCTL, SERVER, MAILBOX = sys.argv[1:5]
URL = "https://localhost/Microsoft-Server-ActiveSync"


def port_443_free():
    """Wait a little for another run of this test to release the port, then say why not."""
    if os.geteuid() != 0:
        raise SystemExit("FAIL: this test binds 127.0.0.1:443 (Autodiscover has no port) and "
                         "needs root; run it as root (CI does)")
    end = time.monotonic() + 30
    while True:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", 443))
            return
        except OSError as e:
            if time.monotonic() > end:
                raise SystemExit("FAIL: 127.0.0.1:443 is taken (%s): stop what listens there "
                                 "(ss -ltnp 'sport = :443') and run the test again" % e)
        finally:
            s.close()
        time.sleep(0.5)


def config(d, server, password):
    os.makedirs(d)
    with open(os.open(os.path.join(d, "password"), os.O_WRONLY | os.O_CREAT, 0o600), "w") as fh:
        fh.write(password + "\n")
    cfg = os.path.join(d, "easd.conf")
    with open(cfg, "w") as fh:
        fh.write("# no server: Autodiscover from the address\naddress = testuser@localhost\n"
                 "user = testuser\npassword_file = password\nca_file = %s\nstate_dir = state\n"
                 "store_dir = store\nclasses = calendar, contacts\n" % server.ca)
    return cfg


def server_records(server):
    with open(os.path.join(server.tmp, "server.log")) as fh:
        return [json.loads(line) for line in fh if line.strip()]


def main():
    port_443_free()
    tmp = tempfile.mkdtemp(prefix="easd-ad-")
    server = None
    try:
        server = Server(tmp, SERVER, MAILBOX, "--port", "443")
        check(server.port == 443, "the test server listens on 127.0.0.1:443 over TLS")

        wrong = os.path.join(tmp, "wrong")
        cfg = config(wrong, server, "not-the-password")
        rc, out = run_once(EASD, cfg, wrong, 60)
        check(rc == 1 and "Autodiscover for testuser@localhost failed" in out and
              "https://localhost/autodiscover/autodiscover.xml: status: " in out and
              "401" in out,
              "a wrong password: Autodiscover fails with the HTTP 401 in the log, exit 1 (%r)"
              % out.strip()[-400:])
        check("not-the-password" not in out, "the password is not logged")
        check(not os.path.exists(os.path.join(wrong, "state", "server-url")),
              "nothing cached from a failed discovery")
        recs = server_records(server)
        check(not any(r.get("path") == "/Microsoft-Server-ActiveSync" for r in recs),
              "no EAS request without a discovered URL")

        good = os.path.join(tmp, "good")
        cfg = config(good, server, "testpass")
        rc, out = run_once(EASD, cfg, good, 60)
        check(rc == 0, "--once with Autodiscover: exit 0 (%r)" % out.strip()[-600:])
        check("Autodiscover: testuser@localhost -> %s" % URL in out,
              "Autodiscover found %s" % URL)
        recs = server_records(server)
        ad = [r for r in recs if r.get("command") == "Autodiscover" and r.get("status") == 200]
        check(len(ad) == 1 and ad[0]["user"] == "testuser" and
              ad[0]["email"] == "testuser@localhost",
              "the server answered one authenticated Autodiscover for testuser@localhost")
        eas = [r for r in recs if r.get("path") == "/Microsoft-Server-ActiveSync"]
        check(eas and all(r["headers"].get("Host") == "localhost" for r in eas) and
              any(r.get("command") == "FolderSync" for r in eas) and
              any(r.get("command") == "Sync" for r in eas),
              "then FolderSync and Sync at the discovered URL (%d EAS requests)" % len(eas))
        check(len(store_files(good, "calendars", "Calendar", ".ics")) > 0 and
              len(store_files(good, "contacts", "Contacts", ".vcf")) > 0,
              "the first sync filled the store")
        with open(os.path.join(good, "state", "server-url")) as fh:
            check(fh.read() == "testuser@localhost %s\n" % URL,
                  "the URL is kept in STATE/server-url")
        rc, out, _ = easctl(EASCTL, cfg, "status")
        check("server: %s" % URL in out, "easctl status shows the discovered server")

        server.stop()
        server = None
        rc, out = run_once(EASD, cfg, good, 3)
        check("Autodiscover for testuser@localhost failed" in out and
              "using %s, found for testuser@localhost earlier" % URL in out,
              "server gone: the URL found earlier is used, with a warning")
        print("PASS")
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
