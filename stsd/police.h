/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Police one command (stsd/police.c): what `stsd run` does, and how the monitor runs its agent.
 */
#ifndef STS_POLICE_H
#define STS_POLICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct evidence;
struct sts_policy;
typedef struct json_t json_t;

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

/* A payload the policed code is about to send, for the product's check (police_opts). */
struct police_payload {
	const char *buf; /* the plaintext: a request sts_request_check() accepted */
	size_t len;
	unsigned long approved; /* payloads approved earlier in this run */
	const struct sts_policy *pol; /* the run's policy (report-key, tls-allowance) */
	/*
	 * The check may leave here what it compared, with which source, and the key that
	 * verified the signature: police_run() puts it in the payload's evidence record.
	 */
	json_t **detail;
};

struct police_opts {
	const char *policy_path; /* NULL: STSD_DEFAULT_POLICY */
	bool observe; /* observe what cannot be enforced instead of refusing */
	bool quiet, show_allowed; /* sentences on stderr */
	const char *user; /* NULL: nobody; "root": keep root */
	FILE *events; /* plain JSON lines, or NULL */
	const char *events_name; /* for messages: "stdout (--json)", the --events file... */
	/* The caller found them closed (and put /dev/null there): said at start, once each. */
	bool events_closed, stderr_closed;
	struct evidence *evidence; /* an open evidence log, or NULL */
	const char *device_cgroup; /* NULL: the cgroup v2 root; "none": no device-wide rules */
	const char *cgroup_parent; /* NULL: <root>/stsguard */
	const char *const *argv; /* CMD and its arguments; CMD resolved as execvp would */
	const struct police_channel *channel; /* or NULL */
	/*
	 * The product's decision on a payload, required. police_run() checks what every payload
	 * must be (its own memory, a request of the documented shape within the policy's
	 * report-max), then asks this; 0 to pass, else a reason in why.
	 */
	int (*payload_check)(void *ctx, const struct police_payload *p, char *why, size_t whylen);
	void *payload_ctx;
	int timeout_s; /* kill the policed cgroup after this long; 0: no limit */
	bool pass_stdin; /* --stdin: CMD reads the launcher's stdin (else /dev/null) */
	const char *tls_host; /* the collector-host: the one SNI allowed (enforcer_opts) */
	const char *aid; /* the activation id given to CMD as STS_AID, or NULL */
	/*
	 * stsd's own files, NULL-terminated (entries may be NULL-free paths that do not exist
	 * yet): the evidence log and its keys, the consent record, the device key's directory,
	 * the policy itself. A policy whose rules would let CMD read, write or run one of them is
	 * refused: CMD could forge consent, swap the key the monitor trusts, or edit its evidence.
	 */
	const char *protect[12];
};

/*
 * Run CMD under enforcement until it exits. stsd ignores SIGPIPE from then on: an output that
 * cannot be written is said once (stderr, evidence log) and dropped, the run goes on. Returns its
 * exit status (128+N when killed by signal N), STS_EXIT_USAGE on usage or policy errors,
 * STS_EXIT_ENFORCE when enforcement (or the evidence log) could not be established or kept: the
 * command then never ran, or was stopped.
 */
int police_run(const struct police_opts *o);
/*
 * Kill and remove the policed cgroups (parent/run-PID; NULL: the default parent) of monitors
 * that are gone, e.g. killed with SIGKILL. police_run() does it too; the daemon also at start.
 */
void police_sweep_stale(const char *parent);

#endif
