/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A strict reader of one HTTP/1.1 request head (RFC 9112), for sts-collector. It accepts only
 * what a device needs to send (an origin-form target, a body framed by one Content-Length) and
 * refuses every ambiguity a proxy in front could resolve differently (request smuggling):
 * repeated Content-Length, Transfer-Encoding, obsolete line folding, bare LF, whitespace
 * before a colon, control characters. Pure function on a buffer: fuzzed by fuzz/http_head.c.
 */
#ifndef STS_HTTP_H
#define STS_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#define STS_HTTP_MAX_HEAD 8192
#define STS_HTTP_MAX_FIELDS 64
#define STS_HTTP_TARGET_MAX 256

struct sts_http_head {
	char method[16];
	char target[STS_HTTP_TARGET_MAX];
	int minor; /* HTTP/1.minor: 0 or 1 */
	size_t head_len; /* bytes of the head, the empty line included */
	long long content_length; /* -1 when absent */
	char content_type[128]; /* "" when absent */
	bool has_host;
	bool expect_continue;
};

/*
 * Where the head in buf ends (the index after its empty line), or 0 when it has not ended
 * yet. A bare LF counts as a line end here, so that sts_http_parse_head() can refuse it at
 * once rather than wait for a CRLF CRLF that never comes.
 */
size_t sts_http_head_end(const char *buf, size_t len);

/*
 * Parse the head buf[0..len) (len from sts_http_head_end()). 0 on success; otherwise the
 * HTTP status to answer with (400, 431, 505) and a reason for the client in reason.
 */
int sts_http_parse_head(const char *buf, size_t len, struct sts_http_head *h, char *reason,
			size_t reasonsz);

#endif /* STS_HTTP_H */
