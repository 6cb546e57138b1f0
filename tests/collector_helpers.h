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
#include <unistd.h>

#include <openssl/ssl.h>

/* dir/ca.pem, dir/server.pem, dir/server.key. */
int tls_make_pki(const char *dir);

struct collector {
	pid_t pid;
	int port;
	char dir[256]; /* its files: receipt.key(.pub), collector.db, tls */
	char ca[300]; /* CA file a client trusts */
	char db[512]; /* what --db names: dir/collector.db or collector_db_url */
	char pubkey[300]; /* receipt key, public half */
};

/*
 * Start `OUT/sts-collector serve` with its files in dir (PKI and receipt key made if absent),
 * plus extra arguments (NULL-terminated, may be NULL); wait until it listens.
 */
int collector_start(const char *dir, const char *const *extra, struct collector *c);
/*
 * When set, collector_start() gives the collector this --db (a PostgreSQL URI) instead of
 * dir/collector.db: the same tests then run against the other backend.
 */
extern const char *collector_db_url;

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

/* Write req as it is on a fresh connection; the whole response, headers too (heap string). */
int https_raw(const char *ca, int port, const void *req, size_t len, char **resp);

/*
 * A real PostgreSQL server for the tests (Debian's postgresql-15): initdb into a temporary
 * directory as an unprivileged user (nobody when run as root), listening on a unix socket in
 * that directory only, no TCP. Stopped with a fast shutdown and removed by pg_destroy().
 */
struct pg_server {
	pid_t pid;
	char dir[128];
	char bindir[128];
	uid_t uid;
	gid_t gid;
	/*
	 * Set before pg_start(): also listen on 127.0.0.1 (port chosen free, written here) with
	 * TLS only, tls_dir/server.pem and server.key (tls_make_pki) as its certificate; TCP
	 * clients without TLS are refused, with TLS they need the role's password (scram).
	 */
	char tls_dir[320];
	int port;
};

/* -ENOENT when no PostgreSQL server binaries are installed. */
int pg_find_bindir(char *out, size_t outsz);
/* initdb (first time) and start; returns once it accepts connections. */
int pg_start(struct pg_server *pg);
/* Fast shutdown (SIGINT): open transactions are rolled back, connections cut. */
int pg_stop(struct pg_server *pg);
void pg_destroy(struct pg_server *pg);
/* CREATE DATABASE name; its URI for --db into url. */
int pg_new_db(struct pg_server *pg, const char *name, char *url, size_t urlsz);
/*
 * One server for the whole test process, started on first use and destroyed at exit; each
 * call makes a new database and returns its URI (static buffer). NULL, with the reason in
 * why, when PostgreSQL is not installed or did not start.
 */
const char *pg_shared_db(char *why, size_t whysz, struct pg_server **pg);

struct sts_key;
/*
 * A JWS with a hand-written protected header, signed by key: for the headers and payloads
 * that sts_jws_sign() refuses to write. Heap string.
 */
char *jws_forge(const struct sts_key *key, const char *header, const void *payload, size_t plen);

#endif /* STS_COLLECTOR_HELPERS_H */
