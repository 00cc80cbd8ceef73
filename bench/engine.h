/*
** engine.h -- the adapter interface through which the harness drives every
** engine it measures (Cairn, RocksDB, LevelDB, LMDB, SQLite), each through
** its own C API. One engine_cairn.c, engine_rocksdb.c, ... per engine.
**
** CONVENTIONS
**   - Functions that can fail return 0 on success and -1 on failure, after
**     writing a NUL-terminated message into `err` (BENCH_ERRLEN bytes, owned
**     by the caller). get() and iter_next() also have a third outcome.
**   - Keys and values are (pointer, length); nothing is NUL-terminated.
**   - Durability is chosen when a database is opened, not per write,
**     because Cairn ("sync" open option) and LMDB (MDB_NOSYNC environment
**     flag) can only choose it there. A handle opened with sync = 0 is only
**     written with put() and write_batch(); one opened with sync = 1 only with
**     put_sync(). Adapters of engines that choose per write (RocksDB, LevelDB:
**     WriteOptions.sync) still honour this split.
**   - Disk size is not an adapter call: after close() the harness sums the
**     allocated blocks under the database directory, as du(1) does, the same
**     way for every engine.
**
** THREADS
**   put() and put_sync() may be called from several threads at once on one
**   handle (fillsync8). Everything else is called from one thread at a time.
*/
#ifndef BENCH_ENGINE_H
#define BENCH_ENGINE_H

#include "util.h" /* BENCH_ERRLEN, bench_fail */

#include <stddef.h>
#include <stdio.h>

/* The block cache size RocksDB and LevelDB get: Cairn's default, the
** "block_cache_mb" open option of cairn.h (8). Keep the two equal. */
#define BENCH_BLOCK_CACHE_MB 8
/* Bloom filter bits per key for RocksDB and LevelDB. */
#define BENCH_BLOOM_BITS_PER_KEY 10
/* LMDB's map size: an upper bound on the database size, sparse on disk. */
#define BENCH_LMDB_MAP_GIB 8

typedef struct engine_iter engine_iter; /* opaque, one per adapter */

typedef struct engine {
    const char *name; /* as in --engines= */

    /* The library's version (a static string) and a one-line description of
     * the configuration the adapter applies, for the report. */
    const char *(*version)(void);
    void (*describe)(FILE *out);

    /* Opens, creating it if absent, the database in directory `dir`, which
     * exists and is empty for a fresh database. */
    int (*open)(const char *dir, int sync, void **out, char *err);
    /* Closes and frees the handle; afterwards the directory is complete. */
    int (*close)(void *db, char *err);

    int (*put)(void *db, const char *key, size_t key_len, const char *value,
               size_t value_len, char *err);
    int (*put_sync)(void *db, const char *key, size_t key_len,
                    const char *value, size_t value_len, char *err);
    /* Applies n puts atomically (one batch, one transaction). */
    int (*write_batch)(void *db, const char *const *keys,
                       const size_t *key_lens, const char *const *values,
                       const size_t *value_lens, size_t n, char *err);

    /* Copies the value of `key` into value[0..cap) and its full length into
     * *value_len. Returns 1 when found, 0 when absent, -1 on error. */
    int (*get)(void *db, const char *key, size_t key_len, char *value,
               size_t cap, size_t *value_len, char *err);

    /* An iterator over a consistent view of the whole key space, positioned
     * before the first key. iter_seek() positions it so that the next
     * iter_next() yields the first key >= `key`. iter_next() returns 1 with
     * borrowed views of the item (valid until the next call on the
     * iterator), 0 at the end, -1 on error. */
    engine_iter *(*iter_open)(void *db, char *err);
    int (*iter_seek)(engine_iter *it, const char *key, size_t key_len,
                     char *err);
    int (*iter_next)(engine_iter *it, const char **key, size_t *key_len,
                     const char **value, size_t *value_len, char *err);
    void (*iter_close)(engine_iter *it);

    /* Optional (may be NULL): a malloc()ed, NUL-terminated description of
     * the engine's internal state (Cairn: cairn_stats), for the report. */
    char *(*stats)(void *db);

    /* Optional (NULL for engines with nothing to compact: LMDB, SQLite):
     * compacts the whole key space, as RocksDB's and LevelDB's
     * CompactRange(NULL, NULL) do, before the readcompacted row reads. */
    int (*compact)(void *db, char *err);
} engine;

extern const engine engine_cairn;
extern const engine engine_rocksdb;
extern const engine engine_leveldb;
extern const engine engine_lmdb;
extern const engine engine_sqlite;

#endif /* BENCH_ENGINE_H */
