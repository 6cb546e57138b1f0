// SPDX-License-Identifier: GPL-2.0-only
/*
 * The containment beside the BPF programs (issue 13): the seccomp filter's allowlist and what
 * a policy may lift, the process hygiene, the mechanism per guarantee in the start record and
 * in `stsctl report`. The refusals themselves are rows of the adversary catalogue (every
 * profile); here, what must keep working and what the records say. Runs in every lane.
 */
#include "test.h"
#include "stage.h"
#include "stsd_helpers.h"
#include "core/util.h"
#include "device/llaudit.h"

#include <libaudit.h>
#include <linux/landlock.h>
#include <linux/netlink.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <fcntl.h>
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

	/*
	 * Socket options: TCP_NODELAY is on the allowlist (then the connect to the policy's
	 * collector port, where nothing listens: ECONNREFUSED); TCP_USER_TIMEOUT is not, and its
	 * record names the level and the option.
	 */
	run1(NULL, (const char *[]){ "sockopt", "9", "6", "1", "1", NULL }, &r);
	ASSERT_EQ(r.status, 100 + ECONNREFUSED,
		  "TCP_NODELAY allowed (the connect refused by no one)");
	stsd_result_free(&r);
	run1(NULL, (const char *[]){ "sockopt", "9", "6", "18", "0", NULL }, &r);
	ASSERT_EQ(r.status, EXIT_EPERM, "TCP_USER_TIMEOUT refused");
	ev = stsd_find_event(&r, "syscall", "deny", "syscall_not_allowed");
	if (ASSERT_OK_PTR(ev, "the refusal is an event")) {
		ASSERT_STREQ(json_string_value(json_object_get(ev, "syscall")), "setsockopt",
			     "setsockopt");
		ASSERT_EQ(json_integer_value(json_object_get(ev, "level")), 6, "level IPPROTO_TCP");
		ASSERT_EQ(json_integer_value(json_object_get(ev, "option")), 18,
			  "option TCP_USER_TIMEOUT");
	}
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
	/* One refusal of the seccomp filter (keyctl), which the report must count as blocked. */
	if (!ASSERT_OK(stsd_run(pol, false, (const char *[]){ rogue, "keyctl", NULL }, &r),
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
	ASSERT_EQ(r.status, EXIT_EPERM, "keyctl refused");
	/* A refusal, not an observation: under "blocked", a syscall_deny by seccomp. */
	ASSERT_EQ(test__run(out, 1 << 16, "%s/stsctl report %s --log-key %s --json",
			    test__out_dir(), log, pub),
		  0, "stsctl report --json");
	{
		json_t *rep = json_loads(out, 0, NULL);

		ASSERT_EQ(json_integer_value(
				  json_object_get(json_object_get(rep, "blocked"), "syscall_deny")),
			  1, "report: the seccomp refusal counted as blocked");
		ASSERT_FALSE(json_object_get(json_object_get(rep, "observed"), "syscall_observed"),
			     "report: and not as observed");
		json_decref(rep);
	}
	ASSERT_EQ(test__run(out, 1 << 16,
			    "grep -c '\"type\":\"syscall_deny\".*\"hook\":\"seccomp\"' %s", log),
		  0, "the log's record: syscall_deny, hook seccomp");
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
	if (!enforcing(&r)) {
		test__skip("neither BPF LSM nor Landlock: stsd refuses to enforce here");
		goto out;
	}
	if (!recorded_by(&r) || strcmp(recorded_by(&r), "landlock+audit")) {
		/*
		 * BPF LSM, or Landlock before ABI 7 (no audit records): the refusal recorded by
		 * other means, and audit left as it was.
		 */
		ASSERT_OK_PTR(stsd_find_event(&r, "file_open", "deny", "file_not_allowed"),
			      "not read from audit here: recorded by BPF LSM or fexit");
		ASSERT_EQ(audit_state(), before, "audit untouched");
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
/*
 * Run stsd with ARGS (after --user root --policy) and REDIR (its stdout and stderr) while the
 * FIFOs' readers hold them open and never read; the readers are alive when stsd ends. Returns
 * how long stsd took in ms, or -1. fifo_dir/NAME.fifo are the FIFOs REDIR may name ($f, $g).
 */
static long long run_unread(const char *pol, const char *args, const char *redir)
{
	char path[600], cmd[8192], ms_file[640];
	long long ms = -1;
	FILE *f;

	snprintf(path, sizeof(path), "%s/relay.conf", test__tmpdir());
	snprintf(ms_file, sizeof(ms_file), "%s/relay.ms", test__tmpdir());
	f = fopen(path, "w");
	if (!ASSERT_OK_PTR(f, "policy file"))
		return -1;
	fputs(pol, f);
	fclose(f);
	unlink(ms_file);
	snprintf(cmd, sizeof(cmd),
		 "f=%s/out.fifo; g=%s/err.fifo; rm -f $f $g; mkfifo $f $g; "
		 "sleep 120 < $f & r=$!; sleep 120 < $g & q=$!; s=$(date +%%s); "
		 "%s/stsd run --user root --policy %s %s %s; "
		 "ms=$(( ($(date +%%s) - s) * 1000 )); kill -0 $r && kill -0 $q && echo $ms > %s; "
		 "kill $r $q",
		 test__tmpdir(), test__tmpdir(), test__out_dir(), path, args, redir, ms_file);
	test__run(NULL, 0, "%s", cmd);
	f = fopen(ms_file, "r");
	if (ASSERT_OK_PTR(f, "stsd's time") && fscanf(f, "%lld", &ms) != 1)
		ms = -1;
	if (f)
		fclose(f);
	ASSERT_GE(ms, 0, "stsd ended, its readers still alive");
	ASSERT_TRUE(ms < 60000, "stsd ended while its output's readers, taking nothing, lived on");
	return ms;
}

/*
 * A reader who stops reading stsd's stdout while CMD floods it: CMD blocks, the monitor does
 * not (it goes on recording), and what the reader never took is dropped and counted at the end.
 */
void test_contain_relay_stalled_reader(void)
{
	char pol[2048], events[600], args[2048], *out = NULL;

	policy(pol, sizeof(pol), NULL);
	snprintf(events, sizeof(events), "%s/relay.events", test__tmpdir());
	unlink(events);
	snprintf(args, sizeof(args),
		 "--events %s -- %s batch a flood 600000 , b open /etc/hostname", events, rogue);
	if (run_unread(pol, args, "> $f 2>/dev/null") < 0)
		return;
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

/*
 * The same with stsd's own lines: --json on stdout and its messages on stderr, both readers
 * stalled, 600 refusals (each a message and a JSON record, far more than a pipe holds). The
 * monitor must not block in its own writes (it would stop recording and answering CMD): every
 * refusal reaches the evidence log and the run ends.
 */
void test_contain_own_output_stalled_reader(void)
{
	char pol[2048], log[600], args[2048], *out = NULL;

	policy(pol, sizeof(pol), NULL);
	snprintf(log, sizeof(log), "%s/own.log", test__tmpdir());
	unlink(log);
	snprintf(args, sizeof(args),
		 "--log %s --json -- %s batch o open /etc/hostname "
		 "$(seq -f ', o%%g open /etc/hostname' 599)",
		 log, rogue);
	if (run_unread(pol, args, "> $f 2> $g") < 0)
		return;
	out = malloc(4 << 20);
	if (!out)
		return;
	ASSERT_EQ(test__run(out, 4 << 20, "grep -c '\"type\":\"file_deny\"' %s", log), 0,
		  "refusals in the evidence log");
	if (strstr(out, "600") == out) {
		ASSERT_EQ(test__run(out, 4 << 20, "grep -c '\"type\":\"stop\"' %s", log), 0,
			  "and the stop record");
	} else if (!strncmp(out, "0", 1)) {
		test__skip("neither BPF LSM nor Landlock: stsd refuses to enforce here");
	} else {
		ASSERT_STREQ(out, "600\n", "all 600 refusals in the evidence log");
	}
	free(out);
}

/* A process outside the cgroup that Landlock refuses an open (its own ruleset): exits 0. */
static pid_t bystander_refused_open(void)
{
	struct landlock_ruleset_attr attr = { .handled_access_fs = LANDLOCK_ACCESS_FS_READ_FILE };
	pid_t pid = fork();
	int fd;

	if (pid)
		return pid;
	fd = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0);
	if (fd < 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
	    syscall(SYS_landlock_restrict_self, fd, 0))
		_exit(1);
	_exit(open("/etc/hostname", O_RDONLY) < 0 ? 0 : 2);
}

/*
 * Audit switched on for a run costs the rest of the machine no system-call auditing: a process
 * forked during the run (outside the cgroup) whose open Landlock refuses gets its Landlock
 * records but no system call record, which only a process with an audit context (the slow
 * path) gets. CMD, forked by stsd, has one: its records name it as it was at the call.
 */
void test_contain_audit_bystanders(void)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = 1 };
	char pol[2048], path[600], events[600], cmd[2048], buf[9000];
	struct sts_llaudit_rec rec;
	bool domain_seen = false, syscall_seen = false;
	int s = -1, st, i;
	pid_t by, mon = -1;
	FILE *f;

	if (audit_state() != 0) {
		/* Audit already on (a daemon's): stsd changes nothing, nothing to measure. */
		ASSERT_TRUE(audit_state() != 2, "audit is not locked");
		return;
	}
	policy(pol, sizeof(pol), NULL);
	snprintf(path, sizeof(path), "%s/bystander.conf", test__tmpdir());
	snprintf(events, sizeof(events), "%s/bystander.events", test__tmpdir());
	f = fopen(path, "w");
	if (!ASSERT_OK_PTR(f, "policy file"))
		return;
	fputs(pol, f);
	fclose(f);
	s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_AUDIT);
	if (!ASSERT_GE(s, 0, "audit socket") ||
	    !ASSERT_OK(bind(s, (struct sockaddr *)&sa, sizeof(sa)), "audit read-only group"))
		goto out;
	mon = fork();
	if (mon == 0) {
		int null = open("/dev/null", O_WRONLY);

		if (null >= 0)
			dup2(null, 1);
		snprintf(cmd, sizeof(cmd), "%s/stsd", test__out_dir());
		execl(cmd, "stsd", "run", "--user", "root", "--quiet", "--policy", path, "--events",
		      events, "--", rogue, "sleep", "3000", (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 100 && audit_state() != 1; i++)
		usleep(50000);
	if (audit_state() != 1) {
		/* Where stsd does not read audit (BPF LSM, Landlock before ABI 7): untouched. */
		char *ev = NULL;
		size_t len;

		waitpid(mon, &st, 0);
		mon = -1;
		if (ASSERT_OK(sts_read_file(events, 1 << 20, &ev, &len), "the start record"))
			ASSERT_TRUE(strstr(ev, "\"type\":\"start\"") &&
					    !strstr(ev, "landlock+audit"),
				    "audit left off: stsd does not read it here");
		free(ev);
		goto out;
	}
	usleep(200000);
	by = bystander_refused_open();
	ASSERT_OK(waitpid(by, &st, 0) == by && WIFEXITED(st) ? WEXITSTATUS(st) : -1,
		  "the bystander was refused its open");
	for (i = 0; i < 20; i++) {
		struct pollfd p = { s, POLLIN, 0 };
		ssize_t n;

		if (poll(&p, 1, 100) <= 0)
			continue;
		while ((n = recv(s, buf, sizeof(buf), 0)) > (ssize_t)NLMSG_HDRLEN) {
			int type = ((struct nlmsghdr *)buf)->nlmsg_type;

			if (sts_llaudit_parse(type, buf + NLMSG_HDRLEN, n - NLMSG_HDRLEN, &rec))
				continue;
			if (type == STS_AUDIT_LANDLOCK_DOMAIN && rec.pid == by)
				domain_seen = true;
			if (type == STS_AUDIT_SYSCALL && rec.pid == by)
				syscall_seen = true;
		}
	}
	ASSERT_TRUE(domain_seen, "audit is on: the bystander's Landlock domain is reported");
	ASSERT_FALSE(syscall_seen, "no system call record: the bystander is not audited");
out:
	if (mon > 0) {
		waitpid(mon, &st, 0);
		ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0, "stsd and CMD ended well");
	}
	ASSERT_EQ(audit_state(), 0, "audit off again");
	if (s >= 0)
		close(s);
}

/*
 * A file the policy allows but its own permissions refuse (mode 0600, root's; CMD runs as
 * nobody): the kernel refuses it before any LSM. Where the fexit program or the open
 * tracepoints see Landlock's refusals (any EACCES), it is recorded "by": "dac", not counted as
 * a policy denial; a file the policy does not allow is still Landlock's refusal. VM lane
 * without BPF LSM (fexit); on the host through the tracepoints (STSD_NO_LANDLOCK_AUDIT=1).
 */
void test_contain_dac_not_policy(void)
{
	char dir[] = "/tmp/sts-dac-XXXXXX", pol[2048], path[600], secret[600], open_ok[600];
	char events[600], *out = NULL;
	const char *by;
	json_t *rec;
	size_t i;
	FILE *f;
	int fd;

	if (!ASSERT_OK_PTR(mkdtemp(dir), "a directory nobody may search"))
		return;
	chmod(dir, 0755);
	snprintf(secret, sizeof(secret), "%s/secret", dir);
	snprintf(open_ok, sizeof(open_ok), "%s/not-in-policy", dir);
	fd = open(secret, O_WRONLY | O_CREAT, 0600);
	close(fd);
	fd = open(open_ok, O_WRONLY | O_CREAT, 0644);
	close(fd);
	/* CMD runs as nobody here: the staged copy, which nobody can reach (stage.h). */
	if (!ASSERT_OK_PTR(test__staged("tests/bin/rogue"), "rogue staged for nobody"))
		goto out;
	snprintf(rogue, sizeof(rogue), "%s", test__staged("tests/bin/rogue"));
	snprintf(pol, sizeof(pol),
		 "collector 127.0.0.1:9\nallow-read /etc/ld.so.cache\n"
		 "allow-read /lib64/ld-linux-x86-64.so.2\nallow-read-dir /lib/x86_64-linux-gnu\n"
		 "allow-read %s\nstate-dir %s/state\n",
		 secret, dir);
	snprintf(path, sizeof(path), "%s/dac.conf", dir);
	snprintf(events, sizeof(events), "%s/dac.events", dir);
	f = fopen(path, "w");
	if (!ASSERT_OK_PTR(f, "policy file"))
		goto out;
	fputs(pol, f);
	fclose(f);
	test__run(NULL, 0,
		  "STSD_NO_LANDLOCK_AUDIT=1 %s/stsd run -q --policy %s --events %s -- %s batch "
		  "d1 open %s , d2 open %s",
		  test__out_dir(), path, events, rogue, secret, open_ok);
	out = malloc(1 << 20);
	if (!out || test__run(out, 1 << 20, "cat %s", events))
		goto out;
	if (!strstr(out, "\"mode\":\"enforce\"")) {
		test__skip("neither BPF LSM nor Landlock: stsd refuses to enforce here");
		goto out;
	}
	{
		json_error_t jerr;
		char *line, *save;
		/* BPF LSM and audit see only what the permissions let through: nothing here. */
		bool dac = !strstr(out, "\"landlock_refusals_recorded_by\":\"landlock+fexit\"") &&
			   !strstr(out,
				   "\"landlock_refusals_recorded_by\":\"landlock+tracepoints\""),
		     ll = false;

		for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			rec = json_loads(line, 0, &jerr);
			by = json_string_value(json_object_get(rec, "by"));
			if (rec && strstr(json_string_value(json_object_get(rec, "path")) ?: "",
					  "/secret"))
				dac = by && !strcmp(by, "dac"); /* recorded: as the permissions' */
			if (rec && strstr(json_string_value(json_object_get(rec, "path")) ?: "",
					  "/not-in-policy"))
				ll = !by;
			if (json_object_get(rec, "denied"))
				ASSERT_EQ((int)json_integer_value(json_object_get(rec, "denied")),
					  1, "one policy denial counted, not two");
			json_decref(rec);
		}
		ASSERT_TRUE(dac, "the mode-0600 file: not recorded, or recorded \"by\": \"dac\"");
		ASSERT_TRUE(ll, "the file outside the policy: a policy denial");
	}
out:
	free(out);
	(void)i;
	test__run(NULL, 0, "rm -rf %s", dir);
}
