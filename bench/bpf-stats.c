// SPDX-License-Identifier: GPL-2.0-only
/*
 * bpf-stats: the kernel's own count of each loaded BPF program's runs and run time, for the
 * per-invocation cost of stsd's hooks (bench/parts/10-hooks.sh, both VM lanes). The kernel
 * keeps these figures only while statistics are enabled (BPF_ENABLE_STATS, or the sysctl
 * kernel.bpf_stats_enabled): `bpf-stats hold` enables them and keeps them on until it is
 * killed; `bpf-stats list [PREFIX]` prints one line per loaded program whose name starts with
 * PREFIX: "STATS <name> <type> <run_cnt> <run_time_ns>". bpftool would do the listing, but the
 * guest of the arm64 lane has no bpftool of its architecture; this is built for each.
 *
 * Exit status 0, or 1 with the reason on stderr.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int list(const char *prefix)
{
	struct bpf_prog_info info;
	__u32 id = 0, len;
	int fd, n = 0;

	while (bpf_prog_get_next_id(id, &id) == 0) {
		fd = bpf_prog_get_fd_by_id(id);
		if (fd < 0)
			continue; /* unloaded meanwhile */
		memset(&info, 0, sizeof(info));
		len = sizeof(info);
		if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0 &&
		    strncmp(info.name, prefix, strlen(prefix)) == 0) {
			printf("STATS %s %s %llu %llu\n", info.name,
			       libbpf_bpf_prog_type_str(info.type) ?: "?",
			       (unsigned long long)info.run_cnt,
			       (unsigned long long)info.run_time_ns);
			n++;
		}
		close(fd);
	}
	if (errno != ENOENT) {
		fprintf(stderr, "bpf-stats: listing the loaded programs failed: %s\n",
			strerror(errno));
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	int fd;

	if (argc >= 2 && strcmp(argv[1], "list") == 0)
		return list(argc >= 3 ? argv[2] : "");
	if (argc == 2 && strcmp(argv[1], "hold") == 0) {
		fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
		if (fd < 0) {
			fprintf(stderr, "bpf-stats: enabling run-time statistics failed: %s\n",
				strerror(-fd));
			return 1;
		}
		printf("holding\n");
		fflush(stdout);
		pause();
		return 0;
	}
	fprintf(stderr, "usage: bpf-stats hold | bpf-stats list [PREFIX]\n");
	return 1;
}
