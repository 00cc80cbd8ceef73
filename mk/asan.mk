# AddressSanitizer: libcairn.so built with -sanitize=address (Swift and its C
# helpers), and the C ABI misuse tests and the C conformance runner built
# with -fsanitize=address by the toolchain's clang, so that one ASan runtime
# (the toolchain's) watches both sides of the ABI. Not part of `make test`
# (the sanitized build takes a few minutes); run it before resolving work
# that touches the ABI.
#
#   make test-asan   build both, run both; any report fails the target
#
# Leak detection is off: the Swift runtime keeps metadata for the life of
# the process by design, which LeakSanitizer would report as leaks.

ASAN_SCRATCH := $(ROOT)/.build-asan
ASAN_LIB_DIR := $(ASAN_SCRATCH)/release
ASAN_C_BUILD := $(BUILD)/asan
SWIFT_TOOLCHAIN_BIN := $(dir $(shell command -v swift))
ASAN_CC := $(SWIFT_TOOLCHAIN_BIN)clang
# The toolchain's Swift runtime (the sanitized library links it dynamically)
# and its ASan runtime.
ASAN_RUNTIME_DIRS := $(abspath $(SWIFT_TOOLCHAIN_BIN)../lib/swift/linux):$(abspath $(dir $(shell $(ASAN_CC) -print-file-name=libclang_rt.asan-x86_64.so 2>/dev/null)))
ASAN_ENV := LD_LIBRARY_PATH=$(ASAN_LIB_DIR):$(ASAN_RUNTIME_DIRS) ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:halt_on_error=1

.PHONY: test-asan

test-asan: deps
	swift build -c release --sanitize=address --product cairn --scratch-path $(ASAN_SCRATCH)
	@ln -sf libcairn.so $(ASAN_LIB_DIR)/$(LIB_SONAME)   # what programs linked with -lcairn look for
	@$(CMAKE) -S $(ROOT) -B $(ASAN_C_BUILD) -G "Unix Makefiles" -DCMAKE_C_COMPILER=$(ASAN_CC) \
		-DCMAKE_C_FLAGS="-fsanitize=address -shared-libasan -fno-omit-frame-pointer -g" \
		-DCAIRN_LIBRARY=$(ASAN_LIB_DIR)/libcairn.so -DCAIRN_BUILD_EXAMPLES=OFF >/dev/null
	@$(CMAKE) --build $(ASAN_C_BUILD) --target cairn-abi-test cairn-conformance-c -- --no-print-directory
	$(ASAN_ENV) $(ASAN_C_BUILD)/cairn-abi-test
	$(ASAN_ENV) $(ASAN_C_BUILD)/cairn-conformance-c $(ROOT)/Tests/conformance/cases
	@echo "asan: the ABI tests and the C conformance runner ran under AddressSanitizer with no report"

# ThreadSanitizer: the Swift tests that run threads against one database
# (group commit and its memtable applier, concurrent document writers and
# transactions, the power cut's writers, the handle table through the
# interrupt test), built with
# -sanitize=thread in their own folder. Not part of `make test` (a
# separate build of a few minutes); run it after touching locks or
# threads. Any report fails the target.
#
#   make test-tsan

TSAN_SCRATCH := $(ROOT)/.build-tsan
# (CollectionTests' memory-bound tests measure the allocator, which TSan
# replaces, so they stay out.)
TSAN_TESTS := ConcurrencyTests|GraphCacheTests|TransactionTests|WriteQueueTests|GroupApplierTests|PendingWritesTests|PowerLossTests|IntegrityTests|PlannerPropertyTests

.PHONY: test-tsan

test-tsan: deps
	@mkdir -p $(BUILD)
	@TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
		swift test -c release --sanitize=thread -Xswiftc -enable-testing --scratch-path $(TSAN_SCRATCH) \
		--filter '$(TSAN_TESTS)' > $(BUILD)/tsan.log 2>&1; status=$$?; \
		grep -E "WARNING: ThreadSanitizer|Executed .* tests|error:" $(BUILD)/tsan.log | tail -5; \
		if grep -q "WARNING: ThreadSanitizer" $(BUILD)/tsan.log; then echo "tsan: a report (see $(BUILD)/tsan.log)" >&2; exit 1; fi; \
		exit $$status
