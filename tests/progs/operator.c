// SPDX-License-Identifier: GPL-2.0-only
/*
 * What a new operator meets first (issue 17): observe mode saying what enforce mode would have
 * decided (and agreeing with it: the same catalogue is judged by the LSM in the VM lane), the
 * refusal without BPF LSM naming the boot parameter, `stsd run --json | head` not killing the
 * monitor, and commands that create nothing under /var/lib unless asked to write there.
 * Runs as root in both lanes (host: observe mode; VM: enforce).
 */
#include "test.h"
#include "core/util.h"
#include "device/cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Big enough for rogue's lines and stsd's sentences of a whole run. */
static char out[65536];

/* What the dynamic loader needs and a state dir, then extra lines; written to policy.conf. */
static const char *write_policy(const char *extra)
{
	const char *path = test__tmp("policy.conf");
	FILE *f = fopen(path, "w");

	if (!f)
		return NULL;
	fprintf(f,
		"collector 127.0.0.1:9\n"
		"allow-read /etc/ld.so.cache\n"
		"allow-read " TEST_LDSO "\n"
		"allow-read-dir " TEST_LIBDIR "\n"
		"state-dir %s\n"
		"%s",
		test__tmp("state"), extra ? extra : "");
	fclose(f);
	return path;
}

static int write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -errno;
	fputs(text, f);
	return fclose(f) ? -errno : 0;
}

/* Every JSON line of an --events file. */
static json_t *read_records(const char *path)
{
	json_t *all = json_array(), *rec;
	char line[8192];
	FILE *f = fopen(path, "r");

	while (f && fgets(line, sizeof(line), f)) {
		rec = json_loads(line, 0, NULL);
		if (rec)
			json_array_append_new(all, rec);
	}
	if (f)
		fclose(f);
	return all;
}

static const char *str(json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));

	return v ? v : "";
}

static json_t *record_of_type(json_t *recs, const char *type)
{
	json_t *rec;
	size_t i;

	json_array_foreach(recs, i, rec) if (strcmp(str(rec, "type"), type) == 0) return rec;
	return NULL;
}

/*
 * The event of kind by the batch step comm; with comm NULL, the first one whose path is not
 * skip (the exec of another binary than CMD: its name differs between lanes, /bin/true here,
 * busybox in the VM, and so does the comm, before the exec in one lane and after it in the
 * other).
 */
static json_t *step_event(json_t *recs, const char *comm, const char *kind, const char *skip)
{
	json_t *rec;
	size_t i;

	json_array_foreach(recs, i, rec)
	{
		if (strcmp(str(rec, "type"), "event") || strcmp(str(rec, "kind"), kind))
			continue;
		if (comm ? !strcmp(str(rec, "comm"), comm) : !strstr(str(rec, "path"), skip))
			return rec;
	}
	return NULL;
}

/* One step of the catalogue: a batch step of rogue, and what the LSM decides about it. */
struct step {
	const char *id; /* the batch step's comm */
	const char *action, *arg; /* rogue ACTION ARG; arg names a file of test__tmp() */
	const char *kind; /* the event's kind */
	const char *verdict, *rule; /* enforce mode's decision */
};

/* clang-format off */
static const struct step steps[] = {
	{ "r_allowed", "open", "allowed", "file_open", "allow", "allowed_by_policy" },
	{ "r_in_dir", "open", "dir/child", "file_open", "allow", "allowed_by_policy" },
	{ "r_secret", "open", "secret", "file_open", "deny", "file_not_allowed" },
	{ "w_state", "write", "state/out", "file_open", "allow", "allowed_by_policy" },
	{ "r_state", "open", "state/out", "file_open", "allow", "allowed_by_policy" },
	{ "w_outside", "write", "outbox", "file_open", "deny", "write_outside_state_dir" },
	{ "r_linked", "open", "state/linked", "file_open", "deny", "state_file_with_extra_links" },
};
/* clang-format on */

/*
 * Observe mode's "would" against the LSM's decision: the same steps, the same expected
 * decisions, read from "would"/"would_rule" without BPF LSM and from "verdict"/"rule" with it.
 * An exec outside allow-exec ends the batch.
 */
void test_operator_observe_would(void)
{
	char stsd[PATH_MAX], rogue[PATH_MAX], args[4096], extra[1024], check[1024], line[600];
	const char *pol, *events = test__tmp("events.json");
	json_t *recs = NULL, *ev;
	bool enforce, deny;
	size_t i;
	int st, n = 0;

	snprintf(stsd, sizeof(stsd), "%s/stsd", test__out_dir());
	snprintf(rogue, sizeof(rogue), "%s/tests/bin/rogue", test__out_dir());
	if (!ASSERT_OK(mkdir(test__tmp("dir"), 0755), "mkdir dir") ||
	    !ASSERT_OK(mkdir(test__tmp("state"), 0700), "mkdir state") ||
	    !ASSERT_OK(write_file(test__tmp("allowed"), "ok\n"), "write allowed") ||
	    !ASSERT_OK(write_file(test__tmp("dir/child"), "ok\n"), "write dir/child") ||
	    !ASSERT_OK(write_file(test__tmp("secret"), "serial\n"), "write secret") ||
	    !ASSERT_OK(write_file(test__tmp("secret2"), "serial\n"), "write secret2") ||
	    /* A second name inside the state dir for a file outside it. */
	    !ASSERT_OK(link(test__tmp("secret2"), test__tmp("state/linked")),
		       "hard link into the state dir"))
		return;
	snprintf(extra, sizeof(extra), "allow-read %s\nallow-read-dir %s\n", test__tmp("allowed"),
		 test__tmp("dir"));
	pol = write_policy(extra);
	if (!ASSERT_OK_PTR(pol, "write the policy"))
		return;
	for (i = 0; i < ARRAY_SIZE(steps); i++)
		n += snprintf(args + n, sizeof(args) - n, "%s %s %s , ", steps[i].id,
			      steps[i].action, test__tmp(steps[i].arg));
	snprintf(args + n, sizeof(args) - n, "x_exec exec /bin/true");
	/* Not quiet: what the operator reads on stderr is part of the test. */
	st = test__run(out, sizeof(out),
		       "%s run --policy %s --observe --user root --device-cgroup none --events %s "
		       "-- %s batch %s",
		       stsd, pol, events, rogue, args);
	recs = read_records(events);
	ev = record_of_type(recs, "start");
	if (!ASSERT_OK_PTR(ev, "start record") || !ASSERT_EQ(st, 0, "stsd run: status 0")) {
		printf("%s\n", out);
		goto cleanup;
	}
	enforce = strcmp(str(ev, "mode"), "enforce") == 0;
	for (i = 0; i < ARRAY_SIZE(steps); i++) {
		const struct step *s = &steps[i];

		ev = step_event(recs, s->id, s->kind, NULL);
		snprintf(check, sizeof(check), "%s: an event", s->id);
		if (!ASSERT_OK_PTR(ev, check))
			continue;
		snprintf(check, sizeof(check), "%s: %s %s", s->id, enforce ? "verdict" : "would",
			 s->verdict);
		ASSERT_STREQ(str(ev, enforce ? "verdict" : "would"), s->verdict, check);
		snprintf(check, sizeof(check), "%s: %s %s", s->id, enforce ? "rule" : "would_rule",
			 s->rule);
		ASSERT_STREQ(str(ev, enforce ? "rule" : "would_rule"), s->rule, check);
		if (enforce)
			continue;
		ASSERT_STREQ(str(ev, "verdict"), "observed", "observe mode: verdict observed");
		ASSERT_TRUE(json_integer_value(json_object_get(ev, "ino")) > 0,
			    "observe mode: the file's inode is recorded");
		/* Denials on stderr, what would pass only with --allowed (as in enforce mode). */
		snprintf(line, sizeof(line), "OBSERVED, would %s: pid %lld (%s)", s->verdict,
			 json_integer_value(json_object_get(ev, "pid")), s->id);
		deny = strcmp(s->verdict, "deny") == 0;
		snprintf(check, sizeof(check), "%s: stderr %s \"%s\"", s->id,
			 deny ? "says" : "does not say", line);
		ASSERT_EQ(strstr(out, line) != NULL, deny, check);
	}
	ev = step_event(recs, NULL, "exec", "/rogue");
	if (ASSERT_OK_PTR(ev, "exec /bin/true: an event")) {
		ASSERT_STREQ(str(ev, enforce ? "verdict" : "would"), "deny",
			     "exec outside allow-exec: deny");
		ASSERT_STREQ(str(ev, enforce ? "rule" : "would_rule"), "exec_not_allowed",
			     "exec outside allow-exec: exec_not_allowed");
	}
	if (!enforce) {
		ev = record_of_type(recs, "stop");
		ASSERT_TRUE(ev && json_integer_value(json_object_get(ev, "would_deny")) >= 4,
			    "stop record counts what enforce mode would deny");
	}
cleanup:
	json_decref(recs);
}

/* Without BPF LSM and without --observe: exit 3, and how to get BPF LSM. */
void test_operator_lsm_hint(void)
{
	char stsd[PATH_MAX];
	const char *pol = write_policy(NULL);
	int st;

	snprintf(stsd, sizeof(stsd), "%s/stsd", test__out_dir());
	if (!ASSERT_OK_PTR(pol, "write the policy"))
		return;
	st = test__run(out, sizeof(out),
		       "%s run --policy %s --user root --device-cgroup none -- /bin/true", stsd,
		       pol);
	if (st == 0) {
		/* The VM lane: nothing to refuse, so no hint; enforcing is what is asked. */
		ASSERT_EQ(st, 0, "BPF LSM enabled: stsd enforces instead of refusing");
		return;
	}
	ASSERT_EQ(st, 3, "no BPF LSM, no --observe: exit 3");
	ASSERT_OK_PTR(strstr(out, "lsm="), "the refusal names the lsm= boot parameter");
	ASSERT_OK_PTR(strstr(out, "CONFIG_BPF_LSM"), "the refusal says about CONFIG_BPF_LSM");
	ASSERT_OK_PTR(strstr(out, "--observe"), "the refusal names --observe");
	if (test__cur.verbose)
		printf("    %s", out);
}

/* The run's own cgroup parent, so that what is left in it after the run is this run's. */
static bool cgroup_parent(char *buf, size_t len)
{
	char root[PATH_MAX / 2];

	if (sts_cgroup2_root(root, sizeof(root)))
		return false;
	snprintf(buf, len, "%s/stsguard-test-%d", root, (int)getpid());
	return true;
}

static int count_runs(const char *parent)
{
	char cmd[PATH_MAX + 64], n[32] = "";
	int st;

	snprintf(cmd, sizeof(cmd), "ls %s | grep -c '^run-'", parent);
	st = test__run(n, sizeof(n), "%s", cmd);
	return st < 0 ? -1 : atoi(n);
}

/* stsd's exit status, the evidence log verified with its stop record, no cgroup left. */
static void check_run_ended_well(const char *what, int status, const char *log, const char *parent,
				 const char *lost_output)
{
	char check[256], buf[4096];

	snprintf(check, sizeof(check), "%s: stsd exits with CMD's status (0)", what);
	ASSERT_EQ(status, 0, check);
	snprintf(check, sizeof(check), "%s: stsctl verify accepts the evidence log", what);
	ASSERT_EQ(test__run(buf, sizeof(buf), "%s/stsctl verify %s --log-key %s/log.key.pub",
			    test__out_dir(), log, test__tmpdir()),
		  0, check);
	snprintf(check, sizeof(check), "%s: the evidence log has its stop record", what);
	ASSERT_EQ(test__run(NULL, 0, "grep -q '\"type\":\"stop\"' %s", log), 0, check);
	snprintf(check, sizeof(check), "%s: the evidence log says %s was lost", what, lost_output);
	ASSERT_EQ(test__run(NULL, 0, "grep '\"type\":\"output_lost\"' %s | grep -qF '%s'", log,
			    lost_output),
		  0, check);
	snprintf(check, sizeof(check), "%s: no policed cgroup left", what);
	ASSERT_EQ(count_runs(parent), 0, check);
}

/* `stsd run --json | head -1`: the reader goes, the monitor stays to the end. */
void test_operator_json_pipe_closed(void)
{
	char parent[PATH_MAX], status[32];
	const char *pol = write_policy(NULL), *log = test__tmp("ev.log"), *s;
	int st;

	if (!ASSERT_OK_PTR(pol, "write the policy") ||
	    !ASSERT_TRUE(cgroup_parent(parent, sizeof(parent)), "cgroup v2 root"))
		return;
	/* sleep writes nothing on stdout, so its status is 0: stsd's must be too. */
	st = test__run(
		out, sizeof(out),
		"{ { %s/stsd run --policy %s --observe --user root --device-cgroup none "
		"--cgroup-parent %s --log %s --json -- /bin/sleep 1; echo \"stsd-status=$?\" "
		">&2; } | head -1; }",
		test__out_dir(), pol, parent, log);
	ASSERT_EQ(st, 0, "the pipeline ran");
	s = strstr(out, "stsd-status=");
	if (ASSERT_OK_PTR(s, "stsd's status printed")) {
		snprintf(status, sizeof(status), "%s", s + strlen("stsd-status="));
		check_run_ended_well("--json | head -1", atoi(status), log, parent,
				     "stdout (--json)");
	}
	ASSERT_OK_PTR(strstr(out, "stdout (--json): write failed"),
		      "stsd says on stderr that the JSON output was lost");
	ASSERT_OK_PTR(strstr(out, "\"type\":\"start\""), "head got the start record");
	rmdir(parent);
}

/* --events on a full disk (/dev/full), and stderr closed: the run goes on regardless. */
void test_operator_outputs_full_or_closed(void)
{
	char parent[PATH_MAX];
	const char *pol = write_policy(NULL), *log = test__tmp("ev.log");
	int st;

	if (!ASSERT_OK_PTR(pol, "write the policy") ||
	    !ASSERT_TRUE(cgroup_parent(parent, sizeof(parent)), "cgroup v2 root"))
		return;
	st = test__run(out, sizeof(out),
		       "%s/stsd run --policy %s --observe --user root --device-cgroup none "
		       "--cgroup-parent %s --log %s --events /dev/full -- /bin/true",
		       test__out_dir(), pol, parent, log);
	check_run_ended_well("--events /dev/full", st, log, parent, "/dev/full");
	ASSERT_OK_PTR(strstr(out, "/dev/full: write failed: No space left on device"),
		      "stsd says on stderr that the events file is full");

	unlink(log);
	/* The policed command's stderr is closed too: true does not mind. */
	st = test__run(out, sizeof(out),
		       "(exec 2>&-; %s/stsd run --policy %s --observe --user root "
		       "--device-cgroup none --cgroup-parent %s --log %s -- /bin/true)",
		       test__out_dir(), pol, parent, log);
	check_run_ended_well("stderr closed", st, log, parent, "stderr");
	rmdir(parent);
}

/* Reading creates nothing; writing creates the state dir alone and says where it wrote. */
void test_operator_state_dir_creation(void)
{
	char buf[4096];
	struct stat st;
	bool had_default = access("/var/lib/stsguard", F_OK) == 0;
	const char *ctl = test__out_dir();
	int rc;

	rc = test__run(buf, sizeof(buf), "%s/stsctl consent status --state-dir %s", ctl,
		       test__tmp("none"));
	ASSERT_EQ(rc, 0, "consent status of a missing state dir");
	ASSERT_NEQ(access(test__tmp("none"), F_OK), 0, "consent status creates no directory");
	rc = test__run(buf, sizeof(buf), "%s/stsctl optout --status --state-dir %s", ctl,
		       test__tmp("none"));
	ASSERT_NEQ(access(test__tmp("none"), F_OK), 0, "optout --status creates no directory");

	rc = test__run(buf, sizeof(buf), "%s/stsctl consent grant --country FR --state-dir %s", ctl,
		       test__tmp("a/b"));
	ASSERT_EQ(rc, 2, "grant into a state dir whose parent is missing: refused");
	ASSERT_NEQ(access(test__tmp("a"), F_OK), 0, "and no parent is created");
	ASSERT_OK_PTR(strstr(buf, "parent directory does not exist"), "and it says why");

	rc = test__run(buf, sizeof(buf), "%s/stsctl consent grant --country XX --state-dir %s", ctl,
		       test__tmp("sd"));
	ASSERT_EQ(rc, 2, "grant of an unassigned code: refused");
	ASSERT_NEQ(access(test__tmp("sd"), F_OK), 0, "before creating anything");

	rc = test__run(buf, sizeof(buf), "%s/stsctl consent grant --country FR --state-dir %s", ctl,
		       test__tmp("sd"));
	ASSERT_EQ(rc, 0, "grant");
	ASSERT_OK_PTR(strstr(buf, "created the state directory"), "grant says it created it");
	snprintf(out, sizeof(out), "recorded in %s/consent.json", test__tmp("sd"));
	ASSERT_OK_PTR(strstr(buf, out), "grant says where it recorded");
	ASSERT_TRUE(stat(test__tmp("sd"), &st) == 0 && (st.st_mode & 07777) == 0700,
		    "the state dir is 0700, as stsd makes it");
	rc = test__run(buf, sizeof(buf), "%s/stsctl optout --state-dir %s", ctl, test__tmp("sd"));
	ASSERT_EQ(rc, 0, "optout");
	ASSERT_TRUE(strstr(buf, "created the state directory") == NULL,
		    "optout into an existing state dir creates nothing");
	snprintf(out, sizeof(out), "recorded in %s/optout.json", test__tmp("sd"));
	ASSERT_OK_PTR(strstr(buf, out), "optout says where it recorded");

	/* stsd run --log: its key next to the log, not in /var/lib/stsguard. */
	if (!ASSERT_OK(mkdir(test__tmp("logs"), 0700), "mkdir logs") ||
	    !ASSERT_OK_PTR(write_policy(NULL), "write the policy"))
		return;
	rc = test__run(buf, sizeof(buf),
		       "%s/stsd run --policy %s --observe --user root --device-cgroup none "
		       "--log %s -- /bin/true",
		       ctl, test__tmp("policy.conf"), test__tmp("logs/ev.log"));
	ASSERT_EQ(rc, 0, "stsd run --log, no --log-key");
	ASSERT_EQ(access(test__tmp("logs/log.key"), F_OK), 0, "the log key is next to the log");
	ASSERT_EQ(access(test__tmp("logs/log.key.pub"), F_OK), 0, "and its public half");
	snprintf(out, sizeof(out), "created the evidence log key %s", test__tmp("logs/log.key"));
	ASSERT_OK_PTR(strstr(buf, out), "stsd says it created the key, and where");
	ASSERT_EQ(test__run(NULL, 0, "%s/stsctl verify %s --log-key %s", ctl,
			    test__tmp("logs/ev.log"), test__tmp("logs/log.key.pub")),
		  0, "the log verifies with that key");
	/* Only checked where it was missing: a real installation's directory is left alone. */
	if (!had_default) {
		test__run(buf, sizeof(buf), "%s/stsctl consent status", ctl);
		ASSERT_NEQ(access("/var/lib/stsguard", F_OK), 0,
			   "no /var/lib/stsguard after consent status and stsd run --log");
	}
}
