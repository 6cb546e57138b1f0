// SPDX-License-Identifier: GPL-2.0-only
/*
 * event-gen: the ring-buffer benchmark's load (bench/parts/30-ringbuf.sh). Run inside the
 * policed cgroup, it makes the kernel emit one event per call at a chosen rate: a TCP connect
 * to an address the policy does not name, which the cgroup connect hook refuses (EPERM) and
 * reports to the monitor.
 *
 *   event-gen ADDR RATE SECONDS     RATE calls per second (0: as fast as it can)
 *
 * Output: "sent N seconds S" (S the elapsed time). Exit status 1 if a connect was not refused
 * with EPERM: then the calls are not the events we count.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	double rate, secs, t0, t;
	char host[64] = "";
	long sent = 0;
	int fd, port;

	if (argc != 4 || sscanf(argv[1], "%63[0-9.]:%d", host, &port) != 2 ||
	    inet_pton(AF_INET, host, &sa.sin_addr) != 1 || (rate = atof(argv[2])) < 0 ||
	    (secs = atof(argv[3])) <= 0) {
		fprintf(stderr, "usage: event-gen A.B.C.D:PORT RATE SECONDS\n");
		return 2;
	}
	sa.sin_port = htons(port);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		perror("event-gen: socket");
		return 1;
	}
	t0 = now_s();
	for (;;) {
		t = now_s() - t0;
		if (t >= secs)
			break;
		/* Paced: catch up to RATE * t calls, then spin (a sleep would overshoot at high
		 * rates). */
		if (rate > 0 && sent >= rate * t)
			continue;
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 || errno != EPERM) {
			fprintf(stderr, "event-gen: connect to %s was not refused with EPERM: %s\n",
				argv[1], strerror(errno));
			return 1;
		}
		sent++;
	}
	printf("sent %ld seconds %.3f\n", sent, now_s() - t0);
	return 0;
}
