/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The BPF loader of the stsd monitor: probes what the kernel offers, loads and attaches the
 * enforcement programs for one policed cgroup, and describes what it did (G7). Fails closed
 * (G8): if a hook needed for enforce mode cannot be established it refuses, unless the caller
 * chose observe mode, in which case the hooks it could not enforce are observed and say so.
 */
#ifndef STS_LOADER_H
#define STS_LOADER_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "policy.h"
#include "stsguard/abi.h"

struct sts_enforcer;

struct enforcer_opts {
	int policed_cgroup_fd; /* the cgroup whose members are policed */
	uint64_t policed_cgid; /* its id (inode number of the cgroup directory) */
	int device_cgroup_fd; /* where device-wide rules attach (-1: none) */
	bool observe; /* allow observe mode for hooks that cannot enforce */
	const char *extra_exec; /* a binary to allow-exec on top of the policy (stsd run CMD) */
};

/* Called for every event from the kernel; the enforcer's ring buffer is read by enforcer_poll. */
typedef void (*enforcer_event_fn)(const struct sts_event *ev, void *ctx);

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
/* The fd to poll for events; then enforcer_poll(e, 0) delivers them. */
int enforcer_event_fd(const struct sts_enforcer *e);
int enforcer_poll(struct sts_enforcer *e, int timeout_ms);
/* Events the ring buffer could not hold, summed over the programs. */
uint64_t enforcer_lost_events(const struct sts_enforcer *e);
void enforcer_stop(struct sts_enforcer *e);

#endif /* STS_LOADER_H */
