/*
** engine_lmdb.c -- the LMDB adapter, through lmdb.h.
**
** Configuration: LMDB's defaults except a map size of BENCH_LMDB_MAP_GIB GiB
** (address space; the file grows only as pages are written) and the
** environment flag MDB_NOSYNC for databases opened without sync, since LMDB
** chooses durability per environment. Opened with sync, every commit is
** flushed (LMDB's default).
**
** Every put() is its own write transaction; write_batch() is one write
** transaction for the whole batch. get() and iterators use one read-only
** transaction per handle, reset after each use and renewed before the next
** (LMDB's recommended way to repeat reads), so each read sees the newest
** commit.
*/
#include "engine.h"

#include <lmdb.h>

#include <stdlib.h>
#include <string.h>

typedef struct lmdb_handle {
    MDB_env *env;
    MDB_dbi dbi;
    MDB_txn *read_txn; /* reset when idle; NULL until the first read */
    int read_active;   /* a get() or an iterator is using read_txn */
} lmdb_handle;

struct engine_iter {
    lmdb_handle *h;
    MDB_cursor *cursor;
    MDB_val key, value; /* the item the cursor is on, when valid */
    int valid;          /* the cursor is on an item */
    int at_start;       /* that item has not been yielded yet */
};

static int lmdb_fail(char *err, const char *what, int rc)
{
    return bench_fail(err, "%s: %s", what, mdb_strerror(rc));
}

static const char *lmdb_bench_version(void)
{
    static char version[32];
    int major, minor, patch;
    mdb_version(&major, &minor, &patch);
    snprintf(version, sizeof version, "%d.%d.%d", major, minor, patch);
    return version;
}

static void lmdb_describe(FILE *out)
{
    fprintf(out, "defaults, plus map size %d GiB; MDB_NOSYNC (default flags, a flush per commit, for fillsync rows); "
                 "a write transaction per put, one per batch in fillbatch; reads reuse one read-only transaction "
                 "(mdb_txn_reset/renew)",
            BENCH_LMDB_MAP_GIB);
}

static int lmdb_open(const char *dir, int sync, void **out, char *err)
{
    lmdb_handle *h = calloc(1, sizeof *h);
    if (h == NULL) return bench_fail(err, "out of memory");
    int rc = mdb_env_create(&h->env);
    if (rc != 0) {
        free(h);
        return lmdb_fail(err, "mdb_env_create", rc);
    }
    MDB_txn *txn = NULL;
    const char *what = "mdb_env_set_mapsize";
    if ((rc = mdb_env_set_mapsize(h->env, (size_t)BENCH_LMDB_MAP_GIB << 30)) != 0) goto fail;
    what = "mdb_env_open";
    if ((rc = mdb_env_open(h->env, dir, sync ? 0 : MDB_NOSYNC, 0644)) != 0) goto fail;
    what = "mdb_txn_begin";
    if ((rc = mdb_txn_begin(h->env, NULL, 0, &txn)) != 0) goto fail;
    what = "mdb_dbi_open";
    if ((rc = mdb_dbi_open(txn, NULL, 0, &h->dbi)) != 0) {
        mdb_txn_abort(txn);
        goto fail;
    }
    what = "mdb_txn_commit";
    if ((rc = mdb_txn_commit(txn)) != 0) goto fail;
    *out = h;
    return 0;
fail:
    mdb_env_close(h->env);
    free(h);
    return lmdb_fail(err, what, rc);
}

static int lmdb_close(void *db, char *err)
{
    (void)err;
    lmdb_handle *h = db;
    if (h->read_txn) mdb_txn_abort(h->read_txn);
    mdb_env_close(h->env);
    free(h);
    return 0;
}

/* Durability is the environment's (MDB_NOSYNC or not), so put and
 * put_sync are the same call. */
static int lmdb_put(void *db, const char *key, size_t key_len, const char *value, size_t value_len, char *err)
{
    lmdb_handle *h = db;
    MDB_txn *txn;
    int rc = mdb_txn_begin(h->env, NULL, 0, &txn);
    if (rc != 0) return lmdb_fail(err, "mdb_txn_begin", rc);
    MDB_val k = {key_len, (void *)key}, v = {value_len, (void *)value};
    if ((rc = mdb_put(txn, h->dbi, &k, &v, 0)) != 0) {
        mdb_txn_abort(txn);
        return lmdb_fail(err, "mdb_put", rc);
    }
    rc = mdb_txn_commit(txn);
    return rc == 0 ? 0 : lmdb_fail(err, "mdb_txn_commit", rc);
}

static int lmdb_write_batch(void *db, const char *const *keys, const size_t *key_lens, const char *const *values,
                            const size_t *value_lens, size_t n, char *err)
{
    lmdb_handle *h = db;
    MDB_txn *txn;
    int rc = mdb_txn_begin(h->env, NULL, 0, &txn);
    if (rc != 0) return lmdb_fail(err, "mdb_txn_begin", rc);
    for (size_t i = 0; i < n; i++) {
        MDB_val k = {key_lens[i], (void *)keys[i]}, v = {value_lens[i], (void *)values[i]};
        if ((rc = mdb_put(txn, h->dbi, &k, &v, 0)) != 0) {
            mdb_txn_abort(txn);
            return lmdb_fail(err, "mdb_put", rc);
        }
    }
    rc = mdb_txn_commit(txn);
    return rc == 0 ? 0 : lmdb_fail(err, "mdb_txn_commit", rc);
}

static int read_begin(lmdb_handle *h, char *err)
{
    if (h->read_active) return bench_fail(err, "the LMDB adapter allows one read (get or iterator) at a time");
    int rc = h->read_txn ? mdb_txn_renew(h->read_txn) : mdb_txn_begin(h->env, NULL, MDB_RDONLY, &h->read_txn);
    if (rc != 0) return lmdb_fail(err, "mdb_txn_begin/renew (read-only)", rc);
    h->read_active = 1;
    return 0;
}

static void read_end(lmdb_handle *h)
{
    mdb_txn_reset(h->read_txn);
    h->read_active = 0;
}

static int lmdb_get(void *db, const char *key, size_t key_len, char *value, size_t cap, size_t *value_len,
                    char *err)
{
    lmdb_handle *h = db;
    if (read_begin(h, err) != 0) return -1;
    MDB_val k = {key_len, (void *)key}, v;
    int rc = mdb_get(h->read_txn, h->dbi, &k, &v);
    int found = rc == 0;
    if (found) {
        memcpy(value, v.mv_data, v.mv_size < cap ? v.mv_size : cap);
        *value_len = v.mv_size;
    }
    read_end(h);
    if (rc != 0 && rc != MDB_NOTFOUND) return lmdb_fail(err, "mdb_get", rc);
    return found;
}

/* Moves the cursor with `op` and records where it landed. */
static int cursor_move(engine_iter *it, MDB_cursor_op op, char *err)
{
    int rc = mdb_cursor_get(it->cursor, &it->key, &it->value, op);
    it->valid = rc == 0;
    if (rc != 0 && rc != MDB_NOTFOUND) return lmdb_fail(err, "mdb_cursor_get", rc);
    return 0;
}

static engine_iter *lmdb_iter_open(void *db, char *err)
{
    lmdb_handle *h = db;
    engine_iter *it = calloc(1, sizeof *it);
    if (it == NULL) {
        bench_fail(err, "out of memory");
        return NULL;
    }
    it->h = h;
    if (read_begin(h, err) != 0) {
        free(it);
        return NULL;
    }
    int rc = mdb_cursor_open(h->read_txn, h->dbi, &it->cursor);
    if (rc != 0) {
        read_end(h);
        free(it);
        lmdb_fail(err, "mdb_cursor_open", rc);
        return NULL;
    }
    if (cursor_move(it, MDB_FIRST, err) != 0) {
        mdb_cursor_close(it->cursor);
        read_end(h);
        free(it);
        return NULL;
    }
    it->at_start = 1;
    return it;
}

static int lmdb_iter_seek(engine_iter *it, const char *key, size_t key_len, char *err)
{
    it->key.mv_data = (void *)key;
    it->key.mv_size = key_len;
    it->at_start = 1;
    return cursor_move(it, MDB_SET_RANGE, err);
}

static int lmdb_iter_next(engine_iter *it, const char **key, size_t *key_len, const char **value,
                          size_t *value_len, char *err)
{
    if (!it->at_start && it->valid && cursor_move(it, MDB_NEXT, err) != 0) return -1;
    it->at_start = 0;
    if (!it->valid) return 0;
    *key = it->key.mv_data;
    *key_len = it->key.mv_size;
    *value = it->value.mv_data;
    *value_len = it->value.mv_size;
    return 1;
}

static void lmdb_iter_close(engine_iter *it)
{
    mdb_cursor_close(it->cursor);
    read_end(it->h);
    free(it);
}

const engine engine_lmdb = {
    .name = "lmdb",
    .version = lmdb_bench_version,
    .describe = lmdb_describe,
    .open = lmdb_open,
    .close = lmdb_close,
    .put = lmdb_put,
    .put_sync = lmdb_put,
    .write_batch = lmdb_write_batch,
    .get = lmdb_get,
    .iter_open = lmdb_iter_open,
    .iter_seek = lmdb_iter_seek,
    .iter_next = lmdb_iter_next,
    .iter_close = lmdb_iter_close,
    .stats = NULL,
    .compact = NULL,
};
