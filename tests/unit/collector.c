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

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/ssl.h>

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
