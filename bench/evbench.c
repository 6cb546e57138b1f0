// SPDX-License-Identifier: GPL-2.0-only
/*
 * evbench: the evidence log's throughput, for bench/parts/40-evidence.sh. One measurement per
 * invocation, printed as "name value" lines on stdout, so that the script can interleave rounds.
 *
 *   evbench key DIR                     make DIR/log.key and DIR/log.pub
 *   evbench append LOG KEY N [--durable]
 *       append N file_allow records to a fresh LOG. Without --durable no checkpoint (and so no
 *       fdatasync) falls inside the timed loop (checkpoint_every > N): records reach the page
 *       cache, one write(2) each. With --durable the default policy (a checkpoint, signed and
 *       fdatasync'd, every 1000 records) and the final checkpoint of evlog_close() are timed.
 *       Prints records_per_s and mean_line_bytes.
 *   evbench write FILE N BYTES  N write(2) calls of BYTES bytes each to a fresh FILE opened
 *       O_APPEND like the log, nothing else: the bound of one write(2) per record on this
 *       machine (the kernel's cost per call). Prints writes_per_s.
 *   evbench verify LOG PUB [--threads N]  evv_verify() of LOG against PUB (the work of `stsctl
 *       verify`, without process start-up and mmap), on N threads (default: one per CPU);
 *       prints records_per_s (wall clock) and records_per_cpu_s (CPU time of all threads).
 *
 * The fields object is built once: what is measured is the log, not the caller's jansson work.
 */
#include "core/crypto.h"
#include "evidence/evlog.h"
#include "evidence/evverify.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* CPU seconds of the whole process (every thread): what `openssl speed` counts, too. */
static double cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int die(const char *what, int err)
{
	fprintf(stderr, "evbench: %s: %s\n", what, strerror(err < 0 ? -err : err));
	return 1;
}

static int cmd_key(const char *dir)
{
	char priv[512], pub[520];
	struct sts_key key = { 0 };
	int err;

	snprintf(priv, sizeof(priv), "%s/log.key", dir);
	snprintf(pub, sizeof(pub), "%s/log.pub", dir);
	err = sts_key_generate(priv, pub, &key);
	if (err)
		return die("key", err);
	sts_key_free(&key);
	return 0;
}

static int cmd_append(const char *path, const char *keypath, uint64_t n, bool durable)
{
	struct evlog_opts o = { .path = path, .no_state = true };
	struct sts_key key = { 0 };
	struct evlog_stats st;
	struct evlog *log;
	json_t *fields;
	double t0, t1;
	uint64_t i;
	int err;

	err = sts_key_load_private(keypath, &key);
	if (err)
		return die(keypath, err);
	o.log_key = &key;
	o.checkpoint_every = durable ? 0 : n + 1;
	unlink(path);
	err = evlog_open(&o, &log);
	if (err)
		return die(path, err);
	/* A typical record of the monitor: an allowed file open of the agent. */
	fields = json_pack("{sI ss ss sI sI ss ss}", "pid", (json_int_t)4151, "comm", "sts-agent",
			   "path", "/usr/lib/x86_64-linux-gnu/libssl.so.3", "ino", (json_int_t)1311,
			   "dev", (json_int_t)2049, "access", "read", "hook", "lsm/file_open");
	if (!fields)
		return die("fields", ENOMEM);
	t0 = now_s();
	for (i = 0; i < n && !err; i++)
		err = evlog_append(log, EV_FILE_ALLOW, fields, NULL);
	if (err)
		return die("append", err);
	evlog_stats(log, &st);
	if (durable) {
		err = evlog_close(log);
		t1 = now_s();
	} else {
		t1 = now_s();
		err = evlog_close(log);
	}
	if (err)
		return die("close", err);
	printf("records_per_s %.0f\n", n / (t1 - t0));
	printf("mean_line_bytes %.0f\n", (double)st.bytes / st.records - 1);
	json_decref(fields);
	sts_key_free(&key);
	return 0;
}

static int cmd_write(const char *path, uint64_t n, size_t bytes)
{
	char *line = malloc(bytes ? bytes : 1);
	double t0, t1;
	uint64_t i;
	int fd, err = 0;

	if (!line || !bytes)
		return die("write", ENOMEM);
	memset(line, 'x', bytes);
	line[bytes - 1] = '\n';
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0)
		return die(path, errno);
	t0 = now_s();
	for (i = 0; i < n && !err; i++)
		if (write(fd, line, bytes) != (ssize_t)bytes)
			err = errno ? errno : EIO;
	t1 = now_s();
	close(fd);
	unlink(path);
	free(line);
	if (err)
		return die("write", err);
	printf("writes_per_s %.0f\n", n / (t1 - t0));
	return 0;
}

static int cmd_verify(const char *path, const char *pubpath, unsigned int threads)
{
	struct evv_result res;
	struct sts_key key = { 0 };
	struct evv_opts o = { 0 };
	const char *buf;
	double t0, t1, c0, c1;
	size_t len;
	int err;

	err = sts_key_load_public(pubpath, &key);
	if (err)
		return die(pubpath, err);
	o.log_key = &key;
	o.threads = threads;
	err = evv_map(path, &buf, &len);
	if (err)
		return die(path, err);
	/* Fault the file in first: measured is verification, not the disk. */
	for (size_t i = 0; i < len; i += 4096)
		(void)*(volatile const char *)(buf + i);
	t0 = now_s();
	c0 = cpu_s();
	err = evv_verify(buf, len, &o, &res);
	c1 = cpu_s();
	t1 = now_s();
	if (err) {
		fprintf(stderr, "evbench: %s:%" PRIu64 ": %s\n", path, res.bad_line, res.why);
		return 1;
	}
	printf("records_per_s %.0f\n", res.records / (t1 - t0));
	/* Per CPU second: the work, whatever else the machine runs (comparable across loads). */
	printf("records_per_cpu_s %.0f\n", res.records / (c1 - c0));
	printf("records %" PRIu64 "\n", res.records);
	evv_result_free(&res);
	evv_unmap(buf, len);
	sts_key_free(&key);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "key"))
		return cmd_key(argv[2]);
	if ((argc == 5 || argc == 6) && !strcmp(argv[1], "append"))
		return cmd_append(argv[2], argv[3], strtoull(argv[4], NULL, 10),
				  argc == 6 && !strcmp(argv[5], "--durable"));
	if (argc == 5 && !strcmp(argv[1], "write"))
		return cmd_write(argv[2], strtoull(argv[3], NULL, 10),
				 (size_t)strtoul(argv[4], NULL, 10));
	if (argc == 4 && !strcmp(argv[1], "verify"))
		return cmd_verify(argv[2], argv[3], 0);
	if (argc == 6 && !strcmp(argv[1], "verify") && !strcmp(argv[4], "--threads"))
		return cmd_verify(argv[2], argv[3], (unsigned int)strtoul(argv[5], NULL, 10));
	fprintf(stderr,
		"usage: evbench key DIR | append LOG KEY N [--durable] | write FILE N BYTES | "
		"verify LOG PUB [--threads N]\n");
	return 2;
}
