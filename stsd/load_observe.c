// SPDX-License-Identifier: GPL-2.0-only
/*
 * Observe mode (bpf/observe.bpf.c), when BPF LSM is missing and the caller allowed it:
 * tracepoints record file opens, execs, socket kinds and process system calls, without
 * stopping them.
 */
#include "loader_int.h"

#include "observe.skel.h"

#include <bpf/libbpf.h>
#include <errno.h>
#include <sys/mount.h>
#include <unistd.h>

int start_observe(struct sts_enforcer *e, const struct enforcer_opts *o)
{
	struct observe_bpf *s;
	int err;

	/* Tracepoints are found through tracefs, which not every system mounts. */
	if (access("/sys/kernel/tracing/events", F_OK) < 0 &&
	    access("/sys/kernel/debug/tracing/events", F_OK) < 0 &&
	    mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, NULL) < 0)
		return -errno;

	s = e->observe = observe_bpf__open();
	if (!s)
		return -errno;
	/* open(2) is x86-only: arm64 has openat alone, and no sys_enter_open tracepoint. */
	if (access("/sys/kernel/tracing/events/syscalls/sys_enter_open", F_OK) < 0 &&
	    access("/sys/kernel/debug/tracing/events/syscalls/sys_enter_open", F_OK) < 0)
		bpf_program__set_autoload(s->progs.sts_observe_open, false);
	s->rodata->policed_cgid = o->policed_cgid;
	err = reuse_shared_maps(e, s->maps.events, s->maps.endpoints, s->maps.files);
	if (!err)
		err = observe_bpf__load(s);
	if (!err)
		err = observe_bpf__attach(s);
	return err;
}
