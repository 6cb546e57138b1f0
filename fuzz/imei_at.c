// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer harness: the broker's parsers of a modem's answer to AT+CGSN and of mmcli's
 * key-value output, both on the same arbitrary bytes. An accepted answer must give a valid
 * IMEI; a refused one a reason that is a terminated string with no run of more than 4 digits
 * in it (an IMEI is never written into a message).
 */
#include "device/imei.h"
#include "wire/report.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void check(int (*parse)(const char *, size_t, char[16], char *, size_t), const uint8_t *data,
		  size_t size)
{
	char imei[16], why[STS_IMEI_WHY_MAX];
	size_t i, run = 0;

	memset(why, 'x', sizeof(why));
	if (parse((const char *)data, size, imei, why, sizeof(why)) == 0) {
		if (strlen(imei) != 15 || !sts_imei_valid(imei, 15))
			abort();
		return;
	}
	if (!memchr(why, '\0', sizeof(why)))
		abort();
	for (i = 0; why[i]; i++) {
		run = isdigit((unsigned char)why[i]) ? run + 1 : 0;
		if (run > 4)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check(sts_imei_parse_at, data, size);
	check(sts_imei_parse_mmcli, data, size);
	return 0;
}
