#!/usr/bin/env bash
# Overhead of a waiting `dumpscope collect --crash` monitor on the process it watches: the same
# workload run alone and under the monitor, alternately, RUNS times each; the median of the
# workload's own timing (from "go" to done, so attaching is not counted), median and minimum
# (on a shared machine the minimum is the least disturbed run). Prints a Markdown table for
# bench/RESULTS.md ("Trigger overhead (issue 4)"); each run's times go to stderr.
# usage: bench/crash_overhead.sh [BUILD_DIR] [RUNS]   (default build, 11)
set -euo pipefail
build=${1:-build}
runs=${2:-11}
here=$(cd "$(dirname "$0")" && pwd)
dumpscope="$build/dumpscope"
work=$(mktemp -d /dev/shm/dumpscope-overhead-XXXXXX)
cleanup() {
    for pid in ${workload_pid:-} ${monitor_pid:-}; do kill -9 "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
cc -O2 -o "$work/workload" "$here/trigger_workload.c"
mkdir -p "$work/dumps"

wait_for() {  # file text: up to 30 s
    for _ in $(seq 300); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
    echo "timed out waiting for '$2' in $1" >&2; return 1
}

run_once() {  # mode monitored(0|1) -> prints the workload's milliseconds
    local mode=$1 monitored=$2
    rm -f "$work/in" "$work/out" "$work/monitor"
    mkfifo "$work/in"
    "$work/workload" "$mode" < "$work/in" > "$work/out" &
    workload_pid=$!
    exec 3> "$work/in"
    wait_for "$work/out" ready
    if [ "$monitored" = 1 ]; then
        "$dumpscope" collect --crash "$workload_pid" "$work/dumps" > "$work/monitor" 2>&1 &
        monitor_pid=$!
        wait_for "$work/monitor" monitoring
    fi
    echo go >&3
    exec 3>&-
    wait "$workload_pid"
    workload_pid=
    if [ "$monitored" = 1 ]; then
        wait "$monitor_pid" || true  # exits 1: the process ended before any crash
        monitor_pid=
    fi
    tail -n 1 "$work/out"
}

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
minimum() { sort -n | head -n 1; }
percent() { awk -v a="$1" -v m="$2" 'BEGIN { printf "%+.1f %%", (m - a) * 100 / a }'; }

echo "| workload | runs | alone: median / min | under --crash: median / min | overhead: median / min |"
echo "|---|---|---|---|---|"
for mode in cpu syscall signal; do
    : > "$work/alone"; : > "$work/monitored"
    for _ in $(seq "$runs"); do
        run_once "$mode" 0 >> "$work/alone"
        run_once "$mode" 1 >> "$work/monitored"
    done
    alone=$(median < "$work/alone"); alone_min=$(minimum < "$work/alone")
    monitored=$(median < "$work/monitored"); monitored_min=$(minimum < "$work/monitored")
    echo "| $mode | $runs | $alone / $alone_min ms | $monitored / $monitored_min ms |" \
         "$(percent "$alone" "$monitored") / $(percent "$alone_min" "$monitored_min") |"
    echo "  $mode alone: $(tr '\n' ' ' < "$work/alone")" >&2
    echo "  $mode monitored: $(tr '\n' ' ' < "$work/monitored")" >&2
done
