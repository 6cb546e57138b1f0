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
#include <string.h>

static const char help[] =
	"NAME\n"
	"    stsctl verify - check an evidence log\n"
	"\n"
	"SYNOPSIS\n"
	"    stsctl verify LOG [--log-key PUB] [--seal-key KEY]\n"
	"\n"
	"DESCRIPTION\n"
	"    Checks, line by line, that LOG is the unaltered evidence log its writer produced:\n"
	"    every line is a well-formed record, seq counts up from 0, each line's prev is the\n"
	"    SHA-256 of the line before it, every checkpoint covers exactly the lines before it\n"
	"    with the right RFC 9162 Merkle root and carries a valid Ed25519 signature by the log\n"
	"    key, and (with --seal-key) every checkpoint carries a valid forward-secure seal, in\n"
	"    continuous epochs, none sealed with the key of an epoch later than its own.\n"
	"\n"
	"    Prints a one-line summary. On failure it names the first bad line (1-based) and\n"
	"    why. Records after the last checkpoint are chained but not yet signed; the summary\n"
	"    counts them.\n"
	"\n"
	"OPTIONS\n"
	"    --log-key PUB   the log's Ed25519 public key (PEM, or base64 of the raw 32 bytes)\n"
	"                    obtained independently of the log. Without it, signatures are\n"
	"                    checked against the key the log itself names, which proves\n"
	"                    consistency but not origin.\n"
	"    --seal-key KEY  the auditor's seal verification key printed by `stsctl seal-init`\n"
	"                    (sts-seal-v1:...), or a file holding it. Without it, seals are not\n"
	"                    checked.\n"
	"\n"
	"EXIT STATUS\n"
	"    0 the log verifies, 1 it does not, 2 usage or I/O error.\n"
	"\n"
	"EXAMPLE\n"
	"    stsctl verify /var/lib/stsguard/evidence.log --log-key log.pub --seal-key seal.key\n";

int cmd_verify(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "log-key", required_argument, NULL, 'k' },
		{ "seal-key", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *log_path, *key_path = NULL, *seal_arg = NULL, *buf = NULL;
	struct evv_opts vo = { 0 };
	struct evv_result res = { 0 };
	struct sts_key key = { 0 };
	struct seal_state vk = { 0 };
	char kid[9];
	size_t len = 0;
	int c, err, rc = EXIT_USAGE;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'k':
			key_path = optarg;
			break;
		case 's':
			seal_arg = optarg;
			break;
		case 'h':
			return ctl_help(help);
		default:
			return ctl_usage(argv[0]);
		}
	}
	if (optind != argc - 1)
		return ctl_usage(argv[0]);
	log_path = argv[optind];
	if (ctl_open_log(log_path, key_path, seal_arg, &key, &vk, &vo, &buf, &len))
		goto cleanup;
	err = evv_verify(buf, len, &vo, &res);
	if (err == -EBADMSG) {
		printf("%s:%" PRIu64 ": FAIL: %s\n", log_path, res.bad_line, res.why);
		rc = EXIT_FAIL;
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
	rc = EXIT_OK;
cleanup:
	evv_unmap(buf, len);
	sts_key_free(&key);
	seal_state_wipe(&vk);
	return rc;
}
