// SPDX-License-Identifier: GPL-2.0-only
#include "device/cgroup.h"
#include "core/util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <mntent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

int sts_cgroup2_root(char *buf, size_t len)
{
	static const char fallback[] = "/run/stsguard/cgroup2";
	struct mntent *m;
	FILE *f;
	int err;

	f = setmntent("/proc/self/mounts", "re");
	if (!f)
		return -errno;
	while ((m = getmntent(f))) {
		if (strcmp(m->mnt_type, "cgroup2") == 0) {
			snprintf(buf, len, "%s", m->mnt_dir);
			endmntent(f);
			return 0;
		}
	}
	endmntent(f);
	err = sts_mkdir_p(fallback, 0755);
	if (err)
		return err;
	if (mount("cgroup2", fallback, "cgroup2", 0, NULL) < 0)
		return -errno;
	snprintf(buf, len, "%s", fallback);
	return 0;
}

int sts_cgroup_id(int dirfd, uint64_t *id)
{
	struct stat st;

	if (fstat(dirfd, &st) < 0)
		return -errno;
	*id = st.st_ino;
	return 0;
}

static int write_str(const char *dir, const char *file, const char *s)
{
	char path[PATH_MAX];
	int fd, err = 0;

	if (snprintf(path, sizeof(path), "%s/%s", dir, file) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, s, strlen(s)) < 0)
		err = -errno;
	close(fd);
	return err;
}

int sts_cgroup_join(const char *path, pid_t pid)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%d", (int)pid);
	return write_str(path, "cgroup.procs", buf);
}

int sts_cgroup_kill(const char *path)
{
	char procs[PATH_MAX], line[32];
	FILE *f;
	int err;

	err = write_str(path, "cgroup.kill", "1");
	if (err != -ENOENT)
		return err;
	/* Before Linux 5.14: signal each member. */
	if (snprintf(procs, sizeof(procs), "%s/cgroup.procs", path) >= (int)sizeof(procs))
		return -ENAMETOOLONG;
	f = fopen(procs, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		kill(atoi(line), SIGKILL);
	fclose(f);
	return 0;
}
