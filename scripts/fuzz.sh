#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Run every libFuzzer harness (build/fuzz/<name>, from fuzz/<name>.c) over its corpus
# fuzz/corpus/<name>/. New interesting inputs go to build/fuzz/corpus/<name>/ (not committed);
# a crash input is saved as build/fuzz/crash-<name>-*. Once the bug is fixed, commit the input
# to fuzz/regressions/<name>/ under a name that says what it broke: every run, smoke or not,
# first replays each of those files on its own and fails naming the one that crashes.
#
#   scripts/fuzz.sh [--smoke] [NAME...]
#     default  FUZZ_SECONDS (60) of fuzzing per harness
#     --smoke  replay the regressions and the committed corpus, plus a few thousand new
#              inputs (make check)
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
	dirs=("$out/fuzz/corpus/$n" "fuzz/corpus/$n")
	regs=()
	if [ -d "fuzz/regressions/$n" ]; then
		dirs+=("fuzz/regressions/$n")
		mapfile -t regs < <(find "fuzz/regressions/$n" -type f ! -name '*.md' | sort)
	fi
	# Each regression input alone (libFuzzer runs file arguments once each, no fuzzing).
	if [ ${#regs[@]} -gt 0 ] && ! "$bin" -timeout=10 -rss_limit_mb=1024 "${regs[@]}" \
		> "$out/fuzz/$n.regressions.log" 2>&1; then
		echo "fuzz: $n: a regression input fails again, see $out/fuzz/$n.regressions.log"
		grep -E '^Running:|ERROR|runtime error' "$out/fuzz/$n.regressions.log" | tail -n 5
		fail=1
		continue
	fi
	if "$bin" "${args[@]}" -timeout=10 -rss_limit_mb=1024 -artifact_prefix="$out/fuzz/crash-$n-" \
		"${dirs[@]}" > "$log" 2>&1; then
		execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | awk '{ print $2 }')
		[ -n "$execs" ] || execs=$(grep -Eo '#[0-9]+' "$log" | tail -n 1 | tr -d '#')
		echo "fuzz: $n: ok, ${execs:-?} executions, ${#regs[@]} regression inputs replayed"
	else
		echo "fuzz: $n: FAILED, see $log"
		tail -n 30 "$log"
		fail=1
	fi
done
exit $fail
