// SPDX-License-Identifier: GPL-2.0-only
/*
 * Payload (G4): every plaintext a policed process hands to libssl's SSL_write or SSL_write_ex
 * is copied here and the writer is stopped before a byte of it is encrypted. The monitor checks
 * the copy against the approved report request and resumes the writer, granting exactly that
 * many bytes of egress credit (volume.bpf.c), or kills it.
 *
 * The window between check and send, and how it is closed:
 *  - The copy is taken in the uprobe, at SSL_write's first instruction, and the SIGSTOP sent
 *    from here is delivered on the return from the breakpoint trap: the writer thread runs no
 *    instruction of SSL_write before the monitor has decided.
 *  - Another thread could rewrite the buffer after the check, while SSL_write encrypts. So the
 *    check refuses a writer whose address space has other users (mm_users > 1: threads,
 *    CLONE_VM children, io_uring workers, an in-flight process_vm_writev) and a buffer in a
 *    MAP_SHARED mapping (another process could write it). After SIGCONT only the writer runs
 *    in that memory.
 *  - Other processes reach a policed process's memory only through ptrace, /proc/PID/mem or
 *    process_vm_writev, all of which pass ptrace_access_check: lsm.bpf.c denies them.
 *  - A sibling in the policed cgroup could SIGCONT the writer early, and a TLS stack this
 *    uprobe does not see could skip the check altogether: then no credit was granted, and the
 *    egress gate drops the application data (volume.bpf.c).
 */
#include "common.bpf.h"

#define SIGKILL 9
#define SIGSTOP 19
#define VM_SHARED 0x8

/* Events that could not be queued: the writer is killed rather than let through. */
__u64 killed_unqueued;

static long vma_flags_cb(struct task_struct *task, struct vm_area_struct *vma, void *ctx)
{
	__u32 *flags = ctx;

	if (vma->vm_flags & VM_SHARED)
		*flags |= STS_PAYLOAD_SHARED_MAP;
	return 0;
}

static __always_inline int payload_check(const void *buf, __u64 len)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct sts_payload_event *pe;
	__u32 flags = 0, copied;
	__u64 id;

	if (!sts_policed())
		return 0;
	if (BPF_CORE_READ(task, mm, mm_users.counter) > 1)
		flags |= STS_PAYLOAD_SHARED_MM;
	if (bpf_find_vma(task, (__u64)buf, vma_flags_cb, &flags, 0) ||
	    (len && bpf_find_vma(task, (__u64)buf + len - 1, vma_flags_cb, &flags, 0)))
		flags |= STS_PAYLOAD_NO_VMA;

	pe = bpf_ringbuf_reserve(&events, sizeof(*pe), 0);
	if (!pe) {
		/* Fail closed: an unchecked write never goes on. */
		__sync_fetch_and_add(&lost_events, 1);
		__sync_fetch_and_add(&killed_unqueued, 1);
		bpf_send_signal(SIGKILL);
		return 0;
	}
	__builtin_memset(&pe->ev, 0, sizeof(pe->ev));
	id = bpf_get_current_pid_tgid();
	pe->ev.type = STS_EV_PAYLOAD;
	pe->ev.verdict = STS_VERDICT_OBSERVED;
	pe->ev.rule = STS_RULE_PAYLOAD_PENDING;
	pe->ev.pid = (__u32)id;
	pe->ev.tgid = id >> 32;
	pe->ev.uid = (__u32)bpf_get_current_uid_gid();
	pe->ev.ts_ns = bpf_ktime_get_ns();
	pe->ev.cgroup_id = bpf_get_current_cgroup_id();
	bpf_get_current_comm(pe->ev.comm, sizeof(pe->ev.comm));
	pe->buf = (__u64)buf;
	pe->len = len;
	pe->flags = flags;
	copied = len < STS_PAYLOAD_COPY ? len : STS_PAYLOAD_COPY;
	pe->copied = copied;
	if (copied && bpf_probe_read_user(pe->data, copied, buf))
		pe->copied = 0;
	/* Stop first, then tell the monitor: it may resume the writer as soon as it reads this. */
	bpf_send_signal(SIGSTOP);
	bpf_ringbuf_submit(pe, 0);
	return 0;
}

/* BPF_KPROBE reads the arguments from pt_regs, as a uprobe needs (libbpf 1.1 has no BPF_UPROBE). */
SEC("uprobe")
int BPF_KPROBE(sts_ssl_write, void *ssl, const void *buf, int num)
{
	return payload_check(buf, num > 0 ? (__u64)num : 0);
}

/* BPF_KPROBE reads the arguments from pt_regs, as a uprobe needs (libbpf 1.1 has no BPF_UPROBE). */
SEC("uprobe")
int BPF_KPROBE(sts_ssl_write_ex, void *ssl, const void *buf, __u64 num)
{
	return payload_check(buf, num);
}

char LICENSE[] SEC("license") = "GPL";
