// SPDX-License-Identifier: GPL-2.0-only
#include "cgroup_helpers.h"
#include "device/cgroup.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <mntent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

int cg_root(char *buf, size_t len)
{
	return sts_cgroup2_root(buf, len);
}

int cg_create(const char *prefix, struct test_cgroup *cg)
{
	char root[PATH_MAX / 2];
	struct stat st;
	int err;

	memset(cg, 0, sizeof(*cg));
	cg->fd = -1;
	err = cg_root(root, sizeof(root));
	if (err)
		return err;
	if (snprintf(cg->path, sizeof(cg->path), "%s/%s-%d", root, prefix, (int)getpid()) >=
	    (int)sizeof(cg->path))
		return -ENAMETOOLONG;
	if (mkdir(cg->path, 0755) < 0 && errno != EEXIST)
		return -errno;
	cg->fd = open(cg->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg->fd < 0)
		return -errno;
	if (fstat(cg->fd, &st) < 0)
		return -errno;
	cg->id = st.st_ino;
	return 0;
}

void cg_destroy(struct test_cgroup *cg)
{
	if (cg->fd >= 0)
		close(cg->fd);
	cg->fd = -1;
	if (cg->path[0])
		rmdir(cg->path);
	cg->path[0] = '\0';
}

int cg_run_in(const struct test_cgroup *cg, int (*fn)(void *), void *arg)
{
	char procs[PATH_MAX + 32];
	int status, fd;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		if (cg) {
			snprintf(procs, sizeof(procs), "%s/cgroup.procs", cg->path);
			fd = open(procs, O_WRONLY | O_CLOEXEC);
			if (fd < 0 || write(fd, "0", 1) != 1) {
				fprintf(stderr, "cg_run_in: join %s: %s\n", cg->path,
					strerror(errno));
				_exit(126);
			}
			close(fd);
		}
		_exit(fn(arg));
	}
	if (waitpid(pid, &status, 0) < 0)
		return -errno;
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

bool kernel_has_bpf_lsm(char *lsm_list, size_t len)
{
	static const char *paths[] = { "/sys/kernel/security/lsm", "/run/sts-test-securityfs/lsm" };
	char buf[512] = "";
	size_t i;
	FILE *f = NULL;

	for (i = 0; i < 2 && !f; i++) {
		if (i == 1) {
			mkdir("/run/sts-test-securityfs", 0755);
			mount("securityfs", "/run/sts-test-securityfs", "securityfs", 0, NULL);
		}
		f = fopen(paths[i], "r");
	}
	if (f) {
		if (!fgets(buf, sizeof(buf), f))
			buf[0] = '\0';
		fclose(f);
	}
	buf[strcspn(buf, "\n")] = '\0';
	snprintf(lsm_list, len, "%s", f ? buf : "(securityfs not available)");
	/* The list is comma-separated; look for the whole word. */
	return strcmp(buf, "bpf") == 0 || strncmp(buf, "bpf,", 4) == 0 || strstr(buf, ",bpf,") ||
	       (strlen(buf) >= 4 && strcmp(buf + strlen(buf) - 4, ",bpf") == 0);
}

int cg_try_connect4(void *arg)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons(*(uint16_t *)arg),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd, rc = 0;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		rc = errno;
	close(fd);
	return rc;
}

int cg_try_open(void *path)
{
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}
