/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The ABI between the BPF programs (bpf/ directory) and the stsd loader: map keys and values,
 * event records, and the numbers in them. Fixed-width types and explicit enum values only,
 * because both a BPF object and userspace compile this file and must agree byte for byte.
 */
#ifndef STSGUARD_ABI_H
#define STSGUARD_ABI_H

#ifndef __VMLINUX_H__
#include <linux/bpf.h>
#include <linux/types.h>
#endif

#define STS_PATH_MAX 256
#define STS_COMM_LEN 16
#define STS_MAX_RULE_FILES 512
#define STS_MAX_RULE_ENDPOINTS 64
#define STS_EVENTS_RINGBUF_SIZE (256 * 1024)

/* What happened: one event per decision of a hook about a policed (or device-wide) action. */
enum sts_event_type {
	STS_EV_CONNECT = 1, /* TCP/UDP connect: connect4/6 */
	STS_EV_SENDMSG = 2, /* UDP send with a destination (before UDP was refused at socket()) */
	STS_EV_SOCKET = 3, /* socket creation of a forbidden kind */
	STS_EV_UNIX_CONNECT = 4, /* AF_UNIX stream connect or datagram send */
	STS_EV_FILE_OPEN = 5, /* file open */
	STS_EV_EXEC = 6, /* execve */
	STS_EV_LINK = 7, /* hard link creation */
	STS_EV_DEVICE_CONNECT = 8, /* device-wide rule, process outside the policed cgroup */
	STS_EV_PAYLOAD = 9, /* a TLS plaintext write, stopped for the payload check */
	STS_EV_VOLUME = 10, /* egress the byte budget or the record gate refused */
	STS_EV_PTRACE = 11, /* ptrace, /proc/PID/mem or process_vm_* access */
	STS_EV_CLONE = 12, /* fork, clone, a new thread */
	STS_EV_SOCKETS_GONE = 13, /* the policed cgroup's last TCP socket closed (no decision) */
	STS_EV_SIGNAL = 14, /* a signal to a process outside the policed cgroup */
	STS_EV_MOUNT = 15, /* mount, bind mount or move_mount */
	STS_EV_BPF = 16, /* the bpf() system call */
	STS_EV_SYSCALL = 17 /* observe mode: a system call no other observe hook sees */
};

enum sts_verdict {
	STS_VERDICT_ALLOW = 1,
	STS_VERDICT_DENY = 2,
	STS_VERDICT_OBSERVED = 3 /* observe mode: seen, not stopped */
};

/* Why: the rule of the policy that decided. */
enum sts_rule {
	STS_RULE_COLLECTOR = 1, /* allowed: a collector endpoint */
	STS_RULE_NOT_COLLECTOR = 2, /* destination is not a collector endpoint */
	STS_RULE_UDP = 3, /* UDP (DNS included) is never allowed */
	STS_RULE_SOCKET_KIND = 4, /* raw, packet or netlink socket */
	STS_RULE_UNIX_NOT_ALLOWED = 5, /* AF_UNIX peer not named by allow-unix */
	STS_RULE_FILE_NOT_ALLOWED = 6, /* read of a file not allow-listed */
	STS_RULE_WRITE_OUTSIDE_STATE = 7, /* write outside the state directory */
	STS_RULE_EXEC_NOT_ALLOWED = 8, /* exec of a binary not allow-listed */
	STS_RULE_LINK = 9, /* creating hard links is not allowed */
	STS_RULE_COLLECTOR_OUTSIDE = 10, /* deny-outside: only the policed cgroup may reach it */
	STS_RULE_LEGACY_ENDPOINT = 11, /* legacy-deny endpoint, device-wide */
	STS_RULE_OBSERVED = 12, /* observe mode: no rule applied */
	STS_RULE_STATE_LINKED = 13, /* a state-dir file with more than one link */
	STS_RULE_PAYLOAD_PENDING = 14, /* stopped, waiting for the monitor's check */
	STS_RULE_PAYLOAD_SCHEMA = 15, /* the plaintext is not the approved report request */
	STS_RULE_PAYLOAD_SHARED = 16, /* the buffer could change under the check */
	STS_RULE_NOT_TLS = 17, /* egress that is not a TLS record stream */
	STS_RULE_APPDATA_UNCHECKED = 18, /* TLS application data no payload check approved */
	STS_RULE_BUDGET_EXCEEDED = 19, /* more bytes than the TLS allowance */
	STS_RULE_PTRACE = 20, /* tracing into or out of the policed cgroup */
	STS_RULE_PAYLOAD_OK = 21, /* the plaintext is the approved report request */
	STS_RULE_CLONE = 22, /* the policed code may not fork or start threads */
	STS_RULE_SIGNAL = 23, /* signals only within the policed cgroup (not the monitor) */
	STS_RULE_MOUNT = 24, /* no mounts: a bind mount would give a file a second path */
	STS_RULE_BPF = 25, /* no bpf(): the programs that police the cgroup are not its to touch */
	STS_RULE_SYSCALL = 26, /* a system call the seccomp filter refuses (ioctl, keyctl...) */
	STS_RULE_BIND = 27, /* a TCP bind Landlock refuses: the policed code never serves */
	/* (numbered apart from the others so that rules added meanwhile elsewhere do not clash) */
	STS_RULE_TLS_SHAPE = 40, /* a TLS record a TLS 1.3 client does not send at that point */
	STS_RULE_TLS_HELLO = 41 /* a ClientHello carrying what a TLS 1.3 client does not need */
};

/* Endpoint map key: the collector endpoints and the device-wide deny list. */
struct sts_endpoint_key {
	__u32 family; /* AF_INET or AF_INET6 */
	__u16 port; /* host order; 0 in legacy-deny means every port */
	__u16 pad;
	__u8 addr[16]; /* network order; IPv4 in the first four bytes */
};

/* Endpoint map value. */
enum sts_endpoint_flags { STS_EP_COLLECTOR = 1, STS_EP_LEGACY = 2 };

/* File identity: what allow-read, allow-read-dir, allow-exec and state-dir resolve to. */
struct sts_file_key {
	__u64 ino;
	__u32 dev; /* kernel encoding: major << 20 | minor */
	__u32 pad;
};

enum sts_file_flags {
	STS_F_READ = 1, /* the file itself may be read */
	STS_F_EXEC = 2, /* the file may be executed (and mapped as an interpreter) */
	STS_F_READ_DIR = 4, /* a directory whose direct children may be read */
	STS_F_STATE_DIR = 8, /* a directory whose direct children may be read and written */
	STS_F_UNIX = 16 /* an AF_UNIX socket inode that may be connected to */
};

/* Per hook, which mode the loader chose; the programs read it from rodata. */
enum sts_mode { STS_MODE_OFF = 0, STS_MODE_OBSERVE = 1, STS_MODE_ENFORCE = 2 };

struct sts_event {
	__u32 type; /* enum sts_event_type */
	__u32 verdict; /* enum sts_verdict */
	__u32 rule; /* enum sts_rule */
	__u32 pid; /* thread id */
	__u32 tgid; /* process id */
	__u32 uid;
	/*
	 * Observe mode (verdict STS_VERDICT_OBSERVED): what enforce mode would have decided, by
	 * the same rule code as the LSM hook (bpf/rules.bpf.h); 0 when it depends on more than
	 * the observe hook sees (a signal's target, an AF_UNIX peer).
	 */
	__u32 would_verdict; /* enum sts_verdict, or 0 */
	__u32 would_rule; /* enum sts_rule, or 0 */
	__u64 ts_ns; /* bpf_ktime_get_ns() */
	__u64 cgroup_id;
	char comm[STS_COMM_LEN];
	union {
		struct {
			__u32 family;
			__u32 type; /* SOCK_STREAM, SOCK_DGRAM, SOCK_RAW ... */
			__u32 protocol;
			__u16 port; /* host order */
			__u16 pad;
			__u8 addr[16];
			__u32 bytes; /* STS_EV_VOLUME: the refused record's length */
		} net;
		struct {
			__u64 ino;
			__u32 dev;
			__u32 flags; /* open flags (f_flags) */
			__u32 fmode; /* FMODE_* */
			/*
			 * observe mode: the open's errno when it failed, else 0; a seccomp
			 * refusal (STS_EV_SYSCALL): 1 when fmode holds the second argument
			 */
			__u32 result;
			char path[STS_PATH_MAX];
		} file;
	};
};

/*
 * The payload check (G4): the uprobe on SSL_write/SSL_write_ex copies the plaintext into this
 * event and stops the writer (SIGSTOP) before a byte of it is encrypted; the monitor checks
 * the copy and resumes the writer (SIGCONT, with egress credit) or kills it (SIGKILL).
 */
#define STS_PAYLOAD_COPY 16384 /* one TLS record of plaintext */

enum sts_payload_flags {
	STS_PAYLOAD_SHARED_MM = 1, /* another task shares the address space (threads) */
	STS_PAYLOAD_SHARED_MAP = 2, /* the buffer lies in a MAP_SHARED mapping */
	STS_PAYLOAD_NO_VMA = 4 /* the buffer is not inside one mapping */
};

struct sts_payload_event {
	struct sts_event ev; /* type STS_EV_PAYLOAD */
	__u64 buf; /* the writer's buffer address */
	__u64 len; /* the plaintext length SSL_write was given */
	__u32 copied; /* bytes of it in data */
	__u32 flags; /* enum sts_payload_flags */
	__u8 data[STS_PAYLOAD_COPY];
};

/* The egress budget (G5): one entry, updated by the monitor after each approved payload. */
struct sts_budget {
	struct bpf_spin_lock lock;
	__s64 allowance; /* bytes of handshake/alert/small records still allowed */
	__s64 credit; /* bytes of application data records approved by payload checks */
	__u64 dropped; /* bytes refused */
	__u32 hellos; /* ClientHello records let go in this run */
	__u32 pad;
};

/*
 * ClientHello records per run (stsd run sends one report, a daemon attempt is one run): one
 * connection and its retry after a HelloRetryRequest, or two connections. Each carries chosen
 * bytes (its random, session id, key share): the allowance alone would pay for seven.
 */
#define STS_TLS_MAX_HELLOS 2

/* TLS 1.3 records of application-data type this short carry no report: Finished, alerts. */
#define STS_TLS_SMALL_RECORD 80
/*
 * The TLS 1.3 client's encrypted records the egress gate lets go on the allowance, by their
 * exact length: Finished (a 32- or 48-byte verify_data, its 4-byte handshake header, the inner
 * content type, a 16-byte AEAD tag: SHA-256 or SHA-384 suites) and close_notify (2 bytes of
 * alert, the content type, the tag). No padding: OpenSSL pads no record unless told to.
 */
#define STS_TLS_FINISHED_SHA256 53
#define STS_TLS_FINISHED_SHA384 69
#define STS_TLS_CLOSE_NOTIFY 19

#endif /* STSGUARD_ABI_H */
