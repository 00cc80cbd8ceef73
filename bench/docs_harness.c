/*
** docs_harness.c -- the driver of Cairn's document benchmark: Cairn's
** document API against SQLite's JSON1 (docs_engine.h), on the same
** documents and queries (docs_workload.c), in one run.
**
** For each engine the rows run in this order, each in its own forked child
** process that opens the database, runs the row and closes it again (so
** every row's peak RSS is its own, as in the key-value bench):
**
**   insert       N documents in batches of DOCS_BATCH, into an empty
**                database on which the indexes (name, city, age) were
**                created first (untimed);
**   find_name    `lookups` queries {"name": "user<k>"}, k random: one
**                document each, through the name index;
**   range_sort   `ranges` queries {"age": {"$gte": a, "$lt": a+5}} sorted by
**                age, limit 20, a random;
**   scan_filter  SCAN_QUERIES queries {"score": {"$gt": x, "$lt": x+3}} on
**                the unindexed score (about 3% match), x random;
**   update_many  one call: {"city": {"$in": [5 cities]}} (about 10%),
**                {"$inc": {"visits": 1}};
**   aggregate    AGGREGATE_RUNS times: group all documents by city with a
**                count and the average age;
**   insert_one_sync
**                single-document inserts, each call its own durable write
**                (the database opened with sync whatever --sync says), by
**                1 thread and then by ONE_THREADS threads, each inserting
**                `per_thread` documents of its own through its own
**                connection (connect() in docs_engine.h), into a fresh
**                database with the same indexes (created untimed). Two
**                entries of ROWS, one per thread count, selected together
**                by the one name.
**
** The rows from find_name to aggregate run on the database insert built;
** when insert is not among the selected rows but one of them is, an untimed
** insert builds it first.
**
** Every query's answer is known in advance (docs_model): a row whose
** results differ from it, or from the other engine's, stops the benchmark
** with a message and a non-zero exit. Parameters and expectations are
** computed before the timed part; the timed part is the engine calls and
** the reading of what they return.
**
** Usage: cairn-docs-bench [--engines=cairn,sqlite] [--rows=a,b] [--num=N]
**        [--lookups=K] [--ranges=K] [--per-thread=K] [--sync] [--db=DIR]
*/
#define _GNU_SOURCE /* strtok_r, PATH_MAX */

#include "docs_engine.h"
#include "docs_workload.h"
#include "util.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef BENCH_DEFAULT_DB
#define BENCH_DEFAULT_DB "build/bench-db"
#endif
#ifndef BENCH_CFLAGS
#define BENCH_CFLAGS "(unknown)"
#endif

#define DEFAULT_NUM 1000000ull
#define LOOKUP_DIVISOR 10   /* find_name: N / 10 queries by default */
#define RANGE_DIVISOR 100   /* range_sort: N / 100 queries by default */
#define MIN_QUERIES 100
#define SCAN_QUERIES 5
#define AGGREGATE_RUNS 3
#define DEFAULT_PER_THREAD 2000 /* insert_one_sync: documents per writer thread */
#define ONE_THREADS 8           /* insert_one_sync: the concurrent writers */

/* The fields, as the adapters receive them. */
static const char *const INDEXED_FIELDS[] = {"name", "city", "age"};
#define NAME_FIELD "name"
#define AGE_FIELD "age"
#define CITY_FIELD "city"
#define SCORE_FIELD "score"
#define VISITS_FIELD "visits"

/* ---- Engines and rows --------------------------------------------------- */

static const docs_engine *const ENGINES[] = {&docs_engine_cairn, &docs_engine_sqlite};
enum { ENGINE_COUNT = sizeof ENGINES / sizeof ENGINES[0], CAIRN = 0, SQLITE = 1 };

typedef enum row_id {
    R_INSERT, R_FIND, R_RANGE, R_SCAN, R_UPDATE, R_AGGREGATE, R_ONE, R_ONE_THREADS, R_COUNT
} row_id;

typedef struct row_def {
    const char *name;  /* as in --rows= (R_ONE and R_ONE_THREADS share theirs) */
    const char *label; /* in the report */
    const char *unit;  /* what the row's ops count */
    const char *call;  /* what one timed call is */
    int writes;        /* report the size on disk and cairn_stats */
    int threads;       /* 0: a row on the insert database; else insert_one_sync's writer threads */
} row_def;

static const row_def ROWS[R_COUNT] = {
    [R_INSERT] = {"insert", "insert", "docs", "insert of a 1000-document batch", 1, 0},
    [R_FIND] = {"find_name", "find_name", "queries", "find by name, read the result", 0, 0},
    [R_RANGE] = {"range_sort", "range_sort", "queries", "find age range, sort, limit 20, read", 0, 0},
    [R_SCAN] = {"scan_filter", "scan_filter", "docs scanned", "find on unindexed score, read ~3%", 0, 0},
    [R_UPDATE] = {"update_many", "update_many", "docs updated", "update_many of ~10%", 1, 0},
    [R_AGGREGATE] = {"aggregate", "aggregate", "docs grouped", "$group by city: count, avg age", 0, 0},
    [R_ONE] = {"insert_one_sync", "insert_one_sync x1", "docs", "durable insert of one document, 1 thread", 1, 1},
    /* The label and call say 8: ONE_THREADS. */
    [R_ONE_THREADS] = {"insert_one_sync", "insert_one_sync x8", "docs",
                       "durable insert of one document, mean of 8 threads", 1, ONE_THREADS},
};

typedef struct config {
    uint64_t num;
    uint64_t lookups;
    uint64_t ranges;
    uint64_t per_thread; /* insert_one_sync */
    int sync;
} config;

static config cfg;
/* Built once in the parent, before any fork; read-only afterwards. */
static bench_perm names;
static docs_model model;

/* ---- One row, in the child ---------------------------------------------- */

typedef struct row_result {
    uint64_t calls;        /* timed engine calls */
    uint64_t ops;          /* in the row's unit */
    double seconds;        /* the timed calls only */
    double call_seconds;   /* threaded rows: the sum of every call's own time (0: seconds) */
    double open_seconds;   /* not in `seconds` */
    double setup_seconds;  /* index creation before insert; not in `seconds` */
    double close_seconds;  /* not in `seconds` */
    uint64_t disk_bytes;   /* after close, for writing rows */
    uint64_t digest[2];    /* what both engines must agree on */
    char note[256];
    char err[BENCH_ERRLEN];
    char stats[3072];
} row_result;

static volatile uint64_t sink; /* keeps results from being optimised away */

static int64_t json_int(const char *json, size_t len, const char *name, int *ok)
{
    const char *v = docs_json_member(json, len, name);
    if (v == NULL || !(*v == '-' || (*v >= '0' && *v <= '9'))) {
        *ok = 0;
        return 0;
    }
    return strtoll(v, NULL, 10);
}

/* -- insert -- */

static int run_insert(const docs_engine *e, void *db, row_result *r, int timed)
{
    double start = bench_now();
    if (e->create_indexes(db, INDEXED_FIELDS, sizeof INDEXED_FIELDS / sizeof INDEXED_FIELDS[0], r->err) != 0)
        return -1;
    r->setup_seconds = bench_now() - start;
    docs_batch *batch = malloc(sizeof *batch);
    if (batch == NULL || docs_batch_init(batch) != 0) {
        free(batch);
        return bench_fail(r->err, "out of memory");
    }
    uint64_t bytes = 0;
    int rc = 0;
    for (uint64_t first = 0; first < cfg.num; first += DOCS_BATCH) {
        size_t n = cfg.num - first < DOCS_BATCH ? (size_t)(cfg.num - first) : DOCS_BATCH;
        docs_batch_fill(batch, first, n, &names); /* untimed */
        bytes += batch->text_len - 2 - (n - 1);   /* the documents, without '[', ',' and ']' */
        start = bench_now();
        rc = e->insert_batch(db, batch, r->err);
        r->seconds += bench_now() - start;
        r->calls++;
        if (rc != 0) break;
    }
    docs_batch_free(batch);
    free(batch);
    if (rc != 0) return -1;
    r->ops = cfg.num;
    r->digest[0] = cfg.num;
    snprintf(r->note, sizeof r->note, "%s%.1f bytes of JSON per document", timed ? "" : "untimed; ",
             (double)bytes / (double)cfg.num);
    return 0;
}

/* -- find_name -- */

typedef struct lookup {
    char name[32]; /* "user<k>" */
    int age;       /* the document's age, from the model */
} lookup;

typedef struct find_state {
    const lookup *want;
    int64_t seen, age;
    int name_ok;
} find_state;

static void find_visit(void *arg, const char *json, size_t len)
{
    find_state *s = arg;
    int ok = 1;
    s->seen++;
    s->age = json_int(json, len, AGE_FIELD, &ok);
    const char *name = docs_json_member(json, len, NAME_FIELD);
    size_t want_len = strlen(s->want->name);
    s->name_ok = ok && name && *name == '"' && (size_t)(json + len - name) > want_len + 1 &&
                 memcmp(name + 1, s->want->name, want_len) == 0 && name[want_len + 1] == '"';
}

static int run_find(const docs_engine *e, void *db, row_result *r)
{
    uint64_t k = cfg.lookups;
    lookup *queries = malloc(k * sizeof *queries);
    if (queries == NULL) return bench_fail(r->err, "out of memory");
    bench_rng rng;
    bench_rng_seed(&rng, SEED_LOOKUPS);
    for (uint64_t i = 0; i < k; i++) {
        docs_doc doc;
        docs_doc_make(bench_rng_below(&rng, cfg.num), &names, 0, &doc);
        snprintf(queries[i].name, sizeof queries[i].name, "user%" PRIu64, doc.name);
        queries[i].age = doc.age;
    }
    uint64_t age_sum = 0;
    double start = bench_now();
    for (uint64_t i = 0; i < k; i++) {
        find_state s = {&queries[i], 0, -1, 0};
        int64_t n = e->find_equal(db, NAME_FIELD, queries[i].name, find_visit, &s, r->err);
        if (n < 0) {
            free(queries);
            return -1;
        }
        if (n != 1 || s.seen != 1 || !s.name_ok || s.age != queries[i].age) {
            bench_fail(r->err,
                       "verification failed: query %" PRIu64 " {\"name\": \"%s\"} returned %" PRId64
                       " documents (expected 1)%s, age %" PRId64 " (expected %d)",
                       i, queries[i].name, n, s.seen && !s.name_ok ? " with another name" : "", s.age,
                       queries[i].age);
            free(queries);
            return -1;
        }
        age_sum += (uint64_t)s.age;
    }
    r->seconds = bench_now() - start;
    free(queries);
    r->calls = r->ops = k;
    r->digest[0] = k;
    r->digest[1] = age_sum;
    snprintf(r->note, sizeof r->note, "%" PRIu64 " of %" PRIu64 " found, each the expected document", k, k);
    return 0;
}

/* -- range_sort -- */

typedef struct range_state {
    int64_t lo, hi, last, sum, seen;
    int bad; /* a document outside the range, out of order or unreadable */
} range_state;

static void range_visit(void *arg, const char *json, size_t len)
{
    range_state *s = arg;
    int ok = 1;
    int64_t age = json_int(json, len, AGE_FIELD, &ok);
    if (!ok || age < s->lo || age >= s->hi || age < s->last) s->bad = 1;
    s->last = age;
    s->sum += age;
    s->seen++;
}

static int run_range(const docs_engine *e, void *db, row_result *r)
{
    uint64_t k = cfg.ranges;
    int *lows = malloc(k * sizeof *lows);
    if (lows == NULL) return bench_fail(r->err, "out of memory");
    bench_rng rng;
    bench_rng_seed(&rng, SEED_RANGES);
    for (uint64_t i = 0; i < k; i++)
        lows[i] = DOCS_AGE_MIN + (int)bench_rng_below(&rng, DOCS_AGE_MAX - DOCS_RANGE_WIDTH + 2 - DOCS_AGE_MIN);
    uint64_t docs = 0, age_sum = 0;
    double start = bench_now();
    for (uint64_t i = 0; i < k; i++) {
        range_state s = {lows[i], lows[i] + DOCS_RANGE_WIDTH, INT64_MIN, 0, 0, 0};
        int64_t n = e->find_range_sorted(db, AGE_FIELD, s.lo, s.hi, DOCS_RANGE_LIMIT, range_visit, &s, r->err);
        if (n < 0) {
            free(lows);
            return -1;
        }
        uint64_t want_n, want_sum;
        docs_model_range(&model, lows[i], &want_n, &want_sum);
        if (s.bad || (uint64_t)n != want_n || (uint64_t)s.sum != want_sum) {
            bench_fail(r->err,
                       "verification failed: query %" PRIu64 " {\"age\": {\"$gte\": %d, \"$lt\": %d}} sort age limit "
                       "%d returned %" PRId64 " documents with age sum %" PRId64 "%s (expected %" PRIu64
                       " with sum %" PRIu64 ")",
                       i, lows[i], lows[i] + DOCS_RANGE_WIDTH, DOCS_RANGE_LIMIT, n, s.sum,
                       s.bad ? ", some outside the range or out of order" : "", want_n, want_sum);
            free(lows);
            return -1;
        }
        docs += (uint64_t)n;
        age_sum += (uint64_t)s.sum;
    }
    r->seconds = bench_now() - start;
    free(lows);
    r->calls = r->ops = k;
    r->digest[0] = docs;
    r->digest[1] = age_sum;
    snprintf(r->note, sizeof r->note, "%" PRIu64 " documents read, sorted and in range", docs);
    return 0;
}

/* -- scan_filter -- */

typedef struct scan_state {
    double lo, hi;
    int64_t seen;
    int bad;
} scan_state;

static void scan_visit(void *arg, const char *json, size_t len)
{
    scan_state *s = arg;
    const char *v = docs_json_member(json, len, SCORE_FIELD);
    double score = v ? strtod(v, NULL) : -1;
    if (!(score > s->lo && score < s->hi)) s->bad = 1;
    s->seen++;
}

static int run_scan(const docs_engine *e, void *db, row_result *r)
{
    int lows[SCAN_QUERIES];
    bench_rng rng;
    bench_rng_seed(&rng, SEED_SCANS);
    for (int i = 0; i < SCAN_QUERIES; i++) lows[i] = (int)bench_rng_below(&rng, DOCS_SCORES - DOCS_SCAN_CENTS);
    uint64_t matched = 0;
    double start = bench_now();
    for (int i = 0; i < SCAN_QUERIES; i++) {
        scan_state s = {docs_scan_low(lows[i]), docs_scan_high(lows[i]), 0, 0};
        int64_t n = e->find_between(db, SCORE_FIELD, s.lo, s.hi, scan_visit, &s, r->err);
        if (n < 0) return -1;
        uint64_t want = docs_model_scan(&model, lows[i]);
        if (s.bad || (uint64_t)n != want)
            return bench_fail(r->err,
                              "verification failed: query %d {\"score\": {\"$gt\": %.3f, \"$lt\": %.3f}} returned %" PRId64
                              " documents%s (expected %" PRIu64 ")",
                              i, s.lo, s.hi, n, s.bad ? ", some outside the range" : "", want);
        matched += (uint64_t)n;
    }
    r->seconds = bench_now() - start;
    r->calls = SCAN_QUERIES;
    r->ops = SCAN_QUERIES * cfg.num;
    r->digest[0] = matched;
    snprintf(r->note, sizeof r->note, "%d queries matched %" PRIu64 " documents (%.2f%%)", SCAN_QUERIES, matched,
             100.0 * (double)matched / ((double)SCAN_QUERIES * (double)cfg.num));
    return 0;
}

/* -- update_many -- */

static int run_update(const docs_engine *e, void *db, row_result *r)
{
    int cities[DOCS_UPDATE_CITIES];
    const char *values[DOCS_UPDATE_CITIES];
    docs_update_cities(cities);
    uint64_t want = 0;
    for (int i = 0; i < DOCS_UPDATE_CITIES; i++) {
        values[i] = DOCS_CITY_NAMES[cities[i]];
        want += model.city_count[cities[i]];
    }
    uint64_t matched = 0, modified = 0, visited = 0;
    double start = bench_now();
    int rc = e->update_inc_in(db, CITY_FIELD, values, DOCS_UPDATE_CITIES, VISITS_FIELD, &matched, &modified, r->err);
    r->seconds = bench_now() - start;
    if (rc != 0) return -1;
    if (matched != want || modified != want)
        return bench_fail(r->err,
                          "verification failed: update_many matched %" PRIu64 " and modified %" PRIu64
                          " documents (expected %" PRIu64 ")",
                          matched, modified, want);
    /* Untimed: the change is there. */
    if (e->count_equal(db, VISITS_FIELD, 1, &visited, r->err) != 0) return -1;
    if (visited != want)
        return bench_fail(r->err,
                          "verification failed: after update_many, %" PRIu64 " documents have {\"visits\": 1} "
                          "(expected %" PRIu64 ")",
                          visited, want);
    r->calls = 1;
    r->ops = matched;
    r->digest[0] = matched;
    snprintf(r->note, sizeof r->note, "%" PRIu64 " matched and modified (%.1f%%), %" PRIu64 " then count visits 1",
             matched, 100.0 * (double)matched / (double)cfg.num, visited);
    return 0;
}

/* -- aggregate -- */

typedef struct group_state {
    uint64_t count[DOCS_CITIES];
    double average[DOCS_CITIES];
    int groups, unknown, repeated;
} group_state;

static void group_visit(void *arg, const char *key, size_t key_len, uint64_t count, double average)
{
    group_state *s = arg;
    s->groups++;
    for (int c = 0; c < DOCS_CITIES; c++) {
        if (strlen(DOCS_CITY_NAMES[c]) != key_len || memcmp(DOCS_CITY_NAMES[c], key, key_len) != 0) continue;
        if (s->count[c]) s->repeated = 1;
        s->count[c] = count;
        s->average[c] = average;
        return;
    }
    s->unknown = 1;
}

static int run_aggregate(const docs_engine *e, void *db, row_result *r)
{
    uint64_t total = 0;
    double start = bench_now();
    for (int run = 0; run < AGGREGATE_RUNS; run++) {
        group_state s;
        memset(&s, 0, sizeof s);
        if (e->group_count_avg(db, CITY_FIELD, AGE_FIELD, group_visit, &s, r->err) != 0) return -1;
        int expected_groups = 0;
        for (int c = 0; c < DOCS_CITIES; c++) expected_groups += model.city_count[c] > 0;
        if (s.groups != expected_groups || s.unknown || s.repeated)
            return bench_fail(r->err, "verification failed: %d groups%s%s (expected %d, one per city)", s.groups,
                              s.unknown ? ", some not a city" : "", s.repeated ? ", some repeated" : "",
                              expected_groups);
        total = 0;
        for (int c = 0; c < DOCS_CITIES; c++) {
            if (model.city_count[c] == 0) continue;
            double want = (double)model.city_age_sum[c] / (double)model.city_count[c];
            if (s.count[c] != model.city_count[c] || fabs(s.average[c] - want) > 1e-9 * want)
                return bench_fail(r->err,
                                  "verification failed: group \"%s\" has n %" PRIu64 ", avg %.12g (expected %" PRIu64
                                  ", %.12g)",
                                  DOCS_CITY_NAMES[c], s.count[c], s.average[c], model.city_count[c], want);
            total += s.count[c];
        }
        sink += total;
    }
    r->seconds = bench_now() - start;
    r->calls = AGGREGATE_RUNS;
    r->ops = AGGREGATE_RUNS * cfg.num;
    r->digest[0] = total;
    snprintf(r->note, sizeof r->note, "%d runs, each %d groups with the expected counts and averages",
             AGGREGATE_RUNS, DOCS_CITIES);
    return 0;
}

/* -- insert_one_sync -- */

typedef struct one_writer {
    const docs_engine *e;
    void *conn;                 /* its own connection */
    pthread_barrier_t *start;   /* every writer and the timer leave it together */
    uint64_t first, n;          /* documents first .. first+n-1 */
    char *json;                 /* document i's text at json + i * DOCS_MAX_JSON, built untimed */
    size_t *lens;
    double call_seconds;        /* the sum of its calls' times */
    int failed;
    char err[BENCH_ERRLEN];
} one_writer;

static void *one_writer_main(void *arg)
{
    one_writer *w = arg;
    pthread_barrier_wait(w->start);
    for (uint64_t i = 0; i < w->n; i++) {
        const char *json = w->json + i * DOCS_MAX_JSON;
        double start = bench_now();
        int rc = w->e->insert_one(w->conn, json + DOCS_ID_OFFSET, json, w->lens[i], w->err);
        w->call_seconds += bench_now() - start;
        if (rc != 0) {
            w->failed = 1;
            break;
        }
    }
    return NULL;
}

static int run_insert_one(const docs_engine *e, void *db, row_result *r, int threads)
{
    uint64_t per = cfg.per_thread; /* at most N / ONE_THREADS (main), so the documents exist */
    if (per == 0) return bench_fail(r->err, "insert_one_sync needs --num of at least %d", ONE_THREADS);
    double start = bench_now();
    if (e->create_indexes(db, INDEXED_FIELDS, sizeof INDEXED_FIELDS / sizeof INDEXED_FIELDS[0], r->err) != 0)
        return -1;
    r->setup_seconds = bench_now() - start;

    one_writer *writers = calloc((size_t)threads, sizeof *writers);
    pthread_t *ids = calloc((size_t)threads, sizeof *ids);
    pthread_barrier_t barrier;
    int rc = 0, started = 0, connected = 0, barrier_made = 0;
    uint64_t bytes = 0;
    if (writers == NULL || ids == NULL) {
        rc = bench_fail(r->err, "out of memory");
        goto done;
    }
    /* Untimed: every document's text, and a connection per thread. */
    for (int t = 0; t < threads && rc == 0; t++) {
        one_writer *w = &writers[t];
        w->e = e;
        w->first = (uint64_t)t * per;
        w->n = per;
        w->json = malloc(per * DOCS_MAX_JSON);
        w->lens = malloc(per * sizeof *w->lens);
        if (w->json == NULL || w->lens == NULL) {
            rc = bench_fail(r->err, "out of memory");
            break;
        }
        for (uint64_t i = 0; i < per; i++) {
            docs_doc doc;
            docs_doc_make(w->first + i, &names, 1, &doc);
            w->lens[i] = docs_doc_json(&doc, w->json + i * DOCS_MAX_JSON);
            bytes += w->lens[i];
        }
    }
    for (int t = 0; t < threads && rc == 0; t++, connected++)
        if (e->connect(db, &writers[t].conn, r->err) != 0) rc = -1;
    if (rc != 0) goto done;
    if (pthread_barrier_init(&barrier, NULL, (unsigned)threads + 1) != 0) {
        rc = bench_fail(r->err, "pthread_barrier_init failed");
        goto done;
    }
    barrier_made = 1;
    for (int t = 0; t < threads; t++) {
        writers[t].start = &barrier;
        if (pthread_create(&ids[t], NULL, one_writer_main, &writers[t]) != 0) {
            /* The barrier would never open: give up at once. */
            fprintf(stderr, "pthread_create failed for writer %d of %d\n", t, threads);
            exit(1);
        }
        started++;
    }
    pthread_barrier_wait(&barrier);
    start = bench_now();
    for (int t = 0; t < started; t++) pthread_join(ids[t], NULL);
    r->seconds = bench_now() - start;
    for (int t = 0; t < started; t++) {
        r->call_seconds += writers[t].call_seconds;
        if (writers[t].failed && rc == 0) rc = bench_fail(r->err, "writer %d of %d: %s", t, threads, writers[t].err);
    }
done:
    for (int t = 0; t < connected; t++) {
        char err[BENCH_ERRLEN];
        if (writers[t].conn && e->disconnect(writers[t].conn, err) != 0 && rc == 0) rc = bench_fail(r->err, "%s", err);
    }
    if (barrier_made) pthread_barrier_destroy(&barrier);
    for (int t = 0; writers && t < threads; t++) {
        free(writers[t].json);
        free(writers[t].lens);
    }
    free(writers);
    free(ids);
    if (rc != 0) return -1;
    /* Untimed: every document is there ("visits" is 0 in each). */
    uint64_t total = (uint64_t)threads * per, counted = 0;
    if (e->count_equal(db, VISITS_FIELD, 0, &counted, r->err) != 0) return -1;
    if (counted != total)
        return bench_fail(r->err,
                          "verification failed: after %" PRIu64 " inserts, %" PRIu64 " documents have {\"visits\": 0}",
                          total, counted);
    r->calls = r->ops = total;
    r->digest[0] = total;
    r->digest[1] = (uint64_t)threads;
    snprintf(r->note, sizeof r->note,
             "%d thread%s x %" PRIu64 " documents, %.1f bytes of JSON each; %" PRIu64 " then counted",
             threads, threads == 1 ? "" : "s", per, (double)bytes / (double)total, counted);
    return 0;
}

typedef struct child_args {
    const docs_engine *e;
    row_id row;
    const char *dir;
    int timed; /* 0 for an untimed insert that only builds the database */
} child_args;

/* The whole row in the child: open, the row, stats, close, size. */
static int child_main(void *arg, void *result)
{
    const child_args *a = arg;
    const docs_engine *e = a->e;
    row_result *r = result;
    void *db = NULL;
    double start = bench_now();
    /* insert_one_sync's writes are durable whatever --sync says. */
    if (e->open(a->dir, ROWS[a->row].threads ? 1 : cfg.sync, &db, r->err) != 0) return -1;
    r->open_seconds = bench_now() - start;
    int rc;
    switch (a->row) {
    case R_INSERT: rc = run_insert(e, db, r, a->timed); break;
    case R_FIND: rc = run_find(e, db, r); break;
    case R_RANGE: rc = run_range(e, db, r); break;
    case R_SCAN: rc = run_scan(e, db, r); break;
    case R_UPDATE: rc = run_update(e, db, r); break;
    case R_AGGREGATE: rc = run_aggregate(e, db, r); break;
    case R_ONE:
    case R_ONE_THREADS: rc = run_insert_one(e, db, r, ROWS[a->row].threads); break;
    default: rc = bench_fail(r->err, "unknown row");
    }
    if (rc == 0 && ROWS[a->row].writes && e->stats) {
        char *stats = e->stats(db);
        if (stats) snprintf(r->stats, sizeof r->stats, "%s", stats);
        free(stats);
    }
    char close_err[BENCH_ERRLEN];
    start = bench_now();
    int close_rc = e->close(db, close_err);
    r->close_seconds = bench_now() - start;
    if (rc != 0) return -1;
    if (close_rc != 0) return bench_fail(r->err, "%s", close_err);
    if (ROWS[a->row].writes) r->disk_bytes = bench_disk_usage(a->dir);
    return 0;
}

static int idle_child(void *arg, void *result)
{
    (void)arg, (void)result;
    return 0;
}

/* ---- The parent ----------------------------------------------------------- */

typedef struct measured {
    int ran;
    row_result r;
    long peak_rss_kb;
} measured;

static measured results[ENGINE_COUNT][R_COUNT];
static int engine_on[ENGINE_COUNT];
static int row_on[R_COUNT];

/* Runs a row in a child; prints the failure and returns -1 if it failed. */
static int run_row(const docs_engine *e, row_id row, const char *dir, int timed, measured *m)
{
    memset(m, 0, sizeof *m);
    child_args args = {e, row, dir, timed};
    char how[256];
    int rc = bench_run_forked(child_main, &args, &m->r, sizeof m->r, &m->peak_rss_kb, how, sizeof how);
    if (rc != 0) {
        fprintf(stderr, "%s %s failed: %s\n", e->name, ROWS[row].label, rc == 1 ? m->r.err : how);
        return -1;
    }
    m->ran = 1;
    return 0;
}

static void print_run(const docs_engine *e, row_id row, const measured *m, int untimed)
{
    const row_result *r = &m->r;
    double per_s = r->seconds > 0 ? (double)r->ops / r->seconds : 0;
    double call_seconds = r->call_seconds > 0 ? r->call_seconds : r->seconds;
    double micros_per_call = r->calls ? call_seconds * 1e6 / (double)r->calls : 0;
    char ops[32], rate[32], calls[32];
    printf("    %-7s %-14s %12.1f micros/call %12s %s/s  (%s %s in %.2f s, %s call%s; open %.2f s",
           e->name, untimed ? "(base insert)" : ROWS[row].label, micros_per_call,
           bench_thousands(rate, sizeof rate, per_s), ROWS[row].unit, bench_thousands(ops, sizeof ops, (double)r->ops),
           ROWS[row].unit, r->seconds, bench_thousands(calls, sizeof calls, (double)r->calls),
           r->calls == 1 ? "" : "s", r->open_seconds);
    if (row == R_INSERT) printf(", indexes %.2f s", r->setup_seconds);
    printf(", close %.2f s", r->close_seconds);
    if (ROWS[row].writes) printf("; disk %.1f MiB", r->disk_bytes / 1048576.0);
    printf("; peak RSS %.1f MiB", m->peak_rss_kb / 1024.0);
    if (r->note[0]) printf("; %s", r->note);
    printf(")\n");
    if (r->stats[0]) printf("    %-7s cairn_stats: %s\n", "", r->stats);
}

/* Both engines ran `row`: their answers must be the same. */
static int compare_engines(row_id row)
{
    const measured *a = &results[CAIRN][row], *b = &results[SQLITE][row];
    if (!a->ran || !b->ran) return 0;
    if (a->r.ops == b->r.ops && memcmp(a->r.digest, b->r.digest, sizeof a->r.digest) == 0) return 0;
    fprintf(stderr,
            "RESULTS DIFFER on %s: cairn %" PRIu64 " ops, digest %" PRIu64 "/%" PRIu64 "; sqlite %" PRIu64
            " ops, digest %" PRIu64 "/%" PRIu64 "\n",
            ROWS[row].label, a->r.ops, a->r.digest[0], a->r.digest[1], b->r.ops, b->r.digest[0], b->r.digest[1]);
    return -1;
}

/* ---- Tables -------------------------------------------------------------- */

typedef enum metric { M_RATE, M_MICROS, M_DISK, M_RSS } metric;

static double metric_value(metric m, const measured *x)
{
    switch (m) {
    case M_RATE: return x->r.seconds > 0 ? (double)x->r.ops / x->r.seconds : 0;
    case M_MICROS: /* per call as its thread saw it */
        return x->r.calls ? (x->r.call_seconds > 0 ? x->r.call_seconds : x->r.seconds) * 1e6 / (double)x->r.calls : 0;
    case M_DISK: return (double)x->r.disk_bytes / 1048576.0;
    case M_RSS: return (double)x->peak_rss_kb / 1024.0;
    }
    return 0;
}

static void format_metric(metric m, double v, char *out, size_t cap)
{
    if (m == M_RATE) bench_thousands(out, cap, v);
    else if (m == M_MICROS) {
        if (v < 1000) snprintf(out, cap, v < 10 ? "%.3f" : "%.1f", v);
        else bench_thousands(out, cap, v);
    } else snprintf(out, cap, v < 10 ? "%.2f" : "%.1f", v);
}

static void print_table(metric m)
{
    static const char *const titles[] = {
        [M_RATE] = "Throughput, per second in the unit of the ops column (higher is better)",
        [M_MICROS] = "Latency, micros per call (lower is better)",
        [M_DISK] = "Size on disk after the row, MiB (du of the database directory; lower is better)",
        [M_RSS] = "Peak RSS of the process running the row, MiB (lower is better)",
    };
    int any = 0;
    for (int w = 0; w < R_COUNT; w++) any |= row_on[w] && (m != M_DISK || ROWS[w].writes);
    if (!any) return;
    int ratio = engine_on[CAIRN] && engine_on[SQLITE];
    printf("### %s\n\n| row | %s |", titles[m], m == M_MICROS ? "calls | call" : "ops");
    for (int e = 0; e < ENGINE_COUNT; e++)
        if (engine_on[e]) printf(" %s |", ENGINES[e]->name);
    if (ratio) printf(" cairn/sqlite |");
    printf(m == M_MICROS ? "\n|---|---:|---|" : "\n|---|---:|");
    for (int e = 0; e < ENGINE_COUNT; e++)
        if (engine_on[e]) printf("---:|");
    if (ratio) printf("---:|");
    printf("\n");
    for (int w = 0; w < R_COUNT; w++) {
        if (!row_on[w] || (m == M_DISK && !ROWS[w].writes)) continue;
        /* The counts are the same for both engines (compare_engines checked). */
        const measured *any_run = results[CAIRN][w].ran ? &results[CAIRN][w] : &results[SQLITE][w];
        char cell[64];
        if (m == M_MICROS)
            printf("| %s | %s | %s |", ROWS[w].label, bench_thousands(cell, sizeof cell, (double)any_run->r.calls),
                   ROWS[w].call);
        else
            printf("| %s | %s %s |", ROWS[w].label, bench_thousands(cell, sizeof cell, (double)any_run->r.ops),
                   ROWS[w].unit);
        for (int e = 0; e < ENGINE_COUNT; e++) {
            if (!engine_on[e]) continue;
            if (!results[e][w].ran) {
                printf(" failed |");
                continue;
            }
            format_metric(m, metric_value(m, &results[e][w]), cell, sizeof cell);
            printf(" %s |", cell);
        }
        if (ratio) {
            double c = metric_value(m, &results[CAIRN][w]), s = metric_value(m, &results[SQLITE][w]);
            if (results[CAIRN][w].ran && results[SQLITE][w].ran && s > 0) printf(" %.2f |", c / s);
            else printf(" n/a |");
        }
        printf("\n");
    }
    printf("\n");
}

/* insert_one_sync by 1 and by ONE_THREADS threads, side by side. */
static void print_scaling(void)
{
    if (!row_on[R_ONE]) return;
    int ratio = engine_on[CAIRN] && engine_on[SQLITE];
    char a[32], b[32];
    printf("### insert_one_sync: durable single-document inserts by 1 and %d threads, docs/s (higher is better)\n\n",
           ONE_THREADS);
    printf("| engine | 1 thread | %d threads | %d threads / 1 thread |\n|---|---:|---:|---:|\n", ONE_THREADS,
           ONE_THREADS);
    double rate[ENGINE_COUNT][2];
    for (int e = 0; e < ENGINE_COUNT; e++) {
        if (!engine_on[e]) continue;
        const measured *one = &results[e][R_ONE], *many = &results[e][R_ONE_THREADS];
        rate[e][0] = one->ran ? metric_value(M_RATE, one) : 0;
        rate[e][1] = many->ran ? metric_value(M_RATE, many) : 0;
        printf("| %s | %s | %s |", ENGINES[e]->name, one->ran ? bench_thousands(a, sizeof a, rate[e][0]) : "failed",
               many->ran ? bench_thousands(b, sizeof b, rate[e][1]) : "failed");
        if (rate[e][0] > 0 && rate[e][1] > 0) printf(" %.2f |\n", rate[e][1] / rate[e][0]);
        else printf(" n/a |\n");
    }
    if (ratio) {
        printf("| cairn/sqlite |");
        for (int k = 0; k < 2; k++)
            if (rate[SQLITE][k] > 0 && rate[CAIRN][k] > 0) printf(" %.2f |", rate[CAIRN][k] / rate[SQLITE][k]);
            else printf(" n/a |");
        printf(" |\n");
    }
    printf("\n");
}

/* ---- Main ------------------------------------------------------------------ */

static void usage(FILE *out)
{
    fprintf(out, "usage: cairn-docs-bench [--engines=cairn,sqlite] [--rows=NAMES] [--num=N] [--lookups=K] "
                 "[--ranges=K] [--per-thread=K] [--sync] [--db=DIR]\n  rows:");
    for (int w = 0; w < R_COUNT; w++)
        if (w == 0 || strcmp(ROWS[w].name, ROWS[w - 1].name) != 0) fprintf(out, " %s", ROWS[w].name);
    fprintf(out, "\n  --lookups: find_name queries (default N/%d), --ranges: range_sort queries (default N/%d), "
                 "at least %d\n  --per-thread: insert_one_sync's documents per writer thread (default %d, at most "
                 "N/%d)\n  --sync: every write durable (Cairn \"sync\": \"always\", SQLite synchronous=FULL); "
                 "insert_one_sync is durable always\n"
                 "  --db: a fresh docs-<pid> directory is made under DIR and deleted afterwards (default %s)\n",
            LOOKUP_DIVISOR, RANGE_DIVISOR, MIN_QUERIES, DEFAULT_PER_THREAD, ONE_THREADS, BENCH_DEFAULT_DB);
}

static const char *engine_name(int i) { return ENGINES[i]->name; }
static const char *row_name(int i) { return ROWS[i].name; }

static int parse_count(const char *text, uint64_t *out, const char *flag)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno != 0 || *end != '\0' || v < 1 || text[0] == '-') {
        fprintf(stderr, "%s must be a positive integer\n", flag);
        return -1;
    }
    *out = v;
    return 0;
}

static void print_configuration(void)
{
    char n[32], k1[32], k2[32];
    int cities[DOCS_UPDATE_CITIES];
    docs_update_cities(cities);
    printf("## Configuration\n\n");
    printf("- N = %s documents of about 200 bytes of JSON: {\"_id\": \"<12 digits>\", \"name\": \"user<k>\" "
           "(unique), \"age\": 18..80, \"city\": one of %d, \"score\": 0.00..99.99 (a double), \"active\": bool, "
           "\"tags\": [two of %d words], \"visits\": 0, \"bio\": %d random letters}; every field from a fixed "
           "seed, identical for both engines\n",
           bench_thousands(n, sizeof n, (double)cfg.num), DOCS_CITIES, DOCS_TAGS, DOCS_BIO_LEN);
    printf("- indexes on name, city and age, created on the empty collection before the inserts\n");
    printf("- insert: batches of %d documents, one atomic write (Cairn: one cairn_insert_many; SQLite: one "
           "transaction)\n", DOCS_BATCH);
    printf("- find_name: %s queries {\"name\": \"user<k>\"}, k uniform: one document each\n",
           bench_thousands(k1, sizeof k1, (double)cfg.lookups));
    printf("- range_sort: %s queries {\"age\": {\"$gte\": a, \"$lt\": a+%d}} sort {\"age\": 1} limit %d, a "
           "uniform in %d..%d\n",
           bench_thousands(k2, sizeof k2, (double)cfg.ranges), DOCS_RANGE_WIDTH, DOCS_RANGE_LIMIT, DOCS_AGE_MIN,
           DOCS_AGE_MAX - DOCS_RANGE_WIDTH + 1);
    printf("- scan_filter: %d queries {\"score\": {\"$gt\": x, \"$lt\": x+3}} on the unindexed score (~3%% "
           "match each), every match read; ops = %d x N documents scanned\n",
           SCAN_QUERIES, SCAN_QUERIES);
    printf("- update_many: one call, {\"city\": {\"$in\": [");
    for (int i = 0; i < DOCS_UPDATE_CITIES; i++) printf("%s\"%s\"", i ? ", " : "", DOCS_CITY_NAMES[cities[i]]);
    printf("]}} (~10%%), {\"$inc\": {\"visits\": 1}}; ops = documents updated\n");
    printf("- aggregate: %d x [{\"$group\": {\"_id\": \"$city\", \"n\": {\"$sum\": 1}, \"avg_age\": {\"$avg\": "
           "\"$age\"}}}] / SELECT ... GROUP BY json_extract(body, '$.city'); ops = %d x N documents grouped\n",
           AGGREGATE_RUNS, AGGREGATE_RUNS);
    printf("- insert_one_sync: single-document inserts, each call its own durable write whatever --sync says "
           "(Cairn: cairn_insert_one, \"sync\": \"always\"; SQLite: one autocommitted INSERT per document, "
           "synchronous=FULL in WAL mode), into a fresh database with the same indexes (created untimed), by 1 "
           "thread, then by %d threads in another fresh database; each thread inserts %" PRIu64 " documents of its "
           "own through its own connection (Cairn: the one cairn_db shared by every thread; SQLite: a connection "
           "per thread, with a busy timeout); docs/s = every thread's documents / wall time from a barrier to the "
           "last thread's end; latency = the mean time of one call as its thread saw it\n",
           ONE_THREADS, cfg.per_thread);
    printf("- durability: %s\n",
           cfg.sync ? "every write call durable before it returns (Cairn \"sync\": \"always\", SQLite "
                      "synchronous=FULL in WAL mode: an fsync per batch, per update)"
                    : "writes not durable, flushing left to the OS (Cairn \"sync\": \"never\", SQLite "
                      "synchronous=OFF), as in the key-value bench's non-sync rows; --sync for durable writes");
    printf("- every (engine, row) runs in its own process on the database insert built (insert_one_sync: a fresh "
           "one), opened and closed untimed; peak RSS is that process's ru_maxrss; the OS page cache is not dropped between rows\n");
    printf("- every query's result is checked against a model of the documents and between the engines; a "
           "difference stops the run\n");
    for (int e = 0; e < ENGINE_COUNT; e++) {
        if (!engine_on[e]) continue;
        printf("- %s %s: ", ENGINES[e]->name, ENGINES[e]->version());
        ENGINES[e]->describe(stdout, cfg.sync);
        printf("\n");
    }
    printf("\n");
}

int main(int argc, char **argv)
{
    const char *db_parent = BENCH_DEFAULT_DB;
    uint64_t lookups = 0, ranges = 0;
    cfg.num = DEFAULT_NUM;
    cfg.per_thread = DEFAULT_PER_THREAD;
    for (int e = 0; e < ENGINE_COUNT; e++) engine_on[e] = 1;
    for (int w = 0; w < R_COUNT; w++) row_on[w] = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--engines=", 10) == 0) {
            if (bench_select_names(a + 10, engine_on, ENGINE_COUNT, engine_name, "engine") != 0) return 2;
        } else if (strncmp(a, "--rows=", 7) == 0) {
            if (bench_select_names(a + 7, row_on, R_COUNT, row_name, "row") != 0) return 2;
        } else if (strncmp(a, "--num=", 6) == 0) {
            if (parse_count(a + 6, &cfg.num, "--num") != 0) return 2;
        } else if (strncmp(a, "--lookups=", 10) == 0) {
            if (parse_count(a + 10, &lookups, "--lookups") != 0) return 2;
        } else if (strncmp(a, "--ranges=", 9) == 0) {
            if (parse_count(a + 9, &ranges, "--ranges") != 0) return 2;
        } else if (strncmp(a, "--per-thread=", 13) == 0) {
            if (parse_count(a + 13, &cfg.per_thread, "--per-thread") != 0) return 2;
        } else if (strcmp(a, "--sync") == 0) {
            cfg.sync = 1;
        } else if (strncmp(a, "--db=", 5) == 0) {
            db_parent = a + 5;
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "unknown argument: %s\n", a);
            usage(stderr);
            return 2;
        }
    }
    cfg.lookups = lookups ? lookups : cfg.num / LOOKUP_DIVISOR < MIN_QUERIES ? MIN_QUERIES : cfg.num / LOOKUP_DIVISOR;
    cfg.ranges = ranges ? ranges : cfg.num / RANGE_DIVISOR < MIN_QUERIES ? MIN_QUERIES : cfg.num / RANGE_DIVISOR;
    /* Document numbers stay below N (the names' permutation covers 0..N-1). */
    if (cfg.per_thread > cfg.num / ONE_THREADS) cfg.per_thread = cfg.num / ONE_THREADS;

    char run_dir[PATH_MAX];
    snprintf(run_dir, sizeof run_dir, "%s/docs-%ld", db_parent, (long)getpid());
    bench_remove_tree(run_dir);
    if (bench_make_dirs(run_dir) != 0) {
        fprintf(stderr, "cannot create %s: %s\n", run_dir, strerror(errno));
        return 1;
    }

    /* Before any fork, so that every child inherits them. */
    docs_names_init(&names, cfg.num);
    docs_model_build(&model, cfg.num, &names);

    row_result idle;
    long baseline_kb = 0;
    char how[256];
    memset(&idle, 0, sizeof idle);
    if (bench_run_forked(idle_child, NULL, &idle, sizeof idle, &baseline_kb, how, sizeof how) != 0) {
        fprintf(stderr, "baseline child: %s\n", how);
        return 1;
    }

    printf("# Cairn document benchmark\n\n");
    bench_print_machine(run_dir, BENCH_CFLAGS, baseline_kb, "Cairn and SQLite loaded, the model of N documents built");
    print_configuration();
    printf("## Runs\n\n");

    int failed = 0;
    for (int e = 0; e < ENGINE_COUNT && !failed; e++) {
        if (!engine_on[e]) continue;
        const docs_engine *eng = ENGINES[e];
        char dir[PATH_MAX + 64];
        snprintf(dir, sizeof dir, "%s/%s", run_dir, eng->name);
        bench_remove_tree(dir);
        if (bench_make_dirs(dir) != 0) {
            fprintf(stderr, "cannot create %s: %s\n", dir, strerror(errno));
            failed = 1;
            break;
        }
        int needs_insert = 0; /* a row on the database insert builds */
        for (int w = R_INSERT + 1; w < R_COUNT; w++) needs_insert |= row_on[w] && !ROWS[w].threads;
        for (int w = 0; w < R_COUNT && !failed; w++) {
            int base = w == R_INSERT && !row_on[R_INSERT] && needs_insert;
            if (!row_on[w] && !base) continue;
            measured base_run;
            measured *m = base ? &base_run : &results[e][w];
            /* insert_one_sync: a fresh database per thread count. */
            char row_dir[PATH_MAX + 128];
            snprintf(row_dir, sizeof row_dir, "%s/insert_one-%d", dir, ROWS[w].threads);
            if (ROWS[w].threads && bench_make_dirs(row_dir) != 0) {
                fprintf(stderr, "cannot create %s: %s\n", row_dir, strerror(errno));
                failed = 1;
                break;
            }
            if (run_row(eng, (row_id)w, ROWS[w].threads ? row_dir : dir, !base, m) != 0) {
                failed = 1;
                break;
            }
            print_run(eng, (row_id)w, m, base);
        }
        bench_remove_tree(dir);
    }
    bench_remove_tree(run_dir);
    for (int w = 0; w < R_COUNT && !failed; w++)
        if (compare_engines((row_id)w) != 0) failed = 1;
    if (failed) {
        fprintf(stderr, "benchmark stopped: a run failed or the engines disagree (see above)\n");
        return 1;
    }

    printf("\n## Results (N = %" PRIu64 ")\n\n", cfg.num);
    printf("cairn/sqlite is Cairn's figure divided by SQLite's: for throughput above 1 Cairn is faster; for "
           "latency, size and RSS above 1 Cairn takes more.\n\n");
    print_table(M_RATE);
    print_scaling();
    print_table(M_MICROS);
    print_table(M_DISK);
    print_table(M_RSS);
    return 0;
}
