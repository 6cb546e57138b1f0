// SPDX-License-Identifier: GPL-2.0-only
/*
 * The ClientHello and the server's first flight (issue 14, item 2): under `stsd run`, against
 * a real TLS 1.3 server on loopback, a ClientHello leaves only if it carries what a TLS 1.3
 * client needs (an SNI that is the collector-host byte for byte, extensions from the documented
 * list with their values, zero padding, no resumption identity); encrypted records leave only
 * after the server's ServerHello came in, a second ClientHello only after its
 * HelloRetryRequest. What is refused is dropped before it leaves: the server sees no byte of
 * the connection. cgroup_skb works on both lanes.
 */
#include "test.h"
#include "stsd_helpers.h"
#include "tls_server.h"
#include "core/util.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

struct hello_run {
	struct stsd_result r;
	unsigned requests, hellos;
};

/* Run tls-client MODE under stsd (the device's stsd.conf names collector-host collector.test). */
static bool run_mode(const char *mode, struct hello_run *h)
{
	memset(h, 0, sizeof(*h));
	return stsd_run_tls_client(mode, &h->r, &h->requests, &h->hellos);
}

/* What a TLS 1.3 client by OpenSSL sends goes through: the agent's, curl's, a retry's. */
void test_hello_allowed(void)
{
	static const struct {
		const char *mode;
		unsigned requests, hellos;
	} ok[] = {
		{ "sni-ok", 1, 1 }, /* the agent: SNI collector-host, the approved report */
		{ "alpn", 1, 1 }, /* curl: SNI and ALPN h2, http/1.1 */
		{ "ch-ok", 0, 1 }, /* by hand: the same, with zero padding */
		/* no key share, the server's HelloRetryRequest, a second ClientHello */
		{ "hrr", 0, 1 },
	};
	char name[200];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(ok); i++) {
		struct hello_run h;

		if (!run_mode(ok[i].mode, &h))
			break;
		snprintf(name, sizeof(name), "%s: the server answered (exit 0)", ok[i].mode);
		ASSERT_EQ(h.r.status, 0, name);
		snprintf(name, sizeof(name), "%s: the ClientHello(s) arrived", ok[i].mode);
		ASSERT_EQ(h.hellos, ok[i].hellos, name);
		snprintf(name, sizeof(name), "%s: %u request(s) received", ok[i].mode,
			 ok[i].requests);
		ASSERT_EQ(h.requests, ok[i].requests, name);
		snprintf(name, sizeof(name), "%s: no volume refusal", ok[i].mode);
		ASSERT_TRUE(!stsd_find_event(&h.r, "volume", "deny", NULL), name);
		stsd_result_free(&h.r);
	}
}

/* The stop record's field, or -1. */
static long long stop_field(const struct stsd_result *r, const char *key)
{
	size_t i;
	json_t *rec;

	json_array_foreach(r->records, i, rec)
	{
		const char *t = json_string_value(json_object_get(rec, "type"));

		if (t && strcmp(t, "stop") == 0 && json_object_get(rec, key))
			return json_integer_value(json_object_get(rec, key));
	}
	return -1;
}

/*
 * Refused connections, n of them (modes, comma-separated, one connection each): each rule
 * recorded, the writer not answered, the server saw no byte of any.
 */
static void refused(const char *modes, int status, const char *rule)
{
	struct hello_run h;
	char name[400];
	size_t i, n = 1, found = 0;
	json_t *rec;

	for (i = 0; modes[i]; i++)
		n += modes[i] == ',';
	if (!run_mode(modes, &h))
		return;
	json_array_foreach(h.r.records, i, rec)
	{
		const char *t = json_string_value(json_object_get(rec, "type"));
		const char *k = json_string_value(json_object_get(rec, "kind"));
		const char *ru = json_string_value(json_object_get(rec, "rule"));

		if (t && k && ru && strcmp(t, "event") == 0 && strcmp(k, "volume") == 0 &&
		    strcmp(ru, rule) == 0)
			found++;
	}
	snprintf(name, sizeof(name), "%s: volume/deny/%s, once per connection (%zu)", modes, rule,
		 n);
	ASSERT_EQ(found, n, name);
	snprintf(name, sizeof(name), "%s: no answer (exit %d)", modes, status);
	ASSERT_EQ(h.r.status, status, name);
	snprintf(name, sizeof(name), "%s: the server received no byte of them", modes);
	ASSERT_EQ(h.hellos, 0, name);
	ASSERT_EQ(h.requests, 0, "no request received");
	ASSERT_GE(stop_field(&h.r, "egress_dropped_bytes"), 1, "their bytes counted as dropped");
	stsd_result_free(&h.r);
}

/* SNI: the collector-host, byte for byte, alone; no other name, spelling or trailing byte. */
void test_hello_sni_refused(void)
{
	/* Catalogue row t09: IMEI, serial and cell id as DNS labels, by OpenSSL. */
	refused("sni", 4, "tls_client_hello_refused");
	refused("ch-sni-two,ch-sni-dot,ch-sni-case,ch-sni-trail,ch-sni-ip", 3,
		"tls_client_hello_refused");
}

/* The other extensions: chosen bytes where OpenSSL puts none, or more than it needs. */
void test_hello_extensions_refused(void)
{
	refused("ch-alpn,ch-ext,ch-pad,ch-sid,ch-psk,ch-ticket,ch-keyshare,ch-suite", 3,
		"tls_client_hello_refused");
	/* catalogue row t10, 12 KB in a private extension: refused before the allowance */
	refused("extension", 4, "tls_client_hello_refused");
}

/*
 * The server's side: records of Finished's and close_notify's sizes written with the
 * ClientHello, before the server could answer, are refused (and the ClientHello of their
 * segment with them); a second ClientHello the server did not ask for is refused after the
 * first was answered.
 */
void test_hello_before_server(void)
{
	struct hello_run h;

	refused("early", 3, "tls_record_out_of_shape");
	if (!run_mode("hello-twice", &h))
		return;
	ASSERT_OK_PTR(stsd_find_event(&h.r, "volume", "deny", "tls_record_out_of_shape"),
		      "hello-twice: volume/deny/tls_record_out_of_shape");
	ASSERT_EQ(h.hellos, 1, "hello-twice: the first ClientHello arrived");
	ASSERT_EQ(h.r.status, 3, "hello-twice: the second one got no answer (exit 3)");
	stsd_result_free(&h.r);
}

/*
 * Two ClientHellos per run (one connection and its retry, or two connections): a third
 * connection's, as proper as the first two, is refused: each would carry 96 chosen bytes
 * (random, session id, key share) the allowance alone would pay for seven times.
 */
void test_hello_per_run(void)
{
	struct hello_run h;
	json_t *ev;

	if (!run_mode("ch-ok,ch-ok,ch-ok", &h))
		return;
	ASSERT_EQ(h.hellos, 2, "the first two ClientHellos arrived");
	ev = stsd_find_event(&h.r, "volume", "deny", "tls_client_hello_refused");
	ASSERT_OK_PTR(ev, "the third: volume/deny/tls_client_hello_refused");
	ASSERT_EQ(h.r.status, 3, "the third got no answer (exit 3)");
	stsd_result_free(&h.r);
}
