/*
** workload.h -- the keys and values every engine receives: the same ones,
** in the same order, because every generator here starts from a fixed seed.
**
** Keys are BENCH_KEY_SIZE bytes: the key number in 16 decimal digits
** ("%016llu"), so byte order is numeric order. Values are BENCH_VALUE_SIZE
** bytes, half-compressible like db_bench's RandomGenerator with
** --compression_ratio=0.5: each value is 50 random printable bytes written
** twice, taken from one 1 MiB buffer that is built once per process.
*/
#ifndef BENCH_WORKLOAD_H
#define BENCH_WORKLOAD_H

#include <stddef.h>
#include <stdint.h>

#define BENCH_KEY_SIZE 16
#define BENCH_VALUE_SIZE 100

/* Seeds, one per use, so that e.g. readrandom's keys do not depend on how
** many numbers fillrandom drew. Part of the benchmark's definition. */
enum {
    SEED_VALUES = 301,
    SEED_FILL_ORDER = 302,
    SEED_SYNC_ORDER = 303,
    SEED_OVERWRITE = 304,
    SEED_READ = 305,
    SEED_MISSING = 306,
    SEED_SEEK = 307
};

/* splitmix64: small, fast, and the same on every platform. */
typedef struct bench_rng {
    uint64_t state;
} bench_rng;

void bench_rng_seed(bench_rng *rng, uint64_t seed);
uint64_t bench_rng_next(bench_rng *rng);
/* Uniform in [0, n), n > 0. */
uint64_t bench_rng_below(bench_rng *rng, uint64_t n);

/* Writes the BENCH_KEY_SIZE-byte key of `number` into out (no NUL). */
void bench_key(uint64_t number, char *out);

/* A pseudo-random permutation of 0..n-1 that needs no memory: entry i is
** bench_permute(&p, i). A 4-round Feistel network on the smallest even
** number of bits covering n, keyed by the seed, with cycle walking (values
** >= n are permuted again; fewer than 4 rounds of walking are expected). */
typedef struct bench_perm {
    uint64_t n;
    unsigned half_bits;
    uint64_t keys[4];
} bench_perm;

void bench_perm_init(bench_perm *perm, uint64_t n, uint64_t seed);
uint64_t bench_permute(const bench_perm *perm, uint64_t i);

/* The value source: a 1 MiB buffer of BENCH_VALUE_SIZE-byte pieces. Value i
** is piece i modulo the number of pieces, so the i-th value of a workload is
** the same bytes in every process and every thread may take values. */
typedef struct bench_values {
    char *data;
    size_t pieces;
} bench_values;

int bench_values_init(bench_values *values, uint64_t seed);
const char *bench_value(const bench_values *values, uint64_t i);
void bench_values_free(bench_values *values);

#endif /* BENCH_WORKLOAD_H */
