// SPDX-License-Identifier: GPL-2.0-only
/*
 * Landlock's refusals, read from its own audit records (Linux 6.15 and later, Landlock ABI 7).
 *
 * Why: without BPF LSM, kprobes or BPF trampolines (this project's host), the only BPF way to
 * see Landlock refuse an open is the open system-call tracepoints, which put every process of
 * the device on the system-call slow path. Landlock writes an audit record for each refusal;
 * reading it costs the rest of the device nothing, provided audit itself does not (below).
 *
 * How:
 * - stsd reads the audit log's read-only multicast group (AUDIT_NLGRP_READLOG, CAP_AUDIT_READ),
 *   never the audit daemon's unicast socket: an audit daemon already running (auditd, Android's
 *   logd) keeps its place and its records.
 * - If audit is off, stsd switches it on for the run (libaudit: audit_set_enabled) and off again
 *   at the end. Before, it adds the rule `never,task` (what Fedora ships by default): with audit
 *   on and no task rule, every process forked afterwards would get system-call auditing (the
 *   slow path) for records nobody reads. Landlock's records need no system-call context.
 * - The rule stays after the run, on purpose: the kernel never forgets that audit was once on
 *   (audit_ever_enabled), and from then on asks the task rules about every new process even with
 *   audit off; without the rule each would get the slow path. An audit daemon started later
 *   loads its own rules after deleting all (auditctl -D), this one with them.
 * - A monitor that dies without switching audit off (SIGKILL, power loss: /run is a tmpfs) leaves
 *   a marker /run/stsguard/audit/PID. The next monitor to start (and `stsd daemon` at its
 *   start) switches audit off when the markers left name only dead processes. Monitors running
 *   at once each hold a marker; the last to stop switches audit off. An flock on the directory's
 *   lock file orders them.
 * - If audit was already on (a daemon runs), stsd changes nothing: no rule, no marker.
 * - Without a daemon, the kernel also prints each record to its log (rate-limited printk): the
 *   names of files the policed code was refused appear in dmesg.
 *
 * Matching a record to the policed process: an access record names only the Landlock domain;
 * the domain record written with the domain's first refusal names the process that created it,
 * CMD itself (it calls landlock_restrict_self, then execs). Access records of a domain not yet
 * named wait (a few) for its domain record.
 */
#include "llaudit.h"

#include "core/util.h"
#include "device/llaudit.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libaudit.h>
#include <linux/netlink.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#ifndef AUDIT_NLGRP_READLOG
#define AUDIT_NLGRP_READLOG 1
#endif

#define RUN_DIR "/run/stsguard"
#define MARK_DIR RUN_DIR "/audit"
#define N_DOMAINS 16
#define N_PENDING 16
#define FMODE_WRITE 0x2

struct ll_audit {
	int mc; /* the multicast reader */
	uint64_t cgid;
	pid_t pid;
	uid_t uid;
	bool enabled_here; /* this run switched audit on (and holds a marker) */
	bool marked;
	const char *state;
	uint64_t ours[N_DOMAINS], others[N_DOMAINS];
	size_t n_ours, n_others;
	struct sts_llaudit_rec pending[N_PENDING];
	size_t n_pending;
	uint64_t lost;
	unsigned int flush_seq;
	bool flushed;
	long long self_pid; /* stsd's pid as audit names it (its own message read back) */
	bool pid_rule; /* never,task -F pid!=<this monitor> is in place */
	bool cmd_audited; /* ... and never,task for all is not: CMD has an audit context */
	/* CMD's refusals waiting for the rest of their event (same serial) */
	struct held {
		struct sts_llaudit_rec r;
		char comm[16]; /* from the system call record */
		bool has_comm;
	} held[N_PENDING];
	size_t n_held;
};

static int audit_ctl(void)
{
	set_aumessage_mode(MSG_QUIET, DBG_NO);
	return audit_open();
}

/* libaudit answers -errno, or -1 with errno set. */
static int lib_err(int rc)
{
	return rc < -1 ? rc : errno ? -errno : -EIO;
}

/* audit's "enabled" flag (0 off, 1 on, 2 locked), or -errno. */
static int audit_enabled_state(int fd)
{
	struct audit_reply rep;
	int rc, i;

	rc = audit_request_status(fd);
	if (rc < 0)
		return lib_err(rc);
	for (i = 0; i < 10; i++) {
		rc = audit_get_reply(fd, &rep, GET_REPLY_BLOCKING, 0);
		if (rc < 0)
			return lib_err(rc);
		if (rep.type == AUDIT_GET)
			return rep.status->enabled;
	}
	return -EPROTO;
}

static void rules_restore(int fd, pid_t pid);

static int lock_dir(void)
{
	int fd;

	if ((mkdir(RUN_DIR, 0755) < 0 && errno != EEXIST) ||
	    (mkdir(MARK_DIR, 0700) < 0 && errno != EEXIST))
		return -errno;
	fd = open(MARK_DIR "/lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX) < 0) {
		close(fd);
		return -errno;
	}
	return fd;
}

/*
 * Remove the markers of dead monitors, and their task rules (fd >= 0); returns how many live
 * ones remain (other than self).
 */
static int sweep_markers(int fd, bool *removed)
{
	struct dirent *de;
	int live = 0;
	DIR *d = opendir(MARK_DIR);
	char *end;
	long pid;

	*removed = false;
	while (d && (de = readdir(d))) {
		pid = strtol(de->d_name, &end, 10);
		if (*end || pid <= 0 || end == de->d_name)
			continue;
		if (pid == getpid())
			continue;
		if (kill((pid_t)pid, 0) == 0 || errno == EPERM) {
			live++;
			continue;
		}
		if (fd >= 0)
			rules_restore(fd, (pid_t)pid);
		if (unlinkat(dirfd(d), de->d_name, 0) == 0)
			*removed = true;
	}
	if (d)
		closedir(d);
	return live;
}

/*
 * The kernel's queue of records not yet delivered while stsd runs audit: Landlock logs from
 * atomic context, so past the limit a record is dropped, not waited for, and a burst of refusals
 * (about five records each) would overflow the default of 64. Back to that default when stsd
 * switches audit off again (it was off, so nobody had tuned it for a daemon).
 */
#define RUN_BACKLOG 8192
#define DEFAULT_BACKLOG 64

static void set_off(int fd)
{
	int rc = audit_set_enabled(fd, 0);

	if (rc < 0)
		sts_err("switch audit off again: %s", strerror(-lib_err(rc)));
	rc = audit_set_backlog_limit(fd, DEFAULT_BACKLOG);
	if (rc < 0)
		sts_err("audit backlog limit back to %d: %s", DEFAULT_BACKLOG,
			strerror(-lib_err(rc)));
}

void ll_audit_sweep(void)
{
	bool removed;
	int lk, fd;

	if (access(MARK_DIR, F_OK))
		return;
	lk = lock_dir();
	if (lk < 0)
		return;
	fd = audit_ctl();
	if (sweep_markers(fd, &removed) == 0 && removed && fd >= 0 && audit_enabled_state(fd) == 1)
		set_off(fd);
	if (fd >= 0)
		audit_close(fd);
	close(lk);
}

/*
 * A task rule, added (appended, or first) or deleted: `never,task`, or with pid > 0,
 * `never,task -F pid!=PID`. The task rules are asked once per new process, at fork, when the
 * new process still answers its parent's pid: the second rule keeps system-call auditing off
 * every new process but those the monitor PID forks (CMD), which get an audit context (the
 * default), so that a Landlock record comes with the system call record naming the process
 * (its comm when it made the call). A rule already there (or already gone) is no error.
 */
static int task_rule(int fd, pid_t pid, bool add, bool first)
{
	struct audit_rule_data *r = audit_rule_create_data();
	char field[32];
	int rc, err = 0;

	if (!r)
		return -ENOMEM;
	if (pid > 0) {
		snprintf(field, sizeof(field), "pid!=%d", (int)pid);
		rc = audit_rule_fieldpair_data(&r, field, AUDIT_FILTER_TASK);
		if (rc < 0) {
			err = -EINVAL;
			goto cleanup;
		}
	}
	if (add)
		rc = audit_add_rule_data(
			fd, r, AUDIT_FILTER_TASK | (first ? AUDIT_FILTER_PREPEND : 0), AUDIT_NEVER);
	else
		rc = audit_delete_rule_data(fd, r, AUDIT_FILTER_TASK, AUDIT_NEVER);
	if (rc < 0) {
		err = lib_err(rc);
		if (err == (add ? -EEXIST : -ENOENT))
			err = 0;
	}
cleanup:
	audit_rule_free_data(r);
	return err;
}

/* The rules back to `never,task` alone, for everyone (the monitor PID is gone or stopping). */
static void rules_restore(int fd, pid_t pid)
{
	/* In this order: at no moment is a new process without one of the two. */
	task_rule(fd, 0, true, false);
	task_rule(fd, pid, false, false);
}

/* Switch audit on if it is off (with the marker and the rule); under the directory's lock. */
static int switch_on(struct ll_audit *a, char *why, size_t whylen)
{
	bool removed;
	int lk, fd, st, err = 0, live;

	fd = audit_ctl();
	if (fd < 0) {
		err = errno ? -errno : -EPROTONOSUPPORT;
		snprintf(why, whylen, "audit netlink socket: %s", strerror(-err));
		return err;
	}
	lk = lock_dir();
	if (lk < 0) {
		err = lk;
		snprintf(why, whylen, "%s: %s", MARK_DIR, strerror(-err));
		goto cleanup;
	}
	live = sweep_markers(fd, &removed);
	st = audit_enabled_state(fd);
	if (st == 1 && removed && !live) {
		/* A crashed monitor's: off first, then on again as this run's own. */
		set_off(fd);
		st = 0;
	}
	if (st < 0) {
		err = st;
		snprintf(why, whylen, "audit status: %s", strerror(-err));
		goto cleanup;
	}
	if (st == 2) {
		err = -EPERM;
		snprintf(why, whylen, "audit is locked (enabled=2): its state cannot change");
		goto cleanup;
	}
	if (st == 1 && !live) {
		a->state = "on already (an audit daemon's): unchanged, read through the multicast "
			   "group";
		goto cleanup;
	}
	/* never,task for all, then for all but CMD (see task_rule), before audit is on. */
	err = task_rule(fd, 0, true, false);
	if (!err)
		err = task_rule(fd, getpid(), true, true);
	if (err) {
		snprintf(why, whylen, "audit rule never,task: %s", strerror(-err));
		goto cleanup;
	}
	a->pid_rule = true;
	a->cmd_audited = task_rule(fd, 0, false, false) == 0;
	/* Marked before it is on: a crash in between leaves a marker, never audit on unmarked. */
	{
		char mark[64];
		int mfd;

		snprintf(mark, sizeof(mark), MARK_DIR "/%d", (int)getpid());
		mfd = open(mark, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (mfd < 0) {
			err = -errno;
			snprintf(why, whylen, "%s: %s", mark, strerror(-err));
			goto cleanup;
		}
		close(mfd);
		a->marked = true;
	}
	if (st == 0) {
		int rc = audit_set_backlog_limit(fd, RUN_BACKLOG);

		if (rc >= 0)
			rc = audit_set_enabled(fd, 1);
		if (rc < 0) {
			err = lib_err(rc);
			snprintf(why, whylen, "switch audit on: %s", strerror(-err));
			goto cleanup;
		}
	}
	a->enabled_here = true;
	a->state =
		"switched on for the run (was off); task rules: no system-call auditing for "
		"any process but CMD (never,task -F pid!=stsd), never,task for all after the run; "
		"off again at the end; backlog limit 8192 for the run";
cleanup:
	if (err && a->pid_rule) {
		rules_restore(fd, getpid());
		a->pid_rule = a->cmd_audited = false;
	}
	if (err && a->marked) {
		char mark[64];

		snprintf(mark, sizeof(mark), MARK_DIR "/%d", (int)getpid());
		unlink(mark);
		a->marked = false;
	}
	if (lk >= 0)
		close(lk);
	audit_close(fd);
	return err;
}

static void no_event(const struct sts_event *ev, const char *blockers, void *ctx)
{
	(void)ev, (void)blockers, (void)ctx;
}

int ll_audit_start(uint64_t cgid, struct ll_audit **out, char *why, size_t whylen)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK,
				  .nl_groups = 1u << (AUDIT_NLGRP_READLOG - 1) };
	int buf = 4 << 20, err;
	struct ll_audit *a;

	*out = NULL;
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->cgid = cgid;
	a->pid = -1;
	a->mc = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_AUDIT);
	if (a->mc < 0) {
		err = -errno;
		snprintf(why, whylen, "audit netlink socket: %s", strerror(-err));
		goto fail;
	}
	/* Room for a burst of refusals: past it the kernel drops records (ENOBUFS, counted). */
	if (setsockopt(a->mc, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf)) < 0)
		setsockopt(a->mc, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	if (bind(a->mc, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		err = -errno;
		snprintf(why, whylen, "audit read-only multicast group: %s", strerror(-err));
		goto fail;
	}
	/* Joined first: no record of the run is written before stsd listens. */
	err = switch_on(a, why, whylen);
	if (err)
		goto fail;
	/*
	 * Audit names processes by their pids in the initial PID namespace: a monitor in another
	 * one could not tell CMD's records from others', and would record none of its refusals.
	 * Its own message read back says which pid audit knows it by.
	 */
	err = ll_audit_flush(a, no_event, NULL);
	if (err >= 0 && a->self_pid != getpid())
		err = -EOPNOTSUPP;
	if (err < 0) {
		snprintf(why, whylen, "%s",
			 err == -EOPNOTSUPP
				 ? "stsd runs in a PID namespace of its own: audit names "
				   "processes by the initial namespace's pids"
				 : "its own audit message did not come back");
		ll_audit_stop(a);
		return err;
	}
	*out = a;
	return 0;
fail:
	if (a->mc >= 0)
		close(a->mc);
	free(a);
	return err;
}

int ll_audit_fd(const struct ll_audit *a)
{
	return a ? a->mc : -1;
}

void ll_audit_follow(struct ll_audit *a, pid_t pid, uid_t uid)
{
	if (!a)
		return;
	a->pid = pid;
	a->uid = uid;
}

uint64_t ll_audit_lost(const struct ll_audit *a)
{
	return a ? a->lost : 0;
}

const char *ll_audit_state(const struct ll_audit *a)
{
	return a && a->state ? a->state : "";
}

static bool known(const uint64_t *list, size_t n, uint64_t id)
{
	for (size_t i = 0; i < n; i++)
		if (list[i] == id)
			return true;
	return false;
}

/*
 * The event BPF LSM would have written for this refusal; comm as the system call record says
 * it was at the call, or NULL: as it is now (a process may rename itself in between).
 */
static void deliver_as(struct ll_audit *a, const struct sts_llaudit_rec *r, const char *comm,
		       ll_audit_fn fn, void *ctx)
{
	char comm_path[64];
	bool exec = r->access & STS_LLA_EXEC, write = r->access & STS_LLA_WRITE;
	struct sts_event ev = { 0 };
	struct timespec ts;
	struct stat st;

	if (!(r->access & (STS_LLA_READ | STS_LLA_EXEC | STS_LLA_WRITE | STS_LLA_NET)))
		return; /* scopes: seccomp and the cgroup hooks record those first */
	ev.verdict = STS_VERDICT_DENY;
	if (r->access & STS_LLA_NET && strstr(r->blockers, "net.bind_tcp")) {
		/* A bind refused before the policed code could listen (listen is seccomp's). */
		ev.type = STS_EV_SYSCALL;
		ev.rule = STS_RULE_BIND;
		ev.file.flags = SYS_bind;
		ev.file.ino = r->net_port; /* 0: an address of zeros (the kernel names neither) */
	} else if (r->access & STS_LLA_NET) {
		/* The port rule refused it before the cgroup connect hook saw it: its record. */
		ev.type = STS_EV_CONNECT;
		ev.rule = STS_RULE_NOT_COLLECTOR;
		ev.net.family = r->net_family;
		ev.net.type = SOCK_STREAM;
		ev.net.port = r->net_port;
		memcpy(ev.net.addr, r->net_addr, sizeof(ev.net.addr));
	} else {
		ev.type = exec ? STS_EV_EXEC : STS_EV_FILE_OPEN;
		ev.rule = exec	  ? STS_RULE_EXEC_NOT_ALLOWED
			  : write ? STS_RULE_WRITE_OUTSIDE_STATE
				  : STS_RULE_FILE_NOT_ALLOWED;
	}
	ev.pid = ev.tgid = (__u32)a->pid;
	ev.uid = a->uid;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ev.ts_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	ev.cgroup_id = a->cgid;
	/* The record's process is CMD, alive or a zombie until the monitor reaps it. */
	snprintf(comm_path, sizeof(comm_path), "/proc/%d/comm", (int)a->pid);
	if (comm) {
		snprintf(ev.comm, sizeof(ev.comm), "%s", comm);
	} else {
		FILE *f = fopen(comm_path, "re");

		if (f) {
			if (fgets(ev.comm, sizeof(ev.comm), f))
				ev.comm[strcspn(ev.comm, "\n")] = '\0';
			fclose(f);
		}
	}
	if (ev.type != STS_EV_FILE_OPEN && ev.type != STS_EV_EXEC) {
		fn(&ev, r->blockers, ctx);
		return;
	}
	ev.file.fmode = write ? FMODE_WRITE : 0;
	/* As BPF LSM's record: the path's first bytes when it is longer. */
	memcpy(ev.file.path, r->path, sizeof(ev.file.path) - 1);
	if (r->has_ino) {
		ev.file.ino = r->ino;
		/* The record names the device by its name ("vda"): its number, if the path agrees.
		 */
		if (r->path[0] == '/' && stat(r->path, &st) == 0 && st.st_ino == r->ino)
			ev.file.dev = major(st.st_dev) << 20 | minor(st.st_dev);
	}
	fn(&ev, r->blockers, ctx);
}

/* Deliver the held refusals whose serial is at most serial (all: UINT64_MAX). */
static void release_held(struct ll_audit *a, uint64_t serial, ll_audit_fn fn, void *ctx, int *n)
{
	size_t i, j;

	for (i = j = 0; i < a->n_held; i++) {
		struct held *h = &a->held[i];

		if (h->r.serial <= serial) {
			deliver_as(a, &h->r, h->has_comm ? h->comm : NULL, fn, ctx);
			(*n)++;
		} else {
			if (i != j)
				a->held[j] = *h;
			j++;
		}
	}
	a->n_held = j;
}

/*
 * A refusal of CMD's domain: delivered now, or, where CMD has an audit context, held until the
 * end of its event: the system call record names the process as it was at the call. (Its path
 * records name only the directory of a refused creation, as Landlock's record does.)
 */
static void deliver(struct ll_audit *a, const struct sts_llaudit_rec *r, ll_audit_fn fn, void *ctx,
		    int *n)
{
	struct held *h;

	if (!a->cmd_audited) {
		deliver_as(a, r, NULL, fn, ctx);
		(*n)++;
		return;
	}
	if (a->n_held == N_PENDING)
		release_held(a, a->held[0].r.serial, fn, ctx, n);
	h = &a->held[a->n_held++];
	h->r = *r;
	h->has_comm = false;
}

/* The rest of a held refusal's event: its system call record, its end. */
static void on_event_part(struct ll_audit *a, const struct sts_llaudit_rec *r, ll_audit_fn fn,
			  void *ctx, int *n)
{
	size_t i;

	if (r->type == STS_AUDIT_SYSCALL && r->pid != a->pid)
		return;
	for (i = 0; i < a->n_held; i++) {
		struct held *h = &a->held[i];

		if (h->r.serial != r->serial)
			continue;
		if (r->type == STS_AUDIT_SYSCALL) {
			snprintf(h->comm, sizeof(h->comm), "%s", r->comm);
			h->has_comm = true;
		}
	}
	if (r->type == STS_AUDIT_EOE)
		release_held(a, r->serial, fn, ctx, n);
	/* Older ones will get no end (an event cut short): as they are. */
	else if (r->type == STS_AUDIT_SYSCALL && r->serial)
		release_held(a, r->serial - 1, fn, ctx, n);
}

static void on_landlock_record(struct ll_audit *a, int type, const char *text, size_t len,
			       ll_audit_fn fn, void *ctx, int *n);

static void on_record(struct ll_audit *a, int type, const char *text, size_t len, ll_audit_fn fn,
		      void *ctx, int *n)
{
	char tag[48];
	int tl;

	if (type == AUDIT_USER && a->flush_seq) {
		tl = snprintf(tag, sizeof(tag), "stsd-flush=%d.%u", (int)getpid(), a->flush_seq);
		if (memmem(text, len, tag, tl)) {
			const char *p = memmem(text, len, "): pid=", 7);

			a->flushed = true;
			a->self_pid = p ? strtoll(p + 7, NULL, 10) : -1;
		}
		return;
	}
	on_landlock_record(a, type, text, len, fn, ctx, n);
}

static void on_landlock_record(struct ll_audit *a, int type, const char *text, size_t len,
			       ll_audit_fn fn, void *ctx, int *n)
{
	struct sts_llaudit_rec *r = &a->pending[a->n_pending < N_PENDING ? a->n_pending : 0];
	size_t i, j;

	/* The slot after the pending ones, or the oldest one's when all are taken. */
	if (a->n_pending == N_PENDING) {
		memmove(&a->pending[0], &a->pending[1], sizeof(a->pending[0]) * (N_PENDING - 1));
		a->n_pending--; /* most likely another process's: its domain was never named */
		r = &a->pending[a->n_pending];
	}
	if (sts_llaudit_parse(type, text, len, r))
		return;
	if (r->type == STS_AUDIT_SYSCALL || r->type == STS_AUDIT_EOE) {
		on_event_part(a, r, fn, ctx, n);
		return;
	}
	if (r->type == STS_AUDIT_LANDLOCK_ACCESS) {
		for (i = 0; i < a->n_ours; i++)
			if (a->ours[i] == r->domain) {
				deliver(a, r, fn, ctx, n);
				return;
			}
		if (!known(a->others, a->n_others, r->domain))
			a->n_pending++; /* until its domain record says whose it is */
		return;
	}
	if (!r->allocated)
		return;
	if (a->pid > 0 && r->pid == a->pid && a->n_ours < N_DOMAINS) {
		a->ours[a->n_ours++] = r->domain;
	} else {
		a->others[a->n_others++ % N_DOMAINS] = r->domain;
		if (a->n_others > N_DOMAINS)
			a->n_others = N_DOMAINS;
	}
	/* The access records that waited for this domain. */
	for (i = j = 0; i < a->n_pending; i++) {
		if (a->pending[i].domain != r->domain) {
			if (i != j)
				a->pending[j] = a->pending[i];
			j++;
		} else if (known(a->ours, a->n_ours, r->domain)) {
			deliver(a, &a->pending[i], fn, ctx, n);
		}
	}
	a->n_pending = j;
}

int ll_audit_read(struct ll_audit *a, ll_audit_fn fn, void *ctx)
{
	static char buf[MAX_AUDIT_MESSAGE_LENGTH + NLMSG_HDRLEN + 64];
	struct nlmsghdr *h;
	ssize_t got;
	int n = 0;

	if (!a)
		return 0;
	for (;;) {
		got = recv(a->mc, buf, sizeof(buf), 0);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0 && errno == ENOBUFS) {
			a->lost++; /* at least one record dropped by the kernel */
			continue;
		}
		if (got < 0 && errno == EAGAIN)
			return n;
		if (got <= 0)
			return got < 0 ? -errno : n;
		/*
		 * One record per datagram. Its nlmsg_len is not to be trusted: audit sets it
		 * without the header (a quirk kept for its old readers), so the datagram's
		 * length is the record's.
		 */
		h = (struct nlmsghdr *)buf;
		if ((size_t)got <= NLMSG_HDRLEN)
			continue;
		on_record(a, h->nlmsg_type, buf + NLMSG_HDRLEN, (size_t)got - NLMSG_HDRLEN, fn, ctx,
			  &n);
	}
}

int ll_audit_flush(struct ll_audit *a, ll_audit_fn fn, void *ctx)
{
	struct pollfd p;
	char msg[64];
	int fd, rc, n = 0, got;
	uint64_t until;
	struct timespec ts;

	if (!a)
		return 0;
	fd = audit_ctl();
	if (fd < 0)
		return -errno;
	a->flush_seq++;
	a->flushed = false;
	snprintf(msg, sizeof(msg), "stsd-flush=%d.%u", (int)getpid(), a->flush_seq);
	rc = audit_log_user_message(fd, AUDIT_USER, msg, NULL, NULL, NULL, 1);
	audit_close(fd);
	if (rc <= 0)
		return rc < 0 ? lib_err(rc) : -EIO;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	until = ts.tv_sec * 1000ull + ts.tv_nsec / 1000000 + 2000;
	while (!a->flushed) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		if (ts.tv_sec * 1000ull + ts.tv_nsec / 1000000 >= until) {
			release_held(a, UINT64_MAX, fn, ctx, &n);
			return -ETIMEDOUT;
		}
		p = (struct pollfd){ a->mc, POLLIN, 0 };
		if (poll(&p, 1, 100) < 0 && errno != EINTR)
			return -errno;
		got = ll_audit_read(a, fn, ctx);
		if (got < 0)
			return got;
		n += got;
	}
	release_held(a, UINT64_MAX, fn, ctx, &n);
	return n;
}

void ll_audit_stop(struct ll_audit *a)
{
	bool removed;
	char mark[64];
	int lk, fd;

	if (!a)
		return;
	close(a->mc);
	if (a->marked) {
		lk = lock_dir();
		fd = audit_ctl();
		if (fd >= 0 && a->pid_rule)
			rules_restore(fd, getpid());
		snprintf(mark, sizeof(mark), MARK_DIR "/%d", (int)getpid());
		unlink(mark);
		if (lk >= 0 && sweep_markers(fd, &removed) == 0 && fd >= 0)
			set_off(fd);
		if (fd >= 0)
			audit_close(fd);
		if (lk >= 0)
			close(lk);
	}
	free(a);
}
