// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fault injection on the activation (issue 7), with the real parts of activation.c: stsd daemon
 * and its agent under BPF enforcement, a real sts-collector, a TCP relay and, where the fault is
 * the server's, a TLS server presenting the collector's own certificate. Each story ends the
 * same way: exactly one activation at the collector and an evidence log that `stsctl verify`
 * accepts.
 *
 *   slow          the request or the answer held back past the agent's collector-timeout
 *   http_500      a front end answering 500, before and after the collector stored the report
 *   forged        receipts signed by another key, altered, for another report or activation
 *   state_full    the state directory (a small tmpfs) full at several points of an attempt
 *   state_ro      the state directory read-only
 *   kill          kill -9 of stsd or of its agent at random points, STS_FAULT_KILLS times
 *                 (default 100), seed STS_FAULT_SEED (default: the clock; always printed).
 *                 The seed fixes the draws (target, point, delay, kills per device); whether
 *                 a kill lands before the attempt ends depends on timing, so a rerun can
 *                 diverge after a miss. STS_FAULT_DEBUG=1 prints each miss.
 */
#include "test.h"
#include "activation_helpers.h"
#include "cgroup_helpers.h"
#include "core/crypto.h"
#include "wire/jws.h"
#include "tls_server.h"
#include "core/util.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A retry of the same device against the real collector, then the story's common ending. */
static void ends_with_one_activation(struct act_env *e, const char *what)
{
	char check[200];

	e->px.target_port = e->col.port;
	e->px.delay_request_ms = e->px.delay_answer_ms = 0;
	e->px.stall = false;
	ASSERT_TRUE(act_retry_due_now(e), "time passes: the retry is due");
	snprintf(check, sizeof(check), "%s: the retry is receipted", what);
	ASSERT_EQ(act_stsd_once(e), 0, check);
	snprintf(check, sizeof(check), "%s: exactly one activation at the collector", what);
	ASSERT_EQ(act_stored(e), 1, check);
	snprintf(check, sizeof(check), "%s: one verified receipt in the log", what);
	ASSERT_EQ(act_log_count(e, "\"status\":\"verified\""), 1, check);
	snprintf(check, sizeof(check), "%s: stsctl verify accepts the evidence log", what);
	ASSERT_TRUE(act_log_verifies(e), check);
}

/*
 * The SHA-256 of the report the collector stored, and how often the log names it: a retry must
 * send the very bytes of the first attempt (else the collector answers 409, not its receipt).
 */
static int log_names_stored_report(struct act_env *e)
{
	char *s = act_stored_json(e), needle[100];
	json_t *j = s ? json_loads(s, 0, NULL) : NULL;
	const char *sha = json_string_value(json_object_get(json_array_get(j, 0), "sha256"));
	int n = -1;

	if (sha) {
		snprintf(needle, sizeof(needle), "\"sha256\":\"%s\"", sha);
		n = act_log_count(e, needle);
	}
	json_decref(j);
	free(s);
	return n;
}

void test_faults_slow(void)
{
	static const char conf[] = "collector-timeout 2\n";
	struct act_env e;

	/* The request is held until the agent gave up: the collector never sees it. */
	if (!act_setup(&e, "slow-request", NULL, conf, NULL))
		goto cleanup;
	e.px.delay_request_ms = 4500;
	ASSERT_EQ(act_stsd_once(&e), EX_TEMPFAIL, "slow request: the agent times out, retry");
	ASSERT_EQ(act_stored(&e), 0, "nothing reached the collector");
	ASSERT_GE(act_log_count(&e, "no complete answer from localhost within 2 s"), 1,
		  "the log says the collector did not answer in time");
	ends_with_one_activation(&e, "slow request");
	act_teardown(&e);

	/* Stored, but the answer comes too late: the retry resends the same bytes, deduplicated. */
	if (!act_setup(&e, "slow-answer", NULL, conf, NULL))
		goto cleanup;
	e.px.delay_answer_ms = 4500;
	ASSERT_EQ(act_stsd_once(&e), EX_TEMPFAIL, "slow answer: the agent times out, retry");
	ASSERT_EQ(act_stored(&e), 1, "the collector stored the report all the same");
	ASSERT_EQ(act_log_count(&e, "\"status\":\"verified\""), 0, "no receipt yet");
	ends_with_one_activation(&e, "slow answer");
	ASSERT_EQ(act_log_count(&e, "\"type\":\"transmission\""), 2, "two transmissions");
	/* report_approved and transmission, twice each: the same bytes both times. */
	ASSERT_EQ(log_names_stored_report(&e), 4, "both attempts sent the stored report's bytes");
cleanup:
	act_teardown(&e);
}

/* A server with the collector's certificate in front of it, answering what mode says. */
enum front_mode {
	F_500, /* 500 without passing the report on */
	F_500_STORED, /* the collector stored it, the front end answers 500 */
	F_OTHER_KEY, /* the receipt re-signed by another key */
	F_ALTERED, /* a receipt member changed, the signature kept */
	F_OTHER_REPORT, /* the collector's key, but the SHA-256 of other bytes */
	F_OTHER_AID, /* the collector's key, but another activation's receipt */
};

struct front {
	struct act_env *e;
	enum front_mode mode;
	struct sts_key other, real;
	struct tls_server srv;
};

static int http_answer(char *out, size_t outsz, int status, const char *body)
{
	return snprintf(out, outsz,
			"HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: "
			"%zu\r\nConnection: close\r\n\r\n%s",
			status, status == 500 ? "Internal Server Error" : "Created", strlen(body),
			body);
}

/* The forged receipt for the collector's genuine one, or NULL. Heap string. */
static char *forge(struct front *f, const char *receipt)
{
	char reason[200], aid[STS_AID_LEN + 1], *out = NULL, *payload = NULL, *enc = NULL;
	const char *dot1, *dot2;
	struct sts_jws jws;
	size_t len;
	json_t *p;

	if (sts_jws_parse(receipt, strlen(receipt), &jws, reason, sizeof(reason)))
		return NULL;
	p = json_loadb(jws.payload, jws.payload_len, 0, NULL);
	snprintf(aid, sizeof(aid), "%s", jws.aid);
	switch (f->mode) {
	case F_OTHER_KEY:
		sts_jws_sign(&f->other, aid, false, jws.payload, jws.payload_len, &out, &len);
		break;
	case F_ALTERED:
		json_object_set_new(
			p, "seq", json_integer(json_integer_value(json_object_get(p, "seq")) + 1));
		payload = json_dumps(p, JSON_COMPACT | JSON_PRESERVE_ORDER);
		dot1 = strchr(receipt, '.');
		dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
		enc = payload ? malloc(sts_b64url_len(strlen(payload)) + 1) : NULL;
		if (dot2 && enc &&
		    !sts_b64url_encode((uint8_t *)payload, strlen(payload), enc,
				       sts_b64url_len(strlen(payload)) + 1) &&
		    asprintf(&out, "%.*s.%s%s", (int)(dot1 - receipt), receipt, enc, dot2) < 0)
			out = NULL;
		break;
	case F_OTHER_REPORT:
	case F_OTHER_AID:
		if (f->mode == F_OTHER_REPORT) {
			json_object_set_new(p, "sha256",
					    json_string("00000000000000000000000000000000"
							"00000000000000000000000000000000"));
		} else {
			sts_aid_new(aid);
			json_object_set_new(p, "aid", json_string(aid));
		}
		payload = json_dumps(p, JSON_COMPACT | JSON_PRESERVE_ORDER);
		if (payload)
			sts_jws_sign(&f->real, aid, false, payload, strlen(payload), &out, &len);
		break;
	default:
		break;
	}
	free(payload);
	free(enc);
	json_decref(p);
	sts_jws_free(&jws);
	return out;
}

static int front_respond(struct tls_server *s, const char *req, size_t len, char *out, size_t outsz)
{
	struct front *f = s->o.arg;
	const char *body = memmem(req, len, "\r\n\r\n", 4);
	char *resp = NULL, *forged = NULL, *text = NULL;
	json_t *j = NULL;
	int status = 0, n = -1;

	if (!body)
		return -1;
	body += 4;
	if (f->mode == F_500)
		return http_answer(out, outsz, 500, "{\"error\":\"internal\"}");
	if (https_post(f->e->col.ca, f->e->col.port, "/v1/activations", "application/jose", body,
		       req + len - body, &status, &resp))
		return -1;
	if (f->mode == F_500_STORED) {
		n = http_answer(out, outsz, 500, "{\"error\":\"internal\"}");
		goto done;
	}
	j = resp ? json_loads(resp, 0, NULL) : NULL;
	forged = forge(f, json_string_value(json_object_get(j, "receipt")) ?: "");
	if (!forged)
		goto done;
	json_object_set_new(j, "receipt", json_string(forged));
	text = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (text)
		n = http_answer(out, outsz, status, text);
done:
	free(text);
	free(forged);
	json_decref(j);
	free(resp);
	return n;
}

static bool front_start(struct front *f, struct act_env *e, enum front_mode mode)
{
	char cert[600], key[600], other[700], rkey[600];
	struct tls_server_opts o = { .respond = front_respond, .arg = f };

	memset(f, 0, sizeof(*f));
	f->e = e;
	f->mode = mode;
	snprintf(cert, sizeof(cert), "%s/server.pem", e->col.dir);
	snprintf(key, sizeof(key), "%s/server.key", e->col.dir);
	o.cert_file = cert;
	o.key_file = key;
	snprintf(other, sizeof(other), "%s/other.key", e->dir);
	snprintf(rkey, sizeof(rkey), "%s/receipt.key", e->col.dir);
	unlink(other);
	if (!ASSERT_OK(sts_key_generate(other, NULL, &f->other),
		       "a key that is not the collector's") ||
	    !ASSERT_OK(sts_key_load_private(rkey, &f->real), "the collector's receipt key") ||
	    !ASSERT_OK(tls_server_start_opts(&f->srv, &o), "start the front end"))
		return false;
	e->px.target_port = f->srv.port;
	return true;
}

static void front_stop(struct front *f)
{
	tls_server_stop(&f->srv);
	sts_key_free(&f->other);
	sts_key_free(&f->real);
}

static const struct {
	enum front_mode mode;
	const char *name;
	int stored; /* activations at the collector after the faulty attempt */
	const char *why; /* what the log says */
} front_cases[] = {
	{ F_500, "500", 0, "the collector answered HTTP 500" },
	{ F_500_STORED, "500-after-store", 1, "the collector answered HTTP 500" },
	{ F_OTHER_KEY, "receipt-other-key", 1, "\"status\":\"rejected\"" },
	{ F_ALTERED, "receipt-altered", 1, "\"status\":\"rejected\"" },
	{ F_OTHER_REPORT, "receipt-other-report", 1, "\"status\":\"rejected\"" },
	{ F_OTHER_AID, "receipt-other-aid", 1, "\"status\":\"rejected\"" },
};

static void front_case(size_t i)
{
	char check[200];
	struct front f = { 0 };
	struct act_env e;

	if (!act_setup(&e, front_cases[i].name, NULL, NULL, NULL) ||
	    !front_start(&f, &e, front_cases[i].mode))
		goto cleanup;
	snprintf(check, sizeof(check), "%s: not activated, retry scheduled", front_cases[i].name);
	ASSERT_EQ(act_stsd_once(&e), EX_TEMPFAIL, check);
	snprintf(check, sizeof(check), "%s: activations at the collector", front_cases[i].name);
	ASSERT_EQ(act_stored(&e), front_cases[i].stored, check);
	snprintf(check, sizeof(check), "%s: the log says why", front_cases[i].name);
	ASSERT_GE(act_log_count(&e, front_cases[i].why), 1, check);
	snprintf(check, sizeof(check), "%s: no verified receipt", front_cases[i].name);
	ASSERT_EQ(act_log_count(&e, "\"status\":\"verified\""), 0, check);
	ends_with_one_activation(&e, front_cases[i].name);
	if (front_cases[i].stored) {
		snprintf(check, sizeof(check), "%s: the retry sent the same bytes",
			 front_cases[i].name);
		ASSERT_EQ(log_names_stored_report(&e), 4, check);
	}
cleanup:
	front_stop(&f);
	act_teardown(&e);
}

void test_faults_http_500(void)
{
	front_case(0);
	front_case(1);
}

void test_faults_forged_receipt(void)
{
	size_t i;

	for (i = 2; i < sizeof(front_cases) / sizeof(front_cases[0]); i++)
		front_case(i);
}

/* The device's state dir on its own small tmpfs (size in KiB). */
static bool state_on_tmpfs(struct act_env *e, int kib)
{
	char opts[64];

	snprintf(opts, sizeof(opts), "size=%dk,mode=0700", kib);
	return ASSERT_OK(sts_mkdir_p(e->state, 0700), "the state dir") &&
	       ASSERT_OK(mount("tmpfs", e->state, "tmpfs", 0, opts), "mount a tmpfs on it");
}

/* Fill the file system of dir, leaving about keep_kib free; the filler's path into path. */
static int fill(const char *dir, int keep_kib, char *path, size_t len)
{
	static char block[1024];
	int fd, n = 0;

	snprintf(path, len, "%s/filler", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		return -errno;
	while (write(fd, block, sizeof(block)) == (ssize_t)sizeof(block))
		n++;
	close(fd);
	/* Give back keep_kib: the next writes get that far, then ENOSPC. */
	if (keep_kib && truncate(path, (off_t)(n > keep_kib ? n - keep_kib : 0) * 1024) < 0)
		return -errno;
	return 0;
}

/*
 * The state dir fills up after a first, failed attempt left its records and the activation id
 * there. Whatever was left free (nothing, a page, a few), the attempt either sends with its
 * evidence in place or sends nothing and says why; once there is space again, one activation.
 */
void test_faults_state_full(void)
{
	static const int keep[] = { 0, 4, 8, 12, 16 };
	char name[64], filler[700], check[160], err[700], *buf = NULL;
	struct act_env e;
	size_t i, len;
	int st;

	for (i = 0; i < sizeof(keep) / sizeof(keep[0]); i++) {
		snprintf(name, sizeof(name), "full-%d", keep[i]);
		if (!act_setup(&e, name, NULL, NULL, NULL) || !state_on_tmpfs(&e, 256))
			goto next;
		e.px.target_port = 0;
		ASSERT_EQ(act_stsd_once(&e), EX_TEMPFAIL, "collector down: first attempt fails");
		e.px.target_port = e.col.port;
		ASSERT_TRUE(act_retry_due_now(&e), "the retry is due");
		if (!ASSERT_OK(fill(e.state, keep[i], filler, sizeof(filler)),
			       "fill the state dir"))
			goto next;
		st = act_stsd_once(&e);
		snprintf(check, sizeof(check), "%d KiB left: activated or refused (status %d)",
			 keep[i], st);
		ASSERT_TRUE(st == 0 || st == 3 || st == EX_TEMPFAIL, check);
		snprintf(err, sizeof(err), "%s/stsd.err", e.dir);
		if (st != 0 && !test__cur.verbose && sts_read_file(err, 1 << 20, &buf, &len) == 0) {
			snprintf(check, sizeof(check), "%d KiB left: the error names the cause",
				 keep[i]);
			ASSERT_TRUE(strstr(buf, "No space left on device") != NULL, check);
		}
		free(buf);
		buf = NULL;
		snprintf(check, sizeof(check), "%d KiB left: at most one activation", keep[i]);
		ASSERT_TRUE(act_stored(&e) <= 1, check);
		unlink(filler);
		snprintf(check, sizeof(check), "state dir full with %d KiB left", keep[i]);
		if (st == 0) {
			ASSERT_EQ(act_stored(&e), 1, check);
			ASSERT_TRUE(act_log_verifies(&e), check);
		} else {
			ends_with_one_activation(&e, check);
		}
	next:
		umount2(e.state, MNT_DETACH);
		act_teardown(&e);
	}
}

void test_faults_state_readonly(void)
{
	char err[700], *buf = NULL;
	struct act_env e;
	size_t len;

	/* Read-only from the start: no key, no log, nothing sent. */
	if (!act_setup(&e, "ro-fresh", NULL, NULL, NULL) || !state_on_tmpfs(&e, 1024))
		goto cleanup;
	ASSERT_OK(mount(NULL, e.state, NULL, MS_REMOUNT | MS_RDONLY, NULL), "remount read-only");
	ASSERT_EQ(act_stsd_once(&e), 3, "read-only state dir: refused");
	ASSERT_EQ(act_stored(&e), 0, "nothing sent");
	snprintf(err, sizeof(err), "%s/stsd.err", e.dir);
	ASSERT_TRUE(sts_read_file(err, 1 << 20, &buf, &len) == 0 &&
			    strstr(buf, "Read-only file system"),
		    "the error names the cause");
	free(buf);
	buf = NULL;
	ASSERT_OK(mount(NULL, e.state, NULL, MS_REMOUNT, NULL), "writable again");
	ASSERT_EQ(act_stsd_once(&e), 0, "then the activation");
	ASSERT_EQ(act_stored(&e), 1, "exactly one activation");
	ASSERT_TRUE(act_log_verifies(&e), "stsctl verify accepts the evidence log");
	umount2(e.state, MNT_DETACH);
	act_teardown(&e);

	/* Read-only after a failed attempt: its records and the activation id are kept. */
	if (!act_setup(&e, "ro-later", NULL, NULL, NULL) || !state_on_tmpfs(&e, 1024))
		goto cleanup;
	e.px.target_port = 0;
	ASSERT_EQ(act_stsd_once(&e), EX_TEMPFAIL, "collector down: first attempt fails");
	e.px.target_port = e.col.port;
	ASSERT_TRUE(act_retry_due_now(&e), "the retry is due");
	ASSERT_OK(mount(NULL, e.state, NULL, MS_REMOUNT | MS_RDONLY, NULL), "remount read-only");
	ASSERT_EQ(act_stsd_once(&e), 3, "read-only state dir: refused");
	ASSERT_EQ(act_stored(&e), 0, "nothing sent without its evidence");
	ASSERT_OK(mount(NULL, e.state, NULL, MS_REMOUNT, NULL), "writable again");
	ends_with_one_activation(&e, "read-only state dir");
cleanup:
	umount2(e.state, MNT_DETACH);
	act_teardown(&e);
}

/* xorshift64*: reproducible from the printed seed. */
static uint64_t rng_state;

static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ULL;
}

enum kill_point { K_UNIFORM, K_REQUEST_SENT, K_STORED, K_ANSWER_HELD, K_POINTS };
static const char *const point_names[K_POINTS] = { "uniform", "request-sent", "stored",
						   "answer-held" };

/* Is the cgroup stsd policed its agent in empty or gone (within ms)? */
static bool cgroup_emptied(pid_t stsd, int ms)
{
	char root[512], path[1100], *buf = NULL;
	size_t len;
	int i;

	if (cg_root(root, sizeof(root)))
		return false;
	snprintf(path, sizeof(path), "%s/stsguard/run-%d/cgroup.procs", root, (int)stsd);
	for (i = 0; i < ms / 10; i++) {
		if (sts_read_file(path, 4096, &buf, &len) != 0 || len == 0) {
			free(buf);
			return true;
		}
		if (i == ms / 10 - 1) {
			/* Say who is left, and in what state (Z: a zombie nobody reaped). */
			char *line, *save, stat[64], st[300];

			for (line = strtok_r(buf, "\n", &save); line;
			     line = strtok_r(NULL, "\n", &save)) {
				snprintf(stat, sizeof(stat), "/proc/%s/stat", line);
				if (test__run(st, sizeof(st), "cat %s", stat) == 0)
					printf("    left in run-%d: %s", (int)stsd, st);
			}
		}
		free(buf);
		buf = NULL;
		usleep(10000);
	}
	return false;
}

static bool cgroup_exists(pid_t stsd)
{
	char root[512], path[1100];

	if (cg_root(root, sizeof(root)))
		return false;
	snprintf(path, sizeof(path), "%s/stsguard/run-%d", root, (int)stsd);
	return access(path, F_OK) == 0;
}

/*
 * Wait until the relay's counter passes `from`, up to ms. False if stsd ended first (its wait
 * status into *status) or on timeout.
 */
static bool wait_counter(volatile unsigned *c, unsigned from, pid_t pid, int ms, int *status)
{
	int64_t end = now_ms() + ms;

	while (*c == from && now_ms() < end) {
		if (waitpid(pid, status ? status : &(int){ 0 }, WNOHANG) == pid)
			return false;
		usleep(500);
	}
	return *c != from;
}

/*
 * Calibrate on one undisturbed activation: when its request reached the relay (the agent runs
 * around then; before, stsd loads its BPF) and when the collector's answer came back (the
 * receipt is checked, logged and the state saved within a few ms; after that stsd only tears
 * down), in ms from the start.
 */
static bool calibrate(int64_t *request, int64_t *answer)
{
	struct act_env e;
	int64_t t0;
	pid_t pid;
	bool ok = false;

	if (act_setup(&e, "calibrate", NULL, NULL, NULL)) {
		t0 = now_ms();
		pid = act_stsd_spawn(&e);
		*request = wait_counter(&e.px.requests, 0, pid, 30000, NULL) ? now_ms() - t0 : 0;
		*answer = wait_counter(&e.px.answers, 0, pid, 30000, NULL) ? now_ms() - t0 : 0;
		ok = ASSERT_EQ(act_stsd_wait(pid), 0, "calibration: one undisturbed activation");
	}
	act_teardown(&e);
	return ok && *request > 0 && *answer >= *request;
}

/*
 * One kill -9 during an attempt of device e: stsd or its agent, at a point drawn from kp.
 * Returns 1 if a process of the attempt was killed, 0 if the attempt ended first (a miss), and
 * *activated tells whether the device is activated after it.
 */
static int kill_once(struct act_env *e, enum kill_point kp, bool agent, int64_t full,
		     int64_t request, int n, bool *activated, pid_t *stsd)
{
	unsigned req = e->px.requests, ans = e->px.answers;
	int status = -1, st, hit = 0;
	int64_t from, to;
	char check[200];
	bool ended = false;
	pid_t pid;

	/* Held until released below: long enough for a surviving agent to be seen. */
	e->px.delay_answer_ms = kp == K_ANSWER_HELD ? 10000 : 0;
	e->px.release = false;
	act_retry_due_now(e); /* a killed attempt may have scheduled one */
	pid = *stsd = act_stsd_spawn(e);
	switch (kp) {
	case K_UNIFORM:
		/*
		 * stsd from its start to the end of the activation (full: the answer plus the
		 * receipt's processing); the agent over its own life, from shortly before its
		 * request to just after the answer (then it exits).
		 */
		from = agent ? request * 3 / 4 : 0;
		to = agent ? full - 80 : full;
		usleep((from + rnd() % (uint64_t)(to - from)) * 1000);
		break;
	case K_REQUEST_SENT:
		ended = !wait_counter(&e->px.requests, req, pid, 10000, &status);
		break;
	default:
		ended = !wait_counter(&e->px.answers, ans, pid, 10000, &status);
		break;
	}
	if (!ended && waitpid(pid, &status, WNOHANG) == pid)
		ended = true;
	if (!ended) {
		hit = agent ? act_kill_agent(pid) > 0 : kill(pid, SIGKILL) == 0;
		st = act_stsd_wait(pid);
	} else {
		st = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	}
	if (!agent && hit) {
		/*
		 * While the answer is held, the agent waits in its read: only its monitor's
		 * death can end it before the answer is released. Elsewhere the agent may be
		 * caught in a cgroup move (state D) for a while, but dies when it leaves it.
		 */
		snprintf(check, sizeof(check), "kill %d (%s, stsd): its agent does not outlive it",
			 n, point_names[kp]);
		ASSERT_TRUE(cgroup_emptied(pid, kp == K_ANSWER_HELD ? 1000 : 3000), check);
	}
	e->px.delay_answer_ms = 0;
	e->px.release = kp == K_ANSWER_HELD; /* let the relay go on */
	snprintf(check, sizeof(check), "kill %d (%s, %s): at most one activation", n,
		 point_names[kp], agent ? "agent" : "stsd");
	ASSERT_TRUE(act_stored(e) <= 1, check);
	*activated = st == 0;
	if (!hit && getenv("STS_FAULT_DEBUG"))
		printf("    miss: %s %s status %d ended %d\n", point_names[kp],
		       agent ? "agent" : "stsd", st, ended);
	return hit;
}

void test_faults_kill(void)
{
	const char *s = getenv("STS_FAULT_KILLS"), *seed_s = getenv("STS_FAULT_SEED");
	int total = s ? atoi(s) : 100, done = 0, dev = 0, misses = 0, i, nstsd;
	int by_point[K_POINTS] = { 0 }, by_target[2] = { 0 };
	uint64_t seed = seed_s ? strtoull(seed_s, NULL, 0) : (uint64_t)time(NULL) ^ getpid();
	int64_t full, request = 0, answer = 0, t0 = now_ms();
	char name[32], check[200];
	struct act_env e;

	printf("    faults: kill seed %llu (STS_FAULT_SEED=%llu reproduces), %d kills\n",
	       (unsigned long long)seed, (unsigned long long)seed, total);
	rng_state = seed ? seed : 1;
	if (!ASSERT_TRUE(calibrate(&request, &answer), "calibration"))
		return;
	/* Uniform kills over the activation: up to its answer and the receipt's processing. */
	full = answer + 100;
	printf("    faults: in an undisturbed activation the request leaves at %lld ms, the "
	       "answer is back at %lld ms\n",
	       (long long)request, (long long)answer);
	while (done < total) {
		/* A device's story: 4 to 8 kills during its attempts, then one undisturbed. */
		int want = 4 + (int)(rnd() % 5), nk = 0, tries = 0;
		pid_t killed[8], pid;
		bool activated = false;

		nstsd = 0;
		snprintf(name, sizeof(name), "kill-%d", dev++);
		if (!act_setup(&e, name, NULL, NULL, NULL))
			break;
		while (nk < want && done < total && !activated && tries++ < 4 * want) {
			/* Half drawn uniformly over an activation, half keyed to its events. */
			enum kill_point kp = rnd() % 2 ? K_UNIFORM : 1 + rnd() % (K_POINTS - 1);
			bool agent = rnd() % 2;
			if (kill_once(&e, kp, agent, full, request, done, &activated, &pid)) {
				by_point[kp]++;
				by_target[agent]++;
				if (!agent)
					killed[nstsd++] = pid;
				done++;
				nk++;
			} else {
				misses++;
			}
		}
		snprintf(check, sizeof(check), "device %s after %d kills", name, nk);
		if (activated) {
			ASSERT_EQ(act_stored(&e), 1, check);
			ASSERT_TRUE(act_log_verifies(&e), check);
		} else {
			ends_with_one_activation(&e, check);
		}
		/* The next start swept the cgroups the killed monitors left behind. */
		for (i = 0; i < nstsd; i++) {
			snprintf(check, sizeof(check), "%s: no cgroup left by killed stsd %d", name,
				 (int)killed[i]);
			ASSERT_FALSE(cgroup_exists(killed[i]), check);
		}
		act_teardown(&e);
	}
	ASSERT_EQ(done, total, "every kill was made");
	printf("    faults: %d kills on %d devices in %.1f s: stsd %d, agent %d; uniform %d, "
	       "request-sent %d, stored %d, answer-held %d; %d attempts ended before their kill\n",
	       done, dev, (now_ms() - t0) / 1000.0, by_target[0], by_target[1], by_point[0],
	       by_point[1], by_point[2], by_point[3], misses);
}
