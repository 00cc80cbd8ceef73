/* Small C helpers for the Swift core, where C reaches the CPU more directly
 * than Swift can. Internal: not part of include/cairn.h, not exported from
 * libcairn.so (the version script keeps only cairn_* symbols). */
#ifndef CAIRN_SUPPORT_H
#define CAIRN_SUPPORT_H
#include <stddef.h>
#include <stdint.h>

/* Extends a CRC-32C (Castagnoli) over `length` bytes; start with crc = 0.
 * Uses the SSE4.2 crc32 instruction when the CPU has it. */
__attribute__((visibility("hidden")))
uint32_t cairn_support_crc32c(uint32_t crc, const void *data, size_t length);

/* A distance kernel of vector search: reads `count` float32 from each of
 * `a` and `b` (unaligned) and returns their squared L2 distance or their
 * dot product (vector_distance.c). */
typedef float (*cairn_support_distance)(const void *a, const void *b, size_t count);

/* The kernels for this CPU (AVX-512, else AVX2), or NULL when it has
 * neither and the portable Swift code serves. */
__attribute__((visibility("hidden")))
cairn_support_distance cairn_support_squared_l2(void);
__attribute__((visibility("hidden")))
cairn_support_distance cairn_support_dot_product(void);

/* Asks for the cache line at `address` ahead of its use (a hint: never
 * faults). Inline, so a walk pays no call for it. The vector walk
 * prefetches neighbours' vectors; the memtable's skiplist search the node
 * after the one it compares next (RocksDB's InlineSkipList). */
static inline void cairn_support_prefetch(const void *address)
{
    __builtin_prefetch(address, 0, 3);
}

#endif
