// SPDX-License-Identifier: GPL-2.0-only
/*
 * The arm64 cross build (issue 16) as a phone maker installs it: `make ARCH=arm64 install
 * PREFIX=/usr DESTDIR=ROOT` puts arm64 executables where the phone runs them, and the phone's
 * policy, policy/default.conf, as the example policy. The executables are judged by their ELF
 * header (machine, class, interpreter), not by their names, so an x86 build that slipped into
 * the arm64 install fails here. Needs the cross build (make check makes it first).
 */
#include "test.h"

#include <elf.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The ELF header's machine of path (EM_*), or -1 if it is not a 64-bit little-endian ELF. */
static int elf_machine(const char *path)
{
	Elf64_Ehdr eh;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, &eh, sizeof(eh));
	close(fd);
	if (n != sizeof(eh) || memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB)
		return -1;
	return eh.e_machine;
}

void test_cross_arm64_install(void)
{
	static const char *const bins[] = { "usr/bin/stsd", "usr/bin/stsctl",
					    "usr/bin/sts-collector",
					    "usr/libexec/stsguard/sts-agent" };
	static char out[16384];
	char root[512], path[700];
	size_t i;
	int st;

	if (access("build/arm64/stsd", X_OK) != 0) {
		test__skip("no arm64 cross build in build/arm64 (make ARCH=arm64)");
		return;
	}
	snprintf(root, sizeof(root), "%s/phone", test__tmpdir());
	/*
	 * OUT on the command line: make check exports OUT=build (the native build), which would
	 * otherwise win over the arm64 default and install (or rebuild) the wrong binaries.
	 */
	st = test__run(out, sizeof(out),
		       "make -s ARCH=arm64 OUT=build/arm64 install PREFIX=/usr DESTDIR=%s", root);
	if (!ASSERT_EQ(st, 0, "make ARCH=arm64 install PREFIX=/usr DESTDIR=ROOT")) {
		printf("%s\n", out);
		return;
	}
	for (i = 0; i < sizeof(bins) / sizeof(bins[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", root, bins[i]);
		snprintf(out, sizeof(out), "%s is an arm64 (EM_AARCH64) executable", bins[i]);
		ASSERT_EQ(elf_machine(path), EM_AARCH64, out);
	}
	/* The loader the phone has, not the build machine's. */
	snprintf(path, sizeof(path), "%s/usr/bin/stsd", root);
	ASSERT_EQ(test__run(out, sizeof(out),
			    "readelf -lW %s | grep -F '[Requesting program interpreter: "
			    "/lib/ld-linux-aarch64.so.1]'",
			    path),
		  0, "stsd asks for arm64's loader, /lib/ld-linux-aarch64.so.1");
	/* The phone's policy is the example, unchanged but for the agent's path of this PREFIX. */
	snprintf(path, sizeof(path), "%s/etc/stsguard/policy.conf.example", root);
	ASSERT_EQ(test__run(out, sizeof(out), "diff policy/default.conf %s", path), 0,
		  "the example policy is policy/default.conf (PREFIX=/usr: the same agent path)");
}
