#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Write the structured seeds of fuzz_cal_expand (layout: tests/fuzz/fuzz_cal_expand.c)."""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
RF = dict(type=1, interval=2, occ=4, until=8, dow=16, dom=32, wom=64, moy=128, fdow=256, ct=512)


def seed(name, start, dur_min, rtype, present, interval=1, occ=0, until_min=0, dow=0, dom=0,
         wom=0, moy=0, fdow=0, ct=0, flags=0x0A, win_off_min=-1440, win_hours=24 * 400,
         split=0x8000, zone=None, exceptions=()):
    b = bytearray(64)
    b[0] = flags | (0x20 if zone else 0)
    b[1:6] = (start - 946684800).to_bytes(5, 'big')  # flag 1 clear: 2000 + u32 (bytes 2..5)
    b[6:8] = struct.pack('>H', dur_min)
    b[8:10] = struct.pack('>H', sum(RF[p] for p in present))
    b[10] = rtype
    b[11:15] = struct.pack('>I', interval)
    b[15:19] = struct.pack('>I', occ)
    b[19:23] = struct.pack('>i', until_min)
    b[23:30] = bytes([dow, dom, wom, moy, fdow, ct, 0])
    b[30] = len(exceptions)
    b[31:35] = struct.pack('>i', win_off_min)
    b[35:37] = struct.pack('>H', win_hours)
    b[37:39] = struct.pack('>H', split)
    if zone:
        b[40:64] = zone
    for ef, day, sec, moved_min, dur in exceptions:
        b += bytes([ef]) + struct.pack('>hh', day, sec) + struct.pack('>i', moved_min)[1:] + \
            struct.pack('>H', dur) + b'\0'
    with open(os.path.join(HERE, name + '.bin'), 'wb') as f:
        f.write(bytes(b))


# Zone bytes: bias, std bias, dl bias (i16 BE), std rule, dl rule (8 x u8), pad.
NEW_YORK = struct.pack('>hhh', 300, 0, -60) + bytes([0, 11, 0, 1, 2, 0, 0, 0]) + \
    bytes([0, 3, 0, 2, 2, 0, 0, 0]) + b'\0\0'
T = 1767603600  # 2026-01-05T09:00:00Z, a Monday
seed('daily', T, 30, 0, ['type', 'interval'], interval=2)
seed('weekly-berlin', T, 60, 1, ['type', 'interval', 'dow', 'until'], interval=1, dow=0x2A,
     until_min=60 * 24 * 200, flags=0x4A, exceptions=[(1, 2, 0, 0, 0), (6, 14, 0, 90, 60)])
seed('monthly-31', T + 26 * 86400, 60, 2, ['type', 'dom'], dom=31, flags=0x4A)
seed('monthly-nth-last', T, 60, 3, ['type', 'dow', 'wom'], dow=127, wom=5, occ=0)
seed('yearly-feb29', 1709208000, 60, 5, ['type', 'dom', 'moy', 'occ'], dom=29, moy=2, occ=12,
     win_hours=24 * 366 * 7)
seed('yearly-nth-ny', T, 0, 6, ['type', 'dow', 'wom', 'moy'], dow=16, wom=4, moy=11, flags=0x0E,
     zone=NEW_YORK, win_hours=24 * 366 * 5)
seed('weekly-ny-exceptions', T, 45, 1, ['type', 'dow', 'occ', 'fdow'], dow=0x3E, occ=50, fdow=1,
     zone=NEW_YORK, exceptions=[(1, 1, 0, 0, 0), (2, 3, 0, 600, 30), (0x26, 7, 0, -600, 15)])
