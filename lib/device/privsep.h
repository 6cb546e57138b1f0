/* SPDX-License-Identifier: GPL-2.0-only */
/* clang-format off */
/*
 * The protocol between the stsd monitor (privileged) and its agent (unprivileged, policed), in
 * the OpenSSH privilege-separation style: typed, length-bounded messages over a socketpair, in
 * one fixed order. The monitor answers only the next expected request; anything else (an
 * unknown type, a request out of order, a size outside its bounds, a string without its NUL)
 * ends the conversation and the agent is killed.
 *
 *	agent -> monitor                         monitor -> agent
 *	PS_HELLO       (empty)                   PS_CONFIG    struct ps_config
 *	PS_IDENTITY_Q  (empty)                   PS_IDENTITY  struct ps_identity
 *	                                                      (IMEI, country if consented)
 *	PS_SIGN        claim set JSON            PS_SIGNED    JWS compact serialization
 *	PS_RESULT      struct ps_result + body   PS_DONE      (empty)
 *	                                         PS_FAIL      reason, instead of any answer
 */
/* clang-format on */
#ifndef STS_PRIVSEP_H
#define STS_PRIVSEP_H

#include <stddef.h>
#include <stdint.h>

enum ps_type {
	PS_HELLO = 1,
	PS_CONFIG = 2,
	PS_IDENTITY_Q = 3,
	PS_IDENTITY = 4,
	PS_SIGN = 5,
	PS_SIGNED = 6,
	PS_RESULT = 7,
	PS_DONE = 8,
	PS_FAIL = 9
};

#define PS_MAX_PAYLOAD 16384

struct ps_config {
	char host[256]; /* the collector's TLS name: SNI and the certificate check */
	char addr[64]; /* its address, resolved by the monitor (numeric) */
	uint16_t port;
	char model_override[65]; /* "" when the model is read from the device */
	char sw_version_override[65]; /* "" when read from /etc/os-release */
	char ca_file[4096]; /* the pinned CA the collector's certificate must chain to */
	uint32_t io_timeout; /* seconds a connect, write or read may wait (collector-timeout) */
};

struct ps_identity {
	char imei[16];
	char country[3]; /* "" unless consent is granted */
};

enum ps_result_err {
	PS_RESULT_OK = 0, /* the collector answered; status and body follow */
	PS_RESULT_CONNECT = 1, /* no connection */
	PS_RESULT_TLS = 2, /* handshake or certificate check failed */
	PS_RESULT_IO = 3 /* the exchange broke off */
};

struct ps_result {
	int32_t err; /* enum ps_result_err */
	int32_t http_status; /* when err is PS_RESULT_OK */
	char detail[400]; /* a sentence, when err is not PS_RESULT_OK */
	/* followed by the response body (at most PS_MAX_PAYLOAD - sizeof(struct ps_result)) */
};

/* Send one message; 0 or -errno. */
int ps_send(int fd, uint32_t type, const void *payload, size_t len);
/*
 * Receive one message into buf (bufsz bytes). Returns 0 or -errno: -EPIPE when the peer closed,
 * -EBADMSG for a frame that breaks the bounds. A payload larger than bufsz is -EMSGSIZE.
 */
int ps_recv(int fd, uint32_t *type, void *buf, size_t bufsz, size_t *len);
/* Is s a NUL-terminated string within its n bytes? */
int ps_str_ok(const char *s, size_t n);

#endif
