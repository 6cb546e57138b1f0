// SPDX-License-Identifier: GPL-2.0-only
/*
 * Value-exact approval (issue 14) through `stsd run`, against a real TLS 1.3 server on
 * loopback: a report that passes the schema but carries chosen bytes (in model, sw_version, the
 * IMEI, a JSON escape, the header's spelling, base64url padding bits, the Host header, the
 * signature, an untrusted key) is refused before a byte of it leaves: the writer is killed in
 * SSL_write, the server receives nothing. The conforming report passes, and its evidence says
 * what was compared with which source and which key verified it. Uprobes and cgroup_skb work
 * on both lanes.
 */
#include "test.h"
#include "stsd_helpers.h"
#include "tls_server.h"

#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

/* Run tls-client MODE under stsd; r is filled, the server's request count returned in *reqs. */
static bool run_mode(const char *mode, struct stsd_result *r, unsigned *reqs)
{
	char pol[2048], client[PATH_MAX], port[16];
	struct tls_server srv;
	bool ok;

	memset(r, 0, sizeof(*r));
	if (!ASSERT_OK(tls_server_start(&srv), "start the TLS server"))
		return false;
	snprintf(client, sizeof(client), "%s/tests/bin/tls-client", test__out_dir());
	snprintf(port, sizeof(port), "%u", srv.port);
	snprintf(pol, sizeof(pol),
		 "collector 127.0.0.1:%u\n"
		 "allow-read /etc/ld.so.cache\n"
		 "allow-read /lib64/ld-linux-x86-64.so.2\n"
		 "allow-read-dir /lib/x86_64-linux-gnu\n"
		 "state-dir %s/state\n",
		 srv.port, test__tmpdir());
	ok = ASSERT_OK(stsd_run(pol, true, (const char *[]){ client, port, mode, NULL }, r),
		       "run stsd");
	tls_server_stop(&srv);
	*reqs = srv.requests;
	return ok;
}

/* One chosen-bytes report: killed in SSL_write, nothing received, the reason names why. */
static void refused(const char *mode, const char *reason_has)
{
	struct stsd_result r;
	char name[200];
	unsigned reqs = 0;
	json_t *ev;

	if (!run_mode(mode, &r, &reqs))
		goto cleanup;
	snprintf(name, sizeof(name), "%s: the writer is killed in SSL_write", mode);
	ASSERT_EQ(r.status, 128 + SIGKILL, name);
	snprintf(name, sizeof(name), "%s: the server received nothing", mode);
	ASSERT_EQ(reqs, 0, name);
	ev = stsd_find_event(&r, "payload", "deny", "payload_not_approved_report");
	snprintf(name, sizeof(name), "%s: payload/deny/payload_not_approved_report", mode);
	if (ASSERT_OK_PTR(ev, name)) {
		const char *reason = json_string_value(json_object_get(ev, "reason"));

		if (test__cur.verbose)
			printf("    reason: %s\n", reason ? reason : "(none)");
		snprintf(name, sizeof(name), "%s: the reason says \"%s\"", mode, reason_has);
		ASSERT_TRUE(reason && strstr(reason, reason_has), name);
		snprintf(name, sizeof(name), "%s: no approval recorded", mode);
		ASSERT_TRUE(!json_object_get(ev, "approval"), name);
	}
	ASSERT_TRUE(!stsd_find_event(&r, "payload", "allow", NULL), "no payload approved");
cleanup:
	stsd_result_free(&r);
}

void test_exact_model_chosen(void)
{
	refused("model", "claim \"model\" is not the device's value from stsd.conf model");
}

void test_exact_sw_version_chosen(void)
{
	refused("sw-version", "claim \"sw_version\" is not the device's value");
}

void test_exact_other_imei(void)
{
	refused("imei", "claim \"imei\" is not the device's value from imei-source file:");
}

void test_exact_escape_spelling(void)
{
	refused("escape", "one spelling");
}

void test_exact_header_spelling(void)
{
	refused("header", "one spelling");
}

void test_exact_padding_bits(void)
{
	/* Refused by the strict parser already (canonical base64url), before any comparison. */
	refused("padbits", "canonical base64url");
}

void test_exact_host_header(void)
{
	refused("host", "collector-host collector.test");
}

void test_exact_forged_signature(void)
{
	refused("forged", "does not verify with the key");
}

void test_exact_untrusted_key(void)
{
	refused("untrusted", "neither the device key nor a report-key");
}

/* The conforming report passes, and its evidence says what was compared, with what, by which key.
 */
void test_exact_conforming_evidence(void)
{
	struct stsd_result r;
	json_t *ev, *ap, *cmp, *c;
	unsigned reqs = 0;
	size_t i;
	const char *want[] = { "imei",	     "imei-source file:",   "model", "stsd.conf model",
			       "sw_version", "stsd.conf sw-version" };

	if (!run_mode("report", &r, &reqs))
		goto cleanup;
	ASSERT_EQ(r.status, 0, "the conforming report is answered");
	ASSERT_EQ(reqs, 1, "the server received it once");
	ev = stsd_find_event(&r, "payload", "allow", "payload_approved_report");
	if (!ASSERT_OK_PTR(ev, "payload/allow/payload_approved_report"))
		goto cleanup;
	ap = json_object_get(ev, "approval");
	if (!ASSERT_OK_PTR(ap, "the approval record"))
		goto cleanup;
	cmp = json_object_get(ap, "compared");
	ASSERT_EQ(json_array_size(cmp), 3, "three claims compared");
	for (i = 0; i < 3; i++) {
		c = json_array_get(cmp, i);
		ASSERT_STREQ(json_string_value(json_object_get(c, "claim")), want[2 * i],
			     "the claim compared");
		ASSERT_TRUE(strstr(json_string_value(json_object_get(c, "source")) ?: "",
				   want[2 * i + 1]),
			    "its source");
	}
	ASSERT_TRUE(
		strstr(json_string_value(json_object_get(json_object_get(ap, "key"), "file")) ?: "",
		       "report-key.pub"),
		"the key that verified the signature: the policy's report-key");
	ASSERT_STREQ(json_string_value(json_object_get(ap, "imei")), "***********7518",
		     "the IMEI masked");
	ASSERT_TRUE(json_is_integer(json_object_get(ap, "tls_allowance_used_before")),
		    "the allowance used by the handshake");
cleanup:
	stsd_result_free(&r);
}
