// SPDX-License-Identifier: GPL-2.0-only
/*
 * The policy parser (format in policy.h and docs/policy.md).
 *
 * Strict on purpose: the policy is what an auditor reads to know what the telemetry code could
 * do, so a file that could be read two ways, or a typo that silently drops a rule, must be
 * rejected rather than guessed at. Every error names the file and line and says what to fix.
 */
#include "device/policy.h"
#include "core/crypto.h"
#include "core/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* Longer than any PATH_MAX path plus a directive; a longer line is not a policy line. */
#define STS_POLICY_MAX_LINE 4096

struct parser {
	const char *source;
	struct sts_policy *pol;
	char *err;
	size_t errlen;
	bool create_state_dir;
	/* Check mode (sts_policy_check): report every problem, go on, create nothing. */
	sts_policy_report_fn report;
	void *report_arg;
	int n_problems;
	/* The directive and value of the line being parsed, for report(); NULL when none. */
	const char *cur_directive, *cur_value;
	int line;
	int unix_line[STS_MAX_UNIX]; /* the struct keeps no line for AF_UNIX paths */
	/*
	 * The first line of each directive that may appear once, even if that line was wrong:
	 * in check mode a second one is still "given twice", and a wrong one is not also "missing".
	 */
	int collector_line, state_dir_first;
	int state_dir_line; /* the accepted one */
	size_t state_dir_idx; /* its slot in files[], resolved after the last line */
	int tls_line, report_line, deny_line;
};

struct directive {
	const char *name;
	const char *usage;
	int (*fn)(struct parser *p, const char *name, const char *arg);
};

/*
 * The reason alone, after "DIRECTIVE VALUE: ", "DIRECTIVE \"VALUE\": " or "DIRECTIVE: ", the
 * three ways a message names what it is about (the value is quoted when it was not understood).
 */
static const char *reason_of(const struct parser *p, const char *body)
{
	size_t dl, vl;

	if (!p->cur_directive)
		return body;
	dl = strlen(p->cur_directive);
	if (strncmp(body, p->cur_directive, dl) != 0)
		return body;
	if (body[dl] == ':' && body[dl + 1] == ' ')
		return body + dl + 2;
	if (body[dl] != ' ' || !p->cur_value)
		return body;
	vl = strlen(p->cur_value);
	if (strncmp(body + dl + 1, p->cur_value, vl) == 0 && body[dl + 1 + vl] == ':' &&
	    body[dl + 2 + vl] == ' ')
		return body + dl + vl + 3;
	if (body[dl + 1] == '"' && strncmp(body + dl + 2, p->cur_value, vl) == 0 &&
	    body[dl + 2 + vl] == '"' && body[dl + 3 + vl] == ':' && body[dl + 4 + vl] == ' ')
		return body + dl + vl + 5;
	return body;
}

static void vsay(struct parser *p, enum sts_policy_severity sev, int line, int ret, const char *fmt,
		 va_list ap)
{
	struct sts_policy_problem pb;
	int n;

	if (!p->err || !p->errlen)
		return;
	if (line > 0)
		n = snprintf(p->err, p->errlen, "%s:%d: ", p->source, line);
	else
		n = snprintf(p->err, p->errlen, "%s: ", p->source);
	if (n < 0 || (size_t)n >= p->errlen)
		return;
	vsnprintf(p->err + n, p->errlen - n, fmt, ap);
	if (!p->report)
		return;
	pb = (struct sts_policy_problem){
		.severity = sev,
		.line = line,
		.directive = line > 0 ? p->cur_directive : NULL,
		.value = line > 0 ? p->cur_value : NULL,
		.message = p->err,
		.reason = line > 0 ? reason_of(p, p->err + n) : p->err + n,
		.err = ret,
	};
	if (sev == STS_POLICY_PROBLEM)
		p->n_problems++;
	p->report(&pb, p->report_arg);
}

/* "source:line: reason" (line 0: the whole file, "source: reason"); returns ret. */
static int __attribute__((format(printf, 4, 5)))
fail(struct parser *p, int line, int ret, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsay(p, STS_POLICY_PROBLEM, line, ret, fmt, ap);
	va_end(ap);
	return ret;
}

/* Check mode only: something an operator should know that does not stop the policy loading. */
static void __attribute__((format(printf, 3, 4)))
note(struct parser *p, int line, const char *fmt, ...)
{
	va_list ap;

	if (!p->report)
		return;
	va_start(ap, fmt);
	vsay(p, STS_POLICY_NOTE, line, 0, fmt, ap);
	va_end(ap);
}

/*
 * Decimal digits only: no sign, no blanks, no 0x, no leading zero (an auditor must not wonder
 * whether 010 is eight). strtoul() accepts all of those, hence the hand-written loop.
 */
static int parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (!s[0] || (s[0] == '0' && s[1]))
		return -EINVAL;
	for (i = 0; s[i]; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (uint64_t)(s[i] - '0');
		if (v > UINT32_MAX)
			return -ERANGE;
	}
	if (v < min || v > max)
		return -ERANGE;
	*out = (uint32_t)v;
	return 0;
}

static bool addr_is_unspecified(const struct sts_endpoint *ep)
{
	static const uint8_t zero[16];

	return memcmp(ep->addr, zero, ep->family == AF_INET ? 4 : 16) == 0;
}

/*
 * "1.2.3.4:443" or "[::1]:443". IPv6 needs the brackets, so "::1:443" cannot be read as
 * either ::1 port 443 or ::1:443 without a port. On error, reason says why.
 */
static int parse_endpoint(const char *s, bool any_port, struct sts_endpoint *ep,
			  const char **reason)
{
	char addr[INET6_ADDRSTRLEN];
	const char *colon, *start = s;
	uint32_t port;
	size_t alen;
	int err;

	memset(ep, 0, sizeof(*ep));
	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (!close) {
			*reason = "missing ']' after the IPv6 address";
			return -EINVAL;
		}
		start = s + 1;
		alen = close - start;
		colon = close + 1;
		if (*colon != ':') {
			*reason = "expected ':PORT' after ']'";
			return -EINVAL;
		}
		ep->family = AF_INET6;
	} else {
		colon = strchr(s, ':');
		if (!colon) {
			*reason = "missing ':PORT'";
			return -EINVAL;
		}
		if (strchr(colon + 1, ':')) {
			*reason = "an IPv6 address must be in brackets, as in [::1]:8443";
			return -EINVAL;
		}
		alen = colon - s;
		ep->family = AF_INET;
	}
	if (alen == 0 || alen >= sizeof(addr)) {
		*reason = "not an IP address";
		return -EINVAL;
	}
	memcpy(addr, start, alen);
	addr[alen] = '\0';
	/* inet_pton: dotted quad only (no octal, no short forms), no IPv6 zone ids. */
	if (inet_pton(ep->family, addr, ep->addr) != 1) {
		/* The kernel matches addresses; a name would need a resolver we do not trust. */
		if (ep->family == AF_INET &&
		    strpbrk(addr, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"))
			*reason = "not an IPv4 address (host names are not accepted: give the "
				  "address)";
		else
			*reason = ep->family == AF_INET ? "not an IPv4 address"
							: "not an IPv6 address";
		return -EINVAL;
	}
	if (addr_is_unspecified(ep)) {
		/* Connecting to 0.0.0.0 or :: reaches the local host: surely not what was meant. */
		*reason = "the unspecified address is not an endpoint";
		return -EINVAL;
	}
	err = parse_u32(colon + 1, any_port ? 0 : 1, 65535, &port);
	if (err == -ERANGE) {
		*reason = any_port ? "port out of range 0..65535" : "port out of range 1..65535";
		return -EINVAL;
	}
	if (err) {
		*reason = "port is not a decimal number";
		return -EINVAL;
	}
	ep->port = (uint16_t)port;
	return 0;
}

static bool endpoint_eq(const struct sts_endpoint *a, const struct sts_endpoint *b)
{
	return a->family == b->family && a->port == b->port && memcmp(a->addr, b->addr, 16) == 0;
}

static int add_endpoint(struct parser *p, const char *name, const char *arg,
			struct sts_endpoint *arr, size_t *n, bool any_port)
{
	struct sts_endpoint ep;
	const char *reason = NULL;
	size_t i;

	if (parse_endpoint(arg, any_port, &ep, &reason))
		return fail(p, p->line, -EINVAL, "%s \"%s\": %s", name, arg, reason);
	ep.line = p->line;
	for (i = 0; i < *n; i++)
		if (endpoint_eq(&arr[i], &ep))
			return fail(p, p->line, -EINVAL, "%s %s: duplicate of line %d", name, arg,
				    arr[i].line);
	if (*n >= STS_MAX_ENDPOINTS)
		return fail(p, p->line, -EINVAL, "too many %s lines (at most %d)", name,
			    STS_MAX_ENDPOINTS);
	arr[(*n)++] = ep;
	return 0;
}

static int do_collector(struct parser *p, const char *name, const char *arg)
{
	if (!p->collector_line)
		p->collector_line = p->line;
	return add_endpoint(p, name, arg, p->pol->collectors, &p->pol->n_collectors, false);
}

static int do_legacy(struct parser *p, const char *name, const char *arg)
{
	return add_endpoint(p, name, arg, p->pol->legacy, &p->pol->n_legacy, true);
}

/*
 * Absolute and in canonical form. The kernel matches inodes, but events and the auditor's
 * reading use the path as written, so it must look like the file it names: no "//", no "."
 * or ".." components, no trailing '/'.
 */
static int check_path(struct parser *p, const char *name, const char *path)
{
	const char *c;

	if (path[0] != '/')
		return fail(p, p->line, -EINVAL, "%s \"%s\": path must be absolute", name, path);
	if (strlen(path) >= PATH_MAX)
		return fail(p, p->line, -EINVAL, "%s: path longer than %d bytes", name,
			    PATH_MAX - 1);
	if (!path[1])
		return 0;
	for (c = path; *c; c++) {
		size_t comp;

		if (*c != '/')
			continue;
		comp = strcspn(c + 1, "/");
		if (comp == 0 || (comp == 1 && c[1] == '.') ||
		    (comp == 2 && c[1] == '.' && c[2] == '.'))
			return fail(p, p->line, -EINVAL,
				    "%s \"%s\": path must be canonical (no \"//\", \".\" or "
				    "\"..\" components, no trailing '/')",
				    name, path);
	}
	return 0;
}

static const char *type_name(mode_t m)
{
	if (S_ISREG(m))
		return "a regular file";
	if (S_ISDIR(m))
		return "a directory";
	if (S_ISCHR(m))
		return "a character device";
	if (S_ISBLK(m))
		return "a block device";
	if (S_ISFIFO(m))
		return "a FIFO";
	if (S_ISSOCK(m))
		return "a socket";
	return "not a regular file";
}

/*
 * stat() rather than lstat(): a rule must name the inode that open() will reach, so a symlink
 * in the policy resolves to its target here, once, under the monitor's eyes.
 */
static int resolve(struct parser *p, int line, const char *name, struct sts_file_rule *r)
{
	struct stat st;

	if (stat(r->path, &st) < 0) {
		int err = -errno;

		return fail(p, line, err, "%s %s: %s", name, r->path, strerror(-err));
	}
	switch (r->kind) {
	case STS_FILE_READ:
		if (!S_ISREG(st.st_mode))
			return fail(p, line, -EINVAL, "%s %s: %s, not a regular file%s", name,
				    r->path, type_name(st.st_mode),
				    S_ISDIR(st.st_mode) ? " (allow-read-dir names a directory)"
							: "");
		break;
	case STS_FILE_EXEC:
		if (!S_ISREG(st.st_mode))
			return fail(p, line, -EINVAL, "%s %s: %s, not a regular file", name,
				    r->path, type_name(st.st_mode));
		if (!(st.st_mode & (S_IXUSR | S_IXGRP | S_IXOTH)))
			return fail(p, line, -EINVAL, "%s %s: not executable (mode %04o)", name,
				    r->path, (unsigned int)(st.st_mode & 07777));
		break;
	case STS_FILE_READ_DIR:
	case STS_FILE_STATE_DIR:
		if (!S_ISDIR(st.st_mode))
			return fail(p, line, -EINVAL, "%s %s: %s, not a directory", name, r->path,
				    type_name(st.st_mode));
		break;
	}
	r->dev = st.st_dev;
	r->ino = st.st_ino;
	return 0;
}

/* Two rules of one kind on one inode: a copy-paste slip, or a symlink and its target. */
static int check_duplicate_file(struct parser *p, const char *name, const struct sts_file_rule *r)
{
	const struct sts_policy *pol = p->pol;
	size_t i;

	for (i = 0; i < pol->n_files; i++) {
		const struct sts_file_rule *o = &pol->files[i];

		if (o == r || o->kind != r->kind || o->dev != r->dev || o->ino != r->ino)
			continue;
		if (strcmp(o->path, r->path) == 0)
			return fail(p, r->line, -EINVAL, "%s %s: duplicate of line %d", name,
				    r->path, o->line);
		return fail(p, r->line, -EINVAL, "%s %s: same file as %s on line %d", name, r->path,
			    o->path, o->line);
	}
	return 0;
}

static int add_file(struct parser *p, const char *name, const char *arg, enum sts_file_kind kind,
		    struct sts_file_rule **out)
{
	struct sts_policy *pol = p->pol;
	struct sts_file_rule *r;
	int err;

	err = check_path(p, name, arg);
	if (err)
		return err;
	if (pol->n_files >= STS_MAX_FILES)
		return fail(
			p, p->line, -EINVAL,
			"too many file rules (at most %d allow-read, allow-read-dir, allow-exec "
			"and state-dir lines in all)",
			STS_MAX_FILES);
	r = &pol->files[pol->n_files];
	r->path = strdup(arg);
	if (!r->path)
		return fail(p, p->line, -ENOMEM, "%s", strerror(ENOMEM));
	r->kind = kind;
	r->line = p->line;
	/* Counted now so that sts_policy_free() frees the path whatever happens next. */
	pol->n_files++;
	if (out)
		*out = r;
	return 0;
}

static int add_resolved_file(struct parser *p, const char *name, const char *arg,
			     enum sts_file_kind kind)
{
	struct sts_file_rule *r;
	int err;

	err = add_file(p, name, arg, kind, &r);
	if (err)
		return err;
	err = resolve(p, p->line, name, r);
	if (!err)
		err = check_duplicate_file(p, name, r);
	if (err) {
		/*
		 * Dropped, so that in check mode the next lines are not compared with a rule that
		 * names no inode (two missing files would be "the same file").
		 */
		free(r->path);
		memset(r, 0, sizeof(*r));
		p->pol->n_files--;
	}
	return err;
}

static int do_allow_read(struct parser *p, const char *name, const char *arg)
{
	return add_resolved_file(p, name, arg, STS_FILE_READ);
}

static int do_allow_read_dir(struct parser *p, const char *name, const char *arg)
{
	return add_resolved_file(p, name, arg, STS_FILE_READ_DIR);
}

static int do_allow_exec(struct parser *p, const char *name, const char *arg)
{
	return add_resolved_file(p, name, arg, STS_FILE_EXEC);
}

/*
 * Only checked and recorded here; created and resolved after the last line (finish_state_dir),
 * so that a policy rejected for a later line leaves nothing behind on disk.
 */
static int do_state_dir(struct parser *p, const char *name, const char *arg)
{
	struct sts_policy *pol = p->pol;
	int err;

	if (p->state_dir_first)
		return fail(p, p->line, -EINVAL,
			    "%s given twice (first on line %d); exactly one is allowed", name,
			    p->state_dir_first);
	p->state_dir_first = p->line;
	err = check_path(p, name, arg);
	if (err)
		return err;
	/* Writing directly inside "/" would mean writing next to /etc, /usr... */
	if (!arg[1])
		return fail(p, p->line, -EINVAL,
			    "%s /: the root directory cannot be the state directory", name);
	pol->state_dir = strdup(arg);
	if (!pol->state_dir)
		return fail(p, p->line, -ENOMEM, "%s", strerror(ENOMEM));
	p->state_dir_idx = pol->n_files;
	err = add_file(p, name, arg, STS_FILE_STATE_DIR, NULL);
	if (err) {
		free(pol->state_dir);
		pol->state_dir = NULL;
		return err;
	}
	p->state_dir_line = p->line;
	return 0;
}

/*
 * Missing parents get 0755, the directory itself 0700. Not 0700 all the way: the agent runs
 * as an unprivileged user and must be able to traverse the parents to reach its own directory
 * (whose ownership the loader hands to that user). umask can only narrow these modes.
 */
static int make_state_dir(const char *path, bool *created)
{
	char parent[PATH_MAX];
	char *slash;
	int err;

	snprintf(parent, sizeof(parent), "%s", path); /* check_path() bounded it */
	slash = strrchr(parent, '/');
	if (slash && slash != parent) {
		*slash = '\0';
		err = sts_mkdir_p(parent, 0755);
		if (err)
			return err;
	}
	if (mkdir(path, 0700) < 0)
		return errno == EEXIST ? 0 : -errno;
	*created = true;
	return 0;
}

/*
 * Check mode: stsd would create a missing state-dir, so it is a problem only if it cannot be
 * created: the nearest existing ancestor must be a directory. Nothing is created here (the
 * check runs as any user and must leave no trace), so the rule stays unresolved (0, 0).
 */
static int check_creatable(struct parser *p, const struct sts_file_rule *r)
{
	char anc[PATH_MAX];
	struct stat st;
	char *slash;
	int err;

	snprintf(anc, sizeof(anc), "%s", r->path); /* check_path() bounded it */
	for (;;) {
		slash = strrchr(anc, '/');
		if (slash == anc)
			anc[1] = '\0';
		else
			*slash = '\0';
		if (stat(anc, &st) == 0)
			break;
		err = -errno;
		if (err != -ENOENT)
			return fail(p, r->line, err, "state-dir %s: cannot create: %s: %s", r->path,
				    anc, strerror(-err));
	}
	if (!S_ISDIR(st.st_mode))
		return fail(p, r->line, -ENOTDIR, "state-dir %s: cannot create: %s is %s", r->path,
			    anc, type_name(st.st_mode));
	note(p, r->line, "state-dir %s: does not exist yet: stsd will create it (mode 0700)",
	     r->path);
	return 0;
}

static int finish_state_dir(struct parser *p)
{
	struct sts_file_rule *r = &p->pol->files[p->state_dir_idx];
	struct stat st;
	int err;

	if (p->report && stat(r->path, &st) < 0 && (errno == ENOENT || errno == ENOTDIR))
		return check_creatable(p, r);

	if (p->create_state_dir) {
		err = make_state_dir(r->path, &p->pol->state_dir_created);
		if (err)
			return fail(p, r->line, err, "state-dir %s: cannot create: %s", r->path,
				    strerror(-err));
	}
	return resolve(p, r->line, "state-dir", r);
}

static int do_allow_unix(struct parser *p, const char *name, const char *arg)
{
	struct sts_policy *pol = p->pol;
	size_t i;
	int err;

	/*
	 * Matched by path, not inode: the socket is created by its daemon, possibly after the
	 * policy is loaded, so it need not exist now. Abstract sockets have no path, hence none.
	 */
	err = check_path(p, name, arg);
	if (err)
		return err;
	if (strlen(arg) >= sizeof(((struct sockaddr_un *)0)->sun_path))
		return fail(p, p->line, -EINVAL, "%s %s: path longer than %zu bytes (sun_path)",
			    name, arg, sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
	if (p->report && access(arg, F_OK) < 0)
		note(p, p->line,
		     "%s %s: does not exist now: stsd skips it, and a socket created later is "
		     "refused until stsd reloads the policy",
		     name, arg);
	for (i = 0; i < pol->n_unix; i++)
		if (strcmp(pol->unix_paths[i], arg) == 0)
			return fail(p, p->line, -EINVAL, "%s %s: duplicate of line %d", name, arg,
				    p->unix_line[i]);
	if (pol->n_unix >= STS_MAX_UNIX)
		return fail(p, p->line, -EINVAL, "too many %s lines (at most %d)", name,
			    STS_MAX_UNIX);
	pol->unix_paths[pol->n_unix] = strdup(arg);
	if (!pol->unix_paths[pol->n_unix])
		return fail(p, p->line, -ENOMEM, "%s", strerror(ENOMEM));
	p->unix_line[pol->n_unix++] = p->line;
	return 0;
}

/*
 * The system calls stsd's seccomp filter refuses unless the policy allows them. Each is a way
 * out of the policed cgroup's view or rules that no file or network rule covers: tracing and
 * other processes' memory, new namespaces and mounts, the kernel's keyrings and log, BPF and
 * perf, io_uring (whose operations pass no system call filter), hard links and file handles.
 */
const char *const sts_policy_refusable[] = {
	"bpf",
	"perf_event_open",
	"ptrace",
	"process_vm_readv",
	"process_vm_writev",
	"pidfd_getfd",
	"kcmp",
	"userfaultfd",
	"mount",
	"umount2",
	"move_mount",
	"open_tree",
	"fsopen",
	"fsconfig",
	"fsmount",
	"fspick",
	"mount_setattr",
	"pivot_root",
	"chroot",
	"unshare",
	"setns",
	"keyctl",
	"add_key",
	"request_key",
	"io_uring_setup",
	"io_uring_enter",
	"io_uring_register",
	"link",
	"linkat",
	"syslog",
	"name_to_handle_at",
	"open_by_handle_at",
	/*
	 * A file on no path: code copied into a memfd and run with fexecve() is named by no
	 * allow-exec line, and Landlock, whose rules are paths, lets it run.
	 */
	"memfd_create",
	"memfd_secret",
	/*
	 * The file system's id: on ext4 and most disk file systems f_fsid is folded from the
	 * volume's UUID, made at install and different on every device (ustat: its older form).
	 */
	"statfs",
	"fstatfs",
	"ustat",
	/*
	 * A file's mode, owner, times, extended attributes or length, changed without opening
	 * it: no file rule sees that (BPF LSM's file_open, Landlock before ABI 3), and a command
	 * run as root owns most of the system's files. Device nodes: a block device made in the
	 * state dir would read the raw disk.
	 */
	"chmod",
	"fchmod",
	"fchmodat",
	"fchmodat2",
	"chown",
	"fchown",
	"lchown",
	"fchownat",
	"utime",
	"utimes",
	"futimesat",
	"utimensat",
	"truncate",
	"setxattr",
	"lsetxattr",
	"fsetxattr",
	"removexattr",
	"lremovexattr",
	"fremovexattr",
	"mknod",
	"mknodat",
	/* The device's clock: the evidence's times, consent's and the schedule's. */
	"settimeofday",
	"clock_settime",
	"clock_adjtime",
	"adjtimex",
	"quotactl_fd",
	/*
	 * Serving instead of sending; and a port of its choice before a connect: 16 bits of
	 * the sender's choice in the headers of every connection to the collector.
	 */
	"listen",
	"bind",
	"pidfd_open",
	"pidfd_send_signal",
	"personality",
	"init_module",
	"finit_module",
	"delete_module",
	"kexec_load",
	"kexec_file_load",
	"reboot",
	"swapon",
	"swapoff",
	"acct",
	"quotactl",
	"iopl",
	"ioperm",
	"fork",
	"vfork",
	"clone",
	"clone3",
	NULL,
};

bool sts_policy_allows_syscall(const struct sts_policy *pol, const char *name)
{
	size_t i;

	for (i = 0; i < pol->n_allow_syscalls; i++)
		if (strcmp(pol->allow_syscalls[i], name) == 0)
			return true;
	return false;
}

/* A name list directive (env, allow-syscall): no duplicates, at most max entries. */
static int add_name(struct parser *p, const char *name, const char *arg, char **list, size_t *n,
		    size_t max)
{
	size_t i;

	for (i = 0; i < *n; i++)
		if (strcmp(list[i], arg) == 0)
			return fail(p, p->line, -EINVAL, "%s %s: given twice", name, arg);
	if (*n >= max)
		return fail(p, p->line, -EINVAL, "too many %s lines (at most %zu)", name, max);
	list[*n] = strdup(arg);
	if (!list[*n])
		return fail(p, p->line, -ENOMEM, "%s", strerror(ENOMEM));
	(*n)++;
	return 0;
}

static int do_env(struct parser *p, const char *name, const char *arg)
{
	const char *c;

	/* A name as the shell spells one: no '=', nothing a launcher could not have set. */
	for (c = arg; *c; c++)
		if (!(*c == '_' || (*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') ||
		      (c > arg && *c >= '0' && *c <= '9')))
			return fail(p, p->line, -EINVAL,
				    "%s \"%s\": not a variable name (letters, digits, '_')", name,
				    arg);
	if (strcmp(arg, "PATH") == 0 || strcmp(arg, "LANG") == 0)
		return fail(p, p->line, -EINVAL, "%s %s: CMD always gets its own %s", name, arg,
			    arg);
	if (strncmp(arg, "LD_", 3) == 0)
		return fail(p, p->line, -EINVAL,
			    "%s %s: the dynamic loader's variables would load other code", name,
			    arg);
	return add_name(p, name, arg, p->pol->env, &p->pol->n_env, STS_MAX_ENV);
}

static int do_allow_syscall(struct parser *p, const char *name, const char *arg)
{
	size_t i;

	for (i = 0; sts_policy_refusable[i]; i++)
		if (strcmp(sts_policy_refusable[i], arg) == 0)
			return add_name(p, name, arg, p->pol->allow_syscalls,
					&p->pol->n_allow_syscalls, STS_MAX_ALLOW_SYSCALLS);
	return fail(p, p->line, -EINVAL,
		    "%s %s: not a system call the seccomp filter refuses (see docs/policy.md)",
		    name, arg);
}

static int set_number(struct parser *p, const char *name, const char *arg, int *seen, uint32_t min,
		      uint32_t max, uint32_t *out)
{
	int err;

	if (*seen)
		return fail(p, p->line, -EINVAL, "%s given twice (first on line %d)", name, *seen);
	*seen = p->line;
	err = parse_u32(arg, min, max, out);
	if (err == -ERANGE)
		return fail(p, p->line, -EINVAL, "%s %s: out of range %u..%u", name, arg, min, max);
	if (err)
		return fail(p, p->line, -EINVAL,
			    "%s \"%s\": not a decimal number (digits only, no leading zero)", name,
			    arg);
	return 0;
}

static int do_tls_allowance(struct parser *p, const char *name, const char *arg)
{
	return set_number(p, name, arg, &p->tls_line, 0, 1048576, &p->pol->tls_allowance);
}

static int do_report_max(struct parser *p, const char *name, const char *arg)
{
	return set_number(p, name, arg, &p->report_line, 64, 65536, &p->pol->report_max);
}

static int do_deny_outside(struct parser *p, const char *name, const char *arg)
{
	if (p->deny_line)
		return fail(p, p->line, -EINVAL, "%s given twice (first on line %d)", name,
			    p->deny_line);
	p->deny_line = p->line;
	/* yes/no only: "true", "1" or "on" would each invite "so is 'off' false?" */
	if (strcmp(arg, "yes") == 0)
		p->pol->deny_outside = true;
	else if (strcmp(arg, "no") == 0)
		p->pol->deny_outside = false;
	else
		return fail(p, p->line, -EINVAL, "%s \"%s\": expected yes or no", name, arg);
	return 0;
}

/*
 * A vendor key for the reports of `stsd run`: loaded now, so that a policy naming a key that
 * cannot be read is refused at start rather than every report later.
 */
static int do_report_key(struct parser *p, const char *name, const char *arg)
{
	struct sts_policy *pol = p->pol;
	struct sts_key key;
	size_t i;
	int err;

	err = check_path(p, name, arg);
	if (err)
		return err;
	if (pol->n_report_keys >= STS_MAX_REPORT_KEYS)
		return fail(p, p->line, -EINVAL, "too many %s lines (at most %d)", name,
			    STS_MAX_REPORT_KEYS);
	err = sts_key_load_public(arg, &key);
	if (err)
		return fail(p, p->line, err, "%s %s: not an Ed25519 public key in PEM: %s", name,
			    arg, strerror(-err));
	for (i = 0; i < pol->n_report_keys; i++) {
		if (memcmp(pol->report_keys[i], key.pub, sizeof(key.pub)) == 0) {
			sts_key_free(&key);
			return fail(p, p->line, -EINVAL, "%s %s: the same key as %s", name, arg,
				    pol->report_key_paths[i]);
		}
	}
	memcpy(pol->report_keys[pol->n_report_keys], key.pub, sizeof(key.pub));
	sts_key_free(&key);
	pol->report_key_paths[pol->n_report_keys] = strdup(arg);
	if (!pol->report_key_paths[pol->n_report_keys])
		return fail(p, p->line, -ENOMEM, "%s", strerror(ENOMEM));
	pol->n_report_keys++;
	return 0;
}

static const struct directive directives[] = {
	{ "collector", "collector ADDR:PORT", do_collector },
	{ "allow-read", "allow-read PATH", do_allow_read },
	{ "allow-read-dir", "allow-read-dir DIR", do_allow_read_dir },
	{ "allow-exec", "allow-exec PATH", do_allow_exec },
	{ "state-dir", "state-dir DIR", do_state_dir },
	{ "allow-unix", "allow-unix PATH", do_allow_unix },
	{ "tls-allowance", "tls-allowance BYTES", do_tls_allowance },
	{ "report-max", "report-max BYTES", do_report_max },
	{ "deny-outside", "deny-outside yes|no", do_deny_outside },
	{ "legacy-deny", "legacy-deny ADDR:PORT", do_legacy },
	{ "env", "env NAME", do_env },
	{ "allow-syscall", "allow-syscall NAME", do_allow_syscall },
	{ "report-key", "report-key FILE", do_report_key },
};

static const char known_list[] =
	"collector, allow-read, allow-read-dir, allow-exec, state-dir, "
	"allow-unix, tls-allowance, report-max, deny-outside, legacy-deny, "
	"env, allow-syscall, report-key";

/* Split on blanks; a word starting with '#' starts a comment. Returns the number of words. */
static int split(char *s, char **words, int max)
{
	int n = 0;

	for (;;) {
		s += strspn(s, " \t");
		if (!*s || *s == '#')
			return n;
		if (n == max)
			return n + 1;
		words[n++] = s;
		s += strcspn(s, " \t");
		if (*s)
			*s++ = '\0';
	}
}

static int parse_words(struct parser *p, char *buf)
{
	char *w[3];
	size_t i;
	int n;

	n = split(buf, w, 2);
	if (n == 0)
		return 0;
	p->cur_directive = w[0];
	p->cur_value = n >= 2 ? w[1] : NULL;
	for (i = 0; i < ARRAY_SIZE(directives); i++) {
		const struct directive *d = &directives[i];

		if (strcmp(w[0], d->name) != 0)
			continue;
		if (n == 1)
			return fail(p, p->line, -EINVAL, "%s: missing value (usage: %s)", d->name,
				    d->usage);
		if (n > 2) {
			/* split() stopped at the third word: find it again for the message. */
			char *extra = w[1] + strlen(w[1]) + 1;

			extra += strspn(extra, " \t");
			extra[strcspn(extra, " \t")] = '\0';
			return fail(
				p, p->line, -EINVAL,
				"%s: unexpected \"%s\" after the value (usage: %s; '#' starts a "
				"comment)",
				d->name, extra, d->usage);
		}
		return d->fn(p, d->name, w[1]);
	}
	return fail(p, p->line, -EINVAL, "unknown directive \"%s\" (known: %s)", w[0], known_list);
}

static int parse_line(struct parser *p, const char *line, size_t len)
{
	char buf[STS_POLICY_MAX_LINE + 1];
	size_t i;
	int err;

	if (len > STS_POLICY_MAX_LINE)
		return fail(p, p->line, -EINVAL, "line longer than %d bytes", STS_POLICY_MAX_LINE);
	for (i = 0; i < len; i++) {
		unsigned char c = line[i];

		if (c == '\0')
			return fail(p, p->line, -EINVAL, "NUL byte at column %zu", i + 1);
		/* Rejected, not stripped: the file's hash is evidence, so one text, one form. */
		if (c == '\r')
			return fail(
				p, p->line, -EINVAL,
				"carriage return at column %zu: DOS (CRLF) line endings are not "
				"accepted, convert the file to LF line endings",
				i + 1);
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return fail(p, p->line, -EINVAL, "control character 0x%02x at column %zu",
				    c, i + 1);
	}
	memcpy(buf, line, len);
	buf[len] = '\0';
	err = parse_words(p, buf);
	/* They point into buf. */
	p->cur_directive = p->cur_value = NULL;
	return err;
}

/* A legacy-deny rule that blocks a collector would make the policy fight itself. */
static int check_conflicts(struct parser *p)
{
	const struct sts_policy *pol = p->pol;
	char a[64], b[64];
	size_t i, j;
	int ret = 0;

	for (i = 0; i < pol->n_legacy; i++) {
		const struct sts_endpoint *l = &pol->legacy[i];

		for (j = 0; j < pol->n_collectors; j++) {
			const struct sts_endpoint *c = &pol->collectors[j];

			if (l->family != c->family || memcmp(l->addr, c->addr, 16) != 0 ||
			    (l->port && l->port != c->port))
				continue;
			sts_endpoint_str(l, a, sizeof(a));
			sts_endpoint_str(c, b, sizeof(b));
			p->cur_directive = "legacy-deny";
			p->cur_value = a;
			ret = fail(p, l->line, -EINVAL,
				   "legacy-deny %s: blocks collector %s of line %d", a, b, c->line);
			p->cur_directive = p->cur_value = NULL;
			if (!p->report)
				return ret;
		}
	}
	return ret;
}

/*
 * In check mode an error ends the line, not the parse: it is reported, remembered, and the next
 * line is read. Out of memory ends both.
 */
static bool go_on(struct parser *p, int err, int *first)
{
	if (!p->report || err == -ENOMEM)
		return false;
	if (!*first)
		*first = err;
	return true;
}

static int parse(struct parser *p, const char *buf, size_t len)
{
	struct sts_policy *pol = p->pol;
	size_t off = 0;
	int ret, first = 0;

	if (len > STS_POLICY_MAX_SIZE)
		return fail(p, 0, -EFBIG, "%zu bytes, larger than the limit of %d bytes", len,
			    STS_POLICY_MAX_SIZE);
	pol->source = strdup(p->source);
	if (!pol->source)
		return fail(p, 0, -ENOMEM, "%s", strerror(ENOMEM));
	/*
	 * Measured (tests/progs/exact.c, exact_allowance_measured): an OpenSSL TLS 1.3 client
	 * uses 330..400 bytes per approved transmission (ClientHello with a short SNI, its
	 * 1-byte ChangeCipherSpec, Finished, close_notify); a HelloRetryRequest doubles the
	 * ClientHello. 1 KiB is that need, and the bound of what the policed code chooses there.
	 */
	pol->tls_allowance = 1024;
	pol->report_max = 4096;
	pol->deny_outside = false;
	/* An editor's byte order mark would otherwise read as part of the first directive. */
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0) {
		ret = fail(p, 1, -EINVAL,
			   "byte order mark at the start: save the file without BOM");
		if (!go_on(p, ret, &first))
			return ret;
		/* Check mode reads on past it, so that the first line gets checked too. */
		off = 3;
	}

	/* A last line without '\n' is still a line: editors disagree on writing one. */
	while (off < len) {
		const char *nl = memchr(buf + off, '\n', len - off);
		size_t n = nl ? (size_t)(nl - (buf + off)) : len - off;

		p->line++;
		ret = parse_line(p, buf + off, n);
		if (ret && !go_on(p, ret, &first))
			return ret;
		off += n + 1;
	}
	if (!p->collector_line) {
		ret = fail(p, 0, -EINVAL, "no collector line: at least one is required");
		if (!go_on(p, ret, &first))
			return ret;
	}
	if (!p->state_dir_first) {
		ret = fail(p, 0, -EINVAL, "no state-dir line: exactly one is required");
		if (!go_on(p, ret, &first))
			return ret;
	}
	ret = check_conflicts(p);
	if (ret && !go_on(p, ret, &first))
		return ret;
	if (p->state_dir_line) {
		/* Resolved after the last line, reported as its own line's. */
		p->cur_directive = "state-dir";
		p->cur_value = pol->state_dir;
		ret = finish_state_dir(p);
		p->cur_directive = p->cur_value = NULL;
		if (ret && !go_on(p, ret, &first))
			return ret;
	}
	ret = sts_sha256(buf, len, pol->sha256);
	if (ret)
		return fail(p, 0, ret, "sha256: %s", strerror(-ret));
	return first;
}

int sts_policy_parse(const char *source, const char *buf, size_t len, bool create_state_dir,
		     struct sts_policy *pol, char *err, size_t errlen)
{
	struct parser p = {
		.source = source ? source : "(policy)",
		.pol = pol,
		.err = err,
		.errlen = errlen,
		.create_state_dir = create_state_dir,
	};
	int ret;

	memset(pol, 0, sizeof(*pol));
	if (err && errlen)
		err[0] = '\0';
	ret = parse(&p, buf, len);
	if (ret)
		sts_policy_free(pol);
	return ret;
}

int sts_policy_check(const char *source, const char *buf, size_t len, struct sts_policy *pol,
		     sts_policy_report_fn report, void *arg)
{
	/* One message at a time, handed to report() and then overwritten. */
	char msg[PATH_MAX + 1024];
	struct parser p = {
		.source = source ? source : "(policy)",
		.pol = pol,
		.err = msg,
		.errlen = sizeof(msg),
		.report = report,
		.report_arg = arg,
	};
	int ret;

	memset(pol, 0, sizeof(*pol));
	ret = parse(&p, buf, len);
	/* Out of memory ends the parse with problems left unseen: no count would be true. */
	if (ret == -ENOMEM || (ret && !p.n_problems))
		return ret;
	return p.n_problems;
}

int sts_policy_load(const char *path, bool create_state_dir, struct sts_policy *pol, char *err,
		    size_t errlen)
{
	size_t len = 0;
	char *buf = NULL;
	int ret;

	memset(pol, 0, sizeof(*pol));
	ret = sts_read_file(path, STS_POLICY_MAX_SIZE, &buf, &len);
	if (ret) {
		if (err && errlen) {
			if (ret == -EFBIG)
				snprintf(err, errlen, "%s: larger than the limit of %d bytes", path,
					 STS_POLICY_MAX_SIZE);
			else
				snprintf(err, errlen, "%s: %s", path, sts_file_strerror(ret));
		}
		goto cleanup;
	}
	ret = sts_policy_parse(path, buf, len, create_state_dir, pol, err, errlen);
cleanup:
	free(buf);
	return ret;
}

void sts_policy_free(struct sts_policy *pol)
{
	size_t i;

	if (!pol)
		return;
	for (i = 0; i < pol->n_files && i < STS_MAX_FILES; i++)
		free(pol->files[i].path);
	for (i = 0; i < pol->n_unix && i < STS_MAX_UNIX; i++)
		free(pol->unix_paths[i]);
	for (i = 0; i < pol->n_env; i++)
		free(pol->env[i]);
	for (i = 0; i < pol->n_allow_syscalls; i++)
		free(pol->allow_syscalls[i]);
	for (i = 0; i < pol->n_report_keys && i < STS_MAX_REPORT_KEYS; i++)
		free(pol->report_key_paths[i]);
	free(pol->state_dir);
	free(pol->source);
	memset(pol, 0, sizeof(*pol));
}

void sts_endpoint_str(const struct sts_endpoint *ep, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (!len)
		return;
	if ((ep->family != AF_INET && ep->family != AF_INET6) ||
	    !inet_ntop(ep->family, ep->addr, a, sizeof(a))) {
		snprintf(buf, len, "(family %d)", ep->family);
		return;
	}
	if (ep->family == AF_INET6)
		snprintf(buf, len, "[%s]:%u", a, (unsigned int)ep->port);
	else
		snprintf(buf, len, "%s:%u", a, (unsigned int)ep->port);
}
