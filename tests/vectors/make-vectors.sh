#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Regenerate the golden WBXML vectors from src/ (run from anywhere; needs libwbxml2-utils and
# a build of eas-wbxml: EAS_WBXML=build/<dir>/tools/eas-wbxml).
#   src/NAME.xml      -> NAME.hex via libwbxml:  xml2wbxml -a -n   (reference encoder)
#   src/NAME.eas.xml  -> NAME.hex via eas-wbxml encode  (OPAQUE data, or code page 25 that
#                        libwbxml 0.11 lacks); the unit tests still decode these with libwbxml
#                        unless the file says "ref: none".
# Hand-written vectors (hand-*.hex) are not touched.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
tool=${EAS_WBXML:-$here/../../build/full/tools/eas-wbxml}
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
for src in "$here"/src/*.xml; do
    base=$(basename "$src")
    case "$base" in
    *.eas.xml)
        name=${base%.eas.xml}
        "$tool" encode "$src" > "$tmp"
        how="eas-wbxml encode tests/vectors/src/$base"
        ref="libwbxml"
        grep -q 'xmlns="Find:"' "$src" && ref="none (code page 25 Find is unknown to libwbxml 0.11.8)"
        ;;
    *)
        name=${base%.xml}
        xml2wbxml -a -n -o "$tmp" "$src" > /dev/null
        how="xml2wbxml -a -n -o NAME.wbxml tests/vectors/src/$base   (libwbxml 0.11.8)"
        ref="libwbxml"
        ;;
    esac
    {
        echo "# SPDX-License-Identifier: Apache-2.0"
        echo "# produced by: $how"
        echo "# ref: $ref"
        xxd -p -c 32 "$tmp"
    } > "$here/$name.hex"
done
