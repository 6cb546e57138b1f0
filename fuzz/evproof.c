// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer harness: the proof parser. A proof that parses must format back to the very same
 * bytes (strict: one encoding per proof), and verifying it must not crash.
 */
#include "evidence/evproof.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t pub[STS_ED25519_PUB_LEN] = { 1 };
	struct sts_key key = { 0 };
	struct evproof p;
	char *text = NULL;

	if (evproof_parse((const char *)data, size, &p) != 0)
		return 0;
	if (evproof_format(&p, &text) != 0 || strlen(text) != size || memcmp(text, data, size))
		abort();
	free(text);
	if (sts_key_from_raw_public(pub, &key) == 0) {
		evproof_verify(&p, NULL, 0, &key, NULL);
		sts_key_free(&key);
	}
	evproof_free(&p);
	return 0;
}
