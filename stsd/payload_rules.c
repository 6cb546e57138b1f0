// SPDX-License-Identifier: GPL-2.0-only
/*
 * The product's rules for the payload check. The policing loop (stsd/police.c) knows only what
 * holds for any payload; what an activation report may say, and that it leaves once, is
 * decided here for `stsd run`, and in stsd/monitor.c (same_report) for the daemon.
 */
#include "payload_rules.h"
#include "device/consent.h"
#include "wire/jws.h"
#include "wire/report.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int payload_rule_once(const struct police_payload *p, char *why, size_t wl)
{
	/* A second copy, even of the very same report, is a second send. */
	if (p->approved) {
		snprintf(why, wl, "a second report in one run: the activation report is sent once");
		return -EPERM;
	}
	return 0;
}

/*
 * The country claim is the user's to give (G6): a request that carries one passes only if the
 * consent record grants that very country. The request passed sts_request_check(), so the
 * parse cannot fail on well-formed input; if it does, the request is refused.
 */
static int country_consented(const char *consent_path, const struct police_payload *p, char *why,
			     size_t wl)
{
	const char *body = memmem(p->buf, p->len, "\r\n\r\n", 4);
	const char *path = consent_path ? consent_path : STS_CONSENT_DEFAULT_PATH;
	struct sts_consent consent;
	struct sts_report rep;
	struct sts_jws jws;
	int err;

	if (!body || sts_jws_parse(body + 4, p->buf + p->len - body - 4, &jws, why, wl))
		return -EBADMSG;
	err = sts_report_parse(jws.payload, jws.payload_len, &rep, why, wl);
	sts_jws_free(&jws);
	if (err)
		return err;
	if (!rep.country[0])
		return 0;
	err = sts_consent_load(path, &consent);
	if (err) {
		snprintf(why, wl, "consent record %s unreadable (%s): the country is not sent",
			 path, strerror(-err));
		return err;
	}
	if (!consent.granted || strcmp(consent.country, rep.country) != 0) {
		snprintf(why, wl, "claim \"country\" without the user's consent (%s: %s)", path,
			 consent.granted ? "another country" : "not granted");
		return -EPERM;
	}
	return 0;
}

int run_payload_check(void *ctx, const struct police_payload *p, char *why, size_t wl)
{
	const struct run_rules *rules = ctx;
	int err;

	err = country_consented(rules->consent_path, p, why, wl);
	if (err)
		return err;
	return payload_rule_once(p, why, wl);
}
