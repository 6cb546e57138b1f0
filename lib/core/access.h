/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Why a user cannot reach a file, in one sentence. stsd runs its agent (or `stsd run`'s
 * command) as an unprivileged user; when that user cannot execute or read what it is given,
 * the kernel says only EACCES. This walks the path one directory at a time with stat() and
 * applies the kernel's mode-bit rule to each component for that user, so the answer names the
 * component that stops it:
 *
 *	/root is not searchable by uid 65534 (mode 0700, owner root, group root)
 *
 * The rule (the kernel's generic_permission): the owner's bits if the uid owns the file, else
 * the group's bits if the gid or a supplementary group is the file's group, else the others'
 * bits; only one class counts, so mode 0705 with the user in the group denies it. uid 0 is
 * taken to hold CAP_DAC_OVERRIDE: it passes every directory and reads every file, and executes
 * a file that has any x bit. ACLs are not read: a file with one may refuse what its mode bits
 * allow. Functions return 0 or -errno.
 */
#ifndef STS_ACCESS_H
#define STS_ACCESS_H

#include <stddef.h>
#include <sys/types.h>

#define STS_CREDS_MAX_GROUPS 64

/* Whom to check for: a uid, its gid and supplementary groups. */
struct sts_creds {
	uid_t uid;
	gid_t gid;
	int ngroups;
	gid_t groups[STS_CREDS_MAX_GROUPS];
};

/* The calling process's effective uid and gid and its supplementary groups. */
int sts_creds_self(struct sts_creds *c);

/*
 * The credentials stsd gives a command it runs as user (stsd/police.c): the user's uid and
 * primary gid, no supplementary groups. -ENOENT if there is no such user.
 */
int sts_creds_of_user(const char *user, struct sts_creds *c);

/*
 * May c reach path and use it as mode says (R_OK, W_OK, X_OK or-ed; F_OK: only reach it)?
 * 0 if the mode bits allow it, why set to "". Otherwise -EACCES, or the -errno of a stat
 * that failed (-ENOENT, -ENOTDIR), with why naming the first component that stops c. X_OK
 * on a regular file also checks that its file system is not mounted noexec.
 */
int sts_access_check(const char *path, int mode, const struct sts_creds *c, char *why, size_t len);

#endif /* STS_ACCESS_H */
