// SPDX-License-Identifier: GPL-2.0-only
/* stsctl seal-init: start forward-secure sealing; the auditor gets the only copy of k_0. */
#include "commands.h"
#include "evidence/evlog.h"
#include "evidence/seal.h"
#include "core/util.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* clang-format off */
static const char help[] =
	"usage: stsctl seal-init [--state FILE] [--epoch SECONDS] [--start UNIXTIME]\n"
	"\n"
	"Create the forward-secure seal state the evidence log writer uses (mode 0600,\n"
	"never overwriting an existing one) and print, once, the verification key:\n"
	"\n"
	"    sts-seal-v1:<initial key, hex>:<start>:<epoch seconds>\n"
	"\n"
	"Give it to the auditor and do not keep it on the device: whoever holds it can\n"
	"seal. The device keeps only the key of the current epoch; each new epoch\n"
	"replaces it by its SHA-256 successor and erases the old one, so a later intruder\n"
	"cannot re-seal history of an earlier epoch. `stsctl verify --seal-key KEY`\n"
	"checks the seals.\n"
	"\n"
	"options:\n"
	"  --state FILE      seal state file (default " EVLOG_DEFAULT_SEAL ")\n"
	"  --epoch SECONDS   epoch length, at least 60 (default 86400, one day). Shorter\n"
	"                    epochs narrow the window an intruder can rewrite; after\n"
	"                    downtime the writer seals each skipped epoch once, so very\n"
	"                    short epochs cost log lines\n"
	"  --start UNIXTIME  start of epoch 0 (default now)\n";

static const struct cli_exit exits[] = {
	{ STS_EXIT_OK,    "created" },
	{ STS_EXIT_USAGE, "usage or I/O error (including an existing state file)" },
};
/* clang-format on */

static bool parse_num(const char *s, unsigned long long *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 10);
	return !errno && end != s && !*end && s[0] != '-';
}

/*
 * seal-init usually runs before stsd ever started: create the directory of FILE (that one, mode
 * 0700 like stsd's state directory; its parent must exist), and say so on stderr, since stdout
 * carries the auditor's key alone.
 */
static int make_state_dir(const char *path)
{
	char dir[PATH_MAX], *slash;

	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
		return -ENAMETOOLONG;
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	if (mkdir(dir, 0700) == 0)
		fprintf(stderr, "%s: created the state directory %s (mode 0700)\n", cli_name(),
			dir);
	else if (errno != EEXIST)
		return -errno;
	return 0;
}

int cmd_seal_init(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "state", required_argument, NULL, 'f' },
		{ "epoch", required_argument, NULL, 'e' },
		{ "start", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *path = EVLOG_DEFAULT_SEAL;
	unsigned long long epoch = SEAL_DEFAULT_LENGTH, start = (unsigned long long)time(NULL);
	char vkey[SEAL_VKEY_MAX];
	int c, err;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			path = optarg;
			break;
		case 'e':
			if (!parse_num(optarg, &epoch) || epoch < SEAL_MIN_LENGTH)
				return cli_usage_error("--epoch %s: at least %d seconds", optarg,
						       SEAL_MIN_LENGTH);
			break;
		case 's':
			if (!parse_num(optarg, &start) || start > INT64_MAX)
				return cli_usage_error("--start %s: a unix time in seconds",
						       optarg);
			break;
		case 'h':
			return cli_help(help, exits, ARRAY_SIZE(exits));
		default:
			return cli_usage_hint();
		}
	}
	if (!cli_operands(argc - optind, argv + optind, ""))
		return STS_EXIT_USAGE;
	err = make_state_dir(path);
	if (!err)
		err = seal_state_create(path, (int64_t)start, epoch, NULL, vkey);
	if (err) {
		sts_err("create %s: %s", path, strerror(-err));
		return STS_EXIT_USAGE;
	}
	printf("%s\n", vkey);
	sts_wipe(vkey, sizeof(vkey));
	fprintf(stderr,
		"stsctl: seal state created in %s; the key above is shown only once: "
		"give it to the auditor, keep no copy on the device\n",
		path);
	return STS_EXIT_OK;
}
