// SPDX-License-Identifier: GPL-2.0-only
/*
 * stsctl: the operator's and the auditor's tool. Commands are listed in commands.h and
 * dispatched by lib/core/cli.c; `stsctl --help` and `stsctl CMD --help` document each. The
 * ones an auditor needs (verify, report, prove, verify-proof) use only the log format and
 * crypto, never libbpf, so the tool builds anywhere.
 */
#include "commands.h"
#include "core/cli.h"
#include "core/util.h"

/* clang-format off */
static const struct cli_command commands[] = {
#define CMD(name, fn, summary) { name, cmd_##fn, summary },
	STSCTL_COMMANDS
#undef CMD
};

static const struct cli_exit exits[] = {
	{ STS_EXIT_OK,    "success" },
	{ STS_EXIT_FAIL,  "a check failed: the log or the proof does not verify" },
	{ STS_EXIT_USAGE, "usage or I/O error" },
	{ STS_EXIT_INCOMPLETE, "verify: the log is empty or records no signature covers" },
};

static const struct cli_program stsctl = {
	.name = "stsctl",
	.usage = "stsctl COMMAND [ARGS]",
	.about =
		"stsctl is the auditor's and the operator's tool. The auditor's commands (verify,\n"
		"report, prove, verify-proof) need only an evidence log and its public keys; the\n"
		"operator's (seal-init, consent, key, optout) keep the device's state for stsd.\n",
	.commands = commands,
	.n_commands = ARRAY_SIZE(commands),
	.exits = exits,
	.n_exits = ARRAY_SIZE(exits),
};
/* clang-format on */

int main(int argc, char **argv)
{
	return cli_main(&stsctl, argc, argv);
}
