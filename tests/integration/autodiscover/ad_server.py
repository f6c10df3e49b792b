#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Local HTTPS Autodiscover responder for tests/integration/autodiscover (stdlib only).

Usage: ad_server.py <scratch dir>
Makes a CA, a leaf for "localhost" signed by it, and an unrelated self-signed leaf (openssl),
starts two TLS servers on 127.0.0.1 (trusted leaf, untrusted leaf) on ephemeral ports and
prints "PORTS <trusted> <untrusted> <ca file>" on stdout. Requests are routed by the Host
header, so one server plays many domains (the test's connector maps every host here).
Runs until stdin closes."""
import base64
import http.server
import os
import ssl
import subprocess
import sys
import threading

NS_BASE = "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"
NS_MS = "http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006"
NS_OL = "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"
AUTH = "Basic " + base64.b64encode(b"tester:secret").decode()
PATH = "/autodiscover/autodiscover.xml"


def settings(url):
    return ('<?xml version="1.0" encoding="utf-8"?>\n<Autodiscover xmlns="%s">'
            '<Response xmlns="%s"><Culture>en:us</Culture><User><EMailAddress>x</EMailAddress>'
            '</User><Action><Settings><Server><Type>MobileSync</Type><Url>%s</Url>'
            '<Name>%s</Name></Server></Settings></Action></Response></Autodiscover>'
            % (NS_BASE, NS_MS, url, url))


def redirect_addr(addr):
    return ('<Autodiscover xmlns="%s"><Response xmlns="%s"><Action><Redirect>%s</Redirect>'
            '</Action></Response></Autodiscover>' % (NS_BASE, NS_MS, addr))


def redirect_url(url):
    return ('<Autodiscover xmlns="%s"><Response xmlns="%s"><Account><Action>redirectUrl</Action>'
            '<RedirectUrl>%s</RedirectUrl></Account></Response></Autodiscover>'
            % (NS_BASE, NS_OL, url))


# host -> (status, extra headers, body)
ROUTES = {
    # chain: 302 -> address redirect -> URL redirect -> settings
    "chain.test": (302, {"Location": "https://hop.chain.test" + PATH}, ""),
    "hop.chain.test": (200, {}, redirect_addr("user@corp.test")),
    "corp.test": (200, {}, redirect_url("https://final.corp.test" + PATH)),
    "final.corp.test": (200, {}, settings("https://mail.corp.test/Microsoft-Server-ActiveSync")),
    # first candidate: TLS fails (mapped to the untrusted server); second answers
    "autodiscover.tlsfail.test": (200, {}, settings("https://eas.tlsfail.test/Microsoft-Server-ActiveSync")),
    # bad XML, then the wrong schema
    "badxml.test": (200, {}, "<Autodiscover xmlns=\"%s\"><Response" % NS_BASE),
    "autodiscover.badxml.test": (200, {}, '<Autodiscover xmlns="%s"><Response xmlns="%s">'
                                 '<Account><Action>settings</Action></Account></Response>'
                                 '</Autodiscover>' % (NS_BASE, NS_OL)),
    # redirect back to itself
    "loop.test": (302, {"Location": "https://loop.test" + PATH}, ""),
    # a 200 that is an HTML login page, then a 500
    "html.test": (200, {"Content-Type": "text/html"}, "<html><body>Sign in</body></html>"),
    "autodiscover.html.test": (500, {}, "oops"),
}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def do_POST(self):
        host = (self.headers.get("Host") or "").split(":")[0].lower()
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8", "replace")
        if self.headers.get("Authorization") != AUTH:
            return self.reply(401, {"WWW-Authenticate": 'Basic realm="ad"'}, "")
        if self.path != PATH or "<EMailAddress>" not in body \
                or "mobilesync/requestschema/2006" not in body:
            return self.reply(400, {}, "bad request")
        status, headers, text = ROUTES.get(host, (404, {}, "no such domain"))
        self.reply(status, headers, text)

    def reply(self, status, headers, text):
        data = text.encode()
        self.send_response(status)
        if "Content-Type" not in headers:
            self.send_header("Content-Type", "text/xml; charset=utf-8")
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def openssl(*args):
    subprocess.run(["openssl"] + list(args), check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)


def make_certs(d):
    os.makedirs(d, exist_ok=True)
    ca_key, ca = os.path.join(d, "ca.key"), os.path.join(d, "ca.pem")
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out", ca,
            "-days", "2", "-subj", "/CN=easd test CA", "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    key, csr, leaf = (os.path.join(d, n) for n in ("leaf.key", "leaf.csr", "leaf.pem"))
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr, "-subj",
            "/CN=localhost")
    ext = os.path.join(d, "leaf.ext")
    with open(ext, "w") as f:
        f.write("subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\n"
                "extendedKeyUsage=serverAuth\n")
    openssl("x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial", "-out",
            leaf, "-days", "2", "-extfile", ext)
    other_key, other = os.path.join(d, "other.key"), os.path.join(d, "other.pem")
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", other_key, "-out", other,
            "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost")
    return ca, (leaf, key), (other, other_key)


def serve(cert):
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(*cert)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv.server_address[1]


def main():
    ca, good, bad = make_certs(sys.argv[1])
    p1, p2 = serve(good), serve(bad)
    print("PORTS %d %d %s" % (p1, p2, ca), flush=True)
    sys.stdin.read()


if __name__ == "__main__":
    main()
