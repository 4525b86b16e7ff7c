#!/usr/bin/env bash
# `make tidy`: clang-tidy (.clang-tidy at the root) over every source file of src/, headers
# included (HeaderFilterRegex), with the build's compile_commands.json. run-clang-tidy runs one
# clang-tidy per core (CLANG_TIDY_JOBS, default nproc). Any warning fails (WarningsAsErrors: '*').
# Every run checks the whole of src/: a header change can make any file's findings change.
#
# usage: clang_tidy.sh <run-clang-tidy> <clang-tidy> <source dir> <build dir>
set -euo pipefail

runner=$1
tidy=$2
source_dir=$(cd "$3" && pwd)
build_dir=$(cd "$4" && pwd)
jobs=${CLANG_TIDY_JOBS:-$(nproc)}
commands=$build_dir/compile_commands.json
log=$build_dir/clang-tidy.log

[[ -f $commands ]] || { echo "$commands: missing (configure with CMAKE_EXPORT_COMPILE_COMMANDS)"; exit 1; }

# run-clang-tidy takes a regular expression on the paths of compile_commands.json.
src_re="^$(sed 's/[][\.*^$+?(){}|]/\\&/g' <<<"$source_dir")/src/"
expected=$(cd "$source_dir" && git ls-files 'src/*.cpp' | wc -l)
[[ $expected -gt 0 ]] || { echo "no source files under $source_dir/src"; exit 1; }

start=$SECONDS
status=0
"$runner" -clang-tidy-binary "$tidy" -p "$build_dir" -j "$jobs" -quiet "$src_re" >"$log" 2>&1 || status=1
elapsed=$((SECONDS - start))
sed -i 's/\x1b\[[0-9;]*m//g' "$log"  # clang-tidy colours its messages even into a file

# The log has one line per file with the command run-clang-tidy ran, then what clang-tidy said.
checked=$(grep -c "^$tidy " "$log" || true)
grep -v -e "^$tidy " -e '^[0-9]* warnings\? generated\.$' "$log" || true
grep -qE ': (warning|error):' "$log" && status=1
echo "clang-tidy: $checked files of src/ in $elapsed s, $jobs at a time (log: $log)"
if [[ $checked -lt $expected ]]; then
    echo "compile_commands.json has $checked of the $expected src/*.cpp files in git: reconfigure"
    status=1
fi
if [[ $status -ne 0 ]]; then
    echo "clang-tidy found problems (above); fix them, or NOLINT(check) with the reason the code is right"
fi
exit $status
