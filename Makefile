# Cairn's entry points. The README shows two of them:
#   make demo   installs what is missing, builds libcairn.so and the cairn tool, runs the C,
#               Python and Go examples, then looks at their database with the tool
#   make test   builds and runs every test in every language
# The language-specific rules live in mk/*.mk.

SHELL := /bin/bash
ROOT := $(abspath .)
BUILD := $(ROOT)/build
LIBDIR := $(BUILD)/lib
LIB := $(LIBDIR)/libcairn.so
HEADER := $(ROOT)/include/cairn.h
# The library's file names come from the header's version: the real file is
# libcairn.so.MAJOR.MINOR.PATCH, its SONAME (set in Package.swift) is
# libcairn.so.MAJOR, and libcairn.so (what -lcairn finds) links to that.
CAIRN_VERSION_OF = $(shell sed -n 's/^\#define CAIRN_VERSION_$(1) *\([0-9][0-9]*\) *$$/\1/p' $(HEADER))
LIB_MAJOR := $(call CAIRN_VERSION_OF,MAJOR)
LIB_VERSION := $(LIB_MAJOR).$(call CAIRN_VERSION_OF,MINOR).$(call CAIRN_VERSION_OF,PATCH)
LIB_SONAME := libcairn.so.$(LIB_MAJOR)
LIB_REAL := libcairn.so.$(LIB_VERSION)
# The Swift runtime is linked into libcairn.so statically, so users need no Swift toolchain.
SWIFT_RELEASE := swift build -c release -Xswiftc -static-stdlib
DEMO_DB := $(BUILD)/demo-db

.PHONY: all deps lib demo test test-swift test-exports clean

all: lib

deps:
	@bash scripts/install-deps.sh

lib: deps
	$(SWIFT_RELEASE) --product cairn
	@mkdir -p $(LIBDIR)
	@rm -f $(LIBDIR)/libcairn.so*
	@cp -f .build/release/libcairn.so $(LIBDIR)/$(LIB_REAL)
	@ln -s $(LIB_REAL) $(LIBDIR)/$(LIB_SONAME)
	@ln -s $(LIB_SONAME) $(LIB)
	@echo "built $(LIB) -> $(LIB_SONAME) -> $(LIB_REAL)"

# The Swift tests run optimized (in their own build folder, so they do not
# rebuild the library's): the storage tests push real amounts of data.
# CAIRN_INVARIANTS compiles the invariant walks (MemTable+Invariants.swift,
# Block+Invariants.swift, Version+Invariants.swift) into the engine the
# tests run. Every build of .build-test must use exactly these flags, or
# SwiftPM rebuilds everything: build by hand with
#   swift build $(SWIFT_TEST_FLAGS) --build-tests
#   swift test $(SWIFT_TEST_FLAGS) --skip-build --filter ...
# XCTest's per-case lines are dropped; failures, the conformance count and the
# closing summary stay. The full log is kept in build/swift-test.log.
SWIFT_TEST_FLAGS := -c release -Xswiftc -enable-testing -Xswiftc -DCAIRN_INVARIANTS --scratch-path .build-test

test-swift: deps
	@mkdir -p $(BUILD)
	@set -o pipefail; swift test $(SWIFT_TEST_FLAGS) 2>&1 | tee $(BUILD)/swift-test.log | grep -vE "^Test (Case|Suite) .* (started|passed)" | grep -vE "^\[|^Building|^Build complete|Planning build|^\s+Executed .* 0\.0"

test-exports: lib
	@bash scripts/check-exports.sh $(LIB) $(HEADER)

include mk/c.mk
include mk/python.mk
include mk/go.mk
include mk/bench.mk
include mk/asan.mk
include mk/fuzz.mk
include mk/static.mk
include mk/replicate.mk
include mk/tool.mk

demo: lib demo-c-build python-env go-check tool
	@rm -rf $(DEMO_DB)
	@echo "== C writes =="
	@$(C_EXAMPLE) $(DEMO_DB)
	@echo "== Python reads what C wrote, then writes =="
	@$(PYTHON_EXAMPLE) $(DEMO_DB)
	@echo "== Go reads what C and Python wrote, then writes =="
	@$(GO_EXAMPLE) $(DEMO_DB)
	@echo "== The cairn tool looks at what all three wrote =="
	@$(TOOL) find $(DEMO_DB) notes '{"done": false}' --sort '{"priority": 1}' \
		--projection '{"_id": 0, "title": 1, "author": 1, "priority": 1}' --format table
	@echo "(cairn shell $(DEMO_DB) opens a shell on it)"

test: lib test-exports test-swift test-c test-static test-python test-go test-fuzz test-replicate test-tool
	@echo "all test suites passed"

clean:
	rm -rf .build build .venv
