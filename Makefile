# The front door: `make demo` and `make test` on a fresh Debian 12 machine.
BUILD_DIR ?= build
JOBS ?= $(shell nproc)
DEBIAN_PACKAGES := cmake g++ make pkg-config libdw-dev libelf-dev libzstd-dev zlib1g-dev libcli11-dev \
	nlohmann-json3-dev libfmt-dev libgtest-dev googletest elfutils debuginfod gdb lldb-16 procdump \
	clang-format clang-tidy bc libreadline-dev libc6-dbg strace libcapstone-dev chromium time python3 \
	libcpp-httplib-dev libsqlite3-dev sqlite3 libpq-dev postgresql libcurl4-openssl-dev

.PHONY: all deps build check-build-types test tidy demo bench bench-clone bench-analysis bench-analyze bench-compress bench-crash-handler bench-service format clean

all: build

NODE_DIR := tests/node

# Installs only what is missing; a no-op (and no root needed) when everything is there.
deps:
	@missing=$$(for p in $(DEBIAN_PACKAGES); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; \
	done); \
	if [ -n "$$missing" ]; then \
		echo "installing:" $$missing; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q --no-install-recommends $$missing; \
	fi
	@if ! command -v npm > /dev/null; then \
		echo "installing: nodejs npm"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q --no-install-recommends nodejs npm; \
	fi
	@# The tests' node tools (tests/node/package.json: s3rver for the S3 store's test), exactly as
	@# locked; again only when node_modules is missing or older than the lock file.
	@if [ ! -f $(NODE_DIR)/node_modules/.package-lock.json ] || \
		[ $(NODE_DIR)/package-lock.json -nt $(NODE_DIR)/node_modules/.package-lock.json ]; then \
		npm ci --prefix $(NODE_DIR) --no-audit --no-fund; \
	fi

# The development and CI build: warnings are errors and the tests' fault-injection hooks are in.
# (Plain `cmake` builds have neither: see CMakeLists.txt.) BUILD_TYPE may be any standard type.
BUILD_TYPE ?= RelWithDebInfo
DEV_FLAGS := -DDUMPSCOPE_WERROR=ON -DDUMPSCOPE_TEST_HOOKS=ON
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(DEV_FLAGS)

build:
	cmake -S . -B $(BUILD_DIR) $(CMAKE_FLAGS) > /dev/null
	cmake --build $(BUILD_DIR) -j $(JOBS)

# Every standard build type builds with warnings as errors (each optimisation level makes g++
# warn about different things). Four full builds: run it after touching the build or upgrading
# the compiler, not on every change. Each type gets a directory of its own, $(BUILD_DIR)-<type>.
# Release is built as a packager builds it, without the test hooks (what is under
# `#if DUMPSCOPE_TEST_HOOKS` is then left out, and the rest must still build clean).
BUILD_TYPES := Debug Release RelWithDebInfo MinSizeRel
check-build-types:
	@set -e; for t in $(BUILD_TYPES); do \
		if [ $$t = Release ]; then hooks=OFF; else hooks=ON; fi; \
		echo "== $$t (test hooks $$hooks)"; \
		$(MAKE) --no-print-directory BUILD_DIR=$(BUILD_DIR)-$$t \
			CMAKE_FLAGS="-DCMAKE_BUILD_TYPE=$$t -DDUMPSCOPE_WERROR=ON -DDUMPSCOPE_TEST_HOOKS=$$hooks" build; \
	done

test: deps build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) --timeout 900

# clang-tidy over src/ (.clang-tidy): any finding fails. 10-25 minutes on two cores, so it is not
# part of `make test`; CI (.ci/run) runs it after the tests.
tidy: deps build
	@bash scripts/clang_tidy.sh $$(command -v run-clang-tidy-14 || command -v run-clang-tidy) \
		$$(command -v clang-tidy-14 || command -v clang-tidy) . $(BUILD_DIR)

demo: deps build
	@bash scripts/demo.sh $(BUILD_DIR)

bench: deps build
	@bash bench/run.sh $(BUILD_DIR)

# Low-pause clone dumps against gcore, procdump and a plain dump (issue 5; takes ~15 minutes).
bench-clone: deps build
	@bash bench/clone.sh $(BUILD_DIR)

# Opening a 2 GiB dump and printing every stack, against gdb, lldb and eu-stack (issue 3).
bench-analysis: deps build
	@bash bench/analysis.sh $(BUILD_DIR)

# `analyze` of a full dump with 1 GB of glibc heap in a million chunks, against `stack --all`
# and gdb on the same dump (issue 12; a few minutes).
bench-analyze: deps build
	@bash bench/analyze.sh $(BUILD_DIR)

# Compressed dumps against gcore and gcore + zstd, and reading them (issue 13; BENCH_SIZE_MIB,
# BENCH_REPS).
bench-compress: deps build
	@bash bench/compress.sh $(BUILD_DIR)

# The crash handler: install cost, cost while running, fault -> dump against Breakpad's client.
bench-crash-handler: deps build
	@bash bench/crash_handler.sh $(BUILD_DIR)

# The service under load: 50 uploaders for 60 s, 20 uploads/s until processed, list pages with
# 100,000 crashes stored (issue 15; about 3 minutes, localhost only).
bench-service: deps build
	@bash bench/service_load.sh $(BUILD_DIR)

format:
	clang-format -i $$(git ls-files '*.cpp' '*.h' '*.c')

clean:
	rm -rf $(BUILD_DIR) $(addprefix $(BUILD_DIR)-,$(BUILD_TYPES))
