// SPDX-License-Identifier: GPL-2.0-only
#include "wire/report.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

/*
 * Every ISO 3166-1 alpha-2 code that is officially assigned, sorted for bsearch. Generated
 * from Debian's iso-codes 4.15.0 (/usr/share/iso-codes/json/iso_3166-1.json, 249 codes).
 * Embedded rather than read at run time so that the monitor and the collector decide the
 * same way on every machine, with no file to go missing or be swapped. Exceptionally or
 * transitionally reserved codes (EU, UK, ...) are not assigned and are refused.
 */
static const char country_codes[][3] = {
	"AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX",
	"AZ", "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ",
	"BR", "BS", "BT", "BV", "BW", "BY", "BZ", "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK",
	"CL", "CM", "CN", "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE", "DJ", "DK", "DM",
	"DO", "DZ", "EC", "EE", "EG", "EH", "ER", "ES", "ET", "FI", "FJ", "FK", "FM", "FO", "FR",
	"GA", "GB", "GD", "GE", "GF", "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS",
	"GT", "GU", "GW", "GY", "HK", "HM", "HN", "HR", "HT", "HU", "ID", "IE", "IL", "IM", "IN",
	"IO", "IQ", "IR", "IS", "IT", "JE", "JM", "JO", "JP", "KE", "KG", "KH", "KI", "KM", "KN",
	"KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC", "LI", "LK", "LR", "LS", "LT", "LU", "LV",
	"LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK", "ML", "MM", "MN", "MO", "MP", "MQ",
	"MR", "MS", "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA", "NC", "NE", "NF", "NG", "NI",
	"NL", "NO", "NP", "NR", "NU", "NZ", "OM", "PA", "PE", "PF", "PG", "PH", "PK", "PL", "PM",
	"PN", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS", "RU", "RW", "SA", "SB", "SC",
	"SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS", "ST", "SV",
	"SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO", "TR",
	"TT", "TV", "TW", "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI",
	"VN", "VU", "WF", "WS", "YE", "YT", "ZA", "ZM", "ZW",
};

static int fail(char *reason, size_t reasonsz, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char *reason, size_t reasonsz, const char *fmt, ...)
{
	va_list ap;

	if (reason && reasonsz) {
		va_start(ap, fmt);
		vsnprintf(reason, reasonsz, fmt, ap);
		va_end(ap);
	}
	return -EBADMSG;
}

bool sts_imei_valid(const char *imei, size_t len)
{
	unsigned int sum = 0, d;
	size_t i;

	if (len != STS_REPORT_IMEI_LEN)
		return false;
	for (i = 0; i < len; i++) {
		if (imei[i] < '0' || imei[i] > '9')
			return false;
		d = imei[i] - '0';
		/* Luhn: double every second digit counting from the right, check digit excluded. */
		if ((len - 1 - i) % 2 == 1) {
			d *= 2;
			if (d > 9)
				d -= 9;
		}
		sum += d;
	}
	return sum % 10 == 0;
}

static int cmp_code(const void *a, const void *b)
{
	return memcmp(a, b, 2);
}

bool sts_country_assigned(const char *code, size_t len)
{
	char key[3];

	if (len != 2)
		return false;
	key[0] = code[0];
	key[1] = code[1];
	key[2] = '\0';
	return bsearch(key, country_codes, sizeof(country_codes) / sizeof(country_codes[0]),
		       sizeof(country_codes[0]), cmp_code) != NULL;
}

bool sts_utf8_valid(const char *str, size_t len, size_t *bad_offset)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, n, k;
	uint32_t cp, min;

	while (i < len) {
		if (s[i] < 0x80) {
			i++;
			continue;
		} else if ((s[i] & 0xe0) == 0xc0) {
			n = 1;
			cp = s[i] & 0x1f;
			min = 0x80;
		} else if ((s[i] & 0xf0) == 0xe0) {
			n = 2;
			cp = s[i] & 0x0f;
			min = 0x800;
		} else if ((s[i] & 0xf8) == 0xf0) {
			n = 3;
			cp = s[i] & 0x07;
			min = 0x10000;
		} else {
			goto bad;
		}
		if (len - i <= n)
			goto bad;
		for (k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				goto bad;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			goto bad;
		i += n + 1;
	}
	return true;
bad:
	if (bad_offset)
		*bad_offset = i;
	return false;
}

/* C0 controls, DEL and C1 controls (U+0080..U+009F, encoded as 0xc2 0x80..0x9f). */
static bool has_control(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i;

	for (i = 0; i < len; i++) {
		if (s[i] < 0x20 || s[i] == 0x7f)
			return true;
		if (s[i] == 0xc2 && i + 1 < len && s[i + 1] >= 0x80 && s[i + 1] <= 0x9f)
			return true;
	}
	return false;
}

static int check_text(const char *name, const char *v, size_t len, size_t max, char *reason,
		      size_t reasonsz)
{
	size_t bad;

	if (len == 0)
		return fail(reason, reasonsz, "claim \"%s\" is empty", name);
	if (len > max)
		return fail(reason, reasonsz, "claim \"%s\" is %zu bytes long; at most %zu allowed",
			    name, len, max);
	if (!sts_utf8_valid(v, len, &bad))
		return fail(reason, reasonsz, "claim \"%s\" is not valid UTF-8 at byte %zu", name,
			    bad);
	if (memchr(v, '\0', len) || has_control(v, len))
		return fail(reason, reasonsz, "claim \"%s\" contains a control character", name);
	return 0;
}

static int check_imei(const char *v, size_t len, char *reason, size_t reasonsz)
{
	size_t i;

	if (len != STS_REPORT_IMEI_LEN)
		return fail(reason, reasonsz,
			    "claim \"imei\" has %zu characters; an IMEI is exactly 15 digits", len);
	for (i = 0; i < len; i++)
		if (v[i] < '0' || v[i] > '9')
			return fail(reason, reasonsz,
				    "claim \"imei\" has a non-digit at position %zu; an IMEI is "
				    "exactly 15 digits",
				    i + 1);
	if (!sts_imei_valid(v, len))
		return fail(reason, reasonsz,
			    "claim \"imei\" fails the Luhn check digit test (mistyped or not an "
			    "IMEI)");
	return 0;
}

static int check_country(const char *v, size_t len, char *reason, size_t reasonsz)
{
	if (len != 2 || !((v[0] >= 'A' && v[0] <= 'Z') || (v[0] >= 'a' && v[0] <= 'z')) ||
	    !((v[1] >= 'A' && v[1] <= 'Z') || (v[1] >= 'a' && v[1] <= 'z')))
		return fail(reason, reasonsz,
			    "claim \"country\" must be an ISO 3166-1 alpha-2 code of two "
			    "upper-case letters, e.g. \"DE\"");
	if (v[0] >= 'a' || v[1] >= 'a')
		return fail(reason, reasonsz,
			    "claim \"country\" \"%.2s\" must be upper case, e.g. \"%c%c\"", v,
			    v[0] & ~0x20, v[1] & ~0x20);
	if (!sts_country_assigned(v, len))
		return fail(reason, reasonsz,
			    "claim \"country\" \"%.2s\" is not an officially assigned ISO 3166-1 "
			    "alpha-2 code",
			    v);
	return 0;
}

int sts_report_check(const struct sts_report *r, char *reason, size_t reasonsz)
{
	int err;

	err = check_imei(r->imei, strnlen(r->imei, sizeof(r->imei)), reason, reasonsz);
	if (!err)
		err = check_text("model", r->model, strnlen(r->model, sizeof(r->model)),
				 STS_REPORT_MODEL_MAX, reason, reasonsz);
	if (!err)
		err = check_text("sw_version", r->sw_version,
				 strnlen(r->sw_version, sizeof(r->sw_version)),
				 STS_REPORT_SW_VERSION_MAX, reason, reasonsz);
	if (!err && r->country[0])
		err = check_country(r->country, strnlen(r->country, sizeof(r->country)), reason,
				    reasonsz);
	return err;
}

static const struct {
	const char *name;
	bool required;
} claims[] = {
	{ "imei", true },
	{ "model", true },
	{ "sw_version", true },
	{ "country", false },
};

const char *sts_json_error_text(const json_error_t *e)
{
	/* jansson's own texts name its flags (JSON_ALLOW_NUL ...): a client cannot act on those. */
	switch (json_error_code(e)) {
	case json_error_null_character:
	case json_error_null_byte_in_key:
		return "a NUL character (\\u0000) is not allowed in a string";
	case json_error_stack_overflow:
		return "too deeply nested";
	case json_error_numeric_overflow:
		return "a number too large";
	case json_error_out_of_memory:
		return "out of memory";
	default:
		break;
	}
	if (strstr(e->text, "JSON_") || strstr(e->text, "json_"))
		return "invalid JSON";
	return e->text;
}

int sts_report_parse(const char *json, size_t len, struct sts_report *r, char *reason,
		     size_t reasonsz)
{
	json_t *root = NULL, *v;
	json_error_t jerr;
	const char *key, *s;
	size_t bad, i, n;
	int err = 0;

	memset(r, 0, sizeof(*r));
	if (len > STS_REPORT_JSON_MAX)
		return fail(reason, reasonsz, "claim set is %zu bytes long; at most %d allowed",
			    len, STS_REPORT_JSON_MAX);
	/* Checked here, before jansson, so the reason can give the offset of the bad byte. */
	if (!sts_utf8_valid(json, len, &bad))
		return fail(reason, reasonsz, "claim set is not valid UTF-8 at byte %zu", bad);
	root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		if (json_error_code(&jerr) == json_error_duplicate_key)
			return fail(reason, reasonsz, "claim set has a duplicate claim: %s",
				    sts_json_error_text(&jerr));
		return fail(reason, reasonsz, "claim set is not valid JSON: %s at byte %d",
			    sts_json_error_text(&jerr), jerr.position);
	}
	if (!json_is_object(root)) {
		err = fail(reason, reasonsz, "claim set must be a JSON object");
		goto cleanup;
	}
	json_object_foreach(root, key, v)
	{
		for (i = 0; i < sizeof(claims) / sizeof(claims[0]); i++)
			if (strcmp(key, claims[i].name) == 0)
				break;
		if (i == sizeof(claims) / sizeof(claims[0])) {
			err = fail(reason, reasonsz,
				   "claim \"%.40s\" is not allowed; only imei, model, sw_version "
				   "and country may be sent",
				   key);
			goto cleanup;
		}
		if (!json_is_string(v)) {
			err = fail(reason, reasonsz, "claim \"%s\" must be a JSON string", key);
			goto cleanup;
		}
	}
	for (i = 0; i < sizeof(claims) / sizeof(claims[0]); i++) {
		v = json_object_get(root, claims[i].name);
		if (!v) {
			if (claims[i].required) {
				err = fail(reason, reasonsz, "claim \"%s\" is missing",
					   claims[i].name);
				goto cleanup;
			}
			continue;
		}
		s = json_string_value(v);
		n = json_string_length(v);
		switch (i) {
		case 0:
			err = check_imei(s, n, reason, reasonsz);
			if (!err)
				memcpy(r->imei, s, n);
			break;
		case 1:
			err = check_text("model", s, n, STS_REPORT_MODEL_MAX, reason, reasonsz);
			if (!err)
				memcpy(r->model, s, n);
			break;
		case 2:
			err = check_text("sw_version", s, n, STS_REPORT_SW_VERSION_MAX, reason,
					 reasonsz);
			if (!err)
				memcpy(r->sw_version, s, n);
			break;
		case 3:
			err = check_country(s, n, reason, reasonsz);
			if (!err)
				memcpy(r->country, s, n);
			break;
		}
		if (err)
			goto cleanup;
	}
cleanup:
	json_decref(root);
	if (err)
		memset(r, 0, sizeof(*r));
	return err;
}

int sts_report_serialize(const struct sts_report *r, char **json, size_t *len, char *reason,
			 size_t reasonsz)
{
	json_t *root = NULL;
	int err;

	*json = NULL;
	err = sts_report_check(r, reason, reasonsz);
	if (err)
		return err;
	root = json_object();
	if (!root || json_object_set_new(root, "imei", json_string(r->imei)) ||
	    json_object_set_new(root, "model", json_string(r->model)) ||
	    json_object_set_new(root, "sw_version", json_string(r->sw_version)) ||
	    (r->country[0] && json_object_set_new(root, "country", json_string(r->country)))) {
		err = -ENOMEM;
		goto cleanup;
	}
	/* Insertion order is jansson's order, so the bytes are a function of the claims. */
	*json = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
	if (!*json) {
		err = -ENOMEM;
		goto cleanup;
	}
	*len = strlen(*json);
cleanup:
	json_decref(root);
	return err;
}
