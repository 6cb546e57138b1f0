/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The cryptography stsguard needs, on top of OpenSSL's libcrypto: SHA-256, HMAC-SHA256,
 * base64 (standard and URL-safe, strict decoding), Ed25519 keys and signatures, and a
 * CSPRNG. Used by the monitor, the collector and the off-device verifier alike; it does not
 * depend on libbpf so that an auditor can build the verifier anywhere.
 *
 * Functions return 0 or -errno (-EBADMSG for malformed input, -EIO for a libcrypto failure);
 * sts_verify() returns bool.
 */
#ifndef STS_CRYPTO_H
#define STS_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STS_SHA256_LEN 32
#define STS_ED25519_PUB_LEN 32
#define STS_ED25519_SIG_LEN 64

int sts_sha256(const void *buf, size_t len, uint8_t out[STS_SHA256_LEN]);
/* SHA-256 of the concatenation of n buffers. */
struct sts_buf {
	const void *p;
	size_t len;
};
int sts_sha256_parts(const struct sts_buf *parts, size_t n, uint8_t out[STS_SHA256_LEN]);
int sts_hmac_sha256(const uint8_t *key, size_t keylen, const void *buf, size_t len,
		    uint8_t out[STS_SHA256_LEN]);
int sts_random(void *buf, size_t len);
/* Erase a secret in a way the compiler may not optimise away. */
void sts_wipe(void *buf, size_t len);

/* Lowercase hex; out must hold 2 * len + 1 bytes. */
void sts_hex(const uint8_t *in, size_t len, char *out);
/* Strict: exactly 2 * outlen hex digits. */
int sts_unhex(const char *in, size_t inlen, uint8_t *out, size_t outlen);

/* Encoded length, without the terminating NUL which the encoders also write. */
size_t sts_b64_len(size_t len); /* standard alphabet, '=' padding */
size_t sts_b64url_len(size_t len); /* URL-safe alphabet, no padding (RFC 7515) */
int sts_b64_encode(const uint8_t *in, size_t len, char *out, size_t outsz);
int sts_b64url_encode(const uint8_t *in, size_t len, char *out, size_t outsz);
/*
 * Strict decoders: reject characters outside the alphabet, wrong padding and non-zero
 * trailing bits, so every value has exactly one encoding.
 */
int sts_b64_decode(const char *in, size_t len, uint8_t *out, size_t outsz, size_t *outlen);
int sts_b64url_decode(const char *in, size_t len, uint8_t *out, size_t outsz, size_t *outlen);

struct sts_key {
	void *pkey; /* EVP_PKEY * */
	bool has_private;
	uint8_t pub[STS_ED25519_PUB_LEN];
};

/*
 * Create a new Ed25519 key pair: the private key as PKCS#8 PEM, mode 0600, the public key as
 * SubjectPublicKeyInfo PEM (mode 0644), each fsync'd and then linked into place, so that a
 * key file is either absent or whole. Fails with -EEXIST rather than overwrite a key.
 * pub_path may be NULL.
 */
int sts_key_generate(const char *priv_path, const char *pub_path, struct sts_key *key);
int sts_key_load_private(const char *path, struct sts_key *key);
/*
 * Load the private key, or create the pair if there is none (*created says which); a missing
 * public file next to an existing private key is written again.
 */
int sts_key_load_or_generate(const char *priv_path, const char *pub_path, struct sts_key *key,
			     bool *created);
/* Accepts a PEM public key, a PEM private key, or one line of base64 of the raw 32 bytes. */
int sts_key_load_public(const char *path, struct sts_key *key);
int sts_key_from_raw_public(const uint8_t pub[STS_ED25519_PUB_LEN], struct sts_key *key);
void sts_key_free(struct sts_key *key);
/* PEM of the public key into a heap string. */
int sts_key_public_pem(const struct sts_key *key, char **pem);

int sts_sign(const struct sts_key *key, const void *msg, size_t len,
	     uint8_t sig[STS_ED25519_SIG_LEN]);
bool sts_verify(const struct sts_key *key, const void *msg, size_t len,
		const uint8_t sig[STS_ED25519_SIG_LEN]);

#endif /* STS_CRYPTO_H */
