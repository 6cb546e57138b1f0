/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Landlock's refusals read from its own audit records (Linux 6.15 and later, Landlock ABI 7),
 * where no BPF program can record them without the system-call slow path for every process.
 * See llaudit.c for how the audit state of the machine is changed and restored.
 */
#ifndef STS_STSD_LLAUDIT_H
#define STS_STSD_LLAUDIT_H

#include <stsguard/abi.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct ll_audit;

/*
 * Join the audit log's read-only multicast group and, if audit is off, switch it on for the
 * run (with a `never,task` rule first: no process gets system-call auditing for it). Returns 0,
 * or -errno and a sentence in why (no audit in the kernel, no CAP_AUDIT_*, audit locked off).
 */
int ll_audit_start(uint64_t cgid, struct ll_audit **out, char *why, size_t whylen);
/* The fd to poll; then ll_audit_read. */
int ll_audit_fd(const struct ll_audit *a);
/* The process whose Landlock domain is recorded (CMD: it creates the domain, then execs). */
void ll_audit_follow(struct ll_audit *a, pid_t pid, uid_t uid);
/*
 * Every record waiting: each refusal of the followed process's domain, as the event BPF LSM
 * would have written, to fn. Returns the number delivered, or -errno.
 */
typedef void (*ll_audit_fn)(const struct sts_event *ev, const char *blockers, void *ctx);
int ll_audit_read(struct ll_audit *a, ll_audit_fn fn, void *ctx);
/*
 * After the process exited: every record of its refusals, delivered. Audit queues records in
 * order: a message of stsd's own, once read back, comes after them all. Returns the number
 * delivered, or -errno (-ETIMEDOUT after 2 s).
 */
int ll_audit_flush(struct ll_audit *a, ll_audit_fn fn, void *ctx);
/* Records the socket could not hold (ENOBUFS): refusals not recorded. */
uint64_t ll_audit_lost(const struct ll_audit *a);
/* What was done to the machine's audit state, for the G7 record ("enabled for the run", ...). */
const char *ll_audit_state(const struct ll_audit *a);
/* Leave the group; switch audit off again if this run switched it on and no other run uses it. */
void ll_audit_stop(struct ll_audit *a);
/*
 * After a monitor that switched audit on died without switching it off (killed, power lost):
 * switch it off again once no live monitor needs it. Called at start (ll_audit_start does).
 */
void ll_audit_sweep(void);

#endif /* STS_STSD_LLAUDIT_H */
