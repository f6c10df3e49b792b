#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Unpack the Debian source packages of lwIP and mbedtls into DIR (the build tree) with
# `apt-get source`, once; nothing third-party lives in the repository. Needs deb-src entries
# and dpkg-dev (tools/install-deps sets both up).
#
#   ports/mps2/fetch-sources.sh DIR      prints "LWIP_DIR=..." and "MBEDTLS_DIR=..."
set -eu
dir=$1
mkdir -p "$dir"
cd "$dir"
for pkg in lwip mbedtls; do
    if [ ! -f "$pkg.stamp" ]; then
        rm -rf "$pkg".tmp
        mkdir "$pkg".tmp
        # The download runs unsandboxed when the directory is not readable by _apt: harmless.
        (cd "$pkg".tmp && apt-get source -q "$pkg" >../"$pkg".log 2>&1) || {
            cat "$pkg".log >&2
            echo "fetch-sources: 'apt-get source $pkg' failed (deb-src enabled? run tools/install-deps)" >&2
            exit 1
        }
        src=$(find "$pkg".tmp -mindepth 1 -maxdepth 1 -type d | head -1)
        [ -n "$src" ] || { echo "fetch-sources: $pkg unpacked nothing" >&2; exit 1; }
        rm -rf "$pkg"
        mv "$src" "$pkg"
        ls "$pkg".tmp/*.dsc | sed 's|.*/||' >"$pkg".version
        rm -rf "$pkg".tmp
        touch "$pkg".stamp
    fi
done
# The port is written for lwIP 2.1 and mbedtls 2.28: refuse anything else loudly.
grep -q 'LWIP_VERSION_MAJOR *2' lwip/src/include/lwip/init.h &&
    grep -q 'LWIP_VERSION_MINOR *1' lwip/src/include/lwip/init.h ||
    { echo "fetch-sources: lwIP is not 2.1 ($(cat lwip.version))" >&2; exit 1; }
grep -q 'MBEDTLS_VERSION_STRING *"2\.28\.' mbedtls/include/mbedtls/version.h ||
    { echo "fetch-sources: mbedtls is not 2.28 ($(cat mbedtls.version))" >&2; exit 1; }
echo "LWIP_DIR=$dir/lwip"
echo "MBEDTLS_DIR=$dir/mbedtls"
