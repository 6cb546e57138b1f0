// SPDX-License-Identifier: GPL-2.0-only
/*
 * The man pages (man/PAGE.scd, built into build/man/PAGE) and the bash completion
 * (completion/stsguard.bash) against the binaries they describe. Nothing here lists an option
 * by hand: the commands come from `PROG --help` and the options from `PROG CMD --help`, so an
 * option added to a command without its line in the man page or its word in the completion
 * fails here.
 *
 * Options are the tokens --[a-z0-9-]+. Every token a help prints must appear in the program's
 * page; the options a command defines (its usage lines and the option column of its
 * "options:" section) must appear in that command's own subsection (.SS COMMAND) and be
 * offered by the completion after "PROG COMMAND -".
 */
#include "test.h"
#include "core/util.h"
#include "device/config.h"
#include "device/policy.h"

#include <ctype.h>
#include <stdlib.h>
#include <unistd.h>

#define BIG (256 * 1024)
#define MAX_TOKS 128

struct toks {
	char t[MAX_TOKS][48];
	int n;
};

static const struct {
	const char *prog, *page;
} programs[] = {
	{ "stsd", "stsd.8" },
	{ "stsctl", "stsctl.8" },
	{ "sts-collector", "sts-collector.8" },
};

static const char *const pages[] = { "stsd.8", "stsctl.8", "sts-collector.8", "stsd.conf.5",
				     "stsguard-policy.5" };

static bool opt_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

static void toks_add(struct toks *t, const char *s, size_t n)
{
	int i;

	if (n >= sizeof(t->t[0]))
		n = sizeof(t->t[0]) - 1;
	for (i = 0; i < t->n; i++)
		if (strlen(t->t[i]) == n && strncmp(t->t[i], s, n) == 0)
			return;
	if (t->n < MAX_TOKS) {
		memcpy(t->t[t->n], s, n);
		t->t[t->n++][n] = '\0';
	}
}

/* Every "--name" in s[0..len): "--" not inside a word, then [a-z0-9] and more of [a-z0-9-]. */
static void tokens(const char *s, size_t len, struct toks *t)
{
	size_t i, j;

	for (i = 0; i + 2 < len; i++) {
		if (s[i] != '-' || s[i + 1] != '-' || (i > 0 && opt_char(s[i - 1])))
			continue;
		if (!isalnum((unsigned char)s[i + 2]) || isupper((unsigned char)s[i + 2]))
			continue;
		for (j = i + 2; j < len && opt_char(s[j]); j++)
			;
		toks_add(t, s + i, j - i);
		i = j;
	}
}

/* Whether tok is in s as a whole token (not the prefix of a longer option). */
static bool has_token(const char *s, const char *tok)
{
	size_t n = strlen(tok);
	const char *p;

	for (p = strstr(s, tok); p; p = strstr(p + 1, tok))
		if ((p == s || !opt_char(p[-1])) && !opt_char(p[n]))
			return true;
	return false;
}

/*
 * The options a command defines: tokens of its usage lines (up to the first blank line) and of
 * the option column (up to two blanks) of each line starting with '-' in an "options:" section.
 */
static void own_options(const char *help, struct toks *t)
{
	const char *end = strstr(help, "\n\n"), *line, *eol, *p, *col;
	bool in_options = false;

	tokens(help, end ? (size_t)(end - help) : strlen(help), t);
	for (line = help; *line; line = *eol ? eol + 1 : eol) {
		eol = line + strcspn(line, "\n");
		if (eol == line) {
			in_options = false;
			continue;
		}
		if ((size_t)(eol - line) == strlen("options:") && !strncmp(line, "options:", 8)) {
			in_options = true;
			continue;
		}
		for (p = line; p < eol && *p == ' '; p++)
			;
		if (!in_options || p == eol || *p != '-')
			continue;
		col = strstr(p, "  ");
		if (!col || col > eol)
			col = eol;
		tokens(p, (size_t)(col - p), t);
	}
}

/* The commands a program's --help lists: the first word of each line under "commands:". */
static int commands_of(const char *help, char names[][32], int max)
{
	const char *p = strstr(help, "\ncommands:\n"), *eol;
	int n = 0;
	size_t len;

	if (!p)
		return 0;
	for (p += strlen("\ncommands:\n"); *p && *p != '\n' && n < max; p = eol + 1) {
		eol = p + strcspn(p, "\n");
		if (!*eol)
			break;
		/* "  name   summary"; a summary wrapped onto the next line is indented further. */
		if (p[0] != ' ' || p[1] != ' ' || p[2] == ' ')
			continue;
		len = strcspn(p + 2, " \n");
		if (len >= 32)
			continue;
		memcpy(names[n], p + 2, len);
		names[n++][len] = '\0';
	}
	return n;
}

/* "OUT/PROG [CMD] --help" into a new buffer (BIG bytes); NULL if it did not exit 0. */
static char *help_of(const char *prog, const char *cmd)
{
	char *out = malloc(BIG), name[128];
	int st;

	if (!out)
		return NULL;
	st = test__run(out, BIG, "%s/%s %s --help </dev/null", test__out_dir(), prog,
		       cmd ? cmd : "");
	snprintf(name, sizeof(name), "%s %s --help exits 0", prog, cmd ? cmd : "");
	if (!ASSERT_EQ(st, 0, name)) {
		free(out);
		return NULL;
	}
	return out;
}

/* The roff source of build/man/PAGE as plain text: font changes and \& dropped, \- made '-'. */
static char *page_text(const char *page)
{
	char path[4096], *raw = NULL, *txt = NULL, *o;
	const char *p;
	size_t len;

	snprintf(path, sizeof(path), "%s/man/%s", test__out_dir(), page);
	if (sts_read_file(path, BIG, &raw, &len)) {
		test__check_failed(__FILE__, __LINE__, path, "cannot read it: `make` builds it");
		return NULL;
	}
	txt = malloc(len + 1);
	if (!txt)
		goto cleanup;
	for (o = txt, p = raw; p < raw + len; p++) {
		if (p[0] == '\\' && p + 1 < raw + len) {
			if (p[1] == 'f' && p + 2 < raw + len) {
				p += p[2] == '[' ? strcspn(p, "]") : 2;
				continue;
			}
			if (p[1] == '&') {
				p++;
				continue;
			}
			if (p[1] == '-' || p[1] == 'e') {
				*o++ = p[1] == '-' ? '-' : '\\';
				p++;
				continue;
			}
		}
		*o++ = *p;
	}
	*o = '\0';
cleanup:
	free(raw);
	return txt;
}

/* The subsection ".SS CMD ..." of a page, up to the next .SS or .SH, copied into a new buffer. */
static char *section_of(const char *txt, const char *cmd)
{
	const char *p, *end;
	size_t n = strlen(cmd);
	char *s;

	for (p = strstr(txt, "\n.SS "); p; p = strstr(p + 1, "\n.SS "))
		if (!strncmp(p + 5, cmd, n) && (p[5 + n] == ' ' || p[5 + n] == '\n'))
			break;
	if (!p)
		return NULL;
	for (end = p + 1; (end = strstr(end, "\n.S")) && end[3] != 'S' && end[3] != 'H'; end++)
		;
	if (!end)
		end = p + strlen(p);
	s = strndup(p, (size_t)(end - p));
	return s;
}

/* Whether a line of the page starts with word followed by a blank or the line's end. */
static bool starts_a_line(const char *txt, const char *word)
{
	size_t n = strlen(word);
	const char *p;

	for (p = txt; p; p = strchr(p, '\n')) {
		if (*p == '\n')
			p++;
		if (!strncmp(p, word, n) && (p[n] == ' ' || p[n] == '\n' || p[n] == '\0'))
			return true;
	}
	return false;
}

/* Every page renders with groff, every warning on (-ww), without a word on stderr. */
void test_man_render(void)
{
	static const char *const sections[] = { "NAME",	 "SYNOPSIS", "DESCRIPTION",
						"FILES", "EXAMPLES", "SEE ALSO" };
	char *out = malloc(BIG), path[4096], name[256], want[128];
	size_t i, j;
	int st;

	if (!ASSERT_OK_PTR(out, "malloc"))
		return;
	if (test__run(NULL, 0, "command -v groff >/dev/null")) {
		test__skip("groff is not installed (Debian package groff-base, scripts/deps.sh)");
		goto cleanup;
	}
	for (i = 0; i < ARRAY_SIZE(pages); i++) {
		snprintf(path, sizeof(path), "%s/man/%s", test__out_dir(), pages[i]);
		if (!ASSERT_EQ(access(path, R_OK), 0, path))
			continue;
		st = test__run(out, BIG, "groff -mandoc -Tutf8 -ww -z %s", path);
		snprintf(name, sizeof(name), "%s: groff -ww renders it, exit 0", pages[i]);
		ASSERT_EQ(st, 0, name);
		snprintf(name, sizeof(name), "%s: no warning from groff -ww", pages[i]);
		ASSERT_STREQ(out, "", name);

		st = test__run(out, BIG, "groff -mandoc -Tutf8 -P-cbou %s 2>/dev/null", path);
		for (j = 0; j < ARRAY_SIZE(sections); j++) {
			snprintf(want, sizeof(want), "\n%s\n", sections[j]);
			snprintf(name, sizeof(name), "%s: section %s", pages[i], sections[j]);
			ASSERT_TRUE(strstr(out, want) != NULL, name);
		}
		if (strstr(pages[i], ".8")) {
			snprintf(name, sizeof(name), "%s: section EXIT STATUS", pages[i]);
			ASSERT_TRUE(strstr(out, "\nEXIT STATUS\n") != NULL, name);
		}
		/* NAME says "name - what", name being the page's. */
		snprintf(want, sizeof(want), "\nNAME\n       %.*s - ",
			 (int)(strrchr(pages[i], '.') - pages[i]), pages[i]);
		snprintf(name, sizeof(name), "%s: NAME names the page", pages[i]);
		ASSERT_TRUE(strstr(out, want) != NULL, name);
	}
cleanup:
	free(out);
}

static void check_tokens_in(const struct toks *t, const char *txt, const char *where,
			    const char *from)
{
	char name[256];
	int i;

	for (i = 0; i < t->n; i++) {
		snprintf(name, sizeof(name), "%s (from %s) is in %s", t->t[i], from, where);
		ASSERT_TRUE(has_token(txt, t->t[i]), name);
	}
}

/* Every option every --help prints is in the program's page, and its own in its subsection. */
void test_man_options(void)
{
	char cmds[32][32], from[128], where[128];
	char *help = NULL, *chelp = NULL, *txt = NULL, *sec;
	struct toks *t = malloc(sizeof(*t));
	size_t i;
	int n, c;

	if (!ASSERT_OK_PTR(t, "malloc"))
		return;
	for (i = 0; i < ARRAY_SIZE(programs); i++) {
		const char *prog = programs[i].prog;

		free(help);
		free(txt);
		help = help_of(prog, NULL);
		txt = page_text(programs[i].page);
		if (!help || !txt)
			continue;
		t->n = 0;
		tokens(help, strlen(help), t);
		snprintf(from, sizeof(from), "%s --help", prog);
		check_tokens_in(t, txt, programs[i].page, from);
		ASSERT_TRUE(has_token(txt, "--version"), "--version is in the page");

		n = commands_of(help, cmds, 32);
		snprintf(where, sizeof(where), "%s --help lists commands", prog);
		ASSERT_GE(n, 3, where);
		for (c = 0; c < n; c++) {
			if (!strcmp(cmds[c], "help") || !strcmp(cmds[c], "version"))
				continue;
			free(chelp);
			chelp = help_of(prog, cmds[c]);
			if (!chelp)
				continue;
			snprintf(from, sizeof(from), "%.80s %.31s --help", prog, cmds[c]);
			t->n = 0;
			tokens(chelp, strlen(chelp), t);
			check_tokens_in(t, txt, programs[i].page, from);

			sec = section_of(txt, cmds[c]);
			snprintf(where, sizeof(where), "%s has a subsection for %s",
				 programs[i].page, cmds[c]);
			if (!ASSERT_TRUE(sec, where))
				continue;
			t->n = 0;
			own_options(chelp, t);
			snprintf(where, sizeof(where), "%s, subsection %s", programs[i].page,
				 cmds[c]);
			check_tokens_in(t, sec, where, from);
			free(sec);
		}
	}
	free(chelp);
	free(help);
	free(txt);
	free(t);
}

/* Every directive the policy parser knows is defined in stsguard-policy(5). */
void test_man_policy_directives(void)
{
	static const char bad[] = "no-such-directive 1\n";
	struct sts_policy *pol = calloc(1, sizeof(*pol));
	char err[1024], name[256], *txt = page_text("stsguard-policy.5"), *known, *w;
	int n = 0;

	if (!ASSERT_OK_PTR(pol, "calloc") || !txt)
		goto cleanup;
	/* The parser's own list of what it knows, from its message on an unknown directive. */
	ASSERT_ERR(sts_policy_parse("p", bad, sizeof(bad) - 1, false, pol, err, sizeof(err)),
		   "an unknown directive is refused");
	known = strstr(err, "(known: ");
	if (!ASSERT_TRUE(known, "the message lists the known directives"))
		goto cleanup;
	known += strlen("(known: ");
	known[strcspn(known, ")")] = '\0';
	for (w = strtok(known, ", "); w; w = strtok(NULL, ", "), n++) {
		snprintf(name, sizeof(name), "directive %s is defined in stsguard-policy(5)", w);
		ASSERT_TRUE(starts_a_line(txt, w), name);
	}
	ASSERT_GE(n, 10, "the parser knows at least the ten directives of docs/policy.md");
	ASSERT_TRUE(strstr(txt, "/etc/stsguard/policy.conf") != NULL, "the default path");
cleanup:
	free(pol);
	free(txt);
}

/* Every key of lib/device/config.c's table is defined in stsd.conf(5). */
void test_man_config_keys(void)
{
	char *src = NULL, *txt = page_text("stsd.conf.5"), *p, key[64], name[256];
	size_t len, n;
	int keys = 0;

	if (!txt || !ASSERT_OK(sts_read_file("lib/device/config.c", BIG, &src, &len),
			       "read lib/device/config.c (tests run from the source tree)"))
		goto cleanup;
	/* Its table's rows: { "collector-host", K_STR, ... } */
	for (p = strstr(src, "{ \""); p; p = strstr(p + 1, "{ \"")) {
		n = strcspn(p + 3, "\"");
		if (n >= sizeof(key) || strncmp(p + 3 + n, "\", K_", 5))
			continue;
		snprintf(key, sizeof(key), "%.*s", (int)n, p + 3);
		snprintf(name, sizeof(name), "key %s is defined in stsd.conf(5)", key);
		ASSERT_TRUE(starts_a_line(txt, key), name);
		keys++;
	}
	ASSERT_GE(keys, 16, "the key table was found");
	ASSERT_TRUE(strstr(txt, STS_CONFIG_DEFAULT_PATH) != NULL, "the default path");
cleanup:
	free(src);
	free(txt);
}

/*
 * Complete "WORDS..." (the last one being completed) with completion/stsguard.bash, as bash
 * would: through the function `complete -p PROG` names. Written anew in each test's tmpdir.
 */
static int complete(char *out, size_t outsz, const char *words)
{
	char script[4096];
	FILE *f;

	snprintf(script, sizeof(script), "%s/complete.sh", test__tmpdir());
	f = fopen(script, "w");
	if (!f)
		return -1;
	fputs("source completion/stsguard.bash || exit 3\n"
	      "f=$(complete -p \"$1\" 2>/dev/null | sed -n 's/.*-F \\([^ ]*\\) .*/\\1/p')\n"
	      "[ -n \"$f\" ] || { echo \"no completion for $1\"; exit 4; }\n"
	      "COMP_WORDS=(\"$@\")\n"
	      "COMP_CWORD=$((${#COMP_WORDS[@]} - 1))\n"
	      "COMP_LINE=\"$*\"\n"
	      "COMP_POINT=${#COMP_LINE}\n"
	      "\"$f\" \"$1\" \"${COMP_WORDS[COMP_CWORD]}\" \"${COMP_WORDS[COMP_CWORD - 1]}\"\n"
	      "printf '%s\\n' \"${COMPREPLY[@]}\"\n",
	      f);
	fclose(f);
	return test__run(out, outsz, "bash %s %s", script, words);
}

/* Whether word is one of the lines of a completion's output. */
static bool offered(const char *out, const char *word)
{
	size_t n = strlen(word);
	const char *p;

	for (p = out; p; p = strchr(p, '\n')) {
		if (*p == '\n')
			p++;
		if (!strncmp(p, word, n) && (p[n] == '\n' || p[n] == '\0'))
			return true;
	}
	return false;
}

/* The completion offers every command, and every long option each command's --help defines. */
void test_completion_options(void)
{
	char cmds[32][32], words[2048], name[2048], *out = malloc(BIG), *help = NULL, *chelp = NULL;
	struct toks *t = malloc(sizeof(*t));
	size_t i;
	int n, c, k, st;

	if (!ASSERT_OK_PTR(out, "malloc") || !ASSERT_OK_PTR(t, "malloc"))
		goto cleanup;
	for (i = 0; i < ARRAY_SIZE(programs); i++) {
		const char *prog = programs[i].prog;

		free(help);
		help = help_of(prog, NULL);
		if (!help)
			continue;
		n = commands_of(help, cmds, 32);
		ASSERT_GE(n, 3, "--help lists commands");

		snprintf(words, sizeof(words), "%s ''", prog);
		st = complete(out, BIG, words);
		snprintf(name, sizeof(name), "complete '%s <TAB>' runs", prog);
		ASSERT_EQ(st, 0, name);
		for (c = 0; c < n; c++) {
			snprintf(name, sizeof(name), "'%s <TAB>' offers %s", prog, cmds[c]);
			ASSERT_TRUE(offered(out, cmds[c]), name);
		}
		snprintf(words, sizeof(words), "%s help ''", prog);
		complete(out, BIG, words);
		for (c = 0; c < n; c++) {
			snprintf(name, sizeof(name), "'%s help <TAB>' offers %s", prog, cmds[c]);
			ASSERT_TRUE(offered(out, cmds[c]), name);
		}
		snprintf(words, sizeof(words), "%s --", prog);
		complete(out, BIG, words);
		snprintf(name, sizeof(name), "'%s --<TAB>' offers --help and --version", prog);
		ASSERT_TRUE(offered(out, "--help") && offered(out, "--version"), name);

		for (c = 0; c < n; c++) {
			if (!strcmp(cmds[c], "help") || !strcmp(cmds[c], "version"))
				continue;
			free(chelp);
			chelp = help_of(prog, cmds[c]);
			if (!chelp)
				continue;
			t->n = 0;
			own_options(chelp, t);
			snprintf(words, sizeof(words), "%s %s -", prog, cmds[c]);
			complete(out, BIG, words);
			for (k = 0; k < t->n; k++) {
				snprintf(name, sizeof(name), "'%s %s -<TAB>' offers %s", prog,
					 cmds[c], t->t[k]);
				ASSERT_TRUE(offered(out, t->t[k]), name);
			}
			snprintf(name, sizeof(name), "'%s %s -<TAB>' offers --help", prog, cmds[c]);
			ASSERT_TRUE(offered(out, "--help"), name);
		}
	}
cleanup:
	free(chelp);
	free(help);
	free(out);
	free(t);
}

/* What an option or an operand takes: files, directories, users, the command of stsd run. */
void test_completion_arguments(void)
{
	char *out = malloc(BIG), words[8192];
	const char *dir = test__tmpdir();

	if (!ASSERT_OK_PTR(out, "malloc"))
		return;
	if (!ASSERT_EQ(test__run(NULL, 0, "mkdir -p %s/states && touch %s/policy.conf %s/ev.log",
				 dir, dir, dir),
		       0, "scratch files"))
		goto cleanup;

	snprintf(words, sizeof(words), "stsd run --policy %s/pol", dir);
	complete(out, BIG, words);
	ASSERT_TRUE(strstr(out, "/policy.conf\n") != NULL, "stsd run --policy: a file");

	snprintf(words, sizeof(words), "stsd run --policy = %s/pol", dir);
	complete(out, BIG, words);
	ASSERT_TRUE(strstr(out, "/policy.conf\n") != NULL, "stsd run --policy=: a file");

	snprintf(words, sizeof(words), "stsctl consent status --state-dir %s/", dir);
	complete(out, BIG, words);
	ASSERT_TRUE(strstr(out, "/states\n") != NULL, "--state-dir: the directory");
	ASSERT_TRUE(strstr(out, "policy.conf") == NULL, "--state-dir: no file");

	complete(out, BIG, "stsd run --user roo");
	ASSERT_TRUE(offered(out, "root"), "stsd run --user: a user");

	complete(out, BIG, "stsd run --observe -- bas");
	ASSERT_TRUE(offered(out, "bash"), "stsd run -- CMD: a command");

	snprintf(words, sizeof(words), "stsd run -- bash %s/ev", dir);
	complete(out, BIG, words);
	ASSERT_TRUE(strstr(out, "/ev.log\n") != NULL, "stsd run -- CMD ARG: a file");

	snprintf(words, sizeof(words), "stsctl verify %s/ev", dir);
	complete(out, BIG, words);
	ASSERT_TRUE(strstr(out, "/ev.log\n") != NULL, "stsctl verify LOG: a file");

	complete(out, BIG, "stsctl consent ''");
	ASSERT_TRUE(offered(out, "grant") && offered(out, "revoke") && offered(out, "status"),
		    "stsctl consent: its subcommands");

	complete(out, BIG, "stsctl consent grant ''");
	ASSERT_FALSE(offered(out, "grant"), "stsctl consent grant: no second subcommand");

	complete(out, BIG, "stsd policy ''");
	ASSERT_TRUE(offered(out, "check"), "stsd policy: check");

	complete(out, BIG, "stsctl seal-init --epoch ''");
	ASSERT_STREQ(out, "\n", "stsctl seal-init --epoch: a number, nothing offered");
cleanup:
	free(out);
}
