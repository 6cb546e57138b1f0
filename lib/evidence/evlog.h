/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The evidence log writer, used by the stsd monitor (and `stsd run --log FILE`).
 *
 * One JSON line per record (format in evline.h and docs/evidence.md), each chained to the
 * previous one by that line's Merkle leaf hash (format 2; format 1 used its SHA-256) and a
 * leaf of an RFC 9162 Merkle tree. Checkpoints live inside the log as `checkpoint` records:
 * a C2SP tlog-checkpoint signed note over all lines before it, signed by the log key, whose
 * extension lines (cpext.h) carry the record's time, boot, key and, when a seal state file is
 * configured, its forward-secure seal (seal.h), so the signature covers every field. A
 * checkpoint is written every `checkpoint_every` records or `checkpoint_interval` seconds
 * (checked when a record is appended and by evlog_tick(), which the monitor calls from its
 * event loop: no timer thread), on evlog_checkpoint() (before every transmission) and at
 * evlog_close(). When the seal epoch changes, the writer first closes the old epoch with a
 * checkpoint sealed by the old key, then evolves the key. Record times never go back.
 *
 * Durability: each record is one write(2) at append time (it survives the writer being
 * killed); fdatasync(2) runs at every checkpoint and on evlog_sync(). evlog_durable() tells how
 * many records are known to be on disk. Before transmitting, the monitor appends the record
 * approving it and calls evlog_checkpoint(): only if that returns 0 may the agent send.
 *
 * Errors are sticky: after a failed write (say -ENOSPC) every later call returns that error,
 * so a full disk stops transmissions instead of letting them happen unlogged. The partial line
 * is cut off if possible; otherwise the next evlog_open() does it.
 *
 * Writer state: after each durable checkpoint, "<path>.state" (opts->state_path) is rewritten
 * atomically and fsync'd with that checkpoint line, where it ends and the tree before it.
 * evlog_open() checks the log still ends its history with it and reads only what follows
 * (no re-reading of the whole log); it truncates a torn tail (bytes after the last newline)
 * and appends a `recovery` record saying how many bytes were dropped. A log shorter than
 * remembered, not ending with the remembered checkpoint, whose later lines do not chain, or
 * gone is never appended to: it is renamed "<path>.damaged-<time>" and a new segment starts
 * from the remembered checkpoint, its `segment` record saying what was found (stats.incident).
 * Without a state file the whole log is read back; a log whose whole lines do not chain is
 * not touched: -EBADMSG (see `stsctl verify`). A format 1 log goes on in format 2.
 *
 * Functions return 0 or -errno. Not thread-safe: one writer per log.
 */
#ifndef STS_EVLOG_H
#define STS_EVLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/crypto.h"

#define EVLOG_DEFAULT_PATH "/var/lib/stsguard/evidence.log"
#define EVLOG_DEFAULT_KEY "/var/lib/stsguard/log.key"
#define EVLOG_DEFAULT_SEAL "/var/lib/stsguard/seal.state"
#define EVLOG_DEFAULT_EVERY 1000
#define EVLOG_DEFAULT_INTERVAL 300

/* Record types (fields and an example of each in docs/evidence.md). */
#define EV_START "start"
#define EV_ENFORCEMENT "enforcement"
#define EV_STOP "stop"
#define EV_NET_DENY "net_deny"
#define EV_FILE_DENY "file_deny"
#define EV_EXEC_DENY "exec_deny"
#define EV_PAYLOAD_DENY "payload_deny"
#define EV_VOLUME_DROP "volume_drop"
/* Process-level refusals of `stsd run` (BPF LSM): no file or endpoint involved. */
#define EV_CLONE_DENY "clone_deny"
#define EV_PTRACE_DENY "ptrace_deny"
#define EV_SIGNAL_DENY "signal_deny"
#define EV_MOUNT_DENY "mount_deny"
#define EV_BPF_DENY "bpf_deny"
/* A system call or request the seccomp filter (or Landlock, a TCP bind) refused. */
#define EV_SYSCALL_DENY "syscall_deny"
/* Observe mode: a system call the missing LSM hooks would have judged, recorded at entry. */
#define EV_SYSCALL_OBSERVED "syscall_observed"
#define EV_LOST_EVENTS "lost_events"
#define EV_NET_ALLOW "net_allow"
#define EV_FILE_ALLOW "file_allow"
#define EV_EXEC_ALLOW "exec_allow"
#define EV_IDENTIFIER_RELEASED "identifier_released"
#define EV_CONSENT_USED "consent_used"
#define EV_REPORT_APPROVED "report_approved"
#define EV_TRANSMISSION "transmission"
#define EV_RECEIPT "receipt"
#define EV_SCHEDULE "schedule"
#define EV_RECOVERY "recovery"
#define EV_CHECKPOINT "checkpoint"
/* The second line of a segment: why it started (rotation, incident) and the tree before it. */
#define EV_SEGMENT "segment"

struct evlog_opts {
	const char *path; /* the log; created 0640 if absent */
	const struct sts_key
		*log_key; /* Ed25519 private key signing checkpoints; outlives the log */
	const char *origin; /* checkpoint origin and key name; NULL: derived from key */
	const char *seal_path; /* seal state file (stsctl seal-init); NULL: no seals */
	uint64_t checkpoint_every; /* records; 0: EVLOG_DEFAULT_EVERY */
	uint64_t checkpoint_interval; /* seconds; 0: EVLOG_DEFAULT_INTERVAL */
	/* Wall clock in microseconds since the epoch; NULL: CLOCK_REALTIME. For tests. */
	int64_t (*clock)(void *arg);
	void *clock_arg;
	const char *boot_id; /* NULL: /proc/sys/kernel/random/boot_id */
	/* Writer state file (last checkpoint remembered, fsync'd); NULL: "<path>.state". */
	const char *state_path;
	bool no_state; /* no state file: every open re-reads the whole log (tests, benches) */
	/*
	 * Seals on for a log with unsealed history: seal it in place instead of rotating (the
	 * tamper fixtures: an intruder re-sealing history with a later key).
	 */
	bool seal_in_place;
};

struct evlog_stats {
	uint64_t records; /* lines in the log, checkpoints included */
	uint64_t durable; /* lines known to be on disk (fdatasync'd) */
	uint64_t checkpoints; /* written by this writer */
	uint64_t syncs;
	uint64_t bytes; /* file size */
	size_t recovered_bytes; /* torn tail dropped at open */
	uint64_t seal_epoch; /* current seal epoch (0 without seals) */
	bool incident; /* the log was not what the state remembered: a new segment started */
	/*
	 * Segments this writer started by evlog_rotate(), evlog_open() included: seals turned
	 * on for a log with an unsealed history put that history in <path>.<records>.
	 */
	uint64_t rotations;
};

struct evlog;

int evlog_open(const struct evlog_opts *opts, struct evlog **logp);
/*
 * Append one record of `type` with the members of `fields` (a JSON object, may be NULL; not
 * consumed; may not use the names seq, time, boot, type, prev). *seq (may be NULL) gets its
 * sequence number. May write a periodic checkpoint after it.
 */
int evlog_append(struct evlog *log, const char *type, const json_t *fields, uint64_t *seq);
/* Make everything appended so far durable (fdatasync). */
int evlog_sync(struct evlog *log);
/* Write a checkpoint now (unless the last line is one) and make it durable. */
int evlog_checkpoint(struct evlog *log);
/*
 * Periodic work that is due (a checkpoint after checkpoint_interval, a new seal epoch).
 * *next_ms (may be NULL) gets the milliseconds until the next call is useful (-1: none).
 */
int evlog_tick(struct evlog *log, int64_t *next_ms);
/*
 * Rotation: checkpoint, rename the log to old_path and go on in a new file at the log's path
 * that starts with a copy of that checkpoint and a `segment` record: `stsctl verify OLD NEW`
 * checks both as one chain, and NEW verifies on its own from that checkpoint on.
 */
int evlog_rotate(struct evlog *log, const char *old_path);
/*
 * The name of an older segment: "<path>.<records before the rotation, 12 digits>", so that
 * the names sort in the log's order (stsctl verify LOG.[0-9]* LOG). *out is malloc'd.
 */
int evlog_segment_name(const char *path, uint64_t records, char **out);
const char *evlog_path(const struct evlog *log);
/* The older segment the last rotation made (NULL: none by this writer). */
const char *evlog_rotated(const struct evlog *log);
/* Final checkpoint, then close and free. Returns the first error met, if any. */
int evlog_close(struct evlog *log);
void evlog_stats(const struct evlog *log, struct evlog_stats *st);
/* The sticky error, 0 if none. */
int evlog_error(const struct evlog *log);

/*
 * Personal values are never logged in clear. evlog_mask_imei: all but the last 4 digits
 * replaced by '*' ("***********2345"); out needs strlen(imei) + 1 bytes.
 */
int evlog_mask_imei(const char *imei, char *out, size_t outsz);
/* Lowercase hex SHA-256 of the exact bytes, as logged for what was sent or blocked. */
int evlog_sha256_hex(const void *buf, size_t len, char out[2 * STS_SHA256_LEN + 1]);

/* The default origin for a log key: "stsguard/evidence/<first 8 bytes of SHA-256(pub), hex>". */
int evlog_default_origin(const struct sts_key *key, char *out, size_t outsz);

#endif /* STS_EVLOG_H */
