// SPDX-License-Identifier: GPL-2.0-only
/*
 * Volume (G5): the egress gate of the policed cgroup. Every TCP byte it sends is parsed as a
 * stream of TLS records, per connection (socket storage), in sequence-number order:
 *  - handshake, change_cipher_spec and alert records, and application_data records of at most
 *    STS_TLS_SMALL_RECORD bytes (TLS 1.3's encrypted Finished, close_notify), are charged to
 *    the TLS allowance of the policy;
 *  - larger application_data records are charged to the credit that only the monitor grants,
 *    after a passed payload check, for exactly the approved plaintext plus record overhead;
 *  - the records must come in the shape of a TLS 1.3 client's connection (shape()): one
 *    ClientHello (a second after a retry), one 1-byte ChangeCipherSpec, then only encrypted
 *    records, Finished and close_notify of their exact sizes, nothing after close_notify;
 *  - anything that is not a TLS record (clear-text HTTP), that is out of that shape, or that
 *    the allowance or the credit cannot pay for, is dropped, the connection is blocked, and
 *    one event says so.
 * So application data cannot leave without a passed payload check, whichever TLS stack sends
 * it, and the bytes that leave unchecked are bounded by the allowance.
 */
#include "common.bpf.h"

#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define IPPROTO_TCP 6
#define TLS_CCS 20
#define TLS_ALERT 21
#define TLS_HANDSHAKE 22
#define TLS_APPDATA 23
#define TLS_MAX_RECORD (16384 + 256)
#define MAX_RECORDS_PER_SEGMENT 64

/* Where a connection is in what a TLS 1.3 client sends (shape()). */
enum { PH_HELLO, PH_ENCRYPTED, PH_CLOSED };

struct flow {
	__u32 next_seq; /* first byte not judged yet */
	__u32 rec_left; /* bytes of the current record's body still to come */
	__u8 hdr[5]; /* a record header split across segments */
	__u8 hdr_have;
	__u8 init;
	__u8 blocked;
	/* the shape of the record stream so far */
	__u8 phase;
	__u8 n_hello; /* ClientHello records: the first, and one after a HelloRetryRequest */
	__u8 n_ccs; /* 1-byte ChangeCipherSpec records (middlebox compatibility) */
	__u8 n_small; /* small encrypted records: Finished, then close_notify */
};

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct flow);
} flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sts_budget);
} budget SEC(".maps");

/*
 * TCP sockets of the policed cgroup still alive. A socket outlives its process (an orphan
 * retransmits what it could not send), so the monitor keeps this gate attached until the count
 * is zero: detaching earlier would let a refused segment through on its next retransmission.
 */
__s64 live_sockets;

#define SOL_TCP 6
#define TCP_USER_TIMEOUT 18
/* A connection whose data stays unacknowledged (refused here) this long is aborted. */
#define STS_TCP_USER_TIMEOUT_MS 5000

static __always_inline void volume_event(struct __sk_buff *skb, __u32 rule, __u32 bytes)
{
	struct sts_event *ev = sts_event_reserve_anon(STS_EV_VOLUME, STS_VERDICT_DENY, rule);
	struct bpf_sock *sk = skb->sk;

	if (!ev)
		return;
	ev->net.bytes = bytes;
	ev->net.type = SOCK_STREAM;
	if (sk) {
		ev->net.family = sk->family;
		ev->net.port = bpf_ntohs(sk->dst_port);
		if (sk->family == AF_INET) {
			__u32 a = sk->dst_ip4;

			__builtin_memcpy(ev->net.addr, &a, 4);
		} else {
			__u32 a[4] = { sk->dst_ip6[0], sk->dst_ip6[1], sk->dst_ip6[2],
				       sk->dst_ip6[3] };

			__builtin_memcpy(ev->net.addr, a, 16);
		}
	}
	bpf_ringbuf_submit(ev, 0);
}

/* A record refused before it was charged (out of shape): counted with the rest refused. */
static __always_inline void count_dropped(__u32 cost)
{
	struct sts_budget *b;
	__u32 zero = 0;

	b = bpf_map_lookup_elem(&budget, &zero);
	if (!b)
		return;
	bpf_spin_lock(&b->lock);
	b->dropped += cost;
	bpf_spin_unlock(&b->lock);
}

/* Charge one record to the budget; 0 when it may go, else the rule that refuses it. */
static __always_inline __u32 charge(__u8 type, __u8 vmaj, __u32 len)
{
	__u32 zero = 0, rule = 0;
	struct sts_budget *b;
	__s64 cost = len + 5;

	if (vmaj != 3 || len > TLS_MAX_RECORD ||
	    (type != TLS_CCS && type != TLS_ALERT && type != TLS_HANDSHAKE && type != TLS_APPDATA))
		return STS_RULE_NOT_TLS;
	b = bpf_map_lookup_elem(&budget, &zero);
	if (!b)
		return STS_RULE_BUDGET_EXCEEDED;
	bpf_spin_lock(&b->lock);
	if (type == TLS_APPDATA && len > STS_TLS_SMALL_RECORD) {
		if (b->credit >= cost)
			b->credit -= cost;
		else
			rule = STS_RULE_APPDATA_UNCHECKED;
	} else {
		if (b->allowance >= cost)
			b->allowance -= cost;
		else
			rule = STS_RULE_BUDGET_EXCEEDED;
	}
	if (rule)
		b->dropped += cost;
	bpf_spin_unlock(&b->lock);
	return rule;
}

/*
 * Is this record one a TLS 1.3 client sends at this point of its connection? In order: a
 * ClientHello (a handshake record whose first body byte is client_hello), at most one 1-byte
 * ChangeCipherSpec and one more ClientHello (after a HelloRetryRequest); then only encrypted
 * records: Finished of its exact size, the request (large, paid by the payload check's credit),
 * close_notify of its exact size, and nothing after it. A plaintext alert of 2 bytes ends the
 * connection. first: the record's first body byte, or -1 when it is not in this segment.
 * 0 when it may go, else STS_RULE_TLS_SHAPE.
 */
static __always_inline __u32 shape(struct flow *f, __u8 type, __u32 len, int first)
{
	if (f->phase == PH_CLOSED)
		return STS_RULE_TLS_SHAPE;
	switch (type) {
	case TLS_HANDSHAKE:
		if (f->phase != PH_HELLO || f->n_hello >= 2 || first != 1)
			return STS_RULE_TLS_SHAPE;
		f->n_hello++;
		return 0;
	case TLS_CCS:
		if (f->phase != PH_HELLO || !f->n_hello || f->n_ccs || len != 1)
			return STS_RULE_TLS_SHAPE;
		f->n_ccs = 1;
		return 0;
	case TLS_ALERT:
		if (len != 2)
			return STS_RULE_TLS_SHAPE;
		f->phase = PH_CLOSED;
		return 0;
	case TLS_APPDATA:
		if (!f->n_hello)
			return STS_RULE_TLS_SHAPE;
		f->phase = PH_ENCRYPTED;
		if (len > STS_TLS_SMALL_RECORD)
			return 0; /* the request: the credit decides */
		if (f->n_small == 0 && len != STS_TLS_FINISHED_SHA256 &&
		    len != STS_TLS_FINISHED_SHA384)
			return STS_RULE_TLS_SHAPE;
		if (f->n_small >= 1) {
			if (len != STS_TLS_CLOSE_NOTIFY)
				return STS_RULE_TLS_SHAPE;
			f->phase = PH_CLOSED;
		}
		f->n_small++;
		return 0;
	}
	return 0; /* another type: charge() refuses it as not TLS */
}

SEC("cgroup_skb/egress")
int sts_egress(struct __sk_buff *skb)
{
	__u32 ip_hl, off, plen, seq, pos, rule = 0, rec_len = 0, i;
	struct bpf_sock *sk;
	struct flow *f;
	__u8 b, doff;
	int first;
	__s32 d;

	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		__u8 vihl, proto;

		if (bpf_skb_load_bytes(skb, 0, &vihl, 1) || bpf_skb_load_bytes(skb, 9, &proto, 1))
			return 0;
		if (proto != IPPROTO_TCP)
			goto not_tcp;
		ip_hl = (vihl & 0xf) * 4;
	} else if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
		__u8 nexthdr;

		if (bpf_skb_load_bytes(skb, 6, &nexthdr, 1))
			return 0;
		/* The policed code has no business with extension headers. */
		if (nexthdr != IPPROTO_TCP)
			goto not_tcp;
		ip_hl = 40;
	} else {
		goto not_tcp;
	}
	if (bpf_skb_load_bytes(skb, ip_hl + 4, &seq, 4) ||
	    bpf_skb_load_bytes(skb, ip_hl + 12, &doff, 1))
		return 0;
	seq = bpf_ntohl(seq);
	off = ip_hl + (doff >> 4) * 4;
	if (skb->len <= off)
		return 1; /* no payload: SYN, ACK, FIN, RST */
	plen = skb->len - off;

	sk = skb->sk;
	if (!sk)
		return 0;
	sk = bpf_sk_fullsock(sk);
	if (!sk)
		return 0;
	f = bpf_sk_storage_get(&flows, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (!f)
		return 0;
	if (f->blocked)
		return 0;
	if (!f->init) {
		f->next_seq = seq;
		f->init = 1;
	}
	d = (__s32)(seq - f->next_seq);
	if (d + (__s32)plen <= 0)
		return 1; /* a retransmission of bytes already judged */
	if (d > 0)
		return 0; /* bytes after a gap: the gap's bytes were refused */
	pos = -d;

	for (i = 0; i < MAX_RECORDS_PER_SEGMENT * 6 && pos < plen; i++) {
		if (f->rec_left) {
			__u32 take = plen - pos;

			if (take > f->rec_left)
				take = f->rec_left;
			f->rec_left -= take;
			pos += take;
			continue;
		}
		/* One header byte per iteration: headers may be split across segments. */
		if (bpf_skb_load_bytes(skb, off + pos, &b, 1))
			return 0;
		pos++;
		if (f->hdr_have < 5)
			f->hdr[f->hdr_have & 7] = b;
		f->hdr_have++;
		if (f->hdr_have < 5)
			continue;
		f->hdr_have = 0;
		rec_len = (__u32)f->hdr[3] << 8 | f->hdr[4];
		first = -1;
		if (pos < plen && !bpf_skb_load_bytes(skb, off + pos, &b, 1))
			first = b;
		rule = shape(f, f->hdr[0], rec_len, first);
		if (rule)
			count_dropped(rec_len + 5);
		else
			rule = charge(f->hdr[0], f->hdr[1], rec_len);
		if (rule)
			break;
		f->rec_left = rec_len;
	}
	if (!rule && pos < plen)
		rule = STS_RULE_NOT_TLS; /* more records in one segment than we walk */
	if (rule) {
		f->blocked = 1;
		volume_event(skb, rule, rule == STS_RULE_NOT_TLS ? plen : rec_len);
		return 0;
	}
	f->next_seq = seq + plen;
	return 1;
not_tcp:
	/* UDP and the rest were refused at connect/sendmsg/socket; nothing else may leave. */
	volume_event(skb, STS_RULE_NOT_TLS, skb->len);
	return 0;
}

SEC("sockops")
int sts_sockops(struct bpf_sock_ops *skops)
{
	int timeout = STS_TCP_USER_TIMEOUT_MS;

	switch (skops->op) {
	case BPF_SOCK_OPS_TCP_CONNECT_CB:
	case BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB:
		__sync_fetch_and_add(&live_sockets, 1);
		bpf_sock_ops_cb_flags_set(skops, skops->bpf_sock_ops_cb_flags |
							 BPF_SOCK_OPS_STATE_CB_FLAG);
		/* Refused data is never acknowledged: the connection dies instead of lingering. */
		bpf_setsockopt(skops, SOL_TCP, TCP_USER_TIMEOUT, &timeout, sizeof(timeout));
		break;
	case BPF_SOCK_OPS_STATE_CB:
		/* The last one tells the monitor, which waits for it instead of polling a count. */
		if (skops->args[1] == BPF_TCP_CLOSE &&
		    __sync_fetch_and_add(&live_sockets, -1) == 1) {
			struct sts_event *ev = sts_event_reserve_anon(STS_EV_SOCKETS_GONE, 0, 0);

			if (ev)
				bpf_ringbuf_submit(ev, 0);
		}
		break;
	}
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
