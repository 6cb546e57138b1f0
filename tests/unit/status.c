// SPDX-License-Identifier: GPL-2.0-only
/*
 * stsctl status on a state directory the test fills step by step, as stsd would: empty (every
 * item says what is missing), then activated with consent, opt-out, keys and a log, then not
 * yet activated with a retry due, then damaged. It must never write or create anything, and
 * it must work as a user who cannot read everything (it says what it could not read).
 * And stsctl verify --json on the committed fixtures.
 */
#include "test.h"
#include "core/crypto.h"
#include "core/util.h"
#include "device/activation.h"
#include "device/consent.h"
#include "evidence/evlog.h"
#include "evidence/note.h"
#include "wire/jws.h"

#include <jansson.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define FIXTURES "tests/fixtures/evidence"

static char out[1 << 16];

static bool has(const char *text, const char *want, const char *name)
{
	return TEST__CHECK(strstr(text, want) != NULL, name, "\"%s\" not in: %s", want, text);
}

static json_t *run_json(int *rc, const char *fmt, const char *arg)
{
	char cmd[1024];
	json_error_t jerr;

	snprintf(cmd, sizeof(cmd), fmt, test__out_dir(), arg);
	/* stderr to /dev/null: stdout alone must be the JSON object. */
	*rc = test__run(out, sizeof(out), "(%s 2>/dev/null)", cmd);
	return json_loads(out, 0, &jerr);
}

static const char *jstr(json_t *o, const char *a, const char *b)
{
	return json_string_value(json_object_get(json_object_get(o, a), b));
}

static long long jint(json_t *o, const char *a, const char *b)
{
	return json_integer_value(json_object_get(json_object_get(o, a), b));
}

/* "ls -A DIR" as one string: what status must not change. */
static void listing(const char *dir, char *buf, size_t sz)
{
	test__run(buf, sz, "ls -lA --time-style=+%%s.%%N %s", dir);
}

void test_verify_json(void)
{
	json_t *j;
	int rc;

	j = run_json(&rc,
		     "%s/stsctl verify %s/good.log --log-key " FIXTURES
		     "/log.pub --seal-key " FIXTURES "/seal.key --json",
		     FIXTURES);
	ASSERT_EQ(rc, 0, "good.log: exit 0");
	if (ASSERT_OK_PTR(j, "good.log: stdout is one JSON object")) {
		ASSERT_TRUE(json_is_true(json_object_get(j, "ok")), "ok: true");
		ASSERT_EQ(json_integer_value(json_object_get(j, "records")), 33, "records");
		ASSERT_EQ(json_integer_value(json_object_get(j, "checkpoints")), 11, "checkpoints");
		ASSERT_TRUE(json_is_null(json_object_get(j, "bad_line")), "no bad line");
		ASSERT_STREQ(json_string_value(json_object_get(j, "key_id")), "1313e410", "kid");
		ASSERT_STREQ(json_string_value(json_object_get(j, "signed_by")),
			     "stsguard.test/evidence", "signed by");
		ASSERT_TRUE(json_is_false(json_object_get(j, "key_from_log")), "auditor's key");
		ASSERT_TRUE(json_is_true(json_object_get(j, "seals_verified")), "seals verified");
		ASSERT_EQ(jint(j, "seal_epochs", "first"), 1, "first epoch");
		ASSERT_EQ(jint(j, "seal_epochs", "last"), 8, "last epoch");
		ASSERT_EQ(json_integer_value(json_object_get(j, "unsigned_tail")), 0, "tail");
	}
	json_decref(j);

	j = run_json(&rc, "%s/stsctl verify %s/edited.log --json", FIXTURES);
	ASSERT_EQ(rc, 1, "edited.log: exit 1");
	if (ASSERT_OK_PTR(j, "edited.log: JSON")) {
		ASSERT_TRUE(json_is_false(json_object_get(j, "ok")), "ok: false");
		ASSERT_EQ(json_integer_value(json_object_get(j, "bad_line")), 16, "the bad line");
		ASSERT_TRUE(json_is_string(json_object_get(j, "why")) &&
				    strstr(json_string_value(json_object_get(j, "why")),
					   "record altered"),
			    "and why");
		ASSERT_TRUE(json_is_true(json_object_get(j, "key_from_log")),
			    "says the key came from the log");
		ASSERT_TRUE(json_is_false(json_object_get(j, "seals_verified")),
			    "seals not verified without a seal key");
	}
	json_decref(j);

	j = run_json(&rc,
		     "%s/stsctl verify %s/resealed.log --log-key " FIXTURES
		     "/log.pub --seal-key " FIXTURES "/seal.key --json",
		     FIXTURES);
	ASSERT_EQ(rc, 1, "resealed.log: exit 1");
	ASSERT_EQ(json_integer_value(json_object_get(j, "bad_line")), 8, "re-sealed at line 8");
	json_decref(j);

	j = run_json(&rc, "%s/stsctl verify %s --json", "/nonexistent/evidence.log");
	ASSERT_EQ(rc, 2, "missing log: exit 2");
	ASSERT_EQ(out[0], '\0', "nothing on stdout");
	json_decref(j);
	rc = test__run(out, sizeof(out), "%s/stsctl verify --help", test__out_dir());
	ASSERT_TRUE(rc == 0 && strstr(out, "--json") && strstr(out, "exit status:"),
		    "verify --help documents --json");
}

static int write_activation(const char *dir, const struct sts_activation *a)
{
	char path[512], *s = NULL;
	int err;

	snprintf(path, sizeof(path), "%s/activation.json", dir);
	err = sts_activation_serialize(a, &s);
	if (!err)
		err = sts_write_file_atomic(path, s, strlen(s), 0600);
	free(s);
	return err;
}

/* A small log signed by the log key: three records, then the writer's final checkpoint. */
static int write_log(const char *dir, const struct sts_key *key)
{
	struct evlog_opts o = { .log_key = key };
	struct evlog *log = NULL;
	char path[600];
	int err, i;

	snprintf(path, sizeof(path), "%s/evidence.log", dir);
	o.path = path;
	err = evlog_open(&o, &log);
	for (i = 0; !err && i < 3; i++)
		err = evlog_append(log, i ? "schedule" : "start", NULL, NULL);
	if (log && evlog_close(log) && !err)
		err = -EIO;
	return err;
}

void test_status(void)
{
	char dir[256], path[600], before[8192], after[8192], want[1024];
	char kid[STS_KID_LEN + 1], origin[NOTE_MAX_NAME + 1], hex[9];
	struct sts_key dkey = { 0 }, lkey = { 0 };
	struct sts_activation a = { 0 };
	const char *o = test__out_dir();
	uint8_t id[4];
	json_t *j;
	int rc;

	snprintf(dir, sizeof(dir), "%s/state", test__tmpdir());
	if (!ASSERT_OK(sts_mkdir_p(dir, 0700), "state dir"))
		return;

	/* Fresh: every item says what is missing, and nothing is created. */
	listing(dir, before, sizeof(before));
	rc = test__run(out, sizeof(out), "%s/stsctl status --state-dir %s", o, dir);
	ASSERT_EQ(rc, 0, "fresh: exit 0");
	snprintf(want, sizeof(want), "no activation yet: %s/activation.json does not exist", dir);
	has(out, want, "fresh: no activation yet, naming the file");
	has(out, "consent:      never asked", "fresh: consent never asked");
	has(out, "not opted out", "fresh: not opted out");
	has(out, "device key:   none yet", "fresh: no device key");
	has(out, "log key:      none yet", "fresh: no log key");
	has(out, "seals:        off", "fresh: no seals");
	has(out, "evidence log: none yet", "fresh: no log");
	j = run_json(&rc, "%s/stsctl status --json --state-dir %s", dir);
	if (ASSERT_OK_PTR(j, "fresh: --json is JSON")) {
		ASSERT_TRUE(
			json_is_false(json_object_get(json_object_get(j, "activation"), "present")),
			"fresh: activation not present");
		snprintf(path, sizeof(path), "%s/activation.json", dir);
		ASSERT_STREQ(jstr(j, "activation", "path"), path, "fresh: its path");
	}
	json_decref(j);
	listing(dir, after, sizeof(after));
	ASSERT_STREQ(after, before, "fresh: nothing created");
	snprintf(path, sizeof(path), "%s/none", dir);
	rc = test__run(out, sizeof(out), "%s/stsctl status --state-dir %s", o, path);
	ASSERT_TRUE(rc == 0 && access(path, F_OK) != 0, "no state dir: shown, not created");

	/* Everything there: activated, consent, opt-out, keys, a signed log. */
	a.activated = true;
	a.attempts = 2;
	a.activated_at = 1767225600; /* 2026-01-01T00:00:00Z */
	memset(a.receipt_sha256, 'a', 64);
	if (!ASSERT_OK(sts_aid_new(a.aid), "aid") || !ASSERT_OK(write_activation(dir, &a), "state"))
		return;
	snprintf(path, sizeof(path), "%s/consent.json", dir);
	ASSERT_OK(sts_consent_grant(path, "FR"), "consent");
	ASSERT_OK(sts_optout_set(dir), "opt-out");
	snprintf(path, sizeof(path), "%s/device.key", dir);
	snprintf(want, sizeof(want), "%s/device.key.pub", dir);
	ASSERT_OK(sts_key_generate(path, want, &dkey), "device key");
	snprintf(path, sizeof(path), "%s/log.key", dir);
	snprintf(want, sizeof(want), "%s/log.key.pub", dir);
	ASSERT_OK(sts_key_generate(path, want, &lkey), "log key");
	ASSERT_OK(write_log(dir, &lkey), "evidence log");
	ASSERT_OK(sts_kid(dkey.pub, kid), "kid");
	ASSERT_OK(evlog_default_origin(&lkey, origin, sizeof(origin)), "origin");
	ASSERT_OK(note_key_id(origin, lkey.pub, id), "log key id");
	sts_hex(id, sizeof(id), hex);

	listing(dir, before, sizeof(before));
	rc = test__run(out, sizeof(out), "%s/stsctl status --state-dir %s", o, dir);
	ASSERT_EQ(rc, 0, "full: exit 0");
	snprintf(want, sizeof(want), "activated at 2026-01-01T00:00:00Z (activation id %s, 2 ",
		 a.aid);
	has(out, want, "full: activated, when, the aid, the attempts");
	has(out, "country FR may be sent", "full: consent");
	has(out, "periodic reports off for good", "full: opt-out");
	snprintf(want, sizeof(want), "device key:   kid %s", kid);
	has(out, want, "full: the device key's kid");
	snprintf(want, sizeof(want), "log key:      key id %s, name %s", hex, origin);
	has(out, want, "full: the log key's id and name");
	has(out, "4 record(s)", "full: the log's records");
	has(out, "last checkpoint: seq 3", "full: its last checkpoint");
	has(out, "signature by the log key", "full: signed by the log key");
	j = run_json(&rc, "%s/stsctl status --json --state-dir %s", dir);
	ASSERT_EQ(rc, 0, "full --json: exit 0");
	if (ASSERT_OK_PTR(j, "full: --json is JSON")) {
		ASSERT_TRUE(json_is_true(
				    json_object_get(json_object_get(j, "activation"), "activated")),
			    "json: activated");
		ASSERT_STREQ(jstr(j, "activation", "activation_id"), a.aid, "json: aid");
		ASSERT_EQ(jint(j, "activation", "attempts"), 2, "json: attempts");
		ASSERT_STREQ(jstr(j, "consent", "country"), "FR", "json: country");
		ASSERT_TRUE(json_is_true(json_object_get(json_object_get(j, "optout"), "optout")),
			    "json: opted out");
		ASSERT_STREQ(jstr(j, "device_key", "kid"), kid, "json: kid");
		ASSERT_STREQ(jstr(j, "log_key", "key_id"), hex, "json: log key id");
		ASSERT_EQ(jint(j, "evidence_log", "records"), 4, "json: records");
		ASSERT_STREQ(
			jstr(json_object_get(j, "evidence_log"), "last_checkpoint", "signature"),
			"by the log key", "json: checkpoint signature");
	}
	json_decref(j);
	listing(dir, after, sizeof(after));
	ASSERT_STREQ(after, before, "full: nothing written");

	/* Not activated yet: a retry is due. */
	memset(&a.receipt_sha256, 0, sizeof(a.receipt_sha256));
	a.activated = false;
	a.activated_at = 0;
	a.attempts = 3;
	a.next_attempt = 1767229200; /* 01:00 */
	snprintf(a.last_error, sizeof(a.last_error), "collector unreachable");
	ASSERT_OK(write_activation(dir, &a), "state: retrying");
	rc = test__run(out, sizeof(out), "%s/stsctl status --state-dir %s", o, dir);
	snprintf(want, sizeof(want),
		 "not activated yet: 3 attempt(s) with activation id %s, next at "
		 "2026-01-01T01:00:00Z; last error: collector unreachable",
		 a.aid);
	has(out, want, "retrying: attempts, next retry, last error");

	/* Damaged: said, and exit 1. */
	snprintf(path, sizeof(path), "%s/activation.json", dir);
	ASSERT_OK(sts_write_file_atomic(path, "{\"activated\":", 13, 0600), "damage the state");
	rc = test__run(out, sizeof(out), "%s/stsctl status --state-dir %s", o, dir);
	ASSERT_EQ(rc, 1, "damaged: exit 1");
	has(out, "cannot read", "damaged: said");
	has(out, "damaged (", "damaged: with the parser's reason");
	has(out, "country FR may be sent", "damaged: the rest still shown");

	/* A user who cannot enter the state directory: it says so, and runs. */
	if (getuid() == 0 && test__run(NULL, 0, "command -v runuser") == 0) {
		rc = test__run(out, sizeof(out),
			       "runuser -u nobody -- %s/stsctl status --state-dir %s", o, dir);
		ASSERT_EQ(rc, 1, "non-root: exit 1");
		has(out, "Permission denied", "non-root: says what it could not read");
		chmod(test__tmpdir(), 0711);
		chmod(dir, 0755);
		rc = test__run(out, sizeof(out),
			       "runuser -u nobody -- %s/stsctl status --state-dir %s", o, dir);
		has(out, "country FR may be sent", "non-root: reads what is readable");
		has(out, "log key:      key id", "non-root: the public keys");
	}
	rc = test__run(out, sizeof(out), "%s/stsctl status --help", o);
	ASSERT_TRUE(rc == 0 && strstr(out, "usage: stsctl status") && strstr(out, "exit status:"),
		    "status --help");
	rc = test__run(out, sizeof(out), "%s/stsctl status extra", o);
	ASSERT_EQ(rc, 2, "an operand: usage error");
	sts_key_free(&dkey);
	sts_key_free(&lkey);
}
