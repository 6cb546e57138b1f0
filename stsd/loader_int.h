/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Inside the loader (stsd/loader.c and stsd/load_*.c): the enforcer object and the helpers the
 * per-feature files share. One file per BPF object: load_net.c (cgroup connect/sendmsg/
 * sock_create, and the rule maps every object shares), load_payload.c (uprobes on libssl),
 * load_volume.c (the egress budget), load_lsm.c (BPF LSM, enforce mode) and load_observe.c
 * (tracepoints, observe mode). Not for use outside the loader: stsd/loader.h is its interface.
 */
#ifndef STS_LOADER_INT_H
#define STS_LOADER_INT_H

#include "loader.h"

#include <stdbool.h>
#include <stddef.h>

struct bpf_link;
struct bpf_map;
struct bpf_object;
struct bpf_program;
struct ring_buffer;
struct net_bpf;
struct lsm_bpf;
struct observe_bpf;
struct payload_bpf;
struct volume_bpf;
struct contain_bpf;

#define MAX_LINKS 32
/* Rows of the G7 record: 30 with BPF LSM and device-wide rules, 33 in observe mode. */
#define STS_MAX_HOOKS 48

/* One row of the G7 record: a kernel hook, how it is covered, by which program. */
struct hook_state {
	const char *hook; /* kernel hook, e.g. "lsm/file_open" */
	const char *guard; /* what it guards, in words */
	enum sts_mode mode;
	const struct bpf_program *prog;
	const char *note; /* why it is not enforcing, when it is not */
};

struct sts_enforcer {
	struct net_bpf *net;
	struct lsm_bpf *lsm;
	struct observe_bpf *observe;
	struct payload_bpf *payload;
	struct volume_bpf *volume;
	struct contain_bpf *contain; /* Landlock's file refusals, where it enforces */
	struct contain_bpf *contain_net; /* Landlock's TCP refusals (fexit) */
	struct ll_audit *llaudit; /* Landlock's file refusals from its audit records */
	bool llaudit_net; /* and its TCP refusals (where fexit is refused) */
	bool landlock_fs;
	char *libssl[8]; /* the libssl files the policy lets the policed code map */
	size_t n_libssl;
	uint32_t tls_allowance;
	struct bpf_link *links[MAX_LINKS];
	size_t n_links;
	struct ring_buffer *rb;
	enforcer_event_fn fn;
	void *ctx;
	struct hook_state hooks[STS_MAX_HOOKS];
	size_t n_hooks;
	bool hooks_overflow; /* a row did not fit: enforcer_start fails rather than hide it */
	char lsm_error[160];
	/* How to get BPF LSM: the boot parameter, and whether the kernel has it (lsm_start) */
	char lsm_hint[1280];
	bool device_rules;
};

/*
 * A feature's description of one hook for the G7 record, in a table next to the code that
 * loads it: the program is named as in its BPF object (bpf_object__find_program_by_name).
 */
struct hook_desc {
	const char *hook;
	const char *prog;
	const char *guard;
	const char *note; /* why it is not enforcing, when it is not */
};

/* loader.c: the enforcer's hook list and links */
void add_hook(struct sts_enforcer *e, const char *hook, const char *guard, enum sts_mode mode,
	      const struct bpf_program *prog, const char *note);
void add_hooks(struct sts_enforcer *e, const struct bpf_object *obj, const struct hook_desc *d,
	       size_t n, enum sts_mode mode);
int keep_link(struct sts_enforcer *e, struct bpf_link *link);

/*
 * Each feature: X_start opens, loads and attaches its BPF object (on failure: -errno, and a
 * sentence in why where the caller shows one); X_describe_hooks adds its rows to the G7 record.
 */

/* load_net.c: always on; owns the ring buffer and the rule maps the other objects reuse */
int net_start(struct sts_enforcer *e, const struct sts_policy *pol, const struct enforcer_opts *o,
	      char *why, size_t whylen);
int reuse_shared_maps(struct sts_enforcer *e, struct bpf_map *events, struct bpf_map *eps,
		      struct bpf_map *files);
void net_describe_hooks(struct sts_enforcer *e);

/* load_payload.c: always on; uprobes attached per process by enforcer_attach_process */
int payload_start(struct sts_enforcer *e, const struct sts_policy *pol,
		  const struct enforcer_opts *o, char *why, size_t whylen);
void payload_describe_hooks(struct sts_enforcer *e);

/* load_volume.c: always on */
int volume_start(struct sts_enforcer *e, const struct sts_policy *pol,
		 const struct enforcer_opts *o, char *why, size_t whylen);
void volume_describe_hooks(struct sts_enforcer *e);

/* load_lsm.c: enforce mode; on failure e->lsm_error says why, for the G8 refusal and G7 */
int lsm_start(struct sts_enforcer *e, const struct enforcer_opts *o);
void lsm_describe_hooks(struct sts_enforcer *e);
void lsm_describe_off(struct sts_enforcer *e);

/*
 * load_observe.c: observe mode, only when BPF LSM is missing and the caller allowed it; files:
 * the file, exec tracepoints; syscalls: raw_tp/sys_enter, only for what neither seccomp nor
 * Landlock decides (AF_UNIX peers of allow-unix).
 */
int observe_start(struct sts_enforcer *e, const struct enforcer_opts *o, bool files, bool syscalls);
void observe_describe_hooks(struct sts_enforcer *e);

/* load_contain.c: the record of Landlock's refusals (fexit), where Landlock enforces */
int contain_start(struct sts_enforcer *e, const struct enforcer_opts *o, bool files, bool net);
void contain_describe_hooks(struct sts_enforcer *e);

#endif /* STS_LOADER_INT_H */
