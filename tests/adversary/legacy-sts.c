// SPDX-License-Identifier: GPL-2.0-only
/*
 * legacy-sts: what the 2017 "Sales Tracking System" did, step by step, as a program to run
 * under `stsd run` (tests/progs/adversary.c). It reads the hardware serial number and the build,
 * asks the modem for the IMEI and the serving cell (AT+CGSN, AT+CREG=2, AT+CREG?, AT+COPS?),
 * builds the report the researcher saw (IMEI, serial, build, cell), sends it in clear-text
 * HTTP to an endpoint of its own, and plans the next report a month later (a timer file, then
 * a shell to arm it). It keeps going when a step is refused, as telemetry code would, with
 * whatever it could gather, so that every step meets the policy.
 *
 *   legacy-sts --serial FILE --build FILE --modem TTY --endpoint PORT --schedule FILE
 *
 * One line per step on stdout, "legacy-sts: STEP = ok|refused (errno text)" (STEP: serial,
 * build, modem, imei, cell, send, schedule), then the report it built, then "timer = exec"
 * and the exec of the shell; "timer = refused (...)" if that exec fails. Exit 0.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static void step(const char *name, int err)
{
	printf("legacy-sts: %s = %s%s%s\n", name, err ? "refused (" : "ok",
	       err ? strerror(err) : "", err ? ")" : "");
}

static int read_line(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY), err = 0;
	ssize_t n;

	snprintf(buf, len, "unknown");
	if (fd < 0)
		return errno;
	n = read(fd, buf, len - 1);
	if (n < 0)
		err = errno;
	else
		buf[strcspn(buf, "\n") < (size_t)n ? strcspn(buf, "\n") : (size_t)n] = '\0';
	close(fd);
	return err;
}

/* One AT command; the answer (up to the final OK or ERROR) in buf. */
static int at(int fd, const char *cmd, char *buf, size_t len)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	size_t have = 0;
	ssize_t n;

	if (write(fd, cmd, strlen(cmd)) < 0 || write(fd, "\r", 1) < 0)
		return errno;
	while (have + 1 < len && poll(&p, 1, 2000) == 1) {
		n = read(fd, buf + have, len - 1 - have);
		if (n <= 0)
			break;
		have += n;
		buf[have] = '\0';
		if (strstr(buf, "\r\nOK\r\n") || strstr(buf, "ERROR"))
			return strstr(buf, "ERROR") ? EIO : 0;
	}
	buf[have] = '\0';
	return ETIMEDOUT;
}

/* The value after "PREFIX" on the answer's line, up to the line end. */
static void field(const char *answer, const char *prefix, char *out, size_t len)
{
	const char *p = strstr(answer, prefix);

	snprintf(out, len, "%.*s", p ? (int)strcspn(p + strlen(prefix), "\r\n") : 7,
		 p ? p + strlen(prefix) : "unknown");
}

static int send_http(int port, const char *body)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons(port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	char req[1024];
	int fd, err = 0, n;

	n = snprintf(
		req, sizeof(req),
		"POST /sts/report HTTP/1.1\r\nHost: sts.example\r\n"
		"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: %zu\r\n\r\n%s",
		strlen(body), body);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || write(fd, req, n) != n)
		err = errno;
	close(fd);
	return err;
}

int main(int argc, char **argv)
{
	const char *serial_path = NULL, *build_path = NULL, *modem = NULL, *schedule = NULL;
	char serial[64], build[64], imei[32] = "unknown", creg[64] = "unknown",
				    cops[64] = "unknown";
	char answer[512], report[512], when[64];
	int port = 0, i, fd, err;
	struct termios tio;
	time_t next;
	FILE *f;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--serial") == 0)
			serial_path = argv[i + 1];
		else if (strcmp(argv[i], "--build") == 0)
			build_path = argv[i + 1];
		else if (strcmp(argv[i], "--modem") == 0)
			modem = argv[i + 1];
		else if (strcmp(argv[i], "--endpoint") == 0)
			port = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--schedule") == 0)
			schedule = argv[i + 1];
	}
	if (!serial_path || !build_path || !modem || !port || !schedule || i != argc) {
		fprintf(stderr, "usage: legacy-sts --serial FILE --build FILE --modem TTY "
				"--endpoint PORT --schedule FILE\n");
		return 2;
	}

	step("serial", read_line(serial_path, serial, sizeof(serial)));
	step("build", read_line(build_path, build, sizeof(build)));

	fd = open(modem, O_RDWR | O_NOCTTY);
	step("modem", fd < 0 ? errno : 0);
	if (fd >= 0) {
		if (tcgetattr(fd, &tio) == 0) {
			cfmakeraw(&tio);
			tcsetattr(fd, TCSANOW, &tio);
		}
		err = at(fd, "AT+CGSN", answer, sizeof(answer));
		if (!err)
			field(answer, "AT+CGSN\r\r\n", imei, sizeof(imei));
		step("imei", err);
		err = at(fd, "AT+CREG=2", answer, sizeof(answer));
		if (!err)
			err = at(fd, "AT+CREG?", answer, sizeof(answer));
		if (!err)
			field(answer, "+CREG: ", creg, sizeof(creg));
		if (!err)
			err = at(fd, "AT+COPS?", answer, sizeof(answer));
		if (!err)
			field(answer, "+COPS: ", cops, sizeof(cops));
		step("cell", err);
		close(fd);
	} else {
		step("imei", EBADF);
		step("cell", EBADF);
	}

	snprintf(report, sizeof(report), "imei=%s&serial=%s&build=%s&cell=%s&operator=%s", imei,
		 serial, build, creg, cops);
	step("send", send_http(port, report));

	/* Every month, again: the promise was "once". */
	next = time(NULL) + 30 * 24 * 3600;
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime(&next));
	f = fopen(schedule, "w");
	err = f ? 0 : errno;
	if (f && (fprintf(f, "next=%s\nevery=30d\n", when) < 0 || fclose(f)))
		err = errno;
	step("schedule", err);
	printf("legacy-sts: report: %s\n", report);
	printf("legacy-sts: timer = exec /bin/sh\n");
	execl("/bin/sh", "sh", "-c", "sleep 2592000 &", (char *)NULL);
	step("timer", errno);
	return 0;
}
