// SPDX-License-Identifier: GPL-2.0-only
/*
 * stsctl status: where the device stands, from the files stsd keeps in its state directory
 * (activation, consent, opt-out, keys, seal, evidence log). Read-only: it opens nothing for
 * writing and creates nothing, so an operator may run it at any time, as any user who can read
 * the files; what it cannot read it names, with the reason. The JSON document is built first
 * and the text rendered from it, as `stsctl report` does.
 *
 * The evidence log is not verified here (that is `stsctl verify`, which reads every line): its
 * last checkpoint is found from the end, and its signature checked against the log key.
 */
#include "commands.h"
#include "core/crypto.h"
#include "core/util.h"
#include "device/activation.h"
#include "device/consent.h"
#include "evidence/evline.h"
#include "evidence/evlog.h"
#include "evidence/evverify.h"
#include "evidence/note.h"
#include "wire/jws.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Largest activation state file read (the monitor writes a few hundred bytes). */
#define ACTIVATION_MAX (64 * 1024)

/* clang-format off */
static const char help[] =
	"usage: stsctl status [--state-dir DIR] [--log FILE] [--json]\n"
	"\n"
	"Show where the device stands, from the files stsd keeps in DIR:\n"
	"  activation    DIR/activation.json: activated or not, the activation id every\n"
	"                retry reuses, attempts made, when the next one is due, the\n"
	"                receipt's SHA-256, the last error\n"
	"  consent       DIR/" STS_CONSENT_FILE ": whether the country may be sent, and since when\n"
	"  opt-out       DIR/" STS_OPTOUT_FILE ": periodic reports turned off for good\n"
	"  device key    DIR/device.key.pub: the key id (kid) of the key reports are signed\n"
	"                with\n"
	"  log key       DIR/log.key.pub: the key id and name of the evidence log's key\n"
	"  seals         DIR/seal.state: whether checkpoints are forward-secure sealed\n"
	"  evidence log  its size, its last record, and its last checkpoint (seq, time,\n"
	"                whether its signature is the log key's)\n"
	"\n"
	"Nothing is written or created: run it as any user who can read the files (the\n"
	"state directory is root's). Whatever is missing is said in plain words, e.g.\n"
	"\"no activation yet: /var/lib/stsguard/activation.json does not exist\". The\n"
	"evidence log is not verified here: `stsctl verify` does that.\n"
	"\n"
	"options:\n"
	"  --state-dir DIR  stsd's state directory (default " STS_STATE_DIR_DEFAULT ")\n"
	"  --log FILE       the evidence log (default DIR/evidence.log)\n"
	"  --json           one JSON object: {\"state_dir\", \"state_dir_present\",\n"
	"                   \"activation\", \"consent\", \"optout\", \"device_key\",\n"
	"                   \"log_key\", \"seal\", \"evidence_log\"},\n"
	"                   each with \"path\", \"present\", \"error\" when it could not be\n"
	"                   read, and its values (times as unix seconds)\n";

static const struct cli_exit exits[] = {
	{ STS_EXIT_OK,    "shown; missing files are part of the status" },
	{ STS_EXIT_FAIL,  "shown, but a file exists that could not be read or is damaged" },
	{ STS_EXIT_USAGE, "usage error" },
};
/* clang-format on */

struct st {
	const char *dir;
	bool damaged; /* a file exists but could not be read or parsed */
};

static json_t *item(const char *path, bool present)
{
	return json_pack("{ss sb}", "path", path, "present", present);
}

static void failed(struct st *s, json_t *o, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void failed(struct st *s, json_t *o, const char *fmt, ...)
{
	char why[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	json_object_set_new(o, "error", json_string(why));
	s->damaged = true;
}

/* Missing is a state, not an error; anything else that stat cannot see past is an error. */
static json_t *probe(struct st *s, const char *name, char *path, size_t pathsz)
{
	struct stat sb;
	json_t *o;

	snprintf(path, pathsz, "%s/%s", s->dir, name);
	if (stat(path, &sb) == 0)
		return item(path, true);
	o = item(path, errno != ENOENT);
	if (errno != ENOENT)
		failed(s, o, "%s", strerror(errno));
	return o;
}

static json_t *activation(struct st *s)
{
	struct sts_activation a;
	char path[PATH_MAX], why[256], *buf = NULL;
	size_t len;
	json_t *o = probe(s, "activation.json", path, sizeof(path));
	int err;

	if (!json_is_true(json_object_get(o, "present")) || json_object_get(o, "error"))
		return o;
	err = sts_read_file(path, ACTIVATION_MAX, &buf, &len);
	if (err) {
		failed(s, o, "%s", strerror(-err));
		return o;
	}
	err = sts_activation_parse(buf, len, &a, why, sizeof(why));
	free(buf);
	if (err) {
		failed(s, o, "damaged (%s): the monitor sends nothing until it is repaired", why);
		return o;
	}
	json_object_update_new(
		o, json_pack("{sb ss sI sI sI ss ss}", "activated", a.activated, "activation_id",
			     a.aid, "attempts", (json_int_t)a.attempts, "next_attempt",
			     (json_int_t)a.next_attempt, "activated_at", (json_int_t)a.activated_at,
			     "receipt_sha256", a.receipt_sha256, "last_error", a.last_error));
	return o;
}

static json_t *consent(struct st *s)
{
	struct sts_consent c;
	char path[PATH_MAX];
	json_t *o = probe(s, STS_CONSENT_FILE, path, sizeof(path));
	int err;

	if (!json_is_true(json_object_get(o, "present")) || json_object_get(o, "error"))
		return o;
	err = sts_consent_load(path, &c);
	if (err) {
		failed(s, o, "%s",
		       err == -EBADMSG ? "damaged: the country is not sent" : strerror(-err));
		return o;
	}
	json_object_update_new(o, json_pack("{sb ss sI}", "granted", c.granted, "country",
					    c.country, "changed_at", (json_int_t)c.changed_at));
	return o;
}

static json_t *optout(struct st *s)
{
	char path[PATH_MAX];
	json_t *o = probe(s, STS_OPTOUT_FILE, path, sizeof(path));
	bool active;
	int64_t at;
	int err;

	if (!json_is_true(json_object_get(o, "present")) || json_object_get(o, "error"))
		return o;
	err = sts_optout_load(s->dir, &active, &at);
	if (err) {
		/* The user wrote something there: stsd honours it as an opt-out. */
		failed(s, o, "%s: counts as opted out",
		       err == -EBADMSG ? "damaged" : strerror(-err));
		return o;
	}
	json_object_update_new(o, json_pack("{sb sI}", "optout", active, "at", (json_int_t)at));
	return o;
}

static json_t *key(struct st *s, const char *name, bool log_key, struct sts_key *k)
{
	char path[PATH_MAX], kid[STS_KID_LEN + 1], origin[NOTE_MAX_NAME + 1], hex[9];
	uint8_t id[4];
	json_t *o = probe(s, name, path, sizeof(path));
	int err;

	if (!json_is_true(json_object_get(o, "present")) || json_object_get(o, "error"))
		return o;
	err = sts_key_load_public(path, k);
	if (err) {
		failed(s, o, "%s", err == -EBADMSG ? "not an Ed25519 public key" : strerror(-err));
		return o;
	}
	if (!log_key) {
		err = sts_kid(k->pub, kid);
		if (!err)
			json_object_set_new(o, "kid", json_string(kid));
	} else {
		/* The name and key id the writer signs checkpoints with (its default origin). */
		err = evlog_default_origin(k, origin, sizeof(origin));
		if (!err)
			err = note_key_id(origin, k->pub, id);
		if (!err) {
			sts_hex(id, sizeof(id), hex);
			json_object_set_new(o, "name", json_string(origin));
			json_object_set_new(o, "key_id", json_string(hex));
		}
	}
	if (err)
		failed(s, o, "%s", strerror(-err));
	return o;
}

/* The line that ends just before end (end is the index of its newline). */
static const char *line_before(const char *buf, size_t end, size_t *len)
{
	const char *p = buf + end;

	while (p > buf && p[-1] != '\n')
		p--;
	*len = (size_t)(buf + end - p);
	return p;
}

static json_t *evidence(struct st *s, const char *path, const struct sts_key *log_key)
{
	const char *buf = NULL, *line;
	json_t *o, *note;
	size_t len = 0, end, n, tail;
	struct evline rec = { 0 };
	struct checkpoint cp;
	char why[256], signer[NOTE_MAX_NAME + 1];
	struct stat sb;
	bool last = true;
	int err;

	o = item(path, stat(path, &sb) == 0 || errno != ENOENT);
	if (!json_is_true(json_object_get(o, "present")))
		return o;
	err = evv_map(path, &buf, &len);
	if (err) {
		failed(s, o, "%s", err == -EINVAL ? "not a regular file" : strerror(-err));
		return o;
	}
	json_object_set_new(o, "bytes", json_integer((json_int_t)len));
	/* Bytes after the last newline: a record torn by a crash, cut by stsd at its next start. */
	for (end = len; end > 0 && buf[end - 1] != '\n'; end--)
		;
	tail = len - end;
	json_object_set_new(o, "torn_tail_bytes", json_integer((json_int_t)tail));
	/* From the end: the last record, then back to the last checkpoint. */
	while (end > 0) {
		end--;
		line = line_before(buf, end, &n);
		if (last || memmem(line, n, "\"checkpoint\"", 12)) {
			if (evline_parse(line, n, &rec, why, sizeof(why))) {
				failed(s, o, "damaged record at byte %zu: %s", (size_t)(line - buf),
				       why);
				break;
			}
			if (last)
				json_object_set_new(o, "last_record",
						    json_pack("{sI ss ss}", "seq",
							      (json_int_t)rec.seq, "time", rec.time,
							      "type", rec.type));
			last = false;
			if (strcmp(rec.type, EV_CHECKPOINT) == 0)
				break;
			evline_free(&rec);
		}
		end = (size_t)(line - buf);
	}
	if (json_object_get(o, "last_record"))
		json_object_set_new(
			o, "records",
			json_integer(json_integer_value(json_object_get(
					     json_object_get(o, "last_record"), "seq")) +
				     1));
	else
		json_object_set_new(o, "records", json_integer(0));
	if (rec.obj && strcmp(rec.type, EV_CHECKPOINT) == 0) {
		json_t *cpo = json_pack("{sI ss}", "seq", (json_int_t)rec.seq, "time", rec.time);
		const char *text;

		note = json_object_get(rec.obj, "note");
		json_object_set(cpo, "size", json_object_get(rec.obj, "size"));
		json_object_set_new(cpo, "sealed",
				    json_boolean(json_object_get(rec.obj, "seal") != NULL));
		text = json_is_string(note) ? json_string_value(note) : "";
		if (!checkpoint_parse(text, strlen(text), &cp, NULL))
			json_object_set_new(cpo, "origin", json_string(cp.origin));
		if (!log_key)
			json_object_set_new(cpo, "signature", json_string("unchecked"));
		else
			json_object_set_new(cpo, "signature",
					    json_string(checkpoint_verify(text, strlen(text),
									  log_key, &cp, signer)
								? "not by the log key"
								: "by the log key"));
		json_object_set_new(o, "last_checkpoint", cpo);
	}
	evline_free(&rec);
	evv_unmap(buf, len);
	return o;
}

static const char *when(json_t *o, const char *k, char *buf, size_t sz)
{
	time_t t = (time_t)json_integer_value(json_object_get(o, k));
	struct tm tm;

	if (!gmtime_r(&t, &tm) || !strftime(buf, sz, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, sz, "%lld", (long long)t);
	return buf;
}

static const char *js(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);

	return json_is_string(v) ? json_string_value(v) : "?";
}

static long long ji(json_t *o, const char *k)
{
	return (long long)json_integer_value(json_object_get(o, k));
}

/* "cannot read PATH: why" for an item that could not be read; false if it could. */
static bool unreadable(const char *label, json_t *o)
{
	if (!json_object_get(o, "error"))
		return false;
	printf("%-13s cannot read %s: %s\n", label, js(o, "path"), js(o, "error"));
	return true;
}

static bool missing(json_t *o)
{
	return !json_is_true(json_object_get(o, "present"));
}

static void text(json_t *r)
{
	json_t *a = json_object_get(r, "activation"), *c = json_object_get(r, "consent");
	json_t *op = json_object_get(r, "optout"), *dk = json_object_get(r, "device_key");
	json_t *lk = json_object_get(r, "log_key"), *sl = json_object_get(r, "seal");
	json_t *ev = json_object_get(r, "evidence_log"), *x;
	char t1[32], t2[32];

	printf("state directory: %s%s\n", js(r, "state_dir"),
	       json_is_false(json_object_get(r, "state_dir_present"))
		       ? " (does not exist: stsd has not run with it)"
		       : "");
	if (missing(a))
		printf("activation:   no activation yet: %s does not exist\n", js(a, "path"));
	else if (!unreadable("activation:", a) && json_is_true(json_object_get(a, "activated")))
		printf("activation:   activated at %s (activation id %s, %lld attempt(s), receipt "
		       "sha256 %s)\n",
		       when(a, "activated_at", t1, sizeof(t1)), js(a, "activation_id"),
		       ji(a, "attempts"), js(a, "receipt_sha256"));
	else if (!json_object_get(a, "error") && !ji(a, "attempts"))
		printf("activation:   not activated yet: no attempt made\n");
	else if (!json_object_get(a, "error"))
		printf("activation:   not activated yet: %lld attempt(s) with activation id %s, "
		       "next %s%s%s%s\n",
		       ji(a, "attempts"), js(a, "activation_id"),
		       ji(a, "next_attempt") ? "at " : "now",
		       ji(a, "next_attempt") ? when(a, "next_attempt", t1, sizeof(t1)) : "",
		       *js(a, "last_error") ? "; last error: " : "",
		       *js(a, "last_error") ? js(a, "last_error") : "");
	if (missing(c))
		printf("consent:      never asked: %s does not exist (the country is not sent)\n",
		       js(c, "path"));
	else if (!unreadable("consent:", c))
		printf(json_is_true(json_object_get(c, "granted"))
			       ? "consent:      country %s may be sent, granted at %s\n"
			       : "consent:      %swithdrawn at %s (the country is not sent)\n",
		       js(c, "country"), when(c, "changed_at", t1, sizeof(t1)));
	if (missing(op))
		printf("opt-out:      not opted out (%s does not exist)\n", js(op, "path"));
	else if (!unreadable("opt-out:", op))
		printf("opt-out:      periodic reports off for good since %s\n",
		       when(op, "at", t1, sizeof(t1)));
	if (missing(dk))
		printf("device key:   none yet: %s does not exist (stsd creates it on first "
		       "start)\n",
		       js(dk, "path"));
	else if (!unreadable("device key:", dk))
		printf("device key:   kid %s (%s)\n", js(dk, "kid"), js(dk, "path"));
	if (missing(lk))
		printf("log key:      none yet: %s does not exist (stsd creates it on first "
		       "start)\n",
		       js(lk, "path"));
	else if (!unreadable("log key:", lk))
		printf("log key:      key id %s, name %s (%s)\n", js(lk, "key_id"), js(lk, "name"),
		       js(lk, "path"));
	if (missing(sl))
		printf("seals:        off: %s does not exist (stsctl seal-init creates it)\n",
		       js(sl, "path"));
	else if (!unreadable("seals:", sl))
		printf("seals:        on (%s)\n", js(sl, "path"));
	if (missing(ev)) {
		printf("evidence log: none yet: %s does not exist\n", js(ev, "path"));
		return;
	}
	if (json_object_get(ev, "bytes"))
		printf("evidence log: %s, %lld bytes, %lld record(s)", js(ev, "path"),
		       ji(ev, "bytes"), ji(ev, "records"));
	if ((x = json_object_get(ev, "last_record")))
		printf(", the last at %s (seq %lld, %s)", js(x, "time"), ji(x, "seq"),
		       js(x, "type"));
	if (json_object_get(ev, "bytes"))
		putchar('\n');
	if (unreadable("evidence log:", ev))
		return;
	if (ji(ev, "torn_tail_bytes"))
		printf("              %lld bytes of a torn last record (stsd cuts them at its "
		       "next start)\n",
		       ji(ev, "torn_tail_bytes"));
	x = json_object_get(ev, "last_checkpoint");
	if (x) {
		snprintf(t2, sizeof(t2), "%s",
			 json_is_true(json_object_get(x, "sealed")) ? ", sealed" : "");
		printf("              last checkpoint: seq %lld at %s, covers %lld record(s), "
		       "origin %s%s, "
		       "signature %s\n",
		       ji(x, "seq"), js(x, "time"), ji(x, "size"), js(x, "origin"), t2,
		       js(x, "signature"));
	} else if (ji(ev, "records")) {
		printf("              last checkpoint: none: no record of this log is signed "
		       "yet\n");
	}
	printf("(not verified here: stsctl verify %s --log-key %s)\n", js(ev, "path"),
	       js(lk, "path"));
}

int cmd_status(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "state-dir", required_argument, NULL, 'd' },
		{ "log", required_argument, NULL, 'l' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct st s = { .dir = STS_STATE_DIR_DEFAULT };
	const char *log_arg = NULL;
	char log_path[PATH_MAX], seal[PATH_MAX], *out = NULL;
	struct sts_key dkey = { 0 }, lkey = { 0 };
	bool json = false;
	json_t *r = NULL, *lk;
	int c, rc = STS_EXIT_USAGE;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			s.dir = optarg;
			break;
		case 'l':
			log_arg = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			return cli_help(help, exits, ARRAY_SIZE(exits));
		default:
			return cli_usage_hint();
		}
	}
	if (!cli_operands(argc - optind, argv + optind, ""))
		return STS_EXIT_USAGE;
	if (!*s.dir || strlen(s.dir) > PATH_MAX - 64)
		return cli_usage_error("--state-dir: empty or too long");
	if (log_arg)
		snprintf(log_path, sizeof(log_path), "%s", log_arg);
	else
		snprintf(log_path, sizeof(log_path), "%s/evidence.log", s.dir);
	lk = key(&s, "log.key.pub", true, &lkey);
	r = json_pack("{ss so so so so so so}", "state_dir", s.dir, "activation", activation(&s),
		      "consent", consent(&s), "optout", optout(&s), "device_key",
		      key(&s, "device.key.pub", false, &dkey), "log_key", lk, "seal",
		      probe(&s, "seal.state", seal, sizeof(seal)));
	if (r)
		json_object_set_new(r, "state_dir_present",
				    json_boolean(access(s.dir, F_OK) == 0 || errno != ENOENT));
	if (r)
		json_object_set_new(r, "evidence_log",
				    evidence(&s, log_path, lkey.pkey ? &lkey : NULL));
	if (!r) {
		sts_err("out of memory");
		goto cleanup;
	}
	if (json) {
		out = json_dumps(r, JSON_COMPACT | JSON_PRESERVE_ORDER);
		if (!out) {
			sts_err("out of memory");
			goto cleanup;
		}
		printf("%s\n", out);
	} else {
		text(r);
	}
	rc = s.damaged ? STS_EXIT_FAIL : STS_EXIT_OK;
cleanup:
	free(out);
	json_decref(r);
	sts_key_free(&dkey);
	sts_key_free(&lkey);
	return rc;
}
