# SPDX-License-Identifier: Apache-2.0
"""Helpers for the eas-testserver's own tests: start the server, talk to it with curl and
libwbxml's xml2wbxml/wbxml2xml (so the server's codec is checked against another one)."""
import base64
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
TSDIR = os.path.join(ROOT, "tools", "eas-testserver")
SERVER = os.path.join(TSDIR, "eas-testserver")
DEMO = os.path.join(TSDIR, "mailboxes", "demo.json")
sys.path.insert(0, TSDIR)

from easts import wbxml  # noqa: E402

DOCTYPE = ('<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE ActiveSync PUBLIC '
           '"-//MICROSOFT//DTD ActiveSync//EN" "http://www.microsoft.com/">\n')


def lib_encode(xml_text):
    """XML (libwbxml names) -> WBXML bytes with xml2wbxml -a -n."""
    with tempfile.TemporaryDirectory() as d:
        src = os.path.join(d, "in.xml")
        dst = os.path.join(d, "out.wbxml")
        with open(src, "w", encoding="utf-8") as fh:
            fh.write(xml_text if xml_text.startswith("<?xml") else DOCTYPE + xml_text)
        p = subprocess.run(["xml2wbxml", "-a", "-n", "-o", dst, src], capture_output=True,
                           text=True)
        if "succeeded" not in p.stderr + p.stdout or not os.path.exists(dst):
            raise RuntimeError("xml2wbxml failed: %s %s" % (p.stdout, p.stderr))
        with open(dst, "rb") as fh:
            return fh.read()


def lib_decode(data):
    """WBXML bytes -> XML text with wbxml2xml -l ACTIVESYNC."""
    with tempfile.TemporaryDirectory() as d:
        src = os.path.join(d, "in.wbxml")
        with open(src, "wb") as fh:
            fh.write(data)
        p = subprocess.run(["wbxml2xml", "-l", "ACTIVESYNC", "-o", "-", src],
                           capture_output=True)
        out = p.stdout.decode("utf-8")
        if "<" not in out:
            raise RuntimeError("wbxml2xml failed: %r" % p.stderr)
        return out[:out.rindex(">") + 1]


class Server:
    """An eas-testserver child process on a free port."""

    def __init__(self, *args, mailbox=DEMO, scenario=None):
        self.tmp = tempfile.mkdtemp(prefix="easts-")
        self.log = os.path.join(self.tmp, "requests.jsonl")
        cmd = [sys.executable, SERVER, "--port", "0", "--log", self.log]
        if mailbox:
            cmd += ["--mailbox", mailbox]
        if scenario is not None:
            path = os.path.join(self.tmp, "scenario.json")
            with open(path, "w", encoding="utf-8") as fh:
                json.dump(scenario, fh)
            cmd += ["--scenario", path]
        cmd += list(args)
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)
        self.port = None
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            if line.startswith("PORT="):
                self.port = int(line.strip()[5:])
                break
        if self.port is None:
            self.proc.kill()
            raise RuntimeError("server did not start: %s" % self.proc.stderr.read())
        scheme = "https" if "--tls-cert" in args else "http"
        self.base = "%s://127.0.0.1:%d" % (scheme, self.port)
        self.url = self.base + "/Microsoft-Server-ActiveSync"
        self.policy_key = None

    def close(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for s in (self.proc.stdout, self.proc.stderr):
            if s:
                s.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ----------------------------------------------------------------------------------
    def control(self, method, path, obj=None):
        data = json.dumps(obj).encode() if obj is not None else None
        req = urllib.request.Request(self.base + "/_control/" + path, data=data, method=method)
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.loads(r.read().decode())

    def curl(self, cmd, body=b"", user="testuser", password="testpass", device="dev1",
             version="14.1", policy_key=None, extra=(), query=None, method="POST",
             timeout=60, ctype="application/vnd.ms-sync.wbxml"):
        """One request with curl. Returns (http status, headers dict, body bytes, curl rc)."""
        with tempfile.TemporaryDirectory() as d:
            bfile = os.path.join(d, "body")
            hfile = os.path.join(d, "hdr")
            ofile = os.path.join(d, "out")
            with open(bfile, "wb") as fh:
                fh.write(body)
            q = query if query is not None else \
                "Cmd=%s&User=%s&DeviceId=%s&DeviceType=TestDev" % (cmd, user, device)
            args = ["curl", "-s", "-k", "--max-time", str(timeout), "-D", hfile, "-o", ofile,
                    "-X", method, "-H", "Content-Type: " + ctype,
                    "-H", "User-Agent: easts-test/1.0"]
            if user is not None:
                args += ["-u", "%s:%s" % (user, password)]
            if version:
                args += ["-H", "MS-ASProtocolVersion: " + version]
            pk = policy_key if policy_key is not None else self.policy_key
            if pk:
                args += ["-H", "X-MS-PolicyKey: " + pk]
            if method == "POST":
                args += ["--data-binary", "@" + bfile]
            args += list(extra)
            args.append(self.url + ("?" + q if q else ""))
            p = subprocess.run(args, capture_output=True)
            status, headers = 0, {}
            if os.path.exists(hfile):
                with open(hfile, "rb") as fh:
                    blocks = fh.read().decode("latin-1").split("\r\n\r\n")
                lines = [ln for ln in blocks[-2 if len(blocks) > 1 else 0].split("\r\n") if ln] \
                    if blocks else []
                if lines and lines[0].startswith("HTTP/"):
                    status = int(lines[0].split()[1])
                for ln in lines[1:]:
                    k, _, v = ln.partition(":")
                    headers[k.strip().lower()] = v.strip()
            out = b""
            if os.path.exists(ofile):
                with open(ofile, "rb") as fh:
                    out = fh.read()
            return status, headers, out, p.returncode

    def eas(self, cmd, xml=None, **kw):
        """xml (libwbxml names) -> xml2wbxml -> curl -> wbxml2xml -> Element (or None).
        Returns (http status, Element|None, headers)."""
        body = lib_encode(xml) if xml else b""
        status, headers, out, rc = self.curl(cmd, body, **kw)
        if rc != 0:
            raise RuntimeError("curl failed rc=%d" % rc)
        el = None
        if out and headers.get("content-type", "").startswith("application/vnd.ms-sync"):
            el = wbxml.from_xml(lib_decode(out))
        return status, el, headers

    def provision(self, device="dev1", version="14.1"):
        req1 = ('<Provision xmlns="Provision:"><Policies><Policy><PolicyType>'
                'MS-EAS-Provisioning-WBXML</PolicyType></Policy></Policies></Provision>')
        st, el, _ = self.eas("Provision", req1, device=device, version=version, policy_key="0")
        temp = el.path("Policies", "Policy").findtext("PolicyKey")
        req2 = ('<Provision xmlns="Provision:"><Policies><Policy><PolicyType>'
                'MS-EAS-Provisioning-WBXML</PolicyType><PolicyKey>%s</PolicyKey><Status>1'
                '</Status></Policy></Policies></Provision>' % temp)
        st, el, _ = self.eas("Provision", req2, device=device, version=version, policy_key=temp)
        self.policy_key = el.path("Policies", "Policy").findtext("PolicyKey")
        return self.policy_key


def b64_query(cmd_code, device, device_type="TestDev", version=141, policy_key=None,
              params=()):
    raw = bytes([version, cmd_code]) + (1033).to_bytes(2, "little")
    raw += bytes([len(device)]) + device.encode()
    if policy_key is None:
        raw += b"\x00"
    else:
        raw += b"\x04" + int(policy_key).to_bytes(4, "little")
    raw += bytes([len(device_type)]) + device_type.encode()
    for tag, val in params:
        raw += bytes([tag, len(val)]) + val
    return base64.b64encode(raw).decode()
