// SPDX-License-Identifier: GPL-2.0-only
#include "evidence/evlog.h"
#include "evidence/evline.h"
#include "evidence/cpext.h"
#include "evidence/merkle.h"
#include "evidence/note.h"
#include "evidence/seal.h"
#include "core/util.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct evlog {
	int fd;
	char *path;
	char *rotated; /* the older segment the last evlog_rotate() made */
	const struct sts_key *key;
	char origin[NOTE_MAX_NAME + 1];
	char pub_b64[64];
	char boot[65];
	char *boot_json; /* boot as a JSON string, quotes included */
	/* The line being written: 0x00 (the Merkle leaf prefix), the line, its newline. */
	char *buf;
	size_t cap;
	int64_t time_sec; /* the second time_prefix spells, -1 for none */
	char time_prefix[20]; /* "YYYY-MM-DDTHH:MM:SS" */
	int64_t (*clock)(void *arg);
	void *clock_arg;
	uint64_t every;
	int64_t interval_us;

	/* Chain and tree state: what the next line must continue. */
	uint64_t next_seq;
	uint8_t prev[STS_SHA256_LEN];
	struct merkle_range range;
	bool last_is_checkpoint;
	uint64_t since_checkpoint; /* records appended since the last checkpoint */
	int64_t last_checkpoint_us;
	off_t size;

	int64_t last_time_us; /* v2 record times never go back */
	int mode; /* format of the chain read at open: 0 none yet, 1 (v1 log going on in v2), 2 */

	/* Seals: the state file holds the key of seal.epoch only. */
	bool sealed;
	char *seal_path;
	struct seal_state seal;
	bool have_prev_seal;
	bool prev_close;
	uint64_t prev_seal_epoch;
	uint8_t prev_mac[STS_SHA256_LEN];

	/*
	 * The last checkpoint written, as the writer state file remembers it (durably, after
	 * the checkpoint itself is on disk): the line, where it ends in the file, the tree
	 * before it. At the next open the log must still end with it, or go on from it.
	 */
	char *state_path;
	char *cp_line;
	size_t cp_len;
	off_t cp_bytes;
	uint64_t cp_records;
	struct merkle_range cp_range;
	bool cp_pending; /* written, not yet remembered */

	int err; /* sticky */
	struct evlog_stats st;
};

static int64_t realtime_us(void *arg)
{
	struct timespec ts;

	(void)arg;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t now_us(struct evlog *log)
{
	return log->clock(log->clock_arg);
}

int evlog_default_origin(const struct sts_key *key, char *out, size_t outsz)
{
	uint8_t h[STS_SHA256_LEN];
	char hex[17];
	int err;

	err = sts_sha256(key->pub, STS_ED25519_PUB_LEN, h);
	if (err)
		return err;
	sts_hex(h, 8, hex);
	if ((size_t)snprintf(out, outsz, "stsguard/evidence/%s", hex) >= outsz)
		return -ENAMETOOLONG;
	return 0;
}

int evlog_mask_imei(const char *imei, char *out, size_t outsz)
{
	size_t i, n = strlen(imei);

	if (n == 0 || n >= outsz || strspn(imei, "0123456789") != n)
		return -EINVAL;
	for (i = 0; i < n; i++)
		out[i] = i + 4 < n ? '*' : imei[i];
	out[n] = '\0';
	return 0;
}

int evlog_sha256_hex(const void *buf, size_t len, char out[2 * STS_SHA256_LEN + 1])
{
	uint8_t h[STS_SHA256_LEN];
	int err;

	err = sts_sha256(buf, len, h);
	if (!err)
		sts_hex(h, sizeof(h), out);
	return err;
}

static int read_boot_id(char out[65])
{
	char *buf = NULL;
	size_t len;
	int err;

	err = sts_read_file("/proc/sys/kernel/random/boot_id", 128, &buf, &len);
	if (err)
		return err;
	while (len && (buf[len - 1] == '\n' || buf[len - 1] == ' '))
		len--;
	if (len == 0 || len > 64) {
		err = -EBADMSG;
	} else {
		memcpy(out, buf, len);
		out[len] = '\0';
	}
	free(buf);
	return err;
}

/* Fail from now on: nothing may be appended, checkpointed or sent after a failed write. */
static int set_error(struct evlog *log, int err)
{
	if (!log->err)
		log->err = err;
	return log->err;
}

/* Make room for `more` bytes after the first `used` of the line buffer. */
static int reserve(struct evlog *log, size_t used, size_t more)
{
	size_t cap = log->cap ? log->cap : 1024;
	char *n;

	if (used + more <= log->cap)
		return 0;
	while (cap < used + more)
		cap *= 2;
	n = realloc(log->buf, cap);
	if (!n)
		return -ENOMEM;
	log->buf = n;
	log->cap = cap;
	return 0;
}

static int put(struct evlog *log, size_t *used, const void *p, size_t n)
{
	int err = reserve(log, *used, n);

	if (!err) {
		memcpy(log->buf + *used, p, n);
		*used += n;
	}
	return err;
}

static int put_u64(struct evlog *log, size_t *used, uint64_t v)
{
	char tmp[24];
	size_t i = sizeof(tmp);

	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return put(log, used, tmp + i, sizeof(tmp) - i);
}

/* A string jansson would write as is: printable ASCII without '"' or '\\'. */
static bool plain(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e || s[i] == '"' ||
		    s[i] == '\\')
			return false;
	return true;
}

/*
 * v exactly as json_dumps(JSON_COMPACT) writes it inside its parent object. The common kinds
 * (plain strings, integers, booleans, null) are written here; anything else (escapes,
 * non-ASCII, reals, arrays, objects) is left to jansson itself, so the bytes cannot differ.
 */
static int put_json(struct evlog *log, size_t *used, json_t *v)
{
	json_int_t i;
	size_t n;
	int err;

	switch (json_typeof(v)) {
	case JSON_STRING:
		n = json_string_length(v);
		if (!plain(json_string_value(v), n))
			break;
		err = reserve(log, *used, n + 2);
		if (err)
			return err;
		log->buf[(*used)++] = '"';
		memcpy(log->buf + *used, json_string_value(v), n);
		*used += n;
		log->buf[(*used)++] = '"';
		return 0;
	case JSON_INTEGER:
		i = json_integer_value(v);
		if (i >= 0)
			return put_u64(log, used, (uint64_t)i);
		err = put(log, used, "-", 1);
		return err ? err : put_u64(log, used, -(uint64_t)i);
	case JSON_TRUE:
		return put(log, used, "true", 4);
	case JSON_FALSE:
		return put(log, used, "false", 5);
	case JSON_NULL:
		return put(log, used, "null", 4);
	default:
		break;
	}
	for (;;) {
		n = json_dumpb(v, log->buf + *used, log->cap - *used,
			       JSON_COMPACT | JSON_ENCODE_ANY);
		if (n == 0)
			return -ENOMEM;
		if (*used + n <= log->cap)
			break;
		err = reserve(log, *used, n);
		if (err)
			return err;
	}
	*used += n;
	return 0;
}

/* evline_format_time(), with gmtime_r() and snprintf() only when the second changes. */
static int format_time(struct evlog *log, int64_t now, char out[EVLINE_TIME_LEN + 1])
{
	int64_t us = now % 1000000;
	int i, err;

	if (now < 0 || now / 1000000 != log->time_sec) {
		err = evline_format_time(now, out);
		if (!err) {
			memcpy(log->time_prefix, out, sizeof(log->time_prefix) - 1);
			log->time_sec = now / 1000000;
		}
		return err;
	}
	memcpy(out, log->time_prefix, sizeof(log->time_prefix) - 1);
	out[19] = '.';
	for (i = 25; i >= 20; i--, us /= 10)
		out[i] = (char)('0' + us % 10);
	out[26] = 'Z';
	out[27] = '\0';
	return 0;
}

/*
 * Serialise and write one line: the five fields, then those of the record in their order,
 * byte for byte what json_dumps(JSON_COMPACT) of that object writes (docs/evidence.md; the
 * verifier and every existing log depend on it), without building the object. The chain and
 * tree advance only once the whole line is in the file, so that a failed write leaves the
 * writer's state consistent with what a later recovery will find after cutting the partial
 * line.
 */
static int write_record(struct evlog *log, const char *type, const json_t *fields, const char *time)
{
	size_t used = 1, len;
	merkle_hash leaf;
	const char *k;
	json_t *v;
	char *line;
	int err = 0;

	if (!evline_valid_type(type) || (fields && !json_is_object(fields)))
		return -EINVAL;
	err = reserve(log, 0, 256);
	if (err)
		return err;
	log->buf[0] = 0x00;
	if (!err)
		err = put(log, &used, "{\"seq\":", 7);
	if (!err)
		err = put_u64(log, &used, log->next_seq);
	if (!err)
		err = put(log, &used, ",\"time\":\"", 9);
	if (!err)
		err = put(log, &used, time, strlen(time));
	if (!err)
		err = put(log, &used, "\",\"boot\":", 9);
	if (!err)
		err = put(log, &used, log->boot_json, strlen(log->boot_json));
	if (!err)
		err = put(log, &used, ",\"type\":\"", 9);
	if (!err)
		err = put(log, &used, type, strlen(type));
	if (!err)
		err = put(log, &used, "\",\"prev\":\"", 10);
	if (!err)
		err = reserve(log, used, 2 * STS_SHA256_LEN + 2);
	if (err)
		return err;
	sts_hex(log->prev, STS_SHA256_LEN, log->buf + used); /* writes a NUL after */
	used += 2 * STS_SHA256_LEN;
	log->buf[used++] = '"';
	if (fields) {
		json_object_foreach((json_t *)fields, k, v)
		{
			if (evline_reserved_key(k))
				return -EINVAL;
			err = put(log, &used, ",", 1);
			if (err)
				return err;
			len = strlen(k);
			if (plain(k, len)) {
				err = reserve(log, used, len + 3);
				if (err)
					return err;
				log->buf[used++] = '"';
				memcpy(log->buf + used, k, len);
				used += len;
				log->buf[used++] = '"';
			} else {
				/* A key with escapes: jansson writes it, as a string value. */
				json_t *ks = json_string(k);

				err = ks ? put_json(log, &used, ks) : -ENOMEM;
				json_decref(ks);
				if (err)
					return err;
			}
			err = put(log, &used, ":", 1);
			if (!err)
				err = put_json(log, &used, v);
			if (err)
				return err;
		}
	}
	err = put(log, &used, "}\n", 2);
	if (err)
		return err;
	line = log->buf + 1;
	len = used - 2; /* without the leaf prefix and the newline */
	if (len > EVLINE_MAX)
		return -E2BIG;
	/* merkle_leaf_hash(line), in one go: the 0x00 prefix sits just before the line. */
	err = sts_sha256(log->buf, len + 1, leaf);
	if (err)
		return err;
	err = sts_write_all(log->fd, line, len + 1);
	if (err) {
		/* Cut the partial line; should that fail too, recovery at the next open will. */
		if (ftruncate(log->fd, log->size) < 0)
			sts_err("%s: cannot cut a partial record: %s", log->path, strerror(errno));
		return set_error(log, err);
	}
	log->size += len + 1;
	log->next_seq++;
	log->last_is_checkpoint = strcmp(type, EV_CHECKPOINT) == 0;
	/* Format 2: the next line's prev is this line's leaf hash, so each line is hashed once. */
	memcpy(log->prev, leaf, sizeof(leaf));
	err = merkle_range_append(&log->range, leaf);
	if (err)
		set_error(log, err); /* the line is written: state can no longer follow it */
	return err;
}

static int do_sync(struct evlog *log)
{
	if (fdatasync(log->fd) < 0)
		return set_error(log, -errno);
	log->st.durable = log->next_seq;
	log->st.syncs++;
	return 0;
}

/*
 * One checkpoint record over every line before it: a v2 note (cpext.h) whose signature covers
 * its time, boot, key and seal, sealed with the key of `epoch` when seals are on; `close`
 * says it is the last seal of that epoch.
 */
static int write_checkpoint(struct evlog *log, const char *time, uint64_t epoch, bool close)
{
	struct checkpoint cp = { .size = log->next_seq };
	struct cpext e = { 0 };
	struct merkle_range before = log->range;
	char machex[2 * STS_SHA256_LEN + 1], rootb64[64], ext[CPEXT_MAX], *note = NULL;
	char *text = NULL, *copy = NULL;
	json_t *fields = NULL, *seal;
	int n, err;

	memcpy(cp.origin, log->origin, sizeof(cp.origin));
	memcpy(e.time, time, sizeof(e.time));
	strcpy(e.boot, log->boot);
	strcpy(e.log_key, log->pub_b64);
	err = merkle_range_root(&log->range, cp.root);
	if (!err)
		err = sts_b64_encode(cp.root, STS_SHA256_LEN, rootb64, sizeof(rootb64));
	if (err)
		return err;
	if (log->sealed) {
		e.sealed = true;
		e.epoch = epoch;
		e.close = close;
		if (log->have_prev_seal)
			memcpy(e.prev_mac, log->prev_mac, STS_SHA256_LEN);
		err = cpext_format(&e, false, ext);
		if (err)
			return err;
		/* The MAC covers the note body up to itself (cpext.h). */
		n = asprintf(&text, "%s\n%" PRIu64 "\n%s\n%s", cp.origin, cp.size, rootb64, ext);
		if (n < 0)
			return -ENOMEM;
		err = cpext_mac(log->seal.key, text, n, e.mac);
		free(text);
		if (err)
			return err;
	}
	err = cpext_format(&e, true, ext);
	if (!err)
		err = checkpoint_sign_ext(&cp, ext, log->origin, log->key, &note);
	if (err)
		return err;
	fields = json_pack("{sI ss ss}", "size", (json_int_t)cp.size, "note", note, "log_key",
			   log->pub_b64);
	if (!fields) {
		err = -ENOMEM;
		goto cleanup;
	}
	if (log->sealed) {
		sts_hex(e.mac, sizeof(e.mac), machex);
		seal = json_pack("{sI ss}", "epoch", (json_int_t)epoch, "mac", machex);
		if (seal && close && json_object_set_new(seal, "close", json_true()))
			seal = NULL;
		if (!seal || json_object_set_new(fields, "seal", seal)) {
			err = -ENOMEM;
			goto cleanup;
		}
	}
	err = write_record(log, EV_CHECKPOINT, fields, time);
	if (err)
		goto cleanup;
	/* write_record() left the line in buf, after the leaf prefix. */
	copy = strndup(log->buf + 1, strchr(log->buf + 1, '\n') - (log->buf + 1));
	if (!copy) {
		err = set_error(log, -ENOMEM);
		goto cleanup;
	}
	free(log->cp_line);
	log->cp_line = copy;
	log->cp_len = strlen(copy);
	log->cp_bytes = log->size;
	log->cp_records = log->next_seq;
	log->cp_range = before;
	log->cp_pending = true;
	if (log->sealed) {
		memcpy(log->prev_mac, e.mac, sizeof(e.mac));
		log->prev_seal_epoch = epoch;
		log->prev_close = close;
		log->have_prev_seal = true;
	}
	log->st.checkpoints++;
cleanup:
	json_decref(fields);
	free(note);
	return err;
}

/*
 * The writer state file: what the last durable checkpoint was, so that the next open checks
 * the log still ends with it (or goes on from it) instead of re-reading the whole log, and
 * notices a log that was cut or replaced. Rewritten atomically (fsync'd) after each
 * checkpoint is on disk.
 */
#define STATE_MAGIC "sts-evlog-state-v1"

static int state_store(struct evlog *log)
{
	char hex[2 * STS_SHA256_LEN + 1], *text = NULL;
	json_t *o, *range;
	unsigned int i;
	int err;

	if (!log->state_path || !log->cp_pending)
		return 0;
	range = json_array();
	for (i = 0; range && i < log->cp_range.n; i++) {
		sts_hex(log->cp_range.hashes[i], STS_SHA256_LEN, hex);
		if (json_array_append_new(range, json_string(hex)))
			break;
	}
	o = json_pack("{ss sI sI ss so}", "magic", STATE_MAGIC, "bytes", (json_int_t)log->cp_bytes,
		      "records", (json_int_t)log->cp_records, "line", log->cp_line, "range", range);
	text = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(o);
	if (!text)
		return -ENOMEM;
	err = sts_write_file_atomic(log->state_path, text, strlen(text), 0600);
	free(text);
	if (!err)
		log->cp_pending = false;
	return err;
}

static int do_checkpoint(struct evlog *log)
{
	char time[EVLINE_TIME_LEN + 1];
	uint64_t target, old_epoch = log->seal.epoch;
	int64_t now = now_us(log);
	int err = 0;

	if (now < log->last_time_us)
		now = log->last_time_us; /* time never goes back in the log */
	err = format_time(log, now, time);
	if (err)
		return err;
	if (log->sealed) {
		/* The log may be ahead of the state file (a crash before it was rewritten). */
		if (log->have_prev_seal && log->prev_seal_epoch > log->seal.epoch)
			err = seal_advance(&log->seal, log->prev_seal_epoch);
		if (!err && log->have_prev_seal && log->prev_close &&
		    log->prev_seal_epoch == log->seal.epoch)
			err = seal_advance(&log->seal, log->seal.epoch + 1);
		target = seal_epoch_of(&log->seal, now / 1000000);
		if (target < log->seal.epoch)
			target =
				log->seal
					.epoch; /* a clock that went back cannot bring back a key */
		/* Nothing written yet under any key: no epoch to close. */
		if (!err && !log->have_prev_seal && log->next_seq == 0)
			err = seal_advance(&log->seal, target);
		/*
		 * Close every epoch before the current one with its own key, then evolve: an
		 * intruder who later takes key n cannot change what the close of n-1 sealed.
		 */
		while (!err && log->seal.epoch < target) {
			if (!(log->last_is_checkpoint && log->have_prev_seal && log->prev_close &&
			      log->prev_seal_epoch == log->seal.epoch))
				err = write_checkpoint(log, time, log->seal.epoch, true);
			if (!err)
				err = seal_advance(&log->seal, log->seal.epoch + 1);
		}
	}
	if (!err && !log->last_is_checkpoint)
		err = write_checkpoint(log, time, log->seal.epoch, false);
	if (err)
		return set_error(log, err);
	err = do_sync(log);
	if (err)
		return err;
	/* Only now that the seals are durable may the older key disappear from disk. */
	if (log->sealed && log->seal.epoch != old_epoch) {
		err = seal_state_store(log->seal_path, &log->seal);
		if (err)
			return set_error(log, err);
	}
	err = state_store(log);
	if (err)
		return set_error(log, err);
	log->st.seal_epoch = log->seal.epoch;
	log->since_checkpoint = 0;
	log->last_checkpoint_us = now;
	return 0;
}

static bool checkpoint_due(struct evlog *log, int64_t now)
{
	if (log->since_checkpoint >= log->every)
		return true;
	if (log->since_checkpoint && now - log->last_checkpoint_us >= log->interval_us)
		return true;
	return log->sealed && seal_epoch_of(&log->seal, now / 1000000) > log->seal.epoch;
}

/* The Merkle compact range of a `segment` record (base64 or hex hashes) for a tree of size. */
static int parse_range(json_t *arr, uint64_t size, struct merkle_range *r)
{
	uint8_t buf[STS_SHA256_LEN + 1];
	json_t *h;
	size_t i, n;

	merkle_range_init(r);
	r->size = size;
	r->n = (unsigned int)__builtin_popcountll(size);
	if (!json_is_array(arr) || json_array_size(arr) != r->n)
		return -EBADMSG;
	json_array_foreach(arr, i, h)
	{
		if (!json_is_string(h))
			return -EBADMSG;
		if (json_string_length(h) == 2 * STS_SHA256_LEN) {
			if (sts_unhex(json_string_value(h), 2 * STS_SHA256_LEN, r->hashes[i],
				      STS_SHA256_LEN))
				return -EBADMSG;
		} else if (sts_b64_decode(json_string_value(h), json_string_length(h), buf,
					  sizeof(buf), &n) ||
			   n != STS_SHA256_LEN) {
			return -EBADMSG;
		} else {
			memcpy(r->hashes[i], buf, STS_SHA256_LEN);
		}
	}
	return 0;
}

/* Take the seal of a checkpoint record read back (v1 or v2 JSON form). */
static int take_seal(struct evlog *log, json_t *obj)
{
	json_t *seal = json_object_get(obj, "seal"), *mac = json_object_get(seal, "mac");

	if (!seal)
		return 0;
	if (!json_is_integer(json_object_get(seal, "epoch")) || !json_is_string(mac) ||
	    sts_unhex(json_string_value(mac), json_string_length(mac), log->prev_mac,
		      STS_SHA256_LEN))
		return -EBADMSG;
	log->prev_seal_epoch = (uint64_t)json_integer_value(json_object_get(seal, "epoch"));
	log->prev_close = json_is_true(json_object_get(seal, "close"));
	log->have_prev_seal = true;
	return 0;
}

/*
 * Re-read the log from byte `from` (0, or the end of the remembered checkpoint): restore
 * chain, tree and seal state; find the torn tail. v1 lines chain by SHA-256, v2 ones by leaf
 * hash; a v1 log goes on in v2.
 */
static int scan(struct evlog *log, const char *buf, size_t len, size_t from, size_t *good)
{
	const char *p = buf + from, *end = buf + len, *nl;
	uint8_t sha[STS_SHA256_LEN] = { 0 }, lastsha[STS_SHA256_LEN] = { 0 };
	char why[160];
	struct evline rec;
	merkle_hash leaf, seg_leaf;
	uint64_t lineno = 0;
	bool seg = false;
	int err = 0;

	*good = from;
	while (p < end && (nl = memchr(p, '\n', end - p))) {
		lineno++;
		err = evline_scan(p, nl - p, &rec, why, sizeof(why));
		/* Checkpoints (and a segment's range) are read in full. */
		if (!err && !rec.obj &&
		    (strcmp(rec.type, EV_CHECKPOINT) == 0 || (seg && lineno == 2))) {
			evline_free(&rec);
			err = evline_parse(p, nl - p, &rec, why, sizeof(why));
		}
		if (err)
			goto bad;
		if (lineno == 1 && from == 0 && rec.seq != 0 &&
		    strcmp(rec.type, EV_CHECKPOINT) == 0) {
			/* A segment: it goes on from the checkpoint it starts with. */
			seg = true;
			log->next_seq = rec.seq;
			log->mode = 2;
		} else if (rec.seq != log->next_seq) {
			snprintf(why, sizeof(why), "seq %" PRIu64 " where %" PRIu64 " was expected",
				 rec.seq, log->next_seq);
			goto bad_rec;
		} else if (rec.seq == 0) {
			if (memcmp(rec.prev, log->prev, STS_SHA256_LEN) != 0) {
				snprintf(why, sizeof(why), "first record does not start a chain");
				goto bad_rec;
			}
		} else if (memcmp(rec.prev, log->prev, STS_SHA256_LEN) == 0) {
			log->mode = 2;
		} else if (log->mode != 2 && memcmp(rec.prev, lastsha, STS_SHA256_LEN) == 0) {
			log->mode = 1;
		} else {
			snprintf(why, sizeof(why), "prev does not match the previous line");
			goto bad_rec;
		}
		if (seg && lineno == 2) {
			struct merkle_range r;

			if (strcmp(rec.type, "segment") != 0 ||
			    parse_range(json_object_get(rec.obj, "range"), log->next_seq - 1, &r)) {
				snprintf(why, sizeof(why), "segment without its \"range\"");
				goto bad_rec;
			}
			log->range = r;
			err = merkle_range_append(&log->range, seg_leaf);
			if (err)
				return err;
		}
		if (strcmp(rec.type, EV_CHECKPOINT) == 0) {
			log->last_checkpoint_us = rec.time_us;
			log->since_checkpoint = 0;
			log->last_is_checkpoint = true;
			if (take_seal(log, rec.obj)) {
				snprintf(why, sizeof(why), "malformed seal");
				goto bad_rec;
			}
		} else {
			log->since_checkpoint++;
			log->last_is_checkpoint = false;
		}
		log->last_time_us = rec.time_us;
		evline_free(&rec);
		err = merkle_leaf_hash(p, nl - p, leaf);
		/* v1 lines chain by SHA-256: needed only while the chain may be v1. */
		if (!err && log->mode != 2)
			err = sts_sha256(p, nl - p, sha);
		if (!err && seg && lineno == 1)
			memcpy(seg_leaf, leaf, sizeof(leaf));
		else if (!err)
			err = merkle_range_append(&log->range, leaf);
		if (err)
			return err;
		memcpy(log->prev, leaf, sizeof(leaf));
		memcpy(lastsha, sha, sizeof(sha));
		log->next_seq++;
		p = nl + 1;
	}
	*good = p - buf;
	return 0;
bad_rec:
	evline_free(&rec);
bad:
	sts_err("%s:%" PRIu64 ": %s; not appending to a log that does not verify", log->path,
		lineno, why);
	return -EBADMSG;
}

/* Load the writer state file; -ENOENT when there is none (a log written before it existed). */
static int state_load(struct evlog *log)
{
	char *buf = NULL, why[128];
	struct evline rec = { 0 };
	struct checkpoint cp;
	merkle_hash root;
	json_error_t jerr;
	json_t *o = NULL, *jline;
	json_int_t bytes, records;
	int err;

	err = sts_read_file(log->state_path, EVLINE_MAX + 8192, &buf, &(size_t){ 0 });
	if (err)
		return err;
	err = -EBADMSG;
	o = json_loads(buf, 0, &jerr);
	jline = json_object_get(o, "line");
	bytes = json_integer_value(json_object_get(o, "bytes"));
	records = json_integer_value(json_object_get(o, "records"));
	if (!o || strcmp(json_string_value(json_object_get(o, "magic")) ?: "", STATE_MAGIC) ||
	    !json_is_string(jline) || records < 1 ||
	    bytes <= (json_int_t)json_string_length(jline) ||
	    parse_range(json_object_get(o, "range"), (uint64_t)records - 1, &log->cp_range))
		goto cleanup;
	if (evline_parse(json_string_value(jline), json_string_length(jline), &rec, why,
			 sizeof(why)) ||
	    strcmp(rec.type, EV_CHECKPOINT) || rec.seq != (uint64_t)records - 1 ||
	    checkpoint_parse(json_string_value(json_object_get(rec.obj, "note")) ?: "",
			     json_string_length(json_object_get(rec.obj, "note")), &cp, NULL) ||
	    merkle_range_root(&log->cp_range, root) || memcmp(root, cp.root, sizeof(root)))
		goto cleanup;
	log->cp_line = strdup(json_string_value(jline));
	if (!log->cp_line) {
		err = -ENOMEM;
		goto cleanup;
	}
	log->cp_len = json_string_length(jline);
	log->cp_bytes = (off_t)bytes;
	log->cp_records = (uint64_t)records;
	err = 0;
cleanup:
	if (err == -EBADMSG)
		sts_err("%s: malformed writer state; remove it to re-read the whole log",
			log->state_path);
	evline_free(&rec);
	json_decref(o);
	free(buf);
	return err;
}

/* Set chain, tree and seal state to just after the remembered checkpoint line. */
static int resume_at_checkpoint(struct evlog *log)
{
	struct evline rec;
	merkle_hash leaf;
	int err;

	err = evline_parse(log->cp_line, log->cp_len, &rec, NULL, 0);
	if (err)
		return err;
	err = take_seal(log, rec.obj);
	log->last_time_us = rec.time_us;
	log->last_checkpoint_us = rec.time_us;
	evline_free(&rec);
	if (!err)
		err = merkle_leaf_hash(log->cp_line, log->cp_len, leaf);
	if (err)
		return err;
	log->range = log->cp_range;
	err = merkle_range_append(&log->range, leaf);
	memcpy(log->prev, leaf, sizeof(leaf));
	log->next_seq = log->cp_records;
	log->last_is_checkpoint = true;
	log->since_checkpoint = 0;
	log->mode = 2;
	return err;
}

/*
 * Start a segment in the (empty) file open on log->fd: a copy of the remembered checkpoint,
 * then a `segment` record (fields, plus the tree's compact range before that checkpoint, so
 * that the segment verifies on its own and as the continuation of the chain).
 */
static int start_segment(struct evlog *log, json_t *fields)
{
	char time[EVLINE_TIME_LEN + 1], b64[64];
	json_t *range = json_array();
	unsigned int i;
	int err;

	if (!range || json_object_set_new(fields, "range", range))
		return -ENOMEM;
	for (i = 0; i < log->cp_range.n; i++) {
		err = sts_b64_encode(log->cp_range.hashes[i], STS_SHA256_LEN, b64, sizeof(b64));
		if (err || json_array_append_new(range, json_string(b64)))
			return err ? err : -ENOMEM;
	}
	err = sts_write_all(log->fd, log->cp_line, log->cp_len);
	if (!err)
		err = sts_write_all(log->fd, "\n", 1);
	if (err)
		return err;
	log->size = (off_t)log->cp_len + 1;
	err = resume_at_checkpoint(log);
	if (err)
		return err;
	log->cp_bytes = log->size;
	log->cp_pending = true;
	err = format_time(log, now_us(log) > log->last_time_us ? now_us(log) : log->last_time_us,
			  time);
	if (!err)
		err = write_record(log, EV_SEGMENT, fields, time);
	if (!err)
		log->since_checkpoint++;
	return err;
}

/* Open (create) the log file and take the writer's lock. */
static int open_file(struct evlog *log, int flags)
{
	int fd =
		open(log->path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW | flags, 0640);

	if (fd < 0)
		return -errno;
	/* Two writers would interleave and break the chain: one at a time. */
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int err = errno == EWOULDBLOCK ? -EBUSY : -errno;

		close(fd);
		return err;
	}
	log->fd = fd;
	return 0;
}

/*
 * The log is not what the writer remembers (shorter, or its last checkpoint is not where it
 * was): never append to it. Keep it aside for the investigation and start a new segment from
 * the remembered checkpoint that says what was found.
 */
static int incident(struct evlog *log, const char *why, off_t found)
{
	char aside[PATH_MAX + 64];
	json_t *fields;
	int err;

	snprintf(aside, sizeof(aside), "%s.damaged-%" PRId64, log->path, now_us(log));
	if (found > 0 && rename(log->path, aside) < 0)
		return -errno;
	close(log->fd);
	log->fd = -1;
	if (found > 0)
		err = open_file(log, O_EXCL);
	else
		err = open_file(log, 0) ?: (ftruncate(log->fd, 0) < 0 ? -errno : 0);
	if (err)
		return err;
	sts_err("%s: %s; %s, a new segment goes on from the last checkpoint (seq %" PRIu64 ")",
		log->path, why, found > 0 ? "the log was kept aside" : "the log was gone",
		log->cp_records - 1);
	if (found > 0)
		sts_err("%s: kept as %s", log->path, aside);
	fields = json_pack(
		"{ss ss sI sI sI ss?}", "reason", "incident", "incident", why, "found_bytes",
		(json_int_t)found, "remembered_bytes", (json_int_t)log->cp_bytes,
		"remembered_records", (json_int_t)log->cp_records, "damaged_copy",
		found > 0 ? strrchr(aside, '/') ? strrchr(aside, '/') + 1 : aside : NULL);
	if (!fields)
		return -ENOMEM;
	err = start_segment(log, fields);
	json_decref(fields);
	log->st.incident = true;
	return err ?: sts_fsync_dir_of(log->path);
}

static int recover(struct evlog *log)
{
	struct stat sb;
	size_t good = 0, torn, from = 0;
	char *map = NULL, *tail = NULL;
	char hex[2 * STS_SHA256_LEN + 1];
	bool remembered = false;
	json_t *fields;
	off_t at;
	int err, lead;

	if (log->state_path) {
		err = state_load(log);
		if (err && err != -ENOENT)
			return err;
		remembered = !err;
	}
	if (fstat(log->fd, &sb) < 0)
		return -errno;
	if (remembered) {
		/* The log must still end its remembered part with the remembered checkpoint. */
		if (sb.st_size < log->cp_bytes)
			return incident(log, "the log is shorter than its last checkpoint",
					sb.st_size);
		/* The line, its newline, and the newline before it unless it starts the file. */
		at = log->cp_bytes - (off_t)log->cp_len - 1;
		lead = at > 0;
		tail = malloc(log->cp_len + 2);
		if (!tail)
			return -ENOMEM;
		if (pread(log->fd, tail, log->cp_len + 1 + lead, at - lead) !=
			    (ssize_t)(log->cp_len + 1 + lead) ||
		    (lead && tail[0] != '\n') || memcmp(tail + lead, log->cp_line, log->cp_len) ||
		    tail[lead + log->cp_len] != '\n') {
			free(tail);
			return incident(log,
					"the log does not end its history with its last checkpoint",
					sb.st_size);
		}
		free(tail);
		err = resume_at_checkpoint(log);
		if (err)
			return err;
		from = log->cp_bytes;
		log->size = from;
		if (sb.st_size == log->cp_bytes)
			return 0;
	}
	if (sb.st_size == 0)
		return 0;
	map = mmap(NULL, sb.st_size, PROT_READ, MAP_PRIVATE, log->fd, 0);
	if (map == MAP_FAILED)
		return -errno;
	err = scan(log, map, sb.st_size, from, &good);
	if (err && remembered) {
		munmap(map, sb.st_size);
		/* Start again from the remembered checkpoint, in a new segment. */
		err = resume_at_checkpoint(log);
		return err
			       ?: incident(log, "records after its last checkpoint do not chain",
					   sb.st_size);
	}
	if (err)
		goto cleanup;
	torn = (size_t)sb.st_size - good;
	log->size = good;
	if (torn == 0) {
		err = fdatasync(log->fd) < 0 ? -errno : 0;
		goto cleanup;
	}
	/* A write cut short by a crash or power loss: drop it, and say so in the log. */
	err = evlog_sha256_hex(map + good, torn, hex);
	if (err)
		goto cleanup;
	if (ftruncate(log->fd, good) < 0 || fdatasync(log->fd) < 0) {
		err = -errno;
		goto cleanup;
	}
	log->st.recovered_bytes = torn;
	fields = json_pack("{sI sI ss}", "dropped_bytes", (json_int_t)torn, "size_before",
			   (json_int_t)sb.st_size, "dropped_sha256", hex);
	if (!fields) {
		err = -ENOMEM;
		goto cleanup;
	}
	{
		char time[EVLINE_TIME_LEN + 1];
		int64_t now = now_us(log);

		err = format_time(log, now > log->last_time_us ? now : log->last_time_us, time);
		if (!err)
			err = write_record(log, EV_RECOVERY, fields, time);
	}
	json_decref(fields);
	if (!err) {
		log->since_checkpoint++;
		err = do_sync(log);
	}
cleanup:
	munmap(map, sb.st_size);
	return err;
}

int evlog_open(const struct evlog_opts *opts, struct evlog **logp)
{
	struct evlog *log;
	int err;

	*logp = NULL;
	if (!opts->path || !opts->log_key || !opts->log_key->has_private)
		return -EINVAL;
	log = calloc(1, sizeof(*log));
	if (!log)
		return -ENOMEM;
	log->fd = -1;
	log->time_sec = -1;
	log->key = opts->log_key;
	log->every = opts->checkpoint_every ? opts->checkpoint_every : EVLOG_DEFAULT_EVERY;
	log->interval_us = (int64_t)(opts->checkpoint_interval ? opts->checkpoint_interval
							       : EVLOG_DEFAULT_INTERVAL) *
			   1000000;
	log->clock = opts->clock ? opts->clock : realtime_us;
	log->clock_arg = opts->clock_arg;
	merkle_range_init(&log->range);
	log->path = strdup(opts->path);
	if (!log->path) {
		err = -ENOMEM;
		goto fail;
	}
	if (opts->origin) {
		if (strlen(opts->origin) > NOTE_MAX_NAME) {
			err = -ENAMETOOLONG;
			goto fail;
		}
		strcpy(log->origin, opts->origin);
	} else if ((err = evlog_default_origin(opts->log_key, log->origin, sizeof(log->origin)))) {
		goto fail;
	}
	err = sts_b64_encode(opts->log_key->pub, STS_ED25519_PUB_LEN, log->pub_b64,
			     sizeof(log->pub_b64));
	if (err)
		goto fail;
	if (opts->boot_id) {
		if (!cpext_valid_boot(opts->boot_id)) {
			err = -EINVAL;
			goto fail;
		}
		strcpy(log->boot, opts->boot_id);
	} else if ((err = read_boot_id(log->boot))) {
		goto fail;
	} else if (!cpext_valid_boot(log->boot)) {
		err = -EINVAL;
		goto fail;
	}
	{
		json_t *b = json_string(log->boot);

		log->boot_json = b ? json_dumps(b, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
		json_decref(b);
		if (!log->boot_json) {
			err = b ? -ENOMEM : -EINVAL; /* not UTF-8 */
			goto fail;
		}
	}
	if (opts->seal_path) {
		log->sealed = true;
		log->seal_path = strdup(opts->seal_path);
		if (!log->seal_path) {
			err = -ENOMEM;
			goto fail;
		}
		err = seal_state_load(opts->seal_path, &log->seal);
		if (err)
			goto fail;
		log->st.seal_epoch = log->seal.epoch;
	}
	if (!opts->no_state) {
		if (asprintf(&log->state_path, "%s%s", opts->state_path ? "" : opts->path,
			     opts->state_path ? opts->state_path : ".state") < 0) {
			log->state_path = NULL;
			err = -ENOMEM;
			goto fail;
		}
	}
	err = open_file(log, 0);
	if (err)
		goto fail;
	log->last_checkpoint_us = now_us(log);
	err = recover(log);
	if (err)
		goto fail;
	log->st.durable = log->next_seq;
	log->st.records = log->next_seq;
	/*
	 * Seals turned on for a log whose history has none: that history could never pass
	 * verify --seal-key (its first seal would come epochs after it began). It stays, as it
	 * is, in a segment of its own; the sealed segment starts here with a sealed checkpoint.
	 */
	if (log->sealed && !log->have_prev_seal && log->next_seq > 0 && !log->st.incident &&
	    !opts->seal_in_place) {
		char *old = NULL;

		/* Its own checkpoint, sealed, even after an unsealed one: the new segment's first.
		 */
		err = evlog_segment_name(log->path, log->next_seq, &old);
		if (!err) {
			log->last_is_checkpoint = false; /* a sealed one after an unsealed one */
			err = do_checkpoint(log);
		}
		if (!err)
			err = evlog_rotate(log, old);
		free(old);
		if (err)
			goto fail;
	}
	/*
	 * A new epoch began while the writer was down: close the old one and evolve (and
	 * erase) the key now. An incident's segment is checkpointed at once.
	 */
	if (checkpoint_due(log, now_us(log)) || log->st.incident) {
		err = do_checkpoint(log);
		if (err)
			goto fail;
	}
	*logp = log;
	return 0;
fail:
	log->err = err;
	evlog_close(log);
	return err;
}

int evlog_append(struct evlog *log, const char *type, const json_t *fields, uint64_t *seq)
{
	char time[EVLINE_TIME_LEN + 1];
	uint64_t s = log->next_seq;
	int64_t now;
	int err;

	if (log->err)
		return log->err;
	/* Checkpoints are the writer's own: a forged one would only confuse the verifier. */
	if (strcmp(type, EV_CHECKPOINT) == 0)
		return -EINVAL;
	now = now_us(log);
	if (now < log->last_time_us)
		now = log->last_time_us; /* the clock went back: the log's time does not */
	err = format_time(log, now, time);
	if (!err)
		err = write_record(log, type, fields, time);
	if (err)
		return err;
	log->last_time_us = now;
	log->since_checkpoint++;
	if (seq)
		*seq = s;
	if (checkpoint_due(log, now))
		return do_checkpoint(log);
	return 0;
}

int evlog_sync(struct evlog *log)
{
	if (log->err)
		return log->err;
	return do_sync(log);
}

int evlog_checkpoint(struct evlog *log)
{
	if (log->err)
		return log->err;
	if (log->last_is_checkpoint && !checkpoint_due(log, now_us(log)))
		return do_sync(log);
	return do_checkpoint(log);
}

int evlog_tick(struct evlog *log, int64_t *next_ms)
{
	int64_t now, next = -1, t;
	int err = 0;

	if (log->err)
		return log->err;
	now = now_us(log);
	if (checkpoint_due(log, now)) {
		err = do_checkpoint(log);
		if (err)
			return err;
	}
	if (log->since_checkpoint) {
		t = log->last_checkpoint_us + log->interval_us - now;
		next = t > 0 ? t : 0;
	}
	if (log->sealed) {
		t = (log->seal.start + (int64_t)((log->seal.epoch + 1) * log->seal.length)) *
			    1000000 -
		    now;
		if (t < 0)
			t = 0;
		if (next < 0 || t < next)
			next = t;
	}
	if (next_ms)
		*next_ms = next < 0 ? -1 : (next + 999) / 1000;
	return 0;
}

int evlog_close(struct evlog *log)
{
	int err;

	if (!log)
		return 0;
	err = log->err;
	if (!err && log->fd >= 0) {
		if (!log->last_is_checkpoint || log->since_checkpoint)
			err = do_checkpoint(log);
		else
			err = do_sync(log);
	}
	if (log->fd >= 0 && close(log->fd) < 0 && !err)
		err = -errno;
	seal_state_wipe(&log->seal);
	free(log->seal_path);
	free(log->state_path);
	free(log->cp_line);
	free(log->rotated);
	free(log->path);
	free(log->boot_json);
	free(log->buf);
	free(log);
	return err;
}

void evlog_stats(const struct evlog *log, struct evlog_stats *st)
{
	*st = log->st;
	st->records = log->next_seq;
	st->bytes = (uint64_t)log->size;
}

const char *evlog_path(const struct evlog *log)
{
	return log->path;
}

const char *evlog_rotated(const struct evlog *log)
{
	return log->rotated;
}

int evlog_error(const struct evlog *log)
{
	return log->err;
}

int evlog_segment_name(const char *path, uint64_t records, char **out)
{
	if (asprintf(out, "%s.%012" PRIu64, path, records) < 0) {
		*out = NULL;
		return -ENOMEM;
	}
	return 0;
}

int evlog_rotate(struct evlog *log, const char *old_path)
{
	json_t *fields;
	const char *base = strrchr(old_path, '/');
	int err;

	if (log->err)
		return log->err;
	err = evlog_checkpoint(log);
	if (err)
		return err;
	if (!log->cp_line)
		return -ENODATA; /* nothing to go on from: an empty log needs no rotation */
	if (link(log->path, old_path) < 0)
		return -errno; /* never replaces an existing file */
	if (unlink(log->path) < 0 || sts_fsync_dir_of(log->path)) {
		err = -errno;
		unlink(old_path);
		return err;
	}
	close(log->fd);
	log->fd = -1;
	err = open_file(log, O_EXCL);
	if (err)
		return set_error(log, err);
	fields = json_pack("{ss ss}", "reason", "rotation", "previous", base ? base + 1 : old_path);
	if (!fields)
		return set_error(log, -ENOMEM);
	err = start_segment(log, fields);
	json_decref(fields);
	if (!err)
		err = do_sync(log);
	if (!err)
		err = sts_fsync_dir_of(log->path);
	if (!err)
		err = state_store(log);
	if (!err) {
		log->st.rotations++;
		free(log->rotated);
		log->rotated = strdup(old_path);
	}
	return err ? set_error(log, err) : 0;
}
