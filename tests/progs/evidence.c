// SPDX-License-Identifier: GPL-2.0-only
/*
 * The evidence log as `stsd run --observe --log` writes it: each observed open recorded as
 * what happened (opened or failed, with the inode it opened) and as what enforce mode would
 * have done with it (file_allow for a file the policy allows, file_deny for one it refuses).
 */
#include "test.h"
#include "activation_helpers.h"
#include "core/util.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* The record of the batch action whose comm is id (first one), or NULL; owned by arr. */
static json_t *record_of(json_t *arr, const char *id)
{
	json_t *r;
	size_t i;

	json_array_foreach(arr, i, r)
	{
		const char *t = json_string_value(json_object_get(r, "type"));

		if (t && strncmp(t, "file_", 5) == 0 &&
		    strcmp(json_string_value(json_object_get(r, "comm")) ?: "", id) == 0)
			return r;
	}
	return NULL;
}

/* The loader's files, a state dir and allow-read ok: the policy of these tests, at path. */
static int write_policy(const char *path, const char *ok)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -errno;
	fprintf(f,
		"collector 127.0.0.1:9\n"
		"allow-read /etc/ld.so.cache\n"
		"allow-read " TEST_LDSO "\n"
		"allow-read-dir " TEST_LIBDIR "\n"
		"state-dir %s/state\n"
		"allow-read %s\n",
		test__tmpdir(), ok);
	return fclose(f) ? -errno : 0;
}

/*
 * argv of `stsd run --policy POLICY --log LOG --log-key KEY [--log-max-size MAX]
 * [--seal-state SEAL] --user root --observe -q -- ROGUE batch`, for the caller to add the
 * batch's actions to; returns how many entries it wrote.
 */
static int rogue_batch_argv(const char **argv, const char *stsd, const char *polpath,
			    const char *log, const char *key, const char *max, const char *seal,
			    const char *rogue)
{
	int a = 0;

	argv[a++] = stsd;
	argv[a++] = "run";
	argv[a++] = "--policy";
	argv[a++] = polpath;
	argv[a++] = "--log";
	argv[a++] = log;
	argv[a++] = "--log-key";
	argv[a++] = key;
	if (max) {
		argv[a++] = "--log-max-size";
		argv[a++] = max;
	}
	if (seal) {
		argv[a++] = "--seal-state";
		argv[a++] = seal;
	}
	argv[a++] = "--user";
	argv[a++] = "root";
	argv[a++] = "--observe";
	argv[a++] = "-q";
	argv[a++] = "--";
	argv[a++] = rogue;
	argv[a++] = "batch";
	return a;
}

void test_observe_evidence_records(void)
{
	char polpath[512], log[512], key[512], pub[512], ok[512], secret[512], missing[512],
		rogue[512], stsd[512], out[4096];
	const char *argv[40];
	json_t *arr = json_array(), *r;
	struct stat st_ok, st_secret;
	char *buf = NULL, *p, *nl;
	size_t len;
	int n = 0, status, fd;
	pid_t pid;

	snprintf(rogue, sizeof(rogue), "%s/tests/bin/rogue", test__out_dir());
	snprintf(stsd, sizeof(stsd), "%s/stsd", test__out_dir());
	snprintf(polpath, sizeof(polpath), "%s/policy.conf", test__tmpdir());
	snprintf(log, sizeof(log), "%s/evidence.log", test__tmpdir());
	snprintf(key, sizeof(key), "%s/log.key", test__tmpdir());
	snprintf(pub, sizeof(pub), "%s/log.key.pub", test__tmpdir());
	snprintf(ok, sizeof(ok), "%s/allowed-file", test__tmpdir());
	snprintf(secret, sizeof(secret), "%s/secret-file", test__tmpdir());
	snprintf(missing, sizeof(missing), "%s/no-such-file", test__tmpdir());
	for (n = 0; n < 2; n++) {
		fd = open(n ? secret : ok, O_CREAT | O_WRONLY | O_TRUNC, 0644);
		if (!ASSERT_GE(fd, 0, "create a file"))
			goto cleanup;
		close(fd);
	}
	stat(ok, &st_ok);
	stat(secret, &st_secret);
	if (!ASSERT_OK(write_policy(polpath, ok), "write the policy"))
		goto cleanup;
	n = rogue_batch_argv(argv, stsd, polpath, log, key, NULL, NULL, rogue);
	argv[n++] = "okfile";
	argv[n++] = "open";
	argv[n++] = ok;
	argv[n++] = ",";
	argv[n++] = "secret";
	argv[n++] = "open";
	argv[n++] = secret;
	argv[n++] = ",";
	argv[n++] = "missing";
	argv[n++] = "open";
	argv[n++] = missing;
	argv[n] = NULL;
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(null, 1);
		execv(argv[0], (char **)argv);
		_exit(127);
	}
	if (!ASSERT_GE(pid, 0, "fork") || !ASSERT_EQ(waitpid(pid, &status, 0), pid, "wait"))
		goto cleanup;
	ASSERT_EQ(WEXITSTATUS(status), 0, "the batch ran to its end (observe mode stops nothing)");
	if (!ASSERT_OK(sts_read_file(log, 1 << 22, &buf, &len), "read the evidence log"))
		goto cleanup;
	for (p = buf; (nl = strchr(p, '\n')); p = nl + 1)
		json_array_append_new(arr, json_loadb(p, nl - p, 0, NULL));
	if (!strstr(buf, "\"mode\":\"observe\"")) {
		/* BPF LSM present: enforce mode took over; the refused open has its record. */
		r = record_of(arr, "secret");
		if (ASSERT_OK_PTR(r, "enforce mode: the refused open is recorded")) {
			ASSERT_STREQ(json_string_value(json_object_get(r, "type")), "file_deny",
				     "as file_deny");
			ASSERT_STREQ(json_string_value(json_object_get(r, "action")), "denied",
				     "denied");
		}
		goto verify;
	}
	r = record_of(arr, "okfile");
	if (r &&
	    strcmp(json_string_value(json_object_get(r, "hook")) ?: "", "lsm/file_open") == 0) {
		/*
		 * BPF LSM present: its hook judged the opens in observe mode; it sees only files
		 * that open, with their inode, and allows what the policy allows.
		 */
		ASSERT_STREQ(json_string_value(json_object_get(r, "type")), "file_allow",
			     "lsm observe: the allowed open is a file_allow");
		ASSERT_EQ(json_integer_value(json_object_get(r, "ino")), (json_int_t)st_ok.st_ino,
			  "lsm observe: with its inode");
		r = record_of(arr, "secret");
		if (ASSERT_OK_PTR(r, "lsm observe: the refused open is recorded")) {
			ASSERT_STREQ(json_string_value(json_object_get(r, "type")), "file_deny",
				     "as file_deny");
			ASSERT_EQ(json_integer_value(json_object_get(r, "ino")),
				  (json_int_t)st_secret.st_ino, "with its inode");
		}
		goto verify;
	}
	if (ASSERT_OK_PTR(r, "the allowed open is recorded")) {
		ASSERT_STREQ(json_string_value(json_object_get(r, "type")), "file_allow",
			     "as file_allow: enforce mode would allow it");
		ASSERT_STREQ(json_string_value(json_object_get(r, "path")), ok, "its path");
		ASSERT_EQ(json_integer_value(json_object_get(r, "ino")), (json_int_t)st_ok.st_ino,
			  "the inode it opened");
		ASSERT_TRUE(json_integer_value(json_object_get(r, "dev")) != 0, "and its device");
		ASSERT_STREQ(json_string_value(json_object_get(r, "result")), "opened", "opened");
		ASSERT_STREQ(json_string_value(json_object_get(r, "action")), "observed",
			     "observed");
		ASSERT_TRUE(strstr(json_string_value(json_object_get(r, "explain")) ?: "", ok) !=
				    NULL,
			    "the explanation names the file");
	}
	r = record_of(arr, "secret");
	if (ASSERT_OK_PTR(r, "the refused open is recorded")) {
		ASSERT_STREQ(json_string_value(json_object_get(r, "type")), "file_deny",
			     "as file_deny: enforce mode would refuse it");
		ASSERT_EQ(json_integer_value(json_object_get(r, "ino")),
			  (json_int_t)st_secret.st_ino, "with the inode it opened");
		ASSERT_STREQ(json_string_value(json_object_get(r, "would")), "deny", "would deny");
	}
	r = record_of(arr, "missing");
	if (ASSERT_OK_PTR(r, "the failed open is recorded")) {
		ASSERT_STREQ(json_string_value(json_object_get(r, "result")), "failed", "failed");
		ASSERT_STREQ(json_string_value(json_object_get(r, "errno")), "ENOENT", "ENOENT");
		ASSERT_STREQ(json_string_value(json_object_get(r, "path")), missing, "its path");
	}
verify:
	ASSERT_EQ(test__run(out, sizeof(out), "%s/stsctl verify %s --log-key %s", test__out_dir(),
			    log, pub),
		  0, "stsctl verify accepts the log, every record signed");
cleanup:
	json_decref(arr);
	free(buf);
}

/* One `stsd run` of rogue opening `ok` n times, with the log options given; its exit status. */
static int run_opens(const char *polpath, const char *log, const char *key, const char *max,
		     const char *seal, const char *ok, int n, char *err, size_t errsz)
{
	char stsd[512], rogue[512], errpath[512];
	const char *argv[300];
	int a = 0, i, status;
	pid_t pid;

	snprintf(stsd, sizeof(stsd), "%s/stsd", test__out_dir());
	snprintf(rogue, sizeof(rogue), "%s/tests/bin/rogue", test__out_dir());
	snprintf(errpath, sizeof(errpath), "%s/stsd.err", test__tmpdir());
	a = rogue_batch_argv(argv, stsd, polpath, log, key, max, seal, rogue);
	for (i = 0; i < n; i++) {
		if (i)
			argv[a++] = ",";
		argv[a++] = "opener";
		argv[a++] = "open";
		argv[a++] = ok;
	}
	argv[a] = NULL;
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY),
		    e = open(errpath, O_CREAT | O_WRONLY | O_TRUNC, 0600);

		dup2(null, 1);
		dup2(e, 2);
		execv(argv[0], (char **)argv);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	err[0] = '\0';
	{
		FILE *f = fopen(errpath, "r");
		size_t got = f ? fread(err, 1, errsz - 1, f) : 0;

		err[got] = '\0';
		if (f)
			fclose(f);
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/* The older segments of log, LOG.<12 digits>, in the order of their names; how many. */
static size_t log_segments(const char *log, char segs[][512], size_t max)
{
	char pat[600];
	glob_t g = { 0 };
	size_t n = 0;

	snprintf(pat, sizeof(pat), "%s.[0-9]*", log);
	if (glob(pat, 0, NULL, &g) == 0)
		for (; n < g.gl_pathc && n < max; n++)
			snprintf(segs[n], 512, "%s", g.gl_pathv[n]);
	ASSERT_TRUE(g.gl_pathc <= max, "room for every segment");
	globfree(&g);
	return n;
}

/*
 * The segments of a rotated log and the log itself verify as one chain, in order; with one
 * dropped between them, or two swapped, they do not; the newest verifies on its own.
 */
static void check_segment_chain(const char *log, char segs[][512], size_t nsegs, const char *pub)
{
	char cmd[8192], out[4096];
	size_t i, n;

	n = snprintf(cmd, sizeof(cmd), "%s/stsctl verify", test__out_dir());
	for (i = 0; i < nsegs && n < sizeof(cmd); i++)
		n += snprintf(cmd + n, sizeof(cmd) - n, " %s", segs[i]);
	if (n < sizeof(cmd))
		snprintf(cmd + n, sizeof(cmd) - n, " %s --log-key %s", log, pub);
	if (!ASSERT_EQ(test__run(out, sizeof(out), "%s", cmd), 0,
		       "the segments and the log verify as one chain"))
		printf("  %s\n", out);
	if (nsegs >= 2) {
		ASSERT_EQ(test__run(out, sizeof(out), "%s/stsctl verify %s %s --log-key %s",
				    test__out_dir(), segs[nsegs - 2], log, pub),
			  1, "a segment dropped between them: refused");
		ASSERT_EQ(test__run(out, sizeof(out), "%s/stsctl verify %s %s %s --log-key %s",
				    test__out_dir(), segs[nsegs - 1], segs[nsegs - 2], log, pub),
			  1, "segments out of order: refused");
	}
	ASSERT_EQ(test__run(out, sizeof(out), "%s/stsctl verify %s --log-key %s", test__out_dir(),
			    log, pub),
		  0, "the newest segment verifies on its own");
}

/*
 * stsd run --log-max-size: the log goes on in new segments as it grows; the segments verify
 * as one chain in the order of their names, and not with one dropped or out of order. Seals
 * turned on for a log with unsealed history: that history becomes a segment of its own and
 * the sealed one passes verify --seal-key.
 */
void test_stsd_run_log_rotation(void)
{
	char polpath[512], log[512], key[512], pub[512], ok[512], seal[512], vkey[256], err[2048],
		out[4096], segs[32][512];
	size_t nsegs = 0, i;
	char outdir[PATH_MAX];
	struct stat st;
	int fd, rc;

	snprintf(polpath, sizeof(polpath), "%s/policy.conf", test__tmpdir());
	snprintf(log, sizeof(log), "%s/rot.log", test__tmpdir());
	snprintf(key, sizeof(key), "%s/log.key", test__tmpdir());
	snprintf(pub, sizeof(pub), "%s/log.key.pub", test__tmpdir());
	snprintf(ok, sizeof(ok), "%s/allowed-file", test__tmpdir());
	snprintf(seal, sizeof(seal), "%s/seal.state", test__tmpdir());
	fd = open(ok, O_CREAT | O_WRONLY | O_TRUNC, 0644);
	if (!ASSERT_GE(fd, 0, "create a file") ||
	    !ASSERT_OK_PTR(realpath(test__out_dir(), outdir), "build dir"))
		return;
	close(fd);
	if (!ASSERT_OK(write_policy(polpath, ok), "write the policy"))
		return;
	rc = run_opens(polpath, log, key, "100", NULL, ok, 1, err, sizeof(err));
	ASSERT_EQ(rc, 2, "a size below 4096 bytes: usage error");
	ASSERT_TRUE(strstr(err, "--log-max-size 100") != NULL, "named");
	ASSERT_EQ(stat(log, &st), -1, "and no log");
	for (i = 0; i < 4; i++) {
		rc = run_opens(polpath, log, key, "6K", NULL, ok, 40, err, sizeof(err));
		if (!ASSERT_EQ(rc, 0, "stsd run --log-max-size 6K"))
			printf("  stderr: %s\n", err);
	}
	nsegs = log_segments(log, segs, ARRAY_SIZE(segs));
	if (!ASSERT_GE(nsegs, 2, "the log was rotated into older segments"))
		goto cleanup;
	for (i = 0; i < nsegs; i++) {
		ASSERT_OK(stat(segs[i], &st), "segment");
		/* Past the size by at most the last record, a checkpoint and the stop. */
		ASSERT_TRUE(st.st_size < 12 * 1024, "a segment is about the size asked");
	}
	check_segment_chain(log, segs, nsegs, pub);

	/* Seals on, now: the unsealed history goes into a segment of its own. */
	rc = test__run(out, sizeof(out), "%s/stsctl seal-init --state %s --epoch 3600",
		       test__out_dir(), seal);
	if (!ASSERT_EQ(rc, 0, "seal-init"))
		goto cleanup;
	snprintf(vkey, sizeof(vkey), "%s", strstr(out, "sts-seal-v1:") ?: "");
	vkey[strcspn(vkey, "\n")] = '\0';
	rc = run_opens(polpath, log, key, NULL, seal, ok, 3, err, sizeof(err));
	ASSERT_EQ(rc, 0, "stsd run --seal-state on the unsealed log");
	ASSERT_TRUE(strstr(err, "seals turned on") != NULL, "stsd says where the history went");
	rc = test__run(out, sizeof(out), "%s/stsctl verify %s --log-key %s --seal-key %s",
		       test__out_dir(), log, pub, vkey);
	if (!ASSERT_EQ(rc, 0, "the sealed segment passes verify --seal-key"))
		printf("  %s\n", out);
	rc = test__run(out, sizeof(out),
		       "cd %s && %s/stsctl verify rot.log.[0-9]* rot.log --log-key %s",
		       test__tmpdir(), outdir, pub);
	if (!ASSERT_EQ(rc, 0, "and every segment, in order, is still one chain"))
		printf("  %s\n", out);
cleanup:;
}

/* Occurrences of needle in the file at path (-1 if unreadable). */
static int file_count(const char *path, const char *needle)
{
	char *buf = NULL;
	size_t len;
	int n;

	if (sts_read_file(path, 64 << 20, &buf, &len))
		return -1;
	n = act_count_of(buf, needle);
	free(buf);
	return n;
}

/*
 * A rotation that fails (here: the name it would take exists already, and link(2) never
 * replaces a file) is said once on standard error and turned off: the log goes on growing
 * past the size, with every record a run without rotation writes, and verifies.
 */
void test_stsd_run_log_rotation_fails(void)
{
	char polpath[512], log[512], ref[512], key[512], pub[512], ok[512], name[600], err[2048],
		out[4096];
	struct stat st;
	int fd, rc, i, untouched = 0;

	snprintf(polpath, sizeof(polpath), "%s/policy.conf", test__tmpdir());
	snprintf(log, sizeof(log), "%s/rotfail.log", test__tmpdir());
	snprintf(ref, sizeof(ref), "%s/rotref.log", test__tmpdir());
	snprintf(key, sizeof(key), "%s/log.key", test__tmpdir());
	snprintf(pub, sizeof(pub), "%s/log.key.pub", test__tmpdir());
	snprintf(ok, sizeof(ok), "%s/allowed-file", test__tmpdir());
	fd = open(ok, O_CREAT | O_WRONLY | O_TRUNC, 0644);
	if (!ASSERT_GE(fd, 0, "create a file"))
		return;
	close(fd);
	if (!ASSERT_OK(write_policy(polpath, ok), "write the policy"))
		return;
	rc = run_opens(polpath, ref, key, NULL, NULL, ok, 40, err, sizeof(err));
	if (!ASSERT_EQ(rc, 0, "a run without rotation, for reference"))
		printf("  stderr: %s\n", err);
	/* Every name a rotation within the first 400 records would take. */
	for (i = 1; i <= 400; i++) {
		snprintf(name, sizeof(name), "%s.%012d", log, i);
		fd = open(name, O_CREAT | O_EXCL | O_WRONLY, 0600);
		if (!ASSERT_GE(fd, 0, "a file in the way"))
			return;
		close(fd);
	}
	rc = run_opens(polpath, log, key, "4K", NULL, ok, 40, err, sizeof(err));
	if (!ASSERT_EQ(rc, 0, "stsd run --log-max-size 4K, rotation impossible: still exit 0"))
		printf("  stderr: %s\n", err);
	ASSERT_EQ(act_count_of(err, "rotation to "), 1, "the failure is said once");
	if (!ASSERT_TRUE(strstr(err, "failed: File exists (rotation off, the log grows)"),
			 "with its cause, and that rotation is off"))
		printf("  stderr: %s\n", err);
	ASSERT_OK(stat(log, &st), "the log is there");
	ASSERT_TRUE(st.st_size > 8 * 1024, "it grew past twice the size");
	for (i = 1; i <= 400; i++) {
		snprintf(name, sizeof(name), "%s.%012d", log, i);
		untouched += stat(name, &st) == 0 && st.st_size == 0;
	}
	ASSERT_EQ(untouched, 400, "no file in the way replaced");
	ASSERT_EQ(file_count(log, "\"reason\":\"rotation\""), 0, "no new segment");
	ASSERT_EQ(file_count(log, ok), file_count(ref, ok),
		  "every record of the opens is in the log");
	ASSERT_EQ(file_count(log, "\"type\":\"stop\""), 1, "down to the run's last record");
	rc = test__run(out, sizeof(out), "%s/stsctl verify %s --log-key %s", test__out_dir(), log,
		       pub);
	if (!ASSERT_EQ(rc, 0, "the log verifies"))
		printf("  %s\n", out);
}

/*
 * stsd daemon with log-max-size in stsd.conf: the monitor's own log (each run's start and
 * stop, the agent's opens, the activation) goes on in segments at that size, one chain.
 */
void test_stsd_daemon_log_rotation(void)
{
	char segs[32][512], pub[700];
	struct act_env e;
	struct stat st;
	size_t nsegs, i;

	if (!act_setup(&e, "rotd", NULL, "log-max-size 4K\n", NULL))
		goto cleanup;
	for (i = 0; i < 3; i++)
		ASSERT_EQ(act_stsd_once(&e), 0, "stsd daemon --once");
	nsegs = log_segments(e.log, segs, ARRAY_SIZE(segs));
	if (!ASSERT_GE(nsegs, 2, "the daemon rotated its log"))
		goto cleanup;
	for (i = 0; i < nsegs; i++) {
		ASSERT_OK(stat(segs[i], &st), "segment");
		/*
		 * The size, then the record past it (a start record lists every hook), a
		 * checkpoint, and the new segment's copied checkpoint and range.
		 */
		ASSERT_TRUE(st.st_size < 16 * 1024, "a segment is about the size asked");
	}
	ASSERT_EQ(act_log_count(&e, "\"reason\":\"rotation\""), 1,
		  "the log starts as a rotated segment");
	snprintf(pub, sizeof(pub), "%s/log.key.pub", e.state);
	check_segment_chain(e.log, segs, nsegs, pub);
cleanup:
	act_teardown(&e);
}
