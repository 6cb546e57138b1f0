// SPDX-License-Identifier: GPL-2.0-only
/*
 * stsctl checkpoint: the latest signed checkpoint of a log, for the auditor to keep;
 * stsctl cosign: a witness's C2SP cosignature added to such a checkpoint.
 */
#include "commands.h"
#include "core/crypto.h"
#include "evidence/evverify.h"
#include "evidence/note.h"
#include "evidence/seal.h"
#include "core/util.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* clang-format off */
static const char checkpoint_help[] =
	"usage: stsctl checkpoint LOG [--log-key PUB] [--seal-key KEY] [-o FILE]\n"
	"\n"
	"Verify LOG (as `stsctl verify` does, records after the last checkpoint allowed)\n"
	"and print its latest checkpoint: a C2SP tlog-checkpoint signed note (origin, tree\n"
	"size, base64 Merkle root, the format 2 extension lines, the log key's signature).\n"
	"Keep it: at the next visit stsctl verify, given this file, checks that the log\n"
	"still extends it (nothing rolled back, cut or rewritten since), and a witness can\n"
	"cosign it (stsctl cosign).\n"
	"\n"
	"options:\n"
	"  --log-key PUB   the log's public key, as for verify\n"
	"  --seal-key KEY  the seal verification key, as for verify\n"
	"  -o, --output FILE  write the checkpoint to FILE (atomically) instead of stdout\n";

static const struct cli_exit checkpoint_exits[] = {
	{ STS_EXIT_OK,         "the log verifies; its latest checkpoint was printed" },
	{ STS_EXIT_FAIL,       "the log does not verify (the first bad line is named)" },
	{ STS_EXIT_USAGE,      "usage or I/O error" },
	{ STS_EXIT_INCOMPLETE, "the log has no checkpoint yet" },
};

static const char cosign_help[] =
	"usage: stsctl cosign CHECKPOINT --key PRIV --name NAME [--log-key PUB] [-o FILE]\n"
	"\n"
	"Add a witness cosignature (C2SP tlog-cosignature, Ed25519, cosignature/v1) to a\n"
	"checkpoint that `stsctl checkpoint` wrote: a signature by the witness's own key\n"
	"over \"cosignature/v1\", the time, and the checkpoint body, saying \"as of this time,\n"
	"this is the largest tree head of this log I have seen\". A witness should first\n"
	"check that the log extends the checkpoint it cosigned last (stsctl verify, with\n"
	"that checkpoint kept). stsctl verify, given the cosigned checkpoint and the\n"
	"witness's public key and name, then checks the cosignature. Prints the\n"
	"cosigned checkpoint.\n"
	"\n"
	"options:\n"
	"  --key PRIV      the witness's Ed25519 private key (PEM)\n"
	"  --name NAME     the witness's key name (printable ASCII, no space or '+')\n"
	"  --log-key PUB   first check the log's own signature on the checkpoint\n"
	"  -o, --output FILE  write to FILE (atomically) instead of stdout\n";

static const struct cli_exit cosign_exits[] = {
	{ STS_EXIT_OK,    "cosigned" },
	{ STS_EXIT_FAIL,  "the checkpoint is not validly signed by --log-key" },
	{ STS_EXIT_USAGE, "usage or I/O error, or not a checkpoint" },
};
/* clang-format on */

static int write_out(const char *out, const char *text, size_t len)
{
	int err;

	if (!out) {
		fwrite(text, 1, len, stdout);
		return fflush(stdout) ? -EIO : 0;
	}
	err = sts_write_file_atomic(out, text, len, 0644);
	if (err)
		sts_err("write %s: %s", out, strerror(-err));
	return err;
}

int cmd_checkpoint(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "log-key", required_argument, NULL, 'k' },
		{ "seal-key", required_argument, NULL, 's' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *key_path = NULL, *seal_arg = NULL, *out = NULL, *buf = NULL, *log_path;
	struct evv_opts vo = { 0 };
	struct evv_result res = { 0 };
	struct sts_key key = { 0 };
	struct seal_state vk = { 0 };
	struct evline rec = { 0 };
	json_t *note;
	size_t len = 0;
	int c, err, rc = STS_EXIT_USAGE;

	while ((c = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
		switch (c) {
		case 'k':
			key_path = optarg;
			break;
		case 's':
			seal_arg = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 'h':
			return cli_help(checkpoint_help, checkpoint_exits,
					ARRAY_SIZE(checkpoint_exits));
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
	if (err == -EBADMSG) {
		printf("%s:%" PRIu64 ": FAIL: %s\n", log_path, res.bad_line, res.why);
		rc = STS_EXIT_FAIL;
		goto cleanup;
	}
	if (err) {
		sts_err("verify %s: %s", log_path, strerror(-err));
		goto cleanup;
	}
	if (!res.checkpoints) {
		sts_err("%s: no checkpoint yet", log_path);
		rc = STS_EXIT_INCOMPLETE;
		goto cleanup;
	}
	if (evline_parse(buf + res.last_cp_off, res.last_cp_len, &rec, NULL, 0))
		goto cleanup;
	note = json_object_get(rec.obj, "note");
	if (!json_is_string(note) ||
	    write_out(out, json_string_value(note), json_string_length(note)))
		goto cleanup;
	rc = STS_EXIT_OK;
cleanup:
	evline_free(&rec);
	evv_result_free(&res);
	evv_unmap(buf, len);
	sts_key_free(&key);
	seal_state_wipe(&vk);
	return rc;
}

int cmd_cosign(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "key", required_argument, NULL, 'K' },
		{ "name", required_argument, NULL, 'n' },
		{ "log-key", required_argument, NULL, 'k' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *priv = NULL, *name = NULL, *log_key = NULL, *out = NULL, *path;
	struct sts_key wkey = { 0 }, lkey = { 0 };
	struct checkpoint cp;
	char *text = NULL, *signed_ = NULL;
	size_t len;
	int c, err, rc = STS_EXIT_USAGE;

	while ((c = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
		switch (c) {
		case 'K':
			priv = optarg;
			break;
		case 'n':
			name = optarg;
			break;
		case 'k':
			log_key = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 'h':
			return cli_help(cosign_help, cosign_exits, ARRAY_SIZE(cosign_exits));
		default:
			return cli_usage_hint();
		}
	}
	if (!cli_operands(argc - optind, argv + optind, "CHECKPOINT"))
		return STS_EXIT_USAGE;
	if (!priv || !name)
		return cli_usage_error("--key and --name are required");
	path = argv[optind];
	err = sts_read_file(path, NOTE_MAX_LEN, &text, &len);
	if (err) {
		sts_err("read %s: %s", path, strerror(-err));
		goto cleanup;
	}
	if (checkpoint_parse(text, len, &cp, NULL)) {
		sts_err("%s: not a signed checkpoint", path);
		goto cleanup;
	}
	if (log_key) {
		if (ctl_load_log_key(log_key, &lkey))
			goto cleanup;
		if (checkpoint_verify(text, len, &lkey, &cp, NULL)) {
			printf("%s: FAIL: not validly signed by the log key\n", path);
			rc = STS_EXIT_FAIL;
			goto cleanup;
		}
	}
	err = sts_key_load_private(priv, &wkey);
	if (err) {
		sts_err("%s: %s", priv, strerror(-err));
		goto cleanup;
	}
	err = note_cosign(text, len, name, &wkey, (uint64_t)time(NULL), &signed_);
	if (err) {
		sts_err("cosign %s: %s", path, err == -EINVAL ? "invalid --name" : strerror(-err));
		goto cleanup;
	}
	if (!write_out(out, signed_, strlen(signed_)))
		rc = STS_EXIT_OK;
cleanup:
	free(text);
	free(signed_);
	sts_key_free(&wkey);
	sts_key_free(&lkey);
	return rc;
}
