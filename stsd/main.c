// SPDX-License-Identifier: GPL-2.0-only
/*
 * stsd: the stsguard monitor. Commands are dispatched from a table by lib/core/cli.c;
 * `stsd --help` and `stsd CMD --help` document each.
 */
#include "stsd.h"
#include "core/cli.h"
#include "core/util.h"

#include <bpf/libbpf.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct cli_command commands[] = {
	{ "daemon", cmd_daemon, "the monitor: send the activation report once, then never again" },
	{ "run", cmd_run, "run a command inside a fresh policed cgroup, under BPF enforcement" },
	{ "policy", cmd_policy,
	  "policy check [--json] FILE: every problem that would stop a policy "
	  "loading, as any user, changing nothing" },
};

static const struct cli_exit exits[] = {
	{ STS_EXIT_OK,
	  "success (stsd run: the command's own status, 128+N if killed by signal N)" },
	{ STS_EXIT_FAIL, "stsd policy check: the policy has problems" },
	{ STS_EXIT_USAGE, "usage or configuration error: nothing ran" },
	{ STS_EXIT_ENFORCE,
	  "enforcement or the evidence log could not be established: nothing ran, "
	  "or the command was stopped" },
	{ STS_EXIT_TEMPFAIL, "stsd daemon --once: the attempt failed, a retry is scheduled" },
};

static const struct cli_program stsd = {
	.name = "stsd",
	.usage = "stsd COMMAND [OPTIONS]",
	.about =
		"stsd is the stsguard monitor: it loads the BPF enforcement for a policed cgroup,\n"
		"runs the telemetry code inside it, and reports every decision the kernel makes.\n"
		"It must run as root (loading BPF programs and creating cgroups need it), except\n"
		"for stsd policy check.\n",
	.commands = commands,
	.n_commands = ARRAY_SIZE(commands),
	.exits = exits,
	.n_exits = ARRAY_SIZE(exits),
	.footer = "environment:\n"
		  "  STS_DEBUG=1    show libbpf's own messages (2: its debug messages too)\n",
};

/*
 * libbpf explains its failures at length; the loader turns them into one sentence of its own,
 * so libbpf's messages are shown only with STS_DEBUG=1.
 */
static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	static int debug = -1;

	if (debug < 0) {
		const char *v = getenv("STS_DEBUG");

		/* "1": libbpf's warnings and information; "2": its debug messages too. */
		debug = v && strcmp(v, "2") == 0 ? 2 : v && strcmp(v, "1") == 0 ? 1 : 0;
	}
	if (!debug || (level == LIBBPF_DEBUG && debug < 2))
		return 0;
	return vfprintf(stderr, fmt, ap);
}

int main(int argc, char **argv)
{
	libbpf_set_print(libbpf_print);
	return cli_main(&stsd, argc, argv);
}
