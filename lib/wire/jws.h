/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * JWS compact serialization (RFC 7515) with EdDSA / Ed25519 (RFC 8037), the envelope of the
 * activation report (device key) and of the collector's receipt (collector key).
 *
 *	BASE64URL(header) "." BASE64URL(payload) "." BASE64URL(signature)
 *
 * The protected header is a JSON object with exactly these members:
 *	alg  "EdDSA", nothing else (no "none", no HMAC, no algorithm confusion)
 *	kid  the key id of the signing key, see sts_kid()
 *	aid  the activation id: 16 random bytes, base64url (22 characters); the collector keys
 *	     idempotency on it, and the receipt carries the aid of the report it acknowledges
 *	jwk  optional: {"kty":"OKP","crv":"Ed25519","x":BASE64URL(public key)}, the signer's
 *	     public key, so that a collector in trust-on-first-use mode can learn a new device
 *	     key; it must hash to kid
 * Anything else (unknown members such as "crit" or "typ", duplicate members, non-canonical
 * base64url, an empty payload, more or fewer than three parts) is rejected: the parser accepts
 * exactly one spelling of each message.
 *
 * Key id: kid = BASE64URL(first 16 bytes of SHA-256(raw 32-byte Ed25519 public key)),
 * 22 characters. It is a function of the key, so a kid can never name two keys (short of a
 * 128-bit collision), and anyone holding the public key can compute it.
 *
 * Functions return 0 or -errno; parse failures are -EBADMSG (or -EOPNOTSUPP for an alg other
 * than EdDSA) with a reason a person can act on. sts_jws_verify() returns bool.
 */
#ifndef STS_JWS_H
#define STS_JWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/crypto.h"

#define STS_KID_LEN 22
#define STS_AID_LEN 22
/* Longest compact serialization sts_jws_parse() accepts. */
#define STS_JWS_MAX 4096

/* Key id of a public key, NUL-terminated. */
int sts_kid(const uint8_t pub[STS_ED25519_PUB_LEN], char kid[STS_KID_LEN + 1]);
/* A fresh random activation id, NUL-terminated. */
int sts_aid_new(char aid[STS_AID_LEN + 1]);
/* True when s is a well-formed kid or aid: 22 characters, canonical base64url of 16 bytes. */
bool sts_id_valid(const char *s, size_t len);

/*
 * Sign payload with key (which must hold the private half). embed_jwk puts the public key in
 * the header. *out is a NUL-terminated heap string of *outlen bytes.
 */
int sts_jws_sign(const struct sts_key *key, const char *aid, bool embed_jwk, const void *payload,
		 size_t len, char **out, size_t *outlen);

struct sts_jws {
	char kid[STS_KID_LEN + 1];
	char aid[STS_AID_LEN + 1];
	bool has_jwk;
	uint8_t jwk[STS_ED25519_PUB_LEN]; /* valid when has_jwk */
	char *payload; /* decoded, NUL-terminated (may contain NULs) */
	size_t payload_len;
	char *signing_input; /* BASE64URL(header) "." BASE64URL(payload), NUL-terminated */
	size_t signing_input_len;
	uint8_t sig[STS_ED25519_SIG_LEN];
};

/*
 * Parse a compact serialization strictly, without checking the signature. On success the
 * caller owns jws and frees it with sts_jws_free(); on failure nothing is left to free.
 */
int sts_jws_parse(const char *in, size_t len, struct sts_jws *jws, char *reason, size_t reasonsz);

/*
 * True when key's kid is the header's kid and the signature over the signing input verifies.
 * The kid comparison comes first, so no signature math is done with a key the message does
 * not name.
 */
bool sts_jws_verify(const struct sts_jws *jws, const struct sts_key *key);

/*
 * True when in (len bytes) is the one compact serialization of jws that sts_jws_sign() would
 * write: the header's members in its order and spelling, no blank, canonical base64url in the
 * three parts (no chosen padding bits). The monitor approves only that spelling, so that no
 * byte of a report is the sender's free choice beyond the values it compares.
 */
bool sts_jws_is_canonical(const struct sts_jws *jws, const char *in, size_t len);

void sts_jws_free(struct sts_jws *jws);

#endif /* STS_JWS_H */
