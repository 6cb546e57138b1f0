// SPDX-License-Identifier: GPL-2.0-only
/*
 * progcost ID...: for each BPF program id, its name, how many times it ran and the nanoseconds
 * it spent (bpf_prog_info run_cnt, run_time_ns; counted while kernel.bpf_stats_enabled=1), and
 * their quotient: the cost of one invocation of the hook, a figure that does not depend on
 * the noise of an A/B loop. One line per program: "ID NAME RUN_CNT RUN_TIME_NS NS_PER_RUN".
 */
#include <bpf/bpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int i, fd, ret = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: progcost ID...\n");
		return 2;
	}
	for (i = 1; i < argc; i++) {
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);

		fd = bpf_prog_get_fd_by_id(strtoul(argv[i], NULL, 10));
		if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len)) {
			fprintf(stderr, "progcost: program %s: %s\n", argv[i], strerror(errno));
			ret = 1;
			if (fd >= 0)
				close(fd);
			continue;
		}
		printf("%u %s %llu %llu %.1f\n", info.id, info.name,
		       (unsigned long long)info.run_cnt, (unsigned long long)info.run_time_ns,
		       info.run_cnt ? (double)info.run_time_ns / info.run_cnt : 0.0);
		close(fd);
	}
	return ret;
}
