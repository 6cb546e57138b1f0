// SPDX-License-Identifier: GPL-2.0-only
/*
 * stsctl report --html: the report for a compliance reader who is not an engineer, as one HTML
 * page that needs nothing else: no script, no network, no external asset, CSS inline; it
 * prints on A4 with one section a page.
 *
 * The log is evidence written on a device that an intruder may control, so every string that
 * comes from it (a comm, a path, a reason, even a hook name or a JSON key) is hostile: all of
 * it goes through esc(), which escapes the five HTML metacharacters and shows control and
 * bidirectional-override characters as visible code points (a right-to-left override in a
 * comm could otherwise make "gpj.exe" read as "exe.jpg"). The page also forbids scripts and
 * every fetch with a Content-Security-Policy, so that an escaping mistake would still not run
 * anything. Long values are cut, saying how much was left out.
 *
 * The page is built in memory and written with sts_write_file_atomic(): the file is either
 * the old one or the whole new one, never half a page.
 */
#include "report.h"
#include "core/cli.h"
#include "core/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Longest value shown from the log; the rest is counted, not shown. */
#define VALUE_MAX 300

/* clang-format off */
static const char css[] =
	"body{font:10.5pt/1.45 'DejaVu Sans',Arial,sans-serif;color:#111;max-width:1100px;"
		"margin:24px auto;padding:0 24px}"
	"h1{font-size:20pt;margin:0 0 4px}"
	"h2{font-size:15pt;border-bottom:2px solid #333;padding-bottom:3px;margin:32px 0 8px}"
	"h3{font-size:11.5pt;margin:16px 0 6px}"
	"p{margin:6px 0}"
	"table{border-collapse:collapse;width:100%;margin:6px 0 12px;font-size:9.5pt}"
	"th,td{border:1px solid #bbb;padding:4px 6px;text-align:left;vertical-align:top}"
	"th{background:#eee}"
	"table.kv th{width:26%}"
	"table.g{table-layout:fixed}"
	"td.n{text-align:right;white-space:nowrap}"
	"code,.mono{font-family:'DejaVu Sans Mono',monospace;font-size:8.5pt;word-break:break-all}"
	"td.time{white-space:nowrap;font-size:8.5pt}"
	".verdict{border:3px solid;padding:10px 14px;margin:12px 0}"
	".verdict.ok{border-color:#1b5e20;background:#e8f5e9}"
	".verdict.bad{border-color:#b71c1c;background:#ffebee}"
	".verdict .big{font-size:16pt;font-weight:bold}"
	".badge{display:inline-block;padding:0 5px;margin:1px 2px 1px 0;border:1px solid;"
		"border-radius:3px;font-size:8pt;font-weight:bold;white-space:nowrap}"
	".enforce{color:#1b5e20}.observe{color:#8a5a00}.off{color:#b71c1c}"
	".note{color:#555;font-size:9pt}"
	".why{font-style:italic;color:#333}"
	"pre{background:#f4f4f4;border:1px solid #ccc;padding:8px;white-space:pre-wrap;"
		"word-break:break-all;font-size:9pt}"
	"nav ol{margin:4px 0;columns:2}"
	"@page{size:A4;margin:14mm 12mm}"
	"@media print{"
		"body{max-width:none;margin:0;padding:0;font-size:9.5pt}"
		"nav{display:none}"
		"section{break-before:page;page-break-before:always}"
		"h2{margin-top:0}"
		"thead{display:table-header-group}"
		"tr,.verdict,pre{break-inside:avoid;page-break-inside:avoid}"
		"h2,h3{break-after:avoid;page-break-after:avoid}"
		"*{-webkit-print-color-adjust:exact;print-color-adjust:exact}"
	"}";

/* What each guarantee promises (docs: DESIGN.md, "Guarantees"), in a reader's words. */
static const char *const guarantee[] = {
	[1] = "Destinations: only the collector's endpoints can be reached",
	[2] = "Nothing else learned: only allow-listed files, no other device identifier",
	[3] = "Exec: only allow-listed programs can run",
	[4] = "Payload: every plaintext written into TLS is checked against the approved "
	      "report before it leaves",
	[5] = "Volume: nothing leaves beyond the approved report and what TLS needs",
	[6] = "Schedule and consent: sent once, at first activation; the country only with "
	      "the user's consent",
	[7] = "Evidence: what is enforced is recorded, and the enforcement cannot be removed",
	[8] = "Fail closed: without enforcement the agent does not run, unless observe mode "
	      "was chosen",
};

/* Which guarantee a hook serves, by its name, for records that do not say it themselves. */
static const struct {
	const char *part;
	int g;
} hook_map[] = {
	{ "raw_tp/sys_enter", 0 },	/* process and mount system calls, observed: no one G */
	{ "sys_enter_socket", 1 },
	{ "connect", 1 },		/* cgroup/connect4, lsm/unix_stream_connect, device ... */
	{ "sendmsg", 1 },
	{ "sock_create", 1 },
	{ "socket_", 1 },
	{ "unix_", 1 },
	{ "file_open", 2 },
	{ "sys_enter_open", 2 },
	{ "inode_", 2 },
	{ "mount", 2 },
	{ "bprm", 3 },
	{ "process_exec", 3 },
	{ "SSL_write", 4 },
	{ "ptrace", 4 },
	{ "task_alloc", 4 },
	{ "cgroup_skb", 5 },
	{ "sockops", 5 },
	{ "task_kill", 7 },
	{ "lsm/bpf", 7 },
};

/* Blocked kinds in a reader's words, with the guarantee that blocked them. */
static const struct {
	const char *kind, *name, *what;
} kinds[] = {
	{ "net_deny", "Network destination (G1)",
	  "a connection or datagram to a destination the policy does not allow" },
	{ "file_deny", "File (G2)", "a file the policy does not allow the agent to open" },
	{ "exec_deny", "Program (G3)", "a program the policy does not allow the agent to run" },
	{ "payload_deny", "Payload (G4)",
	  "data written into TLS that was not the approved report; it never left" },
	{ "volume_drop", "Volume (G5)", "bytes over the egress allowance, dropped" },
	{ "clone_deny", "New process (G4)",
	  "a fork, clone or thread: a second task could rewrite a checked buffer" },
	{ "ptrace_deny", "Process memory (G4)",
	  "reading or writing another process's memory" },
	{ "signal_deny", "Signal (G9)", "a signal to a process outside the policed group" },
	{ "mount_deny", "Mount (G2)", "a mount, which could give a forbidden file a new path" },
	{ "bpf_deny", "bpf() (G7)", "a bpf() call, which could read or detach the enforcement" },
	{ "syscall_deny", "System call (G1, G2, G7)",
	  "a system call or request the seccomp filter refuses (identifiers without a file, "
	  "terminals, keyrings, namespaces, kernel interfaces), or a TCP bind" },
	{ "syscall_observed", "System call (observed)",
	  "a system call the missing kernel hooks would have judged" },
};
/* clang-format on */

static const char *gs(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

static long long gi(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);

	return json_is_integer(v) ? (long long)json_integer_value(v) : 0;
}

/* Bidirectional controls: U+200E, U+200F, U+202A..U+202E, U+2066..U+2069 (3 bytes each). */
static bool bidi(const unsigned char *p)
{
	if (p[0] != 0xe2)
		return false;
	return (p[1] == 0x80 && (p[2] == 0x8e || p[2] == 0x8f || (p[2] >= 0xaa && p[2] <= 0xae))) ||
	       (p[1] == 0x81 && p[2] >= 0xa6 && p[2] <= 0xa9);
}

/*
 * Write s as HTML text (also safe inside a quoted attribute), at most max bytes of it, cut at a
 * character boundary. Jansson has already checked that strings from the log are UTF-8.
 */
static void esc_n(FILE *f, const char *s, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = strlen(s), i;

	for (i = 0; i < len; i++) {
		if (i >= max && (p[i] & 0xc0) != 0x80) {
			fprintf(f, "&hellip; [%zu more bytes]", len - i);
			return;
		}
		switch (p[i]) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		case '\'':
			fputs("&#39;", f);
			break;
		case '\n':
		case '\t':
			fputc(p[i], f);
			break;
		default:
			if (p[i] < 0x20 || p[i] == 0x7f) {
				fprintf(f, "[U+%04X]", p[i]);
			} else if (i + 2 < len && bidi(p + i)) {
				fprintf(f, "[U+%04X]",
					0x2000 | ((p[i + 1] & 0x3f) << 6) | (p[i + 2] & 0x3f));
				i += 2;
			} else {
				fputc(p[i], f);
			}
		}
	}
}

static void esc(FILE *f, const char *s)
{
	esc_n(f, s ? s : "", VALUE_MAX);
}

/* Any JSON value from the log as text. */
static void val(FILE *f, json_t *v)
{
	char *s;

	if (json_is_string(v)) {
		esc(f, json_string_value(v));
	} else if (json_is_integer(v)) {
		fprintf(f, "%lld", (long long)json_integer_value(v));
	} else if (json_is_real(v)) {
		fprintf(f, "%g", json_real_value(v));
	} else if (json_is_boolean(v)) {
		fputs(json_is_true(v) ? "yes" : "no", f);
	} else if (!v || json_is_null(v)) {
		fputs("&ndash;", f);
	} else {
		s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		esc(f, s ? s : "?");
		free(s);
	}
}

/* A field of the log as text, "–" when absent. */
static void fld(FILE *f, json_t *o, const char *k)
{
	val(f, json_object_get(o, k));
}

static void code(FILE *f, json_t *o, const char *k)
{
	fputs("<code>", f);
	fld(f, o, k);
	fputs("</code>", f);
}

/* A shell word for the re-verify command: quoted when it has anything but safe characters. */
static void shell_word(FILE *f, const char *s)
{
	static const char safe[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
				   "0123456789_./:-+=@";
	char *q, *w;

	if (*s && strspn(s, safe) == strlen(s)) {
		esc_n(f, s, SIZE_MAX);
		return;
	}
	q = malloc(4 * strlen(s) + 3);
	if (!q) {
		fputs("?", f);
		return;
	}
	w = q;
	*w++ = '\'';
	for (; *s; s++) {
		if (*s == '\'')
			w = stpcpy(w, "'\\''");
		else
			*w++ = *s;
	}
	*w++ = '\'';
	*w = '\0';
	esc_n(f, q, SIZE_MAX);
	free(q);
}

static int mode_rank(const char *m)
{
	return !m ? 0 : strcmp(m, "enforce") == 0 ? 2 : strcmp(m, "observe") == 0 ? 1 : 0;
}

static const char *mode_class(const char *m)
{
	static const char *const c[] = { "off", "observe", "enforce" };

	return c[mode_rank(m)];
}

static void badge(FILE *f, const char *mode)
{
	fprintf(f, "<span class=\"badge %s\">", mode_class(mode));
	esc(f, mode ? mode : "unknown");
	fputs("</span>", f);
}

static int hook_guarantee(json_t *h)
{
	const char *guards = gs(h, "guards"), *name = gs(h, "hook"), *p;
	size_t i;

	/* A record that says which guarantee a hook serves is believed first. */
	if (guards && (p = strstr(guards, "(G")) && p[2] >= '1' && p[2] <= '9')
		return p[2] - '0';
	for (i = 0; name && i < ARRAY_SIZE(hook_map); i++)
		if (strstr(name, hook_map[i].part))
			return hook_map[i].g;
	return 0;
}

/* The hooks serving guarantee g (0: the others), with their mode and any reason. */
/* Two hooks of guarantee g that are in the same state for the same reason. */
static bool same_state(json_t *a, json_t *b, int g)
{
	return hook_guarantee(b) == g &&
	       json_equal(json_object_get(a, "mode"), json_object_get(b, "mode")) &&
	       (json_equal(json_object_get(a, "reason"), json_object_get(b, "reason")) ||
		(!json_object_get(a, "reason") && !json_object_get(b, "reason")));
}

/*
 * The hooks serving guarantee g (0: the others) with their mode and any reason; hooks in the
 * same state for the same reason share one line, so that ten hooks refused for one cause read
 * as one fact.
 */
static int hooks_cell(FILE *f, json_t *hooks, int g, int *worst, int *enforcing, int *observing)
{
	json_t *h, *k;
	size_t i, j;
	int n = 0;

	*worst = 2;
	*enforcing = 0;
	*observing = 0;
	json_array_foreach(hooks, i, h)
	{
		if (hook_guarantee(h) != g)
			continue;
		n++;
		if (mode_rank(gs(h, "mode")) < *worst)
			*worst = mode_rank(gs(h, "mode"));
		*enforcing += mode_rank(gs(h, "mode")) == 2;
		*observing += mode_rank(gs(h, "mode")) == 1;
		for (j = 0; j < i; j++)
			if (same_state(h, json_array_get(hooks, j), g))
				break;
		if (j < i)
			continue; /* listed with the first of its kind */
		fputs("<div>", f);
		for (j = i; j < json_array_size(hooks); j++) {
			k = json_array_get(hooks, j);
			if (j > i && !same_state(h, k, g))
				continue;
			fputs(j > i ? ", <code>" : "<code>", f);
			fld(f, k, "hook");
			fputs("</code>", f);
		}
		fputs(" ", f);
		badge(f, gs(h, "mode"));
		if (gs(h, "reason")) {
			fputs(" <span class=\"why\">", f);
			fld(f, h, "reason");
			fputs("</span>", f);
		}
		fputs("</div>", f);
	}
	return n;
}

/* A guarantee is as strong as its weakest hook; say how many hooks do what. */
static void state_cell(FILE *f, int n, int worst, int enforcing, int observing)
{
	static const char *const cls[] = { "off", "observe", "enforce" };

	if (!n) {
		fputs("<td>&ndash;</td>", f);
		return;
	}
	fprintf(f, "<td><span class=\"badge %s\">%s</span>", cls[worst],
		enforcing == n ? "enforced"
		: enforcing    ? "partly enforced"
		: observing    ? "observed only"
			       : "off");
	if (enforcing && enforcing < n)
		fprintf(f, "<div class=\"note\">%d of %d hooks enforce</div>", enforcing, n);
	else if (!enforcing && observing && observing < n)
		fprintf(f, "<div class=\"note\">%d of %d hooks observe</div>", observing, n);
	fputs("</td>", f);
}

static void guarantees(FILE *f, json_t *r, json_t *e)
{
	json_t *hooks = json_object_get(e, "hooks"), *integ = json_object_get(r, "integrity");
	const char *mode = gs(e, "mode");
	int g, n, worst, enforcing, observing;

	fputs("<table class=\"g\"><colgroup><col style=\"width:27%\"><col><col "
	      "style=\"width:17%\"></colgroup><thead><tr><th>Guarantee</th><th>Mechanism (kernel "
	      "hooks as recorded)</th><th>State</th></tr></thead><tbody>",
	      f);
	for (g = 1; g <= 8; g++) {
		fprintf(f, "<tr><td><b>G%d</b> %s</td><td>", g, guarantee[g]);
		n = hooks_cell(f, hooks, g, &worst, &enforcing, &observing);
		if (g == 6) {
			fprintf(f,
				"<div>the monitor's schedule and the user's consent record "
				"(not a kernel hook): %zu schedule decision(s), %zu consent "
				"check(s) in this log</div></td><td><span class=\"badge "
				"enforce\">by the monitor</span></td></tr>",
				json_array_size(json_object_get(r, "schedule")),
				json_array_size(json_object_get(r, "consent")));
			continue;
		}
		if (g == 7) {
			fprintf(f, "<div>this evidence log: %lld checkpoint(s) signed by <code>",
				gi(integ, "checkpoints"));
			fld(f, integ, "signed_by");
			fputs("</code></div>", f);
		}
		if (g == 8) {
			fputs("<div>the monitor refuses to run the agent when enforcement cannot "
			      "be "
			      "established; mode chosen: ",
			      f);
			badge(f, mode);
			fputs("</div></td>", f);
			fprintf(f, "<td><span class=\"badge %s\">%s</span>%s</td></tr>",
				mode_class(mode),
				mode_rank(mode) == 2 ? "fail closed" : "observe mode",
				mode_rank(mode) == 2
					? ""
					: "<div class=\"note\">chosen by the operator: "
					  "what lacks a hook is recorded, not "
					  "stopped</div>");
			continue;
		}
		if (!n && g != 7)
			fputs("<span class=\"off\">no hook recorded for this guarantee</span>", f);
		fputs("</td>", f);
		if (!n && g != 7)
			fputs("<td><span class=\"badge off\">not recorded</span></td>", f);
		else if (!n)
			fputs("<td><span class=\"badge enforce\">recorded</span></td>", f);
		else
			state_cell(f, n, worst, enforcing, observing);
		fputs("</tr>", f);
	}
	fputs("<tr><td>Other hooks</td><td>", f);
	n = hooks_cell(f, hooks, 0, &worst, &enforcing, &observing);
	if (!n)
		fputs("&ndash;", f);
	fputs("</td>", f);
	state_cell(f, n, worst, enforcing, observing);
	fputs("</tr></tbody></table>", f);
}

/*
 * The mechanism per guarantee the monitor chose on that kernel (the start record's
 * "guarantees" and "containment", as the text and JSON reports show them): BPF LSM, Landlock,
 * seccomp, cgroup BPF, namespaces, and how Landlock's refusals reach this log.
 */
static void mechanisms(FILE *f, json_t *e)
{
	json_t *gl = json_object_get(e, "guarantees"), *c = json_object_get(e, "containment"), *g,
	       *m;
	size_t i, j;

	if (!json_array_size(gl) && !c)
		return;
	fputs("<h3>Mechanism per guarantee</h3><table class=\"g\"><colgroup><col "
	      "style=\"width:40%\"><col><col style=\"width:17%\"></colgroup><thead><tr><th>"
	      "Guarantee</th><th>Mechanisms</th><th>State</th></tr></thead><tbody>",
	      f);
	json_array_foreach(gl, i, g)
	{
		fputs("<tr><td>", f);
		fld(f, g, "guarantee");
		fputs("</td><td>", f);
		json_array_foreach(json_object_get(g, "mechanisms"), j, m)
		{
			if (j)
				fputs(", ", f);
			esc(f, json_string_value(m));
		}
		fputs("</td><td>", f);
		badge(f, gs(g, "mode"));
		fputs("</td></tr>", f);
	}
	if (c) {
		fputs("<tr><td>seccomp refusals</td><td colspan=\"2\">", f);
		fld(f, c, "seccomp_refusals");
		fprintf(f, "</td></tr><tr><td>Landlock</td><td colspan=\"2\">ABI %lld%s",
			gi(c, "landlock_abi"),
			json_is_true(json_object_get(c, "landlock_files"))
				? ", enforces files and exec"
				: "");
		if (json_object_get(c, "landlock_refusals_recorded_by")) {
			fputs("; refusals recorded by <code>", f);
			fld(f, c, "landlock_refusals_recorded_by");
			fputs("</code>", f);
		}
		if (json_object_get(c, "audit")) {
			fputs("; audit: ", f);
			fld(f, c, "audit");
		}
		fputs("</td></tr>", f);
	}
	fputs("</tbody></table>", f);
}

static void enforcement(FILE *f, json_t *r)
{
	json_t *all = json_object_get(r, "enforcement"), *e, *prev = NULL, *p;
	size_t i, j;

	fputs("<section id=\"enforcement\"><h2>2. What was enforced</h2>"
	      "<p>Each time the monitor started it recorded, before the policed program ran, "
	      "which kernel mechanism enforces each guarantee and whether it <b>enforces</b> "
	      "(stops), only <b>observes</b> (records) or is <b>off</b> (with the reason).</p>",
	      f);
	if (!json_array_size(all))
		fputs("<p class=\"off\"><b>No enforcement record: this log does not say what was "
		      "enforced.</b></p>",
		      f);
	json_array_foreach(all, i, e)
	{
		fputs("<h3>Start at ", f);
		fld(f, e, "time");
		fputs("</h3><table class=\"kv\"><tbody><tr><th>Kernel</th><td>", f);
		fld(f, e, "kernel");
		fputs("</td></tr><tr><th>Mode</th><td>", f);
		badge(f, gs(e, "mode"));
		fputs("</td></tr><tr><th>Policy SHA-256</th><td>", f);
		code(f, e, "policy_sha256");
		fputs("</td></tr><tr><th>Boot</th><td>", f);
		code(f, e, "boot");
		fputs("</td></tr></tbody></table>", f);
		/* Runs under the same enforcement: say so rather than repeat every hook. */
		if (prev &&
		    json_equal(json_object_get(prev, "hooks"), json_object_get(e, "hooks")) &&
		    json_equal(json_object_get(prev, "programs"), json_object_get(e, "programs")) &&
		    json_equal(json_object_get(prev, "mode"), json_object_get(e, "mode"))) {
			fputs("<p>Same hooks, modes and programs as the start above.</p>", f);
			continue;
		}
		prev = e;
		guarantees(f, r, e);
		mechanisms(f, e);
		if (json_array_size(json_object_get(e, "programs"))) {
			fputs("<table><thead><tr><th>BPF program</th><th>Tag (as <code>bpftool prog"
			      "</code> shows it)</th></tr></thead><tbody>",
			      f);
			json_array_foreach(json_object_get(e, "programs"), j, p)
			{
				fputs("<tr><td><code>", f);
				fld(f, p, "name");
				fputs("</code></td><td>", f);
				code(f, p, "tag");
				fputs("</td></tr>", f);
			}
			fputs("</tbody></table>", f);
		}
	}
	fputs("</section>", f);
}

static void verification(FILE *f, json_t *r)
{
	json_t *integ = json_object_get(r, "integrity"),
	       *ep = json_object_get(integ, "seal_epochs");
	bool ok = json_is_true(json_object_get(integ, "ok"));

	fputs("<section id=\"verification\"><h2>1. Is this log genuine?</h2>"
	      "<p>Every record is chained to the one before it by its SHA-256, and checkpoints "
	      "written into the log sign everything before them with the log's Ed25519 key (a "
	      "Merkle tree, RFC 9162). Optional forward-secure seals prove that an intruder who "
	      "took the device later could not rewrite what was sealed earlier.</p>"
	      "<table class=\"kv\"><tbody><tr><th>Result</th><td>",
	      f);
	if (ok) {
		fputs("<b class=\"enforce\">VERIFIED</b>", f);
	} else {
		fprintf(f, "<b class=\"off\">NOT VERIFIED</b>: line %lld: ", gi(integ, "bad_line"));
		fld(f, integ, "why");
		fputs(". <b>This report covers only the records before that line.</b>", f);
	}
	fprintf(f,
		"</td></tr><tr><th>Records checked</th><td>%lld</td></tr>"
		"<tr><th>Checkpoints</th><td>%lld</td></tr><tr><th>Signed by (origin)</th><td>",
		gi(integ, "records"), gi(integ, "checkpoints"));
	if (json_is_string(json_object_get(integ, "signed_by"))) {
		code(f, integ, "signed_by");
		if (json_is_string(json_object_get(integ, "origin")) &&
		    !json_equal(json_object_get(integ, "origin"),
				json_object_get(integ, "signed_by"))) {
			fputs(" (origin ", f);
			code(f, integ, "origin");
			fputs(")", f);
		}
	} else {
		fputs("<span class=\"off\">nobody: the log has no checkpoint</span>", f);
	}
	fputs("</td></tr><tr><th>Log key id</th><td>", f);
	code(f, integ, "key_id");
	fputs("</td></tr><tr><th>Key checked against</th><td>", f);
	if (json_is_true(json_object_get(integ, "key_from_log")))
		fputs("<span class=\"observe\">the key the log names itself</span>: this proves "
		      "the log is consistent, not who wrote it. Check it again with the log's "
		      "public key obtained from the device owner (section 6).",
		      f);
	else if (gi(integ, "checkpoints"))
		fputs("<span class=\"enforce\">the public key given by the auditor</span>", f);
	else
		fputs("&ndash;", f);
	fputs("</td></tr><tr><th>Forward-secure seals</th><td>", f);
	if (json_is_true(json_object_get(integ, "seals_verified")))
		fprintf(f, "<span class=\"enforce\">verified</span> for epochs %lld to %lld",
			gi(ep, "first"), gi(ep, "last"));
	else if (gi(integ, "seals"))
		fprintf(f,
			"<span class=\"observe\">%lld seal(s) present, not checked</span> (no "
			"seal key given)",
			gi(integ, "seals"));
	else
		fputs("<span class=\"observe\">not sealed</span>", f);
	fprintf(f,
		"</td></tr><tr><th>Not yet signed</th><td>%lld record(s) after the last "
		"checkpoint: chained, not yet signed</td></tr></tbody></table></section>",
		gi(integ, "unsigned_tail"));
}

/* "pid 415 (sts-agent)" */
static void who(FILE *f, json_t *ev)
{
	if (json_object_get(ev, "pid")) {
		fputs("pid ", f);
		fld(f, ev, "pid");
	}
	if (gs(ev, "comm")) {
		fputs(" (<code>", f);
		fld(f, ev, "comm");
		fputs("</code>)", f);
	}
}

static void endpoint(FILE *f, json_t *ev)
{
	fputs("<code>", f);
	fld(f, ev, "proto");
	fputs(" ", f);
	fld(f, ev, "addr");
	fputs(" port ", f);
	fld(f, ev, "port");
	fputs("</code>", f);
}

/* One blocked (or observed) attempt: who tried what. */
static void attempt(FILE *f, json_t *ev)
{
	const char *t = gs(ev, "type") ? gs(ev, "type") : "";

	who(f, ev);
	fputs(": ", f);
	if (strncmp(t, "net_", 4) == 0) {
		endpoint(f, ev);
	} else if (strncmp(t, "file_", 5) == 0) {
		fld(f, ev, "access");
		fputs(" <code>", f);
		fld(f, ev, "path");
		fputs("</code>", f);
	} else if (strncmp(t, "exec_", 5) == 0 || strcmp(t, "mount_deny") == 0) {
		fputs(t[0] == 'e' ? "run <code>" : "mount on <code>", f);
		fld(f, ev, "path");
		fputs("</code>", f);
	} else if (strcmp(t, "payload_deny") == 0) {
		fld(f, ev, "bytes");
		fputs(" bytes, SHA-256 ", f);
		code(f, ev, "sha256");
	} else if (strcmp(t, "volume_drop") == 0) {
		fld(f, ev, "bytes");
		fputs(" bytes over the allowance of ", f);
		fld(f, ev, "allowance");
	} else if (strcmp(t, "ptrace_deny") == 0 || strcmp(t, "signal_deny") == 0) {
		fputs("target pid ", f);
		fld(f, ev, "target_pid");
		fputs(" (<code>", f);
		fld(f, ev, "target_comm");
		fputs("</code>)", f);
		if (json_object_get(ev, "signal")) {
			fputs(", signal ", f);
			fld(f, ev, "signal");
		}
	} else if (strcmp(t, "bpf_deny") == 0) {
		fputs("bpf command ", f);
		fld(f, ev, "bpf_cmd");
	} else if (strcmp(t, "clone_deny") == 0) {
		fputs("clone flags ", f);
		fld(f, ev, "clone_flags");
	} else if (strncmp(t, "syscall_", 8) == 0) {
		fputs("<code>", f);
		fld(f, ev, "syscall");
		fputs(json_object_get(ev, "port") ? "</code>, port " : "</code>, first argument ",
		      f);
		fld(f, ev, json_object_get(ev, "port") ? "port" : "arg0");
	}
	if (json_object_get(ev, "hook")) {
		fputs(" <span class=\"note\">via ", f);
		fld(f, ev, "hook");
		fputs("</span>", f);
	}
	if (gs(ev, "reason")) {
		fputs(" &mdash; <span class=\"why\">", f);
		fld(f, ev, "reason");
		fputs("</span>", f);
	}
	if (gs(ev, "explain")) {
		fputs("<div class=\"why\">", f);
		fld(f, ev, "explain");
		fputs("</div>", f);
	}
}

static void claims(FILE *f, json_t *tx)
{
	json_t *appr = json_object_get(json_object_get(tx, "approved"), "claims"), *v;
	const char *k;
	size_t i;
	bool first = true;

	/* The approved record has the values (the IMEI masked by the monitor); else names. */
	if (json_is_object(appr)) {
		json_object_foreach(appr, k, v)
		{
			fputs(first ? "" : "<br>", f);
			first = false;
			esc(f, k);
			fputs(": <code>", f);
			val(f, v);
			fputs("</code>", f);
		}
		return;
	}
	json_array_foreach(json_object_get(tx, "claims"), i, v)
	{
		fputs(i ? ", " : "", f);
		val(f, v);
	}
	if (first && !json_array_size(json_object_get(tx, "claims")))
		fputs("&ndash;", f);
}

static void egress(FILE *f, json_t *r)
{
	json_t *txs = json_object_get(r, "transmissions"), *tx, *rc, *v;
	size_t i;

	fputs("<section id=\"egress\"><h2>3. What left the device</h2>"
	      "<p>Each report sent, with the claims it carried (the IMEI masked as the log "
	      "records it), the size and SHA-256 of the exact bytes sent, and the collector's "
	      "signed receipt.</p>",
	      f);
	if (!json_array_size(txs) && !json_array_size(json_object_get(r, "payloads_approved")))
		fputs("<p><b>Nothing was sent.</b></p>", f);
	/* One small table per report: a wide row would not fit an A4 page. */
	json_array_foreach(txs, i, tx)
	{
		fputs("<h3>Report ", f);
		if (json_object_get(tx, "status"))
			fld(f, tx, "status");
		else
			fputs("sent", f);
		fputs(" at ", f);
		fld(f, tx, "time");
		fputs("</h3><table class=\"kv tx\"><tbody><tr><th>To</th><td><code>", f);
		fld(f, tx, "endpoint");
		fputs("</code></td></tr><tr><th>Attempt</th><td>", f);
		fld(f, tx, "attempt");
		if (gs(tx, "error")) {
			fputs(" <span class=\"why\">", f);
			fld(f, tx, "error");
			fputs("</span>", f);
		}
		fputs("</td></tr><tr><th>Activation id</th><td><code>", f);
		fld(f, tx, "activation_id");
		fputs("</code></td></tr><tr><th>Claims sent</th><td>", f);
		claims(f, tx);
		fputs("</td></tr><tr><th>Size</th><td><span class=\"bytes\">", f);
		fld(f, tx, "bytes");
		fputs("</span> bytes</td></tr><tr><th>SHA-256 of the bytes sent</th><td>", f);
		code(f, tx, "sha256");
		fputs("</td></tr><tr><th>Collector's receipt</th><td>", f);
		rc = json_object_get(tx, "receipt");
		if (json_is_object(rc)) {
			fprintf(f, "<span class=\"badge %s\">",
				strcmp(gs(rc, "status") ? gs(rc, "status") : "", "verified") == 0
					? "enforce"
					: "off");
			fld(f, rc, "status");
			fputs("</span> at ", f);
			fld(f, rc, "time");
			fputs(", collector key <code>", f);
			fld(f, rc, "collector_key_id");
			fputs("</code>", f);
			if (gs(rc, "reason")) {
				fputs(" <span class=\"why\">", f);
				fld(f, rc, "reason");
				fputs("</span>", f);
			}
		} else {
			fputs("<span class=\"badge off\">none</span>", f);
		}
		fputs("</td></tr></tbody></table>", f);
	}
	if (json_array_size(json_object_get(r, "payloads_approved"))) {
		fputs("<h3>TLS plaintext let through by the payload check (G4)</h3><table><thead>"
		      "<tr><th>When</th><th>Writer</th><th>Bytes and SHA-256</th></tr></thead>"
		      "<tbody>",
		      f);
		json_array_foreach(json_object_get(r, "payloads_approved"), i, v)
		{
			fputs("<tr><td>", f);
			fld(f, v, "time");
			fputs("</td><td>", f);
			who(f, v);
			fputs("</td><td>", f);
			fld(f, v, "bytes");
			fputs(" bytes<br>", f);
			code(f, v, "sha256");
			fputs("</td></tr>", f);
		}
		fputs("</tbody></table>", f);
	}
	fprintf(f, "<h3>Identifiers and consent</h3><p>Identifiers the monitor gave the agent: %zu",
		json_array_size(json_object_get(r, "identifiers_released")));
	json_array_foreach(json_object_get(r, "identifiers_released"), i, v)
	{
		fputs(i ? "; " : ": ", f);
		fld(f, v, "identifier");
		fputs(" <code>", f);
		fld(f, v, "value");
		fputs("</code> at ", f);
		fld(f, v, "time");
	}
	fputs(".</p>", f);
	json_array_foreach(json_object_get(r, "consent"), i, v)
	{
		fputs("<p>Consent to send the ", f);
		fld(f, v, "claim");
		fputs(" at ", f);
		fld(f, v, "time");
		fputs(json_is_true(json_object_get(v, "consent")) ? ": <b>granted</b>"
								  : ": <b>not granted</b>",
		      f);
		fputs(" (recorded ", f);
		fld(f, v, "recorded");
		fputs(").</p>", f);
	}
	fputs("</section>", f);
}

static const char *kind_field(const char *kind, int which)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(kinds); i++)
		if (strcmp(kind, kinds[i].kind) == 0)
			return which ? kinds[i].what : kinds[i].name;
	return NULL;
}

static void groups(FILE *f, json_t *r, bool observed)
{
	json_t *g, *ex;
	size_t i, j;
	bool any = false;

	json_array_foreach(json_object_get(r, "blocked_groups"), i, g)
	{
		const char *kind = gs(g, "kind") ? gs(g, "kind") : "?";

		if (observed != (strcmp(gs(g, "action") ? gs(g, "action") : "", "observed") == 0))
			continue;
		if (!any)
			fputs("<table class=\"blocked\"><thead><tr><th style=\"width:24%\">What"
			      "</th><th style=\"width:14%\">Rule</th><th>Count</th><th>First "
			      "examples</th></tr></thead><tbody>",
			      f);
		any = true;
		fputs("<tr><td><b>", f);
		if (kind_field(kind, 0))
			fputs(kind_field(kind, 0), f);
		else
			esc(f, kind);
		fputs("</b><div class=\"note\">", f);
		if (kind_field(kind, 1))
			fputs(kind_field(kind, 1), f);
		fputs("</div></td><td><code>", f);
		if (gs(g, "rule") && *gs(g, "rule"))
			fld(f, g, "rule");
		else
			fputs("&ndash;", f);
		fputs("</code>", f);
		if (gs(g, "action") && *gs(g, "action")) {
			fputs("<div class=\"note\">", f);
			fld(f, g, "action");
			fputs("</div>", f);
		}
		fprintf(f, "</td><td class=\"n\">%lld</td><td>", gi(g, "count"));
		json_array_foreach(json_object_get(g, "examples"), j, ex)
		{
			fputs("<div class=\"example\">", f);
			fld(f, ex, "time");
			fputs(" &middot; ", f);
			attempt(f, ex);
			fputs("</div>", f);
		}
		if (gi(g, "count") > (long long)json_array_size(json_object_get(g, "examples")))
			fprintf(f, "<div class=\"note\">and %lld more</div>",
				gi(g, "count") -
					(long long)json_array_size(json_object_get(g, "examples")));
		fputs("</td></tr>", f);
	}
	if (any)
		fputs("</tbody></table>", f);
	else
		fputs(observed ? "<p>Nothing.</p>" : "<p><b>Nothing was blocked.</b></p>", f);
}

static void blocked(FILE *f, json_t *r)
{
	json_t *v;
	size_t i;

	fputs("<section id=\"blocked\"><h2>4. What was blocked</h2>"
	      "<p>Attempts the enforcement stopped, grouped by kind and by the policy rule that "
	      "decided, with the first examples.</p>",
	      f);
	groups(f, r, false);
	if (gi(json_object_get(r, "volume"), "bytes_dropped"))
		fprintf(f, "<p>Egress over the allowance: %lld bytes dropped in all.</p>",
			gi(json_object_get(r, "volume"), "bytes_dropped"));
	fputs("<h3>Seen but not stopped (observe mode)</h3>", f);
	groups(f, r, true);
	fputs("<h3>Files and endpoints the agent touched</h3>", f);
	if (!json_array_size(json_object_get(r, "files")) &&
	    !json_array_size(json_object_get(r, "endpoints")))
		fputs("<p>None recorded.</p>", f);
	else
		fputs("<table><thead><tr><th>Outcome</th><th>Access</th><th>File or endpoint</th>"
		      "<th>Count</th></tr></thead><tbody>",
		      f);
	json_array_foreach(json_object_get(r, "files"), i, v)
	{
		fputs("<tr><td>", f);
		fld(f, v, "action");
		fputs("</td><td>", f);
		fld(f, v, "access");
		fputs("</td><td>", f);
		code(f, v, "path");
		fprintf(f, "</td><td class=\"n\">%lld</td></tr>", gi(v, "count"));
	}
	json_array_foreach(json_object_get(r, "endpoints"), i, v)
	{
		fputs("<tr><td>", f);
		fld(f, v, "action");
		fputs("</td><td>connect</td><td>", f);
		code(f, v, "endpoint");
		fprintf(f, "</td><td class=\"n\">%lld</td></tr>", gi(v, "count"));
	}
	if (json_array_size(json_object_get(r, "files")) ||
	    json_array_size(json_object_get(r, "endpoints")))
		fputs("</tbody></table>", f);
	fputs("</section>", f);
}

/*
 * Timeline sentences of the record types that need no choice, as templates: the text is this
 * program's own HTML; {name} is the record's field "name" escaped, {`name} the same in <code>,
 * {!name} a mode badge. Whatever the log holds only ever enters through those escapes.
 */
static const struct {
	const char *type;
	const char *sentence;
} sentences[] = {
	{ "start", "Monitor started (version {version}, pid {pid}), mode {!mode}" },
	{ "enforcement", "Enforcement recorded: kernel {kernel}, mode {!mode} (section 2)" },
	{ "report_approved", "Report approved and signed by the monitor: {bytes} bytes, "
			     "SHA-256 {`sha256}" },
	{ "transmission", "Report {status} to {`endpoint}: {bytes} bytes, SHA-256 {`sha256}" },
	{ "receipt", "Collector's receipt: {status} (collector key {collector_key_id})" },
	{ "recovery", "Recovered after a crash: {dropped_bytes} bytes of an incomplete record "
		      "dropped" },
	{ "lost_events", "{count} event(s) lost ({source})" },
};

static void sentence(FILE *f, json_t *ev, const char *tpl)
{
	char name[64];
	const char *p, *end;
	size_t n, skip;

	for (p = tpl; *p; p = end + 1) {
		end = strchr(p, '{');
		if (!end) {
			fputs(p, f);
			return;
		}
		fwrite(p, 1, end - p, f);
		p = end + 1;
		end = strchr(p, '}');
		skip = *p == '`' || *p == '!';
		n = (size_t)(end - p) - skip;
		snprintf(name, sizeof(name), "%.*s", (int)n, p + skip);
		if (*p == '`')
			code(f, ev, name);
		else if (*p == '!')
			badge(f, gs(ev, name));
		else
			fld(f, ev, name);
	}
}

/* One timeline entry in words. */
static void event(FILE *f, json_t *ev)
{
	const char *t = gs(ev, "type") ? gs(ev, "type") : "";
	const char *kind = kind_field(t, 0);
	size_t i;

	for (i = 0; i < ARRAY_SIZE(sentences); i++)
		if (strcmp(t, sentences[i].type) == 0) {
			sentence(f, ev, sentences[i].sentence);
			return;
		}
	if (strcmp(t, "stop") == 0) {
		fputs("Monitor stopped: ", f);
		fld(f, ev, "reason");
		if (json_object_get(ev, "signal") || json_object_get(ev, "status")) {
			fputs(" ", f);
			fld(f, ev, json_object_get(ev, "signal") ? "signal" : "status");
		}
	} else if (strcmp(t, "schedule") == 0) {
		sentence(f, ev, "Schedule: <b>{decision}</b> &mdash; {reason}");
		if (json_object_get(ev, "next"))
			sentence(f, ev, " (next attempt {next})");
	} else if (strcmp(t, "identifier_released") == 0) {
		sentence(f, ev, "Identifier {identifier} {`value} given to the agent");
		/* stsd daemon does not write to_pid (the fixtures do): no "pid -" then. */
		if (json_object_get(ev, "to_pid"))
			sentence(f, ev, " (pid {to_pid})");
	} else if (strcmp(t, "consent_used") == 0) {
		sentence(f, ev, "Consent for the {claim}");
		fputs(json_is_true(json_object_get(ev, "consent")) ? ": granted" : ": not granted",
		      f);
	} else if (strcmp(t, "payload_allow") == 0) {
		fputs("TLS plaintext let through by the payload check: ", f);
		who(f, ev);
		sentence(f, ev, ", {bytes} bytes");
	} else if (kind) {
		fprintf(f, "<b>%s %s</b>: ",
			strcmp(gs(ev, "action") ? gs(ev, "action") : "", "observed") == 0
				? "Seen:"
				: "Blocked:",
			kind);
		attempt(f, ev);
	} else {
		/* A type this stsctl does not know: its fields as they are, for a human. */
		json_t *rest = json_copy(ev);

		fputs("<code>", f);
		esc(f, t);
		fputs("</code> record ", f);
		json_object_del(rest, "seq");
		json_object_del(rest, "time");
		json_object_del(rest, "boot");
		json_object_del(rest, "type");
		fputs("<code>", f);
		val(f, rest);
		fputs("</code>", f);
		json_decref(rest);
	}
}

static void timeline(FILE *f, json_t *r)
{
	json_t *boots = json_object_get(json_object_get(r, "period"), "boots"), *ev, *b;
	size_t i, j;

	fputs("<section id=\"timeline\"><h2>5. Timeline</h2><p>What happened, in the order the "
	      "log records it (UTC). Allowed file and network accesses are counted in section 4 "
	      "and each kind of blocked attempt appears here with its first examples only.</p>"
	      "<table><thead><tr><th>Time (UTC)</th><th>Record</th>"
	      "<th>Boot</th><th>Event</th></tr></thead><tbody>",
	      f);
	json_array_foreach(json_object_get(r, "timeline"), i, ev)
	{
		fputs("<tr><td class=\"time\">", f);
		fld(f, ev, "time");
		fprintf(f, "</td><td class=\"n\">%lld</td><td class=\"n\">", gi(ev, "seq"));
		json_array_foreach(boots, j,
				   b) if (json_equal(b, json_object_get(ev, "boot"))) break;
		fprintf(f, "%zu</td><td>", j + 1);
		event(f, ev);
		fputs("</td></tr>", f);
	}
	fputs("</tbody></table>", f);
	if (gi(r, "timeline_omitted"))
		fprintf(f,
			"<p class=\"note\">%lld later event(s) are not shown here; "
			"<code>stsctl report --json</code> and the log itself have all of "
			"them.</p>",
			gi(r, "timeline_omitted"));
	fputs("<p class=\"note\">Boots, by number:", f);
	json_array_foreach(boots, j, b)
	{
		fprintf(f, " %zu = <code>", j + 1);
		val(f, b);
		fputs("</code>", f);
	}
	fputs("</p></section>", f);
}

static void reverify(FILE *f, json_t *r, const struct report_html_opts *o)
{
	const char *log = gs(r, "log") ? gs(r, "log") : "LOG";
	bool literal_seal = o->seal_key && strncmp(o->seal_key, "sts-seal-v1:", 12) == 0;

	fputs("<section id=\"reverify\"><h2>6. How to verify this log yourself</h2>"
	      "<p>This page was made from the log by <code>stsctl</code>; anyone can check the "
	      "log again without trusting this page or the device.</p><ol><li>Check that you "
	      "hold the same file: <pre>sha256sum ",
	      f);
	shell_word(f, log);
	fputs("</pre>must print <code>", f);
	fld(f, r, "log_sha256");
	fprintf(f,
		"</code> (%lld bytes).</li><li>Obtain the log's public key independently of "
		"the log: from the device's <code>/var/lib/stsguard/log.key.pub</code>, or from "
		"its owner. Its checkpoints name the key <code>",
		gi(r, "log_bytes"));
	fld(f, json_object_get(r, "integrity"), "signed_by");
	fputs("</code>, key id <code>", f);
	fld(f, json_object_get(r, "integrity"), "key_id");
	fputs("</code>.</li><li>Run:<pre>stsctl verify ", f);
	shell_word(f, log);
	fputs(" --log-key ", f);
	shell_word(f, o->log_key ? o->log_key : "LOG-KEY.pub");
	if (o->seal_key) {
		fputs(" --seal-key ", f);
		shell_word(f, literal_seal ? "SEAL-KEY" : o->seal_key);
	}
	fputs("</pre>", f);
	if (!o->log_key)
		fputs("<p>(Replace <code>LOG-KEY.pub</code> by the key file: this report was made "
		      "without one, so it checked the signatures only against the key the log "
		      "names itself.)</p>",
		      f);
	if (literal_seal)
		fputs("<p>(<code>SEAL-KEY</code>: the auditor's seal key "
		      "<code>sts-seal-v1:&hellip;</code>. It was given on the command line and is "
		      "not repeated here: it is secret.)</p>",
		      f);
	else if (!o->seal_key)
		fputs("<p>If you hold the auditor's seal key (printed once by <code>stsctl "
		      "seal-init</code>), add <code>--seal-key FILE</code> to check the seals "
		      "too.</p>",
		      f);
	fputs("Exit status 0 and a line ending in <code>OK: &hellip;</code> mean the log "
	      "verifies; 1 names the first altered line.</li><li>This page again:"
	      "<pre>stsctl report ",
	      f);
	shell_word(f, log);
	fputs(" --html report.html", f);
	if (o->log_key) {
		fputs(" --log-key ", f);
		shell_word(f, o->log_key);
	}
	fputs("</pre></li></ol></section>", f);
}

static void header(FILE *f, json_t *r)
{
	json_t *integ = json_object_get(r, "integrity"), *period = json_object_get(r, "period");
	bool ok = json_is_true(json_object_get(integ, "ok"));
	char now[32];
	time_t t = time(NULL);
	struct tm tm;

	strftime(now, sizeof(now), "%Y-%m-%d %H:%M:%S UTC", gmtime_r(&t, &tm));
	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
	      "style-src 'unsafe-inline'\"><meta name=\"referrer\" content=\"no-referrer\">"
	      "<title>Evidence report: ",
	      f);
	fld(f, r, "log");
	fprintf(f,
		"</title><style>%s</style></head><body><header><h1>Evidence report</h1>"
		"<table class=\"kv\"><tbody><tr><th>Evidence log</th><td><code>",
		css);
	fld(f, r, "log");
	fprintf(f, "</code><div class=\"note\">%lld bytes, SHA-256 <code>", gi(r, "log_bytes"));
	fld(f, r, "log_sha256");
	fputs("</code></div></td></tr><tr><th>Period covered</th><td>", f);
	fld(f, period, "first");
	fputs(" to ", f);
	fld(f, period, "last");
	fprintf(f, " (UTC), %zu boot(s)</td></tr><tr><th>Made</th><td>%s by <code>",
		json_array_size(json_object_get(period, "boots")), now);
	esc(f, cli_version());
	fputs("</code></td></tr></tbody></table>", f);
	fprintf(f, "<div class=\"verdict %s\" id=\"verdict\"><span class=\"big\">%s</span><br>",
		ok ? "ok" : "bad", ok ? "VERIFIED: the log is intact" : "NOT VERIFIED");
	if (ok && !gi(integ, "checkpoints")) {
		/* A chain alone proves nothing about who wrote it. */
		fprintf(f,
			"%lld records, chained, but <b>no checkpoint signs them</b>: anyone "
			"could have written this log.",
			gi(integ, "records"));
	} else if (ok) {
		fprintf(f, "%lld records, %lld checkpoints, signed by <code>", gi(integ, "records"),
			gi(integ, "checkpoints"));
		fld(f, integ, "signed_by");
		fputs("</code> (key id <code>", f);
		fld(f, integ, "key_id");
		fputs("</code>)", f);
		if (json_is_true(json_object_get(integ, "key_from_log")))
			fputs(", <b>against the key the log names itself</b>", f);
		fputs(json_is_true(json_object_get(integ, "seals_verified"))
			      ? "; forward-secure seals verified."
			      : "; seals not checked.",
		      f);
	} else {
		fprintf(f, "Line %lld: ", gi(integ, "bad_line"));
		fld(f, integ, "why");
		fprintf(f, ". Everything below covers only the %lld records before that line.",
			gi(integ, "records"));
	}
	fprintf(f,
		"</div><p>Blocked attempts: <b>%zu kind(s)</b>; reports sent: <b>%zu</b>; "
		"events lost: <b>%lld</b>.</p>",
		json_object_size(json_object_get(r, "blocked")),
		json_array_size(json_object_get(r, "transmissions")), gi(r, "lost_events"));
	fputs("<nav><ol><li><a href=\"#verification\">Is this log genuine?</a></li>"
	      "<li><a href=\"#enforcement\">What was enforced</a></li>"
	      "<li><a href=\"#egress\">What left the device</a></li>"
	      "<li><a href=\"#blocked\">What was blocked</a></li>"
	      "<li><a href=\"#timeline\">Timeline</a></li>"
	      "<li><a href=\"#reverify\">How to verify this log yourself</a></li></ol></nav>"
	      "</header>",
	      f);
}

int report_html_write(json_t *r, const struct report_html_opts *o)
{
	char *page = NULL;
	size_t len = 0;
	FILE *f;
	int err;

	f = open_memstream(&page, &len);
	if (!f) {
		err = -errno;
		goto cleanup;
	}
	header(f, r);
	verification(f, r);
	enforcement(f, r);
	egress(f, r);
	blocked(f, r);
	timeline(f, r);
	reverify(f, r, o);
	fputs("</body></html>\n", f);
	err = ferror(f) ? -ENOMEM : 0;
	if (fclose(f) && !err)
		err = -ENOMEM;
	if (err)
		goto cleanup;
	err = sts_write_file_atomic(o->out, page, len, 0644);
cleanup:
	if (err)
		sts_err("write %s: %s", o->out, strerror(-err));
	free(page);
	return err;
}
