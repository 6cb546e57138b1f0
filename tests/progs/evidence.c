// SPDX-License-Identifier: GPL-2.0-only
/*
 * The evidence log as `stsd run --observe --log` writes it: each observed open recorded as
 * what happened (opened or failed, with the inode it opened) and as what enforce mode would
 * have done with it (file_allow for a file the policy allows, file_deny for one it refuses).
 */
#include "test.h"
#include "core/util.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* The record of the batch action whose comm is id (first one), or NULL; owned by arr. */
static json_t *record_of(json_t *arr, const char *id)
{
	json_t *r;
	size_t i;

	json_array_foreach(arr, i, r)
	{
		const char *t = json_string_value(json_object_get(r, "type"));

		if (t && strncmp(t, "file_", 5) == 0 &&
		    strcmp(json_string_value(json_object_get(r, "comm")) ?: "", id) == 0)
			return r;
	}
	return NULL;
}

void test_observe_evidence_records(void)
{
	char pol[4096], polpath[512], log[512], key[512], pub[512], ok[512], secret[512],
		missing[512], rogue[512], stsd[512], out[4096];
	const char *argv[40];
	json_t *arr = json_array(), *r;
	struct stat st_ok, st_secret;
	char *buf = NULL, *p, *nl;
	size_t len;
	int n = 0, status, fd;
	pid_t pid;
	FILE *f;

	snprintf(rogue, sizeof(rogue), "%s/tests/bin/rogue", test__out_dir());
	snprintf(stsd, sizeof(stsd), "%s/stsd", test__out_dir());
	snprintf(polpath, sizeof(polpath), "%s/policy.conf", test__tmpdir());
	snprintf(log, sizeof(log), "%s/evidence.log", test__tmpdir());
	snprintf(key, sizeof(key), "%s/log.key", test__tmpdir());
	snprintf(pub, sizeof(pub), "%s/log.key.pub", test__tmpdir());
	snprintf(ok, sizeof(ok), "%s/allowed-file", test__tmpdir());
	snprintf(secret, sizeof(secret), "%s/secret-file", test__tmpdir());
	snprintf(missing, sizeof(missing), "%s/no-such-file", test__tmpdir());
	for (n = 0; n < 2; n++) {
		fd = open(n ? secret : ok, O_CREAT | O_WRONLY | O_TRUNC, 0644);
		if (!ASSERT_GE(fd, 0, "create a file"))
			goto cleanup;
		close(fd);
	}
	stat(ok, &st_ok);
	stat(secret, &st_secret);
	snprintf(pol, sizeof(pol),
		 "collector 127.0.0.1:9\n"
		 "allow-read /etc/ld.so.cache\n"
		 "allow-read /lib64/ld-linux-x86-64.so.2\n"
		 "allow-read-dir /lib/x86_64-linux-gnu\n"
		 "state-dir %s/state\n"
		 "allow-read %s\n",
		 test__tmpdir(), ok);
	f = fopen(polpath, "w");
	if (!ASSERT_OK_PTR(f, "write the policy"))
		goto cleanup;
	fputs(pol, f);
	fclose(f);
	n = 0;
	argv[n++] = stsd;
	argv[n++] = "run";
	argv[n++] = "--policy";
	argv[n++] = polpath;
	argv[n++] = "--log";
	argv[n++] = log;
	argv[n++] = "--log-key";
	argv[n++] = key;
	argv[n++] = "--user";
	argv[n++] = "root";
	argv[n++] = "--observe";
	argv[n++] = "-q";
	argv[n++] = "--";
	argv[n++] = rogue;
	argv[n++] = "batch";
	argv[n++] = "okfile";
	argv[n++] = "open";
	argv[n++] = ok;
	argv[n++] = ",";
	argv[n++] = "secret";
	argv[n++] = "open";
	argv[n++] = secret;
	argv[n++] = ",";
	argv[n++] = "missing";
	argv[n++] = "open";
	argv[n++] = missing;
	argv[n] = NULL;
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(null, 1);
		execv(argv[0], (char **)argv);
		_exit(127);
	}
	if (!ASSERT_GE(pid, 0, "fork") || !ASSERT_EQ(waitpid(pid, &status, 0), pid, "wait"))
		goto cleanup;
	ASSERT_EQ(WEXITSTATUS(status), 0, "the batch ran to its end (observe mode stops nothing)");
	if (!ASSERT_OK(sts_read_file(log, 1 << 22, &buf, &len), "read the evidence log"))
		goto cleanup;
	for (p = buf; (nl = strchr(p, '\n')); p = nl + 1)
		json_array_append_new(arr, json_loadb(p, nl - p, 0, NULL));
	if (!strstr(buf, "\"mode\":\"observe\"")) {
		/* BPF LSM present: enforce mode took over; the refused open has its record. */
		r = record_of(arr, "secret");
		if (ASSERT_OK_PTR(r, "enforce mode: the refused open is recorded")) {
			ASSERT_STREQ(json_string_value(json_object_get(r, "type")), "file_deny",
				     "as file_deny");
			ASSERT_STREQ(json_string_value(json_object_get(r, "action")), "denied",
				     "denied");
		}
		goto verify;
	}
	r = record_of(arr, "okfile");
	if (r &&
	    strcmp(json_string_value(json_object_get(r, "hook")) ?: "", "lsm/file_open") == 0) {
		/*
		 * BPF LSM present: its hook judged the opens in observe mode; it sees only files
		 * that open, with their inode, and allows what the policy allows.
		 */
		ASSERT_STREQ(json_string_value(json_object_get(r, "type")), "file_allow",
			     "lsm observe: the allowed open is a file_allow");
		ASSERT_EQ(json_integer_value(json_object_get(r, "ino")), (json_int_t)st_ok.st_ino,
			  "lsm observe: with its inode");
		r = record_of(arr, "secret");
		if (ASSERT_OK_PTR(r, "lsm observe: the refused open is recorded")) {
			ASSERT_STREQ(json_string_value(json_object_get(r, "type")), "file_deny",
				     "as file_deny");
			ASSERT_EQ(json_integer_value(json_object_get(r, "ino")),
				  (json_int_t)st_secret.st_ino, "with its inode");
		}
		goto verify;
	}
	if (ASSERT_OK_PTR(r, "the allowed open is recorded")) {
		ASSERT_STREQ(json_string_value(json_object_get(r, "type")), "file_allow",
			     "as file_allow: enforce mode would allow it");
		ASSERT_STREQ(json_string_value(json_object_get(r, "path")), ok, "its path");
		ASSERT_EQ(json_integer_value(json_object_get(r, "ino")), (json_int_t)st_ok.st_ino,
			  "the inode it opened");
		ASSERT_TRUE(json_integer_value(json_object_get(r, "dev")) != 0, "and its device");
		ASSERT_STREQ(json_string_value(json_object_get(r, "result")), "opened", "opened");
		ASSERT_STREQ(json_string_value(json_object_get(r, "action")), "observed",
			     "observed");
		ASSERT_TRUE(strstr(json_string_value(json_object_get(r, "explain")) ?: "", ok) !=
				    NULL,
			    "the explanation names the file");
	}
	r = record_of(arr, "secret");
	if (ASSERT_OK_PTR(r, "the refused open is recorded")) {
		ASSERT_STREQ(json_string_value(json_object_get(r, "type")), "file_deny",
			     "as file_deny: enforce mode would refuse it");
		ASSERT_EQ(json_integer_value(json_object_get(r, "ino")),
			  (json_int_t)st_secret.st_ino, "with the inode it opened");
		ASSERT_STREQ(json_string_value(json_object_get(r, "would")), "deny", "would deny");
	}
	r = record_of(arr, "missing");
	if (ASSERT_OK_PTR(r, "the failed open is recorded")) {
		ASSERT_STREQ(json_string_value(json_object_get(r, "result")), "failed", "failed");
		ASSERT_STREQ(json_string_value(json_object_get(r, "errno")), "ENOENT", "ENOENT");
		ASSERT_STREQ(json_string_value(json_object_get(r, "path")), missing, "its path");
	}
verify:
	ASSERT_EQ(test__run(out, sizeof(out), "%s/stsctl verify %s --log-key %s", test__out_dir(),
			    log, pub),
		  0, "stsctl verify accepts the log, every record signed");
cleanup:
	json_decref(arr);
	free(buf);
}
