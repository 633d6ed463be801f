# SPDX-License-Identifier: MIT
# Entry points. `make demo` and `make test` work on a fresh Debian 12 machine as root: both
# install what they need first.
JOBS ?= $(shell nproc)
GROUNDCTL := build/ci/src/groundctl

.PHONY: all deps build demo test sanitize bench clean

all: build

deps:
	scripts/install-deps

build: deps
	cmake --preset ci
	cmake --build --preset ci -j $(JOBS)

demo: build
	scripts/demo

test: build
	scripts/check-test-targets
	scripts/check-format
	ctest --preset ci -j $(JOBS)

# Debug build with ASan + UBSan, all tests.
sanitize: deps
	cmake --preset dev
	cmake --build --preset dev -j $(JOBS)
	ctest --preset dev -j $(JOBS)

bench: build
	bench/run-all

clean:
	rm -rf build
