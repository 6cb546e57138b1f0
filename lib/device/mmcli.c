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

/* The child's whole environment: a fixed PATH for what mmcli itself may run, and the C locale
 * so that its output is the untranslated key-value format parsed below. */
#define SPAWN_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
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
		for (kn = 0; kn < ln && key_char(ls[kn]); kn++)
			;
		s = ls + kn;
		while (s < ls + ln && *s == ' ')
			s++;
		if (!kn || s == ls + kn || s + 1 > ls + ln || *s != ':' ||
		    (s + 1 < ls + ln && s[1] != ' '))
			return imei_fail(
				why, whylen, -EBADMSG,
				"%s printed line %zu in a format other than mmcli's key-value "
				"output",
				who, lineno);
		if (kn == sizeof(key) - 1 && memcmp(ls, key, kn) == 0) {
			if (v)
				return imei_fail(why, whylen, -EBADMSG, "%s printed %s twice", who,
						 key);
			v = s + 1;
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

struct capture {
	char *buf;
	size_t len, max;
	bool overflow;
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

int imei_mmcli_read(const char *index, int timeout_ms, char imei[16], char *why, size_t whylen)
{
	char prog[PATH_MAX], who[64], errbuf[256], q[64];
	char *argv[] = { "mmcli", "-m", (char *)index, "--output-keyvalue", NULL };
	char *envp[] = { SPAWN_PATH, "LC_ALL=C", NULL };
	int outp[2] = { -1, -1 }, errp[2] = { -1, -1 }, err, status = 0, n, i;
	struct capture co = { 0 }, ce = { .buf = errbuf, .max = sizeof(errbuf) - 1 };
	int64_t deadline = imei_now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	bool fa_init = false, attr_init = false;
	struct pollfd pfd[2];
	sigset_t set;
	pid_t pid = -1, w;

	snprintf(who, sizeof(who), "mmcli -m %s", index);
	if (!imei_all_digits(index, strlen(index)) || strlen(index) > 9)
		return imei_fail(why, whylen, -EINVAL, "mmcli:%s: the modem index must be a number",
				 index);
	if (find_in_path("mmcli", prog, sizeof(prog)))
		return imei_fail(
			why, whylen, -ENOENT,
			"mmcli is not installed (not found in PATH); install ModemManager or "
			"choose the at: or file: IMEI source");
	co.max = STS_IMEI_MMCLI_MAX;
	co.buf = malloc(co.max + 1);
	if (!co.buf)
		return imei_fail(why, whylen, -ENOMEM, "out of memory");
	if (pipe2(outp, O_CLOEXEC) || pipe2(errp, O_CLOEXEC)) {
		err = imei_fail(why, whylen, -errno, "pipe: %s", strerror(errno));
		goto cleanup;
	}
	err = -posix_spawn_file_actions_init(&fa);
	if (err)
		goto spawn_err;
	fa_init = true;
	err = -posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	if (!err)
		err = -posix_spawn_file_actions_adddup2(&fa, outp[1], 1);
	if (!err)
		err = -posix_spawn_file_actions_adddup2(&fa, errp[1], 2);
	/* Nothing of the monitor's (keys, sockets, the evidence log) leaks into mmcli. */
	if (!err)
		err = -posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	if (err)
		goto spawn_err;
	err = -posix_spawnattr_init(&attr);
	if (err)
		goto spawn_err;
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
		goto spawn_err;
	err = -posix_spawn(&pid, prog, &fa, &attr, argv, envp);
	if (err) {
		pid = -1;
		goto spawn_err;
	}
	close(outp[1]);
	close(errp[1]);
	outp[1] = errp[1] = -1;

	pfd[0] = (struct pollfd){ .fd = outp[0], .events = POLLIN };
	pfd[1] = (struct pollfd){ .fd = errp[0], .events = POLLIN };
	while (pfd[0].fd >= 0 || pfd[1].fd >= 0) {
		n = poll(pfd, 2, imei_remaining_ms(deadline));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = imei_fail(why, whylen, -errno, "%s: poll: %s", who, strerror(errno));
			goto cleanup;
		}
		if (n == 0)
			goto timeout;
		for (i = 0; i < 2; i++)
			if (pfd[i].fd >= 0 && pfd[i].revents &&
			    capture_read(pfd[i].fd, i ? &ce : &co))
				pfd[i].fd = -1;
	}
	/* Both pipes are closed; the process is exiting or has exited. */
	for (;;) {
		w = waitpid(pid, &status, WNOHANG);
		if (w == pid)
			break;
		if (w < 0 && errno != EINTR) {
			err = imei_fail(why, whylen, -errno, "%s: wait: %s", who, strerror(errno));
			pid = -1;
			goto cleanup;
		}
		if (!imei_remaining_ms(deadline))
			goto timeout;
		usleep(5000);
	}
	pid = -1;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		ce.buf[ce.len] = '\0';
		ce.len = strcspn(ce.buf, "\n");
		imei_quote(ce.buf, ce.len, q, sizeof(q));
		if (WIFEXITED(status))
			err = imei_fail(why, whylen, -EIO, "%s failed with exit status %d: %s", who,
					WEXITSTATUS(status), ce.len ? q : "(no message)");
		else
			err = imei_fail(why, whylen, -EIO, "%s was killed by signal %d", who,
					WTERMSIG(status));
		goto cleanup;
	}
	if (co.overflow) {
		err = imei_fail(why, whylen, -EBADMSG, "%s printed more than %d bytes", who,
				STS_IMEI_MMCLI_MAX);
		goto cleanup;
	}
	err = mmcli_parse(co.buf, co.len, who, imei, why, whylen);
	goto cleanup;

timeout:
	err = imei_fail(why, whylen, -ETIMEDOUT,
			"%s did not finish within %d ms (is ModemManager running?)", who,
			timeout_ms);
	goto cleanup;
spawn_err:
	imei_fail(why, whylen, err, "run %s: %s", prog, strerror(-err));
cleanup:
	if (pid > 0) {
		kill(pid, SIGKILL);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	}
	if (attr_init)
		posix_spawnattr_destroy(&attr);
	if (fa_init)
		posix_spawn_file_actions_destroy(&fa);
	for (i = 0; i < 2; i++) {
		if (outp[i] >= 0)
			close(outp[i]);
		if (errp[i] >= 0)
			close(errp[i]);
	}
	/* mmcli's listing also names the operator and own numbers: none of it is kept. */
	sts_wipe(co.buf, co.max);
	free(co.buf);
	sts_wipe(errbuf, sizeof(errbuf));
	return err;
}
