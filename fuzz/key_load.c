// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer harness: loading keys from files (the device key, the log key, the collector's
 * receipt key in stsd.conf, --trusted-keys): PEM public or private, or one line of base64. A
 * loaded key is an Ed25519 key whose public half is filled in.
 */
#include "core/crypto.h"

#include "fuzz.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t zero[STS_ED25519_PUB_LEN];
	const char *path = fuzz_file(data, size);
	struct sts_key key;

	if (sts_key_load_public(path, &key) == 0) {
		if (!key.pkey)
			abort();
		sts_key_free(&key);
	}
	if (sts_key_load_private(path, &key) == 0) {
		if (!key.pkey || !key.has_private || !memcmp(key.pub, zero, sizeof(zero)))
			abort();
		sts_key_free(&key);
	}
	return 0;
}
