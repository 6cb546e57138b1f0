/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The activation state that survives restarts, state-dir/activation.json (replaced atomically,
 * fsync'd): whether a verified receipt closed the activation, the activation id every retry
 * reuses, and the retry schedule. Parsed strictly: a damaged file is an error, never "not
 * activated yet" (the monitor then sends nothing until it is repaired).
 */
#ifndef STS_ACTIVATION_H
#define STS_ACTIVATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sts_activation {
	bool activated;
	char aid[23]; /* STS_AID_LEN + 1; "" before the first attempt */
	int64_t attempts;
	int64_t next_attempt; /* unix seconds; 0: now */
	int64_t activated_at;
	char receipt_sha256[65];
	char last_error[600];
};

int sts_activation_parse(const char *buf, size_t len, struct sts_activation *st, char *why,
			 size_t whylen);
/* Compact JSON into a heap string. */
int sts_activation_serialize(const struct sts_activation *st, char **out);

#endif
