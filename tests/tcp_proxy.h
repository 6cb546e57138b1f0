/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A TCP relay on 127.0.0.1 in a thread of the test process, standing between the agent and the
 * collector so that a test controls the path: no collector behind it (down), a collector that
 * came up later, or a collector whose answer never comes back (to kill the agent mid-send).
 */
#ifndef STS_TEST_TCP_PROXY_H
#define STS_TEST_TCP_PROXY_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct tcp_proxy {
	uint16_t port; /* where it listens */
	volatile int target_port; /* where it relays to; 0: nowhere (the collector is down) */
	volatile bool stall; /* relay the request, never the answer */
	volatile unsigned connections;
	int fd;
	volatile bool running;
	pthread_t thread;
};

int tcp_proxy_start(struct tcp_proxy *p);
void tcp_proxy_stop(struct tcp_proxy *p);

#endif
