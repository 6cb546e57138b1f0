// SPDX-License-Identifier: GPL-2.0-only
#include "wire/jws.h"
#include "wire/report.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#define KID_RAW 16
#define AID_RAW 16
#define HEADER_MAX 512

static int fail(int err, char *reason, size_t reasonsz, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(int err, char *reason, size_t reasonsz, const char *fmt, ...)
{
	va_list ap;

	if (reason && reasonsz) {
		va_start(ap, fmt);
		vsnprintf(reason, reasonsz, fmt, ap);
		va_end(ap);
	}
	return err;
}

int sts_kid(const uint8_t pub[STS_ED25519_PUB_LEN], char kid[STS_KID_LEN + 1])
{
	uint8_t d[STS_SHA256_LEN];
	int err;

	err = sts_sha256(pub, STS_ED25519_PUB_LEN, d);
	if (err)
		return err;
	return sts_b64url_encode(d, KID_RAW, kid, STS_KID_LEN + 1);
}

int sts_aid_new(char aid[STS_AID_LEN + 1])
{
	uint8_t raw[AID_RAW];
	int err;

	err = sts_random(raw, sizeof(raw));
	if (err)
		return err;
	return sts_b64url_encode(raw, sizeof(raw), aid, STS_AID_LEN + 1);
}

bool sts_id_valid(const char *s, size_t len)
{
	uint8_t raw[KID_RAW];
	size_t n;

	/* The strict decoder refuses non-zero trailing bits: one spelling per id. */
	return len == STS_KID_LEN && sts_b64url_decode(s, len, raw, sizeof(raw), &n) == 0 &&
	       n == KID_RAW;
}

static int header_json(const char *kid, const char *aid, const uint8_t *jwk, char *out,
		       size_t outsz)
{
	char x[STS_ED25519_PUB_LEN * 2];
	int n, err;

	/*
	 * Written by hand rather than by jansson: every value is base64url, so nothing needs
	 * escaping, and the bytes are fixed by the inputs.
	 */
	if (jwk) {
		err = sts_b64url_encode(jwk, STS_ED25519_PUB_LEN, x, sizeof(x));
		if (err)
			return err;
		n = snprintf(
			out, outsz,
			"{\"alg\":\"EdDSA\",\"kid\":\"%s\",\"aid\":\"%s\",\"jwk\":{\"kty\":\"OKP\","
			"\"crv\":\"Ed25519\",\"x\":\"%s\"}}",
			kid, aid, x);
	} else {
		n = snprintf(out, outsz, "{\"alg\":\"EdDSA\",\"kid\":\"%s\",\"aid\":\"%s\"}", kid,
			     aid);
	}
	return n < 0 || (size_t)n >= outsz ? -ENOSPC : 0;
}

int sts_jws_sign(const struct sts_key *key, const char *aid, bool embed_jwk, const void *payload,
		 size_t len, char **out, size_t *outlen)
{
	char header[HEADER_MAX], kid[STS_KID_LEN + 1];
	uint8_t sig[STS_ED25519_SIG_LEN];
	size_t hlen, plen, slen, total, off;
	char *buf = NULL;
	int err;

	*out = NULL;
	if (!key->has_private || !aid || !sts_id_valid(aid, strlen(aid)) || len == 0)
		return -EINVAL;
	err = sts_kid(key->pub, kid);
	if (err)
		return err;
	err = header_json(kid, aid, embed_jwk ? key->pub : NULL, header, sizeof(header));
	if (err)
		return err;
	hlen = sts_b64url_len(strlen(header));
	plen = sts_b64url_len(len);
	slen = sts_b64url_len(STS_ED25519_SIG_LEN);
	total = hlen + 1 + plen + 1 + slen;
	buf = malloc(total + 1);
	if (!buf)
		return -ENOMEM;
	err = sts_b64url_encode((const uint8_t *)header, strlen(header), buf, hlen + 1);
	if (err)
		goto cleanup;
	buf[hlen] = '.';
	off = hlen + 1;
	err = sts_b64url_encode(payload, len, buf + off, plen + 1);
	if (err)
		goto cleanup;
	off += plen;
	err = sts_sign(key, buf, off, sig);
	if (err)
		goto cleanup;
	buf[off++] = '.';
	err = sts_b64url_encode(sig, sizeof(sig), buf + off, slen + 1);
	if (err)
		goto cleanup;
	*out = buf;
	*outlen = total;
	buf = NULL;
cleanup:
	free(buf);
	return err;
}

static bool b64url_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_';
}

static int parse_jwk(json_t *jwk, struct sts_jws *jws, char *reason, size_t reasonsz)
{
	const char *key, *x;
	size_t n;
	json_t *v;

	if (!json_is_object(jwk))
		return fail(-EBADMSG, reason, reasonsz,
			    "JWS header member \"jwk\" must be an object");
	json_object_foreach(jwk, key, v)
	{
		if (strcmp(key, "kty") && strcmp(key, "crv") && strcmp(key, "x"))
			return fail(-EBADMSG, reason, reasonsz,
				    "JWS header \"jwk\" member \"%.32s\" is not allowed; only kty, "
				    "crv and x",
				    key);
	}
	if (!json_is_string(json_object_get(jwk, "kty")) ||
	    strcmp(json_string_value(json_object_get(jwk, "kty")), "OKP") ||
	    !json_is_string(json_object_get(jwk, "crv")) ||
	    strcmp(json_string_value(json_object_get(jwk, "crv")), "Ed25519"))
		return fail(-EBADMSG, reason, reasonsz,
			    "JWS header \"jwk\" must have \"kty\":\"OKP\" and \"crv\":\"Ed25519\"");
	v = json_object_get(jwk, "x");
	x = json_string_value(v);
	if (!x || sts_b64url_decode(x, json_string_length(v), jws->jwk, sizeof(jws->jwk), &n) ||
	    n != STS_ED25519_PUB_LEN)
		return fail(
			-EBADMSG, reason, reasonsz,
			"JWS header \"jwk\" member \"x\" must be the 32-byte Ed25519 public key "
			"in base64url");
	jws->has_jwk = true;
	return 0;
}

static int parse_header(const char *json, size_t len, struct sts_jws *jws, char *reason,
			size_t reasonsz)
{
	json_t *root, *v;
	json_error_t jerr;
	const char *key, *s;
	char kid[STS_KID_LEN + 1];
	int err = 0;

	if (!sts_utf8_valid(json, len, NULL))
		return fail(-EBADMSG, reason, reasonsz, "JWS header is not valid UTF-8");
	root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return fail(-EBADMSG, reason, reasonsz, "JWS header is not valid JSON: %s",
			    sts_json_error_text(&jerr));
	if (!json_is_object(root)) {
		err = fail(-EBADMSG, reason, reasonsz, "JWS header must be a JSON object");
		goto cleanup;
	}
	/* alg first: a wrong algorithm is the most useful thing to tell a sender. */
	v = json_object_get(root, "alg");
	if (!json_is_string(v)) {
		err = fail(-EBADMSG, reason, reasonsz, "JWS header has no \"alg\" string");
		goto cleanup;
	}
	if (strcmp(json_string_value(v), "EdDSA") || json_string_length(v) != 5) {
		err = fail(-EOPNOTSUPP, reason, reasonsz,
			   "JWS algorithm \"%.32s\" is not accepted; sign with EdDSA (Ed25519)",
			   json_string_value(v));
		goto cleanup;
	}
	json_object_foreach(root, key, v)
	{
		if (strcmp(key, "alg") && strcmp(key, "kid") && strcmp(key, "aid") &&
		    strcmp(key, "jwk")) {
			err = fail(-EBADMSG, reason, reasonsz,
				   "JWS header member \"%.32s\" is not allowed; only alg, kid, aid "
				   "and jwk",
				   key);
			goto cleanup;
		}
	}
	v = json_object_get(root, "kid");
	s = json_string_value(v);
	if (!s || !sts_id_valid(s, json_string_length(v))) {
		err = fail(-EBADMSG, reason, reasonsz,
			   "JWS header \"kid\" must be the 22-character base64url key id");
		goto cleanup;
	}
	memcpy(jws->kid, s, STS_KID_LEN + 1);
	v = json_object_get(root, "aid");
	s = json_string_value(v);
	if (!s || !sts_id_valid(s, json_string_length(v))) {
		err = fail(-EBADMSG, reason, reasonsz,
			   "JWS header \"aid\" must be a 22-character base64url activation id "
			   "(16 random bytes)");
		goto cleanup;
	}
	memcpy(jws->aid, s, STS_AID_LEN + 1);
	v = json_object_get(root, "jwk");
	if (v) {
		err = parse_jwk(v, jws, reason, reasonsz);
		if (err)
			goto cleanup;
		err = sts_kid(jws->jwk, kid);
		if (err)
			goto cleanup;
		if (strcmp(kid, jws->kid)) {
			err = fail(
				-EBADMSG, reason, reasonsz,
				"JWS header \"jwk\" does not match \"kid\" (kid must be base64url "
				"of the first 16 bytes of SHA-256 of the public key)");
			goto cleanup;
		}
	}
cleanup:
	json_decref(root);
	return err;
}

int sts_jws_parse(const char *in, size_t len, struct sts_jws *jws, char *reason, size_t reasonsz)
{
	const char *dot1 = NULL, *dot2 = NULL;
	size_t i, dots = 0, hlen, plen, slen, n;
	uint8_t *raw = NULL;
	int err;

	memset(jws, 0, sizeof(*jws));
	if (len == 0)
		return fail(-EBADMSG, reason, reasonsz, "empty body; expected a JWS");
	if (len > STS_JWS_MAX)
		return fail(-EBADMSG, reason, reasonsz, "JWS is %zu bytes long; at most %d allowed",
			    len, STS_JWS_MAX);
	for (i = 0; i < len; i++) {
		if (in[i] == '.') {
			if (dots == 0)
				dot1 = in + i;
			else if (dots == 1)
				dot2 = in + i;
			dots++;
		} else if (!b64url_char(in[i])) {
			return fail(
				-EBADMSG, reason, reasonsz,
				"byte %zu (0x%02x) is not allowed in a JWS compact serialization "
				"(base64url and '.' only, no whitespace)",
				i, (unsigned char)in[i]);
		}
	}
	if (dots != 2)
		return fail(-EBADMSG, reason, reasonsz,
			    "a JWS compact serialization has 3 parts separated by '.', found %zu "
			    "(truncated?)",
			    dots + 1);
	hlen = dot1 - in;
	plen = dot2 - dot1 - 1;
	slen = len - (dot2 - in) - 1;
	if (hlen == 0 || plen == 0 || slen == 0)
		return fail(-EBADMSG, reason, reasonsz, "JWS %s part is empty",
			    hlen == 0	? "header"
			    : plen == 0 ? "payload"
					: "signature");

	raw = malloc(len + 1);
	if (!raw)
		return -ENOMEM;
	if (hlen > sts_b64url_len(HEADER_MAX) || sts_b64url_decode(in, hlen, raw, len, &n)) {
		err = fail(-EBADMSG, reason, reasonsz,
			   "JWS header is not canonical base64url (or longer than %d bytes)",
			   HEADER_MAX);
		goto cleanup;
	}
	err = parse_header((const char *)raw, n, jws, reason, reasonsz);
	if (err)
		goto cleanup;

	if (sts_b64url_decode(dot2 + 1, slen, raw, len, &n) || n != STS_ED25519_SIG_LEN) {
		err = fail(-EBADMSG, reason, reasonsz,
			   "JWS signature must be 64 bytes of Ed25519 in canonical base64url "
			   "(86 characters), got %zu characters (truncated?)",
			   slen);
		goto cleanup;
	}
	memcpy(jws->sig, raw, STS_ED25519_SIG_LEN);

	jws->payload = malloc(plen + 1);
	jws->signing_input = malloc(hlen + 1 + plen + 1);
	if (!jws->payload || !jws->signing_input) {
		err = -ENOMEM;
		goto cleanup;
	}
	if (sts_b64url_decode(dot1 + 1, plen, (uint8_t *)jws->payload, plen + 1, &n)) {
		err = fail(-EBADMSG, reason, reasonsz, "JWS payload is not canonical base64url");
		goto cleanup;
	}
	jws->payload[n] = '\0';
	jws->payload_len = n;
	jws->signing_input_len = hlen + 1 + plen;
	memcpy(jws->signing_input, in, jws->signing_input_len);
	jws->signing_input[jws->signing_input_len] = '\0';
cleanup:
	free(raw);
	if (err)
		sts_jws_free(jws);
	return err;
}

bool sts_jws_verify(const struct sts_jws *jws, const struct sts_key *key)
{
	char kid[STS_KID_LEN + 1];

	if (!jws->signing_input || !key->pkey || sts_kid(key->pub, kid) || strcmp(kid, jws->kid))
		return false;
	return sts_verify(key, jws->signing_input, jws->signing_input_len, jws->sig);
}

bool sts_jws_is_canonical(const struct sts_jws *jws, const char *in, size_t len)
{
	char header[HEADER_MAX], *buf;
	size_t hlen, plen, slen, off;
	bool same = false;

	if (header_json(jws->kid, jws->aid, jws->has_jwk ? jws->jwk : NULL, header, sizeof(header)))
		return false;
	hlen = sts_b64url_len(strlen(header));
	plen = sts_b64url_len(jws->payload_len);
	slen = sts_b64url_len(STS_ED25519_SIG_LEN);
	if (hlen + 1 + plen + 1 + slen != len)
		return false;
	buf = malloc(len + 1);
	if (!buf)
		return false;
	off = 0;
	if (sts_b64url_encode((const uint8_t *)header, strlen(header), buf, hlen + 1) == 0) {
		buf[hlen] = '.';
		off = hlen + 1;
	}
	if (off && sts_b64url_encode((const uint8_t *)jws->payload, jws->payload_len, buf + off,
				     plen + 1) == 0) {
		off += plen;
		buf[off++] = '.';
		if (sts_b64url_encode(jws->sig, STS_ED25519_SIG_LEN, buf + off, slen + 1) == 0)
			same = memcmp(buf, in, len) == 0;
	}
	free(buf);
	return same;
}

void sts_jws_free(struct sts_jws *jws)
{
	free(jws->payload);
	free(jws->signing_input);
	memset(jws, 0, sizeof(*jws));
}
