// SPDX-License-Identifier: GPL-2.0-only
/*
 * actbench: HTTPS load like a fleet of devices, for bench/parts/60-collector.sh. Each request
 * is a new TCP connection and a full TLS 1.3 handshake (no session resumption: a device
 * activates once), one request, then the server closes. The same program drives the
 * collector and the nginx baseline, so the client's cost is the same on both sides.
 *
 *   actbench post PORT CA KEYDIR CLIENTS REQUESTS
 *       POST /v1/activations: REQUESTS valid signed reports (each a new activation id and a
 *       Luhn-valid IMEI), from CLIENTS threads, each with its own device key (KEYDIR/devN,
 *       made if absent). The reports are signed before the clock starts. Every reply must
 *       be 201.
 *   actbench get PORT CA PATH CLIENTS REQUESTS
 *       GET PATH, every reply must be 200.
 *
 * Prints "requests_per_s R" and "failures F"; exits 1 if any request failed.
 */
#include "core/crypto.h"
#include "wire/jws.h"
#include "wire/report.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

struct run {
	int port;
	SSL_CTX *ctx;
	char **reqs; /* one whole HTTP request each */
	size_t *lens;
	int nreqs;
	int want_status;
	atomic_int next;
	atomic_int ok, failed;
	pthread_barrier_t start;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* One request on a fresh connection; the HTTP status, or -1. */
static int one(struct run *r, const char *req, size_t len)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(r->port) };
	char buf[4096];
	size_t got = 0;
	int fd, n, status = -1;
	SSL *ssl = NULL;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		goto out;
	ssl = SSL_new(r->ctx);
	if (!ssl || !SSL_set_tlsext_host_name(ssl, "localhost") ||
	    !SSL_set1_host(ssl, "localhost") || !SSL_set_fd(ssl, fd) || SSL_connect(ssl) != 1 ||
	    SSL_write(ssl, req, (int)len) != (int)len)
		goto out;
	/* Read until the server closes ("Connection: close" on both servers). */
	while ((n = SSL_read(ssl, buf + got, (int)(sizeof(buf) - 1 - got))) > 0) {
		got += n;
		if (got == sizeof(buf) - 1)
			got = 16; /* keep the status line, drop a long body */
	}
	buf[got] = '\0';
	if (got >= 12 && !strncmp(buf, "HTTP/1.1 ", 9))
		status = atoi(buf + 9);
out:
	if (ssl) {
		SSL_shutdown(ssl);
		SSL_free(ssl);
	}
	ERR_clear_error();
	if (fd >= 0)
		close(fd);
	return status;
}

static void *client(void *arg)
{
	struct run *r = arg;
	int i;

	pthread_barrier_wait(&r->start);
	while ((i = atomic_fetch_add(&r->next, 1)) < r->nreqs) {
		if (one(r, r->reqs[i], r->lens[i]) == r->want_status)
			atomic_fetch_add(&r->ok, 1);
		else
			atomic_fetch_add(&r->failed, 1);
	}
	return NULL;
}

/* A Luhn-valid IMEI from n: 14 digits, then the check digit the library accepts. */
static void make_imei(long n, char out[16])
{
	snprintf(out, 16, "35%012lu0", (unsigned long)n % 1000000000000UL);
	while (!sts_imei_valid(out, 15) && out[14] < '9')
		out[14]++;
}

static char *http(const char *method, const char *path, const char *body, size_t blen, size_t *len)
{
	char *s = NULL;
	int n;

	if (body)
		n = asprintf(
			&s,
			"%s %s HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/jose\r\n"
			"Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
			method, path, blen, body);
	else
		n = asprintf(&s, "%s %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
			     method, path);
	if (n < 0)
		return NULL;
	*len = (size_t)n;
	return s;
}

/* Request i of a post run: a report from device i % clients, signed now. */
static char *report_request(struct sts_key *keys, int clients, int i, size_t *len)
{
	char aid[STS_AID_LEN + 1], imei[16], json[256], *jws = NULL, *req;
	size_t jlen;

	if (sts_aid_new(aid))
		return NULL;
	/* Time-seeded so that IMEIs differ from one run to the next as well. */
	make_imei((long)time(NULL) * 100000 + i, imei);
	snprintf(json, sizeof(json),
		 "{\"imei\":\"%s\",\"model\":\"PinePhone Pro\",\"sw_version\":\"postmarketOS "
		 "v24.06\",\"country\":\"FR\"}",
		 imei);
	if (sts_jws_sign(&keys[i % clients], aid, true, json, strlen(json), &jws, &jlen))
		return NULL;
	req = http("POST", "/v1/activations", jws, jlen, len);
	free(jws);
	return req;
}

int main(int argc, char **argv)
{
	struct run r = { 0 };
	struct sts_key *keys = NULL;
	pthread_t *th;
	bool post;
	int clients, i;
	double t0, t1;

	if (argc != 7 || (strcmp(argv[1], "post") && strcmp(argv[1], "get"))) {
		fprintf(stderr, "usage: actbench post PORT CA KEYDIR CLIENTS REQUESTS\n"
				"       actbench get PORT CA PATH CLIENTS REQUESTS\n");
		return 2;
	}
	post = !strcmp(argv[1], "post");
	r.port = atoi(argv[2]);
	clients = atoi(argv[5]);
	r.nreqs = atoi(argv[6]);
	r.want_status = post ? 201 : 200;
	if (clients < 1 || r.nreqs < 1)
		return 2;
	r.ctx = SSL_CTX_new(TLS_client_method());
	if (!r.ctx || SSL_CTX_load_verify_locations(r.ctx, argv[3], NULL) != 1 ||
	    !SSL_CTX_set_min_proto_version(r.ctx, TLS1_3_VERSION)) {
		fprintf(stderr, "actbench: TLS context with CA %s failed\n", argv[3]);
		return 2;
	}
	SSL_CTX_set_verify(r.ctx, SSL_VERIFY_PEER, NULL);
	/* A device does one activation: never resume a session. */
	SSL_CTX_set_session_cache_mode(r.ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_options(r.ctx, SSL_OP_NO_TICKET);
	r.reqs = calloc(r.nreqs, sizeof(*r.reqs));
	r.lens = calloc(r.nreqs, sizeof(*r.lens));
	th = calloc(clients, sizeof(*th));
	if (!r.reqs || !r.lens || !th)
		return 2;
	if (post) {
		keys = calloc(clients, sizeof(*keys));
		for (i = 0; keys && i < clients; i++) {
			char priv[512], pub[520];

			snprintf(priv, sizeof(priv), "%s/dev%d.key", argv[4], i);
			snprintf(pub, sizeof(pub), "%s/dev%d.pub", argv[4], i);
			if (access(priv, F_OK) == 0 ? sts_key_load_private(priv, &keys[i])
						    : sts_key_generate(priv, pub, &keys[i])) {
				fprintf(stderr, "actbench: device key %s failed\n", priv);
				return 2;
			}
		}
	}
	for (i = 0; i < r.nreqs; i++) {
		r.reqs[i] = post ? report_request(keys, clients, i, &r.lens[i])
				 : http("GET", argv[4], NULL, 0, &r.lens[i]);
		if (!r.reqs[i]) {
			fprintf(stderr, "actbench: cannot make request %d\n", i);
			return 2;
		}
	}
	pthread_barrier_init(&r.start, NULL, clients + 1);
	for (i = 0; i < clients; i++)
		if (pthread_create(&th[i], NULL, client, &r)) {
			fprintf(stderr, "actbench: pthread_create failed\n");
			return 2;
		}
	pthread_barrier_wait(&r.start);
	t0 = now_s();
	for (i = 0; i < clients; i++)
		pthread_join(th[i], NULL);
	t1 = now_s();
	printf("requests_per_s %.1f\n", atomic_load(&r.ok) / (t1 - t0));
	printf("failures %d\n", atomic_load(&r.failed));
	for (i = 0; i < r.nreqs; i++)
		free(r.reqs[i]);
	for (i = 0; keys && i < clients; i++)
		sts_key_free(&keys[i]);
	free(keys);
	free(r.reqs);
	free(r.lens);
	free(th);
	SSL_CTX_free(r.ctx);
	return atomic_load(&r.failed) ? 1 : 0;
}
