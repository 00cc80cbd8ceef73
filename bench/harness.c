/*
** harness.c -- the driver of Cairn's side-by-side benchmark: Cairn, RocksDB,
** LevelDB, LMDB and SQLite, each through its own C API (engine.h), on the
** same keys and values (workload.c), in one run, db_bench style.
**
** Each (engine, workload) runs in its own forked child process: the engines
** never share a process, and wait4() gives the child's peak RSS. The child
** reports its timings through a pipe. For each engine the rows run in this
** order:
**
**   1. the fill rows that start from an empty database (fillseq, fillbatch,
**      fillsync, fillsync8, fillrandom), each in a fresh directory that is
**      deleted after its size is taken; except that fillrandom's database is
**      kept as the "base" when a read row or overwrite follows;
**   2. if no fillrandom row ran but a later row needs the base, an untimed
**      fillrandom builds it;
**   3. the read rows (readrandom, readmissing, readseq, seekrandom), each
**      reopening the base, which they do not change; then readcompacted,
**      which compacts the base fully (untimed) and reads it as readrandom
**      does (engines with nothing to compact, LMDB and SQLite, skip it);
**   4. overwrite, which reopens the base (compacted, when readcompacted ran)
**      and rewrites random keys in it.
**
** Usage: cairn-bench [--engines=a,b] [--benchmarks=x,y] [--num=N] [--db=DIR]
** Output is Markdown: machine facts, configuration, per-run lines, tables.
*/
#define _GNU_SOURCE /* strtok_r, PATH_MAX */

#include "engine.h"
#include "util.h"
#include "workload.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
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
#define BATCH_SIZE 1000        /* fillbatch: puts per batch */
#define SYNC_DIVISOR 100       /* fillsync, fillsync8: N / 100 writes */
#define SYNC_THREADS 8         /* fillsync8: writer threads */
#define SEEK_NEXTS 10          /* seekrandom: items read after the sought one */

/* ---- Engines and workloads --------------------------------------------- */

static const engine *const ENGINES[] = {&engine_cairn, &engine_rocksdb, &engine_leveldb, &engine_lmdb,
                                        &engine_sqlite};
enum { ENGINE_COUNT = sizeof ENGINES / sizeof ENGINES[0], CAIRN = 0 };

typedef enum workload_id {
    W_FILLSEQ,
    W_FILLRANDOM,
    W_FILLBATCH,
    W_FILLSYNC,
    W_FILLSYNC8,
    W_OVERWRITE,
    W_READRANDOM,
    W_READMISSING,
    W_READSEQ,
    W_SEEKRANDOM,
    W_READCOMPACTED,
    W_COUNT
} workload_id;

typedef struct workload_def {
    const char *name;
    int fresh;     /* starts from an empty database */
    int uses_base; /* runs on the base database (filled by fillrandom) */
    int sync;      /* every write durable */
    int space;     /* report size on disk and peak RSS */
    const char *what;
} workload_def;

/* In the order of the tables. */
static const workload_def WORKLOADS[W_COUNT] = {
    [W_FILLSEQ] = {"fillseq", 1, 0, 0, 1, "N puts in ascending key order"},
    [W_FILLRANDOM] = {"fillrandom", 1, 0, 0, 1, "N puts in random order (a permutation: every key once)"},
    [W_FILLBATCH] = {"fillbatch", 1, 0, 0, 1, "N puts in ascending key order, 1000 per atomic batch"},
    [W_FILLSYNC] = {"fillsync", 1, 0, 1, 1, "N/100 durable puts in random order, one thread"},
    [W_FILLSYNC8] = {"fillsync8", 1, 0, 1, 1, "N/100 durable puts in random order, 8 threads"},
    [W_OVERWRITE] = {"overwrite", 0, 1, 0, 1, "N puts of uniformly random existing keys"},
    [W_READRANDOM] = {"readrandom", 0, 1, 0, 0, "N gets of uniformly random existing keys"},
    [W_READMISSING] = {"readmissing", 0, 1, 0, 0, "N gets of absent keys (an existing key + \".\")"},
    [W_READSEQ] = {"readseq", 0, 1, 0, 0, "one iterator reads all N items in order"},
    [W_SEEKRANDOM] = {"seekrandom", 0, 1, 0, 0, "N x (new iterator, seek a random existing key, read it + 10 more)"},
    [W_READCOMPACTED] = {"readcompacted", 0, 1, 0, 1,
                         "a full compaction (untimed), then readrandom's N gets; its size is the size after compaction"},
};

/* The order in which one engine's rows run (see the top of the file). */
static const workload_id RUN_ORDER[W_COUNT] = {W_FILLSEQ,    W_FILLBATCH,    W_FILLSYNC, W_FILLSYNC8,
                                               W_FILLRANDOM, W_READRANDOM,   W_READMISSING, W_READSEQ,
                                               W_SEEKRANDOM, W_READCOMPACTED, W_OVERWRITE};

static uint64_t workload_ops(workload_id w, uint64_t num)
{
    if (!WORKLOADS[w].sync) return num;
    uint64_t n = num / SYNC_DIVISOR;
    return n < SYNC_THREADS ? SYNC_THREADS : n;
}

/* ---- One run, in the child ---------------------------------------------- */

typedef struct run_result {
    int ok;
    uint64_t ops;
    double seconds;       /* the timed loop only */
    double open_seconds;  /* not in `seconds` */
    double close_seconds; /* not in `seconds` */
    double compact_seconds; /* readcompacted: the full compaction, not in `seconds` */
    uint64_t disk_bytes;  /* after close, for `space` rows */
    uint64_t checked;     /* items found / read, verified against the expectation */
    char note[160];
    char err[BENCH_ERRLEN];
    char stats[3072];
} run_result;

typedef struct sync_writer {
    const engine *e;
    void *db;
    const bench_perm *perm;
    const bench_values *values;
    uint64_t from, to;
    int failed;
    char err[BENCH_ERRLEN];
} sync_writer;

static void *sync_writer_main(void *arg)
{
    sync_writer *w = arg;
    char key[BENCH_KEY_SIZE];
    for (uint64_t i = w->from; i < w->to; i++) {
        bench_key(bench_permute(w->perm, i), key);
        if (w->e->put_sync(w->db, key, BENCH_KEY_SIZE, bench_value(w->values, i), BENCH_VALUE_SIZE, w->err) != 0) {
            w->failed = 1;
            break;
        }
    }
    return NULL;
}

static int fill_sync_threads(const engine *e, void *db, uint64_t ops, const bench_values *values, char *err)
{
    bench_perm perm;
    bench_perm_init(&perm, ops, SEED_SYNC_ORDER);
    sync_writer writers[SYNC_THREADS];
    pthread_t threads[SYNC_THREADS];
    int started = 0, rc = 0;
    for (int t = 0; t < SYNC_THREADS; t++) {
        writers[t] = (sync_writer){e, db, &perm, values, ops * (uint64_t)t / SYNC_THREADS,
                                   ops * (uint64_t)(t + 1) / SYNC_THREADS, 0, ""};
        if (pthread_create(&threads[t], NULL, sync_writer_main, &writers[t]) != 0) {
            rc = bench_fail(err, "pthread_create failed");
            break;
        }
        started++;
    }
    for (int t = 0; t < started; t++) {
        pthread_join(threads[t], NULL);
        if (writers[t].failed && rc == 0) rc = bench_fail(err, "writer thread %d: %s", t, writers[t].err);
    }
    return rc;
}

static volatile uint64_t sink; /* keeps reads from being optimised away */

/* Runs the timed loop of workload `w` on the open database. */
static int run_loop(const engine *e, void *db, workload_id w, uint64_t num, const bench_values *values,
                    run_result *r)
{
    char *err = r->err;
    char key[BENCH_KEY_SIZE + 1];
    char value[BENCH_VALUE_SIZE * 2];
    size_t value_len;
    uint64_t ops = workload_ops(w, num), checked = 0, sum = 0;
    bench_rng rng;
    bench_perm perm;

    switch (w) {
    case W_FILLSEQ:
        for (uint64_t i = 0; i < ops; i++) {
            bench_key(i, key);
            if (e->put(db, key, BENCH_KEY_SIZE, bench_value(values, i), BENCH_VALUE_SIZE, err) != 0) return -1;
        }
        break;
    case W_FILLRANDOM:
        bench_perm_init(&perm, ops, SEED_FILL_ORDER);
        for (uint64_t i = 0; i < ops; i++) {
            bench_key(bench_permute(&perm, i), key);
            if (e->put(db, key, BENCH_KEY_SIZE, bench_value(values, i), BENCH_VALUE_SIZE, err) != 0) return -1;
        }
        break;
    case W_FILLBATCH: {
        static char keys[BATCH_SIZE][BENCH_KEY_SIZE];
        const char *key_ptrs[BATCH_SIZE], *value_ptrs[BATCH_SIZE];
        size_t key_lens[BATCH_SIZE], value_lens[BATCH_SIZE];
        for (uint64_t i = 0; i < ops;) {
            size_t n = 0;
            for (; n < BATCH_SIZE && i < ops; n++, i++) {
                bench_key(i, keys[n]);
                key_ptrs[n] = keys[n];
                key_lens[n] = BENCH_KEY_SIZE;
                value_ptrs[n] = bench_value(values, i);
                value_lens[n] = BENCH_VALUE_SIZE;
            }
            if (e->write_batch(db, key_ptrs, key_lens, value_ptrs, value_lens, n, err) != 0) return -1;
        }
        break;
    }
    case W_FILLSYNC:
        bench_perm_init(&perm, ops, SEED_SYNC_ORDER);
        for (uint64_t i = 0; i < ops; i++) {
            bench_key(bench_permute(&perm, i), key);
            if (e->put_sync(db, key, BENCH_KEY_SIZE, bench_value(values, i), BENCH_VALUE_SIZE, err) != 0) return -1;
        }
        break;
    case W_FILLSYNC8:
        if (fill_sync_threads(e, db, ops, values, err) != 0) return -1;
        break;
    case W_OVERWRITE:
        bench_rng_seed(&rng, SEED_OVERWRITE);
        for (uint64_t i = 0; i < ops; i++) {
            bench_key(bench_rng_below(&rng, num), key);
            /* Offset so that a key rarely gets back the value it had. */
            if (e->put(db, key, BENCH_KEY_SIZE, bench_value(values, i + 4999), BENCH_VALUE_SIZE, err) != 0)
                return -1;
        }
        break;
    case W_READRANDOM:
    case W_READCOMPACTED:
    case W_READMISSING:
        bench_rng_seed(&rng, w == W_READMISSING ? SEED_MISSING : SEED_READ);
        for (uint64_t i = 0; i < ops; i++) {
            bench_key(bench_rng_below(&rng, num), key);
            key[BENCH_KEY_SIZE] = '.';
            size_t key_len = w == W_READMISSING ? BENCH_KEY_SIZE + 1 : BENCH_KEY_SIZE;
            int found = e->get(db, key, key_len, value, sizeof value, &value_len, err);
            if (found < 0) return -1;
            if (found) {
                if (value_len != BENCH_VALUE_SIZE) return bench_fail(err, "a value of %zu bytes", value_len);
                checked++;
                sum += (unsigned char)value[value_len - 1];
            }
        }
        if (checked != (w == W_READMISSING ? 0 : ops))
            return bench_fail(err, "%" PRIu64 " of %" PRIu64 " keys found", checked, ops);
        snprintf(r->note, sizeof r->note, "%" PRIu64 " of %" PRIu64 " found", checked, ops);
        break;
    case W_READSEQ: {
        engine_iter *it = e->iter_open(db, err);
        if (it == NULL) return -1;
        const char *k, *v;
        size_t k_len, v_len;
        int rc;
        while (checked < ops && (rc = e->iter_next(it, &k, &k_len, &v, &v_len, err)) == 1) {
            checked++;
            sum += (unsigned char)k[k_len - 1] + v_len;
        }
        e->iter_close(it);
        if (rc < 0) return -1;
        if (checked != ops) return bench_fail(err, "read %" PRIu64 " of %" PRIu64 " items", checked, ops);
        snprintf(r->note, sizeof r->note, "%" PRIu64 " items", checked);
        break;
    }
    case W_SEEKRANDOM: {
        bench_rng_seed(&rng, SEED_SEEK);
        uint64_t items = 0;
        for (uint64_t i = 0; i < ops; i++) {
            bench_key(bench_rng_below(&rng, num), key);
            engine_iter *it = e->iter_open(db, err);
            if (it == NULL) return -1;
            const char *k, *v;
            size_t k_len, v_len;
            int rc = e->iter_seek(it, key, BENCH_KEY_SIZE, err);
            for (int j = 0; rc == 0 && j <= SEEK_NEXTS; j++) {
                int got = e->iter_next(it, &k, &k_len, &v, &v_len, err);
                if (got < 0) rc = -1;
                if (got <= 0) break;
                if (j == 0 && k_len == BENCH_KEY_SIZE && memcmp(k, key, BENCH_KEY_SIZE) == 0) checked++;
                items++;
                sum += v_len;
            }
            e->iter_close(it);
            if (rc != 0) return -1;
        }
        if (checked != ops) return bench_fail(err, "%" PRIu64 " of %" PRIu64 " seeks found their key", checked, ops);
        snprintf(r->note, sizeof r->note, "%" PRIu64 " seeks found their key, %" PRIu64 " items read", checked,
                 items);
        break;
    }
    default:
        return bench_fail(err, "unknown workload");
    }
    sink += sum;
    r->ops = ops;
    r->checked = checked;
    return 0;
}

/* The whole run in the child: open, timed loop, stats, close, size. Open,
 * loop and close are timed apart; the stats call is in none of them. */
static int run_in_child(const engine *e, workload_id w, const char *dir, uint64_t num, run_result *r)
{
    bench_values values;
    if (bench_values_init(&values, SEED_VALUES) != 0) return bench_fail(r->err, "out of memory");
    void *db = NULL;
    double start = bench_now();
    if (e->open(dir, WORKLOADS[w].sync, &db, r->err) != 0) return -1;
    r->open_seconds = bench_now() - start;
    if (w == W_READCOMPACTED) {
        /* Untimed, and before the loop: the row measures reads of the result. */
        start = bench_now();
        if (e->compact(db, r->err) != 0) return -1;
        r->compact_seconds = bench_now() - start;
    }
    start = bench_now();
    int rc = run_loop(e, db, w, num, &values, r);
    r->seconds = bench_now() - start;
    if (rc == 0 && WORKLOADS[w].space && e->stats) {
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
    if (WORKLOADS[w].space) r->disk_bytes = bench_disk_usage(dir);
    bench_values_free(&values);
    return 0;
}

/* ---- Forking ------------------------------------------------------------- */

typedef struct measured {
    int ran;
    int not_applicable; /* readcompacted for an engine with nothing to compact */
    run_result r;
    long peak_rss_kb;
} measured;

/* What the child of run_forked() needs. */
typedef struct child_args {
    const engine *e;
    workload_id w;
    const char *dir;
    uint64_t num;
} child_args;

static int child_main(void *arg, void *result)
{
    const child_args *a = arg;
    run_result *r = result;
    r->ok = a->e == NULL || run_in_child(a->e, a->w, a->dir, a->num, r) == 0;
    return r->ok ? 0 : -1;
}

/* Runs `w` for `e` in a child process; fills *m and returns 0, or prints
 * the failure and returns -1. With e == NULL the child does nothing (the
 * baseline RSS of a child). */
static int run_forked(const engine *e, workload_id w, const char *dir, uint64_t num, measured *m)
{
    memset(m, 0, sizeof *m);
    child_args args = {e, w, dir, num};
    char how[256];
    int rc = bench_run_forked(child_main, &args, &m->r, sizeof m->r, &m->peak_rss_kb, how, sizeof how);
    if (rc != 0) {
        const char *name = e ? e->name : "baseline";
        if (rc == 1) fprintf(stderr, "%s %s failed: %s\n", name, WORKLOADS[w].name, m->r.err);
        else fprintf(stderr, "%s %s: %s\n", name, WORKLOADS[w].name, how);
        return -1;
    }
    m->ran = 1;
    return 0;
}

/* ---- Tables -------------------------------------------------------------- */

static measured results[ENGINE_COUNT][W_COUNT];
static int engine_on[ENGINE_COUNT];
static int workload_on[W_COUNT];

typedef enum metric { M_OPS, M_MICROS, M_DISK, M_RSS, M_CLOSE } metric;

static int metric_applies(metric m, workload_id w) { return m == M_OPS || m == M_MICROS || WORKLOADS[w].space; }

static double metric_value(metric m, const measured *x)
{
    double ops_per_s = x->r.seconds > 0 ? (double)x->r.ops / x->r.seconds : 0;
    switch (m) {
    case M_OPS: return ops_per_s;
    case M_MICROS: return ops_per_s > 0 ? 1e6 / ops_per_s : 0;
    case M_DISK: return (double)x->r.disk_bytes / 1048576.0;
    case M_RSS: return (double)x->peak_rss_kb / 1024.0;
    case M_CLOSE: return x->r.close_seconds;
    }
    return 0;
}

static void format_metric(metric m, double v, char *out, size_t cap)
{
    if (m == M_OPS) bench_thousands(out, cap, v);
    else if (m == M_MICROS) snprintf(out, cap, v < 10 ? "%.3f" : v < 1000 ? "%.2f" : "%.0f", v);
    else if (m == M_CLOSE) snprintf(out, cap, "%.2f", v);
    else snprintf(out, cap, v < 10 ? "%.2f" : "%.1f", v);
}

static void print_table(metric m, uint64_t num, int with_ratio)
{
    static const char *const titles[] = {
        [M_OPS] = "Throughput, ops/s (higher is better)",
        [M_MICROS] = "Latency, micros/op = 1,000,000 / (ops/s) (lower is better)",
        [M_DISK] = "Size on disk after close, MiB (du of the database directory; lower is better)",
        [M_RSS] = "Peak RSS of the process running the row, MiB (lower is better)",
        [M_CLOSE] = "Close after the row, seconds (not in ops/s; work deferred to close shows here)",
    };
    int higher_better = m == M_OPS;
    int any = 0;
    for (int w = 0; w < W_COUNT; w++) any |= workload_on[w] && metric_applies(m, w);
    if (!any) return;
    printf("### %s\n\n| workload | ops |", titles[m]);
    for (int e = 0; e < ENGINE_COUNT; e++)
        if (engine_on[e]) printf(" %s |", ENGINES[e]->name);
    if (with_ratio) printf(" cairn/best |");
    printf("\n|---|---:|");
    for (int e = 0; e < ENGINE_COUNT; e++)
        if (engine_on[e]) printf("---:|");
    if (with_ratio) printf("---|");
    printf("\n");
    for (int w = 0; w < W_COUNT; w++) {
        if (!workload_on[w] || !metric_applies(m, w)) continue;
        char cell[64];
        printf("| %s | %s |", WORKLOADS[w].name, bench_thousands(cell, sizeof cell, (double)workload_ops(w, num)));
        int best = -1;
        double best_value = 0;
        for (int e = 0; e < ENGINE_COUNT; e++) {
            if (!engine_on[e]) continue;
            if (results[e][w].not_applicable) {
                printf(" n/a |");
                continue;
            }
            if (!results[e][w].ran) {
                printf(" failed |");
                continue;
            }
            double v = metric_value(m, &results[e][w]);
            format_metric(m, v, cell, sizeof cell);
            printf(" %s |", cell);
            if (e != CAIRN && (best < 0 || (higher_better ? v > best_value : v < best_value))) {
                best = e;
                best_value = v;
            }
        }
        if (with_ratio) {
            if (engine_on[CAIRN] && results[CAIRN][w].ran && best >= 0 && best_value > 0)
                printf(" %.2f (%s) |", metric_value(m, &results[CAIRN][w]) / best_value, ENGINES[best]->name);
            else printf(" n/a |");
        }
        printf("\n");
    }
    printf("\n");
}

/* ---- Main ------------------------------------------------------------------ */

static void usage(FILE *out)
{
    fprintf(out, "usage: cairn-bench [--engines=cairn,rocksdb,leveldb,lmdb,sqlite] [--benchmarks=NAMES] "
                 "[--num=N] [--db=DIR]\n  benchmarks:");
    for (int w = 0; w < W_COUNT; w++) fprintf(out, " %s", WORKLOADS[w].name);
    fprintf(out, "\n  --db: a fresh run-<pid> directory is made under DIR and deleted afterwards (default %s)\n",
            BENCH_DEFAULT_DB);
}

/* Marks the names in a comma-separated list; returns -1 on an unknown one. */
static const char *engine_name(int i) { return ENGINES[i]->name; }
static const char *workload_name(int i) { return WORKLOADS[i].name; }

static void print_run(const engine *e, workload_id w, const measured *m, int untimed)
{
    const run_result *r = &m->r;
    double ops_per_s = r->seconds > 0 ? (double)r->ops / r->seconds : 0;
    char ops[32], rate[32];
    printf("    %-8s %-12s %10.3f micros/op %12s ops/s  (%s ops in %.2f s; open %.2f s, close %.2f s",
           e->name, untimed ? "(base fill)" : WORKLOADS[w].name, ops_per_s > 0 ? 1e6 / ops_per_s : 0,
           bench_thousands(rate, sizeof rate, ops_per_s), bench_thousands(ops, sizeof ops, (double)r->ops), r->seconds,
           r->open_seconds, r->close_seconds);
    if (WORKLOADS[w].space || untimed)
        printf("; disk %.1f MiB; peak RSS %.1f MiB", r->disk_bytes / 1048576.0, m->peak_rss_kb / 1024.0);
    if (w == W_READCOMPACTED && !untimed) printf("; compaction %.2f s", r->compact_seconds);
    if (r->note[0]) printf("; %s", r->note);
    printf(")\n");
    if (r->stats[0]) printf("    %-8s cairn_stats: %s\n", "", r->stats);
}

int main(int argc, char **argv)
{
    uint64_t num = DEFAULT_NUM;
    const char *db_parent = BENCH_DEFAULT_DB;
    for (int e = 0; e < ENGINE_COUNT; e++) engine_on[e] = 1;
    for (int w = 0; w < W_COUNT; w++) workload_on[w] = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--engines=", 10) == 0) {
            if (bench_select_names(a + 10, engine_on, ENGINE_COUNT, engine_name, "engine") != 0) return 2;
        } else if (strncmp(a, "--benchmarks=", 13) == 0) {
            if (bench_select_names(a + 13, workload_on, W_COUNT, workload_name, "benchmark") != 0) return 2;
        } else if (strncmp(a, "--num=", 6) == 0) {
            char *end;
            num = strtoull(a + 6, &end, 10);
            if (*end != '\0' || num < 1) {
                fprintf(stderr, "--num must be a positive integer\n");
                return 2;
            }
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

    char run_dir[PATH_MAX];
    snprintf(run_dir, sizeof run_dir, "%s/run-%ld", db_parent, (long)getpid());
    bench_remove_tree(run_dir);
    if (bench_make_dirs(run_dir) != 0) {
        fprintf(stderr, "cannot create %s: %s\n", run_dir, strerror(errno));
        return 1;
    }

    measured baseline;
    if (run_forked(NULL, W_FILLSEQ, run_dir, num, &baseline) != 0) return 1;

    printf("# Cairn side-by-side benchmark\n\n");
    bench_print_machine(run_dir, BENCH_CFLAGS, baseline.peak_rss_kb, "all five libraries loaded");
    printf("## Configuration\n\n");
    printf("- N = %" PRIu64 "; fillsync and fillsync8 write N/%d = %" PRIu64 " (as db_bench's fillsync)\n", num,
           SYNC_DIVISOR, workload_ops(W_FILLSYNC, num));
    printf("- keys: %d bytes, the key number as %%016llu; values: %d bytes, half-compressible (50 random printable "
           "bytes twice, db_bench's compression ratio 0.5); all from fixed seeds, identical for every engine\n",
           BENCH_KEY_SIZE, BENCH_VALUE_SIZE);
    printf("- writes are not durable (no fsync) in every row but fillsync and fillsync8, where each write is "
           "durable before it returns\n");
    printf("- read rows and overwrite run on the database fillrandom made (every key 0..N-1 exactly once, in "
           "random order), closed and reopened in a new process; open and close are not timed\n");
    printf("- every (engine, row) runs in its own process; peak RSS is that process's ru_maxrss, from open "
           "to close\n");
    printf("- block cache for RocksDB and LevelDB: %d MiB (Cairn's block_cache_mb default); bloom filter %d "
           "bits/key\n",
           BENCH_BLOCK_CACHE_MB, BENCH_BLOOM_BITS_PER_KEY);
    for (int e = 0; e < ENGINE_COUNT; e++) {
        if (!engine_on[e]) continue;
        printf("- %s %s: ", ENGINES[e]->name, ENGINES[e]->version());
        ENGINES[e]->describe(stdout);
        printf("\n");
    }
    printf("\n## Runs\n\n");

    int failed = 0;
    int needs_base = 0;
    for (int w = 0; w < W_COUNT; w++) needs_base |= workload_on[w] && WORKLOADS[w].uses_base;
    for (int e = 0; e < ENGINE_COUNT && !failed; e++) {
        if (!engine_on[e]) continue;
        const engine *eng = ENGINES[e];
        char base[PATH_MAX + 64];
        snprintf(base, sizeof base, "%s/%s-base", run_dir, eng->name);
        int have_base = 0;
        for (int i = 0; i < W_COUNT && !failed; i++) {
            workload_id w = RUN_ORDER[i];
            if (WORKLOADS[w].uses_base && needs_base && !have_base) {
                /* No fillrandom row ran: build the base, untimed. */
                measured prep;
                bench_remove_tree(base);
                if (bench_make_dirs(base) != 0 || run_forked(eng, W_FILLRANDOM, base, num, &prep) != 0) {
                    failed = 1;
                    break;
                }
                print_run(eng, W_FILLRANDOM, &prep, 1);
                have_base = 1;
            }
            if (!workload_on[w]) continue;
            if (w == W_READCOMPACTED && eng->compact == NULL) {
                results[e][w].not_applicable = 1;
                continue;
            }
            char fresh[PATH_MAX + 64];
            const char *dir = base;
            int keep = w == W_FILLRANDOM && needs_base;
            if (WORKLOADS[w].fresh && !keep) {
                snprintf(fresh, sizeof fresh, "%s/%s-%s", run_dir, eng->name, WORKLOADS[w].name);
                dir = fresh;
            }
            if (WORKLOADS[w].fresh) {
                bench_remove_tree(dir);
                if (bench_make_dirs(dir) != 0) {
                    fprintf(stderr, "cannot create %s: %s\n", dir, strerror(errno));
                    failed = 1;
                    break;
                }
            }
            if (run_forked(eng, w, dir, num, &results[e][w]) != 0) {
                failed = 1;
                break;
            }
            print_run(eng, w, &results[e][w], 0);
            if (keep) have_base = 1;
            if (WORKLOADS[w].fresh && !keep) bench_remove_tree(dir);
        }
        bench_remove_tree(base);
    }
    bench_remove_tree(run_dir);
    if (failed) {
        fprintf(stderr, "benchmark stopped: a run failed (see above)\n");
        return 1;
    }

    printf("\n## Results (N = %" PRIu64 ")\n\n", num);
    printf("cairn/best is Cairn's ops/s divided by the best peer's on that row (the peer is named): above 1 "
           "Cairn is faster than every peer, below 1 it is slower than the one named.\n\n");
    print_table(M_OPS, num, 1);
    print_table(M_MICROS, num, 0);
    printf("For size and RSS, cairn/best is Cairn's value divided by the smallest peer's (named): below 1 Cairn "
           "uses less than every peer, above 1 it uses that many times what the named peer uses.\n\n");
    print_table(M_DISK, num, 1);
    print_table(M_RSS, num, 1);
    print_table(M_CLOSE, num, 0);
    return 0;
}
