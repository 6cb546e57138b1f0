#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Part 5: footprint. Binary sizes; stsd's RSS and CPU time over whole activations (`stsd daemon
# --once` against a real sts-collector, the IMEI from tests/bin/modem-sim on a pty, the agent in
# the policed cgroup); and idle: RSS and wake-ups (voluntary + involuntary context switches of
# every thread, from /proc) of a daemon waiting for its retry and of `stsd run` policing a
# sleeping process, over the same window.
set -euo pipefail
. bench/common.sh
part_init footprint
# The agent runs as nobody: it must reach the CA, its state directory and its binary.
chmod 0755 "$BENCH_TMP" "$D"
if [ "$BENCH_QUICK" = 1 ]; then window=15; else window=60; fi
pids=()
cleanup() {
	# The subshells of $(...) and (...) & run this trap too: only the part's own shell cleans.
	[ "$BASHPID" = "$$" ] || return 0
	set +e
	for p in "${pids[@]}"; do kill -TERM "$p" 2> /dev/null; done
	wait 2> /dev/null
}
trap cleanup EXIT

# --- the collector, the modem, the device's configuration ---
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
	-subj /CN=localhost -addext subjectAltName=DNS:localhost \
	-keyout "$D/tls-key.pem" -out "$D/tls-cert.pem" 2> /dev/null
chmod 0644 "$D/tls-cert.pem"
$B/sts-collector keygen --signing-key "$D/receipt.key" > /dev/null
$B/sts-collector serve --listen 127.0.0.1:0 --port-file "$D/port" --tls-cert "$D/tls-cert.pem" \
	--tls-key "$D/tls-key.pem" --signing-key "$D/receipt.key" --db "$D/collector.db" \
	2> "$D/collector.err" &
pids+=($!)
$B/tests/bin/modem-sim --path-file "$D/modem.path" ok > /dev/null &
pids+=($!)
wait_for "$D/port" . && wait_for "$D/modem.path" . || { echo "50-footprint: collector or modem did not start" >&2; exit 1; }
port=$(cat "$D/port")
closed=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# A copy the agent's user can reach: the checkout may be in a directory it cannot enter (/root).
agent=$D/sts-agent
install -m 0755 "$B/sts-agent" "$agent"
dmi=$([ -r /sys/class/dmi/id/product_name ] && echo 1 || echo 0)

# device NAME COLLECTOR_PORT RETRY_INITIAL: a fresh device (state, policy, stsd.conf) in D/NAME.
device() {
	local d=$D/$1
	mkdir -p "$d"
	chmod 0755 "$d"
	cat > "$d/policy.conf" << POLICY
collector 127.0.0.1:$2
$(loader_rules)
allow-read /etc/os-release
allow-read $D/tls-cert.pem
$([ "$dmi" = 1 ] && echo "allow-read /sys/class/dmi/id/product_name")
state-dir $d/agent-state
POLICY
	cat > "$d/stsd.conf" << CONF
collector-host localhost
collector-addr 127.0.0.1:$2
collector-ca $D/tls-cert.pem
collector-key $D/receipt.key.pub
imei-source at:$(cat "$D/modem.path")
policy $d/policy.conf
state-dir $d/state
agent $agent
agent-user nobody
retry-initial $3
retry-max $3
$([ "$dmi" = 1 ] || echo "model Bench Phone")
CONF
}

# status_sum PID FIELD: FIELD of /proc/PID/status summed over every thread.
status_sum() {
	cat /proc/"$1"/task/*/status 2> /dev/null | awk -v f="$2:" '$1 == f { s += $2 } END { print s + 0 }'
}
rss_kib() { awk '$1 == "VmRSS:" { print $2 }' /proc/"$1"/status; }

# --- activations: CPU time (stsd and the agent it waits for), stsd's peak RSS ---
acts=$BENCH_ROUNDS
for ((i = 1; i <= acts; i++)); do
	echo "50-footprint: activation $i/$acts" >&2
	device "act$i" "$port" 60
	/usr/bin/time -o "$D/time.$i" -f "%e %U %S" \
		$B/stsd daemon --config "$D/act$i/stsd.conf" --once --observe -q 2> "$D/act$i/err" &
	tpid=$!
	spid=
	peak=0
	while kill -0 $tpid 2> /dev/null; do
		[ -n "$spid" ] || spid=$(pgrep -P $tpid || true)
		if [ -n "$spid" ]; then
			h=$(awk '$1 == "VmHWM:" { print $2 }' /proc/"$spid"/status 2> /dev/null || true)
			[ -n "$h" ] && [ "$h" -gt "$peak" ] && peak=$h
		fi
		sleep 0.01
	done
	if wait $tpid; then
		echo "$peak" >> "$D/act.peak"
		awk '{ printf "%.0f\n", ($2 + $3) * 1000 }' "$D/time.$i" >> "$D/act.cpu"
		awk '{ printf "%.0f\n", $1 * 1000 }' "$D/time.$i" >> "$D/act.wall"
	else
		echo "50-footprint: activation $i failed: $(tail -n 3 "$D/act$i/err")" >&2
	fi
done
stored=$($B/sts-collector list --db "$D/collector.db" --json 2> /dev/null | grep -o '"aid"' | wc -l)

# --- idle: a daemon waiting for its retry, and stsd run policing a sleeping process ---
device idle "$closed" 3600
$B/stsd daemon --config "$D/idle/stsd.conf" --observe -q 2> "$D/idle/err" &
dpid=$!
pids+=($dpid)
$B/stsd run --observe -q --user root --policy "$D/idle/policy.conf" --log "$D/run.log" \
	--log-key "$D/log.key" -- sleep 3600 2> "$D/run.err" &
rpid=$!
pids+=($rpid)
wait_for "$D/idle/err" 'next attempt in' 60 || echo "50-footprint: the daemon did not reach its wait: $(cat "$D/idle/err")" >&2
sleep 2
echo "50-footprint: idle, ${window} s" >&2
step=$((window / 4))
for p in $dpid $rpid; do
	echo $(($(status_sum $p voluntary_ctxt_switches) + $(status_sum $p nonvoluntary_ctxt_switches))) > "$D/cs.$p"
done
for ((k = 1; k <= 4; k++)); do
	sleep $step
	for p in $dpid $rpid; do
		now=$(($(status_sum $p voluntary_ctxt_switches) + $(status_sum $p nonvoluntary_ctxt_switches)))
		echo $(((now - $(tail -n 1 "$D/cs.$p")) * 60 / step)) >> "$D/wake.$p"
		echo "$now" >> "$D/cs.$p"
		rss_kib $p >> "$D/rss.$p"
		awk '$1 == "Pss:" { print $2 }' /proc/$p/smaps_rollup >> "$D/pss.$p"
		awk '$1 == "Anonymous:" { print $2 }' /proc/$p/smaps_rollup >> "$D/anon.$p"
	done
done
threads_d=$(ls /proc/$dpid/task | wc -l)
threads_r=$(ls /proc/$rpid/task | wc -l)

kib_mib() { awk '{ printf "%.2f\n", $1 / 1024 }' "$1" > "$1.mib"; median_minmax "$1.mib" 2; }
ms() { median_minmax "$1" 0; }
cat << HEAD
## 5. Footprint

### Binary sizes

| file | bytes | text | data | bss |
|---|---|---|---|---|
$(for f in "$B/stsd" "$B/sts-agent" "$B/stsctl" "$B/sts-collector"; do size "$f" | awk -v f="$f" -v s="$(stat -c %s "$f")" 'NR == 2 { printf "| %s | %d | %d | %d | %d |\n", f, s, $1, $2, $3 }'; done)
$(for f in "$B"/bpf/*.bpf.o; do echo "| $f | $(stat -c %s "$f") | | | |"; done)

(\`size FILE\`, \`stat -c %s FILE\`; the BPF objects are also embedded in stsd through their skeletons.)

### One whole activation

$acts activations, each a fresh device (state directory, device key), against one
sts-collector on loopback (TLS 1.3), the IMEI read from \`tests/bin/modem-sim ok\` over a pty;
host lane, so observe mode (files and exec observed, network and payload enforced).
CPU time is stsd's and the agent's (it waits for it): user + system from \`/usr/bin/time\`;
stsd's peak RSS is its VmHWM, sampled every 10 ms while it runs:

\`\`\`
$B/sts-collector serve --listen 127.0.0.1:0 --tls-cert tls-cert.pem --tls-key tls-key.pem --signing-key receipt.key --db collector.db
$B/tests/bin/modem-sim --path-file modem.path ok
/usr/bin/time -f "%e %U %S" $B/stsd daemon --config stsd.conf --once --observe -q
\`\`\`

| wall time, ms | CPU time (user + system), ms | stsd peak RSS (VmHWM), MiB | reports the collector stored |
|---|---|---|---|
| $(ms "$D/act.wall") | $(ms "$D/act.cpu") | $(kib_mib "$D/act.peak") | $stored of $acts |

### Idle

Two idle monitors at once, over the same ${window} s (4 windows of ${step} s; wake-ups are the
increase of voluntary + involuntary context switches summed over every thread of
\`/proc/PID/task/*/status\`, scaled to one minute): \`stsd daemon\` waiting for a retry
due in an hour (its collector did not answer), and \`stsd run\` with its programs loaded
policing a \`sleep\`, writing to an evidence log.

\`\`\`
$B/stsd daemon --config stsd.conf --observe -q          # retry-initial 3600, collector port closed
$B/stsd run --observe -q --user root --policy policy.conf --log run.log --log-key log.key -- sleep 3600
\`\`\`

| monitor | threads | wake-ups per minute | RSS (VmRSS), MiB | PSS, MiB | anonymous, MiB |
|---|---|---|---|---|---|
| stsd daemon, waiting | $threads_d | $(median_minmax "$D/wake.$dpid" 0) | $(kib_mib "$D/rss.$dpid") | $(kib_mib "$D/pss.$dpid") | $(kib_mib "$D/anon.$dpid") |
| stsd run, policing a sleeping process | $threads_r | $(median_minmax "$D/wake.$rpid" 0) | $(kib_mib "$D/rss.$rpid") | $(kib_mib "$D/pss.$rpid") | $(kib_mib "$D/anon.$rpid") |

RSS counts every resident page mapped, shared libraries included (libcrypto, libc: pages
shared with every other process using them); PSS divides shared pages among their users;
"anonymous" is stsd's own memory (heap, stack, BPF map mappings), from
\`/proc/PID/smaps_rollup\`.
HEAD
echo

# Targets: 0 wake-ups, RSS <= 4 MiB (idle; both monitors).
wmax=$(cat "$D/wake.$dpid" "$D/wake.$rpid" | sort -n | tail -n 1)
target "idle wake-ups" "0 per minute" "daemon $(median "$D/wake.$dpid"), stsd run $(median "$D/wake.$rpid") per minute (max $wmax)" "$([ "$wmax" = 0 ] && echo 1 || echo 0)"
rd=$(median "$D/rss.$dpid.mib") rr=$(median "$D/rss.$rpid.mib")
rmet=$(awk -v a="$rd" -v b="$rr" 'BEGIN { print (a <= 4 && b <= 4) ? 1 : 0 }')
target "idle RSS" "≤ 4 MiB" "daemon $rd MiB, stsd run $rr MiB" "$rmet"
if [ "$wmax" != 0 ]; then
	echo "Missed (wake-ups): where the idle monitors switch, \`perf record -e sched:sched_switch -g\`, 10 s:"
	echo
	echo '```'
	perf record -q -e sched:sched_switch -g -p "$dpid,$rpid" -o "$D/sw.data" -- sleep 10 > /dev/null 2>&1 &&
		perf report -i "$D/sw.data" --stdio --no-children --sort comm,symbol 2> /dev/null |
		grep -v '^#' | grep -v '^$' | head -n 25 || true
	echo '```'
	echo
fi
if [ "$rmet" = 0 ]; then
	echo "Missed (RSS): where the resident memory is, the largest mappings of each idle monitor (\`/proc/PID/smaps\`, Rss in KiB):"
	for p in $dpid $rpid; do
		echo
		echo '```'
		echo "$(tr '\0' ' ' < /proc/$p/cmdline | cut -c 1-60)...: $(grep -E '^(Rss|Anonymous|Private_Dirty)' /proc/$p/smaps_rollup | tr -s ' ' | tr '\n' ' ')"
		awk '/^[0-9a-f]+-[0-9a-f]+ / { name = $6 == "" ? "[anon]" : $6 } $1 == "Rss:" { rss[name] += $2 }
			END { for (n in rss) printf "%8d  %s\n", rss[n], n }' /proc/$p/smaps | sort -rn | head -n 12 || true
		echo '```'
	done
	echo
fi
