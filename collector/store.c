// SPDX-License-Identifier: GPL-2.0-only
/* Which backend a --db value names, and how to print it without its password. */
#include "store.h"

#include <stdio.h>
#include <string.h>

bool store_is_url(const char *db)
{
	return strncmp(db, "postgresql://", 13) == 0 || strncmp(db, "postgres://", 11) == 0;
}

int store_open(const char *db, bool create, struct store **st)
{
	if (store_is_url(db))
		return store_pg_open(db, create, st);
	return store_sqlite_open(db, create, st);
}

void store_redact(const char *db, char *out, size_t outsz)
{
	const char *scheme, *at, *colon, *pw;

	snprintf(out, outsz, "%s", db);
	if (!store_is_url(db))
		return;
	/* postgresql://user:password@host/...: the password is between the first ':' and '@'. */
	scheme = strstr(db, "://") + 3;
	at = strchr(scheme, '@');
	colon = strchr(scheme, ':');
	if (at && colon && colon < at)
		snprintf(out, outsz, "%.*s:***%s", (int)(colon - db), db, at);
	/* ...?password=...: cut everything from it on. */
	pw = strstr(out, "password=");
	if (pw && (size_t)(pw - out) + 13 < outsz)
		strcpy(out + (pw - out), "password=***");
}
