// SPDX-License-Identifier: GPL-2.0-only
/*
 * A policy that would hand the policed command stsd's own files is refused before anything
 * runs: with the evidence log in its state-dir it could rewrite its own evidence, with stsd.conf's
 * state dir as its own it could write the consent record the payload check trusts (and send the
 * country) or swap the device key, with the log key readable it could sign a forged log, with
 * the policy in its state-dir it could widen its next run. Runs in both lanes (host: observe
 * files, the check is the same).
 */
#include "test.h"
#include "stsd_helpers.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static char out[16384];

static const char *tmp(const char *name)
{
	static char paths[16][PATH_MAX];
	static int next;
	char *p = paths[next++ % 16];

	snprintf(p, PATH_MAX, "%s/%s", test__tmpdir(), name);
	return p;
}

/*
 * Run `/bin/sh -c 'echo policed-ran'` under a policy of the loader's files, state-dir and
 * extra lines (the policy written to policy_path), with --log run/ev.log and --config conf.
 * Returns stsd's status; out has what it and the command said.
 */
static int run(const char *policy_path, const char *state_dir, const char *extra, const char *conf)
{
	FILE *f = fopen(policy_path, "w");

	if (!f)
		return -1;
	fprintf(f,
		"collector 127.0.0.1:9\n"
		"allow-read /etc/ld.so.cache\n"
		"allow-read " TEST_LDSO "\n"
		"allow-read-dir " TEST_LIBDIR "\n"
		"state-dir %s\n"
		"%s",
		state_dir, extra);
	fclose(f);
	return test__run(out, sizeof(out),
			 "%s/stsd run --policy %s --log %s --config %s --user root --observe "
			 "--device-cgroup none -q -- /bin/sh -c 'echo policed-ran' 2>&1",
			 test__out_dir(), policy_path, tmp("run/ev.log"), conf);
}

static void refused(const char *what, const char *policy_path, const char *state_dir,
		    const char *extra, const char *conf, const char *names)
{
	char name[256];
	int st = run(policy_path, state_dir, extra, conf);

	snprintf(name, sizeof(name), "%s: stsd refuses the policy (status 2)", what);
	if (!ASSERT_EQ(st, 2, name))
		printf("%s\n", out);
	snprintf(name, sizeof(name), "%s: the command never ran", what);
	ASSERT_FALSE(strstr(out, "policed-ran"), name);
	snprintf(name, sizeof(name), "%s: the message names stsd's own %s", what, names);
	if (!ASSERT_TRUE(strstr(out, "stsd's own") && strstr(out, names), name))
		printf("%s\n", out);
}

void test_protect_own_files(void)
{
	char conf[512], pub[512], extra[PATH_MAX + 64];
	int st;

	if (!ASSERT_OK(stsd_device_files(conf, pub), "the device's stsd.conf") ||
	    !ASSERT_OK(mkdir(tmp("run"), 0700), "mkdir run") ||
	    !ASSERT_OK(mkdir(tmp("run/state"), 0700), "mkdir run/state"))
		return;
	/* The control: state-dir beside the log, not around it. The command runs. */
	st = run(tmp("policy.conf"), tmp("run/state"), "", conf);
	if (!ASSERT_EQ(st, 0, "a policy of its own state-dir: stsd runs the command"))
		printf("%s\n", out);
	ASSERT_TRUE(strstr(out, "policed-ran"), "the command ran");

	refused("state-dir around the evidence log", tmp("policy.conf"), tmp("run"), "", conf,
		"/run/ev.log");
	refused("state-dir = stsd.conf's state dir (consent, device key)", tmp("policy.conf"),
		tmp("device"), "", conf, "/device");
	snprintf(extra, sizeof(extra), "allow-read %s\n", tmp("run/log.key"));
	refused("the log key readable", tmp("policy.conf"), tmp("run/state"), extra, conf,
		"/run/log.key");
	snprintf(extra, sizeof(extra), "allow-read-dir %s\n", test__tmpdir());
	refused("a directory rule above the policy and stsd.conf", tmp("policy.conf"),
		tmp("run/state"), extra, conf, "/policy.conf");
	refused("the policy inside its own state-dir", tmp("run/state/policy.conf"),
		tmp("run/state"), "", conf, "/run/state/policy.conf");
}
