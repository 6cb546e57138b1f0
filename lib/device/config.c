// SPDX-License-Identifier: GPL-2.0-only
#include "device/config.h"
#include "core/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum kind { K_STR, K_PATH, K_U32, K_PORT, K_ADDR, K_PERIODIC, K_TEXT, K_SIZE };

struct key {
	const char *name;
	enum kind kind;
	size_t off, size;
	uint32_t min, max;
};

#define S(f) offsetof(struct sts_config, f), sizeof(((struct sts_config *)0)->f)
static const struct key keys[] = {
	{ "collector-host", K_STR, S(collector_host), 0, 0 },
	{ "collector-addr", K_ADDR, S(collector_addr), 0, 0 },
	{ "collector-port", K_PORT, S(collector_port), 1, 65535 },
	{ "collector-ca", K_PATH, S(collector_ca), 0, 0 },
	{ "collector-key", K_PATH, S(collector_key), 0, 0 },
	{ "imei-source", K_STR, S(imei_source), 0, 0 },
	{ "model", K_TEXT, S(model), 0, 0 },
	{ "sw-version", K_TEXT, S(sw_version), 0, 0 },
	{ "policy", K_PATH, S(policy), 0, 0 },
	{ "state-dir", K_PATH, S(state_dir), 0, 0 },
	{ "log", K_PATH, S(log), 0, 0 },
	{ "agent", K_PATH, S(agent), 0, 0 },
	{ "agent-user", K_STR, S(agent_user), 0, 0 },
	{ "retry-initial", K_U32, S(retry_initial), 1, 86400 },
	{ "retry-max", K_U32, S(retry_max), 1, 30 * 86400 },
	{ "collector-timeout", K_U32, S(collector_timeout), 1, 300 },
	{ "periodic", K_PERIODIC, S(periodic_days), 1, 3650 },
	{ "log-max-size", K_SIZE, S(log_max_size), 0, 0 },
};
#undef S

static int fail(char *err, size_t errlen, const char *src, int line, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = line ? snprintf(err, errlen, "%s:%d: ", src, line) : snprintf(err, errlen, "%s: ", src);
	if (n < 0 || (size_t)n >= errlen)
		return -EINVAL;
	va_start(ap, fmt);
	vsnprintf(err + n, errlen - n, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
	unsigned long v = 0;
	const char *p;

	if (!*s || (*s == '0' && s[1]))
		return -1;
	for (p = s; *p; p++) {
		if (*p < '0' || *p > '9' || v > 0xffffffffUL / 10)
			return -1;
		v = v * 10 + (unsigned long)(*p - '0');
	}
	if (v < min || v > max)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static int set(const struct key *k, struct sts_config *c, const char *v, const char *src, int line,
	       char *err, size_t errlen)
{
	char *dst = (char *)c + k->off;
	uint32_t u;

	switch (k->kind) {
	case K_PATH:
		if (v[0] != '/')
			return fail(err, errlen, src, line, "%s %s: the path must be absolute",
				    k->name, v);
		/* fall through */
	case K_STR:
		if (strchr(v, ' ') || strchr(v, '\t'))
			return fail(err, errlen, src, line, "%s: one word expected", k->name);
		/* fall through */
	case K_TEXT:
		if (strlen(v) >= k->size)
			return fail(err, errlen, src, line, "%s: longer than %zu bytes", k->name,
				    k->size - 1);
		strcpy(dst, v);
		return 0;
	case K_ADDR: {
		unsigned char tmp[16];
		const char *colon = strrchr(v, ':');
		char host[64];
		size_t hl;

		if (!colon || strlen(v) >= sizeof(host))
			return fail(
				err, errlen, src, line,
				"collector-addr \"%s\": expected ADDR:PORT, e.g. 192.0.2.10:443 "
				"or [2001:db8::1]:443",
				v);
		hl = colon - v;
		memcpy(host, v, hl);
		host[hl] = '\0';
		if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
			memmove(host, host + 1, hl - 2);
			host[hl - 2] = '\0';
			if (inet_pton(AF_INET6, host, tmp) != 1)
				return fail(err, errlen, src, line,
					    "collector-addr \"%s\": bad IPv6 "
					    "address",
					    v);
		} else if (inet_pton(AF_INET, host, tmp) != 1) {
			return fail(err, errlen, src, line,
				    "collector-addr \"%s\": not an address (names go in "
				    "collector-host; IPv6 in brackets)",
				    v);
		}
		if (parse_u32(colon + 1, 1, 65535, &u))
			return fail(err, errlen, src, line, "collector-addr \"%s\": bad port", v);
		strcpy(c->collector_addr, host);
		c->collector_port = (uint16_t)u;
		return 0;
	}
	case K_PORT:
		if (parse_u32(v, k->min, k->max, &u))
			return fail(err, errlen, src, line, "%s \"%s\": a number in %u..%u",
				    k->name, v, k->min, k->max);
		*(uint16_t *)dst = (uint16_t)u;
		return 0;
	case K_U32:
		if (parse_u32(v, k->min, k->max, &u))
			return fail(err, errlen, src, line, "%s \"%s\": a number in %u..%u",
				    k->name, v, k->min, k->max);
		*(uint32_t *)dst = u;
		return 0;
	case K_SIZE:
		if (sts_config_parse_size(v, (uint64_t *)dst))
			return fail(err, errlen, src, line,
				    "%s \"%s\": \"off\" or a size in bytes (suffix K, M or G: "
				    "KiB, MiB, GiB) from %u to 1T",
				    k->name, v, STS_LOG_MIN_SIZE);
		return 0;
	case K_PERIODIC:
		if (strcmp(v, "off") == 0) {
			*(uint32_t *)dst = 0;
			return 0;
		}
		if (parse_u32(v, k->min, k->max, &u))
			return fail(err, errlen, src, line,
				    "periodic \"%s\": \"off\" or a number of days in %u..%u", v,
				    k->min, k->max);
		*(uint32_t *)dst = u;
		return 0;
	}
	return -EINVAL;
}

int sts_config_parse_size(const char *s, uint64_t *out)
{
	unsigned long long v;
	unsigned int shift;
	char *end;

	if (strcmp(s, "off") == 0) {
		*out = 0;
		return 0;
	}
	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || v > 1ull << 40)
		return -EINVAL;
	shift = *end == 'K' ? 10 : *end == 'M' ? 20 : *end == 'G' ? 30 : 0;
	end += shift != 0;
	if (v > (1ull << 40) >> shift)
		return -EINVAL; /* checked before the shift, which could wrap */
	v <<= shift;
	if (*end || v < STS_LOG_MIN_SIZE || v > 1ull << 40)
		return -EINVAL;
	*out = v;
	return 0;
}

int sts_config_parse(const char *src, const char *buf, size_t len, struct sts_config *c, char *err,
		     size_t errlen)
{
	bool seen[sizeof(keys) / sizeof(keys[0])] = { false };
	bool port_given = false;
	char line[4200], *p, *v, *e;
	size_t pos = 0, n, i;
	int lineno = 0, rc;

	memset(c, 0, sizeof(*c));
	c->collector_port = 443;
	strcpy(c->policy, "/etc/stsguard/policy.conf");
	strcpy(c->state_dir, "/var/lib/stsguard");
	strcpy(c->agent, "/usr/libexec/stsguard/sts-agent");
	strcpy(c->agent_user, "stsagent");
	c->retry_initial = 60;
	c->retry_max = 86400;
	c->collector_timeout = 20;
	if (memchr(buf, '\0', len))
		return fail(err, errlen, src, 0, "NUL byte in the file");
	while (pos < len) {
		lineno++;
		e = memchr(buf + pos, '\n', len - pos);
		n = e ? (size_t)(e - (buf + pos)) : len - pos;
		if (n >= sizeof(line))
			return fail(err, errlen, src, lineno, "line longer than %zu bytes",
				    sizeof(line) - 1);
		memcpy(line, buf + pos, n);
		line[n] = '\0';
		pos += n + (e ? 1 : 0);
		for (i = 0; i < n; i++)
			if ((unsigned char)line[i] < 0x20 && line[i] != '\t')
				return fail(err, errlen, src, lineno,
					    "control character 0x%02x at column %zu (CRLF line "
					    "endings are not accepted)",
					    (unsigned char)line[i], i + 1);
		/* '#' at the start of a word starts a comment. */
		for (p = line; *p; p++)
			if (*p == '#' && (p == line || p[-1] == ' ' || p[-1] == '\t')) {
				*p = '\0';
				break;
			}
		for (p = line; *p == ' ' || *p == '\t'; p++)
			;
		for (e = p + strlen(p); e > p && (e[-1] == ' ' || e[-1] == '\t'); e--)
			*(e - 1) = '\0';
		if (!*p)
			continue;
		v = p + strcspn(p, " \t");
		if (*v) {
			*v++ = '\0';
			while (*v == ' ' || *v == '\t')
				v++;
		}
		for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			if (strcmp(keys[i].name, p) == 0)
				break;
		if (i == sizeof(keys) / sizeof(keys[0]))
			return fail(err, errlen, src, lineno, "unknown key \"%.64s\"", p);
		if (seen[i])
			return fail(err, errlen, src, lineno, "%s given twice", keys[i].name);
		if (!*v)
			return fail(err, errlen, src, lineno, "%s: missing value", keys[i].name);
		seen[i] = true;
		rc = set(&keys[i], c, v, src, lineno, err, errlen);
		if (rc)
			return rc;
		if (strcmp(keys[i].name, "collector-port") == 0)
			port_given = true;
	}
	if (port_given && c->collector_addr[0])
		return fail(err, errlen, src, 0,
			    "collector-port and collector-addr both give the port: use one");
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		static const char *required[] = { "collector-host", "collector-ca", "collector-key",
						  "imei-source" };

		for (size_t r = 0; r < 4; r++)
			if (!seen[i] && strcmp(keys[i].name, required[r]) == 0)
				return fail(err, errlen, src, 0, "%s is required", keys[i].name);
	}
	if (!c->log[0] && snprintf(c->log, sizeof(c->log), "%s/evidence.log", c->state_dir) >=
				  (int)sizeof(c->log))
		return fail(err, errlen, src, 0, "state-dir too long");
	if (c->retry_initial > c->retry_max)
		return fail(err, errlen, src, 0, "retry-initial is larger than retry-max");
	return 0;
}

int sts_config_load(const char *path, struct sts_config *c, char *err, size_t errlen)
{
	char *buf = NULL;
	size_t len;
	int rc;

	rc = sts_read_file(path, STS_CONFIG_MAX_SIZE, &buf, &len);
	if (rc) {
		snprintf(err, errlen, "%s: %s", path,
			 rc == -EFBIG ? "larger than 64 KiB" : sts_file_strerror(rc));
		return rc;
	}
	rc = sts_config_parse(path, buf, len, c, err, errlen);
	free(buf);
	return rc;
}
