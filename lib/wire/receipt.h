/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The monitor's check of the collector's answer (docs/collector.md): a JSON body
 * {"status","aid","receipt"} whose receipt is a JWS signed by the pinned collector key over
 * {"aid","sha256","received_at","seq"}, for our activation id and the SHA-256 of the exact
 * report bytes we sent. Only then is an activation done.
 */
#ifndef STS_RECEIPT_H
#define STS_RECEIPT_H

#include <stddef.h>

struct sts_key;

/*
 * 0 when the receipt holds; -EBADMSG with a reason otherwise. receipt_sha256 gets the hex
 * SHA-256 of the receipt bytes (for the evidence log) as soon as there is one.
 */
int sts_receipt_check(const char *body, size_t len, const struct sts_key *collector_key,
		      const char *aid, const char *sent_sha256, char receipt_sha256[65], char *why,
		      size_t whylen);

#endif
