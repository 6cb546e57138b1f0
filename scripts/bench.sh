#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# bench.sh: what `make bench` runs. Each part is bench/parts/NN-name.sh; it prints one markdown
# section (heading, table, the exact commands it ran) on stdout and progress on stderr. The
# sections, in NN order, after a description of the machine, become BENCHMARKS.md.
#
#   scripts/bench.sh [--quick] [--only NAME]... [-o FILE]
#
#   --quick      fewer rounds and shorter loops (a smoke run: figures are not for publishing)
#   --only NAME  run the parts whose file name contains NAME (repeatable); the output then
#                goes to build/bench/BENCHMARKS.partial.md unless -o says otherwise
#   -o FILE      where to write (default BENCHMARKS.md)
#
# It builds what the parts run first (make all build/bench/*: a no-op under `make bench`), and
# stops before running anything if a selected part's peers are missing (opensnoop and bpftrace
# for hooks, nginx for collector), naming them: scripts/deps.sh --bench installs them.
#
# Environment passed to every part: OUT (build directory), BENCH_QUICK (1 with --quick),
# BENCH_ROUNDS (interleaved A/B rounds; default 7, 3 with --quick), BENCH_TMP (a scratch
# directory removed at the end); BENCH_NO_VM=1 skips the VM lanes (while developing).
#
# Targets: a part may append lines "name<TAB>target<TAB>measured<TAB>met|missed" to
# $BENCH_TMP/targets.tsv; they become the Targets table near the top of the output (each missed
# target's part shows, in its own section, a profile of where the time goes).
set -euo pipefail
cd "$(dirname "$0")/.."

export OUT=${OUT:-build}
export BENCH_QUICK=0
only=()
outfile=
while [ $# -gt 0 ]; do
	case $1 in
	--quick) BENCH_QUICK=1 ;;
	--only) only+=("$2"); shift ;;
	-o) outfile=$2; shift ;;
	-h | --help) sed -n '4,25p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "bench.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
	esac
	shift
done
if [ -z "$outfile" ]; then
	if [ ${#only[@]} -gt 0 ]; then outfile=$OUT/bench/BENCHMARKS.partial.md; else outfile=BENCHMARKS.md; fi
fi
if [ "$BENCH_QUICK" = 1 ]; then export BENCH_ROUNDS=${BENCH_ROUNDS:-3}; else export BENCH_ROUNDS=${BENCH_ROUNDS:-7}; fi
[ "$(id -u)" -eq 0 ] || { echo "bench.sh: loading BPF programs needs root" >&2; exit 1; }

BENCH_TMP=$(mktemp -d /tmp/stsbench.XXXXXX)
export BENCH_TMP
trap 'rm -rf "$BENCH_TMP"' EXIT
mkdir -p "$OUT/bench"

parts=()
for p in bench/parts/*.sh; do
	[ -e "$p" ] || continue
	if [ ${#only[@]} -gt 0 ]; then
		keep=0
		for o in "${only[@]}"; do case $p in *"$o"*) keep=1 ;; esac; done
		[ $keep = 1 ] || continue
	fi
	parts+=("$p")
done
[ ${#parts[@]} -gt 0 ] || { echo "bench.sh: no part matches" >&2; exit 2; }

# The peers a part measures against (installed by `make bench`, or scripts/deps.sh --bench):
# named up front rather than failing in the middle of a part.
missing=()
for p in "${parts[@]}"; do
	case $p in
	*hooks*) need=(opensnoop:libbpf-tools bpftrace:bpftrace) ;;
	*collector*) need=(nginx:nginx-light) ;;
	*) need=() ;;
	esac
	for n in ${need[@]+"${need[@]}"}; do
		command -v "${n%%:*}" > /dev/null || missing+=("${n%%:*} (Debian package ${n#*:})")
	done
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "bench.sh: missing: ${missing[*]}; install them with scripts/deps.sh --bench (make bench does)" >&2
	exit 2
fi

# What the parts run: the project and bench/*.c (build/bench/NAME). Built here, so that
# bench.sh works on its own from a fresh clone; under `make bench` this is a no-op.
bins=()
for c in bench/*.c; do
	b=${c#bench/}
	bins+=("$OUT/bench/${b%.c}")
done
echo "bench.sh: building what the benchmarks run (make all ${bins[*]})" >&2
make --no-print-directory -s OUT="$OUT" all "${bins[@]}" >&2 || {
	echo "bench.sh: the build failed; see above" >&2
	exit 1
}

tmp=$OUT/bench/BENCHMARKS.new.md
{
	echo "# stsguard benchmarks"
	echo
	echo "Written by \`make bench\` ($(date -u +%Y-%m-%dT%H:%MZ), commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$([ "$BENCH_QUICK" = 1 ] && echo ', --quick: smoke figures only'))."
	echo "Every figure is a median over $BENCH_ROUNDS interleaved A/B rounds with min–max, never a single run."
	echo
	echo "## Machine"
	echo
	echo "- CPU: $(lscpu | sed -n 's/^Model name: *//p' | head -n 1), $(nproc) cores online"
	echo "- memory: $(free -h | awk '/^Mem:/ { print $2 }')"
	echo "- host kernel: $(uname -r); OS: $(. /etc/os-release && echo "$PRETTY_NAME")"
	echo "- VM lane: qemu-system-x86_64 $(qemu-system-x86_64 --version | sed -n '1s/.*version \([^ ]*\).*/\1/p') (TCG, no KVM), Debian kernel $(basename "$(tests/vm/kernel.sh 2>/dev/null || echo unknown)")"
	echo "- arm64 VM lane: qemu-system-aarch64 -M virt -cpu max (TCG), Debian kernel $(basename "$(STS_VM_ARCH=arm64 tests/vm/kernel.sh 2>/dev/null || echo unknown)"), binaries cross-built by make ARCH=arm64"
	echo
} > "$tmp"

status=0
body=$BENCH_TMP/body.md
: > "$body"
for p in "${parts[@]}"; do
	echo "==== bench: $p" >&2
	t0=$(date +%s)
	if ! bash "$p" >> "$body"; then
		echo "bench.sh: $p failed" >&2
		printf '\n**%s failed; see the output of make bench.**\n\n' "$(basename "$p")" >> "$body"
		status=1
	fi
	echo "==== bench: $p took $(($(date +%s) - t0)) s" >&2
done
if [ -s "$BENCH_TMP/targets.tsv" ]; then
	{
		echo "## Targets"
		echo
		echo "| target | wanted | measured (medians) | |"
		echo "|---|---|---|---|"
		awk -F '\t' '{ printf "| %s | %s | %s | %s |\n", $1, $2, $3, $4 == "met" ? "met" : "**missed**" }' \
			"$BENCH_TMP/targets.tsv"
		echo
		echo "Each missed target's section below ends with a profile of where the time goes."
		echo
	} >> "$tmp"
fi
cat "$body" >> "$tmp"
mv "$tmp" "$outfile"
echo "bench.sh: wrote $outfile" >&2
exit $status
