#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# The demo, inside the VM (scripts/demo.sh boots it). Stage 1: the kernel enforcing a policy.
# Stage 2: a telemetry binary policed by stsd against a real collector, every decision in the
# evidence log, which stsctl then verifies and explains. Run from /sts (the repository layout).
set -u
B=build
D=/var/lib/stsguard
mkdir -p $D /tmp/demo
say() { printf '\n\033[1m%s\033[0m\n' "$*"; }
fail=0

$B/tests/bin/sts-demo || fail=1

say "stsguard demo, stage 2: policing telemetry code with stsd, and the evidence it leaves"
echo "A reference collector (sts-collector) listens on 127.0.0.1:8443 with TLS 1.3."
$B/sts-collector keygen --signing-key /tmp/demo/receipt.key >/dev/null || fail=1
$B/sts-collector serve --listen 127.0.0.1:8443 --tls-cert build/demo/tls-cert.pem \
	--tls-key build/demo/tls-key.pem --signing-key /tmp/demo/receipt.key \
	--db /tmp/demo/collector.db 2>/tmp/demo/collector.err &
collector=$!
for i in 1 2 3 4 5 6 7 8 9 10; do
	grep -q listening /tmp/demo/collector.err 2>/dev/null && break
	sleep 0.5
done

cat > /tmp/demo/policy.conf <<POLICY
# The policed code may reach the collector, and read what the dynamic loader needs.
collector 127.0.0.1:8443
allow-read /etc/ld.so.cache
allow-read /lib64/ld-linux-x86-64.so.2
allow-read-dir /lib/x86_64-linux-gnu
state-dir /tmp/demo/agent-state
tls-allowance 8192
POLICY
echo "The policy (/tmp/demo/policy.conf):"
grep -v '^#' /tmp/demo/policy.conf | sed 's/^/    /'

run() { # run EXPECTED_STATUS DESCRIPTION CMD...
	expect=$1 desc=$2
	shift 2
	say "$desc"
	echo "  \$ stsd run --log $D/evidence.log -- $*"
	build/stsd run --policy /tmp/demo/policy.conf --log $D/evidence.log \
		--log-key $D/log.key --user root -- "$@"
	st=$?
	echo "  -> exit status $st"
	[ "$st" = "$expect" ] || { echo "  UNEXPECTED (wanted $expect)"; fail=1; }
}

run 0 "1. The approved activation report (IMEI, model, software version), signed, over TLS:" \
	$B/tests/bin/tls-client 8443 report
run 137 "2. The same report with the serial number added, as the 2017 STS did:" \
	$B/tests/bin/tls-client 8443 extra-claim
run 137 "3. ... and with the serving cell id:" $B/tests/bin/tls-client 8443 cell-id
run 3 "4. The report in clear-text HTTP to the collector's port:" \
	$B/tests/bin/tls-client 8443 cleartext
run 3 "5. A TLS stack the payload check cannot see (OpenSSL linked in statically):" \
	$B/tests/bin/tls-client-static 8443 report
run 101 "6. A DNS query (the 2017 STS looked its server up):" $B/tests/bin/rogue udp 127.0.0.53 53
run 101 "7. Connecting to another server (a legacy telemetry endpoint):" \
	$B/tests/bin/rogue connect4 80
run 101 "8. Reading a file outside the policy:" $B/tests/bin/rogue open /etc/passwd
run 101 "9. Starting a shell:" $B/tests/bin/rogue exec /bin/sh -c id

kill -TERM $collector
wait $collector 2>/dev/null
say "What the collector stored (sts-collector list): exactly one activation"
$B/sts-collector list --db /tmp/demo/collector.db
n=$($B/sts-collector list --db /tmp/demo/collector.db --json 2>/dev/null | grep -o '"aid"' | wc -l)
[ "$n" = 1 ] || { echo "UNEXPECTED: $n activations stored"; fail=1; }

say "The auditor's view: stsctl verify checks the evidence log's chain, tree and signatures"
echo "  \$ stsctl verify $D/evidence.log --log-key $D/log.key.pub"
$B/stsctl verify $D/evidence.log --log-key $D/log.key.pub || fail=1
say "... and stsctl report says, in plain words, what left the device and what was blocked"
echo "  \$ stsctl report $D/evidence.log"
$B/stsctl report $D/evidence.log --log-key $D/log.key.pub || fail=1

if [ $fail -eq 0 ]; then
	say "demo: every step went as expected"
else
	say "demo: UNEXPECTED RESULTS above"
fi
exit $fail
