/* SPDX-License-Identifier: GPL-2.0-only */
/* cgroup v2 helpers for the monitor and the tests. Functions return 0 or -errno. */
#ifndef STS_CGROUP_H
#define STS_CGROUP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * Where cgroup v2 is mounted, from /proc/self/mounts. On a machine with none (cgroup v1 only),
 * one is mounted at /run/stsguard/cgroup2.
 */
int sts_cgroup2_root(char *buf, size_t len);
/* The cgroup id of a cgroup directory: its inode number in cgroupfs. */
int sts_cgroup_id(int dirfd, uint64_t *id);
/* Move pid (0: the caller) into the cgroup at path. */
int sts_cgroup_join(const char *path, pid_t pid);
/* Kill every process in the cgroup (cgroup.kill, or SIGKILL to each member on older kernels). */
int sts_cgroup_kill(const char *path);

#endif
