// SPDX-License-Identifier: GPL-2.0-only
/*
 * Issue 12: `make check` passes wherever a root user clones the repository. stsd runs its agent
 * (and `stsd run --user USER` its command) unprivileged; a checkout in a mode-0700 directory is
 * out of that user's reach, and the kernel says only EACCES.
 *
 *   access_modes             lib/core/access.c's reading of the mode bits, against the kernel's
 *                            own verdict for the same uid (a child that setresuid()s to it)
 *   access_stsd_explains     `stsd run --user nobody` names the directory or file that keeps
 *                            nobody out, and the uid
 *   access_private_checkout  the binaries in a 0700 directory: an activation run from there
 *                            passes (the agent is staged, tests/stage.h), and stsd says why
 *                            the unstaged agent cannot run
 *
 * Run as root in both lanes (host: observe mode; VM: enforce).
 */
#include "test.h"
#include "activation_helpers.h"
#include "stage.h"
#include "core/access.h"
#include "core/util.h"

#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define NOBODY 65534
#define OTHER_GROUP 4242 /* a group nobody is not in, unless a case adds it */

/* One file in one directory, and whom to ask about it. */
struct mode_case {
	const char *name;
	mode_t dir_mode;
	gid_t dir_gid;
	mode_t file_mode;
	uid_t file_uid;
	int want; /* R_OK, W_OK, X_OK */
	uid_t uid; /* its gid is the same number */
	gid_t extra_group; /* a supplementary group, 0: none */
	const char *says; /* the end of the sentence's subject and verb; NULL: allowed */
};

/* clang-format off */
static const struct mode_case mode_cases[] = {
	{ "directory not searchable",	0700, 0, 0755, 0, X_OK, NOBODY, 0,
	  "dir is not searchable by uid 65534 (mode 0700" },
	{ "search without read",	0711, 0, 0755, 0, X_OK, NOBODY, 0, NULL },
	{ "file not executable",	0755, 0, 0744, 0, X_OK, NOBODY, 0,
	  "file is not executable by uid 65534 (mode 0744" },
	{ "file not readable",		0755, 0, 0640, 0, R_OK, NOBODY, 0,
	  "file is not readable by uid 65534 (mode 0640" },
	{ "readable by others",		0755, 0, 0604, 0, R_OK, NOBODY, 0, NULL },
	{ "file not writable",		0755, 0, 0644, 0, W_OK, NOBODY, 0,
	  "file is not writable by uid 65534" },
	{ "group bits let it in",	0750, NOBODY, 0755, 0, X_OK, NOBODY, 0, NULL },
	/* Only one class counts: in the group, the others' r-x does not help. */
	{ "group bits keep it out",	0705, NOBODY, 0755, 0, X_OK, NOBODY, 0,
	  "dir is not searchable by uid 65534, which is in its group" },
	{ "supplementary group in",	0750, OTHER_GROUP, 0755, 0, X_OK, NOBODY, OTHER_GROUP, NULL },
	{ "supplementary group out",	0705, OTHER_GROUP, 0755, 0, X_OK, NOBODY, OTHER_GROUP,
	  "dir is not searchable by uid 65534, which is in its group 4242" },
	{ "not in the group",		0750, OTHER_GROUP, 0755, 0, X_OK, NOBODY, 0,
	  "dir is not searchable by uid 65534 (mode 0750" },
	{ "owner bits keep it out",	0755, 0, 0055, NOBODY, R_OK, NOBODY, 0,
	  "file is not readable by uid 65534, its owner" },
	{ "root reads anything",	0700, 0, 0000, NOBODY, R_OK, 0, 0, NULL },
	{ "root passes any directory",	0000, 0, 0700, NOBODY, X_OK, 0, 0, NULL },
	{ "root executes no x bit",	0755, 0, 0644, 0, X_OK, 0, 0,
	  "file is not executable by anyone (mode 0644" },
};
/* clang-format on */

/*
 * In a child that has become uid (gid, groups): bit 0 the kernel let it (faccessat with the
 * effective ids), bit 1 sts_access_check() with the child's own credentials says so too.
 * Asked as the user itself, the walk cannot stat what lies behind a closed directory: the
 * verdict must still come out the same.
 */
static int verdicts_as(const char *path, int want, uid_t uid, gid_t extra)
{
	struct sts_creds self;
	char why[600];
	int status, ret = 0;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		gid_t groups[1] = { extra };

		if (setgroups(extra ? 1 : 0, groups) < 0 || setresgid(uid, uid, uid) < 0 ||
		    setresuid(uid, uid, uid) < 0 || sts_creds_self(&self))
			_exit(100);
		if (faccessat(AT_FDCWD, path, want, AT_EACCESS) == 0)
			ret |= 1;
		if (sts_access_check(path, want, &self, why, sizeof(why)) == 0)
			ret |= 2;
		_exit(ret);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

static bool make_case(const char *top, const struct mode_case *mc, char *file, size_t len)
{
	char dir[600];

	snprintf(dir, sizeof(dir), "%s/dir", top);
	snprintf(file, len, "%s/file", dir);
	return mkdir(top, 0755) == 0 && chmod(top, 0755) == 0 && mkdir(dir, 0700) == 0 &&
	       act_write_text(file, "#!/bin/sh\nexit 0\n") == 0 &&
	       chown(file, mc->file_uid, 0) == 0 && chmod(file, mc->file_mode) == 0 &&
	       chown(dir, 0, mc->dir_gid) == 0 && chmod(dir, mc->dir_mode) == 0;
}

void test_access_modes(void)
{
	char top[512], file[700], why[1024], name[200];
	struct sts_creds c;
	size_t i;
	int err, v;

	chmod(test__tmpdir(), 0755);
	for (i = 0; i < ARRAY_SIZE(mode_cases); i++) {
		const struct mode_case *mc = &mode_cases[i];

		snprintf(top, sizeof(top), "%s/case%zu", test__tmpdir(), i);
		snprintf(name, sizeof(name), "%s: set up", mc->name);
		if (!ASSERT_TRUE(make_case(top, mc, file, sizeof(file)), name))
			continue;
		c = (struct sts_creds){ .uid = mc->uid, .gid = mc->uid };
		if (mc->extra_group)
			c.groups[c.ngroups++] = mc->extra_group;
		err = sts_access_check(file, mc->want, &c, why, sizeof(why));
		if (test__cur.verbose)
			printf("    %s: %s\n", mc->name, why[0] ? why : "allowed");
		snprintf(name, sizeof(name), "%s: %s", mc->name, mc->says ? "refused" : "allowed");
		if (mc->says) {
			ASSERT_EQ(err, -EACCES, name);
			snprintf(name, sizeof(name), "%s: the sentence says \"%s\"", mc->name,
				 mc->says);
			TEST__CHECK(strstr(why, mc->says) != NULL, name, "it says \"%s\"", why);
		} else {
			ASSERT_OK(err, name);
		}
		v = verdicts_as(file, mc->want, mc->uid, mc->extra_group);
		snprintf(name, sizeof(name), "%s: the kernel agrees", mc->name);
		ASSERT_EQ(v >= 0 && v < 100 ? v & 1 : -1, mc->says ? 0 : 1, name);
		snprintf(name, sizeof(name), "%s: the same, asked as uid %u itself", mc->name,
			 (unsigned int)mc->uid);
		ASSERT_EQ(v >= 0 && v < 100 ? (v >> 1) & 1 : -1, mc->says ? 0 : 1, name);
	}
}

/* What is not mode bits: a missing file, a file where a directory should be, a symlink. */
void test_access_paths(void)
{
	char open_dir[512], priv[512], link[512], path[700], why[1024];
	struct sts_creds nobody = { .uid = NOBODY, .gid = NOBODY };

	chmod(test__tmpdir(), 0755);
	snprintf(open_dir, sizeof(open_dir), "%s/open", test__tmpdir());
	snprintf(priv, sizeof(priv), "%s/private", test__tmpdir());
	snprintf(link, sizeof(link), "%s/open/link", test__tmpdir());
	if (!ASSERT_OK(sts_mkdir_p(open_dir, 0755), "open directory") ||
	    !ASSERT_OK(sts_mkdir_p(priv, 0700), "private directory") ||
	    !ASSERT_OK(chmod(priv, 0700), "private: mode 0700") ||
	    !ASSERT_OK(symlink(priv, link), "a link from the open directory to the private one"))
		return;
	snprintf(path, sizeof(path), "%s/f", priv);
	if (!ASSERT_OK(act_write_text(path, "x\n"), "a file in the private directory"))
		return;

	snprintf(path, sizeof(path), "%s/missing", open_dir);
	ASSERT_EQ(sts_access_check(path, R_OK, &nobody, why, sizeof(why)), -ENOENT,
		  "missing file: ENOENT");
	ASSERT_TRUE(strstr(why, "/open/missing does not exist"), "missing file: named");
	snprintf(path, sizeof(path), "%s/f/x", priv);
	ASSERT_EQ(sts_access_check(path, R_OK, &(struct sts_creds){ 0 }, why, sizeof(why)),
		  -ENOTDIR, "a file as a directory: ENOTDIR");
	ASSERT_TRUE(strstr(why, "/private/f is not a directory"), "a file as a directory: named");
	/* Through the link, the directory that keeps nobody out is the link's target. */
	snprintf(path, sizeof(path), "%s/f", link);
	ASSERT_EQ(sts_access_check(path, R_OK, &nobody, why, sizeof(why)), -EACCES,
		  "through a symlink: refused");
	ASSERT_TRUE(strstr(why, "/private is not searchable by uid 65534"),
		    "through a symlink: the target directory is named");
	ASSERT_EQ(verdicts_as(path, R_OK, NOBODY, 0), 0, "through a symlink: the kernel agrees");
	ASSERT_OK(sts_access_check(path, R_OK, &(struct sts_creds){ 0 }, why, sizeof(why)),
		  "root reads it");
	ASSERT_STREQ(why, "", "allowed: no sentence");
}

/* A policy for `stsd run` with its state dir under dir. */
static bool write_run_policy(const char *policy, const char *state)
{
	char text[2048];

	snprintf(text, sizeof(text),
		 "collector 127.0.0.1:9\n"
		 "allow-read /etc/ld.so.cache\n"
		 "allow-read " TEST_LDSO "\n"
		 "allow-read-dir " TEST_LIBDIR "\n"
		 "state-dir %s\n",
		 state);
	return act_write_text(policy, text) == 0;
}

/* `stsd run --user nobody -- rogue sleep 0`: its exit status, its stderr in out. */
static int stsd_run_as_nobody(const char *policy, const char *rogue, char *out, size_t len)
{
	return test__run(out, len,
			 "%s/stsd run --policy %s --user nobody --device-cgroup none "
			 "--observe -q -- %s sleep 0",
			 test__out_dir(), policy, rogue);
}

void test_access_stsd_explains(void)
{
	char priv[512], open_dir[512], cmd[600], policy[600], state[600], out[4096], want[1400];
	const char *prog;
	int st;

	chmod(test__tmpdir(), 0755);
	snprintf(priv, sizeof(priv), "%s/private", test__tmpdir());
	snprintf(open_dir, sizeof(open_dir), "%s/open", test__tmpdir());
	snprintf(policy, sizeof(policy), "%s/policy.conf", test__tmpdir());
	snprintf(state, sizeof(state), "%s/state", open_dir);
	prog = test__staged("tests/bin/rogue");
	if (!ASSERT_OK_PTR(prog, "stage a test program") ||
	    !ASSERT_OK(sts_mkdir_p(priv, 0700), "private directory") ||
	    !ASSERT_OK(chmod(priv, 0700), "private: mode 0700") ||
	    !ASSERT_OK(sts_mkdir_p(open_dir, 0755), "open directory") ||
	    !ASSERT_TRUE(write_run_policy(policy, state), "write the policy"))
		return;

	/* In a 0700 directory, as a checkout in /root is. */
	snprintf(cmd, sizeof(cmd), "%s/rogue", priv);
	if (!ASSERT_EQ(test__run(NULL, 0, "cp %s %s", prog, cmd), 0, "copy it in there"))
		return;
	st = stsd_run_as_nobody(policy, cmd, out, sizeof(out));
	if (test__cur.verbose)
		printf("%s", out);
	ASSERT_EQ(st, 127, "private directory: the exec fails (127)");
	snprintf(want, sizeof(want), "exec %s: %s is not searchable by uid 65534 (mode 0700", cmd,
		 priv);
	TEST__CHECK(strstr(out, want) != NULL, "private directory: stsd names it and the uid",
		    "wanted \"%s\" in:\n%s", want, out);

	/* Reachable, but executable only by its owner and group. */
	snprintf(cmd, sizeof(cmd), "%s/rogue", open_dir);
	if (!ASSERT_EQ(test__run(NULL, 0, "cp %s %s && chmod 0754 %s", prog, cmd, cmd), 0,
		       "a copy of mode 0754"))
		return;
	st = stsd_run_as_nobody(policy, cmd, out, sizeof(out));
	ASSERT_EQ(st, 127, "mode 0754: the exec fails (127)");
	snprintf(want, sizeof(want), "%s is not executable by uid 65534 (mode 0754", cmd);
	TEST__CHECK(strstr(out, want) != NULL, "mode 0754: stsd says so", "wanted \"%s\" in:\n%s",
		    want, out);

	/* Executable by nobody at all: stsd refuses it before it starts anything. */
	chmod(cmd, 0644);
	st = stsd_run_as_nobody(policy, cmd, out, sizeof(out));
	ASSERT_EQ(st, 2, "mode 0644: refused as a usage error (2)");
	snprintf(want, sizeof(want), "%s is not executable by anyone (mode 0644", cmd);
	TEST__CHECK(strstr(out, want) != NULL, "mode 0644: stsd says so", "wanted \"%s\" in:\n%s",
		    want, out);

	/* Where nobody can reach it, it runs: what the staging gives the tests. */
	chmod(cmd, 0755);
	st = stsd_run_as_nobody(policy, cmd, out, sizeof(out));
	ASSERT_EQ(st, 0, "mode 0755 in an open directory: it runs as nobody");
	ASSERT_TRUE(!strstr(out, "not searchable") && !strstr(out, "not executable"),
		    "and nothing is said about access");

	/* The policy's state dir is where the command writes: behind 0700, stsd says so. */
	snprintf(state, sizeof(state), "%s/state", priv);
	if (!ASSERT_TRUE(write_run_policy(policy, state), "a policy with its state dir in there"))
		return;
	st = stsd_run_as_nobody(policy, cmd, out, sizeof(out));
	snprintf(want, sizeof(want), "state-dir %s: %s is not searchable by uid 65534", state,
		 priv);
	TEST__CHECK(strstr(out, want) != NULL, "state dir behind 0700: stsd says so",
		    "wanted \"%s\" in:\n%s", want, out);
}

/* Copy the binaries an activation needs into dir/build. */
static bool copy_build(const char *dir)
{
	return test__run(NULL, 0,
			 "mkdir -p %s/build && cp %s/stsd %s/sts-agent %s/sts-collector "
			 "%s/stsctl %s/build/",
			 dir, test__out_dir(), test__out_dir(), test__out_dir(), test__out_dir(),
			 dir) == 0;
}

/* In stsd.conf, the line "key ..." commented out and "key value" appended. */
static bool conf_replace(const char *conf, const char *key, const char *value)
{
	char *buf = NULL, *line, text[8192], head[64];
	size_t len;
	bool ok;

	if (sts_read_file(conf, 1 << 16, &buf, &len))
		return false;
	snprintf(head, sizeof(head), "\n%s ", key);
	line = strstr(buf, head);
	if (line)
		line[1] = '#';
	ok = line &&
	     snprintf(text, sizeof(text), "%s%s %s\n", buf, key, value) < (int)sizeof(text) &&
	     act_write_text(conf, text) == 0;
	free(buf);
	return ok;
}

void test_access_private_checkout(void)
{
	char priv[512], out_dir[600], agent[700], ca[600], out[8192], want[1400];
	char *saved_out = NULL;
	const char *old = getenv("OUT");
	struct act_env e;
	bool env_set = false;
	int st;

	memset(&e, 0, sizeof(e));
	e.px.fd = -1;
	chmod(test__tmpdir(), 0755);
	snprintf(priv, sizeof(priv), "%s/checkout", test__tmpdir());
	snprintf(out_dir, sizeof(out_dir), "%s/build", priv);
	snprintf(agent, sizeof(agent), "%s/sts-agent", out_dir);
	if (!ASSERT_OK(sts_mkdir_p(priv, 0700), "a 0700 directory, as mktemp -d or /root") ||
	    !ASSERT_OK(chmod(priv, 0700), "mode 0700") ||
	    !ASSERT_TRUE(copy_build(priv), "stsd, sts-agent, sts-collector, stsctl copied in"))
		return;
	saved_out = old ? strdup(old) : NULL;
	setenv("OUT", out_dir, 1);
	env_set = true;

	/* Unstaged: nobody cannot reach the agent, and stsd says why. */
	if (!act_setup(&e, "unstaged", NULL, NULL, NULL))
		goto cleanup;
	snprintf(ca, sizeof(ca), "%s/ca.pem", priv);
	if (!ASSERT_EQ(test__run(NULL, 0, "cp %s %s", e.col.ca, ca), 0,
		       "a copy of the CA in there") ||
	    !ASSERT_TRUE(conf_replace(e.conf, "agent", agent), "stsd.conf: the unstaged agent") ||
	    !ASSERT_TRUE(conf_replace(e.conf, "collector-ca", ca), "stsd.conf: the CA in there"))
		goto cleanup;
	st = test__run(out, sizeof(out), "%s/stsd daemon --config %s --once --observe -q", out_dir,
		       e.conf);
	if (test__cur.verbose)
		printf("%s", out);
	ASSERT_EQ(st, EX_TEMPFAIL, "unstaged agent: the attempt fails, a retry is scheduled");
	snprintf(want, sizeof(want), "exec %s: %s is not searchable by uid 65534 (mode 0700", agent,
		 priv);
	TEST__CHECK(strstr(out, want) != NULL, "unstaged agent: stsd names the directory and uid",
		    "wanted \"%s\" in:\n%s", want, out);
	snprintf(want, sizeof(want), "collector-ca %s: %s is not searchable by uid 65534", ca,
		 priv);
	TEST__CHECK(strstr(out, want) != NULL, "CA in there: stsd says the agent cannot read it",
		    "wanted \"%s\" in:\n%s", want, out);
	ASSERT_EQ(act_stored(&e), 0, "unstaged agent: nothing sent");
	act_teardown(&e);

	/* Staged, as every test does it: the activation passes from the 0700 checkout. */
	if (!act_setup(&e, "staged", NULL, NULL, NULL))
		goto cleanup;
	ASSERT_EQ(act_stsd_once(&e), 0, "staged agent: activation sent and receipted");
	ASSERT_EQ(act_stored(&e), 1, "staged agent: the collector stored it");
	ASSERT_TRUE(act_log_verifies(&e), "stsctl verify (from the 0700 checkout) accepts the log");
cleanup:
	act_teardown(&e);
	if (env_set) {
		if (saved_out)
			setenv("OUT", saved_out, 1);
		else
			unsetenv("OUT");
	}
	free(saved_out);
}
