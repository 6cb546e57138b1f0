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
 *    ClientHello (a second only after the server's HelloRetryRequest came in), one 1-byte
 *    ChangeCipherSpec, then, once the server's ServerHello came in (sts_ingress), only
 *    encrypted records, Finished and close_notify of their exact sizes, nothing after
 *    close_notify;
 *  - the ClientHello carries only what a TLS 1.3 client needs (ch_check()): an SNI that is the
 *    collector-host byte for byte, extensions from a fixed list, each with the values or the
 *    lengths a client uses, zero padding, no resumption identity;
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
	/* the server's first flight, seen coming in (sts_ingress) */
	__u8 srv_hrr; /* a HelloRetryRequest: one more ClientHello may go */
	__u8 srv_hello; /* a ServerHello: encrypted records may go */
};

/*
 * The collector-host of stsd.conf (the Host header's name too): the one name an SNI may carry,
 * byte for byte. Empty: no SNI at all.
 */
const volatile char tls_host[256];
const volatile __u32 tls_host_len;

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
	} else if (type == TLS_HANDSHAKE && b->hellos >= STS_TLS_MAX_HELLOS) {
		rule = STS_RULE_TLS_HELLO;
	} else {
		if (b->allowance >= cost) {
			b->allowance -= cost;
			if (type == TLS_HANDSHAKE)
				b->hellos++;
		} else {
			rule = STS_RULE_BUDGET_EXCEEDED;
		}
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
 * close_notify of its exact size, and nothing after it. The server's side decides two steps:
 * the second ClientHello needs its HelloRetryRequest, encrypted records its ServerHello. A
 * plaintext alert of 2 bytes ends the connection. first: the record's first body byte, or -1 when
 * it is not in this segment. 0 when it may go, else STS_RULE_TLS_SHAPE.
 */
static __always_inline __u32 shape(struct flow *f, __u8 type, __u32 len, int first)
{
	if (f->phase == PH_CLOSED)
		return STS_RULE_TLS_SHAPE;
	/*
	 * The record's version: 3,3, or 3,1 on a ClientHello or an alert before the keys (what
	 * OpenSSL writes): no chosen byte in each record's header.
	 */
	if (type < TLS_CCS || type > TLS_APPDATA || f->hdr[1] != 3)
		return 0; /* not a TLS record: charge() refuses it as such */
	if (f->hdr[2] != 3 && !(f->hdr[2] == 1 && (type == TLS_HANDSHAKE || type == TLS_ALERT)))
		return STS_RULE_TLS_SHAPE;
	switch (type) {
	case TLS_HANDSHAKE:
		if (f->phase != PH_HELLO || f->n_hello >= 2 || first != 1)
			return STS_RULE_TLS_SHAPE;
		/* The second ClientHello answers a HelloRetryRequest, nothing else. */
		if (f->n_hello == 1 && (!f->srv_hrr || f->srv_hello))
			return STS_RULE_TLS_SHAPE;
		f->n_hello++;
		return 0;
	case TLS_CCS:
		/* Its one byte is 1: a chosen byte otherwise. */
		if (f->phase != PH_HELLO || !f->n_hello || f->n_ccs || len != 1 || first != 1)
			return STS_RULE_TLS_SHAPE;
		f->n_ccs = 1;
		return 0;
	case TLS_ALERT:
		if (len != 2)
			return STS_RULE_TLS_SHAPE;
		f->phase = PH_CLOSED;
		return 0;
	case TLS_APPDATA:
		/* Encrypted records need the server's keys: none before its ServerHello came in. */
		if (!f->n_hello || !f->srv_hello)
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

/*
 * The ClientHello (ch_check() and its parts): what a TLS 1.3 client by OpenSSL sends (the
 * agent, curl, openssl s_client; docs/policy.md "What a ClientHello may carry"), and nothing
 * else. Each part is a global function: the verifier checks it once, not once per call site.
 * at: the offset in skb of the part's first byte, len: its length. 0 when it may go.
 */
#define CH_MAX 2048 /* OpenSSL's ClientHello is 220..520 bytes */

static __always_inline int ld8(struct __sk_buff *skb, __u32 at, __u32 *v)
{
	__u8 b;

	if (bpf_skb_load_bytes(skb, at, &b, 1))
		return -1;
	*v = b;
	return 0;
}

static __always_inline int ld16(struct __sk_buff *skb, __u32 at, __u32 *v)
{
	__u8 b[2];

	if (bpf_skb_load_bytes(skb, at, b, 2))
		return -1;
	*v = (__u32)b[0] << 8 | b[1];
	return 0;
}

/* server_name: one host_name entry, the collector-host byte for byte (no case, no dot). */
__noinline int ch_sni(struct __sk_buff *skb, __u32 at, __u32 len)
{
	__u32 list, type, n, i, b;

	if (!tls_host_len || len != tls_host_len + 5 || ld16(skb, at, &list) || list != len - 2 ||
	    ld8(skb, at + 2, &type) || type != 0 || ld16(skb, at + 3, &n) || n != tls_host_len)
		return 1;
	for (i = 0; i < 255; i++) {
		if (i >= n)
			break;
		if (ld8(skb, at + 5 + i, &b) || b != (__u8)tls_host[i])
			return 1;
	}
	return 0;
}

/* application_layer_protocol_negotiation: at most "h2" and "http/1.1". */
__noinline int ch_alpn(struct __sk_buff *skb, __u32 at, __u32 len)
{
	__u32 list, p = 2, n, i;
	__u64 v = 0;

	if (ld16(skb, at, &list) || list != len - 2 || len > 2 + 3 + 9)
		return 1;
	for (i = 0; i < 2; i++) {
		if (p >= len)
			break;
		if (ld8(skb, at + p, &n))
			return 1;
		if (n == 2) {
			if (bpf_skb_load_bytes(skb, at + p + 1, &v, 2) || v != 0x3268) /* "h2" */
				return 1;
		} else if (n == 8) {
			if (bpf_skb_load_bytes(skb, at + p + 1, &v, 8) ||
			    v != 0x312e312f70747468ULL) /* "http/1.1" */
				return 1;
		} else {
			return 1;
		}
		p += 1 + n;
	}
	return p == len ? 0 : 1;
}

/* padding: zeros only, at most 512 of them. */
__noinline int ch_zero(struct __sk_buff *skb, __u32 at, __u32 len)
{
	__u32 i, b;
	__u64 v;

	if (len > 512)
		return 1;
	for (i = 0; i < 64; i++) {
		if (i * 8 + 8 > len)
			break;
		if (bpf_skb_load_bytes(skb, at + i * 8, &v, 8) || v)
			return 1;
	}
	for (i = i * 8; i < len && i < 512; i++)
		if (ld8(skb, at + i, &b) || b)
			return 1;
	return 0;
}

/*
 * key_share: none (to be asked for one) or one X25519 share (32 bytes), what OpenSSL, curl and
 * the agent send first. An elliptic-curve point's coordinates would be chosen bytes the gate
 * cannot check for being on the curve (64 for P-256, 132 for P-521); X25519 keeps it at 32.
 */
__noinline int ch_key_share(struct __sk_buff *skb, __u32 at, __u32 len)
{
	__u32 list, group, n;

	if (ld16(skb, at, &list) || list != len - 2)
		return 1;
	if (!list)
		return 0;
	if (ld16(skb, at + 2, &group) || ld16(skb, at + 4, &n) || n + 4 != list)
		return 1;
	return group == 0x001d && n == 32 ? 0 : 1;
}

/*
 * A list of 16-bit values (supported_groups, supported_versions, cipher suites...): kind says
 * which values are allowed, how many, and the size of the list's length prefix.
 */
enum { L_GROUPS, L_VERSIONS, L_SUITES, L_SIGALGS, L_CERTCOMP };

static __always_inline bool value_ok(__u32 kind, __u32 v)
{
	switch (kind) {
	case L_GROUPS: /* the elliptic curves and finite-field groups OpenSSL knows */
		return (v >= 0x0017 && v <= 0x001e) || (v >= 0x0100 && v <= 0x0104);
	case L_VERSIONS: /* TLS 1.0 .. 1.3 */
		return v >= 0x0301 && v <= 0x0304;
	case L_SUITES:
		/*
		 * TLS 1.3's suites and the renegotiation SCSV OpenSSL adds: the shape admits
		 * nothing older, so a TLS 1.2 suite offered is only a place for chosen bits (a
		 * client offers TLS 1.3 alone: curl --tlsv1.3, openssl s_client -tls1_3,
		 * SSL_CTX_set_min_proto_version(TLS1_3_VERSION)).
		 */
		return (v >= 0x1301 && v <= 0x1305) || v == 0x00ff;
	case L_CERTCOMP: /* zlib, brotli, zstd */
		return v >= 1 && v <= 3;
	default:
		/*
		 * Signature schemes: RSA PKCS#1 and ECDSA with SHA-1..SHA-512 (0x0201..0x0603,
		 * low byte 1..3), RSA-PSS and EdDSA (0x0804..0x080b).
		 */
		return (v >= 0x0201 && v <= 0x0603 && (v & 0xff) >= 1 && (v & 0xff) <= 3) ||
		       (v >= 0x0804 && v <= 0x080b);
	}
}

__noinline int ch_list16(struct __sk_buff *skb, __u32 at, __u32 len, __u32 kind)
{
	__u32 n, i, v, prefix, max;

	switch (kind) {
	case L_SUITES:
		prefix = 0, max = 6;
		break;
	case L_VERSIONS:
		prefix = 1, max = 4;
		break;
	case L_CERTCOMP:
		prefix = 1, max = 3;
		break;
	case L_GROUPS:
		prefix = 2, max = 16;
		break;
	default:
		prefix = 2, max = 24;
	}
	if (prefix == 2) {
		if (ld16(skb, at, &n) || n != len - 2)
			return 1;
	} else if (prefix == 1) {
		if (ld8(skb, at, &n) || n != len - 1)
			return 1;
	} else {
		n = len;
	}
	if (!n || n & 1 || n > max * 2)
		return 1;
	for (i = 0; i < 32; i++) {
		if (i * 2 >= n)
			break;
		if (ld16(skb, at + prefix + i * 2, &v) || !value_ok(kind, v))
			return 1;
	}
	return 0;
}

/* A list of bytes with a 1-byte length prefix, each at most max (ec_point_formats...). */
__noinline int ch_list8(struct __sk_buff *skb, __u32 at, __u32 len, __u32 max)
{
	__u32 n, i, v;

	if (!len || len > 8 || ld8(skb, at, &n) || n != len - 1)
		return 1;
	for (i = 1; i < 8; i++) {
		if (i >= len)
			break;
		if (ld8(skb, at + i, &v) || v > max)
			return 1;
	}
	return 0;
}

/* Each extension type's bit in the set of those seen; -1 for the types not allowed. */
static __always_inline int ext_bit(__u32 type)
{
	switch (type) {
	case 0: /* server_name */
		return 0;
	case 5: /* status_request */
		return 1;
	case 10: /* supported_groups */
		return 2;
	case 11: /* ec_point_formats */
		return 3;
	case 13: /* signature_algorithms */
		return 4;
	case 16: /* application_layer_protocol_negotiation */
		return 5;
	case 18: /* signed_certificate_timestamp */
		return 6;
	case 21: /* padding */
		return 7;
	case 22: /* encrypt_then_mac */
		return 8;
	case 23: /* extended_master_secret */
		return 9;
	case 27: /* compress_certificate */
		return 10;
	case 35: /* session_ticket, empty: a ticket is chosen bytes */
		return 12;
	case 43: /* supported_versions */
		return 13;
	case 45: /* psk_key_exchange_modes */
		return 14;
	case 49: /* post_handshake_auth */
		return 15;
	case 50: /* signature_algorithms_cert */
		return 16;
	case 51: /* key_share */
		return 17;
	case 0xff01: /* renegotiation_info, empty */
		return 18;
	}
	/* pre_shared_key and early_data (resumption: chosen identities), GREASE, the rest */
	return -1;
}

static __always_inline int ext_ok(struct __sk_buff *skb, __u32 at, __u32 type, __u32 len)
{
	__u32 v;
	__u64 w = 0;

	switch (type) {
	case 0:
		return ch_sni(skb, at, len);
	case 5: /* OCSP, no responder ids, no extensions */
		return len == 5 && !bpf_skb_load_bytes(skb, at, &w, 5) && w == 1 ? 0 : 1;
	case 10:
		return ch_list16(skb, at, len, L_GROUPS);
	case 11: /* uncompressed, ansiX962 compressed prime, char2: at most 3 of them */
		return len <= 4 ? ch_list8(skb, at, len, 2) : 1;
	case 13:
	case 50:
		return ch_list16(skb, at, len, L_SIGALGS);
	case 16:
		return ch_alpn(skb, at, len);
	case 21:
		return ch_zero(skb, at, len);
	case 27:
		return ch_list16(skb, at, len, L_CERTCOMP);
	case 43:
		return ch_list16(skb, at, len, L_VERSIONS);
	case 45: /* psk_ke, psk_dhe_ke */
		return len <= 3 ? ch_list8(skb, at, len, 1) : 1;
	case 51:
		return ch_key_share(skb, at, len);
	case 0xff01:
		return len == 1 && !ld8(skb, at, &v) && v == 0 ? 0 : 1;
	default: /* signed_certificate_timestamp, encrypt_then_mac, extended_master_secret,
		    session_ticket, post_handshake_auth: empty */
		return len ? 1 : 0;
	}
}

/*
 * One extension, seen: the set of the types already seen. The new set, or -1 when the type is
 * not allowed, comes twice, or carries what it may not (a global function: the verifier need
 * not follow every set of types the loop of ch_exts() could see).
 */
__noinline int ch_ext(struct __sk_buff *skb, __u32 at, __u32 type, __u32 len, __u32 seen)
{
	int bit = ext_bit(type);

	if (bit < 0 || (seen >> bit) & 1 || ext_ok(skb, at, type, len))
		return -1;
	return seen | 1U << bit;
}

__noinline int ch_exts(struct __sk_buff *skb, __u32 at, __u32 len)
{
	__u32 p = 0, i, seen = 0, type, n;
	int r;

	for (i = 0; i < 24; i++) {
		if (p >= len)
			break;
		if (p + 4 > len || ld16(skb, at + p, &type) || ld16(skb, at + p + 2, &n) ||
		    p + 4 + n > len)
			return 1;
		r = ch_ext(skb, at + p + 4, type, n, seen);
		if (r < 0)
			return 1;
		seen = r;
		p += 4 + n;
	}
	/* supported_versions is what makes it TLS 1.3; the shape admits nothing older. */
	return p == len && (seen >> 13) & 1 ? 0 : 1;
}

/*
 * The handshake record's body: one ClientHello message, whole. legacy_version 1.2, the
 * random (32 chosen bytes, see the residual channel), a session id of 0 or 32 bytes, at most 32
 * cipher suites, null compression, then the extensions.
 */
__noinline int ch_check(struct __sk_buff *skb, __u32 at, __u32 len)
{
	__u8 h[39];
	__u32 sid, n, p, comp;

	if (len < sizeof(h) + 2 + 2 + 2 + 2 || len > CH_MAX ||
	    bpf_skb_load_bytes(skb, at, h, sizeof(h)))
		return 1;
	if (h[0] != 1 || ((__u32)h[1] << 16 | (__u32)h[2] << 8 | h[3]) != len - 4 || h[4] != 3 ||
	    h[5] != 3)
		return 1;
	sid = h[38];
	if (sid != 0 && sid != 32)
		return 1;
	p = sizeof(h) + sid;
	if (ld16(skb, at + p, &n) || n < 2 || n > 64 || p + 2 + n > len ||
	    ch_list16(skb, at + p + 2, n, L_SUITES))
		return 1;
	p += 2 + n;
	if (ld16(skb, at + p, &comp) || comp != 0x0100)
		return 1;
	p += 2;
	if (ld16(skb, at + p, &n) || p + 2 + n != len)
		return 1;
	return ch_exts(skb, at + p + 2, n);
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
		/*
		 * Nor with IP options: up to 40 bytes of its choice in every packet's header (a
		 * record-route option marked full keeps them as written), past every check below.
		 * The seccomp filter refuses IP_OPTIONS; this holds whatever set them.
		 */
		if (ip_hl != 20)
			goto not_tcp;
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
		/*
		 * A ClientHello is judged whole, so it must come whole in one segment (OpenSSL
		 * writes it with one write(); a split one is refused, not trusted in parts).
		 */
		if (!rule && f->hdr[0] == TLS_HANDSHAKE &&
		    (pos + rec_len > plen || ch_check(skb, off + pos, rec_len)))
			rule = STS_RULE_TLS_HELLO;
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

/*
 * The server's side, coming in: the segment that starts its first flight, a handshake record
 * whose message is a ServerHello, says whether it is a HelloRetryRequest (one more ClientHello
 * may go) or the ServerHello (encrypted records may go, shape()). Nothing is refused here: the
 * collector is an allowed endpoint (G1); this only tells the egress gate what came in.
 */
SEC("cgroup_skb/ingress")
int sts_ingress(struct __sk_buff *skb)
{
	__u32 ip_hl, off;
	struct bpf_sock *sk;
	__u8 h[6], doff;
	struct flow *f;
	__u64 r[4];
	bool hrr;

	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		__u8 vihl, proto;

		if (bpf_skb_load_bytes(skb, 0, &vihl, 1) || bpf_skb_load_bytes(skb, 9, &proto, 1) ||
		    proto != IPPROTO_TCP)
			return 1;
		ip_hl = (vihl & 0xf) * 4;
	} else if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
		__u8 nexthdr;

		if (bpf_skb_load_bytes(skb, 6, &nexthdr, 1) || nexthdr != IPPROTO_TCP)
			return 1;
		ip_hl = 40;
	} else {
		return 1;
	}
	if (bpf_skb_load_bytes(skb, ip_hl + 12, &doff, 1))
		return 1;
	off = ip_hl + (doff >> 4) * 4;
	/* record header, handshake header, legacy_version, random */
	if (skb->len < off + 5 + 4 + 2 + 32 || bpf_skb_load_bytes(skb, off, h, sizeof(h)) ||
	    h[0] != TLS_HANDSHAKE || h[1] != 3 || h[5] != 2 /* server_hello */ ||
	    bpf_skb_load_bytes(skb, off + 11, r, sizeof(r)))
		return 1;
	sk = skb->sk;
	if (!sk)
		return 1;
	sk = bpf_sk_fullsock(sk);
	if (!sk)
		return 1;
	/* Only connections the policed code opened and wrote a ClientHello on. */
	f = bpf_sk_storage_get(&flows, sk, 0, 0);
	if (!f || !f->n_hello)
		return 1;
	/* The random of a HelloRetryRequest (RFC 8446, 4.1.3), as little-endian words. */
	hrr = r[0] == 0x11619ae574ad21cfULL && r[1] == 0x91b8651e028c1dbeULL &&
	      r[2] == 0x5e8cbb7a1611a2c2ULL && r[3] == 0x9c33a8c8e2099e07ULL;
	if (hrr)
		f->srv_hrr = 1;
	else if (f->n_hello == 2 || !f->srv_hrr)
		f->srv_hello = 1;
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
