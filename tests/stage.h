/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the tests hand to an unprivileged user, where that user can reach it.
 *
 * stsd runs its agent as nobody (and `stsd run --user USER` its command as USER). A checkout in
 * a mode-0700 directory (/root/stsguard, mktemp -d) keeps them from build/sts-agent: exec fails
 * with EACCES. So the tests run copies: test__staged("sts-agent") copies OUT/sts-agent, once per
 * test binary run, into a staging directory every uid can reach (mode 0755 all the way up, under
 * $TMPDIR if nobody can reach that, else /tmp), and returns the copy's path. The directory is
 * removed when the test binary exits.
 */
#ifndef STS_TEST_STAGE_H
#define STS_TEST_STAGE_H

/*
 * The staged copy of OUT/rel (rel: "sts-agent", "tests/bin/rogue", ...), made on first use,
 * with its base name kept (it is the process's comm). NULL, with the reason printed, on error.
 */
const char *test__staged(const char *rel);

/*
 * A directory to make scratch directories in that nobody can reach: $TMPDIR if it can, else
 * /tmp. NULL, with the reason printed, if neither.
 */
const char *test__public_base(void);

#endif
