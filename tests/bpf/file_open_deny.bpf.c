// SPDX-License-Identifier: GPL-2.0-only
/* Test program: BPF LSM file_open denying one inode to one cgroup (tests/progs/lsm_file_open.c). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#define EPERM 1

const volatile __u64 target_cgid;
const volatile __u64 target_ino;
const volatile __u32 target_dev; /* kernel encoding: major << 20 | minor */
__u64 denied;

SEC("lsm/file_open")
int BPF_PROG(deny_file_open, struct file *file)
{
	struct inode *inode;

	if (bpf_get_current_cgroup_id() != target_cgid)
		return 0;
	inode = file->f_inode;
	if (inode->i_ino != target_ino || inode->i_sb->s_dev != target_dev)
		return 0;
	__sync_fetch_and_add(&denied, 1);
	return -EPERM;
}

char LICENSE[] SEC("license") = "GPL";
