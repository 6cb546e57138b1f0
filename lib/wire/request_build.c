// SPDX-License-Identifier: GPL-2.0-only
/*
 * Building the request is separate from checking it (request.c): the agent links only this,
 * and with it only libc, so the libraries its policy must allow stay few.
 */
#include "wire/request.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int sts_request_host_valid(const char *h, size_t n)
{
	size_t i;

	if (n == 0 || n > STS_REQUEST_HOST_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		char c = h[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '-' || c == ':' || c == '[' || c == ']'))
			return 0;
	}
	return 1;
}

int sts_request_build(const char *host, const char *jws, size_t jws_len, char **out,
		      size_t *out_len)
{
	int n;

	if (!sts_request_host_valid(host, strlen(host)))
		return -EINVAL;
	n = asprintf(out,
		     "POST " STS_REQUEST_PATH " HTTP/1.1\r\n"
		     "Host: %s\r\n"
		     "Content-Type: application/jose\r\n"
		     "Content-Length: %zu\r\n"
		     "\r\n"
		     "%.*s",
		     host, jws_len, (int)jws_len, jws);
	if (n < 0)
		return -ENOMEM;
	*out_len = n;
	return 0;
}
