/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Police one command (stsd/police.c): what `stsd run` does, and how the monitor runs its agent.
 */
#ifndef STS_POLICE_H
#define STS_POLICE_H

#include <stdbool.h>
#include <stdio.h>

struct evidence;

/* A privsep channel next to the kernel's events (the monitor's agent). */
struct police_channel {
	int child_fd; /* given to CMD as its fd 3 */
	int fd; /* the monitor's end, polled with the events */
	/*
	 * Called when fd is readable. 0: go on; 1: the conversation is over (stop polling);
	 * negative: the agent misbehaved (unknown, out of order or malformed message) and the
	 * whole policed cgroup is killed.
	 */
	int (*on_readable)(void *ctx);
	void *ctx;
};

struct police_opts {
	const char *policy_path; /* NULL: STSD_DEFAULT_POLICY */
	bool observe; /* observe what cannot be enforced instead of refusing */
	bool quiet, show_allowed; /* sentences on stderr */
	const char *user; /* NULL: nobody; "root": keep root */
	FILE *events; /* plain JSON lines, or NULL */
	struct evidence *evidence; /* an open evidence log, or NULL */
	const char *device_cgroup; /* NULL: the cgroup v2 root; "none": no device-wide rules */
	const char *cgroup_parent; /* NULL: <root>/stsguard */
	const char *const *argv; /* CMD and its arguments; CMD resolved as execvp would */
	const struct police_channel *channel; /* or NULL */
	/*
	 * An extra payload check on top of the schema (the monitor: "is it the very report I
	 * signed?"); 0 to pass, else a reason in why. NULL: the schema alone.
	 */
	int (*payload_check)(void *ctx, const char *buf, size_t len, char *why, size_t whylen);
	void *payload_ctx;
	/* Without payload_check: the consent record a country claim needs (NULL: the default). */
	const char *consent_path;
	int timeout_s; /* kill the policed cgroup after this long; 0: no limit */
};

/*
 * Run CMD under enforcement until it exits. Returns its exit status (128+N when killed by
 * signal N), 2 on usage or policy errors, 3 when enforcement (or the evidence log) could not be
 * established or kept: the command then never ran, or was stopped.
 */
int police_run(const struct police_opts *o);
/*
 * Kill and remove the policed cgroups (parent/run-PID; NULL: the default parent) of monitors
 * that are gone, e.g. killed with SIGKILL. police_run() does it too; the daemon also at start.
 */
void police_sweep_stale(const char *parent);

#endif
