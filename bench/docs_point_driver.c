/*
** docs_point_driver.c -- a small driver for profiling the document
** benchmark's point-query rows (find_name, range_sort) outside the harness:
** it builds a database of the benchmark's documents once, then runs one
** kind of query against it and prints the process's CPU time per query,
** so that two builds of libcairn can be compared on the same database with
** CPU time or under `valgrind --tool=callgrind` (bench/RESULTS.md, "Point
** queries after the JSON writer and pooled prefix scans").
**
**   cc -O2 -g -Ibench -Iinclude -o build/docs-point-driver bench/docs_point_driver.c \
**      bench/docs_workload.c bench/workload.c bench/cairn_options.c bench/util.c \
**      -Lbuild/lib -lcairn -lm -pthread
**   LD_LIBRARY_PATH=build/lib build/docs-point-driver build DIR N   (indexes on name, city, age; N documents)
**   LD_LIBRARY_PATH=build/lib build/docs-point-driver find DIR N Q   (Q finds by name, as find_name)
**   LD_LIBRARY_PATH=build/lib build/docs-point-driver range DIR N Q  (Q ranges sorted, limit 20, as range_sort)
**   LD_LIBRARY_PATH=build/lib build/docs-point-driver insert1 DIR N Q  (Q cairn_insert_one calls into a fresh
**      database with the three indexes, sync "never" as for every mode here: the CPU cost alone)
**
** Same documents, seeds, calls and open options as docs_engine_cairn.c.
*/
#include "docs_workload.h"
#include "cairn_options.h"
#include "util.h"
#include <cairn.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static double cpu(void) { struct rusage u; getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6; }
static double wall(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }
static void die(const char *w, int rc, char *msg) { fprintf(stderr, "%s: %d %s\n", w, rc, msg ? msg : ""); exit(1); }

static int64_t find_all(cairn_db *db, const char *f, size_t fl, const char *o, size_t ol, int64_t *agesum) {
  cairn_cursor *c = NULL; char *msg = NULL;
  int rc = cairn_find(db, "docs", 4, f, fl, o, ol, &c, &msg);
  if (rc) die("find", rc, msg);
  int64_t n = 0;
  for (;;) {
    const char *json; const uint32_t *lens; size_t count;
    rc = cairn_cursor_next_batch(c, 0, 0, &json, NULL, &lens, &count, &msg);
    if (rc == CAIRN_DONE) break;
    if (rc) die("next", rc, msg);
    const char *d = json + 1;
    for (size_t i = 0; i < count; i++) { const char *a = docs_json_member(d, lens[i], "age"); if (a) *agesum += atoi(a); d += lens[i] + 1; n++; }
  }
  cairn_cursor_close(c);
  return n;
}

int main(int argc, char **argv) {
  if (argc < 4) { fprintf(stderr, "usage\n"); return 2; }
  const char *mode = argv[1], *dir = argv[2]; uint64_t n = strtoull(argv[3], 0, 10);
  uint64_t q = argc > 4 ? strtoull(argv[4], 0, 10) : 10000;
  char err[BENCH_ERRLEN]; cairn_db *db; char *msg = NULL;
  bench_perm names; docs_names_init(&names, n);
  if (bench_cairn_open(dir, 0, &db, err) != 0) { fprintf(stderr, "%s\n", err); return 1; }
  char filter[256], opts[128]; int64_t agesum = 0, total = 0;
  double c0 = cpu(), w0 = wall();
  if (strcmp(mode, "build") == 0) {
    const char *fields[] = {"name", "city", "age"};
    for (int i = 0; i < 3; i++) { int l = snprintf(filter, sizeof filter, "{\"keys\": {\"%s\": 1}}", fields[i]);
      int rc = cairn_index_create(db, "docs", 4, filter, l, NULL, NULL, &msg); if (rc) die("index", rc, msg); }
    docs_batch b; docs_batch_init(&b);
    for (uint64_t first = 0; first < n; first += DOCS_BATCH) {
      size_t k = n - first < DOCS_BATCH ? n - first : DOCS_BATCH;
      docs_batch_fill(&b, first, k, &names);
      int rc = cairn_insert_many(db, "docs", 4, b.text, b.text_len, NULL, NULL, &msg); if (rc) die("insert", rc, msg);
    }
  } else if (strcmp(mode, "insert1") == 0) {
    /* Q single-document inserts (cairn_insert_one) into a fresh database
       with the three indexes: the fixed cost of one document write. */
    const char *fields[] = {"name", "city", "age"};
    for (int i = 0; i < 3; i++) { int l = snprintf(filter, sizeof filter, "{\"keys\": {\"%s\": 1}}", fields[i]);
      int rc = cairn_index_create(db, "docs", 4, filter, l, NULL, NULL, &msg); if (rc) die("index", rc, msg); }
    c0 = cpu(); w0 = wall();
    char json[1024];
    for (uint64_t i = 0; i < q; i++) { docs_doc d; docs_doc_make(i % n, &names, 1, &d);
      size_t l = docs_doc_json(&d, json);
      int rc = cairn_insert_one(db, "docs", 4, json, l, NULL, NULL, &msg); if (rc) die("insert_one", rc, msg);
      total++; }
  } else if (strcmp(mode, "find") == 0) {
    bench_rng rng; bench_rng_seed(&rng, SEED_LOOKUPS);
    for (uint64_t i = 0; i < q; i++) { docs_doc d; docs_doc_make(bench_rng_below(&rng, n), &names, 0, &d);
      int l = snprintf(filter, sizeof filter, "{\"name\": \"user%" PRIu64 "\"}", d.name);
      int64_t got = find_all(db, filter, l, NULL, 0, &agesum); if (got != 1) { fprintf(stderr, "find got %lld\n", (long long)got); return 1; }
      total += got; }
  } else if (strcmp(mode, "range") == 0) {
    bench_rng rng; bench_rng_seed(&rng, SEED_RANGES);
    for (uint64_t i = 0; i < q; i++) { int lo = DOCS_AGE_MIN + (int)bench_rng_below(&rng, DOCS_AGE_MAX - DOCS_RANGE_WIDTH + 2 - DOCS_AGE_MIN);
      int l = snprintf(filter, sizeof filter, "{\"age\": {\"$gte\": %d, \"$lt\": %d}}", lo, lo + DOCS_RANGE_WIDTH);
      int ol = snprintf(opts, sizeof opts, "{\"sort\": {\"age\": 1}, \"limit\": %d}", DOCS_RANGE_LIMIT);
      total += find_all(db, filter, l, opts, ol, &agesum); }
  }
  double c1 = cpu(), w1 = wall();
  printf("%s n=%" PRIu64 " q=%" PRIu64 ": docs %lld agesum %lld; cpu %.3f s (%.2f us/q), wall %.3f s (%.2f us/q)\n", mode, n, q,
         (long long)total, (long long)agesum, c1 - c0, (c1 - c0) * 1e6 / q, w1 - w0, (w1 - w0) * 1e6 / q);
  cairn_close(db, &msg);
  return 0;
}
