#!/usr/bin/env bash
# How the pause of a dump grows with the number of mappings (issue 11, item 3): a mini dump of a
# process holding N one-page mappings, with --clone and with a plain ptrace dump, in interleaved
# rounds; each row is the median of BENCH_REPS (default 3) pauses as dumpscope reports them.
# Raises vm.max_map_count for the run (root) and puts it back.
#
# usage: bench/clone_mappings.sh [BUILD_DIR] [N ...]     (default: build 20000 60000 150000)
set -euo pipefail
build=${1:-build}
shift || true
counts=${*:-20000 60000 150000}
reps=${BENCH_REPS:-3}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/dumpscope-mappings-bench-XXXXXX)
old_max=$(cat /proc/sys/vm/max_map_count)
fixture=""
cleanup() {
    if [ -n "$fixture" ]; then kill -9 "$fixture" 2>/dev/null || true; fi
    echo "$old_max" > /proc/sys/vm/max_map_count
    rm -rf "$work"
}
trap cleanup EXIT
cc -O2 -o "$work/many_mappings" "$here/many_mappings.c"
echo 400000 > /proc/sys/vm/max_map_count

pause_of() {  # pid mode -> the pause dumpscope reports, in ms
    local extra=""
    [ "$2" = clone ] && extra=--clone
    "$build/dumpscope" collect --type mini $extra --verbose --overwrite "$1" "$work/dump.dmp" 2>&1 |
        grep -o 'paused [0-9.]* ms' | head -1 | awk '{print $2}'
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

echo "machine: $(nproc) CPUs, kernel $(uname -r); load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| mappings | --clone pause (median of $reps) | ptrace pause (median of $reps) |"
echo "|---|---|---|"
for n in $counts; do
    "$work/many_mappings" "$n" > "$work/ready" &
    fixture=$!
    until grep -q ready "$work/ready" 2>/dev/null; do sleep 0.05; done
    maps=$(wc -l < /proc/$fixture/maps)
    : > "$work/clone"; : > "$work/ptrace"
    for ((r = 0; r < reps; ++r)); do
        for mode in clone ptrace; do pause_of "$fixture" "$mode" >> "$work/$mode"; done
    done
    printf '| %s | %s ms | %s ms |\n' "$maps" "$(median < "$work/clone")" "$(median < "$work/ptrace")"
    kill -9 "$fixture"; wait "$fixture" 2>/dev/null || true
    fixture=""
done
