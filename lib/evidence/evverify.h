/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The evidence log verifier (`stsctl verify`, and underneath `report` and `prove`). Links
 * only the log format and crypto, never libbpf, so that an auditor can build it anywhere.
 *
 * It checks, line by line: the record parses; seq counts up by one; prev chains the lines (v1:
 * the SHA-256 of the previous line; v2: its Merkle leaf hash, so that each line is hashed
 * once; a v1 log may go on in v2, never the other way); every checkpoint covers exactly the
 * lines before it, its root is the RFC 9162 Merkle root of those lines, and its signed note
 * verifies under the log key (given by the auditor, and then the key each checkpoint names
 * must be it; else the key the first checkpoint names, which may then not change). A v2
 * checkpoint also carries its time, boot, key and seal inside the signed note (cpext.h), and
 * its JSON fields must repeat them, no other field allowed; v2 record times never go back.
 *
 * With the auditor's seal verification key, every checkpoint must be sealed, each seal's MAC
 * must verify and chain the previous one, and no checkpoint may be sealed with the key of an
 * epoch later than its own time. v2 epochs must hold: the first seal is of the epoch of the
 * first record, a seal of epoch n+1 follows only the seal that closed epoch n, nothing of
 * epoch n follows that close, and no epoch is skipped. (v1 logs had no closing seals: their
 * epochs only had to be continuous; see docs/evidence.md for what that left open.)
 *
 * A log segment (a file that rotation or an incident started, stsd/evidence.c) begins with
 * a copy of the previous segment's last checkpoint and a `segment` record holding the
 * Merkle compact range of the lines before it; verification starts from that checkpoint.
 *
 * The first failure stops verification and names the line (1-based) and why, whatever the
 * threads. Windows of lines are split, parsed, hashed and checked within themselves on every
 * core (opts->threads); only what links a window to the ones before it is checked in order.
 */
#ifndef STS_EVVERIFY_H
#define STS_EVVERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/crypto.h"
#include "evidence/evline.h"
#include "evidence/merkle.h"
#include "evidence/note.h"
#include "evidence/seal.h"

struct evv_opts {
	const struct sts_key *log_key; /* NULL: trust the key in the log (summary says so) */
	const struct seal_state *seal_key; /* auditor's verification key; NULL: seals unchecked */
	/*
	 * Called for each line once it has passed its checks, in order; a non-zero return
	 * stops verification with that value.
	 */
	int (*on_record)(void *arg, const struct evline *rec, const char *line, size_t len);
	void *arg;
	/*
	 * rec->obj for every record handed to on_record; otherwise only checkpoints have it
	 * (the others are checked by evline_scan(), which is several times faster).
	 */
	bool want_obj;
	bool keep_leaves; /* fill res->leaves (for proofs) */
	/*
	 * A checkpoint the auditor kept (stsctl checkpoint): the log must contain its tree as
	 * a prefix (same origin, its size reached, the same root there). NULL: none.
	 */
	const struct checkpoint *since;
	/* 0: one per online CPU (one for a log under 256 KiB); 1: no threads */
	unsigned int threads;
};

struct evv_result {
	uint64_t records; /* lines that passed */
	uint64_t checkpoints;
	uint64_t tail; /* records after the last checkpoint: in the chain, not yet signed */
	uint64_t bad_line; /* first bad line, 1-based; 0 when none */
	char why[256];
	bool key_from_log; /* signatures checked against the log's own key */
	uint8_t key_id[4]; /* note key id of the last checkpoint signature checked */
	char origin[NOTE_MAX_NAME + 1];
	char signer[NOTE_MAX_NAME + 1];
	uint64_t seals;
	uint64_t first_epoch, last_epoch;
	bool seals_checked;
	merkle_hash *leaves; /* keep_leaves: leaf hash of every line that passed */
	uint64_t first_seq; /* seq of the first line: > 0 for a segment */
	bool segment; /* the file is a segment that starts with a copied checkpoint */
	int version; /* 1 or 2: the format of the last line (0: none) */
	uint64_t v2_from; /* seq of the first v2 line, when a v1 log went on in v2 */
	uint64_t closes; /* seals that closed their epoch */
	size_t last_cp_off, last_cp_len; /* the last checkpoint line in the buffer */
	bool since_checked; /* opts->since was found as a prefix */
	uint64_t windows_ahead; /* windows of lines whose subtree the helpers hashed (tests) */
};

/*
 * Returns 0 when the whole buffer verifies, -EBADMSG when a line does not (res->bad_line and
 * res->why say which and why), another -errno on failure to verify at all (memory).
 */
int evv_verify(const char *buf, size_t len, const struct evv_opts *opts, struct evv_result *res);
void evv_result_free(struct evv_result *res);

/* Map a whole file read-only (an empty file gives len 0 and *buf NULL). */
int evv_map(const char *path, const char **buf, size_t *len);
void evv_unmap(const char *buf, size_t len);

#endif /* STS_EVVERIFY_H */
