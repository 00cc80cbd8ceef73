/*
** ts_bench: the time-series bench, Cairn through its C API (bench/README.md,
** "Time series"). A TSBS-style cpu-only data set (hosts with TSBS's ten
** tags, ten usage_* fields each, one point every 10 s, random walks from a
** fixed seed) is ingested in batches with cairn_ts_write_float(), packed
** and compacted, then queried. It prints one "row <name> <value> <unit>"
** line per measurement, and writes the same data as CSV (--csv) for
** ts_bench_peers.py, which loads it into DuckDB and prints the comparison.
** A benchmark asserts no speeds: it fails only when a call fails.
**
**   ts_bench --db=DIR [--hosts=4000] [--hours=24] [--batch=100000] [--csv=FILE] [--rss-series=N] [--progress] [--options=JSON]
**
** --batch counts points: TSBS's loader sends 10,000 rows a batch, and a cpu
** row holds 10 fields. --rss-series=N then creates N more series with one
** point each and prints the growth of the resident set per series.
** --progress prints the ingest rate of every simulated hour on stderr, with
** the engine's stall time and the bytes its flushes and compactions wrote.
** --options replaces the open options ({"sync":"never"}).
** --queries-only reopens a database an earlier run with the same --hosts
** and --hours left in DIR and runs only the queries (to compare two
** builds, or two options, on the same files).
*/
#define _XOPEN_SOURCE 700
#include "cairn.h"

#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <malloc.h>
#include <sys/stat.h>
#include <time.h>

/* The resident set in bytes (Linux). */
static long long rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long long pages = 0, resident = 0;
    if (f == NULL)
        return 0;
    if (fscanf(f, "%lld %lld", &pages, &resident) != 2)
        resident = 0;
    fclose(f);
    return resident * 4096;
}

/* The anonymous part of the resident set in bytes (RssAnon in
   /proc/self/status): the process's own memory, without the pages of
   memory-mapped tables, which are the OS page cache and reclaimable. */
static long long anonymous_bytes(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long long kb = 0;
    if (f == NULL)
        return 0;
    while (fgets(line, sizeof line, f) != NULL)
        if (sscanf(line, "RssAnon: %lld kB", &kb) == 1)
            break;
    fclose(f);
    return kb * 1024;
}

#define FIELDS 10
static const char *field_names[FIELDS] = {"usage_user", "usage_system", "usage_idle", "usage_nice", "usage_iowait",
                                          "usage_irq", "usage_softirq", "usage_steal", "usage_guest", "usage_guest_nice"};
static const char *regions[] = {"us-east-1", "us-west-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-1",
                                "ap-southeast-2", "ap-northeast-1", "sa-east-1"};
static const int64_t START = 1451606400000; /* 2016-01-01, as TSBS */
static const int64_t STEP = 10000;

static uint64_t rng_state = 0x7ED5EED;
static uint64_t next_random(void)
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, int rc, char *err)
{
    fprintf(stderr, "ts_bench: %s failed (%d): %s\n", what, rc, err ? err : "");
    exit(1);
}
#define CALL(what, call)                \
    do {                                \
        char *err = NULL;               \
        int rc_ = (call);               \
        if (rc_ != 0 && rc_ != 100)     \
            die(what, rc_, err);        \
        cairn_free(err);                \
    } while (0)

typedef struct {
    char region[32], datacenter[32], rack[8], os[16], arch[8], team[8], service[8], version[8], env[16];
} host_tags;

static void make_tags(int h, host_tags *t)
{
    int r = h % 9;
    snprintf(t->region, sizeof t->region, "%s", regions[r]);
    snprintf(t->datacenter, sizeof t->datacenter, "%s%c", regions[r], 'a' + (int)(next_random() % 3));
    snprintf(t->rack, sizeof t->rack, "%d", (int)(next_random() % 100));
    snprintf(t->os, sizeof t->os, "%s", (const char *[]){"Ubuntu16.10", "Ubuntu16.04LTS", "Ubuntu15.10"}[next_random() % 3]);
    snprintf(t->arch, sizeof t->arch, "%s", next_random() % 2 ? "x64" : "x86");
    snprintf(t->team, sizeof t->team, "%s", (const char *[]){"SF", "NYC", "LON", "CHI"}[next_random() % 4]);
    snprintf(t->service, sizeof t->service, "%d", (int)(next_random() % 20));
    snprintf(t->version, sizeof t->version, "%d", (int)(next_random() % 2));
    snprintf(t->env, sizeof t->env, "%s", (const char *[]){"production", "staging", "test"}[next_random() % 3]);
}

static uint64_t dir_bytes;
static int add_size(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)path, (void)ftw;
    if (flag == FTW_F)
        dir_bytes += (uint64_t)st->st_size;
    return 0;
}

/* A number from cairn_stats(): the digits after `member` (a member name with its colon). */
static double stat_number(cairn_db *db, const char *member) {
    char *json = NULL, *err = NULL;
    size_t len = 0;
    double value = -1;
    if (cairn_stats(db, &json, &len, &err) == CAIRN_OK) {
        const char *at = strstr(json, member);
        if (at != NULL) value = strtod(at + strlen(member), NULL);
    }
    cairn_free(json);
    cairn_free(err);
    return value;
}

/* Reads a cursor to its end in batches; returns the rows. */
static size_t drain(cairn_cursor *cursor)
{
    size_t rows = 0;
    for (;;) {
        const char *json;
        size_t len, count;
        char *err = NULL;
        int rc = cairn_cursor_next_batch(cursor, 0, 0, &json, &len, NULL, &count, &err);
        if (rc == CAIRN_DONE)
            break;
        if (rc != 0)
            die("cairn_cursor_next_batch", rc, err);
        rows += count;
    }
    cairn_cursor_close(cursor);
    return rows;
}

/* Runs a query `reps` times; prints the mean latency in ms. */
static void timed(cairn_db *db, const char *row, int kind, const char *query, int reps)
{
    double start = now_seconds();
    size_t rows = 0;
    for (int i = 0; i < reps; i++) {
        cairn_cursor *cursor = NULL;
        char *err = NULL;
        int rc = kind == 0 ? cairn_ts_range(db, query, strlen(query), &cursor, &err)
                 : kind == 1 ? cairn_ts_aggregate(db, query, strlen(query), &cursor, &err)
                 : kind == 2 ? cairn_ts_last(db, query, strlen(query), &cursor, &err)
                             : cairn_ts_series(db, query, strlen(query), &cursor, &err);
        if (rc != 0)
            die(row, rc, err);
        rows = drain(cursor);
    }
    printf("row %s %.3f ms (%zu rows)\n", row, (now_seconds() - start) * 1000 / reps, rows);
}

int main(int argc, char **argv)
{
    const char *path = NULL, *csv_path = NULL;
    int hosts = 4000, hours = 24, batch = 100000, rss_series = 0, progress = 0, queries_only = 0;
    const char *open_options = "{\"sync\":\"never\"}";
    for (int i = 1; i < argc; i++) {
        if (strncmp(argv[i], "--db=", 5) == 0) path = argv[i] + 5;
        else if (strncmp(argv[i], "--hosts=", 8) == 0) hosts = atoi(argv[i] + 8);
        else if (strncmp(argv[i], "--hours=", 8) == 0) hours = atoi(argv[i] + 8);
        else if (strncmp(argv[i], "--batch=", 8) == 0) batch = atoi(argv[i] + 8);
        else if (strcmp(argv[i], "--progress") == 0) progress = 1;
        else if (strcmp(argv[i], "--queries-only") == 0) queries_only = 1;
        else if (strncmp(argv[i], "--options=", 10) == 0) open_options = argv[i] + 10;
        else if (strncmp(argv[i], "--csv=", 6) == 0) csv_path = argv[i] + 6;
        else if (strncmp(argv[i], "--rss-series=", 13) == 0) rss_series = atoi(argv[i] + 13);
        else { fprintf(stderr, "usage: ts_bench --db=DIR [--hosts=N] [--hours=N] [--batch=N] [--csv=FILE] [--rss-series=N] [--progress] [--options=JSON] [--queries-only]\n"); return 2; }
    }
    if (path == NULL || hosts < 100 || hours < 1 || batch < FIELDS) { fprintf(stderr, "ts_bench: bad arguments\n"); return 2; }
    int64_t steps = (int64_t)hours * 360;
    size_t series = (size_t)hosts * FIELDS;
    uint64_t *ids = malloc(series * sizeof *ids);
    double *walk = malloc(series * sizeof *walk);
    host_tags *tags = malloc((size_t)hosts * sizeof *tags);
    uint64_t *bid = malloc((size_t)batch * sizeof *bid);
    int64_t *bt = malloc((size_t)batch * sizeof *bt);
    double *bv = malloc((size_t)batch * sizeof *bv);
    FILE *csv = csv_path ? fopen(csv_path, "w") : NULL;
    cairn_db *db;
    if (!ids || !walk || !tags || !bid || !bt || !bv || (csv_path && !csv)) { fprintf(stderr, "ts_bench: out of memory\n"); return 1; }

    CALL("cairn_open", cairn_open(path, open_options, strlen(open_options), &db, &err));
    CALL("cairn_ts_set_maintenance_interval", cairn_ts_set_maintenance_interval(db, 0, &err));
    double t0 = now_seconds();
    for (int h = 0; h < hosts; h++) {
        make_tags(h, &tags[h]);
        for (int f = 0; f < FIELDS; f++) {
            char json[1024];
            int n = snprintf(json, sizeof json,
                             "{\"metric\":\"cpu.%s\",\"tags\":{\"hostname\":\"host_%d\",\"region\":\"%s\",\"datacenter\":\"%s\","
                             "\"rack\":\"%s\",\"os\":\"%s\",\"arch\":\"%s\",\"team\":\"%s\",\"service\":\"%s\","
                             "\"service_version\":\"%s\",\"service_environment\":\"%s\"}}",
                             field_names[f], h, tags[h].region, tags[h].datacenter, tags[h].rack, tags[h].os, tags[h].arch,
                             tags[h].team, tags[h].service, tags[h].version, tags[h].env);
            CALL("cairn_ts_series_id", cairn_ts_series_id(db, json, (size_t)n, &ids[(size_t)h * FIELDS + f], &err));
            walk[(size_t)h * FIELDS + f] = (double)(next_random() % 10000) / 100;
        }
    }
    printf("row create_series %.0f series/s (%zu series)\n", (double)series / (now_seconds() - t0), series);
    if (csv)
        fprintf(csv, "time,hostname,region,datacenter,rack,os,arch,team,service,service_version,service_environment,"
                     "usage_user,usage_system,usage_idle,usage_nice,usage_iowait,usage_irq,usage_softirq,usage_steal,"
                     "usage_guest,usage_guest_nice\n");

    /* Ingest in time order, as TSBS's loader sends it: every host at t, then t + 10 s. */
    double ingest = 0;
    uint64_t points = 0;
    int fill = 0;
    double hour_ingest = 0, hour_wall = now_seconds();
    uint64_t hour_points = 0;
    /* With --queries-only the points are those an earlier run wrote. */
    int64_t ingest_steps = queries_only ? 0 : steps;
    if (queries_only)
        points = (uint64_t)steps * series;
    for (int64_t s = 0; s < ingest_steps; s++) {
        int64_t t = START + s * STEP;
        if (progress && s > 0 && s % (3600000 / STEP) == 0) {
            /* Per simulated hour: the rate in write calls and over the wall clock. */
            fprintf(stderr, "hour %lld: %.0f points/s in write calls, %.0f points/s wall; so far %.1f s stalled, "
                    "flushes wrote %.0f MB, compactions wrote %.0f MB\n",
                    (long long)(s * STEP / 3600000), (double)(points - hour_points) / (ingest - hour_ingest),
                    (double)(points - hour_points) / (now_seconds() - hour_wall), stat_number(db, "\"stall_micros\":") / 1e6,
                    stat_number(db, "\"flush_bytes\":") / 1e6, stat_number(db, "\"compaction_bytes_written\":") / 1e6);
            hour_ingest = ingest;
            hour_points = points;
            hour_wall = now_seconds();
        }
        for (int h = 0; h < hosts; h++) {
            for (int f = 0; f < FIELDS; f++) {
                size_t k = (size_t)h * FIELDS + f;
                /* A random walk in [0, 100] with two decimals, as TSBS's cpu fields. */
                double v = walk[k] + (double)((int)(next_random() % 201) - 100) / 100;
                v = v < 0 ? 0 : v > 100 ? 100 : v;
                walk[k] = v;
                bid[fill] = ids[k];
                bt[fill] = t;
                bv[fill] = (double)(int64_t)(v * 100) / 100;
                fill++;
                if (fill == batch) {
                    double b0 = now_seconds();
                    CALL("cairn_ts_write_float", cairn_ts_write_float(db, bid, bt, bv, (size_t)fill, &err));
                    ingest += now_seconds() - b0;
                    points += (uint64_t)fill;
                    fill = 0;
                }
            }
            if (csv) {
                fprintf(csv, "%lld,host_%d,%s,%s,%s,%s,%s,%s,%s,%s,%s", (long long)t, h, tags[h].region, tags[h].datacenter,
                        tags[h].rack, tags[h].os, tags[h].arch, tags[h].team, tags[h].service, tags[h].version, tags[h].env);
                for (int f = 0; f < FIELDS; f++)
                    fprintf(csv, ",%.2f", walk[(size_t)h * FIELDS + f]);
                fputc('\n', csv);
            }
        }
    }
    if (fill > 0) {
        double b0 = now_seconds();
        CALL("cairn_ts_write_float", cairn_ts_write_float(db, bid, bt, bv, (size_t)fill, &err));
        ingest += now_seconds() - b0;
        points += (uint64_t)fill;
    }
    if (csv)
        fclose(csv);
    if (!queries_only) {
        printf("row ingest %.0f points/s (%llu points, batches of %d, options %s)\n", (double)points / ingest,
               (unsigned long long)points, batch, open_options);
        double c0 = now_seconds();
        size_t packed = 0;
        CALL("cairn_ts_compact", cairn_ts_compact(db, &packed, &err));
        printf("row compact %.1f s (%zu buckets packed)\n", now_seconds() - c0, packed);
    }
    CALL("cairn_close", cairn_close(db, &err));
    dir_bytes = 0;
    nftw(path, add_size, 16, FTW_PHYS);
    printf("row bytes_per_point %.3f bytes (%llu bytes on disk)\n", (double)dir_bytes / (double)points,
           (unsigned long long)dir_bytes);
    CALL("cairn_open", cairn_open(path, open_options, strlen(open_options), &db, &err));
    CALL("cairn_ts_set_maintenance_interval", cairn_ts_set_maintenance_interval(db, 0, &err));

    char q[4096];
    int64_t end = START + steps * STEP;
    int64_t mid = START + (steps / 2) * STEP;
    snprintf(q, sizeof q, "{\"metric\":\"cpu.usage_user\",\"tags\":{\"hostname\":\"host_7\",\"region\":\"%s\",\"datacenter\":\"%s\","
             "\"rack\":\"%s\",\"os\":\"%s\",\"arch\":\"%s\",\"team\":\"%s\",\"service\":\"%s\",\"service_version\":\"%s\","
             "\"service_environment\":\"%s\"},\"start\":%lld,\"end\":%lld}",
             tags[7].region, tags[7].datacenter, tags[7].rack, tags[7].os, tags[7].arch, tags[7].team, tags[7].service,
             tags[7].version, tags[7].env, (long long)mid, (long long)(mid + 3600000));
    timed(db, "range_1h_one_series", 0, q, 200);
    snprintf(q, sizeof q, "{\"metric\":\"cpu.usage_user\",\"where\":{\"hostname\":\"host_7\"},\"start\":%lld,\"end\":%lld,"
             "\"every\":\"5m\",\"aggregates\":[\"avg\"]}", (long long)START, (long long)end);
    timed(db, "avg_5m_one_host", 1, q, 20);
    int n = snprintf(q, sizeof q, "{\"metric\":\"cpu.usage_user\",\"where\":{\"hostname\":{\"$in\":[");
    for (int h = 0; h < 100; h++)
        n += snprintf(q + n, sizeof q - (size_t)n, "%s\"host_%d\"", h ? "," : "", h);
    snprintf(q + n, sizeof q - (size_t)n, "]}},\"start\":%lld,\"end\":%lld,\"every\":\"5m\",\"aggregates\":[\"avg\"],"
             "\"group_by\":[\"hostname\"]}", (long long)START, (long long)end);
    timed(db, "avg_5m_100_hosts", 1, q, 3);
    timed(db, "last_point_every_series", 2, "{}", 1);
    timed(db, "tag_query_40k_series", 3, "{\"where\":{\"region\":\"eu-west-1\",\"service\":{\"$in\":[\"1\",\"2\",\"3\"]},"
          "\"os\":{\"$ne\":\"Ubuntu15.10\"}}}", 20);
    if (rss_series > 0) {
        /* Series created and written once each, in batches. */
        long long before = rss_bytes(), anonymous_before = anonymous_bytes();
        int fill2 = 0;
        for (int i = 0; i < rss_series; i++) {
            char json[256];
            int n2 = snprintf(json, sizeof json, "{\"metric\":\"rss.test\",\"tags\":{\"device\":\"device_%d\",\"site\":\"s%d\"}}",
                              i, i % 100);
            CALL("cairn_ts_series_id", cairn_ts_series_id(db, json, (size_t)n2, &bid[fill2], &err));
            bt[fill2] = START + i % 1000;
            bv[fill2] = (double)(i % 100);
            if (++fill2 == batch || i == rss_series - 1) {
                CALL("cairn_ts_write_float", cairn_ts_write_float(db, bid, bt, bv, (size_t)fill2, &err));
                fill2 = 0;
            }
        }
        long long written = rss_bytes();
        /* The memtables are write buffers bounded by the options, not state
           per series: flushed, what stays is what the series cost. */
        CALL("cairn_flush", cairn_flush(db, &err));
        if (getenv("TS_BENCH_TRIM")) malloc_trim(0);
        long long after = rss_bytes(), anonymous_after = anonymous_bytes();
        printf("row rss_per_series %.1f bytes (RSS %lld -> %lld MiB after %d more series, flushed; %lld MiB before the flush, "
               "%.1f bytes a series)\n", (double)(after - before) / rss_series, before >> 20, after >> 20, rss_series,
               written >> 20, (double)(written - before) / rss_series);
        printf("row anonymous_per_series %.1f bytes (RssAnon %lld -> %lld MiB; the rest of the RSS is pages of "
               "memory-mapped tables)\n", (double)(anonymous_after - anonymous_before) / rss_series, anonymous_before >> 20,
               anonymous_after >> 20);
    }
    CALL("cairn_close", cairn_close(db, &err));
    return 0;
}
