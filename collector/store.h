/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The collector's storage, behind one small interface so that the HTTP side never knows which
 * database it speaks to: SQLite (store_sqlite.c, one file, the embedded default) or PostgreSQL
 * (store_pg.c, shared by several collector instances). Every function returns 0 or -errno;
 * -ENOTCONN means the database connection is gone (store_reconnect() tries again).
 *
 * The same semantics on both: an activation's aid is unique; its row, once committed, is never
 * updated (a trigger refuses it); seq is allocated from a counter row inside the writing
 * transaction, which is serialized across every writer (SQLite: BEGIN IMMEDIATE; PostgreSQL: a
 * transaction-scoped advisory lock taken first), so seq has no gap even with several
 * instances, and a rolled-back transaction gives its numbers back. Schemas are versioned and
 * migrated forward at `serve` start (store_open with create).
 */
#ifndef STS_COLLECTOR_STORE_H
#define STS_COLLECTOR_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/crypto.h"
#include "wire/report.h"

/* The schema version this collector writes (both backends). */
#define STORE_SCHEMA_VERSION 2

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

/* What `list` and `export` select: rows with received_at >= since and seq > after_seq. */
struct store_filter {
	const char *since; /* "YYYY-MM-DDTHH:MM:SSZ" or NULL */
	long long after_seq;
};

struct store;

struct store_ops {
	const char *name;
	void (*close)(struct store *st);
	const char *(*errmsg)(struct store *st);
	int (*reconnect)(struct store *st);
	int (*get_key)(struct store *st, const char *kid, uint8_t pub[STS_ED25519_PUB_LEN],
		       bool *found);
	int (*exec)(struct store *st, int what);
	int (*find)(struct store *st, const char *aid, bool *found, char sha256_hex[65],
		    char **receipt);
	int (*next_seq)(struct store *st, long long *seq);
	int (*insert)(struct store *st, const struct activation *a);
	int (*add_rejections)(struct store *st, const char *code, unsigned long n);
	int (*list)(struct store *st, const struct store_filter *f,
		    int (*cb)(json_t *row, void *arg), void *arg);
	/* stats: a constant "SELECT count(*) ..." query's answer, each refusal code's count */
	int (*count)(struct store *st, const char *sql, long long *n);
	int (*rejections)(struct store *st, int (*cb)(const char *code, long long n, void *arg),
			  void *arg);
	/*
	 * Optional (NULL on SQLite, where a statement costs no network round trip): a batch in a
	 * few round trips rather than several per report. prefetch_keys looks every kid of a
	 * batch up at once and get_key answers from that until the next call (n 0 forgets it);
	 * begin_batch begins, takes the writer lock, looks the batch's aids up and reads the seq
	 * counter in one round trip, after which find and next_seq answer from memory, insert is
	 * queued, and the commit sends the inserts, the counter and COMMIT together.
	 */
	int (*prefetch_keys)(struct store *st, const char *const *kids, size_t n);
	int (*begin_batch)(struct store *st, const char *const *aids, size_t n);
};

/* Each backend's state begins with this. */
struct store {
	const struct store_ops *ops;
};

/* The statements without parameters the write path runs, for ops->exec. */
enum store_stmt {
	STORE_BEGIN, /* a writing transaction, serialized against every other writer */
	STORE_COMMIT, /* returns once durable (fsync'd / synchronous_commit) */
	STORE_ROLLBACK,
};

/* A PostgreSQL connection URI (postgresql:// or postgres://) rather than a file name. */
bool store_is_url(const char *db);
/*
 * Open db: a file name (SQLite) or a PostgreSQL URI. With create, make what is missing
 * (SQLite: the file and its 0700 directory) and migrate the schema to STORE_SCHEMA_VERSION;
 * without, refuse a schema newer than this program knows.
 */
int store_open(const char *db, bool create, struct store **st);
int store_sqlite_open(const char *path, bool create, struct store **st);
int store_pg_open(const char *url, bool create, struct store **st);
/* db with any password in it replaced by "***", for messages. */
void store_redact(const char *db, char *out, size_t outsz);

static inline void store_close(struct store *st)
{
	if (st)
		st->ops->close(st);
}

/* Human-readable text of the last database error, for messages (one line). */
static inline const char *store_errmsg(struct store *st)
{
	return st ? st->ops->errmsg(st) : "no database";
}

static inline int store_reconnect(struct store *st)
{
	return st->ops->reconnect(st);
}

/* Device keys learnt on first use. *found is false when kid is not registered. */
static inline int store_get_key(struct store *st, const char *kid, uint8_t pub[STS_ED25519_PUB_LEN],
				bool *found)
{
	return st->ops->get_key(st, kid, pub, found);
}

static inline int store_begin(struct store *st)
{
	return st->ops->exec(st, STORE_BEGIN);
}

/* A writing transaction for a batch whose reports carry these aids (see begin_batch). */
static inline int store_begin_batch(struct store *st, const char *const *aids, size_t n)
{
	return st->ops->begin_batch ? st->ops->begin_batch(st, aids, n)
				    : st->ops->exec(st, STORE_BEGIN);
}

static inline int store_prefetch_keys(struct store *st, const char *const *kids, size_t n)
{
	return st->ops->prefetch_keys ? st->ops->prefetch_keys(st, kids, n) : 0;
}

static inline int store_commit(struct store *st)
{
	return st->ops->exec(st, STORE_COMMIT);
}

static inline int store_rollback(struct store *st)
{
	return st->ops->exec(st, STORE_ROLLBACK);
}

/* *found false when aid is new; otherwise its sha256 (hex) and receipt (heap string). */
static inline int store_find(struct store *st, const char *aid, bool *found, char sha256_hex[65],
			     char **receipt)
{
	return st->ops->find(st, aid, found, sha256_hex, receipt);
}

/* The next seq, from the counter row: only inside a transaction begun by store_begin(). */
static inline int store_next_seq(struct store *st, long long *seq)
{
	return st->ops->next_seq(st, seq);
}

static inline int store_insert(struct store *st, const struct activation *a)
{
	return st->ops->insert(st, a);
}

/* Rejections are counted in memory and added here in batches (see server.c). */
static inline int store_add_rejections(struct store *st, const char *code, unsigned long n)
{
	return st->ops->add_rejections(st, code, n);
}

/* Rows as jansson objects (every column), oldest first, handed to cb one by one. */
static inline int store_list(struct store *st, const struct store_filter *f,
			     int (*cb)(json_t *row, void *arg), void *arg)
{
	return st->ops->list(st, f, cb, arg);
}

/* {"activations": N, "device_keys": N, "rejections": {CODE: N, ...}} */
int store_stats(struct store *st, json_t **out);

#endif /* STS_COLLECTOR_STORE_H */
