/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The monitor's side of the evidence log (docs/evidence.md): opens the log with its signing
 * key, and turns the loader's G7 description and the kernel's events into evidence records.
 */
#ifndef STS_EVIDENCE_H
#define STS_EVIDENCE_H

#include <jansson.h>
#include <stdint.h>

#include "evidence/evlog.h"
#include "stsguard/abi.h"

struct evidence;

/*
 * Open (or recover) the log at path; the checkpoint key is key_path, created (0600) with its
 * public half at key_path.pub when missing; seal_path (may be NULL) is a seal state made by
 * `stsctl seal-init`. Errors are -errno with a sentence in why.
 */
int evidence_open(const char *path, const char *key_path, const char *seal_path,
		  struct evidence **out, char *why, size_t whylen);
/* start + enforcement records (G7), from enforcer_describe()'s JSON. */
int evidence_start(struct evidence *ev, const char *mode, const json_t *describe);
/* One kernel event, with the monitor's extra fields for payload decisions (may be NULL). */
int evidence_event(struct evidence *ev, const struct sts_event *e, const json_t *extra);
/* lost_events (when count > 0) and stop records at the end of one policed run. */
int evidence_stop(struct evidence *ev, uint64_t lost, int status);
/* A monitor decision (identifier_released, report_approved, transmission, receipt...). */
/* Did evidence_open() generate the log key (it was missing)? Its owner says where it is. */
bool evidence_key_created(const struct evidence *ev);
int evidence_append(struct evidence *ev, const char *type, const json_t *fields);
/* Signed checkpoint and fdatasync: everything so far is durable. 0 or the reason not to send. */
int evidence_checkpoint(struct evidence *ev);
/* Rotate the log into a new segment whenever it grows past `bytes` (0: never). */
void evidence_set_max_size(struct evidence *ev, uint64_t bytes);
/* Final checkpoint, close. */
int evidence_close(struct evidence *ev);
/* Periodic checkpoints from the event loop; *next_ms says when to call again. */
int evidence_tick(struct evidence *ev, int64_t *next_ms);

#endif
