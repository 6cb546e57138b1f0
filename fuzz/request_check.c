// SPDX-License-Identifier: GPL-2.0-only
/* libFuzzer harness: the payload check's request parser (lib/wire/request), on any plaintext. */
#include "wire/request.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char reason[256];

	reason[0] = '\0';
	if (sts_request_check((const char *)data, size, 4096, reason, sizeof(reason)) != 0 &&
	    reason[0] == '\0')
		abort(); /* every refusal says why */
	return 0;
}
