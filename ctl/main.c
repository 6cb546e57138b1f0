// SPDX-License-Identifier: GPL-2.0-only
/*
 * stsctl: the operator's and the auditor's tool. Commands are listed in commands.h; the ones
 * an auditor needs (verify, report, prove, verify-proof) use only the log format and crypto,
 * never libbpf, so the tool builds anywhere.
 */
#include "commands.h"
#include "core/util.h"

#include <string.h>

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
};

static const struct command commands[] = {
#define CMD(name, fn, help) { name, cmd_##fn, help },
	STSCTL_COMMANDS
#undef CMD
};

int ctl_help(const char *text)
{
	fputs(text, stdout);
	return EXIT_OK;
}

int ctl_usage(const char *cmd)
{
	fprintf(stderr, "usage: see `stsctl %s --help`\n", cmd);
	return EXIT_USAGE;
}

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: stsctl COMMAND [ARGS]\n"
		   "       stsctl COMMAND --help\n\n"
		   "Commands:\n");
	for (i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(f, "  %-14s %s\n", commands[i].name, commands[i].help);
	fprintf(f, "\nExit status: 0 success, 1 a check failed, 2 usage or I/O error.\n");
}

int main(int argc, char **argv)
{
	const char *name;
	size_t i;

	sts_set_progname("stsctl");
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	name = argv[1];
	if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) {
		usage(stdout);
		return EXIT_OK;
	}
	if (strcmp(name, "help") == 0) {
		if (argc < 3) {
			usage(stdout);
			return EXIT_OK;
		}
		name = argv[2];
		for (i = 0; i < ARRAY_SIZE(commands); i++)
			if (strcmp(commands[i].name, name) == 0) {
				char *hargv[] = { argv[2], "--help", NULL };

				return commands[i].fn(2, hargv);
			}
	}
	for (i = 0; i < ARRAY_SIZE(commands); i++)
		if (strcmp(commands[i].name, name) == 0)
			return commands[i].fn(argc - 1, argv + 1);
	sts_err("unknown command \"%s\" (stsctl --help lists them)", name);
	return EXIT_USAGE;
}
