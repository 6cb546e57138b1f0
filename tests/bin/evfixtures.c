// SPDX-License-Identifier: GPL-2.0-only
/*
 * Generates the committed evidence log fixtures (tests/fixtures/evidence/), reproducibly:
 * the clock, the boot ids and the initial seal key are fixed, Ed25519 signatures are
 * deterministic, and the log key is read from DIR/log.key (created on the first run only).
 *
 *	evfixtures DIR
 *
 * Writes good.log (format 2: every record type, seal epochs each closed by its own key, a
 * shutdown with skipped epochs, a torn tail and its recovery), log.pub, seal.key (the
 * auditor's verification key), kept.checkpoint (good.log's latest checkpoint, as an auditor
 * keeps it), the altered copies, and expected.txt: one line per check,
 *
 *	<file>\t<exit status of stsctl verify>\t<more arguments, @ = DIR>\t<words of its output>
 *
 * which tests/unit/evidence.c runs as `stsctl verify @/<file> --log-key @/log.pub <args>`.
 * The altered copies are what each attacker of docs/evidence.md could do: the outsider
 * (edit, delete, swap, append, forge a signature, cut the file or its tail, edit what a v1
 * checkpoint left unsigned), the intruder holding the device's current keys (strip seals and
 * re-sign, rewrite history and re-seal it with a later key, cut at an old checkpoint and seal
 * anew, rewrite what only their own epoch covers) and root who deletes (roll back to an
 * older copy). A format 1 log written before format 2 (../good.log) goes on in format 2;
 * rotation and an incident (the log cut under the writer) start segments.
 */
#include "evidence/evlog.h"
#include "evidence/merkle.h"
#include "evidence/note.h"
#include "evidence/seal.h"
#include "core/util.h"

#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define T0 1767225600LL /* 2026-01-01T00:00:00Z */
#define EPOCH 60
#define BOOT1 "6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b"
#define BOOT2 "0a1b2c3d-4e5f-4a6b-8c7d-8e9f0a1b2c3d"

static const uint8_t seal_k0[SEAL_KEY_LEN] = "stsguard test fixture seal key!";
static int64_t fake_now;

static int64_t fake_clock(void *arg)
{
	(void)arg;
	return fake_now;
}

static char dir[4096];

static const char *at(const char *name)
{
	static char bufs[4][4096 + 64];
	static int i;

	i = (i + 1) % 4;
	snprintf(bufs[i], sizeof(bufs[i]), "%s/%s", dir, name);
	return bufs[i];
}

static int add(struct evlog *log, const char *type, json_t *fields)
{
	int err;

	fake_now += 10 * 1000000LL;
	err = evlog_append(log, type, fields, NULL);
	json_decref(fields);
	if (err)
		fprintf(stderr, "evfixtures: append %s: %s\n", type, strerror(-err));
	return err;
}

/* One run of the monitor, as the enforcement and agent issues will log it. */
static int run_records(struct evlog *log, bool second)
{
	char imei[32], digest[65];
	const char *report = "eyJhbGciOiJFZERTQSJ9.eyJpbWVpIjoiMzUzODc2MTAwMDAwMDA2In0.c2ln";
	int err = 0;

	evlog_mask_imei("353876100000006", imei, sizeof(imei));
	evlog_sha256_hex(report, strlen(report), digest);
	err = err
		      ?: add(log, EV_START,
			     json_pack("{ss si ss}", "version", "0.1.0", "pid", 412, "mode",
				       "enforce"));
	err = err
		      ?: add(log, EV_ENFORCEMENT,
			     json_pack(
				     "{ss ss ss s[{ss ss}{ss ss}{ss ss}{ss ss ss}] s[{ss ss}{ss "
				     "ss}]}",
				     "kernel", "6.1.0-27-amd64", "mode", "enforce", "policy_sha256",
				     "9f2d0c1b7a3e4d5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c"
				     "6d7",
				     "hooks", "hook", "cgroup/connect4", "mode", "enforce", "hook",
				     "cgroup/sendmsg4", "mode", "enforce", "hook", "lsm/file_open",
				     "mode", "enforce", "hook", "uprobe/SSL_write", "mode", "off",
				     "reason", "libssl not found", "programs", "name",
				     "sts_connect4", "tag", "a1b2c3d4e5f60718", "name",
				     "sts_file_open", "tag", "0718a1b2c3d4e5f6"));
	if (second)
		return err
			       ?: add(log, EV_SCHEDULE,
				      json_pack("{ss ss}", "decision", "skip", "reason",
						"activation already acknowledged by a verified "
						"receipt"));
	err = err
		      ?: add(log, EV_SCHEDULE,
			     json_pack("{ss ss}", "decision", "send", "reason",
				       "first activation"));
	err = err
		      ?: add(log, EV_FILE_ALLOW,
			     json_pack("{si ss ss si si ss ss}", "pid", 415, "comm", "sts-agent",
				       "path", "/etc/os-release", "ino", 1311, "dev", 2049,
				       "access", "read", "hook", "lsm/file_open"));
	err = err
		      ?: add(log, EV_FILE_DENY,
			     json_pack("{si ss ss si si ss ss ss}", "pid", 415, "comm", "sts-agent",
				       "path", "/home/user/contacts.db", "ino", 5521, "dev", 2049,
				       "access", "read", "hook", "lsm/file_open", "action",
				       "denied"));
	err = err
		      ?: add(log, EV_EXEC_DENY,
			     json_pack("{si ss ss si si ss ss}", "pid", 415, "comm", "sts-agent",
				       "path", "/usr/bin/curl", "ino", 7781, "dev", 2049, "hook",
				       "lsm/bprm_check_security", "action", "denied"));
	err = err
		      ?: add(log, EV_NET_DENY,
			     json_pack("{si ss ss ss ss si ss}", "pid", 415, "comm", "sts-agent",
				       "hook", "cgroup/sendmsg4", "proto", "udp", "addr", "8.8.8.8",
				       "port", 53, "action", "denied"));
	err = err
		      ?: add(log, EV_CONSENT_USED,
			     json_pack("{ss sb ss}", "claim", "country", "consent", 0, "recorded",
				       "2025-12-30T09:00:00.000000Z"));
	err = err
		      ?: add(log, EV_IDENTIFIER_RELEASED,
			     json_pack("{ss ss si}", "identifier", "imei", "value", imei, "to_pid",
				       415));
	err = err
		      ?: add(log, EV_REPORT_APPROVED,
			     json_pack("{ss s{ss ss ss} si ss}", "activation_id",
				       "3f9a1c2e-7b6d-4c5e-9f8a-1b2c3d4e5f60", "claims", "imei",
				       imei, "model", "PX-7", "sw_version", "1.4.2", "bytes",
				       (int)strlen(report), "sha256", digest));
	/* The approval is durable before anything is sent: */
	err = err ?: evlog_checkpoint(log);
	err = err
		      ?: add(log, EV_NET_ALLOW,
			     json_pack("{si ss ss ss ss si ss}", "pid", 415, "comm", "sts-agent",
				       "hook", "cgroup/connect4", "proto", "tcp", "addr",
				       "192.0.2.10", "port", 443, "action", "allowed"));
	err = err
		      ?: add(log, EV_PAYLOAD_DENY,
			     json_pack("{si ss si ss ss ss}", "pid", 415, "comm", "sts-agent",
				       "bytes", 96, "sha256",
				       "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1"
				       "542d8",
				       "reason", "claim \"imsi\" not in the approved schema",
				       "action", "killed"));
	err = err
		      ?: add(log, EV_TRANSMISSION,
			     json_pack("{ss ss s[sss] si ss si ss}", "activation_id",
				       "3f9a1c2e-7b6d-4c5e-9f8a-1b2c3d4e5f60", "endpoint",
				       "collector.example.org:443", "claims", "imei", "model",
				       "sw_version", "bytes", (int)strlen(report), "sha256", digest,
				       "attempt", 1, "status", "sent"));
	err = err
		      ?: add(log, EV_VOLUME_DROP,
			     json_pack("{si si si}", "pid", 415, "bytes", 1200, "allowance",
				       16384));
	err = err
		      ?: add(log, EV_LOST_EVENTS,
			     json_pack("{si ss}", "count", 3, "source", "ringbuf"));
	err = err
		      ?: add(log, EV_RECEIPT,
			     json_pack("{ss ss ss ss}", "activation_id",
				       "3f9a1c2e-7b6d-4c5e-9f8a-1b2c3d4e5f60", "status", "verified",
				       "collector_key_id", "c0113c70", "sha256",
				       "d2a84f4b8b650937ec8f73cd8be2c74add5a911ba64df27458ed8229da8"
				       "04a26"));
	return err;
}

static int stop(struct evlog *log)
{
	int err = add(log, EV_STOP, json_pack("{ss ss}", "reason", "signal", "signal", "SIGTERM"));

	err = err ?: evlog_close(log);
	return err;
}

/*
 * The genuine log. With key_epoch set, the seal state starts at that later epoch and the
 * records from `edit` on are altered: history rewritten by someone holding a later key.
 */
static int make_log(const char *path, const char *seal_path, const struct sts_key *key, bool sealed)
{
	struct evlog_opts o = {
		.path = path,
		.log_key = key,
		.origin = "stsguard.test/evidence",
		.seal_path = sealed ? seal_path : NULL,
		.checkpoint_every = 8,
		.checkpoint_interval = 3600,
		.clock = fake_clock,
		.boot_id = BOOT1,
	};
	struct evlog *log;
	FILE *f;
	int err;

	fake_now = T0 * 1000000LL + 123456;
	o.no_state = true; /* the fixture directory holds logs only */
	err = evlog_open(&o, &log);
	err = err ?: run_records(log, false);
	err = err ?: stop(log);
	if (err)
		return err;
	/* Power cut while writing: a torn tail that the next start must cut and log. */
	f = fopen(path, "a");
	if (!f)
		return -errno;
	fputs("{\"seq\":99,\"time\":\"2026-01-01T00:0", f);
	fclose(f);
	/* Down for five minutes: the writer seals the skipped epochs when it comes back. */
	fake_now += 300 * 1000000LL;
	o.boot_id = BOOT2;
	err = evlog_open(&o, &log);
	err = err ?: run_records(log, true);
	err = err ?: stop(log);
	return err;
}

#define SEAL "--seal-key @/seal.key"

/* One line of expected.txt. */
static void expect(FILE *exp, const char *file, int status, const char *args, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static void expect(FILE *exp, const char *file, int status, const char *args, const char *fmt, ...)
{
	va_list ap;

	fprintf(exp, "%s\t%d\t%s\t", file, status, args);
	va_start(ap, fmt);
	vfprintf(exp, fmt, ap);
	va_end(ap);
	fputc('\n', exp);
}

static int write_str(const char *path, const char *s, size_t len)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -errno;
	fwrite(s, 1, len, f);
	return fclose(f) ? -errno : 0;
}

struct lines {
	char *buf;
	size_t n;
	char *l[512];
	size_t len[512];
};

static int split_lines(const char *path, struct lines *ls)
{
	size_t len;
	char *p;
	int err = sts_read_file(path, 1 << 20, &ls->buf, &len);

	if (err)
		return err;
	ls->n = 0;
	for (p = ls->buf; p < ls->buf + len && ls->n < 512;) {
		char *nl = strchr(p, '\n');

		ls->l[ls->n] = p;
		ls->len[ls->n++] = nl - p + 1;
		p = nl + 1;
	}
	return 0;
}

/* Write lines in the given order (indexes, -1 ends), with replacements for some. */
static int write_lines(const char *name, struct lines *ls, const int *order, int repl_idx,
		       const char *repl)
{
	FILE *f = fopen(at(name), "w");
	int i;

	if (!f)
		return -errno;
	/* order NULL: every line in its place. */
	for (i = 0; order ? order[i] >= 0 : i < (int)ls->n; i++) {
		int j = order ? order[i] : i;

		if (j == repl_idx)
			fputs(repl, f);
		else
			fwrite(ls->l[j], 1, ls->len[j], f);
	}
	return fclose(f) ? -errno : 0;
}

static int find_line(struct lines *ls, const char *needle, int nth)
{
	size_t i;

	for (i = 0; i < ls->n; i++)
		if (memmem(ls->l[i], ls->len[i], needle, strlen(needle)) && nth-- == 0)
			return (int)i;
	return -1;
}

/* Lines [0, n) of ls, then extra (may be NULL), into name. */
static int write_head(const char *name, const struct lines *ls, size_t n, const char *extra)
{
	FILE *f = fopen(at(name), "w");
	size_t i;

	if (!f)
		return -errno;
	for (i = 0; i < n; i++)
		fwrite(ls->l[i], 1, ls->len[i], f);
	if (extra)
		fputs(extra, f);
	return fclose(f) ? -errno : 0;
}

/* Line i of ls with the first `from` replaced by `to` (same line otherwise); heap string. */
static char *edit_line(const struct lines *ls, int i, const char *from, const char *to)
{
	char *line = strndup(ls->l[i], ls->len[i]), *p = line ? strstr(line, from) : NULL, *out;

	if (!p) {
		free(line);
		return NULL;
	}
	out = malloc(ls->len[i] + strlen(to) + 1);
	if (out) {
		memcpy(out, line, p - line);
		strcpy(out + (p - line), to);
		strcat(out, p + strlen(from));
	}
	free(line);
	return out;
}

/* A writer at fake time `now` on an existing file, with the seal key of `epoch` (or none). */
static int open_at(const char *name, const struct sts_key *key, int64_t now, int epoch,
		   const char *boot, struct evlog **log)
{
	struct seal_state st = { .start = T0, .length = EPOCH };
	struct evlog_opts o = {
		.path = at(name),
		.log_key = key,
		.origin = "stsguard.test/evidence",
		.seal_path = epoch >= 0 ? at("seal.state") : NULL,
		.checkpoint_every = 8,
		.checkpoint_interval = 3600,
		.clock = fake_clock,
		.boot_id = boot,
		.no_state = true,
	};
	int err = 0;

	if (epoch >= 0) {
		memcpy(st.key, seal_k0, SEAL_KEY_LEN);
		err = seal_advance(&st, (uint64_t)epoch);
		err = err ?: seal_state_store(at("seal.state"), &st);
		seal_state_wipe(&st);
	}
	fake_now = now;
	return err ?: evlog_open(&o, log);
}

static int intruder_records(struct evlog *log)
{
	int err = add(log, EV_NET_ALLOW,
		      json_pack("{si ss ss ss ss si ss}", "pid", 415, "comm", "sts-agent", "hook",
				"cgroup/connect4", "proto", "tcp", "addr", "198.51.100.7", "port",
				443, "action", "allowed"));

	return err ?: evlog_close(log);
}

/* Index of the line whose "seq" is seq. */
static int line_of_seq(const struct lines *ls, int seq)
{
	char needle[32];

	snprintf(needle, sizeof(needle), "{\"seq\":%d,", seq);
	return find_line((struct lines *)ls, needle, 0);
}

/*
 * The format 2 fixtures: what each attacker of docs/evidence.md can try, beyond the edits
 * above. ls is good.log.
 */
static int more_fixtures(FILE *exp, const struct sts_key *key, struct lines *ls)
{
	struct evlog *log = NULL;
	char *line = NULL, kept[NOTE_MAX_LEN + 1];
	int err = 0, i, last_cp, close1, cp1;

	/* Nothing at all: nothing is signed, nothing proved. */
	err = write_str(at("empty.log"), "", 0);
	expect(exp, "empty.log", 4, "", "empty.log: INCOMPLETE: empty log");

	/* Cut between records: the records after the last checkpoint are signed by nothing. */
	last_cp = (int)ls->n - 1; /* good.log ends with a checkpoint */
	err = err ?: write_head("cut-tail.log", ls, last_cp - 1, NULL);
	expect(exp, "cut-tail.log", 4, "", "cut-tail.log: INCOMPLETE: %d of %d records", 2,
	       last_cp - 1);
	expect(exp, "cut-tail.log", 0, "--allow-unsigned-tail",
	       "2 records after the last checkpoint covered by no signature");

	/* A record after the last checkpoint edited (no line after it to betray it). */
	line = edit_line(ls, (int)ls->n - 2, "\"reason\":\"signal\"", "\"reason\":\"exit\"");
	err = err ?: !line ? -EINVAL : write_head("tail-edited.log", ls, ls->n - 2, line);
	free(line);
	expect(exp, "tail-edited.log", 4, "", "tail-edited.log: INCOMPLETE: 3 of 32 records");

	/* A record made up after the last checkpoint, chained right (the hash is public). */
	{
		merkle_hash leaf;
		char hex[65], buf[512];

		merkle_leaf_hash(ls->l[ls->n - 1], ls->len[ls->n - 1] - 1, leaf);
		sts_hex(leaf, sizeof(leaf), hex);
		snprintf(buf, sizeof(buf),
			 "{\"seq\":%zu,\"time\":\"2026-01-01T00:09:00.000000Z\",\"boot\":\"" BOOT2
			 "\",\"type\":\"transmission\",\"prev\":\"%s\",\"endpoint\":"
			 "\"203.0.113.9:443\",\"bytes\":512}\n",
			 ls->n, hex);
		err = err ?: write_head("fabricated.log", ls, ls->n, buf);
		expect(exp, "fabricated.log", 4, "", "fabricated.log: INCOMPLETE: 1 of 34 records");
	}

	/* Time going back, in the unsigned tail where no signature needs redoing. */
	line = edit_line(ls, (int)ls->n - 3, "00:08:20.", "00:07:55.");
	err = err ?: !line ? -EINVAL : write_head("time-back.log", ls, ls->n - 3, line);
	free(line);
	expect(exp, "time-back.log", 1, "", "time-back.log:%zu: FAIL: time goes backwards",
	       ls->n - 2);

	/* Checkpoint fields a v1 signature left uncovered: boot, log_key, and extra fields. */
	cp1 = find_line(ls, "\"type\":\"checkpoint\"", 1);
	line = edit_line(ls, cp1, BOOT1, "6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4c");
	err = err ?: !line ? -EINVAL : write_lines("boot-edited.log", ls, NULL, cp1, line);
	free(line);
	expect(exp, "boot-edited.log", 1, "",
	       "boot-edited.log:%d: FAIL: checkpoint \"boot\" differs from its signed note",
	       cp1 + 1);
	line = edit_line(ls, cp1, "\"log_key\":\"", "\"log_key\":\"A");
	if (line) {
		/* Another 32-byte key: same length in base64, one letter changed. */
		char *q = strstr(line, "\"log_key\":\"A") + 11;

		memmove(q + 1, q + 2, strlen(q + 2) + 1);
		q[0] = q[0] == 'A' ? 'B' : 'A';
	}
	err = err ?: !line ? -EINVAL : write_lines("logkey-edited.log", ls, NULL, cp1, line);
	free(line);
	expect(exp, "logkey-edited.log", 1, "",
	       "logkey-edited.log:%d: FAIL: checkpoint \"log_key\" is not the log key given",
	       cp1 + 1);
	line = edit_line(ls, cp1, "\"size\":", "\"origin\":\"elsewhere\",\"size\":");
	err = err ?: !line ? -EINVAL : write_lines("extra-field.log", ls, NULL, cp1, line);
	free(line);
	expect(exp, "extra-field.log", 1, "",
	       "extra-field.log:%d: FAIL: checkpoint field \"origin\" is not covered", cp1 + 1);

	/* The auditor kept good.log's latest checkpoint at an earlier visit. */
	{
		json_t *o = json_loadb(ls->l[last_cp], ls->len[last_cp], 0, NULL);

		snprintf(kept, sizeof(kept), "%s", json_string_value(json_object_get(o, "note")));
		json_decref(o);
		err = err ?: write_str(at("kept.checkpoint"), kept, strlen(kept));
	}
	expect(exp, "good.log", 0, "--since @/kept.checkpoint " SEAL,
	       "extends the kept checkpoint");
	/* Cut cleanly at an older checkpoint (or rolled back to an older copy): verifies alone. */
	close1 = line_of_seq(ls, 14);
	err = err ?: write_head("rolled-back.log", ls, close1 + 1, NULL);
	expect(exp, "rolled-back.log", 0, SEAL, "rolled-back.log: OK: 15 records");
	expect(exp, "rolled-back.log", 1, "--since @/kept.checkpoint",
	       "rolled-back.log:15: FAIL: the log has 15 records, fewer than the 32 of the kept "
	       "checkpoint");

	/*
	 * The intruder holds the device's keys in epoch 2: the log key and k_2. They edit an
	 * epoch-1 record written after the last epoch-1 checkpoint but before epoch 1 was closed
	 * (seq 12), drop what follows and seal the rewritten history with k_2.
	 */
	i = line_of_seq(ls, 12);
	line = edit_line(ls, i, "192.0.2.10", "192.0.2.99");
	err = err ?: !line ? -EINVAL : write_head("intruder-rewrite.log", ls, i, line);
	free(line);
	err = err ?: open_at("intruder-rewrite.log", key, (T0 + 150) * 1000000LL, 2, BOOT1, &log);
	err = err ?: intruder_records(log);
	expect(exp, "intruder-rewrite.log", 1, SEAL,
	       "intruder-rewrite.log:%d: FAIL: epoch 1 was never closed before epoch 2", i + 3);
	expect(exp, "intruder-rewrite.log", 0, "", "intruder-rewrite.log: OK: ");
	/* ... or cut the log at an older checkpoint (epoch 1, seq 11) and seal anew with k_3. */
	i = line_of_seq(ls, 11);
	err = err ?: write_head("intruder-cut.log", ls, i + 1, NULL);
	err = err ?: open_at("intruder-cut.log", key, (T0 + 190) * 1000000LL, 3, BOOT1, &log);
	err = err ?: intruder_records(log);
	expect(exp, "intruder-cut.log", 1, SEAL,
	       "intruder-cut.log:%d: FAIL: seal epochs 2 to 2 are missing", i + 3);
	/* What k_2 does allow: rewrite what only epoch 2 covers, after the close of epoch 1. */
	err = err ?: write_head("intruder-epoch2.log", ls, close1 + 1, NULL);
	err = err ?: open_at("intruder-epoch2.log", key, (T0 + 150) * 1000000LL, 2, BOOT1, &log);
	err = err ?: intruder_records(log);
	expect(exp, "intruder-epoch2.log", 0, SEAL, "intruder-epoch2.log: OK: 17 records");
	expect(exp, "intruder-epoch2.log", 1, "--since @/kept.checkpoint",
	       "fewer than the 32 of the kept checkpoint");
	unlink(at("seal.state"));
	return err;
}

/*
 * A format 1 log (written before format 2) that the new writer goes on with; a rotation; and
 * an incident: the log cut under the writer, which starts a new segment from the checkpoint
 * it remembers.
 */
static int segment_fixtures(FILE *exp, const struct sts_key *key)
{
	char v1[4096 + 64], *buf = NULL;
	struct evlog *log = NULL;
	struct evlog_opts o = {
		.log_key = key,
		.origin = "stsguard.test/evidence",
		.checkpoint_every = 8,
		.checkpoint_interval = 3600,
		.clock = fake_clock,
		.boot_id = BOOT2,
	};
	int64_t aside;
	size_t len;
	int err, i;

	snprintf(v1, sizeof(v1), "%s/../good.log", dir);
	err = sts_read_file(v1, 1 << 20, &buf, &len);
	err = err ?: write_str(at("v1-then-v2.log"), buf, len);
	free(buf);
	err = err ?: open_at("v1-then-v2.log", key, (T0 + 560) * 1000000LL, 8, BOOT2, &log);
	err = err ?: intruder_records(log);
	expect(exp, "v1-then-v2.log", 0, SEAL, "format 2 (format 1 before seq 33)");
	unlink(at("seal.state"));

	/* Rotation: two segments, one chain. */
	o.path = at("rotated.log");
	o.state_path = at("rotated.state");
	unlink(o.path);
	unlink(o.state_path);
	unlink(at("rotated.log.1"));
	fake_now = T0 * 1000000LL + 123456;
	err = err ?: evlog_open(&o, &log);
	for (i = 0; !err && i < 5; i++)
		err = add(log, EV_NET_DENY, json_pack("{si}", "pid", 415 + i));
	err = err ?: evlog_rotate(log, at("rotated.log.1"));
	for (i = 0; !err && i < 3; i++)
		err = add(log, EV_NET_DENY, json_pack("{si}", "pid", 515 + i));
	err = err ?: evlog_close(log);
	unlink(o.state_path);
	expect(exp, "rotated.log.1", 0, "@/rotated.log", "rotated.log.1: OK: 6 records");
	expect(exp, "rotated.log", 0, "", "segment from seq 5");
	expect(exp, "rotated.log", 1, "@/rotated.log.1",
	       "rotated.log.1:1: FAIL: does not start with the last line of the segment before");

	/* Incident: the log cut under the writer (its last 2 checkpoints gone). */
	o.path = at("incident.log");
	o.state_path = at("incident.state");
	unlink(o.path);
	unlink(o.state_path);
	fake_now = T0 * 1000000LL + 123456;
	err = err ?: evlog_open(&o, &log);
	for (i = 0; !err && i < 12; i++)
		err = add(log, EV_NET_DENY, json_pack("{si}", "pid", 415 + i));
	err = err ?: evlog_close(log);
	if (!err) {
		struct lines ls = { 0 };

		err = split_lines(o.path, &ls);
		err = err ?: write_head("incident.log", &ls, 9, NULL);
		free(ls.buf);
	}
	fake_now += 60 * 1000000LL;
	aside = fake_now;
	err = err ?: evlog_open(&o, &log);
	err = err ?: add(log, EV_START, json_pack("{ss}", "mode", "enforce"));
	err = err ?: evlog_close(log);
	unlink(o.state_path);
	expect(exp, "incident.log", 0, "", "segment from seq 13");
	snprintf(v1, sizeof(v1), "incident.log.damaged-%" PRId64, aside);
	expect(exp, v1, 0, "--allow-unsigned-tail", "%s: OK: 9 records", v1);
	return err;
}

int main(int argc, char **argv)
{
	struct sts_key key = { 0 };
	struct lines ls = { 0 };
	struct seal_state st = { 0 };
	char vkey[SEAL_VKEY_MAX], *pem = NULL, *line = NULL, *p;
	int order[600], i, n, cp, tx, err;
	FILE *exp;

	sts_set_progname("evfixtures");
	if (argc != 2) {
		fprintf(stderr, "usage: evfixtures DIR\n");
		return 2;
	}
	snprintf(dir, sizeof(dir), "%s", argv[1]);
	if (sts_mkdir_p(dir, 0755))
		return 2;
	err = sts_key_load_private(at("log.key"), &key);
	if (err == -ENOENT)
		err = sts_key_generate(at("log.key"), NULL, &key);
	if (!err)
		err = sts_key_public_pem(&key, &pem);
	if (!err)
		err = write_str(at("log.pub"), pem, strlen(pem));
	if (err) {
		sts_err("log key in %s: %s", dir, strerror(-err));
		return 2;
	}
	/* The seal state of the device and the auditor's key, from the fixed k_0. */
	unlink(at("seal.state"));
	unlink(at("good.log"));
	err = seal_state_create(at("seal.state"), T0, EPOCH, seal_k0, vkey);
	err = err ?: write_str(at("seal.key"), vkey, strlen(vkey));
	err = err ?: make_log(at("good.log"), at("seal.state"), &key, true);
	/* Seals stripped: the same history, re-signed without seals. */
	unlink(at("unsealed.log"));
	err = err ?: make_log(at("unsealed.log"), NULL, &key, false);
	err = err ?: split_lines(at("good.log"), &ls);
	if (err) {
		sts_err("generate: %s", strerror(-err));
		return 2;
	}
	unlink(at("seal.state"));
	exp = fopen(at("expected.txt"), "w");
	if (!exp)
		return 2;
	for (i = 0; i < (int)ls.n; i++)
		order[i] = i;
	order[ls.n] = -1;

	/* An edited field: the transmission's destination. */
	tx = find_line(&ls, "\"type\":\"transmission\"", 0);
	line = strndup(ls.l[tx], ls.len[tx]);
	p = strstr(line, "collector.example.org");
	memcpy(p, "collector.evil0.org.", 20);
	err = write_lines("edited.log", &ls, order, tx, line);
	expect(exp, "edited.log", 1, "", "edited.log:%d: FAIL: record altered", tx + 1);
	free(line);

	/* A deleted line: the payload that was stopped. */
	n = find_line(&ls, "\"type\":\"payload_deny\"", 0);
	for (i = n; i < (int)ls.n - 1; i++)
		order[i] = i + 1;
	order[ls.n - 1] = -1;
	err = err ?: write_lines("deleted.log", &ls, order, -1, NULL);
	expect(exp, "deleted.log", 1, "", "deleted.log:%d: FAIL: seq", n + 1);

	/* Two lines swapped. */
	for (i = 0; i <= (int)ls.n; i++)
		order[i] = i < (int)ls.n ? i : -1;
	n = find_line(&ls, "\"type\":\"net_deny\"", 0);
	order[n] = n + 1;
	order[n + 1] = n;
	err = err ?: write_lines("swapped.log", &ls, order, -1, NULL);
	expect(exp, "swapped.log", 1, "", "swapped.log:%d: FAIL: seq", n + 1);
	order[n] = n;
	order[n + 1] = n + 1;

	/* A record appended after the last checkpoint, with a made-up chain. */
	{
		char *app = malloc(ls.len[ls.n - 1] + 512);

		snprintf(app, 512,
			 "{\"seq\":%zu,\"time\":\"2026-01-01T00:09:00.000000Z\",\"boot\":\"" BOOT2
			 "\",\"type\":\"transmission\",\"prev\":\"%064d\",\"endpoint\":"
			 "\"203.0.113.9:443\",\"bytes\":512}\n",
			 ls.n, 0);
		{
			FILE *f = fopen(at("appended.log"), "w");

			for (i = 0; i < (int)ls.n; i++)
				fwrite(ls.l[i], 1, ls.len[i], f);
			fputs(app, f);
			fclose(f);
		}
		expect(exp, "appended.log", 1, "", "appended.log:%zu: FAIL: prev", ls.n + 1);
		free(app);
	}

	/* A checkpoint whose signature is forged (one bit flipped in it). */
	cp = find_line(&ls, "\"type\":\"checkpoint\"", 1);
	line = strndup(ls.l[cp], ls.len[cp]);
	p = strstr(line, "\\u2014 ");
	if (!p)
		p = strstr(line, "\xe2\x80\x94 ");
	p = strchr(p, ' ') + 1; /* key name */
	p = strchr(p, ' ') + 1; /* base64(key id || signature) */
	p[10] = p[10] == 'A' ? 'B' : 'A';
	err = err ?: write_lines("badsig.log", &ls, order, cp, line);
	expect(exp, "badsig.log", 1, "", "badsig.log:%d: FAIL: checkpoint signature", cp + 1);
	free(line);

	/* The MAC of a seal cut short. */
	cp = find_line(&ls, "\"type\":\"checkpoint\"", 2);
	line = strndup(ls.l[cp], ls.len[cp]);
	p = strstr(line, "\"mac\":\"") + 7;
	memmove(p + 40, p + 64, strlen(p + 64) + 1);
	err = err ?: write_lines("truncseal.log", &ls, order, cp, line);
	expect(exp, "truncseal.log", 1, "", "truncseal.log:%d: FAIL: malformed seal", cp + 1);
	free(line);

	/* Seals stripped (the whole log re-signed without them): only the seal key tells. */
	{
		struct lines us = { 0 };

		err = err ?: split_lines(at("unsealed.log"), &us);
		expect(exp, "unsealed.log", 1, SEAL,
		       "unsealed.log:%d: FAIL: checkpoint is not sealed",
		       find_line(&us, "\"type\":\"checkpoint\"", 0) + 1);
		expect(exp, "unsealed.log", 0, "", "unsealed.log: OK: ");
		free(us.buf);
	}

	/* File cut in the middle of its last line. */
	err = err
		      ?: write_str(at("truncated.log"), ls.buf,
				   (size_t)(ls.l[ls.n - 1] - ls.buf) + ls.len[ls.n - 1] / 2);
	expect(exp, "truncated.log", 1, "", "truncated.log:%zu: FAIL: incomplete record", ls.n);

	/*
	 * History rewritten from the first checkpoint on by someone who took the device in a
	 * later epoch: keep the lines before it, re-seal with the key they hold.
	 */
	cp = find_line(&ls, "\"type\":\"checkpoint\"", 0);
	{
		FILE *f = fopen(at("resealed.log"), "w");
		struct evlog_opts o = {
			.path = at("resealed.log"),
			.log_key = &key,
			.origin = "stsguard.test/evidence",
			.seal_path = at("seal.state"),
			.checkpoint_every = 8,
			.checkpoint_interval = 3600,
			.clock = fake_clock,
			.boot_id = BOOT1,
			.no_state = true,
			.seal_in_place = true, /* the intruder's writer: no new segment */
		};
		struct evlog *log = NULL;

		for (i = 0; i < cp; i++)
			fwrite(ls.l[i], 1, ls.len[i], f);
		fclose(f);
		st.start = T0;
		st.length = EPOCH;
		memcpy(st.key, seal_k0, SEAL_KEY_LEN);
		err = err ?: seal_advance(&st, 3);
		err = err ?: seal_state_store(at("seal.state"), &st);
		fake_now = T0 * 1000000LL + (int64_t)cp * 10000000LL + 123456;
		err = err ?: evlog_open(&o, &log);
		err = err
			      ?: add(log, EV_NET_ALLOW,
				     json_pack("{si ss ss ss ss si ss}", "pid", 415, "comm",
					       "sts-agent", "hook", "cgroup/connect4", "proto",
					       "tcp", "addr", "198.51.100.7", "port", 443, "action",
					       "allowed"));
		err = err ?: evlog_close(log);
		expect(exp, "resealed.log", 1, SEAL,
		       "resealed.log:%d: FAIL: first seal is of epoch 3 but the log began in epoch "
		       "0",
		       cp + 2);
		expect(exp, "resealed.log", 0, "", "resealed.log: OK: ");
		unlink(at("seal.state"));
	}
	err = err ?: more_fixtures(exp, &key, &ls);
	err = err ?: segment_fixtures(exp, &key);
	fclose(exp);
	seal_state_wipe(&st);
	free(ls.buf);
	free(pem);
	sts_key_free(&key);
	if (err) {
		sts_err("generate: %s", strerror(-err));
		return 2;
	}
	return 0;
}
