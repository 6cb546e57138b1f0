// SPDX-License-Identifier: GPL-2.0-only
#include "evidence/evverify.h"
#include "evidence/evlog.h"
#include "evidence/cpext.h"
#include "evidence/sha2x.h"
#include "core/util.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
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
	bool prev_close; /* the previous seal closed its epoch (v2) */
	bool prev_v2; /* the previous seal was a v2 seal */
	/* Chain */
	int mode; /* 0 unknown (first line), 1 or 2 */
	int64_t last_time_us;
	int64_t first_time_us;
	/* A segment's first line: its checkpoint waits for the range in the next line. */
	bool seg_pending;
	merkle_hash seg_root, seg_leaf;
	uint64_t seg_size;
	/*
	 * The window being checked, when a helper already hashed its perfect subtree (struct
	 * pwin): its leaves join `range` as one node at the window's end, and a root needed
	 * within it is `range` plus the subtrees of the first sub_j leaves.
	 */
	bool sub;
	unsigned int sub_bits;
	uint64_t sub_j;
	const struct vline *sub_lines;
	const merkle_hash *sub_nodes;
};

struct vline;
static int tree_root(const struct vstate *v, merkle_hash root);

static int fail(struct vstate *v, uint64_t line, const char *fmt, ...)
{
	va_list ap;

	v->res->bad_line = line;
	va_start(ap, fmt);
	vsnprintf(v->res->why, sizeof(v->res->why), fmt, ap);
	va_end(ap);
	return -EBADMSG;
}

/* A v1 seal: as before format 2 (seal.h). */
static int check_seal_v1(struct vstate *v, uint64_t line, const struct evline *rec,
			 const char *note, size_t note_len)
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
	v->prev_v2 = false;
	v->prev_close = false;
	v->res->seals_checked = true;
	return 0;
}

/* A v2 seal, from the signed note's extension lines (cpext.h); the JSON repeats it. */
static int check_seal_v2(struct vstate *v, uint64_t line, const struct evline *rec,
			 const char *note, const struct cpext *e)
{
	json_t *seal = json_object_get(rec->obj, "seal"), *jclose;
	const struct seal_state *vk = v->opts->seal_key;
	uint8_t mac[STS_SHA256_LEN], zero[STS_SHA256_LEN] = { 0 };
	char machex[2 * STS_SHA256_LEN + 1];
	uint64_t own, first;
	int err;

	if (!seal && !e->sealed) {
		if (vk)
			return fail(v, line, "checkpoint is not sealed (seal removed?)");
		if (v->res->seals)
			return fail(v, line, "checkpoint is not sealed, the ones before it were");
		return 0;
	}
	sts_hex(e->mac, STS_SHA256_LEN, machex);
	jclose = json_object_get(seal, "close");
	if (!seal || !e->sealed || !json_is_object(seal) ||
	    json_object_size(seal) != (size_t)(e->close ? 3 : 2) ||
	    json_integer_value(json_object_get(seal, "epoch")) != (json_int_t)e->epoch ||
	    !json_is_integer(json_object_get(seal, "epoch")) ||
	    !json_is_string(json_object_get(seal, "mac")) ||
	    strcmp(json_string_value(json_object_get(seal, "mac")), machex) != 0 ||
	    (e->close && !json_is_true(jclose)))
		return fail(v, line, "malformed seal: \"seal\" differs from the signed note");
	v->res->seals++;
	if (v->res->seals == 1)
		v->res->first_epoch = e->epoch;
	v->res->last_epoch = e->epoch;
	v->res->closes += e->close;
	if (!vk)
		return 0;
	if (v->have_prev_seal && memcmp(e->prev_mac, v->prev_mac, STS_SHA256_LEN) != 0)
		return fail(v, line, "seal does not chain the previous seal (seals dropped?)");
	if (!v->have_prev_seal && !v->res->segment && memcmp(e->prev_mac, zero, sizeof(zero)))
		return fail(v, line, "first seal of the log chains a seal that is not there");
	if (v->have_prev_seal && v->prev_v2) {
		if (e->epoch < v->prev_epoch)
			return fail(v, line,
				    "seal epoch %" PRIu64 " comes after epoch %" PRIu64
				    " (epochs go backwards)",
				    e->epoch, v->prev_epoch);
		if (e->epoch == v->prev_epoch && v->prev_close)
			return fail(v, line,
				    "sealed with the key of epoch %" PRIu64
				    " after that epoch was closed (re-sealed)",
				    e->epoch);
		if (e->epoch > v->prev_epoch + 1)
			return fail(v, line,
				    "seal epochs %" PRIu64 " to %" PRIu64
				    " are missing (epochs skipped, seals dropped or history "
				    "rewritten)",
				    v->prev_epoch + 1, e->epoch - 1);
		if (e->epoch == v->prev_epoch + 1 && !v->prev_close)
			return fail(v, line,
				    "epoch %" PRIu64 " was never closed before epoch %" PRIu64
				    " (history cut or rewritten with a later key)",
				    v->prev_epoch, e->epoch);
	} else if (v->have_prev_seal) {
		/* The first v2 seal after the v1 ones: v1 rules (continuous epochs). */
		if (e->epoch < v->prev_epoch || e->epoch > v->prev_epoch + 1)
			return fail(v, line,
				    "seal epoch %" PRIu64 " does not follow epoch %" PRIu64,
				    e->epoch, v->prev_epoch);
	} else if (!v->res->segment) {
		/* The first seal: of the epoch the log began in, none skipped before it. */
		first = seal_epoch_of(vk, v->first_time_us / 1000000);
		if (e->epoch != first)
			return fail(v, line,
				    "first seal is of epoch %" PRIu64
				    " but the log began in epoch %" PRIu64
				    " (history before it rewritten with a later key)",
				    e->epoch, first);
	}
	own = seal_epoch_of(vk, rec->time_us / 1000000);
	if (e->epoch > own)
		return fail(v, line,
			    "checkpoint of epoch %" PRIu64
			    " sealed with the key of later epoch %" PRIu64 " (re-sealed)",
			    own, e->epoch);
	if (e->epoch < v->key.epoch || e->epoch - v->key.epoch > MAX_EPOCH_STEPS)
		return fail(v, line, "seal epoch %" PRIu64 " out of range", e->epoch);
	err = seal_advance(&v->key, e->epoch);
	if (!err)
		err = cpext_mac(v->key.key, note, e->mac_cover, mac);
	if (err)
		return err;
	if (memcmp(mac, e->mac, sizeof(mac)) != 0)
		return fail(v, line, "seal of epoch %" PRIu64 " does not verify", e->epoch);
	memcpy(v->prev_mac, mac, sizeof(mac));
	v->prev_epoch = e->epoch;
	v->have_prev_seal = true;
	v->prev_v2 = true;
	v->prev_close = e->close;
	v->res->seals_checked = true;
	return 0;
}

/* The fields a v2 checkpoint record may have: each one covered by the signed note. */
static const char *const cp_fields[] = { "seq",	 "time", "boot",    "type", "prev",
					 "size", "note", "log_key", "seal" };

static int check_checkpoint(struct vstate *v, uint64_t line, const struct evline *rec)
{
	json_t *jsize = json_object_get(rec->obj, "size"),
	       *jnote = json_object_get(rec->obj, "note"),
	       *jkey = json_object_get(rec->obj, "log_key"), *jv;
	uint8_t pub[STS_ED25519_PUB_LEN + 1];
	const struct sts_key *key = v->opts->log_key;
	struct checkpoint cp;
	struct cpext e;
	merkle_hash root;
	const char *note, *k;
	size_t n, i;
	int err;

	if (!json_is_integer(jsize) || (uint64_t)json_integer_value(jsize) != rec->seq)
		return fail(v, line, "checkpoint \"size\" is not the number of records before it");
	if (!json_is_string(jnote) || !json_is_string(jkey) ||
	    sts_b64_decode(json_string_value(jkey), json_string_length(jkey), pub, sizeof(pub),
			   &n) ||
	    n != STS_ED25519_PUB_LEN)
		return fail(v, line, "checkpoint without a valid \"note\" and \"log_key\"");
	note = json_string_value(jnote);
	if (key && memcmp(pub, key->pub, STS_ED25519_PUB_LEN) != 0)
		return fail(v, line,
			    "checkpoint \"log_key\" is not the log key given (--log-key): another "
			    "key's log, or the key replaced");
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
	if (v->res->checkpoints && strcmp(cp.origin, v->res->origin) != 0)
		return fail(v, line, "checkpoint origin \"%s\" differs from \"%s\"", cp.origin,
			    v->res->origin);
	if (v->seg_pending) {
		/* A segment's copied checkpoint: its root is checked with the next line. */
		memcpy(v->seg_root, cp.root, sizeof(root));
		v->seg_size = cp.size;
		if (v->opts->since && v->opts->since->size == cp.size) {
			/* The kept checkpoint is the one this segment starts with. */
			if (strcmp(v->opts->since->origin, cp.origin) != 0 ||
			    memcmp(v->opts->since->root, cp.root, sizeof(root)) != 0)
				return fail(v, line,
					    "the segment does not start at the kept checkpoint "
					    "(history rewritten since)");
			v->res->since_checked = true;
		}
	} else {
		err = tree_root(v, root);
		if (err)
			return err;
		if (memcmp(root, cp.root, sizeof(root)) != 0)
			return fail(v, line,
				    "checkpoint root hash does not match the records before it");
	}
	memcpy(v->res->origin, cp.origin, sizeof(cp.origin));
	if (v->mode == 2 && cp.ext_len == 0)
		return fail(v, line, "format 1 checkpoint in a format 2 log (downgraded)");
	if (cp.ext_len == 0) {
		err = check_seal_v1(v, line, rec, note, json_string_length(jnote));
	} else {
		if (v->mode == 1)
			return fail(v, line, "format 2 checkpoint on a format 1 chain");
		if (cpext_parse(note, cp.ext_off, cp.ext_len, &e))
			return fail(v, line, "malformed checkpoint note: bad extension lines");
		v->mode = 2;
		/* Every field the record has must be one the signature covers, and agree. */
		json_object_foreach(rec->obj, k, jv)
		{
			for (i = 0; i < ARRAY_SIZE(cp_fields); i++)
				if (strcmp(k, cp_fields[i]) == 0)
					break;
			if (i == ARRAY_SIZE(cp_fields))
				return fail(v, line,
					    "checkpoint field \"%s\" is not covered by its "
					    "signature",
					    k);
		}
		if (strcmp(e.time, rec->time) != 0)
			return fail(v, line, "checkpoint \"time\" differs from its signed note");
		if (strcmp(e.boot, rec->boot) != 0)
			return fail(v, line, "checkpoint \"boot\" differs from its signed note");
		if (strcmp(e.log_key, json_string_value(jkey)) != 0)
			return fail(v, line, "checkpoint \"log_key\" differs from its signed note");
		err = check_seal_v2(v, line, rec, note, &e);
	}
	if (err)
		return err;
	v->res->checkpoints++;
	v->res->tail = 0;
	return 0;
}

/* The kept checkpoint must be the tree of the first since->size lines. */
static int check_since(struct vstate *v, uint64_t line)
{
	const struct checkpoint *s = v->opts->since;
	merkle_hash root;
	int err;

	if (v->res->origin[0] && strcmp(s->origin, v->res->origin) != 0)
		return fail(v, line, "the kept checkpoint is of log \"%s\", not \"%s\"", s->origin,
			    v->res->origin);
	err = tree_root(v, root);
	if (err)
		return err;
	if (memcmp(root, s->root, sizeof(root)) != 0)
		return fail(v, line,
			    "the first %" PRIu64 " records are not the ones of the kept checkpoint "
			    "(history rewritten since)",
			    s->size);
	v->res->since_checked = true;
	return 0;
}

/* The `segment` record after a segment's copied checkpoint: the range of the tree before. */
static int check_segment(struct vstate *v, uint64_t line, const struct evline *rec)
{
	json_t *jr = json_object_get(rec->obj, "range"), *h;
	struct merkle_range r;
	merkle_hash root;
	uint8_t buf[STS_SHA256_LEN + 1];
	size_t i, n;
	int err;

	merkle_range_init(&r);
	r.size = v->seg_size;
	r.n = (unsigned int)__builtin_popcountll(r.size);
	if (strcmp(rec->type, "segment") != 0 || !json_is_array(jr) || json_array_size(jr) != r.n)
		return fail(v, line,
			    "a segment's first checkpoint is not followed by its \"segment\" "
			    "record (head of the log cut?)");
	json_array_foreach(jr, i, h)
	{
		if (!json_is_string(h) ||
		    sts_b64_decode(json_string_value(h), json_string_length(h), buf, sizeof(buf),
				   &n) ||
		    n != STS_SHA256_LEN)
			return fail(v, line, "malformed segment \"range\"");
		memcpy(r.hashes[i], buf, STS_SHA256_LEN);
	}
	err = merkle_range_root(&r, root);
	if (err)
		return err;
	if (memcmp(root, v->seg_root, sizeof(root)) != 0)
		return fail(v, line, "segment \"range\" does not lead to its checkpoint's root");
	v->range = r;
	err = merkle_range_append(&v->range, v->seg_leaf);
	if (err)
		return err;
	v->seg_pending = false;
	return 0;
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

/*
 * Lines go through in windows of 2^k lines that start at a multiple of their size in the tree,
 * data-parallel: one thread takes a window, splits its lines off the buffer, parses each
 * (evline_scan), hashes its leaves and its Merkle subtree, and checks each line against the
 * one before it (struct pwin: fast), all while the window is in its core's cache; then, in
 * order, what only the order can tell: the first line of each window against the last of the
 * window before, checkpoints (the tree so far), and whatever failed the checks within. 512
 * lines (about 170 KB of a log of 330-byte records) stay in a core's cache; 2048 measured no
 * better.
 */
#define WINDOW 512
#define MAX_THREADS 16
#define WINDOWS_PER_THREAD 3
#define MAX_WINDOWS (WINDOWS_PER_THREAD * MAX_THREADS)

struct vline {
	const char *p;
	size_t len;
	int err;
	struct evline rec;
	merkle_hash leaf;
};

struct pwin {
	struct vline *lines;
	/*
	 * fast[i]: line i parsed and is no checkpoint, and its seq, prev and time follow line
	 * i - 1 of the window as check_line() requires once the chain is in format 2.
	 */
	uint8_t *fast;
	size_t n;
	int state; /* 0 free, 1 taken, 3 prepared */
	int err;
	bool objs; /* prepare() left a rec.obj to free in some line */
	uint64_t idx0; /* the tree index its first line should have (a guess: checked) */
	merkle_hash *nodes; /* its subtree, when whole and aligned (sub) */
	bool sub;
};

/* Subtree nodes of a window of 2^bits leaves: level h >= 1 starts at 2^bits - 2^(bits-h+1). */
static size_t level_off(unsigned int bits, unsigned int h)
{
	return ((size_t)1 << bits) - ((size_t)1 << (bits - h + 1));
}

static const uint8_t *sub_node(const struct vline *lines, const merkle_hash *nodes,
			       unsigned int bits, unsigned int h, size_t i)
{
	return h ? nodes[level_off(bits, h) + i] : lines[i].leaf;
}

/* Everything about a window that does not depend on the windows before it. */
static void prepare(struct pwin *w, unsigned int bits, bool want_obj)
{
	struct vline *lines = w->lines;
	const struct vline *a, *b;
	unsigned int h;
	size_t i, k, n = w->n;

	w->err = 0;
	w->objs = false;
	for (i = 0; i < n; i++) {
		struct vline *l = &lines[i];

		l->err = (want_obj ? evline_parse : evline_scan)(l->p, l->len, &l->rec, NULL, 0);
		w->objs |= l->rec.obj != NULL;
		/* Leaves two at a time (sha2x.h), while the lines are in cache. */
		if (i % 2 == 1 &&
		    sha2x_leaf_hash(l[-1].p, l[-1].len, l->p, l->len, l[-1].leaf, l->leaf))
			w->err = -EIO;
	}
	if (n % 2 == 1 && merkle_leaf_hash(lines[n - 1].p, lines[n - 1].len, lines[n - 1].leaf))
		w->err = -EIO;
	/* The ordered part then only looks at the lines that fail this. */
	for (i = 1; i < n; i++) {
		a = &lines[i - 1];
		b = &lines[i];
		w->fast[i] = !a->err && !b->err && b->rec.seq == a->rec.seq + 1 &&
			     b->rec.time_us >= a->rec.time_us &&
			     memcmp(b->rec.prev, a->leaf, STS_SHA256_LEN) == 0 &&
			     strcmp(b->rec.type, EV_CHECKPOINT) != 0;
	}
	if (n)
		w->fast[0] = 0;
	/* The tree's interior nodes are most of what is left. */
	if (!w->sub)
		return;
	for (h = 1; h <= bits && !w->err; h++) {
		k = level_off(bits, h);
		/* A level has 2^(bits-h) nodes: pairs, but for the top one. */
		for (i = 0; i + 1 < (size_t)1 << (bits - h) && !w->err; i += 2)
			if (sha2x_node_hash(sub_node(lines, w->nodes, bits, h - 1, 2 * i),
					    sub_node(lines, w->nodes, bits, h - 1, 2 * i + 1),
					    sub_node(lines, w->nodes, bits, h - 1, 2 * i + 2),
					    sub_node(lines, w->nodes, bits, h - 1, 2 * i + 3),
					    w->nodes[k + i], w->nodes[k + i + 1]))
				w->err = -EIO;
		if (i < (size_t)1 << (bits - h) &&
		    merkle_node_hash(sub_node(lines, w->nodes, bits, h - 1, 2 * i),
				     sub_node(lines, w->nodes, bits, h - 1, 2 * i + 1),
				     w->nodes[k + i]))
			w->err = -EIO;
	}
}

/* The root of the records so far: `range`, and within a pre-hashed window its first sub_j. */
static int tree_root(const struct vstate *v, merkle_hash root)
{
	struct merkle_range r;
	uint64_t pos = 0;
	unsigned int h;
	int err;

	if (!v->sub || v->sub_j == 0)
		return merkle_range_root(&v->range, root);
	r = v->range;
	for (h = v->sub_bits; h-- > 0;) {
		if (!(v->sub_j & (1ull << h)))
			continue;
		err = merkle_range_append_subtree(
			&r, sub_node(v->sub_lines, v->sub_nodes, v->sub_bits, h, pos >> h), h);
		if (err)
			return err;
		pos += 1ull << h;
	}
	return merkle_range_root(&r, root);
}

static unsigned int thread_count(const struct evv_opts *opts)
{
	long n = opts->threads ? (long)opts->threads : sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1)
		n = 1;
	return n > MAX_THREADS ? MAX_THREADS : (unsigned int)n;
}

/* Does line l (if whole and valid) chain onto line `prev_line`'s hashes? */
static bool chains_onto(const struct vline *l, const struct vline *prev_line)
{
	uint8_t h[STS_SHA256_LEN];

	if (!l || l->err)
		return false;
	if (memcmp(l->rec.prev, prev_line->leaf, STS_SHA256_LEN) == 0)
		return true;
	return !sts_sha256(prev_line->p, prev_line->len, h) &&
	       memcmp(l->rec.prev, h, STS_SHA256_LEN) == 0;
}

/*
 * The end of a checked line: the caller's callback, the tree (unless the line is a segment's
 * head, which the tree of the segment before already holds), the kept leaves, the counts.
 */
static int line_done(struct vstate *v, const struct vline *l, bool joins_tree, int version)
{
	const struct evv_opts *opts = v->opts;
	int err;

	if (opts->on_record) {
		err = opts->on_record(opts->arg, &l->rec, l->p, l->len);
		if (err)
			return err;
	}
	if (v->sub) {
		v->sub_j++;
	} else if (joins_tree) {
		err = merkle_range_append(&v->range, l->leaf);
		if (err)
			return err;
	}
	if (opts->keep_leaves) {
		err = keep_leaf(v, l->leaf);
		if (err)
			return err;
	}
	v->res->version = version;
	v->res->records++;
	return 0;
}

/* One line, in order. `next` is the line after it when in the same window (else NULL). */
static int check_line(struct vstate *v, const char *buf, uint64_t line, struct vline *l,
		      const struct vline *prevl, const uint8_t prev_leaf[STS_SHA256_LEN],
		      const struct vline *next)
{
	const struct evv_opts *opts = v->opts;
	struct evv_result *res = v->res;
	struct evline *rec = &l->rec;
	uint64_t want = line == 1 ? rec->seq : res->first_seq + res->records;
	char why[200];
	uint8_t h[STS_SHA256_LEN];
	bool is_cp;
	int err;

	if (l->err) {
		evline_free(rec);
		evline_parse(l->p, l->len, rec, why, sizeof(why));
		evline_free(rec);
		return fail(v, line, "not a valid record: %s", why);
	}
	is_cp = strcmp(rec->type, EV_CHECKPOINT) == 0;
	/* Checkpoints are read in full: their note, key and seal are checked. */
	if (!rec->obj && (is_cp || (line == 2 && v->seg_pending))) {
		if (evline_parse(l->p, l->len, rec, why, sizeof(why)))
			return fail(v, line, "not a valid record: %s", why);
	}
	if (line == 1) {
		if (rec->seq != 0 && !is_cp)
			return fail(v, line,
				    "seq %" PRIu64 " where 0 was expected (head of the log cut?)",
				    rec->seq);
		res->first_seq = rec->seq;
		res->segment = rec->seq != 0;
		v->seg_pending = res->segment;
		v->first_time_us = rec->time_us;
		if (!res->segment &&
		    memcmp(rec->prev, (uint8_t[STS_SHA256_LEN]){ 0 }, STS_SHA256_LEN) != 0)
			return fail(v, line,
				    "first record does not start a chain (prev is not zero)");
		if (res->segment) {
			v->mode = 2;
			memcpy(v->seg_leaf, l->leaf, sizeof(v->seg_leaf));
		}
	} else {
		if (rec->seq != want)
			return fail(v, line,
				    "seq %" PRIu64 " where %" PRIu64
				    " was expected (a record deleted, inserted or moved)",
				    rec->seq, want);
		if (memcmp(rec->prev, prev_leaf, STS_SHA256_LEN) == 0) {
			if (v->mode == 1)
				res->v2_from = rec->seq;
			v->mode = 2;
		} else if (v->mode != 2 && !sts_sha256(prevl->p, prevl->len, h) &&
			   memcmp(rec->prev, h, STS_SHA256_LEN) == 0) {
			v->mode = 1;
		} else if (next && chains_onto(next, l)) {
			return fail(v, line - 1,
				    "record altered: its hash is not the prev of line %" PRIu64,
				    line);
		} else {
			return fail(v, line,
				    "prev is not the hash of line %" PRIu64
				    " (record altered, or chain forged)",
				    line - 1);
		}
		if (v->mode == 2 && rec->time_us < v->last_time_us)
			return fail(v, line, "time goes backwards (%s)", rec->time);
	}
	v->last_time_us = rec->time_us;
	if (line == 2 && v->seg_pending) {
		err = check_segment(v, line, rec);
		if (err)
			return err;
	}
	/* The tree has the kept checkpoint's size: before this line joins it. */
	if (opts->since && !res->since_checked && !v->seg_pending &&
	    res->first_seq + res->records == opts->since->size) {
		err = check_since(v, line);
		if (err)
			return err;
	}
	if (is_cp) {
		err = check_checkpoint(v, line, rec);
		if (err)
			return err;
		res->last_cp_off = (size_t)(l->p - buf);
		res->last_cp_len = l->len;
	} else {
		res->tail++;
	}
	return line_done(v, l, !(line == 1 && v->seg_pending), v->mode ? v->mode : 1);
}

/*
 * The windows in a ring. Every thread (the helpers and the caller alike) loops: when the
 * oldest unchecked window is prepared and nobody is checking, it checks that window in order;
 * else it takes the next window: splits its lines off the buffer (the only step that runs one
 * window after the other, as it finds where the next window starts) and prepares it.
 */
struct pipe {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	/*
	 * Thread t prepares windows only in w[t * per] to w[t * per + per - 1]: the memory a
	 * thread writes stays in its core's cache (reused by another core, each window's 150 KB
	 * cost a tenth more CPU). order: the windows taken, by their place in the log.
	 */
	struct pwin w[MAX_WINDOWS];
	struct pwin *order[MAX_WINDOWS];
	unsigned int nw, per;
	uint64_t taken, checked; /* windows taken (split off the buffer), windows checked */
	bool splitting, checking, stop;
	/* The splitter's (the thread that set `splitting`): where the next window starts. */
	_Alignas(64) const char *p, *end;
	uint64_t idx; /* the tree index of its first line */
	bool torn; /* the buffer ends without a newline at p */
	bool want_obj;
	unsigned int bits;
	size_t win;
	/* The ordered part's (the thread that set `checking`). */
	_Alignas(64) const char *buf;
	struct vstate *v;
	struct vline last; /* the last line of the window checked before */
	bool have_last;
	uint8_t prev_leaf[STS_SHA256_LEN];
	uint64_t line;
	int err;
};

/* A line that passed prepare()'s checks: check_line() for it would only do this. */
static int pass_line(struct vstate *v, const struct vline *l)
{
	v->res->tail++;
	return line_done(v, l, true, 2);
}

static int check_window(struct pipe *pp, struct pwin *w)
{
	struct vstate *v = pp->v;
	struct vline *lines = w->lines;
	size_t i, n = w->n;
	/* Counted here, stored once: pp's lines are the other threads' too (false sharing). */
	uint64_t line = pp->line;
	bool fast;
	int err = w->err;

	/* The window's subtree stands for it if the tree is where it was guessed. */
	v->sub = w->sub && line > 0 && !v->seg_pending && v->range.size == w->idx0;
	v->sub_bits = pp->bits;
	v->sub_j = 0;
	v->sub_lines = lines;
	v->sub_nodes = w->nodes;
	for (i = 0; !err && i < n; i++) {
		line++;
		/* In order: a window's first line, checkpoints, v1, a kept checkpoint due. */
		fast = w->fast[i] && v->mode == 2 && !v->seg_pending &&
		       !(v->opts->since && !v->res->since_checked);
		if (fast) {
			err = pass_line(v, &lines[i]);
			continue;
		}
		if (i)
			v->last_time_us = lines[i - 1].rec.time_us;
		err = check_line(v, pp->buf, line, &lines[i],
				 i ? &lines[i - 1] : (pp->have_last ? &pp->last : NULL),
				 i ? lines[i - 1].leaf : pp->prev_leaf,
				 i + 1 < n ? &lines[i + 1] : NULL);
		/*
		 * A checkpoint's object goes now: freeing every line's at the end would write
		 * to all of the window's lines, which another core then has to fetch back.
		 */
		if (!w->objs)
			evline_free(&lines[i].rec);
	}
	pp->line = line;
	if (!err && v->sub) {
		err = merkle_range_append_subtree(&v->range, w->nodes[pp->win - 2], pp->bits);
		v->res->windows_ahead++;
	}
	v->sub = false;
	/* The window's last line is the next window's previous one. */
	if (!err && n) {
		v->last_time_us = lines[n - 1].rec.time_us;
		pp->last = lines[n - 1];
		pp->last.rec.obj = NULL;
		memcpy(pp->prev_leaf, pp->last.leaf, sizeof(pp->prev_leaf));
		pp->have_last = true;
	}
	for (i = 0; w->objs && i < n; i++)
		evline_free(&lines[i].rec);
	return err;
}

/* The next window's lines; the splitter's fields of pp are this thread's until it is done. */
static void split(struct pipe *pp, struct pwin *w)
{
	size_t n, cap = pp->win - (size_t)(pp->idx & (pp->win - 1));
	const char *p = pp->p, *nl;

	for (n = 0; n < cap && p < pp->end; n++) {
		nl = memchr(p, '\n', pp->end - p);
		if (!nl) {
			pp->torn = true;
			break;
		}
		w->lines[n].p = p;
		w->lines[n].len = nl - p;
		p = nl + 1;
	}
	w->n = n;
	w->idx0 = pp->idx;
	w->sub = n == pp->win;
	pp->idx += n;
	pp->p = p;
}

struct worker {
	struct pipe *pp;
	unsigned int id;
};

static void *work(void *arg)
{
	const struct worker *me = arg;
	struct pipe *pp = me->pp;
	struct pwin *w;
	unsigned int k;
	int err;

	pthread_mutex_lock(&pp->mu);
	while (!pp->stop) {
		w = pp->checked < pp->taken ? pp->order[pp->checked % pp->nw] : NULL;
		if (!pp->checking && w && w->state == 3) {
			pp->checking = true;
			pthread_mutex_unlock(&pp->mu);
			err = check_window(pp, w);
			pthread_mutex_lock(&pp->mu);
			w->state = 0;
			pp->checked++;
			pp->checking = false;
			if (err) {
				pp->err = err;
				pp->stop = true;
			}
			pthread_cond_broadcast(&pp->cv);
			continue;
		}
		/*
		 * A free window, if there is a next one to take: one of this thread's own, else
		 * any (a thread the scheduler left behind must not hold the others up).
		 */
		w = NULL;
		for (k = 0; !pp->splitting && pp->p < pp->end && !pp->torn && k < pp->nw; k++) {
			struct pwin *c = &pp->w[(me->id * pp->per + k) % pp->nw];

			if (c->state == 0) {
				w = c;
				break;
			}
		}
		if (w) {
			pp->order[pp->taken++ % pp->nw] = w;
			w->state = 1;
			pp->splitting = true;
			pthread_mutex_unlock(&pp->mu);
			split(pp, w);
			pthread_mutex_lock(&pp->mu);
			pp->splitting = false;
			pthread_cond_broadcast(&pp->cv);
			pthread_mutex_unlock(&pp->mu);
			prepare(w, pp->bits, pp->want_obj);
			pthread_mutex_lock(&pp->mu);
			w->state = 3;
			pthread_cond_broadcast(&pp->cv);
		} else if (!pp->splitting && (pp->p >= pp->end || pp->torn) &&
			   pp->checked == pp->taken) {
			pp->stop = true;
			pthread_cond_broadcast(&pp->cv);
		} else {
			pthread_cond_wait(&pp->cv, &pp->mu);
		}
	}
	pthread_mutex_unlock(&pp->mu);
	return NULL;
}

int evv_verify(const char *buf, size_t len, const struct evv_opts *opts, struct evv_result *res)
{
	struct vstate v = { .opts = opts, .res = res };
	unsigned int threads = thread_count(opts), k, nhelpers = 0;
	pthread_t tid[MAX_THREADS];
	struct worker wk[MAX_THREADS];
	struct pipe pp = { .buf = buf, .p = buf, .end = buf + len, .v = &v };
	size_t i, win;
	struct evline first;
	const char *nl;
	int err = 0;

	memset(res, 0, sizeof(*res));
	merkle_range_init(&v.range);
	if (opts->seal_key)
		v.key = *opts->seal_key;
	/* Small logs (most calls: a report, a status) need neither threads nor big windows. */
	win = len / 256 < WINDOW ? (len / 256 < 64 ? 64 : len / 256) : WINDOW;
	for (pp.bits = 0; (size_t)2 << pp.bits <= win; pp.bits++)
		;
	win = (size_t)1 << pp.bits; /* a power of two: a window can be a perfect subtree */
	pp.win = win;
	if (len < 256 * 1024 && !opts->threads)
		threads = 1;
	pp.per = threads == 1 ? 1 : WINDOWS_PER_THREAD;
	pp.nw = threads * pp.per;
	pp.want_obj = opts->want_obj;
	pthread_mutex_init(&pp.mu, NULL);
	pthread_cond_init(&pp.cv, NULL);
	for (k = 0; k < pp.nw; k++) {
		pp.w[k].lines = calloc(win, sizeof(struct vline));
		pp.w[k].fast = malloc(win);
		pp.w[k].nodes = malloc(win * sizeof(merkle_hash));
		if (!pp.w[k].lines || !pp.w[k].fast || !pp.w[k].nodes) {
			err = -ENOMEM;
			goto cleanup;
		}
	}
	/*
	 * Where the first line sits in the tree, so that windows can start at multiples of their
	 * size: a log starts at leaf 0; a segment's copied checkpoint of size `seq` joins the
	 * tree (with the next line) as leaf `seq`. Only a guess: the checks decide.
	 */
	nl = memchr(buf, '\n', len);
	if (nl && !evline_scan(buf, nl - buf, &first, NULL, 0)) {
		pp.idx = first.seq;
		evline_free(&first);
	}
	for (k = 0; k < threads; k++)
		wk[k] = (struct worker){ .pp = &pp, .id = k };
	for (nhelpers = 0; nhelpers + 1 < threads; nhelpers++)
		if (pthread_create(&tid[nhelpers], NULL, work, &wk[nhelpers + 1]))
			break;
	work(&wk[0]);
	err = pp.err;
	if (err)
		goto cleanup;
	if (pp.torn) {
		err = fail(&v, pp.line + 1,
			   "incomplete record: %zu bytes without a newline "
			   "(truncated file or torn write)",
			   (size_t)(pp.end - pp.p));
		goto cleanup;
	}
	if (v.seg_pending && res->records) {
		err = fail(
			&v, pp.line + 1,
			"a segment's first checkpoint is not followed by its \"segment\" record");
		goto cleanup;
	}
	if (opts->since && !res->since_checked) {
		if (res->segment && opts->since->size < res->first_seq)
			err = fail(&v, pp.line,
				   "this segment starts at seq %" PRIu64
				   ", after the kept checkpoint (size %" PRIu64
				   "): verify the segment before it",
				   res->first_seq, opts->since->size);
		else if (opts->since->size == res->first_seq + res->records)
			err = check_since(&v, pp.line);
		else
			err = fail(&v, pp.line,
				   "the log has %" PRIu64 " records, fewer than the %" PRIu64
				   " of the kept checkpoint (rolled back or cut)",
				   res->first_seq + res->records, opts->since->size);
		if (err)
			goto cleanup;
	}
	if (opts->seal_key && res->seals == 0 && res->checkpoints)
		err = fail(&v, pp.line, "no sealed checkpoint in the log");
cleanup:
	/* The helpers may be preparing windows ahead: stop them before the windows go. */
	pthread_mutex_lock(&pp.mu);
	pp.stop = true;
	pthread_cond_broadcast(&pp.cv);
	pthread_mutex_unlock(&pp.mu);
	for (k = 0; k < nhelpers; k++)
		pthread_join(tid[k], NULL);
	for (k = 0; k < pp.nw; k++) {
		for (i = 0; pp.w[k].lines && i < win; i++)
			evline_free(&pp.w[k].lines[i].rec);
		free(pp.w[k].lines);
		free(pp.w[k].fast);
		free(pp.w[k].nodes);
	}
	pthread_mutex_destroy(&pp.mu);
	pthread_cond_destroy(&pp.cv);
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
