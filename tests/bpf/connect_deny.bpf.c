// SPDX-License-Identifier: GPL-2.0-only
/* Test program: cgroup connect4 hook denying one loopback port (tests/progs/cgroup_connect.c). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

const volatile __u16 deny_port; /* host order, set before load */
__u64 denied;
__u64 seen;

SEC("cgroup/connect4")
int deny_connect4(struct bpf_sock_addr *ctx)
{
	__sync_fetch_and_add(&seen, 1);
	/* user_port is in network byte order in the low 16 bits. */
	if (ctx->user_ip4 == bpf_htonl(0x7f000001) && ctx->user_port == bpf_htons(deny_port)) {
		__sync_fetch_and_add(&denied, 1);
		return 0; /* EPERM to the caller */
	}
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
