/*
** workload.c -- key and value generation; see workload.h.
*/
#include "workload.h"

#include <stdlib.h>
#include <string.h>

void bench_rng_seed(bench_rng *rng, uint64_t seed) { rng->state = seed; }

uint64_t bench_rng_next(bench_rng *rng)
{
    uint64_t z = (rng->state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

uint64_t bench_rng_below(bench_rng *rng, uint64_t n)
{
    /* Multiply-shift: the bias is below 2^-40 for any n this harness uses. */
    return (uint64_t)(((unsigned __int128)bench_rng_next(rng) * n) >> 64);
}

void bench_key(uint64_t number, char *out)
{
    /* "%016llu" without snprintf's cost; numbers >= 10^16 keep their low
     * 16 digits, which no run comes near. */
    for (int i = BENCH_KEY_SIZE - 1; i >= 0; i--) {
        out[i] = (char)('0' + number % 10);
        number /= 10;
    }
}

void bench_perm_init(bench_perm *perm, uint64_t n, uint64_t seed)
{
    unsigned bits = 2;
    while (bits < 64 && (1ull << bits) < n) bits++;
    perm->n = n;
    perm->half_bits = (bits + 1) / 2;
    bench_rng rng;
    bench_rng_seed(&rng, seed);
    for (int r = 0; r < 4; r++) perm->keys[r] = bench_rng_next(&rng);
}

static uint64_t feistel(const bench_perm *perm, uint64_t x)
{
    uint64_t mask = (1ull << perm->half_bits) - 1;
    uint64_t left = x >> perm->half_bits, right = x & mask;
    for (int r = 0; r < 4; r++) {
        bench_rng mix;
        bench_rng_seed(&mix, right ^ perm->keys[r]);
        uint64_t next = left ^ (bench_rng_next(&mix) & mask);
        left = right;
        right = next;
    }
    return (left << perm->half_bits) | right;
}

uint64_t bench_permute(const bench_perm *perm, uint64_t i)
{
    /* A bijection on [0, 2^(2*half_bits)); walking the cycle from i until
     * it lands below n restricts it to a bijection on [0, n). */
    uint64_t x = feistel(perm, i);
    while (x >= perm->n) x = feistel(perm, x);
    return x;
}

/* db_bench's CompressibleString with ratio 0.5: `len / 2` random printable
 * bytes (' ' to '~'), repeated until `len` bytes are filled. */
static void compressible_piece(bench_rng *rng, char *out, size_t len)
{
    size_t raw = len / 2 ? len / 2 : 1;
    for (size_t i = 0; i < raw; i++) out[i] = (char)(' ' + bench_rng_below(rng, 95));
    for (size_t i = raw; i < len; i++) out[i] = out[i - raw];
}

int bench_values_init(bench_values *values, uint64_t seed)
{
    values->pieces = (1u << 20) / BENCH_VALUE_SIZE;
    values->data = malloc(values->pieces * BENCH_VALUE_SIZE);
    if (values->data == NULL) return -1;
    bench_rng rng;
    bench_rng_seed(&rng, seed);
    for (size_t i = 0; i < values->pieces; i++) compressible_piece(&rng, values->data + i * BENCH_VALUE_SIZE, BENCH_VALUE_SIZE);
    return 0;
}

const char *bench_value(const bench_values *values, uint64_t i)
{
    return values->data + (i % values->pieces) * BENCH_VALUE_SIZE;
}

void bench_values_free(bench_values *values)
{
    free(values->data);
    values->data = NULL;
}
