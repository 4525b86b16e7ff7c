#!/usr/bin/env bash
# The in-process crash handler (docs/library.md): what installing it costs, what it costs while
# the program runs, and the time from a fault to the dump on disk for a process with a 100 MiB
# heap, against Breakpad's in-process client (built from source outside this repository, see
# bench/RESULTS.md; BREAKPAD_CRASH names its probe program, skipped when absent). Rounds
# interleave the two; medians are reported (this VM drifts 20-40 % within minutes).
#
# usage: bench/crash_handler.sh [BUILD_DIR] [ROUNDS]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/common.sh"
build=$(cd "${1:-build}" && pwd)
rounds=${2:-7}
mb=100
breakpad=${BREAKPAD_CRASH:-/work/breakpad-build/bp_crash}
tmp=$(mktemp -d /tmp/dumpscope-crash-bench.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

cc -O2 -I "$here/../include" -o "$tmp/crash_fault" "$here/crash_fault.c" -L "$build/lib" \
    -ldumpscope -Wl,-rpath,"$build/lib"

mtime_ns() { stat -c '%.9Y' "$1" | tr -d . ; }
ms_between() { echo "$1 $2" | awk '{printf "%.1f", ($2 - $1) / 1e6}'; }

# One crash: prints "fault->dump ms, dump bytes".
crash_once() {  # program-kind dir
    local kind=$1 dir=$2
    mkdir -p "$dir"
    if [[ $kind == dumpscope ]]; then
        (ulimit -c 0; "$tmp/crash_fault" crash "$dir" "$mb" "$dir/stamp") >/dev/null 2>&1 || true
    else
        (ulimit -c 0; "$breakpad" "$dir" "$mb" "$dir/stamp") >/dev/null 2>&1 || true
    fi
    # The dumpscope helper finishes after the process is gone: wait for the dump by name.
    local dump=""
    for _ in $(seq 1 3000); do
        dump=$(find "$dir" -maxdepth 1 -name '*.dmp' | head -1)
        [[ -n $dump ]] && break
        sleep 0.01
    done
    [[ -n $dump ]] || { echo "no dump from $kind" >&2; return 1; }
    echo "$(ms_between "$(head -1 "$dir/stamp" | cut -d' ' -f1)" "$(mtime_ns "$dump")") $(stat -c %s "$dump")"
}

declare -a ours bp ours_size bp_size installs with without
for round in $(seq 1 "$rounds"); do
    read -r t s < <(crash_once dumpscope "$tmp/ours-$round")
    ours+=("$t"); ours_size+=("$s")
    installs+=("$(awk '{printf "%.3f", $1 / 1e6}' "$tmp/ours-$round/stamp.install")")
    if [[ -x $breakpad ]]; then
        read -r t s < <(crash_once breakpad "$tmp/bp-$round")
        bp+=("$t"); bp_size+=("$s")
    fi
    without+=("$("$tmp/crash_fault" work without "$tmp" | awk '{printf "%.1f", $1 / 1e6}')")
    with+=("$("$tmp/crash_fault" work with "$tmp" | awk '{printf "%.1f", $1 / 1e6}')")
done

echo "crash handler, $rounds interleaved rounds, medians (ms):"
echo "  install (start the helper, handlers, alternate stack): $(printf '%s\n' "${installs[@]}" | median)"
echo "  CPU workload without the handler: $(printf '%s\n' "${without[@]}" | median)"
echo "  CPU workload with the handler:    $(printf '%s\n' "${with[@]}" | median)"
echo "  fault -> dump on disk, ${mb} MiB heap, dumpscope: $(printf '%s\n' "${ours[@]}" | median) (dump $(printf '%s\n' "${ours_size[@]}" | median) bytes)"
if [[ ${#bp[@]} -gt 0 ]]; then
    echo "  fault -> dump on disk, ${mb} MiB heap, Breakpad:  $(printf '%s\n' "${bp[@]}" | median) (dump $(printf '%s\n' "${bp_size[@]}" | median) bytes)"
else
    echo "  Breakpad: $breakpad not found (set BREAKPAD_CRASH)"
fi
