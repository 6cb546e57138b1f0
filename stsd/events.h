/* SPDX-License-Identifier: GPL-2.0-only */
/* Kernel events (struct sts_event) as JSON records and as sentences a person understands. */
#ifndef STS_EVENTS_H
#define STS_EVENTS_H

#include <jansson.h>
#include <stddef.h>

#include "stsguard/abi.h"

const char *event_type_name(__u32 type);
const char *event_rule_name(__u32 rule);
const char *event_verdict_name(__u32 verdict);
/* {"type":"event","kind":...,"verdict":...,"rule":...,"pid":...,...,"explain":"..."} */
json_t *event_to_json(const struct sts_event *ev);
/* "DENIED: pid 12 (rogue) connect to 127.0.0.1:9/tcp: not a collector endpoint of the policy" */
void event_explain(const struct sts_event *ev, char *buf, size_t len);

#endif
