#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# make demo: boot the VM lane's kernel (Debian 6.1, BPF LSM on) and run the demo inside it
# (scripts/demo-guest.sh): the kernel enforcing a policy, then a telemetry binary policed by
# stsd against a real collector, and the evidence log verified and explained by stsctl.
set -euo pipefail
# ARCH=arm64 (make demo ARCH=arm64): the same demo in the arm64 VM (tests/vm/run --arch arm64).
arch=${ARCH:-x86}
out=${OUT:-build}
[ "$arch" = arm64 ] && out=${OUT:-build/arm64}
cat <<'INTRO'
stsguard: make demo
  Boots Debian's 6.1 kernel in qemu (software emulation), with the BPF LSM enabled, and runs
  the demo inside it. The host kernel refuses BPF LSM programs, which is why the demo runs in
  a VM. The guest has no network device: only loopback. It takes a minute or two.
INTRO
# The collector's TLS certificate, made here (the guest has no openssl command).
mkdir -p "$out/demo"
if [ ! -f "$out/demo/tls-cert.pem" ]; then
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
		-subj /CN=collector.test -keyout "$out/demo/tls-key.pem" \
		-out "$out/demo/tls-cert.pem" 2>/dev/null
fi
# The vendor key tests/bin/tls-client signs its reports with (a fixed Ed25519 seed in
# tests/report_key.h): its public half, for the demo policy's report-key line. PKCS#8 wraps a
# raw Ed25519 seed behind this fixed 16-byte prefix (RFC 8410).
seed=$(sed -n '/test_report_seed/,/};/p' tests/report_key.h | grep -o '0x[0-9a-f][0-9a-f]' |
	sed 's/0x//' | tr -d '\n')
perl -e 'print pack("H*", $ARGV[0])' "302e020100300506032b657004220420$seed" |
	openssl pkey -inform DER -pubout -out "$out/demo/report-key.pub"
tests/vm/run --arch "$arch" --name demo --add "$out/demo" --add scripts/demo-guest.sh -- sh scripts/demo-guest.sh
