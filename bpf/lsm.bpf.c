// SPDX-License-Identifier: GPL-2.0-only
/*
 * BPF LSM enforcement for the policed cgroup: socket kinds and AF_UNIX peers (G1), files by
 * inode identity (G2), exec (G3). Needs a kernel booted with "bpf" in lsm=; where that is
 * missing stsd loads observe.bpf.c instead (or refuses to start, G8).
 *
 * Identity is (device, inode), never a path string: a symlink resolves before file_open sees
 * the file, a hard link or a bind mount shows the same inode, so none of them changes what a
 * rule matches.
 */
#include "rules.bpf.h"

SEC("lsm/socket_create")
int BPF_PROG(sts_socket_create, int family, int type, int protocol, int kern)
{
	struct sts_event *ev;

	if (kern || !sts_policed() || !sts_socket_rule(family, type))
		return 0;
	ev = sts_event_reserve(STS_EV_SOCKET, STS_VERDICT_DENY, STS_RULE_SOCKET_KIND);
	if (ev) {
		ev->net.family = family;
		ev->net.type = type;
		ev->net.protocol = protocol;
		bpf_ringbuf_submit(ev, 0);
	}
	return -EPERM;
}

/* The policed code connects out; it never serves (a listener would be a second way out). */
SEC("lsm/socket_listen")
int BPF_PROG(sts_socket_listen, struct socket *sock, int backlog)
{
	struct sts_event *ev;

	if (!sts_policed())
		return 0;
	ev = sts_event_reserve(STS_EV_SOCKET, STS_VERDICT_DENY, STS_RULE_SOCKET_KIND);
	if (ev) {
		ev->net.family = BPF_CORE_READ(sock, sk, __sk_common.skc_family);
		ev->net.type = BPF_CORE_READ(sock, type);
		ev->net.protocol = 0xffff; /* listen(), not socket() */
		bpf_ringbuf_submit(ev, 0);
	}
	return -EPERM;
}

/* An AF_UNIX peer is allowed when its socket inode is named by allow-unix. */
static __always_inline int unix_decide(struct sock *other)
{
	struct unix_sock *u = (struct unix_sock *)other;
	struct dentry *dentry = BPF_CORE_READ(u, path.dentry);
	struct inode *inode = dentry ? BPF_CORE_READ(dentry, d_inode) : NULL;
	bool ok = sts_file_flags(inode) & STS_F_UNIX;
	struct sts_event *ev;

	ev = sts_event_reserve(STS_EV_UNIX_CONNECT, ok ? STS_VERDICT_ALLOW : STS_VERDICT_DENY,
			       ok ? STS_RULE_COLLECTOR : STS_RULE_UNIX_NOT_ALLOWED);
	if (ev) {
		ev->file.dev = inode ? sts_kdev(BPF_CORE_READ(inode, i_sb)) : 0;
		ev->file.ino = inode ? BPF_CORE_READ(inode, i_ino) : 0;
		if (dentry)
			bpf_probe_read_kernel_str(ev->file.path, sizeof(ev->file.path),
						  BPF_CORE_READ(dentry, d_name.name));
		else
			__builtin_memcpy(ev->file.path, "(abstract or unnamed)", 22);
		bpf_ringbuf_submit(ev, 0);
	}
	return sts_lsm_ret(!ok);
}

SEC("lsm/unix_stream_connect")
int BPF_PROG(sts_unix_stream_connect, struct sock *sock, struct sock *other, struct sock *newsk)
{
	if (!sts_policed())
		return 0;
	return unix_decide(other);
}

SEC("lsm/unix_may_send")
int BPF_PROG(sts_unix_may_send, struct socket *sock, struct socket *other)
{
	if (!sts_policed())
		return 0;
	return unix_decide(BPF_CORE_READ(other, sk));
}

SEC("lsm/file_open")
int BPF_PROG(sts_file_open, struct file *file)
{
	struct inode *inode;
	struct sts_event *ev;
	__u32 fmode, rule;

	if (!sts_policed())
		return 0;
	inode = file->f_inode;
	fmode = file->f_mode;
	rule = sts_file_open_rule(file, fmode);

	/* A binary opened to be executed reads as an exec in the evidence. */
	ev = sts_event_reserve(rule == STS_RULE_EXEC_NOT_ALLOWED ? STS_EV_EXEC : STS_EV_FILE_OPEN,
			       rule ? STS_VERDICT_DENY : STS_VERDICT_ALLOW,
			       rule ? rule : STS_RULE_COLLECTOR);
	if (ev) {
		ev->file.ino = inode->i_ino;
		ev->file.dev = sts_kdev(inode->i_sb);
		ev->file.flags = file->f_flags;
		ev->file.fmode = fmode;
		bpf_d_path(&file->f_path, ev->file.path, sizeof(ev->file.path));
		bpf_ringbuf_submit(ev, 0);
	}
	return sts_lsm_ret(rule != 0);
}

SEC("lsm/bprm_check_security")
int BPF_PROG(sts_bprm_check, struct linux_binprm *bprm)
{
	struct inode *inode;
	struct sts_event *ev;
	bool ok;

	if (!sts_policed())
		return 0;
	inode = bprm->file->f_inode;
	ok = !sts_exec_rule(inode);
	ev = sts_event_reserve(STS_EV_EXEC, ok ? STS_VERDICT_ALLOW : STS_VERDICT_DENY,
			       ok ? STS_RULE_COLLECTOR : STS_RULE_EXEC_NOT_ALLOWED);
	if (ev) {
		ev->file.ino = inode->i_ino;
		ev->file.dev = sts_kdev(inode->i_sb);
		bpf_probe_read_kernel_str(ev->file.path, sizeof(ev->file.path), bprm->filename);
		bpf_ringbuf_submit(ev, 0);
	}
	return sts_lsm_ret(!ok);
}

/* No new hard links from the policed cgroup: a link is a second name for a file's content. */
SEC("lsm/inode_link")
int BPF_PROG(sts_inode_link, struct dentry *old_dentry, struct inode *dir,
	     struct dentry *new_dentry)
{
	struct sts_event *ev;

	if (!sts_policed())
		return 0;
	ev = sts_event_reserve(STS_EV_LINK, STS_VERDICT_DENY, STS_RULE_LINK);
	if (ev) {
		ev->file.ino = BPF_CORE_READ(old_dentry, d_inode, i_ino);
		bpf_probe_read_kernel_str(ev->file.path, sizeof(ev->file.path),
					  BPF_CORE_READ(new_dentry, d_name.name));
		bpf_ringbuf_submit(ev, 0);
	}
	return -EPERM;
}

/* Creating a file anywhere but in the state dir (file_open would only deny it afterwards). */
SEC("lsm/inode_create")
int BPF_PROG(sts_inode_create, struct inode *dir, struct dentry *dentry, umode_t mode)
{
	struct sts_event *ev;

	if (!sts_policed() || (sts_file_flags(dir) & STS_F_STATE_DIR))
		return 0;
	ev = sts_event_reserve(STS_EV_FILE_OPEN, STS_VERDICT_DENY, STS_RULE_WRITE_OUTSIDE_STATE);
	if (ev) {
		ev->file.fmode = FMODE_WRITE;
		bpf_probe_read_kernel_str(ev->file.path, sizeof(ev->file.path),
					  BPF_CORE_READ(dentry, d_name.name));
		bpf_ringbuf_submit(ev, 0);
	}
	return -EPERM;
}

/* A refusal aimed at another task (ptrace, signals): its pid and comm, and what was asked. */
static __always_inline int deny_on_task(__u32 type, __u32 rule, struct task_struct *t, __u32 what)
{
	struct sts_event *ev = sts_event_reserve(type, STS_VERDICT_DENY, rule);

	if (ev) {
		ev->file.ino = BPF_CORE_READ(t, tgid);
		ev->file.flags = what;
		bpf_probe_read_kernel_str(ev->file.path, STS_COMM_LEN, t->comm);
		bpf_ringbuf_submit(ev, 0);
	}
	return -EPERM;
}

/* The monitor: the one process that may read a policed process's memory (payload hashing). */
const volatile __u32 monitor_tgid;

/*
 * ptrace, /proc/PID/mem and process_vm_readv/writev all ask ptrace_access_check. Policed code
 * may trace nobody; nobody but the monitor may reach into policed code, so a buffer that passed
 * the payload check cannot be rewritten from outside before it is encrypted.
 */
SEC("lsm/ptrace_access_check")
int BPF_PROG(sts_ptrace_access_check, struct task_struct *child, unsigned int mode)
{
	__u64 child_cg = BPF_CORE_READ(child, cgroups, dfl_cgrp, kn, id);
	bool from_policed = sts_policed(), into_policed = child_cg == policed_cgid;

	if (!from_policed && !into_policed)
		return 0;
	if (!from_policed && (bpf_get_current_pid_tgid() >> 32) == monitor_tgid)
		return 0;
	return deny_on_task(STS_EV_PTRACE, STS_RULE_PTRACE, child, mode);
}

/*
 * No fork, no clone, no thread in the policed cgroup. A second task sharing the memory could
 * rewrite a buffer after its payload check; a forked child would run a TLS stack no uprobe
 * follows and race the writer for its egress credit. The agent needs neither.
 */
SEC("lsm/task_alloc")
int BPF_PROG(sts_task_alloc, struct task_struct *task, unsigned long clone_flags)
{
	struct sts_event *ev;

	if (!sts_policed())
		return 0;
	ev = sts_event_reserve(STS_EV_CLONE, STS_VERDICT_DENY, STS_RULE_CLONE);
	if (ev) {
		ev->file.flags = (__u32)clone_flags;
		bpf_ringbuf_submit(ev, 0);
	}
	return -EPERM;
}

/*
 * Signals stay inside the policed cgroup: killing or stopping the monitor would end the
 * evidence and the payload check with it, and a SIGCONT could resume a writer the monitor
 * stopped for its check. Signals the kernel sends (SIGCHLD to the parent) do not pass here.
 */
SEC("lsm/task_kill")
int BPF_PROG(sts_task_kill, struct task_struct *p, struct kernel_siginfo *info, int sig,
	     const struct cred *cred)
{
	if (!sts_policed() || BPF_CORE_READ(p, cgroups, dfl_cgrp, kn, id) == policed_cgid)
		return 0;
	return deny_on_task(STS_EV_SIGNAL, STS_RULE_SIGNAL, p, sig);
}

static __always_inline int mount_deny(const struct path *path)
{
	struct sts_event *ev;

	ev = sts_event_reserve(STS_EV_MOUNT, STS_VERDICT_DENY, STS_RULE_MOUNT);
	if (ev) {
		/* The mount point's name (bpf_d_path is not allowed in this hook). */
		if (path)
			bpf_probe_read_kernel_str(ev->file.path, sizeof(ev->file.path),
						  BPF_CORE_READ(path, dentry, d_name.name));
		bpf_ringbuf_submit(ev, 0);
	}
	return -EPERM;
}

/*
 * No mounts: a bind mount shows the same inode (the file rules would still match it), but
 * mounting over an allowed path would put another file where the policy looks, and a new
 * bpffs or cgroupfs instance is a way at the enforcement itself. Policed code run as root
 * keeps its capabilities, so the capability check alone would not stop it.
 */
SEC("lsm/sb_mount")
int BPF_PROG(sts_sb_mount, const char *dev_name, const struct path *path, const char *type,
	     unsigned long flags, void *data)
{
	if (!sts_policed())
		return 0;
	return mount_deny(path);
}

/* The new mount API (fsmount, open_tree) ends in move_mount. */
SEC("lsm/move_mount")
int BPF_PROG(sts_move_mount, const struct path *from_path, const struct path *to_path)
{
	if (!sts_policed())
		return 0;
	return mount_deny(to_path);
}

/* bpf(): no reading the policy maps, no detaching the programs, no programs of its own. */
SEC("lsm/bpf")
int BPF_PROG(sts_bpf, int cmd, union bpf_attr *attr, unsigned int size)
{
	struct sts_event *ev;

	if (!sts_policed())
		return 0;
	ev = sts_event_reserve(STS_EV_BPF, STS_VERDICT_DENY, STS_RULE_BPF);
	if (ev) {
		ev->file.flags = cmd;
		bpf_ringbuf_submit(ev, 0);
	}
	return -EPERM;
}

char LICENSE[] SEC("license") = "GPL";
