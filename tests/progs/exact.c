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
#include "core/util.h"

#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Run tls-client MODE under stsd; r is filled, the server's request count returned in *reqs. */
static bool run_mode(const char *mode, struct stsd_result *r, unsigned *reqs)
{
	return stsd_run_tls_client(mode, r, reqs, NULL);
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

	char log[600], pub[700], *out = NULL;
	const char *extra[] = { "--log", log, NULL };

	snprintf(log, sizeof(log), "%.500s/evidence.log", test__tmpdir());
	snprintf(pub, sizeof(pub), "%.500s/log.key.pub", test__tmpdir());
	stsd_extra_args = extra;
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
	if (test__cur.verbose)
		printf("    tls-allowance used before the request: %lld bytes\n",
		       (long long)json_integer_value(
			       json_object_get(ap, "tls_allowance_used_before")));

	/* The auditor's view: stsctl report shows the same, from the signed evidence log. */
	out = malloc(1 << 16);
	if (!out)
		goto cleanup;
	ASSERT_EQ(test__run(out, 1 << 16, "%s/stsctl report %s --log-key %s 2>&1", test__out_dir(),
			    log, pub),
		  0, "stsctl report");
	if (test__cur.verbose)
		printf("%s", out);
	ASSERT_TRUE(strstr(out, "claim imei equal to the device's value from imei-source file:"),
		    "report: the IMEI and its source");
	ASSERT_TRUE(strstr(out, "claim model equal to the device's value from stsd.conf model"),
		    "report: the model and its source");
	ASSERT_TRUE(strstr(out, "claim sw_version equal to the device's value from stsd.conf "
				"sw-version"),
		    "report: the software version and its source");
	ASSERT_TRUE(strstr(out, "signature verified with ") && strstr(out, "report-key.pub (kid "),
		    "report: the key that verified the signature");
	ASSERT_TRUE(strstr(out, "tls-allowance used before the request: "),
		    "report: the allowance the handshake used");
	ASSERT_TRUE(strstr(out, "tls-allowance used since the last approval"),
		    "report: the allowance used after the request");
cleanup:
	stsd_extra_args = NULL;
	free(out);
	stsd_result_free(&r);
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
 * A TLS allowance with a shape: after close_notify nothing is TLS any more. Records written
 * past it (application data, a handshake record, an alert: 900 chosen bytes dressed as TLS)
 * are dropped, whatever the allowance has left.
 */
void test_exact_records_after_close_notify(void)
{
	struct stsd_result r;
	unsigned reqs = 0;
	json_t *ev;

	if (!run_mode("after-close", &r, &reqs))
		goto cleanup;
	ASSERT_EQ(reqs, 1, "the server received the one request");
	ASSERT_OK_PTR(stsd_find_event(&r, "payload", "allow", "payload_approved_report"),
		      "the request was approved");
	ev = stsd_find_event(&r, "volume", "deny", "tls_record_out_of_shape");
	ASSERT_OK_PTR(ev, "the records after close_notify: volume/deny/tls_record_out_of_shape");
	ASSERT_GE(stop_field(&r, "egress_dropped_bytes"), 300, "their bytes were dropped");
	ASSERT_GE(stop_field(&r, "tls_allowance_left"), 300,
		  "while the allowance could have paid for them");
cleanup:
	stsd_result_free(&r);
}

/*
 * A second connection after the approved transmission: its handshake-typed records of chosen
 * bytes are out of shape (no ClientHello), refused before the allowance is even asked.
 */
void test_exact_second_connection(void)
{
	struct stsd_result r;
	unsigned reqs = 0;

	if (!run_mode("budget", &r, &reqs))
		goto cleanup;
	ASSERT_EQ(reqs, 1, "the server received the one approved request");
	ASSERT_OK_PTR(stsd_find_event(&r, "volume", "deny", "tls_record_out_of_shape"),
		      "the second connection's records: volume/deny/tls_record_out_of_shape");
cleanup:
	stsd_result_free(&r);
}

/*
 * The measured need of one approved transmission (the figure the default tls-allowance is set
 * from, docs/policy.md): what the handshake used before the request, and what went after it.
 * A TLS 1.3 client by OpenSSL without SNI (report), with the collector-host as SNI (sni-ok, as
 * the agent sends it) and with ALPN too (alpn, as curl sends it).
 */
void test_exact_allowance_measured(void)
{
	const char *modes[] = { "report", "sni-ok", "alpn" };
	char name[160];
	size_t m;

	for (m = 0; m < ARRAY_SIZE(modes); m++) {
		struct stsd_result r;
		unsigned reqs = 0;
		long long before = -1, left;
		json_t *ev;

		if (!run_mode(modes[m], &r, &reqs))
			break;
		ev = stsd_find_event(&r, "payload", "allow", "payload_approved_report");
		if (ev)
			before = json_integer_value(json_object_get(json_object_get(ev, "approval"),
								    "tls_allowance_used_before"));
		left = stop_field(&r, "tls_allowance_left");
		snprintf(name, sizeof(name), "%s: approved, and the allowance measured", modes[m]);
		if (ASSERT_TRUE(ev && before > 0 && left >= 0, name)) {
			long long total = before + (1024 - left);

			printf("    %s: tls-allowance used per approved transmission: %lld bytes "
			       "(%lld before the request, %lld after)\n",
			       modes[m], total, before, 1024 - left);
			snprintf(name, sizeof(name), "%s: within the default tls-allowance (1024)",
				 modes[m]);
			ASSERT_TRUE(total <= 1024, name);
		}
		stsd_result_free(&r);
	}
}

/*
 * The activation id is the monitor's (item 3 of issue 14's second round): stsd run gives CMD
 * STS_AID, kept in stsd.conf's state-dir; a report with an id of the sender's choice (16
 * chosen bytes per transmission) is refused before it leaves.
 */
void test_exact_chosen_aid(void)
{
	refused("aid", "is not the activation id stsd gave in STS_AID");
}

/* The approval's aid, or "" */
static const char *approved_aid(const struct stsd_result *r)
{
	json_t *ev = stsd_find_event(r, "payload", "allow", "payload_approved_report");
	json_t *aid =
		json_object_get(json_object_get(json_object_get(ev, "approval"), "aid"), "value");

	return json_string_value(aid) ?: "";
}

/* The same activation id on every run of the device (a retry is the same report). */
void test_exact_aid_kept(void)
{
	struct stsd_result r1, r2;
	char path[600], *text = NULL, first[40];
	unsigned reqs = 0;
	size_t len;

	if (!run_mode("report", &r1, &reqs))
		return;
	snprintf(first, sizeof(first), "%s", approved_aid(&r1));
	ASSERT_EQ(strlen(first), 22, "the first report approved, with a 22-character aid");
	stsd_result_free(&r1);
	if (!run_mode("report", &r2, &reqs))
		return;
	ASSERT_STREQ(approved_aid(&r2), first, "the second run's aid is the first's");
	stsd_result_free(&r2);
	snprintf(path, sizeof(path), "%s/device/run.aid", test__tmpdir());
	if (ASSERT_OK(sts_read_file(path, 64, &text, &len), "read state-dir/run.aid")) {
		ASSERT_TRUE(len == 23 && strncmp(text, first, 22) == 0,
			    "run.aid holds it (one line)");
		free(text);
	}
}

/* A run.aid that is not an activation id is not replaced (a retry would change it): refused. */
void test_exact_aid_file_damaged(void)
{
	char path[600];

	snprintf(path, sizeof(path), "%s/device", test__tmpdir());
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/device/run.aid", test__tmpdir());
	if (!ASSERT_OK(sts_write_file_atomic(path, "chosen by someone\n", 18, 0600),
		       "write a damaged run.aid"))
		return;
	refused("report", "not an activation id");
}
