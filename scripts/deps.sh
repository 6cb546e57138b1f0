#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Install the Debian packages stsguard needs, only those that are missing. Run by `make deps`,
# and through it by `make demo`, `make check` and `make bench`, so that a fresh Debian 12 machine
# needs nothing else. `--bench` adds what `make bench` alone needs: the peers it measures against.
# `--check` installs nothing: it lists what is missing and exits 1 (what a plain `make` runs, so
# that building never calls apt-get behind the user's back).
# Why each package is here is written in README.md, "Dependencies".
# ARCH=arm64 (make deps ARCH=arm64) adds what the arm64 cross build and VM lane need.
set -euo pipefail

packages=(
	# build
	make gcc clang llvm pkg-config
	# BPF: library, skeleton generator, kernel headers for CO-RE helpers
	libbpf-dev bpftool libelf-dev zlib1g-dev
	# userspace libraries
	libssl-dev libevent-dev libsqlite3-dev libjansson-dev
	# stsd run: the seccomp filter on the policed command (and its user notifications)
	libseccomp-dev
	# stsd run: the policed command loses every capability (its bounding set), even as root
	libcap-ng-dev
	# stsd run: Landlock's refusals read from its audit records (libaudit: the audit status,
	# switching audit on and off for the run, the never,task rule)
	libaudit-dev
	# the collector's PostgreSQL backend (libpq), and a real PostgreSQL 15 server its tests
	# start in a temporary directory (initdb as an unprivileged user, unix socket only)
	libpq-dev postgresql-15
	# tests: io_uring attempts (rogue programs)
	liburing-dev
	# sanitizer and libFuzzer runtimes for clang
	libclang-rt-14-dev
	# VM lane: emulator, guest userland, initramfs packing, kernel unpacking
	qemu-system-x86 busybox-static cpio xz-utils zstd kmod
	# power-cut lane: the device's ext4 disk image (mkfs.ext4, e2fsck)
	e2fsprogs
	# tests: loopback setup, certificates for the TLS tests
	iproute2 openssl ca-certificates
	# the VM runner: ELF detection (file), shared-library lists (ldd), the kernel image (readelf)
	file binutils
	# tests: the HTML report's test renders it in a headless browser, prints it to PDF and
	# counts the pages (pdfinfo)
	chromium poppler-utils
	# man pages: scdoc builds them from man/*.scd; groff-base renders them in tests/unit/man.c
	scdoc groff-base
	# tests/unit/service.c: systemd-analyze verify/security, and systemd itself to run the units
	# (in namespaces of its own; installing the package does not make it the machine's init)
	systemd
)
# tests/unit/service.c: openrc-run and supervise-daemon for the OpenRC scripts. Installed beside
# any init (it only adds files), but it conflicts with sysv-rc and file-rc: never removed for it.
if ! dpkg-query -W -f='${db:Status-Status}' sysv-rc file-rc 2>/dev/null | grep -q installed; then
	packages+=(openrc)
fi
if [ "${ARCH:-x86}" = arm64 ]; then
	# The cross build: the aarch64 toolchain, and the :arm64 copy of every -dev library above
	# (the list above is the one place they are named), except libclang-rt (a host compiler's
	# runtime) and libevent-dev and libpq-dev, which are not Multi-Arch: same: their :arm64
	# runtime libraries instead (the Makefile links them; the headers are the native
	# package's). The VM lane: qemu-system-aarch64. The arm64 kernel and busybox are fetched into build/cache by
	# tests/vm/kernel.sh and tests/vm/run (apt-get download), not installed.
	arm64=(gcc-aarch64-linux-gnu qemu-system-arm libevent-2.1-7:arm64 libevent-openssl-2.1-7:arm64
		libpq5:arm64)
	for p in "${packages[@]}"; do
		case $p in
		libclang-rt-* | libevent-dev | libpq-dev) ;;
		lib*-dev | zlib1g-dev) arm64+=("$p:arm64") ;;
		esac
	done
	packages+=("${arm64[@]}")
fi
check_only=false
case "${1:-}" in
--check) check_only=true ;;
--bench | "") ;;
*) echo "usage: scripts/deps.sh [--check | --bench]" >&2; exit 2 ;;
esac
if [ "${1:-}" = --bench ]; then
	# benchmarks: peers measured in the same run (opensnoop, bpftrace, nginx), profiler
	packages+=(libbpf-tools bpftrace nginx-light linux-perf)
fi

# A package of both architectures (libbpf-dev and libbpf-dev:arm64) answers dpkg-query with
# a line each: the one of the architecture asked for (the machine's own without a suffix, or
# "all") must say installed.
native=$(dpkg --print-architecture)
missing=()
for p in "${packages[@]}"; do
	want=$native
	[[ $p == *:* ]] && want=${p#*:}
	dpkg-query -W -f='${Architecture} ${db:Status-Status}\n' "$p" 2>/dev/null |
		grep -E "^($want|all) installed$" >/dev/null || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi

if $check_only; then
	echo "make: missing Debian packages: ${missing[*]}" >&2
	echo "make: 'make deps' installs them (apt-get install, as root or with sudo)" >&2
	exit 1
fi

echo "deps: installing missing Debian packages: ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		SUDO=sudo
	else
		echo "deps: these packages are missing and this is not root: ${missing[*]}" >&2
		echo "deps: run 'make deps' as root, or install them with apt-get" >&2
		exit 1
	fi
else
	SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
if [ "${ARCH:-x86}" = arm64 ] && ! dpkg --print-foreign-architectures | grep -qx arm64; then
	# The :arm64 libraries come from Debian's arm64 package lists: multiarch.
	echo "deps: dpkg --add-architecture arm64"
	$SUDO dpkg --add-architecture arm64
fi
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
