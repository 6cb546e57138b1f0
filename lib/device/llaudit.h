/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Landlock's audit records (Linux 6.15 and later, Landlock ABI 7), as the kernel writes them on
 * the audit netlink socket: the text after the record header, e.g.
 *
 *	audit(1796610394.211:1): domain=1e8a11d50 blockers=fs.read_file path="/etc/passwd"
 *		dev="vda" ino=861                                    (AUDIT_LANDLOCK_ACCESS, 1423)
 *	audit(1796610394.211:1): domain=1e8a11d50 status=allocated mode=enforcing pid=26476
 *		uid=0 exe="/usr/bin/x" comm="x"                      (AUDIT_LANDLOCK_DOMAIN, 1424)
 *
 * The access record names no process: the domain record (written once, with the first denial
 * of a domain) names the process that created the domain. stsd matches the two by domain id.
 * Where the process has an audit context, a system call record of the same serial follows
 * (AUDIT_SYSCALL, 1300: pid=, comm= at the time of the call), then others, then an
 * end-of-event record (EOE, 1320). A refused creation is named by its directory only (in
 * Landlock's record as in the path records). A refused TCP connect or bind names its address
 * and port (blockers=net.connect_tcp daddr=127.0.0.1 dest=514; saddr=/src= for a bind; the
 * kernel leaves out an address of zeros, and with an IPv4 one its port).
 * The text comes from the kernel, but the path, exe and comm parts are chosen by the policed
 * code (file names): a value audit could not quote is hex-encoded, and both forms are decoded.
 */
#ifndef STS_LLAUDIT_H
#define STS_LLAUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STS_AUDIT_SYSCALL 1300
#define STS_AUDIT_EOE 1320
#define STS_AUDIT_LANDLOCK_ACCESS 1423
#define STS_AUDIT_LANDLOCK_DOMAIN 1424

/* What the blockers of an access record refused, folded into the rules stsd records. */
enum {
	STS_LLA_READ = 1 << 0, /* fs.read_file, fs.read_dir */
	STS_LLA_EXEC = 1 << 1, /* fs.execute */
	STS_LLA_WRITE = 1 << 2, /* any other fs.* access: write, create, remove, truncate, ... */
	STS_LLA_NET = 1 << 3, /* net.* */
	STS_LLA_OTHER = 1 << 4, /* scope.*, ptrace, and names this parser does not know */
};

struct sts_llaudit_rec {
	int type; /* STS_AUDIT_LANDLOCK_ACCESS or STS_AUDIT_LANDLOCK_DOMAIN */
	uint64_t serial; /* the event's serial number in the header */
	uint64_t domain; /* the domain's id */
	/* access records */
	unsigned int access; /* STS_LLA_* */
	char blockers[128]; /* as written (truncated if longer) */
	char path[4096]; /* path= or name=, decoded; "" when absent */
	bool has_ino;
	uint64_t ino;
	int net_family; /* daddr= or saddr= (the first one): AF_INET, AF_INET6, or 0 */
	uint8_t net_addr[16];
	uint16_t net_port; /* dest= or src= (the first one), or 0 */
	/* domain records */
	bool allocated; /* status=allocated (else deallocated) */
	long long pid; /* the domain's creator; a system call record's process; -1 if absent */
	/* system call records (of the same event as an access record: same serial) */
	char comm[16]; /* the process's name when it made the call */
};

/*
 * Parse one record of type type (the netlink message type) from text[0..len) (not necessarily
 * NUL-terminated): a Landlock record, or the system call record (pid, comm) and end-of-event
 * record of the same event. Returns 0, -ENOENT for another record type, -EBADMSG for a
 * malformed one.
 */
int sts_llaudit_parse(int type, const char *text, size_t len, struct sts_llaudit_rec *r);

#endif /* STS_LLAUDIT_H */
