// SPDX-License-Identifier: GPL-2.0-only
/* lib/wire/jws: EdDSA compact serialization, signed and parsed strictly. */
#include "test.h"
#include "wire/jws.h"
#include "wire/report.h"

#include <stdio.h>
#include <stdlib.h>

static int new_key(const char *name, struct sts_key *key)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", test__tmpdir(), name);
	return sts_key_generate(path, NULL, key);
}

static char *b64url(const char *s)
{
	size_t n = sts_b64url_len(strlen(s)) + 1;
	char *out = malloc(n);

	if (out && sts_b64url_encode((const uint8_t *)s, strlen(s), out, n)) {
		free(out);
		out = NULL;
	}
	return out;
}

/* A JWS with a hand-written header, signed by key: for headers sts_jws_sign never writes. */
static char *forge(const struct sts_key *key, const char *header, const char *payload)
{
	char *h = b64url(header), *p = b64url(payload), *out = NULL, sigb[100];
	uint8_t sig[STS_ED25519_SIG_LEN];
	size_t n;

	if (!h || !p)
		goto cleanup;
	n = strlen(h) + strlen(p) + 2 + sizeof(sigb);
	out = malloc(n);
	if (!out)
		goto cleanup;
	snprintf(out, n, "%s.%s", h, p);
	if (sts_sign(key, out, strlen(out), sig) ||
	    sts_b64url_encode(sig, sizeof(sig), sigb, sizeof(sigb))) {
		free(out);
		out = NULL;
		goto cleanup;
	}
	strcat(out, ".");
	strcat(out, sigb);
cleanup:
	free(h);
	free(p);
	return out;
}

static void expect_refused(const char *jws, int want_err, const char *want, const char *name)
{
	struct sts_jws j;
	char reason[STS_REASON_MAX] = "";
	int err;

	err = sts_jws_parse(jws, strlen(jws), &j, reason, sizeof(reason));
	ASSERT_EQ(err, want_err, name);
	TEST__CHECK(strstr(reason, want) != NULL, name, "reason \"%s\" lacks \"%s\"", reason, want);
	if (!err)
		sts_jws_free(&j);
}

void test_jws_kid_aid(void)
{
	/* RFC 8032 test 1 public key; the kid is pinned so that a change of definition shows. */
	static const uint8_t pub[32] = {
		0xd7, 0x5a, 0x98, 0x01, 0x82, 0xb1, 0x0a, 0xb7, 0xd5, 0x4b, 0xfe,
		0xd3, 0xc9, 0x64, 0x07, 0x3a, 0x0e, 0xe1, 0x72, 0xf3, 0xda, 0xa6,
		0x23, 0x25, 0xaf, 0x02, 0x1a, 0x68, 0xf7, 0x07, 0x51, 0x1a,
	};
	uint8_t d[STS_SHA256_LEN];
	char kid[STS_KID_LEN + 1], want[STS_KID_LEN + 1], aid[STS_AID_LEN + 1],
		aid2[STS_AID_LEN + 1];

	ASSERT_OK(sts_kid(pub, kid), "kid");
	ASSERT_OK(sts_sha256(pub, 32, d), "sha256");
	ASSERT_OK(sts_b64url_encode(d, 16, want, sizeof(want)), "encode");
	ASSERT_STREQ(kid, want, "kid is base64url(SHA-256(pub)[0..16])");
	ASSERT_EQ(strlen(kid), 22, "kid length");
	ASSERT_OK(sts_aid_new(aid), "aid");
	ASSERT_OK(sts_aid_new(aid2), "aid 2");
	ASSERT_TRUE(strcmp(aid, aid2) != 0, "aids differ");
	ASSERT_TRUE(sts_id_valid(aid, strlen(aid)), "aid well-formed");
	ASSERT_FALSE(sts_id_valid("AAAAAAAAAAAAAAAAAAAAAB", 22), "non-zero trailing bits");
	ASSERT_FALSE(sts_id_valid("AAAAAAAAAAAAAAAAAAAA", 20), "short");
}

void test_jws_sign_parse(void)
{
	static const char payload[] =
		"{\"imei\":\"490154203237518\",\"model\":\"m\",\"sw_version\":\"1\"}";
	struct sts_key k = { 0 }, other = { 0 }, pub = { 0 };
	char aid[STS_AID_LEN + 1], kid[STS_KID_LEN + 1], reason[STS_REASON_MAX], *s = NULL,
										 *s2 = NULL;
	struct sts_jws j;
	size_t n, n2;

	if (!ASSERT_OK(new_key("dev", &k), "key") || !ASSERT_OK(new_key("other", &other), "key 2"))
		goto cleanup;
	ASSERT_OK(sts_key_from_raw_public(k.pub, &pub), "public half");
	ASSERT_OK(sts_kid(k.pub, kid), "kid");
	ASSERT_OK(sts_aid_new(aid), "aid");
	if (!ASSERT_OK(sts_jws_sign(&k, aid, true, payload, strlen(payload), &s, &n), "sign"))
		goto cleanup;
	ASSERT_EQ(strlen(s), n, "length");
	ASSERT_OK(sts_jws_sign(&k, aid, true, payload, strlen(payload), &s2, &n2), "sign again");
	ASSERT_STREQ(s2, s, "Ed25519 is deterministic: same report, same bytes");
	free(s2);
	s2 = NULL;
	if (!ASSERT_OK(sts_jws_parse(s, n, &j, reason, sizeof(reason)), "parse"))
		goto cleanup;
	ASSERT_STREQ(j.kid, kid, "kid in header");
	ASSERT_STREQ(j.aid, aid, "aid in header");
	ASSERT_TRUE(j.has_jwk, "jwk present");
	ASSERT_MEMEQ(j.jwk, k.pub, 32, "jwk is the key");
	ASSERT_STREQ(j.payload, payload, "payload");
	ASSERT_TRUE(sts_jws_verify(&j, &pub), "verifies with the public key");
	ASSERT_FALSE(sts_jws_verify(&j, &other), "another key (other kid) does not");
	j.sig[0] ^= 1;
	ASSERT_FALSE(sts_jws_verify(&j, &pub), "flipped signature bit");
	sts_jws_free(&j);

	/* Without jwk; a tampered payload keeps parsing but no longer verifies. */
	free(s);
	ASSERT_OK(sts_jws_sign(&k, aid, false, payload, strlen(payload), &s, &n), "sign, no jwk");
	ASSERT_OK(sts_jws_parse(s, n, &j, reason, sizeof(reason)), "parse, no jwk");
	ASSERT_FALSE(j.has_jwk, "no jwk");
	sts_jws_free(&j);
	{
		char *dot = strchr(s, '.') + 1;

		dot[3] = dot[3] == 'A' ? 'B' : 'A';
		ASSERT_OK(sts_jws_parse(s, n, &j, reason, sizeof(reason)), "tampered parses");
		ASSERT_FALSE(sts_jws_verify(&j, &pub), "tampered payload fails");
		sts_jws_free(&j);
	}
	ASSERT_EQ(sts_jws_sign(&pub, aid, false, "x", 1, &s2, &n2), -EINVAL,
		  "a public key cannot sign");
	ASSERT_EQ(sts_jws_sign(&k, "short", false, "x", 1, &s2, &n2), -EINVAL, "bad aid");
cleanup:
	free(s);
	free(s2);
	sts_key_free(&k);
	sts_key_free(&other);
	sts_key_free(&pub);
}

void test_jws_strict(void)
{
	struct sts_key k = { 0 };
	char aid[STS_AID_LEN + 1], kid[STS_KID_LEN + 1], hdr[512], *s = NULL, *t;
	size_t n;

	if (!ASSERT_OK(new_key("dev", &k), "key"))
		return;
	sts_kid(k.pub, kid);
	sts_aid_new(aid);
	ASSERT_OK(sts_jws_sign(&k, aid, false, "{}", 2, &s, &n), "sign");

	expect_refused("", -EBADMSG, "empty", "empty");
	s[n - 10] = '\0';
	expect_refused(s, -EBADMSG, "signature must be 64 bytes", "truncated signature");
	*strrchr(s, '.') = '\0';
	expect_refused(s, -EBADMSG, "found 2", "truncated to two parts");
	free(s);
	ASSERT_OK(sts_jws_sign(&k, aid, false, "{}", 2, &s, &n), "sign");
	t = malloc(n + 2);
	snprintf(t, n + 2, "%s\n", s);
	expect_refused(t, -EBADMSG, "0x0a", "trailing newline");
	snprintf(t, n + 2, "%s.", s);
	expect_refused(t, -EBADMSG, "found 4", "four parts");
	free(t);

	snprintf(hdr, sizeof(hdr), "{\"alg\":\"HS256\",\"kid\":\"%s\",\"aid\":\"%s\"}", kid, aid);
	t = forge(&k, hdr, "{}");
	expect_refused(t, -EOPNOTSUPP, "\"HS256\" is not accepted", "alg HS256");
	free(t);
	snprintf(hdr, sizeof(hdr), "{\"alg\":\"none\",\"kid\":\"%s\",\"aid\":\"%s\"}", kid, aid);
	t = forge(&k, hdr, "{}");
	expect_refused(t, -EOPNOTSUPP, "\"none\" is not accepted", "alg none");
	free(t);
	snprintf(hdr, sizeof(hdr), "{\"alg\":\"EdDSA\",\"kid\":\"%s\",\"aid\":\"%s\",\"crit\":[]}",
		 kid, aid);
	t = forge(&k, hdr, "{}");
	expect_refused(t, -EBADMSG, "\"crit\" is not allowed", "crit");
	free(t);
	snprintf(hdr, sizeof(hdr),
		 "{\"alg\":\"EdDSA\",\"kid\":\"%s\",\"kid\":\"%s\",\"aid\":\"%s\"}", kid, kid, aid);
	t = forge(&k, hdr, "{}");
	expect_refused(t, -EBADMSG, "not valid JSON", "duplicate header member");
	free(t);
	snprintf(hdr, sizeof(hdr), "{\"alg\":\"EdDSA\",\"kid\":\"%s\",\"aid\":\"x\"}", kid);
	t = forge(&k, hdr, "{}");
	expect_refused(t, -EBADMSG, "\"aid\" must be", "bad aid");
	free(t);
	snprintf(hdr, sizeof(hdr),
		 "{\"alg\":\"EdDSA\",\"kid\":\"AAAAAAAAAAAAAAAAAAAAAA\",\"aid\":\"%s\",\"jwk\":"
		 "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"11qYAYKxCrfVS_"
		 "7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}}",
		 aid);
	t = forge(&k, hdr, "{}");
	expect_refused(t, -EBADMSG, "does not match", "jwk not matching kid");
	free(t);
	t = forge(&k, "{\"alg\":\"EdDSA\"", "{}");
	expect_refused(t, -EBADMSG, "not valid JSON", "truncated header");
	free(t);
	free(s);
	sts_key_free(&k);
}
