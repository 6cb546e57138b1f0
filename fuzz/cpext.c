// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer harness: the format 2 checkpoint extension lines (cpext.h) and C2SP witness
 * cosignatures, as `stsctl verify` reads them from a log or a kept checkpoint file.
 */
#include "evidence/cpext.h"
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
	const char *text = (const char *)data;
	char out[CPEXT_MAX];
	struct checkpoint cp;
	struct sts_key key;
	struct cpext e;
	uint64_t t;

	if (checkpoint_parse(text, size, &cp, NULL) == 0) {
		if (cp.ext_off + cp.ext_len > size)
			abort();
		if (cpext_parse(text, cp.ext_off, cp.ext_len, &e) == 0) {
			/* What parses formats back to the same bytes: one encoding per note. */
			if (e.mac_cover > size || cpext_format(&e, true, out))
				abort();
			if (strlen(out) != cp.ext_len || memcmp(out, text + cp.ext_off, cp.ext_len))
				abort();
		}
	}
	/* The extension lines alone, as any text. */
	cpext_parse(text, 0, size, &e);
	if (sts_key_from_raw_public(pub, &key) == 0) {
		note_cosig_verify(text, size, "witness.test/w1", &key, &t);
		sts_key_free(&key);
	}
	return 0;
}
