// SPDX-License-Identifier: GPL-2.0-only
/*
 * Observe mode (a kernel without BPF LSM): file opens, execs and forbidden socket kinds of the
 * policed cgroup are recorded from tracepoints, not stopped. Tracepoints see the syscall
 * path only: io_uring's openat does not pass sys_enter_openat, so it can bypass this record;
 * stsd says so in its start record and output.
 *
 * What the LSM hooks would refuse and no tracepoint above sees (AF_UNIX connects, listen,
 * ptrace and process_vm_*, links, mounts, fork/clone, bpf(), signals, io_uring itself) is
 * recorded at system call entry: the attempt is in the evidence, even though it is not stopped.
 */
#include "common.bpf.h"

#define AF_NETLINK 16
#define AF_PACKET 17

static __always_inline int observe_open(const char *upath, __u64 flags)
{
	struct sts_event *ev;

	if (!sts_policed())
		return 0;
	ev = sts_event_reserve(STS_EV_FILE_OPEN, STS_VERDICT_OBSERVED, STS_RULE_OBSERVED);
	if (ev) {
		ev->file.flags = flags;
		bpf_probe_read_user_str(ev->file.path, sizeof(ev->file.path), upath);
		bpf_ringbuf_submit(ev, 0);
	}
	return 0;
}

SEC("tp/syscalls/sys_enter_openat")
int sts_observe_openat(struct trace_event_raw_sys_enter *ctx)
{
	return observe_open((const char *)ctx->args[1], ctx->args[2]);
}

SEC("tp/syscalls/sys_enter_open")
int sts_observe_open(struct trace_event_raw_sys_enter *ctx)
{
	return observe_open((const char *)ctx->args[0], ctx->args[1]);
}

SEC("tp/sched/sched_process_exec")
int sts_observe_exec(struct trace_event_raw_sched_process_exec *ctx)
{
	unsigned int off = ctx->__data_loc_filename & 0xFFFF;
	struct sts_event *ev;

	if (!sts_policed())
		return 0;
	ev = sts_event_reserve(STS_EV_EXEC, STS_VERDICT_OBSERVED, STS_RULE_OBSERVED);
	if (ev) {
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

	if (!sts_policed())
		return 0;
	family = ctx->args[0];
	type = ctx->args[1] & 0xf;
	if (family == AF_UNIX || ((family == AF_INET || family == AF_INET6) &&
				  (type == SOCK_STREAM || type == SOCK_DGRAM)))
		return 0;
	/* Raw inet sockets are denied by cgroup/sock_create; packet and netlink only recorded. */
	ev = sts_event_reserve(STS_EV_SOCKET, STS_VERDICT_OBSERVED, STS_RULE_SOCKET_KIND);
	if (ev) {
		ev->net.family = family;
		ev->net.type = type;
		ev->net.protocol = ctx->args[2];
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
		/* The target of kill, tgkill, ptrace, process_vm_*: its pid. */
		ev->file.ino = nr == NR_TGKILL ? a1 : a0;
		bpf_ringbuf_submit(ev, 0);
	}
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
