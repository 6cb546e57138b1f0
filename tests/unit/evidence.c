// SPDX-License-Identifier: GPL-2.0-only
/*
 * The evidence log: Merkle tree (RFC 9162 vectors, every small tree, a million leaves),
 * checkpoint notes, seals, the writer (recovery, disk full, kill -9 at random points,
 * periodic checkpoints) and the stsctl commands against the committed fixtures.
 */
#include "test.h"
#include "core/crypto.h"
#include "evidence/evlog.h"
#include "evidence/evline.h"
#include "evidence/evproof.h"
#include "evidence/evverify.h"
#include "evidence/merkle.h"
#include "evidence/note.h"
#include "evidence/seal.h"
#include "evidence/sha2x.h"
#include "core/util.h"

#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define FIXTURES "tests/fixtures/evidence"

#define run test__run

static int64_t test_now;

static int64_t test_clock(void *arg)
{
	(void)arg;
	return test_now;
}

static int new_key(const char *name, struct sts_key *key)
{
	char priv[512], pub[512];

	snprintf(priv, sizeof(priv), "%s/%s", test__tmpdir(), name);
	snprintf(pub, sizeof(pub), "%s/%s.pub", test__tmpdir(), name);
	return sts_key_generate(priv, pub, key);
}

static int verify_file(const char *path, const struct sts_key *key, const struct seal_state *vk,
		       struct evv_result *res)
{
	struct evv_opts o = { .log_key = key, .seal_key = vk };
	const char *buf;
	size_t len;
	int err = evv_map(path, &buf, &len);

	if (err)
		return err;
	err = evv_verify(buf, len, &o, res);
	if (err == -EBADMSG && getenv("EV_DEBUG"))
		printf("  %s:%" PRIu64 ": %s\n", path, res->bad_line, res->why);
	evv_unmap(buf, len);
	return err;
}

void test_evidence_merkle_vectors(void)
{
	/* The RFC 6962 / certificate-transparency reference tree of 8 leaves. */
	static const char *const data[] = { "",
					    "\x00",
					    "\x10",
					    "\x20\x21",
					    "\x30\x31",
					    "\x40\x41\x42\x43",
					    "\x50\x51\x52\x53\x54\x55\x56\x57",
					    "\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c"
					    "\x6d\x6e\x6f" };
	static const size_t lens[] = { 0, 1, 1, 2, 2, 4, 8, 16 };
	merkle_hash leaves[8], root, root2;
	struct merkle_range r;
	char hex[65];
	size_t i;

	merkle_range_init(&r);
	ASSERT_OK(merkle_range_root(&r, root), "empty root");
	sts_hex(root, 32, hex);
	ASSERT_STREQ(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		     "empty tree root is SHA-256 of nothing");
	for (i = 0; i < 8; i++) {
		merkle_leaf_hash(data[i], lens[i], leaves[i]);
		merkle_range_append(&r, leaves[i]);
	}
	ASSERT_OK(merkle_range_root(&r, root), "root");
	sts_hex(root, 32, hex);
	ASSERT_STREQ(hex, "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
		     "8-leaf reference root");
	ASSERT_OK(merkle_root(leaves, 8, root2), "merkle_root");
	ASSERT_MEMEQ(root, root2, 32, "compact range and full tree agree");
	sts_hex(leaves[0], 32, hex);
	ASSERT_STREQ(hex, "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
		     "leaf hash of the empty string (0x00 prefix)");
}

/*
 * The verifier's two-lane SHA-256 (sha2x.h) against OpenSSL: every message length up to past
 * the longest it hashes itself, the two lanes of different lengths (so that one runs blocks
 * alone), and tree nodes.
 */
void test_evidence_sha2x(void)
{
	static uint8_t a[1200], b[1200];
	merkle_hash x, y, ex, ey;
	size_t la, lb, bad = 0;
	unsigned int seed = 1;

	if (!sha2x_accelerated())
		printf("  no SHA extensions here: the OpenSSL fallback only\n");
	for (la = 0; la < sizeof(a); la++) {
		a[la] = (uint8_t)rand_r(&seed);
		b[la] = (uint8_t)rand_r(&seed);
	}
	for (la = 0; la < sizeof(a); la++) {
		lb = (la * 7 + 13) % sizeof(b);
		if (sha2x_leaf_hash(a, la, b, lb, x, y) || merkle_leaf_hash(a, la, ex) ||
		    merkle_leaf_hash(b, lb, ey) || memcmp(x, ex, sizeof(x)) ||
		    memcmp(y, ey, sizeof(y)))
			bad++;
	}
	ASSERT_EQ(bad, 0, "leaf hashes equal OpenSSL's at every length");
	for (la = 0; la + 4 * STS_SHA256_LEN <= sizeof(a); la += 61) {
		if (sha2x_node_hash(a + la, b + la, b + la + 32, a + la + 64, x, y) ||
		    merkle_node_hash(a + la, b + la, ex) ||
		    merkle_node_hash(b + la + 32, a + la + 64, ey) || memcmp(x, ex, sizeof(x)) ||
		    memcmp(y, ey, sizeof(y)))
			bad++;
	}
	ASSERT_EQ(bad, 0, "node hashes equal OpenSSL's");
	/* One byte changed anywhere changes the hash of its lane only. */
	sha2x_leaf_hash(a, 329, b, 329, ex, ey);
	for (la = 0; la < 329; la += 7) {
		a[la] ^= 0x20;
		sha2x_leaf_hash(a, 329, b, 329, x, y);
		a[la] ^= 0x20;
		if (!memcmp(x, ex, sizeof(x)) || memcmp(y, ey, sizeof(y)))
			bad++;
	}
	ASSERT_EQ(bad, 0, "every byte counts, in its own lane");
}

void test_evidence_merkle_proofs(void)
{
	merkle_hash leaves[70], roots[71], proof[MERKLE_MAX_PROOF], bad;
	struct merkle_range r;
	struct merkle_tree t;
	uint64_t n, m, i;
	size_t plen;
	bool all_incl = true, all_cons = true, none_bad = true;

	merkle_range_init(&r);
	for (i = 0; i < 70; i++) {
		merkle_leaf_hash(&i, sizeof(i), leaves[i]);
		merkle_range_root(&r, roots[i]);
		merkle_range_append(&r, leaves[i]);
	}
	merkle_range_root(&r, roots[70]);
	if (!ASSERT_OK(merkle_tree_build(leaves, 70, &t), "tree"))
		return;
	for (n = 1; n <= 70; n++) {
		merkle_root(leaves, n, bad);
		all_incl &= memcmp(bad, roots[n], 32) == 0;
		for (i = 0; i < n; i++) {
			if (merkle_inclusion_proof(&t, n, i, proof, &plen) ||
			    !merkle_inclusion_verify(i, n, leaves[i], proof, plen, roots[n]))
				all_incl = false;
			if (merkle_inclusion_verify(i, n, leaves[(i + 1) % 70], proof, plen,
						    roots[n]) ||
			    (n > 1 && merkle_inclusion_verify((i + 1) % n, n, leaves[i], proof,
							      plen, roots[n])))
				none_bad = false;
		}
		for (m = 1; m <= n; m++) {
			if (merkle_consistency_proof(&t, m, n, proof, &plen) ||
			    !merkle_consistency_verify(m, n, roots[m], roots[n], proof, plen))
				all_cons = false;
			if (m < n &&
			    merkle_consistency_verify(m, n, roots[m - 1], roots[n], proof, plen))
				none_bad = false;
		}
	}
	ASSERT_TRUE(all_incl, "every inclusion proof of every tree up to 70 leaves verifies");
	ASSERT_TRUE(all_cons, "every consistency proof up to 70 leaves verifies");
	ASSERT_TRUE(none_bad, "wrong leaf, index or old root never verifies");
	ASSERT_EQ(merkle_inclusion_proof(&t, 5, 5, proof, &plen), -EINVAL, "index out of range");
	merkle_tree_free(&t);
}

void test_evidence_merkle_million(void)
{
	const uint64_t n = 1000000;
	merkle_hash *leaves = malloc(n * sizeof(merkle_hash)), root, proof[MERKLE_MAX_PROOF];
	struct merkle_range r;
	struct merkle_tree t = { 0 };
	struct timespec a, b;
	uint64_t i, idx;
	size_t plen = 0;
	bool ok = true, bad = false;
	double us;
	int k;

	if (!ASSERT_OK_PTR(leaves, "malloc"))
		return;
	merkle_range_init(&r);
	for (i = 0; i < n; i++) {
		merkle_leaf_hash(&i, sizeof(i), leaves[i]);
		merkle_range_append(&r, leaves[i]);
	}
	merkle_range_root(&r, root);
	if (!ASSERT_OK(merkle_tree_build(leaves, n, &t), "tree of a million leaves"))
		goto cleanup;
	srand(6);
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (k = 0; k < 100; k++) {
		idx = ((uint64_t)rand() << 16 ^ (uint64_t)rand()) % n;
		if (merkle_inclusion_proof(&t, n, idx, proof, &plen) ||
		    !merkle_inclusion_verify(idx, n, leaves[idx], proof, plen, root))
			ok = false;
		if (merkle_inclusion_verify(idx, n, leaves[(idx + 1) % n], proof, plen, root))
			bad = true;
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	us = ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / 1e3 / 100;
	ASSERT_TRUE(ok, "100 random inclusion proofs in a 1,000,000-leaf tree verify");
	ASSERT_FALSE(bad, "and fail for the wrong record");
	ASSERT_EQ(plen, 20, "a proof is 20 hashes");
	printf("  merkle: 1,000,000 leaves: proof %zu hashes (%zu bytes), make+verify %.0f us\n",
	       plen, plen * 32, us);
cleanup:
	merkle_tree_free(&t);
	free(leaves);
}

void test_evidence_note(void)
{
	struct sts_key k = { 0 }, k2 = { 0 };
	struct checkpoint cp = { .origin = "example.org/log", .size = 42 }, out;
	char *note = NULL, *bad, signer[NOTE_MAX_NAME + 1];
	size_t body;
	uint8_t id[4];

	memset(cp.root, 0xab, sizeof(cp.root));
	if (!ASSERT_OK(new_key("nk", &k), "key") || !ASSERT_OK(new_key("nk2", &k2), "key2"))
		goto cleanup;
	if (!ASSERT_OK(checkpoint_sign(&cp, "example.org/log", &k, &note), "sign"))
		goto cleanup;
	ASSERT_TRUE(strncmp(note,
			    "example.org/"
			    "log\n42\nq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s=\n\n\xe2\x80\x94 "
			    "example.org/log ",
			    66) == 0,
		    "tlog-checkpoint layout");
	ASSERT_OK(checkpoint_parse(note, strlen(note), &out, &body), "parse");
	ASSERT_EQ(out.size, 42, "size");
	ASSERT_MEMEQ(out.root, cp.root, 32, "root");
	ASSERT_EQ(body,
		  strlen("example.org/log\n42\nq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s=\n"),
		  "signed body ends at its last newline");
	ASSERT_OK(checkpoint_verify(note, strlen(note), &k, &out, signer), "verify");
	ASSERT_STREQ(signer, "example.org/log", "signer");
	ASSERT_EQ(checkpoint_verify(note, strlen(note), &k2, &out, NULL), -ENOKEY,
		  "another key: no signature line with its key id");
	note_key_id("example.org/log", k.pub, id);
	{
		uint8_t blob[68];
		size_t n;
		char *sig = strstr(note, "log ") + 4;

		ASSERT_OK(sts_b64_decode(sig, strlen(sig) - 1, blob, sizeof(blob), &n), "sig b64");
		ASSERT_MEMEQ(blob, id, 4, "key id = SHA-256(name \\n 0x01 pub)[:4]");
	}
	bad = strdup(note);
	bad[17] = '3'; /* size 42 -> 43 */
	ASSERT_EQ(checkpoint_verify(bad, strlen(bad), &k, &out, NULL), -EKEYREJECTED,
		  "altered body fails");
	ASSERT_EQ(checkpoint_parse("a\n1\n", 4, &out, NULL), -EBADMSG, "no root, no signature");
	ASSERT_EQ(checkpoint_parse(note, strlen(note) - 1, &out, NULL), -EBADMSG,
		  "missing final newline");
	strcpy(bad, note);
	bad[16] = '0'; /* "02" leading zero */
	ASSERT_EQ(checkpoint_parse(bad, strlen(bad), &out, NULL), -EBADMSG, "leading zero");
	free(bad);
cleanup:
	free(note);
	sts_key_free(&k);
	sts_key_free(&k2);
}

void test_evidence_seal(void)
{
	char path[512], vkey[SEAL_VKEY_MAX], again[SEAL_VKEY_MAX];
	struct seal_state st, vk, k3;
	uint8_t m1[32], m2[32];
	struct stat sb;

	snprintf(path, sizeof(path), "%s/seal.state", test__tmpdir());
	if (!ASSERT_OK(seal_state_create(path, 1000, 3600, NULL, vkey), "create"))
		return;
	ASSERT_EQ(seal_state_create(path, 1000, 3600, NULL, again), -EEXIST, "never overwrites");
	ASSERT_OK(stat(path, &sb), "stat");
	ASSERT_EQ(sb.st_mode & 0777, 0600, "state file mode 0600");
	ASSERT_OK(seal_state_load(path, &st), "load");
	ASSERT_OK(seal_vkey_parse(vkey, strlen(vkey), &vk), "parse verification key");
	ASSERT_MEMEQ(vk.key, st.key, 32, "the verification key is k_0");
	ASSERT_EQ(vk.start, 1000, "start");
	ASSERT_EQ(vk.length, 3600, "length");
	ASSERT_EQ(seal_epoch_of(&vk, 999), 0, "before start: epoch 0");
	ASSERT_EQ(seal_epoch_of(&vk, 1000 + 3600 * 5 + 1), 5, "epoch 5");
	ASSERT_OK(seal_advance(&st, 3), "advance to epoch 3");
	ASSERT_OK(seal_state_store(path, &st), "store");
	ASSERT_OK(seal_state_load(path, &k3), "reload");
	ASSERT_EQ(k3.epoch, 3, "epoch stored");
	ASSERT_MEMEQ(k3.key, st.key, 32, "key stored");
	ASSERT_EQ(seal_advance(&k3, 2), -EINVAL, "no way back to an erased key");
	ASSERT_OK(seal_advance(&vk, 3), "auditor derives k_3");
	ASSERT_MEMEQ(vk.key, st.key, 32, "same k_3");
	seal_mac(st.key, 3, NULL, "t", "note", 4, m1);
	seal_mac(st.key, 3, m1, "t", "note", 4, m2);
	ASSERT_TRUE(memcmp(m1, m2, 32) != 0, "the previous seal is part of the MAC");
	ASSERT_EQ(seal_vkey_parse("sts-seal-v1:00", 14, &vk), -EBADMSG, "short key");
	vkey[strlen(vkey) - 1] = 'x';
	ASSERT_EQ(seal_vkey_parse(vkey, strlen(vkey), &vk), -EBADMSG, "garbage length");
	seal_state_wipe(&st);
	seal_state_wipe(&k3);
	seal_state_wipe(&vk);
}

void test_evidence_line(void)
{
	static const char *const bad[] = {
		"[]",
		"{\"seq\":0}",
		"{\"seq\":-1,\"time\":\"2026-01-01T00:00:00.000000Z\",\"boot\":\"b\",\"type\":"
		"\"x\",\"prev\":"
		"\"0000000000000000000000000000000000000000000000000000000000000000\"}",
		"{\"seq\":0,\"time\":\"2026-02-30T00:00:00.000000Z\",\"boot\":\"b\",\"type\":\"x\","
		"\"prev\":\"0000000000000000000000000000000000000000000000000000000000000000\"}",
		"{\"seq\":0,\"time\":\"2026-01-01T00:00:00.000000Z\",\"boot\":\"b\",\"type\":\"X\","
		"\"prev\":\"0000000000000000000000000000000000000000000000000000000000000000\"}",
		"{\"seq\":0,\"time\":\"2026-01-01T00:00:00.000000Z\",\"boot\":\"b\",\"type\":\"x\","
		"\"prev\":\"000000000000000000000000000000000000000000000000000000000000000A\"}",
		"{\"seq\":0,\"seq\":0,\"time\":\"2026-01-01T00:00:00.000000Z\",\"boot\":\"b\","
		"\"type\":\"x\",\"prev\":"
		"\"0000000000000000000000000000000000000000000000000000000000000000\"}",
	};
	const char *good =
		"{\"seq\":7,\"time\":\"2026-01-01T00:00:00.000001Z\",\"boot\":\"b\",\"type\":\"x_"
		"y\",\"prev\":\"0000000000000000000000000000000000000000000000000000000000000000\","
		"\"n\":1}";
	struct evline rec;
	char why[128], imei[16];
	int64_t t;
	size_t i;

	ASSERT_OK(evline_parse(good, strlen(good), &rec, why, sizeof(why)), "good line");
	ASSERT_EQ(rec.seq, 7, "seq");
	ASSERT_EQ(rec.time_us, 1767225600000001LL, "time");
	ASSERT_STREQ(rec.type, "x_y", "type");
	evline_free(&rec);
	for (i = 0; i < ARRAY_SIZE(bad); i++)
		ASSERT_EQ(evline_parse(bad[i], strlen(bad[i]), &rec, why, sizeof(why)), -EBADMSG,
			  bad[i]);
	/* The parser remembers the last date it checked: that must never let a bad one by. */
	ASSERT_OK(evline_parse_time("2028-02-29T23:59:59.999999Z", 27, &t), "a leap day");
	ASSERT_EQ(t, 1835481599999999LL, "its time");
	ASSERT_OK(evline_parse_time("2028-02-29T00:00:00.000000Z", 27, &t), "the same day again");
	ASSERT_EQ(t, 1835395200000000LL, "its time, from the date remembered");
	ASSERT_EQ(evline_parse_time("2028-02-29T24:00:00.000000Z", 27, &t), -EBADMSG,
		  "hour 24 of a remembered date");
	ASSERT_EQ(evline_parse_time("2028-02-29T00:00:00.00000xZ", 27, &t), -EBADMSG,
		  "a bad digit after a remembered date");
	ASSERT_EQ(evline_parse_time("2028-02-30T00:00:00.000000Z", 27, &t), -EBADMSG,
		  "February 30 right after the 29th");
	ASSERT_EQ(evline_parse_time("2027-02-29T00:00:00.000000Z", 27, &t), -EBADMSG,
		  "no February 29 in 2027");
	ASSERT_OK(evline_parse_time("2028-02-29T00:00:00.000000Z", 27, &t),
		  "the leap day once more");
	ASSERT_OK(evlog_mask_imei("353876100000006", imei, sizeof(imei)), "mask");
	ASSERT_STREQ(imei, "***********0006", "IMEI masked but its last 4 digits");
	ASSERT_EQ(evlog_mask_imei("35387610000000x", imei, sizeof(imei)), -EINVAL, "digits only");
}

static int open_log(const char *path, const struct sts_key *key, const char *seal,
		    struct evlog **log)
{
	struct evlog_opts o = {
		.path = path,
		.log_key = key,
		.seal_path = seal,
		.checkpoint_every = 4,
		.checkpoint_interval = 60,
		.clock = test_clock,
		.boot_id = "test-boot",
	};

	return evlog_open(&o, log);
}

void test_evidence_writer(void)
{
	char path[512], seal[512], vkey[SEAL_VKEY_MAX];
	struct sts_key key = { 0 };
	struct seal_state vk;
	struct evv_result res;
	struct evlog_stats st;
	struct evlog *log = NULL;
	int64_t next;
	uint64_t seq;
	json_t *f;
	int i;

	snprintf(path, sizeof(path), "%s/ev.log", test__tmpdir());
	snprintf(seal, sizeof(seal), "%s/seal", test__tmpdir());
	if (!ASSERT_OK(new_key("wk", &key), "key"))
		return;
	test_now = 1767225600LL * 1000000;
	ASSERT_OK(seal_state_create(seal, 1767225600LL, 600, NULL, vkey), "seal-init");
	if (!ASSERT_OK(open_log(path, &key, seal, &log), "open new log"))
		goto cleanup;
	f = json_pack("{si}", "n", 1);
	ASSERT_OK(evlog_append(log, "start", f, &seq), "append");
	ASSERT_EQ(seq, 0, "first seq");
	ASSERT_EQ(evlog_append(log, "checkpoint", f, NULL), -EINVAL,
		  "checkpoints are the writer's");
	json_decref(f);
	f = json_pack("{si}", "seq", 1);
	ASSERT_EQ(evlog_append(log, "x", f, NULL), -EINVAL, "reserved field refused");
	json_decref(f);
	ASSERT_EQ(evlog_append(log, "Bad-Type", NULL, NULL), -EINVAL, "bad type refused");
	for (i = 0; i < 3; i++) {
		test_now += 1000000;
		ASSERT_OK(evlog_append(log, "net_deny", NULL, &seq), "append");
	}
	evlog_stats(log, &st);
	ASSERT_EQ(st.checkpoints, 1, "checkpoint after 4 records");
	ASSERT_EQ(st.durable, 5, "and it is durable");
	test_now += 1000000;
	ASSERT_OK(evlog_append(log, "transmission", NULL, &seq), "append");
	ASSERT_OK(evlog_tick(log, &next), "tick");
	ASSERT_EQ(next, 59000, "next checkpoint due 60 s after the last one");
	test_now += 59 * 1000000LL;
	ASSERT_OK(evlog_tick(log, &next), "tick");
	evlog_stats(log, &st);
	ASSERT_EQ(st.checkpoints, 2, "tick wrote the periodic checkpoint");
	ASSERT_EQ(next, (600 - 63) * 1000LL, "next: the end of the seal epoch");
	test_now += 600 * 1000000LL;
	ASSERT_OK(evlog_tick(log, NULL), "tick in the next epoch");
	evlog_stats(log, &st);
	ASSERT_EQ(st.seal_epoch, 1, "key evolved at the epoch change without any record");
	ASSERT_OK(evlog_checkpoint(log), "explicit checkpoint with nothing new is a sync");
	evlog_stats(log, &st);
	ASSERT_EQ(st.checkpoints, 3, "no empty checkpoint");
	ASSERT_OK(evlog_close(log), "close");
	log = NULL;
	ASSERT_OK(seal_vkey_parse(vkey, strlen(vkey), &vk), "vkey");
	ASSERT_OK(verify_file(path, &key, &vk, &res), "the log verifies with both keys");
	ASSERT_EQ(res.checkpoints, 3, "3 checkpoints");
	ASSERT_EQ(res.last_epoch, 0, "the last seal is epoch 0's own, closing it");
	ASSERT_EQ(res.closes, 1, "epoch 0 closed before the key evolved");
	{
		struct seal_state st2;

		ASSERT_OK(seal_state_load(seal, &st2), "state");
		ASSERT_EQ(st2.epoch, 1, "the state file holds epoch 1's key only");
		seal_state_wipe(&st2);
	}
	/* Another writer on the same log is refused while the first holds it. */
	if (ASSERT_OK(open_log(path, &key, seal, &log), "reopen")) {
		struct evlog *l2;

		ASSERT_EQ(open_log(path, &key, seal, &l2), -EBUSY, "one writer at a time");
		ASSERT_OK(evlog_close(log), "close");
		log = NULL;
	}
	seal_state_wipe(&vk);
cleanup:
	evlog_close(log);
	sts_key_free(&key);
}

/*
 * The writer serialises lines itself: each must be, byte for byte, json_dumps(JSON_COMPACT) of
 * the object made of the five fields and then the record's (the format every existing log and
 * verifier agrees on), also for the values it leaves to jansson (escapes, non-ASCII, reals,
 * arrays, objects, keys with escapes).
 */
void test_evidence_line_bytes(void)
{
	const char *fields[] = {
		"{\"pid\":4151,\"comm\":\"sts-agent\",\"path\":\"/etc/os-release\",\"ok\":true,"
		"\"no\":false,\"none\":null}",
		"{\"neg\":-9223372036854775807,\"min\":-9223372036854775808,\"max\":"
		"9223372036854775807,\"zero\":0,\"r\":0.1,\"big\":1e300}",
		"{\"q\":\"say \\\"hi\\\"\\\\ \\n\\t\\u0001\\u001f/\\u007f\",\"u\":\"caf\\u00e9 "
		"\\u2603 "
		"\\ud83d\\ude00\",\"e\":\"\"}",
		"{\"a\":[1,\"x\",[],{}],\"o\":{\"k\":{\"k\":[null,2.5]}},\"key \\\"q\\\"\":1,"
		"\"k\\u00e9\":\"v\"}",
		"{}",
	};
	char path[512], prevhex[65], time[EVLINE_TIME_LEN + 1], *want, *buf = NULL, *p, *nl;
	struct evlog_opts o = { .checkpoint_every = 100,
				.clock = test_clock,
				.boot_id = "test-boot" };
	struct sts_key key = { 0 };
	struct evlog *log = NULL;
	uint8_t prev[STS_SHA256_LEN] = { 0 };
	json_t *f, *obj;
	const char *k;
	json_t *v;
	size_t i, len;

	snprintf(path, sizeof(path), "%s/bytes.log", test__tmpdir());
	if (!ASSERT_OK(new_key("bk", &key), "key"))
		return;
	o.path = path;
	o.log_key = &key;
	test_now = 1767225600LL * 1000000 + 999999; /* the second changes after the first */
	if (!ASSERT_OK(evlog_open(&o, &log), "open"))
		goto cleanup;
	for (i = 0; i < ARRAY_SIZE(fields); i++) {
		f = json_loads(fields[i], 0, NULL);
		if (!ASSERT_TRUE(f != NULL, fields[i]))
			goto cleanup;
		ASSERT_OK(evlog_append(log, "x_y", f, NULL), fields[i]);
		json_decref(f);
		test_now += 1;
	}
	ASSERT_OK(evlog_close(log), "close");
	log = NULL;
	if (!ASSERT_OK(sts_read_file(path, 1 << 20, &buf, &len), "read"))
		goto cleanup;
	test_now = 1767225600LL * 1000000 + 999999;
	for (i = 0, p = buf; i < ARRAY_SIZE(fields) && (nl = strchr(p, '\n')); i++, p = nl + 1) {
		sts_hex(prev, sizeof(prev), prevhex);
		evline_format_time(test_now + (int64_t)i, time);
		obj = json_pack("{sI ss ss ss ss}", "seq", (json_int_t)i, "time", time, "boot",
				"test-boot", "type", "x_y", "prev", prevhex);
		f = json_loads(fields[i], 0, NULL);
		json_object_foreach(f, k, v) json_object_set(obj, k, v);
		want = json_dumps(obj, JSON_COMPACT);
		ASSERT_TRUE(want && strlen(want) == (size_t)(nl - p) && !memcmp(want, p, nl - p),
			    fields[i]);
		if (want && (strlen(want) != (size_t)(nl - p) || memcmp(want, p, nl - p)))
			printf("  want %s\n  got  %.*s\n", want, (int)(nl - p), p);
		free(want);
		json_decref(f);
		json_decref(obj);
		merkle_leaf_hash(p, nl - p, prev); /* format 2: prev is the leaf hash */
	}
	ASSERT_EQ(i, ARRAY_SIZE(fields), "every record written");
cleanup:
	free(buf);
	evlog_close(log);
	sts_key_free(&key);
}

void test_evidence_recovery(void)
{
	char path[512];
	struct sts_key key = { 0 };
	struct evv_result res;
	struct evlog_stats st;
	struct evlog *log = NULL;
	FILE *f;
	int fd;

	snprintf(path, sizeof(path), "%s/ev.log", test__tmpdir());
	if (!ASSERT_OK(new_key("rk", &key), "key"))
		return;
	test_now = 1767225600LL * 1000000;
	if (!ASSERT_OK(open_log(path, &key, NULL, &log), "open"))
		goto cleanup;
	evlog_append(log, "start", NULL, NULL);
	evlog_append(log, "stop", NULL, NULL);
	ASSERT_OK(evlog_close(log), "close");
	log = NULL;
	f = fopen(path, "a");
	fputs("{\"seq\":3,\"ti", f);
	fclose(f);
	ASSERT_EQ(verify_file(path, &key, NULL, &res), -EBADMSG, "torn tail fails verify");
	if (!ASSERT_OK(open_log(path, &key, NULL, &log), "reopen recovers"))
		goto cleanup;
	evlog_stats(log, &st);
	ASSERT_EQ(st.recovered_bytes, 12, "12 bytes dropped");
	ASSERT_OK(evlog_close(log), "close");
	log = NULL;
	ASSERT_OK(verify_file(path, &key, NULL, &res), "recovered log verifies");
	{
		char out[8192];

		run(out, sizeof(out), "grep -c '\"type\":\"recovery\",.*\"dropped_bytes\":12' %s",
		    path);
		ASSERT_STREQ(out, "1\n", "one recovery record says 12 bytes were dropped");
	}
	/*
	 * A line altered in the middle: the writer that remembers its last checkpoint does not
	 * re-read the history before it (verify does); one without its state refuses the log.
	 */
	fd = open(path, O_WRONLY);
	pwrite(fd, "X", 1, 20);
	close(fd);
	{
		struct evlog_opts o = {
			.path = path,
			.log_key = &key,
			.clock = test_clock,
			.boot_id = "test-boot",
			.no_state = true,
		};

		ASSERT_EQ(evlog_open(&o, &log), -EBADMSG, "corrupt log is not appended to");
		log = NULL;
	}
	if (ASSERT_OK(open_log(path, &key, NULL, &log), "with its state: opens at its checkpoint"))
		ASSERT_OK(evlog_close(log), "close");
	log = NULL;
cleanup:
	evlog_close(log);
	sts_key_free(&key);
}

static bool file_exists_glob(const char *pattern)
{
	char out[1024];

	return run(out, sizeof(out), "ls %s >/dev/null 2>&1", pattern) == 0;
}

/*
 * The writer remembers its last checkpoint (fsync'd state beside the log): a log cut, replaced
 * or deleted under it is never appended to; the writer keeps it aside and starts a segment
 * from the remembered checkpoint that says what it found, which verifies on its own.
 */
void test_evidence_writer_state(void)
{
	char path[512], seal[512], vkey[SEAL_VKEY_MAX], out[8192], pattern[600];
	struct sts_key key = { 0 };
	struct seal_state vk;
	struct evv_result res;
	struct evlog_stats st;
	struct evlog *log = NULL;
	struct stat sb;
	int i, round;

	snprintf(path, sizeof(path), "%s/ws.log", test__tmpdir());
	snprintf(seal, sizeof(seal), "%s/ws.seal", test__tmpdir());
	snprintf(pattern, sizeof(pattern), "%s.damaged-*", path);
	if (!ASSERT_OK(new_key("wsk", &key), "key"))
		return;
	test_now = 1767225600LL * 1000000;
	ASSERT_OK(seal_state_create(seal, 1767225600LL, 600, NULL, vkey), "seal-init");
	ASSERT_OK(seal_vkey_parse(vkey, strlen(vkey), &vk), "vkey");
	if (!ASSERT_OK(open_log(path, &key, seal, &log), "open"))
		goto cleanup;
	for (i = 0; i < 10; i++) {
		test_now += 1000000;
		evlog_append(log, "net_deny", NULL, NULL);
	}
	ASSERT_OK(evlog_close(log), "close");
	log = NULL;
	snprintf(out, sizeof(out), "%s.state", path);
	ASSERT_OK(stat(out, &sb), "the writer state is beside the log");
	ASSERT_EQ(sb.st_mode & 0777, 0600, "mode 0600");
	for (round = 0; round < 3; round++) {
		/* 0: cut mid-way; 1: the last checkpoint replaced; 2: deleted. */
		if (round == 0)
			ASSERT_OK(truncate(path, 300), "cut the log");
		else if (round == 1)
			run(out, sizeof(out), "sed -i '$ s/\"size\":/\"size\" :/' %s", path);
		else
			ASSERT_OK(unlink(path), "delete the log");
		test_now += 1000000;
		if (!ASSERT_OK(open_log(path, &key, seal, &log), "reopen"))
			goto cleanup;
		evlog_stats(log, &st);
		ASSERT_TRUE(st.incident, "the writer saw it was not its log");
		test_now += 1000000;
		evlog_append(log, "start", NULL, NULL);
		ASSERT_OK(evlog_close(log), "close");
		log = NULL;
		if (!ASSERT_OK(verify_file(path, &key, &vk, &res), "the new segment verifies"))
			continue;
		ASSERT_TRUE(res.segment && res.first_seq > 0,
			    "a segment from the remembered checkpoint");
		ASSERT_EQ(res.tail, 0, "all of it signed and sealed");
		run(out, sizeof(out), "sed -n 2p %s", path);
		ASSERT_TRUE(strstr(out, "\"type\":\"segment\"") &&
				    strstr(out, "\"reason\":\"incident\""),
			    "its second record says why");
		ASSERT_TRUE(round == 2 ? strstr(out, "\"damaged_copy\":null") != NULL
				       : strstr(out, "\"damaged_copy\":\"ws.log.damaged-") != NULL,
			    "and where the old log went");
	}
	ASSERT_TRUE(file_exists_glob(pattern), "the damaged logs are kept aside");
	/* Rotation: the old segment and the new one verify as one chain. */
	if (!ASSERT_OK(open_log(path, &key, seal, &log), "reopen"))
		goto cleanup;
	evlog_stats(log, &st);
	ASSERT_FALSE(st.incident, "no incident on a log that is what the writer left");
	evlog_append(log, "net_deny", NULL, NULL);
	snprintf(out, sizeof(out), "%s.1", path);
	ASSERT_OK(evlog_rotate(log, out), "rotate");
	ASSERT_EQ(evlog_rotate(log, out), -EEXIST, "never over an older segment");
	evlog_append(log, "net_deny", NULL, NULL);
	ASSERT_OK(evlog_close(log), "close");
	log = NULL;
	ASSERT_EQ(run(out, sizeof(out), "%s/stsctl verify %s.1 %s --seal-key '%s'", test__out_dir(),
		      path, path, vkey),
		  0, "both segments, one chain");
	ASSERT_EQ(run(out, sizeof(out), "%s/stsctl verify %s %s.1", test__out_dir(), path, path), 1,
		  "in the wrong order: refused");
	seal_state_wipe(&vk);
cleanup:
	evlog_close(log);
	sts_key_free(&key);
}

/*
 * The options of a log of many records (a checkpoint every 37, no state file, the test clock
 * at 2026-01-01) and the fields of its records: an agent's library, as a real run writes.
 */
static json_t *many_records_setup(struct evlog_opts *o, const char *path, struct sts_key *key)
{
	o->path = path;
	o->log_key = key;
	o->checkpoint_every = 37;
	o->checkpoint_interval = 3600;
	o->clock = test_clock;
	o->boot_id = "test-boot";
	o->no_state = true;
	test_now = 1767225600LL * 1000000;
	return json_pack("{si ss ss si}", "pid", 4151, "comm", "sts-agent", "path",
			 "/usr/lib/x86_64-linux-gnu/libssl.so.3", "ino", 1311);
}

/*
 * Verification in windows, several threads, tree nodes hashed ahead: checkpoints at every
 * offset within a window (every 37 records), a segment that starts off the window grid, and
 * one changed byte deep inside, with one thread and with two.
 */
void test_evidence_verify_windows(void)
{
	char path[512], old[512], bad[512], other[512], out[1024], outdir[PATH_MAX];
	struct sts_key key = { 0 };
	struct evlog_opts o = { 0 };
	struct evv_opts vo = { 0 };
	struct evv_result res;
	struct evlog *log = NULL;
	const char *buf;
	unsigned int t;
	json_t *f;
	size_t len;
	int i;

	snprintf(path, sizeof(path), "%s/win.log", test__tmpdir());
	snprintf(old, sizeof(old), "%s/win.log.1", test__tmpdir());
	snprintf(bad, sizeof(bad), "%s/win-bad.log", test__tmpdir());
	snprintf(other, sizeof(other), "%s/other.log", test__tmpdir());
	if (!ASSERT_OK(new_key("wk", &key), "key") ||
	    !ASSERT_OK_PTR(realpath(test__out_dir(), outdir), "build dir"))
		return;
	f = many_records_setup(&o, path, &key);
	if (!ASSERT_OK(evlog_open(&o, &log), "open"))
		goto cleanup;
	for (i = 0; i < 6000; i++)
		evlog_append(log, EV_FILE_ALLOW, f, NULL);
	ASSERT_OK(evlog_rotate(log, old), "rotate");
	for (i = 0; i < 6000; i++)
		evlog_append(log, EV_FILE_ALLOW, f, NULL);
	ASSERT_OK(evlog_close(log), "close");
	log = NULL;
	vo.log_key = &key;
	for (t = 1; t <= 2; t++) {
		vo.threads = t;
		ASSERT_OK(evv_map(old, &buf, &len), "map");
		ASSERT_OK(evv_verify(buf, len, &vo, &res), "first segment verifies");
		ASSERT_TRUE(res.checkpoints > 150 && res.tail == 0, "checkpoints everywhere");
		ASSERT_TRUE(res.windows_ahead > 0, "tree nodes hashed ahead");
		evv_result_free(&res);
		evv_unmap(buf, len);
		ASSERT_OK(evv_map(path, &buf, &len), "map");
		ASSERT_OK(evv_verify(buf, len, &vo, &res), "second segment verifies on its own");
		ASSERT_TRUE(res.segment && res.first_seq % 64 != 1, "off the window grid");
		ASSERT_TRUE(res.windows_ahead > 0, "tree nodes hashed ahead in the segment too");
		evv_result_free(&res);
		evv_unmap(buf, len);
	}
	/*
	 * A kept checkpoint from mid-window (the first one after line 1900): `verify --since`
	 * finds its root within a window hashed ahead.
	 */
	ASSERT_EQ(
		run(out, sizeof(out),
		    "cd %s && n=$(awk 'NR > 1900 && /\"type\":\"checkpoint\"/ { print NR; exit }' "
		    "win.log.1) && head -n $n win.log.1 > kept.log && %s/stsctl checkpoint "
		    "kept.log "
		    "--log-key wk.pub -o kept.cp",
		    test__tmpdir(), outdir),
		0, "a checkpoint kept from inside a window");
	ASSERT_EQ(run(out, sizeof(out),
		      "cd %s && %s/stsctl verify win.log.1 --since kept.cp "
		      "--log-key wk.pub",
		      test__tmpdir(), outdir),
		  0, "verify --since it");
	/* Signed by the same key, same size, other records: its root is not the log's. */
	o.path = other;
	if (ASSERT_OK(evlog_open(&o, &log), "open another log")) {
		json_object_set_new(f, "pid", json_integer(4152));
		for (i = 0; i < 2000; i++)
			evlog_append(log, EV_FILE_ALLOW, f, NULL);
		ASSERT_OK(evlog_close(log), "close");
		log = NULL;
	}
	ASSERT_EQ(
		run(out, sizeof(out),
		    "cd %s && n=$(awk 'NR > 1900 && /\"type\":\"checkpoint\"/ { print NR; exit }' "
		    "win.log.1) && head -n $n other.log > kept2.log && %s/stsctl checkpoint "
		    "kept2.log --log-key wk.pub -o kept2.cp",
		    test__tmpdir(), outdir),
		0, "a checkpoint of another history, same key and size");
	ASSERT_EQ(run(out, sizeof(out),
		      "cd %s && %s/stsctl verify win.log.1 --since kept2.cp "
		      "--log-key wk.pub",
		      test__tmpdir(), outdir),
		  1, "is refused");
	ASSERT_TRUE(strstr(out, "history rewritten since") != NULL, "as rewritten history");
	/* One byte of line 1500's path, mid-window: caught there, whatever the threads. */
	ASSERT_EQ(run(out, sizeof(out),
		      "awk 'NR == 1500 { sub(/libssl/, \"libssM\") } { print }' %s > %s", path,
		      bad),
		  0, "alter");
	for (t = 1; t <= 2; t++) {
		vo.threads = t;
		ASSERT_OK(evv_map(bad, &buf, &len), "map");
		ASSERT_EQ(evv_verify(buf, len, &vo, &res), -EBADMSG, "altered byte");
		ASSERT_EQ(res.bad_line, 1500, "on its line");
		evv_result_free(&res);
		evv_unmap(buf, len);
	}
cleanup:
	json_decref(f);
	evlog_close(log);
	sts_key_free(&key);
}

/*
 * Windows are prepared in any order by any thread, then checked in order: whatever the
 * threads, the verdict on a damaged log is the one of a single thread, word for word, and
 * it names the first bad line even when a later window (prepared first) is bad too.
 */
void test_evidence_verify_parallel(void)
{
	static const unsigned int threads[] = { 2, 8 };
	char path[512], why[256];
	struct sts_key key = { 0 };
	struct evlog_opts o = { 0 };
	struct evv_opts vo = { 0 };
	struct evv_result res;
	struct evlog *log = NULL;
	const char *map;
	char *buf = NULL, *nl;
	uint64_t rnd = 0x9e3779b97f4a7c15ull, bad_line, early;
	size_t len, mlen, at, at2, t, caught = 0, line_at;
	const char *want;
	json_t *f;
	int i, kind, err;

	snprintf(path, sizeof(path), "%s/par.log", test__tmpdir());
	if (!ASSERT_OK(new_key("pk", &key), "key"))
		return;
	f = many_records_setup(&o, path, &key);
	if (!ASSERT_OK(evlog_open(&o, &log), "open"))
		goto cleanup;
	for (i = 0; i < 6000; i++) {
		test_now += 1000;
		evlog_append(log, EV_FILE_ALLOW, f, NULL);
	}
	ASSERT_OK(evlog_close(log), "close");
	log = NULL;
	if (!ASSERT_OK(evv_map(path, &map, &len), "map"))
		goto cleanup;
	buf = malloc(len);
	if (!ASSERT_OK_PTR(buf, "copy")) {
		evv_unmap(map, len);
		goto cleanup;
	}
	memcpy(buf, map, len);
	evv_unmap(map, len);
	ASSERT_TRUE(len > 1024 * 1024, "big enough for threads and windows of 512 lines");
	vo.log_key = &key;
	for (i = 0; i < 42; i++) {
		char *m = malloc(len);

		if (!ASSERT_OK_PTR(m, "mutant"))
			break;
		memcpy(m, buf, len);
		mlen = len;
		rnd = rnd * 6364136223846793005ull + 1442695040888963407ull;
		at = (rnd >> 11) % (len / 2);
		at2 = len / 2 + (rnd >> 33) % (len / 2 - 1);
		kind = i % 7;
		early = 0;
		want = NULL;
		/* The line after `at`, for the kinds that change one field of one line. */
		nl = memchr(m + at, '\n', len - at - 1);
		line_at = nl - m + 1;
		for (size_t j = 0; j < line_at; j++)
			early += m[j] == '\n';
		early++;
		if (kind == 0) {
			/* One byte anywhere. */
			m[at2] ^= 1 + (rnd >> 3) % 254;
			early = 0;
		} else if (kind == 1) {
			/* Two: the later one in a window that may well be prepared first. */
			m[line_at + 40] ^= 0x20;
			m[at2] ^= 0x20;
		} else if (kind == 2) {
			/* A line deleted. */
			nl = memchr(m + line_at, '\n', len - line_at);
			memmove(m + line_at, nl + 1, len - (nl + 1 - m));
			mlen = len - (nl + 1 - (m + line_at));
			want = "was expected (a record deleted, inserted or moved)";
		} else if (kind == 3) {
			/* The log cut mid-line. */
			mlen = at2;
			early = 0;
		} else if (kind == 4) {
			/* A byte of the prev field (hex stays hex): the chain breaks there. */
			nl = memmem(m + line_at, 200, "\"prev\":\"", 8) + 8;
			nl[(rnd >> 7) % 64] = nl[(rnd >> 7) % 64] == 'a' ? 'b' : 'a';
			want = "prev is not the hash";
		} else if (kind == 5) {
			/* seq off by one, last digit (still a digit): caught on that line. */
			nl = memchr(m + line_at, ',', 32);
			nl[-1] ^= 1;
			want = "was expected (a record deleted, inserted or moved)";
		} else {
			/* The time a year back: caught on that line. */
			nl = m + line_at + strcspn(m + line_at, "T") - 7;
			nl[0]--;
			want = "time goes backwards";
		}
		vo.threads = 1;
		err = evv_verify(m, mlen, &vo, &res);
		bad_line = res.bad_line;
		snprintf(why, sizeof(why), "%s", res.why);
		evv_result_free(&res);
		caught += err == -EBADMSG;
		if (kind != 0 && !ASSERT_EQ(err, -EBADMSG, "damage caught"))
			printf("  mutant %d (kind %d)\n", i, kind);
		if (early &&
		    !ASSERT_TRUE(bad_line > 0 && bad_line <= early + 1, "the earlier damage named"))
			printf("  mutant %d (kind %d): line %" PRIu64 " for %" PRIu64 ": %s\n", i,
			       kind, bad_line, early, why);
		if (want && !ASSERT_TRUE(bad_line == early && strstr(why, want), "on its line"))
			printf("  mutant %d (kind %d): line %" PRIu64 " for %" PRIu64 ": %s\n", i,
			       kind, bad_line, early, why);
		for (t = 0; t < sizeof(threads) / sizeof(threads[0]); t++) {
			vo.threads = threads[t];
			ASSERT_EQ(evv_verify(m, mlen, &vo, &res), err, "same verdict");
			ASSERT_EQ(res.bad_line, bad_line, "same line");
			if (!ASSERT_STREQ(res.why, why, "same reason"))
				printf("  mutant %d (kind %d), %u threads\n", i, kind, threads[t]);
			evv_result_free(&res);
		}
		free(m);
	}
	ASSERT_TRUE(caught >= 36, "every mutant caught, but maybe a few random flips");
	vo.threads = 8;
	ASSERT_OK(evv_verify(buf, len, &vo, &res), "the log itself verifies on 8 threads");
	ASSERT_EQ(res.records, 6000 + res.checkpoints, "every record");
	ASSERT_TRUE(res.windows_ahead >= 10, "tree nodes hashed ahead");
	evv_result_free(&res);
cleanup:
	free(buf);
	json_decref(f);
	evlog_close(log);
	sts_key_free(&key);
}

void test_evidence_disk_full(void)
{
	char path[512];
	struct sts_key key = { 0 };
	struct evv_result res;
	pid_t pid;
	int st;

	snprintf(path, sizeof(path), "%s/ev.log", test__tmpdir());
	if (!ASSERT_OK(new_key("dk", &key), "key"))
		return;
	pid = fork();
	if (pid == 0) {
		/* A file size limit fails write(2) with EFBIG, like a full disk (ENOSPC). */
		struct rlimit rl = { 20000, 20000 };
		struct evlog *log;
		int err = 0, i;

		signal(SIGXFSZ, SIG_IGN);
		setrlimit(RLIMIT_FSIZE, &rl);
		if (open_log(path, &key, NULL, &log))
			_exit(10);
		for (i = 0; i < 10000 && !err; i++)
			err = evlog_append(log, "net_deny", NULL, NULL);
		if (err != -EFBIG)
			_exit(11);
		/* Sticky: the checkpoint before a transmission fails, so nothing is sent. */
		if (evlog_checkpoint(log) != -EFBIG || evlog_sync(log) != -EFBIG ||
		    evlog_append(log, "transmission", NULL, NULL) != -EFBIG)
			_exit(12);
		evlog_close(log);
		_exit(0);
	}
	waitpid(pid, &st, 0);
	ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0, "write error is sticky (child status)");
	ASSERT_OK(verify_file(path, &key, NULL, &res), "no partial line left behind");
	ASSERT_GE(res.records, 10, "what was written before verifies");
	sts_key_free(&key);
}

/* kill -9 the writer at random points; after each restart nothing durable is lost. */
void test_evidence_crash(void)
{
	char path[512];
	struct sts_key key = { 0 };
	struct evv_result res;
	uint64_t durable, got;
	int round, fds[2], st, failures = 0, lost = 0;
	pid_t pid;

	if (!ASSERT_OK(new_key("ck", &key), "key"))
		return;
	srand(9);
	for (round = 0; round < 200; round++) {
		/* A fresh log every 20 rounds keeps each restart's re-read short. */
		snprintf(path, sizeof(path), "%s/crash%d.log", test__tmpdir(), round / 20);
		if (pipe(fds))
			break;
		pid = fork();
		if (pid == 0) {
			struct evlog_opts o = { .path = path,
						.log_key = &key,
						.checkpoint_every = 64,
						.boot_id = "crash" };
			struct evlog *log;
			struct evlog_stats s;
			uint64_t seq;
			json_t *f = json_pack("{ss}", "pad", "some evidence of the crash test");

			close(fds[0]);
			if (evlog_open(&o, &log))
				_exit(1);
			for (;;) {
				if (evlog_append(log, "net_deny", f, &seq))
					_exit(2);
				if (seq % 16 == 0) {
					if (evlog_sync(log))
						_exit(3);
					evlog_stats(log, &s);
					/* Reported durable only after fdatasync returned. */
					if (write(fds[1], &s.durable, sizeof(s.durable)) < 0)
						_exit(4);
				}
			}
		}
		close(fds[1]);
		usleep(rand() % 4000);
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
		durable = 0;
		while (read(fds[0], &got, sizeof(got)) == sizeof(got))
			durable = got;
		close(fds[0]);
		{
			struct evlog *log;
			struct evlog_opts o = { .path = path, .log_key = &key, .boot_id = "check" };

			if (evlog_open(&o, &log) || evlog_close(log)) {
				failures++;
				continue;
			}
		}
		if (verify_file(path, &key, NULL, &res)) {
			failures++;
			continue;
		}
		/* Every round adds records: the durable ones of this round are all there. */
		if (res.records < durable)
			lost++;
	}
	ASSERT_EQ(round, 200, "200 kill -9 rounds");
	ASSERT_EQ(failures, 0, "after every restart the log verifies");
	ASSERT_EQ(lost, 0, "no record reported durable is lost");
	sts_key_free(&key);
}

/*
 * Format 1 fixtures (the .log files of tests/fixtures/evidence, frozen since format 2):
 * they still verify, and each altered copy still fails at its line.
 */
void test_evidence_fixtures(void)
{
	char out[65536], line[512], file[64], kind[16], words[128];
	const char *o = test__out_dir(), *tmp = test__tmpdir();
	int lineno, rc, n = 0;
	FILE *exp;

	(void)tmp;
	rc = run(out, sizeof(out),
		 "%s/stsctl verify " FIXTURES "/good.log --log-key " FIXTURES
		 "/log.pub --seal-key " FIXTURES "/seal.key",
		 o);
	ASSERT_EQ(rc, 0, "format 1 good.log verifies with the log key and the seal key");
	ASSERT_TRUE(strstr(out, "good.log: OK: 33 records, 11 checkpoints") != NULL &&
			    strstr(out, "format 1"),
		    out);
	exp = fopen(FIXTURES "/expected.txt", "r");
	if (!ASSERT_OK_PTR(exp, "expected.txt"))
		return;
	while (fgets(line, sizeof(line), exp)) {
		char want[128];

		if (sscanf(line, "%63s %d %15s %127[^\n]", file, &lineno, kind, words) != 4)
			continue;
		n++;
		rc = run(out, sizeof(out),
			 "%s/stsctl verify " FIXTURES "/%s --log-key " FIXTURES "/log.pub%s", o,
			 file,
			 strcmp(kind, "seal") == 0 ? " --seal-key " FIXTURES "/seal.key" : "");
		snprintf(want, sizeof(want), "%s:%d: FAIL: ", file, lineno);
		ASSERT_EQ(rc, 1, file);
		if (!ASSERT_TRUE(strstr(out, want) && strstr(out, words), file))
			printf("  got: %s  want: %s ... %s\n", out, want, words);
		if (strcmp(kind, "seal") == 0) {
			rc = run(out, sizeof(out),
				 "%s/stsctl verify " FIXTURES "/%s --log-key " FIXTURES "/log.pub",
				 o, file);
			ASSERT_EQ(rc, 0, "without the seal key only the seals could tell");
		}
	}
	fclose(exp);
	ASSERT_EQ(n, 9, "nine tampered copies");
	rc = run(out, sizeof(out), "%s/stsctl verify " FIXTURES "/good.log --log-key %s/ck.pub", o,
		 tmp);
	ASSERT_EQ(rc, 2, "unreadable key is a usage/I/O error");
	rc = run(out, sizeof(out), "%s/stsctl verify /nonexistent/evidence.log", o);
	ASSERT_EQ(rc, 2, "missing log: exit 2");
	ASSERT_TRUE(
		strstr(out, "stsctl: open /nonexistent/evidence.log: No such file or directory") !=
			NULL,
		"error names the file");
}

#define FIXTURES2 FIXTURES "/v2"

/*
 * Format 2 fixtures: regenerated byte for byte, then every line of expected.txt (one per
 * sentence of docs/evidence.md's attacker table) run through stsctl verify.
 */
void test_evidence_fixtures_v2(void)
{
	char out[65536], line[1024], cmd[2048], args[512];
	const char *o = test__out_dir(), *tmp = test__tmpdir();
	char *f, *st, *a, *words, *p, *q;
	int rc, n = 0, ok = 0;
	FILE *exp;

	rc = run(out, sizeof(out),
		 "mkdir -p %s/v2 && cp " FIXTURES "/good.log %s/ && cp " FIXTURES2
		 "/log.key %s/v2/ && %s/tests/bin/evfixtures %s/v2 2>/dev/null && "
		 "for f in " FIXTURES2 "/*; do cmp $f %s/v2/$(basename $f) || exit 1; done && "
		 "test $(ls %s/v2 | wc -l) = $(ls " FIXTURES2 " | wc -l)",
		 tmp, tmp, tmp, o, tmp, tmp, tmp);
	ASSERT_EQ(rc, 0, "format 2 fixtures regenerate byte for byte");
	if (rc)
		printf("%s", out);
	exp = fopen(FIXTURES2 "/expected.txt", "r");
	if (!ASSERT_OK_PTR(exp, "expected.txt"))
		return;
	while (fgets(line, sizeof(line), exp)) {
		line[strcspn(line, "\n")] = '\0';
		p = line;
		f = strsep(&p, "\t");
		st = strsep(&p, "\t");
		a = strsep(&p, "\t");
		words = p;
		if (!f || !st || !a || !words)
			continue;
		/* @ is the fixture directory. */
		for (q = args; *a && q < args + sizeof(args) - 64; a++) {
			if (*a == '@')
				q += sprintf(q, "%s", FIXTURES2);
			else
				*q++ = *a;
		}
		*q = '\0';
		snprintf(cmd, sizeof(cmd),
			 "%s/stsctl verify " FIXTURES2 "/%s --log-key " FIXTURES2 "/log.pub %s", o,
			 f, args);
		rc = run(out, sizeof(out), "%s", cmd);
		n++;
		if (ASSERT_EQ(rc, atoi(st), cmd) && ASSERT_TRUE(strstr(out, words) != NULL, cmd))
			ok++;
		else
			printf("  got: %s  want: %s\n", out, words);
	}
	fclose(exp);
	ASSERT_TRUE(n >= 34, "every attacker's change has its fixture");
	ASSERT_EQ(ok, n, "and each is told as expected");
	rc = run(out, sizeof(out),
		 "%s/stsctl verify " FIXTURES2 "/good.log --log-key " FIXTURES2
		 "/log.pub --seal-key " FIXTURES2 "/seal.key --json",
		 o);
	ASSERT_EQ(rc, 0, "--json");
	ASSERT_TRUE(strstr(out, "\"complete\":true") && strstr(out, "\"format\":2") &&
			    strstr(out, "\"closed_epochs\":8"),
		    out);
	rc = run(out, sizeof(out), "%s/stsctl verify " FIXTURES2 "/cut-tail.log --json", o);
	ASSERT_EQ(rc, 4, "--json: exit 4 for an unsigned tail");
	ASSERT_TRUE(strstr(out, "\"ok\":true,\"complete\":false") != NULL, out);
	/* The kept checkpoint, written by stsctl checkpoint, cosigned by a witness. */
	rc = run(out, sizeof(out),
		 "%s/stsctl checkpoint " FIXTURES2 "/good.log --log-key " FIXTURES2
		 "/log.pub -o %s/kept && cmp %s/kept " FIXTURES2 "/kept.checkpoint && "
		 "openssl genpkey -algorithm ed25519 -out %s/w.key 2>/dev/null && "
		 "openssl pkey -in %s/w.key -pubout -out %s/w.pub && "
		 "openssl genpkey -algorithm ed25519 -out %s/w2.key 2>/dev/null && "
		 "openssl pkey -in %s/w2.key -pubout -out %s/w2.pub && "
		 "%s/stsctl cosign %s/kept --key %s/w.key --name witness.test/w1 "
		 "--log-key " FIXTURES2 "/log.pub -o %s/kept.cosigned",
		 o, tmp, tmp, tmp, tmp, tmp, tmp, tmp, tmp, o, tmp, tmp, tmp);
	ASSERT_EQ(rc, 0, "checkpoint kept and cosigned");
	rc = run(out, sizeof(out),
		 "%s/stsctl verify " FIXTURES2 "/good.log --since %s/kept.cosigned --witness-key "
		 "%s/w.pub --witness-name witness.test/w1",
		 o, tmp, tmp);
	ASSERT_EQ(rc, 0, "the witness's cosignature verifies");
	ASSERT_TRUE(strstr(out, "cosigned by witness.test/w1 at ") != NULL, out);
	rc = run(out, sizeof(out),
		 "%s/stsctl verify " FIXTURES2 "/good.log --since %s/kept.cosigned --witness-key "
		 "%s/w2.pub --witness-name witness.test/w1",
		 o, tmp, tmp);
	ASSERT_EQ(rc, 1, "another witness key: refused");
	rc = run(out, sizeof(out),
		 "sed 's/^\\(.\\{20\\}\\)./\\1A/' %s/kept.cosigned > %s/forged && "
		 "tail -1 %s/kept.cosigned | grep -q witness.test && "
		 "head -n -1 %s/kept.cosigned > %s/forged2 && tail -1 %s/kept.cosigned | "
		 "sed 's/ \\(.....\\)./ \\1B/' >> %s/forged2; "
		 "%s/stsctl verify " FIXTURES2 "/good.log --since %s/forged2 --witness-key "
		 "%s/w.pub --witness-name witness.test/w1",
		 tmp, tmp, tmp, tmp, tmp, tmp, tmp, o, tmp, tmp);
	ASSERT_EQ(rc, 1, "a forged cosignature fails");
	/* The kept checkpoint swapped for one whose signature is not the log key's. */
	rc = run(out, sizeof(out),
		 "head -n -1 " FIXTURES2 "/kept.checkpoint > %s/kept.forged && "
		 "printf '\xe2\x80\x94 stsguard.test/evidence %%s\\n' "
		 "$(head -c 68 /dev/zero | base64 -w0) >> %s/kept.forged && "
		 "%s/stsctl verify " FIXTURES2 "/good.log --since %s/kept.forged",
		 tmp, tmp, o, tmp);
	ASSERT_EQ(rc, 1, "a kept checkpoint not signed by the log's key is refused");
	ASSERT_TRUE(strstr(out, "not signed by the key this log names") != NULL, out);
	rc = run(out, sizeof(out),
		 "%s/stsctl prove " FIXTURES2 "/good.log --from 11 -o %s/pc && "
		 "%s/stsctl verify-proof %s/pc --log-key " FIXTURES2 "/log.pub --since %s/kept",
		 o, tmp, o, tmp, tmp);
	ASSERT_EQ(rc, 1, "verify-proof --since: a proof from another size fails");
	rc = run(out, sizeof(out),
		 "%s/stsctl checkpoint " FIXTURES2 "/rolled-back.log -o %s/old && "
		 "%s/stsctl prove " FIXTURES2 "/good.log --from 14 -o %s/pc2 && "
		 "%s/stsctl verify-proof %s/pc2 --log-key " FIXTURES2 "/log.pub --since %s/old",
		 o, tmp, o, tmp, o, tmp, tmp);
	ASSERT_EQ(rc, 0, "verify-proof --since: today's log extends the kept checkpoint");
	rc = run(out, sizeof(out), "%s/stsctl checkpoint " FIXTURES2 "/empty.log", o);
	ASSERT_EQ(rc, 4, "no checkpoint to keep in an empty log");
}

void test_evidence_stsctl(void)
{
	char out[65536], *p;
	const char *o = test__out_dir(), *tmp = test__tmpdir();
	json_t *r;
	json_error_t jerr;
	int rc;

	rc = run(out, sizeof(out), "%s/stsctl report " FIXTURES "/good.log --json", o);
	ASSERT_EQ(rc, 0, "report --json");
	r = json_loads(out, 0, &jerr);
	if (ASSERT_OK_PTR(r, "report is JSON")) {
		json_t *tx = json_array_get(json_object_get(r, "transmissions"), 0);

		ASSERT_EQ(json_integer_value(json_object_get(r, "report_version")), 1, "version");
		ASSERT_STREQ(json_string_value(json_object_get(tx, "endpoint")),
			     "collector.example.org:443", "what left the device, and where to");
		ASSERT_STREQ(json_string_value(
				     json_object_get(json_object_get(tx, "receipt"), "status")),
			     "verified", "its receipt");
		ASSERT_EQ(json_integer_value(
				  json_object_get(json_object_get(r, "blocked"), "net_deny")),
			  1, "blocked by kind");
		ASSERT_EQ(json_integer_value(json_object_get(r, "lost_events")), 3, "lost events");
		ASSERT_EQ(json_array_size(json_object_get(r, "files")), 3, "files touched");
		json_decref(r);
	}
	rc = run(out, sizeof(out), "%s/stsctl report " FIXTURES "/good.log", o);
	ASSERT_TRUE(rc == 0 && strstr(out, "What left the device") &&
			    strstr(out, "sent to collector.example.org:443"),
		    "plain-words report");
	rc = run(out, sizeof(out),
		 "%s/stsctl prove " FIXTURES "/good.log 15 -o %s/p15 && "
		 "%s/stsctl verify-proof %s/p15 --log-key " FIXTURES "/log.pub",
		 o, tmp, o, tmp);
	ASSERT_EQ(rc, 0, "inclusion proof written and verified");
	ASSERT_TRUE(strstr(out, "OK: record 15 (transmission") != NULL, "names the record");
	rc = run(out, sizeof(out),
		 "sed -n 16p " FIXTURES "/good.log > %s/r15 && sed -n 17p " FIXTURES
		 "/good.log > %s/r16 && %s/stsctl verify-proof %s/p15 --record %s/r15 "
		 "--log-key " FIXTURES "/log.pub",
		 tmp, tmp, o, tmp, tmp);
	ASSERT_EQ(rc, 0, "proof checks with the record given apart");
	rc = run(out, sizeof(out),
		 "%s/stsctl verify-proof %s/p15 --record %s/r16 --log-key " FIXTURES "/log.pub", o,
		 tmp, tmp);
	ASSERT_EQ(rc, 1, "proof fails for another record");
	rc = run(out, sizeof(out),
		 "grep -v '^extra' %s/p15 > %s/p15x && sed -i 's/^index 15$/index 16/' "
		 "%s/p15x && %s/stsctl verify-proof %s/p15x --record %s/r16 "
		 "--log-key " FIXTURES "/log.pub",
		 tmp, tmp, tmp, o, tmp, tmp);
	ASSERT_EQ(rc, 1, "a proof moved to another index fails");
	rc = run(out, sizeof(out), "%s/stsctl verify-proof %s/p15 --log-key %s/ck.pub", o, tmp,
		 tmp);
	rc = run(out, sizeof(out),
		 "cp " FIXTURES "/log.pub %s/other.pub; %s/stsctl seal-init "
		 "--state %s/s --epoch 60 > %s/vk && %s/stsctl seal-init --state %s/s",
		 tmp, o, tmp, tmp, o, tmp);
	ASSERT_EQ(rc, 2, "seal-init never overwrites a state");
	rc = run(out, sizeof(out), "cat %s/vk", tmp);
	ASSERT_TRUE(strncmp(out, "sts-seal-v1:", 12) == 0, "seal-init printed the key");
	rc = run(out, sizeof(out),
		 "%s/stsctl prove " FIXTURES "/good.log --from 6 -o %s/pc && "
		 "%s/stsctl verify-proof %s/pc --log-key " FIXTURES "/log.pub",
		 o, tmp, o, tmp);
	ASSERT_EQ(rc, 0, "consistency proof between two checkpoints");
	p = strstr(out, "OK: ");
	ASSERT_TRUE(p && strstr(p, "at size 6 is a prefix of the log at size 32"), "says which");
	rc = run(out, sizeof(out), "%s/stsctl prove " FIXTURES "/edited.log 3", o);
	ASSERT_EQ(rc, 1, "no proof from a log that does not verify");
	rc = run(out, sizeof(out), "%s/stsctl verify --help", o);
	ASSERT_TRUE(rc == 0 && strstr(out, "usage: stsctl verify LOG") &&
			    strstr(out, "exit status:"),
		    "verify --help: usage, then exit status");
	rc = run(out, sizeof(out), "%s/stsctl frobnicate", o);
	ASSERT_EQ(rc, 2, "unknown command");
}

/*
 * seal-init runs on a device where stsd never started: it creates the state directory itself
 * (only that one, 0700), says so on stderr, and stdout carries the auditor's key alone.
 */
void test_seal_init_state_dir(void)
{
	char out[512], key[256], path[700];
	struct stat st;
	FILE *f;

	snprintf(path, sizeof(path), "%s/fresh/seal.state", test__tmpdir());
	ASSERT_EQ(test__run(out, sizeof(out),
			    "{ %s/stsctl seal-init --state %s 2>/dev/null > %s/key; }",
			    test__out_dir(), path, test__tmpdir()),
		  0, "seal-init in a directory that does not exist yet");
	snprintf(path, sizeof(path), "%s/fresh", test__tmpdir());
	if (ASSERT_OK(stat(path, &st), "the state directory was created"))
		ASSERT_EQ(st.st_mode & 07777, 0700, "mode 0700");
	snprintf(path, sizeof(path), "%s/key", test__tmpdir());
	f = fopen(path, "r");
	if (!ASSERT_OK_PTR(f, "stdout saved"))
		return;
	ASSERT_OK_PTR(fgets(key, sizeof(key), f), "one line");
	ASSERT_TRUE(strncmp(key, "sts-seal-v1:", 12) == 0, "stdout is the seal key alone");
	ASSERT_TRUE(fgetc(f) == EOF, "and nothing else");
	fclose(f);
	snprintf(path, sizeof(path), "%s/no/such/seal.state", test__tmpdir());
	ASSERT_EQ(test__run(out, sizeof(out), "%s/stsctl seal-init --state %s", test__out_dir(),
			    path),
		  2, "a missing parent is an error, not a mkdir -p");
	snprintf(path, sizeof(path), "%s/no", test__tmpdir());
	ASSERT_TRUE(stat(path, &st) < 0, "nothing was created");
}
