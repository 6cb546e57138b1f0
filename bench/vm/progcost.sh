#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# ns per invocation of every program `stsd run` attaches (bench/parts/15-progcost.sh), host or
# guest: kernel.bpf_stats_enabled on, stsd run holding a sleeping command in its cgroup, the
# syscall loops run OUTSIDE the cgroup (what bystanders pay) and then a policed run (what the
# policed code pays), then each program's run_time_ns / run_cnt. Prints
# "PROGCOST phase ID NAME RUN_CNT RUN_TIME_NS NS_PER_RUN" lines.
#
#   sh bench/vm/progcost.sh BUILD N_OPEN N_CONNECT N_UDP
set -u
B=$1 nopen=$2 nconn=$3 nudp=$4
T=/var/tmp/bench-progcost
rm -rf $T && mkdir -p $T
echo bench > $T/file
cat > $T/policy.conf <<POLICY
collector 127.0.0.1:9
allow-read /etc/ld.so.cache
allow-read /lib64/ld-linux-x86-64.so.2
allow-read-dir /lib/x86_64-linux-gnu
state-dir $T/state
POLICY
old=$(cat /proc/sys/kernel/bpf_stats_enabled)
echo 1 > /proc/sys/kernel/bpf_stats_enabled
"$B/stsd" run --policy $T/policy.conf --json -q -- /bin/sleep 3600 > $T/start.json 2> $T/err &
mon=$!
i=0
while [ $i -lt 600 ] && ! grep -q '"type":"start"' $T/start.json 2>/dev/null; do
	sleep 0.1
	i=$((i + 1))
done
ids=$(grep '"type":"start"' $T/start.json | grep -o '"prog_id":[0-9]*' | cut -d: -f2 | tr '\n' ' ')
mode=$(grep '"type":"start"' $T/start.json | grep -o '"mode":"[a-z]*"' | head -1)
rec=$(grep '"type":"start"' $T/start.json | grep -o '"landlock_refusals_recorded_by":"[a-z+]*"' | head -1)
echo "PROGCOST-INFO $mode programs $ids $rec"
for l in "open $T/file $nopen" "connect 127.0.0.1:0 $nconn" "udp 127.0.0.1:0 $nudp"; do
	# shellcheck disable=SC2086
	"$B/bench/syscall-loop" $l > /dev/null
done
# shellcheck disable=SC2086
"$B/bench/progcost" $ids | sed 's/^/PROGCOST outside /'
kill "$mon" 2>/dev/null
wait "$mon" 2>/dev/null
echo "$old" > /proc/sys/kernel/bpf_stats_enabled
[ -s $T/err ] && sed 's/^/PROGCOST-ERROR /' $T/err | head -5
exit 0
