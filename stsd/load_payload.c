// SPDX-License-Identifier: GPL-2.0-only
/*
 * The payload check (bpf/payload.bpf.c): uprobes on SSL_write and SSL_write_ex of every libssl
 * the policy lets the policed code map, attached per process (enforcer_attach_process).
 */
#include "loader_int.h"
#include "core/util.h"

#include "payload.skel.h"

#include <bpf/libbpf.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

int payload_start(struct sts_enforcer *e, const struct sts_policy *pol,
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

void payload_describe_hooks(struct sts_enforcer *e)
{
	add_hook(e, "uprobe SSL_write", "payload (G4)", STS_MODE_ENFORCE,
		 e->payload->progs.sts_ssl_write,
		 e->n_libssl ? NULL
			     : "no libssl is allowed by the policy: nothing can reach SSL_write; "
			       "any other TLS stack is stopped by the egress gate");
	add_hook(e, "uprobe SSL_write_ex", "payload (G4)", STS_MODE_ENFORCE,
		 e->payload->progs.sts_ssl_write_ex, NULL);
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
