#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Part 1b: the cost of one invocation of each program stsd attaches, from the kernel's own
# counters (kernel.bpf_stats_enabled: run_time_ns / run_cnt per program), next to the A/B loops
# of part 1: a figure that does not move with the machine's noise. The syscall loops run
# OUTSIDE the policed cgroup, so these are the programs bystanders pass through. Host lane and
# VM lane (BPF LSM), one run each (bench/vm/progcost.sh).
set -euo pipefail
. bench/common.sh
part_init progcost
n="200000 5000 200000"
vn="20000 1000 20000"
# shellcheck disable=SC2086
sh bench/vm/progcost.sh "$B" $n > "$D/host.out" 2>&1 || true
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
