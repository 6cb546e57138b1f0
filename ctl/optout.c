// SPDX-License-Identifier: GPL-2.0-only
/* stsctl optout: turn the periodic report schedule off for good. */
#include "commands.h"
#include "device/consent.h"
#include "core/util.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <string.h>
#include <time.h>

/* clang-format off */
static const char help[] =
	"usage: stsctl optout [--state-dir DIR]\n"
	"       stsctl optout --status [--json] [--state-dir DIR]\n"
	"\n"
	"By default stsd sends one activation report, once, and never again after the\n"
	"collector's receipt. A periodic schedule exists only when the operator switches\n"
	"it on in the configuration. This command records the user's refusal of it,\n"
	"DIR/" STS_OPTOUT_FILE " ({\"optout\":true,\"at\":UNIXTIME}, written atomically):\n"
	"from then on stsd sends no periodic report, whatever the configuration says.\n"
	"\n"
	"It is for good: there is no command to opt back in, running it again keeps the\n"
	"original time, and a damaged record still counts as an opt-out. The one-time\n"
	"activation report is not affected (stsd sends it at most once anyway).\n"
	"\n"
	"options:\n"
	"  --status         show whether the user has opted out, and since when\n"
	"  --json           with --status: {\"optout\":true,\"at\":UNIXTIME} or\n"
	"                   {\"optout\":false}\n"
	"  --state-dir DIR  stsd's state directory (default " STS_STATE_DIR_DEFAULT ");\n"
	"                   created (mode 0700, and said) when a record is written and\n"
	"                   it is missing; its parent must exist. Reading creates nothing\n";

static const struct cli_exit exits[] = {
	{ STS_EXIT_OK,    "done (--status: whatever the answer)" },
	{ STS_EXIT_USAGE, "usage or I/O error" },
};
/* clang-format on */

static int status(const char *dir, bool json)
{
	char when[32];
	bool active;
	int64_t at;
	time_t tt;
	struct tm tm;
	int err;

	err = sts_optout_load(dir, &active, &at);
	if (err == -EBADMSG) {
		/* As stsd reads it: damaged is still opted out. */
		if (json)
			printf("{\"optout\":true,\"at\":null}\n");
		else
			printf("optout: yes (the record in %s/" STS_OPTOUT_FILE
			       " is damaged; it still counts)\n",
			       dir);
		return STS_EXIT_OK;
	}
	if (err) {
		sts_err("optout: read %s/" STS_OPTOUT_FILE ": %s", dir, strerror(-err));
		return STS_EXIT_USAGE;
	}
	if (json) {
		if (active)
			printf("{\"optout\":true,\"at\":%lld}\n", (long long)at);
		else
			printf("{\"optout\":false}\n");
		return STS_EXIT_OK;
	}
	if (!active) {
		printf("optout: no (periodic reports follow the configuration; off by default)\n");
		return STS_EXIT_OK;
	}
	tt = (time_t)at;
	if (!gmtime_r(&tt, &tm) || !strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(when, sizeof(when), "%lld", (long long)at);
	printf("optout: yes, since %s (no periodic report is sent)\n", when);
	return STS_EXIT_OK;
}

int cmd_optout(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "status", no_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "state-dir", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *dir = STS_STATE_DIR_DEFAULT;
	bool show = false, json = false;
	int c, err;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			show = true;
			break;
		case 'j':
			json = true;
			break;
		case 'd':
			dir = optarg;
			break;
		case 'h':
			return cli_help(help, exits, ARRAY_SIZE(exits));
		default:
			return cli_usage_hint();
		}
	}
	if (!cli_operands(argc - optind, argv + optind, ""))
		return STS_EXIT_USAGE;
	if (json && !show)
		return cli_usage_error("--json goes with --status");
	if (show)
		return status(dir, json);
	if (ctl_state_dir("optout", dir))
		return STS_EXIT_USAGE;
	err = sts_optout_set(dir);
	if (err) {
		sts_err("optout: write %s/" STS_OPTOUT_FILE ": %s", dir, strerror(-err));
		return STS_EXIT_USAGE;
	}
	printf("optout recorded: this device sends no periodic report, for good (recorded in "
	       "%s/" STS_OPTOUT_FILE ")\n",
	       dir);
	return STS_EXIT_OK;
}
