#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Footprint of the portable core per Kconfig preset, for a Cortex-M target, as markdown.
#
#   tools/footprint/footprint.sh                      minimal and full presets, cortex-m4
#   tools/footprint/footprint.sh --module wbxml_      only objects whose name starts so
#   tools/footprint/footprint.sh --preset minimal --cpu cortex-m3
#   tools/footprint/footprint.sh --config my.conf     any Kconfig fragment
#
# For each preset it cross-builds the core and the mps2-an385 image with
# cmake/arm-none-eabi.cmake (-Os, function sections, newlib-nano) in
# build/footprint-<preset>-<cpu>/ and prints:
#   - per object of libeas.a: text (code + read-only data), data, bss, from
#     arm-none-eabi-size. This is what each module costs before the linker drops unused
#     functions; objects of modules the preset compiles out are listed as such;
#   - the image: arm-none-eabi-size, and what of it is core / firmware / libc (linker map);
#   - the sync image: core per module, mbedtls, lwIP, the port, board, libc (linker map);
#   - the sync image link-time optimised (-DEASD_FW_LTO=ON, built in
#     build/footprint-<preset>-<cpu>-lto/): its size and the core's share in it, counted by
#     symbol (footprint_table.py lto).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
here="$root/tools/footprint"

presets=() configs=() cpu="cortex-m4" module=""
while [ $# -gt 0 ]; do
    case "$1" in
    --preset) presets+=("$2"); shift 2 ;;
    --config) configs+=("$2"); shift 2 ;;
    --cpu) cpu=$2; shift 2 ;;
    --module) module=$2; shift 2 ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "footprint: unknown argument $1" >&2; exit 2 ;;
    esac
done
if [ ${#presets[@]} -eq 0 ] && [ ${#configs[@]} -eq 0 ]; then
    presets=(minimal full)
fi

size=arm-none-eabi-size
command -v "$size" >/dev/null || { echo "footprint: $size not found (tools/install-deps)" >&2; exit 1; }
python=/usr/bin/python3
[ -x "$python" ] || python=python3

gcc_version=$(arm-none-eabi-gcc -dumpversion)

report() {
    local label=$1; shift
    local dir="$root/build/footprint-${label}-${cpu}"
    mkdir -p "$root/build"
    cmake -S "$root" -B "$dir" -G Ninja -DCMAKE_TOOLCHAIN_FILE="$root/cmake/arm-none-eabi.cmake" \
        -DEASD_ARM_CPU="$cpu" -DEASD_WERROR=ON "$@" >"$dir.log" 2>&1 \
        || { cat "$dir.log" >&2; echo "footprint: configure failed ($label)" >&2; exit 1; }
    cmake --build "$dir" -j 2 >>"$dir.log" 2>&1 \
        || { tail -40 "$dir.log" >&2; echo "footprint: build failed ($label)" >&2; exit 1; }

    local image="$dir/firmware/mps2-an385/easd-mps2-an385.elf"
    echo "## Footprint: \`$label\`, $cpu"
    echo
    echo "arm-none-eabi-gcc $gcc_version, -Os -ffunction-sections -fdata-sections, newlib-nano;"
    echo "bytes. text = code + read-only data (flash); data = initialised RAM (flash + RAM);"
    echo "bss = zeroed RAM."
    echo
    "$size" -B "$dir/eas/libeas.a" | "$python" "$here/footprint_table.py" objects \
        --module "$module"
    if [ -z "$module" ] && [ -f "$image" ]; then
        echo
        "$python" "$here/footprint_table.py" image --size-cmd "$size" --elf "$image" \
            --map "${image%.elf}.map"
    fi
    local sync="$dir/firmware/mps2-an385/easd-sync-mps2-an385.elf"
    if [ -z "$module" ] && [ -f "$sync" ]; then
        echo
        echo "The sync image (engine + lwIP + mbedtls + port), with the core's share per module:"
        echo
        "$python" "$here/footprint_table.py" image --size-cmd "$size" --elf "$sync" \
            --map "${sync%.elf}.map" --per-module
        local ldir="$dir-lto"
        cmake -S "$root" -B "$ldir" -G Ninja -DCMAKE_TOOLCHAIN_FILE="$root/cmake/arm-none-eabi.cmake" \
            -DEASD_ARM_CPU="$cpu" -DEASD_WERROR=ON -DEASD_FW_LTO=ON "$@" >"$ldir.log" 2>&1 \
            || { cat "$ldir.log" >&2; echo "footprint: configure failed ($label, LTO)" >&2; exit 1; }
        cmake --build "$ldir" -j 2 --target easd-sync-mps2-an385 >>"$ldir.log" 2>&1 \
            || { tail -40 "$ldir.log" >&2; echo "footprint: build failed ($label, LTO)" >&2; exit 1; }
        local objs=("$dir"/firmware/mps2-an385/CMakeFiles/easd-sync-mps2-an385.dir/*.obj)
        echo
        echo "The same sync image with link-time optimisation (-DEASD_FW_LTO=ON: the libraries"
        echo "optimised together, the board files not), which the tables above cannot split by"
        echo "module:"
        echo
        "$python" "$here/footprint_table.py" lto --size-cmd "$size" --nm arm-none-eabi-nm \
            --elf "$ldir/firmware/mps2-an385/easd-sync-mps2-an385.elf" \
            --core-lib "$dir/eas/libeas.a" \
            --other "$dir"/ports/mps2/libeasd_*.a "${objs[@]}" \
            --ref-elf "$sync" --ref-map "${sync%.elf}.map"
    fi
    echo
}

for p in "${presets[@]}"; do
    report "$p" -DEASD_PRESET="$p" -DEASD_CONFIG=
done
for c in "${configs[@]}"; do
    c=$(cd "$(dirname "$c")" && pwd)/$(basename "$c")
    report "$(basename "${c%.conf}")" -DEASD_CONFIG="$c"
done
