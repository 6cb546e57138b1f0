// SPDX-License-Identifier: GPL-2.0-only
/*
 * SHA-256 (FIPS 180-4) on two messages at once with the SHA extensions (sha256rnds2,
 * sha256msg1, sha256msg2). The state is kept as the instructions want it, ABEF and CDGH;
 * each group of four rounds takes four message words plus their constants, two rounds per
 * instruction. Messages are padded into a buffer on the stack (the leaf's 0x00 or the node's
 * 0x01 first), so the compression runs on whole blocks only.
 */
#include "evidence/sha2x.h"

#include <errno.h>
#include <string.h>

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>

/* Longest message hashed here (prefix and padding included); longer ones go to OpenSSL. */
#define SHA2X_MAX 1088

static const uint32_t K256[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
	0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
	0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
	0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
	0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
	0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
	0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
	0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
	0xc67178f2,
};

static const uint32_t H256[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
				  0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 };

#define SHA_TARGET __attribute__((target("sha,sse4.1,ssse3")))

/* One lane: its state as the instructions want it. */
struct lane {
	__m128i abef, cdgh;
};

static SHA_TARGET void lane_init(struct lane *l)
{
	__m128i dcba = _mm_loadu_si128((const __m128i *)&H256[0]);
	__m128i hgfe = _mm_loadu_si128((const __m128i *)&H256[4]);
	__m128i cdab = _mm_shuffle_epi32(dcba, 0xB1);
	__m128i efgh = _mm_shuffle_epi32(hgfe, 0x1B);

	l->abef = _mm_alignr_epi8(cdab, efgh, 8);
	l->cdgh = _mm_blend_epi16(efgh, cdab, 0xF0);
}

static SHA_TARGET void lane_out(const struct lane *l, uint8_t out[32])
{
	const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
	__m128i feba = _mm_shuffle_epi32(l->abef, 0x1B);
	__m128i dchg = _mm_shuffle_epi32(l->cdgh, 0xB1);
	__m128i dcba = _mm_blend_epi16(feba, dchg, 0xF0);
	__m128i hgfe = _mm_alignr_epi8(dchg, feba, 8);

	_mm_storeu_si128((__m128i *)out, _mm_shuffle_epi8(dcba, bswap));
	_mm_storeu_si128((__m128i *)(out + 16), _mm_shuffle_epi8(hgfe, bswap));
}

/* Four rounds with message group w (words 4g..4g+3, constants added here). */
#define ROUNDS4(abef, cdgh, w, g)                                                                \
	do {                                                                                     \
		__m128i k_ = _mm_add_epi32(w, _mm_loadu_si128((const __m128i *)&K256[4 * (g)])); \
		cdgh = _mm_sha256rnds2_epu32(cdgh, abef, k_);                                    \
		k_ = _mm_shuffle_epi32(k_, 0x0E);                                                \
		abef = _mm_sha256rnds2_epu32(abef, cdgh, k_);                                    \
	} while (0)

/*
 * The next message group from the four before it: W[t] = s1(W[t-2]) + W[t-7] + s0(W[t-15]) +
 * W[t-16]; msg1 adds s0 to W[t-16], the alignr brings W[t-7], msg2 adds s1.
 */
#define NEXT(m0, m1, m2, m3)  \
	_mm_sha256msg2_epu32( \
		_mm_add_epi32(_mm_sha256msg1_epu32(m0, m1), _mm_alignr_epi8(m3, m2, 4)), m3)

/*
 * One 64-byte block on each of two lanes, their instructions interleaved; everything in
 * locals, so that the compiler keeps both lanes in registers.
 */
static SHA_TARGET void blocks2(struct lane *la, const uint8_t *pa, struct lane *lb,
			       const uint8_t *pb)
{
	const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
	__m128i a0 = la->abef, a1 = la->cdgh, b0 = lb->abef, b1 = lb->cdgh;
	__m128i am[4], bm[4], wa, wb;
	int g;

	/* Unrolled: the message ring then lives in registers, not in memory. */
#pragma GCC unroll 4
	for (g = 0; g < 4; g++) {
		am[g] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(pa + 16 * g)), bswap);
		bm[g] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(pb + 16 * g)), bswap);
		ROUNDS4(a0, a1, am[g], g);
		ROUNDS4(b0, b1, bm[g], g);
	}
#pragma GCC unroll 12
	for (g = 4; g < 16; g++) {
		wa = NEXT(am[g & 3], am[(g + 1) & 3], am[(g + 2) & 3], am[(g + 3) & 3]);
		wb = NEXT(bm[g & 3], bm[(g + 1) & 3], bm[(g + 2) & 3], bm[(g + 3) & 3]);
		am[g & 3] = wa;
		bm[g & 3] = wb;
		ROUNDS4(a0, a1, wa, g);
		ROUNDS4(b0, b1, wb, g);
	}
	la->abef = _mm_add_epi32(a0, la->abef);
	la->cdgh = _mm_add_epi32(a1, la->cdgh);
	lb->abef = _mm_add_epi32(b0, lb->abef);
	lb->cdgh = _mm_add_epi32(b1, lb->cdgh);
}

/* prefix || data || 0x80 || zeros || bit length (64-bit big-endian): whole blocks. */
static size_t pad(uint8_t *buf, uint8_t prefix, const void *d1, size_t n1, const void *d2,
		  size_t n2)
{
	size_t n = 1 + n1 + n2, total = (n + 8) / 64 * 64 + 64;
	uint64_t bits = (uint64_t)n * 8;
	int i;

	buf[0] = prefix;
	memcpy(buf + 1, d1, n1);
	if (n2)
		memcpy(buf + 1 + n1, d2, n2);
	buf[n] = 0x80;
	memset(buf + n + 1, 0, total - n - 1 - 8);
	for (i = 0; i < 8; i++)
		buf[total - 1 - i] = (uint8_t)(bits >> (8 * i));
	return total;
}

/* Two padded messages; the longer one's extra blocks run beside a scratch lane. */
static SHA_TARGET void hash2(const uint8_t *a, size_t na, const uint8_t *b, size_t nb,
			     uint8_t outa[32], uint8_t outb[32])
{
	struct lane la, lb, scratch;
	size_t i;

	lane_init(&la);
	lane_init(&lb);
	lane_init(&scratch);
	for (i = 0; i < na && i < nb; i += 64)
		blocks2(&la, a + i, &lb, b + i);
	for (; i < na; i += 64)
		blocks2(&la, a + i, &scratch, a + i);
	for (; i < nb; i += 64)
		blocks2(&scratch, b + i, &lb, b + i);
	lane_out(&la, outa);
	lane_out(&lb, outb);
}

static int have_sha_ni(void)
{
	static int cached = -1;
	unsigned int a, b, c, d;
	int v = 0;

	if (cached >= 0)
		return cached;
	if (__get_cpuid(1, &a, &b, &c, &d) && (c & bit_SSSE3) && (c & bit_SSE4_1) &&
	    __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & bit_SHA))
		v = 1;
	__atomic_store_n(&cached, v, __ATOMIC_RELAXED);
	return v;
}

int sha2x_accelerated(void)
{
	return have_sha_ni();
}

int sha2x_leaf_hash(const void *a, size_t alen, const void *b, size_t blen, merkle_hash outa,
		    merkle_hash outb)
{
	uint8_t ba[SHA2X_MAX], bb[SHA2X_MAX];
	size_t na, nb;

	if (!have_sha_ni() || alen > SHA2X_MAX - 73 || blen > SHA2X_MAX - 73)
		return merkle_leaf_hash(a, alen, outa) ?: merkle_leaf_hash(b, blen, outb);
	na = pad(ba, 0x00, a, alen, NULL, 0);
	nb = pad(bb, 0x00, b, blen, NULL, 0);
	hash2(ba, na, bb, nb, outa, outb);
	return 0;
}

int sha2x_node_hash(const merkle_hash l0, const merkle_hash r0, const merkle_hash l1,
		    const merkle_hash r1, merkle_hash out0, merkle_hash out1)
{
	uint8_t b0[128], b1[128];

	if (!have_sha_ni())
		return merkle_node_hash(l0, r0, out0) ?: merkle_node_hash(l1, r1, out1);
	pad(b0, 0x01, l0, STS_SHA256_LEN, r0, STS_SHA256_LEN);
	pad(b1, 0x01, l1, STS_SHA256_LEN, r1, STS_SHA256_LEN);
	hash2(b0, sizeof(b0), b1, sizeof(b1), out0, out1);
	return 0;
}

#else /* not x86-64: OpenSSL, one at a time */

int sha2x_accelerated(void)
{
	return 0;
}

int sha2x_leaf_hash(const void *a, size_t alen, const void *b, size_t blen, merkle_hash outa,
		    merkle_hash outb)
{
	return merkle_leaf_hash(a, alen, outa) ?: merkle_leaf_hash(b, blen, outb);
}

int sha2x_node_hash(const merkle_hash l0, const merkle_hash r0, const merkle_hash l1,
		    const merkle_hash r1, merkle_hash out0, merkle_hash out1)
{
	return merkle_node_hash(l0, r0, out0) ?: merkle_node_hash(l1, r1, out1);
}

#endif
