// SPDX-License-Identifier: GPL-2.0-only
/*
 * stsd daemon: the monitor. It holds the device key, brokers the IMEI, validates and signs the
 * one approved report, runs the agent in the policed cgroup (stsd/police.c) and answers it over
 * the privsep channel (lib/device/privsep.h), verifies the collector's receipt, and keeps the
 * schedule: once, at first activation; retried with exponential backoff and jitter until a
 * verified receipt; never again after it (unless the periodic switch is on and the user did not
 * opt out). Every decision goes to the evidence log; nothing is sent before its approval is
 * durable there.
 *
 * cmd_daemon() reads as its steps: parse_options, daemon_open (configuration, policy, keys,
 * evidence log, signals), then the schedule, round after round: schedule_next decides (an
 * attempt is due, sleep, or done); attempt() runs one (run_attempt: the agent and the privsep
 * conversation, on_readable) and records its outcome (record_activation or record_retry);
 * daemon_close releases and gives the exit status.
 */
#include "evidence.h"
#include "payload_rules.h"
#include "police.h"
#include "llaudit.h"
#include "stsd.h"
#include "core/access.h"
#include "core/cli.h"
#include "device/config.h"
#include "device/consent.h"
#include "core/crypto.h"
#include "device/identity.h"
#include "device/imei.h"
#include "wire/jws.h"
#include "device/policy.h"
#include "device/activation.h"
#include "device/privsep.h"
#include "wire/receipt.h"
#include "wire/report.h"
#include "wire/request.h"
#include "core/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define ATTEMPT_TIMEOUT_S 120

/* One attempt: the conversation with the agent. */
struct attempt {
	const struct sts_config *cfg;
	struct evidence *ev;
	const struct sts_key *device_key;
	const struct sts_key *collector_key;
	const struct sts_activation *st;
	struct ps_config pc;
	int fd;
	uint32_t expect; /* the next request the agent may send */
	char imei[16], country[3];
	char *jws;
	size_t jws_len;
	char jws_sha[65];
	bool ok;
	char error[600];
	char receipt_sha[65];
};

/* clang-format off */
static const char usage[] =
	"usage: stsd daemon [--config FILE] [--once] [--observe] [--notify] [-q]\n"
	"\n"
	"The stsguard monitor. On first activation it sends the approved report once: it\n"
	"reads the IMEI (imei-source), adds the country only while consent is granted\n"
	"(stsctl consent), signs the report with the device key (created on first start,\n"
	"state-dir/device.key, 0600), and has the unprivileged agent send it over TLS 1.3\n"
	"from inside the policed cgroup. Once the collector's receipt is verified, nothing\n"
	"is ever sent again. Until then it retries with exponential backoff and jitter; the\n"
	"schedule survives restarts. Every decision goes to the evidence log.\n"
	"\n"
	"options:\n"
	"  --config FILE  configuration (default " STS_CONFIG_DEFAULT_PATH "; see docs/agent.md)\n"
	"  --once         one attempt (or none, if it is not due), then exit\n"
	"  --observe      run the agent even without BPF LSM, files and exec only observed\n"
	"  --notify       tell systemd when ready (Type=notify; NOTIFY_SOCKET)\n"
	"  -q, --quiet    only errors on stderr\n";

static const struct cli_exit exits[] = {
	{ STS_EXIT_OK,       "activated (now or before: nothing to send)" },
	{ STS_EXIT_USAGE,    "usage or configuration error: nothing was sent" },
	{ STS_EXIT_ENFORCE,  "enforcement or the evidence log could not be established: "
			     "nothing was sent" },
	{ STS_EXIT_TEMPFAIL, "with --once: the attempt failed, or the next one is not due yet; "
			     "a retry is scheduled" },
};
/* clang-format on */

/* What stsd daemon holds from start to exit: daemon_open() to daemon_close(). */
struct daemon {
	const char *config_path;
	bool once, observe, notify, quiet;
	struct sts_config cfg;
	struct sts_policy pol;
	bool have_pol;
	struct sts_key device_key, collector_key;
	struct evidence *ev;
	int sfd; /* SIGTERM and SIGINT, read while the daemon sleeps (signal_fd) */
	/*
	 * The exit status should the daemon stop now: STS_EXIT_ENFORCE until the activation is
	 * known to be complete, STS_EXIT_OK from then on (a periodic resend that later cannot go
	 * on does not undo it). A step that stops the daemon for another reason sets its own:
	 * --help, a usage or configuration error, a retry scheduled with --once.
	 */
	int status;
};

/* What the daemon does next, as the schedule decides it. */
enum next {
	NEXT_ATTEMPT, /* an attempt is due now */
	NEXT_SLEEP, /* nothing is due for wait_s seconds: sleep, unless a signal ends the daemon */
	NEXT_ROUND, /* decide again at once: the state has just changed */
	NEXT_EXIT, /* done, or cannot go on: exit with d->status */
};

static int64_t now_s(void)
{
	return (int64_t)time(NULL);
}

static void state_path(const struct sts_config *cfg, char *buf, size_t len)
{
	snprintf(buf, len, "%s/activation.json", cfg->state_dir);
}

static int state_load(const struct sts_config *cfg, struct sts_activation *st, char *why, size_t wl)
{
	char path[4200], *buf = NULL, reason[200];
	size_t len;
	int err;

	memset(st, 0, sizeof(*st));
	state_path(cfg, path, sizeof(path));
	err = sts_read_file(path, 64 * 1024, &buf, &len);
	if (err == -ENOENT)
		return 0;
	if (err) {
		snprintf(why, wl, "read %.400s: %s", path, strerror(-err));
		return err;
	}
	err = sts_activation_parse(buf, len, st, reason, sizeof(reason));
	free(buf);
	/* A state that cannot be read is never read as "not activated yet": fail closed. */
	if (err)
		snprintf(why, wl,
			 "%.300s is corrupt (%s): nothing will be sent until it is repaired", path,
			 reason);
	return err;
}

static int state_save(const struct sts_config *cfg, const struct sts_activation *st)
{
	char path[4200], *s = NULL;
	int err;

	state_path(cfg, path, sizeof(path));
	err = sts_activation_serialize(st, &s);
	if (!err)
		err = sts_write_file_atomic(path, s, strlen(s), 0600);
	free(s);
	return err;
}

static bool json_str_is(const json_t *j, const char *key, const char *value)
{
	return strcmp(json_string_value(json_object_get(j, key)) ?: "", value) == 0;
}

/*
 * A verified receipt for aid already in the evidence log? It is logged before the state file
 * says "activated"; if saving that state failed (a full disk) or the monitor was killed in
 * between, the log is the record of the activation, and sending again would be a second
 * transmission of what the collector already receipted. sha gets the receipt's SHA-256.
 */
static bool receipt_logged(const char *log, const char *aid, char sha[65])
{
	char needle[64], *line = NULL;
	size_t cap = 0;
	bool found = false;
	FILE *f;

	f = fopen(log, "re");
	if (!f)
		return false;
	snprintf(needle, sizeof(needle), "\"activation_id\":\"%s\"", aid);
	while (!found && getline(&line, &cap, f) > 0) {
		json_t *j;

		if (!strstr(line, "\"type\":\"receipt\"") || !strstr(line, needle))
			continue;
		j = json_loads(line, 0, NULL);
		if (j && json_is_string(json_object_get(j, "sha256")) &&
		    json_str_is(j, "type", "receipt") && json_str_is(j, "activation_id", aid) &&
		    json_str_is(j, "status", "verified")) {
			snprintf(sha, 65, "%s", json_string_value(json_object_get(j, "sha256")));
			found = true;
		}
		json_decref(j);
	}
	free(line);
	fclose(f);
	return found;
}

static void log_rec(struct attempt *a, const char *type, json_t *rec)
{
	if (a->ev)
		evidence_append(a->ev, type, rec);
	json_decref(rec);
}

static int fail(struct attempt *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct attempt *a, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(a->error, sizeof(a->error), fmt, ap);
	va_end(ap);
	sts_err("%s", a->error);
	ps_send(a->fd, PS_FAIL, a->error, strlen(a->error) + 1);
	return 1;
}

/* The monitor's identity step: the IMEI from the broker, the country from consent only. */
static int on_identity(struct attempt *a)
{
	char why[300], masked[32], consent_path[4200], when[40];
	struct sts_consent consent;
	struct ps_identity id = { 0 };
	int err;

	err = sts_imei_read(a->cfg->imei_source, 5000, a->imei, why, sizeof(why));
	if (err)
		return fail(a, "no IMEI: %s", why);
	snprintf(consent_path, sizeof(consent_path), "%s/consent.json", a->cfg->state_dir);
	err = sts_consent_load(consent_path, &consent);
	if (err)
		return fail(a,
			    "consent record %s unreadable (%s): not sending rather than guessing",
			    consent_path, strerror(-err));
	if (consent.granted)
		snprintf(a->country, sizeof(a->country), "%s", consent.country);
	evlog_mask_imei(a->imei, masked, sizeof(masked));
	log_rec(a, "identifier_released",
		json_pack("{s:s, s:s}", "identifier", "imei", "value", masked));
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ",
		 gmtime(&(time_t){ (time_t)consent.changed_at }));
	log_rec(a, "consent_used",
		json_pack("{s:s, s:b, s:s}", "claim", "country", "consent", consent.granted,
			  "recorded", consent.changed_at ? when : "never"));
	memcpy(id.imei, a->imei, sizeof(id.imei));
	memcpy(id.country, a->country, sizeof(id.country));
	err = ps_send(a->fd, PS_IDENTITY, &id, sizeof(id));
	sts_wipe(&id, sizeof(id));
	return err ? -1 : 0;
}

/* The signing step: only the approved claim set, with exactly the brokered identity. */
static int on_sign(struct attempt *a, const char *claims, size_t len)
{
	char reason[STS_REASON_MAX], masked[32], model[65], version[65];
	uint8_t sha[STS_SHA256_LEN];
	struct sts_report r;
	char *canon = NULL;
	size_t canon_len;
	json_t *cl;
	int err;

	if (sts_report_parse(claims, len, &r, reason, sizeof(reason)))
		return fail(a,
			    "the agent asked to sign claims that are not the approved report: %s",
			    reason);
	if (strcmp(r.imei, a->imei) != 0)
		return fail(a, "the agent's claims carry another IMEI than the one released");
	if (strcmp(r.country, a->country) != 0)
		return fail(a, "the agent's country claim does not match the consent record");
	/* The model and the version as the monitor reads them: no free text is signed. */
	if (sts_device_model(a->cfg->model, model, sizeof(model), reason, sizeof(reason)) ||
	    sts_device_sw_version(a->cfg->sw_version, version, sizeof(version), reason,
				  sizeof(reason)))
		return fail(a, "the device's own values: %s", reason);
	if (strcmp(r.model, model) != 0)
		return fail(a, "the agent's model claim is not the device's model");
	if (strcmp(r.sw_version, version) != 0)
		return fail(a, "the agent's sw_version claim is not the device's software version");
	if (sts_report_serialize(&r, &canon, &canon_len, reason, sizeof(reason)))
		return fail(a, "cannot serialise the report: %s", reason);
	/* Ed25519 is deterministic: a retry with the same aid sends the very same bytes. */
	err = sts_jws_sign(a->device_key, a->st->aid, true, canon, canon_len, &a->jws, &a->jws_len);
	free(canon);
	if (err)
		return fail(a, "signing failed: %s", strerror(-err));
	sts_sha256(a->jws, a->jws_len, sha);
	sts_hex(sha, sizeof(sha), a->jws_sha);
	evlog_mask_imei(a->imei, masked, sizeof(masked));
	cl = json_pack("{s:s, s:s, s:s}", "imei", masked, "model", r.model, "sw_version",
		       r.sw_version);
	if (r.country[0])
		json_object_set_new(cl, "country", json_string(r.country));
	log_rec(a, "report_approved",
		json_pack("{s:s, s:o, s:I, s:s}", "activation_id", a->st->aid, "claims", cl,
			  "bytes", (json_int_t)a->jws_len, "sha256", a->jws_sha));
	/* Nothing is transmitted unless its approval is durably logged first. */
	if (a->ev && (err = evidence_checkpoint(a->ev)))
		return fail(a, "the evidence log cannot be made durable (%s): not sending",
			    strerror(-err));
	return ps_send(a->fd, PS_SIGNED, a->jws, a->jws_len) ? -1 : 0;
}

static int on_result(struct attempt *a, const char *msg, size_t len)
{
	char why[300], kid[STS_KID_LEN + 1];
	struct ps_result r;
	const char *body = msg + sizeof(r);
	size_t blen = len - sizeof(r);
	json_t *names;
	int err;

	if (len < sizeof(r))
		return -1;
	memcpy(&r, msg, sizeof(r));
	if (!ps_str_ok(r.detail, sizeof(r.detail)))
		return -1;
	names = json_pack("[s, s, s]", "imei", "model", "sw_version");
	if (a->country[0])
		json_array_append_new(names, json_string("country"));
	if (r.err) {
		snprintf(a->error, sizeof(a->error), "sending failed: %.400s", r.detail);
		log_rec(a, "transmission",
			json_pack("{s:s, s:s, s:o, s:I, s:s, s:I, s:s, s:s}", "activation_id",
				  a->st->aid, "endpoint", a->pc.host, "claims", names, "bytes",
				  (json_int_t)a->jws_len, "sha256", a->jws_sha, "attempt",
				  (json_int_t)a->st->attempts + 1, "status", "failed", "error",
				  r.detail));
		ps_send(a->fd, PS_DONE, NULL, 0);
		return 1;
	}
	log_rec(a, "transmission",
		json_pack("{s:s, s:s, s:o, s:I, s:s, s:I, s:s, s:i}", "activation_id", a->st->aid,
			  "endpoint", a->pc.host, "claims", names, "bytes", (json_int_t)a->jws_len,
			  "sha256", a->jws_sha, "attempt", (json_int_t)a->st->attempts + 1,
			  "status", "sent", "http_status", r.http_status));
	sts_kid(a->collector_key->pub, kid);
	if (r.http_status != 200 && r.http_status != 201) {
		snprintf(a->error, sizeof(a->error), "the collector answered HTTP %d: %.*s",
			 r.http_status, (int)(blen > 200 ? 200 : blen), body);
	} else if ((err = sts_receipt_check(body, blen, a->collector_key, a->st->aid, a->jws_sha,
					    a->receipt_sha, why, sizeof(why)))) {
		snprintf(a->error, sizeof(a->error), "receipt rejected: %.300s", why);
		log_rec(a, "receipt",
			json_pack("{s:s, s:s, s:s, s:s, s:s}", "activation_id", a->st->aid,
				  "status", "rejected", "collector_key_id", kid, "sha256",
				  a->receipt_sha, "reason", why));
	} else {
		a->ok = true;
		log_rec(a, "receipt",
			json_pack("{s:s, s:s, s:s, s:s}", "activation_id", a->st->aid, "status",
				  "verified", "collector_key_id", kid, "sha256", a->receipt_sha));
	}
	ps_send(a->fd, PS_DONE, NULL, 0);
	return 1;
}

/* The privsep state machine: one request at a time, in order; anything else kills the agent. */
static int on_readable(void *ctx)
{
	static char msg[PS_MAX_PAYLOAD];
	struct attempt *a = ctx;
	uint32_t type;
	size_t len;
	int err;

	err = ps_recv(a->fd, &type, msg, sizeof(msg), &len);
	if (err == -EPIPE)
		return 1; /* the agent went away; police_run sees how it ended */
	if (err || type != a->expect) {
		snprintf(a->error, sizeof(a->error),
			 "the agent sent %s (type %u, expected %u): killed",
			 err ? "a malformed message" : "an unexpected message", err ? 0 : type,
			 a->expect);
		sts_err("%s", a->error);
		return -1;
	}
	switch (type) {
	case PS_HELLO:
		if (len)
			return -1;
		a->expect = PS_IDENTITY_Q;
		return ps_send(a->fd, PS_CONFIG, &a->pc, sizeof(a->pc)) ? -1 : 0;
	case PS_IDENTITY_Q:
		if (len)
			return -1;
		a->expect = PS_SIGN;
		return on_identity(a);
	case PS_SIGN:
		a->expect = PS_RESULT;
		return on_sign(a, msg, len);
	case PS_RESULT:
		a->expect = 0;
		return on_result(a, msg, len);
	}
	return -1;
}

/* The payload check's product rules, after the schema: the report we just signed, sent once. */
static int same_report(void *ctx, const struct police_payload *p, char *why, size_t wl)
{
	struct attempt *a = ctx;
	char *want = NULL;
	size_t want_len;
	bool same;

	/* The whole request, Host header included: the agent chooses no byte of it. */
	if (!a->jws || sts_request_build(a->pc.host, a->jws, a->jws_len, &want, &want_len)) {
		snprintf(why, wl, "not the report the monitor signed for this activation");
		return -1;
	}
	same = want_len == p->len && memcmp(want, p->buf, want_len) == 0;
	free(want);
	if (!same) {
		snprintf(why, wl,
			 "not the request for the report the monitor signed for this activation "
			 "(body or head, Host %s)",
			 a->pc.host);
		return -1;
	}
	if (p->detail)
		*p->detail = json_pack("{s:s, s:s, s:s}", "compared",
				       "the whole request with the one the monitor signed", "key",
				       "device key", "host", a->pc.host);
	return payload_rule_once(p, why, wl);
}

/* The collector's address: configured, or resolved here (never by the agent). */
static int resolve(const struct sts_config *cfg, const struct sts_policy *pol, struct ps_config *pc,
		   char *why, size_t wl)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res = NULL, *ai;
	char port[8];
	size_t i;
	int err;

	snprintf(pc->host, sizeof(pc->host), "%s", cfg->collector_host);
	pc->port = cfg->collector_port;
	if (cfg->collector_addr[0]) {
		snprintf(pc->addr, sizeof(pc->addr), "%s", cfg->collector_addr);
		return 0;
	}
	snprintf(port, sizeof(port), "%u", cfg->collector_port);
	err = getaddrinfo(cfg->collector_host, port, &hints, &res);
	if (err) {
		snprintf(why, wl, "resolve %s: %s", cfg->collector_host, gai_strerror(err));
		return -EHOSTUNREACH;
	}
	/* Only an address the policy names: anything else the kernel would refuse anyway. */
	for (ai = res; ai; ai = ai->ai_next) {
		const void *addr =
			ai->ai_family == AF_INET
				? (void *)&((struct sockaddr_in *)ai->ai_addr)->sin_addr
				: (void *)&((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr;

		for (i = 0; i < pol->n_collectors; i++) {
			const struct sts_endpoint *ep = &pol->collectors[i];

			if (ep->family == ai->ai_family && ep->port == cfg->collector_port &&
			    memcmp(ep->addr, addr, ai->ai_family == AF_INET ? 4 : 16) == 0) {
				inet_ntop(ai->ai_family, addr, pc->addr, sizeof(pc->addr));
				freeaddrinfo(res);
				return 0;
			}
		}
	}
	freeaddrinfo(res);
	snprintf(why, wl, "%s resolves to no collector endpoint of the policy",
		 cfg->collector_host);
	return -EHOSTUNREACH;
}

static void sd_notify_ready(void)
{
	const char *sock = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	socklen_t len;
	int fd;

	if (!sock || !*sock || strlen(sock) >= sizeof(sa.sun_path))
		return;
	memcpy(sa.sun_path, sock, strlen(sock));
	if (sa.sun_path[0] == '@')
		sa.sun_path[0] = '\0'; /* abstract namespace */
	len = offsetof(struct sockaddr_un, sun_path) + strlen(sock);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		sendto(fd, "READY=1", 7, 0, (struct sockaddr *)&sa, len);
		close(fd);
	}
}

static int load_device_key(const struct sts_config *cfg, struct sts_key *key, bool quiet)
{
	char priv[4200], pub[4300];
	bool created;
	int err;

	snprintf(priv, sizeof(priv), "%s/device.key", cfg->state_dir);
	snprintf(pub, sizeof(pub), "%s.pub", priv);
	err = sts_key_load_or_generate(priv, pub, key, &created);
	if (!err && created && !quiet)
		sts_info("created the device key %s (stsctl key show prints it)", priv);
	return err;
}

/* The delay before retry n (1-based): doubling from retry-initial, capped, +-50% jitter. */
static int64_t backoff(const struct sts_config *cfg, int64_t n)
{
	uint64_t d = cfg->retry_initial, r = 0;

	while (--n > 0 && d < cfg->retry_max)
		d *= 2;
	if (d > cfg->retry_max)
		d = cfg->retry_max;
	sts_random(&r, sizeof(r));
	return (int64_t)(d / 2 + r % (d + 1));
}

static void schedule_rec(struct evidence *ev, const char *decision, const char *reason,
			 int64_t next)
{
	json_t *rec = json_pack("{s:s, s:s}", "decision", decision, "reason", reason);
	char when[40];

	if (next) {
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime(&(time_t){ next }));
		json_object_set_new(rec, "next", json_string(when));
	}
	evidence_append(ev, "schedule", rec);
	json_decref(rec);
}

/* The options into d. False: exit with d->status (--help, a bad option). */
static bool parse_options(int argc, char **argv, struct daemon *d)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "once", no_argument, NULL, '1' },
		{ "observe", no_argument, NULL, 'o' },
		{ "notify", no_argument, NULL, 'n' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "qh", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			d->config_path = optarg;
			break;
		case '1':
			d->once = true;
			break;
		case 'o':
			d->observe = true;
			break;
		case 'n':
			d->notify = true;
			break;
		case 'q':
			d->quiet = true;
			break;
		case 'h':
			d->status = cli_help(usage, exits, ARRAY_SIZE(exits));
			return false;
		default:
			d->status = cli_usage_hint();
			return false;
		}
	}
	if (!cli_operands(argc - optind, argv + optind, "")) {
		d->status = STS_EXIT_USAGE;
		return false;
	}
	return true;
}

/* SIGTERM and SIGINT, blocked and read from a signalfd: the daemon polls it while it sleeps. */
static int signal_fd(void)
{
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	return signalfd(-1, &mask, SFD_CLOEXEC);
}

/*
 * Everything the schedule needs: the configuration, the policy, the keys, the evidence log and
 * the signals. False: the daemon cannot start; d->status is STS_EXIT_USAGE for a configuration
 * error, else still STS_EXIT_ENFORCE.
 */
static bool daemon_open(struct daemon *d)
{
	char why[600], logkey[4200], sealpath[4200];
	int err;

	if (sts_config_load(d->config_path, &d->cfg, why, sizeof(why))) {
		sts_err("%s", why);
		d->status = STS_EXIT_USAGE;
		return false;
	}
	if (geteuid() != 0) {
		sts_err("must run as root (BPF, cgroups, the device key)");
		return false;
	}
	/* A monitor killed earlier left its policed cgroup behind: even if nothing is due now. */
	police_sweep_stale(NULL);
	/* ... and audit switched on for a run that never switched it off again. */
	ll_audit_sweep();
	if ((err = sts_mkdir_p(d->cfg.state_dir, 0700))) {
		sts_err("state directory %s: %s", d->cfg.state_dir, strerror(-err));
		return false;
	}
	if (sts_policy_load(d->cfg.policy, true, &d->pol, why, sizeof(why))) {
		sts_err("%s", why);
		d->status = STS_EXIT_USAGE;
		return false;
	}
	d->have_pol = true;
	if ((err = sts_key_load_public(d->cfg.collector_key, &d->collector_key))) {
		sts_err("collector-key %s: %s", d->cfg.collector_key, strerror(-err));
		d->status = STS_EXIT_USAGE;
		return false;
	}
	if ((err = load_device_key(&d->cfg, &d->device_key, d->quiet))) {
		sts_err("device key in %s: %s", d->cfg.state_dir, strerror(-err));
		return false;
	}
	snprintf(logkey, sizeof(logkey), "%s/log.key", d->cfg.state_dir);
	/* Forward-secure seals once `stsctl seal-init --state state-dir/seal.state` was run. */
	snprintf(sealpath, sizeof(sealpath), "%s/seal.state", d->cfg.state_dir);
	if (evidence_open(d->cfg.log, logkey, access(sealpath, F_OK) == 0 ? sealpath : NULL, &d->ev,
			  why, sizeof(why))) {
		/* No evidence, no transmission. */
		sts_err("%s", why);
		return false;
	}
	evidence_set_max_size(d->ev, d->cfg.log_max_size);
	d->sfd = signal_fd();
	if (d->notify)
		sd_notify_ready();
	return true;
}

/* Release what daemon_open() took, in reverse order; returns the exit status. */
static int daemon_close(struct daemon *d)
{
	int err;

	if (d->sfd >= 0)
		close(d->sfd);
	/* The log could not be closed cleanly: the activation is not known to be recorded. */
	if (d->ev && (err = evidence_close(d->ev))) {
		sts_err("evidence log: %s", strerror(-err));
		if (d->status == STS_EXIT_OK)
			d->status = STS_EXIT_ENFORCE;
	}
	sts_key_free(&d->device_key);
	sts_key_free(&d->collector_key);
	if (d->have_pol)
		sts_policy_free(&d->pol);
	return d->status;
}

/* The periodic resend: off unless periodic-days is set, and never after the user opted out. */
static bool periodic_on(const struct daemon *d)
{
	return d->cfg.periodic_days && !sts_optout_active(d->cfg.state_dir);
}

static int64_t periodic_due_at(const struct daemon *d, const struct sts_activation *st)
{
	return st->activated_at + (int64_t)d->cfg.periodic_days * 86400;
}

/*
 * The evidence log holds the verified receipt of st's activation, the state file does not say
 * activated (see receipt_logged): the state follows the log.
 */
static void recover_activation(struct daemon *d, struct sts_activation *st)
{
	int err;

	st->activated = true;
	st->activated_at = now_s();
	st->next_attempt = 0;
	st->last_error[0] = '\0';
	schedule_rec(d->ev, "skip",
		     "recovered: the evidence log holds the verified receipt of this activation, "
		     "the state file had not been updated",
		     0);
	if ((err = state_save(&d->cfg, st)))
		sts_err("save state: %s (the evidence log still says activated)", strerror(-err));
}

/* Activated and no periodic resend due: nothing is sent; wait for the resend, if there is one. */
static enum next activated_nothing_due(struct daemon *d, const struct sts_activation *st,
				       int64_t *wait_s)
{
	char why[600];

	snprintf(why, sizeof(why), "activated on the verified receipt of %s; nothing more is sent",
		 st->aid);
	if (!d->quiet)
		sts_info("%s", why);
	schedule_rec(d->ev, "skip", why, 0);
	d->status = STS_EXIT_OK;
	if (d->once || !periodic_on(d))
		return NEXT_EXIT;
	*wait_s = periodic_due_at(d, st) - now_s();
	return NEXT_SLEEP;
}

/*
 * Where the activation stands, from the state file (and the evidence log): an attempt is due
 * now (st is the state to attempt with), nothing is due for *wait_s seconds, or the daemon is
 * done.
 */
static enum next schedule_next(struct daemon *d, struct sts_activation *st, int64_t *wait_s)
{
	char why[600];

	if (state_load(&d->cfg, st, why, sizeof(why))) {
		sts_err("%s", why);
		schedule_rec(d->ev, "skip", why, 0);
		return NEXT_EXIT;
	}
	if (!st->activated && st->aid[0] && receipt_logged(d->cfg.log, st->aid, st->receipt_sha256))
		recover_activation(d, st);
	if (st->activated) {
		if (!periodic_on(d) || now_s() < periodic_due_at(d, st))
			return activated_nothing_due(d, st, wait_s);
		/* Periodic resend (explicitly switched on): a new activation id. */
		memset(st, 0, sizeof(*st));
	}
	*wait_s = st->next_attempt - now_s();
	if (*wait_s <= 0)
		return NEXT_ATTEMPT;
	snprintf(why, sizeof(why), "retry %lld is due in %llds", (long long)st->attempts + 1,
		 (long long)*wait_s);
	if (!d->quiet)
		sts_info("%s", why);
	if (d->once) {
		d->status = STS_EXIT_TEMPFAIL;
		return NEXT_EXIT;
	}
	return NEXT_SLEEP;
}

/*
 * One attempt: the agent, in the policed cgroup, talks to the monitor (on_readable) and sends
 * the report. True when it came to an outcome (a->ok, or a->error says why not); false when the
 * daemon cannot go on.
 */
static bool run_attempt(struct daemon *d, struct attempt *a)
{
	struct police_channel ch;
	const char *agent_argv[] = { d->cfg.agent, NULL };
	struct police_opts po = {
		.policy_path = d->cfg.policy,
		.observe = d->observe,
		.quiet = d->quiet,
		.user = d->cfg.agent_user,
		.evidence = d->ev,
		.argv = agent_argv,
		.channel = &ch,
		.payload_check = same_report,
		.payload_ctx = a,
		.timeout_s = ATTEMPT_TIMEOUT_S,
		.tls_host = d->cfg.collector_host,
	};
	struct sts_creds agent_creds;
	char why[600];
	int sv[2], status;

	if (resolve(&d->cfg, &d->pol, &a->pc, a->error, sizeof(a->error)))
		return true; /* no collector address: a->error, and a retry */
	snprintf(a->pc.model_override, sizeof(a->pc.model_override), "%s", d->cfg.model);
	snprintf(a->pc.sw_version_override, sizeof(a->pc.sw_version_override), "%s",
		 d->cfg.sw_version);
	snprintf(a->pc.ca_file, sizeof(a->pc.ca_file), "%s", d->cfg.collector_ca);
	/* The agent opens the CA as agent-user: say now why it could not. */
	if (sts_creds_of_user(d->cfg.agent_user, &agent_creds) == 0 &&
	    sts_access_check(d->cfg.collector_ca, R_OK, &agent_creds, why, sizeof(why)))
		sts_err("collector-ca %s: %s", d->cfg.collector_ca, why);
	a->pc.io_timeout = d->cfg.collector_timeout;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		sts_err("socketpair: %s", strerror(errno));
		return false;
	}
	a->fd = sv[0];
	ch = (struct police_channel){
		.child_fd = sv[1], .fd = sv[0], .on_readable = on_readable, .ctx = a
	};
	status = police_run(&po);
	close(sv[0]);
	close(sv[1]);
	if ((status == STS_EXIT_USAGE || status == STS_EXIT_ENFORCE) && !a->jws) {
		/* Enforcement could not be established: nothing ran, nothing was sent. */
		d->status = status;
		return false;
	}
	if (!a->ok && !a->error[0])
		snprintf(a->error, sizeof(a->error),
			 "the agent ended with status %d before a receipt", status);
	return true;
}

/* A verified receipt: the state says activated, for good (or until the periodic resend). */
static enum next record_activation(struct daemon *d, struct sts_activation *st,
				   const struct attempt *a)
{
	int err;

	/*
	 * The transmission and receipt records are durable before the state says activated: once
	 * it does, nothing is ever sent again, so a receipt lost from the log would be lost for
	 * good. If the log cannot be synced, the state stays as it is and the next start resends
	 * the same bytes for the same receipt.
	 */
	if ((err = evidence_checkpoint(d->ev))) {
		sts_err("evidence log: %s", strerror(-err));
		return NEXT_EXIT;
	}
	st->activated = true;
	st->activated_at = now_s();
	st->next_attempt = 0;
	snprintf(st->receipt_sha256, sizeof(st->receipt_sha256), "%s", a->receipt_sha);
	st->last_error[0] = '\0';
	if ((err = state_save(&d->cfg, st))) {
		/*
		 * The receipt is logged (and durable): the next start finds it there
		 * (receipt_logged) and the state says so, with nothing sent again.
		 */
		sts_err("save state: %s", strerror(-err));
		return NEXT_EXIT;
	}
	schedule_rec(d->ev, "skip", "receipt verified: activation complete", 0);
	evidence_checkpoint(d->ev);
	if (!d->quiet)
		sts_info("activation %s complete: receipt verified", st->aid);
	d->status = STS_EXIT_OK;
	return d->once || !d->cfg.periodic_days ? NEXT_EXIT : NEXT_ROUND;
}

/* No verified receipt: the next attempt after the backoff, in the state and the evidence log. */
static enum next record_retry(struct daemon *d, struct sts_activation *st, const struct attempt *a,
			      int64_t *wait_s)
{
	int err;

	st->attempts++;
	st->next_attempt = now_s() + backoff(&d->cfg, st->attempts);
	snprintf(st->last_error, sizeof(st->last_error), "%s", a->error);
	if ((err = state_save(&d->cfg, st)))
		sts_err("save state: %s", strerror(-err));
	schedule_rec(d->ev, "retry", a->error, st->next_attempt);
	evidence_checkpoint(d->ev);
	sts_err("attempt %lld failed: %s; next attempt in %llds", (long long)st->attempts, a->error,
		(long long)(st->next_attempt - now_s()));
	if (d->once) {
		d->status = STS_EXIT_TEMPFAIL;
		return NEXT_EXIT;
	}
	*wait_s = st->next_attempt - now_s();
	return NEXT_SLEEP;
}

/* An attempt is due: its activation id made durable, the attempt, its outcome recorded. */
static enum next attempt(struct daemon *d, struct sts_activation *st, int64_t *wait_s)
{
	struct attempt a = { .cfg = &d->cfg,
			     .ev = d->ev,
			     .device_key = &d->device_key,
			     .collector_key = &d->collector_key,
			     .st = st,
			     .expect = PS_HELLO,
			     .fd = -1 };
	enum next next = NEXT_EXIT;
	int err;

	if (!st->aid[0]) {
		/* The activation id is durable before anything is sent: retries reuse it. */
		sts_aid_new(st->aid);
		if ((err = state_save(&d->cfg, st))) {
			sts_err("save state: %s", strerror(-err));
			return NEXT_EXIT;
		}
	}
	schedule_rec(d->ev, "send", st->attempts ? "retry" : "first activation", 0);
	if (run_attempt(d, &a))
		next = a.ok ? record_activation(d, st, &a) : record_retry(d, st, &a, wait_s);
	sts_wipe(a.imei, sizeof(a.imei));
	free(a.jws);
	return next;
}

/* Sleep wait_s seconds (a day at most, then the schedule decides again); false on a signal. */
static bool sleep_for(const struct daemon *d, int64_t wait_s)
{
	struct pollfd p = { d->sfd, POLLIN, 0 };

	return poll(&p, 1, wait_s > 0 ? (int)(wait_s > 86400 ? 86400000 : wait_s * 1000) : 0) <= 0;
}

int cmd_daemon(int argc, char **argv)
{
	struct daemon d = { .config_path = STS_CONFIG_DEFAULT_PATH,
			    .sfd = -1,
			    .status = STS_EXIT_ENFORCE };
	struct sts_activation st;
	enum next next = NEXT_ROUND;
	int64_t wait_s = 0;

	if (!parse_options(argc, argv, &d))
		return d.status;
	if (!daemon_open(&d))
		return daemon_close(&d);
	while (next != NEXT_EXIT) {
		next = schedule_next(&d, &st, &wait_s);
		if (next == NEXT_ATTEMPT)
			next = attempt(&d, &st, &wait_s);
		if (next == NEXT_SLEEP && !sleep_for(&d, wait_s)) {
			d.status = STS_EXIT_OK; /* SIGTERM or SIGINT: a clean stop */
			next = NEXT_EXIT;
		}
	}
	return daemon_close(&d);
}
