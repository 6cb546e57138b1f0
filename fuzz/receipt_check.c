// SPDX-License-Identifier: GPL-2.0-only
/* libFuzzer harness: the monitor's check of the collector's answer (lib/wire/receipt). */
#include "core/crypto.h"
#include "wire/receipt.h"

#include "fuzz.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char why[256], rsha[65];

	/* Nothing the fuzzer makes is signed by the key: it must never be accepted. */
	if (sts_receipt_check((const char *)data, size, fuzz_key(1), "AAAAAAAAAAAAAAAAAAAAAA", "00",
			      rsha, why, sizeof(why)) == 0)
		abort();
	return 0;
}
