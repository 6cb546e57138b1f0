// SPDX-License-Identifier: GPL-2.0-only
/* lib/wire/request: the one request stsguard sends, and the payload check's view of it. */
#include "test.h"
#include "core/crypto.h"
#include "wire/jws.h"
#include "wire/request.h"

#include <stdlib.h>

static char *signed_request(const char *claims, size_t *len)
{
	struct sts_key key;
	char priv[512], aid[STS_AID_LEN + 1], *jws = NULL, *req = NULL;
	size_t jws_len;

	snprintf(priv, sizeof(priv), "%s/k%zu", test__tmpdir(), strlen(claims));
	if (sts_key_generate(priv, NULL, &key))
		return NULL;
	if (!sts_aid_new(aid) &&
	    !sts_jws_sign(&key, aid, true, claims, strlen(claims), &jws, &jws_len))
		sts_request_build("collector.example", jws, jws_len, &req, len);
	free(jws);
	sts_key_free(&key);
	return req;
}

void test_request_check(void)
{
	static const char good[] =
		"{\"imei\":\"490154203237518\",\"model\":\"PX-7\",\"sw_version\":\"1.4.2\"}";
	static const char extra[] = "{\"imei\":\"490154203237518\",\"model\":\"PX-7\","
				    "\"sw_version\":\"1.4.2\",\"serial\":\"SN1\"}";
	char reason[256], *req, *bad;
	size_t len;

	req = signed_request(good, &len);
	if (!ASSERT_OK_PTR(req, "build a request"))
		return;
	static const char head[] = "POST /v1/activations HTTP/1.1\r\nHost: collector.example\r\n"
				   "Content-Type: application/jose\r\nContent-Length: ";

	ASSERT_TRUE(strncmp(req, head, sizeof(head) - 1) == 0,
		    "request head is exactly as documented");
	ASSERT_OK(sts_request_check(req, len, 4096, reason, sizeof(reason)), "conforming request");
	ASSERT_ERR(sts_request_check(req, len - 1, 4096, reason, sizeof(reason)),
		   "truncated body fails");
	ASSERT_ERR(sts_request_check(req, len, 64, reason, sizeof(reason)),
		   "body over report-max fails");
	ASSERT_ERR(sts_request_check(req, 60, 4096, reason, sizeof(reason)), "head alone fails");

	bad = malloc(len + 32);
	memcpy(bad, req, len);
	memcpy(bad + len, "GET / HTTP/1.1\r\n\r\n", 18);
	ASSERT_ERR(sts_request_check(bad, len + 18, 4096, reason, sizeof(reason)),
		   "a second request after the body fails");
	/* A cookie header between Host and Content-Type. */
	snprintf(bad, len + 32, "POST /v1/activations HTTP/1.1\r\nHost: a\r\nCookie: x=1\r\n");
	ASSERT_ERR(sts_request_check(bad, strlen(bad), 4096, reason, sizeof(reason)),
		   "an extra header fails");
	ASSERT_TRUE(strstr(reason, "no cookie") != NULL, "the reason names the rule");
	free(bad);
	free(req);

	req = signed_request(extra, &len);
	if (!ASSERT_OK_PTR(req, "build a request with an extra claim"))
		return;
	ASSERT_ERR(sts_request_check(req, len, 4096, reason, sizeof(reason)), "extra claim fails");
	ASSERT_TRUE(strstr(reason, "serial") != NULL, "the reason names the claim");
	free(req);
	ASSERT_ERR(sts_request_check("GET / HTTP/1.1\r\n\r\n", 18, 4096, reason, sizeof(reason)),
		   "another request fails");
}
