# The Go binding: its tests and its example. Included by the top-level
# Makefile, which defines ROOT, BUILD, LIB, LIBDIR and HEADER and builds
# $(LIB) with `lib`.
#
#   make go-check   check that the go tool is installed (`make deps` installs it)
#   make test-go    go vet, then go test (conformance cases, API tests, the
#                   out-of-repository install test)
#   make go-header  copy include/cairn.h into the module (bindings/go/cairn.h);
#                   header_test.go fails while the copy differs
#
# Neither target builds Swift: the top-level rules order `lib` first, and
# `make -o lib test-go` tests against an existing library. Go runs offline
# with the standard library only: GOPROXY=off and no network, ever.

GO ?= go
GO_BINDING := $(ROOT)/bindings/go
GO_EXAMPLE_DIR := $(ROOT)/examples/go
GO_TEST_LOG := $(BUILD)/go-test.log

# No cgo flags from here: the package finds its own copy of cairn.h and the
# repository's build/lib (bindings/go/cgo_repo.go, with an rpath), so that
# plain `go test ./...` in bindings/go works as this does. install_test.go
# also stages `cmake --install` and builds a copy of the module outside the
# repository against it with -tags cairn_pkgconfig.
GO_ENV := env -u CGO_CFLAGS -u CGO_LDFLAGS CGO_ENABLED=1 GOPROXY=off GOFLAGS=-mod=mod GOWORK=off GOSUMDB=off

# Run by `make demo` as `$(GO_EXAMPLE) $(DEMO_DB)`: builds the example into
# $(BUILD)/go-example, then runs it with the database directory that the
# Makefile appends as its argument.
GO_EXAMPLE := cd $(GO_EXAMPLE_DIR) && $(GO_ENV) $(GO) build -o $(BUILD)/go-example . && $(BUILD)/go-example

.PHONY: go-check test-go go-header

go-header:
	@cp -f $(HEADER) $(GO_BINDING)/cairn.h
	@echo "copied $(HEADER) to $(GO_BINDING)/cairn.h"

go-check:
	@command -v $(GO) >/dev/null 2>&1 || { echo "go-check: the go tool is missing; run 'make deps'" >&2; exit 1; }
	@$(GO) version | grep -Eq 'go1\.(19|[2-9][0-9])' \
		|| { echo "go-check: need Go 1.19 or newer, found: $$($(GO) version)" >&2; exit 1; }

# go test hides the output of passing packages unless -v, so the verbose run
# goes to $(GO_TEST_LOG) and only the conformance line, the number of passed
# tests and go test's closing line are shown. On failure, everything but the
# passing tests' noise is shown.
test-go: go-check
	@test -f $(LIB) || { echo "test-go: $(LIB) is missing; run 'make lib' first" >&2; exit 1; }
	@mkdir -p $(BUILD)
	@cd $(GO_BINDING) && $(GO_ENV) $(GO) vet ./...
	@cd $(GO_BINDING) && $(GO_ENV) $(GO) test -count=1 -v ./... >$(GO_TEST_LOG) 2>&1; rc=$$?; \
	if [ $$rc -eq 0 ]; then \
		grep -E '^conformance:' $(GO_TEST_LOG); \
		echo "go: $$(grep -cE '^--- PASS' $(GO_TEST_LOG)) tests passed (full log: $(GO_TEST_LOG))"; \
		grep -E '^(ok|FAIL|\?) ' $(GO_TEST_LOG); \
	else \
		grep -vE '^(=== (RUN|PAUSE|CONT)|\s*--- PASS)' $(GO_TEST_LOG); \
		echo "test-go: go test failed (full log: $(GO_TEST_LOG))" >&2; \
	fi; \
	exit $$rc
