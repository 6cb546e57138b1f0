/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The monitor's configuration, /etc/stsguard/stsd.conf: one "key value" per line, '#' starts a
 * comment at the start of a word, blank lines ignored. Unknown keys, missing required keys,
 * duplicates and bad values are errors, reported as "FILE:LINE: reason". See docs/agent.md.
 *
 *	collector-host NAME      required: the collector's name in its TLS certificate
 *	collector-addr ADDR:PORT where to connect; without it the monitor resolves collector-host
 *	collector-port PORT      with DNS resolution (default 443)
 *	collector-ca FILE        required: the pinned CA of the collector's TLS certificate
 *	collector-key FILE       required: the collector's receipt-signing public key
 *	imei-source SOURCE       required: at:/dev/ttyUSB2 | mmcli:0 | file:/etc/stsguard/imei
 *	model TEXT               override the model read from the device (rest of the line)
 *	sw-version TEXT          override the software version read from /etc/os-release
 *	policy FILE              default /etc/stsguard/policy.conf
 *	state-dir DIR            the monitor's state, keys, consent (default /var/lib/stsguard)
 *	log FILE                 the evidence log (default <state-dir>/evidence.log)
 *	agent FILE               the agent binary (default /usr/libexec/stsguard/sts-agent)
 *	agent-user USER          default stsagent
 *	retry-initial SECONDS    first retry delay (default 60); doubles, with jitter
 *	retry-max SECONDS        longest retry delay (default 86400)
 *	collector-timeout SECS   the agent gives up on a silent collector (default 20)
 *	periodic off|DAYS        resend every DAYS days after activation (default off)
 *	log-max-size off|SIZE    rotate the evidence log into a new segment past SIZE bytes
 *	                         (suffix K, M, G; default off)
 */
#ifndef STS_CONFIG_H
#define STS_CONFIG_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STS_CONFIG_DEFAULT_PATH "/etc/stsguard/stsd.conf"
#define STS_CONFIG_MAX_SIZE (64 * 1024)

struct sts_config {
	char collector_host[256];
	char collector_addr[64]; /* numeric, "" when resolved by DNS */
	uint16_t collector_port;
	char collector_ca[4096];
	char collector_key[4096];
	char imei_source[4096];
	char model[65];
	char sw_version[65];
	char policy[4096];
	char state_dir[4096];
	char log[4096];
	char agent[4096];
	char agent_user[64];
	uint32_t retry_initial;
	uint32_t retry_max;
	uint32_t collector_timeout; /* seconds without progress before the agent gives up */
	uint32_t periodic_days; /* 0: off */
	uint64_t log_max_size; /* bytes; 0: never rotate */
};

/* Below this, a segment would be little more than its copied checkpoint. */
#define STS_LOG_MIN_SIZE 4096

/* "off" (0) or bytes with an optional K, M or G suffix (powers of 1024), STS_LOG_MIN_SIZE..1T. */
int sts_config_parse_size(const char *s, uint64_t *out);

int sts_config_parse(const char *source, const char *buf, size_t len, struct sts_config *c,
		     char *err, size_t errlen);
int sts_config_load(const char *path, struct sts_config *c, char *err, size_t errlen);

#endif
