#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# make demo: boot the VM lane's kernel (Debian 6.1, BPF LSM on) and run the demo inside it.
# Stage 1 (this issue): the kernel enforcing a small policy on a policed cgroup.
set -euo pipefail
out=${OUT:-build}
cat <<'INTRO'
stsguard: make demo
  Boots Debian's 6.1 kernel in qemu (software emulation, ~5-10 s), with the BPF LSM enabled,
  and runs build/tests/bin/sts-demo inside it. The host kernel refuses BPF LSM programs, which
  is why the demo runs in a VM. The guest has no network device: only loopback.
INTRO
tests/vm/run --name demo -- "$out/tests/bin/sts-demo"
