/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Private to the identifier broker (imei.c, modem_at.c, mmcli.c, uucp_lock.c): the helpers
 * its sources share, and the source readers that sts_imei_read() dispatches to. Nothing
 * outside lib/device/ includes this; the API is imei.h.
 */
#ifndef STS_IMEI_INT_H
#define STS_IMEI_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Write the reason into why (when whylen > 0) and return err, for `return imei_fail(...)`. */
int imei_fail(char *why, size_t whylen, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* CLOCK_MONOTONIC in milliseconds, and what is left of a deadline on it (0 once passed). */
int64_t imei_now_ms(void);
int imei_remaining_ms(int64_t deadline);

/*
 * Quote what a device or program said, for a message: printable ASCII only, at most 48
 * characters, digit runs masked but their last 4.
 */
void imei_quote(const char *s, size_t n, char *out, size_t outsz);

/* n > 0 and every character a decimal digit. */
bool imei_all_digits(const char *s, size_t n);

/* Strip spaces and tabs at both ends of s[0..n). */
void imei_trim(const char **s, size_t *n);

/*
 * The next line of p[..end), ended by '\r' or '\n' (which is not part of it); terminated
 * says whether that end of line was there. False when nothing is left.
 */
bool imei_next_line(const char **p, const char *end, const char **ls, size_t *ln, bool *terminated);

/*
 * The last gate of every source: 15 digits with a valid Luhn check digit, copied into imei[]
 * with a NUL; otherwise -EBADMSG and a reason naming who gave the number.
 */
int imei_accept(const char *d, size_t n, const char *who, char imei[16], char *why, size_t whylen);

/* The sources, each given the part of the source string after its "at:" or "mmcli:". */
int imei_at_read(const char *dev, int timeout_ms, char imei[16], char *why, size_t whylen);
int imei_mmcli_read(const char *index, int timeout_ms, char imei[16], char *why, size_t whylen);

#endif /* STS_IMEI_INT_H */
