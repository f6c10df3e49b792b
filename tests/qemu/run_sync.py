#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The sync firmware under QEMU against the test server over TLS (tests/qemu, tools/firmware-demo).

1. Makes throw-away certificates: an EC P-256 CA and server certificate for eas.test
   (+ localhost), and a second, untrusted EC CA with its own server certificate; an RSA
   chain as Exchange servers have them (RSA-4096 root, SHA-384 -> RSA-4096 intermediate ->
   RSA-2048 server certificate, SHA-256), an expired RSA server certificate, and an
   untrusted RSA CA with a server certificate.
2. Cross-builds the mps2-an385 sync image with both roots (EC + RSA) compiled in
   (EASD_FW_CA_FILE, a PEM bundle).
3. Starts tools/eas-testserver with TLS on 127.0.0.1 and the demo mailbox.
4. Host reference: eas-sync (device "hostref", https://localhost) and eas-agenda expand the
   same calendar on the host.
5. Boots the image with `-nic user,restrict=on,guestfwd=tcp:10.0.2.100:443-tcp:127.0.0.1:PORT`
   (the firmware maps eas.test to 10.0.2.100); once it pings, a calendar item is added on the
   server; the firmware must report it (LIVE) and exit 0.
6. Checks: the server's request log shows OPTIONS, Provision, FolderSync, Sync, Ping from the
   firmware's device in that order; the occurrences the firmware printed equal eas-agenda's;
   the added item arrived through Ping.
7. Negative runs prove the certificate checks are real: the host name wrong.test (mapped to
   the same server) is refused as a name mismatch, a server with a certificate from another CA
   as untrusted - and neither reaches the server's request log.
8. RSA (one more full boot + short refused ones): the firmware syncs with a server that
   presents the RSA chain (ECDHE-RSA); the same name and other-CA refusals for RSA; dates:
   a certificate that expired before the image was built is refused ("certificate
   expired"). The RSA server certificate is dated to start tomorrow, i.e. after the image
   was built (a renewal): without a trusted clock it is accepted (the image only knows a
   lower bound of the time), with the board's clock set (utc=, as an RTC/SNTP would) it is
   refused as not yet valid.

    run_sync.py --source DIR --build DIR --host-build DIR [--preset P] [--keep]
                [--cpu cortex-m3|cortex-m4]   (QEMU mps2-an385 / mps2-an386)
                [--generate N]      (a first sync of N items per class from a server with the
                                     RSA chain instead; no checks 4-8)
Exit 0 when every check passed. Prints boot-to-synced time and the RAM report.
"""
import argparse
import json
import os
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request

WINDOW_FROM = "20250101T000000Z"
WINDOW_DAYS = 200
FW_DEVICE = "easdfw0001"


def log(msg):
    print("run_sync: " + msg, flush=True)


def fail(msg):
    print("run_sync: FAIL: " + msg, flush=True)
    sys.exit(1)


def sh(cmd, **kw):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw)
    if p.returncode != 0:
        sys.stdout.write(p.stdout)
        fail("command failed: " + " ".join(cmd))
    return p.stdout


def openssl_ca(d, ca, csr, out, ext, start, end, md):
    """Sign @csr with @ca (name of .pem/.key in @d) for exactly [start, end] (openssl ca: the
    only OpenSSL 3.0 command that takes both dates)."""
    db = os.path.join(d, "db-" + ca)
    os.makedirs(os.path.join(db, "new"), exist_ok=True)
    if not os.path.exists(os.path.join(db, "index.txt")):
        open(os.path.join(db, "index.txt"), "w").close()
        with open(os.path.join(db, "serial"), "w") as fh:
            fh.write("%032x\n" % int.from_bytes(os.urandom(15), "big"))
    cnf = os.path.join(db, "ca.cnf")
    with open(cnf, "w") as fh:
        fh.write("[ca]\ndefault_ca = d\n[d]\ndatabase = %s/index.txt\nnew_certs_dir = %s/new\n"
                 "serial = %s/serial\npolicy = p\nunique_subject = no\n"
                 "[p]\ncommonName = supplied\n" % (db, db, db))
    sh(["openssl", "ca", "-batch", "-notext", "-config", cnf, "-cert",
        os.path.join(d, ca + ".pem"), "-keyfile", os.path.join(d, ca + ".key"), "-in", csr,
        "-out", out, "-extfile", ext, "-startdate", start, "-enddate", end, "-md", md])


def asn1_time(t):
    return time.strftime("%Y%m%d%H%M%SZ", time.gmtime(t))


def make_rsa_certs(d):
    """The RSA CAs and keys: root (4096, SHA-384) -> intermediate (4096, SHA-384); keys and
    requests of the 2048-bit server certificates (make_rsa_leaves); a rogue RSA root."""
    def key(name, bits):
        sh(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:%d" % bits,
            "-out", os.path.join(d, name + ".key")])

    def csr(name, cn):
        out = os.path.join(d, name + ".csr")
        sh(["openssl", "req", "-new", "-key", os.path.join(d, name + ".key"), "-subj",
            "/CN=" + cn, "-out", out])
        return out

    ca_ext = os.path.join(d, "rsa-ca-ext.cnf")
    with open(ca_ext, "w") as fh:
        fh.write("basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign\n")
    srv_ext = os.path.join(d, "rsa-srv-ext.cnf")
    with open(srv_ext, "w") as fh:
        fh.write("subjectAltName=DNS:eas.test,DNS:localhost\nbasicConstraints=CA:FALSE\n"
                 "extendedKeyUsage=serverAuth\n")
    now = time.time()
    for root, bits in (("rsa-ca", 4096), ("rsa-rogue", 2048)):
        key(root, bits)
        sh(["openssl", "req", "-x509", "-new", "-key", os.path.join(d, root + ".key"),
            "-sha384", "-days", "3650", "-subj", "/CN=easd %s test root" % root, "-out",
            os.path.join(d, root + ".pem")])
    key("rsa-int", 4096)
    openssl_ca(d, "rsa-ca", csr("rsa-int", "easd RSA test intermediate"),
               os.path.join(d, "rsa-int.pem"), ca_ext, asn1_time(now - 86400),
               asn1_time(now + 3650 * 86400), "sha384")
    for name in ("rsa-server", "rsa-expired", "rsa-rogue-server"):
        key(name, 2048)
        csr(name, "eas.test")


def make_rsa_leaves(d):
    """The RSA server certificates, dated from now at every run (the build tree keeps the
    keys and CAs): valid from tomorrow, expired two days ago, and one from the rogue CA."""
    now = time.time()
    for name, signer, start, end in (
            ("rsa-server", "rsa-int", now + 86400, now + 400 * 86400),
            ("rsa-expired", "rsa-int", now - 400 * 86400, now - 2 * 86400),
            ("rsa-rogue-server", "rsa-rogue", now - 86400, now + 400 * 86400)):
        leaf = os.path.join(d, name + ".leaf.pem")
        openssl_ca(d, signer, os.path.join(d, name + ".csr"), leaf,
                   os.path.join(d, "rsa-srv-ext.cnf"), asn1_time(start), asn1_time(end),
                   "sha256")
        # What the server sends: its certificate and the intermediate (never the root).
        with open(os.path.join(d, name + ".pem"), "w") as fh:
            fh.write(open(leaf).read())
            if signer == "rsa-int":
                fh.write(open(os.path.join(d, "rsa-int.pem")).read())


def make_certs(d):
    """CA + server cert for eas.test/localhost; a rogue CA + server cert (EC P-256); the RSA
    set (make_rsa_certs); the image's trust bundle (EC root + RSA root)."""
    # The marker names the set: a build tree from before the RSA set gets a new one.
    if os.path.exists(os.path.join(d, "done-rsa")):
        return
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d, exist_ok=True)
    for ca in ("ca", "rogue"):
        sh(["openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out",
            os.path.join(d, ca + ".key")])
        sh(["openssl", "req", "-x509", "-new", "-key", os.path.join(d, ca + ".key"), "-sha256",
            "-days", "3650", "-subj", "/CN=easd %s test CA" % ca, "-out",
            os.path.join(d, ca + ".pem")])
        srv = ca + "-server"
        sh(["openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out",
            os.path.join(d, srv + ".key")])
        sh(["openssl", "req", "-new", "-key", os.path.join(d, srv + ".key"), "-subj",
            "/CN=eas.test", "-out", os.path.join(d, srv + ".csr")])
        ext = os.path.join(d, "ext.cnf")
        with open(ext, "w") as fh:
            fh.write("subjectAltName=DNS:eas.test,DNS:localhost\nbasicConstraints=CA:FALSE\n")
        sh(["openssl", "x509", "-req", "-in", os.path.join(d, srv + ".csr"), "-CA",
            os.path.join(d, ca + ".pem"), "-CAkey", os.path.join(d, ca + ".key"),
            "-CAcreateserial", "-days", "3650", "-sha256", "-extfile", ext, "-out",
            os.path.join(d, srv + ".pem")])
    make_rsa_certs(d)
    with open(os.path.join(d, "trust.pem"), "w") as fh:
        fh.write(open(os.path.join(d, "ca.pem")).read())
        fh.write(open(os.path.join(d, "rsa-ca.pem")).read())
    open(os.path.join(d, "done-rsa"), "w").close()


MACHINE = {"cortex-m3": "mps2-an385", "cortex-m4": "mps2-an386"}
CPU = "cortex-m3"


def build_image(src, bld, preset, ca, tp_dir, lto=False):
    cfg = ["cmake", "-S", src, "-B", bld, "-G", "Ninja", "-DEASD_ARM_CPU=" + CPU,
           "-DCMAKE_TOOLCHAIN_FILE=" + os.path.join(src, "cmake", "arm-none-eabi.cmake"),
           "-DEASD_PRESET=" + preset, "-DEASD_WERROR=ON", "-DEASD_FW_CA_FILE=" + ca,
           "-DEASD_FW_THIRD_PARTY_DIR=" + tp_dir, "-DEASD_FW_LTO=" + ("ON" if lto else "OFF")]
    if shutil.which("ccache"):
        cfg.append("-DCMAKE_C_COMPILER_LAUNCHER=ccache")
    # The image's TLS clock starts at its build day; SOURCE_DATE_EPOCH (a reproducible-build
    # setting) would move it back and the expired-certificate check could not be made.
    env = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}
    sh(cfg, env=env)
    sh(["cmake", "--build", bld, "-j", "2", "--target", "easd-sync-mps2-an385"], env=env)
    return os.path.join(bld, "firmware", "mps2-an385", "easd-sync-mps2-an385.elf")


class Server:
    def __init__(self, src, tmp, cert, key, ca, extra):
        self.dir = tmp
        self.port_file = os.path.join(tmp, "port-%s" % os.path.basename(cert))
        self.req_log = os.path.join(tmp, "requests-%s.jsonl" % os.path.basename(cert))
        self.out = open(os.path.join(tmp, "server-%s.log" % os.path.basename(cert)), "w")
        ts = os.path.join(src, "tools", "eas-testserver", "eas-testserver")
        self.proc = subprocess.Popen(
            [sys.executable, ts, "--port", "0", "--port-file", self.port_file, "--tls-cert",
             cert, "--tls-key", key, "--log", self.req_log] + extra,
            stdout=self.out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while not os.path.exists(self.port_file):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                fail("the test server did not start (%s)" % self.out.name)
            time.sleep(0.05)
        with open(self.port_file) as fh:
            self.port = int(fh.read().strip())
        self.ctx = ssl.create_default_context(cafile=ca)
        # The test's control channel verifies the chain but not the dates: some servers here
        # carry deliberately expired or not-yet-valid certificates (X509_V_FLAG_NO_CHECK_TIME).
        self.ctx.verify_flags |= 0x200000

    def control(self, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request("https://localhost:%d/_control/%s" % (self.port, path),
                                     data=data, method="GET" if body is None else "POST")
        with urllib.request.urlopen(req, timeout=10, context=self.ctx) as r:
            return json.loads(r.read().decode())

    def requests(self, device):
        """Requests of @device; OPTIONS carries no DeviceId, so it counts for everyone (the
        log is reset before each firmware run)."""
        recs = self.control("requests?bodies=0")["requests"]
        return [r for r in recs if r.get("device") in (device, None)]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.out.close()


def qemu_cmd(image, port, append):
    return ["qemu-system-arm", "-M", MACHINE[CPU], "-nographic", "-no-reboot",
            "-semihosting-config", "enable=on,target=native",
            "-nic", "user,restrict=on,guestfwd=tcp:10.0.2.100:443-tcp:127.0.0.1:%d" % port,
            "-kernel", image, "-append", append]


def run_firmware(image, port, append, out_path, on_line=None, wall_timeout=120):
    """Boot the image; returns (exit status, lines, wall seconds to the SYNCED line)."""
    t0 = time.monotonic()
    lines, synced_wall = [], None
    with open(out_path, "w") as out:
        p = subprocess.Popen(qemu_cmd(image, port, append), stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                             errors="replace")
        try:
            for line in p.stdout:
                line = line.rstrip("\r\n")
                out.write(line + "\n")
                lines.append(line)
                if line.startswith("SYNCED") and synced_wall is None:
                    synced_wall = time.monotonic() - t0
                if on_line:
                    on_line(line)
                if time.monotonic() - t0 > wall_timeout:
                    p.kill()
                    break
            status = p.wait(timeout=wall_timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            status = p.wait()
    return status, lines, synced_wall


def host_occurrences(host_build, server, ca, tmp):
    """The host's expansion of the same calendar: eas-sync, then eas-agenda --json."""
    pw = os.path.join(tmp, "pw")
    with open(os.open(pw, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as fh:
        fh.write("testpass\n")
    out = os.path.join(tmp, "hostref.jsonl")
    with open(out, "w") as fh:
        rc = subprocess.call(
            [os.path.join(host_build, "tools", "eas-sync"), "--url",
             "https://localhost:%d/Microsoft-Server-ActiveSync" % server.port, "--user",
             "testuser", "--password-file", pw, "--device-id", "hostref", "--state",
             os.path.join(tmp, "hostref-state"), "--ca-file", ca, "--classes", "Calendar",
             "--timeout", "60"], stdout=fh, stderr=subprocess.STDOUT)
    if rc != 0:
        sys.stdout.write(open(out).read()[-3000:])
        fail("host eas-sync failed (%d)" % rc)
    agenda = subprocess.run(
        [os.path.join(host_build, "tools", "eas-agenda"), "--json", "--from", WINDOW_FROM,
         "--days", str(WINDOW_DAYS), out], stdout=subprocess.PIPE, text=True)
    if agenda.returncode != 0:
        fail("eas-agenda failed")
    occ = set()
    for line in agenda.stdout.splitlines():
        o = json.loads(line)
        occ.add((o["start"], o["end"], o["server_id"]))
    return occ


def check_rsa(a, image, certs, tmp, servers):
    """Step 8: the RSA chain, its refusals, and the certificate dates."""
    mbox = ["--mailbox", os.path.join(a.source, "tools", "eas-testserver", "mailboxes",
                                      "demo.json")]

    def server(name, ca):
        s = Server(a.source, tmp, os.path.join(certs, name + ".pem"),
                   os.path.join(certs, name + ".key"), os.path.join(certs, ca + ".pem"), mbox)
        servers.append(s)
        return s

    def refused(srv, device, words, what, log_name):
        srv.control("reset_log", {})  # OPTIONS carries no device: count only this run's
        status, lines, _ = run_firmware(image, srv.port, "device=%s exit=synced certfail=exit "
                                        "timeout=20 %s" % (device, words),
                                        os.path.join(a.build, log_name))
        if status != 2 or not any(what in l for l in lines):
            fail("%s: expected '%s', got: %s" % (log_name, what, lines[-5:]))
        if srv.requests(device):
            fail("%s: the refused connection still reached the server" % log_name)

    rsa = server("rsa-server", "rsa-ca")
    rsa.control("reset_log", {})
    status, lines, wall = run_firmware(image, rsa.port, "device=fwrsa exit=synced timeout=60",
                                       os.path.join(a.build, "firmware-rsa.log"))
    for line in lines:
        if line.startswith(("SYNCED", "REPORT", "STOPPED", "TIMEOUT", "CLOCK", "[E]", "[W]")):
            print("  | " + line)
    if status != 0 or not any(l.startswith("SYNCED") for l in lines):
        fail("no sync with the RSA-certified server (log: firmware-rsa.log)")
    if not any("TLS-ECDHE-RSA-WITH-AES-" in l for l in lines):
        fail("the RSA server's handshake was not ECDHE-RSA with AES-GCM")
    cmds = [r.get("command") for r in rsa.requests("fwrsa")]
    if "Sync" not in cmds:
        fail("the RSA server saw no Sync from the firmware: %s" % cmds)
    if not any("issued after this image was built" in l for l in lines):
        fail("the server certificate starts after the build, but the firmware did not say so")
    log("RSA: synced with an RSA-2048 certificate under an RSA-4096 chain (SHA-256/384), "
        "%s, %.2f s wall clock; the certificate dated after the build was accepted" %
        ([l for l in lines if "TLS-ECDHE-RSA" in l][0].split()[-1], wall))

    # The board's clock set to now (as an RTC or SNTP would): now "not yet valid" counts.
    refused(rsa, "fwrsaclock", "utc=%d" % int(time.time()), "certificate not yet valid",
            "firmware-rsa-notyet.log")
    refused(rsa, "fwrsawrong", "url=https://wrong.test/Microsoft-Server-ActiveSync",
            "certificate name mismatch", "firmware-rsa-wrongname.log")
    refused(server("rsa-rogue-server", "rsa-rogue"), "fwrsarogue", "",
            "certificate not trusted", "firmware-rsa-untrusted.log")
    refused(server("rsa-expired", "rsa-ca"), "fwrsaexpired", "", "certificate expired",
            "firmware-rsa-expired.log")
    log("RSA refused: not yet valid by a set clock, another host name, another CA, expired "
        "before the image was built")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--source", required=True)
    ap.add_argument("--build", required=True)
    ap.add_argument("--host-build", default="")
    ap.add_argument("--preset", default="full")
    ap.add_argument("--generate", type=int, default=0)
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--cpu", choices=sorted(MACHINE), default="cortex-m3",
                    help="cortex-m3: QEMU mps2-an385; cortex-m4: mps2-an386 (same board files)")
    ap.add_argument("--lto", action="store_true",
                    help="link-time optimised image (EASD_FW_LTO), as the footprint's LTO row")
    a = ap.parse_args()
    global CPU
    CPU = a.cpu

    for tool in ("qemu-system-arm", "openssl", "arm-none-eabi-gcc"):
        if not shutil.which(tool):
            fail("%s not installed (tools/install-deps)" % tool)
    os.makedirs(a.build, exist_ok=True)
    certs = os.path.join(a.build, "certs")
    make_certs(certs)
    make_rsa_leaves(certs)
    t0 = time.monotonic()
    image = build_image(a.source, os.path.join(a.build, "fw"), a.preset,
                        os.path.join(certs, "trust.pem"), os.path.join(a.build, "third_party"),
                        a.lto)
    log("image built in %.1f s for %s (QEMU %s)%s: %s" % (time.monotonic() - t0, CPU,
                                                         MACHINE[CPU], ", LTO" if a.lto else "",
                                                         image))

    tmp = tempfile.mkdtemp(prefix="easd-fw-")
    servers = []
    ok = False
    try:
        extra = (["--generate", str(a.generate)] if a.generate else
                 ["--mailbox", os.path.join(a.source, "tools", "eas-testserver", "mailboxes",
                                            "demo.json")])
        # --generate measures RAM: with the RSA chain, the larger TLS heap need (and what
        # Exchange servers present).
        name, ca = ("rsa-server", "rsa-ca") if a.generate else ("ca-server", "ca")
        srv = Server(a.source, tmp, os.path.join(certs, name + ".pem"),
                     os.path.join(certs, name + ".key"), os.path.join(certs, ca + ".pem"), extra)
        servers.append(srv)
        log("test server on https://127.0.0.1:%d" % srv.port)

        if a.generate:
            append = "exit=synced timeout=600 days=1"
            status, lines, wall = run_firmware(image, srv.port, append,
                                               os.path.join(a.build, "firmware-generate.log"),
                                               wall_timeout=600)
            for line in lines:
                if line.startswith(("SYNCED", "REPORT", "STOPPED", "TIMEOUT")):
                    print(line)
            if status != 0:
                fail("firmware exit status %d" % status)
            log("boot to synced (wall clock, QEMU start to SYNCED line): %.2f s" % wall)
            ok = True
            return 0

        ref = set()
        if a.host_build:
            ref = host_occurrences(a.host_build, srv, os.path.join(certs, "ca.pem"), tmp)
            log("host reference: %d occurrences in %d days from %s" %
                (len(ref), WINDOW_DAYS, WINDOW_FROM))

        # The change the firmware must see through Ping: added by the server 300 ms after the
        # firmware's first Ping arrived (an "inject" fault rule of the test server).
        added = {"Subject": "added while the firmware pings", "StartTime": "20250301T100000Z",
                 "EndTime": "20250301T110000Z", "BusyStatus": 2, "AllDayEvent": 0,
                 "Sensitivity": 0, "MeetingStatus": 0, "DtStamp": "20250101T000000Z",
                 "UID": "fw-ping-test"}
        srv.control("faults", {"command": "Ping", "device": FW_DEVICE, "nth": 1,
                               "type": "inject", "after_ms": 300,
                               "changes": [{"op": "add_item", "folder": "6", "data": added}]})
        on_line = None
        srv.control("reset_log", {})
        append = "from=%s days=%d exit=live timeout=90 device=%s" % (WINDOW_FROM, WINDOW_DAYS,
                                                                     FW_DEVICE)
        status, lines, wall = run_firmware(image, srv.port, append,
                                           os.path.join(a.build, "firmware-sync.log"), on_line)
        for line in lines:
            if not line.startswith(("OCC", "[D]")):
                print("  | " + line)
        if status != 0:
            fail("firmware exit status %d (log: %s)" % (status, os.path.join(a.build,
                                                                             "firmware-sync.log")))
        synced = [l for l in lines if l.startswith("SYNCED")]
        if not synced:
            fail("the firmware never reported a complete sync")
        suite = [l for l in lines if "TLS-ECDHE-" in l]
        if not suite or "TLS-ECDHE-ECDSA-WITH-AES-" not in suite[0]:
            fail("the EC server's handshake was not ECDHE-ECDSA with AES-GCM: %s" % suite)
        log("negotiated: %s" % suite[0].split()[-1])

        # The server's view: the order of the firmware's first requests per command.
        recs = srv.requests(FW_DEVICE)
        order = []
        for r in recs:
            c = r.get("command") or r.get("method")
            if c not in order:
                order.append(c)
        want = ["OPTIONS", "Provision", "Settings", "FolderSync", "Sync", "Ping"]
        seen = [c for c in order if c in want]
        log("server request log, first of each command from %s: %s" % (FW_DEVICE, seen))
        if seen != want:
            fail("expected %s in that order" % want)
        bad = [r for r in recs if (r.get("status") or 200) >= 400]
        if bad:
            fail("%d requests failed on the server: %s" % (len(bad), bad[:2]))

        # The change made during Ping reached the firmware through Ping.
        live = [l for l in lines if l.startswith("LIVE")]
        if not any(len(l.split()) >= 4 and l.split()[2] == "6" for l in live):
            fail("the item added during Ping did not arrive: %s" % live)
        pings = [r for r in recs if r.get("command") == "Ping"]
        if not any(r.get("eas_status") == 2 for r in pings):
            fail("no Ping answered 'changes' (status 2): %s" % [r.get("eas_status") for r in pings])
        log("the server change reached the firmware through Ping: %s" % live[0])

        # Occurrences: firmware (first sync) vs the host's eas-agenda.
        occ = set()
        for l in lines:
            if l.startswith("SYNCED"):
                break  # later ones belong to the item added during Ping
            p = l.split()
            if len(p) == 4 and p[0] == "OCC":
                occ.add((p[1], p[2], p[3]))
        if a.host_build:
            if not ref:
                fail("the host reference has no occurrences in the window")
            if occ != ref:
                log("only firmware: %s" % sorted(occ - ref)[:10])
                log("only host:     %s" % sorted(ref - occ)[:10])
                fail("occurrences differ (firmware %d, host %d)" % (len(occ), len(ref)))
            log("occurrences: the firmware's %d equal eas-agenda's on the host" % len(occ))

        # Certificate checks: a wrong name and an untrusted CA never reach the server.
        rogue = Server(a.source, tmp, os.path.join(certs, "rogue-server.pem"),
                       os.path.join(certs, "rogue-server.key"), os.path.join(certs, "rogue.pem"),
                       ["--mailbox", os.path.join(a.source, "tools", "eas-testserver",
                                                  "mailboxes", "demo.json")])
        servers.append(rogue)
        untrusted = run_firmware(image, rogue.port, "device=fwrogue exit=synced certfail=exit timeout=20",
                                 os.path.join(a.build, "firmware-untrusted.log"))
        if untrusted[0] != 2 or not any("certificate not trusted" in l for l in untrusted[1]):
            fail("a certificate from an unknown CA was not refused: %s" % untrusted[1][-5:])
        srv.control("reset_log", {})
        bad_name = run_firmware(image, srv.port,
                                "url=https://wrong.test/Microsoft-Server-ActiveSync "
                                "device=fwwrongname exit=synced certfail=exit timeout=20",
                                os.path.join(a.build, "firmware-wrongname.log"))
        if bad_name[0] != 2 or not any("certificate name mismatch" in l for l in bad_name[1]):
            fail("a certificate for another name was not refused: %s" % bad_name[1][-5:])
        if srv.requests("fwwrongname") or rogue.requests("fwrogue"):
            fail("a refused connection still reached the server")
        log("refused: certificate for another host name, certificate from another CA")

        check_rsa(a, image, certs, tmp, servers)

        report = [l for l in lines if l.startswith("REPORT")]
        log(synced[0])
        log(report[-1] if report else "no REPORT line")
        log("boot to synced: %s ms on the board's clock, %.2f s wall clock from QEMU start" %
            (synced[0].split()[1].split("=")[1], wall))
        ok = True
        log("OK")
        return 0
    finally:
        for s in servers:
            s.stop()
        if a.keep or not ok:
            log("kept: %s" % tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
