// SPDX-License-Identifier: GPL-2.0-only
/*
 * The HTTPS endpoint: libevent's evhttp over OpenSSL bufferevents, one thread, one event loop.
 *
 * Single-threaded on purpose: no lock to get wrong. Each accepted report is verified and
 * inserted in the callback that read it, inside a write transaction shared by every report
 * that arrives in the same turn of the event loop (group commit): the commit, one fsync for
 * all of them, runs as an event queued behind those callbacks, and only once it has returned
 * are their replies (and receipts) sent. So there is no window in which a receipt exists for
 * a row that is not on disk, and an fsync (a good part of a millisecond) is paid once per
 * batch rather than once per report while handshakes wait.
 *
 * Every connection carries exactly one request ("Connection: close" on every reply): that is
 * all a device needs, and it makes the per-connection deadline a per-request deadline.
 */
#include "collector.h"
#include "core/util.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#define ACTIVATIONS_PATH "/v1/activations"
#define JOSE_TYPE "application/jose"
#define TRANSPORT_FACTOR 4
#define FLUSH_SECONDS 5

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
	R_COUNT,
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
};

struct trusted_key {
	char kid[STS_KID_LEN + 1];
	struct sts_key key;
};

struct server {
	const struct server_opts *o;
	struct event_base *base;
	struct evhttp *http;
	struct evhttp_bound_socket *bound;
	SSL_CTX *ssl_ctx;
	struct store *store;
	struct sts_key signer;
	char signer_kid[STS_KID_LEN + 1];
	struct trusted_key *trusted;
	size_t ntrusted;
	struct timeval timeout;
	struct event *sigterm, *sigint, *flush_ev, *drain_ev;
	/* Group commit: the open transaction and the requests waiting for its commit. */
	struct event *commit_ev;
	bool in_batch;
	struct pending *pending, **pending_tail;
	int live;
	bool paused, draining;
	unsigned long rejected[R_COUNT];
};

/* Per-connection state, hung on the SSL object so that it lives and dies with it. */
struct conn {
	struct server *srv;
	struct event *deadline;
	struct bufferevent *bev;
};

static int conn_idx = -1;

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
	case 413:
		return "Content Too Large";
	case 415:
		return "Unsupported Media Type";
	case 422:
		return "Unprocessable Content";
	default:
		return "Service Unavailable";
	}
}

static void flush_rejections(struct server *srv)
{
	int i, err;

	for (i = 0; i < R_COUNT; i++) {
		if (!srv->rejected[i])
			continue;
		err = store_add_rejections(srv->store, rejects[i].code, srv->rejected[i]);
		if (err) {
			sts_err("store rejection counts: %s", store_errmsg(srv->store));
			return;
		}
		srv->rejected[i] = 0;
	}
}

static void flush_cb(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;

	(void)fd;
	(void)what;
	/* Not into a batch whose commit may fail: the counts would be lost with it. */
	if (!srv->in_batch)
		flush_rejections(srv);
}

static void maybe_resume_listener(struct server *srv)
{
	if (srv->paused && srv->bound && srv->live < srv->o->max_conns) {
		evconnlistener_enable(evhttp_bound_socket_get_listener(srv->bound));
		srv->paused = false;
	}
}

static void conn_ex_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
			 void *argp)
{
	struct conn *c = ptr;
	struct server *srv;

	(void)parent;
	(void)ad;
	(void)idx;
	(void)argl;
	(void)argp;
	if (!c)
		return;
	srv = c->srv;
	event_free(c->deadline);
	free(c);
	srv->live--;
	maybe_resume_listener(srv);
	if (srv->draining && srv->live == 0)
		event_base_loopexit(srv->base, NULL);
}

static void deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	evutil_socket_t sock = bufferevent_getfd(c->bev);

	(void)fd;
	(void)what;
	/*
	 * Shut the socket down rather than free anything: evhttp owns the connection and sees
	 * end-of-file on its next read, then frees it the normal way.
	 */
	c->srv->rejected[R_TIMEOUT]++;
	sts_info("408 timeout aid=- reason=\"no complete request within %ld s\"",
		 (long)c->srv->timeout.tv_sec);
	if (sock >= 0)
		shutdown(sock, SHUT_RDWR);
}

static struct bufferevent *bev_cb(struct event_base *base, void *arg)
{
	struct server *srv = arg;
	struct bufferevent *bev;
	struct conn *c;
	SSL *ssl;

	ssl = SSL_new(srv->ssl_ctx);
	c = calloc(1, sizeof(*c));
	if (c)
		c->deadline = evtimer_new(base, deadline_cb, c);
	/*
	 * evhttp falls back to a plain socket when this returns NULL, which would be clear text
	 * on the TLS port. Out of memory here is fatal instead.
	 */
	if (!ssl || !c || !c->deadline || !SSL_set_ex_data(ssl, conn_idx, c)) {
		sts_err("new connection: out of memory");
		abort();
	}
	c->srv = srv;
	srv->live++;
	bev = bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING,
					     BEV_OPT_CLOSE_ON_FREE);
	if (!bev) {
		sts_err("new TLS connection: out of memory");
		abort();
	}
	c->bev = bev;
	evtimer_add(c->deadline, &srv->timeout);
	/* Beyond the cap, connections wait in the kernel's backlog, not in our memory. */
	if (srv->live >= srv->o->max_conns && srv->bound && !srv->paused) {
		evconnlistener_disable(evhttp_bound_socket_get_listener(srv->bound));
		srv->paused = true;
	}
	return bev;
}

struct request {
	struct server *srv;
	struct evhttp_request *req;
	char peer[64];
	char aid[STS_AID_LEN + 1];
};

/* A report stored in the open transaction, answered once it is committed. */
struct pending {
	struct pending *next;
	struct request rq;
	int status; /* 201, 200 or 409 */
	char *receipt;
	long long seq;
	char kid[STS_KID_LEN + 1];
	bool new_key;
};

static void send_json(struct request *rq, int status, json_t *body)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(rq->req);
	struct evbuffer *out = evbuffer_new();
	char *text = body ? json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;

	evhttp_add_header(h, "Content-Type", "application/json");
	evhttp_add_header(h, "Cache-Control", "no-store");
	evhttp_add_header(h, "Connection", "close");
	if (out && text) {
		evbuffer_add(out, text, strlen(text));
		evbuffer_add(out, "\n", 1);
	}
	evhttp_send_reply(rq->req, status, status_text(status), out);
	if (out)
		evbuffer_free(out);
	free(text);
}

static void reject(struct request *rq, enum reject why, const char *reason)
{
	json_t *body;

	rq->srv->rejected[why]++;
	body = json_pack("{s:s,s:s}", "error", rejects[why].code, "reason", reason);
	if (body && rq->aid[0])
		json_object_set_new(body, "aid", json_string(rq->aid));
	if (why == R_METHOD)
		evhttp_add_header(evhttp_request_get_output_headers(rq->req), "Allow", "POST");
	send_json(rq, rejects[why].status, body);
	json_decref(body);
	sts_info("%s %d %s aid=%s reason=\"%s\"", rq->peer, rejects[why].status, rejects[why].code,
		 rq->aid[0] ? rq->aid : "-", reason);
}

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

/*
 * Store a verified, valid report in the open transaction (beginning one if needed) and produce
 * its receipt, or find the receipt of an earlier delivery of the same report. Returns the
 * HTTP status (201, 200, 409) or -errno. Nothing is durable before commit_cb().
 */
static int store_report(struct request *rq, const struct sts_jws *jws, const char *body, size_t len,
			const struct sts_report *r, const uint8_t *new_key, char **receipt,
			long long *seq_out)
{
	struct server *srv = rq->srv;
	char sha_hex[2 * STS_SHA256_LEN + 1], old_hex[65], when[32], *payload = NULL;
	uint8_t sha[STS_SHA256_LEN];
	struct activation a = { 0 };
	size_t rlen;
	bool found;
	json_t *p = NULL;
	int err, status = 0;

	*receipt = NULL;
	err = sts_sha256(body, len, sha);
	if (err)
		return err;
	sts_hex(sha, sizeof(sha), sha_hex);
	if (!srv->in_batch) {
		err = store_begin(srv->store);
		if (err)
			return err;
		srv->in_batch = true;
	}
	err = store_savepoint(srv->store);
	if (err)
		return err;
	err = store_find(srv->store, jws->aid, &found, old_hex, receipt);
	if (err)
		goto cleanup;
	if (found) {
		/* Same aid: a retry if the bytes are the same, a different report otherwise. */
		status = strcmp(old_hex, sha_hex) == 0 ? 200 : 409;
		*seq_out = -1;
		goto cleanup;
	}
	err = store_next_seq(srv->store, &a.seq);
	if (err)
		goto cleanup;
	utc_now(when);
	p = json_pack("{s:s,s:s,s:s,s:I}", "aid", jws->aid, "sha256", sha_hex, "received_at", when,
		      "seq", (json_int_t)a.seq);
	payload = p ? json_dumps(p, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	if (!payload) {
		err = -ENOMEM;
		goto cleanup;
	}
	err = sts_jws_sign(&srv->signer, jws->aid, false, payload, strlen(payload), receipt, &rlen);
	if (err)
		goto cleanup;
	a.aid = jws->aid;
	a.kid = jws->kid;
	a.sha256_hex = sha_hex;
	a.received_at = when;
	a.report = r;
	a.jws = body;
	a.jws_len = len;
	a.receipt = *receipt;
	a.new_key = new_key;
	err = store_insert(srv->store, &a);
	if (err)
		goto cleanup;
	*seq_out = a.seq;
	status = 201;
cleanup:
	/* Undo this report alone; the others of the batch stay. */
	if (err || found)
		store_rollback_to(srv->store);
	else
		err = store_release(srv->store);
	if (err) {
		free(*receipt);
		*receipt = NULL;
	}
	free(payload);
	json_decref(p);
	return err ? err : status;
}

static void handle_activation(struct request *rq, struct evbuffer *in)
{
	struct server *srv = rq->srv;
	char reason[STS_REASON_MAX], *body, *receipt = NULL;
	const struct sts_key *key = NULL;
	struct sts_key tofu = { 0 };
	uint8_t stored[STS_ED25519_PUB_LEN];
	const uint8_t *new_key = NULL;
	struct sts_report r;
	struct sts_jws jws;
	struct pending *p;
	long long seq = -1;
	size_t len;
	bool found;
	int err;

	len = evbuffer_get_length(in);
	if ((long)len > srv->o->max_body) {
		snprintf(reason, sizeof(reason),
			 "body is %zu bytes; this collector accepts at most %ld (a report is a few "
			 "hundred)",
			 len, srv->o->max_body);
		reject(rq, R_TOO_LARGE, reason);
		return;
	}
	body = (char *)evbuffer_pullup(in, -1);
	err = sts_jws_parse(body ? body : "", len, &jws, reason, sizeof(reason));
	if (err == -EOPNOTSUPP) {
		reject(rq, R_ALG, reason);
		return;
	}
	if (err) {
		reject(rq, R_MALFORMED, err == -EBADMSG ? reason : strerror(-err));
		return;
	}
	memcpy(rq->aid, jws.aid, sizeof(rq->aid));

	/* Find the key the header names before any signature math. */
	if (srv->trusted) {
		key = find_trusted(srv, jws.kid);
		if (!key) {
			snprintf(reason, sizeof(reason),
				 "key id %s is not among this collector's trusted device keys; ask "
				 "the operator to add its public key",
				 jws.kid);
			reject(rq, R_UNTRUSTED_KEY, reason);
			goto cleanup;
		}
	} else {
		err = store_get_key(srv->store, jws.kid, stored, &found);
		if (err) {
			sts_err("look up key %s: %s", jws.kid, store_errmsg(srv->store));
			reject(rq, R_STORAGE, "storage unavailable; retry later");
			goto cleanup;
		}
		if (found && jws.has_jwk && memcmp(stored, jws.jwk, sizeof(stored))) {
			reject(rq, R_UNTRUSTED_KEY,
			       "the jwk in the header differs from the key registered for this "
			       "kid");
			goto cleanup;
		}
		if (!found && !jws.has_jwk) {
			snprintf(reason, sizeof(reason),
				 "key id %s is not registered; send the public key as \"jwk\" in "
				 "the protected header on first contact",
				 jws.kid);
			reject(rq, R_UNKNOWN_KEY, reason);
			goto cleanup;
		}
		err = sts_key_from_raw_public(found ? stored : jws.jwk, &tofu);
		if (err) {
			reject(rq, R_MALFORMED, "the public key is not a valid Ed25519 key");
			goto cleanup;
		}
		key = &tofu;
		/* Trust on first use: the key is registered with the first report it signs. */
		if (!found)
			new_key = jws.jwk;
	}
	if (!sts_jws_verify(&jws, key)) {
		reject(rq, R_BAD_SIGNATURE,
		       "the signature does not verify with the key named by kid; the report was "
		       "altered or signed with another key");
		goto cleanup;
	}
	if (sts_report_parse(jws.payload, jws.payload_len, &r, reason, sizeof(reason))) {
		reject(rq, R_INVALID_CLAIMS, reason);
		goto cleanup;
	}

	err = store_report(rq, &jws, body, len, &r, new_key, &receipt, &seq);
	if (err < 0) {
		sts_err("store activation %s: %s", jws.aid, store_errmsg(srv->store));
		reject(rq, R_STORAGE, "storage unavailable; nothing was stored, retry later");
		goto cleanup;
	}
	/* Even a 200 or 409 waits: what it was judged against may be in the same batch. */
	p = calloc(1, sizeof(*p));
	if (!p) {
		reject(rq, R_STORAGE, "out of memory; retry later");
		goto cleanup;
	}
	p->rq = *rq;
	p->status = err;
	p->receipt = receipt;
	receipt = NULL;
	p->seq = seq;
	p->new_key = new_key != NULL;
	memcpy(p->kid, jws.kid, sizeof(p->kid));
	*srv->pending_tail = p;
	srv->pending_tail = &p->next;
	/* Behind the callbacks already due in this turn of the loop: their reports join. */
	event_active(srv->commit_ev, 0, 0);
cleanup:
	free(receipt);
	sts_key_free(&tofu);
	sts_jws_free(&jws);
}

/* Answer a report of a committed batch. */
static void answer(struct pending *p)
{
	struct request *rq = &p->rq;
	json_t *resp;

	if (p->status == 409) {
		reject(rq, R_CONFLICT,
		       "this activation id was already used for a different report; a retry must "
		       "resend the same bytes, a new report needs a new aid");
		return;
	}
	resp = json_pack("{s:s,s:s,s:s}", "status", p->status == 201 ? "stored" : "already_stored",
			 "aid", rq->aid, "receipt", p->receipt);
	send_json(rq, p->status, resp);
	json_decref(resp);
	if (p->seq >= 0)
		sts_info("%s %d stored aid=%s kid=%s seq=%lld%s", rq->peer, p->status, rq->aid,
			 p->kid, p->seq, p->new_key ? " new-key" : "");
	else
		sts_info("%s %d already_stored aid=%s kid=%s", rq->peer, p->status, rq->aid,
			 p->kid);
}

/* Group commit: one fsync for the batch, then (only then) every reply of the batch. */
static void commit_cb(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;
	struct pending *p, *next;
	int err = 0;

	(void)fd;
	(void)what;
	if (srv->in_batch) {
		err = store_commit(srv->store);
		if (err) {
			sts_err("commit %s: %s", srv->o->db, store_errmsg(srv->store));
			store_rollback(srv->store);
		}
		srv->in_batch = false;
	}
	for (p = srv->pending; p; p = next) {
		next = p->next;
		if (err)
			reject(&p->rq, R_STORAGE,
			       "storage unavailable; nothing was stored, retry later");
		else
			answer(p);
		free(p->receipt);
		free(p);
	}
	srv->pending = NULL;
	srv->pending_tail = &srv->pending;
}

static void request_cb(struct evhttp_request *req, void *arg)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct bufferevent *bev = evhttp_connection_get_bufferevent(evcon);
	struct request rq = { .srv = arg, .req = req };
	const char *ctype, *uri;
	char *host = NULL;
	struct conn *c;
	ev_uint16_t port = 0;

	c = SSL_get_ex_data(bufferevent_openssl_get_ssl(bev), conn_idx);
	if (c)
		evtimer_del(c->deadline);
	evhttp_connection_get_peer(evcon, &host, &port);
	snprintf(rq.peer, sizeof(rq.peer), "%s:%u", host ? host : "?", port);

	uri = evhttp_request_get_uri(req);
	if (strcmp(uri, ACTIVATIONS_PATH) != 0) {
		reject(&rq, R_NOT_FOUND, "unknown path; reports go to POST " ACTIVATIONS_PATH);
		return;
	}
	if (evhttp_request_get_command(req) != EVHTTP_REQ_POST) {
		reject(&rq, R_METHOD, "use POST with the report as the body");
		return;
	}
	ctype = evhttp_find_header(evhttp_request_get_input_headers(req), "Content-Type");
	if (!ctype || strcasecmp(ctype, JOSE_TYPE) != 0) {
		reject(&rq, R_MEDIA_TYPE,
		       "Content-Type must be " JOSE_TYPE " (a JWS compact serialization)");
		return;
	}
	handle_activation(&rq, evhttp_request_get_input_buffer(req));
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
	if (srv->bound) {
		evhttp_del_accept_socket(srv->http, srv->bound);
		srv->bound = NULL;
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

static int bound_port(struct server *srv, char *out, size_t outsz, unsigned *port)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	evutil_socket_t fd = evhttp_bound_socket_get_fd(srv->bound);
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
	struct server srv = { .o = o };
	struct timeval flush_tv = { .tv_sec = FLUSH_SECONDS };
	char addr[256], where[300], portbuf[16];
	ev_uint16_t port;
	unsigned bport = 0;
	size_t i;
	int err;

	srv.timeout.tv_sec = o->timeout;
	signal(SIGPIPE, SIG_IGN);
	if (conn_idx < 0)
		conn_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, conn_ex_free);
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
		sts_err("open %s: %s", o->db, strerror(-err));
		goto cleanup;
	}
	srv.pending_tail = &srv.pending;
	srv.base = event_base_new();
	srv.http = srv.base ? evhttp_new(srv.base) : NULL;
	srv.commit_ev = srv.base ? event_new(srv.base, -1, 0, commit_cb, &srv) : NULL;
	if (!srv.http || !srv.commit_ev) {
		err = -ENOMEM;
		goto cleanup;
	}
	evhttp_set_bevcb(srv.http, bev_cb, &srv);
	evhttp_set_gencb(srv.http, request_cb, &srv);
	/*
	 * Bodies up to max_body are judged here; a larger one up to TRANSPORT_FACTOR times that
	 * gets a JSON 413 from handle_activation() and is counted. Beyond, evhttp refuses it from
	 * its Content-Length with its own plain 413 (it never hands us those requests). Lingering
	 * close makes evhttp read and drop the rest of such a body, bounded by the request
	 * deadline, so the client reads the 413 instead of a connection reset.
	 */
	evhttp_set_max_body_size(srv.http, o->max_body * TRANSPORT_FACTOR);
	evhttp_set_flags(srv.http, EVHTTP_SERVER_LINGERING_CLOSE);
	evhttp_set_max_headers_size(srv.http, 8192);
	evhttp_set_timeout(srv.http, o->timeout);
	srv.bound = evhttp_bind_socket_with_handle(srv.http, addr, port);
	if (!srv.bound) {
		err = errno ? -errno : -EADDRNOTAVAIL;
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
	sts_info("listening on %s (TLS 1.3), receipts signed by kid %s, %s, database %s", where,
		 srv.signer_kid, o->trusted_keys ? "trusted keys only" : "trust on first use",
		 o->db);
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
	/* A batch still open when the loop ended is committed and answered like any other. */
	if (srv.store)
		commit_cb(-1, 0, &srv);
	if (srv.commit_ev)
		event_free(srv.commit_ev);
	/* Frees every remaining connection (their conn_ex_free runs while srv is alive). */
	if (srv.http)
		evhttp_free(srv.http);
	if (srv.store)
		flush_rejections(&srv);
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
	return err;
}
