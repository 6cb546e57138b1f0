#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Part 3: the ring buffer. bench/event-gen, inside the policed cgroup, makes the kernel emit one
# event per call (a refused connect) at a fixed rate for a few seconds, with the monitor writing
# every event to the evidence log; we count the records that reached the log, and the
# lost-event counter (the programs' lost_events, summed by the monitor into its stop record
# and, when not zero, a lost_events record of the log). The highest rate with nothing lost in
# every round is the answer; beyond it, the counter.
set -euo pipefail
. bench/common.sh
part_init ringbuf
if [ "$BENCH_QUICK" = 1 ]; then secs=1 rounds=$BENCH_ROUNDS; else secs=3 rounds=$((BENCH_ROUNDS < 3 ? BENCH_ROUNDS : 3)); fi
RATES="1000 2000 3000 5000 7000 10000 20000 50000 0"
cat > "$D/policy.conf" << POLICY
collector 127.0.0.1:9
$(loader_rules)
state-dir $D/state
POLICY
STSD="$B/stsd run --observe -q --user root --policy $D/policy.conf --log $D/ev.log --log-key $D/log.key --events $D/events.jsonl --"
GEN="$B/bench/event-gen 127.0.0.1:80"
SHOW="$B/stsd run --observe -q --user root --policy policy.conf --log ev.log --log-key log.key --events events.jsonl --"

for ((r = 1; r <= rounds; r++)); do
	echo "30-ringbuf: round $r/$rounds" >&2
	for rate in $RATES; do
		rm -f "$D/ev.log" "$D/events.jsonl"
		out=$($STSD $GEN "$rate" "$secs" 2> /dev/null) || { echo "30-ringbuf: rate $rate failed" >&2; continue; }
		sent=$(awk '{ print $2 }' <<< "$out")
		el=$(awk '{ print $4 }' <<< "$out")
		lost=$(grep '"type":"stop"' "$D/events.jsonl" | sed 's/.*"lost_events":\([0-9]*\).*/\1/')
		# The refused connects that reached the evidence log, once the log verifies.
		if $B/stsctl verify "$D/ev.log" --log-key "$D/log.key.pub" > "$D/verify.out" 2>&1; then
			inlog=$(grep -c '"type":"net_deny"' "$D/ev.log" || true)
		else
			echo "30-ringbuf: the log does not verify: $(cat "$D/verify.out")" >&2
			inlog=0
		fi
		echo "$r $rate $sent $el $inlog $lost" >> "$D/results"
	done
done

cat << HEAD
## 3. Ring buffer: the highest event rate that reaches the log with nothing lost

\`build/bench/event-gen\`, inside the policed cgroup, calls connect() on an address the
policy does not name at a fixed rate for $secs s; the cgroup connect hook refuses each call and
emits one event into the ring buffer; the monitor appends each to the evidence log (hash
chain, signed checkpoints), whose \`net_deny\` records are counted once \`stsctl verify\`
accepts the log. "lost" is the programs' lost-event counter (a failed ring-buffer reserve),
as the monitor reports it in its stop record (and logs as a \`lost_events\` record, and says
on stderr: "N kernel events were lost (ring buffer full)"). Rate 0 = as fast as the
generator can. $rounds rounds of the whole sweep; medians (min–max):

policy.conf:

\`\`\`
$(sed "s|$D|TMP|" "$D/policy.conf")
\`\`\`

\`\`\`
$SHOW $GEN RATE $secs
$B/stsctl verify ev.log --log-key log.key.pub; grep -c '"type":"net_deny"' ev.log
\`\`\`

| asked, events/s | generated, events/s | events generated | in the log | lost | rounds with nothing lost |
|---|---|---|---|---|---|
HEAD
best=0 stop=0
for rate in $RATES; do
	awk -v q="$rate" '$2 == q' "$D/results" > "$D/r.$rate"
	[ -s "$D/r.$rate" ] || continue
	awk '{ printf "%.0f\n", $3 / $4 }' "$D/r.$rate" > "$D/gen"
	awk '{ print $3 }' "$D/r.$rate" > "$D/sent"
	awk '{ print $5 }' "$D/r.$rate" > "$D/inlog"
	awk '{ print $6 }' "$D/r.$rate" > "$D/lost"
	n=$(wc -l < "$D/r.$rate")
	ok=$(awk '$6 == 0 && $5 == $3' "$D/r.$rate" | wc -l)
	# The answer: the highest rate below which every rate lost nothing in every round.
	if [ "$ok" = "$n" ] && [ "$rate" != 0 ] && [ $stop = 0 ]; then best=$rate; else stop=1; fi
	echo "| $([ "$rate" = 0 ] && echo "unpaced" || echo "$rate") | $(median_minmax "$D/gen" 0) | $(median_minmax "$D/sent" 0) | $(median_minmax "$D/inlog" 0) | $(median_minmax "$D/lost" 0) | $ok of $n |"
done
echo
echo "Highest rate with every event in the log and nothing lost, in every round (and at every lower rate): **$best events/s** (over $secs s; the ring buffer absorbs a shorter burst). Beyond it the counter counts what the ring buffer could not take, and the log says how many were lost."
echo
echo "Where the monitor's time goes at the unpaced rate (the generator and stsd only):"
rm -f "$D/ev.log" "$D/events.jsonl"
PROFILE_ALL=1 PROFILE_COMMS=stsd,event-gen profile "monitor draining the ring buffer into the log" $STSD $GEN 0 "$secs"
