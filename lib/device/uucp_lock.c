// SPDX-License-Identifier: GPL-2.0-only
/*
 * UUCP lock files for the serial port the broker talks to (see uucp_lock.h).
 */
#include "device/uucp_lock.h"
#include "device/imei_int.h"
#include "core/util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* /run/lock (FHS 3.0), else /var/lock; NULL on a system with neither (an initramfs). */
static const char *lock_dir(void)
{
	static const char *const dirs[] = { "/run/lock", "/var/lock" };
	struct stat st;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(dirs); i++)
		if (stat(dirs[i], &st) == 0 && S_ISDIR(st.st_mode))
			return dirs[i];
	return NULL;
}

/*
 * The UUCP name of a device: its path under /dev with '/' turned into '_' (the convention of
 * lockdev and minicom), so /dev/ttyUSB2 locks LCK..ttyUSB2 and /dev/pts/3 LCK..pts_3.
 */
static int lock_path(const char *dir, const char *real, char *out, size_t outsz)
{
	const char *name = strncmp(real, "/dev/", 5) == 0 ? real + 5 : real + 1;
	size_t n = (size_t)snprintf(out, outsz, "%s/LCK..", dir), i;

	if (n + strlen(name) + 1 > outsz)
		return -ENAMETOOLONG;
	for (i = 0; name[i]; i++)
		out[n + i] = name[i] == '/' ? '_' : name[i];
	out[n + i] = '\0';
	return 0;
}

/* The pid in a lock file (HDB format: ASCII decimal, space padded, newline); 0 if none. */
static pid_t lock_owner(const char *path, int *err)
{
	char *buf = NULL, *p, *end;
	size_t len;
	long v;

	*err = sts_read_file(path, 64, &buf, &len);
	if (*err)
		return 0;
	for (p = buf; *p == ' '; p++)
		;
	errno = 0;
	v = strtol(p, &end, 10);
	if (errno || end == p || v <= 0 || v > INT_MAX || (*end && strcmp(end, "\n") != 0))
		v = 0;
	free(buf);
	return (pid_t)v;
}

/*
 * Write the lock file's content, our pid, into a private temporary file beside it (its path
 * into tmp), so that link() can later put a complete lock in place in one step.
 */
static int lock_write_tmp(const char *lockp, char *tmp, size_t tmpsz, char *why, size_t whylen)
{
	const char *slash = strrchr(lockp, '/');
	char content[16];
	int fd, len, err;

	snprintf(tmp, tmpsz, "%.*s/.LTMP.%d", (int)(slash - lockp), lockp, (int)getpid());
	len = snprintf(content, sizeof(content), "%10d\n", (int)getpid());
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return imei_fail(why, whylen, -errno, "create lock file in %.*s: %s",
				 (int)(slash - lockp), lockp, strerror(errno));
	err = sts_write_all(fd, content, (size_t)len);
	if (close(fd) && !err)
		err = -errno;
	if (err) {
		imei_fail(why, whylen, err, "write lock file %s: %s", tmp, strerror(-err));
		unlink(tmp);
	}
	return err;
}

/*
 * Take the UUCP lock: the pid goes into a private temporary file first, which link() then
 * puts in place atomically, so nobody ever sees a lock file without its pid. A lock whose pid
 * no longer runs is stale (its owner crashed) and is replaced, once.
 */
static int lock_take(const char *lockp, const char *dev, char *why, size_t whylen)
{
	char tmp[PATH_MAX];
	int err, attempt, lerr;
	pid_t owner;

	err = lock_write_tmp(lockp, tmp, sizeof(tmp), why, whylen);
	if (err)
		return err;
	for (attempt = 0;; attempt++) {
		if (link(tmp, lockp) == 0) {
			err = 0;
			break;
		}
		if (errno != EEXIST) {
			err = imei_fail(why, whylen, -errno, "create lock file %s: %s", lockp,
					strerror(errno));
			break;
		}
		owner = lock_owner(lockp, &lerr);
		if (lerr == -ENOENT && attempt < 2)
			continue;
		if (!owner) {
			err = imei_fail(
				why, whylen, -EBUSY,
				"serial port %s is locked by %s, which holds no pid; remove it if "
				"no program uses the port",
				dev, lockp);
			break;
		}
		if (kill(owner, 0) == 0 || errno == EPERM) {
			err = imei_fail(why, whylen, -EBUSY,
					"serial port %s is in use by process %d (lock file %s)",
					dev, (int)owner, lockp);
			break;
		}
		if (attempt >= 2) {
			err = imei_fail(why, whylen, -EBUSY,
					"serial port %s: stale lock file %s keeps coming back", dev,
					lockp);
			break;
		}
		/* Stale: its process is gone. */
		if (unlink(lockp) && errno != ENOENT) {
			err = imei_fail(why, whylen, -errno, "remove stale lock file %s: %s", lockp,
					strerror(errno));
			break;
		}
	}
	unlink(tmp);
	return err;
}

int sts_uucp_lock(const char *real, const char *dev, char *lockp, size_t lockpsz, char *why,
		  size_t whylen)
{
	const char *dir = lock_dir();
	int err;

	lockp[0] = '\0';
	if (!dir)
		return 0;
	err = lock_path(dir, real, lockp, lockpsz);
	if (err) {
		lockp[0] = '\0';
		return imei_fail(why, whylen, err, "serial port %s: name too long for a lock file",
				 dev);
	}
	err = lock_take(lockp, dev, why, whylen);
	if (err)
		lockp[0] = '\0';
	return err;
}

void sts_uucp_unlock(const char *lockp)
{
	int err;

	if (lockp[0] && lock_owner(lockp, &err) == getpid())
		unlink(lockp);
}
