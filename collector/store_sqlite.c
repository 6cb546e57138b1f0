// SPDX-License-Identifier: GPL-2.0-only
/*
 * The embedded backend: one SQLite database in WAL mode with synchronous=FULL, so that a
 * commit is on disk when sqlite3_step() returns, and `sts-collector list` can read while the
 * server writes. Rows are never updated (a trigger refuses it): an activation, once receipted,
 * stays. Schema version in PRAGMA user_version.
 */
#include "store.h"
#include "core/util.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

/* Statements of the request path, compiled once: parsing SQL was 7% of a request's CPU. */
#define STMT_CACHE 16

struct sqlite_store {
	struct store base;
	sqlite3 *db;
	struct {
		const char *sql; /* a string literal: its address is its identity */
		sqlite3_stmt *stmt;
	} cache[STMT_CACHE];
};

/* Migration N takes a database at user_version N-1 to N; each runs in one transaction. */
static const char *const migrations[STORE_SCHEMA_VERSION] = {
	/* 1: the first schema. */
	"CREATE TABLE IF NOT EXISTS activations ("
	" seq INTEGER PRIMARY KEY,"
	" aid TEXT NOT NULL UNIQUE,"
	" kid TEXT NOT NULL,"
	" sha256 TEXT NOT NULL,"
	" received_at TEXT NOT NULL,"
	" imei TEXT NOT NULL,"
	" model TEXT NOT NULL,"
	" sw_version TEXT NOT NULL,"
	" country TEXT,"
	" jws TEXT NOT NULL,"
	" receipt TEXT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS device_keys ("
	" kid TEXT PRIMARY KEY,"
	" pub BLOB NOT NULL,"
	" first_seen TEXT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS rejections ("
	" code TEXT PRIMARY KEY,"
	" count INTEGER NOT NULL);",
	/*
	 * 2: seq from a counter row (so that deleting old rows for retention never hands a seq
	 * out twice), append-only activations, an index for `export --since`.
	 */
	"CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);"
	"INSERT INTO counters VALUES ('seq', (SELECT coalesce(max(seq), 0) FROM activations));"
	"CREATE INDEX activations_received_at ON activations (received_at);"
	"CREATE TRIGGER activations_append_only BEFORE UPDATE ON activations"
	" BEGIN SELECT RAISE(ABORT, 'activations are append-only'); END;",
};

#define SQ(st) ((struct sqlite_store *)(st))

static int sql_err(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_PERM:
	case SQLITE_AUTH:
	case SQLITE_READONLY:
		return -EACCES;
	case SQLITE_CANTOPEN:
		return -ENOENT;
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return -EUCLEAN;
	default:
		return -EIO;
	}
}

static const char *sq_errmsg(struct store *base)
{
	struct sqlite_store *st = SQ(base);

	return st->db ? sqlite3_errmsg(st->db) : "no database";
}

static int exec(struct sqlite_store *st, const char *sql)
{
	int rc = sqlite3_exec(st->db, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? 0 : sql_err(rc);
}

/* A compiled statement for sql, from the cache; give it back with done(). */
static int prepare(struct sqlite_store *st, const char *sql, sqlite3_stmt **out)
{
	size_t i;
	int rc;

	for (i = 0; i < STMT_CACHE && st->cache[i].sql; i++) {
		if (st->cache[i].sql == sql) {
			*out = st->cache[i].stmt;
			return SQLITE_OK;
		}
	}
	rc = sqlite3_prepare_v3(st->db, sql, -1, i < STMT_CACHE ? SQLITE_PREPARE_PERSISTENT : 0,
				out, NULL);
	if (rc == SQLITE_OK && i < STMT_CACHE) {
		st->cache[i].sql = sql;
		st->cache[i].stmt = *out;
	}
	return rc;
}

/* Reset a cached statement (it holds no lock or binding afterwards); finalize any other. */
static void done(struct sqlite_store *st, sqlite3_stmt *s)
{
	size_t i;

	for (i = 0; i < STMT_CACHE && st->cache[i].sql; i++) {
		if (st->cache[i].stmt == s) {
			sqlite3_reset(s);
			sqlite3_clear_bindings(s);
			return;
		}
	}
	sqlite3_finalize(s);
}

/* A statement without parameters or rows (BEGIN, COMMIT, ROLLBACK), compiled once. */
static int step_once(struct sqlite_store *st, const char *sql)
{
	sqlite3_stmt *s = NULL;
	int rc = prepare(st, sql, &s);

	if (rc != SQLITE_OK)
		return sql_err(rc);
	rc = sqlite3_step(s);
	done(st, s);
	return rc == SQLITE_DONE ? 0 : sql_err(rc);
}

static int user_version(struct sqlite_store *st, int *v)
{
	sqlite3_stmt *s = NULL;
	int rc = sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s, NULL);

	if (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW)
		*v = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	return rc == SQLITE_ROW ? 0 : sql_err(rc);
}

/* Bring the schema to STORE_SCHEMA_VERSION, one transaction per step. */
static int migrate(struct sqlite_store *st)
{
	char sql[64];
	int v, err;

	err = exec(st, "BEGIN IMMEDIATE");
	if (err)
		return err;
	err = user_version(st, &v);
	while (!err && v < STORE_SCHEMA_VERSION) {
		err = exec(st, migrations[v]);
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", ++v);
		if (!err)
			err = exec(st, sql);
	}
	if (!err && v > STORE_SCHEMA_VERSION)
		err = -EPROTO;
	if (err) {
		exec(st, "ROLLBACK");
		return err;
	}
	return exec(st, "COMMIT");
}

static const struct store_ops sqlite_ops;

int store_sqlite_open(const char *path, bool create, struct store **out)
{
	struct sqlite_store *st;
	char dir[PATH_MAX];
	int err = 0, rc, v;

	*out = NULL;
	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	st->base.ops = &sqlite_ops;
	if (create) {
		if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir)) {
			err = -ENAMETOOLONG;
			goto cleanup;
		}
		/* The database holds IMEIs: its directory is for the collector alone. */
		err = sts_mkdir_p(dirname(dir), 0700);
		if (err)
			goto cleanup;
	}
	rc = sqlite3_open_v2(path, &st->db,
			     SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0) |
				     SQLITE_OPEN_FULLMUTEX,
			     NULL);
	if (rc != SQLITE_OK) {
		err = sql_err(rc);
		goto cleanup;
	}
	sqlite3_busy_timeout(st->db, 5000);
	/* journal_mode answers with a row; sqlite3_exec ignores it. */
	err = exec(st, "PRAGMA journal_mode = WAL");
	if (!err)
		err = exec(st, "PRAGMA synchronous = FULL");
	if (!err && create)
		err = migrate(st);
	/* A reader refuses a schema it does not know rather than misread it. */
	if (!err && !create && !(err = user_version(st, &v)) && v > STORE_SCHEMA_VERSION)
		err = -EPROTO;
cleanup:
	if (err) {
		if (st->db)
			sqlite3_close(st->db);
		free(st);
		return err;
	}
	*out = &st->base;
	return 0;
}

static void sq_close(struct store *base)
{
	struct sqlite_store *st = SQ(base);
	size_t i;

	for (i = 0; i < STMT_CACHE; i++)
		sqlite3_finalize(st->cache[i].stmt);
	sqlite3_close(st->db);
	free(st);
}

static int sq_reconnect(struct store *base)
{
	(void)base;
	return 0;
}

static int sq_get_key(struct store *base, const char *kid, uint8_t pub[STS_ED25519_PUB_LEN],
		      bool *found)
{
	struct sqlite_store *st = SQ(base);
	sqlite3_stmt *s = NULL;
	int rc, err = 0;

	*found = false;
	rc = prepare(st, "SELECT pub FROM device_keys WHERE kid = ?", &s);
	if (rc != SQLITE_OK)
		return sql_err(rc);
	sqlite3_bind_text(s, 1, kid, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		if (sqlite3_column_bytes(s, 0) != STS_ED25519_PUB_LEN) {
			err = -EUCLEAN;
			goto cleanup;
		}
		memcpy(pub, sqlite3_column_blob(s, 0), STS_ED25519_PUB_LEN);
		*found = true;
	} else if (rc != SQLITE_DONE) {
		err = sql_err(rc);
	}
cleanup:
	done(st, s);
	return err;
}

static int sq_exec(struct store *base, int what)
{
	struct sqlite_store *st = SQ(base);

	switch (what) {
	case STORE_BEGIN:
		/* Immediate: the write lock now, so no other writer runs between lookup and insert.
		 */
		return step_once(st, "BEGIN IMMEDIATE");
	case STORE_COMMIT:
		return step_once(st, "COMMIT");
	case STORE_ROLLBACK:
		return step_once(st, "ROLLBACK");
	default:
		return -EINVAL;
	}
}

static int sq_find(struct store *base, const char *aid, bool *found, char sha256_hex[65],
		   char **receipt)
{
	struct sqlite_store *st = SQ(base);
	sqlite3_stmt *s = NULL;
	const char *h, *r;
	int rc, err = 0;

	*found = false;
	*receipt = NULL;
	rc = prepare(st, "SELECT sha256, receipt FROM activations WHERE aid = ?", &s);
	if (rc != SQLITE_OK)
		return sql_err(rc);
	sqlite3_bind_text(s, 1, aid, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		h = (const char *)sqlite3_column_text(s, 0);
		r = (const char *)sqlite3_column_text(s, 1);
		if (!h || !r || strlen(h) != 64) {
			err = -EUCLEAN;
			goto cleanup;
		}
		memcpy(sha256_hex, h, 65);
		*receipt = strdup(r);
		if (!*receipt) {
			err = -ENOMEM;
			goto cleanup;
		}
		*found = true;
	} else if (rc != SQLITE_DONE) {
		err = sql_err(rc);
	}
cleanup:
	done(st, s);
	return err;
}

static int sq_next_seq(struct store *base, long long *seq)
{
	struct sqlite_store *st = SQ(base);
	sqlite3_stmt *s = NULL;
	int rc, err = 0;

	rc = prepare(st, "UPDATE counters SET value = value + 1 WHERE name = 'seq' RETURNING value",
		     &s);
	if (rc != SQLITE_OK)
		return sql_err(rc);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*seq = sqlite3_column_int64(s, 0);
		/* RETURNING: the update is complete only once stepped to the end. */
		rc = sqlite3_step(s);
		if (rc != SQLITE_DONE)
			err = sql_err(rc);
	} else {
		err = rc == SQLITE_DONE ? -EUCLEAN : sql_err(rc);
	}
	done(st, s);
	return err;
}

static int sq_insert(struct store *base, const struct activation *a)
{
	struct sqlite_store *st = SQ(base);
	sqlite3_stmt *s = NULL;
	int rc, err = 0;

	rc = prepare(st,
		     "INSERT INTO activations (seq, aid, kid, sha256, received_at, imei, "
		     "model, sw_version, country, jws, receipt) "
		     "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		     &s);
	if (rc != SQLITE_OK)
		return sql_err(rc);
	sqlite3_bind_int64(s, 1, a->seq);
	sqlite3_bind_text(s, 2, a->aid, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, a->kid, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, a->sha256_hex, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, a->received_at, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 6, a->report->imei, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 7, a->report->model, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 8, a->report->sw_version, -1, SQLITE_STATIC);
	if (a->report->country[0])
		sqlite3_bind_text(s, 9, a->report->country, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, 9);
	sqlite3_bind_text(s, 10, a->jws, (int)a->jws_len, SQLITE_STATIC);
	sqlite3_bind_text(s, 11, a->receipt, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	done(st, s);
	if (rc != SQLITE_DONE)
		return sql_err(rc);
	if (!a->new_key)
		return 0;
	rc = prepare(st,
		     "INSERT OR IGNORE INTO device_keys (kid, pub, first_seen) "
		     "VALUES (?, ?, ?)",
		     &s);
	if (rc != SQLITE_OK)
		return sql_err(rc);
	sqlite3_bind_text(s, 1, a->kid, -1, SQLITE_STATIC);
	sqlite3_bind_blob(s, 2, a->new_key, STS_ED25519_PUB_LEN, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, a->received_at, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc != SQLITE_DONE)
		err = sql_err(rc);
	done(st, s);
	return err;
}

static int sq_add_rejections(struct store *base, const char *code, unsigned long n)
{
	struct sqlite_store *st = SQ(base);
	sqlite3_stmt *s = NULL;
	int rc;

	rc = prepare(st,
		     "INSERT INTO rejections (code, count) VALUES (?1, ?2) "
		     "ON CONFLICT (code) DO UPDATE SET count = count + ?2",
		     &s);
	if (rc != SQLITE_OK)
		return sql_err(rc);
	sqlite3_bind_text(s, 1, code, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)n);
	rc = sqlite3_step(s);
	done(st, s);
	return rc == SQLITE_DONE ? 0 : sql_err(rc);
}

static json_t *column_json(sqlite3_stmt *s, int i)
{
	switch (sqlite3_column_type(s, i)) {
	case SQLITE_INTEGER:
		return json_integer(sqlite3_column_int64(s, i));
	case SQLITE_NULL:
		return json_null();
	default:
		return json_stringn((const char *)sqlite3_column_text(s, i),
				    sqlite3_column_bytes(s, i));
	}
}

static int sq_list(struct store *base, const struct store_filter *f,
		   int (*cb)(json_t *row, void *arg), void *arg)
{
	struct sqlite_store *st = SQ(base);
	sqlite3_stmt *s = NULL;
	json_t *row;
	int rc, i, err = 0;

	rc = prepare(st,
		     "SELECT seq, aid, kid, sha256, received_at, imei, model, sw_version, "
		     "country, jws, receipt FROM activations "
		     "WHERE received_at >= ?1 AND seq > ?2 ORDER BY seq",
		     &s);
	if (rc != SQLITE_OK)
		return sql_err(rc);
	sqlite3_bind_text(s, 1, f && f->since ? f->since : "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, f ? f->after_seq : 0);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		row = json_object();
		if (!row) {
			err = -ENOMEM;
			goto cleanup;
		}
		for (i = 0; i < sqlite3_column_count(s); i++) {
			if (json_object_set_new(row, sqlite3_column_name(s, i),
						column_json(s, i))) {
				json_decref(row);
				err = -ENOMEM;
				goto cleanup;
			}
		}
		err = cb(row, arg);
		json_decref(row);
		if (err)
			goto cleanup;
	}
	if (rc != SQLITE_DONE)
		err = sql_err(rc);
cleanup:
	done(st, s);
	return err;
}

/* sql: a string constant (the SQLite backend caches statements by its address). */
static int sq_count(struct store *base, const char *sql, long long *n)
{
	struct sqlite_store *st = SQ(base);
	sqlite3_stmt *s = NULL;
	int rc;

	rc = prepare(st, sql, &s);
	if (rc != SQLITE_OK)
		return sql_err(rc);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*n = sqlite3_column_int64(s, 0);
	done(st, s);
	return rc == SQLITE_ROW ? 0 : sql_err(rc);
}

static int sq_rejections(struct store *base, int (*cb)(const char *code, long long n, void *arg),
			 void *arg)
{
	struct sqlite_store *st = SQ(base);
	sqlite3_stmt *s = NULL;
	int rc, err = 0;

	rc = prepare(st, "SELECT code, count FROM rejections ORDER BY code", &s);
	if (rc != SQLITE_OK)
		return sql_err(rc);
	while (!err && (rc = sqlite3_step(s)) == SQLITE_ROW)
		err = cb((const char *)sqlite3_column_text(s, 0), sqlite3_column_int64(s, 1), arg);
	if (!err && rc != SQLITE_DONE)
		err = sql_err(rc);
	done(st, s);
	return err;
}

static const struct store_ops sqlite_ops = {
	.name = "sqlite",
	.close = sq_close,
	.errmsg = sq_errmsg,
	.reconnect = sq_reconnect,
	.get_key = sq_get_key,
	.exec = sq_exec,
	.find = sq_find,
	.next_seq = sq_next_seq,
	.insert = sq_insert,
	.add_rejections = sq_add_rejections,
	.list = sq_list,
	.count = sq_count,
	.rejections = sq_rejections,
};
