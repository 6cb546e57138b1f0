// SPDX-License-Identifier: GPL-2.0-only
/* stsctl prove / verify-proof: evidence a third party checks without the rest of the log. */
#include "commands.h"
#include "core/crypto.h"
#include "evidence/evlog.h"
#include "evidence/evproof.h"
#include "evidence/evverify.h"
#include "core/util.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* clang-format off */
static const char prove_help[] =
	"usage: stsctl prove LOG SEQ [--at SIZE] [-o FILE]\n"
	"       stsctl prove LOG --from SIZE [--at SIZE] [-o FILE]\n"
	"\n"
	"The first form proves that record SEQ is in the log: it writes a C2SP tlog-proof\n"
	"(c2sp.org/tlog-proof@v1) holding the record itself (extra), its index, the\n"
	"RFC 9162 inclusion path and the signed checkpoint it leads to. Anyone with the\n"
	"log's public key can check it with `stsctl verify-proof`, without the rest of\n"
	"the log, which stays private.\n"
	"\n"
	"The second form proves that the log at checkpoint size --from is a prefix of the\n"
	"log at checkpoint size --at (nothing before was changed or removed), as an\n"
	"RFC 9162 consistency proof between the two signed checkpoints\n"
	"(stsguard/tlog-consistency@v1).\n"
	"\n"
	"LOG must verify (see `stsctl verify`) up to the checkpoint used.\n"
	"\n"
	"options:\n"
	"  --at SIZE    use the checkpoint of this tree size (default: the last one)\n"
	"  --from SIZE  tree size of the older checkpoint (consistency proof)\n"
	"  -o FILE      write the proof to FILE instead of standard output\n";

static const struct cli_exit prove_exits[] = {
	{ STS_EXIT_OK,    "proof written" },
	{ STS_EXIT_FAIL,  "the log does not verify" },
	{ STS_EXIT_USAGE, "usage or I/O error, or no checkpoint covers the record yet" },
};

static const char verify_proof_help[] =
	"usage: stsctl verify-proof PROOF --log-key PUB [--record FILE] [--since CHECKPOINT]\n"
	"\n"
	"Check a proof written by `stsctl prove`: that the checkpoint in it is signed by\n"
	"PUB and that the inclusion path leads from the record to the checkpoint's root\n"
	"(inclusion), or that the older checkpoint's tree is a prefix of the newer one's\n"
	"(consistency). Prints the record that was proved.\n"
	"\n"
	"options:\n"
	"  --log-key PUB  the log's Ed25519 public key (PEM, or base64 of the raw 32\n"
	"                 bytes)\n"
	"  --record FILE  the record line to check (default: the one carried in the\n"
	"                 proof); must match it when the proof carries one\n"
	"  --since CHECKPOINT\n"
	"                 a checkpoint the auditor kept (`stsctl checkpoint`): the proof\n"
	"                 must be a consistency proof from exactly that checkpoint (same\n"
	"                 origin, size and root), so it shows that today's log extends\n"
	"                 it (`stsctl prove LOG --from SIZE` writes one)\n";

static const struct cli_exit verify_proof_exits[] = {
	{ STS_EXIT_OK,    "the proof holds" },
	{ STS_EXIT_FAIL,  "it does not" },
	{ STS_EXIT_USAGE, "usage or I/O error" },
};
/* clang-format on */

struct cp_list {
	uint64_t want_seq;
	const char *rec;
	size_t rec_len;
	size_t n, cap;
	struct {
		uint64_t size;
		char *note;
		size_t len;
	} * cps;
};

static int collect(void *arg, const struct evline *rec, const char *line, size_t len)
{
	struct cp_list *l = arg;
	json_t *note;
	void *n;

	if (rec->seq == l->want_seq) {
		l->rec = line;
		l->rec_len = len;
	}
	if (strcmp(rec->type, EV_CHECKPOINT) != 0)
		return 0;
	note = json_object_get(rec->obj, "note");
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 64;
		n = realloc(l->cps, l->cap * sizeof(*l->cps));
		if (!n)
			return -ENOMEM;
		l->cps = n;
	}
	l->cps[l->n].size = rec->seq;
	l->cps[l->n].len = json_string_length(note);
	l->cps[l->n].note = strndup(json_string_value(note), l->cps[l->n].len);
	if (!l->cps[l->n].note)
		return -ENOMEM;
	l->n++;
	return 0;
}

static int find_cp(const struct cp_list *l, uint64_t size, bool last)
{
	size_t i;

	if (last)
		return l->n ? (int)(l->n - 1) : -1;
	for (i = 0; i < l->n; i++)
		if (l->cps[i].size == size)
			return (int)i;
	return -1;
}

static bool parse_u64(const char *s, uint64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 10);
	return !errno && end != s && !*end && s[0] != '-';
}

int cmd_prove(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "at", required_argument, NULL, 'a' },
		{ "from", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *log_path, *out_path = NULL, *buf = NULL;
	struct cp_list l = { .want_seq = UINT64_MAX };
	struct evv_opts vo = { .on_record = collect, .arg = &l, .keep_leaves = true };
	struct evv_result res = { 0 };
	struct evproof p = { 0 };
	struct merkle_tree tree = { 0 };
	uint64_t at = 0, from = 0;
	bool have_at = false, have_from = false;
	char *text = NULL;
	size_t len = 0, i;
	int c, err, ci, oi, rc = STS_EXIT_USAGE;

	while ((c = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			if (!parse_u64(optarg, &at))
				return cli_usage_error("--at %s: not a tree size", optarg);
			have_at = true;
			break;
		case 'f':
			if (!parse_u64(optarg, &from))
				return cli_usage_error("--from %s: not a tree size", optarg);
			have_from = true;
			break;
		case 'o':
			out_path = optarg;
			break;
		case 'h':
			return cli_help(prove_help, prove_exits, ARRAY_SIZE(prove_exits));
		default:
			return cli_usage_hint();
		}
	}
	if (!cli_operands(argc - optind, argv + optind, have_from ? "LOG" : "LOG SEQ"))
		return STS_EXIT_USAGE;
	log_path = argv[optind];
	if (!have_from && !parse_u64(argv[optind + 1], &l.want_seq))
		return cli_usage_error("SEQ %s: not a record number", argv[optind + 1]);
	if (ctl_map_log(log_path, &buf, &len))
		goto cleanup;
	err = evv_verify(buf, len, &vo, &res);
	if (err == -EBADMSG) {
		sts_err("%s:%" PRIu64 ": %s", log_path, res.bad_line, res.why);
		rc = STS_EXIT_FAIL;
		goto cleanup;
	}
	if (err) {
		sts_err("verify %s: %s", log_path, strerror(-err));
		goto cleanup;
	}
	if (res.segment) {
		/* The leaves before the segment are in the older segments, not here. */
		sts_err("%s: a segment from seq %" PRIu64 ": proofs need the log from its first "
			"record (the older segments, then this one, as one file)",
			log_path, res.first_seq);
		goto cleanup;
	}
	err = merkle_tree_build(res.leaves, res.records, &tree);
	if (err) {
		sts_err("prove: %s", strerror(-err));
		goto cleanup;
	}
	ci = find_cp(&l, at, !have_at);
	if (ci < 0) {
		sts_err("%s: no checkpoint%s", log_path, have_at ? " of that size" : "");
		goto cleanup;
	}
	if (have_from) {
		oi = find_cp(&l, from, false);
		if (oi < 0 || from == 0 || from > l.cps[ci].size) {
			sts_err("%s: no checkpoint of size %" PRIu64
				" before the one of size %" PRIu64,
				log_path, from, l.cps[ci].size);
			goto cleanup;
		}
		p.consistency = true;
		p.old_note = l.cps[oi].note;
		p.old_note_len = l.cps[oi].len;
		err = merkle_consistency_proof(&tree, from, l.cps[ci].size, p.hashes, &p.nhashes);
	} else {
		if (!l.rec || l.want_seq >= l.cps[ci].size) {
			sts_err("%s: record %" PRIu64 " is %s", log_path, l.want_seq,
				l.rec ? "not covered by that checkpoint (use a later one)"
				      : "not in the log");
			goto cleanup;
		}
		p.index = l.want_seq;
		p.extra = (char *)l.rec;
		p.extra_len = l.rec_len;
		err = merkle_inclusion_proof(&tree, l.cps[ci].size, p.index, p.hashes, &p.nhashes);
	}
	p.note = l.cps[ci].note;
	p.note_len = l.cps[ci].len;
	if (!err)
		err = evproof_format(&p, &text);
	if (err) {
		sts_err("prove: %s", strerror(-err));
		goto cleanup;
	}
	if (out_path) {
		err = sts_write_file_atomic(out_path, text, strlen(text), 0644);
		if (err) {
			sts_err("write %s: %s", out_path, strerror(-err));
			goto cleanup;
		}
	} else {
		fputs(text, stdout);
	}
	rc = STS_EXIT_OK;
cleanup:
	free(text);
	merkle_tree_free(&tree);
	for (i = 0; i < l.n; i++)
		free(l.cps[i].note);
	free(l.cps);
	evv_result_free(&res);
	evv_unmap(buf, len);
	return rc;
}

int cmd_verify_proof(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "log-key", required_argument, NULL, 'k' },
		{ "record", required_argument, NULL, 'r' },
		{ "since", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *proof_path, *key_path = NULL, *rec_path = NULL, *since_path = NULL;
	char *since_text = NULL;
	size_t since_len = 0;
	struct checkpoint since;
	char *text = NULL, *record = NULL, why[160];
	size_t tlen, rlen = 0;
	struct evproof p = { 0 };
	struct sts_key key = { 0 };
	struct checkpoint cp;
	struct evline rec = { 0 };
	int c, err, rc = STS_EXIT_USAGE;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'k':
			key_path = optarg;
			break;
		case 'r':
			rec_path = optarg;
			break;
		case 'S':
			since_path = optarg;
			break;
		case 'h':
			return cli_help(verify_proof_help, verify_proof_exits,
					ARRAY_SIZE(verify_proof_exits));
		default:
			return cli_usage_hint();
		}
	}
	if (!cli_operands(argc - optind, argv + optind, "PROOF"))
		return STS_EXIT_USAGE;
	if (!key_path)
		return cli_usage_error("missing --log-key PUB");
	proof_path = argv[optind];
	if (ctl_load_log_key(key_path, &key))
		goto cleanup;
	err = sts_read_file(proof_path, EVPROOF_MAX_LEN, &text, &tlen);
	if (err) {
		sts_err("open %s: %s", proof_path, strerror(-err));
		goto cleanup;
	}
	if (rec_path) {
		err = sts_read_file(rec_path, EVLINE_MAX + 1, &record, &rlen);
		if (err) {
			sts_err("open %s: %s", rec_path, strerror(-err));
			goto cleanup;
		}
		if (rlen && record[rlen - 1] == '\n')
			rlen--; /* the line as it is in the log, without its newline */
	}
	if (since_path) {
		err = sts_read_file(since_path, NOTE_MAX_LEN, &since_text, &since_len);
		if (err) {
			sts_err("open %s: %s", since_path, strerror(-err));
			goto cleanup;
		}
		if (checkpoint_parse(since_text, since_len, &since, NULL)) {
			sts_err("%s: not a signed checkpoint", since_path);
			goto cleanup;
		}
	}
	rc = STS_EXIT_FAIL;
	err = evproof_parse(text, tlen, &p);
	if (err) {
		printf("%s: FAIL: malformed proof\n", proof_path);
		goto cleanup;
	}
	err = evproof_verify(&p, record, rlen, &key, &cp);
	if (err) {
		printf("%s: FAIL: %s\n", proof_path,
		       err == -ENOKEY	      ? "checkpoint not signed by this log key"
		       : err == -EKEYREJECTED ? "checkpoint signature does not verify"
		       : err == -EPROTO	      ? "the proof does not lead to the signed root"
					      : "malformed proof");
		goto cleanup;
	}
	if (p.consistency) {
		struct checkpoint old;

		checkpoint_parse(p.old_note, p.old_note_len, &old, NULL);
		if (since_path && (strcmp(old.origin, since.origin) || old.size != since.size ||
				   memcmp(old.root, since.root, sizeof(old.root)))) {
			printf("%s: FAIL: the proof starts from size %" PRIu64
			       ", not from the kept checkpoint (size %" PRIu64 ")\n",
			       proof_path, old.size, since.size);
			goto cleanup;
		}
		printf("%s: OK: %s at size %" PRIu64 " is a prefix of the log at size %" PRIu64
		       "\n",
		       proof_path, cp.origin, old.size, cp.size);
		rc = STS_EXIT_OK;
		goto cleanup;
	}
	if (since_path) {
		printf("%s: FAIL: --since needs a consistency proof (stsctl prove LOG --from "
		       "%" PRIu64 ")\n",
		       proof_path, since.size);
		goto cleanup;
	}
	if (!record) {
		record = p.extra;
		rlen = p.extra_len;
		p.extra = NULL;
	}
	if (evline_parse(record, rlen, &rec, why, sizeof(why)) || rec.seq != p.index) {
		printf("%s: FAIL: the proved entry is not record %" PRIu64 " of an evidence log\n",
		       proof_path, p.index);
		goto cleanup;
	}
	printf("%s: OK: record %" PRIu64 " (%s, %s) is in %s at size %" PRIu64 "\n", proof_path,
	       rec.seq, rec.type, rec.time, cp.origin, cp.size);
	printf("%.*s\n", (int)rlen, record);
	rc = STS_EXIT_OK;
cleanup:
	evline_free(&rec);
	evproof_free(&p);
	free(record);
	free(text);
	free(since_text);
	sts_key_free(&key);
	return rc;
}
