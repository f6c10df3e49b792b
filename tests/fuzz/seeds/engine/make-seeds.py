#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Assemble the session seeds of fuzz_engine (input format: tests/fuzz/fuzz_engine.c).

Bodies: tests/vectors/*-response.hex (real server responses) and the *.wbxml files here
(encoded from the *.xml next to them with `eas-wbxml encode`)."""
import glob
import os

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, '..', '..', '..', '..'))
SEP = b'@@EASD@@'


def vec(name):
    with open(os.path.join(ROOT, 'tests', 'vectors', name + '.hex')) as f:
        hx = ''.join(l.split('#')[0] for l in f if not l.startswith('#'))
    return bytes.fromhex(''.join(hx.split()))


def body(name):
    with open(os.path.join(HERE, name + '.wbxml'), 'rb') as f:
        return f.read()


def options(flags=0):
    return bytes([3 | flags]) + b'2.5,12.1,14.0,14.1,16.0,16.1'


def wb(data, flags=0):
    return bytes([1 | flags]) + data


def status(code, headers=b'', flags=0):
    return bytes([2 | flags]) + code.to_bytes(2, 'big') + headers


KEEP, CHUNK1, CHUNK7, CHANGE, REBOOT = 0x08, 0x10, 0x20, 0x40, 0x80
FIRST = [options(), wb(vec('provision-response')), wb(vec('provision-response')),
         wb(vec('foldersync-response')), wb(body('sync-key0')), wb(vec('sync-calendar-response'))]
SESSIONS = {
    'first-sync': (b'\x02\x00', FIRST + [wb(vec('ping-response')), wb(body('sync-responses')),
                                         wb(body('ping-status1'))]),
    'keepalive-chunked': (b'\x03\x10', [options(KEEP), wb(body('provision-nopolicy'), KEEP | CHUNK1),
                                        wb(vec('foldersync-response'), KEEP | CHUNK7),
                                        wb(body('sync-key0'), KEEP),
                                        wb(vec('sync-calendar-response'), KEEP | 0x30),
                                        wb(vec('sync-contacts-tasks-response'), KEEP)]),
    'outbox': (b'\x02\x00', FIRST + [wb(body('ping-status1'), CHANGE), wb(body('sync-responses')),
                                     wb(body('ping-status1'), CHANGE), wb(body('sync-responses'),
                                     CHANGE), wb(body('sync-status3')), wb(body('sync-key0'))]),
    'errors': (b'\x02\x03', [status(503, b'Retry-After: 30\r\n'), options(), bytes([4]),
                             bytes([5, 4]), wb(body('provision-nopolicy')), status(449),
                             wb(vec('foldersync-response')), status(401)]),
    'reprovision': (b'\x06\x00', FIRST + [wb(body('sync-top-status142')),
                                          wb(vec('provision-response')),
                                          wb(vec('provision-response')),
                                          wb(vec('sync-calendar-response')),
                                          wb(body('ping-status7')),
                                          wb(body('foldersync-update')), wb(body('ping-status5'))]),
    'reboot-and-resync': (b'\x02\x00', FIRST[:5] + [bytes([REBOOT]), wb(body('sync-status3')),
                                                    wb(body('sync-key0')),
                                                    wb(body('sync-more-same-key')),
                                                    wb(body('sync-more-same-key')),
                                                    wb(body('foldersync-status9'))]),
    'wipe': (b'\x02\x00', [options(), wb(body('provision-wipe')), wb(body('provision-wipe'))]),
    'raw-and-reset': (b'\x01\x00', [options(), bytes([0]) + b'HTTP/1.1 200 OK\r\nTransfer-Encoding:'
                                    b' chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
                                    bytes([6, 3]) + vec('provision-response'), bytes([7])]),
}
for name, (cfg, recs) in SESSIONS.items():
    with open(os.path.join(HERE, name + '.session'), 'wb') as f:
        f.write(cfg + SEP.join(recs))
