// SPDX-License-Identifier: GPL-2.0-only
/*
 * cut-on: a power cut at an exact moment, for the VM's power-cut lane (tests/vm/powercut.sh).
 *
 *	cut-on DIR NAME TEXT [NEXT]
 *
 * Watches DIR with inotify; as soon as DIR/NAME is renamed into place or closed after a write
 * and holds TEXT (or, with NEXT, at the first write to DIR/NEXT after that), it restarts the
 * machine at once with reboot(2), without sync: whatever the page cache held and nobody had
 * made durable is lost, as in a power cut. (The host's timed kills cannot aim at a window of
 * a few milliseconds; this can.) NEXT tells "the writer has finished with NAME (its
 * directory fsync'd too) and moved on" from "NAME was just renamed".
 *
 * Before it waits it writes "STS_EXIT 137" on the VM's status port (/dev/ttyS1), so that a
 * guest that is cut reads as such on the host (tests/vm/run exits 137); a guest that runs to
 * the end reports its own status after it, and the last line counts. If DIR/NAME already holds
 * TEXT there is nothing to wait for: it says so and exits 0 without cutting. Exit status 1 on
 * a setup error; the caller kills it when what it watches has ended without a cut.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/reboot.h>
#include <unistd.h>

static int holds(const char *path, const char *text)
{
	char buf[8192];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return strstr(buf, text) != NULL;
}

int main(int argc, char **argv)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	char path[PATH_MAX];
	const struct inotify_event *ev;
	ssize_t n;
	const char *next = argc == 5 ? argv[4] : NULL;
	bool seen = false;
	int fd, st;

	if (argc != 4 && argc != 5) {
		fprintf(stderr, "usage: cut-on DIR NAME TEXT [NEXT]\n");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/%s", argv[1], argv[2]);
	fd = inotify_init1(IN_CLOEXEC);
	if (fd < 0 ||
	    inotify_add_watch(fd, argv[1], IN_MOVED_TO | IN_CLOSE_WRITE | IN_MODIFY) < 0) {
		fprintf(stderr, "cut-on: watch %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	if (holds(path, argv[3])) {
		printf("cut-on: %s already holds the text: no cut\n", path);
		return 0;
	}
	st = open("/dev/ttyS1", O_WRONLY | O_CLOEXEC);
	if (st < 0 || write(st, "STS_EXIT 137\n", 13) != 13) {
		fprintf(stderr, "cut-on: /dev/ttyS1: %s\n", strerror(errno));
		return 1;
	}
	close(st);
	for (;;) {
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return 1;
		for (char *p = buf; p < buf + n; p += sizeof(*ev) + ev->len) {
			ev = (const struct inotify_event *)p;
			if (!ev->len)
				continue;
			if (!seen) {
				if ((ev->mask & IN_MODIFY) || strcmp(ev->name, argv[2]) != 0 ||
				    !holds(path, argv[3]))
					continue;
				seen = true;
				if (next)
					continue;
			} else if (!(ev->mask & IN_MODIFY) || strcmp(ev->name, next) != 0) {
				continue;
			}
			reboot(RB_AUTOBOOT);
			return 1; /* reboot failed: not root? */
		}
	}
}
