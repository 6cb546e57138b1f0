/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Small userspace helpers shared by stsd, stsctl, sts-collector and the tests:
 * error reporting in one format, whole-file reads with a size cap, and atomic,
 * fsync'd file replacement. Functions return 0 or -errno.
 */
#ifndef STS_UTIL_H
#define STS_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Program name used as the prefix of every message; set once from main(). */
void sts_set_progname(const char *name);
const char *sts_progname(void);
/* Also copy errors and notices to syslog (daemon facility). */
void sts_use_syslog(bool on);

/* "prog: message" on stderr (and syslog when enabled); lowercase, no trailing period. */
void sts_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void sts_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Read a whole regular file (or pipe) into a NUL-terminated heap buffer. Fails with -EFBIG when
 * it is larger than max bytes, so a hostile file cannot exhaust memory, and with -EINVAL
 * (-EISDIR) for a device, socket or directory; a FIFO nobody writes reads as empty, never hangs.
 */
int sts_read_file(const char *path, size_t max, char **buf, size_t *len);
/* strerror() for sts_read_file()'s -errno: -EINVAL says "not a regular file or a pipe". */
const char *sts_file_strerror(int err);

/*
 * Replace path with buf atomically: write to a temporary file in the same directory, fsync
 * it, rename it over path, fsync the directory. After return 0 the new content survives a
 * power cut; on failure the old content is intact.
 */
int sts_write_file_atomic(const char *path, const void *buf, size_t len, mode_t mode);

/* Write all of buf to fd, retrying on EINTR and short writes. */
int sts_write_all(int fd, const void *buf, size_t len);

/* fsync the directory that contains path. */
int sts_fsync_dir_of(const char *path);

/* Create a directory and its parents (like mkdir -p); existing directories are fine. */
int sts_mkdir_p(const char *path, mode_t mode);

/*
 * "ADDR:PORT" or "[V6ADDR]:PORT" (the collector's --listen) into its parts: addr without the
 * brackets, port 0-65535 in decimal. No name lookup, no address check. 0 or -EINVAL.
 */
int sts_split_hostport(const char *s, char *addr, size_t addrsz, uint16_t *port);

#endif /* STS_UTIL_H */
