// SPDX-License-Identifier: GPL-2.0-only
/*
 * The egress budget (bpf/volume.bpf.c): cgroup_skb/egress lets out only the TLS bytes a passed
 * payload check granted, in the shape of a TLS 1.3 client whose ClientHello names only the
 * collector-host; cgroup_skb/ingress tells it when the server's first flight came in; sockops
 * kills the connections it refused.
 */
#include "loader_int.h"

#include "volume.skel.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

int volume_start(struct sts_enforcer *e, const struct sts_policy *pol,
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
	if (o->tls_host && strlen(o->tls_host) < sizeof(s->rodata->tls_host)) {
		s->rodata->tls_host_len = strlen(o->tls_host);
		memcpy((char *)s->rodata->tls_host, o->tls_host, s->rodata->tls_host_len);
	}
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
			e, bpf_program__attach_cgroup(s->progs.sts_ingress, o->policed_cgroup_fd));
	if (!err)
		err = keep_link(
			e, bpf_program__attach_cgroup(s->progs.sts_sockops, o->policed_cgroup_fd));
	if (err)
		snprintf(why, whylen,
			 "load or attach the egress budget (cgroup_skb/egress, ingress): %s; "
			 "refusing to "
			 "run (fail closed)",
			 strerror(-err));
	return err;
}

void volume_describe_hooks(struct sts_enforcer *e)
{
	add_hook(e, "cgroup_skb/egress", "volume (G5)", STS_MODE_ENFORCE,
		 e->volume->progs.sts_egress, NULL);
	add_hook(e, "cgroup_skb/ingress", "volume (G5): the server's first flight seen",
		 STS_MODE_ENFORCE, e->volume->progs.sts_ingress, NULL);
	add_hook(e, "sockops", "volume (G5): refused connections die", STS_MODE_ENFORCE,
		 e->volume->progs.sts_sockops, NULL);
}

int enforcer_grant(struct sts_enforcer *e, uint64_t len, uint64_t *allowance_used)
{
	int fd = bpf_map__fd(e->volume->maps.budget);
	/* Each TLS 1.3 record of up to 16 KiB adds a header, the content type and a 16-byte tag. */
	uint64_t records = len / 16384 + 1;
	struct sts_budget b;
	__u32 zero = 0;

	if (bpf_map_lookup_elem_flags(fd, &zero, &b, BPF_F_LOCK))
		return -errno;
	b.credit += len + records * 22;
	/* What was used since the last grant (or the start): the evidence of this transmission. */
	if (allowance_used)
		*allowance_used =
			b.allowance <= e->tls_allowance ? e->tls_allowance - b.allowance : 0;
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

int64_t enforcer_live_sockets(const struct sts_enforcer *e)
{
	return e->volume ? e->volume->bss->live_sockets : 0;
}
