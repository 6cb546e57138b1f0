#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# The VM lane of bench/parts/10-hooks.sh, inside the guest (tests/vm/run, BPF LSM on): the
# syscall loops outside the policed cgroup with no monitor, with `stsd run` (enforce mode, BPF
# LSM) holding its programs, and with opensnoop when it was copied in; A/B interleaved within
# this one boot. Prints "BENCH round config loop ns" lines for the host to parse. Then, apart
# from the timed rounds (statistics cost two clock reads per program run), the kernel's own
# figures for stsd's programs over one more set of loops (bench/bpf-stats): "BPFSTATS name
# type runs run_time_ns" lines. Runs on x86 and arm64 guests alike (tests/vm/run --arch).
#
#   sh bench/vm/hooks.sh ROUNDS N_OPEN N_CONNECT N_UDP
set -u
rounds=$1 nopen=$2 nconn=$3 nudp=$4
B=${OUT:-build}
T=/var/tmp/bench-hooks
case $(uname -m) in
aarch64) LDSO=/lib/ld-linux-aarch64.so.1 LIBDIR=/lib/aarch64-linux-gnu ;;
*) LDSO=/lib64/ld-linux-x86-64.so.2 LIBDIR=/lib/x86_64-linux-gnu ;;
esac
mkdir -p $T
grep -q tracefs /proc/mounts || mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null
echo bench > $T/file
cat > $T/policy.conf <<POLICY
collector 127.0.0.1:9
allow-read $LDSO
allow-read-dir $LIBDIR
state-dir $T/state
POLICY

loops() { # loops ROUND CONFIG
	for l in "open $T/file $nopen" "connect 127.0.0.1:0 $nconn" "udp 127.0.0.1:0 $nudp"; do
		# shellcheck disable=SC2086
		x=$($B/bench/syscall-loop $l) || { echo "BENCH-ERROR $2 $l"; continue; }
		echo "BENCH $1 $2 $x"
	done
}

wait_line() { # wait_line FILE PATTERN: up to 60 s (TCG is slow)
	i=0
	while [ $i -lt 600 ]; do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# wait_links PID: until opensnoop's programs are attached (BPF links, or tracepoint perf
# events on older kernels) and its perf buffer is open: 4 such descriptors at least.
wait_links() {
	i=0
	while [ $i -lt 600 ]; do
		[ "$(ls -l /proc/$1/fd 2>/dev/null | grep -c -e bpf_link -e perf_event)" -ge 4 ] && { sleep 0.5; return 0; }
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

sleep 3600 &
sleeper=$!
has_opensnoop=0
command -v opensnoop >/dev/null 2>&1 && has_opensnoop=1
echo "BENCH-INFO opensnoop $has_opensnoop"
r=1
while [ $r -le "$rounds" ]; do
	loops $r none
	$B/stsd run --policy $T/policy.conf -- sleep 3600 2>$T/stsd.err &
	pid=$!
	if wait_line $T/stsd.err policing; then
		grep -q ', enforce mode' $T/stsd.err && mode=stsd || {
			mode=stsd-not-enforcing
			echo "BENCH-ERROR stsd is not enforcing: $(head -c 600 $T/stsd.err)"
		}
		loops $r $mode
	else
		echo "BENCH-ERROR stsd did not start: $(cat $T/stsd.err)"
	fi
	kill -TERM $pid
	wait $pid 2>/dev/null
	if [ $has_opensnoop = 1 ]; then
		for peer in opensnoop-p opensnoop; do
			if [ $peer = opensnoop ]; then
				opensnoop >$T/opensnoop.out 2>&1 &
			else
				opensnoop -p $sleeper >$T/opensnoop.out 2>&1 &
			fi
			pid=$!
			# Its output is block-buffered in a file: ready once its links are attached.
			if wait_links $pid; then
				loops $r $peer
			else
				echo "BENCH-ERROR $peer did not start: $(head -c 300 $T/opensnoop.out)"
			fi
			kill -TERM $pid
			wait $pid 2>/dev/null
		done
	fi
	r=$((r + 1))
done
# The kernel's figures: run count and run time of each of stsd's programs over one set of loops.
$B/stsd run --policy $T/policy.conf -- sleep 3600 2>$T/stsd.err &
pid=$!
if wait_line $T/stsd.err policing; then
	$B/bench/bpf-stats hold >$T/stats.out 2>&1 &
	hold=$!
	if wait_line $T/stats.out holding; then
		loops stats stsd-stats >/dev/null
		$B/bench/bpf-stats list sts_ | sed 's/^STATS /BPFSTATS /'
	else
		echo "BENCH-ERROR bpf-stats hold: $(cat $T/stats.out)"
	fi
	kill $hold
	wait $hold 2>/dev/null
else
	echo "BENCH-ERROR stsd did not start: $(cat $T/stsd.err)"
fi
kill -TERM $pid
wait $pid 2>/dev/null
kill $sleeper
echo "BENCH-DONE"
