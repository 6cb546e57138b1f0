// SPDX-License-Identifier: GPL-2.0-only
/*
 * The parts of value-exact approval (issue 14) that need no kernel: the policy's report-key
 * directive, and the one spelling of a JWS (sts_jws_is_canonical) the payload check accepts.
 */
#include "test.h"
#include "core/crypto.h"
#include "core/util.h"
#include "device/policy.h"
#include "wire/jws.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int load_policy(const char *extra, struct sts_policy *pol, char *err, size_t el)
{
	char path[PATH_MAX], text[4096];

	snprintf(path, sizeof(path), "%s/p.conf", test__tmpdir());
	snprintf(text, sizeof(text), "collector 1.2.3.4:1\nstate-dir %s/state\n%s", test__tmpdir(),
		 extra);
	if (sts_write_file_atomic(path, text, strlen(text), 0644))
		return -EIO;
	return sts_policy_load(path, true, pol, err, el);
}

void test_exact_report_key_directive(void)
{
	char keys[5][512], extra[4096], err[600], bad[512];
	struct sts_policy pol;
	struct sts_key k[5];
	size_t o = 0;
	int i;

	for (i = 0; i < 5; i++) {
		char priv[512];

		snprintf(priv, sizeof(priv), "%.400s/k%d", test__tmpdir(), i);
		snprintf(keys[i], sizeof(keys[i]), "%.400s/k%d.pub", test__tmpdir(), i);
		if (!ASSERT_OK(sts_key_generate(priv, keys[i], &k[i]), "generate a key"))
			return;
	}
	snprintf(extra, sizeof(extra), "report-key %s\nreport-key %s\n", keys[0], keys[1]);
	if (ASSERT_OK(load_policy(extra, &pol, err, sizeof(err)), "two report-keys load")) {
		ASSERT_EQ(pol.n_report_keys, 2, "two keys");
		ASSERT_MEMEQ(pol.report_keys[1], k[1].pub, 32, "the second key's bytes");
		ASSERT_STREQ(pol.report_key_paths[0], keys[0], "its file");
		sts_policy_free(&pol);
	}
	snprintf(extra, sizeof(extra), "report-key %s\nreport-key %s\n", keys[0], keys[0]);
	ASSERT_ERR(load_policy(extra, &pol, err, sizeof(err)), "the same key twice is refused");
	ASSERT_TRUE(strstr(err, "the same key as"), "... and said so");
	for (i = 0; i < 5; i++)
		o += snprintf(extra + o, sizeof(extra) - o, "report-key %s\n", keys[i]);
	ASSERT_ERR(load_policy(extra, &pol, err, sizeof(err)), "a fifth key is refused");
	ASSERT_TRUE(strstr(err, "at most 4"), "... and said so");
	snprintf(bad, sizeof(bad), "%.400s/not-a-key", test__tmpdir());
	sts_write_file_atomic(bad, "hello\n", 6, 0644);
	snprintf(extra, sizeof(extra), "report-key %s\n", bad);
	ASSERT_ERR(load_policy(extra, &pol, err, sizeof(err)), "a file that is no key is refused");
	ASSERT_TRUE(strstr(err, "not an Ed25519 public key"), "... and said so");
	ASSERT_ERR(load_policy("report-key relative.pub\n", &pol, err, sizeof(err)),
		   "a relative path is refused");
	for (i = 0; i < 5; i++)
		sts_key_free(&k[i]);
}

void test_exact_jws_one_spelling(void)
{
	static const char claims[] =
		"{\"imei\":\"490154203237518\",\"model\":\"Wiko View\",\"sw_version\":\"1.2.3\"}";
	char priv[PATH_MAX], aid[STS_AID_LEN + 1], reason[256], *jws = NULL, *alt;
	struct sts_jws parsed;
	struct sts_key key;
	size_t len;

	snprintf(priv, sizeof(priv), "%s/dev.key", test__tmpdir());
	if (!ASSERT_OK(sts_key_generate(priv, NULL, &key), "key") ||
	    !ASSERT_OK(sts_aid_new(aid), "aid"))
		return;
	for (int jwk = 0; jwk < 2; jwk++) {
		if (!ASSERT_OK(sts_jws_sign(&key, aid, jwk, claims, strlen(claims), &jws, &len),
			       "sign"))
			break;
		if (ASSERT_OK(sts_jws_parse(jws, len, &parsed, reason, sizeof(reason)), "parse")) {
			ASSERT_TRUE(sts_jws_is_canonical(&parsed, jws, len),
				    "what sts_jws_sign writes is the one spelling");
			ASSERT_FALSE(sts_jws_is_canonical(&parsed, jws, len - 1),
				     "one byte less is not");
			alt = strdup(jws);
			alt[0] = alt[0] == 'e' ? 'f' : 'e';
			ASSERT_FALSE(sts_jws_is_canonical(&parsed, alt, len),
				     "another header byte is not");
			free(alt);
			sts_jws_free(&parsed);
		}
		free(jws);
		jws = NULL;
	}
	sts_key_free(&key);
}
