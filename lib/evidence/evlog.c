// SPDX-License-Identifier: GPL-2.0-only
#include "evidence/evlog.h"
#include "evidence/evline.h"
#include "evidence/merkle.h"
#include "evidence/note.h"
#include "evidence/seal.h"
#include "core/util.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
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

	/* Seals: the state file holds the key of seal.epoch only. */
	bool sealed;
	char *seal_path;
	struct seal_state seal;
	bool have_prev_seal;
	uint64_t prev_seal_epoch;
	uint8_t prev_mac[STS_SHA256_LEN];

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
	err = merkle_range_append(&log->range, leaf);
	if (!err)
		err = sts_sha256(line, len, log->prev);
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

/* One checkpoint record over every line before it, sealed with the key of `epoch`. */
static int write_checkpoint(struct evlog *log, const char *time, uint64_t epoch)
{
	struct checkpoint cp = { .size = log->next_seq };
	char machex[2 * STS_SHA256_LEN + 1], *note = NULL;
	uint8_t mac[STS_SHA256_LEN];
	json_t *fields = NULL;
	int err;

	memcpy(cp.origin, log->origin, sizeof(cp.origin));
	err = merkle_range_root(&log->range, cp.root);
	if (!err)
		err = checkpoint_sign(&cp, log->origin, log->key, &note);
	if (err)
		return err;
	fields = json_pack("{sI ss ss}", "size", (json_int_t)cp.size, "note", note, "log_key",
			   log->pub_b64);
	if (!fields) {
		err = -ENOMEM;
		goto cleanup;
	}
	if (log->sealed) {
		err = seal_mac(log->seal.key, epoch, log->have_prev_seal ? log->prev_mac : NULL,
			       time, note, strlen(note), mac);
		if (err)
			goto cleanup;
		sts_hex(mac, sizeof(mac), machex);
		if (json_object_set_new(
			    fields, "seal",
			    json_pack("{sI ss}", "epoch", (json_int_t)epoch, "mac", machex))) {
			err = -ENOMEM;
			goto cleanup;
		}
	}
	err = write_record(log, EV_CHECKPOINT, fields, time);
	if (err)
		goto cleanup;
	if (log->sealed) {
		memcpy(log->prev_mac, mac, sizeof(mac));
		log->prev_seal_epoch = epoch;
		log->have_prev_seal = true;
	}
	log->st.checkpoints++;
cleanup:
	json_decref(fields);
	free(note);
	return err;
}

static int do_checkpoint(struct evlog *log)
{
	char time[EVLINE_TIME_LEN + 1];
	uint64_t target, e, old_epoch = log->seal.epoch;
	int64_t now = now_us(log);
	int err;

	err = format_time(log, now, time);
	if (err)
		return err;
	if (!log->sealed) {
		err = write_checkpoint(log, time, 0);
	} else {
		target = seal_epoch_of(&log->seal, now / 1000000);
		/* A clock that went back cannot bring back an erased key. */
		if (target < log->seal.epoch)
			target = log->seal.epoch;
		if (log->have_prev_seal && target < log->prev_seal_epoch)
			target = log->prev_seal_epoch;
		/*
		 * Epochs must be continuous for the auditor: seal each epoch skipped since the
		 * last seal (the device was off, or idle), evolving the key as we go.
		 */
		e = log->have_prev_seal && log->prev_seal_epoch < target ? log->prev_seal_epoch + 1
									 : target;
		if (e < log->seal.epoch)
			e = log->seal.epoch; /* the log lost seals the state had: verify tells */
		for (err = 0; !err && e <= target; e++) {
			err = seal_advance(&log->seal, e);
			if (!err)
				err = write_checkpoint(log, time, e);
		}
	}
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

/* Re-read the log: restore chain, tree and seal state; find the torn tail. */
static int scan(struct evlog *log, const char *buf, size_t len, size_t *good)
{
	const char *p = buf, *end = buf + len, *nl;
	char why[160];
	struct evline rec;
	merkle_hash leaf;
	json_t *seal, *mac;
	uint64_t lineno = 0;
	int err = 0;

	*good = 0;
	while (p < end && (nl = memchr(p, '\n', end - p))) {
		lineno++;
		err = evline_scan(p, nl - p, &rec, why, sizeof(why));
		/* A checkpoint is read in full, for its seal. */
		if (!err && !rec.obj && strcmp(rec.type, EV_CHECKPOINT) == 0) {
			evline_free(&rec);
			err = evline_parse(p, nl - p, &rec, why, sizeof(why));
		}
		if (err)
			goto bad;
		if (rec.seq != log->next_seq) {
			snprintf(why, sizeof(why), "seq %" PRIu64 " where %" PRIu64 " was expected",
				 rec.seq, log->next_seq);
			goto bad_rec;
		}
		if (memcmp(rec.prev, log->prev, STS_SHA256_LEN) != 0) {
			snprintf(why, sizeof(why), "prev does not match the previous line");
			goto bad_rec;
		}
		if (strcmp(rec.type, EV_CHECKPOINT) == 0) {
			log->last_checkpoint_us = rec.time_us;
			log->since_checkpoint = 0;
			log->last_is_checkpoint = true;
			seal = json_object_get(rec.obj, "seal");
			mac = json_object_get(seal, "mac");
			if (seal && (!json_is_integer(json_object_get(seal, "epoch")) ||
				     !json_is_string(mac) ||
				     sts_unhex(json_string_value(mac), json_string_length(mac),
					       log->prev_mac, STS_SHA256_LEN))) {
				snprintf(why, sizeof(why), "malformed seal");
				goto bad_rec;
			}
			if (seal) {
				log->prev_seal_epoch = (uint64_t)json_integer_value(
					json_object_get(seal, "epoch"));
				log->have_prev_seal = true;
			}
		} else {
			log->since_checkpoint++;
			log->last_is_checkpoint = false;
		}
		evline_free(&rec);
		err = sts_sha256(p, nl - p, log->prev);
		if (!err)
			err = merkle_leaf_hash(p, nl - p, leaf);
		if (!err)
			err = merkle_range_append(&log->range, leaf);
		if (err)
			return err;
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

static int recover(struct evlog *log)
{
	struct stat sb;
	size_t good = 0, torn;
	char *map = NULL;
	char hex[2 * STS_SHA256_LEN + 1];
	json_t *fields;
	int err;

	if (fstat(log->fd, &sb) < 0)
		return -errno;
	if (sb.st_size == 0)
		return 0;
	map = mmap(NULL, sb.st_size, PROT_READ, MAP_PRIVATE, log->fd, 0);
	if (map == MAP_FAILED)
		return -errno;
	err = scan(log, map, sb.st_size, &good);
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

		err = format_time(log, now_us(log), time);
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
		if (strlen(opts->boot_id) == 0 || strlen(opts->boot_id) > 64) {
			err = -EINVAL;
			goto fail;
		}
		strcpy(log->boot, opts->boot_id);
	} else if ((err = read_boot_id(log->boot))) {
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
	log->fd = open(opts->path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (log->fd < 0) {
		err = -errno;
		goto fail;
	}
	/* Two writers would interleave and break the chain: one at a time. */
	if (flock(log->fd, LOCK_EX | LOCK_NB) < 0) {
		err = errno == EWOULDBLOCK ? -EBUSY : -errno;
		goto fail;
	}
	log->last_checkpoint_us = now_us(log);
	err = recover(log);
	if (err)
		goto fail;
	log->st.durable = log->next_seq;
	log->st.records = log->next_seq;
	/* A new epoch began while the writer was down: evolve (and erase) the key now. */
	if (checkpoint_due(log, now_us(log))) {
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
	err = format_time(log, now, time);
	if (!err)
		err = write_record(log, type, fields, time);
	if (err)
		return err;
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

int evlog_error(const struct evlog *log)
{
	return log->err;
}
