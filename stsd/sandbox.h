/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Containment of CMD beside the BPF programs, on every kernel (stsd/sandbox.c): a seccomp
 * filter (libseccomp) that refuses what no file or network rule covers, Landlock where the
 * kernel has it, and the process hygiene (session, namespaces, keyring) applied in the child
 * before exec. The monitor answers the filter's refusals through a seccomp user notification
 * descriptor, so that each one is an evidence record.
 */
#ifndef STS_SANDBOX_H
#define STS_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "device/policy.h"
#include "stsguard/abi.h"

/* What the running kernel offers (sandbox_probe). */
struct sandbox_caps {
	int landlock_abi; /* 0: no Landlock (not built, or not in lsm=) */
	bool seccomp_notify; /* SECCOMP_RET_USER_NOTIF: refusals reach the monitor */
};

void sandbox_probe(struct sandbox_caps *caps);

/* What the child applies before exec (sandbox_apply), decided by the monitor. */
struct sandbox_spec {
	const struct sts_policy *pol;
	const char *exe; /* CMD, allowed to execute */
	int landlock_abi; /* 0: no Landlock */
	bool landlock_fs; /* Landlock enforces the file and exec rules (no BPF LSM) */
	/*
	 * Landlock's TCP rule (ABI >= 4: connect only to the collector ports, no bind), only where
	 * its refusals are recorded (bpf/contain.bpf.c): it refuses before the cgroup connect
	 * hooks, which enforce the same and more (addresses) and record every refusal.
	 */
	bool landlock_net;
	bool notify; /* refusals go to the monitor; else they return EPERM unrecorded */
	pid_t self; /* the child's pid: signals only to itself */
};

/*
 * In the child, after no_new_privs: Landlock, then the seccomp filter. With notify, the
 * filter's listener descriptor is returned in *notify_fd (to be handed to the monitor). On
 * failure -errno and a sentence in why.
 */
int sandbox_landlock(const struct sandbox_spec *s, char *why, size_t whylen);
int sandbox_seccomp(const struct sandbox_spec *s, int *notify_fd, char *why, size_t whylen);

/*
 * In the monitor: receive one notification from fd, refuse the call (EPERM) and describe it as
 * an event of the policed cgroup (cgid). Returns 0 and fills ev, 1 when there was nothing to
 * receive (the process died meanwhile), or -errno.
 */
int sandbox_notify_handle(int fd, uint64_t cgid, struct sts_event *ev);

/* A system call's name on this machine ("syscall_NR" if unknown); for the records. */
const char *sandbox_syscall_name(long nr);

/*
 * The system call numbers shared by every architecture (Linux 5.1 on) that the filter refuses
 * when libseccomp cannot name them: calls newer than the library.
 */
#define SANDBOX_UNIFIED_FIRST 424
#define SANDBOX_UNIFIED_LAST 511

/* The ioctl requests CMD may make, with why, for the G7 record and the docs. */
struct sandbox_ioctl {
	unsigned long request;
	const char *name, *why;
};
extern const struct sandbox_ioctl sandbox_ioctls[];
extern const size_t sandbox_n_ioctls;

/* The socket options the policed command may set (setsockopt level and name); no other. */
struct sandbox_sockopt {
	int level, name;
	const char *text, *why;
};
extern const struct sandbox_sockopt sandbox_sockopts[];
extern const size_t sandbox_n_sockopts;

#endif /* STS_SANDBOX_H */
