#!/usr/bin/env bash
# Clone-dump benchmark (issue 5). The same fixture dumped by gcore, Debian's procdump 1.2 (which
# runs gcore), `dumpscope collect --type full` and `dumpscope collect --type full --clone`, to
# tmpfs and to disk, at 1 GiB and 4 GiB, with 4 KiB pages and with transparent huge pages.
# Columns: the pause as the target felt it (the longest gap between two stamps of its own 1 ms
# heartbeat thread, kept by the fixture itself and read by felt_pause, which takes no CPU
# meanwhile: stopped, then waiting for a CPU after the resume), the pause dumpscope reports, and
# for --clone the pause dumpscope reports as the target felt it (its pause plus the longest
# run-queue wait of the target's threads after the resume, from /proc schedstat), wall time,
# throughput (RSS / wall), file size and disk usage. Per fixture also the bare fork() time of a process holding the same
# memory (fork_time.c): the floor for any copy-on-write clone (median of 3 right after each clone
# row, and min/median/max of 5 per fixture at the end).
#
# usage: bench/clone.sh [BUILD_DIR] [SIZE_MIB ...]          (default: build 1024 4096)
#   BENCH_PAGES="4k thp"  BENCH_TARGETS="tmpfs disk"  BENCH_TOOLS="gcore procdump dumpscope clone"
#   BENCH_REPS=3: each row is the median of this many runs, taken in rounds of every tool in turn
#   (wall time and pauses move by 10-40 % within minutes on a small VM; one run per row, or one
#   tool's runs back to back, cannot tell a 10 % difference)
# Disk rows (/var/tmp) are skipped with a note when it has less than 12 GiB free.
set -euo pipefail
# shellcheck source=bench/common.sh
source "$(dirname "$0")/common.sh"
build=${1:-build}
shift || true
sizes=${*:-1024 4096}
pages=${BENCH_PAGES:-4k thp}
targets=${BENCH_TARGETS:-tmpfs disk}
tools=${BENCH_TOOLS:-gcore procdump dumpscope clone}
reps=${BENCH_REPS:-3}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/dumpscope-clone-bench-XXXXXX)
tmpfs_dir=/dev/shm/dumpscope-clone-bench.$$
disk_dir=/var/tmp/dumpscope-clone-bench.$$
hog=""
cleanup() {
    if [ -n "$hog" ]; then kill -9 "$hog" 2>/dev/null || true; fi
    rm -rf "$tmpfs_dir" "$disk_dir" "$work"
}
trap cleanup EXIT
mkdir -p "$tmpfs_dir" "$disk_dir"
cc -O2 -o "$work/felt_pause" "$here/felt_pause.c"
cc -O2 -o "$work/fork_time" "$here/fork_time.c"

free_gib=$(( $(df --output=avail -k /var/tmp | tail -1) / 1048576 ))
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')
echo "machine: $(nproc) CPUs, $cpu," \
     "$(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), kernel $(uname -r)," \
     "THP $(sed -E 's/.*\[(.*)\].*/\1/' /sys/kernel/mm/transparent_hugepage/enabled)" \
     "(defrag $(sed -E 's/.*\[(.*)\].*/\1/' /sys/kernel/mm/transparent_hugepage/defrag))"
procdump_version=$(dpkg-query -W -f='${Version}' procdump 2>/dev/null || echo "?")
echo "tools: $(gdb --version | head -1), procdump $procdump_version," \
     "dumpscope $(git -C "$here/.." rev-parse --short HEAD 2>/dev/null)+worktree;" \
     "load average $(cut -d' ' -f1-3 /proc/loadavg); /var/tmp free: ${free_gib} GiB"
if [[ $targets == *disk* && $free_gib -lt 12 ]]; then
    echo "note: less than 12 GiB free on /var/tmp: the disk rows are skipped"
    targets=${targets//disk/}
fi
echo

start_hog() {  # MIB PAGES
    local extra=""
    if [ "$2" = thp ]; then extra=thp; fi
    exec 3< <("$build/fixtures/fixture_memory_hog" "$1" $extra)
    hog=$!
    local ready
    read -r ready <&3
    max_gap=$(echo "$ready" | sed -E 's/.*"heartbeat_max_gap_ns":([0-9]+).*/\1/')
    rss_kib=$(awk '/VmRSS/ {print $2}' /proc/$hog/status)
    huge_mib=$(( $(awk '/AnonHugePages/ {print $2}' /proc/$hog/smaps_rollup) / 1024 ))
}

stop_hog() {
    kill -9 "$hog" 2>/dev/null || true
    wait "$hog" 2>/dev/null || true
    hog=""
}

to_ms() {  # "23 ms" / "1.4 s" -> milliseconds
    awk '{ if ($2 == "s") print $1 * 1000; else print $1 }'
}

measure_once() {  # DIR COMMAND... -> "gap_ms reported_ms wall_s bytes disk_bytes felt_ms"
    #                                   or "failed: LINE"
    local dir=$1
    shift
    rm -rf "${dir:?}"/* "$dir"/.[!.]* 2>/dev/null || true
    sync
    "$work/felt_pause" "$hog" "$max_gap" 900 > "$work/gap" &
    local meter=$!
    sleep 0.5
    local t0 t1 out status=0
    t0=$(date +%s.%N)
    out=$("$@" 2>&1) || status=$?
    t1=$(date +%s.%N)
    sleep 0.3
    kill -INT "$meter" 2>/dev/null || true
    wait "$meter" 2>/dev/null || true
    if [ "$status" -ne 0 ]; then
        echo "failed: $(echo "$out" | tail -1)"
        return
    fi
    local gap reported felt file
    gap=$(awk '{print $2}' "$work/gap" 2>/dev/null)
    reported=$(echo "$out" | sed -nE 's/^target paused ([0-9.]+ m?s).*/\1/p' | head -1)
    # --verbose (clone only): "... paused up to 31.2 ms as the target felt it", or no wait
    felt=$(echo "$out" | sed -nE 's/.*paused (up to|at least) ([0-9.]+) ms as the target felt.*/\2/p' \
           | head -1)
    if [ -z "$felt" ] && grep -q 'ran again without waiting for a CPU' <<< "$out"; then
        felt=$(echo "$reported" | to_ms)
    fi
    file=$(find "$dir" -maxdepth 1 -type f | head -1)
    echo "${gap:-nan} $(if [ -n "$reported" ]; then echo "$reported" | to_ms; else echo -; fi)" \
         "$(echo "$t1 - $t0" | bc -l) $(stat -c %s "$file") $(( $(stat -c %b "$file") * 512 ))" \
         "${felt:--}"
    rm -rf "${dir:?}"/*
}

tool_command() {  # TOOL DIR -> the command line, one word per line
    case $1 in
        gcore) printf "%s\n" gcore -o "$2/core" "$hog" ;;
        procdump) printf "%s\n" procdump -p "$hog" -o "$2/" ;;
        dumpscope) printf "%s\n" "$build/dumpscope" collect --type full "$hog" "$2/" ;;
        clone) printf "%s\n" "$build/dumpscope" collect --verbose --type full --clone "$hog" "$2/" ;;
    esac
}

tool_label() {
    case $1 in
        gcore) echo "gcore" ;;
        procdump) echo "procdump -p" ;;
        dumpscope) echo "dumpscope --type full" ;;
        clone) echo "dumpscope --type full --clone" ;;
    esac
}

print_row() {  # SIZE PAGES TOOL TARGET RUNS  (RUNS: measure_once lines, one per round)
    local size=$1 page=$2 tool=$3 target=$4 runs=$5 label
    label=$(tool_label "$tool")
    if grep -q '^failed:' <<< "$runs"; then
        printf "| %s MiB | %s | %s | %s | %s | | | | | | | |\n" "$size" "$page" "$label" \
            "$target" "$(grep -m1 '^failed:' <<< "$runs")"
        return
    fi
    local gap reported felt wall bytes disk rate
    gap=$(awk '{print $1}' <<< "$runs" | median)
    reported=$(awk '$2 != "-" {print $2}' <<< "$runs" | median)
    felt=$(awk '$6 != "-" {print $6}' <<< "$runs" | median)
    wall=$(awk '{print $3}' <<< "$runs" | median)
    bytes=$(tail -1 <<< "$runs" | awk '{print $4}')
    disk=$(tail -1 <<< "$runs" | awk '{print $5}')
    rate=$(echo "$rss_kib * 1024 / $wall / 1000000" | bc -l)
    # For the clone, the bare fork() of a same-sized process right after the rounds: this
    # machine's load moves fork times by 2-3x within minutes, so only a paired figure is fair.
    local fork="-"
    if [ "$tool" = clone ]; then
        fork="$("$work/fork_time" "$size" "$page" 3 | awk '{print $3}') ms"
    fi
    local shown="-" felt_shown="-"
    if [ -n "$reported" ]; then shown=$(printf "%.1f ms" "$reported"); fi
    if [ -n "$felt" ]; then felt_shown=$(printf "%.1f ms" "$felt"); fi
    local row="| %s MiB | %s | %s | %s | %.1f ms | %s | %s | %s | %.2f s | %.0f MB/s | %.0f MiB |"
    printf "$row %.0f MiB |\n" \
        "$size" "$page" "$label" "$target" "$gap" "$shown" "$felt_shown" "$fork" "$wall" "$rate" \
        "$(echo "$bytes / 1048576" | bc -l)" "$(echo "$disk / 1048576" | bc -l)"
}

echo "| fixture | pages | tool | to | pause felt (target's longest heartbeat gap) |" \
     "pause reported | felt pause reported | bare fork() just after | wall |" \
     "throughput (RSS/wall) | file size | on disk |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
forks=()
for size in $sizes; do
    for page in $pages; do
        start_hog "$size" "$page"
        for target in $targets; do
            dir=$tmpfs_dir
            if [ "$target" = disk ]; then dir=$disk_dir; fi
            # Rounds of every tool in turn, not each tool's runs back to back: this VM drifts
            # by 20-40 % within minutes, and a drift must not fall on one tool's runs only.
            declare -A runs=()
            for _ in $(seq "$reps"); do
                for tool in $tools; do
                    mapfile -t command < <(tool_command "$tool" "$dir")
                    runs[$tool]+="$(measure_once "$dir" "${command[@]}")"$'\n'
                done
            done
            for tool in $tools; do
                print_row "$size" "$page" "$tool" "$target" "$(sed '/^$/d' <<< "${runs[$tool]}")"
            done
            unset runs
        done
        stop_hog
        read -r _ fmin fmed fmax < <("$work/fork_time" "$size" "$page" 5)
        forks+=("| $size MiB | $page (AnonHugePages ${huge_mib} MiB) | $fmin ms | $fmed ms |"
                "$fmax ms |")
    done
done
echo
echo "| fixture | pages | bare fork() min | median | max (5 runs) |"
echo "|---|---|---|---|---|"
printf "%s %s\n" "${forks[@]}"
