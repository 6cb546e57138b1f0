// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer harness: the collector's --listen ADDR:PORT / [V6ADDR]:PORT splitter. An accepted
 * value has a non-empty address that fits its buffer and a port written in decimal digits.
 */
#include "core/util.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), addr[64];
	const char *port_text;
	uint16_t port;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	memset(addr, 'x', sizeof(addr));
	if (sts_split_hostport(s, addr, sizeof(addr), &port) == 0) {
		port_text = strrchr(s, ':');
		if (!memchr(addr, '\0', sizeof(addr)) || !addr[0] || !port_text ||
		    (unsigned)atoi(port_text + 1) != port)
			abort();
	}
	free(s);
	return 0;
}
