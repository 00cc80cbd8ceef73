# Fuzzing what parses untrusted bytes: the JSON parser, the binary document
# reader, filter and update compile-and-apply, pipelines on a small
# collection, full-text queries, options and stages, and the storage
# readers (log records, batches, blocks, footers, manifests). The targets live in Fuzz/ (a package of their own)
# and are built with libFuzzer and AddressSanitizer.
#
#   make fuzz               each target for FUZZ_SECONDS (default 1800)
#   make fuzz FUZZ_SECONDS=60
#   make test-fuzz          replays every committed input of every target
#                           once (part of make test: deterministic, so a
#                           run can never fail CI by chance)
#   make fuzz-merge         adds what a `make fuzz` campaign learned to the
#                           committed corpora (minimized), to commit
#
# Seeds are in Fuzz/corpus/<target> (committed, read-only here). What the
# fuzzer learns goes to build/fuzz/<target>; a crashing input to
# build/fuzz/crash-<target>-*; its output, with any sanitizer report, to
# build/fuzz/<target>.log (build/fuzz-replay/ for test-fuzz).

FUZZ_SCRATCH := $(ROOT)/.build-fuzz
FUZZ_BIN := $(FUZZ_SCRATCH)/release
FUZZ_TARGETS := FuzzJSON FuzzDocument FuzzFilter FuzzUpdate FuzzPipeline FuzzStorage FuzzSearch FuzzTimeSeries
FUZZ_SECONDS ?= 1800

.PHONY: fuzz fuzz-build test-fuzz fuzz-merge

# A failed build must not leave the replay to older binaries. SwiftPM's
# incremental build of the path dependency misses source files added to
# the core since the last build here ("cannot find type ... in scope"), so
# a failure is retried once from an empty scratch directory before it
# fails the target; its compiler errors are shown then.
FUZZ_SWIFT_BUILD := swift build -c release --package-path $(ROOT)/Fuzz --scratch-path $(FUZZ_SCRATCH) \
	-Xswiftc -sanitize=fuzzer,address -Xswiftc -enable-testing

fuzz-build: deps
	@mkdir -p $(BUILD)
	@$(FUZZ_SWIFT_BUILD) > $(BUILD)/fuzz-build.log 2>&1 \
		|| { echo "fuzz: the incremental build failed; building again from scratch"; rm -rf $(FUZZ_SCRATCH); \
		     $(FUZZ_SWIFT_BUILD) > $(BUILD)/fuzz-build.log 2>&1; } \
		|| { grep -E "error:" $(BUILD)/fuzz-build.log | head -20 >&2; echo "fuzz: the targets did not build (build/fuzz-build.log)" >&2; exit 1; }
	@for t in $(FUZZ_TARGETS); do test -x $(FUZZ_BIN)/$$t || { echo "fuzz: $$t did not build" >&2; exit 1; }; done

# Runs every target with the libFuzzer options $(1), in work corpora under
# $(2); fails on the first finding.
define run_fuzzers
	@mkdir -p $(2)
	@for t in $(FUZZ_TARGETS); do \
		mkdir -p $(2)/$$t; \
		SWIFT_DETERMINISTIC_HASHING=1 ASAN_OPTIONS=detect_leaks=0 $(FUZZ_BIN)/$$t $(1) -timeout=20 -rss_limit_mb=4096 \
			-artifact_prefix=$(2)/crash-$$t- $(2)/$$t $(ROOT)/Fuzz/corpus/$$t \
			> $(2)/$$t.log 2>&1 \
			|| { echo "fuzz: $$t found a problem (see $(2)/$$t.log)" >&2; tail -40 $(2)/$$t.log >&2; exit 1; }; \
		echo "fuzz: $$t $$(grep -oE 'Done [0-9]+ runs in [0-9]+ second' $(2)/$$t.log | tail -1), cov $$(grep -oE 'cov: [0-9]+' $(2)/$$t.log | tail -1 | cut -d' ' -f2), no finding"; \
	done
endef

fuzz: fuzz-build
	$(call run_fuzzers,-max_total_time=$(FUZZ_SECONDS),$(BUILD)/fuzz)

test-fuzz: fuzz-build
	@mkdir -p $(BUILD)/fuzz-replay
	@for t in $(FUZZ_TARGETS); do \
		SWIFT_DETERMINISTIC_HASHING=1 ASAN_OPTIONS=detect_leaks=0 $(FUZZ_BIN)/$$t $(ROOT)/Fuzz/corpus/$$t/* \
			> $(BUILD)/fuzz-replay/$$t.log 2>&1 \
			|| { echo "fuzz: $$t failed on a committed input (see $(BUILD)/fuzz-replay/$$t.log)" >&2; tail -40 $(BUILD)/fuzz-replay/$$t.log >&2; exit 1; }; \
		echo "fuzz: $$t replayed $$(ls $(ROOT)/Fuzz/corpus/$$t | wc -l) committed inputs, no finding"; \
	done

fuzz-merge: fuzz-build
	@for t in $(FUZZ_TARGETS); do \
		test -d $(BUILD)/fuzz/$$t || continue; \
		SWIFT_DETERMINISTIC_HASHING=1 ASAN_OPTIONS=detect_leaks=0 $(FUZZ_BIN)/$$t -merge=1 \
			$(ROOT)/Fuzz/corpus/$$t $(BUILD)/fuzz/$$t > $(BUILD)/fuzz/merge-$$t.log 2>&1 || exit 1; \
		echo "fuzz: $$t corpus now $$(ls $(ROOT)/Fuzz/corpus/$$t | wc -l) inputs"; \
	done
