/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The vendor key of the test programs that send reports under `stsd run` (tests/bin/tls-client):
 * a fixed Ed25519 seed, so that the tests can name its public half in the policy (report-key)
 * and the device configuration stsd compares the claims with (stsd_device_files).
 */
#ifndef STS_TEST_REPORT_KEY_H
#define STS_TEST_REPORT_KEY_H

static const unsigned char test_report_seed[32] = {
	0x9d, 0x61, 0xb1, 0x9d, 0xef, 0xfd, 0x5a, 0x60, 0xba, 0x84, 0x4a,
	0xf4, 0x92, 0xec, 0x2c, 0xc4, 0x44, 0x49, 0xc5, 0x69, 0x7b, 0x32,
	0x69, 0x19, 0x70, 0x3b, 0xac, 0x03, 0x1c, 0xae, 0x7f, 0x60,
};

/* The device the tests' reports describe: what stsd_device_files() configures. */
#define TEST_IMEI "490154203237518"
#define TEST_MODEL "Wiko View"
#define TEST_SW_VERSION "1.2.3"
#define TEST_HOST "collector.test"

#endif
