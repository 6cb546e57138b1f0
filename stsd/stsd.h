/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef STS_STSD_H
#define STS_STSD_H

#define STSD_DEFAULT_POLICY "/etc/stsguard/policy.conf"

/* stsd run: police one command (stsd/run.c). */
int cmd_run(int argc, char **argv);
/* stsd daemon: the monitor and its agent (stsd/monitor.c). */
int cmd_daemon(int argc, char **argv);
/* stsd policy check: every problem of a policy, as any user (stsd/policy_check.c). */
int cmd_policy(int argc, char **argv);

#endif
