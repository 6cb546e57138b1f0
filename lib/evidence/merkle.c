// SPDX-License-Identifier: GPL-2.0-only
/*
 * Leaf and node hashes are the verifier's and the writer's hot path (one leaf and about one
 * node per record, most of them short inputs): OpenSSL's SHA256_* functions run the same
 * block code (SHA-NI where the CPU has it) as EVP, without EVP's per-call context reset,
 * which on short inputs costs more than the hash itself. They are deprecated in OpenSSL 3
 * but kept; anything else still goes through sts_sha256().
 */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

#include "evidence/merkle.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int hash2(uint8_t prefix, const void *a, size_t alen, const void *b, size_t blen,
		 merkle_hash out)
{
	SHA256_CTX c;

	if (!SHA256_Init(&c) || !SHA256_Update(&c, &prefix, 1) ||
	    (alen && !SHA256_Update(&c, a, alen)) || (blen && !SHA256_Update(&c, b, blen)) ||
	    !SHA256_Final(out, &c))
		return -EIO;
	return 0;
}

int merkle_leaf_hash(const void *data, size_t len, merkle_hash out)
{
	return hash2(0x00, data, len, NULL, 0, out);
}

int merkle_node_hash(const merkle_hash left, const merkle_hash right, merkle_hash out)
{
	uint8_t buf[1 + 2 * STS_SHA256_LEN];
	SHA256_CTX c;

	/*
	 * One contiguous input, one update. Not OpenSSL 3's SHA256(): it fetches the digest
	 * (a lock, a free) on every call, which costs more than the two blocks.
	 */
	buf[0] = 0x01;
	memcpy(buf + 1, left, STS_SHA256_LEN);
	memcpy(buf + 1 + STS_SHA256_LEN, right, STS_SHA256_LEN);
	if (!SHA256_Init(&c) || !SHA256_Update(&c, buf, sizeof(buf)) || !SHA256_Final(out, &c))
		return -EIO;
	return 0;
}

void merkle_range_init(struct merkle_range *r)
{
	memset(r, 0, sizeof(*r));
}

int merkle_range_append(struct merkle_range *r, const merkle_hash leaf)
{
	return merkle_range_append_subtree(r, leaf, 0);
}

int merkle_range_append_subtree(struct merkle_range *r, const merkle_hash h, unsigned int height)
{
	uint64_t s;
	int err;

	if (height > 62 || r->size & ((1ull << height) - 1))
		return -EINVAL;
	if (r->size + (1ull << height) > UINT64_MAX >> 1)
		return -EOVERFLOW;
	memcpy(r->hashes[r->n++], h, STS_SHA256_LEN);
	/* Like adding 2^height to a binary counter: each carry merges two equal subtrees. */
	for (s = r->size >> height; s & 1; s >>= 1) {
		err = merkle_node_hash(r->hashes[r->n - 2], r->hashes[r->n - 1],
				       r->hashes[r->n - 2]);
		if (err)
			return err;
		r->n--;
	}
	r->size += 1ull << height;
	return 0;
}

int merkle_range_root(const struct merkle_range *r, merkle_hash root)
{
	merkle_hash acc;
	unsigned int i;
	int err;

	if (r->n == 0)
		return sts_sha256("", 0, root);
	/* The rightmost subtrees are the deepest-nested right children: fold right to left. */
	memcpy(acc, r->hashes[r->n - 1], STS_SHA256_LEN);
	for (i = r->n - 1; i > 0; i--) {
		err = merkle_node_hash(r->hashes[i - 1], acc, acc);
		if (err)
			return err;
	}
	memcpy(root, acc, STS_SHA256_LEN);
	return 0;
}

/* Largest power of two strictly smaller than n (n >= 2). */
static uint64_t split(uint64_t n)
{
	uint64_t k = 1;

	while (k << 1 < n)
		k <<= 1;
	return k;
}

int merkle_tree_build(const merkle_hash *leaves, uint64_t n, struct merkle_tree *t)
{
	uint64_t w;
	unsigned int h;
	int err = 0;

	memset(t, 0, sizeof(*t));
	if (n > UINT64_MAX >> 8)
		return -EINVAL;
	t->n = n;
	t->levels[0] = (merkle_hash *)leaves;
	/* levels[h][i]: root of the perfect subtree of leaves [i * 2^h, (i + 1) * 2^h). */
	for (h = 1, w = n / 2; w; h++, w /= 2) {
		uint64_t i;

		t->levels[h] = malloc(w * sizeof(merkle_hash));
		if (!t->levels[h]) {
			err = -ENOMEM;
			break;
		}
		t->nlevels = h + 1;
		for (i = 0; i < w && !err; i++)
			err = merkle_node_hash(t->levels[h - 1][2 * i], t->levels[h - 1][2 * i + 1],
					       t->levels[h][i]);
	}
	if (!t->nlevels)
		t->nlevels = 1;
	if (err)
		merkle_tree_free(t);
	return err;
}

void merkle_tree_free(struct merkle_tree *t)
{
	unsigned int h;

	for (h = 1; h < t->nlevels; h++)
		free(t->levels[h]);
	memset(t, 0, sizeof(*t));
}

/*
 * MTH(D[start:start+n]) of RFC 9162, n >= 1. The recursion only ever asks for left subtrees
 * that are perfect and aligned, found in the levels; right edges recurse: O(log^2 n).
 */
static int mth(const struct merkle_tree *t, uint64_t start, uint64_t n, merkle_hash out)
{
	merkle_hash l, r;
	unsigned int h;
	uint64_t k;
	int err;

	if ((n & (n - 1)) == 0) {
		h = (unsigned int)__builtin_ctzll(n);
		memcpy(out, t->levels[h][start >> h], STS_SHA256_LEN);
		return 0;
	}
	k = split(n);
	err = mth(t, start, k, l);
	if (!err)
		err = mth(t, start + k, n - k, r);
	if (!err)
		err = merkle_node_hash(l, r, out);
	return err;
}

int merkle_root(const merkle_hash *leaves, uint64_t n, merkle_hash root)
{
	struct merkle_range r;
	uint64_t i;
	int err = 0;

	merkle_range_init(&r);
	for (i = 0; i < n && !err; i++)
		err = merkle_range_append(&r, leaves[i]);
	return err ? err : merkle_range_root(&r, root);
}

/* PATH(m, D[start:start+n]) of RFC 9162 2.1.3.1, appended bottom-up to proof. */
static int path(const struct merkle_tree *t, uint64_t start, uint64_t n, uint64_t m,
		merkle_hash *proof, size_t *plen)
{
	uint64_t k;
	int err;

	if (n <= 1)
		return 0;
	k = split(n);
	if (m < k) {
		err = path(t, start, k, m, proof, plen);
		if (!err)
			err = mth(t, start + k, n - k, proof[(*plen)++]);
	} else {
		err = path(t, start + k, n - k, m - k, proof, plen);
		if (!err)
			err = mth(t, start, k, proof[(*plen)++]);
	}
	return err;
}

int merkle_inclusion_proof(const struct merkle_tree *t, uint64_t size, uint64_t index,
			   merkle_hash proof[MERKLE_MAX_PROOF], size_t *plen)
{
	*plen = 0;
	if (index >= size || size > t->n)
		return -EINVAL;
	return path(t, 0, size, index, proof, plen);
}

bool merkle_inclusion_verify(uint64_t index, uint64_t size, const merkle_hash leaf,
			     const merkle_hash *proof, size_t plen, const merkle_hash root)
{
	uint64_t fn = index, sn;
	merkle_hash r;
	size_t i;

	if (index >= size)
		return false;
	sn = size - 1;
	memcpy(r, leaf, STS_SHA256_LEN);
	for (i = 0; i < plen; i++) {
		if (sn == 0)
			return false;
		if ((fn & 1) || fn == sn) {
			if (merkle_node_hash(proof[i], r, r))
				return false;
			while (!(fn & 1) && fn != 0) {
				fn >>= 1;
				sn >>= 1;
			}
		} else if (merkle_node_hash(r, proof[i], r)) {
			return false;
		}
		fn >>= 1;
		sn >>= 1;
	}
	return sn == 0 && memcmp(r, root, STS_SHA256_LEN) == 0;
}

/* SUBPROOF(m, D[start:start+n], b) of RFC 9162 2.1.4.1. */
static int subproof(const struct merkle_tree *t, uint64_t start, uint64_t n, uint64_t m, bool b,
		    merkle_hash *proof, size_t *plen)
{
	uint64_t k;
	int err;

	if (m == n) {
		if (!b)
			return mth(t, start, n, proof[(*plen)++]);
		return 0;
	}
	k = split(n);
	if (m <= k) {
		err = subproof(t, start, k, m, b, proof, plen);
		if (!err)
			err = mth(t, start + k, n - k, proof[(*plen)++]);
	} else {
		err = subproof(t, start + k, n - k, m - k, false, proof, plen);
		if (!err)
			err = mth(t, start, k, proof[(*plen)++]);
	}
	return err;
}

int merkle_consistency_proof(const struct merkle_tree *t, uint64_t old_size, uint64_t new_size,
			     merkle_hash proof[MERKLE_MAX_PROOF], size_t *plen)
{
	*plen = 0;
	if (old_size == 0 || old_size > new_size || new_size > t->n)
		return -EINVAL;
	return subproof(t, 0, new_size, old_size, true, proof, plen);
}

bool merkle_consistency_verify(uint64_t old_size, uint64_t new_size, const merkle_hash old_root,
			       const merkle_hash new_root, const merkle_hash *proof, size_t plen)
{
	merkle_hash fr, sr;
	uint64_t fn, sn;
	size_t i = 0;

	if (old_size == 0 || old_size > new_size)
		return false;
	if (old_size == new_size)
		return plen == 0 && memcmp(old_root, new_root, STS_SHA256_LEN) == 0;
	if (plen == 0)
		return false;
	fn = old_size - 1;
	sn = new_size - 1;
	/* An old tree that is a perfect subtree is its own first proof node. */
	if ((old_size & (old_size - 1)) == 0) {
		memcpy(fr, old_root, STS_SHA256_LEN);
	} else {
		memcpy(fr, proof[0], STS_SHA256_LEN);
		i = 1;
	}
	memcpy(sr, fr, STS_SHA256_LEN);
	while (fn & 1) {
		fn >>= 1;
		sn >>= 1;
	}
	for (; i < plen; i++) {
		if (sn == 0)
			return false;
		if ((fn & 1) || fn == sn) {
			if (merkle_node_hash(proof[i], fr, fr) ||
			    merkle_node_hash(proof[i], sr, sr))
				return false;
			while (!(fn & 1) && fn != 0) {
				fn >>= 1;
				sn >>= 1;
			}
		} else if (merkle_node_hash(sr, proof[i], sr)) {
			return false;
		}
		fn >>= 1;
		sn >>= 1;
	}
	return sn == 0 && memcmp(fr, old_root, STS_SHA256_LEN) == 0 &&
	       memcmp(sr, new_root, STS_SHA256_LEN) == 0;
}
