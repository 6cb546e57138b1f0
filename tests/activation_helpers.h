/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * One device for the activation tests (tests/progs/activation.c, faults.c): its own state dir,
 * stsd.conf and policy, a real sts-collector on loopback and a TCP relay (tcp_proxy.h) between
 * the agent and the collector, so that a test controls the path. `stsd daemon --once` is run as
 * a child process; what the collector stored and what the evidence log says are read back.
 */
#ifndef STS_TEST_ACTIVATION_HELPERS_H
#define STS_TEST_ACTIVATION_HELPERS_H

#include "collector_helpers.h"
#include "tcp_proxy.h"

#include <stdbool.h>
#include <sys/types.h>

#define EX_TEMPFAIL 75
#define GOOD_IMEI "490154203237518"

struct act_env {
	char dir[512];
	struct collector col;
	bool col_up;
	struct tcp_proxy px;
	char conf[600], state[600], log[600], policy[600];
};

int act_write_text(const char *path, const char *text);
/*
 * A fresh device under tmpdir/name: collector, relay (pointing at the collector), IMEI file (or
 * imei_source), policy plus extra_policy, stsd.conf plus extra_conf (retry-initial 1, retry-max
 * 2 unless extra_conf sets retry-initial).
 */
bool act_setup(struct act_env *e, const char *name, const char *imei_source, const char *extra_conf,
	       const char *extra_policy);
void act_teardown(struct act_env *e);
/* `stsd daemon --config CONF --once --observe -q` in the background (stderr to dir/stsd.err). */
pid_t act_stsd_spawn(struct act_env *e);
/* Its exit status, 128 + signal if killed, -1 if it could not be waited for. */
int act_stsd_wait(pid_t pid);
int act_stsd_once(struct act_env *e);
/* `sts-collector list --json` of the device's collector (heap), and its number of activations. */
char *act_stored_json(struct act_env *e);
int act_stored(struct act_env *e);
int act_count_of(const char *hay, const char *needle);
/* Occurrences of needle in the evidence log (-1 if unreadable). */
int act_log_count(struct act_env *e, const char *needle);
/* `stsctl verify LOG --log-key STATE/log.key.pub` accepts the log. */
bool act_log_verifies(struct act_env *e);
/* Make the scheduled retry due now, as if its time had come. */
bool act_retry_due_now(struct act_env *e);
/* SIGKILL every process of the running stsd's policed cgroup; how many were signalled. */
int act_kill_agent(pid_t stsd);

#endif
