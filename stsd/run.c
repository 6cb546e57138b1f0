// SPDX-License-Identifier: GPL-2.0-only
/*
 * stsd run [OPTIONS] -- CMD [ARGS]: police one command (stsd/police.c). The command runs in
 * a fresh cgroup under the BPF enforcement of the policy, as an unprivileged user, and every
 * decision the kernel takes about it is reported.
 */
#include "evidence.h"
#include "payload_rules.h"
#include "police.h"
#include "stsd.h"
#include "core/cli.h"
#include "core/util.h"
#include "device/config.h"
#include "device/consent.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* clang-format off */
static const char usage_text[] =
	"usage: stsd run [OPTIONS] -- CMD [ARGS]...\n"
	"\n"
	"Run CMD inside a fresh policed cgroup, under the BPF enforcement of a policy, and\n"
	"report every decision the kernel takes about it. This is how a compliance team\n"
	"polices a vendor's telemetry binary. CMD itself is allowed to execute; everything\n"
	"else it reads, writes, executes or connects to must be in the policy.\n"
	"\n"
	"CMD runs in a session of its own without a controlling terminal, in UTS and IPC\n"
	"namespaces of its own (host name \"localhost\"), with a fresh session keyring,\n"
	"the environment PATH, LANG=C.UTF-8 and the policy's env lines only, its working\n"
	"directory the state-dir, under a seccomp filter that refuses (EPERM, recorded)\n"
	"ioctl requests and socket options but short allowlists, sockets other than\n"
	"TCP over inet/inet6 (AF_UNIX with allow-unix; UDP is refused at socket() by\n"
	"the cgroup's program), bind, fork, ptrace, mounts, namespaces, keyrings, bpf,\n"
	"io_uring, hard links and signals to other processes (docs/policy.md lists\n"
	"them), and, where the kernel has Landlock and BPF LSM is missing, a Landlock\n"
	"ruleset of the policy's files.\n"
	"\n"
	"options:\n"
	"  --policy FILE        the policy (default " STSD_DEFAULT_POLICY "); its state-dir\n"
	"                       is created (mode 0700) if missing, and stsd says so\n"
	"  --observe            a dry run where BPF LSM is missing: file opens and execs\n"
	"                       are recorded through tracepoints with what enforce mode\n"
	"                       would have decided (\"OBSERVED, would deny: ...\"; JSON\n"
	"                       \"would\", \"would_rule\"), not refused, even where Landlock\n"
	"                       could refuse them. Network rules and the seccomp filter stay\n"
	"                       enforced. Without it, BPF LSM enforces the file and exec\n"
	"                       rules, else Landlock; with neither (or with allow-unix lines\n"
	"                       and no BPF LSM, whose peers only BPF LSM decides) stsd\n"
	"                       refuses (exit 3) and names the lsm= boot parameter.\n"
	"  --stdin              CMD reads stsd's stdin (default: /dev/null). Its stdout and\n"
	"                       stderr are always pipes stsd relays: no terminal of the\n"
	"                       launcher is reachable from CMD. The relay never blocks\n"
	"                       the monitor: up to 1 MiB waits for a slow reader, then CMD\n"
	"                       waits in its write; what is left unread 5 s after CMD\n"
	"                       exits is dropped and counted (output_dropped_bytes).\n"
	"  --user USER          run CMD as USER (default: nobody when stsd runs as root);\n"
	"                       'root' keeps root, to prove that the kernel rules bind even it\n"
	"  --log FILE           append every decision to this evidence log (hash-chained,\n"
	"                       signed checkpoints; see docs/evidence.md), e.g.\n"
	"                       /var/lib/stsguard/evidence.log; check it with stsctl verify\n"
	"  --log-key FILE       the key signing the log's checkpoints (default: log.key in\n"
	"                       the log's directory, as stsd daemon keeps them). Created with\n"
	"                       FILE.pub if missing, and stsd says so: FILE.pub is what\n"
	"                       an auditor passes to stsctl verify --log-key\n"
	"  --seal-state FILE    seal the checkpoints forward-securely (stsctl seal-init); a\n"
	"                       log with unsealed records goes on in a new segment, the\n"
	"                       unsealed history kept as LOG.<records> (stsd says so)\n"
	"  --log-max-size SIZE  past SIZE bytes (suffix K, M, G), checkpoint the log and go\n"
	"                       on in a new segment: the log so far becomes LOG.<records\n"
	"                       before it, 12 digits>; stsctl verify LOG.[0-9]* LOG checks them\n"
	"                       as one chain (default: never; stsd.conf log-max-size for\n"
	"                       stsd daemon)\n"
	"  --events FILE        append every record (start, events, stop) as plain JSON lines\n"
	"  --json               write those JSON lines to stdout\n"
	"  --allowed            also print allowed actions on stderr (and, observing, what\n"
	"                       enforce mode would allow), not only denials\n"
	"  -q, --quiet          print nothing on stderr but errors\n"
	"  --device-cgroup DIR  attach the device-wide rules (deny-outside, legacy-deny) to\n"
	"                       this cgroup (default: the cgroup v2 root, i.e. every process)\n"
	"  --cgroup-parent DIR  create the policed cgroup under DIR (default: <root>/stsguard)\n"
	"  --config FILE        the device's configuration, stsd.conf (default\n"
	"                       " STS_CONFIG_DEFAULT_PATH "): the sources the payload\n"
	"                       check compares each claim with (imei-source, model,\n"
	"                       sw-version), the collector-host the request must name, and\n"
	"                       state-dir, whose device.key.pub and consent.json it uses\n"
	"  --consent FILE       the user's consent record (stsctl consent; default\n"
	"                       consent.json in the state-dir of --config): a report\n"
	"                       carrying a country passes only if it grants that country\n"
	"\n"
	"payload check: a TLS plaintext passes only if it is, byte for byte, the activation\n"
	"request the agent builds for the collector-host, its claims equal the device's\n"
	"values read by stsd itself, its JWS is in its one canonical spelling, and its\n"
	"signature verifies with the device key or a report-key the policy names, and its\n"
	"header's aid is the activation id stsd gives CMD in STS_AID (kept in run.aid in\n"
	"the state-dir of stsd.conf); the writer is killed otherwise, before a byte leaves\n"
	"(docs/policy.md). A ClientHello leaves only with what TLS 1.3 needs: an SNI that\n"
	"is the collector-host, extensions from a fixed list (docs/policy.md)\n"
	"  -h, --help           this help\n"
	"\n"
	"output: one line on stderr per denied (and, with --allowed, allowed) action, e.g.\n"
	"  stsd run: DENIED: pid 42 (sts) tried to connect to 10.0.0.1:80/tcp: not a\n"
	"  collector endpoint of the policy\n"
	"JSON records: {\"type\":\"start\", kernel, mode, policy_sha256, hooks:[{hook, mode,\n"
	"program, tag}]}, {\"type\":\"event\", kind, verdict, rule, pid, comm, dest|path,\n"
	"[would, would_rule,] explain}, {\"type\":\"stop\", status, lost_events, denied,\n"
	"allowed, observed, would_deny}.\n"
	"\n"
	"An output nobody reads any more (--json | head, a closed stderr) or that cannot\n"
	"grow (--events on a full disk) is said once, on stderr and in the evidence log,\n"
	"and dropped: the policing, the evidence log and the cgroup's removal go on, and\n"
	"the exit status is still CMD's.\n";
/* clang-format on */

static const struct cli_exit run_exits[] = {
	{ STS_EXIT_OK, "CMD succeeded; otherwise CMD's own exit status, 128+N if it was killed "
		       "by signal N" },
	{ STS_EXIT_USAGE, "usage or configuration error (options, policy, user): nothing ran" },
	{ STS_EXIT_ENFORCE, "enforcement or the evidence log could not be established or kept: "
			    "CMD never ran, or was stopped (fail closed)" },
};

/* DIR/log.key for the log DIR/NAME (./log.key for a bare NAME). */
/*
 * What the policy must not grant CMD (police_opts.protect): the evidence log, its key and seal
 * state, the events file, the consent record, the policy, stsd.conf and its state dir (the
 * device key the payload check trusts, the consent record).
 */
static void protect_own_files(struct police_opts *o, const struct run_rules *rules, const char *log,
			      const char *log_key, const char *seal, const char *events,
			      char *cfg_dir, size_t len)
{
	const char *config = rules->config_path ? rules->config_path : STS_CONFIG_DEFAULT_PATH;
	struct sts_config *cfg = calloc(1, sizeof(*cfg));
	char why[256];
	size_t n = 0;

	cfg_dir[0] = '\0';
	if (cfg && sts_config_load(config, cfg, why, sizeof(why)) == 0)
		snprintf(cfg_dir, len, "%s", cfg->state_dir);
	free(cfg);
	o->protect[n++] = o->policy_path;
	o->protect[n++] = config;
	if (cfg_dir[0])
		o->protect[n++] = cfg_dir;
	if (log)
		o->protect[n++] = log;
	if (log_key)
		o->protect[n++] = log_key;
	if (seal)
		o->protect[n++] = seal;
	if (events)
		o->protect[n++] = events;
	if (rules->consent_path)
		o->protect[n++] = rules->consent_path;
}

static int log_key_beside(const char *log, char *out, size_t len)
{
	const char *slash = strrchr(log, '/');
	int n;

	if (!slash)
		n = snprintf(out, len, "log.key");
	else
		n = snprintf(out, len, "%.*s/log.key", (int)(slash - log), log);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/*
 * A descriptor 0-2 its caller closed (`2>&-`) would be the next file stsd opens, the evidence
 * log say, which would then receive what is meant for stderr. Each closed one is pointed at
 * /dev/null; the mask of those found closed (bit N: descriptor N) is returned.
 */
static unsigned int reopen_closed_std_fds(void)
{
	unsigned int closed = 0;
	int fd;

	for (fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
			continue;
		closed |= 1u << fd;
		/* The lowest free descriptor is this one; CMD inherits /dev/null there too. */
		if (open("/dev/null", fd ? O_WRONLY : O_RDONLY) < 0)
			break;
	}
	return closed;
}

int cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "policy", required_argument, NULL, 'p' },
		{ "observe", no_argument, NULL, 'o' },
		{ "user", required_argument, NULL, 'u' },
		{ "log", required_argument, NULL, 'L' },
		{ "log-key", required_argument, NULL, 'K' },
		{ "seal-state", required_argument, NULL, 'S' },
		{ "log-max-size", required_argument, NULL, 'M' },
		{ "events", required_argument, NULL, 'l' },
		{ "json", no_argument, NULL, 'j' },
		{ "allowed", no_argument, NULL, 'a' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "device-cgroup", required_argument, NULL, 'D' },
		{ "cgroup-parent", required_argument, NULL, 'P' },
		{ "consent", required_argument, NULL, 'C' },
		{ "stdin", no_argument, NULL, 'I' },
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *events_path = NULL, *evlog_path = NULL, *seal_path = NULL;
	const char *evlog_key = NULL;
	char keybuf[PATH_MAX], cfg_dir[PATH_MAX];
	struct run_rules rules = { 0 };
	struct police_opts o = {
		.policy_path = STSD_DEFAULT_POLICY,
		.payload_check = run_payload_check,
		.payload_ctx = &rules,
	};
	bool json_stdout = false;
	uint64_t max_size = 0;
	char why[512];
	int ret, err, opt;

	unsigned int closed = reopen_closed_std_fds();

	sts_set_progname(cli_name()); /* "stsd run: ..." */
	optind = 1;
	while ((opt = getopt_long(argc, argv, "+qh", opts, NULL)) != -1) {
		switch (opt) {
		case 'p':
			o.policy_path = optarg;
			break;
		case 'o':
			o.observe = true;
			break;
		case 'u':
			o.user = optarg;
			break;
		case 'l':
			events_path = optarg;
			break;
		case 'L':
			evlog_path = optarg;
			break;
		case 'K':
			evlog_key = optarg;
			break;
		case 'S':
			seal_path = optarg;
			break;
		case 'M':
			if (sts_config_parse_size(optarg, &max_size))
				return cli_usage_error(
					"--log-max-size %s: \"off\" or a size in bytes "
					"(suffix K, M or G) from %u to 1T",
					optarg, STS_LOG_MIN_SIZE);
			break;
		case 'j':
			json_stdout = true;
			break;
		case 'a':
			o.show_allowed = true;
			break;
		case 'q':
			o.quiet = true;
			break;
		case 'D':
			o.device_cgroup = optarg;
			break;
		case 'P':
			o.cgroup_parent = optarg;
			break;
		case 'C':
			rules.consent_path = optarg;
			break;
		case 'I':
			o.pass_stdin = true;
			break;
		case 'c':
			rules.config_path = optarg;
			break;
		case 'h':
			return cli_help(usage_text, run_exits, ARRAY_SIZE(run_exits));
		default:
			/* getopt has said "stsd run: unrecognized option ..." */
			return cli_usage_hint();
		}
	}
	if (optind >= argc)
		return cli_usage_error("no command given (stsd run [OPTIONS] -- CMD [ARGS])");
	if (max_size && !evlog_path)
		return cli_usage_error("--log-max-size needs --log");
	if (events_path && json_stdout)
		return cli_usage_error("--events and --json are exclusive");
	if (evlog_path && !evlog_key) {
		/* Next to the log: nothing is created where --log did not point. */
		if (log_key_beside(evlog_path, keybuf, sizeof(keybuf)))
			return cli_usage_error("--log %s: path too long", evlog_path);
		evlog_key = keybuf;
	}
	o.argv = (const char *const *)argv + optind;
	run_rules_start(&rules);
	o.tls_host = rules.tls_host;
	o.aid = rules.aid[0] ? rules.aid : NULL;
	protect_own_files(&o, &rules, evlog_path, evlog_key, seal_path, events_path, cfg_dir,
			  sizeof(cfg_dir));
	ret = STS_EXIT_USAGE;
	if (events_path) {
		o.events = fopen(events_path, "ae");
		if (!o.events) {
			sts_err("open %s: %s", events_path, strerror(errno));
			goto cleanup;
		}
		o.events_name = events_path;
	} else if (json_stdout) {
		o.events = stdout;
		o.events_name = "stdout (--json)";
		o.events_closed = closed & 2;
	}
	o.stderr_closed = closed & 4;
	if (evlog_path) {
		err = evidence_open(evlog_path, evlog_key, seal_path, &o.evidence, why,
				    sizeof(why));
		if (err) {
			/* No evidence, no run: the policed code never runs unlogged. */
			sts_err("%s", why);
			ret = STS_EXIT_ENFORCE;
			goto cleanup;
		}
		evidence_set_max_size(o.evidence, max_size);
		if (evidence_key_created(o.evidence) && !o.quiet)
			sts_err("created the evidence log key %s and its public half %s.pub (for "
				"stsctl verify --log-key)",
				evlog_key, evlog_key);
	}
	ret = police_run(&o);
cleanup:
	if (o.evidence) {
		err = evidence_close(o.evidence);
		if (err) {
			sts_err("evidence log: %s", strerror(-err));
			if (ret == STS_EXIT_OK)
				ret = STS_EXIT_ENFORCE;
		}
	}
	if (o.events && o.events != stdout)
		fclose(o.events);
	return ret;
}
