#!/usr/bin/env bash
# make demo: start the bundled sample program, dump it, and show what is in the dump.
set -euo pipefail
build=${1:-build}
bin="$build/dumpscope"
sample="$build/fixtures/fixture_waiters"
out=$(mktemp -d /tmp/dumpscope-demo-XXXXXX)

exec 3< <("$sample")
sample_pid=$!
trap 'kill -9 $sample_pid 2>/dev/null || true' EXIT
read -r ready <&3
echo "== sample program running: $ready"
echo

echo "== dumpscope collect --type mini $sample_pid $out/"
"$bin" collect --type mini "$sample_pid" "$out/"
echo
echo "== dumpscope collect --type full --format core --clone $sample_pid $out/   (paused for a clone only)"
"$bin" collect --type full --format core --clone "$sample_pid" "$out/"
echo

mini=$(ls "$out"/*.dmp)
echo "== dumpscope info $mini"
"$bin" info "$mini"
echo

echo "== dumpscope debug $mini -c 'vertarget; ~; ~*k; lm; !address -summary'"
"$bin" debug "$mini" -c 'vertarget; ~; ~*k; lm; !address -summary'
echo

lldb=$(command -v lldb-16 || command -v lldb || true)
if [ -n "$lldb" ]; then
    echo "== $(basename "$lldb") -c $mini -o 'bt all'   (an independent reader)"
    "$lldb" --no-lldbinit -b -c "$mini" -o "bt all" 2>&1 | grep -E '^\s*(\*?\s*thread #|frame #)' | head -40
    echo
fi
core=$(ls "$out"/*.core)
echo "== gdb: thread apply all bt on $core"
gdb -nx -batch -ex "set debuginfod enabled off" -ex "thread apply all bt" "$sample" "$core" 2>/dev/null \
    | grep -E '^(Thread|#)' | head -40
echo
ls -l "$out"
echo "dumps kept in $out"
