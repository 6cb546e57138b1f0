// SPDX-License-Identifier: GPL-2.0-only
#include "evidence/note.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* U+2014 EM DASH then a space: the start of every signature line. */
#define SIG_PREFIX "\xe2\x80\x94 "
#define SIG_PREFIX_LEN 4
#define COSIG_HEADER "cosignature/v1"

static int key_id_of(const char *name, uint8_t type, const uint8_t pub[STS_ED25519_PUB_LEN],
		     uint8_t id[4]);

int note_key_id(const char *name, const uint8_t pub[STS_ED25519_PUB_LEN], uint8_t id[4])
{
	return key_id_of(name, 0x01, pub, id);
}

static int key_id_of(const char *name, uint8_t type, const uint8_t pub[STS_ED25519_PUB_LEN],
		     uint8_t id[4])
{
	size_t n = strlen(name);
	uint8_t buf[NOTE_MAX_NAME + 2 + STS_ED25519_PUB_LEN], h[STS_SHA256_LEN];
	int err;

	if (n == 0 || n > NOTE_MAX_NAME)
		return -EINVAL;
	memcpy(buf, name, n);
	buf[n] = '\n';
	buf[n + 1] = type; /* 0x01 Ed25519 note signature, 0x04 Ed25519 cosignature/v1 */
	memcpy(buf + n + 2, pub, STS_ED25519_PUB_LEN);
	err = sts_sha256(buf, n + 2 + STS_ED25519_PUB_LEN, h);
	if (!err)
		memcpy(id, h, 4);
	return err;
}

/* A key name or origin: printable ASCII, no space, no '+' (signed-note rule for names). */
static bool valid_name(const char *s, size_t n, bool is_origin)
{
	size_t i;

	if (n == 0 || n > NOTE_MAX_NAME)
		return false;
	for (i = 0; i < n; i++) {
		if (s[i] <= ' ' || s[i] > '~')
			return false;
		if (!is_origin && s[i] == '+')
			return false;
	}
	return true;
}

int checkpoint_sign(const struct checkpoint *cp, const char *key_name, const struct sts_key *key,
		    char **note)
{
	return checkpoint_sign_ext(cp, NULL, key_name, key, note);
}

/* Extension lines: non-empty, newline-terminated, no control character but the newlines. */
static bool valid_ext(const char *ext)
{
	size_t i, n = strlen(ext);

	if (n == 0 || ext[n - 1] != '\n' || ext[0] == '\n' || strstr(ext, "\n\n"))
		return false;
	for (i = 0; i < n; i++)
		if ((unsigned char)ext[i] < 0x20 && ext[i] != '\n')
			return false;
	return true;
}

int checkpoint_sign_ext(const struct checkpoint *cp, const char *ext, const char *key_name,
			const struct sts_key *key, char **note)
{
	char root[64], sigb64[128], *out = NULL;
	uint8_t blob[4 + STS_ED25519_SIG_LEN];
	int n, m, err;

	if (!valid_name(cp->origin, strlen(cp->origin), true) ||
	    !valid_name(key_name, strlen(key_name), false) || (ext && !valid_ext(ext)))
		return -EINVAL;
	err = sts_b64_encode(cp->root, STS_SHA256_LEN, root, sizeof(root));
	if (err)
		return err;
	out = malloc(NOTE_MAX_LEN);
	if (!out)
		return -ENOMEM;
	n = snprintf(out, NOTE_MAX_LEN, "%s\n%" PRIu64 "\n%s\n%s", cp->origin, cp->size, root,
		     ext ? ext : "");
	if (n < 0 || n >= NOTE_MAX_LEN - 256) {
		err = -EOVERFLOW;
		goto cleanup;
	}
	err = note_key_id(key_name, key->pub, blob);
	if (!err)
		err = sts_sign(key, out, n, blob + 4);
	if (!err)
		err = sts_b64_encode(blob, sizeof(blob), sigb64, sizeof(sigb64));
	if (err)
		goto cleanup;
	m = snprintf(out + n, NOTE_MAX_LEN - n, "\n" SIG_PREFIX "%s %s\n", key_name, sigb64);
	if (m < 0 || m >= NOTE_MAX_LEN - n) {
		err = -EOVERFLOW;
		goto cleanup;
	}
	*note = out;
	out = NULL;
cleanup:
	free(out);
	return err;
}

/* Next line of [*p, end): without its '\n', which must be there. */
static bool next_line(const char **p, const char *end, const char **line, size_t *len)
{
	const char *nl = memchr(*p, '\n', end - *p);

	if (!nl)
		return false;
	*line = *p;
	*len = nl - *p;
	*p = nl + 1;
	return true;
}

static bool parse_u64(const char *s, size_t n, uint64_t *v)
{
	uint64_t x = 0;
	size_t i;

	/* Decimal, no sign, no leading zero except "0" itself. */
	if (n == 0 || n > 20 || (n > 1 && s[0] == '0'))
		return false;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		if (x > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
			return false;
		x = x * 10 + (uint64_t)(s[i] - '0');
	}
	*v = x;
	return true;
}

struct sigline {
	char name[NOTE_MAX_NAME + 1];
	uint8_t blob[4 + 8 + STS_ED25519_SIG_LEN]; /* a cosignature has a timestamp too */
	size_t bloblen;
};

static int parse_note(const char *text, size_t len, struct checkpoint *cp, size_t *body_len,
		      struct sigline *sigs, size_t *nsigs)
{
	const char *p = text, *end = text + len, *line, *sp;
	size_t n, i, nlines = 0, dec;
	uint8_t root[STS_SHA256_LEN + 1];

	if (len == 0 || len > NOTE_MAX_LEN)
		return -EBADMSG;
	/* No control characters but newlines (the signed-note rule); no NUL in the middle. */
	for (i = 0; i < len; i++)
		if ((unsigned char)text[i] < 0x20 && text[i] != '\n')
			return -EBADMSG;
	memset(cp, 0, sizeof(*cp));
	/* Body: non-empty lines up to the blank line. */
	for (;;) {
		if (!next_line(&p, end, &line, &n))
			return -EBADMSG;
		if (n == 0)
			break;
		switch (nlines++) {
		case 0:
			if (!valid_name(line, n, true))
				return -EBADMSG;
			memcpy(cp->origin, line, n);
			cp->origin[n] = '\0';
			break;
		case 1:
			if (!parse_u64(line, n, &cp->size))
				return -EBADMSG;
			break;
		case 2:
			if (sts_b64_decode(line, n, root, sizeof(root), &dec) ||
			    dec != STS_SHA256_LEN)
				return -EBADMSG;
			memcpy(cp->root, root, STS_SHA256_LEN);
			break;
		default:
			/* Extension lines: tlog-checkpoint allows them; their users read them. */
			if (nlines == 4)
				cp->ext_off = line - text;
			cp->ext_len = (size_t)(p - text) - cp->ext_off;
			break;
		}
	}
	if (nlines < 3)
		return -EBADMSG;
	if (body_len)
		*body_len = (size_t)(p - text) - 1;
	*nsigs = 0;
	while (p < end) {
		if (!next_line(&p, end, &line, &n))
			return -EBADMSG;
		if (n < SIG_PREFIX_LEN || memcmp(line, SIG_PREFIX, SIG_PREFIX_LEN) != 0)
			return -EBADMSG;
		line += SIG_PREFIX_LEN;
		n -= SIG_PREFIX_LEN;
		sp = memchr(line, ' ', n);
		if (!sp || !valid_name(line, sp - line, false))
			return -EBADMSG;
		if (*nsigs == NOTE_MAX_SIGS)
			return -EBADMSG;
		memcpy(sigs[*nsigs].name, line, sp - line);
		sigs[*nsigs].name[sp - line] = '\0';
		if (sts_b64_decode(sp + 1, n - (sp + 1 - line), sigs[*nsigs].blob,
				   sizeof(sigs[*nsigs].blob), &sigs[*nsigs].bloblen) ||
		    sigs[*nsigs].bloblen < 5)
			return -EBADMSG;
		(*nsigs)++;
	}
	if (*nsigs == 0)
		return -EBADMSG;
	return 0;
}

int checkpoint_parse(const char *text, size_t len, struct checkpoint *cp, size_t *body_len)
{
	struct sigline sigs[NOTE_MAX_SIGS];
	size_t nsigs;

	return parse_note(text, len, cp, body_len, sigs, &nsigs);
}

int checkpoint_verify(const char *text, size_t len, const struct sts_key *key,
		      struct checkpoint *cp, char *signer)
{
	struct sigline sigs[NOTE_MAX_SIGS];
	size_t nsigs, body_len, i;
	uint8_t id[4];
	int err;

	err = parse_note(text, len, cp, &body_len, sigs, &nsigs);
	if (err)
		return err;
	err = -ENOKEY;
	for (i = 0; i < nsigs; i++) {
		if (note_key_id(sigs[i].name, key->pub, id) || memcmp(id, sigs[i].blob, 4) != 0)
			continue;
		/* The key id matches: from here on a failure is a bad signature, not "unknown". */
		if (sigs[i].bloblen != 4 + STS_ED25519_SIG_LEN ||
		    !sts_verify(key, text, body_len, sigs[i].blob + 4))
			return -EKEYREJECTED;
		if (signer)
			memcpy(signer, sigs[i].name, NOTE_MAX_NAME + 1);
		return 0;
	}
	return err;
}

/* The message a cosignature/v1 signs: two header lines, then the note body. */
static char *cosig_message(const char *text, size_t body_len, uint64_t time, size_t *len)
{
	char head[64], *msg;
	int n = snprintf(head, sizeof(head), COSIG_HEADER "\ntime %" PRIu64 "\n", time);

	msg = malloc(n + body_len);
	if (!msg)
		return NULL;
	memcpy(msg, head, n);
	memcpy(msg + n, text, body_len);
	*len = n + body_len;
	return msg;
}

int note_cosign(const char *text, size_t len, const char *name, const struct sts_key *key,
		uint64_t time, char **out)
{
	struct sigline sigs[NOTE_MAX_SIGS];
	struct checkpoint cp;
	uint8_t blob[4 + 8 + STS_ED25519_SIG_LEN];
	char b64[160], *msg = NULL, *res = NULL;
	size_t nsigs, body_len, mlen;
	int i, n, err;

	if (!valid_name(name, strlen(name), false) || time > INT64_MAX)
		return -EINVAL;
	err = parse_note(text, len, &cp, &body_len, sigs, &nsigs);
	if (err)
		return err;
	if (nsigs == NOTE_MAX_SIGS)
		return -E2BIG;
	err = key_id_of(name, 0x04, key->pub, blob);
	if (err)
		return err;
	for (i = 0; i < 8; i++)
		blob[4 + i] = (uint8_t)(time >> (56 - 8 * i));
	msg = cosig_message(text, body_len, time, &mlen);
	if (!msg)
		return -ENOMEM;
	err = sts_sign(key, msg, mlen, blob + 12);
	if (!err)
		err = sts_b64_encode(blob, sizeof(blob), b64, sizeof(b64));
	if (err)
		goto cleanup;
	n = (int)(len + SIG_PREFIX_LEN + strlen(name) + 1 + strlen(b64) + 2);
	res = malloc(n);
	if (!res) {
		err = -ENOMEM;
		goto cleanup;
	}
	memcpy(res, text, len);
	snprintf(res + len, n - len, SIG_PREFIX "%s %s\n", name, b64);
	if (strlen(res) > NOTE_MAX_LEN) {
		free(res);
		err = -E2BIG;
		goto cleanup;
	}
	*out = res;
cleanup:
	free(msg);
	return err;
}

int note_cosig_verify(const char *text, size_t len, const char *name, const struct sts_key *key,
		      uint64_t *time)
{
	struct sigline sigs[NOTE_MAX_SIGS];
	struct checkpoint cp;
	size_t nsigs, body_len, mlen, i;
	uint8_t id[4];
	uint64_t t;
	char *msg;
	int j, err;

	err = parse_note(text, len, &cp, &body_len, sigs, &nsigs);
	if (err)
		return err;
	err = key_id_of(name, 0x04, key->pub, id);
	if (err)
		return err;
	for (i = 0; i < nsigs; i++) {
		if (strcmp(sigs[i].name, name) != 0 || memcmp(sigs[i].blob, id, 4) != 0)
			continue;
		if (sigs[i].bloblen != 4 + 8 + STS_ED25519_SIG_LEN)
			return -EKEYREJECTED;
		for (t = 0, j = 0; j < 8; j++)
			t = t << 8 | sigs[i].blob[4 + j];
		if (t > INT64_MAX)
			return -EKEYREJECTED;
		msg = cosig_message(text, body_len, t, &mlen);
		if (!msg)
			return -ENOMEM;
		err = sts_verify(key, msg, mlen, sigs[i].blob + 12) ? 0 : -EKEYREJECTED;
		free(msg);
		if (!err && time)
			*time = t;
		return err;
	}
	return -ENOKEY;
}
