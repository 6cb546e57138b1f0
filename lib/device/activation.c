// SPDX-License-Identifier: GPL-2.0-only
#include "device/activation.h"
#include "wire/jws.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

int sts_activation_parse(const char *buf, size_t len, struct sts_activation *st, char *why,
			 size_t wl)
{
	const char *aid = "", *rs = "", *le = "";
	json_error_t jerr;
	json_t *j;
	int act = 0, err = 0;

	memset(st, 0, sizeof(*st));
	j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!j || json_unpack_ex(j, &jerr, JSON_STRICT, "{s:b, s:s, s:I, s:I, s:I, s:s, s:s}",
				 "activated", &act, "aid", &aid, "attempts", &st->attempts,
				 "next_attempt", &st->next_attempt, "activated_at",
				 &st->activated_at, "receipt_sha256", &rs, "last_error", &le)) {
		snprintf(why, wl, "%s", jerr.text);
		err = -EBADMSG;
	} else if ((aid[0] && !sts_id_valid(aid, strlen(aid))) || strlen(rs) > 64 ||
		   st->attempts < 0 || (act && !aid[0])) {
		snprintf(why, wl, "inconsistent values");
		err = -EBADMSG;
	} else {
		st->activated = act;
		snprintf(st->aid, sizeof(st->aid), "%s", aid);
		snprintf(st->receipt_sha256, sizeof(st->receipt_sha256), "%s", rs);
		snprintf(st->last_error, sizeof(st->last_error), "%s", le);
	}
	json_decref(j);
	return err;
}

int sts_activation_serialize(const struct sts_activation *st, char **out)
{
	json_t *j;

	j = json_pack("{s:b, s:s, s:I, s:I, s:I, s:s, s:s}", "activated", st->activated, "aid",
		      st->aid, "attempts", (json_int_t)st->attempts, "next_attempt",
		      (json_int_t)st->next_attempt, "activated_at", (json_int_t)st->activated_at,
		      "receipt_sha256", st->receipt_sha256, "last_error", st->last_error);
	*out = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(j);
	return *out ? 0 : -ENOMEM;
}
