// SPDX-License-Identifier: GPL-2.0-only
/*
 * syscall-loop: the tight loops of the hook-overhead benchmark (bench/parts/10-hooks.sh and
 * 20-policed.sh). Each loop does one operation N times and prints the mean cost in ns/call,
 * so the same program measures a process outside the policed cgroup (the cost every other
 * process pays) and the agent's allowed operations inside it.
 *
 *   syscall-loop open PATH N        open(PATH, O_RDONLY) + close
 *   syscall-loop connect ADDR N     TCP connect to ADDR (IPv4 a.b.c.d:port) + close; with
 *                                   port 0, a listener of our own on 127.0.0.1 is used and
 *                                   each connection is accepted and closed
 *   syscall-loop udp ADDR N         sendmsg() of 64 bytes to ADDR (unconnected socket, so the
 *                                   cgroup sendmsg hook runs on every call); port 0: a bound
 *                                   socket of our own, drained now and then
 *   syscall-loop serve ADDR         accept and close TCP connections on ADDR until killed: the
 *                                   peer of a connect loop run where listen() is refused (the
 *                                   policed cgroup); prints "listening PORT" once ready
 *
 * Output: "<op> <ns per call>" on stdout. Exit status 0, or 1 on the first failed call (with
 * the errno), so a denial never passes for a fast loop.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/*
 * Wall time by default; SYSCALL_LOOP_CLOCK=cpu: this thread's CPU time, which the other
 * processes of a loaded machine (a shared CI host) do not inflate: a hook's cost is CPU time
 * the looping thread spends in the kernel either way.
 */
static double now_ns(void)
{
	const char *c = getenv("SYSCALL_LOOP_CLOCK");
	struct timespec ts;

	clock_gettime(c && !strcmp(c, "cpu") ? CLOCK_THREAD_CPUTIME_ID : CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int parse_addr(const char *s, struct sockaddr_in *sa)
{
	char host[64];
	const char *colon = strrchr(s, ':');

	if (!colon || (size_t)(colon - s) >= sizeof(host))
		return -1;
	memcpy(host, s, colon - s);
	host[colon - s] = '\0';
	*sa = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons(atoi(colon + 1)) };
	return inet_pton(AF_INET, host, &sa->sin_addr) == 1 ? 0 : -1;
}

/* A socket of our own bound to 127.0.0.1 on an ephemeral port; sa gets its address. */
static int own_socket(int type, struct sockaddr_in *sa)
{
	socklen_t len = sizeof(*sa);
	int fd = socket(AF_INET, type, 0);

	*sa = (struct sockaddr_in){ .sin_family = AF_INET,
				    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	if (fd < 0 || bind(fd, (struct sockaddr *)sa, sizeof(*sa)) ||
	    (type == SOCK_STREAM && listen(fd, 128)) ||
	    getsockname(fd, (struct sockaddr *)sa, &len))
		return -1;
	return fd;
}

static int loop_open(const char *path, long n)
{
	for (long i = 0; i < n; i++) {
		int fd = open(path, O_RDONLY | O_CLOEXEC);

		if (fd < 0)
			return -1;
		close(fd);
	}
	return 0;
}

static int loop_connect(struct sockaddr_in *sa, int lfd, long n)
{
	for (long i = 0; i < n; i++) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), afd;

		if (fd < 0 || connect(fd, (struct sockaddr *)sa, sizeof(*sa)))
			return -1;
		if (lfd >= 0) {
			afd = accept(lfd, NULL, NULL);
			if (afd < 0)
				return -1;
			close(afd);
		}
		close(fd);
	}
	return 0;
}

static int loop_udp(struct sockaddr_in *sa, int rfd, long n)
{
	char buf[64] = "stsguard bench", sink[64];
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr msg = {
		.msg_name = sa, .msg_namelen = sizeof(*sa), .msg_iov = &iov, .msg_iovlen = 1
	};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	for (long i = 0; i < n; i++) {
		if (sendmsg(fd, &msg, 0) != sizeof(buf))
			return -1;
		/* Drain, so the receiver's queue never fills: a full queue changes the cost. */
		if (rfd >= 0 && (i & 63) == 63)
			while (recv(rfd, sink, sizeof(sink), MSG_DONTWAIT) > 0)
				;
	}
	close(fd);
	return 0;
}

static int serve(struct sockaddr_in *sa)
{
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	socklen_t len = sizeof(*sa);

	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, (struct sockaddr *)sa, sizeof(*sa)) || listen(fd, 1024) ||
	    getsockname(fd, (struct sockaddr *)sa, &len))
		return -1;
	printf("listening %u\n", ntohs(sa->sin_port));
	fflush(stdout);
	for (;;) {
		int afd = accept(fd, NULL, NULL);

		if (afd >= 0)
			close(afd);
	}
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa;
	int own = -1, err;
	double t0, t1;
	long n;

	if (argc == 3 && !strcmp(argv[1], "serve")) {
		if (parse_addr(argv[2], &sa) || serve(&sa))
			fprintf(stderr, "syscall-loop: serve %s: %s\n", argv[2], strerror(errno));
		return 1;
	}
	if (argc != 4 || (n = atol(argv[3])) <= 0) {
		fprintf(stderr, "usage: syscall-loop open PATH N | connect ADDR N | udp ADDR N | "
				"serve ADDR\n");
		return 2;
	}
	if (strcmp(argv[1], "open") &&
	    (parse_addr(argv[2], &sa) ||
	     (sa.sin_port == 0 &&
	      (own = own_socket(strcmp(argv[1], "connect") ? SOCK_DGRAM : SOCK_STREAM, &sa)) <
		      0))) {
		fprintf(stderr, "syscall-loop: bad address '%s' or no socket: %s\n", argv[2],
			strerror(errno));
		return 2;
	}
	t0 = now_ns();
	if (!strcmp(argv[1], "open"))
		err = loop_open(argv[2], n);
	else if (!strcmp(argv[1], "connect"))
		err = loop_connect(&sa, own, n);
	else if (!strcmp(argv[1], "udp"))
		err = loop_udp(&sa, own, n);
	else {
		fprintf(stderr, "syscall-loop: unknown loop '%s'\n", argv[1]);
		return 2;
	}
	t1 = now_ns();
	if (err) {
		fprintf(stderr, "syscall-loop %s %s: %s\n", argv[1], argv[2], strerror(errno));
		return 1;
	}
	printf("%s %.1f\n", argv[1], (t1 - t0) / n);
	return 0;
}
