#!/usr/bin/env bash
# Compression benchmark (issue 13): the same process with a server-like heap (bench/realistic_heap.c:
# records with pointers and strings, log text, random bytes, untouched allocations) dumped by
# gcore, by gcore followed by `zstd -3 -T0` (what users do today), by `dumpscope collect --type
# full` plain and `--compress`, to tmpfs and to disk; `zstd -1 -T0` and `zstd -3 -T0` of the plain
# dumpscope dump alone (compression's floor on this machine, and the size to compare with). Then
# `stack --all` and `analyze` on the plain and the compressed dump (wall time and peak RSS from
# /usr/bin/time).
#
# Interleaved rounds as in bench/run.sh: each round runs every row once, in an order rotated
# from round to round; each row is the median of the rounds (with the lowest and highest wall
# time), because this small shared VM drifts by 20-40 % within minutes.
#
# usage: bench/compress.sh [BUILD_DIR] [SIZE_MIB]   (default build, 1024 MiB)
#   BENCH_REPS=5     rounds
#   BENCH_TARGETS="tmpfs disk"
set -euo pipefail
# shellcheck source=bench/common.sh
source "$(dirname "$0")/common.sh"
build=${1:-build}
size_mib=${2:-${BENCH_SIZE_MIB:-1024}}
reps=${BENCH_REPS:-5}
targets=${BENCH_TARGETS:-tmpfs disk}
here=$(cd "$(dirname "$0")" && pwd)
ds=$(readlink -f "$build/dumpscope")
work=$(mktemp -d /tmp/dumpscope-bench-XXXXXX)
cc -O2 -o "$work/pause_meter" "$here/pause_meter.c"
cc -O2 -g -o "$work/realistic_heap" "$here/realistic_heap.c" -lpthread
unset DEBUGINFOD_URLS

tmpfs_dir=/dev/shm/dumpscope-bench.$$
disk_dir=/var/tmp/dumpscope-bench.$$
mkdir -p "$tmpfs_dir" "$disk_dir"
exec 3< <("$work/realistic_heap" "$size_mib")
heap=$!
cleanup() { kill -9 "$heap" 2>/dev/null || true; rm -rf "$tmpfs_dir" "$disk_dir" "$work"; }
trap cleanup EXIT
read -r ready <&3
heartbeat=$(echo "$ready" | sed -E 's/.*"heartbeat":([0-9]+).*/\1/')
rss_kib=$(awk '/VmRSS/ {print $2}' /proc/$heap/status)

# A plain dump to compress with the zstd CLI alone (kept in the work directory on tmpfs).
plain_ref=$tmpfs_dir/ref.dmp
"$ds" collect --quiet --type full "$heap" "$plain_ref.tmp"
mv "$plain_ref.tmp" "$work/ref.dmp"
plain_ref=$work/ref.dmp

rows="gcore gcore_zstd3 ds_plain ds_zst zstd1 zstd3"
row_label() {
    case $1 in
        gcore) echo "gcore" ;;
        gcore_zstd3) echo "gcore, then zstd -3 -T0 --rm" ;;
        ds_plain) echo "dumpscope collect --type full" ;;
        ds_zst) echo "dumpscope collect --type full --compress" ;;
        zstd1) echo "zstd -1 -T0 of the plain dump (alone)" ;;
        zstd3) echo "zstd -3 -T0 of the plain dump (alone)" ;;
    esac
}

run_row() {  # ROW DIR: runs it, leaves its one output file in DIR
    case $1 in
        gcore) gcore -o "$2/gcore" "$heap" > /dev/null 2>&1 ;;
        gcore_zstd3) gcore -o "$2/gcore" "$heap" > /dev/null 2>&1 &&
            zstd -q -3 -T0 --rm "$2/gcore.$heap" ;;
        ds_plain) "$ds" collect --quiet --type full "$heap" "$2/" ;;
        ds_zst) "$ds" collect --quiet --type full --compress "$heap" "$2/" ;;
        zstd1) zstd -q -1 -T0 -f "$plain_ref" -o "$2/ref.dmp.zst" ;;
        zstd3) zstd -q -3 -T0 -f "$plain_ref" -o "$2/ref.dmp.zst" ;;
    esac
}

measure_once() {  # ROW DIR -> "gap_ms wall_s bytes disk_bytes" or "failed"
    local row=$1 dir=$2
    rm -rf "${dir:?}"/* 2>/dev/null || true
    sync
    "$work/pause_meter" "$heap" "$heartbeat" 600 > "$work/gap" &
    local meter_pid=$!
    sleep 0.3
    local t0 t1 status=0
    t0=$(date +%s.%N)
    run_row "$row" "$dir" || status=$?
    if [ "$status" -eq 0 ]; then sync -f "$dir"/* 2>/dev/null || true; fi
    t1=$(date +%s.%N)
    sleep 0.2
    kill -INT "$meter_pid" 2>/dev/null || true
    wait "$meter_pid" 2>/dev/null || true
    if [ "$status" -ne 0 ]; then
        echo "failed"
        return
    fi
    local gap file
    gap=$(awk '{print $2}' "$work/gap" 2>/dev/null)
    case $row in zstd1 | zstd3) gap=- ;; esac
    file=$(find "$dir" -maxdepth 1 -type f | head -1)
    echo "${gap:-nan} $(echo "$t1 - $t0" | bc -l) $(stat -c %s "$file")" \
         "$(( $(stat -c %b "$file") * 512 ))"
    rm -rf "${dir:?}"/*
}

print_row() {  # ROW TARGET RUNS
    local row=$1 target=$2 runs=$3
    if grep -q '^failed' <<< "$runs"; then
        printf "| %-42s | %-5s | failed | | | |\n" "$(row_label "$row")" "$target"
        return
    fi
    local gap wall low high bytes disk
    gap=$(awk '{print $1}' <<< "$runs" | median)
    wall=$(awk '{print $2}' <<< "$runs" | median)
    low=$(awk '{print $2}' <<< "$runs" | sort -g | head -1)
    high=$(awk '{print $2}' <<< "$runs" | sort -g | tail -1)
    bytes=$(tail -1 <<< "$runs" | awk '{print $3}')
    disk=$(tail -1 <<< "$runs" | awk '{print $4}')
    printf "| %-42s | %-5s | %6.2f s (%.2f-%.2f) | %8s ms | %7.1f MiB | %7.1f MiB |\n" \
        "$(row_label "$row")" "$target" "$wall" "$low" "$high" "$gap" \
        "$(echo "$bytes/1048576" | bc -l)" "$(echo "$disk/1048576" | bc -l)"
}

echo "process: bench/realistic_heap $size_mib MiB (RSS $((rss_kib / 1024)) MiB); $(nproc) cores;" \
     "$(uname -r); load average $(cut -d' ' -f1-3 /proc/loadavg); median of $reps interleaved" \
     "rounds; the files are synced before the clock stops"
echo
echo "| what | to | wall: median (min-max) | target stopped (max heartbeat gap) | file size | on disk |"
echo "|---|---|---|---|---|---|"
for target in $targets; do
    dir=$tmpfs_dir
    [ "$target" = disk ] && dir=$disk_dir
    declare -A runs=()
    read -r -a order <<< "$rows"
    for ((round = 0; round < reps; ++round)); do
        for ((i = 0; i < ${#order[@]}; ++i)); do
            row=${order[(i + round) % ${#order[@]}]}
            runs[$row]+="$(measure_once "$row" "$dir")"$'\n'
        done
    done
    for row in $rows; do print_row "$row" "$target" "$(sed '/^$/d' <<< "${runs[$row]}")"; done
    unset runs
done

# Reading: the plain and the compressed dump of the same moment (the compressed one converted
# from the plain one, so both hold the same bytes), on tmpfs.
"$ds" convert --quiet "$plain_ref" "$tmpfs_dir/read.dmp.zst"
cp --sparse=always "$plain_ref" "$tmpfs_dir/read.dmp"
echo
echo "| command | dump | wall: median (min-max) | peak RSS (median) |"
echo "|---|---|---|---|"
declare -A reads=()
commands=("stack --all" "analyze")
for ((round = 0; round < reps; ++round)); do
    for ((i = 0; i < 4; ++i)); do
        k=$(((i + round) % 4))
        command=${commands[k / 2]}
        dump=$tmpfs_dir/read.dmp
        ((k % 2)) && dump=$tmpfs_dir/read.dmp.zst
        # shellcheck disable=SC2086
        /usr/bin/time -f "%e %M" -o "$work/time" "$ds" $command "$dump" > /dev/null 2>&1 || true
        reads["$k"]+="$(cat "$work/time")"$'\n'
    done
done
for k in 0 1 2 3; do
    command=${commands[k / 2]}
    kind=plain
    ((k % 2)) && kind=".zst (seekable, level 1)"
    runs=$(sed '/^$/d' <<< "${reads[$k]}")
    printf "| %s | %s | %.2f s (%.2f-%.2f) | %.0f MB |\n" "$command" "$kind" \
        "$(awk '{print $1}' <<< "$runs" | median)" \
        "$(awk '{print $1}' <<< "$runs" | sort -g | head -1)" \
        "$(awk '{print $1}' <<< "$runs" | sort -g | tail -1)" \
        "$(echo "$(awk '{print $2}' <<< "$runs" | median) / 1024" | bc -l)"
done
