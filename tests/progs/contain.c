// SPDX-License-Identifier: GPL-2.0-only
/*
 * The containment beside the BPF programs (issue 13): the seccomp filter's allowlist and what
 * a policy may lift, the process hygiene, the mechanism per guarantee in the start record and
 * in `stsctl report`. The refusals themselves are rows of the adversary catalogue (every
 * profile); here, what must keep working and what the records say. Runs in every lane.
 */
#include "test.h"
#include "stsd_helpers.h"
#include "core/util.h"

#include <libaudit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define EXIT_EPERM (100 + EPERM)

static char rogue[512];

static void policy(char *buf, size_t len, const char *extra)
{
	snprintf(rogue, sizeof(rogue), "%s/tests/bin/rogue", test__out_dir());
	snprintf(buf, len,
		 "collector 127.0.0.1:9\n"
		 "allow-read /etc/ld.so.cache\n"
		 "allow-read /lib64/ld-linux-x86-64.so.2\n"
		 "allow-read-dir /lib/x86_64-linux-gnu\n"
		 "state-dir %s/state\n%s",
		 test__tmpdir(), extra ? extra : "");
}

/* Run one rogue action; returns its status (or -1 when stsd could not run it). */
static int run1(const char *extra, const char *const args[], struct stsd_result *r)
{
	char pol[2048];
	const char *argv[12] = { rogue };
	int i;

	policy(pol, sizeof(pol), extra);
	for (i = 0; args[i] && i < 10; i++)
		argv[i + 1] = args[i];
	if (!ASSERT_OK(stsd_run(pol, false, argv, r), "run stsd"))
		return -1;
	return r->status;
}

static json_t *start_record(const struct stsd_result *r)
{
	json_t *rec;
	size_t i;

	json_array_foreach(r->records, i,
			   rec) if (strcmp(json_string_value(json_object_get(rec, "type")) ?: "",
					   "start") == 0) return rec;
	return NULL;
}

static bool enforcing(const struct stsd_result *r)
{
	const char *m = stsd_mode(r);

	return m && strcmp(m, "enforce") == 0;
}

/* What the allowlists keep working, and what allow-syscall and env lines lift. */
void test_contain_allowed(void)
{
	struct stsd_result r = { 0 };
	json_t *ev;

	/* FIONREAD is on the ioctl allowlist: /dev/null answers ENOTTY, not the filter. */
	if (run1(NULL, (const char *[]){ "ioctl", "0", "0x541B", NULL }, &r) < 0)
		return;
	if (!enforcing(&r)) {
		test__skip("neither BPF LSM nor Landlock: stsd refuses to enforce here");
		goto out;
	}
	ASSERT_EQ(r.status, 100 + ENOTTY, "FIONREAD reaches the device (ENOTTY), not seccomp");
	ASSERT_FALSE(stsd_find_event(&r, "syscall", "deny", "syscall_not_allowed"),
		     "no refusal recorded for an allowed ioctl");
	stsd_result_free(&r);

	/*
	 * The same request with high bits set: the kernel reads the low 32 bits, and so does the
	 * filter: still FIONREAD, still allowed (and TIOCSTI with high bits, catalogue n07, still
	 * refused). A filter comparing all 64 bits would refuse this and let n07 through.
	 */
	run1(NULL, (const char *[]){ "ioctl-high", "0", "0x541B", NULL }, &r);
	ASSERT_EQ(r.status, 100 + ENOTTY, "FIONREAD with high bits set: the same request");
	stsd_result_free(&r);

	/* keyctl refused by default, allowed by an allow-syscall line. */
	run1(NULL, (const char *[]){ "keyctl", NULL }, &r);
	ASSERT_EQ(r.status, EXIT_EPERM, "keyctl refused by default");
	ev = stsd_find_event(&r, "syscall", "deny", "syscall_not_allowed");
	ASSERT_OK_PTR(ev, "the refusal is an event");
	ASSERT_STREQ(json_string_value(json_object_get(ev, "by")), "seccomp", "by seccomp");
	ASSERT_STREQ(json_string_value(json_object_get(ev, "syscall")), "keyctl",
		     "it names the system call");
	stsd_result_free(&r);
	run1("allow-syscall keyctl\n", (const char *[]){ "keyctl", NULL }, &r);
	ASSERT_EQ(r.status, 0, "keyctl allowed by allow-syscall keyctl (its own session keyring)");
	stsd_result_free(&r);

	/* The launcher's environment: only what an env line names. */
	setenv("STS_CONTAIN_VAR", "v-42", 1);
	run1(NULL, (const char *[]){ "env", "STS_CONTAIN_VAR", "v-42", NULL }, &r);
	ASSERT_EQ(r.status, 1, "without env line: not passed");
	stsd_result_free(&r);
	run1("env STS_CONTAIN_VAR\n", (const char *[]){ "env", "STS_CONTAIN_VAR", "v-42", NULL },
	     &r);
	ASSERT_EQ(r.status, 0, "env STS_CONTAIN_VAR: passed");
	stsd_result_free(&r);
	run1(NULL, (const char *[]){ "env", "LANG", "C.UTF-8", NULL }, &r);
	ASSERT_EQ(r.status, 0, "LANG=C.UTF-8");
	unsetenv("STS_CONTAIN_VAR");
	/* Signals to itself stay allowed (raise uses tgkill on its own pid). */
	stsd_result_free(&r);
	run1(NULL, (const char *[]){ "kill", "self", "0", NULL }, &r);
	ASSERT_EQ(r.status, 0, "kill(own pid, 0): allowed");
out:
	stsd_result_free(&r);
}

/* The G7 record: a mechanism for every guarantee, and stsctl report prints them. */
void test_contain_guarantees_recorded(void)
{
	char pol[2048], log[600], pub[600], *out = NULL;
	const char *extra[] = { "--log", log, NULL };
	struct stsd_result r = { 0 };
	json_t *start, *g, *c;
	size_t i;
	bool files_enforced = false;

	snprintf(log, sizeof(log), "%s/contain.log", test__tmpdir());
	snprintf(pub, sizeof(pub), "%s/log.key.pub", test__tmpdir());
	policy(pol, sizeof(pol), NULL);
	stsd_extra_args = extra;
	if (!ASSERT_OK(stsd_run(pol, false, (const char *[]){ rogue, "sleep", "0", NULL }, &r),
		       "run stsd"))
		goto out;
	start = start_record(&r);
	if (!start) {
		test__skip("neither BPF LSM nor Landlock: stsd refuses to enforce here");
		goto out;
	}
	ASSERT_GE((int)json_array_size(json_object_get(start, "guarantees")), 10,
		  "the start record lists the guarantees");
	json_array_foreach(json_object_get(start, "guarantees"), i, g)
	{
		ASSERT_STREQ(json_string_value(json_object_get(g, "mode")), "enforce",
			     json_string_value(json_object_get(g, "guarantee")));
		ASSERT_GE((int)json_array_size(json_object_get(g, "mechanisms")), 1,
			  "each with a mechanism");
		if (strcmp(json_string_value(json_object_get(g, "guarantee")), "files (G2)") == 0)
			files_enforced = true;
	}
	ASSERT_TRUE(files_enforced, "files (G2) are enforced (BPF LSM or Landlock)");
	c = json_object_get(start, "containment");
	ASSERT_OK_PTR(json_object_get(c, "ioctl_allowed"), "the ioctl allowlist is recorded");
	ASSERT_OK_PTR(json_object_get(c, "syscalls_refused"), "the refused calls are recorded");
	out = malloc(1 << 16);
	if (!out)
		goto out;
	ASSERT_EQ(test__run(out, 1 << 16, "%s/stsctl report %s --log-key %s", test__out_dir(), log,
			    pub),
		  0, "stsctl report");
	ASSERT_OK_PTR(strstr(out, "enforce  files (G2): "), "report: the files guarantee");
	ASSERT_OK_PTR(strstr(out, "seccomp: refused with EPERM"), "report: seccomp's refusals");
	/* The HTML report: the same table, mechanism per guarantee. */
	{
		char html[700], *page = NULL;
		size_t len;

		snprintf(html, sizeof(html), "%s/contain.html", test__tmpdir());
		ASSERT_EQ(test__run(out, 1 << 16, "%s/stsctl report %s --log-key %s --html %s",
				    test__out_dir(), log, pub, html),
			  0, "stsctl report --html");
		if (ASSERT_OK(sts_read_file(html, 4 << 20, &page, &len), "the page")) {
			ASSERT_OK_PTR(strstr(page, "<h3>Mechanism per guarantee</h3>"),
				      "html: the mechanism table");
			ASSERT_OK_PTR(strstr(page, "<tr><td>files (G2)</td><td>"),
				      "html: the files guarantee");
			ASSERT_OK_PTR(strstr(page, "<td>seccomp refusals</td>"),
				      "html: seccomp's refusals");
			ASSERT_TRUE(strstr(page, "BPF LSM") || strstr(page, "Landlock ABI"),
				    "html: the files mechanism named");
		}
		free(page);
	}
out:
	stsd_extra_args = NULL;
	free(out);
	stsd_result_free(&r);
}

/* allow-unix peers only BPF LSM decides: without it, refused unless --observe. */
void test_contain_unix_needs_lsm(void)
{
	char pol[2048];
	struct stsd_result r = { 0 };

	policy(pol, sizeof(pol), "allow-unix /run/sts-contain.sock\n");
	if (!ASSERT_OK(stsd_run(pol, false, (const char *[]){ rogue, "sleep", "0", NULL }, &r),
		       "run stsd"))
		return;
	if (!stsd_landlock_files(&r) && enforcing(&r)) {
		ASSERT_EQ(r.status, 0, "BPF LSM decides allow-unix peers: it runs");
	} else {
		ASSERT_EQ(r.status, 3, "no BPF LSM: allow-unix would only be observed: refused");
		ASSERT_OK_PTR(
			strstr(json_dumps(json_array_get(r.records, 0), 0) ?: "", "AF_UNIX peers"),
			"the refusal says why");
	}
	stsd_result_free(&r);
}

/* audit's "enabled" flag (0, 1, 2), or -1. */
static int audit_state(void)
{
	struct audit_reply rep;
	int fd = audit_open(), st = -1, i;

	if (fd < 0)
		return -1;
	if (audit_request_status(fd) > 0)
		for (i = 0; i < 10 && st < 0; i++)
			if (audit_get_reply(fd, &rep, GET_REPLY_BLOCKING, 0) > 0 &&
			    rep.type == AUDIT_GET)
				st = (int)rep.status->enabled;
	audit_close(fd);
	return st;
}

static const char *recorded_by(const struct stsd_result *r)
{
	json_t *start = start_record(r);

	return json_string_value(json_object_get(json_object_get(start, "containment"),
						 "landlock_refusals_recorded_by"));
}

/*
 * Where Landlock enforces and its refusals are read from its audit records (ABI 7, this
 * host): a refused read and a refused exec are recorded with path and inode, by "landlock";
 * audit is back in its previous state after the run, and after a monitor killed mid-run, once
 * the next one starts.
 */
void test_contain_landlock_audit(void)
{
	struct stsd_result r = { 0 };
	char cmd[1024], out[256];
	int before = audit_state();
	struct stat st;
	json_t *ev;

	if (run1(NULL, (const char *[]){ "open", "/etc/hostname", NULL }, &r) < 0)
		return;
	if (!recorded_by(&r) || strcmp(recorded_by(&r), "landlock+audit")) {
		test__skip("Landlock's refusals are not read from audit here (BPF LSM, or "
			   "Landlock before ABI 7: no audit records)");
		goto out;
	}
	ASSERT_EQ(r.status, 100 + EACCES, "the read is refused (EACCES)");
	ev = stsd_find_event(&r, "file_open", "deny", "file_not_allowed");
	ASSERT_OK_PTR(ev, "and recorded");
	ASSERT_STREQ(json_string_value(json_object_get(ev, "by")), "landlock", "by landlock");
	ASSERT_STREQ(json_string_value(json_object_get(ev, "path")), "/etc/hostname", "its path");
	if (ASSERT_OK(stat("/etc/hostname", &st), "stat"))
		ASSERT_EQ((long long)json_integer_value(json_object_get(ev, "ino")),
			  (long long)st.st_ino, "its inode");
	ASSERT_EQ(audit_state(), before, "audit back in its state before the run");
	stsd_result_free(&r);

	/* Catalogue a31/a32: a refused exec is recorded too (the tracepoints missed it). */
	run1(NULL, (const char *[]){ "exec", "/bin/true", NULL }, &r);
	ASSERT_EQ(r.status, 100 + EACCES, "the exec is refused");
	ev = stsd_find_event(&r, "exec", "deny", "exec_not_allowed");
	ASSERT_OK_PTR(ev, "and recorded");
	ASSERT_STREQ(json_string_value(json_object_get(ev, "path")), "/usr/bin/true",
		     "the binary's path");
	ASSERT_STREQ(json_string_value(json_object_get(ev, "by")), "landlock", "by landlock");
	stsd_result_free(&r);

	/* Killed mid-run: its marker stays, audit stays on until the next monitor starts. */
	if (before != 0)
		goto out;
	policy(cmd, sizeof(cmd), NULL);
	snprintf(out, sizeof(out), "%s/audit-kill.conf", test__tmpdir());
	{
		FILE *f = fopen(out, "w");

		if (!ASSERT_OK_PTR(f, "policy file"))
			goto out;
		fputs(cmd, f);
		fclose(f);
	}
	snprintf(cmd, sizeof(cmd),
		 "%s/stsd run --user root --policy %s -- %s sleep 30000 2>/dev/null & p=$!; "
		 "for i in $(seq 50); do [ -e /run/stsguard/audit/$p ] && break; sleep 0.1; done; "
		 "sleep 0.3; kill -KILL $p; wait $p; test -e /run/stsguard/audit/$p",
		 test__out_dir(), out, rogue);
	ASSERT_EQ(test__run(NULL, 0, "%s", cmd), 0, "a killed monitor leaves its marker");
	ASSERT_EQ(audit_state(), 1, "and audit on");
	run1(NULL, (const char *[]){ "sleep", "0", NULL }, &r);
	ASSERT_EQ(r.status, 0, "the next run");
	ASSERT_EQ(audit_state(), 0, "switches audit off again after it");
out:
	stsd_result_free(&r);
}

/*
 * A reader of stsd's stdout that takes nothing (a full pipe): CMD's output waits in the
 * monitor (up to 1 MiB), CMD goes on, its refusal is recorded, and stsd ends long before the
 * reader does, with the output it could not deliver dropped and counted.
 */
void test_contain_relay_stalled_reader(void)
{
	char pol[2048], path[600], events[600], cmd[4096], *out = NULL;
	long long ms = -1;
	FILE *f;

	policy(pol, sizeof(pol), NULL);
	snprintf(path, sizeof(path), "%s/relay.conf", test__tmpdir());
	snprintf(events, sizeof(events), "%s/relay.events", test__tmpdir());
	f = fopen(path, "w");
	if (!ASSERT_OK_PTR(f, "policy file"))
		return;
	fputs(pol, f);
	fclose(f);
	unlink(events);
	snprintf(cmd, sizeof(cmd),
		 "s=$(date +%%s%%N); { %s/stsd run --user root --policy %s --events %s -- %s batch "
		 "a flood "
		 "600000 , b open /etc/hostname 2>/dev/null; "
		 "echo $(( ($(date +%%s%%N) - s) / 1000000 )) > %s.ms; } | sleep 12",
		 test__out_dir(), path, events, rogue, events);
	test__run(NULL, 0, "%s", cmd);
	snprintf(cmd, sizeof(cmd), "%s.ms", events);
	f = fopen(cmd, "r");
	if (ASSERT_OK_PTR(f, "stsd's time") && fscanf(f, "%lld", &ms) != 1)
		ms = -1;
	if (f)
		fclose(f);
	ASSERT_GE(ms, 0, "stsd ended");
	ASSERT_TRUE(ms < 10000, "stsd ended before its stdout's reader took anything");
	out = malloc(1 << 20);
	if (!out)
		return;
	ASSERT_EQ(test__run(out, 1 << 20, "cat %s", events), 0, "the JSON lines");
	if (strstr(out, "\"mode\":\"enforce\"")) {
		ASSERT_OK_PTR(strstr(out, "\"path\":\"/etc/hostname\""),
			      "the refusal after the flood is recorded");
		ASSERT_OK_PTR(strstr(out, "\"type\":\"stop\""), "and the stop record");
		ASSERT_FALSE(strstr(out, "\"output_dropped_bytes\":0,") ||
				     strstr(out, "\"output_dropped_bytes\":0}") ||
				     !strstr(out, "\"output_dropped_bytes\":"),
			     "the output not taken is counted as dropped");
	} else {
		test__skip("neither BPF LSM nor Landlock: stsd refuses to enforce here");
	}
	free(out);
}
