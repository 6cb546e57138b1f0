// SPDX-License-Identifier: GPL-2.0-only
/*
 * stsctl report: what the evidence log says, in plain words, as JSON or as an HTML page for a
 * compliance reader. The JSON document is built first and the text and the HTML are rendered
 * from it, so all three always say the same thing. Its layout is documented in
 * docs/evidence.md and only ever grows (report_version).
 */
#include "commands.h"
#include "report.h"
#include "evidence/evlog.h"
#include "evidence/evverify.h"
#include "core/util.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define REPORT_VERSION 1
/* Examples kept per group of blocked attempts, and records kept for the timeline. */
#define GROUP_EXAMPLES 3
#define TIMELINE_MAX 1000

/* clang-format off */
static const char help[] =
	"usage: stsctl report LOG [--json] [--html OUT] [--log-key PUB] [--seal-key KEY]\n"
	"\n"
	"Read LOG, verify it as `stsctl verify` does, and report: the integrity verdict;\n"
	"under which enforcement the agent ran (kernel, mode per hook, BPF program tags,\n"
	"policy SHA-256) for each start; what left the device (each transmission: when,\n"
	"to where, which claims, the SHA-256 of the bytes sent, and the receipt); what\n"
	"was blocked, by kind; which files and endpoints the agent touched and with what\n"
	"outcome; identifiers released, consent used, schedule decisions; lost events and\n"
	"crash recoveries.\n"
	"\n"
	"When the log does not verify, the report covers only the lines before the first\n"
	"bad one and says so.\n"
	"\n"
	"options:\n"
	"  --json          one JSON document instead of text (layout: docs/evidence.md,\n"
	"                  \"stsctl report --json\"; fields are only ever added)\n"
	"  --html OUT      write the report as one self-contained HTML page to OUT, for\n"
	"                  readers who are not engineers: the verdict and who signed, the\n"
	"                  enforcement per guarantee (G1-G8), what left the device, what\n"
	"                  was blocked (by kind and rule, with examples), a timeline, and\n"
	"                  the command that verifies the log again. No script, no network,\n"
	"                  inline CSS only; prints on A4, one section a page. Every value\n"
	"                  taken from the log is escaped: the log is evidence from a device\n"
	"                  an intruder may control. OUT is replaced atomically (or left as\n"
	"                  it was on error). Nothing is printed on stdout unless --json is\n"
	"                  given too\n"
	"  --log-key PUB   check checkpoint signatures against this key\n"
	"                  (see stsctl verify)\n"
	"  --seal-key KEY  check seals too (see stsctl verify)\n"
	"\n"
	"example:\n"
	"  stsctl report evidence.log --log-key log.pub --seal-key seal.key \\\n"
	"      --html report.html\n";

static const struct cli_exit exits[] = {
	{ STS_EXIT_OK,    "report written and the log verifies" },
	{ STS_EXIT_FAIL,  "report written but the log does not verify" },
	{ STS_EXIT_USAGE, "usage or I/O error (with --html, OUT is left as it was)" },
};
/* clang-format on */

struct agg {
	json_t *r; /* the report */
	json_t *files, *endpoints; /* "action\x1f" "access\x1f" "path" -> count */
	json_t *receipts; /* activation id -> receipt */
	json_t *boots;
	json_t *blocked, *observed;
	json_t *groups; /* "kind\x1f" "rule\x1f" "action" -> {kind, rule, action, count, examples}
			 */
	json_t *approved; /* activation id -> report_approved */
	json_t *timeline;
	json_int_t timeline_omitted;
	json_int_t lost;
	const char *first, *last;
	char first_buf[EVLINE_TIME_LEN + 1], last_buf[EVLINE_TIME_LEN + 1];
};

static const char *str(json_t *o, const char *k, const char *def)
{
	json_t *v = json_object_get(o, k);

	return json_is_string(v) ? json_string_value(v) : def;
}

static json_int_t num(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);

	return json_is_integer(v) ? json_integer_value(v) : 0;
}

static void count(json_t *map, const char *key, json_int_t by)
{
	json_object_set_new(map, key, json_integer(num(map, key) + by));
}

/* A copy of the record with the chain fields other than seq and time left out. */
static json_t *brief(const struct evline *rec, const char *const *keys)
{
	json_t *o = json_pack("{sI ss}", "seq", (json_int_t)rec->seq, "time", rec->time), *v;
	size_t i;

	for (i = 0; keys[i]; i++) {
		v = json_object_get(rec->obj, keys[i]);
		if (v)
			json_object_set(o, keys[i], v);
	}
	return o;
}

/* The whole record but its prev hash: what the HTML report shows of an event. */
static json_t *whole(const struct evline *rec)
{
	json_t *o = json_copy(rec->obj);

	if (o)
		json_object_del(o, "prev");
	return o;
}

static void timeline(struct agg *a, const struct evline *rec)
{
	if (json_array_size(a->timeline) >= TIMELINE_MAX)
		a->timeline_omitted++;
	else
		json_array_append_new(a->timeline, whole(rec));
}

/*
 * Blocked (or only observed) attempts by kind, rule and action, with the first examples; the
 * first examples of each group also go to the timeline, the rest are only counted.
 */
static void group(struct agg *a, const struct evline *rec)
{
	const char *rule = str(rec->obj, "rule", ""), *action = str(rec->obj, "action", "");
	json_t *g, *ex;
	char key[512];

	snprintf(key, sizeof(key), "%s\x1f%s\x1f%s", rec->type, rule, action);
	g = json_object_get(a->groups, key);
	if (!g) {
		g = json_pack("{ss ss ss sI s[]}", "kind", rec->type, "rule", rule, "action",
			      action, "count", (json_int_t)0, "examples");
		if (!g)
			return;
		json_object_set_new(a->groups, key, g);
	}
	count(g, "count", 1);
	ex = json_object_get(g, "examples");
	if (json_array_size(ex) < GROUP_EXAMPLES) {
		json_array_append_new(ex, whole(rec));
		timeline(a, rec);
	}
}

static bool is_deny(const char *type)
{
	static const char *const kinds[] = { EV_NET_DENY,     EV_FILE_DENY,   EV_EXEC_DENY,
					     EV_PAYLOAD_DENY, EV_VOLUME_DROP, EV_CLONE_DENY,
					     EV_PTRACE_DENY,  EV_SIGNAL_DENY, EV_MOUNT_DENY,
					     EV_BPF_DENY,     EV_SYSCALL_DENY };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(kinds); i++)
		if (strcmp(type, kinds[i]) == 0)
			return true;
	return false;
}

static void touched(struct agg *a, const struct evline *rec)
{
	const char *t = rec->type, *action = str(rec->obj, "action", NULL);
	char key[4096], addr[512];
	bool net = strncmp(t, "net_", 4) == 0;

	if (!action)
		action = strstr(t, "_deny") ? "denied" : "allowed";
	if (net) {
		const char *ip = str(rec->obj, "addr", "?");

		snprintf(addr, sizeof(addr), strchr(ip, ':') ? "[%s]:%lld/%s" : "%s:%lld/%s", ip,
			 (long long)num(rec->obj, "port"), str(rec->obj, "proto", "?"));
		snprintf(key, sizeof(key), "%s\x1f%s", action, addr);
		count(a->endpoints, key, 1);
	} else {
		snprintf(key, sizeof(key), "%s\x1f%s\x1f%s", action,
			 strncmp(t, "exec_", 5) == 0 ? "exec" : str(rec->obj, "access", "open"),
			 str(rec->obj, "path", "?"));
		count(a->files, key, 1);
	}
}

/*
 * The mechanism that enforces each guarantee on the kernel of that run (the G7 record of
 * issue 13): BPF LSM, Landlock, seccomp, cgroup BPF, namespaces; "observe" where one is only
 * recorded.
 */
static void print_guarantees(json_t *enf)
{
	json_t *g, *m, *c = json_object_get(enf, "containment");
	size_t i, j;

	json_array_foreach(json_object_get(enf, "guarantees"), i, g)
	{
		printf("    %-8s %s:", str(g, "mode", "?"), str(g, "guarantee", "?"));
		json_array_foreach(json_object_get(g, "mechanisms"), j, m)
			printf("%s %s", j ? "," : "", json_string_value(m));
		putchar('\n');
	}
	if (c)
		printf("    seccomp: %s; Landlock ABI %lld%s\n", str(c, "seccomp_refusals", "?"),
		       (long long)json_integer_value(json_object_get(c, "landlock_abi")),
		       json_is_true(json_object_get(c, "landlock_files"))
			       ? " enforces files and exec"
			       : "");
}

static int on_record(void *arg, const struct evline *rec, const char *line, size_t len)
{
	static const char *const enf_keys[] = { "boot",	      "kernel",	     "mode",
						"hooks",      "programs",    "policy_sha256",
						"guarantees", "containment", NULL };
	static const char *const tx_keys[] = { "activation_id", "endpoint", "claims",
					       "bytes",		"sha256",   "attempt",
					       "status",	"error",    NULL };
	static const char *const rc_keys[] = { "activation_id", "status", "collector_key_id",
					       "sha256",	"reason", NULL };
	static const char *const id_keys[] = { "identifier", "value", "to_pid", NULL };
	static const char *const consent_keys[] = { "claim", "consent", "recorded", NULL };
	static const char *const sched_keys[] = { "decision", "reason", "next", NULL };
	static const char *const rec_keys[] = { "dropped_bytes", "size_before", NULL };
	static const char *const pay_keys[] = { "pid",	  "comm",   "bytes",	"sha256",
						"reason", "action", "approval", NULL };
	static const char *const allowance_keys[] = { "tls_allowance", "used_since_last_approval",
						      NULL };
	static const char *const stop_keys[] = { "reason", "status", "signal", NULL };
	struct agg *a = arg;
	const char *t = rec->type;
	json_t *o;
	size_t i;

	(void)line;
	(void)len;
	if (!a->first) {
		memcpy(a->first_buf, rec->time, sizeof(a->first_buf));
		a->first = a->first_buf;
	}
	memcpy(a->last_buf, rec->time, sizeof(a->last_buf));
	a->last = a->last_buf;
	json_array_foreach(a->boots, i, o) if (strcmp(json_string_value(o), rec->boot) == 0) break;
	if (i == json_array_size(a->boots))
		json_array_append_new(a->boots, json_string(rec->boot));

	/* Allowed touches and checkpoints are counted elsewhere; everything else is an event. */
	if (strcmp(t, EV_CHECKPOINT) != 0 && strcmp(t, EV_NET_ALLOW) != 0 &&
	    strcmp(t, EV_FILE_ALLOW) != 0 && strcmp(t, EV_EXEC_ALLOW) != 0 && !is_deny(t) &&
	    strcmp(t, EV_SYSCALL_OBSERVED) != 0)
		timeline(a, rec);
	if (strcmp(t, EV_ENFORCEMENT) == 0) {
		o = brief(rec, enf_keys);
		json_object_set_new(o, "boot", json_string(rec->boot));
		json_array_append_new(json_object_get(a->r, "enforcement"), o);
	} else if (strcmp(t, EV_START) == 0) {
		count(json_object_get(a->r, "runs"), "starts", 1);
	} else if (strcmp(t, EV_STOP) == 0) {
		count(json_object_get(a->r, "runs"), "stops", 1);
		json_array_append_new(json_object_get(a->r, "stops"), brief(rec, stop_keys));
	} else if (strcmp(t, EV_TRANSMISSION) == 0) {
		json_array_append_new(json_object_get(a->r, "transmissions"), brief(rec, tx_keys));
	} else if (strcmp(t, EV_REPORT_APPROVED) == 0) {
		if (str(rec->obj, "activation_id", NULL))
			json_object_set_new(a->approved, str(rec->obj, "activation_id", NULL),
					    whole(rec));
	} else if (strcmp(t, EV_RECEIPT) == 0) {
		if (str(rec->obj, "activation_id", NULL))
			json_object_set_new(a->receipts, str(rec->obj, "activation_id", NULL),
					    brief(rec, rc_keys));
	} else if (strcmp(t, EV_IDENTIFIER_RELEASED) == 0) {
		json_array_append_new(json_object_get(a->r, "identifiers_released"),
				      brief(rec, id_keys));
	} else if (strcmp(t, EV_CONSENT_USED) == 0) {
		json_array_append_new(json_object_get(a->r, "consent"), brief(rec, consent_keys));
	} else if (strcmp(t, EV_SCHEDULE) == 0) {
		json_array_append_new(json_object_get(a->r, "schedule"), brief(rec, sched_keys));
	} else if (strcmp(t, EV_RECOVERY) == 0) {
		json_array_append_new(json_object_get(a->r, "recoveries"), brief(rec, rec_keys));
	} else if (strcmp(t, "allowance_used") == 0) {
		json_array_append_new(json_object_get(a->r, "allowance_used"),
				      brief(rec, allowance_keys));
	} else if (strcmp(t, "payload_allow") == 0) {
		json_array_append_new(json_object_get(a->r, "payloads_approved"),
				      brief(rec, pay_keys));
	} else if (strcmp(t, EV_LOST_EVENTS) == 0) {
		a->lost += num(rec->obj, "count");
	} else if (is_deny(t)) {
		/* In observe mode a "deny" was only seen, not stopped: keep the two apart. */
		bool observed = strcmp(str(rec->obj, "action", ""), "observed") == 0;

		count(observed ? a->observed : a->blocked, t, 1);
		group(a, rec);
		if (strcmp(t, EV_PAYLOAD_DENY) == 0)
			json_array_append_new(json_object_get(a->r, "payload_denials"),
					      brief(rec, pay_keys));
		else if (strcmp(t, EV_VOLUME_DROP) == 0)
			count(json_object_get(a->r, "volume"), "bytes_dropped",
			      num(rec->obj, "bytes"));
		else if (strcmp(t, EV_NET_DENY) == 0 || strcmp(t, EV_FILE_DENY) == 0 ||
			 strcmp(t, EV_EXEC_DENY) == 0)
			touched(a, rec);
	} else if (strcmp(t, EV_SYSCALL_OBSERVED) == 0) {
		count(a->observed, t, 1);
		group(a, rec);
	} else if (strcmp(t, EV_NET_ALLOW) == 0 || strcmp(t, EV_FILE_ALLOW) == 0 ||
		   strcmp(t, EV_EXEC_ALLOW) == 0) {
		touched(a, rec);
	}
	return 0;
}

/* "action\x1f...\x1fwhat" -> [{"...": , "count": n}] */
static json_t *unmap(json_t *map, bool file)
{
	json_t *arr = json_array(), *v;
	const char *k, *f1, *f2;
	char buf[4096];

	json_object_foreach(map, k, v)
	{
		snprintf(buf, sizeof(buf), "%s", k);
		f1 = strchr(buf, '\x1f');
		*(char *)f1++ = '\0';
		if (file) {
			f2 = strchr(f1, '\x1f');
			*(char *)f2++ = '\0';
			json_array_append_new(arr, json_pack("{ss ss ss sI}", "path", f2, "access",
							     f1, "action", buf, "count",
							     json_integer_value(v)));
		} else {
			json_array_append_new(arr, json_pack("{ss ss sI}", "endpoint", f1, "action",
							     buf, "count", json_integer_value(v)));
		}
	}
	return arr;
}

static void print_list(json_t *arr, const char *key, const char *sep)
{
	json_t *v;
	size_t i;

	json_array_foreach(arr, i, v)
	{
		if (key)
			v = json_object_get(v, key);
		printf("%s%s", i ? sep : "", json_is_string(v) ? json_string_value(v) : "?");
	}
}

/*
 * What the payload check compared before approving (stsd run, issue 14): each claim with its
 * source, the key that verified the signature, the TLS allowance the handshake had used.
 */
static void print_approval(json_t *ap)
{
	json_t *c, *key = json_object_get(ap, "key");
	size_t i;

	if (!ap)
		return;
	json_array_foreach(json_object_get(ap, "compared"), i, c)
		printf("    claim %s equal to the device's value from %s\n", str(c, "claim", "?"),
		       str(c, "source", "?"));
	if (json_is_string(json_object_get(ap, "compared")))
		printf("    compared: %s\n", str(ap, "compared", "?"));
	if (json_is_object(key))
		printf("    signature verified with %s (kid %s)\n", str(key, "file", "?"),
		       str(key, "kid", "?"));
	else if (json_is_string(key))
		printf("    signature: %s\n", str(ap, "key", "?"));
	if (json_object_get(ap, "tls_allowance_used_before"))
		printf("    tls-allowance used before the request: %lld bytes\n",
		       (long long)num(ap, "tls_allowance_used_before"));
}

static void text(json_t *r)
{
	json_t *integ = json_object_get(r, "integrity"), *period = json_object_get(r, "period");
	json_t *v, *h, *x;
	const char *k;
	size_t i, j;

	printf("Evidence report for %s\n\n", str(r, "log", "?"));
	if (json_is_true(json_object_get(integ, "ok")))
		printf("Integrity: verified. %lld records, %lld checkpoints, signed by %s%s%s.\n",
		       (long long)num(integ, "records"), (long long)num(integ, "checkpoints"),
		       str(integ, "signed_by", "nobody"),
		       json_is_true(json_object_get(integ, "key_from_log"))
			       ? " (key taken from the log itself)"
			       : " (key given by the auditor)",
		       json_is_true(json_object_get(integ, "seals_verified")) ? "; seals verified"
									      : "");
	else
		printf("Integrity: NOT VERIFIED: line %lld: %s.\nThis report covers only the %lld "
		       "records before that line.\n",
		       (long long)num(integ, "bad_line"), str(integ, "why", "?"),
		       (long long)num(integ, "records"));
	if (num(integ, "unsigned_tail"))
		printf("The last %lld records come after the last checkpoint: chained, not yet "
		       "signed.\n",
		       (long long)num(integ, "unsigned_tail"));
	printf("Period: %s to %s, %zu boot(s).\n\n", str(period, "first", "-"),
	       str(period, "last", "-"), json_array_size(json_object_get(period, "boots")));

	printf("Enforcement\n");
	if (!json_array_size(json_object_get(r, "enforcement")))
		printf("  no enforcement record: the log does not say what was enforced\n");
	json_array_foreach(json_object_get(r, "enforcement"), i, v)
	{
		json_t *prev = i ? json_array_get(json_object_get(r, "enforcement"), i - 1) : NULL;

		printf("  %s: kernel %s, mode %s, policy sha256 %s\n", str(v, "time", "?"),
		       str(v, "kernel", "?"), str(v, "mode", "?"), str(v, "policy_sha256", "?"));
		print_guarantees(v);
		/* Runs under the same enforcement: say so rather than repeat every hook. */
		if (prev &&
		    json_equal(json_object_get(prev, "hooks"), json_object_get(v, "hooks")) &&
		    json_equal(json_object_get(prev, "programs"), json_object_get(v, "programs"))) {
			printf("    same hooks and programs as above\n");
			continue;
		}
		json_array_foreach(json_object_get(v, "hooks"), j, h)
		{
			printf("    hook %-28s %s", str(h, "hook", "?"), str(h, "mode", "?"));
			if (str(h, "reason", NULL))
				printf(" (%s)", str(h, "reason", NULL));
			putchar('\n');
		}
		json_array_foreach(json_object_get(v, "programs"), j, h) printf(
			"    program %-25s tag %s\n", str(h, "name", "?"), str(h, "tag", "?"));
	}

	printf("\nWhat left the device\n");
	if (!json_array_size(json_object_get(r, "transmissions")) &&
	    !json_array_size(json_object_get(r, "payloads_approved")))
		printf("  nothing\n");
	json_array_foreach(json_object_get(r, "payloads_approved"), i, v)
	{
		printf("  %s: TLS plaintext of pid %lld (%s), approved by the payload check: %lld "
		       "bytes, sha256 %s\n",
		       str(v, "time", "?"), (long long)num(v, "pid"), str(v, "comm", "?"),
		       (long long)num(v, "bytes"), str(v, "sha256", "?"));
		print_approval(json_object_get(v, "approval"));
	}
	json_array_foreach(json_object_get(r, "allowance_used"), i, v)
		printf("  %s: tls-allowance used since the last approval (Finished, close_notify): "
		       "%lld of %lld bytes\n",
		       str(v, "time", "?"), (long long)num(v, "used_since_last_approval"),
		       (long long)num(v, "tls_allowance"));
	json_array_foreach(json_object_get(r, "transmissions"), i, v)
	{
		printf("  %s: %s to %s, %lld bytes, sha256 %s\n", str(v, "time", "?"),
		       str(v, "status", "sent"), str(v, "endpoint", "?"),
		       (long long)num(v, "bytes"), str(v, "sha256", "?"));
		printf("    claims: ");
		print_list(json_object_get(v, "claims"), NULL, ", ");
		x = json_object_get(v, "receipt");
		if (json_is_object(x))
			printf("\n    receipt: %s at %s\n", str(x, "status", "?"),
			       str(x, "time", "?"));
		else
			printf("\n    receipt: none\n");
	}

	printf("\nWhat was blocked\n");
	if (!json_object_size(json_object_get(r, "blocked")))
		printf("  nothing\n");
	json_object_foreach(json_object_get(r, "blocked"), k, v)
		printf("  %-14s %lld\n", k, (long long)json_integer_value(v));
	if (json_object_size(json_object_get(r, "observed_only"))) {
		printf("  seen but not stopped (observe mode):\n");
		json_object_foreach(json_object_get(r, "observed_only"), k, v)
			printf("    %-12s %lld\n", k, (long long)json_integer_value(v));
	}
	json_array_foreach(json_object_get(r, "payload_denials"), i, v)
		printf("  payload stopped at %s: %lld bytes, sha256 %s (%s)\n", str(v, "time", "?"),
		       (long long)num(v, "bytes"), str(v, "sha256", "?"), str(v, "reason", "?"));
	if (num(json_object_get(r, "volume"), "bytes_dropped"))
		printf("  egress over the allowance: %lld bytes dropped\n",
		       (long long)num(json_object_get(r, "volume"), "bytes_dropped"));

	printf("\nFiles the agent touched\n");
	if (!json_array_size(json_object_get(r, "files")))
		printf("  none recorded\n");
	json_array_foreach(json_object_get(r, "files"), i, v)
		printf("  %-8s %-6s %s (%lld)\n", str(v, "action", "?"), str(v, "access", "?"),
		       str(v, "path", "?"), (long long)num(v, "count"));
	printf("\nEndpoints the agent touched\n");
	if (!json_array_size(json_object_get(r, "endpoints")))
		printf("  none recorded\n");
	json_array_foreach(json_object_get(r, "endpoints"), i, v)
		printf("  %-8s %s (%lld)\n", str(v, "action", "?"), str(v, "endpoint", "?"),
		       (long long)num(v, "count"));

	printf("\nIdentifiers released: %zu",
	       json_array_size(json_object_get(r, "identifiers_released")));
	json_array_foreach(json_object_get(r, "identifiers_released"), i, v)
		printf("%s%s %s", i ? ", " : " (", str(v, "identifier", "?"), str(v, "value", "?"));
	printf("%s\n", json_array_size(json_object_get(r, "identifiers_released")) ? ")" : "");
	json_array_foreach(json_object_get(r, "consent"), i, v)
		printf("Consent used at %s: %s %s\n", str(v, "time", "?"), str(v, "claim", "?"),
		       json_is_true(json_object_get(v, "consent")) ? "granted" : "not granted");
	json_array_foreach(json_object_get(r, "schedule"), i, v)
		printf("Schedule at %s: %s (%s)\n", str(v, "time", "?"), str(v, "decision", "?"),
		       str(v, "reason", "-"));
	printf("Lost events: %lld\n", (long long)num(r, "lost_events"));
	json_array_foreach(json_object_get(r, "recoveries"), i, v)
		printf("Crash recovery at %s: %lld bytes of a torn record dropped\n",
		       str(v, "time", "?"), (long long)num(v, "dropped_bytes"));
	printf("Runs: %lld started, %lld stopped\n",
	       (long long)num(json_object_get(r, "runs"), "starts"),
	       (long long)num(json_object_get(r, "runs"), "stops"));
}

int cmd_report(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "html", required_argument, NULL, 'H' },
		{ "log-key", required_argument, NULL, 'k' },
		{ "seal-key", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *log_path, *key_path = NULL, *seal_arg = NULL, *buf = NULL, *html = NULL;
	struct agg a = { 0 };
	struct evv_opts vo = { .on_record = on_record, .arg = &a, .want_obj = true };
	struct evv_result res = { 0 };
	struct sts_key key = { 0 };
	struct seal_state vk = { 0 };
	bool json = false;
	json_t *integ, *v, *arr;
	uint8_t digest[STS_SHA256_LEN];
	char kid[9], hex[2 * STS_SHA256_LEN + 1], *out;
	const char *k;
	size_t len = 0, i;
	int c, err, rc = STS_EXIT_USAGE;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'H':
			if (!*optarg)
				return cli_usage_error("--html: empty file name");
			html = optarg;
			break;
		case 'k':
			key_path = optarg;
			break;
		case 's':
			seal_arg = optarg;
			break;
		case 'h':
			return cli_help(help, exits, ARRAY_SIZE(exits));
		default:
			return cli_usage_hint();
		}
	}
	if (!cli_operands(argc - optind, argv + optind, "LOG"))
		return STS_EXIT_USAGE;
	log_path = argv[optind];
	if (ctl_open_log(log_path, key_path, seal_arg, &key, &vk, &vo, &buf, &len))
		goto cleanup;
	a.r = json_pack("{si ss so so so so so so so so so so so so so}", "report_version",
			REPORT_VERSION, "log", log_path, "integrity", json_object(), "period",
			json_object(), "enforcement", json_array(), "transmissions", json_array(),
			"blocked", json_object(), "observed_only", json_object(), "payload_denials",
			json_array(), "volume", json_pack("{sI}", "bytes_dropped", (json_int_t)0),
			"identifiers_released", json_array(), "consent", json_array(), "schedule",
			json_array(), "recoveries", json_array(), "stops", json_array());
	/* Plaintexts `stsd run` let through after its payload check (G4). */
	json_object_set_new(a.r, "payloads_approved", json_array());
	/* What of tls-allowance the approved transmissions used after their request. */
	json_object_set_new(a.r, "allowance_used", json_array());
	a.files = json_object();
	a.endpoints = json_object();
	a.receipts = json_object();
	a.boots = json_array();
	a.groups = json_object();
	a.approved = json_object();
	a.timeline = json_array();
	if (!a.r || !a.files || !a.endpoints || !a.receipts || !a.boots || !a.groups ||
	    !a.approved || !a.timeline) {
		sts_err("out of memory");
		goto cleanup;
	}
	a.blocked = json_object_get(a.r, "blocked");
	a.observed = json_object_get(a.r, "observed_only");
	json_object_set_new(a.r, "runs",
			    json_pack("{sI sI}", "starts", (json_int_t)0, "stops", (json_int_t)0));
	/*
	 * Verify first; if a line is bad, report only on the lines before it (a record is
	 * altered is known only from the line after it, so one pass would include it).
	 */
	vo.on_record = NULL;
	err = evv_verify(buf, len, &vo, &res);
	if (err == -EBADMSG) {
		struct evv_result first = res;
		size_t prefix = 0;
		uint64_t ln;

		for (ln = 1; ln < first.bad_line && prefix < len; ln++) {
			const char *nl = memchr(buf + prefix, '\n', len - prefix);

			prefix = nl ? (size_t)(nl - buf) + 1 : len;
		}
		vo.on_record = on_record;
		if (evv_verify(buf, prefix, &vo, &res) == 0) {
			res.bad_line = first.bad_line;
			memcpy(res.why, first.why, sizeof(res.why));
		}
	} else if (!err) {
		vo.on_record = on_record;
		err = evv_verify(buf, len, &vo, &res);
	}
	if (err && err != -EBADMSG) {
		sts_err("read %s: %s", log_path, strerror(-err));
		goto cleanup;
	}
	sts_hex(res.key_id, 4, kid);
	integ = json_pack("{sb sI sI sI}", "ok", !err, "records", (json_int_t)res.records,
			  "checkpoints", (json_int_t)res.checkpoints, "unsigned_tail",
			  (json_int_t)res.tail);
	json_object_set_new(integ, "bad_line", err ? json_integer(res.bad_line) : json_null());
	json_object_set_new(integ, "why", err ? json_string(res.why) : json_null());
	json_object_set_new(integ, "origin",
			    res.checkpoints ? json_string(res.origin) : json_null());
	json_object_set_new(integ, "signed_by",
			    res.checkpoints ? json_string(res.signer) : json_null());
	json_object_set_new(integ, "key_id", res.checkpoints ? json_string(kid) : json_null());
	json_object_set_new(integ, "key_from_log", json_boolean(res.key_from_log));
	json_object_set_new(integ, "seals_verified", json_boolean(!err && res.seals_checked));
	json_object_set_new(integ, "seals", json_integer(res.seals));
	json_object_set_new(integ, "seal_epochs",
			    res.seals ? json_pack("{sI sI}", "first", (json_int_t)res.first_epoch,
						  "last", (json_int_t)res.last_epoch)
				      : json_null());
	json_object_set_new(a.r, "integrity", integ);
	/* Ties the report to the exact file: the reader can check they hold the same bytes. */
	if (sts_sha256(buf ? buf : "", len, digest)) {
		sts_err("read %s: cannot hash it", log_path);
		goto cleanup;
	}
	sts_hex(digest, sizeof(digest), hex);
	json_object_set_new(a.r, "log_sha256", json_string(hex));
	json_object_set_new(a.r, "log_bytes", json_integer((json_int_t)len));
	json_object_set_new(
		a.r, "period",
		json_pack("{ss? ss? sO}", "first", a.first, "last", a.last, "boots", a.boots));
	/* Each transmission with its receipt, matched by activation id. */
	json_array_foreach(json_object_get(a.r, "transmissions"), i, v)
	{
		json_t *rcpt = json_object_get(a.receipts, str(v, "activation_id", ""));

		json_t *appr = json_object_get(a.approved, str(v, "activation_id", ""));

		json_object_set(v, "receipt", rcpt ? rcpt : json_null());
		json_object_set(v, "approved", appr ? appr : json_null());
	}
	arr = json_array();
	json_object_foreach(a.groups, k, v) json_array_append(arr, v);
	json_object_set_new(a.r, "blocked_groups", arr);
	json_object_set(a.r, "timeline", a.timeline);
	json_object_set_new(a.r, "timeline_omitted", json_integer(a.timeline_omitted));
	json_object_set_new(a.r, "files", unmap(a.files, true));
	json_object_set_new(a.r, "endpoints", unmap(a.endpoints, false));
	json_object_set_new(a.r, "lost_events", json_integer(a.lost));
	if (html) {
		struct report_html_opts ho = { .out = html,
					       .log_key = key_path,
					       .seal_key = seal_arg };

		if (report_html_write(a.r, &ho))
			goto cleanup;
	}
	if (json) {
		out = json_dumps(a.r, JSON_INDENT(2));
		if (!out) {
			sts_err("out of memory");
			goto cleanup;
		}
		printf("%s\n", out);
		free(out);
	} else if (!html) {
		text(a.r);
	}
	rc = err ? STS_EXIT_FAIL : STS_EXIT_OK;
cleanup:
	json_decref(a.r);
	json_decref(a.files);
	json_decref(a.endpoints);
	json_decref(a.receipts);
	json_decref(a.boots);
	json_decref(a.groups);
	json_decref(a.approved);
	json_decref(a.timeline);
	evv_unmap(buf, len);
	sts_key_free(&key);
	seal_state_wipe(&vk);
	return rc;
}
