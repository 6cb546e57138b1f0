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
struct bpf_program;
struct ring_buffer;
struct net_bpf;
struct lsm_bpf;
struct observe_bpf;
struct payload_bpf;
struct volume_bpf;

#define MAX_LINKS 32

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
	char *libssl[8]; /* the libssl files the policy lets the policed code map */
	size_t n_libssl;
	uint32_t tls_allowance;
	struct bpf_link *links[MAX_LINKS];
	size_t n_links;
	struct ring_buffer *rb;
	enforcer_event_fn fn;
	void *ctx;
	struct hook_state hooks[24];
	size_t n_hooks;
	char lsm_error[160];
	bool device_rules;
};

/* loader.c */
void add_hook(struct sts_enforcer *e, const char *hook, const char *guard, enum sts_mode mode,
	      const struct bpf_program *prog, const char *note);
int keep_link(struct sts_enforcer *e, struct bpf_link *link);

/* load_net.c */
int reuse_shared_maps(struct sts_enforcer *e, struct bpf_map *events, struct bpf_map *eps,
		      struct bpf_map *files);
int start_net(struct sts_enforcer *e, const struct sts_policy *pol, const struct enforcer_opts *o,
	      char *why, size_t whylen);

/* load_payload.c */
int start_payload(struct sts_enforcer *e, const struct sts_policy *pol,
		  const struct enforcer_opts *o, char *why, size_t whylen);

/* load_volume.c */
int start_volume(struct sts_enforcer *e, const struct sts_policy *pol,
		 const struct enforcer_opts *o, char *why, size_t whylen);

/* load_lsm.c */
bool bpf_lsm_listed(void);
int start_lsm(struct sts_enforcer *e, const struct enforcer_opts *o);

/* load_observe.c */
int start_observe(struct sts_enforcer *e, const struct enforcer_opts *o);

#endif /* STS_LOADER_INT_H */
