#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Run every libFuzzer harness (build/fuzz/<name>, from fuzz/<name>.c) over its corpus
# fuzz/corpus/<name>/. New interesting inputs go to build/fuzz/corpus/<name>/ (not committed);
# a crash input is saved as build/fuzz/crash-<name>-*; commit it to fuzz/corpus/<name>/ once
# fixed, so it stays a regression test.
#
#   scripts/fuzz.sh [--smoke] [NAME...]
#     default  FUZZ_SECONDS (60) of fuzzing per harness
#     --smoke  replay the committed corpus plus a few thousand new inputs (make check)
set -uo pipefail

out=${OUT:-build}
secs=${FUZZ_SECONDS:-60}
smoke=0
if [ "${1:-}" = --smoke ]; then
	smoke=1
	shift
fi
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
	for f in fuzz/*.c; do names+=("$(basename "$f" .c)"); done
fi
fail=0
for n in "${names[@]}"; do
	bin=$out/fuzz/$n
	[ -x "$bin" ] || { echo "fuzz: $bin not built (make fuzz-build)" >&2; exit 2; }
	mkdir -p "$out/fuzz/corpus/$n" fuzz/corpus/"$n"
	if [ $smoke -eq 1 ]; then
		args=(-runs=3000 -seed=1)
	else
		args=(-max_total_time="$secs")
	fi
	log=$out/fuzz/$n.log
	if "$bin" "${args[@]}" -timeout=10 -rss_limit_mb=1024 -artifact_prefix="$out/fuzz/crash-$n-" \
		"$out/fuzz/corpus/$n" "fuzz/corpus/$n" > "$log" 2>&1; then
		execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | awk '{ print $2 }')
		[ -n "$execs" ] || execs=$(grep -Eo '#[0-9]+' "$log" | tail -n 1 | tr -d '#')
		echo "fuzz: $n: ok, ${execs:-?} executions"
	else
		echo "fuzz: $n: FAILED, see $log"
		tail -n 30 "$log"
		fail=1
	fi
done
exit $fail
