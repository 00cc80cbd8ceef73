# The side-by-side benchmarks (bench/, see bench/README.md): the key-value
# bench, Cairn against RocksDB, LevelDB, LMDB and SQLite, and the document
# bench, Cairn's document API against SQLite's JSON1, each engine through its
# own C API. Included by the top-level Makefile, which defines ROOT, BUILD,
# LIB, LIBDIR and HEADER and builds $(LIB) with `lib`.
#
#   make bench N=100000          install the peers, build, run with N keys
#   make bench-build             install the peers and build, do not run
#   make bench BENCH_ARGS='--engines=cairn,leveldb --benchmarks=fillseq,readrandom'
#   make -o lib bench N=100000   the same without rebuilding libcairn.so
#   make bench-docs N=100000     the document bench with N documents
#   make bench-docs-build        build it only
#   make bench-docs BENCH_ARGS='--sync --rows=insert,find_name'
#   make bench-docs N=20000 BENCH_ARGS='--rows=insert_one_sync'   1 vs 8 writer threads
#   make bench-python            Cairn through Python against plyvel, rocksdict,
#                                lmdb and sqlite3 (bench/python_bench.py), in a
#                                venv of its own with the peers from PyPI
#   make -o lib bench-python PY_BENCH_ARGS='--num=50000 --docs=0'
#
# The peers are Debian's -dev packages, installed by
# `scripts/install-deps.sh --bench` (never by `make test` or `make demo`).
# CAIRN_BENCH_OPTIONS='{"key": value}' in the environment adds Cairn open
# options. A benchmark asserts no speeds: it fails only when an engine fails.

N ?= 1000000
BENCH_ARGS ?=
BENCH_CC ?= cc
BENCH_DIR := $(ROOT)/bench
BENCH_BUILD := $(BUILD)/bench
BENCH_BIN := $(BENCH_BUILD)/cairn-bench
BENCH_DB := $(BUILD)/bench-db
BENCH_SRCS := $(addprefix $(BENCH_DIR)/,harness.c workload.c util.c cairn_options.c engine_cairn.c \
	engine_rocksdb.c engine_leveldb.c engine_lmdb.c engine_sqlite.c)
BENCH_DOCS_BIN := $(BENCH_BUILD)/cairn-docs-bench
BENCH_DOCS_SRCS := $(addprefix $(BENCH_DIR)/,docs_harness.c docs_workload.c docs_engine_cairn.c \
	docs_engine_sqlite.c workload.c util.c cairn_options.c)
BENCH_OPT := -std=c11 -O2 -Wall -Wextra
# Expanded when the recipe runs, after bench-deps has installed the packages.
# Debian's librocksdb-dev and liblmdb-dev ship .pc files, libleveldb-dev does not.
BENCH_PEER_LIBS = $(shell pkg-config --libs rocksdb lmdb sqlite3 2>/dev/null || echo -lrocksdb -llmdb -lsqlite3) -lleveldb
BENCH_SQLITE_LIBS = $(shell pkg-config --libs sqlite3 2>/dev/null || echo -lsqlite3)
BENCH_ROCKSDB_VERSION = $(shell dpkg-query -W -f='$${Version}' librocksdb-dev 2>/dev/null || echo unknown)

.PHONY: bench bench-build bench-deps bench-docs bench-docs-build bench-python

bench-deps:
	@bash scripts/install-deps.sh --bench

bench-build: lib bench-deps
	@mkdir -p $(BENCH_BUILD)
	$(BENCH_CC) $(BENCH_OPT) -pthread -I$(ROOT)/include \
		-DBENCH_ROCKSDB_VERSION='"$(BENCH_ROCKSDB_VERSION)"' \
		-DBENCH_DEFAULT_DB='"$(BENCH_DB)"' -DBENCH_CFLAGS='"$(BENCH_OPT)"' \
		-o $(BENCH_BIN) $(BENCH_SRCS) \
		-L$(LIBDIR) -lcairn -Wl,-rpath,$(LIBDIR) $(BENCH_PEER_LIBS) -lm
	@echo "built $(BENCH_BIN)"

bench: bench-build
	@mkdir -p $(BENCH_DB)
	$(BENCH_BIN) --num=$(N) --db=$(BENCH_DB) $(BENCH_ARGS)

bench-docs-build: lib bench-deps
	@mkdir -p $(BENCH_BUILD)
	$(BENCH_CC) $(BENCH_OPT) -pthread -I$(ROOT)/include \
		-DBENCH_DEFAULT_DB='"$(BENCH_DB)"' -DBENCH_CFLAGS='"$(BENCH_OPT)"' \
		-o $(BENCH_DOCS_BIN) $(BENCH_DOCS_SRCS) \
		-L$(LIBDIR) -lcairn -Wl,-rpath,$(LIBDIR) $(BENCH_SQLITE_LIBS) -lm
	@echo "built $(BENCH_DOCS_BIN)"

bench-docs: bench-docs-build
	@mkdir -p $(BENCH_DB)
	$(BENCH_DOCS_BIN) --num=$(N) --db=$(BENCH_DB) $(BENCH_ARGS)

# The Python bench: its own venv (never the test venv), with the peers'
# wheels from PyPI; a peer that does not install is reported by the bench
# and skipped. The cairn package is the one in bindings/python, on the
# library just built.
PY_BENCH_VENV := $(BUILD)/py-bench-venv
PY_BENCH_PEERS := plyvel rocksdict lmdb
PY_BENCH_ARGS ?=

bench-python: lib
	@test -x $(PY_BENCH_VENV)/bin/python || python3 -m venv $(PY_BENCH_VENV)
	@for peer in $(PY_BENCH_PEERS); do \
		$(PY_BENCH_VENV)/bin/python -c "import $$peer" 2>/dev/null || \
		$(PY_BENCH_VENV)/bin/python -m pip install --quiet --disable-pip-version-check $$peer || \
		echo "bench-python: $$peer could not be installed from PyPI; the bench skips it"; \
	done
	PYTHONPATH=$(ROOT)/bindings/python CAIRN_LIBRARY=$(LIB) \
		$(PY_BENCH_VENV)/bin/python $(BENCH_DIR)/python_bench.py $(PY_BENCH_ARGS)
# The change feed bench (bench/feed_bench.c, issue 13): writer throughput
# with 0 to 1000 watches, delivery rate, callback latency, and SQLite's
# update_hook and Redis Streams for comparison (redis-server is started by
# the bench on loopback and stopped after).
#   make bench-feed N=100000
BENCH_FEED_BIN := $(BENCH_BUILD)/cairn-feed-bench

.PHONY: bench-feed bench-feed-build

bench-feed-build: lib bench-deps
	@mkdir -p $(BENCH_BUILD)
	$(BENCH_CC) $(BENCH_OPT) -pthread -I$(ROOT)/include -o $(BENCH_FEED_BIN) $(BENCH_DIR)/feed_bench.c \
		-L$(LIBDIR) -lcairn -Wl,-rpath,$(LIBDIR) -lhiredis $(BENCH_SQLITE_LIBS)
	@echo "built $(BENCH_FEED_BIN)"

bench-feed: bench-feed-build
	$(BENCH_FEED_BIN) --num=$(N) --db=$(BUILD)/bench-feed-db $(BENCH_ARGS)

# The vector bench (bench/vector_bench.py, issue 15): Cairn's HNSW index
# against hnswlib, usearch and faiss-cpu (each skipped when it does not install), installed from
# PyPI into the project venv. make -o lib bench-vector VEC_BENCH_ARGS='--n=20000'
VEC_BENCH_ARGS ?=
.PHONY: bench-vector
bench-vector: lib python-env
	@for peer in numpy hnswlib usearch faiss-cpu; do \
		$(ROOT)/.venv/bin/python -m pip install --quiet --disable-pip-version-check $$peer || \
		echo "bench-vector: $$peer could not be installed from PyPI; the bench skips it"; \
	done
	PYTHONPATH=$(ROOT)/bindings/python CAIRN_LIBRARY=$(LIB) \
		$(ROOT)/.venv/bin/python $(BENCH_DIR)/vector_bench.py $(VEC_BENCH_ARGS)

# The graph bench (bench/graph_bench.py, issue 18): Cairn's graph layer
# against networkx, igraph, Kuzu (PyPI, in the project venv) and SQLite
# recursive CTEs on a generated social graph; each peer in its own process.
#   make bench-graph
#   make -o lib bench-graph GRAPH_BENCH_ARGS='--vertices=10000 --edges=240000 --peers=cairn,networkx'
GRAPH_BENCH_ARGS ?=
.PHONY: bench-graph
bench-graph: lib python-env
	@for peer in networkx igraph kuzu; do \
		$(ROOT)/.venv/bin/python -c "import $$peer" 2>/dev/null || \
		$(ROOT)/.venv/bin/python -m pip install --quiet --disable-pip-version-check $$peer || \
		echo "bench-graph: $$peer could not be installed from PyPI; the bench skips it"; \
	done
	PYTHONPATH=$(ROOT)/bindings/python CAIRN_LIBRARY=$(LIB) \
		$(ROOT)/.venv/bin/python $(BENCH_DIR)/graph_bench.py $(GRAPH_BENCH_ARGS)

# The full-text search bench (bench/fts_bench.c, issue 14): Cairn's text
# index against SQLite FTS5 on GCIDE's entries (dict-gcide, installed by
# `scripts/install-deps.sh --bench`) and N generated Zipf documents.
#   make bench-fts N=1000000
#   make -o lib bench-fts N=200000 BENCH_ARGS='--corpus=gcide --queries=100'
# bench-fts-python: Cairn through Python against tantivy and bm25s (PyPI),
# installed into the bench's Python venv (bench/fts_bench.py).
#   make -o lib bench-fts-python PY_FTS_ARGS='--docs=50000'
BENCH_FTS_BIN := $(BENCH_BUILD)/cairn-fts-bench
PY_FTS_PEERS := tantivy bm25s
PY_FTS_ARGS ?=

.PHONY: bench-fts bench-fts-build bench-fts-python

bench-fts-build: lib bench-deps
	@mkdir -p $(BENCH_BUILD)
	$(BENCH_CC) $(BENCH_OPT) -I$(ROOT)/include -DBENCH_CFLAGS='"$(BENCH_OPT)"' -o $(BENCH_FTS_BIN) \
		$(BENCH_DIR)/fts_bench.c $(BENCH_DIR)/util.c $(BENCH_DIR)/cairn_options.c \
		-L$(LIBDIR) -lcairn -Wl,-rpath,$(LIBDIR) $(BENCH_SQLITE_LIBS) -lm
	@echo "built $(BENCH_FTS_BIN)"

bench-fts: bench-fts-build
	@mkdir -p $(BENCH_DB)
	$(BENCH_FTS_BIN) --num=$(N) --db=$(BENCH_DB) $(BENCH_ARGS)

bench-fts-python: lib bench-deps
	@test -x $(PY_BENCH_VENV)/bin/python || python3 -m venv $(PY_BENCH_VENV)
	@for peer in $(PY_FTS_PEERS); do \
		$(PY_BENCH_VENV)/bin/python -c "import $$peer" 2>/dev/null || \
		$(PY_BENCH_VENV)/bin/python -m pip install --quiet --disable-pip-version-check $$peer || \
		echo "bench-fts-python: $$peer could not be installed from PyPI; the bench skips it"; \
	done
	PYTHONPATH=$(ROOT)/bindings/python CAIRN_LIBRARY=$(LIB) \
		$(PY_BENCH_VENV)/bin/python $(BENCH_DIR)/fts_bench.py $(PY_FTS_ARGS)
# The time-series bench (bench/ts_bench.c, bench/ts_bench_peers.py): a
# TSBS-style cpu-only data set (TS_HOSTS hosts x 10 fields, every 10 s for
# TS_HOURS hours, fixed seed) through Cairn's C API, then the same data in
# DuckDB (PyPI duckdb, installed into the project venv) and in InfluxDB 1.6
# (Debian's influxdb, installed by bench/install-influxdb.sh when influxd is
# missing, never started as a service: bench/ts_bench_influx.py runs its own
# influxd on a free loopback port with its data under $(TS_BENCH_DIR)/influx
# and stops it), rows side by side. TS_INFLUX=0 leaves InfluxDB out.
#   make bench-ts                       4,000 hosts x 24 hours (345.6M points: long)
#   make bench-ts TS_ARGS=--rss-series=1000000   also the RAM per series at 1M more series
#   make -o lib bench-ts TS_HOSTS=4000 TS_HOURS=1
#   make -o lib bench-ts TS_HOSTS=400 TS_HOURS=2 TS_INFLUX_ARGS=--batch=5000
#   make bench-ts TS_OPTIONS='{"sync":"never","memtable_size_mb":64}'   the bulk-ingest setting
TS_HOSTS ?= 4000
TS_HOURS ?= 24
TS_ARGS ?=
TS_OPTIONS ?= {"sync":"never"}
TS_INFLUX ?= 1
TS_INFLUX_ARGS ?=
TS_BENCH_BIN := $(BENCH_BUILD)/ts-bench
TS_BENCH_DIR := $(BUILD)/ts-bench

.PHONY: bench-ts bench-ts-build

bench-ts-build: lib
	@mkdir -p $(BENCH_BUILD)
	$(BENCH_CC) $(BENCH_OPT) -I$(ROOT)/include -o $(TS_BENCH_BIN) $(BENCH_DIR)/ts_bench.c \
		-L$(LIBDIR) -lcairn -Wl,-rpath,$(LIBDIR)

bench-ts: bench-ts-build python-env
	@$(PY_VENV_PYTHON) -c 'import duckdb' 2>/dev/null || $(PY_PIP) install duckdb
	@rm -rf $(TS_BENCH_DIR) && mkdir -p $(TS_BENCH_DIR)
	$(TS_BENCH_BIN) --db=$(TS_BENCH_DIR)/cairn --hosts=$(TS_HOSTS) --hours=$(TS_HOURS) \
		--csv=$(TS_BENCH_DIR)/cpu.csv '--options=$(TS_OPTIONS)' $(TS_ARGS) | tee $(TS_BENCH_DIR)/cairn.txt
	@if [ "$(TS_INFLUX)" != 1 ]; then :; \
	elif bash $(BENCH_DIR)/install-influxdb.sh; then \
		echo "$(PY_VENV_PYTHON) $(BENCH_DIR)/ts_bench_influx.py --csv=$(TS_BENCH_DIR)/cpu.csv --dir=$(TS_BENCH_DIR)/influx --out=$(TS_BENCH_DIR)/influx.txt $(TS_INFLUX_ARGS)"; \
		$(PY_VENV_PYTHON) $(BENCH_DIR)/ts_bench_influx.py --csv=$(TS_BENCH_DIR)/cpu.csv \
			--dir=$(TS_BENCH_DIR)/influx --out=$(TS_BENCH_DIR)/influx.txt $(TS_INFLUX_ARGS); \
	else echo "bench-ts: influxdb could not be installed; the bench skips it"; fi
	$(PY_VENV_PYTHON) $(BENCH_DIR)/ts_bench_peers.py --csv=$(TS_BENCH_DIR)/cpu.csv \
		--cairn=$(TS_BENCH_DIR)/cairn.txt --db=$(TS_BENCH_DIR)/duckdb \
		$(if $(filter 1,$(TS_INFLUX)),--influx=$(TS_BENCH_DIR)/influx.txt)
	@rm -rf $(TS_BENCH_DIR)/cpu.csv

# Write latency with checkpoints running (bench/checkpoint_bench.c, issue 17):
# p50/p99/p99.9/max of one writer's puts alone and while checkpoints run
# back to back. Not part of `make test`.
#   make bench-checkpoint
#   make -o lib bench-checkpoint BENCH_ARGS='--sync=never --seconds=5'
BENCH_CHECKPOINT_BIN := $(BENCH_BUILD)/cairn-checkpoint-bench

.PHONY: bench-checkpoint bench-checkpoint-build

bench-checkpoint-build: lib
	@mkdir -p $(BENCH_BUILD)
	$(BENCH_CC) $(BENCH_OPT) -pthread -I$(ROOT)/include -o $(BENCH_CHECKPOINT_BIN) $(BENCH_DIR)/checkpoint_bench.c \
		-L$(LIBDIR) -lcairn -Wl,-rpath,$(LIBDIR)

bench-checkpoint: bench-checkpoint-build
	$(BENCH_CHECKPOINT_BIN) --db=$(BUILD)/bench-checkpoint $(BENCH_ARGS)
