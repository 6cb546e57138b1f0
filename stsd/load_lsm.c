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
#include <limits.h>
#include <mntent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <zlib.h>

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

/*
 * The kernel's active LSMs, comma-separated, from securityfs. Found wherever securityfs is
 * mounted; where it is not, mounted at its usual place, as systemd does at boot. 0 or -errno.
 */
static int active_lsms(char *out, size_t len)
{
	char path[PATH_MAX] = "", *buf = NULL;
	struct mntent *m;
	size_t n;
	FILE *f;
	int err;

	f = setmntent("/proc/self/mounts", "re");
	while (f && (m = getmntent(f)))
		if (strcmp(m->mnt_type, "securityfs") == 0) {
			snprintf(path, sizeof(path), "%s/lsm", m->mnt_dir);
			break;
		}
	if (f)
		endmntent(f);
	if (!path[0]) {
		if (mount("securityfs", "/sys/kernel/security", "securityfs", 0, NULL) < 0)
			return -errno;
		snprintf(path, sizeof(path), "/sys/kernel/security/lsm");
	}
	err = sts_read_file(path, 4096, &buf, &n);
	if (err)
		return err;
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == ','))
		buf[--n] = '\0';
	snprintf(out, len, "%s", buf);
	free(buf);
	return 0;
}

static bool lsm_listed(const char *list, const char *name)
{
	char copy[1024], *tok, *save;

	snprintf(copy, sizeof(copy), "%s", list);
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
		if (strcmp(tok, name) == 0)
			return true;
	return false;
}

/*
 * CONFIG_BPF_LSM of the running kernel: "y", "not set", or "unknown" when neither the
 * installed config (/boot/config-RELEASE) nor the kernel's own (/proc/config.gz) is readable.
 */
static const char *config_bpf_lsm(void)
{
	static const char key[] = "CONFIG_BPF_LSM=";
	char path[PATH_MAX], line[512];
	const char *found = NULL;
	struct utsname u;
	gzFile gz;

	uname(&u);
	snprintf(path, sizeof(path), "/boot/config-%s", u.release);
	/* gzio reads a plain file as it is: one loop for both. */
	gz = gzopen(path, "r");
	if (!gz)
		gz = gzopen("/proc/config.gz", "r");
	if (!gz)
		return "unknown";
	while (!found && gzgets(gz, line, sizeof(line)))
		if (strncmp(line, key, sizeof(key) - 1) == 0)
			found = line[sizeof(key) - 1] == 'y' ? "y" : "m";
	gzclose(gz);
	return found ? found : "not set";
}

/*
 * What it takes to get BPF LSM on this machine, for the refusal (G8): the boot parameter (the
 * active list with bpf added) and whether the kernel was built with it.
 */
static void lsm_hint(struct sts_enforcer *e, const char *active, int active_err)
{
	const char *cfg = config_bpf_lsm();
	char param[1100];

	if (active_err)
		snprintf(param, sizeof(param),
			 "the active LSMs are unknown (securityfs: %s): boot with bpf added to "
			 "the lsm= parameter",
			 strerror(-active_err));
	else if (lsm_listed(active, "bpf"))
		snprintf(param, sizeof(param),
			 "bpf is in the active LSMs (lsm=%s), yet the kernel refused to attach "
			 "the programs",
			 active);
	else
		snprintf(param, sizeof(param),
			 "not in the active LSMs: boot with lsm=%s%sbpf (the active list with bpf "
			 "added; on Debian in GRUB_CMDLINE_LINUX of /etc/default/grub, then "
			 "update-grub and reboot)",
			 active, active[0] ? "," : "");
	if (strcmp(cfg, "y") == 0)
		snprintf(e->lsm_hint, sizeof(e->lsm_hint),
			 "%s; the kernel was built with "
			 "CONFIG_BPF_LSM=y",
			 param);
	else if (strcmp(cfg, "unknown") == 0)
		snprintf(e->lsm_hint, sizeof(e->lsm_hint),
			 "%s; whether the kernel was built with "
			 "CONFIG_BPF_LSM is unknown (neither /boot/config-$(uname -r) nor "
			 "/proc/config.gz is readable)",
			 param);
	else
		snprintf(e->lsm_hint, sizeof(e->lsm_hint),
			 "%s; but the kernel was built without "
			 "CONFIG_BPF_LSM (%s): a kernel with CONFIG_BPF_LSM=y is needed first",
			 param, cfg);
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
	char active[1024] = "";
	int err, active_err;

	active_err = active_lsms(active, sizeof(active));
	/* Without the list, the load itself decides. */
	err = active_err || lsm_listed(active, "bpf") ? load_and_attach(e, o) : -EOPNOTSUPP;
	if (!err)
		return 0;
	snprintf(e->lsm_error, sizeof(e->lsm_error), "%s",
		 err == -EOPNOTSUPP ? "BPF LSM not enabled (no \"bpf\" in lsm=)" : strerror(-err));
	lsm_hint(e, active, active_err);
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
