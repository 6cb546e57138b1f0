// SPDX-License-Identifier: GPL-2.0-only
/*
 * The fleet backend: PostgreSQL through libpq, one database shared by every collector instance.
 *
 * Writers are serialized across the fleet by a transaction-scoped advisory lock taken first in
 * every writing transaction: inside it, an aid looked up is either committed by an earlier
 * transaction (found) or cannot be inserted by anyone else (so the same report reaching two
 * instances at once is stored once, and the second gets the first's receipt), and seq comes
 * from a counter row whose increment rolls back with a failed transaction (no gap). The lock is
 * held for one batch (group commit), a few milliseconds. COMMIT returns once the WAL is flushed
 * (synchronous_commit is left at its default, on, and each transaction sets it so a server
 * default of off does not silently weaken a receipt).
 *
 * A lost connection (a database restart) fails the batch in flight, whose clients get 503 and
 * retry; the next batch reconnects first. A COMMIT whose answer was lost may have committed:
 * the retry then finds the row and gets the same receipt (200), never a second row.
 */
#include "store.h"
#include "core/util.h"
#include "wire/jws.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

/* "STSGUARD" in ASCII: the advisory lock key of writers; +1 for migrations. */
#define WRITE_LOCK "6004507305463993156"
#define MIGRATE_LOCK "6004507305463993157"

/* A key looked up for the current batch; found false: the kid is not registered. */
struct pg_key {
	char kid[STS_KID_LEN + 1];
	uint8_t pub[STS_ED25519_PUB_LEN];
	bool found;
};

/* An aid of the current batch already stored: before it (looked up) or by it (inserted). */
struct pg_found {
	char aid[STS_AID_LEN + 1];
	char sha256_hex[65];
	char *receipt;
};

struct pg_store {
	struct store base;
	PGconn *conn;
	char err[512];
	/* prefetch_keys's answer, valid while keys_valid. */
	struct pg_key *keys;
	size_t nkeys;
	bool keys_valid;
	/*
	 * A batch begun by begin_batch: what find and next_seq answer from, and how many
	 * statements are queued in the pipeline for the commit to read the results of.
	 */
	bool batch;
	struct pg_found *found;
	size_t nfound, capfound;
	long long seq, seq0;
	int queued, nsent;
};

#define PG(st) ((struct pg_store *)(st))

static const char *const migrations[STORE_SCHEMA_VERSION] = {
	/* 1: the first schema, as SQLite's version 1. */
	"CREATE TABLE activations ("
	" seq BIGINT PRIMARY KEY,"
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
	"CREATE TABLE device_keys ("
	" kid TEXT PRIMARY KEY,"
	" pub BYTEA NOT NULL,"
	" first_seen TEXT NOT NULL);"
	"CREATE TABLE rejections ("
	" code TEXT PRIMARY KEY,"
	" count BIGINT NOT NULL);",
	/* 2: as SQLite's version 2. */
	"CREATE TABLE counters (name TEXT PRIMARY KEY, value BIGINT NOT NULL);"
	"INSERT INTO counters SELECT 'seq', coalesce(max(seq), 0) FROM activations;"
	"CREATE INDEX activations_received_at ON activations (received_at);"
	"CREATE FUNCTION sts_append_only() RETURNS trigger LANGUAGE plpgsql AS"
	" $$BEGIN RAISE EXCEPTION 'activations are append-only'; END$$;"
	"CREATE TRIGGER activations_append_only BEFORE UPDATE ON activations"
	" FOR EACH ROW EXECUTE FUNCTION sts_append_only();",
};

static const char *pg_errmsg(struct store *base)
{
	return PG(base)->err[0] ? PG(base)->err : "no error";
}

/* Keep the message of a failure on one line, and map it to an errno. */
static int pg_fail(struct pg_store *st, PGresult *res)
{
	const char *m = res ? PQresultErrorMessage(res) : "";
	char *nl;

	if (!m || !*m)
		m = PQerrorMessage(st->conn);
	snprintf(st->err, sizeof(st->err), "%s", m && *m ? m : "unknown PostgreSQL error");
	while ((nl = strchr(st->err, '\n'))) {
		if (nl[1])
			*nl = ' ';
		else
			*nl = '\0';
	}
	if (res)
		PQclear(res);
	if (PQstatus(st->conn) != CONNECTION_OK)
		return -ENOTCONN;
	return -EIO;
}

/* A statement; its result when it returned rows (caller clears), else NULL; 0 or -errno. */
static int run(struct pg_store *st, const char *sql, int n, const char *const *vals,
	       const int *lens, const int *fmts, int result_fmt, PGresult **out)
{
	PGresult *res;
	ExecStatusType s;

	if (out)
		*out = NULL;
	res = n || result_fmt ? PQexecParams(st->conn, sql, n, NULL, vals, lens, fmts, result_fmt)
			      : PQexec(st->conn, sql);
	s = PQresultStatus(res);
	if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK)
		return pg_fail(st, res);
	if (out)
		*out = res;
	else
		PQclear(res);
	return 0;
}

static int simple(struct pg_store *st, const char *sql)
{
	return run(st, sql, 0, NULL, NULL, NULL, 0, NULL);
}

static int migrate(struct pg_store *st)
{
	PGresult *res = NULL;
	char vbuf[16];
	const char *vals[1] = { vbuf };
	int v = 0, err;

	/* Instances starting together: one migrates, the others wait and find it done. */
	err = simple(st, "SELECT pg_advisory_lock(" MIGRATE_LOCK ")");
	if (err)
		return err;
	err = simple(st, "CREATE TABLE IF NOT EXISTS schema_migrations ("
			 " version INTEGER PRIMARY KEY,"
			 " applied_at TIMESTAMPTZ NOT NULL DEFAULT now())");
	if (!err)
		err = run(st, "SELECT coalesce(max(version), 0) FROM schema_migrations", 0, NULL,
			  NULL, NULL, 0, &res);
	if (!err) {
		v = atoi(PQgetvalue(res, 0, 0));
		PQclear(res);
	}
	while (!err && v < STORE_SCHEMA_VERSION) {
		err = simple(st, "BEGIN");
		if (!err)
			err = simple(st, migrations[v]);
		snprintf(vbuf, sizeof(vbuf), "%d", ++v);
		if (!err)
			err = run(st, "INSERT INTO schema_migrations (version) VALUES ($1)", 1,
				  vals, NULL, NULL, 0, NULL);
		if (!err)
			err = simple(st, "COMMIT");
		else
			PQclear(PQexec(st->conn, "ROLLBACK"));
	}
	if (!err && v > STORE_SCHEMA_VERSION) {
		snprintf(st->err, sizeof(st->err),
			 "schema version %d is newer than this collector's %d", v,
			 STORE_SCHEMA_VERSION);
		err = -EPROTO;
	}
	PQclear(PQexec(st->conn, "SELECT pg_advisory_unlock(" MIGRATE_LOCK ")"));
	return err;
}

static int check_version(struct pg_store *st)
{
	PGresult *res = NULL;
	int err, v;

	err = run(st, "SELECT coalesce(max(version), 0) FROM schema_migrations", 0, NULL, NULL,
		  NULL, 0, &res);
	if (err)
		return err;
	v = atoi(PQgetvalue(res, 0, 0));
	PQclear(res);
	if (v > STORE_SCHEMA_VERSION) {
		snprintf(st->err, sizeof(st->err),
			 "schema version %d is newer than this collector's %d", v,
			 STORE_SCHEMA_VERSION);
		return -EPROTO;
	}
	return 0;
}

static int session_setup(struct pg_store *st)
{
	/*
	 * Quiet NOTICEs (CREATE ... IF NOT EXISTS), never a non-durable commit, and bounds on the
	 * fleet-wide writer lock: an instance that hangs in a transaction loses its session (and
	 * the lock) after 10 s, and one that waits 10 s for the lock gives its batch a 503.
	 */
	return simple(st, "SET client_min_messages = warning; SET synchronous_commit = on; "
			  "SET idle_in_transaction_session_timeout = '10s'; "
			  "SET lock_timeout = '10s'");
}

/*
 * A text[] literal of ids for "= ANY($1::text[])": one parameter for a whole batch. The ids
 * are base64url (checked by the JWS parser); quoted anyway, so that nothing in one could be
 * read as the array's syntax.
 */
static char *id_array(const char *const *ids, size_t n)
{
	size_t i, len = 3;
	char *a, *p;

	for (i = 0; i < n; i++)
		len += 2 * strlen(ids[i]) + 3;
	a = malloc(len);
	if (!a)
		return NULL;
	p = a;
	*p++ = '{';
	for (i = 0; i < n; i++) {
		const char *c;

		if (i)
			*p++ = ',';
		*p++ = '"';
		for (c = ids[i]; *c; c++) {
			if (*c == '"' || *c == '\\')
				*p++ = '\\';
			*p++ = *c;
		}
		*p++ = '"';
	}
	*p++ = '}';
	*p = '\0';
	return a;
}

/* Queue a statement in the pipeline (entered if it is not yet). */
static int queue(struct pg_store *st, const char *sql, int n, const char *const *vals,
		 const int *lens, const int *fmts, int result_fmt)
{
	if (PQpipelineStatus(st->conn) == PQ_PIPELINE_OFF && !PQenterPipelineMode(st->conn))
		return pg_fail(st, NULL);
	if (!PQsendQueryParams(st->conn, sql, n, NULL, vals, lens, fmts, result_fmt))
		return pg_fail(st, NULL);
	st->queued++;
	return 0;
}

/*
 * Send the queued statements with a sync point and read every result, in order: got (when
 * not NULL) sees each statement's result; the first failure is kept (the server skips the
 * statements after it, up to the sync). The connection leaves pipeline mode ready for plain
 * statements (ROLLBACK after a failure).
 */
static int sync_pipeline(struct pg_store *st, int (*got)(struct pg_store *st, int i, PGresult *res))
{
	PGresult *res;
	ExecStatusType rs;
	int err = 0, i, n = st->queued, nulls = 0;
	bool synced = false;

	st->nsent = n;
	st->queued = 0;
	if (!PQpipelineSync(st->conn))
		err = pg_fail(st, NULL);
	for (i = 0; !err && i < n; i++) {
		/* Each statement's result, then NULL. */
		res = PQgetResult(st->conn);
		if (!res) {
			err = pg_fail(st, NULL);
			break;
		}
		rs = PQresultStatus(res);
		if (rs != PGRES_COMMAND_OK && rs != PGRES_TUPLES_OK) {
			err = pg_fail(st, res);
		} else {
			if (got)
				err = got(st, i, res);
			PQclear(res);
		}
		while ((res = PQgetResult(st->conn)))
			PQclear(res);
	}
	/*
	 * Up to the sync point: after a failure, each statement left answers "aborted" and then
	 * NULL. Two NULLs in a row mean nothing more will come (a connection that broke).
	 */
	while (!synced && nulls < 2) {
		res = PQgetResult(st->conn);
		if (!res) {
			nulls++;
			continue;
		}
		nulls = 0;
		synced = PQresultStatus(res) == PGRES_PIPELINE_SYNC;
		PQclear(res);
	}
	/* Out of pipeline mode, so that a plain ROLLBACK can follow a failure. */
	if (PQpipelineStatus(st->conn) != PQ_PIPELINE_OFF && !PQexitPipelineMode(st->conn) && !err)
		err = pg_fail(st, NULL);
	return err;
}

static void forget_batch(struct pg_store *st)
{
	size_t i;

	for (i = 0; i < st->nfound; i++)
		free(st->found[i].receipt);
	st->nfound = 0;
	st->batch = false;
	st->queued = 0;
}

static int remember(struct pg_store *st, const char *aid, const char *sha256_hex,
		    const char *receipt)
{
	struct pg_found *f;

	if (strlen(aid) > STS_AID_LEN || strlen(sha256_hex) != 64)
		return -EUCLEAN;
	if (st->nfound == st->capfound) {
		size_t cap = st->capfound ? 2 * st->capfound : 16;

		f = realloc(st->found, cap * sizeof(*f));
		if (!f)
			return -ENOMEM;
		st->found = f;
		st->capfound = cap;
	}
	f = &st->found[st->nfound];
	snprintf(f->aid, sizeof(f->aid), "%s", aid);
	memcpy(f->sha256_hex, sha256_hex, 65);
	f->receipt = strdup(receipt);
	if (!f->receipt)
		return -ENOMEM;
	st->nfound++;
	return 0;
}

static int got_key(struct pg_store *st, int i, PGresult *res)
{
	struct pg_key *k;
	const char *kid;
	size_t j;
	int r;

	(void)i;
	for (r = 0; r < PQntuples(res); r++) {
		kid = PQgetvalue(res, r, 0);
		if (PQgetlength(res, r, 1) != STS_ED25519_PUB_LEN)
			return -EUCLEAN;
		for (j = 0; j < st->nkeys; j++) {
			k = &st->keys[j];
			if (!strcmp(k->kid, kid)) {
				memcpy(k->pub, PQgetvalue(res, r, 1), STS_ED25519_PUB_LEN);
				k->found = true;
			}
		}
	}
	return 0;
}

static int pg_prefetch_keys(struct store *base, const char *const *kids, size_t n)
{
	struct pg_store *st = PG(base);
	const int fmts[1] = { 0 };
	const char *vals[1];
	char *arr;
	size_t i;
	int err;

	st->keys_valid = false;
	free(st->keys);
	st->keys = NULL;
	st->nkeys = 0;
	if (!n)
		return 0;
	st->keys = calloc(n, sizeof(*st->keys));
	arr = id_array(kids, n);
	if (!st->keys || !arr) {
		free(arr);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++)
		snprintf(st->keys[i].kid, sizeof(st->keys[i].kid), "%s", kids[i]);
	st->nkeys = n;
	vals[0] = arr;
	/* Binary results: pub is raw bytes. */
	err = queue(st, "SELECT kid, pub FROM device_keys WHERE kid = ANY($1::text[])", 1, vals,
		    NULL, fmts, 1);
	if (!err)
		err = sync_pipeline(st, got_key);
	free(arr);
	if (!err)
		st->keys_valid = true;
	return err;
}

/* begin_batch's four statements: BEGIN, the lock, the aids found, the counter. */
static int got_begin(struct pg_store *st, int i, PGresult *res)
{
	int r;

	if (i == 2) {
		for (r = 0; r < PQntuples(res); r++) {
			int err = remember(st, PQgetvalue(res, r, 0), PQgetvalue(res, r, 1),
					   PQgetvalue(res, r, 2));

			if (err)
				return err;
		}
	} else if (i == 3) {
		if (PQntuples(res) != 1)
			return -EUCLEAN;
		st->seq0 = st->seq = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	}
	return 0;
}

static int pg_begin_batch(struct store *base, const char *const *aids, size_t n)
{
	struct pg_store *st = PG(base);
	const char *vals[1];
	char *arr;
	int err;

	forget_batch(st);
	arr = id_array(aids, n);
	if (!arr)
		return -ENOMEM;
	vals[0] = arr;
	/*
	 * One round trip. The writer lock first: the look-up and the counter after it see every
	 * transaction committed before it was granted and no other writer until this commits,
	 * so an aid not found here cannot be stored by anyone else meanwhile, and the counter
	 * read is the last seq given out.
	 */
	err = queue(st, "BEGIN", 0, NULL, NULL, NULL, 0);
	if (!err)
		err = queue(st, "SELECT pg_advisory_xact_lock(" WRITE_LOCK ")", 0, NULL, NULL, NULL,
			    0);
	if (!err)
		err = queue(st,
			    "SELECT aid, sha256, receipt FROM activations "
			    "WHERE aid = ANY($1::text[])",
			    1, vals, NULL, NULL, 0);
	if (!err)
		err = queue(st, "SELECT value FROM counters WHERE name = 'seq'", 0, NULL, NULL,
			    NULL, 0);
	if (!err)
		err = sync_pipeline(st, got_begin);
	free(arr);
	if (err) {
		forget_batch(st);
		return err;
	}
	st->batch = true;
	return 0;
}

/* The commit of a batch: the queued inserts, the counter and COMMIT in one round trip. */
static int got_commit(struct pg_store *st, int i, PGresult *res)
{
	/* COMMIT of a transaction that failed answers "ROLLBACK", not an error. */
	if (i == st->nsent - 1 && strcmp(PQcmdStatus(res), "COMMIT") != 0) {
		snprintf(st->err, sizeof(st->err), "the transaction was rolled back");
		return -EIO;
	}
	return 0;
}

static int batch_commit(struct pg_store *st)
{
	char seq[24];
	const char *vals[1] = { seq };
	int err = 0;

	snprintf(seq, sizeof(seq), "%lld", st->seq);
	if (st->seq != st->seq0)
		err = queue(st, "UPDATE counters SET value = $1 WHERE name = 'seq'", 1, vals, NULL,
			    NULL, 0);
	if (!err)
		err = queue(st, "COMMIT", 0, NULL, NULL, NULL, 0);
	if (err) {
		sync_pipeline(st, NULL);
		forget_batch(st);
		return err;
	}
	err = sync_pipeline(st, got_commit);
	forget_batch(st);
	return err;
}

static const struct store_ops pg_ops;

int store_pg_open(const char *url, bool create, struct store **out)
{
	struct pg_store *st;
	int err;

	*out = NULL;
	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	st->base.ops = &pg_ops;
	{
		/*
		 * Defaults the URI may override (later keywords win, and dbname expands to the
		 * URI's own): a bounded connect, so that a database host that vanished costs the
		 * batch a 503 after seconds rather than a TCP timeout of minutes.
		 */
		const char *const keys[] = { "connect_timeout", "application_name", "dbname",
					     NULL };
		const char *const vals[] = { "5", "sts-collector", url, NULL };

		st->conn = PQconnectdbParams(keys, vals, 1);
	}
	if (!st->conn) {
		free(st);
		return -ENOMEM;
	}
	if (PQstatus(st->conn) != CONNECTION_OK) {
		pg_fail(st, NULL);
		err = -ECONNREFUSED;
		goto cleanup;
	}
	err = session_setup(st);
	if (!err)
		err = create ? migrate(st) : check_version(st);
cleanup:
	if (err) {
		/* The message outlives the store: print it before returning. */
		sts_err("%s", st->err);
		PQfinish(st->conn);
		free(st);
		return err;
	}
	*out = &st->base;
	return 0;
}

static void pg_close(struct store *base)
{
	struct pg_store *st = PG(base);

	forget_batch(st);
	PQfinish(st->conn);
	free(st->found);
	free(st->keys);
	free(st);
}

static int pg_reconnect(struct store *base)
{
	struct pg_store *st = PG(base);

	if (PQstatus(st->conn) == CONNECTION_OK && PQpipelineStatus(st->conn) == PQ_PIPELINE_OFF)
		return 0;
	forget_batch(st);
	PQreset(st->conn);
	if (PQpipelineStatus(st->conn) != PQ_PIPELINE_OFF)
		PQexitPipelineMode(st->conn);
	if (PQstatus(st->conn) != CONNECTION_OK)
		return pg_fail(st, NULL);
	return session_setup(st);
}

static int pg_get_key(struct store *base, const char *kid, uint8_t pub[STS_ED25519_PUB_LEN],
		      bool *found)
{
	struct pg_store *st = PG(base);
	const char *vals[1] = { kid };
	PGresult *res;
	size_t i;
	int err;

	*found = false;
	for (i = 0; st->keys_valid && i < st->nkeys; i++) {
		if (!strcmp(st->keys[i].kid, kid)) {
			*found = st->keys[i].found;
			if (*found)
				memcpy(pub, st->keys[i].pub, STS_ED25519_PUB_LEN);
			return 0;
		}
	}
	err = run(st, "SELECT pub FROM device_keys WHERE kid = $1", 1, vals, NULL, NULL, 1, &res);
	if (err)
		return err;
	if (PQntuples(res) == 1) {
		if (PQgetlength(res, 0, 0) != STS_ED25519_PUB_LEN) {
			err = -EUCLEAN;
		} else {
			memcpy(pub, PQgetvalue(res, 0, 0), STS_ED25519_PUB_LEN);
			*found = true;
		}
	}
	PQclear(res);
	return err;
}

/* COMMIT of a transaction that failed answers "ROLLBACK", not an error: that is a failure. */
static int commit(struct pg_store *st)
{
	PGresult *res = PQexec(st->conn, "COMMIT");

	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		return pg_fail(st, res);
	if (strcmp(PQcmdStatus(res), "COMMIT") != 0) {
		snprintf(st->err, sizeof(st->err), "the transaction was rolled back");
		PQclear(res);
		return -EIO;
	}
	PQclear(res);
	return 0;
}

static int pg_exec(struct store *base, int what)
{
	struct pg_store *st = PG(base);

	switch (what) {
	case STORE_BEGIN:
		/* The fleet-wide writer lock first: everything after it is serialized. */
		return simple(st, "BEGIN; SELECT pg_advisory_xact_lock(" WRITE_LOCK ")");
	case STORE_COMMIT:
		return st->batch ? batch_commit(st) : commit(st);
	case STORE_ROLLBACK:
		/* Statements queued and not sent: sent with a sync and their results dropped. */
		if (PQpipelineStatus(st->conn) != PQ_PIPELINE_OFF)
			sync_pipeline(st, NULL);
		forget_batch(st);
		/* Nothing to undo on a lost connection: the server rolled back already. */
		if (PQstatus(st->conn) != CONNECTION_OK)
			return 0;
		return simple(st, "ROLLBACK");
	default:
		return -EINVAL;
	}
}

static int pg_find(struct store *base, const char *aid, bool *found, char sha256_hex[65],
		   char **receipt)
{
	struct pg_store *st = PG(base);
	const char *vals[1] = { aid }, *h;
	PGresult *res;
	int err;

	*found = false;
	*receipt = NULL;
	if (st->batch) {
		size_t i;

		/* Looked up under the lock at the batch's start, or inserted by the batch. */
		for (i = 0; i < st->nfound; i++) {
			if (!strcmp(st->found[i].aid, aid)) {
				memcpy(sha256_hex, st->found[i].sha256_hex, 65);
				*receipt = strdup(st->found[i].receipt);
				if (!*receipt)
					return -ENOMEM;
				*found = true;
				break;
			}
		}
		return 0;
	}
	err = run(st, "SELECT sha256, receipt FROM activations WHERE aid = $1", 1, vals, NULL, NULL,
		  0, &res);
	if (err)
		return err;
	if (PQntuples(res) == 1) {
		h = PQgetvalue(res, 0, 0);
		if (strlen(h) != 64) {
			err = -EUCLEAN;
			goto cleanup;
		}
		memcpy(sha256_hex, h, 65);
		*receipt = strdup(PQgetvalue(res, 0, 1));
		if (!*receipt) {
			err = -ENOMEM;
			goto cleanup;
		}
		*found = true;
	}
cleanup:
	PQclear(res);
	return err;
}

static int pg_next_seq(struct store *base, long long *seq)
{
	struct pg_store *st = PG(base);
	PGresult *res;
	int err;

	/* The counter read under the lock; written back by the commit. */
	if (st->batch) {
		*seq = ++st->seq;
		return 0;
	}
	err = run(st, "UPDATE counters SET value = value + 1 WHERE name = 'seq' RETURNING value", 0,
		  NULL, NULL, NULL, 0, &res);
	if (err)
		return err;
	if (PQntuples(res) != 1)
		err = -EUCLEAN;
	else
		*seq = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return err;
}

#define INSERT_ACTIVATION                                                                        \
	"INSERT INTO activations (seq, aid, kid, sha256, received_at, imei, model, sw_version, " \
	"country, jws, receipt) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
#define INSERT_KEY                                                            \
	"INSERT INTO device_keys (kid, first_seen, pub) VALUES ($1, $2, $3) " \
	"ON CONFLICT (kid) DO NOTHING"

static int pg_insert(struct store *base, const struct activation *a)
{
	struct pg_store *st = PG(base);
	char seq[24], *jws;
	const char *vals[11];
	const int lens[3] = { 0, 0, STS_ED25519_PUB_LEN }, fmts[3] = { 0, 0, 1 };
	int err;

	/* Text parameters are NUL-terminated; the JWS as received is not. */
	jws = strndup(a->jws, a->jws_len);
	if (!jws)
		return -ENOMEM;
	snprintf(seq, sizeof(seq), "%lld", a->seq);
	vals[0] = seq;
	vals[1] = a->aid;
	vals[2] = a->kid;
	vals[3] = a->sha256_hex;
	vals[4] = a->received_at;
	vals[5] = a->report->imei;
	vals[6] = a->report->model;
	vals[7] = a->report->sw_version;
	vals[8] = a->report->country[0] ? a->report->country : NULL;
	vals[9] = jws;
	vals[10] = a->receipt;
	/* In a batch, queued: libpq copies the parameters now; the commit sends them. */
	if (st->batch)
		err = queue(st, INSERT_ACTIVATION, 11, vals, NULL, NULL, 0);
	else
		err = run(st, INSERT_ACTIVATION, 11, vals, NULL, NULL, 0, NULL);
	free(jws);
	if (!err && st->batch)
		err = remember(st, a->aid, a->sha256_hex, a->receipt);
	if (err || !a->new_key)
		return err;
	vals[0] = a->kid;
	vals[1] = a->received_at;
	vals[2] = (const char *)a->new_key;
	if (st->batch)
		return queue(st, INSERT_KEY, 3, vals, lens, fmts, 0);
	return run(st, INSERT_KEY, 3, vals, lens, fmts, 0, NULL);
}

static int pg_add_rejections(struct store *base, const char *code, unsigned long n)
{
	struct pg_store *st = PG(base);
	char nb[24];
	const char *vals[2] = { code, nb };

	snprintf(nb, sizeof(nb), "%lu", n);
	/* Several instances add to the same counters: the upsert is atomic. */
	return run(st,
		   "INSERT INTO rejections (code, count) VALUES ($1, $2) "
		   "ON CONFLICT (code) DO UPDATE SET count = rejections.count + EXCLUDED.count",
		   2, vals, NULL, NULL, 0, NULL);
}

static int pg_list(struct store *base, const struct store_filter *f,
		   int (*cb)(json_t *row, void *arg), void *arg)
{
	struct pg_store *st = PG(base);
	char after[24];
	const char *vals[2] = { f && f->since ? f->since : "", after };
	PGresult *res;
	ExecStatusType rs;
	json_t *row, *v;
	int err = 0, j;

	snprintf(after, sizeof(after), "%lld", f ? f->after_seq : 0);
	/* Row by row (single-row mode): an export of millions of rows in bounded memory. */
	if (!PQsendQueryParams(
		    st->conn,
		    "SELECT seq, aid, kid, sha256, received_at, imei, model, sw_version, "
		    "country, jws, receipt FROM activations "
		    "WHERE received_at >= $1 AND seq > $2 ORDER BY seq",
		    2, NULL, vals, NULL, NULL, 0) ||
	    !PQsetSingleRowMode(st->conn))
		return pg_fail(st, NULL);
	/* Every result is read, even after an error, so the connection is ready again. */
	while ((res = PQgetResult(st->conn))) {
		rs = PQresultStatus(res);
		if (rs != PGRES_SINGLE_TUPLE) {
			if (rs != PGRES_TUPLES_OK && !err)
				err = pg_fail(st, res);
			else
				PQclear(res);
			continue;
		}
		row = err ? NULL : json_object();
		if (!err && !row)
			err = -ENOMEM;
		for (j = 0; row && j < PQnfields(res); j++) {
			if (PQgetisnull(res, 0, j))
				v = json_null();
			else if (j == 0)
				v = json_integer(strtoll(PQgetvalue(res, 0, j), NULL, 10));
			else
				v = json_stringn(PQgetvalue(res, 0, j), PQgetlength(res, 0, j));
			if (json_object_set_new(row, PQfname(res, j), v))
				err = -ENOMEM;
		}
		if (row && !err)
			err = cb(row, arg);
		json_decref(row);
		PQclear(res);
	}
	return err;
}

/* sql: a string constant (the SQLite backend caches statements by its address). */
static int pg_count(struct store *base, const char *sql, long long *n)
{
	PGresult *res;
	int err;

	err = run(PG(base), sql, 0, NULL, NULL, NULL, 0, &res);
	if (err)
		return err;
	*n = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return 0;
}

static int pg_rejections(struct store *base, int (*cb)(const char *code, long long n, void *arg),
			 void *arg)
{
	PGresult *res;
	int err, i;

	err = run(PG(base), "SELECT code, count FROM rejections ORDER BY code", 0, NULL, NULL, NULL,
		  0, &res);
	for (i = 0; !err && i < PQntuples(res); i++)
		err = cb(PQgetvalue(res, i, 0), strtoll(PQgetvalue(res, i, 1), NULL, 10), arg);
	if (res)
		PQclear(res);
	return err;
}

static const struct store_ops pg_ops = {
	.name = "postgresql",
	.close = pg_close,
	.errmsg = pg_errmsg,
	.reconnect = pg_reconnect,
	.get_key = pg_get_key,
	.exec = pg_exec,
	.find = pg_find,
	.next_seq = pg_next_seq,
	.insert = pg_insert,
	.add_rejections = pg_add_rejections,
	.list = pg_list,
	.count = pg_count,
	.rejections = pg_rejections,
	.prefetch_keys = pg_prefetch_keys,
	.begin_batch = pg_begin_batch,
};
