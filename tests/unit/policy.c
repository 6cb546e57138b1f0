// SPDX-License-Identifier: GPL-2.0-only
/*
 * lib/device/policy: a full policy field by field, every class of error with its line and reason,
 * the limits, and the shipped policies. Policies are written into the test's scratch directory
 * ('@' in a template stands for it), so every path they name really exists.
 */
#include "test.h"
#include "core/crypto.h"
#include "device/policy.h"
#include "core/util.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define SRC "policy.conf"

static char root[256];

/* The scratch directory, canonical (the parser refuses "//" and friends). */
static const char *tmp(void)
{
	char *real = realpath(test__tmpdir(), NULL);

	snprintf(root, sizeof(root), "%s", real ? real : test__tmpdir());
	free(real);
	return root;
}

/* Replace each '@' of tmpl with the scratch directory. */
static char *expand(const char *tmpl)
{
	size_t n = strlen(tmpl) + 1, rl = strlen(tmp()), i, j = 0;
	const char *c;
	char *out;

	for (c = tmpl; *c; c++)
		if (*c == '@')
			n += rl;
	out = malloc(n);
	if (!out)
		abort();
	for (i = 0; tmpl[i]; i++) {
		if (tmpl[i] == '@') {
			memcpy(out + j, root, rl);
			j += rl;
		} else {
			out[j++] = tmpl[i];
		}
	}
	out[j] = '\0';
	return out;
}

static int make_file(const char *rel, mode_t mode)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", tmp(), rel);
	fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, mode);
	if (fd < 0)
		return -errno;
	close(fd);
	return chmod(path, mode) < 0 ? -errno : 0;
}

/* @/a @/b (0644), @/bin (0755), @/dir/, @/state/, @/link -> a, @/hard = a, @/dirlink -> dir. */
static bool fixture(void)
{
	char p[PATH_MAX], q[PATH_MAX];
	bool ok = true;

	ok &= ASSERT_OK(make_file("a", 0644), "fixture a");
	ok &= ASSERT_OK(make_file("b", 0644), "fixture b");
	ok &= ASSERT_OK(make_file("bin", 0755), "fixture bin");
	snprintf(p, sizeof(p), "%s/dir", tmp());
	ok &= ASSERT_OK(mkdir(p, 0755), "fixture dir");
	snprintf(p, sizeof(p), "%s/state", tmp());
	ok &= ASSERT_OK(mkdir(p, 0700), "fixture state");
	snprintf(p, sizeof(p), "%s/link", tmp());
	ok &= ASSERT_OK(symlink("a", p), "fixture symlink");
	snprintf(p, sizeof(p), "%s/dirlink", tmp());
	ok &= ASSERT_OK(symlink("dir", p), "fixture dir symlink");
	snprintf(p, sizeof(p), "%s/a", tmp());
	snprintf(q, sizeof(q), "%s/hard", tmp());
	ok &= ASSERT_OK(link(p, q), "fixture hardlink");
	return ok;
}

static bool is_zeroed(const struct sts_policy *pol)
{
	static const struct sts_policy zero;

	return memcmp(pol, &zero, sizeof(zero)) == 0;
}

/*
 * Parse the expanded template; expect failure with "policy.conf:LINE: " (line 0: the whole
 * file, "policy.conf: ") followed by a message that contains the expanded want, and a policy
 * left all zero.
 */
static void expect_error_c(const char *tmpl, bool create, int line, const char *want_tmpl,
			   int want_ret)
{
	char *text = expand(tmpl), *want = expand(want_tmpl);
	struct sts_policy pol;
	char err[1024], prefix[64];
	int ret;

	memset(&pol, 0xa5, sizeof(pol));
	ret = sts_policy_parse(SRC, text, strlen(text), create, &pol, err, sizeof(err));
	if (line)
		snprintf(prefix, sizeof(prefix), "%s:%d: ", SRC, line);
	else
		snprintf(prefix, sizeof(prefix), "%s: ", SRC);
	if (!TEST__CHECK(ret == want_ret, want, "returned %d (%s), expected %d; message \"%s\"",
			 ret, strerror(-ret), want_ret, err))
		goto cleanup;
	TEST__CHECK(strncmp(err, prefix, strlen(prefix)) == 0, want,
		    "message \"%s\" does not start with \"%s\"", err, prefix);
	TEST__CHECK(strstr(err, want) != NULL, want, "message \"%s\" lacks \"%s\"", err, want);
	ASSERT_TRUE(is_zeroed(&pol), "nothing half-filled on error");
	if (test__cur.verbose)
		printf("    %s\n", err);
cleanup:
	free(text);
	free(want);
}

static void expect_error(const char *tmpl, int line, const char *want_tmpl, int want_ret)
{
	expect_error_c(tmpl, false, line, want_tmpl, want_ret);
}

static int parse_ok(const char *tmpl, bool create, struct sts_policy *pol)
{
	char *text = expand(tmpl);
	char err[1024];
	int ret;

	ret = sts_policy_parse(SRC, text, strlen(text), create, pol, err, sizeof(err));
	TEST__CHECK(ret == 0, "parse", "%d: %s", ret, err);
	free(text);
	return ret;
}

static void expect_ok(const char *tmpl, const char *name)
{
	struct sts_policy pol;

	if (TEST__CHECK(parse_ok(tmpl, false, &pol) == 0, name, "rejected"))
		sts_policy_free(&pol);
}

static bool same_inode(const char *path, const struct sts_file_rule *r)
{
	struct stat st;

	return stat(path, &st) == 0 && st.st_dev == r->dev && st.st_ino == r->ino;
}

void test_policy_full(void)
{
	struct sts_policy pol;
	char buf[64], path[PATH_MAX];
	uint8_t sha[STS_SHA256_LEN];
	uint8_t v4[4], v6[16];
	struct stat st;
	char *text;

	if (!fixture())
		return;
	/* Line 6 names a symlink: the rule must carry the target's (dev, ino). */
	text = expand("# a full policy: every directive, comments, blank lines, tabs\n"
		      "\n"
		      "collector 127.0.0.1:8443\n"
		      "  collector\t[::1]:8443   # inline comment after the value\n"
		      "collector [2001:db8::10]:443\n"
		      "allow-read @/link\n"
		      "allow-read @/b\n"
		      "allow-read-dir @/dirlink\n"
		      "allow-exec @/bin\n"
		      "state-dir @/new/deeper/state\n"
		      "allow-unix /run/stsguard/monitor.sock\n"
		      "allow-unix /run/other.sock\n"
		      "tls-allowance 0\n"
		      "report-max 65536\n"
		      "deny-outside yes\n"
		      "legacy-deny 198.51.100.7:0\n"
		      "legacy-deny [2001:db8::bad]:80\n"
		      "\t# indented comment\n"
		      "allow-read-dir @/state");
	if (!ASSERT_OK(sts_policy_parse(SRC, text, strlen(text), true, &pol, buf, sizeof(buf)),
		       "parse full policy"))
		goto out;

	ASSERT_STREQ(pol.source, SRC, "source");
	ASSERT_OK(sts_sha256(text, strlen(text), sha), "sha256");
	ASSERT_MEMEQ(pol.sha256, sha, sizeof(sha), "sha256 of the exact bytes");

	ASSERT_EQ(pol.n_collectors, 3, "3 collectors");
	inet_pton(AF_INET, "127.0.0.1", v4);
	ASSERT_EQ(pol.collectors[0].family, AF_INET, "c0 family");
	ASSERT_MEMEQ(pol.collectors[0].addr, v4, 4, "c0 addr");
	ASSERT_EQ(pol.collectors[0].port, 8443, "c0 port (host order)");
	ASSERT_EQ(pol.collectors[0].line, 3, "c0 line");
	inet_pton(AF_INET6, "::1", v6);
	ASSERT_EQ(pol.collectors[1].family, AF_INET6, "c1 family");
	ASSERT_MEMEQ(pol.collectors[1].addr, v6, 16, "c1 addr");
	ASSERT_EQ(pol.collectors[1].port, 8443, "c1 port");
	ASSERT_EQ(pol.collectors[1].line, 4, "c1 line");
	sts_endpoint_str(&pol.collectors[0], buf, sizeof(buf));
	ASSERT_STREQ(buf, "127.0.0.1:8443", "c0 string");
	sts_endpoint_str(&pol.collectors[1], buf, sizeof(buf));
	ASSERT_STREQ(buf, "[::1]:8443", "c1 string");
	sts_endpoint_str(&pol.collectors[2], buf, sizeof(buf));
	ASSERT_STREQ(buf, "[2001:db8::10]:443", "c2 string");
	ASSERT_EQ(pol.collectors[2].line, 5, "c2 line");

	ASSERT_EQ(pol.n_legacy, 2, "2 legacy");
	sts_endpoint_str(&pol.legacy[0], buf, sizeof(buf));
	ASSERT_STREQ(buf, "198.51.100.7:0", "legacy 0: every port");
	ASSERT_EQ(pol.legacy[0].port, 0, "legacy 0 port 0");
	ASSERT_EQ(pol.legacy[0].line, 16, "legacy 0 line");
	sts_endpoint_str(&pol.legacy[1], buf, sizeof(buf));
	ASSERT_STREQ(buf, "[2001:db8::bad]:80", "legacy 1");

	ASSERT_EQ(pol.n_files, 6, "6 file rules");
	snprintf(path, sizeof(path), "%s/link", tmp());
	ASSERT_STREQ(pol.files[0].path, path, "f0 path as written (the symlink)");
	ASSERT_EQ(pol.files[0].kind, STS_FILE_READ, "f0 kind");
	ASSERT_EQ(pol.files[0].line, 6, "f0 line");
	snprintf(path, sizeof(path), "%s/a", tmp());
	ASSERT_TRUE(same_inode(path, &pol.files[0]), "symlink rule names the target's dev/ino");
	snprintf(path, sizeof(path), "%s/link", tmp());
	ASSERT_OK(lstat(path, &st), "lstat link");
	ASSERT_FALSE(st.st_ino == pol.files[0].ino, "not the symlink's own inode");
	snprintf(path, sizeof(path), "%s/b", tmp());
	ASSERT_TRUE(same_inode(path, &pol.files[1]), "f1 dev/ino");
	ASSERT_EQ(pol.files[2].kind, STS_FILE_READ_DIR, "f2 kind");
	snprintf(path, sizeof(path), "%s/dir", tmp());
	ASSERT_TRUE(same_inode(path, &pol.files[2]), "dir symlink names the directory");
	ASSERT_EQ(pol.files[3].kind, STS_FILE_EXEC, "f3 kind");
	snprintf(path, sizeof(path), "%s/bin", tmp());
	ASSERT_TRUE(same_inode(path, &pol.files[3]), "f3 dev/ino");
	ASSERT_EQ(pol.files[3].line, 9, "f3 line");
	ASSERT_EQ(pol.files[4].kind, STS_FILE_STATE_DIR, "f4 kind");
	ASSERT_EQ(pol.files[4].line, 10, "f4 line");
	snprintf(path, sizeof(path), "%s/new/deeper/state", tmp());
	ASSERT_STREQ(pol.state_dir, path, "state_dir");
	ASSERT_STREQ(pol.files[4].path, path, "state-dir rule path");
	ASSERT_TRUE(same_inode(path, &pol.files[4]), "state dir created and resolved");
	ASSERT_OK(stat(path, &st), "stat state dir");
	ASSERT_EQ(st.st_mode & 07777, 0700, "state dir mode 0700");
	snprintf(path, sizeof(path), "%s/new", tmp());
	ASSERT_OK(stat(path, &st), "stat state dir parent");
	ASSERT_EQ(st.st_mode & 07777, 0755, "created parents 0755: the agent must traverse them");
	ASSERT_EQ(pol.files[5].kind, STS_FILE_READ_DIR, "f5 kind");
	ASSERT_EQ(pol.files[5].line, 19, "f5 line (no final newline)");

	ASSERT_EQ(pol.n_unix, 2, "2 unix");
	ASSERT_STREQ(pol.unix_paths[0], "/run/stsguard/monitor.sock", "unix 0");
	ASSERT_STREQ(pol.unix_paths[1], "/run/other.sock", "unix 1");
	ASSERT_EQ(pol.tls_allowance, 0, "tls-allowance");
	ASSERT_EQ(pol.report_max, 65536, "report-max");
	ASSERT_TRUE(pol.deny_outside, "deny-outside");

	sts_policy_free(&pol);
	ASSERT_TRUE(is_zeroed(&pol), "free zeroes the policy");
	sts_policy_free(&pol); /* twice is harmless */
out:
	free(text);
}

void test_policy_defaults(void)
{
	struct sts_policy pol;

	if (!fixture())
		return;
	if (parse_ok("collector 10.0.0.1:443\nstate-dir @/state\n", false, &pol))
		return;
	ASSERT_EQ(pol.tls_allowance, 1024, "default tls-allowance");
	ASSERT_EQ(pol.report_max, 4096, "default report-max");
	ASSERT_FALSE(pol.deny_outside, "default deny-outside no");
	ASSERT_EQ(pol.n_files, 1, "only the state dir");
	ASSERT_EQ(pol.n_unix + pol.n_legacy, 0, "no unix, no legacy");
	sts_policy_free(&pol);
	expect_ok("collector 10.0.0.1:1\nstate-dir @/state\ntls-allowance 1048576\nreport-max 64\n"
		  "deny-outside no\ncollector 10.0.0.1:65535\n",
		  "range ends accepted");
}

void test_policy_syntax_errors(void)
{
	static const char known[] = "(known: collector, allow-read, allow-read-dir, allow-exec, "
				    "state-dir, allow-unix, tls-allowance, report-max, "
				    "deny-outside, legacy-deny, env, allow-syscall, report-key)";
	char want[256];

	expect_error("# c\n\nalow-read /etc/passwd\n", 3, "unknown directive \"alow-read\"",
		     -EINVAL);
	snprintf(want, sizeof(want), "unknown directive \"Collector\" %s", known);
	expect_error("Collector 1.2.3.4:5\n", 1, want, -EINVAL);
	expect_error("collector\n", 1, "collector: missing value (usage: collector ADDR:PORT)",
		     -EINVAL);
	expect_error("collector   # comment only\n", 1, "collector: missing value", -EINVAL);
	expect_error("\n\ncollector 1.2.3.4:443 extra\n", 3, "collector: unexpected \"extra\"",
		     -EINVAL);
	expect_error("tls-allowance 10 20 # x\n", 1, "tls-allowance: unexpected \"20\"", -EINVAL);
	expect_error("collector 1.2.3.4:443#x\n", 1,
		     "collector \"1.2.3.4:443#x\": port is not a decimal number", -EINVAL);

	/* addresses and ports */
	expect_error("collector 10.0.0.1:99999\n", 1,
		     "collector \"10.0.0.1:99999\": port out of range 1..65535", -EINVAL);
	expect_error("collector 10.0.0.1:0\n", 1, "port out of range 1..65535", -EINVAL);
	expect_error("collector 10.0.0.1:4294967296\n", 1, "port out of range 1..65535", -EINVAL);
	expect_error("collector 10.0.0.1\n", 1, "collector \"10.0.0.1\": missing ':PORT'", -EINVAL);
	expect_error("collector 10.0.0.1:\n", 1, "port is not a decimal number", -EINVAL);
	expect_error("collector 10.0.0.1:+80\n", 1, "port is not a decimal number", -EINVAL);
	expect_error("collector 10.0.0.1:080\n", 1, "port is not a decimal number", -EINVAL);
	expect_error("collector 10.0.0.1:0x50\n", 1, "port is not a decimal number", -EINVAL);
	expect_error("collector 10.0.0.256:80\n", 1, "not an IPv4 address", -EINVAL);
	expect_error("collector 010.0.0.1:80\n", 1, "not an IPv4 address", -EINVAL);
	expect_error("collector 10.1:80\n", 1, "not an IPv4 address", -EINVAL);
	expect_error("collector example.com:443\n", 1, "host names are not accepted", -EINVAL);
	expect_error("collector :443\n", 1, "not an IP address", -EINVAL);
	expect_error("collector ::1:443\n", 1, "an IPv6 address must be in brackets", -EINVAL);
	expect_error("collector [::1]443\n", 1, "expected ':PORT' after ']'", -EINVAL);
	expect_error("collector [::1:443\n", 1, "missing ']'", -EINVAL);
	expect_error("collector []:443\n", 1, "not an IP address", -EINVAL);
	expect_error("collector [fe80::1%eth0]:443\n", 1, "not an IPv6 address", -EINVAL);
	expect_error("collector [1.2.3.4]:443\n", 1, "not an IPv6 address", -EINVAL);
	expect_error("collector 0.0.0.0:443\n", 1, "the unspecified address", -EINVAL);
	expect_error("collector [::]:443\n", 1, "the unspecified address", -EINVAL);
	expect_error("collector 1.2.3.4:443\ncollector 1.2.3.4:443\n", 2,
		     "collector 1.2.3.4:443: duplicate of line 1", -EINVAL);
	expect_error("collector [::1]:443\ncollector [0::1]:443\n", 2, "duplicate of line 1",
		     -EINVAL);
	expect_error("legacy-deny 9.9.9.9:65536\n", 1, "port out of range 0..65535", -EINVAL);
	expect_error("legacy-deny 9.9.9.9:0\nlegacy-deny 9.9.9.9:0\n", 2, "duplicate of line 1",
		     -EINVAL);

	/* numbers and booleans */
	expect_error("tls-allowance 1048577\n", 1, "tls-allowance 1048577: out of range 0..1048576",
		     -EINVAL);
	expect_error("tls-allowance -1\n", 1, "tls-allowance \"-1\": not a decimal number",
		     -EINVAL);
	expect_error("tls-allowance 08192\n", 1, "not a decimal number", -EINVAL);
	expect_error("tls-allowance 8k\n", 1, "not a decimal number", -EINVAL);
	expect_error("tls-allowance 99999999999999999999\n", 1, "out of range", -EINVAL);
	expect_error("tls-allowance 1\ntls-allowance 1\n", 2,
		     "tls-allowance given twice (first on line 1)", -EINVAL);
	expect_error("report-max 63\n", 1, "report-max 63: out of range 64..65536", -EINVAL);
	expect_error("report-max 65537\n", 1, "out of range 64..65536", -EINVAL);
	expect_error("report-max 100\n\nreport-max 100\n", 3, "given twice (first on line 1)",
		     -EINVAL);
	expect_error("deny-outside true\n", 1, "deny-outside \"true\": expected yes or no",
		     -EINVAL);
	expect_error("deny-outside YES\n", 1, "expected yes or no", -EINVAL);
	expect_error("deny-outside no\ndeny-outside no\n", 2, "given twice (first on line 1)",
		     -EINVAL);

	/* whole-file requirements: no line number */
	expect_error("", 0, "no collector line: at least one is required", -EINVAL);
	expect_error("# only a comment\n", 0, "no collector line", -EINVAL);
	expect_error("collector 1.2.3.4:443\n", 0, "no state-dir line: exactly one is required",
		     -EINVAL);
}

void test_policy_file_errors(void)
{
	if (!fixture())
		return;
	expect_error("allow-read @/missing\n", 1, "allow-read @/missing: No such file or directory",
		     -ENOENT);
	expect_error("allow-read @/a/x\n", 1, "allow-read @/a/x: Not a directory", -ENOTDIR);
	expect_error("allow-read etc/passwd\n", 1,
		     "allow-read \"etc/passwd\": path must be absolute", -EINVAL);
	expect_error("allow-read ~/x\n", 1, "path must be absolute", -EINVAL);
	expect_error("allow-read @//a\n", 1, "path must be canonical", -EINVAL);
	expect_error("allow-read @/./a\n", 1, "path must be canonical", -EINVAL);
	expect_error("allow-read @/dir/../a\n", 1, "path must be canonical", -EINVAL);
	expect_error("allow-read-dir @/dir/\n", 1, "path must be canonical", -EINVAL);
	expect_error("allow-read-dir @/dir/.\n", 1, "path must be canonical", -EINVAL);
	expect_error("allow-read @/dir\n", 1,
		     "allow-read @/dir: a directory, not a regular file (allow-read-dir", -EINVAL);
	expect_error("allow-read /dev/null\n", 1,
		     "allow-read /dev/null: a character device, not a "
		     "regular file",
		     -EINVAL);
	expect_error("allow-read-dir @/a\n", 1,
		     "allow-read-dir @/a: a regular file, not a directory", -EINVAL);
	expect_error("allow-exec @/a\n", 1, "allow-exec @/a: not executable (mode 0644)", -EINVAL);
	expect_error("allow-exec @/dir\n", 1, "allow-exec @/dir: a directory, not a regular file",
		     -EINVAL);
	expect_error("allow-read @/a\n# x\nallow-read @/a\n", 3,
		     "allow-read @/a: duplicate of line 1", -EINVAL);
	expect_error("allow-read @/a\nallow-read @/link\n", 2,
		     "allow-read @/link: same file as @/a on line 1", -EINVAL);
	expect_error("allow-read @/a\nallow-read @/hard\n", 2,
		     "allow-read @/hard: same file as @/a on line 1", -EINVAL);
	expect_error("allow-read-dir @/dir\nallow-read-dir @/dirlink\n", 2, "same file as @/dir",
		     -EINVAL);
	expect_error("state-dir @/state\nstate-dir @/state\n", 2,
		     "state-dir given twice (first on line 1); exactly one is allowed", -EINVAL);
	expect_error("state-dir /\n", 1, "the root directory cannot be the state directory",
		     -EINVAL);
	expect_error("state-dir rel\n", 1, "path must be absolute", -EINVAL);
	/* State dir problems are found after the whole file is read, reported on its own line. */
	expect_error("collector 1.2.3.4:1\n\nstate-dir @/a\n", 3,
		     "state-dir @/a: a regular file, not a directory", -EINVAL);
	expect_error("collector 1.2.3.4:1\nstate-dir @/nope\n", 2,
		     "state-dir @/nope: No such file or directory", -ENOENT);
	expect_error("allow-unix run/x.sock\n", 1, "path must be absolute", -EINVAL);
	expect_error("allow-unix /run/x.sock\nallow-unix /run/x.sock\n", 2,
		     "allow-unix /run/x.sock: duplicate of line 1", -EINVAL);
	expect_error("allow-unix /run/"
		     "0123456789012345678901234567890123456789012345678901234567890123456789"
		     "0123456789012345678901234567890123456789.sock\n",
		     1, "path longer than 107 bytes", -EINVAL);
	expect_ok("collector 1.2.3.4:1\nstate-dir @/state\nallow-unix /run/"
		  "0123456789012345678901234567890123456789012345678901234567890123456789"
		  "01234567890123456789012345678901\n",
		  "107-byte socket path accepted");
	/* Same inode, different kinds: reading a binary you may run is not a duplicate. */
	expect_ok("collector 1.2.3.4:1\nstate-dir @/state\nallow-read @/bin\nallow-exec @/bin\n",
		  "same file, two kinds");
	/* A legacy rule that blocks a collector: reported on the legacy-deny line. */
	expect_error("collector 1.2.3.4:443\nstate-dir @/state\nlegacy-deny 1.2.3.4:0\n", 3,
		     "legacy-deny 1.2.3.4:0: blocks collector 1.2.3.4:443 of line 1", -EINVAL);
	expect_error("legacy-deny [::1]:443\ncollector [::1]:443\nstate-dir @/state\n", 1,
		     "blocks collector [::1]:443 of line 2", -EINVAL);
	expect_ok("collector 1.2.3.4:443\nstate-dir @/state\nlegacy-deny 1.2.3.4:80\n",
		  "legacy on another port of the collector's address");
}

void test_policy_bytes(void)
{
	static const char nul[] = "collector 1.2.3.4:1\nstate-dir /x\0y\n";
	struct sts_policy pol;
	char err[256];
	int ret;

	memset(&pol, 0xa5, sizeof(pol));
	ret = sts_policy_parse(SRC, nul, sizeof(nul) - 1, false, &pol, err, sizeof(err));
	ASSERT_EQ(ret, -EINVAL, "NUL rejected");
	ASSERT_STREQ(err, "policy.conf:2: NUL byte at column 13", "NUL message");
	ASSERT_TRUE(is_zeroed(&pol), "NUL: zeroed");

	/* CRLF is rejected, not stripped: see docs/policy.md. */
	expect_error("collector 1.2.3.4:1\r\n", 1,
		     "carriage return at column 20: DOS (CRLF) line endings are not accepted",
		     -EINVAL);
	expect_error("# c\ncollector 1.2.3.4:1\nstate-dir /x\r\n", 3,
		     "carriage return at column 13", -EINVAL);
	expect_error("# comment \x1b[31m red\n", 1, "control character 0x1b at column 11", -EINVAL);
	expect_error("\n\n# \x7f\n", 3, "control character 0x7f at column 3", -EINVAL);
	expect_error("\xef\xbb\xbf"
		     "collector 1.2.3.4:1\n",
		     1, "byte order mark", -EINVAL);
	/* Bytes >= 0x80 are not control characters: a UTF-8 comment is fine. */
	if (fixture())
		expect_ok("# r\xc3\xa9sum\xc3\xa9 \xe2\x80\x94 UTF-8 in a comment\n"
			  "collector 1.2.3.4:1\nstate-dir @/state\n",
			  "UTF-8 comment");
}

void test_policy_whitespace(void)
{
	struct sts_policy pol;

	if (!fixture())
		return;
	/* '#' starts a comment only at the start of a word: inside one it is part of it. */
	expect_error("collector 10.0.0.1:443\nstate-dir @/state#x\n", 2,
		     "state-dir @/state#x: No such file or directory", -ENOENT);
	expect_error("report-max 100#\n", 1, "report-max \"100#\": not a decimal number", -EINVAL);
	if (!parse_ok("\n\n   \n\t\n# comment\n   # indented comment\n"
		      "\t collector \t 10.0.0.1:443 \t \n"
		      "state-dir @/state #comment\n"
		      "report-max 100\t#comment",
		      false, &pol)) {
		ASSERT_EQ(pol.collectors[0].line, 7, "line numbers count blank and comment lines");
		ASSERT_EQ(pol.report_max, 100, "last line without newline");
		sts_policy_free(&pol);
	}
}

static void parse_expect_fail(const char *tmpl, int line, const char *want)
{
	expect_error(tmpl, line, want, -EINVAL);
}

void test_policy_limits(void)
{
	size_t cap = STS_POLICY_MAX_SIZE + 2, i;
	char *text = malloc(cap), *p;
	char err[256], name[32];
	struct sts_policy pol;
	int ret;

	if (!ASSERT_OK_PTR(text, "malloc") || !fixture())
		goto out;

	/* 16 collectors fine, a 17th is refused on its line. */
	p = text;
	for (i = 0; i < STS_MAX_ENDPOINTS; i++)
		p += sprintf(p, "collector 10.0.0.1:%zu\n", i + 1);
	p += sprintf(p, "state-dir @/state\n");
	expect_ok(text, "16 collectors");
	p += sprintf(p, "collector 10.0.0.2:1\n");
	parse_expect_fail(text, STS_MAX_ENDPOINTS + 2, "too many collector lines (at most 16)");

	p = text;
	for (i = 0; i <= STS_MAX_ENDPOINTS; i++)
		p += sprintf(p, "legacy-deny 10.0.0.1:%zu\n", i + 1);
	parse_expect_fail(text, STS_MAX_ENDPOINTS + 1, "too many legacy-deny lines (at most 16)");

	p = text;
	for (i = 0; i <= STS_MAX_UNIX; i++)
		p += sprintf(p, "allow-unix /run/s%zu\n", i);
	parse_expect_fail(text, STS_MAX_UNIX + 1, "too many allow-unix lines (at most 16)");

	/* 256 file rules, state-dir included; one more is refused. */
	p = text;
	p += sprintf(p, "collector 10.0.0.1:1\nstate-dir @/state\n");
	for (i = 0; i < STS_MAX_FILES - 1; i++) {
		snprintf(name, sizeof(name), "f%zu", i);
		if (!ASSERT_OK(make_file(name, 0644), "make file"))
			goto out;
		p += sprintf(p, "allow-read @/%s\n", name);
	}
	expect_ok(text, "256 file rules");
	p += sprintf(p, "allow-read-dir @/dir\n");
	parse_expect_fail(text, STS_MAX_FILES + 2, "too many file rules (at most 256");

	/* Lines: 4096 bytes is the longest; the comment is long, the line is otherwise fine. */
	p = text;
	p += sprintf(p, "collector 10.0.0.1:1\nstate-dir @/state\n#");
	memset(p, 'x', 4095);
	p += 4095;
	strcpy(p, "\n");
	expect_ok(text, "4096-byte line");
	p[0] = 'x';
	strcpy(p + 1, "\n");
	parse_expect_fail(text, 3, "line longer than 4096 bytes");

	/* Size: the limit is the limit, one byte more is -EFBIG before anything is parsed. */
	memset(text, '#', STS_POLICY_MAX_SIZE + 1);
	memset(&pol, 0xa5, sizeof(pol));
	ret = sts_policy_parse(SRC, text, STS_POLICY_MAX_SIZE + 1, false, &pol, err, sizeof(err));
	ASSERT_EQ(ret, -EFBIG, "too large");
	ASSERT_STREQ(err, "policy.conf: 262145 bytes, larger than the limit of 262144 bytes",
		     "too large message");
	ASSERT_TRUE(is_zeroed(&pol), "too large: zeroed");
	/* A small err buffer truncates but never overflows; a NULL one is allowed. */
	ret = sts_policy_parse(SRC, "bogus\n", 6, false, &pol, err, 8);
	ASSERT_EQ(ret, -EINVAL, "tiny err buffer");
	ASSERT_STREQ(err, "policy.", "truncated message");
	ASSERT_EQ(sts_policy_parse(SRC, "bogus\n", 6, false, &pol, NULL, 0), -EINVAL, "NULL err");
out:
	free(text);
}

void test_policy_state_dir(void)
{
	struct sts_policy pol;
	char path[PATH_MAX];
	struct stat st;

	/* Not created unless asked (the fuzzer and dry runs must not touch the disk). */
	expect_error("collector 1.2.3.4:1\nstate-dir @/s/t\n", 2, "No such file or directory",
		     -ENOENT);
	snprintf(path, sizeof(path), "%s/s", tmp());
	ASSERT_ERR(stat(path, &st), "not created without create_state_dir");

	/* A policy rejected for a later line creates nothing. */
	expect_error_c("collector 1.2.3.4:1\nstate-dir @/s/t\nbogus\n", true, 3,
		       "unknown directive \"bogus\"", -EINVAL);
	ASSERT_ERR(stat(path, &st), "not created for a rejected policy");

	/* An existing directory keeps its mode: the parser creates, it does not repair. */
	ASSERT_OK(mkdir(path, 0755), "mkdir s");
	snprintf(path, sizeof(path), "%s/s/t", tmp());
	ASSERT_OK(mkdir(path, 0750), "mkdir s/t");
	if (parse_ok("collector 1.2.3.4:1\nstate-dir @/s/t\n", true, &pol) == 0) {
		ASSERT_OK(stat(path, &st), "stat");
		ASSERT_EQ(st.st_mode & 07777, 0750, "existing mode kept");
		ASSERT_TRUE(same_inode(path, &pol.files[0]), "resolved");
		sts_policy_free(&pol);
	}
	/* A file in the way of mkdir -p. */
	ASSERT_OK(make_file("f", 0644), "file in the way");
	expect_error("collector 1.2.3.4:1\nstate-dir @/f/x\n", 2, "No", -ENOTDIR);
}

void test_policy_load(void)
{
	struct sts_policy pol;
	char path[PATH_MAX], err[512], *text;
	uint8_t sha[STS_SHA256_LEN];
	int ret;

	if (!fixture())
		return;
	text = expand("collector 1.2.3.4:1\nstate-dir @/state\n");
	snprintf(path, sizeof(path), "%s/p.conf", tmp());
	ASSERT_OK(sts_write_file_atomic(path, text, strlen(text), 0644), "write policy");
	ret = sts_policy_load(path, false, &pol, err, sizeof(err));
	if (ASSERT_OK(ret, "load")) {
		ASSERT_STREQ(pol.source, path, "source is the path");
		sts_sha256(text, strlen(text), sha);
		ASSERT_MEMEQ(pol.sha256, sha, sizeof(sha), "sha256 of the file");
		sts_policy_free(&pol);
	}
	free(text);

	snprintf(path, sizeof(path), "%s/missing.conf", tmp());
	ret = sts_policy_load(path, false, &pol, err, sizeof(err));
	ASSERT_EQ(ret, -ENOENT, "missing file");
	ASSERT_TRUE(strstr(err, "missing.conf: No such file or directory") != NULL,
		    "missing file message");

	text = expand("collector 1.2.3.4:1\nstate-dir @/state\ncollector 1.2.3.4:1\n");
	snprintf(path, sizeof(path), "%s/dup.conf", tmp());
	ASSERT_OK(sts_write_file_atomic(path, text, strlen(text), 0644), "write policy");
	free(text);
	ret = sts_policy_load(path, false, &pol, err, sizeof(err));
	ASSERT_EQ(ret, -EINVAL, "bad file");
	snprintf(path, sizeof(path), "%s/dup.conf:3: collector 1.2.3.4:1: duplicate of line 1",
		 tmp());
	ASSERT_STREQ(err, path, "message names the file and line");

	text = malloc(STS_POLICY_MAX_SIZE + 1);
	if (!ASSERT_OK_PTR(text, "malloc"))
		return;
	memset(text, '\n', STS_POLICY_MAX_SIZE + 1);
	snprintf(path, sizeof(path), "%s/big.conf", tmp());
	ASSERT_OK(sts_write_file_atomic(path, text, STS_POLICY_MAX_SIZE + 1, 0644), "write big");
	free(text);
	ret = sts_policy_load(path, false, &pol, err, sizeof(err));
	ASSERT_EQ(ret, -EFBIG, "too big");
	ASSERT_TRUE(strstr(err, "larger than the limit of 262144 bytes") != NULL,
		    "too big message");
	ASSERT_TRUE(is_zeroed(&pol), "too big: zeroed");
}

void test_policy_endpoint_str(void)
{
	struct sts_endpoint ep = { .family = AF_INET6, .port = 65535 };
	char buf[64];

	inet_pton(AF_INET6, "2001:db8:0:0:1:0:0:1", ep.addr);
	sts_endpoint_str(&ep, buf, sizeof(buf));
	ASSERT_STREQ(buf, "[2001:db8::1:0:0:1]:65535", "v6 canonical text");
	ep.family = AF_INET;
	inet_pton(AF_INET, "192.0.2.1", ep.addr);
	ep.port = 0;
	sts_endpoint_str(&ep, buf, sizeof(buf));
	ASSERT_STREQ(buf, "192.0.2.1:0", "v4");
	sts_endpoint_str(&ep, buf, 5);
	ASSERT_STREQ(buf, "192.", "truncated");
	ep.family = 0;
	sts_endpoint_str(&ep, buf, sizeof(buf));
	ASSERT_STREQ(buf, "(family 0)", "no family");
}

/*
 * The shipped policies name a real device's files, which this machine lacks: rebase every
 * path under the scratch directory, create what each line needs there, and parse that. The
 * syntax, the kinds and the values are then exactly the shipped ones. Also check that every
 * directive line has a comment right above it or on it (docs/policy.md explains them).
 */
static void check_shipped(const char *file)
{
	static const char *const path_kinds[] = { "allow-read ", "allow-read-dir ", "allow-exec ",
						  "state-dir " };
	char *buf = NULL, *out = NULL, *line, *save = NULL, err[1024];
	size_t len, i, o = 0, cap;
	struct sts_policy pol;
	bool prev_comment = false;
	int ret;

	ret = sts_read_file(file, STS_POLICY_MAX_SIZE, &buf, &len);
	if (!ASSERT_OK(ret, file)) {
		printf("    run the tests from the repository root (%s not found)\n", file);
		return;
	}
	cap = len * 2 + 65536;
	out = malloc(cap);
	if (!ASSERT_OK_PTR(out, "malloc"))
		goto cleanup;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char full[PATH_MAX], rel[PATH_MAX];
		const char *arg = NULL;
		mode_t mode;

		if (line[0] == '#') {
			prev_comment = true;
			o += snprintf(out + o, cap - o, "%s\n", line);
			continue;
		}
		if (line[0] && !prev_comment && !strchr(line, '#'))
			TEST__CHECK(false, "every directive has a comment", "%s: \"%s\" has none",
				    file, line);
		prev_comment = false;
		for (i = 0; i < ARRAY_SIZE(path_kinds); i++)
			if (strncmp(line, path_kinds[i], strlen(path_kinds[i])) == 0)
				arg = line + strlen(path_kinds[i]);
		if (!arg) {
			o += snprintf(out + o, cap - o, "%s\n", line);
			continue;
		}
		snprintf(full, sizeof(full), "%s/root%s", tmp(), arg);
		/* Parents first, then the file itself with the mode its kind requires. */
		snprintf(rel, sizeof(rel), "%s", full);
		*strrchr(rel, '/') = '\0';
		ASSERT_OK(sts_mkdir_p(rel, 0755), "mkdir parents");
		if (strncmp(line, "allow-read-dir ", 15) == 0) {
			ASSERT_OK(sts_mkdir_p(full, 0755), "mkdir");
		} else if (strncmp(line, "state-dir ", 10) != 0) {
			mode = strncmp(line, "allow-exec ", 11) == 0 ? 0755 : 0644;
			ret = open(full, O_CREAT | O_WRONLY, mode);
			if (ASSERT_GE(ret, 0, "create"))
				close(ret);
		}
		o += snprintf(out + o, cap - o, "%.*s%s/root%s\n", (int)(arg - line), line, tmp(),
			      arg);
	}
	ret = sts_policy_parse(file, out, o, true, &pol, err, sizeof(err));
	if (TEST__CHECK(ret == 0, file, "%d: %s", ret, err)) {
		ASSERT_GE(pol.n_collectors, 1, "has a collector");
		ASSERT_EQ(pol.tls_allowance, 1024, "tls-allowance");
		ASSERT_EQ(pol.report_max, 4096, "report-max");
		ASSERT_FALSE(pol.deny_outside, "deny-outside");
		ASSERT_EQ(pol.n_unix, 0, "no AF_UNIX peer: the agent inherits its socketpair");
		for (i = 0; i < pol.n_files; i++)
			ASSERT_NEQ(pol.files[i].kind, STS_FILE_READ_DIR,
				   "no directory-wide read rule");
		sts_policy_free(&pol);
	}
cleanup:
	free(out);
	free(buf);
}

void test_policy_default_conf(void)
{
	check_shipped("policy/default.conf");
}

void test_policy_test_vm_conf(void)
{
	check_shipped("policy/test-vm.conf");
}

void test_policy_example_x86_64_conf(void)
{
	check_shipped("policy/example-x86_64.conf");
}

void test_policy_example_arm64_conf(void)
{
	check_shipped("policy/example-arm64.conf");
}

/* env NAME and allow-syscall NAME (issue 13): what they accept and refuse. */
void test_policy_env_allow_syscall(void)
{
	struct sts_policy pol;

	if (!fixture())
		return;
	if (parse_ok("collector 10.0.0.1:443\nstate-dir @/state\nenv HOME\nenv STS_X_2\n"
		     "allow-syscall keyctl\nallow-syscall io_uring_setup\n",
		     false, &pol))
		return;
	ASSERT_EQ(pol.n_env, 2, "two env lines");
	ASSERT_STREQ(pol.env[1], "STS_X_2", "env name kept");
	ASSERT_TRUE(sts_policy_allows_syscall(&pol, "keyctl"), "keyctl allowed");
	ASSERT_FALSE(sts_policy_allows_syscall(&pol, "ptrace"), "ptrace not allowed");
	sts_policy_free(&pol);
	expect_error("collector 1.2.3.4:1\nstate-dir @/state\nenv LD_PRELOAD\n", 3,
		     "env LD_PRELOAD: the dynamic loader's variables", -EINVAL);
	expect_error("collector 1.2.3.4:1\nstate-dir @/state\nenv PATH\n", 3,
		     "env PATH: CMD always gets its own PATH", -EINVAL);
	expect_error("collector 1.2.3.4:1\nstate-dir @/state\nenv 9X\n", 3,
		     "env \"9X\": not a variable name", -EINVAL);
	expect_error("collector 1.2.3.4:1\nstate-dir @/state\nenv A=B\n", 3,
		     "env \"A=B\": not a variable name", -EINVAL);
	expect_error("collector 1.2.3.4:1\nstate-dir @/state\nenv HOME\nenv HOME\n", 4,
		     "env HOME: given twice", -EINVAL);
	expect_error("collector 1.2.3.4:1\nstate-dir @/state\nallow-syscall read\n", 3,
		     "allow-syscall read: not a system call the seccomp filter refuses", -EINVAL);
	expect_error("collector 1.2.3.4:1\nstate-dir @/state\nallow-syscall bpf\n"
		     "allow-syscall bpf\n",
		     4, "allow-syscall bpf: given twice", -EINVAL);
}
