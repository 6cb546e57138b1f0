// SPDX-License-Identifier: GPL-2.0-only
/*
 * The identifier broker (see imei.h). Three sources, one rule: read the IMEI and nothing else,
 * hold every device or program only for the exchange, and say plainly what went wrong without
 * ever writing the whole IMEI into a message.
 */
#include "device/imei.h"
#include "core/crypto.h"
#include "wire/report.h"
#include "core/util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define AT_CMD "AT+CGSN"
/* What a file: source may hold: 15 digits and a newline, with room to see that it is more. */
#define IMEI_FILE_MAX 64
/* The child's whole environment: a fixed PATH for what mmcli itself may run, and the C locale
 * so that its output is the untranslated key-value format parsed below. */
#define SPAWN_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define DEFAULT_SEARCH_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

extern char **environ;

static int fail(char *why, size_t whylen, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(char *why, size_t whylen, int err, const char *fmt, ...)
{
	va_list ap;

	if (why && whylen) {
		va_start(ap, fmt);
		vsnprintf(why, whylen, fmt, ap);
		va_end(ap);
	}
	return err;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int remaining_ms(int64_t deadline)
{
	int64_t left = deadline - now_ms();

	return left > 0 ? (int)(left > INT_MAX ? INT_MAX : left) : 0;
}

/* "***********7518": the last 4 digits are enough for a person to tell two devices apart. */
static void mask_digits(const char *d, size_t n, char *out, size_t outsz)
{
	size_t i;

	for (i = 0; i < n && i + 1 < outsz; i++)
		out[i] = n > 4 && i < n - 4 ? '*' : d[i];
	out[i] = '\0';
}

/*
 * Quote what a device or program said, for a message: printable ASCII only, at most 48
 * characters, and any run of more than 4 digits masked but its last 4, since the odd line may
 * well hold the IMEI (or, from mmcli, another identifier).
 */
static void quote(const char *s, size_t n, char *out, size_t outsz)
{
	size_t i = 0, o = 0, run, k;

	if (!outsz)
		return;
	while (i < n && o + 4 < outsz && o < 48) {
		if (isdigit((unsigned char)s[i])) {
			for (run = 0; i + run < n && isdigit((unsigned char)s[i + run]); run++)
				;
			for (k = 0; k < run && o + 4 < outsz; k++)
				out[o++] = run > 4 && k < run - 4 ? '*' : s[i + k];
			i += run;
			continue;
		}
		out[o++] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
		i++;
	}
	if (i < n && o + 3 < outsz) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}

static bool all_digits(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	return n > 0;
}

/* The last gate of every source: 15 digits with a valid Luhn check digit, or a reason. */
static int accept_imei(const char *d, size_t n, const char *who, char imei[16], char *why,
		       size_t whylen)
{
	char masked[32];

	if (n != STS_REPORT_IMEI_LEN)
		return fail(why, whylen, -EBADMSG,
			    "%s gave a %zu-digit number where an IMEI has 15 digits", who, n);
	if (!sts_imei_valid(d, n)) {
		mask_digits(d, n, masked, sizeof(masked));
		return fail(why, whylen, -EBADMSG,
			    "IMEI %s from %s fails the Luhn check digit; the source is misread "
			    "or misconfigured",
			    masked, who);
	}
	memcpy(imei, d, STS_REPORT_IMEI_LEN);
	imei[STS_REPORT_IMEI_LEN] = '\0';
	return 0;
}

/* ---- AT answers ---- */

enum at_kind { AT_EMPTY, AT_ECHO, AT_OK, AT_ERROR, AT_CME, AT_VALUE, AT_URC, AT_OTHER };

static bool has_prefix_ci(const char *s, size_t n, const char *p)
{
	size_t pl = strlen(p);

	return n >= pl && strncasecmp(s, p, pl) == 0;
}

static bool eq_ci(const char *s, size_t n, const char *p)
{
	return n == strlen(p) && strncasecmp(s, p, n) == 0;
}

static void trim(const char **s, size_t *n)
{
	while (*n && (**s == ' ' || **s == '\t')) {
		(*s)++;
		(*n)--;
	}
	while (*n && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t'))
		(*n)--;
}

/* An unsolicited result code such as "+CREG: 1": '+', upper-case letters or digits, ':'. */
static bool is_urc(const char *s, size_t n)
{
	size_t i;

	if (n < 3 || s[0] != '+')
		return false;
	for (i = 1; i < n && (isupper((unsigned char)s[i]) || isdigit((unsigned char)s[i])); i++)
		;
	return i > 1 && i < n && s[i] == ':';
}

/*
 * Classify one line. For AT_VALUE, v and vn give the identifier with any "+CGSN:" prefix and
 * quotes removed (not yet checked to be digits); for AT_CME, the error code or text.
 */
static enum at_kind classify(const char *s, size_t n, const char **v, size_t *vn)
{
	trim(&s, &n);
	*v = s;
	*vn = n;
	if (!n)
		return AT_EMPTY;
	if (eq_ci(s, n, AT_CMD))
		return AT_ECHO;
	if (eq_ci(s, n, "OK"))
		return AT_OK;
	if (eq_ci(s, n, "ERROR"))
		return AT_ERROR;
	if (has_prefix_ci(s, n, "+CME ERROR:")) {
		*v = s + 11;
		*vn = n - 11;
		trim(v, vn);
		return AT_CME;
	}
	if (has_prefix_ci(s, n, "+CGSN:")) {
		s += 6;
		n -= 6;
		trim(&s, &n);
	} else if (is_urc(s, n)) {
		return AT_URC;
	}
	if (n >= 2 && s[0] == '"' && s[n - 1] == '"') {
		s++;
		n -= 2;
	}
	*v = s;
	*vn = n;
	return all_digits(s, n) ? AT_VALUE : AT_OTHER;
}

/* Hints for the +CME ERROR codes of 3GPP TS 27.007 a modem may give to AT+CGSN. */
static const char *cme_hint(const char *v, size_t n)
{
	static const struct {
		const char *code;
		const char *hint;
	} hints[] = {
		{ "3", "operation not allowed" },
		{ "4", "operation not supported" },
		{ "10", "SIM not inserted?" },
		{ "11", "SIM PIN required?" },
		{ "12", "SIM PUK required?" },
		{ "13", "SIM failure?" },
		{ "14", "SIM busy, try again later?" },
		{ "15", "wrong SIM?" },
		{ "100", "unknown error" },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(hints); i++)
		if (eq_ci(v, n, hints[i].code))
			return hints[i].hint;
	return NULL;
}

static bool next_line(const char **p, const char *end, const char **ls, size_t *ln,
		      bool *terminated)
{
	const char *s = *p;

	if (s >= end)
		return false;
	*ls = s;
	while (s < end && *s != '\r' && *s != '\n')
		s++;
	*ln = (size_t)(s - *ls);
	*terminated = s < end;
	if (s < end)
		s++;
	*p = s;
	return true;
}

static int parse_at(const char *buf, size_t len, const char *who, char imei[16], char *why,
		    size_t whylen)
{
	const char *p = buf, *end = buf + len, *ls, *v, *value = NULL;
	size_t ln, vn, value_len = 0;
	bool term, seen = false;
	char q[64];

	if (len > STS_IMEI_AT_MAX)
		return fail(why, whylen, -EBADMSG,
			    "%s answered more than %d bytes to " AT_CMD ", which is not an IMEI",
			    who, STS_IMEI_AT_MAX);
	while (next_line(&p, end, &ls, &ln, &term)) {
		switch (classify(ls, ln, &v, &vn)) {
		case AT_EMPTY:
		case AT_URC:
			break;
		case AT_ECHO:
			/* Echo is on by default; the broker parses it rather than send ATE0. */
			if (seen)
				goto garbage;
			seen = true;
			break;
		case AT_VALUE:
			if (value)
				return fail(why, whylen, -EBADMSG,
					    "%s answered two identifiers to " AT_CMD, who);
			value = v;
			value_len = vn;
			seen = true;
			break;
		case AT_OK:
			if (!value)
				return fail(why, whylen, -EBADMSG,
					    "%s answered OK to " AT_CMD " without an IMEI", who);
			goto final;
		case AT_ERROR:
			return fail(
				why, whylen, -EIO,
				"%s answered \"ERROR\" to " AT_CMD
				" (no IMEI available from this port; is it the modem's AT port?)",
				who);
		case AT_CME: {
			const char *hint = cme_hint(v, vn);

			quote(v, vn, q, sizeof(q));
			if (hint)
				return fail(why, whylen, -EIO,
					    "%s answered \"+CME ERROR: %s\" (%s) to " AT_CMD, who,
					    q, hint);
			return fail(why, whylen, -EIO, "%s answered \"+CME ERROR: %s\" to " AT_CMD,
				    who, q);
		}
		case AT_OTHER:
			goto garbage;
		}
	}
	return fail(why, whylen, -EBADMSG, "%s gave no final result code (OK or ERROR) to " AT_CMD,
		    who);

final:
	/* After OK only blank lines and unsolicited result codes may follow. */
	while (next_line(&p, end, &ls, &ln, &term)) {
		enum at_kind k = classify(ls, ln, &v, &vn);

		if (k != AT_EMPTY && k != AT_URC)
			goto garbage;
	}
	return accept_imei(value, value_len, who, imei, why, whylen);

garbage:
	quote(ls, ln, q, sizeof(q));
	return fail(why, whylen, -EBADMSG,
		    "%s answered \"%s\" to " AT_CMD ", which is not an IMEI answer; is it the "
		    "modem's AT port, at the right speed?",
		    who, q);
}

int sts_imei_parse_at(const char *buf, size_t len, char imei[16], char *why, size_t whylen)
{
	return parse_at(buf, len, "modem", imei, why, whylen);
}

/* True once a whole line holding a final result code has arrived: the answer is complete. */
static bool at_complete(const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len, *ls, *v;
	size_t ln, vn;
	bool term;

	while (next_line(&p, end, &ls, &ln, &term)) {
		enum at_kind k = classify(ls, ln, &v, &vn);

		if (term && (k == AT_OK || k == AT_ERROR || k == AT_CME))
			return true;
	}
	return false;
}

/* Nothing but the echo of the command has come back (a modem that is alive but busy). */
static bool only_echo(const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len, *ls, *v;
	size_t ln, vn;
	bool term;

	while (next_line(&p, end, &ls, &ln, &term)) {
		enum at_kind k = classify(ls, ln, &v, &vn);

		/* A partial echo ("AT+C") is still only the echo. */
		if (k != AT_EMPTY && k != AT_ECHO &&
		    !(!term && vn < 7 && strncasecmp(v, AT_CMD, vn) == 0))
			return false;
	}
	return true;
}

/*
 * Drop what the modem sent before our command (a late answer to someone else, a URC), so it
 * cannot be taken for the answer. Bounded by bytes and by the deadline: a port that never
 * stops talking is not a modem waiting for a command.
 */
static int at_drain(int fd, int64_t deadline, const char *who, char *why, size_t whylen)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	size_t total = 0;
	char junk[256];
	ssize_t r;
	int n;

	if (tcflush(fd, TCIFLUSH) && errno != ENOTTY && errno != EINVAL)
		return fail(why, whylen, -errno, "%s: flush input: %s", who, strerror(errno));
	for (;;) {
		n = poll(&pfd, 1, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || !(pfd.revents & POLLIN))
			return 0;
		r = read(fd, junk, sizeof(junk));
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r <= 0)
			return 0;
		total += (size_t)r;
		if (total > 4 * STS_IMEI_AT_MAX || !remaining_ms(deadline))
			return fail(why, whylen, -EBADMSG,
				    "%s keeps sending data without being asked; is it a modem's AT "
				    "port?",
				    who);
	}
}

static int at_write(int fd, int64_t deadline, int timeout_ms, const char *who, char *why,
		    size_t whylen)
{
	static const char cmd[] = AT_CMD "\r";
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };
	size_t off = 0;
	ssize_t w;
	int n;

	while (off < sizeof(cmd) - 1) {
		n = poll(&pfd, 1, remaining_ms(deadline));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return fail(why, whylen, -errno, "%s: poll: %s", who, strerror(errno));
		if (n == 0)
			return fail(why, whylen, -ETIMEDOUT,
				    "%s did not accept " AT_CMD " within %d ms (flow control?)",
				    who, timeout_ms);
		w = write(fd, cmd + off, sizeof(cmd) - 1 - off);
		if (w < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (w < 0)
			return fail(why, whylen, -EIO, "%s: write " AT_CMD ": %s", who,
				    strerror(errno));
		off += (size_t)w;
	}
	return 0;
}

static int at_exchange(int fd, int timeout_ms, const char *who, char imei[16], char *why,
		       size_t whylen)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	int64_t deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	/* One byte more than the limit, to tell "exactly full" from "too long". */
	char buf[STS_IMEI_AT_MAX + 1];
	size_t len = 0;
	ssize_t r;
	int err, n;

	err = at_drain(fd, deadline, who, why, whylen);
	if (err)
		goto cleanup;
	err = at_write(fd, deadline, timeout_ms, who, why, whylen);
	if (err)
		goto cleanup;
	while (!at_complete(buf, len)) {
		if (len == sizeof(buf)) {
			err = fail(why, whylen, -EBADMSG,
				   "%s answered more than %d bytes to " AT_CMD
				   ", which is not an IMEI",
				   who, STS_IMEI_AT_MAX);
			goto cleanup;
		}
		n = poll(&pfd, 1, remaining_ms(deadline));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = fail(why, whylen, -errno, "%s: poll: %s", who, strerror(errno));
			goto cleanup;
		}
		if (n == 0) {
			if (!len)
				err = fail(why, whylen, -ETIMEDOUT,
					   "%s did not answer " AT_CMD " within %d ms", who,
					   timeout_ms);
			else if (only_echo(buf, len))
				err = fail(why, whylen, -ETIMEDOUT,
					   "%s echoed " AT_CMD " but did not answer within %d ms",
					   who, timeout_ms);
			else
				err = fail(why, whylen, -ETIMEDOUT,
					   "%s started answering " AT_CMD
					   " but gave no final result code within %d ms",
					   who, timeout_ms);
			goto cleanup;
		}
		r = read(fd, buf + len, sizeof(buf) - len);
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r <= 0) {
			/* A pty whose other side closed, or a USB modem that went away. */
			err = fail(why, whylen, -EIO, "%s hung up before answering " AT_CMD, who);
			goto cleanup;
		}
		len += (size_t)r;
	}
	err = parse_at(buf, len, who, imei, why, whylen);
cleanup:
	sts_wipe(buf, sizeof(buf));
	return err;
}

int sts_imei_at_exchange(int fd, int timeout_ms, char imei[16], char *why, size_t whylen)
{
	return at_exchange(fd, timeout_ms, "modem", imei, why, whylen);
}

/* ---- serial port locking ---- */

/* /run/lock (FHS 3.0), else /var/lock; NULL on a system with neither (an initramfs). */
static const char *lock_dir(void)
{
	static const char *const dirs[] = { "/run/lock", "/var/lock" };
	struct stat st;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(dirs); i++)
		if (stat(dirs[i], &st) == 0 && S_ISDIR(st.st_mode))
			return dirs[i];
	return NULL;
}

/*
 * The UUCP name of a device: its path under /dev with '/' turned into '_' (the convention of
 * lockdev and minicom), so /dev/ttyUSB2 locks LCK..ttyUSB2 and /dev/pts/3 LCK..pts_3.
 */
static int lock_path(const char *dir, const char *real, char *out, size_t outsz)
{
	const char *name = strncmp(real, "/dev/", 5) == 0 ? real + 5 : real + 1;
	size_t n = (size_t)snprintf(out, outsz, "%s/LCK..", dir), i;

	if (n + strlen(name) + 1 > outsz)
		return -ENAMETOOLONG;
	for (i = 0; name[i]; i++)
		out[n + i] = name[i] == '/' ? '_' : name[i];
	out[n + i] = '\0';
	return 0;
}

/* The pid in a lock file (HDB format: ASCII decimal, space padded, newline); 0 if none. */
static pid_t lock_owner(const char *path, int *err)
{
	char *buf = NULL, *p, *end;
	size_t len;
	long v;

	*err = sts_read_file(path, 64, &buf, &len);
	if (*err)
		return 0;
	for (p = buf; *p == ' '; p++)
		;
	errno = 0;
	v = strtol(p, &end, 10);
	if (errno || end == p || v <= 0 || v > INT_MAX || (*end && strcmp(end, "\n") != 0))
		v = 0;
	free(buf);
	return (pid_t)v;
}

/*
 * Take the UUCP lock: the pid goes into a private temporary file first, which link() then
 * puts in place atomically, so nobody ever sees a lock file without its pid. A lock whose pid
 * no longer runs is stale (its owner crashed) and is replaced, once.
 */
static int uucp_lock(const char *lockp, const char *dev, char *why, size_t whylen)
{
	char tmp[PATH_MAX], content[16];
	const char *slash = strrchr(lockp, '/');
	int fd, err = 0, attempt, len, lerr;
	pid_t owner;

	snprintf(tmp, sizeof(tmp), "%.*s/.LTMP.%d", (int)(slash - lockp), lockp, (int)getpid());
	len = snprintf(content, sizeof(content), "%10d\n", (int)getpid());
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return fail(why, whylen, -errno, "create lock file in %.*s: %s",
			    (int)(slash - lockp), lockp, strerror(errno));
	err = sts_write_all(fd, content, (size_t)len);
	if (close(fd) && !err)
		err = -errno;
	if (err) {
		fail(why, whylen, err, "write lock file %s: %s", tmp, strerror(-err));
		goto cleanup;
	}
	for (attempt = 0;; attempt++) {
		if (link(tmp, lockp) == 0) {
			err = 0;
			break;
		}
		if (errno != EEXIST) {
			err = fail(why, whylen, -errno, "create lock file %s: %s", lockp,
				   strerror(errno));
			break;
		}
		owner = lock_owner(lockp, &lerr);
		if (lerr == -ENOENT && attempt < 2)
			continue;
		if (!owner) {
			err = fail(
				why, whylen, -EBUSY,
				"serial port %s is locked by %s, which holds no pid; remove it if "
				"no program uses the port",
				dev, lockp);
			break;
		}
		if (kill(owner, 0) == 0 || errno == EPERM) {
			err = fail(why, whylen, -EBUSY,
				   "serial port %s is in use by process %d (lock file %s)", dev,
				   (int)owner, lockp);
			break;
		}
		if (attempt >= 2) {
			err = fail(why, whylen, -EBUSY,
				   "serial port %s: stale lock file %s keeps coming back", dev,
				   lockp);
			break;
		}
		/* Stale: its process is gone. */
		if (unlink(lockp) && errno != ENOENT) {
			err = fail(why, whylen, -errno, "remove stale lock file %s: %s", lockp,
				   strerror(errno));
			break;
		}
	}
cleanup:
	unlink(tmp);
	return err;
}

/* Remove the lock file only while it is still ours. */
static void uucp_unlock(const char *lockp)
{
	int err;

	if (lock_owner(lockp, &err) == getpid())
		unlink(lockp);
}

static int at_read(const char *dev, int timeout_ms, char imei[16], char *why, size_t whylen)
{
	char real[PATH_MAX], lockp[PATH_MAX], who[PATH_MAX + 16];
	struct termios saved, tio;
	bool restore = false, locked = false;
	const char *dir;
	int fd = -1, err;

	snprintf(who, sizeof(who), "modem on %s", dev);
	if (dev[0] != '/')
		return fail(why, whylen, -EINVAL, "at:%s: the serial port must be an absolute path",
			    dev);
	/*
	 * Lock the device, not the name: /dev/serial/by-id/... and /dev/ttyUSB2 are one port,
	 * and must be one lock.
	 */
	if (!realpath(dev, real)) {
		if (errno == ENOENT)
			return fail(why, whylen, -ENOENT,
				    "serial port %s does not exist (modem not plugged in, or not "
				    "yet enumerated?)",
				    dev);
		return fail(why, whylen, -errno, "serial port %s: %s", dev, strerror(errno));
	}
	dir = lock_dir();
	if (dir) {
		err = lock_path(dir, real, lockp, sizeof(lockp));
		if (err) {
			fail(why, whylen, err, "serial port %s: name too long for a lock file",
			     dev);
			goto cleanup;
		}
		err = uucp_lock(lockp, dev, why, whylen);
		if (err)
			goto cleanup;
		locked = true;
	}
	/* O_NONBLOCK: open must not wait for carrier detect; all waiting is done by poll(). */
	fd = open(real, O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		err = fail(why, whylen, -errno, "open serial port %s: %s", dev, strerror(errno));
		goto cleanup;
	}
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		if (errno == EWOULDBLOCK)
			err = fail(why, whylen, -EBUSY,
				   "serial port %s is in use by another process (flock)", dev);
		else
			err = fail(why, whylen, -errno, "lock serial port %s: %s", dev,
				   strerror(errno));
		goto cleanup;
	}
	if (tcgetattr(fd, &saved)) {
		err = fail(why, whylen, errno == ENOTTY ? -ENOTTY : -errno,
			   "%s is not a serial port: %s", dev, strerror(errno));
		goto cleanup;
	}
	restore = true;
	/*
	 * Raw 8N1 at 115200 (the speed USB modems ignore and real UARTs default to), CLOCAL so
	 * that a missing carrier detect line neither blocks nor hangs up the exchange.
	 */
	tio = saved;
	cfmakeraw(&tio);
	cfsetispeed(&tio, B115200);
	cfsetospeed(&tio, B115200);
	tio.c_cflag |= CLOCAL | CREAD;
	tio.c_cc[VMIN] = 0;
	tio.c_cc[VTIME] = 0;
	if (tcsetattr(fd, TCSANOW, &tio)) {
		err = fail(why, whylen, -errno, "configure serial port %s: %s", dev,
			   strerror(errno));
		goto cleanup;
	}
	err = at_exchange(fd, timeout_ms, who, imei, why, whylen);
cleanup:
	if (restore)
		tcsetattr(fd, TCSANOW, &saved);
	if (fd >= 0)
		close(fd); /* releases the flock */
	if (locked)
		uucp_unlock(lockp);
	return err;
}

/* ---- file ---- */

static int file_read(const char *path, char imei[16], char *why, size_t whylen)
{
	char who[PATH_MAX + 16], *buf = NULL;
	size_t len = 0, n;
	int err;

	snprintf(who, sizeof(who), "IMEI file %s", path);
	err = sts_read_file(path, IMEI_FILE_MAX, &buf, &len);
	if (err == -ENOENT)
		return fail(why, whylen, err, "IMEI file %s does not exist", path);
	if (err == -EFBIG)
		return fail(why, whylen, -EBADMSG,
			    "IMEI file %s is larger than %d bytes; it must hold only the 15 digits",
			    path, IMEI_FILE_MAX);
	if (err)
		return fail(why, whylen, err, "read IMEI file %s: %s", path, strerror(-err));
	n = len;
	if (n && buf[n - 1] == '\n')
		n--;
	if (!all_digits(buf, n)) {
		err = fail(why, whylen, -EBADMSG,
			   "IMEI file %s must hold 15 digits and at most one newline, nothing else",
			   path);
		goto cleanup;
	}
	err = accept_imei(buf, n, who, imei, why, whylen);
cleanup:
	sts_wipe(buf, len);
	free(buf);
	return err;
}

/* ---- mmcli ---- */

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

	while (next_line(&p, end, &ls, &ln, &term)) {
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
			return fail(why, whylen, -EBADMSG,
				    "%s printed line %zu in a format other than mmcli's key-value "
				    "output",
				    who, lineno);
		if (kn == sizeof(key) - 1 && memcmp(ls, key, kn) == 0) {
			if (v)
				return fail(why, whylen, -EBADMSG, "%s printed %s twice", who, key);
			v = s + 1;
			vn = (size_t)(ls + ln - v);
			trim(&v, &vn);
		}
	}
	if (!v)
		return fail(why, whylen, -EBADMSG, "%s printed no %s", who, key);
	if (vn == 2 && memcmp(v, "--", 2) == 0)
		return fail(why, whylen, -EIO,
			    "%s reports no equipment identifier (modem not initialised yet?)", who);
	if (!all_digits(v, vn))
		return fail(why, whylen, -EBADMSG,
			    "%s reports an equipment identifier that is not an IMEI (a CDMA ESN or "
			    "MEID?)",
			    who);
	return accept_imei(v, vn, who, imei, why, whylen);
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

static int mmcli_read(const char *index, int timeout_ms, char imei[16], char *why, size_t whylen)
{
	char prog[PATH_MAX], who[64], errbuf[256], q[64];
	char *argv[] = { "mmcli", "-m", (char *)index, "--output-keyvalue", NULL };
	char *envp[] = { SPAWN_PATH, "LC_ALL=C", NULL };
	int outp[2] = { -1, -1 }, errp[2] = { -1, -1 }, err, status = 0, n, i;
	struct capture co = { 0 }, ce = { .buf = errbuf, .max = sizeof(errbuf) - 1 };
	int64_t deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	bool fa_init = false, attr_init = false;
	struct pollfd pfd[2];
	sigset_t set;
	pid_t pid = -1, w;

	snprintf(who, sizeof(who), "mmcli -m %s", index);
	if (!all_digits(index, strlen(index)) || strlen(index) > 9)
		return fail(why, whylen, -EINVAL, "mmcli:%s: the modem index must be a number",
			    index);
	if (find_in_path("mmcli", prog, sizeof(prog)))
		return fail(why, whylen, -ENOENT,
			    "mmcli is not installed (not found in PATH); install ModemManager or "
			    "choose the at: or file: IMEI source");
	co.max = STS_IMEI_MMCLI_MAX;
	co.buf = malloc(co.max + 1);
	if (!co.buf)
		return fail(why, whylen, -ENOMEM, "out of memory");
	if (pipe2(outp, O_CLOEXEC) || pipe2(errp, O_CLOEXEC)) {
		err = fail(why, whylen, -errno, "pipe: %s", strerror(errno));
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
		n = poll(pfd, 2, remaining_ms(deadline));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = fail(why, whylen, -errno, "%s: poll: %s", who, strerror(errno));
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
			err = fail(why, whylen, -errno, "%s: wait: %s", who, strerror(errno));
			pid = -1;
			goto cleanup;
		}
		if (!remaining_ms(deadline))
			goto timeout;
		usleep(5000);
	}
	pid = -1;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		ce.buf[ce.len] = '\0';
		ce.len = strcspn(ce.buf, "\n");
		quote(ce.buf, ce.len, q, sizeof(q));
		if (WIFEXITED(status))
			err = fail(why, whylen, -EIO, "%s failed with exit status %d: %s", who,
				   WEXITSTATUS(status), ce.len ? q : "(no message)");
		else
			err = fail(why, whylen, -EIO, "%s was killed by signal %d", who,
				   WTERMSIG(status));
		goto cleanup;
	}
	if (co.overflow) {
		err = fail(why, whylen, -EBADMSG, "%s printed more than %d bytes", who,
			   STS_IMEI_MMCLI_MAX);
		goto cleanup;
	}
	err = mmcli_parse(co.buf, co.len, who, imei, why, whylen);
	goto cleanup;

timeout:
	err = fail(why, whylen, -ETIMEDOUT,
		   "%s did not finish within %d ms (is ModemManager running?)", who, timeout_ms);
	goto cleanup;
spawn_err:
	fail(why, whylen, err, "run %s: %s", prog, strerror(-err));
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

int sts_imei_read(const char *source, int timeout_ms, char imei[16], char *why, size_t whylen)
{
	if (why && whylen)
		why[0] = '\0';
	if (!source)
		return fail(why, whylen, -EINVAL, "no IMEI source configured");
	if (strncmp(source, "at:", 3) == 0 && source[3])
		return at_read(source + 3, timeout_ms, imei, why, whylen);
	if (strncmp(source, "mmcli:", 6) == 0 && source[6])
		return mmcli_read(source + 6, timeout_ms, imei, why, whylen);
	if (strncmp(source, "file:", 5) == 0 && source[5])
		return file_read(source + 5, imei, why, whylen);
	return fail(why, whylen, -EINVAL,
		    "IMEI source \"%.64s\" is not at:/dev/PORT, mmcli:INDEX or file:PATH", source);
}
