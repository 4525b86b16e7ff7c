#!/usr/bin/env bash
# ClangTidyClean: clang-tidy (.clang-tidy at the root) over every source file of src/, with the
# build's compile_commands.json, two files at a time. Any warning fails (WarningsAsErrors: '*').
#
# A full run costs minutes on two cores, so a file that came out clean is remembered in
# <build>/clang-tidy-clean/ under a key made of the file, every header of src/, .clang-tidy, its
# compile command and the clang-tidy version: a run where nothing changed re-checks nothing, a
# changed .cpp re-checks that file only, a changed header re-checks all. A file with warnings is
# never remembered.
#
# usage: clang_tidy_test.sh <clang-tidy> <source dir> <build dir>
set -euo pipefail

tidy=$1
source_dir=$(cd "$2" && pwd)
build_dir=$(cd "$3" && pwd)
jobs=${CLANG_TIDY_JOBS:-2}
cache=$build_dir/clang-tidy-clean
commands=$build_dir/compile_commands.json

[[ -f $commands ]] || { echo "$commands: missing (configure with CMAKE_EXPORT_COMPILE_COMMANDS)"; exit 1; }
mkdir -p "$cache"

# What every key shares: the configuration, the tool, and every header a file may include.
common=$( {
    cat "$source_dir/.clang-tidy"
    "$tidy" --version
    find "$source_dir/src" -name '*.h' -o -name '*.def' -o -name '*.in' | LC_ALL=C sort | xargs cat
} | sha256sum | cut -d' ' -f1)

check_one() {
    local file=$1 key
    key=$( {
        echo "$common"
        cat "$file"
        grep -F "\"file\": \"$file\"" -B3 "$commands" || true
    } | sha256sum | cut -d' ' -f1)
    [[ -e $cache/$key ]] && return 0
    local out
    if out=$("$tidy" -p "$build_dir" --quiet "$file" 2>&1) && ! grep -qE ': (warning|error):' <<<"$out"; then
        touch "$cache/$key"
        return 0
    fi
    echo "$out"
    return 1
}
export -f check_one
export tidy build_dir cache commands common

files=$(cd "$source_dir" && git ls-files 'src/*.cpp' | sed "s|^|$source_dir/|")
[[ -n $files ]] || { echo "no source files under $source_dir/src"; exit 1; }
start=$SECONDS
status=0
xargs -P "$jobs" -n 1 bash -c 'check_one "$0"' <<<"$files" || status=1
echo "clang-tidy: $(wc -l <<<"$files") files in $((SECONDS - start)) s"
if [[ $status -ne 0 ]]; then
    echo "clang-tidy found problems (above); fix them, or NOLINT(check) with the reason the code is right"
fi
exit $status
