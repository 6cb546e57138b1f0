// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer harness: the collector's request validation, in its order. Parse the body as a
 * JWS; if it parses, verify it with the key it names (the RFC 8032 test key, or its jwk) and
 * validate the claim set whatever the signature says, as a collector would after a valid one.
 * Nothing may crash or overrun; an accepted claim set must serialise back to a claim set the
 * validator accepts with the same claims.
 */
#include "wire/jws.h"
#include "wire/report.h"

#include <stdlib.h>
#include <string.h>

static const uint8_t rfc8032_pub[32] = {
	0xd7, 0x5a, 0x98, 0x01, 0x82, 0xb1, 0x0a, 0xb7, 0xd5, 0x4b, 0xfe,
	0xd3, 0xc9, 0x64, 0x07, 0x3a, 0x0e, 0xe1, 0x72, 0xf3, 0xda, 0xa6,
	0x23, 0x25, 0xaf, 0x02, 0x1a, 0x68, 0xf7, 0x07, 0x51, 0x1a,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char reason[STS_REASON_MAX], *json = NULL;
	struct sts_report r, back;
	struct sts_key key = { 0 };
	struct sts_jws jws;
	size_t len;

	if (sts_jws_parse((const char *)data, size, &jws, reason, sizeof(reason)) != 0) {
		if (!memchr(reason, '\0', sizeof(reason)))
			abort(); /* a refusal always comes with a terminated reason */
		return 0;
	}
	if (!sts_key_from_raw_public(jws.has_jwk ? jws.jwk : rfc8032_pub, &key)) {
		(void)sts_jws_verify(&jws, &key);
		sts_key_free(&key);
	}
	if (sts_report_parse(jws.payload, jws.payload_len, &r, reason, sizeof(reason)) == 0) {
		if (sts_report_serialize(&r, &json, &len, reason, sizeof(reason)) != 0 ||
		    sts_report_parse(json, len, &back, reason, sizeof(reason)) != 0 ||
		    memcmp(&r, &back, sizeof(r)) != 0)
			abort();
		free(json);
	}
	sts_jws_free(&jws);
	return 0;
}
