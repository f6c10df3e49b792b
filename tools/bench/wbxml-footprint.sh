#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Cortex-M4 footprint of the WBXML codec alone: compile wbxml_dec.c, wbxml_enc.c and
# wbxml_codepages.c with arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb -Os against the
# minimal and full presets' generated config, and print arm-none-eabi-size.
# (tools/footprint/footprint.sh gives the whole core and the firmware image.)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for preset in minimal full; do
    gen="$out/$preset"
    mkdir -p "$gen"
    /usr/bin/python3 "$root/tools/kconfig/genconfig.py" --kconfig "$root/Kconfig" \
        --config "$root/configs/$preset.conf" --header "$gen/eas_autoconf.h" \
        --dotconfig "$gen/.config" >/dev/null
    objs=()
    for f in wbxml_dec wbxml_enc wbxml_codepages; do
        arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb -Os -ffunction-sections -fdata-sections \
            -std=c11 -Wall -Wextra -DEAS_CONFIG_FILE='"eas_autoconf.h"' \
            -I"$root/eas/include" -I"$root/hal/include" -I"$gen" -I"$root/eas/src" \
            -c "$root/eas/src/$f.c" -o "$gen/$f.o"
        objs+=("$gen/$f.o")
    done
    echo "== preset $preset (CONFIG_EAS_WBXML_NAMES=$(grep -c '^CONFIG_EAS_WBXML_NAMES=y' "$gen/.config"))"
    arm-none-eabi-size -t "${objs[@]}" | sed "s#$gen/##"
done
