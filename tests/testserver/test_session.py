#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A scripted EAS session against eas-testserver: curl + xml2wbxml for every command."""
import base64
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tslib  # noqa: E402

FS0 = '<FolderSync xmlns="FolderHierarchy:"><SyncKey>%s</SyncKey></FolderSync>'


def sync_xml(key, coll, extra="", commands="", window=None, options=""):
    w = "<WindowSize>%d</WindowSize>" % window if window else ""
    c = "<Commands>%s</Commands>" % commands if commands else ""
    return ('<Sync xmlns="AirSync:" xmlns:airsyncbase="AirSyncBase:" '
            'xmlns:calendar="Calendar:" xmlns:email="Email:" xmlns:contacts="Contacts:" '
            'xmlns:tasks="Tasks:"><Collections><Collection><SyncKey>%s</SyncKey>'
            '<CollectionId>%s</CollectionId>%s%s%s%s</Collection></Collections></Sync>'
            % (key, coll, extra, w, options, c))


class Session(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = tslib.Server("--ping-scale", "0.02")

    @classmethod
    def tearDownClass(cls):
        cls.srv.close()

    def setUp(self):
        self.srv.policy_key = None

    def folder_sync(self, device):
        st, el, _ = self.srv.eas("FolderSync", FS0 % "0", device=device)
        self.assertEqual(st, 200)
        self.assertEqual(el.findtext("Status"), "1")
        return el

    def sync_all(self, device, coll, options="", window=None):
        st, el, _ = self.srv.eas("Sync", sync_xml("0", coll), device=device)
        key = el.path("Collections", "Collection").findtext("SyncKey")
        items = []
        rounds = 0
        while True:
            rounds += 1
            st, el, _ = self.srv.eas("Sync", sync_xml(key, coll, window=window,
                                                      options=options), device=device)
            self.assertEqual(st, 200)
            if el is None:
                break
            c = el.path("Collections", "Collection")
            self.assertEqual(c.findtext("Status"), "1")
            key = c.findtext("SyncKey")
            cmds = c.find("Commands")
            if cmds is not None:
                items.extend(cmds.children)
            if c.find("MoreAvailable") is None:
                break
            self.assertLess(rounds, 50)
        return key, items

    # ---------------------------------------------------------------------------------
    def test_01_options(self):
        st, hdr, body, rc = self.srv.curl("", method="OPTIONS", query="")
        self.assertEqual(st, 200)
        self.assertIn("14.1", hdr["ms-asprotocolversions"].split(","))
        self.assertIn("16.1", hdr["ms-asprotocolversions"].split(","))
        self.assertIn("Ping", hdr["ms-asprotocolcommands"].split(","))
        self.assertEqual(hdr["ms-server-activesync"], "16.1")

    def test_02_auth(self):
        st, _, _, _ = self.srv.curl("FolderSync", tslib.lib_encode(FS0 % "0"),
                                    password="wrong")
        self.assertEqual(st, 401)
        st, hdr, _, _ = self.srv.curl("FolderSync", tslib.lib_encode(FS0 % "0"), user=None)
        self.assertEqual(st, 401)
        self.assertIn("basic", hdr.get("www-authenticate", "").lower())

    def test_03_provisioning_required(self):
        # 14.1 without a key: Status 142 in the command's own body
        st, el, _ = self.srv.eas("FolderSync", FS0 % "0", device="unprov")
        self.assertEqual(st, 200)
        self.assertEqual(el.name, "FolderSync")
        self.assertEqual(el.findtext("Status"), "142")
        # wrong key: 144
        st, el, _ = self.srv.eas("FolderSync", FS0 % "0", device="unprov", policy_key="123")
        self.assertEqual(el.findtext("Status"), "144")
        # 12.1: HTTP 449
        st, el, _ = self.srv.eas("FolderSync", FS0 % "0", device="unprov", version="12.1")
        self.assertEqual(st, 449)

    def test_04_provision_two_phases(self):
        req1 = ('<Provision xmlns="Provision:"><Policies><Policy><PolicyType>'
                'MS-EAS-Provisioning-WBXML</PolicyType></Policy></Policies></Provision>')
        st, el, _ = self.srv.eas("Provision", req1, device="prov1")
        self.assertEqual(el.findtext("Status"), "1")
        pol = el.path("Policies", "Policy")
        self.assertEqual(pol.findtext("Status"), "1")
        temp = pol.findtext("PolicyKey")
        self.assertTrue(temp)
        self.assertIsNotNone(pol.path("Data", "EASProvisionDoc"))
        # temp key is not yet valid for commands
        st, el, _ = self.srv.eas("FolderSync", FS0 % "0", device="prov1", policy_key=temp)
        self.assertEqual(el.findtext("Status"), "144")
        key = self.srv.provision("prov1")
        self.assertNotEqual(key, temp)
        st, el, _ = self.srv.eas("FolderSync", FS0 % "0", device="prov1")
        self.assertEqual(el.findtext("Status"), "1")

    def test_05_foldersync_incremental(self):
        self.srv.provision("fs1")
        el = self.folder_sync("fs1")
        names = {a.findtext("DisplayName"): a.findtext("Type")
                 for a in el.find("Changes").findall("Add")}
        self.assertEqual(names["Inbox"], "2")
        self.assertEqual(names["Calendar"], "8")
        self.assertEqual(names["Archive 2025"], "12")
        self.assertGreaterEqual(len(names), 12)
        key = el.findtext("SyncKey")
        st, el, _ = self.srv.eas("FolderSync", FS0 % key, device="fs1")
        self.assertEqual(el.path("Changes").findtext("Count"), "0")
        self.srv.control("POST", "changes", {"op": "add_folder", "name": "Injected",
                                             "type": 12})
        st, el, _ = self.srv.eas("FolderSync", FS0 % key, device="fs1")
        adds = el.find("Changes").findall("Add")
        self.assertEqual([a.findtext("DisplayName") for a in adds], ["Injected"])
        st, el, _ = self.srv.eas("FolderSync", FS0 % "bogus", device="fs1")
        self.assertEqual(el.findtext("Status"), "9")

    def test_06_sync_calendar_window(self):
        self.srv.provision("sy1")
        self.folder_sync("sy1")
        key, items = self.sync_all("sy1", "6", window=3)
        self.assertEqual(len(items), 10)
        subjects = [i.path("ApplicationData").findtext("Subject") for i in items]
        self.assertIn("Monthly report on the 31st", subjects)
        monthly = [i for i in items if i.findtext("ServerId") == "6:1"][0]
        rec = monthly.path("ApplicationData", "Recurrence")
        self.assertEqual(rec.findtext("Type"), "2")
        self.assertEqual(rec.findtext("DayOfMonth"), "31")
        weekly = [i for i in items if i.findtext("ServerId") == "6:2"][0]
        excs = weekly.path("ApplicationData", "Exceptions").findall("Exception")
        self.assertEqual(excs[0].findtext("Deleted"), "1")
        tz = base64.b64decode(monthly.path("ApplicationData").findtext("Timezone"))
        self.assertEqual(len(tz), 172)

    def test_07_sync_client_commands(self):
        self.srv.provision("sy2")
        self.folder_sync("sy2")
        key, items = self.sync_all("sy2", "8")
        add = ('<Add><ClientId>c1</ClientId><ApplicationData><tasks:Subject>New task'
               '</tasks:Subject><tasks:Importance>1</tasks:Importance></ApplicationData></Add>')
        st, el, _ = self.srv.eas("Sync", sync_xml(key, "8", commands=add), device="sy2")
        c = el.path("Collections", "Collection")
        r = c.path("Responses", "Add")
        self.assertEqual(r.findtext("Status"), "1")
        sid = r.findtext("ServerId")
        key = c.findtext("SyncKey")
        self.assertIsNone(c.find("Commands"))  # own add not echoed
        change = ('<Change><ServerId>%s</ServerId><ApplicationData><tasks:Subject>Renamed'
                  '</tasks:Subject></ApplicationData></Change>' % sid)
        fetch = '<Fetch><ServerId>8:1</ServerId></Fetch>'
        st, el, _ = self.srv.eas("Sync", sync_xml(key, "8", commands=change + fetch),
                                 device="sy2")
        c = el.path("Collections", "Collection")
        key = c.findtext("SyncKey")
        f = c.path("Responses", "Fetch")
        self.assertEqual(f.findtext("Status"), "1")
        self.assertEqual(f.path("ApplicationData").findtext("Subject"), "File expense report")
        mb = self.srv.control("GET", "mailbox?user=testuser")
        tasks = [f for f in mb["users"][0]["folders"] if f["id"] == "8"][0]["items"]
        self.assertIn("Renamed", [t["data"].get("Subject") for t in tasks])
        delete = '<Delete><ServerId>%s</ServerId></Delete>' % sid
        st, el, _ = self.srv.eas("Sync", sync_xml(key, "8", commands=delete), device="sy2")
        key = el.path("Collections", "Collection").findtext("SyncKey")
        delete_missing = '<Delete><ServerId>8:999</ServerId></Delete>'
        st, el, _ = self.srv.eas("Sync", sync_xml(key, "8", commands=delete_missing),
                                 device="sy2")
        r = el.path("Collections", "Collection", "Responses", "Delete")
        self.assertEqual(r.findtext("Status"), "8")

    def test_08_sync_conflict_server_wins(self):
        self.srv.provision("sy3")
        self.folder_sync("sy3")
        key, _ = self.sync_all("sy3", "9")
        self.srv.control("POST", "changes", {"op": "change_item", "server_id": "9:1",
                                             "set": {"Subject": "Server edit"}})
        change = ('<Change><ServerId>9:1</ServerId><ApplicationData>'
                  '<Subject xmlns="Notes:">Client edit</Subject></ApplicationData></Change>')
        st, el, _ = self.srv.eas("Sync", sync_xml(key, "9", commands=change), device="sy3")
        c = el.path("Collections", "Collection")
        self.assertEqual(c.path("Responses", "Change").findtext("Status"), "7")
        sent = c.find("Commands").findall("Change")
        self.assertEqual(sent[0].path("ApplicationData").findtext("Subject"), "Server edit")

    def test_09_body_preference_truncation(self):
        self.srv.provision("sy4")
        self.folder_sync("sy4")
        opts = ('<Options><airsyncbase:BodyPreference><airsyncbase:Type>1</airsyncbase:Type>'
                '<airsyncbase:TruncationSize>100</airsyncbase:TruncationSize>'
                '</airsyncbase:BodyPreference></Options>')
        key, items = self.sync_all("sy4", "1", options=opts)
        long_mail = [i for i in items if i.findtext("ServerId") == "1:4"][0]
        body = long_mail.path("ApplicationData", "Body")
        self.assertEqual(body.findtext("Truncated"), "1")
        self.assertEqual(len(body.findtext("Data").encode()), 100)
        self.assertGreater(int(body.findtext("EstimatedDataSize")), 60000)
        # MIME on request
        opts4 = ('<Options><MIMESupport>2</MIMESupport><airsyncbase:BodyPreference>'
                 '<airsyncbase:Type>4</airsyncbase:Type></airsyncbase:BodyPreference></Options>')
        self.srv.provision("sy4b")
        self.folder_sync("sy4b")
        key, items = self.sync_all("sy4b", "1", options=opts4)
        att_mail = [i for i in items if i.findtext("ServerId") == "1:3"][0]
        body = att_mail.path("ApplicationData", "Body")
        self.assertEqual(body.findtext("Type"), "4")
        self.assertIn("multipart/mixed", body.findtext("Data"))
        ref = att_mail.path("ApplicationData", "Attachments", "Attachment").findtext(
            "FileReference")
        # ItemOperations fetch of the attachment and of an item
        io = ('<ItemOperations xmlns="ItemOperations:" xmlns:airsync="AirSync:" '
              'xmlns:airsyncbase="AirSyncBase:"><Fetch><Store>Mailbox</Store>'
              '<airsyncbase:FileReference>%s</airsyncbase:FileReference></Fetch>'
              '<Fetch><Store>Mailbox</Store><airsync:CollectionId>1</airsync:CollectionId>'
              '<airsync:ServerId>1:2</airsync:ServerId><Options><airsyncbase:BodyPreference>'
              '<airsyncbase:Type>2</airsyncbase:Type></airsyncbase:BodyPreference></Options>'
              '</Fetch></ItemOperations>' % ref)
        st, el, _ = self.srv.eas("ItemOperations", io, device="sy4b")
        self.assertEqual(el.findtext("Status"), "1")
        fetches = el.find("Response").findall("Fetch")
        self.assertEqual(fetches[0].findtext("Status"), "1")
        self.assertIn(b"Meeting notes",
                      base64.b64decode(fetches[0].path("Properties").findtext("Data")))
        self.assertIn("<b>up</b>", fetches[1].path("Properties", "Body").findtext("Data"))

    def test_10_ping(self):
        self.srv.provision("pg1")
        self.folder_sync("pg1")
        key, _ = self.sync_all("pg1", "1")
        ping = ('<Ping xmlns="Ping:"><HeartbeatInterval>%d</HeartbeatInterval><Folders>'
                '<Folder><Id>1</Id><Class>Email</Class></Folder></Folders></Ping>')
        st, el, _ = self.srv.eas("Ping", ping % 30, device="pg1")
        self.assertEqual(el.findtext("Status"), "5")
        self.assertEqual(el.findtext("HeartbeatInterval"), "60")
        st, el, _ = self.srv.eas("Ping", ping % 4000, device="pg1")
        self.assertEqual(el.findtext("Status"), "5")
        self.assertEqual(el.findtext("HeartbeatInterval"), "3540")
        st, el, _ = self.srv.eas("Ping", ping % 60, device="pg1")  # 60 s * 0.02 scale
        self.assertEqual(el.findtext("Status"), "1")
        # empty Ping reuses the cached parameters
        st, el, _ = self.srv.eas("Ping", None, device="pg1")
        self.assertEqual(el.findtext("Status"), "1")
        self.srv.control("POST", "changes", {"op": "new_mail", "subject": "ping me"})
        st, el, _ = self.srv.eas("Ping", None, device="pg1")
        self.assertEqual(el.findtext("Status"), "2")
        self.assertEqual(el.path("Folders").findtext("Folder"), "1")
        # a device without cached parameters: Status 3
        self.srv.provision("pg2")
        st, el, _ = self.srv.eas("Ping", None, device="pg2")
        self.assertEqual(el.findtext("Status"), "3")
        # unknown folder: 7
        st, el, _ = self.srv.eas("Ping", ping.replace("<Id>1</Id>", "<Id>nope</Id>") % 60,
                                 device="pg2")
        self.assertEqual(el.findtext("Status"), "7")

    def test_11_getitemestimate_moveitems(self):
        self.srv.provision("ge1")
        self.folder_sync("ge1")
        st, el, _ = self.srv.eas("Sync", sync_xml("0", "1"), device="ge1")
        key = el.path("Collections", "Collection").findtext("SyncKey")
        gie = ('<GetItemEstimate xmlns="GetItemEstimate:" xmlns:airsync="AirSync:"><Collections>'
               '<Collection><airsync:SyncKey>%s</airsync:SyncKey><CollectionId>1</CollectionId>'
               '</Collection></Collections></GetItemEstimate>' % key)
        st, el, _ = self.srv.eas("GetItemEstimate", gie, device="ge1")
        r = el.find("Response")
        self.assertEqual(r.findtext("Status"), "1")
        self.assertGreaterEqual(int(r.path("Collection").findtext("Estimate")), 7)
        mv = ('<MoveItems xmlns="Move:"><Move><SrcMsgId>1:1</SrcMsgId><SrcFldId>1</SrcFldId>'
              '<DstFldId>10</DstFldId></Move><Move><SrcMsgId>1:999</SrcMsgId><SrcFldId>1'
              '</SrcFldId><DstFldId>10</DstFldId></Move></MoveItems>')
        st, el, _ = self.srv.eas("MoveItems", mv, device="ge1")
        rs = el.findall("Response")
        self.assertEqual(rs[0].findtext("Status"), "3")
        self.assertTrue(rs[0].findtext("DstMsgId").startswith("10:"))
        self.assertEqual(rs[1].findtext("Status"), "1")

    def test_12_meeting_response(self):
        self.srv.provision("mr1")
        mr = ('<MeetingResponse xmlns="MeetingResponse:"><Request><UserResponse>1'
              '</UserResponse><CollectionId>1</CollectionId><RequestId>1:7</RequestId>'
              '</Request></MeetingResponse>')
        st, el, _ = self.srv.eas("MeetingResponse", mr, device="mr1")
        res = el.find("Result")
        self.assertEqual(res.findtext("Status"), "1")
        self.assertEqual(res.findtext("CalendarId"), "6:6")
        got = self.srv.control("GET", "meeting_responses")["meeting_responses"]
        self.assertEqual(len(got), 1)
        self.assertEqual(got[0]["user_response"], 1)

    def test_13_sendmail_smartreply(self):
        self.srv.provision("sm1")
        mime = (b"From: testuser@example.test\r\nTo: testuser2@example.test\r\n"
                b"Subject: hello two\r\n\r\nbody\r\n")
        xml = ('<SendMail xmlns="ComposeMail:"><ClientId>m1</ClientId><SaveInSentItems/>'
               '<MIME>%s</MIME></SendMail>' % base64.b64encode(mime).decode())
        st, el, _ = self.srv.eas("SendMail", xml, device="sm1")
        self.assertEqual(st, 200)
        self.assertIsNone(el)
        st, el, _ = self.srv.eas("SendMail", xml, device="sm1")  # same ClientId again
        self.assertEqual(el.findtext("Status"), "118")
        sr = ('<SmartReply xmlns="ComposeMail:"><ClientId>m2</ClientId><Source><FolderId>1'
              '</FolderId><ItemId>1:2</ItemId></Source><MIME>%s</MIME></SmartReply>'
              % base64.b64encode(mime).decode())
        st, el, _ = self.srv.eas("SmartReply", sr, device="sm1")
        self.assertEqual(st, 200)
        sf = sr.replace("SmartReply", "SmartForward").replace("m2", "m3").replace(
            "1:2", "1:999")
        st, el, _ = self.srv.eas("SmartForward", sf, device="sm1")
        self.assertEqual(el.findtext("Status"), "150")
        sent = self.srv.control("GET", "sent")["sent"]
        self.assertEqual([s["command"] for s in sent], ["SendMail", "SmartReply"])
        f = self.srv.control("GET", "folders?user=testuser2")["folders"]
        self.assertEqual([x["count"] for x in f if x["type"] == 2], [2])
        # 12.1 form: raw MIME body, SaveInSent in the query
        st, _, _, _ = self.srv.curl("SendMail", mime, version="12.1", device="sm1",
                                    ctype="message/rfc822",
                                    query="Cmd=SendMail&User=testuser&DeviceId=sm1&"
                                    "DeviceType=T&SaveInSent=T")
        self.assertEqual(st, 200)
        self.assertEqual(len(self.srv.control("GET", "sent")["sent"]), 3)

    def test_14_folder_create_update_delete(self):
        self.srv.provision("fo1")
        key = self.folder_sync("fo1").findtext("SyncKey")
        fc = ('<FolderCreate xmlns="FolderHierarchy:"><SyncKey>%s</SyncKey><ParentId>0'
              '</ParentId><DisplayName>Made by test</DisplayName><Type>12</Type></FolderCreate>')
        st, el, _ = self.srv.eas("FolderCreate", fc % key, device="fo1")
        self.assertEqual(el.findtext("Status"), "1")
        fid = el.findtext("ServerId")
        key = el.findtext("SyncKey")
        st, el, _ = self.srv.eas("FolderCreate", fc % key, device="fo1")
        self.assertEqual(el.findtext("Status"), "2")
        fu = ('<FolderUpdate xmlns="FolderHierarchy:"><SyncKey>%s</SyncKey><ServerId>%s'
              '</ServerId><ParentId>0</ParentId><DisplayName>Renamed</DisplayName>'
              '</FolderUpdate>' % (key, fid))
        st, el, _ = self.srv.eas("FolderUpdate", fu, device="fo1")
        self.assertEqual(el.findtext("Status"), "1")
        key = el.findtext("SyncKey")
        fd = ('<FolderDelete xmlns="FolderHierarchy:"><SyncKey>%s</SyncKey><ServerId>%s'
              '</ServerId></FolderDelete>')
        st, el, _ = self.srv.eas("FolderDelete", fd % (key, "1"), device="fo1")
        self.assertEqual(el.findtext("Status"), "3")  # Inbox is special
        st, el, _ = self.srv.eas("FolderDelete", fd % (key, fid), device="fo1")
        self.assertEqual(el.findtext("Status"), "1")
        # own changes are not echoed back by FolderSync
        st, el, _ = self.srv.eas("FolderSync", FS0 % el.findtext("SyncKey"), device="fo1")
        self.assertEqual(el.path("Changes").findtext("Count"), "0")

    def test_15_settings(self):
        self.srv.provision("se1")
        xml = ('<Settings xmlns="Settings:"><UserInformation><Get/></UserInformation>'
               '<DeviceInformation><Set><Model>T1</Model><OS>Linux</OS></Set>'
               '</DeviceInformation><Oof><Get><BodyType>Text</BodyType></Get></Oof></Settings>')
        st, el, _ = self.srv.eas("Settings", xml, device="se1")
        self.assertEqual(el.findtext("Status"), "1")
        acc = el.path("UserInformation", "Get", "Accounts", "Account")
        self.assertEqual(acc.path("EmailAddresses").findtext("PrimarySmtpAddress"),
                         "testuser@example.test")
        st, el, _ = self.srv.eas("Settings", xml, device="se1", version="14.0")
        self.assertEqual(el.path("UserInformation", "Get", "EmailAddresses").findtext(
            "SmtpAddress"), "testuser@example.test")
        state = self.srv.control("GET", "state?user=testuser&device=se1")
        self.assertEqual(state["devices"]["testuser"]["se1"]["info"]["Model"], "T1")

    def test_16_base64_query(self):
        key = self.srv.provision("b64dev")
        q = tslib.b64_query(9, "b64dev", policy_key=key)
        st, hdr, out, _ = self.srv.curl("FolderSync", tslib.lib_encode(FS0 % "0"), query=q,
                                        version=None, policy_key="")
        self.assertEqual(st, 200)
        el = tslib.wbxml.decode(out)
        self.assertEqual(el.findtext("Status"), "1")

    def test_17_versions(self):
        for ver in ("12.1", "14.0", "14.1", "16.0", "16.1"):
            dev = "v" + ver.replace(".", "")
            self.srv.provision(dev, version=ver)
            st, el, _ = self.srv.eas("FolderSync", FS0 % "0", device=dev, version=ver)
            self.assertEqual(el.findtext("Status"), "1", ver)
            st, el, _ = self.srv.eas("Sync", sync_xml("0", "6"), device=dev, version=ver)
            key = el.path("Collections", "Collection").findtext("SyncKey")
            st, el, _ = self.srv.eas("Sync", sync_xml(key, "6", window=2), device=dev,
                                     version=ver)
            c = el.path("Collections", "Collection")
            self.assertEqual(c.find("Class") is not None, ver == "12.1")
            ad = c.find("Commands").findall("Add")[0].find("ApplicationData")
            if ver.startswith("16"):
                self.assertIsNone(ad.find("Location", "Calendar"))
        st, _, _, _ = self.srv.curl("FolderSync", tslib.lib_encode(FS0 % "0"), version="2.5")
        self.assertEqual(st, 400)

    def test_18_remote_wipe(self):
        self.srv.provision("wp1")
        self.srv.control("POST", "wipe", {"user": "testuser", "device": "wp1"})
        st, el, _ = self.srv.eas("FolderSync", FS0 % "0", device="wp1")
        self.assertEqual(el.findtext("Status"), "140")
        req = ('<Provision xmlns="Provision:"><Policies><Policy><PolicyType>'
               'MS-EAS-Provisioning-WBXML</PolicyType></Policy></Policies></Provision>')
        st, el, _ = self.srv.eas("Provision", req, device="wp1")
        self.assertIsNotNone(el.find("RemoteWipe"))
        ack = '<Provision xmlns="Provision:"><RemoteWipe><Status>1</Status></RemoteWipe></Provision>'
        st, el, _ = self.srv.eas("Provision", ack, device="wp1")
        self.assertEqual(el.findtext("Status"), "1")
        state = self.srv.control("GET", "state?device=wp1")
        self.assertEqual(state["devices"]["testuser"]["wp1"]["wipe"], "acked")

    def test_19_log_and_counts(self):
        counts = self.srv.control("GET", "counts")
        self.assertGreater(counts["commands"].get("Sync", 0), 5)
        reqs = self.srv.control("GET", "requests?command=MeetingResponse")["requests"]
        self.assertEqual(len(reqs), 1)
        self.assertIn("<MeetingResponse", reqs[0]["body_xml"])
        self.assertNotIn("authorization", {k.lower() for k in reqs[0]["headers"]})
        with open(self.srv.log, encoding="utf-8") as fh:
            lines = fh.readlines()
        self.assertGreaterEqual(len(lines), counts["total"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
