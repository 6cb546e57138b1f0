// SPDX-License-Identifier: GPL-2.0-only
/*
 * Kernel enforcement through `stsd run` (issue 3): a rogue program tries one thing at a time
 * inside the policed cgroup; what the policy allows must work, and each forbidden attempt here
 * must be refused by the kernel and produce an event naming the rule. Most forbidden attempts
 * are rows of the adversary catalogue (tests/progs/adversary.c), run once there. Network rules run
 * on any kernel (cgroup hooks); file, exec, socket kind and AF_UNIX rules need BPF LSM and are
 * skipped on the host (the VM lane runs them with
 * --no-skip). Observe mode is tested where the host lacks BPF LSM.
 */
#include "test.h"
#include "cgroup_helpers.h"
#include "stsd_helpers.h"
#include "core/util.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define EXIT_EPERM (100 + EPERM)

static char rogue[PATH_MAX];
static int collector_fd = -1;
static uint16_t collector_port;

/* A TCP listener on 127.0.0.1 standing in for the collector. */
static int collector_listen(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);

	if (collector_fd >= 0)
		return 0;
	collector_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (collector_fd < 0 || bind(collector_fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    listen(collector_fd, 64) || getsockname(collector_fd, (struct sockaddr *)&sa, &len))
		return -errno;
	collector_port = ntohs(sa.sin_port);
	return 0;
}

/*
 * The policy every test starts from: the collector stand-in, what the dynamic loader needs,
 * a state dir and one allowed AF_UNIX socket; extra lines appended.
 */
static void policy(char *buf, size_t len, const char *extra)
{
	snprintf(rogue, sizeof(rogue), "%s/tests/bin/rogue", test__out_dir());
	snprintf(buf, len,
		 "collector 127.0.0.1:%u\n"
		 "allow-read /etc/ld.so.cache\n"
		 "allow-read " TEST_LDSO "\n"
		 "allow-read-dir " TEST_LIBDIR "\n"
		 "state-dir %s/state\n"
		 "%s",
		 collector_port, test__tmpdir(), extra ? extra : "");
}

/* Run rogue ARGS under stsd; expect exit status want and an event (kind, verdict, rule). */
static bool expect(bool observe, const char *extra_policy, const char *const args[], int want,
		   const char *kind, const char *verdict, const char *rule, const char *name)
{
	char pol[4096], check[256];
	const char *argv[16] = { rogue };
	struct stsd_result r;
	json_t *ev;
	bool ok = false;
	int i;

	/* Once enforce mode was refused, the remaining attempts of this test would be too. */
	if (test__cur.skipped)
		return false;
	if (!ASSERT_OK(collector_listen(), "listen for the collector stand-in"))
		return false;
	policy(pol, sizeof(pol), extra_policy);
	for (i = 0; args[i] && i < 14; i++)
		argv[i + 1] = args[i];
	if (!ASSERT_OK(stsd_run(pol, observe, argv, &r), "run stsd"))
		return false;
	if (!observe && r.status == 3) {
		json_t *rec = json_array_get(r.records, 0);

		test__skip("%s: stsd refused enforce mode: %s", name,
			   json_string_value(json_object_get(rec, "reason")));
		goto cleanup;
	}
	/*
	 * These are BPF LSM's decisions (allowed events, a state-dir file with two links, EPERM):
	 * where Landlock enforces the file rules instead, its refusals are the adversary
	 * catalogue's rows (EACCES, refusals only).
	 */
	if (!observe && stsd_landlock_files(&r)) {
		test__skip("%s: Landlock, not BPF LSM, enforces the file rules here", name);
		goto cleanup;
	}
	snprintf(check, sizeof(check), "%s: rogue exit status", name);
	ok = ASSERT_EQ(r.status, want, check);
	ev = stsd_find_event(&r, kind, verdict, rule);
	snprintf(check, sizeof(check), "%s: event %s/%s/%s", name, kind, verdict, rule);
	ok &= ASSERT_OK_PTR(ev, check);
	if (ev && test__cur.verbose)
		printf("    %s\n", json_string_value(json_object_get(ev, "explain")));
cleanup:
	stsd_result_free(&r);
	return ok;
}

static const char *port_str(uint16_t port)
{
	static char buf[16];

	snprintf(buf, sizeof(buf), "%u", port);
	return buf;
}

/*
 * The refusals (other destinations, IPv6, UDP and DNS, raw sockets, io_uring) are rows of the
 * adversary catalogue (tests/progs/adversary.c); here, what must stay allowed.
 */
void test_enforce_network(void)
{
	if (!ASSERT_OK(collector_listen(), "listen"))
		return;
	expect(true, NULL, (const char *[]){ "connect4", port_str(collector_port), NULL }, 0,
	       "connect", "allow", "allowed_by_policy", "connect to the collector");
}

/* Fail closed (G8): without --observe, a kernel that refuses BPF LSM means no run at all. */
void test_enforce_fail_closed(void)
{
	char pol[4096], marker[512];
	struct stsd_result r;
	const char *argv[] = { rogue, "write", marker, NULL };

	if (!ASSERT_OK(collector_listen(), "listen"))
		return;
	policy(pol, sizeof(pol), NULL);
	snprintf(marker, sizeof(marker), "%s/state/ran", test__tmpdir());
	if (!ASSERT_OK(stsd_run(pol, false, argv, &r), "run stsd"))
		return;
	if (stsd_mode(&r) && strcmp(stsd_mode(&r), "enforce") == 0) {
		ASSERT_EQ(r.status, 0, "enforce mode available: command ran");
		ASSERT_EQ(access(marker, F_OK), 0, "and wrote in its state dir");
	} else {
		ASSERT_EQ(r.status, 3, "no BPF LSM and no --observe: stsd refuses (status 3)");
		ASSERT_NEQ(access(marker, F_OK), 0, "the command never ran");
		ASSERT_STREQ(
			json_string_value(json_object_get(json_array_get(r.records, 0), "type")),
			"refused", "a refused record says why");
	}
	stsd_result_free(&r);
}

/* Observe mode on a kernel without BPF LSM: opens and execs are recorded, not stopped. */
void test_observe_files_exec(void)
{
	char pol[4096];
	struct stsd_result r;
	const char *argv[] = { rogue, "open", "/etc/hostname", NULL };

	if (!ASSERT_OK(collector_listen(), "listen"))
		return;
	policy(pol, sizeof(pol), NULL);
	if (!ASSERT_OK(stsd_run(pol, true, argv, &r), "run stsd --observe"))
		return;
	if (strcmp(stsd_mode(&r) ? stsd_mode(&r) : "", "observe") != 0) {
		/* BPF LSM present: enforce mode took over; the open is denied instead. */
		ASSERT_EQ(r.status, EXIT_EPERM, "enforce mode: open denied");
		ASSERT_OK_PTR(stsd_find_event(&r, "file_open", "deny", "file_not_allowed"),
			      "enforce mode: deny event");
	} else {
		ASSERT_EQ(r.status, 0, "observe mode: open not stopped");
		ASSERT_OK_PTR(stsd_find_event(&r, "file_open", "observed", "observed_only"),
			      "observe mode: open recorded");
		ASSERT_OK_PTR(stsd_find_event(&r, "exec", "observed", "observed_only"),
			      "observe mode: exec recorded");
	}
	stsd_result_free(&r);
}

static int make_file(const char *path)
{
	int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);

	if (fd < 0)
		return -errno;
	if (write(fd, "serial=SN123\n", 13) != 13) {
		close(fd);
		return -EIO;
	}
	return close(fd) ? -errno : 0;
}

void test_enforce_files(void)
{
	char secret[512], state[512], hard[512], inside[512], extra[600];

	if (!ASSERT_OK(collector_listen(), "listen"))
		return;
	snprintf(secret, sizeof(secret), "%s/serial-number", test__tmpdir());
	snprintf(state, sizeof(state), "%s/state", test__tmpdir());
	snprintf(hard, sizeof(hard), "%s/state/innocent-hardlink", test__tmpdir());
	snprintf(inside, sizeof(inside), "%s/state/activation.json", test__tmpdir());
	mkdir(state, 0700);
	if (!ASSERT_OK(make_file(secret), "create the forbidden file") ||
	    !ASSERT_OK(link(secret, hard), "hard link to it in the state dir"))
		return;
	snprintf(extra, sizeof(extra), "allow-read /etc/passwd\n");

	expect(false, extra, (const char *[]){ "open", "/etc/passwd", NULL }, 0, "file_open",
	       "allow", "allowed_by_policy", "read an allow-listed file");
	expect(false, extra, (const char *[]){ "open", hard, NULL }, EXIT_EPERM, "file_open",
	       "deny", "state_file_with_extra_links",
	       "read it through a hard link in the state dir");
	expect(false, extra, (const char *[]){ "write", "/etc/passwd", NULL }, EXIT_EPERM,
	       "file_open", "deny", "write_outside_state_dir", "write an allow-listed file");
	expect(false, extra, (const char *[]){ "write", inside, NULL }, 0, "file_open", "allow",
	       "allowed_by_policy", "write inside the state dir");
}

/* The allowed AF_UNIX peer (the refused ones are rows of the adversary catalogue). */
void test_enforce_sockets(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char ok_path[108], extra[256];
	int ok_fd;

	snprintf(ok_path, sizeof(ok_path), "%s/monitor.sock", test__tmpdir());
	ok_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	strcpy(sa.sun_path, ok_path);
	if (ASSERT_OK(bind(ok_fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(ok_fd, 4),
		      "listen on the allowed socket")) {
		snprintf(extra, sizeof(extra), "allow-unix %s\n", ok_path);
		expect(false, extra, (const char *[]){ "unix", ok_path, NULL }, 0, "unix_connect",
		       "allow", "allowed_by_policy", "AF_UNIX connect to the allowed socket");
	}
	close(ok_fd);
}

/*
 * Device-wide rules: while stsd polices a command, processes outside the policed cgroup may not
 * reach the collector (deny-outside) nor a legacy telemetry endpoint (legacy-deny). The "device"
 * here is a test cgroup, so the test never touches the rest of the machine.
 */
void test_enforce_device_wide(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct test_cgroup dev = { .fd = -1 };
	socklen_t slen = sizeof(sa);
	char pol[4096], extra[256];
	struct stsd_result r = { 0 };
	uint16_t legacy_port;
	int legacy_fd = -1;
	pid_t pid;

	if (!ASSERT_OK(collector_listen(), "listen") ||
	    !ASSERT_OK(cg_create("sts-test-device", &dev), "create the device cgroup"))
		goto cleanup;
	legacy_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (!ASSERT_OK(bind(legacy_fd, (struct sockaddr *)&sa, sizeof(sa)) ||
			       listen(legacy_fd, 8) ||
			       getsockname(legacy_fd, (struct sockaddr *)&sa, &slen),
		       "listen for the legacy endpoint"))
		goto cleanup;
	legacy_port = ntohs(sa.sin_port);
	snprintf(extra, sizeof(extra), "deny-outside yes\nlegacy-deny 127.0.0.1:%u\n", legacy_port);
	policy(pol, sizeof(pol), extra);
	stsd_device_cgroup = dev.path;
	pid = stsd_start(pol, true, (const char *[]){ rogue, "sleep", "4000", NULL });
	stsd_device_cgroup = "none";
	if (!ASSERT_GE(pid, 0, "start stsd") ||
	    !ASSERT_TRUE(stsd_wait_started(30000), "stsd reports its start record"))
		goto cleanup;
	ASSERT_EQ(cg_run_in(&dev, cg_try_connect4, &collector_port), EPERM,
		  "outside the policed cgroup: the collector is denied");
	ASSERT_EQ(cg_run_in(&dev, cg_try_connect4, &legacy_port), EPERM,
		  "outside the policed cgroup: the legacy endpoint is denied");
	ASSERT_EQ(cg_run_in(NULL, cg_try_connect4, &collector_port), 0,
		  "outside the device cgroup: not affected");
	ASSERT_OK(stsd_wait(pid, &r), "wait for stsd");
	ASSERT_EQ(r.status, 0, "the policed command ran to the end");
	ASSERT_OK_PTR(stsd_find_event(&r, "device_connect", "deny",
				      "collector_reserved_for_policed_cgroup"),
		      "event: collector reserved for the policed cgroup");
	ASSERT_OK_PTR(stsd_find_event(&r, "device_connect", "deny", "legacy_telemetry_endpoint"),
		      "event: legacy telemetry endpoint");
cleanup:
	stsd_result_free(&r);
	if (legacy_fd >= 0)
		close(legacy_fd);
	cg_destroy(&dev);
}

/* stsd run --log: the decisions land in an evidence log that `stsctl verify` accepts. */
void test_enforce_evidence_log(void)
{
	char pol[4096], log[512], key[512], pub[512], cmd[2048];
	const char *argv[24];
	int n = 0, status;
	char *buf = NULL;
	size_t len;
	pid_t pid;

	if (!ASSERT_OK(collector_listen(), "listen"))
		return;
	policy(pol, sizeof(pol), NULL);
	snprintf(log, sizeof(log), "%s/evidence.log", test__tmpdir());
	snprintf(key, sizeof(key), "%s/log.key", test__tmpdir());
	snprintf(pub, sizeof(pub), "%s/log.key.pub", test__tmpdir());
	snprintf(cmd, sizeof(cmd), "%s/policy.conf", test__tmpdir());
	{
		FILE *f = fopen(cmd, "w");

		if (!ASSERT_OK_PTR(f, "write policy"))
			return;
		fputs(pol, f);
		fclose(f);
	}
	snprintf(pol, sizeof(pol), "%s/stsd", test__out_dir());
	argv[n++] = pol;
	argv[n++] = "run";
	argv[n++] = "--policy";
	argv[n++] = cmd;
	argv[n++] = "--log";
	argv[n++] = log;
	argv[n++] = "--log-key";
	argv[n++] = key;
	argv[n++] = "--user";
	argv[n++] = "root";
	argv[n++] = "--observe";
	argv[n++] = "-q";
	argv[n++] = "--";
	argv[n++] = rogue;
	argv[n++] = "connect4";
	argv[n++] = "9";
	argv[n] = NULL;
	pid = fork();
	if (pid == 0) {
		execv(argv[0], (char **)argv);
		_exit(127);
	}
	if (!ASSERT_GE(pid, 0, "fork") || !ASSERT_EQ(waitpid(pid, &status, 0), pid, "wait"))
		return;
	ASSERT_EQ(WEXITSTATUS(status), EXIT_EPERM, "the policed connect was denied");
	if (!ASSERT_OK(sts_read_file(log, 1 << 20, &buf, &len), "read the evidence log"))
		return;
	ASSERT_TRUE(strstr(buf, "\"type\":\"enforcement\""), "log has the enforcement record (G7)");
	ASSERT_TRUE(strstr(buf, "\"type\":\"net_deny\""), "log has the net_deny record");
	ASSERT_TRUE(strstr(buf, "\"type\":\"checkpoint\""), "log has a signed checkpoint");
	ASSERT_TRUE(strstr(buf, "\"type\":\"stop\""), "log has the stop record");
	free(buf);
	ASSERT_EQ(test__run(NULL, 0, "%s/stsctl verify %s --log-key %s", test__out_dir(), log, pub),
		  0, "stsctl verify accepts the log");
}

/*
 * G7 is "explicit, never silent": the start record lists every hook stsguard has, each once,
 * enforcing or saying why not, also with device-wide rules on (the most rows). The record once
 * held 24 rows and dropped the egress gate's without a word.
 */
void test_enforce_start_record_lists_every_hook(void)
{
	static const char *const always[] = {
		"cgroup/connect4",	  "cgroup/connect6",	    "cgroup/sock_create",
		"device cgroup/connect4", "device cgroup/connect6", "device cgroup/sendmsg4",
		"device cgroup/sendmsg6", "uprobe SSL_write",	    "uprobe SSL_write_ex",
		"cgroup_skb/egress",	  "cgroup_skb/ingress",	    "sockops",
	};
	static const char *const lsm[] = {
		"lsm/socket_create",	   "lsm/socket_listen",
		"lsm/unix_stream_connect", "lsm/unix_may_send",
		"lsm/file_open",	   "lsm/inode_link",
		"lsm/inode_create",	   "lsm/bprm_check_security",
		"lsm/ptrace_access_check", "lsm/task_alloc",
		"lsm/task_kill",	   "lsm/sb_mount",
		"lsm/move_mount",	   "lsm/bpf",
	};
	struct test_cgroup dev = { .fd = -1 };
	struct stsd_result r = { 0 };
	json_t *start = NULL, *rec, *hooks, *h;
	const char *mode, *want;
	char pol[4096], name[160];
	size_t i, j, seen;

	if (!ASSERT_OK(collector_listen(), "listen") ||
	    !ASSERT_OK(cg_create("sts-test-device", &dev), "create the device cgroup"))
		goto cleanup;
	policy(pol, sizeof(pol), "deny-outside yes\nlegacy-deny 192.0.2.7:443\n");
	stsd_device_cgroup = dev.path;
	ASSERT_OK(stsd_run(pol, true, (const char *[]){ rogue, "sleep", "1", NULL }, &r),
		  "run stsd");
	stsd_device_cgroup = "none";
	json_array_foreach(r.records, i,
			   rec) if (strcmp(json_string_value(json_object_get(rec, "type")) ?: "",
					   "start") == 0) start = rec;
	hooks = json_object_get(start, "hooks");
	if (!ASSERT_TRUE(json_is_array(hooks), "the start record has its hooks"))
		goto cleanup;
	mode = stsd_mode(&r);
	for (i = 0; i < ARRAY_SIZE(always) + ARRAY_SIZE(lsm); i++) {
		const char *hook = i < ARRAY_SIZE(always) ? always[i] : lsm[i - ARRAY_SIZE(always)];

		want = i < ARRAY_SIZE(always) || strcmp(mode ?: "", "enforce") == 0 ? "enforce"
										    : "off";
		seen = 0;
		json_array_foreach(
			hooks, j, h) if (strcmp(json_string_value(json_object_get(h, "hook")) ?: "",
						hook) == 0)
		{
			seen++;
			snprintf(name, sizeof(name), "%s is %s", hook, want);
			ASSERT_STREQ(json_string_value(json_object_get(h, "mode")), want, name);
		}
		snprintf(name, sizeof(name), "%s listed once", hook);
		ASSERT_EQ(seen, 1, name);
	}
cleanup:
	stsd_result_free(&r);
	cg_destroy(&dev);
}

/* The child's body: a connect to the collector with IP options of 36 chosen bytes, or none. */
static int connect_ip_options(void *with)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
				  .sin_port = htons(collector_port) };
	unsigned char rr[40] = { 1, 7, 39, 40 }; /* NOP, record route marked full */
	struct timeval tv = { .tv_sec = 2 };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memcpy(rr + 4, "IMEI 490154203237518 SN0123456789 ", 35);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) ||
	    (*(bool *)with && setsockopt(fd, IPPROTO_IP, IP_OPTIONS, rr, sizeof(rr))))
		return errno;
	return connect(fd, (struct sockaddr *)&sa, sizeof(sa)) ? errno : 0;
}

/*
 * The egress gate drops IPv4 packets with options, whatever set them: a process put into the
 * policed cgroup from outside (no seccomp filter of stsd's) connects to the collector with and
 * without them. With them its SYN never leaves and the drop is recorded.
 */
void test_enforce_ip_options_dropped(void)
{
	struct test_cgroup cg = { .fd = -1 };
	char pol[4096], events[600], *buf = NULL, *p;
	struct stsd_result r = { 0 };
	bool with = true, without = false;
	size_t len, n;
	pid_t pid;

	if (!ASSERT_OK(collector_listen(), "listen"))
		return;
	policy(pol, sizeof(pol), NULL);
	pid = stsd_start(pol, false, (const char *[]){ rogue, "sleep", "4000", NULL });
	if (!ASSERT_GE(pid, 0, "start stsd") ||
	    !ASSERT_TRUE(stsd_wait_started(30000), "stsd reports its start record"))
		goto cleanup;
	snprintf(events, sizeof(events), "%s/stsd.log", test__tmpdir()); /* stsd_start's --events */
	if (!ASSERT_OK(sts_read_file(events, 1 << 20, &buf, &len), "the start record") ||
	    !ASSERT_OK_PTR(p = strstr(buf, "\"cgroup\":\""), "names the policed cgroup"))
		goto wait;
	p += strlen("\"cgroup\":\"");
	n = strcspn(p, "\"");
	if (!ASSERT_TRUE(n < sizeof(cg.path), "its path"))
		goto wait;
	memcpy(cg.path, p, n);
	ASSERT_EQ(cg_run_in(&cg, connect_ip_options, &without), 0,
		  "in the policed cgroup, no options: the collector answers");
	ASSERT_NEQ(cg_run_in(&cg, connect_ip_options, &with), 0,
		   "with 36 chosen bytes of IP options: no connection");
wait:
	ASSERT_OK(stsd_wait(pid, &r), "wait for stsd");
	ASSERT_OK_PTR(stsd_find_event(&r, "volume", "deny", NULL), "the dropped SYN is recorded");
cleanup:
	free(buf);
	stsd_result_free(&r);
}
