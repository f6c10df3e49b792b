#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# A translation unit that includes the core headers without naming its configuration must
# not compile (the defaults would apply silently and sizes disagree with the library);
# the explicit opt-in EAS_CONFIG_USE_DEFAULTS must compile.
set -u
cc=$1 root=$2 out=$3
mkdir -p "$out"
src="$out/app.c"
printf '#include "eas/eas.h"\nint main(void) { return (int)(EAS_CONFIG_FINGERPRINT & 1u); }\n' >"$src"
inc="-I$root/eas/include -I$root/hal/include"
if $cc -fsyntax-only $inc "$src" 2>"$out/err.txt"; then
    echo "FAIL: core headers compiled without a named configuration"; exit 1
fi
grep -q "name the configuration the library was built with" "$out/err.txt" || {
    echo "FAIL: rejected for another reason:"; cat "$out/err.txt"; exit 1; }
if ! $cc -fsyntax-only $inc -DEAS_CONFIG_USE_DEFAULTS "$src" 2>"$out/err2.txt"; then
    echo "FAIL: EAS_CONFIG_USE_DEFAULTS did not compile:"; cat "$out/err2.txt"; exit 1
fi
echo "ok: unnamed configuration rejected ($(grep -m1 'error' "$out/err.txt" | cut -c1-100)...), explicit defaults accepted"
