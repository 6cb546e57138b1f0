// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer harness: the consent and opt-out record parsers on arbitrary bytes. Whatever
 * parses as consent must be consent the writer could have written: granted with an assigned
 * country, or not granted with none, and a time in range.
 */
#include "device/consent.h"
#include "wire/report.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sts_consent c;
	int64_t at;

	if (sts_consent_parse((const char *)data, size, &c) == 0) {
		if (c.granted ? !sts_country_assigned(c.country, strnlen(c.country, 3))
			      : c.country[0] != '\0')
			abort();
		if (c.changed_at < 0 || size > STS_CONSENT_MAX)
			abort();
	}
	if (sts_optout_parse((const char *)data, size, &at) == 0 &&
	    (at < 0 || size > STS_CONSENT_MAX))
		abort();
	return 0;
}
