/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The HTML rendering of `stsctl report` (report_html.c), from the report's JSON document
 * (report.c builds it; its layout is in docs/evidence.md).
 */
#ifndef STSCTL_REPORT_H
#define STSCTL_REPORT_H

#include <jansson.h>

struct report_html_opts {
	const char *out; /* the file to write, replaced atomically */
	const char *log_key; /* --log-key as given, NULL if none: for the re-verify command */
	const char *seal_key; /* --seal-key as given (a file, or the secret key itself), or NULL */
};

/*
 * Render report r as one self-contained HTML page and write it to o->out atomically; on error
 * (printed, naming the file) o->out is left as it was. Returns 0 or -errno.
 */
int report_html_write(json_t *r, const struct report_html_opts *o);

#endif /* STSCTL_REPORT_H */
