#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Part 1b: the cost of one invocation of each program stsd attaches, from the kernel's own
# counters (kernel.bpf_stats_enabled: run_time_ns / run_cnt per program), next to the A/B loops
# of part 1: a figure that does not move with the machine's noise. The syscall loops run
# OUTSIDE the policed cgroup, so these are the programs bystanders pass through. Host lane and
# VM lane (BPF LSM), one run each (bench/vm/progcost.sh). And the kernel's floor on the host:
# what do-nothing programs of the same attach types, attached to an empty cgroup, cost the same
# loops (build/bench/syscall-loop floor), paired runs.
set -euo pipefail
. bench/common.sh
part_init progcost
n="200000 5000 200000"
vn="20000 1000 20000"
# shellcheck disable=SC2086
sh bench/vm/progcost.sh "$B" $n > "$D/host.out" 2>&1 || true
FLOORCG=$(cgroup2_root)/stsbench-floor-$$
mkdir -p "$FLOORCG"
trap '[ "$BASHPID" = "$$" ] && rmdir "$FLOORCG" 2> /dev/null; true' EXIT
: > "$D/floor.out"
for l in "connect 127.0.0.1:0 1000" "udp 127.0.0.1:0 10000"; do
	# shellcheck disable=SC2086
	SYSCALL_LOOP_CLOCK=cpu "$B/bench/syscall-loop" floor "$FLOORCG" $l 100 >> "$D/floor.out" 2>&1 || true
done
vm_cmd="tests/vm/run --name bench-progcost -q --timeout 600 --add bench -- sh bench/vm/progcost.sh build $vn"
vm_ok=0 nobpf_ok=0
if [ "${BENCH_NO_VM:-0}" != 1 ] && $vm_cmd > "$D/vm.out" 2>&1; then
	vm_ok=1
	tr -d '\r' < "$B/vm/bench-progcost/console.log" | grep '^PROGCOST' > "$D/vm.lines" || true
fi
# The same kernel without BPF LSM (Landlock; its refusals recorded by fexit on do_filp_open).
nobpf_cmd="tests/vm/run --name bench-progcost-nobpf --lsm nobpf -q --timeout 600 --add bench -- sh bench/vm/progcost.sh build $vn"
if [ "${BENCH_NO_VM:-0}" != 1 ] && $nobpf_cmd > "$D/nobpf.out" 2>&1; then
	nobpf_ok=1
	tr -d '\r' < "$B/vm/bench-progcost-nobpf/console.log" | grep '^PROGCOST' > "$D/nobpf.lines" || true
fi

table() { # table FILE
	echo "| program | invocations | run_time_ns | ns per invocation |"
	echo "|---|---|---|---|"
	awk '$1 == "PROGCOST" && $2 == "outside" { printf "| %s | %s | %s | %s |\n", $4, $5, $6, $7 }' "$1"
}

cat << HEAD
## 1b. ns per hook invocation (kernel.bpf_stats_enabled)

For every program \`stsd run\` attaches (its ids from the start record), the kernel's count of
invocations and the nanoseconds spent in it while \`build/bench/syscall-loop\` ran open, connect
and UDP loops ($n calls) **outside** the policed cgroup: \`run_time_ns / run_cnt\` is what one
pass through that hook costs a process stsd does not police (stats on, so each figure includes
the two clock reads the kernel adds around a program when counting). A program with 0
invocations is not on those paths at all. \`bench/vm/progcost.sh\`, \`build/bench/progcost\`.

### Host lane: kernel $(uname -r), no BPF LSM: files enforced by Landlock ($(grep -o '"mode":"[a-z]*"' "$D/host.out" | head -1))

$(table "$D/host.out")

How Landlock's refusals are recorded here (the start record's containment):
$(grep -o '"landlock_refusals_recorded_by":"[a-z+]*"' "$D/host.out" | head -1 || true).
The host refuses fexit and has no kprobe events. \`landlock+audit\`: they are read from Landlock's
own audit records, so no program is on the open path (no \`sts_observe_ope*\` row above) and no
process outside the cgroup gets system-call auditing (the rule \`never,task\`; tested by
\`test_contain_audit_bystanders\`). \`landlock+tracepoints\` (audit unavailable): the open
tracepoints, and the system call tracing slow path they put every process on (which run_time_ns
does not count; part 1's loops do).

### Host lane: the kernel's floor, whatever the programs

What a process outside every policed cgroup pays once a program of one of stsd's cgroup attach
types is attached anywhere: the kernel turns the hook on for all (a static key per type) and
then, for sock_create, connect, sendmsg and sock_ops, runs through the empty program array of
the process's own cgroup (egress and ingress stop at a cheaper emptiness check; an unconnected
UDP sendmsg takes the socket's lock around it, which is why stsd refuses UDP at socket creation
and attaches no sendmsg program to the policed cgroup: \`sendmsg\` is only for device-wide
rules). \`stsd's\` is the set \`stsd run\` attaches. Measured with
do-nothing programs (\`bench/bpf/cgfloor.bpf.c\`) attached to an empty cgroup, 100 paired runs
per set (attached, detached, in alternating order; CPU time of the looping thread), the median
of the pairs' differences with its quartiles. Since stsd's programs run 0 times for these loops
(above), this floor is stsd's whole cost to bystanders on these paths; \`none\` is the control
(identical runs paired). \`SYSCALL_LOOP_CLOCK=cpu build/bench/syscall-loop floor CGROUP connect 127.0.0.1:0 1000 100\`.

| loop | attach types | ns/call without | ns added, median (quartiles) | ratio, median |
|---|---|---|---|---|
$(awk '$1 == "floor" { printf "| %s | %s | %s | %s (%s – %s) | %s |\n", $2, $3, $4, $5, $6, $7, $8 }' "$D/floor.out")
$(grep -v '^floor ' "$D/floor.out" | head -n 5 | sed 's/^/    /' || true)
HEAD
echo
echo "### VM lane: Debian 6.1 under qemu TCG, BPF LSM ($vn calls)"
echo
if [ $vm_ok = 1 ]; then
	table "$D/vm.lines"
	echo
	echo "Absolute figures are those of an emulated CPU (TCG)."
else
	echo "**The VM lane did not run** (\`$vm_cmd\`):"
	echo '```'
	tail -n 20 "$D/vm.out" 2> /dev/null || echo "BENCH_NO_VM=1"
	echo '```'
fi
echo
echo "### VM lane without BPF LSM (\`--lsm nobpf\`: Landlock ABI 2, refusals recorded by fexit)"
echo
if [ $nobpf_ok = 1 ]; then
	table "$D/nobpf.lines"
	echo
	echo "No system call tracepoint is attached: \`sts_contain_open\` (fexit on do_filp_open) is"
	echo "the one program every open of the device passes."
else
	echo "**This VM lane did not run** (\`$nobpf_cmd\`)."
fi
echo
