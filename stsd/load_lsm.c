// SPDX-License-Identifier: GPL-2.0-only
/*
 * BPF LSM (bpf/lsm.bpf.c): enforce mode for socket kinds, AF_UNIX peers, files, exec and the
 * process rules. Without it the monitor fails closed (G8), or, if the caller chose observe
 * mode, records what it can through tracepoints (load_observe.c) and lists these hooks as off.
 */
#include "loader_int.h"
#include "core/util.h"

#include "lsm.skel.h"

#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A BPF LSM hook: its row of the G7 record (listed as off, with the reason, without BPF LSM). */
struct lsm_hook {
	const char *hook;
	const char *prog;
	const char *guard;
};

/* In the order of the G7 record. */
static const struct lsm_hook lsm_hooks[] = {
	{ "lsm/socket_create", "sts_socket_create", "socket kinds (G1)" },
	{ "lsm/socket_listen", "sts_socket_listen", "no listening sockets (G1)" },
	{ "lsm/unix_stream_connect", "sts_unix_stream_connect", "AF_UNIX peers (G1)" },
	{ "lsm/unix_may_send", "sts_unix_may_send", "AF_UNIX peers (G1)" },
	{ "lsm/file_open", "sts_file_open", "files (G2)" },
	{ "lsm/inode_link", "sts_inode_link", "hard links (G2)" },
	{ "lsm/inode_create", "sts_inode_create", "file creation (G2)" },
	{ "lsm/bprm_check_security", "sts_bprm_check", "exec (G3)" },
	{ "lsm/ptrace_access_check", "sts_ptrace_access_check",
	  "memory of policed processes (G4)" },
	{ "lsm/task_alloc", "sts_task_alloc", "no fork, clone or thread (G4)" },
	{ "lsm/task_kill", "sts_task_kill",
	  "signals only inside the cgroup: the monitor stays (G7)" },
	{ "lsm/sb_mount", "sts_sb_mount", "no mounts (G2)" },
	{ "lsm/move_mount", "sts_move_mount", "no mounts (G2)" },
	{ "lsm/bpf", "sts_bpf", "no bpf(): the enforcement stays (G7)" },
};

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

static int load_and_attach(struct sts_enforcer *e, const struct enforcer_opts *o)
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

int lsm_start(struct sts_enforcer *e, const struct enforcer_opts *o)
{
	int err;

	err = bpf_lsm_listed() ? load_and_attach(e, o) : -EOPNOTSUPP;
	if (err)
		snprintf(e->lsm_error, sizeof(e->lsm_error), "%s",
			 err == -EOPNOTSUPP ? "BPF LSM not enabled (no \"bpf\" in lsm=)"
					    : strerror(-err));
	return err;
}

void lsm_describe_hooks(struct sts_enforcer *e)
{
	const struct lsm_hook *h;

	for (h = lsm_hooks; h < lsm_hooks + ARRAY_SIZE(lsm_hooks); h++)
		add_hook(e, h->hook, h->guard, STS_MODE_ENFORCE,
			 bpf_object__find_program_by_name(e->lsm->obj, h->prog), NULL);
}

/*
 * Without BPF LSM: every hook it would have enforced, off, with the reason the load failed. The
 * observe rows say what is recorded instead; nothing that is not enforced goes unsaid (G7).
 */
void lsm_describe_off(struct sts_enforcer *e)
{
	const struct lsm_hook *h;

	for (h = lsm_hooks; h < lsm_hooks + ARRAY_SIZE(lsm_hooks); h++)
		add_hook(e, h->hook, h->guard, STS_MODE_OFF, NULL, e->lsm_error);
}
