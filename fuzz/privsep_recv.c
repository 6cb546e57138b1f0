// SPDX-License-Identifier: GPL-2.0-only
/* libFuzzer harness: privsep framing (lib/device/privsep), one record per input, as sent. */
#include "device/privsep.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int sv[2] = { -1, -1 };
	static char buf[PS_MAX_PAYLOAD];
	uint32_t type;
	size_t len;

	if (sv[0] < 0 && socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) < 0)
		abort();
	if (size == 0 || size > 65536)
		return 0;
	if (send(sv[1], data, size, 0) != (ssize_t)size)
		return 0;
	if (ps_recv(sv[0], &type, buf, sizeof(buf), &len) == 0) {
		uint32_t hdr[2];

		/* Accepted frames are exactly header + payload, within the bound. */
		memcpy(hdr, data, sizeof(hdr));
		if (size < 8 || hdr[1] != len || len != size - 8 || len > PS_MAX_PAYLOAD ||
		    memcmp(buf, data + 8, len) != 0)
			abort();
	}
	return 0;
}
