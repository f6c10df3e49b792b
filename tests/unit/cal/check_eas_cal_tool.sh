#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# eas-cal end to end: XML in the form `eas-wbxml decode` prints -> occurrences; bad input
# gives a message and a non-zero exit status.  usage: check_eas_cal_tool.sh EAS_CAL DATA_DIR
set -u
tool=$1
data=$2
fail=0
out=$(mktemp)
trap 'rm -f "$out"' EXIT

expect_output() { # name from to file
    if ! "$tool" expand --from "$2" --to "$3" "$data/$4.xml" >"$out"; then
        echo "FAIL $1: non-zero exit"; fail=1; return
    fi
    if ! diff -u "$data/$4.expected" "$out"; then
        echo "FAIL $1: output differs"; fail=1
    fi
}

expect_status() { # name status args...
    name=$1; want=$2; shift 2
    "$tool" "$@" >"$out" 2>&1 </dev/null
    got=$?
    if [ "$got" -ne "$want" ]; then
        echo "FAIL $name: exit $got, expected $want"; cat "$out"; fail=1
    elif [ "$want" -ne 0 ] && [ ! -s "$out" ]; then
        echo "FAIL $name: no message"; fail=1
    fi
}

expect_output monthly31 2026-01-01T00:00:00Z 2027-01-01T00:00:00Z monthly31-berlin
expect_output sogo 2026-02-01T00:00:00Z 2026-12-31T00:00:00Z sogo-monthly-utc
# stdin works and equals the file
"$tool" expand --from 2026-01-01T00:00:00Z --to 2027-01-01T00:00:00Z <"$data/monthly31-berlin.xml" >"$out" \
    && diff -q "$data/monthly31-berlin.expected" "$out" >/dev/null || { echo "FAIL stdin"; fail=1; }

expect_status bad_timezone 1 expand --from 2026-01-01T00:00:00Z --to 2027-01-01T00:00:00Z "$data/bad-160-byte-timezone.xml"
expect_status missing_to 2 expand --from 2026-01-01T00:00:00Z "$data/monthly31-berlin.xml"
expect_status bad_from 2 expand --from 2026-13-01T00:00:00Z --to 2027-01-01T00:00:00Z "$data/monthly31-berlin.xml"
expect_status no_such_file 1 expand --from 2026-01-01T00:00:00Z --to 2027-01-01T00:00:00Z "$data/none.xml"
expect_status no_item 1 expand --from 2026-01-01T00:00:00Z --to 2027-01-01T00:00:00Z --item 2 "$data/monthly31-berlin.xml"
printf '<ApplicationData><StartTime>2026' >"$out.xml"
expect_status bad_xml 1 expand --from 2026-01-01T00:00:00Z --to 2027-01-01T00:00:00Z "$out.xml"
printf '<ApplicationData xmlns="AirSync:"><StartTime xmlns="Calendar:">20260105T090000Z</StartTime><Recurrence xmlns="Calendar:"><Type>0</Type><Interval>0</Interval></Recurrence></ApplicationData>' >"$out.xml"
expect_status interval_zero 1 expand --from 2026-01-01T00:00:00Z --to 2027-01-01T00:00:00Z "$out.xml"
rm -f "$out.xml"
[ $fail -eq 0 ] && echo "eas-cal tool: all checks passed"
exit $fail
