// SPDX-License-Identifier: GPL-2.0-only
/*
 * Observe mode (a kernel without BPF LSM): file opens, execs and forbidden socket kinds of the
 * policed cgroup are recorded from tracepoints, not stopped. Tracepoints see the syscall
 * path only: io_uring's openat does not pass sys_enter_openat, so it can bypass this record;
 * stsd says so in its start record and output.
 */
#include "common.bpf.h"

#define AF_NETLINK 16
#define AF_PACKET 17

static __always_inline int observe_open(const char *upath, __u64 flags)
{
	struct sts_event *ev;

	if (!policed())
		return 0;
	ev = event_new(STS_EV_FILE_OPEN, STS_VERDICT_OBSERVED, STS_RULE_OBSERVED);
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

	if (!policed())
		return 0;
	ev = event_new(STS_EV_EXEC, STS_VERDICT_OBSERVED, STS_RULE_OBSERVED);
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

	if (!policed())
		return 0;
	family = ctx->args[0];
	type = ctx->args[1] & 0xf;
	if (family == AF_UNIX || ((family == AF_INET || family == AF_INET6) &&
				  (type == SOCK_STREAM || type == SOCK_DGRAM)))
		return 0;
	/* Raw inet sockets are denied by cgroup/sock_create; packet and netlink only recorded. */
	ev = event_new(STS_EV_SOCKET, STS_VERDICT_OBSERVED, STS_RULE_SOCKET_KIND);
	if (ev) {
		ev->net.family = family;
		ev->net.type = type;
		ev->net.protocol = ctx->args[2];
		bpf_ringbuf_submit(ev, 0);
	}
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
