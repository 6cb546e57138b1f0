// SPDX-License-Identifier: GPL-2.0-only
/* libFuzzer harness: the evidence log line parser and its time field. */
#include "evline.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char why[160], back[EVLINE_TIME_LEN + 1];
	struct evline rec;
	int64_t t;

	if (evline_parse((const char *)data, size, &rec, why, sizeof(why)) == 0) {
		/* What parsed must be self-consistent. */
		if (!evline_valid_type(rec.type) || evline_format_time(rec.time_us, back) ||
		    strcmp(back, rec.time) != 0)
			abort();
		evline_free(&rec);
	}
	if (evline_parse_time((const char *)data, size, &t) == 0 &&
	    (evline_format_time(t, back) || memcmp(back, data, size) != 0))
		abort(); /* one spelling per instant */
	return 0;
}
