// SPDX-License-Identifier: GPL-2.0-only
#include "core/crypto.h"
#include "core/util.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

/*
 * SHA-256 is on the evidence log's hot path (three or four hashes per record). EVP_sha256()
 * makes every EVP_DigestInit_ex() fetch the implementation again (a lock and a table lookup)
 * and EVP_Digest() allocates a context per call: fetch once per process, and keep one context
 * per thread (freed when the thread exits).
 */
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;
static pthread_key_t sha256_ctx_key;
static EVP_MD *sha256_md;

static void sha256_ctx_free(void *ctx)
{
	EVP_MD_CTX_free(ctx);
}

static void sha256_init_once(void)
{
	sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
	if (sha256_md && pthread_key_create(&sha256_ctx_key, sha256_ctx_free)) {
		EVP_MD_free(sha256_md);
		sha256_md = NULL;
	}
}

static EVP_MD_CTX *sha256_ctx(void)
{
	EVP_MD_CTX *ctx;

	if (pthread_once(&sha256_once, sha256_init_once) || !sha256_md)
		return NULL;
	ctx = pthread_getspecific(sha256_ctx_key);
	if (!ctx) {
		ctx = EVP_MD_CTX_new();
		if (ctx && pthread_setspecific(sha256_ctx_key, ctx)) {
			EVP_MD_CTX_free(ctx);
			ctx = NULL;
		}
	}
	if (ctx && EVP_DigestInit_ex2(ctx, sha256_md, NULL) != 1)
		ctx = NULL;
	return ctx;
}

int sts_sha256_parts(const struct sts_buf *parts, size_t n, uint8_t out[STS_SHA256_LEN])
{
	EVP_MD_CTX *ctx = sha256_ctx();
	size_t i;

	if (!ctx)
		return -EIO;
	for (i = 0; i < n; i++)
		if (parts[i].len && EVP_DigestUpdate(ctx, parts[i].p, parts[i].len) != 1)
			return -EIO;
	return EVP_DigestFinal_ex(ctx, out, NULL) == 1 ? 0 : -EIO;
}

int sts_sha256(const void *buf, size_t len, uint8_t out[STS_SHA256_LEN])
{
	struct sts_buf part = { buf, len };

	return sts_sha256_parts(&part, 1, out);
}

int sts_hmac_sha256(const uint8_t *key, size_t keylen, const void *buf, size_t len,
		    uint8_t out[STS_SHA256_LEN])
{
	unsigned int n = STS_SHA256_LEN;

	return HMAC(EVP_sha256(), key, (int)keylen, buf, len, out, &n) ? 0 : -EIO;
}

int sts_random(void *buf, size_t len)
{
	return RAND_bytes(buf, (int)len) == 1 ? 0 : -EIO;
}

void sts_wipe(void *buf, size_t len)
{
	OPENSSL_cleanse(buf, len);
}

void sts_hex(const uint8_t *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * len] = '\0';
}

/*
 * A table, not branches: hex digits are random, so branches mispredict half the time. It
 * holds the value + 1; 0 marks a non-digit.
 */
static const int8_t hex_values[256] = {
	['0'] = 1,  ['1'] = 2,	['2'] = 3,  ['3'] = 4,	['4'] = 5,  ['5'] = 6,
	['6'] = 7,  ['7'] = 8,	['8'] = 9,  ['9'] = 10, ['a'] = 11, ['b'] = 12,
	['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16, ['A'] = 11, ['B'] = 12,
	['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16,
};

static int hexval(char c)
{
	return hex_values[(unsigned char)c] - 1;
}

int sts_unhex(const char *in, size_t inlen, uint8_t *out, size_t outlen)
{
	size_t i;
	int hi, lo, bad = 0;

	if (inlen != 2 * outlen)
		return -EBADMSG;
	for (i = 0; i < outlen; i++) {
		hi = hexval(in[2 * i]);
		lo = hexval(in[2 * i + 1]);
		bad |= hi | lo; /* negative if either is not a digit */
		/* Masked before the shift: -1 << 4 is undefined (the value is discarded then). */
		out[i] = (uint8_t)((hi & 15) << 4 | (lo & 15));
	}
	return bad < 0 ? -EBADMSG : 0;
}

static const char b64_std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64_url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t sts_b64_len(size_t len)
{
	return (len + 2) / 3 * 4;
}

size_t sts_b64url_len(size_t len)
{
	return len / 3 * 4 + (len % 3 ? len % 3 + 1 : 0);
}

static int b64_encode(const char *alpha, bool pad, const uint8_t *in, size_t len, char *out,
		      size_t outsz)
{
	size_t need = pad ? sts_b64_len(len) : sts_b64url_len(len);
	size_t i, o = 0;
	uint32_t v;

	if (outsz < need + 1)
		return -ENOSPC;
	for (i = 0; i + 2 < len; i += 3) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		out[o++] = alpha[v >> 18 & 63];
		out[o++] = alpha[v >> 12 & 63];
		out[o++] = alpha[v >> 6 & 63];
		out[o++] = alpha[v & 63];
	}
	if (len - i == 1) {
		v = (uint32_t)in[i] << 16;
		out[o++] = alpha[v >> 18 & 63];
		out[o++] = alpha[v >> 12 & 63];
		if (pad) {
			out[o++] = '=';
			out[o++] = '=';
		}
	} else if (len - i == 2) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		out[o++] = alpha[v >> 18 & 63];
		out[o++] = alpha[v >> 12 & 63];
		out[o++] = alpha[v >> 6 & 63];
		if (pad)
			out[o++] = '=';
	}
	out[o] = '\0';
	return 0;
}

int sts_b64_encode(const uint8_t *in, size_t len, char *out, size_t outsz)
{
	return b64_encode(b64_std, true, in, len, out, outsz);
}

int sts_b64url_encode(const uint8_t *in, size_t len, char *out, size_t outsz)
{
	return b64_encode(b64_url, false, in, len, out, outsz);
}

static int b64_decode(const char *alpha, bool pad, const char *in, size_t len, uint8_t *out,
		      size_t outsz, size_t *outlen)
{
	uint32_t acc = 0;
	size_t i, o = 0, bits = 0, npad = 0;
	const char *p;

	if (pad) {
		if (len % 4)
			return -EBADMSG;
		while (npad < 2 && len > 0 && in[len - 1] == '=') {
			len--;
			npad++;
		}
		if (npad && (len + npad) % 4)
			return -EBADMSG;
	} else if (len % 4 == 1) {
		return -EBADMSG;
	}
	for (i = 0; i < len; i++) {
		if (in[i] == '\0' || !(p = strchr(alpha, in[i])))
			return -EBADMSG;
		acc = acc << 6 | (uint32_t)(p - alpha);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o >= outsz)
				return -ENOSPC;
			out[o++] = (uint8_t)(acc >> bits);
		}
	}
	/* Leftover bits must be zero: one encoding per value. */
	if (acc & ((1u << bits) - 1))
		return -EBADMSG;
	if (pad && npad != (3 - o % 3) % 3)
		return -EBADMSG;
	*outlen = o;
	return 0;
}

int sts_b64_decode(const char *in, size_t len, uint8_t *out, size_t outsz, size_t *outlen)
{
	return b64_decode(b64_std, true, in, len, out, outsz, outlen);
}

int sts_b64url_decode(const char *in, size_t len, uint8_t *out, size_t outsz, size_t *outlen)
{
	return b64_decode(b64_url, false, in, len, out, outsz, outlen);
}

static int key_fill_public(struct sts_key *key)
{
	size_t n = STS_ED25519_PUB_LEN;

	if (EVP_PKEY_get_id(key->pkey) != EVP_PKEY_ED25519)
		return -EBADMSG;
	if (!EVP_PKEY_get_raw_public_key(key->pkey, key->pub, &n) || n != STS_ED25519_PUB_LEN)
		return -EIO;
	return 0;
}

/*
 * Write a key file so that its name only ever shows a complete key: into path.tmp (a leftover
 * of a writer killed earlier is overwritten), fsync'd, then linked to path, which fails with
 * -EEXIST rather than replace a key. A crash or power cut at any point leaves either no key
 * file or a whole one, never the empty or cut file a next start could not load.
 */
static int write_pem(const char *path, mode_t mode, EVP_PKEY *pkey, bool priv)
{
	char tmp[PATH_MAX];
	FILE *f = NULL;
	int fd, err = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return -errno;
	if (fchmod(fd, mode) < 0 || !(f = fdopen(fd, "w"))) {
		err = -errno;
		close(fd);
		goto cleanup;
	}
	if (!(priv ? PEM_write_PrivateKey(f, pkey, NULL, NULL, 0, NULL, NULL)
		   : PEM_write_PUBKEY(f, pkey)))
		err = -EIO;
	if (!err && fflush(f) != 0)
		err = -errno;
	if (!err && fsync(fileno(f)) < 0)
		err = -errno;
	if (fclose(f) != 0 && !err)
		err = -errno;
	if (!err && link(tmp, path) < 0)
		err = -errno;
cleanup:
	unlink(tmp);
	if (!err)
		err = sts_fsync_dir_of(path);
	return err;
}

int sts_key_generate(const char *priv_path, const char *pub_path, struct sts_key *key)
{
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pkey = NULL;
	int err = 0;

	memset(key, 0, sizeof(*key));
	ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL);
	if (!ctx || EVP_PKEY_keygen_init(ctx) <= 0 || EVP_PKEY_keygen(ctx, &pkey) <= 0) {
		err = -EIO;
		goto cleanup;
	}
	err = write_pem(priv_path, 0600, pkey, true);
	if (err)
		goto cleanup;
	if (pub_path) {
		err = write_pem(pub_path, 0644, pkey, false);
		if (err) {
			unlink(priv_path);
			goto cleanup;
		}
	}
	key->pkey = pkey;
	key->has_private = true;
	pkey = NULL;
	err = key_fill_public(key);
cleanup:
	EVP_PKEY_free(pkey);
	EVP_PKEY_CTX_free(ctx);
	return err;
}

/*
 * The password callback for every PEM read: there is none. With NULL, OpenSSL's default asks
 * for a pass phrase on the terminal (or reads stdin), so an encrypted key file would block
 * the daemon or be unlocked by whatever is on its input. An encrypted key is refused.
 */
static int no_password(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

static int load_pem(const char *path, struct sts_key *key, bool priv)
{
	char *buf = NULL;
	size_t len;
	BIO *bio = NULL;
	int err;

	memset(key, 0, sizeof(*key));
	err = sts_read_file(path, 64 * 1024, &buf, &len);
	if (err)
		return err;
	bio = BIO_new_mem_buf(buf, (int)len);
	if (!bio) {
		err = -ENOMEM;
		goto cleanup;
	}
	if (priv) {
		key->pkey = PEM_read_bio_PrivateKey(bio, NULL, no_password, NULL);
		key->has_private = key->pkey != NULL;
	} else {
		key->pkey = PEM_read_bio_PUBKEY(bio, NULL, no_password, NULL);
		if (!key->pkey && strstr(buf, "PRIVATE KEY")) {
			BIO_free(bio);
			bio = BIO_new_mem_buf(buf, (int)len);
			key->pkey =
				bio ? PEM_read_bio_PrivateKey(bio, NULL, no_password, NULL) : NULL;
		}
		if (!key->pkey) {
			/* One line of base64 of the raw public key. */
			uint8_t raw[STS_ED25519_PUB_LEN + 1];
			size_t n = 0, l = len;

			while (l && (buf[l - 1] == '\n' || buf[l - 1] == '\r'))
				l--;
			if (!sts_b64_decode(buf, l, raw, sizeof(raw), &n) &&
			    n == STS_ED25519_PUB_LEN) {
				err = sts_key_from_raw_public(raw, key);
				goto cleanup;
			}
		}
	}
	if (!key->pkey) {
		/* OpenSSL queued why; a long-running process would keep it forever. */
		ERR_clear_error();
		err = -EBADMSG;
		goto cleanup;
	}
	err = key_fill_public(key);
	if (err)
		sts_key_free(key);
cleanup:
	BIO_free(bio);
	if (buf)
		sts_wipe(buf, len);
	free(buf);
	return err;
}

int sts_key_load_or_generate(const char *priv_path, const char *pub_path, struct sts_key *key,
			     bool *created)
{
	int err = sts_key_load_private(priv_path, key);

	*created = false;
	if (err == -ENOENT) {
		err = sts_key_generate(priv_path, pub_path, key);
		*created = err == 0;
		return err;
	}
	/* Killed between the two files: the public half is derived again from the private. */
	if (!err && pub_path && access(pub_path, F_OK) < 0 && errno == ENOENT) {
		err = write_pem(pub_path, 0644, key->pkey, false);
		if (err)
			sts_key_free(key);
	}
	return err;
}

int sts_key_load_private(const char *path, struct sts_key *key)
{
	return load_pem(path, key, true);
}

int sts_key_load_public(const char *path, struct sts_key *key)
{
	return load_pem(path, key, false);
}

int sts_key_from_raw_public(const uint8_t pub[STS_ED25519_PUB_LEN], struct sts_key *key)
{
	memset(key, 0, sizeof(*key));
	key->pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, STS_ED25519_PUB_LEN);
	if (!key->pkey)
		return -EBADMSG;
	memcpy(key->pub, pub, STS_ED25519_PUB_LEN);
	return 0;
}

void sts_key_free(struct sts_key *key)
{
	EVP_PKEY_free(key->pkey);
	memset(key, 0, sizeof(*key));
}

int sts_key_public_pem(const struct sts_key *key, char **pem)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data;
	long n;
	int err = 0;

	if (!bio)
		return -ENOMEM;
	if (!PEM_write_bio_PUBKEY(bio, key->pkey)) {
		err = -EIO;
		goto cleanup;
	}
	n = BIO_get_mem_data(bio, &data);
	*pem = malloc(n + 1);
	if (!*pem) {
		err = -ENOMEM;
		goto cleanup;
	}
	memcpy(*pem, data, n);
	(*pem)[n] = '\0';
cleanup:
	BIO_free(bio);
	return err;
}

int sts_sign(const struct sts_key *key, const void *msg, size_t len,
	     uint8_t sig[STS_ED25519_SIG_LEN])
{
	EVP_MD_CTX *ctx;
	size_t n = STS_ED25519_SIG_LEN;
	int err = 0;

	if (!key->has_private)
		return -EINVAL;
	ctx = EVP_MD_CTX_new();
	if (!ctx)
		return -ENOMEM;
	if (EVP_DigestSignInit(ctx, NULL, NULL, NULL, key->pkey) != 1 ||
	    EVP_DigestSign(ctx, sig, &n, msg, len) != 1 || n != STS_ED25519_SIG_LEN)
		err = -EIO;
	EVP_MD_CTX_free(ctx);
	return err;
}

bool sts_verify(const struct sts_key *key, const void *msg, size_t len,
		const uint8_t sig[STS_ED25519_SIG_LEN])
{
	EVP_MD_CTX *ctx;
	bool ok;

	if (!key->pkey)
		return false;
	ctx = EVP_MD_CTX_new();
	if (!ctx)
		return false;
	ok = EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, key->pkey) == 1 &&
	     EVP_DigestVerify(ctx, sig, STS_ED25519_SIG_LEN, msg, len) == 1;
	EVP_MD_CTX_free(ctx);
	return ok;
}
