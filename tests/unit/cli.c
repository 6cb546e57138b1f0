// SPDX-License-Identifier: GPL-2.0-only
/*
 * The command line of stsd, stsctl and sts-collector, typed as a user would: the built
 * binaries are run and their exit status, stdout and stderr checked apart. The three share one
 * style (lib/core/cli.h): help on stdout with "usage:" first and "exit status:" in it, usage
 * errors as "PROG CMD: message" plus one hint line on stderr and exit 2, --version everywhere.
 * Every command of each program is checked, so a new command that forgets the style fails here.
 */
#include "test.h"
#include "core/util.h"

#include <stdlib.h>

/* One run of a binary: its exit status and what it wrote on each stream. */
struct run {
	int status;
	char out[65536];
	char err[8192];
};

static void slurp(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "r");
	size_t n = 0;

	if (f) {
		n = fread(buf, 1, size - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
}

/* Run "PROG ARGS" from the build directory; false if it could not be run at all. */
static bool run(struct run *r, const char *prog, const char *args)
{
	const char *tmp = test__tmpdir();
	char path[4096];

	/* In braces: test__run appends its own 2>&1, which must not undo the split. */
	r->status = test__run(NULL, 0, "{ %s/%s %s >%s/out 2>%s/err </dev/null; }", test__out_dir(),
			      prog, args, tmp, tmp);
	snprintf(path, sizeof(path), "%s/out", tmp);
	slurp(path, r->out, sizeof(r->out));
	snprintf(path, sizeof(path), "%s/err", tmp);
	slurp(path, r->err, sizeof(r->err));
	return r->status >= 0;
}

/* The version the build wrote into build/version.h: #define STS_VERSION "...". */
static bool build_version(char *buf, size_t size)
{
	char path[4096], text[512], *v, *end;

	snprintf(path, sizeof(path), "%s/version.h", test__out_dir());
	slurp(path, text, sizeof(text));
	v = strstr(text, "STS_VERSION \"");
	if (!v)
		return false;
	v += strlen("STS_VERSION \"");
	end = strchr(v, '"');
	if (!end || (size_t)(end - v) >= size)
		return false;
	snprintf(buf, size, "%.*s", (int)(end - v), v);
	return true;
}

static bool expect_stderr(const struct run *r, const char *want, const char *name)
{
	bool ok = ASSERT_STREQ(r->err, want, name);

	ASSERT_STREQ(r->out, "", name);
	ASSERT_EQ(r->status, 2, name);
	return ok;
}

/* A help: exit 0, "usage: WHO" first on stdout, an "exit status:" section, nothing on stderr. */
static bool expect_help(const struct run *r, const char *who, const char *name)
{
	char usage[256];

	snprintf(usage, sizeof(usage), "usage: %s", who);
	ASSERT_EQ(r->status, 0, name);
	ASSERT_STREQ(r->err, "", name);
	if (!ASSERT_TRUE(strncmp(r->out, usage, strlen(usage)) == 0, name))
		printf("    want \"%s\" first, got: %.120s\n", usage, r->out);
	return ASSERT_TRUE(strstr(r->out, "\nexit status:\n") != NULL, name);
}

static void check_no_command(const char *prog)
{
	struct run *r = malloc(sizeof(*r));
	char want[256];

	if (!ASSERT_OK_PTR(r, "malloc") || !ASSERT_TRUE(run(r, prog, ""), "run"))
		goto cleanup;
	snprintf(want, sizeof(want), "%s: no command given\ntry '%s --help'\n", prog, prog);
	expect_stderr(r, want, "no command: the error and a hint on stderr, exit 2");

	run(r, prog, "frobnicate");
	snprintf(want, sizeof(want), "%s: unknown command 'frobnicate'\ntry '%s --help'\n", prog,
		 prog);
	expect_stderr(r, want, "unknown command: named, quoted, a hint, exit 2");

	run(r, prog, "help frobnicate");
	expect_stderr(r, want, "help of an unknown command: the same error");
cleanup:
	free(r);
}

static void check_program_help(const char *prog)
{
	static const char *const spellings[] = { "--help", "help", "-h" };
	struct run *first = malloc(sizeof(*first)), *r = malloc(sizeof(*r));
	size_t i;

	if (!ASSERT_OK_PTR(first, "malloc") || !ASSERT_OK_PTR(r, "malloc"))
		goto cleanup;
	run(first, prog, spellings[0]);
	expect_help(first, prog, "--help: usage, exit status, on stdout, exit 0");
	ASSERT_TRUE(strstr(first->out, "\ncommands:\n") != NULL, "--help lists the commands");
	for (i = 1; i < ARRAY_SIZE(spellings); i++) {
		run(r, prog, spellings[i]);
		ASSERT_EQ(r->status, 0, spellings[i]);
		ASSERT_STREQ(r->out, first->out, spellings[i]);
	}
cleanup:
	free(first);
	free(r);
}

static void check_version(const char *prog)
{
	static const char *const spellings[] = { "--version", "version" };
	struct run *r = malloc(sizeof(*r));
	char version[256], want[512];
	size_t i;

	if (!ASSERT_OK_PTR(r, "malloc") ||
	    !ASSERT_TRUE(build_version(version, sizeof(version)), "build/version.h"))
		goto cleanup;
	snprintf(want, sizeof(want), "%s %s\n", prog, version);
	for (i = 0; i < ARRAY_SIZE(spellings); i++) {
		run(r, prog, spellings[i]);
		ASSERT_EQ(r->status, 0, spellings[i]);
		ASSERT_STREQ(r->out, want, spellings[i]);
		ASSERT_STREQ(r->err, "", spellings[i]);
	}
cleanup:
	free(r);
}

/* PROG CMD --help, PROG help CMD, and PROG CMD --bogus. */
static void check_command(const char *prog, const char *cmd)
{
	struct run *help = malloc(sizeof(*help)), *r = malloc(sizeof(*r));
	char who[64], args[128], want[512], name[256];

	if (!ASSERT_OK_PTR(help, "malloc") || !ASSERT_OK_PTR(r, "malloc"))
		goto cleanup;
	snprintf(who, sizeof(who), "%s %s", prog, cmd);

	snprintf(args, sizeof(args), "%s --help", cmd);
	snprintf(name, sizeof(name), "%s --help: usage, exit status, on stdout, exit 0", who);
	run(help, prog, args);
	expect_help(help, who, name);

	snprintf(args, sizeof(args), "help %s", cmd);
	snprintf(name, sizeof(name), "%s help %s: the same text", prog, cmd);
	run(r, prog, args);
	ASSERT_EQ(r->status, 0, name);
	ASSERT_STREQ(r->out, help->out, name);

	snprintf(args, sizeof(args), "%s --bogus", cmd);
	snprintf(want, sizeof(want), "%s: unrecognized option '--bogus'\ntry '%s --help'\n", who,
		 who);
	snprintf(name, sizeof(name), "%s --bogus: getopt's line and a hint, exit 2", who);
	run(r, prog, args);
	expect_stderr(r, want, name);
cleanup:
	free(help);
	free(r);
}

static void check_program(const char *prog, const char *const *commands)
{
	size_t i;

	check_no_command(prog);
	check_program_help(prog);
	check_version(prog);
	for (i = 0; commands[i]; i++)
		check_command(prog, commands[i]);
}

void test_cli_stsd(void)
{
	static const char *const commands[] = { "daemon", "run", NULL };

	check_program("stsd", commands);
}

void test_cli_stsctl(void)
{
	static const char *const commands[] = { "verify",     "report", "prove",     "verify-proof",
						"checkpoint", "cosign", "seal-init", "consent",
						"key",	      "optout", NULL };

	check_program("stsctl", commands);
}

void test_cli_collector(void)
{
	static const char *const commands[] = { "serve", "keygen", "list", "stats", "kid", NULL };

	check_program("sts-collector", commands);
}

/* Usage errors found after getopt name the command too, and say what is wrong. */
void test_cli_usage_errors(void)
{
	/* clang-format off */
	static const struct {
		const char *prog, *args, *want;
	} cases[] = {
		{ "stsctl", "verify", "stsctl verify: missing LOG\n" },
		{ "stsctl", "checkpoint a b", "stsctl checkpoint: unexpected argument 'b'\n" },
		{ "stsctl", "prove LOG", "stsctl prove: missing SEQ\n" },
		{ "stsctl", "prove LOG x", "stsctl prove: SEQ x: not a record number\n" },
		{ "stsctl", "verify-proof P", "stsctl verify-proof: missing --log-key PUB\n" },
		{ "stsctl", "seal-init --epoch 5", "stsctl seal-init: --epoch 5: at least 60 seconds\n" },
		{ "stsctl", "consent", "stsctl consent: missing subcommand (grant, revoke or status)\n" },
		{ "stsctl", "key frob",	"stsctl key: unknown subcommand 'frob' (show)\n" },
		{ "stsctl", "verify --log-key", "stsctl verify: option '--log-key' requires an argument\n" },
		{ "sts-collector", "kid", "sts-collector kid: missing FILE\n" },
		{ "sts-collector", "list extra", "sts-collector list: unexpected argument 'extra'\n" },
		{ "sts-collector", "serve --max-body 1",
		  "sts-collector serve: --max-body 1: expected 256..1048576\n" },
	};
	/* clang-format on */
	struct run *r = malloc(sizeof(*r));
	char want[512], cmd[64];
	size_t i;

	if (!ASSERT_OK_PTR(r, "malloc"))
		return;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		snprintf(cmd, sizeof(cmd), "%s %.*s", cases[i].prog,
			 (int)strcspn(cases[i].args, " "), cases[i].args);
		snprintf(want, sizeof(want), "%stry '%s --help'\n", cases[i].want, cmd);
		run(r, cases[i].prog, cases[i].args);
		expect_stderr(r, want, cases[i].want);
	}
	free(r);
}
