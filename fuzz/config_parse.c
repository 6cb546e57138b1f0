// SPDX-License-Identifier: GPL-2.0-only
/* libFuzzer harness: the monitor's configuration parser (lib/device/config). */
#include "device/config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sts_config c;
	char err[512];

	err[0] = '\0';
	if (sts_config_parse("stsd.conf", (const char *)data, size, &c, err, sizeof(err)) == 0) {
		/* A success is a complete configuration. */
		if (!c.collector_host[0] || !c.collector_ca[0] || !c.imei_source[0] ||
		    c.retry_initial > c.retry_max)
			abort();
	} else if (strncmp(err, "stsd.conf", 9) != 0) {
		abort(); /* every error names the file */
	}
	return 0;
}
