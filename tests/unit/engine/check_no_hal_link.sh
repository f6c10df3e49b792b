#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The core reaches its port only through the function pointers it is given (hal_net_t,
# hal_sys_t): it must reference no port function by name, so link order never matters and
# a test or a second account can bring its own store. Fails if the core library has an
# undefined hal_* symbol (or defines one: the port's names are not the core's).
set -u
nm=$1 lib=$2
[ -f "$lib" ] || { echo "FAIL: $lib not built"; exit 1; }
syms=$("$nm" -A "$lib" 2>/dev/null | grep -E ' [UTtDdBbRr] hal_' || true)
if [ -n "$syms" ]; then
    echo "FAIL: the core library names port functions:"; echo "$syms"; exit 1
fi
# The check must be able to see symbols at all (a stripped or empty archive proves nothing).
"$nm" "$lib" 2>/dev/null | grep -q ' T eas_engine_init$' || {
    echo "FAIL: eas_engine_init not found in $lib (wrong file?)"; exit 1; }
echo "ok: no hal_* symbol in $(basename "$lib")"
