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
 *   syscall-loop floor CGROUP LOOP ARG N PAIRS
 *                                   the kernel's own share (see measure_floor() below): one line
 *                                   "floor LOOP SET BASE ADDED Q1 Q3 RATIO" per set of attach types
 *
 * Output: "<op> <ns per call>" on stdout. Exit status 0, or 1 on the first failed call (with
 * the errno), so a denial never passes for a fast loop.
 */
#include "bench/bpf/cgfloor.skel.h"
#include "core/util.h"

#include <arpa/inet.h>
#include <bpf/libbpf.h>
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
	/*
	 * Our side of each connection closes with a reset: no TIME_WAIT socket is left behind.
	 * Closed normally, every run leaves N of them for a minute, and the next run's lookups
	 * and port searches get slower: a drift that made whichever loop ran later look dearer.
	 */
	static const struct linger rst = { .l_onoff = 1, .l_linger = 0 };

	for (long i = 0; i < n; i++) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), afd;

		if (fd < 0 || connect(fd, (struct sockaddr *)sa, sizeof(*sa)))
			return -1;
		if (lfd >= 0) {
			afd = accept(lfd, NULL, NULL);
			if (afd < 0 || setsockopt(afd, SOL_SOCKET, SO_LINGER, &rst, sizeof(rst)))
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

/* One loop: "open", "connect" or "udp" (ARG a path or an address, own the socket of own_socket()).
 */
static int run_loop(const char *op, const char *arg, struct sockaddr_in *sa, int own, long n)
{
	if (!strcmp(op, "open"))
		return loop_open(arg, n);
	if (!strcmp(op, "connect"))
		return loop_connect(sa, own, n);
	return loop_udp(sa, own, n);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/*
 * The floor: what any process pays once a program of some cgroup attach type is attached to
 * some cgroup, whatever the program and wherever the cgroup. The kernel switches the hook on
 * for everyone (a static key per attach type); for egress and ingress it then returns at an
 * empty program array, for sock_create, connect, sendmsg and sock_ops it runs through the
 * (empty) array of the process's cgroup. Do-nothing programs (bench/bpf/cgfloor.bpf.c) attached
 * to CGROUP, which the looping process is not in, measure exactly that: stsd's own programs
 * never run for a process outside its cgroup (part 1b counts 0 invocations), so stsd's cost to
 * bystanders is this floor. Paired runs, attached and detached in alternating order, a tenth
 * of N as warm-up after each change: the machine's drift falls on both sides.
 */
static const struct {
	const char *set;
	const char *progs[8];
} floor_sets[] = {
	{ "none", { NULL } }, /* the control: pairs of identical runs */
	{ "sock_create", { "floor_sock_create" } },
	{ "connect", { "floor_connect4", "floor_connect6" } },
	/* Attached by stsd only for device-wide rules (deny-outside, legacy-deny). */
	{ "sendmsg", { "floor_sendmsg4", "floor_sendmsg6" } },
	{ "sock_ops", { "floor_sockops" } },
	{ "egress+ingress", { "floor_egress", "floor_ingress" } },
	/* What stsd run attaches to the policed cgroup. */
	{ "stsd's",
	  { "floor_sock_create", "floor_connect4", "floor_connect6", "floor_sockops",
	    "floor_egress", "floor_ingress" } },
};

static int floor_attach(struct cgfloor_bpf *skel, int cg, size_t set, struct bpf_link **links)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(floor_sets[set].progs) && floor_sets[set].progs[i]; i++) {
		struct bpf_program *p =
			bpf_object__find_program_by_name(skel->obj, floor_sets[set].progs[i]);

		links[i] = p ? bpf_program__attach_cgroup(p, cg) : NULL;
		if (!links[i])
			return -1;
	}
	return 0;
}

static void floor_detach(struct bpf_link **links, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		bpf_link__destroy(links[i]);
		links[i] = NULL;
	}
}

static int measure_floor(const char *cgroup, const char *op, const char *arg,
			 struct sockaddr_in *sa, int own, long n, int pairs)
{
	struct bpf_link *links[8] = { NULL };
	double *added = calloc(pairs, sizeof(double)), *ratio = calloc(pairs, sizeof(double));
	struct cgfloor_bpf *skel = cgfloor_bpf__open_and_load();
	int cg = open(cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC), err = -1;

	if (!added || !ratio || !skel || cg < 0) {
		fprintf(stderr, "syscall-loop: floor: %s: %s\n", skel ? cgroup : "load programs",
			strerror(errno));
		goto cleanup;
	}
	for (size_t set = 0; set < ARRAY_SIZE(floor_sets); set++) {
		double base = 0;

		for (int k = 0; k < pairs; k++) {
			double t[2];

			for (int h = 0; h < 2; h++) {
				int on = (h == 0) == (k & 1);
				double t0;

				floor_detach(links, ARRAY_SIZE(links));
				if (on && floor_attach(skel, cg, set, links)) {
					fprintf(stderr,
						"syscall-loop: floor: attach %s to %s: %s\n",
						floor_sets[set].set, cgroup, strerror(errno));
					goto cleanup;
				}
				if (run_loop(op, arg, sa, own, n / 10 + 1))
					goto failed;
				t0 = now_ns();
				if (run_loop(op, arg, sa, own, n))
					goto failed;
				t[on] = (now_ns() - t0) / n;
			}
			floor_detach(links, ARRAY_SIZE(links));
			added[k] = t[1] - t[0];
			ratio[k] = t[1] / t[0];
			base += t[0] / pairs;
		}
		qsort(added, pairs, sizeof(double), cmp_double);
		qsort(ratio, pairs, sizeof(double), cmp_double);
		printf("floor %s %s %.1f %.1f %.1f %.1f %.4f\n", op, floor_sets[set].set, base,
		       added[pairs / 2], added[pairs / 4], added[3 * pairs / 4], ratio[pairs / 2]);
		fflush(stdout);
	}
	err = 0;
	goto cleanup;
failed:
	fprintf(stderr, "syscall-loop: floor %s %s: %s\n", op, arg, strerror(errno));
cleanup:
	floor_detach(links, ARRAY_SIZE(links));
	cgfloor_bpf__destroy(skel);
	if (cg >= 0)
		close(cg);
	free(added);
	free(ratio);
	return err;
}

int main(int argc, char **argv)
{
	const char *op = NULL, *arg = NULL, *count = NULL, *cgroup = NULL;
	struct sockaddr_in sa;
	int own = -1, err, pairs = 0;
	double t0, t1;
	long n = 0;

	if (argc == 3 && !strcmp(argv[1], "serve")) {
		if (parse_addr(argv[2], &sa) || serve(&sa))
			fprintf(stderr, "syscall-loop: serve %s: %s\n", argv[2], strerror(errno));
		return 1;
	}
	if (argc == 7 && !strcmp(argv[1], "floor")) {
		cgroup = argv[2], op = argv[3], arg = argv[4], count = argv[5];
		pairs = atoi(argv[6]);
	} else if (argc == 4) {
		op = argv[1], arg = argv[2], count = argv[3];
	}
	if (count)
		n = atol(count);
	if (n <= 0 || (cgroup && pairs <= 0) ||
	    (strcmp(op, "open") && strcmp(op, "connect") && strcmp(op, "udp"))) {
		fprintf(stderr, "usage: syscall-loop open PATH N | connect ADDR N | udp ADDR N | "
				"serve ADDR | floor CGROUP LOOP ARG N PAIRS\n");
		return 2;
	}
	if (strcmp(op, "open") &&
	    (parse_addr(arg, &sa) ||
	     (sa.sin_port == 0 &&
	      (own = own_socket(strcmp(op, "connect") ? SOCK_DGRAM : SOCK_STREAM, &sa)) < 0))) {
		fprintf(stderr, "syscall-loop: bad address '%s' or no socket: %s\n", arg,
			strerror(errno));
		return 2;
	}
	if (cgroup)
		return measure_floor(cgroup, op, arg, &sa, own, n, pairs) ? 1 : 0;
	t0 = now_ns();
	err = run_loop(op, arg, &sa, own, n);
	t1 = now_ns();
	if (err) {
		fprintf(stderr, "syscall-loop %s %s: %s\n", op, arg, strerror(errno));
		return 1;
	}
	printf("%s %.1f\n", op, (t1 - t0) / n);
	return 0;
}
