#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""eas-testserver's WBXML codec against libwbxml (xml2wbxml / wbxml2xml), token by token."""
import base64
import os
import random
import sys
import unittest
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tslib  # noqa: E402
from easts import codepages as cp  # noqa: E402
from easts import commands, gen, items  # noqa: E402
from easts.store import Item  # noqa: E402
from easts.wbxml import Element, WbxmlError, decode, encode, from_xml, to_xml  # noqa: E402

# Tokens newer than libwbxml 0.11's tables (EAS 16.x); libwbxml prints them as "unknown".
NEWER_THAN_LIBWBXML = {(8, 0x10), (8, 0x11), (14, 0x3B)} | {(25, t) for t in range(0x40)}

SAMPLES = [
    # (description, XML with libwbxml names)
    ("foldersync", '<FolderSync xmlns="FolderHierarchy:"><SyncKey>0</SyncKey></FolderSync>'),
    ("provision", '<Provision xmlns="Provision:" xmlns:settings="Settings:">'
     '<settings:DeviceInformation><settings:Set><settings:Model>TestDev</settings:Model>'
     '<settings:OS>Linux</settings:OS></settings:Set></settings:DeviceInformation><Policies>'
     '<Policy><PolicyType>MS-EAS-Provisioning-WBXML</PolicyType></Policy></Policies>'
     '</Provision>'),
    ("sync-add-calendar", '<Sync xmlns="AirSync:" xmlns:calendar="Calendar:" '
     'xmlns:airsyncbase="AirSyncBase:"><Collections><Collection><SyncKey>1795939990</SyncKey>'
     '<CollectionId>vevent%2Fpersonal</CollectionId><GetChanges>0</GetChanges><Commands><Add>'
     '<ClientId>c-1</ClientId><ApplicationData><calendar:TimeZone>' + gen.TZ_BERLIN +
     '</calendar:TimeZone><calendar:AllDayEvent>0</calendar:AllDayEvent>'
     '<calendar:DTStamp>20250101T080000Z</calendar:DTStamp><calendar:StartTime>'
     '20250106T090000Z</calendar:StartTime><calendar:Subject>Grüße 日本</calendar:Subject>'
     '<calendar:Recurrence><calendar:Recurrence_Type>1</calendar:Recurrence_Type>'
     '<calendar:Recurrence_DayOfWeek>2</calendar:Recurrence_DayOfWeek>'
     '<calendar:Recurrence_Occurrences>10</calendar:Recurrence_Occurrences>'
     '</calendar:Recurrence><calendar:Exceptions><calendar:Exception>'
     '<calendar:Exception_Deleted>1</calendar:Exception_Deleted><calendar:Exception_StartTime>'
     '20250113T090000Z</calendar:Exception_StartTime></calendar:Exception>'
     '</calendar:Exceptions><airsyncbase:Body><airsyncbase:Type>1</airsyncbase:Type>'
     '<airsyncbase:Data>a &amp; b &lt;c&gt;</airsyncbase:Data></airsyncbase:Body>'
     '</ApplicationData></Add></Commands></Collection></Collections></Sync>'),
    ("sendmail-opaque", '<SendMail xmlns="ComposeMail:"><ClientId>1</ClientId>'
     '<SaveInSentItems/><MIME>' + base64.b64encode(b"Subject: x\r\n\r\n\x00\xff body")
     .decode() + '</MIME></SendMail>'),
    ("ping", '<Ping xmlns="Ping:"><HeartbeatInterval>480</HeartbeatInterval><Folders><Folder>'
     '<Id>1</Id><Class>Email</Class></Folder></Folders></Ping>'),
    ("tasks-contacts", '<Sync xmlns="AirSync:" xmlns:tasks="Tasks:" xmlns:contacts="Contacts:"'
     ' xmlns:contacts2="Contacts2:" xmlns:email="Email:"><Collections><Collection>'
     '<ApplicationData><tasks:UTCDueDate>2025-01-01T00:00:00.000Z</tasks:UTCDueDate>'
     '<contacts:Email1Address>a@b.c</contacts:Email1Address><contacts2:NickName>n'
     '</contacts2:NickName><email:Reply-To>r@x.y</email:Reply-To></ApplicationData>'
     '</Collection></Collections></Sync>'),
]


def lib_tree(xml_text):
    """Parse wbxml2xml output into (ns, name, text, children) with canonical names."""
    lines = [ln for ln in xml_text.splitlines() if not ln.startswith("<!DOCTYPE")]
    return ET.fromstring("\n".join(lines))


class TokenTables(unittest.TestCase):
    def test_every_token_matches_libwbxml(self):
        """Each of our (page, token) decodes to the same element name in libwbxml."""
        out = bytearray(b"\x03\x01\x6a\x00\x45")
        page = 0
        order = sorted(cp.NAME_BY_TOKEN.items())
        for (p, t), _ in order:
            if p != page:
                out += bytes([0, p])
                page = p
            out += bytes([t | 0x40, 3]) + b"x\x00\x01"
        out += b"\x00\x00\x01"
        root = lib_tree(tslib.lib_decode(bytes(out)))
        kids = list(root)
        self.assertEqual(len(kids), len(order))
        bad = []
        for ((p, t), (ns, name)), k in zip(order, kids):
            kns, kname = k.tag[1:].split("}")
            kns = cp.canonical_ns(kns.rstrip(":"))
            if (p, t) in NEWER_THAN_LIBWBXML:
                self.assertEqual(kname, "unknown", (p, t))
                continue
            if kns != ns or cp.canonical_name(kns, kname) != name:
                bad.append(((p, t), ns, name, kns, kname))
        self.assertEqual(bad, [])
        self.assertGreater(len(order), 600)

    def test_no_libwbxml_token_missing(self):
        """Every token libwbxml knows on pages 0-24 is in our tables too."""
        out = bytearray(b"\x03\x01\x6a\x00\x45")
        probe = []
        for p in range(25):
            out += bytes([0, p])
            for t in range(5, 0x40):
                if (p, t) not in cp.NAME_BY_TOKEN:
                    out += bytes([t | 0x40, 3]) + b"x\x00\x01"
                    probe.append((p, t))
        out += b"\x00\x00\x01"
        kids = list(lib_tree(tslib.lib_decode(bytes(out))))
        known = [(pt, k.tag) for pt, k in zip(probe, kids) if not k.tag.endswith("unknown")]
        self.assertEqual(known, [])


class RoundTrips(unittest.TestCase):
    def test_libwbxml_encoded_samples(self):
        for desc, xml in SAMPLES:
            with self.subTest(desc):
                ref = tslib.lib_encode(xml)
                tree = decode(ref)
                # same bytes from our encoder (both: no string table, inline strings)
                self.assertEqual(encode(tree), ref)
                # and the same tree from our XML parser of libwbxml's names
                self.assertEqual(from_xml(tslib.DOCTYPE + xml), tree)
                # libwbxml reads our XML view back to the same bytes
                self.assertEqual(tslib.lib_encode(to_xml(tree, libwbxml=True)), ref)

    def test_opaque(self):
        ref = tslib.lib_encode(SAMPLES[3][1])
        tree = decode(ref)
        mime = tree.find("Mime")
        self.assertIsNotNone(mime.opaque)
        self.assertTrue(mime.opaque.endswith(b"\x00\xff body"))
        self.assertIn(b"\xc3", ref)  # OPAQUE token on the wire

    def test_server_responses_decode_in_libwbxml(self):
        """Every kind of item the demo mailbox holds, encoded by us, decoded by libwbxml."""
        import json
        with open(tslib.DEMO, encoding="utf-8") as fh:
            demo = json.load(fh)
        for ver in (12.1, 14.1, 16.1):
            root = Element("AirSync", "Sync")
            coll = root.add("Collections").add("Collection")
            coll.add("SyncKey", "1")
            cmds = coll.add("Commands")
            n = 0
            for f in demo["users"][0]["folders"]:
                from easts.items import FOLDER_CLASS
                for it in f["items"]:
                    item = Item(it.get("id", "x"), FOLDER_CLASS[f["type"]], it["data"], 1)
                    add = cmds.add("Add")
                    add.add("ServerId", item.sid)
                    ad = add.add("ApplicationData")
                    ad.children = items.to_appdata(item, ver, [{"type": 2}], f["id"])
                    n += 1
            data = encode(root)
            back = from_xml(tslib.lib_decode(data))
            # wbxml2xml writes CR raw, so XML parsing turns CRLF into LF: compare modulo that
            self.assertEqual(_nocr(back), _nocr(root), ver)
            self.assertGreater(n, 30)

    def test_random_trees(self):
        rnd = random.Random(7)
        names = sorted(cp.TOKEN_BY_NAME)
        for _ in range(30):
            def make(depth):
                ns, name = rnd.choice(names)
                el = Element(ns, name)
                if (ns, name) in cp.OPAQUE_TAGS:
                    el.opaque = bytes(rnd.randrange(256) for _ in range(rnd.randint(1, 20)))
                elif depth < 4 and rnd.random() < 0.5:
                    for _ in range(rnd.randint(1, 4)):
                        el.children.append(make(depth + 1))
                elif rnd.random() < 0.8 and (ns, name) not in cp.OPAQUE_TAGS:
                    el.text = "".join(rnd.choice("abcXYZ 019äö&<>") for _ in
                                      range(rnd.randint(1, 12))).strip() or "t"
                return el
            tree = make(0)
            data = encode(tree)
            self.assertEqual(decode(data), tree)
            # libwbxml accepts it and gives back the same bytes
            names_known = all((p, t) not in NEWER_THAN_LIBWBXML for p, t in
                              _tokens(tree))
            if names_known:
                self.assertEqual(tslib.lib_encode(tslib.lib_decode(data)), data)


def _nocr(el):
    if el.text:
        el.text = el.text.replace("\r\n", "\n").replace("\r", "\n")
    for c in el.children:
        _nocr(c)
    return el


def _tokens(el):
    yield cp.TOKEN_BY_NAME[(el.ns, el.name)]
    for c in el.children:
        yield from _tokens(c)


class Malformed(unittest.TestCase):
    def test_rejects(self):
        good = tslib.lib_encode(SAMPLES[4][1])
        cases = {
            "empty": b"",
            "bad version": b"\x09" + good[1:],
            "truncated": good[:-3],
            "unknown page": good[:4] + b"\x00\x63" + good[4:],
            "unknown token": b"\x03\x01\x6a\x00\x7f\x01",
            "unterminated string": b"\x03\x01\x6a\x00\x00\x0d\x48\x03abc",
            "attributes": b"\x03\x01\x6a\x00\xc5\x01",
            "trailing": good + b"\x00",
            "opaque too long": b"\x03\x01\x6a\x00\x00\x15\x50\xc3\x87\xff\xff\xff\x7f\x01",
            "END at top": b"\x03\x01\x6a\x00\x01",
            "bad utf8": b"\x03\x01\x6a\x00\x00\x0d\x48\x03\xff\xfe\x00\x01",
        }
        for desc, data in cases.items():
            with self.subTest(desc):
                with self.assertRaises(WbxmlError):
                    decode(data)

    def test_mutations_raise_only_wbxmlerror(self):
        rnd = random.Random(11)
        good = tslib.lib_encode(SAMPLES[2][1])
        for _ in range(3000):
            b = bytearray(good)
            for _ in range(rnd.randint(1, 4)):
                op = rnd.random()
                pos = rnd.randrange(len(b))
                if op < 0.4:
                    b[pos] = rnd.randrange(256)
                elif op < 0.7:
                    del b[pos:pos + rnd.randint(1, 8)]
                else:
                    b[pos:pos] = bytes([rnd.randrange(256)])
            try:
                decode(bytes(b))
            except WbxmlError:
                pass

    def test_deep_nesting_rejected(self):
        data = b"\x03\x01\x6a\x00" + b"\x4f" * 200 + b"\x01" * 200
        with self.assertRaises(WbxmlError):
            decode(data)


class StatusReplyShape(unittest.TestCase):
    def test_status_reply(self):
        r = commands.status_reply("AirSync", "Sync", 110)
        xml = tslib.lib_decode(encode(r.root))
        self.assertIn("<Status>110</Status>", xml)


if __name__ == "__main__":
    unittest.main(verbosity=2)
