// SPDX-License-Identifier: GPL-2.0-only
/*
 * The loader's core: enforcer_start as named steps (the programs every mode needs, then BPF LSM
 * or observe mode, then the G7 description, then the ring buffer), the G7 record itself, event
 * delivery and teardown. Each BPF object is loaded by its own file, stsd/load_*.c.
 */
#include "loader_int.h"
#include "core/crypto.h"
#include "core/util.h"
#include "llaudit.h"

#include "net.skel.h"
#include "lsm.skel.h"
#include "observe.skel.h"
#include "contain.skel.h"
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
	else
		e->hooks_overflow = true;
}

/*
 * Add the rows of a feature's table, each with its program from obj. A program turned off after
 * a probe (bpf_program__set_autoload) has no row: that hook is not there.
 */
void add_hooks(struct sts_enforcer *e, const struct bpf_object *obj, const struct hook_desc *d,
	       size_t n, enum sts_mode mode)
{
	const struct bpf_program *prog;
	size_t i;

	for (i = 0; i < n; i++) {
		prog = bpf_object__find_program_by_name(obj, d[i].prog);
		if (prog && !bpf_program__autoload(prog))
			continue;
		add_hook(e, d[i].hook, d[i].guard, mode, prog, d[i].note);
	}
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

/* The programs every mode needs: network rules (G1), payload check (G4), egress budget (G5). */
static int start_always_on(struct sts_enforcer *e, const struct sts_policy *pol,
			   const struct enforcer_opts *o, char *why, size_t whylen)
{
	int err;

	err = net_start(e, pol, o, why, whylen);
	if (!err)
		err = payload_start(e, pol, o, why, whylen);
	if (!err)
		err = volume_start(e, pol, o, why, whylen);
	return err;
}

/*
 * Files, exec, socket kinds and the process rules: BPF LSM where the kernel runs it. Without
 * it, Landlock enforces the file and exec rules where the kernel has it (applied by the child,
 * its refusals recorded by bpf/contain.bpf.c), and the seccomp filter the process rules. With
 * neither BPF LSM nor Landlock, fail closed (G8), unless the caller chose observe mode: then
 * tracepoints record what they can, and the G7 record says which hooks are only observed or
 * off, and why. raw_tp/sys_enter (every system call of the device on the tracing slow path) is
 * attached only for what no enforcing mechanism covers: AF_UNIX peers named by allow-unix.
 */
static int start_lsm_or_observe(struct sts_enforcer *e, const struct sts_policy *pol,
				const struct enforcer_opts *o, char *why, size_t whylen)
{
	bool unix_peers = pol->n_unix > 0;
	int err;

	if (!lsm_start(e, o)) {
		/*
		 * No Landlock TCP rule beside BPF LSM: Landlock decides in security_socket_connect,
		 * before the cgroup hooks, so it would answer EACCES in their place and take their
		 * record's place, for ports those hooks refuse anyway (seen on 6.12, ABI 6).
		 */
		return 0;
	}
	if (o->landlock_fs && !o->observe) {
		e->landlock_fs = true;
		/*
		 * Landlock's refusals recorded by fexit programs; where the kernel refuses those
		 * (as it may refuse BPF LSM), by the open tracepoints, which cost every system
		 * call of the device the tracing slow path.
		 */
		if (!contain_start(e, o, true, o->landlock_net) && !unix_peers)
			return 0;
		err = observe_start(e, o, !e->contain && !e->llaudit, unix_peers);
		if (err)
			snprintf(why, whylen, "AF_UNIX peers: raw_tp/sys_enter: %s",
				 strerror(-err));
		return err;
	}
	if (!o->observe) {
		snprintf(why, whylen,
			 "cannot enforce files, exec and socket kinds: BPF LSM programs "
			 "could not be loaded (%s), and the kernel has no Landlock; refusing to "
			 "run (fail closed). BPF LSM: %s. Landlock: a kernel built with "
			 "CONFIG_SECURITY_LANDLOCK=y and landlock in lsm=. With --observe, file "
			 "opens and execs are only recorded, through tracepoints that io_uring can "
			 "bypass",
			 e->lsm_error, e->lsm_hint);
		return -EPERM;
	}
	err = observe_start(e, o, true, unix_peers);
	if (err)
		snprintf(why, whylen, "observe mode: tracepoint programs: %s", strerror(-err));
	return err;
}

/* The rows of the G7 record, in its order (enforcer_describe). */
static void describe_hooks(struct sts_enforcer *e)
{
	net_describe_hooks(e);
	if (e->lsm) {
		lsm_describe_hooks(e);
	} else {
		if (e->observe)
			observe_describe_hooks(e);
		lsm_describe_off(e);
	}
	contain_describe_hooks(e);
	payload_describe_hooks(e);
	volume_describe_hooks(e);
}

/* Every object writes to the network object's ring buffer (reuse_shared_maps): one reader. */
static int open_ring_buffer(struct sts_enforcer *e, char *why, size_t whylen)
{
	int err;

	e->rb = ring_buffer__new(bpf_map__fd(e->net->maps.events), ringbuf_cb, e, NULL);
	if (!e->rb) {
		err = -errno;
		snprintf(why, whylen, "ring buffer: %s", strerror(-err));
		return err;
	}
	return 0;
}

int enforcer_start(const struct sts_policy *pol, const struct enforcer_opts *o,
		   enforcer_event_fn fn, void *ctx, struct sts_enforcer **out, char *why,
		   size_t whylen)
{
	struct sts_enforcer *e;
	int err;

	*out = NULL;
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->fn = fn;
	e->ctx = ctx;
	err = start_always_on(e, pol, o, why, whylen);
	if (!err)
		err = start_lsm_or_observe(e, pol, o, why, whylen);
	if (err)
		goto cleanup;
	describe_hooks(e);
	if (e->hooks_overflow) {
		snprintf(why, whylen,
			 "the enforcement record cannot list every hook (more than %d)",
			 STS_MAX_HOOKS);
		err = -E2BIG;
		goto cleanup;
	}
	err = open_ring_buffer(e, why, whylen);
	if (err)
		goto cleanup;
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
	return e->lsm != NULL || e->landlock_fs;
}

bool enforcer_has_lsm(const struct sts_enforcer *e)
{
	return e->lsm != NULL;
}

bool enforcer_records_landlock_net(const struct sts_enforcer *e)
{
	return e->contain_net != NULL || e->llaudit_net;
}

const char *enforcer_lsm_error(const struct sts_enforcer *e)
{
	return e->lsm_error;
}

size_t enforcer_prog_ids(const struct sts_enforcer *e, uint32_t *ids, size_t max)
{
	size_t i, n = 0;

	for (i = 0; i < e->n_hooks && n < max; i++) {
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);
		const struct bpf_program *p = e->hooks[i].prog;

		if (p && bpf_program__fd(p) >= 0 &&
		    !bpf_obj_get_info_by_fd(bpf_program__fd(p), &info, &len))
			ids[n++] = info.id;
	}
	return n;
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
	if (e->contain)
		n += e->contain->bss->lost_events;
	if (e->contain_net)
		n += e->contain_net->bss->lost_events;
	return n + ll_audit_lost(e->llaudit);
}

int enforcer_audit_fd(const struct sts_enforcer *e)
{
	return ll_audit_fd(e->llaudit);
}

void enforcer_audit_follow(struct sts_enforcer *e, pid_t pid, uid_t uid)
{
	ll_audit_follow(e->llaudit, pid, uid);
}

int enforcer_audit_read(struct sts_enforcer *e,
			void (*fn)(const struct sts_event *ev, const char *blockers, void *ctx),
			void *ctx)
{
	return ll_audit_read(e->llaudit, fn, ctx);
}

int enforcer_audit_flush(struct sts_enforcer *e,
			 void (*fn)(const struct sts_event *ev, const char *blockers, void *ctx),
			 void *ctx)
{
	return ll_audit_flush(e->llaudit, fn, ctx);
}

const char *enforcer_audit_state(const struct sts_enforcer *e)
{
	return ll_audit_state(e->llaudit);
}

const char *enforcer_landlock_record(const struct sts_enforcer *e)
{
	if (!e->landlock_fs)
		return "";
	if (e->llaudit)
		return "audit";
	if (e->contain)
		return bpf_program__autoload(e->contain->progs.sts_contain_denial) ? "kprobe"
										   : "fexit";
	return e->observe ? "tracepoints" : "";
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
	contain_bpf__destroy(e->contain);
	contain_bpf__destroy(e->contain_net);
	ll_audit_stop(e->llaudit);
	volume_bpf__destroy(e->volume);
	payload_bpf__destroy(e->payload);
	for (i = 0; i < e->n_libssl; i++)
		free(e->libssl[i]);
	lsm_bpf__destroy(e->lsm);
	net_bpf__destroy(e->net);
	free(e);
	release_heap();
}
