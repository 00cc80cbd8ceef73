/*
** engine_sqlite.c -- the SQLite adapter, through sqlite3.h.
**
** The database is one file, <dir>/kv.sqlite, holding
**     CREATE TABLE kv(k BLOB PRIMARY KEY, v BLOB) WITHOUT ROWID
** in WAL mode with synchronous=OFF, or synchronous=FULL when opened with
** sync. Every put() is one autocommitted INSERT OR REPLACE; write_batch() is
** one transaction (BEGIN ... COMMIT) around its puts. Gets and iterators are
** prepared statements, prepared once and reset for each use. Every other
** setting (page size, cache_size, wal_autocheckpoint) is SQLite's default.
**
** One connection serves every thread: statements are not shareable, so puts
** take a mutex. SQLite admits one writer at a time in any case.
*/
#include "engine.h"

#include <sqlite3.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef struct sqlite_handle {
    sqlite3 *db;
    sqlite3_stmt *put;
    sqlite3_stmt *get;
    sqlite3_stmt *scan; /* the one iterator's statement */
    sqlite3_stmt *begin;
    sqlite3_stmt *commit;
    pthread_mutex_t write_lock;
    int scan_busy;
} sqlite_handle;

struct engine_iter {
    sqlite_handle *h;
};

static const char SQLITE_FILE[] = "kv.sqlite";
/* A non-NULL pointer for binding the empty blob (a NULL one binds NULL). */
static const char EMPTY[1] = "";

static int sqlite_fail(char *err, sqlite_handle *h, const char *what)
{
    return bench_fail(err, "%s: %s", what, sqlite3_errmsg(h->db));
}

static const char *sqlite_version(void) { return sqlite3_libversion(); }

static void sqlite_describe(FILE *out)
{
    fprintf(out, "WITHOUT ROWID table (k BLOB PRIMARY KEY, v BLOB); journal_mode=WAL, synchronous=OFF (FULL for "
                 "fillsync rows); one autocommitted INSERT OR REPLACE per put, a transaction per batch in fillbatch; "
                 "prepared statements; other settings default");
}

static void sqlite_free_handle(sqlite_handle *h)
{
    sqlite3_finalize(h->put);
    sqlite3_finalize(h->get);
    sqlite3_finalize(h->scan);
    sqlite3_finalize(h->begin);
    sqlite3_finalize(h->commit);
    sqlite3_close(h->db);
    pthread_mutex_destroy(&h->write_lock);
    free(h);
}

static int sqlite_open(const char *dir, int sync, void **out, char *err)
{
    sqlite_handle *h = calloc(1, sizeof *h);
    if (h == NULL) return bench_fail(err, "out of memory");
    pthread_mutex_init(&h->write_lock, NULL);
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, SQLITE_FILE);
    const char *what = "sqlite3_open";
    if (sqlite3_open(path, &h->db) != SQLITE_OK) goto fail;
    what = "configuring";
    if (sqlite3_exec(h->db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL) != SQLITE_OK) goto fail;
    if (sqlite3_exec(h->db, sync ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=OFF", NULL, NULL, NULL) != SQLITE_OK)
        goto fail;
    if (sqlite3_exec(h->db, "CREATE TABLE IF NOT EXISTS kv(k BLOB PRIMARY KEY, v BLOB) WITHOUT ROWID", NULL, NULL,
                     NULL) != SQLITE_OK)
        goto fail;
    what = "preparing statements";
    if (sqlite3_prepare_v2(h->db, "INSERT OR REPLACE INTO kv(k, v) VALUES(?1, ?2)", -1, &h->put, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(h->db, "SELECT v FROM kv WHERE k = ?1", -1, &h->get, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(h->db, "SELECT k, v FROM kv WHERE k >= ?1 ORDER BY k", -1, &h->scan, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(h->db, "BEGIN", -1, &h->begin, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(h->db, "COMMIT", -1, &h->commit, NULL) != SQLITE_OK)
        goto fail;
    *out = h;
    return 0;
fail:
    sqlite_fail(err, h, what);
    sqlite_free_handle(h);
    return -1;
}

static int sqlite_close(void *db, char *err)
{
    sqlite_handle *h = db;
    sqlite3_finalize(h->put);
    sqlite3_finalize(h->get);
    sqlite3_finalize(h->scan);
    sqlite3_finalize(h->begin);
    sqlite3_finalize(h->commit);
    h->put = h->get = h->scan = h->begin = h->commit = NULL;
    int rc = sqlite3_close(h->db);
    if (rc != SQLITE_OK) {
        bench_fail(err, "sqlite3_close: %s", sqlite3_errstr(rc));
        return -1; /* leaks the handle; the process is about to end */
    }
    h->db = NULL;
    pthread_mutex_destroy(&h->write_lock);
    free(h);
    return 0;
}

/* Runs a statement that returns no rows. */
static int step_done(sqlite_handle *h, sqlite3_stmt *stmt, const char *what, char *err)
{
    int rc = sqlite3_step(stmt);
    sqlite3_reset(stmt);
    return rc == SQLITE_DONE ? 0 : sqlite_fail(err, h, what);
}

static int put_locked(sqlite_handle *h, const char *key, size_t key_len, const char *value, size_t value_len,
                      char *err)
{
    sqlite3_bind_blob(h->put, 1, key, (int)key_len, SQLITE_STATIC);
    sqlite3_bind_blob(h->put, 2, value_len ? value : EMPTY, (int)value_len, SQLITE_STATIC);
    int rc = step_done(h, h->put, "INSERT OR REPLACE", err);
    sqlite3_clear_bindings(h->put);
    return rc;
}

/* Durability is the connection's (synchronous=OFF or FULL), so put and
 * put_sync are the same call. */
static int sqlite_put(void *db, const char *key, size_t key_len, const char *value, size_t value_len, char *err)
{
    sqlite_handle *h = db;
    pthread_mutex_lock(&h->write_lock);
    int rc = put_locked(h, key, key_len, value, value_len, err);
    pthread_mutex_unlock(&h->write_lock);
    return rc;
}

static int sqlite_write_batch(void *db, const char *const *keys, const size_t *key_lens, const char *const *values,
                              const size_t *value_lens, size_t n, char *err)
{
    sqlite_handle *h = db;
    pthread_mutex_lock(&h->write_lock);
    int rc = step_done(h, h->begin, "BEGIN", err);
    for (size_t i = 0; rc == 0 && i < n; i++) rc = put_locked(h, keys[i], key_lens[i], values[i], value_lens[i], err);
    if (rc == 0) rc = step_done(h, h->commit, "COMMIT", err);
    else sqlite3_exec(h->db, "ROLLBACK", NULL, NULL, NULL);
    pthread_mutex_unlock(&h->write_lock);
    return rc;
}

static int sqlite_get(void *db, const char *key, size_t key_len, char *value, size_t cap, size_t *value_len,
                      char *err)
{
    sqlite_handle *h = db;
    sqlite3_bind_blob(h->get, 1, key, (int)key_len, SQLITE_STATIC);
    int rc = sqlite3_step(h->get), found = 0;
    if (rc == SQLITE_ROW) {
        const void *v = sqlite3_column_blob(h->get, 0); /* before _bytes, as SQLite asks */
        size_t len = (size_t)sqlite3_column_bytes(h->get, 0);
        if (len) memcpy(value, v, len < cap ? len : cap);
        *value_len = len;
        found = 1;
    } else if (rc != SQLITE_DONE) {
        sqlite_fail(err, h, "SELECT v");
        found = -1;
    }
    sqlite3_reset(h->get);
    sqlite3_clear_bindings(h->get);
    return found;
}

static int sqlite_iter_seek(engine_iter *it, const char *key, size_t key_len, char *err)
{
    (void)err;
    sqlite3_stmt *scan = it->h->scan;
    sqlite3_reset(scan);
    sqlite3_bind_blob(scan, 1, key_len ? key : EMPTY, (int)key_len, SQLITE_TRANSIENT);
    return 0;
}

static engine_iter *sqlite_iter_open(void *db, char *err)
{
    sqlite_handle *h = db;
    if (h->scan_busy) {
        bench_fail(err, "the SQLite adapter allows one iterator at a time");
        return NULL;
    }
    engine_iter *it = calloc(1, sizeof *it);
    if (it == NULL) {
        bench_fail(err, "out of memory");
        return NULL;
    }
    it->h = h;
    h->scan_busy = 1;
    sqlite_iter_seek(it, NULL, 0, err);
    return it;
}

static int sqlite_iter_next(engine_iter *it, const char **key, size_t *key_len, const char **value,
                            size_t *value_len, char *err)
{
    sqlite3_stmt *scan = it->h->scan;
    int rc = sqlite3_step(scan);
    if (rc == SQLITE_DONE) return 0;
    if (rc != SQLITE_ROW) return sqlite_fail(err, it->h, "SELECT k, v");
    *key = sqlite3_column_blob(scan, 0);
    *key_len = (size_t)sqlite3_column_bytes(scan, 0);
    *value = sqlite3_column_blob(scan, 1);
    *value_len = (size_t)sqlite3_column_bytes(scan, 1);
    return 1;
}

static void sqlite_iter_close(engine_iter *it)
{
    sqlite3_reset(it->h->scan);
    it->h->scan_busy = 0;
    free(it);
}

const engine engine_sqlite = {
    .name = "sqlite",
    .version = sqlite_version,
    .describe = sqlite_describe,
    .open = sqlite_open,
    .close = sqlite_close,
    .put = sqlite_put,
    .put_sync = sqlite_put,
    .write_batch = sqlite_write_batch,
    .get = sqlite_get,
    .iter_open = sqlite_iter_open,
    .iter_seek = sqlite_iter_seek,
    .iter_next = sqlite_iter_next,
    .iter_close = sqlite_iter_close,
    .stats = NULL,
    .compact = NULL,
};
