// SPDX-License-Identifier: GPL-2.0-only
/*
 * rogue: one forbidden (or allowed) action per invocation, run under `stsd run` by the
 * enforcement tests. Prints what it tried and what happened.
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <pthread.h>
#include <sys/wait.h>
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

static int tcp_connect(int family, const char *port)
{
	struct sockaddr_in6 s6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	struct sockaddr_in s4 = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd, err = 0;

	s4.sin_port = s6.sin6_port = htons(atoi(port));
	fd = socket(family, SOCK_STREAM, 0);
	if (fd < 0)
		return errno;
	if (family == AF_INET ? connect(fd, (struct sockaddr *)&s4, sizeof(s4))
			      : connect(fd, (struct sockaddr *)&s6, sizeof(s6)))
		err = errno;
	close(fd);
	return err;
}

static int udp_send(const char *addr, const char *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(atoi(port)) };
	/* A DNS query for example.com, type A. */
	static const unsigned char q[] = { 0x12, 0x34, 1,   0,	 0,   1,   0,	0,   0,	  0,
					   0,	 0,    7,   'e', 'x', 'a', 'm', 'p', 'l', 'e',
					   3,	 'c',  'o', 'm', 0,   0,   1,	0,   1 };
	int fd, err = 0;

	inet_pton(AF_INET, addr, &sa.sin_addr);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		return errno;
	if (sendto(fd, q, sizeof(q), 0, (struct sockaddr *)&sa, sizeof(sa)) < 0)
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
	int fd = -1, err, res;

	err = io_uring_queue_init(4, &ring, 0);
	if (err)
		return -err;
	sqe = io_uring_get_sqe(&ring);
	if (strcmp(op, "connect") == 0) {
		fd = socket(AF_INET, SOCK_STREAM, 0);
		sa.sin_port = htons(atoi(arg));
		io_uring_prep_connect(sqe, fd, (struct sockaddr *)&sa, sizeof(sa));
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

int main(int argc, char **argv)
{
	const char *a = argc > 1 ? argv[1] : "";
	char what[512];

	setvbuf(stdout, NULL, _IOLBF, 0);
	snprintf(what, sizeof(what), "%s %s %s", a, argc > 2 ? argv[2] : "",
		 argc > 3 ? argv[3] : "");
	if (strcmp(a, "connect4") == 0 && argc == 3)
		return result(what, tcp_connect(AF_INET, argv[2]));
	if (strcmp(a, "connect6") == 0 && argc == 3)
		return result(what, tcp_connect(AF_INET6, argv[2]));
	if (strcmp(a, "udp") == 0 && argc == 4)
		return result(what, udp_send(argv[2], argv[3]));
	if (strcmp(a, "raw") == 0)
		return result(what, make_socket(AF_INET, SOCK_RAW, IPPROTO_ICMP));
	if (strcmp(a, "packet") == 0)
		return result(what, make_socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL)));
	if (strcmp(a, "netlink") == 0)
		return result(what, make_socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE));
	if (strcmp(a, "unix") == 0 && argc == 3)
		return result(what, unix_connect(argv[2]));
	if (strcmp(a, "open") == 0 && argc == 3)
		return result(what, open_file(argv[2], O_RDONLY));
	if (strcmp(a, "write") == 0 && argc == 3)
		return result(what, open_file(argv[2], O_WRONLY | O_CREAT | O_TRUNC));
	if (strcmp(a, "link") == 0 && argc == 4)
		return result(what, link(argv[2], argv[3]) ? errno : 0);
	if (strcmp(a, "exec") == 0 && argc >= 3) {
		execv(argv[2], argv + 2);
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
	if (strcmp(a, "sleep") == 0 && argc == 3) {
		usleep(atoi(argv[2]) * 1000);
		return result(what, 0);
	}
	if (strcmp(a, "uring-connect") == 0 && argc == 3)
		return result(what, uring_op("connect", argv[2]));
	if (strcmp(a, "uring-open") == 0 && argc == 3)
		return result(what, uring_op("open", argv[2]));
	fprintf(stderr,
		"usage: rogue connect4|connect6 PORT | udp ADDR PORT | raw | packet | "
		"netlink | unix PATH | open PATH | write PATH | link SRC DST | exec PATH "
		"[ARGS] | uring-connect PORT | uring-open PATH | sleep MS | fork | thread\n");
	return 2;
}
