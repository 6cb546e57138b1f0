/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The one HTTP request stsguard sends, byte for byte: the agent builds it with
 * sts_request_build() and the monitor's payload check (G4) accepts a TLS plaintext only if
 * sts_request_check() does. No cookie, no user agent, no other header, nothing optional:
 *
 *	POST /v1/activations HTTP/1.1\r\n
 *	Host: <host>\r\n
 *	Content-Type: application/jose\r\n
 *	Content-Length: <decimal length of the body>\r\n
 *	\r\n
 *	<JWS compact serialization of the approved claim set>
 *
 * The request is written with one SSL_write: a plaintext that is only part of it fails.
 */
#ifndef STS_REQUEST_H
#define STS_REQUEST_H

#include <stddef.h>

#define STS_REQUEST_PATH "/v1/activations"
#define STS_REQUEST_HOST_MAX 255
/* The request head is at most this long; the body at most the policy's report-max. */
#define STS_REQUEST_HEAD_MAX 512

/* A host name or address as the Host header may carry it (letters, digits, . - : [ ]). */
int sts_request_host_valid(const char *host, size_t len);
/* Build the request for a JWS into a heap buffer. */
int sts_request_build(const char *host, const char *jws, size_t jws_len, char **out,
		      size_t *out_len);
/*
 * Is buf exactly such a request, with a body of at most body_max bytes that is a well-formed
 * EdDSA JWS whose payload is the approved claim set (lib/wire/report)? -EBADMSG and a reason if
 * not. The signature is not verified here: the monitor made it, the collector verifies it.
 */
int sts_request_check(const char *buf, size_t len, size_t body_max, char *reason, size_t reasonsz);

#endif
