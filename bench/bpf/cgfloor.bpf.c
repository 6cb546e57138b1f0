// SPDX-License-Identifier: GPL-2.0-only
/*
 * Programs that do nothing, one of each cgroup attach type stsd run uses (bpf/net.bpf.c,
 * bpf/volume.bpf.c), for build/bench/cgfloor: attached to an empty cgroup, they measure what
 * the kernel itself makes every other process pay once a program of that type is attached
 * anywhere (its static keys and, for some types, a pass through an empty program array).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

/* One program per attach type, each returning "allow" at once. */
#define FLOOR(sec, name, ctx) \
	SEC(sec)              \
	int name(ctx *c)      \
	{                     \
		return 1;     \
	}

FLOOR("cgroup/sock_create", floor_sock_create, struct bpf_sock)
FLOOR("cgroup/connect4", floor_connect4, struct bpf_sock_addr)
FLOOR("cgroup/connect6", floor_connect6, struct bpf_sock_addr)
FLOOR("cgroup/sendmsg4", floor_sendmsg4, struct bpf_sock_addr)
FLOOR("cgroup/sendmsg6", floor_sendmsg6, struct bpf_sock_addr)
FLOOR("sockops", floor_sockops, struct bpf_sock_ops)
FLOOR("cgroup_skb/egress", floor_egress, struct __sk_buff)
FLOOR("cgroup_skb/ingress", floor_ingress, struct __sk_buff)

char LICENSE[] SEC("license") = "GPL";
