// SPDX-License-Identifier: GPL-2.0-only
/*
 * rogue: one forbidden (or allowed) action per invocation, run under `stsd run` by the
 * enforcement tests and the adversary catalogue. Prints what it tried and what happened.
 *
 *   rogue ACTION ARGS...
 *   rogue batch ID ACTION ARGS... , ID ACTION ARGS... [, ...]
 *
 * batch runs several actions in one process (one `stsd run` for many attempts), each under its
 * own comm, ID (prctl PR_SET_NAME), so that the evidence record of each attempt can be told
 * apart; it prints "rogue: ID = STATUS" per action and exits 0.
 *
 * exit status: 0 if the action succeeded, 100 + errno if the kernel refused it, 2 on usage.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <linux/if_ether.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <pthread.h>
#include <signal.h>
#include <linux/bpf.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/sendfile.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/vfs.h>
#include <sys/resource.h>
#include <sched.h>
#include <sys/xattr.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <linux/capability.h>
#include <sys/wait.h>
#include <sys/ioctl.h>
#include <sys/klog.h>
#include <sys/personality.h>
#include <sys/utsname.h>
#include <linux/keyctl.h>
#include <linux/perf_event.h>
#include <net/if.h>
#include <sched.h>
#include <termios.h>
#include <unistd.h>

static void *idle(void *arg)
{
	return arg;
}

static int result(const char *what, int err)
{
	printf("rogue: %s: %s\n", what, err ? strerror(err) : "succeeded");
	return err ? 100 + err : 0;
}

/*
 * Code on no path: this very program copied into a memfd and run from there with fexecve(), so
 * that no allow-exec line names what runs (the copy answers "memfd-ran"). Returns an errno.
 */
static int memfd_exec(void)
{
	char *args[] = { "rogue", "memfd-ran", NULL };
	int in, m, err = 0;
	struct stat st;

	/* The memfd first: where a file rule refuses reading its own binary, that is not it. */
	m = memfd_create("rogue", MFD_CLOEXEC);
	if (m < 0)
		return errno;
	in = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (in < 0 || fstat(in, &st) < 0)
		err = errno;
	else if (sendfile(m, in, NULL, st.st_size) != st.st_size)
		err = errno ? errno : EIO;
	else
		fexecve(m, args, environ);
	err = err ? err : errno;
	if (in >= 0)
		close(in);
	close(m);
	return err;
}

/* mapped: ::ffff:127.0.0.1, the IPv4 collector's address spelt as IPv6. */
static int tcp_connect(int family, const char *port, bool mapped)
{
	struct sockaddr_in6 s6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	struct sockaddr_in s4 = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd, err = 0;

	s4.sin_port = s6.sin6_port = htons(atoi(port));
	if (mapped)
		inet_pton(AF_INET6, "::ffff:127.0.0.1", &s6.sin6_addr);
	fd = socket(family, SOCK_STREAM, 0);
	if (fd < 0)
		return errno;
	if (family == AF_INET ? connect(fd, (struct sockaddr *)&s4, sizeof(s4))
			      : connect(fd, (struct sockaddr *)&s6, sizeof(s6)))
		err = errno;
	close(fd);
	return err;
}

/*
 * Data in the SYN to another destination, no connect() at all (TCP Fast Open), or a socket
 * connected to the collector first (allowed), dissolved with AF_UNSPEC and connected again
 * elsewhere. Returns an errno.
 */
static int tcp_sneak(const char *how, const char *port, const char *collector)
{
	struct sockaddr_in to = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct sockaddr unspec = { .sa_family = AF_UNSPEC };
	static const char data[] = "IMEI 490154203237518 SN0123456789";
	int fd, err = 0;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return errno;
	if (!strcmp(how, "fastopen")) {
		to.sin_port = htons(atoi(port));
		if (sendto(fd, data, sizeof(data), MSG_FASTOPEN, (struct sockaddr *)&to,
			   sizeof(to)) < 0)
			err = errno;
	} else if (!strcmp(how, "outlive")) {
		/*
		 * Data the egress gate refuses stays in the send queue and is retransmitted: with
		 * the monitor's TCP user timeout lifted, the socket would outlive the run.
		 */
		int zero = 0;

		to.sin_port = htons(atoi(port));
		if (connect(fd, (struct sockaddr *)&to, sizeof(to)) ||
		    setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &zero, sizeof(zero)) ||
		    send(fd, data, sizeof(data), 0) < 0)
			err = errno ? errno : EIO;
	} else {
		to.sin_port = htons(atoi(collector));
		if (connect(fd, (struct sockaddr *)&to, sizeof(to)) ||
		    connect(fd, &unspec, sizeof(unspec)))
			err = errno ? errno : EIO;
		to.sin_port = htons(atoi(port));
		if (!err && connect(fd, (struct sockaddr *)&to, sizeof(to)))
			err = errno;
	}
	close(fd);
	return err;
}

/*
 * A connection to the collector (allowed) whose packets' headers carry data: IP options of its
 * choice ("ipopts": a record-route option marked full keeps its 36 bytes as written) or one
 * integer socket option (LEVEL NAME VALUE: a TTL, a TOS, an MSS per packet or per SYN).
 * Returns an errno.
 */
static int header_data(const char *port, int level, int name, int value)
{
	struct sockaddr_in to = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
				  .sin_port = htons(atoi(port)) };
	unsigned char rr[40] = { 1, 7, 39, 40 }; /* NOP, RR of 39 bytes, pointer past its end */
	int fd = socket(AF_INET, SOCK_STREAM, 0), err = 0;

	if (fd < 0)
		return errno;
	memcpy(rr + 4, "IMEI 490154203237518 SN0123456789 ", 35);
	if (level < 0 ? setsockopt(fd, IPPROTO_IP, IP_OPTIONS, rr, sizeof(rr))
		      : setsockopt(fd, level, name, &value, sizeof(value)))
		err = errno;
	else if (connect(fd, (struct sockaddr *)&to, sizeof(to)))
		err = errno;
	close(fd);
	return err;
}

/* A connection to the collector from a source port of its choice. Returns an errno. */
static int from_port(const char *port, const char *src)
{
	struct sockaddr_in to = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
				  .sin_port = htons(atoi(port)) },
			   from = to;
	int fd = socket(AF_INET, SOCK_STREAM, 0), err = 0;

	if (fd < 0)
		return errno;
	from.sin_port = htons(atoi(src));
	if (bind(fd, (struct sockaddr *)&from, sizeof(from)) ||
	    connect(fd, (struct sockaddr *)&to, sizeof(to)))
		err = errno;
	close(fd);
	return err;
}

/* A DNS query for NAME, type A: with a NAME built from data, a DNS tunnel. */
static size_t dns_query(const char *name, unsigned char *q, size_t len)
{
	static const unsigned char head[] = { 0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0 };
	size_t n = sizeof(head), l;
	const char *p = name, *dot;

	memcpy(q, head, n);
	while (*p && n + 70 < len) {
		dot = strchr(p, '.');
		l = dot ? (size_t)(dot - p) : strlen(p);
		l = l > 63 ? 63 : l;
		q[n++] = (unsigned char)l;
		memcpy(q + n, p, l);
		n += l;
		p += l + (dot ? 1 : 0);
		if (!dot)
			break;
	}
	q[n++] = 0;
	memcpy(q + n, "\0\1\0\1", 4);
	return n + 4;
}

static int udp_send(const char *addr, const char *port, const char *name)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(atoi(port)) };
	unsigned char q[512];
	size_t n = dns_query(name, q, sizeof(q));
	int fd, err = 0;

	inet_pton(AF_INET, addr, &sa.sin_addr);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		return errno;
	if (sendto(fd, q, n, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		err = errno;
	close(fd);
	return err;
}

static int make_socket(int family, int type, int proto)
{
	int fd = socket(family, type, proto);

	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

/*
 * An ICMP echo request carrying chosen bytes to addr, from a ping socket (no privilege needed
 * where net.ipv4.ping_group_range has the caller's gid, as on Android). Returns an errno.
 */
static int ping_send(const char *addr)
{
	struct sockaddr_in to = { .sin_family = AF_INET };
	unsigned char pkt[64] = { 8, 0 }; /* echo request; the kernel sets id and checksum */
	int fd, err = 0;

	memcpy(pkt + 8, "IMEI 490154203237518 SN0123456789", 33);
	inet_pton(AF_INET, addr, &to.sin_addr);
	fd = socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP);
	if (fd < 0)
		return errno;
	if (sendto(fd, pkt, sizeof(pkt), 0, (struct sockaddr *)&to, sizeof(to)) < 0)
		err = errno;
	close(fd);
	return err;
}

static int unix_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, err = 0;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0)
		return errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		err = errno;
	close(fd);
	return err;
}

static int open_file(const char *path, int flags)
{
	int fd = open(path, flags, 0600);

	if (fd < 0)
		return errno;
	if (flags & O_WRONLY) {
		if (write(fd, "smuggled\n", 9) != 9) {
			close(fd);
			return errno;
		}
	}
	close(fd);
	return 0;
}

/* io_uring: the same operations through the ring, not through the syscalls. */
static int uring_op(const char *op, const char *arg)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct io_uring_sqe *sqe;
	struct io_uring_cqe *cqe;
	struct io_uring ring;
	unsigned char q[512];
	struct iovec iov = { q, 0 };
	struct msghdr msg = {
		.msg_name = &sa, .msg_namelen = sizeof(sa), .msg_iov = &iov, .msg_iovlen = 1
	};
	int fd = -1, err, res;

	err = io_uring_queue_init(4, &ring, 0);
	if (err)
		return -err;
	sqe = io_uring_get_sqe(&ring);

	if (strcmp(op, "connect") == 0) {
		fd = socket(AF_INET, SOCK_STREAM, 0);
		sa.sin_port = htons(atoi(arg));
		io_uring_prep_connect(sqe, fd, (struct sockaddr *)&sa, sizeof(sa));
	} else if (strcmp(op, "sendmsg") == 0) {
		fd = socket(AF_INET, SOCK_DGRAM, 0);
		sa.sin_port = htons(atoi(arg));
		iov.iov_len = dns_query("uring.example.com", q, sizeof(q));
		io_uring_prep_sendmsg(sqe, fd, &msg, 0);
	} else {
		io_uring_prep_openat(sqe, AT_FDCWD, arg, O_RDONLY, 0);
	}
	io_uring_submit(&ring);
	err = io_uring_wait_cqe(&ring, &cqe);
	if (err) {
		io_uring_queue_exit(&ring);
		return -err;
	}
	res = cqe->res;
	io_uring_cqe_seen(&ring, cqe);
	io_uring_queue_exit(&ring);
	if (fd >= 0)
		close(fd);
	if (res < 0)
		return -res;
	if (strcmp(op, "open") == 0)
		close(res);
	return 0;
}

/* Open PATH and a TCP connection to the collector PORT: the two ends of a copy. */
static int open_pair(const char *path, const char *port, int *file, int *sock)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons(atoi(port)),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };

	*sock = -1;
	*file = open(path, O_RDONLY);
	if (*file < 0)
		return errno;
	*sock = socket(AF_INET, SOCK_STREAM, 0);
	if (*sock < 0 || connect(*sock, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return errno;
	return 0;
}

/* sendfile, splice or vmsplice of a file's content to the collector's (allowed) socket. */
static int copy_out(const char *how, const char *path, const char *port)
{
	int file, sock, p[2] = { -1, -1 }, err;
	ssize_t n = -1;

	err = open_pair(path, port, &file, &sock);
	if (!err && strcmp(how, "sendfile") == 0) {
		n = sendfile(sock, file, NULL, 4096);
	} else if (!err && pipe(p) == 0) {
		if (strcmp(how, "splice") == 0) {
			n = splice(file, NULL, p[1], NULL, 4096, 0);
		} else {
			void *m = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, file, 0);
			struct iovec iov = { m, 4096 };

			n = m == MAP_FAILED ? -1 : vmsplice(p[1], &iov, 1, 0);
		}
		if (n > 0)
			n = splice(p[0], NULL, sock, NULL, n, 0);
	}
	if (!err && n < 0)
		err = errno;
	if (p[0] >= 0) {
		close(p[0]);
		close(p[1]);
	}
	if (file >= 0)
		close(file);
	if (sock >= 0)
		close(sock);
	return err;
}

static int map_file(const char *path)
{
	int fd = open(path, O_RDONLY), err = 0;
	void *m;

	if (fd < 0)
		return errno;
	m = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
	if (m == MAP_FAILED)
		err = errno;
	else
		printf("rogue: mapped: %.12s\n", (char *)m);
	close(fd);
	return err;
}

static int symlink_open(const char *target, const char *link)
{
	unlink(link);
	if (symlink(target, link) < 0)
		return errno;
	return open_file(link, O_RDONLY);
}

/* Leave the policed cgroup: write our pid into another cgroup's cgroup.procs. */
static int cgroup_escape(const char *procs)
{
	char pid[16];
	int fd, err = 0;

	snprintf(pid, sizeof(pid), "%d\n", getpid());
	fd = open(procs, O_WRONLY);
	if (fd < 0)
		return errno;
	if (write(fd, pid, strlen(pid)) < 0)
		err = errno;
	close(fd);
	return err;
}

static int bpf_next_prog(void)
{
	union bpf_attr attr = { .start_id = 0 };

	return syscall(__NR_bpf, BPF_PROG_GET_NEXT_ID, &attr, sizeof(attr)) < 0 ? errno : 0;
}

static int vm_read(pid_t pid, const char *addr)
{
	char buf[16];
	struct iovec local = { buf, sizeof(buf) },
		     remote = { (void *)(uintptr_t)strtoull(addr, NULL, 0), sizeof(buf) };

	return process_vm_readv(pid, &local, 1, &remote, 1, 0) < 0 ? errno : 0;
}

static int tcp_listen(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM, 0), err = 0;

	if (fd < 0)
		return errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 1) < 0)
		err = errno;
	close(fd);
	return err;
}

/* An fd the launcher left open (not close-on-exec), read without opening anything. */
static int inherited_read(int fd)
{
	char buf[64];

	return read(fd, buf, sizeof(buf)) < 0 ? errno : 0;
}

/*
 * An identifier without opening a file: a socket ioctl on interface IFNAME (a MAC address with
 * SIOCGIFHWADDR, the IP address with SIOCGIFADDR, the wireless BSSID and ESSID with SIOCGIWAP
 * and SIOCGIWESSID), or SIOCGIFCONF (every interface and address). On a TCP socket: UDP ones are
 * refused at socket(), TCP ones are what the policed code may create.
 */
static int if_ioctl(unsigned long req, const char *ifname)
{
	char buf[1024] = "";
	struct ifconf ifc = { .ifc_len = sizeof(buf), .ifc_buf = buf };
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_STREAM, 0), err = 0;
	void *arg = &ifr;

	if (fd < 0)
		return errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (req == SIOCGIFCONF)
		arg = &ifc;
	if (ioctl(fd, req, arg) < 0)
		err = errno;
	else if (req == SIOCGIFHWADDR)
		printf("rogue: hardware address of %s: %02x:%02x:%02x:%02x:%02x:%02x\n", ifname,
		       (unsigned char)ifr.ifr_hwaddr.sa_data[0],
		       (unsigned char)ifr.ifr_hwaddr.sa_data[1],
		       (unsigned char)ifr.ifr_hwaddr.sa_data[2],
		       (unsigned char)ifr.ifr_hwaddr.sa_data[3],
		       (unsigned char)ifr.ifr_hwaddr.sa_data[4],
		       (unsigned char)ifr.ifr_hwaddr.sa_data[5]);
	close(fd);
	return err;
}

/* The same ioctl request with bits above the 32 the kernel reads: a filter must see through. */
static int ioctl_high(int fd, unsigned long req)
{
	char c = 'x';

	return syscall(SYS_ioctl, fd, (1UL << 32) | req, &c) < 0 ? errno : 0;
}

/* 0 when the value leaked (the name equals SECRET), 1 when nothing was learned. */
static int learned(const char *what, const char *got, const char *secret)
{
	printf("rogue: %s: \"%s\"\n", what, got ? got : "(unset)");
	return got && strcmp(got, secret) == 0 ? 0 : 1;
}

/* Is any of stdin, stdout, stderr a terminal (the launcher's) or a socket? 0: yes. */
static int std_fds_reach_launcher(void)
{
	struct stat st;
	int fd;

	for (fd = 0; fd <= 2; fd++)
		if (fstat(fd, &st) == 0 && (S_ISSOCK(st.st_mode) || isatty(fd)))
			return 0;
	return 1;
}

/*
 * The file system's id: on ext4 and most disk file systems f_fsid is folded from the volume's
 * UUID, made at install and different on every device. path NULL: of the working directory,
 * through an O_PATH descriptor (which opens nothing a file rule sees). Returns an errno.
 */
static int fs_id(const char *path)
{
	struct statfs sf;
	int fd, err;

	if (path) {
		err = statfs(path, &sf) ? errno : 0;
	} else {
		fd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			return errno;
		err = fstatfs(fd, &sf) ? errno : 0;
		close(fd);
	}
	if (!err)
		printf("rogue: file system id %08x%08x\n", (unsigned)sf.f_fsid.__val[0],
		       (unsigned)sf.f_fsid.__val[1]);
	return err;
}

/*
 * When this device was installed, from metadata alone: the birth time (to the nanosecond) and
 * inode of a directory made at install. 0 when learned.
 */
static int install_time(const char *path)
{
	struct statx sx;

	if (statx(AT_FDCWD, path, 0, STATX_BTIME | STATX_INO, &sx))
		return errno;
	printf("rogue: %s: inode %llu, born %lld.%09u\n", path, (unsigned long long)sx.stx_ino,
	       (long long)sx.stx_btime.tv_sec, sx.stx_btime.tv_nsec);
	return 0;
}

/*
 * Change a file without opening it, as a command run as root could (each change rewrites what
 * is there, so that nothing is lost if it goes through): mode, length, times, an extended
 * attribute. Returns an errno.
 */
static int meta_write(const char *how, const char *path)
{
	struct timespec ts[2];
	struct stat st;

	if (stat(path, &st))
		return errno;
	ts[0] = st.st_atim;
	ts[1] = st.st_mtim;
	if (!strcmp(how, "chmod"))
		return syscall(SYS_fchmodat, AT_FDCWD, path, st.st_mode & 07777) ? errno : 0;
	if (!strcmp(how, "truncate"))
		return truncate(path, st.st_size) ? errno : 0;
	if (!strcmp(how, "utime"))
		return utimensat(AT_FDCWD, path, ts, 0) ? errno : 0;
	return setxattr(path, "user.sts-id", "IMEI 490154203237518", 20, 0) ? errno : 0;
}

/* A block device node (the loop device, 7:0) in dir: reading it reads a disk. An errno. */
static int make_node(const char *dir)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/disk", dir);
	return syscall(SYS_mknodat, AT_FDCWD, path, S_IFBLK | 0600, makedev(7, 0)) ? errno : 0;
}

/* Every mount of the system and its source, without /proc (listmount, Linux 6.8). An errno. */
static int list_mounts(void)
{
	/* struct mnt_id_req: size, spare, mnt_id (LSMT_ROOT), param. */
	struct {
		uint32_t size, spare;
		uint64_t mnt_id, param;
	} req = { 24, 0, ~0ULL, 0 };
	uint64_t ids[256];

	return syscall(458 /* listmount */, &req, ids, 256, 0) < 0 ? errno : 0;
}

/* Any capability in CMD's effective set: 0 (learned), or 1 (none, nothing to use). */
static int capabilities(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2] = { 0 };

	if (syscall(SYS_capget, &h, d))
		return 1;
	printf("rogue: effective capabilities %08x%08x\n", d[1].effective, d[0].effective);
	return d[0].effective || d[1].effective ? 0 : 1;
}

/*
 * Act on the monitor (the parent) without a signal: its limits, priority, CPUs. Each call sets
 * what is already there, so nothing changes if it goes through. Returns an errno.
 */
static int on_monitor(const char *how)
{
	pid_t m = getppid();
	struct rlimit rl;
	cpu_set_t cpus;
	int prio;

	if (!strcmp(how, "prlimit")) {
		/* Read first through the same call: reading another's limits is refused too. */
		if (prlimit(m, RLIMIT_FSIZE, NULL, &rl))
			return errno;
		return prlimit(m, RLIMIT_FSIZE, &rl, NULL) ? errno : 0;
	}
	if (!strcmp(how, "renice")) {
		errno = 0;
		prio = getpriority(PRIO_PROCESS, m);
		if (errno)
			return errno;
		return setpriority(PRIO_PROCESS, m, prio) ? errno : 0;
	}
	if (sched_getaffinity(m, sizeof(cpus), &cpus))
		return errno;
	return sched_setaffinity(m, sizeof(cpus), &cpus) ? errno : 0;
}

static int perf_open(void)
{
	struct perf_event_attr pa = { .type = PERF_TYPE_SOFTWARE,
				      .size = sizeof(pa),
				      .config = PERF_COUNT_SW_CPU_CLOCK };

	return syscall(SYS_perf_event_open, &pa, 0, -1, -1, 0) < 0 ? errno : 0;
}

static int action(int argc, char **argv)
{
	const char *a = argc > 0 ? argv[0] : "";
	char what[512];

	snprintf(what, sizeof(what), "%s %s %s", a, argc > 1 ? argv[1] : "",
		 argc > 2 ? argv[2] : "");
	if (strcmp(a, "connect4") == 0 && argc == 2)
		return result(what, tcp_connect(AF_INET, argv[1], false));
	if (strcmp(a, "connect6") == 0 && argc == 2)
		return result(what, tcp_connect(AF_INET6, argv[1], false));
	if (strcmp(a, "connect6-mapped") == 0 && argc == 2)
		return result(what, tcp_connect(AF_INET6, argv[1], true));
	if (strcmp(a, "udp") == 0 && (argc == 3 || argc == 4))
		return result(what,
			      udp_send(argv[1], argv[2], argc == 4 ? argv[3] : "example.com"));
	if (strcmp(a, "raw") == 0)
		return result(what, make_socket(AF_INET, SOCK_RAW, IPPROTO_ICMP));
	if (strcmp(a, "packet") == 0)
		return result(what, make_socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL)));
	if (strcmp(a, "netlink") == 0)
		return result(what, make_socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE));
	if (strcmp(a, "unix") == 0 && argc == 2)
		return result(what, unix_connect(argv[1]));
	if (strcmp(a, "open") == 0 && argc == 2)
		return result(what, open_file(argv[1], O_RDONLY));
	if (strcmp(a, "write") == 0 && argc == 2)
		return result(what, open_file(argv[1], O_WRONLY | O_CREAT | O_TRUNC));
	if (strcmp(a, "link") == 0 && argc == 3)
		return result(what, link(argv[1], argv[2]) ? errno : 0);
	if (strcmp(a, "symlink-open") == 0 && argc == 3)
		return result(what, symlink_open(argv[1], argv[2]));
	if (strcmp(a, "bind-mount") == 0 && argc == 3)
		return result(what, mount(argv[1], argv[2], NULL, MS_BIND, NULL) ? errno : 0);
	if (strcmp(a, "exec") == 0 && argc >= 2) {
		fflush(stdout);
		execv(argv[1], argv + 1);
		return result(what, errno);
	}
	if (strcmp(a, "fork") == 0) {
		pid_t pid = fork();

		if (pid == 0)
			_exit(0);
		if (pid > 0)
			waitpid(pid, NULL, 0);
		return result(what, pid < 0 ? errno : 0);
	}
	if (strcmp(a, "thread") == 0) {
		pthread_t t;
		int err = pthread_create(&t, NULL, idle, NULL);

		if (!err)
			pthread_join(t, NULL);
		return result(what, err);
	}
	/* N bytes on stdout, then on: behind a reader that takes nothing, it waits in write. */
	if (strcmp(a, "flood") == 0 && argc == 2) {
		static char block[65536];
		long long left = atoll(argv[1]);
		ssize_t w;

		memset(block, 'x', sizeof(block));
		while (left > 0) {
			w = write(1, block,
				  left < (long long)sizeof(block) ? (size_t)left : sizeof(block));
			if (w <= 0)
				return result(what, errno);
			left -= w;
		}
		return result(what, 0);
	}
	if (strcmp(a, "sleep") == 0 && argc == 2) {
		usleep(atoi(argv[1]) * 1000);
		return result(what, 0);
	}
	if (strcmp(a, "uring-connect") == 0 && argc == 2)
		return result(what, uring_op("connect", argv[1]));
	if (strcmp(a, "uring-open") == 0 && argc == 2)
		return result(what, uring_op("open", argv[1]));
	if (strcmp(a, "uring-sendmsg") == 0 && argc == 2)
		return result(what, uring_op("sendmsg", argv[1]));
	if ((strcmp(a, "sendfile") == 0 || strcmp(a, "splice") == 0 ||
	     strcmp(a, "vmsplice") == 0) &&
	    argc == 3)
		return result(what, copy_out(a, argv[1], argv[2]));
	if (strcmp(a, "mmap") == 0 && argc == 2)
		return result(what, map_file(argv[1]));
	if (strcmp(a, "ptrace") == 0 && argc == 2)
		return result(what, ptrace(PTRACE_SEIZE, atoi(argv[1]), 0, 0) ? errno : 0);
	if (strcmp(a, "vm-read") == 0 && argc == 3)
		return result(what, vm_read(atoi(argv[1]), argv[2]));
	if (strcmp(a, "kill") == 0 && argc == 3) {
		pid_t pid = strcmp(argv[1], "parent") == 0 ? getppid()
			    : strcmp(argv[1], "self") == 0 ? getpid()
							   : atoi(argv[1]);

		return result(what, kill(pid, atoi(argv[2])) ? errno : 0);
	}
	if (strcmp(a, "cgroup-escape") == 0 && argc == 2)
		return result(what, cgroup_escape(argv[1]));
	if (strcmp(a, "bpf") == 0)
		return result(what, bpf_next_prog());
	if (strcmp(a, "listen") == 0)
		return result(what, tcp_listen());
	if (strcmp(a, "inherited-read") == 0 && argc == 2)
		return result(what, inherited_read(atoi(argv[1])));
	if (strcmp(a, "ifioctl") == 0 && argc == 3)
		return result(what, if_ioctl(strtoul(argv[1], NULL, 0), argv[2]));
	if (strcmp(a, "ioctl") == 0 && argc == 3) {
		char c = 'x';

		return result(what,
			      ioctl(atoi(argv[1]), strtoul(argv[2], NULL, 0), &c) ? errno : 0);
	}
	if (strcmp(a, "ioctl-high") == 0 && argc == 3)
		return result(what, ioctl_high(atoi(argv[1]), strtoul(argv[2], NULL, 0)));
	if (strcmp(a, "hostname") == 0 && argc == 2) {
		struct utsname u;

		uname(&u);
		return learned("host name", u.nodename, argv[1]);
	}
	if (strcmp(a, "env") == 0 && argc == 3)
		return learned("environment", getenv(argv[1]), argv[2]);
	if (strcmp(a, "std-fds") == 0)
		return std_fds_reach_launcher();
	if (strcmp(a, "keyctl") == 0)
		return result(what, syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID,
					    KEY_SPEC_USER_KEYRING, 0) < 0
					    ? errno
					    : 0);
	if (strcmp(a, "add-key") == 0)
		return result(what, syscall(SYS_add_key, "user", "sts", "x", 1,
					    KEY_SPEC_SESSION_KEYRING) < 0
					    ? errno
					    : 0);
	if (strcmp(a, "syslog") == 0) {
		char buf[256];

		return result(what, klogctl(3, buf, sizeof(buf)) < 0 ? errno : 0);
	}
	if (strcmp(a, "unshare-user") == 0)
		return result(what, unshare(CLONE_NEWUSER | CLONE_NEWNET) ? errno : 0);
	if (strcmp(a, "perf") == 0)
		return result(what, perf_open());
	if (strcmp(a, "memfd-ran") == 0)
		return result("code from a memfd ran", 0);
	if (strcmp(a, "memfd-exec") == 0)
		return result(what, memfd_exec());
	if (strcmp(a, "statfs") == 0 && argc == 2)
		return result(what, fs_id(argv[1]));
	if (strcmp(a, "fstatfs-cwd") == 0)
		return result(what, fs_id(NULL));
	if (strcmp(a, "install-time") == 0 && argc == 2)
		return result(what, install_time(argv[1]));
	if ((!strcmp(a, "chmod") || !strcmp(a, "truncate") || !strcmp(a, "utime") ||
	     !strcmp(a, "setxattr")) &&
	    argc == 2)
		return result(what, meta_write(a, argv[1]));
	if (strcmp(a, "mknod") == 0 && argc == 2)
		return result(what, make_node(argv[1]));
	if (strcmp(a, "settime") == 0)
		/* No time given: the capability check alone, nothing set if it passes. */
		return result(what, syscall(SYS_settimeofday, NULL, NULL) ? errno : 0);
	if (strcmp(a, "listmount") == 0)
		return result(what, list_mounts());
	if ((!strcmp(a, "monitor-prlimit") || !strcmp(a, "monitor-renice") ||
	     !strcmp(a, "monitor-affinity")) &&
	    argc == 1)
		return result(what, on_monitor(a + 8));
	if (strcmp(a, "fastopen") == 0 && argc == 2)
		return result(what, tcp_sneak(a, argv[1], NULL));
	if (strcmp(a, "srcport") == 0 && argc == 3)
		return result(what, from_port(argv[1], argv[2]));
	if (strcmp(a, "ipopts") == 0 && argc == 2)
		return result(what, header_data(argv[1], -1, 0, 0));
	if (strcmp(a, "sockopt") == 0 && argc == 5)
		return result(what,
			      header_data(argv[1], atoi(argv[2]), atoi(argv[3]), atoi(argv[4])));
	if (strcmp(a, "outlive") == 0 && argc == 2)
		return result(what, tcp_sneak(a, argv[1], NULL));
	if (strcmp(a, "reconnect") == 0 && argc == 3)
		return result(what, tcp_sneak(a, argv[1], argv[2]));
	if (strcmp(a, "capabilities") == 0)
		return capabilities();
	if (strcmp(a, "personality") == 0)
		return result(what, personality(ADDR_NO_RANDOMIZE) < 0 ? errno : 0);
	if (strcmp(a, "socket") == 0 && (argc == 3 || argc == 4))
		return result(what, make_socket(atoi(argv[1]), atoi(argv[2]),
						argc == 4 ? atoi(argv[3]) : 0));
	if (strcmp(a, "ping") == 0 && argc == 2)
		return result(what, ping_send(argv[1]));
	if (strcmp(a, "open-by-handle") == 0 && argc == 2) {
		struct {
			struct file_handle fh;
			unsigned char data[128];
		} h = { .fh.handle_bytes = 128 };
		int mnt;

		return result(what,
			      syscall(SYS_name_to_handle_at, AT_FDCWD, argv[1], &h.fh, &mnt, 0) < 0
				      ? errno
				      : 0);
	}
	fprintf(stderr,
		"usage: rogue ACTION ARGS | rogue batch ID ACTION ARGS [, ID ACTION ARGS]...\n"
		"actions: connect4|connect6|connect6-mapped PORT | udp ADDR PORT [DNS-NAME] | raw "
		"| packet | "
		"netlink | unix PATH | open PATH | write PATH | link SRC DST | symlink-open "
		"TARGET LINK | bind-mount SRC DST | exec PATH [ARGS] | fork | thread | sleep MS | "
		"flood BYTES | "
		"uring-connect PORT | uring-open PATH | uring-sendmsg PORT | sendfile|splice|"
		"vmsplice PATH PORT | mmap PATH | ptrace PID | vm-read PID ADDR | kill PID|parent "
		"SIG | "
		"cgroup-escape PROCS | bpf | listen | inherited-read FD | ifioctl REQ IFNAME | "
		"ioctl FD REQ | ioctl-high FD REQ | hostname REAL | env NAME SECRET | std-fds | "
		"keyctl | add-key | syslog | unshare-user | perf | personality | memfd-exec | "
		"statfs PATH | fstatfs-cwd | install-time PATH | chmod|truncate|utime|setxattr "
		"PATH | mknod DIR | settime | listmount | capabilities | "
		"monitor-prlimit|renice|affinity | fastopen PORT | outlive COLLECTOR-PORT | ipopts "
		"COLLECTOR-PORT | sockopt COLLECTOR-PORT LEVEL NAME VALUE | "
		"reconnect PORT COLLECTOR-PORT | "
		"ping ADDR | socket FAMILY "
		"TYPE [PROTO] | open-by-handle PATH\n");
	return 2;
}

int main(int argc, char **argv)
{
	int i, start, rc;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2 || strcmp(argv[1], "batch") != 0)
		return action(argc - 1, argv + 1);
	for (i = 2; i < argc; i = start + 1) {
		for (start = i; start < argc && strcmp(argv[start], ",") != 0; start++)
			;
		argv[start < argc ? start : argc] = NULL;
		if (start - i < 2)
			return 2;
		prctl(PR_SET_NAME, argv[i], 0, 0, 0);
		/* An exec that succeeds ends the batch: its ID is printed first. */
		printf("rogue: %s = start\n", argv[i]);
		rc = action(start - i - 1, argv + i + 1);
		printf("rogue: %s = %d\n", argv[i], rc);
	}
	return 0;
}
