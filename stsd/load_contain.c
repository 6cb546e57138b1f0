// SPDX-License-Identifier: GPL-2.0-only
/*
 * Where Landlock enforces the file, exec and TCP rules (no BPF LSM): fexit programs record its
 * refusals (bpf/contain.bpf.c), so that they reach the evidence log like BPF LSM's.
 */
#include "loader_int.h"
#include "core/util.h"

#include "contain.skel.h"
#include "llaudit.h"

#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Does the kernel have landlock_log_denial (Linux 6.15 and later)? */
static bool has_log_denial(void)
{
	char line[256];
	bool found = false;
	FILE *f = fopen("/proc/kallsyms", "re");

	while (f && !found && fgets(line, sizeof(line), f))
		found = strstr(line, " landlock_log_denial\n") != NULL;
	if (f)
		fclose(f);
	return found;
}

static const struct hook_desc contain_hooks[] = {
	{ "kprobe/landlock_log_denial", "sts_contain_denial",
	  "files and exec (G2, G3): Landlock's refusals",
	  "enforced by Landlock; this program records each refusal (Linux 6.15 and later)" },
	{ "fexit/do_filp_open", "sts_contain_open", "files and exec (G2, G3): Landlock's refusals",
	  "enforced by Landlock; this program records each open or exec it refused (EACCES)" },
	{ "fexit/security_socket_connect", "sts_contain_connect",
	  "TCP ports (G1): Landlock's refusals",
	  "enforced by Landlock (ports) before the cgroup connect hooks (addresses)" },
};

/* One instance of the object with the programs for files or for TCP, loaded and attached. */
enum what { FILES_KPROBE, FILES_FEXIT, TCP };

static int try_start(struct sts_enforcer *e, const struct enforcer_opts *o, enum what w,
		     struct contain_bpf **out)
{
	struct contain_bpf *s;
	int err;

	s = *out = contain_bpf__open();
	if (!s)
		return -errno;
	s->rodata->policed_cgid = o->policed_cgid;
	if (w != FILES_KPROBE)
		bpf_program__set_autoload(s->progs.sts_contain_denial, false);
	if (w != FILES_FEXIT)
		bpf_program__set_autoload(s->progs.sts_contain_open, false);
	if (w != TCP)
		bpf_program__set_autoload(s->progs.sts_contain_connect, false);
	err = reuse_shared_maps(e, s->maps.events, s->maps.endpoints, s->maps.files);
	if (!err)
		err = contain_bpf__load(s);
	if (!err)
		err = contain_bpf__attach(s);
	if (err) {
		contain_bpf__destroy(s);
		*out = NULL;
	}
	return err;
}

/*
 * The file records, best first: a kprobe on landlock_log_denial where the kernel has it (only
 * refusals pass it); else, with Landlock ABI 7 (Linux 6.15+), Landlock's own audit records
 * (stsd/llaudit.c: nothing for the rest of the device to pay, but audit switched on for the run
 * if it was off); else fexit on do_filp_open (every open of the device passes it). Then, in an
 * instance of its own, the TCP one, which needs fexit. A kernel may refuse them all (no kprobe
 * events, no BPF trampolines, no audit); the caller then records through tracepoints.
 */
int contain_start(struct sts_enforcer *e, const struct enforcer_opts *o, bool files, bool net)
{
	int err = 0, nerr = 0;
	char why[256];

	if (files) {
		err = has_log_denial() ? try_start(e, o, FILES_KPROBE, &e->contain) : -ENOENT;
		if (err && o->landlock_abi >= 7 && !getenv("STSD_NO_LANDLOCK_AUDIT")) {
			err = ll_audit_start(o->policed_cgid, &e->llaudit, why, sizeof(why));
			if (err)
				sts_err("Landlock's audit records: %s; recording its refusals by "
					"other means",
					why);
		}
		if (err)
			err = try_start(e, o, FILES_FEXIT, &e->contain);
	}
	if (net)
		nerr = try_start(e, o, TCP, &e->contain_net);
	/* Where fexit is refused, audit records Landlock's TCP refusals as its file ones. */
	if (net && nerr && e->llaudit) {
		e->llaudit_net = true;
		nerr = 0;
	}
	return files ? err : nerr;
}

void contain_describe_hooks(struct sts_enforcer *e)
{
	if (e->llaudit)
		add_hook(e, "audit: AUDIT_LANDLOCK_ACCESS",
			 e->llaudit_net
				 ? "files, exec and TCP ports (G1, G2, G3): Landlock's refusals"
				 : "files and exec (G2, G3): Landlock's refusals",
			 STS_MODE_ENFORCE, NULL,
			 "enforced by Landlock; its own audit records (read-only multicast group) "
			 "record each refusal; no program runs");
	if (e->contain)
		add_hooks(e, e->contain->obj, contain_hooks, ARRAY_SIZE(contain_hooks),
			  STS_MODE_ENFORCE);
	if (e->contain_net)
		add_hooks(e, e->contain_net->obj, contain_hooks, ARRAY_SIZE(contain_hooks),
			  STS_MODE_ENFORCE);
}
