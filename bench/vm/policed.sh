#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# The VM lane of bench/parts/20-policed.sh, inside the guest (BPF LSM, enforce mode): the
# agent's allowed operations inside the policed cgroup under `stsd run`, against the same loops
# without stsd, interleaved within this one boot. Prints "BENCH round config loop ns" lines.
#
#   sh bench/vm/policed.sh ROUNDS N_OPEN N_CONNECT
set -u
rounds=$1 nopen=$2 nconn=$3
B=build
T=/var/tmp/bench-policed
mkdir -p $T
echo allowed > $T/allowed
$B/bench/syscall-loop serve 127.0.0.1:0 > $T/listen.out &
lsn=$!
i=0
until grep -q listening $T/listen.out 2>/dev/null || [ $i -ge 100 ]; do sleep 0.1; i=$((i + 1)); done
port=$(awk '/^listening/ { print $2 }' $T/listen.out)
cat > $T/policy.conf <<POLICY
collector 127.0.0.1:$port
allow-read /lib64/ld-linux-x86-64.so.2
allow-read-dir /lib/x86_64-linux-gnu
allow-read $T/allowed
state-dir $T/state
POLICY
r=1
while [ $r -le "$rounds" ]; do
	for c in none stsd; do
		for l in "open $T/allowed $nopen" "connect 127.0.0.1:$port $nconn"; do
			if [ $c = stsd ]; then
				# shellcheck disable=SC2086
				x=$($B/stsd run -q --user root --policy $T/policy.conf -- $B/bench/syscall-loop $l)
			else
				# shellcheck disable=SC2086
				x=$($B/bench/syscall-loop $l)
			fi || { echo "BENCH-ERROR $c $l"; continue; }
			echo "BENCH $r $c $x"
		done
	done
	r=$((r + 1))
done
kill $lsn
echo "BENCH-DONE"
