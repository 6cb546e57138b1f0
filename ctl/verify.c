// SPDX-License-Identifier: GPL-2.0-only
/* stsctl verify: the auditor's check of an evidence log. */
#include "commands.h"
#include "core/crypto.h"
#include "evidence/evverify.h"
#include "evidence/seal.h"
#include "core/util.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* clang-format off */
static const char help[] =
	"usage: stsctl verify LOG [--log-key PUB] [--seal-key KEY] [--json]\n"
	"\n"
	"Check, line by line, that LOG is the unaltered evidence log its writer produced:\n"
	"every line is a well-formed record, seq counts up from 0, each line's prev is\n"
	"the SHA-256 of the line before it, every checkpoint covers exactly the lines\n"
	"before it with the right RFC 9162 Merkle root and carries a valid Ed25519\n"
	"signature by the log key, and (with --seal-key) every checkpoint carries a valid\n"
	"forward-secure seal, in continuous epochs, none sealed with the key of an epoch\n"
	"later than its own.\n"
	"\n"
	"Prints a one-line summary. On failure it names the first bad line (1-based) and\n"
	"why. Records after the last checkpoint are chained but not yet signed; the\n"
	"summary counts them.\n"
	"\n"
	"options:\n"
	"  --log-key PUB   the log's Ed25519 public key (PEM, or base64 of the raw 32\n"
	"                  bytes) obtained independently of the log. Without it,\n"
	"                  signatures are checked against the key the log itself names,\n"
	"                  which proves consistency but not origin.\n"
	"  --seal-key KEY  the auditor's seal verification key printed by\n"
	"                  `stsctl seal-init` (sts-seal-v1:...), or a file holding it.\n"
	"                  Without it, seals are not checked.\n"
	"  --json          print the result as one JSON object instead of the summary:\n"
	"                  {\"log\", \"ok\", \"records\", \"checkpoints\", \"unsigned_tail\",\n"
	"                  \"bad_line\" and \"why\" (null when ok), \"origin\", \"signed_by\",\n"
	"                  \"key_id\" (null without checkpoints), \"key_from_log\", \"seals\"\n"
	"                  (how many checkpoints carry one), \"seals_verified\",\n"
	"                  \"seal_epochs\": {\"first\", \"last\"} or null}. On exit 2 nothing\n"
	"                  is printed on stdout.\n"
	"\n"
	"example:\n"
	"  stsctl verify /var/lib/stsguard/evidence.log \\\n"
	"      --log-key log.pub --seal-key seal.key\n";

static const struct cli_exit exits[] = {
	{ STS_EXIT_OK,    "the log verifies" },
	{ STS_EXIT_FAIL,  "it does not: the first bad line is named (\"ok\": false)" },
	{ STS_EXIT_USAGE, "usage or I/O error" },
};
/* clang-format on */

/* The result as one JSON object; the records before a bad line are the ones that passed. */
static int print_json(const char *log_path, int err, const struct evv_result *res, bool seals)
{
	bool ok = !err, signed_ = res->checkpoints > 0;
	char kid[9], *out;
	json_t *o;

	sts_hex(res->key_id, 4, kid);
	o = json_pack("{ss sb sI sI sI so so so so so sb sI sb so}", "log", log_path, "ok", ok,
		      "records", (json_int_t)res->records, "checkpoints",
		      (json_int_t)res->checkpoints, "unsigned_tail", (json_int_t)res->tail,
		      "bad_line", ok ? json_null() : json_integer((json_int_t)res->bad_line), "why",
		      ok ? json_null() : json_string(res->why), "origin",
		      signed_ ? json_string(res->origin) : json_null(), "signed_by",
		      signed_ ? json_string(res->signer) : json_null(), "key_id",
		      signed_ ? json_string(kid) : json_null(), "key_from_log", res->key_from_log,
		      "seals", (json_int_t)res->seals, "seals_verified",
		      ok && seals && res->seals_checked, "seal_epochs",
		      res->seals ? json_pack("{sI sI}", "first", (json_int_t)res->first_epoch,
					     "last", (json_int_t)res->last_epoch)
				 : json_null());
	out = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(o);
	if (!out) {
		sts_err("verify %s: out of memory", log_path);
		return -ENOMEM;
	}
	printf("%s\n", out);
	free(out);
	return 0;
}

int cmd_verify(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "log-key", required_argument, NULL, 'k' },
		{ "seal-key", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *log_path, *key_path = NULL, *seal_arg = NULL, *buf = NULL;
	struct evv_opts vo = { 0 };
	struct evv_result res = { 0 };
	struct sts_key key = { 0 };
	struct seal_state vk = { 0 };
	bool json = false;
	char kid[9];
	size_t len = 0;
	int c, err, rc = STS_EXIT_USAGE;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'k':
			key_path = optarg;
			break;
		case 's':
			seal_arg = optarg;
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
	if (!cli_operands(argc - optind, argv + optind, "LOG"))
		return STS_EXIT_USAGE;
	log_path = argv[optind];
	if (ctl_open_log(log_path, key_path, seal_arg, &key, &vk, &vo, &buf, &len))
		goto cleanup;
	err = evv_verify(buf, len, &vo, &res);
	if (json && (!err || err == -EBADMSG)) {
		if (!print_json(log_path, err, &res, seal_arg != NULL))
			rc = err ? STS_EXIT_FAIL : STS_EXIT_OK;
		goto cleanup;
	}
	if (err == -EBADMSG) {
		printf("%s:%" PRIu64 ": FAIL: %s\n", log_path, res.bad_line, res.why);
		rc = STS_EXIT_FAIL;
		goto cleanup;
	}
	if (err) {
		sts_err("verify %s: %s", log_path, strerror(-err));
		goto cleanup;
	}
	sts_hex(res.key_id, 4, kid);
	printf("%s: OK: %" PRIu64 " records, %" PRIu64 " checkpoints", log_path, res.records,
	       res.checkpoints);
	if (res.checkpoints)
		printf(" signed by %s (key id %s%s)", res.signer, kid,
		       res.key_from_log ? ", key taken from the log: pass --log-key to check it"
					: "");
	if (seal_arg)
		printf(", seals verified for epochs %" PRIu64 "-%" PRIu64, res.first_epoch,
		       res.last_epoch);
	else if (res.seals)
		printf(", %" PRIu64 " seals not checked (no --seal-key)", res.seals);
	else
		printf(", not sealed");
	if (res.tail)
		printf(", %" PRIu64 " records after the last checkpoint not yet signed", res.tail);
	putchar('\n');
	rc = STS_EXIT_OK;
cleanup:
	evv_unmap(buf, len);
	sts_key_free(&key);
	seal_state_wipe(&vk);
	return rc;
}
