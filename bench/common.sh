# SPDX-License-Identifier: GPL-2.0-only
#
# Shared by bench/parts/*.sh (sourced): statistics over repeated runs.

# median_minmax FILE: one number per line -> "median (min–max)"; formatted with %.*f, digits $2.
median_minmax() {
	sort -g "$1" | awk -v d="${2:-1}" '{ v[NR] = $1 } END {
		if (NR == 0) { print "n/a"; exit }
		m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%.*f (%.*f–%.*f)\n", d, m, d, v[1], d, v[NR] }'
}

# median FILE: the median alone.
median() {
	sort -g "$1" | awk '{ v[NR] = $1 } END { if (NR == 0) { print "nan"; exit }
		print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# ratio_stats A_FILE B_FILE: lines "round value" in both; per round B/A, then
# "median (min–max)" of the ratios (3 decimals).
ratio_stats() {
	join <(sort -k1,1 "$1") <(sort -k1,1 "$2") | awk '$2 > 0 { print $3 / $2 }' > "$BENCH_TMP/.ratio"
	median_minmax "$BENCH_TMP/.ratio" 3
}

# added_stats A_FILE B_FILE: per round B - A, "median (min–max)" (1 decimal).
added_stats() {
	join <(sort -k1,1 "$1") <(sort -k1,1 "$2") | awk '{ print $3 - $2 }' > "$BENCH_TMP/.added"
	median_minmax "$BENCH_TMP/.added" 1
}

# values FILE: the value column of "round value" lines, for median/median_minmax.
values() {
	awk '{ print $2 }' "$1" > "$BENCH_TMP/.values"
	echo "$BENCH_TMP/.values"
}

# target NAME TARGET MEASURED MET: one row of the Targets table (scripts/bench.sh), MET being
# 1 (met) or 0 (missed).
target() {
	printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$([ "$4" = 1 ] && echo met || echo missed)" \
		>> "$BENCH_TMP/targets.tsv"
}

# profile TITLE CMD...: run CMD under `perf record` and print, as markdown, the command and the
# top symbols: what a missed target's time is spent on. -a (whole machine) when PROFILE_ALL=1,
# for costs paid in another process (the monitor) or in interrupts; PROFILE_COMMS=a,b keeps
# only those commands in the report (the machine may be running other things).
profile() {
	local title=$1 data="$BENCH_TMP/perf.$$.data"
	shift
	echo
	echo "Profile ($title):"
	echo
	echo '```'
	echo "\$ perf record -F 2000 ${PROFILE_ALL:+-a }-o perf.data -- $*"
	echo "\$ perf report --stdio --no-children ${PROFILE_COMMS:+--comms $PROFILE_COMMS }--sort comm,dso,symbol | head -n 25"
	if perf record -q -F 2000 ${PROFILE_ALL:+-a} -o "$data" -- "$@" > /dev/null 2>&1; then
		perf report -i "$data" --stdio --no-children ${PROFILE_COMMS:+--comms $PROFILE_COMMS} \
			--sort comm,dso,symbol 2> /dev/null |
			grep -v '^#' | grep -v '^$' | head -n 25 || true
	else
		echo "(perf record failed)"
	fi
	echo '```'
	rm -f "$data"
}

# wait_for FILE PATTERN [SECONDS]: until FILE has a line matching PATTERN (1 if it never does).
wait_for() {
	local i
	for ((i = 0; i < ${3:-20} * 10; i++)); do
		grep -q -- "$2" "$1" 2> /dev/null && return 0
		sleep 0.1
	done
	return 1
}

# cgroup2_root: where the cgroup v2 hierarchy is mounted (/sys/fs/cgroup or .../unified).
cgroup2_root() {
	awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts
}

# part_init NAME: the part's scratch directory, $D = $BENCH_TMP/NAME, and $B = the build directory.
part_init() {
	B=$OUT
	D=$BENCH_TMP/$1
	mkdir -p "$D"
}

# loader_rules: the policy lines any dynamically linked program needs to start (the loader's
# cache, the loader, the directory of the libraries), for the benchmarks' policies.
loader_rules() {
	printf '%s\n' "allow-read /etc/ld.so.cache" "allow-read /lib64/ld-linux-x86-64.so.2" \
		"allow-read-dir /lib/x86_64-linux-gnu"
}
