/* SPDX-License-Identifier: GPL-2.0-only */
/* Test helpers: run a command under `build/stsd run` and read back its JSON records. */
#ifndef STS_TEST_STSD_HELPERS_H
#define STS_TEST_STSD_HELPERS_H

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

struct stsd_result {
	int status; /* stsd's exit status (CMD's, or 2/3 for stsd's own errors) */
	json_t *records; /* array of every JSON line stsd wrote */
};

/*
 * Write policy_text to a file in the test's tmpdir and run
 *   stsd run --policy FILE --log LOG --user root -q [--observe] -- argv...
 * Returns 0 when stsd could be run (r->status says how it ended).
 */
int stsd_run(const char *policy_text, bool observe, const char *const argv[],
	     struct stsd_result *r);
/* The same in two steps: start (returns the pid or -errno), then wait and read the records. */
pid_t stsd_start(const char *policy_text, bool observe, const char *const argv[]);
int stsd_wait(pid_t pid, struct stsd_result *r);
/* Wait until the running stsd has written its start record (enforcement is in place). */
bool stsd_wait_started(int timeout_ms);
/* --device-cgroup for the runs ("none" by default: tests never police the whole machine). */
extern const char *stsd_device_cgroup;
/* More stsd run options (NULL-terminated), e.g. --log FILE; NULL: none. */
extern const char *const *stsd_extra_args;
/* Where CMD's (and stsd's) stdout goes; NULL: /dev/null unless the test is verbose. */
extern const char *stsd_stdout;
/*
 * The device the payload check compares reports with, in the test's tmpdir: device/stsd.conf
 * (imei-source file:, model, sw-version, collector-host of tests/report_key.h) and
 * device/report-key.pub, the public half of the test programs' fixed key. stsd_start() writes
 * them and passes --config and a report-key line unless the test gives its own.
 */
int stsd_device_files(char conf[512], char pub[512]);
void stsd_result_free(struct stsd_result *r);
/*
 * Run tests/bin/tls-client MODE under `stsd run --observe` (stsd_run) against a fresh TLS
 * server that is the policy's one collector, then stop the server. r is filled; *requests and
 * *hellos (either may be NULL) get the server's complete requests and ClientHellos. False,
 * after a failed assertion, when the server or stsd could not run.
 */
bool stsd_run_tls_client(const char *mode, struct stsd_result *r, unsigned *requests,
			 unsigned *hellos);
/* The first record with "type":"event" and these fields (NULL: any). */
json_t *stsd_find_event(const struct stsd_result *r, const char *kind, const char *verdict,
			const char *rule);
/* The "start" record's "mode": "enforce" or "observe" (NULL if stsd refused). */
const char *stsd_mode(const struct stsd_result *r);
/* True when the run's start record says Landlock (not BPF LSM) enforces the file rules. */
bool stsd_landlock_files(const struct stsd_result *r);

#endif
