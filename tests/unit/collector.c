// SPDX-License-Identifier: GPL-2.0-only
/*
 * sts-collector end to end: a real build/sts-collector on 127.0.0.1 (ephemeral port), real
 * TLS clients (OpenSSL, certificate checked against a CA made for the test), device keys made
 * here. Each test starts its own collector in its own scratch directory.
 */
#include "test.h"
#include "collector_helpers.h"
#include "core/util.h"
#include "wire/http.h"
#include "wire/jws.h"
#include "wire/report.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <libpq-fe.h>
#include <openssl/ssl.h>
#include <sqlite3.h>

#define PATH_ACT "/v1/activations"
#define JOSE "application/jose"
#define IMEI "490154203237518"

static int device_key(const char *name, struct sts_key *key)
{
	char path[512], pub[520];

	snprintf(path, sizeof(path), "%s/%s", test__tmpdir(), name);
	snprintf(pub, sizeof(pub), "%s.pub", path);
	/* The same test body may run twice in one scratch directory (both backends). */
	unlink(path);
	unlink(pub);
	return sts_key_generate(path, pub, key);
}

/* A signed report; country NULL leaves the claim out. */
static char *report(const struct sts_key *key, const char *aid, const char *imei, const char *model,
		    const char *country)
{
	char json[512], *out = NULL;
	size_t n;

	if (country)
		snprintf(json, sizeof(json),
			 "{\"imei\":\"%s\",\"model\":\"%s\",\"sw_version\":\"1.0\",\"country\":\"%"
			 "s\"}",
			 imei, model, country);
	else
		snprintf(json, sizeof(json),
			 "{\"imei\":\"%s\",\"model\":\"%s\",\"sw_version\":\"1.0\"}", imei, model);
	if (sts_jws_sign(key, aid, true, json, strlen(json), &out, &n))
		return NULL;
	return out;
}

/* A payload signed with a correct header of key (with jwk): for claim sets that are wrong. */
static char *signed_payload(const struct sts_key *key, const char *aid, const char *payload)
{
	char kid[STS_KID_LEN + 1], x[64], hdr[512];

	sts_kid(key->pub, kid);
	sts_b64url_encode(key->pub, 32, x, sizeof(x));
	snprintf(hdr, sizeof(hdr),
		 "{\"alg\":\"EdDSA\",\"kid\":\"%s\",\"aid\":\"%s\",\"jwk\":{\"kty\":\"OKP\","
		 "\"crv\":\"Ed25519\",\"x\":\"%s\"}}",
		 kid, aid, x);
	return jws_forge(key, hdr, payload, strlen(payload));
}

static int post(struct collector *c, const char *body, int *status, json_t **resp)
{
	char *text = NULL;
	int err;

	*resp = NULL;
	err = https_post(c->ca, c->port, PATH_ACT, JOSE, body, strlen(body), status, &text);
	if (!err && text)
		*resp = json_loads(text, 0, NULL);
	free(text);
	return err;
}

static const char *jstr(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* Verify a receipt as a device would: the pinned collector key, then its claims. */
static bool check_receipt(struct collector *c, const char *receipt, const char *aid,
			  const char *sent, long long *seq)
{
	uint8_t d[STS_SHA256_LEN];
	char hex[65], reason[STS_REASON_MAX];
	struct sts_key pub = { 0 };
	struct sts_jws j;
	json_t *p = NULL;
	bool ok = false;

	if (!ASSERT_OK(sts_key_load_public(c->pubkey, &pub), "load collector key"))
		return false;
	if (!ASSERT_OK(sts_jws_parse(receipt, strlen(receipt), &j, reason, sizeof(reason)),
		       "receipt parses"))
		goto cleanup;
	if (!ASSERT_TRUE(sts_jws_verify(&j, &pub), "receipt signature verifies"))
		goto free_jws;
	ASSERT_STREQ(j.aid, aid, "receipt header aid");
	p = json_loadb(j.payload, j.payload_len, JSON_REJECT_DUPLICATES, NULL);
	if (!ASSERT_OK_PTR(p, "receipt payload is JSON"))
		goto free_jws;
	ASSERT_EQ(json_object_size(p), 4, "receipt has aid, sha256, received_at, seq");
	ASSERT_STREQ(jstr(p, "aid"), aid, "receipt aid");
	sts_sha256(sent, strlen(sent), d);
	sts_hex(d, sizeof(d), hex);
	ASSERT_STREQ(jstr(p, "sha256"), hex, "receipt sha256 is of the JWS sent");
	ASSERT_EQ(jstr(p, "received_at") ? strlen(jstr(p, "received_at")) : 0, 20,
		  "received_at is RFC 3339 UTC");
	*seq = json_integer_value(json_object_get(p, "seq"));
	ok = !test__cur.failed;
free_jws:
	sts_jws_free(&j);
cleanup:
	json_decref(p);
	sts_key_free(&pub);
	return ok;
}

/* Run `sts-collector ARGS` and return its stdout (heap) and exit status. */
static char *run_cli(const char *const *args, int *status)
{
	char bin[256], cmd[2048], *out;
	size_t len = 0, n;
	FILE *f;
	int i;

	snprintf(cmd, sizeof(cmd), "%s", collector_bin(bin, sizeof(bin), "sts-collector"));
	for (i = 0; args[i]; i++) {
		strncat(cmd, " '", sizeof(cmd) - strlen(cmd) - 1);
		strncat(cmd, args[i], sizeof(cmd) - strlen(cmd) - 1);
		strncat(cmd, "'", sizeof(cmd) - strlen(cmd) - 1);
	}
	out = calloc(1, 1 << 20);
	f = popen(cmd, "r");
	if (!f || !out) {
		free(out);
		return NULL;
	}
	while ((n = fread(out + len, 1, (1 << 20) - 1 - len, f)) > 0)
		len += n;
	*status = pclose(f);
	return out;
}

static json_t *list_json(struct collector *c)
{
	const char *args[] = { "list", "--db", c->db, "--json", NULL };
	json_t *j = NULL;
	char *out;
	int st = -1;

	out = run_cli(args, &st);
	if (out && WIFEXITED(st) && WEXITSTATUS(st) == 0)
		j = json_loads(out, 0, NULL);
	if (!j)
		printf("    list --json: status %d, output: %.300s\n", st, out ? out : "(none)");
	free(out);
	return j;
}

static json_t *stats_json(struct collector *c)
{
	const char *args[] = { "stats", "--db", c->db, "--json", NULL };
	json_t *j = NULL;
	char *out;
	int st = -1;

	out = run_cli(args, &st);
	if (out && WIFEXITED(st) && WEXITSTATUS(st) == 0)
		j = json_loads(out, 0, NULL);
	free(out);
	return j;
}

static void show_log(struct collector *c)
{
	char cmd[512];

	if (!test__cur.failed)
		return;
	snprintf(cmd, sizeof(cmd), "sed 's/^/    collector: /' %s/collector.log", c->dir);
	if (system(cmd) != 0)
		printf("    (no collector log)\n");
}

static bool stop_clean(struct collector *c)
{
	int st = -1;

	return ASSERT_OK(collector_stop(c, &st), "stop collector") &&
	       ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0, "collector exits 0 on SIGTERM");
}

void test_collector_cli(void)
{
	const char *help[] = { "--help", NULL }, *shelp[] = { "serve", "--help", NULL },
		   *bad[] = { "frobnicate", NULL };
	char key[512], bin[256];
	const char *kg[] = { "keygen", "--signing-key", key, NULL };
	char *out;
	int st = -1;

	out = run_cli(help, &st);
	ASSERT_TRUE(out && strstr(out, "serve") && strstr(out, "list"), "--help lists commands");
	ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0, "--help exits 0");
	free(out);
	out = run_cli(shelp, &st);
	ASSERT_TRUE(out && strstr(out, "--trusted-keys") && strstr(out, "SIGTERM"),
		    "serve --help documents options and signals");
	free(out);
	out = run_cli(bad, &st);
	ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 2, "unknown command exits 2");
	free(out);
	snprintf(key, sizeof(key), "%s/k/receipt.key", test__tmpdir());
	out = run_cli(kg, &st);
	ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0 && out && strstr(out, "kid"), "keygen");
	free(out);
	out = run_cli(kg, &st);
	ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 2, "keygen never overwrites a key");
	free(out);

	/* An operator's typo in a TLS path: the system's reason, not OpenSSL's "(null)". */
	char msg[1024];

	ASSERT_EQ(test__run(msg, sizeof(msg),
			    "%s serve --listen 127.0.0.1:0 --tls-cert %s/no-such-cert.pem "
			    "--tls-key %s/no-such-cert.pem --signing-key %s --db %s/k/collector.db",
			    collector_bin(bin, sizeof(bin), "sts-collector"), test__tmpdir(),
			    test__tmpdir(), key, test__tmpdir()),
		  2, "a missing certificate exits 2");
	ASSERT_TRUE(strstr(msg, "no-such-cert.pem: No such file or directory"), "and says why");
	ASSERT_TRUE(!strstr(msg, "(null)"), "no (null) in the message");
}

static void store_receipt(void)
{
	struct sts_key dev = { 0 };
	struct collector c = { 0 };
	char aid[STS_AID_LEN + 1], *jws = NULL, *other = NULL, *first = NULL;
	json_t *r = NULL, *list = NULL, *stats = NULL;
	long long seq = 0, seq2 = 0;
	int status = 0;

	if (!ASSERT_OK(device_key("dev", &dev), "device key"))
		return;
	if (!ASSERT_OK(collector_start(test__tmpdir(), NULL, &c), "start collector"))
		goto cleanup;
	sts_aid_new(aid);
	jws = report(&dev, aid, IMEI, "PinePhone Pro", "DE");
	if (!ASSERT_OK(post(&c, jws, &status, &r), "post report"))
		goto cleanup;
	ASSERT_EQ(status, 201, "new report: 201");
	ASSERT_STREQ(jstr(r, "status"), "stored", "status stored");
	ASSERT_STREQ(jstr(r, "aid"), aid, "aid echoed");
	if (!ASSERT_OK_PTR(jstr(r, "receipt"), "receipt present"))
		goto cleanup;
	first = strdup(jstr(r, "receipt"));
	check_receipt(&c, first, aid, jws, &seq);
	ASSERT_EQ(seq, 1, "first seq is 1");
	json_decref(r);

	/* At-least-once sending: the retry gets the very same receipt. */
	ASSERT_OK(post(&c, jws, &status, &r), "retry");
	ASSERT_EQ(status, 200, "retry: 200");
	ASSERT_STREQ(jstr(r, "status"), "already_stored", "status already_stored");
	ASSERT_STREQ(jstr(r, "receipt"), first, "retry: same receipt");
	json_decref(r);

	/* Same aid, different report. */
	other = report(&dev, aid, IMEI, "PinePhone Pro", "FR");
	ASSERT_OK(post(&c, other, &status, &r), "conflict");
	ASSERT_EQ(status, 409, "same aid, other report: 409");
	ASSERT_STREQ(jstr(r, "error"), "conflict", "error conflict");
	ASSERT_TRUE(jstr(r, "reason") && strlen(jstr(r, "reason")) > 20, "reason given");
	json_decref(r);
	r = NULL;

	list = list_json(&c);
	if (ASSERT_TRUE(json_is_array(list) && json_array_size(list) == 1,
			"list --json: one row")) {
		json_t *row = json_array_get(list, 0);

		ASSERT_STREQ(jstr(row, "aid"), aid, "listed aid");
		ASSERT_STREQ(jstr(row, "imei"), IMEI, "listed imei");
		ASSERT_STREQ(jstr(row, "country"), "DE", "listed country: the first report");
		ASSERT_STREQ(jstr(row, "receipt"), first, "listed receipt");
		ASSERT_STREQ(jstr(row, "jws"), jws, "listed JWS as received");
	}

	/* Restart: everything acknowledged is still there, and seq continues. */
	if (!stop_clean(&c) || !ASSERT_OK(collector_start(test__tmpdir(), NULL, &c), "restart"))
		goto cleanup;
	ASSERT_OK(post(&c, jws, &status, &r), "retry after restart");
	ASSERT_EQ(status, 200, "after restart: 200");
	ASSERT_STREQ(jstr(r, "receipt"), first, "after restart: same receipt");
	json_decref(r);
	free(other);
	sts_aid_new(aid);
	other = report(&dev, aid, IMEI, "PinePhone Pro", NULL);
	ASSERT_OK(post(&c, other, &status, &r), "second report");
	ASSERT_EQ(status, 201, "second report: 201 (key known, jwk still accepted)");
	if (jstr(r, "receipt"))
		check_receipt(&c, jstr(r, "receipt"), aid, other, &seq2);
	ASSERT_EQ(seq2, 2, "seq continues after restart");
	stop_clean(&c);
	stats = stats_json(&c);
	ASSERT_EQ(json_integer_value(json_object_get(stats, "activations")), 2, "stats: 2 stored");
	ASSERT_EQ(json_integer_value(json_object_get(stats, "device_keys")), 1,
		  "stats: 1 device key learnt on first use");
	ASSERT_EQ(json_integer_value(
			  json_object_get(json_object_get(stats, "rejections"), "conflict")),
		  1, "stats: the conflict was counted");
cleanup:
	show_log(&c);
	if (c.pid > 0)
		collector_stop(&c, NULL);
	json_decref(r);
	json_decref(list);
	json_decref(stats);
	free(jws);
	free(other);
	free(first);
	sts_key_free(&dev);
}

struct bad_case {
	const char *name;
	char *body; /* heap */
	const char *ctype, *path;
	int status;
	const char *error, *reason_has;
};

static void rejects(void)
{
	struct sts_key dev = { 0 }, other = { 0 };
	struct collector c = { 0 };
	char aid[STS_AID_LEN + 1], kid[STS_KID_LEN + 1], hdr[256], *good = NULL, *big;
	const char *timeout_args[] = { "--timeout", "2", NULL };
	struct bad_case cases[20];
	json_t *r = NULL, *list = NULL, *stats = NULL;
	int n = 0, i, status, fd;
	SSL *ssl;

	if (!ASSERT_OK(device_key("dev", &dev), "device key") ||
	    !ASSERT_OK(device_key("other", &other), "other key"))
		goto cleanup;
	if (!ASSERT_OK(collector_start(test__tmpdir(), timeout_args, &c), "start collector"))
		goto cleanup;
	sts_aid_new(aid);
	sts_kid(dev.pub, kid);
	good = report(&dev, aid, IMEI, "m", NULL);

#define CASE(n_, body_, st_, err_, has_)                  \
	cases[n++] = (struct bad_case){ .name = n_,       \
					.body = body_,    \
					.ctype = JOSE,    \
					.path = PATH_ACT, \
					.status = st_,    \
					.error = err_,    \
					.reason_has = has_ }
	{
		/* Bad signature: a valid report with one signature bit flipped. */
		char *s = strdup(good), *last = strrchr(s, '.') + 5;

		*last = *last == 'A' ? 'B' : 'A';
		CASE("bad signature", s, 400, "bad_signature", "signature does not verify");
	}
	{
		/* Signed by another key than the one its header names. */
		const char *claims = "{\"imei\":\"" IMEI "\",\"model\":\"m\",\"sw_version\":\"1\"}";
		char kid2[STS_KID_LEN + 1], x[64];

		sts_kid(dev.pub, kid2);
		sts_b64url_encode(dev.pub, 32, x, sizeof(x));
		snprintf(
			hdr, sizeof(hdr),
			"{\"alg\":\"EdDSA\",\"kid\":\"%s\",\"aid\":\"%s\",\"jwk\":{\"kty\":\"OKP\","
			"\"crv\":\"Ed25519\",\"x\":\"%s\"}}",
			kid2, aid, x);
		CASE("signed by another key", jws_forge(&other, hdr, claims, strlen(claims)), 400,
		     "bad_signature", "signature");
	}
	snprintf(hdr, sizeof(hdr), "{\"alg\":\"ES256\",\"kid\":\"%s\",\"aid\":\"%s\"}", kid, aid);
	CASE("wrong alg", jws_forge(&dev, hdr, "{}", 2), 400, "unsupported_alg", "EdDSA");
	CASE("extra claim",
	     signed_payload(&dev, aid,
			    "{\"imei\":\"" IMEI "\",\"model\":\"m\",\"sw_version\":\"1\","
			    "\"serial\":\"R58M\"}"),
	     422, "invalid_claims", "\"serial\" is not allowed");
	CASE("missing claim", signed_payload(&dev, aid, "{\"imei\":\"" IMEI "\",\"model\":\"m\"}"),
	     422, "invalid_claims", "\"sw_version\" is missing");
	CASE("bad Luhn",
	     signed_payload(&dev, aid,
			    "{\"imei\":\"490154203237519\",\"model\":\"m\",\"sw_version\":\"1\"}"),
	     422, "invalid_claims", "Luhn");
	CASE("unknown country",
	     signed_payload(&dev, aid,
			    "{\"imei\":\"" IMEI "\",\"model\":\"m\",\"sw_version\":\"1\","
			    "\"country\":\"QQ\"}"),
	     422, "invalid_claims", "not an officially assigned");
	CASE("non-UTF-8",
	     signed_payload(&dev, aid,
			    "{\"imei\":\"" IMEI "\",\"model\":\"\xc3\x28\",\"sw_version\":\"1\"}"),
	     422, "invalid_claims", "UTF-8");
	CASE("duplicate claim",
	     signed_payload(&dev, aid,
			    "{\"imei\":\"" IMEI "\",\"imei\":\"" IMEI "\",\"model\":\"m\","
			    "\"sw_version\":\"1\"}"),
	     422, "invalid_claims", "duplicate");
	{
		char *t = strdup(good);

		t[strlen(t) - 20] = '\0';
		CASE("truncated JWS", t, 400, "malformed_jws", "truncated");
	}
	{
		char *t = strdup(good);

		*strrchr(t, '.') = '\0';
		CASE("JWS without signature", t, 400, "malformed_jws", "found 2");
	}
	big = malloc(9001);
	memset(big, 'A', 9000);
	big[9000] = '\0';
	CASE("oversized body", big, 413, "too_large", "at most 8192");
	{
		char *t = malloc(100001);

		memset(t, 'A', 100000);
		t[100000] = '\0';
		/* Far beyond the cap: refused from Content-Length, body unread, still JSON. */
		CASE("huge body", t, 413, "too_large", "at most 8192");
	}
	{
		char aid2[STS_AID_LEN + 1], *t = NULL;
		size_t len;
		const char *p = "{\"imei\":\"" IMEI "\",\"model\":\"m\",\"sw_version\":\"1\"}";

		sts_aid_new(aid2);
		sts_jws_sign(&other, aid2, false, p, strlen(p), &t, &len);
		CASE("unknown key without jwk", t, 400, "unknown_key", "jwk");
	}
	CASE("wrong content type", strdup(good), 415, "unsupported_media_type", "application/jose");
	cases[n - 1].ctype = "application/json";
	CASE("wrong path", strdup(good), 404, "not_found", "/v1/activations");
	cases[n - 1].path = "/v1/activation";
#undef CASE

	for (i = 0; i < n; i++) {
		char *text = NULL;
		int err;

		err = https_post(c.ca, c.port, cases[i].path, cases[i].ctype, cases[i].body,
				 cases[i].body ? strlen(cases[i].body) : 0, &status, &text);
		if (!ASSERT_OK(err, cases[i].name))
			continue;
		TEST__CHECK(status == cases[i].status, cases[i].name, "status %d, expected %d: %s",
			    status, cases[i].status, text);
		if (cases[i].error) {
			r = json_loads(text, 0, NULL);
			TEST__CHECK(r && jstr(r, "error") &&
					    !strcmp(jstr(r, "error"), cases[i].error),
				    cases[i].name, "error code in %s, expected %s", text,
				    cases[i].error);
			TEST__CHECK(r && jstr(r, "reason") &&
					    strstr(jstr(r, "reason"), cases[i].reason_has),
				    cases[i].name, "reason in %s lacks \"%s\"", text,
				    cases[i].reason_has);
			json_decref(r);
			r = NULL;
		}
		free(text);
	}

	/* GET is not how reports arrive. */
	ssl = tls_connect(c.ca, c.port, 0, &fd);
	if (ASSERT_OK_PTR(ssl, "connect for GET")) {
		char *text = NULL;
		const char *req = "GET /v1/activations HTTP/1.1\r\nHost: localhost\r\n\r\n";

		tls_write_all(ssl, req, strlen(req));
		ASSERT_OK(http_read_response(ssl, &status, &text), "GET response");
		ASSERT_EQ(status, 405, "GET: 405");
		ASSERT_TRUE(text && strstr(text, "method_not_allowed"), "GET: error code");
		free(text);
		tls_close(ssl, fd);
	}
	/* Not TLS 1.3: the handshake itself fails. */
	ssl = tls_connect(c.ca, c.port, TLS1_2_VERSION, &fd);
	ASSERT_TRUE(ssl == NULL, "a TLS 1.2 client is refused");
	tls_close(ssl, fd);
	/* A client that never finishes its request is cut off at the deadline. */
	ssl = tls_connect(c.ca, c.port, 0, &fd);
	if (ASSERT_OK_PTR(ssl, "connect slow client")) {
		const char *part = "POST /v1/activations HTTP/1.1\r\nHost: local";
		char buf[64];
		time_t t0 = time(NULL);

		tls_write_all(ssl, part, strlen(part));
		ASSERT_TRUE(SSL_read(ssl, buf, sizeof(buf)) <= 0, "slow client: closed, no reply");
		ASSERT_TRUE(time(NULL) - t0 <= 4, "slow client: closed at the 2 s deadline");
		tls_close(ssl, fd);
	}

	list = list_json(&c);
	ASSERT_TRUE(json_is_array(list) && json_array_size(list) == 0, "nothing was stored");
	stop_clean(&c);
	stats = stats_json(&c);
	{
		json_t *rej = json_object_get(stats, "rejections");

		ASSERT_EQ(json_integer_value(json_object_get(rej, "invalid_claims")), 6,
			  "stats: invalid_claims counted");
		ASSERT_EQ(json_integer_value(json_object_get(rej, "bad_signature")), 2,
			  "stats: bad_signature counted");
		ASSERT_EQ(json_integer_value(json_object_get(rej, "timeout")), 1,
			  "stats: timeout counted");
		ASSERT_EQ(json_integer_value(json_object_get(stats, "device_keys")), 0,
			  "no key learnt from a refused report");
	}
cleanup:
	show_log(&c);
	if (c.pid > 0)
		collector_stop(&c, NULL);
	for (i = 0; i < n; i++)
		free(cases[i].body);
	free(good);
	json_decref(list);
	json_decref(stats);
	sts_key_free(&dev);
	sts_key_free(&other);
}

static void trusted_keys(void)
{
	struct sts_key a = { 0 }, b = { 0 };
	struct collector c = { 0 };
	char dir[512], src[600], dst[600], aid[STS_AID_LEN + 1], *jws = NULL, *p;
	const char *args[] = { "--trusted-keys", dir, NULL };
	json_t *r = NULL;
	size_t len;
	int status;
	const char *claims = "{\"imei\":\"" IMEI "\",\"model\":\"m\",\"sw_version\":\"1\"}";

	if (!ASSERT_OK(device_key("a", &a), "key a") || !ASSERT_OK(device_key("b", &b), "key b"))
		goto cleanup;
	snprintf(dir, sizeof(dir), "%s/trusted", test__tmpdir());
	mkdir(dir, 0755);
	snprintf(src, sizeof(src), "%s/a.pub", test__tmpdir());
	snprintf(dst, sizeof(dst), "%s/a.pub", dir);
	ASSERT_OK(rename(src, dst), "install a.pub");
	if (!ASSERT_OK(collector_start(test__tmpdir(), args, &c), "start with --trusted-keys"))
		goto cleanup;
	sts_aid_new(aid);
	/* A trusted key needs no jwk in the header. */
	ASSERT_OK(sts_jws_sign(&a, aid, false, claims, strlen(claims), &jws, &len), "sign a");
	ASSERT_OK(post(&c, jws, &status, &r), "post a");
	ASSERT_EQ(status, 201, "trusted key: stored");
	json_decref(r);
	free(jws);
	sts_aid_new(aid);
	jws = report(&b, aid, IMEI, "m", NULL);
	ASSERT_OK(post(&c, jws, &status, &r), "post b");
	ASSERT_EQ(status, 403, "untrusted key (even with jwk): 403");
	p = (char *)jstr(r, "error");
	ASSERT_STREQ(p, "untrusted_key", "error untrusted_key");
	stop_clean(&c);
cleanup:
	show_log(&c);
	if (c.pid > 0)
		collector_stop(&c, NULL);
	json_decref(r);
	free(jws);
	sts_key_free(&a);
	sts_key_free(&b);
}

static void drain(void)
{
	struct sts_key dev = { 0 };
	struct collector c = { 0 };
	char aid[STS_AID_LEN + 1], head[256], *jws = NULL, *text = NULL;
	struct timespec ts = { 0, 300 * 1000 * 1000 };
	json_t *list = NULL;
	int fd = -1, fd2, status = 0, st = -1;
	SSL *ssl = NULL, *ssl2;
	size_t half;

	if (!ASSERT_OK(device_key("dev", &dev), "device key"))
		return;
	if (!ASSERT_OK(collector_start(test__tmpdir(), NULL, &c), "start collector"))
		goto cleanup;
	sts_aid_new(aid);
	jws = report(&dev, aid, IMEI, "m", "IT");
	ssl = tls_connect(c.ca, c.port, 0, &fd);
	if (!ASSERT_OK_PTR(ssl, "connect"))
		goto cleanup;
	/* Half a request in flight when SIGTERM arrives. */
	snprintf(head, sizeof(head),
		 "POST " PATH_ACT " HTTP/1.1\r\nHost: localhost\r\nContent-Type: " JOSE
		 "\r\nContent-Length: %zu\r\n\r\n",
		 strlen(jws));
	half = strlen(jws) / 2;
	ASSERT_OK(tls_write_all(ssl, head, strlen(head)), "send headers");
	ASSERT_OK(tls_write_all(ssl, jws, half), "send half the body");
	nanosleep(&ts, NULL);
	ASSERT_OK(kill(c.pid, SIGTERM), "SIGTERM");
	nanosleep(&ts, NULL);
	ssl2 = tls_connect(c.ca, c.port, 0, &fd2);
	ASSERT_TRUE(ssl2 == NULL, "no new connections while draining");
	tls_close(ssl2, fd2);
	ASSERT_EQ(waitpid(c.pid, NULL, WNOHANG), 0, "still running with a request in flight");
	ASSERT_OK(tls_write_all(ssl, jws + half, strlen(jws) - half), "send the rest");
	ASSERT_OK(http_read_response(ssl, &status, &text), "response");
	ASSERT_EQ(status, 201, "the in-flight report is stored and receipted");
	ASSERT_TRUE(text && strstr(text, "\"receipt\""), "receipt in the reply");
	ASSERT_EQ(waitpid(c.pid, &st, 0), c.pid, "collector exits after draining");
	ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0, "exit status 0");
	c.pid = 0;
	list = list_json(&c);
	ASSERT_TRUE(json_is_array(list) && json_array_size(list) == 1, "drained report is stored");
cleanup:
	show_log(&c);
	tls_close(ssl, fd);
	if (c.pid > 0)
		collector_stop(&c, NULL);
	json_decref(list);
	free(jws);
	free(text);
	sts_key_free(&dev);
}

struct client {
	struct collector *c;
	pthread_barrier_t *start;
	int id, requests;
	int ok, fail;
	char aid[STS_AID_LEN + 1];
	char *receipt;
};

/* A Luhn-valid IMEI made from n: 14 digits, then the check digit. */
static void make_imei(int n, char out[16])
{
	int i, sum = 0, d;

	snprintf(out, 16, "35%012d", n);
	for (i = 0; i < 14; i++) {
		d = out[i] - '0';
		if (i % 2 == 1) {
			d *= 2;
			if (d > 9)
				d -= 9;
		}
		sum += d;
	}
	out[14] = '0' + (10 - sum % 10) % 10;
	out[15] = '\0';
}

static void *client_main(void *arg)
{
	struct client *cl = arg;
	char name[32], imei[16], *jws = NULL, *text;
	struct sts_key key = { 0 };
	int i, status, err;
	json_t *r;

	snprintf(name, sizeof(name), "client%d", cl->id);
	if (device_key(name, &key)) {
		cl->fail++;
		return NULL;
	}
	pthread_barrier_wait(cl->start);
	for (i = 0; i < cl->requests; i++) {
		sts_aid_new(cl->aid);
		make_imei(cl->id * 1000 + i, imei);
		free(jws);
		jws = report(&key, cl->aid, imei, "m", "NL");
		text = NULL;
		err = jws ? https_post(cl->c->ca, cl->c->port, PATH_ACT, JOSE, jws, strlen(jws),
				       &status, &text)
			  : -EINVAL;
		if (!err && status == 201) {
			cl->ok++;
			r = json_loads(text, 0, NULL);
			free(cl->receipt);
			cl->receipt = r && jstr(r, "receipt") ? strdup(jstr(r, "receipt")) : NULL;
			json_decref(r);
		} else {
			cl->fail++;
		}
		free(text);
	}
	/* The last report once more, as a device that missed the reply would. */
	text = NULL;
	err = https_post(cl->c->ca, cl->c->port, PATH_ACT, JOSE, jws, strlen(jws), &status, &text);
	r = !err ? json_loads(text, 0, NULL) : NULL;
	if (err || status != 200 || !cl->receipt || !r || !jstr(r, "receipt") ||
	    strcmp(jstr(r, "receipt"), cl->receipt))
		cl->fail++;
	json_decref(r);
	free(text);
	free(jws);
	sts_key_free(&key);
	return NULL;
}

static double run_clients(struct collector *c, int nclients, int requests, int *ok, int *fail)
{
	struct client *cl = calloc(nclients, sizeof(*cl));
	pthread_t *th = calloc(nclients, sizeof(*th));
	pthread_barrier_t start;
	struct timespec t0, t1;
	int i;

	*ok = *fail = 0;
	if (!cl || !th) {
		free(cl);
		free(th);
		return 0;
	}
	pthread_barrier_init(&start, NULL, nclients + 1);
	for (i = 0; i < nclients; i++) {
		cl[i] = (struct client){ .c = c, .start = &start, .id = i, .requests = requests };
		pthread_create(&th[i], NULL, client_main, &cl[i]);
	}
	pthread_barrier_wait(&start);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < nclients; i++) {
		pthread_join(th[i], NULL);
		*ok += cl[i].ok;
		*fail += cl[i].fail;
		free(cl[i].receipt);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	pthread_barrier_destroy(&start);
	free(cl);
	free(th);
	return (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
}

/* Each aid once in the store, seqs 1..n without a gap. */
static void check_exactly_once(struct collector *c, int n)
{
	json_t *list = list_json(c), *row;
	size_t i, j;
	bool unique = true, dense = true;

	if (!ASSERT_TRUE(json_is_array(list), "list --json"))
		return;
	ASSERT_EQ(json_array_size(list), n, "every report stored");
	json_array_foreach(list, i, row)
	{
		if (json_integer_value(json_object_get(row, "seq")) != (json_int_t)i + 1)
			dense = false;
		for (j = i + 1; j < json_array_size(list); j++)
			if (!strcmp(jstr(row, "aid"), jstr(json_array_get(list, j), "aid")))
				unique = false;
	}
	ASSERT_TRUE(unique, "each aid stored exactly once");
	ASSERT_TRUE(dense, "seq 1..n without gaps");
	json_decref(list);
}

static void concurrent(void)
{
	struct collector c = { 0 };
	int ok, fail;

	if (!ASSERT_OK(collector_start(test__tmpdir(), NULL, &c), "start collector"))
		return;
	run_clients(&c, 50, 1, &ok, &fail);
	ASSERT_EQ(ok, 50, "50 concurrent clients: 201 each");
	ASSERT_EQ(fail, 0, "and their retries got the same receipt");
	check_exactly_once(&c, 50);
	stop_clean(&c);
	show_log(&c);
}

/* A first figure for the benchmark issue: 8 clients, one TLS connection per report. */
void test_collector_throughput(void)
{
	struct collector c = { 0 };
	int ok, fail;
	double secs;

	if (!ASSERT_OK(collector_start(test__tmpdir(), NULL, &c), "start collector"))
		return;
	secs = run_clients(&c, 8, 25, &ok, &fail);
	ASSERT_EQ(ok, 200, "200 reports stored");
	ASSERT_EQ(fail, 0, "no failures");
	printf("  collector_throughput: 8 TLS 1.3 clients, %d reports (+8 retries) in %.2f s: "
	       "%.0f requests/s\n",
	       ok, secs, (ok + 8) / secs);
	check_exactly_once(&c, 200);
	stop_clean(&c);
	show_log(&c);
}

/*
 * Run body against a fresh PostgreSQL database of the process-wide test server: false (and
 * the test skipped) only when PostgreSQL is not installed.
 */
static bool with_pg(void (*body)(void))
{
	char why[512], bindir[128];
	const char *url;

	if (pg_find_bindir(bindir, sizeof(bindir))) {
		test__skip("PostgreSQL server binaries are not installed (apt-get install "
			   "postgresql-15; scripts/deps.sh does)");
		return false;
	}
	url = pg_shared_db(why, sizeof(why), NULL);
	if (!ASSERT_OK_PTR(url, why))
		return false;
	collector_db_url = url;
	body();
	collector_db_url = NULL;
	return true;
}

void test_collector_store_receipt(void)
{
	store_receipt();
}

void test_collector_rejects(void)
{
	rejects();
}

void test_collector_trusted_keys(void)
{
	trusted_keys();
}

void test_collector_drain(void)
{
	drain();
}

void test_collector_concurrent(void)
{
	concurrent();
}

void test_collector_pg_store_receipt(void)
{
	with_pg(store_receipt);
}

void test_collector_pg_rejects(void)
{
	with_pg(rejects);
}

void test_collector_pg_trusted_keys(void)
{
	with_pg(trusted_keys);
}

void test_collector_pg_drain(void)
{
	with_pg(drain);
}

void test_collector_pg_concurrent(void)
{
	with_pg(concurrent);
}

struct raw_case {
	const char *name;
	const char *head; /* %zu: the body's length, %s: the body */
	int status;
	const char *error;
	bool twice; /* the head has %zu twice */
};

/* Every answer, refusals included, is JSON, closes the connection and is never cached. */
static void check_answer_headers(const char *name, const char *resp)
{
	const char *end = resp ? strstr(resp, "\r\n\r\n") : NULL;
	char head[2048];

	if (!TEST__CHECK(end != NULL, name, "no complete response: %.200s", resp ? resp : ""))
		return;
	snprintf(head, sizeof(head), "%.*s", (int)(end - resp), resp);
	TEST__CHECK(strcasestr(head, "\r\nContent-Type: application/json"), name, "not JSON: %s",
		    head);
	TEST__CHECK(strcasestr(head, "\r\nConnection: close"), name, "no Connection: close: %s",
		    head);
	TEST__CHECK(strcasestr(head, "\r\nCache-Control: no-store"), name,
		    "no Cache-Control: no-store: %s", head);
	TEST__CHECK(!strcasestr(resp, "<html"), name, "an HTML body: %s", resp);
	TEST__CHECK(!strstr(resp, "JSON_") && !strstr(resp, "json_") && !strstr(resp, "evhttp") &&
			    !strstr(resp, "libevent") && !strstr(resp, "jansson"),
		    name, "a reason names a library: %s", resp);
}

void test_collector_http_strict(void)
{
	struct sts_key dev = { 0 };
	struct collector c = { 0 };
	char aid[STS_AID_LEN + 1], *jws = NULL, *nul = NULL, req[16384], *resp;
	const char *timeout_args[] = { "--timeout", "2", NULL };
	json_t *list = NULL, *r;
	int status, i, fd, stored = 0;
	size_t n;
	SSL *ssl;
	/* clang-format off */
	static const struct raw_case cases[] = {
		{ "two different Content-Length",
		  "POST /v1/activations HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/jose\r\n"
		  "Content-Length: %zu\r\nContent-Length: 5\r\n\r\n%s", 400, "bad_request", false },
		{ "the same Content-Length twice",
		  "POST /v1/activations HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/jose\r\n"
		  "Content-Length: %zu\r\nContent-Length: %zu\r\n\r\n%s", 400, "bad_request", true },
		{ "a Content-Length list",
		  "POST /v1/activations HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/jose\r\n"
		  "Content-Length: %zu, %zu\r\n\r\n%s", 400, "bad_request", true },
		{ "a signed Content-Length",
		  "POST /v1/activations HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/jose\r\n"
		  "Content-Length: +%zu\r\n\r\n%s", 400, "bad_request", false },
		{ "HTTP/1.1 without Host",
		  "POST /v1/activations HTTP/1.1\r\nContent-Type: application/jose\r\n"
		  "Content-Length: %zu\r\n\r\n%s", 400, "bad_request", false },
		{ "two Host headers",
		  "POST /v1/activations HTTP/1.1\r\nHost: localhost\r\nHost: evil.example\r\n"
		  "Content-Type: application/jose\r\nContent-Length: %zu\r\n\r\n%s", 400, "bad_request", false },
		{ "absolute-form target",
		  "POST https://localhost/v1/activations HTTP/1.1\r\nHost: localhost\r\n"
		  "Content-Type: application/jose\r\nContent-Length: %zu\r\n\r\n%s", 400, "bad_request", false },
		{ "asterisk-form target", "OPTIONS * HTTP/1.1\r\nHost: localhost\r\n\r\n", 400,
		  "bad_request", false },
		{ "authority-form target", "CONNECT localhost:443 HTTP/1.1\r\nHost: localhost\r\n\r\n",
		  400, "bad_request", false },
		{ "Transfer-Encoding with Content-Length",
		  "POST /v1/activations HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/jose\r\n"
		  "Transfer-Encoding: chunked\r\nContent-Length: %zu\r\n\r\n%s", 400, "bad_request", false },
		{ "Content-Length with Transfer-Encoding after it",
		  "POST /v1/activations HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/jose\r\n"
		  "Content-Length: %zu\r\nTransfer-Encoding: identity\r\n\r\n%s", 400, "bad_request", false },
		{ "chunked body",
		  "POST /v1/activations HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/jose\r\n"
		  "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 400, "bad_request", false },
		{ "obsolete line folding",
		  "POST /v1/activations HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/jose\r\n"
		  "X-A: 1\r\n 2\r\nContent-Length: %zu\r\n\r\n%s", 400, "bad_request", false },
		{ "space before the colon",
		  "POST /v1/activations HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/jose\r\n"
		  "Content-Length : %zu\r\n\r\n%s", 400, "bad_request", false },
		{ "bare LF line ends",
		  "POST /v1/activations HTTP/1.1\nHost: localhost\nContent-Type: application/jose\n"
		  "Content-Length: %zu\n\n%s", 400, "bad_request", false },
		{ "lower-case version", "POST /v1/activations http/1.1\r\nHost: localhost\r\n\r\n", 400,
		  "bad_request", false },
		{ "HTTP/2.0 request line", "POST /v1/activations HTTP/2.0\r\nHost: localhost\r\n\r\n",
		  505, "http_version_not_supported", false },
		{ "no Content-Length", "POST /v1/activations HTTP/1.1\r\nHost: localhost\r\n"
		  "Content-Type: application/jose\r\n\r\n", 411, "length_required", false },
		{ "not HTTP at all", "hello\r\n\r\n", 400, "bad_request", false },
		{ "an unknown expectation",
		  "POST /v1/activations HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/jose\r\n"
		  "Expect: 200-ok\r\nContent-Length: %zu\r\n\r\n%s", 400, "bad_request", false },
		{ "path with a query", "POST /v1/activations?x=1 HTTP/1.1\r\nHost: localhost\r\n"
		  "Content-Type: application/jose\r\nContent-Length: %zu\r\n\r\n%s", 404, "not_found", false },
	};
	/* clang-format on */

	if (!ASSERT_OK(device_key("dev", &dev), "device key"))
		return;
	if (!ASSERT_OK(collector_start(test__tmpdir(), timeout_args, &c), "start collector"))
		goto cleanup;
	sts_aid_new(aid);
	jws = report(&dev, aid, IMEI, "m", NULL);
	for (i = 0; i < (int)ARRAY_SIZE(cases); i++) {
		if (cases[i].twice)
			snprintf(req, sizeof(req), cases[i].head, strlen(jws), strlen(jws), jws);
		else if (strstr(cases[i].head, "%zu"))
			snprintf(req, sizeof(req), cases[i].head, strlen(jws), jws);
		else
			snprintf(req, sizeof(req), "%s", cases[i].head);
		resp = NULL;
		if (!ASSERT_OK(https_raw(c.ca, c.port, req, strlen(req), &resp), cases[i].name))
			continue;
		status = 0;
		sscanf(resp, "HTTP/1.1 %d", &status);
		TEST__CHECK(status == cases[i].status, cases[i].name, "status %d, expected %d: %s",
			    status, cases[i].status, resp);
		TEST__CHECK(strstr(resp, cases[i].error) != NULL, cases[i].name, "no \"%s\" in %s",
			    cases[i].error, resp);
		check_answer_headers(cases[i].name, resp);
		free(resp);
	}

	/* A head larger than 8 KiB: 431, still JSON. */
	n = (size_t)snprintf(req, sizeof(req),
			     "POST /v1/activations HTTP/1.1\r\nHost: localhost\r\nX-Pad: ");
	memset(req + n, 'a', 9000);
	memcpy(req + n + 9000, "\r\n\r\n", 5);
	resp = NULL;
	if (ASSERT_OK(https_raw(c.ca, c.port, req, strlen(req), &resp), "huge head")) {
		ASSERT_TRUE(strstr(resp, " 431 ") && strstr(resp, "headers_too_large"),
			    "huge head: 431");
		check_answer_headers("huge head", resp);
	}
	free(resp);

	/* A NUL in a claim: the reason is about the claim, not about a library flag. */
	nul = signed_payload(
		&dev, aid, "{\"imei\":\"" IMEI "\",\"model\":\"a\\u0000b\",\"sw_version\":\"1\"}");
	ASSERT_OK(post(&c, nul, &status, &r), "NUL claim");
	ASSERT_EQ(status, 422, "NUL claim: 422");
	ASSERT_TRUE(jstr(r, "reason") && strstr(jstr(r, "reason"), "NUL") &&
			    !strstr(jstr(r, "reason"), "JSON_"),
		    "NUL claim: the reason says NUL, names no library option");
	json_decref(r);

	/* What a device sends: accepted, also as HTTP/1.0 without Host, and with Expect. */
	snprintf(req, sizeof(req),
		 "POST /v1/activations HTTP/1.0\r\nContent-Type: application/jose\r\n"
		 "Content-Length: %zu\r\n\r\n%s",
		 strlen(jws), jws);
	resp = NULL;
	if (ASSERT_OK(https_raw(c.ca, c.port, req, strlen(req), &resp), "HTTP/1.0")) {
		ASSERT_TRUE(strstr(resp, " 201 ") != NULL, "HTTP/1.0 without Host: 201");
		check_answer_headers("201", resp);
		stored++;
	}
	free(resp);
	ssl = tls_connect(c.ca, c.port, 0, &fd);
	if (ASSERT_OK_PTR(ssl, "connect for Expect")) {
		char buf[256];
		int got;

		free(jws);
		sts_aid_new(aid);
		jws = report(&dev, aid, IMEI, "m", NULL);
		snprintf(req, sizeof(req),
			 "POST /v1/activations HTTP/1.1\r\nHost: localhost\r\n"
			 "Content-Type: application/jose\r\nExpect: 100-continue\r\n"
			 "Content-Length: %zu\r\n\r\n",
			 strlen(jws));
		tls_write_all(ssl, req, strlen(req));
		got = SSL_read(ssl, buf, sizeof(buf) - 1);
		buf[got > 0 ? got : 0] = '\0';
		ASSERT_TRUE(strstr(buf, "HTTP/1.1 100 Continue\r\n\r\n") == buf,
			    "Expect: 100-continue gets 100 before the body");
		tls_write_all(ssl, jws, strlen(jws));
		resp = NULL;
		ASSERT_OK(http_read_response(ssl, &status, &resp), "response after 100");
		ASSERT_EQ(status, 201, "then 201");
		stored += status == 201;
		free(resp);
		tls_close(ssl, fd);
	}
	/* A client that never finishes its request: cut off, logged with its address. */
	ssl = tls_connect(c.ca, c.port, 0, &fd);
	if (ASSERT_OK_PTR(ssl, "connect slow client")) {
		char buf[64];

		tls_write_all(ssl, "POST /v1/activations HTTP/1.1\r\n", 31);
		ASSERT_TRUE(SSL_read(ssl, buf, sizeof(buf)) <= 0, "slow client: closed");
		tls_close(ssl, fd);
	}
	list = list_json(&c);
	ASSERT_TRUE(json_is_array(list) && (int)json_array_size(list) == stored,
		    "only the two well-formed reports were stored");
	stop_clean(&c);
	{
		char logp[512], line[1024];
		bool timeout_seen = false, all_peer = true;
		FILE *f;

		snprintf(logp, sizeof(logp), "%s/collector.log", c.dir);
		f = fopen(logp, "r");
		while (f && fgets(line, sizeof(line), f)) {
			/* Request lines: "sts-collector: PEER STATUS ..." */
			if (strstr(line, " aid="))
				all_peer &= strncmp(line, "sts-collector: 127.0.0.1:", 25) == 0;
			if (strstr(line, "408 timeout"))
				timeout_seen = strstr(line, "127.0.0.1:") != NULL;
		}
		if (f)
			fclose(f);
		ASSERT_TRUE(timeout_seen, "the timeout log line names the peer");
		ASSERT_TRUE(all_peer, "every request log line starts with the peer");
	}
cleanup:
	show_log(&c);
	if (c.pid > 0)
		collector_stop(&c, NULL);
	json_decref(list);
	free(jws);
	free(nul);
	sts_key_free(&dev);
}

/* The HTTP reader alone, on what a TLS test cannot easily send. */
void test_collector_http_parser(void)
{
	struct sts_http_head h;
	char reason[256];
	static const char ok[] = "POST /v1/activations HTTP/1.1\r\nHost: a\r\nContent-Type: "
				 "application/jose\r\nContent-Length: 12\r\n\r\nBODY";
	static const char nulh[] = "POST /v1/activations HTTP/1.1\r\nHost: a\0b\r\n\r\n";
	static const char ctl[] = "POST /v1/activations HTTP/1.1\r\nHost: a\x01\r\n\r\n";
	static const char cr[] = "POST /v1/activations HTTP/1.1\r\nHost: a\rX: b\r\n\r\n";

	ASSERT_EQ(sts_http_head_end(ok, sizeof(ok) - 1), sizeof(ok) - 5, "head ends at the body");
	ASSERT_EQ(sts_http_parse_head(ok, sizeof(ok) - 5, &h, reason, sizeof(reason)), 0,
		  "a device's request parses");
	ASSERT_EQ(h.content_length, 12, "Content-Length");
	ASSERT_STREQ(h.content_type, "application/jose", "Content-Type");
	ASSERT_EQ(sts_http_parse_head(nulh, sizeof(nulh) - 1, &h, reason, sizeof(reason)), 400,
		  "NUL in a header value: 400");
	ASSERT_EQ(sts_http_parse_head(ctl, sizeof(ctl) - 1, &h, reason, sizeof(reason)), 400,
		  "control character: 400");
	ASSERT_EQ(sts_http_parse_head(cr, sizeof(cr) - 1, &h, reason, sizeof(reason)), 400,
		  "bare CR: 400");
	ASSERT_EQ(sts_http_head_end("GET / HTTP/1.1\r\nHost: a\r\n", 25), 0, "incomplete head");
}

/* ---- several instances on one PostgreSQL ---- */

static int copy_file(const char *from, const char *to)
{
	char buf[8192];
	size_t n;
	FILE *in = fopen(from, "r"), *out = in ? fopen(to, "w") : NULL;
	int err = 0;

	if (!in || !out)
		err = -errno;
	while (!err && (n = fread(buf, 1, sizeof(buf), in)) > 0)
		if (fwrite(buf, 1, n, out) != n)
			err = -EIO;
	if (in)
		fclose(in);
	if (out && fclose(out))
		err = -EIO;
	return err;
}

/*
 * Start n instances on collector_db_url, in dirs BASE/iK, sharing one TLS certificate and one
 * receipt key (what a fleet deploys: devices pin one key whichever instance answers).
 */
static bool start_fleet(struct collector *cs, int n)
{
	static const char *const files[] = { "ca.pem", "server.pem", "server.key", "receipt.key",
					     "receipt.key.pub" };
	char dir[512], from[600], to[600];
	size_t f;
	int i;

	for (i = 0; i < n; i++) {
		snprintf(dir, sizeof(dir), "%s/i%d", test__tmpdir(), i);
		mkdir(dir, 0700);
		for (f = 0; i > 0 && f < ARRAY_SIZE(files); f++) {
			snprintf(from, sizeof(from), "%s/i0/%s", test__tmpdir(), files[f]);
			snprintf(to, sizeof(to), "%s/%s", dir, files[f]);
			if (!ASSERT_OK(copy_file(from, to), "copy the fleet's keys"))
				return false;
		}
		if (!ASSERT_OK(collector_start(dir, NULL, &cs[i]), "start an instance"))
			return false;
	}
	return true;
}

#define RACE_AIDS 24
#define RACE_CONFLICTS 6
#define FLEET 3

struct racer {
	struct collector *c;
	pthread_barrier_t *start;
	char **reports;
	int n;
	int status[RACE_AIDS];
	char *receipt[RACE_AIDS];
};

static void *racer_main(void *arg)
{
	struct racer *r = arg;
	char *text;
	json_t *j;
	int i;

	pthread_barrier_wait(r->start);
	for (i = 0; i < r->n; i++) {
		text = NULL;
		if (https_post(r->c->ca, r->c->port, PATH_ACT, JOSE, r->reports[i],
			       strlen(r->reports[i]), &r->status[i], &text))
			r->status[i] = -1;
		j = text ? json_loads(text, 0, NULL) : NULL;
		if (jstr(j, "receipt"))
			r->receipt[i] = strdup(jstr(j, "receipt"));
		json_decref(j);
		free(text);
	}
	return NULL;
}

/* Run one racer thread per instance, each with its own list of reports, all at once. */
static void race(struct collector *cs, struct racer *rs, int n)
{
	pthread_barrier_t start;
	pthread_t th[FLEET];
	int i;

	pthread_barrier_init(&start, NULL, n);
	for (i = 0; i < n; i++) {
		rs[i].c = &cs[i];
		rs[i].start = &start;
		pthread_create(&th[i], NULL, racer_main, &rs[i]);
	}
	for (i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&start);
}

static void fleet_race(void)
{
	struct collector cs[FLEET] = { 0 };
	struct sts_key keys[4] = { 0 };
	struct racer rs[FLEET] = { 0 };
	char *same[RACE_AIDS] = { 0 }, *a[RACE_CONFLICTS] = { 0 }, *b[RACE_CONFLICTS] = { 0 };
	char *canon[RACE_AIDS] = { 0 };
	char name[16], imei[16], aid[STS_AID_LEN + 1];
	int i, k, n201, n200, ok_same = 0, ok_conflict = 0, per[FLEET] = { 0 };
	json_t *list = NULL, *stats = NULL, *row;
	size_t idx;
	bool receipts_match = true, dense = true;

	for (i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "race%d", i);
		if (!ASSERT_OK(device_key(name, &keys[i]), "device key"))
			goto cleanup;
	}
	if (!start_fleet(cs, FLEET))
		goto cleanup;
	/* The same 24 activations (new device keys among them: TOFU races too) to every instance.
	 */
	for (k = 0; k < RACE_AIDS; k++) {
		sts_aid_new(aid);
		make_imei(7000 + k, imei);
		same[k] = report(&keys[k % 4], aid, imei, "m", "SE");
	}
	for (i = 0; i < FLEET; i++) {
		rs[i].reports = same;
		rs[i].n = RACE_AIDS;
	}
	race(cs, rs, FLEET);
	for (k = 0; k < RACE_AIDS; k++) {
		n201 = n200 = 0;
		for (i = 0; i < FLEET; i++) {
			n201 += rs[i].status[k] == 201;
			n200 += rs[i].status[k] == 200;
			per[i] += rs[i].status[k] == 201;
		}
		if (n201 == 1 && n200 == FLEET - 1 && rs[0].receipt[k] && rs[1].receipt[k] &&
		    rs[2].receipt[k] && !strcmp(rs[0].receipt[k], rs[1].receipt[k]) &&
		    !strcmp(rs[0].receipt[k], rs[2].receipt[k]))
			ok_same++;
		else
			printf("    aid #%d: statuses %d %d %d\n", k, rs[0].status[k],
			       rs[1].status[k], rs[2].status[k]);
		canon[k] = rs[0].receipt[k] ? strdup(rs[0].receipt[k]) : NULL;
	}
	printf("  fleet race: %d activations each sent to %d instances at once; first stored by "
	       "instance 0/1/2: %d/%d/%d\n",
	       RACE_AIDS, FLEET, per[0], per[1], per[2]);
	ASSERT_EQ(ok_same, RACE_AIDS,
		  "each activation: one 201, 200 elsewhere, the same receipt from every instance");

	/* Same aid, different reports, to two instances at once: one 201, one 409. */
	for (i = 0; i < FLEET; i++) {
		for (k = 0; k < RACE_AIDS; k++) {
			free(rs[i].receipt[k]);
			rs[i].receipt[k] = NULL;
		}
	}
	for (k = 0; k < RACE_CONFLICTS; k++) {
		sts_aid_new(aid);
		make_imei(8000 + k, imei);
		a[k] = report(&keys[0], aid, imei, "m", "NO");
		b[k] = report(&keys[0], aid, imei, "m", "FI");
	}
	rs[0].reports = a;
	rs[1].reports = b;
	rs[0].n = rs[1].n = RACE_CONFLICTS;
	race(cs, rs, 2);
	for (k = 0; k < RACE_CONFLICTS; k++)
		ok_conflict += (rs[0].status[k] == 201 && rs[1].status[k] == 409) ||
			       (rs[0].status[k] == 409 && rs[1].status[k] == 201);
	ASSERT_EQ(ok_conflict, RACE_CONFLICTS, "two reports under one aid: one 201, one 409");

	list = list_json(&cs[0]);
	if (ASSERT_TRUE(json_is_array(list), "list")) {
		ASSERT_EQ(json_array_size(list), RACE_AIDS + RACE_CONFLICTS,
			  "each activation stored exactly once across the fleet");
		json_array_foreach(list, idx, row)
		{
			if (json_integer_value(json_object_get(row, "seq")) != (json_int_t)idx + 1)
				dense = false;
			for (k = 0; k < RACE_AIDS; k++)
				if (!strcmp(jstr(row, "jws"), same[k]) &&
				    strcmp(jstr(row, "receipt"), canon[k] ? canon[k] : ""))
					receipts_match = false;
		}
		ASSERT_TRUE(dense, "seq 1..n without gap or duplicate across the fleet");
		ASSERT_TRUE(receipts_match, "the stored receipts are the ones the clients got");
	}
	for (i = 0; i < FLEET; i++)
		stop_clean(&cs[i]);
	stats = stats_json(&cs[0]);
	ASSERT_EQ(json_integer_value(json_object_get(stats, "device_keys")), 4,
		  "each device key registered once");
	ASSERT_EQ(json_integer_value(
			  json_object_get(json_object_get(stats, "rejections"), "conflict")),
		  RACE_CONFLICTS, "the instances' conflict counts add up");
cleanup:
	for (i = 0; i < FLEET; i++) {
		show_log(&cs[i]);
		if (cs[i].pid > 0)
			collector_stop(&cs[i], NULL);
		for (k = 0; k < RACE_AIDS; k++)
			free(rs[i].receipt[k]);
	}
	for (k = 0; k < RACE_AIDS; k++) {
		free(same[k]);
		free(canon[k]);
	}
	for (k = 0; k < RACE_CONFLICTS; k++) {
		free(a[k]);
		free(b[k]);
	}
	for (i = 0; i < 4; i++)
		sts_key_free(&keys[i]);
	json_decref(list);
	json_decref(stats);
}

void test_collector_pg_fleet_race(void)
{
	with_pg(fleet_race);
}

/* Several instances on one SQLite file (one host): the same guarantees. */
void test_collector_fleet_race(void)
{
	char db[512];

	snprintf(db, sizeof(db), "%s/shared/collector.db", test__tmpdir());
	collector_db_url = db;
	fleet_race();
	collector_db_url = NULL;
}

#define BURST_CLIENTS 8
#define BURST_EACH 20

struct burster {
	struct collector *c;
	pthread_barrier_t *start;
	atomic_int *acked;
	char *reports[BURST_EACH];
	char *receipt[BURST_EACH];
	int final[BURST_EACH];
	int n503, nerr, nretry200;
};

/* A device: on 503 or no answer, wait a little and send the same bytes again. */
static void *burster_main(void *arg)
{
	struct burster *b = arg;
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	int i, tries, status, err;
	bool had_503;
	char *text;
	json_t *j;

	pthread_barrier_wait(b->start);
	for (i = 0; i < BURST_EACH; i++) {
		had_503 = false;
		for (tries = 0; tries < 500; tries++) {
			text = NULL;
			err = https_post(b->c->ca, b->c->port, PATH_ACT, JOSE, b->reports[i],
					 strlen(b->reports[i]), &status, &text);
			if (!err && (status == 201 || status == 200)) {
				j = json_loads(text, 0, NULL);
				b->receipt[i] =
					jstr(j, "receipt") ? strdup(jstr(j, "receipt")) : NULL;
				json_decref(j);
				free(text);
				b->final[i] = status;
				b->nretry200 += status == 200 && had_503;
				atomic_fetch_add(b->acked, 1);
				break;
			}
			free(text);
			if (!err && status == 503) {
				b->n503++;
				had_503 = true;
			} else {
				b->nerr++;
			}
			nanosleep(&ts, NULL);
		}
	}
	return NULL;
}

static void pg_restart_burst(void)
{
	struct collector cs[2] = { 0 };
	struct burster bs[BURST_CLIENTS] = { 0 };
	struct sts_key keys[BURST_CLIENTS] = { 0 };
	struct timespec ts = { 0, 5 * 1000 * 1000 }, down = { 0, 500 * 1000 * 1000 };
	pthread_t th[BURST_CLIENTS];
	pthread_barrier_t start;
	atomic_int acked = 0;
	char name[16], imei[16], aid[STS_AID_LEN + 1];
	int i, k, n503 = 0, nerr = 0, n200 = 0, done = 0, at_stop = 0, waited, mism = 0;
	struct pg_server *pg = NULL;
	json_t *list = NULL, *row;
	size_t idx;
	bool dense = true;
	char why[256];

	/* with_pg() made the database on the shared server: the one to restart. */
	pg_shared_db(why, sizeof(why), &pg);
	if (!start_fleet(cs, 2))
		goto cleanup;
	pthread_barrier_init(&start, NULL, BURST_CLIENTS + 1);
	for (i = 0; i < BURST_CLIENTS; i++) {
		snprintf(name, sizeof(name), "burst%d", i);
		if (!ASSERT_OK(device_key(name, &keys[i]), "device key"))
			goto cleanup;
		bs[i].c = &cs[i % 2];
		bs[i].start = &start;
		bs[i].acked = &acked;
		for (k = 0; k < BURST_EACH; k++) {
			sts_aid_new(aid);
			make_imei(9000 + i * 100 + k, imei);
			bs[i].reports[k] = report(&keys[i], aid, imei, "m", "PT");
		}
		pthread_create(&th[i], NULL, burster_main, &bs[i]);
	}
	pthread_barrier_wait(&start);
	/* A quarter of the burst acknowledged, then the database goes away mid-burst. */
	for (waited = 0; atomic_load(&acked) < BURST_CLIENTS * BURST_EACH / 4 && waited < 4000;
	     waited++)
		nanosleep(&ts, NULL);
	at_stop = atomic_load(&acked);
	ASSERT_OK(pg_stop(pg), "stop PostgreSQL mid-burst");
	nanosleep(&down, NULL);
	ASSERT_OK(pg_start(pg), "start it again");
	for (i = 0; i < BURST_CLIENTS; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&start);
	for (i = 0; i < BURST_CLIENTS; i++) {
		n503 += bs[i].n503;
		nerr += bs[i].nerr;
		n200 += bs[i].nretry200;
		for (k = 0; k < BURST_EACH; k++)
			done += bs[i].receipt[k] != NULL;
	}
	printf("  restart burst: %d reports from %d clients over 2 instances; PostgreSQL stopped "
	       "after %d acknowledged, down 0.5 s; clients saw %d x 503 and %d failed connections, "
	       "%d retries answered 200 (stored before the reply was lost)\n",
	       BURST_CLIENTS * BURST_EACH, BURST_CLIENTS, at_stop, n503, nerr, n200);
	ASSERT_EQ(done, BURST_CLIENTS * BURST_EACH, "every report acknowledged in the end");
	ASSERT_TRUE(n503 > 0, "clients got 503 while the database was down");
	ASSERT_EQ(nerr, 0, "the collectors kept answering (503), no connection failed");
	list = list_json(&cs[0]);
	if (ASSERT_TRUE(json_is_array(list), "list")) {
		ASSERT_EQ(json_array_size(list), BURST_CLIENTS * BURST_EACH,
			  "nothing acknowledged lost, nothing stored twice");
		json_array_foreach(list, idx, row)
		{
			if (json_integer_value(json_object_get(row, "seq")) != (json_int_t)idx + 1)
				dense = false;
			for (i = 0; i < BURST_CLIENTS; i++)
				for (k = 0; k < BURST_EACH; k++)
					if (!strcmp(jstr(row, "jws"), bs[i].reports[k]) &&
					    (!bs[i].receipt[k] ||
					     strcmp(jstr(row, "receipt"), bs[i].receipt[k])))
						mism++;
		}
		ASSERT_TRUE(dense, "seq without gap across the restart");
		ASSERT_EQ(mism, 0, "every receipt a client holds is the stored one");
	}
	for (i = 0; i < 2; i++)
		stop_clean(&cs[i]);
cleanup:
	for (i = 0; i < 2; i++) {
		show_log(&cs[i]);
		if (cs[i].pid > 0)
			collector_stop(&cs[i], NULL);
	}
	for (i = 0; i < BURST_CLIENTS; i++) {
		for (k = 0; k < BURST_EACH; k++) {
			free(bs[i].reports[k]);
			free(bs[i].receipt[k]);
		}
		sts_key_free(&keys[i]);
	}
	json_decref(list);
}

void test_collector_pg_restart(void)
{
	with_pg(pg_restart_burst);
}

/* ---- export, schema versions ---- */

static int count_lines(const char *s)
{
	int n = 0;

	for (; s && *s; s++)
		n += *s == '\n';
	return n;
}

static void export_body(void)
{
	struct sts_key dev = { 0 };
	struct collector c = { 0 };
	char aid[STS_AID_LEN + 1], *jws = NULL, *out = NULL, *line, *save = NULL;
	const char *all[] = { "export", "--db", c.db, NULL },
		   *after[] = { "export", "--db", c.db, "--after-seq", "2", NULL },
		   *since[] = { "export", "--db", c.db, "--since", "2000-01-01", NULL },
		   *future[] = { "export", "--db", c.db, "--since", "2999-01-01T00:00:00Z", NULL },
		   *bad[] = { "export", "--db", c.db, "--since", "yesterday", NULL };
	json_t *r;
	int i, status, st = -1, good = 0;

	if (!ASSERT_OK(device_key("dev", &dev), "device key"))
		return;
	if (!ASSERT_OK(collector_start(test__tmpdir(), NULL, &c), "start collector"))
		goto cleanup;
	for (i = 0; i < 3; i++) {
		sts_aid_new(aid);
		free(jws);
		jws = report(&dev, aid, IMEI, "m", "IE");
		ASSERT_OK(post(&c, jws, &status, &r), "post");
		ASSERT_EQ(status, 201, "stored");
		json_decref(r);
	}
	stop_clean(&c);
	/* The argument arrays point at c.db, filled by collector_start(). */
	out = run_cli(all, &st);
	ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0, "export exits 0");
	ASSERT_EQ(count_lines(out), 3, "export: one line per activation");
	for (line = out ? strtok_r(out, "\n", &save) : NULL; line;
	     line = strtok_r(NULL, "\n", &save)) {
		r = json_loads(line, 0, NULL);
		good += r && json_integer_value(json_object_get(r, "seq")) > 0 && jstr(r, "jws") &&
			jstr(r, "receipt") && jstr(r, "imei") && json_object_size(r) == 11;
		json_decref(r);
	}
	ASSERT_EQ(good, 3, "each line one JSON object with every column");
	free(out);
	out = run_cli(after, &st);
	ASSERT_EQ(count_lines(out), 1, "--after-seq 2: the third only");
	ASSERT_TRUE(out && strstr(out, "\"seq\":3"), "--after-seq 2: seq 3");
	free(out);
	out = run_cli(since, &st);
	ASSERT_EQ(count_lines(out), 3, "--since a past date: all");
	free(out);
	out = run_cli(future, &st);
	ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0 && count_lines(out) == 0,
		    "--since a future time: none, exit 0");
	free(out);
	out = run_cli(bad, &st);
	ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 2, "--since yesterday: usage error");
cleanup:
	show_log(&c);
	if (c.pid > 0)
		collector_stop(&c, NULL);
	free(out);
	free(jws);
	sts_key_free(&dev);
}

void test_collector_export(void)
{
	export_body();
}

void test_collector_pg_export(void)
{
	with_pg(export_body);
}

/* A database of the first schema (user_version 1), as the previous collector left it. */
static int make_v1_db(const char *path)
{
	sqlite3 *db = NULL;
	int rc;

	rc = sqlite3_open(path, &db);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(
			db,
			"CREATE TABLE activations (seq INTEGER PRIMARY KEY, aid TEXT NOT NULL "
			"UNIQUE,"
			" kid TEXT NOT NULL, sha256 TEXT NOT NULL, received_at TEXT NOT NULL,"
			" imei TEXT NOT NULL, model TEXT NOT NULL, sw_version TEXT NOT NULL,"
			" country TEXT, jws TEXT NOT NULL, receipt TEXT NOT NULL);"
			"CREATE TABLE device_keys (kid TEXT PRIMARY KEY, pub BLOB NOT NULL,"
			" first_seen TEXT NOT NULL);"
			"CREATE TABLE rejections (code TEXT PRIMARY KEY, count INTEGER NOT NULL);"
			"INSERT INTO activations VALUES (1, 'old-aid-1', 'k', 'h', "
			"'2025-01-01T00:00:00Z',"
			" '490154203237518', 'm', '1', NULL, 'j', 'r');"
			"INSERT INTO activations VALUES (2, 'old-aid-2', 'k', 'h', "
			"'2025-01-02T00:00:00Z',"
			" '490154203237518', 'm', '1', NULL, 'j', 'r');"
			"PRAGMA user_version = 1;",
			NULL, NULL, NULL);
	sqlite3_close(db);
	return rc == SQLITE_OK ? 0 : -EIO;
}

static int sql_on(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	int rc = sqlite3_open(path, &db);

	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
	sqlite3_close(db);
	return rc;
}

void test_collector_schema_migration(void)
{
	struct sts_key dev = { 0 };
	struct collector c = { 0 };
	char db[512], aid[STS_AID_LEN + 1], *jws = NULL, *out = NULL;
	const char *list_args[] = { "list", "--db", db, NULL };
	long long seq = 0;
	json_t *r = NULL;
	int status, st = -1;

	snprintf(db, sizeof(db), "%s/v1.db", test__tmpdir());
	if (!ASSERT_OK(make_v1_db(db), "a version 1 database") ||
	    !ASSERT_OK(device_key("dev", &dev), "device key"))
		goto cleanup;
	collector_db_url = db;
	if (!ASSERT_OK(collector_start(test__tmpdir(), NULL, &c), "start on it (migrates)"))
		goto cleanup;
	sts_aid_new(aid);
	jws = report(&dev, aid, IMEI, "m", NULL);
	ASSERT_OK(post(&c, jws, &status, &r), "post");
	ASSERT_EQ(status, 201, "stored");
	if (jstr(r, "receipt"))
		check_receipt(&c, jstr(r, "receipt"), aid, jws, &seq);
	ASSERT_EQ(seq, 3, "seq goes on from the rows of version 1");
	json_decref(r);
	r = NULL;
	ASSERT_TRUE(sql_on(db, "UPDATE activations SET imei = '0' WHERE seq = 1") != SQLITE_OK,
		    "version 2: an activation cannot be updated");
	/* Retention: archived rows deleted; numbering must not come round again. */
	ASSERT_EQ(sql_on(db, "DELETE FROM activations"), SQLITE_OK, "retention delete");
	free(jws);
	sts_aid_new(aid);
	jws = report(&dev, aid, IMEI, "m", NULL);
	ASSERT_OK(post(&c, jws, &status, &r), "post after retention");
	if (jstr(r, "receipt"))
		check_receipt(&c, jstr(r, "receipt"), aid, jws, &seq);
	ASSERT_EQ(seq, 4, "after deleting every row, seq still goes on (4, not 1)");
	stop_clean(&c);
	/* A schema newer than this program: refused, not misread. */
	ASSERT_EQ(sql_on(db, "PRAGMA user_version = 99"), SQLITE_OK, "pretend a newer schema");
	out = run_cli(list_args, &st);
	ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 2, "list refuses a newer schema (exit 2)");
	ASSERT_TRUE(collector_start(test__tmpdir(), NULL, &c) != 0, "serve refuses it too");
cleanup:
	collector_db_url = NULL;
	show_log(&c);
	if (c.pid > 0)
		collector_stop(&c, NULL);
	json_decref(r);
	free(out);
	free(jws);
	sts_key_free(&dev);
}

static int pg_sql(const char *url, const char *sql)
{
	PGconn *conn = PQconnectdb(url);
	PGresult *res = PQexec(conn, sql);
	int ok = PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK;

	PQclear(res);
	PQfinish(conn);
	return ok ? 0 : -EIO;
}

static void pg_schema_body(void)
{
	struct collector c = { 0 };
	const char *list_args[] = { "list", "--db", collector_db_url, NULL };
	char *out = NULL;
	int st = -1;

	if (!ASSERT_OK(collector_start(test__tmpdir(), NULL, &c), "start (creates the schema)"))
		return;
	stop_clean(&c);
	ASSERT_OK(pg_sql(collector_db_url, "SELECT 1 FROM schema_migrations WHERE version = 2"),
		  "schema_migrations records version 2");
	ASSERT_OK(pg_sql(collector_db_url,
			 "INSERT INTO activations VALUES (1, 'a', 'k', 'h', 't', 'i', 'm', 's',"
			 " NULL, 'j', 'r')"),
		  "a row");
	ASSERT_TRUE(pg_sql(collector_db_url, "UPDATE activations SET imei = '0'") != 0,
		    "an activation cannot be updated (trigger)");
	ASSERT_OK(pg_sql(collector_db_url, "INSERT INTO schema_migrations (version) VALUES (99)"),
		  "pretend a newer schema");
	out = run_cli(list_args, &st);
	ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 2, "list refuses a newer schema (exit 2)");
	ASSERT_TRUE(collector_start(test__tmpdir(), NULL, &c) != 0, "serve refuses it too");
	show_log(&c);
	if (c.pid > 0)
		collector_stop(&c, NULL);
	free(out);
}

void test_collector_pg_schema(void)
{
	with_pg(pg_schema_body);
}

/* The first column of the first row of sql on url, into out ("" when none): 0 or -EIO. */
static int pg_value(const char *url, const char *sql, char *out, size_t outsz)
{
	PGconn *conn = PQconnectdb(url);
	PGresult *res = PQexec(conn, sql);
	int err = PQresultStatus(res) == PGRES_TUPLES_OK ? 0 : -EIO;

	snprintf(out, outsz, "%s", !err && PQntuples(res) ? PQgetvalue(res, 0, 0) : "");
	PQclear(res);
	PQfinish(conn);
	return err;
}

/*
 * `sts-collector list --db URL` as an operator runs it against a database it must not trust
 * blindly: exit status, and the output (stdout and stderr) into msg.
 */
static int list_on(const char *url, char *msg, size_t msgsz)
{
	char bin[256];

	return test__run(msg, msgsz, "%s list --db '%s'",
			 collector_bin(bin, sizeof(bin), "sts-collector"), url);
}

#define PG_PASSWORD "pg-secret-7f3a9"

/*
 * PostgreSQL over TCP with TLS, as a fleet reaches a database on another host: a server of
 * its own on 127.0.0.1 that accepts TLS with a password only (a test CA's certificate for
 * localhost/127.0.0.1). The collector stores over it with sslmode=verify-full, and the
 * server sees a TLS 1.3 session; refused, each with libpq's reason and never the password:
 * no TLS, a server certificate from another CA (a man in the middle), a name the
 * certificate does not carry, a wrong password.
 */
void test_collector_pg_tls(void)
{
	struct pg_server pg = { 0 };
	struct collector c = { 0 };
	struct sts_key dev = { 0 };
	char bindir[128], pki[300], other[300], admin[400], url[1024], bad[1024], val[64];
	char aid[STS_AID_LEN + 1], msg[4096], log[400], *jws = NULL, *text = NULL;
	json_t *r = NULL;
	int status = 0;
	size_t n;
	FILE *f;

	if (pg_find_bindir(bindir, sizeof(bindir))) {
		test__skip("PostgreSQL server binaries are not installed (apt-get install "
			   "postgresql-15; scripts/deps.sh does)");
		return;
	}
	snprintf(pki, sizeof(pki), "%s/pg-pki", test__tmpdir());
	snprintf(other, sizeof(other), "%s/other-pki", test__tmpdir());
	if (!ASSERT_OK(sts_mkdir_p(pki, 0700), "pki dir") ||
	    !ASSERT_OK(sts_mkdir_p(other, 0700), "other pki dir") ||
	    !ASSERT_OK(tls_make_pki(pki), "the database's CA and certificate") ||
	    !ASSERT_OK(tls_make_pki(other), "another CA"))
		return;
	snprintf(pg.tls_dir, sizeof(pg.tls_dir), "%s", pki);
	if (!ASSERT_OK(pg_start(&pg), "start PostgreSQL with TLS on 127.0.0.1"))
		goto cleanup;
	if (!ASSERT_OK(pg_new_db(&pg, "fleet", admin, sizeof(admin)), "CREATE DATABASE fleet") ||
	    !ASSERT_OK(pg_sql(admin, "ALTER ROLE sts PASSWORD '" PG_PASSWORD "'"), "a password"))
		goto cleanup;

	snprintf(url, sizeof(url),
		 "postgresql://sts:" PG_PASSWORD "@localhost:%d/fleet?sslmode=verify-full&"
		 "sslrootcert=%s/ca.pem",
		 pg.port, pki);
	collector_db_url = url;
	if (!ASSERT_OK(collector_start(test__tmpdir(), NULL, &c), "serve over TLS (verify-full)"))
		goto cleanup;
	ASSERT_OK(device_key("dev-tls", &dev), "device key");
	ASSERT_OK(sts_aid_new(aid), "aid");
	jws = report(&dev, aid, IMEI, "PinePhone", "FR");
	if (ASSERT_OK(post(&c, jws, &status, &r), "post"))
		ASSERT_EQ(status, 201, "stored over the TLS connection");
	ASSERT_OK(pg_value(admin,
			   "SELECT count(*) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) "
			   "WHERE a.application_name = 'sts-collector' AND s.ssl "
			   "AND s.version = 'TLSv1.3'",
			   val, sizeof(val)),
		  "pg_stat_ssl");
	ASSERT_STREQ(val, "1", "the server sees the collector's session as TLS 1.3");
	ASSERT_OK(pg_value(admin, "SELECT count(*) FROM activations", val, sizeof(val)), "count");
	ASSERT_STREQ(val, "1", "one row");
	stop_clean(&c);
	show_log(&c);
	ASSERT_EQ(list_on(url, msg, sizeof(msg)), 0, "list over TLS");
	ASSERT_TRUE(strstr(msg, aid) != NULL, "list shows the activation");

	/* The collector's log and messages never show the password. */
	snprintf(log, sizeof(log), "%s/collector.log", c.dir);
	f = fopen(log, "r");
	text = calloc(1, 1 << 16);
	n = f && text ? fread(text, 1, (1 << 16) - 1, f) : 0;
	if (f)
		fclose(f);
	ASSERT_TRUE(n > 0, "the collector logged");
	ASSERT_TRUE(text && !strstr(text, PG_PASSWORD), "no password in the log");

	/* No TLS: refused by the server (hostnossl reject). */
	snprintf(bad, sizeof(bad),
		 "postgresql://sts:" PG_PASSWORD "@localhost:%d/fleet?sslmode=disable", pg.port);
	ASSERT_EQ(list_on(bad, msg, sizeof(msg)), 2, "without TLS: refused (exit 2)");
	ASSERT_TRUE(strstr(msg, "no encryption"), "the server's reason");
	ASSERT_TRUE(!strstr(msg, PG_PASSWORD), "no password in the message");

	/* A certificate from another CA: what a man in the middle would show. */
	snprintf(bad, sizeof(bad),
		 "postgresql://sts:" PG_PASSWORD "@localhost:%d/fleet?sslmode=verify-full&"
		 "sslrootcert=%s/ca.pem",
		 pg.port, other);
	ASSERT_EQ(list_on(bad, msg, sizeof(msg)), 2, "another CA: refused (exit 2)");
	ASSERT_TRUE(strstr(msg, "certificate verify failed"), "says the certificate failed");
	ASSERT_TRUE(!strstr(msg, PG_PASSWORD), "no password in the message");
	collector_db_url = bad;
	ASSERT_TRUE(collector_start(test__tmpdir(), NULL, &c) != 0, "serve refuses it too");
	if (c.pid > 0)
		collector_stop(&c, NULL);

	/* Signed by the right CA, but for another name than the one connected to. */
	snprintf(bad, sizeof(bad),
		 "postgresql://sts:" PG_PASSWORD "@db.example:%d/fleet?hostaddr=127.0.0.1&"
		 "sslmode=verify-full&sslrootcert=%s/ca.pem",
		 pg.port, pki);
	ASSERT_EQ(list_on(bad, msg, sizeof(msg)), 2, "another name: refused (exit 2)");
	ASSERT_TRUE(strstr(msg, "does not match host name"), "says the name does not match");

	/* The right server, a wrong password. */
	snprintf(bad, sizeof(bad),
		 "postgresql://sts:wrong-%s@localhost:%d/fleet?sslmode=verify-full&"
		 "sslrootcert=%s/ca.pem",
		 "x9", pg.port, pki);
	ASSERT_EQ(list_on(bad, msg, sizeof(msg)), 2, "a wrong password: refused (exit 2)");
	ASSERT_TRUE(strstr(msg, "password authentication failed"), "the server's reason");
	ASSERT_TRUE(!strstr(msg, "wrong-x9"), "not the password tried either");
cleanup:
	collector_db_url = NULL;
	if (c.pid > 0)
		collector_stop(&c, NULL);
	pg_destroy(&pg);
	json_decref(r);
	free(jws);
	free(text);
	sts_key_free(&dev);
}

struct poison_client {
	struct collector *c;
	const char *jws;
	int status;
	char *receipt;
};

static void *poison_main(void *arg)
{
	struct poison_client *p = arg;
	json_t *r = NULL;

	if (post(p->c, p->jws, &p->status, &r))
		p->status = -1;
	if (r && jstr(r, "receipt"))
		p->receipt = strdup(jstr(r, "receipt"));
	json_decref(r);
	return NULL;
}

#define POISON_N 12

/*
 * The PostgreSQL backend queues a batch's inserts and sends them with the COMMIT (pipeline
 * mode): a failure there must still fail the whole batch. A trigger the test adds refuses one
 * IMEI: that report, alone or in a batch with others sent at the same moment, gets 503 and so
 * does every report of its batch; no receipt is given for a row that is not there; the
 * connection serves the next batch; the counter gave nothing away (seq has no gap); and once
 * the trigger is gone every retry (same bytes) is stored.
 */
static void pg_batch_failure(void)
{
	struct poison_client pc[POISON_N] = { 0 };
	pthread_t th[POISON_N];
	struct collector c = { 0 };
	struct sts_key dev = { 0 };
	char aid[POISON_N][STS_AID_LEN + 1], imei[16], *jws[POISON_N] = { 0 }, val[64], sql[256];
	char backend[64] = "";
	long long seq = 0, seen[POISON_N + 1] = { 0 };
	json_t *list = NULL;
	int i, ok, refused, round;

	if (!ASSERT_OK(device_key("dev-poison", &dev), "device key") ||
	    !ASSERT_OK(collector_start(test__tmpdir(), NULL, &c), "start collector"))
		goto cleanup;
	for (i = 0; i < POISON_N; i++) {
		sts_aid_new(aid[i]);
		make_imei(4200 + i, imei);
		jws[i] = report(&dev, aid[i], imei, "PinePhone", "FR");
	}
	make_imei(4200, imei);
	snprintf(sql, sizeof(sql),
		 "CREATE FUNCTION poison() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN "
		 "IF NEW.imei = '%s' THEN RAISE EXCEPTION 'poisoned'; END IF; RETURN NEW; END$$",
		 imei);
	ASSERT_OK(pg_sql(collector_db_url, sql), "a function refusing the first report's IMEI");
	ASSERT_OK(pg_sql(collector_db_url, "CREATE TRIGGER poison BEFORE INSERT ON activations "
					   "FOR EACH ROW EXECUTE FUNCTION poison()"),
		  "as a trigger");

	ASSERT_OK(pg_value(collector_db_url,
			   "SELECT pid FROM pg_stat_activity WHERE application_name = "
			   "'sts-collector'",
			   backend, sizeof(backend)),
		  "the collector's session");
	/* Alone: 503, nothing stored, the connection usable afterwards. */
	pc[0] = (struct poison_client){ .c = &c, .jws = jws[0] };
	poison_main(&pc[0]);
	ASSERT_EQ(pc[0].status, 503, "a batch whose insert fails: 503");
	ASSERT_TRUE(!pc[0].receipt, "and no receipt");
	free(pc[0].receipt);
	pc[0].receipt = NULL;

	/* All at once, the poisoned one among them: its batch fails as a whole. */
	for (round = 0; round < 2; round++) {
		for (i = 0; i < POISON_N; i++) {
			if (pc[i].status == 201 || pc[i].status == 200)
				continue;
			free(pc[i].receipt);
			pc[i] = (struct poison_client){ .c = &c, .jws = jws[i] };
			pthread_create(&th[i], NULL, poison_main, &pc[i]);
		}
		for (i = 0; i < POISON_N; i++)
			if (pc[i].c)
				pthread_join(th[i], NULL);
		for (i = 0, ok = 0, refused = 0; i < POISON_N; i++) {
			ok += pc[i].status == 201;
			refused += pc[i].status == 503;
			/* 503 carries no receipt; 201 one for a row that is there. */
			if (pc[i].status == 503)
				ASSERT_TRUE(!pc[i].receipt, "no receipt with a 503");
			pc[i].c = pc[i].status == 201 ? NULL : pc[i].c;
		}
		if (round == 0) {
			printf("  poisoned burst: %d stored, %d refused with their batch\n", ok,
			       refused);
			ASSERT_EQ(pc[0].status, 503, "the poisoned report: 503");
			ASSERT_EQ(ok + refused, POISON_N, "every other answer 201 or 503");
			ASSERT_OK(pg_value(collector_db_url, "SELECT count(*) FROM activations",
					   val, sizeof(val)),
				  "count");
			ASSERT_EQ(atoi(val), ok, "exactly the acknowledged rows are stored");
			ASSERT_OK(pg_value(collector_db_url,
					   "SELECT pid FROM pg_stat_activity WHERE "
					   "application_name = 'sts-collector'",
					   val, sizeof(val)),
				  "the collector's session now");
			ASSERT_STREQ(val, backend,
				     "the same session: a failed batch does not cost a reconnect");
			ASSERT_OK(pg_sql(collector_db_url, "DROP TRIGGER poison ON activations"),
				  "drop the trigger");
		}
	}
	for (i = 0; i < POISON_N; i++)
		ASSERT_TRUE(pc[i].status == 201, "after the trigger is gone, every retry: 201");
	/* Every receipt is the stored one, and seq runs 1..N without a gap. */
	list = list_json(&c);
	if (ASSERT_TRUE(json_is_array(list) && json_array_size(list) == POISON_N,
			"list: one row per report")) {
		for (i = 0; i < POISON_N; i++) {
			json_t *row = json_array_get(list, i);
			int k;

			seq = json_integer_value(json_object_get(row, "seq"));
			if (seq >= 1 && seq <= POISON_N)
				seen[seq]++;
			for (k = 0; k < POISON_N; k++)
				if (!strcmp(jstr(row, "aid"), aid[k]))
					ASSERT_STREQ(
						jstr(row, "receipt"), pc[k].receipt,
						"the receipt a client holds is the stored one");
		}
		for (i = 1; i <= POISON_N; i++)
			ASSERT_EQ(seen[i], 1, "seq 1..N, each once: no gap left by a failed batch");
	}
	stop_clean(&c);
cleanup:
	show_log(&c);
	if (c.pid > 0)
		collector_stop(&c, NULL);
	json_decref(list);
	for (i = 0; i < POISON_N; i++) {
		free(jws[i]);
		free(pc[i].receipt);
	}
	sts_key_free(&dev);
}

void test_collector_pg_batch_failure(void)
{
	with_pg(pg_batch_failure);
}
