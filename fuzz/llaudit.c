// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer harness: Landlock's audit records (stsd reads them from the audit multicast group;
 * the path part is chosen by the policed code). The first byte picks the record type; an
 * accepted record has a NUL-terminated path and blockers, and a pid only in domain records.
 */
#include "device/llaudit.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sts_llaudit_rec r;
	int type;

	if (size < 1)
		return 0;
	type = data[0] & 1 ? STS_AUDIT_LANDLOCK_DOMAIN : STS_AUDIT_LANDLOCK_ACCESS;
	if (sts_llaudit_parse(type, (const char *)data + 1, size - 1, &r) == 0) {
		if (!memchr(r.path, '\0', sizeof(r.path)) ||
		    !memchr(r.blockers, '\0', sizeof(r.blockers)))
			abort();
		if (type == STS_AUDIT_LANDLOCK_ACCESS && r.pid != -1)
			abort();
	}
	return 0;
}
