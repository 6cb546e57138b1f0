// SPDX-License-Identifier: GPL-2.0-only
#include "evidence/seal.h"
#include "core/util.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define EVOLVE_TAG "sts-seal-evolve"
#define VKEY_PREFIX "sts-seal-v1:"
#define STATE_MAGIC "sts-seal-state-v1"

uint64_t seal_epoch_of(const struct seal_state *st, int64_t t)
{
	if (t < st->start || st->length == 0)
		return 0;
	return (uint64_t)(t - st->start) / st->length;
}

int seal_evolve(uint8_t key[SEAL_KEY_LEN])
{
	uint8_t buf[sizeof(EVOLVE_TAG) - 1 + SEAL_KEY_LEN];
	int err;

	memcpy(buf, EVOLVE_TAG, sizeof(EVOLVE_TAG) - 1);
	memcpy(buf + sizeof(EVOLVE_TAG) - 1, key, SEAL_KEY_LEN);
	err = sts_sha256(buf, sizeof(buf), key);
	sts_wipe(buf, sizeof(buf));
	return err;
}

int seal_advance(struct seal_state *st, uint64_t epoch)
{
	int err;

	if (epoch < st->epoch)
		return -EINVAL; /* the older key is gone: that is the point */
	while (st->epoch < epoch) {
		err = seal_evolve(st->key);
		if (err)
			return err;
		st->epoch++;
	}
	return 0;
}

static int format_state(const struct seal_state *st, char *buf, size_t sz)
{
	char hex[2 * SEAL_KEY_LEN + 1];
	int n;

	sts_hex(st->key, SEAL_KEY_LEN, hex);
	n = snprintf(buf, sz,
		     STATE_MAGIC "\nstart %" PRId64 "\nlength %" PRIu64 "\nepoch %" PRIu64
				 "\nkey %s\n",
		     st->start, st->length, st->epoch, hex);
	sts_wipe(hex, sizeof(hex));
	return n > 0 && (size_t)n < sz ? n : -EOVERFLOW;
}

int seal_vkey_format(const struct seal_state *vk, char out[SEAL_VKEY_MAX])
{
	char hex[2 * SEAL_KEY_LEN + 1];
	int n;

	if (vk->epoch != 0)
		return -EINVAL;
	sts_hex(vk->key, SEAL_KEY_LEN, hex);
	n = snprintf(out, SEAL_VKEY_MAX, VKEY_PREFIX "%s:%" PRId64 ":%" PRIu64, hex, vk->start,
		     vk->length);
	sts_wipe(hex, sizeof(hex));
	return n > 0 && n < SEAL_VKEY_MAX ? 0 : -EOVERFLOW;
}

int seal_state_create(const char *path, int64_t start, uint64_t length, const uint8_t *key0,
		      char vkey[SEAL_VKEY_MAX])
{
	struct seal_state st = { .start = start, .length = length };
	char buf[256];
	int fd = -1, n, err;

	if (length < SEAL_MIN_LENGTH || start < 0)
		return -EINVAL;
	if (key0)
		memcpy(st.key, key0, SEAL_KEY_LEN);
	else if ((err = sts_random(st.key, SEAL_KEY_LEN)))
		goto cleanup;
	err = seal_vkey_format(&st, vkey);
	if (err)
		goto cleanup;
	n = format_state(&st, buf, sizeof(buf));
	if (n < 0) {
		err = n;
		goto cleanup;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		err = -errno;
		goto cleanup;
	}
	err = sts_write_all(fd, buf, n);
	if (!err && fsync(fd) < 0)
		err = -errno;
	if (close(fd) < 0 && !err)
		err = -errno;
	if (err)
		unlink(path);
	else
		err = sts_fsync_dir_of(path);
cleanup:
	sts_wipe(buf, sizeof(buf));
	seal_state_wipe(&st);
	return err;
}

int seal_state_store(const char *path, const struct seal_state *st)
{
	char buf[256];
	int n, err;

	n = format_state(st, buf, sizeof(buf));
	if (n < 0)
		return n;
	err = sts_write_file_atomic(path, buf, n, 0600);
	sts_wipe(buf, sizeof(buf));
	return err;
}

int seal_state_load(const char *path, struct seal_state *st)
{
	char *buf = NULL, hex[2 * SEAL_KEY_LEN + 1];
	size_t len;
	int err, used = 0;

	memset(st, 0, sizeof(*st));
	err = sts_read_file(path, 4096, &buf, &len);
	if (err)
		return err;
	if (sscanf(buf,
		   STATE_MAGIC "\nstart %" SCNd64 "\nlength %" SCNu64 "\nepoch %" SCNu64
			       "\nkey %64[0-9a-f]\n%n",
		   &st->start, &st->length, &st->epoch, hex, &used) != 4 ||
	    (size_t)used != len || st->length < SEAL_MIN_LENGTH ||
	    sts_unhex(hex, strlen(hex), st->key, SEAL_KEY_LEN))
		err = -EBADMSG;
	sts_wipe(hex, sizeof(hex));
	sts_wipe(buf, len);
	free(buf);
	if (err)
		seal_state_wipe(st);
	return err;
}

void seal_state_wipe(struct seal_state *st)
{
	sts_wipe(st, sizeof(*st));
}

static bool parse_dec(const char **p, const char *end, uint64_t *v)
{
	uint64_t x = 0;
	const char *s = *p;

	if (s == end || (*s == '0' && s + 1 != end && s[1] >= '0' && s[1] <= '9'))
		return false;
	while (s < end && *s >= '0' && *s <= '9') {
		if (x > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			return false;
		x = x * 10 + (uint64_t)(*s++ - '0');
	}
	if (s == *p)
		return false;
	*p = s;
	*v = x;
	return true;
}

int seal_vkey_parse(const char *s, size_t len, struct seal_state *vk)
{
	const char *p = s, *end;
	uint64_t start;

	memset(vk, 0, sizeof(*vk));
	while (len && (s[len - 1] == '\n' || s[len - 1] == '\r'))
		len--;
	end = s + len;
	if (len < sizeof(VKEY_PREFIX) - 1 + 2 * SEAL_KEY_LEN + 4 ||
	    memcmp(p, VKEY_PREFIX, sizeof(VKEY_PREFIX) - 1) != 0)
		return -EBADMSG;
	p += sizeof(VKEY_PREFIX) - 1;
	if (sts_unhex(p, 2 * SEAL_KEY_LEN, vk->key, SEAL_KEY_LEN))
		goto bad;
	p += 2 * SEAL_KEY_LEN;
	if (*p++ != ':' || !parse_dec(&p, end, &start) || start > INT64_MAX || p == end ||
	    *p++ != ':' || !parse_dec(&p, end, &vk->length) || p != end ||
	    vk->length < SEAL_MIN_LENGTH)
		goto bad;
	vk->start = (int64_t)start;
	return 0;
bad:
	seal_state_wipe(vk);
	return -EBADMSG;
}

int seal_mac(const uint8_t key[SEAL_KEY_LEN], uint64_t epoch, const uint8_t *prev, const char *time,
	     const char *note, size_t note_len, uint8_t mac[STS_SHA256_LEN])
{
	char prevhex[2 * STS_SHA256_LEN + 1], *buf = NULL;
	int len, err;

	if (prev) {
		sts_hex(prev, STS_SHA256_LEN, prevhex);
	} else {
		memset(prevhex, '0', 2 * STS_SHA256_LEN);
		prevhex[2 * STS_SHA256_LEN] = '\0';
	}
	len = snprintf(NULL, 0, "sts-seal-v1\n%" PRIu64 "\n%s\n%s\n", epoch, prevhex, time);
	if (len < 0)
		return -EINVAL;
	buf = malloc(len + 1 + note_len);
	if (!buf)
		return -ENOMEM;
	snprintf(buf, len + 1, "sts-seal-v1\n%" PRIu64 "\n%s\n%s\n", epoch, prevhex, time);
	memcpy(buf + len, note, note_len);
	err = sts_hmac_sha256(key, SEAL_KEY_LEN, buf, len + note_len, mac);
	free(buf);
	return err;
}
