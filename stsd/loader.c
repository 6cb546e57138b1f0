// SPDX-License-Identifier: GPL-2.0-only
#include "loader_int.h"
#include "core/crypto.h"
#include "core/util.h"

#include "net.skel.h"
#include "lsm.skel.h"
#include "observe.skel.h"
#include "payload.skel.h"
#include "volume.skel.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

void add_hook(struct sts_enforcer *e, const char *hook, const char *guard, enum sts_mode mode,
	      const struct bpf_program *prog, const char *note)
{
	if (e->n_hooks < ARRAY_SIZE(e->hooks))
		e->hooks[e->n_hooks++] = (struct hook_state){ hook, guard, mode, prog, note };
}

int keep_link(struct sts_enforcer *e, struct bpf_link *link)
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
