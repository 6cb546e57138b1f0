// SPDX-License-Identifier: GPL-2.0-only
/*
 * stsd policy check [--json] FILE: everything that would stop `stsd run` or `stsd daemon`
 * loading a policy, in one run, as any user, without touching the system.
 *
 * The parser runs in its check mode (sts_policy_check in lib/device/policy.c): the same code and
 * the same path checks as the loader, going on after each problem, creating nothing. This file
 * adds what only a person adapting the policy needs: for a line whose comment says ADAPT, what
 * to write on this machine instead, worked out from the machine itself (its DMI, the dynamic
 * loader and multiarch directory of this very program, where this stsd is installed).
 */
#include "stsd.h"
#include "core/cli.h"
#include "core/crypto.h"
#include "core/util.h"
#include "device/policy.h"

#include <arpa/inet.h>
#include <elf.h>
#include <errno.h>
#include <getopt.h>
#include <glob.h>
#include <jansson.h>
#include <limits.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* clang-format off */
static const char help[] =
	"usage: stsd policy check [--json] FILE\n"
	"\n"
	"Check a policy the way stsd run and stsd daemon load it, and report every\n"
	"problem at once rather than the first: the same parser, and every path\n"
	"resolved as the loader resolves it (stat() following symlinks, to the device\n"
	"and inode the kernel will match, with the same type and execute-bit checks).\n"
	"It needs no privilege and changes nothing: no BPF, no cgroup, and a missing\n"
	"state-dir is checked (could stsd create it?), not created. Run it as root to\n"
	"see exactly what stsd sees: as another user, a file in a directory that user\n"
	"cannot search reads as 'Permission denied'.\n"
	"\n"
	"Each problem is one line, FILE:LINE: DIRECTIVE VALUE: PROBLEM (the message\n"
	"stsd would stop at), in line order; the whole file's (no collector line...)\n"
	"come last, as FILE: PROBLEM. Under a problem, indented:\n"
	"  ADAPT: ...  when the comment block right above the line (or the line's own\n"
	"              comment) says ADAPT: what to write on this machine instead, e.g.\n"
	"              the DMI product name for the device tree's model, this\n"
	"              machine's dynamic loader (the PT_INTERP of its programs), its\n"
	"              multiarch directory (where its C library is), the sts-agent\n"
	"              installed with this stsd; else the comment's ADAPT sentence\n"
	"  hint: ...   why a file may be missing: stsguard's own files (under\n"
	"              /etc/stsguard and libexec/stsguard) exist once installed; they\n"
	"              still count as problems: stsd refuses the policy until then\n"
	"Notes (FILE:LINE: note: ...) do not count: a state-dir stsd will create, an\n"
	"allow-unix socket that does not exist yet, a collector on a documentation\n"
	"address (RFC 5737, RFC 3849) that routes nowhere.\n"
	"\n"
	"The output ends with the SHA-256 of the file's bytes, the value stsd records\n"
	"as policy_sha256 in its start record (so that an auditor can match a log to a\n"
	"file), and a verdict: 'FILE: ok: stsd would load this policy' or\n"
	"'FILE: N problems: stsd would refuse this policy'.\n"
	"\n"
	"options:\n"
	"  --json      one JSON object on stdout instead: {\"file\", \"sha256\", \"ok\",\n"
	"              \"problems\":[{\"line\", \"directive\", \"value\", \"problem\",\n"
	"              \"adapt\", \"hint\"}], \"notes\":[same]}; line 0 is the whole\n"
	"              file; directive, value, adapt, hint are null when there is none\n"
	"  -h, --help  this help\n"
	"\n"
	"example:\n"
	"  stsd policy check /etc/stsguard/policy.conf.example\n";

static const struct cli_exit exits[] = {
	{ STS_EXIT_OK,    "stsd would load the policy (notes, if any, do not count)" },
	{ STS_EXIT_FAIL,  "the policy has problems: stsd would refuse it" },
	{ STS_EXIT_USAGE, "usage error, or FILE cannot be read" },
};
/* clang-format on */

/* What this machine uses, to say what an ADAPT line should name here. */
struct machine {
	char interp[PATH_MAX]; /* the dynamic loader: PT_INTERP of this very program */
	char triplet[64]; /* the multiarch directory of the C library this program runs on */
	char self[PATH_MAX]; /* this stsd, to find the sts-agent installed with it */
};

struct item {
	enum sts_policy_severity severity;
	int line;
	size_t seq; /* arrival order, so that sorting by line keeps it within a line */
	char *directive, *value, *message, *reason, *adapt, *hint;
};

struct check {
	const char *file;
	const char *buf;
	size_t len;
	struct machine m;
	struct item *items;
	size_t n, cap;
	bool nomem;
};

static int phdr_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct machine *m = arg;
	const char *name = info->dlpi_name, *libc, *dir;
	int i;

	(void)size;
	/* The program itself comes first, with an empty name; its PT_INTERP is mapped. */
	if (!m->interp[0] && (!name || !name[0])) {
		for (i = 0; i < info->dlpi_phnum; i++)
			if (info->dlpi_phdr[i].p_type == PT_INTERP)
				snprintf(m->interp, sizeof(m->interp), "%s",
					 (const char *)(info->dlpi_addr +
							info->dlpi_phdr[i].p_vaddr));
		return 0;
	}
	/* ".../x86_64-linux-gnu/libc.so.6": the directory names the triplet. */
	libc = name ? strstr(name, "/libc.so") : NULL;
	if (!libc || m->triplet[0])
		return 0;
	for (dir = libc; dir > name && dir[-1] != '/'; dir--)
		;
	if (memmem(dir, libc - dir, "-linux-", 7) && (size_t)(libc - dir) < sizeof(m->triplet))
		snprintf(m->triplet, sizeof(m->triplet), "%.*s", (int)(libc - dir), dir);
	return 0;
}

static void machine_init(struct machine *m)
{
	ssize_t n;
	glob_t g;

	memset(m, 0, sizeof(*m));
	dl_iterate_phdr(phdr_cb, m);
	/* A static build has no PT_INTERP: take the loader the system has. */
	if (!m->interp[0] && glob("/lib*/ld-linux*.so*", 0, NULL, &g) == 0) {
		snprintf(m->interp, sizeof(m->interp), "%s", g.gl_pathv[0]);
		globfree(&g);
	}
	n = readlink("/proc/self/exe", m->self, sizeof(m->self) - 1);
	m->self[n > 0 ? n : 0] = '\0';
}

static bool exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

/*
 * Whether the comment block right above `line` (comment lines with nothing between them and
 * it), or the line's own comment, says ADAPT; if so, sentence gets the comment's ADAPT sentence.
 */
static bool adapt_marked(const struct check *c, int line, char *sentence, size_t len)
{
	char block[2048] = "";
	const char *s = c->buf, *end = c->buf + c->len, *a, *stop;
	size_t bl = 0;
	int n = 0;

	while (s < end) {
		const char *nl = memchr(s, '\n', end - s);
		size_t ll = nl ? (size_t)(nl - s) : (size_t)(end - s);
		const char *t = s, *hash;

		n++;
		while (t < s + ll && (*t == ' ' || *t == '\t'))
			t++;
		if (n == line) {
			/* The line's own comment: a '#' starting a word. */
			for (hash = t; hash < s + ll; hash++)
				if (*hash == '#' && (hash[-1] == ' ' || hash[-1] == '\t'))
					break;
			if (hash < s + ll)
				bl += snprintf(block + bl, sizeof(block) - bl, "%.*s ",
					       (int)(s + ll - hash - 1), hash + 1);
			break;
		}
		if (t < s + ll && *t == '#') {
			if (bl < sizeof(block))
				bl += snprintf(block + bl, sizeof(block) - bl, "%.*s ",
					       (int)(s + ll - t - 1), t + 1);
		} else {
			bl = 0; /* a blank or directive line ends the block */
			block[0] = '\0';
		}
		if (bl >= sizeof(block))
			bl = sizeof(block) - 1;
		s += ll + 1;
	}
	a = strstr(block, "ADAPT");
	if (!a)
		return false;
	/* To the end of the sentence: a period before a blank ("libssl.so.3" is no end). */
	for (stop = a; *stop && !(stop[0] == '.' && (stop[1] == ' ' || !stop[1])); stop++)
		;
	/* Without the word itself: the caller prints "ADAPT: " before it. */
	a += 5;
	a += strspn(a, ": ");
	snprintf(sentence, len, "%.*s", (int)(stop > a ? stop - a : 0), a);
	/* Blanks collapsed: the sentence spanned comment lines. */
	for (char *r = sentence, *w = sentence;; r++) {
		if (*r == ' ' && (w == sentence || w[-1] == ' '))
			continue;
		*w++ = *r;
		if (!*r)
			break;
	}
	for (size_t l = strlen(sentence); l && sentence[l - 1] == ' ';)
		sentence[--l] = '\0';
	return true;
}

/* The component of path that is a multiarch triplet ("aarch64-linux-gnu"), or NULL. */
static const char *triplet_in(const char *path, size_t *len)
{
	const char *c = path;

	while ((c = strchr(c, '/'))) {
		size_t n = strcspn(c + 1, "/");

		if (c[1 + n] == '/' && memmem(c + 1, n, "-linux-", 7)) {
			*len = n;
			return c + 1;
		}
		c++;
	}
	return NULL;
}

static bool is_loader(const char *path)
{
	const char *b = base_name(path);

	return strncmp(b, "ld-linux", 8) == 0 || strncmp(b, "ld64.so", 7) == 0 ||
	       (strncmp(b, "ld-", 3) == 0 && strstr(b, ".so"));
}

/*
 * What an ADAPT-marked path line should name on this machine, worked out from the machine;
 * false when nothing here tells (the caller then quotes the comment).
 */
static bool adapt_path(const struct machine *m, const char *path, char *out, size_t len)
{
	static const char dmi[] = "/sys/class/dmi/id/product_name";
	static const char dt[] = "/sys/firmware/devicetree/base/model";
	char alt[PATH_MAX];
	const char *t;
	size_t tl;

	if ((strcmp(path, dt) == 0 || strcmp(path, "/proc/device-tree/model") == 0) &&
	    exists(dmi)) {
		snprintf(out, len, "on a machine with DMI, %s", dmi);
		return true;
	}
	if (strcmp(path, dmi) == 0 && exists(dt)) {
		snprintf(out, len, "on a machine with a device tree, %s", dt);
		return true;
	}
	/* The agent reads no model file when stsd.conf names the model (agent/agent.c). */
	if ((strcmp(path, dmi) == 0 || strcmp(path, dt) == 0) && !exists(dmi) && !exists(dt)) {
		snprintf(out, len,
			 "this machine has neither %s nor %s: remove the line and set 'model' in "
			 "stsd.conf",
			 dmi, dt);
		return true;
	}
	if (is_loader(path) && m->interp[0] && strcmp(path, m->interp) != 0) {
		snprintf(out, len,
			 "this machine's dynamic loader is %s (the PT_INTERP of its programs)",
			 m->interp);
		return true;
	}
	t = triplet_in(path, &tl);
	if (t && m->triplet[0] && (tl != strlen(m->triplet) || strncmp(t, m->triplet, tl))) {
		snprintf(alt, sizeof(alt), "%.*s%s%s", (int)(t - path), path, m->triplet, t + tl);
		if (exists(alt))
			snprintf(out, len, "on this machine (%s), %s", m->triplet, alt);
		else
			snprintf(out, len,
				 "this machine's multiarch directory is %s, but %s does not exist "
				 "either (ldconfig -p lists the libraries)",
				 m->triplet, alt);
		return true;
	}
	if (strcmp(base_name(path), "sts-agent") == 0 && m->self[0]) {
		char dir[PATH_MAX], cand[PATH_MAX + 64];

		snprintf(dir, sizeof(dir), "%s", m->self);
		*strrchr(dir, '/') = '\0';
		/* PREFIX/bin/stsd goes with PREFIX/libexec/stsguard/sts-agent; a build dir has
		 * both. */
		snprintf(cand, sizeof(cand), "%s/../libexec/stsguard/sts-agent", dir);
		if (!exists(cand))
			snprintf(cand, sizeof(cand), "%s/sts-agent", dir);
		if (exists(cand)) {
			char *real = realpath(cand, NULL);

			snprintf(out, len, "the sts-agent installed with this stsd is %s",
				 real ? real : cand);
			free(real);
			return true;
		}
	}
	return false;
}

/* Why a path that is not there may be missing, for problems that are no typo. */
static bool hint_for(const struct sts_policy_problem *pb, char *out, size_t len)
{
	const char *v = pb->value;

	if (pb->err == -EACCES && geteuid() != 0) {
		snprintf(out, len,
			 "checked as uid %u; stsd runs as root: run the check as root to see what "
			 "stsd sees",
			 (unsigned int)geteuid());
		return true;
	}
	if (pb->err != -ENOENT || !v)
		return false;
	if (strstr(v, "/libexec/stsguard/")) {
		snprintf(out, len,
			 "not installed yet: `make install` installs sts-agent under "
			 "PREFIX/libexec/stsguard");
		return true;
	}
	if (strncmp(v, "/etc/stsguard/", 14) == 0) {
		snprintf(out, len, "not installed yet: %s",
			 strstr(base_name(v), ".pem")
				 ? "the collector's CA certificate, from the collector's operator"
				 : "stsguard's configuration, written by the operator");
		return true;
	}
	return false;
}

static char *dup_or_null(struct check *c, const char *s)
{
	char *d;

	if (!s || !s[0])
		return NULL;
	d = strdup(s);
	if (!d)
		c->nomem = true;
	return d;
}

static void add_item(struct check *c, const struct sts_policy_problem *pb, const char *adapt,
		     const char *hint)
{
	struct item *it;

	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		struct item *n = realloc(c->items, cap * sizeof(*n));

		if (!n) {
			c->nomem = true;
			return;
		}
		c->items = n;
		c->cap = cap;
	}
	it = &c->items[c->n];
	*it = (struct item){ .severity = pb->severity, .line = pb->line, .seq = c->n };
	c->n++;
	it->directive = dup_or_null(c, pb->directive);
	it->value = dup_or_null(c, pb->value);
	it->message = dup_or_null(c, pb->message);
	it->reason = dup_or_null(c, pb->reason);
	it->adapt = dup_or_null(c, adapt);
	it->hint = dup_or_null(c, hint);
}

static void on_problem(const struct sts_policy_problem *pb, void *arg)
{
	struct check *c = arg;
	char adapt[PATH_MAX + 256] = "", hint[256] = "", sentence[1024];
	bool is_path = pb->value && pb->value[0] == '/';

	if (pb->line > 0 && pb->directive &&
	    adapt_marked(c, pb->line, sentence, sizeof(sentence))) {
		if (!is_path || !adapt_path(&c->m, pb->value, adapt, sizeof(adapt)))
			snprintf(adapt, sizeof(adapt), "as its comment says: %s",
				 sentence[0] ? sentence : "(see the comment above the line)");
	}
	if (pb->severity == STS_POLICY_PROBLEM)
		hint_for(pb, hint, sizeof(hint));
	add_item(c, pb, adapt, hint);
}

/* 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24 (RFC 5737) and 2001:db8::/32 (RFC 3849). */
static const char *documentation_range(const struct sts_endpoint *ep)
{
	const uint8_t *a = ep->addr;

	if (ep->family == AF_INET && ((a[0] == 192 && a[1] == 0 && a[2] == 2) ||
				      (a[0] == 198 && a[1] == 51 && a[2] == 100) ||
				      (a[0] == 203 && a[1] == 0 && a[2] == 113)))
		return "RFC 5737";
	if (ep->family == AF_INET6 && a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x0d && a[3] == 0xb8)
		return "RFC 3849";
	return NULL;
}

/* Accepted collectors on documentation addresses: the policy loads, and the agent reaches nobody.
 */
static void note_collectors(struct check *c, const struct sts_policy *pol)
{
	char ep[64], msg[PATH_MAX + 256], reason[160], sentence[1024], adapt[1200] = "";
	struct sts_policy_problem pb;
	const char *rfc;
	size_t i;

	for (i = 0; i < pol->n_collectors; i++) {
		const struct sts_endpoint *e = &pol->collectors[i];

		rfc = documentation_range(e);
		if (!rfc)
			continue;
		sts_endpoint_str(e, ep, sizeof(ep));
		snprintf(reason, sizeof(reason),
			 "a documentation address (%s) that routes nowhere: the agent would reach "
			 "no collector",
			 rfc);
		snprintf(msg, sizeof(msg), "%s:%d: collector %s: %s", c->file, e->line, ep, reason);
		adapt[0] = '\0';
		if (adapt_marked(c, e->line, sentence, sizeof(sentence)))
			snprintf(adapt, sizeof(adapt), "the address of your collector");
		pb = (struct sts_policy_problem){ .severity = STS_POLICY_NOTE,
						  .line = e->line,
						  .directive = "collector",
						  .value = ep,
						  .message = msg,
						  .reason = reason };
		add_item(c, &pb, adapt, NULL);
	}
}

/* Line order; the whole-file ones (line 0) last, as a reader meets them after the lines. */
static int item_cmp(const void *a, const void *b)
{
	const struct item *x = a, *y = b;
	unsigned int lx = (unsigned int)x->line - 1, ly = (unsigned int)y->line - 1;

	if (lx != ly)
		return lx < ly ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void print_text(const struct check *c, const char *hex, size_t n_problems)
{
	size_t i, pre;

	for (i = 0; i < c->n; i++) {
		const struct item *it = &c->items[i];

		if (!it->message)
			continue;
		if (it->severity == STS_POLICY_NOTE) {
			/* "FILE:LINE: note: ...": the prefix is the message's up to the reason. */
			pre = strlen(c->file) + 2;
			if (it->line > 0)
				pre += snprintf(NULL, 0, "%d", it->line) + 1;
			printf("%.*snote: %s\n", (int)pre, it->message, it->message + pre);
		} else {
			printf("%s\n", it->message);
		}
		if (it->adapt)
			printf("    ADAPT: %s\n", it->adapt);
		if (it->hint)
			printf("    hint: %s\n", it->hint);
	}
	if (hex)
		printf("sha256: %s (stsd records it as policy_sha256)\n", hex);
	if (n_problems)
		printf("%s: %zu problem%s: stsd would refuse this policy\n", c->file, n_problems,
		       n_problems == 1 ? "" : "s");
	else
		printf("%s: ok: stsd would load this policy\n", c->file);
}

static json_t *item_json(const struct item *it)
{
	return json_pack("{s:i, s:s?, s:s?, s:s?, s:s?, s:s?}", "line", it->line, "directive",
			 it->directive, "value", it->value, "problem", it->reason, "adapt",
			 it->adapt, "hint", it->hint);
}

static int print_json(const struct check *c, const char *hex, size_t n_problems)
{
	json_t *root, *problems = json_array(), *notes = json_array();
	char *s = NULL;
	size_t i;
	int err = -ENOMEM;

	root = json_pack("{s:s, s:s?, s:b, s:o, s:o}", "file", c->file, "sha256", hex, "ok",
			 n_problems == 0, "problems", problems, "notes", notes);
	if (!root)
		goto cleanup;
	for (i = 0; i < c->n; i++) {
		json_t *o = item_json(&c->items[i]);

		if (!o || json_array_append_new(
				  c->items[i].severity == STS_POLICY_NOTE ? notes : problems, o))
			goto cleanup;
	}
	s = json_dumps(root, JSON_COMPACT);
	if (!s)
		goto cleanup;
	printf("%s\n", s);
	err = 0;
cleanup:
	free(s);
	json_decref(root);
	return err;
}

static int check(const char *file, bool json)
{
	struct check c = { .file = file };
	struct sts_policy pol;
	char hex[2 * STS_SHA256_LEN + 1], *buf = NULL;
	size_t len = 0, i, n_problems = 0;
	int err, ret = STS_EXIT_USAGE;

	memset(&pol, 0, sizeof(pol));
	err = sts_read_file(file, STS_POLICY_MAX_SIZE, &buf, &len);
	if (err == -EFBIG) {
		/* A problem of the policy, not of reading it: stsd would refuse it. */
		struct sts_policy_problem pb = { .severity = STS_POLICY_PROBLEM };
		char msg[PATH_MAX + 128], reason[96];

		snprintf(reason, sizeof(reason), "larger than the limit of %d bytes",
			 STS_POLICY_MAX_SIZE);
		snprintf(msg, sizeof(msg), "%s: %s", file, reason);
		pb.message = msg;
		pb.reason = reason;
		add_item(&c, &pb, NULL, NULL);
		n_problems = 1;
		goto report;
	}
	if (err) {
		sts_err("policy check: %s: %s", file, sts_file_strerror(err));
		goto cleanup;
	}
	c.buf = buf;
	c.len = len;
	machine_init(&c.m);
	err = sts_policy_check(file, buf, len, &pol, on_problem, &c);
	if (err < 0) {
		sts_err("policy check: %s: %s", file, strerror(-err));
		goto cleanup;
	}
	n_problems = (size_t)err;
	note_collectors(&c, &pol);
report:
	if (c.nomem) {
		sts_err("policy check: %s: %s", file, strerror(ENOMEM));
		goto cleanup;
	}
	qsort(c.items, c.n, sizeof(*c.items), item_cmp);
	if (buf)
		sts_hex(pol.sha256, sizeof(pol.sha256), hex);
	if (json)
		err = print_json(&c, buf ? hex : NULL, n_problems);
	else
		print_text(&c, buf ? hex : NULL, n_problems);
	if (json && err) {
		sts_err("policy check: json: %s", strerror(-err));
		goto cleanup;
	}
	ret = n_problems ? STS_EXIT_FAIL : STS_EXIT_OK;
cleanup:
	for (i = 0; i < c.n; i++) {
		free(c.items[i].directive);
		free(c.items[i].value);
		free(c.items[i].message);
		free(c.items[i].reason);
		free(c.items[i].adapt);
		free(c.items[i].hint);
	}
	free(c.items);
	sts_policy_free(&pol);
	free(buf);
	return ret;
}

static int cmd_policy_check(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	bool json = false;
	int c;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'h':
			return cli_help(help, exits, ARRAY_SIZE(exits));
		default:
			return cli_usage_hint();
		}
	}
	if (!cli_operands(argc - optind, argv + optind, "FILE"))
		return STS_EXIT_USAGE;
	return check(argv[optind], json);
}

/* stsd policy SUBCOMMAND: one today, check; `stsd policy --help` documents it. */
int cmd_policy(int argc, char **argv)
{
	static char name[] = "stsd policy check";

	if (argc < 2)
		return cli_usage_error("no sub-command given (stsd policy check [--json] FILE)");
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0)
		return cli_help(help, exits, ARRAY_SIZE(exits));
	if (strcmp(argv[1], "check") != 0)
		return cli_usage_error("unknown sub-command '%s' (the one there is: check)",
				       argv[1]);
	/* getopt names argv[0] in its messages. */
	argv[1] = name;
	return cmd_policy_check(argc - 1, argv + 1);
}
