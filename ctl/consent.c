// SPDX-License-Identifier: GPL-2.0-only
/* stsctl consent: record, withdraw or show the user's consent to send the country. */
#include "commands.h"
#include "device/consent.h"
#include "core/util.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <string.h>
#include <time.h>

static const char help[] =
	"NAME\n"
	"    stsctl consent - record, withdraw or show consent to send the country\n"
	"\n"
	"SYNOPSIS\n"
	"    stsctl consent grant --country XX [--state-dir DIR]\n"
	"    stsctl consent revoke [--state-dir DIR]\n"
	"    stsctl consent status [--json] [--state-dir DIR]\n"
	"\n"
	"DESCRIPTION\n"
	"    The activation report carries the IMEI, the model and the software version, and the\n"
	"    country only while the user's consent is on record. This command keeps that record,\n"
	"    DIR/" STS_CONSENT_FILE ", written atomically with the time of the change. stsd takes\n"
	"    the country from this record only, never from the SIM card or the network.\n"
	"\n"
	"    grant   record consent to send country XX, an ISO 3166-1 alpha-2 code (FR, DE, ...;\n"
	"            lower case is accepted). Granting again with another country replaces it.\n"
	"    revoke  withdraw consent: reports sent from now on carry no country. A report\n"
	"            already received by the collector is not recalled.\n"
	"    status  show the record: granted or not, the country, and since when.\n"
	"\n"
	"OPTIONS\n"
	"    --country XX     the country to send, for grant\n"
	"    --state-dir DIR  stsd's state directory (default " STS_STATE_DIR_DEFAULT ")\n"
	"    --json           status as one JSON object: {\"granted\":true,\"country\":\"FR\",\n"
	"                     \"changed_at\":UNIXTIME}; changed_at is 0 when never recorded\n"
	"\n"
	"EXIT STATUS\n"
	"    0 done (status: whatever the answer), 2 usage or I/O error, including a damaged\n"
	"    record (grant or revoke then writes a good one).\n"
	"\n"
	"EXAMPLE\n"
	"    stsctl consent grant --country FR\n";

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
		return EXIT_USAGE;
	}
	if (err) {
		sts_err("consent: read %s: %s", path, strerror(-err));
		return EXIT_USAGE;
	}
	if (json) {
		o = c.granted ? json_pack("{s:b,s:s,s:I}", "granted", 1, "country", c.country,
					  "changed_at", (json_int_t)c.changed_at)
			      : json_pack("{s:b,s:I}", "granted", 0, "changed_at",
					  (json_int_t)c.changed_at);
		if (!o || json_dumpf(o, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER)) {
			json_decref(o);
			sts_err("consent: out of memory");
			return EXIT_USAGE;
		}
		putchar('\n');
		json_decref(o);
		return EXIT_OK;
	}
	iso_time(c.changed_at, when, sizeof(when));
	if (c.granted)
		printf("consent: granted since %s\ncountry: %s (sent in the activation report)\n",
		       when, c.country);
	else if (c.changed_at)
		printf("consent: not granted (revoked %s)\ncountry: not sent\n", when);
	else
		printf("consent: not granted (never recorded)\ncountry: not sent\n");
	return EXIT_OK;
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
	char path[PATH_MAX], cc[3];
	bool json = false;
	int c, err;

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
			return ctl_help(help);
		default:
			return ctl_usage(argv[0]);
		}
	}
	if (optind + 1 != argc)
		return ctl_usage(argv[0]);
	sub = argv[optind];
	if ((size_t)snprintf(path, sizeof(path), "%s/" STS_CONSENT_FILE, dir) >= sizeof(path)) {
		sts_err("consent: --state-dir: path too long");
		return EXIT_USAGE;
	}
	if (strcmp(sub, "status") == 0) {
		if (country)
			return ctl_usage(argv[0]);
		return status(path, json);
	}
	if (json)
		return ctl_usage(argv[0]);
	if (strcmp(sub, "grant") == 0) {
		if (!country) {
			sts_err("consent: grant needs --country XX (ISO 3166-1 alpha-2)");
			return EXIT_USAGE;
		}
		if (strlen(country) != 2) {
			sts_err("consent: --country: \"%.16s\" is not a two-letter country code",
				country);
			return EXIT_USAGE;
		}
		cc[0] = (char)toupper((unsigned char)country[0]);
		cc[1] = (char)toupper((unsigned char)country[1]);
		cc[2] = '\0';
		err = sts_mkdir_p(dir, 0755);
		if (!err)
			err = sts_consent_grant(path, cc);
		if (err == -EINVAL) {
			sts_err("consent: --country: %s is not an assigned ISO 3166-1 alpha-2 code",
				cc);
			return EXIT_USAGE;
		}
		if (err) {
			sts_err("consent: write %s: %s", path, strerror(-err));
			return EXIT_USAGE;
		}
		printf("consent granted: reports from now on carry country %s\n", cc);
		return EXIT_OK;
	}
	if (strcmp(sub, "revoke") == 0) {
		if (country)
			return ctl_usage(argv[0]);
		err = sts_mkdir_p(dir, 0755);
		if (!err)
			err = sts_consent_revoke(path);
		if (err) {
			sts_err("consent: write %s: %s", path, strerror(-err));
			return EXIT_USAGE;
		}
		printf("consent revoked: reports from now on carry no country\n");
		return EXIT_OK;
	}
	sts_err("consent: unknown subcommand \"%.32s\" (grant, revoke or status)", sub);
	return EXIT_USAGE;
}
