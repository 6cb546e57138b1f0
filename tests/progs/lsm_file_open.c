// SPDX-License-Identifier: GPL-2.0-only
/*
 * VM lane proof: a BPF LSM file_open program denies opening a test file for a process in a test
 * cgroup, while the same file opens fine outside it. The host kernel refuses BPF LSM programs,
 * so there this test says SKIP; the VM lane runs it with --no-skip.
 */
#include "test.h"
#include "cgroup_helpers.h"
#include "file_open_deny.skel.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

void test_lsm_file_open(void)
{
	struct file_open_deny_bpf *skel = NULL;
	struct test_cgroup cg = { .fd = -1 };
	char path[512], other[512], lsm[512];
	struct stat st;
	int fd, err;

	if (!kernel_has_bpf_lsm(lsm, sizeof(lsm))) {
		test__skip("BPF LSM not enabled in this kernel (lsm=%s); runs in the VM lane", lsm);
		return;
	}
	snprintf(path, sizeof(path), "%s/secret", test__tmpdir());
	snprintf(other, sizeof(other), "%s/public", test__tmpdir());
	fd = open(path, O_CREAT | O_WRONLY, 0644);
	if (!ASSERT_GE(fd, 0, "create test file"))
		return;
	close(fd);
	fd = open(other, O_CREAT | O_WRONLY, 0644);
	if (!ASSERT_GE(fd, 0, "create other file"))
		return;
	close(fd);
	if (!ASSERT_OK(stat(path, &st), "stat test file"))
		return;
	err = cg_create("sts-test-lsm", &cg);
	if (!ASSERT_OK(err, "create test cgroup"))
		goto cleanup;

	skel = file_open_deny_bpf__open();
	if (!ASSERT_OK_PTR(skel, "open skeleton"))
		goto cleanup;
	skel->rodata->target_cgid = cg.id;
	skel->rodata->target_ino = st.st_ino;
	skel->rodata->target_dev = major(st.st_dev) << 20 | minor(st.st_dev);
	err = file_open_deny_bpf__load(skel);
	if (err == -EPERM) {
		/* The host kernel lists "bpf" in lsm= yet refuses BPF LSM programs. */
		test__skip(
			"kernel refused the BPF LSM program (EPERM; lsm=%s); runs in the VM lane",
			lsm);
		goto cleanup;
	}
	if (!ASSERT_OK(err, "load"))
		goto cleanup;
	if (!ASSERT_OK(file_open_deny_bpf__attach(skel), "attach lsm/file_open"))
		goto cleanup;

	ASSERT_EQ(cg_run_in(&cg, cg_try_open, path), EPERM, "in cgroup: open denied (EPERM)");
	ASSERT_EQ(cg_run_in(NULL, cg_try_open, path), 0, "outside cgroup: open allowed");
	ASSERT_EQ(cg_run_in(&cg, cg_try_open, other), 0, "in cgroup, other file: allowed");
	ASSERT_EQ(skel->bss->denied, 1, "program counted exactly one denial");
cleanup:
	file_open_deny_bpf__destroy(skel);
	cg_destroy(&cg);
}
