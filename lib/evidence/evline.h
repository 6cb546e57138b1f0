/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * One line of the evidence log (JSON Lines, see docs/evidence.md): a JSON object with
 *
 *	seq   integer, 0 for the first line, +1 each line
 *	time  wall clock, RFC 3339 UTC with microseconds: "2025-01-31T12:00:00.000000Z"
 *	boot  the kernel's boot id (/proc/sys/kernel/random/boot_id)
 *	type  record type, [a-z_]{1,32}
 *	prev  lowercase hex SHA-256 of the previous line's bytes (no newline); 64 zeros first
 *
 * plus the fields of its type. The parser is shared by the writer (recovery), the verifier and
 * the report, and is strict about these five fields; type-specific fields are checked by
 * their users. Functions return 0 or -errno (-EBADMSG with a reason for a bad line).
 */
#ifndef STS_EVLINE_H
#define STS_EVLINE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/crypto.h"

/* A longer line is refused by the writer and rejected by the verifier. */
#define EVLINE_MAX (64 * 1024)
#define EVLINE_TIME_LEN 27 /* "YYYY-MM-DDTHH:MM:SS.uuuuuuZ" */
#define EVLINE_TYPE_MAX 32

struct evline {
	uint64_t seq;
	int64_t time_us; /* unix time in microseconds */
	const char *time;
	const char *boot;
	const char *type;
	uint8_t prev[STS_SHA256_LEN];
	json_t *obj; /* owned: json_decref() when done (evline_free); NULL from evline_scan() */
	/* Where time, boot and type point after evline_scan() took its fast path. */
	char time_buf[EVLINE_TIME_LEN + 1], boot_buf[65], type_buf[EVLINE_TYPE_MAX + 1];
};

int evline_parse(const char *line, size_t len, struct evline *rec, char *why, size_t whysz);
/*
 * The same verdict and fields as evline_parse(), for readers that need only the five fields
 * (the verifier, the writer's recovery): a line in the writer's own form (compact JSON, no
 * \u escape, integers only, no non-ASCII) is checked by a scanner that builds nothing and
 * leaves rec->obj NULL; anything else goes to evline_parse() and gets rec->obj. The scanner
 * only ever accepts what jansson accepts (fuzz/evline.c checks that it agrees).
 */
int evline_scan(const char *line, size_t len, struct evline *rec, char *why, size_t whysz);
void evline_free(struct evline *rec);

/* Format / parse the time field. */
int evline_format_time(int64_t time_us, char out[EVLINE_TIME_LEN + 1]);
int evline_parse_time(const char *s, size_t len, int64_t *time_us);

/* The fields every line has; a record's own fields may not use these names. */
bool evline_reserved_key(const char *key);
bool evline_valid_type(const char *type);

#endif /* STS_EVLINE_H */
