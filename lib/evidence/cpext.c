// SPDX-License-Identifier: GPL-2.0-only
#include "evidence/cpext.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool cpext_valid_boot(const char *boot)
{
	size_t i, n = strlen(boot);

	if (n == 0 || n > 64)
		return false;
	for (i = 0; i < n; i++)
		if (boot[i] <= ' ' || boot[i] > '~')
			return false;
	return true;
}

int cpext_format(const struct cpext *e, bool with_mac, char out[CPEXT_MAX])
{
	char prev[2 * STS_SHA256_LEN + 1], mac[2 * STS_SHA256_LEN + 1];
	int n, m = 0;

	if (!cpext_valid_boot(e->boot))
		return -EINVAL;
	n = snprintf(out, CPEXT_MAX, CPEXT_TAG "\ntime %s\nboot %s\nlog_key %s\n", e->time, e->boot,
		     e->log_key);
	if (n < 0 || n >= CPEXT_MAX)
		return -EOVERFLOW;
	if (e->sealed) {
		sts_hex(e->prev_mac, STS_SHA256_LEN, prev);
		sts_hex(e->mac, STS_SHA256_LEN, mac);
		m = snprintf(out + n, CPEXT_MAX - n, "seal %" PRIu64 " %s %s%s%s%s", e->epoch,
			     e->close ? "close" : "open", prev, with_mac ? " " : "",
			     with_mac ? mac : "", with_mac ? "\n" : "");
		if (m < 0 || m >= CPEXT_MAX - n)
			return -EOVERFLOW;
	}
	return 0;
}

/* The line at *p, which must start with tag and end with a newline before end. */
static bool take(const char **p, const char *end, const char *tag, const char **val, size_t *len)
{
	size_t t = strlen(tag);
	const char *nl;

	if ((size_t)(end - *p) < t || memcmp(*p, tag, t) != 0)
		return false;
	nl = memchr(*p + t, '\n', end - (*p + t));
	if (!nl)
		return false;
	*val = *p + t;
	*len = nl - *val;
	*p = nl + 1;
	return true;
}

static bool copy(char *dst, size_t dstsz, const char *s, size_t n)
{
	if (n == 0 || n >= dstsz || memchr(s, ' ', n))
		return false;
	memcpy(dst, s, n);
	dst[n] = '\0';
	return true;
}

static bool lower_hex(const char *s, size_t n, uint8_t *out)
{
	return strspn(s, "0123456789abcdef") >= n && !sts_unhex(s, n, out, n / 2);
}

int cpext_parse(const char *note, size_t ext_off, size_t ext_len, struct cpext *e)
{
	const char *p = note + ext_off, *end = p + ext_len, *v;
	size_t n, hl = 2 * STS_SHA256_LEN;
	char *q;

	memset(e, 0, sizeof(*e));
	if (ext_len == 0 || !take(&p, end, CPEXT_TAG, &v, &n) || n != 0 ||
	    !take(&p, end, "time ", &v, &n) || !copy(e->time, sizeof(e->time), v, n) ||
	    n != EVLINE_TIME_LEN || !take(&p, end, "boot ", &v, &n) ||
	    !copy(e->boot, sizeof(e->boot), v, n) || !cpext_valid_boot(e->boot) ||
	    !take(&p, end, "log_key ", &v, &n) || !copy(e->log_key, sizeof(e->log_key), v, n))
		return -EBADMSG;
	if (p == end)
		return 0;
	if (!take(&p, end, "seal ", &v, &n) || p != end || n < 2 * hl + 8)
		return -EBADMSG;
	/* "<epoch> <open|close> <prev> <mac>": decimal without a leading zero. */
	if (v[0] < '0' || v[0] > '9' || (v[0] == '0' && v[1] != ' '))
		return -EBADMSG;
	errno = 0;
	e->epoch = strtoull(v, &q, 10);
	if (errno || *q != ' ' || q - v > 19)
		return -EBADMSG;
	q++;
	if ((size_t)(v + n - q) == 5 + 1 + 2 * hl && memcmp(q, "open ", 5) == 0) {
		q += 5;
	} else if ((size_t)(v + n - q) == 6 + 1 + 2 * hl && memcmp(q, "close ", 6) == 0) {
		e->close = true;
		q += 6;
	} else {
		return -EBADMSG;
	}
	if (!lower_hex(q, hl, e->prev_mac) || q[hl] != ' ' || !lower_hex(q + hl + 1, hl, e->mac))
		return -EBADMSG;
	e->sealed = true;
	e->mac_cover = (size_t)(q + hl - note);
	return 0;
}

int cpext_mac(const uint8_t key[SEAL_KEY_LEN], const char *text, size_t len,
	      uint8_t mac[STS_SHA256_LEN])
{
	size_t t = sizeof(CPEXT_SEAL_TAG) - 1;
	char *buf = malloc(t + len);
	int err;

	if (!buf)
		return -ENOMEM;
	memcpy(buf, CPEXT_SEAL_TAG, t);
	memcpy(buf + t, text, len);
	err = sts_hmac_sha256(key, SEAL_KEY_LEN, buf, t + len, mac);
	free(buf);
	return err;
}
