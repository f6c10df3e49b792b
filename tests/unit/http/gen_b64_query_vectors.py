#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Independent encoder of the MS-ASHTTP 2.2.1.1.1.1 base64 query value, used to produce
the expected strings in test_http_request.c (run: python3 gen_b64_query_vectors.py).

Layout: protocol version (1 byte, 141 for 14.1), command code (1), locale (uint16 LE),
device id length (1) + bytes, policy key length (1: 0 or 4) + uint32 LE, device type
length (1) + bytes, then command parameters as tag (1), length (1), value."""
import base64
import struct


def query(ver, cmd, locale, devid, policy, devtype, params):
    b = struct.pack("<BBH", ver, cmd, locale)
    b += bytes([len(devid)]) + devid
    b += (b"\x04" + struct.pack("<I", policy)) if policy else b"\x00"
    b += bytes([len(devtype)]) + devtype
    for tag, val in params:
        b += bytes([tag, len(val)]) + val
    return base64.b64encode(b).decode()


# 1: the example of MS-ASHTTP 2.2.1.1.1.1 (Sync, 14.0, en-US, no user, no policy key)
print(query(140, 0, 0x0409, b"v140Device", 0, b"SmartPhone", []))
# 2: Ping 14.1, policy key 3942919513, user
print(query(141, 18, 0x0409, b"EASD0123456789AB", 3942919513, b"easd", [(8, b"testuser")]))
# 3: SmartReply 16.1 with locale de-DE, ItemId, CollectionId, SaveInSent option, user
print(query(161, 3, 0x0407, b"dev", 1, b"Phone",
            [(3, b"5:12"), (1, b"vevent%2Fpersonal"), (7, b"\x01"), (8, b"DOMAIN\\j")]))
