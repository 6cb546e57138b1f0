// SPDX-License-Identifier: GPL-2.0-only
/*
 * One HTTP/1.1 request head, strictly (see http.h). Every refusal names the rule broken in
 * words a client developer can act on.
 */
#include "wire/http.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* RFC 9110 §5.6.2 tchar. */
static bool is_tchar(unsigned char c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
		return true;
	return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* RFC 9110 §5.5 field-vchar, SP and HTAB; obs-text (>= 0x80) too. */
static bool is_field_char(unsigned char c)
{
	return c == ' ' || c == '\t' || (c >= 0x21 && c != 0x7f);
}

static int fail(char *reason, size_t reasonsz, int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, reasonsz, fmt, ap);
	va_end(ap);
	return status;
}

size_t sts_http_head_end(const char *buf, size_t len)
{
	size_t i;

	/* The first LF that ends an empty line: "\n\n" or "\n\r\n". */
	for (i = 0; i < len; i++) {
		if (buf[i] != '\n')
			continue;
		if (i + 1 < len && buf[i + 1] == '\n')
			return i + 2;
		if (i + 2 < len && buf[i + 1] == '\r' && buf[i + 2] == '\n')
			return i + 3;
	}
	return 0;
}

/* The next line of buf[*pos..end) without its CRLF; a bare LF or CR is refused. */
static int next_line(const char *buf, size_t end, size_t *pos, const char **line, size_t *n,
		     char *reason, size_t reasonsz)
{
	size_t i;

	for (i = *pos; i < end; i++) {
		if (buf[i] == '\r') {
			if (i + 1 >= end || buf[i + 1] != '\n')
				return fail(reason, reasonsz, 400,
					    "a CR not followed by LF in the request head");
			*line = buf + *pos;
			*n = i - *pos;
			*pos = i + 2;
			return 0;
		}
		if (buf[i] == '\n')
			return fail(
				reason, reasonsz, 400,
				"a line of the request head ends with a bare LF; HTTP/1.1 lines "
				"end with CRLF");
	}
	return fail(reason, reasonsz, 400, "the request head is not terminated by an empty line");
}

static int parse_request_line(const char *l, size_t n, struct sts_http_head *h, char *reason,
			      size_t reasonsz)
{
	size_t i = 0, m, t;

	for (m = 0; i < n && is_tchar((unsigned char)l[i]); i++, m++)
		;
	if (m == 0 || m >= sizeof(h->method) || i >= n || l[i] != ' ')
		return fail(reason, reasonsz, 400,
			    "malformed request line; expected METHOD SP TARGET SP HTTP/1.1");
	memcpy(h->method, l, m);
	h->method[m] = '\0';
	t = ++i;
	while (i < n && l[i] > 0x20 && l[i] != 0x7f)
		i++;
	if (i == t || i >= n || l[i] != ' ')
		return fail(reason, reasonsz, 400,
			    "malformed request line; expected METHOD SP TARGET SP HTTP/1.1");
	if (i - t >= sizeof(h->target))
		return fail(reason, reasonsz, 400, "request target longer than %zu bytes",
			    sizeof(h->target) - 1);
	memcpy(h->target, l + t, i - t);
	h->target[i - t] = '\0';
	i++;
	if (n - i != 8 || memcmp(l + i, "HTTP/", 5) != 0 || l[i + 5] < '0' || l[i + 5] > '9' ||
	    l[i + 6] != '.' || l[i + 7] < '0' || l[i + 7] > '9')
		return fail(reason, reasonsz, 400,
			    "malformed request line; expected METHOD SP TARGET SP HTTP/1.1");
	if (l[i + 5] != '1' || (l[i + 7] != '0' && l[i + 7] != '1'))
		return fail(reason, reasonsz, 505, "HTTP/%c.%c is not supported; use HTTP/1.1",
			    l[i + 5], l[i + 7]);
	h->minor = l[i + 7] - '0';
	/* Only origin-form: absolute-form is for proxies, authority-form for CONNECT. */
	if (h->target[0] != '/')
		return fail(reason, reasonsz, 400,
			    "request target must be a path (origin-form, e.g. /v1/activations), "
			    "not an absolute URI, an authority or *");
	return 0;
}

static bool name_is(const char *l, size_t n, const char *name)
{
	return strlen(name) == n && strncasecmp(l, name, n) == 0;
}

static int parse_field(const char *l, size_t n, struct sts_http_head *h, int *n_cl, int *n_host,
		       int *n_ctype, bool *has_te, char *reason, size_t reasonsz)
{
	size_t i, name_len, vs, ve;
	long long v;

	if (l[0] == ' ' || l[0] == '\t')
		return fail(reason, reasonsz, 400,
			    "a header line starts with whitespace (obsolete line folding)");
	for (i = 0; i < n && is_tchar((unsigned char)l[i]); i++)
		;
	name_len = i;
	if (name_len == 0 || i >= n || l[i] != ':')
		return fail(reason, reasonsz, 400,
			    i < n && (l[i] == ' ' || l[i] == '\t')
				    ? "whitespace between a header name and its colon"
				    : "malformed header line; expected NAME: VALUE");
	for (vs = i + 1; vs < n && (l[vs] == ' ' || l[vs] == '\t'); vs++)
		;
	for (ve = n; ve > vs && (l[ve - 1] == ' ' || l[ve - 1] == '\t'); ve--)
		;
	for (i = vs; i < ve; i++)
		if (!is_field_char((unsigned char)l[i]))
			return fail(reason, reasonsz, 400,
				    "a control character in the value of header %.*s",
				    (int)name_len, l);
	if (name_is(l, name_len, "Content-Length")) {
		if (++*n_cl > 1)
			return fail(reason, reasonsz, 400,
				    "Content-Length appears more than once; send it once");
		if (ve == vs || ve - vs > 15)
			return fail(reason, reasonsz, 400,
				    "Content-Length must be one decimal number");
		for (v = 0, i = vs; i < ve; i++) {
			if (l[i] < '0' || l[i] > '9')
				return fail(reason, reasonsz, 400,
					    "Content-Length must be one decimal number");
			v = v * 10 + (l[i] - '0');
		}
		h->content_length = v;
	} else if (name_is(l, name_len, "Transfer-Encoding")) {
		*has_te = true;
	} else if (name_is(l, name_len, "Host")) {
		if (++*n_host > 1)
			return fail(reason, reasonsz, 400, "Host appears more than once");
		h->has_host = true;
	} else if (name_is(l, name_len, "Content-Type")) {
		if (++*n_ctype > 1)
			return fail(reason, reasonsz, 400, "Content-Type appears more than once");
		if (ve - vs >= sizeof(h->content_type))
			return fail(reason, reasonsz, 400, "Content-Type is too long");
		memcpy(h->content_type, l + vs, ve - vs);
		h->content_type[ve - vs] = '\0';
	} else if (name_is(l, name_len, "Expect")) {
		if (ve - vs != 12 || strncasecmp(l + vs, "100-continue", 12) != 0)
			return fail(reason, reasonsz, 400,
				    "the only expectation supported is Expect: 100-continue");
		h->expect_continue = true;
	}
	return 0;
}

int sts_http_parse_head(const char *buf, size_t len, struct sts_http_head *h, char *reason,
			size_t reasonsz)
{
	int n_cl = 0, n_host = 0, n_ctype = 0, fields = 0, err;
	bool has_te = false;
	const char *l;
	size_t pos = 0, n;

	memset(h, 0, sizeof(*h));
	h->content_length = -1;
	if (len > STS_HTTP_MAX_HEAD)
		return fail(reason, reasonsz, 431, "request head larger than %d bytes",
			    STS_HTTP_MAX_HEAD);
	err = next_line(buf, len, &pos, &l, &n, reason, reasonsz);
	if (err)
		return err;
	err = parse_request_line(l, n, h, reason, reasonsz);
	if (err)
		return err;
	for (;;) {
		err = next_line(buf, len, &pos, &l, &n, reason, reasonsz);
		if (err)
			return err;
		if (n == 0)
			break;
		if (++fields > STS_HTTP_MAX_FIELDS)
			return fail(reason, reasonsz, 431, "more than %d header fields",
				    STS_HTTP_MAX_FIELDS);
		err = parse_field(l, n, h, &n_cl, &n_host, &n_ctype, &has_te, reason, reasonsz);
		if (err)
			return err;
	}
	h->head_len = pos;
	if (has_te && n_cl)
		return fail(reason, reasonsz, 400,
			    "both Transfer-Encoding and Content-Length; send the report with "
			    "Content-Length alone");
	if (has_te)
		return fail(reason, reasonsz, 400,
			    "Transfer-Encoding is not supported; send the report with "
			    "Content-Length");
	if (h->minor == 1 && !h->has_host)
		return fail(reason, reasonsz, 400, "an HTTP/1.1 request must carry a Host header");
	return 0;
}
