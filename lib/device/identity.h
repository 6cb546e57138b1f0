/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The device's own values for the report's model and sw_version claims, read the same way by
 * the agent (which builds the claims) and by the monitor (which approves only these values):
 *
 *	model       the "model" of stsd.conf if set, else the first readable of
 *	            /sys/firmware/devicetree/base/model (arm64 phones) and
 *	            /sys/class/dmi/id/product_name (x86 machines and VMs)
 *	sw_version  the "sw-version" of stsd.conf if set, else VERSION_ID (else BUILD_ID) of
 *	            /etc/os-release, unquoted
 *
 * Trailing NULs, newlines and blanks (device tree strings) are removed. Both return 0, or
 * -errno with a sentence in why.
 */
#ifndef STS_IDENTITY_H
#define STS_IDENTITY_H

#include <stddef.h>

/* override: "" or NULL to read the device; out: at least 65 bytes. */
int sts_device_model(const char *override, char *out, size_t len, char *why, size_t wl);
int sts_device_sw_version(const char *override, char *out, size_t len, char *why, size_t wl);

#endif
