// SPDX-License-Identifier: GPL-2.0-only
/*
 * The identifier broker (see imei.h). Three sources, one rule: read the IMEI and nothing else,
 * hold every device or program only for the exchange, and say plainly what went wrong without
 * ever writing the whole IMEI into a message.
 *
 * This file is the entry (sts_imei_read picks the source), the check every IMEI passes, the
 * file: source, and the small helpers the sources share (imei_int.h). The sources:
 *	modem_at.c   at:    the AT+CGSN exchange on a serial port
 *	uucp_lock.c         the UUCP lock file that holds that port
 *	mmcli.c      mmcli: ModemManager's command-line tool
 */
#include "device/imei.h"
#include "device/imei_int.h"
#include "core/crypto.h"
#include "wire/report.h"
#include "core/util.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* What a file: source may hold: 15 digits and a newline, with room to see that it is more. */
#define IMEI_FILE_MAX 64

int imei_fail(char *why, size_t whylen, int err, const char *fmt, ...)
{
	va_list ap;

	if (why && whylen) {
		va_start(ap, fmt);
		vsnprintf(why, whylen, fmt, ap);
		va_end(ap);
	}
	return err;
}

int64_t imei_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int imei_remaining_ms(int64_t deadline)
{
	int64_t left = deadline - imei_now_ms();

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
 * Any run of more than 4 digits is masked but its last 4, since the odd line may well hold
 * the IMEI (or, from mmcli, another identifier).
 */
void imei_quote(const char *s, size_t n, char *out, size_t outsz)
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

bool imei_all_digits(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	return n > 0;
}

void imei_trim(const char **s, size_t *n)
{
	while (*n && (**s == ' ' || **s == '\t')) {
		(*s)++;
		(*n)--;
	}
	while (*n && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t'))
		(*n)--;
}

bool imei_next_line(const char **p, const char *end, const char **ls, size_t *ln, bool *terminated)
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

int imei_accept(const char *d, size_t n, const char *who, char imei[16], char *why, size_t whylen)
{
	char masked[32];

	if (n != STS_REPORT_IMEI_LEN)
		return imei_fail(why, whylen, -EBADMSG,
				 "%s gave a %zu-digit number where an IMEI has 15 digits", who, n);
	if (!sts_imei_valid(d, n)) {
		mask_digits(d, n, masked, sizeof(masked));
		return imei_fail(
			why, whylen, -EBADMSG,
			"IMEI %s from %s fails the Luhn check digit; the source is misread "
			"or misconfigured",
			masked, who);
	}
	memcpy(imei, d, STS_REPORT_IMEI_LEN);
	imei[STS_REPORT_IMEI_LEN] = '\0';
	return 0;
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
		return imei_fail(why, whylen, err, "IMEI file %s does not exist", path);
	if (err == -EFBIG)
		return imei_fail(why, whylen, -EBADMSG,
				 "IMEI file %s is larger than %d bytes; it must hold only the 15 "
				 "digits",
				 path, IMEI_FILE_MAX);
	if (err)
		return imei_fail(why, whylen, err, "read IMEI file %s: %s", path, strerror(-err));
	n = len;
	if (n && buf[n - 1] == '\n')
		n--;
	if (!imei_all_digits(buf, n)) {
		err = imei_fail(why, whylen, -EBADMSG,
				"IMEI file %s must hold 15 digits and at most one newline, nothing "
				"else",
				path);
		goto cleanup;
	}
	err = imei_accept(buf, n, who, imei, why, whylen);
cleanup:
	sts_wipe(buf, len);
	free(buf);
	return err;
}

/* ---- entry ---- */

int sts_imei_read(const char *source, int timeout_ms, char imei[16], char *why, size_t whylen)
{
	if (why && whylen)
		why[0] = '\0';
	if (!source)
		return imei_fail(why, whylen, -EINVAL, "no IMEI source configured");
	if (strncmp(source, "at:", 3) == 0 && source[3])
		return imei_at_read(source + 3, timeout_ms, imei, why, whylen);
	if (strncmp(source, "mmcli:", 6) == 0 && source[6])
		return imei_mmcli_read(source + 6, timeout_ms, imei, why, whylen);
	if (strncmp(source, "file:", 5) == 0 && source[5])
		return file_read(source + 5, imei, why, whylen);
	return imei_fail(why, whylen, -EINVAL,
			 "IMEI source \"%.64s\" is not at:/dev/PORT, mmcli:INDEX or file:PATH",
			 source);
}
