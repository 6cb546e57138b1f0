// SPDX-License-Identifier: GPL-2.0-only
/*
 * The mmcli: source of the identifier broker (see imei.h): run ModemManager's
 * `mmcli -m N --output-keyvalue` and read the equipment identifier from its output.
 */
#include "device/imei.h"
#include "device/imei_int.h"
#include "core/crypto.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/*
 * The child's whole environment: a fixed PATH for what mmcli itself may run, and the C locale
 * so that its output is the untranslated key-value format parsed below.
 */
#define SPAWN_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
/* Where mmcli is looked for when the caller has no PATH. */
#define DEFAULT_SEARCH_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/*
 * Find mmcli in the caller's PATH, as a shell would, so that the operator (and the tests)
 * decide which mmcli runs; empty and relative PATH entries are skipped, since the monitor runs
 * as root and its working directory is nobody's choice.
 */
static int find_in_path(const char *name, char *out, size_t outsz)
{
	const char *path = getenv("PATH"), *p, *colon;
	struct stat st;
	size_t n;

	if (!path || !*path)
		path = DEFAULT_SEARCH_PATH;
	for (p = path; *p; p = *colon ? colon + 1 : colon) {
		colon = strchrnul(p, ':');
		n = (size_t)(colon - p);
		if (!n || p[0] != '/' || n + strlen(name) + 2 > outsz)
			continue;
		snprintf(out, outsz, "%.*s/%s", (int)n, p, name);
		if (stat(out, &st) == 0 && S_ISREG(st.st_mode) && access(out, X_OK) == 0)
			return 0;
	}
	return -ENOENT;
}

static bool key_char(char c)
{
	return islower((unsigned char)c) || isdigit((unsigned char)c) || c == '.' || c == '-' ||
	       c == '_' || c == '[' || c == ']';
}

/*
 * One line of `mmcli --output-keyvalue`: a key, at least one space of padding, ':', then the
 * end of the line or a space and the value. False for any other shape; else kn is the key's
 * length and val where the value starts (untrimmed).
 */
static bool kv_line(const char *ls, size_t ln, size_t *kn, const char **val)
{
	const char *s, *end = ls + ln;

	for (*kn = 0; *kn < ln && key_char(ls[*kn]); (*kn)++)
		;
	s = ls + *kn;
	while (s < end && *s == ' ')
		s++;
	if (!*kn || s == ls + *kn || s + 1 > end || *s != ':' || (s + 1 < end && s[1] != ' '))
		return false;
	*val = s + 1;
	return true;
}

/*
 * `mmcli --output-keyvalue` prints "key<padding> : value" lines. Every line must have that
 * shape, and the equipment identifier must appear exactly once: output that does not look
 * like mmcli's is refused rather than searched for something IMEI-shaped.
 */
static int mmcli_parse(const char *buf, size_t len, const char *who, char imei[16], char *why,
		       size_t whylen)
{
	static const char key[] = "modem.generic.equipment-identifier";
	const char *p = buf, *end = buf + len, *ls, *v = NULL, *s;
	size_t ln, kn, vn = 0, lineno = 0;
	bool term;

	while (imei_next_line(&p, end, &ls, &ln, &term)) {
		lineno++;
		if (!ln)
			continue;
		if (!kv_line(ls, ln, &kn, &s))
			return imei_fail(why, whylen, -EBADMSG,
					 "%s printed line %zu in a format other than mmcli's "
					 "key-value output",
					 who, lineno);
		if (kn == sizeof(key) - 1 && memcmp(ls, key, kn) == 0) {
			if (v)
				return imei_fail(why, whylen, -EBADMSG, "%s printed %s twice", who,
						 key);
			v = s;
			vn = (size_t)(ls + ln - v);
			imei_trim(&v, &vn);
		}
	}
	if (!v)
		return imei_fail(why, whylen, -EBADMSG, "%s printed no %s", who, key);
	if (vn == 2 && memcmp(v, "--", 2) == 0)
		return imei_fail(why, whylen, -EIO,
				 "%s reports no equipment identifier (modem not initialised yet?)",
				 who);
	if (!imei_all_digits(v, vn))
		return imei_fail(
			why, whylen, -EBADMSG,
			"%s reports an equipment identifier that is not an IMEI (a CDMA ESN or "
			"MEID?)",
			who);
	return imei_accept(v, vn, who, imei, why, whylen);
}

int sts_imei_parse_mmcli(const char *buf, size_t len, char imei[16], char *why, size_t whylen)
{
	return mmcli_parse(buf, len, "mmcli", imei, why, whylen);
}

/* What mmcli printed on one pipe: up to max bytes are kept, the rest is read and dropped. */
struct capture {
	char *buf;
	size_t len, max;
	bool overflow;
};

/* One run of mmcli, from spawn to reaping. */
struct mmcli_run {
	const char *who; /* "mmcli -m N", for messages */
	int timeout_ms;
	int64_t deadline;
	pid_t pid; /* > 0 until reaped */
	struct capture out, err;
};

/* Read what is there; true at end of file. */
static bool capture_read(int fd, struct capture *c)
{
	char junk[512];
	ssize_t r;

	if (c->len < c->max)
		r = read(fd, c->buf + c->len, c->max - c->len);
	else
		r = read(fd, junk, sizeof(junk));
	if (r < 0)
		return errno != EINTR && errno != EAGAIN;
	if (r == 0)
		return true;
	if (c->len < c->max)
		c->len += (size_t)r;
	else
		c->overflow = true;
	return false;
}

static int mmcli_timed_out(const struct mmcli_run *r, char *why, size_t whylen)
{
	return imei_fail(why, whylen, -ETIMEDOUT,
			 "%s did not finish within %d ms (is ModemManager running?)", r->who,
			 r->timeout_ms);
}

/*
 * Start prog as `mmcli -m INDEX --output-keyvalue`: stdin from /dev/null, stdout and stderr
 * into the pipes out_fd and err_fd, no other descriptor, no blocked or caught signal, and only the
 * fixed environment. 0 with *pid set, or -errno.
 */
static int mmcli_spawn(const char *prog, const char *index, int out_fd, int err_fd, pid_t *pid)
{
	char *argv[] = { "mmcli", "-m", (char *)index, "--output-keyvalue", NULL };
	char *envp[] = { SPAWN_PATH, "LC_ALL=C", NULL };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	bool fa_init = false, attr_init = false;
	sigset_t set;
	int err;

	err = -posix_spawn_file_actions_init(&fa);
	if (err)
		goto cleanup;
	fa_init = true;
	err = -posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	if (!err)
		err = -posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
	if (!err)
		err = -posix_spawn_file_actions_adddup2(&fa, err_fd, 2);
	/* Nothing of the monitor's (keys, sockets, the evidence log) leaks into mmcli. */
	if (!err)
		err = -posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	if (err)
		goto cleanup;
	err = -posix_spawnattr_init(&attr);
	if (err)
		goto cleanup;
	attr_init = true;
	sigemptyset(&set);
	err = -posix_spawnattr_setsigmask(&attr, &set);
	sigfillset(&set);
	if (!err)
		err = -posix_spawnattr_setsigdefault(&attr, &set);
	if (!err)
		err = -posix_spawnattr_setflags(&attr,
						POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	if (err)
		goto cleanup;
	err = -posix_spawn(pid, prog, &fa, &attr, argv, envp);
	if (err)
		*pid = -1;
cleanup:
	if (attr_init)
		posix_spawnattr_destroy(&attr);
	if (fa_init)
		posix_spawn_file_actions_destroy(&fa);
	return err;
}

/* Read mmcli's stdout and stderr until both are at end of file, within the deadline. */
static int mmcli_collect(struct mmcli_run *r, int out_fd, int err_fd, char *why, size_t whylen)
{
	struct pollfd pfd[2] = {
		{ .fd = out_fd, .events = POLLIN },
		{ .fd = err_fd, .events = POLLIN },
	};
	int n, i;

	while (pfd[0].fd >= 0 || pfd[1].fd >= 0) {
		n = poll(pfd, 2, imei_remaining_ms(r->deadline));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return imei_fail(why, whylen, -errno, "%s: poll: %s", r->who,
					 strerror(errno));
		if (n == 0)
			return mmcli_timed_out(r, why, whylen);
		for (i = 0; i < 2; i++)
			if (pfd[i].fd >= 0 && pfd[i].revents &&
			    capture_read(pfd[i].fd, i ? &r->err : &r->out))
				pfd[i].fd = -1;
	}
	return 0;
}

/* Both pipes are closed, so mmcli is exiting or has exited: reap it within the deadline. */
static int mmcli_wait(struct mmcli_run *r, int *status, char *why, size_t whylen)
{
	pid_t w;

	for (;;) {
		w = waitpid(r->pid, status, WNOHANG);
		if (w == r->pid)
			break;
		if (w < 0 && errno != EINTR) {
			r->pid = -1;
			return imei_fail(why, whylen, -errno, "%s: wait: %s", r->who,
					 strerror(errno));
		}
		if (!imei_remaining_ms(r->deadline))
			return mmcli_timed_out(r, why, whylen);
		usleep(5000);
	}
	r->pid = -1;
	return 0;
}

/* mmcli failed unless it exited 0; its first line on stderr says why. */
static int mmcli_exit_status(struct mmcli_run *r, int status, char *why, size_t whylen)
{
	struct capture *ce = &r->err;
	char q[64];

	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	ce->buf[ce->len] = '\0';
	ce->len = strcspn(ce->buf, "\n");
	imei_quote(ce->buf, ce->len, q, sizeof(q));
	if (WIFEXITED(status))
		return imei_fail(why, whylen, -EIO, "%s failed with exit status %d: %s", r->who,
				 WEXITSTATUS(status), ce->len ? q : "(no message)");
	return imei_fail(why, whylen, -EIO, "%s was killed by signal %d", r->who, WTERMSIG(status));
}

/*
 * The mmcli: source: run mmcli with its output on two pipes, collect both until it exits or
 * the time is up, and parse what it printed only if it exited 0.
 */
int imei_mmcli_read(const char *index, int timeout_ms, char imei[16], char *why, size_t whylen)
{
	char prog[PATH_MAX], who[64], errbuf[256];
	int outp[2] = { -1, -1 }, errp[2] = { -1, -1 }, err, status = 0, i;
	struct mmcli_run r = {
		.who = who,
		.timeout_ms = timeout_ms,
		.deadline = imei_now_ms() + (timeout_ms > 0 ? timeout_ms : 0),
		.pid = -1,
		.err = { .buf = errbuf, .max = sizeof(errbuf) - 1 },
	};

	snprintf(who, sizeof(who), "mmcli -m %s", index);
	if (!imei_all_digits(index, strlen(index)) || strlen(index) > 9)
		return imei_fail(why, whylen, -EINVAL, "mmcli:%s: the modem index must be a number",
				 index);
	if (find_in_path("mmcli", prog, sizeof(prog)))
		return imei_fail(why, whylen, -ENOENT,
				 "mmcli is not installed (not found in PATH); install ModemManager "
				 "or choose the at: or file: IMEI source");
	r.out.max = STS_IMEI_MMCLI_MAX;
	r.out.buf = malloc(r.out.max + 1);
	if (!r.out.buf)
		return imei_fail(why, whylen, -ENOMEM, "out of memory");
	if (pipe2(outp, O_CLOEXEC) || pipe2(errp, O_CLOEXEC)) {
		err = imei_fail(why, whylen, -errno, "pipe: %s", strerror(errno));
		goto cleanup;
	}
	err = mmcli_spawn(prog, index, outp[1], errp[1], &r.pid);
	if (err) {
		imei_fail(why, whylen, err, "run %s: %s", prog, strerror(-err));
		goto cleanup;
	}
	/* Only mmcli holds the write ends now, so end of file means it closed them. */
	close(outp[1]);
	close(errp[1]);
	outp[1] = errp[1] = -1;

	err = mmcli_collect(&r, outp[0], errp[0], why, whylen);
	if (err)
		goto cleanup;
	err = mmcli_wait(&r, &status, why, whylen);
	if (err)
		goto cleanup;
	err = mmcli_exit_status(&r, status, why, whylen);
	if (err)
		goto cleanup;
	if (r.out.overflow) {
		err = imei_fail(why, whylen, -EBADMSG, "%s printed more than %d bytes", who,
				STS_IMEI_MMCLI_MAX);
		goto cleanup;
	}
	err = mmcli_parse(r.out.buf, r.out.len, who, imei, why, whylen);
cleanup:
	if (r.pid > 0) {
		kill(r.pid, SIGKILL);
		while (waitpid(r.pid, &status, 0) < 0 && errno == EINTR)
			;
	}
	for (i = 0; i < 2; i++) {
		if (outp[i] >= 0)
			close(outp[i]);
		if (errp[i] >= 0)
			close(errp[i]);
	}
	/* mmcli's listing also names the operator and own numbers: none of it is kept. */
	sts_wipe(r.out.buf, r.out.max);
	free(r.out.buf);
	sts_wipe(errbuf, sizeof(errbuf));
	return err;
}
