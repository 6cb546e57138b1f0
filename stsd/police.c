// SPDX-License-Identifier: GPL-2.0-only
/*
 * Police one command: a fresh cgroup, the BPF enforcement of a policy around it, the command
 * run inside as an unprivileged user, and every decision the kernel takes reported (sentences
 * on stderr, evidence records, plain JSON lines). Used by `stsd run` and by the monitor, which
 * runs its agent this way with a privsep channel next to the kernel's events.
 *
 * What a payload may say is not decided here: after the checks that hold for any payload (G4:
 * the writer's own memory, the documented request shape), the caller's payload_check decides
 * (stsd/payload_rules.c for `stsd run`, same_report in stsd/monitor.c for the daemon).
 */
#include "events.h"
#include "evidence.h"
#include "loader.h"
#include "police.h"
#include "sandbox.h"
#include "stsd.h"
#include "core/access.h"
#include "core/cli.h"
#include "core/crypto.h"
#include "core/util.h"
#include "device/cgroup.h"
#include "device/policy.h"
#include "wire/request.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <cap-ng.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <linux/keyctl.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>

/* What the child does before it execs CMD (child_exec). */
struct child_spec {
	int channel_fd; /* becomes fd 3 of CMD, or -1 */
	const char *cgroup;
	const char *exe;
	char **argv;
	bool drop;
	uid_t uid;
	gid_t gid;
	pid_t monitor; /* the process that polices CMD */
	char exec_why[512]; /* why uid may not execute exe, if its mode bits say so */
	char **envp; /* PATH, LANG, STS_AID and the policy's env lines: nothing else of the
			launcher's */
	bool pass_stdin; /* --stdin: the launcher's stdin, else /dev/null */
	int out_fd, err_fd; /* write ends of the pipes the monitor relays as CMD's stdout, stderr */
	int null_fd; /* /dev/null, CMD's stdin unless pass_stdin */
	int notify_sock; /* where the child hands the seccomp listener to the monitor */
	const char *cwd; /* the state dir */
	struct sandbox_spec sandbox;
};

/* One run of police_run(), from the policy load to the stop record. */
/*
 * CMD's output on its way to stsd's stdout or stderr, never with a write that can block: a
 * reader of stsd's output that is slow or stopped (a full pipe, a terminal on hold) must not
 * stop the monitor, which records and answers CMD's refusals. Up to RELAY_CAP bytes wait in
 * the monitor; past that it stops reading CMD's pipe, so CMD blocks in its own write (nothing
 * is lost while CMD runs). When CMD has exited, what its reader still has not taken after
 * RELAY_LINGER_MS is dropped and counted (the stop record's output_dropped_bytes).
 */
#define RELAY_CAP (1 << 20)
#define RELAY_LINGER_MS 5000

struct relay {
	int to; /* stsd's own stdout or stderr */
	int to_nb; /* the same file opened anew without blocking (pipes, terminals), or -1 */
	bool sock, gone;
	char *buf;
	size_t len;
	uint64_t dropped;
};

struct run_ctx {
	const struct police_opts *opts;
	const char *policy_path;
	/* police_prepare: what runs, as whom, under which policy */
	char exe[PATH_MAX]; /* CMD, resolved */
	struct child_spec spec;
	struct sts_policy pol;
	bool have_policy;
	/* setup_cgroup */
	char cgpath[PATH_MAX]; /* the policed cgroup, <parent>/run-PID */
	bool cg_made;
	struct enforcer_opts eo; /* with the cgroups' descriptors */
	/* start_enforcement */
	struct sts_enforcer *enf;
	/* spawn_child, event_loop */
	int sfd; /* SIGCHLD and the termination signals */
	int errpipe[2]; /* the child's last words if it cannot exec */
	int gopipe[2]; /* the child execs once it reads from it */
	int notifysock[2]; /* the seccomp listener, from the child */
	int notify_fd; /* the seccomp listener: refusals to record and answer */
	int null_fd;
	int outpipe[2], errpipe2[2]; /* CMD's stdout and stderr, relayed by the monitor */
	struct relay out_relay, err_relay;
	struct sandbox_caps caps;
	char *env[STS_MAX_ENV + 4];
	char aid_env[40]; /* STS_AID=, the activation id police_opts.aid */
	pid_t pid;
	int status; /* the child's wait status */
	time_t started;
	bool channel_done, timed_out;
	/* the event callbacks */
	int evidence_err; /* an evidence record could not be written: the run is stopped */
	bool events_lost, stderr_lost; /* that output could not be written: said once, dropped */
	unsigned long n_denied, n_allowed, n_observed;
	unsigned long n_would_deny; /* observed events enforce mode would have refused */
	unsigned long n_approved; /* payloads approved in this run */
};

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
	sts_cgroup_kill(c->cgpath);
}

/*
 * An output nobody reads any more (`stsd run --json | head`, stderr closed) or that cannot
 * grow (--events on a full disk). The outputs are copies for a person or a script: losing one
 * is said once, on stderr if it still works and in the evidence log, and the run goes on. The
 * policing, the evidence log and the cgroup's removal do not depend on who reads stdout.
 */
static void output_lost(struct run_ctx *c, const char *output, int err, bool *lost)
{
	json_t *rec;
	int e;

	if (*lost)
		return;
	*lost = true;
	if (!c->stderr_lost)
		sts_err("%s: write failed: %s; nothing more is written there, the policing goes "
			"on%s",
			output, strerror(err),
			c->opts->evidence ? " and the evidence log keeps every record" : "");
	if (!c->opts->evidence || c->evidence_err)
		return;
	rec = json_pack("{s:s, s:s}", "output", output, "error", strerror(err));
	e = evidence_append(c->opts->evidence, "output_lost", rec);
	json_decref(rec);
	if (e)
		evidence_failed(c, e);
}

/* A sentence for the person watching stderr, unless quiet: "stsd run: DENIED: ...". */
static void relay_flush(struct relay *r);

/*
 * One line of stsd's own (a message, a JSON record) onto stdout or stderr: through the relay
 * that carries CMD's output there, so that a reader who stops reading never blocks the monitor
 * (which would stop recording and answering CMD's refusals). Past RELAY_CAP waiting bytes the
 * line is dropped and counted (output_dropped_bytes); the evidence log has every record. False
 * when the relay is not set up: the caller writes it itself.
 */
static bool out_line(struct run_ctx *c, struct relay *r, const char *name, bool *lost,
		     const char *line, size_t n)
{
	if (!r->buf)
		return false;
	if (r->len + n > RELAY_CAP)
		relay_flush(r);
	if (r->len + n > RELAY_CAP || r->gone) {
		r->dropped += n;
	} else {
		memcpy(r->buf + r->len, line, n);
		r->len += n;
		relay_flush(r);
	}
	if (r->gone)
		output_lost(c, name, EPIPE, lost);
	return true;
}

static void say(struct run_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void say(struct run_ctx *c, const char *fmt, ...)
{
	char msg[2048], line[2200];
	va_list ap;
	int n;

	if (c->opts->quiet || c->stderr_lost)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	n = snprintf(line, sizeof(line), "%s: %s\n", sts_progname(), msg);
	if (n < 0)
		return;
	/* One piece: CMD shares this stderr, and a line must not be cut by its output. */
	if (out_line(c, &c->err_relay, "stderr", &c->stderr_lost, line,
		     (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1))
		return;
	if (fputs(line, stderr) < 0 || fflush(stderr))
		output_lost(c, "stderr", errno, &c->stderr_lost);
}

static void emit(struct run_ctx *c, const char *type, json_t *rec)
{
	FILE *log = c->opts->events;
	char *s;

	json_object_set_new(rec, "type", json_string(type));
	if (log && !c->events_lost) {
		s = json_dumps(rec, JSON_COMPACT | JSON_PRESERVE_ORDER);
		if (s && log == stdout) {
			size_t n = strlen(s);

			s[n] = '\n'; /* json_dumps's NUL: the line is written by length */
			if (out_line(c, &c->out_relay, c->opts->events_name ?: "stdout",
				     &c->events_lost, s, n + 1)) {
				free(s);
				goto out;
			}
			s[n] = '\0';
		}
		if (s && (fprintf(log, "%s\n", s) < 0 || fflush(log)))
			output_lost(c,
				    c->opts->events_name ? c->opts->events_name : "the JSON output",
				    errno, &c->events_lost);
		free(s);
	}
out:
	json_decref(rec);
}

static void to_evidence(struct run_ctx *c, const struct sts_event *ev, const json_t *extra)
{
	int err;

	if (!c->opts->evidence || c->evidence_err)
		return;
	err = evidence_event(c->opts->evidence, ev, extra);
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
 * The plaintext's SHA-256 for the records. A plaintext larger than the kernel's copy is refused
 * anyway; it is read whole from the writer for its hash. Returns how many bytes were hashed.
 */
static size_t payload_hash(const struct sts_payload_event *pe, char hex[2 * STS_SHA256_LEN + 1])
{
	uint8_t sha[STS_SHA256_LEN];
	size_t hashed = pe->copied;
	char *whole = NULL;

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
	free(whole);
	return hashed;
}

/*
 * Is this payload one to send? First what holds for any payload: the bytes checked are the
 * bytes sent (no other thread or process can rewrite them), all of them are in the kernel's
 * copy, and they are a request of the documented shape within the policy's report-max. Then
 * the product's rules, the caller's payload_check. Returns the rule: STS_RULE_PAYLOAD_OK, or
 * the refusal's rule with its reason.
 */
static __u32 payload_verdict(const struct run_ctx *c, const struct sts_payload_event *pe,
			     json_t **detail, char *reason, size_t rl)
{
	const struct police_opts *o = c->opts;
	const struct police_payload p = {
		.buf = (const char *)pe->data,
		.len = pe->len,
		.approved = c->n_approved,
		.pol = &c->pol,
		.detail = detail,
	};
	__u32 f = pe->flags;

	if (f & (STS_PAYLOAD_SHARED_MM | STS_PAYLOAD_SHARED_MAP | STS_PAYLOAD_NO_VMA)) {
		snprintf(reason, rl, "%s%s%s",
			 f & STS_PAYLOAD_SHARED_MM ? "other threads share the memory; " : "",
			 f & STS_PAYLOAD_SHARED_MAP ? "the buffer is in a shared mapping; " : "",
			 f & STS_PAYLOAD_NO_VMA ? "the buffer is not mapped memory" : "");
		return STS_RULE_PAYLOAD_SHARED;
	}
	if (pe->copied < pe->len) {
		snprintf(reason, rl, "%llu bytes of plaintext, far more than a report",
			 (unsigned long long)pe->len);
		return STS_RULE_PAYLOAD_SCHEMA;
	}
	if (sts_request_check(p.buf, p.len, c->pol.report_max, reason, rl))
		return STS_RULE_PAYLOAD_SCHEMA;
	if (o->payload_check(o->payload_ctx, &p, reason, rl))
		return STS_RULE_PAYLOAD_SCHEMA;
	return STS_RULE_PAYLOAD_OK;
}

/*
 * The records of a payload decision: the sentence, the evidence, the JSON line. A refusal keeps
 * only the SHA-256 and length of what the writer tried to send, and why it was refused.
 */
static void payload_record(struct run_ctx *c, const struct sts_event *ev,
			   const struct sts_payload_event *pe, const char *hex, size_t hashed,
			   const char *reason, json_t *approval)
{
	bool ok = ev->verdict == STS_VERDICT_ALLOW;
	json_t *rec, *extra;
	char line[900];

	rec = event_to_json(ev);
	json_object_set_new(rec, "len", json_integer(pe->len));
	json_object_set_new(rec, "sha256", json_string(hex));
	if (hashed != pe->len)
		json_object_set_new(rec, "sha256_of_first_bytes", json_integer(hashed));
	if (!ok)
		json_object_set_new(rec, "reason", json_string(reason));
	if (!ok || c->opts->show_allowed) {
		event_explain(ev, line, sizeof(line));
		say(c, "%s (%llu bytes, sha256 %s)%s%s", line, (unsigned long long)pe->len, hex,
		    ok ? "" : ": ", reason);
	}
	extra = json_pack("{s:I, s:s}", "bytes", (json_int_t)pe->len, "sha256", hex);
	if (!ok)
		json_object_set_new(extra, "reason", json_string(reason));
	if (ok && approval) {
		json_object_set(extra, "approval", approval);
		json_object_set(rec, "approval", approval);
	}
	to_evidence(c, ev, extra);
	json_decref(extra);
	emit(c, "event", rec);
}

/*
 * The payload check (G4), monitor side: the writer is stopped in SSL_write; its plaintext, as
 * copied in the kernel at the call, is checked. Pass: egress credit for exactly these bytes,
 * then SIGCONT. Fail: SIGKILL.
 */
static void payload_decide(struct run_ctx *c, const struct sts_payload_event *pe)
{
	char reason[256] = "", hex[2 * STS_SHA256_LEN + 1];
	struct sts_event ev = pe->ev;
	json_t *approval = NULL;
	uint64_t used = 0;
	size_t hashed;
	bool ok;

	hashed = payload_hash(pe, hex);
	ev.rule = payload_verdict(c, pe, &approval, reason, sizeof(reason));
	if (ev.rule == STS_RULE_PAYLOAD_OK && enforcer_grant(c->enf, pe->len, &used)) {
		ev.rule = STS_RULE_PAYLOAD_SCHEMA;
		snprintf(reason, sizeof(reason), "could not grant egress credit: %s",
			 strerror(errno));
	}
	ok = ev.rule == STS_RULE_PAYLOAD_OK;
	if (ok)
		c->n_approved++;
	ev.verdict = ok ? STS_VERDICT_ALLOW : STS_VERDICT_DENY;
	/*
	 * A signal that could not be sent is said, never recorded as done: a refused writer that
	 * cannot be killed stays stopped in SSL_write without egress credit (the gate drops what
	 * it would send), and the record says so.
	 */
	if (kill(pe->ev.tgid, ok ? SIGCONT : SIGKILL) < 0) {
		int e = errno;

		say(c, "payload check: %s to pid %u failed: %s", ok ? "SIGCONT" : "SIGKILL",
		    pe->ev.tgid, strerror(e));
		if (!ok) {
			size_t n = strlen(reason);

			snprintf(reason + n, sizeof(reason) - n,
				 " (the writer could not be killed: %s)", strerror(e));
		}
	}
	count(c, ev.verdict);
	/* What the connection has used of tls-allowance up to this request (its handshake). */
	if (ok && approval)
		json_object_set_new(approval, "tls_allowance_used_before",
				    json_integer((json_int_t)used));
	payload_record(c, &ev, pe, hex, hashed, reason, approval);
	json_decref(approval);
}

/* The permission bits (rwx) that apply to uid, gid on a file of this mode and owner. */
static unsigned int dac_bits(const struct stat *st, uid_t uid, gid_t gid)
{
	if (st->st_uid == uid)
		return (st->st_mode >> 6) & 7;
	if (st->st_gid == gid)
		return (st->st_mode >> 3) & 7;
	return st->st_mode & 7;
}

/*
 * Was an open or exec CMD was refused (EACCES or EPERM, seen by the fexit program or the open
 * tracepoints where Landlock enforces) refused by the file's own permissions rather than by
 * the policy? Those checks come first in the kernel, so Landlock never saw such a call: it is
 * no policy denial. Judged from the mode bits as CMD's uid and gid (CMD has no supplementary
 * groups, no capabilities): search on every directory of the path, then read, write or
 * execute on the file, or write on its directory when it did not exist. ACLs are not read. A
 * relative path is CMD's working directory's (/proc/PID/cwd while it lives, else state-dir).
 */
static bool dac_refused(const struct run_ctx *c, const struct sts_event *ev)
{
	uid_t uid = c->spec.drop ? c->spec.uid : getuid();
	gid_t gid = c->spec.drop ? c->spec.gid : getgid();
	bool exec = ev->type == STS_EV_EXEC, write = ev->file.fmode & 0x2;
	char path[PATH_MAX + 64], *slash;
	struct stat st;
	int n;

	if (uid == 0 || !ev->file.result || ev->verdict != STS_VERDICT_DENY ||
	    (ev->type != STS_EV_FILE_OPEN && ev->type != STS_EV_EXEC))
		return false;
	if (ev->file.path[0] == '/')
		n = snprintf(path, sizeof(path), "%s", ev->file.path);
	else if (c->pid > 0 && kill(c->pid, 0) == 0)
		n = snprintf(path, sizeof(path), "/proc/%d/cwd/%s", (int)c->pid, ev->file.path);
	else
		n = snprintf(path, sizeof(path), "%s/%s", c->pol.state_dir, ev->file.path);
	if (n < 0 || (size_t)n >= sizeof(path))
		return false;
	/* Search permission on each directory of the path. */
	for (slash = strchr(path + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		if (stat(path, &st) == 0 && S_ISDIR(st.st_mode) && !(dac_bits(&st, uid, gid) & 1)) {
			*slash = '/';
			return true;
		}
		*slash = '/';
	}
	if (stat(path, &st) == 0)
		return !(dac_bits(&st, uid, gid) & (exec ? 1 : write ? 2 : 4));
	/* Not there: a creation, refused by its directory's write permission? */
	slash = strrchr(path, '/');
	if (!write || !slash || slash == path)
		return false;
	*slash = '\0';
	return stat(path, &st) == 0 && !(dac_bits(&st, uid, gid) & 2);
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

	if (enforcer_landlock_record(c->enf)[0] && dac_refused(c, ev)) {
		json_t *extra = json_pack("{s:s}", "by", "dac"), *rec;

		/*
		 * Recorded, as an attempt an auditor may want to see, but said to be the file's
		 * permissions' refusal, not the policy's: not counted as a denial.
		 */
		to_evidence(c, ev, extra);
		json_decref(extra);
		event_explain(ev, line, sizeof(line));
		say(c, "%s (refused by the file's permissions, before the policy)", line);
		rec = event_to_json(ev);
		json_object_set_new(rec, "by", json_string("dac"));
		emit(c, "event", rec);
		return;
	}
	count(c, ev->verdict);
	if (ev->verdict == STS_VERDICT_OBSERVED && ev->would_verdict == STS_VERDICT_DENY)
		c->n_would_deny++;
	/* As in enforce mode: what would pass is said only with --allowed. */
	if ((ev->verdict != STS_VERDICT_ALLOW && ev->would_verdict != STS_VERDICT_ALLOW) ||
	    c->opts->show_allowed) {
		event_explain(ev, line, sizeof(line));
		say(c, "%s", line);
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

/* Hand the seccomp listener to the monitor (SCM_RIGHTS): it answers the filter's refusals. */
static int send_fd(int sock, int fd)
{
	char c = 'n', cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { &c, 1 };
	struct msghdr mh = { .msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = cbuf,
			     .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);

	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(sock, &mh, 0) == 1 ? 0 : -errno;
}

/*
 * Nothing of the launcher's process state but what CMD needs: a session of its own without a
 * controlling terminal (no TIOCSTI into the operator's shell, no job-control signals), a host
 * name of its own (uname(2) names no device), no System V IPC of the launcher, and a fresh
 * session keyring (no key the launcher's session holds). Before the privileges go: the
 * namespaces need them.
 */
static int child_hygiene(int errfd)
{
	if (setsid() < 0) {
		dprintf(errfd, "new session: %s", strerror(errno));
		return -1;
	}
	if (unshare(CLONE_NEWUTS | CLONE_NEWIPC) < 0 || sethostname("localhost", 9) < 0 ||
	    setdomainname("(none)", 6) < 0) {
		dprintf(errfd, "new UTS and IPC namespaces: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* stdin from /dev/null (or the launcher's), stdout and stderr into the monitor's pipes. */
static int child_stdio(const struct child_spec *s, int errfd)
{
	/* Opened by the monitor: in the policed cgroup, BPF LSM would refuse the open. */
	if (!s->pass_stdin && dup2(s->null_fd, 0) != 0) {
		dprintf(errfd, "stdin from /dev/null: %s", strerror(errno));
		return -1;
	}
	if (dup2(s->out_fd, 1) != 1 || dup2(s->err_fd, 2) != 2) {
		dprintf(errfd, "stdout and stderr pipes: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * In the child: join the policed cgroup, leave the launcher's session and namespaces, drop
 * privileges, wait until the monitor has attached the per-process payload uprobes, confine
 * (Landlock, seccomp), exec. Never returns.
 */
static void child_exec(const struct child_spec *s, int errfd, int gofd)
{
	char go, why[512] = "";
	struct sandbox_spec sb = s->sandbox;
	int err, nfd = -1;

	/*
	 * No capability survives exec, even as root: an empty bounding set leaves root's exec
	 * nothing to grant (no_new_privs stops file capabilities), so CMD run as root still owns
	 * root's files but cannot override permissions, make devices, set the clock, or use any
	 * other capability. Dropped before the uid change, which still needs CAP_SETUID, and
	 * before joining the policed cgroup: libcap-ng reads /proc/self/status, which the policy
	 * does not allow.
	 */
	capng_clear(CAPNG_SELECT_BOTH);
	if (capng_apply(CAPNG_SELECT_BOUNDS)) {
		dprintf(errfd, "drop every capability from the bounding set: %s", strerror(errno));
		_exit(127);
	}
	err = sts_cgroup_join(s->cgroup, 0);
	if (err) {
		dprintf(errfd, "join cgroup %s: %s", s->cgroup, strerror(-err));
		_exit(127);
	}
	if (child_hygiene(errfd))
		_exit(127);
	if (s->drop && (setgroups(0, NULL) < 0 || setgid(s->gid) < 0 || setuid(s->uid) < 0)) {
		dprintf(errfd, "drop privileges to uid %u: %s", s->uid, strerror(errno));
		_exit(127);
	}
	/* As the new uid: the keyring is CMD's own, and empty. */
	if (syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, NULL) < 0) {
		dprintf(errfd, "fresh session keyring: %s", strerror(errno));
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
	/* The monitor ignores SIGPIPE (police_run); CMD gets the default, as from a shell. */
	signal(SIGPIPE, SIG_DFL);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		dprintf(errfd, "no_new_privs: %s", strerror(errno));
		_exit(127);
	}
	if (read(gofd, &go, 1) != 1)
		_exit(127); /* the monitor could not attach: never run unchecked */
	if (child_stdio(s, errfd))
		_exit(127);
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
	umask(077);
	if (chdir(s->cwd) < 0 && chdir("/") < 0) {
		dprintf(errfd, "chdir %s: %s", s->cwd, strerror(errno));
		_exit(127);
	}
	sb.self = getpid();
	if (sandbox_landlock(&sb, why, sizeof(why)) ||
	    sandbox_seccomp(&sb, &nfd, why, sizeof(why))) {
		dprintf(errfd, "%s", why);
		_exit(127);
	}
	if (nfd >= 0 && (send_fd(s->notify_sock, nfd) || close(nfd))) {
		dprintf(errfd, "hand the seccomp listener to the monitor: %s", strerror(errno));
		_exit(127);
	}
	execve(s->exe, s->argv, s->envp);
	dprintf(errfd, "exec %s: %s", s->exe,
		errno == EACCES && s->exec_why[0] ? s->exec_why : strerror(errno));
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

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Whom CMD runs as, for the access checks: its uid and gid, no supplementary groups. */
static struct sts_creds cmd_creds(const struct run_ctx *c)
{
	return (struct sts_creds){ .uid = c->spec.uid, .gid = c->spec.gid };
}

/*
 * CMD's environment: PATH, LANG=C.UTF-8, and the variables the policy names with env lines,
 * from stsd's own environment. Nothing else of the launcher's: a token, a proxy or a home
 * directory in it is not CMD's to read.
 */
static void build_env(struct run_ctx *c)
{
	size_t i, n = 0;
	const char *v;

	c->env[n++] = "PATH=/usr/local/bin:/usr/bin:/bin";
	c->env[n++] = "LANG=C.UTF-8";
	/* The activation id the payload check demands: the monitor's, not CMD's to choose. */
	if (c->opts->aid) {
		snprintf(c->aid_env, sizeof(c->aid_env), "STS_AID=%s", c->opts->aid);
		c->env[n++] = c->aid_env;
	}
	for (i = 0; i < c->pol.n_env && n < ARRAY_SIZE(c->env) - 1; i++) {
		v = getenv(c->pol.env[i]);
		/* The name=value string of stsd's own environment: it outlives the run. */
		if (v)
			c->env[n++] = (char *)v - strlen(c->pol.env[i]) - 1;
	}
	c->env[n] = NULL;
}

/* path as it is on disk: realpath, or for a file not made yet its directory's and its name. */
static bool resolve_path(const char *path, char *out, size_t len)
{
	char buf[PATH_MAX], dir[PATH_MAX], *slash;

	if (realpath(path, buf))
		return snprintf(out, len, "%s", buf) < (int)len;
	if (errno != ENOENT || snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
		return false;
	slash = strrchr(dir, '/');
	if (slash == dir) {
		dir[1] = '\0';
	} else if (slash) {
		*slash = '\0';
	} else {
		dir[0] = '.';
		dir[1] = '\0';
	}
	if (!realpath(dir, buf))
		return false;
	slash = strrchr(path, '/');
	return snprintf(out, len, "%s/%s", strcmp(buf, "/") ? buf : "", slash ? slash + 1 : path) <
	       (int)len;
}

/*
 * No policy rule may reach stsd's own files (o->protect): a file rule naming one (same inode),
 * or a directory rule (allow-read-dir, state-dir) containing one at any depth (Landlock's
 * directory rules are recursive).
 */
static int check_protected(struct run_ctx *c, const struct police_opts *o)
{
	char prot[PATH_MAX], dir[PATH_MAX];
	const struct sts_file_rule *r;
	struct stat st;
	size_t i, j, n;
	bool exists;

	for (i = 0; i < ARRAY_SIZE(o->protect) && o->protect[i]; i++) {
		if (!resolve_path(o->protect[i], prot, sizeof(prot)))
			continue; /* its directory does not exist: nothing to reach */
		exists = stat(prot, &st) == 0;
		for (j = 0; j < c->pol.n_files; j++) {
			r = &c->pol.files[j];
			if (r->kind == STS_FILE_READ || r->kind == STS_FILE_EXEC) {
				if (!exists || st.st_dev != r->dev || st.st_ino != r->ino)
					continue;
			} else {
				if (!realpath(r->path, dir))
					continue;
				n = strlen(dir);
				if (strcmp(dir, "/") &&
				    (strncmp(prot, dir, n) || (prot[n] != '/' && prot[n] != '\0')))
					continue;
			}
			sts_err("%s:%d: %s would let the policed command reach stsd's own %s: a "
				"policy may not grant the evidence log and its keys, stsd.conf and "
				"its state dir (the consent record, the device key) or itself",
				c->policy_path, r->line, r->path, prot);
			return -EINVAL;
		}
	}
	return 0;
}

/* What runs, as whom, under which policy: CMD resolved, the user looked up, the policy loaded. */
static int police_prepare(struct run_ctx *c)
{
	const struct police_opts *o = c->opts;
	const char *user = o->user ? o->user : "nobody";
	struct sts_creds creds;
	struct passwd *pw;
	char perr[512];
	int err;

	err = resolve_cmd(o->argv[0], c->exe, sizeof(c->exe));
	if (err) {
		/* Not even root may execute it (no x bit, a noexec mount): say which. */
		creds = (struct sts_creds){ .uid = 0 };
		if (err != -EACCES ||
		    !sts_access_check(o->argv[0], X_OK, &creds, perr, sizeof(perr)))
			snprintf(perr, sizeof(perr), "%s", strerror(-err));
		sts_err("%s: %s", o->argv[0], perr);
		return err;
	}
	c->spec.exe = c->exe;
	c->spec.argv = (char **)o->argv;
	c->spec.channel_fd = o->channel ? o->channel->child_fd : -1;
	if (strcmp(user, "root") != 0) {
		pw = getpwnam(user);
		if (!pw) {
			sts_err("--user %s: no such user", user);
			return -ENOENT;
		}
		c->spec.drop = true;
		c->spec.uid = pw->pw_uid;
		c->spec.gid = pw->pw_gid;
	}
	/* Said if the exec fails; worked out here, as the child's name lookups would be policed. */
	creds = cmd_creds(c);
	sts_access_check(c->exe, X_OK, &creds, c->spec.exec_why, sizeof(c->spec.exec_why));
	err = sts_policy_load(c->policy_path, true, &c->pol, perr, sizeof(perr));
	if (err) {
		sts_err("%s", perr);
		return err;
	}
	err = check_protected(c, o);
	if (err)
		return err;
	c->have_policy = true;
	c->spec.envp = c->env;
	build_env(c);
	c->spec.pass_stdin = o->pass_stdin;
	c->spec.cwd = c->pol.state_dir;
	sandbox_probe(&c->caps);
	c->spec.sandbox = (struct sandbox_spec){ .pol = &c->pol,
						 .exe = c->exe,
						 .landlock_abi = c->caps.landlock_abi,
						 .notify = c->caps.seccomp_notify };
	/* --observe is the dry run: files and exec recorded, not refused by Landlock either. */
	c->eo.landlock_fs = c->caps.landlock_abi > 0 && !o->observe;
	c->eo.landlock_net = c->caps.landlock_abi >= 4;
	c->eo.landlock_abi = c->caps.landlock_abi;
	if (c->pol.state_dir_created)
		say(c, "created the policy's state-dir %s (mode 0700)", c->pol.state_dir);
	return 0;
}

/*
 * The state dir is the one place CMD may write: it must own it once unprivileged, and reach it
 * (a parent of mode 0700 would keep it out: said, not refused, CMD may never write).
 */
static int hand_over_state_dir(struct run_ctx *c)
{
	struct sts_creds creds = cmd_creds(c);
	char why[512];
	int err;

	if (!c->spec.drop)
		return 0;
	if (chown(c->pol.state_dir, c->spec.uid, c->spec.gid) < 0) {
		err = -errno;
		sts_err("chown %s to uid %u: %s", c->pol.state_dir, c->spec.uid, strerror(-err));
		return err;
	}
	if (sts_access_check(c->pol.state_dir, W_OK | X_OK, &creds, why, sizeof(why)))
		sts_err("state-dir %s: %s", c->pol.state_dir, why);
	return 0;
}

/*
 * The policed cgroup, <parent>/run-PID, once what dead monitors left under parent is swept;
 * and the cgroup the device-wide rules attach to.
 */
static int setup_cgroup(struct run_ctx *c)
{
	const char *parent = c->opts->cgroup_parent, *device_cg = c->opts->device_cgroup;
	char root[PATH_MAX / 2], parentbuf[PATH_MAX];
	int err;

	err = sts_cgroup2_root(root, sizeof(root));
	if (err) {
		sts_err("find or mount cgroup v2: %s", strerror(-err));
		return err;
	}
	if (!parent) {
		snprintf(parentbuf, sizeof(parentbuf), "%s/stsguard", root);
		parent = parentbuf;
	}
	err = sts_mkdir_p(parent, 0755);
	if (err) {
		sts_err("create cgroup %s: %s", parent, strerror(-err));
		return err;
	}
	police_sweep_stale(parent);
	if (snprintf(c->cgpath, sizeof(c->cgpath), "%s/run-%d", parent, (int)getpid()) >=
	    (int)sizeof(c->cgpath)) {
		sts_err("cgroup path too long under %s", parent);
		return -ENAMETOOLONG;
	}
	if (mkdir(c->cgpath, 0755) < 0) {
		err = -errno;
		sts_err("create cgroup %s: %s", c->cgpath, strerror(-err));
		return err;
	}
	c->cg_made = true;
	c->spec.cgroup = c->cgpath;
	c->eo.policed_cgroup_fd = open(c->cgpath, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (c->eo.policed_cgroup_fd < 0) {
		err = -errno;
		sts_err("open cgroup %s: %s", c->cgpath, strerror(-err));
		return err;
	}
	err = sts_cgroup_id(c->eo.policed_cgroup_fd, &c->eo.policed_cgid);
	if (err) {
		sts_err("open cgroup %s: %s", c->cgpath, strerror(-err));
		return err;
	}
	if (!device_cg)
		device_cg = root;
	if (strcmp(device_cg, "none") != 0) {
		c->eo.device_cgroup_fd = open(device_cg, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (c->eo.device_cgroup_fd < 0) {
			err = -errno;
			sts_err("open device cgroup %s: %s", device_cg, strerror(-err));
			return err;
		}
	}
	return 0;
}

static json_t *strs(const char *first, ...)
{
	json_t *a = json_array();
	const char *v;
	va_list ap;

	va_start(ap, first);
	for (v = first; v; v = va_arg(ap, const char *))
		if (*v)
			json_array_append_new(a, json_string(v));
	va_end(ap);
	return a;
}

static void guarantee(json_t *arr, const char *what, bool enforced, json_t *mechanisms)
{
	json_array_append_new(arr, json_pack("{s:s, s:s, s:o}", "guarantee", what, "mode",
					     enforced ? "enforce" : "observe", "mechanisms",
					     mechanisms));
}

/*
 * The strongest mechanism the kernel offers for each guarantee, as the G7 record states it
 * and `stsctl report` prints it. *observed_only says whether some guarantee is only recorded.
 */
static json_t *guarantees(const struct run_ctx *c, bool *observed_only)
{
	bool lsm = enforcer_has_lsm(c->enf), ll_fs = c->spec.sandbox.landlock_fs;
	int abi = c->caps.landlock_abi;
	const char *bpflsm = lsm ? "BPF LSM" : "";
	char llfs[48] = "", llnet[40] = "", llscope[48] = "";
	json_t *g = json_array();
	bool files = lsm || ll_fs, unix_ok = !c->pol.n_unix || lsm;

	if (ll_fs)
		snprintf(llfs, sizeof(llfs), "Landlock ABI %d%s", abi,
			 !strcmp(enforcer_landlock_record(c->enf), "audit") ? " (refusals: audit)"
									    : "");
	if (c->spec.sandbox.landlock_net)
		snprintf(llnet, sizeof(llnet), "Landlock ABI %d TCP ports", abi);
	if (abi >= 6)
		snprintf(llscope, sizeof(llscope), "Landlock ABI %d scope", abi);
	guarantee(g, "network destinations (G1)", true, strs("cgroup BPF", llnet, NULL));
	guarantee(g, "socket kinds, no listening (G1)", true, strs("seccomp", bpflsm, NULL));
	guarantee(g, "AF_UNIX peers (G1)", unix_ok,
		  strs(c->pol.n_unix ? "" : "seccomp (no AF_UNIX socket at all)", bpflsm,
		       unix_ok ? "" : "raw_tp/sys_enter (recorded only)", llscope, NULL));
	guarantee(g, "files (G2)", files,
		  strs(bpflsm, llfs, files ? "" : "tracepoints (recorded only)", NULL));
	guarantee(g, "hard links, mounts (G2)", true, strs("seccomp", bpflsm, NULL));
	guarantee(g, "exec (G3)", files,
		  strs(bpflsm, llfs, files ? "" : "tracepoints (recorded only)", NULL));
	guarantee(g, "payload check (G4)", true, strs("uprobes", NULL));
	guarantee(g, "fork, threads, ptrace, other memory (G4)", true,
		  strs("seccomp", bpflsm, NULL));
	guarantee(g, "egress volume (G5)", true, strs("cgroup BPF", NULL));
	guarantee(g, "signals only to itself, bpf() (G7)", true,
		  strs("seccomp", bpflsm, llscope, NULL));
	guarantee(g,
		  "identifiers without a file: ioctl, host name, environment, terminal, "
		  "keyrings",
		  true,
		  strs("seccomp", "UTS namespace", "own session", "minimal environment",
		       "session keyring", NULL));
	*observed_only = !files || !unix_ok;
	return g;
}

/* How the seccomp filter and Landlock are set up, for the G7 record. */
static json_t *containment(const struct run_ctx *c)
{
	json_t *ioctls = json_array(), *refused = json_array(), *sockopts = json_array();
	size_t i;

	for (i = 0; i < sandbox_n_ioctls; i++)
		json_array_append_new(ioctls, json_string(sandbox_ioctls[i].name));
	for (i = 0; i < sandbox_n_sockopts; i++)
		json_array_append_new(sockopts, json_string(sandbox_sockopts[i].text));
	for (i = 0; sts_policy_refusable[i]; i++)
		if (!sts_policy_allows_syscall(&c->pol, sts_policy_refusable[i]))
			json_array_append_new(refused, json_string(sts_policy_refusable[i]));
	json_t *r = json_pack("{s:i, s:b, s:b, s:s, s:o, s:o, s:o, s:s}", "landlock_abi",
			      c->caps.landlock_abi, "landlock_files", c->spec.sandbox.landlock_fs,
			      "landlock_tcp", c->spec.sandbox.landlock_net, "seccomp_refusals",
			      c->caps.seccomp_notify
				      ? "refused with EPERM and recorded (user notification)"
				      : "refused with EPERM, not recorded (no user notification)",
			      "ioctl_allowed", ioctls, "sockopts_allowed", sockopts,
			      "syscalls_refused", refused, "hostname", "localhost");
	const char *how = c->enf ? enforcer_landlock_record(c->enf) : "";

	/* How Landlock's file refusals reach this log: "landlock+audit", "landlock+fexit", ... */
	if (r && c->spec.sandbox.landlock_fs && how[0]) {
		char mech[32];

		snprintf(mech, sizeof(mech), "landlock+%s", how);
		json_object_set_new(r, "landlock_refusals_recorded_by", json_string(mech));
		if (!strcmp(how, "audit"))
			json_object_set_new(r, "audit", json_string(enforcer_audit_state(c->enf)));
	}
	return r;
}

/* Load and attach the BPF enforcement, then the start record: what is enforced, and how (G7). */
static int start_enforcement(struct run_ctx *c)
{
	bool enforcing;
	char why[2048]; /* a refusal says how to get BPF LSM: the whole boot parameter */
	json_t *rec;
	int err;

	c->eo.extra_exec = c->exe;
	c->eo.tls_host = c->opts->tls_host;
	err = enforcer_start(&c->pol, &c->eo, on_event, c, &c->enf, why, sizeof(why));
	if (err) {
		sts_err("%s", why);
		emit(c, "refused",
		     json_pack("{s:s, s:s}", "reason", why, "policy", c->policy_path));
		return err;
	}
	enforcing = enforcer_enforcing(c->enf);
	c->spec.sandbox.landlock_fs = c->eo.landlock_fs && !enforcer_has_lsm(c->enf);
	c->spec.sandbox.landlock_net = enforcer_records_landlock_net(c->enf);
	rec = enforcer_describe(c->enf, &c->pol);
	{
		bool observed_only;

		json_object_set_new(rec, "guarantees", guarantees(c, &observed_only));
		json_object_set_new(rec, "containment", containment(c));
		if (observed_only && !c->eo.observe) {
			snprintf(why, sizeof(why),
				 "AF_UNIX peers (allow-unix) would only be recorded: only BPF LSM "
				 "decides them, and it is missing (%s); refusing to run (fail "
				 "closed); --observe runs anyway",
				 enforcer_lsm_error(c->enf));
			sts_err("%s", why);
			emit(c, "refused",
			     json_pack("{s:s, s:s}", "reason", why, "policy", c->policy_path));
			json_decref(rec);
			return -EPERM;
		}
		if (observed_only) {
			enforcing = false;
			json_object_set_new(rec, "mode", json_string("observe"));
		}
	}
	json_object_set_new(rec, "cgroup", json_string(c->cgpath));
	json_object_set_new(rec, "cgroup_id", json_integer(c->eo.policed_cgid));
	json_object_set_new(rec, "command", json_string(c->exe));
	say(c, "policing %s in %s, %s mode, policy %s", c->exe, c->cgpath,
	    enforcing ? "enforce" : "OBSERVE", c->policy_path);
	if (!enforcing)
		say(c,
		    "observe mode: what BPF LSM would decide is only recorded (file opens and "
		    "execs through tracepoints, which io_uring could bypass, but the seccomp "
		    "filter refuses io_uring), not stopped; network rules and the seccomp filter "
		    "are enforced. Each record says what enforce mode would do "
		    "(\"OBSERVED, would deny\"); what it would allow is printed only with "
		    "--allowed");
	if (c->opts->evidence) {
		err = evidence_start(c->opts->evidence, c->eo.observe ? "observe" : "enforce", rec);
		if (err) {
			sts_err("evidence log: %s", strerror(-err));
			json_decref(rec);
			return err;
		}
	}
	/* Outputs closed before the run began are lost from its first record on. */
	if (c->opts->stderr_closed)
		output_lost(c, "stderr", EBADF, &c->stderr_lost);
	if (c->opts->events_closed)
		output_lost(c, c->opts->events_name, EBADF, &c->events_lost);
	emit(c, "start", rec);
	return 0;
}

/*
 * Fork CMD; the child joins the cgroup, drops privileges and waits for the go (child_exec).
 * SIGCHLD and the termination signals arrive through a signalfd, next to the events. They stay
 * blocked when police_run() returns: a signal pending then does not kill stsd before its caller
 * has closed the evidence log.
 */
static int spawn_child(struct run_ctx *c)
{
	sigset_t mask, oldmask;
	int err;

	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, &oldmask);
	c->sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (c->sfd < 0 || pipe2(c->errpipe, O_CLOEXEC) < 0 || pipe2(c->gopipe, O_CLOEXEC) < 0 ||
	    pipe2(c->outpipe, O_CLOEXEC) < 0 || pipe2(c->errpipe2, O_CLOEXEC) < 0 ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, c->notifysock) < 0) {
		err = -errno;
		sts_err("signalfd/pipe: %s", strerror(-err));
		return err;
	}
	fflush(NULL);
	c->spec.monitor = getpid();
	c->spec.null_fd = c->null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (c->null_fd < 0) {
		err = -errno;
		sts_err("open /dev/null: %s", strerror(-err));
		return err;
	}
	c->spec.out_fd = c->outpipe[1];
	c->spec.err_fd = c->errpipe2[1];
	c->spec.notify_sock = c->notifysock[1];
	c->spec.sandbox.landlock_fs = c->eo.landlock_fs && !enforcer_has_lsm(c->enf);
	c->pid = fork();
	if (c->pid < 0) {
		err = -errno;
		sts_err("fork: %s", strerror(-err));
		return err;
	}
	if (c->pid == 0) {
		sigprocmask(SIG_SETMASK, &oldmask, NULL);
		close(c->errpipe[0]);
		close(c->gopipe[1]);
		close(c->outpipe[0]);
		close(c->errpipe2[0]);
		close(c->notifysock[0]);
		child_exec(&c->spec, c->errpipe[1], c->gopipe[0]);
	}
	close_fd(&c->errpipe[1]);
	close_fd(&c->gopipe[0]);
	close_fd(&c->outpipe[1]);
	close_fd(&c->errpipe2[1]);
	close_fd(&c->notifysock[1]);
	fcntl(c->outpipe[0], F_SETFL, O_NONBLOCK);
	fcntl(c->errpipe2[0], F_SETFL, O_NONBLOCK);
	return 0;
}

/* The seccomp listener from the child, or -1 if it failed before (its errpipe says why). */
static int recv_notify_fd(int sock)
{
	char c, cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { &c, 1 };
	struct msghdr mh = { .msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = cbuf,
			     .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm;
	int fd = -1;

	if (recvmsg(sock, &mh, MSG_CMSG_CLOEXEC) != 1)
		return -1;
	cm = CMSG_FIRSTHDR(&mh);
	if (cm && cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
		memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

/*
 * Attach the child's payload uprobes (they follow one process: only now that it exists), then
 * give it the go. If they cannot be attached it is killed: CMD never runs unchecked. Its exit
 * is then reaped by the event loop like any other.
 */
static void release_child(struct run_ctx *c)
{
	char why[512], childerr[512];
	ssize_t n;

	/* Before it runs: its Landlock domain's records name it as the domain's creator. */
	enforcer_audit_follow(c->enf, c->pid, c->spec.drop ? c->spec.uid : getuid());
	if (enforcer_attach_process(c->enf, c->pid, why, sizeof(why))) {
		sts_err("%s; not running %s (fail closed)", why, c->exe);
		kill(c->pid, SIGKILL);
	} else if (write(c->gopipe[1], "g", 1) != 1) {
		sts_err("start %s: %s", c->exe, strerror(errno));
		kill(c->pid, SIGKILL);
	}
	close_fd(&c->gopipe[1]);
	/* Sent just before exec; EOF if the child failed before (its errpipe says why). */
	if (c->spec.sandbox.notify)
		c->notify_fd = recv_notify_fd(c->notifysock[0]);
	close_fd(&c->notifysock[0]);
	/* Empty once the child has exec'd (the pipe is close-on-exec); else why it could not. */
	n = read(c->errpipe[0], childerr, sizeof(childerr) - 1);
	if (n > 0) {
		childerr[n] = '\0';
		sts_err("%s", childerr);
	}
}

/*
 * How long the event loop may sleep: until the evidence log's next checkpoint or the run's
 * timeout, whichever comes first (-1: no limit). Past the timeout the policed cgroup is killed.
 */
static int next_wakeup(struct run_ctx *c)
{
	const struct police_opts *o = c->opts;
	int64_t next_ms = -1, left;
	int err;

	if (o->evidence && !c->evidence_err) {
		err = evidence_tick(o->evidence, &next_ms);
		/* The real cause (ENOSPC, EROFS), not a generic EIO. */
		if (err < 0)
			evidence_failed(c, err);
	}
	if (o->timeout_s && !c->timed_out) {
		left = (c->started + o->timeout_s - time(NULL)) * 1000;
		if (left <= 0) {
			sts_err("%s still running after %d s: stopped", c->exe, o->timeout_s);
			c->timed_out = true;
			sts_cgroup_kill(c->cgpath);
		} else if (next_ms < 0 || left < next_ms) {
			next_ms = left;
		}
	}
	return next_ms > INT32_MAX ? INT32_MAX : (int)next_ms;
}

/*
 * The agent's requests on the privsep channel. Kernel events first: a payload check pending
 * for the agent is decided before the agent's next message is read.
 */
static void on_channel(struct run_ctx *c)
{
	const struct police_channel *ch = c->opts->channel;
	int err;

	enforcer_poll(c->enf, 0);
	err = ch->on_readable(ch->ctx);
	if (!err)
		return;
	c->channel_done = true;
	if (err < 0)
		sts_cgroup_kill(c->cgpath); /* unknown, out of order or malformed: the agent goes */
}

/* A signal for the monitor: SIGCHLD reaps CMD (true: it has exited); the others go to CMD. */
static bool on_signal(struct run_ctx *c)
{
	struct signalfd_siginfo si;

	if (read(c->sfd, &si, sizeof(si)) != sizeof(si))
		return false;
	if (si.ssi_signo != SIGCHLD) {
		kill(c->pid, si.ssi_signo);
		return false;
	}
	return waitpid(c->pid, &c->status, WNOHANG) == c->pid;
}

/* A refusal of the seccomp filter: recorded like the kernel's own denials, by "seccomp". */
static void on_notify(struct run_ctx *c)
{
	struct sts_event ev;
	char line[640];
	json_t *rec, *extra;
	int err;

	err = sandbox_notify_handle(c->notify_fd, c->eo.policed_cgid, &ev);
	if (err) {
		if (err < 0 && err != -EINTR) {
			sts_err("seccomp notification: %s", strerror(-err));
			close_fd(&c->notify_fd);
		}
		return;
	}
	count(c, ev.verdict);
	event_explain(&ev, line, sizeof(line));
	say(c, "%s (seccomp)", line);
	extra = json_pack("{s:s}", "by", "seccomp");
	to_evidence(c, &ev, extra);
	json_decref(extra);
	rec = event_to_json(&ev);
	json_object_set_new(rec, "by", json_string("seccomp"));
	emit(c, "event", rec);
}

/* A refusal of Landlock read from its audit record: recorded like BPF LSM's, by "landlock". */
static void on_landlock(const struct sts_event *ev, const char *blockers, void *ctx)
{
	struct run_ctx *c = ctx;
	char line[640];
	json_t *rec, *extra;

	count(c, ev->verdict);
	/* The evidence first: stsd's stderr may have a slow reader. */
	extra = json_pack("{s:s, s:s}", "by", "landlock", "blockers", blockers);
	to_evidence(c, ev, extra);
	json_decref(extra);
	event_explain(ev, line, sizeof(line));
	say(c, "%s (Landlock: %s)", line, blockers);
	rec = event_to_json(ev);
	json_object_set_new(rec, "by", json_string("landlock"));
	json_object_set_new(rec, "blockers", json_string(blockers));
	emit(c, "event", rec);
}

/*
 * stsd's stdout or stderr, written without blocking: a socket with MSG_DONTWAIT; a pipe, FIFO
 * or terminal opened anew through /proc with O_NONBLOCK (setting it on the inherited
 * descriptor would change it for every process sharing it, the launcher's shell too); a
 * regular file as it is (its writes do not wait for a reader).
 */
static int relay_init(struct relay *r, int to)
{
	char path[64];
	struct stat st;

	*r = (struct relay){ .to = to, .to_nb = -1 };
	r->buf = malloc(RELAY_CAP);
	if (!r->buf)
		return -ENOMEM;
	if (fstat(to, &st) < 0) {
		r->gone = true;
		return 0;
	}
	r->sock = S_ISSOCK(st.st_mode);
	if (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode)) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", to);
		r->to_nb = open(path, O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
		if (r->to_nb < 0) /* as before: never worse than a blocking write */
			sts_err("relay to fd %d without blocking: %s", to, strerror(errno));
		/*
		 * stsd's own descriptor becomes that one too, so that no other write of its
		 * (sts_err's, libbpf's messages) blocks either: what a stalled reader does not
		 * take is lost, never waited for. The launcher keeps its blocking one.
		 */
		else if (dup2(r->to_nb, to) < 0)
			sts_err("fd %d without blocking: %s", to, strerror(errno));
	}
	return 0;
}

static void relay_free(struct relay *r)
{
	close_fd(&r->to_nb);
	free(r->buf);
	r->buf = NULL;
}

/* Write what waits, as much as the reader takes now. */
static void relay_flush(struct relay *r)
{
	ssize_t w;

	while (r->len) {
		if (r->gone) {
			/* The reader is gone (EPIPE): dropped, as before, and now counted. */
			r->dropped += r->len;
			r->len = 0;
			return;
		}
		if (r->sock)
			w = send(r->to, r->buf, r->len, MSG_DONTWAIT | MSG_NOSIGNAL);
		else
			w = write(r->to_nb >= 0 ? r->to_nb : r->to, r->buf, r->len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN)
			return;
		if (w <= 0) {
			r->gone = true;
			continue;
		}
		memmove(r->buf, r->buf + w, r->len - (size_t)w);
		r->len -= (size_t)w;
	}
}

/* Read CMD's pipe into the buffer while it has room, then write what the reader takes. */
static void relay(int *from, struct relay *r)
{
	ssize_t n;

	while (*from >= 0 && r->len < RELAY_CAP) {
		n = read(*from, r->buf + r->len, RELAY_CAP - r->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0) {
			close_fd(from);
			break;
		}
		r->len += (size_t)n;
		relay_flush(r);
	}
	relay_flush(r);
}

/* poll() entries of one relay: CMD's pipe while there is room, stsd's output while it waits. */
static void relay_poll(int from, const struct relay *r, struct pollfd *in, struct pollfd *out)
{
	*in = (struct pollfd){ r->len < RELAY_CAP ? from : -1, POLLIN, 0 };
	*out = (struct pollfd){ r->len && !r->gone ? (r->to_nb >= 0 ? r->to_nb : r->to) : -1,
				POLLOUT, 0 };
}

/*
 * CMD has exited: the rest of its output, for as long as RELAY_LINGER_MS lets the readers take
 * it; what they leave is dropped and counted.
 */
static void relay_finish(struct run_ctx *c)
{
	struct relay *r[2] = { &c->out_relay, &c->err_relay };
	int *from[2] = { &c->outpipe[0], &c->errpipe2[0] };
	time_t until = time(NULL) + (RELAY_LINGER_MS + 999) / 1000;
	uint64_t before = r[0]->dropped + r[1]->dropped;
	struct pollfd p[4];
	char sink[16384];
	ssize_t n;
	int i;

	for (;;) {
		for (i = 0; i < 2; i++)
			relay(from[i], r[i]);
		if ((*from[0] < 0 && !r[0]->len) && (*from[1] < 0 && !r[1]->len))
			return;
		if (time(NULL) >= until)
			break;
		for (i = 0; i < 2; i++)
			relay_poll(*from[i], r[i], &p[2 * i], &p[2 * i + 1]);
		if (poll(p, 4, 200) < 0 && errno != EINTR)
			break;
	}
	for (i = 0; i < 2; i++) {
		r[i]->dropped += r[i]->len;
		r[i]->len = 0;
		while (*from[i] >= 0 && (n = read(*from[i], sink, sizeof(sink))) > 0)
			r[i]->dropped += (uint64_t)n;
		close_fd(from[i]);
	}
	if (r[0]->dropped + r[1]->dropped > before)
		sts_err("%s's output and stsd's not taken by stsd's reader within %d s: %llu bytes "
			"of stdout and %llu of stderr dropped",
			c->exe, RELAY_LINGER_MS / 1000, (unsigned long long)r[0]->dropped,
			(unsigned long long)r[1]->dropped);
}

/* Until CMD exits: the kernel's events, the seccomp refusals, CMD's output, the signals. */
static void event_loop(struct run_ctx *c)
{
	const struct police_channel *ch = c->opts->channel;

	for (;;) {
		struct pollfd pfd[9] = {
			{ enforcer_event_fd(c->enf), POLLIN, 0 },
			{ c->sfd, POLLIN, 0 },
			{ ch && !c->channel_done ? ch->fd : -1, POLLIN, 0 },
			{ c->notify_fd, POLLIN, 0 },
			{ c->outpipe[0], POLLIN, 0 },
			{ c->errpipe2[0], POLLIN, 0 },
			{ enforcer_audit_fd(c->enf), POLLIN, 0 },
		};

		relay_poll(c->outpipe[0], &c->out_relay, &pfd[4], &pfd[7]);
		relay_poll(c->errpipe2[0], &c->err_relay, &pfd[5], &pfd[8]);
		if (poll(pfd, 9, next_wakeup(c)) < 0) {
			if (errno == EINTR)
				continue;
			sts_err("poll: %s", strerror(errno));
			return;
		}
		if (pfd[0].revents)
			enforcer_poll(c->enf, 0);
		if (pfd[6].revents)
			enforcer_audit_read(c->enf, on_landlock, c);
		if (pfd[3].revents & POLLIN)
			on_notify(c);
		else if (pfd[3].revents)
			close_fd(&c->notify_fd); /* no process of the filter is left */
		if (pfd[4].revents || pfd[7].revents)
			relay(&c->outpipe[0], &c->out_relay);
		if (pfd[5].revents || pfd[8].revents)
			relay(&c->errpipe2[0], &c->err_relay);
		if (pfd[2].revents)
			on_channel(c);
		if ((pfd[1].revents & POLLIN) && on_signal(c)) {
			/* What CMD wrote before it exited: relay_finish, after the records. */
			return;
		}
	}
}

/* Until the policed cgroup's TCP sockets are gone, or seconds have passed. */
static void wait_sockets(struct run_ctx *c, int seconds)
{
	for (time_t until = time(NULL) + seconds;
	     enforcer_live_sockets(c->enf) > 0 && time(NULL) < until;)
		enforcer_poll(c->enf, 1000); /* woken by STS_EV_SOCKETS_GONE */
}

/*
 * After CMD: whatever it left behind in the cgroup goes with it. Its sockets may outlive it,
 * retransmitting what the egress gate refused: keep the gate until they are gone. A refused
 * connection aborts after its TCP user timeout (5 s, which the seccomp filter keeps the policed
 * code from lifting); an orphaned one, in any case, after tcp_orphan_retries probes (about two
 * minutes at most): the gate waits that long rather than let a retransmission out.
 */
static void drain(struct run_ctx *c)
{
	json_t *rec;
	int err;

	sts_cgroup_kill(c->cgpath);
	wait_sockets(c, 30);
	if (enforcer_live_sockets(c->enf) > 0) {
		say(c,
		    "%lld policed TCP sockets still open after 30 s (data the egress gate refused, "
		    "retransmitted): the gate stays until they are gone, at most 3 more minutes",
		    (long long)enforcer_live_sockets(c->enf));
		wait_sockets(c, 180);
	}
	/* Audit delivers Landlock's last records after CMD is gone: wait for them. */
	if (enforcer_audit_fd(c->enf) >= 0) {
		int err = enforcer_audit_flush(c->enf, on_landlock, c);

		if (err < 0)
			sts_err("Landlock's last audit records: %s; refusals may be missing from "
				"the log",
				strerror(-err));
	}
	if (enforcer_live_sockets(c->enf) > 0) {
		sts_err("%lld policed TCP sockets still open after 210 s; "
			"detaching the egress gate anyway",
			(long long)enforcer_live_sockets(c->enf));
		/* The auditor's to know: past this, those sockets' packets were not judged. */
		if (c->opts->evidence && !c->evidence_err) {
			rec = json_pack("{s:I}", "sockets",
					(json_int_t)enforcer_live_sockets(c->enf));
			err = evidence_append(c->opts->evidence, "egress_gate_detached", rec);
			json_decref(rec);
			if (err)
				evidence_failed(c, err);
		}
	}
	enforcer_poll(c->enf, 0);
}

/* CMD's exit status (128+N when killed by signal N); a run that lost evidence did not succeed. */
static int run_status(const struct run_ctx *c)
{
	int ret = WIFSIGNALED(c->status) ? 128 + WTERMSIG(c->status) : WEXITSTATUS(c->status);

	if (c->evidence_err && ret == STS_EXIT_OK)
		ret = STS_EXIT_ENFORCE;
	return ret;
}

/*
 * The run's end: the summary sentence, the evidence log's stop record, the JSON stop line.
 * Returns the exit status: ret, or STS_EXIT_ENFORCE when a success could not be logged.
 */
static int stop_record(struct run_ctx *c, int ret)
{
	uint64_t lost = enforcer_lost_events(c->enf);
	struct sts_budget b = { 0 };
	json_t *rec;
	int err;

	if (lost)
		sts_err("%llu kernel events were lost (ring buffer full)",
			(unsigned long long)lost);
	if (c->n_observed)
		say(c,
		    "%s exited with status %d; %lu denied, %lu allowed, %lu observed (%lu of them "
		    "enforce mode would deny), %llu lost events",
		    c->exe, ret, c->n_denied, c->n_allowed, c->n_observed, c->n_would_deny,
		    (unsigned long long)lost);
	else
		say(c, "%s exited with status %d; %lu denied, %lu allowed, %llu lost events",
		    c->exe, ret, c->n_denied, c->n_allowed, (unsigned long long)lost);
	enforcer_budget(c->enf, &b);
	/* The rest of the approved transmission's allowance use: its Finished, close_notify... */
	if (c->n_approved && c->opts->evidence && !c->evidence_err) {
		json_t *u = json_pack("{s:I, s:I}", "tls_allowance",
				      (json_int_t)c->pol.tls_allowance, "used_since_last_approval",
				      (json_int_t)(c->pol.tls_allowance > b.allowance
							   ? c->pol.tls_allowance - b.allowance
							   : 0));

		err = evidence_append(c->opts->evidence, "allowance_used", u);
		json_decref(u);
		if (err)
			evidence_failed(c, err);
	}
	if (c->opts->evidence) {
		err = evidence_stop(c->opts->evidence, lost, ret);
		if (err) {
			sts_err("evidence log: %s", strerror(-err));
			if (ret == STS_EXIT_OK)
				ret = STS_EXIT_ENFORCE;
		}
	}
	/* clang-format off */
	rec = json_pack("{s:i, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
			"status", ret,
			"lost_events", (json_int_t)lost,
			"denied", (json_int_t)c->n_denied,
			"allowed", (json_int_t)c->n_allowed,
			"observed", (json_int_t)c->n_observed,
			"would_deny", (json_int_t)c->n_would_deny,
			"egress_dropped_bytes", (json_int_t)b.dropped,
			"egress_credit_left", (json_int_t)b.credit,
			"tls_allowance_left", (json_int_t)b.allowance,
			"output_dropped_bytes",
			(json_int_t)(c->out_relay.dropped + c->err_relay.dropped));
	/* clang-format on */
	emit(c, "stop", rec);
	return ret;
}

/* What police_run() acquired, released in the reverse order. */
static void run_release(struct run_ctx *c)
{
	close_fd(&c->gopipe[1]);
	close_fd(&c->gopipe[0]);
	close_fd(&c->errpipe[1]);
	close_fd(&c->errpipe[0]);
	close_fd(&c->outpipe[0]);
	close_fd(&c->outpipe[1]);
	close_fd(&c->errpipe2[0]);
	close_fd(&c->errpipe2[1]);
	relay_free(&c->out_relay);
	relay_free(&c->err_relay);
	close_fd(&c->notifysock[0]);
	close_fd(&c->notifysock[1]);
	close_fd(&c->notify_fd);
	close_fd(&c->null_fd);
	close_fd(&c->sfd);
	enforcer_stop(c->enf);
	close_fd(&c->eo.device_cgroup_fd);
	close_fd(&c->eo.policed_cgroup_fd);
	if (c->cg_made) {
		/* The kill is asynchronous: give the members a moment to leave. */
		for (int i = 0; i < 100 && rmdir(c->cgpath) < 0 && errno == EBUSY; i++)
			usleep(10000);
	}
	if (c->have_policy)
		sts_policy_free(&c->pol);
}

int police_run(const struct police_opts *o)
{
	struct run_ctx c = {
		.opts = o,
		.policy_path = o->policy_path ? o->policy_path : STSD_DEFAULT_POLICY,
		.eo = { .policed_cgroup_fd = -1, .device_cgroup_fd = -1, .observe = o->observe },
		.sfd = -1,
		.errpipe = { -1, -1 },
		.gopipe = { -1, -1 },
		.notifysock = { -1, -1 },
		.notify_fd = -1,
		.null_fd = -1,
		.outpipe = { -1, -1 },
		.errpipe2 = { -1, -1 },
		.out_relay = { .to = -1, .to_nb = -1 },
		.err_relay = { .to = -1, .to_nb = -1 },
		.pid = -1,
		.started = time(NULL),
	};
	int ret = STS_EXIT_ENFORCE, err;

	if (geteuid() != 0) {
		sts_err("must run as root (loading BPF programs and creating cgroups need it)");
		goto cleanup;
	}
	/*
	 * A reader gone from stdout (`--json | head`) must not kill the monitor: CMD would run on
	 * unpoliced until the kernel noticed, the stop record would be missing, the cgroup left.
	 */
	signal(SIGPIPE, SIG_IGN);
	if (relay_init(&c.out_relay, STDOUT_FILENO) || relay_init(&c.err_relay, STDERR_FILENO)) {
		sts_err("output relay: %s", strerror(ENOMEM));
		goto cleanup;
	}
	err = police_prepare(&c);
	if (err) {
		ret = STS_EXIT_USAGE; /* the command, the user or the policy: nothing ran */
		goto cleanup;
	}
	/* From here on a failure means enforcement could not be established: CMD never runs. */
	err = hand_over_state_dir(&c);
	if (err)
		goto cleanup;
	err = setup_cgroup(&c);
	if (err)
		goto cleanup;
	err = start_enforcement(&c);
	if (err)
		goto cleanup;
	err = spawn_child(&c);
	if (err)
		goto cleanup;
	release_child(&c);
	event_loop(&c);
	drain(&c);
	relay_finish(&c);
	ret = stop_record(&c, run_status(&c));
cleanup:
	/* The stop (or refusal) record and the last messages, through the same relays. */
	close_fd(&c.outpipe[0]);
	close_fd(&c.errpipe2[0]);
	relay_finish(&c);
	run_release(&c);
	return ret;
}
