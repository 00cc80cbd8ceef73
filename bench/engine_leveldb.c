/*
** engine_leveldb.c -- the LevelDB adapter, through leveldb/c.h.
**
** Configuration: LevelDB's defaults except an LRU block cache of
** BENCH_BLOCK_CACHE_MB and a bloom filter of BENCH_BLOOM_BITS_PER_KEY bits
** per key. Compression stays at the default (Snappy). Writes use
** WriteOptions.sync = false, or true for put_sync(). Reads and iterators use
** default ReadOptions.
*/
#include "engine.h"

#include <leveldb/c.h>

#include <stdlib.h>
#include <string.h>

typedef struct level_handle {
    leveldb_t *db;
    leveldb_options_t *options;
    leveldb_cache_t *cache;
    leveldb_filterpolicy_t *filter;
    leveldb_writeoptions_t *write_nosync;
    leveldb_writeoptions_t *write_sync;
    leveldb_readoptions_t *read;
    leveldb_writebatch_t *batch;
} level_handle;

struct engine_iter {
    leveldb_iterator_t *iter;
    int at_start; /* positioned by seek and not yet yielded */
};

/* Takes ownership of a LevelDB error string. */
static int level_fail(char *err, const char *what, char *msg)
{
    bench_fail(err, "%s: %s", what, msg);
    leveldb_free(msg);
    return -1;
}

static const char *level_version(void)
{
    static char version[32];
    snprintf(version, sizeof version, "%d.%d", leveldb_major_version(), leveldb_minor_version());
    return version;
}

static void level_describe(FILE *out)
{
    fprintf(out, "defaults, plus %d MiB LRU block cache, bloom filter %d bits/key; compression default (Snappy); "
                 "WriteOptions.sync=false (true for fillsync rows)",
            BENCH_BLOCK_CACHE_MB, BENCH_BLOOM_BITS_PER_KEY);
}

static void level_free_handle(level_handle *h)
{
    if (h->batch) leveldb_writebatch_destroy(h->batch);
    if (h->read) leveldb_readoptions_destroy(h->read);
    if (h->write_sync) leveldb_writeoptions_destroy(h->write_sync);
    if (h->write_nosync) leveldb_writeoptions_destroy(h->write_nosync);
    if (h->options) leveldb_options_destroy(h->options);
    if (h->filter) leveldb_filterpolicy_destroy(h->filter);
    if (h->cache) leveldb_cache_destroy(h->cache);
    free(h);
}

static int level_open(const char *dir, int sync, void **out, char *err)
{
    (void)sync; /* chosen per write */
    level_handle *h = calloc(1, sizeof *h);
    if (h == NULL) return bench_fail(err, "out of memory");
    h->options = leveldb_options_create();
    leveldb_options_set_create_if_missing(h->options, 1);
    h->cache = leveldb_cache_create_lru((size_t)BENCH_BLOCK_CACHE_MB << 20);
    leveldb_options_set_cache(h->options, h->cache);
    h->filter = leveldb_filterpolicy_create_bloom(BENCH_BLOOM_BITS_PER_KEY);
    leveldb_options_set_filter_policy(h->options, h->filter);
    h->write_nosync = leveldb_writeoptions_create();
    leveldb_writeoptions_set_sync(h->write_nosync, 0);
    h->write_sync = leveldb_writeoptions_create();
    leveldb_writeoptions_set_sync(h->write_sync, 1);
    h->read = leveldb_readoptions_create();
    h->batch = leveldb_writebatch_create();
    char *msg = NULL;
    h->db = leveldb_open(h->options, dir, &msg);
    if (msg != NULL) {
        level_free_handle(h);
        return level_fail(err, "leveldb_open", msg);
    }
    *out = h;
    return 0;
}

static int level_close(void *db, char *err)
{
    (void)err;
    level_handle *h = db;
    leveldb_close(h->db);
    level_free_handle(h);
    return 0;
}

static int level_put_with(level_handle *h, const leveldb_writeoptions_t *wo, const char *key, size_t key_len,
                          const char *value, size_t value_len, char *err)
{
    char *msg = NULL;
    leveldb_put(h->db, wo, key, key_len, value, value_len, &msg);
    return msg == NULL ? 0 : level_fail(err, "leveldb_put", msg);
}

static int level_put(void *db, const char *key, size_t key_len, const char *value, size_t value_len, char *err)
{
    level_handle *h = db;
    return level_put_with(h, h->write_nosync, key, key_len, value, value_len, err);
}

static int level_put_sync(void *db, const char *key, size_t key_len, const char *value, size_t value_len,
                          char *err)
{
    level_handle *h = db;
    return level_put_with(h, h->write_sync, key, key_len, value, value_len, err);
}

static int level_write_batch(void *db, const char *const *keys, const size_t *key_lens, const char *const *values,
                             const size_t *value_lens, size_t n, char *err)
{
    level_handle *h = db;
    leveldb_writebatch_clear(h->batch);
    for (size_t i = 0; i < n; i++) leveldb_writebatch_put(h->batch, keys[i], key_lens[i], values[i], value_lens[i]);
    char *msg = NULL;
    leveldb_write(h->db, h->write_nosync, h->batch, &msg);
    return msg == NULL ? 0 : level_fail(err, "leveldb_write", msg);
}

static int level_get(void *db, const char *key, size_t key_len, char *value, size_t cap, size_t *value_len,
                     char *err)
{
    level_handle *h = db;
    char *msg = NULL;
    size_t len = 0;
    char *v = leveldb_get(h->db, h->read, key, key_len, &len, &msg);
    if (msg != NULL) return level_fail(err, "leveldb_get", msg);
    if (v == NULL) return 0;
    memcpy(value, v, len < cap ? len : cap);
    *value_len = len;
    leveldb_free(v);
    return 1;
}

static engine_iter *level_iter_open(void *db, char *err)
{
    level_handle *h = db;
    engine_iter *it = calloc(1, sizeof *it);
    if (it == NULL) {
        bench_fail(err, "out of memory");
        return NULL;
    }
    it->iter = leveldb_create_iterator(h->db, h->read);
    leveldb_iter_seek_to_first(it->iter);
    it->at_start = 1;
    return it;
}

static int level_iter_seek(engine_iter *it, const char *key, size_t key_len, char *err)
{
    (void)err;
    leveldb_iter_seek(it->iter, key, key_len);
    it->at_start = 1;
    return 0;
}

static int level_iter_next(engine_iter *it, const char **key, size_t *key_len, const char **value,
                           size_t *value_len, char *err)
{
    if (!it->at_start && leveldb_iter_valid(it->iter)) leveldb_iter_next(it->iter);
    it->at_start = 0;
    if (!leveldb_iter_valid(it->iter)) {
        char *msg = NULL;
        leveldb_iter_get_error(it->iter, &msg);
        return msg == NULL ? 0 : level_fail(err, "leveldb iterator", msg);
    }
    *key = leveldb_iter_key(it->iter, key_len);
    *value = leveldb_iter_value(it->iter, value_len);
    return 1;
}

static void level_iter_close(engine_iter *it)
{
    leveldb_iter_destroy(it->iter);
    free(it);
}

static int level_compact(void *db, char *err)
{
    (void)err;
    leveldb_compact_range(((level_handle *)db)->db, NULL, 0, NULL, 0);
    return 0;
}

const engine engine_leveldb = {
    .name = "leveldb",
    .version = level_version,
    .describe = level_describe,
    .open = level_open,
    .close = level_close,
    .put = level_put,
    .put_sync = level_put_sync,
    .write_batch = level_write_batch,
    .get = level_get,
    .iter_open = level_iter_open,
    .iter_seek = level_iter_seek,
    .iter_next = level_iter_next,
    .iter_close = level_iter_close,
    .stats = NULL,
    .compact = level_compact,
};
