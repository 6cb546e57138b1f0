/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Forward-secure seals (in the spirit of journald's FSS, simpler): time is cut into epochs of
 * `length` seconds from `start`; epoch i has the HMAC-SHA256 key
 *
 *	k_0 random,  k_{i+1} = SHA-256("sts-seal-evolve" || k_i)
 *
 * The device keeps only the key of the current epoch (state file, rewritten atomically; the
 * older key is wiped from memory and replaced on disk), so whoever takes the device later
 * cannot seal anything as if it had been written in an earlier epoch. The auditor keeps k_0,
 * start and length (the verification key, printed once by `stsctl seal-init`) and can derive
 * every key.
 *
 * A seal is HMAC(k_epoch, "sts-seal-v1\n" || epoch || "\n" || hex(previous seal) || "\n" ||
 * record time || "\n" || checkpoint note); chaining the previous seal makes dropping one
 * detectable. Functions return 0 or -errno.
 */
#ifndef STS_SEAL_H
#define STS_SEAL_H

#include <stddef.h>
#include <stdint.h>

#include "core/crypto.h"

#define SEAL_KEY_LEN 32
#define SEAL_MIN_LENGTH 60
#define SEAL_DEFAULT_LENGTH 86400
/* "sts-seal-v1:" 64 hex ":" start ":" length */
#define SEAL_VKEY_MAX 128

struct seal_state {
	int64_t start; /* unix seconds at which epoch 0 begins */
	uint64_t length; /* seconds per epoch */
	uint64_t epoch; /* epoch of key */
	uint8_t key[SEAL_KEY_LEN];
};

/* Epoch that contains unix time t (0 before start). */
uint64_t seal_epoch_of(const struct seal_state *st, int64_t t);
/* One step of the one-way key evolution, in place. */
int seal_evolve(uint8_t key[SEAL_KEY_LEN]);
/* Evolve st forward to epoch (>= st->epoch); the old key is wiped. */
int seal_advance(struct seal_state *st, uint64_t epoch);

/*
 * Create a new state file (O_EXCL, 0600, fsync'd) with a random k_0 (or key0 when not NULL,
 * for reproducible test fixtures) and write the verification key into vkey.
 */
int seal_state_create(const char *path, int64_t start, uint64_t length, const uint8_t *key0,
		      char vkey[SEAL_VKEY_MAX]);
int seal_state_load(const char *path, struct seal_state *st);
/* Replace the state file atomically with st (the older key is gone from disk after return). */
int seal_state_store(const char *path, const struct seal_state *st);
void seal_state_wipe(struct seal_state *st);

/* Verification key: parse (the string, not a file name) and format. */
int seal_vkey_parse(const char *s, size_t len, struct seal_state *vk);
int seal_vkey_format(const struct seal_state *vk, char out[SEAL_VKEY_MAX]);

/* prev is NULL for the first seal of a log. */
int seal_mac(const uint8_t key[SEAL_KEY_LEN], uint64_t epoch, const uint8_t *prev, const char *time,
	     const char *note, size_t note_len, uint8_t mac[STS_SHA256_LEN]);

#endif /* STS_SEAL_H */
