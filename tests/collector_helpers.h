/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Test helpers for anything that talks to a real sts-collector: a throw-away CA and a server
 * certificate for localhost/127.0.0.1 (made with libcrypto at test time), starting and
 * stopping build/sts-collector on an ephemeral loopback port, and a minimal HTTPS/1.1 client
 * on raw OpenSSL. Nothing here touches a non-loopback address.
 */
#ifndef STS_COLLECTOR_HELPERS_H
#define STS_COLLECTOR_HELPERS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <openssl/ssl.h>

/* dir/ca.pem, dir/server.pem, dir/server.key. */
int tls_make_pki(const char *dir);

struct collector {
	pid_t pid;
	int port;
	char dir[256]; /* its files: receipt.key(.pub), collector.db, tls */
	char ca[300]; /* CA file a client trusts */
	char db[300];
	char pubkey[300]; /* receipt key, public half */
};

/*
 * Start `OUT/sts-collector serve` with its files in dir (PKI and receipt key made if absent),
 * plus extra arguments (NULL-terminated, may be NULL); wait until it listens.
 */
int collector_start(const char *dir, const char *const *extra, struct collector *c);
/* SIGTERM and wait; *status is the wait status. */
int collector_stop(struct collector *c, int *status);
/* Path of a built binary: $OUT/name (OUT defaults to build). */
const char *collector_bin(char *buf, size_t bufsz, const char *name);

/* TCP + TLS to 127.0.0.1:port, certificate checked against ca for "localhost". */
SSL *tls_connect(const char *ca, int port, int max_version, int *fd);
void tls_close(SSL *ssl, int fd);
/* Write all of buf. */
int tls_write_all(SSL *ssl, const void *buf, size_t len);
/* Read the response until the server closes; parse the status and body (heap string). */
int http_read_response(SSL *ssl, int *status, char **body);

/* One request on a fresh connection: POST path with content type and body. */
int https_post(const char *ca, int port, const char *path, const char *ctype, const void *body,
	       size_t len, int *status, char **resp);

struct sts_key;
/*
 * A JWS with a hand-written protected header, signed by key: for the headers and payloads
 * that sts_jws_sign() refuses to write. Heap string.
 */
char *jws_forge(const struct sts_key *key, const char *header, const void *payload, size_t plen);

#endif /* STS_COLLECTOR_HELPERS_H */
