// SPDX-License-Identifier: GPL-2.0-only
/*
 * The service files (dist/): what `make install` writes, systemd's own checks of the units
 * (systemd-analyze verify, and security for the exposure), the OpenRC scripts run by the real
 * openrc-run and supervise-daemon, and both units run under a real systemd with every directive
 * applied (tests/service/systemd-run.sh: systemd as PID 1 of namespaces of its own). The last
 * two need root and run nothing of the machine's own init.
 */
#include "test.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define UNIT_DIR "/lib/systemd/system"

/* `make install` of this build into tmpdir/name with PREFIX=prefix; the DESTDIR into dest. */
static bool install_into(const char *name, const char *prefix, bool openrc, char *dest, size_t len)
{
	static char out[16384];
	int st;

	snprintf(dest, len, "%s/%s", test__tmpdir(), name);
	st = test__run(out, sizeof(out), "make -s install OUT=%s DESTDIR=%s PREFIX=%s OPENRC=%d",
		       test__out_dir(), dest, prefix, openrc);
	if (st != 0)
		printf("%s\n", out);
	return ASSERT_EQ(st, 0, "make install");
}

static bool file_has(const char *path, const char *needle)
{
	char buf[16384];
	size_t n;
	FILE *f = fopen(path, "re");

	if (!f)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return strstr(buf, needle) != NULL;
}

/* The value after "RESULT key " in out, into val ("" if absent). */
static const char *result(const char *out, const char *key, char *val, size_t len)
{
	char pat[128];
	const char *p;

	snprintf(pat, sizeof(pat), "RESULT %s ", key);
	val[0] = '\0';
	p = strstr(out, pat);
	if (p) {
		p += strlen(pat);
		snprintf(val, len, "%.*s", (int)strcspn(p, "\n"), p);
	}
	return val;
}

#define ASSERT_RESULT(out, key, expected)                                          \
	({                                                                         \
		char ___v[256];                                                    \
		ASSERT_STREQ(result(out, key, ___v, sizeof(___v)), expected, key); \
	})

void test_service_install(void)
{
	char dest[PATH_MAX], path[PATH_MAX + 64], out[4096];

	if (!install_into("usr", "/usr", true, dest, sizeof(dest)))
		return;
	/* PREFIX=/usr: Debian's unit directory, the binaries' paths written in. */
	snprintf(path, sizeof(path), "%s" UNIT_DIR "/stsd.service", dest);
	ASSERT_TRUE(file_has(path, "\nExecStart=/usr/bin/stsd daemon --notify\n"),
		    "stsd.service: ExecStart names /usr/bin/stsd");
	ASSERT_TRUE(file_has(path, "\nWantedBy=multi-user.target\n"), "stsd.service: [Install]");
	snprintf(path, sizeof(path), "%s" UNIT_DIR "/sts-collector.service", dest);
	ASSERT_TRUE(file_has(path, "\nExecStart=/usr/bin/sts-collector serve "),
		    "sts-collector.service: ExecStart names /usr/bin/sts-collector");
	snprintf(path, sizeof(path), "%s/usr/lib/sysusers.d/stsguard.conf", dest);
	ASSERT_TRUE(file_has(path, "\nu stsagent "), "sysusers.d: the agent's user");
	snprintf(path, sizeof(path), "%s/etc/init.d/stsd", dest);
	ASSERT_TRUE(file_has(path, "\ncommand=\"/usr/bin/stsd\"\n"), "OpenRC stsd: command");
	ASSERT_EQ(access(path, X_OK), 0, "OpenRC stsd: executable");
	snprintf(path, sizeof(path), "%s/etc/conf.d/sts-collector", dest);
	ASSERT_EQ(access(path, R_OK), 0, "OpenRC: conf.d/sts-collector");
	ASSERT_EQ(test__run(out, sizeof(out), "grep -rl @BINDIR@ %s", dest), 1,
		  "no @BINDIR@ left in what was installed");

	/* PREFIX=/usr/local: units under the prefix (systemd searches it); OpenRC off. */
	if (!install_into("local", "/usr/local", false, dest, sizeof(dest)))
		return;
	snprintf(path, sizeof(path), "%s/usr/local/lib/systemd/system/stsd.service", dest);
	ASSERT_TRUE(file_has(path, "\nExecStart=/usr/local/bin/stsd daemon --notify\n"),
		    "PREFIX=/usr/local: the unit under the prefix, with its binary");
	snprintf(path, sizeof(path), "%s/etc/init.d", dest);
	ASSERT_NEQ(access(path, F_OK), 0, "no OpenRC scripts without OPENRC=1");
}

/*
 * The installed units under --root=DESTDIR, with the machine's targets copied there (the units
 * name them). Returns false (after a skip) without systemd-analyze.
 */
static bool units_root(char *dest, size_t len)
{
	if (test__run(NULL, 0, "systemd-analyze --version") != 0) {
		test__skip("no systemd-analyze (Debian package systemd; scripts/deps.sh)");
		return false;
	}
	if (!install_into("usr", "/usr", false, dest, len))
		return false;
	return ASSERT_EQ(test__run(NULL, 0,
				   "mkdir -p %s/usr/lib/systemd/system && "
				   "cp " UNIT_DIR "/*.target %s/usr/lib/systemd/system/",
				   dest, dest),
			 0, "the machine's targets beside the units");
}

void test_service_verify(void)
{
	char dest[PATH_MAX], out[8192];
	int st;

	if (!units_root(dest, sizeof(dest)))
		return;
	st = test__run(out, sizeof(out),
		       "systemd-analyze verify --man=no --generators=no --root=%s "
		       "stsd.service sts-collector.service",
		       dest);
	if (st || out[0])
		printf("%s", out);
	ASSERT_EQ(st, 0, "systemd-analyze verify: both units");
	ASSERT_STREQ(out, "", "not one warning (unknown directive, bad value, missing binary)");

	/* The same check on a unit with a directive systemd does not know: it must say so. */
	st = test__run(out, sizeof(out),
		       "sed -i 's/^ProtectHome=yes$/&\\nProtectHomes=yes/' %s" UNIT_DIR
		       "/stsd.service && systemd-analyze verify --man=no --generators=no "
		       "--root=%s stsd.service",
		       dest, dest);
	ASSERT_TRUE(strstr(out, "Unknown key 'ProtectHomes'") != NULL,
		    "a misspelt directive is reported (the check can fail)");
}

/* "Overall exposure level for UNIT: 1.2 OK" of systemd-analyze security, or -1. */
static double exposure(const char *dest, const char *unit)
{
	static char out[65536];
	const char *p;
	char pat[128];

	if (test__run(out, sizeof(out),
		      "systemd-analyze security --no-pager --offline=yes "
		      "--root=%s %s",
		      dest, unit) != 0)
		return -1;
	snprintf(pat, sizeof(pat), "Overall exposure level for %s: ", unit);
	p = strstr(out, pat);
	return p ? strtod(p + strlen(pat), NULL) : -1;
}

void test_service_security(void)
{
	char dest[PATH_MAX];
	double col, mon;

	if (!units_root(dest, sizeof(dest)))
		return;
	col = exposure(dest, "sts-collector.service");
	mon = exposure(dest, "stsd.service");
	printf("  systemd-analyze security: sts-collector.service %.1f, stsd.service %.1f "
	       "(0 best, 10 worst)\n",
	       col, mon);
	ASSERT_TRUE(col >= 0 && col < 2.0, "sts-collector.service: exposure below 2.0");
	/* Root with CAP_SYS_ADMIN for BPF by design: bounded so that it does not creep up. */
	ASSERT_TRUE(mon >= 0 && mon < 5.0, "stsd.service: exposure below 5.0");
}

void test_service_openrc(void)
{
	char dest[PATH_MAX], work[PATH_MAX + 16], v[64];
	static char out[16384];

	ASSERT_EQ(test__run(out, sizeof(out),
			    "sh -n dist/openrc/stsd && sh -n dist/openrc/sts-collector"),
		  0, "OpenRC scripts: sh -n");
	if (access("/sbin/openrc-run", X_OK) || access("/sbin/supervise-daemon", X_OK)) {
		test__skip("OpenRC is not installed (Debian package openrc; scripts/deps.sh)");
		return;
	}
	if (geteuid() != 0) {
		test__skip("running the OpenRC scripts needs root (a mount namespace, users)");
		return;
	}
	if (!install_into("openrc", "/usr/local", true, dest, sizeof(dest)))
		return;
	/* The collector runs as nobody: it must reach its state directory. */
	chmod(test__tmpdir(), 0755);
	snprintf(work, sizeof(work), "%s/openrc-work", test__tmpdir());
	if (!ASSERT_EQ(test__run(out, sizeof(out),
				 "mkdir -p %s && timeout 120 "
				 "tests/service/openrc-run.sh %s %s",
				 work, dest, work),
		       0, "tests/service/openrc-run.sh"))
		printf("%s", out);
	if (test__cur.verbose)
		printf("%s", out);
	ASSERT_RESULT(out, "collector-start", "0");
	ASSERT_RESULT(out, "collector-status", "0");
	ASSERT_TRUE(atoi(result(out, "collector-port", v, sizeof(v))) > 0, "collector-port");
	ASSERT_RESULT(out, "collector-user", "nobody");
	ASSERT_RESULT(out, "receipt-key-owner", "nobody");
	ASSERT_RESULT(out, "tls-key-group", "nogroup:640");
	ASSERT_RESULT(out, "collector-respawned", "yes");
	ASSERT_RESULT(out, "collector-stop", "0");
	ASSERT_RESULT(out, "collector-gone", "yes");
	ASSERT_RESULT(out, "collector-status-after", "3");
	ASSERT_RESULT(out, "stsd-noconf", "1 1");
	ASSERT_RESULT(out, "stsd-nopolicy", "1 1");
}

void test_service_systemd(void)
{
	char dest[PATH_MAX], work[PATH_MAX + 16];
	static char out[16384];
	int st;

	if (geteuid() != 0) {
		test__skip("running the units needs root (namespaces, BPF)");
		return;
	}
	if (access("/lib/systemd/systemd", X_OK) || test__run(NULL, 0, "command -v unshare") != 0) {
		test__skip("no /lib/systemd/systemd or unshare");
		return;
	}
	if (!install_into("systemd", "/usr/local", false, dest, sizeof(dest)))
		return;
	snprintf(work, sizeof(work), "%s/systemd-work", test__tmpdir());
	st = test__run(out, sizeof(out), "timeout 180 tests/service/systemd-run.sh %s %s", dest,
		       work);
	if (st == 77) {
		test__skip("%s", strstr(out, "SKIP: ") ? strstr(out, "SKIP: ") + 6 : out);
		return;
	}
	if (!ASSERT_EQ(st, 0, "tests/service/systemd-run.sh") || test__cur.verbose)
		printf("%s", out);
	ASSERT_RESULT(out, "manager", "running");
	ASSERT_RESULT(out, "sysusers", "sts-collector stsagent ");
	/* The collector: its unit as written, but for the loopback address. */
	ASSERT_RESULT(out, "collector-active", "active");
	ASSERT_RESULT(out, "receipt-key-owner", "sts-collector");
	ASSERT_RESULT(out, "collector-uid", "sts-collector");
	ASSERT_RESULT(out, "collector-capeff", "0000000000000000");
	ASSERT_RESULT(out, "collector-listening", "1");
	/* The monitor: BPF, cgroups, its agent as another user, within the unit's sandbox. */
	ASSERT_RESULT(out, "stsd-ready", "active");
	ASSERT_RESULT(out, "agent-approved", "yes");
	ASSERT_RESULT(out, "stored", "1");
	ASSERT_RESULT(out, "receipt-verified", "1");
	ASSERT_RESULT(out, "stsd-state", "inactive");
	ASSERT_RESULT(out, "stsd-result", "success");
	ASSERT_RESULT(out, "stsd-status", "0");
	/* Stopped: SIGTERM, the drain, exit 0. */
	ASSERT_RESULT(out, "collector-stop", "success/0");
	ASSERT_RESULT(out, "collector-drained", "1");
	if (test__cur.failed) {
		test__run(out, sizeof(out), "tail -n 20 %s/logs/*.log %s/logs/*.status", work,
			  work);
		printf("%s", out);
	}
}
