#!/usr/bin/env bash
# Analysis benchmark: open a full dump of a 2 GiB process and print every thread's stack with
# symbols, with dumpscope and with lldb, gdb and eu-stack, on the same dumps and the same symbols
# (/usr/lib/debug, no debuginfod). Each command runs once to warm the page cache (and dumpscope's
# cache of uncompressed debug files, in the benchmark's own directory), then RUNS times; the
# table shows the median wall time (EPOCHREALTIME) and the largest peak RSS (/usr/bin/time). `--no-cache` rows
# inflate Debian's compressed DWARF on every run, as gdb, lldb and eu-stack do.
# Dumps go to /dev/shm and are deleted at the end.
# usage: bench/analysis.sh [BUILD_DIR] [SIZE_MIB] [RUNS]   (default build, 2048 MiB, 5 runs)
set -euo pipefail
build=${1:-build}
size_mib=${2:-2048}
runs=${3:-5}
unset DEBUGINFOD_URLS
lldb=$(command -v lldb-16 || command -v lldb)
dir=/dev/shm/dumpscope-analysis-bench.$$
mkdir -p "$dir"
export DUMPSCOPE_CACHE_DIR="$dir/cache"
exec 3< <("$build/fixtures/fixture_memory_hog" "$size_mib")
hog=$!
cleanup() { kill -9 "$hog" 2>/dev/null || true; rm -rf "$dir"; }
trap cleanup EXIT
read -r _ <&3
exe=$(readlink -f "$build/fixtures/fixture_memory_hog")

"$build/dumpscope" collect --quiet --type full --format core "$hog" "$dir/full.core"
"$build/dumpscope" collect --quiet --type full "$hog" "$dir/full.dmp"
gcore -o "$dir/gcore" "$hog" > /dev/null 2>&1
mv "$dir/gcore.$hog" "$dir/gcore.core"
kill -9 "$hog"

# Prints "median_seconds max_rss_kib" of RUNS runs (after one warm-up run).
measure() {
    "$@" > /dev/null 2>&1 || true
    local times=() rss=0
    for _ in $(seq "$runs"); do
        local start=$EPOCHREALTIME  # microseconds; /usr/bin/time's %e has 10 ms steps
        /usr/bin/time -f "%M" -o "$dir/time" "$@" > /dev/null 2>&1 || true
        local end=$EPOCHREALTIME
        times+=("$(echo "$end - $start" | bc -l)")
        read -r m < "$dir/time"
        (( m > rss )) && rss=$m
    done
    printf "%s %s" "$(printf "%s\n" "${times[@]}" | sort -n | sed -n "$(( (runs + 1) / 2 ))p")" "$rss"
}

row() {  # dump tool command...
    local dump=$1 tool=$2; shift 2
    read -r t m <<< "$(measure "$@")"
    printf "| %-20s | %-44s | %6.3f s | %5d MB |\n" "$dump" "$tool" "$t" $(( m / 1024 ))
}

echo "fixture_memory_hog $size_mib MiB; dumps: $(cd "$dir" && du -h --apparent-size ./*.core ./*.dmp | awk '{printf "%s %s  ", $2, $1}')"
echo "$(nproc) CPUs, $(uname -r), $runs runs each (median wall, max RSS)"
echo
echo "| dump | command | wall | peak RSS |"
echo "|---|---|---|---|"
for dump in full.core gcore.core; do
    d="$dir/$dump"
    row "$dump" "dumpscope stack --all" "$build/dumpscope" stack --all "$d"
    row "$dump" "dumpscope stack --all --no-cache" "$build/dumpscope" stack --all --no-cache "$d"
    row "$dump" "eu-stack --core (names only)" eu-stack --core "$d" --executable "$exe"
    row "$dump" "eu-stack -s -i --core (file:line, inlines)" eu-stack -s -i --core "$d" --executable "$exe"
    row "$dump" "gdb -batch -ex 'thread apply all bt'" gdb -nx -batch -ex "set debuginfod enabled off" -ex "thread apply all bt" "$exe" "$d"
    row "$dump" "lldb -b -c DUMP -o 'bt all'" "$lldb" --no-lldbinit -b -c "$d" "$exe" -o "bt all"
done
row "full.dmp" "dumpscope stack --all" "$build/dumpscope" stack --all "$dir/full.dmp"
row "full.dmp" "dumpscope stack --all --no-cache" "$build/dumpscope" stack --all --no-cache "$dir/full.dmp"
row "full.dmp" "lldb -b -c DUMP -o 'bt all'" "$lldb" --no-lldbinit -b -c "$dir/full.dmp" "$exe" -o "bt all"
