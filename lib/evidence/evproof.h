/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Proofs a third party checks with only the log's public key.
 *
 * Inclusion: the C2SP tlog-proof text format,
 *
 *	c2sp.org/tlog-proof@v1
 *	extra <base64 of the record line, without its newline>
 *	index <seq>
 *	<base64 hash>...                (RFC 9162 inclusion path, leaf upwards)
 *	<blank line>
 *	<checkpoint signed note>
 *
 * Consistency (between two checkpoints of the same log; our own format in the same style):
 *
 *	stsguard/tlog-consistency@v1
 *	old <base64 of the older checkpoint note>
 *	new <base64 of the newer checkpoint note>
 *	<base64 hash>...                (RFC 9162 consistency proof)
 *
 * Parsers are strict (one encoding per proof) and bounded. Functions return 0 or -errno,
 * -EBADMSG for a malformed proof; the verifiers return -ENOKEY / -EKEYREJECTED for a
 * signature that is absent / wrong and -EPROTO when the hashes do not lead to the root.
 */
#ifndef STS_EVPROOF_H
#define STS_EVPROOF_H

#include <stddef.h>
#include <stdint.h>

#include "core/crypto.h"
#include "evidence/merkle.h"
#include "evidence/note.h"

#define EVPROOF_INCLUSION_HEADER "c2sp.org/tlog-proof@v1"
#define EVPROOF_CONSISTENCY_HEADER "stsguard/tlog-consistency@v1"
#define EVPROOF_MAX_LEN (256 * 1024)

struct evproof {
	bool consistency;
	uint64_t index; /* inclusion */
	char *extra; /* inclusion: the record line (may be NULL) */
	size_t extra_len;
	char *note; /* inclusion: the checkpoint; consistency: the newer one */
	size_t note_len;
	char *old_note; /* consistency: the older checkpoint */
	size_t old_note_len;
	size_t nhashes;
	merkle_hash hashes[MERKLE_MAX_PROOF];
};

int evproof_format(const struct evproof *p, char **out);
int evproof_parse(const char *text, size_t len, struct evproof *p);
void evproof_free(struct evproof *p);

/*
 * Inclusion: record (NULL: the proof's extra) is entry p->index of the tree the signed
 * checkpoint commits to. Consistency: the older checkpoint's tree is a prefix of the newer's.
 * cp (may be NULL) gets the (newer) checkpoint.
 */
int evproof_verify(const struct evproof *p, const char *record, size_t record_len,
		   const struct sts_key *key, struct checkpoint *cp);

#endif /* STS_EVPROOF_H */
