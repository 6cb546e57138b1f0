/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The approved activation report: the one claim set stsguard ever sends, and the one validator
 * that decides whether a claim set is it. The monitor calls sts_report_parse() (or
 * sts_report_check()) before it signs; the collector calls sts_report_parse() after it has
 * verified the signature. Keeping both ends on the same code means a report the monitor signs
 * is a report the collector accepts, and nothing else is either.
 *
 * The claim set is a JSON object with exactly these members, all strings:
 *	imei        15 ASCII digits whose last digit is the Luhn check digit
 *	model       1..STS_REPORT_MODEL_MAX bytes of UTF-8, no control characters
 *	sw_version  1..STS_REPORT_SW_VERSION_MAX bytes of UTF-8, no control characters
 *	country     optional (sent only with consent); an officially assigned ISO 3166-1 alpha-2
 *	            code, upper case
 * No other member, no duplicate member, no member of another type; the whole payload valid
 * UTF-8 and at most STS_REPORT_JSON_MAX bytes.
 *
 * Failures return -EBADMSG and write into reason a sentence a person can act on, naming the
 * claim and what is wrong with it (e.g. `claim "imei" fails the Luhn check digit test`).
 */
#ifndef STS_REPORT_H
#define STS_REPORT_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#define STS_REPORT_IMEI_LEN 15
#define STS_REPORT_MODEL_MAX 64
#define STS_REPORT_SW_VERSION_MAX 64
#define STS_REPORT_JSON_MAX 1024
/* Enough for every reason this module writes; longer ones are truncated, never overrun. */
#define STS_REASON_MAX 192

struct sts_report {
	char imei[STS_REPORT_IMEI_LEN + 1];
	char model[STS_REPORT_MODEL_MAX + 1];
	char sw_version[STS_REPORT_SW_VERSION_MAX + 1];
	char country[3]; /* "" when the claim is absent */
};

/* jansson's error in words for a client: never the name of a jansson flag or function. */
const char *sts_json_error_text(const json_error_t *e);

/* Parse and validate a claim set; on success r holds the claims. */
int sts_report_parse(const char *json, size_t len, struct sts_report *r, char *reason,
		     size_t reasonsz);

/* Validate claims already in a struct (the monitor, before it serialises and signs). */
int sts_report_check(const struct sts_report *r, char *reason, size_t reasonsz);

/*
 * Serialise a valid report as compact JSON with the members in a fixed order (imei, model,
 * sw_version, country), so the same claims always give the same bytes. *json is a heap
 * string; fails with -EBADMSG (and a reason) if the report does not pass sts_report_check().
 */
int sts_report_serialize(const struct sts_report *r, char **json, size_t *len, char *reason,
			 size_t reasonsz);

/* 15 ASCII digits and a valid Luhn check digit. */
bool sts_imei_valid(const char *imei, size_t len);
/* An officially assigned ISO 3166-1 alpha-2 code (upper case), from the embedded table. */
bool sts_country_assigned(const char *code, size_t len);
/* Well-formed UTF-8 (RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF). */
bool sts_utf8_valid(const char *s, size_t len, size_t *bad_offset);

#endif /* STS_REPORT_H */
