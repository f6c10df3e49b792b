#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Fail when eas_config_defaults.h and the Kconfig defaults disagree on any symbol."""
import os, re, subprocess, sys, tempfile

root = sys.argv[1]
with tempfile.TemporaryDirectory() as tmp:
    hdr = os.path.join(tmp, "eas_autoconf.h")
    subprocess.run([sys.executable, os.path.join(root, "tools/kconfig/genconfig.py"),
                    "--kconfig", os.path.join(root, "Kconfig"),
                    "--config", os.path.join(root, "configs/defaults.conf"), "--header", hdr],
                   check=True, cwd=root)
    kconf = dict(re.findall(r"^#define (CONFIG_EAS_\w+) (.+)$", open(hdr).read(), re.M))

src = open(os.path.join(root, "eas/include/eas/eas_config_defaults.h")).read()
defaults = dict(re.findall(r"^#ifndef (CONFIG_EAS_\w+)\n#define \1 (.+)$", src, re.M))
bad = 0
for name, val in sorted(kconf.items()):
    if name.endswith("_SEL"):
        continue  # choice helpers; their effect is checked through the int they feed
    if name not in defaults:
        print("missing from eas_config_defaults.h: %s (Kconfig default %s)" % (name, val)); bad += 1
    elif defaults[name] != val:
        print("%s: eas_config_defaults.h says %s, Kconfig says %s" % (name, defaults[name], val)); bad += 1
for name in sorted(set(defaults) - set(kconf)):
    print("eas_config_defaults.h defines %s, which Kconfig does not know" % name); bad += 1
print("%d symbols compared, %d mismatches" % (len(kconf), bad))
sys.exit(1 if bad else 0)
