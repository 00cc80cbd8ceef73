/*
** feed_bench.c -- the change feed benchmark (issue 13; not a timed test).
**
**   cairn-feed-bench [--num=N] [--db=DIR] [--redis-server=PATH] [--skip-redis]
**
** Measures, with fillrandom-style writes (16-byte keys, 100-byte values,
** one put per commit, sync "never" so that the feed, not the disk, is
** measured):
**   1. writer throughput with the feed off, and on with 0, 1, 100 and 1000
**      watches: idle pull watches (opened, never read) and filtered push
**      subscriptions (each reads every event on its own thread; the filter
**      matches none);
**   2. events per second delivered to one pull watch while the writer runs,
**      against the write rate;
**   3. write-call-to-delivery latency, p50 and p99, for a callback
**      subscriber (from just before cairn_put to the callback; writes paced
**      so that each is delivered alone);
**   4. for comparison: SQLite's update_hook (in the writer's thread, no row
**      data: the cost of being told) and Redis Streams (XADD by a writer,
**      XREAD BLOCK by a reader, on loopback; redis-server started here).
** Prints one table; asserts no speeds.
*/
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE

#include <cairn.h>
#include <hiredis/hiredis.h>
#include <sqlite3.h>

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static void check(int rc, char *err, const char *what)
{
    if (rc != CAIRN_OK) {
        fprintf(stderr, "feed-bench: %s: %s: %s\n", what, cairn_status_name(rc), err ? err : "");
        exit(1);
    }
}

static uint64_t rng_state = 88172645463325252ull;
static uint64_t next_random(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void random_key(char *key, size_t i)
{
    snprintf(key, 17, "%016" PRIx64, next_random() ^ (uint64_t)i);
}

static char db_root[512] = "/tmp/cairn-feed-bench";
static int run_id;

static cairn_db *open_db(int feed)
{
    char path[600], cmd[700];
    cairn_db *db = NULL;
    char *err = NULL;
    const char *options = feed ? "{\"sync\": \"never\", \"change_feed\": {\"retention_seconds\": 3600, \"retention_bytes\": 0}}"
                               : "{\"sync\": \"never\"}";
    snprintf(path, sizeof path, "%s/run-%d", db_root, run_id++);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
    if (system(cmd) != 0)
        exit(1);
    check(cairn_open(path, options, strlen(options), &db, &err), err, "open");
    return db;
}

static double fill(cairn_db *db, size_t n)
{
    static const char value[101] = "vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv";
    char key[17], *err = NULL;
    int64_t start = now_ns();
    size_t i;
    for (i = 0; i < n; i++) {
        random_key(key, i);
        check(cairn_put(db, (const uint8_t *)key, 16, (const uint8_t *)value, 100, 0, &err), err, "put");
    }
    return (double)n / ((double)(now_ns() - start) / 1e9);
}

/* -- 1. writer throughput with watches -------------------------------------- */

static void ignore_event(void *user_data, int status, const char *event, size_t len)
{
    (void)user_data;
    (void)status;
    (void)event;
    (void)len;
}

/* The best of three runs: the machine is shared, and a run can only be
   slowed by others, never sped up. */
static double with_watches_once(size_t n, int watches, int subscribed);
static double with_watches(size_t n, int watches, int subscribed)
{
    double best = 0, rate;
    int i;
    for (i = 0; i < 3; i++)
        if ((rate = with_watches_once(n, watches, subscribed)) > best)
            best = rate;
    return best;
}

static double with_watches_once(size_t n, int watches, int subscribed)
{
    cairn_db *db = open_db(1);
    cairn_watch **list = calloc((size_t)watches + 1, sizeof *list);
    static const char filter[] = "{\"filter\": {\"operationType\": \"delete\"}}";
    char *err = NULL;
    double rate;
    int i;
    for (i = 0; i < watches; i++) {
        check(cairn_watch_open(db, CAIRN_WATCH_ALL, NULL, 0, filter, sizeof filter - 1, &list[i], &err), err, "watch");
        if (subscribed)
            check(cairn_watch_subscribe(list[i], ignore_event, NULL, NULL, &err), err, "subscribe");
    }
    rate = fill(db, n);
    for (i = 0; i < watches; i++)
        cairn_watch_close(list[i]);
    free(list);
    cairn_close(db, NULL);
    return rate;
}

/* -- 2. delivery rate to one pull watch -------------------------------------- */

struct reader {
    cairn_watch *watch;
    size_t want, got;
    int64_t done_ns;
};

static void *read_all(void *arg)
{
    struct reader *r = arg;
    while (r->got < r->want) {
        char *event = NULL, *err = NULL;
        int rc = cairn_watch_next(r->watch, 1000, &event, NULL, &err);
        if (rc == CAIRN_OK) {
            r->got++;
            cairn_free(event);
        } else if (rc != CAIRN_DONE) {
            check(rc, err, "next");
        }
    }
    r->done_ns = now_ns();
    return NULL;
}

static void delivery_rate(size_t n, double *write_rate, double *event_rate)
{
    cairn_db *db = open_db(1);
    struct reader r = {NULL, n, 0, 0};
    pthread_t thread;
    char *err = NULL;
    int64_t start;
    check(cairn_watch_open(db, CAIRN_WATCH_ALL, NULL, 0, NULL, 0, &r.watch, &err), err, "watch");
    pthread_create(&thread, NULL, read_all, &r);
    start = now_ns();
    *write_rate = fill(db, n);
    pthread_join(thread, NULL);
    *event_rate = (double)n / ((double)(r.done_ns - start) / 1e9);
    cairn_watch_close(r.watch);
    cairn_close(db, NULL);
}

/* -- 3. latency to a callback ------------------------------------------------ */

#define LATENCY_SAMPLES 2000
static int64_t sent_ns[LATENCY_SAMPLES], delivered_ns[LATENCY_SAMPLES];

static int index_of(const char *event)
{
    /* The key "lat:%06d" as base64: decode the 16 characters of 12 bytes. */
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const char *at = strstr(event, "\"key\":{\"$binary\":{\"base64\":\"");
    char bytes[13];
    unsigned bits = 0;
    int nbits = 0, n = 0, i;
    if (at == NULL)
        return -1;
    at += strlen("\"key\":{\"$binary\":{\"base64\":\"");
    for (i = 0; i < 16 && at[i] != '=' && at[i] != '"'; i++) {
        const char *p = strchr(alphabet, at[i]);
        if (p == NULL || n >= 12)
            return -1;
        bits = (bits << 6) | (unsigned)(p - alphabet);
        nbits += 6;
        if (nbits >= 8) {
            nbits -= 8;
            bytes[n++] = (char)(bits >> nbits);
        }
    }
    bytes[n] = '\0';
    return atoi(bytes + 4);
}

static void on_latency_event(void *user_data, int status, const char *event, size_t len)
{
    int64_t t = now_ns();
    int i;
    (void)user_data;
    (void)len;
    if (status != CAIRN_OK)
        return;
    i = index_of(event);
    if (i >= 0 && i < LATENCY_SAMPLES)
        delivered_ns[i] = t;
}

static int compare_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void percentiles(int64_t *samples, int n, double *p50, double *p99)
{
    qsort(samples, (size_t)n, sizeof *samples, compare_i64);
    *p50 = (double)samples[n / 2] / 1000.0;
    *p99 = (double)samples[(n * 99) / 100] / 1000.0;
}

static void callback_latency(double *p50, double *p99)
{
    cairn_db *db = open_db(1);
    cairn_watch *watch = NULL;
    char key[16], *err = NULL;
    int64_t latencies[LATENCY_SAMPLES];
    int i, n = 0;
    check(cairn_watch_open(db, CAIRN_WATCH_ALL, NULL, 0, NULL, 0, &watch, &err), err, "watch");
    check(cairn_watch_subscribe(watch, on_latency_event, NULL, NULL, &err), err, "subscribe");
    for (i = 0; i < LATENCY_SAMPLES; i++) {
        snprintf(key, sizeof key, "lat:%06d", i);
        sent_ns[i] = now_ns();
        check(cairn_put(db, (const uint8_t *)key, 10, (const uint8_t *)"v", 1, 0, &err), err, "put");
        usleep(200);
    }
    usleep(100000);
    cairn_watch_close(watch);
    for (i = 0; i < LATENCY_SAMPLES; i++)
        if (delivered_ns[i] > 0)
            latencies[n++] = delivered_ns[i] - sent_ns[i];
    if (n < LATENCY_SAMPLES) {
        fprintf(stderr, "feed-bench: %d of %d latency events were delivered\n", n, LATENCY_SAMPLES);
        exit(1);
    }
    percentiles(latencies, n, p50, p99);
    cairn_close(db, NULL);
}

/* -- 4. peers ---------------------------------------------------------------- */

static size_t hook_calls;
static void on_update(void *arg, int op, const char *db, const char *table, sqlite3_int64 rowid)
{
    (void)arg;
    (void)op;
    (void)db;
    (void)table;
    (void)rowid;
    hook_calls++;
}

static double sqlite_rate(size_t n, int hook)
{
    char path[600];
    sqlite3 *db;
    sqlite3_stmt *stmt;
    char key[17];
    static const char value[101] = "vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv";
    int64_t start;
    size_t i;
    snprintf(path, sizeof path, "%s/sqlite-%d.db", db_root, run_id++);
    unlink(path);
    if (sqlite3_open(path, &db) != SQLITE_OK)
        exit(1);
    sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF; CREATE TABLE kv(k BLOB PRIMARY KEY, v BLOB)", NULL, NULL, NULL);
    if (hook)
        sqlite3_update_hook(db, on_update, NULL);
    sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO kv VALUES (?, ?)", -1, &stmt, NULL);
    start = now_ns();
    for (i = 0; i < n; i++) {
        random_key(key, i);
        sqlite3_bind_blob(stmt, 1, key, 16, SQLITE_STATIC);
        sqlite3_bind_blob(stmt, 2, value, 100, SQLITE_STATIC);
        if (sqlite3_step(stmt) != SQLITE_DONE)
            exit(1);
        sqlite3_reset(stmt);
    }
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return (double)n / ((double)(now_ns() - start) / 1e9);
}

struct redis_reader {
    size_t want, got;
    int64_t done_ns;
    int port;
};

static void *redis_read(void *arg)
{
    struct redis_reader *r = arg;
    redisContext *c = redisConnect("127.0.0.1", r->port);
    char last[64] = "0-0";
    while (r->got < r->want) {
        redisReply *reply = redisCommand(c, "XREAD COUNT 1000 BLOCK 1000 STREAMS feed %s", last);
        if (reply != NULL && reply->type == REDIS_REPLY_ARRAY && reply->elements == 1) {
            redisReply *entries = reply->element[0]->element[1];
            size_t i;
            for (i = 0; i < entries->elements; i++) {
                snprintf(last, sizeof last, "%s", entries->element[i]->element[0]->str);
                r->got++;
            }
        }
        freeReplyObject(reply);
    }
    r->done_ns = now_ns();
    redisFree(c);
    return NULL;
}

static int redis_rates(const char *server, size_t n, double *write_rate, double *event_rate)
{
    int port = 16379 + (int)(getpid() % 1000);
    pid_t child = fork();
    redisContext *c = NULL;
    struct redis_reader r = {n, 0, 0, port};
    pthread_t thread;
    char key[17], portText[16];
    static const char value[101] = "vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv";
    int64_t start;
    size_t i;
    int tries;
    snprintf(portText, sizeof portText, "%d", port);
    if (child == 0) {
        execl(server, server, "--port", portText, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
              "--loglevel", "warning", (char *)NULL);
        _exit(127);
    }
    for (tries = 0; tries < 100; tries++) {
        c = redisConnect("127.0.0.1", port);
        if (c != NULL && !c->err)
            break;
        redisFree(c);
        c = NULL;
        usleep(50000);
    }
    if (c == NULL) {
        kill(child, SIGTERM);
        waitpid(child, NULL, 0);
        return -1;
    }
    pthread_create(&thread, NULL, redis_read, &r);
    start = now_ns();
    for (i = 0; i < n; i++) {
        redisReply *reply;
        random_key(key, i);
        reply = redisCommand(c, "XADD feed * k %b v %b", key, (size_t)16, value, (size_t)100);
        freeReplyObject(reply);
    }
    *write_rate = (double)n / ((double)(now_ns() - start) / 1e9);
    pthread_join(thread, NULL);
    *event_rate = (double)n / ((double)(r.done_ns - start) / 1e9);
    redisFree(c);
    kill(child, SIGTERM);
    waitpid(child, NULL, 0);
    return 0;
}

int main(int argc, char **argv)
{
    size_t n = 100000;
    const char *redis_server = "/usr/bin/redis-server";
    int skip_redis = 0, i;
    double off, on0, write_rate, event_rate, p50, p99;
    const int counts[] = {1, 100, 1000};
    char cmd[600];

    for (i = 1; i < argc; i++) {
        if (strncmp(argv[i], "--num=", 6) == 0)
            n = (size_t)strtoull(argv[i] + 6, NULL, 10);
        else if (strncmp(argv[i], "--db=", 5) == 0)
            snprintf(db_root, sizeof db_root, "%s", argv[i] + 5);
        else if (strncmp(argv[i], "--redis-server=", 15) == 0)
            redis_server = argv[i] + 15;
        else if (strcmp(argv[i], "--skip-redis") == 0)
            skip_redis = 1;
        else {
            fprintf(stderr, "usage: cairn-feed-bench [--num=N] [--db=DIR] [--redis-server=PATH] [--skip-redis]\n");
            return 64;
        }
    }
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", db_root);
    if (system(cmd) != 0)
        return 1;
    printf("change feed benchmark: %zu puts of 16-byte keys and 100-byte values, one per commit, sync never\n\n", n);
    printf("%-58s %14s\n", "writer throughput (best of 3 runs)", "puts/s");
    off = 0;
    for (i = 0; i < 3; i++) {
        cairn_db *plain = open_db(0);
        double rate = fill(plain, n);
        cairn_close(plain, NULL);
        if (rate > off)
            off = rate;
    }
    printf("%-58s %14.0f\n", "feed off", off);
    on0 = with_watches(n, 0, 0);
    printf("%-58s %14.0f  (%+.1f%% vs off)\n", "feed on, no watch", on0, 100.0 * (on0 - off) / off);
    for (i = 0; i < 3; i++) {
        double idle = with_watches(n, counts[i], 0);
        printf("feed on, %4d idle pull watches %27s %14.0f  (%+.1f%% vs no watch)\n", counts[i], "", idle, 100.0 * (idle - on0) / on0);
    }
    for (i = 0; i < 3; i++) {
        double filtered = with_watches(n, counts[i], 1);
        printf("feed on, %4d filtered subscriptions %23s %14.0f  (%+.1f%% vs no watch)\n", counts[i], "", filtered,
               100.0 * (filtered - on0) / on0);
    }
    delivery_rate(n, &write_rate, &event_rate);
    printf("\n%-58s %14.0f puts/s\n", "one pull watch reading while the writer runs: writes", write_rate);
    printf("%-58s %14.0f events/s\n", "  events delivered (until the last one)", event_rate);
    callback_latency(&p50, &p99);
    printf("\n%-58s p50 %8.1f us  p99 %8.1f us\n", "write call to callback delivery (2000 paced puts)", p50, p99);

    printf("\npeers\n");
    printf("%-58s %14.0f rows/s\n", "SQLite INSERT, no hook (autocommit, WAL, synchronous=OFF)", sqlite_rate(n, 0));
    {
        double hooked = sqlite_rate(n, 1);
        printf("%-58s %14.0f rows/s  (%zu hook calls)\n", "SQLite INSERT with update_hook (no row data)", hooked, hook_calls);
    }
    if (!skip_redis && access(redis_server, X_OK) == 0 && redis_rates(redis_server, n, &write_rate, &event_rate) == 0) {
        printf("%-58s %14.0f entries/s\n", "Redis Streams XADD (loopback, one client)", write_rate);
        printf("%-58s %14.0f entries/s\n", "  delivered to an XREAD BLOCK reader", event_rate);
    } else {
        printf("Redis Streams: skipped (no %s)\n", redis_server);
    }
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", db_root);
    return system(cmd) == 0 ? 0 : 1;
}
