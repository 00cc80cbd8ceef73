/*
** docs_engine_cairn.c -- the document benchmark's Cairn adapter, through
** the document API of cairn.h.
**
** The documents live in the collection "docs". Each operation is one call,
** written as a Cairn user would write it:
**
**   indexes          cairn_index_create  {"keys": {"<field>": 1}}, one per field
**   insert a batch   cairn_insert_many   [doc, doc, ...]
**   insert one       cairn_insert_one    doc
**   find by value    cairn_find          {"<field>": "<value>"}
**   range, sorted    cairn_find          {"<field>": {"$gte": lo, "$lt": hi}}
**                                        {"sort": {"<field>": 1}, "limit": n}
**   unindexed band   cairn_find          {"<field>": {"$gt": lo, "$lt": hi}}
**   update           cairn_update_many   {"<field>": {"$in": [...]}}
**                                        {"$inc": {"<inc_field>": 1}}
**   group            cairn_aggregate     [{"$group": {"_id": "$<group_field>",
**                                          "n": {"$sum": 1},
**                                          "avg_<avg_field>": {"$avg": "$<avg_field>"}}}]
**
** and every find cursor is read to its end in batches with
** cairn_cursor_next_batch() (aggregations with cairn_cursor_next()). The open
** options come from cairn_options.c, as for the key-value bench.
**
** A cairn_db is thread-safe, so a connection (connect()) is only a view of
** the opener's cairn_db with buffers of its own: every thread shares the one
** handle, as a Cairn user would.
*/
#include "cairn_options.h"
#include "docs_engine.h"

#include <cairn.h>

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

typedef struct cairn_docs {
    cairn_db *db;       /* the opener's, shared by its connections */
    int connection;     /* 1: a view from connect(), which closes no cairn_db */
    char filter[1024];  /* the JSON of the current call, reused */
    char options[256];
} cairn_docs;

static const char COLLECTION[] = DOCS_COLLECTION;
#define COLLECTION_LEN (sizeof COLLECTION - 1)

static const char *cairn_docs_version(void) { return cairn_version(); }

static void cairn_docs_describe(FILE *out, int sync)
{
    char err[BENCH_ERRLEN];
    char *options = bench_cairn_options(sync, err);
    if (options == NULL) {
        fprintf(out, "options rejected: %s", err);
        return;
    }
    fprintf(out, "cairn_open options %s (%s=%s), every other option at its default; collection \"%s\"; "
                 "cairn_index_create({\"keys\": {field: 1}}) per indexed field before the inserts; "
                 "cairn_insert_many per batch; cairn_insert_one per document in insert_one_sync, its threads "
                 "sharing one cairn_db; cairn_find with MongoDB filters (sort and limit as find options), "
                 "read to the end with cairn_cursor_next_batch; cairn_update_many with $in and $inc; cairn_aggregate "
                 "with one $group stage",
            options, BENCH_CAIRN_OPTIONS_ENV,
            getenv(BENCH_CAIRN_OPTIONS_ENV) ? getenv(BENCH_CAIRN_OPTIONS_ENV) : "(unset)", COLLECTION);
    free(options);
}

static int cairn_docs_open(const char *dir, int sync, void **out, char *err)
{
    cairn_docs *h = calloc(1, sizeof *h);
    if (h == NULL) return bench_fail(err, "out of memory");
    if (bench_cairn_open(dir, sync, &h->db, err) != 0) {
        free(h);
        return -1;
    }
    *out = h;
    return 0;
}

static int cairn_docs_close(void *db, char *err)
{
    cairn_docs *h = db;
    char *msg = NULL;
    int rc = cairn_close(h->db, &msg);
    free(h);
    return rc == CAIRN_OK ? 0 : bench_cairn_fail(err, "cairn_close", rc, msg);
}

static int cairn_docs_connect(void *db, void **out, char *err)
{
    cairn_docs *h = db, *c = calloc(1, sizeof *c);
    if (c == NULL) return bench_fail(err, "out of memory");
    c->db = h->db;
    c->connection = 1;
    *out = c;
    return 0;
}

static int cairn_docs_disconnect(void *conn, char *err)
{
    cairn_docs *c = conn;
    if (!c->connection) return bench_fail(err, "disconnect of a handle that open() returned");
    free(c);
    return 0;
}

static int cairn_docs_create_indexes(void *db, const char *const *fields, size_t n, char *err)
{
    cairn_docs *h = db;
    for (size_t i = 0; i < n; i++) {
        int len = snprintf(h->filter, sizeof h->filter, "{\"keys\": {\"%s\": 1}}", fields[i]);
        char *msg = NULL;
        int rc = cairn_index_create(h->db, COLLECTION, COLLECTION_LEN, h->filter, (size_t)len, NULL, NULL, &msg);
        if (rc != CAIRN_OK) {
            char what[256];
            snprintf(what, sizeof what, "cairn_index_create %.200s", h->filter);
            return bench_cairn_fail(err, what, rc, msg);
        }
    }
    return 0;
}

static int cairn_docs_insert_batch(void *db, const docs_batch *batch, char *err)
{
    cairn_docs *h = db;
    char *msg = NULL;
    int rc = cairn_insert_many(h->db, COLLECTION, COLLECTION_LEN, batch->text, batch->text_len, NULL, NULL, &msg);
    return rc == CAIRN_OK ? 0 : bench_cairn_fail(err, "cairn_insert_many", rc, msg);
}

static int cairn_docs_insert_one(void *db, const char *id, const char *json, size_t len, char *err)
{
    (void)id; /* the document holds its _id */
    cairn_docs *h = db;
    char *msg = NULL;
    int rc = cairn_insert_one(h->db, COLLECTION, COLLECTION_LEN, json, len, NULL, NULL, &msg);
    return rc == CAIRN_OK ? 0 : bench_cairn_fail(err, "cairn_insert_one", rc, msg);
}

/* Runs cairn_find with h->filter (filter_len bytes) and the options given,
 * and visits every document of the cursor, taken in batches
 * (cairn_cursor_next_batch: one crossing of the C ABI per batch). */
static int64_t find_all(cairn_docs *h, size_t filter_len, const char *options, size_t options_len,
                        docs_visit visit, void *arg, char *err)
{
    cairn_cursor *cursor = NULL;
    char *msg = NULL;
    int rc = cairn_find(h->db, COLLECTION, COLLECTION_LEN, h->filter, filter_len, options, options_len, &cursor,
                        &msg);
    if (rc != CAIRN_OK) {
        char what[BENCH_ERRLEN / 2];
        snprintf(what, sizeof what, "cairn_find %.150s %.*s", h->filter, (int)(options_len < 80 ? options_len : 80),
                 options ? options : "");
        return bench_cairn_fail(err, what, rc, msg);
    }
    int64_t n = 0;
    for (;;) {
        const char *json;
        const uint32_t *lengths;
        size_t count;
        rc = cairn_cursor_next_batch(cursor, 0, 0, &json, NULL, &lengths, &count, &msg);
        if (rc == CAIRN_DONE) break;
        if (rc != CAIRN_OK) {
            cairn_cursor_close(cursor);
            char what[BENCH_ERRLEN / 2];
            snprintf(what, sizeof what, "cairn_cursor_next_batch after %" PRId64 " documents of %.150s", n, h->filter);
            return bench_cairn_fail(err, what, rc, msg);
        }
        /* "[doc,doc,...]": each document is followed by one byte. */
        const char *doc = json + 1;
        for (size_t i = 0; i < count; i++) {
            visit(arg, doc, lengths[i]);
            doc += lengths[i] + 1;
            n++;
        }
    }
    cairn_cursor_close(cursor);
    return n;
}

static int64_t cairn_docs_find_equal(void *db, const char *field, const char *value, docs_visit visit, void *arg,
                                     char *err)
{
    cairn_docs *h = db;
    int len = snprintf(h->filter, sizeof h->filter, "{\"%s\": \"%s\"}", field, value);
    return find_all(h, (size_t)len, NULL, 0, visit, arg, err);
}

static int64_t cairn_docs_find_range_sorted(void *db, const char *field, int64_t lo, int64_t hi, int limit,
                                            docs_visit visit, void *arg, char *err)
{
    cairn_docs *h = db;
    int len = snprintf(h->filter, sizeof h->filter, "{\"%s\": {\"$gte\": %" PRId64 ", \"$lt\": %" PRId64 "}}", field,
                       lo, hi);
    int options_len =
        snprintf(h->options, sizeof h->options, "{\"sort\": {\"%s\": 1}, \"limit\": %d}", field, limit);
    return find_all(h, (size_t)len, h->options, (size_t)options_len, visit, arg, err);
}

static int64_t cairn_docs_find_between(void *db, const char *field, double lo, double hi, docs_visit visit,
                                       void *arg, char *err)
{
    cairn_docs *h = db;
    /* %.17g: the exact doubles the harness chose, as SQLite binds them. */
    int len = snprintf(h->filter, sizeof h->filter, "{\"%s\": {\"$gt\": %.17g, \"$lt\": %.17g}}", field, lo, hi);
    return find_all(h, (size_t)len, NULL, 0, visit, arg, err);
}

/* Reads the unsigned integer member `name` of a JSON object. */
static int read_count(const char *json, size_t len, const char *name, uint64_t *out)
{
    const char *v = docs_json_member(json, len, name);
    if (v == NULL || *v < '0' || *v > '9') return -1;
    *out = strtoull(v, NULL, 10);
    return 0;
}

static int cairn_docs_update_inc_in(void *db, const char *field, const char *const *values, size_t n,
                                    const char *inc_field, uint64_t *matched, uint64_t *modified, char *err)
{
    cairn_docs *h = db;
    size_t len = (size_t)snprintf(h->filter, sizeof h->filter, "{\"%s\": {\"$in\": [", field);
    for (size_t i = 0; i < n && len < sizeof h->filter; i++)
        len += (size_t)snprintf(h->filter + len, sizeof h->filter - len, "%s\"%s\"", i ? ", " : "", values[i]);
    if (len < sizeof h->filter) len += (size_t)snprintf(h->filter + len, sizeof h->filter - len, "]}}");
    if (len >= sizeof h->filter) return bench_fail(err, "update filter too long");
    int update_len = snprintf(h->options, sizeof h->options, "{\"$inc\": {\"%s\": 1}}", inc_field);
    char *result = NULL, *msg = NULL;
    size_t result_len = 0;
    int rc = cairn_update_many(h->db, COLLECTION, COLLECTION_LEN, h->filter, len, h->options, (size_t)update_len,
                               NULL, 0, &result, &result_len, &msg);
    if (rc != CAIRN_OK) {
        char what[BENCH_ERRLEN / 2];
        snprintf(what, sizeof what, "cairn_update_many %.150s %.60s", h->filter, h->options);
        return bench_cairn_fail(err, what, rc, msg);
    }
    int bad = result == NULL || read_count(result, result_len, "matched", matched) != 0 ||
              read_count(result, result_len, "modified", modified) != 0;
    if (bad) bench_fail(err, "cairn_update_many returned %s, without \"matched\" and \"modified\"",
                        result ? result : "no result");
    cairn_free(result);
    return bad ? -1 : 0;
}

static int cairn_docs_count_equal(void *db, const char *field, int64_t value, uint64_t *count, char *err)
{
    cairn_docs *h = db;
    int len = snprintf(h->filter, sizeof h->filter, "{\"%s\": %" PRId64 "}", field, value);
    char *msg = NULL;
    int rc = cairn_count(h->db, COLLECTION, COLLECTION_LEN, h->filter, (size_t)len, count, &msg);
    return rc == CAIRN_OK ? 0 : bench_cairn_fail(err, "cairn_count", rc, msg);
}

static int cairn_docs_group_count_avg(void *db, const char *group_field, const char *avg_field,
                                      docs_group_visit visit, void *arg, char *err)
{
    cairn_docs *h = db;
    int len = snprintf(h->filter, sizeof h->filter,
                       "[{\"$group\": {\"_id\": \"$%s\", \"n\": {\"$sum\": 1}, \"avg_%s\": {\"$avg\": \"$%s\"}}}]",
                       group_field, avg_field, avg_field);
    cairn_cursor *cursor = NULL;
    char *msg = NULL;
    int rc = cairn_aggregate(h->db, COLLECTION, COLLECTION_LEN, h->filter, (size_t)len, &cursor, &msg);
    if (rc != CAIRN_OK) {
        char what[BENCH_ERRLEN / 2];
        snprintf(what, sizeof what, "cairn_aggregate %.200s", h->filter);
        return bench_cairn_fail(err, what, rc, msg);
    }
    for (;;) {
        const char *json;
        size_t json_len;
        rc = cairn_cursor_next(cursor, &json, &json_len, &msg);
        if (rc == CAIRN_DONE) break;
        if (rc != CAIRN_OK) {
            cairn_cursor_close(cursor);
            return bench_cairn_fail(err, "cairn_cursor_next of cairn_aggregate", rc, msg);
        }
        /* {"_id": "<key>", "n": <count>, "avg_<avg_field>": <average>} */
        char avg_name[128];
        snprintf(avg_name, sizeof avg_name, "avg_%s", avg_field);
        const char *key = docs_json_member(json, json_len, "_id");
        const char *avg = docs_json_member(json, json_len, avg_name);
        uint64_t count;
        const char *key_end = key && *key == '"' ? memchr(key + 1, '"', json_len - (size_t)(key + 1 - json)) : NULL;
        if (key_end == NULL || avg == NULL || read_count(json, json_len, "n", &count) != 0) {
            cairn_cursor_close(cursor);
            return bench_fail(err, "cairn_aggregate returned a group the harness cannot read: %.*s", (int)json_len,
                              json);
        }
        visit(arg, key + 1, (size_t)(key_end - key - 1), count, strtod(avg, NULL));
    }
    cairn_cursor_close(cursor);
    return 0;
}

static char *cairn_docs_stats(void *db)
{
    cairn_docs *h = db;
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

const docs_engine docs_engine_cairn = {
    .name = "cairn",
    .version = cairn_docs_version,
    .describe = cairn_docs_describe,
    .open = cairn_docs_open,
    .close = cairn_docs_close,
    .create_indexes = cairn_docs_create_indexes,
    .insert_batch = cairn_docs_insert_batch,
    .find_equal = cairn_docs_find_equal,
    .find_range_sorted = cairn_docs_find_range_sorted,
    .find_between = cairn_docs_find_between,
    .update_inc_in = cairn_docs_update_inc_in,
    .count_equal = cairn_docs_count_equal,
    .group_count_avg = cairn_docs_group_count_avg,
    .insert_one = cairn_docs_insert_one,
    .connect = cairn_docs_connect,
    .disconnect = cairn_docs_disconnect,
    .stats = cairn_docs_stats,
};
