// SPDX-License-Identifier: GPL-2.0-only
#include "evidence/evline.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

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
	/* On the writer's path for every field: look at the length and first letter first. */
	switch (key[0]) {
	case 's':
		return strcmp(key, "seq") == 0;
	case 't':
		return strcmp(key, "time") == 0 || strcmp(key, "type") == 0;
	case 'b':
		return strcmp(key, "boot") == 0;
	case 'p':
		return strcmp(key, "prev") == 0;
	default:
		return false;
	}
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

/* Days from 1970-01-01 to y-m-d of the proleptic Gregorian calendar, y >= 1970. */
static int64_t days_since_epoch(int y, int m, int d)
{
	/* Count years from March, so that February 29 is the last day of its year. */
	int64_t yy = y - (m <= 2), era = yy / 400, yoe = yy - era * 400;
	int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;

	return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

int evline_parse_time(const char *s, size_t len, int64_t *time_us)
{
	static const int mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	/* The last date this thread checked: a log's lines share their date for a day. */
	static __thread char last_date[10];
	static __thread int64_t last_days = -1;
	int y, mo, d, h, mi, sec, us;
	int64_t days;
	bool leap;

	if (len != EVLINE_TIME_LEN || s[10] != 'T' || s[13] != ':' || s[16] != ':' ||
	    s[19] != '.' || s[26] != 'Z' || !digits(s + 11, 2, &h) || !digits(s + 14, 2, &mi) ||
	    !digits(s + 17, 2, &sec) || !digits(s + 20, 6, &us) || h > 23 || mi > 59 || sec > 59)
		return -EBADMSG;
	if (last_days >= 0 && memcmp(s, last_date, sizeof(last_date)) == 0) {
		days = last_days;
	} else {
		if (s[4] != '-' || s[7] != '-' || !digits(s, 4, &y) || !digits(s + 5, 2, &mo) ||
		    !digits(s + 8, 2, &d) || y < 1970 || mo < 1 || mo > 12 || d < 1)
			return -EBADMSG;
		/* One spelling per instant: no February 30 (which timegm() would move to March). */
		leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
		if (d > mdays[mo - 1] + (mo == 2 && leap))
			return -EBADMSG;
		days = days_since_epoch(y, mo, d);
		memcpy(last_date, s, sizeof(last_date));
		last_days = days;
	}
	*time_us = ((days * 24 + h) * 60 + mi) * 60 + sec;
	*time_us = *time_us * 1000000 + us;
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

/*
 * The scanner behind evline_scan(): a strict subset of JSON that jansson's json_loadb(...,
 * JSON_REJECT_DUPLICATES) accepts with the same meaning. It answers "valid" or "not sure";
 * never "invalid": whatever it does not know, jansson judges (and explains).
 */
#define SCAN_DEPTH 16
#define SCAN_KEYS 32

struct scan {
	const char *p, *end;
	int depth;
};

struct span {
	const char *s;
	size_t n;
};

/* What a byte is inside a string: 0 plain (printable ASCII), 1 '"', 2 '\\', 3 anything else. */
static const uint8_t str_class[256] = {
	[0 ... 0x1f] = 3,
	[0x7f ... 0xff] = 3,
	['"'] = 1,
	['\\'] = 2,
};

/*
 * The first byte at or after p that is not plain in a string ('"', '\\', a control byte, DEL
 * or non-ASCII), or end. Most of a line is strings and most string bytes are plain: sixteen
 * at a time where SSE2 is (every x86-64), eight at a time elsewhere.
 */
static inline const char *plain_end(const char *p, const char *end)
{
#ifdef __SSE2__
	const __m128i q = _mm_set1_epi8('"'), bs = _mm_set1_epi8('\\'), sp = _mm_set1_epi8(0x20),
		      del = _mm_set1_epi8(0x7f);

	while (end - p >= 16) {
		__m128i x = _mm_loadu_si128((const __m128i *)p);
		/* Signed compare: non-ASCII bytes are negative, below 0x20 too. */
		__m128i m =
			_mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, q), _mm_cmpeq_epi8(x, bs)),
				     _mm_or_si128(_mm_cmplt_epi8(x, sp), _mm_cmpeq_epi8(x, del)));
		int mask = _mm_movemask_epi8(m);

		if (mask)
			return p + __builtin_ctz((unsigned int)mask);
		p += 16;
	}
#else
	while (end - p >= 8) {
		uint64_t x, m;

		memcpy(&x, p, 8);
		m = x & 0x8080808080808080ull; /* non-ASCII */
		m |= (x - 0x2020202020202020ull) & ~x & 0x8080808080808080ull; /* < 0x20 */
		m |= ((x ^ 0x2222222222222222ull) - 0x0101010101010101ull) &
		     ~(x ^ 0x2222222222222222ull) & 0x8080808080808080ull; /* '"' */
		m |= ((x ^ 0x5c5c5c5c5c5c5c5cull) - 0x0101010101010101ull) &
		     ~(x ^ 0x5c5c5c5c5c5c5c5cull) & 0x8080808080808080ull; /* '\\' */
		m |= ((x ^ 0x7f7f7f7f7f7f7f7full) - 0x0101010101010101ull) &
		     ~(x ^ 0x7f7f7f7f7f7f7f7full) & 0x8080808080808080ull; /* DEL */
		if (m)
			break;
		p += 8;
	}
#endif
	while (p < end && str_class[(unsigned char)*p] == 0)
		p++;
	return p;
}

/* A string with no \u escape and printable ASCII only; *esc tells whether it has escapes. */
static bool scan_string(struct scan *sc, struct span *out, bool *esc)
{
	const char *p = sc->p + 1;
	uint8_t c;

	*esc = false;
	if (sc->p >= sc->end || *sc->p != '"')
		return false;
	for (;;) {
		p = plain_end(p, sc->end);
		if (p >= sc->end || (c = str_class[(unsigned char)*p]) == 3)
			return false;
		if (c == 1)
			break;
		if (p + 1 >= sc->end || !p[1] || !strchr("\"\\/bfnrt", p[1]))
			return false;
		*esc = true;
		p += 2;
	}
	out->s = sc->p + 1;
	out->n = p - out->s;
	sc->p = p + 1;
	return true;
}

/* -?(0|[1-9][0-9]*), at most 18 digits (it fits json_int_t), not followed by . e E. */
static bool scan_integer(struct scan *sc, struct span *out)
{
	const char *p = sc->p, *d;

	if (p < sc->end && *p == '-')
		p++;
	d = p;
	while (p < sc->end && *p >= '0' && *p <= '9')
		p++;
	if (p == d || p - d > 18 || (*d == '0' && p - d > 1))
		return false;
	if (p < sc->end && (*p == '.' || *p == 'e' || *p == 'E'))
		return false;
	out->s = sc->p;
	out->n = p - sc->p;
	sc->p = p;
	return true;
}

static bool scan_value(struct scan *sc, struct span *out);

static bool scan_literal(struct scan *sc, const char *lit)
{
	size_t n = strlen(lit);

	if ((size_t)(sc->end - sc->p) < n || memcmp(sc->p, lit, n) != 0)
		return false;
	sc->p += n;
	return true;
}

/* An object; keys[] gets its members (key, value) when not NULL. */
static bool scan_object(struct scan *sc, struct span keys[SCAN_KEYS], struct span vals[SCAN_KEYS],
			size_t *nkeys)
{
	struct span k, v, ks[SCAN_KEYS];
	size_t n = 0, i;
	bool esc;

	if (++sc->depth > SCAN_DEPTH || sc->p >= sc->end || *sc->p != '{')
		return false;
	sc->p++;
	if (sc->p < sc->end && *sc->p == '}') {
		sc->p++;
		goto done;
	}
	for (;;) {
		/* Keys with escapes could be duplicates in disguise: jansson decides. */
		if (n == SCAN_KEYS || !scan_string(sc, &k, &esc) || esc)
			return false;
		for (i = 0; i < n; i++)
			if (ks[i].n == k.n &&
			    (k.n == 0 || (ks[i].s[0] == k.s[0] && memcmp(ks[i].s, k.s, k.n) == 0)))
				return false;
		ks[n] = k;
		if (sc->p >= sc->end || *sc->p != ':')
			return false;
		sc->p++;
		if (!scan_value(sc, &v))
			return false;
		if (keys) {
			keys[n] = k;
			vals[n] = v;
		}
		n++;
		if (sc->p < sc->end && *sc->p == ',') {
			sc->p++;
			continue;
		}
		if (sc->p < sc->end && *sc->p == '}') {
			sc->p++;
			break;
		}
		return false;
	}
done:
	if (nkeys)
		*nkeys = n;
	sc->depth--;
	return true;
}

static bool scan_array(struct scan *sc)
{
	struct span v;

	if (++sc->depth > SCAN_DEPTH || sc->p >= sc->end || *sc->p != '[')
		return false;
	sc->p++;
	if (sc->p < sc->end && *sc->p == ']') {
		sc->p++;
		sc->depth--;
		return true;
	}
	for (;;) {
		if (!scan_value(sc, &v))
			return false;
		if (sc->p < sc->end && *sc->p == ',') {
			sc->p++;
			continue;
		}
		if (sc->p < sc->end && *sc->p == ']') {
			sc->p++;
			sc->depth--;
			return true;
		}
		return false;
	}
}

/* Any value; out spans it (a string without its quotes). */
static bool scan_value(struct scan *sc, struct span *out)
{
	bool esc;

	out->s = sc->p;
	out->n = 0;
	if (sc->p >= sc->end)
		return false;
	switch (*sc->p) {
	case '"':
		return scan_string(sc, out, &esc);
	case '{':
		return scan_object(sc, NULL, NULL, NULL);
	case '[':
		return scan_array(sc);
	case 't':
		return scan_literal(sc, "true");
	case 'f':
		return scan_literal(sc, "false");
	case 'n':
		return scan_literal(sc, "null");
	default:
		return scan_integer(sc, out);
	}
}

/* A member of the top-level object that is a string without escapes, copied to buf. */
static bool top_string(const struct span *k, const struct span *v, size_t nk, const char *name,
		       char *buf, size_t bufsz, size_t *len)
{
	size_t i, n = strlen(name);

	for (i = 0; i < nk; i++) {
		if (k[i].n != n || memcmp(k[i].s, name, n) != 0)
			continue;
		/* A string value starts right after its opening quote. */
		if (v[i].s[-1] != '"' || v[i].n >= bufsz || memchr(v[i].s, '\\', v[i].n))
			return false;
		memcpy(buf, v[i].s, v[i].n);
		buf[v[i].n] = '\0';
		*len = v[i].n;
		return true;
	}
	return false;
}

static bool lower_hex(const char *s, size_t n)
{
	size_t i;
	bool ok = true;

	for (i = 0; i < n; i++)
		ok &= (s[i] >= '0' && s[i] <= '9') | (s[i] >= 'a' && s[i] <= 'f');
	return ok;
}

#ifndef __SSE2__
/* Lowercase hex digits to their value + 1; 0 for any other byte. */
static const uint8_t hexval_lc[256] = {
	['0'] = 1,  ['1'] = 2,	['2'] = 3,  ['3'] = 4,	['4'] = 5,  ['5'] = 6,
	['6'] = 7,  ['7'] = 8,	['8'] = 9,  ['9'] = 10, ['a'] = 11, ['b'] = 12,
	['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
};
#endif

static inline __attribute__((always_inline)) bool lit(const char **p, const char *end,
						      const char *s, size_t n)
{
	if ((size_t)(end - *p) < n || memcmp(*p, s, n) != 0)
		return false;
	*p += n;
	return true;
}

#define LIT(p, end, s) lit(&(p), (end), (s), sizeof(s) - 1)

/* 64 lowercase hex digits to 32 bytes; false if any is not one. */
static bool unhex32_lc(const char *p, uint8_t out[32])
{
#ifdef __SSE2__
	const __m128i c0 = _mm_set1_epi8('0'), ca = _mm_set1_epi8('a'), n9 = _mm_set1_epi8(9),
		      n5 = _mm_set1_epi8(5), n10 = _mm_set1_epi8(10), lo8 = _mm_set1_epi16(0x00ff);
	__m128i v[4], ok = _mm_set1_epi8(-1);
	int i;

	for (i = 0; i < 4; i++) {
		__m128i x = _mm_loadu_si128((const __m128i *)(p + 16 * i));
		__m128i d = _mm_sub_epi8(x, c0), a = _mm_sub_epi8(x, ca);
		/* Unsigned "at most": min(x, m) == x. */
		__m128i isd = _mm_cmpeq_epi8(_mm_min_epu8(d, n9), d);
		__m128i isa = _mm_cmpeq_epi8(_mm_min_epu8(a, n5), a);
		__m128i val = _mm_or_si128(_mm_and_si128(isd, d),
					   _mm_and_si128(isa, _mm_add_epi8(a, n10)));

		ok = _mm_and_si128(ok, _mm_or_si128(isd, isa));
		/* Each 16-bit lane holds (high digit, low digit): one byte from the two. */
		v[i] = _mm_or_si128(_mm_slli_epi16(_mm_and_si128(val, lo8), 4),
				    _mm_srli_epi16(val, 8));
	}
	if (_mm_movemask_epi8(ok) != 0xffff)
		return false;
	_mm_storeu_si128((__m128i *)out, _mm_packus_epi16(v[0], v[1]));
	_mm_storeu_si128((__m128i *)(out + 16), _mm_packus_epi16(v[2], v[3]));
	return true;
#else
	uint8_t bad = 0, hi, lo;
	size_t i;

	for (i = 0; i < 32; i++) {
		/* Not a digit: 0 - 1 = 0xff, caught below. */
		hi = (uint8_t)(hexval_lc[(unsigned char)p[2 * i]] - 1);
		lo = (uint8_t)(hexval_lc[(unsigned char)p[2 * i + 1]] - 1);
		bad |= hi | lo;
		out[i] = (uint8_t)(hi << 4 | (lo & 15));
	}
	return !(bad & 0xf0);
#endif
}

static bool reserved_span(const struct span *k)
{
	if (k->n == 3)
		return memcmp(k->s, "seq", 3) == 0;
	return k->n == 4 && (memcmp(k->s, "time", 4) == 0 || memcmp(k->s, "boot", 4) == 0 ||
			     memcmp(k->s, "type", 4) == 0 || memcmp(k->s, "prev", 4) == 0);
}

/*
 * The writer's own form, the verifier's hot path: the five fields first, in this order and
 * spelling, {"seq":N,"time":"T","boot":"B","type":"Y","prev":"H" then the record's members,
 * each checked as JSON by the scanner (no duplicate, none of the five again). Fixed offsets
 * and one pass: no table of members, no copy but the three short strings. Answers "valid"
 * or "not sure", like the scanner.
 */
static bool scan_writer_form(const char *line, size_t len, struct evline *rec)
{
	const char *p = line, *end = line + len, *s;
	/* Keys as two arrays: a struct copied whole stalled on its just-stored halves. */
	const char *kp[SCAN_KEYS];
	size_t kn[SCAN_KEYS];
	struct scan sc;
	struct span k, v;
	size_t n = 0, i;
	uint64_t seq = 0;
	bool esc;

	if (!LIT(p, end, "{\"seq\":"))
		return false;
	for (s = p; p < end && *p >= '0' && *p <= '9'; p++)
		seq = seq * 10 + (uint64_t)(*p - '0');
	if (p == s || p - s > 18 || (*s == '0' && p - s > 1))
		return false;
	if (!LIT(p, end, ",\"time\":\"") || end - p < EVLINE_TIME_LEN + 1 ||
	    p[EVLINE_TIME_LEN] != '"' || evline_parse_time(p, EVLINE_TIME_LEN, &rec->time_us))
		return false;
	memcpy(rec->time_buf, p, EVLINE_TIME_LEN);
	rec->time_buf[EVLINE_TIME_LEN] = '\0';
	p += EVLINE_TIME_LEN + 1;
	if (!LIT(p, end, ",\"boot\":\""))
		return false;
	s = p;
	p = plain_end(p, end);
	if (p >= end || *p != '"' || p == s || (size_t)(p - s) >= sizeof(rec->boot_buf))
		return false;
	memcpy(rec->boot_buf, s, p - s);
	rec->boot_buf[p - s] = '\0';
	p++;
	if (!LIT(p, end, ",\"type\":\""))
		return false;
	for (s = p; p < end && p - s <= EVLINE_TYPE_MAX && ((*p >= 'a' && *p <= 'z') || *p == '_');
	     p++)
		;
	if (p >= end || *p != '"' || p == s || p - s > EVLINE_TYPE_MAX)
		return false;
	memcpy(rec->type_buf, s, p - s);
	rec->type_buf[p - s] = '\0';
	p++;
	if (!LIT(p, end, ",\"prev\":\"") || end - p < 2 * STS_SHA256_LEN + 1 ||
	    p[2 * STS_SHA256_LEN] != '"')
		return false;
	if (!unhex32_lc(p, rec->prev))
		return false;
	/* The record's own members: the top-level object goes on at depth 1. */
	sc.p = p + 2 * STS_SHA256_LEN + 1;
	sc.end = end;
	sc.depth = 1;
	for (;;) {
		if (sc.p >= end)
			return false;
		if (*sc.p == '}')
			break;
		if (*sc.p != ',' || n == SCAN_KEYS)
			return false;
		sc.p++;
		/* Keys with escapes could be duplicates in disguise: jansson decides. */
		if (!scan_string(&sc, &k, &esc) || esc || reserved_span(&k))
			return false;
		for (i = 0; i < n; i++)
			if (kn[i] == k.n &&
			    (k.n == 0 || (kp[i][0] == k.s[0] && memcmp(kp[i], k.s, k.n) == 0)))
				return false;
		kp[n] = k.s;
		kn[n++] = k.n;
		if (sc.p >= end || *sc.p != ':')
			return false;
		sc.p++;
		if (!scan_value(&sc, &v))
			return false;
	}
	if (sc.p + 1 != end)
		return false;
	rec->seq = seq;
	rec->time = rec->time_buf;
	rec->boot = rec->boot_buf;
	rec->type = rec->type_buf;
	return true;
}

int evline_scan(const char *line, size_t len, struct evline *rec, char *why, size_t whysz)
{
	struct span keys[SCAN_KEYS], vals[SCAN_KEYS];
	struct scan sc = { .p = line, .end = line + len };
	char seqbuf[24], prevbuf[2 * STS_SHA256_LEN + 1];
	size_t nk = 0, n, tlen, blen;
	uint64_t seq = 0;

	rec->obj = NULL;
	if (len <= EVLINE_MAX && scan_writer_form(line, len, rec))
		return 0;
	memset(rec, 0, sizeof(*rec));
	if (len > EVLINE_MAX || !scan_object(&sc, keys, vals, &nk) || sc.p != sc.end)
		goto full;
	/* seq: a non-negative integer (no '-', no quotes). */
	if (!top_string(keys, vals, nk, "time", rec->time_buf, sizeof(rec->time_buf), &tlen) ||
	    !top_string(keys, vals, nk, "boot", rec->boot_buf, sizeof(rec->boot_buf), &blen) ||
	    !top_string(keys, vals, nk, "type", rec->type_buf, sizeof(rec->type_buf), &n) ||
	    !top_string(keys, vals, nk, "prev", prevbuf, sizeof(prevbuf), &n) ||
	    n != 2 * STS_SHA256_LEN || !lower_hex(prevbuf, n) ||
	    sts_unhex(prevbuf, n, rec->prev, STS_SHA256_LEN) || blen == 0 ||
	    !evline_valid_type(rec->type_buf) ||
	    evline_parse_time(rec->time_buf, tlen, &rec->time_us))
		goto full;
	for (n = 0; n < nk; n++)
		if (keys[n].n == 3 && memcmp(keys[n].s, "seq", 3) == 0)
			break;
	if (n == nk || vals[n].s[-1] == '"' || vals[n].n == 0 || vals[n].s[0] < '0' ||
	    vals[n].s[0] > '9' || vals[n].n >= sizeof(seqbuf))
		goto full;
	for (size_t i = 0; i < vals[n].n; i++)
		seq = seq * 10 + (uint64_t)(vals[n].s[i] - '0');
	rec->seq = seq;
	rec->time = rec->time_buf;
	rec->boot = rec->boot_buf;
	rec->type = rec->type_buf;
	return 0;
full:
	return evline_parse(line, len, rec, why, whysz);
}

void evline_free(struct evline *rec)
{
	json_decref(rec->obj);
	rec->obj = NULL;
}
