// SPDX-License-Identifier: GPL-2.0-only
/*
 * stsctl report --html: the page a compliance reader gets, on the committed fixtures and on a
 * log written by an intruder. The attacker holds the device and so the evidence log's writer
 * (and its key): every string field is theirs, and they want the auditor's browser to run
 * their script, or the page to show something the log does not say. The page must show every
 * such string as text. Then a real browser (Debian's chromium, headless) reads the page: the
 * DOM has the sections and values, no element the log smuggled in, and it prints on A4.
 */
#include "test.h"
#include "core/crypto.h"
#include "core/util.h"
#include "evidence/evlog.h"

#include <dirent.h>
#include <jansson.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define FIXTURES "tests/fixtures/evidence"
#define KEYS "--log-key " FIXTURES "/log.pub --seal-key " FIXTURES "/seal.key"
#define TX_SHA256 "07ad15dd1631938c5a07af363a99eb7d7c8a52a6cef1b74f49a27b9bf3f1b1d2"

static char out[1 << 16];

static bool has(const char *page, const char *want, const char *name)
{
	return TEST__CHECK(page && strstr(page, want), name, "\"%s\" not found", want);
}

static bool lacks(const char *page, const char *bad, const char *name)
{
	return TEST__CHECK(page && !strcasestr(page, bad), name, "\"%s\" found", bad);
}

/* stsctl report LOG ARGS --html FILE; the page read back (NULL if none), exit status in *rc. */
static char *report(const char *log, const char *args, const char *file, int *rc)
{
	char *buf = NULL;
	size_t len;

	*rc = test__run(out, sizeof(out), "%s/stsctl report %s %s --html %s", test__out_dir(), log,
			args, file);
	if (sts_read_file(file, 4 << 20, &buf, &len))
		return NULL;
	return buf;
}

/*
 * Every '<' in the page opens one of the tags the writer itself emits: nothing from the log
 * became markup.
 */
static bool only_own_tags(const char *page, const char *name)
{
	static const char *const own[] = {
		"!DOCTYPE", "html",  "head",  "meta", "title",	 "style",    "body", "header",
		"nav",	    "ol",    "li",    "a",    "h1",	 "h2",	     "h3",   "p",
		"table",    "thead", "tbody", "tr",   "th",	 "td",	     "div",  "span",
		"code",	    "b",     "br",    "pre",  "section", "colgroup", "col"
	};
	const char *p;
	char tag[32];
	size_t i, n;

	for (p = strchr(page, '<'); p; p = strchr(p + 1, '<')) {
		n = strspn(p + 1 + (p[1] == '/'),
			   "!ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			   "0123456789");
		snprintf(tag, sizeof(tag), "%.*s", (int)(n < sizeof(tag) ? n : sizeof(tag) - 1),
			 p + 1 + (p[1] == '/'));
		for (i = 0; i < ARRAY_SIZE(own); i++)
			if (strcmp(tag, own[i]) == 0)
				break;
		if (i == ARRAY_SIZE(own))
			return TEST__CHECK(false, name, "foreign markup at byte %zu: %.40s",
					   (size_t)(p - page), p);
	}
	return TEST__CHECK(true, name, "%s", "");
}

void test_report_html_fixtures(void)
{
	char file[512];
	char *page;
	int rc;

	snprintf(file, sizeof(file), "%s/good.html", test__tmpdir());
	page = report(FIXTURES "/good.log", KEYS, file, &rc);
	ASSERT_EQ(rc, 0, "good.log: exit 0");
	if (!ASSERT_OK_PTR(page, "good.log: page written"))
		return;
	ASSERT_TRUE(strncmp(page, "<!DOCTYPE html>", 15) == 0, "an HTML5 document");
	has(page, "<section id=\"verification\">", "section: verification");
	has(page, "<section id=\"enforcement\">", "section: enforcement");
	has(page, "<section id=\"egress\">", "section: what left the device");
	has(page, "<section id=\"blocked\">", "section: what was blocked");
	has(page, "<section id=\"timeline\">", "section: timeline");
	has(page, "<section id=\"reverify\">", "section: how to verify");
	has(page, "VERIFIED: the log is intact", "verdict");
	has(page, "<code>1313e410</code>", "the log key's id");
	has(page, "stsguard.test/evidence", "who signed: the origin");
	has(page, "verified</span> for epochs 1 to 8", "seals verified, with their epochs");
	has(page, "<b>G1</b>", "guarantee G1");
	has(page, "<b>G8</b>", "guarantee G8");
	has(page,
	    "<code>uprobe/SSL_write</code> <span class=\"badge off\">off</span> <span "
	    "class=\"why\">libssl not found</span>",
	    "a hook that is off, with its reason");
	has(page, TX_SHA256, "what was sent: its SHA-256");
	has(page, "<span class=\"bytes\">61</span> bytes", "what was sent: its size");
	has(page, "imei: <code>***********0006</code>", "the claims, IMEI masked as logged");
	lacks(page, "353876100000006", "never the IMEI in clear");
	has(page, "claim &quot;imsi&quot; not in the approved schema", "why a payload was blocked");
	has(page, "File (G2)", "blocked, by kind");
	has(page, "/home/user/contacts.db", "blocked: the first example");
	has(page, "Recovered after a crash: 33 bytes", "timeline: the crash recovery");
	has(page,
	    "stsctl verify tests/fixtures/evidence/good.log --log-key "
	    "tests/fixtures/evidence/log.pub --seal-key tests/fixtures/evidence/seal.key",
	    "the exact re-verify command");
	has(page, "@media print", "print style");
	has(page, "break-before:page", "one section a page");
	has(page, "@page{size:A4", "A4");
	has(page, "Content-Security-Policy\" content=\"default-src 'none'", "no script, no fetch");
	lacks(page, "<script", "no script");
	lacks(page, "src=", "no external asset");
	lacks(page, "http://", "no link out (http)");
	lacks(page, "https://", "no link out (https)");
	only_own_tags(page, "good.log: only the writer's markup");
	free(page);

	page = report(FIXTURES "/edited.log", "--log-key " FIXTURES "/log.pub", file, &rc);
	ASSERT_EQ(rc, 1, "edited.log: exit 1, report written");
	if (ASSERT_OK_PTR(page, "edited.log: page written")) {
		has(page, "NOT VERIFIED", "edited.log: the verdict");
		has(page, "line 16: record altered", "edited.log: the first bad line and why");
		has(page, "only the records before that line", "edited.log: what the page covers");
		lacks(page, "VERIFIED: the log is intact", "edited.log: never called intact");
		free(page);
	}

	/* The seal key given as the secret string itself never lands on the page. */
	rc = test__run(out, sizeof(out),
		       "%s/stsctl report " FIXTURES "/good.log --seal-key \"$(cat " FIXTURES
		       "/seal.key)\" --html %s",
		       test__out_dir(), file);
	page = NULL;
	if (ASSERT_EQ(rc, 0, "seal key given inline") &&
	    ASSERT_OK(sts_read_file(file, 4 << 20, &page, &(size_t){ 0 }), "read the page")) {
		char *vk = NULL;
		size_t vklen;

		if (ASSERT_OK(sts_read_file(FIXTURES "/seal.key", 4096, &vk, &vklen), "seal.key"))
			ASSERT_TRUE(!strstr(page, strtok(vk, "\n")),
				    "the secret seal key is not on the page");
		free(vk);
		has(page, "--seal-key SEAL-KEY", "a placeholder in its place");
		has(page, "key the log names itself", "says the key came from the log");
	}
	free(page);
}

/* The intruder's log: hostile strings in every field a page shows. */
static int hostile_log(const char *path, struct sts_key *key)
{
	struct evlog_opts o = { .path = path, .log_key = key, .checkpoint_every = 3 };
	struct evlog *log = NULL;
	json_t *f[8];
	size_t i;
	int err = evlog_open(&o, &log);

	if (err)
		return err;
	f[0] = json_pack("{ss si ss}", "version", "0.1.0<b>", "pid", 1, "mode", "enforce");
	f[1] = json_pack("{ss ss ss s[{ss ss ss}] s[{ss ss}] s[{ss ss s[s]}] s{si ss ss ss}}",
			 "kernel", "6.1<marquee>", "mode", "enforce", "policy_sha256",
			 "<h1>fake</h1>", "hooks", "hook", "lsm/file_open<script>alert(7)</script>",
			 "mode", "observe\"><img src=x onerror=alert(3)>", "reason",
			 "' onmouseover='alert(4)", "programs", "name", "<svg onload=alert(5)>",
			 "tag", "&amp;", "guarantees", "guarantee",
			 "files (G2)<script>alert(8)</script>", "mode", "enforce", "mechanisms",
			 "Landlock<img src=x onerror=alert(9)>", "containment", "landlock_abi", 7,
			 "seccomp_refusals", "<b>refused</b>", "landlock_refusals_recorded_by",
			 "landlock+<i>audit</i>", "audit", "on</td><script>alert(10)</script>");
	f[2] = json_pack("{si ss ss ss ss ss ss ss}", "pid", 7, "comm", "<script>alert(1)</script>",
			 "path", "\"><img src=x onerror=alert(2)>", "access", "read", "hook",
			 "lsm/file_open", "action", "denied", "rule",
			 "</td><script>alert(6)</script>", "explain", "a & b < c");
	f[3] = json_pack("{si ss ss si ss ss}", "pid", 7, "comm", "evil\xe2\x80\xaegpj.exe", "addr",
			 "1.2.3.4<iframe src=//evil.example>", "port", 53, "proto", "udp", "action",
			 "denied");
	f[4] = json_pack("{ss s{ss ss} si ss}", "activation_id", "aid<x>", "claims", "imei",
			 "***********0006", "<i>key</i>", "v\x1bw", "bytes", 10, "sha256",
			 "<b>bold</b>");
	f[5] = json_pack("{ss ss s[s] si ss si ss}", "activation_id", "aid<x>", "endpoint",
			 "<a href=\"https://evil.example\">x</a>", "claims", "<u>imei</u>", "bytes",
			 10, "sha256", "<b>bold</b>", "attempt", 1, "status", "sent<u>");
	f[6] = json_pack("{si ss si ss ss ss}", "pid", 7, "comm", "x", "bytes", 1, "sha256", "s",
			 "reason", "claim \"<script>\" not allowed", "action", "killed");
	f[7] = json_pack("{ss}", "x", "<style>body{display:none}</style>");
	static const char *const types[] = { "start",	     "enforcement",	"file_deny",
					     "net_deny",     "report_approved", "transmission",
					     "payload_deny", "mystery" };
	for (i = 0; i < ARRAY_SIZE(types); i++) {
		if (!err)
			err = f[i] ? evlog_append(log, types[i], f[i], NULL) : -ENOMEM;
		json_decref(f[i]);
	}
	if (!err)
		err = evlog_close(log);
	else
		evlog_close(log);
	return err;
}

/* Write the intruder's log, signed by its own key, and its page at path; the page, or NULL. */
static char *hostile_page(char *path, size_t pathsz, int *rc)
{
	char log[512], kpath[512], kpub[520], args[600];
	struct sts_key key = { 0 };
	char *page = NULL;

	snprintf(log, sizeof(log), "%s/hostile.log", test__tmpdir());
	snprintf(kpath, sizeof(kpath), "%s/log.key", test__tmpdir());
	snprintf(kpub, sizeof(kpub), "%s.pub", kpath);
	snprintf(args, sizeof(args), "--log-key %s", kpub);
	snprintf(path, pathsz, "%s/hostile.html", test__tmpdir());
	*rc = -1;
	if (ASSERT_OK(sts_key_generate(kpath, kpub, &key), "the intruder's log key") &&
	    ASSERT_OK(hostile_log(log, &key), "the intruder writes the log"))
		page = report(log, args, path, rc);
	sts_key_free(&key);
	return page;
}

void test_report_html_hostile(void)
{
	char path[512], *page;
	int rc;

	page = hostile_page(path, sizeof(path), &rc);
	ASSERT_EQ(rc, 0, "the log verifies: it is signed by its own writer");
	if (!ASSERT_OK_PTR(page, "page written"))
		return;
	only_own_tags(page, "no markup from the log");
	lacks(page, "<script", "no script element");
	lacks(page, "<img", "no img element");
	lacks(page, "<iframe", "no iframe element");
	lacks(page, "<svg", "no svg element");
	has(page, "&lt;script&gt;alert(1)&lt;/script&gt;", "a comm with <script> shows as text");
	has(page, "&quot;&gt;&lt;img src=x onerror=alert(2)&gt;",
	    "a path breaking out of an attribute shows as text");
	has(page, "&#39; onmouseover=&#39;alert(4)", "single quotes escaped");
	has(page, "observe&quot;&gt;&lt;img src=x onerror=alert(3)&gt;", "a hostile hook mode");
	has(page, "&lt;/td&gt;&lt;script&gt;alert(6)&lt;/script&gt;", "a hostile rule");
	has(page, "a &amp; b &lt; c", "ampersands escaped");
	has(page, "<h3>Mechanism per guarantee</h3>", "the mechanism table");
	has(page, "files (G2)&lt;script&gt;alert(8)&lt;/script&gt;", "a hostile guarantee");
	has(page, "Landlock&lt;img src=x onerror=alert(9)&gt;", "a hostile mechanism");
	has(page, "landlock+&lt;i&gt;audit&lt;/i&gt;", "a hostile recorder");
	has(page, "on&lt;/td&gt;&lt;script&gt;alert(10)&lt;/script&gt;", "a hostile audit state");
	has(page, "&amp;amp;", "an entity in the log is not decoded");
	has(page, "evil[U+202E]gpj.exe", "a right-to-left override shown, not obeyed");
	has(page, "v[U+001B]w", "a control character shown");
	has(page, "&lt;i&gt;key&lt;/i&gt;: <code>v[U+001B]w</code>", "a hostile claim name");
	has(page, "&lt;a href=&quot;https://evil.example&quot;&gt;x&lt;/a&gt;",
	    "a hostile endpoint");
	has(page, "&lt;style&gt;", "an unknown record type's field stays text");
	ASSERT_EQ(strstr(strstr(page, "<style>") + 1, "<style") == NULL, 1,
		  "one style element: the writer's");
	free(page);
}

static int count_tmp_files(const char *dir)
{
	struct dirent *e;
	DIR *d = opendir(dir);
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		n += strstr(e->d_name, ".tmp.") != NULL;
	closedir(d);
	return n;
}

void test_report_html_atomic(void)
{
	char file[512], dir[512], *buf = NULL;
	size_t len;
	int rc;

	snprintf(file, sizeof(file), "%s/report.html", test__tmpdir());
	if (!ASSERT_OK(sts_write_file_atomic(file, "old\n", 4, 0644), "an older report"))
		return;
	rc = test__run(out, sizeof(out), "%s/stsctl report /nonexistent.log --html %s",
		       test__out_dir(), file);
	ASSERT_EQ(rc, 2, "missing log: exit 2");
	ASSERT_OK(sts_read_file(file, 64, &buf, &len), "read");
	ASSERT_TRUE(buf && strcmp(buf, "old\n") == 0, "the older report is left as it was");
	free(buf);
	buf = NULL;

	/* The page cannot be renamed into place (a directory is there): no half file left. */
	snprintf(dir, sizeof(dir), "%s/taken", test__tmpdir());
	mkdir(dir, 0755);
	rc = test__run(out, sizeof(out), "%s/stsctl report " FIXTURES "/good.log --html %s",
		       test__out_dir(), dir);
	ASSERT_EQ(rc, 2, "cannot write: exit 2");
	has(out, "stsctl: write ", "the error names what failed");
	has(out, "/taken: ", "and the file");
	ASSERT_EQ(count_tmp_files(test__tmpdir()), 0, "no temporary file left behind");
	rc = test__run(out, sizeof(out), "%s/stsctl report " FIXTURES "/good.log --html %s/no/x",
		       test__out_dir(), test__tmpdir());
	ASSERT_EQ(rc, 2, "missing directory: exit 2");

	rc = test__run(out, sizeof(out), "%s/stsctl report " FIXTURES "/good.log --html %s",
		       test__out_dir(), file);
	ASSERT_EQ(rc, 0, "written");
	ASSERT_EQ(out[0], '\0', "nothing on stdout without --json");
	ASSERT_OK(sts_read_file(file, 4 << 20, &buf, &len), "read");
	ASSERT_TRUE(buf && strstr(buf, "</body></html>\n") == buf + len - 15,
		    "replaced by the whole page");
	ASSERT_EQ(count_tmp_files(test__tmpdir()), 0, "no temporary file left behind");
	free(buf);
	rc = test__run(out, sizeof(out), "%s/stsctl report " FIXTURES "/good.log --json --html %s",
		       test__out_dir(), file);
	ASSERT_TRUE(rc == 0 && strstr(out, "\"blocked_groups\""), "--json and --html together");
	rc = test__run(out, sizeof(out), "%s/stsctl report " FIXTURES "/good.log --html ''",
		       test__out_dir());
	ASSERT_EQ(rc, 2, "empty file name: usage error");
	rc = test__run(out, sizeof(out), "%s/stsctl report --help", test__out_dir());
	ASSERT_TRUE(rc == 0 && strstr(out, "--html OUT") && strstr(out, "exit status:"),
		    "report --help documents --html");
}

/* Chromium, headless: a run that could not start at all is a skip, with chromium's words. */
static int chromium(const char *args, const char *page, char *why, size_t whysz)
{
	char err[512], *buf = NULL;
	size_t len;
	int rc;

	snprintf(err, sizeof(err), "%s/chromium.err", test__tmpdir());
	rc = test__run(NULL, 0,
		       "(timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic "
		       "--no-first-run --disable-background-networking --disable-component-update "
		       "--disable-sync --user-data-dir=%s/chromium %s file://%s > %s/chromium.out "
		       "2> %s)",
		       test__tmpdir(), args, page, test__tmpdir(), err);
	if (rc && !sts_read_file(err, 1 << 20, &buf, &len)) {
		/* The last line is what went wrong; the rest is D-Bus noise of a machine without.
		 */
		char *last = buf + len;

		while (last > buf && (last[-1] == '\n'))
			*--last = '\0';
		while (last > buf && last[-1] != '\n')
			last--;
		snprintf(why, whysz, "exit %d: %.300s", rc, last);
	} else if (rc) {
		snprintf(why, whysz, "exit %d", rc);
	}
	free(buf);
	return rc;
}

static char *dom(const char *page, char *why, size_t whysz)
{
	char path[512], *buf = NULL;
	size_t len;

	if (chromium("--dump-dom", page, why, whysz))
		return NULL;
	snprintf(path, sizeof(path), "%s/chromium.out", test__tmpdir());
	if (sts_read_file(path, 8 << 20, &buf, &len) || !strstr(buf, "<html")) {
		snprintf(why, whysz, "chromium printed no DOM");
		free(buf);
		return NULL;
	}
	return buf;
}

void test_report_html_browser(void)
{
	char why[512] = "", png[512], pdf[512], args[600], good_page[512], bad_page[512];
	char *d = NULL, *buf = NULL;
	struct stat st;
	size_t len;
	int rc, pages = 0;

	if (test__run(NULL, 0, "command -v chromium") != 0) {
		test__skip("chromium is not installed (scripts/deps.sh installs it)");
		return;
	}
	snprintf(good_page, sizeof(good_page), "%s/good.html", test__tmpdir());
	rc = test__run(out, sizeof(out),
		       "%s/stsctl report " FIXTURES "/good.log " KEYS " --html %s", test__out_dir(),
		       good_page);
	if (!ASSERT_EQ(rc, 0, "report written"))
		return;
	d = dom(good_page, why, sizeof(why));
	if (!d) {
		test__skip("chromium cannot run here: %s", why);
		return;
	}
	/* What the browser made of the page: text where the page has text. */
	has(d, "VERIFIED: the log is intact", "DOM: the verdict");
	has(d, "<code>1313e410</code>", "DOM: the key id");
	has(d, "<span class=\"bytes\">61</span> bytes", "DOM: a transmission's size");
	has(d, TX_SHA256, "DOM: a transmission's SHA-256");
	has(d, "claim \"imsi\" not in the approved schema", "DOM: why a payload was blocked");
	has(d, "<section id=\"timeline\">", "DOM: the timeline");
	has(d, "<section id=\"reverify\">", "DOM: how to verify");
	lacks(d, "<script", "DOM: no script");
	free(d);

	free(hostile_page(bad_page, sizeof(bad_page), &rc));
	d = dom(bad_page, why, sizeof(why));
	if (ASSERT_OK_PTR(d, "DOM of the intruder's page")) {
		lacks(d, "<script", "DOM: the log's <script> is no element");
		lacks(d, "<img", "DOM: the log's <img onerror> is no element");
		lacks(d, "<iframe", "DOM: no iframe");
		lacks(d, "<svg", "DOM: no svg");
		has(d, "&lt;script&gt;alert(1)&lt;/script&gt;", "DOM: the comm is text");
		has(d, "\"&gt;&lt;img src=x onerror=alert(2)&gt;", "DOM: the path is text");
		free(d);
	}

	/* For people to look at: build/report-html.png, and the page printed. */
	snprintf(png, sizeof(png), "%s/report-html.png", test__out_dir());
	snprintf(pdf, sizeof(pdf), "%s/report-html.pdf", test__out_dir());
	unlink(png);
	unlink(pdf);
	snprintf(args, sizeof(args), "--screenshot=%s --window-size=1240,1754", png);
	ASSERT_EQ(chromium(args, good_page, why, sizeof(why)), 0, "screenshot");
	ASSERT_TRUE(stat(png, &st) == 0 && st.st_size > 10000, "build/report-html.png written");
	snprintf(args, sizeof(args), "--no-pdf-header-footer --print-to-pdf=%s", pdf);
	ASSERT_EQ(chromium(args, good_page, why, sizeof(why)), 0, "print to PDF");
	if (!ASSERT_OK(sts_read_file(pdf, 32 << 20, &buf, &len), "build/report-html.pdf written"))
		return;
	ASSERT_TRUE(len > 1000 && strncmp(buf, "%PDF-", 5) == 0, "a PDF");
	free(buf);
	if (test__run(NULL, 0, "command -v pdfinfo") == 0) {
		rc = test__run(out, sizeof(out), "pdfinfo %s", pdf);
		if (ASSERT_EQ(rc, 0, "pdfinfo reads it") && strstr(out, "Pages:"))
			pages = atoi(strstr(out, "Pages:") + 6);
		/* The header page and six sections, each starting a page. */
		ASSERT_GE(pages, 7, "printed: one section a page");
		has(out, "(A4)", "on A4");
	}
}
