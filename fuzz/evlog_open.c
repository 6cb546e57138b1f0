// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer harness: the evidence log writer's recovery at open (evlog_open re-reads the log,
 * checks its chain, cuts a torn tail), on arbitrary file contents. An open that succeeds
 * leaves a log the writer can append to and close, ending with a whole line.
 */
#include "evidence/evlog.h"
#include "core/util.h"

#include "fuzz.h"

#include <string.h>

static int64_t fixed_clock(void *arg)
{
	(void)arg;
	return 1767225600000000LL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* No writer state: this harness is about reading the log back (evlog_state.c: the state).
	 */
	struct evlog_opts o = { .clock = fixed_clock, .boot_id = "fuzz", .no_state = true };
	const char *path;
	struct evlog *log;
	char *buf = NULL;
	size_t len;

	if (size > 256 * 1024)
		return 0;
	path = fuzz_file(data, size);
	o.path = path;
	o.log_key = fuzz_key(7);
	if (evlog_open(&o, &log) != 0)
		return 0;
	if (evlog_append(log, EV_SCHEDULE, NULL, NULL) != 0 || evlog_close(log) != 0)
		abort();
	if (sts_read_file(path, 1 << 20, &buf, &len) != 0 || len == 0 || buf[len - 1] != '\n')
		abort();
	free(buf);
	return 0;
}
