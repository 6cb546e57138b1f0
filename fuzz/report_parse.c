// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer harness: the approved claim-set validator on arbitrary bytes. An accepted claim
 * set must hold only checked values and survive a serialise/parse round trip unchanged.
 */
#include "wire/report.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char reason[STS_REASON_MAX], *json = NULL;
	struct sts_report r, back;
	size_t len;

	if (sts_report_parse((const char *)data, size, &r, reason, sizeof(reason)) != 0)
		return 0;
	if (!sts_imei_valid(r.imei, strlen(r.imei)) ||
	    (r.country[0] && !sts_country_assigned(r.country, 2)) ||
	    !sts_utf8_valid(r.model, strlen(r.model), NULL))
		abort();
	if (sts_report_serialize(&r, &json, &len, reason, sizeof(reason)) != 0 ||
	    sts_report_parse(json, len, &back, reason, sizeof(reason)) != 0 ||
	    memcmp(&r, &back, sizeof(r)) != 0)
		abort();
	free(json);
	return 0;
}
