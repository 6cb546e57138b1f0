/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A TCP relay on 127.0.0.1 in a thread of the test process, standing between the agent and the
 * collector so that a test controls the path: no collector behind it (down), a collector that
 * came up later, a collector whose answer never comes back (to kill the agent mid-send), or a
 * slow one (the request or the answer held back). It counts requests and answers, so that a
 * test can act at those moments.
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
	/*
	 * Hold the request this long before relaying it (dropped if the client gives up
	 * meanwhile: the collector never sees it); hold the answer this long after it came.
	 */
	volatile int delay_request_ms, delay_answer_ms;
	volatile bool release; /* end the current hold of an answer now */
	volatile unsigned connections;
	volatile unsigned requests; /* requests seen from the client */
	volatile unsigned answers; /* answers that came back from the target */
	int fd;
	volatile bool running;
	pthread_t thread;
};

int tcp_proxy_start(struct tcp_proxy *p);
void tcp_proxy_stop(struct tcp_proxy *p);

#endif
