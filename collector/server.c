// SPDX-License-Identifier: GPL-2.0-only
/*
 * The HTTPS endpoint: TLS 1.3 over libevent's OpenSSL bufferevents, our own strict HTTP/1.1
 * reader (lib/wire/http.c), and two threads.
 *
 * The event loop (the main thread) does the network: accept, TLS handshakes, reading one
 * request, writing one reply. It never waits for the database. A complete request becomes a
 * job on a queue; the store thread takes every job queued at once as one batch (group commit):
 * it checks each report (JWS, key, signature, claims), stores the valid ones in one
 * transaction, commits (one fsync, or one PostgreSQL WAL flush, for the batch), and only then
 * hands the jobs back (an eventfd wakes the loop), whose replies carry the receipts. So no
 * receipt exists for a row that is not durable, and handshakes go on while a commit waits on
 * the disk: the jobs that arrive meanwhile form the next batch.
 *
 * Why not evhttp: it answers some malformed requests itself (plain HTML, no Cache-Control),
 * keeps the first of two Content-Length headers, and accepts HTTP/1.1 without Host. Here
 * every answer is JSON with Connection: close and Cache-Control: no-store, and every ambiguity
 * a proxy could resolve differently is a 400 (see http.h).
 *
 * Every connection carries exactly one request: that is all a device needs, and it makes the
 * per-connection deadline a per-request deadline. After the reply the connection is closed
 * the lingering way (write side shut, the rest of the request read and dropped for a moment),
 * so that a client still sending a refused body reads its 413 rather than a reset.
 */
#include "collector.h"
#include "core/util.h"
#include "wire/http.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#define ACTIVATIONS_PATH "/v1/activations"
#define JOSE_TYPE "application/jose"
#define FLUSH_SECONDS 5
#define LINGER_SECONDS 2
#define BACKLOG 511

/* Why a request was refused; the name is the "error" member of the reply and the stats key. */
enum reject {
	R_NOT_FOUND,
	R_METHOD,
	R_MEDIA_TYPE,
	R_TOO_LARGE,
	R_MALFORMED,
	R_ALG,
	R_UNKNOWN_KEY,
	R_UNTRUSTED_KEY,
	R_BAD_SIGNATURE,
	R_INVALID_CLAIMS,
	R_CONFLICT,
	R_STORAGE,
	R_TIMEOUT,
	R_BAD_REQUEST,
	R_LENGTH_REQUIRED,
	R_HEAD_TOO_LARGE,
	R_VERSION,
	R_COUNT,
	R_NONE = R_COUNT,
};

static const struct {
	const char *code;
	int status;
} rejects[R_COUNT] = {
	[R_NOT_FOUND] = { "not_found", 404 },
	[R_METHOD] = { "method_not_allowed", 405 },
	[R_MEDIA_TYPE] = { "unsupported_media_type", 415 },
	[R_TOO_LARGE] = { "too_large", 413 },
	[R_MALFORMED] = { "malformed_jws", 400 },
	[R_ALG] = { "unsupported_alg", 400 },
	[R_UNKNOWN_KEY] = { "unknown_key", 400 },
	[R_UNTRUSTED_KEY] = { "untrusted_key", 403 },
	[R_BAD_SIGNATURE] = { "bad_signature", 400 },
	[R_INVALID_CLAIMS] = { "invalid_claims", 422 },
	[R_CONFLICT] = { "conflict", 409 },
	[R_STORAGE] = { "storage_unavailable", 503 },
	[R_TIMEOUT] = { "timeout", 408 },
	[R_BAD_REQUEST] = { "bad_request", 400 },
	[R_LENGTH_REQUIRED] = { "length_required", 411 },
	[R_HEAD_TOO_LARGE] = { "headers_too_large", 431 },
	[R_VERSION] = { "http_version_not_supported", 505 },
};

struct trusted_key {
	char kid[STS_KID_LEN + 1];
	struct sts_key key;
};

struct conn;

/* One complete request, checked and stored by the store thread, answered by the loop. */
struct job {
	struct job *next;
	struct conn *c;
	char peer[64];
	char *body;
	size_t len;
	/* Results: status 201/200/409, or why the report was refused (status 0). */
	int status;
	enum reject why;
	char reason[STS_REASON_MAX];
	char aid[STS_AID_LEN + 1];
	char kid[STS_KID_LEN + 1];
	char *receipt;
	long long seq;
	bool new_key;
	/* The store thread's own, between its two passes over a batch. */
	struct sts_jws jws;
	bool has_jws;
	struct sts_report r;
	uint8_t key[STS_ED25519_PUB_LEN];
};

struct server {
	const struct server_opts *o;
	char db_shown[512]; /* o->db without its password */
	struct event_base *base;
	struct evconnlistener *listener;
	SSL_CTX *ssl_ctx;
	struct store *store; /* the store thread's alone once it runs */
	struct sts_key signer;
	char signer_kid[STS_KID_LEN + 1];
	struct trusted_key *trusted;
	size_t ntrusted;
	struct timeval timeout;
	struct event *sigterm, *sigint, *flush_ev, *drain_ev, *done_ev, *resume_ev;
	struct conn *conns; /* every live connection, for the final cleanup */
	int live;
	bool paused, draining;
	unsigned long rejected[R_COUNT]; /* the loop's counts, handed over every FLUSH_SECONDS */

	/* Shared between the loop and the store thread, under lock. */
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct job *queue, **queue_tail;
	struct job *done, **done_tail;
	unsigned long rej_pending[R_COUNT];
	bool stop;
	int efd; /* the store thread -> loop: "jobs are done" */
	pthread_t thread;
	bool thread_started;
};

enum conn_state { C_HEAD, C_BODY, C_WAIT, C_REPLY, C_LINGER };

struct conn {
	struct server *srv;
	struct conn *prev, *next;
	struct bufferevent *bev;
	struct event *deadline;
	struct event *linger;
	enum conn_state state;
	struct sts_http_head head;
	size_t scanned; /* bytes of the head already searched for its end */
	bool gone; /* the peer vanished while its job was with the store thread */
	char peer[64];
	char aid[STS_AID_LEN + 1];
};

static const char *status_text(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 201:
		return "Created";
	case 400:
		return "Bad Request";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 408:
		return "Request Timeout";
	case 409:
		return "Conflict";
	case 411:
		return "Length Required";
	case 413:
		return "Content Too Large";
	case 415:
		return "Unsupported Media Type";
	case 422:
		return "Unprocessable Content";
	case 431:
		return "Request Header Fields Too Large";
	case 505:
		return "HTTP Version Not Supported";
	default:
		return "Service Unavailable";
	}
}

/* ---- connections ---- */

static void maybe_resume_listener(struct server *srv)
{
	if (srv->paused && srv->listener && srv->live < srv->o->max_conns) {
		evconnlistener_enable(srv->listener);
		srv->paused = false;
	}
}

static void conn_free(struct conn *c)
{
	struct server *srv = c->srv;

	if (c->prev)
		c->prev->next = c->next;
	else
		srv->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	if (c->linger)
		event_free(c->linger);
	event_free(c->deadline);
	/* Closes the socket and frees the SSL (BEV_OPT_CLOSE_ON_FREE). */
	bufferevent_free(c->bev);
	free(c);
	srv->live--;
	maybe_resume_listener(srv);
	if (srv->draining && srv->live == 0)
		event_base_loopexit(srv->base, NULL);
}

static void linger_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	char buf[4096];
	ssize_t n;

	if (what & EV_TIMEOUT) {
		conn_free(c);
		return;
	}
	/* The rest of what the client sends is dropped unread, until it closes. */
	for (;;) {
		n = recv(fd, buf, sizeof(buf), 0);
		if (n > 0)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		conn_free(c);
		return;
	}
}

/* The reply is in the kernel: close_notify, shut our side, drop what still comes in. */
static void linger_start(struct conn *c)
{
	struct timeval tv = { .tv_sec = LINGER_SECONDS };
	evutil_socket_t fd = bufferevent_getfd(c->bev);
	SSL *ssl = bufferevent_openssl_get_ssl(c->bev);

	bufferevent_disable(c->bev, EV_READ | EV_WRITE);
	evtimer_del(c->deadline);
	c->state = C_LINGER;
	if (ssl)
		SSL_shutdown(ssl);
	ERR_clear_error();
	if (fd < 0 || shutdown(fd, SHUT_WR) < 0) {
		conn_free(c);
		return;
	}
	c->linger = event_new(c->srv->base, fd, EV_READ | EV_PERSIST, linger_cb, c);
	if (!c->linger || event_add(c->linger, &tv)) {
		conn_free(c);
		return;
	}
}

static void write_cb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;

	(void)bev;
	if (c->state == C_REPLY)
		linger_start(c);
}

/* One JSON reply; the connection closes once it is written. */
static void send_json(struct conn *c, int status, json_t *body, bool allow_post)
{
	char *text = body ? json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	const char *t =
		text ? text : "{\"error\":\"storage_unavailable\",\"reason\":\"out of memory\"}";
	struct evbuffer *out = bufferevent_get_output(c->bev);

	bufferevent_disable(c->bev, EV_READ);
	evbuffer_add_printf(out,
			    "HTTP/1.1 %d %s\r\n"
			    "Content-Type: application/json\r\n"
			    "Cache-Control: no-store\r\n"
			    "Connection: close\r\n"
			    "X-Content-Type-Options: nosniff\r\n"
			    "%s"
			    "Content-Length: %zu\r\n\r\n%s\n",
			    status, status_text(status), allow_post ? "Allow: POST\r\n" : "",
			    strlen(t) + 1, t);
	free(text);
	c->state = C_REPLY;
	/* A client that does not read its reply is dropped at the deadline. */
	evtimer_add(c->deadline, &c->srv->timeout);
	bufferevent_enable(c->bev, EV_WRITE);
}

static void reject(struct conn *c, enum reject why, const char *reason)
{
	json_t *body;

	c->srv->rejected[why]++;
	body = json_pack("{s:s,s:s}", "error", rejects[why].code, "reason", reason);
	if (body && c->aid[0])
		json_object_set_new(body, "aid", json_string(c->aid));
	send_json(c, rejects[why].status, body, why == R_METHOD);
	json_decref(body);
	sts_info("%s %d %s aid=%s reason=\"%s\"", c->peer, rejects[why].status, rejects[why].code,
		 c->aid[0] ? c->aid : "-", reason);
}

static void deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	(void)fd;
	(void)what;
	if (c->state == C_HEAD || c->state == C_BODY) {
		c->srv->rejected[R_TIMEOUT]++;
		sts_info("%s 408 timeout aid=- reason=\"no complete request within %ld s\"",
			 c->peer, (long)c->srv->timeout.tv_sec);
	}
	conn_free(c);
}

static void event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;

	(void)bev;
	if (what & BEV_EVENT_CONNECTED)
		return;
	/* Its job still refers to it: freed when the job comes back. */
	if (c->state == C_WAIT) {
		if (what & BEV_EVENT_ERROR)
			c->gone = true;
		bufferevent_disable(c->bev, EV_READ);
		return;
	}
	ERR_clear_error();
	conn_free(c);
}

static void submit(struct conn *c, struct evbuffer *in)
{
	struct server *srv = c->srv;
	struct job *j = calloc(1, sizeof(*j));
	size_t len = (size_t)c->head.content_length;

	if (j)
		j->body = malloc(len + 1);
	if (!j || !j->body) {
		free(j);
		reject(c, R_STORAGE, "out of memory; retry later");
		return;
	}
	evbuffer_drain(in, c->head.head_len);
	evbuffer_remove(in, j->body, len);
	j->body[len] = '\0';
	j->len = len;
	j->c = c;
	j->why = R_NONE;
	j->seq = -1;
	memcpy(j->peer, c->peer, sizeof(j->peer));
	c->state = C_WAIT;
	evtimer_del(c->deadline);
	bufferevent_disable(c->bev, EV_READ);
	pthread_mutex_lock(&srv->lock);
	*srv->queue_tail = j;
	srv->queue_tail = &j->next;
	pthread_cond_signal(&srv->wake);
	pthread_mutex_unlock(&srv->lock);
}

/* The head is complete: refuse what cannot be an activation before reading any body. */
static bool judge_head(struct conn *c)
{
	struct sts_http_head *h = &c->head;
	char reason[STS_REASON_MAX];

	if (strcmp(h->target, ACTIVATIONS_PATH) != 0) {
		reject(c, R_NOT_FOUND, "unknown path; reports go to POST " ACTIVATIONS_PATH);
		return false;
	}
	if (strcmp(h->method, "POST") != 0) {
		reject(c, R_METHOD, "use POST with the report as the body");
		return false;
	}
	if (strcasecmp(h->content_type, JOSE_TYPE) != 0) {
		reject(c, R_MEDIA_TYPE,
		       "Content-Type must be " JOSE_TYPE " (a JWS compact serialization)");
		return false;
	}
	if (h->content_length < 0) {
		reject(c, R_LENGTH_REQUIRED, "send the report with a Content-Length header");
		return false;
	}
	if (h->content_length > c->srv->o->max_body) {
		snprintf(
			reason, sizeof(reason),
			"body is %lld bytes; this collector accepts at most %ld (a report is a few "
			"hundred)",
			h->content_length, c->srv->o->max_body);
		reject(c, R_TOO_LARGE, reason);
		return false;
	}
	return true;
}

static void read_cb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t have = evbuffer_get_length(in), n, end, from;
	char reason[STS_REASON_MAX];
	const char *buf;
	int st;

	if (c->state == C_HEAD) {
		n = have < STS_HTTP_MAX_HEAD + 1 ? have : STS_HTTP_MAX_HEAD + 1;
		buf = (const char *)evbuffer_pullup(in, (ev_ssize_t)n);
		/* Only what is new (and 3 bytes before it): a byte-by-byte sender costs linear. */
		from = c->scanned > 3 ? c->scanned - 3 : 0;
		end = buf ? sts_http_head_end(buf + from, n - from) : 0;
		if (end)
			end += from;
		c->scanned = n;
		if (!end) {
			if (n > STS_HTTP_MAX_HEAD)
				reject(c, R_HEAD_TOO_LARGE, "request head larger than 8192 bytes");
			return;
		}
		st = sts_http_parse_head(buf, end, &c->head, reason, sizeof(reason));
		if (st) {
			reject(c,
			       st == 431   ? R_HEAD_TOO_LARGE
			       : st == 505 ? R_VERSION
					   : R_BAD_REQUEST,
			       reason);
			return;
		}
		if (!judge_head(c))
			return;
		c->state = C_BODY;
		if (c->head.expect_continue && have < end + (size_t)c->head.content_length)
			bufferevent_write(bev, "HTTP/1.1 100 Continue\r\n\r\n", 25);
	}
	if (c->state == C_BODY && have >= c->head.head_len + (size_t)c->head.content_length)
		submit(c, in);
}

static void accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen,
		      void *arg)
{
	struct server *srv = arg;
	char host[INET6_ADDRSTRLEN] = "?";
	struct conn *c;
	int one = 1;
	SSL *ssl;

	(void)l;
	(void)salen;
	c = calloc(1, sizeof(*c));
	ssl = SSL_new(srv->ssl_ctx);
	if (c)
		c->deadline = evtimer_new(srv->base, deadline_cb, c);
	if (c && ssl && c->deadline)
		c->bev = bufferevent_openssl_socket_new(
			srv->base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
	if (!c || !ssl || !c->deadline || !c->bev) {
		sts_err("new connection: out of memory");
		if (c && c->bev) {
			bufferevent_free(c->bev);
		} else {
			SSL_free(ssl);
			evutil_closesocket(fd);
		}
		if (c && c->deadline)
			event_free(c->deadline);
		free(c);
		return;
	}
	c->srv = srv;
	/*
	 * The reply and then close_notify are two small writes: without this, Nagle holds the
	 * second until the client's (delayed) ACK of the first, and the client waits for the end.
	 */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (sa->sa_family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)sa;

		inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof(host));
		snprintf(c->peer, sizeof(c->peer), "[%s]:%u", host, ntohs(s6->sin6_port));
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)sa;

		inet_ntop(AF_INET, &s4->sin_addr, host, sizeof(host));
		snprintf(c->peer, sizeof(c->peer), "%s:%u", host, ntohs(s4->sin_port));
	}
	c->next = srv->conns;
	if (srv->conns)
		srv->conns->prev = c;
	srv->conns = c;
	srv->live++;
	bufferevent_setcb(c->bev, read_cb, write_cb, event_cb, c);
	bufferevent_enable(c->bev, EV_READ);
	evtimer_add(c->deadline, &srv->timeout);
	/* Beyond the cap, connections wait in the kernel's backlog, not in our memory. */
	if (srv->live >= srv->o->max_conns && !srv->paused) {
		evconnlistener_disable(srv->listener);
		srv->paused = true;
	}
}

static void resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;

	(void)fd;
	(void)what;
	if (srv->listener && !srv->paused)
		evconnlistener_enable(srv->listener);
}

/* Out of file descriptors or memory: pause accepting for a second rather than spin. */
static void accept_error_cb(struct evconnlistener *l, void *arg)
{
	struct server *srv = arg;
	struct timeval tv = { .tv_sec = 1 };
	int e = EVUTIL_SOCKET_ERROR();

	sts_err("accept on %s: %s; pausing new connections for 1 s", srv->o->listen,
		evutil_socket_error_to_string(e));
	evconnlistener_disable(l);
	if (srv->resume_ev)
		evtimer_add(srv->resume_ev, &tv);
}

/* ---- the store thread ---- */

static const struct sts_key *find_trusted(struct server *srv, const char *kid)
{
	size_t lo = 0, hi = srv->ntrusted, mid;
	int c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = strcmp(kid, srv->trusted[mid].kid);
		if (c == 0)
			return &srv->trusted[mid].key;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

static void utc_now(char out[32])
{
	struct tm tm;
	time_t t = time(NULL);

	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void refuse(struct job *j, enum reject why, const char *reason)
{
	j->why = why;
	snprintf(j->reason, sizeof(j->reason), "%s", reason);
}

/* A key registered by an earlier report of the same batch (not yet committed). */
struct batch_key {
	char kid[STS_KID_LEN + 1];
	uint8_t pub[STS_ED25519_PUB_LEN];
};

/* The JWS's structure and header: true when it parsed (j->jws), otherwise j says why not. */
static bool parse_report(struct job *j)
{
	char reason[STS_REASON_MAX];
	int err;

	err = sts_jws_parse(j->body, j->len, &j->jws, reason, sizeof(reason));
	if (err == -EOPNOTSUPP) {
		refuse(j, R_ALG, reason);
		return false;
	}
	if (err) {
		refuse(j, R_MALFORMED, err == -EBADMSG ? reason : strerror(-err));
		return false;
	}
	j->has_jws = true;
	memcpy(j->aid, j->jws.aid, sizeof(j->aid));
	memcpy(j->kid, j->jws.kid, sizeof(j->kid));
	return true;
}

/*
 * First pass, outside any transaction: everything but the insert, on a parsed report. True
 * when the report is valid and should be stored; otherwise j says why not.
 */
static bool check_report(struct server *srv, struct job *j, struct batch_key *bk, size_t *nbk)
{
	char reason[STS_REASON_MAX];
	const struct sts_key *key = NULL;
	struct sts_key tofu = { 0 };
	uint8_t stored[STS_ED25519_PUB_LEN];
	bool found = false, ok = false;
	size_t i;
	int err;

	/* Find the key the header names before any signature math. */
	if (srv->trusted) {
		key = find_trusted(srv, j->jws.kid);
		if (!key) {
			snprintf(reason, sizeof(reason),
				 "key id %s is not among this collector's trusted device keys; ask "
				 "the operator to add its public key",
				 j->jws.kid);
			refuse(j, R_UNTRUSTED_KEY, reason);
			goto cleanup;
		}
	} else {
		err = store_get_key(srv->store, j->jws.kid, stored, &found);
		if (err) {
			sts_err("%s look up key %s: %s", j->peer, j->jws.kid,
				store_errmsg(srv->store));
			refuse(j, R_STORAGE,
			       "storage unavailable; nothing was stored, retry later");
			goto cleanup;
		}
		for (i = 0; !found && i < *nbk; i++) {
			if (!strcmp(bk[i].kid, j->jws.kid)) {
				memcpy(stored, bk[i].pub, sizeof(stored));
				/* Registered with this one if the earlier report is not stored. */
				memcpy(j->key, stored, sizeof(j->key));
				j->new_key = true;
				found = true;
			}
		}
		if (found && j->jws.has_jwk && memcmp(stored, j->jws.jwk, sizeof(stored))) {
			refuse(j, R_UNTRUSTED_KEY,
			       "the jwk in the header differs from the key registered for this "
			       "kid");
			goto cleanup;
		}
		if (!found && !j->jws.has_jwk) {
			snprintf(reason, sizeof(reason),
				 "key id %s is not registered; send the public key as \"jwk\" in "
				 "the protected header on first contact",
				 j->jws.kid);
			refuse(j, R_UNKNOWN_KEY, reason);
			goto cleanup;
		}
		err = sts_key_from_raw_public(found ? stored : j->jws.jwk, &tofu);
		if (err) {
			refuse(j, R_MALFORMED, "the public key is not a valid Ed25519 key");
			goto cleanup;
		}
		key = &tofu;
		/* Trust on first use: the key is registered with the first report it signs. */
		if (!found) {
			memcpy(j->key, j->jws.jwk, sizeof(j->key));
			j->new_key = true;
		}
	}
	if (!sts_jws_verify(&j->jws, key)) {
		refuse(j, R_BAD_SIGNATURE,
		       "the signature does not verify with the key named by kid; the report was "
		       "altered or signed with another key");
		goto cleanup;
	}
	if (sts_report_parse(j->jws.payload, j->jws.payload_len, &j->r, reason, sizeof(reason))) {
		refuse(j, R_INVALID_CLAIMS, reason);
		goto cleanup;
	}
	if (j->new_key && !found && *nbk < STS_HTTP_MAX_FIELDS) {
		memcpy(bk[*nbk].kid, j->jws.kid, sizeof(bk[*nbk].kid));
		memcpy(bk[*nbk].pub, j->key, sizeof(bk[*nbk].pub));
		(*nbk)++;
	}
	ok = true;
cleanup:
	sts_key_free(&tofu);
	return ok;
}

/*
 * Second pass, inside the batch's transaction: store a valid report and sign its receipt, or
 * find the receipt of an earlier delivery of the same report. Returns the HTTP status (201,
 * 200, 409) or -errno. Nothing is durable before the commit.
 */
static int store_report(struct server *srv, struct job *j)
{
	char sha_hex[2 * STS_SHA256_LEN + 1], old_hex[65], when[32], *payload = NULL;
	uint8_t sha[STS_SHA256_LEN];
	struct activation a = { 0 };
	size_t rlen;
	bool found = false;
	json_t *p = NULL;
	int err, status = 0;

	err = sts_sha256(j->body, j->len, sha);
	if (err)
		return err;
	sts_hex(sha, sizeof(sha), sha_hex);
	err = store_find(srv->store, j->aid, &found, old_hex, &j->receipt);
	if (err)
		goto cleanup;
	if (found) {
		/* Same aid: a retry if the bytes are the same, a different report otherwise. */
		status = strcmp(old_hex, sha_hex) == 0 ? 200 : 409;
		j->seq = -1;
		goto cleanup;
	}
	err = store_next_seq(srv->store, &a.seq);
	if (err)
		goto cleanup;
	utc_now(when);
	p = json_pack("{s:s,s:s,s:s,s:I}", "aid", j->aid, "sha256", sha_hex, "received_at", when,
		      "seq", (json_int_t)a.seq);
	payload = p ? json_dumps(p, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	if (!payload) {
		err = -ENOMEM;
		goto cleanup;
	}
	err = sts_jws_sign(&srv->signer, j->aid, false, payload, strlen(payload), &j->receipt,
			   &rlen);
	if (err)
		goto cleanup;
	a.aid = j->aid;
	a.kid = j->kid;
	a.sha256_hex = sha_hex;
	a.received_at = when;
	a.report = &j->r;
	a.jws = j->body;
	a.jws_len = j->len;
	a.receipt = j->receipt;
	a.new_key = j->new_key ? j->key : NULL;
	err = store_insert(srv->store, &a);
	if (err)
		goto cleanup;
	j->seq = a.seq;
	status = 201;
cleanup:
	/* A failure rolls the whole batch back (run_batch()): no savepoint to undo one alone. */
	if (err) {
		free(j->receipt);
		j->receipt = NULL;
	}
	free(payload);
	json_decref(p);
	return err ? err : status;
}

static void fail_stored(struct job *j)
{
	j->status = 0;
	free(j->receipt);
	j->receipt = NULL;
	refuse(j, R_STORAGE, "storage unavailable; nothing was stored, retry later");
}

/* One batch: check every report, store the valid ones in one transaction, commit once. */
static void run_batch(struct server *srv, struct job *batch)
{
	struct batch_key bk[STS_HTTP_MAX_FIELDS];
	const char **ids = NULL;
	size_t nbk = 0, n = 0, nj = 0;
	struct job *j;
	bool any = false, open = false;
	int err = 0, st;

	/* A database that went away (a restart) is reconnected before anything else. */
	if (store_reconnect(srv->store))
		sts_err("reconnect to %s: %s", srv->db_shown, store_errmsg(srv->store));
	for (j = batch; j; j = j->next)
		nj++;
	/* The batch's kids, then its aids: one look-up each on a networked database. */
	ids = calloc(nj ? nj : 1, sizeof(*ids));
	for (j = batch; j; j = j->next)
		if (parse_report(j) && ids)
			ids[n++] = j->kid;
	/* Without it (a failed look-up or no memory), get_key asks report by report. */
	if (!srv->trusted && n && ids && store_prefetch_keys(srv->store, ids, n))
		sts_err("look up the batch's keys in %s: %s", srv->db_shown,
			store_errmsg(srv->store));
	n = 0;
	for (j = batch; j; j = j->next) {
		if (j->has_jws && check_report(srv, j, bk, &nbk)) {
			any = true;
			if (ids)
				ids[n++] = j->aid;
		}
	}
	if (!srv->trusted)
		store_prefetch_keys(srv->store, NULL, 0);
	if (!any)
		goto out;
	err = ids ? store_begin_batch(srv->store, ids, n) : store_begin(srv->store);
	if (err) {
		sts_err("begin a transaction on %s: %s", srv->db_shown, store_errmsg(srv->store));
		store_rollback(srv->store);
	} else {
		open = true;
	}
	for (j = batch; j; j = j->next) {
		if (j->why != R_NONE)
			continue;
		if (!open) {
			fail_stored(j);
			continue;
		}
		st = store_report(srv, j);
		if (st < 0) {
			/*
			 * The whole batch is rolled back (PostgreSQL has aborted the transaction
			 * already): the reports stored before it must not get receipts for rows
			 * that will not be committed. It does not happen for a report's own
			 * content, checked before; only when the database fails, which fails the
			 * rest too.
			 */
			sts_err("%s store activation %s: %s", j->peer, j->aid,
				store_errmsg(srv->store));
			err = st;
			open = false;
			store_rollback(srv->store);
			continue;
		}
		j->status = st;
	}
	if (open) {
		err = store_commit(srv->store);
		if (err) {
			sts_err("commit on %s: %s", srv->db_shown, store_errmsg(srv->store));
			store_rollback(srv->store);
		}
	}
	/* Nothing of this batch is durable: no receipt may leave. */
	for (j = batch; err && j; j = j->next)
		if (j->why == R_NONE)
			fail_stored(j);
out:
	free(ids);
	for (j = batch; j; j = j->next) {
		if (j->has_jws) {
			sts_jws_free(&j->jws);
			j->has_jws = false;
		}
	}
}

/* Add the loop's rejection counts, in their own short transactions. */
static void flush_rejections(struct server *srv, unsigned long counts[R_COUNT])
{
	int i;

	for (i = 0; i < R_COUNT; i++) {
		if (!counts[i])
			continue;
		if (store_add_rejections(srv->store, rejects[i].code, counts[i])) {
			sts_err("store rejection counts in %s: %s", srv->db_shown,
				store_errmsg(srv->store));
			return;
		}
		counts[i] = 0;
	}
}

static bool rejections_waiting(struct server *srv)
{
	int i;

	for (i = 0; i < R_COUNT; i++)
		if (srv->rej_pending[i])
			return true;
	return false;
}

static void *store_thread(void *arg)
{
	struct server *srv = arg;
	unsigned long counts[R_COUNT] = { 0 };
	struct job *batch, *last;
	uint64_t one = 1;
	bool more, stop;
	int i;

	pthread_mutex_lock(&srv->lock);
	for (;;) {
		while (!srv->queue && !srv->stop && !rejections_waiting(srv))
			pthread_cond_wait(&srv->wake, &srv->lock);
		/* Everything queued now is one batch: one transaction, one commit. */
		batch = srv->queue;
		srv->queue = NULL;
		srv->queue_tail = &srv->queue;
		for (i = 0; i < R_COUNT; i++) {
			counts[i] += srv->rej_pending[i];
			srv->rej_pending[i] = 0;
		}
		stop = srv->stop;
		pthread_mutex_unlock(&srv->lock);

		if (batch) {
			run_batch(srv, batch);
			for (last = batch; last->next; last = last->next)
				;
			pthread_mutex_lock(&srv->lock);
			*srv->done_tail = batch;
			srv->done_tail = &last->next;
			pthread_mutex_unlock(&srv->lock);
			if (write(srv->efd, &one, sizeof(one)) < 0)
				sts_err("wake the event loop: %s", strerror(errno));
		}
		pthread_mutex_lock(&srv->lock);
		more = srv->queue != NULL;
		pthread_mutex_unlock(&srv->lock);
		/* Reports waiting come first; counts whose flush fails are tried at the next one.
		 */
		if (!more)
			flush_rejections(srv, counts);
		pthread_mutex_lock(&srv->lock);
		if (stop && !srv->queue)
			break;
	}
	pthread_mutex_unlock(&srv->lock);
	return NULL;
}

/* Loop side: answer the jobs the store thread has finished. */
static void answer(struct job *j)
{
	struct conn *c = j->c;
	json_t *resp;

	memcpy(c->aid, j->aid, sizeof(c->aid));
	if (j->status == 409) {
		reject(c, R_CONFLICT,
		       "this activation id was already used for a different report; a retry must "
		       "resend the same bytes, a new report needs a new aid");
		return;
	}
	if (j->status != 201 && j->status != 200) {
		reject(c, j->why == R_NONE ? R_STORAGE : j->why, j->reason);
		return;
	}
	resp = json_pack("{s:s,s:s,s:s}", "status", j->status == 201 ? "stored" : "already_stored",
			 "aid", j->aid, "receipt", j->receipt);
	send_json(c, j->status, resp, false);
	json_decref(resp);
	if (j->seq >= 0)
		sts_info("%s %d stored aid=%s kid=%s seq=%lld%s", c->peer, j->status, j->aid,
			 j->kid, j->seq, j->new_key ? " new-key" : "");
	else
		sts_info("%s %d already_stored aid=%s kid=%s", c->peer, j->status, j->aid, j->kid);
}

static void job_free(struct job *j)
{
	free(j->body);
	free(j->receipt);
	free(j);
}

static void done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;
	struct job *list, *j, *next;
	uint64_t n;

	(void)what;
	if (fd >= 0 && read(fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		sts_err("read the store thread's wake-up: %s", strerror(errno));
	pthread_mutex_lock(&srv->lock);
	list = srv->done;
	srv->done = NULL;
	srv->done_tail = &srv->done;
	pthread_mutex_unlock(&srv->lock);
	for (j = list; j; j = next) {
		next = j->next;
		if (j->c->gone)
			conn_free(j->c);
		else
			answer(j);
		job_free(j);
	}
}

/* Hand the loop's rejection counts to the store thread. */
static void hand_rejections(struct server *srv)
{
	int i;

	pthread_mutex_lock(&srv->lock);
	for (i = 0; i < R_COUNT; i++) {
		srv->rej_pending[i] += srv->rejected[i];
		srv->rejected[i] = 0;
	}
	pthread_cond_signal(&srv->wake);
	pthread_mutex_unlock(&srv->lock);
}

static void flush_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	hand_rejections(arg);
}

static void drain_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;

	(void)fd;
	(void)what;
	sts_err("drain: %d connection(s) still open after the deadline; closing them", srv->live);
	event_base_loopexit(srv->base, NULL);
}

static void signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct server *srv = arg;
	struct timeval tv = { .tv_sec = srv->timeout.tv_sec + 2 };

	(void)what;
	if (srv->draining)
		return;
	srv->draining = true;
	/* Stop accepting first, so that the set of requests to finish can only shrink. */
	if (srv->listener) {
		evconnlistener_free(srv->listener);
		srv->listener = NULL;
	}
	sts_info("%s: draining %d connection(s), no new ones accepted", strsignal(sig), srv->live);
	if (srv->live == 0) {
		event_base_loopexit(srv->base, NULL);
		return;
	}
	/* Each connection's own deadline ends it within the timeout; this is the backstop. */
	srv->drain_ev = evtimer_new(srv->base, drain_deadline_cb, srv);
	if (!srv->drain_ev || evtimer_add(srv->drain_ev, &tv))
		event_base_loopexit(srv->base, NULL);
}

static const char *ssl_error(void)
{
	unsigned long e = ERR_get_error();
	const char *r;

	if (!e)
		return "unknown TLS error";
	/* A file that cannot be opened is a system error: OpenSSL 3 has no reason string for it. */
	if (ERR_SYSTEM_ERROR(e))
		return strerror(ERR_GET_REASON(e));
	r = ERR_reason_error_string(e);
	return r ? r : "unknown TLS error";
}

static int setup_tls(struct server *srv)
{
	const struct server_opts *o = srv->o;

	srv->ssl_ctx = SSL_CTX_new(TLS_server_method());
	if (!srv->ssl_ctx) {
		sts_err("TLS context: %s", ssl_error());
		return -ENOMEM;
	}
	/* TLS 1.3 only: no downgrade, no legacy cipher suites, forward secrecy by design. */
	if (!SSL_CTX_set_min_proto_version(srv->ssl_ctx, TLS1_3_VERSION)) {
		sts_err("TLS context: cannot require TLS 1.3: %s", ssl_error());
		return -EIO;
	}
	/*
	 * Session tickets stay on (OpenSSL's default, as nginx's), although a device never
	 * resumes: the tickets sent right after the handshake carry the ACK of the client's
	 * Finished. Without them, a client with Nagle on holds its request until our delayed ACK,
	 * 40 ms later (measured: 12 activations/s instead of 48 with one client).
	 */
	SSL_CTX_set_options(srv->ssl_ctx, SSL_OP_NO_COMPRESSION);
	if (SSL_CTX_use_certificate_chain_file(srv->ssl_ctx, o->tls_cert) != 1) {
		sts_err("load %s: %s", o->tls_cert, ssl_error());
		return -EINVAL;
	}
	if (SSL_CTX_use_PrivateKey_file(srv->ssl_ctx, o->tls_key, SSL_FILETYPE_PEM) != 1) {
		sts_err("load %s: %s", o->tls_key, ssl_error());
		return -EINVAL;
	}
	if (SSL_CTX_check_private_key(srv->ssl_ctx) != 1) {
		sts_err("%s does not match %s", o->tls_key, o->tls_cert);
		return -EINVAL;
	}
	return 0;
}

static int cmp_trusted(const void *a, const void *b)
{
	return strcmp(((const struct trusted_key *)a)->kid, ((const struct trusted_key *)b)->kid);
}

static int load_trusted(struct server *srv, const char *dir)
{
	char path[PATH_MAX];
	struct trusted_key *nt;
	struct dirent *de;
	size_t n;
	struct stat st;
	DIR *d;
	int err = 0;

	d = opendir(dir);
	if (!d) {
		err = -errno;
		sts_err("open %s: %s", dir, strerror(errno));
		return err;
	}
	while ((de = readdir(d))) {
		n = strlen(de->d_name);
		if (n < 5 || strcmp(de->d_name + n - 4, ".pub") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		nt = realloc(srv->trusted, (srv->ntrusted + 1) * sizeof(*nt));
		if (!nt) {
			err = -ENOMEM;
			goto cleanup;
		}
		srv->trusted = nt;
		nt = &srv->trusted[srv->ntrusted];
		err = sts_key_load_public(path, &nt->key);
		if (err) {
			sts_err("load %s: %s", path,
				err == -EBADMSG ? "not an Ed25519 public key" : strerror(-err));
			goto cleanup;
		}
		srv->ntrusted++;
		err = sts_kid(nt->key.pub, nt->kid);
		if (err)
			goto cleanup;
	}
	if (srv->ntrusted == 0) {
		sts_err("%s: no *.pub device keys; with --trusted-keys nothing would be accepted",
			dir);
		err = -ENOENT;
		goto cleanup;
	}
	qsort(srv->trusted, srv->ntrusted, sizeof(*srv->trusted), cmp_trusted);
cleanup:
	closedir(d);
	return err;
}

static int listen_on(struct server *srv, const char *addr, ev_uint16_t port)
{
	struct evutil_addrinfo hints = { 0 }, *ai = NULL;
	char portstr[8];
	int err;

	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = EVUTIL_AI_PASSIVE | EVUTIL_AI_ADDRCONFIG;
	snprintf(portstr, sizeof(portstr), "%u", port);
	err = evutil_getaddrinfo(addr, portstr, &hints, &ai);
	if (err || !ai)
		return -EADDRNOTAVAIL;
	errno = 0;
	srv->listener = evconnlistener_new_bind(srv->base, accept_cb, srv,
						LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE |
							LEV_OPT_CLOSE_ON_EXEC,
						BACKLOG, ai->ai_addr, (int)ai->ai_addrlen);
	err = srv->listener ? 0 : errno ? -errno : -EADDRNOTAVAIL;
	evutil_freeaddrinfo(ai);
	if (srv->listener)
		evconnlistener_set_error_cb(srv->listener, accept_error_cb);
	return err;
}

static int bound_port(struct server *srv, char *out, size_t outsz, unsigned *port)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	evutil_socket_t fd = evconnlistener_get_fd(srv->listener);
	char host[INET6_ADDRSTRLEN];

	if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0)
		return -errno;
	if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof(host));
		*port = ntohs(s6->sin6_port);
		snprintf(out, outsz, "[%s]:%u", host, *port);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		inet_ntop(AF_INET, &s4->sin_addr, host, sizeof(host));
		*port = ntohs(s4->sin_port);
		snprintf(out, outsz, "%s:%u", host, *port);
	}
	return 0;
}

int server_run(const struct server_opts *o)
{
	struct server srv = { .o = o, .efd = -1 };
	struct timeval flush_tv = { .tv_sec = FLUSH_SECONDS };
	char addr[256], where[300], portbuf[16];
	struct job *j, *next;
	ev_uint16_t port;
	unsigned bport = 0;
	size_t i;
	int err;

	srv.timeout.tv_sec = o->timeout;
	srv.queue_tail = &srv.queue;
	srv.done_tail = &srv.done;
	pthread_mutex_init(&srv.lock, NULL);
	pthread_cond_init(&srv.wake, NULL);
	store_redact(o->db, srv.db_shown, sizeof(srv.db_shown));
	signal(SIGPIPE, SIG_IGN);
	err = sts_split_hostport(o->listen, addr, sizeof(addr), &port);
	if (err) {
		sts_err("--listen %s: expected ADDRESS:PORT, e.g. 0.0.0.0:8443 or [::1]:8443",
			o->listen);
		return err;
	}
	err = sts_key_load_private(o->signing_key, &srv.signer);
	if (err) {
		sts_err("load %s: %s%s", o->signing_key, strerror(-err),
			err == -ENOENT ? " (create it with: sts-collector keygen)" : "");
		goto cleanup;
	}
	err = sts_kid(srv.signer.pub, srv.signer_kid);
	if (err)
		goto cleanup;
	if (o->trusted_keys) {
		err = load_trusted(&srv, o->trusted_keys);
		if (err)
			goto cleanup;
	}
	err = setup_tls(&srv);
	if (err)
		goto cleanup;
	err = store_open(o->db, true, &srv.store);
	if (err) {
		sts_err("open %s: %s", srv.db_shown,
			err == -EPROTO ? "its schema is newer than this collector"
				       : strerror(-err));
		/* An unreachable database is the operator's to fix, as a bad path is. */
		if (err == -ECONNREFUSED)
			err = -EINVAL;
		goto cleanup;
	}
	{
		/*
		 * epoll's changelist: a bufferevent enables and disables its events several
		 * times per request (handshake, read, write, linger); libevent then tells the
		 * kernel only the net change at the next wait, 5 epoll_ctl calls per activation
		 * instead of 12. Its one caveat, a dup()ed descriptor, does not apply: each
		 * connection's socket is registered once.
		 */
		struct event_config *cfg = event_config_new();

		if (cfg)
			event_config_set_flag(cfg, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
		srv.base = cfg ? event_base_new_with_config(cfg) : NULL;
		if (cfg)
			event_config_free(cfg);
	}
	/*
	 * Memory freed by a batch is kept for the next: by default glibc gives the store thread's
	 * arena back to the kernel after nearly every batch (madvise) and takes page faults to get
	 * it again (1.4 faults per activation, measured), a cost nginx does not pay.
	 */
	mallopt(M_TRIM_THRESHOLD, 64 << 20);
	mallopt(M_MMAP_THRESHOLD, 1 << 20);
	srv.efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (!srv.base || srv.efd < 0) {
		err = -ENOMEM;
		goto cleanup;
	}
	srv.done_ev = event_new(srv.base, srv.efd, EV_READ | EV_PERSIST, done_cb, &srv);
	srv.resume_ev = evtimer_new(srv.base, resume_cb, &srv);
	if (!srv.done_ev || !srv.resume_ev || event_add(srv.done_ev, NULL)) {
		err = -ENOMEM;
		goto cleanup;
	}
	err = listen_on(&srv, addr, port);
	if (err) {
		sts_err("listen on %s: %s", o->listen, strerror(-err));
		goto cleanup;
	}
	err = bound_port(&srv, where, sizeof(where), &bport);
	if (err)
		goto cleanup;
	srv.sigterm = evsignal_new(srv.base, SIGTERM, signal_cb, &srv);
	srv.sigint = evsignal_new(srv.base, SIGINT, signal_cb, &srv);
	srv.flush_ev = event_new(srv.base, -1, EV_PERSIST, flush_cb, &srv);
	if (!srv.sigterm || !srv.sigint || !srv.flush_ev || evsignal_add(srv.sigterm, NULL) ||
	    evsignal_add(srv.sigint, NULL) || event_add(srv.flush_ev, &flush_tv)) {
		err = -ENOMEM;
		goto cleanup;
	}
	err = -pthread_create(&srv.thread, NULL, store_thread, &srv);
	if (err) {
		sts_err("start the store thread: %s", strerror(-err));
		goto cleanup;
	}
	srv.thread_started = true;
	sts_info("listening on %s (TLS 1.3), receipts signed by kid %s, %s, database %s", where,
		 srv.signer_kid, o->trusted_keys ? "trusted keys only" : "trust on first use",
		 srv.db_shown);
	if (o->port_file) {
		/* Written once the socket accepts: whoever waits for this file can connect. */
		snprintf(portbuf, sizeof(portbuf), "%u\n", bport);
		err = sts_write_file_atomic(o->port_file, portbuf, strlen(portbuf), 0644);
		if (err) {
			sts_err("write %s: %s", o->port_file, strerror(-err));
			goto cleanup;
		}
	}
	if (event_base_dispatch(srv.base) < 0)
		err = -EIO;
	sts_info("stopped");
cleanup:
	if (srv.thread_started) {
		/* The store thread finishes what is queued and adds the last counts, then ends. */
		hand_rejections(&srv);
		pthread_mutex_lock(&srv.lock);
		srv.stop = true;
		pthread_cond_signal(&srv.wake);
		pthread_mutex_unlock(&srv.lock);
		pthread_join(srv.thread, NULL);
	}
	/* Jobs finished after the loop ended: their connections go below. */
	for (j = srv.done; j; j = next) {
		next = j->next;
		job_free(j);
	}
	srv.draining = false;
	while (srv.conns)
		conn_free(srv.conns);
	if (srv.listener)
		evconnlistener_free(srv.listener);
	if (srv.done_ev)
		event_free(srv.done_ev);
	if (srv.resume_ev)
		event_free(srv.resume_ev);
	if (srv.efd >= 0)
		close(srv.efd);
	if (srv.drain_ev)
		event_free(srv.drain_ev);
	if (srv.flush_ev)
		event_free(srv.flush_ev);
	if (srv.sigterm)
		event_free(srv.sigterm);
	if (srv.sigint)
		event_free(srv.sigint);
	if (srv.base)
		event_base_free(srv.base);
	store_close(srv.store);
	SSL_CTX_free(srv.ssl_ctx);
	for (i = 0; i < srv.ntrusted; i++)
		sts_key_free(&srv.trusted[i].key);
	free(srv.trusted);
	sts_key_free(&srv.signer);
	pthread_cond_destroy(&srv.wake);
	pthread_mutex_destroy(&srv.lock);
	return err;
}
