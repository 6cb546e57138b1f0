// SPDX-License-Identifier: GPL-2.0-only
/*
 * `stsd policy check` and the parser's check mode under it: the real build/stsd, run as root
 * (when the tests are) and as nobody (setpriv), on the shipped policies, on valid and broken
 * ones written into the scratch directory ('@' in a template stands for it), on a file it
 * cannot read; its JSON read back with jansson. And the example stsd.conf: it parses, and the
 * defaults it shows are the parser's.
 */
#include "test.h"
#include "core/crypto.h"
#include "core/util.h"
#include "device/config.h"
#include "device/policy.h"

#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define OUT_MAX 65536

static char root[256];

static const char *tmp(void)
{
	char *real = realpath(test__tmpdir(), NULL);

	snprintf(root, sizeof(root), "%s", real ? real : test__tmpdir());
	free(real);
	return root;
}

/* tmpl with each '@' replaced by the scratch directory; the caller frees it. */
static char *expand(const char *tmpl)
{
	size_t rl = strlen(tmp()), n = strlen(tmpl) + 1, j = 0;
	const char *c;
	char *out;

	for (c = tmpl; *c; c++)
		n += *c == '@' ? rl : 0;
	out = malloc(n);
	if (!out)
		abort();
	for (c = tmpl; *c; c++) {
		if (*c == '@') {
			memcpy(out + j, root, rl);
			j += rl;
		} else {
			out[j++] = *c;
		}
	}
	out[j] = '\0';
	return out;
}

/* Write the expanded template to @/name (mode 0644); returns its path in path. */
static bool write_policy(const char *name, const char *tmpl, char *path, size_t len)
{
	char *text = expand(tmpl);
	int err;

	snprintf(path, len, "%s/%s", tmp(), name);
	err = sts_write_file_atomic(path, text, strlen(text), 0644);
	free(text);
	return ASSERT_OK(err, "write policy");
}

static bool make_file(const char *rel, mode_t mode)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", tmp(), rel);
	fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, mode);
	if (fd >= 0)
		close(fd);
	return ASSERT_GE(fd, 0, "create fixture") && ASSERT_OK(chmod(path, mode), "chmod fixture");
}

/* @/a (0644), @/bin (0755), @/state/, @/link -> a; all reachable by nobody. */
static bool fixture(void)
{
	char p[PATH_MAX];
	bool ok;

	ok = make_file("a", 0644) && make_file("bin", 0755);
	snprintf(p, sizeof(p), "%s/state", tmp());
	ok &= ASSERT_OK(mkdir(p, 0700), "fixture state");
	snprintf(p, sizeof(p), "%s/link", tmp());
	ok &= ASSERT_OK(symlink("a", p), "fixture symlink");
	ok &= ASSERT_OK(chmod(tmp(), 0755), "scratch dir searchable by all");
	return ok;
}

struct run {
	int status;
	char out[OUT_MAX]; /* stdout alone */
	char err[4096]; /* stderr alone */
};

static bool setpriv_ok(void)
{
	static int ok = -1;

	if (ok < 0)
		ok = test__run(NULL, 0, "command -v setpriv >/dev/null") == 0;
	return ok;
}

/*
 * build/stsd policy check ARGS, as this process's user or, with nobody, as uid 65534 (setpriv
 * drops every privilege: no capability left, no supplementary group). False (after a SKIP
 * note) when nobody cannot be had.
 */
static bool run_check(struct run *r, bool nobody, const char *args)
{
	char errf[PATH_MAX], *buf = NULL;
	const char *pre = "";
	size_t len;

	if (nobody && geteuid() == 0) {
		if (!setpriv_ok()) {
			test__skip("setpriv (util-linux) missing: cannot run as nobody");
			return false;
		}
		pre = "setpriv --reuid=65534 --regid=65534 --clear-groups ";
	}
	if (test__cur.verbose)
		printf("  %s: stsd policy check %s, as %s\n", test__cur.name, args,
		       nobody	   ? "uid 65534"
		       : geteuid() ? "this user"
				   : "root");
	snprintf(errf, sizeof(errf), "%s/stderr", tmp());
	/* In braces: test__run appends its own 2>&1, which must not undo the split. */
	r->status = test__run(r->out, sizeof(r->out), "{ %s%s/stsd policy check %s 2>%s; }", pre,
			      test__out_dir(), args, errf);
	r->err[0] = '\0';
	if (sts_read_file(errf, sizeof(r->err) - 1, &buf, &len) == 0) {
		snprintf(r->err, sizeof(r->err), "%s", buf);
		free(buf);
	}
	if (nobody && (r->status == 126 || r->status == 127)) {
		test__skip("uid 65534 cannot run %s/stsd: %s", test__out_dir(), r->err);
		return false;
	}
	return true;
}

/* The problem lines, "FILE:LINE: ..." but not notes, of an output. */
static int count_problems(const char *out, const char *file)
{
	size_t fl = strlen(file);
	const char *l;
	int n = 0;

	for (l = out; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		const char *eol = strchr(l, '\n');
		size_t ll = eol ? (size_t)(eol - l) : strlen(l);

		if (strncmp(l, file, fl) == 0 && l[fl] == ':' && l[fl + 1] >= '0' &&
		    l[fl + 1] <= '9' && !memmem(l, ll, ": note: ", 8))
			n++;
	}
	return n;
}

/* The line of out starting with prefix, or NULL. */
static const char *find_line(const char *out, const char *prefix)
{
	const char *l = strstr(out, prefix);

	while (l && l != out && l[-1] != '\n')
		l = strstr(l + 1, prefix);
	return l;
}

/* The line after l, or "". */
static const char *next_line(const char *l)
{
	l = strchr(l, '\n');
	return l ? l + 1 : "";
}

static void sha_hex_of(const char *path, char hex[2 * STS_SHA256_LEN + 1])
{
	uint8_t sha[STS_SHA256_LEN];
	char *buf = NULL;
	size_t len;

	hex[0] = '\0';
	if (!ASSERT_OK(sts_read_file(path, STS_POLICY_MAX_SIZE, &buf, &len), "read for sha256"))
		return;
	sts_sha256(buf, len, sha);
	sts_hex(sha, sizeof(sha), hex);
	free(buf);
}

/*
 * The directive lines of a policy whose comment block right above (or own comment) says ADAPT,
 * found here independently of stsd: marks[line] is true for each.
 */
static int adapt_lines(const char *path, bool *marks, int max)
{
	char *buf = NULL, *l, *next;
	bool block = false;
	size_t len;
	int n = 0;

	if (sts_read_file(path, STS_POLICY_MAX_SIZE, &buf, &len))
		return -1;
	for (l = buf; l && *l && n + 1 < max; l = next) {
		next = strchr(l, '\n');
		if (next)
			*next++ = '\0';
		n++;
		if (l[0] == '#') {
			block |= strstr(l, "ADAPT") != NULL;
			continue;
		}
		marks[n] = l[0] && (block || (strchr(l, '#') && strstr(strchr(l, '#'), "ADAPT")));
		block = false;
	}
	free(buf);
	return n;
}

/*
 * The shipped phone policy on a machine that is not that phone: several problems in ONE run,
 * an ADAPT line under each problem the policy marks ADAPT, what it says fitting this machine.
 */
static void check_default_conf(bool nobody)
{
	static const char file[] = "policy/default.conf";
	bool marks[256] = { false };
	char prefix[64], hex[2 * STS_SHA256_LEN + 1], want[160];
	struct run *r = calloc(1, sizeof(*r));
	int i, n, problems, min;
	const char *a;

	if (!ASSERT_OK_PTR(r, "calloc") || !run_check(r, nobody, file))
		goto cleanup;
	ASSERT_EQ(r->status, 1, "exit 1: problems");
	problems = count_problems(r->out, file);
	/*
	 * On an x86 machine that cross-builds for arm64 (make deps ARCH=arm64), Debian's :arm64
	 * packages put the loader and libraries the policy names where it names them: those lines
	 * load (this machine's programs never open them), the model, CA and agent lines remain.
	 */
	min = access("/lib/ld-linux-aarch64.so.1", F_OK) == 0 ? 3 : 5;
	TEST__CHECK(problems >= min, "several problems in one run", "%d:\n%s", problems, r->out);
	snprintf(want, sizeof(want), "%s: %d problems: stsd would refuse this policy\n", file,
		 problems);
	TEST__CHECK(strstr(r->out, want) != NULL, "verdict counts them", "no \"%s\" in:\n%s", want,
		    r->out);
	sha_hex_of(file, hex);
	snprintf(want, sizeof(want), "sha256: %s ", hex);
	TEST__CHECK(strstr(r->out, want) != NULL, "sha256 of the file", "no \"%s\"", want);

	n = adapt_lines(file, marks, ARRAY_SIZE(marks));
	if (!ASSERT_GE(n, 50, "read the policy's ADAPT marks"))
		goto cleanup;
	for (i = 1; i <= n; i++) {
		snprintf(prefix, sizeof(prefix), "%s:%d: ", file, i);
		a = find_line(r->out, prefix);
		/* No problem on this line, or a note (a documentation address). */
		if (!a || strncmp(a + strlen(prefix), "note: ", 6) == 0)
			continue;
		a = next_line(a);
		if (marks[i])
			TEST__CHECK(strncmp(a, "    ADAPT: ", 11) == 0, "ADAPT line has its hint",
				    "line %d:\n%s", i, r->out);
		else
			TEST__CHECK(strncmp(a, "    ADAPT: ", 11) != 0, "only ADAPT lines get one",
				    "line %d:\n%s", i, r->out);
	}
	/* What the hints say, where this machine can tell. */
	a = strstr(r->out, "devicetree/base/model: No such file");
	if (a && access("/sys/class/dmi/id/product_name", F_OK) == 0)
		TEST__CHECK(strstr(a, "ADAPT: on a machine with DMI, "
				      "/sys/class/dmi/id/product_name") != NULL,
			    "DMI hint", "%s", r->out);
	a = strstr(r->out, "ld-linux-aarch64.so.1: No such file");
	if (a && access("/lib64/ld-linux-x86-64.so.2", F_OK) == 0)
		TEST__CHECK(strstr(a, "ADAPT: this machine's dynamic loader is "
				      "/lib64/ld-linux-x86-64.so.2") != NULL,
			    "loader hint", "%s", r->out);
	a = strstr(r->out, "aarch64-linux-gnu/libssl.so.3: No such file");
	if (a && access("/usr/lib/x86_64-linux-gnu/libssl.so.3", F_OK) == 0)
		TEST__CHECK(strstr(a, "ADAPT: on this machine (x86_64-linux-gnu), "
				      "/usr/lib/x86_64-linux-gnu/libssl.so.3") != NULL,
			    "multiarch hint", "%s", r->out);
	TEST__CHECK(strstr(r->out, "collector-ca.pem: No such file or directory\n    hint: not "
				   "installed yet") != NULL ||
			    access("/etc/stsguard/collector-ca.pem", F_OK) == 0,
		    "the CA is not installed yet", "%s", r->out);
cleanup:
	free(r);
}

void test_policy_check_default_conf(void)
{
	/*
	 * The architecture, not the loader's presence: an x86 machine that cross-builds for arm64
	 * (make deps ARCH=arm64) has /lib/ld-linux-aarch64.so.1 from libc6:arm64.
	 */
#if defined(__aarch64__)
	test__skip("an arm64 machine: the phone policy may fit it");
	return;
#endif
	check_default_conf(false);
	check_default_conf(true);
}

/* A policy that loads: exit 0, the sha256 sts_policy_load() records, nothing created. */
void test_policy_check_valid(void)
{
	static const char tmpl[] = "# a comment\n"
				   "collector 127.0.0.1:8443\n"
				   "collector [::1]:8443\n"
				   "allow-read @/a\n"
				   "allow-read @/link2\n"
				   "allow-exec @/bin\n"
				   "state-dir @/new/agent\n"
				   "tls-allowance 0\n";
	char path[PATH_MAX], want[2 * PATH_MAX], hex[2 * STS_SHA256_LEN + 1], p[PATH_MAX], err[512];
	struct sts_policy pol;
	struct run *r = calloc(1, sizeof(*r));
	bool nobody;
	int ret;

	if (!ASSERT_OK_PTR(r, "calloc") || !fixture() || !make_file("b", 0644))
		goto cleanup;
	/* A symlink to another file: followed, so it names b, not a. */
	snprintf(p, sizeof(p), "%s/link2", tmp());
	ASSERT_OK(symlink("b", p), "symlink to b");
	if (!write_policy("ok.conf", tmpl, path, sizeof(path)))
		goto cleanup;
	for (int u = 0; u < 2; u++) {
		nobody = u;
		if (!run_check(r, nobody, path))
			break;
		ASSERT_EQ(r->status, 0, "exit 0");
		ASSERT_EQ(count_problems(r->out, path), 0, "no problem");
		snprintf(want, sizeof(want), "%s: ok: stsd would load this policy\n", path);
		TEST__CHECK(strstr(r->out, want) != NULL, "verdict ok", "%s", r->out);
		snprintf(want, sizeof(want),
			 ":7: note: state-dir %s/new/agent: does not exist yet: stsd will "
			 "create it (mode 0700)\n",
			 tmp());
		TEST__CHECK(strstr(r->out, want) != NULL, "missing state-dir: a note", "%s",
			    r->out);
		snprintf(p, sizeof(p), "%s/new", tmp());
		ASSERT_TRUE(access(p, F_OK) < 0 && errno == ENOENT, "state-dir not created");
		ASSERT_STREQ(r->err, "", "nothing on stderr");
	}
	/* The hash the loader records: policy_sha256 of stsd's start record. */
	if (!write_policy("load.conf", "collector 127.0.0.1:8443\nstate-dir @/state\n", path,
			  sizeof(path)))
		goto cleanup;
	ret = sts_policy_load(path, false, &pol, err, sizeof(err));
	if (!TEST__CHECK(ret == 0, "sts_policy_load", "%d %s", ret, err))
		goto cleanup;
	sts_hex(pol.sha256, sizeof(pol.sha256), hex);
	sts_policy_free(&pol);
	if (run_check(r, false, path)) {
		ASSERT_EQ(r->status, 0, "exit 0 (state dir exists)");
		snprintf(want, sizeof(want), "sha256: %s (stsd records it as policy_sha256)\n",
			 hex);
		TEST__CHECK(find_line(r->out, want) != NULL,
			    "sha256 as sts_policy_load computes it", "no \"%s\" in:\n%s", want,
			    r->out);
	}
cleanup:
	free(r);
}

/*
 * Problems on many lines, of every kind, each reported with its line in one run; the first one
 * exactly as the loader reports it.
 */
void test_policy_check_errors(void)
{
	static const char tmpl[] = "collector 10.0.0.1:99999\n" /* 1 */
				   "alow-read @/a\n" /* 2 */
				   "allow-read @/missing\n" /* 3 */
				   "allow-read @/a\n" /* 4: fine */
				   "allow-read @/link\n" /* 5: same as 4 */
				   "tls-allowance 08192\n" /* 6 */
				   "allow-exec @/a\n" /* 7: mode 0644 */
				   "collector 10.0.0.2:443\n" /* 8: fine */
				   "state-dir @/a/x\n" /* 9: a is a file */
				   "state-dir @/state\n" /* 10: twice */
				   "legacy-deny 10.0.0.2:0\n" /* 11: blocks 8 */
				   "deny-outside maybe\n" /* 12 */
				   "collector\n" /* 13 */
				   "allow-read /etc//passwd\n"; /* 14 */
	static const int lines[] = { 1, 2, 3, 5, 6, 7, 9, 10, 11, 12, 13, 14 };
	char path[PATH_MAX], want[4 * PATH_MAX], err[1024], first[PATH_MAX + 256];
	struct sts_policy pol;
	struct run *r = calloc(1, sizeof(*r));
	bool nobody;
	size_t i;

	if (!ASSERT_OK_PTR(r, "calloc") || !fixture() ||
	    !write_policy("bad.conf", tmpl, path, sizeof(path)))
		goto cleanup;
	ASSERT_ERR(sts_policy_load(path, false, &pol, err, sizeof(err)), "the loader refuses it");
	for (int u = 0; u < 2; u++) {
		nobody = u;
		if (!run_check(r, nobody, path))
			break;
		ASSERT_EQ(r->status, 1, "exit 1");
		ASSERT_EQ(count_problems(r->out, path), ARRAY_SIZE(lines), "every problem");
		for (i = 0; i < ARRAY_SIZE(lines); i++) {
			snprintf(want, sizeof(want), "%s:%d: ", path, lines[i]);
			TEST__CHECK(strstr(r->out, want) != NULL, "problem on its line",
				    "line %d missing in:\n%s", lines[i], r->out);
		}
		snprintf(first, sizeof(first), "%s\n", err);
		TEST__CHECK(strncmp(r->out, first, strlen(first)) == 0,
			    "first problem as the loader says it", "\"%s\" vs\n%s", err, r->out);
		snprintf(want, sizeof(want),
			 "%s:5: allow-read %s/link: same file as %s/a on line 4\n", path, tmp(),
			 tmp());
		TEST__CHECK(strstr(r->out, want) != NULL, "symlink resolved to its target", "%s",
			    r->out);
		snprintf(want, sizeof(want),
			 "%s:9: state-dir %s/a/x: cannot create: %s/a is a "
			 "regular file\n",
			 path, tmp(), tmp());
		TEST__CHECK(strstr(r->out, want) != NULL, "state-dir that cannot be created", "%s",
			    r->out);
		snprintf(want, sizeof(want),
			 "%s:11: legacy-deny 10.0.0.2:0: blocks collector "
			 "10.0.0.2:443 of line 8\n",
			 path);
		TEST__CHECK(strstr(r->out, want) != NULL, "conflict", "%s", r->out);
		snprintf(want, sizeof(want), "%s: 12 problems: stsd would refuse this policy\n",
			 path);
		TEST__CHECK(strstr(r->out, want) != NULL, "verdict", "%s", r->out);
	}
	/* Not one line, the whole file: empty. */
	if (write_policy("empty.conf", "", path, sizeof(path)) && run_check(r, false, path)) {
		ASSERT_EQ(r->status, 1, "empty: exit 1");
		snprintf(want, sizeof(want),
			 "%s: no collector line: at least one is required\n%s: no state-dir line: "
			 "exactly one is required\n",
			 path, path);
		TEST__CHECK(strstr(r->out, want) != NULL, "empty: both whole-file problems", "%s",
			    r->out);
	}
cleanup:
	free(r);
}

/* A file it cannot read, and usage errors: exit 2, a message on stderr, nothing on stdout. */
void test_policy_check_unreadable(void)
{
	char path[PATH_MAX], want[PATH_MAX + 64], args[PATH_MAX + 16];
	struct run *r = calloc(1, sizeof(*r));

	if (!ASSERT_OK_PTR(r, "calloc") || !fixture())
		goto cleanup;
	snprintf(path, sizeof(path), "%s/absent.conf", tmp());
	if (run_check(r, false, path)) {
		ASSERT_EQ(r->status, 2, "missing file: exit 2");
		snprintf(want, sizeof(want), "stsd: policy check: %s: No such file or directory\n",
			 path);
		ASSERT_STREQ(r->err, want, "missing file: message");
		ASSERT_STREQ(r->out, "", "missing file: no output");
	}
	if (run_check(r, false, tmp())) {
		ASSERT_EQ(r->status, 2, "a directory: exit 2");
		ASSERT_STREQ(r->out, "", "a directory: no output");
	}
	if (!write_policy("secret.conf", "collector 127.0.0.1:1\nstate-dir @/state\n", path,
			  sizeof(path)) ||
	    !ASSERT_OK(chmod(path, 0600), "chmod 0600"))
		goto cleanup;
	if (geteuid() == 0 && run_check(r, true, path)) {
		ASSERT_EQ(r->status, 2, "unreadable by nobody: exit 2");
		snprintf(want, sizeof(want), "stsd: policy check: %s: Permission denied\n", path);
		ASSERT_STREQ(r->err, want, "unreadable: message");
		ASSERT_STREQ(r->out, "", "unreadable: no output");
	}
	if (run_check(r, false, "")) {
		ASSERT_EQ(r->status, 2, "no FILE: exit 2");
		TEST__CHECK(strstr(r->err, "missing FILE") != NULL, "no FILE: says so", "%s",
			    r->err);
	}
	snprintf(args, sizeof(args), "%s extra", path);
	if (run_check(r, false, args))
		ASSERT_EQ(r->status, 2, "two operands: exit 2");
	if (run_check(r, false, "--bogus x"))
		ASSERT_EQ(r->status, 2, "unknown option: exit 2");
	if (run_check(r, false, "--help")) {
		ASSERT_EQ(r->status, 0, "--help: exit 0");
		TEST__CHECK(strstr(r->out, "usage: stsd policy check [--json] FILE\n") == r->out,
			    "--help: usage first", "%s", r->out);
		TEST__CHECK(strstr(r->out, "exit status:\n  0 ") && strstr(r->out, "\n  1 ") &&
				    strstr(r->out, "\n  2 "),
			    "--help: exit codes", "%s", r->out);
	}
cleanup:
	free(r);
}

static json_t *find_problem(json_t *arr, int line)
{
	size_t i;
	json_t *p;

	json_array_foreach(arr, i,
			   p) if (json_integer_value(json_object_get(p, "line")) == line) return p;
	return NULL;
}

/* --json: one object, read back with jansson, saying what the text says. */
void test_policy_check_json(void)
{
	static const char tmpl[] = "collector 127.0.0.1:1\n"
				   "# ADAPT: use the real file\n"
				   "allow-read @/missing\n"
				   "state-dir @/a/x\n"
				   "report-max 9\n";
	char path[PATH_MAX], hex[2 * STS_SHA256_LEN + 1], want[PATH_MAX];
	struct run *r = calloc(1, sizeof(*r));
	json_error_t jerr;
	json_t *j = NULL, *p;
	bool nobody;

	if (!ASSERT_OK_PTR(r, "calloc") || !fixture() ||
	    !write_policy("j.conf", tmpl, path, sizeof(path)))
		goto cleanup;
	sha_hex_of(path, hex);
	for (int u = 0; u < 2; u++) {
		nobody = u;
		char args[PATH_MAX + 16];

		snprintf(args, sizeof(args), "--json %s", path);
		if (!run_check(r, nobody, args))
			break;
		ASSERT_EQ(r->status, 1, "exit 1");
		json_decref(j);
		j = json_loads(r->out, 0, &jerr);
		if (!TEST__CHECK(j && json_is_object(j), "one JSON object", "%s: %s", jerr.text,
				 r->out))
			goto cleanup;
		ASSERT_STREQ(json_string_value(json_object_get(j, "file")), path, "file");
		ASSERT_STREQ(json_string_value(json_object_get(j, "sha256")), hex, "sha256");
		ASSERT_TRUE(json_is_false(json_object_get(j, "ok")), "ok false");
		ASSERT_EQ(json_array_size(json_object_get(j, "problems")), 3, "three problems");
		p = find_problem(json_object_get(j, "problems"), 3);
		if (ASSERT_OK_PTR(p, "problem of line 3")) {
			snprintf(want, sizeof(want), "%s/missing", tmp());
			ASSERT_STREQ(json_string_value(json_object_get(p, "directive")),
				     "allow-read", "directive");
			ASSERT_STREQ(json_string_value(json_object_get(p, "value")), want, "value");
			ASSERT_STREQ(json_string_value(json_object_get(p, "problem")),
				     "No such file or directory", "problem");
			ASSERT_STREQ(json_string_value(json_object_get(p, "adapt")),
				     "as its comment says: use the real file", "adapt");
		}
		/* Resolved after the last line, still reported as its own line's. */
		p = find_problem(json_object_get(j, "problems"), 4);
		if (ASSERT_OK_PTR(p, "problem of line 4")) {
			snprintf(want, sizeof(want), "cannot create: %s/a is a regular file",
				 tmp());
			ASSERT_STREQ(json_string_value(json_object_get(p, "directive")),
				     "state-dir", "state-dir: directive");
			ASSERT_STREQ(json_string_value(json_object_get(p, "problem")), want,
				     "state-dir: problem");
		}
		p = find_problem(json_object_get(j, "problems"), 5);
		if (ASSERT_OK_PTR(p, "problem of line 5")) {
			ASSERT_STREQ(json_string_value(json_object_get(p, "value")), "9", "value");
			ASSERT_STREQ(json_string_value(json_object_get(p, "problem")),
				     "out of range 64..65536", "problem");
			ASSERT_TRUE(json_is_null(json_object_get(p, "adapt")), "adapt null");
		}
	}
	/* A valid one: ok, no problem. */
	if (write_policy("jok.conf", "collector 127.0.0.1:1\nstate-dir @/state\n", path,
			 sizeof(path))) {
		char args[PATH_MAX + 16];

		snprintf(args, sizeof(args), "--json %s", path);
		if (run_check(r, false, args)) {
			ASSERT_EQ(r->status, 0, "valid: exit 0");
			json_decref(j);
			j = json_loads(r->out, 0, &jerr);
			if (TEST__CHECK(j != NULL, "valid: JSON", "%s", r->out)) {
				ASSERT_TRUE(json_is_true(json_object_get(j, "ok")), "valid: ok");
				ASSERT_EQ(json_array_size(json_object_get(j, "problems")), 0,
					  "valid: no problem");
			}
		}
	}
cleanup:
	json_decref(j);
	free(r);
}

/*
 * The x86_64 example passes on an x86_64 Debian machine once the files that exist only after
 * install (the CA, the agent) are there: checked on a copy naming stand-ins for them (and for
 * the DMI file on a machine without DMI, such as a container), and on the file itself, where
 * those are the only problems.
 */
void test_policy_check_example_x86_64(void)
{
	static const char file[] = "policy/example-x86_64.conf";
	static const char *const install_only[] = { "/etc/stsguard/collector-ca.pem",
						    "/usr/libexec/stsguard/sts-agent",
						    "/sys/class/dmi/id/product_name" };
	char *buf = NULL, *copy = NULL, path[PATH_MAX], stand[PATH_MAX], want[256];
	struct run *r = calloc(1, sizeof(*r));
	int expected = 0;
	size_t len, i;

	if (access("/lib64/ld-linux-x86-64.so.2", F_OK) < 0) {
		test__skip("not an x86_64 machine");
		goto cleanup;
	}
	if (!ASSERT_OK_PTR(r, "calloc") || !fixture() ||
	    !ASSERT_OK(sts_read_file(file, STS_POLICY_MAX_SIZE, &buf, &len), file))
		goto cleanup;
	copy = malloc(len + 4096);
	if (!ASSERT_OK_PTR(copy, "malloc"))
		goto cleanup;
	memcpy(copy, buf, len + 1);
	for (i = 0; i < ARRAY_SIZE(install_only); i++) {
		char *at = strstr(copy, install_only[i]);

		if (access(install_only[i], F_OK) == 0)
			continue;
		expected++;
		if (!ASSERT_OK_PTR(at, "example names it"))
			goto cleanup;
		snprintf(stand, sizeof(stand), "%s/stand%zu", tmp(), i);
		ASSERT_TRUE(make_file(stand + strlen(tmp()) + 1, 0755), "stand-in");
		memmove(at + strlen(stand), at + strlen(install_only[i]),
			strlen(at + strlen(install_only[i])) + 1);
		memcpy(at, stand, strlen(stand));
	}
	snprintf(path, sizeof(path), "%s/x86.conf", tmp());
	if (!ASSERT_OK(sts_write_file_atomic(path, copy, strlen(copy), 0644), "write copy"))
		goto cleanup;
	if (run_check(r, false, path)) {
		TEST__CHECK(r->status == 0, "passes with the installed files", "%s", r->out);
		TEST__CHECK(strstr(r->out, "collector 192.0.2.10:443: a documentation address") !=
				    NULL,
			    "documentation address noted", "%s", r->out);
	}
	if (run_check(r, true, path))
		TEST__CHECK(r->status == 0, "passes as nobody too", "%s", r->out);
	if (run_check(r, false, file)) {
		ASSERT_EQ(r->status, expected ? 1 : 0, "the file itself");
		ASSERT_EQ(count_problems(r->out, file), expected, "only the install-only files");
		snprintf(want, sizeof(want), "%s: %d problem", file, expected);
		if (expected)
			TEST__CHECK(strstr(r->out, want) != NULL, "verdict", "%s", r->out);
	}
cleanup:
	free(copy);
	free(buf);
	free(r);
}

/* The parser's check mode itself: every problem, notes, nothing created, pol always freeable. */
struct tally {
	int problems, notes, lines[16];
};

static void tally(const struct sts_policy_problem *pb, void *arg)
{
	struct tally *t = arg;

	if (pb->severity == STS_POLICY_NOTE) {
		t->notes++;
		return;
	}
	if (t->problems < 16)
		t->lines[t->problems] = pb->line;
	t->problems++;
}

void test_policy_check_mode(void)
{
	struct sts_policy pol;
	struct tally t = { 0 };
	char p[PATH_MAX], *text;
	uint8_t sha[STS_SHA256_LEN];
	int n;

	if (!fixture())
		return;
	text = expand("collector 1.2.3.4:0\n"
		      "allow-read @/nope1\n"
		      "allow-read @/nope2\n" /* two missing files are not "the same file" */
		      "allow-unix @/sock\n"
		      "state-dir @/made/here\n"
		      "report-max 4096\n"
		      "report-max 4096\n");
	n = sts_policy_check("p.conf", text, strlen(text), &pol, tally, &t);
	ASSERT_EQ(n, 4, "four problems");
	ASSERT_EQ(t.problems, 4, "reported");
	ASSERT_EQ(t.lines[0], 1, "line 1");
	ASSERT_EQ(t.lines[1], 2, "line 2");
	ASSERT_EQ(t.lines[2], 3, "line 3");
	ASSERT_EQ(t.lines[3], 7, "line 7");
	ASSERT_EQ(t.notes, 2, "notes: the socket, the state dir");
	sts_sha256(text, strlen(text), sha);
	ASSERT_MEMEQ(pol.sha256, sha, sizeof(sha), "sha256 even with problems");
	sts_policy_free(&pol);
	snprintf(p, sizeof(p), "%s/made", tmp());
	ASSERT_TRUE(access(p, F_OK) < 0, "nothing created");
	free(text);
}

/*
 * policy/stsd.conf.example parses, names every key of lib/device/config.h, and each default it
 * shows ("#KEY VALUE") is the parser's: uncommenting them all changes nothing.
 */
void test_policy_check_stsd_conf_example(void)
{
	static const char *const keys[] = {
		"collector-host",
		"collector-addr",
		"collector-port",
		"collector-ca",
		"collector-key",
		"imei-source",
		"model",
		"policy",
		"state-dir",
		"log",
		"agent",
		"agent-user",
		"retry-initial",
		"retry-max",
		"collector-timeout",
		"periodic",
	};
	static const char file[] = "policy/stsd.conf.example";
	struct sts_config *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	char *buf = NULL, *un = NULL, err[512], k[64];
	size_t len, i, o = 0;
	int defaults = 0;

	if (!ASSERT_OK_PTR(a, "calloc") || !ASSERT_OK_PTR(b, "calloc") ||
	    !ASSERT_OK(sts_read_file(file, STS_CONFIG_MAX_SIZE, &buf, &len), file))
		goto cleanup;
	TEST__CHECK(sts_config_parse(file, buf, len, a, err, sizeof(err)) == 0, "parses", "%s",
		    err);
	for (i = 0; i < ARRAY_SIZE(keys); i++) {
		snprintf(k, sizeof(k), "\n%s ", keys[i]);
		bool named = strstr(buf, k);

		snprintf(k, sizeof(k), "\n#%s ", keys[i]);
		named |= strstr(buf, k) != NULL;
		snprintf(k, sizeof(k), "\n# %s ", keys[i]);
		named |= strstr(buf, k) != NULL;
		TEST__CHECK(named, "every key shown", "%s missing", keys[i]);
	}
	un = malloc(len + 1);
	if (!ASSERT_OK_PTR(un, "malloc"))
		goto cleanup;
	for (i = 0; i < len; i++) {
		/* "#KEY": a '#' at the start of a line followed by a letter. */
		if (buf[i] == '#' && (i == 0 || buf[i - 1] == '\n') && buf[i + 1] >= 'a' &&
		    buf[i + 1] <= 'z') {
			defaults++;
			continue;
		}
		un[o++] = buf[i];
	}
	un[o] = '\0';
	ASSERT_GE(defaults, 10, "defaults shown");
	if (TEST__CHECK(sts_config_parse(file, un, o, b, err, sizeof(err)) == 0,
			"parses with the defaults uncommented", "%s", err))
		ASSERT_MEMEQ(a, b, sizeof(*a), "the defaults shown are the parser's");
cleanup:
	free(un);
	free(buf);
	free(a);
	free(b);
}

/*
 * A hostile path given as the policy: a FIFO nobody writes must not hang stsd or the operator's
 * check (it reads as an empty policy), a device is refused, and a pipe with a writer is read.
 */
void test_policy_check_not_a_file(void)
{
	char fifo[600], out[4096];

	snprintf(fifo, sizeof(fifo), "%s/policy.fifo", test__tmpdir());
	if (!ASSERT_OK(mkfifo(fifo, 0600), "mkfifo"))
		return;
	ASSERT_EQ(test__run(out, sizeof(out), "timeout 10 %s/stsd policy check %s", test__out_dir(),
			    fifo),
		  1, "a FIFO without a writer: checked as empty at once, not waited on");
	ASSERT_TRUE(strstr(out, "no collector line"), "it says what an empty policy lacks");
	ASSERT_EQ(test__run(out, sizeof(out), "timeout 10 %s/stsd run --policy %s -- /bin/true",
			    test__out_dir(), fifo),
		  2, "stsd run does not hang on it either");
	ASSERT_EQ(test__run(out, sizeof(out), "timeout 10 %s/stsd policy check /dev/zero",
			    test__out_dir()),
		  2, "a device is refused");
	ASSERT_TRUE(strstr(out, "/dev/zero: not a regular file or a pipe"), "and said so");
	ASSERT_EQ(test__run(out, sizeof(out),
			    "printf 'collector 192.0.2.1:443\\nstate-dir %s/sd\\n' | "
			    "timeout 10 %s/stsd policy check /dev/stdin",
			    test__tmpdir(), test__out_dir()),
		  0, "a pipe with a writer is read to its end");
}
