#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""A capture server on 127.0.0.2: the "other host" of the security tests.

It plays the server a redirect points to, or a plain-http endpoint, and records everything
that reaches it: every TCP connection, and every request's method, path, header names,
whether an Authorization header came and how many body bytes. The tests assert that nothing
reaches it (no connection, so neither credentials nor a body) unless the application
approved it, and use an approved run as the positive control that the capture would see a
leak.

Two listeners: plain HTTP, and HTTPS with a certificate for the name "127.0.0.2" made by
the test. Each request is answered with 503 and a Retry-After of about 127 years (so a
client that does reach it must cap the wait), or, with hold=True, never answered.

Stdlib only; used as a module (Capture) or run alone: capture.py DIR prints
"PORTS <plain> <tls>" and logs JSON lines to DIR/capture.jsonl until stdin closes."""
import json
import os
import socket
import ssl
import sys
import threading

HOST = "127.0.0.2"


class _Listener(threading.Thread):
    def __init__(self, cap, tls_ctx):
        super().__init__(daemon=True)
        self.cap, self.tls_ctx = cap, tls_ctx
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((HOST, 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]

    def run(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.cap.note({"kind": "connect", "tls": self.tls_ctx is not None})
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        try:
            conn.settimeout(30)
            if self.tls_ctx is not None:
                conn = self.tls_ctx.wrap_socket(conn, server_side=True)
            buf = b""
            while True:
                while b"\r\n\r\n" not in buf:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    buf += chunk
                head, buf = buf.split(b"\r\n\r\n", 1)
                lines = head.decode("latin-1").split("\r\n")
                method, path = (lines[0].split(" ") + ["", ""])[:2]
                headers = {}
                for line in lines[1:]:
                    name, _, value = line.partition(":")
                    headers[name.strip().lower()] = value.strip()
                length = int(headers.get("content-length", "0") or 0)
                while len(buf) < length:
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    buf += chunk
                body, buf = buf[:length], buf[length:]
                self.cap.note({"kind": "request", "tls": self.tls_ctx is not None,
                               "method": method, "path": path,
                               "headers": sorted(headers),
                               "authorization": "authorization" in headers,
                               "body_bytes": len(body)})
                if self.cap.hold:
                    threading.Event().wait(60)
                    return
                conn.sendall(b"HTTP/1.1 503 Busy\r\nRetry-After: 4000000000\r\n"
                             b"Content-Length: 0\r\n\r\n")
        except (OSError, ssl.SSLError, ValueError):
            return
        finally:
            try:
                conn.close()
            except OSError:
                pass


class Capture:
    """Both listeners; .events is everything recorded so far."""

    def __init__(self, cert=None, key=None, log=None, hold=False):
        self.events, self.lock, self.log, self.hold = [], threading.Lock(), log, hold
        self.plain = _Listener(self, None)
        ctx = None
        if cert:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(cert, key)
        self.tls = _Listener(self, ctx) if ctx else None
        self.plain.start()
        if self.tls:
            self.tls.start()

    def note(self, ev):
        with self.lock:
            self.events.append(ev)
            if self.log:
                with open(self.log, "a") as f:
                    f.write(json.dumps(ev) + "\n")

    def snapshot(self):
        with self.lock:
            return list(self.events)

    def reset(self):
        with self.lock:
            self.events.clear()


def make_cert(directory, name):
    """A self-signed certificate whose name (CN and subjectAltName DNS) is @name."""
    import subprocess
    cert, key = os.path.join(directory, name + ".pem"), os.path.join(directory, name + ".key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                    "-out", cert, "-days", "2", "-subj", "/CN=" + name,
                    "-addext", "subjectAltName=DNS:" + name],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return cert, key


def main():
    d = sys.argv[1]
    cert, key = make_cert(d, HOST)
    cap = Capture(cert, key, log=os.path.join(d, "capture.jsonl"))
    print("PORTS %d %d" % (cap.plain.port, cap.tls.port), flush=True)
    sys.stdin.read()


if __name__ == "__main__":
    main()
