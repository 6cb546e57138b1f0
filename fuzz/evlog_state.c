// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer harness: the evidence log writer's state file (the last checkpoint it remembers),
 * on arbitrary contents, with a small genuine log beside it. Whatever the state says, the
 * open either fails with an error or leaves a log the writer can append to and close, ending
 * with a whole line; a damaged log is moved aside, never appended to.
 */
#include "evidence/evlog.h"
#include "core/util.h"

#include "fuzz.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

static int64_t fixed_clock(void *arg)
{
	(void)arg;
	return 1767225600000000LL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char dir[64], logpath[96], cmd[160];
	struct evlog_opts o = { .clock = fixed_clock, .boot_id = "fuzz" };
	struct evlog *log;
	char *buf = NULL;
	size_t len;

	if (size > 128 * 1024)
		return 0;
	if (!dir[0]) {
		snprintf(dir, sizeof(dir), "/tmp/sts-fuzz-state-XXXXXX");
		if (!mkdtemp(dir))
			abort();
		snprintf(logpath, sizeof(logpath), "%s/ev.log", dir);
		snprintf(cmd, sizeof(cmd), "rm -f %s/ev.log*", dir);
	}
	if (system(cmd) != 0)
		abort();
	o.path = logpath;
	o.log_key = fuzz_key(7);
	o.state_path = fuzz_file(data, size);
	/* A genuine log of a few records, written without a state... */
	o.no_state = true;
	if (evlog_open(&o, &log) || evlog_append(log, EV_SCHEDULE, NULL, NULL) || evlog_close(log))
		abort();
	/* ...opened with the fuzzed one. */
	o.no_state = false;
	if (evlog_open(&o, &log) != 0)
		return 0;
	if (evlog_append(log, EV_SCHEDULE, NULL, NULL) != 0 || evlog_close(log) != 0)
		abort();
	if (sts_read_file(logpath, 1 << 20, &buf, &len) != 0 || len == 0 || buf[len - 1] != '\n')
		abort();
	free(buf);
	/* The state file was rewritten by the close: give the fuzzer its input back. */
	fuzz_file(data, size);
	return 0;
}
