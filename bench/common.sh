# SPDX-License-Identifier: GPL-2.0-only
#
# Shared by bench/parts/*.sh (sourced): statistics over repeated runs.

# median_minmax FILE: one number per line -> "median (min–max)"; formatted with %.*f, digits $2.
median_minmax() {
	sort -g "$1" | awk -v d="${2:-1}" '{ v[NR] = $1 } END {
		if (NR == 0) { print "n/a"; exit }
		m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%.*f (%.*f–%.*f)\n", d, m, d, v[1], d, v[NR] }'
}

# median FILE: the median alone.
median() {
	sort -g "$1" | awk '{ v[NR] = $1 } END { if (NR == 0) { print "nan"; exit }
		print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
