// SPDX-License-Identifier: GPL-2.0-only
#include "events.h"
#include "sandbox.h"
#include "core/util.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>

/* The system calls observe.bpf.c records at entry, by this machine's numbers. */
static const char *syscall_name(__u32 nr)
{
	static const struct {
		long nr;
		const char *name;
	} names[] = {
		{ SYS_connect, "connect" },
		{ SYS_listen, "listen" },
		{ SYS_clone, "clone" },
#ifdef SYS_fork
		{ SYS_fork, "fork" },
		{ SYS_vfork, "vfork" },
		{ SYS_link, "link" },
#endif
		{ SYS_kill, "kill" },
		{ SYS_ptrace, "ptrace" },
		{ SYS_mount, "mount" },
		{ SYS_tkill, "tkill" },
		{ SYS_tgkill, "tgkill" },
		{ SYS_linkat, "linkat" },
		{ SYS_process_vm_readv, "process_vm_readv" },
		{ SYS_process_vm_writev, "process_vm_writev" },
		{ SYS_bpf, "bpf" },
		{ SYS_io_uring_setup, "io_uring_setup" },
		{ SYS_move_mount, "move_mount" },
		{ SYS_clone3, "clone3" },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(names); i++)
		if (names[i].nr == (long)nr)
			return names[i].name;
	return sandbox_syscall_name(nr);
}

const char *event_type_name(__u32 type)
{
	switch (type) {
	case STS_EV_CONNECT:
		return "connect";
	case STS_EV_SENDMSG:
		return "sendmsg";
	case STS_EV_SOCKET:
		return "socket";
	case STS_EV_UNIX_CONNECT:
		return "unix_connect";
	case STS_EV_FILE_OPEN:
		return "file_open";
	case STS_EV_EXEC:
		return "exec";
	case STS_EV_LINK:
		return "link";
	case STS_EV_DEVICE_CONNECT:
		return "device_connect";
	case STS_EV_PAYLOAD:
		return "payload";
	case STS_EV_VOLUME:
		return "volume";
	case STS_EV_PTRACE:
		return "ptrace";
	case STS_EV_CLONE:
		return "clone";
	case STS_EV_SIGNAL:
		return "signal";
	case STS_EV_MOUNT:
		return "mount";
	case STS_EV_BPF:
		return "bpf";
	case STS_EV_SYSCALL:
		return "syscall";
	}
	return "unknown";
}

const char *event_rule_name(__u32 rule)
{
	switch (rule) {
	case STS_RULE_COLLECTOR:
		return "allowed_by_policy";
	case STS_RULE_NOT_COLLECTOR:
		return "not_a_collector_endpoint";
	case STS_RULE_UDP:
		return "udp_not_allowed";
	case STS_RULE_SOCKET_KIND:
		return "socket_kind_not_allowed";
	case STS_RULE_UNIX_NOT_ALLOWED:
		return "unix_peer_not_allowed";
	case STS_RULE_FILE_NOT_ALLOWED:
		return "file_not_allowed";
	case STS_RULE_WRITE_OUTSIDE_STATE:
		return "write_outside_state_dir";
	case STS_RULE_EXEC_NOT_ALLOWED:
		return "exec_not_allowed";
	case STS_RULE_LINK:
		return "hard_link_not_allowed";
	case STS_RULE_COLLECTOR_OUTSIDE:
		return "collector_reserved_for_policed_cgroup";
	case STS_RULE_LEGACY_ENDPOINT:
		return "legacy_telemetry_endpoint";
	case STS_RULE_OBSERVED:
		return "observed_only";
	case STS_RULE_STATE_LINKED:
		return "state_file_with_extra_links";
	case STS_RULE_PAYLOAD_PENDING:
		return "payload_check_pending";
	case STS_RULE_PAYLOAD_SCHEMA:
		return "payload_not_approved_report";
	case STS_RULE_PAYLOAD_SHARED:
		return "payload_buffer_shared";
	case STS_RULE_NOT_TLS:
		return "egress_not_tls";
	case STS_RULE_APPDATA_UNCHECKED:
		return "application_data_without_payload_check";
	case STS_RULE_BUDGET_EXCEEDED:
		return "tls_allowance_exceeded";
	case STS_RULE_TLS_SHAPE:
		return "tls_record_out_of_shape";
	case STS_RULE_TLS_HELLO:
		return "tls_client_hello_refused";
	case STS_RULE_PTRACE:
		return "ptrace_not_allowed";
	case STS_RULE_PAYLOAD_OK:
		return "payload_approved_report";
	case STS_RULE_CLONE:
		return "fork_not_allowed";
	case STS_RULE_SIGNAL:
		return "signal_outside_cgroup";
	case STS_RULE_MOUNT:
		return "mount_not_allowed";
	case STS_RULE_BPF:
		return "bpf_not_allowed";
	case STS_RULE_SYSCALL:
		return "syscall_not_allowed";
	case STS_RULE_BIND:
		return "bind_not_allowed";
	}
	return "unknown";
}

static const char *rule_sentence(__u32 rule)
{
	switch (rule) {
	case STS_RULE_COLLECTOR:
		return "allowed by the policy";
	case STS_RULE_NOT_COLLECTOR:
		return "not a collector endpoint of the policy";
	case STS_RULE_UDP:
		return "UDP (DNS included) is never allowed to the policed code";
	case STS_RULE_SOCKET_KIND:
		return "only TCP, UDP and AF_UNIX sockets are allowed (no raw, packet or netlink)";
	case STS_RULE_UNIX_NOT_ALLOWED:
		return "this AF_UNIX socket is not named by allow-unix";
	case STS_RULE_FILE_NOT_ALLOWED:
		return "this file is not in the policy's allow-read list";
	case STS_RULE_WRITE_OUTSIDE_STATE:
		return "writes are allowed only inside the state-dir";
	case STS_RULE_EXEC_NOT_ALLOWED:
		return "this binary is not in the policy's allow-exec list";
	case STS_RULE_LINK:
		return "the policed code may not create hard links";
	case STS_RULE_COLLECTOR_OUTSIDE:
		return "the collector is reserved for the policed telemetry code (deny-outside)";
	case STS_RULE_LEGACY_ENDPOINT:
		return "a legacy telemetry endpoint (legacy-deny), device-wide";
	case STS_RULE_OBSERVED:
		return "observe mode: recorded, not stopped";
	case STS_RULE_STATE_LINKED:
		return "a state-dir file with more than one link (a hard link to another file)";
	case STS_RULE_PAYLOAD_PENDING:
		return "stopped until the monitor has checked it";
	case STS_RULE_PAYLOAD_SCHEMA:
		return "it is not the approved activation report; the writer was killed";
	case STS_RULE_PAYLOAD_SHARED:
		return "the buffer could be changed by another thread or process after the check; "
		       "the writer was killed";
	case STS_RULE_NOT_TLS:
		return "only TLS records may leave (no clear text); dropped";
	case STS_RULE_APPDATA_UNCHECKED:
		return "TLS application data that no payload check approved (an unseen TLS stack, "
		       "or a second send); dropped";
	case STS_RULE_BUDGET_EXCEEDED:
		return "more bytes than the policy's tls-allowance; dropped";
	case STS_RULE_TLS_SHAPE:
		return "a TLS record a TLS 1.3 client does not send at that point (one "
		       "ClientHello, "
		       "one after a retry, one 1-byte ChangeCipherSpec, then encrypted Finished, "
		       "the "
		       "approved request, close_notify and nothing after it; application data only "
		       "after the server's ServerHello came in, a second ClientHello only after "
		       "its "
		       "HelloRetryRequest); dropped";
	case STS_RULE_TLS_HELLO:
		return "a ClientHello with what a TLS 1.3 client does not need (an SNI other than "
		       "the collector-host, an extension or a value outside the documented list, "
		       "non-zero padding, a resumption identity); dropped before it left";
	case STS_RULE_PTRACE:
		return "policed processes may not trace or be traced (their memory is checked)";
	case STS_RULE_PAYLOAD_OK:
		return "it is the approved activation report; the writer was resumed";
	case STS_RULE_CLONE:
		return "the policed code may not fork or start threads (a second task could race "
		       "the payload check)";
	case STS_RULE_SIGNAL:
		return "the policed code may signal only its own processes (not the monitor)";
	case STS_RULE_MOUNT:
		return "the policed code may not mount (a bind mount gives a file a second path)";
	case STS_RULE_BPF:
		return "the policed code may not use bpf() (the programs policing it are not its "
		       "to read or detach)";
	case STS_RULE_SYSCALL:
		return "the seccomp filter refuses this system call or request (identifiers, "
		       "terminals, keyrings, namespaces and kernel interfaces no file rule covers)";
	case STS_RULE_BIND:
		return "the policed code connects out and never serves: it may bind no TCP port";
	}
	return "unknown rule";
}

const char *event_verdict_name(__u32 verdict)
{
	switch (verdict) {
	case STS_VERDICT_ALLOW:
		return "allow";
	case STS_VERDICT_DENY:
		return "deny";
	case STS_VERDICT_OBSERVED:
		return "observed";
	}
	return "unknown";
}

static bool is_net(__u32 type)
{
	return type == STS_EV_CONNECT || type == STS_EV_SENDMSG || type == STS_EV_DEVICE_CONNECT ||
	       type == STS_EV_VOLUME;
}

static const char *family_name(__u32 f)
{
	switch (f) {
	case AF_UNIX:
		return "unix";
	case AF_INET:
		return "inet";
	case AF_INET6:
		return "inet6";
	case AF_NETLINK:
		return "netlink";
	case AF_PACKET:
		return "packet";
	}
	return "other";
}

static const char *socktype_name(__u32 t)
{
	switch (t) {
	case SOCK_STREAM:
		return "stream";
	case SOCK_DGRAM:
		return "dgram";
	case SOCK_RAW:
		return "raw";
	case SOCK_SEQPACKET:
		return "seqpacket";
	}
	return "other";
}

static void addr_str(const struct sts_event *ev, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN] = "?";

	inet_ntop(ev->net.family == AF_INET6 ? AF_INET6 : AF_INET, ev->net.addr, a, sizeof(a));
	if (ev->net.family == AF_INET6)
		snprintf(buf, len, "[%s]:%u", a, ev->net.port);
	else
		snprintf(buf, len, "%s:%u", a, ev->net.port);
}

/* Kernel strings are bounded but not trusted to be valid UTF-8: JSON gets a safe copy. */
static json_t *safe_string(const char *s, size_t max)
{
	char buf[STS_PATH_MAX * 4 + 1];
	size_t i, o = 0;

	for (i = 0; i < max && s[i] && o + 4 < sizeof(buf); i++) {
		unsigned char c = s[i];

		if (c >= 0x20 && c < 0x7f) {
			buf[o++] = c;
		} else {
			o += snprintf(buf + o, sizeof(buf) - o, "\\x%02x", c);
		}
	}
	buf[o] = '\0';
	return json_string(buf);
}

/*
 * By the file's mode once open (FMODE_WRITE); an open observed to fail has only the flags it
 * was asked with.
 */
static bool open_for_writing(const struct sts_event *ev)
{
	__u32 acc = ev->file.flags & O_ACCMODE;

	return (ev->file.fmode & 0x2) || acc == O_WRONLY || acc == O_RDWR;
}

json_t *event_to_json(const struct sts_event *ev)
{
	char explain[512], addr[64];
	json_t *o;

	event_explain(ev, explain, sizeof(explain));
	o = json_pack("{s:s, s:s, s:s, s:s, s:i, s:i, s:i, s:I, s:o}", "type", "event", "kind",
		      event_type_name(ev->type), "verdict", event_verdict_name(ev->verdict), "rule",
		      event_rule_name(ev->rule), "pid", ev->tgid, "tid", ev->pid, "uid", ev->uid,
		      "cgroup_id", (json_int_t)ev->cgroup_id, "comm",
		      safe_string(ev->comm, sizeof(ev->comm)));
	if (is_net(ev->type)) {
		addr_str(ev, addr, sizeof(addr));
		json_object_set_new(o, "dest", json_string(addr));
		json_object_set_new(o, "family", json_string(family_name(ev->net.family)));
		json_object_set_new(o, "sock_type", json_string(socktype_name(ev->net.type)));
		if (ev->type == STS_EV_VOLUME)
			json_object_set_new(o, "bytes", json_integer(ev->net.bytes));
	} else if (ev->type == STS_EV_PAYLOAD) {
		/* The monitor adds len, sha256 and the reason of its decision. */
	} else if (ev->type == STS_EV_PTRACE || ev->type == STS_EV_SIGNAL) {
		json_object_set_new(o, "target_pid", json_integer(ev->file.ino));
		json_object_set_new(o, "target_comm", safe_string(ev->file.path, STS_COMM_LEN));
		if (ev->type == STS_EV_SIGNAL)
			json_object_set_new(o, "signal", json_integer(ev->file.flags));
	} else if (ev->type == STS_EV_BPF) {
		json_object_set_new(o, "bpf_cmd", json_integer(ev->file.flags));
	} else if (ev->type == STS_EV_SYSCALL) {
		json_object_set_new(o, "syscall", json_string(syscall_name(ev->file.flags)));
		/* Landlock's refused bind: its record names the port, not the arguments. */
		if (ev->rule == STS_RULE_BIND) {
			json_object_set_new(o, "port", json_integer(ev->file.ino));
		} else if (ev->file.flags == SYS_setsockopt) {
			/* The option refused, not the descriptor. */
			json_object_set_new(o, "level", json_integer(ev->file.ino));
			json_object_set_new(o, "option", json_integer(ev->file.fmode));
		} else {
			json_object_set_new(o, "arg0", json_integer(ev->file.ino));
		}
		/* A seccomp refusal: the second argument too (an ioctl's request). */
		if (ev->file.result)
			json_object_set_new(o, "arg1", json_sprintf("0x%x", ev->file.fmode));
	} else if (ev->type == STS_EV_SOCKET) {
		json_object_set_new(o, "family", json_string(family_name(ev->net.family)));
		json_object_set_new(o, "family_nr", json_integer(ev->net.family));
		json_object_set_new(o, "sock_type", json_string(socktype_name(ev->net.type)));
		json_object_set_new(o, "protocol", json_integer(ev->net.protocol));
	} else {
		json_object_set_new(o, "path", safe_string(ev->file.path, sizeof(ev->file.path)));
		if (ev->file.ino) {
			json_object_set_new(
				o, "dev",
				json_sprintf("%u:%u", ev->file.dev >> 20, ev->file.dev & 0xfffff));
			json_object_set_new(o, "ino", json_integer(ev->file.ino));
		}
		if (ev->type == STS_EV_FILE_OPEN)
			json_object_set_new(o, "write", json_boolean(open_for_writing(ev)));
	}
	if (ev->verdict == STS_VERDICT_OBSERVED) {
		json_object_set_new(o, "would",
				    json_string(ev->would_verdict
							? event_verdict_name(ev->would_verdict)
							: "unknown"));
		if (ev->would_rule)
			json_object_set_new(o, "would_rule",
					    json_string(event_rule_name(ev->would_rule)));
	}
	json_object_set_new(o, "explain", json_string(explain));
	return o;
}

/*
 * Why observe mode cannot say what enforce mode would do: the LSM hook decides on what the
 * observe hook does not see.
 */
static const char *would_unknown(const struct sts_event *ev)
{
	if (ev->type == STS_EV_FILE_OPEN)
		return "the open failed, and enforce mode's rule judges only files that open";
	if (ev->type == STS_EV_SYSCALL)
		return "what enforce mode would decide depends on the target (a signal is refused "
		       "outside the policed cgroup, an AF_UNIX peer unless allow-unix names it)";
	return "what enforce mode would decide is not known here";
}

void event_explain(const struct sts_event *ev, char *buf, size_t len)
{
	const char *verdict = ev->verdict == STS_VERDICT_DENY	       ? "DENIED"
			      : ev->verdict == STS_VERDICT_ALLOW       ? "allowed"
			      : ev->would_verdict == STS_VERDICT_DENY  ? "OBSERVED, would deny"
			      : ev->would_verdict == STS_VERDICT_ALLOW ? "OBSERVED, would allow"
								       : "OBSERVED";
	char comm[STS_COMM_LEN + 1], what[STS_PATH_MAX + 96], addr[64];

	memcpy(comm, ev->comm, STS_COMM_LEN);
	comm[STS_COMM_LEN] = '\0';
	switch (ev->type) {
	case STS_EV_CONNECT:
	case STS_EV_DEVICE_CONNECT:
		addr_str(ev, addr, sizeof(addr));
		snprintf(what, sizeof(what), "connect to %s/%s", addr,
			 ev->net.type == SOCK_STREAM ? "tcp" : "udp");
		break;
	case STS_EV_SENDMSG:
		addr_str(ev, addr, sizeof(addr));
		snprintf(what, sizeof(what), "send a UDP datagram to %s", addr);
		break;
	case STS_EV_SOCKET:
		snprintf(what, sizeof(what), "create a %s %s socket (protocol %u)",
			 family_name(ev->net.family), socktype_name(ev->net.type),
			 ev->net.protocol);
		break;
	case STS_EV_UNIX_CONNECT:
		snprintf(what, sizeof(what), "connect to the AF_UNIX socket %.*s", STS_PATH_MAX,
			 ev->file.path);
		break;
	case STS_EV_FILE_OPEN:
		if (ev->file.path[0])
			snprintf(what, sizeof(what), "open %.*s for %s", STS_PATH_MAX,
				 ev->file.path, open_for_writing(ev) ? "writing" : "reading");
		else /* the caller's path could not be read: the inode still says which file */
			snprintf(what, sizeof(what),
				 "open a file (path unreadable; inode %llu on device %u:%u) for %s",
				 (unsigned long long)ev->file.ino, ev->file.dev >> 20,
				 ev->file.dev & 0xfffff,
				 open_for_writing(ev) ? "writing" : "reading");
		if (ev->verdict == STS_VERDICT_OBSERVED && ev->file.result)
			snprintf(what + strlen(what), sizeof(what) - strlen(what),
				 " (it failed: %s)", strerror((int)ev->file.result));
		break;
	case STS_EV_EXEC:
		snprintf(what, sizeof(what), "execute %.*s", STS_PATH_MAX, ev->file.path);
		break;
	case STS_EV_PAYLOAD:
		snprintf(what, sizeof(what), "write TLS plaintext (SSL_write)");
		break;
	case STS_EV_VOLUME:
		addr_str(ev, addr, sizeof(addr));
		snprintf(what, sizeof(what), "send a %u-byte record to %s", ev->net.bytes, addr);
		break;
	case STS_EV_PTRACE:
		snprintf(what, sizeof(what), "trace or access the memory of pid %llu (%.*s)",
			 (unsigned long long)ev->file.ino, STS_COMM_LEN, ev->file.path);
		break;
	case STS_EV_CLONE:
		snprintf(what, sizeof(what), "create a process or thread (clone flags 0x%x)",
			 ev->file.flags);
		break;
	case STS_EV_LINK:
		snprintf(what, sizeof(what), "create the hard link %.*s", STS_PATH_MAX,
			 ev->file.path);
		break;
	case STS_EV_SIGNAL:
		snprintf(what, sizeof(what), "send signal %u to pid %llu (%.*s)", ev->file.flags,
			 (unsigned long long)ev->file.ino, STS_COMM_LEN, ev->file.path);
		break;
	case STS_EV_MOUNT:
		snprintf(what, sizeof(what), "mount onto %.*s", STS_PATH_MAX, ev->file.path);
		break;
	case STS_EV_BPF:
		snprintf(what, sizeof(what), "call bpf() (command %u)", ev->file.flags);
		break;
	case STS_EV_SYSCALL:
		if (ev->rule == STS_RULE_BIND)
			snprintf(what, sizeof(what), "bind TCP port %llu",
				 (unsigned long long)ev->file.ino);
		else if (ev->file.flags == SYS_setsockopt)
			snprintf(what, sizeof(what), "set socket option %u of level %llu",
				 ev->file.fmode, (unsigned long long)ev->file.ino);
		else if (ev->file.result)
			snprintf(what, sizeof(what), "call %s() (arguments %llu, 0x%x)",
				 syscall_name(ev->file.flags), (unsigned long long)ev->file.ino,
				 ev->file.fmode);
		else
			snprintf(what, sizeof(what), "call %s() (argument %llu)",
				 syscall_name(ev->file.flags), (unsigned long long)ev->file.ino);
		break;
	default:
		snprintf(what, sizeof(what), "event type %u", ev->type);
	}
	if (!ev->tgid && ev->type == STS_EV_VOLUME)
		snprintf(comm, sizeof(comm), "policed cgroup"); /* egress: the sender is a socket */
	if (ev->verdict == STS_VERDICT_OBSERVED) {
		/* The rule enforce mode would apply, then what observe mode did instead. */
		snprintf(buf, len, "%s: pid %u (%s) tried to %s: %s (observe mode: recorded%s)",
			 verdict, ev->tgid, comm, what,
			 ev->would_verdict ? rule_sentence(ev->would_rule) : would_unknown(ev),
			 ev->would_verdict == STS_VERDICT_ALLOW ? "" : ", not stopped");
		return;
	}
	snprintf(buf, len, "%s: pid %u (%s) tried to %s: %s%s", verdict, ev->tgid, comm, what,
		 rule_sentence(ev->rule),
		 ev->type == STS_EV_DEVICE_CONNECT ? " (a process outside the policed cgroup)"
						   : "");
}
