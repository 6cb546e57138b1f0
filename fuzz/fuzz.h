/* SPDX-License-Identifier: GPL-2.0-only */
/* Helpers shared by the libFuzzer harnesses (header only: each harness is one .c file). */
#ifndef STS_FUZZ_H
#define STS_FUZZ_H

#include "core/crypto.h"

#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/*
 * For harnesses whose parser reads a file (keys, seal state, the evidence log at open): the
 * input written to a private temporary file, whose path is returned. One file per process,
 * rewritten for every input.
 */
static inline const char *fuzz_file(const uint8_t *data, size_t size)
{
	static char path[64];
	static int fd = -1;

	if (fd < 0) {
		snprintf(path, sizeof(path), "/tmp/sts-fuzz-XXXXXX");
		fd = mkstemp(path);
		if (fd < 0)
			abort();
	}
	if (ftruncate(fd, 0) < 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();
	return path;
}

/* A fixed Ed25519 key (private half included) made from a one-byte seed, once per process. */
static inline const struct sts_key *fuzz_key(uint8_t seed_byte)
{
	static struct sts_key key;

	if (!key.pkey) {
		const uint8_t seed[32] = { seed_byte };
		size_t n = sizeof(key.pub);

		key.pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, sizeof(seed));
		key.has_private = true;
		EVP_PKEY_get_raw_public_key(key.pkey, key.pub, &n);
	}
	return &key;
}

#endif
