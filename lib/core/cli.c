// SPDX-License-Identifier: GPL-2.0-only
/*
 * One command-line style for stsd, stsctl and sts-collector (see cli.h for what they share).
 */
#include "core/cli.h"
#include "core/util.h"
#include "version.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static const struct cli_program *prog;
static char running[64]; /* "PROG CMD" */

const char *cli_version(void)
{
	return STS_VERSION;
}

const char *cli_name(void)
{
	return running[0] ? running : sts_progname();
}

/* Words of s on lines of at most 80 columns, the first after col columns, the next indented. */
static void print_wrapped(FILE *f, const char *s, int col, int indent)
{
	const char *w, *end;
	int n;

	for (w = s; *w; w = end) {
		while (*w == ' ')
			w++;
		end = w + strcspn(w, " ");
		n = (int)(end - w);
		if (col > indent && col + 1 + n > 80) {
			fprintf(f, "\n%*s", indent, "");
			col = indent;
		} else if (col > indent) {
			fputc(' ', f);
			col++;
		}
		fprintf(f, "%.*s", n, w);
		col += n;
	}
	fputc('\n', f);
}

static void print_exits(FILE *f, const struct cli_exit *exits, size_t n)
{
	size_t i;

	if (!n)
		return;
	fprintf(f, "\nexit status:\n");
	for (i = 0; i < n; i++) {
		fprintf(f, "  %-3d ", exits[i].code);
		print_wrapped(f, exits[i].meaning, 6, 6);
	}
}

/* "  NAME           summary", the summary wrapped under itself. */
static void print_command(FILE *f, const char *name, const char *summary)
{
	fprintf(f, "  %-14s ", name);
	print_wrapped(f, summary, 17, 17);
}

static void program_help(FILE *f)
{
	size_t i;

	fprintf(f, "usage: %s\n       %s COMMAND --help\n\n%s\ncommands:\n", prog->usage,
		prog->name, prog->about);
	for (i = 0; i < prog->n_commands; i++)
		print_command(f, prog->commands[i].name, prog->commands[i].summary);
	print_command(f, "help [COMMAND]", "this help, or the help of COMMAND");
	print_command(f, "version", "print the version (also --version)");
	print_exits(f, prog->exits, prog->n_exits);
	if (prog->footer)
		fprintf(f, "\n%s", prog->footer);
}

int cli_help(const char *text, const struct cli_exit *exits, size_t n_exits)
{
	fputs(text, stdout);
	if (!exits) {
		exits = prog ? prog->exits : NULL;
		n_exits = prog ? prog->n_exits : 0;
	}
	print_exits(stdout, exits, n_exits);
	return STS_EXIT_OK;
}

int cli_usage_hint(void)
{
	fprintf(stderr, "try '%s --help'\n", cli_name());
	return STS_EXIT_USAGE;
}

int cli_usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", cli_name());
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return cli_usage_hint();
}

bool cli_operands(int argc, char **argv, const char *names)
{
	const char *n = names + strspn(names, " ");
	int i;

	for (i = 0; i < argc; i++) {
		if (!*n) {
			cli_usage_error("unexpected argument '%s'", argv[i]);
			return false;
		}
		n += strcspn(n, " ");
		n += strspn(n, " ");
	}
	if (*n) {
		cli_usage_error("missing %.*s", (int)strcspn(n, " "), n);
		return false;
	}
	return true;
}

static const struct cli_command *find(const char *name)
{
	size_t i;

	for (i = 0; i < prog->n_commands; i++)
		if (strcmp(prog->commands[i].name, name) == 0)
			return &prog->commands[i];
	return NULL;
}

static bool is_help(const char *s)
{
	return strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0 || strcmp(s, "help") == 0;
}

static bool is_version(const char *s)
{
	return strcmp(s, "--version") == 0 || strcmp(s, "version") == 0;
}

static int run(const struct cli_command *c, int argc, char **argv)
{
	snprintf(running, sizeof(running), "%s %s", prog->name, c->name);
	argv[0] = running;
	return c->fn(argc, argv);
}

int cli_main(const struct cli_program *p, int argc, char **argv)
{
	const struct cli_command *c;
	char *hargv[3];

	prog = p;
	sts_set_progname(p->name);
	if (argc < 2)
		return cli_usage_error("no command given");
	if (is_version(argv[1])) {
		printf("%s %s\n", p->name, cli_version());
		return STS_EXIT_OK;
	}
	if (is_help(argv[1])) {
		if (argc < 3) {
			program_help(stdout);
			return STS_EXIT_OK;
		}
		c = find(argv[2]);
		if (!c)
			return cli_usage_error("unknown command '%s'", argv[2]);
		hargv[0] = argv[2];
		hargv[1] = "--help";
		hargv[2] = NULL;
		return run(c, 2, hargv);
	}
	c = find(argv[1]);
	if (!c)
		return cli_usage_error("unknown command '%s'", argv[1]);
	return run(c, argc - 1, argv + 1);
}
