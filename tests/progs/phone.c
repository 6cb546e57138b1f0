// SPDX-License-Identifier: GPL-2.0-only
/*
 * The shipped policy on the device it was written for (issue 16): policy/default.conf, byte for
 * byte, loaded by `stsd daemon` in enforce mode on an arm64 kernel (the arm64 VM lane), and an
 * activation completed with it. Nothing in the policy is adapted: the device is provisioned the
 * way a phone is instead. The model comes from the virt board's device tree
 * (/sys/firmware/devicetree/base/model), the libraries are where Debian's arm64 packages put
 * them (the guest has a merged /usr), the agent is installed where `make install PREFIX=/usr`
 * puts it, the CA where the policy names it, and the collector answers at the policy's
 * address, 192.0.2.10:443, put on the guest's loopback. On x86 the same test proves
 * policy/example-x86_64.conf, its x86 twin, the same way (the x86 VM lane).
 *
 * It installs files in /etc, /usr/libexec and /var/lib and adds an address to lo: the VM lanes
 * only (their guest is thrown away); the host lane skips it.
 */
#include "test.h"
#include "activation_helpers.h"
#include "core/util.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#if defined(__aarch64__)
#define SHIPPED_POLICY "policy/default.conf"
#else
#define SHIPPED_POLICY "policy/example-x86_64.conf"
#endif

static bool in_vm_guest(void)
{
	char host[64] = "";

	/* tests/vm/init names the guest so; no other machine is expected to be. */
	return gethostname(host, sizeof(host)) == 0 && strcmp(host, "stsguard-vm") == 0 &&
	       access("/sts/.cmd", F_OK) == 0;
}

/* Install src at dst (mode), as `make install` or the phone's image would. */
static bool install_file(const char *src, const char *dst, int mode)
{
	return test__run(NULL, 0, "mkdir -p \"$(dirname %s)\" && cp %s %s && chmod %o %s", dst, src,
			 dst, mode, dst) == 0;
}

void test_phone_shipped_policy(void)
{
	char cmp[128], cwd[512], out[4096], conf[8192], *log = NULL, *shipped = NULL;
	char *model = NULL, *stored = NULL;
#if defined(__aarch64__)
	size_t mlen;
#endif
	const char *const listen[] = { "--listen", "192.0.2.10:443", NULL };
	size_t plen, slen;
	struct act_env e;
	int st;

	memset(&e, 0, sizeof(e));
	e.px.fd = -1; /* no relay: the agent reaches the collector at the policy's address */
	if (!in_vm_guest()) {
		test__skip("installs into /etc, /usr/libexec and adds 192.0.2.10 to lo: VM lanes "
			   "only");
		return;
	}
	snprintf(e.dir, sizeof(e.dir), "%s/phone", test__tmpdir());
	snprintf(e.state, sizeof(e.state), "%s/state", e.dir);
	snprintf(e.log, sizeof(e.log), "%s/state/evidence.log", e.dir);
	snprintf(e.conf, sizeof(e.conf), "%s/stsd.conf", e.dir);
	chmod(test__tmpdir(), 0755);
	if (!ASSERT_OK(sts_mkdir_p(e.dir, 0755), "make the device's directory"))
		return;

	/* The collector at the policy's own address (documentation range, on lo here). */
	if (!ASSERT_EQ(test__run(out, sizeof(out),
				 "ip addr add 192.0.2.10/32 dev lo 2>&1 || "
				 "ip addr show dev lo | grep -q 192.0.2.10"),
		       0, "put 192.0.2.10 on lo"))
		return;
	snprintf(out, sizeof(out), "%s/collector", e.dir);
	if (!ASSERT_OK(sts_mkdir_p(out, 0755), "make the collector's directory") ||
	    !ASSERT_OK(collector_start(out, listen, &e.col),
		       "start sts-collector on 192.0.2.10:443"))
		return;
	e.col_up = true;

	/* The device, provisioned as a phone is: every file the policy names, where it names it. */
	ASSERT_TRUE(install_file(e.col.ca, "/etc/stsguard/collector-ca.pem", 0644),
		    "install the collector's CA as /etc/stsguard/collector-ca.pem");
	snprintf(out, sizeof(out), "%s/sts-agent", test__out_dir());
	ASSERT_TRUE(
		install_file(out, "/usr/libexec/stsguard/sts-agent", 0755),
		"install the agent as /usr/libexec/stsguard/sts-agent (make install PREFIX=/usr)");
#if defined(__aarch64__)
	ASSERT_EQ(access("/sys/firmware/devicetree/base/model", R_OK), 0,
		  "the model comes from the device tree, as on a phone");
	ASSERT_EQ(access("/usr/lib/aarch64-linux-gnu/libssl.so.3", R_OK), 0,
		  "libssl is where Debian's arm64 package puts it");
#else
	/* The x86 guest keeps the libraries under /lib: /usr/lib's name for them, as merged /usr.
	 */
	test__run(NULL, 0,
		  "[ -e /usr/lib/x86_64-linux-gnu ] || { mkdir -p /usr/lib && "
		  "ln -s /lib/x86_64-linux-gnu /usr/lib/x86_64-linux-gnu; }");
#endif
	snprintf(out, sizeof(out), "%s/imei", e.dir);
	ASSERT_OK(act_write_text(out, GOOD_IMEI "\n"), "write the IMEI file");
	snprintf(conf, sizeof(conf),
		 "collector-host localhost\n"
		 "collector-addr 192.0.2.10:443\n"
		 "collector-ca /etc/stsguard/collector-ca.pem\n"
		 "collector-key %s\n"
		 "imei-source file:%s/imei\n"
		 "policy %s/" SHIPPED_POLICY "\n"
		 "state-dir %s\n"
		 "agent /usr/libexec/stsguard/sts-agent\n"
		 "agent-user stsagent\n"
		 "retry-initial 1\nretry-max 2\n",
		 e.col.pubkey, e.dir, getcwd(cwd, sizeof(cwd)) ? cwd : ".", e.state);
	if (!ASSERT_OK(act_write_text(e.conf, conf), "write stsd.conf"))
		goto cleanup;

	/* The policy stsd loads is the shipped file itself, not a copy that could differ. */
	ASSERT_EQ(test__run(out, sizeof(out), "%s/stsd policy check %s", test__out_dir(),
			    SHIPPED_POLICY),
		  0, "stsd policy check accepts the shipped policy on this device");

	/* Enforce mode (no --observe): the VM's kernel has BPF LSM. */
	st = test__run(out, sizeof(out), "%s/stsd daemon --config %s --once -q", test__out_dir(),
		       e.conf);
	if (!ASSERT_EQ(st, 0, "stsd daemon: the activation completed under the shipped policy"))
		fprintf(stderr, "%s\n", out);
	ASSERT_EQ(act_stored(&e), 1, "the collector stored exactly one activation");
	ASSERT_EQ(act_log_count(&e, "\"status\":\"verified\""), 1, "the receipt was verified");
	ASSERT_GE(act_log_count(&e, "\"mode\":\"enforce\""), 1,
		  "the policy was enforced, not observed");
	ASSERT_EQ(act_log_count(&e, "\"action\":\"denied\""), 0,
		  "the agent needed nothing the shipped policy does not allow: not one denial");
	ASSERT_TRUE(act_log_verifies(&e), "stsctl verify accepts the evidence log");
#if defined(__aarch64__)
	/* The model the collector stored is the device tree's, as a phone reports its own. */
	if (ASSERT_OK(sts_read_file("/sys/firmware/devicetree/base/model", 256, &model, &mlen),
		      "read the device tree's model")) {
		model[strnlen(model, mlen)] = '\0'; /* the property ends with its own NUL */
		stored = act_stored_json(&e);
		snprintf(out, sizeof(out), "the collector stored the device tree's model \"%s\"",
			 model);
		ASSERT_TRUE(stored && model[0] && strstr(stored, model), out);
	}
#endif

	/* The hash the evidence log records is the shipped file's, byte for byte. */
	if (ASSERT_OK(sts_read_file(e.log, 8 << 20, &log, &plen), "read the evidence log") &&
	    ASSERT_OK(sts_read_file(SHIPPED_POLICY, 1 << 16, &shipped, &slen), "read the policy") &&
	    ASSERT_EQ(test__run(cmp, sizeof(cmp), "sha256sum %s | cut -c1-64", SHIPPED_POLICY), 0,
		      "hash the shipped policy")) {
		cmp[strcspn(cmp, "\n")] = '\0';
		ASSERT_TRUE(strstr(log, cmp) != NULL,
			    "the evidence log names the shipped policy's sha256");
	}
cleanup:
	free(log);
	free(shipped);
	free(model);
	free(stored);
	act_teardown(&e);
	test__run(NULL, 0, "ip addr del 192.0.2.10/32 dev lo");
}
