#!/usr/bin/env bash
# Capture benchmark: the same fixture dumped by gcore and by dumpscope (both formats), to
# tmpfs and to disk. Reports wall time, throughput, how long the target was stopped (the
# longest gap in its 1 ms heartbeat, seen from outside) and file size on disk.
# usage: bench/run.sh [BUILD_DIR] [SIZE_MIB]   (default 2048 MiB)
set -euo pipefail
build=${1:-build}
size_mib=${2:-${BENCH_SIZE_MIB:-2048}}
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

run_one() {  # name dir label command...
    local name=$1 dir=$2 label=$3; shift 3
    rm -f "$dir"/*; sync
    "$meter" "$hog" "$heartbeat" 600 > "$work/gap" & local meter_pid=$!
    sleep 0.5
    local t0 t1
    t0=$(date +%s.%N)
    "$@" > /dev/null 2>&1
    t1=$(date +%s.%N)
    sleep 0.3
    kill -INT $meter_pid 2>/dev/null; wait $meter_pid 2>/dev/null || true
    local gap file bytes disk wall rate
    gap=$(awk '{print $2}' "$work/gap" 2>/dev/null); gap=${gap:-n/a}
    file=$(ls -1 "$dir" | head -1)
    bytes=$(stat -c %s "$dir/$file"); disk=$(( $(stat -c %b "$dir/$file") * 512 ))
    wall=$(echo "$t1 - $t0" | bc -l)
    rate=$(echo "$rss_kib * 1024 / $wall / 1000000" | bc -l)
    printf "| %-36s | %-5s | %7.2f s | %7.0f MB/s | %9s ms | %6.0f MiB | %6.0f MiB |\n" \
        "$name" "$label" "$wall" "$rate" "$gap" "$(echo "$bytes/1048576" | bc -l)" "$(echo "$disk/1048576" | bc -l)"
}
echo "fixture: $size_mib MiB of non-zero anonymous memory, RSS $((rss_kib / 1024)) MiB; $(nproc) cores; $(uname -r)"
echo
echo "| tool | to | wall | throughput (RSS/wall) | target stopped (max heartbeat gap) | file size | on disk |"
echo "|---|---|---|---|---|---|---|"
for target in tmpfs disk; do
    dir=$tmpfs_dir; [ $target = disk ] && dir=$disk_dir
    run_one "gcore" "$dir" $target gcore -o "$dir/gcore" "$hog"
    run_one "dumpscope collect --type full (minidump)" "$dir" $target "$build/dumpscope" collect --quiet --type full "$hog" "$dir/"
    run_one "dumpscope collect --type full --format core" "$dir" $target "$build/dumpscope" collect --quiet --type full --format core "$hog" "$dir/"
done
