// SPDX-License-Identifier: GPL-2.0-only
/*
 * The identifier broker against real parts: the modem simulator on a pty (every answer mode,
 * the one command sent, both locks), IMEI files, and mmcli replaced by a script found first in
 * PATH, as the broker finds the real one.
 */
#include "test.h"
#include "device/imei.h"
#include "core/util.h"

#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define IMEI "490154203237518"
/* What no message may contain: the IMEI, or the bad-Luhn one, but for the last digit. */
#define IMEI_STEM "49015420323751"

static void sleep_ms(int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/* Start modem-sim in mode; pty receives the slave path. Returns the pid or -1. */
static pid_t sim_start(const char *mode, const char *count_file, char *pty, size_t ptysz)
{
	char bin[PATH_MAX], path_file[PATH_MAX], *buf = NULL;
	size_t len;
	pid_t pid;
	int i;

	snprintf(bin, sizeof(bin), "%s/tests/bin/modem-sim", test__out_dir());
	snprintf(path_file, sizeof(path_file), "%s/pty-%s", test__tmpdir(), mode);
	unlink(path_file);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (count_file)
			execl(bin, bin, "--path-file", path_file, "--count", count_file, mode,
			      (char *)NULL);
		else
			execl(bin, bin, "--path-file", path_file, mode, (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 500; i++) {
		if (sts_read_file(path_file, PATH_MAX, &buf, &len) == 0) {
			buf[strcspn(buf, "\n")] = '\0';
			snprintf(pty, ptysz, "%s", buf);
			free(buf);
			return pid;
		}
		sleep_ms(10);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return -1;
}

static void sim_stop(pid_t pid)
{
	if (pid > 0) {
		kill(pid, SIGTERM);
		waitpid(pid, NULL, 0);
	}
}

static bool contains(const char *s, const char *sub)
{
	return s && strstr(s, sub) != NULL;
}

/* The UUCP lock file the broker uses for a pty, or "" when the system has no lock dir. */
static void lock_file_of(const char *pty, char *out, size_t outsz)
{
	const char *dir = access("/run/lock", W_OK) == 0   ? "/run/lock"
			  : access("/var/lock", W_OK) == 0 ? "/var/lock"
							   : NULL;
	char real[PATH_MAX];
	size_t i, n;

	out[0] = '\0';
	if (!dir || !realpath(pty, real) || strncmp(real, "/dev/", 5) != 0)
		return;
	n = (size_t)snprintf(out, outsz, "%s/LCK..%s", dir, real + 5);
	for (i = strlen(dir) + 6; i < n && i < outsz; i++)
		if (out[i] == '/')
			out[i] = '_';
}

void test_imei_at_modes(void)
{
	static const struct {
		const char *mode;
		int timeout_ms;
		int err;
		const char *why;
	} cases[] = {
		{ "ok", 3000, 0, NULL },
		{ "cgsn-prefix", 3000, 0, NULL },
		{ "noecho", 3000, 0, NULL },
		{ "slow", 4000, 0, NULL },
		{ "error", 3000, -EIO, "answered \"ERROR\" to AT+CGSN" },
		{ "cme", 3000, -EIO, "answered \"+CME ERROR: 10\" (SIM not inserted?) to AT+CGSN" },
		{ "garbage", 3000, -EBADMSG, "which is not an IMEI answer" },
		{ "timeout", 400, -ETIMEDOUT, "did not answer AT+CGSN within 400 ms" },
		{ "slow", 800, -ETIMEDOUT, "echoed AT+CGSN but did not answer within 800 ms" },
		{ "badluhn", 3000, -EBADMSG, "IMEI ***********7519 from modem on /dev/" },
	};
	char pty[PATH_MAX], src[PATH_MAX + 8], count[PATH_MAX], imei[16], why[STS_IMEI_WHY_MAX];
	char name[128], *sent = NULL;
	size_t i, len;
	pid_t sim;
	int err;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		snprintf(count, sizeof(count), "%s/count-%zu", test__tmpdir(), i);
		sim = sim_start(cases[i].mode, count, pty, sizeof(pty));
		snprintf(name, sizeof(name), "start modem-sim %s", cases[i].mode);
		if (!ASSERT_GE(sim, 1, name))
			return;
		snprintf(src, sizeof(src), "at:%s", pty);
		memset(imei, 0, sizeof(imei));
		err = sts_imei_read(src, cases[i].timeout_ms, imei, why, sizeof(why));
		snprintf(name, sizeof(name), "%s/%d: result", cases[i].mode, cases[i].timeout_ms);
		ASSERT_EQ(err, cases[i].err, name);
		snprintf(name, sizeof(name), "%s/%d: why", cases[i].mode, cases[i].timeout_ms);
		if (cases[i].err == 0)
			ASSERT_STREQ(imei, IMEI, name);
		else if (!ASSERT_TRUE(contains(why, cases[i].why), name))
			printf("    why: %s\n", why);
		snprintf(name, sizeof(name), "%s: no IMEI in why", cases[i].mode);
		ASSERT_FALSE(contains(why, IMEI_STEM), name);
		/* Let the simulator take in all of what was written before reading its record. */
		sleep_ms(50);
		sim_stop(sim);
		snprintf(name, sizeof(name), "%s: only AT+CGSN sent", cases[i].mode);
		if (ASSERT_OK(sts_read_file(count, 4096, &sent, &len), "read command record"))
			ASSERT_STREQ(sent, "AT+CGSN\n", name);
		free(sent);
		sent = NULL;
	}
}

/* The same port asked twice in a row: the second exchange must not see the first's leftovers. */
void test_imei_at_twice(void)
{
	char pty[PATH_MAX], src[PATH_MAX + 8], count[PATH_MAX], imei[16], why[STS_IMEI_WHY_MAX];
	char *sent = NULL;
	size_t len;
	pid_t sim;

	snprintf(count, sizeof(count), "%s/count", test__tmpdir());
	sim = sim_start("ok", count, pty, sizeof(pty));
	if (!ASSERT_GE(sim, 1, "start modem-sim"))
		return;
	snprintf(src, sizeof(src), "at:%s", pty);
	ASSERT_OK(sts_imei_read(src, 3000, imei, why, sizeof(why)), "first read");
	ASSERT_OK(sts_imei_read(src, 3000, imei, why, sizeof(why)), "second read");
	ASSERT_STREQ(imei, IMEI, "imei");
	sleep_ms(50);
	sim_stop(sim);
	if (ASSERT_OK(sts_read_file(count, 4096, &sent, &len), "read command record"))
		ASSERT_STREQ(sent, "AT+CGSN\nAT+CGSN\n", "two AT+CGSN, nothing else");
	free(sent);
}

void test_imei_at_lock(void)
{
	char pty[PATH_MAX], src[PATH_MAX + 8], lock[PATH_MAX], imei[16], why[STS_IMEI_WHY_MAX];
	char expect[64], content[32], *buf = NULL;
	int sync[2] = { -1, -1 }, fd, st;
	pid_t sim, holder = -1, dead, broker = -1;
	size_t len;
	char c;

	sim = sim_start("ok", NULL, pty, sizeof(pty));
	if (!ASSERT_GE(sim, 1, "start modem-sim"))
		return;
	snprintf(src, sizeof(src), "at:%s", pty);

	/* Another process holds the port with flock. */
	if (!ASSERT_OK(pipe(sync), "pipe"))
		goto cleanup;
	holder = fork();
	if (holder == 0) {
		fd = open(pty, O_RDWR | O_NOCTTY);
		if (fd < 0 || flock(fd, LOCK_EX))
			_exit(1);
		if (write(sync[1], "x", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	if (!ASSERT_EQ(read(sync[0], &c, 1), 1, "holder has the flock"))
		goto cleanup;
	ASSERT_EQ(sts_imei_read(src, 2000, imei, why, sizeof(why)), -EBUSY, "flock held: EBUSY");
	ASSERT_TRUE(contains(why, "is in use by another process"), "flock held: why");
	kill(holder, SIGKILL);
	waitpid(holder, NULL, 0);
	holder = -1;
	ASSERT_OK(sts_imei_read(src, 2000, imei, why, sizeof(why)), "flock released: read");

	lock_file_of(pty, lock, sizeof(lock));
	if (!lock[0]) {
		test__skip("no writable /run/lock or /var/lock for the UUCP lock file");
		goto cleanup;
	}
	/* A live process's UUCP lock: our own parent's pid stands for it. */
	snprintf(content, sizeof(content), "%10d\n", (int)getppid());
	if (!ASSERT_OK(sts_write_file_atomic(lock, content, strlen(content), 0644), "live lock"))
		goto cleanup;
	ASSERT_EQ(sts_imei_read(src, 2000, imei, why, sizeof(why)), -EBUSY, "live lock: EBUSY");
	snprintf(expect, sizeof(expect), "is in use by process %d (lock file", (int)getppid());
	ASSERT_TRUE(contains(why, expect), "live lock: why names the pid");
	ASSERT_EQ(access(lock, F_OK), 0, "live lock left in place");

	/* A stale lock: its process is gone. */
	dead = fork();
	if (dead == 0)
		_exit(0);
	waitpid(dead, NULL, 0);
	snprintf(content, sizeof(content), "%10d\n", (int)dead);
	if (!ASSERT_OK(sts_write_file_atomic(lock, content, strlen(content), 0644), "stale lock"))
		goto cleanup;
	ASSERT_OK(sts_imei_read(src, 2000, imei, why, sizeof(why)), "stale lock taken over");
	ASSERT_STREQ(imei, IMEI, "stale lock: imei");
	ASSERT_EQ(access(lock, F_OK), -1, "lock file removed after the read");

	/* Two brokers: while one waits for a slow modem, it holds the lock with its pid. */
	sim_stop(sim);
	sim = sim_start("slow", NULL, pty, sizeof(pty));
	if (!ASSERT_GE(sim, 1, "start slow modem-sim"))
		goto cleanup;
	snprintf(src, sizeof(src), "at:%s", pty);
	lock_file_of(pty, lock, sizeof(lock));
	broker = fork();
	if (broker == 0)
		_exit(sts_imei_read(src, 4000, imei, why, sizeof(why)) == 0 ? 0 : 1);
	sleep_ms(500);
	if (ASSERT_OK(sts_read_file(lock, 64, &buf, &len), "lock file held during the exchange")) {
		snprintf(expect, sizeof(expect), "%10d\n", (int)broker);
		ASSERT_STREQ(buf, expect, "lock file holds the broker's pid");
	}
	free(buf);
	ASSERT_EQ(sts_imei_read(src, 2000, imei, why, sizeof(why)), -EBUSY, "second broker: EBUSY");
	waitpid(broker, &st, 0);
	broker = -1;
	ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0, "first broker read the IMEI");
	ASSERT_EQ(access(lock, F_OK), -1, "lock file released");
cleanup:
	if (broker > 0)
		waitpid(broker, NULL, 0);
	if (holder > 0) {
		kill(holder, SIGKILL);
		waitpid(holder, NULL, 0);
	}
	if (sync[0] >= 0)
		close(sync[0]);
	if (sync[1] >= 0)
		close(sync[1]);
	sim_stop(sim);
}

void test_imei_file(void)
{
	static const struct {
		const char *content;
		int err;
		const char *why;
	} cases[] = {
		{ IMEI, 0, NULL },
		{ IMEI "\n", 0, NULL },
		{ "490154203237519\n", -EBADMSG, "IMEI ***********7519 from IMEI file" },
		{ "49015420323751\n", -EBADMSG, "gave a 14-digit number where an IMEI has 15" },
		{ "4901542032375180", -EBADMSG, "gave a 16-digit number" },
		{ IMEI "\n\n", -EBADMSG, "must hold 15 digits and at most one newline" },
		{ " " IMEI, -EBADMSG, "must hold 15 digits" },
		{ "IMEI=" IMEI, -EBADMSG, "must hold 15 digits" },
		{ "", -EBADMSG, "must hold 15 digits" },
		{ "\x01\xff garbage that is much longer than any IMEI file may be, and then some "
		  "more",
		  -EBADMSG, "is larger than 64 bytes" },
	};
	char path[PATH_MAX], src[PATH_MAX + 8], imei[16], why[STS_IMEI_WHY_MAX], name[64];
	size_t i;

	snprintf(path, sizeof(path), "%s/imei", test__tmpdir());
	snprintf(src, sizeof(src), "file:%s", path);
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		if (!ASSERT_OK(sts_write_file_atomic(path, cases[i].content,
						     strlen(cases[i].content), 0644),
			       "write"))
			return;
		snprintf(name, sizeof(name), "file case %zu: result", i);
		ASSERT_EQ(sts_imei_read(src, 1000, imei, why, sizeof(why)), cases[i].err, name);
		snprintf(name, sizeof(name), "file case %zu: why", i);
		if (cases[i].err == 0)
			ASSERT_STREQ(imei, IMEI, name);
		else if (!ASSERT_TRUE(contains(why, cases[i].why), name))
			printf("    why: %s\n", why);
		ASSERT_FALSE(contains(why, IMEI_STEM), "no IMEI in why");
	}
	unlink(path);
	ASSERT_EQ(sts_imei_read(src, 1000, imei, why, sizeof(why)), -ENOENT, "missing file");
	ASSERT_TRUE(contains(why, "does not exist"), "missing file: why");
}

/* Install a fake mmcli whose body is a shell script fragment. */
static int fake_mmcli(const char *bindir, const char *body)
{
	char path[PATH_MAX], script[PATH_MAX + 1100];

	snprintf(path, sizeof(path), "%s/mmcli", bindir);
	snprintf(script, sizeof(script), "#!/bin/sh\n%s\n", body);
	return sts_write_file_atomic(path, script, strlen(script), 0755);
}

#define KV(k, v) k "                              : " v "\n"

void test_imei_mmcli(void)
{
	char bindir[PATH_MAX], args[PATH_MAX], body[PATH_MAX + 1024], imei[16],
		why[STS_IMEI_WHY_MAX];
	char *old_path = getenv("PATH") ? strdup(getenv("PATH")) : NULL, *path = NULL;
	char *rec = NULL;
	int64_t t0;
	size_t len;
	struct timespec ts;

	snprintf(bindir, sizeof(bindir), "%s/bin", test__tmpdir());
	snprintf(args, sizeof(args), "%s/args", test__tmpdir());
	if (!ASSERT_OK(sts_mkdir_p(bindir, 0755), "mkdir bin"))
		goto cleanup;
	if (asprintf(&path, "%s:%s", bindir, old_path ? old_path : "/usr/bin:/bin") < 0)
		goto cleanup;
	setenv("PATH", path, 1);

	/* mmcli's real shape: padded keys, other fields (which the broker must ignore). */
	snprintf(body, sizeof(body),
		 "echo \"$*|LC_ALL=$LC_ALL|HOME=${HOME-unset}\" > %s\n"
		 "printf '%%s' '" KV("modem.dbus-path", "/org/freedesktop/ModemManager1/Modem/0")
			 KV("modem.generic.model", "EG25")
				 KV("modem.generic.own-numbers.length", "1")
					 KV("modem.generic.own-numbers.value[1]", "+33612345678")
						 KV("modem.generic.equipment-identifier", IMEI)
							 KV("modem.3gpp.operator-name", "--") "'",
		 args);
	ASSERT_OK(fake_mmcli(bindir, body), "install fake mmcli");
	ASSERT_OK(sts_imei_read("mmcli:0", 2000, imei, why, sizeof(why)), "mmcli: read");
	ASSERT_STREQ(imei, IMEI, "mmcli: imei");
	if (ASSERT_OK(sts_read_file(args, 4096, &rec, &len), "mmcli ran"))
		ASSERT_STREQ(rec, "-m 0 --output-keyvalue|LC_ALL=C|HOME=unset\n",
			     "mmcli: arguments and minimal environment");
	free(rec);

	ASSERT_OK(fake_mmcli(bindir, "printf '%s' '" KV("modem.generic.equipment-identifier",
							"490154203237519") "'"),
		  "install");
	ASSERT_EQ(sts_imei_read("mmcli:0", 2000, imei, why, sizeof(why)), -EBADMSG,
		  "mmcli: bad luhn");
	ASSERT_TRUE(contains(why, "IMEI ***********7519 from mmcli -m 0 fails the Luhn"),
		    "mmcli: bad luhn why");

	ASSERT_OK(fake_mmcli(bindir,
			     "printf '%s' '" KV("modem.generic.equipment-identifier", "--") "'"),
		  "install");
	ASSERT_EQ(sts_imei_read("mmcli:0", 2000, imei, why, sizeof(why)), -EIO, "mmcli: no id");
	ASSERT_TRUE(contains(why, "reports no equipment identifier"), "mmcli: no id why");

	ASSERT_OK(fake_mmcli(bindir, "printf '%s' '" KV("modem.generic.model", "EG25") "'"),
		  "install");
	ASSERT_EQ(sts_imei_read("mmcli:0", 2000, imei, why, sizeof(why)), -EBADMSG,
		  "mmcli: key missing");
	ASSERT_TRUE(contains(why, "printed no modem.generic.equipment-identifier"),
		    "mmcli: key missing why");

	ASSERT_OK(fake_mmcli(bindir, "echo 'IMEI is " IMEI "'"), "install");
	ASSERT_EQ(sts_imei_read("mmcli:0", 2000, imei, why, sizeof(why)), -EBADMSG,
		  "mmcli: not key-value");
	ASSERT_TRUE(contains(why, "line 1 in a format other than mmcli's"), "mmcli: format why");

	ASSERT_OK(fake_mmcli(bindir, "printf '%s' '" KV("modem.generic.equipment-identifier", IMEI)
					     KV("modem.generic.equipment-identifier", IMEI) "'"),
		  "install");
	ASSERT_EQ(sts_imei_read("mmcli:0", 2000, imei, why, sizeof(why)), -EBADMSG,
		  "mmcli: key twice");

	ASSERT_OK(fake_mmcli(bindir, "echo \"error: couldn't find modem 490154203237518\" >&2\n"
				     "exit 1"),
		  "install");
	ASSERT_EQ(sts_imei_read("mmcli:0", 2000, imei, why, sizeof(why)), -EIO, "mmcli: fails");
	if (!ASSERT_TRUE(contains(why, "mmcli -m 0 failed with exit status 1: error: couldn't "
				       "find modem ***********7518"),
			 "mmcli: fails why"))
		printf("    why: %s\n", why);

	ASSERT_OK(fake_mmcli(bindir, "sleep 10"), "install");
	clock_gettime(CLOCK_MONOTONIC, &ts);
	t0 = ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	ASSERT_EQ(sts_imei_read("mmcli:0", 300, imei, why, sizeof(why)), -ETIMEDOUT,
		  "mmcli: hangs");
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ASSERT_TRUE(ts.tv_sec * 1000 + ts.tv_nsec / 1000000 - t0 < 2000, "mmcli: killed on time");
	ASSERT_TRUE(contains(why, "did not finish within 300 ms"), "mmcli: hangs why");

	ASSERT_EQ(sts_imei_read("mmcli:x", 2000, imei, why, sizeof(why)), -EINVAL,
		  "mmcli: bad index");

	setenv("PATH", test__tmpdir(), 1); /* a PATH without mmcli */
	ASSERT_EQ(sts_imei_read("mmcli:0", 2000, imei, why, sizeof(why)), -ENOENT,
		  "mmcli: not installed");
	ASSERT_TRUE(contains(why, "mmcli is not installed"), "mmcli: not installed why");
cleanup:
	if (old_path)
		setenv("PATH", old_path, 1);
	free(old_path);
	free(path);
}

void test_imei_sources(void)
{
	char imei[16], why[STS_IMEI_WHY_MAX];

	ASSERT_EQ(sts_imei_read("modem", 100, imei, why, sizeof(why)), -EINVAL, "no scheme");
	ASSERT_TRUE(contains(why, "is not at:/dev/PORT, mmcli:INDEX or file:PATH"), "why");
	ASSERT_EQ(sts_imei_read("at:", 100, imei, why, sizeof(why)), -EINVAL, "empty port");
	ASSERT_EQ(sts_imei_read("at:ttyUSB2", 100, imei, why, sizeof(why)), -EINVAL, "relative");
	ASSERT_EQ(sts_imei_read("at:/dev/ttyNOSUCH9", 100, imei, why, sizeof(why)), -ENOENT,
		  "no such port");
	ASSERT_TRUE(contains(why, "serial port /dev/ttyNOSUCH9 does not exist"), "no port why");
	ASSERT_EQ(sts_imei_read("at:/dev/null", 100, imei, why, sizeof(why)), -ENOTTY, "not a tty");
	ASSERT_TRUE(contains(why, "/dev/null is not a serial port"), "not a tty why");
	ASSERT_EQ(access("/run/lock/LCK..null", F_OK), -1, "no lock left behind");
}

void test_imei_parse_at(void)
{
	static const struct {
		const char *in;
		int err;
		const char *why;
	} cases[] = {
		{ "AT+CGSN\r\r\n490154203237518\r\n\r\nOK\r\n", 0, NULL },
		{ "at+cgsn\r\r\n\"490154203237518\"\r\n\r\nOK\r\n", 0, NULL },
		{ "\r\n+CGSN: 490154203237518\r\n\r\nOK\r\n", 0, NULL },
		{ "\r\n+CGSN:\"490154203237518\"\r\nOK", 0, NULL },
		{ "\r\n+CREG: 1\r\n490154203237518\r\n+CSQ: 20,99\r\n\r\nOK\r\n+CREG: 5\r\n", 0,
		  NULL },
		{ "\n490154203237518\nOK\n", 0, NULL },
		{ "", -EBADMSG, "gave no final result code" },
		{ "\r\n490154203237518\r\n", -EBADMSG, "gave no final result code" },
		{ "\r\nOK\r\n", -EBADMSG, "answered OK to AT+CGSN without an IMEI" },
		{ "\r\n490154203237518\r\n490154203237518\r\nOK\r\n", -EBADMSG, "two identifiers" },
		{ "\r\n49015420323751\r\nOK\r\n", -EBADMSG, "gave a 14-digit number" },
		{ "\r\n\"490154203237518\r\nOK\r\n", -EBADMSG, "answered \"\"***********7518\"" },
		{ "\r\nIMEI: 490154203237518\r\nOK\r\n", -EBADMSG,
		  "answered \"IMEI: ***********7518\"" },
		{ "\r\n490154203237518\r\nOK\r\nAT+CGSN\r\n", -EBADMSG, "answered \"AT+CGSN\"" },
		{ "\r\n490154203237518\r\nAT+CGSN\r\nOK\r\n", -EBADMSG, "answered \"AT+CGSN\"" },
		{ "\r\n+CGSN: 4901 54203237518\r\nOK\r\n", -EBADMSG, "not an IMEI answer" },
		{ "\r\n+CME ERROR: SIM not inserted\r\n", -EIO,
		  "answered \"+CME ERROR: SIM not inserted\" to AT+CGSN" },
		{ "\r\n+CME ERROR: 11\r\n", -EIO, "(SIM PIN required?)" },
		{ "\r\nERROR\r\n", -EIO, "answered \"ERROR\"" },
		{ "\r\n4901\0"
		  "54203237518\r\nOK\r\n",
		  -EBADMSG, "answered \"4901?" },
	};
	char imei[16], why[STS_IMEI_WHY_MAX], name[64], big[STS_IMEI_AT_MAX + 2];
	size_t i, len;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		len = strlen(cases[i].in);
		if (i == ARRAY_SIZE(cases) - 1)
			len = 24; /* the embedded NUL case */
		snprintf(name, sizeof(name), "parse case %zu", i);
		ASSERT_EQ(sts_imei_parse_at(cases[i].in, len, imei, why, sizeof(why)), cases[i].err,
			  name);
		if (cases[i].err == 0)
			ASSERT_STREQ(imei, IMEI, name);
		else if (!ASSERT_TRUE(contains(why, cases[i].why), name))
			printf("    why: %s\n", why);
		ASSERT_FALSE(contains(why, IMEI_STEM), "no IMEI in why");
	}
	memset(big, '\n', sizeof(big));
	memcpy(big, "490154203237518\r\nOK\r\n", 21);
	ASSERT_EQ(sts_imei_parse_at(big, sizeof(big), imei, why, sizeof(why)), -EBADMSG,
		  "over 1 KiB");
	ASSERT_EQ(sts_imei_parse_at(big, STS_IMEI_AT_MAX, imei, why, sizeof(why)), 0,
		  "exactly 1 KiB");
	/* A short why buffer truncates, never overruns. */
	ASSERT_EQ(sts_imei_parse_at("\r\nERROR\r\n", 9, imei, why, 8), -EIO, "short why");
	ASSERT_EQ(strlen(why), 7, "short why truncated");
	ASSERT_EQ(sts_imei_parse_at("\r\nERROR\r\n", 9, imei, NULL, 0), -EIO, "no why");
}
