/*
** engine_rocksdb.c -- the RocksDB adapter, through rocksdb/c.h.
**
** Configuration: RocksDB's defaults except a block-based table with an LRU
** block cache of BENCH_BLOCK_CACHE_MB and a full bloom filter of
** BENCH_BLOOM_BITS_PER_KEY bits per key. Compression stays at the default
** (Snappy in Debian's build). Writes use WriteOptions.sync = false, or true
** for put_sync(). Reads and iterators use default ReadOptions.
**
** The C API has no runtime version call on every release; the Makefile
** passes the Debian package version as BENCH_ROCKSDB_VERSION.
*/
#include "engine.h"

#include <rocksdb/c.h>

#include <stdlib.h>
#include <string.h>

#ifndef BENCH_ROCKSDB_VERSION
#define BENCH_ROCKSDB_VERSION "unknown"
#endif

typedef struct rocks_handle {
    rocksdb_t *db;
    rocksdb_options_t *options;
    rocksdb_block_based_table_options_t *table;
    rocksdb_cache_t *cache;
    rocksdb_writeoptions_t *write_nosync;
    rocksdb_writeoptions_t *write_sync;
    rocksdb_readoptions_t *read;
    rocksdb_writebatch_t *batch;
} rocks_handle;

struct engine_iter {
    rocksdb_iterator_t *iter;
    int at_start; /* positioned by seek and not yet yielded */
};

/* Takes ownership of a RocksDB error string. */
static int rocks_fail(char *err, const char *what, char *msg)
{
    bench_fail(err, "%s: %s", what, msg);
    rocksdb_free(msg);
    return -1;
}

static const char *rocks_version(void) { return BENCH_ROCKSDB_VERSION " (Debian package)"; }

static void rocks_describe(FILE *out)
{
    fprintf(out, "defaults, plus block-based table with %d MiB LRU block cache, full bloom filter %d bits/key; "
                 "compression default (Snappy); WriteOptions.sync=false (true for fillsync rows)",
            BENCH_BLOCK_CACHE_MB, BENCH_BLOOM_BITS_PER_KEY);
}

static void rocks_free_handle(rocks_handle *h)
{
    if (h->batch) rocksdb_writebatch_destroy(h->batch);
    if (h->read) rocksdb_readoptions_destroy(h->read);
    if (h->write_sync) rocksdb_writeoptions_destroy(h->write_sync);
    if (h->write_nosync) rocksdb_writeoptions_destroy(h->write_nosync);
    if (h->options) rocksdb_options_destroy(h->options);
    if (h->table) rocksdb_block_based_options_destroy(h->table);
    if (h->cache) rocksdb_cache_destroy(h->cache);
    free(h);
}

static int rocks_open(const char *dir, int sync, void **out, char *err)
{
    (void)sync; /* chosen per write */
    rocks_handle *h = calloc(1, sizeof *h);
    if (h == NULL) return bench_fail(err, "out of memory");
    h->options = rocksdb_options_create();
    rocksdb_options_set_create_if_missing(h->options, 1);
    h->table = rocksdb_block_based_options_create();
    h->cache = rocksdb_cache_create_lru((size_t)BENCH_BLOCK_CACHE_MB << 20);
    rocksdb_block_based_options_set_block_cache(h->table, h->cache);
    /* The filter policy is owned by the table options from here on. */
    rocksdb_block_based_options_set_filter_policy(h->table,
                                                  rocksdb_filterpolicy_create_bloom_full(BENCH_BLOOM_BITS_PER_KEY));
    rocksdb_options_set_block_based_table_factory(h->options, h->table);
    h->write_nosync = rocksdb_writeoptions_create();
    rocksdb_writeoptions_set_sync(h->write_nosync, 0);
    h->write_sync = rocksdb_writeoptions_create();
    rocksdb_writeoptions_set_sync(h->write_sync, 1);
    h->read = rocksdb_readoptions_create();
    h->batch = rocksdb_writebatch_create();
    char *msg = NULL;
    h->db = rocksdb_open(h->options, dir, &msg);
    if (msg != NULL) {
        rocks_free_handle(h);
        return rocks_fail(err, "rocksdb_open", msg);
    }
    *out = h;
    return 0;
}

static int rocks_close(void *db, char *err)
{
    (void)err;
    rocks_handle *h = db;
    rocksdb_close(h->db);
    rocks_free_handle(h);
    return 0;
}

static int rocks_put_with(rocks_handle *h, const rocksdb_writeoptions_t *wo, const char *key, size_t key_len,
                          const char *value, size_t value_len, char *err)
{
    char *msg = NULL;
    rocksdb_put(h->db, wo, key, key_len, value, value_len, &msg);
    return msg == NULL ? 0 : rocks_fail(err, "rocksdb_put", msg);
}

static int rocks_put(void *db, const char *key, size_t key_len, const char *value, size_t value_len, char *err)
{
    rocks_handle *h = db;
    return rocks_put_with(h, h->write_nosync, key, key_len, value, value_len, err);
}

static int rocks_put_sync(void *db, const char *key, size_t key_len, const char *value, size_t value_len,
                          char *err)
{
    rocks_handle *h = db;
    return rocks_put_with(h, h->write_sync, key, key_len, value, value_len, err);
}

static int rocks_write_batch(void *db, const char *const *keys, const size_t *key_lens, const char *const *values,
                             const size_t *value_lens, size_t n, char *err)
{
    rocks_handle *h = db;
    rocksdb_writebatch_clear(h->batch);
    for (size_t i = 0; i < n; i++) rocksdb_writebatch_put(h->batch, keys[i], key_lens[i], values[i], value_lens[i]);
    char *msg = NULL;
    rocksdb_write(h->db, h->write_nosync, h->batch, &msg);
    return msg == NULL ? 0 : rocks_fail(err, "rocksdb_write", msg);
}

static int rocks_get(void *db, const char *key, size_t key_len, char *value, size_t cap, size_t *value_len,
                     char *err)
{
    rocks_handle *h = db;
    char *msg = NULL;
    size_t len = 0;
    char *v = rocksdb_get(h->db, h->read, key, key_len, &len, &msg);
    if (msg != NULL) return rocks_fail(err, "rocksdb_get", msg);
    if (v == NULL) return 0;
    memcpy(value, v, len < cap ? len : cap);
    *value_len = len;
    rocksdb_free(v);
    return 1;
}

static engine_iter *rocks_iter_open(void *db, char *err)
{
    rocks_handle *h = db;
    engine_iter *it = calloc(1, sizeof *it);
    if (it == NULL) {
        bench_fail(err, "out of memory");
        return NULL;
    }
    it->iter = rocksdb_create_iterator(h->db, h->read);
    rocksdb_iter_seek_to_first(it->iter);
    it->at_start = 1;
    return it;
}

static int rocks_iter_seek(engine_iter *it, const char *key, size_t key_len, char *err)
{
    (void)err;
    rocksdb_iter_seek(it->iter, key, key_len);
    it->at_start = 1;
    return 0;
}

static int rocks_iter_next(engine_iter *it, const char **key, size_t *key_len, const char **value,
                           size_t *value_len, char *err)
{
    if (!it->at_start && rocksdb_iter_valid(it->iter)) rocksdb_iter_next(it->iter);
    it->at_start = 0;
    if (!rocksdb_iter_valid(it->iter)) {
        char *msg = NULL;
        rocksdb_iter_get_error(it->iter, &msg);
        return msg == NULL ? 0 : rocks_fail(err, "rocksdb iterator", msg);
    }
    *key = rocksdb_iter_key(it->iter, key_len);
    *value = rocksdb_iter_value(it->iter, value_len);
    return 1;
}

static void rocks_iter_close(engine_iter *it)
{
    rocksdb_iter_destroy(it->iter);
    free(it);
}

static int rocks_compact(void *db, char *err)
{
    (void)err;
    rocksdb_compact_range(((rocks_handle *)db)->db, NULL, 0, NULL, 0);
    return 0;
}

const engine engine_rocksdb = {
    .name = "rocksdb",
    .version = rocks_version,
    .describe = rocks_describe,
    .open = rocks_open,
    .close = rocks_close,
    .put = rocks_put,
    .put_sync = rocks_put_sync,
    .write_batch = rocks_write_batch,
    .get = rocks_get,
    .iter_open = rocks_iter_open,
    .iter_seek = rocks_iter_seek,
    .iter_next = rocks_iter_next,
    .iter_close = rocks_iter_close,
    .stats = NULL,
    .compact = rocks_compact,
};
