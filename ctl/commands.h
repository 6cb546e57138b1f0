/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * stsctl's commands. Adding one is one CMD() line here and one `int cmd_<name>(int argc, char
 * **argv)` in a new ctl/<name>.c: main.c builds its dispatch table from this list, and
 * lib/core/cli.c dispatches.
 *
 * A command gets argv[0] == "stsctl NAME", answers --help with cli_help() (its usage, what it
 * does, its options, then its exit codes), reports a usage error with cli_usage_error() or,
 * after getopt's own message, cli_usage_hint(), and returns its exit status: STS_EXIT_OK,
 * STS_EXIT_FAIL (a check failed: the log or the proof does not verify) or STS_EXIT_USAGE
 * (usage or I/O error).
 */
#ifndef STSCTL_COMMANDS_H
#define STSCTL_COMMANDS_H

#include "core/cli.h"

#include <stdio.h>

/* CMD(name as typed, C function suffix, one-line summary) */
/* clang-format off */
#define STSCTL_COMMANDS                                                                       \
	CMD("verify", verify, "check an evidence log: chain, Merkle tree, signatures, seals") \
	CMD("report", report, "say in plain words what an evidence log records")              \
	CMD("prove", prove, "write an inclusion or consistency proof for an evidence log")    \
	CMD("verify-proof", verify_proof, "check a proof with only the log's public key")     \
	CMD("checkpoint", checkpoint, "print a log's latest signed checkpoint, to keep")      \
	CMD("cosign", cosign, "add a witness cosignature (C2SP) to a kept checkpoint")      \
	CMD("seal-init", seal_init, "create the seal state and print the auditor's seal key") \
	CMD("consent", consent, "record, withdraw or show consent to send the country")       \
	CMD("key", key, "show the device's public key and key id")                            \
	CMD("optout", optout, "turn periodic reports off for good")                           \
	CMD("status", status, "show activation, consent, keys and the evidence log's state")
/* clang-format on */

#define CMD(name, fn, help) int cmd_##fn(int argc, char **argv);
STSCTL_COMMANDS
#undef CMD

/* Shared by the evidence commands; each prints its own error and returns 0 or -errno. */
struct sts_key;
struct seal_state;
/* PUB: PEM public (or private) key file, or a file with base64 of the raw 32 bytes. */
int ctl_load_log_key(const char *path, struct sts_key *key);
/* KEY: the "sts-seal-v1:..." string itself, or a file that holds it. */
int ctl_load_seal_key(const char *arg, struct seal_state *vk);
/* Map LOG read-only; an error message names it. */
int ctl_map_log(const char *path, const char **buf, size_t *len);
struct evv_opts;
/*
 * What verify and report both start with: the auditor's log key (key_path, may be NULL) and
 * seal key (seal_arg, may be NULL) loaded into key/vk and wired into vo, and LOG mapped.
 */
int ctl_open_log(const char *log_path, const char *key_path, const char *seal_arg,
		 struct sts_key *key, struct seal_state *vk, struct evv_opts *vo, const char **buf,
		 size_t *len);

/*
 * The state directory a command is about to write in (consent, optout): created if missing,
 * the directory alone (its parent must exist) with stsd's mode 0700, and said on stdout.
 * Returns 0 or -errno, with the error printed.
 */
int ctl_state_dir(const char *cmd, const char *dir);

#endif /* STSCTL_COMMANDS_H */
