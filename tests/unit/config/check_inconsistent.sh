#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Compile a core file against configs/inconsistent.conf: the build must fail, and with the
# eas_check_config.h message, not some unrelated error.
set -u
py=$1 cc=$2 root=$3 out=$4
mkdir -p "$out"
"$py" "$root/tools/kconfig/genconfig.py" --kconfig "$root/Kconfig" \
    --config "$root/configs/inconsistent.conf" --header "$out/eas_autoconf.h" || exit 1
if "$cc" -fsyntax-only -I"$root/eas/include" -I"$root/hal/include" -I"$out" \
    -DEAS_CONFIG_FILE='"eas_autoconf.h"' "$root/eas/src/log.c" 2>"$out/err.txt"; then
    echo "FAIL: inconsistent configuration compiled"; exit 1
fi
if grep -q "CONFIG_EAS_TX_CHUNK must be at least" "$out/err.txt"; then
    echo "ok: rejected with: $(grep -m1 '#error\|error:' "$out/err.txt")"; exit 0
fi
echo "FAIL: compile failed for another reason:"; cat "$out/err.txt"; exit 1
