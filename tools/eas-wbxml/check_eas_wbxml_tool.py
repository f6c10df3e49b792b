#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""eas-wbxml as a tool beside libwbxml: every check uses libwbxml's own xml2wbxml/wbxml2xml
(Debian libwbxml2-utils) as the other side where it can.

  check_eas_wbxml_tool.py EAS_WBXML

1. any document size: a 72 KB Body/Data string and a 300 KB OPAQUE item written by
   xml2wbxml decode completely (no "string or opaque data too long");
2. a public identifier in the string table (xml2wbxml's header 03 00 00 6A ...) is accepted;
3. invalid UTF-8 and control characters in strings give well-formed XML (U+FFFD, counted on
   stderr); a valid 3-byte character split across the tool's 4096-byte feed chunks is kept;
4. prefixed namespaces on input, in libwbxml's spelling too (xmlns:gal="Gal:"): the same
   WBXML body as libwbxml writes for the same document;
5. libwbxml's base64 text for binary fields (every field xml2wbxml writes as OPAQUE, found
   by encoding every tag) becomes the same OPAQUE bytes as libwbxml writes, besides our
   opaque="base64" attribute.
"""
import os
import subprocess
import sys
import tempfile
import xml.dom.minidom

TOOL = sys.argv[1]
TMP = tempfile.mkdtemp(prefix="eas-wbxml-check-")
DOCTYPE = ('<!DOCTYPE ActiveSync PUBLIC "-//MICROSOFT//DTD ActiveSync//EN" '
           '"http://www.microsoft.com/">\n')
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def tool(*args, data=None):
    return subprocess.run([TOOL, *args], input=data, capture_output=True)


def libwbxml_encode(xml_text):
    """xml2wbxml's bytes for the document (it wants a DOCTYPE to pick ActiveSync)."""
    src = os.path.join(TMP, "in.xml")
    out = os.path.join(TMP, "out.wbxml")
    with open(src, "w", encoding="utf-8") as f:
        f.write('<?xml version="1.0"?>\n' + DOCTYPE + xml_text)
    if os.path.exists(out):
        os.remove(out)
    subprocess.run(["xml2wbxml", "-o", out, src], capture_output=True, check=True)
    with open(out, "rb") as f:
        return f.read()


def body_after_header(wbxml):
    """The document after version/publicid/charset/string table."""
    pos = 1

    def mb():
        nonlocal pos
        v = 0
        while True:
            b = wbxml[pos]
            pos += 1
            v = (v << 7) | (b & 0x7F)
            if not b & 0x80:
                return v
    if mb() == 0:
        mb()
    mb()
    n = mb()
    return wbxml[pos + n:]


def well_formed(xml_bytes):
    try:
        xml.dom.minidom.parseString(xml_bytes)
        return True
    except Exception as e:  # noqa: BLE001 - any parser error is the finding
        print("     parser:", e)
        return False


def text_of(xml_bytes, name):
    dom = xml.dom.minidom.parseString(xml_bytes)
    return "".join(n.data for e in dom.getElementsByTagName(name) for n in e.childNodes
                   if n.nodeType == n.TEXT_NODE)


# 1. document size: strings and OPAQUE of any length
body = "".join(chr(0x41 + (i % 26)) for i in range(72 * 1024))
doc = ('<Sync xmlns="AirSync:" xmlns:b="AirSyncBase:"><Collections><Collection><Commands><Add>'
       '<ApplicationData><b:Body><b:Type>1</b:Type><b:Data>' + body + '</b:Data></b:Body>'
       '</ApplicationData></Add></Commands></Collection></Collections></Sync>')
w = libwbxml_encode(doc)
r = tool("decode", data=w)
check(r.returncode == 0 and text_of(r.stdout, "Data") == body,
      "72 KB Body/Data from xml2wbxml decodes completely (rc %d, %s)"
      % (r.returncode, r.stderr.decode(errors="replace").strip()[:80]))
raw = bytes(range(256)) * 1200
import base64  # noqa: E402
doc = ('<ItemOperations xmlns="ItemOperations:"><Response><Fetch><Properties>'
       '<Data opaque="base64">' + base64.b64encode(raw).decode() + '</Data>'
       '</Properties></Fetch></Response></ItemOperations>')
r = tool("encode", data=doc.encode())
r2 = tool("decode", data=r.stdout)
check(r.returncode == 0 and r2.returncode == 0 and
      base64.b64decode(text_of(r2.stdout, "Data")) == raw,
      "300 KB OPAQUE round trip through encode and decode")

# 2. public identifier through the string table (libwbxml's header)
w = libwbxml_encode('<FolderSync xmlns="FolderHierarchy:"><SyncKey>0</SyncKey></FolderSync>')
check(w[:4] == b"\x03\x00\x00\x6a", "xml2wbxml writes publicid 0 + string table index")
r = tool("decode", data=w)
check(r.returncode == 0 and b"-//MICROSOFT//DTD ActiveSync//EN" in r.stdout and
      text_of(r.stdout, "SyncKey") == "0",
      "public id from the string table accepted and shown (rc %d)" % r.returncode)
r = tool("decode", data=b"\x03\x00\x05\x6a\x00\x45\x01")
check(r.returncode != 0, "public id index past the string table is an error")

# 3. invalid UTF-8, control characters, split sequences


def str_i_doc(payload):
    # <FolderSync xmlns="FolderHierarchy:"><SyncKey>payload</SyncKey></FolderSync>
    return b"\x03\x01\x6a\x00\x00\x07\x56\x52\x03" + payload + b"\x00\x01\x01"


bad = b"a\x01b\xffc\xc3(d\xed\xa0\x80e\xef\xbf\xbff\x1bg\rh\xe2\x82\xaci"
r = tool("decode", data=str_i_doc(bad))
check(r.returncode == 0 and well_formed(r.stdout), "invalid UTF-8 and controls: well-formed XML")
t = text_of(r.stdout, "SyncKey") if well_formed(r.stdout) else ""
check(t == "a\ufffdb\ufffdc\ufffd(d\ufffd\ufffd\ufffde\ufffdf\ufffdg\rh\u20aci",
      "each bad byte/sequence replaced by U+FFFD, CR and U+20AC kept (got %r)" % t)
check(b"U+FFFD" in r.stderr and b"invalid UTF-8" in r.stderr, "replacement said on stderr")
# a euro sign across the 4096-byte feed boundary: 9 header bytes + 4085 'x' + E2 | 82 AC
split = b"x" * (4096 - 9 - 1) + b"\xe2\x82\xac"
r = tool("decode", data=str_i_doc(split))
check(r.returncode == 0 and text_of(r.stdout, "SyncKey").endswith("x\u20ac") and
      b"U+FFFD" not in r.stderr, "a character split across feed chunks is kept")

# 4. prefixed namespaces, libwbxml's "Gal:" spelling
prefixed = ('<Search xmlns="Search:" xmlns:gal="Gal:"><Response><Store><Result><Properties>'
            '<gal:DisplayName>Ann</gal:DisplayName><gal:EmailAddress>a@x</gal:EmailAddress>'
            '</Properties></Result></Store></Response></Search>')
default = ('<Search xmlns="Search:"><Response><Store><Result><Properties>'
           '<DisplayName xmlns="Gal:">Ann</DisplayName><EmailAddress xmlns="Gal:">a@x'
           '</EmailAddress></Properties></Result></Store></Response></Search>')
r = tool("encode", data=prefixed.encode())
check(r.returncode == 0 and body_after_header(r.stdout) ==
      body_after_header(libwbxml_encode(default)),
      "xmlns:gal=\"Gal:\" + gal:DisplayName = libwbxml's bytes (rc %d %s)"
      % (r.returncode, r.stderr.decode(errors="replace").strip()[:80]))

# 5. libwbxml's base64 convention for binary fields: find them the way libwbxml does
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                                "eas-testserver"))
from easts import codepages as cp  # noqa: E402

found = []
for (ns, name) in sorted(cp.TOKEN_BY_NAME):
    lname = cp.LIBWBXML_NAMES.get((ns, name), name)
    lns = cp.LIBWBXML_NS.get(ns, ns)
    try:
        w = libwbxml_encode('<Sync xmlns="AirSync:"><%s xmlns="%s:">AAECAw==</%s></Sync>'
                            % (lname, lns, lname))
    except subprocess.CalledProcessError:
        continue
    if b"\xc3\x04\x00\x01\x02\x03" in w:
        found.append((ns, name))
        r = tool("encode", data=('<Sync xmlns="AirSync:"><%s xmlns="%s:">AAECAw==</%s></Sync>'
                                 % (name, ns, name)).encode())
        check(r.returncode == 0 and body_after_header(r.stdout) == body_after_header(w),
              "libwbxml binary field %s:%s: base64 text -> the same OPAQUE" % (ns, name))
check(len(found) >= 8, "libwbxml writes %d fields as OPAQUE" % len(found))
r = tool("encode", data=b'<Sync xmlns="AirSync:"><Mime xmlns="ComposeMail:">From: a\n\nhi'
         b'</Mime></Sync>')
check(r.returncode == 0 and b"\xc3\x0bFrom: a\n\nhi" in r.stdout and b"not base64" in r.stderr,
      "raw MIME text in a binary field is sent as its bytes, and said")
r = tool("encode", data=b'<Sync xmlns="AirSync:"><Data xmlns="AirSyncBase:" opaque="base64">'
         b'AAECAw==</Data></Sync>')
check(r.returncode == 0 and b"\xc3\x04\x00\x01\x02\x03" in r.stdout,
      "opaque=\"base64\" attribute still works")
r = tool("encode", data=b'<Sync xmlns="AirSync:"><Subject xmlns="Email:">AAECAw==</Subject>'
         b'</Sync>')
check(r.returncode == 0 and b"\x03AAECAw==\x00" in r.stdout,
      "base64-looking text of a text field stays a string")

if failures:
    print("%d check(s) failed" % len(failures))
    sys.exit(1)
print("all checks passed")
