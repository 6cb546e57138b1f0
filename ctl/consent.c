// SPDX-License-Identifier: GPL-2.0-only
/* stsctl consent: record, withdraw or show the user's consent to send the country. */
#include "commands.h"
#include "device/consent.h"
#include "core/util.h"
#include "wire/report.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* clang-format off */
static const char help[] =
	"usage: stsctl consent grant --country XX [--state-dir DIR]\n"
	"       stsctl consent revoke [--state-dir DIR]\n"
	"       stsctl consent status [--json] [--state-dir DIR]\n"
	"\n"
	"The activation report carries the IMEI, the model and the software version, and\n"
	"the country only while the user's consent is on record. This command keeps that\n"
	"record, DIR/" STS_CONSENT_FILE ", written atomically with the time of the change. stsd\n"
	"takes the country from this record only, never from the SIM card or the network.\n"
	"\n"
	"  grant   record consent to send country XX, an ISO 3166-1 alpha-2 code (FR, DE,\n"
	"          ...; lower case is accepted). Granting again with another country\n"
	"          replaces it.\n"
	"  revoke  withdraw consent: reports sent from now on carry no country. A report\n"
	"          already received by the collector is not recalled.\n"
	"  status  show the record: granted or not, the country, and since when.\n"
	"\n"
	"options:\n"
	"  --country XX     the country to send, for grant\n"
	"  --state-dir DIR  stsd's state directory (default " STS_STATE_DIR_DEFAULT ");\n"
	"                   created (mode 0700, and said) when a record is written and\n"
	"                   it is missing; its parent must exist. Reading creates nothing\n"
	"  --json           status as one JSON object:\n"
	"                   {\"granted\":true,\"country\":\"FR\",\"changed_at\":UNIXTIME};\n"
	"                   changed_at is 0 when never recorded\n"
	"\n"
	"example:\n"
	"  stsctl consent grant --country FR\n";

static const struct cli_exit exits[] = {
	{ STS_EXIT_OK,    "done (status: whatever the answer)" },
	{ STS_EXIT_USAGE, "usage or I/O error, including a damaged record (grant or revoke "
			  "then writes a good one)" },
};
/* clang-format on */

static void iso_time(int64_t t, char *out, size_t outsz)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) || !strftime(out, outsz, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(out, outsz, "%lld", (long long)t);
}

static int status(const char *path, bool json)
{
	struct sts_consent c;
	char when[32];
	json_t *o;
	int err;

	err = sts_consent_load(path, &c);
	if (err == -EBADMSG) {
		sts_err("consent: %s is damaged; run `stsctl consent grant` or `revoke` to record "
			"the choice again",
			path);
		return STS_EXIT_USAGE;
	}
	if (err) {
		sts_err("consent: read %s: %s", path, strerror(-err));
		return STS_EXIT_USAGE;
	}
	if (json) {
		o = c.granted ? json_pack("{s:b,s:s,s:I}", "granted", 1, "country", c.country,
					  "changed_at", (json_int_t)c.changed_at)
			      : json_pack("{s:b,s:I}", "granted", 0, "changed_at",
					  (json_int_t)c.changed_at);
		if (!o || json_dumpf(o, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER)) {
			json_decref(o);
			sts_err("consent: out of memory");
			return STS_EXIT_USAGE;
		}
		putchar('\n');
		json_decref(o);
		return STS_EXIT_OK;
	}
	iso_time(c.changed_at, when, sizeof(when));
	if (c.granted)
		printf("consent: granted since %s\ncountry: %s (sent in the activation report)\n",
		       when, c.country);
	else if (c.changed_at)
		printf("consent: not granted (revoked %s)\ncountry: not sent\n", when);
	else
		printf("consent: not granted (never recorded)\ncountry: not sent\n");
	return STS_EXIT_OK;
}

int ctl_state_dir(const char *cmd, const char *dir)
{
	int err;

	if (mkdir(dir, 0700) == 0) {
		printf("%s: created the state directory %s (mode 0700)\n", cmd, dir);
		return 0;
	}
	err = -errno;
	if (err == -EEXIST)
		return 0;
	/* Only what was asked for: a missing parent is a wrong --state-dir or no stsd yet. */
	sts_err("%s: create the state directory %s: %s%s", cmd, dir, strerror(-err),
		err == -ENOENT ? " (its parent directory does not exist: is --state-dir right?)"
			       : "");
	return err;
}

/* Upper-case XX, check it is an assigned ISO 3166-1 alpha-2 code, and record it. */
static int grant(const char *dir, const char *path, const char *country)
{
	char cc[3];
	int err;

	if (!country)
		return cli_usage_error("grant needs --country XX (ISO 3166-1 alpha-2)");
	if (strlen(country) != 2)
		return cli_usage_error("--country: '%.16s' is not a two-letter country code",
				       country);
	cc[0] = (char)toupper((unsigned char)country[0]);
	cc[1] = (char)toupper((unsigned char)country[1]);
	cc[2] = '\0';
	/* Checked before anything is created: a wrong code leaves no directory behind. */
	if (!sts_country_assigned(cc, 2))
		return cli_usage_error("--country: %s is not an assigned ISO 3166-1 alpha-2 code",
				       cc);
	if (ctl_state_dir("consent", dir))
		return STS_EXIT_USAGE;
	err = sts_consent_grant(path, cc);
	if (err == -EINVAL)
		return cli_usage_error("--country: %s is not an assigned ISO 3166-1 alpha-2 code",
				       cc);
	if (err) {
		sts_err("consent: write %s: %s", path, strerror(-err));
		return STS_EXIT_USAGE;
	}
	printf("consent granted: reports from now on carry country %s (recorded in %s)\n", cc,
	       path);
	return STS_EXIT_OK;
}

static int revoke(const char *dir, const char *path)
{
	int err;

	if (ctl_state_dir("consent", dir))
		return STS_EXIT_USAGE;
	err = sts_consent_revoke(path);
	if (err) {
		sts_err("consent: write %s: %s", path, strerror(-err));
		return STS_EXIT_USAGE;
	}
	printf("consent revoked: reports from now on carry no country (recorded in %s)\n", path);
	return STS_EXIT_OK;
}

int cmd_consent(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "country", required_argument, NULL, 'c' },
		{ "state-dir", required_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *dir = STS_STATE_DIR_DEFAULT, *country = NULL, *sub;
	char path[PATH_MAX];
	bool json = false;
	int c;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			country = optarg;
			break;
		case 'd':
			dir = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			return cli_help(help, exits, ARRAY_SIZE(exits));
		default:
			return cli_usage_hint();
		}
	}
	if (optind == argc)
		return cli_usage_error("missing subcommand (grant, revoke or status)");
	if (!cli_operands(argc - optind - 1, argv + optind + 1, ""))
		return STS_EXIT_USAGE;
	sub = argv[optind];
	if (strcmp(sub, "grant") != 0 && strcmp(sub, "revoke") != 0 && strcmp(sub, "status") != 0)
		return cli_usage_error("unknown subcommand '%.32s' (grant, revoke or status)", sub);
	if (country && strcmp(sub, "grant") != 0)
		return cli_usage_error("--country goes with grant only");
	if (json && strcmp(sub, "status") != 0)
		return cli_usage_error("--json goes with status only");
	if ((size_t)snprintf(path, sizeof(path), "%s/" STS_CONSENT_FILE, dir) >= sizeof(path))
		return cli_usage_error("--state-dir: path too long");
	if (strcmp(sub, "status") == 0)
		return status(path, json);
	if (strcmp(sub, "grant") == 0)
		return grant(dir, path, country);
	return revoke(dir, path);
}
