// SPDX-License-Identifier: GPL-2.0-only
/*
 * The activation end to end (issue 5): a real sts-collector on loopback, `stsd daemon` with its
 * BPF enforcement and its agent in the policed cgroup, the IMEI from a file or from a modem
 * simulator on a pty, and a TCP relay in between so a test can take the collector away, bring
 * it back, or swallow its answer. Runs in both lanes (observe mode where BPF LSM is missing).
 */
#include "test.h"
#include "cgroup_helpers.h"
#include "collector_helpers.h"
#include "stsd_helpers.h"
#include "tcp_proxy.h"
#include "util.h"

#include <dirent.h>
#include <jansson.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define EX_TEMPFAIL 75
#define GOOD_IMEI "490154203237518"

struct env {
	char dir[512];
	struct collector col;
	bool col_up;
	struct tcp_proxy px;
	char conf[600], state[600], log[600], policy[600];
};

static int write_text(const char *path, const char *text)
{
	return sts_write_file_atomic(path, text, strlen(text), 0644);
}

/* A fresh device: its own state, collector and relay under dir/name. */
static bool env_setup(struct env *e, const char *name, const char *imei_source,
		      const char *extra_conf, const char *extra_policy)
{
	char coldir[600], agent[PATH_MAX], imei[600], text[8192], model[96] = "";
	bool dmi = access("/sys/class/dmi/id/product_name", R_OK) == 0;

	memset(e, 0, sizeof(*e));
	e->px.fd = -1;
	snprintf(e->dir, sizeof(e->dir), "%s/%s", test__tmpdir(), name);
	snprintf(coldir, sizeof(coldir), "%s/collector", e->dir);
	snprintf(e->state, sizeof(e->state), "%s/state", e->dir);
	snprintf(e->log, sizeof(e->log), "%s/state/evidence.log", e->dir);
	snprintf(e->conf, sizeof(e->conf), "%s/stsd.conf", e->dir);
	snprintf(e->policy, sizeof(e->policy), "%s/policy.conf", e->dir);
	snprintf(imei, sizeof(imei), "%s/imei", e->dir);
	/* The agent runs as nobody: it must reach the CA and its state dir. */
	chmod(test__tmpdir(), 0755);
	if (!ASSERT_OK(sts_mkdir_p(coldir, 0755), "make the device's directories") ||
	    !ASSERT_OK(collector_start(coldir, NULL, &e->col), "start sts-collector"))
		return false;
	e->col_up = true;
	chmod(coldir, 0755);
	chmod(e->col.ca, 0644);
	if (!ASSERT_OK(tcp_proxy_start(&e->px), "start the relay"))
		return false;
	e->px.target_port = e->col.port;
	if (!ASSERT_OK(write_text(imei, GOOD_IMEI "\n"), "write the IMEI file"))
		return false;
	snprintf(text, sizeof(text),
		 "collector 127.0.0.1:%u\n"
		 "allow-read /etc/ld.so.cache\n"
		 "allow-read /lib64/ld-linux-x86-64.so.2\n"
		 "allow-read-dir /lib/x86_64-linux-gnu\n"
		 "allow-read /etc/os-release\n"
		 "allow-read %s\n"
		 "%s"
		 "state-dir %s/agent-state\n"
		 "%s",
		 e->px.port, e->col.ca, dmi ? "allow-read /sys/class/dmi/id/product_name\n" : "",
		 e->dir, extra_policy ? extra_policy : "");
	if (!ASSERT_OK(write_text(e->policy, text), "write the policy"))
		return false;
	if (!dmi)
		snprintf(model, sizeof(model), "model Test Phone\n"); /* no DMI on this machine */
	snprintf(text, sizeof(text), "%s/sts-agent", test__out_dir());
	if (!ASSERT_OK_PTR(realpath(text, agent), "find sts-agent"))
		return false;
	snprintf(text, sizeof(text),
		 "collector-host localhost\n"
		 "collector-addr 127.0.0.1:%u\n"
		 "collector-ca %s\n"
		 "collector-key %s\n"
		 "imei-source %s%s\n"
		 "policy %s\n"
		 "state-dir %s\n"
		 "agent %s\n"
		 "agent-user nobody\n"
		 "%s"
		 "%s%s",
		 e->px.port, e->col.ca, e->col.pubkey,
		 imei_source ? "" : "file:", imei_source ? imei_source : imei, e->policy, e->state,
		 agent,
		 extra_conf && strstr(extra_conf, "retry-initial")
			 ? ""
			 : "retry-initial 1\nretry-max 2\n",
		 model, extra_conf ? extra_conf : "");
	return ASSERT_OK(write_text(e->conf, text), "write stsd.conf");
}

static void env_teardown(struct env *e)
{
	int st;

	tcp_proxy_stop(&e->px);
	if (e->col_up)
		collector_stop(&e->col, &st);
	e->col_up = false;
}

static pid_t stsd_spawn(struct env *e)
{
	char bin[512], err[700];
	const char *argv[] = {
		bin, "daemon", "--config", e->conf, "--once", "--observe", "-q", NULL
	};
	pid_t pid;
	int fd;

	snprintf(bin, sizeof(bin), "%s/stsd", test__out_dir());
	snprintf(err, sizeof(err), "%s/stsd.err", e->dir);
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		fd = open(err, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd >= 0 && !test__cur.verbose) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execv(bin, (char **)argv);
		_exit(127);
	}
	return pid;
}

static int stsd_wait_status(pid_t pid)
{
	int status;

	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int stsd_once(struct env *e)
{
	return stsd_wait_status(stsd_spawn(e));
}

/* `sts-collector list --json` of this device's collector. */
static char *stored_json(struct env *e)
{
	char *buf = malloc(1 << 20);

	if (buf && test__run(buf, 1 << 20, "%s/sts-collector list --db %s --json", test__out_dir(),
			     e->col.db) != 0) {
		free(buf);
		buf = NULL;
	}
	return buf;
}

static int count_of(const char *hay, const char *needle)
{
	int n = 0;

	while (hay && (hay = strstr(hay, needle))) {
		n++;
		hay += strlen(needle);
	}
	return n;
}

static int stored(struct env *e)
{
	char *s = stored_json(e);
	int n = s ? count_of(s, "\"aid\"") : -1;

	free(s);
	return n;
}

static int log_count(struct env *e, const char *needle)
{
	char *buf = NULL;
	size_t len;
	int n;

	if (sts_read_file(e->log, 8 << 20, &buf, &len))
		return -1;
	n = count_of(buf, needle);
	free(buf);
	return n;
}

static bool log_verifies(struct env *e)
{
	return test__run(NULL, 0, "%s/stsctl verify %s --log-key %s/log.key.pub", test__out_dir(),
			 e->log, e->state) == 0;
}

/* stsctl seal-init in the device's state dir; the auditor's key into key. */
static bool seal_init(struct env *e, char *key, size_t len)
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
	struct env e;
	int tx;

	if (!env_setup(&e, "once", NULL, NULL, NULL))
		goto cleanup;
	ASSERT_TRUE(seal_init(&e, seal, sizeof(seal)), "stsctl seal-init: the auditor's key");
	ASSERT_EQ(stsd_once(&e), 0, "first start: activation sent and receipted");
	ASSERT_EQ(stored(&e), 1, "the collector stored exactly one activation");
	ASSERT_EQ(log_count(&e, "\"status\":\"verified\""), 1,
		  "the receipt was verified and logged");
	ASSERT_EQ(log_count(&e, "\"type\":\"report_approved\""), 1, "one report approved");
	ASSERT_GE(log_count(&e, "\"type\":\"payload_allow\""), 1,
		  "the payload check saw and approved the request");
	ASSERT_EQ(log_count(&e, "\"value\":\"" GOOD_IMEI), 0, "the IMEI is never logged in clear");
	ASSERT_EQ(log_count(&e, "\"action\":\"denied\""), 0,
		  "the agent stayed inside its policy: not one denial");
	tx = log_count(&e, "\"type\":\"transmission\"");
	ASSERT_EQ(tx, 1, "one transmission");

	ASSERT_EQ(stsd_once(&e), 0, "restart: nothing to do");
	ASSERT_EQ(stored(&e), 1, "still exactly one activation");
	ASSERT_EQ(log_count(&e, "\"type\":\"transmission\""), tx, "nothing was sent again");
	ASSERT_GE(log_count(&e, "nothing more is sent"), 1, "the log says why");
	ASSERT_TRUE(log_verifies(&e), "stsctl verify accepts the evidence log");
	ASSERT_EQ(test__run(NULL, 0, "%s/stsctl verify %s --log-key %s/log.key.pub --seal-key %s",
			    test__out_dir(), e.log, e.state, seal),
		  0, "and its forward-secure seals, with the auditor's key");
cleanup:
	env_teardown(&e);
}

/* Make the scheduled retry due now, as if its time had come (the VM lane is slow). */
static bool retry_due_now(struct env *e)
{
	char path[700], *buf = NULL, *out;
	json_t *j;
	size_t len;
	bool ok;

	snprintf(path, sizeof(path), "%s/activation.json", e->state);
	if (sts_read_file(path, 1 << 16, &buf, &len))
		return false;
	j = json_loadb(buf, len, 0, NULL);
	free(buf);
	if (!j)
		return false;
	json_object_set_new(j, "next_attempt", json_integer(0));
	out = json_dumps(j, JSON_COMPACT);
	ok = out && sts_write_file_atomic(path, out, strlen(out), 0600) == 0;
	free(out);
	json_decref(j);
	return ok;
}

void test_activation_collector_down(void)
{
	struct env e;

	if (!env_setup(&e, "down", NULL, "retry-initial 60\nretry-max 120\n", NULL))
		goto cleanup;
	e.px.target_port = 0; /* the collector cannot be reached */
	ASSERT_EQ(stsd_once(&e), EX_TEMPFAIL, "collector down: attempt fails, retry scheduled");
	ASSERT_EQ(stored(&e), 0, "nothing stored");
	ASSERT_EQ(stsd_once(&e), EX_TEMPFAIL, "restart before the retry is due: no attempt");
	ASSERT_EQ(log_count(&e, "\"type\":\"transmission\""), 1, "no second attempt yet");
	ASSERT_GE(log_count(&e, "\"decision\":\"retry\""), 1, "the retry is on record");
	e.px.target_port = e.col.port;
	ASSERT_TRUE(retry_due_now(&e), "time passes: the retry is due");
	ASSERT_EQ(stsd_once(&e), 0, "collector up: the retry succeeds");
	ASSERT_EQ(stored(&e), 1, "stored exactly once");
	ASSERT_TRUE(log_verifies(&e), "stsctl verify accepts the evidence log");
cleanup:
	env_teardown(&e);
}

void test_activation_wrong_certificate(void)
{
	char other[700], extra_conf[800], extra_pol[800];
	struct env e;

	snprintf(other, sizeof(other), "%s/other-ca", test__tmpdir());
	if (!ASSERT_OK(sts_mkdir_p(other, 0755), "dir") ||
	    !ASSERT_OK(tls_make_pki(other), "a second, unrelated CA"))
		return;
	snprintf(extra_pol, sizeof(extra_pol), "allow-read %s/ca.pem\n", other);
	chmod(other, 0755);
	snprintf(extra_conf, sizeof(extra_conf), "%s/ca.pem", other);
	chmod(extra_conf, 0644);
	if (!env_setup(&e, "wrongcert", NULL, NULL, extra_pol))
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
		write_text(e.conf, buf);
		free(buf);
	}
	ASSERT_EQ(stsd_once(&e), EX_TEMPFAIL, "wrong certificate: refused, retry scheduled");
	ASSERT_EQ(stored(&e), 0, "nothing sent");
	ASSERT_GE(log_count(&e, "TLS handshake with localhost failed"), 1, "the log says why");
cleanup:
	env_teardown(&e);
}

/* Kill every process of the running stsd's policed cgroup. */
static int kill_agent(pid_t stsd)
{
	char root[512], path[1100], line[32];
	int n = 0;
	FILE *f;

	if (cg_root(root, sizeof(root)))
		return 0;
	snprintf(path, sizeof(path), "%s/stsguard/run-%d/cgroup.procs", root, (int)stsd);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		n += kill(atoi(line), SIGKILL) == 0;
	fclose(f);
	return n;
}

void test_activation_agent_killed(void)
{
	struct env e;
	pid_t pid;
	int i, killed = 0;

	if (!env_setup(&e, "killed", NULL, NULL, NULL))
		goto cleanup;
	e.px.stall = true; /* the report reaches the collector, its answer never comes back */
	pid = stsd_spawn(&e);
	for (i = 0; i < 600 && stored(&e) < 1; i++)
		usleep(100000);
	ASSERT_EQ(stored(&e), 1, "the collector stored the report");
	for (i = 0; i < 50 && !killed; i++) {
		killed = kill_agent(pid);
		usleep(50000);
	}
	ASSERT_GE(killed, 1, "the agent was killed mid-send, before the answer");
	ASSERT_EQ(stsd_wait_status(pid), EX_TEMPFAIL, "no receipt: retry scheduled");
	e.px.stall = false;
	sleep(2);
	ASSERT_EQ(stsd_once(&e), 0, "the retry gets the receipt");
	ASSERT_EQ(stored(&e), 1, "still exactly one activation at the collector");
	ASSERT_TRUE(log_verifies(&e), "stsctl verify accepts the evidence log");
cleanup:
	env_teardown(&e);
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
	struct env e;
	size_t i;
	pid_t m;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		m = modem_start(cases[i].mode, pty, sizeof(pty));
		if (!ASSERT_GE(m, 0, "start the modem simulator"))
			return;
		snprintf(src, sizeof(src), "at:%s", pty);
		snprintf(name, sizeof(name), "modem-%s", cases[i].mode);
		if (env_setup(&e, name, src, NULL, NULL)) {
			snprintf(check, sizeof(check), "modem %s: stsd exit status", cases[i].mode);
			ASSERT_EQ(stsd_once(&e), cases[i].status, check);
			snprintf(check, sizeof(check), "modem %s: activations stored",
				 cases[i].mode);
			ASSERT_EQ(stored(&e), cases[i].status ? 0 : 1, check);
			if (cases[i].status) {
				snprintf(check, sizeof(check), "modem %s: retry scheduled",
					 cases[i].mode);
				ASSERT_GE(log_count(&e, "\"decision\":\"retry\""), 1, check);
			}
		}
		env_teardown(&e);
		modem_stop(m);
	}
}

static int stsctl(struct env *e, const char *args)
{
	return test__run(NULL, 0, "%s/stsctl %s --state-dir %s", test__out_dir(), args, e->state);
}

/* country is in the report only while consent is granted. */
void test_activation_consent(void)
{
	struct env e;
	char *s;

	if (!env_setup(&e, "granted", NULL, NULL, NULL))
		goto cleanup;
	sts_mkdir_p(e.state, 0700);
	ASSERT_EQ(stsctl(&e, "consent grant --country FR"), 0, "stsctl consent grant --country FR");
	ASSERT_EQ(stsd_once(&e), 0, "activation with consent");
	s = stored_json(&e);
	if (!ASSERT_TRUE(s && strstr(s, "\"country\": \"FR\""), "the collector got country FR"))
		printf("    stored: %s\n", s ? s : "(none)");
	free(s);
	ASSERT_GE(log_count(&e, "\"consent\":true"), 1, "the consent used is logged");
	env_teardown(&e);

	if (!env_setup(&e, "revoked", NULL, NULL, NULL))
		goto cleanup;
	sts_mkdir_p(e.state, 0700);
	ASSERT_EQ(stsctl(&e, "consent grant --country FR"), 0, "grant");
	ASSERT_EQ(stsctl(&e, "consent revoke"), 0, "then revoke");
	ASSERT_EQ(stsd_once(&e), 0, "activation after revocation");
	s = stored_json(&e);
	ASSERT_TRUE(s && strstr(s, "\"aid\"") && !strstr(s, "\"country\": \"FR\""),
		    "no country in the stored activation");
	free(s);
cleanup:
	env_teardown(&e);
}
