// SPDX-License-Identifier: GPL-2.0-only
/*
 * Consent and opt-out: the records (strict parsing, atomic writes, a damaged record never
 * read as consent) and the stsctl commands that keep them, run as an operator would.
 */
#include "test.h"
#include "device/consent.h"
#include "core/crypto.h"
#include "wire/jws.h"
#include "core/util.h"

#include <jansson.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Run stsctl with a shell command line; stdout and stderr into out. Returns the exit status. */
#define stsctl(out, outsz, fmt, ...) \
	test__run(out, outsz, "%s/stsctl " fmt, test__out_dir(), ##__VA_ARGS__)

static bool contains(const char *s, const char *sub)
{
	return strstr(s, sub) != NULL;
}

void test_consent_records(void)
{
	char path[PATH_MAX], *buf = NULL;
	struct sts_consent c;
	struct stat st;
	int64_t before = (int64_t)time(NULL);
	size_t len;

	snprintf(path, sizeof(path), "%s/consent.json", test__tmpdir());
	memset(&c, 0xff, sizeof(c));
	ASSERT_OK(sts_consent_load(path, &c), "missing: load");
	ASSERT_FALSE(c.granted, "missing: not granted");
	ASSERT_EQ(c.changed_at, 0, "missing: changed_at 0");
	ASSERT_STREQ(c.country, "", "missing: no country");

	ASSERT_EQ(sts_consent_grant(path, "ZZ"), -EINVAL, "unassigned code");
	ASSERT_EQ(sts_consent_grant(path, "fr"), -EINVAL, "lower case");
	ASSERT_EQ(sts_consent_grant(path, "FRA"), -EINVAL, "alpha-3");
	ASSERT_EQ(sts_consent_grant(path, NULL), -EINVAL, "no country");
	ASSERT_EQ(access(path, F_OK), -1, "nothing written on error");

	ASSERT_OK(sts_consent_grant(path, "FR"), "grant FR");
	ASSERT_OK(sts_consent_load(path, &c), "load");
	ASSERT_TRUE(c.granted, "granted");
	ASSERT_STREQ(c.country, "FR", "country");
	ASSERT_GE(c.changed_at, before, "changed_at is now");
	ASSERT_OK(stat(path, &st), "stat");
	ASSERT_EQ(st.st_mode & 07777, 0644, "mode 0644");
	if (ASSERT_OK(sts_read_file(path, 256, &buf, &len), "read")) {
		char expect[128];

		snprintf(expect, sizeof(expect),
			 "{\"granted\":true,\"country\":\"FR\",\"changed_at\":%lld}\n",
			 (long long)c.changed_at);
		ASSERT_STREQ(buf, expect, "exact bytes");
	}
	free(buf);

	ASSERT_OK(sts_consent_grant(path, "DE"), "grant DE");
	ASSERT_OK(sts_consent_load(path, &c), "load");
	ASSERT_STREQ(c.country, "DE", "country replaced");

	ASSERT_OK(sts_consent_revoke(path), "revoke");
	ASSERT_OK(sts_consent_load(path, &c), "load");
	ASSERT_FALSE(c.granted, "revoked");
	ASSERT_STREQ(c.country, "", "no country after revoke");
	ASSERT_GE(c.changed_at, before, "revocation time");

	/* A damaged record is an error, and granting or revoking repairs it. */
	ASSERT_OK(sts_write_file_atomic(path, "{\"granted\":tru", 14, 0644), "damage");
	ASSERT_EQ(sts_consent_load(path, &c), -EBADMSG, "damaged: EBADMSG");
	ASSERT_OK(sts_consent_revoke(path), "revoke over damage");
	ASSERT_OK(sts_consent_load(path, &c), "repaired");
	ASSERT_FALSE(c.granted, "repaired: not granted");

	/* Revoking when never asked puts the "no" on record. */
	unlink(path);
	ASSERT_OK(sts_consent_revoke(path), "revoke, never asked");
	ASSERT_OK(sts_consent_load(path, &c), "load");
	ASSERT_TRUE(!c.granted && c.changed_at > 0, "refusal recorded");

	ASSERT_EQ(sts_consent_load(test__tmpdir(), &c), -EISDIR, "a directory");
}

void test_consent_parse(void)
{
	static const char *const bad[] = {
		"",
		"null",
		"[]",
		"{}",
		"{\"granted\":true,\"changed_at\":1}",
		"{\"granted\":true,\"country\":\"ZZ\",\"changed_at\":1}",
		"{\"granted\":true,\"country\":\"fr\",\"changed_at\":1}",
		"{\"granted\":true,\"country\":\"FRA\",\"changed_at\":1}",
		"{\"granted\":true,\"country\":33,\"changed_at\":1}",
		"{\"granted\":false,\"country\":\"FR\",\"changed_at\":1}",
		"{\"granted\":\"yes\",\"country\":\"FR\",\"changed_at\":1}",
		"{\"granted\":1,\"country\":\"FR\",\"changed_at\":1}",
		"{\"granted\":true,\"country\":\"FR\"}",
		"{\"granted\":true,\"country\":\"FR\",\"changed_at\":-1}",
		"{\"granted\":true,\"country\":\"FR\",\"changed_at\":1.5}",
		"{\"granted\":true,\"country\":\"FR\",\"changed_at\":\"1\"}",
		"{\"granted\":true,\"country\":\"FR\",\"changed_at\":253402300800}",
		"{\"granted\":true,\"country\":\"FR\",\"changed_at\":1,\"imsi\":\"1\"}",
		"{\"granted\":false,\"granted\":true,\"country\":\"FR\",\"changed_at\":1}",
		"{\"granted\":true,\"country\":\"FR\",\"changed_at\":1} x",
		"{\"granted\":true,\"country\":\"FR\",\"changed_at\":1}{}",
		"{\"granted\":true,\"country\":\"F\\u0000\",\"changed_at\":1}",
	};
	struct sts_consent c;
	char name[64], big[400];
	int64_t at;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		snprintf(name, sizeof(name), "bad consent %zu", i);
		ASSERT_EQ(sts_consent_parse(bad[i], strlen(bad[i]), &c), -EBADMSG, name);
	}
#define CONSENT(s) sts_consent_parse(s, strlen(s), &c)
#define OPTOUT(s) sts_optout_parse(s, strlen(s), &at)
	ASSERT_OK(CONSENT("{\"changed_at\":7,\"granted\":false}"), "reordered");
	ASSERT_TRUE(!c.granted && c.changed_at == 7, "reordered: values");
	ASSERT_OK(CONSENT(" {\"granted\":true,\"country\":\"BR\",\"changed_at\":0}\n"),
		  "whitespace");
	ASSERT_STREQ(c.country, "BR", "whitespace: country");
	/* A valid record padded to the size limit, and one byte beyond it. */
	memset(big, ' ', sizeof(big));
	memcpy(big + STS_CONSENT_MAX - 32, "{\"granted\":false,\"changed_at\":1}", 32);
	ASSERT_OK(sts_consent_parse(big, STS_CONSENT_MAX, &c), "256 bytes");
	ASSERT_EQ(sts_consent_parse(big, STS_CONSENT_MAX + 1, &c), -EBADMSG, "257 bytes");

	ASSERT_OK(OPTOUT("{\"optout\":true,\"at\":5}"), "optout");
	ASSERT_EQ(at, 5, "optout: at");
	ASSERT_EQ(OPTOUT("{\"optout\":false,\"at\":5}"), -EBADMSG, "optout false is not a record");
	ASSERT_EQ(OPTOUT("{\"optout\":true}"), -EBADMSG, "optout: no time");
	ASSERT_EQ(OPTOUT("{\"optout\":true,\"at\":5,\"x\":1}"), -EBADMSG, "optout: extra member");
#undef CONSENT
#undef OPTOUT
}

void test_consent_optout(void)
{
	char dir[PATH_MAX], path[PATH_MAX + 16];
	bool active;
	int64_t at, first;

	snprintf(dir, sizeof(dir), "%s/state", test__tmpdir());
	snprintf(path, sizeof(path), "%s/optout.json", dir);
	ASSERT_OK(sts_mkdir_p(dir, 0755), "mkdir");
	ASSERT_FALSE(sts_optout_active(dir), "not opted out");
	ASSERT_OK(sts_optout_load(dir, &active, &at), "load missing");
	ASSERT_FALSE(active, "load missing: inactive");
	ASSERT_OK(sts_optout_set(dir), "opt out");
	ASSERT_TRUE(sts_optout_active(dir), "opted out");
	ASSERT_OK(sts_optout_load(dir, &active, &first), "load");
	ASSERT_TRUE(active && first > 0, "load: active, with a time");
	sleep(1);
	ASSERT_OK(sts_optout_set(dir), "opt out again");
	ASSERT_OK(sts_optout_load(dir, &active, &at), "load");
	ASSERT_EQ(at, first, "original time kept");

	/* Edited to false, or damaged: still opted out. */
	ASSERT_OK(sts_write_file_atomic(path, "{\"optout\":false,\"at\":1}", 24, 0644), "edit");
	ASSERT_TRUE(sts_optout_active(dir), "edited to false: still active");
	ASSERT_OK(sts_write_file_atomic(path, "\x00\x01", 2, 0644), "damage");
	ASSERT_TRUE(sts_optout_active(dir), "damaged: still active");
	ASSERT_EQ(sts_optout_load(dir, &active, &at), -EBADMSG, "damaged: load says so");
	ASSERT_OK(sts_optout_set(dir), "repair");
	ASSERT_OK(sts_optout_load(dir, &active, &at), "repaired");
}

void test_consent_stsctl(void)
{
	char out[8192], dir[PATH_MAX];
	json_error_t jerr;
	json_t *o;

	snprintf(dir, sizeof(dir), "%s/var-lib", test__tmpdir());
	ASSERT_EQ(stsctl(out, sizeof(out), "consent --help"), 0, "help");
	ASSERT_TRUE(contains(out, "usage: stsctl consent grant") && contains(out, "exit status:"),
		    "help: usage, then exit status");
	ASSERT_EQ(stsctl(out, sizeof(out), "help consent"), 0, "stsctl help consent");

	ASSERT_EQ(stsctl(out, sizeof(out), "consent status --state-dir %s", dir), 0, "status");
	ASSERT_TRUE(contains(out, "consent: not granted (never recorded)"), "status: never");
	ASSERT_EQ(stsctl(out, sizeof(out), "consent grant --country fr --state-dir %s", dir), 0,
		  "grant fr");
	ASSERT_EQ(stsctl(out, sizeof(out), "consent status --json --state-dir %s", dir), 0,
		  "status --json");
	o = json_loads(out, 0, &jerr);
	ASSERT_TRUE(o && json_is_true(json_object_get(o, "granted")), "json: granted");
	ASSERT_STREQ(json_string_value(json_object_get(o, "country")), "FR", "json: country");
	ASSERT_GE(json_integer_value(json_object_get(o, "changed_at")), 1, "json: time");
	json_decref(o);
	ASSERT_EQ(stsctl(out, sizeof(out), "consent status --state-dir %s", dir), 0, "status");
	ASSERT_TRUE(contains(out, "country: FR"), "status: country");

	ASSERT_EQ(stsctl(out, sizeof(out), "consent grant --country ZZ --state-dir %s", dir), 2,
		  "grant ZZ");
	ASSERT_TRUE(contains(out, "stsctl consent: --country: ZZ is not an assigned ISO 3166-1 "
				  "alpha-2 code\ntry 'stsctl consent --help'\n"),
		    "grant ZZ: a usage error naming the command, and the hint");
	ASSERT_EQ(stsctl(out, sizeof(out), "consent grant --state-dir %s", dir), 2, "no country");
	ASSERT_EQ(stsctl(out, sizeof(out), "consent --state-dir %s", dir), 2, "no subcommand");
	ASSERT_EQ(stsctl(out, sizeof(out), "consent maybe --state-dir %s", dir), 2, "unknown sub");
	ASSERT_EQ(stsctl(out, sizeof(out), "consent revoke --country FR --state-dir %s", dir), 2,
		  "revoke with a country");

	ASSERT_EQ(stsctl(out, sizeof(out), "consent revoke --state-dir %s", dir), 0, "revoke");
	ASSERT_EQ(stsctl(out, sizeof(out), "consent status --json --state-dir %s", dir), 0,
		  "status --json");
	o = json_loads(out, 0, &jerr);
	ASSERT_TRUE(o && json_is_false(json_object_get(o, "granted")), "json: revoked");
	ASSERT_TRUE(o && !json_object_get(o, "country"), "json: no country");
	json_decref(o);

	snprintf(out, sizeof(out), "%s/consent.json", dir);
	ASSERT_OK(sts_write_file_atomic(out, "{\"granted\":true}", 16, 0644), "damage");
	ASSERT_EQ(stsctl(out, sizeof(out), "consent status --state-dir %s", dir), 2,
		  "status of a damaged record");
	ASSERT_TRUE(contains(out, "stsctl: consent: ") && contains(out, "is damaged"),
		    "damaged: message");

	ASSERT_EQ(stsctl(out, sizeof(out), "optout --status --json --state-dir %s", dir), 0,
		  "optout status");
	ASSERT_STREQ(out, "{\"optout\":false}\n", "optout: not yet");
	ASSERT_EQ(stsctl(out, sizeof(out), "optout --state-dir %s", dir), 0, "optout");
	ASSERT_TRUE(sts_optout_active(dir), "optout: recorded");
	ASSERT_EQ(stsctl(out, sizeof(out), "optout --status --state-dir %s", dir), 0, "status");
	ASSERT_TRUE(contains(out, "optout: yes, since "), "optout: status text");
	ASSERT_EQ(stsctl(out, sizeof(out), "optout --json --state-dir %s", dir), 2,
		  "--json without --status");
	ASSERT_EQ(stsctl(out, sizeof(out), "optout --help"), 0, "optout --help");
}

void test_consent_key_show(void)
{
	char out[8192], dir[PATH_MAX], priv[PATH_MAX + 16], pub[PATH_MAX + 20],
		kid[STS_KID_LEN + 1];
	char expect[PATH_MAX + 128], *pem = NULL;
	struct sts_key key = { 0 };
	json_error_t jerr;
	json_t *o;

	snprintf(dir, sizeof(dir), "%s/keys", test__tmpdir());
	snprintf(priv, sizeof(priv), "%s/device.key", dir);
	snprintf(pub, sizeof(pub), "%s.pub", priv);
	ASSERT_EQ(stsctl(out, sizeof(out), "key show --state-dir %s", dir), 2, "no key");
	snprintf(expect, sizeof(expect), "stsctl: key: no device key at %s (stsd creates it", priv);
	ASSERT_TRUE(contains(out, expect), "no key: message");

	if (!ASSERT_OK(sts_mkdir_p(dir, 0700), "mkdir") ||
	    !ASSERT_OK(sts_key_generate(priv, pub, &key), "generate") ||
	    !ASSERT_OK(sts_kid(key.pub, kid), "kid") ||
	    !ASSERT_OK(sts_key_public_pem(&key, &pem), "pem"))
		goto cleanup;
	ASSERT_EQ(stsctl(out, sizeof(out), "key show --state-dir %s", dir), 0, "show");
	snprintf(expect, sizeof(expect), "key id: %s\n", kid);
	ASSERT_TRUE(contains(out, expect), "show: kid");
	ASSERT_TRUE(contains(out, pem), "show: pem");
	ASSERT_FALSE(contains(out, "PRIVATE"), "show: nothing private");

	ASSERT_EQ(stsctl(out, sizeof(out), "key show --json --key %s", priv), 0, "show --json");
	o = json_loads(out, 0, &jerr);
	ASSERT_STREQ(o ? json_string_value(json_object_get(o, "kid")) : NULL, kid, "json: kid");
	ASSERT_STREQ(o ? json_string_value(json_object_get(o, "public_key")) : NULL, pem,
		     "json: pem");
	json_decref(o);

	/* Without the .pub, the public half of the private key. */
	unlink(pub);
	ASSERT_EQ(stsctl(out, sizeof(out), "key show --key %s", priv), 0, "show from private");
	ASSERT_TRUE(contains(out, pem) && !contains(out, "PRIVATE"), "private: public half only");

	ASSERT_OK(sts_write_file_atomic(pub, "not a key\n", 10, 0644), "bad pub");
	ASSERT_EQ(stsctl(out, sizeof(out), "key show --key %s", priv), 2, "bad pub");
	ASSERT_TRUE(contains(out, "not an Ed25519 key"), "bad pub: message");
	ASSERT_EQ(stsctl(out, sizeof(out), "key --state-dir %s", dir), 2, "no subcommand");
	ASSERT_EQ(stsctl(out, sizeof(out), "key --help"), 0, "key --help");
cleanup:
	free(pem);
	sts_key_free(&key);
}
