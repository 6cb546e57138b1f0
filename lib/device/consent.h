/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The user's two choices that stsd must honour (DESIGN.md G6), each a small JSON file in the
 * state directory, written atomically and fsync'd (sts_write_file_atomic):
 *
 * Consent to send the country, consent.json:
 *	{"granted":true,"country":"FR","changed_at":1718000000}
 *	{"granted":false,"changed_at":1718000000}
 * exactly these members; "country" (an assigned ISO 3166-1 alpha-2 code, upper case) present
 * if and only if granted; changed_at the unix time of the last change. The report carries the
 * country only while consent is granted, and takes it from this record, never from the SIM or
 * the network. A missing file means never asked: not granted. A corrupt file is an error
 * (-EBADMSG), never "granted".
 *
 * Opt-out of the periodic schedule, optout.json:
 *	{"optout":true,"at":1718000000}
 * Once written, the periodic schedule (off by default) stays off whatever the configuration
 * says. There is no opt-in command: "for good" means that. A file that exists but cannot be
 * read or parsed counts as opted out, the safe reading of a user's choice.
 *
 * Functions return 0 or -errno (-EINVAL for a country that is not an assigned code).
 */
#ifndef STS_CONSENT_H
#define STS_CONSENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STS_STATE_DIR_DEFAULT "/var/lib/stsguard"
#define STS_CONSENT_FILE "consent.json"
#define STS_OPTOUT_FILE "optout.json"
#define STS_CONSENT_DEFAULT_PATH STS_STATE_DIR_DEFAULT "/" STS_CONSENT_FILE
/* Largest consent or opt-out file read; anything longer is not one. */
#define STS_CONSENT_MAX 256

struct sts_consent {
	bool granted;
	char country[3]; /* "" unless granted */
	int64_t changed_at; /* unix seconds; 0 when never recorded */
};

/* Missing file: not granted, changed_at 0. */
int sts_consent_load(const char *path, struct sts_consent *c);
/* Record consent for country (validated with sts_country_assigned); a no-op if already so. */
int sts_consent_grant(const char *path, const char *country);
/* Record that consent is withdrawn (also when it was never given: the "no" is on record). */
int sts_consent_revoke(const char *path);
/* Strict parser of a consent record, exposed for the fuzzer; -EBADMSG if malformed. */
int sts_consent_parse(const char *buf, size_t len, struct sts_consent *c);

/* True when the user has opted out of periodic reports (see above for a damaged file). */
bool sts_optout_active(const char *state_dir);
/* Opt out for good; keeps the original time if already opted out. */
int sts_optout_set(const char *state_dir);
/* *active and the time of the opt-out (0 when not opted out); -EBADMSG for a corrupt file. */
int sts_optout_load(const char *state_dir, bool *active, int64_t *at);
/* Strict parser of an opt-out record, exposed for the fuzzer; -EBADMSG if malformed. */
int sts_optout_parse(const char *buf, size_t len, int64_t *at);

#endif /* STS_CONSENT_H */
