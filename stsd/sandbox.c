// SPDX-License-Identifier: GPL-2.0-only
/*
 * Containment beside the BPF programs (stsd/sandbox.h): the seccomp filter and Landlock
 * ruleset CMD gets before exec, and the monitor's side of the filter's user notifications.
 *
 * Why seccomp user notification (SECCOMP_RET_USER_NOTIF) for the refusals: the refused call
 * waits in the kernel until the monitor has read it (pid, number, arguments: an ioctl's request,
 * a socket's family, a signal's target) and answered EPERM, so a refusal cannot happen without
 * its record and cannot be lost to a full buffer. SECCOMP_RET_LOG goes to the audit log (rate
 * limited, often not running on a phone) and does not refuse; SECCOMP_RET_TRACE needs a ptrace
 * tracer on CMD; watching sys_exit for the errno needs a system call tracepoint, which puts every
 * process of the device on the tracing slow path. A kernel without user notification (before
 * 5.0) gets SECCOMP_RET_ERRNO: refused, not recorded, and the start record says so.
 */
#include "sandbox.h"
#include "core/util.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

/*
 * Landlock ABIs newer than Debian 12's linux-libc-dev (6.1 headers know ABI 2): the values of
 * the kernel's include/uapi/linux/landlock.h, defined here so that one binary uses what the
 * running kernel offers.
 */
#define STS_LL_FS_TRUNCATE (1ULL << 14) /* ABI 3, Linux 6.2 */
#define STS_LL_FS_IOCTL_DEV (1ULL << 15) /* ABI 5, Linux 6.10 */
#define STS_LL_RULE_NET_PORT 2 /* ABI 4, Linux 6.7 */
#define STS_LL_NET_BIND_TCP (1ULL << 0)
#define STS_LL_NET_CONNECT_TCP (1ULL << 1)
#define STS_LL_SCOPE_ABSTRACT_UNIX (1ULL << 0) /* ABI 6, Linux 6.12 */
#define STS_LL_SCOPE_SIGNAL (1ULL << 1)
#define STS_LL_LOG_NEW_EXEC_ON (1U << 1) /* ABI 7, Linux 6.15: audit CMD's denials too */

/* struct landlock_ruleset_attr as of ABI 6; its size tells the kernel which fields are set. */
struct sts_ll_ruleset_attr {
	__u64 handled_access_fs;
	__u64 handled_access_net; /* ABI 4 */
	__u64 scoped; /* ABI 6 */
};

struct sts_ll_net_port_attr {
	__u64 allowed_access;
	__u64 port;
};

/* clang-format off */
const struct sandbox_ioctl sandbox_ioctls[] = {
	{ FIONBIO,  "FIONBIO",  "non-blocking sockets (OpenSSL's BIO, event loops)" },
	{ FIONREAD, "FIONREAD", "bytes waiting on a socket or pipe (TLS libraries)" },
	{ FIOCLEX,  "FIOCLEX",  "close-on-exec on a descriptor" },
	{ FIONCLEX, "FIONCLEX", "clear close-on-exec" },
	{ TCGETS,   "TCGETS",   "isatty() (stdio's buffering): no terminal is reachable, so it "
			        "answers ENOTTY" },
};
/* clang-format on */
const size_t sandbox_n_ioctls = ARRAY_SIZE(sandbox_ioctls);

/*
 * Every other option is refused: they write the packets' headers or the connection's life past
 * the egress gate's checks of the payload: IP_OPTIONS (40 chosen bytes in every packet's
 * header, record-route slots marked full), IP_TTL, IP_TOS, IPV6_TCLASS and flow labels (bits
 * per packet), TCP_MAXSEG (the SYN's MSS), TCP_USER_TIMEOUT (a socket whose refused data is
 * still retransmitted when the monitor has detached its gate: catalogue row a39), TCP_ULP
 * (kTLS), TCP_CONGESTION, buffer sizes (the advertised window), SO_MARK, SO_BINDTODEVICE...
 */
#define SOCKOPT(l, n, why)           \
	{                            \
		l, n, #l "/" #n, why \
	}
/* clang-format off */
const struct sandbox_sockopt sandbox_sockopts[] = {
	SOCKOPT(SOL_SOCKET, SO_REUSEADDR, "address reuse (libraries set it by habit)"),
	SOCKOPT(SOL_SOCKET, SO_KEEPALIVE, "keep-alive probes: empty segments"),
	SOCKOPT(SOL_SOCKET, SO_LINGER, "how close() ends the connection"),
	SOCKOPT(SOL_SOCKET, SO_RCVTIMEO_OLD, "receive timeout (the agent's own, 64-bit time_t)"),
	SOCKOPT(SOL_SOCKET, SO_SNDTIMEO_OLD, "send timeout"),
	SOCKOPT(SOL_SOCKET, SO_RCVTIMEO_NEW, "receive timeout (32-bit time_t libcs)"),
	SOCKOPT(SOL_SOCKET, SO_SNDTIMEO_NEW, "send timeout (32-bit time_t libcs)"),
	SOCKOPT(IPPROTO_TCP, TCP_NODELAY, "no Nagle delay (TLS libraries, curl)"),
	SOCKOPT(IPPROTO_TCP, TCP_CORK, "segments held until uncorked"),
	SOCKOPT(IPPROTO_TCP, TCP_KEEPIDLE, "keep-alive timing"),
	SOCKOPT(IPPROTO_TCP, TCP_KEEPINTVL, "keep-alive timing"),
	SOCKOPT(IPPROTO_TCP, TCP_KEEPCNT, "keep-alive timing"),
	SOCKOPT(IPPROTO_IPV6, IPV6_V6ONLY, "an IPv6 socket without IPv4-mapped addresses"),
};
/* clang-format on */
const size_t sandbox_n_sockopts = ARRAY_SIZE(sandbox_sockopts);

void sandbox_probe(struct sandbox_caps *caps)
{
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
	__u32 act = SECCOMP_RET_USER_NOTIF;

	caps->landlock_abi = abi > 0 ? (int)abi : 0;
	caps->seccomp_notify = syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &act) == 0;
}

/* ---- Landlock ---- */

static __u64 ll_fs_handled(int abi)
{
	__u64 a = (1ULL << 13) - 1; /* ABI 1: EXECUTE .. MAKE_SYM */

	if (abi >= 2)
		a |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		a |= STS_LL_FS_TRUNCATE;
	if (abi >= 5)
		a |= STS_LL_FS_IOCTL_DEV;
	return a;
}

/*
 * One path rule, on the file the policy resolved: the path is opened now, and must still be the
 * (device, inode) the policy named, or a rename since the policy load would move the grant.
 */
static int ll_path(int ruleset, const char *path, const struct sts_file_rule *r, __u64 access,
		   char *why, size_t whylen)
{
	struct landlock_path_beneath_attr pb = { .allowed_access = access };
	struct stat st;
	int err = 0;

	pb.parent_fd = open(path, O_PATH | O_CLOEXEC);
	if (pb.parent_fd < 0) {
		err = -errno;
		snprintf(why, whylen, "landlock: open %s: %s", path, strerror(-err));
		return err;
	}
	if (fstat(pb.parent_fd, &st) < 0) {
		err = -errno;
	} else if (r && (st.st_dev != r->dev || st.st_ino != r->ino)) {
		err = -ESTALE;
		snprintf(why, whylen, "landlock: %s is no longer the file the policy named", path);
		goto out;
	}
	/* Rights for directories only make sense on one; a file keeps its file rights. */
	if (!err && !S_ISDIR(st.st_mode))
		access &= LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE |
			  LANDLOCK_ACCESS_FS_WRITE_FILE | STS_LL_FS_TRUNCATE;
	if (!err && syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &pb, 0))
		err = -errno;
	if (err)
		snprintf(why, whylen, "landlock: rule for %s: %s", path, strerror(-err));
out:
	close(pb.parent_fd);
	return err;
}

static int ll_fs_rules(int ruleset, const struct sandbox_spec *s, char *why, size_t whylen)
{
	const __u64 rd = LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR;
	const struct sts_policy *pol = s->pol;
	__u64 handled = ll_fs_handled(s->landlock_abi), a;
	struct stat st;
	size_t i;
	int err;

	for (i = 0; i < pol->n_files; i++) {
		const struct sts_file_rule *r = &pol->files[i];

		switch (r->kind) {
		case STS_FILE_READ:
			a = LANDLOCK_ACCESS_FS_READ_FILE;
			/*
			 * The ELF interpreter is opened for execution by the kernel at exec, as BPF
			 * LSM's file_open rule allows for allow-read files: an executable one keeps
			 * that right (executing it directly runs nothing else: it must read the
			 * program it loads, which the read rules decide).
			 */
			if (stat(r->path, &st) == 0 && (st.st_mode & 0111))
				a |= LANDLOCK_ACCESS_FS_EXECUTE;
			break;
		case STS_FILE_READ_DIR:
			a = rd;
			break;
		case STS_FILE_EXEC:
			a = LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE;
			break;
		case STS_FILE_STATE_DIR:
			a = rd | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_REMOVE_FILE |
			    LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_SYM |
			    STS_LL_FS_TRUNCATE;
			break;
		default:
			continue;
		}
		err = ll_path(ruleset, r->path, r, a & handled, why, whylen);
		if (err)
			return err;
	}
	return ll_path(ruleset, s->exe, NULL,
		       (LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE) & handled, why,
		       whylen);
}

int sandbox_landlock(const struct sandbox_spec *s, char *why, size_t whylen)
{
	struct sts_ll_ruleset_attr attr = { 0 };
	size_t size = sizeof(__u64);
	__u32 flags = 0;
	int ruleset, err = 0;
	size_t i;

	if (s->landlock_abi <= 0)
		return 0;
	if (s->landlock_fs)
		attr.handled_access_fs = ll_fs_handled(s->landlock_abi);
	if (s->landlock_abi >= 4 && s->landlock_net) {
		attr.handled_access_net = STS_LL_NET_BIND_TCP | STS_LL_NET_CONNECT_TCP;
	}
	if (s->landlock_abi >= 6) {
		attr.scoped = STS_LL_SCOPE_ABSTRACT_UNIX | STS_LL_SCOPE_SIGNAL;
		size = sizeof(attr);
	} else if (s->landlock_abi >= 4) {
		size = 2 * sizeof(__u64);
	}
	if (!attr.handled_access_fs && !attr.handled_access_net && !attr.scoped)
		return 0;
	ruleset = syscall(SYS_landlock_create_ruleset, &attr, size, 0);
	if (ruleset < 0) {
		err = -errno;
		snprintf(why, whylen, "landlock: create ruleset (ABI %d): %s", s->landlock_abi,
			 strerror(-err));
		return err;
	}
	if (attr.handled_access_fs)
		err = ll_fs_rules(ruleset, s, why, whylen);
	/* Ports only: the addresses are the cgroup connect hooks' (which see them all). */
	for (i = 0; !err && attr.handled_access_net && i < s->pol->n_collectors; i++) {
		struct sts_ll_net_port_attr np = { STS_LL_NET_CONNECT_TCP,
						   s->pol->collectors[i].port };

		if (syscall(SYS_landlock_add_rule, ruleset, STS_LL_RULE_NET_PORT, &np, 0)) {
			err = -errno;
			snprintf(why, whylen, "landlock: port rule %u: %s", (unsigned)np.port,
				 strerror(-err));
		}
	}
	if (s->landlock_abi >= 7)
		flags = STS_LL_LOG_NEW_EXEC_ON;
	if (!err && syscall(SYS_landlock_restrict_self, ruleset, flags) &&
	    (errno != EINVAL || !flags || syscall(SYS_landlock_restrict_self, ruleset, 0))) {
		err = -errno;
		snprintf(why, whylen, "landlock: restrict: %s", strerror(-err));
	}
	close(ruleset);
	return err;
}

/* ---- seccomp ---- */

/*
 * Refuse nr unless the low 32 bits of argument arg (masked by space) are one of ok[0..n): the
 * complement of that set as aligned blocks, one masked comparison each (libseccomp takes one
 * comparison per argument and rule, and a later "allow" cannot override a "refuse"). Only the
 * low 32 bits count because the kernel reads an ioctl request, a pid or a family as an int: a
 * value with high bits set is the same request to it, and must be refused the same.
 */
static int refuse_unless(scmp_filter_ctx ctx, uint32_t act, int nr, unsigned int arg,
			 uint32_t space, const uint32_t *ok, size_t n,
			 const struct scmp_arg_cmp *also)
{
	uint64_t lo = 0, hi, a, size, v;
	uint32_t sorted[16];
	size_t i, j;
	int err = 0;

	if (n > ARRAY_SIZE(sorted))
		return -E2BIG;
	memcpy(sorted, ok, n * sizeof(*ok));
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && sorted[j - 1] > sorted[j]; j--) {
			v = sorted[j];
			sorted[j] = sorted[j - 1];
			sorted[j - 1] = v;
		}
	for (i = 0; i <= n && !err; i++) {
		hi = i < n ? (uint64_t)sorted[i] : (uint64_t)space + 1;
		for (a = lo; a < hi && !err; a += size) {
			struct scmp_arg_cmp cmp;

			/* The largest aligned block from a that stays below hi. */
			for (size = 1ULL << 32; size > 1 && ((a & (size - 1)) || a + size > hi);
			     size >>= 1)
				;
			cmp = SCMP_CMP(arg, SCMP_CMP_MASKED_EQ, space & ~(size - 1), a);
			err = also ? seccomp_rule_add(ctx, act, nr, 2, *also, cmp)
				   : seccomp_rule_add(ctx, act, nr, 1, cmp);
		}
		if (i < n)
			lo = (uint64_t)sorted[i] + 1;
	}
	return err;
}

static int add_rules(scmp_filter_ctx ctx, const struct sandbox_spec *s, uint32_t act)
{
	uint32_t ioctls[ARRAY_SIZE(sandbox_ioctls)], families[3], self[2] = { 0, s->self };
	uint32_t levels[ARRAY_SIZE(sandbox_sockopts)], names[ARRAY_SIZE(sandbox_sockopts)];
	size_t nl = 0, nn, j;
	const uint32_t stream_dgram[2] = { SOCK_STREAM, SOCK_DGRAM };
	const uint32_t tcp_udp[3] = { 0, IPPROTO_TCP, IPPROTO_UDP };
	/* Their first argument a pid: 0 or its own only. */
	static const char *const self_only[] = { "prlimit64",	       "sched_setaffinity",
						 "sched_setscheduler", "sched_setparam",
						 "sched_setattr",      "migrate_pages",
						 "move_pages" };
	const uint32_t prio_process = PRIO_PROCESS, ioprio_process = 1; /* IOPRIO_WHO_PROCESS */
	const struct sts_policy *pol = s->pol;
	size_t i, nf = 0;
	int nr, err = 0;

	for (i = 0; sts_policy_refusable[i] && !err; i++) {
		if (sts_policy_allows_syscall(pol, sts_policy_refusable[i]))
			continue;
		nr = seccomp_syscall_resolve_name(sts_policy_refusable[i]);
		if (nr < 0)
			continue; /* not on this architecture (fork on arm64) */
		err = seccomp_rule_add(ctx, act, nr, 0);
	}
	/*
	 * System calls newer than this libseccomp (statmount and listmount list every mount and
	 * its source without opening /proc; setxattrat, file_setattr...): refused by number, as
	 * nothing here can say what they do. Since 424 the numbers are the same on every
	 * architecture.
	 */
	for (nr = SANDBOX_UNIFIED_FIRST; nr <= SANDBOX_UNIFIED_LAST && !err; nr++) {
		char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);

		if (!name)
			err = seccomp_rule_add(ctx, act, nr, 0);
		free(name);
	}
	for (i = 0; i < ARRAY_SIZE(sandbox_ioctls); i++)
		ioctls[i] = (uint32_t)sandbox_ioctls[i].request;
	if (!err)
		err = refuse_unless(ctx, act, SCMP_SYS(ioctl), 1, 0xffffffff, ioctls, i, NULL);
	/* Socket options: the allowlist, by level, then by name within the level. */
	for (i = 0; i < ARRAY_SIZE(sandbox_sockopts); i++) {
		for (j = 0; j < nl && levels[j] != (uint32_t)sandbox_sockopts[i].level; j++)
			;
		if (j == nl)
			levels[nl++] = (uint32_t)sandbox_sockopts[i].level;
	}
	if (!err)
		err = refuse_unless(ctx, act, SCMP_SYS(setsockopt), 1, 0xffffffff, levels, nl,
				    NULL);
	for (j = 0; j < nl && !err; j++) {
		const struct scmp_arg_cmp lvl = SCMP_A1(SCMP_CMP_EQ, levels[j]);

		for (i = nn = 0; i < ARRAY_SIZE(sandbox_sockopts); i++)
			if ((uint32_t)sandbox_sockopts[i].level == levels[j])
				names[nn++] = (uint32_t)sandbox_sockopts[i].name;
		err = refuse_unless(ctx, act, SCMP_SYS(setsockopt), 2, 0xffffffff, names, nn, &lvl);
	}
	families[nf++] = AF_INET;
	families[nf++] = AF_INET6;
	if (pol->n_unix)
		families[nf++] = AF_UNIX;
	if (!err)
		err = refuse_unless(ctx, act, SCMP_SYS(socket), 0, 0xffffffff, families, nf, NULL);
	/*
	 * Inet sockets: TCP and UDP only (the type's low bits; the high ones are flags), and by
	 * protocol too: a datagram socket of IPPROTO_ICMP is a ping socket (every gid may open one
	 * on Android), a stream one of IPPROTO_SCTP or IPPROTO_MPTCP another transport; none is
	 * what the cgroup hooks and the TLS gate were written for.
	 */
	for (i = 0; i < 2 && !err; i++) {
		const struct scmp_arg_cmp fam = SCMP_A0(SCMP_CMP_EQ, families[i]);

		err = refuse_unless(ctx, act, SCMP_SYS(socket), 1, 0xf, stream_dgram, 2, &fam);
		if (!err)
			err = refuse_unless(ctx, act, SCMP_SYS(socket), 2, 0xffffffff, tcp_udp, 3,
					    &fam);
	}
	/*
	 * Signals only to itself: CMD cannot fork, so it is alone in its cgroup and its session
	 * (kill(0, ...) is its own process group after setsid).
	 */
	if (!err)
		err = refuse_unless(ctx, act, SCMP_SYS(kill), 0, 0xffffffff, self, 2, NULL);
	if (!err)
		err = refuse_unless(ctx, act, SCMP_SYS(tkill), 0, 0xffffffff, self + 1, 1, NULL);
	if (!err)
		err = refuse_unless(ctx, act, SCMP_SYS(tgkill), 0, 0xffffffff, self + 1, 1, NULL);
	if (!err)
		err = refuse_unless(ctx, act, SCMP_SYS(rt_sigqueueinfo), 0, 0xffffffff, self + 1, 1,
				    NULL);
	if (!err)
		err = refuse_unless(ctx, act, SCMP_SYS(rt_tgsigqueueinfo), 0, 0xffffffff, self + 1,
				    1, NULL);
	/*
	 * Limits, priorities, CPUs and memory placement of itself only (0 or its pid): a command
	 * run as root could otherwise set its monitor's file size limit to 0 (killed at its next
	 * log write), or renice every process of its uid.
	 */
	for (i = 0; i < ARRAY_SIZE(self_only) && !err; i++) {
		nr = seccomp_syscall_resolve_name(self_only[i]);
		if (nr >= 0)
			err = refuse_unless(ctx, act, nr, 0, 0xffffffff, self, 2, NULL);
	}
	if (!err)
		err = refuse_unless(ctx, act, SCMP_SYS(setpriority), 0, 0xffffffff, &prio_process,
				    1, NULL);
	if (!err)
		err = refuse_unless(ctx, act, SCMP_SYS(setpriority), 1, 0xffffffff, self, 2, NULL);
	if (!err)
		err = refuse_unless(ctx, act, SCMP_SYS(ioprio_set), 0, 0xffffffff, &ioprio_process,
				    1, NULL);
	if (!err)
		err = refuse_unless(ctx, act, SCMP_SYS(ioprio_set), 1, 0xffffffff, self, 2, NULL);
	return err;
}

int sandbox_seccomp(const struct sandbox_spec *s, int *notify_fd, char *why, size_t whylen)
{
	uint32_t act = s->notify ? SCMP_ACT_NOTIFY : SCMP_ACT_ERRNO(EPERM);
	scmp_filter_ctx ctx;
	int err;

	*notify_fd = -1;
	/*
	 * Anything else is allowed; a system call of another ABI (i386's int 0x80 on x86_64) kills
	 * the process (libseccomp's bad-arch default): the rules below name native numbers only.
	 */
	ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx) {
		snprintf(why, whylen, "seccomp: init failed");
		return -ENOMEM;
	}
	err = add_rules(ctx, s, act);
	if (!err)
		err = seccomp_load(ctx);
	if (!err && s->notify) {
		*notify_fd = seccomp_notify_fd(ctx);
		if (*notify_fd < 0)
			err = *notify_fd;
	}
	if (err)
		snprintf(why, whylen, "seccomp filter: %s", strerror(-err));
	seccomp_release(ctx);
	return err;
}

/* ---- the monitor's side ---- */

const char *sandbox_syscall_name(long nr)
{
	/* Names this libseccomp may not know (Linux 6.8 to 6.17), for the records. */
	static const char *const newer[] = {
		[457 - 457] = "statmount",	   [458 - 457] = "listmount",
		[459 - 457] = "lsm_get_self_attr", [460 - 457] = "lsm_set_self_attr",
		[461 - 457] = "lsm_list_modules",  [462 - 457] = "mseal",
		[463 - 457] = "setxattrat",	   [464 - 457] = "getxattrat",
		[465 - 457] = "listxattrat",	   [466 - 457] = "removexattrat",
		[467 - 457] = "open_tree_attr",	   [468 - 457] = "file_getattr",
		[469 - 457] = "file_setattr",
	};
	static char name[64];
	char *n = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, (int)nr);

	if (n)
		snprintf(name, sizeof(name), "%s", n);
	else if (nr >= 457 && nr < 457 + (long)ARRAY_SIZE(newer))
		snprintf(name, sizeof(name), "%s", newer[nr - 457]);
	else
		snprintf(name, sizeof(name), "syscall_%ld", nr);
	free(n);
	return name;
}

static void read_comm(pid_t pid, char *out, size_t len)
{
	char path[64], *buf = NULL;
	size_t n;

	memset(out, 0, len);
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	if (sts_read_file(path, 64, &buf, &n) == 0) {
		while (n && buf[n - 1] == '\n')
			n--;
		memcpy(out, buf, n < len ? n : len);
	}
	free(buf);
}

/* A string argument of the refused call, from the caller's memory (a mount's target). */
static void read_string(pid_t pid, uint64_t addr, char *out, size_t len)
{
	struct iovec local = { out, len - 1 }, remote = { (void *)(uintptr_t)addr, len - 1 };
	ssize_t n;

	memset(out, 0, len);
	/* Partial reads at a page end are fine: what was read is what is kept. */
	n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
	if (n <= 0)
		out[0] = '\0';
}

/* The refusal as the event the BPF LSM hook for the same action would have sent. */
static void describe(const struct seccomp_notif *req, struct sts_event *ev)
{
	const __u64 *a = req->data.args;
	const char *name = sandbox_syscall_name(req->data.nr);

	ev->type = STS_EV_SYSCALL;
	ev->rule = STS_RULE_SYSCALL;
	if (!strcmp(name, "ptrace") || !strcmp(name, "process_vm_readv") ||
	    !strcmp(name, "process_vm_writev") || !strcmp(name, "pidfd_getfd") ||
	    !strcmp(name, "kcmp")) {
		ev->type = STS_EV_PTRACE;
		ev->rule = STS_RULE_PTRACE;
		ev->file.ino = !strcmp(name, "ptrace") ? a[1] : a[0];
		read_comm(ev->file.ino, ev->file.path, STS_COMM_LEN);
	} else if (!strcmp(name, "fork") || !strcmp(name, "vfork") || !strcmp(name, "clone") ||
		   !strcmp(name, "clone3")) {
		ev->type = STS_EV_CLONE;
		ev->rule = STS_RULE_CLONE;
		ev->file.flags = !strcmp(name, "clone") ? a[0] : 0;
	} else if (!strcmp(name, "kill") || !strcmp(name, "tkill") || !strcmp(name, "tgkill") ||
		   !strcmp(name, "rt_sigqueueinfo") || !strcmp(name, "rt_tgsigqueueinfo") ||
		   !strcmp(name, "pidfd_send_signal")) {
		ev->type = STS_EV_SIGNAL;
		ev->rule = STS_RULE_SIGNAL;
		ev->file.ino = (uint32_t)a[0];
		ev->file.flags =
			!strcmp(name, "tgkill") || !strcmp(name, "rt_tgsigqueueinfo") ? a[2] : a[1];
		read_comm((pid_t)(uint32_t)a[0], ev->file.path, STS_COMM_LEN);
	} else if (!strcmp(name, "mount") || !strcmp(name, "move_mount")) {
		ev->type = STS_EV_MOUNT;
		ev->rule = STS_RULE_MOUNT;
		read_string(req->pid, !strcmp(name, "mount") ? a[1] : a[3], ev->file.path,
			    sizeof(ev->file.path));
	} else if (!strcmp(name, "bpf")) {
		ev->type = STS_EV_BPF;
		ev->rule = STS_RULE_BPF;
		ev->file.flags = a[0];
	} else if (!strcmp(name, "link") || !strcmp(name, "linkat")) {
		ev->type = STS_EV_LINK;
		ev->rule = STS_RULE_LINK;
		read_string(req->pid, !strcmp(name, "link") ? a[1] : a[3], ev->file.path,
			    sizeof(ev->file.path));
	} else if (!strcmp(name, "socket")) {
		ev->type = STS_EV_SOCKET;
		ev->rule = a[0] == AF_UNIX ? STS_RULE_UNIX_NOT_ALLOWED : STS_RULE_SOCKET_KIND;
		ev->net.family = a[0];
		ev->net.type = a[1] & 0xf;
		ev->net.protocol = a[2];
	} else if (!strcmp(name, "setsockopt")) {
		/* The option, not the descriptor: level and name. */
		ev->file.flags = req->data.nr;
		ev->file.ino = (uint32_t)a[1];
		ev->file.fmode = (uint32_t)a[2];
		ev->file.result = 1;
	} else if (!strcmp(name, "listen")) {
		ev->type = STS_EV_SOCKET;
		ev->rule = STS_RULE_SOCKET_KIND;
		ev->net.family = 0;
		ev->net.type = SOCK_STREAM;
	} else {
		/* ioctl, keyctl, io_uring_setup, unshare...: the number and two arguments. */
		ev->file.flags = req->data.nr;
		ev->file.ino = a[0];
		ev->file.fmode = (uint32_t)a[1];
		ev->file.result = 1; /* fmode holds the second argument */
	}
}

int sandbox_notify_handle(int fd, uint64_t cgid, struct sts_event *ev)
{
	struct seccomp_notif *req = NULL;
	struct seccomp_notif_resp *resp = NULL;
	struct timespec ts;
	int err;

	err = seccomp_notify_alloc(&req, &resp);
	if (err)
		return err;
	err = seccomp_notify_receive(fd, req);
	if (err) {
		/* The caller was killed between the wakeup and the read: nothing to answer. */
		err = err == -ENOENT ? 1 : err;
		goto out;
	}
	memset(ev, 0, sizeof(*ev));
	ev->verdict = STS_VERDICT_DENY;
	ev->pid = ev->tgid = req->pid;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ev->ts_ns = (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
	ev->cgroup_id = cgid;
	read_comm(req->pid, ev->comm, STS_COMM_LEN);
	/* What the record says is read before the answer: the caller waits until then. */
	describe(req, ev);
	{
		char status[64], *buf = NULL;
		size_t n;
		const char *u;

		snprintf(status, sizeof(status), "/proc/%u/status", req->pid);
		if (sts_read_file(status, 1 << 14, &buf, &n) == 0 && (u = strstr(buf, "\nUid:")))
			ev->uid = strtoul(u + 5, NULL, 10);
		free(buf);
	}
	resp->id = req->id;
	resp->error = -EPERM;
	resp->val = 0;
	resp->flags = 0;
	err = seccomp_notify_respond(fd, resp);
	/* Gone meanwhile: its refusal is still recorded, it just never saw the answer. */
	if (err == -ENOENT)
		err = 0;
out:
	seccomp_notify_free(req, resp);
	return err;
}
