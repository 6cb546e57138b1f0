// SPDX-License-Identifier: GPL-2.0-only
/*
 * Where Landlock, not BPF LSM, enforces the file, exec and TCP rules (a kernel without BPF LSM):
 * its refusals, recorded (with those of the file's own permissions, which the monitor sets
 * apart). Landlock itself reports nothing to the monitor (its audit records,
 * from Linux 6.15, go to the audit log), so these fexit programs see the refused calls return:
 * an open or exec of the policed cgroup that failed with EACCES, a TCP connect or bind refused
 * before the cgroup connect hooks could see it. fexit programs run only when the traced
 * function does: no system call tracing slow path for the rest of the device.
 */
#include "common.bpf.h"

#define EACCES 13
#define O_ACCMODE 3
#define O_CREAT 0100
#define O_TRUNC 01000

SEC("fexit/do_filp_open")
int BPF_PROG(sts_contain_open, int dfd, struct filename *name, const struct open_flags *op,
	     struct file *ret)
{
	long err = (long)ret;
	struct sts_event *ev;
	bool exec, write;
	int flags;

	if (!sts_policed() || (err != -EACCES && err != -EPERM))
		return 0;
	flags = BPF_CORE_READ(op, open_flag);
	exec = flags & __FMODE_EXEC;
	write = (flags & O_ACCMODE) || (flags & (O_CREAT | O_TRUNC));
	ev = sts_event_reserve(exec ? STS_EV_EXEC : STS_EV_FILE_OPEN, STS_VERDICT_DENY,
			       exec    ? STS_RULE_EXEC_NOT_ALLOWED
			       : write ? STS_RULE_WRITE_OUTSIDE_STATE
				       : STS_RULE_FILE_NOT_ALLOWED);
	if (!ev)
		return 0;
	ev->file.flags = flags;
	ev->file.fmode = write ? FMODE_WRITE : 0;
	/*
	 * The errno: any EACCES, the file's own permissions' too (checked before Landlock); the
	 * monitor tells those apart (police.c, dac_refused) and does not count them as denials.
	 */
	ev->file.result = (__u32)-err;
	bpf_probe_read_kernel_str(ev->file.path, sizeof(ev->file.path), BPF_CORE_READ(name, name));
	bpf_ringbuf_submit(ev, 0);
	return 0;
}

/* Landlock's TCP port rule: a refusal comes before the cgroup connect hook would record it. */
SEC("fexit/security_socket_connect")
int BPF_PROG(sts_contain_connect, struct socket *sock, struct sockaddr *address, int addrlen,
	     int ret)
{
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)address;
	struct sockaddr_in *s4 = (struct sockaddr_in *)address;
	struct sts_event *ev;
	__u16 family;

	if (!ret || !sts_policed())
		return 0;
	family = BPF_CORE_READ(address, sa_family);
	if (family != AF_INET && family != AF_INET6)
		return 0;
	ev = sts_event_reserve(STS_EV_CONNECT, STS_VERDICT_DENY, STS_RULE_NOT_COLLECTOR);
	if (!ev)
		return 0;
	ev->net.family = family;
	ev->net.type = SOCK_STREAM;
	if (family == AF_INET) {
		ev->net.port = bpf_ntohs(BPF_CORE_READ(s4, sin_port));
		bpf_probe_read_kernel(ev->net.addr, 4, &s4->sin_addr);
	} else {
		ev->net.port = bpf_ntohs(BPF_CORE_READ(s6, sin6_port));
		bpf_probe_read_kernel(ev->net.addr, 16, &s6->sin6_addr);
	}
	bpf_ringbuf_submit(ev, 0);
	return 0;
}

/*
 * Linux 6.15 and later: every Landlock refusal passes landlock_log_denial(), whether or not
 * audit runs. A kprobe there costs nothing to a process Landlock does not refuse, so it is
 * preferred to the fexit above (which every open of the device passes) where the kernel has
 * it. The request names the refused access and the file (its last path component, device and
 * inode); a creation names the directory. Field offsets by CO-RE: the structure is 6.15's.
 */
/* An enum, as the kernel's: CO-RE matches a field's kind (an int would not match). */
enum landlock_request_type___sts { LL_REQUEST___STS_UNUSED = 0 };

struct landlock_request___sts {
	enum landlock_request_type___sts type;
	struct common_audit_data audit;
	__u16 access;
} __attribute__((preserve_access_index));

#define LL_REQUEST_FS_ACCESS 3
#define LSM_AUDIT_DATA_PATH 1
#define LSM_AUDIT_DATA_DENTRY 10
#define LSM_AUDIT_DATA_FILE 12
#define LL_EXECUTE (1 << 0)
#define LL_READ (1 << 2 | 1 << 3)

SEC("kprobe/landlock_log_denial")
int BPF_KPROBE(sts_contain_denial, void *subject, struct landlock_request___sts *req)
{
	struct dentry *d = NULL;
	struct sts_event *ev;
	__u16 access;
	__u32 rule;
	char kind;

	if (!sts_policed() || BPF_CORE_READ(req, type) != LL_REQUEST_FS_ACCESS)
		return 0;
	access = BPF_CORE_READ(req, access);
	kind = BPF_CORE_READ(req, audit.type);
	if (kind == LSM_AUDIT_DATA_PATH)
		d = BPF_CORE_READ(req, audit.u.path.dentry);
	else if (kind == LSM_AUDIT_DATA_DENTRY)
		d = BPF_CORE_READ(req, audit.u.dentry);
	else if (kind == LSM_AUDIT_DATA_FILE)
		d = BPF_CORE_READ(req, audit.u.file, f_path.dentry);
	rule = access & LL_EXECUTE	  ? STS_RULE_EXEC_NOT_ALLOWED
	       : access & ~(__u16)LL_READ ? STS_RULE_WRITE_OUTSIDE_STATE
					  : STS_RULE_FILE_NOT_ALLOWED;
	ev = sts_event_reserve(rule == STS_RULE_EXEC_NOT_ALLOWED ? STS_EV_EXEC : STS_EV_FILE_OPEN,
			       STS_VERDICT_DENY, rule);
	if (!ev)
		return 0;
	ev->file.fmode = rule == STS_RULE_WRITE_OUTSIDE_STATE ? FMODE_WRITE : 0;
	if (d) {
		struct inode *inode = BPF_CORE_READ(d, d_inode);

		bpf_probe_read_kernel_str(ev->file.path, sizeof(ev->file.path),
					  BPF_CORE_READ(d, d_name.name));
		ev->file.ino = BPF_CORE_READ(inode, i_ino);
		ev->file.dev = sts_kdev(BPF_CORE_READ(inode, i_sb));
	}
	bpf_ringbuf_submit(ev, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
