// SPDX-License-Identifier: GPL-2.0-only
/* lib/wire/report: the approved claim set, accepted exactly and refused with a usable reason. */
#include "test.h"
#include "wire/report.h"

#include <stdlib.h>

static bool refused(const char *json, const char *want, const char *name)
{
	struct sts_report r;
	char reason[STS_REASON_MAX] = "";
	int err;

	err = sts_report_parse(json, strlen(json), &r, reason, sizeof(reason));
	if (!ASSERT_EQ(err, -EBADMSG, name))
		return false;
	return TEST__CHECK(strstr(reason, want) != NULL, name, "reason \"%s\" lacks \"%s\"", reason,
			   want);
}

void test_report_luhn_country(void)
{
	ASSERT_TRUE(sts_imei_valid("490154203237518", 15), "known-good IMEI");
	ASSERT_TRUE(sts_imei_valid("353918057411296", 15), "second IMEI");
	ASSERT_FALSE(sts_imei_valid("490154203237517", 15), "wrong check digit");
	ASSERT_FALSE(sts_imei_valid("49015420323751", 14), "14 digits");
	ASSERT_FALSE(sts_imei_valid("49015420323751a", 15), "letter");
	ASSERT_TRUE(sts_country_assigned("DE", 2), "DE");
	ASSERT_TRUE(sts_country_assigned("AD", 2), "first code");
	ASSERT_TRUE(sts_country_assigned("ZW", 2), "last code");
	ASSERT_TRUE(sts_country_assigned("SS", 2), "South Sudan (2011)");
	ASSERT_FALSE(sts_country_assigned("UK", 2), "UK is reserved, not assigned");
	ASSERT_FALSE(sts_country_assigned("EU", 2), "EU is reserved, not assigned");
	ASSERT_FALSE(sts_country_assigned("XK", 2), "XK is user-assigned, not official");
	ASSERT_FALSE(sts_country_assigned("de", 2), "lower case");
	ASSERT_FALSE(sts_country_assigned("DEU", 3), "alpha-3");
}

void test_report_utf8(void)
{
	size_t off = 0;

	ASSERT_TRUE(sts_utf8_valid("Pixel \xc3\xa9\xe2\x82\xac\xf0\x9f\x93\xb1", 15, NULL),
		    "2, 3 and 4-byte sequences");
	ASSERT_FALSE(sts_utf8_valid("ab\xc0\xaf", 4, &off), "overlong");
	ASSERT_EQ(off, 2, "offset of the bad byte");
	ASSERT_FALSE(sts_utf8_valid("\xed\xa0\x80", 3, NULL), "surrogate");
	ASSERT_FALSE(sts_utf8_valid("\xf4\x90\x80\x80", 4, NULL), "above U+10FFFF");
	ASSERT_FALSE(sts_utf8_valid("\xe2\x82", 2, NULL), "truncated");
	ASSERT_FALSE(sts_utf8_valid("\xff", 1, NULL), "0xff");
}

void test_report_parse(void)
{
	struct sts_report r;
	char reason[STS_REASON_MAX], *json;
	size_t len;
	const char *ok = "{\"imei\":\"490154203237518\",\"model\":\"PinePhone Pro\","
			 "\"sw_version\":\"postmarketOS v24.06\",\"country\":\"FR\"}";

	if (!ASSERT_OK(sts_report_parse(ok, strlen(ok), &r, reason, sizeof(reason)), "valid"))
		return;
	ASSERT_STREQ(r.imei, "490154203237518", "imei");
	ASSERT_STREQ(r.model, "PinePhone Pro", "model");
	ASSERT_STREQ(r.country, "FR", "country");
	ASSERT_OK(sts_report_serialize(&r, &json, &len, reason, sizeof(reason)), "serialize");
	ASSERT_STREQ(json, ok, "canonical serialisation is the input");
	free(json);
	{
		const char *a =
			"{\"sw_version\":\"1\",\"model\":\"m\",\"imei\":\"490154203237518\"}";
		const char *b =
			"{\"imei\":\"490154203237518\",\"model\":\"T\xc3\xa9l\xc3\xa9phone\","
			"\"sw_version\":\"1\"}";

		ASSERT_OK(sts_report_parse(a, strlen(a), &r, reason, sizeof(reason)),
			  "no country, other order");
		ASSERT_STREQ(r.country, "", "country absent");
		ASSERT_OK(sts_report_parse(b, strlen(b), &r, reason, sizeof(reason)),
			  "UTF-8 model");
	}

	refused("{\"imei\":\"490154203237517\",\"model\":\"m\",\"sw_version\":\"1\"}", "Luhn",
		"bad Luhn");
	refused("{\"imei\":\"49015420323751\",\"model\":\"m\",\"sw_version\":\"1\"}",
		"exactly 15 digits", "short imei");
	refused("{\"imei\":490154203237518,\"model\":\"m\",\"sw_version\":\"1\"}", "JSON string",
		"numeric imei");
	refused("{\"model\":\"m\",\"sw_version\":\"1\"}", "\"imei\" is missing", "missing imei");
	refused("{\"imei\":\"490154203237518\",\"sw_version\":\"1\"}", "\"model\" is missing",
		"missing model");
	refused("{\"imei\":\"490154203237518\",\"model\":\"m\",\"sw_version\":\"1\",\"serial\":"
		"\"x\"}",
		"\"serial\" is not allowed", "extra claim");
	refused("{\"imei\":\"490154203237518\",\"model\":\"m\",\"model\":\"n\",\"sw_version\":"
		"\"1\"}",
		"duplicate", "duplicate claim");
	refused("{\"imei\":\"490154203237518\",\"model\":\"m\",\"sw_version\":\"1\",\"country\":"
		"\"ZZ\"}",
		"not an officially assigned", "unknown country");
	refused("{\"imei\":\"490154203237518\",\"model\":\"m\",\"sw_version\":\"1\",\"country\":"
		"\"fr\"}",
		"upper case", "lower-case country");
	refused("{\"imei\":\"490154203237518\",\"model\":\"m\xff\",\"sw_version\":\"1\"}",
		"not valid UTF-8 at byte 36", "non-UTF-8");
	refused("{\"imei\":\"490154203237518\",\"model\":\"\",\"sw_version\":\"1\"}", "empty",
		"empty model");
	refused("{\"imei\":\"490154203237518\",\"model\":\"a\\u0007b\",\"sw_version\":\"1\"}",
		"control character", "control character");
	refused("{\"imei\":\"490154203237518\",\"model\":\"a\\u0000b\",\"sw_version\":\"1\"}",
		"not valid JSON", "NUL in a string");
	refused("{\"imei\":\"490154203237518\",\"model\":\"\\ud800\",\"sw_version\":\"1\"}",
		"not valid JSON", "lone surrogate escape");
	refused("{\"imei\":\"490154203237518\",\"model\":\"m\",\"sw_version\":"
		"\"12345678901234567890123456789012345678901234567890123456789012345\"}",
		"65 bytes long", "sw_version too long");
	refused("[\"490154203237518\"]", "JSON object", "array");
	refused("{\"imei\":\"490154203237518\",\"model\":\"m\"", "not valid JSON", "truncated");

	memset(&r, 0, sizeof(r));
	strcpy(r.imei, "490154203237518");
	strcpy(r.model, "m");
	strcpy(r.sw_version, "1");
	strcpy(r.country, "XX");
	ASSERT_EQ(sts_report_serialize(&r, &json, &len, reason, sizeof(reason)), -EBADMSG,
		  "monitor cannot serialise an unknown country");
}
