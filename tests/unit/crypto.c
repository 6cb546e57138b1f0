// SPDX-License-Identifier: GPL-2.0-only
/* lib/core/crypto: encodings against RFC 4648 vectors, Ed25519 against RFC 8032, key files. */
#include "test.h"
#include "core/crypto.h"
#include "core/util.h"

#include <errno.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void test_crypto_base64(void)
{
	static const struct {
		const char *in, *std, *url;
	} v[] = {
		{ "", "", "" },
		{ "f", "Zg==", "Zg" },
		{ "fo", "Zm8=", "Zm8" },
		{ "foo", "Zm9v", "Zm9v" },
		{ "foob", "Zm9vYg==", "Zm9vYg" },
		{ "fooba", "Zm9vYmE=", "Zm9vYmE" },
		{ "foobar", "Zm9vYmFy", "Zm9vYmFy" },
		{ "\xfb\xff", "+/8=", "-_8" },
	};
	static const char *bad_std[] = { "Zg=", "Zg", "Z===", "Zh==", "Zm9v!", "=Zm9" };
	static const char *bad_url[] = { "Z", "Zh", "Zm+v", "Zg==", "Zm9vY" };
	char buf[64];
	uint8_t raw[64];
	size_t i, n;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		size_t len = strlen(v[i].in);

		ASSERT_OK(sts_b64_encode((const uint8_t *)v[i].in, len, buf, sizeof(buf)),
			  "b64 enc");
		ASSERT_STREQ(buf, v[i].std, "b64 vector");
		ASSERT_OK(sts_b64url_encode((const uint8_t *)v[i].in, len, buf, sizeof(buf)),
			  "b64url enc");
		ASSERT_STREQ(buf, v[i].url, "b64url vector");
		ASSERT_OK(sts_b64_decode(v[i].std, strlen(v[i].std), raw, sizeof(raw), &n),
			  "b64 dec");
		ASSERT_TRUE(n == len && memcmp(raw, v[i].in, len) == 0, "b64 round trip");
		ASSERT_OK(sts_b64url_decode(v[i].url, strlen(v[i].url), raw, sizeof(raw), &n),
			  "b64url dec");
		ASSERT_TRUE(n == len && memcmp(raw, v[i].in, len) == 0, "b64url round trip");
	}
	for (i = 0; i < sizeof(bad_std) / sizeof(bad_std[0]); i++)
		ASSERT_ERR(sts_b64_decode(bad_std[i], strlen(bad_std[i]), raw, sizeof(raw), &n),
			   bad_std[i]);
	for (i = 0; i < sizeof(bad_url) / sizeof(bad_url[0]); i++)
		ASSERT_ERR(sts_b64url_decode(bad_url[i], strlen(bad_url[i]), raw, sizeof(raw), &n),
			   bad_url[i]);
	ASSERT_EQ(sts_b64_encode((const uint8_t *)"foo", 3, buf, 4), -ENOSPC, "no room for NUL");
	ASSERT_EQ(sts_b64_decode("Zm9v", 4, raw, 2, &n), -ENOSPC, "decode overflow");
}

void test_crypto_hash_hex(void)
{
	uint8_t d[STS_SHA256_LEN], back[STS_SHA256_LEN];
	char hex[2 * STS_SHA256_LEN + 1];

	ASSERT_OK(sts_sha256("abc", 3, d), "sha256");
	sts_hex(d, sizeof(d), hex);
	ASSERT_STREQ(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
		     "sha256(abc) FIPS 180-2 vector");
	ASSERT_OK(sts_unhex(hex, strlen(hex), back, sizeof(back)), "unhex");
	ASSERT_MEMEQ(back, d, sizeof(d), "hex round trip");
	ASSERT_ERR(sts_unhex("zz", 2, back, 1), "unhex rejects non-hex");
	ASSERT_ERR(sts_unhex("abc", 3, back, 1), "unhex rejects odd length");
	/* RFC 4231 test case 2 */
	ASSERT_OK(
		sts_hmac_sha256((const uint8_t *)"Jefe", 4, "what do ya want for nothing?", 28, d),
		"hmac");
	sts_hex(d, sizeof(d), hex);
	ASSERT_STREQ(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
		     "hmac-sha256 RFC 4231 vector");
}

void test_crypto_ed25519(void)
{
	/* RFC 8032 section 7.1, TEST 1: empty message. */
	static const uint8_t pub[32] = {
		0xd7, 0x5a, 0x98, 0x01, 0x82, 0xb1, 0x0a, 0xb7, 0xd5, 0x4b, 0xfe,
		0xd3, 0xc9, 0x64, 0x07, 0x3a, 0x0e, 0xe1, 0x72, 0xf3, 0xda, 0xa6,
		0x23, 0x25, 0xaf, 0x02, 0x1a, 0x68, 0xf7, 0x07, 0x51, 0x1a,
	};
	static const char sig_hex[] =
		"e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
		"5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b";
	struct sts_key k = { 0 }, k2 = { 0 }, kp = { 0 };
	uint8_t sig[64];
	char priv[512], pubp[512];
	struct stat st;

	ASSERT_OK(sts_unhex(sig_hex, 128, sig, 64), "sig hex");
	ASSERT_OK(sts_key_from_raw_public(pub, &k), "raw public key");
	ASSERT_TRUE(sts_verify(&k, "", 0, sig), "RFC 8032 test 1 verifies");
	sig[10] ^= 1;
	ASSERT_FALSE(sts_verify(&k, "", 0, sig), "flipped bit fails");
	sts_key_free(&k);

	snprintf(priv, sizeof(priv), "%s/key", test__tmpdir());
	snprintf(pubp, sizeof(pubp), "%s/key.pub", test__tmpdir());
	if (!ASSERT_OK(sts_key_generate(priv, pubp, &k), "generate"))
		return;
	ASSERT_OK(stat(priv, &st), "stat private");
	ASSERT_EQ(st.st_mode & 0777, 0600, "private key mode 0600");
	ASSERT_EQ(sts_key_generate(priv, NULL, &k2), -EEXIST, "never overwrites a key");
	ASSERT_OK(sts_sign(&k, "msg", 3, sig), "sign");
	ASSERT_OK(sts_key_load_public(pubp, &kp), "load public");
	ASSERT_MEMEQ(kp.pub, k.pub, 32, "same public key");
	ASSERT_TRUE(sts_verify(&kp, "msg", 3, sig), "verify with loaded public key");
	ASSERT_FALSE(sts_verify(&kp, "msh", 3, sig), "other message fails");
	ASSERT_EQ(sts_sign(&kp, "msg", 3, sig), -EINVAL, "public key cannot sign");
	sts_key_free(&kp);
	ASSERT_OK(sts_key_load_private(priv, &kp), "load private");
	ASSERT_MEMEQ(kp.pub, k.pub, 32, "private key file holds the same key");
	sts_key_free(&kp);
	sts_key_free(&k);
}

/*
 * An encrypted key file is refused at once: no pass phrase is asked for on the terminal or
 * read from stdin (found by the key_load fuzz harness, whose runs stalled on the prompt).
 */
void test_crypto_encrypted_key_refused(void)
{
	EVP_PKEY *pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	char path[512], left[16] = "";
	struct sts_key key;
	int p[2], saved = dup(0);
	FILE *f;

	snprintf(path, sizeof(path), "%s/enc.pem", test__tmpdir());
	f = fopen(path, "w");
	if (!ASSERT_OK_PTR(f, "create the key file") || !ASSERT_OK_PTR(pkey, "a key"))
		goto cleanup;
	ASSERT_TRUE(PEM_write_PrivateKey(f, pkey, EVP_aes_256_cbc(), (unsigned char *)"secret", 6,
					 NULL, NULL),
		    "write it encrypted with a pass phrase");
	fclose(f);
	/* The pass phrase waits on stdin: loading must neither use nor consume it. */
	if (!ASSERT_OK(pipe(p), "pipe") || !ASSERT_EQ(write(p[1], "secret\n", 7), 7, "stdin"))
		goto cleanup;
	close(p[1]);
	dup2(p[0], 0);
	close(p[0]);
	ASSERT_EQ(sts_key_load_private(path, &key), -EBADMSG, "encrypted private key refused");
	ASSERT_EQ(sts_key_load_public(path, &key), -EBADMSG, "and as a public key file too");
	ASSERT_EQ(read(0, left, sizeof(left) - 1), 7, "stdin was not read");
	dup2(saved, 0);
cleanup:
	close(saved);
	EVP_PKEY_free(pkey);
}

/*
 * What a writer killed (or a power cut) during key generation leaves behind, and the next
 * start: a cut temporary file is no key; a private key without its public file gets it back.
 */
void test_crypto_key_generation_interrupted(void)
{
	char priv[512], pub[520], tmp[520], *a = NULL, *b = NULL;
	struct sts_key k = { 0 }, k2 = { 0 };
	size_t al, bl;
	bool created;
	FILE *f;

	snprintf(priv, sizeof(priv), "%s/device.key", test__tmpdir());
	snprintf(pub, sizeof(pub), "%s.pub", priv);
	snprintf(tmp, sizeof(tmp), "%s.tmp", priv);
	/* Killed while writing: half a PEM in the temporary file, no key under its name. */
	f = fopen(tmp, "w");
	if (!ASSERT_OK_PTR(f, "a cut temporary file"))
		return;
	fputs("-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2Vw", f);
	fclose(f);
	ASSERT_EQ(access(priv, F_OK), -1, "no key file before the rename");
	ASSERT_OK(sts_key_load_or_generate(priv, pub, &k, &created), "next start");
	ASSERT_TRUE(created, "a new key was made");
	ASSERT_EQ(access(tmp, F_OK), -1, "the temporary file is gone");
	ASSERT_OK(access(pub, F_OK), "with its public file");
	if (!ASSERT_OK(sts_read_file(pub, 4096, &a, &al), "read the public file"))
		goto cleanup;
	/* Killed between the two files: the private key is kept, its public file restored. */
	unlink(pub);
	ASSERT_OK(sts_key_load_or_generate(priv, pub, &k2, &created), "next start");
	ASSERT_FALSE(created, "the same key, not a new one");
	ASSERT_MEMEQ(k2.pub, k.pub, sizeof(k.pub), "same public key");
	ASSERT_OK(sts_read_file(pub, 4096, &b, &bl), "the public file is back");
	ASSERT_TRUE(a && b && al == bl && memcmp(a, b, al) == 0, "identical to the first one");
cleanup:
	free(a);
	free(b);
	sts_key_free(&k);
	sts_key_free(&k2);
}
