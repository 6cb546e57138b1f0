/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The identifier broker: the one place where stsguard reads the IMEI, and nothing else. Only
 * the privileged monitor calls it; the agent asks the monitor (as Android lets only privileged
 * code read the IMEI).
 *
 * Sources, parsed from a configuration value:
 *	"at:/dev/ttyUSB2"          an AT modem on a serial port, asked with AT+CGSN
 *	"mmcli:0"                  ModemManager's modem 0: `mmcli -m 0 --output-keyvalue`, key
 *	                           modem.generic.equipment-identifier; mmcli is found through
 *	                           the caller's PATH and run with a minimal environment
 *	"file:/etc/stsguard/imei"  a file holding the 15 digits, one trailing newline allowed
 *	                           (test VMs)
 *
 * The broker sends exactly one AT command, AT+CGSN: no ATE0 (echo is parsed instead), no
 * AT+CGSN=1 or AT+CIMI or AT+CCID fallbacks, since those read other identities (the IMEISV,
 * the subscriber's IMSI, the SIM serial) that the promise says are never read. A serial port
 * is held for the exchange with flock(LOCK_EX | LOCK_NB) on the open port and a UUCP lock file
 * (/run/lock/LCK..<name>, or /var/lock) holding the pid, so minicom, a second broker or any
 * other polite user of the port is refused, not interleaved; both are released afterwards.
 *
 * Functions return 0 with imei[] set to the 15 digits and a NUL, or -errno:
 *	-EBADMSG    garbage, not 15 digits, or a bad Luhn check digit
 *	-ETIMEDOUT  no complete answer within timeout_ms
 *	-EIO        the modem answered ERROR or +CME ERROR, or mmcli failed
 *	-EBUSY      the port is locked by another process
 *	-ENOENT     no such port, file, or mmcli program
 *	-EINVAL     a malformed source string
 * and why (when whylen > 0) holds a sentence a person can act on. No message ever carries a
 * whole IMEI: all but the last 4 digits are masked.
 *
 * Where each part lives: imei.c (sts_imei_read, the 15-digit Luhn check, the file: source),
 * modem_at.c (the AT+CGSN exchange and its parser), uucp_lock.c (the serial port's lock file),
 * mmcli.c (the mmcli: source); imei_int.h is what they share.
 */
#ifndef STS_IMEI_H
#define STS_IMEI_H

#include <stddef.h>

/* Longest modem answer to AT+CGSN the broker reads; more than that is garbage. */
#define STS_IMEI_AT_MAX 1024
/* Longest mmcli output accepted (a modem's key-value listing is 3-4 KiB). */
#define STS_IMEI_MMCLI_MAX 65536
/* Room enough for every why this module writes. */
#define STS_IMEI_WHY_MAX 256

int sts_imei_read(const char *source, int timeout_ms, char imei[16], char *why, size_t whylen);

/*
 * The AT exchange on an already open fd (exposed for tests and fuzzing): drains pending input,
 * writes "AT+CGSN\r", reads until a final result code or the timeout, parses.
 */
int sts_imei_at_exchange(int fd, int timeout_ms, char imei[16], char *why, size_t whylen);

/*
 * Parse a complete modem answer: the echo of AT+CGSN (optional), blank lines, one line with
 * the IMEI as bare digits or "+CGSN: <digits>", quoted or not, unsolicited result codes
 * ("+CREG: 1" style lines, ignored), and a final result code: OK, ERROR or +CME ERROR: n.
 */
int sts_imei_parse_at(const char *buf, size_t len, char imei[16], char *why, size_t whylen);
/* The same for the output of `mmcli -m N --output-keyvalue` (exposed for the fuzz harness). */
int sts_imei_parse_mmcli(const char *buf, size_t len, char imei[16], char *why, size_t whylen);

#endif /* STS_IMEI_H */
