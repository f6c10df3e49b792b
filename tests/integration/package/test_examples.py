#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The installed package, as an integrator uses it.

1. `cmake --install BUILD --prefix TMP/prefix`; the tree has the headers, both libraries,
   the generated configuration (byte-identical to the build's), CMake package, .pc files.
2. examples/quickstart and examples/mail-headers are configured and built OUT OF TREE with
   find_package(easd) (-Werror), the quick start also with the one-line pkg-config command
   of docs/integration.md, run by a shell exactly as written there.
3. A program compiled with only the package's flags sees the build's configuration
   (CONFIG_EAS_MAX_FOLDERS, CONFIG_EAS_ARENA_SIZE), not the header defaults.
4. tools/eas-testserver over HTTPS (a certificate made for this run, passed as EASD_CA_FILE):
   the quick start syncs exactly the Email and Calendar items of the mailbox (the server
   requires provisioning, so this also proves the explicit policy decision), a second run
   with the same state directory gets nothing new; the mail header example prints every
   mail's From/To/Subject/DateReceived/Read/preview as the mailbox has them, and a mail added
   on the server afterwards arrives, with its fields, in the next (incremental) run.
"""
import argparse
import json
import os
import re
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request

MAIL_TYPES = {1, 2, 3, 4, 5, 6, 12}
CAL_TYPES = {8, 13}
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def run(cmd, **kw):
    print("$ " + (cmd if isinstance(cmd, str) else " ".join(cmd)), flush=True)
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        print(r.stdout[-4000:], r.stderr[-4000:], sep="\n")
    return r


def autoconf(path):
    vals = {}
    with open(path) as f:
        for line in f:
            m = re.match(r"#define (CONFIG_\w+) (.*)$", line.strip())
            if m:
                vals[m.group(1)] = m.group(2)
    return vals


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--source", required=True)
    ap.add_argument("--cc", required=True)
    ap.add_argument("--generator", default="Ninja")
    a = ap.parse_args()
    src = a.source
    cfg = autoconf(os.path.join(a.build, "generated", "eas_autoconf.h"))
    email = cfg.get("CONFIG_EAS_EMAIL") == "1"
    tmp = tempfile.mkdtemp(prefix="easd-package-")
    server = None
    try:
        # ---- 1. install -------------------------------------------------------------------
        prefix = os.path.join(tmp, "prefix")
        r = run(["cmake", "--install", a.build, "--prefix", prefix])
        check(r.returncode == 0, "cmake --install into a temporary prefix")
        inc = os.path.join(prefix, "include")
        for rel in ["include/eas/eas.h", "include/eas/eas_blocks.h", "include/eas/eas_engine.h",
                    "include/hal/hal.h", "include/easd_linux.h", "include/eas/eas_autoconf.h",
                    "include/easd_oauth.h", "lib/libeasd_oauth.a", "lib/pkgconfig/easd-oauth.pc",
                    "lib/libeas.a", "lib/libeasd_linux.a", "lib/cmake/easd/easdConfig.cmake",
                    "lib/cmake/easd/easdConfigVersion.cmake", "lib/pkgconfig/easd.pc",
                    "lib/pkgconfig/easd-linux.pc", "bin/easd", "bin/easctl",
                    "lib/systemd/user/easd.service"]:
            check(os.path.isfile(os.path.join(prefix, rel)), "installed " + rel)
        with open(os.path.join(a.build, "generated", "eas_autoconf.h"), "rb") as f1, \
                open(os.path.join(inc, "eas", "eas_autoconf.h"), "rb") as f2:
            check(f1.read() == f2.read(), "installed eas_autoconf.h is the build's configuration")

        env = dict(os.environ, PKG_CONFIG_PATH=os.path.join(prefix, "lib", "pkgconfig"),
                   CC=a.cc)
        env.pop("PKG_CONFIG_LIBDIR", None)

        # ---- 2. out-of-tree builds --------------------------------------------------------
        def cmake_build(name, d):
            bdir = os.path.join(tmp, "cmake-" + name)
            r = run(["cmake", "-S", d, "-B", bdir, "-G", a.generator,
                     "-DCMAKE_PREFIX_PATH=" + prefix, "-DCMAKE_C_FLAGS=-Werror"], env=env)
            if r.returncode != 0:
                return None, r, r
            return bdir, r, run(["cmake", "--build", bdir], env=env)

        qs_dir, _, r = cmake_build("quickstart", os.path.join(src, "examples", "quickstart"))
        check(r.returncode == 0, "examples/quickstart builds with find_package(easd)")
        qs_cmake = os.path.join(qs_dir or tmp, "quickstart")
        mh_dir, conf, r = cmake_build("mail-headers",
                                      os.path.join(src, "examples", "mail-headers"))
        check(r.returncode == 0, "examples/mail-headers builds with find_package(easd)")
        check(email or "built without CONFIG_EAS_EMAIL" in conf.stdout,
              "the package tells the project what the library was built without")
        mh = os.path.join(mh_dir or tmp, "mail_headers")

        # The line from docs/integration.md, through a shell, from the examples directory.
        qs_pc = os.path.join(tmp, "quickstart-pc")
        r = run("cd '%s' && $CC -Wall -Wextra -Werror -o '%s' quickstart/quickstart.c "
                "$(pkg-config --cflags --libs easd-linux)" % (os.path.join(src, "examples"), qs_pc),
                shell=True, env=env)
        check(r.returncode == 0, "examples/quickstart builds with the pkg-config line")

        # Link order is the package's business: name the packages / targets the "wrong" way
        # round (core first) and it must still link.
        qs_pc2 = os.path.join(tmp, "quickstart-pc2")
        r = run("cd '%s' && $CC -o '%s' quickstart/quickstart.c "
                "$(pkg-config --cflags --libs easd easd-linux)" % (os.path.join(src, "examples"),
                                                                   qs_pc2), shell=True, env=env)
        check(r.returncode == 0, "pkg-config easd easd-linux (core named first) links")
        order = os.path.join(tmp, "order")
        os.makedirs(order)
        with open(os.path.join(order, "CMakeLists.txt"), "w") as f:
            f.write("cmake_minimum_required(VERSION 3.20)\nproject(order C)\n"
                    "find_package(easd CONFIG REQUIRED)\n"
                    "add_executable(q \"%s\")\n"
                    "target_link_libraries(q PRIVATE easd::core easd::linux)\n"
                    % os.path.join(src, "examples", "quickstart", "quickstart.c"))
        _, _, r = cmake_build("order", order)
        check(r.returncode == 0, "easd::core before easd::linux links")

        # The OAuth component (jansson) links the same way, from CMake and from pkg-config:
        # RFC 7636's PKCE example (appendix B) through the installed library.
        oauth_dir = os.path.join(tmp, "oauth")
        os.makedirs(oauth_dir)
        with open(os.path.join(oauth_dir, "pkce.c"), "w") as f:
            f.write('#include <stdio.h>\n#include "easd_oauth.h"\nint main(void) {\n'
                    '    char c[44];\n    if (easd_oauth_pkce_challenge('
                    '"dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", c) != 0) { return 1; }\n'
                    '    printf("%.43s\\n", c);\n    return 0;\n}\n')
        with open(os.path.join(oauth_dir, "CMakeLists.txt"), "w") as f:
            f.write("cmake_minimum_required(VERSION 3.20)\nproject(pkce C)\n"
                    "find_package(easd CONFIG REQUIRED COMPONENTS oauth)\n"
                    "add_executable(pkce pkce.c)\n"
                    "target_link_libraries(pkce PRIVATE easd::oauth)\n")
        pkce_want = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        pk_dir, _, r = cmake_build("oauth", oauth_dir)
        got = run([os.path.join(pk_dir, "pkce")]).stdout.strip() if r.returncode == 0 else ""
        check(got == pkce_want, "easd::oauth links and runs (PKCE challenge %r)" % got)
        r = run("cd '%s' && $CC -o pkce-pc pkce.c $(pkg-config --cflags --libs easd-oauth)"
                % oauth_dir, shell=True, env=env)
        got = run([os.path.join(oauth_dir, "pkce-pc")]).stdout.strip() if r.returncode == 0 else ""
        check(got == pkce_want, "pkg-config easd-oauth links and runs")

        # ---- 3. the package carries the configuration -------------------------------------
        probe = os.path.join(tmp, "probe.c")
        with open(probe, "w") as f:
            f.write('#include <stdio.h>\n#include "eas/eas.h"\n#include "eas/eas_blocks.h"\n'
                    'int main(void) { printf("%d %d\\n", CONFIG_EAS_MAX_FOLDERS, '
                    'CONFIG_EAS_ARENA_SIZE); return 0; }\n')
        r = run("$CC -Wall -Werror -o '%s/probe' '%s' $(pkg-config --cflags --libs easd)"
                % (tmp, probe), shell=True, env=env)
        want = "%s %s" % (cfg["CONFIG_EAS_MAX_FOLDERS"], cfg["CONFIG_EAS_ARENA_SIZE"])
        got = run([os.path.join(tmp, "probe")]).stdout.strip() if r.returncode == 0 else ""
        check(got == want, "pkg-config flags give the build's configuration (%s, want %s)"
              % (got, want))

        # ... and without the package's flags the headers refuse to build (no silent defaults).
        r = run("$CC -c -o '%s/bare.o' -I'%s' '%s'" % (tmp, inc, probe), shell=True, env=env)
        check(r.returncode != 0 and "#error" in r.stderr,
              "the headers without a named configuration stop the build (#error)")

        # ---- 4. run against the test server over HTTPS --------------------------------------
        cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
        r = run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                 "-out", cert, "-days", "2", "-subj", "/CN=localhost",
                 "-addext", "subjectAltName=DNS:localhost"])
        check(r.returncode == 0, "test certificate for localhost")
        mailbox = os.path.join(src, "tools", "eas-testserver", "mailboxes", "demo.json")
        port_file = os.path.join(tmp, "port")
        server = subprocess.Popen(
            [sys.executable, os.path.join(src, "tools", "eas-testserver", "eas-testserver"),
             "--mailbox", mailbox, "--port", "0", "--port-file", port_file,
             "--tls-cert", cert, "--tls-key", key],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while not os.path.exists(port_file) and time.monotonic() < deadline:
            time.sleep(0.05)
        with open(port_file) as f:
            port = int(f.read().strip())
        base = "https://localhost:%d" % port
        url = base + "/Microsoft-Server-ActiveSync"
        tls = ssl.create_default_context(cafile=cert)

        def control(path, body=None):
            req = urllib.request.Request(base + "/_control/" + path,
                                         data=json.dumps(body).encode() if body else None,
                                         headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(req, context=tls, timeout=10) as resp:
                return json.load(resp)

        pw = os.path.join(tmp, "password")
        with open(os.open(pw, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
            f.write("testpass\n")
        renv = dict(env, EASD_CA_FILE=cert)

        with open(mailbox) as f:
            user = json.load(f)["users"][0]
        max_folders = int(cfg["CONFIG_EAS_MAX_FOLDERS"])

        def expected_items(out):
            """Items of the Email and Calendar folders the engine kept (at most
            CONFIG_EAS_MAX_FOLDERS: the minimal preset reports the rest as a full table)."""
            kept = set(re.findall(r"^folder (\S+) ", out, re.M))
            check(len(kept) == min(len(user["folders"]), max_folders),
                  "folders kept: %d (table of %d)" % (len(kept), max_folders))
            return {(fo["id"], it["id"]) for fo in user["folders"]
                    if fo["id"] in kept and fo["type"] in MAIL_TYPES | CAL_TYPES
                    for it in fo.get("items", [])}

        def items_of(out):
            return {(m.group(1), m.group(2))
                    for m in re.finditer(r"^add \w+ item ([^/\s]+)/(\S+)$", out, re.M)}

        state = os.path.join(tmp, "state-qs")
        r = run([qs_cmake, url, "testuser", pw, "EXAMPLEQS01", state], env=renv, timeout=150)
        got = items_of(r.stdout)
        expected = expected_items(r.stdout)
        check(r.returncode == 0 and "synced: %d items" % len(expected) in r.stdout,
              "quick start (CMake build) syncs once and stops: exit %d" % r.returncode)
        check("items, state idle (ok)" in r.stdout,
              "quick start ends idle: no Ping after the sync (no_push)")
        check(got == expected, "quick start received exactly the %d Email/Calendar items "
              "(missing %s, unexpected %s)" % (len(expected), sorted(expected - got)[:5],
                                               sorted(got - expected)[:5]))
        check(re.search(r"^  subject: Welcome to the demo mailbox$", r.stdout, re.M) is not None,
              "quick start prints the subjects")
        prov = control("requests?command=Provision")["requests"]
        acks = [p for p in prov if "<Status>2</Status>" in (p.get("body_xml") or "")]
        check(len(acks) == 1, "the policy was acknowledged once as partially enforced "
              "(explicit decision; %d Provision requests)" % len(prov))
        # the same state directory: incremental, nothing new (the pkg-config build)
        r = run([qs_pc, url, "testuser", pw, "EXAMPLEQS01", state], env=renv, timeout=150)
        check(r.returncode == 0 and "synced: 0 items" in r.stdout,
              "quick start (pkg-config build) resumes from the saved state: nothing new")
        check(oct(os.stat(state).st_mode & 0o777) == "0o700", "state directory is 0700")

        # Mail arrives in every preset (CONFIG_EAS_EMAIL only adds sending).
        state_mh = os.path.join(tmp, "state-mh")
        r = run([mh, url, "testuser", pw, "EXAMPLEMH01", state_mh], env=renv, timeout=150)
        check(r.returncode == 0, "mail header example runs: exit %d" % r.returncode)
        blocks = {m.group(1): m.group(2) for m in
                  re.finditer(r"^mail (\S+)\n((?:  .*\n)+)", r.stdout, re.M)}
        mails = [(fo["id"], it) for fo in user["folders"][:max_folders]
                 if fo["type"] in MAIL_TYPES for it in fo.get("items", [])]
        check(len(blocks) == len(mails), "one header per mail (%d of %d)"
              % (len(blocks), len(mails)))
        for fid, it in mails:
            d = it["data"]
            b = blocks.get("%s/%s" % (fid, it["id"]), "")
            text = d.get("_text", "")
            pre = " ".join(text.replace("\r", " ").replace("\n", " ").split(" ")[:3])
            ok = ("  From: %s\n" % d.get("From", "") in b and
                  "  To: %s\n" % d.get("To", "") in b and
                  "  Subject: %s\n" % d.get("Subject", "") in b and
                  "  DateReceived: %s\n" % d.get("DateReceived", "") in b and
                  "  Read: %s\n" % ("yes" if d.get("Read") else "no") in b and
                  ("  Preview: " + pre[:20]) in b.replace("  Preview:  ", "  Preview: "))
            if not ok and not text:
                ok = "  Subject: %s\n" % d.get("Subject", "") in b
            check(ok, "mail %s/%s: fields as on the server" % (fid, it["id"]))
        control("changes", {"user": "testuser", "changes": [
            {"op": "new_mail", "subject": "Example arrival", "from": "Ann <ann@example.test>",
             "to": "Test User <testuser@example.test>", "text": "Short note.\n",
             "date": "2025-02-01T10:00:00.000Z", "read": 0}]})
        r = run([mh, url, "testuser", pw, "EXAMPLEMH01", state_mh], env=renv, timeout=150)
        new = re.findall(r"^mail \S+\n((?:  .*\n)+)", r.stdout, re.M)
        check(r.returncode == 0 and len(new) == 1 and "  Subject: Example arrival\n" in new[0]
              and "  From: Ann <ann@example.test>\n" in new[0]
              and "  Read: no\n" in new[0] and "  Preview: Short note." in new[0],
              "a mail added on the server arrives with its fields in the next run")
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
        shutil.rmtree(tmp, ignore_errors=True)
    print("%d failure(s)" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
