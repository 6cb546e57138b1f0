// SPDX-License-Identifier: GPL-2.0-only
/* stsctl verify: the auditor's check of an evidence log (and of its segments, in order). */
#include "commands.h"
#include "core/crypto.h"
#include "evidence/evlog.h"
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

/* clang-format off */
static const char help[] =
	"usage: stsctl verify LOG [LOG...] [--log-key PUB] [--seal-key KEY]\n"
	"                     [--since CHECKPOINT [--witness-key PUB --witness-name NAME]]\n"
	"                     [--allow-unsigned-tail] [--threads N] [--json]\n"
	"\n"
	"Check, line by line, that LOG is the unaltered evidence log its writer produced:\n"
	"every line is a well-formed record, seq counts up by one, each line's prev chains\n"
	"it to the line before (format 2: that line's Merkle leaf hash; format 1: its\n"
	"SHA-256), every checkpoint covers exactly the lines before it with the right\n"
	"RFC 9162 Merkle root and carries a valid Ed25519 signature by the log key, which\n"
	"(format 2) also covers the checkpoint's time, boot, key and seal. Format 2 record\n"
	"times never go back. With --seal-key every checkpoint must carry a valid\n"
	"forward-secure seal: the first of the epoch the log began in, each chaining the\n"
	"one before, none sealed with the key of an epoch later than its own time, and\n"
	"(format 2) every epoch closed by its own key before the next one starts, none\n"
	"skipped.\n"
	"\n"
	"Everything must be covered: an empty log, or records after the last checkpoint\n"
	"(a tail cut, or edited, deleted or made up after it, or simply not signed yet),\n"
	"give exit 4 unless --allow-unsigned-tail is given, and the summary then says\n"
	"how many records no signature covers.\n"
	"\n"
	"Several LOGs are the segments of one log, oldest first (rotation, or the writer\n"
	"starting anew after it found its log cut): each must verify, and each one after\n"
	"the first must start with a copy of the last line of the one before it.\n"
	"\n"
	"Prints a one-line summary. On failure it names the first bad line (1-based) and\n"
	"why.\n"
	"\n"
	"options:\n"
	"  --log-key PUB   the log's Ed25519 public key (PEM, or base64 of the raw 32\n"
	"                  bytes) obtained independently of the log: every checkpoint\n"
	"                  must name it and be signed by it. Without it, signatures are\n"
	"                  checked against the key the log itself names, which proves\n"
	"                  consistency but not origin.\n"
	"  --seal-key KEY  the auditor's seal verification key printed by\n"
	"                  `stsctl seal-init` (sts-seal-v1:...), or a file holding it.\n"
	"                  Without it, seals are not checked.\n"
	"  --since CHECKPOINT\n"
	"                  a signed checkpoint kept from an earlier visit (`stsctl\n"
	"                  checkpoint`): the log must extend it (same origin, at least\n"
	"                  its size, the same Merkle root at that size). Catches a log\n"
	"                  rolled back to an older copy, cut at a checkpoint, or rewritten\n"
	"                  since, even by someone holding the device's keys. Its\n"
	"                  signature is checked by --log-key, or else by the key the\n"
	"                  log's checkpoints name.\n"
	"  --witness-key PUB, --witness-name NAME\n"
	"                  also require the kept checkpoint to carry a valid C2SP\n"
	"                  tlog-cosignature (Ed25519, cosignature/v1) by this witness\n"
	"                  (`stsctl cosign`).\n"
	"  --allow-unsigned-tail\n"
	"                  accept records after the last checkpoint (a live log between\n"
	"                  two checkpoints); the summary counts them. An empty log still\n"
	"                  gives exit 4.\n"
	"  --threads N     threads that parse, hash and check (default: one per CPU);\n"
	"                  the verdict does not depend on it\n"
	"  --json          print the result as one JSON object per LOG instead of the\n"
	"                  summary: {\"log\", \"ok\", \"complete\", \"records\",\n"
	"                  \"checkpoints\", \"unsigned_tail\", \"bad_line\" and \"why\" (null\n"
	"                  when ok), \"origin\", \"signed_by\", \"key_id\" (null without\n"
	"                  checkpoints), \"key_from_log\", \"seals\" (how many checkpoints\n"
	"                  carry one), \"seals_verified\", \"seal_epochs\": {\"first\",\n"
	"                  \"last\"} or null, \"closed_epochs\", \"format\", \"first_seq\",\n"
	"                  \"since_checked\"}. On exit 2 nothing is printed on stdout.\n"
	"\n"
	"examples:\n"
	"  stsctl verify /var/lib/stsguard/evidence.log \\\n"
	"      --log-key log.pub --seal-key seal.key --since kept.checkpoint\n"
	"  stsctl verify evidence.log.1 evidence.log --log-key log.pub\n";

static const struct cli_exit exits[] = {
	{ STS_EXIT_OK,         "the log verifies, every record covered by a signed checkpoint" },
	{ STS_EXIT_FAIL,       "it does not: the first bad line is named (\"ok\": false)" },
	{ STS_EXIT_USAGE,      "usage or I/O error" },
	{ STS_EXIT_INCOMPLETE, "what is there verifies, but the log is empty, or records after\n"
			       "the last checkpoint are covered by no signature (and no\n"
			       "--allow-unsigned-tail)" },
};
/* clang-format on */

struct vopts {
	bool json, allow_tail;
	const char *seal_arg;
	const char *witness_name;
	const struct sts_key *witness;
	const char *since_note;
	size_t since_len;
};

/* The result as one JSON object; the records before a bad line are the ones that passed. */
static int print_json(const char *log_path, int err, bool complete, const struct evv_result *res,
		      bool seals)
{
	bool ok = !err, signed_ = res->checkpoints > 0;
	char kid[9], *out;
	json_t *o;

	sts_hex(res->key_id, 4, kid);
	o = json_pack("{ss sb sb sI sI sI so so so so so sb sI sb so sI si sI sb}", "log", log_path,
		      "ok", ok, "complete", ok && complete, "records", (json_int_t)res->records,
		      "checkpoints", (json_int_t)res->checkpoints, "unsigned_tail",
		      (json_int_t)res->tail, "bad_line",
		      ok ? json_null() : json_integer((json_int_t)res->bad_line), "why",
		      ok ? json_null() : json_string(res->why), "origin",
		      signed_ ? json_string(res->origin) : json_null(), "signed_by",
		      signed_ ? json_string(res->signer) : json_null(), "key_id",
		      signed_ ? json_string(kid) : json_null(), "key_from_log", res->key_from_log,
		      "seals", (json_int_t)res->seals, "seals_verified",
		      ok && seals && res->seals_checked, "seal_epochs",
		      res->seals ? json_pack("{sI sI}", "first", (json_int_t)res->first_epoch,
					     "last", (json_int_t)res->last_epoch)
				 : json_null(),
		      "closed_epochs", (json_int_t)res->closes, "format", res->version, "first_seq",
		      (json_int_t)res->first_seq, "since_checked", res->since_checked);
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

static void print_summary(const char *log_path, const struct evv_result *res, const struct vopts *v,
			  uint64_t witness_time)
{
	char kid[9];

	sts_hex(res->key_id, 4, kid);
	printf("%s: OK: %" PRIu64 " records, %" PRIu64 " checkpoints", log_path, res->records,
	       res->checkpoints);
	if (res->checkpoints)
		printf(" signed by %s (key id %s%s)", res->signer, kid,
		       res->key_from_log ? ", key taken from the log: pass --log-key to check it"
					 : "");
	if (v->seal_arg && res->seals)
		printf(", seals verified for epochs %" PRIu64 "-%" PRIu64 " (%" PRIu64 " closed)",
		       res->first_epoch, res->last_epoch, res->closes);
	else if (res->seals)
		printf(", %" PRIu64 " seals not checked (no --seal-key)", res->seals);
	else
		printf(", not sealed");
	printf(", format %d", res->version);
	if (res->v2_from)
		printf(" (format 1 before seq %" PRIu64 ")", res->v2_from);
	if (res->segment)
		printf(", segment from seq %" PRIu64, res->first_seq);
	if (res->since_checked)
		printf(", extends the kept checkpoint");
	if (v->witness && res->since_checked)
		printf(" (cosigned by %s at %" PRIu64 ")", v->witness_name, witness_time);
	if (res->tail)
		printf(", %" PRIu64 " records after the last checkpoint covered by no signature "
		       "(allowed by --allow-unsigned-tail)",
		       res->tail);
	putchar('\n');
}

/* The first line of buf (without its newline), or NULL. */
static const char *first_line(const char *buf, size_t len, size_t *n)
{
	const char *nl = buf ? memchr(buf, '\n', len) : NULL;

	*n = nl ? (size_t)(nl - buf) : 0;
	return nl ? buf : NULL;
}

/* The seq of the first line, or 0. */
static uint64_t first_seq(const char *buf, size_t len)
{
	struct evline rec;
	const char *l;
	uint64_t seq = 0;
	size_t n;

	l = first_line(buf, len, &n);
	if (l && !evline_scan(l, n, &rec, NULL, 0))
		seq = rec.seq;
	if (l)
		evline_free(&rec);
	return seq;
}

/*
 * Without --log-key, the kept checkpoint is checked against the key the log's checkpoints
 * name (with it, cmd_verify checked it already): a kept checkpoint swapped for one signed by
 * another key proves nothing about this log.
 */
static bool kept_not_signed(const char *buf, const struct evv_result *res, const struct vopts *v)
{
	struct evline rec;
	struct sts_key key = { 0 };
	struct checkpoint cp;
	uint8_t pub[STS_ED25519_PUB_LEN + 1];
	json_t *jk;
	size_t n;
	bool bad = true;

	if (!res->last_cp_len ||
	    evline_parse(buf + res->last_cp_off, res->last_cp_len, &rec, NULL, 0))
		return true;
	jk = json_object_get(rec.obj, "log_key");
	if (json_is_string(jk) &&
	    !sts_b64_decode(json_string_value(jk), json_string_length(jk), pub, sizeof(pub), &n) &&
	    n == STS_ED25519_PUB_LEN && !sts_key_from_raw_public(pub, &key)) {
		bad = checkpoint_verify(v->since_note, v->since_len, &key, &cp, NULL) != 0;
		sts_key_free(&key);
	}
	evline_free(&rec);
	return bad;
}

/* One file: verify it; returns its exit status. prev/prev_len: the previous segment's last line. */
static int verify_one(const char *log_path, const char *buf, size_t len, struct evv_opts *vo,
		      const struct vopts *v, const char *prev, size_t prev_len,
		      struct evv_result *res, uint64_t witness_time)
{
	size_t n;
	const char *l;
	bool complete;
	int err;

	err = evv_verify(buf, len, vo, res);
	if (!err && res->since_checked && !vo->log_key && kept_not_signed(buf, res, v)) {
		res->bad_line = 0;
		snprintf(res->why, sizeof(res->why),
			 "the kept checkpoint is not signed by the key this log names");
		err = -EBADMSG;
	}
	if (!err && prev) {
		/* One chain: this segment starts where the previous one ended. */
		l = first_line(buf, len, &n);
		if (!res->segment || !l || n != prev_len || memcmp(l, prev, n) != 0) {
			res->bad_line = 1;
			snprintf(res->why, sizeof(res->why),
				 "does not start with the last line of the segment before it "
				 "(segments missing or out of order)");
			err = -EBADMSG;
		}
	}
	complete = !err && res->records > 0 && (res->tail == 0 || v->allow_tail);
	if (v->json && (!err || err == -EBADMSG)) {
		if (print_json(log_path, err, complete, res, v->seal_arg != NULL))
			return STS_EXIT_USAGE;
		return err ? STS_EXIT_FAIL : complete ? STS_EXIT_OK : STS_EXIT_INCOMPLETE;
	}
	if (err == -EBADMSG && res->bad_line == 0) {
		printf("%s: FAIL: %s\n", log_path, res->why);
		return STS_EXIT_FAIL;
	}
	if (err == -EBADMSG) {
		printf("%s:%" PRIu64 ": FAIL: %s\n", log_path, res->bad_line, res->why);
		return STS_EXIT_FAIL;
	}
	if (err) {
		sts_err("verify %s: %s", log_path, strerror(-err));
		return STS_EXIT_USAGE;
	}
	if (res->records == 0) {
		printf("%s: INCOMPLETE: empty log: no record, nothing signed\n", log_path);
		return STS_EXIT_INCOMPLETE;
	}
	if (!complete) {
		printf("%s: INCOMPLETE: %" PRIu64 " of %" PRIu64
		       " records, after the last checkpoint, are covered by no signature%s (the "
		       "log cut, edited after its last checkpoint, or not signed yet: take it "
		       "again after a checkpoint, or pass --allow-unsigned-tail)\n",
		       log_path, res->tail, res->records, vo->seal_key ? " or seal" : "");
		return STS_EXIT_INCOMPLETE;
	}
	print_summary(log_path, res, v, witness_time);
	return STS_EXIT_OK;
}

int cmd_verify(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "log-key", required_argument, NULL, 'k' },
		{ "seal-key", required_argument, NULL, 's' },
		{ "since", required_argument, NULL, 'S' },
		{ "witness-key", required_argument, NULL, 'w' },
		{ "witness-name", required_argument, NULL, 'n' },
		{ "allow-unsigned-tail", no_argument, NULL, 'a' },
		{ "threads", required_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *key_path = NULL, *since_path = NULL, *witness_path = NULL, *buf = NULL;
	const char *prev_buf = NULL;
	struct evv_opts vo = { 0 };
	struct evv_result res = { 0 };
	struct sts_key key = { 0 }, wkey = { 0 };
	struct seal_state vk = { 0 };
	struct checkpoint since;
	struct vopts v = { 0 };
	char *since_text = NULL, *end;
	size_t len = 0, prev_len = 0, since_len = 0;
	uint64_t witness_time = 0, seq;
	int c, i, k, err, rc = STS_EXIT_USAGE, nlogs, pick = 0;
	unsigned long threads;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'k':
			key_path = optarg;
			break;
		case 's':
			v.seal_arg = optarg;
			break;
		case 'S':
			since_path = optarg;
			break;
		case 'w':
			witness_path = optarg;
			break;
		case 'n':
			v.witness_name = optarg;
			break;
		case 'a':
			v.allow_tail = true;
			break;
		case 't':
			errno = 0;
			threads = strtoul(optarg, &end, 10);
			if (errno || *end || threads < 1 || threads > 64)
				return cli_usage_error("--threads %s: not a number from 1 to 64",
						       optarg);
			vo.threads = (unsigned int)threads;
			break;
		case 'j':
			v.json = true;
			break;
		case 'h':
			return cli_help(help, exits, ARRAY_SIZE(exits));
		default:
			return cli_usage_hint();
		}
	}
	nlogs = argc - optind;
	if (nlogs < 1)
		return cli_usage_error("missing LOG");
	if (!witness_path != !v.witness_name)
		return cli_usage_error("--witness-key and --witness-name go together");
	if (witness_path && !since_path)
		return cli_usage_error(
			"--witness-key checks the cosignature of --since CHECKPOINT");
	if (key_path && ctl_load_log_key(key_path, &key))
		goto cleanup;
	if (key_path)
		vo.log_key = &key;
	if (v.seal_arg && ctl_load_seal_key(v.seal_arg, &vk))
		goto cleanup;
	if (v.seal_arg)
		vo.seal_key = &vk;
	if (since_path) {
		err = sts_read_file(since_path, NOTE_MAX_LEN, &since_text, &since_len);
		if (err) {
			sts_err("read %s: %s", since_path, strerror(-err));
			goto cleanup;
		}
		if (checkpoint_parse(since_text, since_len, &since, NULL)) {
			sts_err("%s: not a signed checkpoint (stsctl checkpoint writes one)",
				since_path);
			goto cleanup;
		}
		v.since_note = since_text;
		v.since_len = since_len;
		if (vo.log_key) {
			err = checkpoint_verify(since_text, since_len, vo.log_key, &since, NULL);
			if (err) {
				printf("%s: FAIL: the kept checkpoint is %s by the log key\n",
				       since_path,
				       err == -ENOKEY ? "not signed" : "not validly signed");
				rc = STS_EXIT_FAIL;
				goto cleanup;
			}
		}
		if (witness_path) {
			if (ctl_load_log_key(witness_path, &wkey))
				goto cleanup;
			v.witness = &wkey;
			err = note_cosig_verify(since_text, since_len, v.witness_name, &wkey,
						&witness_time);
			if (err) {
				printf("%s: FAIL: %s\n", since_path,
				       err == -ENOKEY ? "no cosignature by that witness"
						      : "the witness cosignature does not verify");
				rc = STS_EXIT_FAIL;
				goto cleanup;
			}
		}
	}
	/* The kept checkpoint is checked in the last segment that starts at or before it. */
	for (i = 0; since_path && i < nlogs; i++) {
		if (ctl_map_log(argv[optind + i], &buf, &len))
			goto cleanup;
		seq = first_seq(buf, len);
		evv_unmap(buf, len);
		buf = NULL;
		if (seq <= since.size)
			pick = i;
	}
	rc = STS_EXIT_OK;
	for (i = 0; i < nlogs; i++) {
		const char *path = argv[optind + i];

		if (ctl_map_log(path, &buf, &len)) {
			rc = STS_EXIT_USAGE;
			break;
		}
		vo.since = since_path && i == pick ? &since : NULL;
		k = verify_one(path, buf, len, &vo, &v,
			       prev_buf ? prev_buf + res.last_cp_off : NULL,
			       prev_buf ? res.last_cp_len : 0, &res, witness_time);
		evv_result_free(&res);
		if (prev_buf)
			evv_unmap(prev_buf, prev_len);
		prev_buf = buf;
		prev_len = len;
		buf = NULL;
		/* The next segment must start with this one's last line, a checkpoint. */
		if (k == STS_EXIT_OK && res.last_cp_off + res.last_cp_len + 1 != len &&
		    i + 1 < nlogs) {
			printf("%s: FAIL: does not end with a checkpoint, so the next segment "
			       "cannot "
			       "go on from it\n",
			       path);
			k = STS_EXIT_FAIL;
		}
		if (k != STS_EXIT_OK &&
		    (rc == STS_EXIT_OK || k == STS_EXIT_FAIL || k == STS_EXIT_USAGE))
			rc = k;
		if (k == STS_EXIT_FAIL || k == STS_EXIT_USAGE)
			break;
	}
cleanup:
	evv_unmap(prev_buf, prev_len);
	evv_unmap(buf, len);
	free(since_text);
	sts_key_free(&key);
	sts_key_free(&wkey);
	seal_state_wipe(&vk);
	return rc;
}
