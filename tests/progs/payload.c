// SPDX-License-Identifier: GPL-2.0-only
/*
 * Payload (G4) and volume (G5) through `stsd run`, against a real TLS 1.3 server on loopback:
 * the conforming report passes and arrives. What must not pass (extra claims, clear text, a
 * TLS stack the uprobe cannot see, bytes past SSL_write, a country without consent, a second
 * send, a racing thread, a stuffed handshake, the byte budget) is in the adversary catalogue,
 * tests/progs/adversary.c. Uprobes and cgroup_skb work on both lanes.
 */
#include "test.h"
#include "stsd_helpers.h"
#include "tls_server.h"

#include <limits.h>
#include <signal.h>
#include <stdio.h>

struct payload_case {
	const char *client; /* tls-client or tls-client-static */
	const char *mode;
	int status; /* expected exit status of the client */
	unsigned requests; /* requests the server must have received */
	const char *kind, *verdict, *rule;
};

static void run_case(const struct payload_case *pc)
{
	char pol[2048], client[PATH_MAX], port[16], name[160];
	struct tls_server srv;
	struct stsd_result r;
	json_t *ev;

	if (!ASSERT_OK(tls_server_start(&srv), "start the TLS server"))
		return;
	snprintf(client, sizeof(client), "%s/tests/bin/%s", test__out_dir(), pc->client);
	snprintf(port, sizeof(port), "%u", srv.port);
	snprintf(pol, sizeof(pol),
		 "collector 127.0.0.1:%u\n"
		 "allow-read /etc/ld.so.cache\n"
		 "allow-read " TEST_LDSO "\n"
		 "allow-read-dir " TEST_LIBDIR "\n"
		 "state-dir %s/state\n"
		 "tls-allowance 4096\n",
		 srv.port, test__tmpdir());
	if (!ASSERT_OK(stsd_run(pol, true, (const char *[]){ client, port, pc->mode, NULL }, &r),
		       "run stsd"))
		goto cleanup;
	snprintf(name, sizeof(name), "%s %s: client exit status", pc->client, pc->mode);
	ASSERT_EQ(r.status, pc->status, name);
	snprintf(name, sizeof(name), "%s %s: requests the server received", pc->client, pc->mode);
	tls_server_stop(&srv);
	ASSERT_EQ(srv.requests, pc->requests, name);
	ev = stsd_find_event(&r, pc->kind, pc->verdict, pc->rule);
	snprintf(name, sizeof(name), "%s %s: event %s/%s/%s", pc->client, pc->mode, pc->kind,
		 pc->verdict, pc->rule);
	if (ASSERT_OK_PTR(ev, name) && strcmp(pc->kind, "payload") == 0) {
		const char *sha = json_string_value(json_object_get(ev, "sha256"));

		ASSERT_TRUE(sha && strlen(sha) == 64, "payload event carries the SHA-256");
		ASSERT_GE(json_integer_value(json_object_get(ev, "len")), 100,
			  "payload event carries the length");
	}
	if (ev && test__cur.verbose)
		printf("    %s\n", json_string_value(json_object_get(ev, "explain")));
	stsd_result_free(&r);
cleanup:
	tls_server_stop(&srv);
}

void test_payload_conforming_report(void)
{
	run_case(&(struct payload_case){ "tls-client", "report", 0, 1, "payload", "allow",
					 "payload_approved_report" });
}
