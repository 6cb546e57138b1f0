// SPDX-License-Identifier: GPL-2.0-only
#include "loader.h"
#include "core/crypto.h"
#include "core/util.h"

#include "net.skel.h"
#include "lsm.skel.h"
#include "observe.skel.h"
#include "payload.skel.h"
#include "volume.skel.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <unistd.h>

#define MAX_LINKS 32

/* One row of the G7 record: a kernel hook, how it is covered, by which program. */
struct hook_state {
	const char *hook; /* kernel hook, e.g. "lsm/file_open" */
	const char *guard; /* what it guards, in words */
	enum sts_mode mode;
	const struct bpf_program *prog;
	const char *note; /* why it is not enforcing, when it is not */
};

struct sts_enforcer {
	struct net_bpf *net;
	struct lsm_bpf *lsm;
	struct observe_bpf *observe;
	struct payload_bpf *payload;
	struct volume_bpf *volume;
	char *libssl[8]; /* the libssl files the policy lets the policed code map */
	size_t n_libssl;
	uint32_t tls_allowance;
	struct bpf_link *links[MAX_LINKS];
	size_t n_links;
	struct ring_buffer *rb;
	enforcer_event_fn fn;
	void *ctx;
	struct hook_state hooks[24];
	size_t n_hooks;
	char lsm_error[160];
	bool device_rules;
};

static void add_hook(struct sts_enforcer *e, const char *hook, const char *guard,
		     enum sts_mode mode, const struct bpf_program *prog, const char *note)
{
	if (e->n_hooks < ARRAY_SIZE(e->hooks))
		e->hooks[e->n_hooks++] = (struct hook_state){ hook, guard, mode, prog, note };
}

static int keep_link(struct sts_enforcer *e, struct bpf_link *link)
{
	if (!link)
		return -errno;
	if (e->n_links == MAX_LINKS) {
		bpf_link__destroy(link);
		return -E2BIG;
	}
	e->links[e->n_links++] = link;
	return 0;
}

static int ringbuf_cb(void *ctx, void *data, size_t size)
{
	struct sts_enforcer *e = ctx;

	if (size >= sizeof(struct sts_event))
		e->fn(data, size, e->ctx);
	return 0;
}

static int file_key(const char *path, struct sts_file_key *key)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return -errno;
	memset(key, 0, sizeof(*key));
	key->ino = st.st_ino;
	/* The kernel's s_dev encoding (MKDEV), not glibc's dev_t. */
	key->dev = major(st.st_dev) << 20 | minor(st.st_dev);
	return 0;
}

static int add_file_flags(int map_fd, const struct sts_file_key *key, __u32 flags)
{
	__u32 old = 0;

	bpf_map_lookup_elem(map_fd, key, &old);
	flags |= old;
	return bpf_map_update_elem(map_fd, key, &flags, BPF_ANY) ? -errno : 0;
}

static int fill_maps(struct sts_enforcer *e, const struct sts_policy *pol, const char *extra_exec,
		     char *why, size_t whylen)
{
	static const __u32 kind_flags[] = {
		[STS_FILE_READ] = STS_F_READ,
		[STS_FILE_READ_DIR] = STS_F_READ_DIR,
		[STS_FILE_EXEC] = STS_F_EXEC,
		[STS_FILE_STATE_DIR] = STS_F_STATE_DIR,
	};
	int files_fd = bpf_map__fd(e->net->maps.files);
	int ep_fd = bpf_map__fd(e->net->maps.endpoints);
	struct sts_file_key fkey;
	size_t i;
	int err;

	for (i = 0; i < pol->n_collectors + pol->n_legacy; i++) {
		bool legacy = i >= pol->n_collectors;
		const struct sts_endpoint *ep =
			legacy ? &pol->legacy[i - pol->n_collectors] : &pol->collectors[i];
		struct sts_endpoint_key key = { .family = ep->family, .port = ep->port };
		__u32 flags = 0, add = legacy ? STS_EP_LEGACY : STS_EP_COLLECTOR;

		memcpy(key.addr, ep->addr, sizeof(key.addr));
		bpf_map_lookup_elem(ep_fd, &key, &flags);
		flags |= add;
		if (bpf_map_update_elem(ep_fd, &key, &flags, BPF_ANY)) {
			err = -errno;
			snprintf(why, whylen, "endpoint map update: %s", strerror(-err));
			return err;
		}
	}
	for (i = 0; i < pol->n_files; i++) {
		const struct sts_file_rule *r = &pol->files[i];

		memset(&fkey, 0, sizeof(fkey));
		fkey.ino = r->ino;
		fkey.dev = major(r->dev) << 20 | minor(r->dev);
		err = add_file_flags(files_fd, &fkey, kind_flags[r->kind]);
		if (err) {
			snprintf(why, whylen, "file map update for %s: %s", r->path,
				 strerror(-err));
			return err;
		}
	}
	for (i = 0; i < pol->n_unix; i++) {
		/* A socket that does not exist yet cannot be connected to either: skip it. */
		if (file_key(pol->unix_paths[i], &fkey))
			continue;
		err = add_file_flags(files_fd, &fkey, STS_F_UNIX);
		if (err) {
			snprintf(why, whylen, "file map update for %s: %s", pol->unix_paths[i],
				 strerror(-err));
			return err;
		}
	}
	if (extra_exec) {
		err = file_key(extra_exec, &fkey);
		if (!err)
			err = add_file_flags(files_fd, &fkey, STS_F_EXEC);
		if (err) {
			snprintf(why, whylen, "allow-exec %s: %s", extra_exec, strerror(-err));
			return err;
		}
	}
	return 0;
}

/* Every object shares the network object's ring buffer and rule maps: one of each, not five. */
static int reuse_shared_maps(struct sts_enforcer *e, struct bpf_map *events, struct bpf_map *eps,
			     struct bpf_map *files)
{
	int err;

	err = bpf_map__reuse_fd(events, bpf_map__fd(e->net->maps.events));
	if (!err)
		err = bpf_map__reuse_fd(eps, bpf_map__fd(e->net->maps.endpoints));
	if (!err)
		err = bpf_map__reuse_fd(files, bpf_map__fd(e->net->maps.files));
	return err;
}

static int start_net(struct sts_enforcer *e, const struct sts_policy *pol,
		     const struct enforcer_opts *o, char *why, size_t whylen)
{
	static const char guard_net[] = "network destinations (G1)";
	struct net_bpf *s;
	int err;

	s = e->net = net_bpf__open();
	if (!s) {
		err = -errno;
		snprintf(why, whylen, "open network BPF object: %s", strerror(-err));
		return err;
	}
	s->rodata->policed_cgid = o->policed_cgid;
	s->rodata->deny_outside = pol->deny_outside;
	e->device_rules = o->device_cgroup_fd >= 0 && (pol->deny_outside || pol->n_legacy);
	if (!e->device_rules) {
		bpf_program__set_autoload(s->progs.sts_device_connect4, false);
		bpf_program__set_autoload(s->progs.sts_device_connect6, false);
		bpf_program__set_autoload(s->progs.sts_device_sendmsg4, false);
		bpf_program__set_autoload(s->progs.sts_device_sendmsg6, false);
	}
	err = net_bpf__load(s);
	if (err) {
		snprintf(why, whylen,
			 "load the network programs (cgroup connect/sendmsg/sock_create): %s; "
			 "without them nothing can be enforced, not even in observe mode",
			 strerror(-err));
		return err;
	}
	err = fill_maps(e, pol, o->extra_exec, why, whylen);
	if (err)
		return err;

	struct {
		struct bpf_program *prog;
		const char *hook;
	} cg[] = {
		{ s->progs.sts_connect4, "cgroup/connect4" },
		{ s->progs.sts_connect6, "cgroup/connect6" },
		{ s->progs.sts_sendmsg4, "cgroup/sendmsg4" },
		{ s->progs.sts_sendmsg6, "cgroup/sendmsg6" },
		{ s->progs.sts_sock_create, "cgroup/sock_create" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cg); i++) {
		err = keep_link(e, bpf_program__attach_cgroup(cg[i].prog, o->policed_cgroup_fd));
		if (err) {
			snprintf(why, whylen, "attach %s to the policed cgroup: %s", cg[i].hook,
				 strerror(-err));
			return err;
		}
		add_hook(e, cg[i].hook, guard_net, STS_MODE_ENFORCE, cg[i].prog, NULL);
	}
	if (e->device_rules) {
		struct bpf_program *dev[] = { s->progs.sts_device_connect4,
					      s->progs.sts_device_connect6,
					      s->progs.sts_device_sendmsg4,
					      s->progs.sts_device_sendmsg6 };
		static const char *names[] = { "device cgroup/connect4", "device cgroup/connect6",
					       "device cgroup/sendmsg4", "device cgroup/sendmsg6" };

		for (size_t i = 0; i < ARRAY_SIZE(dev); i++) {
			err = keep_link(e, bpf_program__attach_cgroup(dev[i], o->device_cgroup_fd));
			if (err) {
				snprintf(why, whylen, "attach %s to the device cgroup: %s",
					 names[i], strerror(-err));
				return err;
			}
			add_hook(e, names[i], "device-wide endpoint rules (G1)", STS_MODE_ENFORCE,
				 dev[i], NULL);
		}
	}
	return 0;
}

static bool is_libssl(const char *name)
{
	return strncmp(name, "libssl.so", 9) == 0;
}

static void add_libssl(struct sts_enforcer *e, const char *path)
{
	size_t i;
	char real[PATH_MAX];

	if (!realpath(path, real))
		return;
	for (i = 0; i < e->n_libssl; i++)
		if (strcmp(e->libssl[i], real) == 0)
			return;
	if (e->n_libssl < ARRAY_SIZE(e->libssl))
		e->libssl[e->n_libssl++] = strdup(real);
}

/*
 * The libssl copies the policed code can map: it can only map files the policy lets it open
 * (G2), so these are the only places SSL_write can be. (Without BPF LSM, a copy elsewhere
 * escapes the uprobe: the egress gate still stops its application data.)
 */
static void find_libssl(struct sts_enforcer *e, const struct sts_policy *pol)
{
	char path[PATH_MAX];
	struct dirent *de;
	size_t i;
	DIR *d;

	for (i = 0; i < pol->n_files; i++) {
		const struct sts_file_rule *r = &pol->files[i];
		const char *base = strrchr(r->path, '/');

		if (r->kind == STS_FILE_READ && base && is_libssl(base + 1))
			add_libssl(e, r->path);
		if (r->kind != STS_FILE_READ_DIR || !(d = opendir(r->path)))
			continue;
		while ((de = readdir(d))) {
			if (!is_libssl(de->d_name))
				continue;
			snprintf(path, sizeof(path), "%s/%s", r->path, de->d_name);
			add_libssl(e, path);
		}
		closedir(d);
	}
}

static int start_payload(struct sts_enforcer *e, const struct sts_policy *pol,
			 const struct enforcer_opts *o, char *why, size_t whylen)
{
	struct payload_bpf *s;
	int err;

	find_libssl(e, pol);
	s = e->payload = payload_bpf__open();
	if (!s)
		return -errno;
	s->rodata->policed_cgid = o->policed_cgid;
	err = reuse_shared_maps(e, s->maps.events, s->maps.endpoints, s->maps.files);
	if (!err)
		err = payload_bpf__load(s);
	if (err)
		snprintf(why, whylen,
			 "load the payload check (uprobes on SSL_write): %s; refusing to run "
			 "(fail closed)",
			 strerror(-err));
	return err;
}

static int start_volume(struct sts_enforcer *e, const struct sts_policy *pol,
			const struct enforcer_opts *o, char *why, size_t whylen)
{
	struct sts_budget b = { .allowance = pol->tls_allowance };
	struct volume_bpf *s;
	__u32 zero = 0;
	int err;

	e->tls_allowance = pol->tls_allowance;
	s = e->volume = volume_bpf__open();
	if (!s)
		return -errno;
	s->rodata->policed_cgid = o->policed_cgid;
	err = reuse_shared_maps(e, s->maps.events, s->maps.endpoints, s->maps.files);
	if (!err)
		err = volume_bpf__load(s);
	if (!err && bpf_map_update_elem(bpf_map__fd(s->maps.budget), &zero, &b, BPF_ANY))
		err = -errno;
	if (!err)
		err = keep_link(
			e, bpf_program__attach_cgroup(s->progs.sts_egress, o->policed_cgroup_fd));
	if (!err)
		err = keep_link(
			e, bpf_program__attach_cgroup(s->progs.sts_sockops, o->policed_cgroup_fd));
	if (err)
		snprintf(why, whylen,
			 "load or attach the egress budget (cgroup_skb/egress): %s; refusing to "
			 "run (fail closed)",
			 strerror(-err));
	return err;
}

int enforcer_attach_process(struct sts_enforcer *e, pid_t pid, char *why, size_t whylen)
{
	static const char *funcs[] = { "SSL_write", "SSL_write_ex" };
	size_t i, j;
	int err;

	for (i = 0; i < e->n_libssl; i++) {
		for (j = 0; j < ARRAY_SIZE(funcs); j++) {
			LIBBPF_OPTS(bpf_uprobe_opts, uo, .func_name = funcs[j]);
			struct bpf_program *prog = j == 0 ? e->payload->progs.sts_ssl_write
							  : e->payload->progs.sts_ssl_write_ex;

			err = keep_link(e, bpf_program__attach_uprobe_opts(prog, pid, e->libssl[i],
									   0, &uo));
			if (err) {
				snprintf(why, whylen,
					 "attach the payload uprobe %s:%s for pid %d: %s",
					 e->libssl[i], funcs[j], (int)pid, strerror(-err));
				return err;
			}
		}
	}
	return 0;
}

int enforcer_grant(struct sts_enforcer *e, uint64_t len)
{
	int fd = bpf_map__fd(e->volume->maps.budget);
	/* Each TLS 1.3 record of up to 16 KiB adds a header, the content type and a 16-byte tag. */
	uint64_t records = len / 16384 + 1;
	struct sts_budget b;
	__u32 zero = 0;

	if (bpf_map_lookup_elem_flags(fd, &zero, &b, BPF_F_LOCK))
		return -errno;
	b.credit += len + records * 22;
	b.allowance = e->tls_allowance;
	if (bpf_map_update_elem(fd, &zero, &b, BPF_F_LOCK))
		return -errno;
	return 0;
}

int enforcer_budget(const struct sts_enforcer *e, struct sts_budget *b)
{
	__u32 zero = 0;

	memset(b, 0, sizeof(*b));
	if (!e->volume)
		return -ENOENT;
	return bpf_map_lookup_elem_flags(bpf_map__fd(e->volume->maps.budget), &zero, b, BPF_F_LOCK)
		       ? -errno
		       : 0;
}

static int start_lsm(struct sts_enforcer *e, const struct enforcer_opts *o)
{
	struct lsm_bpf *s;
	int err;

	s = e->lsm = lsm_bpf__open();
	if (!s)
		return -errno;
	s->rodata->policed_cgid = o->policed_cgid;
	s->rodata->monitor_tgid = getpid();
	err = reuse_shared_maps(e, s->maps.events, s->maps.endpoints, s->maps.files);
	if (!err)
		err = lsm_bpf__load(s);
	if (!err)
		err = lsm_bpf__attach(s);
	if (err) {
		lsm_bpf__destroy(s);
		e->lsm = NULL;
	}
	return err;
}

static int start_observe(struct sts_enforcer *e, const struct enforcer_opts *o)
{
	struct observe_bpf *s;
	int err;

	/* Tracepoints are found through tracefs, which not every system mounts. */
	if (access("/sys/kernel/tracing/events", F_OK) < 0 &&
	    access("/sys/kernel/debug/tracing/events", F_OK) < 0 &&
	    mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, NULL) < 0)
		return -errno;

	s = e->observe = observe_bpf__open();
	if (!s)
		return -errno;
	/* open(2) is x86-only: arm64 has openat alone, and no sys_enter_open tracepoint. */
	if (access("/sys/kernel/tracing/events/syscalls/sys_enter_open", F_OK) < 0 &&
	    access("/sys/kernel/debug/tracing/events/syscalls/sys_enter_open", F_OK) < 0)
		bpf_program__set_autoload(s->progs.sts_observe_open, false);
	s->rodata->policed_cgid = o->policed_cgid;
	err = reuse_shared_maps(e, s->maps.events, s->maps.endpoints, s->maps.files);
	if (!err)
		err = observe_bpf__load(s);
	if (!err)
		err = observe_bpf__attach(s);
	return err;
}

/* Is "bpf" in the kernel's active LSM list? */
static bool bpf_lsm_listed(void)
{
	char *buf = NULL, *tok, *save;
	size_t len;
	bool found = false;

	if (sts_read_file("/sys/kernel/security/lsm", 4096, &buf, &len))
		return true; /* securityfs not mounted: let the load itself decide */
	for (tok = strtok_r(buf, ",\n", &save); tok; tok = strtok_r(NULL, ",\n", &save))
		if (strcmp(tok, "bpf") == 0)
			found = true;
	free(buf);
	return found;
}

/*
 * Loading parses the kernel's BTF (megabytes) into the heap; libbpf frees it once the programs
 * are loaded, but glibc keeps freed heap pages resident. Hand them back, so that a monitor
 * idling for hours (stsd run, or the daemon waiting for a retry) holds only what it uses.
 */
static void release_heap(void)
{
	malloc_trim(0);
}

int enforcer_start(const struct sts_policy *pol, const struct enforcer_opts *o,
		   enforcer_event_fn fn, void *ctx, struct sts_enforcer **out, char *why,
		   size_t whylen)
{
	static const char io_uring_note[] =
		"observed through a tracepoint: not stopped, and io_uring can bypass it";
	struct sts_enforcer *e;
	int err;

	*out = NULL;
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->fn = fn;
	e->ctx = ctx;
	err = start_net(e, pol, o, why, whylen);
	if (!err)
		err = start_payload(e, pol, o, why, whylen);
	if (!err)
		err = start_volume(e, pol, o, why, whylen);
	if (err)
		goto cleanup;

	err = bpf_lsm_listed() ? start_lsm(e, o) : -EOPNOTSUPP;
	if (err) {
		snprintf(e->lsm_error, sizeof(e->lsm_error), "%s",
			 err == -EOPNOTSUPP ? "BPF LSM not enabled (no \"bpf\" in lsm=)"
					    : strerror(-err));
		if (!o->observe) {
			snprintf(why, whylen,
				 "cannot enforce files, exec and socket kinds: BPF LSM programs "
				 "could not be loaded (%s); refusing to run (fail closed). With "
				 "--observe, file opens and execs are only recorded, through "
				 "tracepoints that io_uring can bypass",
				 e->lsm_error);
			err = -EPERM;
			goto cleanup;
		}
		err = start_observe(e, o);
		if (err) {
			snprintf(why, whylen, "observe mode: tracepoint programs: %s",
				 strerror(-err));
			goto cleanup;
		}
		add_hook(e, "tp/syscalls/sys_enter_openat", "files (G2)", STS_MODE_OBSERVE,
			 e->observe->progs.sts_observe_openat, io_uring_note);
		if (bpf_program__autoload(e->observe->progs.sts_observe_open))
			add_hook(e, "tp/syscalls/sys_enter_open", "files (G2)", STS_MODE_OBSERVE,
				 e->observe->progs.sts_observe_open, io_uring_note);
		add_hook(e, "tp/sched/sched_process_exec", "exec (G3)", STS_MODE_OBSERVE,
			 e->observe->progs.sts_observe_exec,
			 "recorded after the fact, not stopped");
		add_hook(e, "tp/syscalls/sys_enter_socket", "socket kinds (G1)", STS_MODE_OBSERVE,
			 e->observe->progs.sts_observe_socket,
			 "packet and netlink sockets recorded, not stopped (raw inet sockets are "
			 "still denied by cgroup/sock_create)");
		add_hook(e, "raw_tp/sys_enter", "process and mount system calls", STS_MODE_OBSERVE,
			 e->observe->progs.sts_observe_syscall,
			 "AF_UNIX connect, listen, ptrace, process_vm_*, link, mount, fork/clone, "
			 "bpf, kill and io_uring_setup recorded at entry, not stopped");
		add_hook(e, "lsm/unix_stream_connect", "AF_UNIX peers (G1)", STS_MODE_OFF, NULL,
			 e->lsm_error);
		add_hook(e, "lsm/unix_may_send", "AF_UNIX peers (G1)", STS_MODE_OFF, NULL,
			 e->lsm_error);
		add_hook(e, "lsm/inode_link", "hard links (G2)", STS_MODE_OFF, NULL, e->lsm_error);
		add_hook(e, "lsm/inode_create", "file creation (G2)", STS_MODE_OFF, NULL,
			 e->lsm_error);
	} else {
		struct lsm_bpf *l = e->lsm;

		add_hook(e, "lsm/socket_create", "socket kinds (G1)", STS_MODE_ENFORCE,
			 l->progs.sts_socket_create, NULL);
		add_hook(e, "lsm/socket_listen", "no listening sockets (G1)", STS_MODE_ENFORCE,
			 l->progs.sts_socket_listen, NULL);
		add_hook(e, "lsm/unix_stream_connect", "AF_UNIX peers (G1)", STS_MODE_ENFORCE,
			 l->progs.sts_unix_stream_connect, NULL);
		add_hook(e, "lsm/unix_may_send", "AF_UNIX peers (G1)", STS_MODE_ENFORCE,
			 l->progs.sts_unix_may_send, NULL);
		add_hook(e, "lsm/file_open", "files (G2)", STS_MODE_ENFORCE, l->progs.sts_file_open,
			 NULL);
		add_hook(e, "lsm/inode_link", "hard links (G2)", STS_MODE_ENFORCE,
			 l->progs.sts_inode_link, NULL);
		add_hook(e, "lsm/inode_create", "file creation (G2)", STS_MODE_ENFORCE,
			 l->progs.sts_inode_create, NULL);
		add_hook(e, "lsm/bprm_check_security", "exec (G3)", STS_MODE_ENFORCE,
			 l->progs.sts_bprm_check, NULL);
		add_hook(e, "lsm/ptrace_access_check", "memory of policed processes (G4)",
			 STS_MODE_ENFORCE, l->progs.sts_ptrace_access_check, NULL);
		add_hook(e, "lsm/task_alloc", "no fork, clone or thread (G4)", STS_MODE_ENFORCE,
			 l->progs.sts_task_alloc, NULL);
		add_hook(e, "lsm/task_kill",
			 "signals only inside the cgroup: the monitor stays (G7)", STS_MODE_ENFORCE,
			 l->progs.sts_task_kill, NULL);
		add_hook(e, "lsm/sb_mount", "no mounts (G2)", STS_MODE_ENFORCE,
			 l->progs.sts_sb_mount, NULL);
		add_hook(e, "lsm/move_mount", "no mounts (G2)", STS_MODE_ENFORCE,
			 l->progs.sts_move_mount, NULL);
		add_hook(e, "lsm/bpf", "no bpf(): the enforcement stays (G7)", STS_MODE_ENFORCE,
			 l->progs.sts_bpf, NULL);
	}
	add_hook(e, "uprobe SSL_write", "payload (G4)", STS_MODE_ENFORCE,
		 e->payload->progs.sts_ssl_write,
		 e->n_libssl ? NULL
			     : "no libssl is allowed by the policy: nothing can reach SSL_write; "
			       "any other TLS stack is stopped by the egress gate");
	add_hook(e, "uprobe SSL_write_ex", "payload (G4)", STS_MODE_ENFORCE,
		 e->payload->progs.sts_ssl_write_ex, NULL);
	add_hook(e, "cgroup_skb/egress", "volume (G5)", STS_MODE_ENFORCE,
		 e->volume->progs.sts_egress, NULL);
	add_hook(e, "sockops", "volume (G5): refused connections die", STS_MODE_ENFORCE,
		 e->volume->progs.sts_sockops, NULL);
	if (!e->lsm) {
		add_hook(e, "lsm/ptrace_access_check", "memory of policed processes (G4)",
			 STS_MODE_OFF, NULL, e->lsm_error);
		add_hook(e, "lsm/task_alloc", "no fork, clone or thread (G4)", STS_MODE_OFF, NULL,
			 e->lsm_error);
		add_hook(e, "lsm/task_kill",
			 "signals only inside the cgroup: the monitor stays (G7)", STS_MODE_OFF,
			 NULL, e->lsm_error);
		add_hook(e, "lsm/sb_mount", "no mounts (G2)", STS_MODE_OFF, NULL, e->lsm_error);
		add_hook(e, "lsm/bpf", "no bpf(): the enforcement stays (G7)", STS_MODE_OFF, NULL,
			 e->lsm_error);
	}

	e->rb = ring_buffer__new(bpf_map__fd(e->net->maps.events), ringbuf_cb, e, NULL);
	if (!e->rb) {
		err = -errno;
		snprintf(why, whylen, "ring buffer: %s", strerror(-err));
		goto cleanup;
	}
	*out = e;
	release_heap();
	return 0;
cleanup:
	enforcer_stop(e);
	return err;
}

static const char *mode_name(enum sts_mode m)
{
	return m == STS_MODE_ENFORCE ? "enforce" : m == STS_MODE_OBSERVE ? "observe" : "off";
}

bool enforcer_enforcing(const struct sts_enforcer *e)
{
	return e->lsm != NULL;
}

json_t *enforcer_describe(const struct sts_enforcer *e, const struct sts_policy *pol)
{
	char hex[2 * STS_SHA256_LEN + 1], tag[2 * BPF_TAG_SIZE + 1];
	json_t *rec, *hooks;
	struct utsname u;
	size_t i;

	uname(&u);
	sts_hex(pol->sha256, sizeof(pol->sha256), hex);
	hooks = json_array();
	for (i = 0; i < e->n_hooks; i++) {
		const struct hook_state *h = &e->hooks[i];
		json_t *o = json_pack("{s:s, s:s, s:s}", "hook", h->hook, "guards", h->guard,
				      "mode", mode_name(h->mode));

		if (h->prog && bpf_program__fd(h->prog) >= 0) {
			struct bpf_prog_info info = {};
			__u32 len = sizeof(info);

			if (!bpf_obj_get_info_by_fd(bpf_program__fd(h->prog), &info, &len)) {
				sts_hex(info.tag, BPF_TAG_SIZE, tag);
				json_object_set_new(o, "program",
						    json_string(bpf_program__name(h->prog)));
				json_object_set_new(o, "tag", json_string(tag));
				json_object_set_new(o, "prog_id", json_integer(info.id));
			}
		}
		if (h->note)
			json_object_set_new(o, "note", json_string(h->note));
		json_array_append_new(hooks, o);
	}
	json_t *libs = json_array();

	for (i = 0; i < e->n_libssl; i++)
		json_array_append_new(libs, json_string(e->libssl[i]));
	rec = json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:o}", "kernel", u.release, "machine",
			u.machine, "mode", enforcer_enforcing(e) ? "enforce" : "observe", "policy",
			pol->source ? pol->source : "", "policy_sha256", hex, "hooks", hooks,
			"payload_libssl", libs);
	if (!enforcer_enforcing(e))
		json_object_set_new(rec, "observe_reason", json_string(e->lsm_error));
	return rec;
}

int enforcer_event_fd(const struct sts_enforcer *e)
{
	return ring_buffer__epoll_fd(e->rb);
}

int enforcer_poll(struct sts_enforcer *e, int timeout_ms)
{
	int n = ring_buffer__poll(e->rb, timeout_ms);

	return n < 0 ? n : 0;
}

uint64_t enforcer_lost_events(const struct sts_enforcer *e)
{
	uint64_t n = 0;

	if (e->net)
		n += e->net->bss->lost_events;
	if (e->lsm)
		n += e->lsm->bss->lost_events;
	if (e->observe)
		n += e->observe->bss->lost_events;
	if (e->payload)
		n += e->payload->bss->lost_events;
	if (e->volume)
		n += e->volume->bss->lost_events;
	return n;
}

int64_t enforcer_live_sockets(const struct sts_enforcer *e)
{
	return e->volume ? e->volume->bss->live_sockets : 0;
}

void enforcer_stop(struct sts_enforcer *e)
{
	size_t i;

	if (!e)
		return;
	ring_buffer__free(e->rb);
	for (i = e->n_links; i > 0; i--)
		bpf_link__destroy(e->links[i - 1]);
	observe_bpf__destroy(e->observe);
	volume_bpf__destroy(e->volume);
	payload_bpf__destroy(e->payload);
	for (i = 0; i < e->n_libssl; i++)
		free(e->libssl[i]);
	lsm_bpf__destroy(e->lsm);
	net_bpf__destroy(e->net);
	free(e);
	release_heap();
}
