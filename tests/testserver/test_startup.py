#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""eas-testserver start-up, large generated mailboxes, clean shutdown. Prints timings (no
wall-clock assertions)."""
import json
import os
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tslib  # noqa: E402
from test_session import FS0, sync_xml  # noqa: E402


class Startup(unittest.TestCase):
    def test_demo_start_and_port_file(self):
        d = tempfile.mkdtemp(prefix="easts-start-")
        pf = os.path.join(d, "port")
        t0 = time.monotonic()
        with tslib.Server("--port-file", pf) as srv:
            print("demo mailbox: listening after %.3f s" % (time.monotonic() - t0))
            with open(pf, encoding="utf-8") as fh:
                self.assertEqual(int(fh.read()), srv.port)
            self.assertTrue(srv.control("GET", "health")["ok"])
            srv.proc.terminate()
            self.assertEqual(srv.proc.wait(10), 0)

    def test_generated_large_mailbox(self):
        t0 = time.monotonic()
        with tslib.Server("--generate", "2000", "--provision", "off", mailbox=None) as srv:
            print("--generate 2000: listening after %.3f s" % (time.monotonic() - t0))
            folders = srv.control("GET", "folders")["folders"]
            counts = {f["class"]: 0 for f in folders}
            for f in folders:
                counts[f["class"]] += f["count"]
            self.assertEqual(counts["Email"], 2000)
            self.assertEqual(counts["Calendar"], 2000)
            self.assertEqual(counts["Contacts"], 2000)
            self.assertEqual(counts["Tasks"], 2000)
            self.assertEqual(counts["Notes"], 200)
            srv.eas("FolderSync", FS0 % "0", device="big")
            st, el, _ = srv.eas("Sync", sync_xml("0", "7"), device="big")
            key = el.path("Collections", "Collection").findtext("SyncKey")
            got, rounds = set(), 0
            t1 = time.monotonic()
            while True:
                rounds += 1
                st, el, _ = srv.eas("Sync", sync_xml(key, "7", window=512), device="big")
                c = el.path("Collections", "Collection")
                key = c.findtext("SyncKey")
                got.update(a.findtext("ServerId") for a in c.find("Commands").findall("Add"))
                if c.find("MoreAvailable") is None:
                    break
            print("2000 contacts in %d Sync rounds, %.2f s" % (rounds, time.monotonic() - t1))
            self.assertEqual(len(got), 2000)
            self.assertEqual(rounds, 4)

    def test_generator_file_is_deterministic(self):
        d = tempfile.mkdtemp(prefix="easts-gen-")
        outs = []
        for i in range(2):
            path = os.path.join(d, "g%d.json" % i)
            subprocess.run([sys.executable, tslib.SERVER, "--generate", "300",
                            "--dump-generated", path], check=True)
            with open(path, encoding="utf-8") as fh:
                outs.append(json.load(fh))
        self.assertEqual(outs[0], outs[1])
        n = sum(len(f["items"]) for f in outs[0]["users"][0]["folders"])
        self.assertEqual(n, 300 * 4 + 30)

    def test_demo_file_is_current(self):
        p = subprocess.run([sys.executable, "-m", "easts.gen", "demo"], cwd=tslib.TSDIR,
                           capture_output=True, text=True, check=True)
        with open(tslib.DEMO, encoding="utf-8") as fh:
            self.assertEqual(json.loads(p.stdout), json.load(fh))


if __name__ == "__main__":
    unittest.main(verbosity=2)
