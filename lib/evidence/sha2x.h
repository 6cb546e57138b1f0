/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Two SHA-256 hashes at once, for the verifier's leaves and tree nodes. With the x86 SHA
 * extensions one message is bound by the latency of the round instruction; two independent
 * messages interleaved fill its pipeline, so a pair costs little more than one. Where the
 * CPU (or the build: not x86-64) has no SHA extensions, or a message is long, each hash is
 * OpenSSL's, as everywhere else. The results are SHA-256, bit for bit (tests/unit: every
 * length against OpenSSL).
 */
#ifndef STS_SHA2X_H
#define STS_SHA2X_H

#include <stddef.h>
#include <stdint.h>

#include "evidence/merkle.h"

/* leaf(a), leaf(b) as merkle_leaf_hash(): SHA-256(0x00 || data). 0 or -EIO. */
int sha2x_leaf_hash(const void *a, size_t alen, const void *b, size_t blen, merkle_hash outa,
		    merkle_hash outb);
/* node(l0, r0), node(l1, r1) as merkle_node_hash(): SHA-256(0x01 || l || r). */
int sha2x_node_hash(const merkle_hash l0, const merkle_hash r0, const merkle_hash l1,
		    const merkle_hash r1, merkle_hash out0, merkle_hash out1);
/* Whether the two-lane code runs here (tests: else they check only the fallback). */
int sha2x_accelerated(void);

#endif /* STS_SHA2X_H */
