// SPDX-License-Identifier: GPL-2.0-only
#include "evidence/evverify.h"
#include "evidence/evlog.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* A first seal further than this from epoch 0 is not worth the SHA-256 steps to check. */
#define MAX_EPOCH_STEPS (1ull << 26)

struct vstate {
	const struct evv_opts *opts;
	struct evv_result *res;
	struct merkle_range range;
	uint64_t nleaves_cap;
	struct sts_key log_key; /* from the log, when the auditor gave none */
	bool have_log_key;
	/* Seals */
	bool have_prev_seal;
	uint64_t prev_epoch;
	uint8_t prev_mac[STS_SHA256_LEN];
	struct seal_state key; /* evolving copy of the auditor's key */
};

static int fail(struct vstate *v, uint64_t line, const char *fmt, ...)
{
	va_list ap;

	v->res->bad_line = line;
	va_start(ap, fmt);
	vsnprintf(v->res->why, sizeof(v->res->why), fmt, ap);
	va_end(ap);
	return -EBADMSG;
}

static int check_seal(struct vstate *v, uint64_t line, const struct evline *rec, const char *note,
		      size_t note_len)
{
	json_t *seal = json_object_get(rec->obj, "seal"), *jepoch, *jmac;
	const struct seal_state *vk = v->opts->seal_key;
	uint8_t mac[STS_SHA256_LEN], want[STS_SHA256_LEN];
	uint64_t epoch, own;
	int err;

	if (!seal) {
		if (vk)
			return fail(v, line, "checkpoint is not sealed (seal removed?)");
		return 0;
	}
	jepoch = json_object_get(seal, "epoch");
	jmac = json_object_get(seal, "mac");
	if (!json_is_object(seal) || json_object_size(seal) != 2 || !json_is_integer(jepoch) ||
	    json_integer_value(jepoch) < 0 || !json_is_string(jmac) ||
	    json_string_length(jmac) != 2 * STS_SHA256_LEN ||
	    strspn(json_string_value(jmac), "0123456789abcdef") != 2 * STS_SHA256_LEN ||
	    sts_unhex(json_string_value(jmac), 2 * STS_SHA256_LEN, mac, sizeof(mac)))
		return fail(v, line, "malformed seal");
	epoch = (uint64_t)json_integer_value(jepoch);
	v->res->seals++;
	if (v->res->seals == 1)
		v->res->first_epoch = epoch;
	v->res->last_epoch = epoch;
	if (!vk)
		return 0;
	if (v->have_prev_seal && epoch < v->prev_epoch)
		return fail(v, line,
			    "seal epoch %" PRIu64 " comes after epoch %" PRIu64
			    " (epochs go backwards)",
			    epoch, v->prev_epoch);
	if (v->have_prev_seal && epoch > v->prev_epoch + 1)
		return fail(v, line,
			    "seal epochs %" PRIu64 " to %" PRIu64 " are missing (seals dropped or "
			    "history rewritten)",
			    v->prev_epoch + 1, epoch - 1);
	/* Sealing with a later key is what someone holding today's key would have to do. */
	own = seal_epoch_of(vk, rec->time_us / 1000000);
	if (v->have_prev_seal && own < v->prev_epoch)
		own = v->prev_epoch; /* the device clock went back; the key could not */
	if (epoch > own)
		return fail(v, line,
			    "checkpoint of epoch %" PRIu64
			    " sealed with the key of later epoch %" PRIu64 " (re-sealed)",
			    own, epoch);
	if (epoch < v->key.epoch || epoch - v->key.epoch > MAX_EPOCH_STEPS)
		return fail(v, line, "seal epoch %" PRIu64 " out of range", epoch);
	err = seal_advance(&v->key, epoch);
	if (!err)
		err = seal_mac(v->key.key, epoch, v->have_prev_seal ? v->prev_mac : NULL, rec->time,
			       note, note_len, want);
	if (err)
		return err;
	if (memcmp(want, mac, sizeof(mac)) != 0)
		return fail(v, line, "seal of epoch %" PRIu64 " does not verify", epoch);
	memcpy(v->prev_mac, mac, sizeof(mac));
	v->prev_epoch = epoch;
	v->have_prev_seal = true;
	v->res->seals_checked = true;
	return 0;
}

static int check_checkpoint(struct vstate *v, uint64_t line, const struct evline *rec)
{
	json_t *jsize = json_object_get(rec->obj, "size"),
	       *jnote = json_object_get(rec->obj, "note"),
	       *jkey = json_object_get(rec->obj, "log_key");
	uint8_t pub[STS_ED25519_PUB_LEN + 1];
	const struct sts_key *key = v->opts->log_key;
	struct checkpoint cp;
	merkle_hash root;
	const char *note;
	size_t n;
	int err;

	if (!json_is_integer(jsize) || (uint64_t)json_integer_value(jsize) != rec->seq)
		return fail(v, line, "checkpoint \"size\" is not the number of records before it");
	if (!json_is_string(jnote) || !json_is_string(jkey) ||
	    sts_b64_decode(json_string_value(jkey), json_string_length(jkey), pub, sizeof(pub),
			   &n) ||
	    n != STS_ED25519_PUB_LEN)
		return fail(v, line, "checkpoint without a valid \"note\" and \"log_key\"");
	note = json_string_value(jnote);
	if (!key) {
		if (!v->have_log_key) {
			if (sts_key_from_raw_public(pub, &v->log_key))
				return fail(v, line,
					    "checkpoint \"log_key\" is not an Ed25519 key");
			v->have_log_key = true;
			v->res->key_from_log = true;
		} else if (memcmp(pub, v->log_key.pub, STS_ED25519_PUB_LEN) != 0) {
			return fail(v, line, "checkpoint names a different log key than before");
		}
		key = &v->log_key;
	}
	err = checkpoint_verify(note, json_string_length(jnote), key, &cp, v->res->signer);
	if (err == -EBADMSG)
		return fail(v, line, "malformed checkpoint note");
	if (err == -ENOKEY)
		return fail(v, line, "checkpoint is not signed by the log key");
	if (err == -EKEYREJECTED)
		return fail(v, line, "checkpoint signature does not verify");
	if (err)
		return err;
	note_key_id(v->res->signer, key->pub, v->res->key_id);
	if (cp.size != rec->seq)
		return fail(v, line,
			    "checkpoint tree size %" PRIu64 " but %" PRIu64 " records precede it",
			    cp.size, rec->seq);
	err = merkle_range_root(&v->range, root);
	if (err)
		return err;
	if (memcmp(root, cp.root, sizeof(root)) != 0)
		return fail(v, line, "checkpoint root hash does not match the records before it");
	if (v->res->checkpoints && strcmp(cp.origin, v->res->origin) != 0)
		return fail(v, line, "checkpoint origin \"%s\" differs from \"%s\"", cp.origin,
			    v->res->origin);
	memcpy(v->res->origin, cp.origin, sizeof(cp.origin));
	err = check_seal(v, line, rec, note, json_string_length(jnote));
	if (err)
		return err;
	v->res->checkpoints++;
	v->res->tail = 0;
	return 0;
}

/* Does the line at p (if whole and valid) chain onto hash h? Used to tell which of two
 * neighbouring lines was altered. */
static bool chains_onto(const char *p, const char *end, const uint8_t h[STS_SHA256_LEN])
{
	const char *nl = p < end ? memchr(p, '\n', end - p) : NULL;
	struct evline rec;
	bool ok;

	if (!nl || evline_scan(p, nl - p, &rec, NULL, 0))
		return false;
	ok = memcmp(rec.prev, h, STS_SHA256_LEN) == 0;
	evline_free(&rec);
	return ok;
}

static int keep_leaf(struct vstate *v, const merkle_hash leaf)
{
	merkle_hash *n;

	if (v->res->records == v->nleaves_cap) {
		v->nleaves_cap = v->nleaves_cap ? 2 * v->nleaves_cap : 1024;
		n = realloc(v->res->leaves, v->nleaves_cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		v->res->leaves = n;
	}
	memcpy(v->res->leaves[v->res->records], leaf, sizeof(merkle_hash));
	return 0;
}

int evv_verify(const char *buf, size_t len, const struct evv_opts *opts, struct evv_result *res)
{
	const char *p = buf, *end = buf + len, *nl;
	uint8_t prev[STS_SHA256_LEN] = { 0 }, h[STS_SHA256_LEN];
	struct vstate v = { .opts = opts, .res = res };
	char why[200];
	struct evline rec = { 0 };
	merkle_hash leaf;
	uint64_t line = 0;
	int err = 0;

	memset(res, 0, sizeof(*res));
	merkle_range_init(&v.range);
	if (opts->seal_key)
		v.key = *opts->seal_key;
	while (p < end) {
		line++;
		nl = memchr(p, '\n', end - p);
		if (!nl) {
			err = fail(&v, line,
				   "incomplete record: %zu bytes without a newline "
				   "(truncated file or torn write)",
				   (size_t)(end - p));
			goto cleanup;
		}
		if ((opts->want_obj ? evline_parse : evline_scan)(p, nl - p, &rec, why,
								  sizeof(why))) {
			err = fail(&v, line, "not a valid record: %s", why);
			goto cleanup;
		}
		/* Checkpoints are read in full: their note, key and seal are checked. */
		if (!rec.obj && strcmp(rec.type, EV_CHECKPOINT) == 0) {
			evline_free(&rec);
			if (evline_parse(p, nl - p, &rec, why, sizeof(why))) {
				err = fail(&v, line, "not a valid record: %s", why);
				goto cleanup;
			}
		}
		if (rec.seq != res->records) {
			err = fail(&v, line,
				   "seq %" PRIu64 " where %" PRIu64
				   " was expected (a record deleted, inserted or moved)",
				   rec.seq, res->records);
			goto cleanup;
		}
		err = sts_sha256(p, nl - p, h);
		if (err)
			goto cleanup;
		if (memcmp(rec.prev, prev, sizeof(prev)) != 0) {
			if (line == 1)
				err = fail(&v, line,
					   "first record does not start a chain (prev is "
					   "not zero)");
			else if (chains_onto(nl + 1, end, h))
				err = fail(&v, line - 1,
					   "record altered: its hash is not the prev "
					   "of line %" PRIu64,
					   line);
			else
				err = fail(&v, line,
					   "prev is not the hash of line %" PRIu64
					   " (record altered, or chain forged)",
					   line - 1);
			goto cleanup;
		}
		if (strcmp(rec.type, EV_CHECKPOINT) == 0) {
			err = check_checkpoint(&v, line, &rec);
			if (err)
				goto cleanup;
		} else {
			res->tail++;
		}
		if (opts->on_record) {
			err = opts->on_record(opts->arg, &rec, p, nl - p);
			if (err)
				goto cleanup;
		}
		err = merkle_leaf_hash(p, nl - p, leaf);
		if (!err)
			err = merkle_range_append(&v.range, leaf);
		if (!err && opts->keep_leaves)
			err = keep_leaf(&v, leaf);
		if (err)
			goto cleanup;
		evline_free(&rec);
		memcpy(prev, h, sizeof(h));
		res->records++;
		p = nl + 1;
	}
	if (opts->seal_key && res->seals == 0 && res->records)
		err = fail(&v, line, "no sealed checkpoint in the log");
cleanup:
	evline_free(&rec);
	if (v.have_log_key)
		sts_key_free(&v.log_key);
	seal_state_wipe(&v.key);
	return err;
}

void evv_result_free(struct evv_result *res)
{
	free(res->leaves);
	res->leaves = NULL;
}

int evv_map(const char *path, const char **buf, size_t *len)
{
	struct stat sb;
	void *m;
	int fd, err = 0;

	*buf = NULL;
	*len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &sb) < 0) {
		err = -errno;
		goto cleanup;
	}
	if (!S_ISREG(sb.st_mode)) {
		err = -EINVAL;
		goto cleanup;
	}
	if (sb.st_size == 0)
		goto cleanup;
	m = mmap(NULL, sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (m == MAP_FAILED) {
		err = -errno;
		goto cleanup;
	}
	*buf = m;
	*len = sb.st_size;
cleanup:
	close(fd);
	return err;
}

void evv_unmap(const char *buf, size_t len)
{
	if (buf)
		munmap((void *)buf, len);
}
