// SPDX-License-Identifier: GPL-2.0-only
/* stsctl key show: the device's public key and key id, for the collector's operator. */
#include "commands.h"
#include "device/consent.h"
#include "core/crypto.h"
#include "wire/jws.h"
#include "core/util.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEVICE_KEY_FILE "device.key"

/* clang-format off */
static const char help[] =
	"usage: stsctl key show [--key FILE] [--state-dir DIR] [--json]\n"
	"\n"
	"stsd signs the activation report with a per-device Ed25519 key that it creates\n"
	"on first start: DIR/" DEVICE_KEY_FILE " (private, mode 0600) and DIR/device.key.pub\n"
	"(public). This prints the public key (PEM) and its key id, the \"kid\" in the\n"
	"header of every report: the first 16 bytes of SHA-256 of the raw public key,\n"
	"base64url. Give both to a collector that accepts only known devices\n"
	"(sts-collector --trusted-keys).\n"
	"\n"
	"The public half is read from FILE.pub; only when it is missing is the private\n"
	"key FILE read (which needs root), and only its public half is printed.\n"
	"\n"
	"options:\n"
	"  --key FILE       the device private key (default DIR/" DEVICE_KEY_FILE ")\n"
	"  --state-dir DIR  stsd's state directory (default " STS_STATE_DIR_DEFAULT ")\n"
	"  --json           one JSON object: {\"kid\":...,\"public_key\":PEM,\"path\":FILE}\n";

static const struct cli_exit exits[] = {
	{ STS_EXIT_OK,    "shown" },
	{ STS_EXIT_USAGE, "usage or I/O error, including no key yet (stsd has not started)" },
};
/* clang-format on */

int cmd_key(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "state-dir", required_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *dir = STS_STATE_DIR_DEFAULT, *key_arg = NULL, *src;
	char priv[PATH_MAX], pub[PATH_MAX + 4], kid[STS_KID_LEN + 1], *pem = NULL;
	struct sts_key key = { 0 };
	bool json = false;
	int c, err, ret = STS_EXIT_USAGE;
	json_t *o = NULL;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'k':
			key_arg = optarg;
			break;
		case 'd':
			dir = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			return cli_help(help, exits, ARRAY_SIZE(exits));
		default:
			return cli_usage_hint();
		}
	}
	if (optind == argc)
		return cli_usage_error("missing subcommand (show)");
	if (strcmp(argv[optind], "show") != 0)
		return cli_usage_error("unknown subcommand '%s' (show)", argv[optind]);
	if (!cli_operands(argc - optind - 1, argv + optind + 1, ""))
		return STS_EXIT_USAGE;
	if (key_arg)
		snprintf(priv, sizeof(priv), "%s", key_arg);
	else if ((size_t)snprintf(priv, sizeof(priv), "%s/" DEVICE_KEY_FILE, dir) >= sizeof(priv))
		return cli_usage_error("--state-dir: path too long");
	snprintf(pub, sizeof(pub), "%s.pub", priv);

	src = access(pub, F_OK) == 0 ? pub : priv;
	err = sts_key_load_public(src, &key);
	if (err == -ENOENT) {
		sts_err("key: no device key at %s (stsd creates it on first start)", priv);
		goto cleanup;
	}
	if (err == -EBADMSG) {
		sts_err("key: %s: not an Ed25519 key", src);
		goto cleanup;
	}
	if (err) {
		sts_err("key: read %s: %s", src, strerror(-err));
		goto cleanup;
	}
	err = sts_kid(key.pub, kid);
	if (!err)
		err = sts_key_public_pem(&key, &pem);
	if (err) {
		sts_err("key: %s: %s", src, strerror(-err));
		goto cleanup;
	}
	if (json) {
		o = json_pack("{s:s,s:s,s:s}", "kid", kid, "public_key", pem, "path", src);
		if (!o || json_dumpf(o, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER)) {
			sts_err("key: out of memory");
			goto cleanup;
		}
		putchar('\n');
	} else {
		printf("key id: %s\nfile:   %s\n%s", kid, src, pem);
	}
	ret = STS_EXIT_OK;
cleanup:
	json_decref(o);
	free(pem);
	sts_key_free(&key);
	return ret;
}
