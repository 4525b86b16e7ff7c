#!/usr/bin/env bash
# Capture benchmark: the same fixture dumped by gcore and by dumpscope (both formats), to tmpfs
# and to disk. Reports wall time, throughput, how long the target was stopped (the longest gap
# in its 1 ms heartbeat, seen from outside by pause_meter) and file size on disk.
#
# Runs are taken in interleaved rounds, as bench/clone.sh does: each round runs every tool once,
# in an order rotated from round to round, and each row is the median of the rounds (with the
# lowest and highest wall time). On a small, shared VM one tool's time moves by 2x within
# minutes (gcore: 2.25 s and 0.92 s for the same 2 GiB, minutes apart), so one run per tool in
# sequence compares the machine's moods, not the tools.
#
# usage: bench/run.sh [BUILD_DIR] [SIZE_MIB]   (default 2048 MiB)
#   BENCH_REPS=5     rounds (the median of this many runs per row)
#   BENCH_TARGETS="tmpfs disk"
set -euo pipefail
# shellcheck source=bench/common.sh
source "$(dirname "$0")/common.sh"
build=${1:-build}
size_mib=${2:-${BENCH_SIZE_MIB:-2048}}
reps=${BENCH_REPS:-5}
targets=${BENCH_TARGETS:-tmpfs disk}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/dumpscope-bench-XXXXXX)
meter="$work/pause_meter"
cc -O2 -o "$meter" "$here/pause_meter.c"

tmpfs_dir=/dev/shm/dumpscope-bench.$$
disk_dir=/var/tmp/dumpscope-bench.$$
mkdir -p "$tmpfs_dir" "$disk_dir"
exec 3< <("$build/fixtures/fixture_memory_hog" "$size_mib")
hog=$!
cleanup() { kill -9 "$hog" 2>/dev/null || true; rm -rf "$tmpfs_dir" "$disk_dir" "$work"; }
trap cleanup EXIT
read -r ready <&3
heartbeat=$(echo "$ready" | sed -E 's/.*"heartbeat":([0-9]+).*/\1/')
rss_kib=$(awk '/VmRSS/ {print $2}' /proc/$hog/status)

tools="gcore minidump core"

tool_label() {
    case $1 in
        gcore) echo "gcore" ;;
        minidump) echo "dumpscope collect --type full (minidump)" ;;
        core) echo "dumpscope collect --type full --format core" ;;
    esac
}

tool_command() {  # TOOL DIR -> the command line, one word per line
    case $1 in
        gcore) printf "%s\n" gcore -o "$2/gcore" "$hog" ;;
        minidump) printf "%s\n" "$build/dumpscope" collect --quiet --type full "$hog" "$2/" ;;
        core) printf "%s\n" "$build/dumpscope" collect --quiet --type full --format core "$hog" "$2/" ;;
    esac
}

measure_once() {  # DIR COMMAND... -> "gap_ms wall_s bytes disk_bytes" or "failed: LINE"
    local dir=$1
    shift
    rm -rf "${dir:?}"/* 2>/dev/null || true
    sync
    "$meter" "$hog" "$heartbeat" 600 > "$work/gap" &
    local meter_pid=$!
    sleep 0.5
    local t0 t1 out status=0
    t0=$(date +%s.%N)
    out=$("$@" 2>&1) || status=$?
    t1=$(date +%s.%N)
    sleep 0.3
    kill -INT "$meter_pid" 2>/dev/null || true
    wait "$meter_pid" 2>/dev/null || true
    if [ "$status" -ne 0 ]; then
        echo "failed: $(echo "$out" | tail -1)"
        return
    fi
    local gap file
    gap=$(awk '{print $2}' "$work/gap" 2>/dev/null)
    file=$(find "$dir" -maxdepth 1 -type f | head -1)
    echo "${gap:-nan} $(echo "$t1 - $t0" | bc -l) $(stat -c %s "$file")" \
         "$(( $(stat -c %b "$file") * 512 ))"
    rm -rf "${dir:?}"/*
}

print_row() {  # TOOL TARGET RUNS  (RUNS: measure_once lines, one per round)
    local tool=$1 target=$2 runs=$3
    if grep -q '^failed:' <<< "$runs"; then
        printf "| %-43s | %-5s | %s | | | | | |\n" "$(tool_label "$tool")" "$target" \
            "$(grep -m1 '^failed:' <<< "$runs")"
        return
    fi
    local gap wall low high bytes disk rate
    gap=$(awk '{print $1}' <<< "$runs" | median)
    wall=$(awk '{print $2}' <<< "$runs" | median)
    low=$(awk '{print $2}' <<< "$runs" | sort -g | head -1)
    high=$(awk '{print $2}' <<< "$runs" | sort -g | tail -1)
    bytes=$(tail -1 <<< "$runs" | awk '{print $3}')
    disk=$(tail -1 <<< "$runs" | awk '{print $4}')
    rate=$(echo "$rss_kib * 1024 / $wall / 1000000" | bc -l)
    printf "| %-43s | %-5s | %7.2f s (%.2f-%.2f) | %7.0f MB/s | %9s ms | %6.0f MiB | %6.0f MiB |\n" \
        "$(tool_label "$tool")" "$target" "$wall" "$low" "$high" "$rate" "$gap" \
        "$(echo "$bytes/1048576" | bc -l)" "$(echo "$disk/1048576" | bc -l)"
}

echo "fixture: $size_mib MiB of non-zero anonymous memory, RSS $((rss_kib / 1024)) MiB;" \
     "$(nproc) cores; $(uname -r); load average $(cut -d' ' -f1-3 /proc/loadavg);" \
     "median of $reps interleaved rounds"
echo
echo "| tool | to | wall: median (min-max) | throughput (RSS/median wall) | target stopped (median max heartbeat gap) | file size | on disk |"
echo "|---|---|---|---|---|---|---|"
for target in $targets; do
    dir=$tmpfs_dir; [ "$target" = disk ] && dir=$disk_dir
    declare -A runs=()
    read -r -a order <<< "$tools"
    for ((round = 0; round < reps; ++round)); do
        # Rotate the order so that no tool always runs right after the same other one.
        for ((i = 0; i < ${#order[@]}; ++i)); do
            tool=${order[(i + round) % ${#order[@]}]}
            mapfile -t command < <(tool_command "$tool" "$dir")
            runs[$tool]+="$(measure_once "$dir" "${command[@]}")"$'\n'
        done
    done
    for tool in $tools; do print_row "$tool" "$target" "$(sed '/^$/d' <<< "${runs[$tool]}")"; done
    unset runs
done
