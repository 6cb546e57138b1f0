// SPDX-License-Identifier: GPL-2.0-only
/*
 * sts-collector: the reference collector. Commands come from the table at the bottom and are
 * dispatched by lib/core/cli.c; `sts-collector --help` and `sts-collector CMD --help` document
 * each, with its exit codes.
 */
#include "collector.h"
#include "core/cli.h"
#include "core/util.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* clang-format off */
static const char serve_help[] =
	"usage: sts-collector serve [OPTIONS]\n"
	"\n"
	"Receive activation reports over HTTPS and answer each with a signed receipt.\n"
	"\n"
	"Devices POST one JWS (compact serialization, EdDSA/Ed25519, Content-Type\n"
	"application/jose) to /v1/activations. The collector checks, in this order: the\n"
	"JWS syntax and header (alg EdDSA, kid, aid), that the key is known (see\n"
	"--trusted-keys), the signature, then the claims: exactly imei (15 digits, Luhn),\n"
	"model, sw_version and optionally country (ISO 3166-1 alpha-2). A valid report is\n"
	"stored (fsync'd) before the receipt is sent: 201 and\n"
	"{\"status\":\"stored\",\"aid\",\"receipt\"}. The same report sent again with the same\n"
	"aid gets the same receipt (200, \"already_stored\"); a different report under a\n"
	"used aid gets 409. Anything else gets a 4xx with {\"error\":CODE,\"reason\":TEXT},\n"
	"is counted (see `sts-collector stats`) and not stored. One log line per request\n"
	"goes to stderr (and syslog with --syslog).\n"
	"\n"
	"options:\n"
	"  --listen ADDR:PORT   where to listen (default " COLLECTOR_DEFAULT_LISTEN "; IPv6 as\n"
	"                       [::]:8443; port 0 picks a free port, see --port-file)\n"
	"  --tls-cert FILE      TLS certificate chain, PEM\n"
	"                       (default " COLLECTOR_DEFAULT_TLS_CERT ")\n"
	"  --tls-key FILE       its private key, PEM\n"
	"                       (default " COLLECTOR_DEFAULT_TLS_KEY ")\n"
	"  --signing-key FILE   Ed25519 key that signs receipts, made by\n"
	"                       `sts-collector keygen`\n"
	"                       (default " COLLECTOR_DEFAULT_SIGNING_KEY ")\n"
	"  --db FILE|URL        SQLite database (WAL), created with its directory (0700)\n"
	"                       on first start (default " COLLECTOR_DEFAULT_DB "),\n"
	"                       or a PostgreSQL URI, postgresql://USER@HOST/DBNAME, that\n"
	"                       several collectors share (see docs/collector.md, fleet);\n"
	"                       keep its password in ~/.pgpass or PGPASSFILE, not in the\n"
	"                       URI. The schema is created or migrated at start\n"
	"  --trusted-keys DIR   accept only device keys found in DIR/*.pub (PEM, or one\n"
	"                       line of base64 of the raw 32 bytes); read at start.\n"
	"                       Without it a device key is trusted on first use: the\n"
	"                       first valid report that carries its public key (\"jwk\"\n"
	"                       header) registers it under its kid\n"
	"  --max-body BYTES     largest body accepted (default 8192; a report is\n"
	"                       < 1 KiB); larger gets 413\n"
	"  --timeout SECONDS    time a connection has to deliver its whole request, TLS\n"
	"                       handshake included, and idle limit while replying\n"
	"                       (default 10)\n"
	"  --max-conns N        simultaneous connections; more wait in the listen backlog\n"
	"                       (default 256)\n"
	"  --port-file FILE     once listening, write the port number to FILE\n"
	"  --syslog             also log to syslog (daemon facility)\n"
	"\n"
	"signals:\n"
	"  SIGTERM or SIGINT stop accepting connections, let the requests in flight\n"
	"  finish (at most --timeout seconds), and exit 0.\n"
	"\n"
	"example:\n"
	"  sts-collector keygen\n"
	"  sts-collector serve --tls-cert /etc/sts-collector/tls-cert.pem \\\n"
	"      --tls-key /etc/sts-collector/tls-key.pem --listen 0.0.0.0:8443\n";

static const struct cli_exit serve_exits[] = {
	{ STS_EXIT_OK,    "stopped cleanly by SIGTERM or SIGINT" },
	{ STS_EXIT_FAIL,  "failure at run time" },
	{ STS_EXIT_USAGE, "usage or configuration error (bad option, unreadable certificate "
			  "or key, address in use): nothing was served" },
};

static const char keygen_help[] =
	"usage: sts-collector keygen [--signing-key FILE]\n"
	"\n"
	"Create the collector's Ed25519 receipt-signing key pair: FILE (private, PKCS#8\n"
	"PEM, mode 0600, never overwritten) and FILE.pub (public, PEM). Prints the key\n"
	"id. Devices pin FILE.pub to verify receipts.\n"
	"\n"
	"options:\n"
	"  --signing-key FILE   default " COLLECTOR_DEFAULT_SIGNING_KEY "\n";

static const struct cli_exit keygen_exits[] = {
	{ STS_EXIT_OK,    "key pair created" },
	{ STS_EXIT_FAIL,  "its key id could not be computed" },
	{ STS_EXIT_USAGE, "usage or I/O error, including an existing key" },
};

static const char list_help[] =
	"usage: sts-collector list [--db FILE|URL] [--json]\n"
	"\n"
	"Print the stored activations, oldest first: seq, received_at, aid, kid, imei,\n"
	"model, sw_version, country. Safe while the server runs.\n"
	"\n"
	"options:\n"
	"  --db FILE|URL  SQLite file or PostgreSQL URI (default\n"
	"             " COLLECTOR_DEFAULT_DB ")\n"
	"  --json     a JSON array of objects with every column, including the sha256 of\n"
	"             the received JWS, the JWS itself and the receipt\n";

static const char stats_help[] =
	"usage: sts-collector stats [--db FILE|URL] [--json]\n"
	"\n"
	"Print the number of stored activations, of registered device keys, and of\n"
	"refused requests by error code. A running server adds its counts every 5 seconds\n"
	"and at exit.\n"
	"\n"
	"options:\n"
	"  --db FILE|URL  SQLite file or PostgreSQL URI (default\n"
	"             " COLLECTOR_DEFAULT_DB ")\n"
	"  --json     one JSON object\n";

static const char export_help[] =
	"usage: sts-collector export [--db FILE|URL] [--since TIME] [--after-seq N]\n"
	"\n"
	"Print stored activations as JSON Lines, oldest first: one compact JSON object a\n"
	"line with every column (seq, aid, kid, sha256, received_at, imei, model,\n"
	"sw_version, country, jws, receipt), for compliance archives. Each line is\n"
	"self-contained: the JWS and the receipt verify without the database. Safe while\n"
	"servers run; works on both backends.\n"
	"\n"
	"options:\n"
	"  --db FILE|URL    SQLite file or PostgreSQL URI (default\n"
	"                   " COLLECTOR_DEFAULT_DB ")\n"
	"  --since TIME     only activations received at or after TIME, UTC:\n"
	"                   YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ\n"
	"  --after-seq N    only activations with seq > N (an archive's next increment:\n"
	"                   N is the last seq of the previous one)\n"
	"\n"
	"example:\n"
	"  sts-collector export --db postgresql://collector@db/sts --since 2026-01-01 \\\n"
	"      | gzip > activations-2026.jsonl.gz\n";

/* list and stats */
static const struct cli_exit db_exits[] = {
	{ STS_EXIT_OK,    "printed" },
	{ STS_EXIT_FAIL,  "the database could not be read" },
	{ STS_EXIT_USAGE, "usage error, or the database could not be opened" },
};

static const char kid_help[] =
	"usage: sts-collector kid FILE...\n"
	"\n"
	"Print the key id (kid) of each public or private key file: base64url of the\n"
	"first 16 bytes of SHA-256 of the raw Ed25519 public key, as used in the JWS\n"
	"header.\n";

static const struct cli_exit kid_exits[] = {
	{ STS_EXIT_OK,    "every key id printed" },
	{ STS_EXIT_USAGE, "usage error, or a FILE is not a readable Ed25519 key (the others "
			  "are still printed)" },
};
/* clang-format on */

static bool parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return false;
	*out = v;
	return true;
}

static int cmd_serve(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "tls-cert", required_argument, NULL, 'c' },
		{ "tls-key", required_argument, NULL, 'k' },
		{ "signing-key", required_argument, NULL, 's' },
		{ "db", required_argument, NULL, 'd' },
		{ "trusted-keys", required_argument, NULL, 't' },
		{ "max-body", required_argument, NULL, 'b' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "max-conns", required_argument, NULL, 'm' },
		{ "port-file", required_argument, NULL, 'p' },
		{ "syslog", no_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct server_opts o = {
		.listen = COLLECTOR_DEFAULT_LISTEN,
		.tls_cert = COLLECTOR_DEFAULT_TLS_CERT,
		.tls_key = COLLECTOR_DEFAULT_TLS_KEY,
		.signing_key = COLLECTOR_DEFAULT_SIGNING_KEY,
		.db = COLLECTOR_DEFAULT_DB,
		.max_body = COLLECTOR_DEFAULT_MAX_BODY,
		.timeout = COLLECTOR_DEFAULT_TIMEOUT,
		.max_conns = COLLECTOR_DEFAULT_MAX_CONNS,
	};
	long v;
	int c, err;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'l':
			o.listen = optarg;
			break;
		case 'c':
			o.tls_cert = optarg;
			break;
		case 'k':
			o.tls_key = optarg;
			break;
		case 's':
			o.signing_key = optarg;
			break;
		case 'd':
			o.db = optarg;
			break;
		case 't':
			o.trusted_keys = optarg;
			break;
		case 'b':
			if (!parse_long(optarg, 256, 1 << 20, &v))
				return cli_usage_error("--max-body %s: expected 256..1048576",
						       optarg);
			o.max_body = v;
			break;
		case 'T':
			if (!parse_long(optarg, 1, 3600, &v))
				return cli_usage_error("--timeout %s: expected 1..3600 seconds",
						       optarg);
			o.timeout = (int)v;
			break;
		case 'm':
			if (!parse_long(optarg, 1, 65536, &v))
				return cli_usage_error("--max-conns %s: expected 1..65536", optarg);
			o.max_conns = (int)v;
			break;
		case 'p':
			o.port_file = optarg;
			break;
		case 'S':
			sts_use_syslog(true);
			break;
		case 'h':
			return cli_help(serve_help, serve_exits, ARRAY_SIZE(serve_exits));
		default:
			return cli_usage_hint();
		}
	}
	if (!cli_operands(argc - optind, argv + optind, ""))
		return STS_EXIT_USAGE;
	err = server_run(&o);
	/* What server_run returns before it serves: a configuration the operator must fix. */
	if (err == -EINVAL || err == -ENOENT || err == -EACCES || err == -EADDRINUSE ||
	    err == -EADDRNOTAVAIL || err == -EBADMSG)
		return STS_EXIT_USAGE;
	return err ? STS_EXIT_FAIL : STS_EXIT_OK;
}

static int cmd_keygen(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "signing-key", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *path = COLLECTOR_DEFAULT_SIGNING_KEY;
	char pub[PATH_MAX], dir[PATH_MAX], kid[STS_KID_LEN + 1], *slash;
	struct sts_key key;
	int c, err;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			path = optarg;
			break;
		case 'h':
			return cli_help(keygen_help, keygen_exits, ARRAY_SIZE(keygen_exits));
		default:
			return cli_usage_hint();
		}
	}
	if (!cli_operands(argc - optind, argv + optind, ""))
		return STS_EXIT_USAGE;
	if (snprintf(pub, sizeof(pub), "%s.pub", path) >= (int)sizeof(pub) ||
	    snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir)) {
		sts_err("%s: %s", path, strerror(ENAMETOOLONG));
		return STS_EXIT_USAGE;
	}
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		err = sts_mkdir_p(dir, 0700);
		if (err) {
			sts_err("mkdir %s: %s", dir, strerror(-err));
			return STS_EXIT_USAGE;
		}
	}
	err = sts_key_generate(path, pub, &key);
	if (err) {
		sts_err("create %s: %s", path, strerror(-err));
		return STS_EXIT_USAGE;
	}
	err = sts_kid(key.pub, kid);
	sts_key_free(&key);
	if (err) {
		sts_err("key id of %s: %s", pub, strerror(-err));
		return STS_EXIT_FAIL;
	}
	printf("private key %s\npublic key  %s (devices pin this)\nkid         %s\n", path, pub,
	       kid);
	return STS_EXIT_OK;
}

/* Parse --db/--json and open the database; false with *status set when there is nothing to do. */
static bool open_db(int argc, char **argv, const char *help, bool *json, struct store **st,
		    int *status)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *db = COLLECTOR_DEFAULT_DB;
	int c, err;

	*json = false;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			db = optarg;
			break;
		case 'j':
			*json = true;
			break;
		case 'h':
			*status = cli_help(help, db_exits, ARRAY_SIZE(db_exits));
			return false;
		default:
			*status = cli_usage_hint();
			return false;
		}
	}
	if (!cli_operands(argc - optind, argv + optind, "")) {
		*status = STS_EXIT_USAGE;
		return false;
	}
	err = store_open(db, false, st);
	if (err) {
		char shown[512];

		store_redact(db, shown, sizeof(shown));
		sts_err("open %s: %s", shown,
			err == -EPROTO ? "its schema is newer than this program" : strerror(-err));
		*status = STS_EXIT_USAGE;
		return false;
	}
	return true;
}

static int print_row(json_t *row, void *arg)
{
	json_t *all = arg;
	const char *country;

	if (all)
		return json_array_append(all, row) ? -ENOMEM : 0;
	country = json_string_value(json_object_get(row, "country"));
	printf("%lld\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
	       (long long)json_integer_value(json_object_get(row, "seq")),
	       json_string_value(json_object_get(row, "received_at")),
	       json_string_value(json_object_get(row, "aid")),
	       json_string_value(json_object_get(row, "kid")),
	       json_string_value(json_object_get(row, "imei")),
	       json_string_value(json_object_get(row, "model")),
	       json_string_value(json_object_get(row, "sw_version")), country ? country : "-");
	return 0;
}

static int cmd_list(int argc, char **argv)
{
	struct store *st = NULL;
	json_t *all = NULL;
	bool json;
	int err;

	if (!open_db(argc, argv, list_help, &json, &st, &err))
		return err;
	if (json) {
		all = json_array();
		if (!all) {
			err = -ENOMEM;
			goto cleanup;
		}
	} else {
		printf("seq\treceived_at\taid\tkid\timei\tmodel\tsw_version\tcountry\n");
	}
	err = store_list(st, NULL, print_row, all);
	if (err) {
		sts_err("read activations: %s (%s)", store_errmsg(st), strerror(-err));
		goto cleanup;
	}
	if (all && json_dumpf(all, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) == 0)
		putchar('\n');
cleanup:
	json_decref(all);
	store_close(st);
	return err ? STS_EXIT_FAIL : STS_EXIT_OK;
}

static int cmd_stats(int argc, char **argv)
{
	struct store *st = NULL;
	json_t *s = NULL, *v;
	const char *k;
	bool json;
	int err;

	if (!open_db(argc, argv, stats_help, &json, &st, &err))
		return err;
	err = store_stats(st, &s);
	if (err) {
		sts_err("read statistics: %s", store_errmsg(st));
		goto cleanup;
	}
	if (json) {
		json_dumpf(s, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		putchar('\n');
	} else {
		printf("activations %lld\ndevice_keys %lld\n",
		       (long long)json_integer_value(json_object_get(s, "activations")),
		       (long long)json_integer_value(json_object_get(s, "device_keys")));
		json_object_foreach(json_object_get(s, "rejections"), k, v)
			printf("rejected %s %lld\n", k, (long long)json_integer_value(v));
	}
cleanup:
	json_decref(s);
	store_close(st);
	return err ? STS_EXIT_FAIL : STS_EXIT_OK;
}

static int print_line(json_t *row, void *arg)
{
	(void)arg;
	if (json_dumpf(row, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER) || putchar('\n') == EOF)
		return -EIO;
	return 0;
}

/* YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ, as received_at is written, into out (20 bytes + NUL). */
static bool parse_since(const char *s, char out[21])
{
	struct tm tm = { 0 };
	const char *end;

	end = strptime(s, "%Y-%m-%d", &tm);
	if (end && *end == 'T')
		end = strptime(end, "T%H:%M:%SZ", &tm);
	if (!end || *end || tm.tm_year < 70 || tm.tm_year > 8000)
		return false;
	return strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm) == 20;
}

static int cmd_export(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "since", required_argument, NULL, 's' },
		{ "after-seq", required_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *db = COLLECTOR_DEFAULT_DB;
	struct store_filter f = { 0 };
	struct store *st = NULL;
	char since[21], shown[512];
	long v;
	int c, err;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			db = optarg;
			break;
		case 's':
			if (!parse_since(optarg, since))
				return cli_usage_error("--since %s: expected YYYY-MM-DD or "
						       "YYYY-MM-DDTHH:MM:SSZ (UTC)",
						       optarg);
			f.since = since;
			break;
		case 'a':
			if (!parse_long(optarg, 0, LONG_MAX, &v))
				return cli_usage_error("--after-seq %s: expected a seq (0 or more)",
						       optarg);
			f.after_seq = v;
			break;
		case 'h':
			return cli_help(export_help, db_exits, ARRAY_SIZE(db_exits));
		default:
			return cli_usage_hint();
		}
	}
	if (!cli_operands(argc - optind, argv + optind, ""))
		return STS_EXIT_USAGE;
	store_redact(db, shown, sizeof(shown));
	err = store_open(db, false, &st);
	if (err) {
		sts_err("open %s: %s", shown,
			err == -EPROTO ? "its schema is newer than this program" : strerror(-err));
		return STS_EXIT_USAGE;
	}
	err = store_list(st, &f, print_line, NULL);
	if (!err && fflush(stdout))
		err = -EIO;
	if (err)
		sts_err("export from %s: %s (%s)", shown, store_errmsg(st), strerror(-err));
	store_close(st);
	return err ? STS_EXIT_FAIL : STS_EXIT_OK;
}

static int cmd_kid(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	char kid[STS_KID_LEN + 1];
	struct sts_key key;
	int c, i, err, ret = STS_EXIT_OK;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			return cli_help(kid_help, kid_exits, ARRAY_SIZE(kid_exits));
		default:
			return cli_usage_hint();
		}
	}
	if (optind == argc)
		return cli_usage_error("missing FILE");
	for (i = optind; i < argc; i++) {
		err = sts_key_load_public(argv[i], &key);
		if (!err) {
			err = sts_kid(key.pub, kid);
			sts_key_free(&key);
		}
		if (err) {
			sts_err("%s: %s", argv[i],
				err == -EBADMSG ? "not an Ed25519 key" : strerror(-err));
			ret = STS_EXIT_USAGE;
			continue;
		}
		printf("%s\t%s\n", kid, argv[i]);
	}
	return ret;
}

/* clang-format off */
static const struct cli_command commands[] = {
	{ "serve",  cmd_serve,  "run the HTTPS collector" },
	{ "keygen", cmd_keygen, "create the receipt-signing key pair" },
	{ "list",   cmd_list,   "print the stored activations" },
	{ "stats",  cmd_stats,  "print counts of stored and refused reports" },
	{ "export", cmd_export, "print activations as JSON Lines, for archives" },
	{ "kid",    cmd_kid,    "print the key id of a key file" },
};

static const struct cli_exit exits[] = {
	{ STS_EXIT_OK,    "success" },
	{ STS_EXIT_FAIL,  "failure at run time" },
	{ STS_EXIT_USAGE, "usage or configuration error (bad option, unreadable file)" },
};

static const struct cli_program collector = {
	.name = "sts-collector",
	.usage = "sts-collector COMMAND [OPTIONS]",
	.about =
		"The stsguard reference collector: receives signed activation reports over\n"
		"HTTPS (TLS 1.3), verifies and stores them, and returns signed receipts.\n",
	.commands = commands,
	.n_commands = ARRAY_SIZE(commands),
	.exits = exits,
	.n_exits = ARRAY_SIZE(exits),
	.footer =
		"quick start:\n"
		"  sts-collector keygen\n"
		"  sts-collector serve --tls-cert CERT.pem --tls-key KEY.pem\n"
		"  sts-collector list\n",
};
/* clang-format on */

int main(int argc, char **argv)
{
	return cli_main(&collector, argc, argv);
}
