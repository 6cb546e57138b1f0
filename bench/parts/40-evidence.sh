#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Part 4, the evidence log: records appended per second (non-durable, and durable with the
# default checkpoint policy), records verified per second, next to `openssl speed -evp sha256`
# at the same record size in the same run (the hashing limit); inclusion-proof size and
# verify time at 10^6 records. Rounds interleave: hash, append, append durable, verify, ...
set -euo pipefail
cd "$(dirname "$0")/../.."
. bench/common.sh

ev=$OUT/bench/evbench
ctl=$OUT/stsctl
d=$BENCH_TMP/evidence
mkdir -p "$d"
n=300000
[ "$BENCH_QUICK" = 1 ] && n=100000
big=1000000
targets=$BENCH_TMP/targets.tsv

$ev key "$d" >&2
# One warm-up round sets the record size for openssl speed.
bytes=$($ev append "$d/warm.log" "$d/log.key" 10000 | awk '$1 == "mean_line_bytes" { print $2 }')
rm -f "$d/warm.log"

for r in $(seq 1 "$BENCH_ROUNDS"); do
	echo "evidence: round $r/$BENCH_ROUNDS" >&2
	# openssl speed -mr: "+F:<n>:sha256:<bytes per second at that size>"
	openssl speed -evp sha256 -bytes "$bytes" -seconds 1 -mr 2>/dev/null |
		awk -F: -v b="$bytes" '$1 == "+F" { printf "%.0f\n", $4 / b }' >> "$d/sha.txt"
	$ev append "$d/nd.log" "$d/log.key" $n | awk '$1 == "records_per_s" { print $2 }' >> "$d/append.txt"
	$ev write "$d/w.out" $n $((bytes + 1)) | awk '$1 == "writes_per_s" { print $2 }' >> "$d/write.txt"
	$ev append "$d/du.log" "$d/log.key" $n --durable |
		awk '$1 == "records_per_s" { print $2 }' >> "$d/durable.txt"
	$ev verify "$d/du.log" "$d/log.pub" > "$d/v.out"
	awk '$1 == "records_per_s" { print $2 }' "$d/v.out" >> "$d/verify.txt"
	awk '$1 == "records_per_cpu_s" { print $2 }' "$d/v.out" >> "$d/verifycpu.txt"
	$ev verify "$d/du.log" "$d/log.pub" --threads 1 > "$d/v1.out"
	awk '$1 == "records_per_s" { print $2 }' "$d/v1.out" >> "$d/verify1.txt"
	awk '$1 == "records_per_cpu_s" { print $2 }' "$d/v1.out" >> "$d/verify1cpu.txt"
done

# Ratio of verify to the raw hash rate, paired per round.
paste "$d/verify.txt" "$d/sha.txt" | awk '{ printf "%.1f\n", 100 * $1 / $2 }' > "$d/ratio.txt"
paste "$d/verify1.txt" "$d/sha.txt" | awk '{ printf "%.1f\n", 100 * $1 / $2 }' > "$d/ratio1.txt"
# openssl speed counts user CPU time, verify the wall clock: on a busy machine the wall ratio
# falls with the load. The same ratio per CPU second does not (the cores' share of the work).
ncpu=$(nproc)
paste "$d/verifycpu.txt" "$d/sha.txt" |
	awk -v n="$ncpu" '{ printf "%.1f\n", 100 * n * $1 / $2 }' > "$d/ratiocpu.txt"
paste "$d/verify1cpu.txt" "$d/sha.txt" | awk '{ printf "%.1f\n", 100 * $1 / $2 }' > "$d/ratio1cpu.txt"

# 10^6 records, the default checkpoint policy; a record from the middle.
echo "evidence: $big records for the proof" >&2
$ev append "$d/big.log" "$d/log.key" $big --durable > /dev/null
t0=$(date +%s.%N)
$ctl prove "$d/big.log" $((big / 2)) -o "$d/proof.txt" >&2
prove_s=$(echo "$(date +%s.%N) - $t0" | bc)
proof_bytes=$(stat -c %s "$d/proof.txt")
proof_hashes=$(awk '/^index /{ p = 1; next } p && /^$/ { exit } p { n++ } END { print n }' "$d/proof.txt")
for r in $(seq 1 "$BENCH_ROUNDS"); do
	t0=$(date +%s%N)
	$ctl verify-proof "$d/proof.txt" --log-key "$d/log.pub" > /dev/null
	echo "scale=2; ($(date +%s%N) - $t0) / 1000000" | bc >> "$d/vproof.txt"
done

# SHA-256 compressions (64-byte blocks, 9 bytes of padding at least): one raw hash of a record,
# against what format 2 verification needs per record: the leaf hash (one more byte), which
# is also the next line's prev, and about one interior node (65 bytes: 2 blocks).
raw_blocks=$(((bytes + 9 + 63) / 64))
ver_blocks=$(((bytes + 10 + 63) / 64 + 2))
ceiling=$(awk -v a=$raw_blocks -v b=$ver_blocks 'BEGIN { printf "%.0f", 100 * a / b }')

app=$(median "$d/append.txt")
ratio=$(median "$d/ratio.txt")
met() { awk -v a="$1" -v b="$2" 'BEGIN { print (a >= b) ? "met" : "missed" }'; }
app_met=$(met "$app" 500000)
ratio_met=$(met "$ratio" 100)
printf 'evidence append non-durable\t>= 500000 records/s\t%.0f records/s\t%s\n' "$app" "$app_met" >> "$targets"
printf 'evidence verify (all cores) vs raw SHA-256 (one core)\t>= 100%%\t%s%%\t%s\n' "$ratio" "$ratio_met" >> "$targets"

# A short profile of each missed target, so that the next run says where the time goes.
profile() { # title, command...
	local title=$1 data=$d/perf.data
	shift
	perf record -q -g -o "$data" -- "$@" > /dev/null 2>&1 || return 0
	perf report -i "$data" --no-children --sort dso --stdio -g none 2> /dev/null > "$d/perf.dso" || true
	perf report -i "$data" --no-children --sort dso,sym --stdio -g none 2> /dev/null > "$d/perf.sym" || true
	echo
	echo "Profile, $title (\`perf record -g -- ${*//$d\//}\`, self time):"
	echo
	echo '```'
	grep -E '^ +[0-9]' "$d/perf.dso" | head -n 6 | sed 's/ \+$//' || true
	echo
	grep -E '^ +[0-9]' "$d/perf.sym" | head -n 14 | sed 's/ \+$//' || true
	echo '```'
}

cat <<EOF
## 4. Evidence log

Records are \`file_allow\` lines of $bytes bytes on average (the monitor's commonest record),
appended to a fresh log on $(df --output=fstype "$d" | tail -n 1) by \`evlog_append()\` with the fields object built
once (the log's cost, not the caller's). *Non-durable*: no checkpoint within the loop, each
record one \`write(2)\` before \`evlog_append()\` returns (so that a \`kill -9\` loses
nothing), which bounds it by the kernel's cost per call: *bare write(2)* is that call alone, in
a loop, at the record's size; *durable*: the default policy, a signed checkpoint and \`fdatasync\`
every 1000 records plus the final one, all timed. *Verify*: \`evv_verify()\` (what
\`stsctl verify\` runs) over the durable log, file already in the page cache, on every core
(windows of lines split, parsed, hashed and checked in parallel, only the links between
windows and the checkpoints in order) and on one. *Raw SHA-256*:
\`openssl speed -evp sha256 -bytes $bytes -seconds 1\`, one hash per record, one core. Format 2
hashes every line once (its Merkle leaf, which is also the next line's \`prev\`) plus about one
interior node: $ver_blocks SHA-256 block compressions per record against $raw_blocks for one raw hash,
so one core hashing one message at a time would reach about $ceiling% of the raw rate. Where
the CPU has the SHA extensions, verify hashes two lines (and two tree nodes) at a time, which
fills the round instruction's pipeline that one message leaves half idle; the parsing (the
writer's own form read at fixed places), the hashing and the checks within a window are
shared by the cores, only what links the windows runs in order.
$BENCH_ROUNDS interleaved rounds of $n records each.

| measure | median (min–max) | target |
|---|---|---|
| append, non-durable | $(median_minmax "$d/append.txt" 0) records/s | ≥ 500,000: **$app_met** |
| bare \`write(2)\` of $((bytes + 1)) bytes, nothing else (the bound of one call per record) | $(median_minmax "$d/write.txt" 0) calls/s | |
| append, durable (checkpoint + fdatasync every 1000) | $(median_minmax "$d/durable.txt" 0) records/s | |
| verify, all cores | $(median_minmax "$d/verify.txt" 0) records/s | |
| verify, one thread | $(median_minmax "$d/verify1.txt" 0) records/s | |
| verify, all cores, per CPU second (the work, whatever else runs) | $(median_minmax "$d/verifycpu.txt" 0) records/s | |
| raw SHA-256 at $bytes bytes (openssl speed) | $(median_minmax "$d/sha.txt" 0) hashes/s | |
| verify (all cores) / raw SHA-256 (one core), per round | $(median_minmax "$d/ratio.txt" 1) % | ≥ 100%: **$ratio_met** |
| verify (one thread) / raw SHA-256 (one core), per round | $(median_minmax "$d/ratio1.txt" 1) % | |
| the same per CPU second: verify (all cores, per CPU second × $ncpu cores) / raw SHA-256 | $(median_minmax "$d/ratiocpu.txt" 1) % | (what idle cores would give; load average at the end: $(cut -d' ' -f1 /proc/loadavg)) |
| the same per CPU second: verify (one thread) / raw SHA-256 | $(median_minmax "$d/ratio1cpu.txt" 1) % | |

At $big records (default checkpoint policy), record $((big / 2)) proved against the last
checkpoint: the proof (\`stsctl prove\`, C2SP tlog-proof with the record and the signed note)
is $proof_bytes bytes with $proof_hashes hashes; writing it took $(printf '%.1f' "$prove_s") s (it verifies the
whole log first); \`stsctl verify-proof\` takes $(median_minmax "$d/vproof.txt" 1) ms, process
start included ($BENCH_ROUNDS runs).

Commands:

\`\`\`
$ev key DIR
$ev append LOG DIR/log.key $n            # non-durable
$ev append LOG DIR/log.key $n --durable  # default checkpoint policy
$ev write FILE $n $((bytes + 1))      # bare write(2)
$ev verify LOG DIR/log.pub
$ev verify LOG DIR/log.pub --threads 1
openssl speed -evp sha256 -bytes $bytes -seconds 1 -mr
$ctl prove BIG.log $((big / 2)) -o proof.txt
$ctl verify-proof proof.txt --log-key DIR/log.pub
\`\`\`
EOF
[ "$app_met" = met ] || profile "append, non-durable" $ev append "$d/p.log" "$d/log.key" $n
[ "$ratio_met" = met ] || profile "verify" $ev verify "$d/du.log" "$d/log.pub"
echo
