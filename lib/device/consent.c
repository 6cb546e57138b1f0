// SPDX-License-Identifier: GPL-2.0-only
/*
 * Consent and opt-out records (see consent.h). Both parsers accept exactly one shape and
 * nothing near it: a record that does not parse must never be read as consent.
 */
#include "device/consent.h"
#include "wire/report.h"
#include "core/util.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* 9999-12-31T23:59:59Z: a time beyond it is a corrupt record, not a date. */
#define TIME_MAX 253402300799LL

/*
 * Load buf as a JSON object whose members are exactly the names given (each once, which
 * JSON_REJECT_DUPLICATES ensures); optional members may be absent.
 */
static json_t *load_object(const char *buf, size_t len, const char *const *names, size_t n)
{
	json_error_t jerr;
	const char *key;
	json_t *root, *v;
	size_t i;

	if (len > STS_CONSENT_MAX)
		return NULL;
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return NULL;
	if (!json_is_object(root))
		goto bad;
	json_object_foreach(root, key, v)
	{
		for (i = 0; i < n; i++)
			if (strcmp(key, names[i]) == 0)
				break;
		if (i == n)
			goto bad;
	}
	return root;
bad:
	json_decref(root);
	return NULL;
}

static bool get_time(json_t *root, const char *name, int64_t *t)
{
	json_t *v = json_object_get(root, name);

	if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > TIME_MAX)
		return false;
	*t = (int64_t)json_integer_value(v);
	return true;
}

int sts_consent_parse(const char *buf, size_t len, struct sts_consent *c)
{
	static const char *const names[] = { "granted", "country", "changed_at" };
	json_t *root, *granted, *country;
	struct sts_consent tmp = { 0 };
	int err = -EBADMSG;

	root = load_object(buf, len, names, ARRAY_SIZE(names));
	if (!root)
		return -EBADMSG;
	granted = json_object_get(root, "granted");
	country = json_object_get(root, "country");
	if (!json_is_boolean(granted) || !get_time(root, "changed_at", &tmp.changed_at))
		goto cleanup;
	tmp.granted = json_is_true(granted);
	if (tmp.granted) {
		if (!json_is_string(country) || json_string_length(country) != 2 ||
		    !sts_country_assigned(json_string_value(country), 2))
			goto cleanup;
		memcpy(tmp.country, json_string_value(country), 3);
	} else if (country) {
		/* A country kept after revocation is exactly what must not linger. */
		goto cleanup;
	}
	*c = tmp;
	err = 0;
cleanup:
	json_decref(root);
	return err;
}

int sts_consent_load(const char *path, struct sts_consent *c)
{
	char *buf = NULL;
	size_t len;
	int err;

	err = sts_read_file(path, STS_CONSENT_MAX, &buf, &len);
	if (err == -ENOENT) {
		memset(c, 0, sizeof(*c));
		return 0;
	}
	if (err == -EFBIG)
		return -EBADMSG;
	if (err)
		return err;
	err = sts_consent_parse(buf, len, c);
	free(buf);
	return err;
}

static int consent_write(const char *path, const struct sts_consent *c)
{
	char buf[STS_CONSENT_MAX];
	int n;

	if (c->granted)
		n = snprintf(buf, sizeof(buf),
			     "{\"granted\":true,\"country\":\"%s\",\"changed_at\":%lld}\n",
			     c->country, (long long)c->changed_at);
	else
		n = snprintf(buf, sizeof(buf), "{\"granted\":false,\"changed_at\":%lld}\n",
			     (long long)c->changed_at);
	return sts_write_file_atomic(path, buf, (size_t)n, 0644);
}

/*
 * The current record, or "never asked" when there is none or it is corrupt: the caller is
 * about to record the user's choice afresh, which is the repair.
 */
static int consent_current(const char *path, struct sts_consent *c)
{
	int err = sts_consent_load(path, c);

	if (err == -EBADMSG) {
		memset(c, 0, sizeof(*c));
		c->changed_at = -1; /* differs from anything on disk: rewrite */
		return 0;
	}
	return err;
}

int sts_consent_grant(const char *path, const char *country)
{
	struct sts_consent cur, next = { .granted = true };
	int err;

	if (!country || strlen(country) != 2 || !sts_country_assigned(country, 2))
		return -EINVAL;
	err = consent_current(path, &cur);
	if (err)
		return err;
	if (cur.granted && strcmp(cur.country, country) == 0)
		return 0;
	memcpy(next.country, country, 3);
	next.changed_at = (int64_t)time(NULL);
	return consent_write(path, &next);
}

int sts_consent_revoke(const char *path)
{
	struct sts_consent cur, next = { .granted = false };
	int err;

	err = consent_current(path, &cur);
	if (err)
		return err;
	if (!cur.granted && cur.changed_at > 0)
		return 0;
	next.changed_at = (int64_t)time(NULL);
	return consent_write(path, &next);
}

int sts_optout_parse(const char *buf, size_t len, int64_t *at)
{
	static const char *const names[] = { "optout", "at" };
	json_t *root;
	int64_t t;
	int err = -EBADMSG;

	root = load_object(buf, len, names, ARRAY_SIZE(names));
	if (!root)
		return -EBADMSG;
	/* Only true is meaningful: an opt-out is never undone by editing it to false. */
	if (json_is_true(json_object_get(root, "optout")) && get_time(root, "at", &t)) {
		*at = t;
		err = 0;
	}
	json_decref(root);
	return err;
}

static int optout_path(const char *state_dir, char *out, size_t outsz)
{
	if ((size_t)snprintf(out, outsz, "%s/" STS_OPTOUT_FILE, state_dir) >= outsz)
		return -ENAMETOOLONG;
	return 0;
}

int sts_optout_load(const char *state_dir, bool *active, int64_t *at)
{
	char path[PATH_MAX], *buf = NULL;
	size_t len;
	int err;

	*active = false;
	*at = 0;
	err = optout_path(state_dir, path, sizeof(path));
	if (err)
		return err;
	err = sts_read_file(path, STS_CONSENT_MAX, &buf, &len);
	if (err == -ENOENT)
		return 0;
	if (err == -EFBIG)
		return -EBADMSG;
	if (err)
		return err;
	err = sts_optout_parse(buf, len, at);
	free(buf);
	if (!err)
		*active = true;
	return err;
}

bool sts_optout_active(const char *state_dir)
{
	bool active;
	int64_t at;
	int err = sts_optout_load(state_dir, &active, &at);

	/* Unreadable or damaged: the user did write something there, so honour it. */
	return err ? true : active;
}

int sts_optout_set(const char *state_dir)
{
	char path[PATH_MAX], buf[64];
	bool active;
	int64_t at;
	int err, n;

	err = optout_path(state_dir, path, sizeof(path));
	if (err)
		return err;
	/* A damaged record is replaced by a good one; a good one keeps its original time. */
	if (sts_optout_load(state_dir, &active, &at) == 0 && active)
		return 0;
	n = snprintf(buf, sizeof(buf), "{\"optout\":true,\"at\":%lld}\n", (long long)time(NULL));
	return sts_write_file_atomic(path, buf, (size_t)n, 0644);
}
