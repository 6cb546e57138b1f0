/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The command line of stsd, stsctl and sts-collector, in one style: a table of commands, one
 * help layout, one way to say a usage error, named exit codes documented in every --help, and
 * --version everywhere.
 *
 * What the three binaries share:
 *
 *	PROG --help | -h | help       the program's help on stdout, exit 0
 *	PROG help CMD | PROG CMD --help   the command's help on stdout, exit 0
 *	PROG --version | version      "PROG VERSION" on stdout, exit 0
 *	PROG                          "PROG: no command given" and a hint on stderr, exit 2
 *	PROG frob                     "PROG: unknown command 'frob'" and a hint on stderr, exit 2
 *	PROG CMD --bad                "PROG CMD: unrecognized option '--bad'" and a hint, exit 2
 *
 * A command gets argv[0] == "PROG CMD", so getopt's own messages name the command too.
 */
#ifndef STS_CLI_H
#define STS_CLI_H

#include <stdbool.h>
#include <stddef.h>

/* Exit codes, by name. Each program documents the ones it uses in its --help. */
enum sts_exit {
	STS_EXIT_OK = 0, /* success */
	STS_EXIT_FAIL = 1, /* a check failed (verification) or the work failed at run time */
	STS_EXIT_USAGE = 2, /* usage, configuration or I/O error: nothing was done */
	STS_EXIT_ENFORCE = 3, /* stsd: enforcement or evidence could not be established */
	/* stsctl verify: what is there verifies, but it is empty or records no signature covers */
	STS_EXIT_INCOMPLETE = 4,
	STS_EXIT_TEMPFAIL = 75, /* stsd daemon --once: the attempt failed, a retry is scheduled */
};

struct cli_exit {
	int code;
	const char *meaning;
};

struct cli_command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary; /* one line in the program's help */
};

struct cli_program {
	const char *name; /* "stsd" */
	const char *usage; /* after "usage: ", e.g. "stsd COMMAND [OPTIONS]" */
	const char *about; /* what the program is, a paragraph ending in a newline */
	const struct cli_command *commands;
	size_t n_commands;
	const struct cli_exit *exits; /* the exit codes of the program's commands */
	size_t n_exits;
	const char *footer; /* environment, examples, files; NULL if none */
};

/* Dispatch argv to a command of p (see the table above); returns the exit status. */
int cli_main(const struct cli_program *p, int argc, char **argv);

/* "PROG VERSION": git describe at build time, else the VERSION file. */
const char *cli_version(void);

/* The running command, "PROG CMD" ("PROG" before dispatch). */
const char *cli_name(void);

/*
 * A command's --help: text (usage line, description, options) on stdout, then an "exit status"
 * section listing exits (NULL: the program's table). Returns STS_EXIT_OK.
 */
int cli_help(const char *text, const struct cli_exit *exits, size_t n_exits);

/*
 * A usage error: "PROG CMD: message" on stderr and one hint line naming --help. Returns
 * STS_EXIT_USAGE, so that a command ends with `return cli_usage_error(...)`.
 */
int cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The hint line alone, after getopt has printed its own message. Returns STS_EXIT_USAGE. */
int cli_usage_hint(void);

/*
 * Check the operands left after the options (argc, argv: from optind on) against names, the
 * ones the command takes ("LOG", "LOG SEQ", "" for none). On a mismatch, a usage error names
 * the first missing one ("missing SEQ") or the first one too many, and false is returned.
 */
bool cli_operands(int argc, char **argv, const char *names);

#endif /* STS_CLI_H */
