/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The stsguard policy: what the policed cgroup may reach, read, write and execute.
 *
 * Line-oriented text (default /etc/stsguard/policy.conf, documented in docs/policy.md); one
 * directive per line, '#' starts a comment, blank lines are ignored:
 *
 *	collector ADDR:PORT          an allowed TCP destination (IPv4 "127.0.0.1:8443" or IPv6
 *	                             "[::1]:8443"); at least one; at most STS_MAX_ENDPOINTS
 *	allow-read PATH              a file the policed cgroup may open for reading; must exist
 *	                             when the policy is loaded; identity is (device, inode)
 *	allow-read-dir DIR           every file directly inside DIR (not below) may be read:
 *	                             identity is the parent directory's (device, inode)
 *	allow-exec PATH              a binary the policed cgroup may execute; must exist
 *	state-dir DIR                the only directory the policed cgroup may write in (files
 *	                             directly inside it); created if missing; exactly one
 *	allow-unix PATH              an AF_UNIX socket path the policed cgroup may connect to
 *	                             (without one, AF_UNIX sockets are refused by seccomp)
 *	env NAME                     pass the launcher's NAME to CMD (CMD otherwise gets PATH and
 *	                             LANG=C.UTF-8 only); at most STS_MAX_ENV
 *	allow-syscall NAME           let CMD make a system call the seccomp filter refuses by
 *	                             default (sts_policy_refusable(): keyctl, io_uring_setup...)
 *	tls-allowance BYTES          egress bytes allowed per approved transmission on top of the
 *	                             report itself (handshake, record overhead); default 1024
 *	report-max BYTES             the largest report plaintext accepted; default 4096
 *	deny-outside yes|no          device-wide: processes outside the policed cgroup may not
 *	                             reach the collector endpoints; default no
 *	legacy-deny ADDR:PORT        device-wide: nobody may reach this endpoint (the 2017-style
 *	                             telemetry servers); port 0 means every port
 *	report-key FILE              a vendor's Ed25519 public key (PEM) whose signature on a
 *	                             report the payload check of `stsd run` accepts, besides the
 *	                             device key; at most STS_MAX_REPORT_KEYS
 *
 * Parsing never half-succeeds: on any error the policy is rejected with "FILE:LINE: reason"
 * (sts_policy_check() reports every error instead of the first, for `stsd policy check`).
 * Unknown directives, bad addresses, duplicate entries, missing files, and values out of range
 * are all errors.
 */
#ifndef STS_POLICY_H
#define STS_POLICY_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define STS_MAX_ENDPOINTS 16
#define STS_MAX_FILES 256
#define STS_MAX_UNIX 16
#define STS_MAX_ENV 16
#define STS_MAX_ALLOW_SYSCALLS 16
#define STS_POLICY_MAX_SIZE (256 * 1024)

struct sts_endpoint {
	int family; /* AF_INET or AF_INET6 */
	uint8_t addr[16]; /* network order; IPv4 in the first 4 bytes */
	uint16_t port; /* host order; 0 = any (legacy-deny only) */
	int line;
};

enum sts_file_kind {
	STS_FILE_READ = 1, /* allow-read: the file itself */
	STS_FILE_READ_DIR = 2, /* allow-read-dir: files whose parent is this directory */
	STS_FILE_EXEC = 3, /* allow-exec */
	STS_FILE_STATE_DIR = 4 /* state-dir: read and write files directly inside */
};

struct sts_file_rule {
	enum sts_file_kind kind;
	char *path; /* as written in the policy */
	dev_t dev; /* st_dev of the file (or directory) when the policy was loaded */
	ino_t ino; /* st_ino */
	int line;
};

#define STS_MAX_REPORT_KEYS 4

struct sts_policy {
	char *source; /* file name, for messages */
	uint8_t sha256[32]; /* of the file's exact bytes, recorded as evidence (G7) */
	struct sts_endpoint collectors[STS_MAX_ENDPOINTS];
	size_t n_collectors;
	struct sts_endpoint legacy[STS_MAX_ENDPOINTS];
	size_t n_legacy;
	struct sts_file_rule files[STS_MAX_FILES];
	size_t n_files;
	char *unix_paths[STS_MAX_UNIX];
	size_t n_unix;
	char *env[STS_MAX_ENV]; /* env NAME: names of the launcher's variables CMD gets */
	size_t n_env;
	char *allow_syscalls[STS_MAX_ALLOW_SYSCALLS]; /* allow-syscall NAME */
	size_t n_allow_syscalls;
	char *state_dir;
	bool state_dir_created; /* the parser created it (create_state_dir): the caller says so */
	uint32_t tls_allowance;
	uint32_t report_max;
	bool deny_outside;
	/* report-key: the vendor keys a report may be signed with (stsd/payload_rules.c) */
	uint8_t report_keys[STS_MAX_REPORT_KEYS][32];
	char *report_key_paths[STS_MAX_REPORT_KEYS];
	size_t n_report_keys;
};

/*
 * Parse buf (len bytes, the content of the file named source). Resolves every path to its
 * (device, inode) with stat() following symlinks, so the rule names the real file; creates
 * state-dir (mode 0700) if missing when create_state_dir is set. On error returns -EINVAL (or
 * -errno for I/O) and writes "source:line: reason" into err (errlen bytes).
 */
int sts_policy_parse(const char *source, const char *buf, size_t len, bool create_state_dir,
		     struct sts_policy *pol, char *err, size_t errlen);
enum sts_policy_severity {
	STS_POLICY_PROBLEM = 1, /* stsd would refuse the policy */
	STS_POLICY_NOTE = 2, /* worth knowing, but the policy would load */
};

/* What sts_policy_check() reports; every pointer is valid only during the call. */
struct sts_policy_problem {
	enum sts_policy_severity severity;
	int line; /* 0: the whole file */
	const char *directive; /* the first word of the line as written; NULL if none */
	const char *value; /* its value as written; NULL if none */
	const char *message; /* "source:line: reason", as sts_policy_parse() would write it */
	const char *reason; /* message without "source:line: " and the directive and value */
	int err; /* -EINVAL, or the -errno of stat() for a path that cannot be resolved */
};

typedef void (*sts_policy_report_fn)(const struct sts_policy_problem *pb, void *arg);

/*
 * Check mode, for `stsd policy check`: parse buf like sts_policy_parse(), with the same checks
 * on every path (stat() following symlinks, the same type and mode checks), but go on after a
 * problem so that report() sees every one, and create nothing: a missing state-dir is a note
 * when stsd could create it, a problem when it could not (its nearest ancestor is not a
 * directory). Line problems come in line order, then the whole-file ones, the legacy-deny
 * conflicts and the state-dir's, each with its line. Returns the number of problems (0: stsd
 * would load this policy), or -ENOMEM. pol holds what the accepted lines say, and sha256 the
 * file's, as stsd records it, whatever the result; free it with sts_policy_free() in any case.
 */
int sts_policy_check(const char *source, const char *buf, size_t len, struct sts_policy *pol,
		     sts_policy_report_fn report, void *arg);

/* Read and parse a policy file (at most STS_POLICY_MAX_SIZE bytes). */
int sts_policy_load(const char *path, bool create_state_dir, struct sts_policy *pol, char *err,
		    size_t errlen);
void sts_policy_free(struct sts_policy *pol);
/*
 * The system calls the seccomp filter of `stsd run` refuses by default and an allow-syscall
 * line may allow, NULL-terminated (stsd/sandbox.c keeps its refusals to this list).
 */
extern const char *const sts_policy_refusable[];
/* True when the policy has an allow-syscall line for name. */
bool sts_policy_allows_syscall(const struct sts_policy *pol, const char *name);
/* "127.0.0.1:8443" or "[::1]:8443" into buf. */
void sts_endpoint_str(const struct sts_endpoint *ep, char *buf, size_t len);

#endif /* STS_POLICY_H */
