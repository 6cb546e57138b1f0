#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# tests/vm/powercut.sh: the power-cut lane of `make check` (issue 7's fault injection). A
# device's state lives on an ext4 disk image; the VM (tests/vm/run --disk --net) runs
# `stsd daemon --once` against the real sts-collector on the host, and the host kills qemu
# with SIGKILL at a random point of the activation, then boots the VM again on the same
# image, until a boot runs to the end. Every device must end with exactly one activation at
# its collector, an evidence log that verifies, and a state that says activated.
#
# Device 1 is not cut: it measures how long stsd takes from its start to the collector's
# store and to its exit. The other devices are cut at random points over that span (before
# the send), while the report is in flight (the guest's connection to the collector is up),
# right after the collector stored it (before the guest could log the receipt), and by the
# guest itself (build/tests/bin/cut-on) just after stsd saved activation.json as activated.
#
# usage: tests/vm/powercut.sh [--seed N] [--devices N] [--cuts N]
#   --seed N     the random seed (default: random; always printed, to replay a run)
#   --devices N  devices, the first being the calibration run (default 3)
#   --cuts N     power cuts in all, spread over devices 2..N (default 5)
set -uo pipefail

out=${OUT:-build}
seed=$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
devices=3
cuts=5
while [ $# -gt 0 ]; do
	case "$1" in
	--seed) seed=$2; shift 2 ;;
	--devices) devices=$2; shift 2 ;;
	--cuts) cuts=$2; shift 2 ;;
	*) echo "usage: tests/vm/powercut.sh [--seed N] [--devices N] [--cuts N]" >&2; exit 2 ;;
	esac
done
[ "$devices" -ge 2 ] || { echo "powercut: --devices must be at least 2" >&2; exit 2; }
RANDOM=$seed
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
for tool in mkfs.ext4 e2fsck openssl; do
	command -v $tool >/dev/null || { echo "powercut: $tool not found (run 'make deps')" >&2; exit 2; }
done
for bin in stsd stsctl sts-agent sts-collector; do
	[ -x "$out/$bin" ] || { echo "powercut: $out/$bin not built (run make)" >&2; exit 2; }
done

work=$out/powercut
rm -rf "$work"
mkdir -p "$work/pki"
pki=$work/pki
log() { echo "powercut: $*"; }
log "seed $seed (replay: tests/vm/powercut.sh --seed $seed --devices $devices --cuts $cuts)"

# The collector's TLS certificate (the guest has no openssl command) and receipt key.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
	-subj /CN=collector.test -addext subjectAltName=DNS:collector.test \
	-keyout "$pki/tls-key.pem" -out "$pki/tls-cert.pem" 2>/dev/null ||
	{ echo "powercut: openssl req failed" >&2; exit 2; }
"$out/sts-collector" keygen --signing-key "$pki/receipt.key" >/dev/null || exit 2
chmod 0644 "$pki/tls-cert.pem" "$pki/receipt.key.pub"

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

collector=
stop_collector() {
	[ -n "$collector" ] || return 0
	kill -TERM "$collector" 2>/dev/null
	wait "$collector" 2>/dev/null
	collector=
}
trap 'stop_collector; [ -f "$out/vm/powercut/qemu.pid" ] && kill -9 "$(cat "$out/vm/powercut/qemu.pid")" 2>/dev/null' EXIT

start_collector() { # start_collector DIR
	rm -f "$1/port"
	"$out/sts-collector" serve --listen 127.0.0.1:0 --port-file "$1/port" \
		--tls-cert "$pki/tls-cert.pem" --tls-key "$pki/tls-key.pem" \
		--signing-key "$pki/receipt.key" --db "$1/collector.db" --timeout 5 \
		2>>"$1/collector.log" &
	collector=$!
	for _ in $(seq 100); do
		[ -s "$1/port" ] && break
		sleep 0.05
	done
	[ -s "$1/port" ] || { echo "powercut: the collector did not start: $(cat "$1/collector.log")" >&2; exit 1; }
	port=$(cat "$1/port")
}

# Replies the collector gave (stored or already stored: each one a receipt sent).
replies() { grep -c -E ' 20[01] (stored|already_stored) ' "$1/collector.log" 2>/dev/null || true; }
stored() { "$out/sts-collector" list --db "$1/collector.db" --json 2>/dev/null | grep -o '"aid"' | wc -l; }

vmlog=$out/vm/powercut/console.log
# boot DEVDIR MODE [ARG]: one boot of the device. MODE none: run to the end. MODE timed:
# cut the power ARG seconds after the guest printed "POWERCUT stsd-start". MODE stored: cut
# it ARG seconds after the collector sent its next receipt. Sets rc, t_store and t_exit (seconds
# from stsd-start to the collector's reply and to stsd's exit, when seen) and replied (1 if
# the collector answered during this boot).
boot() {
	local dir=$1 mode=$2 arg=${3:-0} pid t0 t_start="" r0 cut=0 gcut= conn=
	cut_at=
	[ "$mode" = event ] && gcut=cut-on-activated
	r0=$(replies "$dir")
	t_store="" t_exit=""
	# The runner clears its directory only after a while: no stale console or pid file.
	rm -f "$vmlog" "$out/vm/powercut/qemu.pid"
	tests/vm/run --name powercut -q --timeout 120 --disk "$dir/disk.img" --net \
		--add "$pki" -- sh tests/vm/powercut-guest.sh "$port" "/sts/$pki" $gcut \
		2>>"$dir/vm.err" &
	pid=$!
	t0=$(now)
	while kill -0 $pid 2>/dev/null; do
		if [ -z "$t_start" ] && grep -q 'POWERCUT stsd-start' "$vmlog" 2>/dev/null; then
			t_start=$(now)
		fi
		if [ -n "$t_start" ] && [ -z "$t_store" ] && [ "$(replies "$dir")" -gt "$r0" ]; then
			t_store=$(elapsed "$t_start" "$(now)")
		fi
		if [ -n "$t_start" ] && [ -z "$t_exit" ] && grep -q 'POWERCUT stsd-exit' "$vmlog" 2>/dev/null; then
			t_exit=$(elapsed "$t_start" "$(now)")
		fi
		if [ "$mode" = sending ] && [ -n "$t_start" ] && [ -z "$conn" ] &&
			[ -n "$(ss -Htn state established "( sport = :$port )")" ]; then
			conn=1
		fi
		if [ $cut -eq 0 ] &&
			{ { [ "$mode" = sending ] && [ -n "$conn" ] && sleep "$arg"; } ||
			{ [ "$mode" = timed ] && [ -n "$t_start" ] &&
				awk -v a="$t_start" -v b="$(now)" -v d="$arg" 'BEGIN { exit !(b - a >= d) }'; } ||
			{ [ "$mode" = stored ] && [ -n "$t_store" ] &&
				sleep "$arg"; }; }; then
			[ -s "$out/vm/powercut/qemu.pid" ] && kill -9 "$(cat "$out/vm/powercut/qemu.pid")" 2>/dev/null &&
				cut=1
			cut_at=$(elapsed "${t_start:-$t0}" "$(now)")
		fi
		sleep 0.01
	done
	wait $pid
	rc=$?
	replied=0
	[ "$(replies "$dir")" -gt "$r0" ] && replied=1
	[ $rc -eq 137 ] && [ -z "$cut_at" ] && cut_at=$(elapsed "${t_start:-$t0}" "$(now)")
	cp "$vmlog" "$dir/console.$((++boots)).log"
}

# What the boot after a cut found on the disk, next to what the collector had: where the cut fell.
# What the boot after a cut found on the disk, next to what the collector had: where the cut fell.
classify() { # classify STORED_AT_THE_CUT REPLIED_DURING_THE_CUT_BOOT
	local line
	line=$(grep -a 'POWERCUT before' "$vmlog" | tail -n 1)
	case $line in
	*'"activated":true'*receipts=0*)
		echo "after the state said activated, before the receipt was durable in the log" ;;
	*'"activated":true'*) echo "after the activation (state activated)" ;;
	*) if [ "$2" -ge 1 ]; then
		echo "after the collector stored it (or answered the resend), before the guest made the receipt durable"
	elif [ "$1" -ge 1 ]; then
		echo "before the resend of a report an earlier boot had stored was answered"
	elif echo "$line" | grep -q 'approved=[1-9]'; then
		echo "during the send (report approved and durable, not stored yet)"
	elif echo "$line" | grep -q 'state=none'; then
		echo "before the send (first start: no state yet)"
	else
		echo "before the send (nothing approved yet)"
	fi ;;
	esac
}

t_lane=$(now)
fail=0
boots=0
ncuts=0
declare -a summary=()
cal_store=3 cal_exit=5
for d in $(seq "$devices"); do
	dir=$work/dev$d
	mkdir -p "$dir"
	truncate -s 64M "$dir/disk.img"
	mkfs.ext4 -q -F -L stsguard "$dir/disk.img" || { echo "powercut: mkfs.ext4 failed" >&2; exit 2; }
	start_collector "$dir"
	# This device's cuts, one per boot in a row, then a boot that must run to the end. The
	# first cut of a device falls before the collector's reply: on even devices while the
	# report is in flight (the connection up), on odd ones anywhere from stsd's start to the
	# reply (keys, log and aid being made, the report approved); the second right after the
	# reply (on the last device: the instant stsd moves on from saving activation.json as
	# activated, cut by the guest itself); the others anywhere from stsd's start to a little
	# after its exit.
	n=$(((cuts + (devices - 1) - d + 1) / (devices - 1)))
	[ "$d" -eq 1 ] && n=0
	plan=()
	for i in $(seq "$n"); do
		r=$(awk -v r=$RANDOM 'BEGIN { printf "%.4f", r / 32768 }')
		case $i in
		1) if [ $((d % 2)) -eq 0 ]; then
			plan+=("sending $(awk -v r="$r" 'BEGIN { printf "%.2f", r * 0.15 }')")
		else
			plan+=("timed $(awk -v r="$r" -v s="$cal_store" 'BEGIN { printf "%.2f", r * s }')")
		fi ;;
		2) if [ "$d" -eq "$devices" ]; then
			plan+=("event activated")
		else
			plan+=("stored $(awk -v r="$r" 'BEGIN { printf "%.2f", r * 0.2 }')")
		fi ;;
		*) plan+=("timed $(awk -v r="$r" -v e="$cal_exit" 'BEGIN { printf "%.2f", r * e * 1.1 }')") ;;
		esac
	done
	plan+=("none 0")
	prev=
	for p in "${plan[@]}"; do
		read -r mode arg <<<"$p"
		boot "$dir" "$mode" "$arg"
		if [ -n "$prev" ]; then
			where=$(classify "$prev_stored" "$prev_replied")
			log "device $d: $prev: $where"
			summary+=("dev$d $prev: $where")
			prev=
		fi
		if [ "$mode" = none ]; then
			[ $rc -eq 0 ] && continue
			log "device $d: FAIL: the last boot ended with $rc (see $dir/console.$boots.log)"
			fail=1
		elif [ $rc -eq 137 ]; then
			ncuts=$((ncuts + 1))
			prev_stored=$(stored "$dir")
			prev_replied=$replied
			prev="cut ($mode $arg) ${cut_at}s after stsd started"
			continue
		elif [ $rc -eq 0 ]; then
			log "device $d: the guest finished before the cut ($mode $arg) could land"
			summary+=("dev$d $mode $arg: missed (the guest finished first)")
			continue
		else
			log "device $d: FAIL: boot ended with $rc before its cut (see $dir/console.$boots.log)"
			fail=1
		fi
		break
	done
	if [ "$d" -eq 1 ]; then
		if [ $rc -eq 0 ] && [ -n "$t_store" ] && [ -n "$t_exit" ]; then
			cal_store=$t_store cal_exit=$t_exit
		fi
		log "device $d: no cut; stsd start -> collector reply ${t_store:-?}s -> stsd exit ${t_exit:-?}s"
	fi
	stop_collector
	# The last boot unmounted the file system: it must be clean.
	if ! e2fsck -fn "$dir/disk.img" >"$dir/e2fsck.log" 2>&1; then
		log "device $d: FAIL: e2fsck -fn found problems (see $dir/e2fsck.log)"
		fail=1
	fi
	n=$(stored "$dir")
	refused=$(grep -c -E ' (4[0-9][0-9]|5[0-9][0-9]) ' "$dir/collector.log" || true)
	log "device $d: collector stored $n activation(s), refused $refused request(s)," \
		"$(replies "$dir") receipt(s) sent"
	if [ "$n" != 1 ] || [ "$refused" != 0 ]; then
		log "device $d: FAIL: wanted exactly one activation and no refusal"
		"$out/sts-collector" stats --db "$dir/collector.db"
		fail=1
	fi
done

log "cuts: $ncuts, boots: $boots, lane time $(elapsed "$t_lane" "$(now)")s"
for s in "${summary[@]}"; do log "  $s"; done
if [ $fail -ne 0 ]; then
	log "FAIL (seed $seed)"
	exit 1
fi
log "pass: every device has exactly one activation, a log that verifies, a state that says activated"
