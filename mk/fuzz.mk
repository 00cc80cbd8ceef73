# Fuzzing what parses untrusted bytes: the JSON parser, the binary document
# reader, filter and update compile-and-apply, pipelines on a small
# collection, and the storage readers (log records, batches, blocks,
# footers, manifests). The targets live in Fuzz/ (a package of their own)
# and are built with libFuzzer and AddressSanitizer.
#
#   make fuzz               each target for FUZZ_SECONDS (default 1800)
#   make fuzz FUZZ_SECONDS=60
#   make test-fuzz          each target for FUZZ_SHORT_RUNS inputs from its
#                           seeds, with a fixed seed and a fresh work corpus,
#                           so that the run is the same on every machine
#                           (part of make test)
#
# Seeds are in Fuzz/corpus/<target> (committed, read-only here); what the
# fuzzer learns goes to build/fuzz/<target> (build/fuzz-short for
# test-fuzz), a crashing input to crash-<target>-* beside it, and the
# fuzzer's output, with any sanitizer report, to <target>.log there.

FUZZ_SCRATCH := $(ROOT)/.build-fuzz
FUZZ_BIN := $(FUZZ_SCRATCH)/release
FUZZ_TARGETS := FuzzJSON FuzzDocument FuzzFilter FuzzUpdate FuzzPipeline FuzzStorage
FUZZ_SECONDS ?= 1800
FUZZ_SHORT_RUNS ?= 200000

.PHONY: fuzz fuzz-build test-fuzz

fuzz-build: deps
	@swift build -c release --package-path $(ROOT)/Fuzz --scratch-path $(FUZZ_SCRATCH) \
		-Xswiftc -sanitize=fuzzer,address -Xswiftc -enable-testing 2>&1 \
		| grep -vE "^\[|^Building|^Build complete|Planning build|warning: Cannot export local symbol" || true
	@for t in $(FUZZ_TARGETS); do test -x $(FUZZ_BIN)/$$t || { echo "fuzz: $$t did not build" >&2; exit 1; }; done

# Runs every target with the libFuzzer options $(1), in work corpora under
# $(2); fails on the first finding.
define run_fuzzers
	@mkdir -p $(2)
	@for t in $(FUZZ_TARGETS); do \
		mkdir -p $(2)/$$t; \
		ASAN_OPTIONS=detect_leaks=0 $(FUZZ_BIN)/$$t $(1) -timeout=20 -rss_limit_mb=4096 \
			-artifact_prefix=$(2)/crash-$$t- $(2)/$$t $(ROOT)/Fuzz/corpus/$$t \
			> $(2)/$$t.log 2>&1 \
			|| { echo "fuzz: $$t found a problem (see $(2)/$$t.log)" >&2; tail -40 $(2)/$$t.log >&2; exit 1; }; \
		echo "fuzz: $$t $$(grep -oE 'Done [0-9]+ runs in [0-9]+ second' $(2)/$$t.log | tail -1), cov $$(grep -oE 'cov: [0-9]+' $(2)/$$t.log | tail -1 | cut -d' ' -f2), no finding"; \
	done
endef

fuzz: fuzz-build
	$(call run_fuzzers,-max_total_time=$(FUZZ_SECONDS),$(BUILD)/fuzz)

test-fuzz: fuzz-build
	@rm -rf $(BUILD)/fuzz-short
	$(call run_fuzzers,-seed=1 -runs=$(FUZZ_SHORT_RUNS),$(BUILD)/fuzz-short)
