# The C side: the C example, the C conformance runner, the C ABI tests and the
# install test, all built by CMake (CMakeLists.txt) against the libcairn.so
# that `make lib` builds. Included by the top-level Makefile, which defines
# ROOT, BUILD, LIB, LIBDIR and HEADER.
#
#   make demo-c-build   configure and build them in $(BUILD)/cmake
#   make test-c         build, then run them all with ctest
#   make -o lib test-c  the same without rebuilding libcairn.so

CMAKE ?= cmake
CTEST ?= ctest
C_BUILD := $(BUILD)/cmake
C_EXAMPLE := $(C_BUILD)/cairn-example-c
C_CONFORMANCE := $(C_BUILD)/cairn-conformance-c
C_ABI_TEST := $(C_BUILD)/cairn-abi-test

.PHONY: demo-c-build test-c

# Configuring again is cheap and picks up a changed CMakeLists.txt or LIB.
demo-c-build: lib
	@$(CMAKE) -S $(ROOT) -B $(C_BUILD) -G "Unix Makefiles" -DCAIRN_LIBRARY=$(LIB) >/dev/null
	@$(CMAKE) --build $(C_BUILD) -- --no-print-directory
	@echo "built $(C_EXAMPLE), $(C_CONFORMANCE), $(C_ABI_TEST)"

# ctest keeps every test's output in LastTest.log; the summary lines of the
# conformance runner, the ABI test and the install test are shown from there.
test-c: demo-c-build
	@cd $(C_BUILD) && $(CTEST) --output-on-failure --no-tests=error
	@grep -hE '^(conformance|abi|install):' $(C_BUILD)/Testing/Temporary/LastTest.log
