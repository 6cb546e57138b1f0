/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The product's rules for the payload check (stsd/payload_rules.c): what a report may claim and
 * how often it may leave. police_run() asks them through police_opts.payload_check once a
 * payload has passed the generic checks (its own memory, the documented request shape).
 */
#ifndef STS_PAYLOAD_RULES_H
#define STS_PAYLOAD_RULES_H

#include <stddef.h>

#include "police.h"

/* stsd run's rules: the payload_ctx of run_payload_check. */
struct run_rules {
	const char *consent_path; /* the user's consent record; NULL: the default */
};

/*
 * stsd run's payload_check (ctx: struct run_rules): a country claim only with the user's
 * consent record (G6), and one report per run (G3).
 */
int run_payload_check(void *ctx, const struct police_payload *p, char *why, size_t whylen);

/* The report is sent once (G3): refuses any payload after an approved one. */
int payload_rule_once(const struct police_payload *p, char *why, size_t whylen);

#endif
