// SPDX-License-Identifier: GPL-2.0-only
/* libFuzzer harness: the monitor's check of the collector's answer (lib/receipt). */
#include "crypto.h"
#include "receipt.h"

#include <openssl/evp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sts_key key;
	char why[256], rsha[65];

	if (!key.pkey) {
		static const uint8_t seed[32] = { 1 };
		size_t n = sizeof(key.pub);

		key.pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, sizeof(seed));
		key.has_private = true;
		EVP_PKEY_get_raw_public_key(key.pkey, key.pub, &n);
	}
	/* Nothing the fuzzer makes is signed by the key: it must never be accepted. */
	if (sts_receipt_check((const char *)data, size, &key, "AAAAAAAAAAAAAAAAAAAAAA", "00", rsha,
			      why, sizeof(why)) == 0)
		abort();
	return 0;
}
