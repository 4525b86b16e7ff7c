# Shell functions the benchmark scripts share (sourced, not run).

median() {  # the middle of the numbers on stdin (the lower middle for an even count)
    sort -g | awk '{v[NR] = $1} END {if (NR) print v[int((NR + 1) / 2)]}'
}
