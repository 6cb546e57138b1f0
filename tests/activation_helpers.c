// SPDX-License-Identifier: GPL-2.0-only
#include "activation_helpers.h"
#include "cgroup_helpers.h"
#include "stage.h"
#include "test.h"
#include "core/util.h"

#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

int act_write_text(const char *path, const char *text)
{
	return sts_write_file_atomic(path, text, strlen(text), 0644);
}

/* A fresh device: its own state, collector and relay under dir/name. */
bool act_setup(struct act_env *e, const char *name, const char *imei_source, const char *extra_conf,
	       const char *extra_policy)
{
	char coldir[600], imei[600], text[8192], model[96] = "";
	const char *agent;
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
	if (!ASSERT_OK(act_write_text(imei, GOOD_IMEI "\n"), "write the IMEI file"))
		return false;
	snprintf(text, sizeof(text),
		 "collector 127.0.0.1:%u\n"
		 "allow-read /etc/ld.so.cache\n"
		 "allow-read " TEST_LDSO "\n"
		 "allow-read-dir " TEST_LIBDIR "\n"
		 "allow-read /etc/os-release\n"
		 "allow-read %s\n"
		 "%s"
		 "state-dir %s/agent-state\n"
		 "%s",
		 e->px.port, e->col.ca, dmi ? "allow-read /sys/class/dmi/id/product_name\n" : "",
		 e->dir, extra_policy ? extra_policy : "");
	if (!ASSERT_OK(act_write_text(e->policy, text), "write the policy"))
		return false;
	if (!dmi)
		snprintf(model, sizeof(model), "model Test Phone\n"); /* no DMI on this machine */
	/* A copy nobody can reach, wherever the checkout is. */
	agent = test__staged("sts-agent");
	if (!ASSERT_OK_PTR(agent, "stage sts-agent"))
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
	return ASSERT_OK(act_write_text(e->conf, text), "write stsd.conf");
}

void act_teardown(struct act_env *e)
{
	int st;

	tcp_proxy_stop(&e->px);
	if (e->col_up)
		collector_stop(&e->col, &st);
	e->col_up = false;
}

pid_t act_stsd_spawn(struct act_env *e)
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

int act_stsd_wait(pid_t pid)
{
	int status;

	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int act_stsd_once(struct act_env *e)
{
	return act_stsd_wait(act_stsd_spawn(e));
}

/* `sts-collector list --json` of this device's collector. */
char *act_stored_json(struct act_env *e)
{
	char *buf = malloc(1 << 20);

	if (buf && test__run(buf, 1 << 20, "%s/sts-collector list --db %s --json", test__out_dir(),
			     e->col.db) != 0) {
		free(buf);
		buf = NULL;
	}
	return buf;
}

int act_count_of(const char *hay, const char *needle)
{
	int n = 0;

	while (hay && (hay = strstr(hay, needle))) {
		n++;
		hay += strlen(needle);
	}
	return n;
}

int act_stored(struct act_env *e)
{
	char *s = act_stored_json(e);
	int n = s ? act_count_of(s, "\"aid\"") : -1;

	free(s);
	return n;
}

int act_log_count(struct act_env *e, const char *needle)
{
	char *buf = NULL;
	size_t len;
	int n;

	if (sts_read_file(e->log, 8 << 20, &buf, &len))
		return -1;
	n = act_count_of(buf, needle);
	free(buf);
	return n;
}

bool act_log_verifies(struct act_env *e)
{
	return test__run(NULL, 0, "%s/stsctl verify %s --log-key %s/log.key.pub", test__out_dir(),
			 e->log, e->state) == 0;
}

/* Make the scheduled retry due now, as if its time had come (the VM lane is slow). */
bool act_retry_due_now(struct act_env *e)
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

/* Kill every process of the running stsd's policed cgroup. */
int act_kill_agent(pid_t stsd)
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
