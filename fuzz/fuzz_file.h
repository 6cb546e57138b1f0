/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * For harnesses whose parser reads a file (keys, seal state, the evidence log at open): the
 * input written to a private temporary file, whose path is returned. One file per process,
 * rewritten for every input.
 */
#ifndef STS_FUZZ_FILE_H
#define STS_FUZZ_FILE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static inline const char *fuzz_file(const uint8_t *data, size_t size)
{
	static char path[64];
	static int fd = -1;

	if (fd < 0) {
		snprintf(path, sizeof(path), "/tmp/sts-fuzz-XXXXXX");
		fd = mkstemp(path);
		if (fd < 0)
			abort();
	}
	if (ftruncate(fd, 0) < 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();
	return path;
}

#endif
