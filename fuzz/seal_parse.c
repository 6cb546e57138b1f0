// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer harness: the forward-secure seal's two parsers, the auditor's verification key
 * (a string) and the writer's state file. A key that parses formats back to the same text
 * (but for the case of its hex digits).
 */
#include "evidence/seal.h"

#include "fuzz.h"

#include <string.h>
#include <strings.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char out[SEAL_VKEY_MAX];
	struct seal_state st;
	size_t n = size;

	if (seal_vkey_parse((const char *)data, size, &st) == 0) {
		while (n && (data[n - 1] == '\n' || data[n - 1] == '\r'))
			n--;
		/* Hex digits may come in either case; the rest is exact. */
		if (seal_vkey_format(&st, out) != 0 || strlen(out) != n ||
		    strncasecmp(out, (const char *)data, n))
			abort();
	}
	if (seal_state_load(fuzz_file(data, size), &st) == 0) {
		if (st.length == 0)
			abort();
		seal_state_wipe(&st);
	}
	return 0;
}
