/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A TLS 1.3 test server on 127.0.0.1, in a thread of the test process (so outside any policed
 * cgroup): it accepts connections, reads one HTTP request each, answers 200, and counts what
 * it received, so that a test can assert what did and did not reach the other end. With
 * options it presents a given certificate (a collector's) and answers what a callback writes
 * (an error status, a forged receipt).
 */
#ifndef STS_TEST_TLS_SERVER_H
#define STS_TEST_TLS_SERVER_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tls_server;

struct tls_server_opts {
	const char *cert_file, *key_file; /* PEM; NULL: a self-signed one for collector.test */
	/*
	 * The whole HTTP response to the request req (len bytes, headers and body) into out;
	 * returns its length, or a negative value to close without answering. NULL: 200 "ok".
	 */
	int (*respond)(struct tls_server *s, const char *req, size_t len, char *out, size_t outsz);
	void *arg;
};

struct tls_server {
	struct tls_server_opts o;
	uint16_t port;
	int fd;
	pthread_t thread;
	bool running;
	void *ctx; /* SSL_CTX * */
	pthread_mutex_t lock;
	unsigned connections; /* accepted TCP connections */
	unsigned hellos; /* connections on which a first byte (a ClientHello) arrived */
	unsigned requests; /* complete requests received and answered */
	size_t app_bytes; /* plaintext bytes received, all connections */
	char last[4096]; /* the last complete request */
	size_t last_len;
};

int tls_server_start(struct tls_server *s);
int tls_server_start_opts(struct tls_server *s, const struct tls_server_opts *o);
void tls_server_stop(struct tls_server *s);

#endif
