/*
** docs_engine_sqlite.c -- the document benchmark's SQLite adapter: JSON
** text in a table, queried with the JSON1 functions, through sqlite3.h.
**
** The database is one file, <dir>/docs.sqlite, holding
**     CREATE TABLE docs(id TEXT PRIMARY KEY, body TEXT)
** where body is the document's JSON text exactly as the harness wrote it
** (its _id included) and id its _id. Each indexed field gets an expression
** index
**     CREATE INDEX docs_<field> ON docs(json_extract(body, '$.<field>'))
** and the queries use the same expression, so the planner uses the index.
** Each operation is one statement:
**
**   insert a batch   BEGIN; INSERT INTO docs(id, body) VALUES(?1, ?2) per
**                    document; COMMIT
**   find by value    SELECT body ... WHERE json_extract(body, '$.f') = ?1
**   range, sorted    ... WHERE f >= ?1 AND f < ?2 ORDER BY f LIMIT ?3
**   unindexed band   ... WHERE f > ?1 AND f < ?2
**   update           UPDATE docs SET body = json_set(body, '$.i',
**                    json_extract(body, '$.i') + 1) WHERE f IN (?1, ...)
**   group            SELECT json_extract(body, '$.g'), count(*),
**                    avg(json_extract(body, '$.a')) FROM docs GROUP BY
**                    json_extract(body, '$.g')
**
** (f standing for json_extract(body, '$.<field>')). journal_mode=WAL, and
** synchronous=OFF, or FULL when opened with sync (a WAL fsync per commit),
** as the key-value bench pairs them with Cairn's "sync" option. Statements
** are prepared once and reset for each use. Every other setting (page
** size, the 2 MiB page cache, wal_autocheckpoint) is SQLite's default.
**
**   insert one       INSERT INTO docs(id, body) VALUES(?1, ?2), autocommitted:
**                    one transaction per document
**
** A SQLite connection serves one thread at a time, so a thread that writes
** beside others gets a connection of its own (connect()): another
** sqlite3_open of the same file, with the opener's synchronous setting and
** a busy timeout of BUSY_TIMEOUT_MS, so that a writer waits for the write
** lock (SQLite admits one writer at a time) instead of failing with
** SQLITE_BUSY.
*/
#include "docs_engine.h"

#include <sqlite3.h>

#include <stdlib.h>
#include <string.h>

/* A prepared statement kept for as long as its SQL text stays the same. */
typedef struct cached_stmt {
    sqlite3_stmt *stmt;
    char sql[512];
} cached_stmt;

enum { S_INSERT, S_BEGIN, S_COMMIT, S_EQUAL, S_RANGE, S_BETWEEN, S_COUNT, S_GROUP, S_COUNT_OF };

typedef struct sqlite_docs {
    sqlite3 *db;
    cached_stmt stmts[S_COUNT_OF];
    char path[4096]; /* the database file */
    int sync;
} sqlite_docs;

static const char SQLITE_FILE[] = "docs.sqlite";
#define BUSY_TIMEOUT_MS 60000

static int sqlite_fail(char *err, sqlite_docs *h, const char *what)
{
    return bench_fail(err, "%s: %s", what, sqlite3_errmsg(h->db));
}

/* The statement for `sql` in slot `slot`, prepared when the slot held
 * another text (or none), reset and unbound otherwise. NULL on error. */
static sqlite3_stmt *statement(sqlite_docs *h, int slot, const char *sql, char *err)
{
    cached_stmt *c = &h->stmts[slot];
    if (c->stmt != NULL && strcmp(c->sql, sql) == 0) {
        sqlite3_reset(c->stmt);
        sqlite3_clear_bindings(c->stmt);
        return c->stmt;
    }
    sqlite3_finalize(c->stmt);
    c->stmt = NULL;
    if (strlen(sql) >= sizeof c->sql) {
        bench_fail(err, "SQL too long for the statement cache: %s", sql);
        return NULL;
    }
    if (sqlite3_prepare_v2(h->db, sql, -1, &c->stmt, NULL) != SQLITE_OK) {
        bench_fail(err, "preparing %s: %s", sql, sqlite3_errmsg(h->db));
        return NULL;
    }
    snprintf(c->sql, sizeof c->sql, "%s", sql);
    return c->stmt;
}

/* Runs a statement that returns no rows. */
static int step_done(sqlite_docs *h, sqlite3_stmt *stmt, const char *what, char *err)
{
    int rc = sqlite3_step(stmt);
    sqlite3_reset(stmt);
    return rc == SQLITE_DONE ? 0 : sqlite_fail(err, h, what);
}

/* Steps a statement whose first column is a document and visits each row. */
static int64_t visit_rows(sqlite_docs *h, sqlite3_stmt *stmt, docs_visit visit, void *arg, char *err)
{
    int64_t n = 0;
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        const char *body = (const char *)sqlite3_column_text(stmt, 0); /* before _bytes, as SQLite asks */
        visit(arg, body ? body : "", (size_t)sqlite3_column_bytes(stmt, 0));
        n++;
    }
    sqlite3_reset(stmt);
    return rc == SQLITE_DONE ? n : sqlite_fail(err, h, "SELECT body");
}

static const char *sqlite_docs_version(void) { return sqlite3_libversion(); }

static void sqlite_docs_describe(FILE *out, int sync)
{
    fprintf(out, "table docs(id TEXT PRIMARY KEY, body TEXT) of JSON text; an expression index "
                 "json_extract(body, '$.field') per indexed field, created before the inserts; journal_mode=WAL, "
                 "synchronous=%s; one transaction per batch; JSON1 functions in the queries, prepared statements; "
                 "other settings default; insert_one_sync: one autocommitted INSERT per document, "
                 "synchronous=FULL, a connection per thread with busy_timeout %d ms",
            sync ? "FULL" : "OFF", BUSY_TIMEOUT_MS);
}

static void sqlite_docs_free(sqlite_docs *h)
{
    for (int i = 0; i < S_COUNT_OF; i++) sqlite3_finalize(h->stmts[i].stmt);
    sqlite3_close(h->db);
    free(h);
}

/* Opens h->path with h->sync: the table is created when `create`. */
static int sqlite_docs_connect_file(sqlite_docs *h, int create, char *err)
{
    const char *what = "sqlite3_open";
    if (sqlite3_open(h->path, &h->db) != SQLITE_OK) goto fail;
    what = "configuring";
    if (sqlite3_busy_timeout(h->db, BUSY_TIMEOUT_MS) != SQLITE_OK) goto fail;
    if (sqlite3_exec(h->db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL) != SQLITE_OK) goto fail;
    if (sqlite3_exec(h->db, h->sync ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=OFF", NULL, NULL, NULL) !=
        SQLITE_OK)
        goto fail;
    if (create && sqlite3_exec(h->db, "CREATE TABLE IF NOT EXISTS " DOCS_COLLECTION "(id TEXT PRIMARY KEY, body TEXT)",
                               NULL, NULL, NULL) != SQLITE_OK)
        goto fail;
    return 0;
fail:
    sqlite_fail(err, h, what);
    sqlite_docs_free(h);
    return -1;
}

static int sqlite_docs_open(const char *dir, int sync, void **out, char *err)
{
    sqlite_docs *h = calloc(1, sizeof *h);
    if (h == NULL) return bench_fail(err, "out of memory");
    snprintf(h->path, sizeof h->path, "%s/%s", dir, SQLITE_FILE);
    h->sync = sync;
    if (sqlite_docs_connect_file(h, 1, err) != 0) return -1;
    *out = h;
    return 0;
}

static int sqlite_docs_connect(void *db, void **out, char *err)
{
    sqlite_docs *h = db, *c = calloc(1, sizeof *c);
    if (c == NULL) return bench_fail(err, "out of memory");
    memcpy(c->path, h->path, sizeof c->path);
    c->sync = h->sync;
    if (sqlite_docs_connect_file(c, 0, err) != 0) return -1;
    *out = c;
    return 0;
}

static int sqlite_docs_close(void *db, char *err)
{
    sqlite_docs *h = db;
    for (int i = 0; i < S_COUNT_OF; i++) {
        sqlite3_finalize(h->stmts[i].stmt);
        h->stmts[i].stmt = NULL;
    }
    int rc = sqlite3_close(h->db);
    if (rc != SQLITE_OK) return bench_fail(err, "sqlite3_close: %s", sqlite3_errstr(rc)); /* leaks h; exiting */
    free(h);
    return 0;
}

/* A connection closes as the opener's handle does. */
static int sqlite_docs_disconnect(void *conn, char *err) { return sqlite_docs_close(conn, err); }

static int sqlite_docs_create_indexes(void *db, const char *const *fields, size_t n, char *err)
{
    sqlite_docs *h = db;
    for (size_t i = 0; i < n; i++) {
        char sql[256];
        snprintf(sql, sizeof sql,
                 "CREATE INDEX IF NOT EXISTS " DOCS_COLLECTION "_%s ON " DOCS_COLLECTION
                 "(json_extract(body, '$.%s'))",
                 fields[i], fields[i]);
        if (sqlite3_exec(h->db, sql, NULL, NULL, NULL) != SQLITE_OK) return sqlite_fail(err, h, sql);
    }
    return 0;
}

static int sqlite_docs_insert_batch(void *db, const docs_batch *batch, char *err)
{
    sqlite_docs *h = db;
    sqlite3_stmt *begin = statement(h, S_BEGIN, "BEGIN", err);
    sqlite3_stmt *commit = begin ? statement(h, S_COMMIT, "COMMIT", err) : NULL;
    sqlite3_stmt *insert =
        commit ? statement(h, S_INSERT, "INSERT INTO " DOCS_COLLECTION "(id, body) VALUES(?1, ?2)", err) : NULL;
    if (insert == NULL) return -1;
    int rc = step_done(h, begin, "BEGIN", err);
    for (size_t i = 0; rc == 0 && i < batch->n; i++) {
        sqlite3_bind_text(insert, 1, batch->ids[i], DOCS_ID_LEN, SQLITE_STATIC);
        sqlite3_bind_text(insert, 2, batch->docs[i], (int)batch->doc_lens[i], SQLITE_STATIC);
        rc = step_done(h, insert, "INSERT", err);
    }
    sqlite3_clear_bindings(insert);
    if (rc == 0) return step_done(h, commit, "COMMIT", err);
    sqlite3_exec(h->db, "ROLLBACK", NULL, NULL, NULL);
    return -1;
}

static int sqlite_docs_insert_one(void *db, const char *id, const char *json, size_t len, char *err)
{
    sqlite_docs *h = db;
    sqlite3_stmt *insert = statement(h, S_INSERT, "INSERT INTO " DOCS_COLLECTION "(id, body) VALUES(?1, ?2)", err);
    if (insert == NULL) return -1;
    sqlite3_bind_text(insert, 1, id, DOCS_ID_LEN, SQLITE_STATIC);
    sqlite3_bind_text(insert, 2, json, (int)len, SQLITE_STATIC);
    int rc = step_done(h, insert, "INSERT", err);
    sqlite3_clear_bindings(insert);
    return rc;
}

static int64_t sqlite_docs_find_equal(void *db, const char *field, const char *value, docs_visit visit, void *arg,
                                      char *err)
{
    sqlite_docs *h = db;
    char sql[512];
    snprintf(sql, sizeof sql, "SELECT body FROM " DOCS_COLLECTION " WHERE json_extract(body, '$.%s') = ?1", field);
    sqlite3_stmt *stmt = statement(h, S_EQUAL, sql, err);
    if (stmt == NULL) return -1;
    sqlite3_bind_text(stmt, 1, value, -1, SQLITE_STATIC);
    return visit_rows(h, stmt, visit, arg, err);
}

static int64_t sqlite_docs_find_range_sorted(void *db, const char *field, int64_t lo, int64_t hi, int limit,
                                             docs_visit visit, void *arg, char *err)
{
    sqlite_docs *h = db;
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT body FROM " DOCS_COLLECTION " WHERE json_extract(body, '$.%s') >= ?1 AND "
             "json_extract(body, '$.%s') < ?2 ORDER BY json_extract(body, '$.%s') LIMIT ?3",
             field, field, field);
    sqlite3_stmt *stmt = statement(h, S_RANGE, sql, err);
    if (stmt == NULL) return -1;
    sqlite3_bind_int64(stmt, 1, lo);
    sqlite3_bind_int64(stmt, 2, hi);
    sqlite3_bind_int(stmt, 3, limit);
    return visit_rows(h, stmt, visit, arg, err);
}

static int64_t sqlite_docs_find_between(void *db, const char *field, double lo, double hi, docs_visit visit,
                                        void *arg, char *err)
{
    sqlite_docs *h = db;
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT body FROM " DOCS_COLLECTION " WHERE json_extract(body, '$.%s') > ?1 AND "
             "json_extract(body, '$.%s') < ?2",
             field, field);
    sqlite3_stmt *stmt = statement(h, S_BETWEEN, sql, err);
    if (stmt == NULL) return -1;
    sqlite3_bind_double(stmt, 1, lo);
    sqlite3_bind_double(stmt, 2, hi);
    return visit_rows(h, stmt, visit, arg, err);
}

static int sqlite_docs_update_inc_in(void *db, const char *field, const char *const *values, size_t n,
                                     const char *inc_field, uint64_t *matched, uint64_t *modified, char *err)
{
    sqlite_docs *h = db;
    char sql[1024];
    size_t len = (size_t)snprintf(sql, sizeof sql,
                                  "UPDATE " DOCS_COLLECTION " SET body = json_set(body, '$.%s', "
                                  "json_extract(body, '$.%s') + 1) WHERE json_extract(body, '$.%s') IN (",
                                  inc_field, inc_field, field);
    for (size_t i = 0; i < n && len < sizeof sql; i++)
        len += (size_t)snprintf(sql + len, sizeof sql - len, "%s?%zu", i ? ", " : "", i + 1);
    if (len < sizeof sql) len += (size_t)snprintf(sql + len, sizeof sql - len, ")");
    if (len >= sizeof sql) return bench_fail(err, "update statement too long");
    sqlite3_stmt *stmt = NULL;
    if (sqlite3_prepare_v2(h->db, sql, -1, &stmt, NULL) != SQLITE_OK) return sqlite_fail(err, h, sql);
    for (size_t i = 0; i < n; i++) sqlite3_bind_text(stmt, (int)i + 1, values[i], -1, SQLITE_STATIC);
    int rc = step_done(h, stmt, "UPDATE", err);
    sqlite3_finalize(stmt);
    if (rc != 0) return -1;
    /* Every matched row is rewritten (json_set always changes "visits"). */
    *matched = *modified = (uint64_t)sqlite3_changes64(h->db);
    return 0;
}

static int sqlite_docs_count_equal(void *db, const char *field, int64_t value, uint64_t *count, char *err)
{
    sqlite_docs *h = db;
    char sql[512];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM " DOCS_COLLECTION " WHERE json_extract(body, '$.%s') = ?1",
             field);
    sqlite3_stmt *stmt = statement(h, S_COUNT, sql, err);
    if (stmt == NULL) return -1;
    sqlite3_bind_int64(stmt, 1, value);
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) *count = (uint64_t)sqlite3_column_int64(stmt, 0);
    sqlite3_reset(stmt);
    return rc == SQLITE_ROW ? 0 : sqlite_fail(err, h, "SELECT count(*)");
}

static int sqlite_docs_group_count_avg(void *db, const char *group_field, const char *avg_field,
                                       docs_group_visit visit, void *arg, char *err)
{
    sqlite_docs *h = db;
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT json_extract(body, '$.%s'), count(*), avg(json_extract(body, '$.%s')) FROM " DOCS_COLLECTION
             " GROUP BY json_extract(body, '$.%s')",
             group_field, avg_field, group_field);
    sqlite3_stmt *stmt = statement(h, S_GROUP, sql, err);
    if (stmt == NULL) return -1;
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        const char *key = (const char *)sqlite3_column_text(stmt, 0);
        size_t key_len = (size_t)sqlite3_column_bytes(stmt, 0);
        visit(arg, key ? key : "", key_len, (uint64_t)sqlite3_column_int64(stmt, 1), sqlite3_column_double(stmt, 2));
    }
    sqlite3_reset(stmt);
    return rc == SQLITE_DONE ? 0 : sqlite_fail(err, h, "SELECT ... GROUP BY");
}

const docs_engine docs_engine_sqlite = {
    .name = "sqlite",
    .version = sqlite_docs_version,
    .describe = sqlite_docs_describe,
    .open = sqlite_docs_open,
    .close = sqlite_docs_close,
    .create_indexes = sqlite_docs_create_indexes,
    .insert_batch = sqlite_docs_insert_batch,
    .find_equal = sqlite_docs_find_equal,
    .find_range_sorted = sqlite_docs_find_range_sorted,
    .find_between = sqlite_docs_find_between,
    .update_inc_in = sqlite_docs_update_inc_in,
    .count_equal = sqlite_docs_count_equal,
    .group_count_avg = sqlite_docs_group_count_avg,
    .insert_one = sqlite_docs_insert_one,
    .connect = sqlite_docs_connect,
    .disconnect = sqlite_docs_disconnect,
    .stats = NULL,
};
