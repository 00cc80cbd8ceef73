/*
** engine_cairn.c -- the Cairn adapter, through cairn.h.
**
** Cairn's open options are not written here: cairn_options.c holds them for
** both harnesses (the defaults, and CAIRN_BENCH_OPTIONS from the
** environment); this file asks it for the JSON of each open.
*/
#include "cairn_options.h"
#include "engine.h"

#include <cairn.h>

#include <stdlib.h>
#include <string.h>

/* ---- The adapter --------------------------------------------------------- */

typedef struct cairn_handle {
    cairn_db *db;
    int sync;
    cairn_batch *batch; /* write_batch() reuses one */
} cairn_handle;

/* Items cross the C ABI in batches (cairn_iter_next_batch): a batch of
 * ITER_FIRST_BATCH after each open or seek, so seekrandom's 11 items cost
 * little read-ahead, then twice as many each time up to ITER_MAX_BATCH. */
#define ITER_FIRST_BATCH 16
#define ITER_MAX_BATCH 1024

struct engine_iter {
    cairn_iter *iter;
    const uint8_t *data;     /* the current batch, borrowed */
    const uint32_t *lengths; /* key, value, key, value, ... */
    size_t count, next;      /* items in the batch, the next one to hand out */
    size_t offset;           /* where that item starts in data */
    size_t batch;            /* the size of the next batch */
};

static const char *cairn_bench_version(void) { return cairn_version(); }

static void cairn_bench_describe(FILE *out)
{
    char err[BENCH_ERRLEN];
    char *nosync = bench_cairn_options(0, err);
    char *sync = nosync ? bench_cairn_options(1, err) : NULL;
    if (sync == NULL) {
        fprintf(out, "options rejected: %s", err);
    } else {
        fprintf(out, "cairn_open options %s (fillsync rows: %s); %s=%s; every other option at its default",
                nosync, sync, BENCH_CAIRN_OPTIONS_ENV,
                getenv(BENCH_CAIRN_OPTIONS_ENV) ? getenv(BENCH_CAIRN_OPTIONS_ENV) : "(unset)");
    }
    free(nosync);
    free(sync);
}

static int cairn_bench_open(const char *dir, int sync, void **out, char *err)
{
    cairn_handle *h = calloc(1, sizeof *h);
    if (h == NULL) return bench_fail(err, "out of memory");
    if (bench_cairn_open(dir, sync, &h->db, err) != 0) {
        free(h);
        return -1;
    }
    h->sync = sync;
    *out = h;
    return 0;
}

static int cairn_bench_close(void *db, char *err)
{
    cairn_handle *h = db;
    cairn_batch_free(h->batch);
    char *msg = NULL;
    int rc = cairn_close(h->db, &msg);
    free(h);
    return rc == CAIRN_OK ? 0 : bench_cairn_fail(err, "cairn_close", rc, msg);
}

static int cairn_bench_put(void *db, const char *key, size_t key_len, const char *value, size_t value_len,
                           char *err)
{
    cairn_handle *h = db;
    char *msg = NULL;
    int rc = cairn_put(h->db, (const uint8_t *)key, key_len, (const uint8_t *)value, value_len, 0, &msg);
    return rc == CAIRN_OK ? 0 : bench_cairn_fail(err, "cairn_put", rc, msg);
}

/* Durability is the handle's: opened with "sync":"always" by the harness. */
static int cairn_bench_put_sync(void *db, const char *key, size_t key_len, const char *value,
                                size_t value_len, char *err)
{
    cairn_handle *h = db;
    if (!h->sync) return bench_fail(err, "put_sync on a database opened with \"sync\":\"never\"");
    return cairn_bench_put(db, key, key_len, value, value_len, err);
}

static int cairn_bench_write_batch(void *db, const char *const *keys, const size_t *key_lens,
                                   const char *const *values, const size_t *value_lens, size_t n, char *err)
{
    cairn_handle *h = db;
    char *msg = NULL;
    int rc;
    if (h->batch == NULL && (rc = cairn_batch_new(&h->batch, &msg)) != CAIRN_OK)
        return bench_cairn_fail(err, "cairn_batch_new", rc, msg);
    cairn_batch_clear(h->batch);
    for (size_t i = 0; i < n; i++) {
        rc = cairn_batch_put(h->batch, (const uint8_t *)keys[i], key_lens[i], (const uint8_t *)values[i],
                             value_lens[i], 0, &msg);
        if (rc != CAIRN_OK) return bench_cairn_fail(err, "cairn_batch_put", rc, msg);
    }
    rc = cairn_write(h->db, h->batch, &msg);
    return rc == CAIRN_OK ? 0 : bench_cairn_fail(err, "cairn_write", rc, msg);
}

static int cairn_bench_get(void *db, const char *key, size_t key_len, char *value, size_t cap,
                           size_t *value_len, char *err)
{
    cairn_handle *h = db;
    char *msg = NULL;
    /* Into the caller's buffer, as the adapter interface asks: no
     * allocation, and no message for a miss. A value larger than the
     * buffer reports its size and is not copied: the harness only reads
     * values of the size it wrote. */
    int rc = cairn_get_into(h->db, (const uint8_t *)key, key_len, (uint8_t *)value, cap, value_len, &msg);
    if (rc == CAIRN_NOT_FOUND) return 0;
    if (rc != CAIRN_OK) return bench_cairn_fail(err, "cairn_get_into", rc, msg);
    return 1;
}

static engine_iter *cairn_bench_iter_open(void *db, char *err)
{
    cairn_handle *h = db;
    engine_iter *it = calloc(1, sizeof *it);
    if (it == NULL) {
        bench_fail(err, "out of memory");
        return NULL;
    }
    char *msg = NULL;
    it->batch = ITER_FIRST_BATCH;
    int rc = cairn_iter_open(h->db, NULL, 0, NULL, 0, 0, &it->iter, &msg);
    if (rc != CAIRN_OK) {
        free(it);
        bench_cairn_fail(err, "cairn_iter_open", rc, msg);
        return NULL;
    }
    return it;
}

static int cairn_bench_iter_seek(engine_iter *it, const char *key, size_t key_len, char *err)
{
    char *msg = NULL;
    int rc = cairn_iter_seek(it->iter, (const uint8_t *)key, key_len, &msg);
    it->count = it->next = 0;
    it->batch = ITER_FIRST_BATCH;
    return rc == CAIRN_OK ? 0 : bench_cairn_fail(err, "cairn_iter_seek", rc, msg);
}

static int cairn_bench_iter_next(engine_iter *it, const char **key, size_t *key_len, const char **value,
                                 size_t *value_len, char *err)
{
    if (it->next == it->count) {
        char *msg = NULL;
        size_t data_len = 0;
        int rc = cairn_iter_next_batch(it->iter, it->batch, 0, 0, &it->data, &data_len, &it->lengths, &it->count,
                                       &msg);
        it->next = it->offset = 0;
        if (rc == CAIRN_DONE) {
            it->count = 0;
            cairn_free(msg);
            return 0;
        }
        if (rc != CAIRN_OK) {
            it->count = 0;
            return bench_cairn_fail(err, "cairn_iter_next_batch", rc, msg);
        }
        if (it->batch < ITER_MAX_BATCH) it->batch *= 2;
    }
    *key_len = it->lengths[2 * it->next];
    *value_len = it->lengths[2 * it->next + 1];
    *key = (const char *)it->data + it->offset;
    *value = *key + *key_len;
    it->offset += *key_len + *value_len;
    it->next++;
    return 1;
}

static void cairn_bench_iter_close(engine_iter *it)
{
    cairn_iter_close(it->iter);
    free(it);
}

static char *cairn_bench_stats(void *db)
{
    cairn_handle *h = db;
    char *json = NULL, *msg = NULL;
    if (cairn_stats(h->db, &json, NULL, &msg) != CAIRN_OK) {
        cairn_free(msg);
        return NULL;
    }
    size_t len = strlen(json);
    char *copy = malloc(len + 1);
    if (copy) memcpy(copy, json, len + 1);
    cairn_free(json);
    return copy;
}

static int cairn_bench_compact(void *db, char *err)
{
    cairn_handle *h = db;
    char *msg = NULL;
    int rc = cairn_compact_range(h->db, NULL, 0, NULL, 0, &msg);
    return rc == CAIRN_OK ? 0 : bench_cairn_fail(err, "cairn_compact_range", rc, msg);
}

const engine engine_cairn = {
    .name = "cairn",
    .version = cairn_bench_version,
    .describe = cairn_bench_describe,
    .open = cairn_bench_open,
    .close = cairn_bench_close,
    .put = cairn_bench_put,
    .put_sync = cairn_bench_put_sync,
    .write_batch = cairn_bench_write_batch,
    .get = cairn_bench_get,
    .iter_open = cairn_bench_iter_open,
    .iter_seek = cairn_bench_iter_seek,
    .iter_next = cairn_bench_iter_next,
    .iter_close = cairn_bench_iter_close,
    .stats = cairn_bench_stats,
    .compact = cairn_bench_compact,
};
