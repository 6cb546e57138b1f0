#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# The demo, inside the VM (scripts/demo.sh boots it). Stage 1: the kernel enforcing a policy.
# Stage 2: a telemetry binary policed by stsd against a real collector, every decision in the
# evidence log, which stsctl then verifies and explains. Run from /sts (the repository layout).
set -u
# The build directory (build; build/arm64 for make demo ARCH=arm64: the guest's init sets OUT),
# and where this architecture's loader and libraries are (Debian's multiarch layout).
B=${OUT:-build}
case $(uname -m) in
aarch64) LDSO=/lib/ld-linux-aarch64.so.1 LIBDIR=/lib/aarch64-linux-gnu ;;
*) LDSO=/lib64/ld-linux-x86-64.so.2 LIBDIR=/lib/x86_64-linux-gnu ;;
esac
# The model: the device tree's on arm64 (a phone, or qemu's virt board), DMI's on x86.
MODEL=/sys/class/dmi/id/product_name
[ -r /sys/firmware/devicetree/base/model ] && MODEL=/sys/firmware/devicetree/base/model
D=/var/lib/stsguard
mkdir -p $D /tmp/demo
say() { printf '\n\033[1m%s\033[0m\n' "$*"; }
fail=0

$B/tests/bin/sts-demo || fail=1

say "stsguard demo, stage 2: policing telemetry code with stsd, and the evidence it leaves"
echo "A reference collector (sts-collector) listens on 127.0.0.1:8443 with TLS 1.3."
$B/sts-collector keygen --signing-key /tmp/demo/receipt.key >/dev/null || fail=1
$B/sts-collector serve --listen 127.0.0.1:8443 --tls-cert $B/demo/tls-cert.pem \
	--tls-key $B/demo/tls-key.pem --signing-key /tmp/demo/receipt.key \
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
allow-read $LDSO
allow-read-dir $LIBDIR
state-dir /tmp/demo/agent-state
tls-allowance 1024
# The vendor's key: a report is approved only if it verifies with it (or the device key).
report-key /sts/$B/demo/report-key.pub
POLICY
echo "The policy (/tmp/demo/policy.conf):"
grep -v '^#' /tmp/demo/policy.conf | sed 's/^/    /'
# What stsd compares each claim with: the device's own values (the demo device is the one the
# test programs describe, tests/report_key.h), read by the monitor, not by the policed code.
mkdir -p /tmp/demo/device
echo 490154203237518 > /tmp/demo/device/imei
cat > /tmp/demo/device.conf <<CONF
collector-host collector.test
collector-ca /sts/$B/demo/tls-cert.pem
collector-key /dev/null
imei-source file:/tmp/demo/device/imei
model Wiko View
sw-version 1.2.3
state-dir /tmp/demo/device
CONF
echo "The device's values stsd compares the report with (stsd run --config /tmp/demo/device.conf):"
sed 's/^/    /' /tmp/demo/device.conf

run() { # run EXPECTED_STATUS DESCRIPTION CMD...
	expect=$1 desc=$2
	shift 2
	say "$desc"
	echo "  \$ stsd run --log $D/evidence.log -- $*"
	$B/stsd run --policy /tmp/demo/policy.conf --config /tmp/demo/device.conf \
		--log $D/evidence.log --log-key $D/log.key --user root -- "$@"
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

n=$($B/sts-collector list --db /tmp/demo/collector.db --json 2>/dev/null | grep -o '"aid"' | wc -l)
say "What the collector stored (sts-collector list): exactly one activation"
$B/sts-collector list --db /tmp/demo/collector.db
[ "$n" = 1 ] || { echo "UNEXPECTED: $n activations stored"; fail=1; }
kill -TERM $collector
wait $collector 2>/dev/null

say "The auditor's view: stsctl verify checks the evidence log's chain, tree and signatures"
echo "  \$ stsctl verify $D/evidence.log --log-key $D/log.key.pub"
$B/stsctl verify $D/evidence.log --log-key $D/log.key.pub || fail=1
say "... and stsctl report says, in plain words, what left the device and what was blocked"
echo "  \$ stsctl report $D/evidence.log"
$B/stsctl report $D/evidence.log --log-key $D/log.key.pub || fail=1

say "stsguard demo, stage 3: the activation agent, stsd daemon: once, and never again"
echo "A fresh collector database; a modem simulator on a pty answers AT+CGSN."
$B/sts-collector serve --listen 127.0.0.1:8443 --tls-cert $B/demo/tls-cert.pem \
	--tls-key $B/demo/tls-key.pem --signing-key /tmp/demo/receipt.key \
	--db /tmp/demo/device.db 2>/tmp/demo/collector3.err &
collector=$!
$B/tests/bin/modem-sim --path-file /tmp/demo/modem.path ok &
modem=$!
for i in 1 2 3 4 5 6 7 8 9 10; do
	grep -q listening /tmp/demo/collector3.err 2>/dev/null && [ -s /tmp/demo/modem.path ] && break
	sleep 0.5
done
DEV=/var/lib/stsguard/device
mkdir -p /etc/stsguard $DEV
cat > /etc/stsguard/policy.conf <<POLICY
# What the agent needs, and nothing more (see policy/default.conf for a phone).
collector 127.0.0.1:8443
allow-read /etc/ld.so.cache
allow-read $LDSO
allow-read $LIBDIR/libssl.so.3
allow-read $LIBDIR/libcrypto.so.3
allow-read $LIBDIR/libc.so.6
allow-read /etc/os-release
allow-read $MODEL
allow-read /sts/$B/demo/tls-cert.pem
state-dir /var/lib/stsguard/agent
POLICY
cat > /etc/stsguard/stsd.conf <<CONF
collector-host collector.test
collector-addr 127.0.0.1:8443
collector-ca /sts/$B/demo/tls-cert.pem
collector-key /tmp/demo/receipt.key.pub
imei-source at:$(cat /tmp/demo/modem.path)
state-dir $DEV
agent /sts/$B/sts-agent
agent-user stsagent
CONF
echo "The monitor's configuration (/etc/stsguard/stsd.conf):"
sed 's/^/    /' /etc/stsguard/stsd.conf
say "The user consents to sending the country:"
echo "  \$ stsctl consent grant --country FR"
$B/stsctl consent grant --country FR --state-dir $DEV || fail=1

say "First start: the monitor reads the IMEI from the modem, signs the report, and the"
say "unprivileged agent sends it from inside the policed cgroup; the receipt is verified."
echo "  \$ stsd daemon --once"
$B/stsd daemon --once || fail=1
say "Second start: nothing is sent, ever again."
echo "  \$ stsd daemon --once"
$B/stsd daemon --once || fail=1
say "What the collector stored: one activation, with the country the user consented to"
$B/sts-collector list --db /tmp/demo/device.db
n=$($B/sts-collector list --db /tmp/demo/device.db --json 2>/dev/null | grep -o '"aid"' | wc -l)
[ "$n" = 1 ] || { echo "UNEXPECTED: $n activations stored"; fail=1; }
kill -TERM $collector $modem
wait $collector 2>/dev/null
say "The device's evidence log, for the auditor:"
echo "  \$ stsctl verify $DEV/evidence.log --log-key $DEV/log.key.pub"
$B/stsctl verify $DEV/evidence.log --log-key $DEV/log.key.pub || fail=1
echo "  \$ stsctl report $DEV/evidence.log   (what left the device)"
$B/stsctl report $DEV/evidence.log --log-key $DEV/log.key.pub | sed -n '/What left the device/,/What was blocked/p'

if [ $fail -eq 0 ]; then
	say "demo: every step went as expected"
else
	say "demo: UNEXPECTED RESULTS above"
fi
exit $fail
