/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The BPF loader of the stsd monitor: probes what the kernel offers, loads and attaches the
 * enforcement programs for one policed cgroup, and describes what it did (G7). Fails closed
 * (G8): if a hook needed for enforce mode cannot be established it refuses, unless the caller
 * chose observe mode, in which case the hooks it could not enforce are observed and say so.
 *
 * stsd/loader.c is the core (enforcer_start as named steps, the G7 record, events, teardown);
 * each BPF object is loaded by its own file: load_net.c, load_payload.c, load_volume.c,
 * load_lsm.c, load_observe.c (their shared internals: loader_int.h).
 */
#ifndef STS_LOADER_H
#define STS_LOADER_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "device/policy.h"
#include "stsguard/abi.h"

struct sts_enforcer;

struct enforcer_opts {
	int policed_cgroup_fd; /* the cgroup whose members are policed */
	uint64_t policed_cgid; /* its id (inode number of the cgroup directory) */
	int device_cgroup_fd; /* where device-wide rules attach (-1: none) */
	bool observe; /* allow observe mode for hooks that cannot enforce */
	const char *extra_exec; /* a binary to allow-exec on top of the policy (stsd run CMD) */
	/*
	 * Landlock enforces the file and exec rules where BPF LSM is missing (the child applies
	 * it, stsd/sandbox.c): the loader then records its refusals (bpf/contain.bpf.c) instead
	 * of observing those rules, and enforce mode needs no BPF LSM.
	 */
	bool landlock_fs;
	bool landlock_net; /* Landlock's TCP port rule too (ABI >= 4): its refusals recorded */
	/*
	 * The collector-host of stsd.conf: the one name a ClientHello's SNI may carry (the egress
	 * gate, bpf/volume.bpf.c). NULL or empty: no SNI at all.
	 */
	const char *tls_host;
	int landlock_abi; /* ABI >= 7: its refusals may be read from its audit records */
};

/*
 * Called for every event from the kernel; the enforcer's ring buffer is read by enforcer_poll.
 * size is the record's size: a struct sts_payload_event when ev->type is STS_EV_PAYLOAD.
 */
typedef void (*enforcer_event_fn)(const struct sts_event *ev, size_t size, void *ctx);

/*
 * Load and attach. On failure returns -errno and a sentence for a person in why (the G8
 * refusal reason, e.g. which hook could not attach and what --observe would do instead).
 */
int enforcer_start(const struct sts_policy *pol, const struct enforcer_opts *opts,
		   enforcer_event_fn fn, void *ctx, struct sts_enforcer **out, char *why,
		   size_t whylen);
/* The G7 record: kernel release, mode per hook, program names and tags, policy SHA-256. */
json_t *enforcer_describe(const struct sts_enforcer *e, const struct sts_policy *pol);
/* True when every hook enforces (no observe fallback). */
bool enforcer_enforcing(const struct sts_enforcer *e);
/* True when BPF LSM programs are attached (files, exec, sockets, process rules). */
bool enforcer_has_lsm(const struct sts_enforcer *e);
/* True when Landlock's TCP refusals are recorded (fexit/security_socket_connect loaded). */
bool enforcer_records_landlock_net(const struct sts_enforcer *e);
/* Why BPF LSM is missing, when it is. */
const char *enforcer_lsm_error(const struct sts_enforcer *e);
/* The id of every attached program, for the bench's per-program cost (run_time_ns). */
size_t enforcer_prog_ids(const struct sts_enforcer *e, uint32_t *ids, size_t max);
/*
 * Where Landlock's refusals are read from its audit records (stsd/llaudit.c): the fd to poll
 * (-1: not so), the process whose domain is followed (set before it runs), and the read, which
 * hands each refusal to fn (an event as BPF LSM's, and Landlock's names for what it blocked).
 */
int enforcer_audit_fd(const struct sts_enforcer *e);
void enforcer_audit_follow(struct sts_enforcer *e, pid_t pid, uid_t uid);
int enforcer_audit_read(struct sts_enforcer *e,
			void (*fn)(const struct sts_event *ev, const char *blockers, void *ctx),
			void *ctx);
/* After the process exited: its last refusals (audit delivers records asynchronously). */
int enforcer_audit_flush(struct sts_enforcer *e,
			 void (*fn)(const struct sts_event *ev, const char *blockers, void *ctx),
			 void *ctx);
/* What stsd did to the machine's audit state ("" when it does not read audit). */
const char *enforcer_audit_state(const struct sts_enforcer *e);
/* How Landlock's file refusals reach the log: "audit", "kprobe", "fexit", "tracepoints", "". */
const char *enforcer_landlock_record(const struct sts_enforcer *e);
/* The fd to poll for events; then enforcer_poll(e, 0) delivers them. */
int enforcer_event_fd(const struct sts_enforcer *e);
int enforcer_poll(struct sts_enforcer *e, int timeout_ms);
/*
 * Attach the payload uprobes (SSL_write, SSL_write_ex of every libssl the policy lets the
 * policed code map) for one process, before it runs: uprobes follow that process only.
 */
int enforcer_attach_process(struct sts_enforcer *e, pid_t pid, char *why, size_t whylen);
/*
 * After a passed payload check of len plaintext bytes: grant the egress credit for exactly
 * those bytes in TLS records, and a fresh TLS allowance for the rest of the transmission.
 */
int enforcer_grant(struct sts_enforcer *e, uint64_t len, uint64_t *allowance_used);
/* The budget's current state (allowance, credit, dropped bytes). */
int enforcer_budget(const struct sts_enforcer *e, struct sts_budget *b);
/* Events the ring buffer could not hold, summed over the programs. */
uint64_t enforcer_lost_events(const struct sts_enforcer *e);
/*
 * TCP sockets of the policed cgroup still open. Sockets outlive their processes; stop only
 * once this is 0, or refused bytes could leave on a retransmission after the gate is gone.
 */
int64_t enforcer_live_sockets(const struct sts_enforcer *e);
void enforcer_stop(struct sts_enforcer *e);

#endif /* STS_LOADER_H */
