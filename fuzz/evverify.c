// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer harness: the whole-log verifier, with and without an auditor's seal key. It must
 * never crash, a verdict must name a line inside the input, and two threads (windows of at
 * least 64 lines prepared in any order, checked in order) must give the verdict of one, word
 * for word.
 */
#include "evidence/evverify.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char vkey[] = "sts-seal-v1:"
				   "73747367756172642074657374206669787475726520736561"
				   "6c206b65792100:1767225600:60";
	struct evv_opts o = { .keep_leaves = true };
	struct evv_result res, par;
	struct seal_state vk;
	uint64_t lines = 0;
	size_t i;
	int err;

	if (size > 256 * 1024)
		return 0;
	for (i = 0; i < size; i++)
		lines += data[i] == '\n';
	o.threads = 1;
	err = evv_verify((const char *)data, size, &o, &res);
	if (err == -EBADMSG && (res.bad_line == 0 || res.bad_line > lines + 1))
		abort();
	if (err == 0 && res.records != lines)
		abort();
	/* Threads change anything only with several windows (64 lines at least each). */
	o.threads = lines > 64 ? 2 : 1;
	if (evv_verify((const char *)data, size, &o, &par) != err || par.bad_line != res.bad_line ||
	    par.records != res.records || strcmp(par.why, res.why) != 0)
		abort();
	evv_result_free(&par);
	evv_result_free(&res);
	if (seal_vkey_parse(vkey, strlen(vkey), &vk) == 0) {
		o.seal_key = &vk;
		o.keep_leaves = false;
		evv_verify((const char *)data, size, &o, &res);
		seal_state_wipe(&vk);
	}
	return 0;
}
