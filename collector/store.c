// SPDX-License-Identifier: GPL-2.0-only
/*
 * The collector's storage: one SQLite database in WAL mode with synchronous=FULL, so that a
 * commit is on disk when sqlite3_step() returns, and `sts-collector list` can read while the
 * server writes. Rows are never updated or deleted: an activation, once receipted, stays.
 */
#include "collector.h"
#include "core/util.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

/* Statements of the request path, compiled once: parsing SQL was 7% of a request's CPU. */
#define STMT_CACHE 16

struct store {
	sqlite3 *db;
	struct {
		const char *sql; /* a string literal: its address is its identity */
		sqlite3_stmt *stmt;
	} cache[STMT_CACHE];
};

static const char schema[] = "CREATE TABLE IF NOT EXISTS activations ("
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
			     " count INTEGER NOT NULL);"
			     "PRAGMA user_version = 1;";

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

const char *store_errmsg(struct store *st)
{
	return st && st->db ? sqlite3_errmsg(st->db) : "no database";
}

static int exec(struct store *st, const char *sql)
{
	int rc = sqlite3_exec(st->db, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? 0 : sql_err(rc);
}

/* A compiled statement for sql, from the cache; give it back with done(). */
static int prepare(struct store *st, const char *sql, sqlite3_stmt **out)
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
static void done(struct store *st, sqlite3_stmt *s)
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

/* A statement without parameters or rows (BEGIN, COMMIT, SAVEPOINT ...), compiled once. */
static int step_once(struct store *st, const char *sql)
{
	sqlite3_stmt *s = NULL;
	int rc = prepare(st, sql, &s);

	if (rc != SQLITE_OK)
		return sql_err(rc);
	rc = sqlite3_step(s);
	done(st, s);
	return rc == SQLITE_DONE ? 0 : sql_err(rc);
}

int store_open(const char *path, bool create, struct store **out)
{
	struct store *st;
	char dir[PATH_MAX];
	int err = 0, rc;

	*out = NULL;
	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
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
		err = exec(st, schema);
cleanup:
	if (err) {
		if (st->db)
			sqlite3_close(st->db);
		free(st);
		return err;
	}
	*out = st;
	return 0;
}

void store_close(struct store *st)
{
	size_t i;

	if (!st)
		return;
	for (i = 0; i < STMT_CACHE; i++)
		sqlite3_finalize(st->cache[i].stmt);
	sqlite3_close(st->db);
	free(st);
}

int store_get_key(struct store *st, const char *kid, uint8_t pub[STS_ED25519_PUB_LEN], bool *found)
{
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

int store_begin(struct store *st)
{
	return step_once(st, "BEGIN IMMEDIATE");
}

int store_rollback(struct store *st)
{
	return step_once(st, "ROLLBACK");
}

int store_commit(struct store *st)
{
	return step_once(st, "COMMIT");
}

int store_savepoint(struct store *st)
{
	return step_once(st, "SAVEPOINT report");
}

int store_release(struct store *st)
{
	return step_once(st, "RELEASE report");
}

int store_rollback_to(struct store *st)
{
	int err = step_once(st, "ROLLBACK TO report");

	return err ? err : step_once(st, "RELEASE report");
}

int store_find(struct store *st, const char *aid, bool *found, char sha256_hex[65], char **receipt)
{
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

int store_next_seq(struct store *st, long long *seq)
{
	sqlite3_stmt *s = NULL;
	int rc, err = 0;

	rc = prepare(st, "SELECT coalesce(max(seq), 0) + 1 FROM activations", &s);
	if (rc != SQLITE_OK)
		return sql_err(rc);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*seq = sqlite3_column_int64(s, 0);
	else
		err = sql_err(rc);
	done(st, s);
	return err;
}

int store_insert(struct store *st, const struct activation *a)
{
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

int store_add_rejections(struct store *st, const char *code, unsigned long n)
{
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

int store_list(struct store *st, int (*cb)(json_t *row, void *arg), void *arg)
{
	sqlite3_stmt *s = NULL;
	json_t *row;
	int rc, i, err = 0;

	rc = prepare(st,
		     "SELECT seq, aid, kid, sha256, received_at, imei, model, sw_version, "
		     "country, jws, receipt FROM activations ORDER BY seq",
		     &s);
	if (rc != SQLITE_OK)
		return sql_err(rc);
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

static int count(struct store *st, const char *sql, long long *n)
{
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

int store_stats(struct store *st, json_t **out)
{
	sqlite3_stmt *s = NULL;
	json_t *root = NULL, *rej;
	long long acts = 0, keys = 0;
	int rc, err;

	err = count(st, "SELECT count(*) FROM activations", &acts);
	if (!err)
		err = count(st, "SELECT count(*) FROM device_keys", &keys);
	if (err)
		return err;
	root = json_pack("{s:I,s:I,s:{}}", "activations", acts, "device_keys", keys, "rejections");
	if (!root)
		return -ENOMEM;
	rej = json_object_get(root, "rejections");
	rc = prepare(st, "SELECT code, count FROM rejections ORDER BY code", &s);
	if (rc != SQLITE_OK) {
		err = sql_err(rc);
		goto cleanup;
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		json_object_set_new(rej, (const char *)sqlite3_column_text(s, 0),
				    json_integer(sqlite3_column_int64(s, 1)));
	if (rc != SQLITE_DONE)
		err = sql_err(rc);
cleanup:
	done(st, s);
	if (err) {
		json_decref(root);
		return err;
	}
	*out = root;
	return 0;
}
