#!/usr/bin/env bash
# The installed package, as a user gets it: `cmake --install` into a prefix, the prefix moved
# elsewhere (it must be relocatable), then programs built against it with find_package (shared,
# read-only and static) and with pkg-config (C), run, and their dumps read by lldb.
#
# usage: install_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
source=$(cd "$2" && pwd)
tmp=$(mktemp -d /tmp/dumpscope-install.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "install_test: $*" >&2; exit 1; }
# Output is captured before it is searched: `producer | grep -q` fails under pipefail when grep
# exits before the producer has written everything (SIGPIPE).
has() { grep -q -- "$2" <<<"$1"; }

cmake --install "$build" --prefix "$tmp/first" >/dev/null
mv "$tmp/first" "$tmp/moved"
prefix=$tmp/moved
for f in include/dumpscope/dumpscope.h include/dumpscope/dumpscope.hpp lib/libdumpscope.so.0 \
         lib/libdumpscope_read.so.0 lib/libdumpscope.a libexec/dumpscope/dumpscope-handler \
         lib/cmake/dumpscope/dumpscopeConfig.cmake lib/pkgconfig/dumpscope.pc bin/dumpscope; do
    [[ -e $prefix/$f ]] || fail "$f is not installed"
done
has "$(objdump -p "$prefix/lib/libdumpscope.so.0")" 'SONAME *libdumpscope.so.0' ||
    fail "libdumpscope.so has no versioned soname"
exported=$(nm -D --defined-only "$prefix/lib/libdumpscope.so.0" | c++filt)
has "$exported" 'dumpscope_write_dump' || fail "libdumpscope.so does not export dumpscope_write_dump"
if has "$exported" 'dumpscope::minidump::'; then
    fail "libdumpscope.so exports internal symbols"
fi

cmake -S "$source/tests/library/consumer" -B "$tmp/consumer" -DCMAKE_PREFIX_PATH="$prefix" \
    -DEXAMPLES="$source/examples" >"$tmp/configure.log" 2>&1 || { cat "$tmp/configure.log"; fail "find_package failed"; }
cmake --build "$tmp/consumer" -j2 >"$tmp/build.log" 2>&1 || { cat "$tmp/build.log"; fail "the consumer does not build"; }

# The shared library finds its helper relative to itself, in the moved prefix.
out=$("$tmp/consumer/write_dump" "$tmp/self.dmp" self streams) || fail "write_dump: $out"
has "$out" '^written$' || fail "write_dump: $out"
has "$(lldb-16 --no-lldbinit -c "$tmp/self.dmp" -b -o 'thread list')" 'thread #2' ||
    fail "lldb does not see the two threads of the self dump"

mkdir "$tmp/crash"
set +e
"$tmp/consumer/crash_handler" "$tmp/crash" null >/dev/null 2>&1
status=$?
set -e
[[ $status == 139 ]] || fail "crash_handler ended with status $status, not SIGSEGV (139)"
dumps=("$tmp"/crash/*.dmp)
[[ ${#dumps[@]} == 1 && -f ${dumps[0]} ]] || fail "crash_handler left ${#dumps[@]} dumps"
has "$(lldb-16 --no-lldbinit -c "${dumps[0]}" -b -o bt)" 'crash_null_write' ||
    fail "lldb does not show crash_null_write in the crash dump"

# The read half alone: libdumpscope_read, not libdumpscope.
libraries=$(ldd "$tmp/consumer/read_dump")
has "$libraries" "libdumpscope_read.so.0 => $prefix" ||
    fail "read_dump does not use the installed libdumpscope_read"
if has "$libraries" 'libdumpscope\.so'; then
    fail "read_dump links the write half"
fi
read=$("$tmp/consumer/read_dump" "${dumps[0]}")
has "$read" 'crash_null_write' || fail "read_dump: $read"
has "$read" 'annotation version=1.2.3' || fail "read_dump shows no annotations: $read"

# Static: the helper is named by DUMPSCOPE_HANDLER (the program is not next to libexec/).
out=$(DUMPSCOPE_HANDLER=$prefix/libexec/dumpscope/dumpscope-handler \
      "$tmp/consumer/write_dump_static" "$tmp/static.dmp" self heap-range) || fail "static: $out"
has "$out" '^written$' || fail "static: $out"
if has "$(ldd "$tmp/consumer/write_dump_static")" libdumpscope; then
    fail "write_dump_static is not static"
fi

# C through pkg-config.
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
cc -std=c11 -Wall -Werror -o "$tmp/pc_write_dump" "$source/examples/write_dump.c" \
    $(pkg-config --cflags --libs dumpscope) -Wl,-rpath,"$(pkg-config --variable=libdir dumpscope)" -pthread ||
    fail "the C example does not build with pkg-config"
out=$("$tmp/pc_write_dump" "$tmp/pc.dmp" child drop-thread) || fail "pkg-config build: $out"
has "$out" '^written$' || fail "pkg-config build: $out"
"$prefix/bin/dumpscope" threads "$tmp/pc.dmp" >/dev/null || fail "the installed CLI cannot read a dump"
echo "installed, moved, built with find_package and pkg-config, run"
