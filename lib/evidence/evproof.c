// SPDX-License-Identifier: GPL-2.0-only
#include "evidence/evproof.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sbuf {
	char *s;
	size_t len, cap;
	int err;
};

static void sb_add(struct sbuf *b, const char *s, size_t n)
{
	char *ns;

	if (b->err)
		return;
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		ns = realloc(b->s, b->cap);
		if (!ns) {
			b->err = -ENOMEM;
			return;
		}
		b->s = ns;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void sb_b64(struct sbuf *b, const char *prefix, const void *data, size_t n)
{
	size_t m = sts_b64_len(n) + 1;
	char *enc = malloc(m);

	if (!enc) {
		b->err = -ENOMEM;
		return;
	}
	sts_b64_encode(data, n, enc, m);
	sb_add(b, prefix, strlen(prefix));
	sb_add(b, enc, m - 1);
	sb_add(b, "\n", 1);
	free(enc);
}

int evproof_format(const struct evproof *p, char **out)
{
	struct sbuf b = { 0 };
	char line[64];
	size_t i;

	if (p->consistency) {
		sb_add(&b, EVPROOF_CONSISTENCY_HEADER "\n", sizeof(EVPROOF_CONSISTENCY_HEADER));
		sb_b64(&b, "old ", p->old_note, p->old_note_len);
		sb_b64(&b, "new ", p->note, p->note_len);
	} else {
		sb_add(&b, EVPROOF_INCLUSION_HEADER "\n", sizeof(EVPROOF_INCLUSION_HEADER));
		if (p->extra)
			sb_b64(&b, "extra ", p->extra, p->extra_len);
		snprintf(line, sizeof(line), "index %" PRIu64 "\n", p->index);
		sb_add(&b, line, strlen(line));
	}
	for (i = 0; i < p->nhashes; i++)
		sb_b64(&b, "", p->hashes[i], sizeof(merkle_hash));
	if (!p->consistency) {
		sb_add(&b, "\n", 1);
		sb_add(&b, p->note, p->note_len);
	}
	if (b.err) {
		free(b.s);
		return b.err;
	}
	*out = b.s;
	return 0;
}

static bool next_line(const char **p, const char *end, const char **line, size_t *len)
{
	const char *nl = *p < end ? memchr(*p, '\n', end - *p) : NULL;

	if (!nl)
		return false;
	*line = *p;
	*len = nl - *p;
	*p = nl + 1;
	return true;
}

/* "<prefix><base64>" into a fresh heap buffer (NUL-terminated for convenience). */
static int b64_field(const char *line, size_t n, const char *prefix, char **out, size_t *outlen)
{
	size_t pl = strlen(prefix), cap;
	int err;

	if (n < pl || memcmp(line, prefix, pl) != 0)
		return -EBADMSG;
	cap = (n - pl) / 4 * 3 + 1;
	*out = malloc(cap);
	if (!*out)
		return -ENOMEM;
	err = sts_b64_decode(line + pl, n - pl, (uint8_t *)*out, cap, outlen);
	if (err || *outlen == 0) {
		free(*out);
		*out = NULL;
		return -EBADMSG;
	}
	(*out)[*outlen] = '\0';
	return 0;
}

static bool parse_index(const char *s, size_t n, uint64_t *v)
{
	uint64_t x = 0;
	size_t i;

	if (n == 0 || n > 20 || (n > 1 && s[0] == '0'))
		return false;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9' || x > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
			return false;
		x = x * 10 + (uint64_t)(s[i] - '0');
	}
	*v = x;
	return true;
}

static int parse_hash(const char *line, size_t n, struct evproof *p)
{
	uint8_t h[STS_SHA256_LEN + 1];
	size_t dec;

	if (p->nhashes == MERKLE_MAX_PROOF || sts_b64_decode(line, n, h, sizeof(h), &dec) ||
	    dec != STS_SHA256_LEN)
		return -EBADMSG;
	memcpy(p->hashes[p->nhashes++], h, STS_SHA256_LEN);
	return 0;
}

int evproof_parse(const char *text, size_t len, struct evproof *p)
{
	const char *pos = text, *end = text + len, *line;
	size_t n;
	int err = -EBADMSG;

	memset(p, 0, sizeof(*p));
	if (len > EVPROOF_MAX_LEN || memchr(text, '\0', len))
		return -EBADMSG;
	if (!next_line(&pos, end, &line, &n))
		return -EBADMSG;
	if (n == sizeof(EVPROOF_CONSISTENCY_HEADER) - 1 &&
	    memcmp(line, EVPROOF_CONSISTENCY_HEADER, n) == 0) {
		p->consistency = true;
		if (!next_line(&pos, end, &line, &n))
			goto fail;
		err = b64_field(line, n, "old ", &p->old_note, &p->old_note_len);
		if (err)
			goto fail;
		err = -EBADMSG;
		if (!next_line(&pos, end, &line, &n))
			goto fail;
		err = b64_field(line, n, "new ", &p->note, &p->note_len);
		if (err)
			goto fail;
		while (next_line(&pos, end, &line, &n))
			if ((err = parse_hash(line, n, p)))
				goto fail;
		if (pos != end) {
			err = -EBADMSG;
			goto fail;
		}
		return 0;
	}
	if (n != sizeof(EVPROOF_INCLUSION_HEADER) - 1 ||
	    memcmp(line, EVPROOF_INCLUSION_HEADER, n) != 0)
		goto fail;
	if (!next_line(&pos, end, &line, &n))
		goto fail;
	if (n > 6 && memcmp(line, "extra ", 6) == 0) {
		if ((err = b64_field(line, n, "extra ", &p->extra, &p->extra_len)))
			goto fail;
		err = -EBADMSG;
		if (!next_line(&pos, end, &line, &n))
			goto fail;
	}
	if (n < 7 || memcmp(line, "index ", 6) != 0 || !parse_index(line + 6, n - 6, &p->index))
		goto fail;
	for (;;) {
		if (!next_line(&pos, end, &line, &n))
			goto fail;
		if (n == 0)
			break;
		if ((err = parse_hash(line, n, p)))
			goto fail;
	}
	/* The rest is the checkpoint, checked by the signed-note parser when verifying. */
	p->note_len = end - pos;
	if (p->note_len == 0) {
		err = -EBADMSG;
		goto fail;
	}
	p->note = malloc(p->note_len + 1);
	if (!p->note) {
		err = -ENOMEM;
		goto fail;
	}
	memcpy(p->note, pos, p->note_len);
	p->note[p->note_len] = '\0';
	return 0;
fail:
	evproof_free(p);
	return err ? err : -EBADMSG;
}

void evproof_free(struct evproof *p)
{
	free(p->extra);
	free(p->note);
	free(p->old_note);
	memset(p, 0, sizeof(*p));
}

int evproof_verify(const struct evproof *p, const char *record, size_t record_len,
		   const struct sts_key *key, struct checkpoint *cpp)
{
	struct checkpoint cp, old;
	merkle_hash leaf;
	int err;

	err = checkpoint_verify(p->note, p->note_len, key, &cp, NULL);
	if (err)
		return err;
	if (cpp)
		*cpp = cp;
	if (p->consistency) {
		err = checkpoint_verify(p->old_note, p->old_note_len, key, &old, NULL);
		if (err)
			return err;
		if (strcmp(old.origin, cp.origin) != 0)
			return -EPROTO;
		return merkle_consistency_verify(old.size, cp.size, old.root, cp.root, p->hashes,
						 p->nhashes)
			       ? 0
			       : -EPROTO;
	}
	if (!record) {
		record = p->extra;
		record_len = p->extra_len;
	} else if (p->extra &&
		   (record_len != p->extra_len || memcmp(record, p->extra, record_len) != 0)) {
		return -EPROTO; /* the proof is about another record */
	}
	if (!record)
		return -EBADMSG;
	err = merkle_leaf_hash(record, record_len, leaf);
	if (err)
		return err;
	return merkle_inclusion_verify(p->index, cp.size, leaf, p->hashes, p->nhashes, cp.root)
		       ? 0
		       : -EPROTO;
}
