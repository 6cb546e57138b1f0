// SPDX-License-Identifier: GPL-2.0-only
#include "wire/request.h"
#include "wire/jws.h"
#include "wire/report.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(char *reason, size_t sz, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sz, fmt, ap);
	va_end(ap);
	return -EBADMSG;
}

/* Match a fixed prefix, advancing *p; 0 if it is not there. */
static int take(const char **p, const char *end, const char *lit)
{
	size_t n = strlen(lit);

	if ((size_t)(end - *p) < n || memcmp(*p, lit, n) != 0)
		return 0;
	*p += n;
	return 1;
}

int sts_request_check(const char *buf, size_t len, size_t body_max, char *reason, size_t reasonsz)
{
	const char *p = buf, *end = buf + len, *host, *cl;
	char why[STS_REASON_MAX];
	struct sts_jws jws;
	struct sts_report r;
	size_t clen = 0, body_len;
	int err;

	if (!take(&p, end, "POST " STS_REQUEST_PATH " HTTP/1.1\r\n"))
		return fail(
			reason, reasonsz,
			"not the activation request: it must start with \"POST " STS_REQUEST_PATH
			" HTTP/1.1\" (clear-text or another request)");
	if (!take(&p, end, "Host: "))
		return fail(reason, reasonsz, "the first header must be Host");
	host = p;
	while (p < end && *p != '\r')
		p++;
	if (!sts_request_host_valid(host, p - host) || !take(&p, end, "\r\n"))
		return fail(reason, reasonsz, "bad Host header");
	if (!take(&p, end, "Content-Type: application/jose\r\n"))
		return fail(reason, reasonsz,
			    "the second header must be \"Content-Type: application/jose\" (no "
			    "other header is allowed: no cookie, no user agent)");
	if (!take(&p, end, "Content-Length: "))
		return fail(reason, reasonsz, "the third header must be Content-Length");
	cl = p;
	while (p < end && *p >= '0' && *p <= '9' && p - cl < 6)
		clen = clen * 10 + (size_t)(*p++ - '0');
	if (p == cl || (*cl == '0' && p - cl > 1) || !take(&p, end, "\r\n\r\n"))
		return fail(reason, reasonsz,
			    "bad Content-Length, or a header after it (only Host, Content-Type "
			    "and Content-Length are allowed)");
	if ((size_t)(p - buf) > STS_REQUEST_HEAD_MAX)
		return fail(reason, reasonsz, "request head longer than %d bytes",
			    STS_REQUEST_HEAD_MAX);
	body_len = end - p;
	if (body_len != clen)
		return fail(reason, reasonsz,
			    "Content-Length %zu but %zu body bytes in this write (the whole "
			    "request must be written at once, with nothing after it)",
			    clen, body_len);
	if (body_len > body_max)
		return fail(reason, reasonsz, "body of %zu bytes, more than report-max %zu",
			    body_len, body_max);
	err = sts_jws_parse(p, body_len, &jws, why, sizeof(why));
	if (err)
		return fail(reason, reasonsz, "body is not the signed report: %s", why);
	err = sts_report_parse(jws.payload, jws.payload_len, &r, why, sizeof(why));
	sts_jws_free(&jws);
	if (err)
		return fail(reason, reasonsz, "claims are not the approved report: %s", why);
	return 0;
}
