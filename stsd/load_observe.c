// SPDX-License-Identifier: GPL-2.0-only
/*
 * Observe mode (bpf/observe.bpf.c), when BPF LSM is missing and the caller allowed it:
 * tracepoints record file opens, execs, socket kinds and process system calls, without
 * stopping them, each with what enforce mode would have decided.
 */
#include "loader_int.h"
#include "core/util.h"

#include "observe.skel.h"

#include <bpf/libbpf.h>
#include <errno.h>
#include <sys/mount.h>
#include <unistd.h>

static const char io_uring_note[] =
	"observed through a tracepoint: not stopped, and io_uring can bypass it";
static const char exit_note[] =
	"the opened file, judged by lsm/file_open's rule: what enforce mode would decide";

/* In the order of the G7 record. */
static const struct hook_desc observe_hooks[] = {
	{ "tp/syscalls/sys_enter_openat", "sts_observe_openat", "files (G2)", io_uring_note },
	{ "tp/syscalls/sys_exit_openat", "sts_observe_openat_exit", "files (G2)", exit_note },
	/* Left out where the kernel has no open(2) (observe_start). */
	{ "tp/syscalls/sys_enter_open", "sts_observe_open", "files (G2)", io_uring_note },
	{ "tp/syscalls/sys_exit_open", "sts_observe_open_exit", "files (G2)", exit_note },
	{ "tp/sched/sched_process_exec", "sts_observe_exec", "exec (G3)",
	  "recorded after the fact, not stopped" },
	{ "tp/syscalls/sys_enter_socket", "sts_observe_socket", "socket kinds (G1)",
	  "packet and netlink sockets recorded, not stopped (raw inet sockets are still denied by "
	  "cgroup/sock_create)" },
	{ "raw_tp/sys_enter", "sts_observe_syscall", "process and mount system calls",
	  "AF_UNIX connect, listen, ptrace, process_vm_*, link, mount, fork/clone, bpf, kill and "
	  "io_uring_setup recorded at entry, not stopped" },
};

int observe_start(struct sts_enforcer *e, const struct enforcer_opts *o, bool files, bool syscalls)
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
	    access("/sys/kernel/debug/tracing/events/syscalls/sys_enter_open", F_OK) < 0) {
		bpf_program__set_autoload(s->progs.sts_observe_open, false);
		bpf_program__set_autoload(s->progs.sts_observe_open_exit, false);
	}
	if (!files) {
		bpf_program__set_autoload(s->progs.sts_observe_openat, false);
		bpf_program__set_autoload(s->progs.sts_observe_openat_exit, false);
		bpf_program__set_autoload(s->progs.sts_observe_open, false);
		bpf_program__set_autoload(s->progs.sts_observe_open_exit, false);
		bpf_program__set_autoload(s->progs.sts_observe_exec, false);
	}
	/* The seccomp filter refuses (and records) every socket kind this one would observe. */
	bpf_program__set_autoload(s->progs.sts_observe_socket, false);
	if (!syscalls)
		bpf_program__set_autoload(s->progs.sts_observe_syscall, false);
	s->rodata->policed_cgid = o->policed_cgid;
	s->rodata->landlock_fs = e->landlock_fs;
	if (e->landlock_fs)
		bpf_program__set_autoload(s->progs.sts_observe_exec, false);
	err = reuse_shared_maps(e, s->maps.events, s->maps.endpoints, s->maps.files);
	if (!err)
		err = observe_bpf__load(s);
	if (!err)
		err = observe_bpf__attach(s);
	return err;
}

/* Where Landlock enforces and the kernel refuses fexit: the tracepoints only record. */
static const char ll_note[] = "files enforced by Landlock; its refusals (EACCES) recorded here";
static const struct hook_desc landlock_hooks[] = {
	{ "tp/syscalls/sys_enter_openat", "sts_observe_openat", "files (G2): Landlock's refusals",
	  ll_note },
	{ "tp/syscalls/sys_exit_openat", "sts_observe_openat_exit",
	  "files (G2): Landlock's refusals", ll_note },
	{ "tp/syscalls/sys_enter_open", "sts_observe_open", "files (G2): Landlock's refusals",
	  ll_note },
	{ "tp/syscalls/sys_exit_open", "sts_observe_open_exit", "files (G2): Landlock's refusals",
	  ll_note },
	{ "raw_tp/sys_enter", "sts_observe_syscall", "AF_UNIX peers of allow-unix",
	  "AF_UNIX connects recorded at entry, not stopped (only BPF LSM decides them)" },
};

void observe_describe_hooks(struct sts_enforcer *e)
{
	if (e->landlock_fs) {
		add_hooks(e, e->observe->obj, landlock_hooks, ARRAY_SIZE(landlock_hooks),
			  STS_MODE_ENFORCE);
		return;
	}
	add_hooks(e, e->observe->obj, observe_hooks, ARRAY_SIZE(observe_hooks), STS_MODE_OBSERVE);
}
