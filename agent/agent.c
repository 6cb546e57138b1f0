// SPDX-License-Identifier: GPL-2.0-only
/*
 * sts-agent: the unprivileged side of stsd. It runs inside the policed cgroup as its own user,
 * without capabilities, with no_new_privs. It reads the model and the software version, asks
 * the monitor (over the socketpair on fd 3) for the IMEI and for a signature, sends the signed
 * report in one HTTPS request (TLS 1.3, the pinned CA, the collector's name checked), and hands
 * the answer back to the monitor. It holds no key, opens no modem, resolves no name.
 *
 * Every file it reads and every connection it makes is in the shipped default policy: running
 * it under that policy is the proof that the policy is tight and sufficient.
 */
#include "device/identity.h"
#include "device/privsep.h"
#include "wire/request.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define AGENT_FD 3
#define RESPONSE_MAX (PS_MAX_PAYLOAD - sizeof(struct ps_result))

static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "sts-agent: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* The model and the software version, read as the monitor reads them (it compares). */
static void read_identity(const struct ps_config *cfg, char *model, char *version, size_t len)
{
	char why[300];

	if (sts_device_model(cfg->model_override, model, len, why, sizeof(why)) ||
	    sts_device_sw_version(cfg->sw_version_override, version, len, why, sizeof(why)))
		die("%s", why);
}

/* Append s as a JSON string. The monitor validates the claims again before it signs. */
static void json_str(char *out, size_t len, const char *s)
{
	size_t o = strlen(out);

	o += snprintf(out + o, len - o, "\"");
	for (; *s && o + 8 < len; s++) {
		unsigned char c = *s;

		if (c == '"' || c == '\\')
			o += snprintf(out + o, len - o, "\\%c", c);
		else if (c < 0x20)
			o += snprintf(out + o, len - o, "\\u%04x", c);
		else
			out[o++] = c;
		out[o] = '\0';
	}
	snprintf(out + o, len - o, "\"");
}

static void expect(uint32_t want, void *buf, size_t bufsz, size_t *len)
{
	uint32_t type;
	int err;

	err = ps_recv(AGENT_FD, &type, buf, bufsz, len);
	if (err)
		die("monitor: %s", strerror(-err));
	if (type == PS_FAIL) {
		((char *)buf)[*len < bufsz ? *len : bufsz - 1] = '\0';
		die("the monitor refused: %s", (char *)buf);
	}
	if (type != want)
		die("monitor: unexpected message %u", type);
}

static void result(int32_t err, int32_t http, const char *detail, const char *body, size_t blen)
{
	static char msg[PS_MAX_PAYLOAD];
	struct ps_result r = { .err = err, .http_status = http };
	char done[8];
	size_t len;

	snprintf(r.detail, sizeof(r.detail), "%s", detail ? detail : "");
	if (blen > RESPONSE_MAX)
		blen = RESPONSE_MAX;
	memcpy(msg, &r, sizeof(r));
	if (blen)
		memcpy(msg + sizeof(r), body, blen);
	if (ps_send(AGENT_FD, PS_RESULT, msg, sizeof(r) + blen))
		die("monitor: send result: %s", strerror(errno));
	expect(PS_DONE, done, sizeof(done), &len);
	exit(err ? 1 : 0);
}

static int tcp_connect(const struct ps_config *cfg, char *why, size_t len)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	struct timeval tv = { .tv_sec = cfg->io_timeout };
	socklen_t slen;
	int fd;

	if (inet_pton(AF_INET, cfg->addr, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(cfg->port);
		slen = sizeof(*s4);
	} else if (inet_pton(AF_INET6, cfg->addr, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(cfg->port);
		slen = sizeof(*s6);
	} else {
		snprintf(why, len, "bad collector address %s", cfg->addr);
		return -1;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(why, len, "socket: %s", strerror(errno));
		return -1;
	}
	/* Before connect: SO_SNDTIMEO bounds the connect too, SO_RCVTIMEO every read after. */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&ss, slen) < 0) {
		snprintf(why, len, "connect %s port %u: %s", cfg->addr, cfg->port, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* One HTTPS exchange: never anything but TLS 1.3 with the pinned CA and the name checked. */
static void send_report(const struct ps_config *cfg, const char *jws, size_t jws_len)
{
	static char resp[RESPONSE_MAX + 1];
	char why[400], *req = NULL;
	const char *body;
	size_t req_len, have = 0;
	SSL_CTX *ctx = NULL;
	SSL *ssl = NULL;
	int fd, n = 0, http = 0;

	if (sts_request_build(cfg->host, jws, jws_len, &req, &req_len))
		die("cannot build the request");
	ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx || !SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) ||
	    SSL_CTX_load_verify_locations(ctx, cfg->ca_file, NULL) != 1)
		result(PS_RESULT_TLS, 0, "cannot load the pinned CA", NULL, 0);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	/* No session cache, no tickets: nothing about this exchange is kept or reused. */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
	fd = tcp_connect(cfg, why, sizeof(why));
	if (fd < 0)
		result(PS_RESULT_CONNECT, 0, why, NULL, 0);
	ssl = SSL_new(ctx);
	SSL_set_fd(ssl, fd);
	SSL_set_tlsext_host_name(ssl, cfg->host);
	SSL_set1_host(ssl, cfg->host);
	if (SSL_connect(ssl) != 1) {
		long v = SSL_get_verify_result(ssl);

		snprintf(why, sizeof(why), "TLS handshake with %s failed%s%s", cfg->host,
			 v != X509_V_OK ? ": " : "",
			 v != X509_V_OK ? X509_verify_cert_error_string(v) : "");
		result(PS_RESULT_TLS, 0, why, NULL, 0);
	}
	/* The whole request in one write: the payload check sees exactly what is sent. */
	if (SSL_write(ssl, req, (int)req_len) != (int)req_len)
		result(PS_RESULT_IO, 0, "the request could not be written", NULL, 0);
	errno = 0;
	while (have < RESPONSE_MAX && (n = SSL_read(ssl, resp + have, RESPONSE_MAX - have)) > 0)
		have += n;
	resp[have] = '\0';
	/* A read that timed out: whatever came so far is not the collector's whole answer. */
	if (have < RESPONSE_MAX && (SSL_get_error(ssl, n) == SSL_ERROR_WANT_READ ||
				    errno == EAGAIN || errno == EWOULDBLOCK)) {
		snprintf(why, sizeof(why), "no complete answer from %s within %u s", cfg->host,
			 cfg->io_timeout);
		result(PS_RESULT_IO, 0, why, NULL, 0);
	}
	SSL_shutdown(ssl);
	SSL_free(ssl);
	close(fd);
	SSL_CTX_free(ctx);
	free(req);
	if (sscanf(resp, "HTTP/1.1 %d ", &http) != 1 || !(body = strstr(resp, "\r\n\r\n")))
		result(PS_RESULT_IO, 0, "no HTTP response", NULL, 0);
	body += 4;
	result(PS_RESULT_OK, http, NULL, body, have - (body - resp));
}

int main(int argc, char **argv)
{
	static char jws[PS_MAX_PAYLOAD + 1];
	char model[65], version[65], claims[1024];
	struct ps_identity id;
	struct ps_config cfg;
	size_t len;

	(void)argc;
	(void)argv;
	/*
	 * A collector that closes the connection must come back as a PS_RESULT error the monitor
	 * records and retries, not as death by SIGPIPE: stsd gives the policed code the default
	 * disposition, as any program gets it.
	 */
	signal(SIGPIPE, SIG_IGN);
	/*
	 * OpenSSL's certificate time checks call gmtime_r, which makes glibc load the time zone
	 * once, from /etc/localtime by default: not in the policy. A POSIX TZ string looked up in
	 * a directory that does not exist reads no file at all (and times here are UTC anyway).
	 */
	setenv("TZDIR", "/nonexistent", 1);
	setenv("TZ", "UTC0", 1);
	/* OpenSSL's configuration file is not in the policy, and the agent needs none. */
	OPENSSL_init_ssl(OPENSSL_INIT_NO_LOAD_CONFIG, NULL);
	if (ps_send(AGENT_FD, PS_HELLO, NULL, 0))
		die("no monitor on fd %d (sts-agent is started by stsd): %s", AGENT_FD,
		    strerror(errno));
	expect(PS_CONFIG, &cfg, sizeof(cfg), &len);
	if (len != sizeof(cfg) || !ps_str_ok(cfg.host, sizeof(cfg.host)) ||
	    !ps_str_ok(cfg.addr, sizeof(cfg.addr)) ||
	    !ps_str_ok(cfg.ca_file, sizeof(cfg.ca_file)) ||
	    !ps_str_ok(cfg.model_override, sizeof(cfg.model_override)) ||
	    !ps_str_ok(cfg.sw_version_override, sizeof(cfg.sw_version_override)) || !cfg.io_timeout)
		die("monitor: malformed configuration");
	read_identity(&cfg, model, version, sizeof(model));

	if (ps_send(AGENT_FD, PS_IDENTITY_Q, NULL, 0))
		die("monitor: %s", strerror(errno));
	expect(PS_IDENTITY, &id, sizeof(id), &len);
	if (len != sizeof(id) || !ps_str_ok(id.imei, sizeof(id.imei)) ||
	    !ps_str_ok(id.country, sizeof(id.country)))
		die("monitor: malformed identity");

	/* The claim set, in the fixed order the monitor serialises it. */
	snprintf(claims, sizeof(claims), "{\"imei\":");
	json_str(claims, sizeof(claims), id.imei);
	strncat(claims, ",\"model\":", sizeof(claims) - strlen(claims) - 1);
	json_str(claims, sizeof(claims), model);
	strncat(claims, ",\"sw_version\":", sizeof(claims) - strlen(claims) - 1);
	json_str(claims, sizeof(claims), version);
	if (id.country[0]) {
		strncat(claims, ",\"country\":", sizeof(claims) - strlen(claims) - 1);
		json_str(claims, sizeof(claims), id.country);
	}
	strncat(claims, "}", sizeof(claims) - strlen(claims) - 1);
	memset(&id, 0, sizeof(id));

	if (ps_send(AGENT_FD, PS_SIGN, claims, strlen(claims)))
		die("monitor: %s", strerror(errno));
	expect(PS_SIGNED, jws, sizeof(jws) - 1, &len);
	jws[len] = '\0';
	send_report(&cfg, jws, len);
	return 1;
}
