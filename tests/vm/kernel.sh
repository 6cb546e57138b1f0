#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# kernel.sh: make sure Debian's VM-lane kernel is unpacked in the cache and print its
# directory (which holds boot/vmlinuz-*, boot/config-*, lib/modules/*/ and vmlinux, the
# uncompressed ELF image whose .BTF section generates vmlinux.h; on arm64, vmlinux.btf, the
# raw BTF cut out of the Image).
#
# The kernel is Debian's linux-image-6.1.0-<N>-amd64 (the oldest kernel stsguard supports):
# STS_VM_KERNEL=linux-image-6.1.0-56-amd64 picks one; by default it is the one Debian's
# linux-image-amd64 metapackage points at today. Only Debian's archive is ever used.
# STS_VM_ARCH=arm64 (tests/vm/run --arch arm64, make vmlinux ARCH=arm64): Debian 12's
# linux-image-6.12.<N>+deb12-arm64 (what linux-image-6.12-arm64 points at), fetched the same
# way. Not 6.1: arm64 gained ftrace direct calls (DYNAMIC_FTRACE_WITH_DIRECT_CALLS) in 6.4,
# and without them the kernel cannot attach a BPF trampoline to a kernel function, so every
# BPF LSM program fails to attach with ENOTSUPP (524) on Debian's arm64 6.1, though "bpf" is
# in its active LSMs. 6.12 is the oldest Debian kernel that enforces on arm64.
set -euo pipefail

cache=${STS_VM_CACHE:-build/cache/kernel}
pkg=${STS_VM_KERNEL:-}
case ${STS_VM_ARCH:-x86} in
x86) dpkg_arch=amd64 meta=linux-image-amd64 series='6\.1\.' ;;
arm64) dpkg_arch=arm64 meta=linux-image-6.12-arm64 series='6\.12\.' ;;
*) echo "kernel.sh: no VM kernel for architecture '$STS_VM_ARCH' (x86, arm64)" >&2; exit 1 ;;
esac
meta=$meta:$dpkg_arch

if [ -z "$pkg" ]; then
	pkg=$(apt-cache depends "$meta" 2>/dev/null | awk -v re="Depends: linux-image-$series" '$0 ~ re { sub(/:.*/, "", $2); print $2; exit }')
	if [ -z "$pkg" ]; then
		# Package lists not fetched yet on a fresh machine.
		apt-get update -q >&2 || true
		pkg=$(apt-cache depends "$meta" 2>/dev/null | awk -v re="Depends: linux-image-$series" '$0 ~ re { sub(/:.*/, "", $2); print $2; exit }')
	fi
	if [ -z "$pkg" ]; then
		# Offline with lists gone: reuse whatever kernel the cache already holds.
		pkg=$(ls -1 "$cache" 2>/dev/null | grep "^linux-image-$series.*-$dpkg_arch\$" | sort -V | tail -n 1 || true)
	fi
	[ -n "$pkg" ] || { echo "kernel.sh: cannot find Debian's kernel package (apt-cache depends $meta; for arm64: dpkg --add-architecture arm64 && apt-get update, or make deps ARCH=arm64)" >&2; exit 1; }
fi

dir=$cache/$pkg
if [ ! -e "$dir/.complete" ]; then
	echo "kernel.sh: fetching $pkg from Debian's archive" >&2
	rm -rf "$dir" && mkdir -p "$dir/deb"
	(cd "$dir/deb" && apt-get download -o APT::Sandbox::User=root "$pkg:$dpkg_arch" >&2)
	dpkg-deb -x "$dir"/deb/*.deb "$dir"
	rm -rf "$dir/deb"
	vmlinuz=$(ls "$dir"/boot/vmlinuz-*)
	if [ "$dpkg_arch" = arm64 ]; then
		# arm64's vmlinuz is the raw Image qemu boots, not an ELF: no .BTF section to read. The
		# BTF blob is in it all the same; find its header (magic 0xeB9F, version 1, flags 0,
		# hdr_len 24, type_off 0) and cut hdr_len + str_off + str_len bytes into vmlinux.btf,
		# a raw BTF file, which bpftool reads as well as an ELF's section.
		off=$(LC_ALL=C grep -obUaP '\x9f\xeb\x01\x00\x18\x00\x00\x00\x00\x00\x00\x00' "$vmlinuz" | head -n 1 | cut -d: -f1)
		[ -n "$off" ] || { echo "kernel.sh: no BTF header in $vmlinuz" >&2; exit 1; }
		read -r _ str_off str_len < <(od -An -tu4 -j $((off + 12)) -N 12 "$vmlinuz")
		tail -c +$((off + 1)) "$vmlinuz" | head -c $((24 + str_off + str_len)) > "$dir/vmlinux.btf" || true
		bpftool btf dump file "$dir/vmlinux.btf" >/dev/null ||
			{ echo "kernel.sh: $dir/vmlinux.btf (cut from $vmlinuz) is not valid BTF" >&2; exit 1; }
		touch "$dir/.complete"
		echo "$dir"
		exit 0
	fi
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
