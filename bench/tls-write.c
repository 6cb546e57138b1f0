// SPDX-License-Identifier: GPL-2.0-only
/*
 * tls-write: the payload-check benchmark of bench/parts/20-policed.sh. Times SSL_write of a
 * plaintext under `stsd run` (uprobe copy, SIGSTOP, ring buffer, the monitor's decision,
 * SIGCONT) against the same writes without stsd.
 *
 *   tls-write request KEYDIR MODEL_LEN > req
 *       an activation request the payload check approves: claims with a MODEL_LEN-byte model
 *       and sw_version (1..64, the claim set's bounds), signed with a key made in KEYDIR
 *   tls-write server CERT KEY
 *       a TLS 1.3 server on 127.0.0.1 (port printed as "port N"); one connection at a time.
 *       After the handshake it sends one byte, then reads until the peer is gone and prints
 *       "conn NS BYTES": ns from that byte to the end of the connection, bytes received
 *   tls-write loop PORT N < req
 *       one connection; once the server's byte arrives, N SSL_writes of the request read
 *       from stdin (one report each, so each is checked and approved), then close_notify and
 *       wait for the server's; prints "loop BYTES MEDIAN_NS P99_NS MIN_NS MAX_NS"
 *   tls-write once PORT SIZE [< req]
 *       one connection; once the server's byte arrives, one SSL_write of SIZE bytes (the
 *       request from stdin when SIZE is 0, else SIZE bytes of filler that is no report),
 *       then exit. The server's "conn" time is the time to the write's fate: delivered, or
 *       the writer killed by the payload check.
 *
 * No certificate is verified: the benchmark measures the write, not the handshake.
 */
#include "core/crypto.h"
#include "wire/jws.h"
#include "wire/report.h"
#include "wire/request.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <linux/sockios.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* No read waits longer: a connection the egress gate blocked must not hang the benchmark. */
#define IO_TIMEOUT_S 10

static void set_timeout(int fd)
{
	struct timeval tv = { .tv_sec = IO_TIMEOUT_S };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/*
 * Until every byte written has been acknowledged: then the next write starts a segment of its
 * own. The egress gate (bpf/volume.bpf.c) walks at most 64 TLS records per segment and blocks
 * the connection past that; back-to-back records of a few hundred bytes, queued while the
 * writer runs ahead (or collapsed by a retransmission), can exceed it. Not timed.
 */
static void wait_sent(int fd)
{
	int pending = 0;

	for (int i = 0; i < 100000 && ioctl(fd, SIOCOUTQ, &pending) == 0 && pending > 0; i++)
		usleep(10);
}

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int make_request(const char *dir, int n)
{
	struct sts_report r = { .imei = "490154203237518", .country = "FR" };
	char path[4096], pub[4112], reason[STS_REASON_MAX], aid[STS_AID_LEN + 1];
	char *claims = NULL, *jws = NULL, *req = NULL;
	size_t claims_len, jws_len, req_len;
	struct sts_key key = { 0 };
	int err;

	if (n < 1 || n > STS_REPORT_MODEL_MAX || n > STS_REPORT_SW_VERSION_MAX)
		return -EINVAL;
	memset(r.model, 'M', n);
	memset(r.sw_version, '1', n);
	snprintf(path, sizeof(path), "%s/device-%d.key", dir, n);
	snprintf(pub, sizeof(pub), "%s.pub", path);
	unlink(path);
	unlink(pub);
	err = sts_key_generate(path, pub, &key);
	if (!err)
		err = sts_report_serialize(&r, &claims, &claims_len, reason, sizeof(reason));
	if (!err)
		err = sts_aid_new(aid);
	if (!err)
		err = sts_jws_sign(&key, aid, true, claims, claims_len, &jws, &jws_len);
	if (!err)
		err = sts_request_build("collector.test", jws, jws_len, &req, &req_len);
	if (!err && fwrite(req, 1, req_len, stdout) != req_len)
		err = -EIO;
	free(claims);
	free(jws);
	free(req);
	sts_key_free(&key);
	return err;
}

static SSL *tls_connect(SSL_CTX **ctx, int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons(port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	SSL *ssl;

	/* One segment per write (see wait_sent). */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	set_timeout(fd);
	*ctx = SSL_CTX_new(TLS_client_method());
	if (fd < 0 || !*ctx || connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
		return NULL;
	SSL_CTX_set_min_proto_version(*ctx, TLS1_3_VERSION);
	ssl = SSL_new(*ctx);
	if (!ssl || !SSL_set_fd(ssl, fd) || SSL_connect(ssl) != 1)
		return NULL;
	return ssl;
}

static int cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return x < y ? -1 : x > y;
}

static int loop(int port, int n, const char *req, size_t len)
{
	long long *t = calloc(n, sizeof(*t));
	SSL_CTX *ctx;
	SSL *ssl = tls_connect(&ctx, port);
	char go;

	if (!ssl || !t || SSL_read(ssl, &go, 1) != 1)
		return -1;
	for (int i = 0; i < n; i++) {
		long long t0 = now_ns();

		if (SSL_write(ssl, req, (int)len) != (int)len)
			return -1;
		t[i] = now_ns() - t0;
		wait_sent(SSL_get_fd(ssl));
	}
	qsort(t, n, sizeof(*t), cmp_ll);
	printf("loop %zu %lld %lld %lld %lld\n", len, t[n / 2], t[(n * 99 + 99) / 100 - 1], t[0],
	       t[n - 1]);
	/* Until the server has read everything: its byte count proves every write went out. */
	SSL_shutdown(ssl);
	while (read(SSL_get_fd(ssl), t, sizeof(*t)) > 0)
		;
	return 0;
}

static int once(int port, const char *buf, size_t len)
{
	SSL_CTX *ctx;
	SSL *ssl = tls_connect(&ctx, port);
	char go;

	if (!ssl || SSL_read(ssl, &go, 1) != 1)
		return -1;
	if (SSL_write(ssl, buf, (int)len) != (int)len)
		return -1;
	/* No close_notify: the end of the connection is the process's exit, as when killed. */
	_exit(0);
}

static int server(const char *cert, const char *key)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	socklen_t salen = sizeof(sa);
	int lfd = socket(AF_INET, SOCK_STREAM, 0);
	static char buf[65536];

	if (!ctx || SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 || lfd < 0 ||
	    bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(lfd, 16) ||
	    getsockname(lfd, (struct sockaddr *)&sa, &salen))
		return -1;
	SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
	SSL_CTX_set_num_tickets(ctx, 0);
	printf("port %u\n", ntohs(sa.sin_port));
	fflush(stdout);
	for (;;) {
		int fd = accept(lfd, NULL, NULL), n;
		long long t0, bytes = 0;
		SSL *ssl;

		if (fd < 0)
			continue;
		set_timeout(fd);
		ssl = SSL_new(ctx);
		SSL_set_fd(ssl, fd);
		if (SSL_accept(ssl) == 1 && SSL_write(ssl, "g", 1) == 1) {
			t0 = now_ns();
			while ((n = SSL_read(ssl, buf, sizeof(buf))) > 0)
				bytes += n;
			printf("conn %lld %lld\n", now_ns() - t0, bytes);
			fflush(stdout);
			SSL_shutdown(ssl);
		}
		SSL_free(ssl);
		close(fd);
	}
}

/* The request from stdin. */
static char *read_stdin(size_t *len)
{
	static char req[STS_REQUEST_HEAD_MAX + STS_JWS_MAX + 1];

	*len = fread(req, 1, sizeof(req), stdin);
	return *len > 0 && *len < sizeof(req) ? req : NULL;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	char *buf = NULL;
	size_t len = 0;

	signal(SIGPIPE, SIG_IGN);
	if (!strcmp(mode, "request") && argc == 4) {
		if (make_request(argv[2], atoi(argv[3])) == 0)
			return 0;
	} else if (!strcmp(mode, "server") && argc == 4) {
		server(argv[2], argv[3]);
	} else if (!strcmp(mode, "loop") && argc == 4) {
		if ((buf = read_stdin(&len)) && loop(atoi(argv[2]), atoi(argv[3]), buf, len) == 0)
			return 0;
	} else if (!strcmp(mode, "once") && argc == 4) {
		len = strtoul(argv[3], NULL, 10);
		if (len == 0)
			buf = read_stdin(&len);
		else if ((buf = malloc(len)))
			memset(buf, 'x', len);
		if (buf)
			once(atoi(argv[2]), buf, len);
	} else {
		fprintf(stderr, "usage: tls-write request KEYDIR MODEL_LEN | server CERT KEY | "
				"loop PORT N < req | once PORT SIZE [< req]\n");
		return 2;
	}
	fprintf(stderr, "tls-write %s: failed (%s)\n", mode, strerror(errno));
	ERR_print_errors_fp(stderr);
	return 1;
}
