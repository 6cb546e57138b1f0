// SPDX-License-Identifier: GPL-2.0-only
/*
 * The at: source of the identifier broker (see imei.h): one AT+CGSN on a serial port, and the
 * parser of the modem's answer. The port is held for the exchange by flock and a UUCP lock
 * file (uucp_lock.c).
 */
#include "device/imei.h"
#include "device/imei_int.h"
#include "device/uucp_lock.h"
#include "core/crypto.h"
#include "core/util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <termios.h>
#include <unistd.h>

#define AT_CMD "AT+CGSN"

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
	imei_trim(&s, &n);
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
		imei_trim(v, vn);
		return AT_CME;
	}
	if (has_prefix_ci(s, n, "+CGSN:")) {
		s += 6;
		n -= 6;
		imei_trim(&s, &n);
	} else if (is_urc(s, n)) {
		return AT_URC;
	}
	if (n >= 2 && s[0] == '"' && s[n - 1] == '"') {
		s++;
		n -= 2;
	}
	*v = s;
	*vn = n;
	return imei_all_digits(s, n) ? AT_VALUE : AT_OTHER;
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

/* Shared by the parser and the reader: an answer that long is not a modem's answer to AT+CGSN. */
static int at_too_long(const char *who, char *why, size_t whylen)
{
	return imei_fail(why, whylen, -EBADMSG,
			 "%s answered more than %d bytes to " AT_CMD ", which is not an IMEI", who,
			 STS_IMEI_AT_MAX);
}

/* A line that has no place in an answer to AT+CGSN: most likely the wrong port or speed. */
static int at_garbage(const char *ls, size_t ln, const char *who, char *why, size_t whylen)
{
	char q[64];

	imei_quote(ls, ln, q, sizeof(q));
	return imei_fail(why, whylen, -EBADMSG,
			 "%s answered \"%s\" to " AT_CMD ", which is not an IMEI answer; is it the "
			 "modem's AT port, at the right speed?",
			 who, q);
}

/* The modem refused (AT_ERROR, or AT_CME with its code in v): say so, with a hint if known. */
static int at_refusal(enum at_kind k, const char *v, size_t vn, const char *who, char *why,
		      size_t whylen)
{
	const char *hint;
	char q[64];

	if (k == AT_ERROR)
		return imei_fail(why, whylen, -EIO,
				 "%s answered \"ERROR\" to " AT_CMD
				 " (no IMEI available from this port; is it the modem's AT port?)",
				 who);
	hint = cme_hint(v, vn);
	imei_quote(v, vn, q, sizeof(q));
	if (hint)
		return imei_fail(why, whylen, -EIO,
				 "%s answered \"+CME ERROR: %s\" (%s) to " AT_CMD, who, q, hint);
	return imei_fail(why, whylen, -EIO, "%s answered \"+CME ERROR: %s\" to " AT_CMD, who, q);
}

/*
 * After OK only blank lines and unsolicited result codes may follow: true if so, else false
 * with ls, ln on the first line that is something else.
 */
static bool at_only_noise_left(const char *p, const char *end, const char **ls, size_t *ln)
{
	const char *v;
	size_t vn;
	bool term;

	while (imei_next_line(&p, end, ls, ln, &term)) {
		enum at_kind k = classify(*ls, *ln, &v, &vn);

		if (k != AT_EMPTY && k != AT_URC)
			return false;
	}
	return true;
}

/*
 * Read the answer line by line: an optional echo, then the identifier, then OK (or the
 * modem's refusal), with blank lines and unsolicited result codes allowed anywhere. Anything
 * else, or a second echo or identifier, is not an answer to AT+CGSN.
 */
static int parse_at(const char *buf, size_t len, const char *who, char imei[16], char *why,
		    size_t whylen)
{
	const char *p = buf, *end = buf + len, *ls, *v, *value = NULL;
	size_t ln, vn, value_len = 0;
	bool term, seen = false;
	enum at_kind k;

	if (len > STS_IMEI_AT_MAX)
		return at_too_long(who, why, whylen);
	while (imei_next_line(&p, end, &ls, &ln, &term)) {
		k = classify(ls, ln, &v, &vn);
		switch (k) {
		case AT_EMPTY:
		case AT_URC:
			break;
		case AT_ECHO:
			/*
			 * Echo is on by default; the broker parses it rather than send ATE0. It
			 * comes once, before the identifier.
			 */
			if (seen)
				return at_garbage(ls, ln, who, why, whylen);
			seen = true;
			break;
		case AT_VALUE:
			if (value)
				return imei_fail(why, whylen, -EBADMSG,
						 "%s answered two identifiers to " AT_CMD, who);
			value = v;
			value_len = vn;
			seen = true;
			break;
		case AT_OK:
			if (!value)
				return imei_fail(why, whylen, -EBADMSG,
						 "%s answered OK to " AT_CMD " without an IMEI",
						 who);
			if (!at_only_noise_left(p, end, &ls, &ln))
				return at_garbage(ls, ln, who, why, whylen);
			return imei_accept(value, value_len, who, imei, why, whylen);
		case AT_ERROR:
		case AT_CME:
			return at_refusal(k, v, vn, who, why, whylen);
		case AT_OTHER:
			return at_garbage(ls, ln, who, why, whylen);
		}
	}
	return imei_fail(why, whylen, -EBADMSG,
			 "%s gave no final result code (OK or ERROR) to " AT_CMD, who);
}

int sts_imei_parse_at(const char *buf, size_t len, char imei[16], char *why, size_t whylen)
{
	return parse_at(buf, len, "modem", imei, why, whylen);
}

/* ---- the exchange ---- */

/* True once a whole line holding a final result code has arrived: the answer is complete. */
static bool at_complete(const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len, *ls, *v;
	size_t ln, vn;
	bool term;

	while (imei_next_line(&p, end, &ls, &ln, &term)) {
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

	while (imei_next_line(&p, end, &ls, &ln, &term)) {
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
		return imei_fail(why, whylen, -errno, "%s: flush input: %s", who, strerror(errno));
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
		if (total > 4 * STS_IMEI_AT_MAX || !imei_remaining_ms(deadline))
			return imei_fail(
				why, whylen, -EBADMSG,
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
		n = poll(&pfd, 1, imei_remaining_ms(deadline));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return imei_fail(why, whylen, -errno, "%s: poll: %s", who, strerror(errno));
		if (n == 0)
			return imei_fail(why, whylen, -ETIMEDOUT,
					 "%s did not accept " AT_CMD
					 " within %d ms (flow control?)",
					 who, timeout_ms);
		w = write(fd, cmd + off, sizeof(cmd) - 1 - off);
		if (w < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (w < 0)
			return imei_fail(why, whylen, -EIO, "%s: write " AT_CMD ": %s", who,
					 strerror(errno));
		off += (size_t)w;
	}
	return 0;
}

/* No final result code by the deadline: say how far the modem got, which hints at why. */
static int at_silence(const char *buf, size_t len, const char *who, int timeout_ms, char *why,
		      size_t whylen)
{
	if (!len)
		return imei_fail(why, whylen, -ETIMEDOUT,
				 "%s did not answer " AT_CMD " within %d ms", who, timeout_ms);
	if (only_echo(buf, len))
		return imei_fail(why, whylen, -ETIMEDOUT,
				 "%s echoed " AT_CMD " but did not answer within %d ms", who,
				 timeout_ms);
	return imei_fail(why, whylen, -ETIMEDOUT,
			 "%s started answering " AT_CMD
			 " but gave no final result code within %d ms",
			 who, timeout_ms);
}

/*
 * Read the answer into buf[0..*len) until a whole line with a final result code has come,
 * the deadline passes, bufsz bytes have come without one, or the port hangs up.
 */
static int at_receive(int fd, int64_t deadline, int timeout_ms, const char *who, char *buf,
		      size_t bufsz, size_t *len, char *why, size_t whylen)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	ssize_t r;
	int n;

	while (!at_complete(buf, *len)) {
		if (*len == bufsz)
			return at_too_long(who, why, whylen);
		n = poll(&pfd, 1, imei_remaining_ms(deadline));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return imei_fail(why, whylen, -errno, "%s: poll: %s", who, strerror(errno));
		if (n == 0)
			return at_silence(buf, *len, who, timeout_ms, why, whylen);
		r = read(fd, buf + *len, bufsz - *len);
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		/* A pty whose other side closed, or a USB modem that went away. */
		if (r <= 0)
			return imei_fail(why, whylen, -EIO, "%s hung up before answering " AT_CMD,
					 who);
		*len += (size_t)r;
	}
	return 0;
}

/* One exchange, all within timeout_ms: drain what is pending, ask, read the answer, parse. */
static int at_exchange(int fd, int timeout_ms, const char *who, char imei[16], char *why,
		       size_t whylen)
{
	int64_t deadline = imei_now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	/* One byte more than the limit, to tell "exactly full" from "too long". */
	char buf[STS_IMEI_AT_MAX + 1];
	size_t len = 0;
	int err;

	err = at_drain(fd, deadline, who, why, whylen);
	if (err)
		goto cleanup;
	err = at_write(fd, deadline, timeout_ms, who, why, whylen);
	if (err)
		goto cleanup;
	err = at_receive(fd, deadline, timeout_ms, who, buf, sizeof(buf), &len, why, whylen);
	if (err)
		goto cleanup;
	err = parse_at(buf, len, who, imei, why, whylen);
cleanup:
	sts_wipe(buf, sizeof(buf));
	return err;
}

int sts_imei_at_exchange(int fd, int timeout_ms, char imei[16], char *why, size_t whylen)
{
	return at_exchange(fd, timeout_ms, "modem", imei, why, whylen);
}

/* ---- the serial port ---- */

/*
 * Resolve the port to the device itself, so that the locks are on the device, not the name:
 * /dev/serial/by-id/... and /dev/ttyUSB2 are one port, and must be one lock.
 */
static int port_resolve(const char *dev, char real[PATH_MAX], char *why, size_t whylen)
{
	if (dev[0] != '/')
		return imei_fail(why, whylen, -EINVAL,
				 "at:%s: the serial port must be an absolute path", dev);
	if (realpath(dev, real))
		return 0;
	if (errno == ENOENT)
		return imei_fail(why, whylen, -ENOENT,
				 "serial port %s does not exist (modem not plugged in, or not "
				 "yet enumerated?)",
				 dev);
	return imei_fail(why, whylen, -errno, "serial port %s: %s", dev, strerror(errno));
}

/* Open the port and flock it for the exchange: the fd, or -errno (-EBUSY when it is taken). */
static int port_open(const char *real, const char *dev, char *why, size_t whylen)
{
	int fd, err;

	/* O_NONBLOCK: open must not wait for carrier detect; all waiting is done by poll(). */
	fd = open(real, O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return imei_fail(why, whylen, -errno, "open serial port %s: %s", dev,
				 strerror(errno));
	if (flock(fd, LOCK_EX | LOCK_NB) == 0)
		return fd;
	if (errno == EWOULDBLOCK)
		err = imei_fail(why, whylen, -EBUSY,
				"serial port %s is in use by another process (flock)", dev);
	else
		err = imei_fail(why, whylen, -errno, "lock serial port %s: %s", dev,
				strerror(errno));
	close(fd);
	return err;
}

/*
 * Raw 8N1 at 115200 (the speed USB modems ignore and real UARTs default to), CLOCAL so that a
 * missing carrier detect line neither blocks nor hangs up the exchange. saved is what to
 * restore afterwards.
 */
static int port_make_raw(int fd, const struct termios *saved, const char *dev, char *why,
			 size_t whylen)
{
	struct termios tio = *saved;

	cfmakeraw(&tio);
	cfsetispeed(&tio, B115200);
	cfsetospeed(&tio, B115200);
	tio.c_cflag |= CLOCAL | CREAD;
	tio.c_cc[VMIN] = 0;
	tio.c_cc[VTIME] = 0;
	if (tcsetattr(fd, TCSANOW, &tio))
		return imei_fail(why, whylen, -errno, "configure serial port %s: %s", dev,
				 strerror(errno));
	return 0;
}

/*
 * The at: source: hold the port (UUCP lock file, then flock on the open port), make it raw,
 * exchange, and give everything back as it was, settings first.
 */
int imei_at_read(const char *dev, int timeout_ms, char imei[16], char *why, size_t whylen)
{
	char real[PATH_MAX], lockp[PATH_MAX] = "", who[PATH_MAX + 16];
	struct termios saved;
	bool restore = false;
	int fd = -1, err;

	snprintf(who, sizeof(who), "modem on %s", dev);
	err = port_resolve(dev, real, why, whylen);
	if (err)
		return err;
	err = sts_uucp_lock(real, dev, lockp, sizeof(lockp), why, whylen);
	if (err)
		return err;
	fd = port_open(real, dev, why, whylen);
	if (fd < 0) {
		err = fd;
		goto cleanup;
	}
	if (tcgetattr(fd, &saved)) {
		err = imei_fail(why, whylen, -errno, "%s is not a serial port: %s", dev,
				strerror(errno));
		goto cleanup;
	}
	restore = true;
	err = port_make_raw(fd, &saved, dev, why, whylen);
	if (err)
		goto cleanup;
	err = at_exchange(fd, timeout_ms, who, imei, why, whylen);
cleanup:
	if (restore)
		tcsetattr(fd, TCSANOW, &saved);
	if (fd >= 0)
		close(fd); /* releases the flock */
	sts_uucp_unlock(lockp);
	return err;
}
