// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer harness: the policy parser must never crash, overrun or leak, whatever the bytes,
 * and must keep its contract: success means a complete policy, failure a zeroed one and a
 * "policy.conf:..." message. create_state_dir is false so that fuzzing never writes to disk
 * (paths are still stat()ed: inputs naming /, /tmp or /etc reach the file checks too).
 *
 * The same bytes then go through the check mode (sts_policy_check, `stsd policy check`), which
 * must agree with it: no problem where the parser accepts, and where it finds some, the first
 * is the parser's own message (but for a state-dir, which the check mode does not require to
 * exist: stsd creates it). Every report must be well formed.
 */
#include "device/policy.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct seen {
	int problems;
	char first[512];
};

static void on_report(const struct sts_policy_problem *pb, void *arg)
{
	struct seen *s = arg;
	size_t ml = strlen(pb->message), rl = strlen(pb->reason);

	if ((pb->severity != STS_POLICY_PROBLEM && pb->severity != STS_POLICY_NOTE) ||
	    pb->line < 0 || strncmp(pb->message, "policy.conf", 11) != 0 || rl > ml ||
	    strcmp(pb->message + ml - rl, pb->reason) != 0 || (pb->value && !pb->directive))
		abort();
	if (pb->severity == STS_POLICY_NOTE) {
		if (pb->err)
			abort();
		return;
	}
	if (pb->err >= 0)
		abort();
	if (!s->problems++)
		snprintf(s->first, sizeof(s->first), "%s", pb->message);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct sts_policy zero;
	struct sts_policy pol;
	struct seen seen = { 0 };
	char err[512], ep[64];
	size_t i;
	int ret, n;

	ret = sts_policy_parse("policy.conf", (const char *)data, size, false, &pol, err,
			       sizeof(err));
	if (ret) {
		if (memcmp(&pol, &zero, sizeof(pol)) != 0 || strncmp(err, "policy.conf", 11) != 0)
			abort();
	} else {
		if (!pol.n_collectors || !pol.state_dir || pol.n_files > STS_MAX_FILES ||
		    pol.n_collectors > STS_MAX_ENDPOINTS || pol.n_legacy > STS_MAX_ENDPOINTS ||
		    pol.n_unix > STS_MAX_UNIX || pol.report_max < 64 || pol.report_max > 65536 ||
		    pol.tls_allowance > 1048576 || err[0])
			abort();
		for (i = 0; i < pol.n_collectors; i++) {
			sts_endpoint_str(&pol.collectors[i], ep, sizeof(ep));
			if (!pol.collectors[i].port)
				abort();
		}
		for (i = 0; i < pol.n_legacy; i++)
			sts_endpoint_str(&pol.legacy[i], ep, sizeof(ep));
		for (i = 0; i < pol.n_files; i++)
			if (pol.files[i].path[0] != '/')
				abort();
		sts_policy_free(&pol);
	}

	n = sts_policy_check("policy.conf", (const char *)data, size, &pol, on_report, &seen);
	if (n == -ENOMEM)
		goto cleanup;
	if (n < 0 || n != seen.problems || (!ret && n) || pol.n_files > STS_MAX_FILES ||
	    pol.n_unix > STS_MAX_UNIX)
		abort();
	if (n && strcmp(seen.first, err) != 0 && !strstr(seen.first, ": state-dir "))
		abort();
	for (i = 0; i < pol.n_files; i++)
		if (!pol.files[i].path || pol.files[i].path[0] != '/')
			abort();
cleanup:
	sts_policy_free(&pol);
	return 0;
}
