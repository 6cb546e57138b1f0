// SPDX-License-Identifier: GPL-2.0-only
/*
 * The activation end to end (issue 5): a real sts-collector on loopback, `stsd daemon` with its
 * BPF enforcement and its agent in the policed cgroup, the IMEI from a file or from a modem
 * simulator on a pty, and a TCP relay in between so a test can take the collector away, bring
 * it back, or swallow its answer. Runs in both lanes (observe mode where BPF LSM is missing).
 */
#include "test.h"
#include "activation_helpers.h"
#include "core/util.h"

#include <dirent.h>
#include <jansson.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* stsctl seal-init in the device's state dir; the auditor's key into key. */
static bool seal_init(struct act_env *e, char *key, size_t len)
{
	char out[2048], *line;

	sts_mkdir_p(e->state, 0700);
	if (test__run(out, sizeof(out), "%s/stsctl seal-init --state %s/seal.state --epoch 60",
		      test__out_dir(), e->state) != 0 ||
	    !(line = strstr(out, "sts-seal-v1:")))
		return false;
	line[strcspn(line, "\n")] = '\0';
	snprintf(key, len, "%s", line);
	return true;
}

void test_activation_once(void)
{
	char seal[512];
	struct act_env e;
	int tx;

	if (!act_setup(&e, "once", NULL, NULL, NULL))
		goto cleanup;
	ASSERT_TRUE(seal_init(&e, seal, sizeof(seal)), "stsctl seal-init: the auditor's key");
	ASSERT_EQ(act_stsd_once(&e), 0, "first start: activation sent and receipted");
	ASSERT_EQ(act_stored(&e), 1, "the collector stored exactly one activation");
	ASSERT_EQ(act_log_count(&e, "\"status\":\"verified\""), 1,
		  "the receipt was verified and logged");
	ASSERT_EQ(act_log_count(&e, "\"type\":\"report_approved\""), 1, "one report approved");
	ASSERT_GE(act_log_count(&e, "\"type\":\"payload_allow\""), 1,
		  "the payload check saw and approved the request");
	ASSERT_EQ(act_log_count(&e, "\"value\":\"" GOOD_IMEI), 0,
		  "the IMEI is never logged in clear");
	ASSERT_EQ(act_log_count(&e, "\"action\":\"denied\""), 0,
		  "the agent stayed inside its policy: not one denial");
	tx = act_log_count(&e, "\"type\":\"transmission\"");
	ASSERT_EQ(tx, 1, "one transmission");

	ASSERT_EQ(act_stsd_once(&e), 0, "restart: nothing to do");
	ASSERT_EQ(act_stored(&e), 1, "still exactly one activation");
	ASSERT_EQ(act_log_count(&e, "\"type\":\"transmission\""), tx, "nothing was sent again");
	ASSERT_GE(act_log_count(&e, "nothing more is sent"), 1, "the log says why");
	ASSERT_TRUE(act_log_verifies(&e), "stsctl verify accepts the evidence log");
	ASSERT_EQ(test__run(NULL, 0, "%s/stsctl verify %s --log-key %s/log.key.pub --seal-key %s",
			    test__out_dir(), e.log, e.state, seal),
		  0, "and its forward-secure seals, with the auditor's key");
cleanup:
	act_teardown(&e);
}

void test_activation_collector_down(void)
{
	struct act_env e;

	if (!act_setup(&e, "down", NULL, "retry-initial 60\nretry-max 120\n", NULL))
		goto cleanup;
	e.px.target_port = 0; /* the collector cannot be reached */
	ASSERT_EQ(act_stsd_once(&e), EX_TEMPFAIL, "collector down: attempt fails, retry scheduled");
	ASSERT_EQ(act_stored(&e), 0, "nothing stored");
	ASSERT_EQ(act_stsd_once(&e), EX_TEMPFAIL, "restart before the retry is due: no attempt");
	ASSERT_EQ(act_log_count(&e, "\"type\":\"transmission\""), 1, "no second attempt yet");
	ASSERT_GE(act_log_count(&e, "\"decision\":\"retry\""), 1, "the retry is on record");
	e.px.target_port = e.col.port;
	ASSERT_TRUE(act_retry_due_now(&e), "time passes: the retry is due");
	ASSERT_EQ(act_stsd_once(&e), 0, "collector up: the retry succeeds");
	ASSERT_EQ(act_stored(&e), 1, "stored exactly once");
	ASSERT_TRUE(act_log_verifies(&e), "stsctl verify accepts the evidence log");
cleanup:
	act_teardown(&e);
}

void test_activation_wrong_certificate(void)
{
	char other[700], extra_conf[800], extra_pol[800];
	struct act_env e;

	snprintf(other, sizeof(other), "%s/other-ca", test__tmpdir());
	if (!ASSERT_OK(sts_mkdir_p(other, 0755), "dir") ||
	    !ASSERT_OK(tls_make_pki(other), "a second, unrelated CA"))
		return;
	snprintf(extra_pol, sizeof(extra_pol), "allow-read %s/ca.pem\n", other);
	chmod(other, 0755);
	snprintf(extra_conf, sizeof(extra_conf), "%s/ca.pem", other);
	chmod(extra_conf, 0644);
	if (!act_setup(&e, "wrongcert", NULL, NULL, extra_pol))
		goto cleanup;
	/* Pin the other CA: the collector's certificate must not verify. */
	{
		char *buf = NULL, *p;
		size_t len;

		if (!ASSERT_OK(sts_read_file(e.conf, 1 << 16, &buf, &len), "read conf"))
			goto cleanup;
		p = strstr(buf, "collector-ca ");
		*p = '#';
		strcat(buf, "collector-ca ");
		strcat(buf, extra_conf);
		strcat(buf, "\n");
		act_write_text(e.conf, buf);
		free(buf);
	}
	ASSERT_EQ(act_stsd_once(&e), EX_TEMPFAIL, "wrong certificate: refused, retry scheduled");
	ASSERT_EQ(act_stored(&e), 0, "nothing sent");
	ASSERT_GE(act_log_count(&e, "TLS handshake with localhost failed"), 1, "the log says why");
cleanup:
	act_teardown(&e);
}

void test_activation_agent_killed(void)
{
	struct act_env e;
	pid_t pid;
	int i, killed = 0;

	if (!act_setup(&e, "killed", NULL, NULL, NULL))
		goto cleanup;
	e.px.stall = true; /* the report reaches the collector, its answer never comes back */
	pid = act_stsd_spawn(&e);
	for (i = 0; i < 600 && act_stored(&e) < 1; i++)
		usleep(100000);
	ASSERT_EQ(act_stored(&e), 1, "the collector stored the report");
	for (i = 0; i < 50 && !killed; i++) {
		killed = act_kill_agent(pid);
		usleep(50000);
	}
	ASSERT_GE(killed, 1, "the agent was killed mid-send, before the answer");
	ASSERT_EQ(act_stsd_wait(pid), EX_TEMPFAIL, "no receipt: retry scheduled");
	e.px.stall = false;
	sleep(2);
	ASSERT_EQ(act_stsd_once(&e), 0, "the retry gets the receipt");
	ASSERT_EQ(act_stored(&e), 1, "still exactly one activation at the collector");
	ASSERT_TRUE(act_log_verifies(&e), "stsctl verify accepts the evidence log");
cleanup:
	act_teardown(&e);
}

static pid_t modem_start(const char *mode, char *pty, size_t len)
{
	char bin[512], pathf[700], *buf = NULL;
	size_t n;
	pid_t pid;
	int i;

	snprintf(bin, sizeof(bin), "%s/tests/bin/modem-sim", test__out_dir());
	snprintf(pathf, sizeof(pathf), "%s/modem-%s.path", test__tmpdir(), mode);
	unlink(pathf);
	pid = fork();
	if (pid == 0) {
		execl(bin, bin, "--path-file", pathf, mode, (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 200; i++) {
		if (sts_read_file(pathf, 4096, &buf, &n) == 0 && n) {
			buf[strcspn(buf, "\n")] = '\0';
			snprintf(pty, len, "%s", buf);
			free(buf);
			return pid;
		}
		free(buf);
		buf = NULL;
		usleep(20000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return -1;
}

static void modem_stop(pid_t pid)
{
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
}

/* The IMEI from a modem on a pty: good answers work, bad ones send nothing and retry later. */
void test_activation_modem(void)
{
	static const struct {
		const char *mode;
		int status;
	} cases[] = {
		{ "cgsn-prefix", 0 },	    { "garbage", EX_TEMPFAIL }, { "timeout", EX_TEMPFAIL },
		{ "badluhn", EX_TEMPFAIL }, { "cme", EX_TEMPFAIL },
	};
	char pty[256], src[300], name[64], check[128];
	struct act_env e;
	size_t i;
	pid_t m;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		m = modem_start(cases[i].mode, pty, sizeof(pty));
		if (!ASSERT_GE(m, 0, "start the modem simulator"))
			return;
		snprintf(src, sizeof(src), "at:%s", pty);
		snprintf(name, sizeof(name), "modem-%s", cases[i].mode);
		if (act_setup(&e, name, src, NULL, NULL)) {
			snprintf(check, sizeof(check), "modem %s: stsd exit status", cases[i].mode);
			ASSERT_EQ(act_stsd_once(&e), cases[i].status, check);
			snprintf(check, sizeof(check), "modem %s: activations stored",
				 cases[i].mode);
			ASSERT_EQ(act_stored(&e), cases[i].status ? 0 : 1, check);
			if (cases[i].status) {
				snprintf(check, sizeof(check), "modem %s: retry scheduled",
					 cases[i].mode);
				ASSERT_GE(act_log_count(&e, "\"decision\":\"retry\""), 1, check);
			}
		}
		act_teardown(&e);
		modem_stop(m);
	}
}

static int stsctl(struct act_env *e, const char *args)
{
	return test__run(NULL, 0, "%s/stsctl %s --state-dir %s", test__out_dir(), args, e->state);
}

/* country is in the report only while consent is granted. */
void test_activation_consent(void)
{
	struct act_env e;
	char *s;

	if (!act_setup(&e, "granted", NULL, NULL, NULL))
		goto cleanup;
	sts_mkdir_p(e.state, 0700);
	ASSERT_EQ(stsctl(&e, "consent grant --country FR"), 0, "stsctl consent grant --country FR");
	ASSERT_EQ(act_stsd_once(&e), 0, "activation with consent");
	s = act_stored_json(&e);
	if (!ASSERT_TRUE(s && strstr(s, "\"country\": \"FR\""), "the collector got country FR"))
		printf("    stored: %s\n", s ? s : "(none)");
	free(s);
	ASSERT_GE(act_log_count(&e, "\"consent\":true"), 1, "the consent used is logged");
	act_teardown(&e);

	if (!act_setup(&e, "revoked", NULL, NULL, NULL))
		goto cleanup;
	sts_mkdir_p(e.state, 0700);
	ASSERT_EQ(stsctl(&e, "consent grant --country FR"), 0, "grant");
	ASSERT_EQ(stsctl(&e, "consent revoke"), 0, "then revoke");
	ASSERT_EQ(act_stsd_once(&e), 0, "activation after revocation");
	s = act_stored_json(&e);
	ASSERT_TRUE(s && strstr(s, "\"aid\"") && !strstr(s, "\"country\": \"FR\""),
		    "no country in the stored activation");
	free(s);
cleanup:
	act_teardown(&e);
}
