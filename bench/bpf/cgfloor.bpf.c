// SPDX-License-Identifier: GPL-2.0-only
/*
 * Programs that do nothing, one of each cgroup attach type stsd run uses (bpf/net.bpf.c,
 * bpf/volume.bpf.c), for build/bench/cgfloor: attached to an empty cgroup, they measure what
 * the kernel itself makes every other process pay once a program of that type is attached
 * anywhere (its static keys and, for some types, a pass through an empty program array).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

SEC("cgroup/sock_create")
int floor_sock_create(struct bpf_sock *sk)
{
	return 1;
}

SEC("cgroup/connect4")
int floor_connect4(struct bpf_sock_addr *ctx)
{
	return 1;
}

SEC("cgroup/connect6")
int floor_connect6(struct bpf_sock_addr *ctx)
{
	return 1;
}

SEC("cgroup/sendmsg4")
int floor_sendmsg4(struct bpf_sock_addr *ctx)
{
	return 1;
}

SEC("cgroup/sendmsg6")
int floor_sendmsg6(struct bpf_sock_addr *ctx)
{
	return 1;
}

SEC("sockops")
int floor_sockops(struct bpf_sock_ops *skops)
{
	return 1;
}

SEC("cgroup_skb/egress")
int floor_egress(struct __sk_buff *skb)
{
	return 1;
}

SEC("cgroup_skb/ingress")
int floor_ingress(struct __sk_buff *skb)
{
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
