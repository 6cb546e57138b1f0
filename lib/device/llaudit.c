// SPDX-License-Identifier: GPL-2.0-only
/* Landlock's audit records, parsed (llaudit.h). */
#include "device/llaudit.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/*
 * A value as audit writes it: "quoted" (no quote inside: audit quotes only such strings), or a
 * bare token, which for an untrusted string (path, name) is its bytes in hex. out gets it
 * decoded and NUL-terminated; *end points past it. Returns -EBADMSG if it does not fit.
 */
static int value(const char *s, const char *lim, bool untrusted, char *out, size_t outlen,
		 const char **end)
{
	const char *e;
	size_t n, i;

	if (s < lim && *s == '"') {
		e = memchr(s + 1, '"', lim - s - 1);
		if (!e)
			return -EBADMSG;
		n = e - s - 1;
		if (n >= outlen)
			return -EBADMSG;
		memcpy(out, s + 1, n);
		out[n] = '\0';
		*end = e + 1;
		return 0;
	}
	for (e = s; e < lim && *e != ' '; e++)
		;
	n = e - s;
	*end = e;
	if (untrusted && n % 2 == 0 && n > 0) {
		for (i = 0; i < n && hexval(s[i]) >= 0; i++)
			;
		if (i == n) {
			if (n / 2 >= outlen)
				return -EBADMSG;
			for (i = 0; i < n / 2; i++)
				out[i] = (char)(hexval(s[2 * i]) << 4 | hexval(s[2 * i + 1]));
			out[n / 2] = '\0';
			/* A NUL inside would cut the path short: refuse it rather than mislead. */
			return memchr(out, '\0', n / 2) ? -EBADMSG : 0;
		}
	}
	if (n >= outlen)
		return -EBADMSG;
	memcpy(out, s, n);
	out[n] = '\0';
	return 0;
}

static bool number(const char *s, int base, uint64_t *v)
{
	char *end;

	if (!*s || *s == '-' || *s == '+' || *s == ' ')
		return false;
	errno = 0;
	*v = strtoull(s, &end, base);
	return !errno && !*end;
}

static unsigned int blockers(const char *list)
{
	static const char *const reads[] = { "fs.read_file", "fs.read_dir" };
	unsigned int bits = 0;
	char one[64];

	while (*list) {
		size_t n = strcspn(list, ",");
		bool read = false;

		if (n >= sizeof(one)) {
			bits |= STS_LLA_OTHER;
		} else {
			memcpy(one, list, n);
			one[n] = '\0';
			for (size_t i = 0; i < sizeof(reads) / sizeof(reads[0]); i++)
				read |= !strcmp(one, reads[i]);
			if (read)
				bits |= STS_LLA_READ;
			else if (!strcmp(one, "fs.execute"))
				bits |= STS_LLA_EXEC;
			else if (!strncmp(one, "fs.", 3))
				bits |= STS_LLA_WRITE;
			else if (!strncmp(one, "net.", 4))
				bits |= STS_LLA_NET;
			else
				bits |= STS_LLA_OTHER;
		}
		list += n;
		if (*list == ',')
			list++;
	}
	return bits;
}

int sts_llaudit_parse(int type, const char *text, size_t len, struct sts_llaudit_rec *r)
{
	const char *p = text, *lim = text + len, *colon, *e;
	bool has_domain = false, has_status = false, has_blockers = false;
	char key[16], val[4096];
	uint64_t v;
	int err;

	if (type != STS_AUDIT_LANDLOCK_ACCESS && type != STS_AUDIT_LANDLOCK_DOMAIN &&
	    type != STS_AUDIT_SYSCALL && type != STS_AUDIT_EOE)
		return -ENOENT;
	memset(r, 0, sizeof(*r));
	r->type = type;
	r->pid = -1;
	/* Trailing NULs and newlines are not part of the record. */
	while (lim > p && (lim[-1] == '\0' || lim[-1] == '\n'))
		lim--;
	/* The header: audit(SECONDS.MILLIS:SERIAL): */
	if (lim - p < 8 || memcmp(p, "audit(", 6))
		return -EBADMSG;
	e = memchr(p, ')', lim - p);
	colon = e ? memchr(p, ':', e - p) : NULL;
	if (!e || !colon || e + 1 >= lim || e[1] != ':' || (e + 2 < lim && e[2] != ' '))
		return -EBADMSG;
	if ((size_t)(e - colon - 1) >= sizeof(val))
		return -EBADMSG;
	memcpy(val, colon + 1, e - colon - 1);
	val[e - colon - 1] = '\0';
	if (!number(val, 10, &r->serial))
		return -EBADMSG;
	p = e + 2;
	while (p < lim && *p == ' ')
		p++;
	while (p < lim) {
		const char *eq = memchr(p, '=', lim - p);
		bool untrusted;

		if (!eq || (size_t)(eq - p) >= sizeof(key) || memchr(p, ' ', eq - p))
			return -EBADMSG;
		memcpy(key, p, eq - p);
		key[eq - p] = '\0';
		untrusted = !strcmp(key, "path") || !strcmp(key, "name") || !strcmp(key, "exe") ||
			    !strcmp(key, "comm");
		err = value(eq + 1, lim, untrusted, val, sizeof(val), &p);
		if (err)
			return err;
		if (p < lim && *p != ' ')
			return -EBADMSG;
		while (p < lim && *p == ' ')
			p++;
		if (!strcmp(key, "domain")) {
			if (has_domain || !number(val, 16, &r->domain))
				return -EBADMSG;
			has_domain = true;
		} else if (type == STS_AUDIT_LANDLOCK_ACCESS && !strcmp(key, "blockers")) {
			if (has_blockers || !val[0])
				return -EBADMSG;
			has_blockers = true;
			r->access = blockers(val);
			snprintf(r->blockers, sizeof(r->blockers), "%s", val);
		} else if (type == STS_AUDIT_LANDLOCK_ACCESS &&
			   (!strcmp(key, "path") || !strcmp(key, "name"))) {
			if (!r->path[0])
				snprintf(r->path, sizeof(r->path), "%s", val);
		} else if (type == STS_AUDIT_LANDLOCK_ACCESS &&
			   (!strcmp(key, "daddr") || !strcmp(key, "saddr"))) {
			uint8_t a[16];
			int fam = inet_pton(AF_INET, val, a) == 1    ? AF_INET
				  : inet_pton(AF_INET6, val, a) == 1 ? AF_INET6
								     : 0;

			if (!fam)
				return -EBADMSG;
			if (!r->net_family) {
				r->net_family = fam;
				memcpy(r->net_addr, a, fam == AF_INET ? 4 : 16);
			}
		} else if (type == STS_AUDIT_LANDLOCK_ACCESS &&
			   (!strcmp(key, "dest") || !strcmp(key, "src"))) {
			if (!number(val, 10, &v) || !v || v > 65535)
				return -EBADMSG;
			if (!r->net_port)
				r->net_port = (uint16_t)v;
		} else if (type == STS_AUDIT_LANDLOCK_ACCESS && !strcmp(key, "ino")) {
			if (!number(val, 10, &r->ino))
				return -EBADMSG;
			r->has_ino = true;
		} else if (type == STS_AUDIT_LANDLOCK_DOMAIN && !strcmp(key, "status")) {
			if (has_status)
				return -EBADMSG;
			has_status = true;
			if (!strcmp(val, "allocated"))
				r->allocated = true;
			else if (strcmp(val, "deallocated"))
				return -EBADMSG;
		} else if ((type == STS_AUDIT_LANDLOCK_DOMAIN || type == STS_AUDIT_SYSCALL) &&
			   !strcmp(key, "pid")) {
			if (r->pid != -1 || !number(val, 10, &v) || v > INT32_MAX)
				return -EBADMSG;
			r->pid = (long long)v;
		} else if (type == STS_AUDIT_SYSCALL && !strcmp(key, "comm")) {
			snprintf(r->comm, sizeof(r->comm), "%s", val);
		}
	}
	if (type == STS_AUDIT_SYSCALL || type == STS_AUDIT_EOE)
		return type == STS_AUDIT_SYSCALL && r->pid < 0 ? -EBADMSG : 0;
	if (!has_domain || (type == STS_AUDIT_LANDLOCK_ACCESS && !has_blockers) ||
	    (type == STS_AUDIT_LANDLOCK_DOMAIN && !has_status))
		return -EBADMSG;
	return 0;
}
