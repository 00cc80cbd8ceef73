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

/* A word that threads sleep on until another thread changes it (a Linux
 * futex; process-private). The write queue's waiters sleep on one, so that
 * a group-commit leader wakes its whole group with one system call
 * (futex.c). The caller allocates the word (4-byte aligned, set to 0) and
 * reads and changes it only through these functions. */

/* The word's value (an acquire load). */
__attribute__((visibility("hidden")))
uint32_t cairn_support_wakeword_value(const uint32_t *word);

/* Sleeps while the word still holds `seen`: returns at once if it changed
 * already, else when woken, or spuriously (callers recheck in a loop). */
__attribute__((visibility("hidden")))
void cairn_support_wakeword_wait(uint32_t *word, uint32_t seen);

/* Changes the word (a release increment) and wakes every thread sleeping
 * on it. */
__attribute__((visibility("hidden")))
void cairn_support_wakeword_advance(uint32_t *word);

/* Makes the file open on `fd` `length` bytes long, the new bytes zeros
 * whose blocks are allocated now, after taking O_APPEND off it, so that
 * positional writes land where they say. 0 on success, -1 (errno set)
 * when the file system cannot; the file may have lost O_APPEND even then,
 * which writes at its end do not notice. Linux only (elsewhere -1). */
__attribute__((visibility("hidden")))
int cairn_support_preallocate(int fd, int64_t length);

#endif
