// SPDX-License-Identifier: GPL-2.0-only
#include "evidence.h"
#include "core/crypto.h"
#include "events.h"
#include "core/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct evidence {
	struct evlog *log;
	struct sts_key key;
	bool key_created;
	uint64_t max_size; /* rotate past this many bytes; 0: never */
};

/*
 * Past max_size, the log goes on in a new segment (evlog_rotate): the older one keeps its
 * name plus the number of records before it (evlog_segment_name), so that `stsctl verify
 * LOG.* LOG` lists them in order. A rotation that fails is said once and turned off: the
 * log itself goes on growing, nothing is lost.
 */
static void maybe_rotate(struct evidence *ev)
{
	struct evlog_stats st;
	char *old = NULL;
	int err;

	if (!ev->max_size)
		return;
	evlog_stats(ev->log, &st);
	if (st.bytes < ev->max_size)
		return;
	err = evlog_segment_name(evlog_path(ev->log), st.records, &old);
	if (!err)
		err = evlog_rotate(ev->log, old);
	if (err) {
		sts_err("evidence log %s: rotation to %s failed: %s (rotation off, the log grows)",
			evlog_path(ev->log), old ? old : "?", strerror(-err));
		ev->max_size = 0;
	}
	free(old);
}

static int ev_append(struct evidence *ev, const char *type, const json_t *fields)
{
	int err = evlog_append(ev->log, type, fields, NULL);

	if (!err)
		maybe_rotate(ev);
	return err;
}

void evidence_set_max_size(struct evidence *ev, uint64_t bytes)
{
	ev->max_size = bytes;
}

int evidence_open(const char *path, const char *key_path, const char *seal_path,
		  struct evidence **out, char *why, size_t whylen)
{
	struct evlog_opts o = { 0 };
	char pub[4096];
	struct evidence *ev;
	bool created;
	int err;

	ev = calloc(1, sizeof(*ev));
	if (!ev)
		return -ENOMEM;
	snprintf(pub, sizeof(pub), "%s.pub", key_path);
	err = sts_key_load_or_generate(key_path, pub, &ev->key, &created);
	if (err) {
		snprintf(why, whylen, "evidence log key %s: %s", key_path, strerror(-err));
		goto cleanup;
	}
	o.path = path;
	o.log_key = &ev->key;
	o.seal_path = seal_path;
	err = evlog_open(&o, &ev->log);
	if (err) {
		snprintf(why, whylen, "open evidence log %s: %s", path, strerror(-err));
		goto cleanup;
	}
	ev->key_created = created;
	if (evlog_rotated(ev->log))
		sts_err("evidence log %s: seals turned on: the unsealed history before them is now "
			"the older segment %s (stsctl verify %s %s)",
			path, evlog_rotated(ev->log), evlog_rotated(ev->log), path);
	*out = ev;
	return 0;
cleanup:
	sts_key_free(&ev->key);
	free(ev);
	return err;
}

int evidence_start(struct evidence *ev, const char *mode, const json_t *d)
{
	json_t *hooks = json_array(), *progs = json_array(), *h, *rec;
	size_t i;
	int err;

	rec = json_pack("{s:s, s:I, s:s}", "version", "0.1.0", "pid", (json_int_t)getpid(), "mode",
			mode);
	err = ev_append(ev, "start", rec);
	json_decref(rec);
	if (err)
		return err;
	json_array_foreach(json_object_get(d, "hooks"), i, h)
	{
		json_t *o = json_pack("{s:O, s:O}", "hook", json_object_get(h, "hook"), "mode",
				      json_object_get(h, "mode"));

		if (json_object_get(h, "note"))
			json_object_set(o, "reason", json_object_get(h, "note"));
		json_array_append_new(hooks, o);
		if (json_object_get(h, "tag"))
			json_array_append_new(progs, json_pack("{s:O, s:O}", "name",
							       json_object_get(h, "program"), "tag",
							       json_object_get(h, "tag")));
	}
	rec = json_pack("{s:O, s:O, s:O, s:o, s:o}", "kernel", json_object_get(d, "kernel"), "mode",
			json_object_get(d, "mode"), "policy_sha256",
			json_object_get(d, "policy_sha256"), "hooks", hooks, "programs", progs);
	json_object_set(rec, "policy", json_object_get(d, "policy"));
	json_object_set(rec, "cgroup", json_object_get(d, "cgroup"));
	json_object_set(rec, "command", json_object_get(d, "command"));
	/* The mechanism per guarantee and the seccomp/Landlock setup (issue 13), when present. */
	if (json_object_get(d, "guarantees"))
		json_object_set(rec, "guarantees", json_object_get(d, "guarantees"));
	if (json_object_get(d, "containment"))
		json_object_set(rec, "containment", json_object_get(d, "containment"));
	err = ev_append(ev, "enforcement", rec);
	json_decref(rec);
	/* What is enforced is durable before the policed code runs. */
	return err ? err : evlog_checkpoint(ev->log);
}

static const char *action(__u32 verdict)
{
	return verdict == STS_VERDICT_ALLOW  ? "allowed"
	       : verdict == STS_VERDICT_DENY ? "denied"
					     : "observed";
}

static const char *net_hook(const struct sts_event *e)
{
	bool v6 = e->net.family == AF_INET6;

	if (e->type == STS_EV_SENDMSG)
		return v6 ? "cgroup/sendmsg6" : "cgroup/sendmsg4";
	if (e->type == STS_EV_DEVICE_CONNECT)
		return v6 ? "device cgroup/connect6" : "device cgroup/connect4";
	return v6 ? "cgroup/connect6" : "cgroup/connect4";
}

int evidence_event(struct evidence *ev, const struct sts_event *e, const json_t *extra)
{
	json_t *j = event_to_json(e), *rec;
	const char *type;
	char addr[INET6_ADDRSTRLEN] = "";
	int err;

	rec = json_pack("{s:i, s:O, s:s, s:O, s:O}", "pid", e->tgid, "comm",
			json_object_get(j, "comm"), "action", action(e->verdict), "rule",
			json_object_get(j, "rule"), "explain", json_object_get(j, "explain"));
	switch (e->type) {
	case STS_EV_CONNECT:
	case STS_EV_SENDMSG:
	case STS_EV_DEVICE_CONNECT:
		type = e->verdict == STS_VERDICT_ALLOW ? "net_allow" : "net_deny";
		inet_ntop(e->net.family == AF_INET6 ? AF_INET6 : AF_INET, e->net.addr, addr,
			  sizeof(addr));
		json_object_set_new(rec, "hook", json_string(net_hook(e)));
		json_object_set_new(
			rec, "proto",
			json_string(e->net.type == 1 /* SOCK_STREAM */ ? "tcp" : "udp"));
		json_object_set_new(rec, "addr", json_string(addr));
		json_object_set_new(rec, "port", json_integer(e->net.port));
		break;
	case STS_EV_SOCKET:
		type = "net_deny";
		json_object_set_new(rec, "hook", json_string("socket"));
		json_object_set(rec, "proto", json_object_get(j, "family"));
		json_object_set(rec, "sock_type", json_object_get(j, "sock_type"));
		break;
	case STS_EV_UNIX_CONNECT:
		type = e->verdict == STS_VERDICT_ALLOW ? "net_allow" : "net_deny";
		json_object_set_new(rec, "hook", json_string("lsm/unix_stream_connect"));
		json_object_set_new(rec, "proto", json_string("unix"));
		json_object_set(rec, "addr", json_object_get(j, "path"));
		json_object_set_new(rec, "port", json_integer(0));
		break;
	case STS_EV_FILE_OPEN:
	case STS_EV_LINK:
		/*
		 * An observed open is recorded as what enforce mode would have done with it: an
		 * open the policy allows is a file_allow (with the inode it opened), one it
		 * refuses a file_deny; an open that failed by itself stays a file_deny with
		 * would "unknown" and its errno.
		 */
		type = e->verdict == STS_VERDICT_ALLOW || (e->verdict == STS_VERDICT_OBSERVED &&
							   e->would_verdict == STS_VERDICT_ALLOW)
			       ? "file_allow"
			       : "file_deny";
		if (e->type == STS_EV_FILE_OPEN && e->verdict == STS_VERDICT_OBSERVED) {
			json_object_set_new(rec, "result",
					    json_string(e->file.result ? "failed" : "opened"));
			if (e->file.result)
				json_object_set_new(rec, "errno",
						    json_string(strerrorname_np((int)e->file.result)
									?: "unknown"));
		}
		json_object_set(rec, "path", json_object_get(j, "path"));
		json_object_set_new(rec, "ino", json_integer(e->file.ino));
		json_object_set_new(rec, "dev", json_integer(e->file.dev));
		json_object_set_new(rec, "access",
				    json_string(e->type == STS_EV_LINK ? "link"
						: json_is_true(json_object_get(j, "write"))
							? "write"
							: "read"));
		json_object_set_new(rec, "hook",
				    json_string(e->verdict == STS_VERDICT_OBSERVED
							? "tp/syscalls/sys_enter_openat"
							: "lsm/file_open"));
		break;
	case STS_EV_EXEC:
		type = e->verdict == STS_VERDICT_ALLOW || (e->verdict == STS_VERDICT_OBSERVED &&
							   e->would_verdict == STS_VERDICT_ALLOW)
			       ? "exec_allow"
			       : "exec_deny";
		json_object_set(rec, "path", json_object_get(j, "path"));
		json_object_set_new(rec, "ino", json_integer(e->file.ino));
		json_object_set_new(rec, "dev", json_integer(e->file.dev));
		json_object_set_new(rec, "hook",
				    json_string(e->verdict == STS_VERDICT_OBSERVED
							? "tp/sched/sched_process_exec"
							: "lsm/bprm_check_security"));
		break;
	case STS_EV_PAYLOAD:
		type = e->verdict == STS_VERDICT_ALLOW ? "payload_allow" : "payload_deny";
		if (e->verdict == STS_VERDICT_DENY)
			json_object_set_new(rec, "action", json_string("killed"));
		break;
	case STS_EV_VOLUME:
		type = "volume_drop";
		json_object_set(rec, "bytes", json_object_get(j, "bytes"));
		json_object_set(rec, "dest", json_object_get(j, "dest"));
		break;
	case STS_EV_CLONE:
		type = "clone_deny";
		json_object_set_new(rec, "clone_flags", json_integer(e->file.flags));
		break;
	case STS_EV_PTRACE:
	case STS_EV_SIGNAL:
		type = e->type == STS_EV_PTRACE ? "ptrace_deny" : "signal_deny";
		json_object_set(rec, "target_pid", json_object_get(j, "target_pid"));
		json_object_set(rec, "target_comm", json_object_get(j, "target_comm"));
		if (e->type == STS_EV_SIGNAL)
			json_object_set(rec, "signal", json_object_get(j, "signal"));
		break;
	case STS_EV_MOUNT:
		type = "mount_deny";
		json_object_set(rec, "path", json_object_get(j, "path"));
		break;
	case STS_EV_BPF:
		type = "bpf_deny";
		json_object_set(rec, "bpf_cmd", json_object_get(j, "bpf_cmd"));
		break;
	case STS_EV_SYSCALL:
		/* Refused by the seccomp filter (Landlock: a bind), or seen by observe mode. */
		type = e->verdict == STS_VERDICT_DENY ? EV_SYSCALL_DENY : EV_SYSCALL_OBSERVED;
		json_object_set(rec, "syscall", json_object_get(j, "syscall"));
		for (const char *const *k =
			     (const char *const[]){ "arg0", "port", "level", "option", NULL };
		     *k; k++)
			if (json_object_get(j, *k))
				json_object_set(rec, *k, json_object_get(j, *k));
		json_object_set_new(rec, "hook",
				    json_string(e->verdict != STS_VERDICT_DENY ? "raw_tp/sys_enter"
						: e->rule == STS_RULE_BIND     ? "landlock"
									       : "seccomp"));
		break;
	default:
		type = "event";
	}
	if (e->verdict == STS_VERDICT_OBSERVED) {
		/* What enforce mode would have done: the auditor's answer to "was it allowed?". */
		json_object_set(rec, "would", json_object_get(j, "would"));
		if (json_object_get(j, "would_rule"))
			json_object_set(rec, "would_rule", json_object_get(j, "would_rule"));
	}
	if (extra)
		json_object_update(rec, (json_t *)extra);
	/* Refused by Landlock (read from its audit records or fexit): not the BPF hook's refusal.
	 */
	if (json_is_string(json_object_get(rec, "by")) &&
	    !strcmp(json_string_value(json_object_get(rec, "by")), "landlock"))
		json_object_set_new(rec, "hook", json_string("landlock"));
	err = ev_append(ev, type, rec);
	json_decref(rec);
	json_decref(j);
	return err;
}

bool evidence_key_created(const struct evidence *ev)
{
	return ev->key_created;
}

int evidence_tick(struct evidence *ev, int64_t *next_ms)
{
	return evlog_tick(ev->log, next_ms);
}

int evidence_stop(struct evidence *ev, uint64_t lost, int status)
{
	json_t *rec;
	int err = 0, e2;

	if (lost) {
		rec = json_pack("{s:I, s:s}", "count", (json_int_t)lost, "source", "ringbuf");
		err = ev_append(ev, "lost_events", rec);
		json_decref(rec);
	}
	rec = json_pack("{s:s, s:i}", "reason", "exit", "status", status);
	e2 = ev_append(ev, "stop", rec);
	json_decref(rec);
	return err ? err : e2;
}

int evidence_close(struct evidence *ev)
{
	int err;

	if (!ev)
		return 0;
	err = evlog_close(ev->log);
	sts_key_free(&ev->key);
	free(ev);
	return err;
}

int evidence_append(struct evidence *ev, const char *type, const json_t *fields)
{
	return ev_append(ev, type, fields);
}

int evidence_checkpoint(struct evidence *ev)
{
	return evlog_checkpoint(ev->log);
}
