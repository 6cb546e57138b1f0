// SPDX-License-Identifier: GPL-2.0-only
/*
 * Where Landlock enforces the file, exec and TCP rules (no BPF LSM): fexit programs record its
 * refusals (bpf/contain.bpf.c), so that they reach the evidence log like BPF LSM's.
 */
#include "loader_int.h"
#include "core/util.h"

#include "contain.skel.h"

#include <bpf/libbpf.h>
#include <errno.h>

static const struct hook_desc contain_hooks[] = {
	{ "fexit/do_filp_open", "sts_contain_open", "files and exec (G2, G3): Landlock's refusals",
	  "enforced by Landlock; this program records each open or exec it refused (EACCES)" },
	{ "fexit/security_socket_connect", "sts_contain_connect",
	  "TCP ports (G1): Landlock's refusals",
	  "enforced by Landlock (ports) before the cgroup connect hooks (addresses)" },
};

int contain_start(struct sts_enforcer *e, const struct enforcer_opts *o, bool files, bool net)
{
	struct contain_bpf *s;
	int err;

	s = e->contain = contain_bpf__open();
	if (!s)
		return -errno;
	s->rodata->policed_cgid = o->policed_cgid;
	if (!files)
		bpf_program__set_autoload(s->progs.sts_contain_open, false);
	if (!net)
		bpf_program__set_autoload(s->progs.sts_contain_connect, false);
	err = reuse_shared_maps(e, s->maps.events, s->maps.endpoints, s->maps.files);
	if (!err)
		err = contain_bpf__load(s);
	if (!err)
		err = contain_bpf__attach(s);
	if (err) {
		contain_bpf__destroy(s);
		e->contain = NULL;
	}
	return err;
}

void contain_describe_hooks(struct sts_enforcer *e)
{
	if (e->contain)
		add_hooks(e, e->contain->obj, contain_hooks, ARRAY_SIZE(contain_hooks),
			  STS_MODE_ENFORCE);
}
