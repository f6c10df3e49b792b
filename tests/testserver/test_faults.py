#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Every fault eas-testserver can inject produces what it promises."""
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tslib  # noqa: E402
from easts.wbxml import WbxmlError, decode  # noqa: E402
from test_session import FS0, sync_xml  # noqa: E402

PING = ('<Ping xmlns="Ping:"><HeartbeatInterval>%d</HeartbeatInterval><Folders>%s</Folders>'
        '</Ping>')


def pfolder(fid, cls="Email"):
    return "<Folder><Id>%s</Id><Class>%s</Class></Folder>" % (fid, cls)


class Faults(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = tslib.Server("--ping-scale", "0.02")

    @classmethod
    def tearDownClass(cls):
        cls.srv.close()

    def setUp(self):
        self.srv.control("DELETE", "faults")
        self.srv.policy_key = None

    def fault(self, **spec):
        return self.srv.control("POST", "faults", spec)["ids"][0]

    def start(self, dev):
        self.srv.provision(dev)
        st, el, _ = self.srv.eas("FolderSync", FS0 % "0", device=dev)
        return el.findtext("SyncKey")

    def synced(self, dev, coll):
        st, el, _ = self.srv.eas("Sync", sync_xml("0", coll), device=dev)
        key = el.path("Collections", "Collection").findtext("SyncKey")
        while True:
            st, el, _ = self.srv.eas("Sync", sync_xml(key, coll, window=100), device=dev)
            if el is None:
                return key
            c = el.path("Collections", "Collection")
            key = c.findtext("SyncKey")
            if c.find("MoreAvailable") is None:
                return key

    # ---------------------------------------------------------------------------------
    def test_http_statuses_by_count(self):
        self.start("h1")
        self.fault(command="FolderSync", nth=2, type="http", status=503, retry_after=30)
        codes = []
        for _ in range(3):
            st, hdr, _, _ = self.srv.curl("FolderSync", tslib.lib_encode(FS0 % "0"),
                                          device="h1")
            codes.append((st, hdr.get("retry-after")))
        self.assertEqual(codes, [(200, None), (503, "30"), (200, None)])
        for status in (401, 403, 500, 503, 449):
            self.fault(command="FolderSync", type="http", status=status)
            st, hdr, _, _ = self.srv.curl("FolderSync", tslib.lib_encode(FS0 % "0"),
                                          device="h1")
            self.assertEqual(st, status)
            self.assertNotIn("retry-after", hdr)
        # times: two consecutive hits
        self.fault(command="FolderSync", nth=1, times=2, type="http", status=500)
        got = [self.srv.curl("FolderSync", tslib.lib_encode(FS0 % "0"), device="h1")[0]
               for _ in range(3)]
        self.assertEqual(got, [500, 500, 200])

    def test_451_redirects(self):
        self.start("r1")
        self.fault(command="FolderSync", type="http", status=451,
                   location="https://other.example.test/Microsoft-Server-ActiveSync")
        st, hdr, _, _ = self.srv.curl("FolderSync", tslib.lib_encode(FS0 % "0"), device="r1")
        self.assertEqual(st, 451)
        self.assertEqual(hdr["x-ms-location"],
                         "https://other.example.test/Microsoft-Server-ActiveSync")
        self.fault(command="FolderSync", type="http", status=451, location="same")
        st, hdr, _, _ = self.srv.curl("FolderSync", tslib.lib_encode(FS0 % "0"), device="r1")
        self.assertEqual(hdr["x-ms-location"], self.srv.url)
        self.fault(command="FolderSync", type="http", status=451, location="other")
        st, hdr, _, _ = self.srv.curl("FolderSync", tslib.lib_encode(FS0 % "0"), device="r1")
        alt = hdr["x-ms-location"]
        self.assertTrue(alt.endswith("/alt/Microsoft-Server-ActiveSync"))
        # the alternative URL is served too
        old = self.srv.url
        self.srv.url = alt
        try:
            st, el, _ = self.srv.eas("FolderSync", FS0 % "0", device="r1")
        finally:
            self.srv.url = old
        self.assertEqual(el.findtext("Status"), "1")

    def test_eas_statuses(self):
        self.start("e1")
        key = self.synced("e1", "1")
        for code in (110, 111, 12, 140, 142, 143, 144, 177, 135):
            self.fault(command="Sync", type="status", status=code)
            st, el, _ = self.srv.eas("Sync", sync_xml(key, "1"), device="e1")
            self.assertEqual(st, 200)
            self.assertEqual(el.name, "Sync")
            self.assertEqual(el.findtext("Status"), str(code), code)
        for cmd, xml in (("FolderSync", FS0 % "0"),
                         ("Settings", '<Settings xmlns="Settings:"><UserInformation><Get/>'
                          '</UserInformation></Settings>')):
            self.fault(command=cmd, type="status", status=111)
            st, el, _ = self.srv.eas(cmd, xml, device="e1")
            self.assertEqual(el.findtext("Status"), "111")
        # collection-level 3: invalid sync key, key reset to 0
        self.fault(command="Sync", type="status", status=3, collection="1")
        st, el, _ = self.srv.eas("Sync", sync_xml(key, "1"), device="e1")
        c = el.path("Collections", "Collection")
        self.assertEqual(c.findtext("Status"), "3")
        self.assertEqual(c.findtext("SyncKey"), "0")
        st, el, _ = self.srv.eas("Sync", sync_xml(key, "1"), device="e1")
        self.assertEqual(el.path("Collections", "Collection").findtext("Status"), "3")

    def test_more_available_repeated_key(self):
        self.start("m1")
        st, el, _ = self.srv.eas("Sync", sync_xml("0", "6"), device="m1")
        key = el.path("Collections", "Collection").findtext("SyncKey")
        self.fault(command="Sync", type="repeat_synckey", times=0)
        for _ in range(3):
            st, el, _ = self.srv.eas("Sync", sync_xml(key, "6", window=2), device="m1")
            c = el.path("Collections", "Collection")
            self.assertEqual(c.findtext("SyncKey"), key)
            self.assertIsNotNone(c.find("MoreAvailable"))
            self.assertEqual(len(c.find("Commands").children), 2)

    def test_double_change_in_one_response(self):
        self.start("d1")
        key = self.synced("d1", "6")
        self.fault(command="Sync", type="double_change", server_id="6:9")
        st, el, _ = self.srv.eas("Sync", sync_xml(key, "6"), device="d1")
        ch = el.path("Collections", "Collection", "Commands").findall("Change")
        same = [c for c in ch if c.findtext("ServerId") == "6:9"]
        self.assertEqual(len(same), 2)
        s1 = same[0].path("ApplicationData")
        s2 = same[1].path("ApplicationData")
        self.assertTrue(s1.findtext("Subject").endswith("[change 1]"))
        self.assertTrue(s2.findtext("Subject").endswith("[change 2]"))
        self.assertLess(s2.findtext("DtStamp"), s1.findtext("DtStamp"))

    def test_stale_change_in_two_responses(self):
        self.start("d2")
        key = self.synced("d2", "6")
        self.fault(command="Sync", type="stale_change", server_id="6:9")
        st, el, _ = self.srv.eas("Sync", sync_xml(key, "6"), device="d2")
        c = el.path("Collections", "Collection")
        key = c.findtext("SyncKey")
        first = c.find("Commands").findall("Change")[0].path("ApplicationData")
        st, el, _ = self.srv.eas("Sync", sync_xml(key, "6"), device="d2")
        c = el.path("Collections", "Collection")
        second = c.find("Commands").findall("Change")[0].path("ApplicationData")
        self.assertIn("v1", first.findtext("Subject"))
        self.assertIn("v2", second.findtext("Subject"))
        self.assertLess(second.findtext("DtStamp"), first.findtext("DtStamp"))

    def test_ping_statuses(self):
        self.start("p1")
        self.synced("p1", "1")
        body = PING % (60, pfolder("1"))
        for code in (3, 4, 5, 6, 7, 8):
            self.fault(command="Ping", type="status", status=code)
            st, el, _ = self.srv.eas("Ping", body, device="p1")
            self.assertEqual(el.findtext("Status"), str(code))
            if code == 5:
                self.assertEqual(el.findtext("HeartbeatInterval"), "3540")
            if code == 6:
                self.assertEqual(el.findtext("MaxFolders"), "300")
        self.fault(command="Ping", type="ping_reject_folder", folder="6", status=7)
        st, el, _ = self.srv.eas("Ping", PING % (60, pfolder("1") + pfolder("6", "Calendar")),
                                 device="p1")
        self.assertEqual(el.findtext("Status"), "7")
        self.srv.control("POST", "reject_ping_folder", {"folder": "9", "status": 132})
        st, el, _ = self.srv.eas("Ping", PING % (60, pfolder("9", "Notes")), device="p1")
        self.assertEqual(el.findtext("Status"), "132")

    def test_change_injected_during_ping(self):
        self.start("p2")
        self.synced("p2", "1")
        # with scale 0.02 a 600 s heartbeat waits 12 s; the injection after 300 ms ends it
        self.fault(command="Ping", type="inject", after_ms=300,
                   changes=[{"op": "new_mail", "subject": "during ping"}])
        t0 = time.monotonic()
        st, el, _ = self.srv.eas("Ping", PING % (600, pfolder("1")), device="p2")
        self.assertEqual(el.findtext("Status"), "2")
        self.assertEqual(el.path("Folders").findtext("Folder"), "1")
        self.assertLess(time.monotonic() - t0, 11)

    def test_control_changes_meeting(self):
        self.start("c1")
        key = self.synced("c1", "6")
        r = self.srv.control("POST", "changes", {"changes": [
            {"op": "move_meeting", "server_id": "6:6", "shift_minutes": 90},
            {"op": "cancel_occurrence", "server_id": "6:2", "occurrence": "20250120T080000Z"}]})
        self.assertEqual(r["results"][0]["StartTime"], "20250220T143000Z")
        st, el, _ = self.srv.eas("Sync", sync_xml(key, "6"), device="c1")
        ch = {c.findtext("ServerId"): c.path("ApplicationData") for c in
              el.path("Collections", "Collection", "Commands").findall("Change")}
        self.assertEqual(ch["6:6"].findtext("StartTime"), "20250220T143000Z")
        excs = ch["6:2"].path("Exceptions").findall("Exception")
        self.assertIn(("20250120T080000Z", "1"),
                      [(e.findtext("ExceptionStartTime"), e.findtext("Deleted")) for e in excs])

    def test_delay(self):
        self.start("dl1")
        self.fault(command="FolderSync", type="delay", ms=400)
        t0 = time.monotonic()
        st, el, _ = self.srv.eas("FolderSync", FS0 % "0", device="dl1")
        self.assertGreaterEqual(time.monotonic() - t0, 0.4)
        self.assertEqual(el.findtext("Status"), "1")

    def test_truncated_and_malformed(self):
        self.start("w1")
        self.fault(command="FolderSync", type="truncate", bytes=20)
        st, hdr, out, _ = self.srv.curl("FolderSync", tslib.lib_encode(FS0 % "0"), device="w1")
        self.assertEqual(st, 200)
        self.assertEqual(len(out), 20)
        with self.assertRaises(WbxmlError):
            decode(out)
        for mode in ("garbage", "bad_version", "unknown_page", "unknown_token",
                     "unterminated", "no_end", "huge_length"):
            self.fault(command="FolderSync", type="malformed", mode=mode)
            st, hdr, out, _ = self.srv.curl("FolderSync", tslib.lib_encode(FS0 % "0"),
                                            device="w1")
            self.assertEqual(st, 200)
            with self.assertRaises(WbxmlError, msg=mode):
                decode(out)
        self.fault(command="FolderSync", type="malformed", mode="html")
        st, hdr, out, _ = self.srv.curl("FolderSync", tslib.lib_encode(FS0 % "0"), device="w1")
        self.assertEqual((st, hdr["content-type"]), (200, "text/html"))

    def test_connection_reset_after_bytes(self):
        self.start("x1")
        self.fault(command="FolderSync", type="reset", after_bytes=50)
        st, hdr, out, rc = self.srv.curl("FolderSync", tslib.lib_encode(FS0 % "0"),
                                         device="x1")
        self.assertNotEqual(rc, 0)  # curl sees the connection die mid-response
        self.fault(command="FolderSync", type="drop")
        st, hdr, out, rc = self.srv.curl("FolderSync", tslib.lib_encode(FS0 % "0"),
                                         device="x1")
        self.assertNotEqual(rc, 0)
        # raw socket: exactly 50 bytes, then the connection is gone
        self.fault(command="OPTIONS", type="reset", after_bytes=50)
        s = socket.create_connection(("127.0.0.1", self.srv.port))
        s.sendall(b"OPTIONS /Microsoft-Server-ActiveSync HTTP/1.1\r\nHost: x\r\n"
                  b"Authorization: Basic dGVzdHVzZXI6dGVzdHBhc3M=\r\n\r\n")
        got = b""
        try:
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                got += chunk
        except ConnectionResetError:
            pass
        s.close()
        self.assertEqual(len(got), 50)
        self.assertTrue(got.startswith(b"HTTP/1.1 200"))

    def test_policy_refresh_mid_sync(self):
        self.start("pr1")
        key = self.synced("pr1", "1")
        self.fault(command="Sync", type="invalidate_policy")
        st, el, _ = self.srv.eas("Sync", sync_xml(key, "1"), device="pr1")
        self.assertEqual(el.findtext("Status"), "144")
        self.srv.provision("pr1")
        st, el, _ = self.srv.eas("Sync", sync_xml(key, "1"), device="pr1")
        self.assertEqual(el.path("Collections", "Collection").findtext("Status"), "1")

    def test_counts_and_filters(self):
        self.start("n1")
        self.fault(command="Settings", device="other-device", type="http", status=500)
        xml = '<Settings xmlns="Settings:"><UserInformation><Get/></UserInformation></Settings>'
        st, el, _ = self.srv.eas("Settings", xml, device="n1")
        self.assertEqual(st, 200)
        faults = self.srv.control("GET", "faults")["faults"]
        self.assertEqual((faults[0]["seen"], faults[0]["fired"]), (0, 0))
        counts = self.srv.control("GET", "counts")
        self.assertGreaterEqual(counts["command_http_status"]["Settings:200"], 1)


class Scenario(unittest.TestCase):
    def test_scenario_file_and_tls(self):
        d = tempfile.mkdtemp(prefix="easts-tls-")
        cert, key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days",
                        "2", "-subj", "/CN=localhost", "-keyout", key, "-out", cert],
                       check=True, capture_output=True)
        scenario = {"settings": {"ping_min": 10, "ping_max": 100, "provision": "off"},
                    "faults": [{"command": "Sync", "nth": 2, "type": "http", "status": 503,
                                "retry_after": 30}]}
        with tslib.Server("--tls-cert", cert, "--tls-key", key, scenario=scenario) as srv:
            st, el, _ = srv.eas("FolderSync", FS0 % "0", device="s1")
            self.assertEqual(el.findtext("Status"), "1")
            codes = [srv.curl("Sync", tslib.lib_encode(sync_xml("0", "1")), device="s1")[0]
                     for _ in range(3)]
            self.assertEqual(codes, [200, 503, 200])
            st, el, _ = srv.eas("Ping", PING % (200, pfolder("1")), device="s1")
            self.assertEqual(el.findtext("HeartbeatInterval"), "100")

    def test_keepalive_and_concurrent_ping(self):
        with tslib.Server("--ping-scale", "0.02", "--provision", "off") as srv:
            srv.eas("FolderSync", FS0 % "0", device="k1")
            st, el, _ = srv.eas("Sync", sync_xml("0", "9"), device="k1")
            key = el.path("Collections", "Collection").findtext("SyncKey")
            st, el, _ = srv.eas("Sync", sync_xml(key, "9"), device="k1")
            self.assertIsNone(el.path("Collections", "Collection").find("MoreAvailable"))
            # curl with two URLs reuses one connection
            body = tslib.lib_encode(FS0 % "0")
            with tempfile.NamedTemporaryFile(suffix=".wbxml") as fh:
                fh.write(body)
                fh.flush()
                url = srv.url + "?Cmd=FolderSync&User=testuser&DeviceId=k1&DeviceType=T"
                p = subprocess.run(["curl", "-sv", "-o", "/dev/null", "-o", "/dev/null",
                                    "-u", "testuser:testpass", "-H",
                                    "MS-ASProtocolVersion: 14.1", "--data-binary",
                                    "@" + fh.name, url, url], capture_output=True, text=True)
            self.assertIn("Re-using existing connection", p.stderr)
            # a Ping that holds its connection does not block other requests
            result = {}

            def ping():
                result["r"] = srv.eas("Ping", PING % (200, pfolder("9", "Notes")), device="k1")

            t = threading.Thread(target=ping)
            t.start()
            time.sleep(0.3)
            t0 = time.monotonic()
            st, el, _ = srv.eas("FolderSync", FS0 % "0", device="k2")
            self.assertLess(time.monotonic() - t0, 5)
            self.assertTrue(t.is_alive())
            t.join(30)
            self.assertEqual(result["r"][1].findtext("Status"), "1")


if __name__ == "__main__":
    unittest.main(verbosity=2)
