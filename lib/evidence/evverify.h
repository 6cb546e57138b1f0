/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The evidence log verifier (`stsctl verify`, and underneath `report` and `prove`). Links
 * only the log format and crypto, never libbpf, so that an auditor can build it anywhere.
 *
 * It checks, line by line: the record parses; seq counts up from 0; prev is the SHA-256 of
 * the previous line; every checkpoint record covers exactly the lines before it, its root is
 * the RFC 9162 Merkle root of those lines, and its signed note verifies under the log key
 * (given by the auditor, else the key the first checkpoint names, which may then not
 * change); and, with the auditor's seal verification key, that every checkpoint is sealed,
 * seal epochs are continuous (each the same as or one after the previous), no checkpoint is
 * sealed with the key of an epoch later than its own time, and each seal's HMAC verifies.
 *
 * The first failure stops verification and names the line (1-based) and why.
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
