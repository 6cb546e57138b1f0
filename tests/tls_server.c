// SPDX-License-Identifier: GPL-2.0-only
#include "tls_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

/* A throw-away self-signed certificate for "collector.test". */
static int make_cert(SSL_CTX *ctx)
{
	EVP_PKEY *pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	X509 *x = X509_new();
	X509_NAME *name;
	int ok = 0;

	if (!pkey || !x)
		goto cleanup;
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, pkey);
	name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
				   (const unsigned char *)"collector.test", -1, -1, 0);
	X509_set_issuer_name(x, name);
	ok = X509_sign(x, pkey, EVP_sha256()) > 0 && SSL_CTX_use_certificate(ctx, x) == 1 &&
	     SSL_CTX_use_PrivateKey(ctx, pkey) == 1;
cleanup:
	X509_free(x);
	EVP_PKEY_free(pkey);
	return ok ? 0 : -EIO;
}

static void serve(struct tls_server *s, int fd)
{
	static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
	static char out[16384];
	struct timeval tv = { .tv_sec = 8 };
	char buf[4096];
	size_t have = 0;
	const char *cl, *body;
	SSL *ssl;
	int n;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (recv(fd, buf, 1, MSG_PEEK) == 1) {
		pthread_mutex_lock(&s->lock);
		s->hellos++;
		pthread_mutex_unlock(&s->lock);
	}
	ssl = SSL_new(s->ctx);
	SSL_set_fd(ssl, fd);
	if (SSL_accept(ssl) != 1)
		goto done;
	while (have < sizeof(buf) - 1) {
		n = SSL_read(ssl, buf + have, sizeof(buf) - 1 - have);
		if (n <= 0)
			break;
		pthread_mutex_lock(&s->lock);
		s->app_bytes += n;
		pthread_mutex_unlock(&s->lock);
		have += n;
		buf[have] = '\0';
		body = strstr(buf, "\r\n\r\n");
		cl = strstr(buf, "Content-Length: ");
		if (body && cl && (size_t)(buf + have - body - 4) >= (size_t)atoi(cl + 16)) {
			pthread_mutex_lock(&s->lock);
			s->requests++;
			memcpy(s->last, buf, have);
			s->last_len = have;
			pthread_mutex_unlock(&s->lock);
			n = s->o.respond ? s->o.respond(s, buf, have, out, sizeof(out))
					 : (int)sizeof(ok) - 1;
			if (n > 0)
				SSL_write(ssl, s->o.respond ? out : ok, n);
			break;
		}
	}
	SSL_shutdown(ssl);
done:
	SSL_free(ssl);
	close(fd);
}

static void *run(void *arg)
{
	struct tls_server *s = arg;
	struct pollfd p = { s->fd, POLLIN, 0 };
	int fd;

	while (s->running) {
		if (poll(&p, 1, 100) <= 0)
			continue;
		fd = accept(s->fd, NULL, NULL);
		if (fd < 0)
			continue;
		pthread_mutex_lock(&s->lock);
		s->connections++;
		pthread_mutex_unlock(&s->lock);
		serve(s, fd);
	}
	return NULL;
}

int tls_server_start_opts(struct tls_server *s, const struct tls_server_opts *o)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	SSL_CTX *ctx;

	memset(s, 0, sizeof(*s));
	if (o)
		s->o = *o;
	pthread_mutex_init(&s->lock, NULL);
	ctx = SSL_CTX_new(TLS_server_method());
	if (!ctx || !SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION))
		return -EIO;
	if (s->o.cert_file
		    ? SSL_CTX_use_certificate_chain_file(ctx, s->o.cert_file) != 1 ||
			      SSL_CTX_use_PrivateKey_file(ctx, s->o.key_file, SSL_FILETYPE_PEM) != 1
		    : make_cert(ctx) != 0)
		return -EIO;
	/* No session tickets: the client's connections stay identical in size. */
	SSL_CTX_set_num_tickets(ctx, 0);
	s->ctx = ctx;
	s->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s->fd < 0 || bind(s->fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(s->fd, 16) ||
	    getsockname(s->fd, (struct sockaddr *)&sa, &len))
		return -errno;
	s->port = ntohs(sa.sin_port);
	s->running = true;
	if (pthread_create(&s->thread, NULL, run, s)) {
		s->running = false;
		return -EAGAIN;
	}
	return 0;
}

int tls_server_start(struct tls_server *s)
{
	return tls_server_start_opts(s, NULL);
}

void tls_server_stop(struct tls_server *s)
{
	if (s->running) {
		s->running = false;
		pthread_join(s->thread, NULL);
	}
	if (s->fd > 0)
		close(s->fd);
	SSL_CTX_free(s->ctx);
	s->ctx = NULL;
}
