/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * UUCP lock files for a serial port, as minicom, lockdev and ModemManager's own tools take
 * them: /run/lock/LCK..<name> (or /var/lock), created atomically with the holder's pid in HDB
 * format, so any polite user of the port is refused instead of interleaved. A lock whose pid no
 * longer runs is stale and is replaced. The identifier broker holds one for its AT exchange,
 * beside flock() on the open port.
 */
#ifndef STS_UUCP_LOCK_H
#define STS_UUCP_LOCK_H

#include <stddef.h>

/*
 * Lock the port whose resolved path is real (dev is the name the operator gave, for
 * messages). 0 with lockp holding the lock file now ours, or "" on a system with no lock
 * directory (an initramfs: nothing to release); else -EBUSY when another process holds the
 * port, or -errno, with lockp "" and why saying which.
 */
int sts_uucp_lock(const char *real, const char *dev, char *lockp, size_t lockpsz, char *why,
		  size_t whylen);

/* Release what sts_uucp_lock took, only while the lock file is still ours; "" does nothing. */
void sts_uucp_unlock(const char *lockp);

#endif /* STS_UUCP_LOCK_H */
