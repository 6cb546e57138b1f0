#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# tests/check.sh: what `make check` runs. Three lanes, each a test binary ending with
# "N passed, N failed, N skipped":
#   unit  build/tests/test_unit                  userspace code, no kernel features
#   host  build/tests/test_progs                 BPF on the machine's own kernel; features it
#                                                lacks (BPF LSM) are reported as SKIP
#   fuzz  scripts/fuzz.sh --smoke                 every libFuzzer harness over its corpus, briefly
#   vm    tests/vm/run -- build/tests/test_progs --no-skip
#                                                Debian's 6.1 kernel with BPF LSM in qemu; a
#                                                skip there is a failure
#   vm-nobpf  tests/vm/run --lsm nobpf -- ...   the same kernel without BPF LSM (a phone-like
#                                                kernel: Landlock and seccomp): the adversary
#                                                catalogue's second profile, the legacy STS and
#                                                an activation; a skip there is a failure
#   arm64 tests/vm/run --arch arm64 -- build/arm64/tests/test_progs --no-skip -t ...
#                                                the cross-built tests (make ARCH=arm64) under
#                                                Debian 12's arm64 kernel in qemu-system-aarch64:
#                                                the tests named in ARM64_TESTS below; --arm64
#                                                (make vmtest ARCH=arm64) runs all of them there
#   powercut  tests/vm/powercut.sh               the VM killed during activations and booted
#                                                again on the same disk image; it cannot skip
# Every lane runs even if an earlier one failed; the exit status is non-zero if any failed or
# if a VM lane did not run.
set -uo pipefail

out=${OUT:-build}
lanes=(unit host fuzz vm vm-nobpf arm64 powercut)
case "${1:-}" in
--vm-only) lanes=(vm vm-nobpf powercut) ;;
--arm64) lanes=(arm64-all) ;;
--host-only) lanes=(unit host fuzz) ;;
"") ;;
*) echo "usage: tests/check.sh [--vm-only | --host-only | --arm64]" >&2; exit 2 ;;
esac
# The arm64 lane of make check: the enforcement, payload, volume (the adversary catalogue's byte
# budget rows), one activation and the adversary tests, and the shipped policy on its device;
# TCG emulates arm64 more slowly than x86, so the rest (access, operator, report, faults,
# observe, the activation fault cases the x86 VM lane runs) is left to make vmtest ARCH=arm64.
ARM64_TESTS=(enforce_network enforce_fail_closed enforce_files enforce_sockets enforce_device_wide
	enforce_evidence_log enforce_start_record_lists_every_hook lsm_file_open cgroup_connect
	payload_conforming_report activation_once legacy_sts adversary_catalogue phone_shipped_policy)
arm64_out=${ARM64_OUT:-build/arm64}

declare -A result=() secs=()
run_lane() {
	local lane=$1 t0 t1 rc
	shift
	echo "==== lane $lane: $*"
	t0=$(date +%s.%N)
	"$@"
	rc=$?
	t1=$(date +%s.%N)
	secs[$lane]=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
	if [ $rc -eq 0 ]; then result[$lane]=pass; else result[$lane]="FAIL (status $rc)"; fi
}

for lane in "${lanes[@]}"; do
	case $lane in
	unit) run_lane unit "$out/tests/test_unit" ;;
	host)
		if [ "$(id -u)" -ne 0 ]; then
			echo "==== lane host: SKIP: loading BPF programs needs root"
			result[host]="skipped (not root)"
			secs[host]=0
		else
			# 40 kills of the kill -9 fault test (its default is 100): a new seed each run
			# covers other points; the time goes to the kernel profiles instead.
			run_lane host env STS_FAULT_KILLS=40 "$out/tests/test_progs"
		fi
		;;
	fuzz) run_lane fuzz env OUT="$out" scripts/fuzz.sh --smoke ;;
	# Each stsd start costs ~3 s in the guest: the kill -9 fault test makes 10 kills there
	# (40 in the host lane).
	# The suite under BPF LSM: about 16 minutes of TCG now (the default 900 s is short).
	# Left to the host lane (its kernel enforces them with Landlock): what does not depend on
	# the kernel's hooks. The output relay's tests, the log rotation's, and five of the
	# activation fault stories (slow server, HTTP 500, forged receipts, a full or read-only
	# state dir: the agent's and the collector's logic, 3.5 minutes under TCG). The kill -9
	# story stays: stsd killed with BPF LSM programs attached is this lane's own case.
	vm) run_lane vm tests/vm/run --name check --timeout 1800 -- env STS_FAULT_KILLS=10 \
		"$out/tests/test_progs" --no-skip -x contain_relay_stalled_reader \
		-x contain_own_output_stalled_reader -x stsd_run_log_rotation_fails \
		-x stsd_daemon_log_rotation -x stsd_run_log_rotation -x faults_slow \
		-x faults_http_500 -x faults_forged_receipt -x faults_state_full \
		-x faults_state_readonly ;;
	# contain_allowed runs in the vm lane on the same kernel (seccomp does not depend on lsm=).
	vm-nobpf) run_lane vm-nobpf tests/vm/run --name check-nobpf --lsm nobpf -- \
		"$out/tests/test_progs" --no-skip -t adversary_catalogue -t legacy_sts \
		-t activation_once -t contain_guarantees_recorded -t contain_unix_needs_lsm \
		-t contain_dac_not_policy ;;
	arm64 | arm64-all)
		filter=()
		[ $lane = arm64 ] && for t in "${ARM64_TESTS[@]}"; do filter+=(-t "$t"); done
		run_lane $lane env OUT="$arm64_out" tests/vm/run --arch arm64 --name check-$lane \
			--timeout 3600 -- env STS_FAULT_KILLS=10 "$arm64_out/tests/test_progs" --no-skip \
			"${filter[@]}"
		;;
	powercut) run_lane powercut env OUT="$out" tests/vm/powercut.sh ;;
	esac
done

echo "==== summary"
fail=0
for lane in "${lanes[@]}"; do
	printf '  %-8s %-22s %6ss\n' "$lane" "${result[$lane]}" "${secs[$lane]}"
	case ${result[$lane]} in
	pass) ;;
	skipped*) [ "$lane" = host ] || fail=1 ;;
	*) fail=1 ;;
	esac
done
exit $fail
