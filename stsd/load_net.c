// SPDX-License-Identifier: GPL-2.0-only
/*
 * The network object (bpf/net.bpf.c), always loaded: cgroup connect/sendmsg/sock_create on the
 * policed cgroup, and the device-wide endpoint rules. It owns the ring buffer and the rule
 * maps (endpoints, files) that every other object reuses.
 */
#include "loader_int.h"
#include "core/util.h"

#include "net.skel.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

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
int reuse_shared_maps(struct sts_enforcer *e, struct bpf_map *events, struct bpf_map *eps,
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

static const char guard_net[] = "network destinations (G1)";
static const char guard_device[] = "device-wide endpoint rules (G1)";

/* clang-format off */
static const struct hook_desc policed_hooks[] = {
	{ "cgroup/connect4",	"sts_connect4",		guard_net, NULL },
	{ "cgroup/connect6",	"sts_connect6",		guard_net, NULL },
	{ "cgroup/sock_create",	"sts_sock_create",	guard_net, NULL },
};

/* Attached to the device cgroup, only when the policy has device-wide rules. */
static const struct hook_desc device_hooks[] = {
	{ "device cgroup/connect4", "sts_device_connect4", guard_device, NULL },
	{ "device cgroup/connect6", "sts_device_connect6", guard_device, NULL },
	{ "device cgroup/sendmsg4", "sts_device_sendmsg4", guard_device, NULL },
	{ "device cgroup/sendmsg6", "sts_device_sendmsg6", guard_device, NULL },
};
/* clang-format on */

/* Attach the programs of a table to one cgroup ("policed" or "device", for the message). */
static int attach_cgroup(struct sts_enforcer *e, const struct hook_desc *d, size_t n, int cgroup_fd,
			 const char *which, char *why, size_t whylen)
{
	struct bpf_program *prog;
	size_t i;
	int err;

	for (i = 0; i < n; i++) {
		prog = bpf_object__find_program_by_name(e->net->obj, d[i].prog);
		err = prog ? keep_link(e, bpf_program__attach_cgroup(prog, cgroup_fd)) : -ENOENT;
		if (err) {
			snprintf(why, whylen, "attach %s to the %s cgroup: %s", d[i].hook, which,
				 strerror(-err));
			return err;
		}
	}
	return 0;
}

int net_start(struct sts_enforcer *e, const struct sts_policy *pol, const struct enforcer_opts *o,
	      char *why, size_t whylen)
{
	struct bpf_program *prog;
	struct net_bpf *s;
	size_t i;
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
	/* The device programs are loaded only to be attached: not at all without device rules. */
	for (i = 0; i < ARRAY_SIZE(device_hooks); i++) {
		prog = bpf_object__find_program_by_name(s->obj, device_hooks[i].prog);
		if (prog)
			bpf_program__set_autoload(prog, e->device_rules);
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
	if (!err)
		err = attach_cgroup(e, policed_hooks, ARRAY_SIZE(policed_hooks),
				    o->policed_cgroup_fd, "policed", why, whylen);
	if (!err && e->device_rules)
		err = attach_cgroup(e, device_hooks, ARRAY_SIZE(device_hooks), o->device_cgroup_fd,
				    "device", why, whylen);
	return err;
}

void net_describe_hooks(struct sts_enforcer *e)
{
	add_hooks(e, e->net->obj, policed_hooks, ARRAY_SIZE(policed_hooks), STS_MODE_ENFORCE);
	if (e->device_rules)
		add_hooks(e, e->net->obj, device_hooks, ARRAY_SIZE(device_hooks), STS_MODE_ENFORCE);
}
