// SPDX-License-Identifier: GPL-2.0-only
#include "stage.h"
#include "test.h"
#include "core/access.h"
#include "core/util.h"

#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define STAGE_MAX 32

static char stage_dir[PATH_MAX];
static pid_t stage_owner; /* only the test binary removes it, not a forked child's exit() */
static struct {
	char src[PATH_MAX];
	char dst[PATH_MAX];
} staged[STAGE_MAX];
static int n_staged;

/* nobody: the user stsd runs the agent as in the tests, and the least privileged there is. */
static void nobody_creds(struct sts_creds *c)
{
	if (sts_creds_of_user("nobody", c) == 0)
		return;
	memset(c, 0, sizeof(*c));
	c->uid = 65534;
	c->gid = 65534;
}

const char *test__public_base(void)
{
	static char base[PATH_MAX];
	const char *tmp = getenv("TMPDIR");
	struct sts_creds nobody;
	char why[600];

	if (base[0])
		return base;
	nobody_creds(&nobody);
	/* pam_tmpdir, for one, sets TMPDIR to a directory of mode 0700. */
	if (tmp && *tmp && sts_access_check(tmp, X_OK, &nobody, why, sizeof(why)) == 0)
		snprintf(base, sizeof(base), "%s", tmp);
	else if (sts_access_check("/tmp", X_OK, &nobody, why, sizeof(why)) == 0)
		snprintf(base, sizeof(base), "/tmp");
	else
		printf("  no directory for the tests' files that nobody can reach: %s\n", why);
	return base[0] ? base : NULL;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void remove_stage_dir(void)
{
	if (stage_dir[0] && getpid() == stage_owner)
		nftw(stage_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static int make_stage_dir(void)
{
	const char *base = test__public_base();

	if (!base)
		return -EACCES;
	snprintf(stage_dir, sizeof(stage_dir), "%s/sts-stage.XXXXXX", base);
	if (!mkdtemp(stage_dir)) {
		stage_dir[0] = '\0';
		return -errno;
	}
	stage_owner = getpid();
	atexit(remove_stage_dir);
	/* mkdtemp makes it 0700: every uid must get in. */
	return chmod(stage_dir, 0755) < 0 ? -errno : 0;
}

/* A copy every uid may read, and execute if the original has an x bit. */
static int copy_public(const char *src, const char *dst)
{
	int in = -1, out = -1, err = 0;
	struct stat st;
	char buf[65536];
	ssize_t n;

	in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0 || fstat(in, &st) < 0) {
		err = -errno;
		goto cleanup;
	}
	out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (out < 0) {
		err = -errno;
		goto cleanup;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0) {
		err = sts_write_all(out, buf, n);
		if (err)
			goto cleanup;
	}
	if (n < 0 || fchmod(out, st.st_mode & 0111 ? 0755 : 0644) < 0)
		err = -errno;
cleanup:
	if (out >= 0 && close(out) < 0 && !err)
		err = -errno;
	if (in >= 0)
		close(in);
	return err;
}

const char *test__staged(const char *rel)
{
	char path[PATH_MAX], src[PATH_MAX], dir[PATH_MAX + 16];
	int i, err;

	snprintf(path, sizeof(path), "%s/%s", test__out_dir(), rel);
	if (!realpath(path, src)) {
		printf("  %s: stage %s: %s\n", test__cur.name, path, strerror(errno));
		return NULL;
	}
	for (i = 0; i < n_staged; i++)
		if (strcmp(staged[i].src, src) == 0)
			return staged[i].dst;
	if (n_staged == STAGE_MAX) {
		printf("  %s: stage %s: more than %d files staged\n", test__cur.name, src,
		       STAGE_MAX);
		return NULL;
	}
	err = stage_dir[0] ? 0 : make_stage_dir();
	/* One directory per copy: two builds' sts-agent keep their name side by side. */
	snprintf(dir, sizeof(dir), "%s/%d", stage_dir, n_staged);
	if (!err && (mkdir(dir, 0755) < 0 || chmod(dir, 0755) < 0))
		err = -errno;
	if (!err && snprintf(staged[n_staged].dst, sizeof(staged[n_staged].dst), "%s/%s", dir,
			     basename(src)) >= (int)sizeof(staged[n_staged].dst))
		err = -ENAMETOOLONG;
	if (!err)
		err = copy_public(src, staged[n_staged].dst);
	if (err) {
		printf("  %s: stage %s in %s: %s\n", test__cur.name, src,
		       stage_dir[0] ? stage_dir : "a directory every uid can reach",
		       strerror(-err));
		return NULL;
	}
	snprintf(staged[n_staged].src, sizeof(staged[n_staged].src), "%s", src);
	return staged[n_staged++].dst;
}
