# The static library build/lib/libcairn.a: the Swift core, the export layer
# and the parts of the Swift runtime they use, in one archive, for programs
# that ship as a single binary. Included by the top-level Makefile, which
# defines ROOT, BUILD, LIB, LIBDIR and HEADER and builds $(LIB) with `lib`.
#
#   make lib-static     build/lib/libcairn.a, from the objects `make lib` compiled
#   make test-static    the C ABI tests (Tests/c/abi_test.c) linked against it
#
# Link a program with
#   cc app.c build/lib/libcairn.a -lzstd -llz4 -lpcre2-8 -lstemmer -lstdc++ -lm -ldl -lpthread
#
# Why one relocatable object and not an archive of the compiled objects: the
# Swift runtime registers a binary's type metadata and protocol conformances
# through swiftrt.o, which nothing references, so a linker pulling members
# out of an archive would leave it behind and the runtime would find no
# conformance. `ld -r` joins the objects, swiftrt.o and the runtime archives'
# members they need into one object that a program takes whole; objcopy then
# keeps only the cairn_* functions of include/cairn.h global, so the Swift
# runtime's own symbols cannot clash with the program's. One limit follows:
# a process may hold one Swift runtime, so a program that also links Swift
# code (or another static Swift library) must use libcairn.so instead.

SWIFT_STATIC_DIR = $(abspath $(dir $(shell readlink -f $(shell command -v swift)))/../lib/swift_static/linux)
STATIC_LIB := $(LIBDIR)/libcairn.a
STATIC_BUILD := $(BUILD)/static
STATIC_OBJS = $(wildcard $(ROOT)/.build/release/Cairn.build/*.o $(ROOT)/.build/release/CairnABI.build/*.o \
	$(ROOT)/.build/release/CCairnSupport.build/*.o)
STATIC_RUNTIME = swiftCore swift_Concurrency swiftSynchronization swiftGlibc swift_StringProcessing \
	swift_RegexParser swiftDispatch dispatch BlocksRuntime
STATIC_LINK_LIBS := -lzstd -llz4 -lpcre2-8 -lstemmer -lstdc++ -lm -ldl -lpthread

.PHONY: lib-static test-static

lib-static: lib
	@mkdir -p $(STATIC_BUILD)
	@test -f $(SWIFT_STATIC_DIR)/libswiftCore.a || { echo "lib-static: no static Swift runtime in $(SWIFT_STATIC_DIR)" >&2; exit 1; }
	ld -r -o $(STATIC_BUILD)/combined.o $(STATIC_OBJS) $(SWIFT_STATIC_DIR)/x86_64/swiftrt.o \
		--start-group $(addprefix $(SWIFT_STATIC_DIR)/lib,$(addsuffix .a,$(STATIC_RUNTIME))) --end-group
	@grep -oE '\bcairn_[a-z0-9_]+\(' $(HEADER) | tr -d '(' | sort -u > $(STATIC_BUILD)/exports.txt
	objcopy --strip-debug --keep-global-symbols=$(STATIC_BUILD)/exports.txt $(STATIC_BUILD)/combined.o $(STATIC_BUILD)/cairn.o
	@rm -f $(STATIC_LIB) $(STATIC_BUILD)/combined.o
	ar rcs $(STATIC_LIB) $(STATIC_BUILD)/cairn.o
	@exported=$$(nm -g --defined-only $(STATIC_LIB) | grep -c ' T '); wanted=$$(wc -l < $(STATIC_BUILD)/exports.txt); \
	if [ "$$exported" != "$$wanted" ]; then echo "lib-static: $$exported global functions, the header has $$wanted" >&2; exit 1; fi; \
	echo "built $(STATIC_LIB) ($$exported functions, $$(du -h $(STATIC_LIB) | cut -f1))"

test-static: lib-static
	$(CC) -std=c11 -O1 -pthread -D_GNU_SOURCE -I$(ROOT)/include -o $(STATIC_BUILD)/abi-test-static \
		$(ROOT)/Tests/c/abi_test.c $(STATIC_LIB) $(STATIC_LINK_LIBS)
	@! ldd $(STATIC_BUILD)/abi-test-static | grep -q 'libcairn\|libswift' || { echo "test-static: the binary needs a shared Cairn or Swift library" >&2; exit 1; }
	@$(STATIC_BUILD)/abi-test-static | sed 's/^abi:/abi (static):/'
