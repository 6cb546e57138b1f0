// SPDX-License-Identifier: GPL-2.0-only
/*
 * tls-client: a TLS 1.3 client the payload and volume tests run under `stsd run`. Built twice:
 * tls-client links libssl dynamically (the payload uprobes see its SSL_write), and
 * tls-client-static carries its own copy of OpenSSL (no uprobe can see it).
 *
 *   tls-client PORT MODE
 *     report       one conforming activation request (a fresh key signs the approved claims)
 *     extra-claim  the same request with a "serial" claim added
 *     cell-id      the same request with a "cell_id" claim added
 *     cleartext    the conforming request in clear text over plain TCP
 *     second       a conforming request, then a second connection that writes a 2000-byte
 *                  application data record straight to the socket, past SSL_write
 *     twice        the conforming request written twice on one connection
 *     country      the request with a "country" claim (no consent recorded)
 *     race         a second thread keeps rewriting the request while SSL_write checks it
 *     sni          the conforming request, with IMEI, serial and cell id stuffed in the SNI
 *     extension    a ClientHello carrying 12 KB of data in a private extension
 *     budget       as second, but the second connection writes three 4000-byte handshake
 *                  records (handshake bytes are charged to tls-allowance, not to credit)
 *     model        schema-valid claims with a serial number and a cell id in "model"
 *     sw-version   the same in "sw_version"
 *     imei         another (valid, Luhn-correct) IMEI than the device's
 *     escape       the device's values, the model spelled with a \u escape
 *     header       the protected header with blanks and its members reordered
 *     padbits      the signature's last base64url character with its 4 unused bits set
 *     host         the IMEI and the serial number in the Host header
 *     forged       64 chosen bytes as the signature, with the trusted key's kid
 *     untrusted    a valid signature by a key the policy does not name
 *     after-close  the conforming request, close_notify, then records written past it
 *     aid          the conforming request with an activation id of its own, not STS_AID's
 *     sni-ok       the conforming request, the SNI the collector-host (as the agent sends it)
 *     alpn         the same with ALPN h2 and http/1.1 (as curl sends it)
 *   ClientHellos written by hand (exit 0 when the server answered, 3 when not; MODE,MODE...
 *   runs one connection each, exit 0 when each was answered):
 *     ch-ok        what OpenSSL sends: SNI collector.test, ALPN, x25519, zero padding
 *     ch-sni-two   a second host_name in the SNI      ch-sni-dot   the SNI with a trailing dot
 *     ch-sni-case  the SNI in other case              ch-sni-trail the SNI, a NUL, chosen bytes
 *     ch-sni-ip    an IP literal as SNI               ch-alpn      a chosen ALPN protocol name
 *     ch-ext       an extension of unknown type       ch-pad       padding of chosen bytes
 *     ch-sid       a 200-byte session id              ch-psk       a 200-byte PSK identity
 *     ch-ticket    a 128-byte session ticket          ch-keyshare  a 200-byte x25519 share
 *     ch-suite     a cipher suite of chosen value
 *     early        a ClientHello and records of Finished's and close_notify's sizes at once,
 *                  before the server answered
 *     hello-twice  a ClientHello, the server's answer, a second ClientHello (no retry asked)
 *     hrr          a ClientHello without a key share, the server's HelloRetryRequest, a
 *                  second ClientHello
 * Every report is signed with the fixed key of tests/report_key.h unless said otherwise.
 *
 * exit status: 0 the collector answered 200; 3 no answer within the timeout; 4 connection or
 * handshake failure; 5 bad usage or local error; 6 a thread could not be started. Killed by
 * SIGKILL when the payload check fails.
 */
#include "core/crypto.h"
#include "wire/jws.h"
#include "wire/request.h"
#include "../report_key.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define TIMEOUT_S 4
/* Stuffed into the SNI: what the legacy STS sent, as DNS labels. */
#define SNI_STUFFED "490154203237518.sn0123456789.cell-208-01-1234-5678.collector.test"
#define EXT_STUFFED_LEN 12000

static const char *mode = "";
static volatile int racing = 1;

/* The race: flip the claims' bytes while the main thread is in SSL_write. */
static void *rewrite(void *arg)
{
	volatile char *req = arg;

	while (racing)
		req[strlen((char *)req) - 2] ^= 1;
	return NULL;
}

static int add_ext(SSL *s, unsigned int type, unsigned int ctx, const unsigned char **out,
		   size_t *len, X509 *x, size_t chain, int *al, void *arg)
{
	static unsigned char data[EXT_STUFFED_LEN];

	(void)s, (void)type, (void)ctx, (void)x, (void)chain, (void)al, (void)arg;
	memset(data, 'S', sizeof(data));
	*out = data;
	*len = sizeof(data);
	return 1;
}

static int tcp_connect(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons(port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct timeval tv = { .tv_sec = TIMEOUT_S };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		perror("tls-client: connect");
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

/* base64url of n bytes, appended at out + *o. */
static int b64_append(char *out, size_t sz, size_t *o, const void *in, size_t n)
{
	int err = sts_b64url_encode(in, n, out + *o, sz - *o);

	if (!err)
		*o += sts_b64url_len(n);
	return err;
}

/*
 * A JWS written by hand, for the modes whose bytes sts_jws_sign() would never write: a header
 * spelled another way (blanks, reordered members), or a signature of chosen bytes.
 */
static int hand_jws(const struct sts_key *key, const char *aid, const char *claims, char **out,
		    size_t *out_len)
{
	char kid[STS_KID_LEN + 1], header[256], *buf;
	uint8_t sig[STS_ED25519_SIG_LEN];
	size_t o = 0, sz = 4096;
	int err;

	buf = malloc(sz);
	if (!buf || sts_kid(key->pub, kid))
		return -ENOMEM;
	if (strcmp(mode, "header") == 0)
		/* The same members and values, chosen blanks and order: 1 bit per blank. */
		snprintf(header, sizeof(header),
			 "{\"kid\": \"%s\", \"alg\": \"EdDSA\",  \"aid\":\"%s\"}", kid, aid);
	else
		snprintf(header, sizeof(header),
			 "{\"alg\":\"EdDSA\",\"kid\":\"%s\",\"aid\":\"%s\"}", kid, aid);
	err = b64_append(buf, sz, &o, header, strlen(header));
	buf[o++] = '.';
	if (!err)
		err = b64_append(buf, sz, &o, claims, strlen(claims));
	if (!err && strcmp(mode, "forged") == 0)
		/* 64 chosen bytes where the signature goes (the second class). */
		memcpy(sig, "SN0123456789/cell-208-01-1234-5678/490154203237518/chosen-bytes!", 64);
	else if (!err)
		err = sts_sign(key, buf, o, sig);
	buf[o++] = '.';
	if (!err)
		err = b64_append(buf, sz, &o, sig, sizeof(sig));
	if (err) {
		free(buf);
		return err;
	}
	buf[o] = '\0';
	*out = buf;
	*out_len = o;
	return 0;
}

/* Set the unused low bits of the base64url character at the end of the part ending at end. */
static void set_pad_bits(char *end)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	const char *c = strchr(alphabet, end[-1]);

	/* 64 bytes of signature: 86 characters, the last one carries 2 data bits and 4 free. */
	if (c)
		end[-1] = alphabet[(c - alphabet) | 0x0f];
}

/*
 * A signed activation request whose claim set is claims: signed with the tests' vendor key
 * (tests/report_key.h; the policy names it with report-key), except in mode untrusted.
 */
static int build_request(const char *claims, char **req, size_t *req_len)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL);
	struct sts_key key = { 0 };
	char aid[STS_AID_LEN + 1], *jws = NULL;
	size_t jws_len, n = sizeof(key.pub);
	EVP_PKEY *pkey = NULL;
	int err;

	if (strcmp(mode, "untrusted") == 0) {
		if (!ctx || EVP_PKEY_keygen_init(ctx) <= 0 || EVP_PKEY_keygen(ctx, &pkey) <= 0)
			return -EIO;
	} else {
		pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, test_report_seed,
						    sizeof(test_report_seed));
	}
	EVP_PKEY_CTX_free(ctx);
	if (!pkey || !EVP_PKEY_get_raw_public_key(pkey, key.pub, &n))
		return -EIO;
	key.pkey = pkey;
	key.has_private = true;
	/* The activation id stsd gives (STS_AID), except in mode aid: one of its own choice. */
	if (getenv("STS_AID") && strcmp(mode, "aid") != 0)
		err = snprintf(aid, sizeof(aid), "%s", getenv("STS_AID")) == STS_AID_LEN ? 0
											 : -EINVAL;
	else
		err = sts_aid_new(aid);
	if (!err && (strcmp(mode, "header") == 0 || strcmp(mode, "forged") == 0))
		err = hand_jws(&key, aid, claims, &jws, &jws_len);
	else if (!err)
		err = sts_jws_sign(&key, aid, true, claims, strlen(claims), &jws, &jws_len);
	if (!err && strcmp(mode, "padbits") == 0)
		set_pad_bits(jws + jws_len);
	if (!err)
		err = sts_request_build(strcmp(mode, "host") == 0 ? "490154203237518.sn0123456789."
								    "collector.test"
								  : TEST_HOST,
					jws, jws_len, req, req_len);
	free(jws);
	sts_key_free(&key);
	return err;
}

/*
 * ClientHellos written by hand (the ch-* modes, early, hello-twice, hrr): what OpenSSL sends,
 * or that with chosen bytes where a vendor could put them. Built in buf; the length returned.
 */
struct ch_opts {
	const char *sni; /* NULL: none */
	size_t sni_len; /* 0: strlen(sni) */
	bool sni_two; /* a second host_name entry */
	const char *alpn; /* one protocol name, NULL: "h2" and "http/1.1" */
	unsigned sid_len; /* legacy_session_id */
	bool suite_chosen; /* a cipher suite of chosen value */
	bool key_share_none; /* an empty key_share: the server must ask (HelloRetryRequest) */
	size_t key_len; /* the x25519 share's length (32) */
	unsigned ext_type; /* one more extension of ext_len chosen bytes (0: none) */
	size_t ext_len;
	bool pad_chosen; /* a padding extension of chosen bytes instead of zeros */
};

static size_t put16(unsigned char *p, size_t o, unsigned v)
{
	p[o] = v >> 8;
	p[o + 1] = v & 0xff;
	return o + 2;
}

static size_t ch_build(unsigned char *buf, const struct ch_opts *c)
{
	static const unsigned char groups[] = { 0, 10, 0, 6, 0, 4, 0, 0x1d, 0, 0x17 };
	static const unsigned char sigalgs[] = { 0, 13, 0, 8, 0, 6, 4, 3, 8, 4, 8, 7 };
	static const unsigned char versions[] = { 0, 43, 0, 3, 2, 3, 4 };
	static const unsigned char modes[] = { 0, 45, 0, 2, 1, 1 };
	size_t o = 9, ext, n, i;
	unsigned char *p = buf;

	buf[0] = 22, buf[1] = 3, buf[2] = 1;
	buf[5] = 1;
	o = put16(p, o, 0x0303);
	for (i = 0; i < 32; i++)
		p[o++] = 'R'; /* the random: 32 chosen bytes no check can see (the residual) */
	p[o++] = c->sid_len;
	memset(p + o, 'S', c->sid_len);
	o += c->sid_len;
	o = put16(p, o, c->suite_chosen ? 4 : 2);
	o = put16(p, o, 0x1301);
	if (c->suite_chosen)
		o = put16(p, o, 0x4d45); /* "ME" */
	p[o++] = 1, p[o++] = 0;
	ext = o;
	o += 2;
	if (c->sni) {
		const char *second = "490154203237518.collector.test";
		size_t sl = c->sni_len ? c->sni_len : strlen(c->sni);
		size_t list = 3 + sl + (c->sni_two ? 3 + strlen(second) : 0);

		o = put16(p, o, 0);
		o = put16(p, o, list + 2);
		o = put16(p, o, list);
		p[o++] = 0;
		o = put16(p, o, sl);
		memcpy(p + o, c->sni, sl);
		o += sl;
		if (c->sni_two) {
			p[o++] = 0;
			o = put16(p, o, strlen(second));
			memcpy(p + o, second, strlen(second));
			o += strlen(second);
		}
	}
	memcpy(p + o, groups, sizeof(groups)), o += sizeof(groups);
	memcpy(p + o, sigalgs, sizeof(sigalgs)), o += sizeof(sigalgs);
	memcpy(p + o, versions, sizeof(versions)), o += sizeof(versions);
	memcpy(p + o, modes, sizeof(modes)), o += sizeof(modes);
	/* ALPN */
	o = put16(p, o, 16);
	if (c->alpn) {
		n = strlen(c->alpn);
		o = put16(p, o, n + 3);
		o = put16(p, o, n + 1);
		p[o++] = n;
		memcpy(p + o, c->alpn, n), o += n;
	} else {
		o = put16(p, o, 14);
		o = put16(p, o, 12);
		memcpy(p + o, "\x02h2\x08http/1.1", 12), o += 12;
	}
	/* key_share */
	o = put16(p, o, 51);
	if (c->key_share_none) {
		o = put16(p, o, 2);
		o = put16(p, o, 0);
	} else {
		o = put16(p, o, 2 + 4 + c->key_len);
		o = put16(p, o, 4 + c->key_len);
		o = put16(p, o, 0x1d);
		o = put16(p, o, c->key_len);
		/* A valid X25519 public key is any 32 bytes: chosen ones too (the residual). */
		for (i = 0; i < c->key_len; i++)
			p[o++] = 'K' + (i & 7);
	}
	if (c->ext_type) {
		o = put16(p, o, c->ext_type);
		o = put16(p, o, c->ext_len);
		if (c->ext_type == 41) {
			/* pre_shared_key: one identity of chosen bytes, an age, one binder */
			size_t id = c->ext_len - 2 - 2 - 4 - 2 - 1 - 32;

			o = put16(p, o, 2 + id + 4);
			o = put16(p, o, id);
			memset(p + o, 'I', id), o += id;
			memset(p + o, 0, 4), o += 4;
			o = put16(p, o, 33);
			p[o++] = 32;
			memset(p + o, 'B', 32), o += 32;
		} else {
			memset(p + o, 'E', c->ext_len), o += c->ext_len;
		}
	}
	/* padding, as OpenSSL with SSL_OP_TLSEXT_PADDING and curl send it */
	o = put16(p, o, 21);
	o = put16(p, o, 64);
	memset(p + o, c->pad_chosen ? 'P' : 0, 64), o += 64;
	put16(p, ext, o - ext - 2);
	put16(p, 3, o - 5);
	p[6] = (o - 9) >> 16, p[7] = (o - 9) >> 8, p[8] = (o - 9) & 0xff;
	return o;
}

/* What the server sent back within a second: its length, 0 for none. */
static ssize_t server_answer(int fd, unsigned char *buf, size_t sz)
{
	/* On loopback the server answers within milliseconds; a refused hello never. */
	struct timeval tv = { .tv_usec = 500000 };
	ssize_t n;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	n = read(fd, buf, sz);
	return n > 0 ? n : 0;
}

/*
 * One connection of hand-written records. 0: the server answered the (last) ClientHello, 3: no
 * answer. The connection is reset at the end: a refused ClientHello leaves the server with
 * nothing to wait for.
 */
static int raw_hello(int port)
{
	static unsigned char buf[4096], in[16384];
	struct ch_opts c = { .sni = TEST_HOST, .sid_len = 32, .key_len = 32 };
	struct linger lg = { 1, 0 };
	size_t len;
	ssize_t got = 0;
	int fd, rc;

	if (strcmp(mode, "ch-sni-two") == 0)
		c.sni_two = true;
	else if (strcmp(mode, "ch-sni-dot") == 0)
		c.sni = TEST_HOST ".";
	else if (strcmp(mode, "ch-sni-case") == 0)
		c.sni = "Collector.Test";
	else if (strcmp(mode, "ch-sni-trail") == 0)
		c.sni = TEST_HOST "\0IMEI490154203237518", c.sni_len = sizeof(TEST_HOST) + 19;
	else if (strcmp(mode, "ch-sni-ip") == 0)
		c.sni = "127.0.0.1";
	else if (strcmp(mode, "ch-alpn") == 0)
		c.alpn = "imei-490154203237518";
	else if (strcmp(mode, "ch-ext") == 0)
		c.ext_type = 0x5a5a, c.ext_len = 40;
	else if (strcmp(mode, "ch-pad") == 0)
		c.pad_chosen = true;
	else if (strcmp(mode, "ch-sid") == 0)
		c.sid_len = 200;
	else if (strcmp(mode, "ch-psk") == 0)
		c.ext_type = 41, c.ext_len = 2 + 2 + 200 + 4 + 2 + 1 + 32;
	else if (strcmp(mode, "ch-ticket") == 0)
		c.ext_type = 35, c.ext_len = 128;
	else if (strcmp(mode, "ch-keyshare") == 0)
		c.key_len = 200;
	else if (strcmp(mode, "ch-suite") == 0)
		c.suite_chosen = true;
	else if (strcmp(mode, "hrr") == 0)
		c.key_share_none = true;
	fd = tcp_connect(port);
	if (fd < 0)
		return 4;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
	len = ch_build(buf, &c);
	if (strcmp(mode, "early") == 0) {
		/*
		 * Records of Finished's and close_notify's sizes and a large one, before the
		 * server said a word: written with the ClientHello, in one segment.
		 */
		static const size_t sizes[] = { 53, 19 };
		size_t i;

		for (i = 0; i < 2; i++) {
			memcpy(buf + len, (unsigned char[]){ 23, 3, 3, 0, sizes[i] }, 5);
			memset(buf + len + 5, 'F', sizes[i]);
			len += 5 + sizes[i];
		}
	}
	if (write(fd, buf, len) == (ssize_t)len)
		got = server_answer(fd, in, sizeof(in));
	printf("tls-client: %s: wrote %zu bytes, the server answered %zd\n", mode, len, got);
	rc = got ? 0 : 3;
	if (got && (strcmp(mode, "hello-twice") == 0 || strcmp(mode, "hrr") == 0)) {
		/* A second ClientHello: after a ServerHello (refused), after a retry (allowed). */
		c.key_share_none = false;
		len = ch_build(buf, &c);
		got = write(fd, buf, len) == (ssize_t)len ? server_answer(fd, in, sizeof(in)) : 0;
		printf("tls-client: %s: second ClientHello, the server answered %zd\n", mode, got);
		rc = got ? 0 : 3;
	}
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
	return rc;
}

/* count records of this type and n bytes, written past SSL_write in one write(). */
static void raw_records(int fd, unsigned char type, size_t n, int count)
{
	size_t rec = 5 + n, total = rec * count;
	unsigned char *buf = malloc(total);
	ssize_t w;
	int i;

	if (!buf)
		return;
	memset(buf, 0xa5, total);
	for (i = 0; i < count; i++)
		memcpy(buf + i * rec, (unsigned char[]){ type, 3, 3, n >> 8, n & 0xff }, 5);
	w = write(fd, buf, total);
	printf("tls-client: wrote %zd bytes: %d raw %zu-byte records of type %u\n", w, count, n,
	       type);
	free(buf);
}

/* One TLS connection: handshake, write req (twice in mode twice), read the answer. */
static int tls_exchange(SSL_CTX *ctx, int port, char *req, size_t len)
{
	char buf[512];
	int fd, n, rc = 3, w = 0;
	pthread_t t;
	SSL *ssl;

	fd = tcp_connect(port);
	if (fd < 0)
		return 4;
	ssl = SSL_new(ctx);
	SSL_set_fd(ssl, fd);
	if (strcmp(mode, "sni") == 0)
		SSL_set_tlsext_host_name(ssl, SNI_STUFFED);
	if (strcmp(mode, "sni-ok") == 0 || strcmp(mode, "alpn") == 0)
		SSL_set_tlsext_host_name(ssl, TEST_HOST);
	if (strcmp(mode, "alpn") == 0)
		SSL_set_alpn_protos(ssl, (const unsigned char *)"\x02h2\x08http/1.1", 12);
	if (strcmp(mode, "sni") == 0 || strcmp(mode, "extension") == 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &(struct timeval){ .tv_sec = 1 },
			   sizeof(struct timeval));
	if (SSL_connect(ssl) != 1) {
		fprintf(stderr, "tls-client: handshake failed\n");
		ERR_print_errors_fp(stderr);
		SSL_free(ssl);
		/* A reset: the server need not wait for a ClientHello that was refused. */
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &(struct linger){ 1, 0 },
			   sizeof(struct linger));
		close(fd);
		return 4;
	}
	if (strcmp(mode, "race") == 0) {
		errno = pthread_create(&t, NULL, rewrite, req);
		if (errno) {
			perror("tls-client: second thread");
			return 6;
		}
	}
	if (strcmp(mode, "after-close") == 0)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
	if (SSL_write(ssl, req, (int)len) == (int)len)
		w = 1;
	if (w && strcmp(mode, "after-close") == 0) {
		/*
		 * close_notify at once, then chosen bytes dressed as records, while the connection
		 * is still open: past close_notify nothing is TLS any more.
		 */
		int on = 1, off = 0;

		signal(SIGPIPE, SIG_IGN);
		/* One segment after the request's: close_notify and the records after it. */
		usleep(100000);
		setsockopt(fd, IPPROTO_TCP, TCP_CORK, &on, sizeof(on));
		SSL_shutdown(ssl);
		raw_records(fd, 23, 300, 1);
		raw_records(fd, 22, 300, 1);
		raw_records(fd, 21, 300, 1);
		setsockopt(fd, IPPROTO_TCP, TCP_CORK, &off, sizeof(off));
	}
	if (w && strcmp(mode, "twice") == 0 && SSL_write(ssl, req, (int)len) != (int)len)
		w = 0;
	if (!w) {
		fprintf(stderr, "tls-client: SSL_write failed\n");
		rc = 4;
	} else {
		n = SSL_read(ssl, buf, sizeof(buf) - 1);
		if (n > 0) {
			buf[n] = '\0';
			rc = strncmp(buf, "HTTP/1.1 2", 10) == 0
				     ? 0
				     : 4; /* 200, or 201 from sts-collector */
			printf("tls-client: answer: %.*s\n", (int)strcspn(buf, "\r"), buf);
		} else {
			printf("tls-client: no answer within %d s\n", TIMEOUT_S);
		}
	}
	SSL_shutdown(ssl);
	SSL_free(ssl);
	close(fd);
	return rc;
}

int main(int argc, char **argv)
{
	static const char good[] = "{\"imei\":\"" TEST_IMEI "\",\"model\":\"" TEST_MODEL
				   "\",\"sw_version\":\"" TEST_SW_VERSION "\"}";
	static const char serial[] = "{\"imei\":\"490154203237518\",\"model\":\"Wiko View\","
				     "\"sw_version\":\"1.2.3\",\"serial\":\"SN0123456789\"}";
	static const char cell[] = "{\"imei\":\"490154203237518\",\"model\":\"Wiko View\","
				   "\"sw_version\":\"1.2.3\",\"cell_id\":\"208-01-1234-5678\"}";
	static const char country[] = "{\"imei\":\"490154203237518\",\"model\":\"Wiko View\","
				      "\"sw_version\":\"1.2.3\",\"country\":\"FR\"}";
	/* Schema-valid claims carrying other data: the first class and its neighbours. */
	static const char model[] = "{\"imei\":\"490154203237518\",\"model\":\"Wiko View "
				    "SN0123456789 cell 208-01-1234-5678 lat 48.85 lon 2.35\","
				    "\"sw_version\":\"1.2.3\"}";
	static const char sw[] = "{\"imei\":\"490154203237518\",\"model\":\"Wiko View\","
				 "\"sw_version\":\"1.2.3+SN0123456789.208-01-1234-5678\"}";
	static const char imei[] = "{\"imei\":\"353918057441723\",\"model\":\"Wiko View\","
				   "\"sw_version\":\"1.2.3\"}";
	/* The right values, spelled another way: each escape is a chosen bit. */
	static const char escape[] = "{\"imei\":\"490154203237518\",\"model\":\"\\u0057iko "
				     "View\",\"sw_version\":\"1.2.3\"}";
	char *req = NULL;
	size_t len;
	SSL_CTX *ctx;
	int port, rc, fd;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc != 3) {
		fprintf(stderr,
			"usage: tls-client PORT report|extra-claim|cell-id|cleartext|second|"
			"twice|country|race|sni|extension|budget|model|sw-version|imei|escape|"
			"header|"
			"padbits|host|forged|untrusted|after-close|aid|sni-ok|alpn|ch-*|early|"
			"hello-twice|hrr\n");
		return 5;
	}
	mode = argv[2];
	port = atoi(argv[1]);
	if (build_request(strcmp(mode, "extra-claim") == 0  ? serial
			  : strcmp(mode, "cell-id") == 0    ? cell
			  : strcmp(mode, "country") == 0    ? country
			  : strcmp(mode, "model") == 0	    ? model
			  : strcmp(mode, "sw-version") == 0 ? sw
			  : strcmp(mode, "imei") == 0	    ? imei
			  : strcmp(mode, "escape") == 0	    ? escape
							    : good,
			  &req, &len))
		return 5;
	if (strncmp(mode, "ch-", 3) == 0 || strcmp(mode, "early") == 0 ||
	    strcmp(mode, "hello-twice") == 0 || strcmp(mode, "hrr") == 0) {
		char *list = argv[2], *save = NULL;

		/* MODE,MODE...: one connection each; 0 when each was answered, else 3. */
		rc = 0;
		for (mode = strtok_r(list, ",", &save); mode; mode = strtok_r(NULL, ",", &save))
			if (raw_hello(port))
				rc = 3;
		free(req);
		return rc;
	}
	if (strcmp(mode, "cleartext") == 0) {
		char buf[256];
		ssize_t n;

		fd = tcp_connect(port);
		if (fd < 0)
			return 4;
		if (write(fd, req, len) != (ssize_t)len)
			return 4;
		n = read(fd, buf, sizeof(buf));
		printf("tls-client: clear text: %s\n", n > 0 ? "answered" : "no answer");
		close(fd);
		free(req);
		return n > 0 ? 0 : 3;
	}
	ctx = SSL_CTX_new(TLS_client_method());
	SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
	/* The test server's certificate is throw-away; the agent (issue 5) pins its CA. */
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	if (strcmp(mode, "extension") == 0)
		SSL_CTX_add_custom_ext(ctx, 0xff5a, SSL_EXT_CLIENT_HELLO, add_ext, NULL, NULL, NULL,
				       NULL);
	if (strcmp(mode, "second") != 0 && strcmp(mode, "budget") != 0) {
		rc = tls_exchange(ctx, port, req, len);
	} else {
		rc = tls_exchange(ctx, port, req, len);
		if (rc == 0) {
			/* Second connection: a fresh handshake, then data SSL_write never saw. */
			fd = tcp_connect(port);
			if (fd >= 0) {
				SSL *ssl = SSL_new(ctx);

				SSL_set_fd(ssl, fd);
				if (SSL_connect(ssl) == 1) {
					if (strcmp(mode, "second") == 0)
						raw_records(fd, 23, 2000, 1);
					else
						raw_records(fd, 22, 4000, 3);
					sleep(1);
				}
				SSL_free(ssl);
				close(fd);
			}
		}
	}
	SSL_CTX_free(ctx);
	free(req);
	return rc;
}
