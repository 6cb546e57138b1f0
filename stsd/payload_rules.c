// SPDX-License-Identifier: GPL-2.0-only
/*
 * The product's rules for the payload check. The policing loop (stsd/police.c) knows only what
 * holds for any payload; what an activation report may say, and that it leaves once, is
 * decided here for `stsd run`, and in stsd/monitor.c (same_report) for the daemon.
 *
 * Approval is value-exact (docs/policy.md, "What the payload check compares"): a schema-valid
 * report is not enough, since a model of 64 free bytes or a signature of 64 chosen bytes would
 * carry whatever the sender likes. Every byte of the request is either the device's value, as
 * the monitor obtains it itself, or fixed by the documented format; the rest (the activation id
 * and, with a vendor key, the signature's nonce) is the measured residual in docs/policy.md.
 */
#include "payload_rules.h"
#include "core/crypto.h"
#include "core/util.h"
#include "device/config.h"
#include "device/consent.h"
#include "device/identity.h"
#include "device/imei.h"
#include "device/policy.h"
#include "evidence/evlog.h"
#include "wire/jws.h"
#include "wire/report.h"
#include "wire/request.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
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
 * The device's values, as the monitor itself obtains them: stsd.conf names the sources (IMEI
 * through the broker, model, sw-version, the collector-host, the state dir with the device
 * key and the consent record). Read once per run, on the first payload: the report leaves once.
 */
static void device_values(struct run_rules *r)
{
	const char *path = r->config_path ? r->config_path : STS_CONFIG_DEFAULT_PATH;
	struct sts_config *cfg;
	char why[300], pub[4300];
	struct sts_key key;
	int err;

	r->loaded = true;
	cfg = calloc(1, sizeof(*cfg));
	if (!cfg) {
		r->load_err = -ENOMEM;
		snprintf(r->load_why, sizeof(r->load_why), "%s", strerror(ENOMEM));
		return;
	}
	err = sts_config_load(path, cfg, why, sizeof(why));
	if (err) {
		snprintf(r->load_why, sizeof(r->load_why),
			 "no device configuration to compare the claims with (%s); stsd run "
			 "--config names stsd.conf",
			 why);
		goto cleanup;
	}
	err = sts_imei_read(cfg->imei_source, 5000, r->imei, why, sizeof(why));
	if (err) {
		snprintf(r->load_why, sizeof(r->load_why), "no IMEI from %.80s: %.250s",
			 cfg->imei_source, why);
		goto cleanup;
	}
	snprintf(r->imei_source, sizeof(r->imei_source), "imei-source %.280s", cfg->imei_source);
	err = sts_device_model(cfg->model, r->model, sizeof(r->model), why, sizeof(why));
	if (!err)
		err = sts_device_sw_version(cfg->sw_version, r->sw_version, sizeof(r->sw_version),
					    why, sizeof(why));
	if (err) {
		snprintf(r->load_why, sizeof(r->load_why), "%s", why);
		goto cleanup;
	}
	snprintf(r->model_source, sizeof(r->model_source), "%s",
		 cfg->model[0] ? "stsd.conf model" : "the device (device tree or DMI)");
	snprintf(r->sw_version_source, sizeof(r->sw_version_source), "%s",
		 cfg->sw_version[0] ? "stsd.conf sw-version" : "/etc/os-release");
	snprintf(r->host, sizeof(r->host), "%s", cfg->collector_host);
	snprintf(r->consent_file, sizeof(r->consent_file), "%s/%s", cfg->state_dir,
		 STS_CONSENT_FILE);
	/* The device key is optional here: a policy may name vendor keys instead. */
	snprintf(pub, sizeof(pub), "%s/device.key.pub", cfg->state_dir);
	if (sts_key_load_public(pub, &key) == 0) {
		memcpy(r->device_pub, key.pub, sizeof(r->device_pub));
		snprintf(r->device_key_path, sizeof(r->device_key_path), "%.4100s", pub);
		r->have_device_key = true;
		sts_key_free(&key);
	}
cleanup:
	if (err)
		r->load_err = err;
	sts_wipe(cfg, sizeof(*cfg));
	free(cfg);
}

void run_rules_start(struct run_rules *r)
{
	const char *path = r->config_path ? r->config_path : STS_CONFIG_DEFAULT_PATH;
	struct sts_config *cfg = calloc(1, sizeof(*cfg));
	char why[300], *text = NULL;
	size_t len;
	int err;

	if (!cfg)
		return;
	if (sts_config_load(path, cfg, why, sizeof(why))) {
		snprintf(r->aid_why, sizeof(r->aid_why), "no device configuration (%.250s)", why);
		goto cleanup;
	}
	snprintf(r->tls_host, sizeof(r->tls_host), "%s", cfg->collector_host);
	snprintf(r->aid_file, sizeof(r->aid_file), "%.4000s/run.aid", cfg->state_dir);
	err = sts_read_file(r->aid_file, 64, &text, &len);
	if (!err && len >= STS_AID_LEN && sts_id_valid(text, STS_AID_LEN) &&
	    (len == STS_AID_LEN || (len == STS_AID_LEN + 1 && text[STS_AID_LEN] == '\n'))) {
		memcpy(r->aid, text, STS_AID_LEN);
		r->aid[STS_AID_LEN] = '\0';
		goto cleanup;
	}
	if (err != -ENOENT) {
		/* Kept but not an activation id: not replaced, a retry would change it. */
		snprintf(r->aid_why, sizeof(r->aid_why), "%.250s: %s", r->aid_file,
			 err ? sts_file_strerror(err) : "not an activation id");
		goto cleanup;
	}
	err = sts_aid_new(r->aid);
	if (!err) {
		r->aid[STS_AID_LEN] = '\n';
		err = sts_write_file_atomic(r->aid_file, r->aid, STS_AID_LEN + 1, 0600);
		r->aid[STS_AID_LEN] = '\0';
	}
	if (err) {
		snprintf(r->aid_why, sizeof(r->aid_why), "cannot keep %.250s: %s", r->aid_file,
			 strerror(-err));
		r->aid[0] = '\0';
	}
cleanup:
	free(text);
	sts_wipe(cfg, sizeof(*cfg));
	free(cfg);
}

/* One claim compared with the device's value, for the refusal and for the evidence. */
static int compare_claim(json_t *cmp, const char *claim, const char *sent, const char *want,
			 const char *source, char *why, size_t wl)
{
	if (strcmp(sent, want) != 0) {
		/* The refusal names the claim and the source, never the sent bytes themselves. */
		snprintf(why, wl, "claim \"%s\" is not the device's value from %s", claim, source);
		return -EPERM;
	}
	json_array_append_new(cmp, json_pack("{s:s, s:s}", "claim", claim, "source", source));
	return 0;
}

/* The signature verifies with a trusted key: the device key or a report-key of the policy. */
static int verify_signature(const struct run_rules *r, const struct sts_policy *pol,
			    const struct sts_jws *jws, json_t *detail, char *why, size_t wl)
{
	const uint8_t *pubs[1 + STS_MAX_REPORT_KEYS];
	const char *names[1 + STS_MAX_REPORT_KEYS];
	char kid[STS_KID_LEN + 1];
	size_t n = 0, i;

	if (r->have_device_key) {
		pubs[n] = r->device_pub;
		names[n++] = r->device_key_path;
	}
	for (i = 0; pol && i < pol->n_report_keys; i++) {
		pubs[n] = pol->report_keys[i];
		names[n++] = pol->report_key_paths[i];
	}
	for (i = 0; i < n; i++) {
		struct sts_key key;
		bool ok;

		if (sts_kid(pubs[i], kid) || strcmp(kid, jws->kid) != 0)
			continue;
		if (sts_key_from_raw_public(pubs[i], &key))
			break;
		ok = sts_jws_verify(jws, &key);
		sts_key_free(&key);
		if (!ok) {
			snprintf(why, wl,
				 "the JWS signature does not verify with the key %s (kid %s)",
				 names[i], kid);
			return -EPERM;
		}
		json_object_set_new(detail, "key",
				    json_pack("{s:s, s:s}", "kid", kid, "file", names[i]));
		return 0;
	}
	snprintf(why, wl,
		 "signed with key id %s, which is neither the device key nor a report-key of the "
		 "policy",
		 jws->kid);
	return -EPERM;
}

/*
 * The whole plaintext is the request the agent's builder makes for the device's collector:
 * the Host header, every other header and the body, byte for byte.
 */
static int request_exact(const struct run_rules *r, const struct police_payload *p,
			 const char *body, size_t body_len, char *why, size_t wl)
{
	char *want = NULL;
	size_t want_len;
	bool same;

	if (sts_request_build(r->host, body, body_len, &want, &want_len)) {
		snprintf(why, wl, "cannot build the device's request for %s", r->host);
		return -EPERM;
	}
	same = want_len == p->len && memcmp(want, p->buf, want_len) == 0;
	free(want);
	if (!same) {
		snprintf(why, wl,
			 "the request head is not the one the agent builds: \"Host\" must be the "
			 "device's collector-host %s, and no other byte may differ",
			 r->host);
		return -EPERM;
	}
	return 0;
}

static int report_exact(struct run_rules *r, const struct police_payload *p, char *why, size_t wl)
{
	const char *body = memmem(p->buf, p->len, "\r\n\r\n", 4);
	char masked[32], *canon = NULL;
	struct sts_consent consent;
	struct sts_report rep;
	struct sts_jws jws;
	size_t body_len, canon_len;
	json_t *detail, *cmp;
	bool same;
	int err;

	if (!r->loaded)
		device_values(r);
	if (r->load_err) {
		snprintf(why, wl, "%s", r->load_why);
		return r->load_err;
	}
	if (!body)
		return -EBADMSG;
	body += 4;
	body_len = p->buf + p->len - body;
	err = request_exact(r, p, body, body_len, why, wl);
	if (err)
		return err;
	if (sts_jws_parse(body, body_len, &jws, why, wl))
		return -EBADMSG;
	detail = json_object();
	cmp = json_array();
	json_object_set_new(detail, "compared", cmp);
	err = -EPERM;
	if (!sts_jws_is_canonical(&jws, body, body_len)) {
		snprintf(why, wl,
			 "the JWS is not in its one spelling: header members other than alg, kid, "
			 "aid, jwk in that order, blanks, or base64url padding bits set");
		goto cleanup;
	}
	/* The activation id is the monitor's: 16 bytes the policed code does not choose. */
	if (!r->aid[0]) {
		snprintf(why, wl, "no activation id to give: %s", r->aid_why);
		goto cleanup;
	}
	if (strcmp(jws.aid, r->aid) != 0) {
		snprintf(why, wl,
			 "header \"aid\" is not the activation id stsd gave in STS_AID (kept in "
			 "%.250s)",
			 r->aid_file);
		goto cleanup;
	}
	json_object_set_new(detail, "aid",
			    json_pack("{s:s, s:s}", "value", r->aid, "file", r->aid_file));
	if (sts_report_parse(jws.payload, jws.payload_len, &rep, why, wl))
		goto cleanup;
	same = sts_report_serialize(&rep, &canon, &canon_len, why, wl) == 0 &&
	       canon_len == jws.payload_len && memcmp(canon, jws.payload, canon_len) == 0;
	free(canon);
	if (!same) {
		snprintf(
			why, wl,
			"the claims are not in their one spelling (member order, escapes, blanks)");
		goto cleanup;
	}
	if (compare_claim(cmp, "imei", rep.imei, r->imei, r->imei_source, why, wl) ||
	    compare_claim(cmp, "model", rep.model, r->model, r->model_source, why, wl) ||
	    compare_claim(cmp, "sw_version", rep.sw_version, r->sw_version, r->sw_version_source,
			  why, wl))
		goto cleanup;
	if (rep.country[0]) {
		const char *path = r->consent_path ? r->consent_path : r->consent_file;

		err = sts_consent_load(path, &consent);
		if (err) {
			snprintf(why, wl,
				 "consent record %s unreadable (%s): the country is not sent", path,
				 strerror(-err));
			goto cleanup;
		}
		err = -EPERM;
		if (!consent.granted || strcmp(consent.country, rep.country) != 0) {
			snprintf(why, wl, "claim \"country\" without the user's consent (%s: %s)",
				 path, consent.granted ? "another country" : "not granted");
			goto cleanup;
		}
		json_array_append_new(cmp,
				      json_pack("{s:s, s:s}", "claim", "country", "source", path));
	}
	if (verify_signature(r, p->pol, &jws, detail, why, wl))
		goto cleanup;
	evlog_mask_imei(r->imei, masked, sizeof(masked));
	json_object_set_new(detail, "imei", json_string(masked));
	json_object_set_new(detail, "host", json_string(r->host));
	err = 0;
cleanup:
	sts_jws_free(&jws);
	if (!err && p->detail)
		*p->detail = detail;
	else
		json_decref(detail);
	return err;
}

int run_payload_check(void *ctx, const struct police_payload *p, char *why, size_t wl)
{
	struct run_rules *rules = ctx;
	int err;

	err = report_exact(rules, p, why, wl);
	if (err)
		return err;
	return payload_rule_once(p, why, wl);
}
