/* SPDX-License-Identifier: GPL-2.0-only */
/* Test helpers: throw-away cgroup v2 directories and running a function inside one. */
#ifndef STS_TEST_CGROUP_HELPERS_H
#define STS_TEST_CGROUP_HELPERS_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct test_cgroup {
	char path[PATH_MAX];
	int fd; /* O_DIRECTORY fd, what cgroup BPF programs attach to */
	uint64_t id; /* what bpf_get_current_cgroup_id() returns for its members */
};

/* Where cgroup v2 is mounted (see sts_cgroup2_root). */
int cg_root(char *buf, size_t len);
/* Create a new, uniquely named cgroup under the v2 root. */
int cg_create(const char *prefix, struct test_cgroup *cg);
/* Remove it again (it must be empty: cg_run_in() waits for its child). */
void cg_destroy(struct test_cgroup *cg);
/*
 * Fork; the child joins cg (if not NULL) and returns fn(arg) as its exit status. Returns the
 * child's exit status, or -errno if it could not run, or 128+signal if it was killed.
 */
int cg_run_in(const struct test_cgroup *cg, int (*fn)(void *), void *arg);

/*
 * Child bodies for cg_run_in(): 0 when the action succeeded, else its errno.
 * cg_try_connect4 takes a uint16_t * (a 127.0.0.1 TCP port), cg_try_open a path.
 */
int cg_try_connect4(void *port);
int cg_try_open(void *path);

/* Does the running kernel have the BPF LSM enabled (lsm= contains "bpf")? */
bool kernel_has_bpf_lsm(char *lsm_list, size_t len);

#endif
