/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The product's rules for the payload check (stsd/payload_rules.c): what a report may claim and
 * how often it may leave. police_run() asks them through police_opts.payload_check once a
 * payload has passed the generic checks (its own memory, the documented request shape).
 */
#ifndef STS_PAYLOAD_RULES_H
#define STS_PAYLOAD_RULES_H

#include <stdbool.h>
#include <stddef.h>

#include "police.h"

/* stsd run's rules: the payload_ctx of run_payload_check. */
struct run_rules {
	const char *consent_path; /* the user's consent record; NULL: state-dir/consent.json */
	const char *config_path; /* stsd.conf, the device's sources; NULL: the default */
	/* The device's values, obtained by the monitor on the first payload (device_values). */
	bool loaded;
	int load_err;
	char load_why[400];
	char imei[16], model[65], sw_version[65], host[256];
	char imei_source[300], model_source[300], sw_version_source[300];
	char consent_file[4200];
	bool have_device_key;
	unsigned char device_pub[32];
	char device_key_path[4300];
	/*
	 * Set at start (run_rules_start): the collector-host, the one SNI the egress gate lets
	 * go, and the activation id the monitor gives CMD (STS_AID) and demands in the JWS.
	 */
	char tls_host[256];
	char aid[32]; /* STS_AID_LEN + 1; empty: none could be kept */
	char aid_file[4200];
	char aid_why[300]; /* why there is none */
};

/*
 * What `stsd run` needs before CMD starts, from stsd.conf (--config or the default): the
 * collector-host, and the activation id of the device's `stsd run` reports, generated once and
 * kept in stsd.conf's state-dir (run.aid: the monitor's directory, not the policed code's), so
 * that a retry carries the same one and the policed code chooses none of its 16 bytes. No
 * configuration: neither (no SNI may leave, no report passes the payload check).
 */
void run_rules_start(struct run_rules *r);

/*
 * stsd run's payload_check (ctx: struct run_rules): the request is, byte for byte, the one the
 * agent's request builder makes for the device's collector-host; its JWS is in the one spelling
 * sts_jws_sign() writes; each claim equals the device's value as the monitor obtains it (IMEI
 * through the broker, model and sw_version from stsd.conf or the device, a country only with
 * the user's consent record, G6); the signature verifies with the device key or a report-key
 * of the policy; and one report per run (G3). What was compared goes to p->detail.
 */
int run_payload_check(void *ctx, const struct police_payload *p, char *why, size_t whylen);

/* The report is sent once (G3): refuses any payload after an approved one. */
int payload_rule_once(const struct police_payload *p, char *why, size_t whylen);

#endif
