// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer harness: the evidence log line parser, its fast scanner (which must agree with
 * it on every input: same verdict, same five fields), the time field, and the verifier's
 * two-lane leaf hash (sha2x.h), which must equal OpenSSL's on any pair of lines.
 */
#include "evidence/evline.h"
#include "evidence/sha2x.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char why[160], back[EVLINE_TIME_LEN + 1];
	struct evline rec, fast;
	int full, scan;
	int64_t t;

	full = evline_parse((const char *)data, size, &rec, why, sizeof(why));
	scan = evline_scan((const char *)data, size, &fast, why, sizeof(why));
	if ((full == 0) != (scan == 0))
		abort();
	if (full == 0) {
		/* What parsed must be self-consistent. */
		if (!evline_valid_type(rec.type) || evline_format_time(rec.time_us, back) ||
		    strcmp(back, rec.time) != 0)
			abort();
		if (rec.seq != fast.seq || rec.time_us != fast.time_us ||
		    strcmp(rec.time, fast.time) || strcmp(rec.boot, fast.boot) ||
		    strcmp(rec.type, fast.type) || memcmp(rec.prev, fast.prev, sizeof(rec.prev)))
			abort();
		evline_free(&rec);
		evline_free(&fast);
	}
	{
		merkle_hash a, b, ea, eb;
		size_t half = size / 2;

		if (sha2x_leaf_hash(data, half, data + half, size - half, a, b) ||
		    merkle_leaf_hash(data, half, ea) ||
		    merkle_leaf_hash(data + half, size - half, eb) || memcmp(a, ea, sizeof(a)) ||
		    memcmp(b, eb, sizeof(b)))
			abort();
	}
	if (evline_parse_time((const char *)data, size, &t) == 0 &&
	    (evline_format_time(t, back) || memcmp(back, data, size) != 0))
		abort(); /* one spelling per instant */
	/* And every instant that has a spelling reads back as itself. */
	if (size >= 8) {
		memcpy(&t, data, sizeof(t));
		t = (int64_t)((uint64_t)t % (253402300800ULL * 1000000)); /* up to 9999-12-31 */
		if (evline_format_time(t, back) == 0) {
			int64_t u;

			if (evline_parse_time(back, EVLINE_TIME_LEN, &u) || u != t)
				abort();
		}
	}
	return 0;
}
