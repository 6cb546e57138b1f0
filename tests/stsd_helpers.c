// SPDX-License-Identifier: GPL-2.0-only
#include "stsd_helpers.h"
#include "test.h"
#include "tls_server.h"
#include "core/crypto.h"
#include "core/util.h"
#include "report_key.h"

#include <errno.h>
#include <limits.h>
#include <openssl/evp.h>
#include <sys/stat.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

const char *stsd_device_cgroup = "none";
const char *const *stsd_extra_args;
const char *stsd_stdout;

static char log_path[512];
static char device_conf[512], device_pub[512];

int stsd_device_files(char conf[512], char pub[512])
{
	char dir[512], imei[600], text[2048], *pem = NULL;
	struct sts_key key = { 0 };
	size_t n = sizeof(key.pub);
	int err;

	snprintf(dir, sizeof(dir), "%.400s/device", test__tmpdir());
	snprintf(conf, 512, "%.450s/stsd.conf", dir);
	snprintf(pub, 512, "%.450s/report-key.pub", dir);
	snprintf(imei, sizeof(imei), "%s/imei", dir);
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return -errno;
	key.pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, test_report_seed,
						sizeof(test_report_seed));
	if (!key.pkey || !EVP_PKEY_get_raw_public_key(key.pkey, key.pub, &n))
		return -EIO;
	err = sts_key_public_pem(&key, &pem);
	sts_key_free(&key);
	if (!err)
		err = sts_write_file_atomic(pub, pem, strlen(pem), 0644);
	free(pem);
	if (!err)
		err = sts_write_file_atomic(imei, TEST_IMEI "\n", 16, 0644);
	snprintf(text, sizeof(text),
		 "collector-host " TEST_HOST "\n"
		 "collector-ca /dev/null\n"
		 "collector-key /dev/null\n"
		 "imei-source file:%s\n"
		 "model " TEST_MODEL "\n"
		 "sw-version " TEST_SW_VERSION "\n"
		 "state-dir %s\n",
		 imei, dir);
	if (!err)
		err = sts_write_file_atomic(conf, text, strlen(text), 0644);
	return err;
}

pid_t stsd_start(const char *policy_text, bool observe, const char *const argv[])
{
	char policy[512], stsd[512], line[512];
	char *log = log_path;
	const char *args[704];
	int n = 0, fd, i;
	FILE *f;
	pid_t pid;

	snprintf(policy, sizeof(policy), "%s/policy.conf", test__tmpdir());
	snprintf(log_path, sizeof(log_path), "%s/stsd.log", test__tmpdir());
	snprintf(stsd, sizeof(stsd), "%s/stsd", test__out_dir());
	f = fopen(policy, "w");
	if (!f)
		return -errno;
	fputs(policy_text, f);
	/* Reports are approved only with a device to compare them with and a key to verify. */
	if (stsd_device_files(device_conf, device_pub) == 0 && !strstr(policy_text, "report-key "))
		fprintf(f, "report-key %s\n", device_pub);
	fclose(f);
	unlink(log);

	args[n++] = stsd;
	args[n++] = "run";
	args[n++] = "--policy";
	args[n++] = policy;
	args[n++] = "--events";
	args[n++] = log;
	args[n++] = "--user";
	args[n++] = "root";
	args[n++] = "--device-cgroup";
	args[n++] = stsd_device_cgroup;
	if (!test__cur.verbose)
		args[n++] = "-q";
	if (observe)
		args[n++] = "--observe";
	for (i = 0; stsd_extra_args && stsd_extra_args[i] && n < 40; i++) {
		if (strcmp(stsd_extra_args[i], "--config") == 0)
			device_conf[0] = '\0';
		args[n++] = stsd_extra_args[i];
	}
	if (device_conf[0]) {
		args[n++] = "--config";
		args[n++] = device_conf;
	}
	args[n++] = "--";
	for (i = 0; argv[i] && n < (int)ARRAY_SIZE(args) - 2; i++)
		args[n++] = argv[i];
	args[n] = NULL;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		if (stsd_stdout) {
			fd = open(stsd_stdout, O_WRONLY | O_CREAT | O_TRUNC, 0644);
			dup2(fd, 1);
		}
		if (!test__cur.verbose) {
			fd = open("/dev/null", O_WRONLY);
			if (!stsd_stdout)
				dup2(fd, 1);
			snprintf(line, sizeof(line), "%s/stsd.err", test__tmpdir());
			fd = open(line, O_WRONLY | O_CREAT | O_TRUNC, 0644);
			dup2(fd, 2);
		}
		execv(stsd, (char **)args);
		_exit(127);
	}
	return pid;
}

int stsd_wait(pid_t pid, struct stsd_result *r)
{
	char line[8192];
	int status;
	FILE *f;

	memset(r, 0, sizeof(*r));
	r->records = json_array();
	if (waitpid(pid, &status, 0) < 0)
		return -errno;
	r->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	f = fopen(log_path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		json_t *rec = json_loads(line, 0, NULL);

		if (rec)
			json_array_append_new(r->records, rec);
	}
	fclose(f);
	return 0;
}

int stsd_run(const char *policy_text, bool observe, const char *const argv[], struct stsd_result *r)
{
	pid_t pid = stsd_start(policy_text, observe, argv);

	if (pid < 0) {
		memset(r, 0, sizeof(*r));
		return pid;
	}
	return stsd_wait(pid, r);
}

bool stsd_wait_started(int timeout_ms)
{
	char *buf = NULL;
	size_t len;
	bool found = false;
	int waited;

	for (waited = 0; waited < timeout_ms && !found; waited += 50) {
		if (sts_read_file(log_path, 1 << 20, &buf, &len) == 0) {
			found = strstr(buf, "\"type\":\"start\"") != NULL;
			free(buf);
		}
		if (!found)
			usleep(50000);
	}
	return found;
}

void stsd_result_free(struct stsd_result *r)
{
	json_decref(r->records);
	r->records = NULL;
}

static bool field_is(json_t *rec, const char *key, const char *want)
{
	const char *v = json_string_value(json_object_get(rec, key));

	return !want || (v && strcmp(v, want) == 0);
}

json_t *stsd_find_event(const struct stsd_result *r, const char *kind, const char *verdict,
			const char *rule)
{
	size_t i;
	json_t *rec;

	json_array_foreach(r->records, i, rec)
	{
		if (field_is(rec, "type", "event") && field_is(rec, "kind", kind) &&
		    field_is(rec, "verdict", verdict) && field_is(rec, "rule", rule))
			return rec;
	}
	return NULL;
}

const char *stsd_mode(const struct stsd_result *r)
{
	size_t i;
	json_t *rec;

	json_array_foreach(r->records, i, rec)
	{
		if (field_is(rec, "type", "start"))
			return json_string_value(json_object_get(rec, "mode"));
	}
	return NULL;
}

bool stsd_landlock_files(const struct stsd_result *r)
{
	json_t *rec;
	size_t i;

	json_array_foreach(
		r->records, i,
		rec) if (strcmp(json_string_value(json_object_get(rec, "type")) ?: "", "start") ==
			 0) return json_is_true(json_object_get(json_object_get(rec, "containment"),
								"landlock_files"));
	return false;
}

bool stsd_run_tls_client(const char *mode, struct stsd_result *r, unsigned *requests,
			 unsigned *hellos)
{
	char pol[2048], client[PATH_MAX], port[16];
	struct tls_server srv;
	bool ok;

	memset(r, 0, sizeof(*r));
	if (!ASSERT_OK(tls_server_start(&srv), "start the TLS server"))
		return false;
	snprintf(client, sizeof(client), "%s/tests/bin/tls-client", test__out_dir());
	snprintf(port, sizeof(port), "%u", srv.port);
	snprintf(pol, sizeof(pol),
		 "collector 127.0.0.1:%u\n"
		 "allow-read /etc/ld.so.cache\n"
		 "allow-read " TEST_LDSO "\n"
		 "allow-read-dir " TEST_LIBDIR "\n"
		 "state-dir %s/state\n",
		 srv.port, test__tmpdir());
	ok = ASSERT_OK(stsd_run(pol, true, (const char *[]){ client, port, mode, NULL }, r),
		       "run stsd");
	tls_server_stop(&srv);
	if (requests)
		*requests = srv.requests;
	if (hellos)
		*hellos = srv.hellos;
	return ok;
}
