/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Checkpoints in the C2SP tlog-checkpoint format, as Ed25519 signed notes (C2SP signed-note):
 *
 *	<origin>\n<tree size>\n<base64 root hash>\n
 *	\n
 *	— <key name> <base64(key id || signature)>\n
 *
 * The signature covers the body (the first three lines, final newline included). The key id
 * is the first 4 bytes of SHA-256(name || 0x0A || 0x01 || public key), 0x01 naming Ed25519;
 * it is checked before any signature math. Parsing is strict: one encoding per checkpoint.
 *
 * Functions return 0 or -errno: -EBADMSG for a malformed note, -ENOKEY when no signature
 * line carries the key id of the given key, -EKEYREJECTED when that signature is wrong.
 */
#ifndef STS_NOTE_H
#define STS_NOTE_H

#include <stddef.h>
#include <stdint.h>

#include "core/crypto.h"
#include "evidence/merkle.h"

#define NOTE_MAX_NAME 128
#define NOTE_MAX_LEN 8192
#define NOTE_MAX_SIGS 16

struct checkpoint {
	char origin[NOTE_MAX_NAME + 1];
	uint64_t size;
	merkle_hash root;
	/*
	 * Extension lines (tlog-checkpoint allows opaque lines after the root; the v2 log puts
	 * the record's time, boot, key and seal there, so the signature covers them): offset and
	 * length in the parsed text, every newline included; 0, 0 when there are none.
	 */
	size_t ext_off, ext_len;
};

int note_key_id(const char *name, const uint8_t pub[STS_ED25519_PUB_LEN], uint8_t id[4]);

/* Format cp and sign it under key_name; *note is a heap string. */
int checkpoint_sign(const struct checkpoint *cp, const char *key_name, const struct sts_key *key,
		    char **note);
/* The same with extension lines ext (each ending in a newline, none empty; NULL: none). */
int checkpoint_sign_ext(const struct checkpoint *cp, const char *ext, const char *key_name,
			const struct sts_key *key, char **note);

/*
 * Parse a signed checkpoint without checking signatures; *body_len (may be NULL) gets the
 * length of the signed body.
 */
int checkpoint_parse(const char *text, size_t len, struct checkpoint *cp, size_t *body_len);

/*
 * Parse and check that a signature line by key (under any key name, named by the line) is
 * valid. *signer, when not NULL, gets the key name of that line (NOTE_MAX_NAME + 1 bytes).
 */
int checkpoint_verify(const char *text, size_t len, const struct sts_key *key,
		      struct checkpoint *cp, char *signer);

/*
 * C2SP tlog-cosignature, Ed25519 (cosignature/v1): a second party (a witness, the auditor's
 * office) signs "cosignature/v1\ntime <T>\n" || the note body with its own key, stating it saw
 * this tree head at time T. The line is "— <name> base64(key id || T, 8 bytes big-endian ||
 * signature)", key id = SHA-256(name || 0x0A || 0x04 || public key)[:4].
 *
 * note_cosign appends one to the note (*out: heap string); note_cosig_verify checks the one
 * by (name, key): 0 and *time (may be NULL), -ENOKEY when there is none, -EKEYREJECTED.
 */
int note_cosign(const char *text, size_t len, const char *name, const struct sts_key *key,
		uint64_t time, char **out);
int note_cosig_verify(const char *text, size_t len, const char *name, const struct sts_key *key,
		      uint64_t *time);

#endif /* STS_NOTE_H */
