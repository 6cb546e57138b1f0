// SPDX-License-Identifier: GPL-2.0-only
/* lib/wire/receipt: only a receipt signed by the pinned key, for our aid and bytes, holds. */
#include "test.h"
#include "core/crypto.h"
#include "wire/jws.h"
#include "wire/receipt.h"

#include <stdlib.h>

static char *answer(const struct sts_key *k, const char *aid, const char *sha)
{
	char payload[512], *jws = NULL, *out = NULL;
	size_t len;

	snprintf(payload, sizeof(payload),
		 "{\"aid\":\"%s\",\"sha256\":\"%s\",\"received_at\":\"2026-01-01T00:00:00Z\","
		 "\"seq\":1}",
		 aid, sha);
	if (sts_jws_sign(k, aid, false, payload, strlen(payload), &jws, &len))
		return NULL;
	if (asprintf(&out, "{\"status\":\"stored\",\"aid\":\"%s\",\"receipt\":\"%s\"}", aid, jws) <
	    0)
		out = NULL;
	free(jws);
	return out;
}

void test_receipt_check(void)
{
	char kp[512], op[512], aid[STS_AID_LEN + 1], other[STS_AID_LEN + 1], why[256], rsha[65];
	static const char sha[] =
		"3f0a0d2f0b7a5c4e9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c";
	struct sts_key col, forger;
	char *a;

	snprintf(kp, sizeof(kp), "%s/collector.key", test__tmpdir());
	snprintf(op, sizeof(op), "%s/forger.key", test__tmpdir());
	if (!ASSERT_OK(sts_key_generate(kp, NULL, &col), "collector key") ||
	    !ASSERT_OK(sts_key_generate(op, NULL, &forger), "another key"))
		return;
	sts_aid_new(aid);
	sts_aid_new(other);

	a = answer(&col, aid, sha);
	ASSERT_OK(sts_receipt_check(a, strlen(a), &col, aid, sha, rsha, why, sizeof(why)),
		  "a genuine receipt holds");
	ASSERT_EQ(strlen(rsha), 64, "the receipt's own hash is returned");
	ASSERT_ERR(sts_receipt_check(a, strlen(a), &col, other, sha, rsha, why, sizeof(why)),
		   "for another activation: rejected");
	ASSERT_ERR(sts_receipt_check(a, strlen(a), &col, aid, "00", rsha, why, sizeof(why)),
		   "for other bytes: rejected");
	ASSERT_ERR(sts_receipt_check(a, strlen(a) - 5, &col, aid, sha, rsha, why, sizeof(why)),
		   "truncated: rejected");
	free(a);
	a = answer(&forger, aid, sha);
	ASSERT_ERR(sts_receipt_check(a, strlen(a), &col, aid, sha, rsha, why, sizeof(why)),
		   "a forged receipt (another key): rejected");
	ASSERT_TRUE(strstr(why, "pinned") != NULL, "the reason names the pinned key");
	free(a);
	sts_key_free(&col);
	sts_key_free(&forger);
}
