// SPDX-License-Identifier: GPL-2.0-only
/* libFuzzer harness: the monitor's persisted activation state (lib/device/activation). */
#include "device/activation.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sts_activation st, back;
	char why[256], *s = NULL;

	if (sts_activation_parse((const char *)data, size, &st, why, sizeof(why)))
		return 0;
	/* What parses serialises and parses again to the same state. */
	if (sts_activation_serialize(&st, &s) ||
	    sts_activation_parse(s, strlen(s), &back, why, sizeof(why)) ||
	    memcmp(&st, &back, sizeof(st)) != 0)
		abort();
	free(s);
	return 0;
}
