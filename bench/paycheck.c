// SPDX-License-Identifier: GPL-2.0-only
/*
 * paycheck: the cost of stsd run's value-exact payload check (stsd/payload_rules.c) per report,
 * alone: the request head compared with the one the agent builds, the JWS parsed and compared
 * with its one spelling, the claims with the device's values (stsd.conf read, the IMEI through
 * the file: broker, as on a first report), the Ed25519 signature verified.
 *
 *   paycheck DIR N
 *       writes DIR/stsd.conf, DIR/imei, DIR/vendor.key(.pub) and DIR/policy.conf, then checks
 *       one approved request N times, each time as the first report of a run (nothing cached).
 *       Prints the check's CPU time, "median_ns M", "p99_ns P", "max_ns X" (the thread's CPU
 *       clock: what the check costs, not how long another process held the CPU meanwhile),
 *       and its wall time, "wall_median_ns", "wall_p99_ns"; exits 1 if a check refused.
 */
#include "../stsd/payload_rules.c"
#include "core/util.h"

#include <time.h>
#include <unistd.h>

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static uint64_t now_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	static const char claims[] = "{\"imei\":\"490154203237518\",\"model\":\"Bench Phone "
				     "1\",\"sw_version\":\"1.2.3\"}";
	char path[4096], pub[4200], conf[4096], text[8192], aid[STS_AID_LEN + 1], why[512];
	static struct run_rules proto;
	char *jws = NULL, *req = NULL;
	size_t jws_len, req_len, i, n;
	struct sts_policy pol;
	struct sts_key key;
	uint64_t *t, *w;

	if (argc != 3 || (n = strtoul(argv[2], NULL, 10)) == 0) {
		fprintf(stderr, "usage: paycheck DIR N\n");
		return 2;
	}
	snprintf(path, sizeof(path), "%s/vendor.key", argv[1]);
	snprintf(pub, sizeof(pub), "%s.pub", path);
	unlink(path);
	unlink(pub);
	snprintf(conf, sizeof(conf), "%s/stsd.conf", argv[1]);
	snprintf(text, sizeof(text),
		 "collector-host collector.test\ncollector-ca /dev/null\ncollector-key /dev/null\n"
		 "imei-source file:%s/imei\nmodel Bench Phone 1\nsw-version 1.2.3\nstate-dir %s\n",
		 argv[1], argv[1]);
	/* The activation id stsd run would give the command (at start, not per payload). */
	if (sts_write_file_atomic(conf, text, strlen(text), 0644) ||
	    (proto.config_path = conf, run_rules_start(&proto), !proto.aid[0]) ||
	    snprintf(aid, sizeof(aid), "%s", proto.aid) < 0 ||
	    snprintf(path, sizeof(path), "%s/imei", argv[1]) < 0 ||
	    sts_write_file_atomic(path, "490154203237518\n", 16, 0644) ||
	    snprintf(path, sizeof(path), "%s/vendor.key", argv[1]) < 0 ||
	    sts_key_generate(path, pub, &key) ||
	    sts_jws_sign(&key, aid, true, claims, strlen(claims), &jws, &jws_len) ||
	    sts_request_build("collector.test", jws, jws_len, &req, &req_len)) {
		fprintf(stderr, "paycheck: setup in %s failed\n", argv[1]);
		return 1;
	}
	snprintf(path, sizeof(path), "%s/policy.conf", argv[1]);
	snprintf(text, sizeof(text), "collector 127.0.0.1:443\nstate-dir %s\nreport-key %s\n",
		 argv[1], pub);
	if (sts_write_file_atomic(path, text, strlen(text), 0644) ||
	    sts_policy_load(path, false, &pol, why, sizeof(why))) {
		fprintf(stderr, "paycheck: policy: %s\n", why);
		return 1;
	}
	t = calloc(n, sizeof(*t));
	w = calloc(n, sizeof(*w));
	if (!t || !w)
		return 1;
	for (i = 0; i < n; i++) {
		struct run_rules *rules = calloc(1, sizeof(*rules));
		json_t *detail = NULL;
		struct police_payload p = {
			.buf = req, .len = req_len, .pol = &pol, .detail = &detail
		};
		uint64_t t0, w0;
		int err;

		if (!rules)
			return 1;
		*rules = proto;
		w0 = now_ns(CLOCK_MONOTONIC);
		t0 = now_ns(CLOCK_THREAD_CPUTIME_ID);
		err = sts_request_check(req, req_len, pol.report_max, why, sizeof(why));
		if (!err)
			err = run_payload_check(rules, &p, why, sizeof(why));
		t[i] = now_ns(CLOCK_THREAD_CPUTIME_ID) - t0;
		w[i] = now_ns(CLOCK_MONOTONIC) - w0;
		json_decref(detail);
		free(rules);
		if (err) {
			fprintf(stderr, "paycheck: refused: %s\n", why);
			return 1;
		}
	}
	qsort(t, n, sizeof(*t), cmp_u64);
	qsort(w, n, sizeof(*w), cmp_u64);
	printf("median_ns %llu\np99_ns %llu\nmax_ns %llu\nwall_median_ns %llu\nwall_p99_ns %llu\n",
	       (unsigned long long)t[n / 2], (unsigned long long)t[n * 99 / 100],
	       (unsigned long long)t[n - 1], (unsigned long long)w[n / 2],
	       (unsigned long long)w[n * 99 / 100]);
	free(t);
	free(w);
	free(jws);
	free(req);
	sts_key_free(&key);
	sts_policy_free(&pol);
	return 0;
}
