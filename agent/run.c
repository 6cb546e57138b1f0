// SPDX-License-Identifier: GPL-2.0-only
/*
 * stsd run [OPTIONS] -- CMD [ARGS]: police one command. The command runs in a fresh cgroup
 * under the BPF enforcement of the policy, as an unprivileged user, and every decision the
 * kernel takes about it is reported, as sentences on stderr and as JSON lines with --log/--json.
 */
#include "events.h"
#include "evidence.h"
#include "loader.h"
#include "stsd.h"
#include "cgroup.h"
#include "crypto.h"
#include "policy.h"
#include "request.h"
#include "util.h"

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
#include <unistd.h>

struct run_ctx {
	struct sts_enforcer *enf;
	size_t report_max; /* the policy's report-max: the largest request body */
	FILE *log; /* JSON lines (--events/--json), or NULL */
	struct evidence *evidence; /* the evidence log (--log), or NULL */
	const char *cgroup; /* killed when evidence cannot be written */
	int evidence_err;
	bool quiet; /* no sentences on stderr */
	bool show_allowed;
	unsigned long n_denied, n_allowed, n_observed;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: stsd run [OPTIONS] -- CMD [ARGS]...\n"
		"\n"
		"Run CMD inside a fresh policed cgroup, under the BPF enforcement of a policy, "
		"and\n"
		"report every decision the kernel takes about it. This is how a compliance team\n"
		"polices a vendor's telemetry binary. CMD itself is allowed to execute; "
		"everything\n"
		"else it reads, writes, executes or connects to must be in the policy.\n"
		"\n"
		"options:\n"
		"  --policy FILE        the policy (default " STSD_DEFAULT_POLICY ")\n"
		"  --observe            if BPF LSM is missing, observe files, exec and socket "
		"kinds\n"
		"                       through tracepoints instead of refusing to run; io_uring "
		"can\n"
		"                       bypass those tracepoints, and the output says so. Network\n"
		"                       rules stay enforced.\n"
		"  --user USER          run CMD as USER (default: nobody when stsd runs as root);\n"
		"                       'root' keeps root, to prove that the kernel rules bind "
		"even it\n"
		"  --log FILE           append every decision to this evidence log (hash-chained,\n"
		"                       signed checkpoints; see docs/evidence.md), e.g.\n"
		"                       /var/lib/stsguard/evidence.log; check it with stsctl "
		"verify\n"
		"  --log-key FILE       the key signing the log's checkpoints (default\n"
		"                       /var/lib/stsguard/log.key; created, with FILE.pub, if "
		"missing)\n"
		"  --seal-state FILE    seal the checkpoints forward-securely (stsctl seal-init)\n"
		"  --events FILE        append every record (start, events, stop) as plain JSON "
		"lines\n"
		"  --json               write those JSON lines to stdout\n"
		"  --allowed            also print allowed actions on stderr, not only denials\n"
		"  -q, --quiet          print nothing on stderr but errors\n"
		"  --device-cgroup DIR  attach the device-wide rules (deny-outside, legacy-deny) "
		"to\n"
		"                       this cgroup (default: the cgroup v2 root, i.e. every "
		"process)\n"
		"  --cgroup-parent DIR  create the policed cgroup under DIR (default: "
		"<root>/stsguard)\n"
		"  -h, --help           this help\n"
		"\n"
		"output: one line on stderr per denied (and, with --allowed, allowed) action, "
		"e.g.\n"
		"  stsd: DENIED: pid 42 (sts) tried to connect to 10.0.0.1:80/tcp: not a "
		"collector\n"
		"  endpoint of the policy\n"
		"JSON records: {\"type\":\"start\", kernel, mode, policy_sha256, hooks:[{hook, "
		"mode,\n"
		"program, tag}]}, {\"type\":\"event\", kind, verdict, rule, pid, comm, dest|path,\n"
		"explain}, {\"type\":\"stop\", status, lost_events, denied, allowed, observed}.\n"
		"\n"
		"exit status: CMD's exit status (128+N if it was killed by signal N); 2 on a "
		"usage\n"
		"error; 3 if enforcement could not be established (fail closed).\n");
}

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
	sts_err("run: evidence log write failed: %s; killing the policed command", strerror(-err));
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
	} else if (enforcer_grant(c->enf, pe->len)) {
		ev.rule = STS_RULE_PAYLOAD_SCHEMA;
		snprintf(reason, sizeof(reason), "could not grant egress credit: %s",
			 strerror(errno));
	} else {
		ok = true;
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
	const char *cgroup;
	const char *exe;
	char **argv;
	bool drop;
	uid_t uid;
	gid_t gid;
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
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		dprintf(errfd, "no_new_privs: %s", strerror(errno));
		_exit(127);
	}
	if (read(gofd, &go, 1) != 1)
		_exit(127); /* the monitor could not attach: never run unchecked */
	execv(s->exe, s->argv);
	dprintf(errfd, "exec %s: %s", s->exe, strerror(errno));
	_exit(127);
}

int cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "policy", required_argument, NULL, 'p' },
		{ "observe", no_argument, NULL, 'o' },
		{ "user", required_argument, NULL, 'u' },
		{ "log", required_argument, NULL, 'L' },
		{ "log-key", required_argument, NULL, 'K' },
		{ "seal-state", required_argument, NULL, 'S' },
		{ "events", required_argument, NULL, 'l' },
		{ "json", no_argument, NULL, 'j' },
		{ "allowed", no_argument, NULL, 'a' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "device-cgroup", required_argument, NULL, 'D' },
		{ "cgroup-parent", required_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *policy_path = STSD_DEFAULT_POLICY, *user = NULL, *log_path = NULL;
	const char *device_cg = NULL, *parent = NULL, *evlog_path = NULL, *seal_path = NULL;
	const char *evlog_key = EVLOG_DEFAULT_KEY;
	char root[PATH_MAX / 2], cgpath[PATH_MAX], parentbuf[PATH_MAX], exe[PATH_MAX];
	char why[512], perr[512], childerr[512];
	struct enforcer_opts eo = { .policed_cgroup_fd = -1, .device_cgroup_fd = -1 };
	struct run_ctx c = { 0 };
	struct sts_policy pol;
	struct sts_enforcer *enf = NULL;
	struct child_spec spec = { 0 };
	bool json_stdout = false, have_policy = false, cg_made = false;
	int ret = 3, err, opt, sfd = -1, errpipe[2] = { -1, -1 }, gopipe[2] = { -1, -1 },
	    status = 0;
	sigset_t mask, oldmask;
	pid_t pid = -1;
	ssize_t n;

	memset(&pol, 0, sizeof(pol));
	optind = 1;
	while ((opt = getopt_long(argc, argv, "+qh", opts, NULL)) != -1) {
		switch (opt) {
		case 'p':
			policy_path = optarg;
			break;
		case 'o':
			eo.observe = true;
			break;
		case 'u':
			user = optarg;
			break;
		case 'l':
			log_path = optarg;
			break;
		case 'L':
			evlog_path = optarg;
			break;
		case 'K':
			evlog_key = optarg;
			break;
		case 'S':
			seal_path = optarg;
			break;
		case 'j':
			json_stdout = true;
			break;
		case 'a':
			c.show_allowed = true;
			break;
		case 'q':
			c.quiet = true;
			break;
		case 'D':
			device_cg = optarg;
			break;
		case 'P':
			parent = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		sts_err("run: no command given (stsd run [OPTIONS] -- CMD [ARGS])");
		return 2;
	}
	if (log_path && json_stdout) {
		sts_err("run: --events and --json are exclusive");
		return 2;
	}
	if (geteuid() != 0) {
		sts_err("run: must run as root (loading BPF programs and creating cgroups need "
			"it)");
		return 3;
	}
	err = resolve_cmd(argv[optind], exe, sizeof(exe));
	if (err) {
		sts_err("run: %s: %s", argv[optind], strerror(-err));
		return 2;
	}
	spec.exe = exe;
	spec.argv = argv + optind;
	if (!user)
		user = "nobody";
	if (strcmp(user, "root") != 0) {
		struct passwd *pw = getpwnam(user);

		if (!pw) {
			sts_err("run: --user %s: no such user", user);
			return 2;
		}
		spec.drop = true;
		spec.uid = pw->pw_uid;
		spec.gid = pw->pw_gid;
	}
	if (log_path) {
		c.log = fopen(log_path, "ae");
		if (!c.log) {
			sts_err("run: open %s: %s", log_path, strerror(errno));
			return 2;
		}
	} else if (json_stdout) {
		c.log = stdout;
	}

	err = sts_policy_load(policy_path, true, &pol, perr, sizeof(perr));
	if (err) {
		sts_err("run: %s", perr);
		ret = 2;
		goto cleanup;
	}
	have_policy = true;
	/* The state dir is the one place CMD may write: it must own it once unprivileged. */
	if (spec.drop && chown(pol.state_dir, spec.uid, spec.gid) < 0) {
		sts_err("run: chown %s to uid %u: %s", pol.state_dir, spec.uid, strerror(errno));
		goto cleanup;
	}

	err = sts_cgroup2_root(root, sizeof(root));
	if (err) {
		sts_err("run: find or mount cgroup v2: %s", strerror(-err));
		goto cleanup;
	}
	if (!parent) {
		snprintf(parentbuf, sizeof(parentbuf), "%s/stsguard", root);
		parent = parentbuf;
	}
	err = sts_mkdir_p(parent, 0755);
	if (err) {
		sts_err("run: create cgroup %s: %s", parent, strerror(-err));
		goto cleanup;
	}
	if (snprintf(cgpath, sizeof(cgpath), "%s/run-%d", parent, (int)getpid()) >=
	    (int)sizeof(cgpath)) {
		sts_err("run: cgroup path too long under %s", parent);
		goto cleanup;
	}
	if (mkdir(cgpath, 0755) < 0) {
		sts_err("run: create cgroup %s: %s", cgpath, strerror(errno));
		goto cleanup;
	}
	cg_made = true;
	spec.cgroup = cgpath;
	c.cgroup = cgpath;
	eo.policed_cgroup_fd = open(cgpath, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (eo.policed_cgroup_fd < 0 || sts_cgroup_id(eo.policed_cgroup_fd, &eo.policed_cgid)) {
		sts_err("run: open cgroup %s: %s", cgpath, strerror(errno));
		goto cleanup;
	}
	if (!device_cg)
		device_cg = root;
	if (strcmp(device_cg, "none") != 0) {
		eo.device_cgroup_fd = open(device_cg, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (eo.device_cgroup_fd < 0) {
			sts_err("run: open device cgroup %s: %s", device_cg, strerror(errno));
			goto cleanup;
		}
	}
	eo.extra_exec = exe;

	c.report_max = pol.report_max;
	if (evlog_path) {
		err = evidence_open(evlog_path, evlog_key, seal_path, &c.evidence, why,
				    sizeof(why));
		if (err) {
			/* No evidence, no run: the policed code never runs unlogged. */
			sts_err("run: %s", why);
			goto cleanup;
		}
	}
	err = enforcer_start(&pol, &eo, on_event, &c, &enf, why, sizeof(why));
	c.enf = enf;
	if (err) {
		sts_err("run: %s", why);
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
				sts_err("run: evidence log: %s", strerror(-err));
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
		sts_err("run: signalfd/pipe: %s", strerror(errno));
		goto cleanup;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		sts_err("run: fork: %s", strerror(errno));
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
		sts_err("run: %s; not running %s (fail closed)", why, exe);
		kill(pid, SIGKILL);
	} else if (write(gopipe[1], "g", 1) != 1) {
		sts_err("run: start %s: %s", exe, strerror(errno));
		kill(pid, SIGKILL);
	}
	close(gopipe[1]);
	gopipe[1] = -1;
	n = read(errpipe[0], childerr, sizeof(childerr) - 1);
	if (n > 0) {
		childerr[n] = '\0';
		sts_err("run: %s", childerr);
	}

	for (;;) {
		struct pollfd pfd[2] = { { enforcer_event_fd(enf), POLLIN, 0 },
					 { sfd, POLLIN, 0 } };
		struct signalfd_siginfo si;

		int64_t next_ms = -1;

		if (c.evidence && !c.evidence_err && evidence_tick(c.evidence, &next_ms) < 0)
			evidence_failed(&c, -EIO);
		if (poll(pfd, 2, next_ms > INT32_MAX ? INT32_MAX : (int)next_ms) < 0) {
			if (errno == EINTR)
				continue;
			sts_err("run: poll: %s", strerror(errno));
			break;
		}
		if (pfd[0].revents)
			enforcer_poll(enf, 0);
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
	for (int i = 0; i < 600 && enforcer_live_sockets(enf) > 0; i++) {
		enforcer_poll(enf, 0);
		usleep(50000);
	}
	if (enforcer_live_sockets(enf) > 0)
		sts_err("run: %lld policed TCP sockets still open after 30 s; detaching the egress "
			"gate anyway",
			(long long)enforcer_live_sockets(enf));
	enforcer_poll(enf, 0);
	ret = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
	if (c.evidence_err && ret == 0)
		ret = 3;
	{
		uint64_t lost = enforcer_lost_events(enf);

		if (lost)
			sts_err("run: %llu kernel events were lost (ring buffer full)",
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
			err = evidence_close(c.evidence, lost, ret);
			c.evidence = NULL;
			if (err) {
				sts_err("run: evidence log: %s", strerror(-err));
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
	if (c.evidence)
		evidence_close(c.evidence, 0, ret);
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
	if (c.log && c.log != stdout)
		fclose(c.log);
	return ret;
}
