// SPDX-License-Identifier: GPL-2.0-only
/* libFuzzer harness: the strict base64 decoders must never overrun and must round-trip. */
#include "core/crypto.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t out[1024];
	char enc[1400];
	size_t n;

	if (size > 1300)
		return 0;
	if (sts_b64_decode((const char *)data, size, out, sizeof(out), &n) == 0) {
		if (sts_b64_encode(out, n, enc, sizeof(enc)) != 0 || strlen(enc) != size ||
		    memcmp(enc, data, size) != 0)
			abort(); /* strict decoding means exactly one encoding per value */
	}
	if (sts_b64url_decode((const char *)data, size, out, sizeof(out), &n) == 0) {
		if (sts_b64url_encode(out, n, enc, sizeof(enc)) != 0 || strlen(enc) != size ||
		    memcmp(enc, data, size) != 0)
			abort();
	}
	return 0;
}
