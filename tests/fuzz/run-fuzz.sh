#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Build the libFuzzer harnesses (clang, ASan+UBSan) and run each for SECONDS.
#   tests/fuzz/run-fuzz.sh SECONDS                 every harness except *_planted
#   tests/fuzz/run-fuzz.sh SECONDS fuzz_wbxml_dec  only the named ones
# Corpora live in build/fuzz/corpus/<harness> (kept between runs, seeded from
# tests/fuzz/<harness>.seeds); crashes are written to build/fuzz/artifacts/<harness>/.
# Exit status 1 if any harness found a crash.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
secs=${1:?usage: run-fuzz.sh SECONDS [harness...]}
shift
bdir=${EASD_FUZZ_BUILD:-$root/build/fuzz} # another build dir: EASD_FUZZ_BUILD=...
CC=clang cmake -S "$root" -B "$bdir" -G Ninja -DEASD_PRESET=full -DEASD_FUZZ=ON \
    -DEASD_BUILD_TESTS=ON >/dev/null
cmake --build "$bdir" -j 2 >/dev/null

if [ $# -eq 0 ]; then
    set -- $(cd "$bdir/fuzz" && ls | grep -v '_planted$' | sort)
fi

seed() { # harness corpus-dir
    local f="$root/tests/fuzz/$1.seeds" pattern prefix src
    [ -f "$f" ] || return 0
    while read -r pattern prefix; do
        case "$pattern" in ''|'#'*) continue ;; esac
        for src in $root/$pattern; do
            [ -f "$src" ] || continue
            if [[ "$src" == *.hex ]]; then
                { printf '%s' "${prefix:-}" | xxd -r -p; grep -v '^#' "$src" | xxd -r -p; } \
                    > "$2/seed-$(basename "$src" .hex)"
            else
                { printf '%s' "${prefix:-}" | xxd -r -p; cat "$src"; } > "$2/seed-$(basename "$src")"
            fi
        done
    done < "$f"
}

status=0
for h in "$@"; do
    corpus="$bdir/corpus/$h" art="$bdir/artifacts/$h"
    mkdir -p "$corpus" "$art"
    seed "$h" "$corpus"
    echo "=== $h: ${secs}s"
    # Optional per-harness extras: tests/fuzz/<h>.dict (libFuzzer dictionary) and
    # tests/fuzz/<h>.env (VAR=value lines exported for the run).
    extra=()
    [ -f "$root/tests/fuzz/$h.dict" ] && extra+=(-dict="$root/tests/fuzz/$h.dict")
    envs=()
    [ -f "$root/tests/fuzz/$h.env" ] && mapfile -t envs < <(grep -v '^#' "$root/tests/fuzz/$h.env")
    # libwbxml (not instrumented) leaks on some errors: leak detection would report it.
    if ! env "${envs[@]}" ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 \
        UBSAN_OPTIONS=print_stacktrace=1 \
        "$bdir/fuzz/$h" -max_total_time="$secs" -print_final_stats=1 "${extra[@]}" \
        -artifact_prefix="$art/" "$corpus" > "$bdir/$h.log" 2>&1; then
        echo "$h: CRASH, see $bdir/$h.log and $art/"
        status=1
    fi
    grep -E "stat::number_of_executed_units|stat::new_units_added|cov:" "$bdir/$h.log" | tail -3
done
exit $status
