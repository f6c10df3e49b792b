# SPDX-License-Identifier: Apache-2.0
"""What the daemon tests share: the bundled test server over HTTPS (certificates made fresh
by tests/integration/tls/mkcerts.sh), its control API, an easd configuration, running easd
and easctl, and bounded waits."""
import json
import os
import signal
import ssl
import subprocess
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
MKCERTS = os.path.join(ROOT, "tests", "integration", "tls", "mkcerts.sh")


def check(cond, msg):
    if not cond:
        raise SystemExit("FAIL: " + msg)
    print("ok:", msg, flush=True)


def wait_for(what, fn, timeout=20.0, step=0.1):
    """fn() until it returns something true, at most timeout seconds (else FAIL)."""
    end = time.monotonic() + timeout
    while True:
        v = fn()
        if v:
            return v
        if time.monotonic() > end:
            raise SystemExit("FAIL: %s (not within %.0f s)" % (what, timeout))
        time.sleep(step)


class Server:
    """tools/eas-testserver over HTTPS on a free loopback port."""

    def __init__(self, tmp, server, mailbox, *extra):
        self.tmp = tmp
        certs = os.path.join(tmp, "certs")
        subprocess.run(["sh", MKCERTS, certs], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        self.ca = os.path.join(certs, "ca.pem")
        port_file = os.path.join(tmp, "port")
        self.log = open(os.path.join(tmp, "server.out"), "w")
        args = ["/usr/bin/python3", server, "--port", "0", "--port-file", port_file,
                "--tls-cert", os.path.join(certs, "good.pem"),
                "--tls-key", os.path.join(certs, "leaf.key"),
                "--log", os.path.join(tmp, "server.log")]
        if mailbox:
            args += ["--mailbox", mailbox]
        self.proc = subprocess.Popen(args + list(extra), stdout=self.log, stderr=subprocess.STDOUT)
        wait_for("test server listening", lambda: os.path.exists(port_file) and
                 open(port_file).read().strip(), 30)
        self.port = int(open(port_file).read().strip())
        self.base = "https://localhost:%d" % self.port
        self.url = self.base + "/Microsoft-Server-ActiveSync"
        self.ctx = ssl.create_default_context(cafile=self.ca)

    def control(self, path, body=None, method=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + "/_control/" + path, data=data,
                                     method=method or ("POST" if data is not None else "GET"),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10, context=self.ctx) as r:
            return json.loads(r.read())

    def items(self, folder):
        """{server_id: data} of one folder of the first user, as the server has it now."""
        mb = self.control("mailbox")
        for f in mb["users"][0]["folders"]:
            if f["id"] == folder:
                return {it.get("server_id") or it.get("id"): it["data"] for it in f["items"]}
        return {}

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def write_config(tmp, server, name="easd.conf", **extra):
    pw = os.path.join(tmp, "password")
    with open(os.open(pw, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as fh:
        fh.write("testpass\n")
    lines = {"server": server.url, "user": "testuser", "address": "testuser@example.test",
             "password_file": "password", "ca_file": server.ca, "state_dir": "state",
             "store_dir": "store", "classes": "calendar, contacts, email",
             "log_level": "info"}
    lines.update(extra)
    path = os.path.join(tmp, name)
    with open(path, "w") as fh:
        fh.write("# written by the daemon tests\n")
        for k, v in lines.items():
            if v is not None:
                fh.write("%s = %s\n" % (k, v))
    return path


class Daemon:
    """easd in the Ping loop, its stderr in tmp/easd.N.log. Daemon.stop_all() (in the tests'
    finally blocks) ends every one still running, so a failed check leaves none behind."""
    n = 0
    running = []

    @classmethod
    def stop_all(cls):
        for d in cls.running:
            if d.proc.poll() is None:
                d.proc.kill()
                d.proc.wait()
        cls.running = []

    def __init__(self, easd, config, tmp, *extra):
        Daemon.running.append(self)
        Daemon.n += 1
        self.logpath = os.path.join(tmp, "easd.%d.log" % Daemon.n)
        self.log = open(self.logpath, "w")
        self.proc = subprocess.Popen([easd, "--config", config, "--foreground", *extra],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        self.sock = os.path.join(tmp, "state", "run", "easd.sock")

    def text(self):
        with open(self.logpath) as fh:
            return fh.read()

    def wait_log(self, what, needle, timeout=20):
        wait_for(what, lambda: needle in self.text(), timeout)

    def stop(self, sig=signal.SIGTERM, timeout=20):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise SystemExit("FAIL: easd did not stop on signal %d" % sig)
        self.log.close()
        return self.proc.returncode


def easctl(easctl_bin, config, *args, env=None):
    p = subprocess.run([easctl_bin, "--config", config, *args], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=60, env=env)
    return p.returncode, p.stdout, p.stderr


def run_once(easd, config, tmp, timeout=120, env=None):
    p = subprocess.run([easd, "--config", config, "--once", "--timeout", str(timeout)],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       timeout=timeout + 30, env=env)
    return p.returncode, p.stdout


def store_files(tmp, kind, coll, ext):
    d = os.path.join(tmp, "store", kind, coll)
    if not os.path.isdir(d):
        return []
    return sorted(f for f in os.listdir(d) if f.endswith(ext) and not f.startswith("."))
