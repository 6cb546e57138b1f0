// SPDX-License-Identifier: GPL-2.0-only
/* libFuzzer harness: the C2SP checkpoint / signed-note parser and verifier. */
#include "evidence/note.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t pub[STS_ED25519_PUB_LEN] = {
		0xd7, 0x5a, 0x98, 0x01, 0x82, 0xb1, 0x0a, 0xb7, 0xd5, 0x4b, 0xfe,
		0xd3, 0xc9, 0x64, 0x07, 0x3a, 0x0e, 0xe1, 0x72, 0xf3, 0xda, 0xa6,
		0x23, 0x25, 0xaf, 0x02, 0x1a, 0x68, 0xf7, 0x07, 0x51, 0x1a,
	};
	struct sts_key key;
	struct checkpoint cp;
	size_t body;

	if (checkpoint_parse((const char *)data, size, &cp, &body) == 0) {
		if (body >= size || data[body] != '\n' || strlen(cp.origin) == 0)
			abort();
	}
	if (sts_key_from_raw_public(pub, &key) == 0) {
		checkpoint_verify((const char *)data, size, &key, &cp, NULL);
		sts_key_free(&key);
	}
	return 0;
}
