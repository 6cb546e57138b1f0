// SPDX-License-Identifier: GPL-2.0-only
/*
 * stsctl report --html and stsctl status on a log a real `stsd run` wrote: a rogue program
 * connects to a port the policy does not allow, the kernel refuses it, and the page a
 * compliance reader gets says so, under the enforcement the monitor really recorded (on the
 * host, observe mode: no BPF LSM).
 */
#include "test.h"
#include "stsd_helpers.h"
#include "core/util.h"

#include <stdlib.h>
#include <sys/utsname.h>
#include <unistd.h>

static bool has(const char *page, const char *want, const char *name)
{
	return TEST__CHECK(strstr(page, want) != NULL, name, "\"%s\" not found", want);
}

void test_report_html_real_run(void)
{
	char pol[1024], log[512], key[512], page[512], rogue[512], out[8192], *buf = NULL;
	const char *extra[] = { "--log", log, "--log-key", key, NULL };
	const char *argv[] = { rogue, "connect4", "9", NULL };
	struct stsd_result r = { 0 };
	struct utsname u;
	size_t len;
	int rc;

	if (geteuid() != 0) {
		test__skip("stsd run needs root");
		return;
	}
	snprintf(log, sizeof(log), "%s/evidence.log", test__tmpdir());
	snprintf(key, sizeof(key), "%s/log.key", test__tmpdir());
	snprintf(page, sizeof(page), "%s/report.html", test__tmpdir());
	snprintf(rogue, sizeof(rogue), "%s/tests/bin/rogue", test__out_dir());
	snprintf(pol, sizeof(pol),
		 "collector 127.0.0.1:1\n"
		 "allow-read /etc/ld.so.cache\n"
		 "allow-read " TEST_LDSO "\n"
		 "allow-read-dir " TEST_LIBDIR "\n"
		 "state-dir %s/state\n",
		 test__tmpdir());
	stsd_extra_args = extra;
	rc = stsd_run(pol, true, argv, &r);
	stsd_extra_args = NULL;
	if (!ASSERT_OK(rc, "run stsd"))
		return;
	ASSERT_EQ(r.status, 100 + EPERM, "the connect to port 9 was refused");
	stsd_result_free(&r);

	rc = test__run(out, sizeof(out), "%s/stsctl report %s --log-key %s.pub --html %s",
		       test__out_dir(), log, key, page);
	ASSERT_EQ(rc, 0, "report --html on the real log");
	if (!ASSERT_OK(sts_read_file(page, 4 << 20, &buf, &len), "the page"))
		return;
	has(buf, "VERIFIED: the log is intact", "the real log verifies");
	has(buf, "the public key given by the auditor", "against the key given");
	uname(&u);
	has(buf, u.release, "the kernel it ran on");
	has(buf, "<code>cgroup/connect4</code>", "G1's hooks as recorded");
	has(buf, "Network destination (G1)", "the refused connect, by kind");
	has(buf, "<code>not_a_collector_endpoint</code>", "and by the rule that refused it");
	has(buf, "127.0.0.1 port 9", "the first example: where to");
	has(buf, "DENIED: pid ", "with the monitor's explanation");
	has(buf, "Monitor stopped: exit", "the timeline ends with the stop");
	free(buf);

	rc = test__run(out, sizeof(out), "%s/stsctl status --state-dir %s/state --log %s",
		       test__out_dir(), test__tmpdir(), log);
	ASSERT_EQ(rc, 0, "status on the run's state and log");
	has(out, "no activation yet", "stsd run does not activate");
	has(out, "last checkpoint: seq", "the log's last checkpoint");
}
