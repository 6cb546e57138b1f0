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

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int64_t fixed_clock(void *arg)
{
	(void)arg;
	return 1767225600000000LL;
}

/* Remove the log, its state and any copy kept aside, from the harness's own directory. */
static void clean(const char *dir)
{
	char path[192];
	struct dirent *e;
	DIR *d = opendir(dir);

	if (!d)
		abort();
	while ((e = readdir(d)))
		if (e->d_name[0] != '.') {
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			unlink(path);
		}
	closedir(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* tmpfs when there is one: the writer fsyncs, which on a disk costs more than the rest. */
	static char dir[64], logpath[96], statepath[96];
	struct evlog_opts o = { .clock = fixed_clock, .boot_id = "fuzz" };
	struct evlog *log;
	char *buf = NULL;
	size_t len;
	int fd;

	if (size > 128 * 1024)
		return 0;
	if (!dir[0]) {
		snprintf(dir, sizeof(dir), "%s/sts-fuzz-state-XXXXXX",
			 access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
		if (!mkdtemp(dir))
			abort();
		snprintf(logpath, sizeof(logpath), "%s/ev.log", dir);
		snprintf(statepath, sizeof(statepath), "%s/ev.state", dir);
	}
	clean(dir);
	o.path = logpath;
	o.log_key = fuzz_key(7);
	o.state_path = statepath;
	/* A genuine log of a few records, written without a state... */
	o.no_state = true;
	if (evlog_open(&o, &log) || evlog_append(log, EV_SCHEDULE, NULL, NULL) || evlog_close(log))
		abort();
	/* ...opened with the fuzzed one. */
	fd = open(statepath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, data, size) != (ssize_t)size || close(fd))
		abort();
	o.no_state = false;
	if (evlog_open(&o, &log) != 0)
		return 0;
	if (evlog_append(log, EV_SCHEDULE, NULL, NULL) != 0 || evlog_close(log) != 0)
		abort();
	if (sts_read_file(logpath, 1 << 20, &buf, &len) != 0 || len == 0 || buf[len - 1] != '\n')
		abort();
	free(buf);
	return 0;
}
