// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer harness: the policy parser must never crash, overrun or leak, whatever the bytes,
 * and must keep its contract: success means a complete policy, failure a zeroed one and a
 * "policy.conf:..." message. create_state_dir is false so that fuzzing never writes to disk
 * (paths are still stat()ed: inputs naming /, /tmp or /etc reach the file checks too).
 */
#include "device/policy.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct sts_policy zero;
	struct sts_policy pol;
	char err[512], ep[64];
	size_t i;
	int ret;

	ret = sts_policy_parse("policy.conf", (const char *)data, size, false, &pol, err,
			       sizeof(err));
	if (ret) {
		if (memcmp(&pol, &zero, sizeof(pol)) != 0 || strncmp(err, "policy.conf", 11) != 0)
			abort();
		return 0;
	}
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
	return 0;
}
