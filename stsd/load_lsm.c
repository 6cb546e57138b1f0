// SPDX-License-Identifier: GPL-2.0-only
/*
 * BPF LSM (bpf/lsm.bpf.c): enforce mode for files, exec, socket kinds, AF_UNIX peers and the
 * process rules. Without it the monitor fails closed, or falls back to observe mode.
 */
#include "loader_int.h"
#include "core/util.h"

#include "lsm.skel.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int start_lsm(struct sts_enforcer *e, const struct enforcer_opts *o)
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

/* Is "bpf" in the kernel's active LSM list? */
bool bpf_lsm_listed(void)
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
