/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The file and exec rules, once: lsm.bpf.c enforces them, observe.bpf.c reports what they would
 * have decided. One copy of the code is what keeps observe mode's "would deny" and enforce
 * mode's denial the same decision. Every read goes through BPF_CORE_READ, so that a tracepoint
 * program (whose pointers the verifier does not trust) can call these too.
 */
#ifndef STS_RULES_BPF_H
#define STS_RULES_BPF_H

#include "common.bpf.h"

/* The policy's flags for an inode (enum sts_file_flags), by (device, inode). */
static __always_inline __u32 sts_file_flags(struct inode *inode)
{
	struct sts_file_key key = {};
	__u32 *flags;

	if (!inode)
		return 0;
	key.ino = BPF_CORE_READ(inode, i_ino);
	key.dev = sts_kdev(BPF_CORE_READ(inode, i_sb));
	flags = bpf_map_lookup_elem(&files, &key);
	return flags ? *flags : 0;
}

/*
 * lsm/file_open's decision on an opened file: 0 to allow, else the rule that refuses it.
 * f_mode is passed in: the LSM hook reads it from its trusted argument, observe mode from the
 * file found in the descriptor table.
 */
static __always_inline __u32 sts_file_open_rule(struct file *file, __u32 fmode)
{
	struct inode *inode = BPF_CORE_READ(file, f_inode);
	struct inode *parent = BPF_CORE_READ(file, f_path.dentry, d_parent, d_inode);
	__u32 flags = sts_file_flags(inode), pflags = sts_file_flags(parent);
	__u32 imode = BPF_CORE_READ(inode, i_mode) & S_IFMT;
	__u32 nlink = BPF_CORE_READ(inode, i_nlink);
	bool regular = imode == S_IFREG;

	if (fmode & FMODE_WRITE) {
		if (!(pflags & STS_F_STATE_DIR))
			return STS_RULE_WRITE_OUTSIDE_STATE;
		if (!regular || nlink > 1)
			return STS_RULE_STATE_LINKED;
		return 0;
	}
	if ((fmode & FMODE_EXEC) || (BPF_CORE_READ(file, f_flags) & __FMODE_EXEC)) {
		/* The binary being executed and its ELF interpreter are opened this way. */
		return flags & (STS_F_EXEC | STS_F_READ) ? 0 : STS_RULE_EXEC_NOT_ALLOWED;
	}
	/* The file itself, or an allowed directory opened to list or fsync it. */
	if (flags & (STS_F_READ | STS_F_READ_DIR | STS_F_STATE_DIR))
		return 0;
	if (regular && (pflags & STS_F_READ_DIR))
		return 0;
	/* A second link into the state dir would smuggle another file's content in. */
	if (regular && (pflags & STS_F_STATE_DIR))
		return nlink > 1 ? STS_RULE_STATE_LINKED : 0;
	return STS_RULE_FILE_NOT_ALLOWED;
}

/* lsm/bprm_check_security's decision on the binary about to run: 0 or the refusing rule. */
static __always_inline __u32 sts_exec_rule(struct inode *inode)
{
	return sts_file_flags(inode) & STS_F_EXEC ? 0 : STS_RULE_EXEC_NOT_ALLOWED;
}

/* lsm/socket_create's decision: AF_UNIX, and TCP or UDP over IPv4/IPv6; nothing else. */
static __always_inline __u32 sts_socket_rule(int family, int type)
{
	if (family == AF_UNIX || ((family == AF_INET || family == AF_INET6) &&
				  (type == SOCK_STREAM || type == SOCK_DGRAM)))
		return 0;
	return STS_RULE_SOCKET_KIND;
}

#endif /* STS_RULES_BPF_H */
