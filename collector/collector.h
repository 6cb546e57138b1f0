/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * sts-collector internals: the SQLite store (store.c), the HTTPS server (server.c) and the
 * command line (main.c). Functions return 0 or -errno.
 */
#ifndef STS_COLLECTOR_H
#define STS_COLLECTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/crypto.h"
#include "wire/jws.h"
#include "wire/report.h"

#define COLLECTOR_STATE_DIR "/var/lib/sts-collector"
#define COLLECTOR_DEFAULT_DB COLLECTOR_STATE_DIR "/collector.db"
#define COLLECTOR_DEFAULT_SIGNING_KEY COLLECTOR_STATE_DIR "/receipt.key"
#define COLLECTOR_DEFAULT_TLS_CERT "/etc/sts-collector/tls-cert.pem"
#define COLLECTOR_DEFAULT_TLS_KEY "/etc/sts-collector/tls-key.pem"
#define COLLECTOR_DEFAULT_LISTEN "0.0.0.0:8443"
#define COLLECTOR_DEFAULT_MAX_BODY 8192
#define COLLECTOR_DEFAULT_TIMEOUT 10
#define COLLECTOR_DEFAULT_MAX_CONNS 256

struct store;

/* Open (and with create, make: parent directories 0700, schema, WAL) the database. */
int store_open(const char *path, bool create, struct store **st);
void store_close(struct store *st);
/* Human-readable text of the last SQLite error, for messages. */
const char *store_errmsg(struct store *st);

/* Device keys learnt on first use. *found is false when kid is not registered. */
int store_get_key(struct store *st, const char *kid, uint8_t pub[STS_ED25519_PUB_LEN], bool *found);

/*
 * Write transactions: begin (immediate, so the seq read next cannot race another writer),
 * then per report a savepoint: look the aid up, insert, release (or roll back to the
 * savepoint, which undoes that report alone). Reports that arrive together share one
 * transaction (group commit, see server.c). Commit returns only once SQLite has fsync'd the
 * WAL (synchronous=FULL): a receipt is never sent for a row that could vanish.
 */
int store_begin(struct store *st);
int store_rollback(struct store *st);
int store_commit(struct store *st);
int store_savepoint(struct store *st);
int store_release(struct store *st);
int store_rollback_to(struct store *st);
/* *found false when aid is new; otherwise its sha256 (hex) and receipt (heap string). */
int store_find(struct store *st, const char *aid, bool *found, char sha256_hex[65], char **receipt);
int store_next_seq(struct store *st, long long *seq);

struct activation {
	long long seq;
	const char *aid;
	const char *kid;
	const char *sha256_hex;
	const char *received_at;
	const struct sts_report *report;
	const char *jws; /* as received: not NUL-terminated */
	size_t jws_len;
	const char *receipt;
	/* TOFU: the key to register with this activation, or NULL. */
	const uint8_t *new_key;
};
int store_insert(struct store *st, const struct activation *a);

/* Rejections are counted in memory and added here in batches (see server.c). */
int store_add_rejections(struct store *st, const char *code, unsigned long n);

/* For `list` and `stats`: rows as jansson objects, handed to cb one by one. */
int store_list(struct store *st, int (*cb)(json_t *row, void *arg), void *arg);
int store_stats(struct store *st, json_t **out);

struct server_opts {
	const char *listen;
	const char *tls_cert;
	const char *tls_key;
	const char *signing_key;
	const char *db;
	const char *trusted_keys; /* NULL: trust on first use */
	const char *port_file;
	long max_body;
	int timeout;
	int max_conns;
};

/* Run until SIGTERM/SIGINT has drained the in-flight requests. Returns 0 or -errno. */
int server_run(const struct server_opts *o);

#endif /* STS_COLLECTOR_H */
