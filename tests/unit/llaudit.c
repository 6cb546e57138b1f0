// SPDX-License-Identifier: GPL-2.0-only
/*
 * Landlock's audit records as Linux 6.18 writes them (copied from this host's audit multicast
 * group), and what a hostile file name or a damaged record must not make of them.
 */
#include "test.h"
#include "device/llaudit.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

static int parse(int type, const char *text, struct sts_llaudit_rec *r)
{
	return sts_llaudit_parse(type, text, strlen(text), r);
}

void test_llaudit_records(void)
{
	struct sts_llaudit_rec r;

	ASSERT_EQ(parse(STS_AUDIT_LANDLOCK_ACCESS,
			"audit(1796610394.211:1): domain=1e8a11d50 blockers=fs.read_file "
			"path=\"/etc/passwd\" dev=\"vda\" ino=861",
			&r),
		  0, "an access record");
	ASSERT_EQ(r.serial, 1, "serial");
	ASSERT_EQ(r.domain, 0x1e8a11d50ull, "domain id (hex)");
	ASSERT_EQ(r.access, STS_LLA_READ, "a read");
	ASSERT_STREQ(r.path, "/etc/passwd", "path");
	ASSERT_TRUE(r.has_ino && r.ino == 861, "inode");

	ASSERT_EQ(parse(STS_AUDIT_LANDLOCK_ACCESS,
			"audit(1796610394.211:3): domain=1e8a11d50 "
			"blockers=fs.execute,fs.read_file path=\"/usr/bin/true\" dev=\"vda\" "
			"ino=248139\n",
			&r),
		  0, "an exec refusal, with a trailing newline");
	ASSERT_EQ(r.access, STS_LLA_EXEC | STS_LLA_READ, "exec and read");
	ASSERT_EQ(parse(STS_AUDIT_LANDLOCK_ACCESS,
			"audit(1.2:4): domain=a blockers=fs.make_reg path=\"/tmp\" dev=\"vda\" "
			"ino=2",
			&r),
		  0, "a creation");
	ASSERT_EQ(r.access, STS_LLA_WRITE, "a write");
	ASSERT_EQ(parse(STS_AUDIT_LANDLOCK_ACCESS,
			"audit(1.2:5): domain=a blockers=scope.signal opid=1 ocomm=\"init\"", &r),
		  0, "a scope refusal");
	ASSERT_EQ(r.access, STS_LLA_OTHER, "not a file");

	/* A name audit could not quote (a space, a quote): hex, decoded. */
	ASSERT_EQ(parse(STS_AUDIT_LANDLOCK_ACCESS,
			"audit(1.2:6): domain=a blockers=fs.read_file "
			"path=2F746D702F6120226222 dev=\"vda\" ino=7",
			&r),
		  0, "a hex path");
	ASSERT_STREQ(r.path, "/tmp/a \"b\"", "decoded");
	/* A file named like a record's fields stays one quoted value. */
	ASSERT_EQ(parse(STS_AUDIT_LANDLOCK_ACCESS,
			"audit(1.2:7): domain=a blockers=fs.read_file path=\"/x ino=1\" "
			"dev=\"vda\" ino=9",
			&r),
		  0, "a path with ' ino=' inside");
	ASSERT_EQ(r.ino, 9, "the record's inode, not the name's");

	/* TCP: the address and port refused, as Landlock's record names them. */
	ASSERT_EQ(parse(STS_AUDIT_LANDLOCK_ACCESS,
			"audit(1796620000.100:8): domain=1e8a11d50 blockers=net.connect_tcp "
			"daddr=127.0.0.1 dest=514",
			&r),
		  0, "a refused connect");
	ASSERT_EQ(r.access, STS_LLA_NET, "a network refusal");
	ASSERT_TRUE(r.net_family == AF_INET && r.net_port == 514 &&
			    !memcmp(r.net_addr, "\x7f\0\0\x01", 4),
		    "127.0.0.1 port 514");
	ASSERT_EQ(parse(STS_AUDIT_LANDLOCK_ACCESS,
			"audit(1.2:9): domain=a blockers=net.connect_tcp daddr=::1 dest=10", &r),
		  0, "IPv6");
	ASSERT_TRUE(r.net_family == AF_INET6 && r.net_port == 10 && r.net_addr[15] == 1,
		    "[::1]:10");
	ASSERT_EQ(parse(STS_AUDIT_LANDLOCK_ACCESS,
			"audit(1.2:10): domain=a blockers=net.bind_tcp saddr=127.0.0.1 src=8080",
			&r),
		  0, "a refused bind");
	ASSERT_TRUE(strstr(r.blockers, "net.bind_tcp") && r.net_port == 8080, "port 8080");
	ASSERT_EQ(parse(STS_AUDIT_LANDLOCK_ACCESS, "audit(1.2:11): domain=a blockers=net.bind_tcp",
			&r),
		  0, "a bind to an address of zeros names neither");
	ASSERT_TRUE(r.net_family == 0 && r.net_port == 0, "no address, no port");
	ASSERT_EQ(parse(STS_AUDIT_LANDLOCK_ACCESS,
			"audit(1.2:12): domain=a blockers=net.connect_tcp daddr=1.2.3 dest=9", &r),
		  -EBADMSG, "a damaged address");
	ASSERT_EQ(parse(STS_AUDIT_LANDLOCK_ACCESS,
			"audit(1.2:13): domain=a blockers=net.connect_tcp daddr=::1 dest=65536",
			&r),
		  -EBADMSG, "a port out of range");
	ASSERT_EQ(parse(STS_AUDIT_LANDLOCK_ACCESS,
			"audit(1.2:14): domain=a blockers=net.connect_tcp daddr=::1 dest=0x10", &r),
		  -EBADMSG, "a port not in decimal");

	ASSERT_EQ(parse(STS_AUDIT_LANDLOCK_DOMAIN,
			"audit(1796610394.211:1): domain=1e8a11d50 status=allocated "
			"mode=enforcing pid=26476 uid=0 exe=\"/tmp/i13/p\" comm=\"p\"",
			&r),
		  0, "a domain record");
	ASSERT_TRUE(r.allocated && r.pid == 26476, "allocated by pid 26476");
	ASSERT_EQ(parse(STS_AUDIT_LANDLOCK_DOMAIN,
			"audit(1796610394.283:4): domain=1e8a11d50 status=deallocated denials=3",
			&r),
		  0, "deallocated");
	ASSERT_TRUE(!r.allocated && r.pid == -1, "no pid");

	ASSERT_EQ(parse(1334, "audit(1.2:3): prog-id=1 op=LOAD", &r), -ENOENT, "another type");
	/* The system call record of the same event: who, under which name at the time. */
	ASSERT_EQ(parse(STS_AUDIT_SYSCALL,
			"audit(1796611007.043:6263): arch=c000003e syscall=257 success=no "
			"exit=-13 a0=ffffff9c a1=56339f43000e a2=0 a3=0 items=1 ppid=24273 "
			"pid=24275 auid=4294967295 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 "
			"fsgid=0 tty=(none) ses=4294967295 comm=\"first\" exe=\"/tmp/i13/t2\" "
			"key=(null)",
			&r),
		  0, "a system call record");
	ASSERT_TRUE(r.serial == 6263 && r.pid == 24275, "its serial and pid (not ppid)");
	ASSERT_STREQ(r.comm, "first", "its comm");
	ASSERT_EQ(parse(STS_AUDIT_SYSCALL,
			"audit(1.2:3): ppid=1 pid=7 comm=6E616D652077697468 key=(null)", &r),
		  0, "a comm in hex");
	ASSERT_STREQ(r.comm, "name with", "decoded");
	ASSERT_EQ(parse(STS_AUDIT_SYSCALL, "audit(1.2:3): pid=7 pid=8", &r), -EBADMSG, "two pids");
	ASSERT_EQ(parse(STS_AUDIT_SYSCALL, "audit(1.2:3): ppid=7", &r), -EBADMSG, "no pid");
	ASSERT_EQ(parse(STS_AUDIT_EOE, "audit(1796611007.043:6263): ", &r), 0, "end of event");
	ASSERT_EQ(r.serial, 6263, "its serial");
	ASSERT_EQ(parse(STS_AUDIT_EOE, "audit(1.2:9):", &r), 0, "end of event, no space");
	ASSERT_EQ(parse(STS_AUDIT_LANDLOCK_ACCESS, "audit(1.2:3): blockers=fs.read_file", &r),
		  -EBADMSG, "no domain");
	ASSERT_EQ(parse(STS_AUDIT_LANDLOCK_ACCESS, "audit(1.2:3): domain=a", &r), -EBADMSG,
		  "no blockers");
	ASSERT_EQ(parse(STS_AUDIT_LANDLOCK_ACCESS,
			"audit(1.2:3): domain=a domain=b blockers=fs.read_file", &r),
		  -EBADMSG, "two domains");
	ASSERT_EQ(parse(STS_AUDIT_LANDLOCK_ACCESS, "audit(1.2:3): domain=zz blockers=fs.read_file",
			&r),
		  -EBADMSG, "a domain not in hex");
	ASSERT_EQ(parse(STS_AUDIT_LANDLOCK_ACCESS,
			"audit(1.2:3): domain=a blockers=fs.read_file path=\"/unterminated", &r),
		  -EBADMSG, "an unterminated quote");
	ASSERT_EQ(parse(STS_AUDIT_LANDLOCK_ACCESS,
			"audit(1.2:3): domain=a blockers=fs.read_file path=2F00", &r),
		  -EBADMSG, "a NUL inside a hex path");
	ASSERT_EQ(parse(STS_AUDIT_LANDLOCK_DOMAIN, "audit(1.2:3): domain=a status=allocated pid=-5",
			&r),
		  -EBADMSG, "a negative pid");
	ASSERT_EQ(parse(STS_AUDIT_LANDLOCK_DOMAIN, "audit(1.2:3) domain=a status=allocated", &r),
		  -EBADMSG, "a damaged header");
	ASSERT_EQ(sts_llaudit_parse(STS_AUDIT_LANDLOCK_ACCESS, "audit(", 6, &r), -EBADMSG,
		  "cut short");
}
