# Replication through NATS JetStream (tools/replicate): cairn-replicate
# publishes a database's change feed to a stream, cairn-follow applies it to
# a replica. Both link libnats (Debian's libnats-dev) and libcairn; the
# library itself has no NATS dependency. Included by the top-level Makefile.
#
#   make replicate-build   build build/replicate/cairn-replicate and cairn-follow
#   make test-replicate    start nats-server (JetStream, loopback, a fresh
#                          store under build/), run the end-to-end test
#                          (tools/replicate/e2e_test.py), stop the server
#   make -o lib test-replicate   the same without rebuilding libcairn.so

REPLICATE_BUILD := $(BUILD)/replicate
REPLICATE_CFLAGS := -std=c11 -Wall -Wextra -Werror -O2 -I$(ROOT)/include
REPLICATE_LIBS := -L$(LIBDIR) -lcairn -lnats -lcjson -Wl,-rpath,$(LIBDIR)
NATS_PORT ?= 14222
NATS_DIR := $(BUILD)/nats

.PHONY: replicate-build test-replicate

replicate-build: lib
	@mkdir -p $(REPLICATE_BUILD)
	@for tool in replicate follow; do \
		$(CC) $(REPLICATE_CFLAGS) $(ROOT)/tools/replicate/cairn_$$tool.c -o $(REPLICATE_BUILD)/cairn-$$tool $(REPLICATE_LIBS) || exit 1; \
	done
	@echo "built $(REPLICATE_BUILD)/cairn-replicate, $(REPLICATE_BUILD)/cairn-follow"

# The server runs only for the test: started here on 127.0.0.1 with a store
# of its own, and stopped (also when the test fails) by the trap.
test-replicate: replicate-build python-env
	@rm -rf $(NATS_DIR) && mkdir -p $(NATS_DIR)/store $(NATS_DIR)/work
	@set -e; \
	nats-server -js -a 127.0.0.1 -p $(NATS_PORT) -sd $(NATS_DIR)/store > $(NATS_DIR)/server.log 2>&1 & \
	server=$$!; trap 'kill $$server 2>/dev/null; wait $$server 2>/dev/null || true' EXIT; \
	for i in $$(seq 100); do grep -q "Server is ready" $(NATS_DIR)/server.log && break; sleep 0.1; done; \
	grep -q "Server is ready" $(NATS_DIR)/server.log || { echo "nats-server did not start:"; cat $(NATS_DIR)/server.log; exit 1; }; \
	CAIRN_LIBRARY=$(LIB) $(PY_VENV_PYTHON) $(ROOT)/tools/replicate/e2e_test.py nats://127.0.0.1:$(NATS_PORT) $(REPLICATE_BUILD) $(NATS_DIR)/work
