// SPDX-License-Identifier: GPL-2.0-only
/* Loading the auditor's inputs, with errors that name the file. */
#include "commands.h"
#include "core/crypto.h"
#include "evidence/evverify.h"
#include "evidence/seal.h"
#include "core/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int ctl_load_log_key(const char *path, struct sts_key *key)
{
	int err = sts_key_load_public(path, key);

	if (err == -EBADMSG)
		sts_err("%s: not an Ed25519 public key", path);
	else if (err)
		sts_err("open %s: %s", path, strerror(-err));
	return err;
}

int ctl_load_seal_key(const char *arg, struct seal_state *vk)
{
	char *buf = NULL;
	size_t len;
	int err;

	if (strncmp(arg, "sts-seal-v1:", 12) == 0) {
		err = seal_vkey_parse(arg, strlen(arg), vk);
		if (err)
			sts_err("malformed seal verification key");
		return err;
	}
	err = sts_read_file(arg, 4096, &buf, &len);
	if (err) {
		sts_err("open %s: %s", arg, strerror(-err));
		return err;
	}
	err = seal_vkey_parse(buf, len, vk);
	if (err)
		sts_err("%s: not a seal verification key (sts-seal-v1:...)", arg);
	sts_wipe(buf, len);
	free(buf);
	return err;
}

int ctl_map_log(const char *path, const char **buf, size_t *len)
{
	int err = evv_map(path, buf, len);

	if (err)
		sts_err("open %s: %s", path,
			err == -EINVAL ? "not a regular file" : strerror(-err));
	return err;
}

int ctl_open_log(const char *log_path, const char *key_path, const char *seal_arg,
		 struct sts_key *key, struct seal_state *vk, struct evv_opts *vo, const char **buf,
		 size_t *len)
{
	int err;

	if (key_path) {
		err = ctl_load_log_key(key_path, key);
		if (err)
			return err;
		vo->log_key = key;
	}
	if (seal_arg) {
		err = ctl_load_seal_key(seal_arg, vk);
		if (err)
			return err;
		vo->seal_key = vk;
	}
	return ctl_map_log(log_path, buf, len);
}
