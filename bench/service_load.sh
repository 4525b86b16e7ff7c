#!/usr/bin/env bash
# Load test of `dumpscope server` (issue 15; docs/service.md): 50 concurrent uploaders of real
# minidumps for 60 s, uploads at 20/s until processed, and the list pages with 100,000 crashes
# stored. Localhost only; about 3 minutes. The dumps are written by the library's crash handler
# (examples/crash_handler): a null write, an abort and a heap corruption, three signatures.
#
# usage: bench/service_load.sh [BUILD_DIR] [SECONDS] [UPLOADERS]
#   SERVICE_LOAD_ARGS: more options for service_load.py (--crashes N, --phases ..., --workers N,
#   --server-args "...")
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-build}" && pwd)
seconds=${2:-60}
uploaders=${3:-50}
tmp=$(mktemp -d /tmp/dumpscope-service-bench.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

dumps=()
for mode in null abort heap; do
    mkdir -p "$tmp/$mode"
    { (ulimit -c 0; exec "$build/examples/crash_handler" "$tmp/$mode" "$mode") >/dev/null 2>&1; } 2>/dev/null || true
    for _ in $(seq 1 500); do  # the helper finishes after the process is gone
        dump=$(find "$tmp/$mode" -maxdepth 1 -name '*.dmp' | head -1)
        [[ -n $dump ]] && break
        sleep 0.01
    done
    [[ -n $dump ]] || { echo "no dump from crash_handler $mode" >&2; exit 1; }
    dumps+=("$dump")
done

cc -O2 -pthread -o "$tmp/upload_load" "$here/upload_load.c"
echo "dumpscope $(git -C "$here/.." rev-parse --short HEAD); $(nproc) CPUs $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); $(uname -r)"
python3 "$here/service_load.py" --dumpscope "$build/dumpscope" --upload-load "$tmp/upload_load" \
    --dumps "${dumps[@]}" \
    --seconds "$seconds" --uploaders "$uploaders" ${SERVICE_LOAD_ARGS:-}
