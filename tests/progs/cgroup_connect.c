// SPDX-License-Identifier: GPL-2.0-only
/*
 * Host lane proof: a cgroup connect4 program denies a loopback connect for a process in a test
 * cgroup, while the same connect from outside the cgroup, and to another port from inside,
 * go through.
 */
#include "test.h"
#include "cgroup_helpers.h"
#include "connect_deny.skel.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

static int listen_loopback(uint16_t *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int fd;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 16) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) < 0) {
		close(fd);
		return -errno;
	}
	*port = ntohs(sa.sin_port);
	return fd;
}

void test_cgroup_connect(void)
{
	struct connect_deny_bpf *skel = NULL;
	struct test_cgroup cg = { .fd = -1 };
	struct bpf_link *link = NULL;
	int lfd = -1, lfd2 = -1, err;
	uint16_t port = 0, port2 = 0;

	lfd = listen_loopback(&port);
	lfd2 = listen_loopback(&port2);
	if (!ASSERT_GE(lfd, 0, "listen") || !ASSERT_GE(lfd2, 0, "listen second port"))
		goto cleanup;
	err = cg_create("sts-test-connect", &cg);
	if (!ASSERT_OK(err, "create test cgroup"))
		goto cleanup;

	skel = connect_deny_bpf__open();
	if (!ASSERT_OK_PTR(skel, "open skeleton"))
		goto cleanup;
	skel->rodata->deny_port = port;
	if (!ASSERT_OK(connect_deny_bpf__load(skel), "load"))
		goto cleanup;

	ASSERT_EQ(cg_run_in(&cg, cg_try_connect4, &port), 0, "in cgroup, before attach: allowed");

	link = bpf_program__attach_cgroup(skel->progs.deny_connect4, cg.fd);
	if (!ASSERT_OK_PTR(link, "attach connect4 to test cgroup"))
		goto cleanup;

	ASSERT_EQ(cg_run_in(&cg, cg_try_connect4, &port), EPERM,
		  "in cgroup: connect denied (EPERM)");
	ASSERT_EQ(cg_run_in(NULL, cg_try_connect4, &port), 0, "outside cgroup: connect allowed");
	ASSERT_EQ(cg_run_in(&cg, cg_try_connect4, &port2), 0, "in cgroup, other port: allowed");
	ASSERT_EQ(skel->bss->denied, 1, "program counted exactly one denial");
	ASSERT_EQ(skel->bss->seen, 2, "program saw only the two in-cgroup connects");

	bpf_link__destroy(link);
	link = NULL;
	ASSERT_EQ(cg_run_in(&cg, cg_try_connect4, &port), 0, "in cgroup, after detach: allowed");
cleanup:
	bpf_link__destroy(link);
	connect_deny_bpf__destroy(skel);
	cg_destroy(&cg);
	if (lfd >= 0)
		close(lfd);
	if (lfd2 >= 0)
		close(lfd2);
}
