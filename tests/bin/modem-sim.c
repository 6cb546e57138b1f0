// SPDX-License-Identifier: GPL-2.0-only
/*
 * modem-sim: a cellular modem's AT port on a real pseudo-terminal, for the identifier broker's
 * tests (unit and VM lanes). It answers as a modem does: echo on by default (ATE0/ATE1 switch
 * it), commands ended by CR, answers framed "\r\n<answer>\r\n\r\nOK\r\n", ERROR for what it
 * does not know. The mode says how it answers AT+CGSN:
 *
 *	ok           the IMEI as bare digits
 *	cgsn-prefix  +CGSN: "<IMEI>"
 *	noecho       bare digits, echo off from the start
 *	error        ERROR
 *	cme          +CME ERROR: 10
 *	garbage      line noise, then OK
 *	timeout      never answers anything (nor echoes)
 *	badluhn      15 digits with a wrong check digit
 *	slow         the answer only after 1.5 s, in pieces
 *	count FILE   as ok, recording every command (also --count FILE with any mode)
 *
 * Whatever the mode, it also answers what the 2017 STS asked for the serving cell: AT+CREG=2
 * (OK), AT+CREG? (registered, home network, with LAC and cell id) and AT+COPS? (the operator
 * as MCC and MNC), so the legacy-STS emulator (tests/adversary/) finds a cell to report.
 *
 * Recording lets a test check that the broker sent AT+CGSN and nothing else. The slave path
 * is printed on stdout, or written (atomically) to the file given with --path-file. The
 * simulator runs until killed.
 *
 * usage: modem-sim [--path-file FILE] [--count FILE] MODE
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define SIM_IMEI "490154203237518"
#define SIM_IMEI_BADLUHN "490154203237519"
/* What AT+CIMI would give: present so that a test can catch a broker asking for it. */
#define SIM_IMSI "208019876543210"
/* The serving cell: location area code and cell id (hex), and the operator's MCC MNC. */
#define SIM_CREG "+CREG: 2,1,\"1A2B\",\"01C3D4E5\""
#define SIM_COPS "+COPS: 0,2,\"20801\",7"

static const char *mode = "ok";
static bool echo = true;
static int count_fd = -1;

static void die(const char *what)
{
	fprintf(stderr, "modem-sim: %s: %s\n", what, strerror(errno));
	exit(2);
}

static void put(int fd, const char *s, size_t n)
{
	ssize_t w;

	while (n) {
		w = write(fd, s, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			die("write");
		s += w;
		n -= (size_t)w;
	}
}

static void puts_fd(int fd, const char *s)
{
	put(fd, s, strlen(s));
}

static void pause_ms(int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static void answer_cgsn(int fd)
{
	if (strcmp(mode, "cgsn-prefix") == 0) {
		puts_fd(fd, "\r\n+CGSN: \"" SIM_IMEI "\"\r\n\r\nOK\r\n");
	} else if (strcmp(mode, "error") == 0) {
		puts_fd(fd, "\r\nERROR\r\n");
	} else if (strcmp(mode, "cme") == 0) {
		puts_fd(fd, "\r\n+CME ERROR: 10\r\n");
	} else if (strcmp(mode, "garbage") == 0) {
		/* What a port at the wrong speed, or a GPS NMEA port, might produce. */
		puts_fd(fd, "\r\n\x1b[0m~\xfe\xff$GPGSV,3,1,11*4F 4901542 x\r\n\r\nOK\r\n");
	} else if (strcmp(mode, "badluhn") == 0) {
		puts_fd(fd, "\r\n" SIM_IMEI_BADLUHN "\r\n\r\nOK\r\n");
	} else if (strcmp(mode, "slow") == 0) {
		pause_ms(1500);
		puts_fd(fd, "\r\n4901542");
		pause_ms(100);
		puts_fd(fd, "03237518\r");
		pause_ms(100);
		puts_fd(fd, "\n\r\nO");
		pause_ms(100);
		puts_fd(fd, "K\r\n");
	} else {
		puts_fd(fd, "\r\n" SIM_IMEI "\r\n\r\nOK\r\n");
	}
}

static void command(int fd, const char *cmd)
{
	if (count_fd >= 0) {
		puts_fd(count_fd, cmd);
		puts_fd(count_fd, "\n");
	}
	if (strcmp(mode, "timeout") == 0)
		return;
	if (strcasecmp(cmd, "AT") == 0) {
		puts_fd(fd, "\r\nOK\r\n");
	} else if (strcasecmp(cmd, "ATE0") == 0) {
		echo = false;
		puts_fd(fd, "\r\nOK\r\n");
	} else if (strcasecmp(cmd, "ATE1") == 0) {
		echo = true;
		puts_fd(fd, "\r\nOK\r\n");
	} else if (strcasecmp(cmd, "AT+CGSN") == 0) {
		answer_cgsn(fd);
	} else if (strcasecmp(cmd, "AT+CIMI") == 0) {
		puts_fd(fd, "\r\n" SIM_IMSI "\r\n\r\nOK\r\n");
	} else if (strcasecmp(cmd, "AT+CREG=2") == 0) {
		puts_fd(fd, "\r\nOK\r\n");
	} else if (strcasecmp(cmd, "AT+CREG?") == 0) {
		puts_fd(fd, "\r\n" SIM_CREG "\r\n\r\nOK\r\n");
	} else if (strcasecmp(cmd, "AT+COPS?") == 0) {
		puts_fd(fd, "\r\n" SIM_COPS "\r\n\r\nOK\r\n");
	} else {
		puts_fd(fd, "\r\nERROR\r\n");
	}
}

static void publish(const char *path_file, const char *slave)
{
	char tmp[4096];
	FILE *f;

	if (!path_file) {
		printf("%s\n", slave);
		fflush(stdout);
		return;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp", path_file);
	f = fopen(tmp, "w");
	if (!f || fprintf(f, "%s\n", slave) < 0 || fclose(f) || rename(tmp, path_file))
		die(path_file);
}

int main(int argc, char **argv)
{
	const char *path_file = NULL, *count_file = NULL, *slave;
	char line[256], c;
	struct termios tio;
	size_t len = 0;
	int master, keep, i;
	ssize_t r;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--path-file") == 0 && i + 1 < argc) {
			path_file = argv[++i];
		} else if (strcmp(argv[i], "--count") == 0 && i + 1 < argc) {
			count_file = argv[++i];
		} else if (strcmp(argv[i], "count") == 0 && i + 1 < argc) {
			mode = "ok";
			count_file = argv[++i];
		} else if (argv[i][0] != '-') {
			mode = argv[i];
		} else {
			fprintf(stderr,
				"usage: modem-sim [--path-file FILE] [--count FILE] MODE\n");
			return 2;
		}
	}
	if (strcmp(mode, "noecho") == 0 || strcmp(mode, "timeout") == 0)
		echo = false;
	if (count_file) {
		count_fd =
			open(count_file, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
		if (count_fd < 0)
			die(count_file);
	}
	master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0 || grantpt(master) || unlockpt(master))
		die("posix_openpt");
	slave = ptsname(master);
	if (!slave)
		die("ptsname");
	/*
	 * Hold the slave open so that the master never sees a hang-up between two clients, and
	 * make it raw as a real serial port is: a cooked pty would echo our own answers back.
	 */
	keep = open(slave, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (keep < 0 || tcgetattr(keep, &tio))
		die(slave);
	cfmakeraw(&tio);
	if (tcsetattr(keep, TCSANOW, &tio))
		die("tcsetattr");
	publish(path_file, slave);

	for (;;) {
		r = read(master, &c, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			die("read");
		if (echo)
			put(master, &c, 1);
		if (c == '\n')
			continue;
		if (c != '\r') {
			if (len + 1 < sizeof(line))
				line[len++] = c;
			continue;
		}
		line[len] = '\0';
		len = 0;
		if (line[0])
			command(master, line);
	}
}
