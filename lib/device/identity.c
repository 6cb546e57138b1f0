// SPDX-License-Identifier: GPL-2.0-only
/*
 * The model and software version of the device (identity.h). One reader for the agent and the
 * monitor: a report the agent builds carries exactly the values the monitor compares it with.
 */
#include "device/identity.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char *const model_files[] = {
	"/sys/firmware/devicetree/base/model", /* arm64 phones */
	"/sys/class/dmi/id/product_name", /* x86 machines and VMs */
};

/* Read a small text file; trailing NULs, newlines and blanks (device tree strings) removed. */
static int read_small(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\0' || buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return n > 0 ? 0 : -ENODATA;
}

int sts_device_model(const char *override, char *out, size_t len, char *why, size_t wl)
{
	size_t i;

	if (override && override[0]) {
		snprintf(out, len, "%s", override);
		return 0;
	}
	for (i = 0; i < sizeof(model_files) / sizeof(model_files[0]); i++)
		if (read_small(model_files[i], out, len) == 0)
			return 0;
	snprintf(why, wl, "no model: none of %s, %s is readable; set 'model' in stsd.conf",
		 model_files[0], model_files[1]);
	return -ENODATA;
}

int sts_device_sw_version(const char *override, char *out, size_t len, char *why, size_t wl)
{
	static const char *const keys[] = { "VERSION_ID=", "BUILD_ID=" };
	char buf[4096], copy[4096], *line, *save, *v;
	size_t k;
	int err;

	if (override && override[0]) {
		snprintf(out, len, "%s", override);
		return 0;
	}
	err = read_small("/etc/os-release", buf, sizeof(buf));
	if (err) {
		snprintf(why, wl, "read /etc/os-release: %s; set 'sw-version' in stsd.conf",
			 strerror(-err));
		return err;
	}
	for (k = 0; k < 2; k++) {
		memcpy(copy, buf, sizeof(copy));
		for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			if (strncmp(line, keys[k], strlen(keys[k])) != 0)
				continue;
			v = line + strlen(keys[k]);
			if (*v == '"' || *v == '\'') {
				char q = *v++, *end = strchr(v, q);

				if (end)
					*end = '\0';
			}
			if (*v) {
				snprintf(out, len, "%s", v);
				return 0;
			}
		}
	}
	snprintf(why, wl,
		 "/etc/os-release has neither VERSION_ID nor BUILD_ID; set 'sw-version' "
		 "in stsd.conf");
	return -ENODATA;
}
