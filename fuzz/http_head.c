// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer harness: the collector's HTTP request-head reader on arbitrary bytes. An accepted
 * head must end where sts_http_head_end() said, hold an origin-form target, one HTTP/1.x
 * version, and carry Host when it is HTTP/1.1; a refusal must give a reason.
 */
#include "wire/http.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sts_http_head h;
	char reason[256] = "";
	size_t end = sts_http_head_end((const char *)data, size);
	int st;

	if (end > size)
		abort();
	if (!end)
		return 0;
	st = sts_http_parse_head((const char *)data, end, &h, reason, sizeof(reason));
	if (st == 0) {
		if (h.head_len != end || h.target[0] != '/' || (h.minor != 0 && h.minor != 1) ||
		    (h.minor == 1 && !h.has_host) || h.content_length < -1 ||
		    strlen(h.target) >= sizeof(h.target))
			abort();
	} else if ((st != 400 && st != 431 && st != 505) || !reason[0]) {
		abort();
	}
	return 0;
}
