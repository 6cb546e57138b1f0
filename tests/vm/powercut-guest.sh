#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# One boot of the power-cut scenario, inside the VM (tests/vm/powercut.sh boots it, with
# tests/vm/run --disk IMAGE --net). Mounts the device's disk (ext4 replays its journal here
# after a cut), says what the previous boot left on it, runs `stsd daemon --once` (enforce
# mode) against the collector on the host, then checks what a finished activation must look
# like. The host may cut the power at any moment; "POWERCUT ..." lines on the console are what
# it watches.
#
# usage: sh tests/vm/powercut-guest.sh PORT PKI_DIR [cut-on-activated]
#   cut-on-activated: the guest cuts its own power (build/tests/bin/cut-on) the instant stsd,
#   having saved activation.json as activated, writes its next evidence record: a window too
#   short for the host to aim at.
set -u
port=$1
pki=$2
cut=${3:-}
mnt=/mnt/state
dev=$mnt/device
cfg=/tmp/powercut

mkdir -p $mnt $cfg
# commit=60: ext4 commits its journal on its own only after a minute, so what survives a cut
# is what the agent made durable itself (fsync), not what the 5 s default happened to commit.
mount -t ext4 -o commit=60 /dev/vda $mnt || { echo "POWERCUT mount failed"; exit 10; }
mkdir -p $dev
chmod 0755 $mnt

echo 490154203237518 > $cfg/imei
cat > $cfg/policy.conf <<POLICY
collector 10.0.2.2:$port
allow-read /etc/ld.so.cache
allow-read /lib64/ld-linux-x86-64.so.2
allow-read /lib/x86_64-linux-gnu/libssl.so.3
allow-read /lib/x86_64-linux-gnu/libcrypto.so.3
allow-read /lib/x86_64-linux-gnu/libc.so.6
allow-read /etc/os-release
allow-read /sys/class/dmi/id/product_name
allow-read $pki/tls-cert.pem
state-dir $mnt/agent
POLICY
cat > $cfg/stsd.conf <<CONF
collector-host collector.test
collector-addr 10.0.2.2:$port
collector-ca $pki/tls-cert.pem
collector-key $pki/receipt.key.pub
imei-source file:$cfg/imei
policy $cfg/policy.conf
state-dir $dev
agent /sts/build/sts-agent
agent-user stsagent
retry-initial 1
retry-max 2
CONF

# What the previous boot left, after the journal replay: the host classifies its cut by it.
state=$(cat $dev/activation.json 2>/dev/null || echo none)
has() {
	n=$(grep -c "\"type\":\"$1\"" $dev/evidence.log 2>/dev/null)
	echo "${n:-0}"
}
echo "POWERCUT before state=$state records=$(wc -l < $dev/evidence.log 2>/dev/null || echo 0)" \
	"approved=$(has report_approved) transmissions=$(has transmission) receipts=$(has receipt)"

watcher=
if [ "$cut" = cut-on-activated ]; then
	build/tests/bin/cut-on $dev activation.json '"activated":true' evidence.log &
	watcher=$!
	sleep 0.2
fi
echo "POWERCUT stsd-start"
build/stsd daemon --config $cfg/stsd.conf --once
rc=$?
[ -n "$watcher" ] && kill $watcher 2>/dev/null
echo "POWERCUT stsd-exit $rc"

fail=0
[ $rc -eq 0 ] || { echo "POWERCUT FAIL: stsd daemon --once exited with $rc"; fail=1; }
build/stsctl verify $dev/evidence.log --log-key $dev/log.key.pub ||
	{ echo "POWERCUT FAIL: stsctl verify"; fail=1; }
state=$(cat $dev/activation.json 2>/dev/null || echo none)
echo "POWERCUT after state=$state"
aid=$(echo "$state" | sed -n 's/.*"aid":"\([^"]*\)".*/\1/p')
case $state in
*'"activated":true'*) ;;
*) echo "POWERCUT FAIL: activation.json does not say activated"; fail=1 ;;
esac
# The state may only say activated once the verified receipt of that very aid is in the log.
n=$(grep '"type":"receipt"' $dev/evidence.log | grep '"status":"verified"' |
	grep -c "\"activation_id\":\"$aid\"")
[ -n "$aid" ] && [ "$n" -ge 1 ] ||
	{ echo "POWERCUT FAIL: no verified receipt for aid '$aid' in the evidence log"; fail=1; }
umount $mnt || { echo "POWERCUT FAIL: umount"; fail=1; }
echo "POWERCUT done $fail"
exit $fail
