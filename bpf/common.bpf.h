/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * BPF-only helpers shared by the stsguard programs: policed-cgroup test, events, constants.
 * Every name is sts_-prefixed: userspace links libevent, whose event_new() a plain name would
 * shadow in a reader's mind (and in any file that includes both).
 */
#ifndef STS_COMMON_BPF_H
#define STS_COMMON_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "stsguard/abi.h"

/* vmlinux.h carries types, not macros. */
#define EPERM 1
#define AF_UNIX 1
#define AF_INET 2
#define AF_INET6 10
#define SOCK_STREAM 1
#define SOCK_DGRAM 2
#define SOCK_RAW 3
#define FMODE_WRITE 0x2
#define FMODE_EXEC 0x20
/* execve() opens the binary and its interpreter with this in f_flags (f_mode may lack it). */
#define __FMODE_EXEC 0x20
#define S_IFMT 00170000
#define S_IFREG 0100000
#define S_IFDIR 0040000

/* Set by the loader before load; every hook compares against it first. */
const volatile __u64 policed_cgid;
/* Events lost because the ring buffer was full: read by stsd and reported, never hidden. */
__u64 lost_events;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, STS_EVENTS_RINGBUF_SIZE);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, STS_MAX_RULE_ENDPOINTS);
	__type(key, struct sts_endpoint_key);
	__type(value, __u32);
} endpoints SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, STS_MAX_RULE_FILES);
	__type(key, struct sts_file_key);
	__type(value, __u32);
} files SEC(".maps");

/*
 * An LSM program's answer: -EPERM when deny, else 0. Written as `deny ? -EPERM : 0`, clang
 * computes -(deny & 1), a negation whose range the verifier does not follow: kernels from 6.8
 * on check that an LSM program returns within [-4095, 0] and refuse that one ("R0 has unknown
 * scalar value"; found on Debian's arm64 6.12, while x86's 6.1 does not check). The barrier
 * hides that deny is 0 or 1, so clang branches to two constants, each within range.
 */
static __always_inline int sts_lsm_ret(int deny)
{
	barrier_var(deny);
	if (deny)
		return -EPERM;
	return 0;
}

/*
 * Exact cgroup match. The policed processes cannot leave or subdivide their cgroup: that takes
 * writing a cgroupfs file, which the file_open rule denies (writes only in the state dir).
 */
static __always_inline bool sts_policed(void)
{
	return bpf_get_current_cgroup_id() == policed_cgid;
}

/* An event about the current task, everything else zero. */
static __always_inline void sts_event_fill(struct sts_event *ev, __u32 type, __u32 verdict,
					   __u32 rule)
{
	__u64 id;

	__builtin_memset(ev, 0, sizeof(*ev));
	id = bpf_get_current_pid_tgid();
	ev->type = type;
	ev->verdict = verdict;
	ev->rule = rule;
	ev->pid = (__u32)id;
	ev->tgid = id >> 32;
	ev->uid = (__u32)bpf_get_current_uid_gid();
	ev->ts_ns = bpf_ktime_get_ns();
	ev->cgroup_id = bpf_get_current_cgroup_id();
	bpf_get_current_comm(ev->comm, sizeof(ev->comm));
}

static __always_inline struct sts_event *sts_event_reserve(__u32 type, __u32 verdict, __u32 rule)
{
	struct sts_event *ev;

	ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);
	if (!ev) {
		__sync_fetch_and_add(&lost_events, 1);
		return NULL;
	}
	sts_event_fill(ev, type, verdict, rule);
	return ev;
}

/*
 * For hooks that may not ask about the current task (cgroup_skb on 6.1 has no
 * get_current_pid_tgid, and egress may run in softirq, where "current" is not the sender).
 */
static __always_inline struct sts_event *sts_event_reserve_anon(__u32 type, __u32 verdict,
								__u32 rule)
{
	struct sts_event *ev;

	ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);
	if (!ev) {
		__sync_fetch_and_add(&lost_events, 1);
		return NULL;
	}
	__builtin_memset(ev, 0, sizeof(*ev));
	ev->type = type;
	ev->verdict = verdict;
	ev->rule = rule;
	ev->ts_ns = bpf_ktime_get_ns();
	ev->cgroup_id = policed_cgid;
	return ev;
}

static __always_inline __u32 sts_kdev(const struct super_block *sb)
{
	return BPF_CORE_READ(sb, s_dev);
}

#endif /* STS_COMMON_BPF_H */
