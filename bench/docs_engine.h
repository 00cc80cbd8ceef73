/*
** docs_engine.h -- the adapter interface through which the document
** benchmark (docs_harness.c) drives a document store: Cairn through its
** document API (docs_engine_cairn.c), SQLite through JSON1 over a
** (id, body) table (docs_engine_sqlite.c).
**
** One call is one operation of the workload, so each adapter can express it
** the way its users would: a MongoDB filter and options for Cairn, one SQL
** statement (prepared once) for SQLite. The harness names the fields; the
** adapters put them into their query language.
**
** CONVENTIONS
**   - Functions return 0 (or a count) on success and -1 on failure, after
**     writing a NUL-terminated message into `err` (BENCH_ERRLEN bytes).
**   - Field names and string values never need escaping in JSON or SQL
**     (letters, digits, spaces, '_'); the harness guarantees it.
**   - Every document a query returns is handed to `visit` as JSON text,
**     (pointer, length), a view valid only during the call.
**   - Durability is chosen at open: sync = 1 makes every write call durable
**     (fsynced) before it returns, sync = 0 leaves flushing to the OS.
**
** THREADS
**   One thread at a time per handle: the handle open() returns and every
**   connection connect() returns. Threads that write at the same time each
**   work through a connection of their own (the insert_one_sync row), which
**   each adapter makes the way its users would: SQLite opens another
**   connection to the same file, as a SQLite connection serves one thread at
**   a time; Cairn hands out a view of the same cairn_db *, which is
**   thread-safe, so every thread shares the one handle.
*/
#ifndef BENCH_DOCS_ENGINE_H
#define BENCH_DOCS_ENGINE_H

#include "docs_workload.h"
#include "util.h"

#include <stdint.h>
#include <stdio.h>

/* The collection (Cairn) or table (SQLite) the benchmark uses. */
#define DOCS_COLLECTION "docs"

typedef void (*docs_visit)(void *arg, const char *json, size_t len);
typedef void (*docs_group_visit)(void *arg, const char *key, size_t key_len, uint64_t count, double average);

typedef struct docs_engine {
    const char *name; /* as in --engines= */

    const char *(*version)(void);
    /* One line on how the adapter configures the engine, for the report. */
    void (*describe)(FILE *out, int sync);

    /* Opens, creating it if absent, the database in directory `dir`. */
    int (*open)(const char *dir, int sync, void **out, char *err);
    /* Closes and frees the handle; afterwards the directory is complete. */
    int (*close)(void *db, char *err);

    /* Creates an ascending single-field index on each of fields[0..n). */
    int (*create_indexes)(void *db, const char *const *fields, size_t n, char *err);

    /* Inserts the batch's documents in one atomic write. */
    int (*insert_batch)(void *db, const docs_batch *batch, char *err);

    /* Visits every document whose `field` equals the string `value`.
     * Returns the number visited, or -1. */
    int64_t (*find_equal)(void *db, const char *field, const char *value, docs_visit visit, void *arg,
                          char *err);

    /* Visits the first `limit` documents, in ascending `field` order, with
     * lo <= field < hi (integers). Returns the number visited, or -1. */
    int64_t (*find_range_sorted)(void *db, const char *field, int64_t lo, int64_t hi, int limit,
                                 docs_visit visit, void *arg, char *err);

    /* Visits every document with lo < field < hi (doubles), in no
     * particular order. Returns the number visited, or -1. */
    int64_t (*find_between)(void *db, const char *field, double lo, double hi, docs_visit visit, void *arg,
                            char *err);

    /* In one atomic write, adds 1 to the integer `inc_field` of every
     * document whose `field` is one of the strings values[0..n). *matched
     * receives how many documents matched, *modified how many changed. */
    int (*update_inc_in)(void *db, const char *field, const char *const *values, size_t n,
                         const char *inc_field, uint64_t *matched, uint64_t *modified, char *err);

    /* Stores in *count how many documents have the integer `value` in
     * `field`. Used to check a write, never timed. */
    int (*count_equal)(void *db, const char *field, int64_t value, uint64_t *count, char *err);

    /* Groups every document by the string `group_field` and visits each
     * group once, in no particular order, with its key, its number of
     * documents and the average of the number `avg_field`. */
    int (*group_count_avg)(void *db, const char *group_field, const char *avg_field, docs_group_visit visit,
                           void *arg, char *err);

    /* Inserts one document, its JSON text json[0..len) whose _id is the
     * DOCS_ID_LEN bytes at `id`, as a write of its own: durable before it
     * returns when the database was opened with sync. `db` is the handle
     * open() returned or a connection from connect(). */
    int (*insert_one)(void *db, const char *id, const char *json, size_t len, char *err);

    /* Opens a connection to the database open as `db`, for one more thread
     * (see THREADS); it takes every call that `db` takes, with the
     * durability `db` was opened with. disconnect() closes it; every
     * connection is closed before `db` is. */
    int (*connect)(void *db, void **out, char *err);
    int (*disconnect)(void *conn, char *err);

    /* Optional (may be NULL): a malloc()ed description of the engine's
     * internal state (Cairn: cairn_stats), for the report. */
    char *(*stats)(void *db);
} docs_engine;

extern const docs_engine docs_engine_cairn;
extern const docs_engine docs_engine_sqlite;

#endif /* BENCH_DOCS_ENGINE_H */
