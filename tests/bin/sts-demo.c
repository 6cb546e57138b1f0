// SPDX-License-Identifier: GPL-2.0-only
/*
 * sts-demo: the first-stage demo shown by `make demo` inside the VM. It loads two small BPF
 * programs, confines them to one "policed" cgroup, and lets a process inside and a process
 * outside that cgroup try the same things, explaining each result.
 *
 *   policy: the policed cgroup may not open DEMO_SECRET and may not connect to 127.0.0.1:PORT
 */
#include "cgroup_helpers.h"
#include "connect_deny.skel.h"
#include "file_open_deny.skel.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <unistd.h>

#define DEMO_SECRET "/tmp/device-serial-number"

static uint16_t port;

static int show(const char *who, const char *what, int rc, int expect)
{
	printf("  %-28s %-44s -> %s\n", who, what, rc ? strerror(rc) : "allowed");
	return rc == expect ? 0 : 1;
}

int main(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct file_open_deny_bpf *fskel = NULL;
	struct connect_deny_bpf *cskel = NULL;
	struct test_cgroup cg = { .fd = -1 };
	struct bpf_link *link = NULL;
	socklen_t slen = sizeof(sa);
	char lsm[256], what[128];
	struct utsname u;
	struct stat st;
	int lfd = -1, fd, err = 1, bad = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	uname(&u);
	printf("\nstsguard demo, stage 1: the kernel enforcing a small policy\n");
	printf("kernel %s; LSMs: ", u.release);
	if (!kernel_has_bpf_lsm(lsm, sizeof(lsm))) {
		printf("%s\nBPF LSM is not enabled: this demo needs the VM lane kernel\n", lsm);
		return 1;
	}
	printf("%s\n\n", lsm);

	fd = open(DEMO_SECRET, O_CREAT | O_WRONLY | O_TRUNC, 0644);
	if (fd < 0 || write(fd, "SN-0123456789\n", 14) != 14 || stat(DEMO_SECRET, &st) < 0) {
		perror("sts-demo: create " DEMO_SECRET);
		goto cleanup;
	}
	close(fd);
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 8) < 0 ||
	    getsockname(lfd, (struct sockaddr *)&sa, &slen) < 0) {
		perror("sts-demo: listen on 127.0.0.1");
		goto cleanup;
	}
	port = ntohs(sa.sin_port);
	if (cg_create("sts-demo-policed", &cg)) {
		perror("sts-demo: create cgroup");
		goto cleanup;
	}

	printf("1. A cgroup v2 group is created: %s (id %llu).\n", cg.path,
	       (unsigned long long)cg.id);
	printf("   Only processes inside it are policed; every hook checks the cgroup id first.\n");
	fskel = file_open_deny_bpf__open();
	cskel = connect_deny_bpf__open();
	if (!fskel || !cskel) {
		fprintf(stderr, "sts-demo: open BPF skeletons failed\n");
		goto cleanup;
	}
	fskel->rodata->target_cgid = cg.id;
	fskel->rodata->target_ino = st.st_ino;
	fskel->rodata->target_dev = major(st.st_dev) << 20 | minor(st.st_dev);
	cskel->rodata->deny_port = port;
	if (file_open_deny_bpf__load(fskel) || file_open_deny_bpf__attach(fskel) ||
	    connect_deny_bpf__load(cskel)) {
		fprintf(stderr, "sts-demo: load/attach BPF programs failed\n");
		goto cleanup;
	}
	link = bpf_program__attach_cgroup(cskel->progs.deny_connect4, cg.fd);
	if (!link) {
		fprintf(stderr, "sts-demo: attach connect4 failed\n");
		goto cleanup;
	}
	printf("2. Two BPF programs are loaded and attached:\n");
	printf("   - BPF LSM file_open: denies opening %s (matched by device %u:%u and\n"
	       "     inode %llu, not by its path) to the policed cgroup;\n",
	       DEMO_SECRET, major(st.st_dev), minor(st.st_dev), (unsigned long long)st.st_ino);
	printf("   - cgroup connect4 (attached to the policed cgroup only): denies TCP connects\n"
	       "     to 127.0.0.1:%u, a stand-in for a legacy telemetry server.\n\n",
	       port);

	printf("3. The same attempts, from outside and from inside the policed cgroup:\n");
	snprintf(what, sizeof(what), "open %s", DEMO_SECRET);
	bad += show("outside (e.g. a system app)", what, cg_run_in(NULL, cg_try_open, DEMO_SECRET),
		    0);
	bad += show("inside (telemetry code)", what, cg_run_in(&cg, cg_try_open, DEMO_SECRET),
		    EPERM);
	bad += show("inside (telemetry code)", "open /etc/passwd",
		    cg_run_in(&cg, cg_try_open, "/etc/passwd"), 0);
	snprintf(what, sizeof(what), "connect 127.0.0.1:%u", port);
	bad += show("outside (e.g. a system app)", what, cg_run_in(NULL, cg_try_connect4, &port),
		    0);
	bad += show("inside (telemetry code)", what, cg_run_in(&cg, cg_try_connect4, &port), EPERM);

	printf("\n4. What the kernel counted: %llu file open(s) and %llu connect(s) denied.\n",
	       (unsigned long long)fskel->bss->denied, (unsigned long long)cskel->bss->denied);
	printf("   The denials came from the kernel itself: the policed process got EPERM from\n"
	       "   open() and connect(); nothing in userspace had to cooperate.\n\n");
	err = bad ? 1 : 0;
	printf("%s\n",
	       err ? "demo: UNEXPECTED RESULT (see above)" : "demo: policy enforced as expected");
cleanup:
	bpf_link__destroy(link);
	connect_deny_bpf__destroy(cskel);
	file_open_deny_bpf__destroy(fskel);
	cg_destroy(&cg);
	if (lfd >= 0)
		close(lfd);
	unlink(DEMO_SECRET);
	return err;
}
