/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The extension lines of a v2 checkpoint note (format 2 of the evidence log). A v1
 * checkpoint record carried its time, boot, log key and seal outside the signed note, so
 * editing them went unnoticed; v2 puts every one of them inside the note body, after the
 * tlog-checkpoint root line, so the log key's signature covers them and the record's JSON
 * fields must repeat them exactly:
 *
 *	stsguard/evidence-v2
 *	time 2026-01-01T00:01:00.123456Z
 *	boot 6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b
 *	log_key <base64 Ed25519 public key>
 *	seal <epoch> <open|close> <hex previous mac, 64 zeros first> <hex mac>     (when sealed)
 *
 * The seal's MAC is HMAC-SHA256(k_epoch, "sts-seal-v2\n" || the note body from its first
 * byte up to the space before the MAC): it covers origin, size, root, time, boot, log key,
 * epoch, whether it closes the epoch and the previous MAC. A "close" seal is the last one of
 * its epoch: the writer seals it with k_epoch before evolving the key, and the next seal must
 * be of the next epoch (and a seal of the next epoch may only follow a close).
 */
#ifndef STS_CPEXT_H
#define STS_CPEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/crypto.h"
#include "evidence/evline.h"
#include "evidence/seal.h"

#define CPEXT_TAG "stsguard/evidence-v2"
#define CPEXT_SEAL_TAG "sts-seal-v2\n"
#define CPEXT_MAX 512

struct cpext {
	char time[EVLINE_TIME_LEN + 1];
	char boot[65];
	char log_key[64]; /* base64 */
	bool sealed;
	uint64_t epoch;
	bool close;
	uint8_t prev_mac[STS_SHA256_LEN];
	uint8_t mac[STS_SHA256_LEN];
	size_t mac_cover; /* parse: bytes of the note the MAC covers, from its start */
};

/* Is this boot id one a v2 note can carry (printable ASCII, no space, 1 to 64 bytes)? */
bool cpext_valid_boot(const char *boot);
/*
 * Format the extension lines into out (CPEXT_MAX bytes); with a seal, without its MAC (and
 * its newline) when with_mac is false: the text the MAC is computed over ends there.
 */
int cpext_format(const struct cpext *e, bool with_mac, char out[CPEXT_MAX]);
/* Parse the extension lines of a note (ext_off/ext_len of struct checkpoint). -EBADMSG. */
int cpext_parse(const char *note, size_t ext_off, size_t ext_len, struct cpext *e);
/* HMAC-SHA256(key, CPEXT_SEAL_TAG || text[0..len)). */
int cpext_mac(const uint8_t key[SEAL_KEY_LEN], const char *text, size_t len,
	      uint8_t mac[STS_SHA256_LEN]);

#endif /* STS_CPEXT_H */
