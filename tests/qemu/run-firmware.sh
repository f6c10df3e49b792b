#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Cross-build the mps2-an385 firmware for a preset and run its on-target self-test under
# QEMU. Passes when the image prints "SELFTEST: N passed, 0 failed" (N > 0) and exits 0.
#
#   tests/qemu/run-firmware.sh --source DIR --build DIR [--preset P | --config FILE]
#                              [--expect-fail] [--cpu cortex-m3]
#
# --expect-fail runs the image with --force-fail (one check that always fails) and passes
# only when the failure is visible in both the output and the exit status: it proves this
# test can fail.
set -euo pipefail

src="" bld="" preset="defaults" config="" expect_fail=0 cpu="cortex-m3"
while [ $# -gt 0 ]; do
    case "$1" in
    --source) src=$2; shift 2 ;;
    --build) bld=$2; shift 2 ;;
    --preset) preset=$2; shift 2 ;;
    --config) config=$2; shift 2 ;;
    --cpu) cpu=$2; shift 2 ;;
    --expect-fail) expect_fail=1; shift ;;
    *) echo "run-firmware: unknown argument $1" >&2; exit 2 ;;
    esac
done
[ -n "$src" ] && [ -n "$bld" ] || { echo "run-firmware: --source and --build required" >&2; exit 2; }

qemu=$(command -v qemu-system-arm || true)
[ -n "$qemu" ] || { echo "run-firmware: qemu-system-arm not installed (tools/install-deps)" >&2; exit 1; }

cfg_args=(-DEASD_PRESET="$preset" -DEASD_CONFIG="$config")
# Same warning policy as the host CI build: the firmware and the core compile with -Werror.
cmake -S "$src" -B "$bld" -G Ninja -DCMAKE_TOOLCHAIN_FILE="$src/cmake/arm-none-eabi.cmake" \
    -DEASD_ARM_CPU="$cpu" -DEASD_WERROR=ON "${cfg_args[@]}" >"$bld.configure.log" 2>&1 || {
    cat "$bld.configure.log"; echo "run-firmware: cross configure failed" >&2; exit 1; }
cmake --build "$bld" -j 2 --target easd-mps2-an385 >"$bld.build.log" 2>&1 || {
    cat "$bld.build.log"; echo "run-firmware: cross build failed" >&2; exit 1; }
grep -A4 "Memory region" "$bld.build.log" || true

# The core keeps no mutable static state (every context is the caller's, so two accounts can
# share a firmware): its data + bss must be 0 on the target.
read -r _ core_data core_bss _ < <(arm-none-eabi-size -t "$bld/eas/libeas.a" | tail -1)
if [ "$core_data" != 0 ] || [ "$core_bss" != 0 ]; then
    arm-none-eabi-size "$bld/eas/libeas.a" | awk '$2 != 0 || $3 != 0'
    echo "run-firmware: the core has static data ($core_data) or bss ($core_bss)" >&2
    exit 1
fi

image="$bld/firmware/mps2-an385/easd-mps2-an385.elf"
out="$bld.qemu.log"
qemu_args=(-M mps2-an385 -nographic -no-reboot -semihosting-config enable=on,target=native
           -kernel "$image")
[ "$expect_fail" = 1 ] && qemu_args+=(-append --force-fail)

set +e
# The self-test takes well under a second; the timeout only turns a hang into a failure.
timeout 60 "$qemu" "${qemu_args[@]}" </dev/null >"$out" 2>&1
status=$?
set -e
cat "$out"
echo "run-firmware: qemu exit status $status"

summary=$(grep -aE '^SELFTEST: [0-9]+ passed, [0-9]+ failed' "$out" | tail -1 | tr -d '\r' || true)
passed=$(echo "$summary" | sed -nE 's/^SELFTEST: ([0-9]+) passed.*/\1/p')
failed=$(echo "$summary" | sed -nE 's/^SELFTEST: [0-9]+ passed, ([0-9]+) failed.*/\1/p')
if [ -z "$summary" ]; then
    echo "run-firmware: FAIL: no SELFTEST line (crash or hang?)" >&2
    exit 1
fi
if [ "$expect_fail" = 1 ]; then
    if [ "$status" = 1 ] && [ "$failed" = 1 ] && grep -aq '^FAIL forced-failure' "$out"; then
        echo "run-firmware: OK: the forced failure was reported (status 1, 1 failed)"
        exit 0
    fi
    echo "run-firmware: FAIL: the forced failure went unnoticed" >&2
    exit 1
fi
if [ "$status" = 0 ] && [ "$failed" = 0 ] && [ "${passed:-0}" -gt 0 ]; then
    echo "run-firmware: OK: $passed checks passed on $cpu"
    exit 0
fi
echo "run-firmware: FAIL: $failed check(s) failed, exit status $status" >&2
exit 1
