// SPDX-License-Identifier: GPL-2.0-only
/*
 * Police one command: a fresh cgroup, the BPF enforcement of a policy around it, the command
 * run inside as an unprivileged user, and every decision the kernel takes reported (sentences
 * on stderr, evidence records, plain JSON lines). Used by `stsd run` and by the monitor, which
 * runs its agent this way with a privsep channel next to the kernel's events.
 */
#include "events.h"
#include "evidence.h"
#include "loader.h"
#include "police.h"
#include "stsd.h"
#include "device/cgroup.h"
#include "device/consent.h"
#include "core/crypto.h"
#include "wire/jws.h"
#include "device/policy.h"
#include "wire/report.h"
#include "wire/request.h"
#include "core/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct run_ctx {
	struct sts_enforcer *enf;
	size_t report_max; /* the policy's report-max: the largest request body */
	FILE *log; /* JSON lines (--events/--json), or NULL */
	struct evidence *evidence; /* the evidence log (--log), or NULL */
	const char *cgroup; /* killed when evidence cannot be written */
	int evidence_err;
	const struct police_opts *opts;
	bool quiet; /* no sentences on stderr */
	bool show_allowed;
	unsigned long n_denied, n_allowed, n_observed;
	unsigned long n_approved; /* payloads approved in this run: one report, sent once */
};

static void emit(struct run_ctx *c, const char *type, json_t *rec)
{
	char *s;

	json_object_set_new(rec, "type", json_string(type));
	if (c->log) {
		s = json_dumps(rec, JSON_COMPACT | JSON_PRESERVE_ORDER);
		if (s) {
			fprintf(c->log, "%s\n", s);
			fflush(c->log);
			free(s);
		}
	}
	json_decref(rec);
}

/*
 * Nothing runs unlogged: when an evidence record cannot be written (disk full), the policed
 * code is stopped for good.
 */
static void evidence_failed(struct run_ctx *c, int err)
{
	if (c->evidence_err)
		return;
	c->evidence_err = err;
	sts_err("evidence log write failed: %s; killing the policed command", strerror(-err));
	sts_cgroup_kill(c->cgroup);
}

static void to_evidence(struct run_ctx *c, const struct sts_event *ev, const json_t *extra)
{
	int err;

	if (!c->evidence || c->evidence_err)
		return;
	err = evidence_event(c->evidence, ev, extra);
	if (err)
		evidence_failed(c, err);
}

static void count(struct run_ctx *c, __u32 verdict)
{
	if (verdict == STS_VERDICT_DENY)
		c->n_denied++;
	else if (verdict == STS_VERDICT_ALLOW)
		c->n_allowed++;
	else
		c->n_observed++;
}

/*
 * `stsd run` without a monitor of its own (no payload_check): the country claim is the user's
 * to give (G6). A request that carries one passes only if the consent record grants that very
 * country. sts_request_check() has already validated the request, so the parse cannot fail on
 * well-formed input; if it does, the request is refused.
 */
static int country_consented(const struct run_ctx *c, const char *buf, size_t len, char *why,
			     size_t wl)
{
	const char *body = memmem(buf, len, "\r\n\r\n", 4);
	const char *path = c->opts->consent_path ? c->opts->consent_path : STS_CONSENT_DEFAULT_PATH;
	struct sts_consent consent;
	struct sts_report rep;
	struct sts_jws jws;
	int err;

	if (!body || sts_jws_parse(body + 4, buf + len - body - 4, &jws, why, wl))
		return -EBADMSG;
	err = sts_report_parse(jws.payload, jws.payload_len, &rep, why, wl);
	sts_jws_free(&jws);
	if (err)
		return err;
	if (!rep.country[0])
		return 0;
	err = sts_consent_load(path, &consent);
	if (err) {
		snprintf(why, wl, "consent record %s unreadable (%s): the country is not sent",
			 path, strerror(-err));
		return err;
	}
	if (!consent.granted || strcmp(consent.country, rep.country) != 0) {
		snprintf(why, wl, "claim \"country\" without the user's consent (%s: %s)", path,
			 consent.granted ? "another country" : "not granted");
		return -EPERM;
	}
	return 0;
}

/*
 * The payload check (G4), monitor side: the writer is stopped in SSL_write; its plaintext, as
 * copied in the kernel at the call, is checked against the approved request. Pass: egress
 * credit for exactly these bytes, then SIGCONT. Fail: SIGKILL, and the record keeps only the
 * SHA-256 and length of what it tried to send.
 */
static void payload_decide(struct run_ctx *c, const struct sts_payload_event *pe)
{
	char reason[256] = "", hex[2 * STS_SHA256_LEN + 1], line[900];
	struct sts_event ev = pe->ev;
	uint8_t sha[STS_SHA256_LEN];
	size_t hashed = pe->copied;
	char *whole = NULL;
	json_t *rec;
	bool ok = false;

	/* A plaintext larger than the copy is refused anyway; read it all for its hash. */
	if (pe->copied < pe->len && pe->len <= (1u << 20)) {
		struct iovec local, remote = { (void *)(uintptr_t)pe->buf, pe->len };

		whole = malloc(pe->len);
		local = (struct iovec){ whole, pe->len };
		if (whole &&
		    process_vm_readv(pe->ev.tgid, &local, 1, &remote, 1, 0) == (ssize_t)pe->len)
			hashed = pe->len;
	}
	sts_sha256(hashed == pe->copied ? (const void *)pe->data : whole, hashed, sha);
	sts_hex(sha, sizeof(sha), hex);
	if (pe->flags & (STS_PAYLOAD_SHARED_MM | STS_PAYLOAD_SHARED_MAP | STS_PAYLOAD_NO_VMA)) {
		ev.rule = STS_RULE_PAYLOAD_SHARED;
		snprintf(reason, sizeof(reason), "%s%s%s",
			 pe->flags & STS_PAYLOAD_SHARED_MM ? "other threads share the memory; "
							   : "",
			 pe->flags & STS_PAYLOAD_SHARED_MAP ? "the buffer is in a shared mapping; "
							    : "",
			 pe->flags & STS_PAYLOAD_NO_VMA ? "the buffer is not mapped memory" : "");
	} else if (pe->copied < pe->len) {
		ev.rule = STS_RULE_PAYLOAD_SCHEMA;
		snprintf(reason, sizeof(reason), "%llu bytes of plaintext, far more than a report",
			 (unsigned long long)pe->len);
	} else if (sts_request_check((const char *)pe->data, pe->len, c->report_max, reason,
				     sizeof(reason))) {
		ev.rule = STS_RULE_PAYLOAD_SCHEMA;
	} else if (c->opts->payload_check &&
		   c->opts->payload_check(c->opts->payload_ctx, (const char *)pe->data, pe->len,
					  reason, sizeof(reason))) {
		ev.rule = STS_RULE_PAYLOAD_SCHEMA;
	} else if (!c->opts->payload_check &&
		   country_consented(c, (const char *)pe->data, pe->len, reason, sizeof(reason))) {
		ev.rule = STS_RULE_PAYLOAD_SCHEMA;
	} else if (c->n_approved) {
		/* The report leaves once (G3 of the promise): a second copy is a second send. */
		ev.rule = STS_RULE_PAYLOAD_SCHEMA;
		snprintf(reason, sizeof(reason),
			 "a second report in one run: the activation report is sent once");
	} else if (enforcer_grant(c->enf, pe->len)) {
		ev.rule = STS_RULE_PAYLOAD_SCHEMA;
		snprintf(reason, sizeof(reason), "could not grant egress credit: %s",
			 strerror(errno));
	} else {
		ok = true;
		c->n_approved++;
		ev.rule = STS_RULE_PAYLOAD_OK;
	}
	ev.verdict = ok ? STS_VERDICT_ALLOW : STS_VERDICT_DENY;
	kill(pe->ev.tgid, ok ? SIGCONT : SIGKILL);
	count(c, ev.verdict);

	rec = event_to_json(&ev);
	json_object_set_new(rec, "len", json_integer(pe->len));
	json_object_set_new(rec, "sha256", json_string(hex));
	if (hashed != pe->len)
		json_object_set_new(rec, "sha256_of_first_bytes", json_integer(hashed));
	if (!ok)
		json_object_set_new(rec, "reason", json_string(reason));
	if (!c->quiet && (!ok || c->show_allowed)) {
		event_explain(&ev, line, sizeof(line));
		fprintf(stderr, "stsd: %s (%llu bytes, sha256 %s)%s%s\n", line,
			(unsigned long long)pe->len, hex, ok ? "" : ": ", reason);
	}
	{
		json_t *extra =
			json_pack("{s:I, s:s}", "bytes", (json_int_t)pe->len, "sha256", hex);

		if (!ok)
			json_object_set_new(extra, "reason", json_string(reason));
		to_evidence(c, &ev, extra);
		json_decref(extra);
	}
	emit(c, "event", rec);
	free(whole);
}

static void on_event(const struct sts_event *ev, size_t size, void *ctx)
{
	struct run_ctx *c = ctx;
	char line[640];

	if (ev->type == STS_EV_SOCKETS_GONE)
		return; /* only wakes the teardown wait; not a decision */
	if (ev->type == STS_EV_PAYLOAD) {
		if (size >= sizeof(struct sts_payload_event))
			payload_decide(c, (const struct sts_payload_event *)ev);
		return;
	}

	count(c, ev->verdict);
	if (!c->quiet && (ev->verdict != STS_VERDICT_ALLOW || c->show_allowed)) {
		event_explain(ev, line, sizeof(line));
		fprintf(stderr, "stsd: %s\n", line);
	}
	to_evidence(c, ev, NULL);
	emit(c, "event", event_to_json(ev));
}

/* Resolve CMD like execvp would, so that exactly that file is allowed to execute. */
static int resolve_cmd(const char *cmd, char *out, size_t len)
{
	const char *path = getenv("PATH");
	char buf[PATH_MAX], *dirs, *d, *save;

	if (strchr(cmd, '/')) {
		if (!realpath(cmd, out))
			return -errno;
		return access(out, X_OK) ? -errno : 0;
	}
	dirs = strdup(path ? path : "/usr/local/bin:/usr/bin:/bin");
	if (!dirs)
		return -ENOMEM;
	for (d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		snprintf(buf, sizeof(buf), "%s/%s", d, cmd);
		if (access(buf, X_OK) == 0 && realpath(buf, out)) {
			free(dirs);
			(void)len;
			return 0;
		}
	}
	free(dirs);
	return -ENOENT;
}

struct child_spec {
	int channel_fd; /* becomes fd 3 of CMD, or -1 */
	const char *cgroup;
	const char *exe;
	char **argv;
	bool drop;
	uid_t uid;
	gid_t gid;
	pid_t monitor; /* the process that polices CMD */
};

/*
 * In the child: join the policed cgroup, drop privileges, wait until the monitor has attached
 * the per-process payload uprobes, exec. Never returns.
 */
static void child_exec(const struct child_spec *s, int errfd, int gofd)
{
	char go;
	int err;

	err = sts_cgroup_join(s->cgroup, 0);
	if (err) {
		dprintf(errfd, "join cgroup %s: %s", s->cgroup, strerror(-err));
		_exit(127);
	}
	if (s->drop && (setgroups(0, NULL) < 0 || setgid(s->gid) < 0 || setuid(s->uid) < 0)) {
		dprintf(errfd, "drop privileges to uid %u: %s", s->uid, strerror(errno));
		_exit(127);
	}
	/*
	 * CMD dies with its monitor: once the monitor is gone its BPF links are closed and nobody
	 * would police CMD any more. Set after the uid change (which clears it), then checked
	 * against a monitor that died before.
	 */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 || getppid() != s->monitor) {
		dprintf(errfd, "parent-death signal: %s", strerror(errno));
		_exit(127);
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		dprintf(errfd, "no_new_privs: %s", strerror(errno));
		_exit(127);
	}
	if (read(gofd, &go, 1) != 1)
		_exit(127); /* the monitor could not attach: never run unchecked */
	/* dup2 onto itself would keep FD_CLOEXEC: clear it explicitly in that case. */
	if (s->channel_fd == 3 && fcntl(3, F_SETFD, 0) < 0) {
		dprintf(errfd, "privsep channel: %s", strerror(errno));
		_exit(127);
	}
	if (s->channel_fd >= 0 && s->channel_fd != 3 && dup2(s->channel_fd, 3) != 3) {
		dprintf(errfd, "privsep channel: %s", strerror(errno));
		_exit(127);
	}
	/*
	 * A descriptor CMD inherits was opened without file_open ever asking about CMD: only
	 * stdin, stdout, stderr (and the channel) go through exec.
	 */
	if (close_range(s->channel_fd >= 0 ? 4 : 3, ~0U, CLOSE_RANGE_CLOEXEC) < 0) {
		dprintf(errfd, "close inherited descriptors: %s", strerror(errno));
		_exit(127);
	}
	execv(s->exe, s->argv);
	dprintf(errfd, "exec %s: %s", s->exe, strerror(errno));
	_exit(127);
}

/*
 * Remove the cgroups of monitors that are gone (killed, or the machine lost power while one
 * ran): run-PID where no process PID exists. What is left in one ran unpoliced since its
 * monitor died, so it is killed first. A live PID is left alone, even if reused by another
 * program: a leftover cgroup costs little, a wrong kill does not.
 */
void police_sweep_stale(const char *parent)
{
	char path[PATH_MAX], root[PATH_MAX / 2], dflt[PATH_MAX];
	struct dirent *de;
	char *end;
	long pid;
	DIR *d;

	if (!parent) {
		if (sts_cgroup2_root(root, sizeof(root)))
			return;
		snprintf(dflt, sizeof(dflt), "%s/stsguard", root);
		parent = dflt;
	}
	d = opendir(parent);
	if (!d)
		return;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, "run-", 4) != 0)
			continue;
		pid = strtol(de->d_name + 4, &end, 10);
		if (*end || pid <= 0 || pid == getpid() || kill((pid_t)pid, 0) == 0 ||
		    errno != ESRCH)
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", parent, de->d_name) >= (int)sizeof(path))
			continue;
		sts_cgroup_kill(path);
		for (int i = 0; i < 100 && rmdir(path) < 0 && errno == EBUSY; i++)
			usleep(10000);
	}
	closedir(d);
}

int police_run(const struct police_opts *o)
{
	const char *policy_path, *user, *device_cg, *parent;
	char root[PATH_MAX / 2], cgpath[PATH_MAX], parentbuf[PATH_MAX], exe[PATH_MAX];
	char why[512], perr[512], childerr[512];
	struct enforcer_opts eo = { .policed_cgroup_fd = -1, .device_cgroup_fd = -1 };
	struct run_ctx c = { 0 };
	struct sts_policy pol;
	struct sts_enforcer *enf = NULL;
	struct child_spec spec = { 0 };
	bool have_policy = false, cg_made = false;
	int ret = 3, err, sfd = -1, errpipe[2] = { -1, -1 }, gopipe[2] = { -1, -1 }, status = 0;
	sigset_t mask, oldmask;
	pid_t pid = -1;
	ssize_t n;
	bool channel_done = false, timed_out = false;
	time_t started = time(NULL);

	memset(&pol, 0, sizeof(pol));
	c.opts = o;
	c.quiet = o->quiet;
	c.show_allowed = o->show_allowed;
	c.log = o->events;
	c.evidence = o->evidence;
	eo.observe = o->observe;
	policy_path = o->policy_path ? o->policy_path : STSD_DEFAULT_POLICY;
	user = o->user;
	device_cg = o->device_cgroup;
	parent = o->cgroup_parent;
	if (geteuid() != 0) {
		sts_err("must run as root (loading BPF programs and creating cgroups need it)");
		return 3;
	}
	err = resolve_cmd(o->argv[0], exe, sizeof(exe));
	if (err) {
		sts_err("%s: %s", o->argv[0], strerror(-err));
		return 2;
	}
	spec.exe = exe;
	spec.argv = (char **)o->argv;
	spec.channel_fd = o->channel ? o->channel->child_fd : -1;
	if (!user)
		user = "nobody";
	if (strcmp(user, "root") != 0) {
		struct passwd *pw = getpwnam(user);

		if (!pw) {
			sts_err("--user %s: no such user", user);
			return 2;
		}
		spec.drop = true;
		spec.uid = pw->pw_uid;
		spec.gid = pw->pw_gid;
	}
	err = sts_policy_load(policy_path, true, &pol, perr, sizeof(perr));
	if (err) {
		sts_err("%s", perr);
		ret = 2;
		goto cleanup;
	}
	have_policy = true;
	/* The state dir is the one place CMD may write: it must own it once unprivileged. */
	if (spec.drop && chown(pol.state_dir, spec.uid, spec.gid) < 0) {
		sts_err("chown %s to uid %u: %s", pol.state_dir, spec.uid, strerror(errno));
		goto cleanup;
	}

	err = sts_cgroup2_root(root, sizeof(root));
	if (err) {
		sts_err("find or mount cgroup v2: %s", strerror(-err));
		goto cleanup;
	}
	if (!parent) {
		snprintf(parentbuf, sizeof(parentbuf), "%s/stsguard", root);
		parent = parentbuf;
	}
	err = sts_mkdir_p(parent, 0755);
	if (err) {
		sts_err("create cgroup %s: %s", parent, strerror(-err));
		goto cleanup;
	}
	police_sweep_stale(parent);
	if (snprintf(cgpath, sizeof(cgpath), "%s/run-%d", parent, (int)getpid()) >=
	    (int)sizeof(cgpath)) {
		sts_err("cgroup path too long under %s", parent);
		goto cleanup;
	}
	if (mkdir(cgpath, 0755) < 0) {
		sts_err("create cgroup %s: %s", cgpath, strerror(errno));
		goto cleanup;
	}
	cg_made = true;
	spec.cgroup = cgpath;
	c.cgroup = cgpath;
	eo.policed_cgroup_fd = open(cgpath, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (eo.policed_cgroup_fd < 0 || sts_cgroup_id(eo.policed_cgroup_fd, &eo.policed_cgid)) {
		sts_err("open cgroup %s: %s", cgpath, strerror(errno));
		goto cleanup;
	}
	if (!device_cg)
		device_cg = root;
	if (strcmp(device_cg, "none") != 0) {
		eo.device_cgroup_fd = open(device_cg, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (eo.device_cgroup_fd < 0) {
			sts_err("open device cgroup %s: %s", device_cg, strerror(errno));
			goto cleanup;
		}
	}
	eo.extra_exec = exe;

	c.report_max = pol.report_max;
	err = enforcer_start(&pol, &eo, on_event, &c, &enf, why, sizeof(why));
	c.enf = enf;
	if (err) {
		sts_err("%s", why);
		emit(&c, "refused", json_pack("{s:s, s:s}", "reason", why, "policy", policy_path));
		goto cleanup;
	}
	{
		json_t *rec = enforcer_describe(enf, &pol);

		json_object_set_new(rec, "cgroup", json_string(cgpath));
		json_object_set_new(rec, "cgroup_id", json_integer(eo.policed_cgid));
		json_object_set_new(rec, "command", json_string(exe));
		if (!c.quiet) {
			fprintf(stderr, "stsd: policing %s in %s, %s mode, policy %s\n", exe,
				cgpath, enforcer_enforcing(enf) ? "enforce" : "OBSERVE",
				policy_path);
			if (!enforcer_enforcing(enf))
				fprintf(stderr,
					"stsd: observe mode: file opens, execs and packet/netlink "
					"sockets are only recorded (through tracepoints, which "
					"io_uring "
					"can bypass), not stopped; network rules are enforced\n");
		}
		if (c.evidence) {
			err = evidence_start(c.evidence, eo.observe ? "observe" : "enforce", rec);
			if (err) {
				sts_err("evidence log: %s", strerror(-err));
				json_decref(rec);
				goto cleanup;
			}
		}
		emit(&c, "start", rec);
	}

	/* SIGCHLD and the termination signals arrive through a signalfd, next to the events. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, &oldmask);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (sfd < 0 || pipe2(errpipe, O_CLOEXEC) < 0 || pipe2(gopipe, O_CLOEXEC) < 0) {
		sts_err("signalfd/pipe: %s", strerror(errno));
		goto cleanup;
	}
	fflush(NULL);
	spec.monitor = getpid();
	pid = fork();
	if (pid < 0) {
		sts_err("fork: %s", strerror(errno));
		goto cleanup;
	}
	if (pid == 0) {
		sigprocmask(SIG_SETMASK, &oldmask, NULL);
		close(errpipe[0]);
		close(gopipe[1]);
		child_exec(&spec, errpipe[1], gopipe[0]);
	}
	close(errpipe[1]);
	errpipe[1] = -1;
	close(gopipe[0]);
	gopipe[0] = -1;
	err = enforcer_attach_process(enf, pid, why, sizeof(why));
	if (err) {
		sts_err("%s; not running %s (fail closed)", why, exe);
		kill(pid, SIGKILL);
	} else if (write(gopipe[1], "g", 1) != 1) {
		sts_err("start %s: %s", exe, strerror(errno));
		kill(pid, SIGKILL);
	}
	close(gopipe[1]);
	gopipe[1] = -1;
	n = read(errpipe[0], childerr, sizeof(childerr) - 1);
	if (n > 0) {
		childerr[n] = '\0';
		sts_err("%s", childerr);
	}

	for (;;) {
		struct pollfd pfd[3] = { { enforcer_event_fd(enf), POLLIN, 0 },
					 { sfd, POLLIN, 0 },
					 { o->channel && !channel_done ? o->channel->fd : -1,
					   POLLIN, 0 } };
		struct signalfd_siginfo si;

		int64_t next_ms = -1;

		if (c.evidence && !c.evidence_err &&
		    (err = evidence_tick(c.evidence, &next_ms)) < 0)
			evidence_failed(
				&c, err); /* the real cause (ENOSPC, EROFS), not a generic EIO */
		if (o->timeout_s && !timed_out) {
			int64_t left = (started + o->timeout_s - time(NULL)) * 1000;

			if (left <= 0) {
				sts_err("%s still running after %d s: stopped", exe, o->timeout_s);
				timed_out = true;
				sts_cgroup_kill(cgpath);
			} else if (next_ms < 0 || left < next_ms) {
				next_ms = left;
			}
		}
		if (poll(pfd, 3, next_ms > INT32_MAX ? INT32_MAX : (int)next_ms) < 0) {
			if (errno == EINTR)
				continue;
			sts_err("poll: %s", strerror(errno));
			break;
		}
		if (pfd[0].revents)
			enforcer_poll(enf, 0);
		if (pfd[2].revents) {
			/*
			 * The agent's requests. Kernel events first: a payload check pending for
			 * the agent is decided before the agent's next message is read.
			 */
			enforcer_poll(enf, 0);
			err = o->channel->on_readable(o->channel->ctx);
			if (err) {
				channel_done = true;
				if (err < 0) {
					/* Unknown, out of order or malformed: the agent goes. */
					sts_cgroup_kill(cgpath);
				}
			}
		}
		if (!(pfd[1].revents & POLLIN))
			continue;
		if (read(sfd, &si, sizeof(si)) != sizeof(si))
			continue;
		if (si.ssi_signo != SIGCHLD) {
			kill(pid, si.ssi_signo);
			continue;
		}
		if (waitpid(pid, &status, WNOHANG) == pid)
			break;
	}
	/* Whatever CMD left behind in the cgroup goes with it. */
	sts_cgroup_kill(cgpath);
	/*
	 * Its sockets may outlive it, retransmitting what the egress gate refused: keep the gate
	 * until they are gone (a refused connection aborts after its TCP user timeout).
	 */
	for (time_t until = time(NULL) + 30; enforcer_live_sockets(enf) > 0 && time(NULL) < until;)
		enforcer_poll(enf, 1000); /* woken by STS_EV_SOCKETS_GONE */
	if (enforcer_live_sockets(enf) > 0)
		sts_err("%lld policed TCP sockets still open after 30 s; detaching the egress "
			"gate anyway",
			(long long)enforcer_live_sockets(enf));
	enforcer_poll(enf, 0);
	ret = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
	if (c.evidence_err && ret == 0)
		ret = 3;
	{
		uint64_t lost = enforcer_lost_events(enf);

		if (lost)
			sts_err("%llu kernel events were lost (ring buffer full)",
				(unsigned long long)lost);
		if (!c.quiet)
			fprintf(stderr,
				"stsd: %s exited with status %d; %lu denied, %lu allowed, %lu "
				"observed, %llu lost events\n",
				exe, ret, c.n_denied, c.n_allowed, c.n_observed,
				(unsigned long long)lost);
		struct sts_budget b;

		enforcer_budget(enf, &b);
		if (c.evidence) {
			err = evidence_stop(c.evidence, lost, ret);
			if (err) {
				sts_err("evidence log: %s", strerror(-err));
				if (ret == 0)
					ret = 3;
			}
		}
		emit(&c, "stop",
		     json_pack("{s:i, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "status", ret,
			       "lost_events", (json_int_t)lost, "denied", (json_int_t)c.n_denied,
			       "allowed", (json_int_t)c.n_allowed, "observed",
			       (json_int_t)c.n_observed, "egress_dropped_bytes",
			       (json_int_t)b.dropped, "egress_credit_left", (json_int_t)b.credit,
			       "tls_allowance_left", (json_int_t)b.allowance));
	}
cleanup:
	enforcer_stop(enf);
	if (sfd >= 0)
		close(sfd);
	if (errpipe[0] >= 0)
		close(errpipe[0]);
	if (errpipe[1] >= 0)
		close(errpipe[1]);
	for (int i = 0; i < 2; i++)
		if (gopipe[i] >= 0)
			close(gopipe[i]);
	if (eo.policed_cgroup_fd >= 0)
		close(eo.policed_cgroup_fd);
	if (eo.device_cgroup_fd >= 0)
		close(eo.device_cgroup_fd);
	if (cg_made) {
		/* The kill is asynchronous: give the members a moment to leave. */
		for (int i = 0; i < 100 && rmdir(cgpath) < 0 && errno == EBUSY; i++)
			usleep(10000);
	}
	if (have_policy)
		sts_policy_free(&pol);
	return ret;
}
