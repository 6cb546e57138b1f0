// SPDX-License-Identifier: GPL-2.0-only
/*
 * Runs the tests listed in the generated tests.inc, one after the other, each in the same
 * process (tests clean up after themselves; a crash ends the run and so fails it).
 *
 *	test_progs [-v] [--no-skip] [-t NAME]... [-l]
 */
#include "test.h"
#include "stage.h"

#include <ftw.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct test_def {
	const char *name;
	void (*fn)(void);
};

#define DEFINE_TEST(name) void test_##name(void);
#include "tests.inc"
#undef DEFINE_TEST

#define DEFINE_TEST(name) { #name, test_##name },
static const struct test_def tests[] = {
#include "tests.inc"
};
#undef DEFINE_TEST

struct test_state test__cur;
static char tmpdir[256];

void test__check_passed(const char *name)
{
	test__cur.checks++;
	if (test__cur.verbose)
		printf("  %s: %s: ok\n", test__cur.name, name);
}

void test__check_failed(const char *file, int line, const char *name, const char *fmt, ...)
{
	va_list ap;

	test__cur.checks++;
	test__cur.failed = true;
	printf("  %s: %s: FAIL at %s:%d: ", test__cur.name, name, file, line);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

void test__skip(const char *fmt, ...)
{
	va_list ap;

	test__cur.skipped = true;
	printf("  %s: SKIP: ", test__cur.name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

const char *test__tmp(const char *name)
{
	static char paths[32][PATH_MAX];
	static int next;
	char *p = paths[next++ % 32];

	snprintf(p, PATH_MAX, "%s/%s", test__tmpdir(), name);
	return p;
}

const char *test__tmpdir(void)
{
	if (!tmpdir[0]) {
		/* Tests give files in it to unprivileged users: a base they can reach. */
		const char *base = test__public_base();

		if (!base)
			exit(2);
		snprintf(tmpdir, sizeof(tmpdir), "%s/sts-test.XXXXXX", base);
		if (!mkdtemp(tmpdir)) {
			perror("mkdtemp");
			exit(2);
		}
	}
	return tmpdir;
}

const char *test__out_dir(void)
{
	const char *out = getenv("OUT");

	return out && *out ? out : "build";
}

int test__run(char *out, size_t outsz, const char *fmt, ...)
{
	char cmd[8192], sink[4096];
	size_t n = 0, r;
	va_list ap;
	FILE *p;
	int st, len;

	va_start(ap, fmt);
	len = vsnprintf(cmd, sizeof(cmd) - 6, fmt, ap);
	va_end(ap);
	if (len < 0 || len >= (int)sizeof(cmd) - 6)
		return -1;
	strcat(cmd, " 2>&1");
	fflush(NULL);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	while (out && n + 1 < outsz && (r = fread(out + n, 1, outsz - n - 1, p)) > 0)
		n += r;
	if (out && outsz)
		out[n] = '\0';
	while (fread(sink, 1, sizeof(sink), p) > 0)
		;
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static bool listed(const char *name, char **list, int n)
{
	for (int i = 0; i < n; i++)
		if (strcmp(list[i], name) == 0)
			return true;
	return false;
}

/* -t names select (none: all), -x names leave out. */
static bool selected(const char *name, char **filters, int nfilters, char **excl, int nexcl)
{
	return (!nfilters || listed(name, filters, nfilters)) && !listed(name, excl, nexcl);
}

/* One more -t or -x name; false (said) past 64 of them. */
static bool add_name(char **list, int *n, char *name, int opt)
{
	if (*n == 64) {
		fprintf(stderr, "too many -%c\n", opt);
		return false;
	}
	list[(*n)++] = name;
	return true;
}

static void usage(const char *prog, FILE *f)
{
	fprintf(f,
		"usage: %s [-v] [--no-skip] [-t NAME]... [-x NAME]... [-l]\n"
		"  -t NAME     run only this test (repeatable)\n"
		"  -x NAME     leave this test out (repeatable; a lane that another lane covers)\n"
		"  -l          list the tests and exit\n"
		"  -v          print every check, not only failures\n"
		"  --no-skip   count a skipped test as failed (used by the VM lane, where every\n"
		"              kernel feature the tests need must be present)\n",
		prog);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "no-skip", no_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int passed = 0, failed = 0, skipped = 0, nfilters = 0, nexcl = 0, c;
	bool verbose = false, no_skip = false;
	char *filters[64], *excl[64];
	size_t i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	/* Tests talk to peers that may go away (killed writers): a write error, not a death. */
	signal(SIGPIPE, SIG_IGN);
	while ((c = getopt_long(argc, argv, "vt:x:lh", opts, NULL)) != -1) {
		switch (c) {
		case 'v':
			verbose = true;
			break;
		case 'S':
			no_skip = true;
			break;
		case 't':
		case 'x':
			if (!add_name(c == 't' ? filters : excl, c == 't' ? &nfilters : &nexcl,
				      optarg, c))
				return 2;
			break;
		case 'l':
			for (i = 0; i < sizeof(tests) / sizeof(tests[0]); i++)
				printf("%s\n", tests[i].name);
			return 0;
		case 'h':
			usage(argv[0], stdout);
			return 0;
		default:
			usage(argv[0], stderr);
			return 2;
		}
	}

	for (i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
		const char *verdict;
		struct timespec t0, t1;

		if (!selected(tests[i].name, filters, nfilters, excl, nexcl))
			continue;
		/* Each test's wall time, to see where make check's 40 minutes go. */
		clock_gettime(CLOCK_MONOTONIC, &t0);
		memset(&test__cur, 0, sizeof(test__cur));
		test__cur.name = tests[i].name;
		test__cur.verbose = verbose;
		tests[i].fn();
		if (tmpdir[0]) {
			/* STS_TEST_KEEP=1: keep each test's scratch files to look at. */
			if (getenv("STS_TEST_KEEP"))
				printf("    %s: scratch files kept in %s\n", tests[i].name, tmpdir);
			else
				nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
			tmpdir[0] = '\0';
		}
		if (test__cur.failed) {
			verdict = "FAIL";
			failed++;
		} else if (test__cur.skipped) {
			verdict = no_skip ? "FAIL (skipped, but --no-skip)" : "SKIP";
			if (no_skip)
				failed++;
			else
				skipped++;
		} else if (test__cur.checks == 0) {
			/* A test that checked nothing proved nothing. */
			verdict = "FAIL (no checks ran)";
			failed++;
		} else {
			verdict = "OK";
			passed++;
		}
		clock_gettime(CLOCK_MONOTONIC, &t1);
		printf("#%zu %s: %s (%d checks, %.1f s)\n", i + 1, tests[i].name, verdict,
		       test__cur.checks,
		       (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
	}
	printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
	return failed ? 1 : 0;
}
