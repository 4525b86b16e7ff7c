#!/usr/bin/env bash
# Analyze benchmark (issue 12, "Performance"): a full dump of a process with about 1 GB of glibc
# heap in about a million chunks (bench/heap_records.c: linked records, strings, buffers, some
# chunks freed into tcache, fastbins and bins, some records leaked; three threads, three arenas),
# then, on the same dump, `dumpscope stack --all` (the floor: open the dump, unwind, symbolize),
# `dumpscope heap` (the heap walk and the arena summary), `dumpscope heap --stat` (the walk and
# the grouping by size and C++ class), `dumpscope analyze` (every finding, the heap walk, the
# grouping and the reachability pass included), and gdb loading an ELF core of the same process
# and printing every stack (`gdb -batch -ex 'thread apply all bt' PROGRAM CORE`).
#
# Runs are taken in interleaved rounds, as bench/run.sh and bench/clone.sh do: each round runs
# every command once, in an order rotated from round to round, after one warm-up run of each;
# each row is the median wall time of the rounds (bash EPOCHREALTIME; lowest and highest shown),
# the median CPU time (user + system, /usr/bin/time) and the largest peak RSS (/usr/bin/time -f
# %M: file pages of the mapped dump count). This VM drifts by 20-40 % within minutes, and a drift
# must not fall on one command's runs only; on a shared machine wall time includes waiting for a
# CPU, CPU time does not.
#
# Heap throughput: the heap the walk covered (the arenas' memory from the system, `dumpscope
# heap --json`) over `heap`'s median wall time, the whole command included (a lower bound on the
# walk's own rate).
#
# usage: bench/analyze.sh [BUILD_DIR] [CHUNKS]   (default build, 1000000 chunks: about 1 GB)
#   BENCH_REPS=5   rounds (the median of this many runs per row)
# Dumps go to /dev/shm (about 2.2 GB at the default size) and are deleted at the end.
set -euo pipefail
# shellcheck source=bench/common.sh
source "$(dirname "$0")/common.sh"
build=${1:-build}
chunks=${2:-${BENCH_CHUNKS:-1000000}}
reps=${BENCH_REPS:-5}
unset DEBUGINFOD_URLS
here=$(cd "$(dirname "$0")" && pwd)
dir=/dev/shm/dumpscope-analyze-bench.$$
fixture=""
cleanup() {
    if [ -n "$fixture" ]; then kill -9 "$fixture" 2>/dev/null || true; fi
    rm -rf "$dir"
}
trap cleanup EXIT
mkdir -p "$dir"
export DUMPSCOPE_CACHE_DIR="$dir/cache"
if [ ! -x /usr/bin/time ]; then
    echo "bench/analyze.sh: /usr/bin/time is missing (Debian package 'time'; make deps)" >&2
    exit 1
fi
program="$dir/heap_records"
cc -O2 -g -pthread -o "$program" "$here/heap_records.c"

ds=$(readlink -f "$build/dumpscope")
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')
echo "machine: $(nproc) CPUs, $cpu," \
     "$(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), kernel $(uname -r);" \
     "$(gdb --version | head -1);" \
     "dumpscope $(git -C "$here/.." rev-parse --short HEAD 2>/dev/null)$(git -C "$here/.." diff --quiet HEAD 2>/dev/null || echo +worktree)"

t0=$EPOCHREALTIME
exec 3< <("$program" "$chunks")
fixture=$!
read -r ready <&3
t1=$EPOCHREALTIME
rss_kib=$(awk '/VmRSS/ {print $2}' /proc/$fixture/status)
echo "fixture: bench/heap_records $chunks: $ready (built in $(printf "%.1f" "$(echo "$t1 - $t0" | bc -l)") s), RSS $((rss_kib / 1024)) MiB"

"$ds" collect --quiet --type full "$fixture" "$dir/full.dmp"
"$ds" collect --quiet --type full --format core "$fixture" "$dir/full.core"
kill -9 "$fixture"
wait "$fixture" 2>/dev/null || true
fixture=""
echo "dumps: $(cd "$dir" && du -h --apparent-size full.dmp full.core | awk '{printf "%s %s  ", $2, $1}')"

# What the walk covered: chunks and bytes, from `heap --json` (read once, not timed).
"$ds" heap --json "$dir/full.dmp" > "$dir/heap.json"
read -r heap_bytes heap_chunks arenas <<< "$(python3 -c '
import json, sys
h = json.load(open(sys.argv[1]))
arenas = h["arenas"]
system = sum(a["system_mem"] for a in arenas)
chunks = sum(a["in_use_chunks"] + a["free_chunks"] + a["cached_chunks"] for a in arenas)
print(system, chunks, len(arenas))
' "$dir/heap.json")"
echo "heap walked: $arenas arenas, $heap_chunks chunks, $(echo "$heap_bytes / 1000000" | bc) MB" \
     "from the system (arena system_mem); load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo

commands="stack heap stat analyze gdb"

label() {
    case $1 in
        stack) echo "dumpscope stack --all full.dmp" ;;
        heap) echo "dumpscope heap full.dmp" ;;
        stat) echo "dumpscope heap --stat full.dmp" ;;
        analyze) echo "dumpscope analyze full.dmp" ;;
        gdb) echo "gdb -batch -ex 'thread apply all bt' PROGRAM full.core" ;;
    esac
}

command_of() {  # NAME -> the command line, one word per line
    case $1 in
        stack) printf "%s\n" "$ds" stack --all "$dir/full.dmp" ;;
        heap) printf "%s\n" "$ds" heap "$dir/full.dmp" ;;
        stat) printf "%s\n" "$ds" heap --stat "$dir/full.dmp" ;;
        analyze) printf "%s\n" "$ds" analyze "$dir/full.dmp" ;;
        gdb) printf "%s\n" gdb -nx -batch -ex "set debuginfod enabled off" \
                 -ex "thread apply all bt" "$program" "$dir/full.core" ;;
    esac
}

measure_once() {  # COMMAND... -> "wall_s rss_kib cpu_s", or "failed: LINE"
    local start end status=0
    start=$EPOCHREALTIME
    /usr/bin/time -f "%M %U %S" -o "$dir/time" "$@" > "$dir/out" 2> "$dir/err" || status=$?
    end=$EPOCHREALTIME
    if [ "$status" -ne 0 ]; then
        echo "failed: $(tail -1 "$dir/err")"
        return
    fi
    echo "$(echo "$end - $start" | bc -l) $(tail -1 "$dir/time" | awk '{print $1, $2 + $3}')"
}

declare -A runs=() wall=() cpu=()
read -r -a order <<< "$commands"
for name in $commands; do  # warm-up: page cache, debug-file cache
    mapfile -t command < <(command_of "$name")
    measure_once "${command[@]}" > /dev/null
done
for ((round = 0; round < reps; ++round)); do
    for ((i = 0; i < ${#order[@]}; ++i)); do
        name=${order[(i + round) % ${#order[@]}]}
        mapfile -t command < <(command_of "$name")
        runs[$name]+="$(measure_once "${command[@]}")"$'\n'
    done
done

echo "median of $reps interleaved rounds (after a warm-up run of each);" \
     "load average afterwards $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| command | wall: median (min-max) | CPU (user+sys, median) | peak RSS (max) |"
echo "|---|---|---|---|"
for name in $commands; do
    r=$(sed '/^$/d' <<< "${runs[$name]}")
    if grep -q '^failed:' <<< "$r"; then
        printf "| %s | %s | | |\n" "$(label "$name")" "$(grep -m1 '^failed:' <<< "$r")"
        continue
    fi
    wall[$name]=$(awk '{print $1}' <<< "$r" | median)
    low=$(awk '{print $1}' <<< "$r" | sort -g | head -1)
    high=$(awk '{print $1}' <<< "$r" | sort -g | tail -1)
    rss=$(awk '{print $2}' <<< "$r" | sort -g | tail -1)
    cpu[$name]=$(awk '{print $3}' <<< "$r" | median)
    printf "| %s | %.3f s (%.3f-%.3f) | %.2f s | %d MB |\n" "$(label "$name")" "${wall[$name]}" \
        "$low" "$high" "${cpu[$name]}" $((rss / 1024))
done
echo
if [ -n "${wall[heap]:-}" ] && [ -n "${wall[stack]:-}" ] && [ -n "${wall[analyze]:-}" ]; then
    printf "heap throughput: %.2f GB/s of heap (%.0f MB in %.3f s, the whole \`heap\` command)\n" \
        "$(echo "$heap_bytes / ${wall[heap]} / 1000000000" | bc -l)" \
        "$(echo "$heap_bytes / 1000000" | bc -l)" "${wall[heap]}"
    printf "heap throughput by CPU time: %.2f GB/s (%.2f s of CPU)\n" \
        "$(echo "$heap_bytes / ${cpu[heap]} / 1000000000" | bc -l)" "${cpu[heap]}"
    printf "analyze budget (3 x stack --all + heap): wall %.3f s, analyze %.3f s;" \
        "$(echo "3 * ${wall[stack]} + ${wall[heap]}" | bc -l)" "${wall[analyze]}"
    printf " CPU %.2f s, analyze %.2f s\n" \
        "$(echo "3 * ${cpu[stack]} + ${cpu[heap]}" | bc -l)" "${cpu[analyze]}"
fi
