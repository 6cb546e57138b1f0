// SPDX-License-Identifier: GPL-2.0-only
#include "core/access.h"

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

/* The three classes of a mode, as the kernel picks one: owner, else group, else other. */
enum access_class { CLASS_OWNER, CLASS_GROUP, CLASS_OTHER };

int sts_creds_self(struct sts_creds *c)
{
	int n;

	memset(c, 0, sizeof(*c));
	c->uid = geteuid();
	c->gid = getegid();
	n = getgroups(STS_CREDS_MAX_GROUPS, c->groups);
	if (n < 0)
		return -errno;
	c->ngroups = n;
	return 0;
}

int sts_creds_of_user(const char *user, struct sts_creds *c)
{
	struct passwd *pw = getpwnam(user);

	if (!pw)
		return -ENOENT;
	memset(c, 0, sizeof(*c));
	c->uid = pw->pw_uid;
	c->gid = pw->pw_gid;
	return 0;
}

static bool in_group(const struct sts_creds *c, gid_t gid)
{
	int i;

	if (c->gid == gid)
		return true;
	for (i = 0; i < c->ngroups; i++)
		if (c->groups[i] == gid)
			return true;
	return false;
}

static enum access_class class_of(const struct stat *st, const struct sts_creds *c)
{
	if (st->st_uid == c->uid)
		return CLASS_OWNER;
	if (in_group(c, st->st_gid))
		return CLASS_GROUP;
	return CLASS_OTHER;
}

/* The mode bits (R_OK, W_OK, X_OK) of want that c lacks on this file; 0: it may. */
static int missing_bits(const struct stat *st, int want, const struct sts_creds *c)
{
	static const int shift[] = { [CLASS_OWNER] = 6, [CLASS_GROUP] = 3, [CLASS_OTHER] = 0 };
	int have;

	if (c->uid == 0) {
		/* CAP_DAC_OVERRIDE: everything but executing a file that no one may execute. */
		if (S_ISDIR(st->st_mode) || (st->st_mode & (S_IXUSR | S_IXGRP | S_IXOTH)))
			return 0;
		return want & X_OK;
	}
	have = (st->st_mode >> shift[class_of(st, c)]) & 7;
	return want & ~have & (R_OK | W_OK | X_OK);
}

static void user_name(uid_t uid, char *buf, size_t len)
{
	struct passwd *pw = getpwuid(uid);

	if (pw)
		snprintf(buf, len, "%s", pw->pw_name);
	else
		snprintf(buf, len, "%u", (unsigned int)uid);
}

static void group_name(gid_t gid, char *buf, size_t len)
{
	struct group *gr = getgrgid(gid);

	if (gr)
		snprintf(buf, len, "%s", gr->gr_name);
	else
		snprintf(buf, len, "%u", (unsigned int)gid);
}

/* "readable or executable": what the missing bits would have allowed. */
static void bit_words(int missing, bool dir, char *buf, size_t len)
{
	const char *words[3];
	int n = 0;

	if (missing & R_OK)
		words[n++] = "readable";
	if (missing & W_OK)
		words[n++] = "writable";
	if (missing & X_OK)
		words[n++] = dir ? "searchable" : "executable";
	snprintf(buf, len, "%s%s%s%s%s", words[0], n > 1 ? " or " : "", n > 1 ? words[1] : "",
		 n > 2 ? " or " : "", n > 2 ? words[2] : "");
}

/*
 * The sentence for a refusal. It says which class decided, since only one counts: a user in
 * the file's group gets the group's bits even when the others' bits would let it in.
 */
static int deny(const char *path, const struct stat *st, int missing, const struct sts_creds *c,
		char *why, size_t len)
{
	char owner[64], group[64], words[64], who[160];

	user_name(st->st_uid, owner, sizeof(owner));
	group_name(st->st_gid, group, sizeof(group));
	bit_words(missing, S_ISDIR(st->st_mode), words, sizeof(words));
	if (c->uid == 0)
		snprintf(who, sizeof(who), "anyone");
	else if (class_of(st, c) == CLASS_OWNER)
		snprintf(who, sizeof(who), "uid %u, its owner", (unsigned int)c->uid);
	else if (class_of(st, c) == CLASS_GROUP)
		snprintf(who, sizeof(who), "uid %u, which is in its group %s", (unsigned int)c->uid,
			 group);
	else
		snprintf(who, sizeof(who), "uid %u", (unsigned int)c->uid);
	snprintf(why, len, "%s is not %s by %s (mode %04o, owner %s, group %s)", path, words, who,
		 (unsigned int)(st->st_mode & 07777), owner, group);
	return -EACCES;
}

static int stat_failed(const char *path, int err, char *why, size_t len)
{
	if (err == ENOENT)
		snprintf(why, len, "%s does not exist", path);
	else
		snprintf(why, len, "stat %s: %s", path, strerror(err));
	return -err;
}

/* Every directory the kernel passes on its way to path's last component must be searchable. */
static int walk_dirs(const char *path, const struct sts_creds *c, char *why, size_t len)
{
	const char *last = strrchr(path, '/'), *p;
	char dir[PATH_MAX];
	struct stat st;
	size_t n;

	for (p = path; p && p <= last; p = strchr(p + 1, '/')) {
		n = p == path ? 1 : (size_t)(p - path); /* "/" itself, then each prefix */
		memcpy(dir, path, n);
		dir[n] = '\0';
		if (stat(dir, &st) < 0)
			return stat_failed(dir, errno, why, len);
		if (!S_ISDIR(st.st_mode)) {
			snprintf(why, len, "%s is not a directory", dir);
			return -ENOTDIR;
		}
		if (missing_bits(&st, X_OK, c))
			return deny(dir, &st, X_OK, c, why, len);
	}
	return 0;
}

/* The last component: its own bits, and for an exec the mount's noexec flag. */
static int check_target(const char *path, int mode, const struct sts_creds *c, char *why,
			size_t len)
{
	struct statvfs vfs;
	struct stat st;
	int missing;

	if (stat(path, &st) < 0)
		return stat_failed(path, errno, why, len);
	missing = missing_bits(&st, mode, c);
	if (missing)
		return deny(path, &st, missing, c, why, len);
	if ((mode & X_OK) && S_ISREG(st.st_mode) && statvfs(path, &vfs) == 0 &&
	    (vfs.f_flag & ST_NOEXEC)) {
		snprintf(why, len, "%s is on a file system mounted noexec", path);
		return -EACCES;
	}
	return 0;
}

static int make_absolute(const char *path, char *out, size_t len)
{
	char cwd[PATH_MAX];

	if (path[0] == '/')
		return snprintf(out, len, "%s", path) < (int)len ? 0 : -ENAMETOOLONG;
	if (!getcwd(cwd, sizeof(cwd)))
		return -errno;
	return snprintf(out, len, "%s/%s", cwd, path) < (int)len ? 0 : -ENAMETOOLONG;
}

int sts_access_check(const char *path, int mode, const struct sts_creds *c, char *why, size_t len)
{
	char full[PATH_MAX], real[PATH_MAX];
	const char *walk;
	int err;

	why[0] = '\0';
	err = make_absolute(path, full, sizeof(full));
	if (err) {
		snprintf(why, len, "%s: %s", path, strerror(-err));
		return err;
	}
	/*
	 * With the symlinks resolved (when this process may resolve them), every directory the
	 * kernel passes through is a prefix of the path walked.
	 */
	walk = realpath(full, real) ? real : full;
	err = walk_dirs(walk, c, why, len);
	if (err)
		return err;
	return check_target(walk, mode, c, why, len);
}
