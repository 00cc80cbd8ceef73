/*
 * Write latency while checkpoints run (issue 17: "writers stall at most a
 * few milliseconds during a checkpoint").
 *
 * One writer thread puts 100-byte values under new keys for --seconds in
 * each of two phases and records every put's latency: first alone, then
 * while another thread takes checkpoints back to back (each into a new
 * directory, removed after). Prints p50, p99, p99.9 and the maximum of
 * both phases, and the checkpoints' count and mean duration. Asserts no
 * figure: it fails only when a call fails.
 *
 *   make bench-checkpoint                       sync "always" (the default)
 *   make bench-checkpoint BENCH_ARGS='--sync=never --seconds=5'
 */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cairn.h"

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static void die(const char *what, int rc, char *err)
{
    fprintf(stderr, "checkpoint-bench: %s: %s: %s\n", what, cairn_status_name(rc), err ? err : "");
    exit(1);
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb; (void)flag; (void)ftw;
    return remove(path);
}

static cairn_db *db;
static atomic_int checkpointing, stop_checkpoints;
static char base[4096];
static long checkpoints;
static double checkpoint_us;

static void *checkpoint_loop(void *arg)
{
    (void)arg;
    while (!atomic_load(&stop_checkpoints)) {
        if (!atomic_load(&checkpointing)) {
            struct timespec ms = {0, 1000000};
            nanosleep(&ms, NULL);
            continue;
        }
        char dir[4200];
        char *err = NULL;
        snprintf(dir, sizeof dir, "%s/cp-%ld", base, checkpoints);
        double start = now_us();
        int rc = cairn_checkpoint(db, dir, NULL, NULL, &err);
        if (rc != CAIRN_OK) die("cairn_checkpoint", rc, err);
        checkpoint_us += now_us() - start;
        checkpoints++;
        nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    }
    return NULL;
}

static int compare(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static long key_counter;

static void phase(const char *name, double seconds)
{
    size_t cap = 1 << 20, n = 0;
    double *lat = malloc(cap * sizeof *lat);
    char value[100];
    memset(value, 'v', sizeof value);
    double end = now_us() + seconds * 1e6;
    while (now_us() < end) {
        char key[32];
        int klen = snprintf(key, sizeof key, "key%012ld", key_counter++);
        char *err = NULL;
        double start = now_us();
        int rc = cairn_put(db, (const uint8_t *)key, (size_t)klen, (const uint8_t *)value, sizeof value, 0, &err);
        double took = now_us() - start;
        if (rc != CAIRN_OK) die("cairn_put", rc, err);
        if (n == cap) { cap *= 2; lat = realloc(lat, cap * sizeof *lat); }
        lat[n++] = took;
    }
    qsort(lat, n, sizeof *lat, compare);
    printf("%-22s puts %8zu  p50 %8.1f us  p99 %8.1f us  p99.9 %8.1f us  max %9.1f us\n", name, n,
           lat[n / 2], lat[(size_t)(n * 0.99)], lat[(size_t)(n * 0.999)], lat[n - 1]);
    free(lat);
}

int main(int argc, char **argv)
{
    const char *sync = "always", *dir = "build/bench-checkpoint";
    double seconds = 3;
    for (int i = 1; i < argc; i++) {
        if (strncmp(argv[i], "--sync=", 7) == 0) sync = argv[i] + 7;
        else if (strncmp(argv[i], "--seconds=", 10) == 0) seconds = atof(argv[i] + 10);
        else if (strncmp(argv[i], "--db=", 5) == 0) dir = argv[i] + 5;
        else { fprintf(stderr, "usage: %s [--sync=always|interval|never] [--seconds=S] [--db=DIR]\n", argv[0]); return 2; }
    }
    nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    snprintf(base, sizeof base, "%s", dir);
    char options[128], path[4200], *err = NULL;
    snprintf(options, sizeof options, "{\"sync\": \"%s\"}", sync);
    snprintf(path, sizeof path, "%s/db", dir);
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) { perror(dir); return 1; }
    int rc = cairn_open(path, options, strlen(options), &db, &err);
    if (rc != CAIRN_OK) die("cairn_open", rc, err);
    printf("checkpoint-bench: sync %s, %.0f s per phase, 100-byte values, one writer\n", sync, seconds);
    phase("warm-up", seconds / 3);
    phase("writes alone", seconds);
    pthread_t thread;
    pthread_create(&thread, NULL, checkpoint_loop, NULL);
    atomic_store(&checkpointing, 1);
    phase("writes + checkpoints", seconds);
    atomic_store(&stop_checkpoints, 1);
    pthread_join(thread, NULL);
    printf("checkpoints: %ld taken, mean %.1f ms each\n", checkpoints, checkpoints ? checkpoint_us / checkpoints / 1000 : 0);
    rc = cairn_close(db, &err);
    if (rc != CAIRN_OK) die("cairn_close", rc, err);
    nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}
