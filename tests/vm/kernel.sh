#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# kernel.sh: make sure Debian's VM-lane kernel is unpacked in the cache and print its
# directory (which holds boot/vmlinuz-*, boot/config-*, lib/modules/*/ and vmlinux, the
# uncompressed ELF image whose .BTF section generates vmlinux.h).
#
# The kernel is Debian's linux-image-6.1.0-<N>-amd64 (the oldest kernel stsguard supports):
# STS_VM_KERNEL=linux-image-6.1.0-56-amd64 picks one; by default it is the one Debian's
# linux-image-amd64 metapackage points at today. Only Debian's archive is ever used.
set -euo pipefail

cache=${STS_VM_CACHE:-build/cache/kernel}
pkg=${STS_VM_KERNEL:-}

if [ -z "$pkg" ]; then
	pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-6\.1\./ { print $2; exit }')
	if [ -z "$pkg" ]; then
		# Package lists not fetched yet on a fresh machine.
		apt-get update -q >&2 || true
		pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-6\.1\./ { print $2; exit }')
	fi
	if [ -z "$pkg" ]; then
		# Offline with lists gone: reuse whatever kernel the cache already holds.
		pkg=$(ls -1 "$cache" 2>/dev/null | grep '^linux-image-6\.1\.' | sort -V | tail -n 1 || true)
	fi
	[ -n "$pkg" ] || { echo "kernel.sh: cannot find Debian's linux-image-6.1 package (apt-cache depends linux-image-amd64)" >&2; exit 1; }
fi

dir=$cache/$pkg
if [ ! -e "$dir/.complete" ]; then
	echo "kernel.sh: fetching $pkg from Debian's archive" >&2
	rm -rf "$dir" && mkdir -p "$dir/deb"
	(cd "$dir/deb" && apt-get download -o APT::Sandbox::User=root "$pkg" >&2)
	dpkg-deb -x "$dir"/deb/*.deb "$dir"
	rm -rf "$dir/deb"
	vmlinuz=$(ls "$dir"/boot/vmlinuz-*)
	# bzImage carries an xz-compressed ELF vmlinux after the setup code; find the xz magic
	# (FD 37 7A 58 5A 00) and decompress from there. xz stops at the end of its stream.
	off=$(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$vmlinuz" | head -n 1 | cut -d: -f1)
	[ -n "$off" ] || { echo "kernel.sh: no xz stream in $vmlinuz (not an xz-compressed kernel?)" >&2; exit 1; }
	tail -c +$((off + 1)) "$vmlinuz" | xz -dc 2>/dev/null > "$dir/vmlinux" || true
	# grep without -q reads to the end: with -q it may exit first, readelf then dies of
	# SIGPIPE and pipefail turns a kernel that has BTF into one that has not.
	if ! readelf -S "$dir/vmlinux" 2>/dev/null | grep '\.BTF ' >/dev/null; then
		echo "kernel.sh: $dir/vmlinux has no .BTF section" >&2
		exit 1
	fi
	touch "$dir/.complete"
fi
echo "$dir"
