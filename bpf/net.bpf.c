// SPDX-License-Identifier: GPL-2.0-only
/*
 * Network (G1): which destinations the policed cgroup may reach, and device-wide rules.
 *
 * The cgroup sock_addr hooks run for connect() and sendmsg() on the syscall path and on the
 * io_uring path alike (io_uring's connect ends in the same inet_stream_connect(), which runs
 * the pre_connect hook), so one rule covers both.
 */
#include "common.bpf.h"

/* Device-wide: deny the collector endpoints to processes outside the policed cgroup. */
const volatile bool deny_outside;

static __always_inline __u32 endpoint_flags(__u32 family, const __u32 *addr, __u16 port)
{
	struct sts_endpoint_key key = { .family = family, .port = port };
	__u32 *flags;

	if (family == AF_INET)
		__builtin_memcpy(key.addr, addr, 4);
	else
		__builtin_memcpy(key.addr, addr, 16);
	flags = bpf_map_lookup_elem(&endpoints, &key);
	return flags ? *flags : 0;
}

static __always_inline void net_event(struct bpf_sock_addr *ctx, __u32 type, __u32 verdict,
				      __u32 rule, __u32 family, const __u32 *addr, __u16 port)
{
	struct sts_event *ev = sts_event_reserve(type, verdict, rule);

	if (!ev)
		return;
	ev->net.family = family;
	ev->net.type = ctx->type;
	ev->net.protocol = ctx->protocol;
	ev->net.port = port;
	if (family == AF_INET)
		__builtin_memcpy(ev->net.addr, addr, 4);
	else
		__builtin_memcpy(ev->net.addr, addr, 16);
	bpf_ringbuf_submit(ev, 0);
}

/* The policed cgroup: TCP to a collector endpoint, nothing else. Returns 1 allow, 0 deny. */
static __always_inline int policed_decide(struct bpf_sock_addr *ctx, __u32 type, __u32 family,
					  const __u32 *addr)
{
	__u16 port = bpf_ntohs(ctx->user_port);
	__u32 rule;

	if (ctx->type != SOCK_STREAM)
		rule = STS_RULE_UDP;
	else if (endpoint_flags(family, addr, port) & STS_EP_COLLECTOR)
		rule = STS_RULE_COLLECTOR;
	else
		rule = STS_RULE_NOT_COLLECTOR;
	net_event(ctx, type, rule == STS_RULE_COLLECTOR ? STS_VERDICT_ALLOW : STS_VERDICT_DENY,
		  rule, family, addr, port);
	return rule == STS_RULE_COLLECTOR;
}

SEC("cgroup/connect4")
int sts_connect4(struct bpf_sock_addr *ctx)
{
	__u32 addr[4] = { ctx->user_ip4 };

	return policed_decide(ctx, STS_EV_CONNECT, AF_INET, addr);
}

SEC("cgroup/connect6")
int sts_connect6(struct bpf_sock_addr *ctx)
{
	__u32 addr[4] = { ctx->user_ip6[0], ctx->user_ip6[1], ctx->user_ip6[2], ctx->user_ip6[3] };

	return policed_decide(ctx, STS_EV_CONNECT, AF_INET6, addr);
}

/*
 * Inet socket creation in the policed cgroup, on every kernel: TCP only. UDP is never allowed
 * (no DNS): refused here, at socket(), rather than at each sendmsg() with a destination. A
 * sendmsg hook would cost every process of the device a lock and a pass through its cgroup's
 * empty program array at each unconnected UDP send (2 % of a loopback sendmsg, bench part 1b),
 * for a record that would add only the destination. (Raw sockets too; packet and netlink
 * sockets need the LSM socket_create hook or the seccomp filter.)
 */
SEC("cgroup/sock_create")
int sts_sock_create(struct bpf_sock *sk)
{
	struct sts_event *ev;

	if (sk->type == SOCK_STREAM)
		return 1;
	ev = sts_event_reserve(STS_EV_SOCKET, STS_VERDICT_DENY,
			       sk->type == SOCK_DGRAM ? STS_RULE_UDP : STS_RULE_SOCKET_KIND);
	if (ev) {
		ev->net.family = sk->family;
		ev->net.type = sk->type;
		ev->net.protocol = sk->protocol;
		bpf_ringbuf_submit(ev, 0);
	}
	return 0;
}

/*
 * Device-wide programs, attached to the device cgroup (the cgroup2 root by default) with
 * BPF_F_ALLOW_MULTI semantics (links), so they run for every process next to the policed
 * cgroup's own programs. The policed cgroup is judged by its own programs above.
 */
static __always_inline int device_decide(struct bpf_sock_addr *ctx, __u32 family, const __u32 *addr)
{
	__u16 port = bpf_ntohs(ctx->user_port);
	__u32 flags, rule = 0;

	if (sts_policed())
		return 1;
	flags = endpoint_flags(family, addr, port) | endpoint_flags(family, addr, 0);
	if (flags & STS_EP_LEGACY)
		rule = STS_RULE_LEGACY_ENDPOINT;
	else if (deny_outside && (flags & STS_EP_COLLECTOR))
		rule = STS_RULE_COLLECTOR_OUTSIDE;
	if (!rule)
		return 1;
	net_event(ctx, STS_EV_DEVICE_CONNECT, STS_VERDICT_DENY, rule, family, addr, port);
	return 0;
}

SEC("cgroup/connect4")
int sts_device_connect4(struct bpf_sock_addr *ctx)
{
	__u32 addr[4] = { ctx->user_ip4 };

	return device_decide(ctx, AF_INET, addr);
}

SEC("cgroup/connect6")
int sts_device_connect6(struct bpf_sock_addr *ctx)
{
	__u32 addr[4] = { ctx->user_ip6[0], ctx->user_ip6[1], ctx->user_ip6[2], ctx->user_ip6[3] };

	return device_decide(ctx, AF_INET6, addr);
}

SEC("cgroup/sendmsg4")
int sts_device_sendmsg4(struct bpf_sock_addr *ctx)
{
	__u32 addr[4] = { ctx->user_ip4 };

	return device_decide(ctx, AF_INET, addr);
}

SEC("cgroup/sendmsg6")
int sts_device_sendmsg6(struct bpf_sock_addr *ctx)
{
	__u32 addr[4] = { ctx->user_ip6[0], ctx->user_ip6[1], ctx->user_ip6[2], ctx->user_ip6[3] };

	return device_decide(ctx, AF_INET6, addr);
}

char LICENSE[] SEC("license") = "GPL";
