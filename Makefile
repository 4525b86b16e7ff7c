# The front door: `make demo` and `make test` on a fresh Debian 12 machine.
BUILD_DIR ?= build
JOBS ?= $(shell nproc)
DEBIAN_PACKAGES := cmake g++ make pkg-config libdw-dev libelf-dev libzstd-dev libcli11-dev \
	nlohmann-json3-dev libfmt-dev libgtest-dev googletest elfutils debuginfod gdb lldb-16 procdump \
	clang-format bc libreadline-dev libc6-dbg strace libcapstone-dev chromium time python3

.PHONY: all deps build test demo bench bench-clone bench-analysis bench-analyze format clean

all: build

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

# The development and CI build: warnings are errors and the tests' fault-injection hooks are in.
# (Plain `cmake` builds have neither: see CMakeLists.txt.) BUILD_TYPE may be any standard type.
BUILD_TYPE ?= RelWithDebInfo
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DDUMPSCOPE_WERROR=ON -DDUMPSCOPE_TEST_HOOKS=ON

build:
	cmake -S . -B $(BUILD_DIR) $(CMAKE_FLAGS) > /dev/null
	cmake --build $(BUILD_DIR) -j $(JOBS)

test: deps build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) --timeout 900

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

format:
	clang-format -i $$(git ls-files '*.cpp' '*.h' '*.c')

clean:
	rm -rf $(BUILD_DIR)
