// SPDX-License-Identifier: GPL-2.0-only
/*
 * stsd: the stsguard monitor. Subcommands are dispatched from a table; `stsd help` and
 * `stsd CMD --help` document each.
 */
#include "stsd.h"
#include "core/util.h"

#include <bpf/libbpf.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct subcommand {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
};

static int cmd_help(int argc, char **argv);

static const struct subcommand subcommands[] = {
	{ "daemon", cmd_daemon, "the monitor: send the activation report once, then never again" },
	{ "run", cmd_run, "run a command inside a fresh policed cgroup, under BPF enforcement" },
	{ "help", cmd_help, "show this help" },
};

static int cmd_help(int argc, char **argv)
{
	size_t i;

	(void)argc;
	(void)argv;
	printf("usage: stsd COMMAND [OPTIONS]\n\n"
	       "stsd is the stsguard monitor: it loads the BPF enforcement for a policed cgroup,\n"
	       "runs the telemetry code inside it, and reports every decision the kernel makes.\n"
	       "It must run as root (loading BPF programs and creating cgroups need it).\n"
	       "STS_DEBUG=1 in the environment shows libbpf's own messages.\n\n"
	       "commands:\n");
	for (i = 0; i < ARRAY_SIZE(subcommands); i++)
		printf("  %-8s %s\n", subcommands[i].name, subcommands[i].help);
	printf("\n'stsd COMMAND --help' describes a command.\n");
	return 0;
}

/*
 * libbpf explains its failures at length; the loader turns them into one sentence of its own,
 * so libbpf's messages are shown only with STS_DEBUG=1.
 */
static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	static int debug = -1;

	if (debug < 0)
		debug = getenv("STS_DEBUG") && strcmp(getenv("STS_DEBUG"), "1") == 0;
	if (!debug || (level == LIBBPF_DEBUG && debug < 2))
		return 0;
	return vfprintf(stderr, fmt, ap);
}

int main(int argc, char **argv)
{
	size_t i;

	sts_set_progname("stsd");
	libbpf_set_print(libbpf_print);
	if (argc < 2) {
		cmd_help(0, NULL);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
		return cmd_help(0, NULL);
	for (i = 0; i < ARRAY_SIZE(subcommands); i++)
		if (strcmp(argv[1], subcommands[i].name) == 0)
			return subcommands[i].fn(argc - 1, argv + 1);
	sts_err("unknown command '%s' (see 'stsd help')", argv[1]);
	return 2;
}
