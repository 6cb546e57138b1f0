// SPDX-License-Identifier: GPL-2.0-only
/*
 * Observe mode (a kernel without BPF LSM): file opens, execs and forbidden socket kinds of the
 * policed cgroup are recorded from tracepoints, not stopped, each with what enforce mode would
 * have decided (the LSM hooks' own rule code, bpf/rules.bpf.h, asked about the same file).
 * Tracepoints see the syscall path only: io_uring's openat does not pass sys_enter_openat, so it
 * can bypass this record; stsd says so in its start record and output.
 *
 * What the LSM hooks would refuse and no tracepoint above sees (AF_UNIX connects, listen,
 * ptrace and process_vm_*, links, mounts, fork/clone, bpf(), signals, io_uring itself) is
 * recorded at system call entry: the attempt is in the evidence, even though it is not stopped.
 */
#include "rules.bpf.h"

#define AF_NETLINK 16
#define AF_PACKET 17
/* An O_PATH descriptor: no file_open, so no rule to ask (enforce mode lets it through). */
#define FMODE_PATH 0x4000

/*
 * Set where Landlock enforces the file rules and the kernel refuses fexit programs (which
 * bpf/contain.bpf.c would use): these tracepoints then record Landlock's refusals only.
 */
const volatile bool landlock_fs;

/*
 * An open in flight, from system call entry (the path as the caller spelt it) to its return
 * (the file it opened, which the rule judges). Keyed by thread; LRU, so that a thread killed
 * in the middle of an open leaves nothing behind for long. The caller's path pointer is kept:
 * at entry its page may not be in memory yet (a string never touched before), and reading it
 * fails; at return the kernel has read it, so it is read again there.
 */
struct inflight {
	struct sts_event ev;
	__u64 upath;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u64);
	__type(value, struct inflight);
} opening SEC(".maps");

/* The event is larger than the BPF stack allows comfortably: built here, then copied. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct inflight);
} scratch SEC(".maps");

/* What enforce mode would do, rule 0 meaning "allow" as in the LSM hooks. */
static __always_inline void would(struct sts_event *ev, __u32 rule)
{
	ev->would_verdict = rule ? STS_VERDICT_DENY : STS_VERDICT_ALLOW;
	ev->would_rule = rule ? rule : STS_RULE_COLLECTOR;
}

static __always_inline int observe_open_enter(const char *upath, __u64 flags)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct inflight *in;
	struct sts_event *ev;
	__u32 zero = 0;

	if (!sts_policed())
		return 0;
	in = bpf_map_lookup_elem(&scratch, &zero);
	if (!in)
		return 0;
	ev = &in->ev;
	sts_event_fill(ev, STS_EV_FILE_OPEN, STS_VERDICT_OBSERVED, STS_RULE_OBSERVED);
	ev->file.flags = flags;
	ev->file.result = 0;
	ev->file.path[0] = '\0';
	in->upath = (__u64)upath;
	if (bpf_probe_read_user_str(ev->file.path, sizeof(ev->file.path), upath) < 0)
		ev->file.path[0] = '\0';
	if (bpf_map_update_elem(&opening, &id, in, BPF_ANY))
		__sync_fetch_and_add(&lost_events, 1);
	return 0;
}

/* The file behind descriptor fd of the current process. */
static __always_inline struct file *fd_file(long fd)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	struct file *file = NULL;
	struct file **fds;

	if (!fdt || fd < 0 || fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	fds = BPF_CORE_READ(fdt, fd);
	bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]);
	return file;
}

/*
 * At return the descriptor names the very file lsm/file_open would have been asked about: the
 * same rule code judges it (bpf/rules.bpf.h). An open that failed gets no "would": the rule
 * is only asked about files that open.
 */
static __always_inline int observe_open_exit(long ret)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct inflight *in;
	struct sts_event *ev;
	struct inode *inode;
	struct file *file;

	/* Every open of the device returns through here: the cgroup test comes first. */
	if (!sts_policed())
		return 0;
	in = bpf_map_lookup_elem(&opening, &id);
	if (!in) {
		/*
		 * Its entry was evicted (more opens in flight than the LRU holds: many threads
		 * opening at once): the open is counted as lost, never silently unrecorded.
		 */
		__sync_fetch_and_add(&lost_events, 1);
		return 0;
	}
	ev = &in->ev;
	/* The kernel has copied the path in by now: a page absent at entry is present. */
	if (!ev->file.path[0] &&
	    bpf_probe_read_user_str(ev->file.path, sizeof(ev->file.path), (void *)in->upath) < 0)
		ev->file.path[0] = '\0';
	if (ret < 0)
		ev->file.result = (__u32)-ret;
	if (landlock_fs) {
		/* Landlock decided: only its refusals are records (EACCES), as denials. */
		if (ret == -13 || ret == -1) {
			bool write = (ev->file.flags & 3) || (ev->file.flags & (0100 | 01000));

			ev->verdict = STS_VERDICT_DENY;
			ev->rule = write ? STS_RULE_WRITE_OUTSIDE_STATE : STS_RULE_FILE_NOT_ALLOWED;
			ev->file.fmode = write ? FMODE_WRITE : 0;
			if (bpf_ringbuf_output(&events, ev, sizeof(*ev), 0))
				__sync_fetch_and_add(&lost_events, 1);
		}
		bpf_map_delete_elem(&opening, &id);
		return 0;
	}
	file = ret < 0 ? NULL : fd_file(ret);
	if (file) {
		inode = BPF_CORE_READ(file, f_inode);
		ev->file.fmode = BPF_CORE_READ(file, f_mode);
		ev->file.ino = BPF_CORE_READ(inode, i_ino);
		ev->file.dev = sts_kdev(BPF_CORE_READ(inode, i_sb));
		would(ev,
		      ev->file.fmode & FMODE_PATH ? 0 : sts_file_open_rule(file, ev->file.fmode));
	}
	if (bpf_ringbuf_output(&events, ev, sizeof(*ev), 0))
		__sync_fetch_and_add(&lost_events, 1);
	bpf_map_delete_elem(&opening, &id);
	return 0;
}

SEC("tp/syscalls/sys_enter_openat")
int sts_observe_openat(struct trace_event_raw_sys_enter *ctx)
{
	return observe_open_enter((const char *)ctx->args[1], ctx->args[2]);
}

SEC("tp/syscalls/sys_exit_openat")
int sts_observe_openat_exit(struct trace_event_raw_sys_exit *ctx)
{
	return observe_open_exit(ctx->ret);
}

SEC("tp/syscalls/sys_enter_open")
int sts_observe_open(struct trace_event_raw_sys_enter *ctx)
{
	return observe_open_enter((const char *)ctx->args[0], ctx->args[1]);
}

SEC("tp/syscalls/sys_exit_open")
int sts_observe_open_exit(struct trace_event_raw_sys_exit *ctx)
{
	return observe_open_exit(ctx->ret);
}

/* After the fact: the new program's executable is the binary bprm_check_security judges. */
SEC("tp/sched/sched_process_exec")
int sts_observe_exec(struct trace_event_raw_sched_process_exec *ctx)
{
	unsigned int off = ctx->__data_loc_filename & 0xFFFF;
	struct task_struct *task;
	struct sts_event *ev;
	struct inode *inode;

	if (!sts_policed())
		return 0;
	ev = sts_event_reserve(STS_EV_EXEC, STS_VERDICT_OBSERVED, STS_RULE_OBSERVED);
	if (ev) {
		task = (struct task_struct *)bpf_get_current_task();
		inode = BPF_CORE_READ(task, mm, exe_file, f_inode);
		ev->file.ino = BPF_CORE_READ(inode, i_ino);
		ev->file.dev = sts_kdev(BPF_CORE_READ(inode, i_sb));
		would(ev, sts_exec_rule(inode));
		bpf_probe_read_kernel_str(ev->file.path, sizeof(ev->file.path), (void *)ctx + off);
		bpf_ringbuf_submit(ev, 0);
	}
	return 0;
}

SEC("tp/syscalls/sys_enter_socket")
int sts_observe_socket(struct trace_event_raw_sys_enter *ctx)
{
	struct sts_event *ev;
	int family, type;
	__u32 rule;

	if (!sts_policed())
		return 0;
	family = ctx->args[0];
	type = ctx->args[1] & 0xf;
	rule = sts_socket_rule(family, type);
	if (!rule)
		return 0;
	/* Raw inet sockets are denied by cgroup/sock_create; packet and netlink only recorded. */
	ev = sts_event_reserve(STS_EV_SOCKET, STS_VERDICT_OBSERVED, STS_RULE_SOCKET_KIND);
	if (ev) {
		ev->net.family = family;
		ev->net.type = type;
		ev->net.protocol = ctx->args[2];
		would(ev, rule);
		bpf_ringbuf_submit(ev, 0);
	}
	return 0;
}

/* System call numbers of the architecture the object is built for. */
#if defined(__TARGET_ARCH_x86)
#define NR_CONNECT 42
#define NR_LISTEN 50
#define NR_CLONE 56
#define NR_FORK 57
#define NR_VFORK 58
#define NR_KILL 62
#define NR_LINK 86
#define NR_PTRACE 101
#define NR_MOUNT 165
#define NR_TKILL 200
#define NR_TGKILL 234
#define NR_LINKAT 265
#define NR_PROCESS_VM_READV 310
#define NR_PROCESS_VM_WRITEV 311
#define NR_BPF 321
#define NR_IO_URING_SETUP 425
#define NR_MOVE_MOUNT 429
#define NR_CLONE3 435
#elif defined(__TARGET_ARCH_arm64)
/*
 * arm64 uses the generic system call table: no fork, vfork or link (clone and linkat do their
 * work), so those are -1, a number no call has; nor open, which observe mode's open tracepoints
 * leave unloaded (stsd/load_observe.c).
 */
#define NR_CONNECT 203
#define NR_LISTEN 201
#define NR_CLONE 220
#define NR_FORK -1
#define NR_VFORK -1
#define NR_KILL 129
#define NR_LINK -1
#define NR_PTRACE 117
#define NR_MOUNT 40
#define NR_TKILL 130
#define NR_TGKILL 131
#define NR_LINKAT 37
#define NR_PROCESS_VM_READV 270
#define NR_PROCESS_VM_WRITEV 271
#define NR_BPF 280
#define NR_IO_URING_SETUP 425
#define NR_MOVE_MOUNT 429
#define NR_CLONE3 435
#else
#error "system call numbers for this architecture"
#endif

/*
 * The LSM hook that judges each of these calls refuses it whatever its arguments, except two:
 * a signal (refused only outside the policed cgroup) and an AF_UNIX connect (allowed to the
 * allow-unix peers), which stay undecided here. io_uring_setup itself passes every hook; its
 * operations are judged one by one.
 */
static __always_inline void syscall_would(struct sts_event *ev, long nr)
{
	__u32 rule = 0;

	if (nr == NR_LISTEN)
		rule = STS_RULE_SOCKET_KIND;
	else if (nr == NR_CLONE || nr == NR_FORK || nr == NR_VFORK || nr == NR_CLONE3)
		rule = STS_RULE_CLONE;
	else if (nr == NR_PTRACE || nr == NR_PROCESS_VM_READV || nr == NR_PROCESS_VM_WRITEV)
		rule = STS_RULE_PTRACE;
	else if (nr == NR_LINK || nr == NR_LINKAT)
		rule = STS_RULE_LINK;
	else if (nr == NR_MOUNT || nr == NR_MOVE_MOUNT)
		rule = STS_RULE_MOUNT;
	else if (nr == NR_BPF)
		rule = STS_RULE_BPF;
	else if (nr != NR_IO_URING_SETUP)
		return;
	would(ev, rule);
}

/*
 * A raw tracepoint, not tp/raw_syscalls/sys_enter: this runs on every system call of every
 * process on the device, and the tracepoint flavour first copies the call's arguments into a
 * perf buffer for each of them (make bench measured +100 ns per call outside the policed
 * cgroup); the raw one is handed the registers and reads two of them, only for the policed
 * cgroup's calls of interest.
 */
SEC("raw_tp/sys_enter")
int BPF_PROG(sts_observe_syscall, struct pt_regs *regs, long nr)
{
	unsigned long a0, a1;
	struct sts_event *ev;
	__u16 family = 0;

	if (!sts_policed())
		return 0;
	if (nr != NR_CONNECT && nr != NR_LISTEN && nr != NR_CLONE && nr != NR_FORK &&
	    nr != NR_VFORK && nr != NR_KILL && nr != NR_LINK && nr != NR_PTRACE && nr != NR_MOUNT &&
	    nr != NR_TKILL && nr != NR_TGKILL && nr != NR_LINKAT && nr != NR_PROCESS_VM_READV &&
	    nr != NR_PROCESS_VM_WRITEV && nr != NR_BPF && nr != NR_IO_URING_SETUP &&
	    nr != NR_MOVE_MOUNT && nr != NR_CLONE3)
		return 0;
	a0 = PT_REGS_PARM1_CORE_SYSCALL(regs);
	a1 = PT_REGS_PARM2_CORE_SYSCALL(regs);
	if (nr == NR_CONNECT) {
		/* Inet connects are decided (and recorded) by the cgroup hooks. */
		bpf_probe_read_user(&family, sizeof(family), (void *)a1);
		if (family != AF_UNIX)
			return 0;
	}
	ev = sts_event_reserve(STS_EV_SYSCALL, STS_VERDICT_OBSERVED, STS_RULE_OBSERVED);
	if (ev) {
		ev->file.flags = nr;
		syscall_would(ev, nr);
		/* The target of kill, tgkill, ptrace, process_vm_*: its pid. */
		ev->file.ino = nr == NR_TGKILL ? a1 : a0;
		bpf_ringbuf_submit(ev, 0);
	}
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
