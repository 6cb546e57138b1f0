/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * RFC 9162 Merkle trees over SHA-256: leaf = SHA-256(0x00 || data), node = SHA-256(0x01 || l
 * || r), the root of the empty tree is SHA-256(""). A compact range (one hash per set bit of
 * the size) lets the log writer and the verifier keep the root up to date in O(log n) memory;
 * proofs are generated from the perfect subtrees of the full list of leaf hashes and verified with
 * the algorithms of RFC 9162 sections 2.1.3.2 and 2.1.4.2.
 *
 * Functions return 0 or -errno (-EINVAL for impossible sizes); the *_verify ones return bool.
 */
#ifndef STS_MERKLE_H
#define STS_MERKLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/crypto.h"

/* A proof for a tree of fewer than 2^63 leaves never has more hashes than this. */
#define MERKLE_MAX_PROOF 64

typedef uint8_t merkle_hash[STS_SHA256_LEN];

int merkle_leaf_hash(const void *data, size_t len, merkle_hash out);
int merkle_node_hash(const merkle_hash left, const merkle_hash right, merkle_hash out);

/*
 * The perfect subtrees that make up a tree of `size` leaves, largest (leftmost) first:
 * hashes[i] covers the i-th set bit of size counted from the most significant one.
 */
struct merkle_range {
	uint64_t size;
	unsigned int n;
	merkle_hash hashes[64];
};

void merkle_range_init(struct merkle_range *r);
int merkle_range_append(struct merkle_range *r, const merkle_hash leaf);
/* Append a perfect subtree of 2^height leaves; r->size must be a multiple of 2^height. */
int merkle_range_append_subtree(struct merkle_range *r, const merkle_hash h, unsigned int height);
int merkle_range_root(const struct merkle_range *r, merkle_hash root);

/* Root of leaves[0..n). */
int merkle_root(const merkle_hash *leaves, uint64_t n, merkle_hash root);

/*
 * Every perfect subtree of a list of leaves (about 2n hashes), so that a proof costs
 * O(log^2 n) hashes instead of O(n). levels[0] is the caller's leaves array (kept, not
 * copied: it must outlive the tree).
 */
struct merkle_tree {
	uint64_t n;
	unsigned int nlevels;
	merkle_hash *levels[64];
};

int merkle_tree_build(const merkle_hash *leaves, uint64_t n, struct merkle_tree *t);
void merkle_tree_free(struct merkle_tree *t);

/* Inclusion proof of leaf `index` in the tree of the first `size` (<= t->n) leaves. */
int merkle_inclusion_proof(const struct merkle_tree *t, uint64_t size, uint64_t index,
			   merkle_hash proof[MERKLE_MAX_PROOF], size_t *plen);
bool merkle_inclusion_verify(uint64_t index, uint64_t size, const merkle_hash leaf,
			     const merkle_hash *proof, size_t plen, const merkle_hash root);

/* Consistency proof between the trees of the first `old_size` and `new_size` leaves. */
int merkle_consistency_proof(const struct merkle_tree *t, uint64_t old_size, uint64_t new_size,
			     merkle_hash proof[MERKLE_MAX_PROOF], size_t *plen);
bool merkle_consistency_verify(uint64_t old_size, uint64_t new_size, const merkle_hash old_root,
			       const merkle_hash new_root, const merkle_hash *proof, size_t plen);

#endif /* STS_MERKLE_H */
