// SPDX-License-Identifier: GPL-2.0-only
/* lib/device/config: the monitor's configuration file. */
#include "test.h"
#include "device/config.h"

#define BASE                                        \
	"collector-host collector.test\n"           \
	"collector-ca /etc/stsguard/ca.pem\n"       \
	"collector-key /etc/stsguard/receipt.pub\n" \
	"imei-source at:/dev/ttyUSB2\n"

static int parse(const char *text, struct sts_config *c, char *err)
{
	return sts_config_parse("stsd.conf", text, strlen(text), c, err, 256);
}

void test_config_parse(void)
{
	struct sts_config c;
	char err[256];

	if (!ASSERT_OK(parse(BASE, &c, err), "minimal configuration"))
		printf("    %s\n", err);
	ASSERT_STREQ(c.collector_host, "collector.test", "collector-host");
	ASSERT_EQ(c.collector_port, 443, "default port");
	ASSERT_STREQ(c.collector_addr, "", "no address: DNS");
	ASSERT_STREQ(c.state_dir, "/var/lib/stsguard", "default state dir");
	ASSERT_STREQ(c.log, "/var/lib/stsguard/evidence.log", "default log in the state dir");
	ASSERT_EQ(c.periodic_days, 0, "periodic off by default");
	ASSERT_EQ(c.collector_timeout, 20, "the agent waits 20 s on a silent collector");
	ASSERT_OK(parse(BASE "collector-timeout 2\n", &c, err), "collector-timeout");
	ASSERT_EQ(c.collector_timeout, 2, "collector-timeout value");
	ASSERT_ERR(parse(BASE "collector-timeout 0\n", &c, err), "no timeout is not a timeout");
	ASSERT_ERR(parse(BASE "collector-timeout 301\n", &c, err), "at most 300 s");
	ASSERT_OK(parse(BASE "collector-addr [::1]:8443\nmodel Wiko View 2 # comment\n"
			     "periodic 30\nretry-initial 2\n",
			&c, err),
		  "full configuration");
	ASSERT_STREQ(c.collector_addr, "::1", "IPv6 address");
	ASSERT_EQ(c.collector_port, 8443, "port from the address");
	ASSERT_STREQ(c.model, "Wiko View 2", "model override keeps its spaces, drops the comment");
	ASSERT_EQ(c.periodic_days, 30, "periodic days");

	ASSERT_ERR(parse("collector-host a\n", &c, err), "missing required keys");
	ASSERT_TRUE(strstr(err, "collector-ca is required") != NULL, "names the missing key");
	ASSERT_ERR(parse(BASE "colector-addr 1.2.3.4:1\n", &c, err), "unknown key");
	ASSERT_STREQ(err, "stsd.conf:5: unknown key \"colector-addr\"", "names file and line");
	ASSERT_ERR(parse(BASE "collector-addr collector.test:443\n", &c, err), "name as address");
	ASSERT_ERR(parse(BASE "collector-addr 1.2.3.4:99999\n", &c, err), "port out of range");
	ASSERT_ERR(parse(BASE "periodic sometimes\n", &c, err), "bad periodic");
	ASSERT_ERR(parse(BASE "policy relative.conf\n", &c, err), "relative path");
	ASSERT_ERR(parse(BASE "imei-source at:/dev/ttyUSB2\n", &c, err), "duplicate key");
	ASSERT_ERR(parse(BASE "retry-initial 100\nretry-max 10\n", &c, err), "initial > max");
	ASSERT_ERR(parse(BASE "model x\r\n", &c, err), "CRLF");
	ASSERT_ERR(sts_config_parse("stsd.conf", "a\0b", 3, &c, err, sizeof(err)), "NUL byte");

	/* log-max-size: off by default, bytes with K/M/G, nothing that wraps or trails. */
	ASSERT_OK(parse(BASE, &c, err), "minimal");
	ASSERT_EQ(c.log_max_size, 0, "no rotation by default");
	ASSERT_OK(parse(BASE "log-max-size 64M\n", &c, err), "log-max-size 64M");
	ASSERT_EQ(c.log_max_size, 64ull << 20, "64 MiB");
	ASSERT_OK(parse(BASE "log-max-size 5000\n", &c, err), "in bytes");
	ASSERT_EQ(c.log_max_size, 5000, "5000 bytes");
	ASSERT_OK(parse(BASE "log-max-size off\n", &c, err), "off");
	ASSERT_EQ(c.log_max_size, 0, "off");
	ASSERT_ERR(parse(BASE "log-max-size 100\n", &c, err), "below 4096 bytes");
	ASSERT_TRUE(strstr(err, "stsd.conf:5: log-max-size \"100\"") != NULL, "says where");
	ASSERT_ERR(parse(BASE "log-max-size 17179869184G\n", &c, err), "wraps 64 bits");
	ASSERT_ERR(parse(BASE "log-max-size 2T\n", &c, err), "unknown suffix");
	ASSERT_ERR(parse(BASE "log-max-size 2G0\n", &c, err), "trailing bytes");
	ASSERT_ERR(parse(BASE "log-max-size -1\n", &c, err), "negative");
	ASSERT_ERR(parse(BASE "log-max-size 2048G\n", &c, err), "above 1 TiB");
}
