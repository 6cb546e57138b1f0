// SPDX-License-Identifier: GPL-2.0-only
#include "wire/receipt.h"
#include "core/crypto.h"
#include "wire/jws.h"
#include "wire/report.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

int sts_receipt_check(const char *body, size_t len, const struct sts_key *collector_key,
		      const char *aid, const char *sent_sha256, char receipt_sha256[65], char *why,
		      size_t wl)
{
	const char *status = NULL, *baid = NULL, *receipt = NULL, *raid = NULL, *rsha = NULL;
	char reason[STS_REASON_MAX];
	uint8_t sha[STS_SHA256_LEN];
	json_t *j = NULL, *p = NULL;
	struct sts_jws jws = { 0 };
	int err = -EBADMSG;

	receipt_sha256[0] = '\0';
	j = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
	if (!j || json_unpack(j, "{s:s, s:s, s:s}", "status", &status, "aid", &baid, "receipt",
			      &receipt)) {
		snprintf(why, wl, "the collector's answer is not a receipt");
		goto cleanup;
	}
	sts_sha256(receipt, strlen(receipt), sha);
	sts_hex(sha, sizeof(sha), receipt_sha256);
	if (sts_jws_parse(receipt, strlen(receipt), &jws, reason, sizeof(reason))) {
		snprintf(why, wl, "receipt: %s", reason);
		goto cleanup;
	}
	/* The key id is compared before any signature math (sts_jws_verify). */
	if (!sts_jws_verify(&jws, collector_key)) {
		snprintf(why, wl,
			 "receipt signature does not verify with the pinned collector key");
		goto cleanup;
	}
	p = json_loadb(jws.payload, jws.payload_len, JSON_REJECT_DUPLICATES, NULL);
	if (!p || json_unpack(p, "{s:s, s:s}", "aid", &raid, "sha256", &rsha)) {
		snprintf(why, wl, "receipt payload malformed");
		goto cleanup;
	}
	if (strcmp(raid, aid) != 0 || strcmp(baid, aid) != 0) {
		snprintf(why, wl, "receipt is for activation %.40s, not ours", raid);
		goto cleanup;
	}
	if (strcmp(rsha, sent_sha256) != 0) {
		snprintf(why, wl, "receipt is for other bytes than the report we sent");
		goto cleanup;
	}
	err = 0;
cleanup:
	sts_jws_free(&jws);
	json_decref(p);
	json_decref(j);
	return err;
}
