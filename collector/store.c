// SPDX-License-Identifier: GPL-2.0-only
/* Which backend a --db value names, and how to print it without its password. */
#include "store.h"

#include <errno.h>
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

static int add_rejection(const char *code, long long n, void *arg)
{
	return json_object_set_new(arg, code, json_integer(n)) ? -ENOMEM : 0;
}

int store_stats(struct store *st, json_t **out)
{
	long long acts = 0, keys = 0;
	json_t *root;
	int err;

	err = st->ops->count(st, "SELECT count(*) FROM activations", &acts);
	if (!err)
		err = st->ops->count(st, "SELECT count(*) FROM device_keys", &keys);
	if (err)
		return err;
	root = json_pack("{s:I,s:I,s:{}}", "activations", acts, "device_keys", keys, "rejections");
	if (!root)
		return -ENOMEM;
	err = st->ops->rejections(st, add_rejection, json_object_get(root, "rejections"));
	if (err) {
		json_decref(root);
		return err;
	}
	*out = root;
	return 0;
}
