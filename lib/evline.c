// SPDX-License-Identifier: GPL-2.0-only
#include "evline.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static int bad(char *why, size_t whysz, const char *fmt, ...)
{
	va_list ap;

	if (why && whysz) {
		va_start(ap, fmt);
		vsnprintf(why, whysz, fmt, ap);
		va_end(ap);
	}
	return -EBADMSG;
}

bool evline_reserved_key(const char *key)
{
	static const char *const keys[] = { "seq", "time", "boot", "type", "prev" };
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strcmp(key, keys[i]) == 0)
			return true;
	return false;
}

bool evline_valid_type(const char *type)
{
	size_t i, n = strlen(type);

	if (n == 0 || n > EVLINE_TYPE_MAX)
		return false;
	for (i = 0; i < n; i++)
		if (!((type[i] >= 'a' && type[i] <= 'z') || type[i] == '_'))
			return false;
	return true;
}

int evline_format_time(int64_t time_us, char out[EVLINE_TIME_LEN + 1])
{
	time_t secs = (time_t)(time_us / 1000000);
	int64_t us = time_us % 1000000;
	char buf[64];
	struct tm tm;

	if (time_us < 0 || !gmtime_r(&secs, &tm) || tm.tm_year + 1900 > 9999)
		return -EINVAL;
	snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%06" PRId64 "Z",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 us);
	memcpy(out, buf, EVLINE_TIME_LEN + 1);
	return 0;
}

static bool digits(const char *s, int n, int *v)
{
	int i, x = 0;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		x = x * 10 + (s[i] - '0');
	}
	*v = x;
	return true;
}

int evline_parse_time(const char *s, size_t len, int64_t *time_us)
{
	int y, mo, d, h, mi, sec, us;
	struct tm tm = { 0 };
	char back[EVLINE_TIME_LEN + 1];
	time_t t;

	if (len != EVLINE_TIME_LEN || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
	    s[16] != ':' || s[19] != '.' || s[26] != 'Z' || !digits(s, 4, &y) ||
	    !digits(s + 5, 2, &mo) || !digits(s + 8, 2, &d) || !digits(s + 11, 2, &h) ||
	    !digits(s + 14, 2, &mi) || !digits(s + 17, 2, &sec) || !digits(s + 20, 6, &us))
		return -EBADMSG;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 59)
		return -EBADMSG;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = timegm(&tm);
	if (t == (time_t)-1)
		return -EBADMSG;
	*time_us = (int64_t)t * 1000000 + us;
	/* Round trip: rejects dates such as February 30 that timegm() would normalise. */
	if (evline_format_time(*time_us, back) || memcmp(back, s, EVLINE_TIME_LEN) != 0)
		return -EBADMSG;
	return 0;
}

int evline_parse(const char *line, size_t len, struct evline *rec, char *why, size_t whysz)
{
	json_t *seq, *time, *boot, *type, *prev;
	json_error_t jerr;
	const char *s;
	int err;

	memset(rec, 0, sizeof(*rec));
	if (len > EVLINE_MAX)
		return bad(why, whysz, "line longer than %d bytes", EVLINE_MAX);
	if (memchr(line, '\0', len))
		return bad(why, whysz, "NUL byte in line");
	rec->obj = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!rec->obj)
		return bad(why, whysz, "not JSON: %s at column %d", jerr.text, jerr.column);
	if (!json_is_object(rec->obj)) {
		err = bad(why, whysz, "not a JSON object");
		goto fail;
	}
	seq = json_object_get(rec->obj, "seq");
	time = json_object_get(rec->obj, "time");
	boot = json_object_get(rec->obj, "boot");
	type = json_object_get(rec->obj, "type");
	prev = json_object_get(rec->obj, "prev");
	if (!json_is_integer(seq) || json_integer_value(seq) < 0) {
		err = bad(why, whysz, "missing or invalid \"seq\"");
		goto fail;
	}
	rec->seq = (uint64_t)json_integer_value(seq);
	if (!json_is_string(time) ||
	    evline_parse_time(json_string_value(time), json_string_length(time), &rec->time_us)) {
		err = bad(why, whysz, "missing or invalid \"time\"");
		goto fail;
	}
	rec->time = json_string_value(time);
	if (!json_is_string(boot) || json_string_length(boot) == 0 ||
	    json_string_length(boot) > 64) {
		err = bad(why, whysz, "missing or invalid \"boot\"");
		goto fail;
	}
	rec->boot = json_string_value(boot);
	if (!json_is_string(type) || !evline_valid_type(json_string_value(type))) {
		err = bad(why, whysz, "missing or invalid \"type\"");
		goto fail;
	}
	rec->type = json_string_value(type);
	s = json_is_string(prev) ? json_string_value(prev) : NULL;
	if (!s || json_string_length(prev) != 2 * STS_SHA256_LEN ||
	    strspn(s, "0123456789abcdef") != 2 * STS_SHA256_LEN ||
	    sts_unhex(s, 2 * STS_SHA256_LEN, rec->prev, STS_SHA256_LEN)) {
		err = bad(why, whysz, "missing or invalid \"prev\"");
		goto fail;
	}
	return 0;
fail:
	evline_free(rec);
	return err;
}

void evline_free(struct evline *rec)
{
	json_decref(rec->obj);
	rec->obj = NULL;
}
